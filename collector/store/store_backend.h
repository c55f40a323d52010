/* For store.c and the backends only: the table of a backend's functions.
 * Each backend's `struct store` begins with `const struct store_ops *ops`,
 * so that store.c can dispatch without knowing the rest. */
#ifndef COLLECTOR_STORE_BACKEND_H
#define COLLECTOR_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	int (*submit)(struct store *st, struct store_job *job);
	enum store_status (*lookup)(struct store *st, const char *server_id,
	    struct server_state *out);
	bool (*ping)(struct store *st);
	int (*retention)(struct store *st, time_t cutoff,
	    time_t unreported_cutoff, long *deleted, char *err, size_t errlen);
	/* Statistics: see store.h.  A backend also keeps the counters in its
	 * write transaction: a server's first accepted UPDATE adds 1 to
	 * ("known", "") and to ("first_seen", stats_utc_day(its first_seen))
	 * (a registration alone is not a known server); an accepted
	 * UPDATE applies stats_diff(counted ? old summary : NULL,
	 * job->summary) as "UPSERT n = n + delta" (STATS_SQL_BUMP; PostgreSQL:
	 * rows of stat_deltas, folded later) and stores summary and
	 * counted = 1; retention subtracts the summaries of the
	 * counted servers it deletes, their number from ("known", "") and each
	 * from its ("first_seen", day). */
	int (*stats_read)(struct store *st, const char *since,
	    struct stat_rows *out, char *err, size_t errlen);
	int (*stats_expire)(struct store *st, time_t cutoff,
	    long established_days, long *expired,
	    char *err, size_t errlen);
	int (*stats_daily)(struct store *st, const struct stats_daily_args *a,
	    char *err, size_t errlen);
	int (*stats_history)(struct store *st, const char *since,
	    const char *dimension, const char *key, struct stat_rows *out,
	    char *err, size_t errlen);
	/* The fleet view: see store.h.  Reads only, on a reader. */
	enum store_status (*fleet_list)(struct store *st,
	    const struct fleet_filter *f, struct fleet_list *out);
	enum store_status (*fleet_get)(struct store *st, const char *id,
	    struct fleet_server *out);
	/* The change history (changes_sql.h): a read, and the prune. */
	enum store_status (*fleet_history)(struct store *st, const char *id,
	    time_t since, long limit, struct fleet_history *out);
	int (*changes_prune)(struct store *st, time_t cutoff, long *deleted,
	    char *err, size_t errlen);
};

/* The common head of every backend's struct store. */
struct store_head {
	const struct store_ops *ops;
};

/* Each backend's opener: what follows the scheme (a path for SQLite, the
 * whole URI for libpq). */
int store_sqlite_open(const char *path, struct store **out, char *err,
    size_t errlen);
int store_pg_open(const char *uri, struct store **out, char *err,
    size_t errlen);

/*
 * The decision every backend makes for an UPDATE once it holds the server's
 * row under its transaction's lock: NOT_FOUND when found is false, the
 * token verdict, the minimum interval, then the renewal.  On STORE_OK the
 * caller writes the report and st (tokens maybe renewed) and sets
 * job->token; otherwise it writes nothing.  Shared so that both backends
 * decide the same way.
 */
enum store_status store_decide_update(struct store_job *job, bool found,
    struct server_state *st);

/* A server's reports as received into out->report and
 * out->previous_report from what a backend stored (pack.h): the latest's
 * rest and module set, the previous one's diff and module set (NULL:
 * none).  0, or -1 when out of memory or not what was stored. */
int fleet_unpack(struct fleet_server *out, const char *rest,
    const char *modules, const char *prev_diff, const char *prev_modules);

struct change_list;

/* The changes job's accepted report makes (base/changes.h) into out, from
 * the server's row as it stands after the UPDATE and before its summary
 * moves on (changes_sql.h CHANGES_SQL_PREVIOUS): the summary before (its
 * own lines and module lines), the latest report's rest, the previous
 * report's diff and module set (each NULL: none).  0, or -1 when out of
 * memory or a stored value is not what a collector stored; free out with
 * change_list_free either way. */
int changes_for_job(const struct store_job *job, const char *summary_own,
    const char *summary_shared, const char *rest, const char *prev_diff,
    const char *prev_modules, struct change_list *out);

/* Free what store_submit added to the job, then call its done(). */
void store_job_done(struct store_job *job);

#endif
