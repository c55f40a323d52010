/*
 * The SQL both backends run, written once.  The dialects differ in how a
 * parameter is written (SQLite ?N, PostgreSQL $N), so each backend defines
 * STORE_SQL_PARAM(n) before including this header; every value is bound,
 * none is ever spliced into the text.  The tables themselves are created by
 * each backend's own migrations (SQLite INTEGER, PostgreSQL BIGINT: the same
 * columns, the same meaning).
 */
#ifndef COLLECTOR_STORE_SQL_H
#define COLLECTOR_STORE_SQL_H

#ifndef STORE_SQL_PARAM
#error "define STORE_SQL_PARAM(n) before including store_sql.h"
#endif
#define P_ STORE_SQL_PARAM

/* One server's state, in the column order read_state() expects. */
#define STORE_SQL_SELECT \
	"SELECT token_id, token_issued, prev_token_id, prev_token_issued," \
	" first_seen, last_seen, last_update, reports FROM servers" \
	" WHERE id = " P_(1)

/* A registration: id, token id, token issued, now. */
#define STORE_SQL_INSERT \
	"INSERT INTO servers (id, token_id, token_issued, first_seen," \
	" last_seen, reports) VALUES (" P_(1) ", " P_(2) ", " P_(3) ", " \
	P_(4) ", " P_(4) ", 0)"

/* An accepted update: id, tokens (current, previous), times, count, the
 * report's rest (pack.h), the previous report as a diff against it, the
 * hash of its module set (NULL: none).  The module set before becomes the
 * previous report's. */
#define STORE_SQL_UPDATE \
	"UPDATE servers SET token_id = " P_(2) ", token_issued = " P_(3) "," \
	" prev_token_id = " P_(4) ", prev_token_issued = " P_(5) "," \
	" last_seen = " P_(6) ", last_update = " P_(7) ", reports = " P_(8) "," \
	" previous_report = " P_(10) ", previous_modules_set = modules_set," \
	" report = " P_(9) ", modules_set = " P_(11) " WHERE id = " P_(1)

/* The latest report's rest, which the next one's diff is made against. */
#define STORE_SQL_OLD_REPORT \
	"SELECT report FROM servers WHERE id = " P_(1)

/* Schema 5: module_sets (hash TEXT PRIMARY KEY, body TEXT NOT NULL), each
 * distinct modules array, and each distinct set of a summary's module
 * lines, kept once (pack.h).  A set is written only when missing. */
#define STORE_SQL_SET_HAS "SELECT 1 FROM module_sets WHERE hash = " P_(1)
#define STORE_SQL_SET_PUT \
	"INSERT INTO module_sets (hash, body) VALUES (" P_(1) ", " P_(2) ")" \
	" ON CONFLICT (hash) DO NOTHING"
/* A set's body by the hash a servers column holds (NULL: none). */
#define STORE_SQL_SET_BODY(col) \
	"(SELECT body FROM module_sets WHERE hash = " col ")"
/* The sets no server refers to any more, deleted with retention. */
#define STORE_SQL_SETS_GC \
	"DELETE FROM module_sets WHERE hash NOT IN (" \
	"SELECT modules_set FROM servers WHERE modules_set IS NOT NULL" \
	" UNION SELECT previous_modules_set FROM servers" \
	" WHERE previous_modules_set IS NOT NULL" \
	" UNION SELECT summary_set FROM servers WHERE summary_set IS NOT NULL)"
/* Schema 5's new columns (the same types on both backends). */
#define STORE_SQL_V5_COLUMNS \
	"ALTER TABLE servers ADD COLUMN modules_set TEXT", \
	"ALTER TABLE servers ADD COLUMN previous_modules_set TEXT", \
	"ALTER TABLE servers ADD COLUMN summary_set TEXT", \
	"CREATE TABLE module_sets (hash TEXT PRIMARY KEY, body TEXT NOT NULL)"
/* The migration to schema 5 rewrites each server's row (pack.h): id,
 * report, previous report, their module sets, summary, summary set. */
#define STORE_SQL_V5_PICK \
	"SELECT id, report, previous_report, summary FROM servers" \
	" WHERE report IS NOT NULL OR summary IS NOT NULL"
#define STORE_SQL_V5_REWRITE \
	"UPDATE servers SET report = " P_(2) ", previous_report = " P_(3) "," \
	" modules_set = " P_(4) ", previous_modules_set = " P_(5) "," \
	" summary = " P_(6) ", summary_set = " P_(7) " WHERE id = " P_(1)

/* Retention is in stats_sql.h (STATS_SQL_RETENTION_PICK and
 * STATS_SQL_DELETE_ONE): a deleted server's figures leave the counters
 * with it.  DELETE_ONE's last_seen test is not redundant: a server that
 * has reported since it was picked must not be deleted. */

#define STORE_SQL_INDEX \
	"CREATE INDEX servers_by_last_seen ON servers (last_seen)"

#endif
