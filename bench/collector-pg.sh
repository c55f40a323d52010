#!/usr/bin/env bash
# bench/collector-pg.sh: reports/s and p99 side by side (issue 14) for
#   - one beacon-collector on SQLite,
#   - one on PostgreSQL,
#   - two on the same PostgreSQL (each given half the PBXs),
# each database seeded with 1,000,000 servers (SEED_SERVERS) by COPY, not
# through the API; CONCURRENCY (1,000) of them report at once.  Two
# phases per setting:
#   cold    each of those PBXs sends its first report (a seeded server is
#           not counted yet: its report changes ~330 counters), once;
#   steady  then they report again and again for BENCH_SECONDS (10): the
#           counters change only where a report differs (here: never).
# The two PostgreSQL settings take different PBXs, so that both have a
# cold phase.  Every request is a new TCP+TLS connection
# (bench/loadgen.c).  PostgreSQL is a throwaway cluster with its durable
# defaults (tests/pg.sh start --durable), on a unix socket.  With two
# instances the p99 shown is the higher of the two load generators' p99s.
#
# Environment: LOADGEN (default build/bench/loadgen, or bench/loadgen),
# COLLECTOR_BIN (default build/beacon-collector), BENCH_SECONDS,
# CONCURRENCY, SEED_SERVERS, KEEP=1 (keep the temp dir and its logs),
# INSTANCE_CPU=0.25 (each collector instance in a cgroup of its own with
# that much CPU at most, as if on a host of its own: on a small machine the
# way to see what a second instance adds; needs root and the cgroup cpu
# controller, v1 or v2).
# Needs PostgreSQL's binaries, sqlite3, openssl, jq.
set -u -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$REPO/build/bench/loadgen}
[ -x "$LOADGEN" ] || [ ! -x "$REPO/bench/loadgen" ] || LOADGEN=$REPO/bench/loadgen
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build/beacon-collector}
SECS=${BENCH_SECONDS:-10}
CONC=${CONCURRENCY:-1000}
SEED=${SEED_SERVERS:-1000000}
MODULES=$REPO/tests/fixtures/22.10.1/module_show.txt
PG=$REPO/tests/pg.sh

fail() {
	printf 'bench-collector-pg: FAILED: %s\n' "$*" >&2
	exit 1
}
note() { printf 'bench-collector-pg: %s\n' "$*" >&2; }

for v in "$SECS:BENCH_SECONDS:1:60" "$CONC:CONCURRENCY:2:5000" "$SEED:SEED_SERVERS:1000:10000000"; do
	IFS=: read -r val name lo hi <<<"$v"
	[[ $val =~ ^[0-9]+$ ]] && [ "$val" -ge "$lo" ] && [ "$val" -le "$hi" ] ||
		fail "$name must be a number in $lo..$hi"
done
[ -x "$LOADGEN" ] || fail "no load generator at $LOADGEN (bench/loadgen.c, branch cbench: make build/bench/loadgen once merged)"
[ -x "$COLLECTOR_BIN" ] || fail "no collector at $COLLECTOR_BIN (make build/beacon-collector, or set COLLECTOR_BIN)"
"$PG" available || fail "no PostgreSQL (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"
for t in sqlite3 openssl jq; do
	command -v "$t" >/dev/null || fail "$t is missing (apt-get install sqlite3 openssl jq)"
done
# The cgroup tree for INSTANCE_CPU, and the quota per 100 ms period.
CG_ROOT= CG_QUOTA=
if [ -n "${INSTANCE_CPU:-}" ]; then
	[[ $INSTANCE_CPU =~ ^(0\.[0-9]+|[1-9][0-9]*(\.[0-9]+)?)$ ]] ||
		fail "INSTANCE_CPU must be a number of CPUs, like 0.25"
	CG_QUOTA=$(awk -v c="$INSTANCE_CPU" 'BEGIN { printf "%d", c * 100000 }')
	[ "$CG_QUOTA" -ge 1000 ] || fail "INSTANCE_CPU is under 0.01"
	if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		CG_ROOT=/sys/fs/cgroup
		grep -qw cpu "$CG_ROOT/cgroup.subtree_control" ||
			echo +cpu >"$CG_ROOT/cgroup.subtree_control" ||
			fail "cannot enable the cpu controller in $CG_ROOT"
	elif [ -w /sys/fs/cgroup/cpu ]; then
		CG_ROOT=/sys/fs/cgroup/cpu
	else
		fail "INSTANCE_CPU needs a writable cgroup cpu controller (root)"
	fi
