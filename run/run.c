/* The run's servers and their schedule: -s into targets, the lock on
 * state_dir, whether each server is due (stamp, schedule, back-off),
 * --splay, and freeing it all at the end.  Targets and their strings
 * are the run's (run_free). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "run.h"

#ifndef TEST_CLOCK
#define TEST_CLOCK 0
#endif

volatile sig_atomic_t stop_signal;

void
run_prepare_process(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_STATE);
	signal(SIGPIPE, SIG_IGN);
	/* Inherited as ignored, SIGCHLD would make every child vanish
	 * unwaited-for and every Asterisk failure look like an empty answer. */
	signal(SIGCHLD, SIG_DFL);
	/* The environment does not steer the transport: TLS secrets are
	 * never written to a key log file (NO_PROXY: http/transport.c). */
	unsetenv("SSLKEYLOGFILE");
}

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

void
run_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;	/* no SA_RESTART: wake poll */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

time_t
run_clock_now(void)
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
enum exit_code
run_select_targets(struct run *run)
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
		struct target *t = &run->targets[run->ntargets];

		t->conf = s;
		t->private_name = run_private_name(run, s);
		t->disabled = !s->enabled;
		t->family = astdb_family(s->name, s->builtin);
		t->job.server = s;
		if (t->disabled)
			t->job.result = RESULT_DISABLED;
		if (t->family == NULL)
			return EXIT_STATE;
		run->ntargets++;
	}
	return EXIT_OK;
}

size_t
run_enabled_targets(const struct run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->ntargets; i++)
		if (!run->targets[i].disabled)
			n++;
	return n;
}

/* Read a server's stamp and retry state into t and decide whether it is
 * due (CONTRACT §5; -f: always, but the built-in server keeps its
 * 60-minute floor; a back-off of §9 makes it not due, unless -f).
 * 0, or -1 on a read error (printed). */
int
run_decide_one(const struct run *run, const struct server_conf *s, bool force,
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

enum exit_code
run_decide_due(struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++) {
		struct target *t = &run->targets[i];

		if (run_decide_one(run, t->conf, run->opt.force, t) < 0)
			return EXIT_STATE;
		if (t->disabled)
			t->due = false;	/* never contacted, never a failure */
		t->job.result = t->disabled ? RESULT_DISABLED :
		    t->due ? RESULT_NONE : RESULT_NOT_DUE;
	}
	run->decided = true;
	return EXIT_OK;
}

bool
run_any_due(const struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++)
		if (run->targets[i].due)
			return true;
	return false;
}

/* --splay: spread a hundred thousand PBXs over the window. */
void
run_splay_wait(unsigned splay)
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

/* Open state_dir and take the lock.  A dry run changes no state: it
 * neither creates state_dir nor its lock file, and takes no lock. */
enum exit_code
run_lock_state(struct run *run)
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

/* The private_name a server gets: its own, else [general]'s. */
const char *
run_private_name(const struct run *run, const struct server_conf *s)
{
	return s->private_name != NULL ? s->private_name : run->cfg.private_name;
}

void
run_free(struct run *run)
{
	for (size_t i = 0; i < run->ntargets; i++) {
		free(run->targets[i].family);
		free(run->targets[i].sent_body);
		send_job_free(&run->targets[i].job);
	}
	free(run->targets);
	if (run->have_report)
		report_free(&run->report);
	config_free(&run->cfg);
	free(run->opt.only);
	if (run->lockfd >= 0)
		close(run->lockfd);
	if (run->dirfd >= 0)
		close(run->dirfd);
}
