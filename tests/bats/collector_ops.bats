#!/usr/bin/env bats
# Running beacon-collector (COLLECTOR.md §1, §2, §5, §7) through the real
# binary: configuration errors and exit statuses, --check-config, signals
# (SIGTERM drains, SIGHUP reloads the certificate), durability across
# kill -9, retention, and no client address written anywhere.

# shellcheck disable=SC2154  # API_*, BC_*, SID, TOK: collector_helpers; stderr: run
load helpers
load collector_helpers

# ini [SECTION.KEY=VALUE...]: $BC_INI as start_beacon_collector would
# write it (free port, test CA's certificate), without starting anything.
ini() {
	export BC_INI="$BATS_TEST_TMPDIR/collector.ini" BC_DB="$BATS_TEST_TMPDIR/c.db"
	export BC_PORT="${BC_PORT:-$(free_port)}"
	export BC_CERT="${BC_CERT:-$TEST_CA/server.pem}" BC_KEY="${BC_KEY:-$TEST_CA/server.key}"
	export BEACON_COLLECTOR_CLOCK_FILE="${BEACON_COLLECTOR_CLOCK_FILE:-$BATS_TEST_TMPDIR/collector.clock}"
	write_collector_ini "$BC_INI" "$@"
}

# line_of KEY: the line of "KEY = " in $BC_INI.
line_of() {
	grep -n "^$1 = " "$BC_INI" | cut -d: -f1
}

# assert_config_error KEY: exit 3, one stderr line "beacon-collector: FILE:LINE: ..."
# with KEY's line.
assert_config_error() {
	assert_status 3
	local line
	line=$(line_of "$1")
	[[ $stderr == *"$BC_INI:$line: "* ]] || flunk "expected '$BC_INI:$line: message' on stderr, got:" "$stderr"
}

# ---- configuration errors and exit statuses -------------------------------------

@test "config: an unknown key is FILE:LINE and exit 3 (serving and --check-config)" {
	ini collector.bogus_key=1
	run_collector -c "$BC_INI"
	assert_config_error bogus_key
	assert_stderr_contains bogus_key
	run_collector --check-config -c "$BC_INI"
	assert_config_error bogus_key
}

@test "config: a bad number is FILE:LINE and exit 3" {
	local v
	for v in abc 12x -1 99999999999999999999; do
		ini collector.max_body_kb="$v"
		run_collector --check-config -c "$BC_INI"
		assert_config_error max_body_kb
	done
	ini limits.min_update_interval=often
	run_collector -c "$BC_INI"
	assert_config_error min_update_interval
}

@test "config: admin_password_hash takes only yescrypt, sha512-crypt, bcrypt, gost-yescrypt; a plain password is never repeated (issue 21, 25)" {
	local v
	# md5-crypt, NT, DES crypt, a plain password: exit 3, the value nowhere.
	for v in '$1$saltsalt$qJH7.N4xYta3aEG/dfqo/0' '$3$$8846f7eaee8fb117ad06bdd830b7586c' \
		'abJnggxhB/yWI' 'Tr0ub4dor&3-plain' '$ecret-Passw0rd'; do
		ini "collector.admin_password_hash=$v"
		run_collector --check-config -c "$BC_INI"
		assert_config_error admin_password_hash
		[[ $stderr != *"$v"* && $stderr != *Passw0rd* && $stderr != *Tr0ub4dor* ]] ||
			flunk "the value is repeated:" "$stderr"
	done
	v=$(printf 'pw\n' | "$COLLECTOR_BIN" --hash-password)
	ini "collector.admin_password_hash=$v"
	run_collector --check-config -c "$BC_INI"
	assert_success
}

@test "config: tls = no on a non-loopback address is FILE:LINE and exit 3; on 127.0.0.1 it is allowed" {
	ini collector.tls=no "collector.listen=0.0.0.0:$(free_port)"
	run_collector --check-config -c "$BC_INI"
	assert_status 3
	[[ $stderr =~ $BC_INI:[0-9]+:\  ]] || flunk "expected FILE:LINE: on stderr:" "$stderr"
	run_collector -c "$BC_INI"
	assert_status 3
	ini collector.tls=no "collector.listen=127.0.0.1:$BC_PORT"
	run_collector --check-config -c "$BC_INI"
	assert_success
}

