/*
 * beacon-report: send anonymous Asterisk usage statistics to the Asterisk
 * Beacon server and self-hosted collectors.  This file is the command
 * line and the run's order of steps (CONTRACT §1), and the only place
 * that exits:
 *   parse → config → lock → due? → collect → send → store → exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jansson.h>

#include "collect/guard.h"
#include "common/exit_code.h"
#include "common/log.h"
#include "common/text.h"
#include "run/run.h"
#include "store/history.h"
#include "store/store.h"
#include "output/diff.h"
#include "schema/schema.h"

#ifndef DEFAULT_CONFIG
#define DEFAULT_CONFIG "/etc/asterisk/beacon.ini"
#endif
#ifndef TEST_CLOCK
#define TEST_CLOCK 0
#endif

#define MAX_SPLAY 3600

static const char usage_text[] =
    "usage: beacon-report [-c FILE] [-s NAME]... [-f] [-n] [-q | -v] [--json] [--splay SECONDS]\n"
    "       beacon-report --show [--json] [-c FILE] [-s NAME]...\n"
    "       beacon-report --show-config [--json] [-c FILE]\n"
    "       beacon-report --reset [-c FILE] [-s NAME]...\n"
    "       beacon-report --diff [--json] [-c FILE] [-s NAME]...\n"
    "       beacon-report --schema\n"
    "       beacon-report --help | --version\n";

static const char options_text[] =
    "\n"
    "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
    "  -s, --server NAME   only this server; repeatable (\"beacon\": the built-in one)\n"
    "  -f, --force         report now, ignoring interval and start_time\n"
    "  -n, --dry-run       print what would be sent to whom; send and change nothing\n"
    "  -q, --quiet         print nothing on success (for cron)\n"
    "  -v, --verbose       progress on stderr\n"
    "      --json          machine-readable output on stdout\n"
    "      --splay SECONDS wait a random 0..SECONDS before collecting (not with -f, -n)\n"
    "      --show          print the report and each server's stored state\n"
    "      --show-config   print the effective configuration\n"
    "      --reset         forget stored server ids, tokens and stamps\n"
    "      --diff          print what changed since each server's last accepted report\n"
    "      --schema        print the JSON Schema of the report body\n"
    "  -h, --help          this text;  -V, --version  the version\n"
    "\nSee beacon-report(8) for the exit status and the configuration.\n";

enum mode { MODE_RUN, MODE_SHOW, MODE_SHOW_CONFIG, MODE_RESET, MODE_HELP,
    MODE_VERSION, MODE_DIFF, MODE_SCHEMA };

struct options {
	enum mode mode;
	const char *config;
	bool config_given;
	const char **only;	/* -s NAMEs; argv's strings */
	size_t nonly;
	bool force, dry_run, quiet, verbose, json;
	unsigned splay;
};

struct run {
	struct options opt;
	struct config cfg;
	struct ast_client ast;		/* borrows cfg's strings */
	time_t now;
	int dirfd;
	int lockfd;
	struct target *targets;		/* owned */
	size_t ntargets;
	struct report report;
	bool have_report;
	bool state_failed;
	bool decided;			/* due or not was decided: metrics */
	bool have_machine_id;		/* clone detection is on and possible */
	char machine_id[128];
};

/* SIGTERM/SIGINT: stop sending, keep what was learnt, exit the status
 * so far. */
static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* A usage error: the message, then the synopsis, on stderr. */
static void PRINTF_LIKE(1, 2)
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("beacon-report: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
}

