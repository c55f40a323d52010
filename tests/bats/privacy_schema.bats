#!/usr/bin/env bats
# --schema (CONTRACT §9) against a real JSON Schema validator
# (python3-jsonschema), on the body of every fixture; and the privacy
# guard: what --show and --dry-run show is what is sent, redacted.

load helpers

ID=11111111-2222-4333-8444-555555555555

setup() {
	harness_setup
	start_collector
	default_config
	astdb_put beacon/mylab server_id "$ID"
}

# validate FILE...: every body file against the binary's --schema.
validate() {
	beacon --schema >"$BATS_TEST_TMPDIR/schema.json" || return 1
	"$PY" - "$BATS_TEST_TMPDIR/schema.json" "$@" <<'EOF'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
from schema_validator import validator_class
schema = json.load(open(sys.argv[1]))
V = validator_class(schema)
V.check_schema(schema)
v = V(schema)
bad = 0
for f in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(f))):
        bad += 1
        print("%s: %s at %s" % (f, e.message, "/".join(map(str, e.absolute_path))))
sys.exit(1 if bad else 0)
EOF
}

# dry_body NAME: the --dry-run --json body for mylab into NAME.json.
dry_body() {
	beacon -c "$CONFIG" -s mylab -n --json >"$BATS_TEST_TMPDIR/dry.json" || return 1
	json_get servers.0.body <"$BATS_TEST_TMPDIR/dry.json" >"$BATS_TEST_TMPDIR/bodies/$1.json"
}

@test "--schema prints the repository's schema file byte for byte, a valid draft 2020-12 schema" {
	run beacon --schema
	assert_success
	beacon --schema | cmp - "$REPO/schema/server.schema.json"
	assert_eq '$schema' https://json-schema.org/draft/2020-12/schema "$(beacon --schema | json_get '$schema')"
	run beacon --schema -c "$CONFIG"
	assert_status 2
}

