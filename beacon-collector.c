/*
 * beacon-collector: the Asterisk Beacon server (COLLECTOR.md).  This file
 * is the command line and the service's order of steps, and the only
 * place that exits:
 *   config → listen (and the TLS files) → user → database → ready →
 *   serve → drain → exit.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "collector/web/api.h"
#include "collector/web/auth.h"
#include "collector/base/clock.h"
#include "collector/base/config.h"
#include "collector/base/geoip.h"
#include "collector/base/lifecycle.h"
#include "collector/base/privileges.h"
#include "collector/front/http.h"
#include "collector/base/limits.h"
#include "collector/stats/stats.h"
#include "collector/store/store.h"

#ifndef DEFAULT_COLLECTOR_CONFIG
#define DEFAULT_COLLECTOR_CONFIG "/etc/beacon-collector/beacon-collector.ini"
#endif

/* COLLECTOR.md §1. */
enum collector_exit {
	CEXIT_OK = 0,
	CEXIT_USAGE = 2,
	CEXIT_CONFIG = 3,
	CEXIT_LISTEN = 4,	/* cannot listen or read the TLS files */
	CEXIT_DATABASE = 5,
};

#define DRAIN_SECONDS 10
#define RETENTION_EVERY_S 3600	/* hourly ("at least daily"); cheap with its index */

static const char usage_text[] =
	"usage: beacon-collector [-c FILE]\n"
	"       beacon-collector --check-config [-c FILE]\n"
	"       beacon-collector --stats [--json] [-c FILE]\n"
	"       beacon-collector --hash-password\n"
	"       beacon-collector --help | --version\n";

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("beacon-collector: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

enum mode { MODE_SERVE, MODE_CHECK, MODE_STATS, MODE_HASH, MODE_HELP,
    MODE_VERSION };

struct options {
	enum mode mode;
	const char *config;
	bool json;
};

static int
parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 256, OPT_STATS, OPT_JSON, OPT_HASH, OPT_HELP,
	    OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "hash-password", no_argument, NULL, OPT_HASH },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .mode = MODE_SERVE,
	    .config = DEFAULT_COLLECTOR_CONFIG };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case OPT_CHECK: o->mode = MODE_CHECK; break;
		case OPT_STATS: o->mode = MODE_STATS; break;
		case OPT_JSON: o->json = true; break;
		case OPT_HASH: o->mode = MODE_HASH; break;
		case OPT_HELP: o->mode = MODE_HELP; break;
		case OPT_VERSION: o->mode = MODE_VERSION; break;
		case ':':
			say("option -c needs a FILE");
			return -1;
		default:
			say("unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		say("unexpected argument");
		return -1;
	}
	if (o->json && o->mode != MODE_STATS) {
		say("--json goes with --stats");
		return -1;
	}
	return 0;
}

static void
run_retention(struct store *st, const struct collector_config *cfg)
{
	char err[256];
	long deleted = 0;
	time_t cutoff = collector_now() - (time_t)cfg->retention_days * 86400;

	if (store_retention(st, cutoff, collector_now() - TOKEN_LIFETIME_S,
	    &deleted, err, sizeof err) < 0)
		say("retention: %s", err);
	else if (deleted > 0)
		say("retention: deleted %ld server(s) silent for more than %ld "
		    "days or never reported within 48 hours of registering",
		    deleted, cfg->retention_days);
	/* Each server's changes are kept history_days (the fleet view). */
	if (store_changes_prune(st, collector_now() -
	    (time_t)cfg->history_days * 86400, &deleted, err, sizeof err) < 0)
		say("retention: changes: %s", err);
}

/* The statistics' periodic job: servers out of active_days stop counting,
 * and the day's history rows are written as the figures stand. */
static void
run_stats(struct store *st, const struct collector_config *cfg)
{
	char err[256];

	if (stats_maintain(st, cfg, collector_now(), err, sizeof err) < 0)
		say("statistics: %s", err);
}

/* SIGHUP (COLLECTOR.md §7): tls_cert and tls_key as the configuration
 * file names them now, loaded without dropping a connection; any error
 * keeps the pair in use.  The log says which certificate is served. */
static void
reload_tls(struct http_server *srv, const struct collector_config *cfg)
{
	struct collector_config now;
	char err[1024], desc[1024];

	if (!cfg->tls)
		return;
	if (collector_config_load(cfg->path, &now, err, sizeof err) < 0)
		say("SIGHUP: kept the TLS pair in use: %s", err);
	else if (http_server_reload_tls(srv, now.tls_cert, now.tls_key,
	    desc, sizeof desc, err, sizeof err) < 0)
		say("SIGHUP: kept the TLS pair in use: %s", err);
	else
		say("SIGHUP: TLS certificate loaded: %s", desc);
	collector_config_free(&now);
}

/* Serve until SIGTERM or SIGINT; SIGHUP reloads the TLS pair.  The signals
 * are blocked in every thread and taken here synchronously. */
static void
serve(struct http_server *srv, struct store *st,
    const struct collector_config *cfg, const sigset_t *sigs)
{
	time_t last_retention = time(NULL);

	for (;;) {
		struct timespec tick = { .tv_sec = 60 };
		int sig = sigtimedwait(sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			say("%s: draining (at most %d s)", strsignal(sig),
			    DRAIN_SECONDS);
			sd_notify(0, "STOPPING=1");
			http_server_drain(srv, DRAIN_SECONDS);
			return;
		}
		if (sig == SIGHUP) {
			sd_notify(0, "RELOADING=1");
			reload_tls(srv, cfg);
			sd_notify(0, "READY=1");
		}
		/* Every tick and after every signal (SIGHUP: now). */
		run_stats(st, cfg);
		if (time(NULL) - last_retention >= RETENTION_EVERY_S) {
			run_retention(st, cfg);
			last_retention = time(NULL);
		}
	}
}

