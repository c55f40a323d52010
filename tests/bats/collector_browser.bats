#!/usr/bin/env bats
# The pages in a real browser: Debian's chromium, headless, loads / and
# /fleet from a seeded beacon-collector (plain HTTP on loopback, which the
# contract allows), and the test checks the rendered DOM (every chart with
# its title, description, axis labels and table; no script), that the
# browser asked nothing of another origin (its own net log), and takes
# screenshots at 390x844 and 1440x900.  BEACON_SAVE_SCREENSHOTS=1 also
# copies them into docs/ for the README.  The layout tests load every page
# of LAYOUT_PAGES at LAYOUT_WIDTHS through tests/browser_check.py (DevTools
# over a pipe) with a fleet from tools/seed-fleet, and first prove that the
# checker fails on a page made of the old dashboard's defects.

# shellcheck disable=SC2154  # API_*, SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

# The pages the layout test loads, one a line ("{id}": a PBX of the fleet).
LAYOUT_PAGES=(
	/
	/fleet
	"/fleet/{id}"
	/modules
	/modules/chan_sip.so
)
LAYOUT_WIDTHS=360,390,1280,1920

CHARTS=(history major-versions versions modules deprecated channel-drivers os machine kernel uptime)

setup_file() {
	harness_setup_file
	command -v chromium >/dev/null || skip "no chromium (Debian package chromium)"
	local bin="${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}"
	BROWSER_HASH=$(printf 'show me\n' | "$bin" --hash-password)
	export BROWSER_HASH
	# Chromium 120 (Debian 11) sizes --headless=new's screenshots as it
	# likes (526x735 for --window-size=390,844, measured); its old headless
	# mode, still built in until 131, honours the size.  Later ones (156 on
	# Debian 12) honour it in the new mode, the only one they have.
	local major
	major=$(chromium --version | awk '{ split($2, v, "."); print v[1] + 0 }')
	HEADLESS=new
	[ "$major" -gt 120 ] || HEADLESS=old
	export HEADLESS
}

setup() {
	harness_setup
	command -v chromium >/dev/null || skip "no chromium (Debian package chromium)"
}

# start_plain: the collector on http://127.0.0.1:PORT (tls = no), the
# same port across restarts; BC_URL is the plain URL.
start_plain() {
	local i
	export BC_INI="$BATS_TEST_TMPDIR/collector.ini" BC_LOG="$BATS_TEST_TMPDIR/collector.log"
	export BC_CERT=/nonexistent BC_KEY=/nonexistent
	if [ -z "${BC_DATABASE:-}" ]; then
		BC_DATABASE=$(collector_test_database) || flunk "no test database"
		export BC_DATABASE
	fi
	if [ -z "${BEACON_COLLECTOR_CLOCK_FILE:-}" ]; then
		export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/collector.clock"
		CLOCK0=$(date -u -d "2026-11-24T09:00:00Z" +%s)
		collector_clock_at 0 >/dev/null
	fi
	[ -n "${BC_PORT:-}" ] || BC_PORT=$(free_port)
	export BC_PORT BC_URL="http://127.0.0.1:$BC_PORT"
	write_collector_ini "$BC_INI" collector.tls=no collector.tls_cert=- collector.tls_key=- \
		"collector.admin_password_hash=$BROWSER_HASH" \
		limits.registrations_per_address_per_hour=0 limits.requests_per_address_per_minute=0 \
		limits.min_update_interval=0 privacy.min_group=2 privacy.established_days=1
	"$COLLECTOR_BIN" -c "$BC_INI" </dev/null >>"$BC_LOG" 2>&1 3>&- &
	BC_PID=$!
	_record_pid "$BC_PID" "collector:bc"
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s --max-time 2 "$BC_URL/healthz")" = ok ] && return 0
		sleep 0.05
	done
	flunk "beacon-collector (plain) did not start:" "$(tail -n 20 "$BC_LOG")"
}

restart_plain() {
	kill -TERM "$BC_PID" && wait_collector_exit 12 && start_plain
}

# pbx N VERSION SYSTEM MACHINE RELEASE CHAN [EXTRA-MODULE]: one PBX reporting.
pbx() {
	local n=$1 version=$2 sys=$3 machine=$4 release=$5 chan=$6 extra=${7:-}
	register || return 1
	put_report "$SID" "$TOK" "r['private_name'] = 'pbx-$n'" \
		"r['asterisk']['version']['name'] = '$version'" \
		"r['operating_system'].update(sys_name='$sys', machine='$machine', release='$release')" \
		"r['asterisk']['stats']['calls'] = {'active': $((n % 5)), 'processed': $((n * 1733))}" \
		"[r['asterisk']['modules'].append({'name': m, 'description': m, 'status': 'Running', 'support_level': 'deprecated' if m in ('chan_sip.so', 'app_macro.so') else 'core'}) for m in '$chan $extra'.split()]" \
		"r['asterisk']['modules'] = [m for m in r['asterisk']['modules'] if not ('$chan' == 'chan_sip.so' and m['name'] in ('res_pjsip.so', 'chan_pjsip.so'))]"
	assert_api 200
}

