/*
 * The statistics of COLLECTOR.md §6.
 *
 * Counting.  Every accepted report carries a summary (stats_summary, made
 * on the MHD thread from the parsed report): the groups the server belongs
 * to, one sorted line each.  The store keeps one counter per group
 * (stat_counts; on PostgreSQL plus the changes not folded yet, see
 * store_pg.c: readers read the view stat_current) and, per server, the
 * summary it last contributed and whether it is counted.  An update applies stats_diff(old, new) inside the
 * report's own transaction: between two reports of one server usually
 * nothing changes, so usually no counter is written at all.  The periodic
 * stats_maintain subtracts the servers that fell out of active_days.  So
 * the counters are always the figures over the active servers' latest
 * reports, and reading them never touches a report; and since every change
 * is a delta applied in the writing transaction, several collectors on one
 * PostgreSQL count correctly.
 *
 * Only established servers are counted at all (established_days distinct
 * report days: the store decides it in the report's transaction), and the
 * keys a report brings are bounded per dimension (stats_bound).
 *
 * Reading.  stats_build turns the counter rows into struct stats and
 * applies k-anonymity there, so that no output can forget it: a sum one
 * server makes up more than half of is hidden (STATS_HIDDEN), a group of
 * fewer than min_group servers is merged into "other", a module used by
 * fewer is not listed, and when fewer than min_group servers are active at
 * all every breakdown is left out (suppressed).  "other" itself may hold
 * fewer than min_group servers: it is the difference between the total
 * and the groups shown, which anyone can compute anyway, and it names
 * nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/text.h"
#include "../base/clock.h"
#include "../base/config.h"
#include "stats.h"
#include "../store/store.h"

static const char OTHER[] = "other";

/* ---- building a snapshot ----------------------------------------------- */

/* A snapshot and its readers' count (stats_current). */
struct stats_box {
	struct stats s;		/* first: a struct stats * is the box */
	int refs;
};

static void
list_free(struct stat_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->groups[i].key);
	free(l->groups);
	memset(l, 0, sizeof *l);
}

void
stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	list_free(&s->versions);
	list_free(&s->major_versions);
	for (size_t i = 0; i < s->n_modules; i++) {
		free(s->modules[i].name);
		list_free(&s->modules[i].status);
		list_free(&s->modules[i].support);
	}
	free(s->modules);
	list_free(&s->deprecated);
	list_free(&s->channel_drivers);
	list_free(&s->sys_names);
	list_free(&s->machines);
	list_free(&s->kernel_releases);
	list_free(&s->uptime_buckets);
	list_free(&s->countries);
	list_free(&s->lifecycle);
	for (size_t i = 0; i < s->n_history; i++) {
		list_free(&s->history[i].major_versions);
		list_free(&s->history[i].lifecycle);
	}
	free(s->history);
	free(s);
}

static int
group_push(struct stat_list *l, const char *key, size_t keylen, long n)
{
	struct stat_group *g;

	if ((l->n & (l->n - 1)) == 0) {
		g = realloc(l->groups, (l->n ? l->n * 2 : 8) * sizeof *g);
		if (g == NULL)
			return -1;
		l->groups = g;
	}
	l->groups[l->n].lifecycle = NULL;	/* "other" is never tagged */
	l->groups[l->n].key = strndup(key, keylen);
	if (l->groups[l->n].key == NULL)
		return -1;
	/* "other" is never tagged (lifecycle_share.c tag): never garbage */
	l->groups[l->n].lifecycle = NULL;
	l->groups[l->n++].servers = n;
	return 0;
}

