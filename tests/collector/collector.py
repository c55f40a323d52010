#!/usr/bin/python3
"""HTTPS test collector: the Asterisk Beacon REST API (res_beacon-design.md)
for the tests, on 127.0.0.1 only.  Python standard library only.

    collector.py --cert C --key K --state DIR [--port N] [--bind 127.0.0.1]

Prints "READY port=N" once listening; stops on SIGTERM.

State directory:
  requests.jsonl   every request, one JSON object a line:
                   {"method","path","query","headers","body","status","time"}
  connections.log  every accepted connection and how its TLS handshake went
  registry.json    the servers it knows: {id: {"token","issued"(epoch)}};
                   read on every request, so a test may edit it
  servers/ID.json  the last accepted PUT body of each server (its report)
  control.json     read on every request (see README): a queue of canned
                   "responses" and the global keys "delay", "rotate_token",
                   "clock_offset", "notices" (any JSON: put as is beside
                   the token of every 200 PUT answer)

Protocol (CONTRACT.md section 6):
  POST .../servers        -> 200 {"token":{"id","issued"},"server":{"id"}}
  PUT  .../servers/ID?tokenId=T
       unknown ID -> 404; token younger than 48 h and T missing or
       different -> 401; body not a JSON object or its "id" not ID -> 400;
       else 200 {"id","issued"}: the same token, or a new one when the old
       had expired (or rotate_token is set).
"""

import argparse
import datetime
import http.server
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import uuid

TOKEN_LIFE = 48 * 3600
MAX_BODY = 16 * 1024 * 1024

STATE = None            # state directory
LOCK = threading.Lock()  # guards control.json, registry.json, the logs
STOPPING = threading.Event()


