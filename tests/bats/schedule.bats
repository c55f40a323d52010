#!/usr/bin/env bats
# The schedule (CONTRACT §5): slot(t) = floor((local_minutes(t) - S) / I);
# due when never reported, or slot(now) > slot(last) and now - last >= 60
# min.  The clock is BEACON_REPORT_NOW (test builds), the zone TZ, the
# last report a stamp in state_dir.  -f ignores the schedule, except the
# built-in server's 60-minute floor; --splay waits only on a real, due run.

load helpers

# sched_config INTERVAL START: a collector "mylab" (started here) with that
# interval and start_time, and the built-in server's CA.
sched_config() {
	start_collector || return 1
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[beacon]
ca_path = $TEST_CA/ca.pem

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT/beacon
interval = $1
start_time = $2
ca_path = $TEST_CA/ca.pem
EOF
}

# run_at NOW ARGS...: one run of the test binary with its clock at NOW,
# only for -s mylab unless ARGS name servers.
run_at() {
	local now=$1
	shift
	export BEACON_REPORT_NOW=$now
	if [[ " $* " == *" -s "* ]]; then
		run --separate-stderr beacon -c "$CONFIG" "$@"
	else
		run --separate-stderr beacon -c "$CONFIG" -s mylab "$@"
	fi
	unset BEACON_REPORT_NOW
}

# assert_not_due UNTIL [NAME]: exit 9, the one line of CONTRACT §8, and
# nothing asked of Asterisk, no connection to the collector.
assert_not_due() {
	local name=${2:-mylab}
	assert_status 9
	assert_output "$name: not due until $1"
	assert_no_asterisk_calls
	[ "$(collector_request_count "$name")" -eq 0 ] ||
		flunk "a not-due run sent requests:" "$(collector_requests "$name")"
	local dir
	dir=$(_state_of "$name")
	[ ! -s "$dir/connections.log" ] ||
		flunk "a not-due run connected:" "$(cat "$dir/connections.log")"
}

# assert_sent_at NOW [NAME]: exit 0, "NAME: sent", the collector got the
# report, and the stamp is now NOW.
assert_sent_at() {
	local name=${2:-mylab}
	assert_status 0
	assert_output "$name: sent"
	[ "$(collector_request_count "$name" PUT)" -ge 1 ] ||
		flunk "no PUT reached $name:" "$(collector_requests "$name")"
	[ "$(stamp_get "$name")" = "$1" ] ||
		flunk "stamp of $name: expected $1, got $(stamp_get "$name")"
}

# ---- the slots of I=360, S=00:00 in UTC ------------------------------------------

@test "schedule: never reported is due at once" {
	sched_config 360 00:00
	run_at 2026-11-22T03:17:00Z
	assert_sent_at 2026-11-22T03:17:00Z
}

@test "schedule: last 00:30, now 05:59 is not due until 06:00 (exit 9, no asterisk, no connection)" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T00:30:00Z
	run_at 2026-11-22T05:59:00Z
	assert_not_due 2026-11-22T06:00:00Z
	run_at 2026-11-22T05:59:59Z
	assert_not_due 2026-11-22T06:00:00Z
	[ "$(stamp_get mylab)" = 2026-11-22T00:30:00Z ]
}

@test "schedule: last 00:30, now 06:00 is due (a new slot)" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T00:30:00Z
	run_at 2026-11-22T06:00:00Z
	assert_sent_at 2026-11-22T06:00:00Z
}

@test "schedule: the --json of a not-due run carries result not_due and next_due" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T00:30:00Z
	run_at 2026-11-22T05:59:00Z --json
	assert_status 9
	[ "$(json_get exit_code <<<"$output")" = 9 ]
	[ "$(json_get status <<<"$output")" = not_due ]
	[ "$(json_get servers.0.result <<<"$output")" = not_due ]
	[ "$(json_get servers.0.next_due <<<"$output")" = 2026-11-22T06:00:00Z ]
	assert_no_asterisk_calls
}

@test "schedule: last 04:59, now 06:00 is due; last 05:00, now 06:00 is due (60 min exactly)" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T04:59:00Z
	run_at 2026-11-22T06:00:00Z
	assert_sent_at 2026-11-22T06:00:00Z
	stamp_set mylab 2026-11-22T05:00:00Z
	run_at 2026-11-22T06:00:00Z
	assert_sent_at 2026-11-22T06:00:00Z
}

