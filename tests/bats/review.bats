#!/usr/bin/env bats
# Issue 11, the hostile review: each finding reproduced through the real
# binary.  Every test here failed on the main of that day.  The root and
# ownership tests need root (CI and `make check` here run as root).

# shellcheck disable=SC2154  # NAME_PORT, NAME_STATE: start_collector; stderr: run
load helpers
bats_require_minimum_version 1.5.0

# mylab_only [LINE...]: [general] state_dir, [mylab] at the mylab collector
# (test CA) with extra lines.
mylab_only() {
	{
		printf '%s\n' "[general]" "state_dir = $STATE_DIR" "" "[mylab]" "type = server" \
			"url = https://127.0.0.1:$mylab_PORT" "ca_path = $TEST_CA/ca.pem"
		[ "$#" -gt 0 ] && printf '%s\n' "$@"
	} | write_config
}

need_root() {
	[ "$(id -u)" = 0 ] && return 0
	flunk "this test needs root (it checks what a run as root refuses)"
}

# The body of the last PUT the collector NAME got, as JSON.
last_put_body() {
	collector_requests "$1" | "$PY" -c '
import json, sys
puts = [json.loads(l) for l in sys.stdin if l.strip() and json.loads(l)["method"] == "PUT"]
print(puts[-1]["body"])'
}

# ---- the small ones -----------------------------------------------------------

@test "review: --json=1 is a usage error that names the option, with no NUL byte on stderr" {
	run --separate-stderr beacon --json=1
	assert_status 2
	assert_stderr_contains "--json=1"
	[ "$(printf '%s' "$stderr" | tr -d -c '\000' | wc -c)" -eq 0 ] ||
		flunk "a NUL byte on stderr"
	run -2 beacon --show=x
	[ "$(beacon --show=x 2>&1 | tr -d -c '\000' | wc -c)" -eq 0 ] || flunk "a NUL byte"
}

@test "review: a crashed run's .NAME.stamp.PID.tmp is removed by the next run" {
	start_collector
	mylab_only
	mkdir -m 700 "$STATE_DIR"
	echo 2026-01-01T00:00:00Z >"$STATE_DIR/.mylab.stamp.4242.tmp"
	run_mylab
	assert_success
	[ ! -e "$STATE_DIR/.mylab.stamp.4242.tmp" ] || flunk "the stale temporary file is still there"
	[ -f "$STATE_DIR/mylab.stamp" ] || flunk "no stamp"
}

@test "review: Asterisk down while forgetting ids (--reset) is exit 7, as while storing them in a run" {
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[mylab]
type = server
url = https://127.0.0.1:9
EOF
	astdb_put beacon/mylab server_id 11111111-2222-4333-8444-555555555555
	asterisk_mode down
	run --separate-stderr beacon -c "$CONFIG" --reset -s mylab
	assert_status 7
	assert_stderr_contains "Unable to connect to remote asterisk"
}

# ---- state: the AstDB and state_dir ---------------------------------------------

@test "review: 'database show beacon' answered with anything but a listing is exit 7: no registration, the stored id kept" {
	start_collector
	mylab_only
	astdb_put beacon/mylab server_id 11111111-2222-4333-8444-555555555555
	asterisk_answer "database show beacon" <<<"You don't have permissions to run 'database show' command"
	run_mylab
	assert_status 7
	assert_stderr_contains "not a database listing"
	assert_requests
	assert_eq "stored id" 11111111-2222-4333-8444-555555555555 "$(astdb_get beacon/mylab server_id)"
	# a listing cut short (no "N results found." footer) is no better
	printf '/beacon/mylab/server_id                           : 11111111-2222-4333-8444-555555555555\n' \
		>"$ASTERISK_STUB_DIR/answers/database_show_beacon.txt"
	run_mylab
	assert_status 7
	assert_requests
}

