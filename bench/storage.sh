#!/usr/bin/env bash
# bench/storage.sh: database bytes per server (issue 24, goal 1: at most
# 4 KB at 100,000 servers), on SQLite and on PostgreSQL, seeded through
# the real collector's API with realistic, varied reports:
#   - SERVERS (100000) PBXs register and report twice (the second report
#     is the latest, the first its "previous");
#   - VERSIONS (12) module sets, one per Asterisk version: the 326
#     modules of tests/fixtures/22.10.1/module_show.txt, each version
#     without a few and with a few of its own; UPGRADE_PCT (10) % of the
#     PBXs change version (and module set) between their two reports;
#   - per PBX: its own private_name, startup and reload times, calls,
#     kernel release (one of 8) and version, machine.
# API_SERVERS (default SERVERS) of them go through the API; the others,
# when fewer, are copies of those rows as the collector wrote them, with
# ids and tokens of their own (SQL): the API runs at tens of servers a
# second on a small machine, and the bytes of a row do not depend on how
# many rows there are.
# Then VACUUM (SQLite) / VACUUM FULL (PostgreSQL) and the bytes: SQLite's
# file (page_count * page_size); PostgreSQL's whole database
# (pg_database_size, which includes ~7.5 MB of empty catalogs) and the
# collector's own tables with their indexes and TOAST.
# Environment: COLLECTOR_BIN (default build/beacon-collector), SERVERS,
# API_SERVERS, VERSIONS, UPGRADE_PCT, CONCURRENCY (16 clients at once),
# KEEP=1.
# Needs python3, sqlite3, openssl, PostgreSQL's binaries (tests/pg.sh).
set -u -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build/beacon-collector}
SERVERS=${SERVERS:-100000}
API_SERVERS=${API_SERVERS:-$SERVERS}
VERSIONS=${VERSIONS:-12}
UPGRADE_PCT=${UPGRADE_PCT:-10}
CONC=${CONCURRENCY:-16}
MODULES=$REPO/tests/fixtures/22.10.1/module_show.txt
PG=$REPO/tests/pg.sh

fail() {
	printf 'bench-storage: FAILED: %s\n' "$*" >&2
	exit 1
}
note() { printf 'bench-storage: %s\n' "$*" >&2; }

for v in "$SERVERS:SERVERS:10:10000000" "$API_SERVERS:API_SERVERS:10:$SERVERS" "$VERSIONS:VERSIONS:1:1000" \
	"$UPGRADE_PCT:UPGRADE_PCT:0:100" "$CONC:CONCURRENCY:1:256"; do
	IFS=: read -r val name lo hi <<<"$v"
	[[ $val =~ ^[0-9]+$ ]] && [ "$val" -ge "$lo" ] && [ "$val" -le "$hi" ] ||
		fail "$name must be a number in $lo..$hi"
done
[ -x "$COLLECTOR_BIN" ] || fail "no collector at $COLLECTOR_BIN (make build/beacon-collector, or set COLLECTOR_BIN)"
for t in python3 sqlite3 openssl; do
	command -v "$t" >/dev/null || fail "$t is missing"
done
"$PG" available || fail "no PostgreSQL (/usr/lib/postgresql/*/bin/initdb)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-storage.XXXXXX")
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

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-addext basicConstraints=critical,CA:TRUE \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_collector DATABASE: one instance; PORT and PID set.
start_collector() {
	local i
	PORT=$(free_port) || fail "no free port"
	cat >"$WORK/c.ini" <<INI
[collector]
user =
listen = 127.0.0.1:$PORT
tls_cert = $WORK/cert.pem
tls_key = $WORK/key.pem
database = $1
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
[privacy]
established_days = 1
INI
	"$COLLECTOR_BIN" -c "$WORK/c.ini" >"$WORK/c.log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	for ((i = 0; i < 600; i++)); do
		grep -q listening "$WORK/c.log" && return 0
		kill -0 "$PID" 2>/dev/null || fail "the collector did not start: $(cat "$WORK/c.log")"
		sleep 0.05
	done
	fail "the collector did not start in 30 s"
}

