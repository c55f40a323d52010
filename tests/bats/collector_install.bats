#!/usr/bin/env bats
# How beacon-collector is installed and documented: `make install-collector`
# and `uninstall-collector`, the systemd units, the man page (against
# COLLECTOR.md's synopsis and exit statuses) and the sample
# conf/beacon-collector.ini (against libinih and the man page).  Needs make,
# cc, mandoc, groff, man-db and systemd-analyze; a missing tool fails.

load helpers
bats_require_minimum_version 1.5.0

INSTALL_VARS=(PREFIX=/usr SYSCONFDIR=/etc SYSTEMDUNITDIR=/lib/systemd/system)
MAN="$REPO/beacon-collector.8"
SAMPLE="$REPO/conf/beacon-collector.ini"
UNITS=(beacon-collector.service beacon-collector.socket)

setup_file() {
	harness_setup_file
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	export ROOT="$BATS_FILE_TMPDIR/root"
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" install-collector DESTDIR="$ROOT" "${INSTALL_VARS[@]}") \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/install.status"
}

need_install() {
	[ "$(cat "$BATS_FILE_TMPDIR/install.status")" = 0 ] && return 0
	flunk "make install-collector failed:" "$(tail -n 20 "$BATS_FILE_TMPDIR/install.log")"
}

need_tool() {
	command -v "$1" >/dev/null && return 0
	flunk "$1 is not installed (make deps installs it)"
}

make_in() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 make -C "$REPO" "$2" DESTDIR="$1" "${INSTALL_VARS[@]}") >"$BATS_TEST_TMPDIR/make.log" 2>&1 ||
		flunk "make $2 failed:" "$(tail -n 20 "$BATS_TEST_TMPDIR/make.log")"
}

file_modes() {
	(cd "$1" && find . -type f -printf '%m /%P\n' | LC_ALL=C sort)
}

render() {
	mandoc -T ascii -O width=250 "$MAN" | sed 's/.\x08//g'
}

rendered_section() {
	awk -v s="$1" '$0 == s { on = 1; next } on && /^[^ ]/ { exit } on' |
		sed -E 's/^ +//; /^$/d'
}

source_section() {
	awk -v s=".Sh $1" '$0 == s { on = 1; next } on && /^\.Sh / { exit } on' "$MAN"
}

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

# The sample with its "; key = value" lines made active.
uncomment() {
	sed -E 's/^; ([a-z_]+ =( |$))/\1/' "$SAMPLE"
}

# ---- make install-collector / uninstall-collector --------------------------

@test "make install-collector: the binary, man page, config (0640) and both units" {
	need_install
	run file_modes "$ROOT"
	assert_output "640 /etc/beacon-collector/beacon-collector.ini
644 /lib/systemd/system/beacon-collector.service
644 /lib/systemd/system/beacon-collector.socket
644 /usr/share/beacon-collector/asterisk-lifecycle.ini
644 /usr/share/man/man8/beacon-collector.8
755 /usr/sbin/beacon-collector"
	cmp "$SAMPLE" "$ROOT/etc/beacon-collector/beacon-collector.ini"
	cmp "$MAN" "$ROOT/usr/share/man/man8/beacon-collector.8"
	run grep -l '@[A-Z]*@' -r "$ROOT/lib"
	assert_output ""
	run grep -c '^ExecStart=/usr/sbin/beacon-collector$' "$ROOT/lib/systemd/system/beacon-collector.service"
	assert_output 1
}

@test "make install-collector keeps an existing configuration; uninstall-collector keeps it too" {
	need_install
	local d="$BATS_TEST_TMPDIR/root"
	make_in "$d" install-collector
	echo "; the admin's own" >>"$d/etc/beacon-collector/beacon-collector.ini"
	cp "$d/etc/beacon-collector/beacon-collector.ini" "$BATS_TEST_TMPDIR/mine"
	make_in "$d" install-collector
	cmp "$BATS_TEST_TMPDIR/mine" "$d/etc/beacon-collector/beacon-collector.ini"
	make_in "$d" uninstall-collector
	run file_modes "$d"
	assert_output "640 /etc/beacon-collector/beacon-collector.ini"
}

@test "make install-collector does not touch what make install installs" {
	need_install
	[ ! -e "$ROOT/usr/sbin/beacon-report" ] && [ ! -e "$ROOT/etc/asterisk" ] ||
		flunk "install-collector installed the reporter's files"
}