static int
cmp_groups(const void *pa, const void *pb)
{
	const struct stat_group *a = pa, *b = pb;
	bool ao = strcmp(a->key, OTHER) == 0, bo = strcmp(b->key, OTHER) == 0;

	if (ao != bo)
		return ao ? 1 : -1;
	if (a->servers != b->servers)
		return a->servers > b->servers ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* A list being built: the groups of at least k, and the sum of the rest. */
struct gather {
	struct stat_list list;
	long other;
	long k;
};

static int
gather_add(struct gather *g, const char *key, size_t keylen, long long n)
{
	if (n <= 0)
		return 0;
	/* The keys past the bound (STATS_KEY_OVERFLOW) are "other" too. */
	if (n < g->k || (keylen == sizeof OTHER - 1 &&
	    memcmp(key, OTHER, keylen) == 0) ||
	    (keylen == 1 && key[0] == STATS_KEY_OVERFLOW[0])) {
		g->other += (long)n;
		return 0;
	}
	return group_push(&g->list, key, keylen, (long)n);
}

static int
gather_end(struct gather *g, struct stat_list *out)
{
	if (g->other > 0 && group_push(&g->list, OTHER, sizeof OTHER - 1,
	    g->other) < 0)
		return -1;
	if (g->list.n > 1)
		qsort(g->list.groups, g->list.n, sizeof *g->list.groups,
		    cmp_groups);
	*out = g->list;
	memset(g, 0, sizeof *g);
	return 0;
}

static int
cmp_module_name(const void *pa, const void *pb)
{
	return strcmp(((const struct module_stat *)pa)->name,
	    ((const struct module_stat *)pb)->name);
}

static int
cmp_module_servers(const void *pa, const void *pb)
{
	const struct module_stat *a = pa, *b = pb;

	if (a->servers != b->servers)
		return a->servers > b->servers ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The simple dimensions and where they go. */
static struct stat_list *
list_of(struct stats *s, const char *dim)
{
	static const struct { const char *dim; size_t off; } map[] = {
		{ "version", offsetof(struct stats, versions) },
		{ "major", offsetof(struct stats, major_versions) },
		{ "deprecated", offsetof(struct stats, deprecated) },
		{ "channel_driver", offsetof(struct stats, channel_drivers) },
		{ "sys_name", offsetof(struct stats, sys_names) },
		{ "machine", offsetof(struct stats, machines) },
		{ "release", offsetof(struct stats, kernel_releases) },
		{ "uptime", offsetof(struct stats, uptime_buckets) },
		{ "country", offsetof(struct stats, countries) },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].dim, dim) == 0)
			return (struct stat_list *)(void *)((char *)s + map[i].off);
	return NULL;
}

#define N_LISTS 9

static int
build_modules(struct stats *s, const struct stat_rows *rows, long k)
{
	struct gather *st = NULL, *su = NULL;
	size_t n = 0;
	int rc = -1;

	for (size_t i = 0; i < rows->n_counts; i++)
		if (strcmp(rows->counts[i].dim, "module") == 0 &&
		    rows->counts[i].n >= k && rows->counts[i].n > 0 &&
		    strcmp(rows->counts[i].key, STATS_KEY_OVERFLOW) != 0)
			n++;
	s->modules = calloc(n ? n : 1, sizeof *s->modules);
	st = calloc(n ? n : 1, sizeof *st);
	su = calloc(n ? n : 1, sizeof *su);
	if (s->modules == NULL || st == NULL || su == NULL)
		goto out;
	for (size_t i = 0; i < rows->n_counts; i++) {
		const struct stat_row *r = &rows->counts[i];
		if (strcmp(r->dim, "module") != 0 || r->n < k || r->n <= 0 ||
		    strcmp(r->key, STATS_KEY_OVERFLOW) == 0)
			continue;
		s->modules[s->n_modules].name = strdup(r->key);
		if (s->modules[s->n_modules].name == NULL)
			goto out;
		s->modules[s->n_modules++].servers = (long)r->n;
	}
	qsort(s->modules, s->n_modules, sizeof *s->modules, cmp_module_name);
	for (size_t i = 0; i < s->n_modules; i++)
		st[i].k = su[i].k = k;
	for (size_t i = 0; i < rows->n_counts; i++) {
		const struct stat_row *r = &rows->counts[i];
		bool status = strcmp(r->dim, "module_status") == 0;
		const char *slash;
		struct module_stat key, *m;
		char name[STATS_KEY_MAX + 1];

		if (!status && strcmp(r->dim, "module_support") != 0)
			continue;
		slash = strchr(r->key, '/');
		if (slash == NULL || (size_t)(slash - r->key) > STATS_KEY_MAX)
			continue;
		memcpy(name, r->key, (size_t)(slash - r->key));
		name[slash - r->key] = '\0';
		key.name = name;
		m = bsearch(&key, s->modules, s->n_modules, sizeof *m,
		    cmp_module_name);
		if (m == NULL)
			continue;
		if (gather_add(status ? &st[m - s->modules] :
		    &su[m - s->modules], slash + 1, strlen(slash + 1), r->n) < 0)
			goto out;
	}
	for (size_t i = 0; i < s->n_modules; i++)
		if (gather_end(&st[i], &s->modules[i].status) < 0 ||
		    gather_end(&su[i], &s->modules[i].support) < 0)
			goto out;
	qsort(s->modules, s->n_modules, sizeof *s->modules, cmp_module_servers);
	rc = 0;
out:
	for (size_t i = 0; st != NULL && i < n; i++) {
		list_free(&st[i].list);
		list_free(&su[i].list);
	}
	free(st);
	free(su);
	return rc;
}

/*
 * Today's point is the figures as they stand, not as the last periodic
 * job wrote them (a minute ago, or before any report on a collector's
 * first day): the stored row of today is replaced, or the point added.
 * s->history has room for one more day than it holds (build_history).
 */
