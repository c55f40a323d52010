#!/bin/bash
# make demo: both halves on this machine alone.  beacon-report, with a
# STAND-IN ASTERISK answering from recorded Asterisk 22.10.1 output,
# reports to a real beacon-collector on https://127.0.0.1:$TEST_BEACON_PORT
# (the demo's reporter is built with that as its built-in server) with a
# throwaway CA and a SQLite database.  Steps: register, update, a second
# PBX, a third on Asterisk 16.30.1 (past its end of life: the collector's
# notice); then what the collector stored.  Before them, tools/seed-fleet
# fills the collector with a varied fleet over eight simulated weeks (the
# collector's test clock), so that the dashboard has something to show.
# Everything is removed at the end,
# whatever happens.  Exit status: 0 when every step did what it should.
#
# Environment: BEACON_BIN (default build-test/beacon-report), COLLECTOR_BIN
# (default build-test/beacon-collector, a TEST_CLOCK build), TEST_BEACON_PORT.
# shellcheck disable=SC2317  # trap handlers
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BEACON_BIN=${BEACON_BIN:-$REPO/build-test/beacon-report}
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}
TEST_BEACON_PORT=${TEST_BEACON_PORT:-47443}

step() { printf '\n==> %s\n' "$*"; }
fail() {
	printf 'demo: FAILED: %s\n' "$*" >&2
	[ -n "${CLOG:-}" ] && [ -f "$CLOG" ] && sed 's/^/    collector: /' "$CLOG" >&2
	exit 1
}

[ -x "$BEACON_BIN" ] || fail "$BEACON_BIN is not an executable (run: make demo)"
[ -x "$COLLECTOR_BIN" ] || fail "$COLLECTOR_BIN is not an executable (run: make demo)"

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness demo
export ASTERISK_STUB_FIXTURES="$REPO/tests/fixtures/22.10.1"
mkdir -p "$HOME"
URL="https://127.0.0.1:$TEST_BEACON_PORT"
DB="$WORK/collector/beacon.db"
CLOG="$WORK/collector/log"
CLOCK="$WORK/collector/clock"
mkdir -p "$WORK/collector"

step "Throwaway CA in $WORK/ca"
TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "could not make the CA"
echo "CA: $TEST_CA/ca.pem; server certificate for 127.0.0.1"

step "beacon-collector on $URL (SQLite: $DB)"
cat >"$WORK/collector/beacon-collector.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$TEST_BEACON_PORT
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = sqlite:$DB
; Asterisk's release lifecycle: a PBX past end of life gets a notice
lifecycle = $REPO/conf/asterisk-lifecycle.ini

[limits]
; tools/seed-fleet sends eight weeks of reports in seconds
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0

[privacy]
; a small fleet, three PBXs reporting on one day: a real collector keeps the
; defaults of 10 (k-anonymity) and 3 distinct report days before a server
; counts
min_group = 1
established_days = 1
EOF
cat "$WORK/collector/beacon-collector.ini"
# The collector's test clock, so that the demo can let weeks pass: it
# starts on the seeded fleet's first day.
SEED_START=$(date -u -d '57 days ago' +%Y-%m-%d)
echo "${SEED_START}T09:00:00Z" >"$CLOCK"
BEACON_COLLECTOR_CLOCK_FILE=$CLOCK "$COLLECTOR_BIN" \
	-c "$WORK/collector/beacon-collector.ini" 2>"$CLOG" &
CPID=$!
echo "$CPID" >>"$HARNESS_PIDS"
for _ in $(seq 50); do
	[ "$(curl -s --cacert "$TEST_CA/ca.pem" "$URL/healthz")" = ok ] && break
	sleep 0.1
done
[ "$(curl -s --cacert "$TEST_CA/ca.pem" "$URL/healthz")" = ok ] ||
	fail "the collector did not answer GET /healthz"
echo "GET /healthz: ok"

step "tools/seed-fleet: 60 PBXs (Asterisk 13 to 23, certified ones), eight simulated weeks from $SEED_START, over the public API"
"$REPO/tools/seed-fleet" --url "$URL" --cacert "$TEST_CA/ca.pem" --servers 60 --weeks 8 \
	--start "$SEED_START" --clock-file "$CLOCK" --hup "$CPID" || fail "seed-fleet failed"
date -u +%Y-%m-%dT%H:%M:%SZ >"$CLOCK"
echo "(the collector's clock is back at this machine's time)"

# pbx NAME: a PBX of its own: the stand-in's AstDB and a state dir.
pbx() {
	export ASTERISK_STUB_DIR="$WORK/$1/asterisk"
	mkdir -p "$ASTERISK_STUB_DIR" "$WORK/$1/state"
	CONF="$WORK/$1/beacon.ini"
	printf '%s\n' "[general]" "private_name = $1" "state_dir = $WORK/$1/state" \
		"" "[beacon]" "ca_path = $TEST_CA/ca.pem" >"$CONF"
}

step "STAND-IN ASTERISK: answers come from recorded Asterisk 22.10.1 output (tests/fixtures), not a running PBX"
echo "asterisk on PATH: $(command -v asterisk)"
pbx pbx-one
asterisk -rx "core show version" || fail "the stand-in asterisk does not answer"

