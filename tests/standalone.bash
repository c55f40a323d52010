# Sourced by the scripts that use the bats harness outside bats (demo.sh,
# valgrind.sh, bench/run.sh).  Needs REPO and a fail function.
#
# standalone_harness NAME: a temp dir $WORK that plays the test dir, the
# bats helpers loaded, on exit the collectors stopped and $WORK removed
# (kept when KEEP=1), and nothing of the host: no proxy, no other CA, no
# stand-in mode, the stand-in asterisk first in PATH.
standalone_harness() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/beacon-$1.XXXXXX") || fail mktemp
	BATS_TEST_DIRNAME="$REPO/tests/bats"
	BATS_TEST_TMPDIR="$WORK"
	# shellcheck source=tests/bats/helpers.bash
	. "$REPO/tests/bats/helpers.bash"
	HARNESS_PIDS="$WORK/.pids"
	: >"$HARNESS_PIDS"
	trap standalone_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
		NO_PROXY no_proxy CURL_CA_BUNDLE CURL_HOME SSL_CERT_FILE SSL_CERT_DIR \
		ASTERISK_STUB_MODE BEACON_REPORT_NOW
	export HOME="$WORK/home" LC_ALL=C
	export PATH="$REPO/tests/libexec:/usr/bin:/bin"
}

standalone_cleanup() {
	stop_collectors
	if [ "${KEEP:-0}" = 1 ]; then
		echo "logs kept in $WORK" >&2
	else
		rm -rf -- "$WORK"
	fi
}
