#!/usr/bin/env bats
# The PostgreSQL backend against a real PostgreSQL (issue 14): a wrong
# connection string, two collectors racing on one database, PostgreSQL
# restarted under load, pg_dump/pg_restore.  This file makes its own
# throwaway cluster (tests/pg.sh: it restarts it, so it never shares the
# suite's); without PostgreSQL's binaries every test FAILS, never skips -
# CI installs them, and `make check` runs this file only in its PostgreSQL
# pass.

load helpers
load collector_pg_helpers

setup_file() {
	harness_setup_file
	export PG_DIR=
	if "$REPO/tests/pg.sh" available; then
		PG_DIR=$("$REPO/tests/pg.sh" start) || PG_DIR=
	fi
}

teardown_file() {
	[ -z "${PG_DIR:-}" ] || "$REPO/tests/pg.sh" stop "$PG_DIR"
}

setup() {
	harness_setup
	[ -n "${PG_DIR:-}" ] ||
		flunk "no PostgreSQL cluster: /usr/lib/postgresql/*/bin/initdb missing or it did not start (apt-get install postgresql)"
	export COLLECTOR_TEST_DATABASE
	COLLECTOR_TEST_DATABASE=$("$REPO/tests/pg.sh" uri "$PG_DIR")
}

# put_line URL ID TOKEN MARK: "ID MARK CODE TOKEN_ID", for xargs -P.
put_line() {
	printf '%s %s %s\n' "$2" "$4" "$(pgc_put "$@")"
}

@test "postgresql: a wrong connection string exits 5 with libpq's own words" {
	# No such database on a cluster that is up.
	pgc_clock 2026-01-01T00:00:00Z
	cat >"$BATS_TEST_TMPDIR/bad.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:1
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = postgresql:///no_such_db?host=$PG_DIR&user=beacon
EOF
	run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/bad.ini"
	assert_status 5
	assert_stderr_contains 'database "no_such_db" does not exist'
	assert_stderr_contains 'postgresql: cannot connect'
	# No server on that socket.
	sed -i "s|^database = .*|database = postgresql:///beacon?host=$BATS_TEST_TMPDIR/none\&user=beacon|" \
		"$BATS_TEST_TMPDIR/bad.ini"
	run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/bad.ini"
	assert_status 5
	assert_stderr_contains 'No such file or directory'
	# Not a URI libpq can parse.
	sed -i 's|^database = .*|database = postgresql://[::1|' "$BATS_TEST_TMPDIR/bad.ini"
	run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/bad.ini"
	assert_status 5
	assert_stderr_contains "in IPv6 host address in URI"
	# Every message is one line.
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "postgresql: a schema newer than the binary exits 5 and says so" {
	local db
	db=$(collector_test_database)
	pgc_start a "$db"
	stop_collectors
	pgc_psql "$db" "UPDATE beacon_schema SET version = 99"
	cp "$BATS_TEST_TMPDIR/a.ini" "$BATS_TEST_TMPDIR/b.ini"
	run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/b.ini"
	assert_status 5
	assert_stderr_contains 'schema version 99 is newer than this binary'
}

@test "postgresql: two instances starting at once on an empty database migrate once" {
	local db
	db=$(collector_test_database)
	# (wait on the first start's subshell only: the collectors are jobs too)
	pgc_start a "$db" &
	local first=$!
	pgc_start b "$db"
	wait "$first"
	grep -q listening "$BATS_TEST_TMPDIR/a.log"
	grep -q listening "$BATS_TEST_TMPDIR/b.log"
	is "$(pgc_psql "$db" 'SELECT count(*), max(version) FROM beacon_schema')" "1|5"
	is "$(pgc_psql "$db" "SELECT n FROM stat_counts WHERE dimension = 'known'")" 0
}

# The twin of collector_stats.bats' SQLite migration test.
@test "postgresql: a version 1 database is migrated to 5 (known servers counted, report days from first and last seen); a newer one is refused" {
	local db
	db=$(collector_test_database)
	pgc_psql "$db" "CREATE TABLE beacon_schema (version INTEGER NOT NULL);
INSERT INTO beacon_schema VALUES (1);
CREATE TABLE servers (id TEXT PRIMARY KEY, token_id TEXT NOT NULL, token_issued BIGINT NOT NULL,
 prev_token_id TEXT, prev_token_issued BIGINT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
 last_update BIGINT, reports BIGINT NOT NULL DEFAULT 0, report TEXT, previous_report TEXT);
CREATE INDEX servers_by_last_seen ON servers (last_seen);
INSERT INTO servers VALUES ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
 1796126400, NULL, NULL, 1796126400, 1796126400, 1796126400, 1, '{}', NULL);"
	pgc_clock 2026-12-01T12:00:00Z
	cat >"$BATS_TEST_TMPDIR/m.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:1
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = $db
[privacy]
min_group = 1
active_days = 7
EOF
	BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/clock" \
		run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/m.ini" --stats --json
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/body"
	is "$(jq -c .totals "$BATS_TEST_TMPDIR/body")" '{"servers_known":1,"servers_active":0,"servers_new_7d":1}'
	is "$(pgc_psql "$db" 'SELECT count(*), max(version) FROM beacon_schema')" "1|5"
	is "$(pgc_psql "$db" "SELECT key, n FROM stat_counts WHERE dimension = 'first_seen'")" "2026-12-01|1"
	is "$(pgc_psql "$db" "SELECT report_days, last_report_day, calls_active IS NULL FROM servers")" "1|2026-12-01|t"
	pgc_psql "$db" "UPDATE beacon_schema SET version = 6"
	BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/clock" \
		run --separate-stderr "$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/m.ini" --stats
	assert_status 5
	assert_stderr_contains "newer than this binary"
}

