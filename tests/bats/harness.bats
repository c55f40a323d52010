#!/usr/bin/env bats
# The test harness itself: the stand-in asterisk against the recorded
# Asterisk 22.10.1 output, the HTTPS collector against the protocol, the
# CONNECT proxy, and the helpers.  Every later test stands on these.

load helpers

F="${FIXTURES:-$REPO/tests/fixtures}/22.10.1"

# recorded_stdout HEADER: the stdout that failures.txt records under the
# section whose "===" line starts with HEADER ("(c) unknown command").
recorded_stdout() {
	awk -v h="=== $1" '
		index($0, h) == 1 { insec = 1; next }
		insec && /^=== / { exit }
		insec && /^--- stdout/ { out = 1; next }
		insec && /^--- stderr/ { exit }
		out { sub(/\$$/, ""); print }
	' "$F/failures.txt"
}

recorded_stderr() {
	awk -v h="=== $1" '
		index($0, h) == 1 { insec = 1; next }
		insec && /^=== / { exit }
		insec && /^--- stderr/ { err = 1; next }
		err && /^(---|===|$)/ { exit }
		err { sub(/\$$/, ""); print }
	' "$F/failures.txt"
}

# ask COMMAND: the stand-in's stdout into $BATS_TEST_TMPDIR/out, its exit
# status in $status.
ask() {
	status=0
	asterisk -rx "$1" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
}

# same_as FILE: the last answer is FILE's bytes exactly.
same_as() {
	cmp -s "$BATS_TEST_TMPDIR/out" "$1" && return 0
	flunk "the stand-in's answer differs from $1:" \
		"$(diff <(cat -A "$1") <(cat -A "$BATS_TEST_TMPDIR/out"))"
}

# ---- stand-in asterisk: recorded answers -------------------------------------

@test "stand-in: the asterisk on PATH is the stand-in" {
	[ "$(command -v asterisk)" = "$REPO/tests/libexec/asterisk" ]
}

@test "stand-in: core show version comes from the 22.10.1 fixture" {
	ask "core show version"
	[ "$status" -eq 0 ]
	same_as "$F/core_show_version.txt"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	grep -q '^Asterisk 22\.10\.1 ' "$BATS_TEST_TMPDIR/out"
}

@test "stand-in: every recorded command answers its fixture" {
	local file cmd n=0
	while IFS=$'\t' read -r file cmd; do
		case $cmd in database*) continue ;; esac
		ask "$cmd"
		same_as "$F/$file"
		n=$((n + 1))
	done <"$F/commands.tsv"
	[ "$n" -ge 10 ]
}

@test "stand-in: logs each call, in order" {
	assert_no_asterisk_calls
	asterisk -rx "core show version" >/dev/null
	asterisk -rx "module show" >/dev/null
	asterisk -rx "database get beacon server_id" >/dev/null
	run asterisk_calls
	assert_output "core show version
module show
database get beacon server_id"
	run assert_no_asterisk_calls
	assert_failure
	assert_output_contains "expected no asterisk command"
}

@test "stand-in: an answer in answers/ overrides the fixture" {
	asterisk_answer "core show version" <<<"Asterisk 18.1.0 built by someone"
	ask "core show version"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Asterisk 18.1.0 built by someone" ]
	echo 1 >"$ASTERISK_STUB_DIR/answers/core_show_version.exit"
	ask "core show version"
	[ "$status" -eq 1 ]
}

@test "stand-in: ASTERISK_STUB_FIXTURES selects another answer set" {
	mkdir "$BATS_TEST_TMPDIR/v13"
	echo "Asterisk 13.38.3 built by x" >"$BATS_TEST_TMPDIR/v13/core_show_version.txt"
	ASTERISK_STUB_FIXTURES="$BATS_TEST_TMPDIR/v13" ask "core show version"
	same_as "$BATS_TEST_TMPDIR/v13/core_show_version.txt"
}

@test "stand-in: unknown command answers like Asterisk (failures.txt c), exit 0" {
	ask "no such command"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(c) unknown command")" ]
	[ -n "$(recorded_stdout "(c) unknown command")" ]
}

