/*
 * A server's summary and the counters' changes between two summaries:
 * pure functions below both the storage (which applies the changes inside
 * a report's transaction) and the statistics (which read the counters).
 * The summary's format and dimensions are described in summary.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/text.h"
#include "summary.h"

#define CALLS_MAX 1000000000000LL	/* per server, per figure */

void
stats_utc_day(time_t t, char out[11])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the summary ---------------------------------------------------------- */

/* The lines of a summary being built: their text in one arena, each line
 * an offset, its "DIM\tKEY" length and its whole length.  A PBX with 300
 * modules has about a thousand, nearly all of the module dimensions, which
 * are kept in buckets of their own in the report's order: Asterisk lists
 * its modules sorted, so those buckets usually need no sort at all (a
 * sort of the thousand lines was most of the cost of a summary). */
struct line {
	size_t off, plen, len;
};

enum bucket { B_OTHER, B_MODULE, B_STATUS, B_SUPPORT, N_BUCKETS };

struct bucket_lines {
	struct line *v;
	size_t n, cap;
};

struct lines {
	struct buf text;
	struct bucket_lines b[N_BUCKETS];
};

/* A key as stored: no control character, '/' replaced too when it is a
 * module name (the separator of module_status), at most STATS_KEY_MAX bytes
 * cut on a UTF-8 boundary. */
static void
clean_key(const char *s, bool slash, char out[STATS_KEY_MAX + 1])
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n < STATS_KEY_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		/* C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) as C0. */
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 &&
		    (unsigned char)s[1] <= 0x9f) {
			out[n++] = '?';
			s++;
			continue;
		}
		out[n++] = c < 0x20 || c == 0x7f || (slash && c == '/') ?
		    '?' : (char)c;
	}
	/* Cut inside a UTF-8 sequence (the next byte continues it): drop the
	 * sequence's bytes already copied, its lead byte included. */
	if (s != NULL && ((unsigned char)*s & 0xc0) == 0x80) {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, STATS_KEY_MAX + 1, "unknown");
}

static int
add_line2(struct lines *lines, enum bucket bk, const char *dim,
    const char *key, const char *sub, long long n)
{
	struct line *ln;
	char num[24];
	size_t start = lines->text.len;
	/* "\t1\n", the usual count, without printf. */
	int nl = n == 1 ? (memcpy(num, "\t1\n", 4), 3) :
	    snprintf(num, sizeof num, "\t%lld\n", n);
	struct bucket_lines *l = &lines->b[bk];

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct line *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (buf_append(&lines->text, dim, strlen(dim)) < 0 ||
	    buf_append(&lines->text, "\t", 1) < 0 ||
	    buf_append(&lines->text, key, strlen(key)) < 0 ||
	    (sub != NULL && (buf_append(&lines->text, "/", 1) < 0 ||
	    buf_append(&lines->text, sub, strlen(sub)) < 0)))
		return -1;
	ln = &l->v[l->n];
	ln->off = start;
	ln->plen = lines->text.len - start;
	if (buf_append(&lines->text, num, (size_t)nl) < 0)
		return -1;
	ln->len = lines->text.len - start;
	l->n++;
	return 0;
}

static int
add_line(struct lines *l, const char *dim, const char *key, long long n)
{
	return add_line2(l, B_OTHER, dim, key, NULL, n);
}

/* The length of "DIM\tKEY" at the start of a line. */
static size_t
prefix_len(const char *s, size_t len)
{
	const char *t = memchr(s, '\t', len);

	if (t == NULL)
		return len;
	t = memchr(t + 1, '\t', len - (size_t)(t + 1 - s));
	return t != NULL ? (size_t)(t - s) : len;
}

static int
cmp_prefix(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : al < bl ? -1 : al > bl ? 1 : 0;
}

static int
cmp_lines(const void *pa, const void *pb, void *arg)
{
	const struct line *a = pa, *b = pb;
	const char *text = arg;

	return cmp_prefix(text + a->off, a->plen, text + b->off, b->plen);
}

