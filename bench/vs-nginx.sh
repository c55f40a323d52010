#!/bin/bash
# bench/vs-nginx.sh: beacon-collector against nginx answering the same
# requests with a fixed answer, rows alternated in one run (issue 24).
#
# Both servers get the same TLS (the same P-256 certificate, no session
# tickets or cache: a cron run of beacon-report never resumes) and the same
# client, bench/loadgen.c, which speaks the protocol as beacon-report does:
#   steady  registered PBXs, one PUT of a 326-module report each, a new
#           connection per report
#   new     a new PBX: POST /servers, then its first PUT on the same
#           connection (beacon-report's first run)
# nginx answers the POST 201 and the PUT 200 with fixed bodies of the
# protocol's shape, so the client cannot tell the servers apart.
#
# Rows, each ROUNDS times, nginx and the collector alternately (the order
# swapped every round): steady and new at 50 at once, steady at 1,000 at
# once.  Server CPU is utime+stime from /proc/PID/stat (nginx: the master
# and its workers; the collector: all its threads), read around the
# measured phase only (the PBXs of a steady row are registered before).
# It prints every row, then the sums over the rounds and the ratios to
# nginx with the goals of issue 24.
#
# Environment: LOADGEN (default build/bench/loadgen), COLLECTOR_BIN
# (default build/beacon-collector), BENCH_SECONDS (default 8, per row),
# ROUNDS (default 2), LOADGEN_WORKERS (default nproc), KEEP=1 (keep the
# temp dir), COLLECTOR_ENV (default: the Environment= of
# systemd/beacon-collector.service; "" for none).  Needs nginx (as root it installs nginx-light with apt-get;
# otherwise it refuses), sqlite3, openssl, jq, curl.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$REPO/build/bench/loadgen}
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build/beacon-collector}
SECS=${BENCH_SECONDS:-8}
ROUNDS=${ROUNDS:-2}
MODULES=$REPO/tests/fixtures/22.10.1/module_show.txt

fail() {
	printf 'vs-nginx: FAILED: %s\n' "$*" >&2
	exit 1
}
note() { printf 'vs-nginx: %s\n' "$*" >&2; }

if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ] || [ "$SECS" -gt 120 ]; then
	fail "BENCH_SECONDS must be 1..120"
fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 10 ]; then
	fail "ROUNDS must be 1..10"
fi
[ -x "$LOADGEN" ] || fail "$LOADGEN is missing (make build/bench/loadgen)"
[ -x "$COLLECTOR_BIN" ] || fail "$COLLECTOR_BIN is missing (make build/beacon-collector)"
export PATH="$PATH:/usr/sbin:/sbin"
if ! command -v nginx >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		note "nginx is missing: apt-get install nginx-light"
		DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light >/dev/null ||
			fail "apt-get install nginx-light failed"
	else
		fail "nginx is missing: apt-get install nginx-light (as root), then run this again"
	fi
fi
NGINX=$(command -v nginx)
for t in sqlite3 openssl jq curl; do
	command -v "$t" >/dev/null || fail "$t is missing (apt-get install sqlite3 openssl jq curl)"
done
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
standalone_harness vsnginx
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

