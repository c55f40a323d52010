/* What beacon-report prints on stdout: a run's results (one line per
 * server, or --json), --show and --diff.  Each reads struct run as the
 * run's steps (run/) left it and changes nothing but stdout; what it
 * allocates it frees.  Diagnostics go to stderr through common/log.h
 * where they happen, not here. */
#ifndef BEACON_OUTPUT_H
#define BEACON_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "../run/run.h"

/* ---- a run's results (results.c) -------------------------------------- */

/* One line per server ("mylab: sent; notice: ..."); -q: nothing but a
 * notice shown (errors went to stderr). */
void output_results_text(const struct run *run);

/* {"exit_code","status","servers":[...]} with the run's exit status. */
void output_results_json(const struct run *run, enum exit_code code);

/* ---- --show and --diff (inspect.c): they collect, send nothing ------- */

/* --show: the report and each server's stored state. */
enum exit_code output_show(struct run *run);

/* --diff: what changed since each server's last accepted report. */
enum exit_code output_diff(struct run *run);

/* --schema: the report body's JSON Schema on stdout; EXIT_STATE when it
 * cannot be written. */
enum exit_code output_schema(void);

/* ---- the --show layout (show.c) --------------------------------------- */

/* Print r and the servers like `beacon show server` (CONTRACT §8), in 80
 * columns, headed by whether reporting is enabled; bold headings only when
 * color.  The values are those sent (times, memory and uptime coarse,
 * and said so), each server's private name, tokens as "****". */
void show_print(FILE *out, const struct report *r,
    const struct target *servers, size_t n, bool enabled, bool color);

/* {"report":{...},"servers":[{"name","url","server_id","token_id",
 * "token_issued","last_report","next_due","due"}]} (new reference),
 * absent values as null.  NULL on ENOMEM. */
json_t *show_json(const struct report *r, const struct target *servers,
    size_t n, const char *private_name);

/* ---- within output/ (results.c) --------------------------------------- */

/* obj[key] = t as RFC 3339 UTC, or null when !have. */
void json_set_time(json_t *obj, const char *key, bool have, time_t t);

/* {"failures","since","until"} of a retry state (new reference). */
json_t *retry_json(const struct retry_state *rs);

#endif
