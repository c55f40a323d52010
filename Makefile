# beacon-report — plain make.  `make`, `make check`, `make demo`,
# `make install`; see README.
.POSIX:
.SUFFIXES:

VERSION = 0.1.0

PREFIX = /usr/local
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
SYSCONFDIR = $(PREFIX)/etc
SYSTEMDUNITDIR = $(PREFIX)/lib/systemd/system
CRONDIR = $(SYSCONFDIR)/cron.d
STATEDIR = /var/lib/beacon-report

# The built-in Asterisk Beacon server; DEV_MODE=1 builds without it.
BEACON_URL = https://beacon.asterisk.org
DEV_MODE = 0
# TEST_CLOCK=1 (test builds only): BEACON_REPORT_NOW sets the clock.
TEST_CLOCK = 0

PKG_CONFIG = pkg-config
PKGS = libcurl jansson inih openssl
CC = cc
WARN = -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
       -Wshadow -Wsign-compare -Wpointer-arith -Wformat=2 -Wundef -Wvla \
       -Wcast-align -Wwrite-strings
CFLAGS = -O2 -g
# SANITIZE=1: the same build under AddressSanitizer + UBSan, in build-san/.
SANITIZE = 0
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

BUILD = build
SANFLAGS_0 =
SANFLAGS_1 = $(SAN_FLAGS)

# The tests build their own binaries whose built-in server is a local test
# collector (no test may reach outside this machine), and a DEV_MODE one.
TEST_BEACON_PORT = 47443
TEST_BUILD_0 = build-test
TEST_BUILD_1 = build-san
TEST_BUILD = $(TEST_BUILD_$(SANITIZE))

ALL_CPPFLAGS = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
	-DBEACON_URL='"$(BEACON_URL)"' -DDEV_MODE=$(DEV_MODE) -DTEST_CLOCK=$(TEST_CLOCK) \
	-DDEFAULT_CONFIG='"$(SYSCONFDIR)/asterisk/beacon.ini"' \
	-DDEFAULT_STATE_DIR='"$(STATEDIR)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(CFLAGS) $(WARN) $(SANFLAGS_$(SANITIZE))
ALL_LDFLAGS = $(SANFLAGS_$(SANITIZE)) $(LDFLAGS)
LDLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))

