/* The modules' pages and badges (modules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/clock.h"
#include "../stats/history.h"
#include "../stats/stats.h"
#include "dashboard.h"
#include "modules.h"
#include "svg.h"

static const char HTML_TYPE[] = "text/html; charset=utf-8";
#define Q_MAX 100

bool
module_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > MODULE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '+'))
			return false;
	}
	return true;
}

bool
modules_path(const char *path)
{
	return strcmp(path, "/modules") == 0 ||
	    strncmp(path, "/modules/", 9) == 0;
}

/* The module of the figures called name, or name + ".so"; NULL: none
 * (unknown, or loaded by fewer than min_group PBXs). */
static const struct module_stat *
find(const struct stats *s, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < s->n_modules; i++) {
		const char *m = s->modules[i].name;

		if (strcmp(m, name) == 0 || (strncmp(m, name, n) == 0 &&
		    strcmp(m + n, ".so") == 0))
			return &s->modules[i];
	}
	return NULL;
}

static void
respond(struct api_request *req, char *body, const char *type)
{
	if (body == NULL) {
		api_error(&req->resp, 503, "out of memory");
		return;
	}
	free(req->resp.body);
	req->resp.body = body;
	req->resp.status = 200;
	req->resp.content_type = type;
	req->resp.csp = dashboard_csp();
}

static void
page_end(struct html *h, const struct stats *s)
{
	dashboard_page_close(h);
	html_rawf(h, "<p>Privacy: a module is listed once at least %ld PBXs "
	    "load it. No server id or name is ever shown here.</p>",
	    s->min_group > 1 ? s->min_group : 1);
	html_raw(h, "<p>The same figures: <a href=\"/api/v1/stats\">JSON</a> "
	    "\xC2\xB7 <a href=\"/api/v1/history.csv\">history (CSV)</a>. This "
	    "page runs no script and loads nothing from elsewhere.</p>"
	    "</div></footer></body></html>\n");
}

/* A list's groups as "key N, key N" (status, support level). */
static void
groups_text(struct html *h, const struct stat_list *l)
{
	char num[32];

	for (size_t i = 0; i < l->n; i++) {
		html_format_count(l->groups[i].servers, num, sizeof num);
		html_raw(h, i > 0 ? ", " : "");
		html_text(h, l->groups[i].key);
		html_raw(h, " ");
		html_text(h, num);
	}
}

/* A module's name linked to its page when the name can be a path. */
static void
module_link(struct html *h, const char *name)
{
	char href[MODULE_NAME_MAX + 16];

	if (!module_name_valid(name, strlen(name))) {
		html_text(h, name);
		return;
	}
	snprintf(href, sizeof href, "/modules/%s", name);
	html_raw(h, "<a");
	html_attr(h, "href", href);
	html_raw(h, ">");
	html_text(h, name);
	html_raw(h, "</a>");
}

static char *
render_list(const struct stats *s, const char *q)
{
	struct html h = { 0 };
	char num[32], share[32], when[48];
	size_t shown = 0;

	dashboard_human_time(s->generated, when, sizeof when);
	dashboard_page_open(&h, "Asterisk Beacon \xE2\x80\x94 modules", "stats");
	html_raw(&h, "<h1>Every module</h1><p class=\"sub\">");
	html_format_count(s->servers_active, num, sizeof num);
	html_text(&h, num);
	html_raw(&h, " active PBXs, ");
	html_text(&h, when);
	html_raw(&h, ". Share of PBXs that load each module.</p></div></header>\n"
	    "<main class=\"wrap\"><div class=\"card\">"
	    "<form class=\"filters\" method=\"get\" action=\"/modules\">"
	    "<label>Module name contains<input type=\"text\" name=\"q\"");
	html_attr(&h, "value", q != NULL ? q : "");
	html_raw(&h, " maxlength=\"100\"></label><button type=\"submit\">Filter"
	    "</button></form><div class=\"scroll\"><table id=\"modules\">"
	    "<caption>Modules</caption><thead><tr><th scope=\"col\">Module</th>"
	    "<th scope=\"col\" class=\"num\">PBXs loading it</th>"
	    "<th scope=\"col\" class=\"num\">Share</th>"
	    "<th scope=\"col\">Support level</th><th scope=\"col\">Status</th>"
	    "</tr></thead><tbody>");
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct module_stat *m = &s->modules[i];

		if (q != NULL && q[0] != '\0' && strcasestr(m->name, q) == NULL)
			continue;
		shown++;
		html_format_count(m->servers, num, sizeof num);
		svg_format_share(m->servers, s->servers_active, share,
		    sizeof share);
		html_raw(&h, "<tr><th scope=\"row\">");
		module_link(&h, m->name);
		html_raw(&h, "</th><td class=\"num\">");
		html_text(&h, num);
		html_raw(&h, "</td><td class=\"num\">");
		html_text(&h, share);
		html_raw(&h, "</td><td>");
		groups_text(&h, &m->support);
		html_raw(&h, "</td><td>");
		groups_text(&h, &m->status);
		html_raw(&h, "</td></tr>");
	}
	html_raw(&h, "</tbody></table></div>");
	html_format_count((long)shown, num, sizeof num);
	html_raw(&h, "<p class=\"note\" id=\"shown\">");
	html_text(&h, num);
	html_rawf(&h, " of %zu modules shown.</p></div>", s->n_modules);
	page_end(&h, s);
	return html_steal(&h);
}

