#!/usr/bin/env bats
# How beacon-report is installed and documented: `make install` and
# `make uninstall`, the cron line, the systemd units, the man page (against
# --help and common/exit_code.c) and the sample conf/beacon.ini (against
# libinih and --show-config).  Needs make, cc, mandoc, groff, man-db and
# systemd (systemd-analyze); a missing tool fails the test.

load helpers
bats_require_minimum_version 1.5.0

# The paths of a Debian install; every test reads the tree installed here.
INSTALL_VARS=(PREFIX=/usr SYSCONFDIR=/etc SYSTEMDUNITDIR=/lib/systemd/system)
MAN="$REPO/beacon-report.8"
SAMPLE="$REPO/conf/beacon.ini"

setup_file() {
	harness_setup_file
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	export ROOT="$BATS_FILE_TMPDIR/root"
	# A plain `make install`, whatever make started `make check`.
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" install DESTDIR="$ROOT" "${INSTALL_VARS[@]}") \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/install.status"
}

# need_install: fail the test unless setup_file's `make install` worked.
need_install() {
	[ "$(cat "$BATS_FILE_TMPDIR/install.status")" = 0 ] && return 0
	flunk "make install failed:" "$(tail -n 20 "$BATS_FILE_TMPDIR/install.log")"
}

need_tool() {
	command -v "$1" >/dev/null && return 0
	flunk "$1 is not installed (make deps installs it)"
}

# make_in DESTDIR TARGET: `make TARGET` into another tree.
make_in() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" "$2" DESTDIR="$1" "${INSTALL_VARS[@]}") >"$BATS_TEST_TMPDIR/make.log" 2>&1 ||
		flunk "make $2 failed:" "$(tail -n 20 "$BATS_TEST_TMPDIR/make.log")"
}

# Files under DIR as "MODE PATH", sorted.
file_modes() {
	(cd "$1" && find . -type f -printf '%m /%P\n' | LC_ALL=C sort)
}

# The installed cron file's job lines (not comments, blanks or VAR=...).
cron_jobs() {
	grep -Ev '^[[:space:]]*(#|$)|^[A-Za-z_][A-Za-z0-9_]*=' "$ROOT/etc/cron.d/beacon-report"
}

# The command of the (single) job line.
cron_command() {
	local min hour dom mon dow user cmd
	read -r min hour dom mon dow user cmd < <(cron_jobs)
	printf '%s\n' "$cmd"
}

# The rendered man page, one paragraph a line, no overstrike: with
# mandoc (`mandoc`) or with man-db and groff (`man`).
render() {
	case $1 in
	mandoc) mandoc -T ascii -O width=250 "$MAN" ;;
	man) MANWIDTH=250 man -l "$MAN" 2>/dev/null ;;
	esac | sed 's/.\x08//g'
}

# Lines of section NAME of rendered text on stdin, without indentation.
rendered_section() {
	awk -v s="$1" '$0 == s { on = 1; next } on && /^[^ ]/ { exit } on' |
		sed -E 's/^ +//; /^$/d'
}

# The mdoc source of section NAME.
source_section() {
	awk -v s=".Sh $1" '$0 == s { on = 1; next } on && /^\.Sh / { exit } on' "$MAN"
}

# "CODE<TAB>NAME<TAB>MEANING" for every exit code, from the C sources.
exit_code_table() {
	local h="$REPO/common/exit_code.h" c="$REPO/common/exit_code.c"
	sed -nE 's/^[[:space:]]*\[(EXIT_[A-Z_]+)\] = \{"([^"]*)", "([^"]*)"\},?$/\1\t\2\t\3/p' "$c" |
	while IFS=$'\t' read -r sym name meaning; do
		num=$(sed -nE "s/^[[:space:]]*$sym = ([0-9]+),?$/\1/p" "$h")
		printf '%s\t%s\t%s\n' "${num:-?}" "$name" "$meaning"
	done | sort -n
}

# inih_dump FILE: every key libinih sees, "SECTION<TAB>KEY<TAB>VALUE";
# fails with libinih's error line.  The helper is built once per file.
inih_dump() {
	local bin="$BATS_FILE_TMPDIR/inih-dump"
	if [ ! -x "$bin" ]; then
		cat >"$bin.c" <<-'C'
		#include <stdio.h>
		#include <ini.h>
		static int put(void *u, const char *s, const char *k, const char *v)
		{
			(void)u;
			printf("%s\t%s\t%s\n", s, k, v);
			return 1;
		}
		int main(int argc, char **argv)
		{
			int rc = argc == 2 ? ini_parse(argv[1], put, NULL) : -1;
			if (rc != 0)
				fprintf(stderr, "%s: ini_parse: %d\n", argv[1], rc);
			return rc != 0;
		}
		C
		cc -o "$bin" "$bin.c" $(pkg-config --cflags --libs inih) ||
			{ flunk "cannot build the libinih helper"; return 1; }
	fi
	"$bin" "$1"
}

