#!/bin/bash
# tests/valgrind-collector.sh: beacon-collector under valgrind memcheck
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --error-exitcode=99
# serving, over HTTPS on 127.0.0.1 with a throwaway CA: a registration, an
# update with its token, and every refusal that has its own path (400,
# 401, 404, 405, 413 by length and chunked, 415, 429), a SIGHUP with a
# good pair and one with a bad pair, then SIGTERM.  It must answer each
# request as the contract says, exit 0, and valgrind must report nothing.
# Exit: 0 when clean, 1 otherwise (the log is printed).
#
# Environment: COLLECTOR_BIN (default build-test/beacon-collector).
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}
fail() {
	printf 'valgrind-collector.sh: %s\n' "$*" >&2
	[ -f "${LOG:-}" ] && sed 's/^/    /' "$LOG" >&2
	exit 1
}
command -v valgrind >/dev/null || fail "valgrind is missing (apt-get install valgrind)"
[ -x "$COLLECTOR_BIN" ] || fail "$COLLECTOR_BIN is not an executable"

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness valgrind-collector
TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the test CA"
LOG="$WORK/collector.log"
# A port the kernel says is free now.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$TEST_CA/server.pem" "$WORK/cert.pem"
cp "$TEST_CA/server.key" "$WORK/key.pem"
cat >"$WORK/c.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$port
tls_cert = $WORK/cert.pem
tls_key = $WORK/key.pem
database = sqlite:$WORK/c.db
max_body_kb = 4
[limits]
registrations_per_address_per_hour = 2
EOF
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=99 "$COLLECTOR_BIN" -c "$WORK/c.ini" 2>"$LOG" &
vpid=$!
URL="https://127.0.0.1:$port"
req() { curl -s -o "$WORK/body" -w '%{http_code}' --cacert "$TEST_CA/ca.pem" "$@"; }
for _ in $(seq 100); do
	[ "$(req "$URL/healthz")" = 200 ] && break
	sleep 0.2
done
[ "$(req "$URL/healthz")" = 200 ] || fail "no answer to GET /healthz"

expect() {
	local want=$1 got
	shift
	got=$(req "$@")
	[ "$got" = "$want" ] || fail "$* answered $got, not $want: $(cat "$WORK/body")"
}
expect 201 -X POST "$URL/servers"
read -r sid tok < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["server"]["id"], d["token"]["id"])' "$WORK/body")
body="{\"id\":\"$sid\",\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\",\"number\":\"221001\"},\"modules\":[{\"name\":\"chan_pjsip.so\",\"description\":\"PJSIP\",\"status\":\"Running\",\"support_level\":\"core\"}]}}"
J=(-H 'Content-Type: application/json')
expect 200 -X PUT "${J[@]}" --data-binary "$body" "$URL/servers/$sid?tokenId=$tok"
expect 429 -X PUT "${J[@]}" --data-binary "$body" "$URL/servers/$sid?tokenId=$tok"
expect 401 -X PUT "${J[@]}" --data-binary "$body" "$URL/servers/$sid?tokenId=nope"
expect 400 -X PUT "${J[@]}" --data-binary '{"id":1}' "$URL/servers/$sid?tokenId=$tok"
expect 400 -X PUT "${J[@]}" --data-binary "$body" "$URL/servers/not-a-uuid"
expect 404 -X PUT "${J[@]}" --data-binary "$body" "$URL/servers/$(cat /proc/sys/kernel/random/uuid)"
expect 415 -X PUT --data-binary "$body" "$URL/servers/$sid?tokenId=$tok"
head -c 10000 /dev/zero | tr '\0' ' ' >"$WORK/big"
expect 413 -X PUT "${J[@]}" --data-binary @"$WORK/big" "$URL/servers/$sid?tokenId=$tok"
expect 413 -X PUT "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big" "$URL/servers/$sid?tokenId=$tok"
expect 405 -X DELETE "$URL/servers/$sid"
expect 404 "$URL/nothing-here"
expect 201 -X POST "$URL/servers"
expect 429 -X POST "$URL/servers"

kill -HUP "$vpid"
sleep 1
printf 'not a key\n' >"$WORK/key.pem"
kill -HUP "$vpid"
sleep 1
expect 200 "$URL/healthz"
kill -TERM "$vpid"
wait "$vpid"
rc=$?
[ "$rc" -eq 0 ] || fail "beacon-collector under valgrind exited $rc (99: valgrind found errors)"
grep -q 'SIGHUP: TLS certificate loaded: subject ' "$LOG" || fail "the good SIGHUP was not logged"
grep -q 'SIGHUP: kept the TLS pair in use' "$LOG" || fail "the bad SIGHUP was not refused"
grep -q '^==[0-9]*==' "$LOG" && fail "valgrind reported something"
echo "valgrind-collector.sh: beacon-collector: 15 requests, 2 reloads, drain: no error, no leak"
exit 0
