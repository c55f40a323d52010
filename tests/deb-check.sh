#!/usr/bin/env bash
# Build the Debian package from a copy of this tree, check it with lintian,
# install it, run it, remove and purge it, and check that nothing is left.
# Run as root from the repository root (CI does, after `make check`); it
# changes the system (dpkg -i, and a temporary "asterisk" user when there is
# none) and undoes it.  One PASS/FAIL line per step; exit 1 on any FAIL.
set -euo pipefail

PKG=beacon-report
SRC=$(pwd)
WORK=$(mktemp -d /tmp/deb-check.XXXXXX)
TREE=$WORK/$PKG
failed=0
made_user=0

pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=$((failed + 1)); }
# check NAME CMD...: one step; a failing step does not stop the others.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
# must NAME CMD...: a step the rest depends on.
must() {
	check "$@"
	if [ "$failed" -ne 0 ]; then
		echo "deb-check: stopping after a failed step; logs in $WORK"
		exit 1
	fi
}

cleanup() {
	if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed'; then
		dpkg --purge "$PKG" >/dev/null 2>&1 || true
	fi
	if [ "$made_user" = 1 ]; then userdel asterisk >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# Everything under these roots, except dpkg's and apt's own bookkeeping and
# the backups useradd/userdel leave (/etc/passwd- ...).
snapshot() {
	find /etc /usr /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \
	    -o -path /var/lib/ucf \) -prune -o -print 2>/dev/null |
	    grep -Ev '^/etc/(passwd|group|shadow|gshadow)-$' | LC_ALL=C sort
}

# ---- steps --------------------------------------------------------------

tools_present() {
	[ "$(id -u)" = 0 ] || { echo "deb-check: must run as root"; return 1; }
	local t missing=
	for t in dpkg-buildpackage dh lintian systemd-analyze; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	[ -z "$missing" ] || { echo "deb-check: missing:$missing (apt-get install dpkg-dev debhelper lintian systemd)"; return 1; }
}

# The source files only, as git sees them (tracked and new, less what
# .gitignore names: no build directories); a plain copy outside git.
source_files() {
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		    (cd "$SRC" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"; done)
	else
		(cd "$SRC" && find . \( -name .git -o -name 'build*' -o -path ./$PKG \
		    -o -path ./debian/$PKG -o -path ./debian/.debhelper \) -prune \
		    -o -type f -print0)
	fi
}

copy_tree() {
	mkdir -p "$TREE" &&
	source_files | tar -C "$SRC" --null -T - -cf - | tar -C "$TREE" -xf - &&
	[ -f "$TREE/debian/control" ] && [ -f "$TREE/Makefile" ]
}

build() {
	if (cd "$TREE" && dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
		DEB=$(ls "$WORK"/${PKG}_*.deb) && [ -f "$DEB" ] &&
		CHANGES=$(ls "$WORK"/${PKG}_*.changes)
	else
		tail -n 30 "$WORK/build.log"; return 1
	fi
}

lintian_clean() {
	# Errors fail; warnings and infos are printed for the log.
	lintian --fail-on error --info --tag-display-limit 0 "$CHANGES"
}

expected_contents() {
	local got want
	got=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $1, $6}' | sed 's| \./| /|' | LC_ALL=C sort)
	want=$(LC_ALL=C sort <<-'LIST'
	-rw-r--r-- /etc/cron.d/beacon-report
	-rw-r--r-- /lib/systemd/system/beacon-report.service
	-rw-r--r-- /lib/systemd/system/beacon-report.timer
	-rw-r--r-- /usr/share/doc/beacon-report/changelog.gz
	-rw-r--r-- /usr/share/beacon-report/beacon.ini
	-rw-r--r-- /usr/share/doc/beacon-report/copyright
	-rw-r--r-- /usr/share/man/man8/beacon-report.8.gz
	-rwxr-xr-x /usr/sbin/beacon-report
	LIST
	)
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
}

# beacon.ini is not a conffile: postinst makes it and writes the debconf
# answer into it (a conffile must not be changed by maintainer scripts).
conffiles() {
	local got
	got=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles | LC_ALL=C sort)
	[ "$got" = "/etc/cron.d/beacon-report" ] || { echo "conffiles: $got"; return 1; }
}

