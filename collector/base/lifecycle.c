/*
 * Asterisk's release lifecycle: the data file and the rules (lifecycle.h).
 *
 * The file is INI, read with libinih through ini_file.c as config.c reads
 * the configuration (line numbers in errors; what inih would let pass is
 * judged there).  One [lifecycle] section (last_checked), then one
 * section per release series:
 *
 *   [16]                       ; a major version: "1.8", "10" ... "23"
 *   kind = lts                 ; lts, standard or certified
 *   released = 2018-10-09
 *   security_fixes_only = 2022-10-09   ; end of full support
 *   end_of_life = 2023-10-09
 *   source = https://...       ; the public page the dates come from
 *
 *   [certified/18.9]           ; a certified series, kind = certified
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "../../common/text.h"
#include "ini_file.h"
#include "lifecycle.h"


enum field { F_KIND, F_RELEASED, F_SECURITY, F_EOL, F_SOURCE, F__MAX };
static const char *const field_names[F__MAX] = {
	[F_KIND] = "kind",
	[F_RELEASED] = "released",
	[F_SECURITY] = "security_fixes_only",
	[F_EOL] = "end_of_life",
	[F_SOURCE] = "source",
};

static const char *const status_names[LC__MAX] = {
	[LC_UNKNOWN] = "unknown",
	[LC_SUPPORTED] = "supported",
	[LC_SECURITY] = "security",
	[LC_EOL] = "eol",
};

static const char *const kind_names[] = {
	[LC_LTS] = "lts",
	[LC_STANDARD] = "standard",
	[LC_CERTIFIED] = "certified",
};

struct parse {
	struct ini_file ini;		/* first: on_section casts it back */
	struct lifecycle *lc;
	bool in_meta;			/* in [lifecycle] */
	int meta_line;			/* the [lifecycle] header's line, 0 = none */
	int last_checked_line;
	struct lc_series *cur;		/* the series being read, NULL in [lifecycle] */
	int cur_line;			/* its header's line */
	int seen[F__MAX];		/* the line that set each field of cur */
};

/* "YYYY-MM-DD", a day that exists, from 1990 to 2199. */
static bool
valid_day(const char *v)
{
	struct tm tm = { 0 };
	time_t t;
	struct tm back;
	int mday, mon;

	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)v[i]))
			return false;
	tm.tm_year = atoi(v) - 1900;
	tm.tm_mon = atoi(v + 5) - 1;
	tm.tm_mday = atoi(v + 8);
	if (tm.tm_year < 90 || tm.tm_year > 299 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11 || tm.tm_mday < 1)
		return false;
	mday = tm.tm_mday;
	mon = tm.tm_mon;
	t = timegm(&tm);	/* normalises tm: 02-30 becomes 03-02 */
	return t != (time_t)-1 && gmtime_r(&t, &back) != NULL &&
	    back.tm_mday == mday && back.tm_mon == mon;
}

/* "http(s)://" and printable ASCII without blanks. */
static bool
valid_source(const char *v)
{
	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
		return false;
	if (strlen(v) > LC_SOURCE_MAX)
		return false;
	for (const char *c = v; *c != '\0'; c++)
		if (*c <= ' ' || *c > '~')
			return false;
	return true;
}

/* "N" (2..999) or "1.N" for a major version; "certified/" before either
 * for a certified series, which also needs its minor: "certified/18.9". */
static bool
valid_series_name(const char *s)
{
	bool cert = strncmp(s, "certified/", 10) == 0;
	const char *v = cert ? s + 10 : s;
	size_t a = strspn(v, "0123456789"), b;

	if (a == 0 || a > 3 || v[0] == '0')
		return false;
	if (v[a] == '\0')
		return !cert && !(a == 1 && v[0] == '1');
	if (v[a] != '.')
		return false;
	b = strspn(v + a + 1, "0123456789");
	if (b == 0 || b > 3 || v[a + 1 + b] != '\0')
		return false;
	/* "1.8" is a major version; "18.9" only as a certified series */
	return cert || (a == 1 && v[0] == '1');
}

