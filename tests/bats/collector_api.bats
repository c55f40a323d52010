#!/usr/bin/env bats
# beacon-collector's API (COLLECTOR.md §3) through the real binary: every
# rule of POST /servers, PUT /servers/{id}, GET /healthz, the answers'
# shapes, and what malformed HTTP and plain HTTP get.

# shellcheck disable=SC2154  # API_*, SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

H=3600

# ---- POST /servers --------------------------------------------------------------

@test "POST /servers: 201, Location /servers/ID, {server:{id}, token:{id, issued}} with v4 UUIDs and an RFC 3339 UTC time" {
	start_beacon_collector
	api POST /servers
	assert_api 201
	assert_api_json
	local sid tok issued
	sid=$(api_json server.id)
	tok=$(api_json token.id)
	issued=$(api_json token.issued)
	assert_uuid_v4 server.id "$sid"
	assert_uuid_v4 token.id "$tok"
	assert_ne "token id vs server id" "$sid" "$tok"
	assert_rfc3339_utc token.issued "$issued"
	# issued is the collector's clock
	assert_eq "issued" "$(cat "$BEACON_COLLECTOR_CLOCK_FILE")" "$issued"
	assert_eq Location "/servers/$sid" "$(api_header Location)"
	# nothing but these members
	printf '%s' "$API_BODY" | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
assert sorted(o) == ["server", "token"], o
assert sorted(o["server"]) == ["id"], o
assert sorted(o["token"]) == ["id", "issued"], o'
	# a second registration: other ids
	api POST /servers
	assert_api 201
	assert_ne "second server id" "$sid" "$(api_json server.id)"
	assert_ne "second token id" "$tok" "$(api_json token.id)"
	# the server is in the database
	assert_eq "rows" 2 "$(db_sql 'SELECT count(*) FROM servers')"
}

@test "POST /servers with a JSON object: ignored without an id, 201 with an unknown id, 409 'Server already exists' with an existing id" {
	start_beacon_collector
	register
	api POST /servers '{"private_name":"x"}'
	assert_api 201
	api POST /servers '{"id":"0b0e5b2c-95a4-4c37-9c3a-2bd5d0f6a0e1"}'
	assert_api 201
	assert_ne "the id is the collector's own" "0b0e5b2c-95a4-4c37-9c3a-2bd5d0f6a0e1" "$(api_json server.id)"
	api POST /servers "{\"id\":\"$SID\"}"
	assert_api_error 409
	assert_eq "409 body" '{"error":"Server already exists"}' "$API_BODY"
}

@test "POST /servers with a body that is not a JSON object: 400" {
	start_beacon_collector
	api POST /servers 'not json at all'
	assert_api_error 400
	api POST /servers '[1,2]'
	assert_api_error 400
	api POST /servers '"text"'
	assert_api_error 400
	assert_eq "rows" 0 "$(db_sql 'SELECT count(*) FROM servers')"
}

# ---- PUT: the id, the server -----------------------------------------------------

@test "PUT /servers/ID: an id that is not a v4 UUID is 400, an unknown server 404" {
	start_beacon_collector
	register
	local f="$BATS_TEST_TMPDIR/r.json"
	report_body not-a-uuid >"$f"
	api PUT "/servers/not-a-uuid?tokenId=$TOK" "@$f"
	assert_api_error 400
	# a UUID of version 1
	api PUT "/servers/6ba7b810-9dad-11d1-80b4-00c04fd430c8?tokenId=$TOK" "@$f"
	assert_api_error 400
	local other=3f2d6c1e-8b7a-4c5d-9e0f-1a2b3c4d5e6f
	put_report "$other" "$TOK"
	assert_api_error 404
}

# ---- PUT: tokens -----------------------------------------------------------------

@test "PUT with a wrong or no token while the token is valid: 401 {\"error\":\"Invalid token provided\"}, nothing stored" {
	start_beacon_collector
	register
	put_report "$SID" 1b4e28ba-2fa1-41d2-883f-0016d3cca427
	assert_api 401
	assert_api_json
	assert_eq "401 body" '{"error":"Invalid token provided"}' "$API_BODY"
	put_report "$SID" ""
	assert_api 401
	assert_eq "401 body" '{"error":"Invalid token provided"}' "$API_BODY"
	put_report "$SID" garbage
	assert_api 401
	assert_eq "report stored" "" "$(stored_report "$SID")"
	# the right one works
	put_report "$SID" "$TOK"
	assert_api 200
	assert_api_json
	assert_eq "token returned" "$TOK" "$(api_json id)"
	assert_eq "issued returned" "$ISSUED" "$(api_json issued)"
}

