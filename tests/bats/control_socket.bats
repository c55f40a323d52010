#!/usr/bin/env bats
# control_socket (CONTRACT §4): the same commands straight to Asterisk's
# control socket.  Parity with `asterisk -rx` on every fixture, byte for
# byte; the socket's own failures in clear words, exit 4; and nothing of
# it (nor of libcurl) in a run that does not need it.  The stand-in is
# tests/libexec/asterisk-ctl (see tests/README.md).

load helpers

NOW=2026-11-22T21:54:39Z

# config_with TRANSPORT: the default config, through `asterisk -rx` (rx)
# or the stand-in control socket (socket).
config_with() {
	local port=$mylab_PORT extra=
	if [ "$1" = socket ]; then
		start_asterisk_socket
		extra="control_socket = $ASTERISK_CTL"
	fi
	cat >"$CONFIG" <<EOF
[general]
state_dir = $STATE_DIR
$extra

[beacon]
ca_path = $TEST_CA/ca.pem

[mylab]
type = server
url = https://127.0.0.1:$port
ca_path = $TEST_CA/ca.pem
EOF
}

# both_ways ARGS...: run beacon ARGS through each transport; fails unless
# stdout and the exit status are the same bytes.
both_ways() {
	local rx_rc sock_rc
	config_with rx
	BEACON_REPORT_NOW=$NOW beacon -c "$CONFIG" "$@" >"$BATS_TEST_TMPDIR/rx.out" 2>/dev/null
	rx_rc=$?
	config_with socket
	BEACON_REPORT_NOW=$NOW beacon -c "$CONFIG" "$@" >"$BATS_TEST_TMPDIR/sock.out" 2>/dev/null
	sock_rc=$?
	[ "$rx_rc" = "$sock_rc" ] || flunk "$*: exit $rx_rc with asterisk -rx, $sock_rc with the control socket"
	cmp "$BATS_TEST_TMPDIR/rx.out" "$BATS_TEST_TMPDIR/sock.out" ||
		flunk "$*: the two transports differ:" "$(diff "$BATS_TEST_TMPDIR/rx.out" "$BATS_TEST_TMPDIR/sock.out" | head -20)"
	[ -s "$BATS_TEST_TMPDIR/rx.out" ] || flunk "$*: no output at all"
}

# The answer file a variant stands in for.
answer_for() {
	case $1 in
	core_show_calls_*) echo core_show_calls.txt ;;
	core_show_uptime_*) echo core_show_uptime_seconds.txt ;;
	core_show_version_*) echo core_show_version.txt ;;
	module_show_*) echo module_show.txt ;;
	esac
}

