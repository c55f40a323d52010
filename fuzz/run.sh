#!/usr/bin/env bash
# Build every libFuzzer target of fuzz/ and run each for SECONDS (default
# 10) on a copy of its seed corpus, so that a run never writes into the
# repository.  Everything goes to fuzz/build/: objects, targets, the
# working corpora, each target's log, and crashes/ for what was found.
# One summary line per target; exit status 1 when any target crashed,
# leaked or broke a check, 2 when the build failed.
#
#   fuzz/run.sh [SECONDS]        FUZZ_TARGETS="astdb config" fuzz/run.sh 60
set -u -o pipefail

secs=${1:-10}
case $secs in
'' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$here/build
targets=${FUZZ_TARGETS:-version modules uptime calls proc astdb response config retryafter retrystate guard collector_validate collector_config collector_lifecycle collector_front collector_history collector_fleet collector_pack}
CC=${FUZZ_CC:-clang}

# -fno-sanitize-recover: UBSan's reports go to the closed stderr unless
# they stop the run; stopping it makes them findings with an artifact.
flags=('-fsanitize=fuzzer,address,undefined' -fno-sanitize-recover=all
	-fno-omit-frame-pointer -g -O1 -std=c11 -D_GNU_SOURCE
	-DVERSION='"fuzz"' -DBEACON_URL='"https://127.0.0.1:1"'
	-DDEV_MODE=0 -DTEST_CLOCK=0)
# The project's warnings; the targets themselves must build without any.
warn=(-Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow
	-Wsign-compare -Wpointer-arith -Wformat=2 -Wundef -Wvla -Wcast-align
	-Wwrite-strings)
read -r -a pkg_cflags <<<"$(pkg-config --cflags libcurl jansson inih openssl)" || exit 2
read -r -a pkg_libs <<<"$(pkg-config --libs libcurl jansson inih openssl)" || exit 2

mkdir -p "$build/obj" "$build/bin" "$build/crashes" "$build/logs" || exit 2

# The project's sources (not beacon-report.c: it has main, libFuzzer has
# its own), rebuilt every time: they change under us while others work.
cd "$root" || exit 2
srcs=() objs=()
for src in asterisk/*.c common/*.c conf/*.c collect/*.c http/*.c store/*.c; do
	[ -e "$src" ] || continue
	srcs+=("$src")
	objs+=("$build/obj/${src%.c}.o")
	mkdir -p "$build/obj/$(dirname "$src")"
done
# Two compilers at a time: the machine has two cores.  A failed compile
# leaves no object, which is how failures are told.
rm -f "${objs[@]}"
for i in "${!srcs[@]}"; do
	"$CC" "${flags[@]}" "${warn[@]}" "${pkg_cflags[@]}" \
		-c -o "${objs[$i]}" "${srcs[$i]}" &
	(( i % 2 == 1 )) && wait
done
wait
for i in "${!srcs[@]}"; do
	if [ ! -s "${objs[$i]}" ]; then
		echo "fuzz: cannot compile ${srcs[$i]}" >&2
		exit 2
	fi
done

# The collector's targets (collector_*) link the collector's sources
# instead, built with its own flags and packages (collector.mk), from one
# archive: the linker takes only the objects a target needs, so a target
# does not depend on the parts of the server it does not test (the
# storage backends, the HTTP side).  beacon-collector.c has main.
collector_targets=0
for t in $targets; do
	case $t in collector_*) collector_targets=1 ;; esac
done
if [ "$collector_targets" = 1 ]; then
	cpkgs=$(sed -n 's/^COLLECTOR_PKGS *= *//p' collector.mk)
	read -r -a c_cflags <<<"$(pkg-config --cflags $cpkgs)" || exit 2
	read -r -a c_libs <<<"$(pkg-config --libs $cpkgs)" || exit 2
	c_libs+=(-lpthread)
	c_flags=("${flags[@]}"
		-DDEFAULT_COLLECTOR_CONFIG='"/etc/beacon-collector/beacon-collector.ini"')
	csrcs=() cobjs=()
	for src in common/*.c collector/*/*.c; do
		[ -e "$src" ] && [ "$src" != collector/beacon-collector.c ] || continue
		csrcs+=("$src")
		cobjs+=("$build/obj-collector/${src%.c}.o")
		mkdir -p "$build/obj-collector/$(dirname "$src")"
	done
	rm -f "${cobjs[@]}" "$build/obj-collector/libcollector.a"
	for i in "${!csrcs[@]}"; do
		"$CC" "${c_flags[@]}" "${warn[@]}" "${c_cflags[@]}" \
			-c -o "${cobjs[$i]}" "${csrcs[$i]}" &
		(( i % 2 == 1 )) && wait
	done
	wait
	for i in "${!csrcs[@]}"; do
		if [ ! -s "${cobjs[$i]}" ]; then
			echo "fuzz: cannot compile ${csrcs[$i]}" >&2
			exit 2
		fi
	done
	ar rcs "$build/obj-collector/libcollector.a" "${cobjs[@]}" || exit 2
fi

for t in $targets; do
	case $t in
	collector_*)
		"$CC" "${c_flags[@]}" "${warn[@]}" -Werror "${c_cflags[@]}" \
			-o "$build/bin/fuzz_$t" "fuzz/fuzz_$t.c" \
			"$build/obj-collector/libcollector.a" "${c_libs[@]}" ;;
	*)
		"$CC" "${flags[@]}" "${warn[@]}" -Werror "${pkg_cflags[@]}" \
			-o "$build/bin/fuzz_$t" "fuzz/fuzz_$t.c" "${objs[@]}" "${pkg_libs[@]}" ;;
	esac ||
		{ echo "fuzz: cannot build fuzz_$t" >&2; exit 2; }
done

# The last "cov: N" of a libFuzzer line matching $2 in log $1.
cov_of() {
	sed -n "s/.*$2.* cov: \([0-9]*\).*/\1/p" "$1" | tail -n 1
}

failed=0
for t in $targets; do
	corpus=$build/corpus/$t
	log=$build/logs/$t.log
	rm -rf "$corpus"
	mkdir -p "$corpus"
	if [ -d "$here/corpus/$t" ]; then
		cp -R "$here/corpus/$t/." "$corpus/"
	fi
	dict=()
	[ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
	# -close_fd_mask=3: the parsers' warnings (stderr) and config_print
	# (stdout) are noise here; libFuzzer and the sanitizers keep their
	# own copy of stderr, so findings are still reported.
	"$build/bin/fuzz_$t" "$corpus" "${dict[@]}" \
		-max_total_time="$secs" -max_len=65536 -timeout=10 \
		-close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$build/crashes/$t-" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	cov0=$(cov_of "$log" INITED)
	cov1=$(cov_of "$log" '')
	found=$(grep -m 1 -E '^==[0-9]+==(ERROR|WARNING): |runtime error:|ERROR: libFuzzer' "$log" |
		sed "s/^==[0-9]*== *//")
	if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
		failed=1
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		printf 'fuzz_%-9s %8s runs  cov %s -> %s  CRASH (exit %d): %s  input: %s  log: %s\n' \
			"$t" "${runs:-?}" "${cov0:-?}" "${cov1:-?}" "$rc" "${found:-?}" \
			"${art:-none}" "$log"
	else
		printf 'fuzz_%-9s %8s runs  cov %s -> %s (+%s)  %s new inputs  no crash\n' \
			"$t" "${runs:-?}" "${cov0:-?}" "${cov1:-?}" \
			"$(( ${cov1:-0} - ${cov0:-0} ))" "${added:-?}"
	fi
done
exit "$failed"