/* Parse argv into opt.  EXIT_OK or EXIT_USAGE (message printed). */
static enum exit_code
parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_JSON = 256, OPT_SHOW, OPT_SHOW_CONFIG, OPT_RESET, OPT_SPLAY,
	    OPT_DIFF, OPT_SCHEMA };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"server", required_argument, NULL, 's'},
		{"force", no_argument, NULL, 'f'},
		{"dry-run", no_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, OPT_JSON},
		{"show", no_argument, NULL, OPT_SHOW},
		{"show-config", no_argument, NULL, OPT_SHOW_CONFIG},
		{"reset", no_argument, NULL, OPT_RESET},
		{"splay", required_argument, NULL, OPT_SPLAY},
		{"diff", no_argument, NULL, OPT_DIFF},
		{"schema", no_argument, NULL, OPT_SCHEMA},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, modes = 0;
	char *end;
	long n;

	memset(opt, 0, sizeof *opt);
	opt->config = DEFAULT_CONFIG;
	opt->only = calloc((size_t)argc + 1, sizeof *opt->only);
	if (opt->only == NULL)
		return EXIT_USAGE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:fnqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config = optarg;
			opt->config_given = true;
			break;
		case 's':
			opt->only[opt->nonly++] = optarg;
			break;
		case 'f': opt->force = true; break;
		case 'n': opt->dry_run = true; break;
		case 'q': opt->quiet = true; break;
		case 'v': opt->verbose = true; break;
		case OPT_JSON: opt->json = true; break;
		case OPT_SHOW: opt->mode = MODE_SHOW, modes++; break;
		case OPT_SHOW_CONFIG: opt->mode = MODE_SHOW_CONFIG, modes++; break;
		case OPT_RESET: opt->mode = MODE_RESET, modes++; break;
		case OPT_DIFF: opt->mode = MODE_DIFF, modes++; break;
		case OPT_SCHEMA: opt->mode = MODE_SCHEMA, modes++; break;
		case 'h': opt->mode = MODE_HELP, modes++; break;
		case 'V': opt->mode = MODE_VERSION, modes++; break;
		case OPT_SPLAY:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 0 || n > MAX_SPLAY) {
				usage_error("--splay: \"%s\" is not a number of seconds from 0 to 3600", optarg);
				return EXIT_USAGE;
			}
			opt->splay = (unsigned)n;
			break;
		/* optopt is a short option's letter, 0 for an unknown long
		 * option, and a long option's value (>= 256: "--json=1") */
		case ':':
			if (optopt > 0 && optopt < 256)
				usage_error("option -%c needs an argument", optopt);
			else
				usage_error("option %s needs an argument", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt > 0 && optopt < 256)
				usage_error("unknown option -%c", optopt);
			else if (optopt >= 256)
				usage_error("option %s takes no argument", argv[optind - 1]);
			else
				usage_error("unknown option %s", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	if (modes > 1) {
		usage_error("%s", "--show, --show-config, --reset, --diff, --schema, --help and --version exclude each other");
		return EXIT_USAGE;
	}
	if (opt->quiet && opt->verbose) {
		usage_error("%s", "-q and -v exclude each other");
		return EXIT_USAGE;
	}
	if (opt->mode != MODE_RUN && (opt->force || opt->dry_run || opt->splay)) {
		usage_error("%s", "-f, -n and --splay go with a report run only");
		return EXIT_USAGE;
	}
	if (opt->json && opt->mode != MODE_RUN && opt->mode != MODE_SHOW &&
	    opt->mode != MODE_SHOW_CONFIG && opt->mode != MODE_DIFF) {
		usage_error("%s", "--json goes with a report run, --show, --show-config or --diff");
		return EXIT_USAGE;
	}
	if (opt->mode == MODE_SCHEMA && (opt->nonly > 0 || opt->config_given || opt->quiet || opt->verbose)) {
		usage_error("%s", "--schema takes no other option");
		return EXIT_USAGE;
	}
	if (opt->mode == MODE_SHOW_CONFIG && opt->nonly > 0) {
		usage_error("%s", "-s does not go with --show-config");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static time_t
clock_now(void)
{
#if TEST_CLOCK
	/* Test builds only: the schedule tests set the clock. */
	const char *s = getenv("BEACON_REPORT_NOW");
	time_t t;

	if (s != NULL && time_parse_utc(s, &t) == 0)
		return t;
#endif
	return time(NULL);
}

/* Pick the servers of -s (all when none); EXIT_USAGE on an unknown name. */
static enum exit_code
select_targets(struct run *run)
{
	struct config *cfg = &run->cfg;
	size_t n = run->opt.nonly ? run->opt.nonly : cfg->nservers;

	run->targets = calloc(n ? n : 1, sizeof *run->targets);
	if (run->targets == NULL)
		return EXIT_STATE;
	for (size_t i = 0; i < n; i++) {
		const struct server_conf *s = run->opt.nonly ?
		    config_find_server(cfg, run->opt.only[i]) : &cfg->servers[i];
		if (s == NULL) {
			char *names = config_server_names(cfg);
			fprintf(stderr, "beacon-report: unknown server \"%s\" (known: %s)\n",
			    run->opt.only[i], names && *names ? names : "none");
			free(names);
			return EXIT_USAGE;
		}
		for (size_t j = 0; j < run->ntargets; j++)
			if (run->targets[j].conf == s)
				s = NULL;	/* -s NAME given twice */
		if (s == NULL)
			continue;
		run->targets[run->ntargets].conf = s;
		run->targets[run->ntargets].family = astdb_family(s->name, s->builtin);
		run->targets[run->ntargets].job.server = s;
		if (run->targets[run->ntargets].family == NULL)
			return EXIT_STATE;
		run->ntargets++;
	}
	return EXIT_OK;
}

/* Read a server's stamp and retry state into t and decide whether it is
 * due (CONTRACT §5; -f: always, but the built-in server keeps its
 * 60-minute floor; a back-off of §9 makes it not due, unless -f).
 * 0, or -1 on a read error (printed). */
static int
decide_one(const struct run *run, const struct server_conf *s, bool force,
    struct target *t)
{
	int rc = stamp_read(run->dirfd, s->name, run->now, &t->last);

	if (rc < 0 || retry_read(run->dirfd, s->name, &t->retry) < 0)
		return -1;
	t->has_last = rc == 1;
	if (force) {
		t->due = schedule_due_forced(run->now, t->has_last, t->last,
		    s->builtin);
		t->next = t->due ? run->now : schedule_next_forced(t->last);
	} else {
		t->due = schedule_due(run->now, t->has_last, t->last,
		    s->interval, s->start_time);
		t->next = t->due ? run->now : schedule_next(run->now,
		    t->has_last, t->last, s->interval, s->start_time);
	}
	t->backoff = false;
	/* no back-off is longer than a clamped Retry-After: one further
	 * ahead is a clock reset (as for stamps), and would stop reporting */
	if (t->retry.failures > 0 &&
	    t->retry.until > run->now + RETRY_AFTER_MAX + RETRY_AFTER_MIN) {
		log_warn("retry state of %s: back-off until more than 7 days ahead "
		    "(a clock reset?); ignored", s->name);
		t->retry.until = run->now;
	}
	if (!force && t->retry.failures > 0 && t->retry.until > run->now &&
	    (t->due || t->next < t->retry.until)) {
		t->due = false;
		t->next = t->retry.until;
		t->backoff = true;
	}
	return 0;
}

static enum exit_code
decide_due(struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];

		if (decide_one(run, t->conf, run->opt.force, t) < 0)
			return EXIT_STATE;
		t->job.result = t->due ? RESULT_NONE : RESULT_NOT_DUE;
	}
	run->decided = true;
	return EXIT_OK;
}