/* The module's share over time: one point a day it is shown on. */
static char *
render_module(const struct stats *s, const struct module_stat *m,
    const struct history *hist)
{
	struct html h = { 0 };
	struct svg_point *pts = calloc(hist->n + 1, sizeof *pts);
	char num[32], share[32], when[48], note[160];
	size_t n = 0;

	if (pts == NULL)
		return NULL;
	for (size_t i = 0; i < hist->n; i++)
		if (strcmp(hist->points[i].dimension, "module") == 0) {
			pts[n].x = hist->points[i].day;
			pts[n++].y = hist->points[i].servers;
		}
	dashboard_human_time(s->generated, when, sizeof when);
	dashboard_page_open(&h, m->name, "stats");
	html_raw(&h, "<h1>");
	html_text(&h, m->name);
	html_raw(&h, "</h1><p class=\"sub\">");
	html_format_count(m->servers, num, sizeof num);
	svg_format_share(m->servers, s->servers_active, share, sizeof share);
	html_text(&h, share);
	html_raw(&h, " of active PBXs load it (");
	html_text(&h, num);
	html_raw(&h, " of ");
	html_format_count(s->servers_active, num, sizeof num);
	html_text(&h, num);
	html_raw(&h, "), ");
	html_text(&h, when);
	html_raw(&h, ".</p></div></header>\n<main class=\"wrap\"><div class=\"grid\">"
	    "<div class=\"card\"><dl class=\"facts\"><dt>Support level</dt><dd"
	    " id=\"support\">");
	groups_text(&h, &m->support);
	html_raw(&h, "</dd><dt>Status</dt><dd id=\"status\">");
	groups_text(&h, &m->status);
	/* The badge's address, not the badge: the page stays one request. */
	html_raw(&h, "</dd><dt>Badge</dt><dd id=\"badge\"><a");
	{
		char src[MODULE_NAME_MAX + 24];

		snprintf(src, sizeof src, "/modules/%s.svg", m->name);
		html_attr(&h, "href", src);
		html_raw(&h, "><code>");
		html_text(&h, src);
		html_raw(&h, "</code></a>");
	}
	html_raw(&h, "</dd></dl><p><a href=\"/modules\">Every module</a></p>"
	    "</div><div class=\"card wide\">");
	snprintf(note, sizeof note, "Active PBXs loading it, one point a day "
	    "(days it was loaded by at least %ld).", s->min_group > 1 ?
	    s->min_group : 1);
	svg_line_chart(&h, &(struct svg_chart){ .id = "module-history",
	    .title = "PBXs loading it over time", .note = note,
	    .label_head = "Day (UTC)", .value_head = "PBXs" }, pts, n);
	html_raw(&h, "</div></div>");
	page_end(&h, s);
	free(pts);
	return html_steal(&h);
}

