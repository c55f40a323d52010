#!/bin/bash
# bench/transports.sh: the shell way (bench/shell-beacon.sh), beacon-report
# through `asterisk -rx` and beacon-report through the control socket, side
# by side in one run, on this machine alone (a throwaway CA, a test
# collector on 127.0.0.1).  For each: a not-due run and a full run to one
# collector (the stamp removed before each run; ids already stored, so
# five reads and one PUT), measured by bench/measure.c (fork/exec, no
# shell): wall time, CPU time (user+sys of the run and of every process it
# waited for), the PBX's CPU meanwhile (the control socket's server, with
# its children), and peak RSS (wait4: the largest process of the run; for
# the control socket and a not-due run that is beacon-report itself).
# An empty C program is the floor of a process start.
#
# Asterisks: the bash stand-in (tests/libexec/asterisk, and for the socket
# tests/libexec/asterisk-ctl over it); a trivial one (bench/fake-asterisk.c,
# and asterisk-ctl --answers: recorded answers, no process per command);
# and, when BENCH_ASTERISK names a real Asterisk binary whose daemon runs
# (BENCH_ASTERISK_CTL, default /var/run/asterisk/asterisk.ctl), that one:
# its AstDB then gets family beacon/lab and beacon/shlab.
#
# Environment: REPS (default 30), BENCH_BUILD (default /tmp/bench-build).
# Needs cc, jq, curl, openssl, flock, timeout.
# shellcheck disable=SC2154  # ${NAME}_PORT comes from start_collector
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-/tmp/bench-build}
REPS=${REPS:-30}
PY=/usr/bin/python3

fail() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}
for t in jq curl openssl flock timeout cc; do
	command -v "$t" >/dev/null || fail "$t is missing (apt-get install jq curl build-essential)"
done

make -s -C "$REPO" BUILD="$BENCH_BUILD" BEACON_URL=https://127.0.0.1:47443 \
	"$BENCH_BUILD/beacon-report" >&2 || fail "cannot build $BENCH_BUILD/beacon-report"
BIN=$BENCH_BUILD/beacon-report
SH=$REPO/bench/shell-beacon.sh

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness bench
export ASTERISK_STUB_DIR="$WORK/asterisk"
export ASTERISK_STUB_FIXTURES="$REPO/tests/fixtures/22.10.1"
mkdir -p "$HOME" "$ASTERISK_STUB_DIR/answers" "$WORK/bin"

cc -O2 -o "$WORK/bin/measure" "$REPO/bench/measure.c" -lm || fail "cannot build measure"
printf 'int main(void) { return 0; }\n' >"$WORK/empty.c"
cc -O2 -o "$WORK/bin/empty" "$WORK/empty.c" || fail "cannot build the empty program"
MEASURE=$WORK/bin/measure

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the CA"
start_collector lab || fail "collector lab did not start"
start_collector shlab || fail "collector shlab did not start"

STATE="$WORK/state"
SSTATE="$WORK/sstate"
# conf FILE [CONTROL_SOCKET]: the one-collector configuration.
conf() {
	{
		printf '[general]\nstate_dir = %s\n' "$STATE"
		[ -z "${2:-}" ] || printf 'control_socket = %s\n' "$2"
		printf '\n[beacon]\nca_path = %s/ca.pem\n' "$TEST_CA"
		printf '\n[lab]\ntype = server\nurl = https://127.0.0.1:%s/beacon\nca_path = %s/ca.pem\n' \
			"$lab_PORT" "$TEST_CA"
	} >"$1"
}
SHELL_CMD=("$SH" -n shlab -u "https://127.0.0.1:${shlab_PORT}/beacon" -c "$TEST_CA/ca.pem" -d "$SSTATE")

rows=()
# m LABEL EXPECT PBXPID [-u FILE] -- CMD...: one measured row.
m() {
	local label=$1 want=$2 pid=$3 out
	shift 3
	out=$("$MEASURE" -n "$REPS" -w 3 -e "$want" -p "$pid" "$@") || fail "$label"
	eval "$out"	# reps= wall_mean= ... from measure itself
	# shellcheck disable=SC2154
	rows+=("$(printf '%-46s %14s %9s %9s %9s' "$label" "$wall_mean±$wall_sd" "$cpu_mean" \
		"$([ "$pbx_cpu_mean" = -1.00 ] && echo - || echo "$pbx_cpu_mean")" "$rss_median")")
}

