/*
 * The daily history of every public figure (COLLECTOR.md §6, issue 22):
 * GET /api/v1/history, /api/v1/history.csv and a module's page read the
 * rows of stats_daily and turn them into points here, k-anonymity applied
 * as for today's figures (stats.c): on a day with fewer than min_group
 * active servers only the counts of servers are shown; a group of fewer
 * than min_group is merged into "other" (a module used by fewer is not
 * listed: modules do not partition the servers).
 */
#ifndef COLLECTOR_HISTORY_H
#define COLLECTOR_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "../base/summary.h"

struct lifecycle;

/* The dimensions, in the order the CSV lists them within a day.
 * "servers" has the keys "active", "new" and "gone"; "lifecycle" is
 * computed from each day's major versions. */
#define HISTORY_DIMENSION_LIST "servers, major, version, module, " \
	"channel_driver, sys_name, machine, release, lifecycle"

/* True when dim is one of HISTORY_DIMENSION_LIST (exactly). */
bool history_dimension_known(const char *dim);

/* The stored dimension a dimension's points come from ("lifecycle":
 * "major"). */
const char *history_stored_dimension(const char *dim);

struct history_point {
	char day[11];
	const char *dimension;	/* static */
	char *key;
	long servers;
};

struct history {
	struct history_point *points;	/* by day, dimension, then as stats.c
					 * orders groups (majors by version) */
	size_t n;
};

/* The points of dimension (NULL: every one) from rows->history (by day,
 * as store_stats_history reads them); lc gives each day's lifecycle status
 * (NULL: all unknown).  0, or -1 out of memory (out freed). */
int history_build(const struct stat_rows *rows, const char *dimension,
    long min_group, const struct lifecycle *lc, struct history *out);
void history_free(struct history *h);

/* {"dimension","days","min_group","history":[{"date","active",
 * "groups":[{"name","servers"}]}]} for one dimension (new reference). */
json_t *history_to_json(const struct history *h, const char *dimension,
    long days, long min_group);

/* days=N of a query: 1 ..  max, digits only; -1 when not. */
long history_parse_days(const char *s, long max);

#endif
