#!/usr/bin/env python3
"""A small attack client for beacon-collector (issue 21), for the bats
tests (tests/bats/collector_abuse.bats) and bench/attacks.sh.

Every attack is bounded in count and in time, talks only to 127.0.0.0/8,
and uses 127.0.0.x source addresses as distinct clients.  Each prints one
line of results (key=value ...) on stdout.

    attack.py hog PORT CA --from A --count N [--probe-from B] [--probes K]
        N idle TCP connections from A (no TLS handshake), then K /healthz
        from B; prints how many of A's the collector closed and B's times.
    attack.py raw PORT CA [--from A]          (request bytes on stdin)
        one request over TLS, exactly as given; prints the status line.
    attack.py plain PORT [--from A]
        a plain-HTTP GET to the TLS port; prints what came back.
    attack.py chunked PORT CA PATH --limit-kb L [--total-kb T]
        a chunked body in 4 KiB chunks; prints the status and how much
        had been sent when it came.
    attack.py xff PORT CA --count N --line L [--line L2]
        N POST /servers from 127.0.0.1 (a trusted proxy in the test)
        each with the X-Forwarded-For lines given, "{i}" replaced by the
        attempt's number; prints the statuses counted.
    attack.py flood KIND PORT CA --seconds S [--addresses N]
        KIND hog | password | keys | idle: load for S seconds while
        /healthz is timed from another address; prints p50/p99.
"""
import argparse
import base64
import json
import socket
import ssl
import sys
import threading
import time
import uuid

HOST = "127.0.0.1"


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return ctx


def connect(port, src=None, timeout=5.0):
    return socket.create_connection((HOST, port), timeout=timeout,
                                    source_address=(src, 0) if src else None)


def tls_connect(port, ca, src=None, timeout=5.0):
    s = connect(port, src, timeout)
    return tls_context(ca).wrap_socket(s, server_hostname=HOST)


def read_answer(s, limit=65536, deadline=5.0):
    """Bytes until the peer closes, the head and Content-Length body are
    complete, or the deadline passes."""
    got = b""
    end = time.monotonic() + deadline
    while len(got) < limit and time.monotonic() < end:
        try:
            s.settimeout(max(0.05, end - time.monotonic()))
            c = s.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not c:
            break
        got += c
        head, sep, body = got.partition(b"\r\n\r\n")
        if sep:
            length = None
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip() or b"0")
            if length is not None and len(body) >= length:
                break
    return got


def status_line(got):
    return got.split(b"\r\n")[0].decode("latin-1") if got else "closed"


