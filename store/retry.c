/* The retry state of CONTRACT §9: a server that was not reached waits
 * before the next attempt, the server's Retry-After (clamped) when it
 * gave one, otherwise 1 h, 2 h, 4 h, ... 24 h.  Kept per server in
 * state_dir as "NAME.retry", a small JSON object written atomically. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/log.h"
#include "../common/text.h"
#include "files.h"
#include "history.h"

#define RETRY_FILE_MAX 4096

long
retry_backoff(unsigned n)
{
	long wait = RETRY_FIRST;

	for (unsigned i = 1; i < n && wait < RETRY_MAX; i++)
		wait *= 2;
	return wait < RETRY_MAX ? wait : RETRY_MAX;
}

long
retry_clamp(long long secs)
{
	if (secs < RETRY_AFTER_MIN)
		return RETRY_AFTER_MIN;
	if (secs > RETRY_AFTER_MAX)
		return RETRY_AFTER_MAX;
	return (long)secs;
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr",
    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri",
    "Sat", "Sun"};
static const char *const long_day_names[7] = {"Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/* Consume exactly n digits at *p into *v. */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/* Consume the literal s at *p. */
static bool
literal(const char **p, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Consume one of names[0..n-1] (case as written) at *p. */
static bool
name_of(const char **p, const char *const *names, int n, int *idx)
{
	for (int i = 0; i < n; i++) {
		if (literal(p, names[i])) {
			*idx = i;
			return true;
		}
	}
	return false;
}

/* "HH:MM:SS" */
static bool
clock_time(const char **p, struct tm *tm)
{
	return digits(p, 2, &tm->tm_hour) && literal(p, ":") &&
	    digits(p, 2, &tm->tm_min) && literal(p, ":") &&
	    digits(p, 2, &tm->tm_sec) && tm->tm_hour < 24 && tm->tm_min < 60 &&
	    tm->tm_sec < 61;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A real calendar date, then seconds since the epoch. */
static int
tm_to_time(struct tm *tm, time_t *t)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	int y = tm->tm_year + 1900;
	int max = mdays[tm->tm_mon] + (tm->tm_mon == 1 && leap(y));

	if (tm->tm_mday < 1 || tm->tm_mday > max || y < 1970 || y > 9999)
		return -1;
	if (tm->tm_sec == 60)
		tm->tm_sec = 59;	/* a leap second: near enough */
	tm->tm_isdst = 0;
	*t = timegm(tm);
	return *t == (time_t)-1 ? -1 : 0;
}

int
http_date_parse(const char *s, time_t *t)
{
	const char *p = s;
	struct tm tm;
	int day, year;

	memset(&tm, 0, sizeof tm);
	if (s == NULL)
		return -1;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (name_of(&p, day_names, 7, &day) && literal(&p, ", ")) {
		if (digits(&p, 2, &tm.tm_mday) && literal(&p, " ") &&
		    name_of(&p, month_names, 12, &tm.tm_mon) && literal(&p, " ") &&
		    digits(&p, 4, &year) && literal(&p, " ") && clock_time(&p, &tm) &&
		    literal(&p, " GMT") && *p == '\0') {
			tm.tm_year = year - 1900;
			return tm_to_time(&tm, t);
		}
		return -1;
	}
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	p = s;
	if (name_of(&p, long_day_names, 7, &day) && literal(&p, ", ")) {
		if (digits(&p, 2, &tm.tm_mday) && literal(&p, "-") &&
		    name_of(&p, month_names, 12, &tm.tm_mon) && literal(&p, "-") &&
		    digits(&p, 2, &year) && literal(&p, " ") && clock_time(&p, &tm) &&
		    literal(&p, " GMT") && *p == '\0') {
			tm.tm_year = year < 70 ? year + 100 : year;
			return tm_to_time(&tm, t);
		}
		return -1;
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	p = s;
	if (name_of(&p, day_names, 7, &day) && literal(&p, " ") &&
	    name_of(&p, month_names, 12, &tm.tm_mon) && literal(&p, " ")) {
		if (*p == ' ') {
			p++;
			if (!digits(&p, 1, &tm.tm_mday))
				return -1;
		} else if (!digits(&p, 2, &tm.tm_mday)) {
			return -1;
		}
		if (literal(&p, " ") && clock_time(&p, &tm) && literal(&p, " ") &&
		    digits(&p, 4, &year) && *p == '\0') {
			tm.tm_year = year - 1900;
			return tm_to_time(&tm, t);
		}
	}
	return -1;
}

int
retry_after_parse(const char *value, time_t now, long long *secs)
{
	const char *p = value;
	long long n = 0;
	time_t when;

	if (value == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		for (; isdigit((unsigned char)*p); p++) {
			if (n < 1000000000LL)	/* far past any clamp: stop growing */
				n = n * 10 + (*p - '0');
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return -1;
		*secs = n;
		return 0;
	}
	if (http_date_parse(p, &when) < 0)
		return -1;
	*secs = (long long)when - (long long)now;
	return 0;
}

void
retry_record(struct retry_state *rs, enum attempt_outcome outcome,
    time_t now, long long retry_after)
{
	rs->has_attempt = true;
	rs->last_attempt = now;
	switch (outcome) {
	case ATTEMPT_SENT:
		rs->failures = 0;
		rs->since = rs->until = 0;
		rs->last_exit_code = 0;
		break;
	case ATTEMPT_REJECTED:
		rs->last_exit_code = 6;	/* EXIT_REJECTED; the back-off stays */
		break;
	case ATTEMPT_UNREACHED:
		if (rs->failures == 0)
			rs->since = now;
		if (rs->failures < 1000000)
			rs->failures++;
		rs->until = now + (retry_after >= 0 ? retry_clamp(retry_after) :
		    retry_backoff(rs->failures));
		rs->last_exit_code = 5;	/* EXIT_UNREACHED */
		break;
	}
}

static void
retry_clean(struct retry_state *rs)
{
	memset(rs, 0, sizeof *rs);
	rs->last_exit_code = -1;
}

static void
retry_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s.retry", name);
}

/* A time member of o, "" or absent: false. */
static bool
get_time(json_t *o, const char *key, time_t *t)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && time_parse_utc(s, t) == 0;
}

int
retry_parse(const char *text, struct retry_state *rs)
{
	json_error_t err;
	json_t *o, *v;

	retry_clean(rs);
	o = text != NULL ? json_loads(text, 0, &err) : NULL;
	v = json_object_get(o, "failures");
	if (!json_is_object(o) || !json_is_integer(v) ||
	    json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
		json_decref(o);
		return -1;
	}
	rs->failures = (unsigned)json_integer_value(v);
	if (rs->failures > 0 && (!get_time(o, "since", &rs->since) ||
	    !get_time(o, "until", &rs->until))) {
		retry_clean(rs);
		json_decref(o);
		return -1;
	}
	rs->has_attempt = get_time(o, "last_attempt", &rs->last_attempt);
	v = json_object_get(o, "last_exit_code");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 256)
		rs->last_exit_code = (int)json_integer_value(v);
	json_decref(o);
	return 0;
}

