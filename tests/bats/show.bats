#!/usr/bin/env bats
# --show (issue 4, CONTRACT §2, §8): the gathered report and each server's
# stored state in the layout of `beacon show server`, headed by
# ANONYMOUS USAGE STATISTICS ENABLED; --show --json; no network, no state
# change; Asterisk failures are exit 4 as for a run.

load helpers

F="${FIXTURES:-$REPO/tests/fixtures}/22.10.1"

SID_BEACON=3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
TOK_BEACON=0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d
SID_MYLAB=11111111-2222-4333-8444-555555555555
TOK_MYLAB=22222222-3333-4444-8555-666666666666

# Both servers (collectors started, so that any connection would show),
# ids in the AstDB, stamps, and the clock at 2026-11-22T05:30:00Z.
show_setup() {
	start_collector || return 1
	start_collector beacon --port "$TEST_BEACON_PORT" || return 1
	default_config
	astdb_put beacon server_id "$SID_BEACON"
	astdb_put beacon token_id "$TOK_BEACON"
	astdb_put beacon token_issued 2026-11-21T04:00:00Z
	astdb_put beacon/mylab server_id "$SID_MYLAB"
	astdb_put beacon/mylab token_id "$TOK_MYLAB"
	astdb_put beacon/mylab token_issued 2026-11-22T01:00:00Z
	stamp_set beacon 2026-11-22T05:00:00Z
	stamp_set mylab 2026-11-22T01:00:00Z
	export BEACON_REPORT_NOW=2026-11-22T05:30:00Z
}

# The facts of the fixtures, read from the fixture files themselves.
fixture_version_name() { sed -n '1s/^\(Asterisk [^ ]*\) built by .*/\1/p' "$F/core_show_version.txt"; }
fixture_modules() { sed -n 's/^\([0-9][0-9]*\) modules loaded$/\1/p' "$F/module_show.txt"; }
fixture_active() { sed -n 's/^\([0-9][0-9]*\) active calls\{0,1\}$/\1/p' "$F/core_show_calls.txt"; }
fixture_processed() { sed -n 's/^\([0-9][0-9]*\) calls\{0,1\} processed$/\1/p' "$F/core_show_calls.txt"; }

# assert_only_reads: every asterisk command run was a read.
assert_only_reads() {
	local bad
	bad=$(asterisk_calls | grep -Ev '^(core show (version|uptime seconds|calls)|module show|database (show|get)( .*)?)$' || true)
	[ -z "$bad" ] || flunk "--show ran more than reads:" "$bad"
	[ -n "$(asterisk_calls)" ] || flunk "--show asked Asterisk nothing"
}

# assert_no_network: no collector saw a connection.
assert_no_network() {
	local n
	for n in mylab beacon; do
		[ "$(collector_request_count "$n")" -eq 0 ] || flunk "--show sent to $n:" "$(collector_requests "$n")"
		[ ! -s "$(_state_of "$n")/connections.log" ] || flunk "--show connected to $n"
	done
}

@test "show: headed by ANONYMOUS USAGE STATISTICS ENABLED, with each server's state" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	[ "${lines[0]}" = "ANONYMOUS USAGE STATISTICS ENABLED" ] ||
		flunk "first line: ${lines[0]}"
	assert_output_contains "beacon"
	assert_output_contains "mylab"
	assert_output_contains "https://127.0.0.1:$TEST_BEACON_PORT"
	assert_output_contains "https://127.0.0.1:$mylab_PORT"
	assert_output_contains "$SID_BEACON"
	assert_output_contains "$SID_MYLAB"
	# tokens are "****" in every output but --show --json (CONTRACT §8)
	refute_output_contains "$TOK_BEACON"
	refute_output_contains "$TOK_MYLAB"
	[ "$(grep -cE '^ +ID: +\*\*\*\*$' <<<"$output")" -eq 2 ] ||
		flunk "expected two 'ID: ****' token lines" "$output"
	assert_output_contains "2026-11-21T04:00:00Z"
	# Last and next posting: beacon 05:00 → next slot 06:00 (I=360, UTC);
	# mylab 01:00 → not due until 06:00 either.
	grep -E '^ *Last Posting: *2026-11-22T05:00:00Z$' <<<"$output" >/dev/null ||
		flunk "no 'Last Posting: 2026-11-22T05:00:00Z' line" "$output"
	grep -E '^ *Last Posting: *2026-11-22T01:00:00Z$' <<<"$output" >/dev/null ||
		flunk "no 'Last Posting: 2026-11-22T01:00:00Z' line" "$output"
	[ "$(grep -cE '^ *Next Posting: *2026-11-22T06:00:00Z$' <<<"$output")" -eq 2 ] ||
		flunk "expected two 'Next Posting: 2026-11-22T06:00:00Z' lines" "$output"
}