@test "config: a missing file named with -c is exit 3; a malformed line is FILE:LINE" {
	run_collector -c "$BATS_TEST_TMPDIR/none.ini"
	assert_status 3
	assert_stderr_contains "$BATS_TEST_TMPDIR/none.ini"
	ini
	printf '%s\n' "[collector]" "this is not a line" >>"$BC_INI"
	run_collector --check-config -c "$BC_INI"
	assert_status 3
	assert_stderr_contains "$BC_INI:$(wc -l <"$BC_INI"): "
}

@test "a missing or unreadable TLS file: exit 4, naming it (serving and --check-config)" {
	ini collector.tls_cert="$BATS_TEST_TMPDIR/nope.pem"
	run_collector -c "$BC_INI"
	assert_status 4
	assert_stderr_contains "$BATS_TEST_TMPDIR/nope.pem"
	run_collector --check-config -c "$BC_INI"
	assert_status 4
	assert_stderr_contains "$BATS_TEST_TMPDIR/nope.pem"
	# a key that is not the certificate's
	ini collector.tls_cert="$TEST_CA/server.pem" collector.tls_key="$TEST_CA/wrongname.key"
	run_collector --check-config -c "$BC_INI"
	assert_status 4
	assert_stderr_contains "$TEST_CA/wrongname.key"
}

@test "a port already in use: exit 4 with the reason" {
	start_beacon_collector
	local first=$BC_PID
	write_collector_ini "$BATS_TEST_TMPDIR/second.ini" "collector.database=sqlite:$BATS_TEST_TMPDIR/c2.db"
	run_collector -c "$BATS_TEST_TMPDIR/second.ini"
	assert_status 4
	assert_stderr_contains "127.0.0.1:$BC_PORT"
	assert_stderr_contains "in use"
	_bc_alive "$first" || flunk "the first collector died"
	assert_healthy
}

@test "a database that cannot be opened: exit 5 (serving and --check-config)" {
	ini "collector.database=sqlite:/nonexistent-dir/x.db"
	run_collector -c "$BC_INI"
	assert_status 5
	# issue 25 item 8: the key, where it is set, and what is wrong in words
	# (not SQLite's "unable to open database file")
	assert_eq "stderr" "beacon-collector: $BC_INI:$(line_of database): database: directory /nonexistent-dir does not exist" "$stderr"
	run_collector --check-config -c "$BC_INI"
	assert_status 5
	assert_eq "stderr" "beacon-collector: $BC_INI:$(line_of database): database: directory /nonexistent-dir does not exist" "$stderr"
	# a typo deeper down; a file where the directory should be
	ini "collector.database=sqlite:$BATS_TEST_TMPDIR/beacon-collectr/sub/beacon.db"
	run_collector --check-config -c "$BC_INI"
	assert_status 5
	assert_stderr_contains "database: directory $BATS_TEST_TMPDIR/beacon-collectr/sub does not exist"
	: >"$BATS_TEST_TMPDIR/plain"
	ini "collector.database=sqlite:$BATS_TEST_TMPDIR/plain/beacon.db"
	run_collector --check-config -c "$BC_INI"
	assert_status 5
	assert_stderr_contains "database: $BATS_TEST_TMPDIR/plain is not a directory"
	# not a database at all
	printf 'this is not sqlite\n%.0s' {1..200} >"$BATS_TEST_TMPDIR/junk.db"
	ini "collector.database=sqlite:$BATS_TEST_TMPDIR/junk.db"
	run_collector -c "$BC_INI"
	assert_status 5
}

# About SQLite's PRAGMA user_version: on SQLite in both passes (PostgreSQL's
# twin, its beacon_schema table: collector_pg.bats).
@test "a database with a newer schema: exit 5 with a message, the database untouched" {
	export BC_DATABASE="sqlite:$BATS_TEST_TMPDIR/c.db"
	start_beacon_collector
	register
	stop_beacon_collector
	assert_eq "clean stop" 0 "$BC_EXIT"
	sqlite3 "$BC_DB" 'PRAGMA user_version=99'
	local before
	before=$(sha256sum <"$BC_DB")
	run_collector -c "$BC_INI"
	assert_status 5
	assert_stderr_contains 99
	assert_stderr_contains newer
	run_collector --check-config -c "$BC_INI"
	assert_status 5
	assert_eq "user_version" 99 "$(sqlite3 "$BC_DB" 'PRAGMA user_version')"
	assert_eq "servers" 1 "$(sqlite3 "$BC_DB" 'SELECT count(*) FROM servers')"
	assert_eq "db file" "$before" "$(sha256sum <"$BC_DB")"
}

