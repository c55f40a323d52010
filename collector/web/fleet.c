/* The fleet view: the store's rows as an HTML table, JSON or CSV, and one
 * server's page with the changes since its report before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../base/changes.h"
#include "../base/clock.h"
#include "../base/lifecycle.h"
#include "dashboard.h"
#include "fleet.h"
#include "fleet_query.h"
#include "html.h"

#define PAGE_ROWS 100		/* HTML */
#define HISTORY_ROWS 1000	/* one server's changes shown, newest first */
#define API_ROWS 1000		/* JSON, default */
#define API_ROWS_MAX 100000	/* JSON and CSV */
#define FILTER_MAX 200		/* bytes of a filter value */
/* A sort, ?q=, ?version=, ?machine=, ?kernel= and ?lifecycle= are applied
 * to the rows as read, SCAN_CHUNK at a time, over at most SCAN_MAX servers
 * (the status depends on the day: not stored; a certified version is its
 * major's; one code for both databases). */
#define SCAN_CHUNK 1000
#define SCAN_MAX 1000000

enum fleet_format { FMT_HTML, FMT_JSON, FMT_CSV };

static const char API_PREFIX[] = "/api/v1/fleet";

bool
fleet_path(const char *p)
{
	return strcmp(p, "/fleet") == 0 || strcmp(p, "/fleet/") == 0 ||
	    strncmp(p, "/fleet/", 7) == 0 || strcmp(p, API_PREFIX) == 0 ||
	    strcmp(p, "/api/v1/fleet.csv") == 0 ||
	    strncmp(p, "/api/v1/fleet/", 14) == 0;
}

/* ---- what a row says ---------------------------------------------------- */

#define uptime_of fleet_uptime

/* What a list request asks for. */
struct query {
	struct fleet_filter f;	/* the store's part (module, stale) and the page */
	struct fleet_match m;	/* applied after reading */
	enum fleet_col col;
	bool desc;
};

/* "16 GiB", "1.5 GiB", "512 MiB"; "-" when unknown. */
static void
memory_text(long long kb, char *out, size_t outlen)
{
	if (kb < 0)
		snprintf(out, outlen, "-");
	else if (kb < 1048576)
		snprintf(out, outlen, "%lld MiB", kb / 1024);
	else if (kb % 1048576 == 0)
		snprintf(out, outlen, "%lld GiB", kb / 1048576);
	else
		snprintf(out, outlen, "%.2f GiB", (double)kb / 1048576.0);
}

/* "3 d 4 h", "5 h 12 min", "40 min", "12 s". */
static void
duration(long long s, char *out, size_t outlen)
{
	if (s < 0)
		snprintf(out, outlen, "-");
	else if (s >= 86400)
		snprintf(out, outlen, "%lld d %lld h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, outlen, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, outlen, "%lld min", s / 60);
	else
		snprintf(out, outlen, "%lld s", s);
}

/* The lifecycle status of a row's version today. */
static enum lc_status
row_status(const struct lifecycle *lc, const struct fleet_server *s,
    time_t now)
{
	return lifecycle_status(lc, s->version, 0, now);
}

/* For a person: text that needs no colour. */
static const char *
status_label(enum lc_status st)
{
	switch (st) {
	case LC_EOL: return "end of life";
	case LC_SECURITY: return "security fixes only";
	case LC_SUPPORTED: return "supported";
	default: return "unknown";
	}
}

static bool
is_active(const struct fleet_server *s, time_t active_since)
{
	return s->last_seen >= active_since;
}

/* ---- changes between two reports ---------------------------------------- */

static const char *
version_of(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(r, "asterisk"), "version"), "name"));
}

static int
push(char ***list, size_t *n, const char *s)
{
	char **nl = realloc(*list, (*n + 1) * sizeof *nl);
	char *copy = strdup(s);

	if (nl == NULL || copy == NULL) {
		if (nl != NULL)
			*list = nl;
		free(copy);
		return -1;
	}
	*list = nl;
	nl[(*n)++] = copy;
	return 0;
}

int
fleet_diff(const char *previous, const char *latest, struct fleet_changes *out)
{
	json_t *a = previous != NULL ? json_loads(previous, 0, NULL) : NULL;
	json_t *b = latest != NULL ? json_loads(latest, 0, NULL) : NULL;
	const char **na = NULL, **nb = NULL;
	size_t ia = 0, ib = 0, la = 0, lb = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (a == NULL || b == NULL) {
		rc = 0;		/* nothing to compare with */
		goto out;
	}
	{
		const char *va = version_of(a), *vb = version_of(b);
		if (va != NULL && vb != NULL && strcmp(va, vb) != 0) {
			out->version_from = strdup(va);
			out->version_to = strdup(vb);
			if (out->version_from == NULL || out->version_to == NULL)
				goto out;
		}
	}
	na = changes_module_names(a, &la);
	nb = changes_module_names(b, &lb);
	if (na == NULL || nb == NULL)
		goto out;
	while (ia < la || ib < lb) {
		int c = ia == la ? 1 : ib == lb ? -1 : strcmp(na[ia], nb[ib]);
		if (c < 0) {
			if (push(&out->removed, &out->n_removed, na[ia]) < 0)
				goto out;
			ia++;
		} else if (c > 0) {
			if (push(&out->added, &out->n_added, nb[ib]) < 0)
				goto out;
			ib++;
		} else {
			ia++;
			ib++;
		}
	}
	rc = 0;
out:
	free(na);
	free(nb);
	json_decref(a);
	json_decref(b);
	if (rc < 0)
		fleet_changes_free(out);
	return rc;
}

