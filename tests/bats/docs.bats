#!/usr/bin/env bats
# What a new user reads (issue 25): the man pages as `man -l` and mandoc
# render them, the README's examples, the sample configuration, the
# protocol in docs/PROTOCOL.md against the code, and what `make deps` and
# `make deb` install and build.

# shellcheck disable=SC2154  # API_*, SID, TOK: collector_helpers
load helpers
load collector_helpers
bats_require_minimum_version 1.5.0

need_tool() {
	command -v "$1" >/dev/null && return 0
	flunk "$1 is not installed (make deps installs it)"
}

# flat TOOL MAN: the page rendered 200 columns wide by `man -l` or mandoc,
# on one line, runs of blanks made one space.
flat() {
	local out
	case $1 in
	man) out=$(MANWIDTH=200 man -l "$2" 2>/dev/null) || return 1 ;;
	mandoc) out=$(mandoc -T utf8 -O width=200 "$2") || return 1 ;;
	esac
	sed 's/.\x08//g' <<<"$out" | tr '\n' ' ' | tr -s ' '
}

@test "beacon-report(8): the --diff --json line renders intact under man -l and mandoc" {
	need_tool man
	need_tool mandoc
	local tool text
	for tool in man mandoc; do
		text=$(flat "$tool" "$REPO/beacon-report.8")
		# quoted by ‘’ or '' as the locale has it
		[[ $text =~ 'With --json, one object '.{1,3}'{"servers": [{"name", "url", "diff": {...}}]}'.{1,3}'. Sends nothing' ]] ||
			flunk "$tool: the --diff --json line is not there intact:" "$(grep -o 'With --json, one object.\{0,60\}' <<<"$text")"
		[[ $text != *'{"servers: '* && $text != *'"diff"""'* ]] || flunk "$tool: garbled quotes"
	done
}

@test "beacon-report(8): enabled's default is the built-in yes, and the Debian package writes no unless answered yes" {
	need_tool man
	local text
	text=$(flat man "$REPO/beacon-report.8")
	[[ $text == *"The built-in default, when the file does not set it, is yes"* ]] || flunk "no built-in default"
	[[ $text == *"writes enabled = no into /etc/asterisk/beacon.ini unless the answer is yes"* ]] ||
		flunk "the package's enabled = no is not said"
	# and that is what the code and the package do
	refute grep -q '^enabled' "$REPO/conf/beacon.ini"
	run "$BEACON_BIN" --show-config -c "$REPO/conf/beacon.ini"
	assert_success
	assert_output_contains "enabled = yes"
	grep -q 'set_enabled no' "$REPO/debian/postinst" || flunk "debian/postinst does not write enabled = no"
	awk '/^Template: beacon-report\/enable$/ { t = 1 } t && /^Default: false$/ { d = 1 } END { exit !(t && d) }' \
		"$REPO/debian/beacon-report.templates" || flunk "the question's default is not no"
}

@test "beacon-collector(8): --hash-password documented, mkpasswd no longer needed anywhere" {
	need_tool man
	local text
	text=$(flat man "$REPO/beacon-collector.8")
	[[ $text == *"--hash-password Make a crypt(3) hash of a password for admin_password_hash"* ]] ||
		flunk "--hash-password is not in OPTIONS"
	[[ $text == *"without echoing what is typed"* ]] || flunk "the prompt is not described"
	run grep -n mkpasswd "$REPO/beacon-collector.8" "$REPO/conf/beacon-collector.ini" "$REPO/README.md"
	assert_status 1
	grep -q 'beacon-collector --hash-password' "$REPO/conf/beacon-collector.ini" ||
		flunk "the sample does not say how to make the hash"
}

