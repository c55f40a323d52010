/* The one place that decides which backend serves a database URI, and the
 * update decision both backends share. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../base/changes.h"
#include "pack.h"
#include "store_backend.h"

int
store_open(const char *uri, struct store **out, char *err, size_t errlen)
{
	*out = NULL;
	if (strncmp(uri, "sqlite:", 7) == 0)
		return store_sqlite_open(uri + 7, out, err, errlen);
	if (strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0)
		return store_pg_open(uri, out, err, errlen);
	snprintf(err, errlen, "database: not sqlite:PATH or postgresql://...");
	return -1;
}

static const struct store_ops *
ops_of(const struct store *st)
{
	return ((const struct store_head *)(const void *)st)->ops;
}

void
store_close(struct store *st)
{
	if (st != NULL)
		ops_of(st)->close(st);
}

/* The report is packed here, on the submitter's thread, so that the
 * writer (SQLite's is one thread) spends no time parsing it.  A report
 * that cannot be packed (out of memory) leaves packed.rest NULL: the
 * backend answers STORE_UNAVAILABLE. */
void
store_job_pack(struct store_job *job, const json_t *report)
{
	packed_free(&job->packed);
	if (report_pack_json(report, &job->packed) < 0)
		memset(&job->packed, 0, sizeof job->packed);
}

int
store_submit(struct store *st, struct store_job *job)
{
	if (job->kind != STORE_JOB_UPDATE)
		memset(&job->packed, 0, sizeof job->packed);
	else if (job->packed.rest == NULL && job->report != NULL &&
	    report_pack(job->report, job->report_len, &job->packed) < 0)
		memset(&job->packed, 0, sizeof job->packed);
	if (ops_of(st)->submit(st, job) < 0) {
		packed_free(&job->packed);
		return -1;
	}
	return 0;
}

void
store_job_done(struct store_job *job)
{
	packed_free(&job->packed);
	job->done(job);
}

enum store_status
store_lookup(struct store *st, const char *server_id, struct server_state *out)
{
	return ops_of(st)->lookup(st, server_id, out);
}

bool
store_ping(struct store *st)
{
	return ops_of(st)->ping(st);
}

int
store_retention(struct store *st, time_t cutoff, time_t unreported_cutoff,
    long *deleted, char *err, size_t errlen)
{
	return ops_of(st)->retention(st, cutoff, unreported_cutoff, deleted,
	    err, errlen);
}

static int
not_here(const struct store *st, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: statistics not implemented yet",
	    ops_of(st)->name);
	return -1;
}

int
store_stats_read(struct store *st, const char *since, struct stat_rows *out,
    char *err, size_t errlen)
{
	if (ops_of(st)->stats_read == NULL)
		return not_here(st, err, errlen);
	return ops_of(st)->stats_read(st, since, out, err, errlen);
}

int
store_stats_expire(struct store *st, time_t cutoff, long established_days,
    long *expired,
    char *err, size_t errlen)
{
	*expired = 0;
	if (ops_of(st)->stats_expire == NULL)
		return not_here(st, err, errlen);
	return ops_of(st)->stats_expire(st, cutoff, established_days, expired,
	    err, errlen);
}

int
store_stats_daily(struct store *st, const struct stats_daily_args *a,
    char *err, size_t errlen)
{
	if (ops_of(st)->stats_daily == NULL)
		return not_here(st, err, errlen);
	return ops_of(st)->stats_daily(st, a, err, errlen);
}

int
store_stats_history(struct store *st, const char *since,
    const char *dimension, const char *key, struct stat_rows *out,
    char *err, size_t errlen)
{
	if (ops_of(st)->stats_history == NULL)
		return not_here(st, err, errlen);
	return ops_of(st)->stats_history(st, since, dimension, key, out, err,
	    errlen);
}

enum store_status
store_fleet_list(struct store *st, const struct fleet_filter *f,
    struct fleet_list *out)
{
	memset(out, 0, sizeof *out);
	if (ops_of(st)->fleet_list == NULL)
		return STORE_UNAVAILABLE;
	return ops_of(st)->fleet_list(st, f, out);
}

enum store_status
store_fleet_get(struct store *st, const char *id, struct fleet_server *out)
{
	memset(out, 0, sizeof *out);
	if (ops_of(st)->fleet_get == NULL)
		return STORE_UNAVAILABLE;
	return ops_of(st)->fleet_get(st, id, out);
}

