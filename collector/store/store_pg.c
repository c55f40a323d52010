/*
 * The PostgreSQL backend (COLLECTOR.md §5): the same table `servers` as
 * SQLite, the same decisions (store_decide_update), for several collector
 * processes sharing one database behind a load balancer.
 *
 * Writes: a pool of WORKERS threads, each with its own PGconn, takes jobs
 * one at a time from the queue and runs each in its own transaction; done()
 * is called after COMMIT has returned, as with SQLite.  Concurrency across
 * processes is settled by a row lock, see run_update().  PostgreSQL groups
 * the concurrent COMMITs' WAL flushes itself, so a transaction per job costs
 * far less than one fsync each.
 *
 * Reads (lookup, ping) come from any MHD thread: a small pool of read
 * connections, one mutex each, in autocommit.
 *
 * Statistics (stats.h): the changes of the counters are written in the
 * report's own transaction (count_update, under the row lock), but as
 * rows appended to stat_deltas that one thread folds into stat_counts
 * (see "the counters' changes"); retention and expiry take theirs away in
 * batches on a read connection (reader_tx), and the fleet view and the
 * snapshot read in one REPEATABLE READ transaction.
 *
 * Faults: every connection notices by itself that it is broken (PQstatus)
 * and is reset on its next use, at most once per backoff period (100 ms
 * doubling to 2 s, for as long as no other connection has come back), its
 * statements prepared again; while the database is
 * down a job or a lookup fails at once with STORE_UNAVAILABLE (503) rather
 * than waiting.  A transaction that failed before its COMMIT was sent on a
 * connection found broken is retried once on a fresh connection (a restart
 * leaves every pooled connection stale); one that failed with SQLSTATE
 * 40001 or 40P01 is retried up to RETRIES times.  A COMMIT whose answer was
 * lost is never retried: the answer is 503 and the client's next report
 * decides (its token is still valid either way).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "../base/changes.h"
#include "../base/health.h"
#include "../base/summary.h"
#include "store_backend.h"
#include "store_pool.h"
#define STORE_SQL_PARAM(n) "$" #n
#include "changes_sql.h"
#include "stats_sql.h"
#include "store_sql.h"

#define WORKERS 8
#define READERS 4
#define RETRIES 5
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define PING_TIMEOUT_MS 2000
#define CONNECT_TIMEOUT_S "5"	/* unless the URI names its own */

/* Any constants of ours: the keys of the migration's advisory lock and
 * of the counters' fold. */
#define MIGRATION_LOCK_KEY "4242771417"
#define FOLD_LOCK_KEY "4242771418"
#define FOLD_INTERVAL_MS 1000
#define FOLD_AGAIN_ROWS 50000	/* a fold this big: the next one at once */

static const char *const schema_v1[] = {
	"CREATE TABLE servers ("
	" id TEXT PRIMARY KEY,"
	" token_id TEXT NOT NULL,"
	" token_issued BIGINT NOT NULL,"
	" prev_token_id TEXT,"
	" prev_token_issued BIGINT,"
	" first_seen BIGINT NOT NULL,"
	" last_seen BIGINT NOT NULL,"
	" last_update BIGINT,"
	" reports BIGINT NOT NULL DEFAULT 0,"
	" report TEXT,"
	" previous_report TEXT)",
	STORE_SQL_INDEX,
	NULL,
};

/* The statistics' counters (base/summary.c, stats/stats.c, stats_sql.h), as SQLite's schema 2
 * with BIGINT counts.  Servers stored by version 1 are not counted until
 * their next report. */
static const char *const schema_v2[] = {
	STATS_SQL_V2_SUMMARY,
	STATS_SQL_V2_COUNTED,
	STATS_SQL_V2_INDEX_COUNTED,
	"CREATE TABLE stat_counts ("
	" dimension TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" n BIGINT NOT NULL,"
	" PRIMARY KEY (dimension, key))",
	"CREATE TABLE stats_daily ("
	" day TEXT NOT NULL,"
	" dimension TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" n BIGINT NOT NULL,"
	" PRIMARY KEY (day, dimension, key))",
	STATS_SQL_V2_SEED,
	"INSERT INTO stat_counts (dimension, key, n)"
	" SELECT 'first_seen',"
	" to_char(to_timestamp(first_seen) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
	" count(*) FROM servers GROUP BY 2",
	NULL,
};

/* The counters' changes, appended by the writers and folded into
 * stat_counts by one consumer (see "the counters' changes" below); the
 * view is what every reader reads: the counters as they stand. */
static const char *const schema_v3[] = {
	"CREATE TABLE stat_deltas ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" dimension TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" n BIGINT NOT NULL)",
	"CREATE VIEW stat_current AS SELECT dimension, key, sum(n)::bigint AS n"
	" FROM (SELECT dimension, key, n FROM stat_counts"
	" UNION ALL SELECT dimension, key, n FROM stat_deltas) c"
	" GROUP BY dimension, key",
	NULL,
};

/* Established servers and the largest share of a sum: as SQLite's
 * schema 4 (store_sqlite.c says why the days are estimated so). */