@test "--check-config on a good file: exit 0 and 'FILE: ok', listens on nothing" {
	ini
	run_collector --check-config -c "$BC_INI"
	assert_success
	[ "$output" = "$BC_INI: ok" ] || flunk "stdout: $output"
	run curl -s --max-time 2 --cacert "$TEST_CA/ca.pem" "https://127.0.0.1:$BC_PORT/healthz"
	assert_eq "nothing listening" "" "$output"
}

@test "--help and --version: exit 0 on stdout; an unknown option or argument: exit 2 with the usage" {
	run_collector --help
	assert_success
	[[ $output == *"usage: beacon-collector"* ]] || flunk "--help: $output"
	[[ $output == *--check-config* ]] || flunk "--help: $output"
	run_collector --version
	assert_success
	assert_eq "--version" "beacon-collector $(make_version)" "$output"
	run_collector --bogus
	assert_status 2
	assert_stderr_contains "usage:"
	run_collector -c
	assert_status 2
	run_collector extra-arg
	assert_status 2
}

# ---- signals -----------------------------------------------------------------------

@test "SIGTERM drains: a request in flight completes (200, stored), new connections are refused, exit 0" {
	start_beacon_collector
	register
	local body="$BATS_TEST_TMPDIR/r.json" out="$BATS_TEST_TMPDIR/slow.out"
	report_body "$SID" >"$body"
	# A PUT that sends half its body, waits for the go file, sends the rest.
	"$PY" -c '
import os, socket, ssl, sys, time
port, ca, sid, tok, body, go = sys.argv[1:7]
data = open(body, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=15),
                    server_hostname="127.0.0.1")
