#!/usr/bin/env bats
# The statistics of COLLECTOR.md §6 through the real beacon-collector (a
# TEST_CLOCK=1 build): every figure from reports with known contents, the
# same in GET /api/v1/stats and --stats --json; k-anonymity in every public
# output; servers ageing out of active_days; /metrics through promtool.

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
	DB="$BATS_TEST_TMPDIR/beacon.db"
	# SQLite, or a fresh PostgreSQL database in the PostgreSQL pass.
	DATABASE=$(collector_test_database) || flunk "no test database"
}

# dbq SQL: one query on the collector's database (collector_db_sql).
dbq() {
	collector_db_sql "$DATABASE" "$1"
}

# cs_config MIN_GROUP [EXTRA...]: the collector's INI on a free port.
# established_days is $CS_ESTABLISHED (default 1: a server counts from its
# first report, so that the tests about other figures need one day only).
cs_config() {
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
		for line in "$@"; do echo "$line"; done
		echo "[limits]"
		echo "registrations_per_address_per_hour = 0"
		echo "requests_per_address_per_minute = 0"
		echo "min_update_interval = 0"
		echo "[privacy]"
		echo "min_group = $k"
		echo "active_days = 7"
		echo "established_days = ${CS_ESTABLISHED:-1}"
	} >"$CINI"
}