void
fleet_changes_free(struct fleet_changes *c)
{
	free(c->version_from);
	free(c->version_to);
	for (size_t i = 0; i < c->n_added; i++)
		free(c->added[i]);
	for (size_t i = 0; i < c->n_removed; i++)
		free(c->removed[i]);
	free(c->added);
	free(c->removed);
	memset(c, 0, sizeof *c);
}

/* ---- CSV ------------------------------------------------------------------ */

int
fleet_csv_cell(struct buf *b, const char *s)
{
	bool quote, inert;

	if (s == NULL)
		return 0;
	quote = strpbrk(s, ",;\"\r\n") != NULL;
	/* A spreadsheet takes a cell that starts so for a formula. */
	inert = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
	if (quote || inert) {
		if (buf_append(b, "\"", 1) < 0 || (inert && buf_append(b, "'", 1) < 0))
			return -1;
		for (const char *p = s; *p != '\0'; p++)
			if (buf_append(b, p, 1) < 0 ||
			    (*p == '"' && buf_append(b, "\"", 1) < 0))
				return -1;
		return buf_append(b, "\"", 1);
	}
	return buf_append(b, s, strlen(s));
}

static int
csv_num(struct buf *b, long long v)
{
	char n[32];

	if (v < 0)
		return 0;
	snprintf(n, sizeof n, "%lld", v);
	return buf_append(b, n, strlen(n));
}

static char *
render_csv(const struct fleet_list *l, time_t active_since,
    const struct lifecycle *lc, time_t now)
{
	static const char head[] = "id,private_name,version,first_seen,last_seen,"
	    "state,modules,uptime_seconds,calls_active,calls_processed,reports,"
	    "cpus,memory_kb,sys_name,kernel,machine,system_uptime_seconds,"
	    "lifecycle\r\n";
	struct buf b = { 0 };
	bool bad = buf_append(&b, head, strlen(head)) < 0;

	for (size_t i = 0; i < l->n && !bad; i++) {
		const struct fleet_server *s = &l->servers[i];
		char first[RFC3339_LEN + 1], last[RFC3339_LEN + 1];

		const char *state = is_active(s, active_since) ? ",active," :
		    ",stale,";

		time_format_utc(s->first_seen, first);
		time_format_utc(s->last_seen, last);
		bad = buf_append(&b, s->id, strlen(s->id)) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, s->private_name) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, s->version) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    buf_append(&b, first, strlen(first)) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    buf_append(&b, last, strlen(last)) < 0 ||
		    buf_append(&b, state, strlen(state)) < 0 ||
		    csv_num(&b, s->modules) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, uptime_of(s)) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->calls_active) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->calls_processed) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->reports) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->cpus) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->memory_kb) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, s->sys_name) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, s->kernel) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, s->machine) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    csv_num(&b, s->os_uptime) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, lifecycle_status_name(row_status(lc, s, now))) < 0 ||
		    buf_append(&b, "\r\n", 2) < 0;
	}
	if (bad) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *
num_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
server_json(const struct fleet_server *s, time_t active_since,
    const struct lifecycle *lc, time_t now)
{
	char first[RFC3339_LEN + 1], last[RFC3339_LEN + 1];

	time_format_utc(s->first_seen, first);
	time_format_utc(s->last_seen, last);
	return json_pack("{s:s,s:o,s:o,s:s,s:s,s:b,s:o,s:o,s:o,s:o,s:I,s:s,"
	    "s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", s->id, "private_name", str_or_null(s->private_name),
	    "version", str_or_null(s->version), "first_seen", first,
	    "last_seen", last, "active", is_active(s, active_since),
	    "modules", num_or_null(s->modules),
	    "uptime_seconds", num_or_null(uptime_of(s)),
	    "calls_active", num_or_null(s->calls_active),
	    "calls_processed", num_or_null(s->calls_processed),
	    "reports", (json_int_t)s->reports,
	    "lifecycle", lifecycle_status_name(row_status(lc, s, now)),
	    "cpus", num_or_null(s->cpus), "memory_kb", num_or_null(s->memory_kb),
	    "sys_name", str_or_null(s->sys_name), "kernel", str_or_null(s->kernel),
	    "machine", str_or_null(s->machine),
	    "system_uptime_seconds", num_or_null(s->os_uptime));
}

static json_t *
list_json(const struct fleet_list *l, const struct fleet_filter *f,
    const struct lifecycle *lc, time_t now)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < l->n; i++)
		if (json_array_append_new(arr, server_json(&l->servers[i],
		    f->active_since, lc, now)) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)l->total,
	    "offset", (json_int_t)f->offset, "limit", (json_int_t)f->limit,
	    "servers", arr);
}

