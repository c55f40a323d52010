#!/usr/bin/env bats
# The Beacon protocol through the real binary (CONTRACT §6, §7, §8;
# res_beacon-design.md): what the test collector received, what the
# stand-in AstDB and the stamps hold afterwards, and what the run said.
# Transport matters (TLS, proxy, time-outs, parallel sends) are in
# transport.bats.

# shellcheck disable=SC2154  # NAME_PORT, NAME_STATE: start_collector; stderr: run
load helpers

TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# The ids the collector's registry holds for server id SID.
registry_token() {
	collector_registry "${2:-mylab}" | json_get "$1.token"
}

registry_issued_rfc3339() {
	collector_registry "${2:-mylab}" | "$PY" -c '
import datetime, json, sys
t = json.load(sys.stdin)[sys.argv[1]]["issued"]
print(datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
}

# registered_mylab: a mylab collector, and a first run that registered
# and reported to it; sets SID and TOK.  The request log, the stand-in's
# call log are emptied and the stamp is set to an old, fixed time, so
# that the test sees only what its own run does.
registered_mylab() {
	start_collector
	default_config
	run_mylab
	assert_success
	SID=$(astdb_get beacon/mylab server_id)
	TOK=$(astdb_get beacon/mylab token_id)
	assert_uuid "stored server_id" "$SID"
	assert_uuid "stored token_id" "$TOK"
	: >"$mylab_STATE/requests.jsonl"
	: >"$ASTERISK_STUB_DIR/calls.log"
	stamp_set mylab "$OLD_STAMP"
}

OLD_STAMP=2020-01-01T00:00:00Z

# assert_astdb_empty_for FAMILY: no key of the family (or below it).
assert_astdb_empty_for() {
	local rows
	rows=$(astdb_dump | grep -F "/$1/" || true)
	[ -z "$rows" ] && return 0
	flunk "expected nothing stored under /$1/, found:" "$rows"
}

# assert_headers INDEX: request INDEX carried the protocol's headers.
assert_headers() {
	collector_requests mylab | "$PY" -c '
import json, sys
r = [json.loads(l) for l in sys.stdin if l.strip()][int(sys.argv[1])]
h = r["headers"]
want = {"Content-Type": "application/json", "Accept": "application/json",
        "User-Agent": "beacon-report/" + sys.argv[2]}
bad = ["%s: %r (want %r)" % (k, h.get(k), v) for k, v in want.items() if h.get(k) != v]
sys.exit("request %s: %s" % (sys.argv[1], "; ".join(bad)) if bad else 0)
' "$1" "$(make_version)"
}

# ---- registration and update ------------------------------------------------

@test "first run registers (POST /servers, empty body), then PUTs the Server JSON with ?tokenId" {
	start_collector
	default_config
	local before after
	before=$(date -u +%s)
	run_mylab
	after=$(date -u +%s)
	assert_success
	assert_output "mylab: sent"

	local sid tok issued
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	issued=$(astdb_get beacon/mylab token_issued)
	assert_uuid "AstDB server_id" "$sid"
	assert_uuid "AstDB token_id" "$tok"
	assert_requests "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 200"
	assert_eq "POST body" "" "$(collector_request 0 body)"
	assert_headers 0
	assert_headers 1
	# what the collector issued, not merely something UUID-shaped
	assert_eq "stored token = the collector's" "$(registry_token "$sid")" "$tok"
	[[ $issued =~ $TIME_RE ]] || flunk "token_issued is not RFC 3339 UTC: $issued"
	assert_eq "token_issued = the collector's date" "$(registry_issued_rfc3339 "$sid")" "$issued"

	# the body is the Server JSON carrying the new id, and it was stored
	local body
	body=$(collector_request 1 body)
	"$PY" - "$body" "$sid" <<'PY' || flunk "PUT body:" "$body"
import json, sys
b = json.loads(sys.argv[1])
assert b["id"] == sys.argv[2], b["id"]
v = b["asterisk"]["version"]
assert v["name"] and v["number"], v
m = b["asterisk"]["modules"][0]
assert {"name", "description", "status"} <= set(m), m
assert {"run_time", "calls"} <= set(b["asterisk"]["stats"]), b["asterisk"]["stats"]
assert {"sys_name", "release", "version", "machine"} <= set(b["operating_system"])
assert "private_name" not in b
PY
	assert_eq "stored report" "$body" "$(collector_stored "$sid")"

	local stamp t
	stamp=$(stamp_get mylab)
	[[ $stamp =~ $TIME_RE ]] || flunk "stamp is not RFC 3339 UTC: $stamp"
	t=$(date -u -d "$stamp" +%s)
	[ "$t" -ge "$before" ] && [ "$t" -le "$after" ] ||
		flunk "stamp $stamp is not the time of the run ($before..$after)"
	# only this collector's family was written: its three keys
	assert_eq "AstDB" "$(printf '%s\n' "/beacon/mylab/server_id	$sid" \
		"/beacon/mylab/token_id	$tok" "/beacon/mylab/token_issued	$issued" | sort)" \
		"$(astdb_dump | sort)"
}

@test "private_name is sent when set" {
	start_collector
	default_config
	sed -i 's/^\[general\]$/[general]\nprivate_name = lab-pbx-7/' "$CONFIG"
	run_mylab
	assert_success
	assert_eq "private_name" lab-pbx-7 "$(collector_request 1 body | json_get private_name)"
}

@test "with a stored id and token: one PUT with that token, no POST, no AstDB write" {
	registered_mylab
	run_mylab -f
	assert_success
	assert_output "mylab: sent"
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	assert_headers 0
	assert_eq "server_id kept" "$SID" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token kept" "$TOK" "$(astdb_get beacon/mylab token_id)"
	local writes
	writes=$(asterisk_calls | grep -E '^database (put|del|deltree) ' || true)
	[ -z "$writes" ] || flunk "an unchanged token was written again:" "$writes"
	assert_ne "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "ids seeded in the AstDB (family beacon/NAME) are used as they are" {
	start_collector
	default_config
	local sid=3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab tok=0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
	# the collector knows this server with this token
	printf '{"%s": {"token": "%s", "issued": %s}}\n' "$sid" "$tok" "$(date +%s)" \
		>"$mylab_STATE/registry.json"
	astdb_put beacon/mylab server_id "$sid"
	astdb_put beacon/mylab token_id "$tok"
	astdb_put beacon/mylab token_issued 2026-01-01T00:00:00Z
	run_mylab
	assert_success
	assert_requests "PUT /servers/$sid?tokenId=$tok 200"
}

@test "an AstDB server_id that is not a UUID is treated as absent: register anew" {
	start_collector
	default_config
	astdb_put beacon/mylab server_id '../../x?y=1'
	astdb_put beacon/mylab token_id 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
	run_mylab
	assert_success
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_uuid "new server_id" "$sid"
	assert_requests "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 200"
}

@test "a stored id without a token: PUT with no tokenId; the token issued then is stored" {
	start_collector
	default_config
	local sid=3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab
	# known to the collector, its token expired (3 days old): no token needed
	printf '{"%s": {"token": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", "issued": %s}}\n' \
		"$sid" "$(($(date +%s) - 3 * 86400))" >"$mylab_STATE/registry.json"
	astdb_put beacon/mylab server_id "$sid"
	run_mylab
	assert_success
	assert_requests "PUT /servers/$sid 200"
	local tok
	tok=$(astdb_get beacon/mylab token_id)
	assert_eq "stored token = the collector's new one" "$(registry_token "$sid")" "$tok"
	assert_ne "token" 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9 "$tok"
}

@test "a rotated token from the PUT replaces the stored one, and the next run uses it" {
	registered_mylab
	collector_control '{"rotate_token": true}'
	run_mylab -f
	assert_success
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	local new
	new=$(astdb_get beacon/mylab token_id)
	assert_ne "token after rotation" "$TOK" "$new"
	assert_eq "stored token = the collector's new one" "$(registry_token "$SID")" "$new"
	assert_eq "server_id kept" "$SID" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token_issued = the new token's date" "$(registry_issued_rfc3339 "$SID")" \
		"$(astdb_get beacon/mylab token_issued)"
	collector_control '{}'
	: >"$mylab_STATE/requests.jsonl"
	run_mylab -f
	assert_success
	assert_requests "PUT /servers/$SID?tokenId=$new 200"
}

@test "an expired token (48 h) is replaced by the collector's new one" {
	registered_mylab
	collector_control '{"clock_offset": 172801}'
	run_mylab -f
	assert_success
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	local new
	new=$(astdb_get beacon/mylab token_id)
	assert_ne "token after expiry" "$TOK" "$new"
	assert_eq "stored token = the collector's" "$(registry_token "$SID")" "$new"
}

@test "401 on the PUT: forget the ids, register anew, PUT once more; new ids stored" {
	registered_mylab
	local stale=11111111-2222-4333-8444-555555555555
	# a token the collector does not know: its own answer is 401
	astdb_put beacon/mylab token_id "$stale"
	run_mylab -f
	assert_success
	assert_output "mylab: sent"
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_uuid "new server_id" "$sid"
	assert_ne "server_id after re-registering" "$SID" "$sid"
	assert_requests "PUT /servers/$SID?tokenId=$stale 401" "POST /servers 200" \
		"PUT /servers/$sid?tokenId=$tok 200"
	assert_eq "stored token = the collector's" "$(registry_token "$sid")" "$tok"
	assert_ne "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "404 on the PUT (server unknown): register anew and PUT once more" {
	start_collector
	default_config
	local old=3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab oldtok=0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
	# ids the collector never issued
	astdb_put beacon/mylab server_id "$old"
	astdb_put beacon/mylab token_id "$oldtok"
	astdb_put beacon/mylab token_issued 2026-01-01T00:00:00Z
	run_mylab
	assert_success
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_ne "server_id" "$old" "$sid"
	assert_requests "PUT /servers/$old?tokenId=$oldtok 404" "POST /servers 200" \
		"PUT /servers/$sid?tokenId=$tok 200"
	assert_eq "stored token = the collector's" "$(registry_token "$sid")" "$tok"
}

@test "a second 401 is a rejection (exit 6); the ids the server just issued are kept whole" {
	registered_mylab
	collector_control '{"responses": [
		{"match": "PUT", "status": 401, "body": {"error": "Invalid token provided"}},
		{"match": "PUT", "status": 401, "body": {"error": "Invalid token provided"}}]}'
	run_mylab -f
	assert_status 6
	assert_output_contains "mylab: rejected"
	assert_line_count 1
	assert_stderr_contains "401"
	refute_stderr_contains "$TOK"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
	# The re-registration's ids are complete and valid (the collector issued
	# them and holds them), so they are kept (http.h) -- never blanked or
	# mixed with the old ones.
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_uuid "server_id" "$sid"
	assert_requests "PUT /servers/$SID?tokenId=$TOK 401" "POST /servers 200" \
		"PUT /servers/$sid?tokenId=$tok 401"
	assert_eq "stored token = the one issued with that id" "$(registry_token "$sid")" "$tok"
	[[ $(astdb_get beacon/mylab token_issued) =~ $TIME_RE ]]
}