#define PG_DAY(col) "to_char(to_timestamp(" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
static const char *const schema_v4[] = {
	"ALTER TABLE servers ADD COLUMN report_days BIGINT NOT NULL DEFAULT 0",
	"ALTER TABLE servers ADD COLUMN last_report_day TEXT",
	"ALTER TABLE servers ADD COLUMN calls_active BIGINT",
	"ALTER TABLE servers ADD COLUMN calls_processed BIGINT",
	"UPDATE servers SET report_days = CASE WHEN " PG_DAY("first_seen")
	" <> " PG_DAY("last_seen") " AND reports >= 2 THEN 2 ELSE 1 END,"
	" last_report_day = " PG_DAY("last_seen") " WHERE reports > 0",
	"DELETE FROM stat_deltas WHERE dimension IN ('known', 'first_seen')",
	STATS_SQL_V4_KNOWN,
	STATS_SQL_V4_FIRST_SEEN_DROP,
	"INSERT INTO stat_counts (dimension, key, n)"
	" SELECT 'first_seen', " PG_DAY("first_seen") ", count(*)"
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

/* The changes of one transaction, as a JSON array of [dimension, key, n]
 * (made with jansson, bound as one parameter): one statement per
 * transaction however many counters change. */
#define PG_DELTAS_INSERT \
	"INSERT INTO stat_deltas (dimension, key, n)" \
	" SELECT e ->> 0, e ->> 1, (e ->> 2)::bigint" \
	" FROM json_array_elements($1::json) e"

/* Which of the (dimension, key) pairs of $1 (a JSON array of [dim, key])
 * are counted by name now, each as "DIM<tab>KEY": one round trip for the
 * thousand keys of a new PBX's first report, where key_exists would take
 * a thousand. */
#define PG_KEYS_EXIST \
	"SELECT dimension || chr(9) || key FROM stat_current WHERE n > 0" \
	" AND (dimension, key) IN (SELECT e ->> 0, e ->> 1" \
	" FROM json_array_elements($1::json) e)"

/* Every delta committed so far into stat_counts, in one statement (a
 * data-modifying WITH runs once, whatever reads it): one row per counter,
 * so ON CONFLICT meets each at most once.  Deltas committed while it runs
 * are not in its snapshot and wait for the next fold.  Its one row is the
 * number of deltas folded. */
#define PG_FOLD \
	"WITH d AS (DELETE FROM stat_deltas RETURNING dimension, key, n)," \
	" f AS (INSERT INTO stat_counts (dimension, key, n)" \
	" SELECT dimension, key, sum(n) FROM d GROUP BY dimension, key" \
	" ON CONFLICT (dimension, key)" \
	" DO UPDATE SET n = stat_counts.n + excluded.n)" \
	" SELECT count(*) FROM d"

/*
 * The fleet view (store.h), SQLite's sql_fleet_* in PostgreSQL's dialect:
 * jsonb operators where SQLite has json_extract, and guards where
 * PostgreSQL would raise an error on a value of the wrong JSON type (a
 * length or the elements of a non-array, a number that is not an
 * integer) while SQLite answers NULL.  The ids are ordered bytewise
 * (COLLATE "C"), as SQLite does, whatever the database's collation.
 * $1 version (NULL = any), $2 module (NULL = any), $3 stale only,
 * $4 active_since; v is version.name without a leading "Asterisk ".
 */
#define PG_FLEET_FROM \
	" FROM (SELECT j.*, regexp_replace(r #>> '{asterisk,version,name}'," \
	" '^Asterisk ', '') AS v FROM (SELECT id, first_seen, last_seen," \
	" reports, report, previous_report, modules_set, previous_modules_set," \
	" report::jsonb AS r FROM servers) j) f"
#define PG_FLEET_WHERE \
	" WHERE ($1::text IS NULL OR v = $1 OR left(v, length($1) + 1) = $1 || '.')" \
	" AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM module_sets s," \
	" jsonb_array_elements(s.body::jsonb) m WHERE s.hash = modules_set" \
	" AND m ->> 'name' IN ($2, $2 || '.so')))" \
	" AND (NOT $3::boolean OR last_seen < $4::bigint)"
#define PG_FLEET_INT(path) \
	" CASE WHEN jsonb_typeof(r #> '" path "') = 'number' AND" \
	" (r #>> '" path "') ~ '^-?[0-9]{1,18}$' THEN (r #>> '" path "')::bigint END"
#define PG_FLEET_COLUMNS \
	"SELECT id, first_seen, last_seen, reports, r ->> 'private_name', v," \
	" CASE WHEN r IS NULL THEN -1 ELSE coalesce((SELECT" \
	" jsonb_array_length(body::jsonb) FROM module_sets" \
	" WHERE hash = modules_set), 0) END," \
	" r #>> '{asterisk,stats,run_time,startup_time}'," \
	PG_FLEET_INT("{asterisk,stats,calls,active}") "," \
	PG_FLEET_INT("{asterisk,stats,calls,processed}") "," \
	" r #>> '{operating_system,sys_name}'," \
	" r #>> '{operating_system,release}'," \
	" r #>> '{operating_system,machine}'," \
	PG_FLEET_INT("{operating_system,cpu_count}") "," \
	PG_FLEET_INT("{operating_system,memory_total_kb}") "," \
	PG_FLEET_INT("{operating_system,uptime}")

/* The prepared statements every connection has, by name. */
static const struct {
	const char *name;
	const char *sql;
	int nparams;
} statements[] = {
	{ "select", STORE_SQL_SELECT, 1 },
	{ "select_for_update", STORE_SQL_SELECT " FOR UPDATE", 1 },
	{ "insert", STORE_SQL_INSERT, 4 },
	{ "update", STORE_SQL_UPDATE, 11 },
	{ "old_report", STORE_SQL_OLD_REPORT, 1 },
	{ "set_has", STORE_SQL_SET_HAS, 1 },
	{ "set_put", STORE_SQL_SET_PUT, 2 },
	/* Held to COMMIT by every writer that refers to a set: the garbage
	 * collection (EXCLUSIVE) waits for them, so it never sees a set
	 * unreferenced whose reference is about to be committed. */
	{ "sets_lock", "LOCK TABLE module_sets IN ROW SHARE MODE", 0 },
	/* statistics: the write transactions' bookkeeping */
	{ "deltas", PG_DELTAS_INSERT, 1 },
	{ "fold_try_lock", "SELECT pg_try_advisory_xact_lock(" FOLD_LOCK_KEY ")", 0 },
	{ "fold_lock", "SELECT pg_advisory_xact_lock(" FOLD_LOCK_KEY "), true", 0 },
	{ "fold", PG_FOLD, 0 },
	{ "stat_get", STATS_SQL_SERVER_GET, 1 },
	{ "stat_set", STATS_SQL_SERVER_SET, 4 },
	{ "report_day", STATS_SQL_REPORT_DAY, 4 },
	{ "key_exists", STATS_SQL_KEY_EXISTS, 2 },
	{ "keys_exist", PG_KEYS_EXIST, 1 },
	{ "dim_keys", STATS_SQL_DIM_KEYS, 1 },
	{ "calls_max", STATS_SQL_CALLS_MAX, 0 },
	/* retention and expiry: the picked rows locked (a report of one of
	 * them waits, or is skipped until the next batch) so that the
	 * summary subtracted is the one stored */
	{ "retention_pick", STATS_SQL_RETENTION_PICK " FOR UPDATE SKIP LOCKED", 2 },
	{ "delete_one", STATS_SQL_DELETE_ONE, 3 },
	{ "expire_pick", STATS_SQL_EXPIRE_PICK " FOR UPDATE SKIP LOCKED", 2 },
	{ "uncount", STATS_SQL_UNCOUNT, 1 },
	{ "zero", STATS_SQL_ZERO, 0 },	/* the fold's */
	{ "counts", STATS_SQL_COUNTS, 0 },
	{ "history", STATS_SQL_HISTORY, 1 },
	{ "daily_prune", STATS_SQL_DAILY_PRUNE, 1 },
	{ "daily", STATS_SQL_DAILY, 1 },
	{ "daily_new_gone", STATS_SQL_DAILY_NEW_GONE, 4 },
	{ "daily_keep", STATS_SQL_DAILY_KEEP, 1 },
	{ "history_dim", STATS_SQL_HISTORY_DIM, 3 },
	{ "history_all", STATS_SQL_HISTORY_ALL, 1 },
	/* the fleet view */
	{ "fleet_page", PG_FLEET_COLUMNS PG_FLEET_FROM PG_FLEET_WHERE
	    " ORDER BY last_seen DESC, id COLLATE \"C\" LIMIT $5 OFFSET $6", 6 },
	{ "fleet_count", "SELECT count(*)" PG_FLEET_FROM PG_FLEET_WHERE, 4 },
	{ "fleet_get", PG_FLEET_COLUMNS ", report, previous_report, "
	    STORE_SQL_SET_BODY("modules_set") ", "
	    STORE_SQL_SET_BODY("previous_modules_set")
	    PG_FLEET_FROM " WHERE id = $1", 1 },
	/* each server's changes (changes_sql.h) */
	{ "changes_previous", CHANGES_SQL_PREVIOUS, 1 },
	{ "changes_insert", CHANGES_SQL_INSERT, 5 },
	{ "changes_prune_one", CHANGES_SQL_PRUNE_ONE, 2 },
	{ "changes_prune", CHANGES_SQL_PRUNE, 1 },
	{ "changes_read", CHANGES_SQL_READ, 3 },
};

/* One connection with what it needs to come back after a fault. */
struct conn {
	PGconn *pg;
	bool ready;			/* connected and statements prepared */
	struct timespec next_try;	/* no reconnection before */
	long backoff_ms;
};

struct reader {
	struct conn c;
};

struct worker {
	struct store *s;
	pthread_t thread;
	bool started;
	struct conn c;
};

/* The one thread of this process that folds the counters' deltas. */
struct folder {
	pthread_t thread;
	bool started;
	struct conn c;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* CLOCK_MONOTONIC */
	bool stop;			/* under lock */
};

struct store {
	struct store_head head;
	char *uri;

	struct job_queue queue;

	struct worker workers[WORKERS];
	struct reader readers[READERS];
	struct lock_pool reader_locks;	/* one per reader */
	struct folder folder;

	pthread_mutex_t down_lock;
	bool down;			/* a loss was logged; under down_lock */
};

static const struct store_ops pg_ops;

/* libpq's message on one line: its newlines and tabs become spaces, the
 * trailing ones go. */
static void
one_line(char *dst, size_t dstlen, const char *msg)
{
	size_t n = 0;
	bool space = false;

	for (; msg != NULL && *msg != '\0' && n + 1 < dstlen; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r' || *msg == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < dstlen)
			dst[n++] = ' ';
		space = false;
		dst[n++] = *msg;
	}
	if (dstlen > 0)
		dst[n] = '\0';
}

static void
set_err(char *err, size_t errlen, const char *what, const char *msg)
{
	int n = snprintf(err, errlen, "postgresql: %s: ", what);

	if (n >= 0 && (size_t)n < errlen)
		one_line(err + n, errlen - (size_t)n, msg);
}

/* Connect: the URI expanded as dbname, after our defaults, so that the
 * URI's own connect_timeout (or client_encoding...) wins over ours. */
static PGconn *
connect_uri(const char *uri)
{
	static const char *const keywords[] = {
		"connect_timeout", "application_name", "client_encoding",
		"options", "dbname", NULL,
	};
	/* No transaction of ours is ever idle for long: one left open by a
	 * stopped or stuck process would hold a server's row lock or the
	 * fold's advisory lock; PostgreSQL ends it after a minute (unless
	 * the URI has options of its own, which then win). */
	const char *values[] = {
		CONNECT_TIMEOUT_S, "beacon-collector", "UTF8",
		"-c idle_in_transaction_session_timeout=60000", uri, NULL,
	};

	return PQconnectdbParams(keywords, values, 1);
}

static bool
res_ok(PGresult *res)
{
	ExecStatusType t = PQresultStatus(res);

	return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
}

/* A simple command without parameters (BEGIN, COMMIT...); 0 or -1. */
static int
exec_cmd(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int rc = res_ok(res) ? 0 : -1;

	PQclear(res);
	return rc;
}

static int
prepare_all(PGconn *pg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		PGresult *res = PQprepare(pg, statements[i].name,
		    statements[i].sql, statements[i].nparams, NULL);
		bool ok = res_ok(res);

		if (!ok)
			set_err(err, errlen, "prepare", PQresultErrorMessage(res));
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

static void
ts_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool
ts_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* One line when the database goes away and one when it is back, not one
 * per pooled connection. */
static void
say_down(struct store *s, bool down, const char *what, const char *msg)
{
	char err[512];
	bool say;

	pthread_mutex_lock(&s->down_lock);
	say = s->down != down;
	s->down = down;
	pthread_mutex_unlock(&s->down_lock);
	if (!say)
		return;
	if (down) {
		set_err(err, sizeof err, what, msg);
		fprintf(stderr, "beacon-collector: %s\n", err);
	} else {
		fprintf(stderr, "beacon-collector: postgresql: reconnected\n");
	}
}

static bool
store_down(struct store *s)
{
	bool down;

	pthread_mutex_lock(&s->down_lock);
	down = s->down;
	pthread_mutex_unlock(&s->down_lock);
	return down;
}

/*
 * Make c usable: 0 when it is (reconnected and prepared again if it had
 * been lost), -1 at once when it is down and its backoff has not passed,
 * or when this attempt failed (the backoff doubles).
 */
static int
conn_ensure(struct store *s, struct conn *c)
{
	char err[512];

	if (c->ready && PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	if (c->ready) {
		c->ready = false;
		say_down(s, true, "connection lost", PQerrorMessage(c->pg));
	}
	/* The backoff holds while the database is known to be down; once
	 * another connection has come back, this one tries at once. */
	if (!ts_passed(&c->next_try) && store_down(s))
		return -1;
	if (c->pg == NULL)
		c->pg = connect_uri(s->uri);
	else
		PQreset(c->pg);
	if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK &&
	    prepare_all(c->pg, err, sizeof err) == 0) {
		c->ready = true;
		c->backoff_ms = 0;
		say_down(s, false, NULL, NULL);
		return 0;
	}
	c->backoff_ms = c->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    c->backoff_ms * 2;
	ts_after_ms(&c->next_try, c->backoff_ms);
	say_down(s, true, "reconnect", c->pg != NULL ?
	    PQerrorMessage(c->pg) : "out of memory");
	return -1;
}

/* A connection for open(): connected now, or libpq's words in err. */
static int
conn_first(struct store *s, struct conn *c, char *err, size_t errlen)
{
	c->pg = connect_uri(s->uri);
	if (c->pg == NULL) {
		snprintf(err, errlen, "postgresql: out of memory");
		return -1;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect", PQerrorMessage(c->pg));
		return -1;
	}
	if (prepare_all(c->pg, err, errlen) < 0)
		return -1;
	c->ready = true;
	return 0;
}

/* ---- schema ------------------------------------------------------------ */

/* Schema 4 to 5: every server's reports and summary in their compact
 * forms (pack.h), inside the migration's transaction, through a cursor
 * (a large database does not fit in memory at once). */
static int
migrate_v5_rows(PGconn *pg, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, "DECLARE v5 NO SCROLL CURSOR FOR "
	    STORE_SQL_V5_PICK);
	int n;

	if (!res_ok(res))
		goto resfail;
	do {
		PQclear(res);
		res = PQexec(pg, "FETCH 200 FROM v5");
		if (!res_ok(res))
			goto resfail;
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
#define V(c) (PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c))
			struct pack_row row;
			const char *v[7];
			const char *sets[3][2];
			PGresult *r2 = NULL;
			bool ok = true;

			if (pack_row_v4(&row, V(1), V(2), V(3)) < 0) {
				snprintf(err, errlen, "postgresql: migrate to "
				    "schema 5: server %s: a report or summary "
				    "that is not JSON", V(0));
				PQclear(res);
				return -1;
			}
			v[0] = V(0);
			v[1] = row.latest.rest;
			v[2] = row.prev_diff;
			v[3] = row.latest.hash[0] ? row.latest.hash : NULL;
			v[4] = row.prev.hash[0] ? row.prev.hash : NULL;
			v[5] = row.summary_own;
			v[6] = row.summary_hash[0] ? row.summary_hash : NULL;
			sets[0][0] = v[3]; sets[0][1] = row.latest.modules;
			sets[1][0] = v[4]; sets[1][1] = row.prev.modules;
			sets[2][0] = v[6]; sets[2][1] = row.summary_shared;
#undef V
			for (int k = 0; ok && k < 3; k++) {
				if (sets[k][0] == NULL)
					continue;
				r2 = PQexecParams(pg, STORE_SQL_SET_PUT, 2, NULL,
				    sets[k], NULL, NULL, 0);
				ok = res_ok(r2);
				if (ok)
					PQclear(r2);
			}
			if (ok) {
				r2 = PQexecParams(pg, STORE_SQL_V5_REWRITE, 7,
				    NULL, v, NULL, NULL, 0);
				ok = res_ok(r2);
			}
			pack_row_free(&row);
			if (!ok) {
				set_err(err, errlen, "migrate to schema 5",
				    PQresultErrorMessage(r2));
				PQclear(r2);
				PQclear(res);
				return -1;
			}
			PQclear(r2);
		}
	} while (n > 0);
	PQclear(res);
	res = PQexec(pg, "CLOSE v5");
	if (!res_ok(res))
		goto resfail;
	PQclear(res);
	return 0;
resfail:
	set_err(err, errlen, "migrate to schema 5", PQresultErrorMessage(res));
	PQclear(res);
	return -1;
}

