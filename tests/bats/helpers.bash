# Helpers for every bats file: `load helpers`.  See tests/README.md.
#
# Each test runs isolated: its own temp dir, HOME and PATH
# ($TEST_BIN:tests/libexec:/usr/bin:/bin, so the stand-in `asterisk` comes
# first and nothing of the host leaks), its own stand-in Asterisk state
# ($ASTERISK_STUB_DIR) and the collectors and proxies it starts, all of
# which teardown stops.  A file that defines its own setup/teardown/
# setup_file calls harness_setup/harness_teardown/harness_setup_file.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export REPO

# harness_need_tmpdir NAME: the helpers write only into bats' private temp
# dirs.  bats before 1.4 (Debian 11's 1.2.1) sets no BATS_TEST_TMPDIR and
# the helpers would write /ca, /beacon.ini and /usr/bin/asterisk: refuse.
harness_need_tmpdir() {
	local v=${!1-}
	if [ -z "$v" ] || [ "$v" = / ] || [ ! -d "$v" ]; then
		echo "helpers.bash: \$$1 is ${v:-unset}: this bats ($(bats --version 2>/dev/null || echo unknown)) gives no private temp dir; the suite needs bats >= 1.5 (tests/README.md)" >&2
		return 1
	fi
}
PY=/usr/bin/python3

# `run --separate-stderr` and friends.
if declare -F bats_require_minimum_version >/dev/null; then
	bats_require_minimum_version 1.5.0
fi

setup_file() { harness_setup_file; }
setup() { harness_setup; }
teardown() { harness_teardown; }

# One throwaway CA for the whole file (see make_test_ca).
harness_setup_file() {
	harness_need_tmpdir BATS_FILE_TMPDIR || return 1
	export TEST_CA="$BATS_FILE_TMPDIR/ca"
	[ -f "$TEST_CA/ca.pem" ] || make_test_ca "$TEST_CA"
}

