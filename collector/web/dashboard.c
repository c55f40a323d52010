/* The dashboard page and the page shell shared with the fleet view. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "dashboard.h"
#include "svg.h"

#define TOP_VERSIONS 12
#define TOP_MODULES 15
#define TOP_OS 10

/* The one stylesheet: its hash is in the CSP, so it never changes at run
 * time.  SVG text is sized in viewBox units; narrow screens get larger
 * units, so that a scaled-down chart stays readable. */
static const char stylesheet[] =
	":root{--bg:#f5f6f8;--fg:#17202b;--muted:#5b6675;--card:#fff;"
	"--line:#dfe3e8;--accent:#2458c6;--accent-soft:rgba(36,88,198,.14);"
	"--warn:#b3470b;--warn-bg:#fde6d5;--ok:#17794a;--head:#10233f;"
	"--head-fg:#fff;color-scheme:light dark}"
	"@media (prefers-color-scheme:dark){:root{--bg:#0f141b;--fg:#e6eaf0;"
	"--muted:#9aa6b5;--card:#171e28;--line:#2b3542;--accent:#7aa7ff;"
	"--accent-soft:rgba(122,167,255,.18);--warn:#ff9d5c;--warn-bg:#3a2414;"
	"--ok:#5fd39a;--head:#0a1a30}}"
	"*{box-sizing:border-box}"
	"html{-webkit-text-size-adjust:100%}"
	"body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 "
	"system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"DejaVu Sans\","
	"sans-serif}"
	".wrap{max-width:84rem;margin:0 auto;padding:0 1rem}"
	"header.top{background:var(--head);color:var(--head-fg);padding:1.25rem 0 "
	"3.75rem}"
	"header.top nav{display:flex;gap:1.25rem;align-items:baseline;"
	"flex-wrap:wrap;font-size:.9rem}"
	"header.top nav a{color:var(--head-fg);opacity:.8;text-decoration:none}"
	"header.top nav a[aria-current]{opacity:1;font-weight:600;"
	"border-bottom:2px solid currentColor}"
	".brand{font-weight:700;letter-spacing:.02em;margin-right:auto;"
	"font-size:1rem;opacity:1!important}"
	"h1{font-size:clamp(1.6rem,4.5vw,2.6rem);line-height:1.15;margin:1rem 0 .4rem;"
	"font-weight:750;letter-spacing:-.01em}"
	".sub{margin:0;opacity:.85;max-width:48rem}"
	"main.wrap{padding-top:0;padding-bottom:2rem}"
	".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,9.5rem),1fr));"
	"gap:.75rem;margin:-2.5rem 0 1.25rem;padding:0;list-style:none}"
	"@media (min-width:60rem){.tiles{grid-template-columns:repeat(auto-fit,minmax(12rem,1fr))}}"
	"main>:first-child:not(.tiles){margin-top:-2.5rem}"
	".tile{background:var(--card);border:1px solid var(--line);border-radius:.75rem;"
	"padding:.8rem 1rem;box-shadow:0 2px 8px rgba(16,35,63,.08);container-type:inline-size}"
	/* The number's size follows its tile's width (cqi), not the screen's:
	 * "78,834,634" fits a tile at any width (issue 22). */
	".tile .big{display:block;font-size:clamp(1rem,13cqi,2rem);white-space:nowrap;font-weight:750;"
	"line-height:1.1;font-variant-numeric:tabular-nums;letter-spacing:-.02em}"
	".tile .what{display:block;color:var(--muted);font-size:.9rem}"
	".tile.warn{border-color:var(--warn);border-left-width:.4rem}"
	".tile.warn .big{color:var(--warn)}"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,24rem),1fr));"
	"gap:1rem}"
	".card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;"
	"padding:1rem 1rem .75rem;min-width:0}"
	".card.wide{grid-column:1/-1}"
	"figure{margin:0}"
	"figcaption h2{font-size:1.1rem;margin:0;line-height:1.3}"
	"figcaption .note{margin:.15rem 0 0;color:var(--muted);font-size:.88rem}"
	"svg{display:block;width:100%;height:auto;margin:.5rem 0 .25rem;"
	"font-family:inherit}"
	"svg.line{max-width:60rem;margin-left:auto;margin-right:auto}"
	"svg text{fill:var(--fg);font-size:12.5px}"
	"svg .tick{fill:var(--muted);font-size:11px;font-variant-numeric:tabular-nums}"
	"svg .axis-label{fill:var(--muted);font-size:11px;font-weight:600;"
	"text-transform:uppercase;letter-spacing:.04em}"
	"svg .value{font-weight:600;font-variant-numeric:tabular-nums}"
	"svg .empty{fill:var(--muted);font-size:14px}"
	"svg .grid{stroke:var(--line);stroke-width:1;stroke-dasharray:3 3}"
	"svg .axis{stroke:var(--muted);stroke-width:1}"
	"svg .bar:not(.flagged){fill:var(--accent)}"
	"svg .bar{rx:3px}"
	"svg .row:hover .bar:not(.flagged){opacity:.8}"
	"svg .hatch-bg{fill:var(--warn-bg)}svg .hatch-fg{fill:var(--warn)}"
	"svg .series{fill:none;stroke:var(--accent);stroke-width:2.5;"
	"stroke-linejoin:round;stroke-linecap:round}"
	"svg .area{fill:var(--accent-soft)}"
	"svg .band{stroke:var(--card);stroke-width:1.5}"
	"svg .band-0{fill:#2458c6}svg .band-1{fill:#7aa7ff}"
	"svg .band-2{fill:#17794a}svg .band-3{fill:#5fd39a}"
	"svg .band-4{fill:#b3470b}svg .band-5{fill:#ff9d5c}"
	"svg .band-6{fill:#6b4fbb}svg .band-7{fill:#9aa6b5}"
	"svg .marker{fill:var(--card);stroke:var(--accent);stroke-width:2}"
	"svg.line text{font-size:13px}svg.line .tick,svg.line .axis-label{font-size:12px}"
	"svg .latest{font-size:15px!important}"
	"@media (max-width:40rem){svg.line text{font-size:26px}"
	"svg.line .tick,svg.line .axis-label{font-size:24px}"
	"svg .latest{font-size:28px!important}.tile{padding:.6rem .8rem}"
	".card{padding:.8rem .75rem .6rem}}"
	"details.data{margin-top:.25rem;font-size:.9rem}"
	"details.data summary{cursor:pointer;color:var(--muted)}"
	"table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}"
	"caption{text-align:left;font-weight:600;padding:.4rem 0}"
	"th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);"
	"vertical-align:top}"
	"thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;"
	"color:var(--muted)}"
	".num{text-align:right;white-space:nowrap}"
	"tbody th{font-weight:500;word-break:break-word}"
	".flag{color:var(--warn);font-weight:600}"
	".scroll{overflow-x:auto}"
	".badge{display:inline-block;padding:0 .5rem;border-radius:1rem;"
	"font-size:.8rem;font-weight:600;border:1px solid currentColor}"
	".badge.active{color:var(--ok)}.badge.stale{color:var(--warn);border-style:dashed}"
	".badge.lc-eol{color:var(--warn);border-width:2px}"
	".badge.lc-security{color:var(--warn);border-style:dotted}"
	"form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;"
	"margin:0 0 1rem}"
	"form.filters label{display:flex;flex-direction:column;font-size:.85rem;"
	"color:var(--muted)}"
	"form.filters label.check{flex-direction:row;gap:.35rem;align-items:center}"
	"input,button{font:inherit;color:inherit}"
	"input[type=text]{background:var(--card);border:1px solid var(--line);"
	"border-radius:.4rem;padding:.35rem .5rem;min-width:10rem}"
	"button{background:var(--accent);color:#fff;border:0;border-radius:.4rem;"
	"padding:.4rem 1rem;font-weight:600;cursor:pointer}"
	"a{color:var(--accent)}"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-word}"
	"ul.changes{margin:.25rem 0;padding-left:1.25rem}"
	".added{font-weight:600}.added::before{content:\"+ \"}"
	".removed{text-decoration:line-through}.removed::before{content:\"\\2212  \"}"
	"pre{overflow:auto;background:var(--bg);padding:.75rem;border-radius:.5rem;"
	"font-size:.8rem;max-height:32rem}"
	"footer{color:var(--muted);font-size:.85rem;padding:1rem 0 2rem;"
	"border-top:1px solid var(--line)}"
	"footer p{margin:.25rem 0}";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void