/*
 * Bring the schema to STORE_SCHEMA_VERSION in one transaction under an
 * advisory lock, so that two instances starting at once migrate once: the
 * second waits for the first's COMMIT, then finds the version current.
 * (The lock is taken before anything is read or created: CREATE TABLE IF
 * NOT EXISTS alone is not safe against a concurrent one.)
 */
static const char *const changes_tables[] = { CHANGES_SQL_CREATE_PG, NULL };

static int
migrate(PGconn *pg, char *err, size_t errlen)
{
	const char *key[1] = { MIGRATION_LOCK_KEY };
	char vbuf[16];
	const char *vparam[1] = { vbuf };
	PGresult *res = NULL;
	long version = 0;

	if (exec_cmd(pg, "BEGIN") < 0)
		goto pqfail;
	res = PQexecParams(pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1,
	    NULL, key, NULL, NULL, 0);
	if (!res_ok(res))
		goto resfail;
	PQclear(res);
	res = PQexec(pg, "CREATE TABLE IF NOT EXISTS beacon_schema"
	    " (version INTEGER NOT NULL)");
	if (!res_ok(res))
		goto resfail;
	PQclear(res);
	res = PQexec(pg, "SELECT coalesce(max(version), 0) FROM beacon_schema");
	if (!res_ok(res) || PQntuples(res) != 1)
		goto resfail;
	version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	res = NULL;
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "postgresql: schema version %ld is newer "
		    "than this binary's %d", version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0) {
		snprintf(err, errlen, "postgresql: schema version %ld is not "
		    "a version", version);
		goto fail;
	}
	for (long v = version; v < STORE_SCHEMA_VERSION; v++) {
		for (const char *const *sql = migrations[v]; *sql; sql++) {
			res = PQexec(pg, *sql);
			if (!res_ok(res))
				goto resfail;
			PQclear(res);
		}
		res = NULL;
		if (v == 4 && migrate_v5_rows(pg, err, errlen) < 0)
			goto fail;
	}
	for (const char *const *sql = changes_tables; *sql; sql++) {
		res = PQexec(pg, *sql);
		if (!res_ok(res))
			goto resfail;
		PQclear(res);
	}
	res = NULL;
	if (version < STORE_SCHEMA_VERSION) {
		snprintf(vbuf, sizeof vbuf, "%d", STORE_SCHEMA_VERSION);
		res = PQexec(pg, "DELETE FROM beacon_schema");
		if (!res_ok(res))
			goto resfail;
		PQclear(res);
		res = PQexecParams(pg, "INSERT INTO beacon_schema (version)"
		    " VALUES ($1::integer)", 1, NULL, vparam, NULL, NULL, 0);
		if (!res_ok(res))
			goto resfail;
		PQclear(res);
		res = NULL;
	}
	if (exec_cmd(pg, "COMMIT") < 0)
		goto pqfail;
	return 0;
resfail:
	set_err(err, errlen, "migrate", PQresultErrorMessage(res));
	goto fail;
pqfail:
	set_err(err, errlen, "migrate", PQerrorMessage(pg));
fail:
	PQclear(res);
	exec_cmd(pg, "ROLLBACK");
	return -1;
}

/* ---- rows -------------------------------------------------------------- */

static long long
col_ll(const PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		return 0;
	return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void
token_from_columns(const PGresult *res, int col, struct token *t)
{
	memset(t, 0, sizeof *t);
	if (PQgetisnull(res, 0, col))
		return;
	if (uuid_is_valid(PQgetvalue(res, 0, col))) {
		memcpy(t->id, PQgetvalue(res, 0, col), UUID_LEN);
		t->issued = (time_t)col_ll(res, col + 1);
	}
}

/* The outcome of one statement, for the retry decision. */
enum pg_outcome {
	PG_DONE,	/* it ran */
	PG_RETRY,	/* serialization failure or deadlock: run it again */
	PG_LOST,	/* the connection broke: reconnect and maybe again */
	PG_FAILED,	/* anything else */
};

/* The words of this thread's last failed statement, for err. */
static _Thread_local char last_error[512];

static enum pg_outcome
outcome(PGconn *pg, PGresult *res)
{
	const char *state;

	if (res_ok(res))
		return PG_DONE;
	one_line(last_error, sizeof last_error, res != NULL ?
	    PQresultErrorMessage(res) : PQerrorMessage(pg));
	if (last_error[0] == '\0')
		one_line(last_error, sizeof last_error, PQerrorMessage(pg));
	if (PQstatus(pg) != CONNECTION_OK)
		return PG_LOST;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && (strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0))
		return PG_RETRY;
	/* 57P01 admin_shutdown and friends: the server is going away. */
	if (state != NULL && strncmp(state, "57P", 3) == 0)
		return PG_LOST;
	{
		char line[512];

		one_line(line, sizeof line, PQresultErrorMessage(res));
		fprintf(stderr, "beacon-collector: postgresql: %s\n", line);
	}
	return PG_FAILED;
}

/* Run the prepared select (plain or FOR UPDATE) for id: *found set. */
static enum pg_outcome
read_state(PGconn *pg, const char *stmt, const char *id, bool *found,
    struct server_state *out)
{
	const char *params[1] = { id };
	PGresult *res = PQexecPrepared(pg, stmt, 1, params, NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, res);

	*found = false;
	if (o == PG_DONE && PQntuples(res) == 1) {
		*found = true;
		memset(out, 0, sizeof *out);
		token_from_columns(res, 0, &out->tokens.current);
		token_from_columns(res, 2, &out->tokens.previous);
		out->first_seen = (time_t)col_ll(res, 4);
		out->last_seen = (time_t)col_ll(res, 5);
		out->last_update = (time_t)col_ll(res, 6);
		out->reports = (long)col_ll(res, 7);
	}
	PQclear(res);
	return o;
}

static enum pg_outcome
exec_prepared(PGconn *pg, const char *stmt, int n, const char *const *values,
    const int *lengths, const int *formats)
{
	PGresult *res = PQexecPrepared(pg, stmt, n, values, lengths, formats, 0);
	enum pg_outcome o = outcome(pg, res);

	PQclear(res);
	return o;
}

static enum pg_outcome
exec_simple(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	enum pg_outcome o = outcome(pg, res);

	PQclear(res);
	return o;
}

/* ---- the counters' changes ---------------------------------------------
 *
 * Why not bump stat_counts in the report's transaction, as SQLite does:
 * the first report of a PBX changes some 330 counters (one per module),
 * the same rows for every PBX, and on PostgreSQL each UPDATE of a row
 * holds its lock until COMMIT, so such transactions queued behind each
 * other (11 reports/s at 1,000 new PBXs at once).  Instead a transaction
 * appends its changes to stat_deltas (an INSERT takes no lock another
 * insert waits for), and one consumer folds them into stat_counts
 * (fold_tx, about once a second; with two collectors, whichever holds
 * the advisory lock).  Readers read the view stat_current, counts plus
 * deltas, so a committed report is in the figures at once either way.
 */

