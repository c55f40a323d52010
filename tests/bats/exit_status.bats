#!/usr/bin/env bats
# The exit status (CONTRACT §7), one test per row, each reached through the
# real binary; then every way of failing to ask Asterisk (§4: exit 4).

load helpers

# A collector mylab (started here) and a configuration with it.
setup_mylab() {
	start_collector || return 1
	default_config
}

# assert_nothing_sent: no request reached mylab and no stamp was written.
assert_nothing_sent() {
	[ "$(collector_request_count mylab)" -eq 0 ] ||
		flunk "expected no request, got:" "$(collector_requests mylab)"
	[ ! -e "$STATE_DIR/mylab.stamp" ] || flunk "a stamp was written: $(stamp_get mylab)"
}

# assert_json_exit CODE NAME ARGS...: the same run with --json reports
# exit_code CODE and status NAME, and exits CODE.
assert_json_exit() {
	local code=$1 name=$2
	shift 2
	run --separate-stderr beacon "$@" --json
	assert_status "$code"
	[ "$(json_get exit_code <<<"$output")" = "$code" ] || flunk "--json exit_code:" "$output"
	[ "$(json_get status <<<"$output")" = "$name" ] || flunk "--json status:" "$output"
}

# ---- one test per row of §7 ----------------------------------------------------

@test "exit 0 OK: every due server accepted the report" {
	setup_mylab
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 0
	assert_output "mylab: sent"
	[ "$(collector_request_count mylab PUT)" -eq 1 ]
	assert_json_exit 0 ok -c "$CONFIG" -s mylab -f
}

@test "exit 1 PARTIAL: one server accepted, another did not" {
	setup_mylab
	start_collector other
	add_collector other
	collector_control other '{"responses": [{"status": 503}, {"status": 503}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other
	assert_status 1
	assert_output_contains "mylab: sent"
	assert_output_contains "other: unreached"
	[ -e "$STATE_DIR/mylab.stamp" ]
	[ ! -e "$STATE_DIR/other.stamp" ]
	collector_control other '{"responses": [{"status": 409}]}'
	assert_json_exit 1 partial -c "$CONFIG" -s mylab -s other -f
}

@test "exit 2 USAGE: a bad command line" {
	run --separate-stderr beacon --no-such-option
	assert_status 2
	run --separate-stderr beacon -q -v
	assert_status 2
	run --separate-stderr beacon --show --reset
	assert_status 2
	run --separate-stderr beacon stray-argument
	assert_status 2
	run --separate-stderr beacon -c
	assert_status 2
	assert_no_asterisk_calls
}

@test "exit 2 USAGE: -s with an unknown name lists the known names" {
	setup_mylab
	run --separate-stderr beacon -c "$CONFIG" -s nosuch
	assert_status 2
	assert_stderr_contains "nosuch"
	assert_stderr_contains "beacon"
	assert_stderr_contains "mylab"
	assert_no_asterisk_calls
	assert_nothing_sent
}

@test "exit 3 CONFIG: the configuration file is invalid or unreadable" {
	printf '%s\n' "[general]" "enabled = perhaps" | write_config
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 3
	assert_stderr_contains "$CONFIG:2: "
	mkdir "$BATS_TEST_TMPDIR/dir.ini"
	run --separate-stderr beacon -c "$BATS_TEST_TMPDIR/dir.ini"
	assert_status 3
	assert_no_asterisk_calls
}

@test "exit 4 ASTERISK: Asterisk could not be asked" {
	setup_mylab
	asterisk_mode down
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_nothing_sent
	assert_json_exit 4 asterisk -c "$CONFIG" -s mylab
}

@test "exit 5 UNREACHED: no server accepted it, none rejected it (5xx, 429, nothing listening)" {
	setup_mylab
	collector_control '{"responses": [{"status": 503}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 5
	assert_output_contains "mylab: unreached"
	[ ! -e "$STATE_DIR/mylab.stamp" ]
	# -f: past the back-off the first failure started (CONTRACT §9)
	collector_control '{"responses": [{"status": 429}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_status 5
	stop_collector mylab
	assert_json_exit 5 unreached -c "$CONFIG" -s mylab -f
	[ ! -e "$STATE_DIR/mylab.stamp" ]
}

