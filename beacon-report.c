/*
 * beacon-report: send anonymous Asterisk usage statistics to the Asterisk
 * Beacon server and self-hosted collectors.  This file is the command
 * line and the run's order of steps (CONTRACT §1), and the only place
 * that exits:
 *   parse → config → lock → due? → collect → send → store → exit status.
 * Each step is a call into run/ (the run's decisions); what is printed
 * is output/'s.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exit_code.h"
#include "common/log.h"
#include "output/output.h"
#include "run/run.h"

#ifndef DEFAULT_CONFIG
#define DEFAULT_CONFIG "/etc/asterisk/beacon.ini"
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
    "      --splay SECONDS wait a random 0..SECONDS before collecting (no wait with -f, -n)\n"
    "      --show          print the report and each server's stored state\n"
    "      --show-config   print the effective configuration\n"
    "      --reset         forget all that is stored of each server\n"
    "      --diff          print what changed since each server's last accepted report\n"
    "      --schema        print the JSON Schema of the report body\n"
    "  -h, --help          this text;  -V, --version  the version\n"
    "\nSee beacon-report(8) for the exit status and the configuration.\n";

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
	if (run_enabled_targets(run) == 0) {
		/* each says "NAME: disabled" on stdout (output/results.c) */
		if (!run->opt.quiet && run->ntargets == 1)
			log_warn("no server to report to: [%s] has enabled = no "
			    "in %s", run->targets[0].conf->name, run->cfg.path);
		else if (!run->opt.quiet)
			log_warn("no server to report to: every server selected "
			    "has enabled = no in %s", run->cfg.path);
		return EXIT_DISABLED;
	}
	if ((rc = run_lock_state(run)) != EXIT_OK)
		return rc;
	if ((rc = run_decide_due(run)) != EXIT_OK)
		return rc;
	if (!run_any_due(run)) {
		if (run->cfg.metrics_file != NULL && !run->opt.dry_run) {
			run_update_metrics(run);	/* one read when nothing changed */
			if (run->state_failed)
				return EXIT_STATE;
		}
		return EXIT_NOT_DUE;	/* no asterisk, no socket, no libcurl */
	}
	if (!run->opt.dry_run && !run->opt.force && run->opt.splay > 0) {
		run_splay_wait(run->opt.splay);
		run->now = run_clock_now();	/* the report and stamp tell when it was sent */
	}
	if ((rc = run_collect(run)) != EXIT_OK)
		return rc;
	if (run->opt.dry_run) {
		for (size_t i = 0; i < run->ntargets; i++)
			if (run->targets[i].due)
				run->targets[i].job.result = RESULT_WOULD_SEND;
		return EXIT_OK;
	}
	run_send_reports(run);
	run_store_results(run);
	if (run->cfg.metrics_file != NULL)
		run_update_metrics(run);
	return run_status(run);
}

int
main(int argc, char **argv)
{
	struct run run;
	enum exit_code code;

	run_prepare_process();
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
		code = output_schema();
		goto out;
	}
	log_init(run.opt.verbose, run.opt.quiet,
	    run.opt.mode == MODE_RUN && !run.opt.dry_run);
	/* beacon-report(8): never a wait with -f or -n; said, not silent */
	if (run.opt.splay > 0 && (run.opt.force || run.opt.dry_run))
		log_notice("--splay %u: no wait with %s, which %s at once",
		    run.opt.splay, run.opt.dry_run ? "-n" : "-f",
		    run.opt.dry_run ? "shows what would be sent" : "reports");
	/* a report run ends cleanly on SIGTERM/SIGINT (a shutdown,
	 * timeout(1)): ids learnt are kept; anything else just dies */
	if (run.opt.mode == MODE_RUN && !run.opt.dry_run)
		run_catch_stop_signals();
	if (config_load(run.opt.config, run.opt.config_given, &run.cfg) < 0) {
		code = EXIT_CONFIG;
		if (run.opt.json && run.opt.mode == MODE_RUN)
			output_results_json(&run, code);
		goto out;
	}
	run.ast.bin = run.cfg.asterisk;
	run.ast.socket = run.cfg.control_socket;
	if (run.opt.mode == MODE_SHOW_CONFIG) {
		config_print(&run.cfg, run.opt.json);
		goto out;
	}
	if ((code = run_select_targets(&run)) != EXIT_OK)
		goto out;
	run.now = run_clock_now();
	if (run.opt.mode == MODE_RUN && run.cfg.clone_detection)
		run.have_machine_id = machine_id_read(run.machine_id,
		    sizeof run.machine_id) == 0;

	switch (run.opt.mode) {
	case MODE_SHOW:
		code = output_show(&run);
		break;
	case MODE_RESET:
		code = run_reset(&run);
		break;
	case MODE_DIFF:
		code = output_diff(&run);
		break;
	default:
		code = do_run(&run);
		if (run.opt.json)
			output_results_json(&run, code);
		else
			output_results_text(&run);
		break;
	}
	if (stop_signal)
		log_error("stopped by signal %d; exit %d (%s)", (int)stop_signal,
		    (int)code, exit_code_name(code));
	log_verbose("exit %d (%s): %s", (int)code, exit_code_name(code),
	    exit_code_meaning(code));
out:
	run_free(&run);
	log_close();
	fflush(stdout);
	exit(code);
}