/* The changes of one transaction being gathered: a JSON array of
 * [dimension, key, n]; NULL until the first. */
struct deltas {
	json_t *rows;
};

/* A stats_delta_fn whose arg is a struct deltas: -1 out of memory, or
 * when jansson refuses a key (not UTF-8: stats_summary never makes one). */
static int
deltas_add(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen, long long delta)
{
	struct deltas *d = arg;

	if (d->rows == NULL && (d->rows = json_array()) == NULL)
		return -1;
	return json_array_append_new(d->rows, json_pack("[s%s%I]", dim,
	    dimlen, key, keylen, (json_int_t)delta));
}

/* n servers more or less stored. */
static int
deltas_known(struct deltas *d, long long n)
{
	return deltas_add(d, "known", 5, "", 0, n);
}

/* One server more or less first seen on the day of t. */
static int
deltas_first_seen(struct deltas *d, time_t t, long long delta)
{
	char day[11];

	stats_utc_day(t, day);
	return deltas_add(d, "first_seen", 10, day, strlen(day), delta);
}

/* Write the gathered changes (if any) in the caller's transaction, and
 * empty d.  gathered is what gathering returned: when it failed,
 * PG_FAILED (said on stderr, as outcome() does), so that the transaction
 * is rolled back rather than committed with half its changes. */
static enum pg_outcome
deltas_flush(PGconn *pg, struct deltas *d, int gathered)
{
	enum pg_outcome o = PG_DONE;
	char *text = NULL;

	if (gathered == 0 && d->rows != NULL && json_array_size(d->rows) > 0 &&
	    (text = json_dumps(d->rows, JSON_COMPACT)) == NULL)
		gathered = -1;
	if (gathered != 0) {
		snprintf(last_error, sizeof last_error, "the counters' changes "
		    "cannot be written as JSON (out of memory, or a key not "
		    "in UTF-8)");
		fprintf(stderr, "beacon-collector: postgresql: %s\n", last_error);
		o = PG_FAILED;
	} else if (text != NULL) {
		const char *v[1] = { text };

		o = exec_prepared(pg, "deltas", 1, v, NULL, NULL);
	}
	free(text);
	json_decref(d->rows);
	d->rows = NULL;
	return o;
}

/* stats_key_fn's state on PostgreSQL. */
struct pg_keys {
	PGconn *pg;
	struct key_room room;
	enum pg_outcome failed;		/* PG_DONE while all went well */
	bool prefetched;		/* known holds every key of the summary */
	char **known;			/* "DIM\tKEY" counted by name, sorted */
	size_t n_known;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
pg_keys_free(struct pg_keys *k)
{
	for (size_t i = 0; i < k->n_known; i++)
		free(k->known[i]);
	free(k->known);
	k->known = NULL;
	k->n_known = 0;
	k->prefetched = false;
}

/* Read at once which keys of the open dimensions of summary are counted
 * by name (PG_KEYS_EXIST).  On any failure nothing is prefetched and
 * pg_key_by_name asks key by key, as before. */
static void
pg_keys_prefetch(struct pg_keys *k, const char *summary)
{
	json_t *pairs = json_array();
	const char *p = summary, *v[1];
	char *text = NULL;
	PGresult *res = NULL;
	int n;

	if (pairs == NULL)
		return;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *t1 = memchr(p, '\t', len);
		const char *t2 = t1 != NULL ? memchr(t1 + 1, '\t',
		    len - (size_t)(t1 + 1 - p)) : NULL;

		if (t2 != NULL && stats_dim_open(p, (size_t)(t1 - p)) &&
		    json_array_append_new(pairs, json_pack("[s%s%]", p,
		    (size_t)(t1 - p), t1 + 1, (size_t)(t2 - t1 - 1))) < 0)
			goto out;
		p += len + (nl != NULL);
	}
	if ((text = json_dumps(pairs, JSON_COMPACT)) == NULL)
		goto out;
	v[0] = text;
	res = PQexecPrepared(k->pg, "keys_exist", 1, v, NULL, NULL, 0);
	if (outcome(k->pg, res) != PG_DONE)
		goto out;
	n = PQntuples(res);
	if ((k->known = calloc((size_t)n + 1, sizeof *k->known)) == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		if ((k->known[i] = strdup(PQgetvalue(res, i, 0))) == NULL) {
			pg_keys_free(k);
			goto out;
		}
		k->n_known++;
	}
	qsort(k->known, k->n_known, sizeof *k->known, cmp_str);
	k->prefetched = true;
out:
	PQclear(res);
	free(text);
	json_decref(pairs);
}

/* stats_key_fn: may (dim, key) be counted by name?  Two writers may both
 * take the last room of a dimension: the bound is then passed by at most
 * one report's keys per writer, still a bound. */
static int
pg_key_by_name(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen)
{
	struct pg_keys *k = arg;
	char d[32], kb[STATS_KEY_MAX + 1];
	const char *v[2] = { d, kb };
	PGresult *res;
	long *n;
	enum pg_outcome o;
	bool exists;

	if (dimlen >= sizeof d || keylen >= sizeof kb)
		return 0;
	memcpy(d, dim, dimlen);
	d[dimlen] = '\0';
	memcpy(kb, key, keylen);
	kb[keylen] = '\0';
	if (k->prefetched) {
		char pair[sizeof d + sizeof kb + 1], *pp = pair;

		snprintf(pair, sizeof pair, "%s\t%s", d, kb);
		exists = bsearch(&pp, k->known, k->n_known, sizeof *k->known,
		    cmp_str) != NULL;
	} else {
		res = PQexecPrepared(k->pg, "key_exists", 2, v, NULL, NULL, 0);
		o = outcome(k->pg, res);
		exists = o == PG_DONE && PQntuples(res) > 0;
		PQclear(res);
		if (o != PG_DONE) {
			k->failed = o;
			return -1;
		}
	}
	if (exists)
		return 1;
	if ((n = key_room_of(&k->room, dim, dimlen)) == NULL)
		return 0;
	if (*n < 0) {
		res = PQexecPrepared(k->pg, "dim_keys", 1, v, NULL, NULL, 0);
		o = outcome(k->pg, res);
		if (o == PG_DONE && PQntuples(res) == 1)
			*n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		if (o != PG_DONE || *n < 0) {
			k->failed = o != PG_DONE ? o : PG_FAILED;
			return -1;
		}
	}
	if (*n >= STATS_KEYS_PER_DIMENSION)
		return 0;
	(*n)++;
	return 1;
}

/* Store a module set unless it is there; hash "" is none.  The caller's
 * transaction holds "sets_lock" (taken here) until it commits. */
static enum pg_outcome
put_set(PGconn *pg, const char *hash, const char *body)
{
	const char *v[2] = { hash, body };
	PGresult *res;
	enum pg_outcome o;
	bool there;

	if (hash[0] == '\0')
		return PG_DONE;
	if ((o = exec_prepared(pg, "sets_lock", 0, NULL, NULL, NULL)) != PG_DONE)
		return o;
	res = PQexecPrepared(pg, "set_has", 1, v, NULL, NULL, 0);
	o = outcome(pg, res);
	there = o == PG_DONE && PQntuples(res) > 0;
	PQclear(res);
	if (o != PG_DONE || there)
		return o;
	return exec_prepared(pg, "set_put", 2, v, NULL, NULL);
}

/* The server's contribution to the counters becomes job->summary: the
 * difference from what it contributed before, when it was counted.  The
 * row is already locked by the update's SELECT ... FOR UPDATE, so no
 * other transaction (expiry, retention, a racing report) can change
 * counted or summary between this read and the write. */
static enum pg_outcome
count_update(PGconn *pg, const struct store_job *job)
{
	char day[11], ca[24], cp[24];
	const char *dv[4] = { job->server_id, day, ca, cp };
	const char *v[4] = { job->server_id, job->summary, NULL, NULL };
	struct deltas d = { NULL };
	PGresult *res;
	const char *new;
	char *old = NULL;
	enum pg_outcome o;
	long days;

	if (job->summary == NULL)
		return PG_DONE;
	/* One more report day when this report is the first of its day. */
	stats_utc_day(job->now, day);
	snprintf(ca, sizeof ca, "%lld",
	    stats_summary_value(job->summary, "calls", "active"));
	snprintf(cp, sizeof cp, "%lld",
	    stats_summary_value(job->summary, "calls", "processed"));
	res = PQexecPrepared(pg, "report_day", 4, dv, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o != PG_DONE || PQntuples(res) != 1) {
		PQclear(res);
		return o;
	}
	days = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	/* Counted once established, else nothing. */
	new = days >= job->established_days ? job->summary : NULL;
	v[2] = new != NULL ? "1" : "0";
	res = PQexecPrepared(pg, "stat_get", 1, v, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o != PG_DONE || PQntuples(res) != 1) {
		PQclear(res);
		return o;
	}
	if (!PQgetisnull(res, 0, 0) && strcmp(PQgetvalue(res, 0, 0), "1") == 0 &&
	    !PQgetisnull(res, 0, 1) &&
	    (old = summary_join(PQgetvalue(res, 0, 1), PQgetisnull(res, 0, 2) ?
	    NULL : PQgetvalue(res, 0, 2))) == NULL) {
		snprintf(last_error, sizeof last_error, "out of memory");
		o = PG_FAILED;
	} else if (old == NULL || new == NULL || strcmp(old, new) != 0) {
		/* Keys nobody shares stay bounded in number. */
		struct pg_keys k = { .pg = pg, .failed = PG_DONE };
		char *bounded;

		if (new != NULL)
			pg_keys_prefetch(&k, new);
		bounded = new != NULL ? stats_bound(old, new, pg_key_by_name,
		    &k) : NULL;
		pg_keys_free(&k);

		if (new != NULL && bounded == NULL) {
			o = k.failed != PG_DONE ? k.failed : PG_FAILED;
			if (k.failed == PG_DONE)
				snprintf(last_error, sizeof last_error,
				    "out of memory");
		} else {
			o = deltas_flush(pg, &d, stats_diff(old, bounded,
			    deltas_add, &d));
		}
		if (o == PG_DONE) {
			/* Stored as its own lines and its module lines' set. */
			char *own = NULL, *shared = NULL;
			char hash[PACK_HASH_LEN + 1];

			if (summary_split(bounded != NULL ? bounded :
			    job->summary, &shared, hash, &own) < 0) {
				snprintf(last_error, sizeof last_error,
				    "out of memory");
				o = PG_FAILED;
			} else {
				o = put_set(pg, hash, shared);
			}
			v[1] = own;
			v[3] = hash[0] != '\0' ? hash : NULL;
			if (o == PG_DONE)
				o = exec_prepared(pg, "stat_set", 4, v, NULL,
				    NULL);
			free(own);
			free(shared);
		}
		free(bounded);
	}
	free(old);
	PQclear(res);
	return o;
}

