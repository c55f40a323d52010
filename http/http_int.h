/* Inside http/ only: requests on the wire (transport.c), used by the
 * protocol (protocol.c).  Nothing outside http/ includes this. */
#ifndef BEACON_HTTP_INT_H
#define BEACON_HTTP_INT_H

#include "http.h"


/* Requests in flight together, over one libcurl multi handle. */
struct http_multi;

/* How one finished request went. */
struct http_reply {
	long status;		/* HTTP status, 0 when no answer came */
	bool failed;		/* no usable answer: DNS, connect, TLS, time-out */
	bool too_big;		/* the body went over HTTP_BODY_CAP */
	char *body;		/* owned: the body, NUL-terminated; NULL only
				 * when failed (out of memory) */
	size_t len;
	char *error;		/* owned: curl's one-line error text, or NULL */
};

/* NULL when libcurl cannot be set up (printed).  Free with
 * http_multi_free, which also drops requests still in flight. */
struct http_multi *http_multi_new(void);
void http_multi_free(struct http_multi *m);

/*
 * Start one request to url for server (its proxy, CA and verification
 * settings), with a copy of body (NULL: an empty body).  shown_url is the
 * URL as it may be printed (no token).  owner comes back from
 * http_multi_next.  0, or -1 with *why set to a static reason (out of
 * memory, an option this libcurl lacks); nothing is printed.
 */
int http_multi_start(struct http_multi *m, const struct server_conf *server,
    unsigned timeout, const char *method, const char *url,
    const char *shown_url, const char *body, void *owner, const char **why);

/*
 * Wait for the next request to finish, without holding up the others.
 * 1 with *owner and *reply set (free with http_reply_free), 0 when no
 * request is left, -1 when libcurl's multi interface failed (printed),
 * HTTP_STOPPED when *stop became non-zero (stop may be NULL); it is
 * looked at least every HTTP_STOP_MS.
 */
#define HTTP_STOP_MS 200
#define HTTP_STOPPED (-2)
int http_multi_next(struct http_multi *m, void **owner,
    struct http_reply *reply, volatile sig_atomic_t *stop);

void http_reply_free(struct http_reply *reply);

#endif
