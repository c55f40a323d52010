#!/usr/bin/env bash
# make distro-check: the build, `make check` and tests/deb-check.sh on other
# Debian releases than the host's, each in a debootstrap chroot.
#
#   tests/distro-check.sh [RELEASE...]     default: bullseye trixie (11, 13)
#   BEACON_DISTRO_PORT  the tests' TEST_BEACON_PORT (default 47943)
#   DISTRO_SUBSET=ci    tests/distro-subset.sh instead of make check (CI)
#
# Run as root from the repository root.  Each chroot is made with
# debootstrap (--variant=minbase) from the Debian mirror the host's apt uses
# (with -updates and -security), then gets what `make deps` installs
# (`make -s print-deb-pkgs`) plus PostgreSQL, which tests/run's second pass
# needs.  It is kept between runs in $BEACON_DISTRO_CACHE/RELEASE (default
# /var/cache/beacon-distro), and made again when the package list, the
# mirror or this script's chroot recipe changes (a sha256 of them, in
# RELEASE/.beacon-hash).  Debian 11's bats (1.2.1) is replaced by Debian
# 12's from the same archive (newer_bats).  Each run works in an overlay of
# the cached chroot (RELEASE/run, its changes in RELEASE/upper, kept until
# the next run), so that no run sees another's leftovers.  The tree
# (tracked and new files, as git sees them) is copied to /root/beacon
# inside, afresh each run.  tests/versions.sh's versions are checked against
# tests/min-versions.txt (RELEASE.versions in the logs).  PostgreSQL is started
# by the tests themselves (tests/pg.sh, as the unprivileged beacon-pgtest).
#
# Prints one line per release at the end, "RELEASE: N passed, N failed"
# (make check's figures, plus deb-check's steps), with the time each phase
# took; the whole logs are in $BEACON_DISTRO_LOGS (default
# /var/cache/beacon-distro/logs).  Exit 1 when any release failed.
set -euo pipefail
export LC_ALL=C.UTF-8
SRC=$(pwd)
CACHE=${BEACON_DISTRO_CACHE:-/var/cache/beacon-distro}
LOGS=${BEACON_DISTRO_LOGS:-$CACHE/logs}
RECIPE_VERSION=1
# DISTRO_SUBSET=ci: tests/distro-subset.sh (the build, the unit tests and
# the named bats files that meet what differs between releases) instead of
# the whole `make check`; what CI runs.
SUBSET=${DISTRO_SUBSET:-}
case $SUBSET in
'') SUBSET_NAME="make check" ;;
ci) SUBSET_NAME="subset ci" ;;
*) echo "distro-check: DISTRO_SUBSET is '' (everything) or ci" >&2; exit 2 ;;
esac
# The chroot shares the host's network: the tests' port, apart from the
# host's own runs (make check's default is 47443).
PORT=${BEACON_DISTRO_PORT:-47943}
[ "$#" -gt 0 ] || set -- bullseye trixie
[ "$(id -u)" -eq 0 ] || { echo "distro-check: run as root (debootstrap, chroot)" >&2; exit 2; }
[ -f "$SRC/tests/distro-check.sh" ] || { echo "distro-check: run from the repository root" >&2; exit 2; }

# The host's Debian mirror: the first deb.debian.org-like URI of a "debian"
# archive in sources.list(.d), deb822 or one-line style.
mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
	fi
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
SECURITY=${MIRROR%/debian}/debian-security
PKGS="$(make -s --no-print-directory print-deb-pkgs) postgresql"

command -v debootstrap >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap

mounted=()
umount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[$i]}" 2>/dev/null || true
	done
	mounted=()
}
trap umount_all EXIT
bind() { # bind SRC DST
	mount --bind "$1" "$2" && mounted+=("$2")
}

