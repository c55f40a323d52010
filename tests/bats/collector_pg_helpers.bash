# For collector_pg.bats and collector_backup.bats: a minimal way to start
# the real beacon-collector (the suite's start_beacon_collector, in
# collector_helpers.bash, is the general one), talk to it with curl, and
# set its test clock.  `load collector_pg_helpers` after `load helpers`.

load collector_db

COLLECTOR_BIN=${COLLECTOR_BIN:-$REPO/build-test/beacon-collector}
[[ $COLLECTOR_BIN == /* ]] || COLLECTOR_BIN="$REPO/$COLLECTOR_BIN"

# pgc_clock RFC3339: the collector's time (a TEST_CLOCK=1 build).
pgc_clock() {
	printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/clock"
}

# pgc_start NAME DATABASE: start a collector on DATABASE; exports
# ${NAME}_URL (https://127.0.0.1:PORT) and logs to $BATS_TEST_TMPDIR/NAME.log.
pgc_start() {
	local name=$1 database=$2 port pid i try rc
	_valid_name "$name" || return 1
	[ -x "$COLLECTOR_BIN" ] || flunk "no $COLLECTOR_BIN: make BUILD=build-test TEST_CLOCK=1 BEACON_URL=https://127.0.0.1:47443 build-test/beacon-collector"
	[ -f "$BATS_TEST_TMPDIR/clock" ] || pgc_clock "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		cat >"$BATS_TEST_TMPDIR/$name.ini" <<EOF
[collector]
user =
listen = 127.0.0.1:$port
tls_cert = $TEST_CA/server.pem
tls_key = $TEST_CA/server.key
database = $database
[limits]
registrations_per_address_per_hour = 0
requests_per_address_per_minute = 0
min_update_interval = 0
[privacy]
established_days = 1
EOF
		BEACON_COLLECTOR_CLOCK_FILE="$BATS_TEST_TMPDIR/clock" \
			"$COLLECTOR_BIN" -c "$BATS_TEST_TMPDIR/$name.ini" \
			>>"$BATS_TEST_TMPDIR/$name.log" 2>&1 &
		pid=$!
		_record_pid "$pid" "$name"
		for ((i = 0; i < 200; i++)); do
			if grep -q 'listening' "$BATS_TEST_TMPDIR/$name.log" 2>/dev/null; then
				printf -v "${name}_URL" 'https://127.0.0.1:%s' "$port"
				export "${name}_URL"
				printf -v "${name}_PID" '%s' "$pid"
				export "${name}_PID"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		# Exit 4: the random port was taken; anything else is a failure.
		[ "$rc" -eq 4 ] || break
	done
	flunk "collector $name did not start:" "$(cat "$BATS_TEST_TMPDIR/$name.log")"
}

# pgc_curl URL ARGS...: curl on the test CA, printing the body then the
# status on a last line of its own.
pgc_curl() {
	local url=$1
	shift
	curl -sS --max-time 20 --cacert "$TEST_CA/ca.pem" -w '\n%{http_code}\n' "$@" "$url"
}

# pgc_register URL: POST /servers; prints "ID TOKEN".
pgc_register() {
	local out
	out=$(pgc_curl "$1/servers" -X POST) || return 1
	[ "$(tail -n 1 <<<"$out")" = 201 ] || { echo "register: $out" >&2; return 1; }
	head -n -1 <<<"$out" | jq -r '"\(.server.id) \(.token.id)"'
}

# pgc_put URL ID TOKEN MARK: PUT a report marked MARK; prints
# "CODE TOKEN_ID" (TOKEN_ID "-" unless 200).
pgc_put() {
	local url=$1 id=$2 token=$3 mark=$4 out code
	out=$(pgc_curl "$url/servers/$id?tokenId=$token" -X PUT \
		-H 'Content-Type: application/json' \
		--data-binary "{\"id\":\"$id\",\"test_mark\":$mark}") || { echo "000 -"; return 0; }
	code=$(tail -n 1 <<<"$out")
	if [ "$code" = 200 ]; then
		printf '200 %s\n' "$(head -n -1 <<<"$out" | jq -r .id)"
	else
		printf '%s -\n' "$code"
	fi
}

# pgc_healthz URL: the status of GET /healthz.
pgc_healthz() {
	curl -s -o /dev/null --max-time 10 --cacert "$TEST_CA/ca.pem" -w '%{http_code}' "$1/healthz"
}

# pgc_psql URI SQL: one query's rows, unaligned, '|' between columns.
pgc_psql() {
	collector_db_sql "$1" "$2"
}

# is ACTUAL EXPECTED / isnt ACTUAL UNEXPECTED: assert_eq in the order a
# reader of these tests expects.
is() { assert_eq "value" "$2" "$1"; }
isnt() { assert_ne "value" "$2" "$1"; }
