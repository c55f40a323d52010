#!/bin/bash
# shell-beacon.sh: beacon-report's job done the shell way, for the benchmark
# (bench/run.sh).  It is meant as a fair, working competitor, not a straw
# man: one collector, the CONTRACT §5 slot rule, the lock, the same
# asterisk commands (run concurrently, as beacon-report does), the same
# Server JSON (jq; module show parsed with awk), curl with a CA file, the
# ids kept in the AstDB and the stamp written only after a 200.
#
# Usage: shell-beacon.sh [-f] -n NAME -u URL -c CAFILE -d STATE_DIR
#                        [-i INTERVAL_MIN] [-s HH:MM] [-t TIMEOUT_S]
# Exit: 0 sent, 4 asterisk, 5 unreached, 6 rejected, 7 state, 8 locked,
# 9 not due (the codes of CONTRACT §7).  Needs bash, date, flock, timeout,
# awk, jq, curl.
set -u
export LC_ALL=C

NAME='' URL='' CAFILE='' STATE='' INTERVAL=360 START=00:00 TIMEOUT=30 FORCE=0
while getopts 'fn:u:c:d:i:s:t:' o; do
	case $o in
	f) FORCE=1 ;;
	n) NAME=$OPTARG ;;
	u) URL=${OPTARG%/} ;;
	c) CAFILE=$OPTARG ;;
	d) STATE=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	s) START=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	*) exit 2 ;;
	esac
done
err() { printf 'shell-beacon: %s\n' "$*" >&2; }
[[ -n $NAME && $URL == https://* && -n $STATE && $INTERVAL =~ ^[0-9]+$ &&
	$START =~ ^([01][0-9]|2[0-3]):([0-5][0-9])$ ]] || { err "usage"; exit 2; }
