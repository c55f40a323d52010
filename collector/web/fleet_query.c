/* The fleet view's sort and filters, on rows as read from the store. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/clock.h"
#include "fleet_query.h"

static const char *const names[COL_COUNT] = {
	[COL_LAST_SEEN] = "last_seen", [COL_NAME] = "name",
	[COL_VERSION] = "version", [COL_LIFECYCLE] = "lifecycle",
	[COL_FIRST_SEEN] = "first_seen", [COL_MODULES] = "modules",
	[COL_UPTIME] = "uptime", [COL_CALLS] = "calls",
	[COL_PROCESSED] = "processed", [COL_CPUS] = "cpus",
	[COL_MEMORY] = "memory", [COL_SYSTEM] = "system",
	[COL_KERNEL] = "kernel", [COL_MACHINE] = "machine",
	[COL_REPORTS] = "reports",
};

const char *
fleet_col_name(enum fleet_col c)
{
	return c < COL_COUNT ? names[c] : "last_seen";
}

bool
fleet_col_desc(enum fleet_col c)
{
	switch (c) {
	case COL_NAME: case COL_VERSION: case COL_LIFECYCLE: case COL_SYSTEM:
	case COL_KERNEL: case COL_MACHINE:
		return false;
	default:
		return true;
	}
}

bool
fleet_sort_parse(const char *sort, const char *order, enum fleet_col *col,
    bool *desc)
{
	*col = COL_LAST_SEEN;
	if (sort != NULL && sort[0] != '\0') {
		int i;

		for (i = 0; i < COL_COUNT; i++)
			if (strcmp(sort, names[i]) == 0)
				break;
		if (i == COL_COUNT)
			return false;
		*col = (enum fleet_col)i;
	}
	*desc = fleet_col_desc(*col);
	if (order == NULL || order[0] == '\0')
		return true;
	if (strcmp(order, "asc") == 0)
		*desc = false;
	else if (strcmp(order, "desc") == 0)
		*desc = true;
	else
		return false;
	return true;
}

const char *
fleet_version_core(const char *v)
{
	if (v == NULL)
		return NULL;
	if (strncmp(v, "Asterisk ", 9) == 0)
		v += 9;
	if (strncmp(v, "certified/", 10) == 0)
		v += 10;
	else if (strncmp(v, "certified-", 10) == 0)
		v += 10;
	return v;
}

bool
fleet_version_match(const char *f, const char *v)
{
	size_t n;

	if (f == NULL)
		return true;
	if (v == NULL)
		return false;
	if (strcmp(f, v) == 0)
		return true;
	f = fleet_version_core(f);
	v = fleet_version_core(v);
	n = strlen(f);
	return n > 0 && strncmp(v, f, n) == 0 &&
	    (v[n] == '\0' || v[n] == '.' || v[n] == '-');
}

int
fleet_version_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	a = fleet_version_core(a);
	b = fleet_version_core(b);
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (la = 0; isdigit((unsigned char)a[la]); la++)
				;
			for (lb = 0; isdigit((unsigned char)b[lb]); lb++)
				;
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((c = strncmp(a, b, la)) != 0)
				return c < 0 ? -1 : 1;
			a += la;
			b += lb;
		} else {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
		}
	}
	return (*a != '\0') - (*b != '\0');
}

bool
fleet_contains(const char *hay, const char *needle)
{
	size_t n;

	if (needle == NULL || needle[0] == '\0')
		return true;
	if (hay == NULL)
		return false;
	n = strlen(needle);
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

long long
fleet_uptime(const struct fleet_server *s)
{
	time_t start;

	if (s->startup_time == NULL || time_parse_utc(s->startup_time, &start) < 0 ||
	    start > s->last_seen)
		return -1;
	return (long long)(s->last_seen - start);
}

bool
fleet_matches(const struct fleet_match *m, const struct fleet_server *s,
    const struct lifecycle *lc, time_t now)
{
	if (m->q != NULL && !fleet_contains(s->private_name, m->q))
		return false;
	if (m->version != NULL && !fleet_version_match(m->version, s->version))
		return false;
	if (m->machine != NULL && (s->machine == NULL ||
	    strcasecmp(s->machine, m->machine) != 0))
		return false;
	if (m->kernel != NULL && !fleet_contains(s->kernel, m->kernel))
		return false;
	if (m->lifecycle_set &&
	    lifecycle_status(lc, s->version, 0, now) != m->lifecycle)
		return false;
	return true;
}

/* ---- sorting ----------------------------------------------------------- */

struct sort_ctx {
	enum fleet_col col;
	bool desc;
	const struct lifecycle *lc;
	time_t now;
};

static int
cmp_ll(long long a, long long b)
{
	return a < b ? -1 : a > b;
}

/* Text in byte order, an absent value before any. */
static int
cmp_text(const char *a, const char *b)
{
	int c;

	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	c = strcasecmp(a, b);
	return c != 0 ? c : strcmp(a, b);
}

static int
by_col(const struct fleet_server *a, const struct fleet_server *b,
    const struct sort_ctx *c)
{
	switch (c->col) {
	case COL_NAME: return cmp_text(a->private_name, b->private_name);
	case COL_VERSION: return fleet_version_cmp(a->version, b->version);
	case COL_LIFECYCLE:
		return cmp_ll(lifecycle_status(c->lc, a->version, 0, c->now),
		    lifecycle_status(c->lc, b->version, 0, c->now));
	case COL_FIRST_SEEN: return cmp_ll(a->first_seen, b->first_seen);
	case COL_MODULES: return cmp_ll(a->modules, b->modules);
	case COL_UPTIME: return cmp_ll(fleet_uptime(a), fleet_uptime(b));
	case COL_CALLS: return cmp_ll(a->calls_active, b->calls_active);
	case COL_PROCESSED: return cmp_ll(a->calls_processed, b->calls_processed);
	case COL_CPUS: return cmp_ll(a->cpus, b->cpus);
	case COL_MEMORY: return cmp_ll(a->memory_kb, b->memory_kb);
	case COL_SYSTEM: return cmp_text(a->sys_name, b->sys_name);
	case COL_KERNEL: return fleet_version_cmp(a->kernel, b->kernel);
	case COL_MACHINE: return cmp_text(a->machine, b->machine);
	case COL_REPORTS: return cmp_ll(a->reports, b->reports);
	default: return cmp_ll(a->last_seen, b->last_seen);
	}
}

static int
cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct fleet_server *a = pa, *b = pb;
	const struct sort_ctx *c = arg;
	int r = by_col(a, b, c);

	if (r != 0)
		return c->desc ? -r : r;
	/* Ties: the order of the default list, so that pages are stable. */
	if ((r = cmp_ll(b->last_seen, a->last_seen)) != 0)
		return r;
	return strcmp(a->id, b->id);
}

void
fleet_sort(struct fleet_server *v, size_t n, enum fleet_col col, bool desc,
    const struct lifecycle *lc, time_t now)
{
	struct sort_ctx c = { col, desc, lc, now };

	if (n > 1)		/* v may be NULL when there is nothing */
		qsort_r(v, n, sizeof *v, cmp_rows, &c);
}