static int
history_today(struct stats *s, const struct stat_rows *rows, long k)
{
	struct gather g = { .k = k };
	struct stats_day *d;
	char today[11];

	stats_utc_day(s->generated, today);
	d = s->n_history > 0 ? &s->history[s->n_history - 1] : NULL;
	if (d != NULL && strcmp(d->date, today) > 0)
		return 0;	/* a clock gone back: leave the stored days */
	if (d == NULL || strcmp(d->date, today) != 0) {
		d = &s->history[s->n_history++];
		snprintf(d->date, sizeof d->date, "%s", today);
	}
	list_free(&d->major_versions);
	d->active = s->servers_active;
	d->new_servers = 0;
	for (size_t i = 0; i < rows->n_counts; i++) {
		const struct stat_row *r = &rows->counts[i];

		if (strcmp(r->dim, "first_seen") == 0 && strcmp(r->key, today) == 0)
			d->new_servers = (long)r->n;

		if (strcmp(r->dim, "major") == 0 &&
		    gather_add(&g, r->key, strlen(r->key), r->n) < 0) {
			list_free(&g.list);
			return -1;
		}
	}
	if (gather_end(&g, &d->major_versions) < 0) {
		list_free(&g.list);
		return -1;
	}
	return 0;
}

static int
build_history(struct stats *s, const struct stat_rows *rows, long k)
{
	struct gather g = { .k = k };
	struct stats_day *d = NULL;

	/* One day more than the rows name: today's, if they do not. */
	s->history = calloc(rows->n_history + 1, sizeof *s->history);
	if (s->history == NULL)
		return -1;
	for (size_t i = 0; i < rows->n_history; i++) {
		const struct stat_row *r = &rows->history[i];
		if (d == NULL || strcmp(d->date, r->day) != 0) {
			if (d != NULL && gather_end(&g, &d->major_versions) < 0)
				goto oom;
			g.k = k;
			d = &s->history[s->n_history++];
			snprintf(d->date, sizeof d->date, "%s", r->day);
		}
		if (strcmp(r->dim, "servers") == 0 && strcmp(r->key, "active") == 0)
			d->active = (long)r->n;
		else if (strcmp(r->dim, "servers") == 0 && strcmp(r->key, "new") == 0)
			d->new_servers = (long)r->n;
		else if (strcmp(r->dim, "servers") == 0 && strcmp(r->key, "gone") == 0)
			d->gone_servers = (long)r->n;
		else if (strcmp(r->dim, "major") == 0 &&
		    gather_add(&g, r->key, strlen(r->key), r->n) < 0)
			goto oom;
	}
	if (d != NULL && gather_end(&g, &d->major_versions) < 0)
		goto oom;
	list_free(&g.list);
	if (history_today(s, rows, k) < 0)
		return -1;
	/* A day with fewer than k active shows its count only. */
	for (size_t i = 0; i < s->n_history; i++)
		if (s->history[i].active < k)
			list_free(&s->history[i].major_versions);
		else
			stats_sort_majors(&s->history[i].major_versions);
	return 0;
oom:
	/* gather_end keeps the list it could not finish: ours to free. */
	list_free(&g.list);
	return -1;
}

/* The version number a major's key starts with ("22", "18 (certified)",
 * "1.8": 1), -1 for none ("unknown", "other"). */
static long
major_number(const char *key)
{
	char *end;
	long n;

	if (key[0] < '0' || key[0] > '9')
		return -1;
	n = strtol(key, &end, 10);
	if (n == 1 && end[0] == '.')	/* 1.2 ... 1.8 sort below 10 */
		return 0;
	return n;
}

/* Newest major first; a certified series after its major; "unknown",
 * then "other" last. */
int
stats_cmp_major(const struct stat_group *a, const struct stat_group *b)
{
	long na = major_number(a->key), nb = major_number(b->key);
	bool ao = strcmp(a->key, OTHER) == 0, bo = strcmp(b->key, OTHER) == 0;

	if (ao != bo)
		return ao ? 1 : -1;
	if (na != nb)
		return na > nb ? -1 : 1;
	return strcmp(a->key, b->key);
}

static int
cmp_major_q(const void *a, const void *b)
{
	return stats_cmp_major(a, b);
}

/* The uptime buckets by age, youngest first, "unknown" and "other" last. */
static int
uptime_rank(const char *key)
{
	static const char *const order[] = { "< 1 day", "1-7 days",
	    "7-30 days", "30-365 days", "> 1 year", "unknown" };

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (strcmp(key, order[i]) == 0)
			return (int)i;
	return 99;
}

static int
cmp_uptime_q(const void *pa, const void *pb)
{
	const struct stat_group *a = pa, *b = pb;

	return uptime_rank(a->key) - uptime_rank(b->key);
}

/* ---- distributions (issue 22) ---------------------------------------------- */

const char *const stats_dist_names[STATS_DISTS] = { "uptime",
    "calls_processed", "cpus", "memory" };
static const char *const dist_dims[STATS_DISTS] = { "uptime",
    "calls_bucket", "cpus", "memory" };