static json_t *
names_json(char **names, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	return arr;
}

/* The dated history, newest first: [{"at","kind","detail"}]. */
static json_t *
history_json(const struct fleet_history *hist)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < hist->n; i++) {
		char at[RFC3339_LEN + 1];

		time_format_utc(hist->v[i].at, at);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "at", at,
		    "kind", hist->v[i].kind != NULL ? hist->v[i].kind : "",
		    "detail", hist->v[i].detail != NULL ? hist->v[i].detail : ""));
	}
	return arr;
}

static json_t *
one_json(const struct fleet_server *s, const struct fleet_changes *c,
    const struct fleet_history *hist, long history_days,
    time_t active_since, const struct lifecycle *lc, time_t now)
{
	json_t *report = s->report != NULL ? json_loads(s->report, 0, NULL) : NULL;
	json_t *version = c->version_from != NULL ?
	    json_pack("{s:s,s:s}", "from", c->version_from, "to", c->version_to) :
	    json_null();

	return json_pack("{s:o,s:o,s:{s:b,s:o,s:o,s:o},s:I,s:o}",
	    "server", server_json(s, active_since, lc, now),
	    "report", report != NULL ? report : json_null(),
	    "changes", "previous_report", s->previous_report != NULL,
	    "version", version,
	    "modules_added", names_json(c->added, c->n_added),
	    "modules_removed", names_json(c->removed, c->n_removed),
	    "history_days", (json_int_t)history_days,
	    "history", history_json(hist));
}

/* ---- HTML ----------------------------------------------------------------- */

/* Percent-encode s for a query value. */
static void
url_value(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			buf_append(b, p, 1);
		else
			buf_append(b, enc, 3);
	}
}

static void
query_arg(struct buf *u, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_append(u, "&", 1);
	buf_append(u, key, strlen(key));
	buf_append(u, "=", 1);
	url_value(u, value);
}

/* href to the list with q's filters, sorted by col (desc), from offset. */
static void
list_href(struct buf *u, const struct query *q, enum fleet_col col, bool desc,
    long offset)
{
	char num[32];

	buf_append(u, "/fleet?sort=", 12);
	buf_append(u, fleet_col_name(col), strlen(fleet_col_name(col)));
	buf_append(u, desc ? "&order=desc" : "&order=asc", desc ? 11 : 10);
	query_arg(u, "q", q->m.q);
	query_arg(u, "version", q->m.version);
	query_arg(u, "module", q->f.module);
	query_arg(u, "machine", q->m.machine);
	query_arg(u, "kernel", q->m.kernel);
	query_arg(u, "lifecycle", q->f.lifecycle);
	if (q->f.stale_only)
		buf_append(u, "&stale=1", 8);
	if (offset > 0) {
		snprintf(num, sizeof num, "&offset=%ld", offset);
		buf_append(u, num, strlen(num));
	}
}

static void
list_link(struct html *h, const struct query *q, long offset, const char *text)
{
	struct buf u = { 0 };

	list_href(&u, q, q->col, q->desc, offset);
	html_raw(h, "<a");
	html_attr(h, "href", u.data != NULL ? u.data : "/fleet");
	html_raw(h, ">");
	html_text(h, text);
	html_raw(h, "</a>");
	buf_free(&u);
}

/* A column's header: a link that sorts by it (again: the other way), and
 * aria-sort on the one sorted by. */
static void
sort_header(struct html *h, const struct query *q, enum fleet_col col,
    const char *label, bool num)
{
	struct buf u = { 0 };
	bool current = q->col == col;
	bool desc = current ? !q->desc : fleet_col_desc(col);

	list_href(&u, q, col, desc, 0);
	html_raw(h, "<th scope=\"col\"");
	if (num)
		html_raw(h, " class=\"num\"");
	if (current)
		html_raw(h, q->desc ? " aria-sort=\"descending\"" :
		    " aria-sort=\"ascending\"");
	html_raw(h, "><a");
	html_attr(h, "href", u.data != NULL ? u.data : "/fleet");
	html_raw(h, ">");
	html_text(h, label);
	if (current)
		html_raw(h, q->desc ? " \xE2\x96\xBC" : " \xE2\x96\xB2");
	html_raw(h, "</a></th>");
	buf_free(&u);
}

static void
server_link(struct html *h, const struct fleet_server *s)
{
	char href[64];

	snprintf(href, sizeof href, "/fleet/%s", s->id);
	html_raw(h, "<a");
	html_attr(h, "href", href);
	html_raw(h, ">");
	if (s->private_name != NULL && s->private_name[0] != '\0')
		html_text_cut(h, s->private_name, 80);
	else {
		char shortid[9];
		snprintf(shortid, sizeof shortid, "%.8s", s->id);
		html_raw(h, "<i>unnamed</i> ");
		html_text(h, shortid);
	}
	html_raw(h, "</a>");
}

static void
state_badge(struct html *h, bool active)
{
	html_raw(h, active ? "<span class=\"badge active\">active</span>" :
	    "<span class=\"badge stale\">stale</span>");
}

