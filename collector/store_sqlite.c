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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_backend.h"
#define STORE_SQL_PARAM(n) "?" #n
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

/* migrations[v] brings a database from version v to v + 1. */
static const char *const *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,
};

static const char sql_select[] = STORE_SQL_SELECT;
static const char sql_insert[] = STORE_SQL_INSERT;
static const char sql_update[] = STORE_SQL_UPDATE;
static const char sql_retention[] = STORE_SQL_RETENTION;

struct reader {
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *select;
};

struct store {
	struct store_head head;

	sqlite3 *wdb;			/* the writer thread's only */
	sqlite3_stmt *w_select, *w_insert, *w_update;
	pthread_t writer;
	bool writer_started;

	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct store_job *qhead, **qtail;
	bool closing;

	struct reader readers[READERS];
	unsigned next_reader;		/* round robin, under qlock */
};

static const struct store_ops sqlite_ops;

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

/* One job inside the writer's open transaction; its status says what
 * happened.  -1 only when SQLite failed (the job's savepoint is undone). */
static int
run_job(struct store *s, struct store_job *job)
{
	struct server_state state;
	int found;

	if (job->kind == STORE_JOB_REGISTER) {
		sqlite3_bind_text(s->w_insert, 1, job->server_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->w_insert, 2, job->new_token.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->w_insert, 3, (sqlite3_int64)job->new_token.issued);
		sqlite3_bind_int64(s->w_insert, 4, (sqlite3_int64)job->now);
		if (step_done(s->w_insert) < 0)
			return -1;
		job->token = job->new_token;
		job->status = STORE_OK;
		return 0;
	}
	found = read_state(s->w_select, job->server_id, &state);
	if (found < 0)
		return -1;
	job->status = store_decide_update(job, found == 1, &state);
	if (job->status != STORE_OK)
		return 0;
	sqlite3_bind_text(s->w_update, 1, job->server_id, -1, SQLITE_STATIC);
	bind_token(s->w_update, 2, &state.tokens.current);
	bind_token(s->w_update, 4, &state.tokens.previous);
	sqlite3_bind_int64(s->w_update, 6, (sqlite3_int64)state.last_seen);
	sqlite3_bind_int64(s->w_update, 7, (sqlite3_int64)state.last_update);
	sqlite3_bind_int64(s->w_update, 8, (sqlite3_int64)state.reports);
	sqlite3_bind_text(s->w_update, 9, job->report, (int)job->report_len,
	    SQLITE_STATIC);
	return step_done(s->w_update);
}

/* One group commit: every job of the batch, one COMMIT, then done(). */
static void
run_batch(struct store *s, struct store_job *batch)
{
	bool open = exec_all(s->wdb, "BEGIN IMMEDIATE") == 0;
	struct store_job *job, *next;

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
	if (open && exec_all(s->wdb, "COMMIT") < 0) {
		fprintf(stderr, "beacon-collector: sqlite: commit: %s\n",
		    sqlite3_errmsg(s->wdb));
		exec_all(s->wdb, "ROLLBACK");
		for (job = batch; job != NULL; job = job->next)
			job->status = STORE_UNAVAILABLE;
	} else if (!open) {
		fprintf(stderr, "beacon-collector: sqlite: begin: %s\n",
		    sqlite3_errmsg(s->wdb));
	}
	for (job = batch; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		job->done(job);
	}
}

static void *
writer_main(void *arg)
{
	struct store *s = arg;

	for (;;) {
		struct store_job *batch, **tail;
		int n = 0;

		pthread_mutex_lock(&s->qlock);
		while (s->qhead == NULL && !s->closing)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (s->qhead == NULL) {
			pthread_mutex_unlock(&s->qlock);
			break;
		}
		batch = s->qhead;
		for (tail = &s->qhead; *tail != NULL && n < BATCH_MAX; n++)
			tail = &(*tail)->next;
		s->qhead = *tail;
		*tail = NULL;
		if (s->qhead == NULL)
			s->qtail = &s->qhead;
		pthread_mutex_unlock(&s->qlock);
		run_batch(s, batch);
	}
	return NULL;
}

static int
sqlite_submit(struct store *s, struct store_job *job)
{
	pthread_mutex_lock(&s->qlock);
	if (s->closing) {
		pthread_mutex_unlock(&s->qlock);
		return -1;
	}
	job->next = NULL;
	*s->qtail = job;
	s->qtail = &job->next;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

static struct reader *
take_reader(struct store *s)
{
	unsigned start;

	for (unsigned i = 0; i < READERS; i++)
		if (pthread_mutex_trylock(&s->readers[i].lock) == 0)
			return &s->readers[i];
	pthread_mutex_lock(&s->qlock);
	start = s->next_reader++ % READERS;
	pthread_mutex_unlock(&s->qlock);
	pthread_mutex_lock(&s->readers[start].lock);
	return &s->readers[start];
}

static enum store_status
sqlite_lookup(struct store *s, const char *id, struct server_state *out)
{
	struct reader *r = take_reader(s);
	int found = read_state(r->select, id, out);

	pthread_mutex_unlock(&r->lock);
	return found == 1 ? STORE_OK : found == 0 ? STORE_NOT_FOUND :
	    STORE_UNAVAILABLE;
}

static bool
sqlite_ping(struct store *s)
{
	struct reader *r = take_reader(s);
	bool ok = exec_all(r->db, "SELECT 1") == 0;

	pthread_mutex_unlock(&r->lock);
	return ok;
}

static int
sqlite_retention(struct store *s, time_t cutoff, long *deleted, char *err,
    size_t errlen)
{
	struct reader *r = take_reader(s);
	sqlite3_stmt *st = NULL;
	int rc = -1, changed;

	*deleted = 0;
	if (prepare(r->db, sql_retention, &st, err, errlen) < 0)
		goto out;
	do {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
		if (step_done(st) < 0) {
			set_err(err, errlen, "retention", r->db);
			goto out;
		}
		changed = sqlite3_changes(r->db);
		*deleted += changed;
	} while (changed > 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void
sqlite_close(struct store *s)
{
	pthread_mutex_lock(&s->qlock);
	s->closing = true;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	sqlite3_finalize(s->w_select);
	sqlite3_finalize(s->w_insert);
	sqlite3_finalize(s->w_update);
	sqlite3_close(s->wdb);
	for (int i = 0; i < READERS; i++) {
		sqlite3_finalize(s->readers[i].select);
		sqlite3_close(s->readers[i].db);
		pthread_mutex_destroy(&s->readers[i].lock);
	}
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	free(s);
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
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "sqlite: out of memory");
		return -1;
	}
	s->head.ops = &sqlite_ops;
	s->qtail = &s->qhead;
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_mutex_init(&s->readers[i].lock, NULL);

	if (open_conn(path, &s->wdb, err, errlen) < 0 ||
	    migrate(s->wdb, path, err, errlen) < 0 ||
	    prepare(s->wdb, sql_select, &s->w_select, err, errlen) < 0 ||
	    prepare(s->wdb, sql_insert, &s->w_insert, err, errlen) < 0 ||
	    prepare(s->wdb, sql_update, &s->w_update, err, errlen) < 0)
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

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.submit = sqlite_submit,
	.lookup = sqlite_lookup,
	.ping = sqlite_ping,
	.retention = sqlite_retention,
};
