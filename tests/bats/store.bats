#!/usr/bin/env bats
# What a run keeps (CONTRACT §4, §5): ids and tokens in the AstDB (family
# beacon and beacon/NAME), judged by the answer and a read-back; stamps and
# the lock in state_dir (0700, no symlinks followed, atomic stamps); --reset.

load helpers


# A collector mylab (started) and a configuration with it and the built-in
# server.
mylab_config() {
	start_collector || return 1
	default_config
}

# A configuration for runs that never reach a server (--reset): mylab's URL
# is a closed port.
offline_config() {
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[mylab]
type = server
url = https://127.0.0.1:9
EOF
}

# registry_ids [NAME]: the server ids the collector registered, one a line.
registry_ids() {
	collector_registry "${1:-mylab}" | "$PY" -c 'import json, sys; [print(k) for k in json.load(sys.stdin)]'
}

# registry_field NAME ID FIELD: the token or issued (as RFC 3339) of ID.
registry_field() {
	collector_registry "$1" | "$PY" -c '
import json, sys, time
v = json.load(sys.stdin)[sys.argv[1]][sys.argv[2]]
print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(v))) if sys.argv[2] == "issued" else v)
' "$2" "$3"
}

# refute_astdb_writes: no database put/del/deltree was run.
refute_astdb_writes() {
	if asterisk_calls | grep -Eq '^database (put|del|deltree) '; then
		flunk "expected no AstDB write, got:" "$(asterisk_calls)"
	fi
}

seed_ids() { # FAMILY SERVER_ID TOKEN_ID ISSUED
	astdb_put "$1" server_id "$2" && astdb_put "$1" token_id "$3" &&
		astdb_put "$1" token_issued "$4"
}

# ---- AstDB layout ---------------------------------------------------------------