@test "renewal: with more than 24 h left the same token (+23 h), under 24 h a new one (+25 h); the one before stays valid" {
	start_beacon_collector
	register
	local tok1=$TOK
	collector_clock_at $((23 * H)) >/dev/null
	put_report "$SID" "$tok1"
	assert_api 200
	assert_eq "token at +23 h" "$tok1" "$(api_json id)"
	assert_eq "issued at +23 h" "$ISSUED" "$(api_json issued)"

	local now2 tok2
	now2=$(collector_clock_at $((25 * H)))
	put_report "$SID" "$tok1"
	assert_api 200
	tok2=$(api_json id)
	assert_uuid_v4 "new token" "$tok2"
	assert_ne "token at +25 h" "$tok1" "$tok2"
	assert_eq "new token issued now" "$now2" "$(api_json issued)"

	# +26 h: the previous token (tok1, valid until +48 h) is accepted
	# and the answer is the current one.
	collector_clock_at $((26 * H)) >/dev/null
	put_report "$SID" "$tok1"
	assert_api 200
	assert_eq "answer to the previous token" "$tok2" "$(api_json id)"
	# and the current one
	collector_clock_at $((27 * H)) >/dev/null
	put_report "$SID" "$tok2"
	assert_api 200
	assert_eq "answer to the current token" "$tok2" "$(api_json id)"
	# a third, never issued: 401
	collector_clock_at $((28 * H)) >/dev/null
	put_report "$SID" 1b4e28ba-2fa1-41d2-883f-0016d3cca427
	assert_api_error 401
}

@test "expired tokens (+49 h): accepted with any token or none, and a new token is issued" {
	start_beacon_collector
	register
	local tok1=$TOK now
	now=$(collector_clock_at $((49 * H)))
	put_report "$SID" 1b4e28ba-2fa1-41d2-883f-0016d3cca427
	assert_api 200
	local tok2
	tok2=$(api_json id)
	assert_uuid_v4 "new token" "$tok2"
	assert_ne "new token" "$tok1" "$tok2"
	assert_eq "issued" "$now" "$(api_json issued)"
	# a second server, expired, with no tokenId at all
	collector_clock_at 0 >/dev/null
	register
	local sid2=$SID tok3=$TOK
	collector_clock_at $((49 * H)) >/dev/null
	put_report "$sid2" ""
	assert_api 200
	assert_ne "new token without tokenId" "$tok3" "$(api_json id)"
	# now valid again: the old one is refused
	collector_clock_at $((50 * H)) >/dev/null
	put_report "$sid2" "$tok3"
	assert_api_error 401
}

# ---- PUT: the body ---------------------------------------------------------------

@test "PUT with a Content-Type other than application/json: 415; application/json; charset=utf-8 is fine" {
	start_beacon_collector
	register
	local f="$BATS_TEST_TMPDIR/r.json"
	report_body "$SID" >"$f"
	API_CT=text/plain api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 415
	API_CT= api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 415
	API_CT=application/x-www-form-urlencoded api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 415
	API_CT="application/json; charset=utf-8" api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api 200
}

@test "PUT announcing a Content-Length over max_body_kb: 413 at once, before the body is sent" {
	start_beacon_collector collector.max_body_kb=16
	register
	local out start end
	start=$(date +%s%N)
	out=$(printf 'PUT /servers/%s?tokenId=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"id":' "$SID" "$TOK" |
		tls_raw --wait 4)
	end=$(date +%s%N)
	[[ $out == "STATUS HTTP/1.1 413 "* ]] || flunk "expected a 413 before the body, got: $out"
	[ $(((end - start) / 1000000)) -lt 3000 ] || flunk "413 took $(((end - start) / 1000000)) ms"
	# just over the cap, sent in full
	local f="$BATS_TEST_TMPDIR/big.json"
	report_body "$SID" 'r["pad"] = ["x" * 1000] * 17' >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 413
	# under it: fine
	report_body "$SID" 'r["pad"] = ["x" * 1000] * 14' >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api 200
}