harness_setup() {
	harness_need_tmpdir BATS_TEST_TMPDIR || return 1
	export HOME="$BATS_TEST_TMPDIR/home"
	export TEST_BIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$HOME" "$TEST_BIN"
	export PATH="$TEST_BIN:$REPO/tests/libexec:/usr/bin:/bin"
	export ASTERISK_STUB_DIR="$BATS_TEST_TMPDIR/asterisk"
	mkdir -p "$ASTERISK_STUB_DIR/answers"
	export ASTERISK_STUB_FIXTURES="${FIXTURES:-$REPO/tests/fixtures}/22.10.1"
	unset ASTERISK_STUB_MODE
	# Nothing from the host that libcurl or OpenSSL would pick up.
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
		NO_PROXY no_proxy CURL_CA_BUNDLE CURL_HOME SSL_CERT_FILE SSL_CERT_DIR \
		OPENSSL_CONF
	export TZ=UTC LC_ALL=C
	# Test builds take these from the environment (as BEACON_REPORT_NOW):
	# no machine id unless a clone test gives one, and a fixed host name
	# for the privacy guard, whatever machine the suite runs on.
	export BEACON_REPORT_MACHINE_ID=/nonexistent/machine-id
	export BEACON_REPORT_HOSTNAME=pbx-test-host.example.invalid
	BEACON_BIN="${BEACON_BIN:-$REPO/build-test/beacon-report}"
	[[ $BEACON_BIN == /* ]] || BEACON_BIN="$REPO/$BEACON_BIN"
	BEACON_DEV_BIN="${BEACON_DEV_BIN:-$REPO/build-test-dev/beacon-report}"
	[[ $BEACON_DEV_BIN == /* ]] || BEACON_DEV_BIN="$REPO/$BEACON_DEV_BIN"
	export BEACON_BIN BEACON_DEV_BIN
	export TEST_BEACON_PORT="${TEST_BEACON_PORT:-47443}"
	if [ -z "${TEST_CA:-}" ] || [ ! -f "$TEST_CA/ca.pem" ]; then
		export TEST_CA="$BATS_TEST_TMPDIR/ca"
		make_test_ca "$TEST_CA"
	fi
	export CONFIG="$BATS_TEST_TMPDIR/beacon.ini"
	export STATE_DIR="$BATS_TEST_TMPDIR/state"
	HARNESS_PIDS="$BATS_TEST_TMPDIR/.harness-pids"
	: >"$HARNESS_PIDS"
	# BEACON_TRANSPORT=socket: the files that load this run through the
	# stand-in control socket (tests/libexec/asterisk-ctl) instead of
	# `asterisk -rx`: write_config adds control_socket to each config.
	export BEACON_TRANSPORT="${BEACON_TRANSPORT:-rx}"
	export ASTERISK_CTL="$BATS_TEST_TMPDIR/asterisk.ctl"
	# What a run says when Asterisk is down, in this transport's words.
	if [ "$BEACON_TRANSPORT" = socket ]; then
		ASTERISK_DOWN_TEXT="Asterisk is not running (no control socket $ASTERISK_CTL)"
	else
		ASTERISK_DOWN_TEXT="Unable to connect to remote asterisk"
	fi
}

harness_teardown() {
	stop_collectors
	# Stand-in asterisks left hanging (mode hang) by a program that did
	# not kill them: only this test's, and only if they still are sleep.
	local pid
	if [ -f "$ASTERISK_STUB_DIR/hang.pids" ]; then
		while read -r pid; do
			[[ $pid =~ ^[0-9]+$ ]] || continue
			if [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == sleep\ * ]]; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done <"$ASTERISK_STUB_DIR/hang.pids"
	fi
	return 0
}

# ---- the programs under test -------------------------------------------------

# beacon ARGS...: the beacon-report under test (built-in server =
# https://127.0.0.1:$TEST_BEACON_PORT).  beacon_dev: the DEV_MODE=1 build.
beacon() {
	if [ ! -x "$BEACON_BIN" ]; then
		echo "helpers: BEACON_BIN $BEACON_BIN is not an executable (make test-binaries)" >&2
		return 127
	fi
	"$BEACON_BIN" "$@"
}

beacon_dev() {
	if [ ! -x "$BEACON_DEV_BIN" ]; then
		echo "helpers: BEACON_DEV_BIN $BEACON_DEV_BIN is not an executable (make test-binaries)" >&2
		return 127
	fi
	"$BEACON_DEV_BIN" "$@"
}

# ---- asserts -----------------------------------------------------------------

# flunk LINE...: fail the test with these lines.
flunk() {
	printf '%s\n' "$@" >&2
	return 1
}

# refute COMMAND...: fail when COMMAND succeeds.  (A bare `! cmd` does not
# fail a bats test unless it is the test's last command.)
refute() {
	"$@" || return 0
	flunk "expected this to fail, it succeeded: $*"
}

# The output of the last `run`, for failure messages (long ones cut).
shown_output() {
	local o=${1-$output}
	if [ "${#o}" -gt 3000 ]; then
		o="${o:0:3000}... [${#o} bytes in all]"
	fi
	printf '%s' "$o"
}

assert_success() {
	# shellcheck disable=SC2154  # status and output come from bats' run
	[ "$status" -eq 0 ] && return 0
	flunk "expected success (exit 0), got exit $status; output:" "$(shown_output)"
}

# assert_failure [CODE]: non-zero exit, and CODE if given.
assert_failure() {
	if [ "$#" -eq 0 ]; then
		[ "$status" -ne 0 ] && return 0
		flunk "expected failure (non-zero exit), got exit 0; output:" "$(shown_output)"
	else
		assert_status "$1"
	fi
}

assert_status() {
	[ "$status" -eq "$1" ] && return 0
	flunk "expected exit status $1, got $status; output:" "$(shown_output)"
}

assert_output_contains() {
	[[ $output == *"$1"* ]] && return 0
	flunk "expected the output to contain: $1" "output was:" "$(shown_output)"
}

refute_output_contains() {
	[[ $output != *"$1"* ]] && return 0
	flunk "expected the output NOT to contain: $1" "output was:" "$(shown_output)"
}

# assert_output TEXT: the whole output, exactly.
assert_output() {
	[ "$output" = "$1" ] && return 0
	flunk "expected the output to be exactly:" "$1" "output was:" "$(shown_output)"
}

# For `run --separate-stderr`.
assert_stderr_contains() {
	[[ ${stderr-} == *"$1"* ]] && return 0
	flunk "expected stderr to contain: $1" "stderr was:" "$(shown_output "${stderr-}")"
}

refute_stderr_contains() {
	[[ ${stderr-} != *"$1"* ]] && return 0
	flunk "expected stderr NOT to contain: $1" "stderr was:" "$(shown_output "${stderr-}")"
}

# assert_line_count N: the output has N lines (an empty output has 0).
assert_line_count() {
	local n=0
	[ -n "$output" ] && n=$(printf '%s\n' "$output" | wc -l)
	[ "$n" -eq "$1" ] && return 0
	flunk "expected $1 output line(s), got $n; output:" "$(shown_output)"
}

# ---- the stand-in Asterisk ------------------------------------------------------

# Every command it was asked, one a line, in order (nothing if none).
asterisk_calls() {
	cat -- "$ASTERISK_STUB_DIR/calls.log" 2>/dev/null || true
}

assert_no_asterisk_calls() {
	local calls
	calls=$(asterisk_calls)
	[ -z "$calls" ] && return 0
	flunk "expected no asterisk command, got:" "$calls"
}

# assert_asterisk_called COMMAND: that exact command was run at least once.
assert_asterisk_called() {
	asterisk_calls | grep -qxF -- "$1" && return 0
	flunk "expected the asterisk command: $1" "commands run:" "$(asterisk_calls)"
}

refute_asterisk_called() {
	asterisk_calls | grep -qxF -- "$1" || return 0
	flunk "expected NO asterisk command: $1" "commands run:" "$(asterisk_calls)"
}

# asterisk_mode MODE[,MODE]: change the stand-in's modes for its next calls.
# Through the control socket, an unscoped "down" takes the socket away (as
# a stopped Asterisk does) until a mode without it comes.
asterisk_mode() {
	printf '%s\n' "$1" >"$ASTERISK_STUB_DIR/mode"
	[ "$BEACON_TRANSPORT" = socket ] || return 0
	if [[ ,$1, == *,down,* ]]; then
		[ ! -S "$ASTERISK_CTL" ] || mv "$ASTERISK_CTL" "$ASTERISK_CTL.away"
	elif [ -S "$ASTERISK_CTL.away" ]; then
		mv "$ASTERISK_CTL.away" "$ASTERISK_CTL"
	fi
}

# socket_mode MODE[,MODE]: how the stand-in control socket misbehaves
# (tests/libexec/asterisk-ctl: close_early, hang, bad_greeting, ...).
socket_mode() {
	printf '%s\n' "$1" >"$ASTERISK_STUB_DIR/socket_mode"
	# refuse takes effect in the server's loop: wait (at most 5 s) for it
	local want=listening i
	[[ ,$1, == *,refuse,* ]] && want=refusing
	[ -f "$ASTERISK_STUB_DIR/socket_state" ] || [ "$want" = refusing ] || return 0
	for ((i = 0; i < 250; i++)); do
		[ "$(cat "$ASTERISK_STUB_DIR/socket_state" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.02
	done
	flunk "socket_mode: the stand-in control socket is not $want"
}

# start_asterisk_socket: the stand-in control socket at $ASTERISK_CTL,
# answering through the stand-in asterisk; once per test.
start_asterisk_socket() {
	[ -S "$ASTERISK_CTL" ] && return 0
	local pid
	"$PY" "$REPO/tests/libexec/asterisk-ctl" --socket "$ASTERISK_CTL" \
		>"$ASTERISK_STUB_DIR/ctl.out" 2>"$ASTERISK_STUB_DIR/ctl.err" 3>&- &
	pid=$!
	_record_pid "$pid" "asterisk-ctl"
	_wait_ready "$pid" "$ASTERISK_STUB_DIR/ctl.out" "the stand-in control socket" >/dev/null || return 1
}

# asterisk_answer COMMAND: its stdout for this test comes from stdin.
asterisk_answer() {
	local words name
	IFS=$' \t' read -r -a words <<<"$1"
	name=$(IFS=_; printf '%s' "${words[*]}")
	cat >"$ASTERISK_STUB_DIR/answers/${name//\//-}.txt"
}

# astdb_get FAMILY KEY: print the stored value; fail when there is none.
astdb_get() {
	local db="$ASTERISK_STUB_DIR/astdb"
	[ -f "$db" ] || return 1
	awk -F '\t' -v k="/$1/$2" '$1 == k { sub(/^[^\t]*\t/, ""); print; found = 1; exit }
		END { exit !found }' "$db"
}

# astdb_put FAMILY KEY VALUE: seed the stand-in's AstDB.
astdb_put() {
	local db="$ASTERISK_STUB_DIR/astdb"
	(
		flock 8 || exit 1
		{
			[ -f "$db" ] && awk -F '\t' -v k="/$1/$2" '$1 != k' "$db"
			printf '/%s/%s\t%s\n' "$1" "$2" "$3"
		} >"$db.tmp.$$" && mv -f "$db.tmp.$$" "$db"
	) 8>>"$ASTERISK_STUB_DIR/astdb.lock"
}

# The whole stand-in AstDB, "/family/key<TAB>value" lines.
astdb_dump() {
	cat -- "$ASTERISK_STUB_DIR/astdb" 2>/dev/null || true
}

# ---- TLS -----------------------------------------------------------------------

# make_test_ca DIR: a throwaway CA and certificates (P-256, SHA-256):
#   ca.pem ca.key              the test CA
#   server.pem server.key      for DNS:localhost, IP:127.0.0.1, by the CA
#   wrongname.pem .key         for DNS:wrong.example only, by the CA
#   untrusted/ca.pem ...       another CA, and untrusted/server.pem .key
#   cadir/                     ca.pem in a hashed directory (openssl rehash)
make_test_ca() {
	local d=$1
	if mkdir -p "$d/untrusted" "$d/cadir" &&
		_mk_ca "$d" "beacon-report test CA" &&
		_mk_cert "$d" server "DNS:localhost,IP:127.0.0.1" &&
		_mk_cert "$d" wrongname "DNS:wrong.example" &&
		_mk_ca "$d/untrusted" "beacon-report UNTRUSTED test CA" &&
		_mk_cert "$d/untrusted" server "DNS:localhost,IP:127.0.0.1" &&
		cp "$d/ca.pem" "$d/cadir/ca.pem" &&
		openssl rehash "$d/cadir" >/dev/null 2>&1; then
		return 0
	fi
	echo "make_test_ca: cannot make the test CA in $d" >&2
	return 1
}

# _mk_ca DIR CN: the CA's extensions from a config file of its own, not
# -addext on top of openssl.cnf's v3_ca: OpenSSL 1.1.1 (Debian 11) then
# made two basicConstraints and `openssl verify` refused the CA.
_mk_ca() {
	printf '%s\n' "[req]" "distinguished_name = dn" "prompt = no" \
		"x509_extensions = v3_ca" "[dn]" "CN = $2" "[v3_ca]" \
		"basicConstraints = critical,CA:TRUE" \
		"keyUsage = critical,keyCertSign,cRLSign" \
		"subjectKeyIdentifier = hash" >"$1/ca.cnf" &&
		openssl req -x509 -config "$1/ca.cnf" -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
			-keyout "$1/ca.key" -out "$1/ca.pem" >/dev/null 2>&1 &&
		rm -f "$1/ca.cnf"
}

_mk_cert() {
	local d=$1 n=$2 san=$3
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=beacon-report test $n" \
		-keyout "$d/$n.key" -out "$d/$n.csr" >/dev/null 2>&1 &&
		printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature" \
			"extendedKeyUsage=serverAuth" >"$d/$n.ext" &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
			-extfile "$d/$n.ext" -out "$d/$n.pem" >/dev/null 2>&1 &&
		rm -f "$d/$n.csr" "$d/$n.ext"
}

# ---- background servers: collectors and proxies ---------------------------------

_valid_name() {
	[[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && return 0
	flunk "helpers: '$1' is not a usable name (letters, digits, _)"
}

# _wait_ready PID FILE WHAT: wait (at most 5 s) for "READY port=N" in FILE;
# prints N.
_wait_ready() {
	local pid=$1 file=$2 what=$3 i line
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 '^READY port=' "$file" 2>/dev/null)
		if [ -n "$line" ]; then
			printf '%s\n' "${line#READY port=}"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	flunk "helpers: $what did not start:" "$(cat "${file%.out}.err" 2>/dev/null)"
}

_record_pid() {
	printf '%s %s\n' "$1" "$2" >>"$HARNESS_PIDS"
}

# start_collector [NAME] [--port N] [--untrusted | --wrongname]
# Starts tests/collector/collector.py (NAME defaults to mylab) with its own
# state dir and waits for it; exports ${NAME}_PORT, ${NAME}_STATE,
# COLLECTOR_PORT and COLLECTOR_STATE.  --untrusted serves a certificate of
# another CA; --wrongname one for another host name.  A fixed --port is
# taken under a lock so that parallel tests wait for each other.
start_collector() {
	local name=mylab port=0 cert="$TEST_CA/server.pem" key="$TEST_CA/server.key"
	if [ "$#" -gt 0 ] && [[ $1 != --* ]]; then
		name=$1
		shift
	fi
	_valid_name "$name" || return 1
	while [ "$#" -gt 0 ]; do
		case $1 in
		--port) port=$2; shift 2 ;;
		--untrusted) cert="$TEST_CA/untrusted/server.pem" key="$TEST_CA/untrusted/server.key"; shift ;;
		--wrongname) cert="$TEST_CA/wrongname.pem" key="$TEST_CA/wrongname.key"; shift ;;
		*) flunk "start_collector: unknown option $1"; return 1 ;;
		esac
	done
	local dir="$BATS_TEST_TMPDIR/collector.$name" pid got
	mkdir -p "$dir"
	if [ "$port" != 0 ]; then
		_lock_port "$port" || return 1
	fi
	"$PY" "$REPO/tests/collector/collector.py" --cert "$cert" --key "$key" \
		--state "$dir" --port "$port" >"$dir/collector.out" 2>"$dir/collector.err" 3>&- &
	pid=$!
	_record_pid "$pid" "collector:$name"
	got=$(_wait_ready "$pid" "$dir/collector.out" "collector $name") || return 1
	export "${name}_PORT=$got" "${name}_STATE=$dir" COLLECTOR_PORT="$got" COLLECTOR_STATE="$dir"
}

# A fixed port (the built-in server's) is shared by every test: hold a lock
# on it for the rest of this test (the fd closes when the test ends).
_lock_port() {
	local fd var="_HARNESS_PORT_LOCK_$1"
	[ -n "${!var:-}" ] && return 0
	exec {fd}>>"${TMPDIR:-/tmp}/beacon-report-test-port-$1.lock" || return 1
	if flock -w 60 "$fd"; then
		printf -v "$var" '%s' "$fd"
		return 0
	fi
	flunk "helpers: port $1 stayed in use by another test for 60 s"
}

_state_of() {
	local name=${1:-mylab} var
	_valid_name "$name" || return 1
	var="${name}_STATE"
	if [ -z "${!var:-}" ]; then
		flunk "helpers: no collector or proxy named $name was started"
		return 1
	fi
	printf '%s' "${!var}"
}

# collector_control [NAME] JSON: replace the collector's control.json.
collector_control() {
	local name=mylab dir
	if [ "$#" -ge 2 ]; then name=$1; shift; fi
	dir=$(_state_of "$name") || return 1
	printf '%s\n' "$1" >"$dir/control.json.tmp" && mv -f "$dir/control.json.tmp" "$dir/control.json"
}

# collector_requests [NAME]: its request log, one JSON object a line.
collector_requests() {
	local dir
	dir=$(_state_of "${1:-mylab}") || return 1
	cat -- "$dir/requests.jsonl" 2>/dev/null || true
}

# collector_request_count [NAME] [METHOD]: how many requests (of METHOD).
collector_request_count() {
	collector_requests "${1:-mylab}" | "$PY" -c '
import json, sys
m = sys.argv[1] if len(sys.argv) > 1 else None
print(sum(1 for l in sys.stdin if l.strip() and (m is None or json.loads(l)["method"] == m)))
' ${2:+"$2"}
}

# collector_request [NAME] INDEX FIELD: one field of request INDEX (0 is
# the first, -1 the last); strings raw, the rest as JSON.
collector_request() {
	local name=mylab
	if [ "$#" -ge 3 ]; then name=$1; shift; fi
	collector_requests "$name" | "$PY" -c '
import json, sys
reqs = [json.loads(l) for l in sys.stdin if l.strip()]
v = reqs[int(sys.argv[1])]
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$1" "$2"
}

# collector_stored [NAME] ID: the report (last accepted PUT body) of ID.
collector_stored() {
	local name=mylab dir
	if [ "$#" -ge 2 ]; then name=$1; shift; fi
	dir=$(_state_of "$name") || return 1
	cat -- "$dir/servers/$1.json"
}

# collector_registry [NAME]: {server id: {"token", "issued"(epoch)}}.
collector_registry() {
	local dir
	dir=$(_state_of "${1:-mylab}") || return 1
	cat -- "$dir/registry.json" 2>/dev/null || echo '{}'
}

# start_proxy [NAME] [--user USER:PASS]: tests/collector/proxy.py (NAME
# defaults to proxy); exports ${NAME}_PORT, ${NAME}_STATE, PROXY_PORT and
# PROXY_LOG (its CONNECT log, one JSON line each).
start_proxy() {
	local name=proxy user=() dir pid got
	if [ "$#" -gt 0 ] && [[ $1 != --* ]]; then
		name=$1
		shift
	fi
	_valid_name "$name" || return 1
	while [ "$#" -gt 0 ]; do
		case $1 in
		--user) user+=(--user "$2"); shift 2 ;;
		--tls) user+=(--tls "$TEST_CA/server.pem" "$TEST_CA/server.key"); shift ;;
		*) flunk "start_proxy: unknown option $1"; return 1 ;;
		esac
	done
	dir="$BATS_TEST_TMPDIR/proxy.$name"
	mkdir -p "$dir"
	: >"$dir/connect.log"
	"$PY" "$REPO/tests/collector/proxy.py" --port 0 "${user[@]}" --log "$dir/connect.log" \
		>"$dir/proxy.out" 2>"$dir/proxy.err" 3>&- &
	pid=$!
	_record_pid "$pid" "proxy:$name"
	got=$(_wait_ready "$pid" "$dir/proxy.out" "proxy $name") || return 1
	export "${name}_PORT=$got" "${name}_STATE=$dir" PROXY_PORT="$got" PROXY_LOG="$dir/connect.log"
}

# stop_collector NAME: stop one collector or proxy of this test.
stop_collector() {
	_stop_pids "collector:$1" "proxy:$1"
}

# stop_collectors: stop every collector and proxy this test started (and
# only those).
stop_collectors() {
	_stop_pids
}

_stop_pids() {
	[ -f "${HARNESS_PIDS:-}" ] || return 0
	local pid what i keep=() stopped=()
	while read -r pid what; do
		if [ "$#" -gt 0 ] && [[ " $* " != *" $what "* ]]; then
			keep+=("$pid $what")
			continue
		fi
		kill -TERM "$pid" 2>/dev/null && stopped+=("$pid")
	done <"$HARNESS_PIDS"
	for pid in "${stopped[@]}"; do
		for ((i = 0; i < 40; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "${#keep[@]}" -gt 0 ]; then
		printf '%s\n' "${keep[@]}" >"$HARNESS_PIDS"
	else
		: >"$HARNESS_PIDS"
	fi
}

# ---- an HTTPS client, for testing the harness itself ------------------------------

# https_req [--cacert F] [--capath D] [--proxy PORT] [--proxy-user U:P]
#           [--timeout S] METHOD URL [BODY]
# Prints "HTTP <status>" then the body; on a connection, TLS or proxy error
# prints "ERROR <kind>: <message>" and returns 3.  No redirect followed.
https_req() {
	"$PY" - "$@" <<'PY'
import base64, http.client, socket, ssl, sys, urllib.parse
args = sys.argv[1:]
opt = {"cacert": None, "capath": None, "proxy": None, "proxy-user": None,
       "timeout": "10"}
while args and args[0].startswith("--"):
    opt[args[0][2:]] = args[1]
    args = args[2:]
method, url = args[0], args[1]
body = args[2].encode() if len(args) > 2 else None
u = urllib.parse.urlsplit(url)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile=opt["cacert"], capath=opt["capath"])
timeout = float(opt["timeout"])
try:
    if opt["proxy"]:
        conn = http.client.HTTPSConnection("127.0.0.1", int(opt["proxy"]),
                                           context=ctx, timeout=timeout)
        hdrs = {}
        if opt["proxy-user"]:
            hdrs["Proxy-Authorization"] = "Basic " + base64.b64encode(
                opt["proxy-user"].encode()).decode()
        conn.set_tunnel(u.hostname, u.port, headers=hdrs)
    else:
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                           timeout=timeout)
    path = u.path + ("?" + u.query if u.query else "")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
except ssl.SSLError as e:
    print("ERROR tls: %s" % e); sys.exit(3)
except socket.timeout as e:
    print("ERROR timeout: %s" % e); sys.exit(3)
except (http.client.HTTPException, OSError) as e:
    print("ERROR %s: %s" % (type(e).__name__, e)); sys.exit(3)
print("HTTP %d" % r.status)
for k, v in r.getheaders():
    if k.lower() == "location":
        print("Location: %s" % v)
sys.stdout.write(data.decode("utf-8", errors="replace"))
if data and not data.endswith(b"\n"):
    print()
PY
}

# ---- configuration and state ----------------------------------------------------

# write_config [FILE] <<EOF ... EOF: the configuration (default $CONFIG).
# With BEACON_TRANSPORT=socket, a config that does not name a
# control_socket gets the stand-in's (in [general], added when missing),
# and the stand-in is started.
write_config() {
	local file=${1:-$CONFIG} text
	if [ "$BEACON_TRANSPORT" != socket ]; then
		cat >"$file"
		return
	fi
	text=$(cat)
	if ! grep -q '^[[:space:]]*control_socket' <<<"$text"; then
		start_asterisk_socket || return 1
		if grep -q '^\[general\]' <<<"$text"; then
			text=$(sed "0,/^\[general\]/s##[general]\ncontrol_socket = $ASTERISK_CTL#" <<<"$text")
		else
			text=$(printf '[general]\ncontrol_socket = %s\n\n%s' "$ASTERISK_CTL" "$text")
		fi
	fi
	printf '%s\n' "$text" >"$file"
}

# default_config [FILE]: state_dir in the test's dir, the built-in server's
# CA, and a [mylab] collector at https://127.0.0.1:$mylab_PORT (start it
# first) trusting the test CA.
default_config() {
	local port=${mylab_PORT:-}
	if [ -z "$port" ]; then
		flunk "default_config: start_collector (mylab) first, or set mylab_PORT"
		return 1
	fi
	write_config "${1:-$CONFIG}" <<EOF
[general]
state_dir = $STATE_DIR

[beacon]
ca_path = $TEST_CA/ca.pem

[mylab]
type = server
url = https://127.0.0.1:$port
ca_path = $TEST_CA/ca.pem
EOF
}

# rfc3339_ago SECONDS: the UTC time SECONDS ago, as a stamp holds it.
rfc3339_ago() {
	date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ
}

# stamp_set NAME TIME / stamp_get NAME: a server's last-report stamp.
stamp_set() {
	mkdir -p "$STATE_DIR" && chmod 700 "$STATE_DIR" &&
		printf '%s\n' "$2" >"$STATE_DIR/$1.stamp"
}

stamp_get() {
	cat -- "$STATE_DIR/$1.stamp"
}

# json_get PATH: from the JSON on stdin, the value at a dotted PATH
# (servers.0.result); strings raw, the rest as JSON.  Fails when absent.
json_get() {
	"$PY" -c '
import json, sys
v = json.load(sys.stdin)
try:
    for k in filter(None, sys.argv[1].split(".")):
        v = v[int(k)] if isinstance(v, list) else v[k]
except (KeyError, IndexError, ValueError, TypeError):
    sys.exit("json_get: no %s" % sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$1"
}

# ---- shared asserts of the protocol and transport tests ---------------------

UUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] && return 0
	flunk "$1: expected '$2', got '$3'"
}

assert_ne() {
	[ "$2" != "$3" ] && return 0
	flunk "$1: expected anything but '$2'"
}

assert_uuid() {
	[[ $2 =~ $UUID_RE ]] && return 0
	flunk "$1: expected a UUID, got '$2'"
}

# requests_summary [NAME]: the collector's requests, one a line:
# "METHOD PATH[?QUERY] STATUS" (STATUS "none" when it gave no answer).
requests_summary() {
	collector_requests "${1:-mylab}" | "$PY" -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        r = json.loads(l)
        q = "?" + r["query"] if r["query"] else ""
        st = "none" if r["status"] is None else r["status"]
        print("%s %s%s %s" % (r["method"], r["path"], q, st))'
}

# assert_requests [--at NAME] LINE...: the collector (mylab) got exactly
# these requests, in this order (see requests_summary); none when no LINE.
assert_requests() {
	local name=mylab got want=""
	if [ "${1-}" = --at ]; then
		name=$2
		shift 2
	fi
	got=$(requests_summary "$name")
	[ "$#" -gt 0 ] && want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] && return 0
	flunk "expected the requests:" "${want:-(none)}" "the collector got:" "${got:-(none)}"
}

# assert_no_stamp NAME: the server has no last-report stamp.
assert_no_stamp() {
	[ ! -e "$STATE_DIR/$1.stamp" ] && return 0
	flunk "expected no stamp for $1, found: $(cat "$STATE_DIR/$1.stamp")"
}


# run_mylab ARGS...: run the binary on the test config, server mylab only.
run_mylab() {
	run --separate-stderr beacon -c "$CONFIG" -s mylab "$@"
}

# The VERSION the Makefile builds.
make_version() {
	sed -n 's/^VERSION *= *//p' "$REPO/Makefile"
}

# add_collector NAME: a [NAME] section for the collector NAME (test CA).
add_collector() {
	local port="${1}_PORT"
	printf '%s\n' "" "[$1]" "type = server" "url = https://127.0.0.1:${!port}" \
		"ca_path = $TEST_CA/ca.pem" >>"$CONFIG"
}