@test "exit 6 REJECTED: no server accepted it and one rejected it" {
	setup_mylab
	start_collector other
	add_collector other
	collector_control mylab '{"responses": [{"status": 409}]}'
	collector_control other '{"responses": [{"status": 503}]}'
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other
	assert_status 6
	assert_output_contains "mylab: rejected"
	assert_output_contains "other: unreached"
	[ ! -e "$STATE_DIR/mylab.stamp" ]
	collector_control mylab '{"responses": [{"status": 400}]}'
	assert_json_exit 6 rejected -c "$CONFIG" -s mylab
}

@test "exit 7 STATE: state_dir cannot be written" {
	setup_mylab
	: >"$BATS_TEST_TMPDIR/file"
	sed -i "s|^state_dir = .*|state_dir = $BATS_TEST_TMPDIR/file/state|" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_no_asterisk_calls
	assert_nothing_sent
}

@test "exit 7 STATE: the AstDB cannot be written" {
	setup_mylab
	asterisk_mode "put_fail@database put"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_json_exit 7 state -c "$CONFIG" -s mylab -f
}

@test "exit 8 LOCKED: another beacon-report holds the lock" {
	setup_mylab
	mkdir -m 700 "$STATE_DIR"
	local fd
	exec {fd}>>"$STATE_DIR/lock"
	flock -n "$fd"
	run --separate-stderr beacon -c "$CONFIG" -s mylab {fd}>&-
	local st=$status
	assert_json_exit 8 locked -c "$CONFIG" -s mylab {fd}>&-
	exec {fd}>&-
	status=$st
	assert_status 8
	assert_no_asterisk_calls
	assert_nothing_sent
}

@test "exit 9 NOT_DUE: no server is due; nothing was sent" {
	setup_mylab
	stamp_set mylab "$(rfc3339_ago 60)"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 9
	assert_output_contains "mylab: not due until "
	assert_no_asterisk_calls
	[ "$(collector_request_count mylab)" -eq 0 ]
	assert_json_exit 9 not_due -c "$CONFIG" -s mylab
	run --separate-stderr beacon -c "$CONFIG" -s mylab -q
	assert_status 9
	assert_output ""
}

@test "exit 10 DISABLED: enabled = no" {
	setup_mylab
	sed -i 's/^\[general\]$/[general]\nenabled = off/' "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 10
	assert_no_asterisk_calls
	assert_nothing_sent
	assert_json_exit 10 disabled -c "$CONFIG"
}

@test "exit 10 DISABLED: every server has enabled = no in its section (issue 25)" {
	setup_mylab
	sed -i 's/^\[beacon\]$/[beacon]\nenabled = no/' "$CONFIG"
	printf 'enabled = no\n' >>"$CONFIG"	# [mylab], the last section
	run --separate-stderr beacon -c "$CONFIG" -f
	assert_status 10
	assert_output "beacon: disabled (enabled = no): not contacted
mylab: disabled (enabled = no): not contacted"
	assert_stderr_contains "no server to report to: every server selected has enabled = no in $CONFIG"
	assert_no_asterisk_calls
	assert_nothing_sent
	[ ! -e "$STATE_DIR" ] || flunk "a disabled run created $STATE_DIR"
	assert_json_exit 10 disabled -c "$CONFIG"
	assert_eq "result" disabled "$(json_get servers.1.result <<<"$output")"
	run --separate-stderr beacon -c "$CONFIG" -q
	assert_status 10
	assert_output ""
	[ -z "$stderr" ] || flunk "-q printed:" "$stderr"
}

@test "exit 10 DISABLED: the one server selected (-s) has enabled = no (issue 25)" {
	setup_mylab
	printf 'enabled = no\n' >>"$CONFIG"	# [mylab]
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_status 10
	assert_output "mylab: disabled (enabled = no): not contacted"
	assert_stderr_contains "no server to report to: [mylab] has enabled = no in $CONFIG"
	assert_no_asterisk_calls
	assert_nothing_sent
}

