/* The Beacon protocol per server (CONTRACT §6) as a small state machine:
 * REGISTER → UPDATE, and on a 401/404 forget the ids, REGISTER → UPDATE
 * once more.  Every server's machine runs at the same time: when one
 * request finishes, that server's next one is started at once, so a slow
 * server delays nobody else. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "http_int.h"

#define SERVER_TEXT_MAX 200	/* bytes of a server's own words in an error */
#define TOKEN_MASK SECRET_MASK	/* a token never appears in output */

enum step {
	STEP_REGISTER,
	STEP_UPDATE,
	STEP_DONE
};

/* One job's progress; owned by http_send_all. */
struct job_run {
	struct send_job *job;
	struct server_ids orig;	/* the ids as they came in */
	struct server_ids kept;	/* the ids the sink holds now */
	enum step step;
	bool again;		/* a 401/404 already made us register anew */
	const char *method;	/* of the request in flight */
	char *shown_url;	/* owned: its URL as it may be printed */
};

/* End the job with result; error (owned, may be NULL when out of
 * memory) becomes job->error.  Failures are printed here, once. */
static void
job_end(struct job_run *run, enum server_result result, char *error)
{
	struct send_job *job = run->job;

	run->step = STEP_DONE;
	job->result = result;
	free(job->error);
	job->error = error;
	if (result == RESULT_UNREACHED && job->quiet_unreached)
		log_syslog_error("server %s: %s", job->server->name,
		    error != NULL ? error : "out of memory");
	else if (result != RESULT_SENT)
		log_error("server %s: %s", job->server->name,
		    error != NULL ? error : "out of memory");
}

static void job_fail(struct job_run *run, enum server_result result,
    const char *fmt, ...) PRINTF_LIKE(3, 4);

/* End the job as failed with a formatted one-line reason. */
static void
job_fail(struct job_run *run, enum server_result result, const char *fmt, ...)
{
	va_list ap;
	char *error;

	va_start(ap, fmt);
	if (vasprintf(&error, fmt, ap) < 0)
		error = NULL;
	va_end(ap);
	job_end(run, result, error);
}

/*
 * Start the request of the job's current step: POST B/servers, or
 * PUT B/servers/ID?tokenId=T with the body built now, so that it carries
 * the id just registered.  A request that cannot be started ends the job.
 */
static void
job_request(struct job_run *run, struct http_multi *m,
    const struct http_options *opt)
{
	const struct server_conf *server = run->job->server;
	const struct server_ids *ids = &run->job->ids;
	char *url = NULL, *path = NULL, *body = NULL;
	const char *why = "out of memory";
	int rc = -1;

	free(run->shown_url);
	run->shown_url = NULL;
	if (run->step == STEP_REGISTER) {
		run->method = "POST";
		if (asprintf(&url, "%s/servers", server->url) >= 0 &&
		    (run->shown_url = strdup(url)) != NULL)
			rc = 0;
	} else {
		run->method = "PUT";
		path = proto_put_path(ids);
		if (path != NULL && asprintf(&url, "%s%s", server->url, path) >= 0 &&
		    asprintf(&run->shown_url, "%s/servers/%s%s", server->url,
		    ids->server_id, strchr(path, '?') != NULL ?
		    "?tokenId=" TOKEN_MASK : "") >= 0 &&
		    (body = opt->body(opt->body_ctx, server, ids->server_id)) != NULL)
			rc = 0;
	}
	if (rc == 0)
		rc = http_multi_start(m, server, opt->timeout, run->method, url,
		    run->shown_url, body, run, &why);
	if (rc != 0)
		job_fail(run, RESULT_UNREACHED, "%s %s/servers: cannot start the "
		    "request: %s", run->method, server->url, why);
	free(url);
	free(path);
	free(body);
}

/* A job's first request: register when there is no valid server id. */
static void
job_begin(struct job_run *run, struct http_multi *m,
    const struct http_options *opt)
{
	struct send_job *job = run->job;

	job->result = RESULT_NONE;
	free(job->retry_after);
	job->retry_after = NULL;
	job->ids_changed = false;
	job->http_status = 0;
	memset(&job->notices, 0, sizeof job->notices);
	job->notices_malformed = false;
	run->orig = run->kept = job->ids;
	/* the admin's own choice, shown by --show-config: not under -q */
	if (!job->server->verify_cert)
		log_notice("server %s: certificate verification is off "
		    "(verify_cert = no)", job->server->name);
	if (uuid_is_valid(job->ids.server_id)) {
		run->step = STEP_UPDATE;
	} else {
		/* a token without its server id is of no use */
		memset(&job->ids, 0, sizeof job->ids);
		run->step = STEP_REGISTER;
	}
	job_request(run, m, opt);
}