@test "store: the built-in server keeps family beacon, a collector beacon/NAME" {
	mylab_config
	start_collector beacon --port "$TEST_BEACON_PORT"
	run --separate-stderr beacon -c "$CONFIG"
	assert_success
	local fam name sid
	for name in beacon mylab; do
		fam=beacon
		[ "$name" = beacon ] || fam=beacon/$name
		sid=$(astdb_get "$fam" server_id) || flunk "no /$fam/server_id:" "$(astdb_dump)"
		[[ $sid =~ $UUID_RE ]] || flunk "/$fam/server_id is not a UUID: $sid"
		[ "$(registry_ids "$name")" = "$sid" ] ||
			flunk "$name registered $(registry_ids "$name"), AstDB has $sid"
		[ "$(astdb_get "$fam" token_id)" = "$(registry_field "$name" "$sid" token)" ]
		[ "$(astdb_get "$fam" token_issued)" = "$(registry_field "$name" "$sid" issued)" ]
		[[ $(astdb_get "$fam" token_issued) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	done
	# nothing else was stored
	[ "$(astdb_dump | wc -l)" -eq 6 ] || flunk "expected 6 AstDB keys:" "$(astdb_dump)"
	[ "$(astdb_dump | cut -f1 | sort | tr '\n' ' ')" = \
		"/beacon/mylab/server_id /beacon/mylab/token_id /beacon/mylab/token_issued /beacon/server_id /beacon/token_id /beacon/token_issued " ]
}

@test "store: a stored id is used: the next run PUTs with it and registers nothing" {
	mylab_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	: >"$ASTERISK_STUB_DIR/calls.log"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f
	assert_success
	[ "$(collector_request_count mylab POST)" -eq 1 ]
	[ "$(collector_request_count mylab PUT)" -eq 2 ]
	[ "$(collector_request mylab -1 path)" = "/servers/$sid" ]
	[ "$(collector_request mylab -1 query)" = "tokenId=$tok" ]
	# nothing new learnt, so nothing written
	refute_astdb_writes
}

@test "store: a collector's ids are not the built-in server's (sub-family is not family)" {
	mylab_config
	start_collector beacon --port "$TEST_BEACON_PORT"
	seed_ids beacon/mylab 11111111-2222-4333-8444-555555555555 \
		0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d 2026-11-22T10:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s beacon
	assert_success
	[ "$(collector_request_count beacon POST)" -eq 1 ] ||
		flunk "the built-in server took beacon/mylab's id:" "$(collector_requests beacon)"
	[ "$(astdb_get beacon/mylab server_id)" = 11111111-2222-4333-8444-555555555555 ]
	[ "$(astdb_get beacon server_id)" = "$(registry_ids beacon)" ]
}

@test "store: a non-UUID server_id in the AstDB is absent, with a warning: register anew" {
	mylab_config
	seed_ids beacon/mylab not-a-uuid 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d 2026-11-22T10:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "beacon/mylab/server_id"
	[ "$(collector_request_count mylab POST)" -eq 1 ]
	[ "$(collector_request mylab 0 method)" = POST ]
	local sid
	sid=$(astdb_get beacon/mylab server_id)
	[[ $sid =~ $UUID_RE ]]
	[ "$(registry_ids)" = "$sid" ]
	# never a PUT to the bad id
	collector_requests | grep -q 'not-a-uuid' && flunk "the bad id reached the server"
	true
}

@test "store: an id with shell or URL characters in the AstDB never reaches a URL" {
	mylab_config
	astdb_put beacon/mylab server_id '../../x?y=1'
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	[ "$(collector_request_count mylab POST)" -eq 1 ]
	collector_requests | grep -qF '../../x' && flunk "the bad id reached the server"
	true
}

# ---- AstDB writes that do not hold ------------------------------------------------

@test "store: database put failing (read-only AstDB) is exit 7; the stamp is still written" {
	mylab_config
	asterisk_mode put_fail
	export BEACON_REPORT_NOW=2026-11-22T12:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "beacon/mylab"
	# the server accepted the report ...
	[ "$(collector_request_count mylab PUT)" -eq 1 ]
	# ... so its stamp is written (CONTRACT §1.7): a read-only AstDB must
	# not turn every cron run into a new registration.
	[ "$(stamp_get mylab)" = 2026-11-22T12:00:00Z ]
	refute astdb_get beacon/mylab server_id
}

@test "store: put answered 'Updated' but nothing stored (put_lie): the read-back catches it, exit 7" {
	mylab_config
	asterisk_mode put_lie
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "beacon/mylab"
	assert_asterisk_called "database show beacon/mylab"
	refute astdb_get beacon/mylab server_id
}

@test "store: an AstDB that reads back nothing (read_empty): registers anew, read-back fails, exit 7" {
	mylab_config
	seed_ids beacon/mylab 11111111-2222-4333-8444-555555555555 \
		0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d 2026-11-22T10:00:00Z
	asterisk_mode read_empty
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	[ "$(collector_request_count mylab POST)" -eq 1 ]
	[ "$(collector_request mylab 0 method)" = POST ]
	assert_stderr_contains "beacon/mylab"
}

@test "store: a write that fails for one server does not spoil the other's exit" {
	mylab_config
	start_collector beacon --port "$TEST_BEACON_PORT"
	asterisk_mode "put_fail@database put beacon/mylab"
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 7
	[[ $(astdb_get beacon server_id) =~ $UUID_RE ]]
	refute astdb_get beacon/mylab server_id
}

# ---- --reset ----------------------------------------------------------------------

# Two servers' ids and stamps, and keys that --reset must never touch.
seed_for_reset() {
	seed_ids beacon 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 \
		0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d 2026-11-22T10:00:00Z
	seed_ids beacon/mylab 11111111-2222-4333-8444-555555555555 \
		22222222-3333-4444-8555-666666666666 2026-11-22T11:00:00Z
	astdb_put beacon/other server_id 33333333-4444-4555-8666-777777777777
	astdb_put beacon note keep-me
	astdb_put beacon/mylab note keep-me-too
	astdb_put beaconx server_id 44444444-5555-4666-8777-888888888888
	stamp_set beacon 2026-11-22T10:00:00Z
	stamp_set mylab 2026-11-22T11:00:00Z
}

# The keys that no reset may touch are all there.
assert_untouched() {
	[ "$(astdb_get beacon/other server_id)" = 33333333-4444-4555-8666-777777777777 ]
	[ "$(astdb_get beacon note)" = keep-me ]
	[ "$(astdb_get beacon/mylab note)" = keep-me-too ]
	[ "$(astdb_get beaconx server_id)" = 44444444-5555-4666-8777-888888888888 ]
}

@test "store: --reset forgets every server's ids, tokens and stamps, and nothing else" {
	offline_config
	seed_for_reset
	run --separate-stderr beacon -c "$CONFIG" --reset
	assert_success
	local fam key
	for fam in beacon beacon/mylab; do
		for key in server_id token_id token_issued; do
			refute astdb_get "$fam" "$key"
		done
	done
	[ ! -e "$STATE_DIR/beacon.stamp" ]
	[ ! -e "$STATE_DIR/mylab.stamp" ]
	assert_untouched
	refute_asterisk_called "database deltree beacon"
}

@test "store: --reset -s beacon leaves beacon/mylab and mylab's stamp alone" {
	offline_config
	seed_for_reset
	run --separate-stderr beacon -c "$CONFIG" --reset -s beacon
	assert_success
	refute astdb_get beacon server_id
	refute astdb_get beacon token_id
	refute astdb_get beacon token_issued
	[ "$(astdb_get beacon/mylab server_id)" = 11111111-2222-4333-8444-555555555555 ]
	[ "$(astdb_get beacon/mylab token_id)" = 22222222-3333-4444-8555-666666666666 ]
	[ "$(astdb_get beacon/mylab token_issued)" = 2026-11-22T11:00:00Z ]
	[ ! -e "$STATE_DIR/beacon.stamp" ]
	[ "$(stamp_get mylab)" = 2026-11-22T11:00:00Z ]
	assert_untouched
}

@test "store: --reset -s mylab leaves the built-in server alone" {
	offline_config
	seed_for_reset
	run --separate-stderr beacon -c "$CONFIG" --reset -s mylab
	assert_success
	refute astdb_get beacon/mylab server_id
	refute astdb_get beacon/mylab token_id
	[ "$(astdb_get beacon server_id)" = 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 ]
	[ "$(stamp_get beacon)" = 2026-11-22T10:00:00Z ]
	[ ! -e "$STATE_DIR/mylab.stamp" ]
	assert_untouched
}

@test "store: --reset with nothing stored succeeds" {
	offline_config
	run --separate-stderr beacon -c "$CONFIG" --reset
	assert_success
}

@test "store: --reset then a run registers anew" {
	mylab_config
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	local old
	old=$(astdb_get beacon/mylab server_id)
	run --separate-stderr beacon -c "$CONFIG" --reset -s mylab
	assert_success
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	[ "$(collector_request_count mylab POST)" -eq 2 ]
	[[ $(astdb_get beacon/mylab server_id) =~ $UUID_RE ]]
	[ "$(astdb_get beacon/mylab server_id)" != "$old" ]
}

@test "store: --reset removes everything of that server: ids, machine, stamp, retry state, notices and the archived report (issue 25)" {
	mylab_config
	printf '0123456789abcdef0123456789abcdef\n' >"$BATS_TEST_TMPDIR/machine-id"
	export BEACON_REPORT_MACHINE_ID=$BATS_TEST_TMPDIR/machine-id
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	# what a run leaves: ids, machine, stamp, archive; and a retry state
	astdb_get beacon/mylab machine >/dev/null || flunk "the run stored no machine key"
	[ -e "$STATE_DIR/mylab.sent.json" ] || flunk "the run archived no report"
	printf '{"failures":1}\n' >"$STATE_DIR/mylab.retry"
	printf '{}\n' >"$STATE_DIR/mylab.notices"
	astdb_put beacon machine 0123456789abcdef0123456789abcdef
	run --separate-stderr beacon -c "$CONFIG" --reset -s mylab
	assert_success
	assert_output "mylab: reset"
	local key
	for key in server_id token_id token_issued machine; do
		if astdb_get beacon/mylab "$key" >/dev/null; then
			flunk "--reset left /beacon/mylab/$key"
		fi
	done
	local f
	for f in mylab.stamp mylab.retry mylab.notices mylab.sent.json; do
		[ ! -e "$STATE_DIR/$f" ] || flunk "--reset left $STATE_DIR/$f"
	done
	# another server's machine is not touched
	assert_eq "beacon's machine" 0123456789abcdef0123456789abcdef "$(astdb_get beacon machine)"
	refute_asterisk_called "database deltree beacon"
	# then --diff has nothing to compare with: nothing of before stays
	run --separate-stderr beacon -c "$CONFIG" --diff -s mylab --json
	assert_success
	assert_eq "archived" false "$(json_get servers.0.diff.archived <<<"$output")"
}

@test "store: --reset when the AstDB cannot be written (put_fail) is exit 7" {
	offline_config
	seed_for_reset
	asterisk_mode put_fail
	run --separate-stderr beacon -c "$CONFIG" --reset -s mylab
	assert_status 7
	assert_stderr_contains "beacon/mylab"
	[ "$(astdb_get beacon/mylab server_id)" = 11111111-2222-4333-8444-555555555555 ]
}

@test "store: --reset when del does nothing (put_lie) is exit 7: the read-back is the judge" {
	offline_config
	seed_for_reset
	asterisk_mode put_lie
	run --separate-stderr beacon -c "$CONFIG" --reset -s beacon
	assert_status 7
	assert_stderr_contains "beacon"
	[ "$(astdb_get beacon server_id)" = 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6 ]
}

# ---- state_dir and stamps -----------------------------------------------------------

@test "store: a missing state_dir is created 0700, whatever the umask" {
	mylab_config
	[ ! -e "$STATE_DIR" ]
	umask 000
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	umask 022
	assert_success
	[ -d "$STATE_DIR" ]
	[ "$(stat -c %a "$STATE_DIR")" = 700 ] ||
		flunk "state_dir mode $(stat -c %a "$STATE_DIR"), expected 700"
	# the files in it are not for others either
	local f
	for f in "$STATE_DIR"/*; do
		[ $((8#$(stat -c %a "$f") & 8#022)) -eq 0 ] ||
			flunk "$f is writable by others: $(stat -c %a "$f")"
	done
}

@test "store: the stamp is written atomically: no temp file is left, the content is the time" {
	mylab_config
	export BEACON_REPORT_NOW=2026-11-22T12:34:56Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	[ "$(cat "$STATE_DIR/mylab.stamp")" = 2026-11-22T12:34:56Z ]
	# beside the stamp: the retry state and the archived body (§9)
	[ "$(ls -A "$STATE_DIR" | sort | tr '\n' ' ')" = "lock mylab.retry mylab.sent.json mylab.stamp " ] ||
		flunk "state_dir holds:" "$(ls -lA "$STATE_DIR")"
}

@test "store: a stamp that is a symlink is not followed: exit 7, the target untouched" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	printf '%s\n' 2026-11-22T11:00:00Z >"$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$STATE_DIR/mylab.stamp"
	export BEACON_REPORT_NOW=2026-11-22T11:30:00Z
	# followed, the stamp would say "not due" (exit 9)
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "mylab.stamp"
	assert_no_asterisk_calls
	[ "$(collector_request_count)" -eq 0 ]
	[ -L "$STATE_DIR/mylab.stamp" ]
	[ "$(cat "$BATS_TEST_TMPDIR/elsewhere")" = 2026-11-22T11:00:00Z ]
}

@test "store: a dangling stamp symlink is not followed either: nothing is created at its target" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	ln -s "$BATS_TEST_TMPDIR/target" "$STATE_DIR/mylab.stamp"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	[ ! -e "$BATS_TEST_TMPDIR/target" ] || flunk "the symlink was followed; status $status"
	assert_status 7
}

@test "store: a lock file that is a symlink is not followed: exit 7" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	ln -s "$BATS_TEST_TMPDIR/target" "$STATE_DIR/lock"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	[ ! -e "$BATS_TEST_TMPDIR/target" ]
	assert_no_asterisk_calls
}

@test "store: a stamp that cannot be read (a directory) is exit 7 before anything is asked" {
	mylab_config
	mkdir -p -m 700 "$STATE_DIR/mylab.stamp"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "mylab.stamp"
	assert_no_asterisk_calls
}

@test "store: a stamp that is not a time is ignored with a warning (due)" {
	mylab_config
	stamp_set mylab "yesterday"
	export BEACON_REPORT_NOW=2026-11-22T12:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	assert_stderr_contains "mylab.stamp"
	[ "$(stamp_get mylab)" = 2026-11-22T12:00:00Z ]
}

@test "store: a state_dir that cannot be made (under a file) is exit 7, nothing asked" {
	mylab_config
	: >"$BATS_TEST_TMPDIR/file"
	sed -i "s|^state_dir = .*|state_dir = $BATS_TEST_TMPDIR/file/state|" "$CONFIG"
	grep -qx "state_dir = $BATS_TEST_TMPDIR/file/state" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "$BATS_TEST_TMPDIR/file/state"
	assert_no_asterisk_calls
	[ "$(collector_request_count)" -eq 0 ]
	run --separate-stderr beacon -c "$CONFIG" --reset
	assert_status 7
}

# ---- the lock -----------------------------------------------------------------------

@test "store: a held lock is exit 8 at once, with nothing asked or sent" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	local fd t0 t1
	exec {fd}>>"$STATE_DIR/lock"
	flock -n "$fd"
	t0=$(date +%s%N)
	run --separate-stderr timeout 20 "$BEACON_BIN" -c "$CONFIG" -s mylab {fd}>&-
	t1=$(date +%s%N)
	exec {fd}>&-
	assert_status 8
	assert_stderr_contains "beacon-report: "
	assert_stderr_contains "lock"
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] || flunk "exit 8 took $(((t1 - t0) / 1000000)) ms"
	assert_no_asterisk_calls
	[ "$(collector_request_count)" -eq 0 ]
	# released, the same run goes through
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
}

@test "store: a lock held by flock(1) in the background is exit 8; --reset waits for no one either" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	flock -o "$STATE_DIR/lock" sleep 20 3>&- &
	local holder=$! i
	_record_pid "$holder" "lockholder"
	for ((i = 0; i < 100; i++)); do
		flock -n "$STATE_DIR/lock" true 2>/dev/null || break
		sleep 0.05
	done
	[ "$i" -lt 100 ] || flunk "flock(1) did not take the lock"
	run --separate-stderr timeout 20 "$BEACON_BIN" -c "$CONFIG" -s mylab
	assert_status 8
	run --separate-stderr timeout 20 "$BEACON_BIN" -c "$CONFIG" --reset
	assert_status 8
	assert_no_asterisk_calls
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
}

@test "store: 8 runs at once against one due collector: one POST, one PUT, exits 0/8/9 only" {
	mylab_config
	local i pids=() rc zeros=0
	for i in 1 2 3 4 5 6 7 8; do
		(
			rc=0
			timeout 60 "$BEACON_BIN" -c "$CONFIG" -s mylab -q \
				2>"$BATS_TEST_TMPDIR/err.$i" || rc=$?
			echo "$rc" >"$BATS_TEST_TMPDIR/rc.$i"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3 4 5 6 7 8; do
		rc=$(cat "$BATS_TEST_TMPDIR/rc.$i")
		case $rc in
		0) zeros=$((zeros + 1)) ;;
		8 | 9) ;;
		*) flunk "run $i exited $rc" ;;
		esac
	done
	[ "$zeros" -eq 1 ] || flunk "expected exactly one run to send, $zeros did:" "$(cat "$BATS_TEST_TMPDIR"/rc.*)"
	[ "$(collector_request_count mylab POST)" -eq 1 ] || flunk "POSTs:" "$(collector_requests)"
	[ "$(collector_request_count mylab PUT)" -eq 1 ] || flunk "PUTs:" "$(collector_requests)"
	[ "$(astdb_dump | grep -c '^/beacon/mylab/server_id	')" -eq 1 ]
	[[ $(astdb_get beacon/mylab server_id) =~ $UUID_RE ]]
	[ "$(registry_ids)" = "$(astdb_get beacon/mylab server_id)" ]
}

@test "store: a dry run takes no lock: it runs while another holds it, and creates no lock file" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	local fd
	exec {fd}>>"$STATE_DIR/lock"
	flock -n "$fd"
	run --separate-stderr timeout 20 "$BEACON_BIN" -c "$CONFIG" -s mylab -n {fd}>&-
	exec {fd}>&-
	assert_success
	rm -f "$STATE_DIR/lock"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n
	assert_success
	[ ! -e "$STATE_DIR/lock" ] || flunk "the dry run created $STATE_DIR/lock"
}

@test "store: a stamp that is a FIFO does not hang the run: exit 7" {
	mylab_config
	mkdir -m 700 "$STATE_DIR"
	mkfifo "$STATE_DIR/mylab.stamp"
	run --separate-stderr timeout 20 "$BEACON_BIN" -c "$CONFIG" -s mylab
	assert_status 7
	assert_stderr_contains "mylab.stamp: not a regular file"
	assert_no_asterisk_calls
}

@test "store: a token_issued with blanks or an impossible date in the AstDB is absent, with a warning" {
	mylab_config
	astdb_put beacon/mylab server_id 3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6
	astdb_put beacon/mylab token_id 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d
	astdb_put beacon/mylab token_issued "2026-02-31T00:00:00Z"
	run --separate-stderr beacon -c "$CONFIG" -s mylab --show
	assert_success
	assert_stderr_contains "AstDB /beacon/mylab/token_issued: not a valid RFC 3339 time"
}
