#!/usr/bin/env python3
"""Load pages in headless Chromium at several widths and check their layout.

Drives Debian's chromium through the DevTools protocol on a pipe
(--remote-debugging-pipe: no port, nothing to reach but the pipe), Python's
standard library only.  For each page and width it fails when
  - an element's content overflows its box sideways (a box that scrolls,
    overflow-x auto or scroll, may), or the page itself scrolls sideways;
  - a chart (an <svg>) draws no data (no bar, line, area or marker);
  - an SVG text's box leaves its <svg> (a label cut), or two texts of one
    chart overlap;
  - a label cut short (ending in "…") has no <title> with the whole text;
  - a chart's axis runs far past its data (the top tick more than 1.3
    times the highest value);
  - the page asked anything of another origin, or ran a script.
The page's own JavaScript is none (CSP); the checks run through DevTools.

  browser_check.py [--auth USER:PASS] [--shot WIDTHxHEIGHT=FILE.png]...
                   BASE-URL WIDTH[,WIDTH...] PATH...
Exit status 0: every check held; 1: a defect (each on stderr); 2: trouble.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHECK_JS = r"""
(() => {
  const bad = [];
  const name = e => {
    let s = e.tagName.toLowerCase();
    if (e.id) s += '#' + e.id;
    const c = e.getAttribute('class');
    if (c) s += '.' + c.trim().split(/\s+/).join('.');
    return s;
  };
  const where = e => {
    const p = [];
    for (let x = e; x && x !== document.body && p.length < 4; x = x.parentElement)
      p.unshift(name(x));
    return p.join(' > ');
  };
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1)
    bad.push(`the page scrolls sideways: ${root.scrollWidth} px wide in ${root.clientWidth}`);
  // Boxes whose content is wider than they are; the deepest only.
  const over = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;
    if (e.clientWidth === 0) continue;
    const cs = getComputedStyle(e);
    if (cs.overflowX === 'auto' || cs.overflowX === 'scroll') continue;
    if (cs.overflowX === 'hidden' && cs.textOverflow === 'ellipsis') continue;
    if (e.scrollWidth > e.clientWidth + 1) over.push(e);
  }
  for (const e of over)
    if (!over.some(o => o !== e && e.contains(o)))
      bad.push(`overflows its box: ${where(e)} (${e.scrollWidth} px of content in ${e.clientWidth}): ` +
               JSON.stringify(e.textContent.trim().slice(0, 60)));
  const num = s => { const m = /-?[0-9][0-9,]*(\.[0-9]+)?/.exec(s || ''); return m ? parseFloat(m[0].replace(/,/g, '')) : NaN; };
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentElement.closest('svg')) continue;
    const id = where(svg);
    const s = svg.getBoundingClientRect();
    if (s.width === 0) continue;   // in a closed <details>
    const marks = svg.querySelectorAll('rect.bar, path, polyline, circle, rect.mark');
    if (marks.length === 0 || svg.querySelector('text.empty'))
      bad.push(`an empty chart: ${id}`);
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    const boxes = texts.map(t => t.getBoundingClientRect());
    texts.forEach((t, i) => {
      const r = boxes[i], txt = JSON.stringify(t.textContent.trim().slice(0, 40));
      if (r.left < s.left - 0.5 || r.right > s.right + 0.5 ||
          r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5)
        bad.push(`a label cut by its chart: ${id}: ${txt} at x ${(r.left - s.left).toFixed(1)}..${(r.right - s.left).toFixed(1)}, ` +
                 `y ${(r.top - s.top).toFixed(1)}..${(r.bottom - s.top).toFixed(1)} in ${s.width.toFixed(0)}x${s.height.toFixed(0)}`);
      const own = [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
      if (own.trim().endsWith('\u2026')) {
        const title = t.querySelector('title');
        if (!title || title.textContent.length <= own.trim().length - 1)
          bad.push(`a label cut short without its whole text in a <title>: ${id}: ${txt}`);
      }
      for (let j = 0; j < i; j++) {
        const q = boxes[j];
        const dx = Math.min(r.right, q.right) - Math.max(r.left, q.left);
        const dy = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
        if (dx > 1 && dy > 1)
          bad.push(`two labels overlap: ${id}: ${txt} and ${JSON.stringify(texts[j].textContent.trim().slice(0, 40))}`);
      }
    });
    // The axis: its top tick near the data.
    // Ticks that are numbers (not days: "7 Nov").
    const ticks = [...svg.querySelectorAll('text.tick')].map(t => t.textContent.trim())
      .filter(t => /^[0-9][0-9,.]*$/.test(t)).map(num);
    const values = [...svg.querySelectorAll('text.value, circle.marker > title')].map(t => num(t.textContent.replace(/^[0-9]{4}-[0-9]{2}-[0-9]{2}: /, ''))).filter(v => !isNaN(v));
    if (ticks.length && values.length) {
      const top = Math.max(...ticks), high = Math.max(...values);
      if (high >= 5 && top > 1.3 * high)
        bad.push(`an axis far past its data: ${id}: up to ${top} for a highest value of ${high}`);
    }
  }
  if (document.querySelector('script')) bad.push('a <script> in the page');
  return bad;
})()
"""


class Browser:
    """One headless chromium, spoken to over --remote-debugging-pipe."""

    def __init__(self, exe):
        self.profile = tempfile.mkdtemp(prefix="browser-check.")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # Into a free fd first: either may be 3 or 4 already.
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--mute-audio",
             "--disable-features=AutofillServerCommunication,Translate,OptimizationHints",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.profile, "stderr"), "w"),
            preexec_fn=fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        mid = self.next_id
        m = {"id": mid, "method": method, "params": params}
        if session:
            m["sessionId"] = session
        os.write(self.to_child, json.dumps(m).encode() + b"\0")
        while True:
            r = self._read()
            if r.get("id") == mid:
                if "error" in r:
                    raise RuntimeError("%s: %s" % (method, r["error"]))
                return r.get("result", {})
            self.events.append(r)

    def wait_event(self, method, session, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e.get("method") == method and e.get("sessionId") == session:
                    del self.events[i]
                    return e
            self.events.append(self._read())
        raise RuntimeError("no %s within %d s" % (method, timeout))

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def load(b, url, width, height, auth):
    """A fresh tab at width x height with url loaded: (session, requests)."""
    target = b.call("Target.createTarget", url="about:blank")["targetId"]
    s = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    b.call("Emulation.setDeviceMetricsOverride", s, width=width, height=height,
           deviceScaleFactor=1, mobile=width < 600)
    b.call("Network.enable", s)
    if auth:
        b.call("Network.setExtraHTTPHeaders", s, headers={
            "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()})
    b.call("Page.enable", s)
    b.events = [e for e in b.events if e.get("sessionId") != s]
    b.call("Page.navigate", s, url=url)
    b.wait_event("Page.loadEventFired", s)
    reqs = [e["params"]["request"]["url"] for e in b.events
            if e.get("sessionId") == s and e.get("method") == "Network.requestWillBeSent"]
    status = [e["params"]["response"]["status"] for e in b.events
              if e.get("sessionId") == s and e.get("method") == "Network.responseReceived"
              and e["params"]["type"] == "Document"]
    b.events = [e for e in b.events if e.get("sessionId") != s]
    return target, s, reqs, status


def main(argv):
    auth, shots = None, []
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--auth":
            auth = argv.pop(0)
        elif opt == "--shot":
            size, path = argv.pop(0).split("=", 1)
            w, h = size.split("x")
            shots.append((int(w), int(h), path))
        else:
            sys.exit("browser_check.py: unknown option %s" % opt)
    if len(argv) < 3 and not (shots and len(argv) == 2):
        print(__doc__, file=sys.stderr)
        return 2
    base, widths, paths = argv[0].rstrip("/"), argv[1], argv[2:]
    b = Browser(os.environ.get("CHROMIUM", "chromium"))
    defects = 0
    try:
        if shots:
            for w, h, path in shots:
                target, s, _, _ = load(b, base + paths[0], w, h, auth)
                png = b.call("Page.captureScreenshot", s, format="png")["data"]
                with open(path, "wb") as f:
                    f.write(base64.b64decode(png))
                b.call("Target.closeTarget", targetId=target)
                print("%s at %dx%d: %s" % (paths[0], w, h, path))
            return 0
        for path in paths:
            for w in [int(x) for x in widths.split(",")]:
                target, s, reqs, status = load(b, base + path, w, 900, auth)
                problems = []
                if status != [200]:
                    problems.append("HTTP status %r" % status)
                problems += ["asked another origin: %s" % u for u in reqs
                             if not (u.startswith(base + "/") or u.startswith("data:"))]
                r = b.call("Runtime.evaluate", s, expression=CHECK_JS, returnByValue=True)
                if "exceptionDetails" in r:
                    problems.append("the check failed: %r" % r["exceptionDetails"])
                else:
                    problems += r["result"]["value"]
                b.call("Target.closeTarget", targetId=target)
                for p in problems:
                    print("%s at %d px: %s" % (path, w, p), file=sys.stderr)
                defects += len(problems)
                print("%s at %d px: %s" % (path, w, "%d defects" % len(problems)
                                          if problems else "ok"))
    except (RuntimeError, OSError) as e:
        print("browser_check.py: %s" % e, file=sys.stderr)
        return 2
    finally:
        b.close()
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
