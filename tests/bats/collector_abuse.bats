#!/usr/bin/env bats
# Issue 21 (and 25 items 7, 9; 26's HTTP versions), the connection and HTTP
# level: each attack mounted as described, through the real binary, with
# tests/collector/attack.py; 127.0.0.x addresses are distinct clients.
# Bounded in count and time: every loop has a fixed number of turns.

# shellcheck disable=SC2154  # API_*, BC_*: collector_helpers
load helpers
load collector_helpers

ATTACK="$REPO/tests/collector/attack.py"

# wait_log TEXT SECONDS: wait until the collector's log contains TEXT.
wait_log() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qF -- "$1" "$BC_LOG" && return 0
		sleep 0.1
	done
	flunk "no '$1' in the collector's log within $2 s" "$(tail -n 20 "$BC_LOG")"
}

# kv NAME LINE: the value of NAME=... in an attack.py result line.
kv() {
	sed -nE "s/.*(^| )$1=([^ ]*).*/\\2/p" <<<"$2"
}

teardown() {
	harness_teardown
	if [ -n "${DROP_USER:-}" ]; then
		/usr/sbin/userdel "$DROP_USER" >/dev/null 2>&1
		rm -rf "${DROP_DIR:?}"
	fi
}

# ---- item 1: one address takes every connection -------------------------------------

@test "connection hog: 40 idle connections from one address, those past max_connections_per_address (32) are closed at once; another address is answered promptly; one summary line" {
	start_beacon_collector
	local out
	out=$("$PY" "$ATTACK" hog "$BC_PORT" "$TEST_CA/ca.pem" --from 127.0.0.2 --count 40 --probe-from 127.0.0.3 --probes 3)
	[ "$(kv open "$out")" -le 32 ] || flunk "more than 32 open from one address: $out"
	[ "$(kv closed_by_server "$out")" -ge 8 ] || flunk "the ones past 32 were not closed: $out"
	assert_eq "probes answered" 3 "$(kv probes_ok "$out")"
	[ "$(kv probe_max_ms "$out")" -lt 2000 ] || flunk "the other address waited: $out"
	wait_log "refused (over max_connections_per_address = 32)" 12
	[ "$(grep -c 'max_connections_per_address' "$BC_LOG")" -le 2 ] || flunk "a log line per refused connection" "$(tail -n 20 "$BC_LOG")"
	[ "$(grep -c 'libmicrohttpd:' "$BC_LOG")" -le 5 ] || flunk "libmicrohttpd's lines not rate-limited" "$(tail -n 20 "$BC_LOG")"
	assert_healthy
}

@test "max_connections_per_address = 3: the fourth connection of one address is closed, another address still gets its three" {
	start_beacon_collector collector.max_connections_per_address=3
	local out
	out=$("$PY" "$ATTACK" hog "$BC_PORT" "$TEST_CA/ca.pem" --from 127.0.0.2 --count 6 --probes 0)
	assert_eq "open from 127.0.0.2" 3 "$(kv open "$out")"
	out=$("$PY" "$ATTACK" hog "$BC_PORT" "$TEST_CA/ca.pem" --from 127.0.0.4 --count 3 --probes 1 --probe-from 127.0.0.5)
	assert_eq "open from 127.0.0.4" 3 "$(kv open "$out")"
	assert_eq "probe" 1 "$(kv probes_ok "$out")"
}

@test "max_connections_per_address = 0: no limit (40 idle connections from one address all stay open)" {
	start_beacon_collector collector.max_connections_per_address=0
	local out
	out=$("$PY" "$ATTACK" hog "$BC_PORT" "$TEST_CA/ca.pem" --from 127.0.0.2 --count 40 --probes 1)
	assert_eq "open" 40 "$(kv open "$out")"
	assert_eq "probe" 1 "$(kv probes_ok "$out")"
}

@test "a trusted proxy's connections are not counted per address (every client behind it shares its address)" {
	start_beacon_collector collector.max_connections_per_address=3 collector.trusted_proxies=127.0.0.6
	local out
	out=$("$PY" "$ATTACK" hog "$BC_PORT" "$TEST_CA/ca.pem" --from 127.0.0.6 --count 8 --probes 0)
	assert_eq "open from the proxy" 8 "$(kv open "$out")"
}

