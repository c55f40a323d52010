#!/bin/bash
# tools/screenshots.sh: the README's screenshots (docs/dashboard-1440.png,
# docs/dashboard-390.png, docs/fleet-1440.png), made again from a fleet of
# tools/seed-fleet on a throwaway beacon-collector (plain HTTP on
# 127.0.0.1, a TEST_CLOCK build: `make test-binaries`), taken by headless
# chromium through tests/browser_check.py.  Everything is removed at the end.
#
# Environment: COLLECTOR_BIN (default build-test/beacon-collector),
# TEST_BEACON_PORT (default 47443), OUT (default docs/).
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}
PORT=${TEST_BEACON_PORT:-47443}
OUT=${OUT:-$REPO/docs}
URL="http://127.0.0.1:$PORT"
[ -x "$COLLECTOR_BIN" ] || { echo "screenshots: no $COLLECTOR_BIN (make test-binaries)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/beacon-shots.XXXXXX)
CPID=
cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

HASH=$(printf 'show me\n' | "$COLLECTOR_BIN" --hash-password)
cat >"$WORK/c.ini" <<INI
[collector]
user =
listen = 127.0.0.1:$PORT
tls = no
database = sqlite:$WORK/c.db
lifecycle = $REPO/conf/asterisk-lifecycle.ini
admin_user = admin
admin_password_hash = $HASH
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
[privacy]
min_group = 3
established_days = 1
INI
START=$(date -u -d '71 days ago' +%Y-%m-%d)
echo "${START}T09:00:00Z" >"$WORK/clock"
BEACON_COLLECTOR_CLOCK_FILE=$WORK/clock "$COLLECTOR_BIN" -c "$WORK/c.ini" 2>"$WORK/log" &
CPID=$!
for _ in $(seq 50); do
	[ "$(curl -s "$URL/healthz")" = ok ] && break
	sleep 0.1
done
# Ours that answers, not another on the same port.
kill -0 "$CPID" 2>/dev/null || { echo "screenshots: the collector did not start: $(cat "$WORK/log")" >&2; exit 1; }
"$REPO/tools/seed-fleet" --url "$URL" --servers 120 --weeks 10 --start "$START" \
	--clock-file "$WORK/clock" --hup "$CPID"
mkdir -p "$OUT"
"$REPO/tests/browser_check.py" --shot "1440x900=$OUT/dashboard-1440.png" \
	--shot "390x844=$OUT/dashboard-390.png" "$URL" - /
"$REPO/tests/browser_check.py" --auth 'admin:show me' --shot "1440x900=$OUT/fleet-1440.png" \
	"$URL" - /fleet
