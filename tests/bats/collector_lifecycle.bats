#!/usr/bin/env bats
# Asterisk's release lifecycle in the collector (COLLECTOR.md §6, issue
# 23) through the real binary, on SQLite and (tests/run's second pass)
# PostgreSQL: the notice in the PUT answer, the share per status in
# /api/v1/stats, --stats and /metrics, and the data file's errors.  The
# collector reads the repository's conf/asterisk-lifecycle.ini
# (collector_helpers); its clock is 2026-12-06, when 16 and 21 are past
# end of life, 20 gets security fixes only and 22 is fully supported.

# shellcheck disable=SC2154  # API_*, SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

LIFECYCLE="$BATS_TEST_DIRNAME/../../conf/asterisk-lifecycle.ini"


# at TIME: the collector's clock from now on, before it starts.
at() {
	export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/collector.clock"
	echo "$1" >"$BEACON_COLLECTOR_CLOCK_FILE"
}

# put_version VERSION NUMBER: register a server and PUT a report of that
# Asterisk version; the answer in API_*.
put_version() {
	register || return 1
	put_report "$SID" "$TOK" "r['asterisk']['version'] = {'name': '$1', 'number': '$2'}"
}

# notices_of_answer: the notices of the last answer as "id|kind|text"
# lines, "none" when it has no notices member; checks the members.
notices_of_answer() {
	printf '%s' "$API_BODY" | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
assert sorted(k for k in o if k != "notices") == ["id", "issued"], o
if "notices" not in o:
    print("none")
for n in o.get("notices", []):
    assert sorted(n) == ["id", "kind", "text"], n
    assert "\n" not in n["text"] and len(n["text"]) <= 200, n
    print("%s|%s|%s" % (n["id"], n["kind"], n["text"]))'
}

@test "PUT from Asterisk 16.30.1: the 200 answer carries the token and an end-of-life notice with a stable id" {
	at 2026-12-06T12:00:00Z
	start_beacon_collector
	put_version "16.30.1" 163001
	assert_api 200
	assert_eq notices "lifecycle-16-eol|lifecycle|Asterisk 16 reached its end of life on 2023-10-09; it gets no fixes, not even for security: upgrade to a supported version" "$(notices_of_answer)"
	# the same notice, same id, on the next report
	set_collector_clock 2026-12-06T13:00:00Z
	put_report "$SID" "$TOK" "r['asterisk']['version'] = {'name': '16.30.1', 'number': '163001'}"
	assert_api 200
	assert_eq "id again" "lifecycle-16-eol" "$(notices_of_answer | cut -d'|' -f1)"
}