@test "[limits]: every key says what 0 means, in the sample and the man page, and 0 is no limit in the code" {
	"$PY" - "$REPO/conf/beacon-collector.ini" "$REPO/beacon-collector.8" <<-'PY'
	import re, sys
	ini, man = (open(f).read() for f in sys.argv[1:3])
	section = ini.split("[limits]\n", 1)[1].split("\n[", 1)[0]
	keys, bad = [], []
	for para in section.split("\n\n"):
	    m = re.search(r"^; (\w+) = ", para, re.M)
	    if not m:
	        continue
	    keys.append(m.group(1))
	    if "0: no limit" not in para:
	        bad.append("sample: " + m.group(1))
	for k in keys:
	    entry = man.split(".It Cm %s No" % k, 1)
	    if len(entry) < 2:
	        bad.append("man: no entry " + k)
	    elif "0: no" not in re.sub(r"\s+", " ", entry[1].split(".It ", 1)[0]):
	        bad.append("man: " + k)
	if len(keys) < 3 or bad:
	    sys.exit("keys %s; missing: %s" % (keys, bad))
	PY
	# 0 really is no limit: 30 registrations from one address, 0 per hour
	start_beacon_collector limits.registrations_per_address_per_hour=0 \
		limits.requests_per_address_per_minute=0
	local i
	for i in $(seq 1 30); do
		register || flunk "registration $i refused"
	done
}

@test "the retention check is hourly in the README, the man page and the sample, as RETENTION_EVERY_S" {
	grep -q '^#define RETENTION_EVERY_S 3600\b' "$REPO/beacon-collector.c" || flunk "RETENTION_EVERY_S is not 3600"
	grep -q 'Retention runs at start and hourly' "$REPO/README.md" || flunk README
	grep -q 'checked at start and hourly' "$REPO/beacon-collector.8" || flunk "man page"
	grep -q 'checked at start and hourly' "$REPO/conf/beacon-collector.ini" || flunk sample
	run grep -n 'start and daily' "$REPO/README.md" "$REPO/beacon-collector.8" "$REPO/conf/beacon-collector.ini"
	assert_status 1
}

@test "README: the PBX's [mylab] example for a collector works as it is copied" {
	# the indented block that starts with "    [mylab]" after "naming it"
	awk '/naming it/ { want = 1; next } want && /^    \[mylab\]$/ { on = 1 }
	     on && !/^    / { exit } on { sub(/^    /, ""); print }' "$REPO/README.md" >"$BATS_TEST_TMPDIR/beacon.ini"
	grep -qx 'type = server' "$BATS_TEST_TMPDIR/beacon.ini" || flunk "no type = server:" "$(cat "$BATS_TEST_TMPDIR/beacon.ini")"
	run --separate-stderr "$BEACON_BIN" --show-config -c "$BATS_TEST_TMPDIR/beacon.ini"
	assert_success
	assert_output_contains "[mylab]"
}

@test "README, man pages and samples refer to docs/PROTOCOL.md, never to sections of documents not in the tree" {
	[ -f "$REPO/docs/PROTOCOL.md" ] || flunk "no docs/PROTOCOL.md"
	run grep -nE 'CONTRACT ?§|COLLECTOR(\.md)? ?§|(CONTRACT|COLLECTOR\.md),? section' \
		"$REPO/README.md" "$REPO/beacon-report.8" "$REPO/beacon-collector.8" "$REPO"/conf/*.ini
	# comments in the man pages' sources are for developers
	output=$(grep -v ':\.\\"' <<<"$output" || true)
	assert_output ""
	local f
	for f in README.md beacon-report.8 beacon-collector.8; do
		grep -q 'docs/PROTOCOL.md' "$REPO/$f" || flunk "$f does not refer to docs/PROTOCOL.md"
	done
}

@test "docs/PROTOCOL.md: its schema is beacon-report --schema byte for byte, its example validates and a collector takes it" {
	local doc="$REPO/docs/PROTOCOL.md"
	awk '/^```json$/ { on = 1; next } on && /^```$/ { exit } on' "$doc" >"$BATS_TEST_TMPDIR/schema.json"
	run "$BEACON_BIN" --schema
	assert_success
	assert_eq "schema" "$output" "$(cat "$BATS_TEST_TMPDIR/schema.json")"
	# the example body: the indented block after "## The report body"
	awk '/^## The report body$/ { want = 1; next } want && /^    \{/ { on = 1 }
	     on && !/^    / { exit } on { sub(/^    /, ""); print }' "$doc" >"$BATS_TEST_TMPDIR/example.json"
	"$PY" - "$BATS_TEST_TMPDIR/schema.json" "$BATS_TEST_TMPDIR/example.json" <<-'PY'
	import json, os, sys
	sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
	from schema_validator import validator_class
	schema, example = (json.load(open(f)) for f in sys.argv[1:3])
	validator_class(schema)(schema).validate(example)
	PY
	start_beacon_collector
	register
	local body
	body=$(sed "s/26852b0c-d9ab-4377-a881-c3add56f4f2b/$SID/" "$BATS_TEST_TMPDIR/example.json")
	api PUT "/servers/$SID?tokenId=$TOK" "$body"
	assert_api 200
}

@test "docs/PROTOCOL.md: its figures and messages are the code's" {
	local doc="$REPO/docs/PROTOCOL.md" v
	v=$(sed -n 's/^#define REPORT_MAX_MODULES \([0-9]*\).*/\1/p' "$REPO/collector/web/validate.h")
	assert_eq "modules" 5000 "$v"
	grep -q 'at most 5,000 in `asterisk.modules`' "$doc" || flunk "modules"
	grep -q '^#define REPORT_MAX_STRING 1024\b' "$REPO/collector/web/validate.h" &&
		grep -q 'at most 1,024 bytes each' "$doc" || flunk "strings"
	grep -q '^#define REPORT_MAX_DEPTH 16$' "$REPO/collector/web/validate.h" &&
		grep -q 'nested at most 16 deep' "$doc" || flunk "depth"
	grep -q '^#define TOKEN_LIFETIME_S (48L \* 3600)' "$REPO/collector/store/token.h" &&
		grep -q 'valid for 48 hours' "$doc" || flunk "token lifetime"
	grep -q '^#define TOKEN_RENEW_BELOW_S (24L \* 3600)' "$REPO/collector/store/token.h" &&
		grep -q 'more than 24 hours left' "$doc" || flunk "token renewal"
	# every error message the tables quote is one api.c sends
	local msg
	for msg in 'No such server' 'Invalid token provided' 'Server already exists' \
		'server id: not a v4 UUID' 'database unavailable'; do
		grep -qF "\`$msg\`" "$doc" || grep -qF "\"$msg\"" "$doc" || flunk "not in PROTOCOL.md: $msg"
		grep -qF "\"$msg\"" "$REPO/collector/web/api.c" || flunk "not in api.c: $msg"
	done
}