base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t j = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len) v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len) v |= in[i + 2];
		out[j++] = tab[(v >> 18) & 63];
		out[j++] = tab[(v >> 12) & 63];
		out[j++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[j] = '\0';
}

static void
csp_init(void)
{
	unsigned char digest[32];
	char b64[48];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, stylesheet, strlen(stylesheet),
	    digest) < 0) {
		/* No hash, no style: the page stays readable unstyled. */
		snprintf(csp, sizeof csp, "default-src 'none'; base-uri 'none'; "
		    "form-action 'self'; frame-ancestors 'none'");
		return;
	}
	base64(digest, sizeof digest, b64);
	snprintf(csp, sizeof csp, "default-src 'none'; style-src 'sha256-%s'; "
	    "img-src data:; base-uri 'none'; form-action 'self'; "
	    "frame-ancestors 'none'", b64);
}

const char *
dashboard_csp(void)
{
	pthread_once(&csp_once, csp_init);
	return csp;
}

void
dashboard_page_open(struct html *h, const char *title, const char *nav)
{
	bool fleet = nav != NULL && strcmp(nav, "fleet") == 0;

	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<meta name=\"color-scheme\" content=\"light dark\">"
	    "<link rel=\"icon\" href=\"data:,\"><title>");
	html_text(h, title);
	html_raw(h, "</title><style>");
	html_raw(h, stylesheet);
	html_raw(h, "</style></head>\n<body><header class=\"top\"><div class=\"wrap\">"
	    "<nav aria-label=\"Sections\"><a class=\"brand\" href=\"/\">"
	    "Asterisk Beacon</a>");
	html_raw(h, fleet ? "<a href=\"/\">Statistics</a>" :
	    "<a href=\"/\" aria-current=\"page\">Statistics</a>");
	html_raw(h, fleet ? "<a href=\"/fleet\" aria-current=\"page\">Fleet</a>" :
	    "<a href=\"/fleet\">Fleet</a>");
	html_raw(h, "<a href=\"/api/v1/stats\">JSON</a></nav>");
}

