/*
 * The SQLite backend: one file in WAL mode, synchronous=FULL so that an
 * acknowledged report survives a power cut, not only a kill -9.
 *
 * One writer thread owns the only connection that writes reports.  It takes
 * every job queued since its last turn, runs them in one transaction (each
 * under its own SAVEPOINT, so that one failure costs only that job) and
 * calls their done() after COMMIT has returned: group commit, one fsync for
 * many reports.  Because the writer is alone, two updates of one server are
 * serialised by construction: the second sees the first's new token.
 *
 * Lookups use a small pool of read connections, which WAL lets run beside
 * the writer.  Retention deletes in batches on a pool connection; SQLite's
 * own lock (with busy_timeout) orders it against the writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "../base/changes.h"
#include "../base/health.h"
#include "../base/summary.h"
#include "store_backend.h"
#include "store_pool.h"
#ifndef STORE_SQL_PARAM
#define STORE_SQL_PARAM(n) "?" #n
#endif
#include "changes_sql.h"
#include "stats_sql.h"
#include "store_sql.h"

#define READERS 4
#define BATCH_MAX 512
#define BUSY_TIMEOUT_MS 10000

static const char *const schema_v1[] = {
	"CREATE TABLE servers ("
	" id TEXT PRIMARY KEY,"
	" token_id TEXT NOT NULL,"
	" token_issued INTEGER NOT NULL,"
	" prev_token_id TEXT,"
	" prev_token_issued INTEGER,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" last_update INTEGER,"
	" reports INTEGER NOT NULL DEFAULT 0,"
	" report TEXT,"
	" previous_report TEXT)",
	STORE_SQL_INDEX,
	NULL,
};

/* The statistics' counters (stats.c, stats_sql.h).  Servers stored by
 * version 1 are not counted until their next report. */
static const char *const schema_v2[] = {
	STATS_SQL_V2_SUMMARY,
	STATS_SQL_V2_COUNTED,
	STATS_SQL_V2_INDEX_COUNTED,
	"CREATE TABLE stat_counts ("
	" dimension TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" PRIMARY KEY (dimension, key)) WITHOUT ROWID",
	"CREATE TABLE stats_daily ("
	" day TEXT NOT NULL,"
	" dimension TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" PRIMARY KEY (day, dimension, key)) WITHOUT ROWID",
	STATS_SQL_V2_SEED,
	"INSERT INTO stat_counts (dimension, key, n)"
	" SELECT 'first_seen', strftime('%Y-%m-%d', first_seen, 'unixepoch'),"
	" count(*) FROM servers GROUP BY 2",
	NULL,
};

/* The counters as they stand (stats_sql.h): here stat_counts itself,
 * since this backend's one writer bumps them in place. */
static const char *const schema_v3[] = {
	"CREATE VIEW stat_current AS SELECT dimension, key, n FROM stat_counts",
	NULL,
};

/* Established servers and the largest share of a sum (stats_sql.h,
 * schema 4).  A server's report days before it are not known: at least
 * the days of its first and last report (the periodic job then stops
 * counting those short of established_days).  calls_* stay NULL until
 * the next report: the sums stay hidden till then. */
#define SQLITE_DAY(col) "strftime('%Y-%m-%d', " col ", 'unixepoch')"
static const char *const schema_v4[] = {
	"ALTER TABLE servers ADD COLUMN report_days INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE servers ADD COLUMN last_report_day TEXT",
	"ALTER TABLE servers ADD COLUMN calls_active INTEGER",
	"ALTER TABLE servers ADD COLUMN calls_processed INTEGER",
	"UPDATE servers SET report_days = CASE WHEN " SQLITE_DAY("first_seen")
	" <> " SQLITE_DAY("last_seen") " AND reports >= 2 THEN 2 ELSE 1 END,"
	" last_report_day = " SQLITE_DAY("last_seen") " WHERE reports > 0",
	STATS_SQL_V4_KNOWN,
	STATS_SQL_V4_FIRST_SEEN_DROP,
	"INSERT INTO stat_counts (dimension, key, n)"
	" SELECT 'first_seen', " SQLITE_DAY("first_seen") ", count(*)"
	" FROM servers WHERE reports > 0 GROUP BY 2",
	NULL,
};

/* Each distinct module set once (pack.h, store_sql.h); the rows are
 * rewritten by migrate_v5_rows. */
static const char *const schema_v5[] = {
	STORE_SQL_V5_COLUMNS,
	NULL,
};

/* migrations[v] brings a database from version v to v + 1. */
static const char *const *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
};

static const char sql_select[] = STORE_SQL_SELECT;
static const char sql_insert[] = STORE_SQL_INSERT;
static const char sql_update[] = STORE_SQL_UPDATE;

struct reader {
	sqlite3 *db;
	sqlite3_stmt *select;
};

struct store {
	struct store_head head;

	sqlite3 *wdb;			/* the writer thread's only */
	sqlite3_stmt *w_select, *w_insert, *w_update;
	sqlite3_stmt *w_bump, *w_stat_get, *w_stat_set;	/* statistics */
	sqlite3_stmt *w_report_day;
	sqlite3_stmt *w_old, *w_set_has, *w_set_put;	/* schema 5 */
	sqlite3_stmt *w_report_days;
	sqlite3_stmt *w_key_exists, *w_dim_keys;	/* bounded keys */
	struct key_room room;			/* the job's */
	pthread_t writer;
	bool writer_started;

	struct job_queue queue;

	struct reader readers[READERS];
	struct lock_pool reader_locks;	/* one per reader */
};

static const struct store_ops sqlite_ops;
static int step_done(sqlite3_stmt *st);

static void
set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	snprintf(err, errlen, "sqlite: %s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

static int
exec_all(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Open one connection with the settings every connection needs. */
static int
open_conn(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		set_err(err, errlen, path, db);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (exec_all(db, "PRAGMA journal_mode = WAL") < 0 ||
	    exec_all(db, "PRAGMA synchronous = FULL") < 0) {
		set_err(err, errlen, path, db);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, char *err,
    size_t errlen)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	    NULL) != SQLITE_OK) {
		set_err(err, errlen, "prepare", db);
		return -1;
	}
	return 0;
}