@test "PUT: security-fix-only 20.x gets its notice; 22.x, an unknown 99.x, a git build and a certified series the file lacks get none" {
	at 2026-12-06T12:00:00Z
	start_beacon_collector
	put_version "20.17.0" 201700
	assert_api 200
	assert_eq notices "lifecycle-20-security|lifecycle|Asterisk 20 gets security fixes only since 2026-10-19 and reaches its end of life on 2027-10-19: plan an upgrade" "$(notices_of_answer)"
	local v
	for v in "22.10.1 221001" "99.1.0 990100" "GIT-master-1234abc 0" "certified/18.9-cert5 180905"; do
		put_version ${v% *} ${v#* }
		assert_api 200
		assert_eq "notices of ${v% *}" none "$(notices_of_answer)"
	done
	# the status follows the day: before 2026-10-19, 20.x was fully supported
	set_collector_clock 2026-10-18T12:00:00Z
	put_version "20.17.0" 201700
	assert_api 200
	assert_eq "20.x on 2026-10-18" none "$(notices_of_answer)"
}

@test "/api/v1/stats, --stats and /metrics: the active servers per lifecycle status, computed on the day they are read" {
	at 2026-12-06T12:00:00Z
	start_beacon_collector privacy.min_group=1 privacy.established_days=1
	local v
	for v in "16.30.1 163001" "16.25.0 162500" "20.17.0 201700" "22.10.1 221001" "99.1.0 990100"; do
		put_version ${v% *} ${v#* }
		assert_api 200
	done
	api GET /api/v1/stats
	assert_api 200
	assert_eq lifecycle '[{"status": "eol", "servers": 2, "share": 0.4}, {"status": "security", "servers": 1, "share": 0.2}, {"status": "supported", "servers": 1, "share": 0.2}, {"status": "unknown", "servers": 1, "share": 0.2}]' \
		"$(printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["lifecycle"]))')"
	# today's history point has the same split
	assert_eq "history today" '{"eol": 2, "security": 1, "supported": 1, "unknown": 1}' \
		"$(printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["history"][-1]["lifecycle"], sort_keys=True))')"
	api GET /metrics
	assert_api 200
	local m
	m=$(printf '%s\n' "$API_BODY" | grep '^beacon_servers_lifecycle')
	assert_eq metrics 'beacon_servers_lifecycle{status="eol"} 2
beacon_servers_lifecycle{status="security"} 1
beacon_servers_lifecycle{status="supported"} 1
beacon_servers_lifecycle{status="unknown"} 1' "$m"
	run_collector --stats -c "$BC_INI"
	assert_eq "--stats status" 0 "$status"
	assert_output_contains "Release lifecycle"
	[[ $output == *"eol                                     2   40.0%"* ]] || flunk "--stats: $output"
}

@test "k-anonymity: a status of fewer than min_group servers is merged into other" {
	at 2026-12-06T12:00:00Z
	start_beacon_collector privacy.min_group=2 privacy.established_days=1
	local v
	for v in "16.30.1 163001" "16.25.0 162500" "22.10.1 221001"; do
		put_version ${v% *} ${v#* }
		assert_api 200
	done
	api GET /api/v1/stats
	assert_eq lifecycle '[{"status": "eol", "servers": 2}, {"status": "other", "servers": 1}]' \
		"$(printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; print(json.dumps([{k: g[k] for k in ("status", "servers")} for g in json.load(sys.stdin)["lifecycle"]]))')"
}

@test "the lifecycle file: malformed or missing when named is a configuration error FILE:LINE (exit 3); stale is a warning" {
	at 2026-12-06T12:00:00Z
	BC_PORT=1 BC_CERT="$TEST_CA/server.pem" BC_KEY="$TEST_CA/server.key" BC_DATABASE="sqlite:$BATS_TEST_TMPDIR/c.db" \
		write_collector_ini "$BATS_TEST_TMPDIR/c.ini" "collector.lifecycle=$BATS_TEST_TMPDIR/lc.ini"
	printf '[lifecycle]\nlast_checked = 2026-12-01\n\n[16]\nkind = lts\nreleased = 2018-10-09\nend_of_life = someday\n' >"$BATS_TEST_TMPDIR/lc.ini"
	run_collector --check-config -c "$BATS_TEST_TMPDIR/c.ini"
	assert_eq status 3 "$status"
	assert_eq stderr "beacon-collector: $BATS_TEST_TMPDIR/lc.ini:7: end_of_life: \"someday\" is not a date YYYY-MM-DD" "$stderr"
	rm "$BATS_TEST_TMPDIR/lc.ini"
	run_collector --check-config -c "$BATS_TEST_TMPDIR/c.ini"
	assert_eq status 3 "$status"
	assert_eq stderr "beacon-collector: $BATS_TEST_TMPDIR/lc.ini: cannot read: No such file or directory" "$stderr"
	# the shipped file, checked more than 180 days ago
	sed 's/^last_checked = .*/last_checked = 2026-01-02/' "$LIFECYCLE" >"$BATS_TEST_TMPDIR/lc.ini"
	run_collector --check-config -c "$BATS_TEST_TMPDIR/c.ini"
	assert_eq status 0 "$status"
	assert_output_contains "c.ini: ok"
	[[ $stderr == *"lc.ini was last checked on 2026-01-02, 338 days ago"* ]] || flunk "no stale warning: $stderr"
	# 180 days: no warning
	sed 's/^last_checked = .*/last_checked = 2026-06-09/' "$LIFECYCLE" >"$BATS_TEST_TMPDIR/lc.ini"
	run_collector --check-config -c "$BATS_TEST_TMPDIR/c.ini"
	assert_eq status 0 "$status"
	assert_eq stderr "" "$stderr"
}

@test "fleet view: a lifecycle column in HTML, JSON and CSV, and ?lifecycle=eol|security|supported|unknown filters (paged)" {
	at 2026-12-06T12:00:00Z
	local hash
	hash=$(printf 'pw\n' | "$COLLECTOR_BIN" --hash-password)
	start_beacon_collector "collector.admin_password_hash=$hash" privacy.min_group=1
	local v
	for v in "16.30.1 163001" "16.25.0 162500" "21.4.0 210400" "20.17.0 201700" "22.10.1 221001" "99.1.0 990100"; do
		put_version ${v% *} ${v#* }
		assert_api 200
	done
	api GET "/api/v1/fleet" -u admin:pw
	assert_api 200
	assert_eq "version → lifecycle" '16.25.0=eol 16.30.1=eol 20.17.0=security 21.4.0=eol 22.10.1=supported 99.1.0=unknown' \
		"$(printf '%s' "$API_BODY" | jq -r '[.servers[] | "\(.version)=\(.lifecycle)"] | sort | join(" ")')"
	api GET "/api/v1/fleet?lifecycle=eol" -u admin:pw
	assert_api 200
	assert_eq "eol total" 3 "$(api_json total)"
	assert_eq "eol versions" '16.25.0 16.30.1 21.4.0' "$(printf '%s' "$API_BODY" | jq -r '[.servers[].version] | sort | join(" ")')"
	# a page of the filtered list: the total stays the filter's
	api GET "/api/v1/fleet?lifecycle=eol&limit=2&offset=2" -u admin:pw
	assert_eq "page total" 3 "$(api_json total)"
	assert_eq "page rows" 1 "$(printf '%s' "$API_BODY" | jq '.servers | length')"
	for v in "security 20.17.0" "supported 22.10.1" "unknown 99.1.0"; do
		api GET "/api/v1/fleet?lifecycle=${v% *}" -u admin:pw
		assert_eq "${v% *}" "${v#* }" "$(printf '%s' "$API_BODY" | jq -r '[.servers[].version] | join(" ")')"
	done
	# combined with another filter
	api GET "/api/v1/fleet?lifecycle=eol&version=16" -u admin:pw
	assert_eq "eol and 16" 2 "$(api_json total)"
	api GET "/api/v1/fleet?lifecycle=ancient" -u admin:pw
	assert_api_error 400
	api GET "/api/v1/fleet.csv?lifecycle=security" -u admin:pw
	assert_api 200
	[[ $API_BODY == *',20.17.0,'*',security'$'\r' ]] || flunk "CSV: $API_BODY"
	api GET "/fleet?lifecycle=eol" -u admin:pw
	assert_api 200
	[[ $API_BODY == *'<th scope="col"><a href="/fleet?sort=lifecycle&amp;order=asc&amp;lifecycle=eol">Lifecycle</a></th>'* ]] || flunk "no Lifecycle column (a sort link, the filter kept)"
	[[ $(grep -o '<span class="badge lc-eol">end of life</span>' <<<"$API_BODY" | wc -l) == 3 ]] || flunk "not 3 end-of-life badges: $API_BODY"
	[[ $API_BODY == *'<option value="eol" selected>'* ]] || flunk "the filter is not shown as selected"
	# one server's page says it too
	api GET "/api/v1/fleet/$SID" -u admin:pw
	assert_eq "one server" unknown "$(api_json server.lifecycle)"
}
