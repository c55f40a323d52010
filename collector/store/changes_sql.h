/*
 * Each server's history of changes (COLLECTOR.md §5, the fleet view's
 * memory): small rows (server, when, kind, detail) written in the
 * accepted report's own transaction (changes.h says what a row holds),
 * pruned past history_days and deleted with the server.  Created with IF
 * NOT EXISTS at open, outside the numbered schema: the table stands on its
 * own and no other changes for it.  Both backends include this header
 * after defining STORE_SQL_PARAM(n); every value is bound.
 */
#ifndef COLLECTOR_CHANGES_SQL_H
#define COLLECTOR_CHANGES_SQL_H

#ifndef STORE_SQL_PARAM
#error "define STORE_SQL_PARAM(n) before including changes_sql.h"
#endif
#define CP_ STORE_SQL_PARAM

/* seq: the row's place among those of one report. */
/* SQLite: a trigger deletes a server's rows with it (retention). */
#define CHANGES_SQL_CREATE_SQLITE \
	"CREATE TABLE IF NOT EXISTS server_changes (server_id TEXT NOT NULL," \
	" at INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL," \
	" detail TEXT NOT NULL)", \
	"CREATE INDEX IF NOT EXISTS server_changes_by_server" \
	" ON server_changes (server_id, at)", \
	"CREATE INDEX IF NOT EXISTS server_changes_by_at ON server_changes (at)", \
	"CREATE TRIGGER IF NOT EXISTS server_changes_gone AFTER DELETE ON servers" \
	" BEGIN DELETE FROM server_changes WHERE server_id = old.id; END"

/* PostgreSQL: the foreign key deletes them (run under the migration's
 * advisory lock: IF NOT EXISTS alone races another instance). */
#define CHANGES_SQL_CREATE_PG \
	"CREATE TABLE IF NOT EXISTS server_changes (server_id TEXT NOT NULL" \
	" REFERENCES servers (id) ON DELETE CASCADE, at BIGINT NOT NULL," \
	" seq INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL)", \
	"CREATE INDEX IF NOT EXISTS server_changes_by_server" \
	" ON server_changes (server_id, at)", \
	"CREATE INDEX IF NOT EXISTS server_changes_by_at ON server_changes (at)"

/* What the changes are made of, read after the UPDATE and before the
 * summary is replaced (changes_for_job, store_backend.h): the summary
 * before (its own lines, its module lines), the latest report's rest, the
 * previous one's diff and module set (pack.h): id. */
#define CHANGES_SQL_PREVIOUS \
	"SELECT summary, (SELECT body FROM module_sets WHERE hash = summary_set)," \
	" report, previous_report, (SELECT body FROM module_sets" \
	" WHERE hash = previous_modules_set) FROM servers WHERE id = " CP_(1)

/* id, at, seq, kind, detail. */
#define CHANGES_SQL_INSERT \
	"INSERT INTO server_changes (server_id, at, seq, kind, detail)" \
	" VALUES (" CP_(1) ", " CP_(2) ", " CP_(3) ", " CP_(4) ", " CP_(5) ")"

/* The server's rows older than history_days: id, cutoff.  One server's,
 * in its own transaction (its row is locked already: no contention). */
#define CHANGES_SQL_PRUNE_ONE \
	"DELETE FROM server_changes WHERE server_id = " CP_(1) \
	" AND at < " CP_(2)

/* Every server's rows older than history_days: cutoff (the periodic job). */
#define CHANGES_SQL_PRUNE \
	"DELETE FROM server_changes WHERE at < " CP_(1)

/* The history of one server, newest first: id, since, limit. */
#define CHANGES_SQL_READ \
	"SELECT at, kind, detail FROM server_changes WHERE server_id = " CP_(1) \
	" AND at >= " CP_(2) " ORDER BY at DESC, seq LIMIT " CP_(3)

#endif