@test "PUT with a chunked body over max_body_kb: 413, nothing stored" {
	start_beacon_collector collector.max_body_kb=16
	register
	local f="$BATS_TEST_TMPDIR/big.json"
	report_body "$SID" 'r["pad"] = ["x" * 1000] * 40' >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f" -H 'Transfer-Encoding: chunked'
	assert_api_error 413
	assert_eq "report stored" "" "$(stored_report "$SID")"
	# a small chunked body is fine
	report_body "$SID" >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f" -H 'Transfer-Encoding: chunked'
	assert_api 200
	assert_same_json "stored" "$(cat "$f")" "$(stored_report "$SID")"
}

# bad_body EXPECTED-ERROR PYTHON...: a report_body changed by PYTHON is 400
# with exactly that error.
bad_body() {
	local want=$1
	shift
	put_report "$SID" "$TOK" "$@"
	assert_api_error 400 || return 1
	assert_eq "error for: $*" "$want" "$API_ERROR"
}

@test "PUT with a field of the wrong type or missing: 400 naming the field, nothing stored" {
	start_beacon_collector
	register
	bad_body "asterisk.modules[3].name: not a string" 'r["asterisk"]["modules"][3]["name"] = 5'
	bad_body "asterisk.version.number: missing" 'del r["asterisk"]["version"]["number"]'
	bad_body "asterisk.version.name: missing" 'del r["asterisk"]["version"]["name"]'
	bad_body "asterisk.modules[0].status: missing" 'del r["asterisk"]["modules"][0]["status"]'
	bad_body "asterisk.modules[1].description: missing" 'del r["asterisk"]["modules"][1]["description"]'
	bad_body "asterisk.modules: not an array" 'r["asterisk"]["modules"] = {}'
	bad_body "asterisk.stats.calls.active: not an integer" 'r["asterisk"]["stats"]["calls"]["active"] = "2"'
	bad_body "operating_system.machine: not a string" 'r["operating_system"]["machine"] = None'
	bad_body "private_name: not a string" 'r["private_name"] = 1'
	bad_body "id: missing" 'del r["id"]'
	assert_eq "report stored" "" "$(stored_report "$SID")"
}

@test "PUT whose id is not the server's: 400 naming id" {
	start_beacon_collector
	register
	local sid1=$SID tok1=$TOK
	register
	local f="$BATS_TEST_TMPDIR/r.json"
	report_body "$SID" >"$f"
	api PUT "/servers/$sid1?tokenId=$tok1" "@$f"
	assert_api_error 400
	[[ $API_ERROR == id:* ]] || flunk "error should name id: $API_ERROR"
}

@test "PUT with invalid UTF-8, not JSON, not an object: 400" {
	start_beacon_collector
	register
	local f="$BATS_TEST_TMPDIR/u.json"
	printf '{"id":"%s","private_name":"\xff\xfe"}' "$SID" >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 400
	# overlong encoding of '/', a lone surrogate
	printf '{"id":"%s","private_name":"\xc0\xaf"}' "$SID" >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 400
	printf '{"id":"%s","private_name":"\xed\xa0\x80"}' "$SID" >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 400
	api PUT "/servers/$SID?tokenId=$TOK" '{"id":'
	assert_api_error 400
	api PUT "/servers/$SID?tokenId=$TOK" '[]'
	assert_api_error 400
	api PUT "/servers/$SID?tokenId=$TOK" ''
	assert_api_error 400
	assert_eq "report stored" "" "$(stored_report "$SID")"
}

@test "PUT limits: nesting deeper than 16, more than 5000 modules, a string over 1024 bytes: 400 naming the field; at the limits: 200" {
	start_beacon_collector limits.min_update_interval=0 collector.max_body_kb=2048
	register
	# depth: the body object is level 1; 15 more levels under "x" is 16.
	bad_body "x.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a: nested deeper than 16 levels" \
		'd = {}' 'r["x"] = d' 'exec("for _ in range(15):\n    d[\"a\"] = {}\n    d = d[\"a\"]")'
	put_report "$SID" "$TOK" 'd = {}' 'r["x"] = d' 'exec("for _ in range(14):\n    d[\"a\"] = {}\n    d = d[\"a\"]")'
	assert_api 200
	local m='{"name": "m%d.so" % i, "description": "d", "status": "Running"}'
	bad_body "asterisk.modules: more than 5000 modules" "r['asterisk']['modules'] = [$m for i in range(5001)]"
	put_report "$SID" "$TOK" "r['asterisk']['modules'] = [$m for i in range(5000)]"
	assert_api 200
	bad_body "asterisk.modules[2].description: longer than 1024 bytes" 'r["asterisk"]["modules"][2]["description"] = "d" * 1025'
	bad_body "extra: longer than 1024 bytes" 'r["extra"] = "é" * 513'
	put_report "$SID" "$TOK" 'r["asterisk"]["modules"][2]["description"] = "d" * 1024'
	assert_api 200
}