@test "show: a server never reported shows no id and no last posting" {
	start_collector
	default_config
	export BEACON_REPORT_NOW=2026-11-22T05:30:00Z
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	grep -E '^ *Last Posting: *never$' <<<"$output" >/dev/null || flunk "no 'Last Posting: never'" "$output"
	refute_output_contains "Server ID: $SID_MYLAB"
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab --json
	assert_success
	[ "$(json_get servers.0.server_id <<<"$output")" = null ]
	[ "$(json_get servers.0.last_report <<<"$output")" = null ]
}

@test "show: the Asterisk version, calls, modules and operating system" {
	show_setup
	local name
	name=$(fixture_version_name)
	[ "$name" = "Asterisk 22.10.1" ] || flunk "fixture: version name '$name'"
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	assert_output_contains "Asterisk Information:"
	assert_output_contains "$name (221001)"
	grep -E "^ *Active: *$(fixture_active)\$" <<<"$output" >/dev/null ||
		flunk "no 'Active: $(fixture_active)'" "$output"
	grep -E "^ *Processed: *$(fixture_processed)\$" <<<"$output" >/dev/null ||
		flunk "no 'Processed: $(fixture_processed)'" "$output"
	assert_output_contains "$(fixture_modules)"
	# every module of the fixture is listed, one a line
	local mod missing=0
	while read -r mod; do
		grep -qE "^ +${mod//./\\.}( |$)" <<<"$output" || missing=$((missing + 1))
	done < <(awk 'NR > 1 && $1 ~ /\.so$|^[a-z_]+$/ && !/modules loaded/ { print $1 }' "$F/module_show.txt")
	[ "$missing" -eq 0 ] || flunk "$missing module(s) of the fixture not listed"
	assert_output_contains "Operating System:"
	assert_output_contains "$(uname -s)"
	assert_output_contains "$(uname -r)"
	assert_output_contains "$(uname -m)"
}

@test "show: no line is longer than 80 columns" {
	show_setup
	# a long private name and description must not break the layout either
	sed -i 's/^\[general\]$/[general]\nprivate_name = A very long private name for this PBX that goes on and on and on past eighty columns/' "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	local long
	long=$(printf '%s\n' "$output" | awk 'length($0) > 80 { print NR ": " length($0) ": " $0 }')
	[ -z "$long" ] || flunk "lines over 80 columns:" "$long"
}

@test "show: no ANSI colour when stdout is not a terminal" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	[[ $output != *$'\e'* ]] || flunk "escape sequences in --show output:" "$(printf '%s' "$output" | cat -v | head -5)"
	[[ ${stderr-} != *$'\e'* ]] || flunk "escape sequences on stderr"
}

@test "show: --show --json is {report, servers} with the fixture's version and modules" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	"$PY" - "$output" "$(fixture_modules)" "$SID_BEACON" "$TOK_MYLAB" "$(fixture_active)" \
		"$(fixture_processed)" <<'PY' || flunk "--show --json:" "$output"
