/*
 * The daily history's points (history.h): one pass over the stored rows,
 * day by day, with the k-anonymity of stats.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/lifecycle.h"
#include "history.h"
#include "stats.h"

static const char OTHER[] = "other";

static const char *const dims[] = { "servers", "major", "version", "module",
    "channel_driver", "sys_name", "machine", "release", "lifecycle" };
#define N_DIMS (sizeof dims / sizeof dims[0])

bool
history_dimension_known(const char *dim)
{
	for (size_t i = 0; dim != NULL && i < N_DIMS; i++)
		if (strcmp(dim, dims[i]) == 0)
			return true;
	return false;
}

const char *
history_stored_dimension(const char *dim)
{
	return strcmp(dim, "lifecycle") == 0 ? "major" : dim;
}

long
history_parse_days(const char *s, long max)
{
	long n = 0;

	if (s == NULL || s[0] == '\0' || strlen(s) > 6)
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n >= 1 && n <= max ? n : -1;
}

void
history_free(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->points[i].key);
	free(h->points);
	memset(h, 0, sizeof *h);
}

/* Noon UTC of "YYYY-MM-DD": the moment a past day's status is taken at. */
static time_t
noon(const char *day)
{
	struct tm tm = { 0 };

	tm.tm_year = atoi(day) - 1900;
	tm.tm_mon = atoi(day + 5) - 1;
	tm.tm_mday = atoi(day + 8);
	tm.tm_hour = 12;
	return timegm(&tm);
}

/* A count as a long, and a sum that saturates: a stored count is a number
 * of servers, but the rows are read back from a database. */
static long
count_of(long long n)
{
	return n < 0 ? 0 : n > LONG_MAX ? LONG_MAX : (long)n;
}

static long
sat_add(long a, long b)
{
	return a > LONG_MAX - b ? LONG_MAX : a + b;
}

static int
list_push(struct stat_list *l, const char *key, long n)
{
	struct stat_group *g = realloc(l->groups, (l->n + 1) * sizeof *g);

	if (g == NULL)
		return -1;
	l->groups = g;
	if ((g[l->n].key = strdup(key)) == NULL)
		return -1;
	g[l->n].lifecycle = NULL;
	g[l->n++].servers = n;
	return 0;
}

static void
list_clear(struct stat_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->groups[i].key);
	free(l->groups);
	memset(l, 0, sizeof *l);
}

static int
cmp_count(const void *pa, const void *pb)
{
	const struct stat_group *a = pa, *b = pb;
	bool ao = strcmp(a->key, OTHER) == 0, bo = strcmp(b->key, OTHER) == 0;

	if (ao != bo)
		return ao ? 1 : -1;
	if (a->servers != b->servers)
		return a->servers > b->servers ? -1 : 1;
	return strcmp(a->key, b->key);
}

static int
emit(struct history *h, const char *day, const char *dim,
    const struct stat_list *l)
{
	struct history_point *p;

	if (l->n == 0)
		return 0;
	p = realloc(h->points, (h->n + l->n) * sizeof *p);
	if (p == NULL)
		return -1;
	h->points = p;
	for (size_t i = 0; i < l->n; i++) {
		p = &h->points[h->n];
		memcpy(p->day, day, sizeof p->day);
		p->dimension = dim;
		if ((p->key = strdup(l->groups[i].key)) == NULL)
			return -1;
		p->servers = l->groups[i].servers;
		h->n++;
	}
	return 0;
}

/* The groups of one stored dimension of one day, rows [a, b). */
static int
day_groups(const struct stat_row *rows, size_t a, size_t b, const char *dim,
    long k, struct stat_list *out)
{
	bool modules = strcmp(dim, "module") == 0;
	long other = 0;

	for (size_t i = a; i < b; i++) {
		const struct stat_row *r = &rows[i];

		if (strcmp(r->dim, dim) != 0 || r->n <= 0)
			continue;
		if (r->n < k || strcmp(r->key, OTHER) == 0 ||
		    strcmp(r->key, STATS_KEY_OVERFLOW) == 0) {
			other = sat_add(other, count_of(r->n));
			continue;
		}
		if (list_push(out, r->key, count_of(r->n)) < 0)
			return -1;
	}
	/* A server loads many modules: a sum of the others names nothing. */
	if (!modules && other > 0 && list_push(out, OTHER, other) < 0)
		return -1;
	if (out->n > 1)
		qsort(out->groups, out->n, sizeof *out->groups, cmp_count);
	if (strcmp(dim, "major") == 0)
		stats_sort_majors(out);
	return 0;
}

