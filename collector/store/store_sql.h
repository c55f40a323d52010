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

/* An accepted update: id, tokens (current, previous), times, count, body. */
#define STORE_SQL_UPDATE \
	"UPDATE servers SET token_id = " P_(2) ", token_issued = " P_(3) "," \
	" prev_token_id = " P_(4) ", prev_token_issued = " P_(5) "," \
	" last_seen = " P_(6) ", last_update = " P_(7) ", reports = " P_(8) "," \
	" previous_report = report, report = " P_(9) " WHERE id = " P_(1)

/* Retention is in stats_sql.h (STATS_SQL_RETENTION_PICK and
 * STATS_SQL_DELETE_ONE): a deleted server's figures leave the counters
 * with it.  DELETE_ONE's last_seen test is not redundant: a server that
 * has reported since it was picked must not be deleted. */

#define STORE_SQL_INDEX \
	"CREATE INDEX servers_by_last_seen ON servers (last_seen)"

#endif