# The debconf question: priority high in the config script, default no,
# and its text says what is sent and where.
debconf_question() {
	local ctl="$WORK/control"
	mkdir -p "$ctl" && dpkg-deb -e "$DEB" "$ctl" || return 1
	[ -x "$ctl/config" ] && grep -q 'db_input high beacon-report/enable' "$ctl/config" ||
	    { echo "no high-priority question in the config script"; return 1; }
	awk '/^Template: beacon-report\/enable$/ { t = 1 } t && /^Default: false$/ { d = 1 }
	     END { exit !(t && d) }' "$ctl/templates" || { echo "not default no:"; cat "$ctl/templates"; return 1; }
	grep -q 'https://beacon.asterisk.org' "$ctl/templates" &&
	    grep -q 'module' "$ctl/templates" && grep -q 'No host name' "$ctl/templates" ||
	    { echo "the question does not say what is sent where"; return 1; }
}

# enabled_is VALUE: the installed config's one active "enabled =" line.
enabled_is() {
	local got
	got=$(grep -E '^enabled[[:space:]]*=' /etc/asterisk/beacon.ini) || { echo "no enabled line"; return 1; }
	[ "$got" = "enabled = $1" ] || { echo "beacon.ini: '$got', want 'enabled = $1'"; return 1; }
}

# Not asked (noninteractive, as in CI): the default, no.  Then a run
# reports nothing: exit 10.
defaults_to_no() {
	enabled_is no || return 1
	local rc=0
	/usr/sbin/$PKG -q >/dev/null 2>&1 || rc=$?
	[ "$rc" = 10 ] || { echo "a run after install: exit $rc, want 10 (disabled)"; return 1; }
}

# answer_with yes|no: dpkg-reconfigure through a real front end
# (teletype), the answer typed on its input; the question must be shown.
answer_with() {
	printf '%s\n' "$1" | DEBIAN_FRONTEND=teletype dpkg-reconfigure "$PKG" >"$WORK/teletype.log" 2>&1 ||
	    { cat "$WORK/teletype.log"; return 1; }
	grep -q 'Send anonymous usage statistics' "$WORK/teletype.log" ||
	    { echo "the question was not asked:"; cat "$WORK/teletype.log"; return 1; }
}

# dpkg-reconfigure asks again: yes is written to enabled, then no again;
# nothing else in the file changes, and it stays 0640.
reconfigure_asks_again() {
	cp /etc/asterisk/beacon.ini "$WORK/before.ini"
	answer_with yes && enabled_is yes || return 1
	diff <(grep -v '^enabled' "$WORK/before.ini") <(grep -v '^enabled' /etc/asterisk/beacon.ini) || return 1
	[ "$(stat -c %a /etc/asterisk/beacon.ini)" = 640 ] || { echo "mode $(stat -c %a /etc/asterisk/beacon.ini)"; return 1; }
	answer_with no && enabled_is no
}

# An admin's own "enabled = yes" in the file survives an upgrade (the
# file is the master copy the question starts from).
admin_choice_kept() {
	sed -i 's/^enabled = no$/enabled = yes/' /etc/asterisk/beacon.ini &&
	    DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >/dev/null 2>&1 && enabled_is yes
}

install_deb() { DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; return 1; }; }

installed_files() {
	local f ok=0
	for f in /usr/sbin/$PKG /etc/asterisk/beacon.ini /usr/share/$PKG/beacon.ini /etc/cron.d/$PKG \
	    /lib/systemd/system/$PKG.service /lib/systemd/system/$PKG.timer \
	    /usr/share/man/man8/$PKG.8.gz; do
		[ -f "$f" ] || { echo "missing: $f"; ok=1; }
	done
	[ -x /usr/sbin/$PKG ] || { echo "not executable: /usr/sbin/$PKG"; ok=1; }
	cmp -s "$TREE/conf/beacon.ini" /usr/share/$PKG/beacon.ini || { echo "the sample differs from conf/beacon.ini"; ok=1; }
	# the installed file is the sample with the debconf answer in it
	diff <(grep -v '^; enabled = yes$' "$TREE/conf/beacon.ini") \
	    <(grep -v '^enabled = ' /etc/asterisk/beacon.ini) ||
	    { echo "beacon.ini is not the sample plus the answer"; ok=1; }
	[ "$(stat -c %a /etc/asterisk/beacon.ini)" = 640 ] || { echo "beacon.ini is not 0640"; ok=1; }
	return $ok
}

# state_dir: 0700, owned by asterisk when that user exists, else by root.
state_dir_owner() {
	local want=$1 got
	got=$(stat -c '%a %U' /var/lib/$PKG 2>/dev/null) || { echo "no /var/lib/$PKG"; return 1; }
	[ "$got" = "700 $want" ] || { echo "/var/lib/$PKG: $got, want 700 $want"; return 1; }
}