stop_collector() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
}

# seed: SERVERS PBXs through the API (register, two reports each).
seed() {
	python3 - "$PORT" "$WORK/cert.pem" "$MODULES" "$API_SERVERS" "$VERSIONS" \
		"$UPGRADE_PCT" "$CONC" <<'PY' || fail "seeding through the API"
import http.client, json, random, ssl, sys, threading, time

port, ca, modfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n, nver, upg, conc = (int(x) for x in sys.argv[4:8])
ctx = ssl.create_default_context(cafile=ca)

base = []
for line in open(modfile).read().splitlines()[1:]:
    parts = line.split()
    if len(parts) < 5 or parts[-1] == "loaded":
        continue
    name, status, level = parts[0], parts[-2], parts[-1]
    desc = " ".join(parts[1:-3])
    base.append({"name": name, "description": desc, "status": status, "support_level": level})

rnd = random.Random(24)
versions = []
for v in range(nver):
    mods = [m for m in base if rnd.random() > 0.02]
    mods += [{"name": "res_v%d_%d.so" % (v, k), "description": "Module %d of version %d" % (k, v),
              "status": "Running", "support_level": "extended"} for k in range(3)]
    mods.sort(key=lambda m: m["name"])
    major = [18, 20, 21, 22][v % 4]
    versions.append(("%d.%d.%d" % (major, v, v % 3), "%d%02d%02d" % (major, v, v % 3), mods))
releases = ["6.1.0-%d-amd64" % k for k in range(20, 28)]

def report(sid, i, second):
    r = random.Random(i * 2 + second)
    v = i % nver
    if second and r.random() * 100 < upg:
        v = (v + 1) % nver
    name, number, mods = versions[v]
    return json.dumps({
        "id": sid,
        "private_name": "pbx-%06d.example.net" % i,
        "asterisk": {
            "version": {"name": name, "number": number},
            "modules": mods,
            "stats": {"run_time": {"startup_time": "2026-11-%02dT%02d:%02d:00Z" % (1 + r.randrange(28), r.randrange(24), r.randrange(60)),
                                   "last_reload_time": "2026-11-%02dT10:00:00Z" % (1 + r.randrange(28))},
                      "calls": {"active": r.randrange(50), "processed": r.randrange(10 ** 6)}},
        },
        "operating_system": {"sys_name": "Linux", "release": releases[i % len(releases)],
                             "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.%d-1" % (i % 130),
                             "machine": "x86_64" if i % 5 else "aarch64"},
    }, separators=(",", ":"))

def req(conn, method, path, body=None):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status not in (200, 201):
        raise RuntimeError("%s %s: %d %s" % (method, path, resp.status, data[:200]))
    return json.loads(data)

lock = threading.Lock()
nxt = [0]
failed = []

def worker():
    conn = None
    try:
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                return
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
            reg = req(conn, "POST", "/servers")
            sid, tok = reg["server"]["id"], reg["token"]["id"]
            t = req(conn, "PUT", "/servers/%s?tokenId=%s" % (sid, tok), report(sid, i, 0))
            req(conn, "PUT", "/servers/%s?tokenId=%s" % (sid, t["id"]), report(sid, i, 1))
    except BaseException as e:
        failed.append(repr(e))

t0 = time.time()
ts = [threading.Thread(target=worker) for _ in range(conc)]
for t in ts: t.start()
for t in ts: t.join()
if failed:
    sys.exit("seeding failed: " + failed[0])
print("seeded %d servers (%d reports) in %.0f s" % (n, 2 * n, time.time() - t0), file=sys.stderr)
PY
}

ROWS=()