@test "review: a new registration's keys are written one by one, the old token dropped before the new id" {
	start_collector
	mylab_only
	# ids the collector does not know: 404, register anew
	astdb_put beacon/mylab server_id 11111111-2222-4333-8444-555555555555
	astdb_put beacon/mylab token_id 0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d
	run_mylab
	assert_success
	run grep -E '^database (put|del) beacon/mylab ' "$ASTERISK_STUB_DIR/calls.log"
	local sid tok issued
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	issued=$(astdb_get beacon/mylab token_issued)
	assert_output "database del beacon/mylab token_id
database put beacon/mylab server_id $sid
database put beacon/mylab token_issued $issued
database put beacon/mylab token_id $tok"
	assert_ne "new id" 11111111-2222-4333-8444-555555555555 "$sid"
}

@test "review: SIGTERM while a PUT hangs: the registration is already stored, the run stops at once with the status so far" {
	start_collector
	mylab_only
	collector_control '{"responses": [{"match": "PUT", "hang": true}]}'
	# the binary itself, not a shell function around it, gets the signal
	"$BEACON_BIN" -c "$CONFIG" -s mylab --json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! i sid rc t0
	_record_pid "$pid" beacon
	for ((i = 0; i < 100; i++)); do
		[ "$(collector_request_count mylab PUT)" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(collector_request_count mylab PUT)" -ge 1 ] || flunk "no PUT arrived"
	sid=$(collector_registry mylab | "$PY" -c 'import json, sys; print(list(json.load(sys.stdin))[0])')
	# stored the moment the POST gave it, before the PUT ended
	assert_eq "stored id before the signal" "$sid" "$(astdb_get beacon/mylab server_id)"
	t0=$(date +%s)
	kill -TERM "$pid"
	wait "$pid" && rc=0 || rc=$?
	[ $(($(date +%s) - t0)) -le 3 ] || flunk "the run took more than 3 s to stop"
	assert_eq "exit status" 5 "$rc"
	assert_eq "json exit_code" 5 "$(json_get exit_code <"$BATS_TEST_TMPDIR/out")"
	assert_eq "json result" unreached "$(json_get servers.0.result <"$BATS_TEST_TMPDIR/out")"
	grep -q "signal" "$BATS_TEST_TMPDIR/err" || flunk "stderr does not say why:" "$(cat "$BATS_TEST_TMPDIR/err")"
	assert_eq "stored id" "$sid" "$(astdb_get beacon/mylab server_id)"
	astdb_get beacon/mylab token_id >/dev/null
	assert_no_stamp mylab
}

@test "review: SIGCHLD inherited as ignored: Asterisk down is still exit 4 with Asterisk's own words" {
	start_collector
	mylab_only
	asterisk_mode down
	run --separate-stderr "$PY" -c '
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$BEACON_BIN" -c "$CONFIG" -s mylab
	assert_status 4
	assert_stderr_contains "Unable to connect to remote asterisk"
	refute_stderr_contains "not a version"
}

# ---- root ------------------------------------------------------------------------

@test "review: as root, a configuration file another user owns or can write is refused (exit 3, path and owner named)" {
	need_root
	start_collector
	mylab_only
	chmod 644 "$CONFIG"
	run_mylab -n
	assert_success
	: >"$ASTERISK_STUB_DIR/calls.log"
	chown nobody "$CONFIG"
	run_mylab
	assert_status 3
	assert_stderr_contains "$CONFIG"
	assert_stderr_contains "nobody"
	assert_no_asterisk_calls
	chown root "$CONFIG"
	chmod 666 "$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "writable by every user"
	chmod 664 "$CONFIG"
	run_mylab
	assert_status 3
	assert_stderr_contains "writable by its group"
}

@test "review: as root, a configuration file in a directory the asterisk user can write is refused (FreePBX-style /etc/asterisk)" {
	need_root
	start_collector
	local dir="$BATS_TEST_TMPDIR/etc-asterisk"
	mkdir -m 755 "$dir"
	mylab_only
	mv "$CONFIG" "$dir/beacon.ini"
	run --separate-stderr beacon -c "$dir/beacon.ini" -s mylab -n
	assert_success
	: >"$ASTERISK_STUB_DIR/calls.log"
	chown nobody "$dir"
	run --separate-stderr beacon -c "$dir/beacon.ini" -s mylab
	assert_status 3
	assert_stderr_contains "$dir"
	assert_stderr_contains "nobody"
	assert_no_asterisk_calls
	# a symbolic link from a trusted place to it is no way around
	chown root "$dir"
	chmod 777 "$dir"
	ln -s "$dir/beacon.ini" "$CONFIG"
	run_mylab
	assert_status 3
	assert_stderr_contains "writable by every user"
}

@test "review: as root, a state_dir its group or others can write, or under a directory another user owns, is refused (exit 7)" {
	need_root
	start_collector
	mylab_only
	mkdir -m 770 "$STATE_DIR"
	run_mylab
	assert_status 7
	assert_stderr_contains "$STATE_DIR"
	assert_stderr_contains "writable by its group"
	assert_requests
	local parent="$BATS_TEST_TMPDIR/var"
	mkdir -m 755 "$parent"
	sed -i "s|^state_dir = .*|state_dir = $parent/state|" "$CONFIG"
	chown nobody "$parent"
	run_mylab
	assert_status 7
	assert_stderr_contains "nobody"
	assert_requests
}

@test "review: as root, the lock and the stamp created in state_dir get the directory's owner" {
	need_root
	start_collector
	mylab_only
	mkdir -m 700 "$STATE_DIR"
	chown nobody:nogroup "$STATE_DIR"
	run_mylab
	assert_success
	assert_eq "lock owner" "nobody:nogroup" "$(stat -c %U:%G "$STATE_DIR/lock")"
	assert_eq "stamp owner" "nobody:nogroup" "$(stat -c %U:%G "$STATE_DIR/mylab.stamp")"
	assert_eq "stamp mode" 600 "$(stat -c %a "$STATE_DIR/mylab.stamp")"
}

# ---- secrets and the environment -----------------------------------------------------

@test "review: a proxy password with '@' works, and no libcurl text carries it (stderr, --json, -v)" {
	local pass='s3cr@t-Pa55'
	start_collector
	start_proxy --user "alice:$pass"
	mylab_only "proxy = http://alice:$pass@127.0.0.1:$PROXY_PORT"
	run_mylab -v
	assert_success
	assert_output "mylab: sent"
	grep -q '"auth": "ok"' "$PROXY_LOG" || flunk "proxy log:" "$(cat "$PROXY_LOG")"
	refute_stderr_contains "s3cr"
	# a proxy that cannot be reached: libcurl's error text is shown
	mylab_only "proxy = http://alice:$pass@127.0.0.1:9"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -f -v --json
	assert_status 5
	assert_stderr_contains "beacon-report: server mylab:"
	refute_output_contains "s3cr"
	refute_stderr_contains "s3cr"
}

@test "review: --show-config masks a proxy user given alone, as well as a password" {
	start_collector
	mylab_only "proxy = http://t0ken-only@127.0.0.1:3128"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_success
	assert_output_contains "proxy = http://****@127.0.0.1:3128"
	refute_output_contains "t0ken"
	run --separate-stderr beacon -c "$CONFIG" --show-config --json
	assert_success
	refute_output_contains "t0ken"
	mylab_only "proxy = http://alice:pw0rd@127.0.0.1:3128"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_output_contains "proxy = http://alice:****@127.0.0.1:3128"
	refute_output_contains "pw0rd"
}

@test "review: -v masks the token in 'database put ... token_id', as the HTTP lines do" {
	start_collector
	mylab_only
	run_mylab -v
	assert_success
	local tok
	tok=$(astdb_get beacon/mylab token_id)
	assert_uuid "stored token" "$tok"
	assert_stderr_contains "database put beacon/mylab token_id ****"
	refute_stderr_contains "$tok"
}

@test "review: NO_PROXY in the environment does not bypass a configured proxy" {
	start_collector
	start_proxy
	mylab_only "proxy = http://127.0.0.1:$PROXY_PORT"
	NO_PROXY=127.0.0.1,localhost no_proxy='*' run_mylab
	assert_success
	grep -q "\"target\": \"127.0.0.1:$mylab_PORT\"" "$PROXY_LOG" ||
		flunk "the request did not go through the proxy:" "$(cat "$PROXY_LOG")"
}

@test "review: SSLKEYLOGFILE in the environment writes no TLS secrets" {
	start_collector
	mylab_only
	SSLKEYLOGFILE="$BATS_TEST_TMPDIR/keys.log" run_mylab
	assert_success
	assert_requests --at mylab "POST /servers 200" \
		"PUT /servers/$(astdb_get beacon/mylab server_id)?tokenId=$(astdb_get beacon/mylab token_id) 200"
	[ ! -e "$BATS_TEST_TMPDIR/keys.log" ] || flunk "TLS key log written:" "$(head -2 "$BATS_TEST_TMPDIR/keys.log")"
}

@test "review: an https:// proxy is verified with ca_path too (its certificate is from the test CA)" {
	start_collector
	start_proxy --tls
	mylab_only "proxy = https://127.0.0.1:$PROXY_PORT"
	run_mylab
	assert_success
	assert_output "mylab: sent"
	grep -q "\"target\": \"127.0.0.1:$mylab_PORT\"" "$PROXY_LOG" ||
		flunk "the request did not go through the proxy:" "$(cat "$PROXY_LOG")"
}

@test "review: configuration values are sanitised in error messages (no escape sequence reaches the terminal)" {
	printf '[general]\nenabled = \033[31mred\033]0;title\007\n' >"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "$CONFIG:2: enabled:"
	[[ $stderr != *$'\e'* && $stderr != *$'\a'* ]] ||
		flunk "control characters on stderr:" "$(printf '%s' "$stderr" | cat -v)"
}

# ---- privacy and quiet ----------------------------------------------------------------

@test "review: times are sent rounded down to the hour, memory in 256 MiB units, uptime in whole hours" {
	start_collector
	mylab_only
	run_mylab
	assert_success
	last_put_body mylab | "$PY" -c '
import json, sys
b = json.load(sys.stdin)
rt = b["asterisk"]["stats"]["run_time"]
for k in ("startup_time", "last_reload_time"):
    assert rt[k].endswith(":00:00Z"), (k, rt[k])
os_ = b["operating_system"]
assert os_["memory_total_kb"] % (256 * 1024) == 0, os_
assert os_["memory_total_kb"] > 0, os_
assert os_["uptime"] % 3600 == 0, os_
' || flunk "the body:" "$(last_put_body mylab)"
}

@test "review: private_name in a collector's section goes to that collector only; [general]'s to the others" {
	start_collector mylab
	start_collector other
	write_config <<EOF
[general]
state_dir = $STATE_DIR
private_name = everyone

[mylab]
type = server
url = https://127.0.0.1:$mylab_PORT
ca_path = $TEST_CA/ca.pem
private_name = lab only
EOF
	add_collector other
	run --separate-stderr beacon -c "$CONFIG" -s mylab -s other
	assert_success
	assert_eq "mylab's private_name" "lab only" "$(last_put_body mylab | json_get private_name)"
	assert_eq "other's private_name" "everyone" "$(last_put_body other | json_get private_name)"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n --json -f
	assert_success
	[[ $(json_get servers.0.body <<<"$output") == *'"private_name":"lab only"'* ]] ||
		flunk "dry run body:" "$output"
	# not for the built-in server: the public one is [general]'s business
	printf '\n[beacon]\nprivate_name = x\n' >>"$CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show-config
	assert_status 3
	assert_stderr_contains "private_name"
}

@test "review: -q prints nothing on a successful run with verify_cert = no" {
	start_collector
	mylab_only "verify_cert = no"
	run_mylab -q
	assert_success
	assert_output ""
	assert_eq "stderr" "" "$stderr"
	# without -q the admin is still told
	run_mylab -f
	assert_stderr_contains "verify_cert = no"
}

@test "review: -q prints nothing for a [beacon] section in a DEV_MODE build" {
	start_collector
	mylab_only
	printf '\n[beacon]\ninterval = 360\n' >>"$CONFIG"
	run --separate-stderr beacon_dev -c "$CONFIG" -q
	assert_success
	assert_eq "stderr" "" "$stderr"
	run --separate-stderr beacon_dev -c "$CONFIG" --show-config
	assert_stderr_contains "DEV_MODE"
}

@test "review: --show and --show --json say which configuration file was read" {
	start_collector
	mylab_only
	run --separate-stderr beacon -c "$CONFIG" --show
	assert_success
	assert_output_contains "Configuration: $CONFIG"
	run --separate-stderr beacon -c "$CONFIG" --show --json
	assert_success
	assert_eq "config_file" "$CONFIG" "$(json_get config_file <<<"$output")"
}

# ---- builds that lie --------------------------------------------------------------------

@test "review: make DEV_MODE=1 / BEACON_URL=... after a plain make rebuilds; an unchanged make rebuilds nothing" {
	local b="$BATS_TEST_TMPDIR/build" log="$BATS_TEST_TMPDIR/make.log"
	mk() {
		(unset MAKEFLAGS MFLAGS MAKELEVEL
		 make -C "$REPO" BUILD="$b" CFLAGS=-O0 "$@" "$b/beacon-report") >"$log" 2>&1 ||
			flunk "make failed:" "$(tail -n 20 "$log")"
	}
	: >"$CONFIG"
	mk
	run "$b/beacon-report" -c "$CONFIG" --show-config
	assert_output_contains "url = https://beacon.asterisk.org"
	mk DEV_MODE=1
	run "$b/beacon-report" -c "$CONFIG" --show-config
	assert_output_contains "DEV_MODE build: no built-in"
	refute_output_contains "beacon.asterisk.org"
	mk DEV_MODE=1
	grep -q -- ' -c ' "$log" && flunk "an unchanged make compiled again:" "$(cat "$log")"
	mk BEACON_URL=https://127.0.0.1:1
	run "$b/beacon-report" -c "$CONFIG" --show-config
	assert_output_contains "url = https://127.0.0.1:1"
	mk BEACON_URL=https://127.0.0.1:1 SYSCONFDIR=/opt/etc
	run "$b/beacon-report" --help
	assert_output_contains "/opt/etc/asterisk/beacon.ini"
}

@test "review: a failed allocation before sending says out of memory, not \"cannot initialise libcurl\"" {
	# the test binary's objects relinked with calloc wrapped: the calloc of
	# the send jobs (one server: 1 x sizeof(struct send_job *)) fails
	local b="$BATS_TEST_TMPDIR/oom" objs
	mkdir -p "$b"
	cat >"$b/size.c" <<'C'
#include <stdio.h>
#include "http/http.h"
int main(void) { printf("%zu\n", sizeof(struct send_job *)); return 0; }
C
	cat >"$b/shim.c" <<'C'
#include <stdlib.h>
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	const char *fail = getenv("FAIL_CALLOC_SIZE");
	if (fail != NULL && n == 1 && size == (size_t)atol(fail))
		return NULL;
	return __real_calloc(n, size);
}
C
	local build
	build=$(dirname "$BEACON_BIN")
	cc -std=c11 -D_GNU_SOURCE -I"$REPO" $(pkg-config --cflags libcurl jansson) -o "$b/size" "$b/size.c" ||
		flunk "cannot build the size probe"
	objs=$(find "$build" -name '*.o' ! -path '*/tests/*' ! -path "$build/c/*" | sort)
	# The reporter's objects only ($build/c/ holds the collector's).
	# shellcheck disable=SC2086  # one word per object
	cc -o "$b/beacon-report" "$b/shim.c" $objs -Wl,--wrap=calloc \
		$(pkg-config --libs libcurl jansson inih openssl) -ldl $(dirname "$BEACON_BIN" | grep -q san && echo -fsanitize=address,undefined) ||
		flunk "cannot relink the binary"
	start_collector
	mylab_only
	FAIL_CALLOC_SIZE=$("$b/size") run --separate-stderr "$b/beacon-report" -c "$CONFIG" -s mylab
	assert_status 5
	assert_stderr_contains "out of memory"
	refute_stderr_contains "libcurl"
	assert_requests
}