static bool
any_due(const struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++)
		if (run->targets[i].due)
			return true;
	return false;
}

/* --splay: spread a hundred thousand PBXs over the window. */
static void
splay_wait(unsigned splay)
{
	unsigned r = 0;
	struct timespec ts;

	if (splay == 0 || getrandom(&r, sizeof r, 0) != sizeof r)
		return;
	ts.tv_sec = (time_t)(r % (splay + 1));
	ts.tv_nsec = 0;
	log_verbose("splay: waiting %ld s", (long)ts.tv_sec);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_signal)
		;
}

/* The privacy guard on the report just collected, so that what --show
 * and --dry-run print is what a run sends.  0 or -1 (printed). */
static int
guard_run(struct run *run)
{
	char host[256];

	guard_hostname(host, sizeof host);
	if (guard_report(&run->report, host) < 0) {
		log_error("privacy guard: out of memory");
		return -1;
	}
	return 0;
}

/* CONTRACT §9: an AstDB whose `machine` is not this machine's hash for
 * the stored server id was copied from elsewhere; forget the id and
 * token (in memory: the registration overwrites them) so that this
 * machine registers as itself.  No `machine` yet: it is written after
 * the next accepted report. */
static void
clone_check(struct run *run, struct target *t, const char *listing)
{
	char stored[80], want[MACHINE_HASH_LEN + 1];

	if (!run->have_machine_id || t->job.ids.server_id[0] == '\0' ||
	    machine_hash(run->machine_id, t->job.ids.server_id, want) < 0 ||
	    !astdb_parse_machine(listing, t->family, stored, sizeof stored))
		return;
	if (strcmp(stored, want) == 0) {
		memcpy(t->machine_for, t->job.ids.server_id, sizeof t->machine_for);
		return;
	}
	log_warn("server %s: the AstDB was copied from another machine (its "
	    "/%s/machine is not this machine's): forgetting server id %s and "
	    "its token, registering anew", t->conf->name, t->family,
	    t->job.ids.server_id);
	memset(&t->job.ids, 0, sizeof t->job.ids);
}

/* Keep `machine` for t's current server id, unless it is kept already.
 * 0, or -1 when the write did not hold (printed). */
static int
keep_machine(struct run *run, struct target *t)
{
	char hash[MACHINE_HASH_LEN + 1];
	const char *id = t->job.ids.server_id;

	if (!run->have_machine_id || !uuid_is_valid(id) ||
	    strcmp(t->machine_for, id) == 0)
		return 0;
	if (machine_hash(run->machine_id, id, hash) < 0 ||
	    astdb_store_machine(&run->ast, t->family, hash) != 0)
		return -1;
	memcpy(t->machine_for, id, sizeof t->machine_for);
	return 0;
}

/* Collect the report and every server's stored ids in one batch of
 * Asterisk commands.  EXIT_OK or EXIT_ASTERISK (printed). */
static enum exit_code
collect(struct run *run)
{
	const char *extra[1] = {ASTDB_SHOW_ALL};
	struct ast_reply db;

	memset(&db, 0, sizeof db);
	if (collect_report(&run->ast, extra, 1, &db, run->now,
	    &run->report) < 0) {
		ast_reply_free(&db);
		report_free(&run->report);
		return EXIT_ASTERISK;
	}
	run->have_report = true;
	if (guard_run(run) < 0) {
		ast_reply_free(&db);
		return EXIT_STATE;
	}
	for (size_t i = 0; i < run->ntargets; i++) {
		if (astdb_parse_ids(db.out, run->targets[i].family,
		    &run->targets[i].job.ids) < 0) {
			/* never "no ids": that would register anew and
			 * overwrite the stored id */
			char *said = text_sanitize(db.out, db.out_len, 120);
			log_error("%s \"%s\": not a database listing: \"%s\"",
			    asterisk_via(&run->ast), ASTDB_SHOW_ALL, said ? said : "");
			free(said);
			ast_reply_free(&db);
			return EXIT_STATE;
		}
		if (run->opt.mode == MODE_RUN)
			clone_check(run, &run->targets[i], db.out);
	}
	ast_reply_free(&db);
	return EXIT_OK;
}