def healthz_ms(port, ca, src, timeout=10.0):
    """One GET /healthz on a new connection: milliseconds, or None."""
    start = time.monotonic()
    try:
        s = tls_connect(port, ca, src, timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        got = read_answer(s, deadline=timeout)
        s.close()
    except (OSError, ssl.SSLError):
        return None
    if not got.startswith(b"HTTP/1.1 200"):
        return None
    return (time.monotonic() - start) * 1000.0


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


# ---- hog ----------------------------------------------------------------

def cmd_hog(a):
    held = []
    refused = 0
    for _ in range(a.count):
        try:
            held.append(connect(a.port, a.source, timeout=2.0))
        except OSError:
            refused += 1
    time.sleep(a.settle)
    # a connection the collector closed reads as EOF (or a reset) at once
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    times = []
    failed = 0
    for _ in range(a.probes):
        ms = healthz_ms(a.port, a.ca, a.probe_from, timeout=5.0)
        if ms is None:
            failed += 1
        else:
            times.append(ms)
    for s in held:
        s.close()
    print("opened=%d refused=%d closed_by_server=%d open=%d probes_ok=%d "
          "probes_failed=%d probe_max_ms=%.0f" % (
              len(held), refused, closed, len(held) - closed, len(times), failed,
              max(times) if times else -1))


# ---- raw / plain --------------------------------------------------------

def cmd_raw(a):
    data = sys.stdin.buffer.read()
    s = tls_connect(a.port, a.ca, a.source)
    s.sendall(data)
    print(status_line(read_answer(s)))


def cmd_plain(a):
    s = connect(a.port, a.source)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    got = read_answer(s)
    print(got.decode("latin-1").replace("\r\n", "|"))


# ---- chunked --------------------------------------------------------------

def cmd_chunked(a):
    s = tls_connect(a.port, a.ca, a.source, timeout=20.0)
    head = ("PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % a.path).encode()
    s.sendall(head)
    chunk = b"%x\r\n%s\r\n" % (4096, b" " * 4096)
    sent = 0
    got = b""
    total = a.total_kb * 1024
    s.setblocking(False)
    end = time.monotonic() + 20
    while sent < total and time.monotonic() < end:
        try:
            c = s.recv(4096)
            if c:
                got += c
                break
            break
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except (OSError, ssl.SSLError):
            break
        try:
            s.setblocking(True)
            s.settimeout(2)
            s.sendall(chunk)
            s.setblocking(False)
            sent += 4096
        except (OSError, ssl.SSLError):
            break
        time.sleep(0.002)
    s.setblocking(True)
    got += read_answer(s, deadline=3)
    print("status=%s sent_kb=%d" % (status_line(got).replace(" ", "_"), sent // 1024))


# ---- X-Forwarded-For --------------------------------------------------------

def cmd_xff(a):
    counts = {}
    for i in range(a.count):
        lines = "".join("X-Forwarded-For: %s\r\n" % l.replace("{i}", str(i + 1))
                        for l in a.line)
        req = ("POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
               "Content-Length: 0\r\nConnection: close\r\n\r\n" % lines).encode()
        s = tls_connect(a.port, a.ca, a.source)
        s.sendall(req)
        st = status_line(read_answer(s)).split(" ")
        code = st[1] if len(st) > 1 else "closed"
        counts[code] = counts.get(code, 0) + 1
        s.close()
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


# ---- floods for the bench -----------------------------------------------------

COUNTS = {}
COUNTS_LOCK = threading.Lock()


def count(key, n=1):
    with COUNTS_LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + n


def flood_hog(a, stop):
    """Refill up to 1,100 idle connections from 127.0.0.2 every 0.5 s."""
    held = []
    while not stop.is_set():
        alive = []
        for s in held:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    count("closed_by_server")
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                count("closed_by_server")
                continue
            alive.append(s)
        held = alive
        while len(held) < 1100 and not stop.is_set():
            try:
                held.append(connect(a.port, "127.0.0.2", timeout=0.5))
                count("opened")
            except OSError:
                count("refused")
                break
        stop.wait(0.5)
    for s in held:
        s.close()


def flood_password(a, stop):
    """Wrong Basic credentials against /fleet from 16 addresses, 8 req/s."""
    auth = base64.b64encode(b"admin:wrong-password").decode()
    req = ("GET /fleet HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
           "Connection: close\r\n\r\n" % auth).encode()
    i = 0
    while not stop.is_set():
        src = "127.0.1.%d" % (1 + i % 16)
        i += 1
        try:
            s = tls_connect(a.port, a.ca, src, timeout=5)
            s.sendall(req)
            st = status_line(read_answer(s, deadline=5)).split(" ")
            count("status_" + (st[1] if len(st) > 1 else "closed"))
            s.close()
        except (OSError, ssl.SSLError):
            count("failed")
        stop.wait(0.125)


def flood_keys(a, stop):
    """Registrations each reporting a.modules made-up module names."""
    i = 0
    while not stop.is_set():
        src = "127.0.2.%d" % (1 + i % 200)
        i += 1
        try:
            s = tls_connect(a.port, a.ca, src, timeout=10)
            s.sendall(b"POST /servers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            got = read_answer(s, deadline=10)
            s.close()
            body = json.loads(got.partition(b"\r\n\r\n")[2] or b"{}")
            sid, tok = body["server"]["id"], body["token"]["id"]
            mods = [{"name": "mod_%s" % uuid.uuid4().hex[:12],
                     "description": "made up", "status": "Running",
                     "support_level": "extended"} for _ in range(a.modules)]
            report = json.dumps({"id": sid, "asterisk": {
                "version": {"name": "22.1.0", "number": "220100"},
                "modules": mods}}).encode()
            s = tls_connect(a.port, a.ca, src, timeout=30)
            s.sendall(("PUT /servers/%s?tokenId=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n" % (sid, tok, len(report))).encode() + report)
            st = status_line(read_answer(s, deadline=30)).split(" ")
            count("put_" + (st[1] if len(st) > 1 else "closed"))
            s.close()
        except (OSError, ssl.SSLError, ValueError, KeyError):
            count("failed")
            stop.wait(0.2)


def visitor(a, stop):
    """A reader of the public figures: GET /api/v1/stats every second, so
    that a snapshot is built (on today's code: on a request thread)."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            s = tls_connect(a.port, a.ca, "127.0.0.8", timeout=30)
            s.sendall(b"GET /api/v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n")
            st = status_line(read_answer(s, limit=1 << 24, deadline=30)).split(" ")
            s.close()
            count("stats_" + (st[1] if len(st) > 1 else "closed"))
            count("stats_ms_max", 0)
            with COUNTS_LOCK:
                ms = int((time.monotonic() - start) * 1000)
                COUNTS["stats_ms_max"] = max(COUNTS["stats_ms_max"], ms)
        except (OSError, ssl.SSLError):
            count("stats_failed")
        stop.wait(1.0)


def cmd_flood(a):
    stop = threading.Event()
    kinds = {"hog": flood_hog, "password": flood_password, "keys": flood_keys}
    threads = []
    if a.kind in kinds:
        targets = [kinds[a.kind]]
        if a.kind == "keys":
            targets = [flood_keys, flood_keys, visitor]
        for target in targets:
            t = threading.Thread(target=target, args=(a, stop), daemon=True)
            t.start()
            threads.append(t)
        time.sleep(min(2.0, a.seconds / 4))   # the attack takes hold first
    times, failed = [], 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        ms = healthz_ms(a.port, a.ca, "127.0.0.9", timeout=10.0)
        if ms is None:
            failed += 1
        else:
            times.append(ms)
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    print("%-9s healthz: n=%d failed=%d p50=%.0f ms p99=%.0f ms  attack: %s" % (
        a.kind, len(times), failed, percentile(times, 50), percentile(times, 99),
        " ".join("%s=%d" % kv for kv in sorted(COUNTS.items())) or "-"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    h = sub.add_parser("hog")
    h.add_argument("port", type=int)
    h.add_argument("ca")
    h.add_argument("--from", dest="source", default="127.0.0.2")
    h.add_argument("--count", type=int, default=40)
    h.add_argument("--settle", type=float, default=1.0)
    h.add_argument("--probe-from", default="127.0.0.3")
    h.add_argument("--probes", type=int, default=3)

    r = sub.add_parser("raw")
    r.add_argument("port", type=int)
    r.add_argument("ca")
    r.add_argument("--from", dest="source", default=None)

    pl = sub.add_parser("plain")
    pl.add_argument("port", type=int)
    pl.add_argument("--from", dest="source", default=None)

    c = sub.add_parser("chunked")
    c.add_argument("port", type=int)
    c.add_argument("ca")
    c.add_argument("path")
    c.add_argument("--total-kb", type=int, default=8192)
    c.add_argument("--from", dest="source", default=None)

    x = sub.add_parser("xff")
    x.add_argument("port", type=int)
    x.add_argument("ca")
    x.add_argument("--count", type=int, default=30)
    x.add_argument("--line", action="append", required=True)
    x.add_argument("--from", dest="source", default="127.0.0.1")

    f = sub.add_parser("flood")
    f.add_argument("kind", choices=["idle", "hog", "password", "keys"])
    f.add_argument("port", type=int)
    f.add_argument("ca")
    f.add_argument("--seconds", type=float, default=15)
    f.add_argument("--modules", type=int, default=5000)

    a = p.parse_args()
    {"hog": cmd_hog, "raw": cmd_raw, "plain": cmd_plain, "chunked": cmd_chunked,
     "xff": cmd_xff, "flood": cmd_flood}[a.cmd](a)


if __name__ == "__main__":
    main()
