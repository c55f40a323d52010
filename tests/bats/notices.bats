#!/usr/bin/env bats
# A server's notices (issue 23, CONTRACT §6 and §8): the real beacon-report
# with the stand-in Asterisk against the real beacon-collector, which
# reads the repository's conf/asterisk-lifecycle.ini and answers a PBX on
# an end-of-life Asterisk with a notice beside the token.  The reporter
# shows it on the run's line, in --json and in --show; under -q once, and
# again after 30 days (test clocks: BEACON_REPORT_NOW and the collector's
# clock file, moved together).  A malformed list, from the python test
# collector, is a warning and a successful report.

# shellcheck disable=SC2154  # BC_*, CLOCK0: collector_helpers; stderr: run
load helpers
load collector_helpers

D=86400
EOL_TEXT="Asterisk 16 reached its end of life on 2023-10-09; it gets no fixes, not even for security: upgrade to a supported version"
EOL_LINE="mylab: sent; notice: $EOL_TEXT"

# notices_setup [VERSION_FIXTURE]: the real collector as [mylab], the
# stand-in Asterisk answering `core show version` from that variant
# (none: the 22.10.1 capture).
notices_setup() {
	start_beacon_collector "collector.lifecycle=$REPO/conf/asterisk-lifecycle.ini" || return 1
	if [ -n "${1:-}" ]; then
		asterisk_answer "core show version" <"${FIXTURES:-$REPO/tests/fixtures}/variants/$1" || return 1
	fi
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[mylab]
type = server
url = $BC_URL
ca_path = $TEST_CA/ca.pem
EOF
}

# The "notices" of the first server of a --json run's output.
json_notices() {
	printf '%s' "$output" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["servers"][0]["notices"]))'
}

@test "notices: Asterisk 16.30.1 gets the end-of-life notice on its line, in --json, in --show (with the date received)" {
	notices_setup core_show_version_16.txt
	report_at 0 -s mylab
	assert_success
	assert_output "$EOL_LINE"
	assert_eq stderr "" "$stderr"
	# the report said 16.30.1: that is why
	assert_eq "version the collector got" "Asterisk 16.30.1" \
		"$(stored_report "$(astdb_get beacon/mylab server_id)" | json_get asterisk.version.name)"

	report_at 3600 -s mylab -f --json
	assert_success
	assert_eq "json notices" "[{\"id\": \"lifecycle-16-eol\", \"kind\": \"lifecycle\", \"text\": \"$EOL_TEXT\"}]" "$(json_notices)"
	assert_eq result sent "$(printf '%s' "$output" | json_get servers.0.result)"

	BEACON_REPORT_NOW=$(at_iso 3700) run --separate-stderr beacon -c "$CONFIG" -s mylab --show
	assert_success
	assert_output_contains "Notices from the servers:
  mylab: received $(at_iso 3600)
    $EOL_TEXT [lifecycle-16-eol]"
	BEACON_REPORT_NOW=$(at_iso 3700) run --separate-stderr beacon -c "$CONFIG" -s mylab --show --json
	assert_success
	assert_eq "show --json" "$(at_iso 3600) lifecycle-16-eol lifecycle" \
		"$(printf '%s' "$output" | "$PY" -c 'import json,sys
s = json.load(sys.stdin)["servers"][0]["notices"]
print(s["received"], s["notices"][0]["id"], s["notices"][0]["kind"])')"
	# the file in state_dir holds them; --reset forgets it with the rest
	[ -f "$STATE_DIR/mylab.notices" ] || flunk "no mylab.notices in state_dir"
	BEACON_REPORT_NOW=$(at_iso 3800) run --separate-stderr beacon -c "$CONFIG" -s mylab --reset
	assert_success
	[ ! -e "$STATE_DIR/mylab.notices" ] || flunk "--reset left mylab.notices"
}

@test "notices: Asterisk 22.10.1 gets none: a plain line, an empty list, --show says none, -q silent" {
	notices_setup
	report_at 0 -s mylab
	assert_success
	assert_output "mylab: sent"
	report_at 3600 -s mylab -f --json
	assert_success
	assert_eq "json notices" "[]" "$(json_notices)"
	report_at 7200 -s mylab -f -q
	assert_success
	assert_output ""
	assert_eq stderr "" "$stderr"
	BEACON_REPORT_NOW=$(at_iso 7300) run --separate-stderr beacon -c "$CONFIG" -s mylab --show
	assert_output_contains "Notices from the servers:
  mylab: none"
	[ ! -e "$STATE_DIR/mylab.notices" ] || flunk "a notices file with nothing to tell"
}

@test "notices: -q prints a notice the first time, not on the next runs, and again after 30 days" {
	notices_setup core_show_version_16.txt
	report_at 0 -s mylab -q
	assert_success
	assert_output "$EOL_LINE"
	assert_eq stderr "" "$stderr"
	report_at 3600 -s mylab -q -f
	assert_success
	assert_output ""
	report_at $((29 * D)) -s mylab -q -f
	assert_success
	assert_output ""
	assert_eq stderr "" "$stderr"
	report_at $((30 * D)) -s mylab -q -f
	assert_success
	assert_output "$EOL_LINE"
	report_at $((30 * D + 3600)) -s mylab -q -f
	assert_success
	assert_output ""
	# without -q the line always says it
	report_at $((30 * D + 7200)) -s mylab -f
	assert_success
	assert_output "$EOL_LINE"
	# and each report reached the collector
	assert_eq reports 6 "$(db_sql "SELECT reports FROM servers WHERE id = '$(astdb_get beacon/mylab server_id)'")"
}

@test "notices: a malformed list (python collector) is a warning and a successful report; -q stays silent" {
	start_collector
	default_config
	local bad
	for bad in '{"id": "x"}' '"upgrade now"' '[{"id": "a b", "kind": "k", "text": "t"}]' \
		'[{"id": 7, "kind": "k", "text": "t"}]' \
		"[$(printf '{"id":"n%d","kind":"k","text":"t"},' 1 2 3 4 5 6 7 8)"'{"id":"n9","kind":"k","text":"t"}]'; do
		collector_control "{\"notices\": $bad}"
		run --separate-stderr beacon -c "$CONFIG" -s mylab -f
		assert_success
		assert_output "mylab: sent"
		assert_stderr_contains "beacon-report: server mylab: HTTP 200 from https://127.0.0.1:$mylab_PORT/servers/"
		assert_stderr_contains "its notices are ignored"
	done
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f -q
	assert_success
	assert_output ""
	assert_eq stderr "" "$stderr"
}

@test "notices: a server's text is cleaned (controls, C1, bidi) and cut to 200 characters before it is shown" {
	start_collector
	default_config
	local long
	long=$(printf 'x%.0s' $(seq 1 300))
	collector_control '{"notices": [{"id": "t-1", "kind": "test", "text": "\u001b]0;owned\u0007 red\u001b[31m \u009b2J \u202eevil\n\tnext  line \u00e9t\u00e9"}, {"id": "t-2", "kind": "test", "text": "'"$long"'"}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_success
	assert_output "mylab: sent; notice: ?]0;owned? red?[31m ?2J ?evil next line été; notice: $(printf 'x%.0s' $(seq 1 197))..."
	run --separate-stderr beacon -c "$CONFIG" -s mylab --show
	assert_output_contains "?]0;owned? red?[31m ?2J ?evil next line été [t-1]"
	[[ $output != *$'\e'* ]] || flunk "an escape reached the terminal"
}
