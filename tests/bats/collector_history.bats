#!/usr/bin/env bats
# Issue 22 through the real beacon-collector (a TEST_CLOCK=1 build): the
# daily history of every public figure (GET /api/v1/history, the CSV dump),
# k-anonymous; certified Asterisk as its major; the dashboard's charts of
# change; every module's page and badge.  The test clock makes the days.

load helpers
load collector_db

COLLECTOR="${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}"
DRIVER="$REPO/tests/bats/collector_stats.py"

setup() {
	harness_setup
	[ -x "$COLLECTOR" ] || skip "no $COLLECTOR (make test-binaries)"
	export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/clock"
	echo "2026-12-01T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	CINI="$BATS_TEST_TMPDIR/collector.ini"
	DATABASE=$(collector_test_database) || flunk "no test database"
}

dbq() {
	collector_db_sql "$DATABASE" "$1"
}

# hc_config MIN_GROUP [EXTRA [privacy] LINES...]
hc_config() {
	local k=$1
	shift
	CPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	{
		echo "[collector]"
		echo "user ="
		echo "listen = 127.0.0.1:$CPORT"
		echo "tls_cert = $TEST_CA/server.pem"
		echo "tls_key = $TEST_CA/server.key"
		echo "database = $DATABASE"
		echo "lifecycle = $REPO/conf/asterisk-lifecycle.ini"
		echo "[limits]"
		echo "registrations_per_address_per_hour = 0"
		echo "requests_per_address_per_minute = 0"
		echo "min_update_interval = 0"
		echo "[privacy]"
		echo "min_group = $k"
		echo "active_days = 7"
		echo "established_days = 1"
		for line in "$@"; do echo "$line"; done
	} >"$CINI"
}

hc_start() {
	"$COLLECTOR" -c "$CINI" 2>"$BATS_TEST_TMPDIR/collector.err" 3>&- &
	CPID=$!
	_record_pid "$CPID" "collector:beacon-collector"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening' "$BATS_TEST_TMPDIR/collector.err" 2>/dev/null && return 0
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.05
	done
	flunk "beacon-collector did not start:" "$(cat "$BATS_TEST_TMPDIR/collector.err")"
}

eq() {
	[ "$1" = "$2" ] && return 0
	flunk "expected '$2'" "got      '$1'"
}

drive() { "$DRIVER" "$CPORT" "$TEST_CA/ca.pem" "$@"; }

# fetch PATH: status into $STATUS, content type into $CTYPE, body into $B.
B=
fetch() {
	B="$BATS_TEST_TMPDIR/body"
	drive get "$1" >"$BATS_TEST_TMPDIR/answer" || flunk "GET $1 failed"
	STATUS=$(sed -n 1p "$BATS_TEST_TMPDIR/answer")
	CTYPE=$(sed -n 2p "$BATS_TEST_TMPDIR/answer")
	sed '1,3d' "$BATS_TEST_TMPDIR/answer" >"$B"
}

# get PATH: fetch, which must answer 200.
get() {
	fetch "$1"
	[ "$STATUS" = 200 ] || flunk "GET $1: $STATUS" "$(cat "$B")"
}