@test "stand-in: empty command prints nothing, exit 0" {
	ask ""
	[ "$status" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "stand-in: anything but -rx COMMAND is refused loudly" {
	run asterisk -r
	assert_failure
	assert_output_contains 'expected exactly: asterisk -rx'
	run asterisk -rx "core show version" extra
	assert_failure
	run asterisk_calls
	assert_output_contains "BAD-ARGV"
}

# ---- stand-in asterisk: AstDB ---------------------------------------------------

@test "astdb: put/get/del answers equal the recorded ones" {
	ask "database put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	same_as "$F/database_put_beacon_server_id_3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6.txt"
	ask "database put beacon token_id 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d"
	same_as "$F/database_put_beacon_token_id_0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d.txt"
	ask "database get beacon server_id"
	same_as "$F/database_get_beacon_server_id.txt"
	ask "database get beacon nosuchkey"
	same_as "$F/database_get_beacon_nosuchkey.txt"
	ask "database del beacon token_id"
	same_as "$F/database_del_beacon_token_id.txt"
	ask "database del beacon nosuchkey"
	same_as "$F/database_del_beacon_nosuchkey.txt"
	run astdb_get beacon token_id
	assert_failure
	[ "$(astdb_get beacon server_id)" = 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 ]
}

@test "astdb: show, showkey, deltree equal the recorded session byte for byte" {
	# The recorded session's keys, put in another order: show sorts.
	ask "database put beacon token_id 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d"
	ask "database put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	ask "database put beacon/mylab server_id 11111111-2222-4333-8444-555555555555"
	same_as "$F/database_put_beacon-mylab_server_id_11111111-2222-4333-8444-555555555555.txt"
	ask "database show beacon"
	same_as "$F/database_show_beacon.txt"
	ask "database show beacon/mylab"
	same_as "$F/database_show_beacon-mylab.txt"
	ask "database showkey server_id"
	same_as "$F/database_showkey_server_id.txt"
	ask "database del beacon token_id"
	ask "database deltree beacon/mylab"
	same_as "$F/database_deltree_beacon-mylab.txt"
	ask "database show beacon"
	same_as "$F/database_show_beacon_after_del.txt"
	ask "database deltree beacon/nosuchfamily"
	same_as "$F/database_deltree_beacon-nosuchfamily.txt"
}

@test "astdb: a short value is padded to 25 like the recorded (d3) show" {
	astdb_put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	ask "database put beacon x y"
	ask "database show beacon"
	[ "$(cat -A "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d3) database show beacon after restoring dir" | sed 's/$/$/')" ]
	grep -q '^/beacon/x  *: y  *$' "$BATS_TEST_TMPDIR/out"
}

@test "astdb: show is a prefix match on family/ (not on the bare string)" {
	astdb_put beacon server_id a
	astdb_put beaconx server_id b
	astdb_put beacon/mylab token_id c
	ask "database show beacon"
	grep -q '^/beacon/server_id ' "$BATS_TEST_TMPDIR/out"
	grep -q '^/beacon/mylab/token_id ' "$BATS_TEST_TMPDIR/out"
	refute grep -q beaconx "$BATS_TEST_TMPDIR/out"
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" = "2 results found." ]
	ask "database show"
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" = "3 results found." ]
	ask "database show nosuch"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "0 results found." ]
}

@test "astdb: wrong argument count prints the usage (failures.txt c2)" {
	ask "database get beacon"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(c2) known command, bad args")" ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/out")" -eq 121 ]
	ask "database put beacon k"
	grep -q '^Usage: database put <family> <key> <value>$' "$BATS_TEST_TMPDIR/out"
	ask "database put beacon k v extra"
	grep -q '^Usage: database put ' "$BATS_TEST_TMPDIR/out"
	run astdb_get beacon k
	assert_failure
}

@test "astdb: quoted words as Asterisk's CLI splits them" {
	ask 'database put beacon "a b" "c d"'
	[ "$(astdb_get beacon "a b")" = "c d" ]
}

@test "astdb: 8 concurrent writers lose nothing, the log interleaves nothing" {
	local i j
	for i in 1 2 3 4 5 6 7 8; do
		(for j in 1 2 3 4; do asterisk -rx "database put beacon/s$i k$j v$i.$j" >/dev/null; done) &
	done
	wait
	ask "database show beacon"
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" = "32 results found." ]
	[ "$(astdb_get beacon/s5 k3)" = "v5.3" ]
	run asterisk_calls
	assert_line_count 33
	[ "$(asterisk_calls | grep -c '^database put beacon/s[1-8] k[1-4] v[1-8]\.[1-4]$')" -eq 32 ]
}