@test "a connection that never starts its TLS handshake is closed within 10 s, though request_timeout is 30" {
	start_beacon_collector collector.request_timeout=30
	local out
	out=$("$PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20, source_address=("127.0.0.7", 0))
start = time.monotonic()
try:
    got = s.recv(1)
except OSError:
    got = b""
print("closed %d ms" % ((time.monotonic() - start) * 1000) if got == b"" else "data")
' "$BC_PORT")
	[[ $out == closed* ]] || flunk "$out"
	local ms=${out#closed }
	ms=${ms% ms}
	[ "$ms" -ge 8000 ] && [ "$ms" -le 13000 ] || flunk "closed after $ms ms (expected about 10 s)"
	wait_log "closed without a complete request in time" 12
}

# ---- item 4: X-Forwarded-For -------------------------------------------------------

@test "XFF forgery through a proxy that appends (nginx: one line, HAProxy: a second line): the client's own entries never rotate past the registration limit" {
	start_beacon_collector limits.registrations_per_address_per_hour=5 \
		collector.trusted_proxies=127.0.0.1 privacy.log_addresses=yes
	local out
	# HAProxy: the client's own header line, then the proxy's
	out=$("$PY" "$ATTACK" xff "$BC_PORT" "$TEST_CA/ca.pem" --count 8 \
		--line '10.0.{i}.1' --line '198.51.100.7')
	assert_eq "two header lines" "201=5 429=3" "$out"
	# nginx's $proxy_add_x_forwarded_for: appended to the client's list
	out=$("$PY" "$ATTACK" xff "$BC_PORT" "$TEST_CA/ca.pem" --count 8 \
		--line '10.1.{i}.1, 10.2.{i}.2, 198.51.100.8')
	assert_eq "one line" "201=5 429=3" "$out"
	# a chain of trusted proxies: the client is left of them
	out=$("$PY" "$ATTACK" xff "$BC_PORT" "$TEST_CA/ca.pem" --count 3 \
		--line '10.3.{i}.1, 198.51.100.9' --line '127.0.0.1')
	assert_eq "through two proxies" "201=3" "$out"
	grep -q 'from 198.51.100.7$' "$BC_LOG" || flunk "the log does not name the real client" "$(tail -n 5 "$BC_LOG")"
	! grep -qE 'from 10\.[0-9]+\.' "$BC_LOG" || flunk "the log names a forged address" "$(grep -E 'from 10\.' "$BC_LOG" | head -3)"
}

@test "IPv6 limits count per /64: registrations from many addresses of one /64 (forwarded by a trusted proxy) stop at the limit" {
	start_beacon_collector limits.registrations_per_address_per_hour=5 collector.trusted_proxies=127.0.0.1
	local out
	out=$("$PY" "$ATTACK" xff "$BC_PORT" "$TEST_CA/ca.pem" --count 9 --line '2001:db8:1:2::{i}')
	assert_eq "one /64" "201=5 429=4" "$out"
	out=$("$PY" "$ATTACK" xff "$BC_PORT" "$TEST_CA/ca.pem" --count 1 --line '2001:db8:1:3::1')
	assert_eq "the next /64" "201=1" "$out"
}

# ---- malformed requests -------------------------------------------------------------

# raw_status REQUEST: the status line the collector answers REQUEST with
# (printf escapes: \r, \n, \0, \xHH), or "closed".
raw_status() {
	printf '%b' "$1" | "$PY" "$ATTACK" raw "$BC_PORT" "$TEST_CA/ca.pem"
}

# refused WHAT REQUEST: the collector answers REQUEST 400.  libmicrohttpd
# before 0.9.75 (Debian 11's 0.9.72) drops some malformed requests (a
# Content-Length it cannot parse, a CR in a value) before the collector
# sees them ("Closing connection"): there a close without an answer is
# the refusal, said on the TAP output.  Never served.  Needs $mhd.
refused() {
	local got
	got=$(raw_status "$2")
	[[ $got == "HTTP/1.1 400 "* ]] && return 0
	if [ "$got" = closed ] && dpkg --compare-versions "$mhd" lt 0.9.75; then
		echo "# libmicrohttpd $mhd: $1: closed without an answer" >&3
		return 0
	fi
	flunk "$1: $got"
}

@test "malformed header fields: duplicate or invalid Content-Length, NUL/CR in a value, obs-fold, empty or non-token name: 400" {
	start_beacon_collector
	local h='GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n' got
	local mhd
	mhd=$(pkg-config --modversion libmicrohttpd)
	assert_eq "sane" "HTTP/1.1 200 OK" "$(raw_status "$h\r\n")"
	got=$(raw_status "POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")
	assert_eq "duplicate Content-Length" "HTTP/1.1 400 Bad Request" "$got"
	refused "Content-Length +0" "POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +0\r\n\r\n"
	refused "Content-Length with Transfer-Encoding" "POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	refused "NUL in a value" "${h}X-A: a\\0b\r\n\r\n"
	refused "CR in a value" "${h}X-A: a\rb\r\n\r\n"
	refused "a control character in a value" "${h}X-A: a\x01b\r\n\r\n"
	refused "obs-fold" "${h}X-Folded: a\r\n  b\r\n\r\n"
	refused "empty field name" "${h}: empty\r\n\r\n"
	refused "a blank in a field name" "${h}X A: b\r\n\r\n"
	refused "a control character in a field name" "${h}X\x01A: b\r\n\r\n"
	refused "a non-token field name" "${h}X(A): b\r\n\r\n"
	assert_healthy
}

@test "the HTTP version, checked by the collector: HTTP/1.1x, HTTP/1, HTTP/X.Y are 400; HTTP/2.0 and HTTP/9.9 are 505; HTTP/1.0 is served" {
	start_beacon_collector
	local v got
	for v in HTTP/1.1x HTTP/1 HTTP/X.Y; do
		got=$(raw_status "GET /healthz $v\r\nHost: 127.0.0.1\r\n\r\n")
		[[ $got == "HTTP/1.1 400 "* ]] || flunk "$v: $got"
	done
	for v in HTTP/2.0 HTTP/9.9; do
		got=$(raw_status "GET /healthz $v\r\nHost: 127.0.0.1\r\n\r\n")
		[[ $got == "HTTP/1.1 505 "* ]] || flunk "$v: $got"
	done
	got=$(raw_status "GET /healthz HTTP/1.0\r\n\r\n")
	[[ $got == "HTTP/1.0 200 "* || $got == "HTTP/1.1 200 "* ]] || flunk "HTTP/1.0: $got"
}

@test "a chunked body over max_body_kb gets 413 as it passes the limit, not after 8 MiB" {
	start_beacon_collector collector.max_body_kb=64
	register
	local out
	out=$("$PY" "$ATTACK" chunked "$BC_PORT" "$TEST_CA/ca.pem" "/servers/$SID?tokenId=$TOK" --total-kb 8192)
	assert_eq "status" "HTTP/1.1_413_Content_Too_Large" "$(kv status "$out")"
	[ "$(kv sent_kb "$out")" -lt 1024 ] || flunk "the 413 came only after $out"
	assert_eq "report stored" "" "$(stored_report "$SID")"
	assert_healthy
}

# ---- the request log ------------------------------------------------------------------

@test "the request log never shows a token, however encoded" {
	start_beacon_collector
	register
	local p
	for p in "/servers/$SID%3FtokenId=s3cr3t0001" "/servers/$SID%3ftokenid%3ds3cr3t0002" \
		"/servers/$SID%253FtokenId%253Ds3cr3t0003" "/servers/$SID/TOKENID=s3cr3t0004" \
		"/servers/$SID;tokenId=s3cr3t0005" "/x/tokenId/s3cr3t0006" "/servers/$SID/$TOK"; do
		api PUT "$p" '{}'
		api GET "$p"
	done
	api PUT "/servers/$SID?tokenId=$TOK" '{}'
	grep -q "PUT /servers/$SID" "$BC_LOG" || flunk "the server id is gone from the log" "$(tail -n 5 "$BC_LOG")"
	! grep -q 's3cr3t' "$BC_LOG" || flunk "a token in the log" "$(grep s3cr3t "$BC_LOG")"
	! grep -qF "$TOK" "$BC_LOG" || flunk "the token in the log" "$(grep -F "$TOK" "$BC_LOG")"
}

# ---- TLS ---------------------------------------------------------------------------------

subject_served() {
	openssl s_client -connect "127.0.0.1:$BC_PORT" -servername 127.0.0.1 \
		-CAfile "$TEST_CA/ca.pem" </dev/null 2>/dev/null | openssl x509 -noout -subject
}

@test "SIGHUP reads tls_cert and tls_key from the file again: new paths are served, the log names subject and expiry" {
	local d="$BATS_TEST_TMPDIR/tls"
	mkdir -p "$d"
	cp "$TEST_CA/ca.pem" "$TEST_CA/ca.key" "$d/"
	start_beacon_collector
	assert_log_contains "TLS certificate: subject 'CN=beacon-report test server', expires "
	[[ $(subject_served) == *"beacon-report test server"* ]] || flunk "served: $(subject_served)"
	_mk_cert "$d" newpath "DNS:localhost,IP:127.0.0.1"
	write_collector_ini "$BC_INI" collector.tls_cert="$d/newpath.pem" collector.tls_key="$d/newpath.key"
	kill -HUP "$BC_PID"
	wait_log "SIGHUP: TLS certificate loaded: subject 'CN=beacon-report test newpath', expires " 5
	assert_log_contains "($d/newpath.pem, $d/newpath.key)"
	[[ $(subject_served) == *"beacon-report test newpath"* ]] || flunk "served after SIGHUP: $(subject_served)"
	# a file that names a missing key: the pair in use stays
	write_collector_ini "$BC_INI" collector.tls_cert="$d/newpath.pem" collector.tls_key="$d/missing.key"
	kill -HUP "$BC_PID"
	wait_log "SIGHUP: kept the TLS pair in use: tls_key $d/missing.key" 5
	[[ $(subject_served) == *"beacon-report test newpath"* ]] || flunk "served after a bad SIGHUP: $(subject_served)"
}

# last_pairs: the pairs in memory as the last SIGHUP line says.
last_pairs() {
	grep 'SIGHUP: TLS certificate loaded' "$BC_LOG" | tail -n 1 |
		sed -nE 's/.*; ([0-9]+) certificate pairs? in memory$/\1/p'
}

# hup_and_wait N: one SIGHUP, then wait (at most 10 s) for the Nth line.
hup_and_wait() {
	local n
	kill -HUP "$BC_PID"
	for ((n = 0; n < 200; n++)); do
		[ "$(grep -c 'SIGHUP: TLS certificate loaded' "$BC_LOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	flunk "SIGHUP number $1 was not logged"
}

@test "SIGHUP: a replaced TLS pair is freed once no connection uses it (20 reloads never pile up pairs; two while an old connection lives, one after)" {
	start_beacon_collector
	local i n
	# one at a time: two SIGHUPs pending at once are one
	for ((i = 1; i <= 20; i++)); do
		hup_and_wait "$i"
	done
	# A connection that closed just before a reload may still hold its
	# pair for a moment (libmicrohttpd frees closed connections on its
	# next turn), never more: pairs do not pile up.
	! grep 'SIGHUP: TLS certificate loaded' "$BC_LOG" | grep -qvE '; [12] certificate pairs? in memory$' ||
		flunk "pairs pile up" "$(grep 'SIGHUP' "$BC_LOG" | tail -n 5)"
	sleep 0.5
	hup_and_wait 21
	assert_eq "pairs after 21 reloads, no connection open" 1 "$(last_pairs)"
	# a connection made before a reload holds its pair until it closes
	local go="$BATS_TEST_TMPDIR/go"
	"$PY" -c '
import os, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10), server_hostname="127.0.0.1")
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
open(sys.argv[3] + ".ready", "w").close()
for _ in range(100):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
s.close()
' "$BC_PORT" "$TEST_CA/ca.pem" "$go" 3>&- &
	local client=$!
	for ((n = 0; n < 100; n++)); do
		[ -e "$go.ready" ] && break
		sleep 0.05
	done
	hup_and_wait 22
	assert_eq "pairs while an old connection lives" 2 "$(last_pairs)"
	touch "$go"
	wait "$client"
	sleep 0.5
	hup_and_wait 23
	assert_eq "pairs once the old connection closed" 1 "$(last_pairs)"
}

@test "plain HTTP to the TLS port: a 400 that says so, and one summary log line, never libmicrohttpd's words (issue 25 item 9)" {
	start_beacon_collector
	local out i
	for ((i = 0; i < 5; i++)); do
		out=$("$PY" "$ATTACK" plain "$BC_PORT")
		[[ $out == "HTTP/1.1 400 Bad Request|"*"plain HTTP on the TLS port: this port speaks HTTPS"* ]] || flunk "answer: $out"
	done
	wait_log "5 plain HTTP on the TLS port (answered 400)" 12
	! grep -q 'handshake message out of context' "$BC_LOG" || flunk "libmicrohttpd's words in the log" "$(tail -n 10 "$BC_LOG")"
	assert_healthy
}

@test "listen = [::]:PORT already in use: 'listen [::]:PORT: Address already in use', exit 4 (issue 25 item 7)" {
	# The holder binds a port the kernel picks (port 0) and says which: a
	# port found free first could be taken by another test in between.
	"$PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 0))
s.listen(1)
with open(sys.argv[1] + ".new", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".new", sys.argv[1])
time.sleep(8)
' "$BATS_TEST_TMPDIR/bound" 3>&- &
	local holder=$! i port
	for ((i = 0; i < 100; i++)); do
		[ -e "$BATS_TEST_TMPDIR/bound" ] && break
		sleep 0.05
	done
	port=$(cat "$BATS_TEST_TMPDIR/bound") || flunk "the holder bound no port"
	BC_PORT=$port BC_CERT="$TEST_CA/server.pem" BC_KEY="$TEST_CA/server.key" \
		write_collector_ini "$BATS_TEST_TMPDIR/busy.ini" "collector.listen=[::]:$port" \
		"collector.database=sqlite:$BATS_TEST_TMPDIR/busy.db"
	run_collector -c "$BATS_TEST_TMPDIR/busy.ini"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null || true
	assert_status 4
	assert_stderr_contains "listen [::]:$port: Address already in use"
}

# ---- files and the user ---------------------------------------------------------------------

@test "every file the collector creates is 0600: the SQLite database, -wal and -shm" {
	BC_DATABASE="sqlite:$BATS_TEST_TMPDIR/c.db" start_beacon_collector
	register
	put_report "$SID" "$TOK"
	assert_api 200
	local f
	for f in "$BC_DB" "$BC_DB-wal" "$BC_DB-shm"; do
		[ -e "$f" ] || flunk "$f does not exist"
		assert_eq "mode of $f" 600 "$(stat -c %a "$f")"
	done
}

@test "started as root with user = a user that exists: it binds, reads the TLS files, then runs as that user (database owned by it, 0600)" {
	[ "$(id -u)" = 0 ] || skip "needs root (CI runs the suite as root)"
	[ -x /usr/sbin/useradd ] || skip "needs useradd (package passwd)"
	DROP_USER="bc-drop-$$"
	/usr/sbin/useradd --system --no-create-home --shell /usr/sbin/nologin "$DROP_USER" || flunk "useradd $DROP_USER"
	DROP_DIR=$(mktemp -d /tmp/bc-drop.XXXXXX)
	chmod 755 "$DROP_DIR"
	chown "$DROP_USER:" "$DROP_DIR"
	# the TLS key readable by root alone: read before the drop
	cp "$TEST_CA/server.key" "$DROP_DIR/key.pem"
	chmod 600 "$DROP_DIR/key.pem"
	BC_KEY="$DROP_DIR/key.pem" BC_DATABASE="sqlite:$DROP_DIR/c.db" start_beacon_collector collector.user="$DROP_USER"
	local uid
	uid=$(id -u "$DROP_USER")
	assert_eq "uids of the process" "$uid $uid $uid $uid" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$BC_PID/status")"
	assert_log_contains "running as user $DROP_USER"
	register
	assert_eq "database owner and mode" "$DROP_USER 600" "$(stat -c '%U %a' "$DROP_DIR/c.db")"
	stop_beacon_collector
	assert_eq "exit" 0 "$BC_EXIT"
}

@test "started as root with user = a user that does not exist: exit 3 naming it" {
	[ "$(id -u)" = 0 ] || skip "needs root (a start as another user ignores user =)"
	BC_PORT=$(free_port) BC_CERT="$TEST_CA/server.pem" BC_KEY="$TEST_CA/server.key" \
		write_collector_ini "$BATS_TEST_TMPDIR/nouser.ini" collector.user=no-such-user-bc21 \
		"collector.database=sqlite:$BATS_TEST_TMPDIR/nouser.db"
	run_collector -c "$BATS_TEST_TMPDIR/nouser.ini"
	assert_status 3
	assert_stderr_contains "user = no-such-user-bc21: no such user"
	[ ! -e "$BATS_TEST_TMPDIR/nouser.db" ] || flunk "the database was created before the user was checked"
}