/* The private_name a server gets: its own, else [general]'s. */
static const char *
private_name_for(const struct run *run, const struct server_conf *s)
{
	return s->private_name != NULL ? s->private_name : run->cfg.private_name;
}

/* The PUT body; the target keeps a copy, so that the archive holds the
 * exact body the server accepted. */
static char *
build_body(void *ctx, const struct server_conf *server, const char *server_id)
{
	struct run *run = ctx;
	char *body = report_body(&run->report, server_id,
	    private_name_for(run, server));

	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];

		if (t->conf != server)
			continue;
		free(t->sent_body);
		t->sent_body = body != NULL ? strdup(body) : NULL;
	}
	return body;
}


/* The ids sink: a server's new ids go to the AstDB the moment its
 * exchange gives them. */
static int
store_ids_now(void *ctx, const struct send_job *job,
    const struct server_ids *prev)
{
	struct run *run = ctx;

	for (size_t i = 0; i < run->ntargets; i++) {
		if (run->targets[i].conf != job->server)
			continue;
		/* a failure is the job's store_failed: the exchange tries
		 * once more when it ends, and store_results judges */
		if (astdb_store_ids(&run->ast, run->targets[i].family,
		    &job->ids, prev) != 0)
			return -1;
		/* a new id gets its `machine` at once, so that a cut here does
		 * not look like a clone next time; a failure is retried (and
		 * judged) with the stamp */
		(void)keep_machine(run, &run->targets[i]);
		return 0;
	}
	return -1;
}

/* CONTRACT §9: under -q, a server that has been failing for less than
 * warn_after hours (this failure included) fails quietly: syslog only. */
static bool
quiet_failure(const struct run *run, const struct target *t)
{
	time_t since = t->retry.failures > 0 ? t->retry.since : run->now;

	return run->opt.quiet && run->cfg.warn_after > 0 &&
	    run->now - since < (time_t)run->cfg.warn_after * 3600;
}

/* Send to every due server at once; each due target gets a result (all
 * unreached when libcurl cannot even start, said once). */
static void
send_reports(struct run *run)
{
	struct http_options hopt = {
		.timeout = run->cfg.timeout, .now = run->now,
		.body = build_body, .body_ctx = run,
		.store = store_ids_now, .store_ctx = run,
		.stop = &stop_signal,
	};
	struct send_job **jobs = calloc(run->ntargets ? run->ntargets : 1,
	    sizeof *jobs);
	const char *why = NULL;
	size_t n = 0;

	if (jobs == NULL)
		why = "out of memory";
	else if (stop_signal)
		why = "interrupted by a signal";
	else if (http_global_init() < 0)
		why = "cannot initialise libcurl";	/* printed by it */
	if (why != NULL) {
		if (jobs == NULL || stop_signal)
			log_error("%s: nothing sent", why);
		for (size_t i = 0; i < run->ntargets; i++) {
			if (run->targets[i].due) {
				run->targets[i].job.result = RESULT_UNREACHED;
				run->targets[i].job.error = strdup(why);
			}
		}
		free(jobs);
		return;
	}
	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];

		if (!t->due)
			continue;
		t->job.quiet_unreached = quiet_failure(run, t);
		jobs[n++] = &t->job;
	}
	http_send_all(jobs, n, &hopt);	/* failures are in each job */
	free(jobs);
	http_global_cleanup();
}

/* A failed attempt into the retry state: unreached starts or extends
 * the back-off (the server's Retry-After of a 429/503 when it gave one). */
static void
record_failure(struct run *run, struct target *t)
{
	long long wait = -1;

	if (t->job.result == RESULT_UNREACHED) {
		if (t->job.retry_after != NULL &&
		    retry_after_parse(t->job.retry_after, run->now, &wait) < 0) {
			log_warn("server %s: Retry-After \"%s\" is neither seconds "
			    "nor an HTTP date; backing off as usual",
			    t->conf->name, t->job.retry_after);
			wait = -1;
		}
		retry_record(&t->retry, ATTEMPT_UNREACHED, run->now, wait);
		t->next = t->retry.until;
		t->backoff = true;
	} else {
		retry_record(&t->retry, ATTEMPT_REJECTED, run->now, -1);
	}
	if (retry_write(run->dirfd, t->conf->name, &t->retry) < 0)
		run->state_failed = true;
}

/* Keep what the run learnt: the ids went to the AstDB as they came
 * (store_ids_now); a stamp for every server that accepted the report.
 * A failure marks the run STATE. */
