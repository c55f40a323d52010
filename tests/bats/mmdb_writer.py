#!/usr/bin/env python3
"""A tiny MaxMind DB writer for the tests (format v2.0,
https://maxmind.github.io/MaxMind-DB/): no download, no dependency.

    mmdb_writer.py OUT [--ipv6] [--type GeoLite2-Country] NET=CC...

NET is an IPv4 address or network (127.0.0.2, 10.0.0.0/8); CC the ISO code
its record carries, {"country": {"iso_code": CC, "names": {"en": CC}}}, as
in GeoLite2-Country and DB-IP Lite country.  An IPv4 tree by default;
--ipv6 writes an IPv6 tree with the IPv4 networks under ::/96 (where
libmaxminddb looks up an IPv4 address in an IPv6 database) and under
::ffff:0:0/96.  Addresses in no NET have no record.
"""
import ipaddress
import struct
import sys


def ctrl(typ, size):
    """A control byte (and extended type and size bytes)."""
    if size < 29:
        sb, extra = size, b""
    elif size < 29 + 256:
        sb, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        sb, extra = 30, struct.pack(">H", size - 285)
    else:
        sb, extra = 31, struct.pack(">I", size - 65821)[1:]
    if typ <= 7:
        return bytes([(typ << 5) | sb]) + extra
    return bytes([sb, typ - 7]) + extra


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + enc(x)
        return out
    if isinstance(v, list):
        out = ctrl(11, len(v))
        for x in v:
            out += enc(x)
        return out
    if isinstance(v, tuple):  # (type, value): unsigned integers
        typ, n = v
        b = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
        return ctrl(typ, len(b)) + b
    raise TypeError(v)


U16, U32, U64 = 5, 6, 9


def main(argv):
    out, ipv6, dbtype, nets = argv[0], False, "GeoLite2-Country", []
    rest = argv[1:]
    while rest:
        a = rest.pop(0)
        if a == "--ipv6":
            ipv6 = True
        elif a == "--type":
            dbtype = rest.pop(0)
        else:
            net, cc = a.split("=", 1)
            nets.append((ipaddress.IPv4Network(net, strict=False), cc))

    # Data section: one record per country.
    data, offset_of = b"", {}
    for _, cc in nets:
        if cc not in offset_of:
            offset_of[cc] = len(data)
            data += enc({"country": {"iso_code": cc, "names": {"en": cc}}})

    # The tree as nested lists: [left, right]; a leaf is ("data", cc).
    root = [None, None]

    def insert(bits, cc):
        node = root
        for i, bit in enumerate(bits):
            if i == len(bits) - 1:
                node[bit] = ("data", cc)
            else:
                if not isinstance(node[bit], list):
                    node[bit] = [None, None]
                node = node[bit]

    for net, cc in nets:
        v4 = [int(c) for c in format(int(net.network_address), "032b")][:net.prefixlen]
        if ipv6:
            insert([0] * 96 + v4, cc)
            insert([0] * 80 + [1] * 16 + v4, cc)
        else:
            insert(v4, cc)

    # Number the nodes breadth first, then write them.
    order, queue = [], [root]
    while queue:
        n = queue.pop(0)
        order.append(n)
        queue.extend(c for c in n if isinstance(c, list))
    index = {id(n): i for i, n in enumerate(order)}
    count = len(order)

    def record(c):
        if c is None:
            return count  # no data
        if isinstance(c, list):
            return index[id(c)]
        return count + 16 + offset_of[c[1]]

    tree = b""
    for n in order:
        tree += struct.pack(">I", record(n[0]))[1:] + struct.pack(">I", record(n[1]))[1:]

    meta = enc({
        "node_count": (U32, count),
        "record_size": (U16, 24),
        "ip_version": (U16, 6 if ipv6 else 4),
        "database_type": dbtype,
        "languages": ["en"],
        "binary_format_major_version": (U16, 2),
        "binary_format_minor_version": (U16, 0),
        "build_epoch": (U64, 1700000000),
        "description": {"en": "beacon test countries"},
    })
    with open(out, "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)


if __name__ == "__main__":
    main(sys.argv[1:])
