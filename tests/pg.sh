#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the bench: made with
# initdb in a temp dir, run by an unprivileged user, listening only on a
# unix socket in that dir (listen_addresses = ''), stopped and removed by
# `stop`.  Nothing of the host's clusters is touched.
#
#   tests/pg.sh available          exit 0 when PostgreSQL's binaries exist
#   tests/pg.sh start [--durable]  make and start one; prints its DIR
#   tests/pg.sh uri DIR [DBNAME]   the libpq URI of DBNAME (default postgres)
#   tests/pg.sh restart DIR        pg_ctl restart -m fast
#   tests/pg.sh down DIR / up DIR  pg_ctl stop -m fast / start: an outage
#   tests/pg.sh stop DIR           stop it and remove DIR
#   tests/pg.sh psql DIR ARGS...   psql on the cluster's postgres database
#   tests/pg.sh bin NAME           the path of PostgreSQL's program NAME
#
# The tests' cluster runs with fsync = off (its durability against a crash
# of the machine is not what they test; a fast shutdown still checkpoints);
# --durable keeps PostgreSQL's defaults, for the bench.  As root the cluster
# belongs to the user beacon-pgtest (created when missing, no home, no
# shell), since PostgreSQL refuses to run as root.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

PG_USER=beacon-pgtest
DB_ROLE=beacon

pgbin() {
	local d best=
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] || continue
		# The highest major version (the glob sorts 10 before 9).
		if [ -z "$best" ] || [ "$(basename "$(dirname "$d")")" -gt \
			"$(basename "$(dirname "$best")")" ] 2>/dev/null; then
			best=$d
		fi
	done
	[ -n "$best" ] || { echo "pg.sh: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)" >&2; return 1; }
	printf '%s\n' "$best"
}

# as_owner CMD...: run CMD as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	id -u "$PG_USER" >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$PG_USER" 2>/dev/null ||
		id -u "$PG_USER" >/dev/null 2>&1 # another run made it meanwhile
}

cmd_start() {
	local durable=0 bin dir nosync=--no-sync noinstr=
	[ "${1:-}" = --durable ] && durable=1 nosync=
	bin=$(pgbin)
	# --no-instructions is PostgreSQL 14's (Debian 11 has 13): ask initdb.
	if "$bin/initdb" --help 2>/dev/null | grep -q -- '--no-instructions'; then
		noinstr=--no-instructions
	fi
	ensure_user
	dir=$(mktemp -d "${TMPDIR:-/tmp}/beacon-pg.XXXXXX")
	chmod 755 "$dir"
	[ "$(id -u)" -ne 0 ] || chown "$PG_USER:" "$dir"
	if ! as_owner "$bin/initdb" -D "$dir/data" -U "$DB_ROLE" --auth=trust \
		-E UTF8 --locale=C.UTF-8 ${noinstr:+"$noinstr"} ${nosync:+"$nosync"} >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		return 1
	fi
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "max_connections = 300"
		echo "shared_buffers = 128MB"
		if [ "$durable" -eq 0 ]; then
			echo "fsync = off"
			echo "full_page_writes = off"
		fi
	} | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		start >/dev/null; then
		cat "$dir/server.log" >&2
		rm -rf "$dir"
		return 1
	fi
	printf '%s\n' "$dir"
}

cmd_uri() {
	local dir=$1 db=${2:-postgres}
	printf 'postgresql:///%s?host=%s&user=%s\n' "$db" "$dir" "$DB_ROLE"
}

cmd_restart() {
	as_owner "$(pgbin)/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
		-m fast restart >/dev/null
}

cmd_down() {
	as_owner "$(pgbin)/pg_ctl" -D "$1/data" -w -t 60 -m fast stop >/dev/null
}

cmd_up() {
	as_owner "$(pgbin)/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
		start >/dev/null
}

cmd_stop() {
	local dir=$1
	[ -d "$dir/data" ] || { echo "pg.sh: $dir is not a cluster of pg.sh" >&2; return 1; }
	as_owner "$(pgbin)/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null || true
	rm -rf "$dir"
}

cmd_psql() {
	local dir=$1
	shift
	"$(pgbin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -U "$DB_ROLE" -d postgres "$@"
}

case "${1:-}" in
available) pgbin >/dev/null 2>&1 ;;
start) shift; cmd_start "$@" ;;
uri) shift; cmd_uri "$@" ;;
restart) shift; cmd_restart "$@" ;;
down) shift; cmd_down "$@" ;;
up) shift; cmd_up "$@" ;;
stop) shift; cmd_stop "$@" ;;
psql) shift; cmd_psql "$@" ;;
bin) echo "$(pgbin)/$2" ;;
*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
