/* The run's decisions: which servers a run is for, whether each is due
 * (the schedule and the back-off), the lock, the collecting with the
 * privacy guard and the clone check, the sending, what is kept
 * afterwards (stamps, retry state, archive, metrics file) and --reset.
 * beacon-report.c calls these in the order of the run's steps; output/
 * prints what they leave in struct run.  Nothing here exits or prints a
 * result: errors are logged where they happen and come back as an
 * exit_code or a target's result.
 *
 * Ownership: struct run lives in main; every pointer in it that is not
 * marked borrowed is the run's, and run_free releases them all. */
#ifndef BEACON_RUN_H
#define BEACON_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "../collect/collect.h"
#include "../common/exit_code.h"
#include "../conf/config.h"
#include "../http/http.h"
#include "../store/history.h"
#include "../store/notices.h"
#include "../store/store.h"

/* What the command line asked (parsed by beacon-report.c). */
enum mode { MODE_RUN, MODE_SHOW, MODE_SHOW_CONFIG, MODE_RESET, MODE_HELP,
    MODE_VERSION, MODE_DIFF, MODE_SCHEMA };

struct options {
	enum mode mode;
	const char *config;
	bool config_given;
	const char **only;	/* -s NAMEs; argv's strings; owned array */
	size_t nonly;
	bool force, dry_run, quiet, verbose, json;
	unsigned splay;
};

/* One selected server during a run. */
struct target {
	const struct server_conf *conf;	/* borrowed from the config */
	const char *private_name;	/* borrowed: what it is sent, or NULL */
	bool disabled;			/* enabled = no in its section */
	char *family;			/* owned: AstDB family */
	bool has_last;			/* it has reported before, at last */
	time_t last;
	bool due;			/* due now; otherwise at next */
	time_t next;
	struct send_job job;		/* the exchange and the stored ids
					 * (job.ids: empty strings when
					 * absent); job.error owned */
	struct retry_state retry;	/* as read, then as this run left it */
	bool backoff;			/* next is the end of a back-off */
	char *sent_body;		/* owned: the last body built for it */
	char machine_for[UUID_LEN + 1];	/* the server id `machine` matches */
	bool notice_shown[NOTICE_MAX];	/* job.notices[i] goes on the run's
					 * output (-q: first time, or after
					 * NOTICE_REPEAT) */
};

/* One run, from the command line to the exit status. */
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

/* Set by the SIGTERM/SIGINT handler of run_catch_stop_signals: the run
 * stops sending, keeps what it learnt and exits the status so far. */
extern volatile sig_atomic_t stop_signal;

/* The process as a run needs it, first thing in main: fds 0-2 open (so
 * that no file we open becomes someone's stdout; else _exit), SIGPIPE
 * ignored, SIGCHLD default, no TLS key log file. */
void run_prepare_process(void);

/* SIGTERM and SIGINT set stop_signal instead of killing (a report run). */
void run_catch_stop_signals(void);

/* ---- the clock, which servers, the lock, due or not (run.c) --------- */

/* The run's clock: now (a TEST_CLOCK build: BEACON_REPORT_NOW). */
time_t run_clock_now(void);

/* Pick the servers of -s (all when none); EXIT_USAGE on an unknown name.
 * A server with enabled = no is a target too, marked disabled (its
 * result RESULT_DISABLED): never due, never contacted, said so. */
enum exit_code run_select_targets(struct run *run);

/* The number of targets that are not disabled. */
size_t run_enabled_targets(const struct run *run);

/* Open state_dir and take the lock (a dry run: neither).  EXIT_OK,
 * EXIT_LOCKED or EXIT_STATE (printed). */
enum exit_code run_lock_state(struct run *run);

/* Read a server's stamp and retry state into t and decide whether it is
 * due (CONTRACT §5 and §9).  0, or -1 on a read error (printed). */
int run_decide_one(const struct run *run, const struct server_conf *s,
    bool force, struct target *t);

/* run_decide_one for every target (a disabled one is never due);
 * EXIT_OK or EXIT_STATE. */
enum exit_code run_decide_due(struct run *run);
bool run_any_due(const struct run *run);

/* --splay: sleep a random 0..splay seconds (a signal ends it). */
void run_splay_wait(unsigned splay);

/* The private_name a server gets: its own, else [general]'s (borrowed). */
const char *run_private_name(const struct run *run,
    const struct server_conf *s);

/* Release everything the run owns (targets, report, config, fds). */
void run_free(struct run *run);

/* ---- collect, send, keep (exchange.c) -------------------------------- */

/* Collect the report (privacy guard applied) and every server's stored
 * ids in one batch; a report run also checks for a cloned AstDB.
 * EXIT_OK, EXIT_ASTERISK or EXIT_STATE (printed). */
enum exit_code run_collect(struct run *run);

/* Send to every due server at once; each due target gets a result. */
void run_send_reports(struct run *run);

/* Keep what the run learnt (stamps, retry state, archive, `machine`);
 * a failure sets state_failed. */
void run_store_results(struct run *run);

/* A server that accepted the report: log its notices to syslog, decide
 * which the run's output shows (notice_shown) and keep them in
 * state_dir (notices.c); a failure sets state_failed. */
void run_keep_notices(struct run *run, struct target *t);

/* The run's exit status from its targets' results. */
enum exit_code run_status(const struct run *run);

/* ---- metrics_file (metrics.c) ----------------------------------------- */

/* Rewrite metrics_file for every configured server, when a value
 * changed; a failure sets state_failed. */
void run_update_metrics(struct run *run);

/* ---- --reset (reset.c) ------------------------------------------------ */

/* Forget ids, tokens, stamps and retry state of each target. */
enum exit_code run_reset(struct run *run);

#endif