void
dashboard_page_close(struct html *h)
{
	html_raw(h, "</main><footer><div class=\"wrap\">");
}

void
dashboard_human_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen,
	    "%-d %b %Y, %H:%M UTC", &tm) == 0)
		snprintf(out, outlen, "?");
}

static void
tile(struct html *h, long value, const char *what, bool warn)
{
	char num[32];

	html_format_count(value, num, sizeof num);
	html_raw(h, warn ? "<li class=\"tile warn\"><span class=\"big\">" :
	    "<li class=\"tile\"><span class=\"big\">");
	html_text(h, num);
	html_raw(h, "</span><span class=\"what\">");
	html_text(h, what);
	html_raw(h, "</span></li>");
}

static void
tile_text(struct html *h, const char *value, const char *what, bool warn)
{
	html_raw(h, warn ? "<li class=\"tile warn\"><span class=\"big\">" :
	    "<li class=\"tile\"><span class=\"big\">");
	html_text(h, value);
	html_raw(h, "</span><span class=\"what\">");
	html_text(h, what);
	html_raw(h, "</span></li>");
}

/* c's note with how many PBXs the chart describes, and when (issue 22),
 * into out; c itself with that note into *copy. */
static void
dated(const struct svg_chart *c, const char *when, char *out, size_t outlen,
    struct svg_chart *copy)
{
	char num[32];

