/* A report's exchange, from Asterisk to the servers and back to the
 * state: collect (with the privacy guard and the clone check), send to
 * every due server at once, keep what they answered (ids to the AstDB as
 * they come, then stamps, retry state, archive, `machine`).  The bodies
 * built are kept in each target (sent_body, the run's). */
#include <stdlib.h>
#include <string.h>

#include "../collect/guard.h"
#include "../common/log.h"
#include "../common/text.h"
#include "run.h"

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
enum exit_code
run_collect(struct run *run)
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

/* The PUT body; the target keeps a copy, so that the archive holds the
 * exact body the server accepted. */
static char *
build_body(void *ctx, const struct server_conf *server, const char *server_id)
{
	struct run *run = ctx;
	char *body = report_body(&run->report, server_id,
	    run_private_name(run, server));

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
		 * once more when it ends, and run_store_results judges */
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
void
run_send_reports(struct run *run)
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
void
run_store_results(struct run *run)
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
		run_keep_notices(run, t);
		t->has_last = true;
		t->last = run->now;
		t->next = schedule_next(run->now + 1, true, run->now,
		    t->conf->interval, t->conf->start_time);
	}
}

enum exit_code
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
