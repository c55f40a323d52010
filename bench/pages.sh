#!/bin/bash
# bench/pages.sh: what the public pages cost with a big census (issue 22:
# p99 <= 50 ms each): GET /, GET /api/v1/stats and GET /api/v1/history.csv
# with SERVERS servers (default 100,000) and DAYS days of daily history
# (default 400), on SQLite and on PostgreSQL (a throwaway cluster,
# tests/pg.sh, durable defaults).  Each URL: REQUESTS GETs (default 300) on
# one keep-alive connection, after one not measured; p50, p99 and max in ms;
# "cached" as under load (the statistics' snapshot is kept a few seconds)
# and "uncached" (a TEST_CLOCK build whose clock moves 5 s before each
# request, so that every request reads the database).
# A URL this build does not serve (404) prints "n/a".
#
# Seeding: the collector makes its own schema (--check-config migrates the
# empty database); the rows are then loaded directly (SQLite .import,
# PostgreSQL COPY) from one set of CSV files: servers of 12 profiles with
# their summaries as collector/base/summary.c writes them, the counters
# their sum, and DAYS days of history (active servers, major versions).
# Plain HTTP on 127.0.0.1: the figures are the collector's own, not TLS's.
#
# Environment: SERVERS, DAYS, REQUESTS, UNCACHED (requests per uncached
# row, default 50), BACKENDS ("sqlite pg"), KEEP=1.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVERS=${SERVERS:-100000}
DAYS=${DAYS:-400}
REQUESTS=${REQUESTS:-300}
UNCACHED=${UNCACHED:-50}
BACKENDS=${BACKENDS:-sqlite pg}
PG=$REPO/tests/pg.sh
PY=/usr/bin/python3

fail() { printf 'bench-pages: FAILED: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench-pages: %s\n' "$*" >&2; }