cs_start() {
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

# eq GOT WANT
eq() {
	[ "$1" = "$2" ] && return 0
	flunk "expected '$2'" "got      '$1'"
}

drive() { "$DRIVER" "$CPORT" "$TEST_CA/ca.pem" "$@"; }

# get PATH: the body of a 200 answer into $BATS_TEST_TMPDIR/body.
get() {
	drive get "$1" >"$BATS_TEST_TMPDIR/answer" || flunk "GET $1 failed"
	[ "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" = 200 ] ||
		flunk "GET $1:" "$(cat "$BATS_TEST_TMPDIR/answer")"
	sed '1,3d' "$BATS_TEST_TMPDIR/answer" >"$BATS_TEST_TMPDIR/body"
}

# pyjson FILE EXPR: evaluate a Python expression over the JSON in FILE (j).
pyjson() {
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# groups: a list of {name, servers} as "name=N,..." for easy comparison.
G='lambda l: ",".join("%s=%d" % (g["name"], g["servers"]) for g in l)'
gr() { pyjson "$BATS_TEST_TMPDIR/body" "($G)($1)"; }

three_servers() {
	cat >"$BATS_TEST_TMPDIR/specs.json" <<'JSON'
[
 {"name": "a", "version": "22.10.1", "private_name": "alpha-private",
  "modules": [["res_pjsip.so", "Running", "core"], ["chan_sip.so", "Running", "deprecated"],
              ["chan_iax2.so", "Not Running", "extended"]],
  "os": ["Linux", "x86_64", "6.1.0-13-amd64"], "uptime_s": 172800, "calls": [2, 100]},
 {"name": "b", "version": "22.10.1", "private_name": "bravo-private",
  "modules": [["res_pjsip.so", "Running", "core"], ["chan_pjsip.so", "Running", "core"]],
  "os": ["Linux", "aarch64", "6.1.0-13-amd64"], "uptime_s": 36000, "calls": [1, 50]},
 {"name": "c", "version": "20.5.0",
  "modules": [["chan_sip.so", "Running", "deprecated"], ["chan_iax2.so", "Running", "extended"]],
  "os": ["FreeBSD", "amd64", "14.0-RELEASE"], "calls": [1, 60]}
]
JSON
	drive seed "$BATS_TEST_TMPDIR/specs.json" "$BATS_TEST_TMPDIR/ids.json"
}

@test "stats: every figure from three known reports, and an update moves them" {
	cs_config 1
	cs_start
	three_servers
	get /api/v1/stats
	B="$BATS_TEST_TMPDIR/body"
	eq "$(pyjson "$B" 'j["totals"]')" "{'servers_known': 3, 'servers_active': 3, 'servers_new_7d': 3}"
	eq "$(gr 'j["versions"]')" "22.10.1=2,20.5.0=1"
	eq "$(gr 'j["major_versions"]')" "22=2,20=1"
	eq "$(pyjson "$B" '[(m["name"], m["servers"], m["share"], m["status"], m["support_level"]) for m in j["modules"]]')" \
		"[('chan_iax2.so', 2, 0.6667, {'Not Running': 1, 'Running': 1}, {'extended': 2}), ('chan_sip.so', 2, 0.6667, {'Running': 2}, {'deprecated': 2}), ('res_pjsip.so', 2, 0.6667, {'Running': 2}, {'core': 2}), ('chan_pjsip.so', 1, 0.3333, {'Running': 1}, {'core': 1})]"
	eq "$(gr 'j["deprecated"]')" "chan_sip.so=2"
	eq "$(gr 'j["channel_drivers"]')" "chan_pjsip/res_pjsip=2,chan_sip=2,chan_iax2=1"
	eq "$(gr 'j["operating_system"]["sys_name"]')" "Linux=2,FreeBSD=1"
	eq "$(gr 'j["operating_system"]["machine"]')" "aarch64=1,amd64=1,x86_64=1"
	eq "$(gr 'j["operating_system"]["release"]')" "6.1.0-13-amd64=2,14.0-RELEASE=1"
	eq "$(gr 'j["uptime"]')" "< 1 day=1,1-7 days=1,unknown=1"
	eq "$(pyjson "$B" 'j["calls"]')" "{'active': 4, 'processed': 210}"
	eq "$(pyjson "$B" '(j["min_group"], j["suppressed"], j["generated"])')" "(1, False, '2026-12-01T12:00:00Z')"
	# Today's point is the figures as they stand, though the day's row was
	# written at start, before any report.
	eq "$(pyjson "$B" '[(d["date"], d["active"], d["major_versions"]) for d in j["history"]]')" "[('2026-12-01', 3, {'22': 2, '20': 1})]"

	# The same figures from the command line, JSON and text.
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats --json
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/cli.json"
	eq "$(pyjson "$BATS_TEST_TMPDIR/cli.json" 'j == json.load(open(sys.argv[1].replace("cli.json","body")))')" True
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats
	assert_success
	assert_output_contains "Servers active:     3"
	assert_output_contains "chan_pjsip/res_pjsip"
	# min_group = 1 hides nothing, and says so (issue 25 item 16: not
	# "groups of fewer than 1 servers"), here and on the dashboard
	assert_output_contains "min_group = 1: every group shown, however small"
	refute_output_contains "fewer than 1 "
	get /
	grep -q "min_group = 1, so every figure is shown" "$BATS_TEST_TMPDIR/body" ||
		flunk "the dashboard does not say that min_group = 1 hides nothing"
	refute grep -q "fewer than 1 PBX" "$BATS_TEST_TMPDIR/body"

	# a moves to 22.11.0 and drops chan_sip: only what changed moves.
	cat >"$BATS_TEST_TMPDIR/a2.json" <<'JSON'
{"name": "a", "version": "22.11.0",
 "modules": [["res_pjsip.so", "Running", "core"], ["chan_iax2.so", "Running", "extended"]],
 "os": ["Linux", "x86_64", "6.1.0-13-amd64"], "uptime_s": 600, "calls": [5, 10]}
JSON
	drive report "$BATS_TEST_TMPDIR/ids.json" a "$BATS_TEST_TMPDIR/a2.json"
	sleep 1.1	# the snapshot cache's floor after a commit
	get /api/v1/stats
	eq "$(pyjson "$B" 'j["totals"]["servers_active"]')" 3
	eq "$(gr 'j["versions"]')" "20.5.0=1,22.10.1=1,22.11.0=1"
	eq "$(gr 'j["deprecated"]')" "chan_sip.so=1"
	eq "$(gr 'j["channel_drivers"]')" "chan_iax2=2,chan_pjsip/res_pjsip=2,chan_sip=1"
	eq "$(pyjson "$B" '[(m["name"], m["status"]) for m in j["modules"] if m["name"] == "chan_iax2.so"]')" "[('chan_iax2.so', {'Running': 2})]"
	eq "$(gr 'j["uptime"]')" "< 1 day=2,unknown=1"
	# a's 5 active calls are more than half of 7: that sum is hidden;
	# 60 of 120 processed is not more than half.
	eq "$(pyjson "$B" 'j["calls"]')" "{'active': None, 'processed': 120}"
	# The counters agree with a full recount of the stored summaries.
	eq "$(dbq "SELECT count(*) FROM servers WHERE counted = 1")" 3
	eq "$(dbq "SELECT n FROM stat_current WHERE dimension = 'known'")" 3
}

@test "stats: k-anonymity in /api/v1/stats, /metrics and --stats; no id or private_name" {
	cs_config 3
	cs_start
	cat >"$BATS_TEST_TMPDIR/specs.json" <<'JSON'
[
 {"name": "a", "version": "22.10.1", "private_name": "alpha-private", "modules": [["res_pjsip.so", "Running", "core"], ["chan_rare.so", "Running", "core"]], "os": ["Linux", "x86_64", "6.1"]},
 {"name": "b", "version": "22.10.1", "private_name": "bravo-private", "modules": [["res_pjsip.so", "Running", "core"]], "os": ["Linux", "x86_64", "6.1"]},
 {"name": "c", "version": "22.10.1", "private_name": "charlie-private", "modules": [["res_pjsip.so", "Running", "core"]], "os": ["Linux", "x86_64", "6.1"]},
 {"name": "d", "version": "18.0.0", "private_name": "delta-private", "modules": [["chan_rare.so", "Running", "core"]], "os": ["Linux", "riscv64", "6.1"]}
]
JSON
	drive seed "$BATS_TEST_TMPDIR/specs.json" "$BATS_TEST_TMPDIR/ids.json"
	get /api/v1/stats
	cp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/api.json"
	eq "$(gr 'j["versions"]')" "22.10.1=3,other=1"
	eq "$(gr 'j["major_versions"]')" "22=3,other=1"
	eq "$(gr 'j["operating_system"]["machine"]')" "x86_64=3,other=1"
	eq "$(gr 'j["channel_drivers"]')" "chan_pjsip/res_pjsip=3,other=2"
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '[m["name"] for m in j["modules"]]')" "['res_pjsip.so']"
	get /metrics
	cp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/metrics.txt"
	grep -q '^beacon_servers{version="other"} 1$' "$BATS_TEST_TMPDIR/metrics.txt"
	"$COLLECTOR" -c "$CINI" --stats >"$BATS_TEST_TMPDIR/stats.txt"
	"$COLLECTOR" -c "$CINI" --stats --json >"$BATS_TEST_TMPDIR/stats.json"
	local f word
	for f in api.json metrics.txt stats.txt stats.json; do
		for word in 18.0.0 riscv64 chan_rare alpha-private bravo-private charlie-private delta-private \
			$(pyjson "$BATS_TEST_TMPDIR/ids.json" '" ".join(v[0] for v in j.values())'); do
			if grep -q -- "$word" "$BATS_TEST_TMPDIR/$f"; then
				flunk "$f shows $word:" "$(cat "$BATS_TEST_TMPDIR/$f")"
			fi
		done
	done
}

@test "stats (issue 22): uptime, calls, CPUs and memory as p5/p50/p95, a percentile whose bucket holds fewer than min_group hidden, in the JSON and on the dashboard" {
	cs_config 3
	cs_start
	# 12 servers: uptime <1 day x4, 1-7 days x5, >1 year x3; CPUs 1 x1,
	# 2 x6, 8 x4, 64 x1; memory 1 GiB x4, 4 GiB x4 (3.8 rounded up),
	# 8 GiB x3, none x1; calls processed 0 x3, 50 x6, 5000 x3.
	"$PY" - "$BATS_TEST_TMPDIR/specs.json" <<'PY'
import json, sys
up = [3600] * 4 + [172800] * 5 + [400 * 86400] * 3
cpus = [1] + [2] * 6 + [8] * 4 + [64]
mem = [1048576] * 4 + [4000000] * 4 + [8388608] * 3 + [None]
calls = [0] * 3 + [50] * 6 + [5000] * 3
json.dump([{"name": "s%d" % i, "version": "22.10.1", "uptime_s": up[i],
            "os": ["Linux", "x86_64", "6.1"], "hw": [cpus[i], mem[i]],
            "calls": [0, calls[i]]} for i in range(12)], open(sys.argv[1], "w"))
PY
	drive seed "$BATS_TEST_TMPDIR/specs.json" "$BATS_TEST_TMPDIR/ids.json"
	get /api/v1/stats
	D='lambda d: " ".join("%s=%s/%s/%s/%s" % (k, v["servers"], v["p5"], v["p50"], v["p95"]) for k, v in sorted(d.items()))'
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" "($D)(j['distributions'])")" \
		"calls_processed=12/0/10-99/1000-9999 cpus=12/None/2/None memory=11/1 GiB/4 GiB/8 GiB uptime=12/< 1 day/1-7 days/> 1 year"
	# the same from the command line
	"$COLLECTOR" -c "$CINI" --stats --json >"$BATS_TEST_TMPDIR/cli.json"
	eq "$(pyjson "$BATS_TEST_TMPDIR/cli.json" "($D)(j['distributions'])")" \
		"calls_processed=12/0/10-99/1000-9999 cpus=12/None/2/None memory=11/1 GiB/4 GiB/8 GiB uptime=12/< 1 day/1-7 days/> 1 year"
	get /
	grep -q '<h2>Distributions</h2>' "$BATS_TEST_TMPDIR/body" ||
		flunk "no Distributions table on the dashboard"
	grep -q '<tr><th scope="row">CPUs</th><td>—</td><td>2</td><td>—</td><td>of 12 PBXs</td></tr>' "$BATS_TEST_TMPDIR/body" ||
		flunk "the dashboard's CPUs row is not p5 hidden, median 2, p95 hidden, of 12"
	grep -q '<tr><th scope="row">Memory</th><td>1 GiB</td><td>4 GiB</td><td>8 GiB</td><td>of 11 PBXs</td></tr>' "$BATS_TEST_TMPDIR/body" ||
		flunk "the dashboard's memory row is wrong"
	# no single PBX's minimum or maximum: 1 and 64 CPUs are nowhere
	refute grep -q '<td>64</td>' "$BATS_TEST_TMPDIR/body"
	refute grep -q '"64"' "$BATS_TEST_TMPDIR/cli.json"
}

@test "stats: fewer active servers than min_group: counts only, no breakdown" {
	cs_config 3
	cs_start
	cat >"$BATS_TEST_TMPDIR/specs.json" <<'JSON'
[
 {"name": "a", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1"], "calls": [4, 9]},
 {"name": "b", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1"]}
]
JSON
	drive seed "$BATS_TEST_TMPDIR/specs.json" "$BATS_TEST_TMPDIR/ids.json"
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["suppressed"], j["totals"]["servers_active"], j["versions"], j["modules"], j["calls"])')" \
		"(True, 2, [], [], {'active': 0, 'processed': 0})"
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats
	assert_output_contains "no breakdown is shown"
	refute_output_contains "22.10.1"
	assert_output_contains 'groups of fewer than 3 servers shown as "other"'
}

@test "stats: servers silent for more than active_days stop counting, and count again when they report" {
	cs_config 1
	cs_start
	three_servers
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]["servers_active"]')" 3
	# The day's rows, written at start before any report, are written
	# again by the periodic job as the figures stand.
	kill -HUP "$CPID"	# the periodic job, now
	for ((i = 0; i < 50; i++)); do
		[ "$(dbq "SELECT n FROM stats_daily WHERE day = '2026-12-01' AND dimension = 'servers'")" = 3 ] && break
		sleep 0.1
	done
	eq "$(dbq "SELECT key, n FROM stats_daily WHERE day = '2026-12-01' AND dimension IN ('major', 'servers') ORDER BY dimension, key")" $'20|1\n22|2\nactive|3\ngone|0\nnew|3'
	# Every public figure has its day (issue 22).
	eq "$(dbq "SELECT dimension, key, n FROM stats_daily WHERE day = '2026-12-01' AND dimension IN ('module', 'version', 'channel_driver') ORDER BY dimension, key")" $'channel_driver|chan_iax2|1\nchannel_driver|chan_pjsip/res_pjsip|2\nchannel_driver|chan_sip|2\nmodule|chan_iax2.so|2\nmodule|chan_pjsip.so|1\nmodule|chan_sip.so|2\nmodule|res_pjsip.so|2\nversion|20.5.0|1\nversion|22.10.1|2'
	echo "2026-12-09T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	kill -HUP "$CPID"	# the periodic job, now
	sleep 1.1
	get /api/v1/stats
	B="$BATS_TEST_TMPDIR/body"
	eq "$(pyjson "$B" 'j["totals"]')" "{'servers_known': 3, 'servers_active': 0, 'servers_new_7d': 0}"
	eq "$(pyjson "$B" '(j["versions"], j["modules"], j["calls"])')" "([], [], {'active': 0, 'processed': 0})"
	# The day past keeps the figures of its last periodic job.
	eq "$(pyjson "$B" '[(d["date"], d["active"]) for d in j["history"]]')" "[('2026-12-01', 3), ('2026-12-09', 0)]"
	# The expired left no group behind.
	eq "$(dbq "SELECT count(*) FROM stat_current WHERE n <> 0 AND dimension NOT IN ('known', 'first_seen')")" 0
	cat >"$BATS_TEST_TMPDIR/c2.json" <<'JSON'
{"name": "c", "version": "20.5.0", "os": ["FreeBSD", "amd64", "14.0-RELEASE"]}
JSON
	drive report "$BATS_TEST_TMPDIR/ids.json" c "$BATS_TEST_TMPDIR/c2.json"
	sleep 1.1
	get /api/v1/stats
	eq "$(pyjson "$B" 'j["totals"]["servers_active"]')" 1
	eq "$(gr 'j["versions"]')" "20.5.0=1"
	# The next day's history row sees it.
	echo "2026-12-10T00:01:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats --json
	assert_success
	echo "$output" >"$B"
	eq "$(pyjson "$B" '[(d["date"], d["active"], d["major_versions"]) for d in j["history"]][-1]')" "('2026-12-10', 1, {'20': 1})"
}

@test "stats: /metrics is Prometheus text 0.0.4 that promtool accepts" {
	command -v promtool >/dev/null || skip "no promtool (Debian package prometheus)"
	cs_config 1
	cs_start
	three_servers
	drive get /nowhere >/dev/null
	drive get /metrics >"$BATS_TEST_TMPDIR/answer"
	eq "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" 200
	eq "$(sed -n 2p "$BATS_TEST_TMPDIR/answer")" "text/plain; version=0.0.4; charset=utf-8"
	sed '1,3d' "$BATS_TEST_TMPDIR/answer" >"$BATS_TEST_TMPDIR/metrics.txt"
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
	[ "$status" -eq 0 ] || flunk "promtool:" "$output" "$(cat "$BATS_TEST_TMPDIR/metrics.txt")"
	local m="$BATS_TEST_TMPDIR/metrics.txt"
	grep -q '^beacon_servers_active 3$' "$m"
	grep -q '^beacon_servers{version="22.10.1"} 2$' "$m"
	grep -q '^beacon_channel_driver_servers{driver="chan_pjsip/res_pjsip"} 2$' "$m"
	grep -q '^beacon_collector_http_requests_total{method="PUT",code="200"} 3$' "$m"
	grep -q '^beacon_collector_http_requests_total{method="GET",code="404"} 1$' "$m"
	grep -q '^beacon_collector_commit_duration_seconds_count [1-9]' "$m"
	grep -q '^beacon_collector_open_connections [0-9]' "$m"
}

@test "stats: public_stats = no: 404 without a password hash, 401 with WWW-Authenticate without credentials" {
	cs_config 1 "public_stats = no"
	cs_start
	drive get /api/v1/stats >"$BATS_TEST_TMPDIR/answer"
	eq "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" 404
	stop_collectors
	cs_config 1 "public_stats = no" 'admin_password_hash = $6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.'
	cs_start
	local p
	for p in /api/v1/stats /metrics; do
		drive get "$p" >"$BATS_TEST_TMPDIR/answer"
		eq "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" 401
		eq "$(sed -n 3p "$BATS_TEST_TMPDIR/answer")" 'Basic realm="beacon-collector", charset="UTF-8"'
		drive get "$p" "Basic YWRtaW46d3Jvbmc=" >"$BATS_TEST_TMPDIR/answer"
		eq "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" 401
	done
}

# About SQLite's own schema (PRAGMA user_version): on SQLite in both passes;
# PostgreSQL's twin is in collector_pg.bats.
@test "stats: a version 1 database is migrated to 5 (known servers counted); a newer one is refused" {
	DATABASE="sqlite:$DB"
	sqlite3 "$DB" <<'SQL'
CREATE TABLE servers (id TEXT PRIMARY KEY, token_id TEXT NOT NULL, token_issued INTEGER NOT NULL,
 prev_token_id TEXT, prev_token_issued INTEGER, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
 last_update INTEGER, reports INTEGER NOT NULL DEFAULT 0, report TEXT, previous_report TEXT);
CREATE INDEX servers_by_last_seen ON servers (last_seen);
INSERT INTO servers VALUES ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
 1796126400, NULL, NULL, 1796126400, 1796126400, 1796126400, 1, '{}', NULL);
PRAGMA user_version = 1;
SQL
	cs_config 1
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats --json
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/body"
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]')" "{'servers_known': 1, 'servers_active': 0, 'servers_new_7d': 1}"
	eq "$(sqlite3 "$DB" 'PRAGMA user_version')" 5
	eq "$(sqlite3 "$DB" 'SELECT report_days, last_report_day, calls_active IS NULL FROM servers')" "1|2026-12-01|1"
	sqlite3 "$DB" 'PRAGMA user_version = 6'
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats
	assert_status 5
	assert_stderr_contains "newer than this binary"
}