@test "401, then the re-registration fails (500): exit 5, the stored ids stay" {
	registered_mylab
	local issued
	issued=$(astdb_get beacon/mylab token_issued)
	collector_control '{"responses": [
		{"match": "PUT", "status": 401, "body": "no"},
		{"match": "POST", "status": 500, "body": "down"}]}'
	run_mylab -f
	assert_status 5
	assert_requests "PUT /servers/$SID?tokenId=$TOK 401" "POST /servers 500"
	assert_eq "server_id" "$SID" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
	assert_eq "token_issued" "$issued" "$(astdb_get beacon/mylab token_issued)"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "401, then the re-registration answers a non-UUID id: exit 6, the stored ids stay" {
	registered_mylab
	collector_control '{"responses": [
		{"match": "PUT", "status": 401, "body": "no"},
		{"match": "POST", "status": 200, "body": {"token": {"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", "issued": "2026-01-01T00:00:00Z"}, "server": {"id": "../../etc/passwd"}}}]}'
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 401" "POST /servers 200"
	assert_eq "server_id" "$SID" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

# ---- answers that are refused or fail -----------------------------------------

@test "400 on the PUT: rejected, exit 6, no stamp; the registration is kept" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "PUT", "status": 400, "body": {"error": "bad"}}]}'
	run_mylab
	assert_status 6
	assert_output_contains "mylab: rejected"
	assert_line_count 1
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "400"
	assert_no_stamp mylab
	# the registration itself held: kept, so the next run does not register again
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_requests "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 400"
	assert_eq "stored token = the collector's" "$(registry_token "$sid")" "$tok"
}