pyjson() {
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# The periodic job now (SIGHUP), waited for: the day's row of active
# servers says N.
periodic() {
	local day=$1 n=$2 i
	kill -HUP "$CPID"
	for ((i = 0; i < 50; i++)); do
		[ "$(dbq "SELECT n FROM stats_daily WHERE day = '$day' AND dimension = 'servers' AND key = 'active'")" = "$n" ] && return 0
		sleep 0.1
	done
	flunk "no history row ($day, active $n):" "$(dbq "SELECT * FROM stats_daily WHERE day = '$day'")"
}

# Five PBXs on day 1 (min_group 2): two on 22, two certified 18.9, one
# alone on 20; every one loads res_pjsip, two a module whose name a
# spreadsheet would take for a formula, one alone chan_sip.  On day 2 the
# two on 22 upgrade to 23.
five_servers() {
	cat >"$BATS_TEST_TMPDIR/specs.json" <<'JSON'
[
 {"name": "a", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1.0"],
  "modules": [["res_pjsip.so", "Running", "core"], ["chan_sip.so", "Running", "deprecated"]]},
 {"name": "b", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1.0"],
  "modules": [["res_pjsip.so", "Running", "core"], ["=HYPERLINK.so", "Running", "extended"]]},
 {"name": "c", "version": "certified/18.9-cert5", "os": ["Linux", "x86_64", "6.1.0"],
  "modules": [["res_pjsip.so", "Running", "core"], ["=HYPERLINK.so", "Running", "extended"]]},
 {"name": "d", "version": "certified/18.9-cert5", "os": ["Linux", "aarch64", "6.1.0"],
  "modules": [["res_pjsip.so", "Running", "core"]]},
 {"name": "e", "version": "20.5.0", "os": ["FreeBSD", "amd64", "14.0"],
  "modules": [["res_pjsip.so", "Running", "core"]]}
]
JSON
	drive seed "$BATS_TEST_TMPDIR/specs.json" "$BATS_TEST_TMPDIR/ids.json"
}

upgrade() {
	local name extra
	for name in a b; do
		# a drops chan_sip, b keeps its module
		extra=
		[ "$name" = b ] && extra=', ["=HYPERLINK.so", "Running", "extended"]'
		cat >"$BATS_TEST_TMPDIR/up.json" <<JSON
{"name": "$name", "version": "23.1.0", "os": ["Linux", "x86_64", "6.1.0"],
 "modules": [["res_pjsip.so", "Running", "core"]$extra]}
JSON
		drive report "$BATS_TEST_TMPDIR/ids.json" "$name" "$BATS_TEST_TMPDIR/up.json"
	done
}

# Day 1 and day 2 of five_servers, each day's periodic job run.
two_days() {
	hc_config 2
	hc_start
	five_servers
	periodic 2026-12-01 5
	echo "2026-12-02T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	upgrade
	periodic 2026-12-02 5
}

G='lambda d: ",".join("%s=%d" % (g["name"], g["servers"]) for g in d["groups"])'
# days EXPR-over-each-day: "date groups; date groups" of the JSON in $B.
days() { pyjson "$B" "'; '.join(d['date'] + ' ' + ($G)(d) for d in j['history'])"; }

@test "history: every dimension day by day, k-anonymous, majors by version, certified as its major" {
	two_days
	get "/api/v1/history?dimension=major"
	eq "$(pyjson "$B" '(j["dimension"], j["days"], j["min_group"])')" "('major', 730, 2)"
	# 20 alone is "other"; certified 18.9 is 18 (certified); by version.
	eq "$(days)" "2026-12-01 22=2,18 (certified)=2,other=1; 2026-12-02 23=2,18 (certified)=2,other=1"
	get "/api/v1/history?dimension=servers"
	eq "$(days)" "2026-12-01 active=5,new=5,gone=0; 2026-12-02 active=5,new=0,gone=0"
	get "/api/v1/history"
	eq "$(pyjson "$B" 'j["dimension"]')" servers
	# A module loaded by fewer than min_group is not named, nor summed.
	get "/api/v1/history?dimension=module"
	eq "$(days)" "2026-12-01 res_pjsip.so=5,=HYPERLINK.so=2; 2026-12-02 res_pjsip.so=5,=HYPERLINK.so=2"
	get "/api/v1/history?dimension=version&days=1"
	eq "$(days)" "2026-12-02 23.1.0=2,certified/18.9-cert5=2,other=1"
	get "/api/v1/history?dimension=channel_driver"
	eq "$(days)" "2026-12-01 chan_pjsip/res_pjsip=5,other=1; 2026-12-02 chan_pjsip/res_pjsip=5"
	get "/api/v1/history?dimension=sys_name"
	eq "$(days)" "2026-12-01 Linux=4,other=1; 2026-12-02 Linux=4,other=1"
	get "/api/v1/history?dimension=machine"
	eq "$(days)" "2026-12-01 x86_64=3,other=2; 2026-12-02 x86_64=3,other=2"
	get "/api/v1/history?dimension=release"
	eq "$(days)" "2026-12-01 6.1.0=4,other=1; 2026-12-02 6.1.0=4,other=1"
	# The lifecycle status of each day's majors: every PBX counted once.
	get "/api/v1/history?dimension=lifecycle"
	eq "$(pyjson "$B" '[(d["date"], sum(g["servers"] for g in d["groups"]), all(g["name"] in ("eol", "security", "supported", "unknown", "other") for g in d["groups"])) for d in j["history"]]')" \
		"[('2026-12-01', 5, True), ('2026-12-02', 5, True)]"
	# /api/v1/stats: certified is major 18 (certified), the history has
	# the new and gone servers of each day.
	get /api/v1/stats
	eq "$(pyjson "$B" '[(g["name"], g["servers"]) for g in j["major_versions"]]')" "[('23', 2), ('18 (certified)', 2), ('other', 1)]"
	eq "$(pyjson "$B" '[(d["date"], d["active"], d["new"], d["gone"]) for d in j["history"]]')" "[('2026-12-01', 5, 5, 0), ('2026-12-02', 5, 0, 0)]"
	eq "$(pyjson "$B" '[m["name"] for m in j["modules"]]')" "['res_pjsip.so', '=HYPERLINK.so']"
}

@test "history: gone servers on the day they fall out of active_days; fewer than min_group active: counts only; history_days prunes" {
	two_days
	# a and b last reported on 12-02 at noon: gone a week later.
	echo "2026-12-09T13:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	periodic 2026-12-09 0
	get "/api/v1/history?dimension=servers&days=1"
	eq "$(days)" "2026-12-09 active=0,new=0,gone=2"
	# The same question after the next periodic job: not a stale answer.
	cat >"$BATS_TEST_TMPDIR/c.json" <<'JSON'
{"name": "c", "version": "certified/18.9-cert5", "os": ["Linux", "x86_64", "6.1.0"]}
JSON
	drive report "$BATS_TEST_TMPDIR/ids.json" c "$BATS_TEST_TMPDIR/c.json"
	periodic 2026-12-09 1
	get "/api/v1/history?dimension=servers&days=1"
	eq "$(days)" "2026-12-09 active=1,new=0,gone=2"
	# A day below min_group has no breakdown.
	get "/api/v1/history?dimension=major&days=8"
	eq "$(days)" "2026-12-02 23=2,18 (certified)=2,other=1"
	stop_collectors
	# history_days = 3: the days before 12-07 go at the next periodic job.
	sed -i 's/^established_days = 1$/established_days = 1\nhistory_days = 3/' "$CINI"
	hc_start
	# The periodic job at start prunes.
	for ((i = 0; i < 50; i++)); do
		[ "$(dbq "SELECT DISTINCT day FROM stats_daily ORDER BY day")" = 2026-12-09 ] && break
		sleep 0.1
	done
	eq "$(dbq "SELECT DISTINCT day FROM stats_daily ORDER BY day")" "2026-12-09"
	fetch "/api/v1/history?dimension=servers&days=4"
	eq "$STATUS" 400
	grep -q 'days' "$B" || flunk "400 names days:" "$(cat "$B")"
}

@test "history: bad dimension or days is a 400 naming it" {
	hc_config 2
	hc_start
	local q
	for q in "dimension=bogus" "dimension=" "dimension=servers%00" "dimension=MAJOR"; do
		fetch "/api/v1/history?$q"
		eq "$STATUS" 400
		grep -q '"error": *"dimension: not one of servers, major' "$B" || flunk "$q:" "$(cat "$B")"
	done
	for q in "days=0" "days=731" "days=-1" "days=1x" "days=" "days=99999999999999999999" "days=%201"; do
		fetch "/api/v1/history?dimension=major&$q"
		eq "$STATUS" 400
		grep -q '"error": *"days: not a whole number from 1 to history_days (730)' "$B" || flunk "$q:" "$(cat "$B")"
	done
	fetch "/api/v1/history.csv?dimension=nope"
	eq "$STATUS" 400
}

@test "history.csv: day,dimension,key,servers, every dimension, cells safe for a spreadsheet" {
	two_days
	get /api/v1/history.csv
	eq "$CTYPE" "text/csv; charset=utf-8"
	eq "$(head -n 1 "$B")" $'day,dimension,key,servers\r'
	tr -d '\r' <"$B" >"$B.lf"
	grep -qx '2026-12-01,servers,active,5' "$B.lf" || flunk "no active row" "$(cat "$B.lf")"
	grep -qx '2026-12-02,major,18 (certified),2' "$B.lf" || flunk "no certified row"
	grep -qx '2026-12-02,channel_driver,chan_pjsip/res_pjsip,5' "$B.lf" || flunk "no driver row"
	# A key a spreadsheet would run as a formula is quoted and made inert.
	grep -qx "2026-12-01,module,\"'=HYPERLINK.so\",2" "$B.lf" || flunk "formula cell" "$(grep HYPER "$B.lf")"
	# Nothing below min_group is named.
	! grep -q 'chan_sip.so\|20.5.0\|FreeBSD' "$B.lf" || flunk "a group below min_group named"
	# Every dimension has its rows; the lifecycle's add up to the active.
	eq "$(cut -d, -f2 "$B.lf" | sed 1d | sort -u | tr '\n' ' ')" "channel_driver lifecycle machine major module release servers sys_name version "
	eq "$(awk -F, '$1 == "2026-12-02" && $2 == "lifecycle" { n += $4 } END { print n }' "$B.lf")" 5
	# One dimension only, and fewer days.
	get "/api/v1/history.csv?dimension=major&days=1"
	eq "$(tr -d '\r' <"$B")" $'day,dimension,key,servers\n2026-12-02,major,23,2\n2026-12-02,major,18 (certified),2\n2026-12-02,major,other,1'
}

@test "modules: every module listed with a server-side filter, its page with its share over time, a badge; names checked" {
	two_days
	get /modules
	eq "$CTYPE" "text/html; charset=utf-8"
	grep -q 'href="/modules/res_pjsip.so"' "$B" || flunk "no link to res_pjsip.so"
	grep -q '2 of 2 modules shown' "$B" || flunk "count" "$(grep -o '[0-9]* of [0-9]* modules shown' "$B")"
	! grep -q 'chan_sip.so' "$B" || flunk "a module below min_group listed"
	! grep -qi '<script' "$B" || flunk "a script"
	get "/modules?q=PJSIP"
	grep -q '1 of 2 modules shown' "$B" || flunk "filter" "$(grep -o '[0-9]* of [0-9]* modules shown' "$B")"
	grep -q 'value="PJSIP"' "$B" || flunk "the filter is not kept in the form"
	get "/modules?q=%3Cscript%3E"
	grep -q '0 of 2 modules shown' "$B" || flunk "filter <script>"
	grep -q 'value="&lt;script&gt;"' "$B" || flunk "q not escaped"
	! grep -q '<script>' "$B" || flunk "q reflected as markup"

	get /modules/res_pjsip.so
	grep -q '<h1>res_pjsip.so</h1>' "$B" || flunk "heading"
	grep -q '100% of active PBXs load it (5 of 5)' "$B" || flunk "share" "$(grep -o '<p class="sub">[^<]*' "$B")"
	grep -q '<dd id="support">core 5</dd>' "$B" || flunk "support level"
	grep -q '<dd id="status">Running 5</dd>' "$B" || flunk "status"
	# Its share over time: a point per day, in the table too.
	grep -q '<th scope="row">2026-12-01</th><td class="num">5</td>' "$B" || flunk "day 1"
	grep -q '<th scope="row">2026-12-02</th><td class="num">5</td>' "$B" || flunk "day 2"
	grep -q '<dd id="badge"><a href="/modules/res_pjsip.so.svg"><code>' "$B" || flunk "the badge's address"
	# One request: nothing for the browser to fetch, no script.
	! grep -qE '<(img|script|link rel="stylesheet"|iframe)' "$B" || flunk "a second request"
	get /modules/res_pjsip
	grep -q '<h1>res_pjsip.so</h1>' "$B" || flunk "without .so"

	get /modules/res_pjsip.svg
	eq "$CTYPE" "image/svg+xml; charset=utf-8"
	"$PY" -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$B" || flunk "the badge is not XML"
	get /modules/res_pjsip.so.svg
	grep -q '<title>res_pjsip · 100.0 % of PBXs</title>' "$B" || flunk "badge of NAME.so"
	grep -q '<title>res_pjsip · 100.0 % of PBXs</title>' "$B" || flunk "badge" "$(cat "$B")"
	get /modules/=HYPERLINK.so.svg 2>/dev/null && flunk "a name outside the charset was taken" || true
	fetch /modules/=HYPERLINK.so
	eq "$STATUS" 400
	grep -q 'module name' "$B" || flunk "400 names it"
	fetch "/modules/a%22b"
	eq "$STATUS" 400
	fetch "/modules/.hidden"
	eq "$STATUS" 400
	fetch "/modules/$(printf 'x%.0s' {1..129})"
	eq "$STATUS" 400
	# Below min_group, or unknown: not there.
	fetch /modules/chan_sip.so
	eq "$STATUS" 404
	fetch /modules/chan_sip.so.svg
	eq "$STATUS" 404
	fetch /modules/nothing_here.so
	eq "$STATUS" 404
}

@test "dashboard: adoption of major versions in servers and per cent, new and gone per day, the modules that tell PBXs apart" {
	two_days
	get /
	"$PY" - "$B" <<'PY' || flunk "dashboard"
import re, sys
page = open(sys.argv[1]).read()
def figure(fid):
    m = re.search(r'<figure class="chart" id="%s">(.*?)</figure>' % re.escape(fid), page, re.S)
    assert m, "no figure " + fid
    return m.group(1)
a = figure("adoption")
# bands, oldest at the bottom, each named; the table by day, latest first
for name in ("23", "22", "18 (certified)", "other"):
    assert "<title>%s</title></path>" % name in a, name
assert a.count('<path class="band') == 4, a.count('<path class="band')
rows = re.findall(r'<tr><th scope="row">([0-9-]+)</th>(.*?)</tr>', a)
assert [r[0] for r in rows] == ["2026-12-02", "2026-12-01"], rows
p = figure("adoption-percent")
assert "40.0 %" in p and "20.0 %" in p, "per cent"
assert "100 %" in p, "the per cent axis"
n = figure("new")
assert '<th scope="row">2026-12-01</th><td class="num">5</td>' in n, n
g = figure("gone")
assert '<th scope="row">2026-12-02</th><td class="num">0</td>' in g
m = figure("modules")
# res_pjsip.so is loaded by every PBX: it tells nothing apart
assert "res_pjsip.so" not in m, "res_pjsip.so in the modules chart"
assert "=HYPERLINK.so" in m
assert 'href="/modules" id="all-modules">Every module (2)</a>' in page
# the majors in version order, not by count
mv = figure("major-versions")
desc = re.search(r'<desc[^>]*>(.*?)</desc>', mv).group(1)
assert desc.index("23") < desc.index("18 (certified)") < desc.index("other"), desc
assert "<script" not in page
# each chart says how many PBXs it describes, and when
for fid in ("major-versions", "versions", "channel-drivers", "os", "uptime", "lifecycle"):
    assert "Of 5 active PBXs, 2 Dec 2026, 12:00 UTC." in figure(fid), fid
assert "Loaded by some of the 5 active PBXs" in m
PY
}