# A fleet over five days, restarted each day so that the history has a row
# a day.
seed_fleet() {
	start_plain
	local n=0 day
	for day in 0 1 2 3 4; do
		collector_clock_at $((day * 86400)) >/dev/null
		[ "$day" -gt 0 ] && restart_plain
		pbx $((++n)) 22.10.1 Linux x86_64 6.1.0-28-amd64 chan_pjsip.so
		pbx $((++n)) 22.10.1 Linux x86_64 6.1.0-28-amd64 chan_pjsip.so app_queue.so
		pbx $((++n)) 20.5.0 Linux x86_64 5.10.0-30-amd64 chan_pjsip.so
		pbx $((++n)) 18.21.0 Linux aarch64 6.1.0-28-arm64 chan_sip.so app_macro.so
		if [ $((day % 2)) -eq 0 ]; then
			pbx $((++n)) 21.4.1 FreeBSD amd64 14.1-RELEASE chan_pjsip.so
			pbx $((++n)) 16.30.0 Linux x86_64 4.19.0-27-amd64 chan_sip.so
		fi
	done
	collector_clock_at $((4 * 86400 + 3600)) >/dev/null
}

# browse OUT URL [ARGS...]: chromium, headless, with every host but
# loopback unresolvable and a net log of every request; OUT.dom is the
# rendered DOM, OUT.netlog the log.
browse() {
	local out=$1 url=$2
	shift 2
	timeout 90 chromium --headless="$HEADLESS" --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --no-default-browser-check --disable-extensions \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-features=AutofillServerCommunication,Translate,OptimizationHints \
		--user-data-dir="$BATS_TEST_TMPDIR/chromium" \
		--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
		--log-net-log="$out.netlog" "$@" "$url" >"$out.out" 2>"$out.err"
}

# no_other_origin NETLOG: every request the page made (those keyed to
# the page's site in the net log; chromium's own background requests are
# keyed otherwise) is for BC_URL or data:, and there was one at least.
no_other_origin() {
	"$PY" - "$1" "$BC_URL" <<'PY'
import json, re, sys
log = json.load(open(sys.argv[1], encoding="utf-8"))
base = sys.argv[2]
types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
page = []
for e in log["events"]:
    p = e.get("params", {})
    if types.get(e["type"]) == "URL_REQUEST_START_JOB" and \
            p.get("network_isolation_key", "").startswith("http://127.0.0.1"):
        page.append(p["url"])
if not page:
    sys.exit("the net log shows no request of the page")
# Chromium 120's old headless mode logs the user info the test typed
# (http://admin:...@127.0.0.1/fleet): the same origin, compared without it.
page = [re.sub(r"^(https?://)[^/@]*@", r"\1", u) for u in page]
bad = [u for u in page if not (u.startswith(base + "/") or u.startswith("data:"))]
if bad:
    sys.exit("the page asked another origin: %r" % bad)
PY
}

@test "chromium renders / : every chart with its title, description, axis labels and table; no script; nothing from another origin" {
	seed_fleet
	local out="$BATS_TEST_TMPDIR/dash"
	browse "$out" "$BC_URL/" --dump-dom
	local dom="$out.out"
	[ -s "$dom" ] || flunk "chromium printed no DOM:" "$(tail -n 20 "$out.err")"
	"$PY" - "$dom" "${CHARTS[@]}" <<'PY'
import sys
from html.parser import HTMLParser
dom = open(sys.argv[1], encoding="utf-8").read()
charts = sys.argv[2:]

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.figs, self.cur, self.scripts = [], {}, None, 0
        self.texts = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "title" and "id" in a:
            tag = "title#"
        if tag == "figure":
            self.cur = a.get("id")
            self.figs[self.cur] = {"svg": None, "title": "", "desc": "", "table": 0,
                                   "texts": [], "h2": ""}
        f = self.figs.get(self.cur)
        if f is not None:
            if tag == "svg":
                f["svg"] = a
            if tag == "table":
                f["table"] += 1
        self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag == "title" and "title#" in self.stack:
            tag = "title#"
        while self.stack and self.stack.pop() != tag:
            pass
        if tag == "figure":
            self.cur = None
    def handle_data(self, data):
        f = self.figs.get(self.cur)
        if f is None or not self.stack:
            return
        top = self.stack[-1]
        if top in ("title#", "desc", "h2"):
            f[top.rstrip("#")] += data
        if top == "text":
            f["texts"].append(data)

p = P()
p.feed(dom)
assert p.scripts == 0, "a <script> in the DOM"
for c in charts:
    f = p.figs.get(c)
    assert f is not None, "no chart %s" % c
    svg = f["svg"]
    assert svg is not None, "%s: no <svg>" % c
    assert svg.get("role") == "img", c
    assert svg.get("aria-labelledby") == "%s-title %s-desc" % (c, c), c
    assert f["title"].strip() and f["title"].strip() == f["h2"].strip(), (c, f["title"], f["h2"])
    assert f["desc"].strip(), "%s: empty <desc>" % c
    assert f["table"] == 1, "%s: no table" % c
    texts = [t.strip() for t in f["texts"] if t.strip()]
    if c == "history":
        assert "Active PBXs" in texts and "Day (UTC)" in texts, (c, texts)
    else:
        assert any(t in texts for t in ("Active PBXs", "PBXs loading it")), (c, texts)
# The figures of the seed are there, readable.
for want in ("22.10.1", "chan_sip", "aarch64", "FreeBSD", "app_macro.so"):
    assert want in dom, "DOM lacks %s" % want
assert "pbx-1" not in dom, "a private_name on the public page"
assert "Privacy:" in dom, "the page did not render to its end"
PY
	no_other_origin "$out.netlog"
	# The styles applied: the CSP's hash matches the stylesheet (chromium
	# reports a refused stylesheet on its console).
	! grep -q "Refused to apply inline style" "$out.err" || flunk "CSP refused the stylesheet:" "$(grep Refused "$out.err")"
}

