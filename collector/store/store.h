/*
 * Storage of COLLECTOR.md §5 behind one interface: SQLite (store_sqlite.c,
 * the embedded default) and PostgreSQL (store_pg.c).  store_open() is the
 * one place that decides which, from the URI's scheme.
 *
 * Reads (store_lookup, store_ping) are synchronous and may be called from
 * any thread.  Writes are jobs: store_submit() queues one, a store thread
 * runs it in a transaction (SQLite batches several into one COMMIT: group
 * commit) and calls job->done only after COMMIT has returned, so that an
 * answer sent from done() means committed.  The token rules (token.h) are
 * applied inside that transaction, which is what serialises two racing
 * updates of one server.
 */
#ifndef COLLECTOR_STORE_H
#define COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../../common/text.h"
#include "pack.h"
#include "token.h"

/* The schema version this binary writes; a newer database is refused. */
#define STORE_SCHEMA_VERSION 5

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND,	/* no such server: 404 */
	STORE_BAD_TOKEN,	/* a valid token exists and was not presented: 401 */
	STORE_TOO_SOON,		/* sooner than min_update_interval: 429, retry_after */
	STORE_UNAVAILABLE,	/* the database failed or is down: 503 */
};

enum store_job_kind {
	STORE_JOB_REGISTER,	/* POST /servers */
	STORE_JOB_UPDATE,	/* PUT /servers/{id} */
};

/*
 * One write.  The submitter owns the job and everything it points to until
 * done() has been called; done() is called exactly once, from a store
 * thread, and must not block.
 */
struct store_job {
	enum store_job_kind kind;

	/* In. */
	char server_id[UUID_LEN + 1];	/* REGISTER: the new id (caller made it) */
	struct token new_token;		/* REGISTER: its first token */
	char presented[UUID_LEN + 1];	/* UPDATE: the tokenId, "" for none */
	const char *report;		/* UPDATE: the body as received */
	size_t report_len;
	time_t now;
	long min_update_interval_s;	/* UPDATE: 0 = no minimum */
	const char *summary;		/* UPDATE: stats_summary() of the report,
					 * applied to the counters in the same
					 * transaction (stats_diff); NULL = none */
	time_t history_since;		/* UPDATE: its changes before this are
					 * pruned (now - history_days) */
	long established_days;		/* UPDATE: the server counts in the
					 * figures once it has reported on this
					 * many distinct UTC days (0, 1: at once) */

	/* Out, valid in done(). */
	enum store_status status;
	struct token token;		/* OK: the token to answer with */
	long retry_after;		/* TOO_SOON: seconds */

	void (*done)(struct store_job *job);
	void *cookie;			/* the submitter's */

	/* The store's: the report packed (pack.h) by store_submit on the
	 * submitter's thread, freed before done(). */
	struct packed packed;

	struct store_job *next;		/* the store's queue link */
};

/* What a synchronous lookup tells about one server. */
struct server_state {
	struct server_tokens tokens;
	time_t first_seen;
	time_t last_seen;
	time_t last_update;		/* last accepted update, 0 = none */
	long reports;
};

struct store;

/*
 * Open (creating when needed) the database named by uri ("sqlite:PATH" or
 * "postgresql://..." / "postgres://..."), migrate its schema forward and
 * start the store's threads.  Returns 0, or -1 with a one-line message in
 * err (libsqlite3's or libpq's own words; "newer than this binary" for a
 * schema version above STORE_SCHEMA_VERSION).  Freed with store_close.
 */
int store_open(const char *uri, struct store **out, char *err, size_t errlen);

/* Finish the queued jobs (each gets its done()), stop the threads, close;
 * NULL-safe. */
void store_close(struct store *st);

/* Pack an UPDATE's report from its parse (the submitter has one: no
 * second parse of the body); otherwise store_submit parses job->report.
 * Call before store_submit; a failure is left to store_submit. */
void store_job_pack(struct store_job *job, const json_t *report);

/* Queue a job; 0, or -1 when the store is closing (done() not called). */
int store_submit(struct store *st, struct store_job *job);

/* STORE_OK and *out filled, STORE_NOT_FOUND, or STORE_UNAVAILABLE. */
enum store_status store_lookup(struct store *st, const char *server_id,
    struct server_state *out);

/* True when the database answers a trivial query now (GET /healthz). */
bool store_ping(struct store *st);

/* Delete the servers (and their reports) last seen before cutoff, and the
 * registrations never followed by an accepted report made before
 * unreported_cutoff (now - TOKEN_LIFETIME_S); the number deleted in
 * *deleted.  0, or -1 with a message in err. */
int store_retention(struct store *st, time_t cutoff, time_t unreported_cutoff,
    long *deleted, char *err, size_t errlen);

/* Statistics (stats.h).  What a snapshot reads: every counter as it
 * stands (the view stat_current) and the daily history since `since` (a day, "YYYY-MM-DD"), in one read
 * transaction.  0, or -1 with a message in err. */
struct stat_rows;
int store_stats_read(struct store *st, const char *since,
    struct stat_rows *out, char *err, size_t errlen);