	html_format_count(c->total, num, sizeof num);
	snprintf(out, outlen, "%s%sOf %s active PBXs, %s.", c->note != NULL ?
	    c->note : "", c->note != NULL ? " " : "", num, when);
	*copy = *c;
	copy->note = out;
}

/* A list's groups as bars, at most max (0: all). */
static void
list_chart(struct html *h, const struct svg_chart *c0, const struct stat_list *l,
    size_t max, bool flag_all, const char *when)
{
	struct svg_chart cc, *c = &cc;
	char note[384];

	size_t n = max > 0 && l->n > max ? max : l->n;
	struct svg_bar *bars = n > 0 ? calloc(n, sizeof *bars) : NULL;

	if (n > 0 && bars == NULL) {
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bars[i].label = l->groups[i].key;
		bars[i].value = l->groups[i].servers;
		bars[i].flagged = flag_all;
	}
	dated(c0, when, note, sizeof note, &cc);
	html_raw(h, "<div class=\"card\">");
	svg_bar_chart(h, c, bars, n, flag_all ? "deprecated" : NULL);
	html_raw(h, "</div>");
	free(bars);
}

static bool
module_deprecated(const struct module_stat *m)
{
	for (size_t i = 0; i < m->support.n; i++)
		if (strcmp(m->support.groups[i].key, "deprecated") == 0 &&
		    m->support.groups[i].servers > 0)
			return true;
	return false;
}

static long
list_find(const struct stat_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->groups[i].key, key) == 0 ||
		    (strncmp(l->groups[i].key, key, strlen(key)) == 0 &&
		    strcmp(l->groups[i].key + strlen(key), ".so") == 0))
			return l->groups[i].servers;
	return -1;
}

static void
summary(struct html *h, const struct stats *s)
{
	long sip = list_find(&s->channel_drivers, "chan_sip");
	long eol;
	char share[16];

	html_raw(h, "<ul class=\"tiles\" aria-label=\"Summary\">");
	tile(h, s->servers_active, "active PBXs", false);
	tile(h, s->servers_known, "known PBXs", false);
	tile(h, s->servers_new_7d, "new in the last 7 days", false);
	tile(h, (long)s->major_versions.n, "major versions in use", false);
	if (sip >= 0 && s->servers_active > 0) {
		svg_format_share(sip, s->servers_active, share, sizeof share);
		tile_text(h, share, "still load chan_sip", true);
	}
	eol = list_find(&s->lifecycle, "eol");
	if (eol >= 0 && s->servers_active > 0) {
		svg_format_share(eol, s->servers_active, share, sizeof share);
		tile_text(h, share, "of PBXs on an end-of-life Asterisk", true);
	}
	if (s->calls_active_total != STATS_HIDDEN)
		tile(h, s->calls_active_total, "calls up right now", false);
	else
		tile_text(h, "hidden", "calls up right now (one server makes up most)", false);
	if (s->calls_processed_total != STATS_HIDDEN)
		tile(h, s->calls_processed_total, "calls processed", false);
	else
		tile_text(h, "hidden", "calls processed (one server makes up most)", false);
	html_raw(h, "</ul>");
}

/* A lifecycle status in words, for labels (readable without colour). */
static const char *
status_words(const char *status)
{
	return strcmp(status, "eol") == 0 ? "past end of life" :
	    strcmp(status, "security") == 0 ? "security fixes only" :
	    strcmp(status, "supported") == 0 ? "fully supported" :
	    strcmp(status, "unknown") == 0 ? "unknown version" : status;
}

/* A version chart: each bar that is past its end of life or on security
 * fixes only says so in its label, and an end-of-life bar is hatched. */