static void
store_results(struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];

		if (!t->due)
			continue;
		if (t->job.store_failed)
			run->state_failed = true;
		if (t->job.result == RESULT_UNREACHED ||
		    t->job.result == RESULT_REJECTED)
			record_failure(run, t);
		if (t->job.result != RESULT_SENT)
			continue;
		log_syslog_info("report sent to server %s (%s)", t->conf->name,
		    t->conf->url);
		if (t->retry.failures > 0) {
			char since[RFC3339_LEN + 1];

			time_format_utc(t->retry.since, since);
			log_syslog_info("server %s reached again after %u failures "
			    "since %s", t->conf->name, t->retry.failures, since);
		}
		retry_record(&t->retry, ATTEMPT_SENT, run->now, -1);
		/* each is tried, whatever the one before did */
		if (stamp_write(run->dirfd, t->conf->name, run->now) < 0)
			run->state_failed = true;
		if (retry_write(run->dirfd, t->conf->name, &t->retry) < 0)
			run->state_failed = true;
		if (t->sent_body != NULL &&
		    archive_write(run->dirfd, t->conf->name, t->sent_body) < 0)
			run->state_failed = true;
		if (keep_machine(run, t) < 0)
			run->state_failed = true;
		t->has_last = true;
		t->last = run->now;
		t->next = schedule_next(run->now + 1, true, run->now,
		    t->conf->interval, t->conf->start_time);
	}
}

static void
json_set_time(json_t *obj, const char *key, bool have, time_t t)
{
	char buf[RFC3339_LEN + 1];

	if (!have) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	time_format_utc(t, buf);
	json_object_set_new(obj, key, json_string(buf));
}

/* The dry run's request for a target: POST when there is no id yet. */
static void
dry_run_request(const struct run *run, const struct target *t,
    const char **method, char **path, char **body)
{
	if (t->job.ids.server_id[0] == '\0') {
		*method = "POST";
		*path = strdup("/servers");
		*body = strdup("");
	} else {
		*method = "PUT";
		*path = proto_put_path(&t->job.ids);
		*body = report_body(&run->report, t->job.ids.server_id,
		    private_name_for(run, t->conf));
	}
}

/* {"failures","since","until"} of a retry state. */
static json_t *
retry_json(const struct retry_state *rs)
{
	json_t *o = json_object();

	json_object_set_new(o, "failures", json_integer(rs->failures));
	json_set_time(o, "since", rs->failures > 0, rs->since);
	json_set_time(o, "until", rs->failures > 0, rs->until);
	return o;
}

static void
print_results_json(const struct run *run, enum exit_code code)
{
	json_t *servers = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		enum server_result r = t->job.result;
		json_t *o;

		if (r == RESULT_NONE)
			continue;	/* the run stopped before this server */
		o = json_object();
		json_object_set_new(o, "name", json_string(t->conf->name));
		json_object_set_new(o, "url", json_string(t->conf->url));
		json_object_set_new(o, "result", json_string(server_result_name(r)));
		json_object_set_new(o, "http_status", t->job.http_status ?
		    json_integer(t->job.http_status) : json_null());
		json_object_set_new(o, "server_id", t->job.ids.server_id[0] ?
		    json_string(t->job.ids.server_id) : json_null());
		json_set_time(o, "next_due", r == RESULT_SENT || r == RESULT_NOT_DUE ||
		    r == RESULT_WOULD_SEND || (r == RESULT_UNREACHED && t->backoff),
		    t->next);
		if (t->retry.failures > 0)
			json_object_set_new(o, "retry", retry_json(&t->retry));
		json_object_set_new(o, "error", t->job.error ?
		    json_string(t->job.error) : json_null());
		if (r == RESULT_WOULD_SEND) {
			const char *method;
			char *path, *body;
			dry_run_request(run, t, &method, &path, &body);
			json_object_set_new(o, "method", json_string(method));
			json_object_set_new(o, "path", path ? json_string(path) : json_null());
			json_object_set_new(o, "body", body ? json_string(body) : json_null());
			free(path);
			free(body);
		}
		json_array_append_new(servers, o);
	}
	root = json_pack("{s:i, s:s, s:o}", "exit_code", (int)code, "status",
	    exit_code_name(code), "servers", servers);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* One line per server on stdout; -q: nothing (errors went to stderr). */
static void
print_results_text(const struct run *run)
{
	char when[RFC3339_LEN + 1];

	for (size_t i = 0; i < run->ntargets && !run->opt.quiet; i++) {
		const struct target *t = &run->targets[i];
		const char *name = t->conf->name;

		switch (t->job.result) {
		case RESULT_NOT_DUE:
			time_format_utc(t->next, when);
			if (t->backoff) {
				char since[RFC3339_LEN + 1];

				time_format_utc(t->retry.since, since);
				printf("%s: retrying after %s (%u failure%s since %s)\n",
				    name, when, t->retry.failures,
				    t->retry.failures == 1 ? "" : "s", since);
			} else {
				printf("%s: not due until %s\n", name, when);
			}
			break;
		case RESULT_WOULD_SEND: {
			const char *method;
			char *path, *body;
			dry_run_request(run, t, &method, &path, &body);
			if (t->job.ids.server_id[0] == '\0') {
				free(body);	/* show the report, with no id yet */
				body = report_body(&run->report, NULL,
				    private_name_for(run, t->conf));
				printf("%s: would register (POST %s/servers), then send "
				    "the report with the new id:\n%s\n", name,
				    t->conf->url, body ? body : "");
			} else {
				printf("%s: would send %s %s%s\n%s\n", name, method,
				    t->conf->url, path ? path : "", body ? body : "");
			}
			free(path);
			free(body);
			break;
		}
		case RESULT_SENT:
			printf("%s: sent\n", name);
			break;
		case RESULT_NONE:	/* the run stopped before this server */
			break;
		default:
			printf("%s: %s%s%s\n", name, server_result_name(t->job.result),
			    t->job.error ? ": " : "", t->job.error ? t->job.error : "");
			break;
		}
	}
	fflush(stdout);
}

