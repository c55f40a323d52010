#!/bin/bash
# bench/run.sh: beacon-report against the shell way (bench/shell-beacon.sh),
# on this machine alone: a throwaway CA, test collectors on 127.0.0.1
# (tests/collector/collector.py) and the stand-in asterisk
# (tests/libexec/asterisk).  Measures, with hyperfine and /usr/bin/time -v:
#   (a) a not-due run (fresh stamp), beacon-report vs the shell's not-due path
#   (b) a full run to one collector (stamp removed before each run; ids
#       already stored, so one PUT), vs the shell script
#   (c) a full run to 8 collectors each answering after 1 s, vs to 1 such
#   (d) peak RSS of a full run with a 1,000-module Asterisk
# then (a), (b) and (d) again with the bash stand-in replaced by a trivial
# static-output program (bench/fake-asterisk.c), to show our own cost.
# Prints one table with the figures and the ratios of this run.
#
# The binary: a release-like build (-O2, no TEST_CLOCK) whose built-in
# server is https://127.0.0.1:47443, built into $BENCH_BUILD (default
# /tmp/bench-build) with
#   make BUILD=$BENCH_BUILD BEACON_URL=https://127.0.0.1:47443 $BENCH_BUILD/beacon-report
# The runs select the local collectors with -s, so nothing ever talks to
# the built-in server.  Environment: RUNS (default 30), SLOW_RUNS (default
# 5), BENCH_BUILD.  Needs hyperfine, /usr/bin/time (Debian: time), jq, curl.
# shellcheck disable=SC2154  # ${NAME}_PORT/_STATE come from start_collector
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-/tmp/bench-build}
RUNS=${RUNS:-30}
SLOW_RUNS=${SLOW_RUNS:-5}
PY=/usr/bin/python3

fail() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}
for t in hyperfine /usr/bin/time jq curl openssl flock timeout cc; do
	command -v "$t" >/dev/null || fail "$t is missing (apt-get install hyperfine time jq curl)"
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
mkdir -p "$HOME" "$ASTERISK_STUB_DIR/answers"

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the CA"
for n in lab shlab c1 c2 c3 c4 c5 c6 c7 c8; do
	start_collector "$n" || fail "collector $n did not start"
done

CONF="$WORK/beacon.ini"
STATE="$WORK/state"
SSTATE="$WORK/sstate"
{
	printf '[general]\nstate_dir = %s\n\n[beacon]\nca_path = %s/ca.pem\n' "$STATE" "$TEST_CA"
	for n in lab c1 c2 c3 c4 c5 c6 c7 c8; do
		p="${n}_PORT"
		printf '\n[%s]\ntype = server\nurl = https://127.0.0.1:%s/beacon\nca_path = %s/ca.pem\n' \
			"$n" "${!p}" "$TEST_CA"
	done
} >"$CONF"
SHELL_CMD="$SH -n shlab -u https://127.0.0.1:${shlab_PORT}/beacon -c $TEST_CA/ca.pem -d $SSTATE"
EIGHT="-s c1 -s c2 -s c3 -s c4 -s c5 -s c6 -s c7 -s c8"

# Registration first (not measured), so every measured full run is the
# steady state of a cron job: the ids are in the AstDB, one PUT per server.
# shellcheck disable=SC2086
"$BIN" -c "$CONF" -q -s lab $EIGHT || fail "the priming run of beacon-report failed"
$SHELL_CMD >/dev/null || fail "the priming run of shell-beacon.sh failed"

