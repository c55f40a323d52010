/* The run's state for each selected server, shared by the run's steps
 * (beacon-report.c) and their presentation (show.c): the top of the
 * tree, which alone sees every folder below it. */
#ifndef BEACON_RUN_H
#define BEACON_RUN_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "../collect/collect.h"
#include "../conf/config.h"
#include "../http/http.h"
#include "../store/history.h"

/* One selected server during a run. */
struct target {
	const struct server_conf *conf;	/* borrowed from the config */
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
};

/* ---- --show (show.c) ------------------------------------------------- */

/* Print r and the servers like `beacon show server` (CONTRACT §8), in 80
 * columns, headed by whether reporting is enabled; bold headings only when
 * color; now (the run's clock) gives "Running for". */
void show_print(FILE *out, const struct report *r,
    const struct target *servers, size_t n, bool enabled, bool color,
    time_t now);

/* {"report":{...},"servers":[{"name","url","server_id","token_id",
 * "token_issued","last_report","next_due","due"}]} (new reference),
 * absent values as null.  NULL on ENOMEM. */
json_t *show_json(const struct report *r, const struct target *servers,
    size_t n, const char *private_name);

#endif