/* The server's own words for an error, "" when it said nothing; owned. */
static char *
server_text(const struct http_reply *reply)
{
	char *text = text_sanitize(reply->body, reply->len, SERVER_TEXT_MAX);
	char *out;

	if (text == NULL || text[0] == '\0')
		return text;
	if (asprintf(&out, ": %s", text) < 0)
		out = NULL;
	free(text);
	return out;
}

/* End the job on an HTTP status that is not the answer we wanted: 429
 * and 5xx are the server's passing trouble, everything else (3xx, 4xx,
 * 1xx, a 2xx that was not expected) refuses the report. */
static void
job_fail_status(struct job_run *run, const struct http_reply *reply,
    const char *what)
{
	long st = reply->status;
	enum server_result result = st == 429 || st >= 500 ?
	    RESULT_UNREACHED : RESULT_REJECTED;
	char *text = server_text(reply);

	free(run->job->retry_after);
	run->job->retry_after = (st == 429 || st == 503) &&
	    reply->retry_after != NULL ? strdup(reply->retry_after) : NULL;
	job_fail(run, result, "HTTP %ld from %s%s%s", st, run->shown_url,
	    what, text != NULL ? text : "");
	free(text);
}

static bool
ids_equal(const struct server_ids *a, const struct server_ids *b)
{
	return strcmp(a->server_id, b->server_id) == 0 &&
	    strcmp(a->token_id, b->token_id) == 0 &&
	    strcmp(a->token_issued, b->token_issued) == 0;
}

/* Hand the job's ids to the sink when they are complete, valid and not
 * yet kept. */
static void
job_keep(struct job_run *run, const struct http_options *opt)
{
	struct send_job *job = run->job;

	if (opt->store == NULL || !uuid_is_valid(job->ids.server_id) ||
	    !uuid_is_valid(job->ids.token_id) || ids_equal(&job->ids, &run->kept))
		return;
	if (opt->store(opt->store_ctx, job, &run->kept) == 0) {
		run->kept = job->ids;
		job->store_failed = false;
	} else {
		job->store_failed = true;
	}
}

/* The answer to the POST: a ServerToken gives the ids to PUT with. */
static void
answer_register(struct job_run *run, const struct http_reply *reply,
    struct http_multi *m, const struct http_options *opt)
{
	struct server_ids got;
	const char *why = NULL;

	if (reply->status != 200 && reply->status != 201) {
		job_fail_status(run, reply, reply->status >= 300 &&
		    reply->status < 400 ? ": redirect not followed" : "");
		return;
	}
	memset(&got, 0, sizeof got);
	if (proto_parse_server_token(reply->body, reply->len, opt->now, &got, &why) != 0) {
		job_fail(run, RESULT_REJECTED, "HTTP %ld from %s: not a "
		    "ServerToken: %s", reply->status, run->shown_url, why);
		return;
	}
	run->job->ids = got;
	job_keep(run, opt);	/* before the PUT: it may never end */
	run->step = STEP_UPDATE;
	job_request(run, m, opt);
}

/* The answer to the PUT: a Token means the report was accepted. */
static void
answer_update(struct job_run *run, const struct http_reply *reply,
    struct http_multi *m, const struct http_options *opt)
{
	struct send_job *job = run->job;
	struct server_ids got = job->ids;
	const char *why = NULL;