@test "403 on the PUT: rejected, exit 6" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "status": 403, "body": ""}]}'
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 403"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "409 on the POST: rejected, exit 6, no PUT, nothing stored" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "status": 409, "body": {"message": "Server already exists"}}]}'
	run_mylab
	assert_status 6
	assert_requests "POST /servers 409"
	assert_output_contains "mylab: rejected"
	assert_stderr_contains "409"
	assert_astdb_empty_for beacon
	assert_no_stamp mylab
}

@test "429 on the PUT: unreached, exit 5" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "status": 429, "body": "slow down", "headers": {"Retry-After": "60"}}]}'
	run_mylab -f
	assert_status 5
	assert_requests "PUT /servers/$SID?tokenId=$TOK 429"
	assert_output_contains "mylab: unreached"
	assert_stderr_contains "429"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
}

@test "500 on the POST: unreached, exit 5, nothing stored" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "status": 500, "body": "oops"}]}'
	run_mylab
	assert_status 5
	assert_requests "POST /servers 500"
	assert_output_contains "mylab: unreached"
	assert_stderr_contains "500"
	assert_astdb_empty_for beacon
	assert_no_stamp mylab
}

@test "503 on the PUT: unreached, exit 5, ids kept" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "status": 503, "body": ""}]}'
	run_mylab -f
	assert_status 5
	assert_requests "PUT /servers/$SID?tokenId=$TOK 503"
	assert_eq "server_id" "$SID" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
}

