/*
 * The share of active servers per lifecycle status (COLLECTOR.md §6),
 * computed when a snapshot is read from the counts it already has: the
 * full versions for today, the major versions for each day of the
 * history.  A status depends on the day, so it is never stored per report.
 * Kept apart from stats.c so that the figures' k-anonymity stays in one
 * place: a status of fewer than min_group servers is merged into "other".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/lifecycle.h"
#include "stats.h"

/* The order every output shows: the figure that matters first. */
static const enum lc_status order[] = { LC_EOL, LC_SECURITY, LC_SUPPORTED,
    LC_UNKNOWN };
#define N_ORDER (sizeof order / sizeof order[0])

/* Noon UTC of "YYYY-MM-DD". */
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

static int
push(struct stat_list *l, const char *key, long n)
{
	struct stat_group *g = realloc(l->groups, (l->n + 1) * sizeof *g);

	if (g == NULL)
		return -1;
	l->groups = g;
	g[l->n].lifecycle = NULL;
	if ((g[l->n].key = strdup(key)) == NULL)
		return -1;
	g[l->n++].servers = n;
	return 0;
}

/* counts by status into out, k-anonymity applied. */
static int
make_list(const long counts[LC__MAX], long k, struct stat_list *out)
{
	long other = 0;

	for (size_t i = 0; i < N_ORDER; i++) {
		long n = counts[order[i]];

		if (n <= 0)
			continue;
		if (n < k)
			other += n;
		else if (push(out, lifecycle_status_name(order[i]), n) < 0)
			return -1;
	}
	if (other > 0 && push(out, "other", other) < 0)
		return -1;
	return 0;
}

/* Count rows of dimension dim (and day, when given) by the status of
 * their key on the day of t. */
static void
count(const struct stat_row *rows, size_t n, const char *dim, const char *day,
    const struct lifecycle *lc, time_t t, long counts[LC__MAX])
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].dim, dim) != 0 ||
		    (day != NULL && strcmp(rows[i].day, day) != 0) || rows[i].n <= 0)
			continue;
		counts[lifecycle_status(lc, rows[i].key, 0, t)] += (long)rows[i].n;
	}
}

/* Each version's or major's own status, for the charts that show them. */
static void
tag(struct stat_list *l, const struct lifecycle *lc, time_t t)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->groups[i].key, "other") != 0)
			l->groups[i].lifecycle = lifecycle_status_name(
			    lifecycle_status(lc, l->groups[i].key, 0, t));
}

int
stats_lifecycle_share(struct stats *s, const struct stat_rows *rows,
    const struct lifecycle *lc, long min_group)
{
	long k = min_group > 1 ? min_group : 1;
	long counts[LC__MAX];
	char today[11];

	stats_utc_day(s->generated, today);
	tag(&s->versions, lc, s->generated);
	tag(&s->major_versions, lc, s->generated);
	if (!s->suppressed) {
		memset(counts, 0, sizeof counts);
		count(rows->counts, rows->n_counts, "version", NULL, lc,
		    s->generated, counts);
		if (make_list(counts, k, &s->lifecycle) < 0)
			return -1;
	}
	for (size_t d = 0; d < s->n_history; d++) {
		struct stats_day *day = &s->history[d];

		if (day->active < k)
			continue;
		memset(counts, 0, sizeof counts);
		if (strcmp(day->date, today) != 0)
			count(rows->history, rows->n_history, "major", day->date,
			    lc, noon(day->date), counts);
		else	/* today is the figures as they stand (stats.c) */
			count(rows->counts, rows->n_counts, "major", NULL, lc,
			    s->generated, counts);
		if (make_list(counts, k, &day->lifecycle) < 0)
			return -1;
	}
	return 0;
}