fi
CGROUPS=()

[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 8192 2>/dev/null ||
	fail "$CONC connections need 'ulimit -n' >= 4096 (it is $(ulimit -n))"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-collector-pg.XXXXXX")
PG_DIR=
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${CGROUPS[@]}"; do rmdir "$p" 2>/dev/null; done
	[ -z "$PG_DIR" ] || "$PG" stop "$PG_DIR"
	if [ "${KEEP:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A self-signed certificate for 127.0.0.1 that is its own CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-addext basicConstraints=critical,CA:TRUE \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_collector NAME DATABASE: one instance; sets PORT_NAME and PID_NAME.
start_collector() {
	local name=$1 port i
	port=$(free_port) || fail "no free port"
	cat >"$WORK/$name.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$port
tls_cert = $WORK/cert.pem
tls_key = $WORK/key.pem
database = $2
max_connections = 2048
; every PBX of the bench comes from 127.0.0.1
max_connections_per_address = 0
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
EOF
	: >"$WORK/$name.log"
	"$COLLECTOR_BIN" -c "$WORK/$name.ini" >"$WORK/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 600; i++)); do
		grep -q listening "$WORK/$name.log" && break
		kill -0 "$pid" 2>/dev/null || fail "collector $name did not start: $(cat "$WORK/$name.log")"
		sleep 0.05
	done
	if [ -n "$CG_ROOT" ]; then
		local cg=$CG_ROOT/beacon-bench-$$-${#CGROUPS[@]}
		mkdir "$cg" || fail "cannot make the cgroup $cg"
		CGROUPS+=("$cg")
		if [ -e "$cg/cpu.max" ]; then
			echo "$CG_QUOTA 100000" >"$cg/cpu.max"
		else
			echo 100000 >"$cg/cpu.cfs_period_us" && echo "$CG_QUOTA" >"$cg/cpu.cfs_quota_us"
		fi || fail "cannot set the CPU quota of $cg"
		# cgroup.procs moves every thread of the process.
		echo "$pid" >"$cg/cgroup.procs" || fail "cannot move collector $name into $cg"
	fi
	printf -v "PORT_$name" '%s' "$port"
	printf -v "PID_$name" '%s' "$pid"
}

stop_collector() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---- PostgreSQL, seeded by COPY -------------------------------------------------
note "PostgreSQL cluster (durable defaults)"
PG_DIR=$("$PG" start --durable) || fail "the PostgreSQL cluster did not start"
"$PG" psql "$PG_DIR" -c 'CREATE DATABASE bench' || fail "createdb"
PGURI=$("$PG" uri "$PG_DIR" bench)
PSQL=$("$PG" bin psql)
psql_bench() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$PGURI" "$@"; }

# The collector makes its own schema.
start_collector schema "$PGURI"
stop_collector "$PID_schema"

NOW=$(date +%s)
note "seeding $SEED servers into PostgreSQL by COPY"
t0=$(date +%s.%N)
# Rows made by the server itself (generate_series, gen_random_uuid: v4),
# streamed from one COPY into another; the numbers are ours (checked above).
psql_bench -c "COPY (SELECT gen_random_uuid()::text,
	gen_random_uuid()::text, $NOW::bigint, $NOW - 86400, $NOW - 86400,
	$NOW - 86400, 1::bigint,
	'{\"id\":\"seeded\",\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\",\"number\":\"22.10.1\"}},\"operating_system\":{\"sys_name\":\"Linux\",\"release\":\"6.1.0-28-amd64\",\"machine\":\"x86_64\"}}'
	FROM generate_series(1, $SEED)) TO STDOUT" |
	psql_bench -c "COPY servers (id, token_id, token_issued, first_seen, last_seen,
	last_update, reports, report) FROM STDIN" || fail "seeding PostgreSQL"
# The counters' totals of what was seeded (every seeded server first seen
# the same day; none counted yet), as a registration would have made them.
SEED_DAY=$(date -u -d "@$((NOW - 86400))" +%F)
SEED_COUNTS="UPDATE stat_counts SET n = $SEED WHERE dimension = 'known';
INSERT INTO stat_counts (dimension, key, n) VALUES ('first_seen', '$SEED_DAY', $SEED)
	ON CONFLICT (dimension, key) DO UPDATE SET n = stat_counts.n + excluded.n;"
psql_bench -c "$SEED_COUNTS" || fail "seeding the counters"
psql_bench -c 'VACUUM ANALYZE servers' || fail "vacuum"
[ "$(psql_bench -c 'SELECT count(*) FROM servers')" = "$SEED" ] || fail "seeded count"
note "seeded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

# The same rows into SQLite (the collector makes the schema first).
SQLITE_DB=$WORK/bench.db
start_collector schema2 "sqlite:$SQLITE_DB"
stop_collector "$PID_schema2"
note "copying the same servers into SQLite"
psql_bench -c "COPY (SELECT id, token_id, token_issued, first_seen, last_seen,
	last_update, reports, report FROM servers) TO STDOUT (FORMAT csv)" >"$WORK/servers.csv" ||
	fail "exporting the servers"