@test "make deps installs debian/control's Build-Depends and jq, in the Makefile and in .ci/run; make deb builds both packages" {
	local pkgs ci dep missing=
	pkgs=" $(make -s -C "$REPO" --no-print-directory print-deb-pkgs) "
	ci=" $(tr -s ' \\\n' '   ' <"$REPO/.ci/run") "
	for dep in $(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$REPO/debian/control" |
		sed 's/^Build-Depends://; /^#/d; /^[A-Z]/d' | tr ',' '\n' |
		sed 's/(.*)//; s/^ *//; s/ *$//' | grep -v '^$'); do
		case $dep in debhelper-compat) dep=debhelper ;; libc6-dev) dep=build-essential ;; esac
		[[ $pkgs == *" $dep "* ]] || missing="$missing Makefile:$dep"
		[[ $ci == *" $dep "* ]] || missing="$missing .ci/run:$dep"
	done
	# ... and the packages' own Depends, which deb-check's dpkg -i does not
	# fetch (procps: /bin/kill, absent from a minimal Debian 11).
	for dep in jq fakeroot lintian dpkg-dev adduser ssl-cert procps; do
		[[ $pkgs == *" $dep "* ]] || missing="$missing Makefile:$dep"
		[[ $ci == *" $dep "* ]] || missing="$missing .ci/run:$dep"
	done
	[ -z "$missing" ] || flunk "not installed by make deps or CI:$missing"
	run make -s -n -C "$REPO" --no-print-directory deb
	assert_success
	assert_output_contains "dpkg-buildpackage -us -uc -b"
}

@test ".gitignore: what a package build leaves in debian/ is not shown by git status" {
	need_tool git
	git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 || flunk "not a git checkout"
	local f
	for f in debian/beacon-collector.postinst.debhelper debian/beacon-report.postrm.debhelper \
		debian/debhelper-build-stamp debian/files debian/beacon-report.substvars \
		debian/beacon-collector/usr/sbin/beacon-collector debian/.debhelper/generated/x; do
		git -C "$REPO" check-ignore -q --no-index "$f" || flunk "not ignored: $f"
	done
	# and nothing of the sources is
	run git -C "$REPO" check-ignore --no-index debian/postinst debian/beacon-collector.postinst debian/rules
	assert_status 1
}