import json, sys
out, nmod, sid_beacon, tok_mylab, active, processed = sys.argv[1:]
d = json.loads(out)
assert set(d) == {"report", "servers", "config_file"}, d.keys()
a = d["report"]["asterisk"]
assert a["version"]["number"] == "221001", a["version"]
assert a["version"]["name"] == "Asterisk 22.10.1", a["version"]
assert len(a["modules"]) == int(nmod), len(a["modules"])
assert all(set(m) >= {"name", "description", "status", "support_level"} for m in a["modules"])
assert a["stats"]["calls"] == {"active": int(active), "processed": int(processed)}, a["stats"]
assert "operating_system" in d["report"]
s = {x["name"]: x for x in d["servers"]}
assert set(s) == {"beacon", "mylab"}, s.keys()
assert s["beacon"]["server_id"] == sid_beacon, s["beacon"]
assert s["mylab"]["token_id"] == tok_mylab, s["mylab"]
assert s["beacon"]["last_report"] == "2026-11-22T05:00:00Z", s["beacon"]
assert s["mylab"]["next_due"] == "2026-11-22T06:00:00Z", s["mylab"]
PY
}

@test "show: the report shown is the body a run would send (same facts)" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	local shown=$output
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n -f --json
	assert_success
	"$PY" - "$shown" "$output" <<'PY' || flunk "--show and --dry-run disagree"
import json, sys
shown = json.loads(sys.argv[1])["report"]
body = json.loads(json.loads(sys.argv[2])["servers"][0]["body"])
assert shown["asterisk"]["version"] == body["asterisk"]["version"]
assert shown["asterisk"]["modules"] == body["asterisk"]["modules"]
for k in ("sys_name", "release", "version", "machine"):
    assert shown["operating_system"][k] == body["operating_system"][k], k
PY
}