/* The status as a word (readable without colour), its class for colour. */
static void
lifecycle_badge(struct html *h, enum lc_status st)
{
	html_rawf(h, "<span class=\"badge lc-%s\">", lifecycle_status_name(st));
	html_text(h, status_label(st));
	html_raw(h, "</span>");
}

static void
td_num(struct html *h, long long v)
{
	char num[32];

	html_raw(h, "<td class=\"num\">");
	if (v < 0) {
		html_raw(h, "-");
	} else {
		html_format_count((long)v, num, sizeof num);
		html_text(h, num);
	}
	html_raw(h, "</td>");
}

static void
page_header(struct html *h, const char *title, const char *sub)
{
	dashboard_page_open(h, title, "fleet");
	html_raw(h, "<h1>");
	html_text(h, title);
	html_raw(h, "</h1><p class=\"sub\">");
	html_text(h, sub);
	html_raw(h, "</p></div></header>\n<main class=\"wrap\">");
}

static void
page_footer(struct html *h)
{
	dashboard_page_close(h);
	html_raw(h, "<p>The operator's view: private names and server ids are "
	    "shown here only, behind the password. Also as "
	    "<a href=\"/api/v1/fleet\">JSON</a> and "
	    "<a href=\"/api/v1/fleet.csv\">CSV</a>.</p></div></footer></body>"
	    "</html>\n");
}

/* A text input of the filter form. */
static void
filter_input(struct html *h, const char *label, const char *name,
    const char *placeholder, const char *value)
{
	html_raw(h, "<label>");
	html_text(h, label);
	html_raw(h, "<input type=\"text\"");
	html_attr(h, "name", name);
	html_attr(h, "placeholder", placeholder);
	html_attr(h, "value", value);
	html_raw(h, "></label>");
}

static bool
filtered(const struct query *q)
{
	return q->m.q || q->m.version || q->f.module || q->f.stale_only ||
	    q->f.lifecycle || q->m.machine || q->m.kernel;
}

static char *
render_list(const struct fleet_list *l, const struct query *q,
    const struct lifecycle *lc, time_t now)
{
	static const char *const choices[] = { "eol", "security", "supported",
	    "unknown" };
	const struct fleet_filter *f = &q->f;
	struct html h = { 0 };
	char sub[160], total[32], when[48];

	html_format_count(l->total, total, sizeof total);
	dashboard_human_time(now, when, sizeof when);
	snprintf(sub, sizeof sub, "%s server%s%s. As of %s.", total,
	    l->total == 1 ? "" : "s",
	    filtered(q) ? " match the filter" : " report here", when);
	page_header(&h, "Fleet", sub);

	html_raw(&h, "<div class=\"card\"><form class=\"filters\" method=\"get\" "
	    "action=\"/fleet\">");
	html_raw(&h, "<input type=\"hidden\" name=\"sort\"");
	html_attr(&h, "value", fleet_col_name(q->col));
	html_raw(&h, "><input type=\"hidden\" name=\"order\"");
	html_attr(&h, "value", q->desc ? "desc" : "asc");
	html_raw(&h, ">");
	filter_input(&h, "Name", "q", "part of a name", q->m.q);
	filter_input(&h, "Version", "version", "22 or 22.10.1", q->m.version);
	filter_input(&h, "Module", "module", "chan_sip", f->module);
	filter_input(&h, "Machine", "machine", "x86_64", q->m.machine);
	filter_input(&h, "Kernel", "kernel", "6.1", q->m.kernel);
	html_raw(&h, "<label class=\"check\"><input type=\"checkbox\" "
	    "name=\"stale\" value=\"1\"");
	html_raw(&h, f->stale_only ? " checked" : "");
	html_raw(&h, "> Stale only</label><label>Lifecycle<select "
	    "name=\"lifecycle\"><option value=\"\">any</option>");
	for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
		enum lc_status st = LC_UNKNOWN;

		lifecycle_status_parse(choices[i], &st);
		html_raw(&h, "<option");
		html_attr(&h, "value", choices[i]);
		if (f->lifecycle != NULL && strcmp(f->lifecycle, choices[i]) == 0)
			html_raw(&h, " selected");
		html_raw(&h, ">");
		html_text(&h, status_label(st));
		html_raw(&h, "</option>");
	}
	html_raw(&h, "</select></label><button type=\"submit\">Filter</button>"
	    "</form>");

	html_rawf(&h, "<div class=\"scroll\"><table><caption>Servers, by %s "
	    "(%s); a column's header sorts by it</caption><thead><tr>",
	    fleet_col_name(q->col), q->desc ? "descending" : "ascending");
	sort_header(&h, q, COL_NAME, "Name", false);
	sort_header(&h, q, COL_VERSION, "Version", false);
	sort_header(&h, q, COL_LIFECYCLE, "Lifecycle", false);
	sort_header(&h, q, COL_LAST_SEEN, "Last seen (UTC)", false);
	html_raw(&h, "<th scope=\"col\">State</th>");
	sort_header(&h, q, COL_MODULES, "Modules", true);
	sort_header(&h, q, COL_UPTIME, "Uptime", true);
	sort_header(&h, q, COL_CALLS, "Calls now", true);
	sort_header(&h, q, COL_PROCESSED, "Calls processed", true);
	sort_header(&h, q, COL_CPUS, "CPUs", true);
	sort_header(&h, q, COL_MEMORY, "Memory", true);
	sort_header(&h, q, COL_SYSTEM, "System", false);
	sort_header(&h, q, COL_MACHINE, "Machine", false);
	sort_header(&h, q, COL_KERNEL, "Kernel", false);
	html_raw(&h, "</tr></thead><tbody>");
	for (size_t i = 0; i < l->n; i++) {
		const struct fleet_server *s = &l->servers[i];
		char last[RFC3339_LEN + 1], up[32], mem[32];

		time_format_utc(s->last_seen, last);
		duration(uptime_of(s), up, sizeof up);
		memory_text(s->memory_kb, mem, sizeof mem);
		html_raw(&h, "<tr><th scope=\"row\">");
		server_link(&h, s);
		html_raw(&h, "</th><td>");
		html_text(&h, s->version != NULL ? s->version : "-");
		html_raw(&h, "</td><td>");
		lifecycle_badge(&h, row_status(lc, s, now));
		html_raw(&h, "</td><td><time");
		html_attr(&h, "datetime", last);
		html_raw(&h, ">");
		html_text(&h, last);
		html_raw(&h, "</time></td><td>");
		state_badge(&h, is_active(s, f->active_since));
		html_raw(&h, "</td>");
		td_num(&h, s->modules);
		html_raw(&h, "<td class=\"num\">");
		html_text(&h, up);
		html_raw(&h, "</td>");
		td_num(&h, s->calls_active);
		td_num(&h, s->calls_processed);
		td_num(&h, s->cpus);
		html_raw(&h, "<td class=\"num\">");
		html_text(&h, mem);
		html_raw(&h, "</td><td>");
		html_text_cut(&h, s->sys_name != NULL ? s->sys_name : "-", 40);
		html_raw(&h, "</td><td>");
		html_text_cut(&h, s->machine != NULL ? s->machine : "-", 40);
		html_raw(&h, "</td><td>");
		html_text_cut(&h, s->kernel != NULL ? s->kernel : "-", 60);
		html_raw(&h, "</td></tr>");
	}
	if (l->n == 0)
		html_raw(&h, "<tr><td colspan=\"14\">No server matches.</td></tr>");
	html_raw(&h, "</tbody></table></div>");
	if (f->offset > 0 || f->offset + (long)l->n < l->total) {
		html_raw(&h, "<p>");
		if (f->offset > 0)
			list_link(&h, q, f->offset > f->limit ? f->offset - f->limit : 0,
			    "\xE2\x86\x90 Previous");
		html_rawf(&h, " Servers %ld\xE2\x80\x93%ld ", f->offset + 1,
		    f->offset + (long)l->n);
		if (f->offset + (long)l->n < l->total)
			list_link(&h, q, f->offset + f->limit, "Next \xE2\x86\x92");
		html_raw(&h, "</p>");
	}
	html_raw(&h, "</div>");
	page_footer(&h);
	return html_steal(&h);
}

