#!/bin/bash
# make demo: beacon-report end to end on this machine alone.
#
# A throwaway CA, the test collector playing the built-in Asterisk Beacon
# server on https://127.0.0.1:$TEST_BEACON_PORT (the demo binary is built
# with that BEACON_URL), and the stand-in asterisk answering from recorded
# Asterisk 22.10.1 output.  Two runs: the first registers and sends, the
# second sends again with the stored token.  Everything is removed at the
# end, whatever happens.  Exit status: 0 when every step did what it should.
#
# Environment: BEACON_BIN (default build-test/beacon-report),
# TEST_BEACON_PORT (default 47443).
# shellcheck disable=SC2154,SC2317  # ${NAME}_PORT set by start_collector; trap handlers
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BEACON_BIN=${BEACON_BIN:-$REPO/build-test/beacon-report}
TEST_BEACON_PORT=${TEST_BEACON_PORT:-47443}
PY=/usr/bin/python3

step() { printf '\n==> %s\n' "$*"; }
fail() {
	printf 'demo: FAILED: %s\n' "$*" >&2
	exit 1
}

[ -x "$BEACON_BIN" ] || fail "$BEACON_BIN is not an executable (run: make demo)"

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness demo
export ASTERISK_STUB_DIR="$WORK/asterisk"
export ASTERISK_STUB_FIXTURES="$REPO/tests/fixtures/22.10.1"
mkdir -p "$HOME" "$ASTERISK_STUB_DIR"
CONF="$WORK/demo.ini"
STATE="$WORK/state"

step "Throwaway CA in $WORK/ca"
TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "could not make the CA"
echo "CA: $TEST_CA/ca.pem; server certificate for 127.0.0.1"

step "Test collector as the built-in Asterisk Beacon server, https://127.0.0.1:$TEST_BEACON_PORT"
start_collector beacon --port "$TEST_BEACON_PORT" || fail "the collector did not start"
echo "listening on 127.0.0.1:$beacon_PORT, state in $beacon_STATE"

step "STAND-IN ASTERISK: answers come from recorded Asterisk 22.10.1 output (tests/fixtures), not a running PBX"
echo "asterisk on PATH: $(command -v asterisk)"
asterisk -rx "core show version" || fail "the stand-in asterisk does not answer"

step "Demo configuration $CONF"
cat >"$CONF" <<EOF
[general]
private_name = demo-pbx
state_dir = $STATE

[beacon]
ca_path = $TEST_CA/ca.pem
EOF
cat "$CONF"

# pretty: pretty-print the JSON on stdin, the (long) module list cut to
# its first three entries.
PRETTY='
import json, sys
def cut(v):
    if isinstance(v, dict):
        return {k: cut(x) for k, x in v.items()}
    if isinstance(v, list) and len(v) > 3 and all(isinstance(x, dict) for x in v):
        return [cut(x) for x in v[:3]] + ["... %d more, %d in all" % (len(v) - 3, len(v))]
    return v
def pretty(text, indent=""):
    try:
        text = json.dumps(cut(json.loads(text)), indent=2, sort_keys=True)
    except ValueError:
        pass
    return "\n".join(indent + l for l in text.splitlines())
'

# show_requests FROM: the collector's requests from number FROM (1-based).
show_requests() {
	collector_requests beacon | "$PY" -c "$PRETTY"'
first = int(sys.argv[1])
for n, line in enumerate(sys.stdin, 1):
    if n < first or not line.strip():
        continue
    r = json.loads(line)
    target = r["path"] + ("?" + r["query"] if r["query"] else "")
    print("--- request %d: %s %s -> %s" % (n, r["method"], target, r["status"]))
    print("    User-Agent: %s" % r["headers"].get("User-Agent", "(none)"))
    print(pretty(r["body"], "    ") if r["body"] else "    (empty body)")
' "$1"
}

step "First run: beacon-report -c demo.ini -v (registers, then sends)"
"$BEACON_BIN" -c "$CONF" -v
rc=$?
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the first run exited $rc"

step "What the collector received"
show_requests 1
n1=$(collector_request_count beacon)
[ "$(collector_request_count beacon POST)" -eq 1 ] || fail "the first run did not register (POST /servers) exactly once"
[ "$(collector_request_count beacon PUT)" -eq 1 ] || fail "the first run did not send (PUT) exactly once"

step "The stand-in's AstDB (asterisk -rx \"database show beacon\")"
asterisk -rx "database show beacon"
sid=$(astdb_get beacon server_id) || fail "no server_id stored in the AstDB"
tok=$(astdb_get beacon token_id) || fail "no token_id stored in the AstDB"

step "Second run: beacon-report -c demo.ini --force"
[ -f "$STATE/beacon.stamp" ] || fail "the first run wrote no stamp $STATE/beacon.stamp"
echo "The built-in server keeps a 60-minute floor even with --force, so the"
echo "demo moves the last-report stamp back two hours:"
printf '    %s: %s' "$STATE/beacon.stamp" "$(cat "$STATE/beacon.stamp")"
if ! printf '%s\n' "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)" >"$STATE/beacon.stamp.tmp" ||
	! mv -f "$STATE/beacon.stamp.tmp" "$STATE/beacon.stamp"; then
	fail "cannot rewrite the stamp"
fi
echo " -> $(cat "$STATE/beacon.stamp")"
"$BEACON_BIN" -c "$CONF" --force
rc=$?
echo "(exit status $rc)"
[ "$rc" -eq 0 ] || fail "the second run exited $rc"

step "What the collector received from the second run"
show_requests $((n1 + 1))
[ "$(collector_request_count beacon)" -eq $((n1 + 1)) ] || fail "the second run did not send exactly one request"
[ "$(collector_request beacon -1 method)" = PUT ] || fail "the second run did not PUT"
[ "$(collector_request beacon -1 path)" = "/servers/$sid" ] || fail "the second run did not PUT to /servers/$sid"
[ "$(collector_request beacon -1 query)" = "tokenId=$tok" ] || fail "the second run did not present the stored token"
[ "$(collector_request beacon -1 status)" = 200 ] || fail "the collector did not accept the second report"

step "The report the collector stored for server $sid"
report=$(collector_stored beacon "$sid") || fail "no stored report for $sid"
"$PY" -c "$PRETTY"'print(pretty(sys.stdin.read()))' <<<"$report" || fail "cannot show the report"

step "Demo finished: both runs reported to the local collector; cleaning up"
exit 0