int
fleet_unpack(struct fleet_server *out, const char *rest, const char *modules,
    const char *prev_diff, const char *prev_modules)
{
	char *prev_rest = NULL;

	if ((out->report = report_unpack(rest, modules)) == NULL)
		return -1;
	if (prev_diff == NULL)
		return 0;
	if ((prev_rest = report_undiff(rest, prev_diff)) == NULL)
		return -1;
	out->previous_report = report_unpack(prev_rest, prev_modules);
	free(prev_rest);
	return out->previous_report != NULL ? 0 : -1;
}

enum store_status
store_fleet_history(struct store *st, const char *id, time_t since,
    long limit, struct fleet_history *out)
{
	memset(out, 0, sizeof *out);
	if (ops_of(st)->fleet_history == NULL)
		return STORE_UNAVAILABLE;
	return ops_of(st)->fleet_history(st, id, since, limit, out);
}

void
fleet_history_free(struct fleet_history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].kind);
		free(h->v[i].detail);
	}
	free(h->v);
	memset(h, 0, sizeof *h);
}

int
store_changes_prune(struct store *st, time_t cutoff, long *deleted,
    char *err, size_t errlen)
{
	*deleted = 0;
	if (ops_of(st)->changes_prune == NULL)
		return not_here(st, err, errlen);
	return ops_of(st)->changes_prune(st, cutoff, deleted, err, errlen);
}

void
fleet_server_free(struct fleet_server *s)
{
	if (s == NULL)
		return;
	free(s->private_name);
	free(s->version);
	free(s->startup_time);
	free(s->sys_name);
	free(s->kernel);
	free(s->machine);
	free(s->report);
	free(s->previous_report);
	memset(s, 0, sizeof *s);
}

void
fleet_list_free(struct fleet_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		fleet_server_free(&l->servers[i]);
	free(l->servers);
	memset(l, 0, sizeof *l);
}

static atomic_uint generation;

void
store_touch(void)
{
	atomic_fetch_add(&generation, 1);
}

unsigned
store_generation(void)
{
	return atomic_load(&generation);
}

const char *
store_backend_name(const struct store *st)
{
	return ops_of(st)->name;
}

enum store_status
store_decide_update(struct store_job *job, bool found, struct server_state *st)
{
	long since;

	if (!found)
		return STORE_NOT_FOUND;
	if (token_check(&st->tokens, job->presented, job->now) == TOKEN_REJECT)
		return STORE_BAD_TOKEN;
	since = (long)(job->now - st->last_update);
	if (job->min_update_interval_s > 0 && st->last_update != 0 &&
	    since >= 0 && since < job->min_update_interval_s) {
		job->retry_after = job->min_update_interval_s - since;
		return STORE_TOO_SOON;
	}
	if (token_renew(&st->tokens, job->now) < 0)
		return STORE_UNAVAILABLE;
	st->last_seen = job->now;
	st->last_update = job->now;
	st->reports++;
	job->token = st->tokens.current;
	return STORE_OK;
}

/* A report rest's private_name, malloc'd; NULL when none (or not JSON:
 * then the changes simply carry no name). */
static char *
private_name_of(const char *rest)
{
	json_t *o = rest != NULL ? json_loads(rest, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(o, "private_name"));
	char *copy = name != NULL ? strdup(name) : NULL;

	json_decref(o);
	return copy;
}

int
changes_for_job(const struct store_job *job, const char *summary_own,
    const char *summary_shared, const char *rest, const char *prev_diff,
    const char *prev_modules, struct change_list *out)
{
	char *before = NULL, *prev_rest = NULL, *prev = NULL;
	char *old_name = NULL, *new_name = NULL;
	int how = -1;

	if ((summary_own != NULL || summary_shared != NULL) &&
	    (before = summary_join(summary_own, summary_shared)) == NULL)
		goto out;
	if (prev_diff != NULL && rest != NULL &&
	    (prev_rest = report_undiff(rest, prev_diff)) == NULL)
		goto out;
	old_name = private_name_of(prev_rest);
	new_name = private_name_of(rest);
	how = changes_from_summaries(before, job->summary, old_name, new_name,
	    out);
	if (how == 1 || (how == 0 && before == NULL && prev_rest != NULL)) {
		/* The summary cannot tell (or a report from before summaries). */
		change_list_free(out);
		how = -1;
		if (prev_rest != NULL &&
		    (prev = report_unpack(prev_rest, prev_modules)) == NULL)
			goto out;
		how = changes_between(prev, prev != NULL ? strlen(prev) : 0,
		    job->report != NULL ? job->report : "", job->report_len,
		    out);
	}
out:
	free(before);
	free(prev_rest);
	free(prev);
	free(old_name);
	free(new_name);
	return how < 0 ? -1 : 0;
}