@test "astdb: astdb_put/astdb_get seed and read the stand-in's database" {
	astdb_put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	astdb_put beacon server_id 11111111-2222-4333-8444-555555555555
	ask "database get beacon server_id"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Value: 11111111-2222-4333-8444-555555555555" ]
	[ "$(astdb_dump | wc -l)" -eq 1 ]
	run astdb_get beacon nothing
	assert_failure
}

# ---- stand-in asterisk: modes ------------------------------------------------------

@test "mode down and noperm: Asterisk's own message on stderr, exit 1" {
	local want
	want=$(recorded_stderr "(a1) core show version when Asterisk is NOT running")
	[ -n "$want" ]
	ASTERISK_STUB_MODE=down ask "core show version"
	[ "$status" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "$want" ]
	ASTERISK_STUB_MODE=noperm ask "database get beacon server_id"
	[ "$status" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "$(recorded_stderr "(b) non-root user")" ]
	[ "$(asterisk_calls | wc -l)" -eq 2 ]
}

@test "mode file is read on every call; MODE@PREFIX scopes a mode" {
	asterisk_mode down
	ask "core show version"
	[ "$status" -eq 1 ]
	asterisk_mode ""
	ask "core show version"
	[ "$status" -eq 0 ]
	asterisk_mode "down@database"
	ask "core show version"
	[ "$status" -eq 0 ]
	ask "database show beacon"
	[ "$status" -eq 1 ]
}

@test "mode put_fail (d2): put fails, nothing stored, del and deltree fail" {
	astdb_put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	export ASTERISK_STUB_MODE=put_fail
	ask "database put beacon x y"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d2) database put with astdb DIRECTORY")" ]
	ask "database get beacon x"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d2) database get after failed put")" ]
	ask "database del beacon server_id"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d2) database del with immutable dir")" ]
	ask "database deltree beacon"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d2) database deltree with immutable dir")" ]
	[ "$(astdb_get beacon server_id)" = 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 ]
}

@test "mode put_lie (d1): put claims success and stores nothing, del fails" {
	astdb_put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	export ASTERISK_STUB_MODE=put_lie
	ask "database put beacon x y"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d1) database put with astdb.sqlite3")" ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Updated database successfully" ]
	ask "database get beacon x"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d1) database get after failed put")" ]
	ask "database del beacon server_id"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(recorded_stdout "(d1) database del with read-only db")" ]
	[ "$(astdb_get beacon server_id)" = 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 ]
}

@test "mode read_empty: reads see nothing although the key exists" {
	astdb_put beacon server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	ASTERISK_STUB_MODE=read_empty ask "database get beacon server_id"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Database entry not found." ]
	ASTERISK_STUB_MODE=read_empty ask "database show beacon"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "0 results found." ]
}

@test "mode slow=1 answers after a second; hang never answers and dies with SIGKILL" {
	local t0 t1 pid
	t0=$(date +%s%N)
	ASTERISK_STUB_MODE=slow=1 ask "core show version"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -ge 1000 ]
	same_as "$F/core_show_version.txt"

	ASTERISK_STUB_MODE=hang asterisk -rx "core show version" >/dev/null 3>&- &
	pid=$!
	sleep 0.3
	kill -0 "$pid"
	[ "$(cat "$ASTERISK_STUB_DIR/hang.pids")" = "$pid" ]
	kill -KILL "$pid"
	wait "$pid" || true
	refute kill -0 "$pid" 2>/dev/null
}

@test "mode garbage: NUL, 0xff, escapes and a very long line, exit 0" {
	ASTERISK_STUB_MODE=garbage ask "core show version"
	[ "$status" -eq 0 ]
	"$PY" - "$BATS_TEST_TMPDIR/out" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert b"\0" in d and b"\xff" in d and b"\x1b[" in d, d[:80]
assert max(len(l) for l in d.split(b"\n")) > 65536
PY
}

@test "mode huge: 5 MiB of output" {
	ASTERISK_STUB_MODE=huge ask "module show"
	[ "$status" -eq 0 ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/out")" -eq 5242880 ]
}

@test "stand-in: teardown kills a hanging stand-in this test left behind" {
	ASTERISK_STUB_MODE=hang asterisk -rx "core show version" >/dev/null 2>&1 3>&- &
	local pid=$!
	sleep 0.2
	harness_teardown
	sleep 0.1
	refute kill -0 "$pid" 2>/dev/null
}