# uncomment [all]: the sample with its "; key = value" lines made active,
# those of [general] and [beacon] only, or with `all` the example
# collector's too (its section line is commented as well).
uncomment() {
	awk -v all="${1:-}" '
		/^; *\[[A-Za-z0-9_.-]+\] *$/ { coll = 1; if (all) { sub(/^; */, ""); print; next } }
		/^; [a-z_]+ =( |$)/ && (!coll || all) { sub(/^; /, ""); print; next }
		{ print }
	' "$SAMPLE"
}

# ---- make install / uninstall -------------------------------------------

@test "make install: exactly the binary, man page, config, cron file and units, with their modes" {
	need_install
	run file_modes "$ROOT"
	assert_output "640 /etc/asterisk/beacon.ini
644 /etc/cron.d/beacon-report
644 /lib/systemd/system/beacon-report.service
644 /lib/systemd/system/beacon-report.timer
644 /usr/share/man/man8/beacon-report.8
755 /usr/sbin/beacon-report"
	cmp "$SAMPLE" "$ROOT/etc/asterisk/beacon.ini"
	cmp "$MAN" "$ROOT/usr/share/man/man8/beacon-report.8"
	# No @VAR@ left unsubstituted.
	run grep -l '@[A-Z]*@' -r "$ROOT/etc" "$ROOT/lib"
	assert_output ""
}

# issue 11: a from-source install works like the package.
@test "make install with its defaults: /etc/asterisk/beacon.ini 0640 group RUN_GROUP, /etc/cron.d, the state dir 0700 of RUN_USER; the binary reads that file" {
	need_install
	local d="$BATS_TEST_TMPDIR/default"
	[ "$(id -u)" = 0 ] || flunk "this test needs root (chown of the state dir)"
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" install DESTDIR="$d" RUN_USER=nobody RUN_GROUP=nogroup) \
		>"$BATS_TEST_TMPDIR/make.log" 2>&1 || flunk "make install failed:" "$(tail -n 20 "$BATS_TEST_TMPDIR/make.log")"
	assert_eq "config" "640 root:nogroup" "$(stat -c '%a %U:%G' "$d/etc/asterisk/beacon.ini")"
	assert_eq "cron file" "644" "$(stat -c '%a' "$d/etc/cron.d/beacon-report")"
	assert_eq "state dir" "700 nobody" "$(stat -c '%a %U' "$d/var/lib/beacon-report")"
	[ -x "$d/usr/local/sbin/beacon-report" ] || flunk "no /usr/local/sbin/beacon-report"
	grep -q ' /usr/local/sbin/beacon-report -q' "$d/etc/cron.d/beacon-report" ||
		flunk "the cron line does not run the installed binary:" "$(cat "$d/etc/cron.d/beacon-report")"
	run "$d/usr/local/sbin/beacon-report" --show-config
	assert_output_contains "; /etc/asterisk/beacon.ini"
	run "$d/usr/local/sbin/beacon-report" --help
	assert_output_contains "(default /etc/asterisk/beacon.ini)"
	# a user or group that does not exist is said, not an error
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" install DESTDIR="$BATS_TEST_TMPDIR/nouser" RUN_USER=no-such-user-x \
		RUN_GROUP=no-such-group-x) >"$BATS_TEST_TMPDIR/make.log" 2>&1 ||
		flunk "make install failed:" "$(tail -n 20 "$BATS_TEST_TMPDIR/make.log")"
	grep -q "no user no-such-user-x" "$BATS_TEST_TMPDIR/make.log" || flunk "$(cat "$BATS_TEST_TMPDIR/make.log")"
	grep -q "no group no-such-group-x" "$BATS_TEST_TMPDIR/make.log" || flunk "$(cat "$BATS_TEST_TMPDIR/make.log")"
}

@test "make install keeps an existing beacon.ini" {
	need_install
	local d="$BATS_TEST_TMPDIR/root"
	make_in "$d" install
	echo "; the admin's own" >>"$d/etc/asterisk/beacon.ini"
	cp "$d/etc/asterisk/beacon.ini" "$BATS_TEST_TMPDIR/mine"
	make_in "$d" install
	cmp "$BATS_TEST_TMPDIR/mine" "$d/etc/asterisk/beacon.ini"
}