@test "stats: retention deletes a server's contribution with it" {
	cs_config 1
	sed -i 's/^active_days = 7$/active_days = 7\nretention_days = 1/' "$CINI"
	cs_start
	three_servers
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]["servers_known"]')" 3
	stop_collectors
	# Two days on, before any expiry: retention (at start) alone must
	# take the counted servers' figures away.
	echo "2026-12-03T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	cs_start
	eq "$(dbq 'SELECT count(*) FROM servers')" 0
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["totals"], j["versions"])')" "({'servers_known': 0, 'servers_active': 0, 'servers_new_7d': 0}, [])"
	eq "$(dbq "SELECT count(*) FROM stat_current WHERE n <> 0")" 0
}

# ---- issue 21 item 5: fake servers cannot lift k-anonymity ----------------

# fake_and_victim FAKE_DAYS: the victim PBX (kernel 5.10.0-victim-secret,
# calls 37/123,456) reports on 2026-12-01, -02 and -03; four servers the
# attacker registers with the guessed kernel and no calls report on the
# last FAKE_DAYS of those days.  The clock ends on 2026-12-03.
fake_and_victim() {
	local fake_days=$1 d name
	cat >"$BATS_TEST_TMPDIR/victim.json" <<'JSON'
[{"name": "victim", "version": "22.10.1", "os": ["Linux", "x86_64", "5.10.0-victim-secret"], "calls": [37, 123456]}]
JSON
	cat >"$BATS_TEST_TMPDIR/fakes.json" <<'JSON'
[{"name": "f1", "version": "22.10.1", "os": ["Linux", "x86_64", "5.10.0-victim-secret"], "calls": [0, 0]},
 {"name": "f2", "version": "22.10.1", "os": ["Linux", "x86_64", "5.10.0-victim-secret"], "calls": [0, 0]},
 {"name": "f3", "version": "22.10.1", "os": ["Linux", "x86_64", "5.10.0-victim-secret"], "calls": [0, 0]},
 {"name": "f4", "version": "22.10.1", "os": ["Linux", "x86_64", "5.10.0-victim-secret"], "calls": [0, 0]}]
JSON
	"$PY" -c 'import json,sys; [json.dump(s, open(sys.argv[2] + "/" + s["name"] + ".json", "w")) for s in json.load(open(sys.argv[1]))]' \
		"$BATS_TEST_TMPDIR/fakes.json" "$BATS_TEST_TMPDIR"
	"$PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[0], open(sys.argv[2], "w"))' \
		"$BATS_TEST_TMPDIR/victim.json" "$BATS_TEST_TMPDIR/victim1.json"
	drive seed "$BATS_TEST_TMPDIR/victim.json" "$BATS_TEST_TMPDIR/vids.json"
	for d in 1 2 3; do
		echo "2026-12-0${d}T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
		[ "$d" = 1 ] || drive report "$BATS_TEST_TMPDIR/vids.json" victim "$BATS_TEST_TMPDIR/victim1.json"
		if [ "$d" = $((4 - fake_days)) ]; then
			drive seed "$BATS_TEST_TMPDIR/fakes.json" "$BATS_TEST_TMPDIR/fids.json"
		elif [ "$d" -gt $((4 - fake_days)) ]; then
			for name in f1 f2 f3 f4; do
				drive report "$BATS_TEST_TMPDIR/fids.json" "$name" "$BATS_TEST_TMPDIR/$name.json"
			done
		fi
	done
	sleep 1.1	# the snapshot cache's floor after a commit
}

