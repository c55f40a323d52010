/*
 * The statistics of COLLECTOR.md §6: figures over the active servers'
 * latest reports, kept up to date as reports arrive (counters maintained in
 * the store's write transaction; see stats.c), read as one snapshot.
 *
 * struct stats is what every output renders: /api/v1/stats, --stats,
 * /metrics and the dashboard.  stats_snapshot() applies k-anonymity
 * (groups below min_group merged into "other") before anything else sees
 * the figures, so that no output can forget it.
 */
#ifndef COLLECTOR_STATS_H
#define COLLECTOR_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "../base/summary.h"

struct collector_config;
struct store;

/* One group: a key ("22.10.1", "chan_pjsip.so", "x86_64", "other") and
 * the number of active servers in it. */
struct stat_group {
	char *key;
	long servers;
	const char *lifecycle;	/* versions and majors only: the key's status
				 * (lifecycle_status_name, static), or NULL */
};

/* Groups sorted by servers, largest first; "other" (if any) last. */
struct stat_list {
	struct stat_group *groups;
	size_t n;
};

/* A module: how many active servers load it, by status and support level. */
struct module_stat {
	char *name;
	long servers;
	struct stat_list status;	/* "Running", "Not Running", ... */
	struct stat_list support;	/* "core", "extended", "deprecated", ... */
};

/* One day of the history. */
struct stats_day {
	char date[11];			/* "2026-12-01" */
	long active;
	struct stat_list major_versions;
	struct stat_list lifecycle;	/* lifecycle_share.c: by status */
	long new_servers;		/* first seen that day (issue 22) */
	long gone_servers;		/* fell out of active_days that day */
};

/* Issue 22: a distribution over ordered buckets (uptime, calls processed
 * per server, CPUs, memory): the servers with a known bucket, and the
 * buckets of p5, p50 and p95 by nearest rank, "" (null) when that bucket
 * holds fewer than min_group servers, so that no percentile ever names
 * one PBX's minimum or maximum. */
#define STATS_DISTS 4
enum { STATS_DIST_UPTIME, STATS_DIST_CALLS, STATS_DIST_CPUS,
    STATS_DIST_MEMORY };
struct stat_dist {
	long servers;
	char p[3][32];		/* p5, p50, p95 */
};
/* The JSON names: "uptime", "calls_processed", "cpus", "memory". */
extern const char *const stats_dist_names[STATS_DISTS];

struct stats {
	time_t generated;
	long min_group;			/* the k applied */
	long active_days;

	long servers_known;
	long servers_active;
	long servers_new_7d;

	struct stat_list versions;		/* full: "22.10.1" */
	struct stat_list major_versions;	/* "22" */
	struct module_stat *modules;		/* by servers, largest first */
	size_t n_modules;
	struct stat_list deprecated;		/* modules with support level deprecated, still loaded */
	struct stat_list channel_drivers;	/* chan_sip, chan_pjsip/res_pjsip, chan_iax2, ... */
	struct stat_list sys_names;
	struct stat_list machines;
	struct stat_list kernel_releases;
	struct stat_list countries;		/* "DE": with geoip_database only */
	struct stat_list uptime_buckets;	/* "< 1 day", "1-7 days", "7-30 days", "30-365 days", "> 1 year" */
	long calls_active_total;		/* STATS_HIDDEN: not shown, one */
	long calls_processed_total;		/* server makes up more than half */
	struct stat_dist dists[STATS_DISTS];	/* by STATS_DIST_* */

	/* Asterisk's release lifecycle (lifecycle_share.c): active servers
	 * by the status of their version today, in the order "eol",
	 * "security", "supported", "unknown" (a status of fewer than
	 * min_group servers merged into a last "other"); empty when
	 * suppressed. */
	struct stat_list lifecycle;

	struct stats_day *history;		/* oldest first */
	size_t n_history;

