#!/usr/bin/env bats
# The configuration file (CONTRACT §3): every mistake is exit 3 with one
# "beacon-report: FILE:LINE: message" line on stderr; --show-config prints
# the effective settings (passwords masked); the DEV_MODE build has no
# built-in server; enabled = no is exit 10 before anything is asked.
#
# Not tested here: the default file (-c not given) being absent.  Its path
# is compiled in (SYSCONFDIR), so a test cannot choose whether it exists
# without touching the host's /usr/local/etc or /etc.

load helpers

# The first lines of every bad file, so that the mistake is never on line 1
# and the line number in the message means something.
prelude() {
	cat <<EOF
; beacon-report test configuration
[general]
state_dir = $STATE_DIR

EOF
}

# config_error LINE [TEXT]: with $CONFIG as it is, both --show-config and
# a report run exit 3, print nothing on stdout and exactly one line on
# stderr, "beacon-report: $CONFIG:LINE: ..." (containing TEXT), and run
# no asterisk command.
config_error() {
	local want="beacon-report: $CONFIG:$1: " args
	for args in "--show-config" "-s beacon" ""; do
		# shellcheck disable=SC2086  # word splitting of args is intended
		run --separate-stderr beacon -c "$CONFIG" $args
		assert_status 3
		[ -z "$output" ] || flunk "beacon-report -c FILE $args: expected no stdout, got:" "$output"
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] ||
			flunk "beacon-report -c FILE $args: expected one line on stderr, got:" "$stderr"
		[[ $stderr == "$want"* ]] ||
			flunk "beacon-report -c FILE $args: expected stderr to start with: $want" "stderr: $stderr"
		[ -z "${2-}" ] || assert_stderr_contains "$2"
	done
	assert_no_asterisk_calls
}

# ---- the mistakes of CONTRACT §3 ----------------------------------------------

@test "config: a malformed line is exit 3 naming its line" {
	{ prelude; printf '%s\n' "[beacon]" "interval 360"; } | write_config
	config_error 6
}

@test "config: a malformed line is the line named, not a later one it confuses" {
	{ prelude; printf '%s\n' "[beacon]" "interval 360" "start_time = 99:99"; } | write_config
	config_error 6
}

@test "config: a section header without its ']' is a malformed line" {
	{ prelude; printf '%s\n' "[beacon" "interval = 360"; } | write_config
	config_error 5
}

@test "config: an unknown option in [general] is exit 3 naming it" {
	{ prelude; printf '%s\n' "colour = blue"; } | write_config
	config_error 5 "colour"
}

@test "config: an unknown option in [beacon] is exit 3 naming it" {
	{ prelude; printf '%s\n' "[beacon]" "interval = 120" "colour = blue"; } | write_config
	config_error 7 "colour"
}

@test "config: an unknown option in a collector is exit 3 naming it" {
	{
		prelude
		printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9/b" \
			"colour = blue"
	} | write_config
	config_error 8 "colour"
}

@test "config: a collector without 'type' is exit 3 at its section" {
	{ prelude; printf '%s\n' "[mylab]" "url = https://127.0.0.1:9/b"; } | write_config
	config_error 5 "type"
}

@test "config: a collector without 'url' is exit 3 at its section" {
	{
		prelude
		printf '%s\n' "[other]" "type = server" "url = https://127.0.0.1:9" "" \
			"[mylab]" "type = server"
	} | write_config
	config_error 9 "mylab"
}

@test "config: a type other than 'server' is exit 3" {
	{ prelude; printf '%s\n' "[mylab]" "type = client" "url = https://127.0.0.1:9"; } |
		write_config
	config_error 6 "client"
}

@test "config: an http:// url is exit 3 (https only)" {
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = http://127.0.0.1:9/b"; } |
		write_config
	config_error 7 "http://127.0.0.1:9/b"
}

@test "config: a url that is not a URL at all is exit 3" {
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = stats.example.com"; } |
		write_config
	config_error 7 "stats.example.com"
}

@test "config: interval 0, -5 and abc are each exit 3" {
	local v
	for v in 0 -5 abc 1.5 ""; do
		{ prelude; printf '%s\n' "[beacon]" "interval = $v"; } | write_config
		config_error 6 "interval"
	done
	# and in a collector
	{
		prelude
		printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" "interval = -5"
	} | write_config
	config_error 8 "interval"
}

@test "config: start_time 24:00, 7:5, x, 12:60 are each exit 3" {
	local v
	for v in 24:00 7:5 x 12:60 "" 12 -1:00; do
		{ prelude; printf '%s\n' "[beacon]" "start_time = $v"; } | write_config
		config_error 6 "start_time"
	done
}