/* Stop counting the servers last seen before cutoff, or reported on fewer
 * than established_days distinct UTC days (subtract their summaries,
 * counted = 0), in batches; how many in *expired. */
int store_stats_expire(struct store *st, time_t cutoff, long established_days,
    long *expired, char *err, size_t errlen);

/* The day's history (stats_sql.h STATS_SQL_DAILY*): copy the counters of
 * the history's dimensions into stats_daily for day, as they stand (again
 * at every call of the day), with the day's new servers and the servers
 * gone (last seen in [gone_from, gone_to), reported on established_days
 * days), unless a later day has rows already; and delete the days before
 * keep_since (history_days). */
struct stats_daily_args {
	const char *day;		/* "YYYY-MM-DD" */
	time_t gone_from, gone_to;
	long established_days;
	const char *keep_since;		/* "YYYY-MM-DD" */
};
int store_stats_daily(struct store *st, const struct stats_daily_args *a,
    char *err, size_t errlen);

/* GET /api/v1/history: the stats_daily rows since `since` into
 * out->history (by day): of dimension (NULL: every dimension), and of it
 * key only (NULL: every key), with the ("servers", *) rows of each day.
 * 0, or -1 with a message in err. */
int store_stats_history(struct store *st, const char *since,
    const char *dimension, const char *key, struct stat_rows *out,
    char *err, size_t errlen);

/* ---- the fleet view (COLLECTOR.md §6, the operator's only) ----------- */

/* Which servers: every field optional (NULL / false). */
struct fleet_filter {
	const char *version;	/* asterisk.version.name (without a leading
				 * "Asterisk "), exactly or up to a dot:
				 * "22" matches "22.10.1", "22.10" too */
	const char *module;	/* a module's name, with or without ".so" */
	bool stale_only;	/* last_seen < active_since */
	const char *lifecycle;	/* a status ("eol", ...): the web layer filters
				 * by it after reading (fleet.c); the store
				 * ignores it */
	time_t active_since;	/* now - active_days */
	long limit;		/* rows at most (> 0) */
	long offset;
};

/* One server as stored, with the fields of its latest report that the
 * list shows (read by the database, not parsed here); strings malloc'd. */
struct fleet_server {
	char id[UUID_LEN + 1];
	time_t first_seen;
	time_t last_seen;
	long reports;
	char *private_name;	/* NULL: none */
	char *version;		/* version.name without "Asterisk "; NULL: none */
	long modules;		/* how many listed; -1: no report yet */
	char *startup_time;	/* as reported; NULL: none */
	long long calls_active;	/* -1: not reported */
	long long calls_processed;
	char *sys_name;		/* operating_system.sys_name; NULL: none */
	char *kernel;		/* operating_system.release */
	char *machine;		/* operating_system.machine */
	long long cpus;		/* operating_system.cpu_count; -1: none */
	long long memory_kb;	/* operating_system.memory_total_kb */
	long long os_uptime;	/* operating_system.uptime, seconds */
	char *report;		/* store_fleet_get only: the latest, as received */
	char *previous_report;	/* store_fleet_get only: the one before */
};

struct fleet_list {
	struct fleet_server *servers;	/* newest last_seen first, then id */
	size_t n;
	long total;			/* matching the filter, without limit */
};

/* The servers matching f, a page of them.  STORE_OK or STORE_UNAVAILABLE;
 * free with fleet_list_free. */
enum store_status store_fleet_list(struct store *st,
    const struct fleet_filter *f, struct fleet_list *out);

/* One server with both reports: STORE_OK, STORE_NOT_FOUND or
 * STORE_UNAVAILABLE; free with fleet_server_free. */
enum store_status store_fleet_get(struct store *st, const char *id,
    struct fleet_server *out);

void fleet_server_free(struct fleet_server *s);
void fleet_list_free(struct fleet_list *l);

/* A server's history (COLLECTOR.md §5): the rows changes_between() made
 * from each accepted report against the one before (changes_sql.h). */
struct fleet_change {
	time_t at;
	char *kind;			/* CHANGE_* of changes.h */
	char *detail;
};

struct fleet_history {
	struct fleet_change *v;		/* newest first */
	size_t n;
};

/* Server id's changes since `since`, at most limit rows: STORE_OK (maybe
 * none) or STORE_UNAVAILABLE; free with fleet_history_free. */
enum store_status store_fleet_history(struct store *st, const char *id,
    time_t since, long limit, struct fleet_history *out);
void fleet_history_free(struct fleet_history *h);

/* Delete every server's changes older than cutoff (now - history_days);
 * how many in *deleted.  0, or -1 with a message in err. */
int store_changes_prune(struct store *st, time_t cutoff, long *deleted,
    char *err, size_t errlen);

/* The figures' data changed: a report, a registration or an expiry was
 * committed.  store_generation() moves on with every store_touch(), so
 * that a cached snapshot of the statistics knows it may read again. */
void store_touch(void);
unsigned store_generation(void);

/* "sqlite" or "postgresql": for log lines. */
const char *store_backend_name(const struct store *st);

#endif