# ---- systemd ----------------------------------------------------------------

# The units from the tree, ExecStart pointed at a stub, in a temp directory.
# systemd_version: systemd-analyze's major version (252 on Debian 12).
systemd_version() {
	systemd-analyze --version | awk 'NR == 1 { print $2 + 0 }'
}

units_copy() {
	local u="$BATS_TEST_TMPDIR/units"
	mkdir -p "$u" "$BATS_TEST_TMPDIR/sbin"
	printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/sbin/beacon-collector"
	chmod 755 "$BATS_TEST_TMPDIR/sbin/beacon-collector"
	for f in "${UNITS[@]}"; do
		sed "s|@SBINDIR@|$BATS_TEST_TMPDIR/sbin|g" "$REPO/systemd/$f" >"$u/$f"
	done
	mkdir -p "$BATS_TEST_TMPDIR/man/man8"
	cp "$MAN" "$BATS_TEST_TMPDIR/man/man8/"
}

@test "systemd: both units pass systemd-analyze verify, Documentation= included" {
	need_tool systemd-analyze
	units_copy
	MANPATH="$BATS_TEST_TMPDIR/man" run systemd-analyze verify \
		"$BATS_TEST_TMPDIR/units/beacon-collector.service" \
		"$BATS_TEST_TMPDIR/units/beacon-collector.socket"
	assert_success
	if [ "$(systemd_version)" -ge 248 ]; then
		assert_output ""
	else
		# PrivateIPC= is systemd 248's: older ones (Debian 11's 247) ignore
		# it, saying so, and nothing else.
		assert_output_contains "Unknown key name 'PrivateIPC'"
		assert_line_count 1
	fi
}

@test "systemd: the service is Type=notify, reloads with SIGHUP, runs as beacon-collector without capabilities" {
	local s="$REPO/systemd/beacon-collector.service"
	run grep -E '^(Type|ExecStart|ExecReload|User|StateDirectory|CapabilityBoundingSet|AmbientCapabilities|NoNewPrivileges|ProtectSystem|UMask)=' "$s"
	assert_output "Type=notify
ExecStart=@SBINDIR@/beacon-collector
ExecReload=/bin/kill -HUP \$MAINPID
User=beacon-collector
StateDirectory=beacon-collector
UMask=0077
ProtectSystem=strict
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities="
	# /bin/kill is procps' (absent from a minimal Debian 11): a Depends.
	run grep -E '^Depends:.*\<procps\>' <(sed -n '/^Package: beacon-collector$/,/^$/p' "$REPO/debian/control")
	assert_success
	# The state directory is the default database's.
	run grep -cx '; database = sqlite:/var/lib/beacon-collector/beacon.db' "$SAMPLE"
	assert_output 1
}

@test "systemd: the service's exposure stays at most 2.0 (systemd-analyze security)" {
	need_tool systemd-analyze
	[ "$(systemd_version)" -ge 250 ] ||
		skip "systemd-analyze security --offline needs systemd >= 250 (this is $(systemd_version))"
	units_copy
	run systemd-analyze security --offline=true --threshold=20 \
		"$BATS_TEST_TMPDIR/units/beacon-collector.service"
	assert_success
	assert_output_contains "Overall exposure level for beacon-collector.service"
}

@test "systemd: the socket listens on [::]:8443 for both IP versions, like the default listen" {
	run grep -E '^(ListenStream|BindIPv6Only|WantedBy)=' "$REPO/systemd/beacon-collector.socket"
	assert_output "ListenStream=[::]:8443
BindIPv6Only=both
WantedBy=sockets.target"
	run grep -cx '; listen = \[::\]:8443' "$SAMPLE"
	assert_output 1
}

# ---- the man page --------------------------------------------------------

@test "collector man page: mandoc -T lint, groff and man -l find nothing" {
	need_tool mandoc
	need_tool groff
	need_tool man
	run mandoc -T lint -W warning "$MAN"
	assert_success
	assert_output ""
	run groff -mandoc -Tutf8 -ww -z "$MAN"
	assert_success
	assert_output ""
	run --separate-stderr env MANWIDTH=80 man --warnings -l "$MAN"
	assert_success
	[ -z "$stderr" ] || flunk "man -l warned: $stderr"
}

