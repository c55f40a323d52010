#!/usr/bin/env bats
# The COMPAT=1 build (issue 11): the fallbacks for systems older than this
# one (no close_range of glibc 2.34, no CURLOPT_PROTOCOLS_STR of libcurl
# 7.85, no CURLINFO_CAPATH of 7.84), forced and run here.  `make check`
# builds it as build-test-compat/ and also runs the unit tests on it.

# shellcheck disable=SC2154  # NAME_PORT: start_collector
load helpers

setup() {
	harness_setup
	BEACON_COMPAT_BIN="${BEACON_COMPAT_BIN:-$REPO/build-test-compat/beacon-report}"
	[ -x "$BEACON_COMPAT_BIN" ] || flunk "BEACON_COMPAT_BIN $BEACON_COMPAT_BIN is not an executable (make test-binaries)"
}

compat() {
	"$BEACON_COMPAT_BIN" "$@"
}

mylab_only() {
	{
		printf '%s\n' "[general]" "state_dir = $STATE_DIR" "" "[mylab]" "type = server" \
			"url = https://127.0.0.1:$mylab_PORT"
		[ "$#" -gt 0 ] && printf '%s\n' "$@"
	} | write_config
}

@test "compat: the COMPAT=1 binary does not use close_range; the normal one does (so the switch switches)" {
	command -v nm >/dev/null || flunk "nm (binutils) is not installed"
	local glibc
	run nm -D "$BEACON_COMPAT_BIN"
	refute_output_contains "close_range"
	# close_range came with glibc 2.34 (asterisk/process.c): before it
	# (Debian 11's 2.31) the normal build has the loop too.
	glibc=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
	run nm -D "$BEACON_BIN"
	if printf '%s\n' 2.34 "$glibc" | sort -V -C; then
		assert_output_contains "close_range"
	else
		refute_output_contains "close_range"
		skip "glibc $glibc < 2.34: no close_range in either build, the switch cannot be seen here"
	fi
}

@test "compat: a full run with ca_path = a CA file (the system's directory kept without CURLINFO_CAPATH)" {
	start_collector
	mylab_only "ca_path = $TEST_CA/ca.pem"
	run --separate-stderr compat -c "$CONFIG" -s mylab
	assert_success
	assert_output "mylab: sent"
	local sid tok
	sid=$(astdb_get beacon/mylab server_id)
	tok=$(astdb_get beacon/mylab token_id)
	assert_requests "POST /servers 200" "PUT /servers/$sid?tokenId=$tok 200"
}

@test "compat: ca_path = a hashed directory, and an unknown CA still refused" {
	start_collector
	mylab_only "ca_path = $TEST_CA/cadir"
	run --separate-stderr compat -c "$CONFIG" -s mylab
	assert_success
	mylab_only "ca_path = $TEST_CA/untrusted/ca.pem"
	run --separate-stderr compat -c "$CONFIG" -s mylab -f
	assert_status 5
	assert_stderr_contains "certificate"
}

@test "compat: an https:// proxy verified with ca_path (PROXY_CAINFO, the fallback PROXY_CAPATH)" {
	start_collector
	start_proxy --tls
	mylab_only "ca_path = $TEST_CA/ca.pem" "proxy = https://127.0.0.1:$PROXY_PORT"
	run --separate-stderr compat -c "$CONFIG" -s mylab
	assert_success
	grep -q "\"target\": \"127.0.0.1:$mylab_PORT\"" "$PROXY_LOG" ||
		flunk "not through the proxy:" "$(cat "$PROXY_LOG")"
}

@test "compat: the lock file is not inherited by asterisk (the close-on-exec loop)" {
	start_collector
	mylab_only "ca_path = $TEST_CA/ca.pem"
	# a wrapper that lists its descriptors, then is the stand-in
	cat >"$TEST_BIN/asterisk" <<WRAP
#!/bin/bash
ls -l /proc/\$\$/fd/ >>"$BATS_TEST_TMPDIR/fds.log" 2>&1
exec "$REPO/tests/libexec/asterisk" "\$@"
WRAP
	chmod +x "$TEST_BIN/asterisk"
	run --separate-stderr compat -c "$CONFIG" -s mylab
	assert_success
	[ -s "$BATS_TEST_TMPDIR/fds.log" ] || flunk "the wrapper never ran"
	if grep -q "$STATE_DIR/lock" "$BATS_TEST_TMPDIR/fds.log"; then
		flunk "asterisk inherited the lock:" "$(cat "$BATS_TEST_TMPDIR/fds.log")"
	fi
}