# in_root ROOT CMD...: CMD inside the chroot, as root, a clean environment.
in_root() {
	local root=$1; shift
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LC_ALL=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# make_root RELEASE ROOT: debootstrap, then the packages.
make_root() {
	local rel=$1 root=$2
	rm -rf "$root"
	debootstrap --variant=minbase "$rel" "$root" "$MIRROR"
	{
		echo "deb $MIRROR $rel main"
		echo "deb $MIRROR $rel-updates main"
		echo "deb $SECURITY $rel-security main"
	} >"$root/etc/apt/sources.list"
	# No service starts while packages install (postgresql's cluster,
	# the collector of deb-check does its own).
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	mount_root "$root"
	in_root "$root" apt-get update
	# shellcheck disable=SC2086 # a list of names
	in_root "$root" apt-get install -y --no-install-recommends $PKGS
	in_root "$root" apt-get clean
	umount_all
}

# /sys and /dev with what is mounted under them (rbind): systemd 247's
# `systemd-analyze verify` needs /sys/fs/cgroup ("Cannot determine cgroup
# we are running in" without it); rslave, so that unmounting them here
# never unmounts the host's.
rbind() { # rbind SRC DST
	mount --rbind "$1" "$2" && mounted+=("$2") && mount --make-rslave "$2"
}

mount_root() {
	local root=$1
	bind /proc "$root/proc"
	rbind /sys "$root/sys"
	rbind /dev "$root/dev"
	mount -t tmpfs tmpfs "$root/tmp" && mounted+=("$root/tmp")
	mount -t tmpfs tmpfs "$root/run" && mounted+=("$root/run")
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

copy_tree() {
	local dst=$1
	rm -rf "$dst"
	mkdir -p "$dst"
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC" && tar --null -T - -cf -) | tar -C "$dst" -xf -
	# A git checkout, as the tests expect (docs.bats asks git status).
	git -C "$dst" init -q &&
		git -C "$dst" add -A &&
		git -C "$dst" -c user.name=distro-check -c user.email=distro-check@localhost \
			commit -q -m "tests/distro-check.sh: a copy of $(git -C "$SRC" rev-parse --short HEAD)"
}

# newer_bats RELEASE ROOT: a release whose bats is older than the suite
# needs (Debian 11's 1.2.1: no --separate-stderr, no private temp dirs)
# gets the next release's from the same archive, pinned so that nothing
# else comes from there (bats is "Architecture: all", shell only).
newer_bats() {
	local rel=$1 root=$2 from v
	case $rel in
	bullseye) from=bookworm ;;
	*) return 0 ;;
	esac
	v=$(chroot "$root" dpkg-query -W -f='${Version}' bats 2>/dev/null || true)
	if [ -n "$v" ] && dpkg --compare-versions "$v" ge 1.8; then return 0; fi
	echo "deb $MIRROR $from main" >"$root/etc/apt/sources.list.d/beacon-bats.list"
	printf 'Package: *\nPin: release n=%s\nPin-Priority: 1\n' "$from" \
		>"$root/etc/apt/preferences.d/beacon-bats"
	mount_root "$root"
	in_root "$root" apt-get update &&
		in_root "$root" apt-get install -y --no-install-recommends -t "$from" bats &&
		in_root "$root" apt-get clean
	local rc=$?
	umount_all
	return "$rc"
}

# versions_ok LOG: tests/versions.sh's lines in LOG against
# tests/min-versions.txt: at least the minimum everywhere, and on the
# "oldest" release the minimum itself (each number given equal).
versions_ok() {
	local log=$1 rel=$2 oldest name min found next bad=0
	oldest=$(awk '$1 == "oldest" { print $2 }' "$SRC/tests/min-versions.txt")
	while read -r name min; do
		case $name in '#'* | '' | oldest) continue ;; esac
		found=$(awk -v n="$name" '$1 == n { print $2 }' "$log")
		if [ -z "$found" ] || [ "$found" = none ]; then
			echo "versions: $name not found on $rel"; bad=1; continue
		fi
		if dpkg --compare-versions "$found" lt "$min"; then
			echo "versions: $name $found on $rel is older than the minimum $min"; bad=1
		elif [ "$rel" = "$oldest" ]; then
			# The next version after MIN at MIN's precision (7.74 -> 7.75).
			next=$(awk -F. -v OFS=. '{ $NF = $NF + 1; print }' <<<"$min")
			if ! dpkg --compare-versions "$found" lt "$next"; then
				echo "versions: $name $found on $rel, the oldest release: tests/min-versions.txt says $min (raise it)"; bad=1
			fi
		fi
	done <"$SRC/tests/min-versions.txt"
	return "$bad"
}