@test "collector man page: SYNOPSIS is COLLECTOR.md section 1 with --hash-password, and --help's usage" {
	need_tool mandoc
	run rendered_section SYNOPSIS < <(render)
	assert_output "beacon-collector [-c FILE]
beacon-collector --check-config [-c FILE]
beacon-collector --stats [--json] [-c FILE]
beacon-collector --hash-password
beacon-collector --help | --version"
	local synopsis=$output
	run "${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}" --help
	assert_success
	assert_eq "--help" "$synopsis" "$(sed -E 's/^(usage:)? +//' <<<"$output")"
}

@test "collector man page: EXIT STATUS is 0, 2, 3, 4, 5 as in the contract" {
	run grep -A1 '^\.It [0-9]' < <(source_section "EXIT STATUS")
	assert_output ".It 0
clean stop after SIGTERM or SIGINT, or the command did its job
.It 2
bad command line
.It 3
configuration file unreadable or invalid
.It 4
cannot listen, or cannot read the TLS certificate or key
.It 5
the database cannot be opened, created or migrated"
}

@test "collector man page: every option of the sample is documented in CONFIGURATION" {
	local key keys
	uncomment >"$BATS_TEST_TMPDIR/all.ini"
	keys=$(inih_dump "$BATS_TEST_TMPDIR/all.ini" | cut -f2 | sort -u)
	[ "$(wc -w <<<"$keys")" -eq 26 ] || flunk "want the 26 keys of COLLECTOR.md, got: $keys"
	for key in $keys; do
		grep -qE "^\.It Cm $key( |$)" <(source_section CONFIGURATION) ||
			flunk "CONFIGURATION does not document $key"
	done
}

# ---- the sample configuration ----------------------------------------------

@test "beacon-collector.ini: libinih reads it and finds no option set" {
	run inih_dump "$SAMPLE"
	assert_success
	assert_output ""
}

@test "beacon-collector.ini: uncommented, it sets every key of COLLECTOR.md to its default" {
	uncomment >"$BATS_TEST_TMPDIR/defaults.ini"
	run inih_dump "$BATS_TEST_TMPDIR/defaults.ini"
	assert_success
	assert_output "$(printf '%s\n' \
		$'collector\tlisten\t[::]:8443' \
		$'collector\ttls_cert\t/etc/beacon-collector/tls/cert.pem' \
		$'collector\ttls_key\t/etc/beacon-collector/tls/key.pem' \
		$'collector\ttls\tyes' $'collector\ttrusted_proxies\t' \
		$'collector\tdatabase\tsqlite:/var/lib/beacon-collector/beacon.db' \
		$'collector\tmax_body_kb\t256' $'collector\trequest_timeout\t30' \
		$'collector\tmax_connections\t1024' \
		$'collector\tmax_connections_per_address\t32' $'collector\tpublic_stats\tyes' \
		$'collector\tadmin_user\tadmin' $'collector\tadmin_password_hash\t' \
		$'collector\tlifecycle\t' $'collector\tgeoip_database\t' \
		$'collector\tuser\tbeacon-collector' \
		$'limits\tregistrations_per_address_per_hour\t20' \
		$'limits\trequests_per_address_per_minute\t120' \
		$'limits\tmin_update_interval\t30' \
		$'limits\tfailed_logins_per_address_per_hour\t10' \
		$'privacy\tmin_group\t10' $'privacy\testablished_days\t3' \
		$'privacy\tactive_days\t7' \
		$'privacy\tretention_days\t400' $'privacy\tlog_addresses\tno' \
		$'privacy\thistory_days\t730')"
}

@test "beacon-collector.ini: the Debian postinst's edit names exactly the snakeoil pair" {
	run sed -e 's|^; tls_cert = .*|tls_cert = /etc/ssl/certs/ssl-cert-snakeoil.pem|' \
		-e 's|^; tls_key = .*|tls_key = /etc/ssl/private/ssl-cert-snakeoil.key|' "$SAMPLE"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/deb.ini"
	run inih_dump "$BATS_TEST_TMPDIR/deb.ini"
	assert_output "$(printf '%s\n' \
		$'collector\ttls_cert\t/etc/ssl/certs/ssl-cert-snakeoil.pem' \
		$'collector\ttls_key\t/etc/ssl/private/ssl-cert-snakeoil.key')"
	# The same edit as in the package's postinst.
	run grep -c 's|^; tls_\(cert\|key\) = \.\*|' "$REPO/debian/beacon-collector.postinst"
	assert_output 2
}