static enum exit_code
run_status(const struct run *run)
{
	enum server_result *results;
	enum exit_code code;

	if (run->state_failed)
		return EXIT_STATE;
	results = calloc(run->ntargets ? run->ntargets : 1, sizeof *results);
	if (results == NULL)
		return EXIT_STATE;
	for (size_t i = 0; i < run->ntargets; i++)
		results[i] = run->targets[i].job.result;
	code = exit_code_combine(results, (int)run->ntargets);
	free(results);
	return code;
}

/* Open state_dir and take the lock.  A dry run changes no state: it
 * neither creates state_dir nor its lock file, and takes no lock. */
static enum exit_code
lock_state(struct run *run)
{
	bool dry = run->opt.dry_run;
	char *parent = strdup(run->cfg.state_dir);

	/* run as root, the directories above state_dir must be root's alone */
	if (parent == NULL || path_trusted_by_root(dirname(parent),
	    "state_dir") < 0) {
		free(parent);
		return EXIT_STATE;
	}
	free(parent);
	run->dirfd = state_dir_open(run->cfg.state_dir, !dry);
	if (dry && run->dirfd == STATE_DIR_ABSENT)
		return EXIT_OK;		/* never reported: every server is due */
	if (run->dirfd < 0)
		return EXIT_STATE;
	if (dry)
		return EXIT_OK;
	run->lockfd = state_lock(run->dirfd);
	if (run->lockfd == STATE_LOCK_HELD) {
		log_error("another beacon-report holds the lock in %s", run->cfg.state_dir);
		return EXIT_LOCKED;
	}
	return run->lockfd < 0 ? EXIT_STATE : EXIT_OK;
}

/* metrics_file (CONTRACT §9): every configured server, the run's targets
 * as the run left them, the others as their files say.  Rewritten only
 * when a value changed. */
static void
update_metrics(struct run *run)
{
	const struct config *cfg = &run->cfg;
	struct metrics_server *ms = calloc(cfg->nservers ? cfg->nservers : 1,
	    sizeof *ms);
	struct target *other = calloc(cfg->nservers ? cfg->nservers : 1,
	    sizeof *other);
	char *text = NULL;

	if (ms == NULL || other == NULL) {
		log_error("metrics_file %s: out of memory", cfg->metrics_file);
		run->state_failed = true;
		goto out;
	}
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct target *t = NULL;
		time_t next;

		for (size_t j = 0; j < run->ntargets && t == NULL; j++)
			if (run->targets[j].conf == &cfg->servers[i])
				t = &run->targets[j];
		if (t == NULL) {
			if (decide_one(run, &cfg->servers[i], false, &other[i]) < 0) {
				run->state_failed = true;
				goto out;
			}
			t = &other[i];
		}
		/* a server due and not tried: when it became due, a value that
		 * does not move with the clock (never reported: 0) */
		if (t->due && !t->backoff && t->job.result != RESULT_SENT)
			next = t->has_last ? schedule_next(t->last, true, t->last,
			    cfg->servers[i].interval, cfg->servers[i].start_time) : 0;
		else
			next = t->next;
		ms[i] = (struct metrics_server){
			.name = cfg->servers[i].name,
			.has_success = t->has_last, .last_success = t->last,
			.has_attempt = t->retry.has_attempt || t->has_last,
			.last_attempt = t->retry.has_attempt ?
			    t->retry.last_attempt : t->last,
			.failures = t->retry.failures, .next_due = next,
			.last_exit_code = t->retry.last_exit_code >= 0 ?
			    t->retry.last_exit_code : t->has_last ? 0 : -1,
		};
	}
	text = metrics_text(ms, cfg->nservers);
	if (text == NULL)
		log_error("metrics_file %s: out of memory", cfg->metrics_file);
	if (text == NULL || metrics_file_update(cfg->metrics_file, text) < 0)
		run->state_failed = true;
out:
	free(text);
	free(ms);
	free(other);
}