sqlite3 "$SQLITE_DB" >/dev/null <<EOF || fail "seeding SQLite"
.bail on
CREATE TEMP TABLE seed (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report);
.import --csv $WORK/servers.csv seed
INSERT INTO servers (id, token_id, token_issued, first_seen, last_seen, last_update, reports, report)
	SELECT id, token_id, CAST(token_issued AS INTEGER), CAST(first_seen AS INTEGER),
	CAST(last_seen AS INTEGER), CAST(last_update AS INTEGER), CAST(reports AS INTEGER), report FROM seed;
$SEED_COUNTS
EOF
rm -f "$WORK/servers.csv"
[ "$(sqlite3 "$SQLITE_DB" 'SELECT count(*) FROM servers')" = "$SEED" ] || fail "SQLite count"

# The reporting PBXs: two sets of CONC seeded servers (SQLite and one
# PostgreSQL instance take the first, two instances the second, in halves).
PBXS=$CONC
psql_bench -F ' ' -c "SELECT id, token_id FROM servers ORDER BY random() LIMIT $((2 * PBXS))" >"$WORK/all-ids" ||
	fail "picking the reporting servers"
head -n "$PBXS" "$WORK/all-ids" >"$WORK/ids"
tail -n +"$((PBXS + 1))" "$WORK/all-ids" >"$WORK/ids.b"
half=$((PBXS / 2))
head -n "$half" "$WORK/ids.b" >"$WORK/ids.1"
tail -n +"$((half + 1))" "$WORK/ids.b" >"$WORK/ids.2"

# lg PORT IDS CONC OUT cold|steady: one load generator run, its JSON in OUT:
# one report per PBX (cold), or as many as BENCH_SECONDS allow (steady).
lg() {
	local run=(--seconds "$SECS")
	[ "$5" = cold ] && run=(--requests "$(wc -l <"$2")")
	"$LOADGEN" --url "https://127.0.0.1:$1" --cacert "$WORK/cert.pem" --modules "$MODULES" \
		--seed-ids "$2" --concurrency "$3" --pbxs "$(wc -l <"$2")" "${run[@]}" \
		--timeout 60 --max-seconds 180 >"$4" 2>"$4.err"
	local rc=$?
	[ -s "$4" ] || fail "loadgen printed nothing: $(cat "$4.err")"
	[ "$rc" = 0 ] || note "loadgen exit $rc (not every request answered 2xx): $(cat "$4.err")"
}

# cpu_ticks PID...: their user + system time so far, in clock ticks.
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that
		# ends the command name (which may hold spaces).
		f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