/* The series now being read is complete and consistent. */
static void
finish_series(struct parse *p)
{
	struct lc_series *s = p->cur;

	if (s == NULL || p->ini.error)
		return;
	for (int f = 0; f < F__MAX; f++)
		if (p->seen[f] == 0) {
			ini_file_error(&p->ini, p->cur_line, "[%s] has no %s", s->name,
			    field_names[f]);
			return;
		}
	if ((s->kind == LC_CERTIFIED) != (strncmp(s->name, "certified/", 10) == 0)) {
		ini_file_error(&p->ini, p->seen[F_KIND], "[%s]: kind = certified goes with, "
		    "and only with, a [certified/N.N] series", s->name);
		return;
	}
	if (strcmp(s->released, s->security) > 0)
		ini_file_error(&p->ini, p->seen[F_SECURITY], "[%s]: security_fixes_only (%s) is "
		    "before released (%s)", s->name, s->security, s->released);
	else if (strcmp(s->security, s->eol) > 0)
		ini_file_error(&p->ini, p->seen[F_EOL], "[%s]: end_of_life (%s) is before "
		    "security_fixes_only (%s)", s->name, s->eol, s->security);
}

/* A section header: the previous series ends, a new one starts. */
static void
start_section(struct parse *p, const char *name)
{
	struct lc_series *grown;
	char *n;

	finish_series(p);
	p->cur = NULL;
	p->in_meta = false;
	memset(p->seen, 0, sizeof p->seen);
	if (p->ini.error)
		return;
	if (strcmp(name, "lifecycle") == 0) {
		if (p->meta_line != 0) {
			ini_file_error(&p->ini, p->ini.line, "[lifecycle] appears twice (first on line %d)",
			    p->meta_line);
			return;
		}
		p->meta_line = p->ini.line;
		p->in_meta = true;
		return;
	}
	if (!valid_series_name(name)) {
		n = ini_file_shown(name);
		ini_file_error(&p->ini, p->ini.line, "[%s] is neither [lifecycle] nor a release series "
		    "([1.8], [16], [certified/18.9])", n ? n : "?");
		free(n);
		return;
	}
	for (size_t i = 0; i < p->lc->n; i++)
		if (strcmp(p->lc->series[i].name, name) == 0) {
			ini_file_error(&p->ini, p->ini.line, "[%s] appears twice", name);
			return;
		}
	if (p->lc->n >= LC_MAX_SERIES) {
		ini_file_error(&p->ini, p->ini.line, "more than %d release series", LC_MAX_SERIES);
		return;
	}
	grown = realloc(p->lc->series, (p->lc->n + 1) * sizeof *grown);
	if (grown == NULL) {
		ini_file_error(&p->ini, p->ini.line, "out of memory");
		return;
	}
	p->lc->series = grown;
	p->cur = &grown[p->lc->n++];
	memset(p->cur, 0, sizeof *p->cur);
	snprintf(p->cur->name, sizeof p->cur->name, "%s", name);
	p->cur_line = p->ini.line;
}

