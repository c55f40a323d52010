#!/usr/bin/env bats
# The transport under the Beacon protocol (CONTRACT §6, §7): TLS trust
# (ca_path file and hashed directory, verify_cert), a CONNECT proxy with
# credentials, time-outs, servers that hang or are down, and every due
# server served at the same time.  Timings are measured with margins: the
# asserted bounds are far from both the expected time and the failure.

# shellcheck disable=SC2154  # NAME_PORT, NAME_STATE: start_collector; stderr: run
load helpers

# assert_sent_to NAME: the collector NAME registered and got the report
# with the ids the AstDB now holds for it.
assert_sent_to() {
	local sid tok
	sid=$(astdb_get "beacon/$1" server_id)
	tok=$(astdb_get "beacon/$1" token_id)
	assert_requests --at "$1" "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 200"
}

assert_stamp() {
	[[ $(stamp_get "$1" 2>/dev/null) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] &&
		return 0
	flunk "expected a stamp for $1"
}

# mylab_config [LINE...]: [general] state_dir, then [mylab] at the mylab
# collector with these extra lines (no ca_path unless given).
mylab_config() {
	{
		printf '%s\n' "[general]" "state_dir = $STATE_DIR" "" "[mylab]" "type = server" \
			"url = https://127.0.0.1:$mylab_PORT"
		[ "$#" -gt 0 ] && printf '%s\n' "$@"
	} | write_config
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ---- TLS ------------------------------------------------------------------------

@test "a certificate of an unknown CA: TLS error, exit 5; trusted with ca_path = that CA: exit 0" {
	start_collector --untrusted
	mylab_config "ca_path = $TEST_CA/ca.pem"
	run_mylab
	assert_status 5
	assert_output_contains "mylab: unreached"
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "certificate"
	grep -q 'tls_error' "$mylab_STATE/connections.log" ||
		flunk "the collector saw no refused handshake:" "$(cat "$mylab_STATE/connections.log")"
	assert_requests
	assert_no_stamp mylab

	mylab_config "ca_path = $TEST_CA/untrusted/ca.pem"
	run_mylab -f	# past the back-off of the failure
	assert_success
	assert_output "mylab: sent"
	assert_sent_to mylab
	assert_stamp mylab
}

@test "no ca_path: the test CA is not trusted (the system's CAs only)" {
	start_collector
	mylab_config
	run_mylab
	assert_status 5
	assert_requests
	grep -q 'tls_error' "$mylab_STATE/connections.log"
}

@test "ca_path as a hashed CA directory (openssl rehash)" {
	start_collector
	mylab_config "ca_path = $TEST_CA/cadir"
	run_mylab
	assert_success
	assert_output "mylab: sent"
	assert_sent_to mylab
}

@test "a hashed directory without the right CA does not help" {
	start_collector --untrusted
	mylab_config "ca_path = $TEST_CA/cadir"
	run_mylab
	assert_status 5
	assert_requests
}

@test "a certificate for another host name is refused, even from a trusted CA" {
	start_collector --wrongname
	mylab_config "ca_path = $TEST_CA/ca.pem"
	run_mylab
	assert_status 5
	assert_output_contains "mylab: unreached"
	assert_requests
	assert_no_stamp mylab
}

@test "verify_cert = no: an untrusted certificate works, with a warning on stderr" {
	start_collector --untrusted
	mylab_config "verify_cert = no"
	run_mylab
	assert_success
	assert_output "mylab: sent"
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "verify_cert"
	assert_sent_to mylab
}

@test "the built-in server's certificate is verified: without [beacon] ca_path, exit 5" {
	start_collector beacon --port "$TEST_BEACON_PORT"
	write_config <<EOF
[general]
state_dir = $STATE_DIR
EOF
	run --separate-stderr beacon -c "$CONFIG" -s beacon
	assert_status 5
	assert_requests --at beacon
	printf '%s\n' "[beacon]" "ca_path = $TEST_CA/ca.pem" >>"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s beacon -f	# past the back-off
	assert_success
	assert_output "beacon: sent"
}

# ---- proxy ----------------------------------------------------------------------

@test "a proxy with credentials: CONNECT through it, exit 0; the password never printed, even with -v" {
	local pass='s3cret-Pa55'
	start_collector
	start_proxy --user "alice:$pass"
	mylab_config "ca_path = $TEST_CA/ca.pem" "proxy = http://alice:$pass@127.0.0.1:$PROXY_PORT"
	run_mylab -v
	assert_success
	assert_output "mylab: sent"
	assert_sent_to mylab
	"$PY" - "$PROXY_LOG" "$mylab_PORT" <<'PY' || flunk "proxy log:" "$(cat "$PROXY_LOG")"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert log, "no CONNECT"
for e in log:
    assert e["target"] == "127.0.0.1:" + sys.argv[2], e
    assert e["auth"] == "ok" and e["user"] == "alice" and e["status"] == 200, e
PY
	refute_output_contains "$pass"
	refute_stderr_contains "$pass"
	# -v did say something, so the check above looked at real output
	assert_stderr_contains "PUT"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f -v --json
	assert_success
	refute_output_contains "$pass"
	refute_stderr_contains "$pass"
}

@test "wrong proxy credentials: 407, exit 5, nothing reaches the server" {
	local pass='wr0ng-Pa55'
	start_collector
	start_proxy --user "alice:right-pass"
	mylab_config "ca_path = $TEST_CA/ca.pem" "proxy = http://alice:$pass@127.0.0.1:$PROXY_PORT"
	run_mylab -v
	assert_status 5
	assert_output_contains "mylab: unreached"
	assert_requests
	assert_no_stamp mylab
	grep -q '"auth": "wrong"' "$PROXY_LOG" && grep -q '"status": 407' "$PROXY_LOG" ||
		flunk "the proxy did not refuse the credentials:" "$(cat "$PROXY_LOG")"
	refute_output_contains "$pass"
	refute_stderr_contains "$pass"
}

@test "no proxy configured: https_proxy in the environment is not used" {
	start_collector
	start_proxy
	mylab_config "ca_path = $TEST_CA/ca.pem"
	https_proxy="http://127.0.0.1:$PROXY_PORT" HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" \
		ALL_PROXY="http://127.0.0.1:$PROXY_PORT" run_mylab
	assert_success
	assert_sent_to mylab
	assert_eq "proxy log" "" "$(cat "$PROXY_LOG")"
}

# ---- time-outs, hangs, servers down ------------------------------------------------

@test "a server slower than timeout: exit 5, in about the timeout" {
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	sed -i 's/^\[general\]$/[general]\ntimeout = 2/' "$CONFIG"
	collector_control '{"delay": 4}'
	local t0 t1
	t0=$(now_ms)
	run_mylab
	t1=$(now_ms)
	assert_status 5
	assert_output_contains "mylab: unreached"
	assert_stderr_contains "timed out"
	assert_no_stamp mylab
	[ $((t1 - t0)) -ge 2000 ] || flunk "gave up after $((t1 - t0)) ms, before the 2 s timeout"
	[ $((t1 - t0)) -lt 3500 ] || flunk "took $((t1 - t0)) ms for a 2 s timeout (limit 3500)"
}

@test "timeout bounds each request, not the whole exchange" {
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	sed -i 's/^\[general\]$/[general]\ntimeout = 2/' "$CONFIG"
	# POST and PUT take 1.2 s each: 2.4 s in all, each under the timeout
	collector_control '{"delay": 1.2}'
	run_mylab
	assert_success
	assert_sent_to mylab
}

@test "a server that takes the request and never answers: exit 5, bounded by timeout" {
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	sed -i 's/^\[general\]$/[general]\ntimeout = 2/' "$CONFIG"
	collector_control '{"responses": [{"match": "POST", "hang": true}]}'
	local t0 t1
	t0=$(now_ms)
	run_mylab
	t1=$(now_ms)
	assert_status 5
	assert_requests "POST /servers none"
	assert_no_stamp mylab
	[ $((t1 - t0)) -lt 3500 ] || flunk "took $((t1 - t0)) ms for a 2 s timeout (limit 3500)"
}

@test "a connection dropped without an answer: exit 5" {
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	collector_control '{"responses": [{"match": "POST", "close": true}]}'
	run_mylab
	assert_status 5
	assert_output_contains "mylab: unreached"
	assert_requests "POST /servers none"
	assert_no_stamp mylab
}

@test "two collectors, one down: exit 1, both on stdout, only the good one stamped" {
	start_collector other
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	add_collector other
	stop_collector other	# its port now refuses connections
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other
	assert_status 1
	assert_line_count 2
	assert_output_contains "mylab: sent"
	assert_output_contains "other: unreached"
	assert_stderr_contains "other"
	assert_sent_to mylab
	assert_stamp mylab
	assert_no_stamp other

	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other -f --json
	assert_status 1
	"$PY" - "$output" <<'PY' || flunk "stdout was:" "$output"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["exit_code"] == 1 and doc["status"] == "partial", doc
by = {s["name"]: s for s in doc["servers"]}
assert by["mylab"]["result"] == "sent" and by["mylab"]["http_status"] == 200, by
o = by["other"]
assert o["result"] == "unreached" and o["http_status"] is None, o
# next_due: the end of its back-off (CONTRACT §9), the second in a row
assert o["server_id"] is None and o["next_due"] is not None, o
assert o["retry"]["failures"] == 2 and o["retry"]["until"] == o["next_due"], o
assert isinstance(o["error"], str) and o["error"], o
PY
}

@test "two slow collectors are served at the same time: about the time of one" {
	start_collector other
	start_collector
	mylab_config "ca_path = $TEST_CA/ca.pem"
	add_collector other
	# registered first, so that each timed run is one PUT per server
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other
	assert_success
	collector_control mylab '{"delay": 2}'
	collector_control other '{"delay": 2}'

	local t0 one both
	t0=$(now_ms)
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	one=$(($(now_ms) - t0))
	assert_success

	t0=$(now_ms)
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other -f
	both=$(($(now_ms) - t0))
	assert_success
	assert_line_count 2
	# one after the other would take about twice "one"
	[ "$one" -ge 2000 ] || flunk "one slow server took only $one ms (delay 2 s)"
	[ $((both * 2)) -lt $((one * 3)) ] ||
		flunk "two slow servers took $both ms; one took $one ms (limit 1.5x)"
	[ "$(requests_summary mylab | grep -c '^PUT .* 200$')" -eq 3 ]
	[ "$(requests_summary other | grep -c '^PUT .* 200$')" -eq 2 ]
}
