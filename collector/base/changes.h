/*
 * What changed in one PBX from one accepted report to the next
 * (COLLECTOR.md §5: the fleet view's history): its version, the modules
 * added and removed, its private_name.  Pure: the store writes the rows in
 * the report's own transaction, the fleet view reads them.
 */
#ifndef COLLECTOR_CHANGES_H
#define COLLECTOR_CHANGES_H

#include <stddef.h>

#include <jansson.h>

/* The kinds of a change row, and what its detail holds. */
#define CHANGE_FIRST "first_report"	/* the version first reported ("" none) */
#define CHANGE_VERSION "version"	/* "OLD -> NEW" */
#define CHANGE_ADDED "module_added"	/* the module's name */
#define CHANGE_REMOVED "module_removed"
#define CHANGE_NAME "private_name"	/* the new name, "" when it was removed */

/* At most this many rows for one report: a PBX that swaps every module of
 * 5,000 at once keeps the count and the first rows, not 10,000 rows. */
#define CHANGES_MAX 1000

struct change {
	const char *kind;		/* one of CHANGE_* (static) */
	char *detail;			/* malloc'd */
};

struct change_list {
	struct change *v;
	size_t n;
	size_t dropped;			/* past CHANGES_MAX, not listed */
};

/* The changes from the report previous (JSON text, NULL: none, the first
 * report) to latest, in a stable order: version, name, modules removed,
 * modules added (each sorted).  0, or -1 out of memory or when latest is
 * not JSON; free out with change_list_free either way. */
int changes_between(const char *previous, size_t previous_len,
    const char *latest, size_t latest_len, struct change_list *out);

/*
 * The same from what the store has at hand without parsing a report
 * (the writer's thread must stay cheap): the summaries (summary.h) of the
 * report before (NULL: none, the first report) and of this one, and the
 * private_name of each (NULL: none).  The version and module names are
 * the summaries' keys (cut and cleaned as summary.h says).  1 when a
 * summary cannot tell (the one before kept a module as "other", bounded
 * keys): then use changes_between; 0 done; -1 out of memory.  Free out
 * with change_list_free either way.
 */
int changes_from_summaries(const char *previous, const char *latest,
    const char *previous_name, const char *latest_name,
    struct change_list *out);

void change_list_free(struct change_list *l);

/* The sorted, distinct module names of report r (not copies: they live in
 * r; a name listed twice counts once), *n of them; NULL when out of
 * memory, free the array alone. */
const char **changes_module_names(json_t *r, size_t *n);

#endif