/* The day's lifecycle statuses from its major versions. */
static int
day_lifecycle(const struct stat_row *rows, size_t a, size_t b,
    const char *day, long k, const struct lifecycle *lc,
    struct stat_list *out)
{
	static const enum lc_status order[] = { LC_EOL, LC_SECURITY,
	    LC_SUPPORTED, LC_UNKNOWN };
	long counts[LC__MAX] = { 0 }, other = 0;
	time_t t = noon(day);

	for (size_t i = a; i < b; i++) {
		long *c;

		if (strcmp(rows[i].dim, "major") != 0 || rows[i].n <= 0)
			continue;
		c = &counts[lifecycle_status(lc, rows[i].key, 0, t)];
		*c = sat_add(*c, count_of(rows[i].n));
	}
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		long n = counts[order[i]];

		if (n <= 0)
			continue;
		if (n < k)
			other = sat_add(other, n);
		else if (list_push(out, lifecycle_status_name(order[i]), n) < 0)
			return -1;
	}
	return other > 0 ? list_push(out, OTHER, other) : 0;
}

static int
one_day(struct history *h, const struct stat_row *rows, size_t a, size_t b,
    const char *dimension, long k, const struct lifecycle *lc)
{
	static const char *const server_keys[] = { "active", "new", "gone" };
	const char *day = rows[a].day;
	long active = 0;
	int rc = 0;

	for (size_t i = a; i < b; i++)
		if (strcmp(rows[i].dim, "servers") == 0 &&
		    strcmp(rows[i].key, "active") == 0)
			active = count_of(rows[i].n);
	for (size_t d = 0; rc == 0 && d < N_DIMS; d++) {
		struct stat_list l = { 0 };

		if (dimension != NULL && strcmp(dimension, dims[d]) != 0)
			continue;
		if (d == 0) {
			/* The counts of servers: shown on every day. */
			for (size_t j = 0; rc == 0 && j < 3; j++)
				for (size_t i = a; rc == 0 && i < b; i++)
					if (strcmp(rows[i].dim, "servers") == 0 &&
					    strcmp(rows[i].key, server_keys[j]) == 0)
						rc = list_push(&l, server_keys[j],
						    count_of(rows[i].n));
		} else if (active < k) {
			continue;
		} else if (strcmp(dims[d], "lifecycle") == 0) {
			rc = day_lifecycle(rows, a, b, day, k, lc, &l);
		} else {
			rc = day_groups(rows, a, b, dims[d], k, &l);
		}
		if (rc == 0)
			rc = emit(h, day, dims[d], &l);
		list_clear(&l);
	}
	return rc;
}

int
history_build(const struct stat_rows *rows, const char *dimension,
    long min_group, const struct lifecycle *lc, struct history *out)
{
	long k = min_group > 1 ? min_group : 1;
	size_t a = 0;

	memset(out, 0, sizeof *out);
	while (a < rows->n_history) {
		size_t b = a + 1;

		while (b < rows->n_history &&
		    strcmp(rows->history[b].day, rows->history[a].day) == 0)
			b++;
		if (one_day(out, rows->history, a, b, dimension, k, lc) < 0) {
			history_free(out);
			return -1;
		}
		a = b;
	}
	return 0;
}

json_t *
history_to_json(const struct history *h, const char *dimension, long days,
    long min_group)
{
	json_t *arr = json_array(), *day = NULL, *groups = NULL;

	for (size_t i = 0; arr != NULL && i < h->n; i++) {
		const struct history_point *p = &h->points[i];

		if (day == NULL || strcmp(p->day, json_string_value(
		    json_object_get(day, "date"))) != 0) {
			groups = json_array();
			day = json_pack("{s:s,s:o}", "date", p->day, "groups",
			    groups);
			if (day == NULL || json_array_append_new(arr, day) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
		if (json_array_append_new(groups, json_pack("{s:s,s:I}", "name",
		    p->key, "servers", (json_int_t)p->servers)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:s,s:I,s:I,s:o}", "dimension", dimension, "days",
	    (json_int_t)days, "min_group", (json_int_t)min_group, "history", arr);
}