# refute_public WORD...: no public output (/api/v1/stats, /metrics, /,
# --stats, --stats --json) holds any WORD.
refute_public() {
	local f p word
	for p in /api/v1/stats /metrics /; do
		get "$p"
		cp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/pub${p//\//_}"
	done
	"$COLLECTOR" -c "$CINI" --stats >"$BATS_TEST_TMPDIR/pub_text"
	"$COLLECTOR" -c "$CINI" --stats --json >"$BATS_TEST_TMPDIR/pub_json"
	for f in "$BATS_TEST_TMPDIR"/pub_*; do
		for word in "$@"; do
			if grep -q -- "$word" "$f"; then
				flunk "$(basename "$f") shows $word:" "$(grep -o -- ".\{0,60\}$word.\{0,60\}" "$f" | head -3)"
			fi
		done
	done
}

@test "stats (issue 21): one real PBX and four fake servers with its guessed kernel: the defaults show neither the kernel nor its calls" {
	cs_config 1
	sed -i '/^min_group = /d; /^established_days = /d' "$CINI"	# the defaults
	cs_start
	fake_and_victim 1
	refute_public victim-secret 123456
	get /api/v1/stats
	# Only the victim is established (3 report days): 1 active server.
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["min_group"], j["totals"]["servers_active"], j["totals"]["servers_known"])')" "(10, 1, 5)"
	eq "$(dbq "SELECT count(*) FROM servers WHERE counted = 1")" 1
	eq "$(dbq "SELECT report_days FROM servers WHERE counted = 1")" 3
}