@test "config: a valid start_time is accepted and shown as HH:MM" {
	{ prelude; printf '%s\n' "[beacon]" "start_time = 7:05"; } | write_config
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	assert_output_contains "start_time = 07:05"
}

@test "config: enabled = maybe is exit 3" {
	{ prelude; printf '%s\n' "enabled = maybe"; } | write_config
	config_error 5 "maybe"
}

@test "config: verify_cert = perhaps is exit 3" {
	{
		prelude
		printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" \
			"verify_cert = perhaps"
	} | write_config
	config_error 8 "perhaps"
}

@test "config: every spelling of a boolean, in any case, is accepted" {
	local v
	for v in yes YES Yes true TRUE on On 1; do
		{ prelude; printf '%s\n' "enabled = $v"; } | write_config
		run --separate-stderr beacon -c "$CONFIG" --show-config --json
		assert_success
		[ "$(json_get general.enabled <<<"$output")" = true ] ||
			flunk "enabled = $v: expected true" "$output"
	done
	for v in no NO No false FALSE off OFF 0; do
		{ prelude; printf '%s\n' "enabled = $v"; } | write_config
		run --separate-stderr beacon -c "$CONFIG" --show-config --json
		assert_success
		[ "$(json_get general.enabled <<<"$output")" = false ] ||
			flunk "enabled = $v: expected false" "$output"
	done
}

@test "config: timeout outside 1..300 is exit 3; 1 and 300 are accepted" {
	local v
	for v in 0 301 -1 abc ""; do
		{ prelude; printf '%s\n' "timeout = $v"; } | write_config
		config_error 5 "timeout"
	done
	for v in 1 300; do
		{ prelude; printf '%s\n' "timeout = $v"; } | write_config
		run --separate-stderr beacon -c "$CONFIG" --show-config --json
		assert_success
		[ "$(json_get general.timeout <<<"$output")" = "$v" ] ||
			flunk "timeout = $v not kept" "$output"
	done
}

@test "config: a [general] option in [beacon] is exit 3" {
	local opt
	# (enabled is a server's option too: CONTRACT §3, issue 25)
	for opt in "timeout = 30" "state_dir = /tmp" "asterisk = asterisk" \
		"private_name = x"; do
		{ prelude; printf '%s\n' "[beacon]" "$opt"; } | write_config
		config_error 6 "${opt%% *}"
	done
}

@test "config: a [general] option in a collector is exit 3" {
	{
		prelude
		printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" "timeout = 30"
	} | write_config
	config_error 8 "timeout"
}

@test "config: [beacon] accepts no url, type or verify_cert" {
	local opt
	for opt in "url = https://127.0.0.1:9" "type = server" "verify_cert = no" "verify_cert = yes"; do
		{ prelude; printf '%s\n' "[beacon]" "interval = 360" "$opt"; } | write_config
		config_error 7 "${opt%% *}"
	done
}

@test "config: an option set twice in a section is exit 3 at the second" {
	{ prelude; printf '%s\n' "[beacon]" "interval = 360" "; again" "interval = 120"; } |
		write_config
	config_error 8 "interval"
}

@test "config: the same section twice is exit 3 at the second header" {
	{
		prelude
		printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" "" \
			"[mylab]" "interval = 120"
	} | write_config
	config_error 9 "mylab"
}

@test "config: an option outside any section is exit 3" {
	printf '%s\n' "; no section yet" "" "enabled = yes" "[general]" | write_config
	config_error 3 "enabled"
}

@test "config: -c naming a missing file is exit 3 naming the file" {
	run --separate-stderr beacon -c "$BATS_TEST_TMPDIR/nope.ini" --show-config
	assert_status 3
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "$BATS_TEST_TMPDIR/nope.ini"
	run --separate-stderr beacon -c "$BATS_TEST_TMPDIR/nope.ini"
	assert_status 3
	assert_no_asterisk_calls
}

@test "config: an empty file gives the defaults of CONTRACT §3" {
	: >"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	[ "$(json_get general.enabled <<<"$output")" = true ]
	[ "$(json_get general.asterisk <<<"$output")" = asterisk ]
	[ "$(json_get general.timeout <<<"$output")" = 30 ]
	[ "$(json_get servers.0.name <<<"$output")" = beacon ]
	[ "$(json_get servers.0.interval <<<"$output")" = 360 ]
	[ "$(json_get servers.0.start_time <<<"$output")" = "00:00" ]
	[ "$(json_get servers.0.verify_cert <<<"$output")" = true ]
	[ "$(json_get servers.0.url <<<"$output")" = "https://127.0.0.1:$TEST_BEACON_PORT" ]
}