@test "schedule: last 05:59, now 06:00 crosses a boundary but is within 60 min: not due until 06:59" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T05:59:00Z
	run_at 2026-11-22T06:00:00Z
	assert_not_due 2026-11-22T06:59:00Z
}

@test "schedule: the 60-minute gap across a boundary: last 05:50, now 06:10 is not due until 06:50" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T05:50:00Z
	run_at 2026-11-22T06:10:00Z
	assert_not_due 2026-11-22T06:50:00Z
	run_at 2026-11-22T06:49:59Z
	assert_not_due 2026-11-22T06:50:00Z
	run_at 2026-11-22T06:50:00Z
	assert_sent_at 2026-11-22T06:50:00Z
}

@test "schedule: the gap counts seconds: last 05:00:01, now 06:00:00 is not due until 06:00:01" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T05:00:01Z
	run_at 2026-11-22T06:00:00Z
	assert_not_due 2026-11-22T06:00:01Z
}

@test "schedule: a report in the same slot, hours later, is still not due" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T12:00:00Z
	run_at 2026-11-22T17:59:00Z
	assert_not_due 2026-11-22T18:00:00Z
}

@test "schedule: after a sent report the run says when the next is due" {
	sched_config 360 00:00
	run_at 2026-11-22T13:05:00Z
	assert_sent_at 2026-11-22T13:05:00Z
	run_at 2026-11-22T14:30:00Z
	assert_status 9
	assert_output "mylab: not due until 2026-11-22T18:00:00Z"
}

# ---- start_time and interval ------------------------------------------------------

@test "schedule: start_time 01:30 shifts the slots: 07:29 is not due, 07:30 is" {
	sched_config 360 01:30
	stamp_set mylab 2026-11-22T02:00:00Z
	run_at 2026-11-22T07:29:00Z
	assert_not_due 2026-11-22T07:30:00Z
	run_at 2026-11-22T07:30:00Z
	assert_sent_at 2026-11-22T07:30:00Z
}

@test "schedule: start_time 01:30: 01:29 and 02:29 lie in different slots (with S=00:00 they would not)" {
	sched_config 360 01:30
	stamp_set mylab 2026-11-22T01:29:00Z
	run_at 2026-11-22T02:29:00Z
	assert_sent_at 2026-11-22T02:29:00Z
}

@test "schedule: an interval that does not divide the day counts slots from 1970 (I=420)" {
	sched_config 420 00:00
	local b last pre
	# A boundary of I=420 after 2026-11-22 (minutes since 1970, UTC) that
	# is not one of I=360's, by the formula of CONTRACT §5, and two times
	# before it in its previous slot.
	read -r last pre b < <("$PY" -c '
import calendar, time
f = lambda m: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m * 60))
m = calendar.timegm((2026, 11, 22, 0, 0, 0)) // 60
b = (m // 420 + 1) * 420
while b % 360 == 0:
    b += 420
print(f(b - 120), f(b - 1), f(b))
')
	[ -n "$b" ]
	stamp_set mylab "$last"
	run_at "$pre"
	assert_not_due "$b"
	run_at "$b"
	assert_sent_at "$b"
}

@test "schedule: interval 1440 with start_time 23:00: one report a day, due from 23:00" {
	sched_config 1440 23:00
	stamp_set mylab 2026-11-21T23:10:00Z
	run_at 2026-11-22T22:59:00Z
	assert_not_due 2026-11-22T23:00:00Z
	run_at 2026-11-22T23:00:00Z
	assert_sent_at 2026-11-22T23:00:00Z
}

# ---- local time ------------------------------------------------------------------

# use_zone ZONE: TZ=ZONE, failing loudly when tzdata lacks it (glibc would
# quietly use UTC and the test would fail for the wrong reason).
use_zone() {
	[ -f "/usr/share/zoneinfo/$1" ] ||
		flunk "time zone $1 is not installed: the tzdata package is needed"
	export TZ=$1
}

@test "schedule: start_time is local time (TZ=America/New_York, EST)" {
	sched_config 360 00:00
	use_zone America/New_York
	# 06:00 EST is 11:00 UTC
	stamp_set mylab 2026-11-22T06:00:00Z
	run_at 2026-11-22T10:59:00Z
	assert_not_due 2026-11-22T11:00:00Z
	run_at 2026-11-22T11:00:00Z
	assert_sent_at 2026-11-22T11:00:00Z
}