@test "stats (issue 21): fakes established too and min_group = 5: a sum one server makes up more than half of is never shown" {
	cs_config 5
	sed -i '/^established_days = /d' "$CINI"	# the default, 3
	cs_start
	fake_and_victim 3
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["totals"]["servers_active"], j["calls"])')" "(5, {'active': None, 'processed': None})"
	refute_public 123456 beacon_calls_
	run --separate-stderr "$COLLECTOR" -c "$CINI" --stats
	assert_output_contains "Calls active:       hidden"
}

@test "stats (issue 21): established_days: a server counts from its third distinct UTC day; a clock gone back counts no day twice" {
	cs_config 1
	sed -i '/^established_days = /d' "$CINI"
	cs_start
	cat >"$BATS_TEST_TMPDIR/one.json" <<'JSON'
[{"name": "a", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1"]}]
JSON
	"$PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[0], open(sys.argv[2], "w"))' \
		"$BATS_TEST_TMPDIR/one.json" "$BATS_TEST_TMPDIR/a.json"
	drive seed "$BATS_TEST_TMPDIR/one.json" "$BATS_TEST_TMPDIR/ids.json"
	echo "2026-12-01T18:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	drive report "$BATS_TEST_TMPDIR/ids.json" a "$BATS_TEST_TMPDIR/a.json"
	echo "2026-12-02T01:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	drive report "$BATS_TEST_TMPDIR/ids.json" a "$BATS_TEST_TMPDIR/a.json"
	echo "2026-12-01T23:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"	# back
	drive report "$BATS_TEST_TMPDIR/ids.json" a "$BATS_TEST_TMPDIR/a.json"
	eq "$(dbq "SELECT report_days, counted FROM servers")" "2|0"
	eq "$(dbq "SELECT count(*) FROM stat_current WHERE dimension = 'version' AND n <> 0")" 0
	echo "2026-12-03T00:30:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	drive report "$BATS_TEST_TMPDIR/ids.json" a "$BATS_TEST_TMPDIR/a.json"
	eq "$(dbq "SELECT report_days, counted FROM servers")" "3|1"
	sleep 1.1
	get /api/v1/stats
	eq "$(gr 'j["versions"]')" "22.10.1=1"
	# established_days raised: the periodic job stops counting it.
	stop_collectors
	sed -i 's/^active_days = 7$/active_days = 7\nestablished_days = 4/' "$CINI"
	cs_start
	eq "$(dbq "SELECT counted FROM servers")" 0
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]["servers_active"]')" 0
}

@test "stats (issue 21): active as of the moment read: eight days on, /api/v1/stats at once counts no server silent for longer than active_days" {
	cs_config 1
	cs_start
	three_servers
	sleep 1.1
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]["servers_active"]')" 3
	# No periodic job in between: the clock moves and the figures are read.
	echo "2026-12-09T12:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["totals"]["servers_active"], j["versions"], j["calls"])')" "(0, [], {'active': 0, 'processed': 0})"
	get /metrics
	grep -q '^beacon_servers_active 0$' "$BATS_TEST_TMPDIR/body" || flunk "/metrics:" "$(grep servers_active "$BATS_TEST_TMPDIR/body")"
}