LIB_SRC = $(wildcard common/*.c conf/*.c collect/*.c http/*.c store/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
HDRS = $(wildcard common/*.h conf/*.h collect/*.h http/*.h store/*.h)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:%.c=$(BUILD)/%)

all: beacon-report

beacon-report: $(BUILD)/beacon-report
	cp $(BUILD)/beacon-report $@

$(BUILD)/beacon-report: $(BUILD)/beacon-report.o $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/beacon-report.o $(LIB_OBJ) $(LDLIBS)

$(BUILD)/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

units: $(UNIT_BIN)

test-binaries:
	$(MAKE) BUILD=$(TEST_BUILD) BEACON_URL=https://127.0.0.1:$(TEST_BEACON_PORT) \
	  TEST_CLOCK=1 $(TEST_BUILD)/beacon-report $(TEST_BUILD)/beacon-collector units
	$(MAKE) BUILD=$(TEST_BUILD)-dev DEV_MODE=1 TEST_CLOCK=1 $(TEST_BUILD)-dev/beacon-report

# Every test: C unit tests and bats, one closing line "N passed, N failed".
check: deps
	$(MAKE) test-binaries
	BEACON_BIN=$(CURDIR)/$(TEST_BUILD)/beacon-report \
	  BEACON_DEV_BIN=$(CURDIR)/$(TEST_BUILD)-dev/beacon-report \
	  COLLECTOR_BIN=$(CURDIR)/$(TEST_BUILD)/beacon-collector \
	  BUILD_DIR=$(CURDIR)/$(TEST_BUILD) TEST_BEACON_PORT=$(TEST_BEACON_PORT) \
	  FIXTURES=$(FIXTURES) tests/run

# The whole suite under ASan + UBSan.
sanitize:
	$(MAKE) check SANITIZE=1

FIXTURES = $(CURDIR)/tests/fixtures

# The main job end to end: a local HTTPS collector, a stand-in Asterisk.
demo: deps
	$(MAKE) BUILD=build-test BEACON_URL=https://127.0.0.1:$(TEST_BEACON_PORT) \
	  TEST_CLOCK=1 build-test/beacon-report
	BEACON_BIN=$(CURDIR)/build-test/beacon-report TEST_BEACON_PORT=$(TEST_BEACON_PORT) tests/demo.sh

# A full report, --show and a not-due run under valgrind: no leak, no error.
valgrind:
	$(MAKE) test-binaries
	BEACON_BIN=$(CURDIR)/$(TEST_BUILD)/beacon-report tests/valgrind.sh

# Speed and memory against the shell way (needs hyperfine time jq curl);
# figures in bench/README.md.
BENCH_PKGS = hyperfine time jq curl
bench:
	@command -v hyperfine >/dev/null && command -v jq >/dev/null || \
	  { SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get install -y $(BENCH_PKGS); }
	bench/run.sh

# libFuzzer targets (clang), each for FUZZ_SECONDS; see fuzz/README.md.
FUZZ_SECONDS = 10
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Install the Debian packages the build and tests need, once.
DEB_PKGS = build-essential pkg-config libcurl4-openssl-dev libjansson-dev \
	libinih-dev libssl-dev openssl ca-certificates bats python3 \
	mandoc man-db groff-base systemd tzdata
deps:
	@if $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && command -v bats >/dev/null \
	   && command -v openssl >/dev/null && test -x /usr/bin/python3 \
	   && command -v mandoc >/dev/null && command -v man >/dev/null \
	   && command -v systemd-analyze >/dev/null \
	   && test -f /usr/share/zoneinfo/Europe/Berlin; then :; else \
	  echo "make deps: installing $(DEB_PKGS)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $(DEB_PKGS); \
	fi

install: beacon-report
	mkdir -p "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(MANDIR)/man8" \
	  "$(DESTDIR)$(SYSCONFDIR)/asterisk" "$(DESTDIR)$(CRONDIR)" \
	  "$(DESTDIR)$(SYSTEMDUNITDIR)"
	cp beacon-report "$(DESTDIR)$(SBINDIR)/beacon-report"
	chmod 755 "$(DESTDIR)$(SBINDIR)/beacon-report"
	cp beacon-report.8 "$(DESTDIR)$(MANDIR)/man8/beacon-report.8"
	chmod 644 "$(DESTDIR)$(MANDIR)/man8/beacon-report.8"
	test -e "$(DESTDIR)$(SYSCONFDIR)/asterisk/beacon.ini" || \
	  { cp conf/beacon.ini "$(DESTDIR)$(SYSCONFDIR)/asterisk/beacon.ini" && \
	    chmod 644 "$(DESTDIR)$(SYSCONFDIR)/asterisk/beacon.ini"; }
	sed 's|@SBINDIR@|$(SBINDIR)|g' cron/beacon.cron > "$(DESTDIR)$(CRONDIR)/beacon-report"
	chmod 644 "$(DESTDIR)$(CRONDIR)/beacon-report"
	for u in beacon-report.service beacon-report.timer; do \
	  sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/$$u > "$(DESTDIR)$(SYSTEMDUNITDIR)/$$u" && \
	  chmod 644 "$(DESTDIR)$(SYSTEMDUNITDIR)/$$u"; done

uninstall:
	rm -f "$(DESTDIR)$(SBINDIR)/beacon-report" \
	  "$(DESTDIR)$(MANDIR)/man8/beacon-report.8" \
	  "$(DESTDIR)$(CRONDIR)/beacon-report" \
	  "$(DESTDIR)$(SYSTEMDUNITDIR)/beacon-report.service" \
	  "$(DESTDIR)$(SYSTEMDUNITDIR)/beacon-report.timer"

clean:
	rm -rf build build-test build-test-dev build-san build-san-dev beacon-report

include collector.mk

.PHONY: all check units test-binaries fuzz valgrind bench sanitize demo deps install uninstall clean
