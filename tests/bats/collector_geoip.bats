#!/usr/bin/env bats
# Countries (COLLECTOR.md §6, geoip_database): a MaxMind DB file the test
# writes itself (tests/bats/mmdb_writer.py, no download), the client
# address looked up when a report arrives (behind a trusted proxy: the
# address it names), only the ISO code kept, shown for groups of at least
# min_group; a missing or unreadable file is a configuration error.

# shellcheck disable=SC2154  # SID, TOK, BC_*: collector_helpers
load helpers
load collector_helpers

setup_file() {
	harness_setup_file
}

# mmdb FILE [ARGS...]: write a test database (mmdb_writer.py's arguments).
mmdb() {
	"$PY" "$BATS_TEST_DIRNAME/mmdb_writer.py" "$@"
}

# report_from ADDRESS: register and report one server whose client
# address (X-Forwarded-For from the trusted 127.0.0.1) is ADDRESS.
report_from() {
	local f="$BATS_TEST_TMPDIR/r.$RANDOM.json"
	api POST /servers -H "X-Forwarded-For: $1"
	assert_api 201 || return 1
	SID=$(api_json server.id)
	TOK=$(api_json token.id)
	report_body "$SID" >"$f"
	api PUT "/servers/$SID?tokenId=$TOK" "@$f" -H "X-Forwarded-For: $1"
	assert_api 200
}

# stats_until PYTHON: GET /api/v1/stats until the expression on j (its
# JSON) is true (the figures are rebuilt shortly after a commit); at most
# 10 s, then fail showing the last answer.
stats_until() {
	local i
	for ((i = 0; i < 100; i++)); do
		api GET /api/v1/stats
		if printf '%s' "$API_BODY" | "$PY" -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if ('"$1"') else 1)'; then
			return 0
		fi
		sleep 0.1
	done
	flunk "stats never had: $1" "$API_BODY"
}

# ini [SECTION.KEY=VALUE...]: $BC_INI as start_beacon_collector would
# write it, without starting anything.
ini() {
	export BC_INI="$BATS_TEST_TMPDIR/collector.ini"
	export BC_PORT="${BC_PORT:-$(free_port)}"
	export BC_CERT="${BC_CERT:-$TEST_CA/server.pem}" BC_KEY="${BC_KEY:-$TEST_CA/server.key}"
	export BEACON_COLLECTOR_CLOCK_FILE="${BEACON_COLLECTOR_CLOCK_FILE:-$BATS_TEST_TMPDIR/collector.clock}"
	write_collector_ini "$BC_INI" "$@"
}

# assert_geoip_error FILE: exit 3, "CONFIG:LINE: geoip_database: FILE: ..."
assert_geoip_error() {
	assert_status 3
	local line
	line=$(grep -n '^geoip_database = ' "$BC_INI" | cut -d: -f1)
	[[ $stderr == *"$BC_INI:$line: geoip_database: $1: "* ]] || flunk "$stderr"
}

@test "geoip_database: a missing file, a file that is no MaxMind DB: exit 3 naming the key and the file" {
	ini "collector.geoip_database=$BATS_TEST_TMPDIR/nowhere.mmdb"
	run_collector -c "$BC_INI"
	assert_geoip_error "$BATS_TEST_TMPDIR/nowhere.mmdb"
	printf 'not a database\n' >"$BATS_TEST_TMPDIR/junk.mmdb"
	ini "collector.geoip_database=$BATS_TEST_TMPDIR/junk.mmdb"
	run_collector --check-config -c "$BC_INI"
	assert_geoip_error "$BATS_TEST_TMPDIR/junk.mmdb"
	run_collector -c "$BC_INI"
	assert_geoip_error "$BATS_TEST_TMPDIR/junk.mmdb"
	# a good one passes the check
	mmdb "$BATS_TEST_TMPDIR/good.mmdb" 127.0.0.2=DE
	ini "collector.geoip_database=$BATS_TEST_TMPDIR/good.mmdb"
	run_collector --check-config -c "$BC_INI"
	assert_status 0
}

# countries_test [--ipv6]: five servers from 127.0.0.2 (DE), two from
# 127.0.0.3 (FR), one from 127.0.0.4 (no record), min_group 3.
countries_test() {
	mmdb "$BATS_TEST_TMPDIR/c.mmdb" "$@" 127.0.0.2=DE 127.0.0.3=FR
	start_beacon_collector "collector.geoip_database=$BATS_TEST_TMPDIR/c.mmdb" \
		collector.trusted_proxies=127.0.0.1 privacy.min_group=3 privacy.established_days=1 \
		limits.registrations_per_address_per_hour=0 limits.requests_per_address_per_minute=0
	local i
	for i in 1 2 3 4 5; do report_from 127.0.0.2; done
	local de=$SID
	for i in 1 2; do report_from 127.0.0.3; done
	local fr=$SID
	report_from 127.0.0.4
	local none=$SID
	# DE: 5 by name; FR: 2, fewer than min_group: in "other".
	stats_until 'j["totals"]["servers_active"] == 8 and j.get("countries") == [{"name": "DE", "servers": 5}, {"name": "other", "servers": 2}]'
	# The same figures in /metrics and on the dashboard.
	api GET /metrics
	assert_eq "metrics" 'beacon_country_servers{country="DE"} 5
beacon_country_servers{country="other"} 2' "$(grep '^beacon_country_servers' <<<"$API_BODY")"
	api GET /
	grep -q 'id="countries"' <<<"$API_BODY" || flunk "no countries chart on the dashboard"
	grep -q '>DE<' <<<"$API_BODY" || flunk "DE not on the dashboard"
	! grep -q '>FR<' <<<"$API_BODY" || flunk "FR (fewer than min_group) on the dashboard"
	# The code is kept with the server; the address nowhere.
	assert_eq "DE kept" 1 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$de' AND summary LIKE '%country	DE	1%'")"
	assert_eq "FR kept" 1 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$fr' AND summary LIKE '%country	FR	1%'")"
	assert_eq "no country" 0 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$none' AND summary LIKE '%country%'")"
	if on_sqlite; then
		stop_beacon_collector
		! grep -a -q '127\.0\.0\.[234]' "$BC_DB"* || flunk "a client address in the database files"
	fi
}

@test "countries: looked up from the client address behind a trusted proxy, counted with min_group, the address not stored (IPv4 database)" {
	countries_test
}

@test "countries: an IPv6 database (IPv4 under ::/96) answers the same" {
	countries_test --ipv6
}

@test "no geoip_database: no countries in the figures" {
	start_beacon_collector collector.trusted_proxies=127.0.0.1 privacy.min_group=1 privacy.established_days=1 \
		limits.registrations_per_address_per_hour=0
	report_from 127.0.0.2
	stats_until 'j["totals"]["servers_active"] == 1'
	api GET /api/v1/stats
	assert_eq "countries" "null" "$(printf '%s' "$API_BODY" | jq -c .countries)"
	api GET /metrics
	! grep -q '^beacon_country_servers' <<<"$API_BODY" || flunk "countries in /metrics without geoip_database"
	assert_eq "no country in the summary" 0 "$(db_sql "SELECT count(*) FROM servers WHERE summary LIKE '%country%'")"
}