s.sendall(("PUT /servers/%s?tokenId=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (sid, tok, len(data))).encode())
s.sendall(data[:len(data) // 2])
print("HALF", flush=True)
for _ in range(100):
    if os.path.exists(go):
        break
    time.sleep(0.05)
s.sendall(data[len(data) // 2:])
got = b""
while b"\r\n" not in got:
    c = s.recv(4096)
    if not c:
        break
    got += c
print(got.split(b"\r\n")[0].decode("latin-1") or "closed", flush=True)
' "$BC_PORT" "$TEST_CA/ca.pem" "$SID" "$TOK" "$body" "$BATS_TEST_TMPDIR/go" >"$out" 2>&1 3>&- &
	local client=$! i
	for ((i = 0; i < 100; i++)); do
		grep -q HALF "$out" && break
		sleep 0.05
	done
	grep -q HALF "$out" || flunk "the slow client did not start: $(cat "$out")"
	# the collector has read the headers and half the body
	sleep 0.3
	kill -TERM "$BC_PID"
	sleep 0.5
	_bc_alive "$BC_PID" || flunk "the collector exited with a request in flight" "$(tail -n 5 "$BC_LOG")"
	# no new connection while draining
	run curl -s --max-time 2 --cacert "$TEST_CA/ca.pem" -o /dev/null -w '%{http_code}' "$BC_URL/healthz"
	[ "$output" = 000 ] || [ "$output" = 503 ] || flunk "a new request while draining got $output"
	touch "$BATS_TEST_TMPDIR/go"
	wait "$client"
	assert_eq "the request in flight" "HTTP/1.1 200 OK" "$(sed -n 2p "$out")"
	wait_collector_exit 12
	assert_eq "exit status" 0 "$BC_EXIT"
	assert_same_json "stored" "$(cat "$body")" "$(stored_report "$SID")"
}

# serial_served: the serial of the certificate the collector serves now.
serial_served() {
	openssl s_client -connect "127.0.0.1:$BC_PORT" -servername 127.0.0.1 \
		-CAfile "$TEST_CA/ca.pem" -verify_return_error </dev/null 2>/dev/null |
		openssl x509 -noout -serial
}

@test "SIGHUP reloads the certificate (same CA, new serial and subject) without dropping an open connection; a bad new pair keeps the old one and logs why" {
	local d="$BATS_TEST_TMPDIR/tls"
	mkdir -p "$d"
	cp "$TEST_CA/ca.pem" "$TEST_CA/ca.key" "$d/"
	cp "$TEST_CA/server.pem" "$d/cert.pem"
	cp "$TEST_CA/server.key" "$d/key.pem"
	BC_CERT="$d/cert.pem" BC_KEY="$d/key.pem" start_beacon_collector
	local old new
	old=$(openssl x509 -noout -serial <"$d/cert.pem")
	assert_eq "served before" "$old" "$(serial_served)"

	# A connection open across the reload: half its request before,
	# the rest after.  (The collector answers with Connection: close, so
	# this is how a connection spans the reload.)
	local out="$BATS_TEST_TMPDIR/keep.out"
	"$PY" -c '
import os, socket, ssl, sys, time
port, ca, go = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10),
                    server_hostname="127.0.0.1")
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
print("1 half sent", flush=True)
for _ in range(100):
    if os.path.exists(go):
        break
    time.sleep(0.05)
s.sendall(b"\r\n")
got = b""
while b"ok" not in got:
    c = s.recv(4096)
    if not c:
        break
    got += c
print("2", got.split(b"\r\n")[0].decode() or "closed", flush=True)
' "$BC_PORT" "$TEST_CA/ca.pem" "$BATS_TEST_TMPDIR/go" >"$out" 2>&1 3>&- &
	local client=$! i
	for ((i = 0; i < 100; i++)); do
		grep -q '^1 ' "$out" && break
		sleep 0.05
	done

	# the renewal: a new certificate and key from the same CA
	_mk_cert "$d" renewed "DNS:localhost,IP:127.0.0.1"
	new=$(openssl x509 -noout -serial <"$d/renewed.pem")
	assert_ne "new serial" "$old" "$new"
	cp "$d/renewed.pem" "$d/cert.pem"
	cp "$d/renewed.key" "$d/key.pem"
	kill -HUP "$BC_PID"
	for ((i = 0; i < 40; i++)); do
		[ "$(serial_served)" = "$new" ] && break
		sleep 0.05
	done
	assert_eq "served after SIGHUP" "$new" "$(serial_served)"
	openssl s_client -connect "127.0.0.1:$BC_PORT" -CAfile "$TEST_CA/ca.pem" </dev/null 2>/dev/null |
		openssl x509 -noout -subject | grep -q "beacon-report test renewed" || flunk "subject not the renewed one"
	touch "$BATS_TEST_TMPDIR/go"
	wait "$client"
	assert_eq "the open connection" "$(printf '1 half sent\n2 HTTP/1.1 200 OK')" "$(cat "$out")"
	_bc_alive "$BC_PID" || flunk "the collector died on SIGHUP"

	# a bad pair: a certificate whose key is another one
	_mk_cert "$d" third "DNS:localhost,IP:127.0.0.1"
	cp "$d/third.pem" "$d/cert.pem"
	kill -HUP "$BC_PID"
	for ((i = 0; i < 40; i++)); do
		grep -q 'SIGHUP: kept' "$BC_LOG" && break
		sleep 0.05
	done
	assert_log_contains "SIGHUP: kept the TLS pair in use"
	grep 'SIGHUP: kept' "$BC_LOG" | grep -q "$d/key.pem" || flunk "the log does not say why: $(grep SIGHUP "$BC_LOG")"
	assert_eq "served after a bad SIGHUP" "$new" "$(serial_served)"
	# a missing file
	rm -f "$d/key.pem"
	kill -HUP "$BC_PID"
	sleep 0.3
	assert_eq "served after a SIGHUP with no key" "$new" "$(serial_served)"
	assert_healthy
}

# ---- durability --------------------------------------------------------------------

@test "kill -9 right after a 200: after a restart the report is in the database and the token still works" {
	start_beacon_collector
	register
	local body="$BATS_TEST_TMPDIR/r.json"
	report_body "$SID" 'r["private_name"] = "before the crash"' >"$body"
	api PUT "/servers/$SID?tokenId=$TOK" "@$body"
	assert_api 200
	local tok
	tok=$(api_json id)
	kill9_beacon_collector
	assert_eq "killed" 137 "$BC_EXIT"
	assert_same_json "stored after kill -9" "$(cat "$body")" "$(stored_report "$SID")"
	start_beacon_collector
	collector_clock_at 1900 >/dev/null
	put_report "$SID" "$tok" 'r["private_name"] = "after the restart"'
	assert_api 200
	assert_eq "token" "$tok" "$(api_json id)"
	[[ $(stored_report "$SID") == *"after the restart"* ]] || flunk "stored: $(stored_report "$SID")"
	assert_eq "reports" 2 "$(db_sql "SELECT reports FROM servers WHERE id = '$SID'")"
	# a registration acknowledged just before a kill -9 holds too
	register
	kill9_beacon_collector
	start_beacon_collector
	put_report "$SID" "$TOK"
	assert_api 200
}

@test "50 concurrent updates and a kill -9 in the middle: every 200 is in the database after the restart, no row half-written" {
	start_beacon_collector limits.registrations_per_address_per_hour=1000 limits.requests_per_address_per_minute=10000
	local d="$BATS_TEST_TMPDIR/par" i
	mkdir -p "$d"
	for ((i = 0; i < 50; i++)); do
		register
		printf '%s %s\n' "$SID" "$TOK" >"$d/$i.id"
	done
	"$PY" -c '
import json, sys
d = sys.argv[1]
template = sys.stdin.read()
for i in range(50):
    r = json.loads(template)
    r["id"] = open("%s/%d.id" % (d, i)).read().split()[0]
    r["private_name"] = "pbx %d " % i + "x" * 900
    open("%s/%d.json" % (d, i), "w").write(json.dumps(r, separators=(",", ":")))
' "$d" <<<"$(report_body 00000000-0000-4000-8000-000000000000)"
	for ((i = 0; i < 50; i++)); do
		read -r sid tok <"$d/$i.id"
		curl -s --max-time 10 --cacert "$TEST_CA/ca.pem" -X PUT -H 'Content-Type: application/json' \
			--data-binary "@$d/$i.json" -o "$d/$i.answer" -w '%{http_code}' \
			"$BC_URL/servers/$sid?tokenId=$tok" >"$d/$i.status" 2>/dev/null 3>&- &
	done
	# mid-way: once some of them have their answer
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -l . "$d"/*.status 2>/dev/null | wc -l)" -ge 8 ] && break
		sleep 0.01
	done
	kill9_beacon_collector
	wait
	local ok=0 lost=0 st stored
	start_beacon_collector
	# SQLite's file after the kill -9 (on PostgreSQL the database is another
	# process, which the kill does not touch: what follows is the check).
	if on_sqlite; then
		assert_eq "integrity_check" ok "$(db_sql 'PRAGMA integrity_check')"
	fi
	for ((i = 0; i < 50; i++)); do
		read -r sid tok <"$d/$i.id"
		st=$(cat "$d/$i.status")
		stored=$(stored_report "$sid")
		if [ "$st" = 200 ]; then
			ok=$((ok + 1))
			assert_same_json "server $i: 200" "$(cat "$d/$i.json")" "$stored"
		else
			lost=$((lost + 1))
			[ "$st" = 000 ] || flunk "server $i: HTTP $st: $(cat "$d/$i.answer")"
			# not acknowledged: either all of it or nothing
			[ -z "$stored" ] || assert_same_json "server $i: a half-written report?" "$(cat "$d/$i.json")" "$stored"
		fi
		[ "$(db_sql "SELECT count(*) FROM servers WHERE id = '$sid'")" = 1 ] || flunk "server $i lost its registration"
	done
	[ "$ok" -ge 1 ] || flunk "no PUT acknowledged before the kill -9"
	# the row's counters agree with its report
	assert_eq "rows whose report and count disagree" 0 \
		"$(db_sql "SELECT count(*) FROM servers WHERE (report IS NULL) != (reports = 0)")"
}

# ---- retention ---------------------------------------------------------------------

@test "retention: a server silent for more than retention_days is deleted at start; its PUT is 404; an active one stays" {
	start_beacon_collector limits.min_update_interval=0
	register
	local old=$SID oldtok=$TOK
	put_report "$old" "$oldtok"
	assert_api 200
	register
	local live=$SID
	collector_clock_at $((300 * 86400)) >/dev/null
	put_report "$live" ""
	assert_api 200
	local livetok
	livetok=$(api_json id)
	stop_beacon_collector
	collector_clock_at $((401 * 86400)) >/dev/null
	start_beacon_collector limits.min_update_interval=0
	assert_eq "silent server" 0 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$old'")"
	assert_eq "active server" 1 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$live'")"
	put_report "$old" "$oldtok"
	assert_api_error 404
	put_report "$live" "$livetok"
	assert_api 200
	assert_log_contains "retention: deleted 1 server"
}

# ---- privacy -----------------------------------------------------------------------

@test "no client address in the database or the log; with log_addresses = yes the log names it" {
	start_beacon_collector collector.trusted_proxies=127.0.0.1 limits.min_update_interval=0
	register
	put_report "$SID" "$TOK"
	assert_api 200
	api POST /servers -H 'X-Forwarded-For: 192.0.2.55'
	assert_api 201
	api GET /nope
	put_report "$SID" 1b4e28ba-2fa1-41d2-883f-0016d3cca427
	assert_api 401
	stop_beacon_collector
	local f files=("$BC_LOG")
	if on_sqlite; then
		files+=("$BC_DB" "$BC_DB-wal" "$BC_DB-shm")
	else
		# the whole database as pg_dump writes it out
		"$(collector_pg_bindir)/pg_dump" -d "$BC_DATABASE" >"$BATS_TEST_TMPDIR/dump.sql" ||
			flunk "pg_dump failed"
		files+=("$BATS_TEST_TMPDIR/dump.sql")
	fi
	for f in "${files[@]}"; do
		[ -e "$f" ] || continue
		if grep -a -q -e '127\.0\.0\.1' -e '192\.0\.2\.55' "$f"; then
			flunk "a client address in $f:" "$(grep -a -o -e '.\{0,40\}127\.0\.0\.1.\{0,20\}' -e '.\{0,40\}192\.0\.2\.55.\{0,20\}' "$f" | head -5)"
		fi
	done
	# the database file holds the servers (the grep looked at real data)
	assert_eq "servers" 2 "$(db_sql 'SELECT count(*) FROM servers')"
	start_beacon_collector privacy.log_addresses=yes collector.trusted_proxies=127.0.0.1
	api POST /servers -H 'X-Forwarded-For: 192.0.2.55'
	assert_api 201
	api GET /healthz
	grep -q 'POST /servers 201 .*192\.0\.2\.55' "$BC_LOG" || flunk "log_addresses = yes: the log does not name the client" "$(tail -n 5 "$BC_LOG")"
	grep -q 'GET /healthz 200 .*127\.0\.0\.1' "$BC_LOG" || flunk "log_addresses = yes: the log does not name 127.0.0.1" "$(tail -n 5 "$BC_LOG")"
}

@test "start_beacon_collector: a collector that never becomes ready fails the test within a bound, stopped" {
	# The untrusted CA's certificate: the collector runs, /healthz never
	# answers to a client trusting the test CA (as OpenSSL 1.1.1 refused
	# the old CA).  The helper must give up and stop it, not wait forever.
	local t0 sp i
	t0=$(date +%s)
	(BC_CERT=$TEST_CA/untrusted/server.pem BC_KEY=$TEST_CA/untrusted/server.key \
		start_beacon_collector >"$BATS_TEST_TMPDIR/start.out" 2>&1) &
	sp=$!
	for ((i = 0; i < 400; i++)); do
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$sp" 2>/dev/null; then
		kill "$sp"
		flunk "start_beacon_collector still waiting after 20 s"
	fi
	run wait "$sp"
	assert_failure
	grep -q "did not answer /healthz" "$BATS_TEST_TMPDIR/start.out"
	[ $(($(date +%s) - t0)) -le 20 ]
	# Nothing of it left running.
	run pgrep -f -- "-c $BATS_TEST_TMPDIR/collector.ini"
	assert_failure
}