@test "stats (issue 21): 12 servers each with 5,000 made-up module names (12 times the bound): the counters stay bounded per dimension, /healthz and a PUT are answered" {
	cs_config 1 "max_body_kb = 1024"
	cs_start
	# One keep-alive connection, 12 registrations and reports (bounded:
	# 30 s per request at most): 60,000 names, twelve times what a
	# dimension may hold, is as good a flood as the issue's 1,000,000 for
	# the bound, at a twentieth of the test's time.
	"$PY" - "$CPORT" "$TEST_CA/ca.pem" <<'PY'
import http.client, json, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile=ca)
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
def req(method, path, body=b""):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()
for s in range(12):
    st, data = req("POST", "/servers")
    assert st == 201, (st, data)
    j = json.loads(data)
    sid, tok = j["server"]["id"], j["token"]["id"]
    mods = [{"name": "fake_%d_%d.so" % (s, m), "description": "d", "status": "Running",
             "support_level": "core"} for m in range(4999)]
    mods.append({"name": "res_pjsip.so", "description": "d", "status": "Running", "support_level": "core"})
    body = json.dumps({"id": sid, "asterisk": {"version": {"name": "Asterisk 22.10.1", "number": "221001"},
        "modules": mods}, "operating_system": {"release": "6.1.0-fake-%d" % s}})
    st, data = req("PUT", "/servers/%s?tokenId=%s" % (sid, tok), body.encode())
    assert st == 200, (s, st, data[:200])