@test "make uninstall removes every installed file but the admin's beacon.ini" {
	need_install
	local d="$BATS_TEST_TMPDIR/root"
	make_in "$d" install
	make_in "$d" uninstall
	run file_modes "$d"
	assert_output "640 /etc/asterisk/beacon.ini"
	# the state directory is the admin's data too
	[ -d "$d/var/lib/beacon-report" ] || flunk "make uninstall removed the state directory"
}

# ---- cron -----------------------------------------------------------------

@test "cron: one job, hourly at a fixed odd minute, as asterisk, running the installed binary with -q" {
	need_install
	run cron_jobs
	assert_line_count 1
	local min hour dom mon dow user cmd
	read -r min hour dom mon dow user cmd <<<"$output"
	[[ $min =~ ^[0-9]+$ ]] && [ "$min" -lt 60 ] && [ $((min % 2)) -eq 1 ] ||
		flunk "minute '$min' is not a fixed odd minute"
	[ "$hour $dom $mon $dow" = "* * * *" ] || flunk "not hourly: $hour $dom $mon $dow"
	[ "$user" = asterisk ] || flunk "user '$user', want asterisk"
	[[ " $cmd " == *" /usr/sbin/beacon-report -q "* ]] || flunk "no '/usr/sbin/beacon-report -q' in: $cmd"
	[[ $cmd == "test -x /usr/sbin/beacon-report "* ]] || flunk "does not start with test -x: $cmd"
	[[ $cmd == *"/run/systemd/system"* ]] || flunk "no systemd guard in: $cmd"
	[[ $cmd != *%* ]] || flunk "a % in a cron command is a newline: $cmd"
	# The splay stays below the hour, so runs never overlap.
	[[ $cmd =~ --splay\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 3600 ] ||
		flunk "no --splay below 3600 in: $cmd"
	[ -x "$ROOT/usr/sbin/beacon-report" ]
	# cron's own PATH has no /usr/sbin, where Debian's asterisk lives.
	run grep -E '^PATH=(.*:)?/usr/sbin(:|$)' "$ROOT/etc/cron.d/beacon-report"
	assert_success
}

# run_cron_line [systemd] [nobinary]: the job's command, with its binary
# and /run/systemd/system moved into this test's directory.
run_cron_line() {
	local t="$BATS_TEST_TMPDIR/cron" cmd
	mkdir -p "$t/sbin"
	case " $* " in *" systemd "*) mkdir -p "$t/run/systemd/system" ;; esac
	case " $* " in *" nobinary "*) ;; *)
		cat >"$t/sbin/beacon-report" <<-EOF
		#!/bin/sh
		echo "\$*" >>"$t/calls"
		exit \${STUB_EXIT:-0}
		EOF
		chmod 755 "$t/sbin/beacon-report" ;;
	esac
	cmd=$(cron_command | sed "s|/usr/sbin/beacon-report|$t/sbin/beacon-report|g; s|/run/systemd/system|$t/run/systemd/system|g")
	run sh -c "$cmd"
}

@test "cron: the line does nothing where systemd runs (the timer reports instead)" {
	need_install
	run_cron_line systemd
	assert_output ""
	[ ! -e "$BATS_TEST_TMPDIR/cron/calls" ] || flunk "ran: $(cat "$BATS_TEST_TMPDIR/cron/calls")"
}

@test "cron: without systemd it runs the binary once, and adds no output of its own on exit 9 and 10" {
	need_install
	local splay
	splay=$(cron_command | sed -nE 's/.*--splay ([0-9]+).*/\1/p')
	for code in 9 10; do
		rm -f "$BATS_TEST_TMPDIR/cron/calls"
		export STUB_EXIT=$code
		run_cron_line
		assert_output ""
		run cat "$BATS_TEST_TMPDIR/cron/calls"
		assert_output "-q --splay $splay"
	done
}

@test "cron: silent after the package is removed and the binary is gone" {
	need_install
	run_cron_line nobinary
	assert_output ""
}

@test "the program itself is silent with -q when disabled (what cron mails)" {
	printf '[general]\nenabled = no\nstate_dir = %s\n' "$STATE_DIR" >"$CONFIG"
	run --separate-stderr beacon -q -c "$CONFIG"
	assert_status 10
	assert_output ""
	[ -z "$stderr" ] || flunk "stderr: $stderr"
}