# ---- rounding and warnings ---------------------------------------------------------

@test "config: interval 30 is raised to 60 with a warning naming the line" {
	{
		prelude
		printf '%s\n' "[beacon]" "interval = 30" "" "[mylab]" "type = server" \
			"url = https://127.0.0.1:9" "interval = 59"
	} | write_config
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	assert_stderr_contains "beacon-report: $CONFIG:6: "
	assert_stderr_contains "beacon-report: $CONFIG:11: "
	[ "$(json_get servers.0.interval <<<"$output")" = 60 ]
	[ "$(json_get servers.1.name <<<"$output")" = mylab ]
	[ "$(json_get servers.1.interval <<<"$output")" = 60 ]
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	assert_output_contains "interval = 60"
	refute_output_contains "interval = 30"
	refute_output_contains "interval = 59"
}

# ---- --show-config ------------------------------------------------------------------

@test "config: --show-config prints the effective settings, proxy passwords as ****" {
	write_config <<EOF
[general]
private_name = Lab PBX
asterisk = /opt/asterisk/sbin/asterisk
state_dir = $STATE_DIR
timeout = 45

[beacon]
proxy = http://alice:Sup3rS3cretPw@127.0.0.1:3128
interval = 720
start_time = 03:15

[mylab]
type = server
url = https://127.0.0.1:9/beacon/
proxy = bob:An0therS3cret@127.0.0.1:8080
verify_cert = off
ca_path = $TEST_CA/ca.pem
EOF
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	assert_output_contains "private_name = Lab PBX"
	assert_output_contains "asterisk = /opt/asterisk/sbin/asterisk"
	assert_output_contains "state_dir = $STATE_DIR"
	assert_output_contains "timeout = 45"
	assert_output_contains "[beacon]"
	assert_output_contains "url = https://127.0.0.1:$TEST_BEACON_PORT"
	assert_output_contains "proxy = http://alice:****@127.0.0.1:3128"
	assert_output_contains "interval = 720"
	assert_output_contains "start_time = 03:15"
	assert_output_contains "[mylab]"
	assert_output_contains "proxy = bob:****@127.0.0.1:8080"
	assert_output_contains "verify_cert = no"
	assert_output_contains "ca_path = $TEST_CA/ca.pem"
	refute_output_contains "Sup3rS3cretPw"
	refute_output_contains "An0therS3cret"
	refute_stderr_contains "Sup3rS3cretPw"
	refute_stderr_contains "An0therS3cret"
	assert_no_asterisk_calls
	[ ! -e "$STATE_DIR" ] || flunk "--show-config created $STATE_DIR"
}

@test "config: --show-config --json prints the same settings as JSON, passwords masked" {
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[beacon]
proxy = http://alice:Sup3rS3cretPw@127.0.0.1:3128

[mylab]
type = server
url = https://127.0.0.1:9/beacon
proxy = socks5h://bob:An0therS3cret@127.0.0.1:1080
EOF
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	"$PY" -c 'import json, sys; json.loads(sys.argv[1])' "$output" ||
		flunk "not JSON:" "$output"
	[ "$(json_get general.state_dir <<<"$output")" = "$STATE_DIR" ]
	[ "$(json_get servers.0.name <<<"$output")" = beacon ]
	[ "$(json_get servers.0.proxy <<<"$output")" = "http://alice:****@127.0.0.1:3128" ]
	[ "$(json_get servers.1.name <<<"$output")" = mylab ]
	[ "$(json_get servers.1.url <<<"$output")" = "https://127.0.0.1:9/beacon" ]
	[ "$(json_get servers.1.proxy <<<"$output")" = "socks5h://bob:****@127.0.0.1:1080" ]
	refute_output_contains "Sup3rS3cretPw"
	refute_output_contains "An0therS3cret"
	refute_stderr_contains "Sup3rS3cretPw"
	refute_stderr_contains "An0therS3cret"
}

@test "config: a bad proxy password line is reported without the password" {
	# The error line quotes no value of a proxy option: it may hold a password.
	{ prelude; printf '%s\n' "[beacon]" $'proxy = http://alice:Sup3r S3cretPw@127.0.0.1:3128'; } |
		write_config
	config_error 6 "proxy"
	refute_stderr_contains "Sup3r"
}

