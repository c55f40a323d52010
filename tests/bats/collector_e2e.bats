#!/usr/bin/env bats
# The real client against the real server: build-test/beacon-report, whose
# built-in `beacon` server is https://127.0.0.1:$TEST_BEACON_PORT, against
# build-test/beacon-collector on that port (taken under the harness's port
# lock, so the reporter's own tests, which start the python test double on
# it, take turns with these).  Both run on test clocks moved together
# (BEACON_REPORT_NOW, the collector's clock file).

# shellcheck disable=SC2154  # API_*, BC_*: collector_helpers; stderr: run
load helpers
load collector_helpers

H=3600
D=86400

# e2e_setup [SECTION.KEY=VALUE...]: the collector on the built-in
# server's port, and $CONFIG for the reporter trusting the test CA.
e2e_setup() {
	BC_PORT=$TEST_BEACON_PORT start_beacon_collector "$@" || return 1
	write_config <<EOF
[general]
state_dir = $STATE_DIR

[beacon]
ca_path = $TEST_CA/ca.pem
EOF
}

# The stand-in AstDB's ids for the built-in server.
stored_sid() { astdb_get beacon server_id; }
stored_tok() { astdb_get beacon token_id; }

# The collector's current token for ID.
db_token() { db_sql "SELECT token_id FROM servers WHERE id = '$1'"; }

@test "e2e: the first run registers and reports; the collector has the report, the AstDB the ids; an hour later an update with the same token" {
	e2e_setup
	report_at 0
	assert_success
	assert_output "beacon: sent"
	local sid tok
	sid=$(stored_sid)
	tok=$(stored_tok)
	assert_uuid_v4 "AstDB server_id" "$sid"
	assert_uuid_v4 "AstDB token_id" "$tok"
	assert_eq "token in the collector" "$tok" "$(db_token "$sid")"
	assert_eq "token_issued in the AstDB" "$(at_iso 0)" "$(astdb_get beacon token_issued)"
	assert_eq "servers" 1 "$(db_sql 'SELECT count(*) FROM servers')"
	assert_eq "reports" 1 "$(db_sql "SELECT reports FROM servers WHERE id = '$sid'")"
	printf '%s' "$(stored_report "$sid")" | json_get asterisk.version.name >/dev/null || flunk "no version in the stored report"

	# the hourly floor passed: an update, same token (48 h not near)
	report_at $((61 * 60)) --force
	assert_success
	assert_output "beacon: sent"
	assert_eq "server id" "$sid" "$(stored_sid)"
	assert_eq "token" "$tok" "$(stored_tok)"
	assert_eq "reports" 2 "$(db_sql "SELECT reports FROM servers WHERE id = '$sid'")"
	assert_eq "servers" 1 "$(db_sql 'SELECT count(*) FROM servers')"
	# the stored report is field for field the body the reporter sends (its
	# --dry-run --json shows it; only the wall-clock uptime may differ)
	report_at $((122 * 60)) --force --dry-run --json
	assert_success
	printf '%s' "$output" | "$PY" -c '
import json, sys
sys.stdout.write(json.load(sys.stdin)["servers"][0]["body"])' >"$BATS_TEST_TMPDIR/dry"
	report_at $((122 * 60)) --force
	assert_success
	stored_report_to "$sid" "$BATS_TEST_TMPDIR/stored"
	"$PY" -c '
import re, sys
import json
a, b = (json.dumps(json.loads(re.sub(r"(\"uptime\": ?)-?[0-9]+", r"\1 0", open(f).read())), sort_keys=True) for f in sys.argv[1:3])
import difflib
sys.exit(0 if a == b else "stored vs sent:\n" + "\n".join(list(difflib.unified_diff(a.replace(",", ",\n").splitlines(), b.replace(",", ",\n").splitlines(), lineterm=""))[:30]))' "$BATS_TEST_TMPDIR/stored" "$BATS_TEST_TMPDIR/dry"
}