static void
fact(struct html *h, const char *name, const char *value)
{
	html_raw(h, "<dt>");
	html_text(h, name);
	html_raw(h, "</dt><dd>");
	html_text(h, value != NULL ? value : "-");
	html_raw(h, "</dd>");
}

static void
module_table(struct html *h, json_t *report)
{
	json_t *mods = json_object_get(json_object_get(report, "asterisk"),
	    "modules");
	size_t n = json_array_size(mods);

	html_raw(h, "<details class=\"data\"><summary>");
	html_rawf(h, "All %zu modules", n);
	html_raw(h, "</summary><div class=\"scroll\"><table><thead><tr>"
	    "<th scope=\"col\">Module</th><th scope=\"col\">Status</th>"
	    "<th scope=\"col\">Support level</th><th scope=\"col\">Description</th>"
	    "</tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(mods, i);
		const char *support = json_string_value(json_object_get(m,
		    "support_level"));
		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, json_string_value(json_object_get(m, "name")));
		html_raw(h, "</th>");
		html_elem(h, "td", json_string_value(json_object_get(m, "status")));
		html_raw(h, "<td>");
		if (support != NULL && strcmp(support, "deprecated") == 0)
			html_raw(h, "<span class=\"flag\">\xE2\x9A\xA0 deprecated</span>");
		else
			html_text(h, support);
		html_raw(h, "</td>");
		html_elem(h, "td", json_string_value(json_object_get(m,
		    "description")));
		html_raw(h, "</tr>");
	}
	html_raw(h, "</tbody></table></div></details>");
}

