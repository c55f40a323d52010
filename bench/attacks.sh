#!/bin/bash
# bench/attacks.sh: beacon-collector's /healthz under the three load attacks
# of issue 21, against an idle baseline; all on 127.0.0.0/8 with a
# throwaway CA, each 127.0.x.y address a distinct client
# (tests/collector/attack.py does the attacking and the timing):
#   idle      nothing else going on
#   hog       one address (127.0.0.2) keeps up to 1,100 idle TCP connections
#             open, refilled every 0.5 s
#   password  wrong Basic credentials against /fleet from 16 addresses,
#             8 requests/s in all
#   keys      registrations (from 200 addresses) each reporting
#             ATTACK_MODULES made-up module names, while a visitor reads
#             /api/v1/stats every second (so that snapshots are built)
# Each phase runs ATTACK_SECONDS (default 15; 4 phases, about a minute and
# a half in all) on a fresh collector and database, timing a /healthz on
# a new TLS connection from 127.0.0.9 every 0.2 s; prints one line per
# phase: the number of answers, the failures (no 200 within 10 s), p50
# and p99 in ms; then what the attack achieved (connections opened and
# closed by the server, statuses seen, the slowest /api/v1/stats).
#
# Environment: COLLECTOR_BIN (default build/beacon-collector, else
# build-test/beacon-collector), ATTACK_SECONDS (5..60), ATTACK_MODULES
# (default 5000), ONLY (one phase), KEEP=1 (keep the temp dir and logs).
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${COLLECTOR_BIN:-}" ]; then
	COLLECTOR_BIN=$REPO/build/beacon-collector
	[ -x "$COLLECTOR_BIN" ] || COLLECTOR_BIN=$REPO/build-test/beacon-collector
fi
SECS=${ATTACK_SECONDS:-15}
MODULES=${ATTACK_MODULES:-5000}
ONLY=${ONLY:-}
ATTACK=$REPO/tests/collector/attack.py

fail() {
	printf 'bench-attacks: FAILED: %s\n' "$*" >&2
	exit 1
}

if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 5 ] || [ "$SECS" -gt 60 ]; then
	fail "ATTACK_SECONDS must be 5..60"
fi
if ! [[ $MODULES =~ ^[0-9]+$ ]] || [ "$MODULES" -lt 1 ] || [ "$MODULES" -gt 5000 ]; then
	fail "ATTACK_MODULES must be 1..5000 (the collector's own limit)"
fi
case $ONLY in "" | idle | hog | password | keys) ;; *) fail "ONLY must be idle, hog, password or keys" ;; esac
[ -x "$COLLECTOR_BIN" ] || fail "$COLLECTOR_BIN is missing (make build/beacon-collector, or set COLLECTOR_BIN)"
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null ||
	fail "the connection hog needs 'ulimit -n' >= 4096 (it is $(ulimit -n))"

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness attacks
# bats' load, for collector_helpers.bash (it loads collector_db)
# shellcheck disable=SC1090  # collector_db.bash, named by collector_helpers
load() { . "$REPO/tests/bats/$1.bash"; }
# shellcheck source=tests/bats/collector_helpers.bash
. "$REPO/tests/bats/collector_helpers.bash"
export COLLECTOR_BIN

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the CA"
export TEST_CA
HASH=$(printf 'the-right-password\n' | "$COLLECTOR_BIN" --hash-password) ||
	fail "beacon-collector --hash-password"

printf 'bench-attacks: %s, %s s per phase, %s modules per key-flood report, %s\n' \
	"$("$COLLECTOR_BIN" --version)" "$SECS" "$MODULES" "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
for phase in idle hog password keys; do
	[ -z "$ONLY" ] || [ "$ONLY" = "$phase" ] || continue
	BATS_TEST_TMPDIR="$WORK/$phase"
	mkdir -p "$BATS_TEST_TMPDIR"
	unset BC_PORT BC_PORT_CHOSEN BC_DATABASE BEACON_COLLECTOR_CLOCK_FILE
	BC_DATABASE="sqlite:$BATS_TEST_TMPDIR/c.db" start_beacon_collector \
		collector.max_body_kb=1024 collector.request_timeout=30 \
		"collector.admin_password_hash=$HASH" >&2 ||
		fail "the collector did not start for $phase (log: $BATS_TEST_TMPDIR/collector.log)"
	timeout $((SECS + 60)) "$PY" "$ATTACK" flood "$phase" "$BC_PORT" "$TEST_CA/ca.pem" \
		--seconds "$SECS" --modules "$MODULES" || fail "attack.py flood $phase"
	stop_beacon_collector >/dev/null 2>&1
done