# scenario TAG CTL CTLPID: not due and full, for the three ways.
scenario() {
	local tag=$1 ctl=$2 pid=$3
	conf "$WORK/rx.ini"
	conf "$WORK/sock.ini" "$ctl"
	# priming (not measured): ids stored, stamps fresh
	"$BIN" -c "$WORK/rx.ini" -q -f -s lab || fail "priming run ($tag)"
	"${SHELL_CMD[@]}" -f >/dev/null || fail "priming run of shell-beacon.sh ($tag)"
	m "$tag not due: shell" 9 0 -- "${SHELL_CMD[@]}"
	m "$tag not due: asterisk -rx" 9 0 -- "$BIN" -c "$WORK/rx.ini" -q -s lab
	m "$tag not due: control socket" 9 0 -- "$BIN" -c "$WORK/sock.ini" -q -s lab
	m "$tag full run: shell" 0 0 -u "$SSTATE/shlab.stamp" -- "${SHELL_CMD[@]}"
	m "$tag full run: asterisk -rx" 0 0 -u "$STATE/lab.stamp" -- "$BIN" -c "$WORK/rx.ini" -q -s lab
	m "$tag full run: control socket" 0 "$pid" -u "$STATE/lab.stamp" -- "$BIN" -c "$WORK/sock.ini" -q -s lab
}

# start_ctl SOCKET [ARGS...]: a stand-in control socket; prints its pid.
start_ctl() {
	local sock=$1 pid
	shift
	"$PY" "$REPO/tests/libexec/asterisk-ctl" --socket "$sock" "$@" \
		>"$sock.out" 2>"$sock.err" 3>&- &
	pid=$!
	_record_pid "$pid" "asterisk-ctl"
	_wait_ready "$pid" "$sock.out" "asterisk-ctl" >/dev/null || return 1
	echo "$pid"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
m "floor: an empty C program" 0 0 -- "$WORK/bin/empty"

# ---- 1: the bash stand-in ------------------------------------------------------

CTL1="$WORK/stand-in.ctl"
PID1=$(start_ctl "$CTL1") || fail "the stand-in control socket did not start"
scenario "stand-in" "$CTL1" "$PID1"

# ---- 2: a trivial Asterisk: recorded answers --------------------------------------
FAKE_BIN="$WORK/fakebin"
export FAKE_ASTERISK_DIR="$WORK/fake-answers"
mkdir -p "$FAKE_BIN" "$FAKE_ASTERISK_DIR"
cc -O2 -o "$FAKE_BIN/asterisk" "$REPO/bench/fake-asterisk.c" || fail "cannot build fake-asterisk"
for c in "core show version" "module show" "core show uptime seconds" "core show calls" \
	"database show beacon" "database show beacon/shlab" "database show beacon/lab"; do
	asterisk -rx "$c" >"$FAKE_ASTERISK_DIR/$(printf '%s' "$c" | tr ' /' '_-').txt" ||
		fail "cannot record $c"
done
CTL2="$WORK/trivial.ctl"
PID2=$(start_ctl "$CTL2" --answers "$FAKE_ASTERISK_DIR") || fail "the trivial control socket did not start"
PATH="$FAKE_BIN:$PATH" scenario "trivial" "$CTL2" "$PID2"

# ---- 3: a real Asterisk, when there is one ------------------------------------------
REAL=""
if [ -n "${BENCH_ASTERISK:-}" ]; then
	CTL3=${BENCH_ASTERISK_CTL:-/var/run/asterisk/asterisk.ctl}
	[ -x "$BENCH_ASTERISK" ] && [ -S "$CTL3" ] || fail "BENCH_ASTERISK=$BENCH_ASTERISK: no binary or no socket $CTL3"
	mkdir -p "$WORK/realbin"
	ln -sf "$BENCH_ASTERISK" "$WORK/realbin/asterisk"
	PID3=$(pgrep -o -x asterisk || echo 0)
	REAL="$("$BENCH_ASTERISK" -rx 'core show version' | head -n 1)"
	PATH="$WORK/realbin:$PATH" scenario "real" "$CTL3" "$PID3"
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "beacon-report transports, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	"kernel $(uname -r), load average $LOAD0 (start) / $LOAD1 (end)"
echo "binary:  $BIN (-O2), $(ldd "$BIN" | wc -l) shared objects linked"
echo "runs:    $REPS per row after 3 warm-up runs (bench/measure.c); wall mean ± stddev"
[ -z "$REAL" ] || echo "real:    $REAL"
echo
printf '%-46s %14s %9s %9s %9s\n' "run" "wall [ms]" "CPU [ms]" "PBX [ms]" "RSS [KiB]"
printf '%s\n' "${rows[@]}"
echo
echo "CPU: user+sys of the run and its children (asterisk -rx processes, curl, ...)."
echo "PBX: CPU of the control socket's server meanwhile (the stand-in: python and its"
echo "bash children; real: the Asterisk daemon), per run; '-' where not measured."
echo "RSS: peak of the largest process of the run (the run itself when it has no child)."