struct fold {
	bool wait;	/* for the lock (the last fold), or skip when it is held */
	long folded;	/* out: deltas folded */
};

/*
 * Fold the committed deltas into stat_counts in one transaction; the
 * counters that fell to 0 go with it.  While another collector on the
 * database is folding, a periodic fold is skipped (that one takes the
 * deltas all the same); the last one, at close, waits its turn.
 */
static enum pg_outcome
fold_tx(PGconn *pg, void *arg)
{
	struct fold *f = arg;
	PGresult *res = PQexecPrepared(pg, f->wait ? "fold_lock" :
	    "fold_try_lock", 0, NULL, NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, res);
	bool mine = o == PG_DONE && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, PQnfields(res) - 1), "t") == 0;

	PQclear(res);
	f->folded = 0;
	if (!mine)
		return o;
	res = PQexecPrepared(pg, "fold", 0, NULL, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o == PG_DONE && PQntuples(res) == 1)
		f->folded = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (o == PG_DONE && f->folded > 0)
		o = exec_prepared(pg, "zero", 0, NULL, NULL, NULL);
	return o;
}

/* ---- jobs -------------------------------------------------------------- */

static enum pg_outcome
run_register(PGconn *pg, struct store_job *job)
{
	char issued[24], now[24];
	const char *v[4] = { job->server_id, job->new_token.id, issued, now };
	enum pg_outcome o;

	snprintf(issued, sizeof issued, "%" PRId64, (int64_t)job->new_token.issued);
	snprintf(now, sizeof now, "%" PRId64, (int64_t)job->now);
	/* Not a known server until its first accepted report. */
	o = exec_prepared(pg, "insert", 4, v, NULL, NULL);
	return o;
}

/* ---- each server's changes (changes_sql.h) ----------------------------- */

/* The rows of job's report against the one before (changes.h), and the
 * server's rows past history_days pruned: in the report's transaction,
 * its row locked, after the UPDATE and before the summary is replaced. */
static enum pg_outcome
changes_record(PGconn *pg, const struct store_job *job)
{
	const char *id[1] = { job->server_id };
	char at[24], seq[24], since[24];
	struct change_list l = { 0 };
	PGresult *res = PQexecPrepared(pg, "changes_previous", 1, id, NULL,
	    NULL, 0);
	enum pg_outcome o = outcome(pg, res);

	if (o == PG_DONE && PQntuples(res) == 1) {
#define COL(c) (PQgetisnull(res, 0, (c)) ? NULL : PQgetvalue(res, 0, (c)))
		int how = changes_for_job(job, COL(0), COL(1), COL(2), COL(3),
		    COL(4), &l);

#undef COL
		if (how < 0) {
			snprintf(last_error, sizeof last_error, "out of memory");
			o = PG_FAILED;
		}
	}
	PQclear(res);
	snprintf(at, sizeof at, "%" PRId64, (int64_t)job->now);
	for (size_t i = 0; o == PG_DONE && i < l.n; i++) {
		const char *v[5] = { job->server_id, at, seq, l.v[i].kind,
		    l.v[i].detail };

		snprintf(seq, sizeof seq, "%zu", i);
		o = exec_prepared(pg, "changes_insert", 5, v, NULL, NULL);
	}
	change_list_free(&l);
	if (o == PG_DONE) {
		const char *v[2] = { job->server_id, since };

		snprintf(since, sizeof since, "%" PRId64, (int64_t)job->history_since);
		o = exec_prepared(pg, "changes_prune_one", 2, v, NULL, NULL);
	}
	return o;
}

/*
 * One UPDATE, inside the caller's transaction.
 *
 * Why a row lock: SELECT ... FOR UPDATE takes the server's row before the
 * decision is made.  A second transaction on the same row, in this process
 * or in another collector on the same database, blocks in its own SELECT
 * ... FOR UPDATE until the first has committed, and then (READ COMMITTED
 * re-reads a locked row after the wait) sees the first one's tokens and
 * counters.  So store_decide_update never runs twice on the same old
 * state: two racing requests can never both be issued a new token, and
 * neither overwrites the other's report count or tokens - every report
 * that was answered 200 was committed as its own step.  A conditional
 * UPDATE (WHERE token_id = old) would need a retry path for every lost
 * race; the lock makes the loser simply wait its turn, which costs one
 * short wait per collision of one server's two PBX requests, which are
 * rare.
 */
static enum pg_outcome
run_update(PGconn *pg, struct store_job *job)
{
	struct server_state st;
	enum pg_outcome o;
	bool found;
	char tiss[24], piss[24], seen[24], upd[24], reports[24];
	const char *v[11];
	char *diff = NULL;
	PGresult *res;

	if (job->packed.rest == NULL) {
		snprintf(last_error, sizeof last_error, "out of memory");
		return PG_FAILED;
	}
	o = read_state(pg, "select_for_update", job->server_id, &found, &st);
	if (o != PG_DONE)
		return o;
	job->status = store_decide_update(job, found, &st);
	if (job->status != STORE_OK)
		return PG_DONE;
	/* The report before, as what changed: a diff against this one. */
	v[0] = job->server_id;
	res = PQexecPrepared(pg, "old_report", 1, v, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o == PG_DONE && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    (diff = report_diff(PQgetvalue(res, 0, 0),
	    job->packed.rest)) == NULL) {
		snprintf(last_error, sizeof last_error, "out of memory");
		o = PG_FAILED;
	}
	PQclear(res);
	if (o == PG_DONE)
		o = put_set(pg, job->packed.hash, job->packed.modules);
	if (o != PG_DONE) {
		free(diff);
		return o;
	}
	snprintf(tiss, sizeof tiss, "%" PRId64, (int64_t)st.tokens.current.issued);
	snprintf(piss, sizeof piss, "%" PRId64, (int64_t)st.tokens.previous.issued);
	snprintf(seen, sizeof seen, "%" PRId64, (int64_t)st.last_seen);
	snprintf(upd, sizeof upd, "%" PRId64, (int64_t)st.last_update);
	snprintf(reports, sizeof reports, "%ld", st.reports);
	v[0] = job->server_id;
	v[1] = st.tokens.current.id;
	v[2] = tiss;
	v[3] = st.tokens.previous.id[0] != '\0' ? st.tokens.previous.id : NULL;
	v[4] = st.tokens.previous.id[0] != '\0' ? piss : NULL;
	v[5] = seen;
	v[6] = upd;
	v[7] = reports;
	v[8] = job->packed.rest;
	v[9] = diff;
	v[10] = job->packed.hash[0] != '\0' ? job->packed.hash : NULL;
	o = exec_prepared(pg, "update", 11, v, NULL, NULL);
	free(diff);
	if (o == PG_DONE)	/* before the summary moves on */
		o = changes_record(pg, job);
	if (o == PG_DONE && st.reports == 1) {
		/* The first accepted report makes it a known server. */
		struct deltas d = { NULL };
		int rc = deltas_known(&d, 1);

		if (rc == 0)
			rc = deltas_first_seen(&d, st.first_seen, 1);
		o = deltas_flush(pg, &d, rc);
	}
	if (o == PG_DONE)
		o = count_update(pg, job);
	return o;
}

