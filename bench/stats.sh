#!/bin/bash
# bench/stats.sh: what the statistics cost (issue 13's goals: / and
# /api/v1/stats in <= 50 ms p99 at 1,000,000 servers; keeping them costs
# the report path <= 10 % of its reports/s).  All on 127.0.0.1 with a
# throwaway CA.  Prints one table:
#   - GET /api/v1/stats (and GET / when the collector has it) with 10,000
#     and 1,000,000 servers stored: p50/p99 over one keep-alive connection,
#     "cached" (as under load: the snapshot is kept STATS_CACHE_SECONDS) and
#     "uncached" (every request reads the database: a TEST_CLOCK build whose
#     clock file moves 5 s before each request);
#   - --stats --json wall time (a process: start, open, read, print);
#   - reports/s (bench/loadgen.c) against 10,000 seeded servers, this
#     collector against the one before the statistics (commit BASE,
#     default 57e1140), built the same way, run alternately.
#
# The seeded servers have counters consistent with them: 12 server
# profiles (version, modules, OS), their summaries written as collector/base/summary.c
# writes them, stat_counts the sum over the profiles, a year of history.
#
# Environment: BENCH_SECONDS (10 per reports/s row), REQUESTS (500 per
# latency row), SIZES ("10000 1000000"), BASE, KEEP=1, LOADGEN_WORKERS.
# Needs sqlite3, openssl, curl, python3, jq, and the build's libraries.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
SECS=${BENCH_SECONDS:-10}
REQUESTS=${REQUESTS:-500}
SIZES=${SIZES:-10000 1000000}
BASE=${BASE:-57e1140}
MODULES=$REPO/tests/fixtures/22.10.1/module_show.txt
PY=/usr/bin/python3

fail() {
	printf 'bench-stats: FAILED: %s\n' "$*" >&2
	exit 1
}
note() { printf 'bench-stats: %s\n' "$*" >&2; }

for t in sqlite3 openssl curl jq; do
	command -v "$t" >/dev/null || fail "$t is missing"
done
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || true

# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness cstats
MY_PIDS=()
bench_cleanup() {
	local p
	for p in "${MY_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${MY_PIDS[@]}"; do
		timeout 15 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	standalone_cleanup
}
trap bench_cleanup EXIT

# ---- binaries: this tree (release and TEST_CLOCK), the base, loadgen ----------

B=$WORK/build
note "building (release, TEST_CLOCK, base $BASE, loadgen)"
make -s -C "$REPO" BUILD="$B/rel" "$B/rel/beacon-collector" "$B/rel/bench/loadgen" >"$WORK/build.log" 2>&1 ||
	fail "build: $(tail -5 "$WORK/build.log")"
make -s -C "$REPO" BUILD="$B/clock" TEST_CLOCK=1 "$B/clock/beacon-collector" >>"$WORK/build.log" 2>&1 ||
	fail "build (TEST_CLOCK): $(tail -5 "$WORK/build.log")"
mkdir -p "$WORK/base"
git -C "$REPO" archive "$BASE" | tar -x -C "$WORK/base" || fail "cannot export $BASE"
make -s -C "$WORK/base" BUILD="$B/base" "$B/base/beacon-collector" >>"$WORK/build.log" 2>&1 ||
	fail "build of $BASE: $(tail -5 "$WORK/build.log")"
