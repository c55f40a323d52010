# Helpers for the beacon-collector bats files (COLLECTOR.md), loaded after
# helpers:
#
#     load helpers
#     load collector_helpers
#
# start_beacon_collector runs the real binary ($COLLECTOR_BIN, default
# build-test/beacon-collector, a TEST_CLOCK=1 build) with its own INI,
# database and clock file in $BATS_TEST_TMPDIR, on a free port (bind-checked
# with python3, so files run in parallel cannot collide; a fixed port, such
# as the reporter's built-in $TEST_BEACON_PORT, is taken under the
# harness's port lock).  It is recorded like the python collectors, so
# harness_teardown (stop_collectors) stops it.

# The database: collector_test_database (collector_db.bash), a fresh SQLite
# file, or a fresh database on the suite's PostgreSQL cluster in its
# PostgreSQL pass (COLLECTOR_TEST_DATABASE).
load collector_db

COLLECTOR_BIN="${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}"
[[ $COLLECTOR_BIN == /* ]] || COLLECTOR_BIN="$REPO/$COLLECTOR_BIN"
export COLLECTOR_BIN

# ---- the collector's clock --------------------------------------------------

# set_collector_clock TIME: the collector's time from now on (RFC 3339 UTC,
# or anything `date -d` reads).  Read again at every request.
set_collector_clock() {
	local t
	t=$(date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ) || return 1
	printf '%s\n' "$t" >"$BATS_TEST_TMPDIR/collector.clock.tmp" &&
		mv -f "$BATS_TEST_TMPDIR/collector.clock.tmp" "$BEACON_COLLECTOR_CLOCK_FILE"
}

# collector_clock_at SECONDS: the collector's clock set to its start time
# (CLOCK0, fixed per test) plus SECONDS; prints the time set.
collector_clock_at() {
	local t
	t=$(date -u -d "@$((CLOCK0 + $1))" +%Y-%m-%dT%H:%M:%SZ)
	set_collector_clock "$t" && printf '%s\n' "$t"
}

# ---- starting and stopping ----------------------------------------------------

# free_port: a port nobody listens on now (the kernel's choice).
free_port() {
	"$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# write_collector_ini FILE [SECTION.KEY=VALUE...]: the collector's INI with
# the test defaults, each override replacing (or adding) one key; a value of
# "-" removes the key.
write_collector_ini() {
	local file=$1
	shift
	"$PY" - "$file" "$@" <<PY
import sys
file, overrides = sys.argv[1], sys.argv[2:]
conf = {
    "collector": {
        "listen": "127.0.0.1:$BC_PORT",
        "tls_cert": "$BC_CERT",
        "tls_key": "$BC_KEY",
        "database": "${BC_DATABASE:-sqlite:$BATS_TEST_TMPDIR/c.db}",
        "request_timeout": "5",
        "lifecycle": "${BC_LIFECYCLE:-$BATS_TEST_DIRNAME/../../conf/asterisk-lifecycle.ini}",
        # run as root, stay root: a beacon-collector user may exist (the
        # package check makes one) and cannot reach the test's files
        "user": "",
    },
    "limits": {
        "registrations_per_address_per_hour": "20",
        "requests_per_address_per_minute": "120",
        "min_update_interval": "30",
    },
    "privacy": {},
}
for o in overrides:
    key, _, value = o.partition("=")
    sec, _, name = key.strip().partition(".")
    if not name or sec not in conf:
        sys.exit("write_collector_ini: %r is not SECTION.KEY=VALUE" % o)
    if value.strip() == "-":
        conf[sec].pop(name.strip(), None)
    else:
        conf[sec][name.strip()] = value.strip()
with open(file, "w") as f:
    for sec, kv in conf.items():
        f.write("[%s]\n" % sec)
        for k, v in kv.items():
            f.write("%s = %s\n" % (k, v))
        f.write("\n")
PY
}

# start_beacon_collector [SECTION.KEY=VALUE...]: write $BC_INI (see
# write_collector_ini), start the collector, wait (at most 5 s) until
# GET /healthz answers 200.  Exports BC_PORT, BC_URL, BC_PID, BC_INI, BC_LOG
# (stderr, appended across restarts), BC_DATABASE (the INI's database,
# from collector_test_database unless set before the first call: a test
# about SQLite itself sets sqlite:PATH) and BC_DB (its file on SQLite,
# empty on PostgreSQL).  Called again in the same test (a restart) it keeps
# the port, the database and the log.  BC_PORT set before the first call
# fixes the port (taken under the harness's lock).
start_beacon_collector() {
	local tries pid i
	export BC_INI="$BATS_TEST_TMPDIR/collector.ini"
	export BC_LOG="$BATS_TEST_TMPDIR/collector.log"
	if [ -z "${BC_DATABASE:-}" ]; then
		BC_DATABASE=$(collector_test_database) || {
			flunk "collector_helpers: no test database"
			return 1
		}
	fi
	export BC_DATABASE
	case $BC_DATABASE in
	sqlite:*) export BC_DB=${BC_DATABASE#sqlite:} ;;
	*) export BC_DB= ;;
	esac
	export BC_CERT="${BC_CERT:-$TEST_CA/server.pem}" BC_KEY="${BC_KEY:-$TEST_CA/server.key}"
	if [ -z "${BEACON_COLLECTOR_CLOCK_FILE:-}" ]; then
		export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/collector.clock"
		CLOCK0=$(date -u +%s)
		collector_clock_at 0 >/dev/null
	fi
	if [ ! -x "$COLLECTOR_BIN" ]; then
		flunk "collector_helpers: COLLECTOR_BIN $COLLECTOR_BIN is not an executable (make test-binaries)"
		return 1
	fi
	local fixed=${BC_PORT:+1}
	[ -n "$fixed" ] && [ -z "${BC_PORT_CHOSEN:-}" ] && { _lock_port "$BC_PORT" || return 1; }
	for ((tries = 0; tries < 3; tries++)); do
		[ -n "${BC_PORT:-}" ] || BC_PORT=$(free_port)
		export BC_PORT BC_PORT_CHOSEN=1
		export BC_URL="https://127.0.0.1:$BC_PORT"
		write_collector_ini "$BC_INI" "$@" || return 1
		echo "--- start $(date -u +%T)" >>"$BC_LOG"
		"$COLLECTOR_BIN" -c "$BC_INI" </dev/null >>"$BC_LOG" 2>&1 3>&- &
		pid=$!
		_record_pid "$pid" "collector:bc"
		export BC_PID=$pid
		# At most 100 tries and 10 s by the clock: on a loaded machine
		# (load 15 in a chroot run) 100 tries alone took over 20 s.
		local deadline=$((SECONDS + 10))
		for ((i = 0; i < 100 && SECONDS < deadline; i++)); do
			if [ "$(curl -s --max-time 2 --cacert "$TEST_CA/ca.pem" "$BC_URL/healthz")" = ok ]; then
				return 0
			fi
			_bc_alive "$pid" || break
			sleep 0.05
		done
		# Alive but not ready (a CA the client refuses, a hang): stop it,
		# TERM then KILL, so that the wait below is bounded.
		_bc_stop_bounded "$pid"
		_bc_forget "$pid"
		wait "$pid" 2>/dev/null
		# Someone took the port between free_port and bind: another one.
		if [ -z "$fixed" ] && tail -n 3 "$BC_LOG" | grep -q 'Address already in use'; then
			BC_PORT=
			continue
		fi
		break
	done
	flunk "collector_helpers: beacon-collector did not answer /healthz; its log:" "$(tail -n 20 "$BC_LOG")"
}

# _bc_stop_bounded PID: SIGTERM, at most 3 s, then SIGKILL; afterwards
# `wait PID` returns at once.
_bc_stop_bounded() {
	local i
	_bc_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		_bc_alive "$1" || return 0
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		_bc_alive "$1" || return 0
		sleep 0.05
	done
}

# _bc_alive PID: running (a zombie does not count).
_bc_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# _bc_forget PID: teardown need not stop it any more.
_bc_forget() {
	[ -f "${HARNESS_PIDS:-}" ] || return 0
	awk -v p="$1" '$1 != p' "$HARNESS_PIDS" >"$HARNESS_PIDS.tmp" && mv -f "$HARNESS_PIDS.tmp" "$HARNESS_PIDS"
}

# wait_collector_exit [SECONDS]: wait (default 12 s) for $BC_PID to exit;
# sets BC_EXIT to its status (or fails when it did not exit).
wait_collector_exit() {
	local i n=$((${1:-12} * 20))
	for ((i = 0; i < n; i++)); do
		_bc_alive "$BC_PID" || break
		sleep 0.05
	done
	if _bc_alive "$BC_PID"; then
		flunk "beacon-collector (pid $BC_PID) did not exit within ${1:-12} s"
		return 1
	fi
	BC_EXIT=0
	wait "$BC_PID" 2>/dev/null || BC_EXIT=$?
	_bc_forget "$BC_PID"
}

# stop_beacon_collector: SIGTERM, wait; BC_EXIT is its exit status.
stop_beacon_collector() {
	kill -TERM "$BC_PID" 2>/dev/null
	wait_collector_exit 12
}

# kill9_beacon_collector: SIGKILL, as a power cut would.
kill9_beacon_collector() {
	kill -KILL "$BC_PID" 2>/dev/null
	wait_collector_exit 5
}

# run_collector ARGS...: the collector binary in the foreground (bats run,
# stderr separate), with the test's clock file.
run_collector() {
	run --separate-stderr "$COLLECTOR_BIN" "$@"
}

# ---- talking to it ---------------------------------------------------------------

# api METHOD PATH [BODY] [CURL ARGS...]: one request to $BC_URL.  BODY is
# curl's --data-binary (so @FILE reads a file).  Content-Type is
# application/json unless API_CT is set (API_CT= sends none).  Sets
# API_STATUS (000 when there was no HTTP answer), API_BODY and
# API_HEADERS (a file); api_header NAME reads one header.
api() {
	local method=$1 path=$2 args=()
	shift 2
	if [ "$#" -gt 0 ] && [[ $1 != -* ]]; then
		args+=(--data-binary "$1")
		shift
	fi
	if [ -n "${API_CT+set}" ]; then
		args+=(-H "Content-Type: $API_CT")
		[ -n "$API_CT" ] || args+=(-H "Content-Type:")
	else
		args+=(-H "Content-Type: application/json")
	fi
	API_HEADERS="$BATS_TEST_TMPDIR/api.headers"
	: >"$API_HEADERS"
	API_STATUS=$(curl -s --max-time "${API_TIMEOUT:-10}" --cacert "$TEST_CA/ca.pem" \
		-X "$method" "${args[@]}" "$@" -D "$API_HEADERS" \
		-o "$BATS_TEST_TMPDIR/api.body" -w '%{http_code}' "$BC_URL$path")
	API_BODY=$(cat "$BATS_TEST_TMPDIR/api.body" 2>/dev/null)
	return 0
}

# api_header NAME: the value of header NAME of the last answer (the last
# one when several), without the line end; fails when absent.
api_header() {
	tr -d '\r' <"$API_HEADERS" | awk -v n="$1" '
		BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); found = 1 } }
		END { if (found) print v; exit !found }'
}

# assert_api STATUS: the last answer's status.
assert_api() {
	[ "$API_STATUS" = "$1" ] && return 0
	flunk "expected HTTP $1, got $API_STATUS; headers and body:" "$(cat "$API_HEADERS" 2>/dev/null)" "$API_BODY"
}

# assert_api_json: the last answer is JSON (Content-Type and body).
assert_api_json() {
	local ct
	ct=$(api_header Content-Type) || { flunk "no Content-Type in the answer ($API_STATUS)"; return 1; }
	[[ $ct == application/json* ]] || { flunk "Content-Type: '$ct', want application/json ($API_STATUS $API_BODY)"; return 1; }
	printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null ||
		flunk "the body is not JSON: $API_BODY"
}

# assert_api_error STATUS: that status, JSON, {"error": "<one line>"}
# and nothing else; prints nothing.  API_ERROR holds the message.
assert_api_error() {
	assert_api "$1" || return 1
	assert_api_json || return 1
	API_ERROR=$(printf '%s' "$API_BODY" | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
if not (isinstance(o, dict) and list(o) == ["error"] and isinstance(o["error"], str)
        and o["error"] and "\n" not in o["error"]):
    sys.exit("not {\"error\": \"<one line>\"}: %r" % (o,))
print(o["error"])') || { flunk "error body: $API_BODY"; return 1; }
}

# api_json PATH: a value from the last answer's JSON body (json_get).
api_json() {
	printf '%s' "$API_BODY" | json_get "$1"
}

# register: POST /servers (must be 201); sets SID, TOK, ISSUED.
register() {
	api POST /servers
	assert_api 201 || return 1
	local ids
	ids=$(printf '%s' "$API_BODY" | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
print(o["server"]["id"], o["token"]["id"], o["token"]["issued"])') || {
		flunk "register: not a ServerToken: $API_BODY"
		return 1
	}
	read -r SID TOK ISSUED <<<"$ids"
}

# report_body ID [PYTHON...]: a valid Server body for ID (the model of
# CONTRACT §6 with the fixture's values), on stdout, compact; each PYTHON
# statement may change the dict r first (r["asterisk"]["modules"][3]["name"] = 5).
report_body() {
	"$PY" - "$@" <<'PY'
import json, sys
sid = sys.argv[1]
r = {
    "id": sid,
    "asterisk": {
        "version": {"name": "22.10.1", "number": "221001"},
        "modules": [
            {"name": "res_pjsip.so", "description": "Basic SIP resource",
             "status": "Running", "support_level": "core"},
            {"name": "chan_pjsip.so", "description": "PJSIP Channel Driver",
             "status": "Running", "support_level": "core"},
            {"name": "app_dial.so", "description": "Dialing Application",
             "status": "Running", "support_level": "core"},
            {"name": "res_beacon.so", "description": "Beacon",
             "status": "Not Running", "support_level": "extended"},
            {"name": "func_curl.so", "description": "Load external URL",
             "status": "Running", "support_level": "core"},
        ],
        "stats": {
            "run_time": {"startup_time": "2026-11-20T10:00:00Z",
                         "last_reload_time": "2026-11-21T10:00:00Z"},
            "calls": {"active": 2, "processed": 1234},
        },
    },
    "operating_system": {"sys_name": "Linux", "release": "6.1.0-28-amd64",
                         "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1",
                         "machine": "x86_64"},
}
for stmt in sys.argv[2:]:
    exec(stmt)
sys.stdout.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False))
PY
}

# put_report ID TOKEN [PYTHON...]: PUT a report_body (TOKEN "" = no tokenId).
put_report() {
	local sid=$1 tok=$2 f="$BATS_TEST_TMPDIR/report.$RANDOM.json"
	shift 2
	report_body "$sid" "$@" >"$f" || return 1
	api PUT "/servers/$sid${tok:+?tokenId=$tok}" "@$f"
}

# db_sql SQL: one query on the collector's database, SQLite or PostgreSQL
# (collector_db_sql: one row a line, columns joined by '|').
db_sql() {
	collector_db_sql "$BC_DATABASE" "$1"
}

# on_sqlite: the collector's database is SQLite.
on_sqlite() {
	[[ ${BC_DATABASE:-sqlite:} == sqlite:* ]]
}

# The latest accepted report of ID as the database holds it (schema 5,
# COLLECTOR.md §5: its modules array kept once in module_sets), put back
# together by the database itself: equal as JSON to the body received
# (field for field; not byte for byte).  Empty when none.
_stored_report_sql() {
	if on_sqlite; then
		echo "SELECT CASE WHEN modules_set IS NULL THEN report ELSE" \
			"json_set(report, '\$.asterisk.modules', json(m.body)) END" \
			"FROM servers LEFT JOIN module_sets m ON m.hash = modules_set WHERE id = '$1'"
	else
		echo "SELECT CASE WHEN modules_set IS NULL THEN report ELSE" \
			"jsonb_set(report::jsonb, '{asterisk,modules}', m.body::jsonb)::text END" \
			"FROM servers LEFT JOIN module_sets m ON m.hash = modules_set WHERE id = '$1'"
	fi
}

# stored_report_to ID FILE: the latest accepted report of ID (as
# stored_report) into FILE.
stored_report_to() {
	db_sql "$(_stored_report_sql "$1")" >"$2"
}

# stored_report ID: the latest accepted report of ID, put back together.
stored_report() {
	db_sql "$(_stored_report_sql "$1")"
}

# assert_same_json WHAT A B: two JSON texts are equal as JSON (objects
# whatever their key order, numbers by value, strings after escapes).
assert_same_json() {
	"$PY" -c '
import json, sys
a, b = (json.loads(t) for t in sys.argv[2:4])
sys.exit(0 if a == b else "%s: not the same JSON:\n%s\n%s" % (sys.argv[1], sys.argv[2][:300], sys.argv[3][:300]))' "$1" "$2" "$3" ||
		flunk "$1: the stored report is not the one sent"
}

# assert_json_keeps WHAT OLD NEW: every figure of the JSON OLD is in NEW:
# each key of an object with its value (NEW may have more keys), lists of
# the same length whose items are compared in an order of their own
# (objects by "name", else "date"/"day", else as given): what a newer
# binary must still answer after a migration, when its answers grew.
assert_json_keeps() {
	"$PY" -c '
import json, sys
def order(xs):
    for k in ("name", "date", "day"):
        if xs and all(isinstance(x, dict) and k in x for x in xs):
            return sorted(xs, key=lambda x: str(x[k]))
    return xs
def keeps(a, b, path):
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return path
        for k, v in a.items():
            if k not in b:
                return path + "." + k + " (missing)"
            r = keeps(v, b[k], path + "." + k)
            if r:
                return r
        return None
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return path + " (length)"
        for i, (x, y) in enumerate(zip(order(a), order(b))):
            r = keeps(x, y, "%s[%d]" % (path, i))
            if r:
                return r
        return None
    return None if a == b else path
where = keeps(json.loads(sys.argv[2]), json.loads(sys.argv[3]), "")
sys.exit(0 if where is None else "%s: %s differs:\n%s\n%s" % (sys.argv[1], where or "the whole", sys.argv[2][:300], sys.argv[3][:300]))' "$1" "$2" "$3" ||
		flunk "$1: a figure of the old answer is not in the new one"
}

# tls_raw [--wait S] [--send-plain]: send stdin's bytes on a TLS connection
# to the collector (no HTTP client in between; the certificate is checked)
# and print "STATUS <line>" for the first answer line or "CLOSED" when the
# connection ended without one, or "TIMEOUT" after S seconds (default 5).
tls_raw() {
	local wait=5
	[ "${1-}" = --wait ] && { wait=$2; shift 2; }
	# The script as an argument: stdin is the request.
	"$PY" -c '
import socket, ssl, sys
port, ca, wait = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
data = sys.stdin.buffer.read()
ctx = ssl.create_default_context(cafile=ca)
s = socket.create_connection(("127.0.0.1", port), timeout=wait)
t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
got = b""
try:
    t.sendall(data)
    while b"\n" not in got:
        chunk = t.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    print("TIMEOUT"); sys.exit(0)
except (ssl.SSLError, OSError):
    pass
line = got.split(b"\n")[0].strip()
if line.startswith(b"HTTP/"):
    print("STATUS " + line.decode("latin-1"))
else:
    print("CLOSED")
' "$BC_PORT" "$TEST_CA/ca.pem" "$wait"
}

# assert_healthy: the service still answers GET /healthz with 200 "ok".
assert_healthy() {
	local out
	out=$(curl -s --max-time 5 --cacert "$TEST_CA/ca.pem" "$BC_URL/healthz")
	[ "$out" = ok ] && return 0
	flunk "GET /healthz: expected 'ok', got '$out'" "log:" "$(tail -n 10 "$BC_LOG" 2>/dev/null)"
}

# assert_log_contains TEXT / refute_log_contains TEXT: the collector's log.
assert_log_contains() {
	grep -qF -- "$1" "$BC_LOG" && return 0
	flunk "expected the collector's log to contain: $1" "log:" "$(tail -n 20 "$BC_LOG")"
}

# rfc3339_valid TIME: an RFC 3339 UTC time (Z), as date reads it.
assert_rfc3339_utc() {
	[[ $2 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] &&
		date -u -d "$2" >/dev/null 2>&1 && return 0
	flunk "$1: expected an RFC 3339 UTC time, got '$2'"
}

# assert_uuid_v4 WHAT VALUE: a random (version 4, RFC 4122 variant) UUID.
assert_uuid_v4() {
	[[ $2 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] && return 0
	flunk "$1: expected a v4 UUID, got '$2'"
}

# at_iso SECONDS: CLOCK0 + SECONDS as RFC 3339 UTC, the time both clocks
# read in tests that move them together.
at_iso() {
	date -u -d "@$((CLOCK0 + $1))" +%Y-%m-%dT%H:%M:%SZ
}

# report_at SECONDS ARGS...: both clocks (the collector's clock file,
# BEACON_REPORT_NOW) at CLOCK0 + SECONDS, then one beacon-report run with
# $CONFIG and ARGS (bats run, stderr apart).
report_at() {
	local t=$1
	shift
	collector_clock_at "$t" >/dev/null
	BEACON_REPORT_NOW=$(at_iso "$t") run --separate-stderr beacon -c "$CONFIG" "$@"
}
