# The database a collector test runs on: `load collector_db`, then
#
#   database=$(collector_test_database) || return 1
#
# and put "database = $database" in the collector's INI.
#
# Without COLLECTOR_TEST_DATABASE: a fresh SQLite file in the test's temp
# dir (sqlite:$BATS_TEST_TMPDIR/collector-N.db).  With it set to a libpq URI
# of a cluster (tests/run sets it for the suite's PostgreSQL pass, e.g.
# postgresql:///postgres?host=/tmp/beacon-pg.XXXX&user=beacon): a fresh
# database on that cluster for every call, made with createdb, and its URI
# (the same URI with the database name replaced).  Each call gives a new,
# empty database; call it once per collector, or share the one URI between
# two collectors that must share a database.

_COLLECTOR_DB_SEQ=0

# The directory of PostgreSQL's programs (the highest version installed).
collector_pg_bindir() {
	"$REPO/tests/pg.sh" bin initdb | sed 's|/initdb$||'
}

collector_test_database() {
	local base=${COLLECTOR_TEST_DATABASE:-} name head query
	_COLLECTOR_DB_SEQ=$((_COLLECTOR_DB_SEQ + 1))
	if [ -z "$base" ]; then
		printf 'sqlite:%s/collector-%d.db\n' "$BATS_TEST_TMPDIR" "$_COLLECTOR_DB_SEQ"
		return 0
	fi
	case $base in
	postgresql://* | postgres://*) ;;
	*)
		echo "collector_test_database: COLLECTOR_TEST_DATABASE is not a postgresql:// URI: $base" >&2
		return 1
		;;
	esac
	# A name of letters, digits and _ only, unique across parallel tests.
	name=$(printf 't_%d_%d_%d_%s' "$$" "${BATS_TEST_NUMBER:-0}" \
		"$_COLLECTOR_DB_SEQ" "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')")
	if ! "$(collector_pg_bindir)/createdb" --maintenance-db="$base" "$name" >&2; then
		echo "collector_test_database: createdb $name on $base failed" >&2
		return 1
	fi
	# scheme://authority/DB?query: replace DB, keep the rest.
	query=
	head=$base
	if [[ $head == *\?* ]]; then
		query="?${head#*\?}"
		head=${head%%\?*}
	fi
	local scheme=${head%%://*} rest=${head#*://}
	local authority=${rest%%/*}
	printf '%s://%s/%s%s\n' "$scheme" "$authority" "$name" "$query"
}

# collector_db_sql DATABASE SQL: one query on a collector database URI as
# collector_test_database printed it (sqlite:PATH or postgresql://...), the
# same output either way: one row a line, columns joined by '|', no
# header, NULL as the empty string.
collector_db_sql() {
	case $1 in
	sqlite:*) sqlite3 -batch "${1#sqlite:}" "$2" ;;
	postgresql://* | postgres://*)
		"$(collector_pg_bindir)/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) echo "collector_db_sql: not a database URI: $1" >&2; return 1 ;;
	esac
}