@test "helpers: without a private temp dir (bats < 1.4) harness_setup refuses and writes nothing" {
	local home=$HOME
	BATS_TEST_TMPDIR= run harness_setup
	assert_failure
	assert_output_contains "BATS_TEST_TMPDIR is unset"
	assert_output_contains "bats >= 1.5"
	BATS_TEST_TMPDIR=/ run harness_setup
	assert_failure
	assert_output_contains "BATS_TEST_TMPDIR is /:"
	BATS_FILE_TMPDIR= run harness_setup_file
	assert_failure
	assert_output_contains "BATS_FILE_TMPDIR is unset"
	[ "$HOME" = "$home" ]
}

@test "make_test_ca: one basicConstraints (critical, CA:TRUE); openssl verify accepts the CA's certificates" {
	local d=$BATS_TEST_TMPDIR/ca2 n
	make_test_ca "$d"
	n=$(openssl x509 -in "$d/ca.pem" -noout -text | grep -c "X509v3 Basic Constraints")
	[ "$n" = 1 ] || flunk "ca.pem has $n basicConstraints"
	openssl x509 -in "$d/ca.pem" -noout -text | grep -A1 "X509v3 Basic Constraints: critical" | grep -q "CA:TRUE"
	run openssl verify -CAfile "$d/ca.pem" "$d/server.pem"
	assert_success
	run openssl verify -CAfile "$d/ca.pem" "$d/untrusted/server.pem"
	assert_failure
	[ ! -e "$d/ca.cnf" ]
}

# ---- collector -----------------------------------------------------------------------

# The UUIDv4 shape the collector must hand out.
UUID4='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# req METHOD PATH [BODY]: https_req to the mylab collector; HTTP status in
# $code, body in $body.
req() {
	run https_req --cacert "$TEST_CA/ca.pem" "$1" "https://127.0.0.1:$mylab_PORT$2" ${3+"$3"}
	code=${lines[0]#HTTP }
	body=$(printf '%s\n' "$output" | sed 1d)
}

register() {
	req POST /servers
	[ "$code" = 200 ] || flunk "POST /servers: $output"
	SID=$(json_get server.id <<<"$body")
	TOK=$(json_get token.id <<<"$body")
}

@test "collector: POST /servers hands out a server id and a token (UUIDv4, RFC 3339)" {
	start_collector
	[ "$mylab_PORT" = "$COLLECTOR_PORT" ]
	[ "$mylab_PORT" -gt 0 ]
	register
	[[ $SID =~ $UUID4 ]]
	[[ $TOK =~ $UUID4 ]]
	[[ $(json_get token.issued <<<"$body") =~ $RFC3339 ]]
	[ "$SID" != "$TOK" ]
	[ "$(collector_registry | json_get "$SID.token")" = "$TOK" ]
}

@test "collector: PUT with the token is accepted, stored, and keeps the token" {
	start_collector
	register
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\",\"x\":1}"
	[ "$code" = 200 ]
	[ "$(json_get id <<<"$body")" = "$TOK" ]
	[[ $(json_get issued <<<"$body") =~ $RFC3339 ]]
	[ "$(collector_stored "$SID")" = "{\"id\":\"$SID\",\"x\":1}" ]
}

@test "collector: 401 without or with a wrong token, 404 for an unknown id, 400 for a bad body" {
	start_collector
	register
	req PUT "/servers/$SID" "{\"id\":\"$SID\"}"
	[ "$code" = 401 ]
	req PUT "/servers/$SID?tokenId=0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d" "{\"id\":\"$SID\"}"
	[ "$code" = 401 ]
	req PUT "/servers/3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6?tokenId=$TOK" '{"id":"3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"}'
	[ "$code" = 404 ]
	req PUT "/servers/$SID?tokenId=$TOK" "not json"
	[ "$code" = 400 ]
	req PUT "/servers/$SID?tokenId=$TOK" '{"id":"3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"}'
	[ "$code" = 400 ]
	[ ! -e "$mylab_STATE/servers/$SID.json" ]
}

@test "collector: after 48 h (clock_offset) a PUT without token is accepted with a new token" {
	start_collector
	register
	collector_control '{"clock_offset": 172700}'
	req PUT "/servers/$SID" "{\"id\":\"$SID\"}"
	[ "$code" = 401 ]
	collector_control '{"clock_offset": 172801}'
	req PUT "/servers/$SID" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
	local new
	new=$(json_get id <<<"$body")
	[[ $new =~ $UUID4 ]]
	[ "$new" != "$TOK" ]
	# The new token is young again: required from now on.
	req PUT "/servers/$SID" "{\"id\":\"$SID\"}"
	[ "$code" = 401 ]
	req PUT "/servers/$SID?tokenId=$new" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
	[ "$(json_get id <<<"$body")" = "$new" ]
}

@test "collector: an expired token that is still presented is accepted and replaced" {
	start_collector
	register
	collector_control '{"clock_offset": 200000}'
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
	[ "$(json_get id <<<"$body")" != "$TOK" ]
}

@test "collector: rotate_token issues a new token on every PUT" {
	start_collector
	register
	collector_control '{"rotate_token": true}'
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
	local t2
	t2=$(json_get id <<<"$body")
	[ "$t2" != "$TOK" ]
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 401 ]
	req PUT "/servers/$SID?tokenId=$t2" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
	[ "$(json_get id <<<"$body")" != "$t2" ]
}

