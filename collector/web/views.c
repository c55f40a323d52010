/* Routing and access for the pages: the dashboard is public unless
 * public_stats = no; the fleet is behind HTTP Basic, and absent (404)
 * when no password hash is configured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "../base/clock.h"
#include "dashboard.h"
#include "fleet.h"
#include "../stats/stats.h"
#include "views.h"

static const char HTML_TYPE[] = "text/html; charset=utf-8";

/* May the request see a protected view?  When not, resp says why, or
 * the password is to be checked off this thread (AUTH_PENDING). */
static bool
allowed(struct api_request *req)
{
	return auth_gate(req);
}

static void
dashboard_respond(struct api_request *req)
{
	char err[256];
	const struct stats *s = stats_current(req->app->store, req->app->cfg,
	    collector_now(), err, sizeof err);
	char *page;

	if (s == NULL) {
		fprintf(stderr, "beacon-collector: dashboard: %s\n", err);
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	page = dashboard_render(s);
	stats_release(s);
	if (page == NULL) {
		api_error(&req->resp, 503, "out of memory");
		return;
	}
	free(req->resp.body);
	req->resp.body = page;
	req->resp.status = 200;
	req->resp.content_type = HTML_TYPE;
	req->resp.csp = dashboard_csp();
}

bool
views_begin(struct api_request *req, long request_wait)
{
	bool dash = strcmp(req->path, "/") == 0;

	if (!dash && !fleet_path(req->path))
		return false;
	req->route = ROUTE_VIEW;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		req->resp.allow = "GET, HEAD";
		api_error(&req->resp, 405, "method not allowed");
		return true;
	}
	if (request_wait > 0) {
		req->resp.retry_after = request_wait;
		api_error(&req->resp, 429, "too many requests from this address");
		return true;
	}
	if (dash) {
		if (req->app->cfg->public_stats || allowed(req))
			dashboard_respond(req);
		return true;
	}
	if (allowed(req))
		fleet_respond(req);
	return true;
}