@test "a 200 whose body is not JSON (PUT): rejected, exit 6, no stamp" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "garbage": true}]}'
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	assert_output_contains "mylab: rejected"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
}

@test "a 200 whose body is not JSON (POST): rejected, exit 6, nothing stored" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "garbage": true}]}'
	run_mylab
	assert_status 6
	assert_requests "POST /servers 200"
	assert_astdb_empty_for beacon
	assert_no_stamp mylab
}

@test "a 200 that is JSON but not a Token (PUT): rejected, exit 6, the token is not replaced" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "status": 200, "body": {"id": 42, "issued": "2026-01-01T00:00:00Z"}}]}'
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "a response body over 64 KiB is refused: exit 6, the token in it is not stored" {
	registered_mylab
	collector_control '{"responses": [{"match": "PUT", "oversize": true}]}'
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
	assert_output_contains "mylab: rejected"
	assert_stderr_contains "64 KiB"
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

# token_body SIZE TOKEN: a Token JSON padded with spaces to SIZE bytes,
# as a JSON string for a canned response.
token_body() {
	"$PY" -c '
import json, sys
b = json.dumps({"id": sys.argv[2], "issued": "2026-01-01T00:00:00Z"})
print(json.dumps(b + " " * (int(sys.argv[1]) - len(b))))' "$1" "$2"
}

@test "a response body of exactly 64 KiB is accepted, one byte more is not" {
	registered_mylab
	local t1=aaaaaaaa-1111-4111-8111-111111111111 t2=bbbbbbbb-2222-4222-8222-222222222222
	collector_control "{\"responses\": [{\"match\": \"PUT\", \"status\": 200, \"body\": $(token_body 65537 "$t1")}]}"
	run_mylab -f
	assert_status 6
	assert_eq "token_id" "$TOK" "$(astdb_get beacon/mylab token_id)"
	collector_control "{\"responses\": [{\"match\": \"PUT\", \"status\": 200, \"body\": $(token_body 65536 "$t2")}]}"
	run_mylab -f
	assert_success
	assert_eq "token_id" "$t2" "$(astdb_get beacon/mylab token_id)"
}

@test "a POST answer with a non-UUID server id: exit 6, no PUT, nothing in the AstDB" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "status": 200, "body": {"token": {"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", "issued": "2026-01-01T00:00:00Z"}, "server": {"id": "x; rm -rf /"}}}]}'
	run_mylab
	assert_status 6
	assert_requests "POST /servers 200"
	assert_output_contains "mylab: rejected"
	assert_astdb_empty_for beacon
	local writes
	writes=$(asterisk_calls | grep -E '^database put ' || true)
	[ -z "$writes" ] || flunk "something was written to the AstDB:" "$writes"
	assert_no_stamp mylab
}