make_test_ca "$WORK/ca" || fail "cannot make the CA"
CA=$WORK/ca/ca.pem
WORKERS=${LOADGEN_WORKERS:-$(nproc)}
HZ=$(getconf CLK_TCK)

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_https() {
	local i
	for i in $(seq 100); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -s -o /dev/null --cacert "$CA" --max-time 1 "https://127.0.0.1:$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}

# cpu_ticks PID: utime+stime of PID (all its threads) and of its children
# (nginx's workers), in clock ticks.
cpu_ticks() {
	local p t=0 v
	for p in "$1" $(ps -o pid= --ppid "$1"); do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo "$t"
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	timeout 15 tail --pid="$1" -f /dev/null || { kill -KILL "$1"; fail "$2 did not stop on SIGTERM"; }
}

# ---- the servers -------------------------------------------------------------------

ID=00000000-0000-4000-8000-0000000000a1
TOK=00000000-0000-4000-8000-0000000000b2
ISSUED=2026-12-01T00:00:00Z

start_nginx() {
	local d=$WORK/nginx
	NGINX_PORT=$(free_port)
	mkdir -p "$d/tmp" "$d/logs"
	cp "$WORK/ca/server.pem" "$WORK/ca/server.key" "$d/"
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
		ssl_certificate $d/server.pem;
		ssl_certificate_key $d/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		default_type application/json;
		location = /servers {
			return 201 '{"server":{"id":"$ID"},"token":{"id":"$TOK","issued":"$ISSUED"}}';
		}
		location /servers/ { return 200 '{"id":"$TOK","issued":"$ISSUED"}'; }
		location / { return 200 '{}'; }
	}
}
EOF
	local run=()
	if [ "$(id -u)" = 0 ]; then
		# unprivileged, as a packaged nginx's workers are
		chmod 711 "$WORK"
		chown -R nobody:nogroup "$d"
		run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	fi
	"${run[@]}" "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" >"$d/logs/stdout" 2>&1 &
	NGINX_PID=$!
	MY_PIDS+=("$NGINX_PID")
	wait_https "$NGINX_PORT" "$NGINX_PID" || fail "nginx did not start: $(cat "$d/logs/error.log")"
}

start_collector() {
	COLLECTOR_PORT=$(free_port)
	local ini=$WORK/collector.ini
	cat >"$ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$COLLECTOR_PORT
tls_cert = $WORK/ca/server.pem
tls_key = $WORK/ca/server.key
database = sqlite:$WORK/collector.db
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
		fail "beacon-collector did not start: $(tail -5 "$WORK/collector.log")"
}

start_nginx
# shellcheck disable=SC2119
start_collector

LG=("$LOADGEN" --cacert "$CA" --modules "$MODULES" --timeout 60 --max-seconds 300)
# ids SERVER PORT N: N registered PBXs of that server, in $WORK/SERVER-N.ids.
ids() {
	[ -s "$WORK/$1-$3.ids" ] && return 0
	"${LG[@]}" --url "https://127.0.0.1:$2" --pbxs "$3" --concurrency 50 \
		--save-ids "$WORK/$1-$3.ids" >/dev/null 2>"$WORK/$1-$3.ids.err" ||
		fail "registering $3 PBXs at $1: $(cat "$WORK/$1-$3.ids.err")"
}

# measure SERVER KIND CONC ROUND: one row; prints
# "SERVER KIND CONC ROUND reports ticks reports/s p50 p99 failed".  A
# request that got no answer (the collector closes a connection whose
# handshake and first request took over 10 s) counts in "failed", and its
# time in no percentile: a row with failures says so rather than stopping.
measure() {
	local server=$1 kind=$2 conc=$3 port pid args out t0 t1 rc
	if [ "$server" = nginx ]; then port=$NGINX_PORT pid=$NGINX_PID; else
		port=$COLLECTOR_PORT pid=$COLLECTOR_PID; fi
	if [ "$kind" = steady ]; then
		ids "$server" "$port" "$conc"
		args=(--seed-ids "$WORK/$server-$conc.ids" --pbxs "$conc")
	else
		args=(--new-pbxs --pbxs "$conc")
	fi
	t0=$(cpu_ticks "$pid")
	out=$("${LG[@]}" --url "https://127.0.0.1:$port" --concurrency "$conc" --seconds "$SECS" \
		--workers "$WORKERS" "${args[@]}" 2>"$WORK/last.err")
	rc=$?
	t1=$(cpu_ticks "$pid")
	printf '%s\n' "$out" >>"$WORK/rows.json"
	if [ -z "$out" ] || [ "$(jq -r .aborted <<<"$out")" != false ]; then
		fail "$server $kind $conc: loadgen exit $rc: $(cat "$WORK/last.err") $out"
	fi
	[ "$rc" = 0 ] || note "$server $kind $conc: not every request was answered 2xx: $(jq -c .errors <<<"$out")"
	jq -r --arg s "$server" --arg k "$kind" --arg r "$4" --argjson t "$((t1 - t0))" \
		'[$s, $k, .concurrency, $r, .ok, $t, .reports_per_s, .latency_ms.p50, .latency_ms.p99, .failed] | @tsv' <<<"$out"
}