@test "postgresql: two collectors racing on one database: one new token per renewal, no acknowledged report lost" {
	local db n=50 round id tok mark url ids=() toks=() i line
	db=$(collector_test_database)
	pgc_clock 2026-03-01T00:00:00Z
	pgc_start a "$db"
	pgc_start b "$db"
	for ((i = 0; i < n; i++)); do
		read -r id tok < <(pgc_register "$a_URL")
		assert_uuid "server id" "$id"
		ids+=("$id")
		toks+=("$tok")
	done
	export -f put_line pgc_put pgc_curl
	export TEST_CA
	# Two renewal moments: each time the current token has less than 24 h
	# left, so the first accepted PUT of each server renews it, and three
	# more PUTs (two on each instance, all at once) race with it.
	for round in 1 2; do
		if [ "$round" = 1 ]; then
			pgc_clock 2026-03-02T00:01:00Z
		else
			pgc_clock 2026-03-03T00:02:00Z
		fi
		: >"$BATS_TEST_TMPDIR/round$round"
		for ((i = 0; i < n; i++)); do
			for mark in 1 2 3 4; do
				if ((mark % 2)); then url=$a_URL; else url=$b_URL; fi
				printf '%s %s %s %s\n' "$url" "${ids[i]}" "${toks[i]}" "$round$mark"
			done
		done | xargs -P 64 -n 4 bash -c 'put_line "$@"' _ >"$BATS_TEST_TMPDIR/round$round"
		is "$(wc -l <"$BATS_TEST_TMPDIR/round$round")" $((n * 4))
		# Every PUT was acknowledged (the old token is still valid: it is
		# "the one before" once renewed).
		run awk '$3 != 200' "$BATS_TEST_TMPDIR/round$round"
		assert_output ""
		for ((i = 0; i < n; i++)); do
			# One distinct new token per server and round, not the old one.
			run bash -c "awk -v id=${ids[i]} '\$1 == id { print \$4 }' '$BATS_TEST_TMPDIR/round$round' | sort -u"
			[ "${#lines[@]}" -eq 1 ] || flunk "server ${ids[i]} round $round got ${#lines[@]} tokens:" "$output"
			isnt "${lines[0]}" "${toks[i]}"
			# The database holds that token, the old one as the one
			# before, and every acknowledged report was counted.
			line=$(pgc_psql "$db" "SELECT token_id, prev_token_id, reports FROM servers WHERE id = '${ids[i]}'")
			is "$line" "${lines[0]}|${toks[i]}|$((round * 4))"
			toks[i]=${lines[0]}
		done
	done
	# And no 5xx on either instance.
	run grep -h ' 5[0-9][0-9] [0-9]* ms$' "$BATS_TEST_TMPDIR/a.log" "$BATS_TEST_TMPDIR/b.log"
	assert_output ""
	# The statistics' counters, changed by both instances at once, agree
	# with a recount of the servers: as every reader sees them
	# (stat_current) at once, and folded into stat_counts by one of the
	# two within a few seconds while both run, no delta left behind.
	is "$(pgc_psql "$db" "SELECT n FROM stat_current WHERE dimension = 'known'")" "$n"
	is "$(pgc_psql "$db" "SELECT n FROM stat_current WHERE dimension = 'servers' AND key = 'active'")" \
		"$(pgc_psql "$db" 'SELECT count(*) FROM servers WHERE counted = 1')"
	for ((i = 0; i < 50; i++)); do
		[ "$(pgc_psql "$db" 'SELECT count(*) FROM stat_deltas')" = 0 ] && break
		sleep 0.1
	done
	is "$(pgc_psql "$db" 'SELECT count(*) FROM stat_deltas')" 0
	is "$(pgc_psql "$db" "SELECT n FROM stat_counts WHERE dimension = 'known'")" "$n"
	is "$(pgc_psql "$db" "SELECT count(*) FROM stat_current c FULL JOIN stat_counts s USING (dimension, key) WHERE c.n IS DISTINCT FROM s.n")" 0
}