COLLECTOR=$B/rel/beacon-collector
CLOCKED=$B/clock/beacon-collector
BASELINE=$B/base/beacon-collector
LOADGEN=$B/rel/bench/loadgen

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the CA"
CA=$TEST_CA/ca.pem

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_https() {
	local i
	for i in $(seq 300); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -s -o /dev/null --cacert "$CA" --max-time 1 "https://127.0.0.1:$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}

# write_ini DB PORT: a collector without limits, min_group 5, 30 active days.
write_ini() {
	cat >"$WORK/collector-$2.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$2
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = sqlite:$1
max_connections = 2048
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
[privacy]
min_group = 5
active_days = 30
EOF
	echo "$WORK/collector-$2.ini"
}

# start BIN DB: sets PID and PORT.
start() {
	PORT=$(free_port)
	local ini
	ini=$(write_ini "$2" "$PORT")
	"$1" -c "$ini" >>"$WORK/collector.log" 2>&1 &
	PID=$!
	MY_PIDS+=("$PID")
	wait_https "$PORT" "$PID" || fail "$1 did not start on $2: $(tail -5 "$WORK/collector.log")"
}

stop() {
	kill -TERM "$1" 2>/dev/null
	timeout 20 tail --pid="$1" -f /dev/null || { kill -KILL "$1"; fail "collector did not stop"; }
}

# ---- seeding ----------------------------------------------------------------------

# seed DB N: N servers, all active, counted, with summaries and consistent
# counters; the database made by the collector itself (--check-config
# opens and migrates it).
seed() {
	local db=$1 n=$2 now ini
	now=$(date +%s)
	ini=$(write_ini "$db" 1)
	"$COLLECTOR" -c "$ini" --check-config >/dev/null 2>>"$WORK/collector.log" || fail "cannot create $db"
	"$PY" - "$n" "$now" >"$WORK/seed-$n.sql" <<'PY' || fail "cannot write the seed SQL"
import sys
n, now = int(sys.argv[1]), int(sys.argv[2])
versions = ["22.10.1", "22.9.0", "21.12.2", "20.17.0", "20.11.1", "18.26.4",
            "16.30.1", "22.10.1", "22.10.1", "20.17.0", "13.38.3", "21.12.2"]
base = ["res_pjsip.so", "chan_pjsip.so", "app_dial.so", "app_voicemail.so",
        "res_musiconhold.so", "pbx_config.so", "codec_ulaw.so", "codec_alaw.so",
        "res_rtp_asterisk.so", "app_queue.so", "cdr_csv.so", "func_callerid.so"]
oses = [("Linux", "x86_64", "6.1.0-28-amd64"), ("Linux", "aarch64", "6.1.0-28-arm64"),
        ("Linux", "x86_64", "5.10.0-33-amd64"), ("FreeBSD", "amd64", "14.1-RELEASE")]
uptimes = ["< 1 day", "1-7 days", "7-30 days", "30-365 days"]
P = len(versions)

def profile(p):
    lines = [("servers", "active", 1), ("version", versions[p], 1),
             ("major", versions[p].split(".")[0], 1)]
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

def q(s):
    return "'" + s.replace("'", "''") + "'"

profiles = [profile(p) for p in range(P)]
count = [n // P + (1 if p < n % P else 0) for p in range(P)]   # i % P == p, i in 0..n-1
print(".bail on\nPRAGMA journal_mode = WAL;\nBEGIN;")
print("CREATE TEMP TABLE prof (p INTEGER PRIMARY KEY, summary TEXT, version TEXT);")
for p, lines in enumerate(profiles):
    summary = "".join("%s\t%s\t%d\n" % l for l in lines)
    print("INSERT INTO prof VALUES (%d, %s, %s);" % (p, q(summary), q(versions[p])))
print("""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d - 1),
u(i, a, b) AS (SELECT i, lower(hex(randomblob(16))), lower(hex(randomblob(16))) FROM n)
INSERT INTO servers (id, token_id, token_issued, first_seen, last_seen, last_update,
  reports, report, summary, counted)
SELECT
  substr(a,1,8)||'-'||substr(a,9,4)||'-4'||substr(a,14,3)||'-'||
  substr('89ab', 1 + (i %% 4), 1)||substr(a,18,3)||'-'||substr(a,21,12),
  substr(b,1,8)||'-'||substr(b,9,4)||'-4'||substr(b,14,3)||'-'||
  substr('89ab', 1 + (i %% 4), 1)||substr(b,18,3)||'-'||substr(b,21,12),
  %d, %d - (i %% 400) * 86400, %d - (i %% 600) * 3600, %d - (i %% 600) * 3600, 1,
  '{"asterisk":{"version":{"name":"Asterisk ' || prof.version || '","number":"0"}}}',
  prof.summary, 1
FROM u JOIN prof ON prof.p = u.i %% %d;""" % (n, now, now, now, now, P))
totals = {}
for p, lines in enumerate(profiles):
    for d, k, v in lines:
        totals[(d, k)] = totals.get((d, k), 0) + v * count[p]
totals[("known", "")] = n
import time as _t
for d in range(min(n, 400)):      # first_seen = now - (i % 400) days
    day = _t.strftime("%Y-%m-%d", _t.gmtime(now - d * 86400))
    totals[("first_seen", day)] = totals.get(("first_seen", day), 0) + n // 400 + (1 if d < n % 400 else 0)
print("DELETE FROM stat_counts;")
for (d, k), v in sorted(totals.items()):
    print("INSERT INTO stat_counts VALUES (%s, %s, %d);" % (q(d), q(k), v))
# A year of history: active and the major versions, growing.
for day in range(365, 0, -1):
    import time
    date = time.strftime("%Y-%m-%d", time.gmtime(now - day * 86400))
    f = (366 - day) / 365.0
    print("INSERT INTO stats_daily VALUES (%s, 'servers', 'active', %d);" % (q(date), int(n * f)))
    for (d, k), v in totals.items():
        if d == "major":
            print("INSERT INTO stats_daily VALUES (%s, 'major', %s, %d);" % (q(date), q(k), int(v * f)))
print("COMMIT;")
PY
	sqlite3 "$db" <"$WORK/seed-$n.sql" >/dev/null || fail "seeding $n servers failed"
}

# ---- latency ----------------------------------------------------------------------

# latency PORT PATH N [CLOCKFILE]: "p50 p99 max" in ms over N GETs on one
# keep-alive connection; with CLOCKFILE, the clock moves 5 s before each.
latency() {
	"$PY" - "$@" <<'PY'
import http.client, ssl, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
clock = sys.argv[4] if len(sys.argv) > 4 else None
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
import os
ctx.load_verify_locations(cafile=os.environ["CA"])
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
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
    if r.status != 200:
        sys.exit("GET %s: %d %s" % (path, r.status, body[:200]))
    if i > 0:            # the first one opens the connection
        ms.append((b - a) * 1000)
ms.sort()
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print("%.2f %.2f %.2f %d" % (pick(0.5), pick(0.99), ms[-1], len(body)))
PY
}

export CA
ROWS=()
row() { ROWS+=("$(printf '%s\t' "$@")"); }

for n in $SIZES; do
	db=$WORK/seeded-$n.db
	t0=$(date +%s.%N)
	seed "$db" "$n"
	note "seeded $n servers in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s, $(du -h "$db" | cut -f1)"
	sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null

	start "$COLLECTOR" "$db"
	read -r p50 p99 mx size <<<"$(latency "$PORT" /api/v1/stats "$REQUESTS")" || fail "latency"
	row "GET /api/v1/stats, cached" "$n" "$p50" "$p99" "$mx" "$size"
	if curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "https://127.0.0.1:$PORT/" | grep -q 200; then
		read -r p50 p99 mx size <<<"$(latency "$PORT" / "$REQUESTS")" || fail "latency /"
		row "GET /, cached" "$n" "$p50" "$p99" "$mx" "$size"
	else
		row "GET / (not in this build)" "$n" - - - -
	fi
	read -r p50 p99 mx size <<<"$(latency "$PORT" /metrics "$REQUESTS")" || fail "latency /metrics"
	row "GET /metrics, cached" "$n" "$p50" "$p99" "$mx" "$size"
	stop "$PID"

	export BEACON_COLLECTOR_CLOCK_FILE=$WORK/clock
	date -u +%Y-%m-%dT%H:%M:%SZ >"$BEACON_COLLECTOR_CLOCK_FILE"
	start "$CLOCKED" "$db"
	read -r p50 p99 mx size <<<"$(latency "$PORT" /api/v1/stats "$REQUESTS" "$BEACON_COLLECTOR_CLOCK_FILE")" ||
		fail "latency uncached"
	row "GET /api/v1/stats, uncached" "$n" "$p50" "$p99" "$mx" "$size"
	stop "$PID"
	unset BEACON_COLLECTOR_CLOCK_FILE

	ini=$(write_ini "$db" 2)
	ts=()
	for i in 1 2 3 4 5 6 7 8 9 10; do
		a=$(date +%s%N)
		"$COLLECTOR" -c "$ini" --stats --json >/dev/null 2>>"$WORK/collector.log" || fail "--stats --json"
		ts+=($((($(date +%s%N) - a) / 1000)))
	done
	row "--stats --json (process)" "$n" \
		"$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END{printf "%.1f", a[int(NR/2)+1]/1000}')" \
		"$(printf '%s\n' "${ts[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1/1000}')" - -
done

# ---- reports/s: the same load, with and without the statistics ------------------

RATES=()
if [ -x "$LOADGEN" ]; then
	n=10000
	for round in 1 2; do
		for which in base stats; do
			db=$WORK/rate-$which-$round.db
			if [ "$which" = base ]; then
				bin=$BASELINE
				ini=$(write_ini "$db" 3)
				"$bin" -c "$ini" --check-config >/dev/null 2>>"$WORK/collector.log" || fail "base db"
			else
				bin=$COLLECTOR
				seed "$db" "$n"
			fi
			if [ "$which" = base ]; then
				# The same servers without the statistics' columns.
				sqlite3 "$db" >/dev/null <<EOF || fail "base seed"
.bail on
ATTACH '$WORK/seeded-$n.db' AS s;
INSERT INTO servers (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report)
SELECT id, token_id, token_issued, first_seen, last_seen, last_update, reports, report FROM s.servers;
EOF
			fi
			sqlite3 "$db" "SELECT id || ' ' || token_id FROM servers ORDER BY random() LIMIT 1000" \
				>"$WORK/ids-$which" || fail "ids"
			start "$bin" "$db"
			# Warm-up, not measured: each PBX reports once, so that the
			# measured run is the steady state (a server's report rarely
			# changes between two runs; its first one after seeding does).
			"$LOADGEN" --cacert "$CA" --modules "$MODULES" --timeout 30 --max-seconds 300 \
				--workers "${LOADGEN_WORKERS:-$(nproc)}" --url "https://127.0.0.1:$PORT" \
				--seed-ids "$WORK/ids-$which" --concurrency 100 --pbxs 1000 --requests 1000 \
				>/dev/null 2>>"$WORK/loadgen.err" || fail "warm-up ($which): $(cat "$WORK/loadgen.err")"
			cpu0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
			out=$("$LOADGEN" --cacert "$CA" --modules "$MODULES" --timeout 30 --max-seconds 300 \
				--workers "${LOADGEN_WORKERS:-$(nproc)}" --url "https://127.0.0.1:$PORT" \
				--seed-ids "$WORK/ids-$which" --concurrency 100 --pbxs 1000 --seconds "$SECS" \
				2>"$WORK/loadgen.err") || fail "loadgen ($which): $(cat "$WORK/loadgen.err") $out"
			cpu1=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
			stop "$PID"
			rate=$(jq -r '.reports_per_s|floor' <<<"$out")
			# Server CPU per report: the figure that survives a shared,
			# loaded machine better than reports/s.
			cpu=$(jq -r --argjson t "$((cpu1 - cpu0))" --argjson hz "$(getconf CLK_TCK)" \
				'$t / $hz * 1000 / .requests * 1000 | round / 1000' <<<"$out")
			RATES+=("$which round $round: $rate reports/s, server CPU $cpu ms/report, p99 $(jq -r '.latency_ms.p99' <<<"$out") ms, errors $(jq -c .errors <<<"$out")")
			eval "rate_${which}_$round=$rate cpu_${which}_$round=$cpu"
		done
	done
else
	RATES+=("loadgen not built: no reports/s rows")
fi

echo
echo "beacon-collector statistics benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
{
	printf 'what\tservers\tp50 ms\tp99 ms\tmax ms\tbytes\n'
	printf '%s\n' "${ROWS[@]}"
} | column -t -s $'\t'
echo
printf '%s\n' "${RATES[@]}"
if [ -n "${rate_base_1:-}" ] && [ -n "${rate_stats_1:-}" ]; then
	awk -v b1="$rate_base_1" -v b2="$rate_base_2" -v s1="$rate_stats_1" -v s2="$rate_stats_2" \
		'BEGIN { b = (b1 + b2) / 2; s = (s1 + s2) / 2;
		  printf "statistics on: %.0f reports/s against %.0f without (%+.1f %%), 10,000 servers stored, 1,000 reporting, 100 at once\n", s, b, (s - b) / b * 100 }'
	awk -v b1="$cpu_base_1" -v b2="$cpu_base_2" -v s1="$cpu_stats_1" -v s2="$cpu_stats_2" \
		'BEGIN { b = (b1 + b2) / 2; s = (s1 + s2) / 2;
		  printf "server CPU per report: %.3f ms with the statistics, %.3f ms without (%+.1f %%)\n", s, b, (s - b) / b * 100 }'
fi