/* What a change row says, for a person. */
static void
change_text(struct html *h, const struct fleet_change *c)
{
	const char *k = c->kind != NULL ? c->kind : "";
	const char *d = c->detail != NULL ? c->detail : "";

	if (strcmp(k, CHANGE_FIRST) == 0) {
		html_raw(h, "First report");
		if (d[0] != '\0') {
			html_raw(h, ": ");
			html_text(h, d);
		}
	} else if (strcmp(k, CHANGE_VERSION) == 0) {
		html_raw(h, "Version ");
		html_text(h, d);
	} else if (strcmp(k, CHANGE_ADDED) == 0) {
		html_raw(h, "<span class=\"added\">+ module ");
		html_text(h, d);
		html_raw(h, "</span>");
	} else if (strcmp(k, CHANGE_REMOVED) == 0) {
		html_raw(h, "<span class=\"removed\">\xE2\x88\x92 module ");
		html_text(h, d);
		html_raw(h, "</span>");
	} else if (strcmp(k, CHANGE_NAME) == 0) {
		html_raw(h, "Name ");
		if (d[0] != '\0') {
			html_raw(h, "set to ");
			html_text_cut(h, d, 80);
		} else {
			html_raw(h, "removed");
		}
	} else {
		html_text(h, k);
		html_raw(h, " ");
		html_text(h, d);
	}
}