step "PBX one, first run: beacon-report -v (registers, then sends)"
"$BEACON_BIN" -c "$CONF" -v 2>&1 | grep -v 'asterisk -rx'
rc=${PIPESTATUS[0]}
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the first run exited $rc"
sid1=$(astdb_get beacon server_id) || fail "no server_id stored in the AstDB"
echo "AstDB: server_id $sid1"

step "Two hours later (both clocks moved): PBX one again, beacon-report --force (an update with its token)"
date -u -d '2 hours' +%Y-%m-%dT%H:%M:%SZ >"$CLOCK"
printf '%s\n' "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)" >"$WORK/pbx-one/state/beacon.stamp"
"$BEACON_BIN" -c "$CONF" --force
rc=$?
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the second run exited $rc"

step "A second PBX registers: it gets an id of its own"
pbx pbx-two
"$BEACON_BIN" -c "$CONF"
rc=$?
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the second PBX's run exited $rc"
sid2=$(astdb_get beacon server_id) || fail "no server_id stored for the second PBX"
[ "$sid1" != "$sid2" ] || fail "both PBXs got the same id"

step "A third PBX runs Asterisk 16.30.1, past its end of life: the collector's answer carries a notice"
pbx pbx-three
mkdir -p "$ASTERISK_STUB_DIR/answers"
cp "$REPO/tests/fixtures/variants/core_show_version_16.txt" "$ASTERISK_STUB_DIR/answers/core_show_version.txt"
asterisk -rx "core show version"
echo "\$ beacon-report -q   (as cron runs it: silent on success, but a notice is printed the first time)"
"$BEACON_BIN" -c "$CONF" -q >"$WORK/pbx-three/out"
rc=$?
cat "$WORK/pbx-three/out"
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the third PBX's run exited $rc"
grep -q '^beacon: sent; notice: Asterisk 16 reached its end of life' "$WORK/pbx-three/out" ||
	fail "no end-of-life notice for Asterisk 16.30.1"
echo "\$ beacon-report --show   (the last notices are kept in state_dir; the end of its output:)"
"$BEACON_BIN" -c "$CONF" --show | awk '/^Notices from the servers:/ { on = 1 } on && /^$/ { exit } on'

step "The collector's request log (no client address: log_addresses = no)"
echo "    ($(grep -c ' /servers' "$CLOG") API requests in all, most of them the seeded fleet's; the last ones:)"
tail -n 12 "$CLOG" | sed 's/^/    /'

step "What the collector stored (sqlite3 $DB)"
sqlite3 -header -column "$DB" "
SELECT substr(id, 1, 8) || '...' AS server,
       reports,
       json_extract(report, '\$.asterisk.version.name') AS version,
       json_array_length(json_extract(report, '\$.asterisk.modules')) AS modules,
       json_extract(report, '\$.operating_system.machine') AS machine,
       json_extract(report, '\$.private_name') AS private_name,
       datetime(last_seen, 'unixepoch') AS last_seen
FROM servers WHERE json_extract(report, '\$.private_name') LIKE 'pbx-%'
ORDER BY first_seen, id" || fail "cannot read the collector's database"
n=$(sqlite3 "$DB" "SELECT count(*) FROM servers WHERE json_extract(report, '\$.private_name') LIKE 'pbx-%'")
[ "$n" -eq 3 ] || fail "the collector holds $n reports of the demo's PBXs, not 3"
[ "$(sqlite3 "$DB" "SELECT reports FROM servers WHERE id = '$sid1'")" -eq 2 ] ||
	fail "PBX one's two reports are not both counted"

clock_now=$(cat "$CLOCK")
real_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "${clock_now%:*}" != "${real_now%:*}" ]; then
	echo "Note: last_seen is the collector's TEST CLOCK ($clock_now, moved two hours"
	echo "ahead above to let the update through), not this machine's time ($real_now);"
	echo "the statistics below are computed at this machine's time."
fi

step "The collector's statistics: beacon-collector --stats (the same figures as GET /api/v1/stats)"
"$COLLECTOR_BIN" --stats -c "$WORK/collector/beacon-collector.ini" >"$WORK/stats.txt" ||
	fail "beacon-collector --stats failed"
# The module list is long (326 modules): its first lines, then the rest.
awk '/^Modules/ { m = 1; n = 0 } m && /^$/ { m = 0 }
	m && ++n > 6 { if (n == 7) print "  ..."; next } { print }' "$WORK/stats.txt"

step "The dashboard: $URL/  (Prometheus: $URL/metrics, JSON: $URL/api/v1/stats)"
curl -s --cacert "$TEST_CA/ca.pem" -o "$WORK/dashboard.html" -w 'GET / -> %{http_code}, %{size_download} bytes of HTML\n' "$URL/" ||
	fail "GET / failed"
grep -q '<svg' "$WORK/dashboard.html" || fail "the dashboard has no chart"
if [ "${DEMO_SERVE:-0}" = 1 ]; then
	echo "Serving until Ctrl-C: open $URL/ (the CA is $TEST_CA/ca.pem)"
	wait
fi
echo "(DEMO_SERVE=1 make demo keeps it serving, to open the page in a browser)"

step "Demo finished: three PBXs reported to a real beacon-collector; cleaning up"
exit 0
