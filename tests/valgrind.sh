#!/bin/bash
# tests/valgrind.sh: beacon-report under valgrind memcheck, end to end on
# this machine alone (a throwaway CA, the test collector on 127.0.0.1, the
# stand-in asterisk).  Runs, each under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --error-exitcode=99 --track-fds=no
# (children -- the asterisk processes -- are not traced):
#   1. a full report: register (POST), send (PUT), AstDB puts, stamp   -> 0
#   2. --force: a second report with the stored id and token (PUT)     -> 0
#   3. a not-due run                                                    -> 9
#   4. --show                                                           -> 0
#   5. --show --json                                                    -> 0
# and checks each exit status and that valgrind reported no error.
# Exit: 0 when all are clean, 1 otherwise.  Logs are kept on failure.
#
# Environment: BEACON_BIN (default build-test/beacon-report; make
# test-binaries).  Needs valgrind (Debian: valgrind).
# shellcheck disable=SC2154  # mylab_PORT comes from start_collector
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BEACON_BIN=${BEACON_BIN:-$REPO/build-test/beacon-report}
PY=/usr/bin/python3

fail() {
	printf 'valgrind.sh: %s\n' "$*" >&2
	exit 1
}
command -v valgrind >/dev/null || fail "valgrind is missing (apt-get install valgrind)"
[ -x "$BEACON_BIN" ] || fail "$BEACON_BIN is not an executable (make test-binaries)"

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness valgrind
export TZ=UTC
export ASTERISK_STUB_DIR="$WORK/asterisk"
export ASTERISK_STUB_FIXTURES="$REPO/tests/fixtures/22.10.1"
mkdir -p "$HOME" "$ASTERISK_STUB_DIR"

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the test CA"
start_collector mylab || fail "the collector did not start"
CONF="$WORK/beacon.ini"
cat >"$CONF" <<EOF
[general]
private_name = valgrind
state_dir = $WORK/state

[beacon]
ca_path = $TEST_CA/ca.pem

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT/beacon
ca_path = $TEST_CA/ca.pem
EOF

bad=0 n=0
# vg EXPECTED NAME ARGS...: beacon-report ARGS under memcheck; the exit
# status must be EXPECTED and valgrind must have found nothing.
vg() {
	local want=$1 name=$2 rc log
	shift 2
	n=$((n + 1))
	log="$WORK/$n-$name.log"
	timeout 300 valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --track-fds=no --log-file="$log" \
		"$BEACON_BIN" -c "$CONF" "$@" >"$WORK/$n-$name.out" 2>"$WORK/$n-$name.err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		printf 'ok   %-12s exit %d; %s; %s\n' "$name" "$rc" \
			"$(grep -o 'in use at exit: .*' "$log")" \
			"$(grep -o 'definitely lost: [0-9,]* bytes' "$log" || echo 'no leak')"
		return 0
	fi
	bad=$((bad + 1))
	KEEP=1
	printf 'FAIL %-12s exit %d (expected %d); valgrind log %s:\n' "$name" "$rc" "$want" "$log"
	grep -E '^==[0-9]+== ' "$log" | sed -n '/ERROR SUMMARY\|Invalid\|uninitialised\|definitely\|indirectly\|  at \|  by /p' | head -60
	sed 's/^/  stderr: /' "$WORK/$n-$name.err" | head -10
}

vg 0 report -s mylab
[ "$(collector_request_count mylab PUT)" -eq 1 ] || { echo "FAIL report: the collector got no PUT"; bad=$((bad + 1)); }
vg 0 force -s mylab -f
[ "$(collector_request_count mylab PUT)" -eq 2 ] || { echo "FAIL force: the collector got no second PUT"; bad=$((bad + 1)); }
vg 9 not-due -s mylab
vg 0 show --show -s mylab
vg 0 show-json --show --json -s mylab

if [ "$bad" -ne 0 ]; then
	echo "valgrind.sh: $bad of $n runs not clean"
	exit 1
fi
echo "valgrind.sh: all $n runs clean"
exit 0
