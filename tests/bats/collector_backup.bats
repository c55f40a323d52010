#!/usr/bin/env bats
# SQLite's online backup (VACUUM INTO, safe while the collector writes):
# the copy serves a token issued before the backup.  (The PostgreSQL round
# trip, pg_dump -Fc / pg_restore, is in collector_pg.bats.)  Always on
# SQLite, in both passes of the suite.

load helpers
load collector_pg_helpers

@test "sqlite: VACUUM INTO round trip keeps a token issued before the backup" {
	local db=sqlite:$BATS_TEST_TMPDIR/beacon.db copy=$BATS_TEST_TMPDIR/backup.db id tok
	pgc_clock 2026-03-01T00:00:00Z
	pgc_start a "$db"
	read -r id tok < <(pgc_register "$a_URL")
	is "$(pgc_put "$a_URL" "$id" "$tok" 1)" "200 $tok"
	# Online: the collector is still running.
	sqlite3 "${db#sqlite:}" "VACUUM INTO '$copy'"
	is "$(pgc_put "$a_URL" "$id" "$tok" 2)" "200 $tok"
	stop_collectors
	rm -f "${db#sqlite:}" "${db#sqlite:}-wal" "${db#sqlite:}-shm"
	pgc_clock 2026-03-01T12:00:00Z
	pgc_start b "sqlite:$copy"
	is "$(pgc_put "$b_URL" "$id" "$tok" 3)" "200 $tok"
	# The copy knew one report; now two.
	is "$(collector_db_sql "sqlite:$copy" "SELECT reports FROM servers WHERE id = '$id'")" 2
	is "$(pgc_put "$b_URL" "$id" 00000000-0000-4000-8000-000000000000 4)" "401 -"
}
