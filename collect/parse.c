/* The four Asterisk CLI texts a report reads, parsed without I/O.
 * Formats from Asterisk's main/cli.c and main/asterisk.c, 1.8 to 22;
 * lenient about spacing, CR LF and junk, strict about what is kept:
 * every string returned is printable ASCII (control characters and
 * other bytes become '?'), so nothing from Asterisk reaches a terminal
 * or the JSON raw. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"

#define NAME_MAX_LEN 128	/* a kept module name, status, level */
#define DESC_MAX_LEN 256	/* a kept description (Asterisk cuts at 40) */
#define VERSION_MAX_LEN 128

/* A line of the text without its end-of-line and trailing blanks. */
struct line {
	const char *s;
	size_t len;
	bool terminated;	/* ended by '\n' (not cut off) */
};

/* The next line of *p, advancing *p; false at the end of the text. */
static bool
next_line(const char **p, struct line *l)
{
	const char *s = *p, *nl;

	if (*s == '\0')
		return false;
	nl = strchr(s, '\n');
	l->s = s;
	l->len = nl ? (size_t)(nl - s) : strlen(s);
	l->terminated = nl != NULL;
	*p = nl ? nl + 1 : s + l->len;
	/* '\r' of CR LF, and the padding some columns leave. */
	while (l->len > 0 && isspace((unsigned char)l->s[l->len - 1]))
		l->len--;
	while (l->len > 0 && isspace((unsigned char)l->s[0])) {
		l->s++;
		l->len--;
	}
	return true;
}

/* Does the line start with prefix (exactly)? */
static bool
starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A non-negative decimal number of at most 15 digits filling [s, s+len)
 * exactly.  0 or -1.
 */