@test "every fixture's --dry-run --json body validates against --schema" {
	mkdir -p "$BATS_TEST_TMPDIR/bodies"
	dry_body base
	local f cmd n=0
	for f in "${FIXTURES:-$REPO/tests/fixtures}"/variants/*.txt; do
		case $(basename "$f") in
		core_show_version_*) cmd="core show version" ;;
		module_show_*) cmd="module show" ;;
		core_show_uptime_*) cmd="core show uptime seconds" ;;
		core_show_calls_*) cmd="core show calls" ;;
		*) continue ;;
		esac
		rm -f "$ASTERISK_STUB_DIR"/answers/*
		asterisk_answer "$cmd" <"$f"
		# a version that cannot be parsed is exit 4: no body to check
		dry_body "$(basename "$f" .txt)" || continue
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || flunk "only $n variant bodies"
	run validate "$BATS_TEST_TMPDIR"/bodies/*.json
	assert_success
}

@test "the body a real run sends validates too, and equals the dry run's" {
	mkdir -p "$BATS_TEST_TMPDIR/bodies"
	export BEACON_REPORT_NOW=2026-11-22T10:00:00Z
	dry_body dry
	run beacon -c "$CONFIG" -s mylab
	assert_success
	collector_request mylab -1 body >"$BATS_TEST_TMPDIR/bodies/sent.json"
	run validate "$BATS_TEST_TMPDIR"/bodies/sent.json "$BATS_TEST_TMPDIR"/bodies/dry.json
	assert_success
	# the first PUT went to an id the collector did not know: a new id
	local id
	id=$(astdb_get beacon/mylab server_id)
	sed "s/$ID/$id/" "$BATS_TEST_TMPDIR/bodies/dry.json" | cmp - "$BATS_TEST_TMPDIR/bodies/sent.json"
}

@test "the schema refuses what the collector refuses" {
	mkdir -p "$BATS_TEST_TMPDIR/bad"
	local long
	long=$("$PY" -c 'print("x" * 1025)')
	printf '{"asterisk":{"version":{"name":"A","number":"1"}}}' >"$BATS_TEST_TMPDIR/bad/no-id.json"
	printf '{"id":"%s","asterisk":{"version":{"name":"A","number":1}}}' "$ID" >"$BATS_TEST_TMPDIR/bad/number.json"
	printf '{"id":"%s","asterisk":{"modules":[]}}' "$ID" >"$BATS_TEST_TMPDIR/bad/no-version.json"
	printf '{"id":"%s","asterisk":{"version":{"name":"A","number":"1"},"modules":[{"name":"a"}]}}' "$ID" >"$BATS_TEST_TMPDIR/bad/module.json"
	printf '{"id":"%s","asterisk":{"version":{"name":"A","number":"1"},"stats":{"calls":{"active":-1}}}}' "$ID" >"$BATS_TEST_TMPDIR/bad/negative.json"
	printf '{"id":"%s","extra":{"deep":"%s"}}' "$ID" "$long" >"$BATS_TEST_TMPDIR/bad/long.json"
	local f
	for f in "$BATS_TEST_TMPDIR"/bad/*.json; do
		run validate "$f"
		assert_status 1
	done
	printf '{"id":"%s","extra":{"unknown":[1,"two",{"x":null}]}}' "$ID" >"$BATS_TEST_TMPDIR/ok.json"
	run validate "$BATS_TEST_TMPDIR/ok.json"
	assert_success
}

# ---- the privacy guard ----------------------------------------------------

leaky_fixtures() {
	asterisk_answer "module show" <<'EOF'
Module                         Description                              Use Count  Status      Support Level
res_pjsip.so                   Basic SIP resource                       1          Running              core
res_custom.so                  Custom for PBX-TEST-HOST.example.invalid 0          Running           unknown
res_host.so                    Built on pbx-test-host by the team       0          Running           unknown
res_ipv4.so                    Talks to 192.168.10.20 only              0          Running           unknown
res_ipv6.so                    Binds [2001:db8::1]:5060                 0          Running           unknown
res_mac.so                     Licensed to 00:1A:2b:3C:4d:5E            0          Running           unknown
res_mail.so                    Support: ops@example.com                 0          Running           unknown
res_sipuri.so                  Calls sip:100@10.0.0.1 on start          0          Running           unknown
res_sips.so                    Forwards to SIPS:alice@example.org       0          Running           unknown
app_dial.so                    Dialing Application 22.10.1              0          Running              core
9 modules loaded
EOF
	export BEACON_REPORT_UNAME_VERSION="#1 SMP PREEMPT_DYNAMIC builder@pbx-test-host.example.invalid Thu Feb  1 08:49:37 UTC 2024"
	sed -i 's/^state_dir = .*/&\nprivate_name = ops@example.com at 192.168.10.20/' "$CONFIG"
}

@test "the privacy guard redacts host names, addresses, a MAC, an e-mail and SIP URIs, never private_name" {
	leaky_fixtures
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n --json
	assert_success
	local body
	body=$(json_get servers.0.body <<<"$output")
	"$PY" - "$body" <<'EOF'
import json, sys
b = json.loads(sys.argv[1])
mods = {m["name"]: m["description"] for m in b["asterisk"]["modules"]}
for leaky in ("res_custom.so", "res_host.so", "res_ipv4.so", "res_ipv6.so",
              "res_mac.so", "res_mail.so", "res_sipuri.so", "res_sips.so"):
    assert mods[leaky] == "[redacted]", (leaky, mods[leaky])
assert mods["res_pjsip.so"] == "Basic SIP resource", mods
assert mods["app_dial.so"] == "Dialing Application 22.10.1", mods
assert b["operating_system"]["version"] == "[redacted]", b["operating_system"]
assert b["operating_system"]["release"] != "[redacted]"
assert b["asterisk"]["version"]["name"] == "Asterisk 22.10.1"
assert b["private_name"] == "ops@example.com at 192.168.10.20", b["private_name"]
EOF
	[[ $body != *pbx-test-host* && $body != *PBX-TEST-HOST* ]] || flunk "host name left in" "$body"
	[[ $stderr == *"privacy guard: asterisk.modules[1].description held the host name"* ]] || flunk "$stderr"
	[[ $stderr == *"asterisk.modules[3].description held an IPv4 address"* ]] || flunk "$stderr"
	[[ $stderr == *"asterisk.modules[4].description held an IPv6 address"* ]] || flunk "$stderr"
	[[ $stderr == *"asterisk.modules[5].description held a MAC address"* ]] || flunk "$stderr"
	[[ $stderr == *"asterisk.modules[6].description held an e-mail address"* ]] || flunk "$stderr"
	[[ $stderr == *"asterisk.modules[7].description held a SIP URI"* ]] || flunk "$stderr"
	[[ $stderr == *"operating_system.version held the host name"* ]] || flunk "$stderr"
	[[ $stderr != *192.168.10.20* && $stderr != *ops@example* ]] || flunk "a warning repeats the secret" "$stderr"
}