config_group_asterisk() {
	local got
	got=$(stat -c '%a %U:%G' /etc/asterisk/beacon.ini) || return 1
	[ "$got" = "640 root:asterisk" ] || { echo "beacon.ini: $got, want 640 root:asterisk"; return 1; }
}

timer_enabled_only() {
	[ -L /etc/systemd/system/timers.target.wants/$PKG.timer ] ||
	    { echo "timer not enabled"; return 1; }
	if find /etc/systemd/system -name "$PKG.service" | grep -q .; then
		echo "the service is enabled on its own"; return 1
	fi
}

runs_version() {
	local out want
	want=$(cd "$TREE" && dpkg-parsechangelog -S Version)
	out=$(/usr/sbin/$PKG --version) || { echo "exit $?"; return 1; }
	grep -qF "$want" <<<"$out" || { echo "--version: '$out', want $want"; return 1; }
}

runs_show_config() {
	/usr/sbin/$PKG --show-config >"$WORK/show-config.out" ||
	    { echo "exit $?"; cat "$WORK/show-config.out"; return 1; }
	[ -s "$WORK/show-config.out" ] || { echo "--show-config printed nothing"; return 1; }
}

units_verify() {
	local out
	out=$(systemd-analyze verify /lib/systemd/system/$PKG.service \
	    /lib/systemd/system/$PKG.timer 2>&1) && [ -z "$out" ] ||
	    { echo "$out"; return 1; }
}

# After `dpkg -r` the cron file (a conffile) stays while the binary is gone:
# its line must then do nothing and print nothing.
cron_quiet_after_remove() {
	local cmd out
	dpkg -r "$PKG" >/dev/null 2>&1 || { echo "dpkg -r failed"; return 1; }
	[ -f /etc/cron.d/$PKG ] && [ ! -e /usr/sbin/$PKG ] ||
	    { echo "unexpected files after remove"; return 1; }
	cmd=$(awk '/^[0-9*]/ { for (i = 7; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : ""); exit }' /etc/cron.d/$PKG)
	[ -n "$cmd" ] || { echo "no job line"; return 1; }
	out=$(sh -c "$cmd" 2>&1) || true
	[ -z "$out" ] || { echo "cron line printed: $out"; return 1; }
}

purge_clean() {
	dpkg --purge "$PKG" >/dev/null 2>&1 || { echo "dpkg --purge failed"; return 1; }
	[ "$made_user" = 0 ] || { userdel asterisk && made_user=0; } || return 1
	snapshot >"$WORK/after"
	diff "$WORK/before" "$WORK/after"
}

# ---- run ----------------------------------------------------------------

must "tools present and running as root" tools_present
must "copy of the tree in $TREE" copy_tree
must "dpkg-buildpackage -us -uc -b" build
check "lintian: no errors" lintian_clean
check "package contents and modes" expected_contents
check "conffiles: the cron file (beacon.ini is made by postinst)" conffiles
check "debconf: a high-priority question, default no, saying what is sent where" debconf_question
snapshot >"$WORK/before"
must "dpkg -i $(basename "$DEB")" install_deb
check "files installed" installed_files
if getent passwd asterisk >/dev/null; then
	check "state_dir 0700 owned by asterisk" state_dir_owner asterisk
else
	check "state_dir 0700 owned by root (no asterisk user)" state_dir_owner root
	# Asterisk installed later: the next configure hands the directory over.
	useradd --system --user-group --no-create-home --home-dir /var/lib/asterisk \
	    --shell /usr/sbin/nologin asterisk && made_user=1
	check "reinstall with an asterisk user" install_deb
	check "state_dir handed to asterisk" state_dir_owner asterisk
fi
check "beacon.ini 0640, group asterisk (the user that runs it reads it)" config_group_asterisk
check "not asked: enabled = no, a run is exit 10" defaults_to_no
check "dpkg-reconfigure asks again and writes the answer" reconfigure_asks_again
check "an admin's enabled = yes survives a reinstall" admin_choice_kept
check "timer enabled, service not enabled by itself" timer_enabled_only
check "beacon-report --version" runs_version
check "beacon-report --show-config (installed defaults)" runs_show_config
check "systemd-analyze verify on the installed units" units_verify
check "cron line silent after dpkg -r" cron_quiet_after_remove
check "dpkg --purge leaves nothing behind" purge_clean
check "from source: make install, run, make uninstall (tests/install-check.sh)" \
	bash "$SRC/tests/install-check.sh" "$TREE"

if [ "$failed" -eq 0 ]; then
	echo "deb-check: PASS"
	rm -rf "$WORK"
else
	echo "deb-check: FAIL ($failed steps; logs in $WORK)"
	exit 1
fi