/* The report run: CONTRACT §1 steps 2-7. */
static enum exit_code
do_run(struct run *run)
{
	enum exit_code rc;

	if (!run->cfg.enabled) {
		if (!run->opt.quiet)
			log_warn("reporting is disabled (enabled = no in %s)", run->cfg.path);
		return EXIT_DISABLED;
	}
	if (run->ntargets == 0) {
		if (!run->opt.quiet)
			log_warn("no server to report to");
		return EXIT_DISABLED;
	}
	if ((rc = lock_state(run)) != EXIT_OK)
		return rc;
	if ((rc = decide_due(run)) != EXIT_OK)
		return rc;
	if (!any_due(run)) {
		if (run->cfg.metrics_file != NULL && !run->opt.dry_run) {
			update_metrics(run);	/* one read when nothing changed */
			if (run->state_failed)
				return EXIT_STATE;
		}
		return EXIT_NOT_DUE;	/* no asterisk, no socket, no libcurl */
	}
	if (!run->opt.dry_run && !run->opt.force && run->opt.splay > 0) {
		splay_wait(run->opt.splay);
		run->now = clock_now();	/* the report and stamp tell when it was sent */
	}
	if ((rc = collect(run)) != EXIT_OK)
		return rc;
	if (run->opt.dry_run) {
		for (size_t i = 0; i < run->ntargets; i++)
			if (run->targets[i].due)
				run->targets[i].job.result = RESULT_WOULD_SEND;
		return EXIT_OK;
	}
	send_reports(run);
	store_results(run);
	if (run->cfg.metrics_file != NULL)
		update_metrics(run);
	return run_status(run);
}

/* --show: each server's retry state (CONTRACT §9) after the layout of
 * `beacon show server`. */
static void
show_retries(const struct run *run)
{
	char since[RFC3339_LEN + 1], until[RFC3339_LEN + 1];

	printf("\nRetry state:\n");
	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];

		if (t->retry.failures == 0) {
			printf("  %s: not failing\n", t->conf->name);
			continue;
		}
		time_format_utc(t->retry.since, since);
		time_format_utc(t->retry.until, until);
		printf("  %s: %u failure%s since %s; %s %s\n", t->conf->name,
		    t->retry.failures, t->retry.failures == 1 ? "" : "s", since,
		    t->retry.until > run->now ? "retrying after" : "back-off ended",
		    until);
	}
}

/* --diff: what changed since each server's last accepted report; sends
 * nothing and changes nothing. */
static enum exit_code
do_diff(struct run *run)
{
	json_t *servers = json_array();
	enum exit_code rc;

	run->dirfd = state_dir_open(run->cfg.state_dir, false);
	if (run->dirfd == -1 || servers == NULL) {
		json_decref(servers);
		return EXIT_STATE;
	}
	if ((rc = decide_due(run)) != EXIT_OK || (rc = collect(run)) != EXIT_OK) {
		json_decref(servers);
		return rc;
	}
	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		char *text = NULL, since[RFC3339_LEN + 1] = "";
		json_t *old = NULL, *now, *changes;
		int got = archive_read(run->dirfd, t->conf->name, &text);

		if (got < 0) {
			rc = EXIT_STATE;
			continue;
		}
		if (got == 1 && (old = json_loads(text, 0, NULL)) == NULL)
			log_warn("archive %s.sent.json: not JSON; ignored", t->conf->name);
		free(text);
		now = report_to_json(&run->report, t->job.ids.server_id[0] ?
		    t->job.ids.server_id : NULL, private_name_for(run, t->conf));
		changes = now != NULL ? diff_bodies(old, now) : NULL;
		if (changes == NULL) {
			log_error("--diff: out of memory");
			json_decref(old);
			json_decref(now);
			rc = EXIT_STATE;
			continue;
		}
		if (t->has_last)
			time_format_utc(t->last, since);
		if (run->opt.json) {
			json_object_set_new(changes, "archived", json_boolean(old != NULL));
			json_set_time(changes, "last_report", t->has_last, t->last);
			json_array_append_new(servers, json_pack("{s:s, s:s, s:O}",
			    "name", t->conf->name, "url", t->conf->url, "diff",
			    changes));
		} else {
			diff_print(stdout, t->conf->name, t->has_last ? since :
			    "(time unknown)", changes, old != NULL);
		}
		json_decref(changes);
		json_decref(old);
		json_decref(now);
	}
	if (run->opt.json) {
		json_t *root = json_pack("{s:O}", "servers", servers);
		char *out = root ? json_dumps(root, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;

		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(root);
	}
	json_decref(servers);
	return rc;
}