@test "postgresql: restarted under load: 503 while it is down, /healthz back to 200, reconnected by itself, nothing acknowledged lost" {
	local db n=12 i id tok ids=() toks=() w
	db=$(collector_test_database)
	pgc_clock 2026-03-01T00:00:00Z
	pgc_start a "$db"
	for ((i = 0; i < n; i++)); do
		read -r id tok < <(pgc_register "$a_URL")
		ids+=("$id")
		toks+=("$tok")
	done
	is "$(pgc_healthz "$a_URL")" 200
	# Four clients, each reporting its three servers in turn with rising
	# marks, until told to stop.
	local loaders=()
	for w in 0 1 2 3; do
		(
			m=0
			while [ ! -e "$BATS_TEST_TMPDIR/stop.flag" ]; do
				for i in $((w * 3)) $((w * 3 + 1)) $((w * 3 + 2)); do
					m=$((m + 1))
					printf '%s %s %s\n' "${ids[i]}" "$m" "$(pgc_put "$a_URL" "${ids[i]}" "${toks[i]}" "$m")"
				done
			done >"$BATS_TEST_TMPDIR/load$w"
		) &
		loaders+=($!)
	done
	sleep 1
	# A restart as an operator does it, under load...
	"$REPO/tests/pg.sh" restart "$PG_DIR"
	sleep 1
	# ...and an outage long enough to look at.
	"$REPO/tests/pg.sh" down "$PG_DIR"
	sleep 0.5
	is "$(pgc_healthz "$a_URL")" 503
	is "$(pgc_put "$a_URL" "${ids[0]}" "${toks[0]}" 0)" "503 -"
	"$REPO/tests/pg.sh" up "$PG_DIR"
	# Back by itself: the same process, within a few seconds.
	for ((i = 0; i < 100; i++)); do
		[ "$(pgc_healthz "$a_URL")" = 200 ] && break
		sleep 0.1
	done
	is "$(pgc_healthz "$a_URL")" 200
	sleep 1
	touch "$BATS_TEST_TMPDIR/stop.flag"
	wait "${loaders[@]}"
	kill -0 "$a_PID"
	cat "$BATS_TEST_TMPDIR"/load? >"$BATS_TEST_TMPDIR/all"
	# Only 200 and 503, both seen, and 200s again after the outage.
	run awk '$3 != 200 && $3 != 503' "$BATS_TEST_TMPDIR/all"
	assert_output ""
	grep -q ' 503 -$' "$BATS_TEST_TMPDIR/all"
	for w in 0 1 2 3; do
		[ "$(tail -n 3 "$BATS_TEST_TMPDIR/load$w" | awk '$3 == 200' | wc -l)" -eq 3 ] ||
			flunk "client $w did not recover:" "$(tail -n 5 "$BATS_TEST_TMPDIR/load$w")"
	done
	is "$(pgc_put "$a_URL" "${ids[0]}" "${toks[0]}" 999999)" "200 ${toks[0]}"
	# Nothing acknowledged lost: per server, at least as many reports as
	# 200s (a 503 whose COMMIT went through may add one), and the stored
	# report is the last acknowledged one or a later one.
	for ((i = 1; i < n; i++)); do
		local acked last stored
		acked=$(awk -v id="${ids[i]}" '$1 == id && $3 == 200' "$BATS_TEST_TMPDIR/all" | wc -l)
		last=$(awk -v id="${ids[i]}" '$1 == id && $3 == 200 { m = $2 } END { print m }' "$BATS_TEST_TMPDIR/all")
		IFS='|' read -r stored mark < <(pgc_psql "$db" \
			"SELECT reports, (report::json)->>'test_mark' FROM servers WHERE id = '${ids[i]}'")
		[ "$acked" -gt 0 ] && [ "$stored" -ge "$acked" ] && [ "$mark" -ge "$last" ] ||
			flunk "server ${ids[i]}: $acked acknowledged (last $last), $stored stored (last $mark)"
	done
	grep -q 'postgresql: connection lost' "$BATS_TEST_TMPDIR/a.log"
	grep -q 'postgresql: reconnected' "$BATS_TEST_TMPDIR/a.log"
}