/* One job, its transaction, its retries; job->status set. */
static void
run_job(struct store *s, struct conn *c, struct store_job *job)
{
	bool reconnected = false;

	for (int attempt = 0; attempt <= RETRIES; attempt++) {
		enum pg_outcome o;

		job->status = STORE_UNAVAILABLE;
		if (conn_ensure(s, c) < 0)
			return;
		o = exec_simple(c->pg, "BEGIN");
		if (o == PG_DONE)
			o = job->kind == STORE_JOB_REGISTER ?
			    run_register(c->pg, job) : run_update(c->pg, job);
		if (o == PG_DONE) {
			enum store_status decided = job->kind ==
			    STORE_JOB_REGISTER ? STORE_OK : job->status;

			struct timespec t0, t1;

			if (job->kind == STORE_JOB_REGISTER)
				job->token = job->new_token;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			o = exec_simple(c->pg, "COMMIT");
			if (o == PG_DONE) {
				clock_gettime(CLOCK_MONOTONIC, &t1);
				health_commit((double)(t1.tv_sec - t0.tv_sec) +
				    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
				store_touch();
				job->status = decided;
				return;
			}
			/* The COMMIT's fate is unknown: 503, never again. */
			job->status = STORE_UNAVAILABLE;
			if (o != PG_LOST)
				exec_simple(c->pg, "ROLLBACK");
			return;
		}
		job->status = STORE_UNAVAILABLE;
		if (o == PG_LOST) {
			/* Nothing was committed: a stale connection (the
			 * server restarted since) earns one fresh try. */
			if (reconnected)
				return;
			reconnected = true;
			continue;
		}
		exec_simple(c->pg, "ROLLBACK");
		if (o != PG_RETRY)
			return;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct store *s = w->s;

	struct store_job *job;

	/* One job at a time: each is its own transaction on this worker's
	 * connection, and the workers run side by side. */
	while ((job = job_queue_take(&s->queue, 1)) != NULL) {
		run_job(s, &w->c, job);
		store_job_done(job);
	}
	return NULL;
}

static int
pg_submit(struct store *s, struct store_job *job)
{
	return job_queue_push(&s->queue, job);
}

/* ---- reads ------------------------------------------------------------- */

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
pg_lookup(struct store *s, const char *id, struct server_state *out)
{
	struct reader *r = take_reader(s);
	enum store_status status = STORE_UNAVAILABLE;

	for (int attempt = 0; attempt < 2; attempt++) {
		enum pg_outcome o;
		bool found;

		if (conn_ensure(s, &r->c) < 0)
			break;
		o = read_state(r->c.pg, "select", id, &found, out);
		if (o == PG_DONE) {
			status = found ? STORE_OK : STORE_NOT_FOUND;
			break;
		}
		if (o != PG_LOST)
			break;
	}
	give_reader(s, r);
	return status;
}

/* SELECT 1, waiting at most PING_TIMEOUT_MS; a query that does not answer
 * in time is cancelled and its connection reset on its next use. */
static bool
ping_conn(PGconn *pg)
{
	struct timespec deadline, now;
	PGresult *res;
	bool ok = true, any = false;

	if (!PQsendQuery(pg, "SELECT 1"))
		return false;
	ts_after_ms(&deadline, PING_TIMEOUT_MS);
	while (PQisBusy(pg)) {
		struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline.tv_sec - now.tv_sec) * 1000 +
		    (deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0 || pfd.fd < 0 ||
		    (poll(&pfd, 1, (int)ms) < 0 && errno != EINTR)) {
			PGcancel *cancel = PQgetCancel(pg);
			char buf[256];

			if (cancel != NULL) {
				PQcancel(cancel, buf, sizeof buf);
				PQfreeCancel(cancel);
			}
			ok = false;
			break;
		}
		if (!PQconsumeInput(pg)) {
			ok = false;
			break;
		}
	}
	/* Read every result, so that the connection is idle again. */
	while ((res = PQgetResult(pg)) != NULL) {
		any = true;
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			ok = false;
		PQclear(res);
		if (PQstatus(pg) != CONNECTION_OK)
			break;
	}
	return ok && any && PQstatus(pg) == CONNECTION_OK;
}

static bool
pg_ping(struct store *s)
{
	struct reader *r = take_reader(s);
	bool ok = false;

	for (int attempt = 0; attempt < 2 && !ok; attempt++) {
		if (conn_ensure(s, &r->c) < 0)
			break;
		ok = ping_conn(r->c.pg);
		if (!ok && PQstatus(r->c.pg) == CONNECTION_OK) {
			/* Timed out or refused: not a stale socket; a retry
			 * would wait as long again. */
			break;
		}
	}
	give_reader(s, r);
	return ok;
}

/* ---- maintenance: retention, expiry, the daily history ----------------- */

typedef enum pg_outcome (*tx_fn)(PGconn *pg, void *arg);

/*
 * fn in one transaction (begun with begin) on connection c (a reader's,
 * or the folder's): run again after a serialization failure or a deadlock
 * (only the fold writes stat_counts, and retention and expiry skip the
 * servers' rows that are locked; but two instances' daily upserts may
 * meet, and a REPEATABLE READ transaction may fail to serialize: then it
 * is simply run again), and once more on a fresh connection when the old
 * one was found broken.
 * 0, or -1 with libpq's words in err.
 */
static int
reader_tx(struct store *s, struct conn *c, const char *begin, tx_fn fn,
    void *arg, const char *what, char *err, size_t errlen)
{
	bool reconnected = false;

	last_error[0] = '\0';
	for (int attempt = 0; attempt <= RETRIES; attempt++) {
		enum pg_outcome o;

		if (conn_ensure(s, c) < 0) {
			snprintf(err, errlen, "postgresql: %s: the database "
			    "is unavailable", what);
			return -1;
		}
		o = exec_simple(c->pg, begin);
		if (o == PG_DONE)
			o = fn(c->pg, arg);
		if (o == PG_DONE)
			o = exec_simple(c->pg, "COMMIT");
		if (o == PG_DONE)
			return 0;
		if (o != PG_LOST)
			exec_simple(c->pg, "ROLLBACK");
		if (o == PG_LOST && !reconnected) {
			reconnected = true;
			continue;
		}
		if (o != PG_RETRY)
			break;
	}
	set_err(err, errlen, what, last_error[0] != '\0' ? last_error :
	    "failed");
	return -1;
}

struct batch {
	char cutoff[24];
	char unreported[24];	/* retention: registrations before it */
	char established[24];	/* expiry: established_days */
	long done;
};

/* One batch of retention: each deleted server's contribution, when it was
 * counted, and its place among the known and the first seen, leave the
 * counters with it. */
static enum pg_outcome
retention_batch(PGconn *pg, void *arg)
{
	struct batch *b = arg;
	const char *v[2] = { b->cutoff, b->unreported };
	PGresult *pick = PQexecPrepared(pg, "retention_pick", 2, v, NULL,
	    NULL, 0);
	enum pg_outcome o = outcome(pg, pick);
	long n = 0;

	b->done = 0;
	for (int i = 0; o == PG_DONE && i < PQntuples(pick); i++) {
		const char *del[3] = { PQgetvalue(pick, i, 0), b->cutoff,
		    b->unreported };
		PGresult *res = PQexecPrepared(pg, "delete_one", 3, del, NULL,
		    NULL, 0);

		o = outcome(pg, res);
		if (o == PG_DONE && strtol(PQcmdTuples(res), NULL, 10) > 0)
			b->done++;
		/* A registration never reported was never a known server. */
		if (o == PG_DONE && strtol(PQcmdTuples(res), NULL, 10) > 0 &&
		    strcmp(PQgetvalue(pick, i, 4), "0") != 0) {
			struct deltas d = { NULL };
			int rc = deltas_first_seen(&d, (time_t)strtoll(
			    PQgetvalue(pick, i, 3), NULL, 10), -1);

			n++;
			if (rc == 0 && strcmp(PQgetvalue(pick, i, 1), "1") == 0 &&
			    !PQgetisnull(pick, i, 2)) {
				char *sum = summary_join(PQgetvalue(pick, i, 2),
				    PQgetisnull(pick, i, 5) ? NULL :
				    PQgetvalue(pick, i, 5));
				rc = sum == NULL ? -1 :
				    stats_diff(sum, NULL, deltas_add, &d);
				free(sum);
			}
			o = deltas_flush(pg, &d, rc);
		}
		PQclear(res);
	}
	PQclear(pick);
	if (o == PG_DONE && n > 0) {
		struct deltas d = { NULL };

		o = deltas_flush(pg, &d, deltas_known(&d, -n));
	}
	if (o != PG_DONE)
		b->done = 0;
	return o;
}

/* Run fn, each time in its own transaction on a read connection, until a
 * batch finds nothing more to do (batches of at most 1000 servers, so that
 * no lock is held for long); the rows done in *total. */
static int
in_batches(struct store *s, tx_fn fn, const char *what, time_t cutoff,
    long established, time_t unreported, long *total, char *err,
    size_t errlen)
{
	struct reader *r = take_reader(s);
	struct batch b;
	int rc = 0;

	*total = 0;
	snprintf(b.cutoff, sizeof b.cutoff, "%" PRId64, (int64_t)cutoff);
	snprintf(b.unreported, sizeof b.unreported, "%" PRId64,
	    (int64_t)unreported);
	snprintf(b.established, sizeof b.established, "%ld", established);
	do {
		if (reader_tx(s, &r->c, "BEGIN", fn, &b, what, err, errlen) < 0) {
			rc = -1;
			break;
		}
		*total += b.done;
	} while (b.done > 0);
	give_reader(s, r);
	return rc;
}

/* EXCLUSIVE waits for the writers holding ROW SHARE ("sets_lock"), whose
 * references are then committed and seen by the DELETE's snapshot. */
static enum pg_outcome
sets_gc(PGconn *pg, void *arg)
{
	enum pg_outcome o = exec_simple(pg,
	    "LOCK TABLE module_sets IN EXCLUSIVE MODE");

	(void)arg;
	return o == PG_DONE ? exec_simple(pg, STORE_SQL_SETS_GC) : o;
}

static int
pg_retention(struct store *s, time_t cutoff, time_t unreported,
    long *deleted, char *err, size_t errlen)
{
	int rc = in_batches(s, retention_batch, "retention", cutoff, 0,
	    unreported, deleted, err, errlen);

	if (*deleted > 0)
		store_touch();
	if (rc == 0) {
		/* The module sets nobody refers to any more go with them. */
		struct reader *r = take_reader(s);
		rc = reader_tx(s, &r->c, "BEGIN", sets_gc, NULL, "module sets",
		    err, errlen);
		give_reader(s, r);
	}
	return rc;
}

/* One batch of expiry: servers that fell out of active_days stop counting. */
static enum pg_outcome
expire_batch(PGconn *pg, void *arg)
{
	struct batch *b = arg;
	const char *v[2] = { b->cutoff, b->established };
	PGresult *pick = PQexecPrepared(pg, "expire_pick", 2, v, NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, pick);
	long n = 0;

	b->done = 0;
	for (int i = 0; o == PG_DONE && i < PQntuples(pick); i++) {
		const char *id[1] = { PQgetvalue(pick, i, 0) };

		o = exec_prepared(pg, "uncount", 1, id, NULL, NULL);
		if (o == PG_DONE && !PQgetisnull(pick, i, 1)) {
			struct deltas d = { NULL };
			char *sum = summary_join(PQgetvalue(pick, i, 1),
			    PQgetisnull(pick, i, 2) ? NULL :
			    PQgetvalue(pick, i, 2));

			o = deltas_flush(pg, &d, sum == NULL ? -1 :
			    stats_diff(sum, NULL, deltas_add, &d));
			free(sum);
		}
		n++;
	}
	PQclear(pick);
	/* The counters that fall to 0 go at the next fold. */
	if (o == PG_DONE)
		b->done = n;
	return o;
}

static int
pg_stats_expire(struct store *s, time_t cutoff, long established,
    long *expired, char *err, size_t errlen)
{
	return in_batches(s, expire_batch, "expire", cutoff, established, 0,
	    expired, err, errlen);
}

/* The day's history as the figures stand (stats_sql.h); two collectors
 * on one database may both write it, the same figures. */
static enum pg_outcome
daily_tx(PGconn *pg, void *arg)
{
	const struct stats_daily_args *a = arg;
	char from[24], to[24], est[24];
	const char *v[4] = { a->day, from, to, est };
	const char *keep[1] = { a->keep_since };
	enum pg_outcome o;

	snprintf(from, sizeof from, "%" PRId64, (int64_t)a->gone_from);
	snprintf(to, sizeof to, "%" PRId64, (int64_t)a->gone_to);
	snprintf(est, sizeof est, "%ld", a->established_days);
	o = exec_prepared(pg, "daily_prune", 1, v, NULL, NULL);
	if (o == PG_DONE)
		o = exec_prepared(pg, "daily", 1, v, NULL, NULL);
	if (o == PG_DONE)
		o = exec_prepared(pg, "daily_new_gone", 4, v, NULL, NULL);
	if (o == PG_DONE)
		o = exec_prepared(pg, "daily_keep", 1, keep, NULL, NULL);
	return o;
}

static int
pg_stats_daily(struct store *s, const struct stats_daily_args *a, char *err,
    size_t errlen)
{
	struct reader *r = take_reader(s);
	/* One snapshot for the prune and the upserts. */
	int rc = reader_tx(s, &r->c, "BEGIN ISOLATION LEVEL REPEATABLE READ",
	    daily_tx, (void *)(uintptr_t)a, "daily", err, errlen);

	give_reader(s, r);
	return rc;
}

struct read_arg {
	const char *since;
	struct stat_rows *out;
};

/* Every row of one prepared query into rows; history rows carry their
 * day first. */
static enum pg_outcome
read_rows(PGconn *pg, const char *stmt, const char *param, bool history,
    struct stat_row **rows, size_t *n)
{
	const char *v[1] = { param };
	PGresult *res = PQexecPrepared(pg, stmt, param != NULL ? 1 : 0, v,
	    NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, res);
	int col = history ? 1 : 0;

	for (int i = 0; o == PG_DONE && i < PQntuples(res); i++)
		if (stat_rows_add(rows, n, PQgetvalue(res, i, col),
		    PQgetvalue(res, i, col + 1),
		    strtoll(PQgetvalue(res, i, col + 2), NULL, 10),
		    history ? PQgetvalue(res, i, 0) : NULL) < 0) {
			snprintf(last_error, sizeof last_error, "out of memory");
			o = PG_FAILED;
		}
	PQclear(res);
	return o;
}

/* The history rows of a prepared query of n parameters (v[i] NULL: SQL
 * NULL) into out->history. */
static enum pg_outcome
read_rows3(PGconn *pg, const char *stmt, const char *const *v, int n,
    struct stat_rows *out)
{
	PGresult *res = PQexecPrepared(pg, stmt, n, v, NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, res);

	for (int i = 0; o == PG_DONE && i < PQntuples(res); i++)
		if (stat_rows_add(&out->history, &out->n_history,
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    strtoll(PQgetvalue(res, i, 3), NULL, 10),
		    PQgetvalue(res, i, 0)) < 0) {
			snprintf(last_error, sizeof last_error, "out of memory");
			o = PG_FAILED;
		}
	PQclear(res);
	return o;
}

static enum pg_outcome
stats_read_tx(PGconn *pg, void *arg)
{
	struct read_arg *a = arg;
	enum pg_outcome o;

	/* A retried transaction starts again from nothing. */
	stat_rows_free(a->out);
	o = read_rows(pg, "counts", NULL, false, &a->out->counts,
	    &a->out->n_counts);
	if (o == PG_DONE)
		o = read_rows(pg, "history", a->since, true, &a->out->history,
		    &a->out->n_history);
	if (o == PG_DONE) {
		/* The largest share of each sum (STATS_SQL_CALLS_MAX). */
		PGresult *res = PQexecPrepared(pg, "calls_max", 0, NULL, NULL,
		    NULL, 0);

		o = outcome(pg, res);
		if (o == PG_DONE && PQntuples(res) == 1) {
			a->out->calls_max_active = strtoll(PQgetvalue(res, 0, 0),
			    NULL, 10);
			a->out->calls_max_processed = strtoll(PQgetvalue(res, 0,
			    1), NULL, 10);
			a->out->calls_unknown = strtoll(PQgetvalue(res, 0, 2),
			    NULL, 10);
		}
		PQclear(res);
	}
	return o;
}

struct history_arg {
	const char *v[3];
	struct stat_rows *out;
};

static enum pg_outcome
history_tx(PGconn *pg, void *arg)
{
	struct history_arg *a = arg;

	stat_rows_free(a->out);
	return a->v[1] != NULL ? read_rows3(pg, "history_dim", a->v, 3, a->out) :
	    read_rows3(pg, "history_all", a->v, 1, a->out);
}

/* GET /api/v1/history's rows (store.h). */
static int
pg_stats_history(struct store *s, const char *since, const char *dim,
    const char *key, struct stat_rows *out, char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	struct history_arg a = { { since, dim, key }, out };
	int rc = reader_tx(s, &r->c, "BEGIN READ ONLY", history_tx, &a,
	    "history", err, errlen);

	give_reader(s, r);
	return rc;
}

/* One snapshot (REPEATABLE READ), so that the counters and the history
 * agree. */
static int
pg_stats_read(struct store *s, const char *since, struct stat_rows *out,
    char *err, size_t errlen)
{
	struct reader *r = take_reader(s);
	struct read_arg a = { since, out };
	int rc = reader_tx(s, &r->c,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", stats_read_tx,
	    &a, "statistics", err, errlen);

	give_reader(s, r);
	return rc;
}

/* The folder's loop: a fold about every FOLD_INTERVAL_MS, at once again
 * after a big one, until pg_close.  Failures are not fatal: the deltas
 * wait (readers see them through stat_current all the same), a failed
 * statement has said so itself (outcome), and an outage is logged once by
 * the connections. */
static void *
folder_main(void *arg)
{
	struct store *s = arg;
	struct folder *f = &s->folder;
	struct fold fold = { .wait = false };
	bool failing = false;
	char err[512];

	for (;;) {
		bool stop;

		pthread_mutex_lock(&f->lock);
		if (!f->stop && fold.folded < FOLD_AGAIN_ROWS) {
			struct timespec until;

			ts_after_ms(&until, FOLD_INTERVAL_MS);
			pthread_cond_timedwait(&f->wake, &f->lock, &until);
		}
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
		if (reader_tx(s, &f->c, "BEGIN", fold_tx, &fold, "fold", err,
		    sizeof err) < 0) {
			/* One line per spell of failures (an outage says so
			 * once by itself). */
			if (!failing && !store_down(s))
				fprintf(stderr, "beacon-collector: %s (the "
				    "deltas wait, the figures are right)\n", err);
			failing = true;
			fold.folded = 0;
		} else {
			failing = false;
		}
	}
	return NULL;
}

static int
folder_start(struct store *s, char *err, size_t errlen)
{
	struct folder *f = &s->folder;
	pthread_condattr_t attr;
	bool cond_ok;

	if (conn_first(s, &f->c, err, errlen) < 0)
		return -1;
	/* The wait's deadline is on CLOCK_MONOTONIC (ts_after_ms): a
	 * condvar on another clock would never wait. */
	if (pthread_condattr_init(&attr) != 0) {
		snprintf(err, errlen, "postgresql: cannot make the fold thread");
		return -1;
	}
	cond_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&f->wake, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!cond_ok) {
		snprintf(err, errlen, "postgresql: cannot make the fold thread");
		return -1;
	}
	pthread_mutex_init(&f->lock, NULL);
	if (pthread_create(&f->thread, NULL, folder_main, s) != 0) {
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
		snprintf(err, errlen, "postgresql: cannot start the fold thread");
		return -1;
	}
	f->started = true;
	return 0;
}

