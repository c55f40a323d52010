#!/bin/bash
# bench/collector.sh: beacon-collector under load, next to nginx (the TLS +
# HTTP ceiling of this machine), all on 127.0.0.1 with a throwaway CA.
# Prints one table:
#   - nginx (`return 200 '{}'` to the same PUTs): reports/s, p50, p99 at
#     100 and 1,000 concurrent PBXs
#   - beacon-collector on an empty database, the same two settings (each PBX
#     registers once, not measured, then PUTs its report with its token)
#   - the collector's peak RSS (VmHWM) after the 1,000-PBX run
#   - reports/s with 10,000 and with 1,000,000 servers stored (seeded
#     directly into SQLite; see seed_servers below)
# Every request is a new TCP+TLS connection (bench/loadgen.c).
#
# Environment: LOADGEN (default build/bench/loadgen), COLLECTOR_BIN (default
# build/beacon-collector), BENCH_SECONDS (default 10, per setting), ONLY
# (all | nginx: the nginx rows alone, said so in the table), KEEP=1 (keep
# the temp dir and its logs), LOADGEN_WORKERS (client processes, default
# nproc).  `make bench-collector` builds both and runs this.  Needs nginx
# (nginx-light), sqlite3, openssl, jq.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$REPO/build/bench/loadgen}
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build/beacon-collector}
SECS=${BENCH_SECONDS:-10}
ONLY=${ONLY:-all}
MODULES=$REPO/tests/fixtures/22.10.1/module_show.txt
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

fail() {
	printf 'bench-collector: FAILED: %s\n' "$*" >&2
	exit 1
}
note() { printf 'bench-collector: %s\n' "$*" >&2; }

case $ONLY in all | nginx) ;; *) fail "ONLY must be all or nginx, not '$ONLY'" ;; esac
if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ] || [ "$SECS" -gt 120 ]; then
	fail "BENCH_SECONDS must be 1..120"
fi
[ -x "$LOADGEN" ] || fail "$LOADGEN is missing (make build/bench/loadgen)"
[ -x "$NGINX" ] || fail "nginx is missing (apt-get install nginx-light)"
for t in sqlite3 openssl jq; do
	command -v "$t" >/dev/null || fail "$t is missing (apt-get install sqlite3 openssl jq)"
done
if [ "$ONLY" = all ] && [ ! -x "$COLLECTOR_BIN" ]; then
	fail "the collector binary $COLLECTOR_BIN is missing: build it (make build/beacon-collector)," \
		"set COLLECTOR_BIN, or run ONLY=nginx for the nginx rows alone"
fi
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null ||
	fail "1,000 connections need 'ulimit -n' >= 4096 (it is $(ulimit -n))"

# The collector runs with the environment its systemd unit gives it (the
# malloc tunable of issue 24); COLLECTOR_ENV="" runs it without.
if [ -n "${COLLECTOR_ENV+set}" ]; then
	read -r -a UNIT_ENV <<<"$COLLECTOR_ENV"
else
	read -r -a UNIT_ENV <<<"$(sed -n 's/^Environment=//p' "$REPO/systemd/beacon-collector.service")"
fi
# shellcheck source=tests/standalone.bash
. "$REPO/tests/standalone.bash"
standalone_harness cbench
export PATH="$PATH:/usr/sbin:/sbin"
MY_PIDS=()
bench_cleanup() {
	local p
	for p in "${MY_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${MY_PIDS[@]}"; do
		timeout 15 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	standalone_cleanup
}
trap bench_cleanup EXIT