	if ((reply->status == 401 || reply->status == 404) && !run->again) {
		log_verbose("server %s: HTTP %ld: registering anew",
		    job->server->name, reply->status);
		memset(&job->ids, 0, sizeof job->ids);
		run->again = true;
		run->step = STEP_REGISTER;
		job_request(run, m, opt);
		return;
	}
	if (reply->status < 200 || reply->status >= 300) {
		job_fail_status(run, reply, reply->status >= 300 &&
		    reply->status < 400 ? ": redirect not followed" : "");
		return;
	}
	if (proto_parse_token(reply->body, reply->len, opt->now, &got, &why) != 0) {
		job_fail(run, RESULT_REJECTED, "HTTP %ld from %s: not a Token: %s",
		    reply->status, run->shown_url, why);
		return;
	}
	/* The same token again keeps its first date: a server whose date
	 * cannot be read would otherwise cost an AstDB write every run. */
	if (strcmp(got.token_id, job->ids.token_id) == 0 &&
	    job->ids.token_issued[0] != '\0')
		memcpy(got.token_issued, job->ids.token_issued,
		    sizeof got.token_issued);
	job->ids = got;
	/* what the server had to tell: a malformed list is a warning,
	 * never a failed report (CONTRACT §6) */
	job->notices_malformed = proto_parse_notices(reply->body, reply->len,
	    &job->notices, &why) != 0;
	if (job->notices_malformed)
		log_warn("server %s: HTTP %ld from %s: its notices are ignored: %s",
		    job->server->name, reply->status, run->shown_url, why);
	job_end(run, RESULT_SENT, NULL);
}

/* Take one finished request's answer and move its job on. */
static void
job_answer(struct job_run *run, const struct http_reply *reply,
    struct http_multi *m, const struct http_options *opt)
{
	run->job->http_status = reply->status;
	if (reply->failed)
		job_fail(run, RESULT_UNREACHED, "%s %s: %s", run->method,
		    run->shown_url, reply->error ? reply->error : "failed");
	else if (reply->too_big)
		job_fail(run, RESULT_REJECTED, "HTTP %ld from %s: response body "
		    "over %u KiB", reply->status, run->shown_url,
		    HTTP_BODY_CAP >> 10);
	else if (reply->status == 0)
		job_fail(run, RESULT_UNREACHED, "%s %s: no HTTP answer",
		    run->method, run->shown_url);
	else if (run->step == STEP_REGISTER)
		answer_register(run, reply, m, opt);
	else
		answer_update(run, reply, m, opt);
}

/*
 * Settle the job's ids: new ones are kept only when they are complete
 * and valid (then ids_changed, even when the update itself failed: a
 * registration the server made must not be thrown away); otherwise the
 * ids that came in are restored, so that stored ids are never replaced
 * by nothing and the next run retries with them.
 */
static void
job_close(struct job_run *run, const struct http_options *opt)
{
	struct send_job *job = run->job;
	const struct server_ids *a = &job->ids;

	if (!uuid_is_valid(a->server_id) || !uuid_is_valid(a->token_id)) {
		/* the last ids kept (those that came in, or a registration
		 * the sink already holds) stay the job's */
		job->ids = run->kept;
	}
	job_keep(run, opt);
	job->ids_changed = !ids_equal(&job->ids, &run->orig);
	free(run->shown_url);
	run->shown_url = NULL;
}

int
http_send_all(struct send_job *const *jobs, size_t n,
    const struct http_options *opt)
{
	struct job_run *runs;
	struct http_multi *m;
	struct http_reply reply;
	void *owner;
	int rc = 0;

	if (n == 0)
		return 0;
	runs = calloc(n, sizeof *runs);
	m = runs != NULL ? http_multi_new() : NULL;
	for (size_t i = 0; runs != NULL && i < n; i++)
		runs[i].job = jobs[i];
	if (m == NULL) {
		for (size_t i = 0; i < n; i++) {
			struct job_run one = { .job = jobs[i] };
			jobs[i]->ids_changed = false;
			jobs[i]->http_status = 0;
			job_fail(&one, RESULT_UNREACHED, "cannot set up libcurl");
		}
		free(runs);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		job_begin(&runs[i], m, opt);
	while ((rc = http_multi_next(m, &owner, &reply, opt->stop)) == 1) {
		job_answer(owner, &reply, m, opt);
		http_reply_free(&reply);
	}
	for (size_t i = 0; i < n; i++) {
		if (runs[i].step != STEP_DONE)
			job_fail(&runs[i], RESULT_UNREACHED, "%s %s: %s",
			    runs[i].method, runs[i].shown_url ?
			    runs[i].shown_url : jobs[i]->server->url,
			    rc == HTTP_STOPPED ? "interrupted by a signal" : "libcurl failed");
		job_close(&runs[i], opt);
	}
	http_multi_free(m);
	free(runs);
	return rc == -1 ? -1 : 0;
}

void
send_job_free(struct send_job *job)
{
	if (job == NULL)
		return;
	free(job->error);
	job->error = NULL;
	free(job->retry_after);
	job->retry_after = NULL;
}
