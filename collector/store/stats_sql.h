/*
 * The SQL of the statistics (stats.h), written once for both backends:
 * each defines STORE_SQL_PARAM(n) ("?n" for SQLite, "$n" for PostgreSQL)
 * before including this header.  Every value is bound.
 *
 * Tables (schema version 2; PostgreSQL: BIGINT for INTEGER):
 *   stat_counts (dimension TEXT, key TEXT, n INTEGER, PRIMARY KEY (dimension, key))
 *   stats_daily (day TEXT, dimension TEXT, key TEXT, n INTEGER,
 *                PRIMARY KEY (day, dimension, key))
 *   servers: + summary TEXT, + counted INTEGER NOT NULL DEFAULT 0
 * The rows ("servers", "active") and ("known", "") always exist.  The
 * migration also fills ("first_seen", day) from the stored servers (SQLite:
 * strftime('%Y-%m-%d', first_seen, 'unixepoch'); PostgreSQL:
 * to_char(to_timestamp(first_seen) AT TIME ZONE 'UTC', 'YYYY-MM-DD')).
 *
 * Schema version 3: the view stat_current (dimension, key, n), the
 * counters as they stand, which is what every reader reads.  On SQLite it
 * is stat_counts itself (one writer bumps the rows in place).  On
 * PostgreSQL the writers append their changes to stat_deltas and one
 * consumer folds them into stat_counts (store_pg.c: bumping the same hot
 * rows from many transactions at once would queue them on row locks);
 * the view is stat_counts plus the deltas not folded yet.
 */
#ifndef COLLECTOR_STATS_SQL_H
#define COLLECTOR_STATS_SQL_H

#ifndef STORE_SQL_PARAM
#error "define STORE_SQL_PARAM(n) before including stats_sql.h"
#endif
#define SP_ STORE_SQL_PARAM

/* One counter change in place: dimension, key, delta (SQLite; PostgreSQL
 * appends its changes to stat_deltas instead, see store_pg.c). */
#define STATS_SQL_BUMP \
	"INSERT INTO stat_counts (dimension, key, n) VALUES (" SP_(1) ", " \
	SP_(2) ", " SP_(3) ") ON CONFLICT (dimension, key)" \
	" DO UPDATE SET n = stat_counts.n + excluded.n"

/* A server's contribution, read under the report's transaction (PG: add
 * FOR UPDATE, or read it with the SELECT ... FOR UPDATE it already does). */
/* Schema 5: a summary is stored as its own lines (summary) and the hash
 * of its module lines (summary_set, in module_sets: pack.h); each read
 * gives both, joined by summary_join. */
#define STATS_SQL_SUMMARY_SET \
	"(SELECT body FROM module_sets WHERE hash = summary_set)"
#define STATS_SQL_SERVER_GET \
	"SELECT counted, summary, " STATS_SQL_SUMMARY_SET \
	" FROM servers WHERE id = " SP_(1)

#define STATS_SQL_SERVER_SET \
	"UPDATE servers SET summary = " SP_(2) ", counted = " SP_(3) "," \
	" summary_set = " SP_(4) " WHERE id = " SP_(1)

/* Bounded keys (summary.h stats_bound): is (dimension 1, key 2) counted
 * by name now; how many keys dimension 1 counts by name. */
#define STATS_SQL_KEY_EXISTS \
	"SELECT 1 FROM stat_current WHERE dimension = " SP_(1) " AND key = " \
	SP_(2) " AND n > 0"
#define STATS_SQL_DIM_KEYS \
	"SELECT count(*) FROM stat_current WHERE dimension = " SP_(1) " AND n > 0"

/* Schema 4.  An accepted report: one more report day when its UTC day
 * (2, "YYYY-MM-DD") is later than the last one (a clock gone back counts
 * no day twice), and the report's calls (3 active, 4 processed) for the
 * largest share of a sum (STATS_SQL_CALLS_MAX).  Returns report_days. */
#define STATS_SQL_REPORT_DAY STATS_SQL_REPORT_DAY_SET " RETURNING report_days"
/* The same without RETURNING, which SQLite has only from 3.35 (Debian 11
 * has 3.34): store_sqlite.c reads the days with STATS_SQL_REPORT_DAYS. */
#define STATS_SQL_REPORT_DAYS \
	"SELECT report_days FROM servers WHERE id = " SP_(1)
