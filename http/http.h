/* The Beacon protocol over HTTPS (CONTRACT §6), with libcurl's multi
 * interface so that every due server is served at the same time.  JSON
 * from a server becomes typed structs here and nowhere else. */
#ifndef BEACON_HTTP_H
#define BEACON_HTTP_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "../common/exit_code.h"
#include "../conf/config.h"
#include "../common/ids.h"
#include "../common/notice.h"

#define HTTP_BODY_CAP (64u << 10)	/* bytes of a response we accept */
#define HTTP_CONNECT_TIMEOUT 10		/* seconds, at most `timeout` */

/*
 * Builds the PUT body for a server and its id: the Server JSON (with that
 * server's private_name).  Returns a string the caller frees, or NULL
 * when out of memory.
 */
typedef char *(*body_builder)(void *ctx, const struct server_conf *server,
    const char *server_id);

struct send_job;

/*
 * Keeps a job's ids (job->ids, valid and complete) the moment the
 * exchange gives them, before anything else is sent: a registration must
 * survive a cut later in the run.  prev holds the ids stored before.
 * 0 when they were kept, -1 when not (printed).
 */
typedef int (*ids_sink)(void *ctx, const struct send_job *job,
    const struct server_ids *prev);

/* One due server's exchange. */
struct send_job {
	/* in */
	const struct server_conf *server;	/* borrowed */
	/* in/out: the stored ids; replaced only by valid ones from the server */
	struct server_ids ids;
	/* in: an unreached end goes to syslog only (-q within warn_after) */
	bool quiet_unreached;
	/* out */
	bool ids_changed;	/* ids differ from those that came in */
	bool store_failed;	/* the sink could not keep them */
	enum server_result result;	/* SENT, REJECTED or UNREACHED */
	long http_status;	/* last HTTP status, 0 when none */
	char *error;		/* owned: a sanitised one-line reason, or NULL */
	char *retry_after;	/* owned: the Retry-After of a final 429 or
				 * 503, sanitised, or NULL */
	/* out, when SENT: what the server had to tell (CONTRACT §6);
	 * notices_malformed when its "notices" was not usable (warned
	 * about; notices then empty, the report still sent) */
	struct notices notices;
	bool notices_malformed;
};

struct http_options {
	unsigned timeout;	/* seconds per request */
	time_t now;		/* the run's clock (an unreadable token date) */
	body_builder body;
	void *body_ctx;
	ids_sink store;		/* may be NULL: the caller stores at the end */
	void *store_ctx;
	/* When *stop becomes non-zero (SIGTERM, SIGINT), nothing more is
	 * sent: requests in flight end unreached.  May be NULL. */
	volatile sig_atomic_t *stop;
};

/* Call once before http_send_all, and http_global_cleanup at the end;
 * a run that sends nothing calls neither.  0 or -1. */
int http_global_init(void);
void http_global_cleanup(void);

/*
 * Run the protocol for *jobs[0..n-1] at the same time (the jobs stay
 * where the caller keeps them): register when
 * there is no id, PUT the body, on 401/404 register anew and PUT once
 * more.  Every job gets a result; errors are also printed and logged.
 * ids_changed may be true on a job that was not SENT: ids the server
 * issued before the update failed are kept, and should be stored, or
 * the next run would register yet another server.  Ids that are not
 * complete and valid are never handed back: the job's ids in are kept.
 * Returns 0, or -1 when libcurl itself could not be set up.
 */
int http_send_all(struct send_job *const *jobs, size_t n,
    const struct http_options *opt);

void send_job_free(struct send_job *job);

/* ---- the server's answers, as typed structs (pure; fuzzed) ----------- */

/* A ServerToken body {"token":{"id","issued"|"issue"},"server":{"id"}}
 * into ids (server_id, token_id, token_issued: now when the server's
 * date cannot be read: the run's clock).  0, or -1 with *why set to a
 * static reason. */
int proto_parse_server_token(const char *body, size_t len, time_t now,
    struct server_ids *ids, const char **why);

/* A Token body {"id","issued"} into ids->token_id/token_issued. */
int proto_parse_token(const char *body, size_t len, time_t now,
    struct server_ids *ids, const char **why);

/* The "notices" of a 200 PUT answer (a Token with, beside it,
 * "notices":[{"id","kind","text"}]) into out: each id and kind a short
 * token, each text sanitised and cut (common/notice.h), at most
 * NOTICE_MAX of them; members beyond those three are ignored.  No
 * "notices": 0 with none.  0, or -1 with *why set to a static reason
 * when the body is not JSON or its "notices" is not such an array (out
 * then empty): never a reason to refuse the report. */
int proto_parse_notices(const char *body, size_t len, struct notices *out,
    const char **why);

/* The path and query of the PUT for ids: "/servers/ID?tokenId=T", or
 * without the query when there is no token; caller frees.  NULL when
 * out of memory or when ids->server_id is not a UUID (nothing unchecked
 * reaches a URL); a token_id that is not a UUID is left out. */
char *proto_put_path(const struct server_ids *ids);

#endif
