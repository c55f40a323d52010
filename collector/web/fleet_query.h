/*
 * The fleet view's query (COLLECTOR.md §6): the sort (?sort=col&order=
 * asc|desc) and the filters applied to the rows as read (?q=, ?version=,
 * ?machine=, ?kernel=).  Pure functions, tested in
 * tests/unit/test_collector_fleet.c.
 */
#ifndef COLLECTOR_FLEET_QUERY_H
#define COLLECTOR_FLEET_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../base/lifecycle.h"
#include "../store/store.h"

/* The columns a list sorts by; their names in ?sort= are fleet_col_name's. */
enum fleet_col {
	COL_LAST_SEEN,		/* the default, newest first */
	COL_NAME,
	COL_VERSION,
	COL_LIFECYCLE,
	COL_FIRST_SEEN,
	COL_MODULES,
	COL_UPTIME,
	COL_CALLS,
	COL_PROCESSED,
	COL_CPUS,
	COL_MEMORY,
	COL_SYSTEM,
	COL_KERNEL,
	COL_MACHINE,
	COL_REPORTS,
	COL_COUNT
};

const char *fleet_col_name(enum fleet_col c);

/* ?sort= and ?order= (either NULL or "": the default of each) into *col
 * and *desc.  A column's default order is descending for times and
 * numbers, ascending for text.  false for an unknown name or order. */
bool fleet_sort_parse(const char *sort, const char *order,
    enum fleet_col *col, bool *desc);

/* True when col's default order is descending. */
bool fleet_col_desc(enum fleet_col c);

/* "certified/18.9-cert5" and "Asterisk 22.1.0" without their prefixes:
 * a pointer into v. */
const char *fleet_version_core(const char *v);

/* ?version=: v (a row's version) is f exactly, or starts with f followed
 * by '.' or '-' ("22" matches "22.10.1", "18.9" matches "18.9-cert5"),
 * prefixes such as "certified/" ignored on both sides. */
bool fleet_version_match(const char *f, const char *v);

/* Versions in numeric order ("9.0" < "18.9-cert5" < "22.1" < "22.10"). */
int fleet_version_cmp(const char *a, const char *b);

/* Case-insensitive substring (ASCII letters). */
bool fleet_contains(const char *hay, const char *needle);

/* The filters applied after reading; NULL fields: no filter. */
struct fleet_match {
	const char *q;		/* private_name contains it (case-insensitive) */
	const char *version;	/* fleet_version_match */
	const char *machine;	/* operating_system.machine, exactly (any case) */
	const char *kernel;	/* operating_system.release contains it */
	bool lifecycle_set;	/* the status, today */
	enum lc_status lifecycle;
};

/* The uptime of s at its last report, seconds; -1 when unknown. */
long long fleet_uptime(const struct fleet_server *s);

bool fleet_matches(const struct fleet_match *m, const struct fleet_server *s,
    const struct lifecycle *lc, time_t now);

/* Sort v by col (ties: newest last_seen, then id). */
void fleet_sort(struct fleet_server *v, size_t n, enum fleet_col col,
    bool desc, const struct lifecycle *lc, time_t now);

#endif