# hf NAME HYPERFINE-ARGS...: run hyperfine, keep its JSON as $WORK/NAME.json.
hf() {
	local name=$1
	shift
	timeout 900 hyperfine -N --style basic --export-json "$WORK/$name.json" "$@" >&2 ||
		fail "hyperfine $name"
}
# mean NAME INDEX: mean time in ms of command INDEX; sd likewise.
mean() { jq -r ".results[$2].mean * 1000 | . * 100 | round / 100" "$WORK/$1.json"; }
sd() { jq -r ".results[$2].stddev * 1000 | . * 100 | round / 100" "$WORK/$1.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# rss CMD...: peak RSS in KiB of CMD and its children, (time -v).
rss() {
	/usr/bin/time -v "$@" 2>"$WORK/time.out" >/dev/null
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.out"
}
rows=()
row() { rows+=("$(printf '%-58s %12s %12s %8s  %s' "$@")"); }

# measure TAG: scenarios (a), (b), (d) with the asterisk now on PATH.
measure() {
	local tag=$1 r
	# (a) not due: the stamps written by the priming run are fresh.
	hf "a$tag" --warmup 3 --runs "$RUNS" -i \
		-n beacon-report "$BIN -c $CONF -q -s lab" \
		-n shell "$SHELL_CMD"
	"$BIN" -c "$CONF" -q -s lab
	[ $? -eq 9 ] || fail "(a) beacon-report was due, expected not due"
	$SHELL_CMD >/dev/null
	[ $? -eq 9 ] || fail "(a) shell-beacon.sh was due, expected not due"
	row "(a$tag) not due: beacon-report / shell [ms]" "$(mean "a$tag" 0)±$(sd "a$tag" 0)" \
		"$(mean "a$tag" 1)±$(sd "a$tag" 1)" "$(ratio "$(mean "a$tag" 1)" "$(mean "a$tag" 0)")x" \
		"goal: < 5 ms and >= 3x"
	# (b) a full run to one collector.
	hf "b$tag" --warmup 2 --runs "$RUNS" \
		-n beacon-report --prepare "rm -f $STATE/lab.stamp" "$BIN -c $CONF -q -s lab" \
		-n shell --prepare "rm -f $SSTATE/shlab.stamp" "$SHELL_CMD"
	row "(b$tag) full run, 1 collector: beacon-report / shell [ms]" \
		"$(mean "b$tag" 0)±$(sd "b$tag" 0)" "$(mean "b$tag" 1)±$(sd "b$tag" 1)" \
		"$(ratio "$(mean "b$tag" 1)" "$(mean "b$tag" 0)")x" "goal: >= 3x"
}

# measure_d TAG MODFILE: (d) peak RSS of a full run with 1,000 modules.
measure_d() {
	local tag=$1 k1 k2
	make_modules >"$2" || fail "cannot write $2"
	rm -f "$STATE/lab.stamp" "$SSTATE/shlab.stamp"
	k1=$(rss "$BIN" -c "$CONF" -q -s lab)
	k2=$(rss $SHELL_CMD)
	[ -f "$STATE/lab.stamp" ] && [ -f "$SSTATE/shlab.stamp" ] || fail "(d$tag) a run did not send"
	row "(d$tag) peak RSS, 1000 modules (time -v) [KiB]" "$k1" "$k2" "" "goal: < 8192 KiB"
	rm -f "$2"
}

# 1,000 modules for (d): the real lines cycled with new names.
make_modules() {
	awk 'NR == 1 { print; next } /modules loaded$/ { next }
		{ line[++n] = $0 }
		END { for (i = 0; i < 1000; i++) {
			l = line[i % n + 1]; sub(/^[^ ]+/, "", l)
			printf "%-30s%s\n", sprintf("mod_bench_%04d.so", i), l }
			print "1000 modules loaded" }' "$ASTERISK_STUB_FIXTURES/module_show.txt"
}

# The trivial asterisk: the stand-in's answers recorded once.
FAKE_BIN="$WORK/fakebin"
export FAKE_ASTERISK_DIR="$WORK/fake-answers"
mkdir -p "$FAKE_BIN" "$FAKE_ASTERISK_DIR"
cc -O2 -o "$FAKE_BIN/asterisk" "$REPO/bench/fake-asterisk.c" || fail "cannot build fake-asterisk"
for c in "core show version" "module show" "core show uptime seconds" "core show calls" \
	"database show beacon" "database show beacon/shlab"; do
	asterisk -rx "$c" >"$FAKE_ASTERISK_DIR/$(printf '%s' "$c" | tr ' /' '_-').txt" ||
		fail "cannot record $c"
done

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1: the bash stand-in asterisk (tests/libexec/asterisk) --------------------
measure ""
measure_d "" "$ASTERISK_STUB_DIR/answers/module_show.txt"

# (c) 8 collectors answering after 1 s each, against 1 such.
for n in c1 c2 c3 c4 c5 c6 c7 c8; do
	collector_control "$n" '{"delay": 1}' || fail "collector_control $n"
done
STAMPS8=""
for n in c1 c2 c3 c4 c5 c6 c7 c8; do STAMPS8+=" $STATE/$n.stamp"; done
hf c --runs "$SLOW_RUNS" \
	-n one --prepare "rm -f $STATE/c1.stamp" "$BIN -c $CONF -q -s c1" \
	-n eight --prepare "rm -f$STAMPS8" "$BIN -c $CONF -q $EIGHT"
for n in c1 c2 c3 c4 c5 c6 c7 c8; do
	[ -f "$STATE/$n.stamp" ] || fail "(c) $n did not accept the report"
done
row "(c) full run, 1 vs 8 collectors delayed 1 s [ms]" "$(mean c 0)±$(sd c 0)" \
	"$(mean c 1)±$(sd c 1)" "$(ratio "$(mean c 1)" "$(mean c 0)")x" "goal: 8/1 < 1.5x"

# ---- 2: a trivial static-output asterisk (bench/fake-asterisk.c) --------------------
PATH="$FAKE_BIN:$PATH"
[ "$(command -v asterisk)" = "$FAKE_BIN/asterisk" ] || fail "the fake asterisk is not first on PATH"
measure "'"
measure_d "'" "$FAKE_ASTERISK_DIR/module_show.txt"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table -------------------------------------------------------------------
echo
echo "beacon-report benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	"kernel $(uname -r), load average $LOAD0 (start) / $LOAD1 (end)"
echo "binary:  $BIN (release flags -O2, BEACON_URL=https://127.0.0.1:47443), $(ldd "$BIN" | wc -l) shared objects"
echo "runs:    hyperfine -N, $RUNS runs ((c): $SLOW_RUNS); mean ± stddev"
echo "rows (x) use the bash stand-in asterisk; rows (x') a trivial static-output asterisk"
echo
printf '%-58s %12s %12s %8s  %s\n' "measure" "ours (c: 1)" "shell (c: 8)" "ratio" "goal"
printf '%s\n' "${rows[@]}"
