#!/usr/bin/env bats
# The schema migrates forward with the data in it (COLLECTOR.md §5, issue
# 24): a database made by the collector of schema 4 (before module sets;
# tests/fixtures/collector-schema4/, made by make_schema4_fixture.bats-gen
# with that binary) is opened by this one: every report as received, every
# token, the figures and the fleet view are still there.

# shellcheck disable=SC2154  # API_*, SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

F="$REPO/tests/fixtures/collector-schema4"

setup_file() {
	harness_setup_file
	local bin="${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}"
	MIGRATE_HASH=$(printf 'fixture\n' | "$bin" --hash-password)
	export MIGRATE_HASH
}

# load_schema4: a fresh database of this pass's backend holding the
# fixture's dump; KIND (sqlite or pg) and the ids A B C set.
load_schema4() {
	BC_DATABASE=$(collector_test_database) || return 1
	export BC_DATABASE
	if on_sqlite; then
		KIND=sqlite
		sqlite3 -batch "${BC_DATABASE#sqlite:}" <"$F/schema4.sqlite.sql" || return 1
		assert_eq "schema before" 4 "$(db_sql 'PRAGMA user_version')"
	else
		KIND=pg
		"$(collector_pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -d "$BC_DATABASE" \
			-f "$F/schema4.pg.sql" >/dev/null || return 1
		assert_eq "schema before" 4 "$(db_sql 'SELECT version FROM beacon_schema')"
	fi
	{ read -r A; read -r B; read -r C; } <"$F/ids.$KIND"
	export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/collector.clock"
	set_collector_clock 2026-12-01T13:00:00Z
}

start_migrated() {
	start_beacon_collector "collector.admin_password_hash=$MIGRATE_HASH" \
		limits.requests_per_address_per_minute=0 \
		limits.registrations_per_address_per_hour=0 \
		limits.min_update_interval=0 "privacy.min_group=1" \
		"privacy.established_days=1" "$@"
}

@test "migrate: a schema 4 database with data: reports as received, tokens, figures and the fleet view all still there" {
	load_schema4
	local tok_a tok_b
	tok_a=$(db_sql "SELECT token_id FROM servers WHERE id = '$A'")
	tok_b=$(db_sql "SELECT token_id FROM servers WHERE id = '$B'")
	[ -n "$tok_a" ] && [ -n "$tok_b" ] || flunk "no tokens in the fixture"
	start_migrated
	if on_sqlite; then
		assert_eq "schema after" 5 "$(db_sql 'PRAGMA user_version')"
	else
		assert_eq "schema after" 5 "$(db_sql 'SELECT version FROM beacon_schema')"
	fi
	# the reports, field for field; C never reported
	assert_same_json "A's latest" "$(cat "$F/a2.$KIND.json")" "$(stored_report "$A")"
	assert_same_json "B's" "$(cat "$F/b1.$KIND.json")" "$(stored_report "$B")"
	assert_eq "C's" "" "$(stored_report "$C")"
	# A's first modules are B's: three module lists are two sets, and the
	# two servers' summaries two more
	assert_eq "module sets" 4 "$(db_sql 'SELECT count(*) FROM module_sets')"
	assert_eq "servers on B's set" 2 "$(db_sql "SELECT count(*) FROM servers WHERE modules_set = (SELECT modules_set FROM servers WHERE id = '$B') OR previous_modules_set = (SELECT modules_set FROM servers WHERE id = '$B')")"
	# the tokens and the counts
	assert_eq "A's token" "$tok_a" "$(db_sql "SELECT token_id FROM servers WHERE id = '$A'")"
	assert_eq "A's reports" 2 "$(db_sql "SELECT reports FROM servers WHERE id = '$A'")"
	# every figure the old collector answered is still there (the answers
	# grew since): one server's view (both
	# reports, what changed between them) and the figures
	api GET "/api/v1/fleet/$A" -u admin:fixture
	assert_api 200
	assert_json_keeps "fleet view of A" "$(cat "$F/fleet-a.$KIND.json")" "$API_BODY"
	api GET /api/v1/stats
	assert_api 200
	assert_json_keeps "statistics" "$(cat "$F/stats.$KIND.json")" "$API_BODY"
	# the tokens still work (and only they)
	put_report "$B" "$(uuidgen 2>/dev/null || echo 5d9a4b8e-1f0c-4c1e-9d55-0b5f3b0c2a11)"
	assert_api_error 401
	put_report "$B" "$tok_b" "r['asterisk']['version']['name'] = '20.5.0'" "r['private_name'] = 'beta again'"
	assert_api 200
	# the report migrated becomes the previous one: what changed is the name
	api GET "/api/v1/fleet/$B" -u admin:fixture
	assert_api 200
	assert_eq "previous" true "$(api_json changes.previous_report)"
	assert_eq "added" "[]" "$(printf '%s' "$API_BODY" | jq -c .changes.modules_added)"
	assert_eq "name" "beta again" "$(api_json report.private_name)"
	api GET /api/v1/stats
	assert_eq "known" 2 "$(api_json totals.servers_known)"
}

@test "module sets: shared while used, collected with retention once nobody refers to them" {
	export BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/collector.clock"
	set_collector_clock 2026-12-01T12:00:00Z
	start_migrated privacy.retention_days=1
	local a b tok_a
	register; a=$SID tok_a=$TOK
	put_report "$a" "$TOK"; assert_api 200
	register; b=$SID
	put_report "$b" "$TOK" "r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	# two module lists, two summaries' module lines
	assert_eq "sets" 4 "$(db_sql 'SELECT count(*) FROM module_sets')"
	# a third server with a's modules adds none
	register
	put_report "$SID" "$TOK"; assert_api 200
	assert_eq "sets, shared" 4 "$(db_sql 'SELECT count(*) FROM module_sets')"
	# per server: no copy of the modules in its row
	assert_eq "modules in a row" 0 "$(db_sql "SELECT count(*) FROM servers WHERE report LIKE '%res_pjsip%' OR summary LIKE '%res_pjsip%'")"
	# b and the third go silent; a reports on (with b's modules now)
	set_collector_clock 2026-12-02T10:00:00Z
	put_report "$a" "$tok_a" "r['asterisk']['modules'].append({'name':'app_queue.so','description':'Q','status':'Running','support_level':'core'})"
	assert_api 200
	stop_beacon_collector
	# retention runs at start: only a is left, with its two lists (the
	# previous one's too) and its summary's module lines
	set_collector_clock 2026-12-03T08:00:00Z
	start_migrated privacy.retention_days=1
	assert_eq "servers" 1 "$(db_sql 'SELECT count(*) FROM servers')"
	assert_eq "sets left" 3 "$(db_sql 'SELECT count(*) FROM module_sets')"
	api GET "/api/v1/fleet/$a" -u admin:fixture
	assert_api 200
	assert_eq "added" '["app_queue.so"]' "$(printf '%s' "$API_BODY" | jq -c .changes.modules_added)"
}