# ---- systemd ----------------------------------------------------------------

@test "systemd: the installed units pass systemd-analyze verify, Documentation= included" {
	need_install
	need_tool systemd-analyze
	local u="$BATS_TEST_TMPDIR/units"
	mkdir -p "$u"
	# verify checks that ExecStart exists: point it at the installed copy.
	for f in beacon-report.service beacon-report.timer; do
		sed "s|/usr/sbin/beacon-report|$ROOT/usr/sbin/beacon-report|g" \
			"$ROOT/lib/systemd/system/$f" >"$u/$f"
	done
	run grep -c "^ExecStart=$ROOT/usr/sbin/beacon-report " "$u/beacon-report.service"
	assert_output 1
	# Warnings (unknown keys, bad values) do not change the exit status.
	MANPATH="$ROOT/usr/share/man" run systemd-analyze verify \
		"$u/beacon-report.service" "$u/beacon-report.timer"
	assert_success
	assert_output ""
}

@test "systemd: the service runs the installed binary quietly as asterisk; 9 and 10 are success" {
	need_install
	local s="$ROOT/lib/systemd/system/beacon-report.service" not_due disabled
	not_due=$(sed -nE 's/^[[:space:]]*EXIT_NOT_DUE = ([0-9]+),?$/\1/p' "$REPO/common/exit_code.h")
	disabled=$(sed -nE 's/^[[:space:]]*EXIT_DISABLED = ([0-9]+),?$/\1/p' "$REPO/common/exit_code.h")
	run grep -E '^(Type|User|Group|ExecStart|SuccessExitStatus|StateDirectory|StateDirectoryMode|ProtectSystem)=' "$s"
	assert_output "Type=oneshot
User=asterisk
Group=asterisk
ExecStart=/usr/sbin/beacon-report -q --splay 0
SuccessExitStatus=$not_due $disabled
StateDirectory=beacon-report
StateDirectoryMode=0700
ProtectSystem=strict"
	# The state_dir systemd makes is the program's default.
	run grep -E '^STATEDIR = /var/lib/beacon-report$' "$REPO/Makefile"
	assert_success
}

@test "systemd: the service's exposure stays low (systemd-analyze security)" {
	need_install
	need_tool systemd-analyze
	# --offline (a unit file, not a loaded unit) came with systemd 250;
	# Debian 11 has 247 (as collector_install.bats).
	local sv
	sv=$(systemd-analyze --version | awk 'NR == 1 { print $2 + 0 }')
	[ "$sv" -ge 250 ] ||
		skip "systemd-analyze security --offline needs systemd >= 250 (this is $sv)"
	run systemd-analyze security --offline=true --threshold=25 \
		"$ROOT/lib/systemd/system/beacon-report.service"
	assert_success
	assert_output_contains "Overall exposure level for beacon-report.service"
}

@test "systemd: the timer fires hourly, spread at random, catches up after downtime" {
	need_install
	need_tool systemd-analyze
	local t="$ROOT/lib/systemd/system/beacon-report.timer" cal
	cal=$(sed -n 's/^OnCalendar=//p' "$t")
	run systemd-analyze calendar "$cal"
	assert_output_contains "Normalized form: *-*-* *:00:00"
	run grep -E '^(RandomizedDelaySec|Persistent|WantedBy)=' "$t"
	assert_output "RandomizedDelaySec=30min
Persistent=true
WantedBy=timers.target"
}

# ---- the man page --------------------------------------------------------

@test "man page: mandoc -T lint finds nothing (warnings and worse)" {
	need_tool mandoc
	run mandoc -T lint -W warning "$MAN"
	assert_success
	assert_output ""
}

@test "man page: groff and man -l render it without warnings" {
	need_tool groff
	need_tool man
	run groff -mandoc -Tutf8 -ww -z "$MAN"
	assert_success
	assert_output ""
	run --separate-stderr env MANWIDTH=80 man --warnings -l "$MAN"
	assert_success
	[ -z "$stderr" ] || flunk "man -l warned: $stderr"
	assert_output_contains "EXIT STATUS"
}