# ---- the DEV_MODE build ----------------------------------------------------------

@test "config: DEV_MODE --show-config says there is no built-in server" {
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9"; } |
		write_config
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config
	assert_success
	assert_output_contains "no built-in"
	refute_output_contains "[beacon]"
	assert_output_contains "[mylab]"
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config --json
	assert_success
	[ "$(json_get dev_mode <<<"$output")" = true ]
	[ "$(json_get servers.0.name <<<"$output")" = mylab ]
	run json_get servers.1 <<<"$output"
	assert_failure
	# the normal build says nothing of the sort
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	refute_output_contains "no built-in"
}

@test "config: DEV_MODE ignores a [beacon] section with a warning naming its line" {
	{
		prelude
		printf '%s\n' "[beacon]" "interval = 720" "" \
			"[mylab]" "type = server" "url = https://127.0.0.1:9"
	} | write_config
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config
	assert_success
	assert_stderr_contains "beacon-report: $CONFIG:5: "
	assert_stderr_contains "[beacon]"
	refute_output_contains "[beacon]"
	refute_output_contains "interval = 720"
	assert_output_contains "[mylab]"
}

@test "config: DEV_MODE still checks the ignored [beacon] section: a mistake there is exit 3" {
	{
		prelude
		printf '%s\n' "[beacon]" "interval = banana" "" \
			"[mylab]" "type = server" "url = https://127.0.0.1:9"
	} | write_config
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "beacon-report: $CONFIG:6: interval: \"banana\""
	{ prelude; printf '%s\n' "[beacon]" "url = https://127.0.0.1:9"; } | write_config
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "beacon-report: $CONFIG:6: [beacon] does not accept 'url'"
}

@test "config: DEV_MODE with no collector: a run exits 10 and asks nothing" {
	{ prelude; printf '%s\n' "[beacon]" "interval = 720"; } | write_config
	run --separate-stderr beacon_dev -c "$CONFIG"
	assert_status 10
	assert_no_asterisk_calls
	[ ! -e "$STATE_DIR" ] || flunk "a disabled run created $STATE_DIR"
	: >"$CONFIG"
	run --separate-stderr beacon_dev -c "$CONFIG" -q
	assert_status 10
	assert_output ""
	assert_no_asterisk_calls
}

# ---- enabled = no ------------------------------------------------------------------

@test "config: enabled = no exits 10 with no asterisk call and no connection" {
	start_collector
	default_config
	sed -i 's/^\[general\]$/[general]\nenabled = no/' "$CONFIG"
	grep -qx 'enabled = no' "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_status 10
	assert_no_asterisk_calls
	[ "$(collector_request_count)" -eq 0 ]
	[ ! -e "$STATE_DIR" ] || flunk "a disabled run created $STATE_DIR"
	run --separate-stderr beacon -c "$CONFIG" --json
	assert_status 10
	[ "$(json_get exit_code <<<"$output")" = 10 ]
	assert_no_asterisk_calls
}

# ---- enabled = no in a server's section (issue 25, CONTRACT §3) --------------------

# both_config: the built-in server (a collector on TEST_BEACON_PORT) and
# mylab, both started; extra lines for [beacon] in $1, for [mylab] in $2.
both_config() {
	start_collector || return 1
	start_collector beacon --port "$TEST_BEACON_PORT" || return 1
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[beacon]
ca_path = $TEST_CA/ca.pem
$1

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
$2
EOF
}

@test "config: enabled = no in [beacon] turns off only the built-in server: not contacted, not a failure" {
	both_config "enabled = no" ""
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 0
	assert_output "beacon: disabled (enabled = no): not contacted
mylab: sent"
	[ "$(collector_request_count beacon)" -eq 0 ] || flunk "beacon was contacted:" "$(collector_requests beacon)"
	[ ! -s "$(_state_of beacon)/connections.log" ] || flunk "a connection reached beacon"
	[ "$(collector_request_count mylab)" -eq 2 ]
	assert_no_stamp beacon
	[ ! -e "$STATE_DIR/beacon.retry" ] || flunk "beacon got a retry state (counted as a failure)"
	refute astdb_get beacon server_id
	# the ITSP's cron line: silent, exit 0, day after day
	run --separate-stderr beacon -c "$CONFIG" -q -f
	assert_status 0
	assert_output ""
	[ -z "$stderr" ] || flunk "-q printed:" "$stderr"
	# --json says so per server
	run --separate-stderr beacon -c "$CONFIG" -f --json
	assert_status 0
	assert_eq "beacon's result" disabled "$(json_get servers.0.result <<<"$output")"
	assert_eq "beacon's next_due" null "$(json_get servers.0.next_due <<<"$output")"
	assert_eq "mylab's result" sent "$(json_get servers.1.result <<<"$output")"
	[ "$(collector_request_count beacon)" -eq 0 ]
}

