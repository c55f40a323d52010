#!/usr/bin/env python3
"""Check that #include "..." lines run one way.

Usage: check-layers.py [TREE].  Reads TREE/tests/layers.txt (the declared floors, top to bottom) and every .c
and .h file of the source tree (not tests/, fuzz/, bench/, build*/,
debian/).  Fails, naming the files, when
  - a file sits in a folder that layers.txt does not declare;
  - a folder includes one on its own floor or above it;
  - files include each other in a circle (X.c and X.h count as one file).
Prints one line per finding and exits 1, or prints "layers: ok" and 0.
"""
import os
import re
import sys

# The tree to check: the first argument, else the one this script is in.
ROOT = (os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP = ("tests", "fuzz", "bench", "debian", ".git")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def floors():
    """{folder: floor number}, 0 the top."""
    out = {}
    with open(os.path.join(ROOT, "tests", "layers.txt")) as f:
        n = 0
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            for folder in line:
                out[folder] = n
            n += 1
    return out


def sources():
    for top, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(top, ROOT)
        if rel != "." and (rel.split(os.sep)[0] in SKIP or
                           rel.split(os.sep)[0].startswith("build")):
            dirs[:] = []
            continue
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.normpath(os.path.join(rel, name))


def node(path):
    """A file's node: X.c and X.h are one."""
    return os.path.splitext(path)[0]


def folder(path):
    return os.path.dirname(path) or "."


def main():
    order = floors()
    problems = []
    edges = {}
    files = set(sources())
    for path in sorted(files):
        if folder(path) not in order:
            problems.append("%s: folder %s is not declared in tests/layers.txt"
                            % (path, folder(path)))
            continue
        with open(os.path.join(ROOT, path), errors="replace") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            target = os.path.normpath(os.path.join(folder(path), inc))
            if target not in files:
                continue        # generated (build/), or outside the tree
            a, b = folder(path), folder(target)
            if b not in order:
                continue        # said above, for the file itself
            if a != b and order[b] <= order[a]:
                where = "beside it" if order[b] == order[a] else "above it"
                problems.append("%s includes %s: folder %s is %s (tests/layers.txt)"
                                % (path, target, b, where))
            if node(target) != node(path):
                edges.setdefault(node(path), set()).add(node(target))
    # Circles between files: a depth-first search over the include graph.
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                cycle = stack[stack.index(m):] + [m]
                problems.append("circle of includes: " + " -> ".join(cycle))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    sys.setrecursionlimit(10000)
    for n in sorted(edges):
        if n not in state:
            visit(n)
    for p in problems:
        print("layers: " + p)
    if problems:
        return 1
    print("layers: ok (%d files, %d folders)" % (len(files), len(order)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
