#!/usr/bin/env bash
# Build the Debian packages from a copy of this tree, check them with
# lintian, install each, run it, remove and purge it, and check that nothing
# is left: first beacon-report, then beacon-collector, whose service must
# answer GET /healthz on https://127.0.0.1:8443.
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
CPKG=beacon-collector
COLLECTOR_URL_HOST=127.0.0.1
COLLECTOR_PORT=8443
collector_pid=

# Where the packages must put systemd units on this release: /usr/lib from
# Debian 13 on (and testing/sid), /lib on 11 and 12 (debian/rules decides
# the same from systemd.pc or debhelper's version).
UNITDIR=/lib/systemd/system
debian_major=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
if ! [[ $debian_major =~ ^[0-9]+$ ]] || [ "$debian_major" -ge 13 ]; then
	UNITDIR=/usr/lib/systemd/system
fi
# unitdir_here: stdin with /lib/systemd/system/ as this release has it.
unitdir_here() { sed "s| /lib/systemd/system/| $UNITDIR/|"; }

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
	# The collector this script started without systemd, by its pid only.
	if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; fi
	if dpkg-query -W -f='${Status}' "$CPKG" 2>/dev/null | grep -qv 'not-installed'; then
		dpkg --purge "$CPKG" >/dev/null 2>&1 || true
	fi
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
	for t in dpkg-buildpackage dh lintian systemd-analyze openssl setpriv; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	[ -z "$missing" ] || { echo "deb-check: missing:$missing (apt-get install dpkg-dev debhelper lintian systemd openssl)"; return 1; }
	# beacon-collector's run-time dependencies that are not build ones.
	for t in ssl-cert adduser; do
		dpkg-query -W -f='${Status}' "$t" 2>/dev/null | grep -q 'ok installed' ||
		    missing="$missing $t"
	done
	[ -z "$missing" ] || { echo "deb-check: not installed:$missing (apt-get install$missing)"; return 1; }
}