@test "config: enabled = no in a collector's section turns off only that collector" {
	both_config "" "enabled = false"
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 0
	assert_output "beacon: sent
mylab: disabled (enabled = no): not contacted"
	[ "$(collector_request_count mylab)" -eq 0 ]
	[ "$(collector_request_count beacon)" -eq 2 ]
	assert_no_stamp mylab
	# not due beside disabled: exit 9, not a failure
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 9
	assert_output_contains "mylab: disabled (enabled = no): not contacted"
	assert_output_contains "beacon: not due until "
	[ "$(collector_request_count mylab)" -eq 0 ]
}

@test "config: enabled in a server's section is a boolean, shown by --show-config; a bad one is exit 3 naming its line" {
	both_config "enabled = no" "enabled = YES"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	[ "$(sed -n '/^\[beacon\]$/,/^$/p' <<<"$output" | grep -cx 'enabled = no')" -eq 1 ] ||
		flunk "[beacon] does not show enabled = no" "$output"
	[ "$(sed -n '/^\[mylab\]$/,/^$/p' <<<"$output" | grep -cx 'enabled = yes')" -eq 1 ] ||
		flunk "[mylab] does not show enabled = yes" "$output"
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	assert_eq "beacon enabled" false "$(json_get servers.0.enabled <<<"$output")"
	assert_eq "mylab enabled" true "$(json_get servers.1.enabled <<<"$output")"
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" "enabled = sometimes"; } | write_config
	config_error 8 "enabled"
}

# ---- what the file looks like in the wild -------------------------------------

@test "config: indented lines are options of their section, not continuations" {
	{ prelude; printf '%s\n' "    timeout = 5" "  [mylab]" "	type = server" \
		"	url = https://127.0.0.1:9"; } | write_config
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	[ "$(json_get general.timeout <<<"$output")" = 5 ] || flunk "timeout:" "$output"
	[ "$(json_get servers.1.name <<<"$output")" = mylab ] || flunk "servers:" "$output"
}

@test "config: a section name with blanks is exit 3 at its header" {
	{ prelude; printf '%s\n' "[ mylab ]" "type = server" "url = https://127.0.0.1:9"; } | write_config
	config_error 5 "bad section name"
}

@test "config: a section name longer than 49 bytes is exit 3 at its header" {
	local long
	long=$(printf 'c%.0s' $(seq 50))
	{ prelude; printf '%s\n' "[$long]" "type = server" "url = https://127.0.0.1:9"; } | write_config
	config_error 5 "bad section name"
}

@test "config: a url with user:password@ is refused (it would be printed)" {
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = https://u:secret@127.0.0.1:9"; } | write_config
	config_error 7 "url:"
}

@test "config: 64 collectors are fine beside the built-in server; a 65th is exit 3" {
	local i
	{
		prelude
		for i in $(seq 1 64); do
			printf '%s\n' "[c$i]" "type = server" "url = https://127.0.0.1:9"
		done
	} | write_config
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	[ "$(json_get servers.64.name <<<"$output")" = c64 ] || flunk "the 64th collector is missing"
	printf '%s\n' "[c65]" "type = server" "url = https://127.0.0.1:9" >>"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "$CONFIG:197: too many collectors (at most 64)"
}

@test "config: -q silences the interval rounding notice (cron would mail it hourly)" {
	{ prelude; printf '%s\n' "[mylab]" "type = server" "url = https://127.0.0.1:9" \
		"interval = 30"; } | write_config
	stamp_set mylab "$(rfc3339_ago 60)"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -q
	assert_status 9
	[ -z "$stderr" ] || flunk "expected a silent -q run, stderr:" "$stderr"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 9
	assert_stderr_contains "interval 30 is below 60 minutes"
}

@test "config: --json reports a bad configuration as exit 3 too" {
	{ prelude; printf '%s\n' "colour = blue"; } | write_config
	run --separate-stderr beacon -c "$CONFIG" --json
	assert_status 3
	[ "$(json_get status <<<"$output")" = config ] || flunk "--json:" "$output"
	[ "$(json_get servers <<<"$output")" = "[]" ] || flunk "--json servers:" "$output"
}
