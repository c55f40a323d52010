/*
 * A request and its answer as the web layer sees them: what front/http.c
 * fills in from libmicrohttpd and sends back, and what the routes, the
 * pages and the fleet view read and write.  No route here (api.c).
 */
#ifndef COLLECTOR_REQUEST_H
#define COLLECTOR_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "../../common/text.h"
#include "../base/config.h"
#include "../base/limits.h"
#include "../store/store.h"

/* What the service shares with every request; owned by main. */
struct app {
	const struct collector_config *cfg;
	struct store *store;
	struct rate_limits *limits;
};

/* An answer; body owned by the response (freed by api_request_free). */
struct api_response {
	int status;			/* 0 = not decided yet */
	char *body;
	const char *content_type;	/* static */
	char location[64];		/* "" or "/servers/ID" */
	long retry_after;		/* > 0: a Retry-After header */
	const char *allow;		/* static, for 405 */
	const char *www_authenticate;	/* static, for 401 */
	const char *csp;		/* static: an HTML page's Content-Security-Policy */
};

/* A query argument (?key=value), as MHD decoded it. */
struct api_arg {
	char *key;
	char *value;			/* "" for ?key */
};
#define API_MAX_ARGS 8			/* more are ignored */

enum api_route {
	ROUTE_NONE,
	ROUTE_REGISTER,		/* POST /servers */
	ROUTE_UPDATE,		/* PUT /servers/{id} */
	ROUTE_HEALTHZ,
	ROUTE_STATS,		/* GET /api/v1/stats */
	ROUTE_METRICS,		/* GET /metrics */
	ROUTE_VIEW,		/* a page of views.c: /, /fleet... */
};

/* Where a request's password check stands (auth.c). */
enum auth_state {
	AUTH_NONE,		/* not checked (none needed, or not yet) */
	AUTH_PENDING,		/* needs the checker thread: API_CHECK_PASSWORD */
	AUTH_OK,
	AUTH_FAILED,
};

/* One request's state, from the first header call to the last byte sent.
 * The strings are copies: MHD's are valid only during its callbacks. */
struct api_request {
	/* Set by http.c before api_begin. */
	const struct app *app;
	char method[16];
	char *path;			/* without the query */
	char *token_id;			/* ?tokenId=, NULL when absent */
	char *content_type;		/* NULL when absent */
	char *authorization;		/* NULL when absent */
	struct api_arg args[API_MAX_ARGS];	/* the query, for GET pages */
	size_t n_args;
	long long content_length;	/* -1 when not given */
	char client[64];		/* numeric address, or "unix" */
	time_t now;

	/* Body, gathered by http.c up to body_max; over it, body_too_large. */
	struct buf body;
	size_t body_max;
	bool body_too_large;

	/* Decided by api.c. */
	enum api_route route;
	char server_id[UUID_LEN + 1];
	struct store_job job;
	char *summary;			/* job.summary's memory (stats.h) */
	bool has_notice;		/* PUT: the 200 answer carries this notice */
	char notice_id[64];		/* "lifecycle-16-eol" */
	char notice_text[256];		/* one line, at most 200 bytes */
	struct api_response resp;

	/* The password check off the request threads (auth.c): http.c sets
	 * auth_done and auth_cookie before auth_submit; auth_done is called
	 * once, from the checker's thread (or at once when the queue is full,
	 * with resp set to 503), and must not block. */
	enum auth_state auth_state;
	void (*auth_done)(struct api_request *req);
	void *auth_cookie;
	struct api_request *auth_next;	/* the checker's queue link */
};

/* Set resp to a JSON answer (takes obj's reference; NULL or out of
 * memory gives a fixed 503). */
void api_respond_json(struct api_response *resp, int status, json_t *obj);

/* Fill resp with a JSON error {"error": msg}; for http.c's own refusals. */
void api_error(struct api_response *resp, int status, const char *msg);

/* The value of query argument key, or NULL when absent. */
const char *api_arg(const struct api_request *req, const char *key);

/* Free what the request owns (strings, body, response body). */
void api_request_free(struct api_request *req);

#endif