@test "e2e: a second PBX (its own AstDB and state) gets a different id" {
	e2e_setup
	report_at 0
	assert_success
	local sid1
	sid1=$(stored_sid)
	export ASTERISK_STUB_DIR="$BATS_TEST_TMPDIR/asterisk2" STATE_DIR="$BATS_TEST_TMPDIR/state2"
	mkdir -p "$ASTERISK_STUB_DIR/answers"
	sed -i "s|^state_dir = .*|state_dir = $STATE_DIR|" "$CONFIG"
	report_at 60
	assert_success
	assert_output "beacon: sent"
	local sid2
	sid2=$(stored_sid)
	assert_uuid_v4 "second id" "$sid2"
	assert_ne "the second PBX's id" "$sid1" "$sid2"
	assert_eq "servers" 2 "$(db_sql 'SELECT count(*) FROM servers WHERE reports = 1')"
}

@test "e2e: token renewal — at +25 h the collector issues a new token and the reporter stores it; at +49 h (expired) too" {
	e2e_setup
	report_at 0
	assert_success
	local sid tok1 tok2 tok3
	sid=$(stored_sid)
	tok1=$(stored_tok)
	report_at $((25 * H)) --force
	assert_success
	tok2=$(stored_tok)
	assert_ne "token after +25 h" "$tok1" "$tok2"
	assert_eq "the collector's token" "$tok2" "$(db_token "$sid")"
	assert_eq "token_issued" "$(at_iso $((25 * H)))" "$(astdb_get beacon token_issued)"
	# both tokens expired: the reporter's (stale) one is accepted, a new one comes
	report_at $((25 * H + 49 * H)) --force
	assert_success
	tok3=$(stored_tok)
	assert_ne "token after +49 h more" "$tok2" "$tok3"
	assert_eq "the collector's token" "$tok3" "$(db_token "$sid")"
	assert_eq "server id kept" "$sid" "$(stored_sid)"
	assert_eq "reports" 3 "$(db_sql "SELECT reports FROM servers WHERE id = '$sid'")"
}

@test "e2e: the collector's 429 (min_update_interval) is 'unreached', exit 5, token and report unchanged; accepted after the interval" {
	e2e_setup limits.min_update_interval=90
	report_at 0
	assert_success
	local sid tok
	sid=$(stored_sid)
	tok=$(stored_tok)
	# the reporter's hourly floor has passed, the collector's 90 minutes not
	report_at $((61 * 60)) --force --json
	assert_status 5
	assert_eq "status" unreached "$(json_get status <<<"$output")"
	assert_eq "result" unreached "$(json_get servers.0.result <<<"$output")"
	assert_eq "http_status" 429 "$(json_get servers.0.http_status <<<"$output")"
	assert_eq "token kept" "$tok" "$(stored_tok)"
	assert_eq "reports" 1 "$(db_sql "SELECT reports FROM servers WHERE id = '$sid'")"
	# the text run says so (CONTRACT §8: one line, "beacon-report: ...")
	report_at $((62 * 60)) --force
	assert_status 5
	[[ $stderr == *"beacon-report: "*"429"* ]] || flunk "expected a 'beacon-report: ... 429' line, stderr:" "$stderr" "stdout:" "$output"
	# once min_update_interval has passed: accepted
	report_at $((91 * 60)) --force
	assert_success
	assert_eq "reports" 2 "$(db_sql "SELECT reports FROM servers WHERE id = '$sid'")"
}

@test "e2e: a server deleted by retention (+401 days, restart): the PUT gets 404, the reporter registers anew and stores the new id" {
	e2e_setup
	report_at 0
	assert_success
	local sid1
	sid1=$(stored_sid)
	stop_beacon_collector
	collector_clock_at $((401 * D)) >/dev/null
	start_beacon_collector
	assert_eq "old server gone" 0 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$sid1'")"
	report_at $((401 * D))
	assert_success
	assert_output "beacon: sent"
	local sid2
	sid2=$(stored_sid)
	assert_uuid_v4 "new id" "$sid2"
	assert_ne "new id" "$sid1" "$sid2"
	assert_eq "the collector knows it" 1 "$(db_sql "SELECT count(*) FROM servers WHERE id = '$sid2' AND reports = 1")"
	assert_eq "the AstDB token is the collector's" "$(db_token "$sid2")" "$(stored_tok)"
	grep -q "PUT /servers/$sid1 404" "$BC_LOG" || flunk "the collector did not see the PUT of the deleted id:" "$(tail -n 8 "$BC_LOG")"
}