@test "collector: every request is logged with method, path, query, headers, body" {
	start_collector
	register
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	req PUT "/servers/$SID" "garbage"
	[ "$(collector_request_count)" -eq 3 ]
	[ "$(collector_request_count mylab PUT)" -eq 2 ]
	[ "$(collector_request 0 method)" = POST ]
	[ "$(collector_request 0 path)" = /servers ]
	[ "$(collector_request 0 body)" = "" ]
	[ "$(collector_request 1 path)" = "/servers/$SID" ]
	[ "$(collector_request 1 query)" = "tokenId=$TOK" ]
	[ "$(collector_request 1 body)" = "{\"id\":\"$SID\"}" ]
	[ "$(collector_request 1 headers.Content-Type)" = application/json ]
	[ "$(collector_request -1 status)" = 401 ]
	[ "$(collector_request -1 body)" = garbage ]
}

@test "collector: a base URL with a path works (.../beacon/servers)" {
	start_collector
	req POST /beacon/servers
	[ "$code" = 200 ]
	[ "$(collector_request 0 path)" = /beacon/servers ]
	req GET /nothing
	[ "$code" = 404 ]
}

@test "collector: queued responses are played in order, then normal behaviour" {
	start_collector
	collector_control '{"responses":[{"status":409,"body":"{\"error\":\"exists\"}"},{"status":503,"headers":{"Retry-After":"1"}}]}'
	req POST /servers
	[ "$code" = 409 ]
	[ "$body" = '{"error":"exists"}' ]
	req POST /servers
	[ "$code" = 503 ]
	req POST /servers
	[ "$code" = 200 ]
	[ "$(json_get responses <"$mylab_STATE/control.json")" = "[]" ]
}

@test "collector: match applies a queued entry to one method only" {
	start_collector
	register
	collector_control '{"responses":[{"match":"PUT","status":500}]}'
	req POST /servers
	[ "$code" = 200 ]
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 500 ]
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
}

@test "collector: garbage, oversize and redirect answers" {
	start_collector
	collector_control '{"responses":[{"garbage":true},{"oversize":true},{"redirect":"https://127.0.0.1:1/elsewhere"}]}'
	req POST /servers
	[ "$code" = 200 ]
	run json_get id <<<"$body"
	assert_failure
	req POST /servers
	[ "$code" = 200 ]
	[ "${#body}" -gt 102400 ]
	req POST /servers
	[ "$code" = 302 ]
	[ "${lines[1]}" = "Location: https://127.0.0.1:1/elsewhere" ]
}

@test "collector: delay, close and hang" {
	start_collector
	local t0 t1
	collector_control '{"responses":[{"status":200,"body":"{}","delay":0.6},{"close":true},{"hang":true}]}'
	t0=$(date +%s%N)
	req POST /servers
	t1=$(date +%s%N)
	[ "$code" = 200 ]
	[ $(((t1 - t0) / 1000000)) -ge 600 ]
	req POST /servers
	[[ ${lines[0]} == "ERROR "* ]]
	run https_req --timeout 1 --cacert "$TEST_CA/ca.pem" POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_failure 3
	assert_output_contains "ERROR timeout"
	# The hanging request was still logged.
	[ "$(collector_request_count)" -eq 3 ]
}

