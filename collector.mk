# beacon-collector: included by the Makefile, which holds the shared
# settings (CC, warnings, SANITIZE, BUILD).  The server links common/ and
# collector/; it never links the reporter's folders.

COLLECTOR_PKGS = libmicrohttpd gnutls jansson inih sqlite3 libpq libsystemd libcrypt
COLLECTOR_SYSCONFDIR = /etc
COLLECTOR_DEFAULT_CONFIG = $(COLLECTOR_SYSCONFDIR)/beacon-collector/beacon-collector.ini

COLLECTOR_CPPFLAGS = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DTEST_CLOCK=$(TEST_CLOCK) \
	-DDEFAULT_COLLECTOR_CONFIG='"$(COLLECTOR_DEFAULT_CONFIG)"' \
	$(shell $(PKG_CONFIG) --cflags $(COLLECTOR_PKGS)) $(CPPFLAGS)
COLLECTOR_LDLIBS = $(shell $(PKG_CONFIG) --libs $(COLLECTOR_PKGS)) -lpthread

COLLECTOR_SRC = $(wildcard collector/*.c)
COMMON_SRC = $(wildcard common/*.c)
COLLECTOR_OBJ = $(COLLECTOR_SRC:%.c=$(BUILD)/c/%.o) $(COMMON_SRC:%.c=$(BUILD)/c/%.o)
COLLECTOR_HDRS = $(wildcard collector/*.h common/*.h)

beacon-collector: $(BUILD)/beacon-collector
	cp $(BUILD)/beacon-collector $@

$(BUILD)/beacon-collector: $(BUILD)/c/beacon-collector.o $(COLLECTOR_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/c/beacon-collector.o $(COLLECTOR_OBJ) $(COLLECTOR_LDLIBS)

# The collector's objects live in $(BUILD)/c/, built with its own flags.
$(BUILD)/c/%.o: %.c $(COLLECTOR_HDRS) Makefile collector.mk
	@mkdir -p $(@D)
	$(CC) $(COLLECTOR_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests of the collector: tests/unit/test_collector_*.c (the shorter
# stem wins over the reporter's pattern rule).
$(BUILD)/tests/unit/test_collector_%: tests/unit/test_collector_%.c tests/unit/unit.h $(COLLECTOR_OBJ)
	@mkdir -p $(@D)
	$(CC) $(COLLECTOR_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(COLLECTOR_OBJ) $(COLLECTOR_LDLIBS)

# bench/loadgen: the collector's load generator (libcurl multi, jansson),
# built with the project's warnings; `make bench-collector` runs
# bench/collector.sh with it (figures in bench/README.md).
LOADGEN_PKGS = libcurl jansson
$(BUILD)/bench/loadgen: bench/loadgen.c Makefile collector.mk
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE $(shell $(PKG_CONFIG) --cflags $(LOADGEN_PKGS)) $(CPPFLAGS) \
	  $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ bench/loadgen.c \
	  $(shell $(PKG_CONFIG) --libs $(LOADGEN_PKGS))

bench-collector: $(BUILD)/bench/loadgen
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  { SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get install -y nginx-light sqlite3; }
	@if [ "$${ONLY:-all}" != nginx ]; then $(MAKE) $(BUILD)/beacon-collector || { \
	  echo "bench-collector: cannot build $(BUILD)/beacon-collector; ONLY=nginx runs the nginx rows alone" >&2; \
	  exit 1; }; fi
	LOADGEN=$(CURDIR)/$(BUILD)/bench/loadgen \
	  COLLECTOR_BIN=$(CURDIR)/$(BUILD)/beacon-collector bench/collector.sh

.PHONY: bench-collector