@test "schedule: DST begins (Europe/Berlin, 2026-03-29): local 06:00 CEST is 04:00 UTC" {
	sched_config 360 00:00
	use_zone Europe/Berlin
	stamp_set mylab 2026-03-29T00:30:00Z # 01:30 CET
	run_at 2026-03-29T03:59:00Z          # 05:59 CEST
	assert_not_due 2026-03-29T04:00:00Z
	run_at 2026-03-29T04:00:00Z
	assert_sent_at 2026-03-29T04:00:00Z
}

@test "schedule: a start_time inside the skipped hour is due at the first minute after it" {
	sched_config 1440 02:30
	use_zone Europe/Berlin
	stamp_set mylab 2026-03-28T12:00:00Z # 13:00 CET on the 28th
	run_at 2026-03-29T00:59:00Z          # 01:59 CET; 02:30 never comes
	assert_not_due 2026-03-29T01:00:00Z  # 03:00 CEST
	run_at 2026-03-29T01:00:00Z
	assert_sent_at 2026-03-29T01:00:00Z
}

@test "schedule: DST ends (Europe/Berlin, 2026-10-25): local 06:00 CET is 05:00 UTC" {
	sched_config 360 00:00
	use_zone Europe/Berlin
	stamp_set mylab 2026-10-24T23:30:00Z # 01:30 CEST on the 25th
	run_at 2026-10-25T04:59:00Z          # 05:59 CET
	assert_not_due 2026-10-25T05:00:00Z
	run_at 2026-10-25T05:00:00Z
	assert_sent_at 2026-10-25T05:00:00Z
}

@test "schedule: in the repeated hour local minutes decide: 02:45 CEST and 02:50 CET share a slot" {
	sched_config 60 00:30
	use_zone Europe/Berlin
	stamp_set mylab 2026-10-25T00:45:00Z # 02:45 CEST
	run_at 2026-10-25T01:50:00Z          # 02:50 CET, 65 min later
	assert_not_due 2026-10-25T02:30:00Z  # 03:30 CET
	run_at 2026-10-25T02:30:00Z
	assert_sent_at 2026-10-25T02:30:00Z
}

# ---- stamps ----------------------------------------------------------------------

@test "schedule: a stamp more than 24 h in the future (a clock reset) is ignored with a warning, so the server is due" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-23T12:01:00Z
	run_at 2026-11-22T12:00:00Z
	assert_sent_at 2026-11-22T12:00:00Z
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "2026-11-23T12:01:00Z"
	assert_stderr_contains "future"
}

# issue 11 / CONTRACT §5: a small clock step back never lifts the floor.
@test "schedule: a stamp in the future by up to 24 h counts as a report made now: not due, and -f keeps the built-in server's floor" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T12:30:00Z
	run_at 2026-11-22T12:00:00Z
	assert_not_due 2026-11-22T18:00:00Z
	refute_stderr_contains "future"
	# the built-in server: 30 min ahead, -f: the 60-minute floor holds
	stamp_set beacon 2026-11-22T12:30:00Z
	BEACON_REPORT_NOW=2026-11-22T12:00:00Z run --separate-stderr beacon -c "$CONFIG" -s beacon -f
	assert_status 9
	assert_output "beacon: not due until 2026-11-22T13:00:00Z"
	assert_no_asterisk_calls
	# 23 h 59 min ahead still counts as now
	stamp_set mylab 2026-11-23T11:59:00Z
	run_at 2026-11-22T12:00:00Z
	assert_not_due 2026-11-22T18:00:00Z
}

@test "schedule: each server has its own stamp" {
	sched_config 360 00:00
	start_collector other
	add_collector other
	stamp_set mylab 2026-11-22T07:00:00Z
	stamp_set other 2026-11-22T05:00:00Z
	run_at 2026-11-22T08:30:00Z -s mylab -s other
	assert_status 0
	assert_output "mylab: not due until 2026-11-22T12:00:00Z
other: sent"
	[ "$(collector_request_count mylab)" -eq 0 ]
	[ "$(collector_request_count other PUT)" -eq 1 ]
	[ "$(stamp_get mylab)" = 2026-11-22T07:00:00Z ]
	[ "$(stamp_get other)" = 2026-11-22T08:30:00Z ]
}

# ---- --force -----------------------------------------------------------------------

