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
#include <time.h>

#include <jansson.h>

struct collector_config;
struct store;

/* One group: a key ("22.10.1", "chan_pjsip.so", "x86_64", "other") and
 * the number of active servers in it. */
struct stat_group {
	char *key;
	long servers;
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
};

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
	struct stat_list uptime_buckets;	/* "< 1 day", "1-7 days", "7-30 days", "30-365 days", "> 1 year" */
	long calls_active_total;
	long calls_processed_total;

	struct stats_day *history;		/* oldest first */
	size_t n_history;

	/* True when fewer than min_group servers are active: then every
	 * breakdown above is empty and the call figures are 0, so that no
	 * public figure describes fewer than min_group servers (the counts
	 * of servers themselves are still shown). */
	bool suppressed;
};

/* Free everything a snapshot holds; NULL-safe. */
void stats_free(struct stats *s);

/* ---- reading: a cached snapshot ------------------------------------------
 *
 * The snapshot in use, at most STATS_CACHE_SECONDS old (or 1 s when a
 * report was committed since: stats_touch), shared by every reader; NULL
 * with a message in err when the database cannot be read.  Release it
 * with stats_release.  Reads the counters (stat_current: one row per
 * group, small) and the daily history: never the reports. */
#define STATS_CACHE_SECONDS 5
const struct stats *stats_current(struct store *st,
    const struct collector_config *cfg, time_t now, char *err, size_t errlen);
void stats_release(const struct stats *s);

/* A report was committed: the next stats_current may read again. */
void stats_touch(void);

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

/* ---- outputs ---------------------------------------------------------------- */

/* The JSON of GET /api/v1/stats and --stats --json (new reference). */
json_t *stats_to_json(const struct stats *s);

/* The readable text of --stats (malloc'd). */
char *stats_to_text(const struct stats *s);

/* ---- counting: backend-independent -----------------------------------------
 *
 * A server's summary is what it contributes to the counters: lines
 * "DIMENSION\tKEY\tN\n" sorted by (DIMENSION, KEY) bytewise, N >= 1 (1
 * for a group membership, the value for the sums "calls"/"active" and
 * "calls"/"processed").  Keys are cut to STATS_KEY_MAX bytes and hold no
 * control character.  The dimensions (STATS_DIM_*) and their keys:
 *
 *   servers        "active" (every counted server: the active count)
 *   version        "22.10.1" (version.name without "Asterisk ")
 *   major          "22" (the version's leading digits, else "unknown")
 *   module         "res_pjsip.so" (every listed module)
 *   module_status  "res_pjsip.so/Running"
 *   module_support "res_pjsip.so/core"
 *   deprecated     "chan_sip.so" (support_level deprecated, status running)
 *   channel_driver "chan_sip", "chan_iax2", ... (running chan_*.so without
 *                  ".so"; chan_pjsip.so and res_pjsip.so both count once as
 *                  "chan_pjsip/res_pjsip")
 *   sys_name, machine, release   the operating_system fields, "unknown"
 *   uptime         "< 1 day", "1-7 days", "7-30 days", "30-365 days",
 *                  "> 1 year", "unknown" (from startup_time at the report)
 *   calls          "active", "processed" (sums)
 *
 * Besides, the row ("known", "") counts the stored servers, and the rows
 * ("first_seen", "YYYY-MM-DD") those first seen on each UTC day (register
 * +1, retention -1), so that neither servers_known nor servers_new_7d (the
 * servers first seen today or on the 6 days before) is ever a count over
 * the servers.
 */
#define STATS_KEY_MAX 200

/* The UTC day of t, "YYYY-MM-DD". */
void stats_utc_day(time_t t, char out[11]);

/* The summary of a validated report (the json_t report_validate gave),
 * made on the MHD thread; malloc'd, NULL when out of memory. */
char *stats_summary(const json_t *report, time_t now);

/* One change of a counter. */
typedef int (*stats_delta_fn)(void *arg, const char *dim, size_t dimlen,
    const char *key, size_t keylen, long long delta);

/* Call fn for every counter whose value differs between the contribution
 * of old and that of new (either may be NULL: nothing), with the
 * difference: the merge of two sorted lists, so usually no call at all.
 * 0, or fn's first non-zero return. */
int stats_diff(const char *old, const char *new, stats_delta_fn fn,
    void *arg);

/* ---- what a backend reads for a snapshot ----------------------------------- */

struct stat_row {
	char *dim, *key;
	long long n;
	char day[11];			/* history rows only */
};

struct stat_rows {
	struct stat_row *counts;	/* stat_current */
	size_t n_counts;
	struct stat_row *history;	/* stats_daily, by day */
	size_t n_history;
};

/* Append a row (copies the strings); 0 or -1 out of memory. */
int stat_rows_add(struct stat_row **rows, size_t *n, const char *dim,
    const char *key, long long value, const char *day);
void stat_rows_free(struct stat_rows *r);

/* struct stats from the rows, k-anonymity applied (exposed for tests). */
struct stats *stats_build(const struct stat_rows *rows, long min_group,
    long active_days, time_t now);

#endif