START_MIN=$((10#${START%:*} * 60 + 10#${START#*:}))
((INTERVAL < 60)) && INTERVAL=60
FAMILY="beacon/$NAME"
UUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

mkdir -p -m 0700 -- "$STATE" || exit 7
exec 9>>"$STATE/lock" || exit 7
flock -n 9 || { err "another run holds $STATE/lock"; exit 8; }

# ---- due? (CONTRACT §5) ------------------------------------------------------
# slot(t) = floor((local_minutes(t) - S) / I); due when never reported, or
# slot(now) > slot(last) and now - last >= 60 min.  A future stamp is
# ignored.  "now" costs no process (printf %()T); "last" costs one date.
floordiv() { local q=$(($1 / $2)); (($1 % $2 != 0 && ($1 < 0) != ($2 < 0))) && q=$((q - 1)); echo $q; }
local_minutes() { # EPOCH +HHMM
	local z=$2 sign=1 off
	[[ $z == -* ]] && sign=-1
	z=${z#[+-]}
	off=$((sign * (10#${z:0:2} * 3600 + 10#${z:2:2} * 60)))
	floordiv $(($1 + off)) 60
}
printf -v NOW '%(%s)T' -1
printf -v NOWZ '%(%z)T' -1
STAMP="$STATE/$NAME.stamp"
if ((!FORCE)) && [ -f "$STAMP" ] && IFS= read -r last_txt <"$STAMP" &&
	read -r LAST LASTZ < <(date -d "$last_txt" '+%s %z' 2>/dev/null); then
	if ((LAST > NOW)); then
		err "stamp $STAMP is in the future; ignored"
	else
		snow=$(floordiv $(($(local_minutes "$NOW" "$NOWZ") - START_MIN)) "$INTERVAL")
		slast=$(floordiv $(($(local_minutes "$LAST" "$LASTZ") - START_MIN)) "$INTERVAL")
		if ((snow <= slast || NOW - LAST < 3600)); then
			echo "$NAME: not due"
			exit 9
		fi
	fi
fi

# ---- collect -------------------------------------------------------------------
TMP=$(mktemp -d) || exit 7
trap 'rm -rf -- "$TMP"' EXIT
ast() { timeout -k 1 10 asterisk -rx "$1"; }
# The five reads at once, each into its own file.
ast "core show version" >"$TMP/version" 2>"$TMP/version.err" & p1=$!
ast "module show" >"$TMP/modules" 2>/dev/null & p2=$!
ast "core show uptime seconds" >"$TMP/uptime" 2>/dev/null & p3=$!
ast "core show calls" >"$TMP/calls" 2>/dev/null & p4=$!
ast "database show $FAMILY" >"$TMP/db" 2>/dev/null & p5=$!
wait $p1 || { err "asterisk: $(head -c 300 "$TMP/version.err")"; exit 4; }
wait $p2 $p3 $p4 $p5

read -r VNAME VNUM < <(awk 'NR == 1 && $1 == "Asterisk" {
	n = split($2, v, /[.-]/)
	if (v[1] ~ /^[0-9]+$/ && v[2] ~ /^[0-9]+$/ && v[3] ~ /^[0-9]+$/)
		printf "%s_%s %d%02d%02d\n", $1, $2, v[1], v[2], v[3]
}' "$TMP/version")
[ -n "${VNUM:-}" ] || { err "asterisk: cannot parse core show version"; exit 4; }
VNAME=${VNAME/_/ }

# module show: name first; from the right support level, status words, use
# count (the right-most number); the description in between.  TSV out.
awk '
	NR == 1 && $1 == "Module" { next }
	/^[0-9]+ modules? loaded$/ { next }
	$1 !~ /^[A-Za-z0-9_.+-]+$/ || NF < 4 { next }
	{
		level = $NF
		for (u = NF - 1; u > 1 && $u !~ /^[0-9]+$/; u--) ;
		if (u <= 1 || u == NF - 1) next
		status = $(u + 1); for (i = u + 2; i < NF; i++) status = status " " $i
		desc = ""; for (i = 2; i < u; i++) desc = desc (i > 2 ? " " : "") $i
		printf "%s\t%s\t%s\t%s\n", $1, desc, status, level
	}' "$TMP/modules" >"$TMP/modules.tsv"

STARTUP=$(awk '/^System uptime: [0-9]+$/ { print $3 }' "$TMP/uptime")
RELOAD=$(awk '/^Last reload: [0-9]+$/ { print $3 }' "$TMP/uptime")
ACTIVE=$(awk '/^[0-9]+ active calls?$/ { print $1 }' "$TMP/calls")
PROCESSED=$(awk '/^[0-9]+ calls? processed$/ { print $1 }' "$TMP/calls")
rfc() { [ -n "$1" ] && export TZ=UTC && printf '%(%Y-%m-%dT%H:%M:%SZ)T' $((NOW - $1)); }
STARTUP_T=$(rfc "$STARTUP")
RELOAD_T=$(rfc "$RELOAD")

# The stored id/token: "/beacon/NAME/server_id   : value" lines.
dbval() { awk -v k="/$FAMILY/$1" '$1 == k { sub(/^[^:]*: */, ""); sub(/ +$/, ""); print; exit }' "$TMP/db"; }
SID=$(dbval server_id)
TOK=$(dbval token_id)
[[ $SID =~ $UUID_RE ]] || SID=''
[[ $TOK =~ $UUID_RE ]] || TOK=''

read -r MEM _ < <(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
read -r UP _ </proc/uptime

# report ID: the Server JSON for id ID.
report() {
	jq -cn --arg id "$1" --arg vname "$VNAME" --arg vnum "$VNUM" \
		--rawfile mods "$TMP/modules.tsv" \
		--arg st "$STARTUP_T" --arg rl "$RELOAD_T" \
		--arg active "${ACTIVE:-}" --arg processed "${PROCESSED:-}" \
		--arg sys "$(uname -s)" --arg rel "$(uname -r)" --arg ver "$(uname -v)" \
		--arg mach "$(uname -m)" --argjson cpus "$(nproc)" \
		--argjson mem "${MEM:-0}" --argjson up "${UP%.*}" '
	def num: if . == "" then empty else tonumber end;
	{id: $id,
	 asterisk: {
		version: {name: $vname, number: $vnum},
		modules: [$mods | split("\n")[] | select(. != "") | split("\t") |
			{name: .[0], description: .[1], status: .[2], support_level: .[3]}],
		stats: {
			run_time: ({startup_time: $st, last_reload_time: $rl} | with_entries(select(.value != ""))),
			calls: ({active: ($active | num), processed: ($processed | num)})}},
	 operating_system: {sys_name: $sys, release: $rel, version: $ver,
		machine: $mach, cpu_count: $cpus, memory_total_kb: $mem, uptime: $up}}'
}

# ---- send ----------------------------------------------------------------------
# http METHOD URL [BODYFILE]: the answer body to $TMP/resp; prints the status.
http() {
	local data=()
	[ -n "${3:-}" ] && data=(--data-binary "@$3")
	curl -sS --proto =https --max-time "$TIMEOUT" --max-filesize 65536 \
		${CAFILE:+--cacert "$CAFILE"} -X "$1" \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		-A 'beacon-report-sh/0.1.0' "${data[@]}" \
		-o "$TMP/resp" -w '%{http_code}' -- "$2" 2>"$TMP/curl.err"
}

register() {
	local code
	code=$(http POST "$URL/servers") || { err "$NAME: $(cat "$TMP/curl.err")"; exit 5; }
	case $code in
	200 | 201) ;;
	429 | 5??) err "$NAME: POST: HTTP $code"; exit 5 ;;
	*) err "$NAME: POST: HTTP $code"; exit 6 ;;
	esac
	read -r SID TOK ISSUED < <(jq -r '[.server.id, .token.id, (.token.issued // .token.issue)] | @tsv' "$TMP/resp" 2>/dev/null)
	[[ ${SID:-} =~ $UUID_RE && ${TOK:-} =~ $UUID_RE ]] || { err "$NAME: bad registration answer"; exit 6; }
	NEW=1
}

NEW=0 ISSUED=''
[ -n "$SID" ] || register
for attempt in 1 2; do
	report "$SID" >"$TMP/body" || exit 4
	code=$(http PUT "$URL/servers/$SID${TOK:+?tokenId=$TOK}" "$TMP/body") ||
		{ err "$NAME: $(cat "$TMP/curl.err")"; exit 5; }
	case $code in
	200) break ;;
	401 | 404)
		[ "$attempt" = 1 ] || { err "$NAME: PUT: HTTP $code again"; exit 6; }
		SID='' TOK=''
		register
		;;
	429 | 5??) err "$NAME: PUT: HTTP $code"; exit 5 ;;
	*) err "$NAME: PUT: HTTP $code"; exit 6 ;;
	esac
done
read -r T2 I2 < <(jq -r '[.id, (.issued // .issue)] | @tsv' "$TMP/resp" 2>/dev/null)
[[ ${T2:-} =~ $UUID_RE ]] || { err "$NAME: bad token in the answer"; exit 6; }
[ "$T2" != "$TOK" ] && NEW=1
TOK=$T2 ISSUED=${I2:-$ISSUED}

# ---- store: AstDB (checked by a read-back), then the stamp ------------------------
if ((NEW)); then
	for kv in "server_id $SID" "token_id $TOK" "token_issued $ISSUED"; do
		out=$(ast "database put $FAMILY $kv")
		[ "$out" = 'Updated database successfully' ] || { err "AstDB put $kv: $out"; exit 7; }
	done
	ast "database show $FAMILY" >"$TMP/db"
	[ "$(dbval server_id)" = "$SID" ] && [ "$(dbval token_id)" = "$TOK" ] ||
		{ err "AstDB: the ids did not stick (read-only astdb?)"; exit 7; }
fi
(export TZ=UTC; printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' "$NOW") >"$STAMP.tmp" &&
	mv -f -- "$STAMP.tmp" "$STAMP" || { err "cannot write $STAMP"; exit 7; }
echo "$NAME: sent"
exit 0