#define STATS_SQL_REPORT_DAY_SET \
	"UPDATE servers SET report_days = report_days + CASE WHEN" \
	" last_report_day IS NULL OR last_report_day < " SP_(2) " THEN 1 ELSE 0 END," \
	" last_report_day = CASE WHEN last_report_day IS NULL OR" \
	" last_report_day < " SP_(2) " THEN " SP_(2) " ELSE last_report_day END," \
	" calls_active = " SP_(3) ", calls_processed = " SP_(4) \
	" WHERE id = " SP_(1)

/* One batch of servers to stop counting (PG: + " FOR UPDATE SKIP LOCKED"):
 * silent since before 1, or not established (reported on fewer than 2
 * distinct days: a database migrated from schema 3, or established_days
 * raised). */
#define STATS_SQL_EXPIRE_PICK \
	"SELECT id, summary, " STATS_SQL_SUMMARY_SET " FROM servers" \
	" WHERE counted = 1 AND (last_seen < " \
	SP_(1) " OR report_days < " SP_(2) ") LIMIT 500"

/* The largest single contribution to each sum, over the counted servers,
 * and how many of them have none known (migrated: the sums stay hidden
 * until each has reported again). */
#define STATS_SQL_CALLS_MAX \
	"SELECT coalesce(max(calls_active), 0), coalesce(max(calls_processed), 0)," \
	" count(*) - count(calls_active) FROM servers WHERE counted = 1"

#define STATS_SQL_UNCOUNT \
	"UPDATE servers SET counted = 0 WHERE id = " SP_(1)

/* Counters that fell to 0 (groups nobody is in any more). */
#define STATS_SQL_ZERO \
	"DELETE FROM stat_counts WHERE n = 0" \
	" AND dimension NOT IN ('servers', 'known')"

/* One batch of retention: what each deleted server contributed.  A
 * server silent since before 1, or a registration never followed by an
 * accepted report (reports = 0) made before 2 (its token expired:
 * COLLECTOR.md §5). */
#define STATS_SQL_RETENTION_WHERE(a, b) \
	" (last_seen < " SP_(a) " OR (reports = 0 AND last_seen < " SP_(b) "))"
#define STATS_SQL_RETENTION_PICK \
	"SELECT id, counted, summary, first_seen, reports, " \
	STATS_SQL_SUMMARY_SET " FROM servers" \
	" WHERE" STATS_SQL_RETENTION_WHERE(1, 2) " LIMIT 1000"

#define STATS_SQL_DELETE_ONE \
	"DELETE FROM servers WHERE id = " SP_(1) " AND" \
	STATS_SQL_RETENTION_WHERE(2, 3)

/* What a snapshot reads. */
#define STATS_SQL_COUNTS \
	"SELECT dimension, key, n FROM stat_current WHERE n <> 0"

/* The snapshot's history: the active servers (and the new and gone of
 * each day) and the major versions; the other dimensions are read by
 * GET /api/v1/history only (STATS_SQL_HISTORY_DIM). */
#define STATS_SQL_HISTORY \
	"SELECT day, dimension, key, n FROM stats_daily WHERE day >= " SP_(1) \
	" AND dimension IN ('servers', 'major') ORDER BY day"

/* Issue 22: every public figure's history.  One dimension (2), and of it
 * one key (3) or every key (3 NULL), with the servers rows of each day
 * (k-anonymity needs the day's active count); or every dimension. */
#define STATS_SQL_HISTORY_DIM \
	"SELECT day, dimension, key, n FROM stats_daily WHERE day >= " SP_(1) \
	" AND (dimension = 'servers' OR (dimension = " SP_(2) \
	" AND (CAST(" SP_(3) " AS TEXT) IS NULL OR key = " SP_(3) ")))" \
	" ORDER BY day"
#define STATS_SQL_HISTORY_ALL \
	"SELECT day, dimension, key, n FROM stats_daily WHERE day >= " SP_(1) \
	" ORDER BY day"