@test "collector: global delay applies to every answer" {
	start_collector
	collector_control '{"delay": 0.5}'
	local t0 t1
	t0=$(date +%s%N)
	req POST /servers
	t1=$(date +%s%N)
	[ "$code" = 200 ]
	[ $(((t1 - t0) / 1000000)) -ge 500 ]
}

@test "collector: TLS is trusted only through the test CA (file or hashed dir)" {
	start_collector
	run https_req --capath "$TEST_CA/cadir" POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_success
	assert_output_contains "HTTP 200"
	run https_req --cacert "$TEST_CA/untrusted/ca.pem" POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_failure 3
	assert_output_contains "ERROR tls"
	grep -q tls_error "$mylab_STATE/connections.log"
	start_collector other --untrusted
	run https_req --cacert "$TEST_CA/ca.pem" POST "https://127.0.0.1:$other_PORT/servers"
	assert_failure 3
	assert_output_contains "CERTIFICATE_VERIFY_FAILED"
	start_collector wrong --wrongname
	run https_req --cacert "$TEST_CA/ca.pem" POST "https://127.0.0.1:$wrong_PORT/servers"
	assert_failure 3
	assert_output_contains "ERROR tls"
}

@test "collector: the test CA files are what make_test_ca promises" {
	local f
	for f in ca.pem ca.key server.pem server.key wrongname.pem wrongname.key \
		untrusted/ca.pem untrusted/server.pem untrusted/server.key; do
		[ -s "$TEST_CA/$f" ]
	done
	openssl verify -CAfile "$TEST_CA/ca.pem" "$TEST_CA/server.pem"
	run openssl verify -CAfile "$TEST_CA/ca.pem" "$TEST_CA/untrusted/server.pem"
	assert_failure
	openssl x509 -in "$TEST_CA/server.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1'
	local link
	link=$(compgen -G "$TEST_CA/cadir/????????.0")
	[ "$(readlink "$link")" = ca.pem ]
}

@test "collector: binds 127.0.0.1 only" {
	run "$PY" "$REPO/tests/collector/collector.py" --cert "$TEST_CA/server.pem" \
		--key "$TEST_CA/server.key" --state "$BATS_TEST_TMPDIR/x" --bind 0.0.0.0
	assert_failure
	assert_output_contains "127.x.x.x"
	start_collector
	# /proc/net/tcp: the listening socket (state 0A) is on 127.0.0.1 only.
	run awk -v p=":$(printf '%04X' "$mylab_PORT")" '$4 == "0A" && substr($2, 9) == p { print $2 }' /proc/net/tcp
	assert_output "0100007F:$(printf '%04X' "$mylab_PORT")"
}

@test "collector: a busy fixed port is a clear start failure" {
	start_collector first
	run start_collector second --port "$first_PORT"
	assert_failure
	assert_output_contains "cannot listen"
}

@test "collector: stop_collectors stops the collectors this test started" {
	start_collector a
	start_collector b
	local pa pb
	pa=$(awk '$2 == "collector:a" { print $1 }' "$HARNESS_PIDS")
	pb=$(awk '$2 == "collector:b" { print $1 }' "$HARNESS_PIDS")
	kill -0 "$pa"
	stop_collector a
	refute kill -0 "$pa" 2>/dev/null
	kill -0 "$pb"
	stop_collectors
	refute kill -0 "$pb" 2>/dev/null
	[ ! -s "$HARNESS_PIDS" ]
}

@test "collector: restarted on the same state it still knows its servers" {
	start_collector
	register
	local port=$mylab_PORT
	stop_collector mylab
	start_collector mylab --port "$port"
	req PUT "/servers/$SID?tokenId=$TOK" "{\"id\":\"$SID\"}"
	[ "$code" = 200 ]
}

# ---- proxy ----------------------------------------------------------------------------

