#!/usr/bin/env bats
# The operator's fleet view (COLLECTOR.md §6) through the real binary:
# HTTP Basic against a crypt(3) hash (none, wrong, right, no hash → 404),
# --hash-password, the filters, the CSV's shape, one server's changes, and
# that nothing of it leaks into the public page.

# shellcheck disable=SC2154  # API_*, SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

setup_file() {
	harness_setup_file
	local bin="${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}"
	FLEET_HASH=$(printf 'correct horse\n' | "$bin" --hash-password)
	export FLEET_HASH
}

# start with the fleet view on (admin / "correct horse"), no rate limits.
start_fleet() {
	start_beacon_collector "collector.admin_password_hash=$FLEET_HASH" \
		limits.requests_per_address_per_minute=0 \
		limits.registrations_per_address_per_hour=0 \
		limits.failed_logins_per_address_per_hour=0 "privacy.min_group=1" \
		"privacy.established_days=1" "$@"
}

AUTH=(-u "admin:correct horse")

# seed NAME VERSION [PYTHON...]: register and report one server; SID set.
seed() {
	local name=$1 version=$2
	shift 2
	register || return 1
	put_report "$SID" "$TOK" "r['private_name'] = '''$name'''" \
		"r['asterisk']['version']['name'] = '$version'" "$@"
	assert_api 200
}

@test "--hash-password: a yescrypt or sha512-crypt hash of stdin's line; no password is a usage error" {
	run_collector --hash-password <<<"s3cret"
	assert_status 0
	[[ $output =~ ^\$(y|6)\$ ]] || flunk "not a \$y\$ or \$6\$ hash: $output"
	local other
	other=$(printf 's3cret\n' | "$COLLECTOR_BIN" --hash-password)
	assert_ne "two hashes of one password (salted)" "$output" "$other"
	run_collector --hash-password </dev/null
	assert_status 2
}

# pty_password STEP...: --hash-password on a pseudo-terminal
# (tests/bats/pty_password.py); its JSON in $output.
pty_password() {
	run "$PY" "$BATS_TEST_DIRNAME/pty_password.py" "$COLLECTOR_BIN" "$@"
	assert_success
}

