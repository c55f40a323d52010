#!/usr/bin/env bats
# beacon-collector's limits (COLLECTOR.md §4) through the real binary: the
# per-address counters (and X-Forwarded-For from trusted proxies only),
# request_timeout, max_connections, and the memory a body that never ends
# may cost.

# shellcheck disable=SC2154  # API_*, BC_*: collector_helpers
load helpers
load collector_helpers

# ms_since START_NS: milliseconds since a `date +%s%N`.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# ---- per-address counters -------------------------------------------------------

@test "registrations_per_address_per_hour = 2: the third POST is 429 with Retry-After; an hour later 201 again" {
	start_beacon_collector limits.registrations_per_address_per_hour=2
	api POST /servers
	assert_api 201
	api POST /servers
	assert_api 201
	api POST /servers
	assert_api_error 429
	local ra
	ra=$(api_header Retry-After) || flunk "429 without Retry-After"
	[[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] || flunk "Retry-After: '$ra'"
	assert_eq "servers" 2 "$(db_sql 'SELECT count(*) FROM servers')"
	# updates are not registrations
	api GET /healthz
	assert_api 200
	collector_clock_at 3601 >/dev/null
	api POST /servers
	assert_api 201
}

@test "requests_per_address_per_minute = 5: the sixth request is 429 with Retry-After, whatever the path; a minute later fine again" {
	start_beacon_collector limits.requests_per_address_per_minute=5
	local i
	# start_beacon_collector's /healthz polls may count: use a fresh minute.
	collector_clock_at 120 >/dev/null
	for ((i = 0; i < 5; i++)); do
		api GET /nope
		assert_api 404
	done
	api GET /nope
	assert_api_error 429
	local ra
	ra=$(api_header Retry-After) || flunk "429 without Retry-After"
	[[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] || flunk "Retry-After: '$ra'"
	api POST /servers
	assert_api_error 429
	api PUT /servers/3f2d6c1e-8b7a-4c5d-9e0f-1a2b3c4d5e6f '{}'
	# 404 (no such server) comes before the rate limits (§3 step 1), 429 otherwise
	[ "$API_STATUS" = 404 ] || [ "$API_STATUS" = 429 ] || flunk "PUT: $API_STATUS"
	collector_clock_at 181 >/dev/null
	api POST /servers
	assert_api 201
}

@test "X-Forwarded-For from a trusted proxy names the client: two forwarded addresses get their own counters" {
	start_beacon_collector limits.registrations_per_address_per_hour=2 collector.trusted_proxies=127.0.0.1
	local a=(-H 'X-Forwarded-For: 192.0.2.10') b=(-H 'X-Forwarded-For: 198.51.100.7, 127.0.0.1')
	api POST /servers "${a[@]}"
	assert_api 201
	api POST /servers "${a[@]}"
	assert_api 201
	api POST /servers "${a[@]}"
	assert_api_error 429
	api POST /servers "${b[@]}"
	assert_api 201
	api POST /servers "${b[@]}"
	assert_api 201
	api POST /servers "${b[@]}"
	assert_api_error 429
	# the proxy itself (no X-Forwarded-For) is a third client
	api POST /servers
	assert_api 201
}

@test "X-Forwarded-For from an untrusted peer is ignored: one counter for the peer" {
	start_beacon_collector limits.registrations_per_address_per_hour=2
	api POST /servers -H 'X-Forwarded-For: 192.0.2.10'
	assert_api 201
	api POST /servers -H 'X-Forwarded-For: 198.51.100.7'
	assert_api 201
	api POST /servers -H 'X-Forwarded-For: 203.0.113.99'
	assert_api_error 429
	# trusted_proxies naming another address changes nothing for 127.0.0.1
	stop_beacon_collector
	start_beacon_collector limits.registrations_per_address_per_hour=2 collector.trusted_proxies=192.0.2.1
	api POST /servers -H 'X-Forwarded-For: 192.0.2.10'
	assert_api 201
	api POST /servers -H 'X-Forwarded-For: 198.51.100.7'
	assert_api 201
	api POST /servers -H 'X-Forwarded-For: 203.0.113.99'
	assert_api_error 429
}

# ---- connections ------------------------------------------------------------------

# stall_connection MODE: a TLS connection that sends part of a request and
# then (MODE stall) nothing or (MODE trickle) one header byte every 0.3 s;
# prints the milliseconds until the collector closed it and what it got
# ("closed 2013 ms: HTTP/1.1 408..." or "open after 10 s").
stall_connection() {
	"$PY" -c '
import socket, ssl, sys, time
port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                    server_hostname="127.0.0.1")
start = time.monotonic()
s.sendall(b"PUT /servers/3f2d6c1e-8b7a-4c5d-9e0f-1a2b3c4d5e6f HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
got = b""
s.settimeout(0.3)
while time.monotonic() - start < 10:
    try:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    except socket.timeout:
        if mode == "trickle":
            try:
                s.sendall(b"X-Slow: a\r\n")
            except OSError:
                break
        continue
    except OSError:
        break
else:
    print("open after 10 s"); sys.exit(0)
print("closed %d ms: %s" % ((time.monotonic() - start) * 1000, got.split(b"\r\n")[0].decode("latin-1")))
' "$BC_PORT" "$TEST_CA/ca.pem" "$1"
}

@test "request_timeout = 2: a connection that sends half its headers and stalls is closed within a few seconds" {
	start_beacon_collector collector.request_timeout=2
	local out ms
	out=$(stall_connection stall)
	[[ $out == closed* ]] || flunk "stalled connection: $out"
	ms=$(sed -E 's/^closed ([0-9]+) ms.*/\1/' <<<"$out")
	[ "$ms" -ge 1500 ] && [ "$ms" -le 4500 ] || flunk "closed after $ms ms (request_timeout = 2 s): $out"
	[[ $out != *" 5"[0-9][0-9]* ]] || flunk "a 5xx: $out"
	assert_healthy
}

@test "request_timeout = 2 bounds the whole request: a client that trickles a header byte line every 0.3 s is closed too" {
	start_beacon_collector collector.request_timeout=2
	local out ms
	out=$(stall_connection trickle)
	[[ $out == closed* ]] || flunk "trickling connection: $out"
	ms=$(sed -E 's/^closed ([0-9]+) ms.*/\1/' <<<"$out")
	[ "$ms" -le 4500 ] || flunk "closed after $ms ms (request_timeout = 2 s): $out"
	assert_healthy
}

@test "max_connections = 4: 8 connections at once, each with half a request; extra ones wait or are refused, the service stays up and answers afterwards" {
	# request_timeout well above the test's length: the held ones stay held.
	start_beacon_collector collector.max_connections=4 collector.request_timeout=15
	local out
	out=$("$PY" -c '
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
conns, refused = [], 0
for i in range(8):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.4)
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        conns.append(s)
    except OSError:
        refused += 1
print("held %d refused/waiting %d" % (len(conns), refused))
time.sleep(0.5)
for s in conns:
    s.close()
' "$BC_PORT" "$TEST_CA/ca.pem")
	[[ $out == held* ]] || flunk "client: $out"
	local held
	held=$(awk '{print $2}' <<<"$out")
	[ "$held" -ge 1 ] && [ "$held" -le 4 ] || flunk "max_connections = 4, but $out"
	_bc_alive "$BC_PID" || flunk "the collector died"
	# Afterwards (the held ones closed): served again, within a bounded wait.
	local i ok=
	for ((i = 0; i < 40; i++)); do
		if [ "$(curl -s --max-time 2 --cacert "$TEST_CA/ca.pem" "$BC_URL/healthz")" = ok ]; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ -n "$ok" ] || flunk "no /healthz answer after the connections closed" "$(tail -n 20 "$BC_LOG")"
	api POST /servers
	assert_api 201
}

@test "a 50 MB chunked body costs bounded memory: peak RSS grows by less than 16 MiB, the answer is 413 or a close" {
	# Under AddressSanitizer, freed memory waits in a 256 MiB quarantine,
	# so that GnuTLS's per-record buffers of 50 MiB would look like growth:
	# a small quarantine measures the collector, not the sanitizer.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4" \
		start_beacon_collector collector.max_body_kb=64 collector.request_timeout=20
	register
	local hwm0 hwm1 out
	hwm0=$(awk '/^VmHWM:/ {print $2}' "/proc/$BC_PID/status")
	out=$("$PY" -c '
import socket, ssl, sys, time
port, ca, sid, tok = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                    server_hostname="127.0.0.1")
s.sendall(("PUT /servers/%s?tokenId=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % (sid, tok)).encode())
chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
sent = 0
try:
    while sent < 50 * 1024 * 1024:
        s.sendall(chunk)
        sent += 65536
    s.sendall(b"0\r\n\r\n")
except OSError as e:
    pass
got = b""
try:
    while b"\r\n" not in got:
        c = s.recv(4096)
        if not c:
            break
        got += c
except OSError:
    pass
line = got.split(b"\r\n")[0].decode("latin-1")
print("sent %d MiB: %s" % (sent >> 20, line or "closed"))
' "$BC_PORT" "$TEST_CA/ca.pem" "$SID" "$TOK")
	hwm1=$(awk '/^VmHWM:/ {print $2}' "/proc/$BC_PID/status")
	case $out in
	*": HTTP/1.1 413 "*|*": closed") ;;
	*) flunk "expected a 413 or a close: $out" ;;
	esac
	[ $((hwm1 - hwm0)) -lt 16384 ] || flunk "peak RSS grew from $hwm0 kB to $hwm1 kB for: $out"
	assert_eq "report stored" "" "$(stored_report "$SID")"
	assert_healthy
}

@test "a deep or huge JSON body inside the cap costs bounded time: 400 within a second, service up" {
	start_beacon_collector collector.max_body_kb=1024
	register
	local f="$BATS_TEST_TMPDIR/deep.json" start
	"$PY" -c 'import sys; n = 400000; sys.stdout.write("{\"id\":\"" + sys.argv[1] + "\",\"x\":" + "[" * n + "]" * n + "}")' "$SID" >"$f"
	start=$(date +%s%N)
	api PUT "/servers/$SID?tokenId=$TOK" "@$f"
	assert_api_error 400
	[ "$(ms_since "$start")" -lt 2000 ] || flunk "took $(ms_since "$start") ms"
	_bc_alive "$BC_PID" || flunk "the collector died on 400,000 nested arrays"
	assert_healthy
}