/* The badge: "chan_sip · 7.7 % of PBXs", attributes only (no style). */
static char *
render_badge(const struct stats *s, const struct module_stat *m)
{
	struct html h = { 0 };
	char name[MODULE_NAME_MAX + 1], pct[32];
	size_t len = strlen(m->name);
	int w1, w2;

	snprintf(name, sizeof name, "%.*s", (int)(len > 3 &&
	    strcmp(m->name + len - 3, ".so") == 0 ? len - 3 : len), m->name);
	snprintf(pct, sizeof pct, "%.1f %% of PBXs", s->servers_active > 0 ?
	    100.0 * (double)m->servers / (double)s->servers_active : 0.0);
	w1 = 12 + 7 * (int)strlen(name);
	w2 = 12 + 7 * (int)strlen(pct);
	html_rawf(&h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
	    " height=\"20\" role=\"img\" viewBox=\"0 0 %d 20\"><title>",
	    w1 + w2, w1 + w2);
	html_text(&h, name);
	html_raw(&h, " \xC2\xB7 ");
	html_text(&h, pct);
	html_rawf(&h, "</title><rect width=\"%d\" height=\"20\" fill=\"#10233f\"/>"
	    "<rect x=\"%d\" width=\"%d\" height=\"20\" fill=\"#2458c6\"/>"
	    "<g fill=\"#fff\" font-family=\"DejaVu Sans,Verdana,sans-serif\""
	    " font-size=\"11\"><text x=\"6\" y=\"14\">", w1, w1, w2);
	html_text(&h, name);
	html_rawf(&h, "</text><text x=\"%d\" y=\"14\">", w1 + 6);
	html_text(&h, pct);
	html_raw(&h, "</text></g></svg>\n");
	return html_steal(&h);
}

static void
not_found(struct api_request *req)
{
	api_error(&req->resp, 404, "no such module among the figures (unknown,"
	    " or loaded by fewer than min_group PBXs)");
}

void
modules_respond(struct api_request *req)
{
	const struct collector_config *cfg = req->app->cfg;
	const char *rest = req->path + strlen("/modules");
	const struct stats *s;
	const struct module_stat *m;
	char err[256], name[MODULE_NAME_MAX + 1];
	size_t len;
	bool badge = false;

	if (rest[0] == '/')
		rest++;
	len = strlen(rest);
	if (len > 4 && strcmp(rest + len - 4, ".svg") == 0) {
		badge = true;
		len -= 4;
	}
	/* The name is checked before it meets a query or a page. */
	if (len > 0 && !module_name_valid(rest, len)) {
		api_error(&req->resp, 400, "module name: 1 to 128 of A-Z a-z 0-9"
		    " _ . + -, not starting with a dot");
		return;
	}
	if (len > 0)
		snprintf(name, sizeof name, "%.*s", (int)len, rest);
	s = stats_current(req->app->store, cfg, collector_now(), err, sizeof err);
	if (s == NULL) {
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	if (len == 0) {
		const char *q = api_arg(req, "q");
		char qbuf[Q_MAX + 1];

		if (q != NULL && strlen(q) > Q_MAX) {
			memcpy(qbuf, q, Q_MAX);
			qbuf[Q_MAX] = '\0';
			q = qbuf;
		}
		respond(req, render_list(s, q), HTML_TYPE);
	} else if ((m = find(s, name)) == NULL) {
		not_found(req);
	} else if (badge) {
		respond(req, render_badge(s, m), "image/svg+xml; charset=utf-8");
	} else {
		struct stat_rows rows = { 0 };
		struct history hist = { 0 };
		char since[11];

		stats_history_since(s->generated, cfg->history_days, since);
		if (store_stats_history(req->app->store, since, "module",
		    m->name, &rows, err, sizeof err) < 0) {
			req->resp.retry_after = 60;
			api_error(&req->resp, 503, "database unavailable");
		} else if (history_build(&rows, "module", cfg->min_group,
		    cfg->lifecycle_data, &hist) < 0) {
			api_error(&req->resp, 503, "out of memory");
		} else {
			respond(req, render_module(s, m, &hist), HTML_TYPE);
		}
		history_free(&hist);
		stat_rows_free(&rows);
	}
	stats_release(s);
}
