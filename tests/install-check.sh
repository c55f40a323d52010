#!/usr/bin/env bash
# A real from-source install, as an admin would do it (issue 11): `make
# install` with its defaults into /, a run of the installed binary that
# reads /etc/asterisk/beacon.ini, then `make uninstall`.  Run as root on a
# machine without beacon-report (CI, from tests/deb-check.sh); it refuses
# to touch an existing install, and removes what it made.  One PASS/FAIL
# line per step; exit 1 on any FAIL.
set -euo pipefail

SRC=${1:-$(pwd)}
SBIN=/usr/local/sbin/beacon-report
CONF=/etc/asterisk/beacon.ini
CRON=/etc/cron.d/beacon-report
STATE=/var/lib/beacon-report
failed=0
made_conf=0 made_state=0 made_confdir=0

pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=$((failed + 1)); }
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

[ "$(id -u)" = 0 ] || { echo "install-check: must run as root"; exit 1; }
for f in "$SBIN" "$CONF" "$CRON" "$STATE"; do
	if [ -e "$f" ]; then
		echo "install-check: $f exists; not touching an existing install"
		exit 1
	fi
done
[ -d /etc/asterisk ] || made_confdir=1
# The folders make install makes where there were none (deepest first):
# /etc/cron.d on a system without cron (Debian 13's minimal one).  Left
# behind, dpkg -i of the package would adopt it at the next deb-check and
# its purge remove it (deb-check's "leaves nothing behind" then fails).
made_dirs=()
for d in /etc/cron.d /usr/local/sbin /usr/local/share/man/man8 /usr/local/lib/systemd/system; do
	while [ ! -e "$d" ]; do made_dirs+=("$d"); d=$(dirname "$d"); done
done

cleanup() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$SRC" uninstall) >/dev/null 2>&1 || true
	[ "$made_conf" = 0 ] || rm -f "$CONF"
	[ "$made_confdir" = 0 ] || rmdir /etc/asterisk 2>/dev/null || true
	[ "$made_state" = 0 ] || rm -rf "$STATE"
	local d
	for d in ${made_dirs[@]+"${made_dirs[@]}"}; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

installs() {
	made_conf=1 made_state=1
	(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$SRC" install) >/tmp/install-check.log 2>&1 ||
		{ tail -n 20 /tmp/install-check.log; return 1; }
}

files_in_place() {
	local ok=0
	[ -x "$SBIN" ] || { echo "no $SBIN"; ok=1; }
	[ "$(stat -c %a "$CONF" 2>/dev/null)" = 640 ] || { echo "$CONF not 0640"; ok=1; }
	[ -f "$CRON" ] || { echo "no $CRON"; ok=1; }
	[ "$(stat -c %a "$STATE" 2>/dev/null)" = 700 ] || { echo "$STATE not 0700"; ok=1; }
	grep -q " $SBIN -q" "$CRON" || { echo "the cron line does not run $SBIN"; ok=1; }
	return $ok
}

reads_installed_config() {
	local out
	out=$("$SBIN" --show-config) || { echo "--show-config: exit $?"; return 1; }
	[ "$(head -n 1 <<<"$out")" = "; $CONF" ] || { echo "--show-config read: $(head -n 1 <<<"$out")"; return 1; }
}

# The admin's opt-out in the installed file is obeyed: exit 10, silent.
honours_opt_out() {
	local out rc=0
	# [general]'s, the first: the servers' own enabled stay commented
	sed -i '0,/^; enabled = yes$/s//enabled = no/' "$CONF"
	grep -q '^enabled = no$' "$CONF" || { echo "could not edit $CONF"; return 1; }
	out=$("$SBIN" -q 2>&1) || rc=$?
	[ "$rc" = 10 ] && [ -z "$out" ] || { echo "exit $rc, output: $out"; return 1; }
}

uninstalls() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$SRC" uninstall) >/tmp/install-check.log 2>&1 ||
		{ tail -n 20 /tmp/install-check.log; return 1; }
	local f ok=0
	for f in "$SBIN" "$CRON" /usr/local/share/man/man8/beacon-report.8 \
	    /usr/local/lib/systemd/system/beacon-report.service \
	    /usr/local/lib/systemd/system/beacon-report.timer; do
		[ ! -e "$f" ] || { echo "left: $f"; ok=1; }
	done
	# the admin's configuration and state stay
	[ -f "$CONF" ] && [ -d "$STATE" ] || { echo "uninstall removed the admin's files"; ok=1; }
	return $ok
}

check "make install (defaults) into /" installs
check "binary, 0640 config, cron file, 0700 state dir in place" files_in_place
check "the installed binary reads $CONF" reads_installed_config
check "enabled = no in $CONF: exit 10, nothing printed" honours_opt_out
check "make uninstall removes the program, keeps config and state" uninstalls

if [ "$failed" -eq 0 ]; then
	echo "install-check: PASS"
else
	echo "install-check: FAIL ($failed steps)"
	exit 1
fi