/* --hash-password: the hash on stdout, or a one-line error. */
static int
hash_password(void)
{
	char hash[CRYPT_HASH_MAX], err[256];

	switch (auth_hash_stdin(stdin, hash, sizeof hash, err, sizeof err)) {
	case AUTH_HASH_OK:
		printf("%s\n", hash);
		return fflush(stdout) == 0 ? CEXIT_OK : CEXIT_CONFIG;
	case AUTH_HASH_BAD_INPUT:
		say("--hash-password: %s", err);
		return CEXIT_USAGE;
	default:
		say("--hash-password: %s", err);
		return CEXIT_CONFIG;
	}
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct collector_config cfg;
	struct store *st = NULL;
	struct rate_limits *limits = NULL;
	struct http_server *srv = NULL;
	struct app app;
	sigset_t sigs;
	char err[1024], warn[512] = "";
	int ret = CEXIT_USAGE, dropped = 0;

	memset(&cfg, 0, sizeof cfg);
	if (parse_args(argc, argv, &opt) < 0) {
		fputs(usage_text, stderr);
		goto out;
	}
	if (opt.mode == MODE_HELP) {
		fputs(usage_text, stdout);
		ret = CEXIT_OK;
		goto out;
	}
	if (opt.mode == MODE_HASH) {
		ret = hash_password();
		goto out;
	}
	if (opt.mode == MODE_VERSION) {
		printf("beacon-collector %s\n", VERSION);
		ret = CEXIT_OK;
		goto out;
	}

	ret = CEXIT_CONFIG;
	if (collector_config_load(opt.config, &cfg, err, sizeof err) < 0 ||
	    lifecycle_load_configured(cfg.lifecycle, DEFAULT_LIFECYCLE_FILE,
	    collector_now(), &cfg.lifecycle_data, warn, sizeof warn, err,
	    sizeof err) < 0) {
		say("%s", err);
		goto out;
	}
	if (cfg.geoip_database[0] != '\0') {
		char gerr[768];

		if (geoip_open(cfg.geoip_database, &cfg.geoip_data, gerr,
		    sizeof gerr) < 0) {
			say("%s:%d: geoip_database: %s", cfg.path,
			    cfg.geoip_database_line, gerr);
			goto out;
		}
	}
	/* Every file it creates (the SQLite database, -wal, -shm) is its
	 * user's alone. */
	umask(077);
	if (opt.mode == MODE_CHECK) {
		ret = CEXIT_LISTEN;
		if (http_check_tls(&cfg, err, sizeof err) < 0) {
			say("%s", err);
			goto out;
		}
	}

	/* Signals: blocked before any thread starts, so that every thread
	 * inherits the mask and only serve() takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	app = (struct app){ .cfg = &cfg };
	if (opt.mode == MODE_SERVE) {
		ret = CEXIT_LISTEN;
		limits = rate_limits_new(cfg.registrations_per_address_per_hour,
		    cfg.requests_per_address_per_minute);
		if (limits == NULL) {
			say("out of memory");
			goto out;
		}
		rate_limits_set_logins(limits,
		    cfg.failed_logins_per_address_per_hour);
		app.limits = limits;
		srv = http_server_open(&app, err, sizeof err);
		if (srv == NULL) {
			say("%s", err);
			goto out;
		}
	}
	ret = CEXIT_CONFIG;
	dropped = privileges_drop(&cfg, err, sizeof err);
	if (dropped < 0) {
		say("%s", err);
		goto out;
	}
	if (dropped == PRIVILEGES_KEPT_ROOT && opt.mode == MODE_SERVE)
		say("%s", err);

	ret = CEXIT_DATABASE;
	if (store_open(cfg.database, &st, err, sizeof err) < 0) {
		if (cfg.database_line > 0)	/* where to fix it */
			say("%s:%d: %s", cfg.path, cfg.database_line, err);
		else
			say("%s", err);
		goto out;
	}
	if (warn[0] != '\0')	/* said once the rest is known to work */
		say("%s", warn);
	if (opt.mode == MODE_CHECK) {
		printf("%s: ok\n", cfg.path);
		ret = CEXIT_OK;
		goto out;
	}
	if (opt.mode == MODE_STATS) {
		run_stats(st, &cfg);
		ret = CEXIT_DATABASE;
		if (stats_print(stdout, st, &cfg, collector_now(), opt.json,
		    err, sizeof err) < 0) {
			say("%s", err);
			goto out;
		}
		ret = CEXIT_OK;
		goto out;
	}
	run_retention(st, &cfg);
	run_stats(st, &cfg);

	ret = CEXIT_LISTEN;
	app.store = st;
	if (http_server_start(srv, err, sizeof err) < 0) {
		say("%s", err);
		goto out;
	}
	say("listening (%s, database %s)", cfg.tls ? "https" : "http",
	    store_backend_name(st));
	if (dropped == PRIVILEGES_DROPPED)
		say("running as user %s", cfg.user);
	if (cfg.tls) {
		char desc[512];
		http_server_certificate(desc, sizeof desc);
		say("TLS certificate: %s", desc);
	}
	sd_notify(0, "READY=1");
	serve(srv, st, &cfg, &sigs);
	ret = CEXIT_OK;
out:
	http_server_free(srv);
	stats_stop();
	store_close(st);
	rate_limits_free(limits);
	collector_config_free(&cfg);
	if (ret == CEXIT_OK && opt.mode == MODE_SERVE)
		say("stopped");
	return ret;
}
