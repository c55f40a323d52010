#!/usr/bin/python3
"""CONNECT proxy for the tests, on 127.0.0.1 only.  Standard library only.

    proxy.py [--port N] [--user USER:PASS] [--log FILE] [--tls CERT KEY]

Prints "READY port=N" once listening; stops on SIGTERM.  Only CONNECT to
127.0.0.1 is tunnelled (403 otherwise; 405 for any other method).  With
--user, a CONNECT without the right "Proxy-Authorization: Basic" gets 407.
Each CONNECT is logged to --log as one JSON line
{"target","auth","user","status"}: auth is "ok", "missing", "wrong" or
"not_required"; the password itself is never written.
"""

import argparse
import base64
import json
import select
import signal
import socket
import socketserver
import sys
import threading

ARGS = None
LOG_LOCK = threading.Lock()


def log(entry):
    if not ARGS.log:
        return
    with LOG_LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(socketserver.StreamRequestHandler):
    timeout = 30
    rbufsize = 0        # unbuffered: no tunnel byte is left in a buffer

    def reply(self, status, reason, extra=""):
        self.wfile.write(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n"
                          % (status, reason, extra)).encode())
        self.wfile.flush()

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1").strip()
        headers = {}
        while True:
            h = self.rfile.readline(8192).decode("latin-1")
            if h in ("", "\r\n", "\n"):
                break
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        words = line.split()
        if len(words) != 3:
            return
        method, target = words[0].upper(), words[1]
        if method != "CONNECT":
            log({"target": target, "method": method, "status": 405})
            self.reply(405, "Method Not Allowed")
            return

        auth, user = "not_required", None
        if ARGS.user is not None:
            given = headers.get("proxy-authorization")
            if given is None:
                auth = "missing"
            else:
                scheme, _, cred = given.partition(" ")
                try:
                    decoded = base64.b64decode(cred.strip(), validate=True)
                    decoded = decoded.decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    decoded = ""
                user = decoded.partition(":")[0]
                ok = scheme.lower() == "basic" and decoded == ARGS.user
                auth = "ok" if ok else "wrong"
        entry = {"target": target, "auth": auth, "user": user}

        if auth in ("missing", "wrong"):
            entry["status"] = 407
            log(entry)
            self.reply(407, "Proxy Authentication Required",
                       'Proxy-Authenticate: Basic realm="beacon-test"\r\n')
            return
        host, _, port = target.rpartition(":")
        if host.strip("[]") != "127.0.0.1" or not port.isdigit():
            entry["status"] = 403
            log(entry)
            self.reply(403, "Forbidden")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            entry["status"] = 502
            log(entry)
            self.reply(502, "Bad Gateway")
            return
        entry["status"] = 200
        log(entry)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self.tunnel(upstream)

    def tunnel(self, upstream):
        client = self.connection
        client.settimeout(None)
        upstream.settimeout(None)
        socks = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(socks, [], [], 60)
                if not readable:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", help="USER:PASS required from clients")
    ap.add_argument("--log")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="an https:// proxy: TLS to the proxy itself")
    ARGS = ap.parse_args()
    try:
        srv = Server(("127.0.0.1", ARGS.port), Handler)
    except OSError as e:
        sys.exit("proxy.py: cannot listen on 127.0.0.1:%d: %s" % (ARGS.port, e))
    if ARGS.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY port=%d" % srv.server_address[1], flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()


if __name__ == "__main__":
    main()