/* --show: the report and each server's stored state; changes nothing. */
static enum exit_code
do_show(struct run *run)
{
	enum exit_code rc;

	run->dirfd = state_dir_open(run->cfg.state_dir, false);
	if (run->dirfd == -1)
		return EXIT_STATE;
	if ((rc = decide_due(run)) != EXIT_OK)
		return rc;
	if ((rc = collect(run)) != EXIT_OK)
		return rc;
	if (run->opt.json) {
		json_t *root = show_json(&run->report, run->targets, run->ntargets,
		    run->cfg.private_name);

		/* which file was read: an opt-out in another one is not */
		if (root != NULL)
			json_object_set_new(root, "config_file",
			    json_string(run->cfg.path));
		for (size_t i = 0; root != NULL && i < run->ntargets; i++)
			json_object_set_new(json_array_get(json_object_get(root,
			    "servers"), i), "retry",
			    retry_json(&run->targets[i].retry));
		char *text = root ? json_dumps(root, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(root);
	} else {
		show_print(stdout, &run->report, run->targets, run->ntargets,
		    run->cfg.enabled, isatty(STDOUT_FILENO), run->now);
		show_retries(run);
		printf("\nConfiguration: %s%s\n", run->cfg.path,
		    run->cfg.file_found ? "" : " (not found: built-in defaults)");
	}
	return EXIT_OK;
}

/* --reset: forget ids, tokens and stamps, so the next run registers. */
static enum exit_code
do_reset(struct run *run)
{
	enum exit_code rc = lock_state(run);

	if (rc != EXIT_OK)
		return rc;
	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];
		int forgot = astdb_forget_ids(&run->ast, t->family);

		/* Asterisk down is exit 7 here as in a run's storing: the
		 * AstDB could not be written (exit 4 is for collecting). */
		if (forgot == ASTDB_NO_ASTERISK)
			return EXIT_STATE;
		if (forgot < 0 || stamp_remove(run->dirfd, t->conf->name) < 0 ||
		    retry_remove(run->dirfd, t->conf->name) < 0) {
			rc = EXIT_STATE;
			continue;
		}
		if (!run->opt.quiet && !run->opt.json)
			printf("%s: reset\n", t->conf->name);
	}
	return rc;
}

/* fds 0-2 open, so that no file we open becomes someone's stdout. */
static void
sanitise_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_STATE);
}

int
main(int argc, char **argv)
{
	struct run run;
	enum exit_code code;

	sanitise_stdio();
	signal(SIGPIPE, SIG_IGN);
	/* Inherited as ignored, SIGCHLD would make every child vanish
	 * unwaited-for and every Asterisk failure look like an empty answer. */
	signal(SIGCHLD, SIG_DFL);
	/* The environment does not steer the transport: TLS secrets are
	 * never written to a key log file (NO_PROXY: http/transport.c). */
	unsetenv("SSLKEYLOGFILE");
	memset(&run, 0, sizeof run);
	run.dirfd = run.lockfd = -1;

	code = parse_options(argc, argv, &run.opt);
	if (code != EXIT_OK)
		goto out;
	if (run.opt.mode == MODE_HELP) {
		printf("%s%s", usage_text, options_text);
		goto out;
	}
	if (run.opt.mode == MODE_VERSION) {
		printf("beacon-report %s\n", VERSION);
		goto out;
	}
	if (run.opt.mode == MODE_SCHEMA) {
		size_t len;
		const char *text = schema_text(&len);

		if (fwrite(text, 1, len, stdout) != len)
			code = EXIT_STATE;
		goto out;
	}
	log_init(run.opt.verbose, run.opt.quiet,
	    run.opt.mode == MODE_RUN && !run.opt.dry_run);
	if (run.opt.mode == MODE_RUN && !run.opt.dry_run) {
		/* a report run ends cleanly on SIGTERM/SIGINT (a shutdown,
		 * timeout(1)): ids learnt are kept; anything else just dies */
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_stop_signal;	/* no SA_RESTART: wake poll */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (config_load(run.opt.config, run.opt.config_given, &run.cfg) < 0) {
		code = EXIT_CONFIG;
		if (run.opt.json && run.opt.mode == MODE_RUN)
			print_results_json(&run, code);
		goto out;
	}
	run.ast.bin = run.cfg.asterisk;
	run.ast.socket = run.cfg.control_socket;
	if (run.opt.mode == MODE_SHOW_CONFIG) {
		config_print(&run.cfg, run.opt.json);
		goto out;
	}
	if ((code = select_targets(&run)) != EXIT_OK)
		goto out;
	run.now = clock_now();
	if (run.opt.mode == MODE_RUN && run.cfg.clone_detection)
		run.have_machine_id = machine_id_read(run.machine_id,
		    sizeof run.machine_id) == 0;

	switch (run.opt.mode) {
	case MODE_SHOW:
		code = do_show(&run);
		break;
	case MODE_RESET:
		code = do_reset(&run);
		break;
	case MODE_DIFF:
		code = do_diff(&run);
		break;
	default:
		code = do_run(&run);
		if (run.opt.json)
			print_results_json(&run, code);
		else
			print_results_text(&run);
		break;
	}
	if (stop_signal)
		log_error("stopped by signal %d; exit %d (%s)", (int)stop_signal,
		    (int)code, exit_code_name(code));
	log_verbose("exit %d (%s): %s", (int)code, exit_code_name(code),
	    exit_code_meaning(code));
out:
	for (size_t i = 0; i < run.ntargets; i++) {
		free(run.targets[i].family);
		free(run.targets[i].sent_body);
		send_job_free(&run.targets[i].job);
	}
	free(run.targets);
	if (run.have_report)
		report_free(&run.report);
	config_free(&run.cfg);
	free(run.opt.only);
	if (run.lockfd >= 0)
		close(run.lockfd);
	if (run.dirfd >= 0)
		close(run.dirfd);
	log_close();
	fflush(stdout);
	exit(code);
}