@test "fields the Swagger does not name are kept: the stored report is byte for byte the body sent" {
	start_beacon_collector
	register
	local f="$BATS_TEST_TMPDIR/r.json"
	# odd spacing, key order, unicode escapes and raw UTF-8 and unknown
	# members at every level
	report_body "$SID" 'r["future"] = {"nested": [1, 2.5, None, True, {"k": "\\u00e9"}]}' \
		'r["asterisk"]["modules"][0]["new_field"] = "ünïcode €"' \
		'r["asterisk"]["version"]["build"] = "x"' |
		"$PY" -c 'import sys; sys.stdout.write(sys.stdin.read().replace(",", " ,\n  ").replace("\\\\u00e9", "\\u00e9") + "\n")' >"$f"
	grep -qF '\u00e9' "$f" || flunk "the body should hold a \\u escape: $(cat "$f")"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api 200
	# field for field (COLLECTOR.md §5), not byte for byte
	assert_same_json "stored" "$(cat "$f")" "$(stored_report "$SID")"
	assert_eq "reports" 1 "$(db_sql "SELECT reports FROM servers WHERE id = '$SID'")"
}

@test "an update sooner than min_update_interval: 429 with Retry-After (seconds until accepted), nothing stored, token not renewed" {
	start_beacon_collector limits.min_update_interval=30
	register
	put_report "$SID" "$TOK" 'r["private_name"] = "first"'
	assert_api 200
	# +25 h would renew the token: at +25 h the next update is accepted,
	# then 10 minutes later it is too soon.
	collector_clock_at $((25 * H)) >/dev/null
	put_report "$SID" "$TOK" 'r["private_name"] = "second"'
	assert_api 200
	local tok2
	tok2=$(api_json id)
	collector_clock_at $((25 * H + 600)) >/dev/null
	put_report "$SID" "$tok2" 'r["private_name"] = "third"'
	assert_api_error 429
	assert_eq Retry-After 1200 "$(api_header Retry-After)"
	[[ $(stored_report "$SID") == *'"second"'* ]] || flunk "stored: $(stored_report "$SID")"
	# 47.9 h after the first token: a 429 must not renew either
	collector_clock_at $((25 * H + 1799)) >/dev/null
	put_report "$SID" "$tok2" 'r["private_name"] = "fourth"'
	assert_api_error 429
	assert_eq Retry-After 1 "$(api_header Retry-After)"
	assert_eq "token" "$tok2" "$(db_sql "SELECT token_id FROM servers WHERE id = '$SID'")"
	collector_clock_at $((25 * H + 1800)) >/dev/null
	put_report "$SID" "$tok2" 'r["private_name"] = "fifth"'
	assert_api 200
	[[ $(stored_report "$SID") == *'"fifth"'* ]] || flunk "stored: $(stored_report "$SID")"
}

# ---- methods, paths, content types ----------------------------------------------

@test "wrong methods: 405 with Allow, as JSON" {
	start_beacon_collector
	register
	local m
	for m in GET PUT DELETE PATCH; do
		api "$m" /servers
		assert_api_error 405
		assert_eq "Allow of /servers ($m)" POST "$(api_header Allow)"
	done
	for m in GET POST DELETE; do
		api "$m" "/servers/$SID"
		assert_api_error 405
		assert_eq "Allow of /servers/ID ($m)" PUT "$(api_header Allow)"
	done
	api POST /healthz
	assert_api_error 405
	[[ $(api_header Allow) == *GET* ]] || flunk "Allow of /healthz: $(api_header Allow)"
}