@test "exit 10 DISABLED: no server to report to (DEV_MODE build, no collector)" {
	printf '%s\n' "[general]" "state_dir = $STATE_DIR" | write_config
	run --separate-stderr beacon_dev -c "$CONFIG"
	assert_status 10
	assert_no_asterisk_calls
}

@test "exit 0: --show-config, --reset and --dry-run that did their job" {
	setup_mylab
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 0
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n
	assert_status 0
	assert_nothing_sent
	run --separate-stderr beacon -c "$CONFIG" --reset
	assert_status 0
}

# ---- exit 4: every way Asterisk cannot be asked -------------------------------------

@test "exit 4: the asterisk binary does not exist" {
	setup_mylab
	sed -i "s|^\[general\]$|[general]\nasterisk = /nonexistent/asterisk|" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "/nonexistent/asterisk"
	assert_nothing_sent
}

@test "exit 4: asterisk not on PATH" {
	setup_mylab
	sed -i "s|^\[general\]$|[general]\nasterisk = no-such-asterisk-binary|" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "no-such-asterisk-binary"
	assert_nothing_sent
}

@test "exit 4: Asterisk not running, with Asterisk's own words" {
	setup_mylab
	asterisk_mode down
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "Unable to connect to remote asterisk"
	assert_asterisk_called "core show version"
	assert_nothing_sent
}

@test "exit 4: no permission on the control socket" {
	setup_mylab
	asterisk_mode noperm
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "Unable to connect to remote asterisk"
	assert_nothing_sent
}

@test "exit 4: Asterisk hangs: killed at the 10 s deadline" {
	setup_mylab
	asterisk_mode hang
	local t0 t1 ms pid
	t0=$(date +%s%N)
	run --separate-stderr timeout 40 "$BEACON_BIN" -c "$CONFIG" -s mylab
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	assert_status 4
	[ "$ms" -ge 9000 ] && [ "$ms" -le 16000 ] ||
		flunk "expected the 10 s deadline, took $ms ms"
	assert_nothing_sent
	# every stand-in it started was killed
	[ -s "$ASTERISK_STUB_DIR/hang.pids" ]
	while read -r pid; do
		if kill -0 "$pid" 2>/dev/null &&
			[[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == sleep\ * ]]; then
			flunk "the hanging asterisk $pid is still running"
		fi
	done <"$ASTERISK_STUB_DIR/hang.pids"
}

@test "exit 4: a version that cannot be parsed (garbage) and no crash, no control bytes" {
	setup_mylab
	asterisk_mode garbage
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "core show version"
	printf '%s' "$stderr" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' &&
		flunk "control bytes reached the terminal:" "$(printf '%s' "$stderr" | cat -v)"
	[ "$(printf '%s\n' "$stderr" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')" -le 1000 ] ||
		flunk "a 70,000-byte line reached stderr"
	assert_nothing_sent
}

@test "exit 4: 'No such command' instead of a version" {
	setup_mylab
	asterisk_answer "core show version" <<<"No such command 'core show version' (type 'core show help core show version' for other possible commands)"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 4
	assert_nothing_sent
}

@test "exit 4: output over 4 MiB (huge) is not read to its end" {
	setup_mylab
	asterisk_mode huge
	run --separate-stderr timeout 30 "$BEACON_BIN" -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "beacon-report: "
	assert_nothing_sent
}

@test "not exit 4: an unparseable field other than the version is left out with a warning" {
	setup_mylab
	asterisk_mode "garbage@core show calls"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 0
	assert_stderr_contains "core show calls"
	# -q: the same successful run prints nothing, the warning included
	# (CONTRACT: it still goes to syslog).
	BEACON_REPORT_NOW=2026-12-31T00:00:00Z run --separate-stderr beacon -c "$CONFIG" -s mylab -q -f
	assert_status 0
	assert_eq stderr "" "$stderr"
	assert_output ""
	local sid
	sid=$(astdb_get beacon/mylab server_id)
	collector_stored mylab "$sid" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["asterisk"]["version"]["number"] == "221001", r["asterisk"]["version"]
assert "calls" not in r["asterisk"].get("stats", {}), r["asterisk"]["stats"]
'
}