WORK=$(mktemp -d /tmp/bench-pages.XXXXXX)
CPID=''
PG_DIR=''
cleanup() {
	[ -n "$CPID" ] && kill -TERM "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$PG_DIR" ] && "$PG" stop "$PG_DIR" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] && { note "kept $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT

note "building the collector (release, and TEST_CLOCK)"
make -s -C "$REPO" BUILD="$WORK/build" "$WORK/build/beacon-collector" >"$WORK/build.log" 2>&1 ||
	fail "build: $(tail -5 "$WORK/build.log")"
make -s -C "$REPO" BUILD="$WORK/clock" TEST_CLOCK=1 "$WORK/clock/beacon-collector" >>"$WORK/build.log" 2>&1 ||
	fail "build (TEST_CLOCK): $(tail -5 "$WORK/build.log")"
COLLECTOR=$WORK/build/beacon-collector
CLOCKED=$WORK/clock/beacon-collector

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_ini DATABASE PORT: no limits, min_group 5, 30 active days.
write_ini() {
	cat >"$WORK/c.ini" <<INI
[collector]
user =
listen = 127.0.0.1:$2
tls = no
database = $1
lifecycle = $REPO/conf/asterisk-lifecycle.ini
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
[privacy]
min_group = 5
active_days = 30
history_days = $DAYS
INI
	grep -q history_days "$REPO/conf/beacon-collector.ini" 2>/dev/null ||
		sed -i '/^history_days/d' "$WORK/c.ini"	# not in this build yet
}

# ---- the seed, as CSV ----------------------------------------------------------------
NOW=$(date +%s)
note "writing $SERVERS servers and $DAYS days of history as CSV"
"$PY" - "$SERVERS" "$NOW" "$DAYS" "$WORK" <<'PY' || fail "cannot write the seed"
import csv, sys, time, uuid
n, now, days, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
versions = ["22.10.1", "22.9.0", "21.12.2", "20.17.0", "20.11.1", "18.26.4",
            "16.30.1", "22.10.1", "certified/18.9-cert5", "20.17.0", "13.38.3", "23.1.0"]
base = ["res_pjsip.so", "chan_pjsip.so", "app_dial.so", "app_voicemail.so",
        "res_musiconhold.so", "pbx_config.so", "codec_ulaw.so", "codec_alaw.so",
        "res_rtp_asterisk.so", "app_queue.so", "cdr_csv.so", "func_callerid.so"]
oses = [("Linux", "x86_64", "6.1.0-28-amd64"), ("Linux", "aarch64", "6.1.0-28-arm64"),
        ("Linux", "x86_64", "5.10.0-33-amd64"), ("FreeBSD", "amd64", "14.1-RELEASE")]
uptimes = ["< 1 day", "1-7 days", "7-30 days", "30-365 days"]
P = len(versions)

def major(v):
    return v.split("/")[-1].split(".")[0]

def profile(p):
    lines = [("servers", "active", 1), ("version", versions[p], 1),
             ("major", major(versions[p]), 1)]
    sysn, mach, rel = oses[p % len(oses)]
    lines += [("sys_name", sysn, 1), ("machine", mach, 1), ("release", rel, 1),
              ("uptime", uptimes[p % len(uptimes)], 1),
              ("calls", "active", p % 5 + 1), ("calls", "processed", 100 * p + 7)]
    mods = [(m, "Running", "core") for m in base[: 6 + p % 7]]
    if p % 3 == 0:
        mods.append(("chan_sip.so", "Running", "deprecated"))
    if p % 4 == 1:
        mods.append(("chan_iax2.so", "Running", "extended"))
    pjsip = False
    for m, st, su in mods:
        lines += [("module", m, 1), ("module_status", m + "/" + st, 1),
                  ("module_support", m + "/" + su, 1)]
        if su == "deprecated":
            lines.append(("deprecated", m, 1))
        if m in ("chan_pjsip.so", "res_pjsip.so"):
            pjsip = True
        elif m.startswith("chan_"):
            lines.append(("channel_driver", m[:-3], 1))
    if pjsip:
        lines.append(("channel_driver", "chan_pjsip/res_pjsip", 1))
    lines.sort(key=lambda l: (l[0] + "\t" + l[1]).encode())
    return lines

profiles = [profile(p) for p in range(P)]
summaries = ["".join("%s\t%s\t%d\n" % l for l in lines) for lines in profiles]
with open(out + "/servers.csv", "w", newline="") as f:
    w = csv.writer(f)
    for i in range(n):
        p = i % P
        seen = now - (i % 600) * 60
        # Established (reported on 30 distinct days), as the collector
        # keeps them: counted, with the calls its sums read.
        w.writerow([str(uuid.uuid4()), str(uuid.uuid4()), now, now - (i % days) * 86400,
                    seen, seen, 30 + i % 50,
                    '{"asterisk":{"version":{"name":"%s","number":"0"}}}' % versions[p],
                    summaries[p], 1, 30, time.strftime("%Y-%m-%d", time.gmtime(seen)),
                    p % 5 + 1, 100 * p + 7])
count = [n // P + (1 if p < n % P else 0) for p in range(P)]
totals = {}
for p, lines in enumerate(profiles):
    for d, k, v in lines:
        totals[(d, k)] = totals.get((d, k), 0) + v * count[p]
totals[("known", "")] = n
for d in range(min(n, days)):
    day = time.strftime("%Y-%m-%d", time.gmtime(now - d * 86400))
    totals[("first_seen", day)] = totals.get(("first_seen", day), 0) + n // days + (1 if d < n % days else 0)
with open(out + "/counts.csv", "w", newline="") as f:
    w = csv.writer(f)
    for (d, k), v in sorted(totals.items()):
        w.writerow([d, k, v])
# DAYS days of history, growing to today's figures.
with open(out + "/daily.csv", "w", newline="") as f:
    w = csv.writer(f)
    for day in range(days, 0, -1):
        date = time.strftime("%Y-%m-%d", time.gmtime(now - day * 86400))
        frac = (days + 1 - day) / float(days)
        w.writerow([date, "servers", "active", int(n * frac)])
        for (d, k), v in sorted(totals.items()):
            if d == "major":
                w.writerow([date, "major", k, int(v * frac)])
PY

# ---- the measure ----------------------------------------------------------------------

# latency PORT PATH [CLOCKFILE]: "p50 p99 max bytes" in ms, or "n/a" on a
# 404; with CLOCKFILE the collector's clock moves 5 s before each request.
latency() {
	"$PY" - "$1" "$2" "$([ -n "${3:-}" ] && echo "$UNCACHED" || echo "$REQUESTS")" "${3:-}" <<'PY'
import http.client, os, sys, time
port, path, n, clock = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
t0 = int(time.time())
ms = []
for i in range(n + 1):
    if clock:
        with open(clock + ".tmp", "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 5 * (i + 1))))
        os.rename(clock + ".tmp", clock)
    a = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    b = time.perf_counter()
    if r.status == 404:
        print("n/a n/a n/a n/a")
        sys.exit(0)
    if r.status != 200:
        sys.exit("GET %s: %d %s" % (path, r.status, body[:200]))
    if i > 0:            # the first one opens the connection
        ms.append((b - a) * 1000)
ms.sort()
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print("%.2f %.2f %.2f %d" % (pick(0.5), pick(0.99), ms[-1], len(body)))
PY
}

# start_collector BIN DATABASE: sets CPID and PORT.
start_collector() {
	local port i
	port=$(free_port)
	write_ini "$2" "$port"
	"$1" -c "$WORK/c.ini" >>"$WORK/collector.log" 2>&1 &
	CPID=$!
	for ((i = 0; i < 600; i++)); do
		[ "$(curl -s --max-time 2 "http://127.0.0.1:$port/healthz")" = ok ] && { PORT=$port; return 0; }
		kill -0 "$CPID" 2>/dev/null || fail "the collector did not start: $(tail -5 "$WORK/collector.log")"
		sleep 0.1
	done
	fail "the collector did not answer"
}

stop_collector() {
	kill -TERM "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	CPID=
}

ROWS=()
measure() {
	local backend=$1 path p50 p99 mx size
	start_collector "$COLLECTOR" "$2"
	for path in / /api/v1/stats /api/v1/history.csv; do
		read -r p50 p99 mx size <<<"$(latency "$PORT" "$path")" || fail "GET $path on $backend"
		ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$backend" "GET $path" cached "$p50" "$p99" "$mx" "$size")")
	done
	stop_collector
	export BEACON_COLLECTOR_CLOCK_FILE=$WORK/clock.txt
	date -u +%Y-%m-%dT%H:%M:%SZ >"$BEACON_COLLECTOR_CLOCK_FILE"
	start_collector "$CLOCKED" "$2"
	for path in / /api/v1/stats /api/v1/history.csv; do
		read -r p50 p99 mx size <<<"$(latency "$PORT" "$path" "$BEACON_COLLECTOR_CLOCK_FILE")" ||
			fail "GET $path on $backend, uncached"
		ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$backend" "GET $path" uncached "$p50" "$p99" "$mx" "$size")")
	done
	stop_collector
	unset BEACON_COLLECTOR_CLOCK_FILE
}

for backend in $BACKENDS; do
	t0=$(date +%s.%N)
	case $backend in
	sqlite)
		db=$WORK/pages.db
		write_ini "sqlite:$db" 1
		"$COLLECTOR" -c "$WORK/c.ini" --check-config >/dev/null 2>>"$WORK/collector.log" ||
			fail "the collector could not make its SQLite schema"
		sqlite3 "$db" >/dev/null <<SQL || fail "seeding SQLite"
.bail on
BEGIN;
CREATE TEMP TABLE s (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report, summary, counted,
	report_days, last_report_day, calls_active, calls_processed);
.import --csv $WORK/servers.csv s
INSERT INTO servers (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report, summary, counted,
	report_days, last_report_day, calls_active, calls_processed)
	SELECT id, token_id, CAST(token_issued AS INTEGER), CAST(first_seen AS INTEGER), CAST(last_seen AS INTEGER),
	CAST(last_update AS INTEGER), CAST(reports AS INTEGER), report, summary, CAST(counted AS INTEGER),
	CAST(report_days AS INTEGER), last_report_day, CAST(calls_active AS INTEGER), CAST(calls_processed AS INTEGER) FROM s;
CREATE TEMP TABLE c (dimension, key, n);
.import --csv $WORK/counts.csv c
DELETE FROM stat_counts;
INSERT INTO stat_counts SELECT dimension, key, CAST(n AS INTEGER) FROM c;
CREATE TEMP TABLE d (day, dimension, key, n);
.import --csv $WORK/daily.csv d
DELETE FROM stats_daily;
INSERT INTO stats_daily SELECT day, dimension, key, CAST(n AS INTEGER) FROM d;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
		uri=sqlite:$db
		;;
	pg)
		"$PG" available || { note "no PostgreSQL: skipping it"; continue; }
		PG_DIR=$("$PG" start --durable) || fail "the PostgreSQL cluster did not start"
		"$PG" psql "$PG_DIR" -q -c 'CREATE DATABASE pages' >/dev/null || fail "createdb"
		uri=$("$PG" uri "$PG_DIR" pages)
		PSQL=$("$PG" bin psql)
		write_ini "$uri" 1
		"$COLLECTOR" -c "$WORK/c.ini" --check-config >/dev/null 2>>"$WORK/collector.log" ||
			fail "the collector could not make its PostgreSQL schema"
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$uri" >/dev/null <<SQL || fail "seeding PostgreSQL"
BEGIN;
\copy servers (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report, summary, counted, report_days, last_report_day, calls_active, calls_processed) FROM '$WORK/servers.csv' WITH (FORMAT csv)
DELETE FROM stat_counts;
\copy stat_counts (dimension, key, n) FROM '$WORK/counts.csv' WITH (FORMAT csv, FORCE_NOT_NULL (key))
DELETE FROM stats_daily;
\copy stats_daily (day, dimension, key, n) FROM '$WORK/daily.csv' WITH (FORMAT csv)
COMMIT;
VACUUM ANALYZE;
SQL
		;;
	*) fail "unknown backend $backend" ;;
	esac
	note "$backend: seeded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
	measure "$backend" "$uri"
	if [ "$backend" = pg ]; then
		"$PG" stop "$PG_DIR" >/dev/null 2>&1
		PG_DIR=
	fi
done

echo
echo "beacon-collector pages benchmark, $(date -u +%Y-%m-%dT%H:%MZ): $SERVERS servers, $DAYS days of history, $REQUESTS requests per URL cached, $UNCACHED uncached"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
{
	printf 'database\tURL\tsnapshot\tp50 ms\tp99 ms\tmax ms\tbytes\n'
	printf '%s\n' "${ROWS[@]}"
} | column -t -s $'\t'