static void
set_field(struct parse *p, enum field f, const char *v)
{
	struct lc_series *s = p->cur;
	char *day = NULL;

	switch (f) {
	case F_KIND:
		for (size_t k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
			if (strcmp(v, kind_names[k]) == 0) {
				s->kind = (enum lc_kind)k;
				return;
			}
		ini_file_bad_value(&p->ini, "kind", v, "is not lts, standard or certified");
		return;
	case F_RELEASED: day = s->released; break;
	case F_SECURITY: day = s->security; break;
	case F_EOL: day = s->eol; break;
	case F_SOURCE:
		if (!valid_source(v)) {
			ini_file_bad_value(&p->ini, "source", v, "is not an http(s) URL");
			return;
		}
		snprintf(s->source, sizeof s->source, "%s", v);
		return;
	case F__MAX:
		return;
	}
	if (!valid_day(v)) {
		ini_file_bad_value(&p->ini, field_names[f], v, "is not a date YYYY-MM-DD");
		return;
	}
	memcpy(day, v, 11);
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	char *n;

	(void)section;		/* the reader followed the headers */
	if (p->ini.error)
		return 0;
	if (p->in_meta) {
		if (strcmp(name, "last_checked") != 0)
			goto unknown;
		if (p->last_checked_line != 0) {
			ini_file_error(&p->ini, p->ini.line, "last_checked is set twice (first on line %d)",
			    p->last_checked_line);
			return 0;
		}
		if (!valid_day(value)) {
			ini_file_bad_value(&p->ini, "last_checked", value, "is not a date YYYY-MM-DD");
			return 0;
		}
		p->last_checked_line = p->ini.line;
		memcpy(p->lc->last_checked, value, 11);
		return 1;
	}
	if (p->cur == NULL) {
		n = ini_file_shown(name);
		ini_file_error(&p->ini, p->ini.line, "\"%s\" is outside any section", n ? n : "?");
		free(n);
		return 0;
	}
	for (int f = 0; f < F__MAX; f++) {
		if (strcmp(name, field_names[f]) != 0)
			continue;
		if (p->seen[f] != 0) {
			ini_file_error(&p->ini, p->ini.line, "%s is set twice in [%s] (first on line %d)",
			    name, p->cur->name, p->seen[f]);
			return 0;
		}
		p->seen[f] = p->ini.line;
		set_field(p, (enum field)f, value);
		return !p->ini.error;
	}
unknown:
	n = ini_file_shown(name);
	ini_file_error(&p->ini, p->ini.line, "unknown key \"%s\" (known: %s)", n ? n : "?",
	    p->in_meta ? "last_checked" :
	    "kind, released, security_fixes_only, end_of_life, source");
	free(n);
	return 0;
}

/* A section header (ini_file.c): [lifecycle] or a release series. */
static void
on_section(struct ini_file *f, const char *name)
{
	start_section((struct parse *)f, name);
}

int
lifecycle_load_stream(FILE *f, const char *name, struct lifecycle **out,
    char *err, size_t errlen)
{
	struct parse p = { .ini = { .path = name, .file = f, .err = err,
	    .errlen = errlen, .on_section = on_section } };

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	p.lc = calloc(1, sizeof *p.lc);
	if (p.lc == NULL) {
		ini_file_error(&p.ini, 0, "out of memory");
		return -1;
	}
	ini_file_parse(&p.ini, handler, &p);
	finish_series(&p);
	if (!p.ini.error && p.lc->last_checked[0] == '\0')
		ini_file_error(&p.ini, p.meta_line, "no last_checked = YYYY-MM-DD in [lifecycle]");
	if (p.ini.error) {
		lifecycle_free(p.lc);
		return -1;
	}
	*out = p.lc;
	return 0;
}

int
lifecycle_load(const char *path, struct lifecycle **out, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	*out = NULL;
	if (f == NULL) {
		char *s = text_sanitize(path, strlen(path), 256);

		snprintf(err, errlen, "%s: cannot read: %s", s ? s : "?",
		    strerror(errno));
		free(s);
		return -1;
	}
	rc = lifecycle_load_stream(f, path, out, err, errlen);
	fclose(f);
	return rc;
}

void
lifecycle_free(struct lifecycle *lc)
{
	if (lc == NULL)
		return;
	free(lc->series);
	free(lc);
}

/* ---- the rules ------------------------------------------------------------ */

bool
lifecycle_series_key(const char *version, char out[LC_NAME_MAX + 1])
{
	const char *v = version;
	bool cert = false;
	size_t a, b = 0;

	out[0] = '\0';
	if (v == NULL)
		return false;
	if (strncmp(v, "Asterisk ", 9) == 0)
		v += 9;
	if (strncmp(v, "certified/", 10) == 0) {
		cert = true;
		v += 10;
	}
	a = strspn(v, "0123456789");
	if (a == 0 || a > 3 || v[0] == '0')
		return false;
	if (v[a] == '.')
		b = strspn(v + a + 1, "0123456789");
	if (!cert && strstr(v, "-cert") != NULL)
		cert = true;
	if (cert) {
		if (b == 0 || b > 3)
			return false;
		snprintf(out, LC_NAME_MAX + 1, "certified/%.*s", (int)(a + 1 + b), v);
		return true;
	}
	if (a == 1 && v[0] == '1') {	/* 1.2 ... 1.8: the major is "1.N" */
		if (b == 0 || b > 3)
			return false;
		snprintf(out, LC_NAME_MAX + 1, "%.*s", (int)(a + 1 + b), v);
		return true;
	}
	snprintf(out, LC_NAME_MAX + 1, "%.*s", (int)a, v);
	return true;
}

const struct lc_series *
lifecycle_find(const struct lifecycle *lc, const char *version, long number)
{
	char key[LC_NAME_MAX + 1];

	if (lc == NULL)
		return NULL;
	if (!lifecycle_series_key(version, key)) {
		/* MMmmpp (ast_get_version_num) from 10.0.0 on; the number
		 * cannot tell a certified series, nor 1.x */
		if (number < 100000 || number > 999999)
			return NULL;
		snprintf(key, sizeof key, "%ld", number / 10000);
	}
	for (size_t i = 0; i < lc->n; i++)
		if (strcmp(lc->series[i].name, key) == 0)
			return &lc->series[i];
	return NULL;
}

enum lc_status
lifecycle_series_status(const struct lc_series *s, time_t now)
{
	struct tm tm;
	char today[11];

	if (s == NULL || gmtime_r(&now, &tm) == NULL)
		return LC_UNKNOWN;
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	if (strcmp(today, s->eol) >= 0)
		return LC_EOL;
	if (strcmp(today, s->security) >= 0)
		return LC_SECURITY;
	return LC_SUPPORTED;
}

enum lc_status
lifecycle_status(const struct lifecycle *lc, const char *version, long number,
    time_t now)
{
	return lifecycle_series_status(lifecycle_find(lc, version, number), now);
}

const char *
lifecycle_status_name(enum lc_status st)
{
	return st >= 0 && st < LC__MAX ? status_names[st] : "unknown";
}

bool
lifecycle_status_parse(const char *name, enum lc_status *out)
{
	for (int i = 0; i < LC__MAX; i++)
		if (name != NULL && strcmp(name, status_names[i]) == 0) {
			*out = (enum lc_status)i;
			return true;
		}
	return false;
}

const char *
lifecycle_kind_name(enum lc_kind k)
{
	return k <= LC_CERTIFIED ? kind_names[k] : "?";
}

bool
lifecycle_notice(const struct lifecycle *lc, const char *version, long number,
    time_t now, char id[LC_NOTICE_ID_MAX + 1], char text[LC_NOTICE_TEXT_MAX + 1])
{
	const struct lc_series *s = lifecycle_find(lc, version, number);
	enum lc_status st = lifecycle_series_status(s, now);
	char shown_name[LC_NAME_MAX + 16], idname[LC_NAME_MAX + 1];
	int n;

	id[0] = text[0] = '\0';
	if (st != LC_EOL && st != LC_SECURITY)
		return false;
	if (s->kind == LC_CERTIFIED)
		snprintf(shown_name, sizeof shown_name, "Certified Asterisk %s",
		    s->name + 10);
	else
		snprintf(shown_name, sizeof shown_name, "Asterisk %s", s->name);
	snprintf(idname, sizeof idname, "%s", s->name);
	for (char *c = idname; *c != '\0'; c++)
		if (*c == '/')
			*c = '-';
	snprintf(id, LC_NOTICE_ID_MAX + 1, "lifecycle-%s-%s", idname,
	    st == LC_EOL ? "eol" : "security");
	if (st == LC_EOL)
		n = snprintf(text, LC_NOTICE_TEXT_MAX + 1, "%s reached its end of life "
		    "on %s; it gets no fixes, not even for security: upgrade to a "
		    "supported version", shown_name, s->eol);
	else
		n = snprintf(text, LC_NOTICE_TEXT_MAX + 1, "%s gets security fixes "
		    "only since %s and reaches its end of life on %s: plan an upgrade",
		    shown_name, s->security, s->eol);
	return n > 0;
}

long
lifecycle_age_days(const struct lifecycle *lc, time_t now)
{
	struct tm tm = { 0 };
	time_t checked;

	if (lc == NULL || lc->last_checked[0] == '\0')
		return 0;
	tm.tm_year = atoi(lc->last_checked) - 1900;
	tm.tm_mon = atoi(lc->last_checked + 5) - 1;
	tm.tm_mday = atoi(lc->last_checked + 8);
	checked = timegm(&tm);
	return (long)((now - checked) / 86400);
}

int
lifecycle_load_configured(const char *configured, const char *installed,
    time_t now, struct lifecycle **out, char *warn, size_t warnlen,
    char *err, size_t errlen)
{
	const char *path = configured != NULL && configured[0] != '\0' ?
	    configured : installed;
	long age;

	*out = NULL;
	warn[0] = '\0';
	if (path == installed && access(path, F_OK) != 0 && errno == ENOENT) {
		snprintf(warn, warnlen, "lifecycle: %s is not installed: every "
		    "Asterisk version counts as unknown", path);
		return 0;
	}
	if (lifecycle_load(path, out, err, errlen) < 0)
		return -1;
	/* Old data: new releases count as unknown, and the statuses of the
	 * others may have moved. */
	age = lifecycle_age_days(*out, now);
	if (age > LIFECYCLE_STALE_DAYS)
		snprintf(warn, warnlen, "lifecycle: %s was last checked on %s, "
		    "%ld days ago: newer Asterisk releases count as unknown "
		    "until it is updated", path, (*out)->last_checked, age);
	return 0;
}