# The PostgreSQL cluster's time: the postmaster's own and that of its
# children, living (their own) and exited (in its cutime + cstime).
pg_ticks() {
	local pm f
	pm=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
	f=$(sed 's/.*) //' "/proc/$pm/stat") || { echo 0; return; }
	set -- $f
	echo $((${14} + ${15} + $(cpu_ticks "$pm" $(pgrep -P "$pm"))))
}
HZ=$(getconf CLK_TCK)

ROWS=()
row() { # LABEL INSTANCES PHASE COLLECTOR_TICKS PG_TICKS JSON...
	local label=$1 n=$2 phase=$3 ct=$4 pt=$5
	shift 5
	ROWS+=("$(jq -rs --arg l "$label" --arg n "$n" --arg p "$phase" \
		--argjson ct "$ct" --argjson pt "$pt" --argjson hz "$HZ" '
		(map(.requests)|add) as $r |
		[$l, $n, $p, $r, (map(.reports_per_s)|add|floor),
		(map(.latency_ms.p99)|max*10|round/10),
		($ct * 1000 / $hz / $r * 100 | round / 100),
		($pt * 1000 / $hz / $r * 100 | round / 100),
		((map(.loadgen_cpu_s)|add) * 1000 / $r * 100 | round / 100),
		(map(.errors|length)|add)] | @tsv' "$@")")
}

# setting LABEL INSTANCES DATABASE IDS...: start the instances (one per ids
# file), run both phases on each at once, stop them.
setting() {
	local label=$1 n=$2 db=$3 phase i pids=() jsons
	shift 3
	for ((i = 1; i <= n; i++)); do start_collector "i$i" "$db"; done
	for phase in cold steady; do
		note "$label: $phase, $CONC PBXs on $n instance(s)"
		jsons=() pids=()
		local cpids=() p0 c0 p1 c1
		for ((i = 1; i <= n; i++)); do
			local pid_var="PID_i$i"
			cpids+=("${!pid_var}")
		done
		c0=$(cpu_ticks "${cpids[@]}") p0=$(pg_ticks)
		for ((i = 1; i <= n; i++)); do
			local port_var="PORT_i$i" ids=${!i}
			lg "${!port_var}" "$ids" "$(wc -l <"$ids")" "$WORK/$label.$phase.$i.json" "$phase" &
			pids+=($!)
			jsons+=("$WORK/$label.$phase.$i.json")
		done
		wait "${pids[@]}"
		c1=$(cpu_ticks "${cpids[@]}") p1=$(pg_ticks)
		row "$label" "$n" "$phase" $((c1 - c0)) $((p1 - p0)) "${jsons[@]}"
	done
	for ((i = 1; i <= n; i++)); do
		local pid_var="PID_i$i"
		stop_collector "${!pid_var}"
	done
}

setting sqlite 1 "sqlite:$SQLITE_DB" "$WORK/ids"
setting postgresql 1 "$PGURI" "$WORK/ids"
setting "postgresql x2" 2 "$PGURI" "$WORK/ids.1" "$WORK/ids.2"

# Whatever the phases did, the counters still add up: the servers counted
# are the reporting PBXs of both PostgreSQL settings (folded at each stop).
counted=$(psql_bench -c "SELECT count(*) FROM servers WHERE counted = 1")
active=$(psql_bench -c "SELECT n FROM stat_counts WHERE dimension = 'servers' AND key = 'active'")
[ "$counted" = "$active" ] || fail "PostgreSQL: $counted servers counted, the counter says $active"

printf '\n%s servers stored, %s PBXs reporting at once, steady %s s per setting, %s CPUs%s\n' \
	"$SEED" "$CONC" "$SECS" "$(nproc)" "${INSTANCE_CPU:+, at most $INSTANCE_CPU CPU per collector instance}"
printf 'database\tinstances\tphase\trequests\treports/s\tp99 ms\tCPU ms/report: collector\tpostgres\tloadgen\terror kinds\n'
printf '%s\n' "${ROWS[@]}"