note "nginx on $NGINX_PORT, beacon-collector on $COLLECTOR_PORT; $ROUNDS rounds of 6 rows, ${SECS} s each"
: >"$WORK/rows.tsv"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order=(nginx collector); else order=(collector nginx); fi
	for row in "steady 50" "new 50" "steady 1000"; do
		for s in "${order[@]}"; do
			# shellcheck disable=SC2086
			line=$(measure "$s" $row "$r") || exit 1
			note "$line"
			printf '%s\n' "$line" >>"$WORK/rows.tsv"
		done
	done
done

# ---- the table ---------------------------------------------------------------------

echo
echo "beacon-collector against nginx, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg), ${SECS} s per row, $ROUNDS rounds, loadgen in $WORKERS processes," \
	"$(nginx -v 2>&1 | sed 's/.*: //'), report of $(jq -s '.[0].body_bytes' "$WORK/rows.json") bytes"
{
	printf 'server\tkind\tat once\tround\treports\tCPU ticks\treports/s\tp50 ms\tp99 ms\tfailed\n'
	awk -F'\t' -v OFS='\t' '{ $7 = sprintf("%.0f", $7); $8 = sprintf("%.1f", $8); $9 = sprintf("%.1f", $9); print }' "$WORK/rows.tsv"
} | column -t -s $'\t'
echo
# Sums over the rounds: CPU per report = all ticks / all reports; reports/s
# and p99 = the mean of the rounds.
awk -F'\t' -v hz="$HZ" '
	{ k = $1 " " $2 " " $3; rep[k] += $5; tick[k] += $6; rps[k] += $7; p99[k] += $9; bad[k] += $10; n[k]++ }
	function cpu(s, kind, c) { k = s " " kind " " c; return rep[k] ? tick[k] * 1000 / hz / rep[k] : 0 }
	function mean(a, s, kind, c) { k = s " " kind " " c; return n[k] ? a[k] / n[k] : 0 }
	function ratio(a, b) { return b > 0 ? a / b : 0 }
	END {
		printf "%-44s %10s %10s %8s  %s\n", "figure", "collector", "nginx", "ratio", "goal"
		c1 = cpu("collector", "steady", 50); n1 = cpu("nginx", "steady", 50)
		printf "%-44s %10.2f %10.2f %7.2fx  <= 2x\n", "server CPU ms per report, steady (50 at once)", c1, n1, ratio(c1, n1)
		c2 = cpu("collector", "new", 50); n2 = cpu("nginx", "new", 50)
		printf "%-44s %10.2f %10.2f %7.2fx  <= 3x\n", "server CPU ms per report, new PBX (POST+PUT)", c2, n2, ratio(c2, n2)
		c3 = mean(rps, "collector", "steady", 50); n3 = mean(rps, "nginx", "steady", 50)
		printf "%-44s %10.0f %10.0f %7.0f%%  >= 75%%\n", "reports/s, steady, 50 at once", c3, n3, 100 * ratio(c3, n3)
		c4 = mean(rps, "collector", "new", 50); n4 = mean(rps, "nginx", "new", 50)
		printf "%-44s %10.0f %10.0f %7.0f%%  >= 50%%\n", "reports/s, new PBXs, 50 at once", c4, n4, 100 * ratio(c4, n4)
		c5 = mean(p99, "collector", "steady", 1000); n5 = mean(p99, "nginx", "steady", 1000)
		printf "%-44s %10.0f %10.0f %7.2fx  <= 1.5x\n", "p99 ms, steady, 1,000 at once", c5, n5, ratio(c5, n5)
		c6 = mean(rps, "collector", "steady", 1000); n6 = mean(rps, "nginx", "steady", 1000)
		printf "%-44s %10.0f %10.0f %7.0f%%\n", "reports/s, steady, 1,000 at once", c6, n6, 100 * ratio(c6, n6)
		c7 = cpu("collector", "steady", 1000); n7 = cpu("nginx", "steady", 1000)
		printf "%-44s %10.2f %10.2f %7.2fx\n", "server CPU ms per report, 1,000 at once", c7, n7, ratio(c7, n7)
		printf "%-44s %10d %10d\n", "requests not answered, 1,000 at once", bad["collector steady 1000"], bad["nginx steady 1000"]
	}' "$WORK/rows.tsv"