TEST_CA="$WORK/ca"
make_test_ca "$TEST_CA" || fail "cannot make the CA"
CA=$TEST_CA/ca.pem

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_https PORT PID: until something answers TLS on the port (10 s).
wait_https() {
	local i
	for i in $(seq 100); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -s -o /dev/null --cacert "$CA" --max-time 1 "https://127.0.0.1:$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}

WORKERS=${LOADGEN_WORKERS:-$(nproc)}
HZ=$(getconf CLK_TCK)
# server_cpu PID: CPU seconds (user+system) of PID and its children so far
# (nginx's workers), in clock ticks.
server_cpu() {
	local p t=0 v
	for p in "$1" $(ps -o pid= --ppid "$1"); do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo "$t"
}

ROWS=()
# row LABEL JSON SERVER_CPU_TICKS: one line of the table from a loadgen result.
row() {
	ROWS+=("$(jq -r --arg l "$1" --argjson cpu "$3" --argjson hz "$HZ" '[$l, .concurrency, .pbxs, .requests,
		(.reports_per_s|floor), (.latency_ms.p50*10|round/10), (.latency_ms.p99*10|round/10),
		(.latency_ms.max|round), ($cpu / $hz * 10 | round / 10),
		(if .requests > 0 then ($cpu / $hz * 1000 / (.requests + .registration.requests) * 100 | round / 100) else "-" end),
		(.loadgen_cpu_s*10|round/10),
		(if .errors == {} then "-" else (.errors|tostring) end)]
		| @tsv' <<<"$2")")
}

# lg LABEL SERVER_PID ARGS...: run the load generator; its JSON line goes
# to $WORK/LABEL.json and into the table, with the server's CPU time during
# the run (registration included).  A failed run fails the bench.
lg() {
	local label=$1 spid=$2 out cpu0 cpu1
	shift 2
	cpu0=$(server_cpu "$spid")
	out=$("$LOADGEN" --cacert "$CA" --modules "$MODULES" --timeout 30 --max-seconds 300 \
		--workers "$WORKERS" "$@" 2>"$WORK/$label.err")
	local rc=$?
	cpu1=$(server_cpu "$spid")
	printf '%s\n' "$out" >"$WORK/$label.json"
	note "$label: $out"
	[ -n "$out" ] || fail "$label: loadgen printed nothing: $(cat "$WORK/$label.err")"
	row "$label" "$out" "$((cpu1 - cpu0))"
	[ "$rc" = 0 ] || fail "$label: loadgen exit $rc, not every request was answered 2xx:" \
		"$(cat "$WORK/$label.err") $out"
}

# ---- nginx: the ceiling ---------------------------------------------------------

start_nginx() {
	local d=$WORK/nginx
	NGINX_PORT=$(free_port)
	mkdir -p "$d/tmp" "$d/logs"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	client_max_body_size 1m;
	client_body_buffer_size 64k;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl backlog=4096;
		ssl_certificate $TEST_CA/server.pem;
		ssl_certificate_key $TEST_CA/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		default_type application/json;
		location / { return 200 '{}'; }
	}
}
EOF
	# Unprivileged: as root, nginx runs as nobody with its own copy of the
	# certificate (the temp dir is otherwise root's alone).
	local run=()
	if [ "$(id -u)" = 0 ]; then
		chmod 711 "$WORK"
		chown -R nobody:nogroup "$d"
		install -o nobody -g nogroup -m 600 "$TEST_CA/server.key" "$d/server.key"
		install -o nobody -g nogroup -m 644 "$TEST_CA/server.pem" "$d/server.pem"
		sed -i "s|$TEST_CA/server|$d/server|" "$d/nginx.conf"
		run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	fi
	"${run[@]}" "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" >"$d/logs/stdout" 2>&1 &
	NGINX_PID=$!
	MY_PIDS+=("$NGINX_PID")
	wait_https "$NGINX_PORT" "$NGINX_PID" || fail "nginx did not start: $(cat "$d/logs/error.log")"
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	timeout 15 tail --pid="$1" -f /dev/null || { kill -KILL "$1"; fail "$2 did not stop on SIGTERM"; }
}

start_nginx
for c in 100 1000; do
	lg "nginx-$c" "$NGINX_PID" --url "https://127.0.0.1:$NGINX_PORT" --fixed-path /servers/X \
		--concurrency "$c" --pbxs "$c" --seconds "$SECS"
done
stop_pid "$NGINX_PID" nginx

# ---- beacon-collector -------------------------------------------------------------

# start_collector_on DB: beacon-collector with no limits, on $DB; sets
# COLLECTOR_PID and COLLECTOR_PORT.
start_collector_on() {
	COLLECTOR_PORT=$(free_port)
	local ini=$WORK/collector-$COLLECTOR_PORT.ini
	cat >"$ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$COLLECTOR_PORT
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = sqlite:$1
max_connections = 2048
max_connections_per_address = 0

[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
EOF
	env "${UNIT_ENV[@]}" "$COLLECTOR_BIN" -c "$ini" >>"$WORK/collector.log" 2>&1 &
	COLLECTOR_PID=$!
	MY_PIDS+=("$COLLECTOR_PID")
	wait_https "$COLLECTOR_PORT" "$COLLECTOR_PID" ||
		fail "beacon-collector did not start on $1: $(tail -5 "$WORK/collector.log")"
}

vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# seed_servers DB COUNT: COUNT servers straight into the table `servers`,
# in one transaction, each with a token issued now (valid for 48 h, more
# than 24 h left, so the collector keeps it), first/last seen a day ago,
# one report.  THE LEAD ADJUSTS THIS to the collector's final schema
# (printed by the bench as $WORK/schema.sql): the columns, the time format
# (here epoch seconds) and the report.  The stored report is small (the
# version and the system, no modules): 1,000,000 reports of 40 KB would
# be 40 GB.  The lookup and update of one row is what this measures.
seed_servers() {
	local db=$1 n=$2 now
	now=$(date +%s)
	sqlite3 "$db" >/dev/null <<EOF || return 1
.bail on
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n),
u(a, b) AS (SELECT lower(hex(randomblob(16))), lower(hex(randomblob(16))) FROM n)
INSERT INTO servers (id, token_id, token_issued, prev_token_id, prev_token_issued,
	first_seen, last_seen, last_update, reports, report, previous_report)
SELECT
	substr(a,1,8)||'-'||substr(a,9,4)||'-4'||substr(a,14,3)||'-'||
	substr('89ab', 1 + (abs(random()) % 4), 1)||substr(a,18,3)||'-'||substr(a,21,12),
	substr(b,1,8)||'-'||substr(b,9,4)||'-4'||substr(b,14,3)||'-'||
	substr('89ab', 1 + (abs(random()) % 4), 1)||substr(b,18,3)||'-'||substr(b,21,12),
	$now, NULL, NULL, $now - 86400, $now - 86400, $now - 86400, 1,
	'{"id":"seeded","asterisk":{"version":{"name":"Asterisk 22.10.1","number":"22.10.1"}},"operating_system":{"sys_name":"Linux","release":"6.1.0-28-amd64","machine":"x86_64"}}',
	NULL
FROM u;
COMMIT;
EOF
}