def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(
        int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def path_in_state(name):
    return os.path.join(STATE, name)


def read_json_file(name, default):
    try:
        with open(path_in_state(name), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return default
    if not text.strip():
        return default
    return json.loads(text)


def write_json_file(name, value):
    """Replace a state file atomically (tests read them at any time)."""
    final = path_in_state(name)
    tmp = "%s.tmp.%d.%d" % (final, os.getpid(), threading.get_ident())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, final)


def append_line(name, text):
    with open(path_in_state(name), "a", encoding="utf-8") as f:
        f.write(text + "\n")


def take_canned(control, method, path):
    """Pop the first queued response that applies to this request; the
    caller holds LOCK and rewrites control.json when one was taken."""
    queue = control.get("responses") or []
    for i, entry in enumerate(queue):
        match = entry.get("match")
        if match:
            words = match.split(None, 1)
            if words[0].upper() != method:
                continue
            if len(words) > 1 and words[1] not in path:
                continue
        del queue[i]
        return entry
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "beacon-test-collector/1"
    timeout = 30            # idle keep-alive connections end after this

    def log_message(self, fmt, *args):  # quiet: requests.jsonl is the log
        pass

    # ---- request plumbing --------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(16)
                if len(data) > MAX_BODY:
                    raise ValueError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def record(self, body, status, note=None):
        path, _, query = self.path.partition("?")
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", errors="replace"),
            "status": status,
        }
        if note:
            entry["canned"] = note
        with LOCK:
            append_line("requests.jsonl", json.dumps(entry, sort_keys=True))

    def answer(self, status, payload, headers=None):
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload or b""
        self.send_response(status)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def drop(self):
        """End the connection without any answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- dispatch ----------------------------------------------------------

    def handle_any(self):
        try:
            body = self.read_body()
        except (ValueError, OSError) as e:
            self.record(b"", 400, "unreadable body: %s" % e)
            self.answer(400, {"error": "unreadable body"})
            return
        with LOCK:
            control = read_json_file("control.json", {})
            canned = take_canned(control, self.command, self.path)
            if canned is not None:
                write_json_file("control.json", control)
        delay = float(control.get("delay") or 0)
        if canned is not None:
            self.play(canned, body, delay)
            return
        if delay:
            time.sleep(delay)
        status, payload = self.api(body, control)
        self.record(body, status)
        self.answer(status, payload)

    def play(self, entry, body, delay):
        delay = float(entry.get("delay", delay) or 0)
        note = json.dumps(entry, sort_keys=True)
        if entry.get("hang"):
            self.record(body, None, note)
            # Hold the connection until the collector is stopped.
            STOPPING.wait(3600)
            self.drop()
            return
        if delay:
            time.sleep(delay)
        if entry.get("close"):
            self.record(body, None, note)
            self.drop()
            return
        if entry.get("garbage"):
            self.record(body, 200, note)
            self.answer(200, b"<html>\x00\xff this is not JSON {\"id\":",
                        {"Content-Type": "text/html"})
            return
        if entry.get("oversize"):
            # Valid JSON with a valid token, only too big: a client that
            # accepts it has no size limit.
            pad = "x" * (100 * 1024)
            payload = {"id": str(uuid.uuid4()), "issued": rfc3339(time.time()),
                       "pad": pad}
            self.record(body, 200, note)
            self.answer(200, payload)
            return
        if entry.get("redirect"):
            self.record(body, 302, note)
            self.answer(302, "", {"Location": entry["redirect"]})
            return
        status = int(entry.get("status", 200))
        self.record(body, status, note)
        self.answer(status, entry.get("body", ""), entry.get("headers"))

    def api(self, body, control):
        """The normal behaviour; returns (status, payload)."""
        path = self.path.partition("?")[0].rstrip("/")
        query = self.path.partition("?")[2]
        parts = path.split("/")
        now = time.time() + float(control.get("clock_offset") or 0)
        rotate = bool(control.get("rotate_token"))

        if self.command == "POST" and parts[-1] == "servers":
            sid, tok = str(uuid.uuid4()), str(uuid.uuid4())
            with LOCK:
                reg = read_json_file("registry.json", {})
                reg[sid] = {"token": tok, "issued": now}
                write_json_file("registry.json", reg)
            return 200, {"token": {"id": tok, "issued": rfc3339(now)},
                         "server": {"id": sid}}

        if len(parts) >= 2 and parts[-2] == "servers":
            if self.command != "PUT":
                return 405, {"error": "method not allowed"}
            sid = parts[-1]
            given = None
            for pair in query.split("&"):
                k, eq, v = pair.partition("=")
                if k == "tokenId" and eq:
                    given = v
            with LOCK:
                reg = read_json_file("registry.json", {})
                srv = reg.get(sid)
                if srv is None:
                    return 404, {"error": "no such server"}
                expired = now - float(srv["issued"]) >= TOKEN_LIFE
                if not expired and given != srv["token"]:
                    return 401, {"error": "Invalid token provided"}
                try:
                    report = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    return 400, {"error": "body is not JSON"}
                if not isinstance(report, dict) or report.get("id") != sid:
                    return 400, {"error": "body id does not match the path"}
                if expired or rotate:
                    srv = {"token": str(uuid.uuid4()), "issued": now}
                    reg[sid] = srv
                    write_json_file("registry.json", reg)
                os.makedirs(path_in_state("servers"), exist_ok=True)
                tmp = path_in_state("servers/%s.json.tmp" % sid)
                with open(tmp, "wb") as f:
                    f.write(body)
                os.replace(tmp, path_in_state("servers/%s.json" % sid))
            answer = {"id": srv["token"], "issued": rfc3339(srv["issued"])}
            if "notices" in control:
                answer["notices"] = control["notices"]
            return 200, answer

        return 404, {"error": "no such resource"}

    do_POST = do_PUT = do_GET = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ssl_context = None

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread,
        # so a client that stalls or refuses the certificate blocks no one.
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with LOCK:
                append_line("connections.log",
                            "%s:%d tls_error %s" % (client_address[0],
                                                    client_address[1], e))
            return
        with LOCK:
            append_line("connections.log", "%s:%d tls_ok %s" % (
                client_address[0], client_address[1], tls.version()))
        tls.settimeout(None)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()

    try:
        if not ipaddress.ip_address(args.bind).is_loopback or \
                ipaddress.ip_address(args.bind).version != 4:
            raise ValueError
    except ValueError:
        sys.exit("collector.py: --bind must be a 127.x.x.x address, not %r"
                 % args.bind)

    STATE = args.state
    os.makedirs(os.path.join(STATE, "servers"), exist_ok=True)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    try:
        httpd = Server((args.bind, args.port), Handler)
    except OSError as e:
        sys.exit("collector.py: cannot listen on %s:%d: %s"
                 % (args.bind, args.port, e))
    httpd.ssl_context = ctx

    def stop(signum, frame):
        STOPPING.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print("READY port=%d" % httpd.server_address[1], flush=True)
    httpd.serve_forever(poll_interval=0.1)
    httpd.server_close()


if __name__ == "__main__":
    main()