@test "control socket: --show --json and --dry-run --json are byte for byte those of asterisk -rx, on every fixture" {
	local v target n=0
	start_collector
	astdb_put beacon/mylab server_id 11111111-2222-4333-8444-555555555555
	both_ways --show --json
	both_ways --dry-run --json
	both_ways --show
	for v in "${FIXTURES:-$REPO/tests/fixtures}"/variants/*.txt; do
		target=$(answer_for "$(basename "$v")")
		[ -n "$target" ] || continue
		rm -f "$ASTERISK_STUB_DIR"/answers/*
		cp "$v" "$ASTERISK_STUB_DIR/answers/$target"
		both_ways --show --json
		both_ways --dry-run --json -s mylab
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || flunk "only $n variants tried"
}

@test "control socket: the greeting and the verbose lines never reach the report" {
	start_collector
	config_with socket
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	refute_output_contains "stand-in-pbx"
	refute_output_contains "Remote UNIX connection"
	refute_output_contains "RTP CoS"
	# every command went over the socket, none through a process
	[ "$(grep -c . "$ASTERISK_STUB_DIR/socket.log")" = 5 ]
}

@test "control socket: 2 MiB of verbose lines before the answer do not count against the 4 MiB cap" {
	start_collector
	config_with socket
	socket_mode verbose_flood
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	assert_output_contains '"Asterisk 22.10.1"'
}

@test "control socket: no Asterisk binary needed (a container's sidecar)" {
	start_collector
	config_with socket
	sed -i "s#^\[general\]#[general]\nasterisk = $BATS_TEST_TMPDIR/no-such-asterisk#" "$CONFIG"
	run --separate-stderr env PATH=/usr/bin:/bin "$BEACON_BIN" -c "$CONFIG" -f -s mylab
	assert_success
	assert_output "mylab: sent"
	[ "$(astdb_get beacon/mylab server_id)" = "$(collector_request mylab -1 path | cut -d/ -f3)" ]
}

@test "control socket: no such socket: exit 4, Asterisk is not running, naming the path" {
	start_collector
	config_with rx
	sed -i "s#^\[general\]#[general]\ncontrol_socket = $BATS_TEST_TMPDIR/nothere.ctl#" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" -f -s mylab
	assert_status 4
	assert_stderr_contains "Asterisk is not running (no control socket $BATS_TEST_TMPDIR/nothere.ctl)"
	assert_no_asterisk_calls
	[ "$(collector_request_count mylab)" = 0 ]
}

@test "control socket: a socket nobody listens on: exit 4, refused" {
	start_collector
	config_with rx
	# bound, never listened to, then its process gone: what a crashed
	# Asterisk leaves behind
	"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$BATS_TEST_TMPDIR/stale.ctl"
	sed -i "s#^\[general\]#[general]\ncontrol_socket = $BATS_TEST_TMPDIR/stale.ctl#" "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "refuses connections"
}

@test "control socket: the stand-in refusing (mode refuse): exit 4, refused; back to listening, exit 0" {
	start_collector
	config_with socket
	socket_mode refuse
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "refuses connections"
	socket_mode ""
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
}

@test "control socket: no permission on it: exit 4, naming astctlpermissions" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" = 0 ] || skip "needs root to drop to nobody"
	start_collector
	config_with socket
	chmod 600 "$ASTERISK_CTL"
	chmod 755 "$BATS_TEST_TMPDIR" "$(dirname "$BATS_TEST_TMPDIR")" "$(dirname "$(dirname "$BATS_TEST_TMPDIR")")" 2>/dev/null || true
	chmod 644 "$CONFIG"
	sed -i "s#^state_dir = .*#state_dir = /nonexistent-i16#" "$CONFIG"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$BEACON_BIN" -c "$CONFIG" --show
	[ "$status" != 126 ] || skip "nobody cannot run the binary here"
	assert_status 4
	assert_stderr_contains "no permission on the control socket $ASTERISK_CTL"
	assert_stderr_contains "astctlpermissions"
}

@test "control socket: closed before the greeting: exit 4, closed early" {
	start_collector
	config_with socket
	socket_mode close_early
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "Asterisk closed the connection early, before its greeting"
}

@test "control socket: a first line that is no greeting: exit 4" {
	start_collector
	config_with socket
	socket_mode bad_greeting
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "does not greet like Asterisk's control socket"
}

@test "control socket: garbage as the answer: exit 4 (not a version), printable" {
	start_collector
	config_with socket
	socket_mode garbage
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "not a version"
	[[ $stderr != *$'\e'* ]] || flunk "an escape reached stderr"
}

@test "control socket: more than 4 MiB: exit 4, output over 4 MiB" {
	start_collector
	config_with socket
	socket_mode huge
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "output over 4 MiB"
}

@test "control socket: an Asterisk that never answers: exit 4 at the 10 s deadline, all commands at once" {
	start_collector
	config_with socket
	socket_mode hang
	local t0=$SECONDS
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_status 4
	assert_stderr_contains "no answer within 10 s"
	[ $((SECONDS - t0)) -le 13 ] || flunk "took $((SECONDS - t0)) s: not one deadline for the batch"
}

@test "control socket: -v names each command and its time" {
	start_collector
	config_with socket
	run --separate-stderr beacon -c "$CONFIG" -v --show
	assert_success
	assert_stderr_contains "control socket $ASTERISK_CTL \"core show version\": "
}

@test "control socket: a not-due run opens no connection" {
	start_collector
	config_with socket
	stamp_set beacon "$(rfc3339_ago 60)"
	stamp_set mylab "$(rfc3339_ago 60)"
	run --separate-stderr beacon -c "$CONFIG"
	assert_status 9
	[ ! -s "$ASTERISK_STUB_DIR/socket.log" ] || flunk "connections:" "$(cat "$ASTERISK_STUB_DIR/socket.log")"
}

@test "control_socket: a relative path is a configuration error" {
	printf '[general]\ncontrol_socket = run/asterisk.ctl\n' >"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "control_socket: \"run/asterisk.ctl\" is not an absolute path"
}

@test "control_socket: --show-config shows it" {
	printf '[general]\ncontrol_socket = /var/run/asterisk/asterisk.ctl\n' >"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	[ "$(json_get general.control_socket <<<"$output")" = /var/run/asterisk/asterisk.ctl ]
}

# ---- nothing loaded before it is needed ------------------------------------------

# loaded_libs ARGS...: the shared objects beacon ARGS loads (LD_DEBUG).
loaded_libs() {
	LD_DEBUG=libs beacon "$@" 2>&1 >/dev/null | grep -o 'calling init: [^ ]*' | sed 's/calling init: //'
}

@test "a not-due run, a disabled run, --help, --version, --show-config and --show load no libcurl nor TLS library" {
	start_collector
	config_with socket
	stamp_set beacon "$(rfc3339_ago 60)"
	stamp_set mylab "$(rfc3339_ago 60)"
	local libs args
	for args in "-c $CONFIG" "-c $CONFIG -q" "--help" "--version" "-c $CONFIG --show-config" "-c $CONFIG --show"; do
		# shellcheck disable=SC2086
		libs=$(loaded_libs $args)
		[ -n "$libs" ] || flunk "$args: LD_DEBUG showed nothing"
		[[ $libs != *libcurl* && $libs != *libssl* && $libs != *libcrypto* && $libs != *libgnutls* ]] ||
			flunk "$args loaded:" "$libs"
	done
	printf '[general]\nenabled = no\n' >"$BATS_TEST_TMPDIR/off.ini"
	libs=$(loaded_libs -c "$BATS_TEST_TMPDIR/off.ini")
	[[ $libs != *libcurl* ]] || flunk "a disabled run loaded:" "$libs"
}

@test "a run that sends loads libcurl, then" {
	start_collector
	config_with socket
	local libs
	libs=$(loaded_libs -c "$CONFIG" -f -s mylab)
	[[ $libs == *libcurl.so.4* ]] || flunk "a sending run did not load libcurl:" "$libs"
}

@test "libcurl that cannot be loaded: exit 5, one clear line, nothing sent, ids untouched" {
	start_collector
	config_with socket
	run --separate-stderr env BEACON_REPORT_LIBCURL=libcurl-missing.so.4 "$BEACON_BIN" -c "$CONFIG" -f -s mylab
	assert_status 5
	assert_stderr_contains "cannot load libcurl: libcurl-missing.so.4: cannot open shared object file"
	[ "$(collector_request_count mylab)" = 0 ]
}