/* Store a module set unless it is there (st_has: STORE_SQL_SET_HAS,
 * st_put: STORE_SQL_SET_PUT); hash "" is none.  0 or -1. */
static int
put_set(sqlite3_stmt *st_has, sqlite3_stmt *st_put, const char *hash,
    const char *body)
{
	int rc;

	if (hash[0] == '\0')
		return 0;
	sqlite3_bind_text(st_has, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_has);
	sqlite3_reset(st_has);
	sqlite3_clear_bindings(st_has);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return -1;
	sqlite3_bind_text(st_put, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 2, body, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_put);
	sqlite3_reset(st_put);
	sqlite3_clear_bindings(st_put);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_hash(sqlite3_stmt *st, int col, const char *hash)
{
	if (hash[0] == '\0')
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, hash, -1, SQLITE_STATIC);
}

/* Schema 4 to 5: every server's reports and summary in their compact
 * forms (pack.h), inside the migration's transaction. */
static int
migrate_v5_rows(sqlite3 *db)
{
	sqlite3_stmt *pick = NULL, *rw = NULL, *has = NULL, *put = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db, STORE_SQL_V5_PICK, -1, &pick, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, STORE_SQL_V5_REWRITE, -1, &rw, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, STORE_SQL_SET_HAS, -1, &has, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, STORE_SQL_SET_PUT, -1, &put, NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(pick)) == SQLITE_ROW) {
		struct pack_row row;

		if (pack_row_v4(&row, (const char *)sqlite3_column_text(pick, 1),
		    (const char *)sqlite3_column_text(pick, 2),
		    (const char *)sqlite3_column_text(pick, 3)) < 0)
			goto out;
		sqlite3_bind_text(rw, 1, (const char *)sqlite3_column_text(pick, 0),
		    -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(rw, 2, row.latest.rest, -1, SQLITE_STATIC);
		sqlite3_bind_text(rw, 3, row.prev_diff, -1, SQLITE_STATIC);
		bind_hash(rw, 4, row.latest.hash);
		bind_hash(rw, 5, row.prev.hash);
		sqlite3_bind_text(rw, 6, row.summary_own, -1, SQLITE_STATIC);
		bind_hash(rw, 7, row.summary_hash);
		step = put_set(has, put, row.latest.hash, row.latest.modules) < 0 ||
		    put_set(has, put, row.prev.hash, row.prev.modules) < 0 ||
		    put_set(has, put, row.summary_hash, row.summary_shared) < 0 ||
		    step_done(rw) < 0 ? -1 : 0;
		pack_row_free(&row);
		if (step < 0)
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(pick);
	sqlite3_finalize(rw);
	sqlite3_finalize(has);
	sqlite3_finalize(put);
	return rc;
}

static int changes_create(sqlite3 *db);
static int changes_record(sqlite3 *db, const struct store_job *job);

/* Bring the schema to STORE_SCHEMA_VERSION in one transaction, so that two
 * processes starting at once migrate once (BEGIN IMMEDIATE waits). */
static int
migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (exec_all(db, "BEGIN IMMEDIATE") < 0) {
		set_err(err, errlen, path, db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0) {
		set_err(err, errlen, path, db);
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "sqlite: %s: schema version %d is newer "
		    "than this binary's %d", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
		for (const char *const *sql = migrations[v]; *sql; sql++)
			if (exec_all(db, *sql) < 0) {
				set_err(err, errlen, "migrate", db);
				goto fail;
			}
		if (v == 4 && migrate_v5_rows(db) < 0) {
			set_err(err, errlen, "migrate to schema 5", db);
			goto fail;
		}
	}
	if (changes_create(db) < 0) {
		set_err(err, errlen, "migrate", db);
		goto fail;
	}
	if (version < STORE_SCHEMA_VERSION) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
		    STORE_SCHEMA_VERSION);
		if (exec_all(db, pragma) < 0) {
			set_err(err, errlen, "migrate", db);
			goto fail;
		}
	}
	if (exec_all(db, "COMMIT") < 0) {
		set_err(err, errlen, "migrate", db);
		goto fail;
	}
	return 0;
fail:
	exec_all(db, "ROLLBACK");
	return -1;
}

static void
token_from_columns(sqlite3_stmt *st, int col, struct token *t)
{
	const unsigned char *id = sqlite3_column_text(st, col);

	memset(t, 0, sizeof *t);
	if (id != NULL && uuid_is_valid((const char *)id)) {
		memcpy(t->id, id, UUID_LEN);
		t->issued = (time_t)sqlite3_column_int64(st, col + 1);
	}
}

/* Run the select on st (bound to id); 1 found, 0 not found, -1 error. */
static int
read_state(sqlite3_stmt *st, const char *id, struct server_state *out)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		token_from_columns(st, 0, &out->tokens.current);
		token_from_columns(st, 2, &out->tokens.previous);
		out->first_seen = (time_t)sqlite3_column_int64(st, 4);
		out->last_seen = (time_t)sqlite3_column_int64(st, 5);
		out->last_update = (time_t)sqlite3_column_int64(st, 6);
		out->reports = (long)sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_token(sqlite3_stmt *st, int col, const struct token *t)
{
	if (t->id[0] == '\0') {
		sqlite3_bind_null(st, col);
		sqlite3_bind_null(st, col + 1);
	} else {
		sqlite3_bind_text(st, col, t->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, col + 1, (sqlite3_int64)t->issued);
	}
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Apply one counter change with st (STATS_SQL_BUMP). */
static int
bump(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen, long long delta)
{
	sqlite3_stmt *st = arg;

	sqlite3_bind_text(st, 1, dim, (int)dimlen, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, (int)keylen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)delta);
	return step_done(st);
}

static int
bump_known(sqlite3_stmt *st, long long delta)
{
	return bump(st, "known", 5, "", 0, delta);
}