@test "unknown paths: 404 as JSON; every API answer is application/json" {
	start_beacon_collector
	local p
	for p in /nope /servers/a/b /api/v0 "/servers/../etc/passwd" /%00; do
		api GET "$p"
		assert_api 404
		assert_api_json
	done
	api POST /servers
	assert_api_json
	register
	put_report "$SID" "$TOK"
	assert_api_json
	put_report "$SID" "$TOK"
	assert_api_error 429
	[ -n "$(api_header Retry-After)" ] || flunk "429 without Retry-After"
}

@test "GET /healthz: 200 ok" {
	start_beacon_collector
	api GET /healthz
	assert_api 200
	assert_eq body ok "$API_BODY"
	api HEAD /healthz -I
	assert_api 200
}

# ---- transport ---------------------------------------------------------------------

@test "TLS only: plain HTTP on the port gets a 400 in words, never the API (issue 25 item 9)" {
	start_beacon_collector
	run curl -s --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$BC_PORT/healthz"
	assert_eq "plain HTTP answer" "plain HTTP on the TLS port: this port speaks HTTPS (https://) 400" "$(tr -d '\n' <<<"$output")"
	assert_healthy
}

@test "malformed HTTP over TLS: a 4xx or a closed connection, never a 5xx; the service stays up" {
	start_beacon_collector collector.request_timeout=2
	register
	local out req
	for req in 'GARBAGE\r\n\r\n' '\x00\x01\x02\xff\r\n\r\n' 'GET / HTTP/1.1\r\n\r\n' \
		'GET /healthz HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n' \
		'PUT /servers/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n' \
		'PUT /servers/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' \
		'POST /servers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}' \
		"GET /$(printf 'a%.0s' {1..70000}) HTTP/1.1\r\nHost: x\r\n\r\n" \
		"GET / HTTP/1.1\r\n$(printf 'X-A: b\\r\\n%.0s' {1..3000})\r\n"; do
		# shellcheck disable=SC2059
		out=$(printf "$req" "$SID" | tls_raw --wait 5)
		case $out in
		"STATUS HTTP/1."[01]" 4"*|CLOSED) ;;
		*) flunk "request ${req:0:60}...: expected a 4xx or a close, got: $out" ;;
		esac
	done
	# TLS garbage: not a ClientHello at all
	out=$("$PY" -c '
import socket
s = socket.create_connection(("127.0.0.1", '"$BC_PORT"'), timeout=5)
s.sendall(b"\x16\x03\x01\xff\xff" + b"\xaa" * 3000)
try:
    print("GOT %d" % len(s.recv(100)))
except OSError as e:
    print("ERR", e)')
	[[ $out != ERR*timed* ]] || flunk "TLS garbage: no close: $out"
	assert_healthy
	grep -E '^beacon-collector: [A-Z]+ \S+ 5[0-9][0-9] ' "$BC_LOG" && flunk "a 5xx was logged"
	_bc_alive "$BC_PID" || flunk "the collector died"
}

@test "HTTP versions: 1.x is served as 1.1, a malformed version is 400, another major version is libmicrohttpd's 505" {
	# HTTP/9.9 and HTTP/2.0 in plain text are well-formed request lines
	# of versions libmicrohttpd does not speak; it answers 505 itself
	# (RFC 9110 15.6.6) before our handler runs: the one 5xx the contract's
	# "malformed HTTP" rule cannot reach, said in beacon-collector(8).
	start_beacon_collector
	local out v
	out=$(printf 'GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n' | tls_raw --wait 6)
	[[ $out == "STATUS HTTP/1.1 200"* ]] || flunk "HTTP/1.2: expected 200 as for 1.1, got: $out"
	for v in 1.1x 1 X.Y; do
		out=$(printf 'GET /healthz HTTP/%s\r\nHost: x\r\n\r\n' "$v" | tls_raw --wait 6)
		case $out in
		"STATUS HTTP/1."[01]" 4"*|CLOSED) ;;
		*) flunk "HTTP/$v: expected a 4xx or a close, got: $out" ;;
		esac
	done
	for v in 9.9 2.0; do
		out=$(printf 'GET /healthz HTTP/%s\r\nHost: x\r\n\r\n' "$v" | tls_raw --wait 6)
		case $out in
		"STATUS HTTP/1.1 505"*|"STATUS HTTP/1."[01]" 4"*|CLOSED) ;;
		*) flunk "HTTP/$v: expected 505, a 4xx or a close, got: $out" ;;
		esac
	done
	assert_healthy
}