@test "show: no network request and no state change: only reads of Asterisk" {
	show_setup
	local before
	before=$(cd "$STATE_DIR" && ls -lA --time-style=full-iso && cat ./*.stamp)
	local db
	db=$(astdb_dump)
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	assert_only_reads
	assert_no_network
	[ "$(cd "$STATE_DIR" && ls -lA --time-style=full-iso && cat ./*.stamp)" = "$before" ] ||
		flunk "state_dir changed"
	[ "$(astdb_dump)" = "$db" ] || flunk "the AstDB changed"
}

@test "show: --show does not create a missing state_dir, and works without one" {
	start_collector
	default_config
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	[ ! -e "$STATE_DIR" ] || flunk "--show created $STATE_DIR"
	assert_only_reads
	[ "$(collector_request_count)" -eq 0 ]
}

@test "show: a due server is not sent to, and a bad AstDB id is shown as absent" {
	start_collector
	default_config
	astdb_put beacon/mylab server_id not-a-uuid
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	refute_output_contains "not-a-uuid"
	assert_stderr_contains "beacon/mylab/server_id"
	[ "$(collector_request_count)" -eq 0 ]
	[ "$(astdb_get beacon/mylab server_id)" = not-a-uuid ]
}

@test "show: --show -s NAME shows only that server" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	assert_output_contains "$SID_MYLAB"
	refute_output_contains "$SID_BEACON"
}

@test "show: Asterisk down is exit 4 with Asterisk's words" {
	show_setup
	asterisk_mode down
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "$ASTERISK_DOWN_TEXT"
	refute_output_contains "Asterisk Information"
	assert_no_network
}

@test "show: garbage from Asterisk is exit 4 (version unparseable), no crash, no control bytes" {
	show_setup
	asterisk_mode garbage
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	printf '%s%s' "$output" "$stderr" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' &&
		flunk "control bytes reached the terminal"
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_status 4
	assert_no_network
}

@test "show: --show -s unknown is exit 2 listing the known names" {
	show_setup
	run --separate-stderr beacon -c "$CONFIG" --show -s nosuch
	assert_status 2
	assert_stderr_contains "nosuch"
	assert_stderr_contains "beacon"
	assert_stderr_contains "mylab"
	assert_no_asterisk_calls
}

# ---- issue 25: what --show prints is what is sent -----------------------------------

@test "show: private_name is shown per server, as each is sent it (a collector's own, else [general]'s)" {
	show_setup
	sed -i 's/^\[general\]$/[general]\nprivate_name = pbx-general/' "$CONFIG"
	printf 'private_name = lab-own\n' >>"$CONFIG"	# in [mylab], the last section
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	local beacon_part mylab_part
	beacon_part=$(sed -n '/^Server: beacon$/,/^$/p' <<<"$output")
	mylab_part=$(sed -n '/^Server: mylab$/,/^$/p' <<<"$output")
	grep -qE '^  Private Name: pbx-general$' <<<"$beacon_part" ||
		flunk "beacon's block has no 'Private Name: pbx-general'" "$beacon_part"
	grep -qE '^  Private Name: lab-own$' <<<"$mylab_part" ||
		flunk "mylab's block has no 'Private Name: lab-own'" "$mylab_part"
	# and that is what a run sends to mylab
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n -f --json
	assert_success
	assert_eq "private_name sent to mylab" lab-own \
		"$(json_get servers.0.body <<<"$output" | json_get private_name)"
	# none set: said, not left out
	sed -i '/^private_name = /d' "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	grep -qE '^  Private Name: \(none: not sent\)$' <<<"$output" ||
		flunk "no 'Private Name: (none: not sent)'" "$output"
}

@test "show: the run time and uptime are those sent, said to be rounded; no 'Running for' from a rounded start" {
	show_setup
	# Asterisk up 76 s at 05:30:00, so started 05:28:44; sent as 05:00:00
	asterisk_answer "core show uptime seconds" <<'EOT'
System uptime: 76
Last reload: 51
EOT
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	refute_output_contains "Running for"
	assert_output_contains "Run-time (as sent: rounded down to the hour):"
	grep -qE '^ +Started at: +2026-11-22T05:00:00Z$' <<<"$output" ||
		flunk "no 'Started at: 2026-11-22T05:00:00Z'" "$output"
	grep -qE '^  Uptime: [0-9].* \(as sent: in whole hours\)$' <<<"$output" ||
		flunk "no 'Uptime: ... (as sent: in whole hours)'" "$output"
	grep -qE '^  Memory: [0-9]+ kB \(as sent: whole multiples of 256 MiB\)$' <<<"$output" ||
		flunk "no 'Memory: ... (as sent: whole multiples of 256 MiB)'" "$output"
	# the values shown are the body's
	local shown_start shown_up body
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n -f --json
	assert_success
	body=$(json_get servers.0.body <<<"$output")
	assert_eq "startup_time sent" 2026-11-22T05:00:00Z \
		"$(json_get asterisk.stats.run_time.startup_time <<<"$body")"
	local up
	up=$(json_get operating_system.uptime <<<"$body")
	[ $((up % 3600)) -eq 0 ] || flunk "uptime sent not in whole hours: $up"
}

@test "show: --show --json keeps the tokens in clear (the one output that does), and says enabled and private_name per server" {
	show_setup
	printf 'enabled = no\nprivate_name = lab-own\n' >>"$CONFIG"	# in [mylab]
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	assert_eq "mylab token" "$TOK_MYLAB" "$(json_get servers.1.token_id <<<"$output")"
	assert_eq "beacon enabled" true "$(json_get servers.0.enabled <<<"$output")"
	assert_eq "mylab enabled" false "$(json_get servers.1.enabled <<<"$output")"
	assert_eq "mylab private_name" lab-own "$(json_get servers.1.private_name <<<"$output")"
	run --separate-stderr beacon -c "$CONFIG" --show -s mylab
	assert_success
	grep -qE '^  Next Posting: never \(enabled = no\)$' <<<"$output" ||
		flunk "a disabled server's next posting is not 'never (enabled = no)'" "$output"
}