# ---- SQLite ------------------------------------------------------------------
DB=$WORK/storage.db
start_collector "sqlite:$DB"
note "SQLite: seeding $API_SERVERS servers through the API"
seed
stop_collector
if [ "$API_SERVERS" -lt "$SERVERS" ]; then
	note "SQLite: copying them up to $SERVERS servers"
	cols=$(sqlite3 "$DB" "SELECT group_concat(name, ', ') FROM pragma_table_info('servers')
		WHERE name NOT IN ('id', 'token_id')") || fail "columns"
	uuid="lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
		substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' ||
		hex(randomblob(6)))"
	sqlite3 "$DB" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
		WHERE i < $((SERVERS / API_SERVERS + 1)))
		INSERT INTO servers (id, token_id, $cols) SELECT $uuid, $uuid, $cols
		FROM servers, k LIMIT $((SERVERS - API_SERVERS))" || fail "copying rows"
fi
sqlite3 "$DB" 'VACUUM' || fail "VACUUM"
n=$(sqlite3 "$DB" 'SELECT count(*) FROM servers')
[ "$n" = "$SERVERS" ] || fail "SQLite holds $n servers, not $SERVERS"
bytes=$(sqlite3 "$DB" 'SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()')
sets=$(sqlite3 "$DB" 'SELECT count(*) FROM module_sets')
ROWS+=("$(printf 'sqlite\tfile\t%s\t%s\t%s\t%s' "$n" "$sets" "$bytes" "$((bytes / n))")")

# ---- PostgreSQL --------------------------------------------------------------
note "PostgreSQL cluster (durable defaults)"
PG_DIR=$("$PG" start --durable) || fail "the PostgreSQL cluster did not start"
"$PG" psql "$PG_DIR" -c 'CREATE DATABASE storage' || fail "createdb"
PGURI=$("$PG" uri "$PG_DIR" storage)
PSQL=$("$PG" bin psql)
psql_s() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$PGURI" "$@"; }
start_collector "$PGURI"
note "PostgreSQL: seeding $API_SERVERS servers through the API"
seed
stop_collector
if [ "$API_SERVERS" -lt "$SERVERS" ]; then
	note "PostgreSQL: copying them up to $SERVERS servers"
	cols=$(psql_s -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_name = 'servers'
		AND column_name NOT IN ('id', 'token_id')") || fail "columns"
	psql_s -c "INSERT INTO servers (id, token_id, $cols)
		SELECT gen_random_uuid()::text, gen_random_uuid()::text, $cols
		FROM servers, generate_series(1, $((SERVERS / API_SERVERS + 1)))
		LIMIT $((SERVERS - API_SERVERS))" || fail "copying rows"
fi
psql_s -c 'VACUUM FULL' || fail "VACUUM FULL"
n=$(psql_s -c 'SELECT count(*) FROM servers')
[ "$n" = "$SERVERS" ] || fail "PostgreSQL holds $n servers, not $SERVERS"
sets=$(psql_s -c 'SELECT count(*) FROM module_sets')
bytes=$(psql_s -c 'SELECT pg_database_size(current_database())')
ROWS+=("$(printf 'postgresql\tdatabase\t%s\t%s\t%s\t%s' "$n" "$sets" "$bytes" "$((bytes / n))")")
bytes=$(psql_s -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
	JOIN pg_namespace s ON s.oid = c.relnamespace
	WHERE s.nspname = 'public' AND c.relkind IN ('r', 'm')")
ROWS+=("$(printf 'postgresql\ttables\t%s\t%s\t%s\t%s' "$n" "$sets" "$bytes" "$((bytes / n))")")

printf '\n%s servers (%s through the API), 2 reports each, %s versions (%s %% upgraded between the two), %s CPUs\n' \
	"$SERVERS" "$API_SERVERS" "$VERSIONS" "$UPGRADE_PCT" "$(nproc)"
printf 'database\tmeasured\tservers\tmodule_sets rows\tbytes\tbytes/server (goal <= 4096)\n'
printf '%s\n' "${ROWS[@]}"