@test "postgresql: pg_dump -Fc / pg_restore round trip keeps a token issued before the backup" {
	local db copy id tok name
	db=$(collector_test_database)
	pgc_clock 2026-03-01T00:00:00Z
	pgc_start a "$db"
	read -r id tok < <(pgc_register "$a_URL")
	is "$(pgc_put "$a_URL" "$id" "$tok" 1)" "200 $tok"
	"$(collector_pg_bindir)/pg_dump" -Fc -d "$db" -f "$BATS_TEST_TMPDIR/beacon.dump"
	stop_collectors
	# Restore into a fresh, empty database, as after losing the first.
	copy=$(collector_test_database)
	"$(collector_pg_bindir)/pg_restore" --no-owner -d "$copy" "$BATS_TEST_TMPDIR/beacon.dump"
	pgc_clock 2026-03-01T12:00:00Z
	pgc_start b "$copy"
	is "$(pgc_put "$b_URL" "$id" "$tok" 2)" "200 $tok"
	is "$(pgc_psql "$copy" "SELECT reports FROM servers WHERE id = '$id'")" 2
	# Someone else's token is still refused on the copy.
	is "$(pgc_put "$b_URL" "$id" 00000000-0000-4000-8000-000000000000 3)" "401 -"
}

# fold_lock_holders URI GRANTED: the sessions holding (t) or waiting for
# (f) the advisory lock the collectors fold the statistics' changes under
# (store_pg.c FOLD_LOCK_KEY: a bigint key whose high half is 0).
fold_lock_holders() {
	pgc_psql "$1" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND classid = 0 AND objid = 4242771418 AND granted = $2"
}

@test "postgresql: the statistics' changes wait while another holds the fold's lock, figures right; a stop waits its turn and folds them; retention's are folded and the empty counters go" {
	local db i id tok holder rc
	db=$(collector_test_database)
	pgc_clock 2026-03-01T00:00:00Z
	pgc_start a "$db"
	# Another session (another collector, say) holds the lock for as long
	# as this test wants.
	PGAPPNAME=fold-holder pgc_psql "$db" "SELECT pg_advisory_lock(4242771418); SELECT pg_sleep(60)" &
	holder=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(fold_lock_holders "$db" true)" = 1 ] && break
		sleep 0.05
	done
	is "$(fold_lock_holders "$db" true)" 1
	for i in 1 2 3; do
		read -r id tok < <(pgc_register "$a_URL")
		is "$(pgc_put "$a_URL" "$id" "$tok" "$i")" "200 $tok"
	done
	sleep 2.5 # two periods of the fold: skipped, the lock is taken
	isnt "$(pgc_psql "$db" 'SELECT count(*) FROM stat_deltas')" 0
	is "$(pgc_psql "$db" "SELECT n FROM stat_counts WHERE dimension = 'known'")" 0
	is "$(pgc_psql "$db" "SELECT n FROM stat_current WHERE dimension = 'known'")" 3
	run pgc_curl "$a_URL/api/v1/stats"
	is "$(head -n -1 <<<"$output" | jq -c .totals)" '{"servers_known":3,"servers_active":3,"servers_new_7d":3}'
	# SIGTERM: the last fold waits for the lock rather than skip it.
	kill -TERM "$a_PID"
	for ((i = 0; i < 200; i++)); do
		[ "$(fold_lock_holders "$db" false)" = 1 ] && break
		sleep 0.05
	done
	is "$(fold_lock_holders "$db" false)" 1
	kill -0 "$a_PID"
	pgc_psql "$db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'fold-holder'" >/dev/null
	wait "$holder" || true
	rc=0
	wait "$a_PID" || rc=$?
	is "$rc" 0
	is "$(pgc_psql "$db" 'SELECT count(*) FROM stat_deltas')" 0
	is "$(pgc_psql "$db" "SELECT n FROM stat_counts WHERE dimension = 'known'")" 3
	is "$(pgc_psql "$db" "SELECT n FROM stat_counts WHERE dimension = 'servers' AND key = 'active'")" 3
	# Past retention_days (400): retention at start takes the three away;
	# its changes are folded while the collector runs, and the counters
	# left at 0 are deleted with the fold (all but known and servers).
	pgc_clock 2027-06-01T00:00:00Z
	pgc_start b "$db"
	for ((i = 0; i < 100; i++)); do
		# (one statement, one snapshot: deleted and folded)
		[ "$(pgc_psql "$db" 'SELECT (SELECT count(*) FROM servers) +
			(SELECT count(*) FROM stat_deltas)')" = 0 ] && break
		sleep 0.1
	done
	is "$(pgc_psql "$db" 'SELECT count(*) FROM servers')" 0
	is "$(pgc_psql "$db" 'SELECT count(*) FROM stat_deltas')" 0
	is "$(pgc_psql "$db" 'SELECT count(*) FROM stat_counts WHERE n <> 0')" 0
	is "$(pgc_psql "$db" "SELECT string_agg(dimension || '/' || key, ',' ORDER BY dimension) FROM stat_counts")" "known/,servers/active"
}