/* Stop the folder after the writers: one last fold, waiting for another
 * instance's to end if need be, so that a stopped collector leaves no
 * delta of its own behind. */
static void
folder_stop(struct store *s)
{
	struct folder *f = &s->folder;
	struct fold fold = { .wait = true };
	char err[512];

	if (f->started) {
		pthread_mutex_lock(&f->lock);
		f->stop = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->thread, NULL);
		if (reader_tx(s, &f->c, "BEGIN", fold_tx, &fold, "fold", err,
		    sizeof err) < 0)
			fprintf(stderr, "beacon-collector: %s (the deltas wait "
			    "for the next fold)\n", err);
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
	}
	PQfinish(f->c.pg);
}

/* ---- the fleet view ---------------------------------------------------- */

static char *
value_dup(const PGresult *res, int row, int col, bool *oom)
{
	char *copy;

	if (PQgetisnull(res, row, col))
		return NULL;
	copy = strdup(PQgetvalue(res, row, col));
	if (copy == NULL)
		*oom = true;
	return copy;
}

static long long
value_ll(const PGresult *res, int row, int col, long long null)
{
	if (PQgetisnull(res, row, col))
		return null;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Row row of res (PG_FLEET_COLUMNS) into out; false when out of memory. */
static bool
fleet_row(const PGresult *res, int row, struct fleet_server *out, bool both)
{
	bool oom = false;

	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", PQgetvalue(res, row, 0));
	out->first_seen = (time_t)value_ll(res, row, 1, 0);
	out->last_seen = (time_t)value_ll(res, row, 2, 0);
	out->reports = (long)value_ll(res, row, 3, 0);
	out->private_name = value_dup(res, row, 4, &oom);
	out->version = value_dup(res, row, 5, &oom);
	out->modules = (long)value_ll(res, row, 6, -1);
	out->startup_time = value_dup(res, row, 7, &oom);
	out->calls_active = value_ll(res, row, 8, -1);
	out->calls_processed = value_ll(res, row, 9, -1);
	out->sys_name = value_dup(res, row, 10, &oom);
	out->kernel = value_dup(res, row, 11, &oom);
	out->machine = value_dup(res, row, 12, &oom);
	out->cpus = value_ll(res, row, 13, -1);
	out->memory_kb = value_ll(res, row, 14, -1);
	out->os_uptime = value_ll(res, row, 15, -1);
	/* the report without its modules, the one before as a diff of it,
	 * and their module sets' bodies (pack.h) */
#define V(c) (PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c))
	if (both && V(16) != NULL &&
	    fleet_unpack(out, V(16), V(18), V(17), V(19)) < 0)
		oom = true;
#undef V
	return !oom;
}

struct fleet_arg {
	const struct fleet_filter *f;
	struct fleet_list *out;
};

static enum pg_outcome
fleet_list_tx(PGconn *pg, void *arg)
{
	struct fleet_arg *a = arg;
	const struct fleet_filter *f = a->f;
	char since[24], limit[24], offset[24];
	const char *v[6] = { f->version, f->module,
	    f->stale_only ? "true" : "false", since, limit, offset };
	PGresult *res;
	enum pg_outcome o;

	fleet_list_free(a->out);
	snprintf(since, sizeof since, "%" PRId64, (int64_t)f->active_since);
	snprintf(limit, sizeof limit, "%ld", f->limit > 0 ? f->limit : 1);
	snprintf(offset, sizeof offset, "%ld", f->offset > 0 ? f->offset : 0);
	res = PQexecPrepared(pg, "fleet_count", 4, v, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o == PG_DONE)
		a->out->total = (long)value_ll(res, 0, 0, 0);
	PQclear(res);
	if (o != PG_DONE)
		return o;
	res = PQexecPrepared(pg, "fleet_page", 6, v, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o == PG_DONE && PQntuples(res) > 0) {
		size_t n = (size_t)PQntuples(res);

		a->out->servers = calloc(n, sizeof *a->out->servers);
		if (a->out->servers == NULL)
			o = PG_FAILED;
		for (size_t i = 0; o == PG_DONE && i < n; i++) {
			a->out->n = i + 1;
			if (!fleet_row(res, (int)i, &a->out->servers[i], false))
				o = PG_FAILED;
		}
		if (o == PG_FAILED)
			snprintf(last_error, sizeof last_error, "out of memory");
	}
	PQclear(res);
	return o;
}

/* The page and its total in one snapshot, so that they agree. */
static enum store_status
pg_fleet_list(struct store *s, const struct fleet_filter *f,
    struct fleet_list *out)
{
	struct reader *r = take_reader(s);
	struct fleet_arg a = { f, out };
	char err[512];
	int rc = reader_tx(s, &r->c,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fleet_list_tx,
	    &a, "fleet", err, sizeof err);

	give_reader(s, r);
	if (rc < 0) {
		fprintf(stderr, "beacon-collector: %s\n", err);
		fleet_list_free(out);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

static enum store_status
pg_fleet_get(struct store *s, const char *id, struct fleet_server *out)
{
	struct reader *r = take_reader(s);
	enum store_status status = STORE_UNAVAILABLE;
	const char *v[1] = { id };

	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res;
		enum pg_outcome o;

		if (conn_ensure(s, &r->c) < 0)
			break;
		res = PQexecPrepared(r->c.pg, "fleet_get", 1, v, NULL, NULL, 0);
		o = outcome(r->c.pg, res);
		if (o == PG_DONE) {
			if (PQntuples(res) == 1)
				status = fleet_row(res, 0, out, true) ?
				    STORE_OK : STORE_UNAVAILABLE;
			else
				status = STORE_NOT_FOUND;
		}
		PQclear(res);
		if (o != PG_LOST)
			break;
	}
	give_reader(s, r);
	if (status == STORE_UNAVAILABLE)
		fleet_server_free(out);
	return status;
}

/* ---- each server's changes, read and pruned ----------------------------- */

struct changes_read_arg {
	const char *id;
	char since[24], limit[24];
	struct fleet_history *out;
};

static enum pg_outcome
changes_read_tx(PGconn *pg, void *arg)
{
	struct changes_read_arg *a = arg;
	const char *v[3] = { a->id, a->since, a->limit };
	PGresult *res;
	enum pg_outcome o;

	fleet_history_free(a->out);
	res = PQexecPrepared(pg, "changes_read", 3, v, NULL, NULL, 0);
	o = outcome(pg, res);
	if (o == PG_DONE && PQntuples(res) > 0) {
		size_t n = (size_t)PQntuples(res);
		bool oom = (a->out->v = calloc(n, sizeof *a->out->v)) == NULL;

		for (size_t i = 0; !oom && i < n; i++) {
			a->out->n = i + 1;
			a->out->v[i].at = (time_t)value_ll(res, (int)i, 0, 0);
			a->out->v[i].kind = value_dup(res, (int)i, 1, &oom);
			a->out->v[i].detail = value_dup(res, (int)i, 2, &oom);
		}
		if (oom) {
			snprintf(last_error, sizeof last_error, "out of memory");
			o = PG_FAILED;
		}
	}
	PQclear(res);
	return o;
}

static enum store_status
pg_fleet_history(struct store *s, const char *id, time_t since, long limit,
    struct fleet_history *out)
{
	struct reader *r = take_reader(s);
	struct changes_read_arg a = { .id = id, .out = out };
	char err[512];
	int rc;

	snprintf(a.since, sizeof a.since, "%" PRId64, (int64_t)since);
	snprintf(a.limit, sizeof a.limit, "%ld", limit);
	rc = reader_tx(s, &r->c, "BEGIN READ ONLY", changes_read_tx, &a, "changes",
	    err, sizeof err);
	give_reader(s, r);
	if (rc < 0) {
		fprintf(stderr, "beacon-collector: %s\n", err);
		fleet_history_free(out);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

struct prune_arg {
	char cutoff[24];
	long deleted;
};

static enum pg_outcome
prune_tx(PGconn *pg, void *arg)
{
	struct prune_arg *a = arg;
	const char *v[1] = { a->cutoff };
	PGresult *res = PQexecPrepared(pg, "changes_prune", 1, v, NULL, NULL, 0);
	enum pg_outcome o = outcome(pg, res);

	if (o == PG_DONE)
		a->deleted = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return o;
}

static int
pg_changes_prune(struct store *s, time_t cutoff, long *deleted, char *err,
    size_t errlen)
{
	struct reader *r = take_reader(s);
	struct prune_arg a = { .deleted = 0 };
	int rc;

	snprintf(a.cutoff, sizeof a.cutoff, "%" PRId64, (int64_t)cutoff);
	rc = reader_tx(s, &r->c, "BEGIN", prune_tx, &a, "changes", err, errlen);
	give_reader(s, r);
	*deleted = a.deleted;
	return rc;
}

/* ---- open and close ---------------------------------------------------- */

static void
pg_close(struct store *s)
{
	job_queue_close(&s->queue);
	for (int i = 0; i < WORKERS; i++) {
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
		PQfinish(s->workers[i].c.pg);
	}
	folder_stop(s);
	for (int i = 0; i < READERS; i++)
		PQfinish(s->readers[i].c.pg);
	lock_pool_destroy(&s->reader_locks);
	job_queue_destroy(&s->queue);
	pthread_mutex_destroy(&s->down_lock);
	free(s->uri);
	free(s);
}

int
store_pg_open(const char *uri, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL || (s->uri = strdup(uri)) == NULL) {
		free(s);
		snprintf(err, errlen, "postgresql: out of memory");
		return -1;
	}
	s->head.ops = &pg_ops;
	job_queue_init(&s->queue);
	lock_pool_init(&s->reader_locks, READERS);
	pthread_mutex_init(&s->down_lock, NULL);

	/* The first connection migrates before any statement is prepared
	 * on the others (a fresh database has no table to prepare against). */
	s->workers[0].c.pg = connect_uri(s->uri);
	if (s->workers[0].c.pg == NULL) {
		snprintf(err, errlen, "postgresql: out of memory");
		goto fail;
	}
	if (PQstatus(s->workers[0].c.pg) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect",
		    PQerrorMessage(s->workers[0].c.pg));
		goto fail;
	}
	if (migrate(s->workers[0].c.pg, err, errlen) < 0 ||
	    prepare_all(s->workers[0].c.pg, err, errlen) < 0)
		goto fail;
	s->workers[0].c.ready = true;
	for (int i = 1; i < WORKERS; i++)
		if (conn_first(s, &s->workers[i].c, err, errlen) < 0)
			goto fail;
	for (int i = 0; i < READERS; i++)
		if (conn_first(s, &s->readers[i].c, err, errlen) < 0)
			goto fail;
	if (folder_start(s, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < WORKERS; i++) {
		s->workers[i].s = s;
		if (pthread_create(&s->workers[i].thread, NULL, worker_main,
		    &s->workers[i]) != 0) {
			snprintf(err, errlen, "postgresql: cannot start a "
			    "worker thread");
			goto fail;
		}
		s->workers[i].started = true;
	}
	*out = s;
	return 0;
fail:
	pg_close(s);
	return -1;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.submit = pg_submit,
	.lookup = pg_lookup,
	.ping = pg_ping,
	.retention = pg_retention,
	.stats_read = pg_stats_read,
	.stats_expire = pg_stats_expire,
	.stats_daily = pg_stats_daily,
	.stats_history = pg_stats_history,
	.fleet_list = pg_fleet_list,
	.fleet_get = pg_fleet_get,
	.fleet_history = pg_fleet_history,
	.changes_prune = pg_changes_prune,
};
