#!/usr/bin/env bats
# The walking skeleton: the command line's outermost promises (CONTRACT §2,
# §7).  None of these may run asterisk or open a connection.

load helpers

@test "--help prints a usage starting with 'usage: beacon-report' and exits 0" {
	run --separate-stderr beacon --help
	assert_success
	[[ $output == "usage: beacon-report"* ]] ||
		flunk "expected stdout to start with 'usage: beacon-report'" "stdout: $output"
	assert_no_asterisk_calls
}

@test "--version prints 'beacon-report VERSION' and exits 0" {
	local v
	v=$(make_version)
	[ -n "$v" ]
	run --separate-stderr beacon --version
	assert_success
	assert_output "beacon-report $v"
	assert_no_asterisk_calls
}

@test "an unknown option exits 2 with an error on stderr naming the option" {
	run --separate-stderr beacon --no-such-option
	assert_status 2
	assert_stderr_contains "no-such-option"
	assert_stderr_contains "beacon-report: "
	assert_no_asterisk_calls
}

@test "an unknown short option inside a group is named, not argv[0]" {
	run --separate-stderr beacon -xf
	assert_status 2
	assert_stderr_contains "unknown option -x"
	refute_stderr_contains "$BEACON_BIN"
}

@test "--json where it means nothing (--reset, --version) is a usage error" {
	run --separate-stderr beacon --reset --json
	assert_status 2
	assert_stderr_contains "--json goes with"
	run --separate-stderr beacon --version --json
	assert_status 2
	assert_no_asterisk_calls
}

@test "--help says what --splay does with -f and -n (no wait), not that it refuses them (issue 25)" {
	run --separate-stderr beacon --help
	assert_success
	assert_output_contains "--splay SECONDS wait a random 0..SECONDS before collecting (no wait with -f, -n)"
	refute_output_contains "not with -f, -n"
	assert_no_asterisk_calls
}
