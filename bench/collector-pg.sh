#!/usr/bin/env bash
# bench/collector-pg.sh: reports/s and p99 side by side (issue 14) for
#   - one beacon-collector on SQLite,
#   - one on PostgreSQL,
#   - two on the same PostgreSQL (each given half the PBXs),
# each database seeded with 1,000,000 servers (SEED_SERVERS) by COPY, not
# through the API; 1,000 of them report, CONCURRENCY (1,000) at once, for
# BENCH_SECONDS (10) per setting.  Every request is a new TCP+TLS connection
# (bench/loadgen.c).  PostgreSQL is a throwaway cluster with its durable
# defaults (tests/pg.sh start --durable), on a unix socket.  With two
# instances the p99 shown is the higher of the two load generators' p99s.
#
# Environment: LOADGEN (default build/bench/loadgen, or bench/loadgen),
# COLLECTOR_BIN (default build/beacon-collector), BENCH_SECONDS,
# CONCURRENCY, SEED_SERVERS, KEEP=1 (keep the temp dir and its logs).
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
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 8192 2>/dev/null ||
	fail "$CONC connections need 'ulimit -n' >= 4096 (it is $(ulimit -n))"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-collector-pg.XXXXXX")
PG_DIR=
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
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
listen = 127.0.0.1:$port
tls_cert = $WORK/cert.pem
tls_key = $WORK/key.pem
database = $2
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
EOF
rm -f "$WORK/servers.csv"
[ "$(sqlite3 "$SQLITE_DB" 'SELECT count(*) FROM servers')" = "$SEED" ] || fail "SQLite count"

# The reporting PBXs: CONC seeded servers, and the halves for two instances.
PBXS=$CONC
psql_bench -F ' ' -c "SELECT id, token_id FROM servers ORDER BY random() LIMIT $PBXS" >"$WORK/ids" ||
	fail "picking the reporting servers"
half=$((PBXS / 2))
head -n "$half" "$WORK/ids" >"$WORK/ids.1"
tail -n +"$((half + 1))" "$WORK/ids" >"$WORK/ids.2"

# lg PORT IDS CONC OUT: one load generator run, its JSON in OUT.
lg() {
	"$LOADGEN" --url "https://127.0.0.1:$1" --cacert "$WORK/cert.pem" --modules "$MODULES" \
		--seed-ids "$2" --concurrency "$3" --pbxs "$(wc -l <"$2")" --seconds "$SECS" \
		--timeout 30 --max-seconds 120 >"$4" 2>"$4.err"
	local rc=$?
	[ -s "$4" ] || fail "loadgen printed nothing: $(cat "$4.err")"
	[ "$rc" = 0 ] || note "loadgen exit $rc (not every request answered 2xx): $(cat "$4.err")"
}

ROWS=()
row() { # LABEL INSTANCES JSON...
	local label=$1 n=$2
	shift 2
	ROWS+=("$(jq -rs --arg l "$label" --arg n "$n" '[$l, $n, (map(.requests)|add),
		(map(.reports_per_s)|add|floor), (map(.latency_ms.p99)|max*10|round/10),
		(map(.errors|length)|add)] | @tsv' "$@")")
}

note "one instance on SQLite, $CONC PBXs, ${SECS} s"
start_collector s1 "sqlite:$SQLITE_DB"
lg "$PORT_s1" "$WORK/ids" "$CONC" "$WORK/sqlite.json"
stop_collector "$PID_s1"
row "sqlite" 1 "$WORK/sqlite.json"

note "one instance on PostgreSQL, $CONC PBXs, ${SECS} s"
start_collector p1 "$PGURI"
lg "$PORT_p1" "$WORK/ids" "$CONC" "$WORK/pg1.json"
stop_collector "$PID_p1"
row "postgresql" 1 "$WORK/pg1.json"

note "two instances on PostgreSQL, $half PBXs each, ${SECS} s"
start_collector p2a "$PGURI"
start_collector p2b "$PGURI"
lg "$PORT_p2a" "$WORK/ids.1" "$half" "$WORK/pg2a.json" &
lga=$!
lg "$PORT_p2b" "$WORK/ids.2" "$((CONC - half))" "$WORK/pg2b.json"
wait "$lga"
stop_collector "$PID_p2a"
stop_collector "$PID_p2b"
row "postgresql x2" 2 "$WORK/pg2a.json" "$WORK/pg2b.json"

printf '\n%s servers stored, %s PBXs reporting at once, %s s per setting, %s CPUs\n' \
	"$SEED" "$CONC" "$SECS" "$(nproc)"
printf 'database\tinstances\trequests\treports/s\tp99 ms\terror kinds\n'
printf '%s\n' "${ROWS[@]}"