static const char *
str_member(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *
uptime_bucket(const char *startup, time_t now)
{
	time_t t;
	long long up;

	if (startup == NULL || time_parse_utc(startup, &t) < 0)
		return "unknown";
	up = (long long)(now - t);
	if (up < 86400)
		return "< 1 day";
	if (up < 7 * 86400LL)
		return "1-7 days";
	if (up < 30 * 86400LL)
		return "7-30 days";
	if (up < 365 * 86400LL)
		return "30-365 days";
	return "> 1 year";
}

/* Issue 22: the buckets the distributions (stats.c) take percentiles over;
 * a figure absent or out of range makes no line rather than a guess. */
static int
add_size_lines(struct lines *l, const json_t *os, const json_t *calls)
{
	const json_t *cpu = json_object_get(os, "cpu_count");
	const json_t *mem = json_object_get(os, "memory_total_kb");
	const json_t *done = json_object_get(calls, "processed");
	char key[64];

	if (json_is_integer(cpu) && json_integer_value(cpu) >= 1 &&
	    json_integer_value(cpu) <= 4096) {
		snprintf(key, sizeof key, "%lld", (long long)json_integer_value(cpu));
		if (add_line(l, "cpus", key, 1) < 0)
			return -1;
	}
	if (json_is_integer(mem) && json_integer_value(mem) > 0) {
		long long kb = (long long)json_integer_value(mem), gib = 1;

		/* rounded up to a power of two GiB; 2^40 GiB bounds the loop */
		while (gib < (1LL << 40) && gib * 1048576 < kb)
			gib *= 2;
		if (kb < 1048576)
			snprintf(key, sizeof key, "<1 GiB");
		else
			snprintf(key, sizeof key, "%lld GiB", gib);
		if (add_line(l, "memory", key, 1) < 0)
			return -1;
	}
	if (json_is_integer(done) && json_integer_value(done) >= 0) {
		long long n = (long long)json_integer_value(done), lo = 1;

		if (n == 0)
			snprintf(key, sizeof key, "0");
		else if (n >= 1000000)
			snprintf(key, sizeof key, "1000000+");
		else {
			while (lo * 10 <= n)
				lo *= 10;
			snprintf(key, sizeof key, "%lld-%lld", lo, lo * 10 - 1);
		}
		if (add_line(l, "calls_bucket", key, 1) < 0)
			return -1;
	}
	return 0;
}

void
stats_major_key(const char *version, char out[STATS_KEY_MAX + 1])
{
	const char *v = version;
	bool cert = strncmp(v, "certified/", 10) == 0;
	size_t digits;

	if (cert)
		v += 10;
	digits = strspn(v, "0123456789");
	if (digits == 0 || digits > 9) {
		snprintf(out, STATS_KEY_MAX + 1, "unknown");
		return;
	}
	/* "18.9-cert5" without the prefix is certified too */
	cert = cert || strstr(v, "-cert") != NULL;
	/* 1.2 ... 1.8: the major is "1.N" */
	if (digits == 1 && v[0] == '1' && v[1] == '.' &&
	    v[2] >= '0' && v[2] <= '9')
		digits = 2 + strspn(v + 2, "0123456789");
	snprintf(out, STATS_KEY_MAX + 1, "%.*s%s", (int)digits, v,
	    cert ? " (certified)" : "");
}

static bool
is_running(const char *status)
{
	return status != NULL && (strncasecmp(status, "running", 7) == 0 ||
	    strcasecmp(status, "loaded") == 0);
}

static int
add_modules(struct lines *l, const json_t *mods)
{
	size_t i;
	const json_t *m;
	char name[STATS_KEY_MAX + 1], sub[STATS_KEY_MAX + 1];
	bool pjsip = false;

	json_array_foreach(mods, i, m) {
		const char *status = str_member(m, "status");
		const char *support = str_member(m, "support_level");
		size_t nl;

		clean_key(str_member(m, "name"), true, name);
		nl = strlen(name);
		if (add_line2(l, B_MODULE, "module", name, NULL, 1) < 0)
			return -1;
		clean_key(status, false, sub);
		if (add_line2(l, B_STATUS, "module_status", name, sub, 1) < 0)
			return -1;
		clean_key(support, false, sub);
		if (add_line2(l, B_SUPPORT, "module_support", name, sub, 1) < 0)
			return -1;
		if (!is_running(status))
			continue;
		if (support != NULL && strcasecmp(support, "deprecated") == 0 &&
		    add_line(l, "deprecated", name, 1) < 0)
			return -1;
		if (strcmp(name, "chan_pjsip.so") == 0 ||
		    strcmp(name, "res_pjsip.so") == 0) {
			pjsip = true;
		} else if (strncmp(name, "chan_", 5) == 0 && nl > 8 &&
		    strcmp(name + nl - 3, ".so") == 0) {
			name[nl - 3] = '\0';
			if (add_line(l, "channel_driver", name, 1) < 0)
				return -1;
		}
	}
	if (pjsip && add_line(l, "channel_driver", "chan_pjsip/res_pjsip", 1) < 0)
		return -1;
	return 0;
}

static int
build_lines(struct lines *l, const json_t *report, time_t now)
{
	const json_t *ast = json_object_get(report, "asterisk");
	const json_t *os = json_object_get(report, "operating_system");
	const json_t *ver = json_object_get(ast, "version");
	const json_t *st = json_object_get(ast, "stats");
	const json_t *calls = json_object_get(st, "calls");
	const json_t *mods = json_object_get(ast, "modules");
	const char *name = str_member(ver, "name");
	char key[STATS_KEY_MAX + 1], major[STATS_KEY_MAX + 1];
	static const char *const os_fields[] = { "sys_name", "machine",
	    "release", NULL };
	static const char *const call_fields[] = { "active", "processed", NULL };

	if (add_line(l, "servers", "active", 1) < 0)
		return -1;
	if (name != NULL && strncmp(name, "Asterisk ", 9) == 0)
		name += 9;
	clean_key(name, false, key);
	if (add_line(l, "version", key, 1) < 0)
		return -1;
	stats_major_key(key, major);
	if (add_line(l, "major", major, 1) < 0)
		return -1;
	for (const char *const *f = os_fields; *f != NULL; f++) {
		clean_key(str_member(os, *f), false, key);
		if (add_line(l, *f, key, 1) < 0)
			return -1;
	}
	if (add_line(l, "uptime", uptime_bucket(str_member(json_object_get(st,
	    "run_time"), "startup_time"), now), 1) < 0)
		return -1;
	for (const char *const *f = call_fields; *f != NULL; f++) {
		const json_t *v = json_object_get(calls, *f);
		long long n = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
		/* Capped, so that no sum of a million servers can overflow. */
		if (n > CALLS_MAX)
			n = CALLS_MAX;
		if (n > 0 && add_line(l, "calls", *f, n) < 0)
			return -1;
	}
	if (add_size_lines(l, os, calls) < 0)
		return -1;
	if (json_is_array(mods) && add_modules(l, mods) < 0)
		return -1;
	return 0;
}

/* Append bucket bk's lines (sorted, a repeated line once) to out; with
 * below set, only those whose dimension sorts before "module", else only
 * the others (the other bucket's lines go around the module buckets). */
static int
emit_bucket(struct buf *out, const struct lines *l, enum bucket bk, int part)
{
	const char *t = l->text.data;

	for (size_t i = 0; i < l->b[bk].n; i++) {
		const struct line *ln = &l->b[bk].v[i];
		if (part != 0 && (cmp_prefix(t + ln->off, ln->plen, "module", 6) < 0) !=
		    (part < 0))
			continue;
		/* A module listed twice is one membership. */
		if (i > 0 && cmp_lines(ln - 1, ln, l->text.data) == 0)
			continue;
		if (buf_append(out, t + ln->off, ln->len) < 0)
			return -1;
	}
	return 0;
}

char *
stats_summary(const json_t *report, time_t now)
{
	struct lines l = { 0 };
	struct buf out = { 0 };
	int bad;

	bad = build_lines(&l, report, now);
	for (int bk = 0; !bad && bk < N_BUCKETS; bk++) {
		bool sorted = true;
		for (size_t i = 1; sorted && i < l.b[bk].n; i++)
			sorted = cmp_lines(&l.b[bk].v[i - 1], &l.b[bk].v[i],
			    l.text.data) <= 0;
		if (!sorted)
			qsort_r(l.b[bk].v, l.b[bk].n, sizeof *l.b[bk].v,
			    cmp_lines, l.text.data);
	}
	bad = bad || emit_bucket(&out, &l, B_OTHER, -1) < 0 ||
	    emit_bucket(&out, &l, B_MODULE, 0) < 0 ||
	    emit_bucket(&out, &l, B_STATUS, 0) < 0 ||
	    emit_bucket(&out, &l, B_SUPPORT, 0) < 0 ||
	    emit_bucket(&out, &l, B_OTHER, 1) < 0;
	buf_free(&l.text);
	for (int bk = 0; bk < N_BUCKETS; bk++)
		free(l.b[bk].v);
	if (!bad && buf_append(&out, "", 1) < 0)	/* the NUL */
		bad = 1;
	if (bad) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

char *
stats_summary_add(const char *summary, const char *dim, const char *key)
{
	struct buf out = { 0 }, pre = { 0 };
	const char *p = summary != NULL ? summary : "";
	bool placed = false, bad;

	bad = buf_append(&pre, dim, strlen(dim)) < 0 ||
	    buf_append(&pre, "\t", 1) < 0 || buf_append(&pre, key, strlen(key)) < 0;
	while (!bad && *p != '\0') {
		const char *end = strchr(p, '\n');
		const char *tab = strchr(p, '\t');
		size_t len = end != NULL ? (size_t)(end - p) + 1 : strlen(p);
		size_t plen = len;

		if (tab != NULL && (tab = strchr(tab + 1, '\t')) != NULL &&
		    tab < p + len)
			plen = (size_t)(tab - p);
		if (!placed) {
			int c = cmp_prefix(p, plen, pre.data, pre.len);

			if (c == 0)
				placed = true;		/* there already */
			else if (c > 0) {
				bad = buf_append(&out, pre.data, pre.len) < 0 ||
				    buf_append(&out, "\t1\n", 3) < 0;
				placed = true;
			}
		}
		bad = bad || buf_append(&out, p, len) < 0;
		p += len;
	}
	if (!bad && !placed)
		bad = buf_append(&out, pre.data, pre.len) < 0 ||
		    buf_append(&out, "\t1\n", 3) < 0;
	bad = bad || buf_append(&out, "", 1) < 0;	/* the NUL */
	buf_free(&pre);
	if (bad) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

/* ---- the diff ----------------------------------------------------------- */

struct cursor {
	const char *p;
	const char *line;
	size_t len, plen;	/* the line, its "DIM\tKEY" */
	long long n;
};

/* The next well-formed line; false at the end. */
static bool
next_line(struct cursor *c)
{
	while (c->p != NULL && *c->p != '\0') {
		const char *end = strchr(c->p, '\n');
		size_t len = end != NULL ? (size_t)(end - c->p) : strlen(c->p);
		char *tail;

		c->line = c->p;
		c->len = len;
		c->p += len + (end != NULL);
		c->plen = prefix_len(c->line, len);
		if (c->plen >= len || memchr(c->line, '\t', c->plen) == NULL)
			continue;	/* not DIM\tKEY\tN: skipped */
		c->n = strtoll(c->line + c->plen + 1, &tail, 10);
		if (tail == c->line + c->plen + 1)
			continue;
		return true;
	}
	c->line = NULL;
	return false;
}

static int
emit(const struct cursor *c, long long delta, stats_delta_fn fn, void *arg)
{
	const char *tab = memchr(c->line, '\t', c->plen);
	size_t dimlen = (size_t)(tab - c->line);

	if (delta == 0)
		return 0;
	return fn(arg, c->line, dimlen, tab + 1, c->plen - dimlen - 1, delta);
}

long *
key_room_of(struct key_room *r, const char *dim, size_t dimlen)
{
	for (int i = 0; i < r->nd; i++)
		if (strlen(r->d[i].dim) == dimlen &&
		    memcmp(r->d[i].dim, dim, dimlen) == 0)
			return &r->d[i].n;
	if (r->nd == (int)(sizeof r->d / sizeof r->d[0]) ||
	    dimlen >= sizeof r->d[0].dim)
		return NULL;
	memcpy(r->d[r->nd].dim, dim, dimlen);
	r->d[r->nd].dim[dimlen] = '\0';
	r->d[r->nd].n = -1;
	return &r->d[r->nd++].n;
}

int
stats_dim_open(const char *dim, size_t dimlen)
{
	static const char *const fixed[] = { "servers", "calls", "uptime",
	    "known", "first_seen" };

	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (dimlen == strlen(fixed[i]) && memcmp(dim, fixed[i], dimlen) == 0)
			return 0;
	return 1;
}

/* The lines of one dimension, gathered until the next begins, then
 * written after its overflow line (which sorts first). */
static int
flush_dim(struct buf *out, struct buf *dim_lines, const char *dim,
    size_t dimlen, long long overflow)
{
	char n[32];
	int rc = 0;

	if (overflow > 0) {
		snprintf(n, sizeof n, "\t%lld\n", overflow);
		rc = buf_append(out, dim, dimlen) < 0 ||
		    buf_append(out, "\t" STATS_KEY_OVERFLOW, 2) < 0 ||
		    buf_append(out, n, strlen(n)) < 0 ? -1 : 0;
	}
	if (rc == 0 && dim_lines->len > 0 &&
	    buf_append(out, dim_lines->data, dim_lines->len) < 0)
		rc = -1;
	dim_lines->len = 0;
	if (dim_lines->data != NULL)
		dim_lines->data[0] = '\0';
	return rc;
}

char *
stats_bound(const char *old, const char *new, stats_key_fn fn, void *arg)
{
	struct cursor a = { .p = old }, b = { .p = new };
	struct buf out = { 0 }, lines = { 0 };
	bool ha = next_line(&a), hb = next_line(&b);
	const char *dim = NULL;
	size_t dimlen = 0;
	long long overflow = 0;
	int rc = 0;

	if (buf_append(&out, "", 0) < 0)
		return NULL;
	for (; rc == 0 && hb; hb = next_line(&b)) {
		const char *tab = memchr(b.line, '\t', b.plen);
		size_t dl = (size_t)(tab - b.line);
		const char *key = tab + 1;
		size_t kl = b.plen - dl - 1;
		int by_name = 1;

		if (dim == NULL || dl != dimlen || memcmp(b.line, dim, dl) != 0) {
			if (dim != NULL)
				rc = flush_dim(&out, &lines, dim, dimlen, overflow);
			dim = b.line;
			dimlen = dl;
			overflow = 0;
		}
		if (kl == 1 && key[0] == STATS_KEY_OVERFLOW[0]) {
			overflow += b.n;	/* already bounded */
			continue;
		}
		if (stats_dim_open(dim, dimlen)) {
			/* Counted by name before: keep it so. */
			while (ha && cmp_prefix(a.line, a.plen, b.line, b.plen) < 0)
				ha = next_line(&a);
			if (!ha || cmp_prefix(a.line, a.plen, b.line, b.plen) != 0)
				by_name = fn(arg, dim, dimlen, key, kl);
		}
		if (by_name < 0)
			rc = -1;
		else if (by_name == 0)
			overflow += b.n;
		else if (buf_append(&lines, b.line, b.len) < 0 ||
		    buf_append(&lines, "\n", 1) < 0)
			rc = -1;
	}
	if (rc == 0 && dim != NULL)
		rc = flush_dim(&out, &lines, dim, dimlen, overflow);
	buf_free(&lines);
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

long long
stats_summary_value(const char *summary, const char *dim, const char *key)
{
	struct cursor c = { .p = summary };
	size_t dl = strlen(dim), kl = strlen(key);

	while (next_line(&c))
		if (c.plen == dl + 1 + kl && memcmp(c.line, dim, dl) == 0 &&
		    c.line[dl] == '\t' && memcmp(c.line + dl + 1, key, kl) == 0)
			return c.n;
	return 0;
}

int
stats_diff(const char *old, const char *new, stats_delta_fn fn, void *arg)
{
	struct cursor a = { .p = old }, b = { .p = new };
	bool ha = next_line(&a), hb = next_line(&b);
	int rc = 0;

	while (rc == 0 && (ha || hb)) {
		int c = !ha ? 1 : !hb ? -1 :
		    cmp_prefix(a.line, a.plen, b.line, b.plen);
		if (c < 0) {
			rc = emit(&a, -a.n, fn, arg);
			ha = next_line(&a);
		} else if (c > 0) {
			rc = emit(&b, b.n, fn, arg);
			hb = next_line(&b);
		} else {
			rc = emit(&b, b.n - a.n, fn, arg);
			ha = next_line(&a);
			hb = next_line(&b);
		}
	}
	return rc;
}

/* ---- rows ------------------------------------------------------------------ */

int
stat_rows_add(struct stat_row **rows, size_t *n, const char *dim,
    const char *key, long long value, const char *day)
{
	struct stat_row *v, *r;

	/* Grown by doubling: *n a power of two means full. */
	if ((*n & (*n - 1)) == 0) {
		v = realloc(*rows, (*n ? *n * 2 : 16) * sizeof *v);
		if (v == NULL)
			return -1;
		*rows = v;
	}
	r = &(*rows)[*n];
	memset(r, 0, sizeof *r);
	r->dim = strdup(dim != NULL ? dim : "");
	r->key = strdup(key != NULL ? key : "");
	r->n = value;
	if (day != NULL)
		snprintf(r->day, sizeof r->day, "%s", day);
	if (r->dim == NULL || r->key == NULL) {
		free(r->dim);
		free(r->key);
		return -1;
	}
	(*n)++;
	return 0;
}

static void
rows_free(struct stat_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].dim);
		free(rows[i].key);
	}
	free(rows);
}

void
stat_rows_free(struct stat_rows *r)
{
	if (r == NULL)
		return;
	rows_free(r->counts, r->n_counts);
	rows_free(r->history, r->n_history);
	memset(r, 0, sizeof *r);
}