/* One server more or less first seen on the day of t. */
static int
bump_first_seen(sqlite3_stmt *st, time_t t, long long delta)
{
	char day[11];

	stats_utc_day(t, day);
	return bump(st, "first_seen", 10, day, strlen(day), delta);
}

/* One more report day when this report is the first of its UTC day;
 * the server's report days as they now stand, or -1. */
static long
report_day(struct store *s, const struct store_job *job)
{
	sqlite3_stmt *st = s->w_report_day;
	char day[11];
	long days = -1;

	stats_utc_day(job->now, day);
	sqlite3_bind_text(st, 1, job->server_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)stats_summary_value(
	    job->summary, "calls", "active"));
	sqlite3_bind_int64(st, 4, (sqlite3_int64)stats_summary_value(
	    job->summary, "calls", "processed"));
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return -1;
	/* Read back in the writer's transaction (no RETURNING before 3.35). */
	st = s->w_report_days;
	sqlite3_bind_text(st, 1, job->server_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		days = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return days;
}

/* stats_key_fn: may (dim, key) be counted by name? */
static int
key_by_name(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen)
{
	struct store *s = arg;
	sqlite3_stmt *st = s->w_key_exists;
	long *n;
	int rc;

	sqlite3_bind_text(st, 1, dim, (int)dimlen, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, (int)keylen, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return -1;
	if ((n = key_room_of(&s->room, dim, dimlen)) == NULL)
		return 0;
	if (*n < 0) {
		st = s->w_dim_keys;
		sqlite3_bind_text(st, 1, dim, (int)dimlen, SQLITE_STATIC);
		rc = sqlite3_step(st);
		*n = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (*n < 0)
			return -1;
	}
	if (*n >= STATS_KEYS_PER_DIMENSION)
		return 0;
	(*n)++;
	return 1;
}

/* The server's contribution to the counters becomes job->summary once it
 * is established (job->established_days distinct report days), else
 * nothing: the difference from what it contributed before, when it was
 * counted. */
static int
count_update(struct store *s, const struct store_job *job)
{
	sqlite3_stmt *g = s->w_stat_get;
	const char *new;
	char *old = NULL;
	long days;
	int rc;

	if (job->summary == NULL)
		return 0;
	if ((days = report_day(s, job)) < 0)
		return -1;
	new = days >= job->established_days ? job->summary : NULL;
	sqlite3_bind_text(g, 1, job->server_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(g);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(g);
		sqlite3_clear_bindings(g);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	if (sqlite3_column_int(g, 0) == 1 &&
	    sqlite3_column_type(g, 1) != SQLITE_NULL &&
	    (old = summary_join((const char *)sqlite3_column_text(g, 1),
	    (const char *)sqlite3_column_text(g, 2))) == NULL) {
		rc = -1;
	} else if (old != NULL && new != NULL && strcmp(old, new) == 0) {
		rc = 0;		/* the usual case: nothing changed */
	} else {
		char *bounded = NULL, *own = NULL, *shared = NULL;
		char hash[PACK_HASH_LEN + 1];

		/* Keys nobody shares stay bounded in number. */
		memset(&s->room, 0, sizeof s->room);
		if (new != NULL && (bounded = stats_bound(old, new, key_by_name,
		    s)) == NULL)
			rc = -1;
		else
			rc = stats_diff(old, bounded, bump, s->w_bump);
		/* Stored as its own lines and its module lines' set. */
		if (rc == 0 && summary_split(bounded != NULL ? bounded :
		    job->summary, &shared, hash, &own) < 0)
			rc = -1;
		if (rc == 0)
			rc = put_set(s->w_set_has, s->w_set_put, hash, shared);
		if (rc == 0) {
			sqlite3_bind_text(s->w_stat_set, 1, job->server_id, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(s->w_stat_set, 2, own, -1,
			    SQLITE_STATIC);
			sqlite3_bind_int(s->w_stat_set, 3, new != NULL);
			bind_hash(s->w_stat_set, 4, hash);
			rc = step_done(s->w_stat_set);
		}
		free(bounded);
		free(own);
		free(shared);
	}
	free(old);
	sqlite3_reset(g);
	sqlite3_clear_bindings(g);
	return rc;
}

/* The previous report as a diff against job's (NULL: none) into *diff;
 * 0 or -1. */
static int
previous_diff(struct store *s, const struct store_job *job, char **diff)
{
	sqlite3_stmt *st = s->w_old;
	int rc;

	*diff = NULL;
	sqlite3_bind_text(st, 1, job->server_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*diff = report_diff((const char *)sqlite3_column_text(st, 0),
		    job->packed.rest);
		if (*diff == NULL)
			rc = SQLITE_ERROR;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* One job inside the writer's open transaction; its status says what
 * happened.  -1 only when SQLite failed (the job's savepoint is undone). */
static int
run_job(struct store *s, struct store_job *job)
{
	struct server_state state;
	char *diff = NULL;
	int found, rc;

	if (job->kind == STORE_JOB_REGISTER) {
		sqlite3_bind_text(s->w_insert, 1, job->server_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->w_insert, 2, job->new_token.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->w_insert, 3, (sqlite3_int64)job->new_token.issued);
		sqlite3_bind_int64(s->w_insert, 4, (sqlite3_int64)job->now);
		/* Not a known server until its first accepted report. */
		if (step_done(s->w_insert) < 0)
			return -1;
		job->token = job->new_token;
		job->status = STORE_OK;
		return 0;
	}
	if (job->packed.rest == NULL)
		return -1;	/* not packed: out of memory */
	found = read_state(s->w_select, job->server_id, &state);
	if (found < 0)
		return -1;
	job->status = store_decide_update(job, found == 1, &state);
	if (job->status != STORE_OK)
		return 0;
	if (previous_diff(s, job, &diff) < 0)
		return -1;
	rc = put_set(s->w_set_has, s->w_set_put, job->packed.hash,
	    job->packed.modules);
	sqlite3_bind_text(s->w_update, 1, job->server_id, -1, SQLITE_STATIC);
	bind_token(s->w_update, 2, &state.tokens.current);
	bind_token(s->w_update, 4, &state.tokens.previous);
	sqlite3_bind_int64(s->w_update, 6, (sqlite3_int64)state.last_seen);
	sqlite3_bind_int64(s->w_update, 7, (sqlite3_int64)state.last_update);
	sqlite3_bind_int64(s->w_update, 8, (sqlite3_int64)state.reports);
	sqlite3_bind_text(s->w_update, 9, job->packed.rest, -1, SQLITE_STATIC);
	if (diff != NULL)
		sqlite3_bind_text(s->w_update, 10, diff, -1, SQLITE_STATIC);
	bind_hash(s->w_update, 11, job->packed.hash);
	if (rc == 0)
		rc = step_done(s->w_update);
	else
		sqlite3_clear_bindings(s->w_update);
	free(diff);
	if (rc < 0)
		return -1;
	if (changes_record(s->wdb, job) < 0)	/* before the summary moves on */
		return -1;
	/* The first accepted report makes it a known server. */
	if (state.reports == 1 && (bump_known(s->w_bump, 1) < 0 ||
	    bump_first_seen(s->w_bump, state.first_seen, 1) < 0))
		return -1;
	return count_update(s, job);
}

/* One group commit: every job of the batch, one COMMIT, then done(). */
static void
run_batch(struct store *s, struct store_job *batch)
{
	bool open = exec_all(s->wdb, "BEGIN IMMEDIATE") == 0;
	struct store_job *job, *next;
	struct timespec t0, t1;

	for (job = batch; job != NULL; job = job->next) {
		job->status = STORE_UNAVAILABLE;
		if (!open)
			continue;
		if (exec_all(s->wdb, "SAVEPOINT job") < 0)
			continue;
		if (run_job(s, job) < 0) {
			job->status = STORE_UNAVAILABLE;
			exec_all(s->wdb, "ROLLBACK TO job");
		}
		exec_all(s->wdb, "RELEASE job");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (open && exec_all(s->wdb, "COMMIT") < 0) {
		fprintf(stderr, "beacon-collector: sqlite: commit: %s\n",
		    sqlite3_errmsg(s->wdb));
		exec_all(s->wdb, "ROLLBACK");
		for (job = batch; job != NULL; job = job->next)
			job->status = STORE_UNAVAILABLE;
	} else if (!open) {
		fprintf(stderr, "beacon-collector: sqlite: begin: %s\n",
		    sqlite3_errmsg(s->wdb));
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		health_commit((double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		store_touch();
	}
	for (job = batch; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		store_job_done(job);
	}
}

static void *
writer_main(void *arg)
{
	struct store *s = arg;

	struct store_job *batch;

	while ((batch = job_queue_take(&s->queue, BATCH_MAX)) != NULL)
		run_batch(s, batch);
	return NULL;
}

static int
sqlite_submit(struct store *s, struct store_job *job)
{
	return job_queue_push(&s->queue, job);
}

/* A read connection for this thread alone until give_reader. */
static struct reader *
take_reader(struct store *s)
{
	return &s->readers[lock_pool_take(&s->reader_locks)];
}

static void
give_reader(struct store *s, struct reader *r)
{
	lock_pool_give(&s->reader_locks, (unsigned)(r - s->readers));
}

static enum store_status
sqlite_lookup(struct store *s, const char *id, struct server_state *out)
{
	struct reader *r = take_reader(s);
	int found = read_state(r->select, id, out);

	give_reader(s, r);
	return found == 1 ? STORE_OK : found == 0 ? STORE_NOT_FOUND :
	    STORE_UNAVAILABLE;
}

static bool
sqlite_ping(struct store *s)
{
	struct reader *r = take_reader(s);
	bool ok = exec_all(r->db, "SELECT 1") == 0;

	give_reader(s, r);
	return ok;
}

/* Run fn in a BEGIN IMMEDIATE transaction on a pool connection, whose lock
 * (with busy_timeout) orders it against the writer. */
static int
in_transaction(sqlite3 *db, int (*fn)(sqlite3 *db, void *arg), void *arg)
{
	if (exec_all(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (fn(db, arg) < 0 || exec_all(db, "COMMIT") < 0) {
		exec_all(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

struct batch {
	time_t cutoff;
	time_t unreported;		/* retention: registrations before it */
	long established;		/* expiry: established_days */
	long done;
	char *err;
	size_t errlen;
};

/* One batch of retention: each deleted server's contribution, when it was
 * counted, and its place among the known, leave the counters with it. */
static int
retention_batch(sqlite3 *db, void *arg)
{
	struct batch *b = arg;
	sqlite3_stmt *pick = NULL, *del = NULL, *up = NULL;
	int rc = -1, step;
	long n = 0;

	b->done = 0;
	if (prepare(db, STATS_SQL_RETENTION_PICK, &pick, b->err, b->errlen) < 0 ||
	    prepare(db, STATS_SQL_DELETE_ONE, &del, b->err, b->errlen) < 0 ||
	    prepare(db, STATS_SQL_BUMP, &up, b->err, b->errlen) < 0)
		goto out;
	sqlite3_bind_int64(pick, 1, (sqlite3_int64)b->cutoff);
	sqlite3_bind_int64(pick, 2, (sqlite3_int64)b->unreported);
	while ((step = sqlite3_step(pick)) == SQLITE_ROW) {
		const char *own = (const char *)sqlite3_column_text(pick, 2);
		char *summary;

		sqlite3_bind_text(del, 1, (const char *)sqlite3_column_text(pick, 0),
		    -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(del, 2, (sqlite3_int64)b->cutoff);
		sqlite3_bind_int64(del, 3, (sqlite3_int64)b->unreported);
		if (step_done(del) < 0)
			goto out;
		if (sqlite3_changes(db) == 0)
			continue;
		b->done++;
		/* A registration never reported was never a known server. */
		if (sqlite3_column_int64(pick, 4) == 0)
			continue;
		n++;
		if (bump_first_seen(up, (time_t)sqlite3_column_int64(pick, 3),
		    -1) < 0)
			goto out;
		if (sqlite3_column_int(pick, 1) != 1 || own == NULL)
			continue;
		summary = summary_join(own,
		    (const char *)sqlite3_column_text(pick, 5));
		rc = summary == NULL || stats_diff(summary, NULL, bump, up) != 0;
		free(summary);
		if (rc != 0) {
			rc = -1;
			goto out;
		}
	}
	if (step != SQLITE_DONE || (n > 0 && bump_known(up, -n) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0 && b->err[0] == '\0')
		set_err(b->err, b->errlen, "retention", db);
	sqlite3_finalize(pick);
	sqlite3_finalize(del);
	sqlite3_finalize(up);
	return rc;
}

/* Run fn, each time in its own transaction on a read connection, until a
 * batch finds nothing more to do; the rows done in *total. */
static int
in_batches(struct store *s, int (*fn)(sqlite3 *, void *), const char *what,
    time_t cutoff, long established, time_t unreported, long *total,
    char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	struct batch b = { .cutoff = cutoff, .established = established,
	    .unreported = unreported, .err = err, .errlen = errlen };
	int rc = 0;

	*total = 0;
	err[0] = '\0';
	do {
		if (in_transaction(r->db, fn, &b) < 0) {
			if (err[0] == '\0')
				set_err(err, errlen, what, r->db);
			rc = -1;
			break;
		}
		*total += b.done;
	} while (b.done > 0);
	give_reader(s, r);
	return rc;
}

static int
sets_gc(sqlite3 *db, void *arg)
{
	(void)arg;
	return exec_all(db, STORE_SQL_SETS_GC);
}

static int
sqlite_retention(struct store *s, time_t cutoff, time_t unreported,
    long *deleted, char *err, size_t errlen)
{
	int rc = in_batches(s, retention_batch, "retention", cutoff, 0,
	    unreported, deleted, err, errlen);

	if (*deleted > 0)
		store_touch();
	if (rc == 0) {
		/* The module sets nobody refers to any more go with them. */
		struct reader *r = take_reader(s);
		if (in_transaction(r->db, sets_gc, NULL) < 0) {
			set_err(err, errlen, "module sets", r->db);
			rc = -1;
		}
		give_reader(s, r);
	}
	return rc;
}

/* One batch of expiry: servers that fell out of active_days stop counting. */
static int
expire_batch(sqlite3 *db, void *arg)
{
	struct batch *b = arg;
	sqlite3_stmt *pick = NULL, *unc = NULL, *up = NULL, *zero = NULL;
	int rc = -1, step;

	b->done = 0;
	if (prepare(db, STATS_SQL_EXPIRE_PICK, &pick, b->err, b->errlen) < 0 ||
	    prepare(db, STATS_SQL_UNCOUNT, &unc, b->err, b->errlen) < 0 ||
	    prepare(db, STATS_SQL_BUMP, &up, b->err, b->errlen) < 0 ||
	    prepare(db, STATS_SQL_ZERO, &zero, b->err, b->errlen) < 0)
		goto out;
	sqlite3_bind_int64(pick, 1, (sqlite3_int64)b->cutoff);
	sqlite3_bind_int64(pick, 2, (sqlite3_int64)b->established);
	while ((step = sqlite3_step(pick)) == SQLITE_ROW) {
		sqlite3_bind_text(unc, 1, (const char *)sqlite3_column_text(pick, 0),
		    -1, SQLITE_TRANSIENT);
		const char *own = (const char *)sqlite3_column_text(pick, 1);
		char *summary = own == NULL ? NULL : summary_join(own,
		    (const char *)sqlite3_column_text(pick, 2));
		int bad = step_done(unc) < 0 || (own != NULL &&
		    (summary == NULL || stats_diff(summary, NULL, bump, up) != 0));

		free(summary);
		if (bad)
			goto out;
		b->done++;
	}
	if (step != SQLITE_DONE || (b->done > 0 && step_done(zero) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0 && b->err[0] == '\0')
		set_err(b->err, b->errlen, "expire", db);
	sqlite3_finalize(pick);
	sqlite3_finalize(unc);
	sqlite3_finalize(up);
	sqlite3_finalize(zero);
	return rc;
}

static int
sqlite_stats_expire(struct store *s, time_t cutoff, long established,
    long *expired, char *err, size_t errlen)
{
	return in_batches(s, expire_batch, "expire", cutoff, established, 0,
	    expired, err, errlen);
}

struct daily {
	const struct stats_daily_args *a;
	char *err;
	size_t errlen;
};

static int
daily_tx(sqlite3 *db, void *arg)
{
	struct daily *d = arg;
	static const char *const sql[] = { STATS_SQL_DAILY_PRUNE,
	    STATS_SQL_DAILY, STATS_SQL_DAILY_NEW_GONE, STATS_SQL_DAILY_KEEP };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = NULL;

		if (prepare(db, sql[i], &st, d->err, d->errlen) < 0)
			return -1;
		sqlite3_bind_text(st, 1, i == 3 ? d->a->keep_since : d->a->day,
		    -1, SQLITE_STATIC);
		if (i == 2) {
			sqlite3_bind_int64(st, 2, (sqlite3_int64)d->a->gone_from);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)d->a->gone_to);
			sqlite3_bind_int64(st, 4,
			    (sqlite3_int64)d->a->established_days);
		}
		rc = step_done(st);
		if (rc < 0)
			set_err(d->err, d->errlen, "daily", db);
		sqlite3_finalize(st);
	}
	return rc;
}

static int
sqlite_stats_daily(struct store *s, const struct stats_daily_args *a,
    char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	struct daily d = { .a = a, .err = err, .errlen = errlen };
	int rc;

	err[0] = '\0';
	rc = in_transaction(r->db, daily_tx, &d);
	if (rc < 0 && err[0] == '\0')
		set_err(err, errlen, "daily", r->db);
	give_reader(s, r);
	return rc;
}

/* GET /api/v1/history's rows (store.h). */
static int
sqlite_stats_history(struct store *s, const char *since, const char *dim,
    const char *key, struct stat_rows *out, char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *st = NULL;
	int step = SQLITE_ERROR;

	if (sqlite3_prepare_v2(r->db, dim != NULL ? STATS_SQL_HISTORY_DIM :
	    STATS_SQL_HISTORY_ALL, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, since, -1, SQLITE_STATIC);
		if (dim != NULL) {
			sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
			if (key != NULL)
				sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 3);
		}
		while ((step = sqlite3_step(st)) == SQLITE_ROW)
			if (stat_rows_add(&out->history, &out->n_history,
			    (const char *)sqlite3_column_text(st, 1),
			    (const char *)sqlite3_column_text(st, 2),
			    (long long)sqlite3_column_int64(st, 3),
			    (const char *)sqlite3_column_text(st, 0)) < 0)
				break;
	}
	if (step != SQLITE_DONE)
		set_err(err, errlen, "history", r->db);
	sqlite3_finalize(st);
	give_reader(s, r);
	return step == SQLITE_DONE ? 0 : -1;
}

/* Every row of one query into rows; history rows carry their day first. */
static int
read_rows(sqlite3 *db, const char *sql, const char *param, bool history,
    struct stat_row **rows, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int step, col;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (param != NULL)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		col = history ? 1 : 0;
		if (stat_rows_add(rows, n,
		    (const char *)sqlite3_column_text(st, col),
		    (const char *)sqlite3_column_text(st, col + 1),
		    (long long)sqlite3_column_int64(st, col + 2),
		    history ? (const char *)sqlite3_column_text(st, 0) : NULL) < 0)
			break;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : -1;
}

/* The largest share of each sum (STATS_SQL_CALLS_MAX). */
static int
read_calls_max(sqlite3 *db, struct stat_rows *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, STATS_SQL_CALLS_MAX, -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->calls_max_active = sqlite3_column_int64(st, 0);
		out->calls_max_processed = sqlite3_column_int64(st, 1);
		out->calls_unknown = sqlite3_column_int64(st, 2);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* One read transaction, so that the counters and the history agree. */
static int
sqlite_stats_read(struct store *s, const char *since, struct stat_rows *out,
    char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	int rc = -1;

	if (exec_all(r->db, "BEGIN") < 0)
		goto out;
	if (read_rows(r->db, STATS_SQL_COUNTS, NULL, false, &out->counts,
	    &out->n_counts) < 0 ||
	    read_rows(r->db, STATS_SQL_HISTORY, since, true, &out->history,
	    &out->n_history) < 0 || read_calls_max(r->db, out) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		set_err(err, errlen, "statistics", r->db);
	exec_all(r->db, "COMMIT");
	give_reader(s, r);
	return rc;
}

static void
sqlite_close(struct store *s)
{
	job_queue_close(&s->queue);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	sqlite3_finalize(s->w_select);
	sqlite3_finalize(s->w_insert);
	sqlite3_finalize(s->w_update);
	sqlite3_finalize(s->w_bump);
	sqlite3_finalize(s->w_stat_get);
	sqlite3_finalize(s->w_stat_set);
	sqlite3_finalize(s->w_report_day);
	sqlite3_finalize(s->w_old);
	sqlite3_finalize(s->w_set_has);
	sqlite3_finalize(s->w_set_put);
	sqlite3_finalize(s->w_report_days);
	sqlite3_finalize(s->w_key_exists);
	sqlite3_finalize(s->w_dim_keys);
	sqlite3_close(s->wdb);
	for (int i = 0; i < READERS; i++) {
		sqlite3_finalize(s->readers[i].select);
		sqlite3_close(s->readers[i].db);
	}
	lock_pool_destroy(&s->reader_locks);
	job_queue_destroy(&s->queue);
	free(s);
}

/* The directory the database file is to be in must exist: SQLite creates
 * the file, never its directory, and says only "unable to open database
 * file" (a typo in the path).  0, or -1 with a line naming the key. */
static int
check_dir_of(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat sb;
	size_t len;

	if (slash == NULL)
		return 0;	/* the working directory */
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof dir) {
		snprintf(err, errlen, "database: path too long");
		return -1;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (stat(dir, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			snprintf(err, errlen,
			    "database: directory %s does not exist", dir);
		else
			snprintf(err, errlen, "database: directory %s: %s", dir,
			    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "database: %s is not a directory", dir);
		return -1;
	}
	return 0;
}

int
store_sqlite_open(const char *path, struct store **out, char *err,
    size_t errlen)
{
	struct store *s;

	if (path[0] == '\0') {
		snprintf(err, errlen, "sqlite: no path after sqlite:");
		return -1;
	}
	if (check_dir_of(path, err, errlen) < 0)
		return -1;
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "sqlite: out of memory");
		return -1;
	}
	s->head.ops = &sqlite_ops;
	job_queue_init(&s->queue);
	lock_pool_init(&s->reader_locks, READERS);

	if (open_conn(path, &s->wdb, err, errlen) < 0 ||
	    migrate(s->wdb, path, err, errlen) < 0 ||
	    prepare(s->wdb, sql_select, &s->w_select, err, errlen) < 0 ||
	    prepare(s->wdb, sql_insert, &s->w_insert, err, errlen) < 0 ||
	    prepare(s->wdb, sql_update, &s->w_update, err, errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_BUMP, &s->w_bump, err, errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_SERVER_GET, &s->w_stat_get, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_SERVER_SET, &s->w_stat_set, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_REPORT_DAY_SET, &s->w_report_day, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_REPORT_DAYS, &s->w_report_days, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_KEY_EXISTS, &s->w_key_exists, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STATS_SQL_DIM_KEYS, &s->w_dim_keys, err,
	    errlen) < 0 ||
	    prepare(s->wdb, STORE_SQL_OLD_REPORT, &s->w_old, err, errlen) < 0 ||
	    prepare(s->wdb, STORE_SQL_SET_HAS, &s->w_set_has, err, errlen) < 0 ||
	    prepare(s->wdb, STORE_SQL_SET_PUT, &s->w_set_put, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < READERS; i++)
		if (open_conn(path, &s->readers[i].db, err, errlen) < 0 ||
		    prepare(s->readers[i].db, sql_select,
		    &s->readers[i].select, err, errlen) < 0)
			goto fail;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "sqlite: cannot start the writer thread");
		goto fail;
	}
	s->writer_started = true;
	*out = s;
	return 0;
fail:
	sqlite_close(s);
	return -1;
}

/* ---- the fleet view ---------------------------------------------------- */

/* The filters of struct fleet_filter, shared by the page and its count:
 * ?1 version (NULL = any), ?2 module (NULL = any), ?3 stale only (0/1),
 * ?4 active_since.  v is version.name without a leading "Asterisk ". */
#define FLEET_FROM \
	" FROM (SELECT *, CASE WHEN substr(vn, 1, 9) = 'Asterisk '" \
	" THEN substr(vn, 10) ELSE vn END AS v FROM (SELECT id, first_seen," \
	" last_seen, reports, report, previous_report, modules_set," \
	" previous_modules_set," \
	" json_extract(report, '$.asterisk.version.name') AS vn FROM servers))"
#define FLEET_WHERE \
	" WHERE (?1 IS NULL OR v = ?1 OR substr(v, 1, length(?1) + 1) = ?1 || '.')" \
	" AND (?2 IS NULL OR EXISTS (SELECT 1 FROM module_sets m, json_each(m.body)" \
	" WHERE m.hash = modules_set" \
	" AND json_extract(value, '$.name') IN (?2, ?2 || '.so')))" \
	" AND (?3 = 0 OR last_seen < ?4)"
#define FLEET_COLUMNS \
	"SELECT id, first_seen, last_seen, reports," \
	" json_extract(report, '$.private_name'), v," \
	" CASE WHEN report IS NULL THEN -1 ELSE" \
	" coalesce((SELECT json_array_length(body) FROM module_sets" \
	" WHERE hash = modules_set), 0) END," \
	" json_extract(report, '$.asterisk.stats.run_time.startup_time')," \
	" json_extract(report, '$.asterisk.stats.calls.active')," \
	" json_extract(report, '$.asterisk.stats.calls.processed')," \
	" json_extract(report, '$.operating_system.sys_name')," \
	" json_extract(report, '$.operating_system.release')," \
	" json_extract(report, '$.operating_system.machine')," \
	" json_extract(report, '$.operating_system.cpu_count')," \
	" json_extract(report, '$.operating_system.memory_total_kb')," \
	" json_extract(report, '$.operating_system.uptime')"

static const char sql_fleet_page[] = FLEET_COLUMNS FLEET_FROM FLEET_WHERE
	" ORDER BY last_seen DESC, id LIMIT ?5 OFFSET ?6";
static const char sql_fleet_count[] = "SELECT count(*)" FLEET_FROM FLEET_WHERE;
static const char sql_fleet_get[] = FLEET_COLUMNS ", report, previous_report, "
	STORE_SQL_SET_BODY("modules_set") ", "
	STORE_SQL_SET_BODY("previous_modules_set") FLEET_FROM " WHERE id = ?1";

static void
bind_fleet_filter(sqlite3_stmt *st, const struct fleet_filter *f)
{
	if (f->version != NULL)
		sqlite3_bind_text(st, 1, f->version, -1, SQLITE_STATIC);
	if (f->module != NULL)
		sqlite3_bind_text(st, 2, f->module, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, f->stale_only ? 1 : 0);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->active_since);
}

static char *
column_dup(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*oom = true;
	return copy;
}

/* An integer column, -1 when NULL or not an integer. */
static long long
column_ll(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_INTEGER ?
	    (long long)sqlite3_column_int64(st, col) : -1;
}

/* The row st is on into out; false when out of memory. */
static bool
fleet_row(sqlite3_stmt *st, struct fleet_server *out, bool both)
{
	const unsigned char *id = sqlite3_column_text(st, 0);
	bool oom = false;

	memset(out, 0, sizeof *out);
	if (id != NULL)
		snprintf(out->id, sizeof out->id, "%s", (const char *)id);
	out->first_seen = (time_t)sqlite3_column_int64(st, 1);
	out->last_seen = (time_t)sqlite3_column_int64(st, 2);
	out->reports = (long)sqlite3_column_int64(st, 3);
	out->private_name = column_dup(st, 4, &oom);
	out->version = column_dup(st, 5, &oom);
	out->modules = (long)sqlite3_column_int64(st, 6);
	out->startup_time = column_dup(st, 7, &oom);
	out->calls_active = sqlite3_column_type(st, 8) == SQLITE_INTEGER ?
	    (long long)sqlite3_column_int64(st, 8) : -1;
	out->calls_processed = sqlite3_column_type(st, 9) == SQLITE_INTEGER ?
	    (long long)sqlite3_column_int64(st, 9) : -1;
	out->sys_name = column_dup(st, 10, &oom);
	out->kernel = column_dup(st, 11, &oom);
	out->machine = column_dup(st, 12, &oom);
	out->cpus = column_ll(st, 13);
	out->memory_kb = column_ll(st, 14);
	out->os_uptime = column_ll(st, 15);
	/* the report without its modules, the one before as a diff of it,
	 * and their module sets' bodies (pack.h) */
	if (both && sqlite3_column_type(st, 16) != SQLITE_NULL &&
	    fleet_unpack(out, (const char *)sqlite3_column_text(st, 16),
	    (const char *)sqlite3_column_text(st, 18),
	    (const char *)sqlite3_column_text(st, 17),
	    (const char *)sqlite3_column_text(st, 19)) < 0)
		oom = true;
	return !oom;
}

static enum store_status
sqlite_fleet_list(struct store *s, const struct fleet_filter *f,
    struct fleet_list *out)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *page = NULL, *cnt = NULL;
	enum store_status status = STORE_UNAVAILABLE;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql_fleet_count, -1, &cnt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, sql_fleet_page, -1, &page, NULL) != SQLITE_OK)
		goto out;
	bind_fleet_filter(cnt, f);
	if (sqlite3_step(cnt) != SQLITE_ROW)
		goto out;
	out->total = (long)sqlite3_column_int64(cnt, 0);
	bind_fleet_filter(page, f);
	sqlite3_bind_int64(page, 5, f->limit > 0 ? f->limit : 1);
	sqlite3_bind_int64(page, 6, f->offset > 0 ? f->offset : 0);
	while ((rc = sqlite3_step(page)) == SQLITE_ROW) {
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct fleet_server *ns = realloc(out->servers,
			    ncap * sizeof *ns);
			if (ns == NULL)
				goto out;
			out->servers = ns;
			cap = ncap;
		}
		if (!fleet_row(page, &out->servers[out->n++], false))
			goto out;
	}
	if (rc == SQLITE_DONE)
		status = STORE_OK;
out:
	if (status != STORE_OK) {
		fprintf(stderr, "beacon-collector: sqlite: fleet: %s\n",
		    sqlite3_errmsg(r->db));
		fleet_list_free(out);
	}
	sqlite3_finalize(cnt);
	sqlite3_finalize(page);
	give_reader(s, r);
	return status;
}

static enum store_status
sqlite_fleet_get(struct store *s, const char *id, struct fleet_server *out)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *st = NULL;
	enum store_status status = STORE_UNAVAILABLE;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql_fleet_get, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		status = fleet_row(st, out, true) ? STORE_OK : STORE_UNAVAILABLE;
	else if (rc == SQLITE_DONE)
		status = STORE_NOT_FOUND;
out:
	if (status == STORE_UNAVAILABLE)
		fleet_server_free(out);
	sqlite3_finalize(st);
	give_reader(s, r);
	return status;
}

/* ---- each server's changes (changes_sql.h) ----------------------------- */

static int
changes_create(sqlite3 *db)
{
	static const char *const sql[] = { CHANGES_SQL_CREATE_SQLITE, NULL };

	for (const char *const *q = sql; *q != NULL; q++)
		if (exec_all(db, *q) < 0)
			return -1;
	return 0;
}

/* The rows of job's report against the one before (changes.h), and the
 * server's rows past history_days pruned: in the writer's transaction,
 * after the UPDATE (report and previous_report are this one and the one
 * before) and before the summary is replaced. */
static int
changes_record(sqlite3 *db, const struct store_job *job)
{
	sqlite3_stmt *prev = NULL, *ins = NULL, *prune = NULL;
	struct change_list l = { 0 };
	int rc = -1, how;

	if (sqlite3_prepare_v2(db, CHANGES_SQL_PREVIOUS, -1, &prev,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, CHANGES_SQL_INSERT, -1,
	    &ins, NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
	    CHANGES_SQL_PRUNE_ONE, -1, &prune, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(prev, 1, job->server_id, -1, SQLITE_STATIC);
	if (sqlite3_step(prev) != SQLITE_ROW)
		goto out;
	how = changes_for_job(job, (const char *)sqlite3_column_text(prev, 0),
	    (const char *)sqlite3_column_text(prev, 1),
	    (const char *)sqlite3_column_text(prev, 2),
	    (const char *)sqlite3_column_text(prev, 3),
	    (const char *)sqlite3_column_text(prev, 4), &l);
	if (how < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		sqlite3_bind_text(ins, 1, job->server_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)job->now);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)i);
		sqlite3_bind_text(ins, 4, l.v[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, l.v[i].detail, -1, SQLITE_STATIC);
		if (step_done(ins) < 0)
			goto out;
	}
	sqlite3_bind_text(prune, 1, job->server_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(prune, 2, (sqlite3_int64)job->history_since);
	rc = step_done(prune);
out:
	change_list_free(&l);
	sqlite3_finalize(prev);
	sqlite3_finalize(ins);
	sqlite3_finalize(prune);
	return rc;
}

static enum store_status
sqlite_fleet_history(struct store *s, const char *id, time_t since,
    long limit, struct fleet_history *out)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *st = NULL;
	enum store_status status = STORE_UNAVAILABLE;
	size_t cap = 0;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(r->db, CHANGES_SQL_READ, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool oom = false;

		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct fleet_change *nv = realloc(out->v, ncap * sizeof *nv);
			if (nv == NULL)
				goto out;
			out->v = nv;
			cap = ncap;
		}
		out->v[out->n].at = (time_t)sqlite3_column_int64(st, 0);
		out->v[out->n].kind = column_dup(st, 1, &oom);
		out->v[out->n++].detail = column_dup(st, 2, &oom);
		if (oom)
			goto out;
	}
	if (rc == SQLITE_DONE)
		status = STORE_OK;
out:
	if (status != STORE_OK)
		fleet_history_free(out);
	sqlite3_finalize(st);
	give_reader(s, r);
	return status;
}

static int
sqlite_changes_prune(struct store *s, time_t cutoff, long *deleted,
    char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (prepare(r->db, CHANGES_SQL_PRUNE, &st, err, errlen) == 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
		if (step_done(st) == 0) {
			*deleted = (long)sqlite3_changes(r->db);
			rc = 0;
		} else {
			set_err(err, errlen, "changes", r->db);
		}
	}
	sqlite3_finalize(st);
	give_reader(s, r);
	return rc;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.submit = sqlite_submit,
	.lookup = sqlite_lookup,
	.ping = sqlite_ping,
	.retention = sqlite_retention,
	.stats_read = sqlite_stats_read,
	.stats_expire = sqlite_stats_expire,
	.stats_daily = sqlite_stats_daily,
	.stats_history = sqlite_stats_history,
	.fleet_list = sqlite_fleet_list,
	.fleet_get = sqlite_fleet_get,
	.fleet_history = sqlite_fleet_history,
	.changes_prune = sqlite_changes_prune,
};
