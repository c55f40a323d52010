#!/usr/bin/env python3
"""Drives a real beacon-collector for collector_stats.bats.

  collector_stats.py PORT CA seed SPEC.json IDS.json   register + report each server
  collector_stats.py PORT CA report IDS.json NAME SPEC.json   one more report of NAME
  collector_stats.py PORT CA get PATH [HEADER]         prints status, content type, body
A server spec: {"name": ..., "version": "22.10.1", "modules": [[name, status,
support]], "os": [sys_name, machine, release], "uptime_s": N, "calls":
[active, processed], "private_name": ...}.
"""
import http.client, json, ssl, sys, time

port, ca, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile=ca)


def req(method, path, body=None, headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheader("Content-Type"), r.getheader("WWW-Authenticate"), data


def now_from_clock():
    import os
    path = os.environ.get("BEACON_COLLECTOR_CLOCK_FILE")
    if path:
        t = open(path).read().strip()
        return int(time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)
    return int(time.time())


def report_body(sid, spec):
    ast = {"version": {"name": "Asterisk " + spec["version"], "number": "0"}}
    if "modules" in spec:
        ast["modules"] = [dict(name=m[0], description="d", status=m[1],
                               **({"support_level": m[2]} if m[2] else {}))
                          for m in spec["modules"]]
    st = {}
    if "uptime_s" in spec:
        st["run_time"] = {"startup_time": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_from_clock() - spec["uptime_s"]))}
    if "calls" in spec:
        st["calls"] = {"active": spec["calls"][0], "processed": spec["calls"][1]}
    if st:
        ast["stats"] = st
    body = {"id": sid, "asterisk": ast}
    if "os" in spec:
        body["operating_system"] = dict(zip(["sys_name", "machine", "release"], spec["os"]))
    if "hw" in spec:    # [cpu_count, memory_total_kb], either null: absent
        os_ = body.setdefault("operating_system", {})
        for k, v in zip(["cpu_count", "memory_total_kb"], spec["hw"]):
            if v is not None:
                os_[k] = v
    if "private_name" in spec:
        body["private_name"] = spec["private_name"]
    return json.dumps(body)


def send(sid, token, spec):
    s, _, _, data = req("PUT", "/servers/%s?tokenId=%s" % (sid, token),
                        report_body(sid, spec))
    if s != 200:
        sys.exit("PUT %s: %d %s" % (spec["name"], s, data))
    return json.loads(data)["id"]


if cmd == "seed":
    specs = json.load(open(sys.argv[4]))
    ids = {}
    for spec in specs:
        s, _, _, data = req("POST", "/servers", b"")
        if s != 201:
            sys.exit("POST: %d %s" % (s, data))
        j = json.loads(data)
        sid = j["server"]["id"]
        ids[spec["name"]] = [sid, send(sid, j["token"]["id"], spec)]
    json.dump(ids, open(sys.argv[5], "w"))
elif cmd == "report":
    ids = json.load(open(sys.argv[4]))
    name, spec = sys.argv[5], json.load(open(sys.argv[6]))
    sid, token = ids[name]
    ids[name] = [sid, send(sid, token, spec)]
    json.dump(ids, open(sys.argv[4], "w"))
elif cmd == "get":
    hdrs = {"Authorization": sys.argv[5]} if len(sys.argv) > 5 else {}
    s, ct, www, data = req("GET", sys.argv[4], headers=hdrs)
    print(s)
    print(ct)
    print(www or "")
    sys.stdout.write(data.decode())