PY
	# Every dimension holds at most STATS_KEYS_PER_DIMENSION (5,000) named
	# keys and one "other" row, whatever was sent (60,000 module names).
	local most
	most=$(dbq "SELECT max(c) FROM (SELECT dimension, count(*) AS c FROM stat_current WHERE n <> 0 GROUP BY dimension) d")
	[ "$most" -le 5001 ] || flunk "a dimension holds $most keys"
	[ "$(dbq "SELECT count(*) FROM stat_current")" -le 16000 ] ||
		flunk "$(dbq "SELECT count(*) FROM stat_current") counter rows"
	# The module every server shares is still counted by name, by all.
	eq "$(dbq "SELECT n FROM stat_current WHERE dimension = 'module' AND key = 'res_pjsip.so'")" 12
	# The service answers: /healthz, a real PBX's PUT, and the figures
	# (the made-up names as "other", never by name).
	cat >"$BATS_TEST_TMPDIR/one.json" <<'JSON'
[{"name": "real", "version": "22.10.1", "modules": [["res_pjsip.so", "Running", "core"]], "os": ["Linux", "x86_64", "6.1"]}]
JSON
	drive seed "$BATS_TEST_TMPDIR/one.json" "$BATS_TEST_TMPDIR/ids.json"
	drive get /healthz >"$BATS_TEST_TMPDIR/answer"
	eq "$(sed -n 1p "$BATS_TEST_TMPDIR/answer")" 200
	sleep 1.1
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '[m["name"] for m in j["modules"] if m["servers"] > 1]')" "['res_pjsip.so']"
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '[m for m in j["modules"] if "\x1f" in m["name"]]')" "[]"
}