@test "a POST answer with a non-UUID token id: exit 6, nothing in the AstDB" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "status": 200, "body": {"token": {"id": "not-a-token", "issued": "2026-01-01T00:00:00Z"}, "server": {"id": "3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab"}}}]}'
	run_mylab
	assert_status 6
	assert_requests "POST /servers 200"
	assert_astdb_empty_for beacon
}

@test "a ServerToken with \"issue\" (the design's example date) is accepted; stored as RFC 3339" {
	start_collector
	default_config
	local sid=bc5829cc-4584-43e5-8395-a9b1206d7e02 tok=ca74af9d-260c-4764-b452-e0628a9468a9
	collector_control "{\"responses\": [{\"match\": \"POST\", \"status\": 200, \"body\": {\"token\": {\"id\": \"$tok\", \"issue\": \"Mon Dec 29 2014 15:37:18 UTC\"}, \"server\": {\"id\": \"$sid\"}}}]}"
	# the collector must know the server the canned answer names
	printf '{"%s": {"token": "%s", "issued": %s}}\n' "$sid" "$tok" "$(date +%s)" \
		>"$mylab_STATE/registry.json"
	run_mylab
	assert_success
	assert_requests "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 200"
	assert_eq "server_id" "$sid" "$(astdb_get beacon/mylab server_id)"
	assert_eq "token_issued" 2014-12-29T15:37:18Z "$(astdb_get beacon/mylab token_issued)"
}

@test "a 302 on the POST is not followed: the Location target gets nothing, exit 6" {
	start_collector other
	start_collector
	default_config
	collector_control mylab "{\"responses\": [{\"match\": \"POST\", \"redirect\": \"https://127.0.0.1:$other_PORT/servers\"}]}"
	run_mylab
	assert_status 6
	assert_requests "POST /servers 302"
	assert_requests --at other
	assert_output_contains "mylab: rejected"
	assert_stderr_contains "302"
	assert_astdb_empty_for beacon
	assert_no_stamp mylab
}

@test "a 302 on the PUT is not followed either" {
	start_collector other
	registered_mylab
	collector_control mylab "{\"responses\": [{\"match\": \"PUT\", \"redirect\": \"https://127.0.0.1:$other_PORT/servers/$SID?tokenId=$TOK\"}]}"
	run_mylab -f
	assert_status 6
	assert_requests "PUT /servers/$SID?tokenId=$TOK 302"
	assert_requests --at other
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
}

@test "a server's error text is shown sanitised: one line, no escape character" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "PUT", "status": 400, "body": "\u001b[31mEVIL\u001b[0m first\nsecond\r\nthird\u0007"}]}'
	run_mylab
	assert_status 6
	[[ $stderr != *$'\e'* && $stderr != *$'\a'* ]] ||
		flunk "a control character reached stderr:" "$(printf '%q' "$stderr")"
	[[ $output != *$'\e'* ]] || flunk "an ESC reached stdout:" "$(printf '%q' "$output")"
	refute_stderr_contains $'\r'
	local line
	line=$(grep -F EVIL <<<"$stderr") || flunk "the server's text is not on stderr:" "$stderr"
	[ "$(grep -c . <<<"$line")" -eq 1 ] || flunk "EVIL is on more than one line:" "$line"
	[[ $line == "beacon-report: "* ]] || flunk "not a beacon-report line: $line"
	[[ $line == *EVIL*first\ second\ third* ]] ||
		flunk "the server's lines were not joined into one:" "$line"
	# stdout's line for the server is one line too
	assert_line_count 1
}