@test "chromium: screenshots of / at 390x844 and 1440x900 and of /fleet at 1440x900 are real pictures" {
	seed_fleet
	local shots="$BATS_TEST_TMPDIR/shots"
	mkdir -p "$shots"
	browse "$shots/d390" "$BC_URL/" --screenshot="$shots/dashboard-390.png" --window-size=390,844
	browse "$shots/d1440" "$BC_URL/" --screenshot="$shots/dashboard-1440.png" --window-size=1440,900
	browse "$shots/f1440" "http://admin:show%20me@127.0.0.1:$BC_PORT/fleet" \
		--screenshot="$shots/fleet-1440.png" --window-size=1440,900
	local f
	for f in dashboard-390 dashboard-1440 fleet-1440; do
		"$PY" - "$shots/$f.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
want = {"dashboard-390": (390, 844), "dashboard-1440": (1440, 900), "fleet-1440": (1440, 900)}
name = sys.argv[1].rsplit("/", 1)[1][:-4]
assert (w, h) == want[name], (name, w, h)
# Non-trivial: big enough, and not one flat colour.
assert len(data) > 20000, "only %d bytes" % len(data)
PY
	done
	no_other_origin "$shots/f1440.netlog"
	if [ "${BEACON_SAVE_SCREENSHOTS:-}" = 1 ]; then
		mkdir -p "$REPO/docs"
		cp "$shots"/dashboard-390.png "$shots"/dashboard-1440.png "$shots"/fleet-1440.png "$REPO/docs/"
	fi
}

@test "layout: the checker finds each defect of the old dashboard in a page made of them (it can fail)" {
	run "$PY" "$REPO/tests/browser_check.py" "file://$REPO/tests/fixtures/browser" 1280 /defects.html
	[ "$status" -eq 1 ] || flunk "the checker passed a page full of defects (status $status):" "$output"
	local want
	for want in "overflows its box: ul > li.tile > span.big" "a label cut by its chart: svg#cut" \
		"an axis far past its data: svg#axis: up to 2000 for a highest value of 1006" \
		"two labels overlap: svg#overlap" "a label cut short without its whole text in a <title>: svg#short" \
		"an empty chart: svg#empty"; do
		[[ $output == *"$want"* ]] || flunk "the checker missed: $want" "$output"
	done
}

@test "layout: every page at 360, 390, 1,280 and 1,920 px of a seeded fleet: nothing overflows, no chart empty, no label cut" {
	start_plain
	# Eight simulated weeks from the collector's first day (a day before
	# the newest history row is never written).
	"$PY" "$REPO/tools/seed-fleet" --url "$BC_URL" --servers 80 --weeks 8 \
		--clock-file "$BEACON_COLLECTOR_CLOCK_FILE" --hup "$BC_PID" --start 2026-11-24 ||
		flunk "seed-fleet failed:" "$(tail -n 20 "$BC_LOG")"
	local id pages=() p
	id=$(curl -s -u 'admin:show me' "$BC_URL/api/v1/fleet" | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
print((o["servers"] if isinstance(o, dict) else o)[0]["id"])') || flunk "no PBX in /api/v1/fleet"
	for p in "${LAYOUT_PAGES[@]}"; do
		pages+=("${p//\{id\}/$id}")
	done
	run "$PY" "$REPO/tests/browser_check.py" --auth 'admin:show me' "$BC_URL" "$LAYOUT_WIDTHS" "${pages[@]}"
	[ "$status" -eq 0 ] || flunk "layout defects (status $status):" "$output"
	[ "$(grep -c ': ok$' <<<"$output")" -eq $((${#LAYOUT_PAGES[@]} * 4)) ] || flunk "not every page at every width:" "$output"
}