@test "man page: SYNOPSIS is the --help usage, line for line, in mandoc and in man" {
	need_tool mandoc
	need_tool man
	run beacon --help
	assert_success
	local usage
	usage=$(printf '%s\n' "$output" | awk 'NR == 1 && !sub(/^usage: /, "") { exit 1 }
		/^$/ { exit } { sub(/^ +/, ""); print }') || flunk "--help does not start with 'usage: '"
	[ "$(printf '%s\n' "$usage" | wc -l)" -ge 5 ] || flunk "short usage: $usage"
	for r in mandoc man; do
		run rendered_section SYNOPSIS < <(render $r)
		assert_output "$usage"
	done
}

@test "man page: EXIT STATUS lists every code of common/exit_code.c with its meaning" {
	need_tool mandoc
	local table n code name meaning src rendered
	table=$(exit_code_table)
	n=$(printf '%s\n' "$table" | wc -l)
	[ "$n" -eq "$(grep -cE '^[[:space:]]*EXIT_[A-Z_]+ = [0-9]+' "$REPO/common/exit_code.h")" ] ||
		flunk "not every enum exit_code has a name and meaning in exit_code.c:" "$table"
	src=$(source_section "EXIT STATUS")
	rendered=$(render mandoc | rendered_section "EXIT STATUS")
	[ "$(grep -c '^\.It ' <<<"$src")" -eq "$n" ] || flunk "want $n .It entries, got:" "$(grep '^\.It ' <<<"$src")"
	while IFS=$'\t' read -r code name meaning; do
		[[ $code =~ ^[0-9]+$ ]] || flunk "no number for $name"
		grep -qxF -A1 ".It $code" <<<"$src" || flunk "no .It $code"
		[ "$(grep -xF -A1 ".It $code" <<<"$src" | sed -n 2p)" = "$meaning" ] ||
			flunk "code $code: want '$meaning', man page has:" "$(grep -xF -A1 ".It $code" <<<"$src")"
		grep -qE "^$code +${meaning//[.^$*[]/.}\$" <<<"$rendered" ||
			flunk "rendered EXIT STATUS lacks '$code  $meaning'"
	done <<<"$table"
}

@test "man page: the --json status names are exit_code.c's, in code order" {
	local names
	names=$(exit_code_table | cut -f2 | paste -sd, | sed 's/,/, /g')
	[ -n "$names" ] || flunk "no names parsed"
	run source_section OUTPUT
	[[ "$(tr '\n' ' ' <<<"$output")" == *"$names;"* ]] || flunk "OUTPUT does not list: $names;"
}

@test "man page: the cron example is the installed cron line" {
	need_install
	need_tool mandoc
	local job
	job=$(cron_jobs)
	run grep -cxF "$job" < <(render mandoc | sed -E 's/^ +//')
	assert_output 1
}

@test "man page: every option of the sample config is documented" {
	local key keys
	uncomment all >"$BATS_TEST_TMPDIR/all.ini"
	keys=$(inih_dump "$BATS_TEST_TMPDIR/all.ini" | cut -f2 | sort -u)
	[ "$(wc -w <<<"$keys")" -ge 10 ] || flunk "too few options parsed: $keys"
	for key in $keys; do
		grep -qE "^\.It Cm ([a-z_]+ , )*$key( |$)" <(source_section CONFIGURATION) ||
			flunk "CONFIGURATION does not document $key"
	done
}

# ---- the sample configuration ----------------------------------------------------

@test "beacon.ini: libinih reads it and finds no option set" {
	run inih_dump "$SAMPLE"
	assert_success
	assert_output ""
	run grep -cE '^\[(general|beacon)\]$' "$SAMPLE"
	assert_output 2
}

@test "beacon.ini: uncommented, it sets every option of [general] and [beacon] to its default" {
	uncomment >"$BATS_TEST_TMPDIR/defaults.ini"
	run inih_dump "$BATS_TEST_TMPDIR/defaults.ini"
	assert_success
	assert_output "$(printf '%s\n' \
		$'general\tenabled\tyes' $'general\tprivate_name\t' $'general\tasterisk\tasterisk' \
		$'general\tcontrol_socket\t' \
		$'general\tstate_dir\t/var/lib/beacon-report' $'general\ttimeout\t30' \
		$'general\twarn_after\t24' $'general\tclone_detection\tyes' $'general\tmetrics_file\t' \
		$'beacon\tenabled\tyes' \
		$'beacon\tproxy\t' $'beacon\tinterval\t360' $'beacon\tstart_time\t00:00' $'beacon\tca_path\t')"
}

@test "beacon.ini: the example collector, uncommented, has every collector option" {
	uncomment all >"$BATS_TEST_TMPDIR/all.ini"
	run inih_dump "$BATS_TEST_TMPDIR/all.ini"
	assert_success
	run grep -v -E '^(general|beacon)'$'\t' <<<"$output"
	assert_output "$(printf '%s\n' \
		$'mylab\ttype\tserver' $'mylab\tenabled\tyes' $'mylab\turl\thttps://stats.example.com/beacon' \
		$'mylab\tproxy\t' $'mylab\tinterval\t360' $'mylab\tstart_time\t00:00' \
		$'mylab\tverify_cert\tyes' $'mylab\tca_path\t' $'mylab\tprivate_name\t')"
}

# show_config FILE [--json]: --show-config of FILE without the line or key
# that names the file.
show_config() {
	local out
	out=$(beacon --show-config ${2:+"$2"} -c "$1") || return
	printf '%s\n' "$out" | grep -v -e '^; /' -e '"config_file":' || true
}

@test "beacon.ini: installing the sample changes nothing (--show-config, text and JSON)" {
	: >"$BATS_TEST_TMPDIR/empty.ini"
	uncomment >"$BATS_TEST_TMPDIR/defaults.ini"
	for json in "" --json; do
		run show_config "$BATS_TEST_TMPDIR/empty.ini" $json
		assert_success
		local want=$output
		[ -n "$want" ] || flunk "--show-config printed nothing"
		run show_config "$SAMPLE" $json
		assert_success
		assert_output "$want"
		run show_config "$BATS_TEST_TMPDIR/defaults.ini" $json
		assert_success
		assert_output "$want"
	done
}

@test "beacon.ini: the program accepts the example collector" {
	uncomment all >"$BATS_TEST_TMPDIR/all.ini"
	run beacon --show-config -c "$BATS_TEST_TMPDIR/all.ini"
	assert_success
	assert_output_contains "[mylab]"
	assert_output_contains "url = https://stats.example.com/beacon"
}

# set_enabled_on FILE yes|no: debian/postinst's own set_enabled, run on FILE.
set_enabled_on() {
	local fn
	fn=$(sed -n '/^set_enabled() {$/,/^}$/p' "$REPO/debian/postinst")
	[ -n "$fn" ] || { echo "no set_enabled in debian/postinst"; return 1; }
	CONF=$1 sh -c "$fn"'
set_enabled "$1"' sh "$2"
}

@test "debian/postinst: the debconf answer goes to [general]'s enabled only, never to a server's own (issue 25)" {
	local f=$BATS_TEST_TMPDIR/beacon.ini
	# the sample as installed: [general]'s commented default becomes the line
	cp "$SAMPLE" "$f"
	run set_enabled_on "$f" no
	assert_success
	run inih_dump "$f"
	assert_success
	assert_output $'general\tenabled\tno'
	run beacon --show-config --json -c "$f"
	assert_success
	assert_eq "general" false "$(json_get general.enabled <<<"$output")"
	assert_eq "[beacon]" true "$(json_get servers.0.enabled <<<"$output")"
	# an admin's "enabled = no" in [beacon] (an ITSP without internet)
	# survives dpkg-reconfigure answering yes
	sed -i '/^\[beacon\]$/a enabled = no' "$f"
	run set_enabled_on "$f" yes
	assert_success
	run inih_dump "$f"
	assert_success
	assert_output "$(printf '%s\n' $'general\tenabled\tyes' $'beacon\tenabled\tno')"
	# no enabled line at all: one is added under [general]
	printf '%s\n' "[general]" "timeout = 30" "" "[beacon]" "enabled = no" >"$f"
	run set_enabled_on "$f" yes
	assert_success
	run inih_dump "$f"
	assert_success
	assert_output "$(printf '%s\n' $'general\tenabled\tyes' $'general\ttimeout\t30' $'beacon\tenabled\tno')"
}

@test "debian/beacon-report.config: the question starts from [general]'s enabled, not a server's (issue 25)" {
	local script
	script=$(sed -n '/^if \[ -f "\$CONF" \]; then$/,/^fi$/p' "$REPO/debian/beacon-report.config")
	[ -n "$script" ] || flunk "no reading of \$CONF in debian/beacon-report.config"
	printf '%s\n' "[general]" "enabled = yes" "" "[beacon]" "enabled = no" >"$BATS_TEST_TMPDIR/beacon.ini"
	# db_set stands in for debconf's: it prints what would be set
	run sh -c 'db_set() { echo "$1 $2"; }
CONF=$1
'"$script" sh "$BATS_TEST_TMPDIR/beacon.ini"
	assert_success
	assert_output "beacon-report/enable true"
}
