/* What a server had to tell (CONTRACT §6): every notice to syslog each
 * time; on the run's output always, but under -q only the first time
 * its id is seen and again at most every NOTICE_REPEAT (cron must not
 * mail the same line every hour); the last ones kept in state_dir for
 * --show. */
#include <string.h>

#include "../common/log.h"
#include "run.h"

void
run_keep_notices(struct run *run, struct target *t)
{
	const struct notices *got = &t->job.notices;
	struct notice_file nf;

	memset(t->notice_shown, 0, sizeof t->notice_shown);
	for (size_t i = 0; i < got->n; i++)
		log_syslog_info("server %s: notice %s (%s): %s", t->conf->name,
		    got->item[i].id, got->item[i].kind, got->item[i].text);
	if (t->job.notices_malformed)
		return;		/* warned about; what was kept stays */
	if (notice_file_read(run->dirfd, t->conf->name, &nf) < 0) {
		run->state_failed = true;
		return;
	}
	if (got->n == 0 && nf.list.n == 0)
		return;		/* nothing to tell, nothing told before */
	nf.list = *got;
	nf.has_received = true;
	nf.received = run->now;
	for (size_t i = 0; i < got->n; i++) {
		t->notice_shown[i] = !run->opt.quiet || run->opt.json ||
		    notice_due(&nf, got->item[i].id, run->now);
		if (t->notice_shown[i])
			notice_mark_shown(&nf, got->item[i].id, run->now);
	}
	if (notice_file_write(run->dirfd, t->conf->name, &nf) < 0)
		run->state_failed = true;
}