int
retry_read(int dirfd, const char *name, struct retry_state *rs)
{
	char file[160], *text;
	int rc;

	retry_clean(rs);
	retry_name(name, file, sizeof file);
	rc = file_read(dirfd, file, "retry state", RETRY_FILE_MAX, &text, NULL);
	if (rc <= 0)
		return rc;
	if (retry_parse(text, rs) < 0)
		log_warn("retry state %s: not readable; ignored", file);
	free(text);
	return 0;
}

static json_t *
time_or_null(bool have, time_t t)
{
	char buf[RFC3339_LEN + 1];

	if (!have)
		return json_null();
	time_format_utc(t, buf);
	return json_string(buf);
}

int
retry_write(int dirfd, const char *name, const struct retry_state *rs)
{
	char file[160], *text;
	json_t *o;
	int rc;

	retry_name(name, file, sizeof file);
	o = json_pack("{s:I, s:o, s:o, s:o, s:o}",
	    "failures", (json_int_t)rs->failures,
	    "since", time_or_null(rs->failures > 0, rs->since),
	    "until", time_or_null(rs->failures > 0, rs->until),
	    "last_attempt", time_or_null(rs->has_attempt, rs->last_attempt),
	    "last_exit_code", rs->last_exit_code >= 0 ?
	    json_integer(rs->last_exit_code) : json_null());
	text = o != NULL ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		log_error("retry state %s: out of memory", file);
		return -1;
	}
	rc = file_replace(dirfd, file, "retry state", text, strlen(text), 0600,
	    true);
	free(text);
	return rc;
}

int
retry_remove(int dirfd, const char *name)
{
	char file[160];

	retry_name(name, file, sizeof file);
	return file_remove(dirfd, file, "retry state");
}