/* The dated history, newest first, one row per change. */
static void
history_card(struct html *h, const struct fleet_history *hist, long days)
{
	html_rawf(h, "<div class=\"card wide\"><h2>History of changes</h2>"
	    "<p>Version upgrades, modules added and removed and the name, as "
	    "reported, over the last %ld days (newest first).</p>", days);
	if (hist->n == 0) {
		html_raw(h, "<p>No change recorded.</p></div>");
		return;
	}
	html_raw(h, "<div class=\"scroll\"><table class=\"history\"><thead><tr>"
	    "<th scope=\"col\">When (UTC)</th><th scope=\"col\">Change</th>"
	    "</tr></thead><tbody>");
	for (size_t i = 0; i < hist->n; i++) {
		char at[RFC3339_LEN + 1];

		time_format_utc(hist->v[i].at, at);
		html_raw(h, "<tr><td><time");
		html_attr(h, "datetime", at);
		html_raw(h, ">");
		html_text(h, at);
		html_raw(h, "</time></td><td>");
		change_text(h, &hist->v[i]);
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table></div></div>");
}

static char *
render_one(const struct fleet_server *s, const struct fleet_changes *c,
    const struct fleet_history *hist, long history_days,
    time_t active_since, const struct lifecycle *lc, time_t now)
{
	struct html h = { 0 };
	json_t *report = s->report != NULL ? json_loads(s->report, 0, NULL) : NULL;
	json_t *os = json_object_get(report, "operating_system");
	char first[48], last[48], up[32], num[32], sub[160];
	char *pretty = report != NULL ? json_dumps(report, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) : NULL;
	bool active = is_active(s, active_since);

	dashboard_human_time(s->first_seen, first, sizeof first);
	dashboard_human_time(s->last_seen, last, sizeof last);
	snprintf(sub, sizeof sub, "Server %s", s->id);
	page_header(&h, s->private_name != NULL && s->private_name[0] != '\0' ?
	    s->private_name : "Unnamed server", sub);

	html_raw(&h, "<div class=\"grid\"><div class=\"card\"><h2>Latest report</h2>"
	    "<dl class=\"facts\">");
	html_raw(&h, "<dt>State</dt><dd>");
	state_badge(&h, active);
	html_raw(&h, "</dd>");
	fact(&h, "Version", s->version);
	html_raw(&h, "<dt>Lifecycle</dt><dd>");
	lifecycle_badge(&h, row_status(lc, s, now));
	html_raw(&h, "</dd>");
	fact(&h, "Last seen", last);
	fact(&h, "First seen", first);
	html_format_count(s->reports, num, sizeof num);
	fact(&h, "Reports", num);
	duration(uptime_of(s), up, sizeof up);
	fact(&h, "Uptime", up);
	if (s->calls_active >= 0) {
		html_format_count((long)s->calls_active, num, sizeof num);
		fact(&h, "Calls now", num);
	}
	if (s->calls_processed >= 0) {
		html_format_count((long)s->calls_processed, num, sizeof num);
		fact(&h, "Calls processed", num);
	}
	fact(&h, "System", json_string_value(json_object_get(os, "sys_name")));
	fact(&h, "Kernel", json_string_value(json_object_get(os, "release")));
	fact(&h, "Machine", json_string_value(json_object_get(os, "machine")));
	if (s->cpus >= 0) {
		html_format_count((long)s->cpus, num, sizeof num);
		fact(&h, "CPUs", num);
	}
	if (s->memory_kb >= 0) {
		memory_text(s->memory_kb, num, sizeof num);
		fact(&h, "Memory", num);
	}
	if (s->os_uptime >= 0) {
		duration(s->os_uptime, up, sizeof up);
		fact(&h, "System uptime", up);
	}
	html_raw(&h, "</dl></div>");

	html_raw(&h, "<div class=\"card\"><h2>Since the report before</h2>");
	if (s->previous_report == NULL) {
		html_raw(&h, "<p>This is the first report: nothing to compare with.</p>");
	} else if (c->version_from == NULL && c->n_added == 0 && c->n_removed == 0) {
		html_raw(&h, "<p>No change of version or modules.</p>");
	} else {
		if (c->version_from != NULL) {
			html_raw(&h, "<p>Version: <span class=\"removed\">");
			html_text(&h, c->version_from);
			html_raw(&h, "</span> \xE2\x86\x92 <span class=\"added\">");
			html_text(&h, c->version_to);
			html_raw(&h, "</span></p>");
		}
		if (c->n_added > 0) {
			html_rawf(&h, "<p>%zu module%s added:</p><ul class=\"changes\">",
			    c->n_added, c->n_added == 1 ? "" : "s");
			for (size_t i = 0; i < c->n_added; i++) {
				html_raw(&h, "<li class=\"added\">");
				html_text(&h, c->added[i]);
				html_raw(&h, "</li>");
			}
			html_raw(&h, "</ul>");
		}
		if (c->n_removed > 0) {
			html_rawf(&h, "<p>%zu module%s removed:</p><ul class=\"changes\">",
			    c->n_removed, c->n_removed == 1 ? "" : "s");
			for (size_t i = 0; i < c->n_removed; i++) {
				html_raw(&h, "<li class=\"removed\">");
				html_text(&h, c->removed[i]);
				html_raw(&h, "</li>");
			}
			html_raw(&h, "</ul>");
		}
	}
	html_raw(&h, "</div>");
	history_card(&h, hist, history_days);
	html_raw(&h, "<div class=\"card wide\"><h2>Modules</h2>");
	module_table(&h, report);
	html_raw(&h, "<details class=\"data\"><summary>The report as received"
	    "</summary><pre>");
	html_text(&h, pretty != NULL ? pretty : "(none yet)");
	html_raw(&h, "</pre></details></div></div>");
	html_raw(&h, "<p><a href=\"/fleet\">\xE2\x86\x90 The whole fleet</a></p>");
	page_footer(&h);
	free(pretty);
	json_decref(report);
	return html_steal(&h);
}

/* ---- requests ------------------------------------------------------------- */

static void
respond(struct api_request *req, char *body, const char *type, bool html)
{
	if (body == NULL) {
		api_error(&req->resp, 503, "out of memory");
		return;
	}
	free(req->resp.body);
	req->resp.body = body;
	req->resp.status = 200;
	req->resp.content_type = type;
	if (html)
		req->resp.csp = dashboard_csp();
}

static void
respond_json(struct api_request *req, json_t *obj)
{
	char *body = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	respond(req, body, "application/json", false);
}

/* A filter value: absent or empty is no filter; too long is an error. */
static int
filter_arg(struct api_request *req, const char *key, const char **out)
{
	const char *v = api_arg(req, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return 0;
	if (strlen(v) > FILTER_MAX)
		return -1;
	*out = v;
	return 0;
}

static int
count_arg(struct api_request *req, const char *key, long *out, long max)
{
	const char *v = api_arg(req, key);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0')
		return 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

/* True when the store's own page (newest first) is the answer. */
static bool
store_pages(const struct query *q)
{
	return q->col == COL_LAST_SEEN && q->desc && q->m.q == NULL &&
	    q->m.version == NULL && q->m.machine == NULL &&
	    q->m.kernel == NULL && !q->m.lifecycle_set;
}

/*
 * The page q asks for when the rows must be filtered or sorted here: the
 * rows the store's filters let through read SCAN_CHUNK at a time (at most
 * SCAN_MAX), those that match kept, sorted, and the page moved into out
 * (out->total: all that match).  STORE_OK or STORE_UNAVAILABLE; free out
 * with fleet_list_free.
 */
static enum store_status
list_scan(struct store *st, const struct lifecycle *lc, time_t now,
    const struct query *q, struct fleet_list *out)
{
	struct fleet_filter chunk = q->f;
	struct fleet_list all = { 0 };
	size_t cap = 0;

	memset(out, 0, sizeof *out);
	chunk.version = NULL;		/* fleet_matches: certified too */
	chunk.limit = SCAN_CHUNK;
	for (chunk.offset = 0; chunk.offset < SCAN_MAX;
	    chunk.offset += SCAN_CHUNK) {
		struct fleet_list part;
		size_t got;

		if (store_fleet_list(st, &chunk, &part) != STORE_OK) {
			fleet_list_free(&all);
			return STORE_UNAVAILABLE;
		}
		for (size_t i = 0; i < part.n; i++) {
			if (!fleet_matches(&q->m, &part.servers[i], lc, now))
				continue;
			if (all.n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct fleet_server *nv = realloc(all.servers,
				    ncap * sizeof *nv);
				if (nv == NULL) {
					fleet_list_free(&part);
					fleet_list_free(&all);
					return STORE_UNAVAILABLE;
				}
				all.servers = nv;
				cap = ncap;
			}
			/* moved: the part no longer owns its strings */
			all.servers[all.n++] = part.servers[i];
			memset(&part.servers[i], 0, sizeof part.servers[i]);
		}
		got = part.n;
		fleet_list_free(&part);
		if (got < SCAN_CHUNK)
			break;
	}
	fleet_sort(all.servers, all.n, q->col, q->desc, lc, now);
	out->total = (long)all.n;
	if (q->f.offset < (long)all.n) {
		size_t from = (size_t)q->f.offset;
		size_t n = all.n - from < (size_t)q->f.limit ? all.n - from :
		    (size_t)q->f.limit;

		out->servers = calloc(n, sizeof *out->servers);
		if (out->servers == NULL) {
			fleet_list_free(&all);
			return STORE_UNAVAILABLE;
		}
		memcpy(out->servers, all.servers + from, n * sizeof *out->servers);
		memset(all.servers + from, 0, n * sizeof *out->servers);
		out->n = n;
	}
	fleet_list_free(&all);
	return STORE_OK;
}

static void
list(struct api_request *req, enum fleet_format fmt)
{
	const char *stale = api_arg(req, "stale");
	struct query q = { .f = { .limit = fmt == FMT_HTML ? PAGE_ROWS :
	    fmt == FMT_CSV ? API_ROWS_MAX : API_ROWS } };
	struct fleet_list l;
	time_t now = collector_now();
	const struct lifecycle *lc = req->app->cfg->lifecycle_data;
	enum store_status got;

	q.f.active_since = now - (time_t)req->app->cfg->active_days * 86400;
	if (filter_arg(req, "version", &q.m.version) < 0 ||
	    filter_arg(req, "module", &q.f.module) < 0 ||
	    filter_arg(req, "lifecycle", &q.f.lifecycle) < 0 ||
	    filter_arg(req, "q", &q.m.q) < 0 ||
	    filter_arg(req, "machine", &q.m.machine) < 0 ||
	    filter_arg(req, "kernel", &q.m.kernel) < 0) {
		api_error(&req->resp, 400, "filter value too long");
		return;
	}
	if (q.f.lifecycle != NULL) {
		if (!lifecycle_status_parse(q.f.lifecycle, &q.m.lifecycle)) {
			api_error(&req->resp, 400,
			    "lifecycle: not eol, security, supported or unknown");
			return;
		}
		q.m.lifecycle_set = true;
	}
	if (!fleet_sort_parse(api_arg(req, "sort"), api_arg(req, "order"),
	    &q.col, &q.desc)) {
		api_error(&req->resp, 400, "sort or order: not a column of the "
		    "list, or not asc or desc");
		return;
	}
	q.f.stale_only = stale != NULL && strcmp(stale, "1") == 0;
	if (count_arg(req, "offset", &q.f.offset, 1000000000L) < 0 ||
	    (fmt != FMT_HTML && count_arg(req, "limit", &q.f.limit, API_ROWS_MAX) < 0)) {
		api_error(&req->resp, 400, "offset or limit: not a number in range");
		return;
	}
	if (q.f.limit == 0)
		q.f.limit = 1;
	got = store_pages(&q) ?
	    store_fleet_list(req->app->store, &q.f, &l) :
	    list_scan(req->app->store, lc, now, &q, &l);
	if (got != STORE_OK) {
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	if (fmt == FMT_JSON)
		respond_json(req, list_json(&l, &q.f, lc, now));
	else if (fmt == FMT_CSV)
		respond(req, render_csv(&l, q.f.active_since, lc, now),
		    "text/csv; charset=utf-8", false);
	else
		respond(req, render_list(&l, &q, lc, now), "text/html; charset=utf-8",
		    true);
	fleet_list_free(&l);
}

static void
one(struct api_request *req, const char *id, enum fleet_format fmt)
{
	struct fleet_server s;
	struct fleet_changes c;
	enum store_status st;
	time_t now = collector_now();
	time_t active_since = now - (time_t)req->app->cfg->active_days * 86400;
	const struct lifecycle *lc = req->app->cfg->lifecycle_data;
	long days = req->app->cfg->history_days;
	struct fleet_history hist;

	if (!uuid_is_valid(id)) {
		api_error(&req->resp, 404, "No such server");
		return;
	}
	st = store_fleet_get(req->app->store, id, &s);
	if (st == STORE_NOT_FOUND) {
		api_error(&req->resp, 404, "No such server");
		return;
	}
	if (st != STORE_OK) {
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	if (store_fleet_history(req->app->store, id, now - (time_t)days * 86400,
	    HISTORY_ROWS, &hist) != STORE_OK) {
		fleet_server_free(&s);
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	if (fleet_diff(s.previous_report, s.report, &c) < 0) {
		fleet_history_free(&hist);
		fleet_server_free(&s);
		api_error(&req->resp, 503, "out of memory");
		return;
	}
	if (fmt == FMT_JSON)
		respond_json(req, one_json(&s, &c, &hist, days, active_since, lc,
		    now));
	else
		respond(req, render_one(&s, &c, &hist, days, active_since, lc, now),
		    "text/html; charset=utf-8", true);
	fleet_changes_free(&c);
	fleet_history_free(&hist);
	fleet_server_free(&s);
}

void
fleet_respond(struct api_request *req)
{
	const char *p = req->path;

	if (strcmp(p, "/fleet") == 0 || strcmp(p, "/fleet/") == 0)
		list(req, FMT_HTML);
	else if (strcmp(p, API_PREFIX) == 0)
		list(req, FMT_JSON);
	else if (strcmp(p, "/api/v1/fleet.csv") == 0)
		list(req, FMT_CSV);
	else if (strncmp(p, "/api/v1/fleet/", 14) == 0)
		one(req, p + 14, FMT_JSON);
	else
		one(req, p + 7, FMT_HTML);
}