@test "a long server error text is cut short" {
	start_collector
	default_config
	local long
	long=$(printf 'A%.0s' $(seq 1 5000))
	collector_control "{\"responses\": [{\"match\": \"PUT\", \"status\": 400, \"body\": \"$long\"}]}"
	run_mylab
	assert_status 6
	assert_stderr_contains "AAAA"
	refute_stderr_contains "$(printf 'A%.0s' $(seq 1 1000))"
}

# ---- the built-in server ----------------------------------------------------

@test "the built-in beacon server keeps family 'beacon', apart from beacon/mylab" {
	start_collector beacon --port "$TEST_BEACON_PORT"
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG"
	assert_success
	assert_output_contains "beacon: sent"
	assert_output_contains "mylab: sent"
	assert_line_count 2
	local bsid btok msid mtok
	bsid=$(astdb_get beacon server_id)
	btok=$(astdb_get beacon token_id)
	msid=$(astdb_get beacon/mylab server_id)
	mtok=$(astdb_get beacon/mylab token_id)
	assert_ne "the two servers' ids" "$bsid" "$msid"
	assert_requests --at beacon "POST /servers 200" "PUT /servers/$bsid?tokenId=$btok 200"
	assert_requests "POST /servers 200" "PUT /servers/$msid?tokenId=$mtok 200"
	assert_eq "beacon's token = its collector's" "$(registry_token "$bsid" beacon)" "$btok"
	assert_eq "mylab's token = its collector's" "$(registry_token "$msid" mylab)" "$mtok"
	[[ $(stamp_get beacon) =~ $TIME_RE ]]
	[[ $(stamp_get mylab) =~ $TIME_RE ]]

	# Next time each server PUTs with its own ids (beacon's 60-minute
	# floor holds under -f, so its stamp is moved back).
	stamp_set beacon "$(rfc3339_ago 7200)"
	: >"$beacon_STATE/requests.jsonl"
	: >"$mylab_STATE/requests.jsonl"
	run --separate-stderr beacon -c "$CONFIG" -f
	assert_success
	assert_requests --at beacon "PUT /servers/$bsid?tokenId=$btok 200"
	assert_requests "PUT /servers/$msid?tokenId=$mtok 200"
}

@test "ids stored for beacon/mylab are not taken for the built-in server" {
	start_collector beacon --port "$TEST_BEACON_PORT"
	start_collector
	default_config
	astdb_put beacon/mylab server_id 3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab
	astdb_put beacon/mylab token_id 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
	run --separate-stderr beacon -c "$CONFIG" -s beacon
	assert_success
	assert_output "beacon: sent"
	local bsid
	bsid=$(astdb_get beacon server_id)
	assert_ne "beacon's id" 3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab "$bsid"
	assert_requests --at beacon "POST /servers 200" \
		"PUT /servers/$bsid?tokenId=$(astdb_get beacon token_id) 200"
	assert_eq "mylab's id untouched" 3f2c1e4a-9b8d-4c7e-a6f5-0123456789ab \
		"$(astdb_get beacon/mylab server_id)"
	assert_requests --at mylab
}

# ---- output: --json, -q, --dry-run -----------------------------------------------

@test "--json: the CONTRACT §8 shape for a sent report" {
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab --json
	assert_success
	"$PY" - "$output" "$(astdb_get beacon/mylab server_id)" "$mylab_PORT" \
		"$(stamp_get mylab)" <<'PY' || flunk "stdout was:" "$output"
import json, re, sys
doc = json.loads(sys.argv[1])
sid, port, stamp = sys.argv[2], sys.argv[3], sys.argv[4]
assert set(doc) == {"exit_code", "status", "servers"}, sorted(doc)
assert doc["exit_code"] == 0 and doc["status"] == "ok", doc
assert isinstance(doc["servers"], list) and len(doc["servers"]) == 1, doc
s = doc["servers"][0]
# "notices": what the server had to tell (CONTRACT §6; none here)
want = {"name", "url", "result", "http_status", "server_id", "next_due", "error",
        "notices"}
assert want == set(s), sorted(s)
assert s["notices"] == [], s
assert s["name"] == "mylab", s
assert s["url"] == "https://127.0.0.1:%s" % port, s
assert s["result"] == "sent", s
assert s["http_status"] == 200, s
assert s["server_id"] == sid, s
assert s["error"] is None, s
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s["next_due"]), s
assert s["next_due"] > stamp, (s["next_due"], stamp)
PY
	assert_requests "POST /servers 200" \
		"PUT /servers/$(astdb_get beacon/mylab server_id)?tokenId=$(astdb_get beacon/mylab token_id) 200"
}