@test "schedule: -f makes a collector due whatever its stamp" {
	sched_config 360 00:00
	stamp_set mylab 2026-11-22T11:59:00Z
	run_at 2026-11-22T12:01:00Z
	assert_not_due 2026-11-22T12:59:00Z
	run_at 2026-11-22T12:01:00Z -f
	assert_sent_at 2026-11-22T12:01:00Z
}

@test "schedule: -f keeps the built-in server's 60-minute floor: 30 min ago is not due" {
	sched_config 360 00:00
	start_collector beacon --port "$TEST_BEACON_PORT"
	stamp_set beacon 2026-11-22T11:30:00Z
	run_at 2026-11-22T12:00:00Z -s beacon -f
	assert_not_due 2026-11-22T12:30:00Z beacon
	stamp_set beacon 2026-11-22T11:00:01Z
	run_at 2026-11-22T12:00:00Z -s beacon -f
	assert_not_due 2026-11-22T12:00:01Z beacon
}

@test "schedule: -f sends to the built-in server when its last report is 61 min old" {
	sched_config 360 00:00
	start_collector beacon --port "$TEST_BEACON_PORT"
	stamp_set beacon 2026-11-22T10:59:00Z
	run_at 2026-11-22T12:00:00Z -s beacon -f
	assert_sent_at 2026-11-22T12:00:00Z beacon
}

@test "schedule: -f with the built-in server held back still sends to a collector" {
	sched_config 360 00:00
	start_collector beacon --port "$TEST_BEACON_PORT"
	stamp_set beacon 2026-11-22T11:30:00Z
	stamp_set mylab 2026-11-22T11:59:00Z
	run_at 2026-11-22T12:00:00Z -s beacon -s mylab -f
	assert_status 0
	assert_output "beacon: not due until 2026-11-22T12:30:00Z
mylab: sent"
	[ "$(collector_request_count beacon)" -eq 0 ]
	[ "$(stamp_get beacon)" = 2026-11-22T11:30:00Z ]
	[ "$(stamp_get mylab)" = 2026-11-22T12:00:00Z ]
}

# ---- --splay -----------------------------------------------------------------------

# timed SECONDS_MAX CMD...: run CMD (killed after 30 s) and fail when it
# took more than SECONDS_MAX seconds.
timed() {
	local max=$1 t0 t1
	shift
	t0=$(date +%s%N)
	run --separate-stderr timeout 30 "$@"
	t1=$(date +%s%N)
	elapsed_ms=$(((t1 - t0) / 1000000))
	[ "$elapsed_ms" -le $((max * 1000)) ] ||
		flunk "took ${elapsed_ms} ms, more than ${max} s: $*" "status $status" "$output" "${stderr-}"
}

@test "schedule: --splay 2 on a due run waits at most 2 s, then sends" {
	sched_config 360 00:00
	timed 6 "$BEACON_BIN" -c "$CONFIG" -s mylab --splay 2
	assert_status 0
	assert_output "mylab: sent"
}

@test "schedule: --splay does not wait with -n, with -f, or when nothing is due" {
	sched_config 360 00:00
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab -n --splay 3600
	assert_status 0
	[ "$(collector_request_count)" -eq 0 ]
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab -f --splay 3600
	assert_status 0
	assert_output "mylab: sent"
	# just sent, so not due now
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab --splay 3600
	assert_status 9
}

@test "schedule: --splay with -f or -n says that it does not wait, unless -q (issue 25)" {
	sched_config 360 00:00
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab -n --splay 600
	assert_status 0
	assert_stderr_contains "beacon-report: --splay 600: no wait with -n"
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab -f --splay 600
	assert_status 0
	assert_output "mylab: sent"
	assert_stderr_contains "beacon-report: --splay 600: no wait with -f"
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab -f -q --splay 600
	assert_status 0
	[ -z "$output$stderr" ] || flunk "-q printed:" "$output" "$stderr"
	# a cron run's --splay alone says nothing (nothing due here: no wait)
	timed 8 "$BEACON_BIN" -c "$CONFIG" -s mylab --splay 600
	assert_status 9
	refute_stderr_contains "--splay"
}

@test "schedule: --splay outside 0..3600 is a usage error" {
	sched_config 360 00:00
	local v
	for v in -1 3601 abc ""; do
		run --separate-stderr beacon -c "$CONFIG" --splay "$v"
		assert_status 2
	done
	assert_no_asterisk_calls
}