static void
version_chart(struct html *h, const struct svg_chart *c0,
    const struct stat_list *l, size_t max, const char *when)
{
	struct svg_chart cc, *c = &cc;
	char note[384];

	size_t n = max > 0 && l->n > max ? max : l->n;
	struct svg_bar *bars = n > 0 ? calloc(n, sizeof *bars) : NULL;
	char **labels = n > 0 ? calloc(n, sizeof *labels) : NULL;

	if (n > 0 && (bars == NULL || labels == NULL)) {
		free(bars);
		free(labels);
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *st = l->groups[i].lifecycle;
		bool marked = st != NULL && (strcmp(st, "eol") == 0 ||
		    strcmp(st, "security") == 0);

		if (marked && asprintf(&labels[i], "%s (%s)", l->groups[i].key,
		    status_words(st)) < 0) {
			labels[i] = NULL;
			h->oom = true;
		}
		bars[i].label = labels[i] != NULL ? labels[i] : l->groups[i].key;
		bars[i].value = l->groups[i].servers;
		bars[i].flagged = st != NULL && strcmp(st, "eol") == 0;
	}
	dated(c0, when, note, sizeof note, &cc);
	html_raw(h, "<div class=\"card\">");
	svg_bar_chart(h, c, bars, n, "end of life");
	html_raw(h, "</div>");
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	free(bars);
}

/* The active PBXs by lifecycle status, in words (readable without
 * colour), the end-of-life bar hatched and marked. */
static void
lifecycle_chart(struct html *h, const struct stats *s, const char *when)
{
	struct svg_chart c;
	char note[384];
	struct svg_bar bars[8];
	size_t n = 0;

	for (size_t i = 0; i < s->lifecycle.n && n < 8; i++) {
		const char *k = s->lifecycle.groups[i].key;

		bars[n].label = status_words(k);
		bars[n].value = s->lifecycle.groups[i].servers;
		bars[n].flagged = strcmp(k, "eol") == 0;
		n++;
	}
	dated(&(struct svg_chart){ .id = "lifecycle",
	    .title = "Release lifecycle",
	    .note = "Asterisk's own support dates for each PBX's version, today.",
	    .label_head = "Status", .value_head = "Active PBXs",
	    .total = s->servers_active }, when, note, sizeof note, &c);
	html_raw(h, "<div class=\"card\">");
	svg_bar_chart(h, &c, bars, n, "end of life");
	html_raw(h, "</div>");
}

static void
history_chart(struct html *h, const struct stats *s)
{
	/* The history's last point is today's live figure (stats_build);
	 * + 1: never an allocation of nothing. */
	struct svg_point *pts = calloc(s->n_history + 1, sizeof *pts);
	char note[96];
	size_t n = s->n_history;
	struct svg_chart c = { .id = "history", .title = "Active PBXs over time",
	    .label_head = "Day (UTC)", .value_head = "Active PBXs" };

	if (pts == NULL) {
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		pts[i].x = s->history[i].date;
		pts[i].y = s->history[i].active;
	}
	snprintf(note, sizeof note, "PBXs that reported within %ld days, one "
	    "point a day; the last is now.", s->active_days);
	c.note = note;
	html_raw(h, "<div class=\"card wide\">");
	svg_line_chart(h, &c, pts, n);
	html_raw(h, "</div>");
	free(pts);
}

/* Modules that tell PBXs apart: loaded by some active PBXs, not by all
 * (those every PBX loads say nothing), most used first; and a link to
 * every module. */
static void
modules_chart(struct html *h, const struct stats *s, const char *when)
{
	struct svg_bar *bars = calloc(TOP_MODULES + 1, sizeof *bars);
	size_t n = 0, everyone = 0;
	char note[256];
	struct svg_chart c = { .id = "modules", .title = "Modules that tell PBXs apart",
	    .label_head = "Module", .value_head = "PBXs loading it",
	    .total = s->servers_active };

	if (bars == NULL) {
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		if (s->modules[i].servers >= s->servers_active) {
			everyone++;
			continue;
		}
		if (n == TOP_MODULES)
			continue;
		bars[n].label = s->modules[i].name;
		bars[n].value = s->modules[i].servers;
		bars[n++].flagged = module_deprecated(&s->modules[i]);
	}
	snprintf(note, sizeof note, "Loaded by some of the %ld active PBXs, "
	    "not by all (%zu modules every one loads are left out), %s; "
	    "hatched and \xE2\x9A\xA0: deprecated.", s->servers_active,
	    everyone, when);
	c.note = note;
	html_raw(h, "<div class=\"card\">");
	svg_bar_chart(h, &c, bars, n, "deprecated");
	html_rawf(h, "<p><a href=\"/modules\" id=\"all-modules\">Every module "
	    "(%zu)</a></p></div>", s->n_modules);
	free(bars);
}

