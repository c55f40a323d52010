#!/usr/bin/env bash
# The part of `make check` that CI runs on Debian 11 and 13
# (tests/distro-check.sh with DISTRO_SUBSET=ci, inside each chroot): the
# test binaries, every C unit test (normal and COMPAT=1 build), and the bats
# files that exercise what differs between releases.  Ends with
# "N passed, N failed" like tests/run.  Run from the repository root.
#
#   TEST_BEACON_PORT   the test collector's port (as make check)
#
# The files, and why each is here (the library or tool it meets):
#   compat.bats            glibc (close_range) and libcurl fallbacks
#   transport.bats         libcurl + OpenSSL: the reporter's HTTPS
#   collector_e2e.bats     GnuTLS + libmicrohttpd: a report end to end
#   collector_abuse.bats   libmicrohttpd: limits, timeouts, bad requests
#   collector_limits.bats  libmicrohttpd: body and connection limits
#   collector_pg.bats      libpq and the release's PostgreSQL
#   collector_install.bats systemd-analyze, groff/mandoc, the man page
#   collector_browser.bats chromium (the dashboard renders, screenshots)
#   privacy_schema.bats    python3-jsonschema
#   docs.bats              groff/mandoc/man-db on every page
#   harness.bats           the bats version and its private temp dirs
#   review.bats            the linker (-ldl before glibc 2.34)
# tests/deb-check.sh (debhelper, lintian, dpkg, debconf) runs after this.
set -u
cd "$(dirname "$0")/.." || exit 2
PORT=${TEST_BEACON_PORT:-47443}
FILES=(compat transport collector_e2e collector_abuse collector_limits
	collector_install collector_browser privacy_schema docs harness review)

make -s -j2 test-binaries TEST_BEACON_PORT="$PORT" || { echo "0 passed, 1 failed"; exit 1; }
B=$PWD/build-test
export BEACON_BIN=$B/beacon-report BEACON_DEV_BIN=$B-dev/beacon-report \
	COLLECTOR_BIN=$B/beacon-collector BEACON_COMPAT_BIN=$B-compat/beacon-report \
	TEST_BEACON_PORT=$PORT FIXTURES=$PWD/tests/fixtures

passed=0 failed=0
count() { # count FILE: add its "passed/failed" (TAP or unit lines)
	local p f
	p=$(grep -cE '^ok ' "$1"); f=$(grep -cE '^not ok ' "$1")
	passed=$((passed + p)); failed=$((failed + f))
}

for t in "$B"/tests/unit/test_* "$B"-compat/tests/unit/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^unit .*: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	echo "${line:-unit $t: crashed or printed no result (exit $rc)}"
	if [ -z "$line" ]; then failed=$((failed + 1)); continue; fi
	p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")
	f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
	passed=$((passed + p)); failed=$((failed + f))
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1))
done

tap=$(mktemp)
run_bats() { # run_bats FILE...: one bats run, counted
	bats --tap "$@" | tee "$tap"
	local rc=${PIPESTATUS[0]} f0=$failed
	count "$tap"
	[ "$rc" -eq 0 ] || [ "$failed" -gt "$f0" ] || failed=$((failed + 1))
}
paths=()
for f in "${FILES[@]}"; do paths+=("tests/bats/$f.bats"); done
run_bats "${paths[@]}"

# collector_pg.bats runs on PostgreSQL only: a throwaway cluster.
if pg_dir=$(tests/pg.sh start); then
	COLLECTOR_TEST_DATABASE=$(tests/pg.sh uri "$pg_dir") run_bats tests/bats/collector_pg.bats
	tests/pg.sh stop "$pg_dir"
else
	echo "distro-subset: the PostgreSQL test cluster did not start"
	failed=$((failed + 1))
fi
rm -f "$tap"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