/* A bucket's place in its distribution's order, -1 for a key outside it
 * ("unknown" uptime, the overflow key): those servers are not counted. */
static long long
dist_rank(int d, const char *key)
{
	char *end;
	long long v;

	if (d == STATS_DIST_UPTIME) {
		int r = uptime_rank(key);
		return r < 5 ? r : -1;	/* not "unknown", nor a stray key */
	}
	if (d == STATS_DIST_MEMORY && strcmp(key, "<1 GiB") == 0)
		return 0;
	if (key[0] < '0' || key[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(key, &end, 10);
	if (errno != 0)
		return -1;
	if (d == STATS_DIST_CPUS)
		return *end == '\0' ? v : -1;
	if (d == STATS_DIST_MEMORY)
		return strcmp(end, " GiB") == 0 ? v : -1;
	/* calls: "0", "10-99", "1000000+" by their lower bound */
	return *end == '\0' || *end == '-' || *end == '+' ? v : -1;
}

struct dist_bucket {
	long long rank;
	long long n;
	const char *key;
};

static int
cmp_bucket(const void *pa, const void *pb)
{
	const struct dist_bucket *a = pa, *b = pb;

	return (a->rank > b->rank) - (a->rank < b->rank);
}

int
stats_distribution(const struct stat_rows *rows, int d, long k,
    struct stat_dist *out)
{
	static const int pct[3] = { 5, 50, 95 };
	struct dist_bucket *b;
	size_t nb = 0;
	long long total = 0;

	memset(out, 0, sizeof *out);
	b = calloc(rows->n_counts ? rows->n_counts : 1, sizeof *b);
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < rows->n_counts; i++) {
		const struct stat_row *r = &rows->counts[i];
		long long rank;

		if (r->n <= 0 || strcmp(r->dim, dist_dims[d]) != 0 ||
		    (rank = dist_rank(d, r->key)) < 0)
			continue;
		b[nb++] = (struct dist_bucket){ rank, r->n, r->key };
		total += r->n;
	}
	qsort(b, nb, sizeof *b, cmp_bucket);
	out->servers = (long)total;
	for (int p = 0; p < 3 && total > 0; p++) {
		/* nearest rank: the smallest r with r >= p/100 * N */
		long long want = (pct[p] * total + 99) / 100, seen = 0;
		size_t i = 0;

		if (want < 1)
			want = 1;
		while (i < nb && seen + b[i].n < want)
			seen += b[i++].n;
		if (i < nb && b[i].n >= k)
			snprintf(out->p[p], sizeof out->p[p], "%s", b[i].key);
	}
	free(b);
	return 0;
}

void
stats_sort_majors(struct stat_list *l)
{
	if (l->n > 1)
		qsort(l->groups, l->n, sizeof *l->groups, cmp_major_q);
}

struct stats *
stats_build(const struct stat_rows *rows, long min_group, long active_days,
    time_t now)
{
	struct stats_box *box = calloc(1, sizeof *box);
	struct stats *s = &box->s;
	struct gather g[N_LISTS];
	const char *dims[N_LISTS] = { "version", "major", "deprecated",
	    "channel_driver", "sys_name", "machine", "release", "uptime",
	    "country" };
	long k = min_group > 1 ? min_group : 1;
	long long calls_active = 0, calls_processed = 0;
	char week[11];

	if (box == NULL)
		return NULL;
	stats_utc_day(now - 6 * 86400, week);
	box->refs = 1;
	memset(g, 0, sizeof g);
	s->generated = now;
	s->min_group = min_group;
	s->active_days = active_days;
	for (size_t i = 0; i < rows->n_counts; i++) {
		const struct stat_row *r = &rows->counts[i];
		if (strcmp(r->dim, "servers") == 0 && strcmp(r->key, "active") == 0)
			s->servers_active = (long)r->n;
		else if (strcmp(r->dim, "known") == 0)
			s->servers_known = (long)r->n;
		else if (strcmp(r->dim, "first_seen") == 0 &&
		    strcmp(r->key, week) >= 0)
			s->servers_new_7d += (long)r->n;
		else if (strcmp(r->dim, "calls") == 0 && strcmp(r->key, "active") == 0)
			calls_active = r->n;
		else if (strcmp(r->dim, "calls") == 0 &&
		    strcmp(r->key, "processed") == 0)
			calls_processed = r->n;
	}
	s->suppressed = s->servers_active < k;
	if (!s->suppressed) {
		/* A sum no single server makes up more than half of. */
		s->calls_active_total = rows->calls_unknown == 0 &&
		    rows->calls_max_active * 2 <= calls_active ?
		    (long)calls_active : STATS_HIDDEN;
		s->calls_processed_total = rows->calls_unknown == 0 &&
		    rows->calls_max_processed * 2 <= calls_processed ?
		    (long)calls_processed : STATS_HIDDEN;
		for (int j = 0; j < N_LISTS; j++)
			g[j].k = k;
		for (size_t i = 0; i < rows->n_counts; i++) {
			const struct stat_row *r = &rows->counts[i];
			for (int j = 0; j < N_LISTS; j++)
				if (strcmp(r->dim, dims[j]) == 0 &&
				    gather_add(&g[j], r->key, strlen(r->key),
				    r->n) < 0)
					goto fail;
		}
		for (int j = 0; j < N_LISTS; j++)
			if (gather_end(&g[j], list_of(s, dims[j])) < 0)
				goto fail;
		/* Issue 22: by version and by age, not by count. */
		stats_sort_majors(&s->major_versions);
		if (s->uptime_buckets.n > 1)
			qsort(s->uptime_buckets.groups, s->uptime_buckets.n,
			    sizeof *s->uptime_buckets.groups, cmp_uptime_q);
		if (build_modules(s, rows, k) < 0)
			goto fail;
	}
	for (int d = 0; d < STATS_DISTS; d++)
		if (stats_distribution(rows, d, k, &s->dists[d]) < 0)
			goto fail;
	if (build_history(s, rows, k) < 0)
		goto fail;
	return s;
fail:
	for (int j = 0; j < N_LISTS; j++)
		list_free(&g[j].list);
	stats_free(s);
	return NULL;
}

/* ---- reading through the store ------------------------------------------ */

struct stats *
stats_snapshot(struct store *st, const struct collector_config *cfg,
    time_t now, char *err, size_t errlen)
{
	struct stat_rows rows = { 0 };
	struct stats *s;
	char since[11];
	long expired = 0;

	/* Active as of now (COLLECTOR.md §6): the servers silent for longer
	 * than active_days stop counting before the figures are read, not
	 * only at the next periodic job. */
	if (store_stats_expire(st, now - (time_t)cfg->active_days * 86400,
	    cfg->established_days, &expired, err, errlen) < 0)
		return NULL;
	if (expired > 0)
		store_touch();
	stats_history_since(now, cfg->history_days, since);
	if (store_stats_read(st, since, &rows, err, errlen) < 0) {
		stat_rows_free(&rows);
		return NULL;
	}
	s = stats_build(&rows, cfg->min_group, cfg->active_days, now);
	if (s != NULL && stats_lifecycle_share(s, &rows, cfg->lifecycle_data,
	    cfg->min_group) < 0) {
		stats_free(s);
		s = NULL;
	}
	stat_rows_free(&rows);
	if (s == NULL)
		snprintf(err, errlen, "statistics: out of memory");
	return s;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_box *cache;
static long long cache_mono_ms;
static unsigned cache_gen;

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
box_release(struct stats_box *b)
{
	if (b != NULL && --b->refs == 0)
		stats_free(&b->s);
}

/* Build a snapshot and make it the cached one; the new box with one
 * reference for the caller (refs 2), or NULL with err. */
static struct stats_box *
refresh(struct store *st, const struct collector_config *cfg, time_t now,
    char *err, size_t errlen)
{
	long long ms = mono_ms();
	unsigned gen = store_generation();
	struct stats *fresh = stats_snapshot(st, cfg, now, err, errlen);
	struct stats_box *b;

	if (fresh == NULL)
		return NULL;
	b = (struct stats_box *)(void *)fresh;
	pthread_mutex_lock(&cache_lock);
	box_release(cache);
	cache = b;
	cache_mono_ms = ms;
	cache_gen = gen;
	b->refs = 2;		/* the cache's and the caller's */
	pthread_mutex_unlock(&cache_lock);
	return b;
}

/*
 * The refresher: the figures are computed here, away from the threads
 * that answer requests (COLLECTOR.md §4).  Every REFRESH_TICK_MS it looks
 * whether a commit moved store_generation (then it reads again, at most
 * every REFRESH_MIN_MS) or the snapshot is REFRESH_MAX_MS old (servers
 * falling out of active_days as time passes).
 */
#define REFRESH_TICK_MS 100
#define REFRESH_MIN_MS 500
#define REFRESH_MAX_MS 2000

struct refresher {
	struct store *st;
	const struct collector_config *cfg;
};

static struct refresher refresher;
static pthread_once_t refresher_once = PTHREAD_ONCE_INIT;
static pthread_t refresher_thread;
static bool refresher_started;		/* under cache_lock */
static atomic_bool refresher_stop;

static void *
refresher_main(void *arg)
{
	const struct timespec tick = { 0, REFRESH_TICK_MS * 1000000L };

	(void)arg;
	while (!atomic_load(&refresher_stop)) {
		long long age;
		bool moved;
		char err[256];

		nanosleep(&tick, NULL);
		if (atomic_load(&refresher_stop))
			break;
		pthread_mutex_lock(&cache_lock);
		age = mono_ms() - cache_mono_ms;
		moved = cache == NULL || store_generation() != cache_gen;
		pthread_mutex_unlock(&cache_lock);
		if ((moved && age >= REFRESH_MIN_MS) || age >= REFRESH_MAX_MS) {
			struct stats_box *b = refresh(refresher.st, refresher.cfg,
			    collector_now(), err, sizeof err);
			if (b != NULL)
				stats_release(&b->s);
		}
	}
	return NULL;
}

static void
refresher_start(void)
{
	bool ok = !atomic_load(&refresher_stop) &&
	    pthread_create(&refresher_thread, NULL, refresher_main, NULL) == 0;

	pthread_mutex_lock(&cache_lock);
	refresher_started = ok;
	pthread_mutex_unlock(&cache_lock);
}

void
stats_stop(void)
{
	bool started;

	atomic_store(&refresher_stop, true);
	pthread_mutex_lock(&cache_lock);
	started = refresher_started;
	refresher_started = false;
	box_release(cache);
	cache = NULL;
	pthread_mutex_unlock(&cache_lock);
	if (started)
		pthread_join(refresher_thread, NULL);
	pthread_mutex_lock(&cache_lock);
	box_release(cache);	/* one the refresher made meanwhile */
	cache = NULL;
	pthread_mutex_unlock(&cache_lock);
}

const struct stats *
stats_current(struct store *st, const struct collector_config *cfg,
    time_t now, char *err, size_t errlen)
{
	struct stats_box *b;

	/* One store and configuration per process: the first caller's. */
	pthread_mutex_lock(&cache_lock);
	if (refresher.st == NULL) {
		refresher.cfg = cfg;
		refresher.st = st;
	}
	pthread_mutex_unlock(&cache_lock);
	pthread_once(&refresher_once, refresher_start);
	pthread_mutex_lock(&cache_lock);
	/* The refresher's latest, unless the clock has moved past it (a
	 * test clock, a process stopped for a while): then read now. */
	if (cache != NULL && cache->s.generated <= now &&
	    now - cache->s.generated < STATS_CACHE_SECONDS) {
		cache->refs++;
		b = cache;
		pthread_mutex_unlock(&cache_lock);
		return &b->s;
	}
	pthread_mutex_unlock(&cache_lock);
	b = refresh(st, cfg, now, err, errlen);
	return b != NULL ? &b->s : NULL;
}

void
stats_release(const struct stats *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	box_release((struct stats_box *)(void *)(uintptr_t)s);
	pthread_mutex_unlock(&cache_lock);
}

/* Moves on with every day's rows written (stats_history_generation). */
static atomic_uint history_gen;

int
stats_maintain(struct store *st, const struct collector_config *cfg,
    time_t now, char *err, size_t errlen)
{
	long expired = 0;
	time_t window = (time_t)cfg->active_days * 86400;
	char day[11], keep[11];
	struct stats_daily_args a = { .day = day, .keep_since = keep,
	    .established_days = cfg->established_days };

	if (store_stats_expire(st, now - window, cfg->established_days,
	    &expired, err, errlen) < 0)
		return -1;
	if (expired > 0)
		store_touch();
	stats_utc_day(now, day);
	stats_history_since(now, cfg->history_days, keep);
	/* Gone today: fell out of the active window since midnight UTC. */
	a.gone_from = now - now % 86400 - window;
	a.gone_to = now - window;
	if (store_stats_daily(st, &a, err, errlen) < 0)
		return -1;
	atomic_fetch_add(&history_gen, 1);
	return 0;
}

unsigned
stats_history_generation(void)
{
	return atomic_load(&history_gen);
}

void
stats_history_since(time_t now, long days, char out[11])
{
	stats_utc_day(now - (time_t)(days > 1 ? days - 1 : 0) * 86400, out);
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *
pct_json(const char *key)
{
	return key[0] != '\0' ? json_string(key) : json_null();
}

/* Issue 22: {"uptime": {"servers": N, "p5": ..., "p50": ..., "p95": ...},
 * ...}, a percentile null when its bucket holds fewer than min_group. */
static json_t *
dists_json(const struct stats *s)
{
	json_t *o = json_object();

	for (int d = 0; o != NULL && d < STATS_DISTS; d++) {
		const struct stat_dist *x = &s->dists[d];
		json_t *v = json_pack("{s:I,s:o,s:o,s:o}",
		    "servers", (json_int_t)x->servers, "p5", pct_json(x->p[0]),
		    "p50", pct_json(x->p[1]), "p95", pct_json(x->p[2]));

		if (v == NULL || json_object_set_new(o, stats_dist_names[d], v) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static json_t *
list_json(const struct stat_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_pack("{s:s,s:I}", "name",
		    l->groups[i].key, "servers",
		    (json_int_t)l->groups[i].servers)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
list_object(const struct stat_list *l)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < l->n; i++)
		if (json_object_set_new(o, l->groups[i].key,
		    json_integer(l->groups[i].servers)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static double
share(long part, long whole)
{
	/* Four decimals, rounded (part and whole are not negative). */
	return whole > 0 ? (double)((part * 10000 + whole / 2) / whole) /
	    10000.0 : 0.0;
}

double
stats_share(long part, long whole)
{
	return share(part, whole);
}

/* [{"status","servers","share"}], in the order of s->lifecycle. */
static json_t *
lifecycle_json(const struct stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < s->lifecycle.n; i++) {
		const struct stat_group *g = &s->lifecycle.groups[i];
		if (json_array_append_new(a, json_pack("{s:s,s:I,s:f}", "status",
		    g->key, "servers", (json_int_t)g->servers, "share",
		    share(g->servers, s->servers_active))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A sum, or null when hidden (STATS_HIDDEN). */
static json_t *
sum_json(long v)
{
	return v == STATS_HIDDEN ? json_null() : json_integer(v);
}

json_t *
stats_to_json(const struct stats *s)
{
	char generated[RFC3339_LEN + 1];
	json_t *mods = json_array(), *hist = json_array(), *root;

	time_format_utc(s->generated, generated);
	for (size_t i = 0; mods != NULL && i < s->n_modules; i++) {
		const struct module_stat *m = &s->modules[i];
		if (json_array_append_new(mods, json_pack("{s:s,s:I,s:f,s:o*,s:o*}",
		    "name", m->name, "servers", (json_int_t)m->servers,
		    "share", share(m->servers, s->servers_active),
		    "status", list_object(&m->status),
		    "support_level", list_object(&m->support))) < 0) {
			json_decref(mods);
			mods = NULL;
		}
	}
	for (size_t i = 0; hist != NULL && i < s->n_history; i++) {
		const struct stats_day *d = &s->history[i];
		if (json_array_append_new(hist, json_pack("{s:s,s:I,s:I,s:I,s:o*,s:o*}",
		    "date", d->date, "active", (json_int_t)d->active,
		    "new", (json_int_t)d->new_servers,
		    "gone", (json_int_t)d->gone_servers,
		    "major_versions", list_object(&d->major_versions),
		    "lifecycle", list_object(&d->lifecycle))) < 0) {
			json_decref(hist);
			hist = NULL;
		}
	}
	root = json_pack("{s:s,s:I,s:I,s:b,"
	    "s:{s:I,s:I,s:I},"
	    "s:o*,s:o*,s:o*,s:o*,s:o*,"
	    "s:{s:o*,s:o*,s:o*},"
	    "s:o*,s:{s:o,s:o},s:o*}",
	    "generated", generated,
	    "min_group", (json_int_t)s->min_group,
	    "active_days", (json_int_t)s->active_days,
	    "suppressed", s->suppressed,
	    "totals",
	    "servers_known", (json_int_t)s->servers_known,
	    "servers_active", (json_int_t)s->servers_active,
	    "servers_new_7d", (json_int_t)s->servers_new_7d,
	    "versions", list_json(&s->versions),
	    "major_versions", list_json(&s->major_versions),
	    "modules", mods,
	    "deprecated", list_json(&s->deprecated),
	    "channel_drivers", list_json(&s->channel_drivers),
	    "operating_system",
	    "sys_name", list_json(&s->sys_names),
	    "machine", list_json(&s->machines),
	    "release", list_json(&s->kernel_releases),
	    "uptime", list_json(&s->uptime_buckets),
	    "calls",
	    "active", sum_json(s->calls_active_total),
	    "processed", sum_json(s->calls_processed_total),
	    "history", hist);
	/* Countries only when there are (geoip_database set). */
	if (root != NULL && s->countries.n > 0 && json_object_set_new(root,
	    "countries", list_json(&s->countries)) < 0) {
		json_decref(root);
		root = NULL;
	}
	if (root != NULL && json_object_set_new(root, "distributions",
	    dists_json(s)) < 0) {
		json_decref(root);
		root = NULL;
	}
	if (root != NULL && json_object_set_new(root, "lifecycle",
	    lifecycle_json(s)) < 0) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

/* ---- text ------------------------------------------------------------------- */

/* A key for a terminal: C0, DEL and C1 controls (U+0080..U+009F) become
 * '?', whatever an older database holds; the rest of UTF-8 stays. */
static void
text_key(const char *key, char *out, size_t outlen)
{
	size_t n = 0;

	for (const char *s = key; *s != '\0' && n + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 &&
		    (unsigned char)s[1] <= 0x9f) {
			out[n++] = '?';
			s++;
		} else {
			out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[n] = '\0';
}

static void
text_list(struct buf *b, const char *title, const struct stat_list *l,
    long whole)
{
	char line[512], key[STATS_KEY_MAX + 1];
	int n;

	n = snprintf(line, sizeof line, "\n%s:\n", title);
	buf_append(b, line, (size_t)n);
	if (l->n == 0)
		buf_append(b, "  (none)\n", 9);
	for (size_t i = 0; i < l->n; i++) {
		text_key(l->groups[i].key, key, sizeof key);
		n = snprintf(line, sizeof line, "  %-32s %8ld  %5.1f%%\n",
		    key, l->groups[i].servers,
		    100.0 * share(l->groups[i].servers, whole));
		buf_append(b, line, n > 0 && (size_t)n < sizeof line ?
		    (size_t)n : strlen(line));
	}
}

char *
stats_to_text(const struct stats *s)
{
	struct buf b = { 0 };
	char line[1024], gen[RFC3339_LEN + 1], groups[96];
	int n;

	time_format_utc(s->generated, gen);
	/* min_group = 1 hides nothing: say so, not "fewer than 1 servers" */
	if (s->min_group <= 1)
		snprintf(groups, sizeof groups, "min_group = 1: every group "
		    "shown, however small");
	else
		snprintf(groups, sizeof groups, "groups of fewer than %ld "
		    "servers shown as \"other\"", s->min_group);
	n = snprintf(line, sizeof line,
	    "Statistics at %s (active: reported within %ld days; %s)\n\n"
	    "Servers known:      %ld\n"
	    "Servers active:     %ld\n"
	    "New in last 7 days: %ld\n",
	    gen, s->active_days, groups, s->servers_known,
	    s->servers_active, s->servers_new_7d);
	buf_append(&b, line, (size_t)n);
	if (s->suppressed) {
		n = s->min_group <= 1 ? snprintf(line, sizeof line, "\nNo "
		    "active server: no breakdown is shown.\n") :
		    snprintf(line, sizeof line, "\nFewer than %ld active "
		    "servers: no breakdown is shown.\n", s->min_group);
		buf_append(&b, line, (size_t)n);
	} else {
		char ca[32] = "hidden", cp[32] = "hidden";
		if (s->calls_active_total != STATS_HIDDEN)
			snprintf(ca, sizeof ca, "%ld", s->calls_active_total);
		if (s->calls_processed_total != STATS_HIDDEN)
			snprintf(cp, sizeof cp, "%ld", s->calls_processed_total);
		n = snprintf(line, sizeof line, "Calls active:       %s\n"
		    "Calls processed:    %s\n", ca, cp);
		buf_append(&b, line, (size_t)n);
		text_list(&b, "Versions", &s->versions, s->servers_active);
		text_list(&b, "Major versions", &s->major_versions,
		    s->servers_active);
		text_list(&b, "Release lifecycle (eol: past end of life, "
		    "security: security fixes only)", &s->lifecycle,
		    s->servers_active);
		buf_append(&b, "\nModules:\n", 10);
		if (s->n_modules == 0)
			buf_append(&b, "  (none)\n", 9);
		for (size_t i = 0; i < s->n_modules; i++) {
			const struct module_stat *m = &s->modules[i];
			char key[STATS_KEY_MAX + 1];
			text_key(m->name, key, sizeof key);
			n = snprintf(line, sizeof line, "  %-32s %8ld  %5.1f%%\n",
			    key, m->servers,
			    100.0 * share(m->servers, s->servers_active));
			buf_append(&b, line, n > 0 && (size_t)n < sizeof line ?
			    (size_t)n : strlen(line));
		}
		text_list(&b, "Deprecated modules still loaded", &s->deprecated,
		    s->servers_active);
		text_list(&b, "Channel drivers", &s->channel_drivers,
		    s->servers_active);
		text_list(&b, "Operating systems", &s->sys_names,
		    s->servers_active);
		text_list(&b, "Architectures", &s->machines, s->servers_active);
		text_list(&b, "Kernel releases", &s->kernel_releases,
		    s->servers_active);
		text_list(&b, "Uptime", &s->uptime_buckets, s->servers_active);
	}
	buf_append(&b, "\nHistory (active servers by day):\n", 34);
	if (s->n_history == 0)
		buf_append(&b, "  (none yet)\n", 13);
	for (size_t i = 0; i < s->n_history; i++) {
		n = snprintf(line, sizeof line, "  %s %8ld\n", s->history[i].date,
		    s->history[i].active);
		buf_append(&b, line, (size_t)n);
	}
	if (buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
stats_print(FILE *out, struct store *st, const struct collector_config *cfg,
    time_t now, bool json, char *err, size_t errlen)
{
	struct stats *s = stats_snapshot(st, cfg, now, err, errlen);
	char *text;
	json_t *j;

	if (s == NULL)
		return -1;
	if (json) {
		j = stats_to_json(s);
		text = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
		json_decref(j);
	} else {
		text = stats_to_text(s);
	}
	stats_free(s);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fputs(text, out);
	if (json)
		fputc('\n', out);
	free(text);
	if (fflush(out) != 0) {
		snprintf(err, errlen, "--stats: cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}