/* The adoption of major versions: a stacked area over the history, in
 * servers or in per cent.  The series are the majors any day shows, in
 * version order; a day's groups are k-anonymous already (stats.c). */
#define MAX_SERIES 8
static void
adoption_chart(struct html *h, const struct stats *s, bool percent)
{
	struct stat_list keys = { 0 };
	struct svg_series series[MAX_SERIES + 1];
	long *vals = NULL;
	const char **x = calloc(s->n_history + 1, sizeof *x);
	size_t ns = 0, nd = 0;
	char note[192];

	for (size_t d = 0; x != NULL && d < s->n_history; d++) {
		const struct stat_list *l = &s->history[d].major_versions;

		for (size_t i = 0; i < l->n; i++) {
			size_t j = 0;

			while (j < keys.n && strcmp(keys.groups[j].key,
			    l->groups[i].key) != 0)
				j++;
			if (j < keys.n)
				continue;
			if ((keys.n & 7) == 0) {
				struct stat_group *g = realloc(keys.groups,
				    (keys.n + 8) * sizeof *g);
				if (g == NULL)
					goto oom;
				keys.groups = g;
			}
			keys.groups[keys.n].key = l->groups[i].key;
			keys.groups[keys.n++].servers = 0;
		}
	}
	if (x == NULL)
		goto oom;
	stats_sort_majors(&keys);
	/* Oldest at the bottom of the stack; past MAX_SERIES, "older". */
	ns = keys.n > MAX_SERIES ? MAX_SERIES + 1 : keys.n;
	vals = calloc((ns ? ns : 1) * (s->n_history + 1), sizeof *vals);
	if (vals == NULL)
		goto oom;
	for (size_t d = 0; d < s->n_history; d++) {
		const struct stat_list *l = &s->history[d].major_versions;

		if (l->n == 0)
			continue;	/* below min_group: no breakdown */
		x[nd] = s->history[d].date;
		for (size_t i = 0; i < l->n; i++)
			for (size_t j = 0; j < keys.n; j++)
				if (strcmp(keys.groups[j].key, l->groups[i].key) == 0) {
					/* series 0 (bottom) is the oldest */
					size_t from_old = keys.n - 1 - j;
					size_t si = keys.n > MAX_SERIES ?
					    (from_old + MAX_SERIES >= keys.n ?
					    from_old + MAX_SERIES + 1 - keys.n : 0) :
					    from_old;
					vals[si * (s->n_history + 1) + nd] +=
					    l->groups[i].servers;
				}
		nd++;
	}
	for (size_t i = 0; i < ns; i++) {
		series[i].values = &vals[i * (s->n_history + 1)];
		series[i].name = keys.n > MAX_SERIES && i == 0 ? "older" :
		    keys.groups[keys.n > MAX_SERIES ? keys.n - 1 - (i +
		    keys.n - MAX_SERIES - 1) : keys.n - 1 - i].key;
	}
	snprintf(note, sizeof note, "%s of active PBXs by major version, one "
	    "column a day (UTC) with at least %ld active PBXs; %s.",
	    percent ? "Share" : "Number", s->min_group > 1 ? s->min_group : 1,
	    nd > 0 ? x[nd - 1] : "no day yet");
	html_raw(h, "<div class=\"card wide\">");
	svg_stacked_area(h, &(struct svg_chart){ .id = percent ?
	    "adoption-percent" : "adoption", .title = percent ?
	    "Adoption of major versions, in per cent" :
	    "Adoption of major versions", .note = note,
	    .label_head = "Day (UTC)", .value_head = percent ? "Share" :
	    "Active PBXs" }, x, nd, series, ns, percent);
	html_raw(h, "</div>");
	free(keys.groups);
	free(vals);
	free(x);
	return;
oom:
	h->oom = true;
	free(keys.groups);
	free(vals);
	free(x);
}