@test "proxy: 407 without or with wrong credentials; the password is never logged" {
	start_collector
	start_proxy --user "alice:s3cret-pw"
	run https_req --cacert "$TEST_CA/ca.pem" --proxy "$PROXY_PORT" POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_failure 3
	assert_output_contains "407"
	run https_req --cacert "$TEST_CA/ca.pem" --proxy "$PROXY_PORT" --proxy-user alice:wrong POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_failure 3
	assert_output_contains "407"
	[ "$(collector_request_count)" -eq 0 ]
	[ "$(sed -n 1p "$PROXY_LOG" | json_get auth)" = missing ]
	[ "$(sed -n 2p "$PROXY_LOG" | json_get auth)" = wrong ]
	[ "$(sed -n 2p "$PROXY_LOG" | json_get status)" = 407 ]
	refute grep -q 's3cret-pw' "$PROXY_LOG"
}

@test "proxy: with the right credentials it tunnels to the collector" {
	start_collector
	start_proxy --user "alice:s3cret-pw"
	run https_req --cacert "$TEST_CA/ca.pem" --proxy "$PROXY_PORT" --proxy-user alice:s3cret-pw POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_success
	assert_output_contains "HTTP 200"
	[ "$(collector_request_count)" -eq 1 ]
	local line
	line=$(cat "$PROXY_LOG")
	[ "$(json_get target <<<"$line")" = "127.0.0.1:$mylab_PORT" ]
	[ "$(json_get auth <<<"$line")" = ok ]
	[ "$(json_get user <<<"$line")" = alice ]
	refute grep -q 's3cret-pw' "$PROXY_LOG"
}

@test "proxy: without --user no credentials are needed; only 127.0.0.1 is reachable" {
	start_collector
	start_proxy
	run https_req --cacert "$TEST_CA/ca.pem" --proxy "$PROXY_PORT" POST "https://127.0.0.1:$mylab_PORT/servers"
	assert_success
	[ "$(json_get auth <"$PROXY_LOG")" = not_required ]
	run https_req --timeout 3 --cacert "$TEST_CA/ca.pem" --proxy "$PROXY_PORT" POST "https://localhost:$mylab_PORT/servers"
	assert_failure 3
	assert_output_contains "403"
}

# ---- the helpers themselves -------------------------------------------------------------

@test "helpers: asserts pass and fail as they should, saying what came" {
	status=0 output="hello world"
	assert_success
	assert_output_contains "lo wo"
	refute_output_contains "bye"
	assert_line_count 1
	(status=3 output=x; assert_success) && false
	run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; status=3; output=boom; assert_success"
	assert_failure
	assert_output_contains "expected success (exit 0), got exit 3"
	assert_output_contains "boom"
	run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; status=2; output=abc; assert_failure 4"
	assert_failure
	assert_output_contains "expected exit status 4, got 2"
	run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; status=0; output=abc; assert_output_contains xyz"
	assert_failure
	assert_output_contains "expected the output to contain: xyz"
	run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; status=0; output=abc; refute_output_contains b"
	assert_failure
	run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; output=\$'a\nb'; assert_line_count 3"
	assert_failure
	assert_output_contains "expected 3 output line(s), got 2"
	(status=0 output=''; assert_line_count 0)
	refute false
	run refute true
	assert_failure
	assert_output_contains "expected this to fail, it succeeded: true"
}

@test "helpers: the test environment is isolated" {
	[ "$HOME" = "$BATS_TEST_TMPDIR/home" ]
	[ "$PATH" = "$TEST_BIN:$REPO/tests/libexec:/usr/bin:/bin" ]
	[ "$ASTERISK_STUB_DIR" = "$BATS_TEST_TMPDIR/asterisk" ]
	[ -z "${https_proxy:-}${HTTPS_PROXY:-}${ALL_PROXY:-}${SSL_CERT_FILE:-}" ]
	[[ $BEACON_BIN == /* ]]
	# A stub in TEST_BIN wins over everything.
	printf '#!/bin/sh\necho mine\n' >"$TEST_BIN/asterisk"
	chmod +x "$TEST_BIN/asterisk"
	[ "$(asterisk -rx x)" = mine ]
}

@test "helpers: default_config needs a collector and writes one for it" {
	run default_config
	assert_failure
	start_collector
	default_config
	grep -qx "url = https://127.0.0.1:$mylab_PORT" "$CONFIG"
	grep -qx "ca_path = $TEST_CA/ca.pem" "$CONFIG"
	grep -qx "state_dir = $STATE_DIR" "$CONFIG"
	stamp_set beacon "$(rfc3339_ago 7200)"
	[[ $(stamp_get beacon) =~ $RFC3339 ]]
}
