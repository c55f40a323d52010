/* The metrics file's values: what this run decided and learnt for each
 * configured server, the others as their state files say; the text and
 * the atomic write are store/metrics_file.c's. */
#include <stdlib.h>

#include "../common/log.h"
#include "run.h"

/* metrics_file (CONTRACT §9): every configured server, the run's targets
 * as the run left them, the others as their files say.  Rewritten only
 * when a value changed. */
void
run_update_metrics(struct run *run)
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
			if (run_decide_one(run, &cfg->servers[i], false, &other[i]) < 0) {
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