@test "stats (issue 21): a registration never followed by a report is not a known server, and is deleted once its token expired (48 h)" {
	cs_config 1
	cs_start
	cat >"$BATS_TEST_TMPDIR/one.json" <<'JSON'
[{"name": "a", "version": "22.10.1", "os": ["Linux", "x86_64", "6.1"]}]
JSON
	drive seed "$BATS_TEST_TMPDIR/one.json" "$BATS_TEST_TMPDIR/ids.json"
	# Two registrations without a report, as a flood of them would be.
	local i
	for i in 1 2; do
		"$PY" - "$CPORT" "$TEST_CA/ca.pem" <<'PY'
import http.client, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
c.request("POST", "/servers", body=b"")
assert c.getresponse().status == 201
PY
	done
	eq "$(dbq 'SELECT count(*) FROM servers')" 3
	sleep 1.1
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" '(j["totals"]["servers_known"], j["totals"]["servers_new_7d"])')" "(1, 1)"
	# 47 hours on: kept (their tokens are still valid); 49: deleted at
	# start, the reported one stays.
	stop_collectors
	echo "2026-12-03T11:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	cs_start
	eq "$(dbq 'SELECT count(*) FROM servers')" 3
	stop_collectors
	echo "2026-12-03T13:00:00Z" >"$BEACON_COLLECTOR_CLOCK_FILE"
	cs_start
	eq "$(dbq 'SELECT count(*) FROM servers')" 1
	eq "$(dbq 'SELECT reports FROM servers')" 1
	get /api/v1/stats
	eq "$(pyjson "$BATS_TEST_TMPDIR/body" 'j["totals"]["servers_known"]')" 1
	eq "$(dbq "SELECT n FROM stat_current WHERE dimension = 'known'")" 1
}
