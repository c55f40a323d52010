/* libFuzzer target: config_load (conf/config.c) on any file.  The input
 * is written to one memfd, read back through its /proc/self/fd path, so
 * that nothing touches the disk.  Then the functions that walk a loaded
 * configuration: config_find_server, config_server_names, config_print
 * (stdout is closed while fuzzing: -close_fd_mask=3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../conf/config.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

/* What config.h promises of a loaded configuration. */
static void
check_config(const struct config *cfg)
{
	FUZZ_CHECK(cfg->path != NULL && strcmp(cfg->path, path) == 0);
	FUZZ_CHECK(cfg->file_found);
	FUZZ_CHECK(cfg->asterisk != NULL && cfg->state_dir != NULL);
	FUZZ_CHECK(cfg->timeout >= 1 && cfg->timeout <= 300);
	FUZZ_CHECK(cfg->state_dir[0] == '/');
	/* private_name may be UTF-8, but never holds control characters */
	for (const char *c = cfg->private_name; c != NULL && *c != '\0'; c++)
		FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct server_conf *s = &cfg->servers[i];

		FUZZ_CHECK(s->name != NULL && s->name[0] != '\0');
		FUZZ_CHECK(s->url != NULL && strncasecmp(s->url, "https://", 8) == 0);
		FUZZ_CHECK(s->interval >= MIN_INTERVAL);
		FUZZ_CHECK(s->start_time <= 1439);
		FUZZ_CHECK(!s->builtin || (i == 0 && s->verify_cert &&
		    strcmp(s->name, BUILTIN_SERVER) == 0));
		FUZZ_CHECK(config_find_server(cfg, s->name) == s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *names;

	if (memfd < 0) {
		memfd = memfd_create("beacon.ini", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();

	memset(&cfg, 'x', sizeof cfg);
	if (config_load(path, true, &cfg) == 0) {
		check_config(&cfg);
		names = config_server_names(&cfg);
		free(names);
		config_print(&cfg, false);
		config_print(&cfg, true);
		config_free(&cfg);
	} else {
		/* config.h: "cfg then holds nothing to free" */
		FUZZ_CHECK(cfg.path == NULL && cfg.servers == NULL &&
		    cfg.private_name == NULL && cfg.asterisk == NULL &&
		    cfg.state_dir == NULL);
	}
	return 0;
}