@test "the guard's warnings repeat every run, so -q keeps them off stderr (syslog only)" {
	leaky_fixtures
	export BEACON_REPORT_NOW=2026-11-22T10:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab -q
	assert_success
	assert_eq stderr "" "$stderr"
	[[ $(collector_request mylab -1 body) == *'"description":"[redacted]"'* ]] ||
		flunk "not redacted under -q"
}

@test "--show and --dry-run show the redacted report, and it is what is sent" {
	leaky_fixtures
	run --separate-stderr beacon -c "$CONFIG" -s mylab --show
	assert_success
	assert_output_contains "[redacted]"
	refute_output_contains "192.168.10.20 only"
	refute_output_contains "pbx-test-host"
	run --separate-stderr beacon -c "$CONFIG" -s mylab --show --json
	refute_output_contains "00:1A:2b:3C:4d:5E"
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n
	assert_success
	refute_output_contains "Support: ops@"
	refute_output_contains "2001:db8::1"
	export BEACON_REPORT_NOW=2026-11-22T10:00:00Z
	run --separate-stderr beacon -c "$CONFIG" -s mylab -n --json
	local dry
	dry=$(json_get servers.0.body <<<"$output")
	run --separate-stderr beacon -c "$CONFIG" -s mylab
	assert_success
	local sent id
	sent=$(collector_request mylab -1 body)
	id=$(astdb_get beacon/mylab server_id)
	assert_eq "what is shown is what is sent" "${dry//$ID/$id}" "$sent"
}

@test "schema_validator: without Draft202012Validator (jsonschema 3.2) the newest draft, said; refused when it would ignore a keyword" {
	"$PY" - "$REPO/schema/server.schema.json" <<'EOF'
import json, os, sys, types, io
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests"))
import jsonschema
from schema_validator import validator_class
schema = json.load(open(sys.argv[1]))
if hasattr(jsonschema, "Draft202012Validator"):
    assert validator_class(schema) is jsonschema.Draft202012Validator
old = types.SimpleNamespace(validators=jsonschema.validators)  # 3.2: no Draft202012Validator
err = io.StringIO()
cls = validator_class(schema, old, err)
assert issubclass(cls, jsonschema.validators.validator_for({})), cls
# Draft 7 would ignore "required" beside a $ref: the fallback does not.
ref = {"$defs": {"o": {"type": "object"}}, "$ref": "#/$defs/o", "required": ["id"]}
assert not validator_class(ref, old, io.StringIO())(ref).is_valid({}), "required beside $ref ignored"
assert validator_class(ref, old, io.StringIO())(ref).is_valid({"id": 1})
assert "without Draft202012Validator" in err.getvalue(), err.getvalue()
try:
    validator_class({"type": "object", "properties": {"a": {"unevaluatedProperties": False}}}, old, io.StringIO())
except SystemExit as e:
    assert "unevaluatedProperties" in str(e), e
else:
    raise AssertionError("a 2020-12 keyword was not refused")
EOF
}