@test "--hash-password on a terminal: two prompts, the password never echoed, the hash on stdout, echo back on" {
	pty_password type:s3cret type:s3cret
	local shown
	shown=$(json_get transcript <<<"$output")
	assert_eq "exit" 0 "$(json_get exit <<<"$output")"
	assert_eq "prompts" 2 "$(json_get prompts <<<"$output")"
	[[ $shown == "Password: "*"Again: "* ]] || flunk "no prompts: $shown"
	[[ $shown != *s3cret* ]] || flunk "the password was echoed: $shown"
	[[ $shown =~ $'
'\$(y|6)\$[^$'
']+ ]] || flunk "no hash on the terminal: $shown"
	assert_eq "echo restored" true "$(json_get echo <<<"$output")"
	# the hash is one of that password: a server accepts it
	local hash=${BASH_REMATCH[0]#$'
'}
	start_beacon_collector "collector.admin_password_hash=$hash"
	api GET /api/v1/fleet -u "admin:s3cret"
	assert_api 200
}

@test "--hash-password on a terminal: two different answers, an empty one, a signal: exit 2, no hash, echo back on" {
	local shown
	pty_password type:s3cret type:s3cre7
	assert_eq "exit" 2 "$(json_get exit <<<"$output")"
	shown=$(json_get transcript <<<"$output")
	[[ $shown == *"beacon-collector: --hash-password: the two passwords differ"* ]] || flunk "$shown"
	[[ $shown != *'$y$'* && $shown != *s3cre* ]] || flunk "$shown"
	assert_eq "echo restored" true "$(json_get echo <<<"$output")"

	pty_password type:
	assert_eq "exit" 2 "$(json_get exit <<<"$output")"
	[[ $(json_get transcript <<<"$output") == *"--hash-password: empty password"* ]] || flunk "$output"

	# a signal while echo is off: the terminal is put back first
	local sig
	for sig in SIGINT SIGTERM SIGHUP; do
		pty_password type:s3cret "signal:$sig"
		assert_eq "$sig: exit" 2 "$(json_get exit <<<"$output")"
		assert_eq "$sig: prompts" 2 "$(json_get prompts <<<"$output")"
		[[ $(json_get transcript <<<"$output") == *"--hash-password: interrupted"* ]] || flunk "$output"
		assert_eq "$sig: echo restored" true "$(json_get echo <<<"$output")"
	done
}

@test "no admin_password_hash: every fleet path is 404, as if it did not exist" {
	start_beacon_collector "privacy.min_group=1"
	register
	local p
	for p in /fleet /fleet/ "/fleet/$SID" /api/v1/fleet /api/v1/fleet.csv "/api/v1/fleet/$SID"; do
		api GET "$p" "${AUTH[@]}"
		assert_api_error 404
		api GET "$p"
		assert_api_error 404
	done
}

@test "HTTP Basic: none and wrong are 401 with WWW-Authenticate, right is 200" {
	start_fleet
	local p
	for p in /fleet /api/v1/fleet /api/v1/fleet.csv; do
		api GET "$p"
		assert_api_error 401
		assert_eq WWW-Authenticate 'Basic realm="beacon-collector", charset="UTF-8"' \
			"$(api_header WWW-Authenticate)"
		api GET "$p" -u "admin:wrong"
		assert_api_error 401
		api GET "$p" -u "root:correct horse"
		assert_api_error 401
		api GET "$p" -u "admin:correct horse "
		assert_api_error 401
		api GET "$p" -H "Authorization: Basic !!!notbase64"
		assert_api_error 401
		api GET "$p" -H "Authorization: Bearer abc"
		assert_api_error 401
		api GET "$p" "${AUTH[@]}"
		assert_api 200
	done
	# The case of the scheme does not matter (RFC 7617).
	api GET /api/v1/fleet -H "Authorization: basic $(printf 'admin:correct horse' | base64)"
	assert_api 200
	# Only GET and HEAD.
	api POST /api/v1/fleet "${AUTH[@]}"
	assert_api_error 405
	assert_eq Allow "GET, HEAD" "$(api_header Allow)"
}

@test "GET /api/v1/fleet: every server with private_name, version, last seen, state, modules, uptime and calls" {
	start_fleet
	seed "pbx-one" 22.10.1
	local sid=$SID
	api GET /api/v1/fleet "${AUTH[@]}"
	assert_api 200
	assert_api_json
	assert_eq total 1 "$(api_json total)"
	assert_eq id "$sid" "$(api_json servers.0.id)"
	assert_eq private_name pbx-one "$(api_json servers.0.private_name)"
	assert_eq version 22.10.1 "$(api_json servers.0.version)"
	assert_eq active true "$(api_json servers.0.active)"
	assert_eq modules 5 "$(api_json servers.0.modules)"
	assert_eq calls_active 2 "$(api_json servers.0.calls_active)"
	assert_eq calls_processed 1234 "$(api_json servers.0.calls_processed)"
	assert_eq last_seen "$(cat "$BEACON_COLLECTOR_CLOCK_FILE")" "$(api_json servers.0.last_seen)"
	# uptime at the report: the clock minus the fixture's startup_time
	local want=$(($(date -u -d "$(cat "$BEACON_COLLECTOR_CLOCK_FILE")" +%s) - $(date -u -d 2026-11-20T10:00:00Z +%s)))
	assert_eq uptime_seconds "$want" "$(api_json servers.0.uptime_seconds)"
}

@test "filters: ?version= (exact or up to a dot), ?module= (with or without .so), ?stale=1, and together" {
	start_fleet
	seed "old-one" 22.9.0 "r['asterisk']['modules'].append({'name':'chan_sip.so','description':'SIP','status':'Running','support_level':'deprecated'})"
	local stale=$SID
	collector_clock_at $((8 * 86400)) >/dev/null
	seed "sip-box" "Asterisk 22.10.1" "r['asterisk']['modules'].append({'name':'chan_sip.so','description':'SIP','status':'Running','support_level':'deprecated'})"
	local sip=$SID
	seed "pj-box" 20.5.0
	local pj=$SID

	ids() { printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; print(" ".join(sorted(s["id"] for s in json.load(sys.stdin)["servers"])))'; }
	sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

	api GET /api/v1/fleet "${AUTH[@]}"
	assert_eq "all" "$(sorted "$stale" "$sip" "$pj")" "$(ids)"
	api GET "/api/v1/fleet?version=22" "${AUTH[@]}"
	assert_eq "version=22" "$(sorted "$stale" "$sip")" "$(ids)"
	api GET "/api/v1/fleet?version=22.10.1" "${AUTH[@]}"
	assert_eq "version=22.10.1 (reported as 'Asterisk 22.10.1')" "$sip" "$(ids)"
	api GET "/api/v1/fleet?version=2" "${AUTH[@]}"
	assert_eq "version=2 is no prefix of 22" "" "$(ids)"
	api GET "/api/v1/fleet?module=chan_sip" "${AUTH[@]}"
	assert_eq "module=chan_sip" "$(sorted "$stale" "$sip")" "$(ids)"
	api GET "/api/v1/fleet?module=chan_sip.so" "${AUTH[@]}"
	assert_eq "module=chan_sip.so" "$(sorted "$stale" "$sip")" "$(ids)"
	api GET "/api/v1/fleet?stale=1" "${AUTH[@]}"
	assert_eq "stale=1" "$stale" "$(ids)"
	assert_eq "stale is not active" false "$(api_json servers.0.active)"
	api GET "/api/v1/fleet?stale=1&module=chan_sip&version=22" "${AUTH[@]}"
	assert_eq "together" "$stale" "$(ids)"
	api GET "/api/v1/fleet?module=chan_sip&version=20" "${AUTH[@]}"
	assert_eq "nothing matches" "" "$(ids)"
	# A value that SQL would treat as a pattern is only text.
	api GET "/api/v1/fleet?version=%25" "${AUTH[@]}"
	assert_eq "version=%" "" "$(ids)"
	# Pages.
	api GET "/api/v1/fleet?limit=2" "${AUTH[@]}"
	assert_eq "limit=2: total" 3 "$(api_json total)"
	assert_eq "limit=2: rows" 2 "$(printf '%s' "$API_BODY" | jq '.servers | length')"
	api GET "/api/v1/fleet?limit=2&offset=2" "${AUTH[@]}"
	assert_eq "offset=2: rows" 1 "$(printf '%s' "$API_BODY" | jq '.servers | length')"
	api GET "/api/v1/fleet?limit=x" "${AUTH[@]}"
	assert_api_error 400
	# The HTML list filters the same way and shows the state in words.
	api GET "/fleet?module=chan_sip" "${AUTH[@]}"
	assert_api 200
	[[ $API_BODY == *sip-box* && $API_BODY == *old-one* && $API_BODY != *pj-box* ]] ||
		flunk "/fleet?module=chan_sip: $API_BODY"
	[[ $API_BODY == *'>stale<'* && $API_BODY == *'>active<'* ]] || flunk "no state words"
}

@test "GET /api/v1/fleet.csv: a header, one CRLF line per server, 18 fields, quoting and inert formulas" {
	start_fleet
	seed 'Quote "q", comma' 22.10.1
	seed '=HYPERLINK("x")' 20.5.0
	seed 'plain' 18.1.0
	seed "ACME;=cmd|' /C calc'!A0" 18.2.0 \
		"r['operating_system'].update(sys_name='-Linux', release='@6.1', machine='+x86', cpu_count=8, memory_total_kb=4*262144, uptime=7200)"
	api GET /api/v1/fleet.csv "${AUTH[@]}"
	# COLLECTOR.md 6: a cell holding ';' is quoted too (a spreadsheet
	# splitting on ';' must not see a formula).
	[[ $API_BODY == *",\"ACME;=cmd|' /C calc'!A0\","* ]] || flunk "';' not quoted: $API_BODY"
	assert_api 200
	[[ $(api_header Content-Type) == text/csv* ]] || flunk "Content-Type $(api_header Content-Type)"
	cp "$BATS_TEST_TMPDIR/api.body" "$BATS_TEST_TMPDIR/f.csv"
	"$PY" - "$BATS_TEST_TMPDIR/f.csv" <<'PY'
import csv, sys
raw = open(sys.argv[1], newline="").read()
lines = raw.split("\r\n")
assert lines[-1] == "", "no CRLF after the last line"
assert "\n" not in raw.replace("\r\n", ""), "a bare LF"
rows = list(csv.reader(raw.splitlines()))
head = ["id", "private_name", "version", "first_seen", "last_seen", "state",
        "modules", "uptime_seconds", "calls_active", "calls_processed", "reports",
        "cpus", "memory_kb", "sys_name", "kernel", "machine",
        "system_uptime_seconds", "lifecycle"]
assert rows[0] == head, rows[0]
assert len(rows) == 5, rows
for r in rows[1:]:
    assert len(r) == 18, r
    assert r[17] in ("supported", "security", "eol", "unknown"), r
    assert r[5] in ("active", "stale"), r
    assert r[6] == "5" and r[8] == "2" and r[9] == "1234" and r[10] == "1", r
# the operating system's columns, as inert as the name
acme = [r for r in rows[1:] if r[1].startswith("ACME")][0]
assert acme[11:17] == ["8", "1048576", "'-Linux", "'@6.1", "'+x86", "7200"], acme
plain = [r for r in rows[1:] if r[1] == "plain"][0]
assert plain[11:17] == ["", "", "Linux", "6.1.0-28-amd64", "x86_64", ""], plain
names = sorted(r[1] for r in rows[1:])
assert names == ["'=HYPERLINK(\"x\")", "ACME;=cmd|' /C calc'!A0", 'Quote "q", comma', "plain"], names
PY
}

@test "one server: the latest report and what changed since the one before (version, modules added and removed)" {
	start_fleet
	seed "changer" 20.5.0
	local sid=$SID
	api GET "/api/v1/fleet/$sid" "${AUTH[@]}"
	assert_api 200
	assert_eq "first report: no previous" false "$(api_json changes.previous_report)"
	assert_eq "modules_added" "[]" "$(printf '%s' "$API_BODY" | jq -c .changes.modules_added)"
	api GET "/fleet/$sid" "${AUTH[@]}"
	assert_api 200
	[[ $API_BODY == *"first report"* ]] || flunk "$API_BODY"

	collector_clock_at 3600 >/dev/null
	put_report "$sid" "$TOK" "r['private_name'] = 'changer'" \
		"r['asterisk']['version']['name'] = '22.10.1'" \
		"r['asterisk']['modules'] = [m for m in r['asterisk']['modules'] if m['name'] != 'func_curl.so']" \
		"r['asterisk']['modules'].append({'name':'app_voicemail.so','description':'VM','status':'Running','support_level':'core'})" \
		"r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	api GET "/api/v1/fleet/$sid" "${AUTH[@]}"
	assert_api 200
	assert_eq "previous" true "$(api_json changes.previous_report)"
	assert_eq "version from" 20.5.0 "$(api_json changes.version.from)"
	assert_eq "version to" 22.10.1 "$(api_json changes.version.to)"
	assert_eq "added" '["app_queue.so","app_voicemail.so"]' "$(printf '%s' "$API_BODY" | jq -c .changes.modules_added)"
	assert_eq "removed" '["func_curl.so"]' "$(printf '%s' "$API_BODY" | jq -c .changes.modules_removed)"
	assert_eq "report" changer "$(api_json report.private_name)"
	assert_eq "reports" 2 "$(api_json server.reports)"
	api GET "/fleet/$sid" "${AUTH[@]}"
	assert_api 200
	[[ $(api_header Content-Type) == "text/html; charset=utf-8" ]] || flunk "$(api_header Content-Type)"
	[[ $(api_header Content-Security-Policy) == *"default-src 'none'"* ]] || flunk "no CSP"
	local want
	for want in '<li class="added">app_voicemail.so</li>' '<li class="added">app_queue.so</li>' \
		'<li class="removed">func_curl.so</li>' '20.5.0' '22.10.1'; do
		[[ $API_BODY == *"$want"* ]] || flunk "/fleet/ID lacks: $want"
	done
	api GET "/fleet/00000000-0000-4000-8000-000000000000" "${AUTH[@]}"
	assert_api_error 404
	api GET "/fleet/not-a-uuid" "${AUTH[@]}"
	assert_api_error 404
}

@test "the fleet's HTML escapes what a PBX sends; the public page never shows a name or an id" {
	start_fleet
	seed '<script>alert(1)</script> & "x"' 22.10.1 \
		"r['asterisk']['modules'][0]['description'] = '<img src=x onerror=alert(2)>'"
	local sid=$SID
	api GET /fleet "${AUTH[@]}"
	assert_api 200
	[[ $API_BODY != *"<script>alert"* ]] || flunk "unescaped private_name in /fleet"
	[[ $API_BODY == *"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"* ]] || flunk "escaped name missing"
	api GET "/fleet/$sid" "${AUTH[@]}"
	[[ $API_BODY != *"<script>alert"* && $API_BODY != *"<img src=x"* ]] || flunk "unescaped text in /fleet/ID"
	api GET /
	assert_api 200
	[[ $API_BODY != *"$sid"* ]] || flunk "the public page shows a server id"
	[[ $API_BODY != *"alert(1)"* ]] || flunk "the public page shows a private_name"
}

@test "public_stats = no: / asks for the password too (and is 404 without a hash)" {
	start_fleet collector.public_stats=no
	api GET /
	assert_api_error 401
	api GET / "${AUTH[@]}"
	assert_api 200
	stop_beacon_collector
	start_beacon_collector collector.public_stats=no
	api GET /
	assert_api_error 404
}

# ---- issue 21 item 2: a wrong password costs the client, not the service ----

@test "failed_logins_per_address_per_hour (default 10): the 11th wrong password from one address is 429 with Retry-After, the right one too; another address is served" {
	start_fleet limits.failed_logins_per_address_per_hour=-
	local i
	for ((i = 1; i <= 10; i++)); do
		api GET /api/v1/fleet -u "admin:wrong$i" --interface 127.0.0.2
		assert_api_error 401
	done
	api GET /api/v1/fleet -u "admin:wrong11" --interface 127.0.0.2
	assert_api_error 429
	local ra
	ra=$(api_header Retry-After)
	[[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] || flunk "Retry-After: $ra"
	api GET /fleet "${AUTH[@]}" --interface 127.0.0.2
	assert_api_error 429
	# The public pages and the API still answer that address.
	api GET /healthz --interface 127.0.0.2
	assert_api 200
	api GET /api/v1/fleet "${AUTH[@]}" --interface 127.0.0.3
	assert_api 200
	# An hour later the address may try again.
	collector_clock_at 3700
	api GET /api/v1/fleet "${AUTH[@]}" --interface 127.0.0.2
	assert_api 200
}

@test "failed_logins_per_address_per_hour = 0: no limit" {
	start_fleet
	local i
	for ((i = 1; i <= 12; i++)); do
		api GET /api/v1/fleet -u "admin:wrong$i" --interface 127.0.0.4
		assert_api_error 401
	done
	api GET /api/v1/fleet "${AUTH[@]}" --interface 127.0.0.4
	assert_api 200
}

@test "password checks run off the request threads: a flood of wrong passwords from 16 addresses gets 401 or 503 at once, never holds up /healthz, and the right password stays served" {
	start_fleet
	local i j out="$BATS_TEST_TMPDIR/flood" pids=()
	mkdir -p "$out"
	# 64 wrong-password requests at once from 127.0.0.10..25 (bounded:
	# each curl 20 s at most).
	for ((i = 10; i < 26; i++)); do
		for ((j = 0; j < 4; j++)); do
			curl -s --max-time 20 --cacert "$TEST_CA/ca.pem" --interface "127.0.0.$i" \
				-u "admin:wrong-$i-$j" -o /dev/null -w '%{http_code}\n' \
				"$BC_URL/api/v1/fleet" >"$out/$i.$j" 3>&- &
			pids+=($!)
		done
	done
	# While they are queued: /healthz and a public page are answered by
	# the request threads, which never run crypt(3).
	API_TIMEOUT=5 api GET /healthz --interface 127.0.0.5
	assert_api 200
	API_TIMEOUT=5 api GET / --interface 127.0.0.5
	assert_api 200
	wait "${pids[@]}"
	local n401 n503
	n401=$(cat "$out"/* | grep -c '^401$' || true)
	n503=$(cat "$out"/* | grep -c '^503$' || true)
	assert_eq "every flood answer 401 or 503" 64 "$((n401 + n503))"
	# At most AUTH_QUEUE_MAX wait: the rest are refused at once.
	[ "$n503" -ge 1 ] || flunk "no 503: the checks were not bounded ($n401 x 401)"
	api GET /api/v1/fleet "${AUTH[@]}" --interface 127.0.0.6
	assert_api 200
	# Remembered: the same credentials again need no check (still 200).
	api GET /fleet "${AUTH[@]}" --interface 127.0.0.6
	assert_api 200
}

# ---- issue 22: sorting, the new filters, the system's columns, the history ----

# ids_in_order: the ids of the JSON list in $API_BODY, in its order.
ids_in_order() {
	printf '%s' "$API_BODY" | jq -r '[.servers[].id] | join(" ")'
}

# names_in_order: the private_names of the JSON list in $API_BODY, in order.
names_in_order() {
	printf '%s' "$API_BODY" | jq -r '[.servers[].private_name] | join(",")'
}

# os PYTHON-DICT: a put_report statement setting operating_system fields.
os() {
	printf "r['operating_system'].update(%s)" "$1"
}

@test "fleet: every server with its CPUs, memory, system, kernel, machine and system uptime (JSON, HTML)" {
	start_fleet
	seed "arm-box" 22.10.1 "$(os "machine='aarch64', release='6.12.5-arm64', cpu_count=4, memory_total_kb=6*262144, uptime=3*86400")"
	local sid=$SID
	api GET /api/v1/fleet "${AUTH[@]}"
	assert_api 200
	assert_eq cpus 4 "$(api_json servers.0.cpus)"
	assert_eq memory_kb 1572864 "$(api_json servers.0.memory_kb)"
	assert_eq sys_name Linux "$(api_json servers.0.sys_name)"
	assert_eq kernel 6.12.5-arm64 "$(api_json servers.0.kernel)"
	assert_eq machine aarch64 "$(api_json servers.0.machine)"
	assert_eq system_uptime_seconds 259200 "$(api_json servers.0.system_uptime_seconds)"
	api GET /fleet "${AUTH[@]}"
	assert_api 200
	local want
	for want in '>CPUs' '>Memory' '>System' '>Machine' '>Kernel' '1.50 GiB' 'aarch64' '6.12.5-arm64'; do
		[[ $API_BODY == *"$want"* ]] || flunk "/fleet lacks $want"
	done
	api GET "/fleet/$sid" "${AUTH[@]}"
	for want in '<dt>CPUs</dt><dd>4</dd>' '<dt>Memory</dt><dd>1.50 GiB</dd>' '<dt>System uptime</dt><dd>3 d 0 h</dd>'; do
		[[ $API_BODY == *"$want"* ]] || flunk "/fleet/ID lacks $want"
	done
	# Not reported (an older beacon-report): null, never 0.
	seed "old-reporter" 22.10.1
	api GET "/api/v1/fleet?q=old-reporter" "${AUTH[@]}"
	assert_eq "cpus unknown" null "$(api_json servers.0.cpus)"
	assert_eq "memory unknown" null "$(api_json servers.0.memory_kb)"
}

@test "fleet filters: ?q= (part of the name, any case), ?version=18 takes certified/18.9-cert5, ?machine=, ?kernel=, together" {
	start_fleet
	seed "ACME Berlin" 22.10.1 "$(os "machine='aarch64', release='6.12.5-arm64'")"
	local berlin=$SID
	seed "acme-paris" "certified/18.9-cert5" "r['asterisk']['version']['number'] = '180905'"
	local paris=$SID
	seed "Other Co" 18.2.0 "$(os "release='5.10.0-30-amd64'")"
	local other=$SID
	seed "unnamed-22" 22.1.0
	local u22=$SID

	sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
	ids() { printf '%s' "$API_BODY" | jq -r '[.servers[].id] | sort | join(" ")'; }

	api GET "/api/v1/fleet?q=acme" "${AUTH[@]}"
	assert_api 200
	assert_eq "q=acme" "$(sorted "$berlin" "$paris")" "$(ids)"
	assert_eq "q=acme: total" 2 "$(api_json total)"
	api GET "/api/v1/fleet?q=BERL" "${AUTH[@]}"
	assert_eq "q=BERL" "$berlin" "$(ids)"
	api GET "/api/v1/fleet?q=%25" "${AUTH[@]}"
	assert_eq "q=% is only text" "" "$(ids)"
	api GET "/api/v1/fleet?version=18" "${AUTH[@]}"
	assert_eq "version=18: certified/18.9-cert5 is 18" "$(sorted "$paris" "$other")" "$(ids)"
	api GET "/api/v1/fleet?version=18.9" "${AUTH[@]}"
	assert_eq "version=18.9" "$paris" "$(ids)"
	api GET "/api/v1/fleet?version=certified/18.9-cert5" "${AUTH[@]}"
	assert_eq "version=certified/18.9-cert5" "$paris" "$(ids)"
	api GET "/api/v1/fleet?version=22.1" "${AUTH[@]}"
	assert_eq "version=22.1 is not 22.10" "$u22" "$(ids)"
	api GET "/api/v1/fleet?machine=AARCH64" "${AUTH[@]}"
	assert_eq "machine=AARCH64" "$berlin" "$(ids)"
	api GET "/api/v1/fleet?kernel=5.10" "${AUTH[@]}"
	assert_eq "kernel=5.10" "$other" "$(ids)"
	api GET "/api/v1/fleet?machine=x86_64&version=18&q=co" "${AUTH[@]}"
	assert_eq "together" "$other" "$(ids)"
	# the CSV and the page filter the same way
	api GET "/api/v1/fleet.csv?q=acme" "${AUTH[@]}"
	assert_eq "csv rows" 3 "$(printf '%s' "$API_BODY" | tr -d '\r' | grep -c .)"
	api GET "/fleet?q=acme&version=18" "${AUTH[@]}"
	[[ $API_BODY == *acme-paris* && $API_BODY != *"ACME Berlin"* && $API_BODY != *"Other Co"* ]] ||
		flunk "/fleet?q=acme&version=18: $API_BODY"
	[[ $API_BODY == *'name="q" placeholder="part of a name" value="acme"'* ]] || flunk "the form forgot q"
	api GET "/api/v1/fleet?q=$(printf 'x%.0s' {1..201})" "${AUTH[@]}"
	assert_api_error 400
}

@test "fleet sorting: ?sort=COL&order=asc|desc on every format, versions in numeric order, stable pages, header links without JavaScript" {
	start_fleet
	seed "bravo" 22.10.1 "$(os "cpu_count=2, memory_total_kb=2*262144")"
	local b=$SID
	seed "Alpha" 9.0.0 "$(os "cpu_count=16, memory_total_kb=64*262144")"
	local a=$SID
	seed "charlie" "certified/18.9-cert5" "$(os "cpu_count=8")"
	local c=$SID
	seed "delta" 22.2.0 "$(os "memory_total_kb=262144")"
	local d=$SID

	api GET "/api/v1/fleet?sort=name" "${AUTH[@]}"
	assert_api 200
	assert_eq "name (asc by default, any case)" "Alpha,bravo,charlie,delta" "$(names_in_order)"
	api GET "/api/v1/fleet?sort=name&order=desc" "${AUTH[@]}"
	assert_eq "name desc" "delta,charlie,bravo,Alpha" "$(names_in_order)"
	api GET "/api/v1/fleet?sort=version&order=asc" "${AUTH[@]}"
	assert_eq "version: 9 < 18.9-cert5 < 22.2 < 22.10" "Alpha,charlie,delta,bravo" "$(names_in_order)"
	api GET "/api/v1/fleet?sort=cpus" "${AUTH[@]}"
	assert_eq "cpus (desc by default; unknown last)" "Alpha,charlie,bravo,delta" "$(names_in_order)"
	api GET "/api/v1/fleet?sort=memory&order=asc" "${AUTH[@]}"
	assert_eq "memory asc (unknown first)" "charlie,delta,bravo,Alpha" "$(names_in_order)"
	api GET "/api/v1/fleet?sort=name&q=nobody" "${AUTH[@]}"
	assert_api 200
	assert_eq "sorted, nothing matches" 0 "$(api_json total)"
	# a page of a sorted list is that part of the whole order
	api GET "/api/v1/fleet?sort=name&limit=2&offset=2" "${AUTH[@]}"
	assert_eq "page 2" "charlie,delta" "$(names_in_order)"
	assert_eq "page 2: total" 4 "$(api_json total)"
	api GET "/api/v1/fleet.csv?sort=name&order=desc" "${AUTH[@]}"
	assert_eq "csv order" "delta,charlie,bravo,Alpha" "$(printf '%s' "$API_BODY" | tr -d '\r' | tail -n +2 | cut -d, -f2 | paste -sd,)"
	for bad in "sort=nope" "sort=name&order=up" "order=sideways" "sort=id;drop"; do
		api GET "/api/v1/fleet?$bad" "${AUTH[@]}"
		assert_api_error 400
	done
	# The page: each header a plain link; the sorted one says so and
	# links to the other order; the filters ride along.
	api GET "/fleet?sort=name&order=asc&module=app_dial" "${AUTH[@]}"
	assert_api 200
	[[ $API_BODY != *"<script"* ]] || flunk "JavaScript on /fleet"
	[[ $API_BODY == *'aria-sort="ascending"><a href="/fleet?sort=name&amp;order=desc&amp;module=app_dial">Name'* ]] ||
		flunk "no link to the other order: $API_BODY"
	[[ $API_BODY == *'<a href="/fleet?sort=cpus&amp;order=desc&amp;module=app_dial">CPUs</a>'* ]] ||
		flunk "no sort link on CPUs"
	local pos_a pos_d
	pos_a=$(grep -bo '>Alpha<' <<<"$API_BODY" | head -1 | cut -d: -f1)
	pos_d=$(grep -bo '>delta<' <<<"$API_BODY" | head -1 | cut -d: -f1)
	((pos_a < pos_d)) || flunk "the page is not sorted by name"
	: "$b $c $d $a"
}

# history SID: the JSON history of SID as "kind=detail" lines, newest first.
history() {
	api GET "/api/v1/fleet/$1" "${AUTH[@]}"
	assert_api 200
	printf '%s' "$API_BODY" | jq -r '.history[] | "\(.kind)=\(.detail)"'
}

@test "fleet history: each accepted report's changes, dated, newest first (version, modules, private_name); a refused report writes none" {
	start_fleet
	seed "changer" 20.5.0
	local sid=$SID tok
	tok=$TOK
	assert_eq "first report" "first_report=20.5.0" "$(history "$sid")"
	collector_clock_at 86400 >/dev/null
	put_report "$sid" "$tok" "r['private_name'] = 'changer-2'" \
		"r['asterisk']['version']['name'] = '22.10.1'" \
		"r['asterisk']['modules'] = [m for m in r['asterisk']['modules'] if m['name'] != 'func_curl.so']" \
		"r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	tok=$(api_json id)
	# Too soon (min_update_interval, 30 min): refused, nothing recorded.
	collector_clock_at $((86400 + 60)) >/dev/null
	put_report "$sid" "$tok" "r['asterisk']['version']['name'] = '23.0.0'"
	assert_api_error 429
	# The same report a day later: no change, no row.
	collector_clock_at $((2 * 86400)) >/dev/null
	put_report "$sid" "$tok" "r['private_name'] = 'changer-2'" \
		"r['asterisk']['version']['name'] = '22.10.1'" \
		"r['asterisk']['modules'] = [m for m in r['asterisk']['modules'] if m['name'] != 'func_curl.so']" \
		"r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	tok=$(api_json id)
	assert_eq "history" "$(printf '%s\n' "version=20.5.0 -> 22.10.1" "private_name=changer-2" \
		"module_removed=func_curl.so" "module_added=app_queue.so" "first_report=20.5.0")" "$(history "$sid")"
	local day1 day0
	day1=$(date -u -d "@$((CLOCK0 + 86400))" +%Y-%m-%dT%H:%M:%SZ)
	day0=$(date -u -d "@$CLOCK0" +%Y-%m-%dT%H:%M:%SZ)
	api GET "/api/v1/fleet/$sid" "${AUTH[@]}"
	assert_eq "dates" "$(printf '%s\n' "$day1" "$day1" "$day1" "$day1" "$day0")" \
		"$(printf '%s' "$API_BODY" | jq -r '.history[].at')"
	assert_eq "history_days" 730 "$(api_json history_days)"
	assert_eq "rows stored" 5 "$(db_sql "SELECT count(*) FROM server_changes WHERE server_id = '$sid'")"
	api GET "/fleet/$sid" "${AUTH[@]}"
	local want
	for want in 'History of changes' "<time datetime=\"$day1\">$day1</time>" 'Version 20.5.0 -&gt; 22.10.1' \
		'<span class="added">+ module app_queue.so</span>' 'module func_curl.so</span>' \
		'Name set to changer-2' 'First report: 20.5.0'; do
		[[ $API_BODY == *"$want"* ]] || flunk "/fleet/ID lacks: $want"
	done
	# Removing the name is a change too.
	collector_clock_at $((3 * 86400)) >/dev/null
	put_report "$sid" "$tok" "r['asterisk']['version']['name'] = '22.10.1'" \
		"r['asterisk']['modules'] = [m for m in r['asterisk']['modules'] if m['name'] != 'func_curl.so']" \
		"r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	assert_eq "name removed" "private_name=" "$(history "$sid" | head -1)"
	api GET "/fleet/$sid" "${AUTH[@]}"
	[[ $API_BODY == *'Name removed'* ]] || flunk "no 'Name removed'"
}

@test "fleet history: kept history_days (pruned at the next report and at start), deleted with the server by retention" {
	start_fleet limits.min_update_interval=0 privacy.history_days=2
	seed "pruned" 20.5.0
	local sid=$SID tok=$TOK
	seed "other" 20.5.0
	local other=$SID
	collector_clock_at 86400 >/dev/null
	put_report "$sid" "$tok" "r['private_name'] = 'pruned'" "r['asterisk']['version']['name'] = '21.0.0'"
	assert_api 200
	tok=$(api_json id)
	assert_eq "two rows" 2 "$(db_sql "SELECT count(*) FROM server_changes WHERE server_id = '$sid'")"
	# Three days after the first report: the page shows only the last two
	# days, and the next report prunes the server's older rows.
	collector_clock_at $((3 * 86400)) >/dev/null
	assert_eq "shown" "version=20.5.0 -> 21.0.0" "$(history "$sid")"
	put_report "$sid" "$tok" "r['private_name'] = 'pruned'" "r['asterisk']['version']['name'] = '22.0.0'"
	assert_api 200
	assert_eq "pruned at the report" "$(printf '%s\n' "version=21.0.0 -> 22.0.0" "version=20.5.0 -> 21.0.0")" \
		"$(db_sql "SELECT kind || '=' || detail FROM server_changes WHERE server_id = '$sid' ORDER BY at DESC")"
	# The other server's old row goes at the next start (retention's prune).
	assert_eq "other: still stored" 1 "$(db_sql "SELECT count(*) FROM server_changes WHERE server_id = '$other'")"
	stop_beacon_collector
	start_fleet limits.min_update_interval=0 privacy.history_days=2
	assert_eq "other: pruned at start" 0 "$(db_sql "SELECT count(*) FROM server_changes WHERE server_id = '$other'")"
	assert_eq "this one: kept" 2 "$(db_sql "SELECT count(*) FROM server_changes WHERE server_id = '$sid'")"
	# Retention deletes the server and its history with it.
	stop_beacon_collector
	collector_clock_at $((10 * 86400)) >/dev/null
	start_fleet limits.min_update_interval=0 privacy.history_days=30 privacy.retention_days=5
	assert_eq "server deleted" 0 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$sid'")"
	assert_eq "its history too" 0 "$(db_sql "SELECT count(*) FROM server_changes")"
}