@test "--json: a failed server carries result, http_status and error; exit_code matches" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "POST", "status": 500, "body": "oops"}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab --json
	assert_status 5
	"$PY" - "$output" <<'PY' || flunk "stdout was:" "$output"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["exit_code"] == 5 and doc["status"] == "unreached", doc
s = doc["servers"][0]
assert s["name"] == "mylab" and s["result"] == "unreached", s
assert s["http_status"] == 500, s
assert s["server_id"] is None, s
assert isinstance(s["error"], str) and "500" in s["error"], s
assert "\n" not in s["error"], s
PY
	assert_stderr_contains "500"
}

@test "--json: a rejected server beside a sent one: partial, exit 1" {
	start_collector other
	start_collector
	default_config
	add_collector other
	collector_control other '{"responses": [{"match": "POST", "status": 409, "body": "exists"}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other --json
	assert_status 1
	"$PY" - "$output" <<'PY' || flunk "stdout was:" "$output"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["exit_code"] == 1 and doc["status"] == "partial", doc
by = {s["name"]: s for s in doc["servers"]}
assert by["mylab"]["result"] == "sent", by
assert by["other"]["result"] == "rejected" and by["other"]["http_status"] == 409, by
assert "409" in by["other"]["error"], by
assert by["other"]["server_id"] is None, by
PY
	[[ $(stamp_get mylab) =~ $TIME_RE ]]
	assert_no_stamp other
}

@test "-q: nothing at all on success" {
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab -q
	assert_success
	assert_output ""
	assert_eq "stderr" "" "$stderr"
	assert_requests "POST /servers 200" \
		"PUT /servers/$(astdb_get beacon/mylab server_id)?tokenId=$(astdb_get beacon/mylab token_id) 200"
}

@test "-q: a failure still goes to stderr, stdout stays empty" {
	start_collector
	default_config
	collector_control '{"responses": [{"match": "PUT", "status": 400, "body": "bad report"}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -q
	assert_status 6
	assert_output ""
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "mylab"
	assert_stderr_contains "400"
	assert_stderr_contains "bad report"
}

@test "-v: each request and its status on stderr, the token masked" {
	registered_mylab
	run_mylab -f -v
	assert_success
	assert_output "mylab: sent"
	assert_stderr_contains "PUT https://127.0.0.1:$mylab_PORT/servers/$SID"
	assert_stderr_contains "HTTP 200"
	refute_stderr_contains "$TOK"
	assert_requests "PUT /servers/$SID?tokenId=$TOK 200"
}

@test "-n changes nothing: no request, no stamp, no AstDB write" {
	registered_mylab
	local db
	db=$(astdb_dump)
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n -f
	assert_success
	# the token masked, as everywhere but --show --json (CONTRACT §8)
	assert_output_contains "mylab: would send PUT https://127.0.0.1:$mylab_PORT/servers/$SID?tokenId=****"
	refute_output_contains "$TOK"
	refute_stderr_contains "$TOK"
	assert_requests
	assert_eq "AstDB" "$db" "$(astdb_dump)"
	assert_eq "stamp" "$OLD_STAMP" "$(stamp_get mylab)"
	local writes
	writes=$(asterisk_calls | grep -E '^database (put|del|deltree) ' || true)
	[ -z "$writes" ] || flunk "the dry run wrote to the AstDB:" "$writes"
}