static int
read_number(const char *s, size_t len, long long *out)
{
	long long v = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Leading digits of [*s, end) as a number (at most 15 of them), skipping
 * them; -1 when there are none. */
static long long
take_number(const char **s, const char *end)
{
	const char *p = *s;
	long long v;

	while (p < end && isdigit((unsigned char)*p))
		p++;
	if (read_number(*s, (size_t)(p - *s), &v) < 0)
		return -1;
	*s = p;
	return v;
}

/* ---- core show version ---------------------------------------------- */

/*
 * The number Asterisk's build gives ast_get_version_num() for a version
 * string: the Makefile takes .version, drops a leading "certified/",
 * turns the first "-cert" into ".", splits on '.' and prints the first
 * three fields with awk's "%01d%02d%02d" (awk reads a field's leading
 * digits, 0 when there are none).  So:
 *   20.5.2                → "200502"
 *   22.1.0-rc1            → "220100"   ("0-rc1" reads as 0)
 *   1.8.32.3              → "10832"    (a fourth field is ignored)
 *   certified/18.9-cert5  → "180905"
 *   13.13-cert2 (older certified naming) → "131302"
 *   GIT-master-abc123, UNKNOWN__...      → "00000"  (a Git checkout has no
 *        .version, so Asterisk's own number is empty; the protocol wants a
 *        number, and this is what the formula gives for that string)
 *   SVN-branch-13-r430034 → "999999"   (the Makefile's value for .svn trees)
 * Returns a new string, or NULL when out of memory.
 */
static char *
version_number(const char *v, size_t len)
{
	char buf[VERSION_MAX_LEN + 8], out[64];
	long long field[3] = { 0, 0, 0 };
	const char *p, *end, *cert;
	size_t blen;

	if (len >= 4 && memcmp(v, "SVN-", 4) == 0)
		return strdup("999999");
	if (len >= 10 && memcmp(v, "certified/", 10) == 0) {
		v += 10;
		len -= 10;
	}
	if (len > VERSION_MAX_LEN)
		len = VERSION_MAX_LEN;
	memcpy(buf, v, len);
	buf[len] = '\0';
	cert = strstr(buf, "-cert");
	if (cert != NULL) {
		/* "18.9-cert5" → "18.9.5" */
		size_t at = (size_t)(cert - buf);
		buf[at] = '.';
		memmove(buf + at + 1, buf + at + 5, strlen(buf + at + 5) + 1);
	}
	blen = strlen(buf);
	p = buf;
	end = buf + blen;
	for (int i = 0; i < 3 && p <= end; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *fend = dot ? dot : end;
		const char *q = p;
		long long n = take_number(&q, fend);

		field[i] = n < 0 ? 0 : n % 1000000;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	snprintf(out, sizeof out, "%01lld%02lld%02lld", field[0], field[1],
	    field[2]);
	return strdup(out);
}

static bool
version_char(char c)
{
	return isalnum((unsigned char)c) || strchr("._-+~/:", c) != NULL;
}

int
parse_core_show_version(const char *text, char **name, char **number)
{
	static const char built[] = " built by ";
	const char *p = text;
	struct line l;

	*name = *number = NULL;
	if (text == NULL)
		return -1;
	/* "Asterisk %s built by %s @ %s on a %s running %s on %s": only %s
	 * number one is ours; the rest names the build host and user. */
	while (next_line(&p, &l)) {
		const char *v, *vend;
		size_t vlen, toklen = 0;
		bool built_by = false;
		char *sane;

		if (!starts(&l, "Asterisk "))
			continue;
		v = l.s + 9;
		vend = l.s + l.len;
		while (v < vend && is_blank(*v))
			v++;
		while (toklen < (size_t)(vend - v) && version_char(v[toklen]))
			toklen++;
		if (toklen == 0)
			continue;
		/* The version may carry a flavour: "13.1.0 (AsteriskNOW 1.0)". */
		vlen = toklen;
		for (const char *b = v; b + sizeof built - 1 <= vend; b++)
			if (memcmp(b, built, sizeof built - 1) == 0) {
				vlen = (size_t)(b - v);
				built_by = true;
				break;
			}
		if (!built_by && !isdigit((unsigned char)*v))
			continue;	/* no "built by", not a number: not ours */
		sane = text_sanitize(v, vlen, VERSION_MAX_LEN);
		if (sane == NULL)
			return -1;
		if (asprintf(name, "Asterisk %s", sane) < 0)
			*name = NULL;
		free(sane);
		*number = version_number(v, toklen);
		if (*name == NULL || *number == NULL) {
			free(*name);
			free(*number);
			*name = *number = NULL;
			return -1;
		}
		return 0;
	}
	return -1;
}

/* ---- module show ----------------------------------------------------- */

/* The columns after the description, as the header (or a guess) says:
 * 1.8-11 "Use Count"; 12 adds "Status"; 13+ adds "Support Level". */
enum layout { LAYOUT_GUESS, LAYOUT_USE, LAYOUT_STATUS, LAYOUT_LEVEL };

struct span {
	const char *s;
	size_t len;
};

/* The token ending at or before end (after start), or len 0. */
static struct span
token_before(const char *start, const char *end)
{
	struct span t = { end, 0 };

	while (end > start && is_blank(end[-1]))
		end--;
	t.s = end;
	while (t.s > start && !is_blank(t.s[-1]))
		t.s--;
	t.len = (size_t)(end - t.s);
	return t;
}

static bool
span_is_number(struct span t)
{
	long long v;

	return read_number(t.s, t.len, &v) == 0;
}

static bool
module_name_ok(struct span t)
{
	if (t.len == 0 || t.len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < t.len; i++)
		if (!isalnum((unsigned char)t.s[i]) &&
		    strchr("_.+-", t.s[i]) == NULL)
			return false;
	return true;
}

/* "326 modules loaded", "1 module loaded" */
static bool
is_footer(const struct line *l)
{
	const char *p = l->s, *end = l->s + l->len;

	if (take_number(&p, end) < 0)
		return false;
	return ((size_t)(end - p) == 15 && memcmp(p, " modules loaded", 15) == 0) ||
	    ((size_t)(end - p) == 14 && memcmp(p, " module loaded", 14) == 0);
}

static void
module_free_fields(struct module_info *m)
{
	free(m->name);
	free(m->description);
	free(m->status);
	free(m->support_level);
}

static char *
span_sanitize(const char *s, const char *end, size_t max)
{
	return text_sanitize(s, s < end ? (size_t)(end - s) : 0, max);
}

/*
 * One module line, read from the right since the description (cut to 40
 * columns, maybe with spaces) and a long name shift the columns:
 * [support level] [status words] use-count, then the description up to
 * the name, the first token.  1 when m was filled, 0 when the line is not
 * a module line, -1 when out of memory.
 */
static int
parse_module_line(const struct line *l, enum layout layout,
    struct module_info *m)
{
	const char *end = l->s + l->len, *after_name;
	struct span name, level = { NULL, 0 }, use, t;
	size_t after_use = 0;

	memset(m, 0, sizeof *m);
	name.s = l->s;
	name.len = 0;
	while (name.len < l->len && !is_blank(name.s[name.len]))
		name.len++;
	if (!module_name_ok(name))
		return 0;
	after_name = name.s + name.len;
	if (layout == LAYOUT_GUESS) {
		/* No header: a number last is the old layout; else count the
		 * words after the right-most number. */
		t = token_before(after_name, end);
		if (t.len > 0 && span_is_number(t)) {
			layout = LAYOUT_USE;
		} else {
			const char *e = end;
			size_t words = 0;
			for (;;) {
				t = token_before(after_name, e);
				if (t.len == 0 || span_is_number(t))
					break;
				words++;
				e = t.s;
			}
			layout = words >= 2 ? LAYOUT_LEVEL : LAYOUT_STATUS;
		}
	}
	if (layout == LAYOUT_LEVEL) {
		level = token_before(after_name, end);
		if (level.len == 0)
			return 0;
		end = level.s;
	}
	/* The use count: the right-most number; all after it is status. */
	use = token_before(after_name, end);
	while (use.len > 0 && !span_is_number(use)) {
		after_use++;
		use = token_before(after_name, use.s);
	}
	if (use.len == 0)
		return 0;
	if ((layout == LAYOUT_USE && after_use != 0) ||
	    (layout != LAYOUT_USE && after_use == 0))
		return 0;
	m->name = span_sanitize(name.s, name.s + name.len, NAME_MAX_LEN);
	m->description = span_sanitize(after_name, use.s, DESC_MAX_LEN);
	if (layout != LAYOUT_USE)
		m->status = span_sanitize(use.s + use.len, end, NAME_MAX_LEN);
	if (layout == LAYOUT_LEVEL)
		m->support_level = span_sanitize(level.s, level.s + level.len,
		    NAME_MAX_LEN);
	if (m->name == NULL || m->description == NULL ||
	    (layout != LAYOUT_USE && m->status == NULL) ||
	    (layout == LAYOUT_LEVEL && m->support_level == NULL)) {
		module_free_fields(m);
		memset(m, 0, sizeof *m);
		return -1;
	}
	return 1;
}

int
parse_module_show(const char *text, struct module_info **modules, size_t *n)
{
	struct module_info *list = NULL, m;
	size_t count = 0, cap = 0;
	enum layout layout = LAYOUT_GUESS;
	bool header = false;
	const char *p = text;
	struct line l;

	*modules = NULL;
	*n = 0;
	if (text == NULL)
		return -1;
	while (next_line(&p, &l)) {
		int got;

		if (l.len == 0 || is_footer(&l))
			continue;
		if (starts(&l, "Module") &&
		    memmem(l.s, l.len, "Description", 11) != NULL &&
		    memmem(l.s, l.len, "Use Count", 9) != NULL) {
			header = true;
			layout = memmem(l.s, l.len, "Support Level", 13) ?
			    LAYOUT_LEVEL : memmem(l.s, l.len, "Status", 6) ?
			    LAYOUT_STATUS : LAYOUT_USE;
			continue;
		}
		/* Asterisk ends every line; one without '\n' was cut off and
		 * its last column may be a fragment. */
		if (!l.terminated)
			continue;
		got = parse_module_line(&l, layout, &m);
		if (got == 0)
			continue;
		if (got < 0)
			goto nomem;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct module_info *nl = realloc(list, ncap * sizeof *nl);
			if (nl == NULL) {
				module_free_fields(&m);
				goto nomem;
			}
			list = nl;
			cap = ncap;
		}
		list[count++] = m;
	}
	if (!header && count == 0)
		return -1;
	*modules = list;
	*n = count;
	return 0;
nomem:
	for (size_t i = 0; i < count; i++)
		module_free_fields(&list[i]);
	free(list);
	return -1;
}

/* ---- core show uptime seconds ----------------------------------------- */

/*
 * A duration: the seconds form "76", or the words form Asterisk prints
 * without "seconds" ("1 year, 2 weeks, 3 days, 4 hours, 1 minute, 15
 * seconds"; a year is 365 days there).  -1 when it is neither.
 */
const struct duration_unit duration_units[DURATION_UNITS] = {
	{ "year", 365LL * 86400 }, { "week", 7 * 86400 },
	{ "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
	{ "second", 1 },
};

static long long
read_duration(const char *s, const char *end)
{
	long long total = 0, v;

	if (read_number(s, (size_t)(end - s), &v) == 0)
		return v;
	while (s < end) {
		size_t k, wlen;
		long long n = take_number(&s, end);

		if (n < 0 || s >= end || *s != ' ')
			return -1;
		s++;
		for (k = 0; k < DURATION_UNITS; k++) {
			wlen = strlen(duration_units[k].word);
			if ((size_t)(end - s) >= wlen &&
			    memcmp(s, duration_units[k].word, wlen) == 0)
				break;
		}
		if (k == DURATION_UNITS)
			return -1;
		s += wlen;
		if (s < end && *s == 's')
			s++;
		/* check before multiplying: n can have 15 digits */
		if (n > ((1LL << 40) - total) / duration_units[k].secs)
			return -1;
		total += n * duration_units[k].secs;
		if (s < end && *s == ',')
			s++;
		while (s < end && *s == ' ')
			s++;
	}
	return total;
}

int
parse_core_show_uptime(const char *text, long long *uptime,
    long long *since_reload)
{
	const char *p = text;
	struct line l;

	*uptime = *since_reload = -1;
	if (text == NULL)
		return -1;
	while (next_line(&p, &l)) {
		const char *end = l.s + l.len;

		if (starts(&l, "System uptime: ") && *uptime < 0)
			*uptime = read_duration(l.s + 15, end);
		else if (starts(&l, "Last reload: ") && *since_reload < 0)
			*since_reload = read_duration(l.s + 13, end);
	}
	return *uptime >= 0 ? 0 : -1;
}

/* ---- core show calls -------------------------------------------------- */

/* Does [s, end) equal word, or word + "s" (Asterisk's ESS())? */
static bool
plural_is(const char *s, const char *end, const char *word)
{
	size_t len = (size_t)(end - s), wlen = strlen(word);

	if (len == wlen + 1 && s[wlen] == 's')
		len--;
	return len == wlen && memcmp(s, word, wlen) == 0;
}

int
parse_core_show_calls(const char *text, long *active, long *processed)
{
	const char *p = text;
	struct line l;

	*active = *processed = -1;
	if (text == NULL)
		return -1;
	while (next_line(&p, &l)) {
		const char *s = l.s, *end = l.s + l.len;
		long long n = take_number(&s, end);

		if (n < 0 || n > INT32_MAX)
			continue;
		/* "2 active calls"; with maxcalls set:
		 * "2 of 100 max active calls ( 2.00% of capacity)" */
		if (end - s > 8 && memcmp(s, " of ", 4) == 0) {
			const char *q = s + 4;
			const char *paren;
			if (take_number(&q, end) < 0 ||
			    (size_t)(end - q) < 12 ||
			    memcmp(q, " max active ", 12) != 0)
				continue;
			q += 12;
			paren = memchr(q, '(', (size_t)(end - q));
			end = paren ? paren : end;
			while (end > q && end[-1] == ' ')
				end--;
			if (plural_is(q, end, "call") && *active < 0)
				*active = (long)n;
			continue;
		}
		if (end - s > 8 && memcmp(s, " active ", 8) == 0 &&
		    plural_is(s + 8, end, "call") && *active < 0)
			*active = (long)n;
		else if (end - s > 1 && *s == ' ' && *processed < 0) {
			const char *sp = memchr(s + 1, ' ', (size_t)(end - s - 1));
			if (sp != NULL && plural_is(s + 1, sp, "call") &&
			    (size_t)(end - sp) == 10 &&
			    memcmp(sp, " processed", 10) == 0)
				*processed = (long)n;
		}
	}
	return *active >= 0 || *processed >= 0 ? 0 : -1;
}
