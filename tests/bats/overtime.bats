#!/usr/bin/env bats
# Over months (CONTRACT §9): the retry state and its back-off, quiet cron
# with warn_after, the archive of accepted bodies and --diff, clones, and
# the metrics file.  The clock is BEACON_REPORT_NOW (test builds).

load helpers

T0=2026-11-22T10:00:00Z

# at TIME ARGS...: one run of mylab with the clock at TIME.
at() {
	local now=$1
	shift
	BEACON_REPORT_NOW=$now run --separate-stderr beacon -c "$CONFIG" -s mylab "$@"
}

# plus SECONDS: T0 + SECONDS as RFC 3339.
plus() {
	date -u -d "@$(($(date -u -d "$T0" +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}

retry_field() {
	json_get "$1" <"$STATE_DIR/mylab.retry"
}

# An id in the AstDB, so that the first request is the PUT.
seed_ids() {
	astdb_put beacon/mylab server_id 11111111-2222-4333-8444-555555555555
}

# mylab's collector started and then stopped: a port where nobody listens.
unreachable_config() {
	start_collector
	stop_collector mylab
	default_config
}

@test "an unreached server backs off 1 h, then 2 h; not due meanwhile, without asterisk or a connection" {
	unreachable_config
	at "$T0"
	assert_status 5
	assert_eq failures 1 "$(retry_field failures)"
	assert_eq since "$T0" "$(retry_field since)"
	assert_eq until "$(plus 3600)" "$(retry_field until)"

	: >"$ASTERISK_STUB_DIR/calls.log"
	at "$(plus 1800)"
	assert_status 9
	assert_output "mylab: retrying after $(plus 3600) (1 failure since $T0)"
	assert_no_asterisk_calls
	at "$(plus 1800)" --json
	assert_status 9
	assert_eq result not_due "$(json_get servers.0.result <<<"$output")"
	assert_eq next_due "$(plus 3600)" "$(json_get servers.0.next_due <<<"$output")"
	assert_eq failures 1 "$(json_get servers.0.retry.failures <<<"$output")"

	at "$(plus 3600)"
	assert_status 5
	assert_eq failures 2 "$(retry_field failures)"
	assert_eq since "$T0" "$(retry_field since)"
	assert_eq until "$(plus $((3600 + 7200)))" "$(retry_field until)"
}

@test "the back-off doubles up to 24 h and stays there" {
	unreachable_config
	local t=0 want
	for want in 3600 7200 14400 28800 57600 86400 86400; do
		at "$(plus $t)"
		assert_status 5
		assert_eq "until after $t" "$(plus $((t + want)))" "$(retry_field until)"
		t=$((t + want))
	done
	assert_eq failures 7 "$(retry_field failures)"
}

@test "503 with Retry-After in seconds: that wait, not the back-off" {
	start_collector
	default_config
	seed_ids
	collector_control '{"responses":[{"match":"PUT","status":503,"headers":{"Retry-After":"600"}}]}'
	at "$T0"
	assert_status 5
	assert_eq until "$(plus 600)" "$(retry_field until)"
	at "$(plus 599)"
	assert_status 9
	assert_eq requests 1 "$(collector_request_count mylab)"
	at "$(plus 600)"
	assert_success
	assert_eq failures 0 "$(retry_field failures)"
}

@test "429 with Retry-After seconds is clamped to 60 s .. 7 days" {
	start_collector
	default_config
	seed_ids
	collector_control '{"responses":[{"match":"PUT","status":429,"headers":{"Retry-After":"5"}}]}'
	at "$T0"
	assert_status 5
	assert_eq "short wait raised to 60 s" "$(plus 60)" "$(retry_field until)"
	collector_control '{"responses":[{"match":"PUT","status":429,"headers":{"Retry-After":"99999999"}}]}'
	at "$(plus 60)"
	assert_status 5
	assert_eq "long wait cut to 7 days" "$(plus $((60 + 604800)))" "$(retry_field until)"
}

@test "429 with Retry-After as an HTTP date, against the run's clock" {
	start_collector
	default_config
	seed_ids
	local date
	date=$(date -u -d "$(plus 10800)" '+%a, %d %b %Y %H:%M:%S GMT')
	collector_control "{\"responses\":[{\"match\":\"PUT\",\"status\":429,\"headers\":{\"Retry-After\":\"$date\"}}]}"
	at "$T0"
	assert_status 5
	assert_eq until "$(plus 10800)" "$(retry_field until)"
	at "$(plus 10799)"
	assert_status 9
	assert_output_contains "retrying after $(plus 10800)"
}

@test "a 500 without Retry-After backs off as usual; a bad Retry-After is warned about" {
	start_collector
	default_config
	seed_ids
	collector_control '{"responses":[{"match":"PUT","status":503,"headers":{"Retry-After":"soon"}}]}'
	at "$T0"
	assert_status 5
	assert_stderr_contains 'Retry-After "soon" is neither seconds nor an HTTP date'
	assert_eq until "$(plus 3600)" "$(retry_field until)"
}

@test "--force ignores the back-off; an accepted report clears it; --show shows the state" {
	unreachable_config
	at "$T0"
	assert_status 5
	start_collector --port "$mylab_PORT"
	at "$(plus 60)"
	assert_status 9
	assert_eq requests 0 "$(collector_request_count mylab)"
	at "$(plus 60)" --show
	assert_success
	assert_output_contains "Retry state:"
	assert_output_contains "mylab: 1 failure since $T0; retrying after $(plus 3600)"
	at "$(plus 60)" --show --json
	assert_eq failures 1 "$(json_get servers.0.retry.failures <<<"$output")"
	assert_eq until "$(plus 3600)" "$(json_get servers.0.retry.until <<<"$output")"

	at "$(plus 60)" -f
	assert_success
	assert_output "mylab: sent"
	assert_eq failures 0 "$(retry_field failures)"
	assert_eq until null "$(retry_field until)"
	at "$(plus 120)" --show
	assert_output_contains "mylab: not failing"
	at "$(plus 120)" --show --json
	assert_eq failures 0 "$(json_get servers.0.retry.failures <<<"$output")"
}

@test "recovery after the back-off: the next due run sends and clears the state" {
	unreachable_config
	at "$T0"
	assert_status 5
	start_collector --port "$mylab_PORT"
	at "$(plus 3600)"
	assert_success
	assert_eq failures 0 "$(retry_field failures)"
	assert_eq stamp "$(plus 3600)" "$(stamp_get mylab)"
}

@test "a back-off ending more than 7 days ahead (a clock reset) is ignored with a warning" {
	start_collector
	default_config
	mkdir -p "$STATE_DIR" && chmod 700 "$STATE_DIR"
	printf '{"failures":2,"since":"%s","until":"2030-01-01T00:00:00Z","last_attempt":"%s","last_exit_code":5}' \
		"$T0" "$T0" >"$STATE_DIR/mylab.retry"
	at "$(plus 60)"
	assert_success
	assert_stderr_contains "back-off until more than 7 days ahead"
	assert_eq failures 0 "$(retry_field failures)"
}

@test "--reset forgets the retry state" {
	unreachable_config
	at "$T0"
	assert_status 5
	[ -f "$STATE_DIR/mylab.retry" ]
	at "$(plus 60)" --reset
	assert_success
	[ ! -e "$STATE_DIR/mylab.retry" ]
}

# ---- quiet cron ---------------------------------------------------------

# quiet_config WARN_AFTER: an unreachable mylab, warn_after in [general].
quiet_config() {
	start_collector
	stop_collector mylab
	write_config <<EOF
[general]
state_dir = $STATE_DIR
warn_after = $1

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
EOF
}

@test "-q: an unreached server is silent until it has failed for warn_after hours, then speaks each attempt" {
	quiet_config 2
	at "$T0" -q
	assert_status 5
	assert_eq stderr "" "$stderr"
	assert_eq stdout "" "$output"
	at "$(plus 3600)" -q
	assert_status 5
	assert_eq "stderr at 1 h" "" "$stderr"
	at "$(plus 10800)" -q
	assert_status 5
	assert_stderr_contains "server mylab:"
	# without -q every failure speaks at once
	at "$(plus 30000)"
	assert_status 5
	assert_stderr_contains "server mylab:"
}

@test "-q with warn_after = 0 speaks at the first failure" {
	quiet_config 0
	at "$T0" -q
	assert_status 5
	assert_stderr_contains "server mylab:"
}

@test "-q: a rejection speaks at once" {
	start_collector
	write_config <<EOF
[general]
state_dir = $STATE_DIR
warn_after = 24

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
EOF
	seed_ids
	collector_control '{"responses":[{"match":"PUT","status":409,"body":{"error":"no"}}]}'
	at "$T0" -q
	assert_status 6
	assert_stderr_contains "server mylab: HTTP 409"
	assert_eq "no back-off for a rejection" 0 "$(retry_field failures)"
	assert_eq last_exit_code 6 "$(retry_field last_exit_code)"
}

# ---- the archive and --diff ----------------------------------------------

@test "the accepted body is archived byte for byte, mode 0600, replaced atomically" {
	start_collector
	default_config
	at "$T0"
	assert_success
	local f="$STATE_DIR/mylab.sent.json" ino1 ino2 body
	[ -f "$f" ]
	assert_eq mode 600 "$(stat -c %a "$f")"
	body=$(collector_request mylab -1 body)
	assert_eq "archived body" "$body" "$(cat "$f")"
	ino1=$(stat -c %i "$f")
	asterisk_answer "core show calls" <<<"5 active calls
77 calls processed"
	at "$(plus 21600)"
	assert_success
	ino2=$(stat -c %i "$f")
	assert_ne "a new file renamed into place" "$ino1" "$ino2"
	assert_eq "the second body" "$(collector_request mylab -1 body)" "$(cat "$f")"
	assert_eq mode 600 "$(stat -c %a "$f")"
	[ -z "$(find "$STATE_DIR" -name '*.tmp')" ] || flunk "temporary files left"
}

@test "a rejected or unreached report leaves the archive as it was" {
	start_collector
	default_config
	at "$T0"
	assert_success
	local before
	before=$(cat "$STATE_DIR/mylab.sent.json")
	collector_control '{"responses":[{"match":"PUT","status":400,"body":"bad"}]}'
	asterisk_answer "core show calls" <<<"9 active calls
99 calls processed"
	at "$(plus 21600)"
	assert_status 6
	assert_eq archive "$before" "$(cat "$STATE_DIR/mylab.sent.json")"
}

# The first report with version 20.5.2 and three modules.
diff_first_report() {
	start_collector
	default_config
	asterisk_answer "core show version" <<<"Asterisk 20.5.2 built by root @ vm on a x86_64 running Linux on 2026-01-01 10:00:00 UTC"
	asterisk_answer "module show" <<'EOF'
Module                         Description                              Use Count  Status      Support Level
chan_sip.so                    Session Initiation Protocol (SIP)        0          Running          extended
res_pjsip.so                   Basic SIP resource                       1          Running              core
app_dial.so                    Dialing Application                      0          Running              core
3 modules loaded
EOF
	at "$T0"
	assert_success
}

@test "--diff after a version upgrade and modules added, removed and changed (text)" {
	diff_first_report
	asterisk_answer "core show version" <<<"Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-22 21:53:23 UTC"
	asterisk_answer "module show" <<'EOF'
Module                         Description                              Use Count  Status      Support Level
res_pjsip.so                   Basic SIP resource                       1          Not Running          core
app_dial.so                    Dialing Application                      0          Running          extended
res_beacon.so                  Asterisk Beacon                          0          Running              core
3 modules loaded
EOF
	local before
	before=$(ls -l --time-style=+%s.%N "$STATE_DIR"; cat "$STATE_DIR"/*)
	at "$(plus 60)" --diff
	assert_success
	assert_output_contains "mylab: changes since the report accepted $T0:"
	assert_output_contains "  version: Asterisk 20.5.2 (200502) -> Asterisk 22.10.1 (221001)"
	assert_output_contains "  module added: res_beacon.so (Running, core)"
	assert_output_contains "  module removed: chan_sip.so (Running, extended)"
	assert_output_contains "  module changed: res_pjsip.so: status Running -> Not Running;"
	assert_output_contains "  module changed: app_dial.so: support_level core -> extended;"
	assert_eq "sends nothing" 2 "$(collector_request_count mylab)"
	assert_eq "changes nothing" "$before" "$(ls -l --time-style=+%s.%N "$STATE_DIR"; cat "$STATE_DIR"/*)"
}

@test "--diff --json: the same changes as data" {
	diff_first_report
	asterisk_answer "core show version" <<<"Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-22 21:53:23 UTC"
	asterisk_answer "module show" <<'EOF'
Module                         Description                              Use Count  Status      Support Level
res_pjsip.so                   Basic SIP resource                       1          Not Running          core
app_dial.so                    Dialing Application                      0          Running              core
res_beacon.so                  Asterisk Beacon                          0          Running              core
3 modules loaded
EOF
	at "$(plus 60)" --diff --json
	assert_success
	assert_eq name mylab "$(json_get servers.0.name <<<"$output")"
	assert_eq changed true "$(json_get servers.0.diff.changed <<<"$output")"
	assert_eq archived true "$(json_get servers.0.diff.archived <<<"$output")"
	assert_eq last_report "$T0" "$(json_get servers.0.diff.last_report <<<"$output")"
	assert_eq old "200502" "$(json_get servers.0.diff.version.old.number <<<"$output")"
	assert_eq new "221001" "$(json_get servers.0.diff.version.new.number <<<"$output")"
	assert_eq added res_beacon.so "$(json_get servers.0.diff.modules.added.0.name <<<"$output")"
	assert_eq removed chan_sip.so "$(json_get servers.0.diff.modules.removed.0.name <<<"$output")"
	assert_eq changed res_pjsip.so "$(json_get servers.0.diff.modules.changed.0.name <<<"$output")"
	assert_eq status '{"new": "Not Running", "old": "Running"}' \
		"$(json_get servers.0.diff.modules.changed.0.status <<<"$output")"
	assert_eq "one change" 1 "$(json_get servers.0.diff.modules.changed <<<"$output" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
}

@test "--diff with nothing changed, with no report yet, and for a new private name" {
	diff_first_report
	at "$(plus 60)" --diff
	assert_success
	assert_output "mylab: no change since the report accepted $T0"
	printf '%s\n' "" "[mylab2]" "type = server" "url = https://127.0.0.1:$mylab_PORT/two" \
		"ca_path = $TEST_CA/ca.pem" "private_name = lab two" >>"$CONFIG"
	BEACON_REPORT_NOW=$(plus 60) run --separate-stderr beacon -c "$CONFIG" -s mylab2 --diff
	assert_success
	assert_output "mylab2: no report accepted yet: nothing to compare"
	sed -i 's/^url = https:\/\/127.0.0.1:[0-9]*$/&\nprivate_name = renamed/' "$CONFIG"
	at "$(plus 60)" --diff --json
	assert_eq private_name '{"new": "renamed", "old": null}' \
		"$(json_get servers.0.diff.private_name <<<"$output")"
}

# ---- clones -------------------------------------------------------------

@test "a cloned AstDB re-registers once and only once; machine is a salted hash, never sent" {
	start_collector
	default_config
	printf '%s\n' 0123456789abcdef0123456789abcdef >"$BATS_TEST_TMPDIR/id-a"
	printf '%s\n' fedcba9876543210fedcba9876543210 >"$BATS_TEST_TMPDIR/id-b"
	export BEACON_REPORT_MACHINE_ID=$BATS_TEST_TMPDIR/id-a
	at "$T0"
	assert_success
	local id1 m1 id2 m2
	id1=$(astdb_get beacon/mylab server_id)
	m1=$(astdb_get beacon/mylab machine)
	[[ $m1 =~ ^[0-9a-f]{32}$ ]] || flunk "machine is not 32 hex digits: $m1"
	[[ $m1 != *0123456789abcdef* ]] || flunk "machine holds the machine id"
	refute_output_contains "$m1"
	for i in 0 1; do
		[[ $(collector_request mylab $i body) != *"$m1"* ]] || flunk "machine was sent"
	done
	at "$(plus 21600)"
	assert_success
	assert_eq "same machine: no new registration" 1 "$(collector_request_count mylab POST)"

	# the AstDB (with its state_dir) copied to machine b
	export BEACON_REPORT_MACHINE_ID=$BATS_TEST_TMPDIR/id-b
	at "$(plus 43200)"
	assert_success
	assert_stderr_contains "the AstDB was copied from another machine"
	assert_eq "one new registration" 2 "$(collector_request_count mylab POST)"
	id2=$(astdb_get beacon/mylab server_id)
	m2=$(astdb_get beacon/mylab machine)
	assert_ne "a new server id" "$id1" "$id2"
	assert_ne "a new machine" "$m1" "$m2"
	at "$(plus 64800)"
	assert_success
	refute_stderr_contains "copied from another machine"
	assert_eq "and only once" 2 "$(collector_request_count mylab POST)"
	assert_eq "the id stays" "$id2" "$(astdb_get beacon/mylab server_id)"
}

@test "clone_detection = no: no machine key and no re-registration; no machine id: nothing stored" {
	start_collector
	write_config <<EOF
[general]
state_dir = $STATE_DIR
clone_detection = no

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
EOF
	printf '%s\n' 0123456789abcdef0123456789abcdef >"$BATS_TEST_TMPDIR/id-a"
	export BEACON_REPORT_MACHINE_ID=$BATS_TEST_TMPDIR/id-a
	at "$T0"
	assert_success
	refute astdb_get beacon/mylab machine
	astdb_put beacon/mylab machine 00000000000000000000000000000000
	at "$(plus 21600)"
	assert_success
	assert_eq "no new registration" 1 "$(collector_request_count mylab POST)"

	sed -i '/clone_detection/d' "$CONFIG"
	astdb_put beacon/mylab machine 00000000000000000000000000000000
	export BEACON_REPORT_MACHINE_ID=/nonexistent/machine-id
	at "$(plus 43200)"
	assert_success
	assert_eq "no machine id: no check" 1 "$(collector_request_count mylab POST)"
}

@test "an AstDB from before clone detection gets its machine key without re-registering" {
	start_collector
	default_config
	at "$T0"
	assert_success
	refute astdb_get beacon/mylab machine
	printf '%s\n' 0123456789abcdef0123456789abcdef >"$BATS_TEST_TMPDIR/id-a"
	export BEACON_REPORT_MACHINE_ID=$BATS_TEST_TMPDIR/id-a
	at "$(plus 21600)"
	assert_success
	astdb_get beacon/mylab machine >/dev/null
	assert_eq "no new registration" 1 "$(collector_request_count mylab POST)"
}

# ---- metrics ------------------------------------------------------------

metrics_config() {
	start_collector
	mkdir -p "$BATS_TEST_TMPDIR/textfile"
	write_config <<EOF
[general]
state_dir = $STATE_DIR
metrics_file = $BATS_TEST_TMPDIR/textfile/beacon.prom

[beacon]
ca_path = $TEST_CA/ca.pem

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
EOF
	METRICS=$BATS_TEST_TMPDIR/textfile/beacon.prom
}

@test "metrics_file: node_exporter's textfile format, as promtool checks it" {
	command -v promtool >/dev/null || flunk "promtool missing (Debian package prometheus)"
	metrics_config
	at "$T0"
	assert_success
	run promtool check metrics <"$METRICS"
	assert_success
	local t0
	t0=$(date -u -d "$T0" +%s)
	grep -qx "beacon_report_last_success_timestamp_seconds{server=\"mylab\"} $t0" "$METRICS" ||
		flunk "no last success" "$(cat "$METRICS")"
	grep -qx "beacon_report_last_attempt_timestamp_seconds{server=\"mylab\"} $t0" "$METRICS" || flunk "no attempt"
	grep -qx 'beacon_report_consecutive_failures{server="mylab"} 0' "$METRICS" || flunk "failures"
	grep -qx 'beacon_report_last_exit_code{server="mylab"} 0' "$METRICS" || flunk "exit code"
	grep -q '^beacon_report_next_due_timestamp_seconds{server="beacon"} ' "$METRICS" ||
		flunk "every configured server is there, -s or not"
	assert_eq mode 644 "$(stat -c %a "$METRICS")"
}

@test "metrics_file: a not-due run leaves it untouched; a failure rewrites it" {
	metrics_config
	at "$T0"
	assert_success
	touch -d @1000000000 "$METRICS"
	local before
	before=$(stat -c '%i %Y' "$METRICS")
	: >"$ASTERISK_STUB_DIR/calls.log"
	at "$(plus 600)"
	assert_status 9
	assert_no_asterisk_calls
	assert_eq "untouched" "$before" "$(stat -c '%i %Y' "$METRICS")"

	stop_collector mylab
	at "$(plus 21600)"
	assert_status 5
	assert_ne "rewritten" "$before" "$(stat -c '%i %Y' "$METRICS")"
	grep -qx 'beacon_report_consecutive_failures{server="mylab"} 1' "$METRICS" || flunk "$(cat "$METRICS")"
	grep -qx 'beacon_report_last_exit_code{server="mylab"} 5' "$METRICS" || flunk "exit code"
	grep -qx "beacon_report_next_due_timestamp_seconds{server=\"mylab\"} $(($(date -u -d "$T0" +%s) + 21600 + 3600))" "$METRICS" ||
		flunk "next due is the back-off's end" "$(cat "$METRICS")"
	run promtool check metrics <"$METRICS"
	assert_success
}

@test "metrics_file: a dry run writes none" {
	metrics_config
	at "$T0" -n
	assert_success
	[ ! -e "$METRICS" ] || flunk "a dry run wrote the metrics file"
}
