/* --reset: forget everything of each selected server (CONTRACT §2): its
 * ids, token and `machine` (AstDB), its stamp, its retry state, its last
 * notices and the archive of its last accepted report (state_dir), under
 * the run's lock. */
#include <stdio.h>

#include "run.h"

/* --reset: forget it all, so the next run registers anew and nothing of
 * before stays on the PBX. */
enum exit_code
run_reset(struct run *run)
{
	enum exit_code rc = run_lock_state(run);

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
		    retry_remove(run->dirfd, t->conf->name) < 0 ||
		    notice_file_remove(run->dirfd, t->conf->name) < 0 ||
		    archive_remove(run->dirfd, t->conf->name) < 0) {
			rc = EXIT_STATE;
			continue;
		}
		if (!run->opt.quiet && !run->opt.json)
			printf("%s: reset\n", t->conf->name);
	}
	return rc;
}