	/* True when fewer than min_group servers are active: then every
	 * breakdown above is empty and the call figures are 0, so that no
	 * public figure describes fewer than min_group servers (the counts
	 * of servers themselves are still shown). */
	bool suppressed;
};

/* A sum not shown: one server makes up more than half of it (or a
 * counted server's share is not known yet). */
#define STATS_HIDDEN (-1L)

/* Free everything a snapshot holds; NULL-safe. */
void stats_free(struct stats *s);

/* ---- reading: a cached snapshot ------------------------------------------
 *
 * The snapshot in use, shared by every reader: built by a refresher
 * thread (started by the first call) about half a second after a commit
 * moved store_generation and at least every 2 s, so that the threads
 * answering requests only take a reference.  Only when the clock has
 * moved STATS_CACHE_SECONDS past the latest one (a test clock, a stopped
 * process) is it read on the caller's thread.  A snapshot first stops
 * counting the servers silent for longer than active_days (active as of
 * the moment read).  NULL with a message in err when the database cannot
 * be read.  Release it with stats_release.  Reads the counters
 * (stat_current) and the daily history: never the reports. */
#define STATS_CACHE_SECONDS 5
const struct stats *stats_current(struct store *st,
    const struct collector_config *cfg, time_t now, char *err, size_t errlen);
void stats_release(const struct stats *s);

/* Stop the refresher (waiting for a snapshot it is building) and drop the
 * cached snapshot; before store_close.  No stats_current after it. */
void stats_stop(void);

/* A fresh snapshot, not cached (--stats); stats_free it. */
struct stats *stats_snapshot(struct store *st,
    const struct collector_config *cfg, time_t now, char *err, size_t errlen);

/* The periodic job (at start, then every minute or so): stop counting the
 * servers that fell out of active_days, and write the day's history rows
 * as the figures stand (again at every run of the day, so that a day past
 * keeps the figures of its last run).  A snapshot's point for today is
 * always the figures as they stand.  0, or -1 with a message in err. */
int stats_maintain(struct store *st, const struct collector_config *cfg,
    time_t now, char *err, size_t errlen);

/* Major versions in version order, newest first ("22", "21", "18",
 * "18 (certified)", ... "unknown", "other"): a comparator and a sort. */
int stats_cmp_major(const struct stat_group *a, const struct stat_group *b);
void stats_sort_majors(struct stat_list *l);

/* Moves on every time stats_maintain has written the day's history rows:
 * what was read from stats_daily before may have changed. */
unsigned stats_history_generation(void);

/* The first day ("YYYY-MM-DD") of a history of days days ending today. */
void stats_history_since(time_t now, long days, char out[11]);

/* ---- outputs ---------------------------------------------------------------- */

/* The JSON of GET /api/v1/stats and --stats --json (new reference). */
json_t *stats_to_json(const struct stats *s);

/* The readable text of --stats (malloc'd). */
char *stats_to_text(const struct stats *s);

/* --stats [--json]: a fresh snapshot written to out as text or indented
 * JSON; 0, or -1 with a message in err. */
int stats_print(FILE *out, struct store *st, const struct collector_config *cfg,
    time_t now, bool json, char *err, size_t errlen);

/* lifecycle_share.c: fill s->lifecycle and each history day's from the
 * rows' full versions (today) and major versions (each day), as lc says
 * on that day (lc NULL: all unknown).  0, or -1 out of memory. */
struct lifecycle;
int stats_lifecycle_share(struct stats *s, const struct stat_rows *rows,
    const struct lifecycle *lc, long min_group);

/* The share (0..1, four decimals) of part in whole. */
double stats_share(long part, long whole);

/* Distribution d (STATS_DIST_*) of the counter rows into out, with k
 * the min_group; 0, or -1 out of memory (exposed for tests). */
int stats_distribution(const struct stat_rows *rows, int d, long k,
    struct stat_dist *out);

/* struct stats from the rows, k-anonymity applied (exposed for tests). */
struct stats *stats_build(const struct stat_rows *rows, long min_group,
    long active_days, time_t now);

#endif
