/* The Beacon protocol: routes, the order of checks of COLLECTOR.md §3, and
 * the answers.  No libmicrohttpd here (http.c), no SQL (store_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "../base/geoip.h"
#include "../base/clock.h"
#include "history_api.h"
#include "metrics.h"
#include "modules.h"
#include "../base/lifecycle.h"
#include "../base/summary.h"
#include "../stats/stats.h"
#include "validate.h"
#include "views.h"

static const char JSON[] = "application/json";

static enum api_next
refuse(struct api_request *req, int status, const char *msg)
{
	api_error(&req->resp, status, msg);
	return API_RESPOND;
}

static enum api_next
too_many(struct api_request *req, long retry_after, const char *msg)
{
	req->resp.retry_after = retry_after > 0 ? retry_after : 1;
	return refuse(req, 429, msg);
}

static enum api_next
not_allowed(struct api_request *req, const char *allow)
{
	req->resp.allow = allow;
	return refuse(req, 405, "method not allowed");
}

/* application/json, any case, parameters (charset) allowed. */
static bool
is_json_type(const char *ct)
{
	size_t n = strlen(JSON);

	if (ct == NULL || strncasecmp(ct, JSON, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool
body_fits(const struct api_request *req)
{
	return req->content_length < 0 ||
	    (unsigned long long)req->content_length <= req->body_max;
}

static enum api_next
refuse_too_large(struct api_request *req)
{
	char msg[96];

	snprintf(msg, sizeof msg, "body larger than max_body_kb (%ld KiB)",
	    req->app->cfg->max_body_kb);
	return refuse(req, 413, msg);
}

static enum api_next
begin_healthz(struct api_request *req)
{
	bool up = store_ping(req->app->store);

	free(req->resp.body);
	req->resp.status = up ? 200 : 503;
	req->resp.content_type = "text/plain; charset=utf-8";
	req->resp.body = strdup(up ? "ok\n" : "database unavailable\n");
	return API_RESPOND;
}

static enum api_next
begin_register(struct api_request *req, long request_wait)
{
	long wait;

	if (request_wait > 0)
		return too_many(req, request_wait, "too many requests from this address");
	wait = rate_limits_register(req->app->limits, req->client, req->now);
	if (wait > 0)
		return too_many(req, wait, "too many registrations from this address");
	if (!body_fits(req))
		return refuse_too_large(req);
	return API_READ_BODY;
}

static enum api_next
begin_update(struct api_request *req, long request_wait)
{
	struct server_state state;
	enum store_status found;
	const char *id = req->path + strlen("/servers/");

	if (!uuid_is_v4(id))
		return refuse(req, 400, "server id: not a v4 UUID");
	memcpy(req->server_id, id, UUID_LEN + 1);
	found = store_lookup(req->app->store, req->server_id, &state);
	if (found == STORE_NOT_FOUND)
		return refuse(req, 404, "No such server");
	if (found != STORE_OK)
		return refuse(req, 503, "database unavailable");
	if (request_wait > 0)
		return too_many(req, request_wait, "too many requests from this address");
	/* Checked again under the store's lock; here so that a wrong token
	 * is refused before the body is read. */
	if (token_check(&state.tokens, req->token_id, req->now) == TOKEN_REJECT)
		return refuse(req, 401, "Invalid token provided");
	if (!is_json_type(req->content_type))
		return refuse(req, 415, "Content-Type must be application/json");
	if (!body_fits(req))
		return refuse_too_large(req);
	return API_READ_BODY;
}

/* GET /api/v1/stats and GET /metrics: public, or behind the fleet view's
 * HTTP Basic when public_stats = no.  The figures come from the cached
 * snapshot, k-anonymous already. */
static enum api_next
begin_stats(struct api_request *req)
{
	const struct collector_config *cfg = req->app->cfg;
	const struct stats *s;
	char err[256];

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return not_allowed(req, "GET, HEAD");
	if (!cfg->public_stats && !auth_gate(req))
		return req->auth_state == AUTH_PENDING ? API_CHECK_PASSWORD :
		    API_RESPOND;
	/* Issue 22: the history and the modules' pages, public alike. */
	if (history_api_path(req->path)) {
		history_api_respond(req);
		return API_RESPOND;
	}
	if (modules_path(req->path)) {
		modules_respond(req);
		return API_RESPOND;
	}
	s = stats_current(req->app->store, cfg, collector_now(), err, sizeof err);
	if (s == NULL) {
		req->resp.retry_after = 60;
		return refuse(req, 503, "database unavailable");
	}
	if (req->route == ROUTE_STATS) {
		api_respond_json(&req->resp, 200, stats_to_json(s));
	} else {
		free(req->resp.body);
		req->resp.body = metrics_render(s);
		req->resp.status = req->resp.body != NULL ? 200 : 503;
		req->resp.content_type = METRICS_CONTENT_TYPE;
	}
	stats_release(s);
	return API_RESPOND;
}

enum api_next
api_begin(struct api_request *req)
{
	const char *p = req->path;
	const char *m = req->method;
	long wait = rate_limits_request(req->app->limits, req->client, req->now);

	if (strcmp(p, "/servers") == 0 || strcmp(p, "/servers/") == 0) {
		req->route = ROUTE_REGISTER;
		if (strcmp(m, "POST") != 0)
			return not_allowed(req, "POST");
		return begin_register(req, wait);
	}
	if (strncmp(p, "/servers/", 9) == 0 && strchr(p + 9, '/') == NULL) {
		req->route = ROUTE_UPDATE;
		if (strcmp(m, "PUT") != 0)
			return not_allowed(req, "PUT");
		return begin_update(req, wait);
	}
	if (strcmp(p, "/healthz") == 0) {
		req->route = ROUTE_HEALTHZ;
		if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
			return not_allowed(req, "GET, HEAD");
		return begin_healthz(req);
	}
	if (strcmp(p, "/api/v1/stats") == 0 || strcmp(p, "/metrics") == 0 ||
	    history_api_path(p) || modules_path(p)) {
		req->route = p[1] == 'a' ? ROUTE_STATS : ROUTE_METRICS;
		if (wait > 0)
			return too_many(req, wait, "too many requests from this address");
		return begin_stats(req);
	}
	if (views_begin(req, wait))
		return req->auth_state == AUTH_PENDING ? API_CHECK_PASSWORD :
		    API_RESPOND;
	if (wait > 0)
		return too_many(req, wait, "too many requests from this address");
	return refuse(req, 404, "not found");
}

enum api_next
api_after_check(struct api_request *req)
{
	if (req->resp.status != 0)
		return API_RESPOND;	/* the checker's queue was full: 503 */
	if (req->auth_state != AUTH_OK) {
		req->resp.www_authenticate = AUTH_CHALLENGE;
		return refuse(req, 401, "authentication required");
	}
	if (req->route == ROUTE_STATS || req->route == ROUTE_METRICS)
		return begin_stats(req);
	if (req->route == ROUTE_VIEW && views_begin(req, 0))
		return API_RESPOND;
	return refuse(req, 404, "not found");
}

static enum api_next
submit(struct api_request *req)
{
	req->job.now = req->now;
	return API_SUBMIT;
}

/* POST: an empty body, or an object that may name an existing id (409). */
static enum api_next
finish_register(struct api_request *req)
{
	struct store_job *job = &req->job;

	if (req->body.len > 0) {
		json_error_t jerr;
		json_t *obj, *id;
		struct server_state state;

		if (!is_json_type(req->content_type))
			return refuse(req, 415, "Content-Type must be application/json");
		obj = json_loadb(req->body.data, req->body.len, 0, &jerr);
		if (!json_is_object(obj)) {
			json_decref(obj);
			return refuse(req, 400, "body: not a JSON object");
		}
		id = json_object_get(obj, "id");
		if (json_is_string(id) && uuid_is_valid(json_string_value(id)) &&
		    store_lookup(req->app->store, json_string_value(id),
		    &state) == STORE_OK) {
			json_decref(obj);
			return refuse(req, 409, "Server already exists");
		}
		json_decref(obj);
	}
	job->kind = STORE_JOB_REGISTER;
	if (uuid_v4_new(job->server_id) < 0 || uuid_v4_new(job->new_token.id) < 0)
		return refuse(req, 503, "no random bytes");
	job->new_token.issued = req->now;
	return submit(req);
}

/* The notice for the PBX that sent report, when its Asterisk is past end
 * of life or gets security fixes only (COLLECTOR.md §6): into req. */
static void
lifecycle_notice_for(struct api_request *req, const json_t *report)
{
	const json_t *ver = json_object_get(json_object_get(report, "asterisk"),
	    "version");
	const json_t *num = json_object_get(ver, "number");
	long number = 0;

	if (json_is_integer(num))
		number = (long)json_integer_value(num);
	else if (json_is_string(num))
		number = strtol(json_string_value(num), NULL, 10);
	req->has_notice = lifecycle_notice(req->app->cfg->lifecycle_data,
	    json_string_value(json_object_get(ver, "name")), number, req->now,
	    req->notice_id, req->notice_text);
}

/* The country of the client address, when geoip_database is set, counted
 * with the report's summary; the address itself goes no further. */
static int
add_country(struct api_request *req)
{
	char cc[3];
	char *with;

	if (!geoip_country(req->app->cfg->geoip_data, req->client, cc))
		return 0;
	if ((with = stats_summary_add(req->summary, "country", cc)) == NULL)
		return -1;
	free(req->summary);
	req->summary = with;
	return 0;
}

static enum api_next
finish_update(struct api_request *req)
{
	struct store_job *job = &req->job;
	char err[256];
	json_t *report = NULL;

	if (report_validate(req->body.data != NULL ? req->body.data : "",
	    req->body.len, req->server_id, &report, err, sizeof err) < 0)
		return refuse(req, 400, err);
	/* What the report adds to the statistics, made here rather than on
	 * the store's single writer thread. */
	req->summary = stats_summary(report, req->now);
	lifecycle_notice_for(req, report);
	if (req->summary != NULL)	/* from this parse, not another */
		store_job_pack(job, report);
	json_decref(report);
	if (req->summary == NULL || add_country(req) < 0)
		return refuse(req, 503, "out of memory");
	job->summary = req->summary;
	job->kind = STORE_JOB_UPDATE;
	memcpy(job->server_id, req->server_id, sizeof job->server_id);
	job->presented[0] = '\0';
	if (req->token_id != NULL && strlen(req->token_id) == UUID_LEN)
		memcpy(job->presented, req->token_id, UUID_LEN + 1);
	job->report = req->body.data;
	job->report_len = req->body.len;
	job->min_update_interval_s = req->app->cfg->min_update_interval * 60;
	job->established_days = req->app->cfg->established_days;
	job->history_since = req->now - (time_t)req->app->cfg->history_days * 86400;
	return submit(req);
}

enum api_next
api_finish(struct api_request *req)
{
	if (req->body_too_large)
		return refuse_too_large(req);
	switch (req->route) {
	case ROUTE_REGISTER:
		return finish_register(req);
	case ROUTE_UPDATE:
		return finish_update(req);
	default:
		return refuse(req, 404, "not found");
	}
}

static json_t *
token_json(const struct token *t)
{
	char issued[RFC3339_LEN + 1];

	time_format_utc(t->issued, issued);
	return json_pack("{s:s,s:s}", "id", t->id, "issued", issued);
}

void
api_job_done(struct api_request *req)
{
	struct store_job *job = &req->job;
	struct api_response *resp = &req->resp;

	switch (job->status) {
	case STORE_OK:
		if (job->kind == STORE_JOB_REGISTER) {
			snprintf(resp->location, sizeof resp->location,
			    "/servers/%s", job->server_id);
			api_respond_json(resp, 201, json_pack("{s:{s:s},s:o}", "server",
			    "id", job->server_id, "token", token_json(&job->token)));
		} else {
			json_t *answer = token_json(&job->token);

			/* beside the token: clients that do not know the
			 * field ignore it */
			if (answer != NULL && req->has_notice &&
			    json_object_set_new(answer, "notices", json_pack(
			    "[{s:s,s:s,s:s}]", "id", req->notice_id, "kind",
			    "lifecycle", "text", req->notice_text)) < 0) {
				json_decref(answer);
				answer = NULL;
			}
			api_respond_json(resp, 200, answer);
		}
		break;
	case STORE_NOT_FOUND:
		api_error(resp, 404, "No such server");
		break;
	case STORE_BAD_TOKEN:
		api_error(resp, 401, "Invalid token provided");
		break;
	case STORE_TOO_SOON:
		resp->retry_after = job->retry_after > 0 ? job->retry_after : 1;
		api_error(resp, 429, "update sooner than min_update_interval");
		break;
	case STORE_UNAVAILABLE:
	default:
		resp->retry_after = 60;
		api_error(resp, 503, "database unavailable");
		break;
	}
}