/* New and gone PBXs per day (issue 22). */
static void
churn_chart(struct html *h, const struct stats *s, bool gone)
{
	struct svg_point *pts = calloc(s->n_history + 1, sizeof *pts);
	char note[160];

	if (pts == NULL) {
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < s->n_history; i++) {
		pts[i].x = s->history[i].date;
		pts[i].y = gone ? s->history[i].gone_servers :
		    s->history[i].new_servers;
	}
	snprintf(note, sizeof note, gone ? "PBXs whose last report fell out "
	    "of the %ld days that make a PBX active, per day (UTC)." :
	    "PBXs that reported for the first time, per day (UTC).",
	    s->active_days);
	html_raw(h, "<div class=\"card\">");
	svg_line_chart(h, &(struct svg_chart){ .id = gone ? "gone" : "new",
	    .title = gone ? "Gone PBXs per day" : "New PBXs per day",
	    .note = note, .label_head = "Day (UTC)",
	    .value_head = gone ? "Gone PBXs" : "New PBXs" }, pts, s->n_history);
	html_raw(h, "</div>");
	free(pts);
}

/* Issue 22: p5, median and p95 per distribution, a plain table (no
 * script); "\xE2\x80\x94" where that bucket holds fewer than min_group. */
static void
distributions_table(struct html *h, const struct stats *s)
{
	static const char *const rows[STATS_DISTS] = { [STATS_DIST_UPTIME] =
	    "Uptime", [STATS_DIST_CALLS] = "Calls per server",
	    [STATS_DIST_CPUS] = "CPUs", [STATS_DIST_MEMORY] = "Memory" };
	char num[32];

	html_raw(h, "<div class=\"card\" id=\"distributions\"><h2>"
	    "Distributions</h2><p>Calls: processed since Asterisk started. "
	    "Memory: rounded up to a power of two. "
	    "\xE2\x80\x94: that bucket holds too few PBXs to show.</p>"
	    "<div class=\"scroll\"><table><thead><tr><th scope=\"col\"></th><th scope=\"col\">p5"
	    "</th><th scope=\"col\">Median</th><th scope=\"col\">p95</th>"
	    "<th scope=\"col\">PBXs</th></tr></thead><tbody>");
	for (int d = 0; d < STATS_DISTS; d++) {
		const struct stat_dist *x = &s->dists[d];

		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, rows[d]);
		html_raw(h, "</th>");
		for (int p = 0; p < 3; p++) {
			html_raw(h, "<td>");
			html_text(h, x->p[p][0] != '\0' ? x->p[p] : "\xE2\x80\x94");
			html_raw(h, "</td>");
		}
		html_format_count(x->servers, num, sizeof num);
		html_raw(h, "<td>of ");
		html_text(h, num);
		html_raw(h, x->servers == 1 ? " PBX</td></tr>" : " PBXs</td></tr>");
	}
	html_raw(h, "</tbody></table></div></div>");
}

