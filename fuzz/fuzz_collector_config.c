/* libFuzzer target: collector_config_load (collector/config.c) on any
 * file, through one memfd read back by its /proc/self/fd path, so that
 * nothing touches the disk.  It checks what config.h promises of a loaded
 * configuration (every field set, values in range, plain HTTP only on
 * local addresses, normalised proxies) and of a refused one (one
 * printable line that starts with the file name). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../collector/base/config.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

static void
check_config(const struct collector_config *cfg)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];

	FUZZ_CHECK(cfg->path != NULL && strcmp(cfg->path, path) == 0);
	FUZZ_CHECK(cfg->listen_systemd ? cfg->n_listen == 0 :
	    cfg->n_listen >= 1 && cfg->n_listen <= COLLECTOR_MAX_LISTEN);
	for (int i = 0; i < cfg->n_listen; i++) {
		FUZZ_CHECK(cfg->listen[i] != NULL && cfg->listen[i][0] != '\0');
		FUZZ_CHECK(fuzz_printable(cfg->listen[i]));
		FUZZ_CHECK(cfg->tls || listen_is_local(cfg->listen[i]));
	}
	FUZZ_CHECK(cfg->tls || !cfg->listen_systemd);
	FUZZ_CHECK(cfg->n_trusted_proxies >= 0 &&
	    cfg->n_trusted_proxies <= COLLECTOR_MAX_PROXIES);
	for (int i = 0; i < cfg->n_trusted_proxies; i++) {
		const char *p = cfg->trusted_proxies[i];
		int af = strchr(p, ':') != NULL ? AF_INET6 : AF_INET;

		FUZZ_CHECK(inet_pton(af, p, bin) == 1);
		FUZZ_CHECK(inet_ntop(af, bin, text, sizeof text) != NULL &&
		    strcmp(text, p) == 0);
	}
	FUZZ_CHECK(cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0');
	FUZZ_CHECK(cfg->tls_key != NULL && cfg->tls_key[0] != '\0');
	FUZZ_CHECK(cfg->database != NULL &&
	    ((strncmp(cfg->database, "sqlite:", 7) == 0 && cfg->database[7] != '\0') ||
	    strncmp(cfg->database, "postgresql://", 13) == 0 ||
	    strncmp(cfg->database, "postgres://", 11) == 0));
	FUZZ_CHECK(fuzz_printable(cfg->tls_cert) && fuzz_printable(cfg->tls_key) &&
	    fuzz_printable(cfg->database));
	FUZZ_CHECK(cfg->admin_user != NULL && cfg->admin_user[0] != '\0' &&
	    strchr(cfg->admin_user, ':') == NULL && fuzz_printable(cfg->admin_user));
	FUZZ_CHECK(cfg->admin_password_hash != NULL &&
	    (cfg->admin_password_hash[0] == '\0' || cfg->admin_password_hash[0] == '$') &&
	    fuzz_printable(cfg->admin_password_hash));
	FUZZ_CHECK(cfg->max_body_kb >= 1 && cfg->max_body_kb <= 65536);
	FUZZ_CHECK(cfg->request_timeout >= 1 && cfg->request_timeout <= 3600);
	FUZZ_CHECK(cfg->max_connections >= 1 && cfg->max_connections <= 100000);
	FUZZ_CHECK(cfg->registrations_per_address_per_hour >= 0);
	FUZZ_CHECK(cfg->requests_per_address_per_minute >= 0);
	FUZZ_CHECK(cfg->min_update_interval >= 0);
	FUZZ_CHECK(cfg->min_group >= 1);
	FUZZ_CHECK(cfg->active_days >= 1 && cfg->retention_days >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct collector_config cfg;
	char err[1024];

	if (memfd < 0) {
		memfd = memfd_create("beacon-collector.ini", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();

	memset(&cfg, 'x', sizeof cfg);	/* the loader must not trust it */
	if (collector_config_load(path, &cfg, err, sizeof err) == 0) {
		check_config(&cfg);
	} else {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 &&
		    err[strlen(path)] == ':');
		FUZZ_CHECK(fuzz_printable(err));
	}
	collector_config_free(&cfg);
	FUZZ_CHECK(cfg.path == NULL && cfg.n_listen == 0 && cfg.tls_cert == NULL);
	return 0;
}