/* The day's history: the figures as they stand, written again by every
 * periodic job of the day, so that a day past keeps those of its last one
 * (about its end).  PRUNE first: the groups nobody is in any more; then
 * DAILY and DAILY_NEW_GONE; in one snapshot.  A row is written only when
 * its figure changed, and never for a day before the latest one stored (a
 * clock gone back must not overwrite a day past).  Two collectors on one
 * database may both run them: they write the same figures.  Every
 * dimension a public figure has a history of (issue 22); the counters
 * below min_group are kept too: k-anonymity is applied when read, as for
 * stat_counts. */
#define STATS_SQL_DAILY_DIMS \
	"('major', 'version', 'module', 'channel_driver', 'sys_name'," \
	" 'machine', 'release')"
#define STATS_SQL_DAILY_NOT_PAST \
	" AND NOT EXISTS (SELECT 1 FROM stats_daily l WHERE l.day > " SP_(1) ")"
#define STATS_SQL_DAILY_PRUNE \
	"DELETE FROM stats_daily WHERE day = " SP_(1) " AND dimension IN " \
	STATS_SQL_DAILY_DIMS " AND NOT EXISTS (SELECT 1 FROM stat_current c" \
	" WHERE c.dimension = stats_daily.dimension AND c.key = stats_daily.key" \
	" AND c.n > 0)" STATS_SQL_DAILY_NOT_PAST
#define STATS_SQL_DAILY \
	"INSERT INTO stats_daily (day, dimension, key, n)" \
	" SELECT " SP_(1) ", dimension, key, n FROM stat_current" \
	" WHERE ((dimension = 'servers' AND key = 'active') OR" \
	" (dimension IN " STATS_SQL_DAILY_DIMS " AND n > 0))" \
	STATS_SQL_DAILY_NOT_PAST \
	" ON CONFLICT (day, dimension, key) DO UPDATE SET n = excluded.n" \
	" WHERE stats_daily.n <> excluded.n"
/* The day's new servers (known servers first seen that day) and gone ones:
 * the servers whose last report fell
 * out of active_days during the day so far (last_seen in [2, 3)),
 * reported on at least 4 distinct days (established_days). */
#define STATS_SQL_DAILY_NEW_GONE \
	"INSERT INTO stats_daily (day, dimension, key, n)" \
	" SELECT " SP_(1) ", 'servers', k, v FROM (" \
	"SELECT 'new' AS k, (SELECT coalesce(sum(n), 0) FROM stat_current" \
	" WHERE dimension = 'first_seen' AND key = " SP_(1) ") AS v" \
	" UNION ALL SELECT 'gone', (SELECT count(*) FROM servers" \
	" WHERE reports > 0 AND last_seen >= " SP_(2) " AND last_seen < " \
	SP_(3) " AND report_days >= " SP_(4) ")) t WHERE true" \
	STATS_SQL_DAILY_NOT_PAST \
	" ON CONFLICT (day, dimension, key) DO UPDATE SET n = excluded.n" \
	" WHERE stats_daily.n <> excluded.n"
/* history_days: the days before 1 go. */
#define STATS_SQL_DAILY_KEEP "DELETE FROM stats_daily WHERE day < " SP_(1)

/* Schema version 2, after version 1's servers table. */
#define STATS_SQL_V2_SUMMARY "ALTER TABLE servers ADD COLUMN summary TEXT"
#define STATS_SQL_V2_COUNTED \
	"ALTER TABLE servers ADD COLUMN counted INTEGER NOT NULL DEFAULT 0"
#define STATS_SQL_V2_INDEX_COUNTED \
	"CREATE INDEX servers_counted_by_last_seen ON servers (last_seen)" \
	" WHERE counted = 1"
/* Schema version 4 (each backend adds the columns in its own types and
 * fills report_days and last_report_day from first_seen and last_seen).
 * A known server is one with an accepted report: ("known", "") and the
 * ("first_seen", day) rows count those only from now on (a registration
 * is counted at its first report), so they are counted again. */
#define STATS_SQL_V4_KNOWN \
	"UPDATE stat_counts SET n = (SELECT count(*) FROM servers" \
	" WHERE reports > 0) WHERE dimension = 'known'"
#define STATS_SQL_V4_FIRST_SEEN_DROP \
	"DELETE FROM stat_counts WHERE dimension = 'first_seen'"

#define STATS_SQL_V2_SEED \
	"INSERT INTO stat_counts (dimension, key, n) VALUES ('servers', 'active', 0)," \
	" ('known', '', (SELECT count(*) FROM servers))"

#endif