char *
dashboard_render(const struct stats *s)
{
	struct html h = { 0 };
	char when[RFC3339_LEN + 1], num[32], pretty[48];
	long total = s->servers_active;

	time_format_utc(s->generated, when);
	dashboard_human_time(s->generated, pretty, sizeof pretty);
	dashboard_page_open(&h, "Asterisk Beacon \xE2\x80\x94 what PBXs run", "stats");
	html_raw(&h, "<h1>What Asterisk PBXs really run</h1><p class=\"sub\">From the "
	    "latest report of each of ");
	html_format_count(total, num, sizeof num);
	html_text(&h, num);
	html_rawf(&h, " PBX%s that reported in the last %ld day%s. Updated ",
	    total == 1 ? "" : "s", s->active_days, s->active_days == 1 ? "" : "s");
	html_raw(&h, "<time");
	html_attr(&h, "datetime", when);
	html_raw(&h, ">");
	html_text(&h, pretty);
	html_raw(&h, "</time>.</p></div></header>\n<main class=\"wrap\">");

	summary(&h, s);
	html_raw(&h, "<div class=\"grid\">");
	history_chart(&h, s);
	adoption_chart(&h, s, false);
	adoption_chart(&h, s, true);
	churn_chart(&h, s, false);
	churn_chart(&h, s, true);
	lifecycle_chart(&h, s, pretty);
	version_chart(&h, &(struct svg_chart){ .id = "major-versions",
	    .title = "Major versions", .note = "Hatched: past its end of life.",
	    .label_head = "Asterisk", .value_head = "Active PBXs",
	    .total = total }, &s->major_versions, 0, pretty);
	version_chart(&h, &(struct svg_chart){ .id = "versions",
	    .title = "Versions", .note = "The most common releases; hatched: "
	    "past its end of life.", .label_head = "Version",
	    .value_head = "Active PBXs", .total = total }, &s->versions,
	    TOP_VERSIONS, pretty);
	modules_chart(&h, s, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "deprecated",
	    .title = "Deprecated modules still loaded",
	    .note = "Modules whose support level is deprecated.",
	    .label_head = "Module", .value_head = "PBXs loading it",
	    .total = total }, &s->deprecated, 0, true, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "channel-drivers",
	    .title = "Channel drivers", .note = "chan_sip was removed in Asterisk 21.",
	    .label_head = "Driver", .value_head = "PBXs loading it", .total = total },
	    &s->channel_drivers, 0, false, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "os", .title = "Operating system",
	    .label_head = "System", .value_head = "Active PBXs", .total = total },
	    &s->sys_names, TOP_OS, false, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "machine", .title = "Architecture",
	    .label_head = "Machine", .value_head = "Active PBXs", .total = total },
	    &s->machines, TOP_OS, false, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "kernel", .title = "Kernel releases",
	    .label_head = "Release", .value_head = "Active PBXs", .total = total },
	    &s->kernel_releases, TOP_OS, false, pretty);
	if (s->countries.n > 0)		/* only with geoip_database */
		list_chart(&h, &(struct svg_chart){ .id = "countries",
		    .title = "Countries", .note = "Where the reports came from; "
		    "the address itself is never kept.", .label_head = "Country",
		    .value_head = "Active PBXs", .total = total }, &s->countries,
		    TOP_OS, false, pretty);
	list_chart(&h, &(struct svg_chart){ .id = "uptime", .title = "Uptime",
	    .note = "Time since Asterisk last started.", .label_head = "Up for",
	    .value_head = "Active PBXs", .total = total }, &s->uptime_buckets, 0,
	    false, pretty);
	distributions_table(&h, s);
	html_raw(&h, "</div>");

	dashboard_page_close(&h);
	if (s->min_group <= 1)	/* not "fewer than 1 PBX" */
		html_raw(&h, "<p>Privacy: min_group = 1, so every figure is "
		    "shown, however few PBXs it describes. No server id or name "
		    "is ever shown here.</p>");
	else
		html_rawf(&h, "<p>Privacy: a figure never describes fewer than "
		    "%ld PBXs; smaller groups are counted as \xE2\x80\x9Cother"
		    "\xE2\x80\x9D. No server id or name is ever shown here.</p>",
		    s->min_group);
	html_raw(&h, "<p>The same figures: <a href=\"/api/v1/stats\">JSON</a> "
	    "\xC2\xB7 <a href=\"/metrics\">Prometheus</a>. This page runs no "
	    "script and loads nothing from elsewhere.</p></div></footer></body>"
	    "</html>\n");
	return html_steal(&h);
}
