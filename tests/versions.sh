#!/usr/bin/env bash
# The versions of what beacon builds with and is tested with on this
# system, one "NAME VERSION" a line: tests/distro-check.sh compares them
# with tests/min-versions.txt in each release's chroot.
set -u
export PATH=$PATH:/usr/sbin:/sbin
ver() { printf '%s %s\n' "$1" "${2:-none}"; }
for m in libcurl jansson openssl libmicrohttpd gnutls sqlite3 libpq libsystemd; do
	ver "$m" "$(pkg-config --modversion "$m" 2>/dev/null)"
done
# inih's .pc says "undefined" on Debian 11: the package's upstream version.
ver inih "$(dpkg-query -W -f='${Version}' libinih-dev 2>/dev/null | sed 's/-[^-]*$//')"
ver glibc "$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
ver gcc "$(gcc -dumpfullversion 2>/dev/null)"
ver make "$(make --version 2>/dev/null | awk 'NR == 1 {print $3}')"
ver systemd "$(systemd-analyze --version 2>/dev/null | awk 'NR == 1 {print $2}')"
ver postgresql "$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
ver python3 "$(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null)"
ver jsonschema "$(python3 -c 'import jsonschema; print(jsonschema.__version__)' 2>/dev/null)"
ver groff "$(groff --version 2>/dev/null | awk 'NR == 1 {print $NF}')"
ver bats "$(bats --version 2>/dev/null | awk '{print $2}')"
ver chromium "$(chromium --version 2>/dev/null | awk '{print $2}')"
ver debhelper "$(dpkg-query -W -f='${Version}' debhelper 2>/dev/null)"
