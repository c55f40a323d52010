/*
 * The summary of a report and the counter rows: what the storage writes
 * and the statistics read, with no dependency on either.
 */
#ifndef COLLECTOR_SUMMARY_H
#define COLLECTOR_SUMMARY_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

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
 *   major          "22" (the version's leading digits, else "unknown";
 *                  "18 (certified)", "1.8": stats_major_key)
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
 *   cpus           "4" (operating_system.cpu_count 1..4096, else no line)
 *   memory         "<1 GiB", "1 GiB", "2 GiB", "4 GiB", ... (memory_total_kb
 *                  rounded up to a power of two GiB; absent: no line)
 *   calls_bucket   "0", "1-9", "10-99", ... "100000-999999", "1000000+"
 *                  (calls.processed; absent: no line)
 *   cpus           "4" (operating_system.cpu_count 1..4096, else no line)
 *   memory         "<1 GiB", "1 GiB", "2 GiB", "4 GiB", ... (memory_total_kb
 *                  rounded up to a power of two GiB; absent: no line)
 *   calls_bucket   "0", "1-9", "10-99", ... "100000-999999", "1000000+"
 *                  (calls.processed; absent: no line)
 *   country        "DE" (ISO 3166, from geoip_database at the report;
 *                  stats_summary_add)
 *
 * Besides, the row ("known", "") counts the stored servers, and the rows
 * ("first_seen", "YYYY-MM-DD") those first seen on each UTC day (register
 * +1, retention -1), so that neither servers_known nor servers_new_7d (the
 * servers first seen today or on the 6 days before) is ever a count over
 * the servers.
 */
#define STATS_KEY_MAX 200

/* The major of a version name (without "Asterisk "): "22" for
 * "22.10.1", "18 (certified)" for "certified/18.9-cert5" and "18.9-cert5",
 * "1.8" for "1.8.32.3", "unknown" when it starts with no digit. */
void stats_major_key(const char *version, char out[STATS_KEY_MAX + 1]);

/* The UTC day of t, "YYYY-MM-DD". */
void stats_utc_day(time_t t, char out[11]);

/* The summary of a validated report (the json_t report_validate gave),
 * made on the MHD thread; malloc'd, NULL when out of memory. */
char *stats_summary(const json_t *report, time_t now);

/* The summary with the membership line "dim\tkey\t1" added in its place
 * (kept as it is when the line is there already); malloc'd, NULL when out
 * of memory.  For what the report itself does not say: its country. */
char *stats_summary_add(const char *summary, const char *dim,
    const char *key);

/* ---- bounded keys (COLLECTOR.md §4) ------------------------------------------
 *
 * Keys nobody shares (a made-up module name, kernel release, version) must
 * not grow the counters without bound.  Before a summary is counted,
 * stats_bound maps each key of an open dimension (every one but servers,
 * calls and uptime, whose keys are fixed) that the server did not count
 * by name already to STATS_KEY_OVERFLOW unless the backend says it may be
 * counted by name: its counter exists already, or its dimension holds
 * fewer than STATS_KEYS_PER_DIMENSION named keys (then it takes one).  The
 * summary stored is the bounded one, so that the next diff subtracts what
 * was added.  STATS_KEY_OVERFLOW holds a control character, which no real
 * key holds, and sorts before every real key; the figures show it as
 * "other".
 */
#define STATS_KEYS_PER_DIMENSION 5000
#define STATS_KEY_OVERFLOW "\x1f"

/* 1: count (dim, key) by name; 0: count it as STATS_KEY_OVERFLOW; -1: the
 * backend failed. */
typedef int (*stats_key_fn)(void *arg, const char *dim, size_t dimlen,
    const char *key, size_t keylen);

/* new bounded against old (the summary the server counted last, NULL:
 * none); malloc'd, or NULL when out of memory or fn failed. */
char *stats_bound(const char *old, const char *new, stats_key_fn fn,
    void *arg);

/* A backend's bookkeeping for one stats_bound call: how many keys each
 * dimension counts by name (read once per dimension, then counted on). */
struct key_room {
	struct { char dim[24]; long n; } d[16];
	int nd;
};

/* The slot of dim in r (n = -1: not read yet), or NULL when full. */
long *key_room_of(struct key_room *r, const char *dim, size_t dimlen);

/* True for the dimensions whose keys come from the report (unbounded). */
int stats_dim_open(const char *dim, size_t dimlen);

/* The value N of the line "dim\tkey\tN" in a summary, 0 when absent. */
long long stats_summary_value(const char *summary, const char *dim,
    const char *key);

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
	/* The largest contribution of one counted server to each sum
	 * ("calls" "active", "processed"), and how many counted servers have
	 * none known: a sum is public only when no server makes up more
	 * than half of it (stats_build). */
	long long calls_max_active, calls_max_processed, calls_unknown;
	struct stat_row *history;	/* stats_daily, by day */
	size_t n_history;
};

/* Append a row (copies the strings); 0 or -1 out of memory. */
int stat_rows_add(struct stat_row **rows, size_t *n, const char *dim,
    const char *key, long long value, const char *day);
void stat_rows_free(struct stat_rows *r);

#endif