@test "-n on a first run: would register; no connection, no stamp, nothing stored" {
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n
	assert_success
	assert_output_contains "mylab: would register (POST https://127.0.0.1:$mylab_PORT/servers)"
	assert_requests
	assert_eq "connections" "" "$(cat "$mylab_STATE/connections.log" 2>/dev/null)"
	assert_astdb_empty_for beacon
	assert_no_stamp mylab
	[ ! -e "$STATE_DIR" ] || flunk "the dry run created state_dir $STATE_DIR"
}

@test "--dry-run --json: not registered yet, the registration then the report that follows it, its id the placeholder" {
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n --json
	assert_success
	"$PY" - "$output" "$mylab_PORT" <<'PY' || flunk "stdout was:" "$output"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["exit_code"] == 0, doc
s = doc["servers"][0]
assert s["name"] == "mylab" and s["url"] == "https://127.0.0.1:" + sys.argv[2], s
assert s["result"] == "would_send", s
assert s["register"] == {"method": "POST", "path": "/servers", "body": ""}, s
zero = "00000000-0000-0000-0000-000000000000"
assert s["method"] == "PUT" and s["path"] == "/servers/%s?tokenId=****" % zero, s
body = json.loads(s["body"])
assert body["id"] == zero, body
assert body["asterisk"]["version"]["name"] == "Asterisk 22.10.1", body
PY
	# the text output names the same placeholder
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n
	assert_success
	assert_output_contains "mylab: would register (POST https://127.0.0.1:$mylab_PORT/servers), then send PUT https://127.0.0.1:$mylab_PORT/servers/00000000-0000-0000-0000-000000000000?tokenId=**** (00000000-0000-0000-0000-000000000000 standing for the id the registration gives)"
	assert_output_contains '"id":"00000000-0000-0000-0000-000000000000"'
	assert_requests
}

@test "--dry-run --json: the body shown for a server not registered yet is what the run then sends, but for the id" {
	start_collector
	default_config
	export BEACON_REPORT_NOW=2026-11-22T10:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n --json
	assert_success
	local want
	want=$(json_get servers.0.body <<<"$output")
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	local sid
	sid=$(astdb_get beacon/mylab server_id)
	assert_eq "body (the new id in place of the placeholder, clock fields masked)" \
		"$(sed "s/00000000-0000-0000-0000-000000000000/$sid/" <<<"$want" | mask_clock)" \
		"$(collector_request 1 body | mask_clock)"
}

# mask_clock: the body with the values that follow the wall clock masked:
# operating_system.uptime (from /proc/uptime) and the Asterisk start and
# reload times (time(NULL) minus "core show uptime seconds").
mask_clock() {
	"$PY" -c '
import re, sys
s = sys.stdin.read()
s, n1 = re.subn(r"(\"uptime\":)-?[0-9]+", r"\1N", s)
s, n2 = re.subn(r"(\"(startup_time|last_reload_time)\":)\"[^\"]*\"", r"\1T", s)
if n1 != 1 or n2 != 2:
    sys.exit("mask_clock: expected 1 uptime and 2 run times, found %d, %d" % (n1, n2))
sys.stdout.write(s)'
}

@test "--dry-run --json: the PUT's method, path and body are what the real run sends" {
	registered_mylab
	local now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	BEACON_REPORT_NOW=$now run --separate-stderr beacon -c "$CONFIG" -s mylab -n -f --json
	assert_success
	local dry method path want
	dry=$output
	method=$(json_get servers.0.method <<<"$dry")
	path=$(json_get servers.0.path <<<"$dry")
	want=$(json_get servers.0.body <<<"$dry")
	assert_eq "method" PUT "$method"
	# the token masked: "****" in every output but --show --json
	assert_eq "path" "/servers/$SID?tokenId=****" "$path"
	[[ $dry != *"$TOK"* ]] || flunk "the token is in the dry run's output"
	assert_requests

	BEACON_REPORT_NOW=$now run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_success
	assert_requests "$method ${path%%\?*}?tokenId=$TOK 200"
	local sent
	sent=$(collector_request 0 body)
	# Byte for byte, but for the fields that follow the wall clock, which
	# BEACON_REPORT_NOW does not set (see mask_clock).
	assert_eq "body (clock fields masked)" "$(mask_clock <<<"$want")" \
		"$(mask_clock <<<"$sent")"
}