# main RELEASE...: the whole run, in a function so that bash has read all
# of it before it starts (an edit of this file meanwhile changes nothing).
main() {
summary=()
any_failed=0
mkdir -p "$LOGS"
for rel in "$@"; do
	base=$CACHE/$rel/root
	log=$LOGS/$rel
	hash=$(printf '%s\n' "$RECIPE_VERSION" "$MIRROR" "$rel" $PKGS | sha256sum | cut -d' ' -f1)
	t0=$(date +%s)
	built=kept
	if [ "$(cat "$CACHE/$rel/.beacon-hash" 2>/dev/null)" != "$hash" ] || [ ! -x "$base/usr/bin/make" ]; then
		echo "== $rel: making the chroot in $base (log: $log.chroot.log)"
		mkdir -p "$CACHE/$rel"
		rm -f "$CACHE/$rel/.beacon-hash"
		if ! make_root "$rel" "$base" >"$log.chroot.log" 2>&1; then
			umount_all
			tail -n 20 "$log.chroot.log"
			summary+=("$rel: 0 passed, 1 failed (the chroot could not be made: $log.chroot.log)")
			any_failed=1
			continue
		fi
		echo "$hash" >"$CACHE/$rel/.beacon-hash"
		built=made
	fi
	if ! newer_bats "$rel" "$base" >>"$log.chroot.log" 2>&1; then
		umount_all
		tail -n 20 "$log.chroot.log"
		summary+=("$rel: 0 passed, 1 failed (no newer bats: $log.chroot.log)")
		any_failed=1
		continue
	fi
	# The run writes into an overlay of the cached chroot, thrown away at
	# the next run: every run starts from the chroot as debootstrap and
	# apt made it (deb-check's and install-check's leftovers, such as an
	# empty /etc/cron.d, never reach the next run).
	root=$CACHE/$rel/run
	for d in upper work run; do
		[ ! -d "$CACHE/$rel/$d" ] || rm -rf "${CACHE:?}/$rel/$d"
		mkdir -p "$CACHE/$rel/$d"
	done
	mount -t overlay overlay \
		-o "lowerdir=$base,upperdir=$CACHE/$rel/upper,workdir=$CACHE/$rel/work" "$root" &&
		mounted+=("$root")
	t1=$(date +%s)
	copy_tree "$root/root/beacon"
	mount_root "$root"
	echo "== $rel: build (log: $log.build.log)"
	bp=0 bf=0
	if in_root "$root" make -C /root/beacon -j2 all >"$log.build.log" 2>&1; then
		bp=1
	else
		bf=1; tail -n 20 "$log.build.log"
	fi
	in_root "$root" bash /root/beacon/tests/versions.sh >"$log.versions" 2>&1 || true
	vp=1 vf=0
	versions_ok "$log.versions" "$rel" || { vp=0 vf=1; }
	t2=$(date +%s)
	if [ "$SUBSET" = ci ]; then
		echo "== $rel: tests/distro-subset.sh (log: $log.check.log)"
		in_root "$root" /bin/bash -c "cd /root/beacon && TEST_BEACON_PORT=$PORT bash tests/distro-subset.sh" \
			>"$log.check.log" 2>&1 || true
	else
		echo "== $rel: make check (log: $log.check.log)"
		# The test binaries on both cores first; make check itself without
		# -j (its tests run make, which must not join our jobserver).
		{ in_root "$root" make -j2 -C /root/beacon test-binaries TEST_BEACON_PORT="$PORT" &&
			in_root "$root" make -C /root/beacon check TEST_BEACON_PORT="$PORT"; } >"$log.check.log" 2>&1 || true
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log.check.log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		cp=${line%% passed*}; cf=${line#*, }; cf=${cf%% failed*}
	else
		cp=0 cf=1; tail -n 20 "$log.check.log"
	fi
	grep -E '^not ok ' "$log.check.log" || true
	t3=$(date +%s)
	echo "== $rel: tests/deb-check.sh (log: $log.deb.log)"
	in_root "$root" /bin/bash -c 'cd /root/beacon && bash tests/deb-check.sh' >"$log.deb.log" 2>&1 || true
	dp=$(grep -c '^PASS: ' "$log.deb.log" || true)
	df=$(grep -c '^FAIL: ' "$log.deb.log" || true)
	grep -q '^PASS: \|^FAIL: ' "$log.deb.log" || df=$((df + 1))
	grep '^FAIL: ' "$log.deb.log" || true
	t4=$(date +%s)
	umount_all
	p=$((bp + vp + cp + dp)) f=$((bf + vf + cf + df))
	[ "$f" -eq 0 ] || any_failed=1
	summary+=("$rel: $p passed, $f failed (build $bp/$((bp + bf)), versions $vp/$((vp + vf)), ${SUBSET_NAME} $cp passed $cf failed, deb-check $dp passed $df failed; chroot $built $((t1 - t0))s, build $((t2 - t1))s, ${SUBSET_NAME} $((t3 - t2))s, deb-check $((t4 - t3))s)")
done
printf '%s\n' "${summary[@]}"
return "$any_failed"
}

main "$@"
exit