# The columns seed_servers writes; the bench stops, saying so, when the
# collector's table lacks one.
SEED_COLUMNS="id token_id token_issued prev_token_id prev_token_issued first_seen last_seen last_update reports report previous_report"

check_schema() {
	local have c
	have=$(sqlite3 "$1" "SELECT name FROM pragma_table_info('servers')") ||
		fail "cannot read the schema of $1"
	[ -n "$have" ] || fail "the collector's database has no table 'servers'; adjust seed_servers in" \
		"bench/collector.sh to the schema in $WORK/schema.sql: $(cat "$WORK/schema.sql")"
	for c in $SEED_COLUMNS; do
		grep -qx "$c" <<<"$have" || fail "table servers has no column '$c' (it has: ${have//$'\n'/ });" \
			"adjust seed_servers and SEED_COLUMNS in bench/collector.sh"
	done
}

RSS=()
if [ "$ONLY" = all ]; then
	start_collector_on "$WORK/empty.db"
	lg "collector-100" "$COLLECTOR_PID" --url "https://127.0.0.1:$COLLECTOR_PORT" --concurrency 100 --pbxs 100 --seconds "$SECS"
	RSS+=("after 100 PBXs: VmHWM $(vm "$COLLECTOR_PID" VmHWM) kB, VmRSS $(vm "$COLLECTOR_PID" VmRSS) kB")
	lg "collector-1000" "$COLLECTOR_PID" --url "https://127.0.0.1:$COLLECTOR_PORT" --concurrency 1000 --pbxs 1000 --seconds "$SECS"
	RSS+=("after 1,000 PBXs (peak at 1,000 open connections): VmHWM $(vm "$COLLECTOR_PID" VmHWM) kB, VmRSS $(vm "$COLLECTOR_PID" VmRSS) kB")
	stop_pid "$COLLECTOR_PID" beacon-collector

	# A database the collector made itself, for its schema.
	start_collector_on "$WORK/schema.db"
	stop_pid "$COLLECTOR_PID" beacon-collector
	sqlite3 "$WORK/schema.db" .schema >"$WORK/schema.sql" || fail "cannot read the schema"
	check_schema "$WORK/schema.db"
	for n in 10000 1000000; do
		db=$WORK/seeded-$n.db
		sqlite3 "$WORK/schema.db" ".backup '$db'" || fail "cannot copy the schema database"
		t0=$(date +%s.%N)
		seed_servers "$db" "$n" || fail "seeding $n servers failed; adjust seed_servers in bench/collector.sh"
		got=$(sqlite3 "$db" 'SELECT count(*) FROM servers')
		[ "$got" = "$n" ] || fail "seeded $got servers, not $n"
		note "seeded $n servers in $(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN{printf \"%.1f\", b-a}") s, $(du -h "$db" | cut -f1)"
		sqlite3 "$db" "SELECT id || ' ' || token_id FROM servers ORDER BY random() LIMIT 1000" \
			>"$WORK/seed-$n.ids" || fail "cannot read the seeded ids"
		start_collector_on "$db"
		lg "seeded-$n" "$COLLECTOR_PID" --url "https://127.0.0.1:$COLLECTOR_PORT" --seed-ids "$WORK/seed-$n.ids" \
			--concurrency 100 --pbxs 1000 --seconds "$SECS"
		stop_pid "$COLLECTOR_PID" beacon-collector
	done
fi

# ---- the table --------------------------------------------------------------------

echo
echo "beacon-collector benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, ${SECS} s per row," \
	"a new TLS connection per request, loadgen in $WORKERS processes, report of $(jq .body_bytes "$WORK/nginx-100.json") bytes"
{
	printf 'target\tconc\tPBXs\trequests\treports/s\tp50 ms\tp99 ms\tmax ms\tserver CPU s\tserver CPU ms/req\tloadgen CPU s\terrors\n'
	printf '%s\n' "${ROWS[@]}"
} | column -t -s $'\t'
if [ "$ONLY" = all ]; then
	echo
	printf 'collector RSS %s\n' "${RSS[@]}"
	echo "seeded-N: N servers stored (SQLite), 1,000 of them reporting, 100 at once"
else
	echo
	echo "collector: NOT RUN (ONLY=nginx)"
fi