# The source files only, as git sees them (tracked and new, less what
# .gitignore names: no build directories); a plain copy outside git.
source_files() {
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		    (cd "$SRC" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"; done)
	else
		(cd "$SRC" && find . \( -name .git -o -name 'build*' -o -path ./$PKG -o -path ./$CPKG \
		    -o -path ./debian/$PKG -o -path ./debian/$CPKG -o -path ./debian/.debhelper \) -prune \
		    -o -type f -print0)
	fi
}

copy_tree() {
	mkdir -p "$TREE" &&
	source_files | tar -C "$SRC" --null -T - -cf - | tar -C "$TREE" -xf - &&
	(cd "$TREE" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$WORK/source.list" &&
	[ -f "$TREE/debian/control" ] && [ -f "$TREE/Makefile" ]
}

# After the build, `git status` in a checkout shows nothing new: every file
# the build made (debian/*.debhelper, build/, ...) is in .gitignore.
build_leaves_git_clean() {
	local left
	command -v git >/dev/null || { echo "no git"; return 1; }
	git -C "$TREE" init -q || return 1
	left=$(git -C "$TREE" ls-files --others --exclude-standard | LC_ALL=C sort |
	    LC_ALL=C comm -23 - "$WORK/source.list")
	rm -rf "$TREE/.git"
	[ -z "$left" ] || { echo "untracked after the build:"; echo "$left"; return 1; }
}

build() {
	if (cd "$TREE" && dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
		DEB=$(ls "$WORK"/${PKG}_*.deb) && [ -f "$DEB" ] &&
		DEB_C=$(ls "$WORK"/${CPKG}_*.deb) && [ -f "$DEB_C" ] &&
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
	want=$(unitdir_here <<<"$want" | LC_ALL=C sort)
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
# (teletype) on a pseudo-terminal (debconf 1.5.91 of Debian 13 wants one),
# the answer typed once the question is shown.
answer_with() {
	DEBIAN_FRONTEND=teletype /usr/bin/python3 "$SRC/tests/pty_answer.py" \
	    'Send anonymous usage statistics' "$1" dpkg-reconfigure "$PKG" >"$WORK/teletype.log" 2>&1 ||
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

# Without an asterisk user, one line says what that means and what to do.
no_user_said() {
	grep -q "^beacon-report: there is no user asterisk .*/var/lib/$PKG stays root's.*/etc/cron.d/$PKG.*a user that does not exist.*dpkg-reconfigure $PKG" \
	    "$WORK/install.log" || { echo "not said:"; cat "$WORK/install.log"; return 1; }
}

no_user_not_said() {
	! grep -q 'no user asterisk' "$WORK/install.log" || { cat "$WORK/install.log"; return 1; }
}

installed_files() {
	local f ok=0
	for f in /usr/sbin/$PKG /etc/asterisk/beacon.ini /usr/share/$PKG/beacon.ini /etc/cron.d/$PKG \
	    /lib/systemd/system/$PKG.service /lib/systemd/system/$PKG.timer \
	    /usr/share/man/man8/$PKG.8.gz; do
		[ -f "$f" ] || { echo "missing: $f"; ok=1; }
	done
	[ -x /usr/sbin/$PKG ] || { echo "not executable: /usr/sbin/$PKG"; ok=1; }
	cmp -s "$TREE/conf/beacon.ini" /usr/share/$PKG/beacon.ini || { echo "the sample differs from conf/beacon.ini"; ok=1; }
	# the installed file is the sample with the debconf answer in it, in
	# [general] (the first "; enabled = yes"; the servers' stay commented)
	diff <(sed '0,/^; enabled = yes$/{/^; enabled = yes$/d}' "$TREE/conf/beacon.ini") \
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

# ---- beacon-collector steps ---------------------------------------------

# Errors and warnings both fail: the package is new and starts clean.
collector_lintian_clean() {
	lintian --fail-on error,warning --info --tag-display-limit 0 "$DEB_C"
}

collector_contents() {
	local got want
	got=$(dpkg-deb -c "$DEB_C" | awk '$1 !~ /^d/ {print $1, $6, $7, $8}' |
	    sed 's| \./| /|; s| *$||' | LC_ALL=C sort)
	want=$(LC_ALL=C sort <<-'LIST'
	-rw-r--r-- /lib/systemd/system/beacon-collector.service
	-rw-r--r-- /lib/systemd/system/beacon-collector.socket
	-rw-r--r-- /usr/share/beacon-collector/asterisk-lifecycle.ini
	-rw-r--r-- /usr/share/beacon-collector/beacon-collector.ini
	-rw-r--r-- /usr/share/doc/beacon-collector/changelog.gz
	-rw-r--r-- /usr/share/doc/beacon-collector/copyright
	-rw-r--r-- /usr/share/man/man8/beacon-collector.8.gz
	-rwxr-xr-x /usr/sbin/beacon-collector
	lrwxrwxrwx /usr/share/doc/beacon-collector/examples/beacon-collector.ini -> ../../../beacon-collector/beacon-collector.ini
	LIST
	)
	want=$(unitdir_here <<<"$want" | LC_ALL=C sort)
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
	# The configuration is made by postinst, never shipped as a conffile.
	! dpkg-deb --ctrl-tarfile "$DEB_C" | tar -tf - | grep -qx './conffiles' ||
	    { echo "unexpected conffiles"; return 1; }
}

collector_install() {
	dpkg -i "$DEB_C" >"$WORK/install-collector.log" 2>&1 ||
	    { cat "$WORK/install-collector.log"; return 1; }
}

# The user, its groups, its state directory and the first configuration.
collector_installed() {
	local ok=0 conf=/etc/$CPKG/$CPKG.ini got
	getent passwd $CPKG | awk -F: '$6 != "/var/lib/beacon-collector" || $7 !~ /nologin$/ { exit 1 }' ||
	    { echo "user: $(getent passwd $CPKG)"; ok=1; }
	id -nG $CPKG | tr ' ' '\n' | grep -qx ssl-cert || { echo "not in ssl-cert: $(id $CPKG)"; ok=1; }
	got=$(stat -c '%a %U %G' /var/lib/$CPKG 2>/dev/null) || got=missing
	[ "$got" = "750 $CPKG $CPKG" ] || { echo "/var/lib/$CPKG: $got"; ok=1; }
	got=$(stat -c '%a %U %G' "$conf" 2>/dev/null) || got=missing
	[ "$got" = "640 root $CPKG" ] || { echo "$conf: $got, want 640 root $CPKG"; ok=1; }
	grep -qx 'tls_cert = /etc/ssl/certs/ssl-cert-snakeoil.pem' "$conf" &&
	grep -qx 'tls_key = /etc/ssl/private/ssl-cert-snakeoil.key' "$conf" ||
	    { echo "$conf does not name the snakeoil pair"; ok=1; }
	[ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] && [ -f /etc/ssl/private/ssl-cert-snakeoil.key ] ||
	    { echo "no snakeoil pair"; ok=1; }
	grep -q 'snakeoil' "$WORK/install-collector.log" ||
	    { echo "postinst did not say that it runs on the snakeoil certificate"; ok=1; }
	# Only the snakeoil lines differ from the sample.
	diff <(sed 's/^; \(tls_cert\|tls_key\) = .*/X/' "$TREE/conf/$CPKG.ini") \
	    <(sed 's/^\(tls_cert\|tls_key\) = .*/X/' "$conf") || ok=1
	[ -x /usr/sbin/$CPKG ] || { echo "no /usr/sbin/$CPKG"; ok=1; }
	[ -L /etc/systemd/system/multi-user.target.wants/$CPKG.service ] ||
	    { echo "service not enabled"; ok=1; }
	[ ! -e /etc/systemd/system/sockets.target.wants/$CPKG.socket ] ||
	    { echo "the socket is enabled too: both would take port $COLLECTOR_PORT"; ok=1; }
	return $ok
}

# Without systemd (a container), postinst says in one line that nothing was
# started, and the command to start it names the user and the binary there.
collector_start_said() {
	local line
	line=$(grep '^beacon-collector: systemd is not running here' "$WORK/install-collector.log") ||
	    { echo "not said:"; cat "$WORK/install-collector.log"; return 1; }
	[[ $line == *"the service was not started"*"runuser -u $CPKG -- /usr/sbin/$CPKG"* ]] ||
	    { echo "$line"; return 1; }
	getent passwd "$CPKG" >/dev/null && [ -x /usr/sbin/$CPKG ]
}

collector_start_not_said() {
	! grep -q 'not started' "$WORK/install-collector.log" ||
	    { cat "$WORK/install-collector.log"; return 1; }
}

collector_units_verify() {
	local out sv
	out=$(systemd-analyze verify /lib/systemd/system/$CPKG.service \
	    /lib/systemd/system/$CPKG.socket 2>&1) || { echo "$out"; return 1; }
	# PrivateIPC= is systemd 248's: older ones (Debian 11's 247) ignore it,
	# saying so; that line alone is expected there (collector_install.bats).
	sv=$(systemd-analyze --version | awk 'NR == 1 { print $2 + 0 }')
	if [ "$sv" -lt 248 ]; then
		out=$(printf '%s\n' "$out" | grep -v "Unknown key name 'PrivateIPC' in section 'Service', ignoring" || true)
	fi
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# unit_value KEY: the value of KEY= in the installed service (the last one).
unit_value() {
	sed -n "s/^$1=//p" /lib/systemd/system/$CPKG.service | tail -n 1
}

# as_service CMD...: exec CMD as the unit runs ExecStart (User=, Group= with
# the user's supplementary groups, UMask=, no new privileges, a clean
# environment, cwd /).  It replaces the shell: call it in a subshell, or
# with & so that $! is the command's own pid.
as_service() {
	local user group umask
	user=$(unit_value User) group=$(unit_value Group) umask=$(unit_value UMask)
	[ -n "$user" ] && [ -n "$group" ] || { echo "no User=/Group= in the unit"; exit 1; }
	cd / && umask "${umask:-0022}" &&
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs -- "$@"
}

collector_version() {
	local out want
	want=$(cd "$TREE" && dpkg-parsechangelog -S Version)
	out=$(/usr/sbin/$CPKG --version) || { echo "exit $?"; return 1; }
	grep -qF "$want" <<<"$out" || { echo "--version: '$out', want $want"; return 1; }
}

# The installed configuration, its TLS files and the database, as the user.
collector_check_config() {
	(as_service /usr/sbin/$CPKG --check-config) >"$WORK/check-config.out" 2>&1 ||
	    { echo "exit $?"; cat "$WORK/check-config.out"; return 1; }
}

# healthz: "STATUS BODY" of GET /healthz, or nothing when no TLS server
# answers.  The certificate is the self-signed snakeoil one, so it is not
# verified; the question is only whether the service answers.
healthz() {
	printf 'GET /healthz HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' \
	    "$COLLECTOR_URL_HOST" "$COLLECTOR_PORT" |
	    timeout 10 openssl s_client -quiet -connect "$COLLECTOR_URL_HOST:$COLLECTOR_PORT" 2>/dev/null |
	    tr -d '\r' | awk 'NR == 1 { status = $2 } body { b = b $0 } /^$/ { body = 1 }
		END { if (status != "") print status, b }'
}

port_free() {
	local got
	got=$(healthz)
	[ -z "$got" ] || { echo "something already answers on port $COLLECTOR_PORT: $got"; return 1; }
}

# Start the service: systemd started it from postinst when it is PID 1;
# otherwise (CI containers) run ExecStart= as the unit would.  Then wait up
# to 15 s for "200 ok" from GET /healthz.
collector_answers() {
	local i got= exec
	if [ -d /run/systemd/system ]; then
		systemctl is-enabled --quiet $CPKG.service || { echo "not enabled"; return 1; }
		systemctl start $CPKG.service || { journalctl -u $CPKG -n 20 --no-pager; return 1; }
	else
		exec=$(unit_value ExecStart)
		[ -n "$exec" ] || { echo "no ExecStart= in the unit"; return 1; }
		# shellcheck disable=SC2086 # ExecStart= is a command line
		as_service $exec >"$WORK/collector.log" 2>&1 &
		collector_pid=$!
	fi
	for i in $(seq 1 30); do
		got=$(healthz)
		[ "$got" = "200 ok" ] && break
		if [ -n "$collector_pid" ] && ! kill -0 "$collector_pid" 2>/dev/null; then
			wait "$collector_pid"; echo "the collector exited with status $?:"
			collector_pid=; cat "$WORK/collector.log"; return 1
		fi
		sleep 0.5
	done
	[ "$got" = "200 ok" ] || {
		echo "GET /healthz: '${got:-no answer}', want '200 ok'"
		[ -z "$collector_pid" ] || cat "$WORK/collector.log"
		return 1
	}
}

# SIGTERM: drain for at most 10 s, exit 0, and stop answering.
collector_stops_cleanly() {
	local rc i
	if [ -d /run/systemd/system ]; then
		systemctl stop $CPKG.service || return 1
		rc=$(systemctl show -p ExecMainStatus --value $CPKG.service)
	else
		[ -n "$collector_pid" ] || { echo "not running"; return 1; }
		kill -TERM "$collector_pid"
		for i in $(seq 1 30); do
			kill -0 "$collector_pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$collector_pid" 2>/dev/null; then
			echo "still running 15 s after SIGTERM"; kill -KILL "$collector_pid"
		fi
		rc=0; wait "$collector_pid" || rc=$?
		collector_pid=
	fi
	[ "$rc" = 0 ] || { echo "exit status $rc after SIGTERM, want 0"; return 1; }
	port_free
}

# The snakeoil pair that postinst may have made belongs to ssl-cert and
# stays; everything else the collector brought must go.
collector_purge_clean() {
	dpkg --purge "$CPKG" >/dev/null 2>&1 || { echo "dpkg --purge failed"; return 1; }
	[ ! -e /etc/$CPKG ] && [ ! -e /var/lib/$CPKG ] ||
	    { echo "left: $(ls -d /etc/$CPKG /var/lib/$CPKG 2>/dev/null)"; return 1; }
	snapshot | grep -v '^/etc/ssl/' >"$WORK/after-collector"
	diff <(grep -v '^/etc/ssl/' "$WORK/before-collector") "$WORK/after-collector"
}

# ---- run ----------------------------------------------------------------

must "tools present and running as root" tools_present
must "copy of the tree in $TREE" copy_tree
must "dpkg-buildpackage -us -uc -b" build
check "lintian: no errors" lintian_clean
check "git status after the build: no untracked file (.gitignore)" build_leaves_git_clean
check "package contents and modes" expected_contents
check "conffiles: the cron file (beacon.ini is made by postinst)" conffiles
check "debconf: a high-priority question, default no, saying what is sent where" debconf_question
snapshot >"$WORK/before"
must "dpkg -i $(basename "$DEB")" install_deb
check "files installed" installed_files
if getent passwd asterisk >/dev/null; then
	check "state_dir 0700 owned by asterisk" state_dir_owner asterisk
	check "an asterisk user: postinst says nothing about it" no_user_not_said
else
	check "state_dir 0700 owned by root (no asterisk user)" state_dir_owner root
	check "no asterisk user: postinst says so, and what to do" no_user_said
	# Asterisk installed later: the next configure hands the directory over.
	useradd --system --user-group --no-create-home --home-dir /var/lib/asterisk \
	    --shell /usr/sbin/nologin asterisk && made_user=1
	check "reinstall with an asterisk user" install_deb
	check "state_dir handed to asterisk" state_dir_owner asterisk
	check "with the asterisk user: postinst says nothing about it" no_user_not_said
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

check "lintian: $CPKG has no errors or warnings" collector_lintian_clean
check "$CPKG package contents and modes, no conffiles" collector_contents
check "nothing answers on port $COLLECTOR_PORT yet" port_free
snapshot >"$WORK/before-collector"
must "dpkg -i $(basename "$DEB_C")" collector_install
check "$CPKG user, state directory and snakeoil configuration" collector_installed
if [ -d /run/systemd/system ]; then
	check "systemd running: postinst does not say the service was not started" collector_start_not_said
else
	check "no systemd: postinst says the service was not started, and how to start it" collector_start_said
fi
check "systemd-analyze verify on the installed $CPKG units" collector_units_verify
check "$CPKG --version" collector_version
check "$CPKG --check-config as the service user" collector_check_config
if [ -d /run/systemd/system ]; then how="systemd"; else how="no systemd: ExecStart= as User="; fi
check "GET /healthz answers 200 on https://$COLLECTOR_URL_HOST:$COLLECTOR_PORT ($how)" collector_answers
check "SIGTERM: exit 0 and the port is free again" collector_stops_cleanly
check "dpkg --purge $CPKG leaves nothing behind" collector_purge_clean

if [ "$failed" -eq 0 ]; then
	echo "deb-check: PASS"
	rm -rf "$WORK"
else
	echo "deb-check: FAIL ($failed steps; logs in $WORK)"
	exit 1
fi
