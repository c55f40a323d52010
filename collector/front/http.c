/*
 * libmicrohttpd glue.  Each request is handled as journal-remote does it:
 * the first call (headers only) decides whatever can be decided before a
 * byte of body is read; body chunks are gathered up to max_body_kb (past
 * it they are counted and dropped, and the answer is 413); the final call
 * validates and, for a write, suspends the connection and hands the job to
 * the store, whose thread resumes it after COMMIT.  No MHD thread ever
 * waits for a commit.
 *
 * request_timeout is enforced on the whole request, not only on silence:
 * every connection has a deadline, and a sweeper thread shuts down the
 * socket of one that passes it while still sending its request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "../base/clock.h"
#include "http.h"
#include "../base/health.h"
#include "../web/auth.h"

#define CONN_MEMORY_LIMIT (16 * 1024)	/* headers and MHD's buffers, per connection */
#define POOL_THREADS 2			/* per listening socket */
#define LISTEN_BACKLOG 1024
#define MAX_CHAIN 16

/* ---- TLS: the pair in use, replaceable by SIGHUP ---------------------- */

struct tls_pair {
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
	struct tls_pair *older;		/* kept until exit: a handshake may use it */
};

/* GnuTLS's callback has no user pointer, hence a global. */
static _Atomic(struct tls_pair *) tls_current;

static int
tls_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct tls_pair *p = atomic_load(&tls_current);

	(void)session; (void)req_ca_dn; (void)nreqs; (void)pk_algos;
	(void)pk_algos_length;
	if (p == NULL)
		return -1;
	*pcert = p->pcert;
	*pcert_length = p->n;
	*privkey = p->key;
	return 0;
}

static void
tls_pair_free(struct tls_pair *p)
{
	while (p != NULL) {
		struct tls_pair *older = p->older;
		for (unsigned int i = 0; i < p->n; i++)
			gnutls_pcert_deinit(&p->pcert[i]);
		gnutls_privkey_deinit(p->key);
		free(p);
		p = older;
	}
}

/* True when the key is the private half of the certificate's public key. */
static bool
tls_pair_matches(struct tls_pair *p)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	bool same = false;

	if (gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_privkey(pub, p->key, 0, 0) == 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) == 0 &&
	    gnutls_pubkey_export2(p->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) == 0)
		same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* Read a PEM chain and its key; NULL with the reason in err. */
static struct tls_pair *
tls_pair_load(const char *cert, const char *key, char *err, size_t errlen)
{
	gnutls_datum_t c = { NULL, 0 }, k = { NULL, 0 };
	struct tls_pair *p = calloc(1, sizeof *p);
	int rc;

	if (p == NULL) {
		snprintf(err, errlen, "tls: out of memory");
		return NULL;
	}
	if ((rc = gnutls_load_file(cert, &c)) < 0) {
		snprintf(err, errlen, "tls_cert %s: cannot read: %s", cert,
		    errno != 0 ? strerror(errno) : gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_load_file(key, &k)) < 0) {
		snprintf(err, errlen, "tls_key %s: cannot read: %s", key,
		    errno != 0 ? strerror(errno) : gnutls_strerror(rc));
		goto fail;
	}
	p->n = MAX_CHAIN;
	if ((rc = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &c,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || p->n == 0) {
		p->n = 0;
		snprintf(err, errlen, "tls_cert %s: not a PEM certificate chain: %s",
		    cert, gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(p->key, &k, GNUTLS_X509_FMT_PEM,
	    NULL, 0)) < 0) {
		snprintf(err, errlen, "tls_key %s: not a PEM private key: %s",
		    key, gnutls_strerror(rc));
		goto fail;
	}
	if (!tls_pair_matches(p)) {
		snprintf(err, errlen, "tls_key %s: does not match tls_cert %s",
		    key, cert);
		goto fail;
	}
	gnutls_free(c.data);
	gnutls_free(k.data);
	return p;
fail:
	gnutls_free(c.data);
	gnutls_free(k.data);
	tls_pair_free(p);
	return NULL;
}

/* ---- connections and their deadlines --------------------------------- */

struct conn_track {
	struct conn_track *prev, *next;
	int fd;
	long long deadline_ms;		/* 0: not sending a request */
	bool fresh;			/* connected, first request not begun */
};

/* READING: gathering the body; DISCARDING: the answer is decided, the
 * body (within max_body_kb) is read and dropped before it is sent. */
enum req_state { REQ_READING, REQ_DISCARDING, REQ_WAITING, REQ_AUTH,
	REQ_SENT };

/* One request as http.c sees it; api is the protocol's part. */
struct http_request {
	struct api_request api;
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct conn_track *track;
	enum req_state state;
	size_t discarded;		/* body bytes dropped in DISCARDING */
	long long start_ms;
	bool first_on_conn;		/* the connection predates this request */
};

struct http_server {
	const struct app *app;
	struct MHD_Daemon *daemons[COLLECTOR_MAX_LISTEN];
	int fds[COLLECTOR_MAX_LISTEN];
	char *unix_paths[COLLECTOR_MAX_LISTEN];
	int n;

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;
	long in_flight;			/* requests begun, not completed */
	long fresh_conns;		/* connections whose first request is coming */
	long pending_jobs;		/* submitted, done() not yet called */
	bool draining;			/* SIGTERM: no new request on an old connection */
	bool closed;			/* the drain is over: no new store job */
	struct conn_track *conns;
	bool sweeper_stop;
	pthread_t sweeper;
	bool sweeper_started;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
sweeper_main(void *arg)
{
	struct http_server *srv = arg;

	pthread_mutex_lock(&srv->lock);
	while (!srv->sweeper_stop) {
		struct timespec until;
		long long now = mono_ms();

		for (struct conn_track *t = srv->conns; t != NULL; t = t->next)
			if (t->deadline_ms != 0 && now > t->deadline_ms) {
				t->deadline_ms = 0;
				shutdown(t->fd, SHUT_RDWR);
			}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&srv->cond, &srv->lock, &until);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void
set_deadline(struct http_server *srv, struct conn_track *t, bool on)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	t->deadline_ms = on ? mono_ms() +
	    srv->app->cfg->request_timeout * 1000 : 0;
	pthread_mutex_unlock(&srv->lock);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct conn_track *t = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		t = calloc(1, sizeof *t);
		if (t == NULL || fd == NULL) {
			free(t);
			return;
		}
		t->fd = fd->connect_fd;
		t->fresh = true;
		pthread_mutex_lock(&srv->lock);
		srv->fresh_conns++;
		t->deadline_ms = mono_ms() + srv->app->cfg->request_timeout * 1000;
		t->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = t;
		srv->conns = t;
		pthread_mutex_unlock(&srv->lock);
		*socket_context = t;
		health_connection(1);
	} else if (t != NULL) {
		health_connection(-1);
		pthread_mutex_lock(&srv->lock);
		if (t->fresh) {
			srv->fresh_conns--;
			pthread_cond_broadcast(&srv->cond);
		}
		if (t->prev != NULL)
			t->prev->next = t->next;
		else
			srv->conns = t->next;
		if (t->next != NULL)
			t->next->prev = t->prev;
		pthread_mutex_unlock(&srv->lock);
		free(t);
		*socket_context = NULL;
	}
}

/* ---- one request ------------------------------------------------------ */

static bool
is_trusted_proxy(const struct collector_config *cfg, const char *addr)
{
	if (strcmp(addr, "unix") == 0)
		return true;	/* only a local proxy can reach a unix socket */
	for (int i = 0; i < cfg->n_trusted_proxies; i++)
		if (strcmp(cfg->trusted_proxies[i], addr) == 0)
			return true;
	return false;
}

/* The numeric text of a socket address; "unix" for AF_UNIX. */
static void
format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
	snprintf(out, outlen, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outlen);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outlen);
		else
			inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "unix");
	}
}

/* The first X-Forwarded-For entry, when it is a numeric address. */
static bool
forwarded_for(const char *xff, char *out, size_t outlen)
{
	char first[64];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t n;

	while (*xff == ' ' || *xff == '\t')
		xff++;
	n = strcspn(xff, ", \t");
	if (n == 0 || n >= sizeof first)
		return false;
	memcpy(first, xff, n);
	first[n] = '\0';
	if (inet_pton(AF_INET, first, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, first, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)outlen) != NULL;
	return false;
}

static void
client_address(struct MHD_Connection *conn, const struct collector_config *cfg,
    char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *xff;

	format_addr(ci != NULL ? ci->client_addr : NULL, out, outlen);
	if (!is_trusted_proxy(cfg, out))
		return;
	xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	if (xff != NULL)
		forwarded_for(xff, out, outlen);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
log_request(const struct http_request *hr, int status)
{
	const struct api_request *req = &hr->api;
	char *path = text_sanitize(req->path, req->path ? strlen(req->path) : 0, 200);
	long long ms = mono_ms() - hr->start_ms;

	if (hr->srv->app->cfg->log_addresses)
		fprintf(stderr, "beacon-collector: %s %s %d %lld ms from %s\n",
		    req->method, path ? path : "?", status, ms, req->client);
	else
		fprintf(stderr, "beacon-collector: %s %s %d %lld ms\n",
		    req->method, path ? path : "?", status, ms);
	free(path);
}

static enum MHD_Result
send_answer(struct http_request *hr)
{
	struct api_response *resp = &hr->api.resp;
	const char *body = resp->body != NULL ? resp->body : "";
	struct MHD_Response *r;
	enum MHD_Result ret;
	char retry[24];
	bool close;

	r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    resp->content_type != NULL ? resp->content_type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->location[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->retry_after > 0) {
		snprintf(retry, sizeof retry, "%ld", resp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->csp != NULL) {
		MHD_add_response_header(r, "Content-Security-Policy", resp->csp);
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
	}
	if (resp->www_authenticate != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    resp->www_authenticate);
	pthread_mutex_lock(&hr->srv->lock);
	close = hr->srv->draining;
	pthread_mutex_unlock(&hr->srv->lock);
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(hr->conn, (unsigned int)resp->status, r);
	MHD_destroy_response(r);
	hr->state = REQ_SENT;
	set_deadline(hr->srv, hr->track, false);
	log_request(hr, resp->status);
	health_request(hr->api.method, resp->status,
	    (double)(mono_ms() - hr->start_ms) / 1000.0);
	return ret;
}

/* From a store thread, after COMMIT: fill the answer and wake the
 * connection; its MHD thread then sends it. */
static void
on_job_done(struct store_job *job)
{
	struct http_request *hr = job->cookie;
	struct http_server *srv = hr->srv;

	api_job_done(&hr->api);
	MHD_resume_connection(hr->conn);
	pthread_mutex_lock(&srv->lock);
	srv->pending_jobs--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
}

/* From the password checker's thread (web/auth.c): wake the connection;
 * its MHD thread then asks api_after_check for the answer. */
static void
on_check_done(struct api_request *req)
{
	struct http_request *hr = req->auth_cookie;
	struct http_server *srv = hr->srv;

	MHD_resume_connection(hr->conn);
	pthread_mutex_lock(&srv->lock);
	srv->pending_jobs--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
}

static enum MHD_Result answer_early(struct http_request *hr);

/* A protected page: suspend while the password is checked off this
 * thread, as a store job is (counted among them, so a drain waits). */
static enum MHD_Result
check_password(struct http_request *hr)
{
	struct http_server *srv = hr->srv;
	bool refused;

	pthread_mutex_lock(&srv->lock);
	refused = srv->closed;
	if (!refused)
		srv->pending_jobs++;
	pthread_mutex_unlock(&srv->lock);
	if (refused) {
		api_error(&hr->api.resp, 503, "shutting down");
		return answer_early(hr);
	}
	hr->state = REQ_AUTH;
	set_deadline(srv, hr->track, false);
	hr->api.auth_done = on_check_done;
	hr->api.auth_cookie = hr;
	/* Suspend first: the check may end before this function returns. */
	MHD_suspend_connection(hr->conn);
	auth_submit(&hr->api);
	return MHD_YES;
}

/* The body is complete: answer, or suspend and submit the job. */
static enum MHD_Result
finish(struct http_request *hr)
{
	struct http_server *srv = hr->srv;
	bool refused;

	if (api_finish(&hr->api) == API_RESPOND)
		return send_answer(hr);
	hr->api.job.done = on_job_done;
	hr->api.job.cookie = hr;
	pthread_mutex_lock(&srv->lock);
	refused = srv->closed;
	if (!refused)
		srv->pending_jobs++;
	pthread_mutex_unlock(&srv->lock);
	if (refused) {
		api_error(&hr->api.resp, 503, "shutting down");
		return send_answer(hr);
	}
	hr->state = REQ_WAITING;
	set_deadline(srv, hr->track, false);
	/* Suspend first: the store may finish before this function returns. */
	MHD_suspend_connection(hr->conn);
	if (store_submit(srv->app->store, &hr->api.job) < 0) {
		api_error(&hr->api.resp, 503, "shutting down");
		pthread_mutex_lock(&srv->lock);
		srv->pending_jobs--;
		pthread_cond_broadcast(&srv->cond);
		pthread_mutex_unlock(&srv->lock);
		MHD_resume_connection(hr->conn);
	}
	return MHD_YES;
}

/* MHD's iterator over the query: the first API_MAX_ARGS arguments. */
static enum MHD_Result
take_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_request *req = cls;
	struct api_arg *a;

	(void)kind;
	if (req->n_args == API_MAX_ARGS || key == NULL)
		return MHD_NO;
	a = &req->args[req->n_args];
	a->key = strdup(key);
	a->value = strdup(value != NULL ? value : "");
	if (a->key == NULL || a->value == NULL) {
		free(a->key);
		free(a->value);
		a->key = a->value = NULL;
		return MHD_NO;
	}
	req->n_args++;
	return MHD_YES;
}

/* MHD's unescaping, except that %00 stays as it is: a NUL would cut the
 * path short ("/%00" would be "/"). */
static size_t
unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *w = s;

	(void)cls;
	(void)conn;
	for (const char *r = s; *r != '\0'; r++) {
		const char *h1, *h2;
		if (*r == '%' && r[1] != '\0' && r[2] != '\0' &&
		    (h1 = strchr(hex, r[1] | 0x20)) != NULL &&
		    (h2 = strchr(hex, r[2] | 0x20)) != NULL &&
		    (h1 != hex || h2 != hex)) {
			*w++ = (char)((h1 - hex) << 4 | (h2 - hex));
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static struct http_request *
begin(struct http_server *srv, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct http_request *hr = calloc(1, sizeof *hr);
	struct api_request *req;
	const char *len;
	const union MHD_ConnectionInfo *sc;

	if (hr == NULL)
		return NULL;
	req = &hr->api;
	hr->srv = srv;
	hr->conn = conn;
	hr->start_ms = mono_ms();
	sc = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	hr->track = sc != NULL ? sc->socket_context : NULL;
	req->app = srv->app;
	snprintf(req->method, sizeof req->method, "%s", method);
	req->path = strdup(url);
	req->token_id = dup_or_null(MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "tokenId"));
	req->content_type = dup_or_null(MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, take_arg, req);
	req->authorization = dup_or_null(MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
	len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	req->content_length = len != NULL ? strtoll(len, NULL, 10) : -1;
	client_address(conn, srv->app->cfg, req->client, sizeof req->client);
	req->now = collector_now();
	req->body_max = (size_t)srv->app->cfg->max_body_kb * 1024;
	if (req->path == NULL) {
		api_request_free(req);
		free(hr);
		return NULL;
	}
	pthread_mutex_lock(&srv->lock);
	srv->in_flight++;
	hr->first_on_conn = hr->track != NULL && hr->track->fresh;
	if (hr->first_on_conn) {
		hr->track->fresh = false;
		srv->fresh_conns--;
	}
	pthread_mutex_unlock(&srv->lock);
	return hr;
}

/*
 * An answer decided from the headers alone (401, 404, 415, ...).  A body
 * that may still come and fits max_body_kb is read and dropped first:
 * answering and closing while the client is still sending would give it
 * a broken pipe instead of the status (a PBX that never sees its 404
 * never registers anew).  A body too large is the one answered at once
 * (413, without reading the rest).
 */
static enum MHD_Result
answer_early(struct http_request *hr)
{
	const struct api_request *req = &hr->api;

	if (req->resp.status == 413 || req->content_length == 0 ||
	    (req->content_length > 0 &&
	    (unsigned long long)req->content_length > req->body_max))
		return send_answer(hr);
	hr->state = REQ_DISCARDING;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *hr = *con_cls;
	bool draining;

	if (hr == NULL) {
		hr = begin(srv, conn, url, method);
		if (hr == NULL)
			return MHD_NO;
		*con_cls = hr;
		/* While draining, a connection's first request was in flight
		 * when SIGTERM came (no connection is accepted since); a later
		 * one on a kept-alive connection is new work: refused. */
		pthread_mutex_lock(&srv->lock);
		draining = srv->closed || (srv->draining && !hr->first_on_conn);
		pthread_mutex_unlock(&srv->lock);
		if (draining) {
			api_error(&hr->api.resp, 503, "shutting down");
			return send_answer(hr);
		}
		/* HTTP/1.1 without Host is malformed (RFC 9112 3.2). */
		if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_HOST) == NULL) {
			api_error(&hr->api.resp, 400, "no Host header");
			return send_answer(hr);
		}
		switch (api_begin(&hr->api)) {
		case API_RESPOND:
			return answer_early(hr);
		case API_CHECK_PASSWORD:
			return check_password(hr);
		default:
			break;
		}
		hr->state = REQ_READING;
		return MHD_YES;
	}
	switch (hr->state) {
	case REQ_AUTH:
		/* Resumed by on_check_done: the answer is decided now; a body
		 * that may come is read and dropped as for any early answer. */
		(void)api_after_check(&hr->api);
		hr->state = REQ_DISCARDING;
		/* FALLTHROUGH */
	case REQ_DISCARDING:
		if (*upload_size > 0) {
			hr->discarded += *upload_size;
			*upload_size = 0;
			/* A chunked body past the cap: the connection goes. */
			return hr->discarded <= hr->api.body_max ? MHD_YES : MHD_NO;
		}
		return send_answer(hr);
	case REQ_READING:
		if (*upload_size > 0) {
			struct api_request *req = &hr->api;
			if (!req->body_too_large &&
			    req->body.len + *upload_size <= req->body_max) {
				/* A declared length: one allocation of that size,
				 * not a doubling buffer (memory per connection). */
				if (req->body.cap == 0 && req->content_length > 0 &&
				    buf_reserve(&req->body,
				    (size_t)req->content_length) < 0)
					return MHD_NO;
				if (buf_append(&req->body, upload_data, *upload_size) < 0)
					return MHD_NO;
			} else {
				/* Past the cap: drop it, answer 413 at the end. */
				req->body_too_large = true;
				buf_free(&req->body);
			}
			*upload_size = 0;
			return MHD_YES;
		}
		return finish(hr);
	case REQ_WAITING:
		return send_answer(hr);	/* resumed by on_job_done */
	case REQ_SENT:
	default:
		*upload_size = 0;
		return MHD_YES;
	}
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	struct http_server *srv = cls;
	struct http_request *hr = *con_cls;

	(void)conn;
	if (hr == NULL)
		return;
	if (hr->state != REQ_SENT)
		log_request(hr, code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ?
		    408 : 0);
	set_deadline(srv, hr->track, true);
	api_request_free(&hr->api);
	free(hr);
	*con_cls = NULL;
	pthread_mutex_lock(&srv->lock);
	srv->in_flight--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
}

/* Whether s[0..n) looks like a numeric IPv4 or IPv6 address. */
static bool
looks_like_address(const char *s, size_t n)
{
	int dots = 0, colons = 0;

	for (size_t i = 0; i < n; i++) {
		dots += s[i] == '.';
		colons += s[i] == ':';
	}
	return (dots == 3 && colons == 0) || colons >= 2;
}

/* libmicrohttpd's own messages (TLS handshakes that fail, sockets that
 * cannot be accepted) may name a peer: with log_addresses = no, anything
 * shaped like an address becomes "<address>" before it reaches the log. */
static void __attribute__((format(printf, 2, 0)))
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct http_server *srv = cls;
	char line[512], out[512];
	size_t n, o = 0;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	for (size_t i = 0; i < n && o < sizeof out - 10;) {
		size_t run = strspn(line + i, "0123456789abcdefABCDEF:.");
		if (run >= 3 && !srv->app->cfg->log_addresses &&
		    looks_like_address(line + i, run)) {
			memcpy(out + o, "<address>", 9);
			o += 9;
			i += run;
		} else {
			out[o++] = line[i++];
		}
	}
	out[o] = '\0';
	fprintf(stderr, "beacon-collector: libmicrohttpd: %s\n", out);
}

/* ---- listening sockets ------------------------------------------------ */

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "listen unix:%s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* A socket left by an earlier run; never anything else. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "listen unix:%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* "host:port", "[v6]:port" or "*:port". */
static int
listen_inet(const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	size_t hl;
	int fd = -1, one = 1, zero = 0, rc;

	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "listen %s: not host:port", spec);
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof host) {
		snprintf(err, errlen, "listen %s: host too long", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	rc = getaddrinfo(hl == 0 || strcmp(host, "*") == 0 ? NULL : host,
	    colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Fill srv->fds from the configuration or from systemd. */
static int
open_listeners(struct http_server *srv, char *err, size_t errlen)
{
	const struct collector_config *cfg = srv->app->cfg;

	if (cfg->listen_systemd) {
		int n = sd_listen_fds(1);
		if (n <= 0) {
			snprintf(err, errlen, "listen = systemd, but systemd passed "
			    "no socket");
			return -1;
		}
		for (int i = 0; i < n && srv->n < COLLECTOR_MAX_LISTEN; i++) {
			int fd = SD_LISTEN_FDS_START + i;
			if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
				snprintf(err, errlen, "listen = systemd: fd %d is not "
				    "a listening stream socket", fd);
				return -1;
			}
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			srv->fds[srv->n++] = fd;
		}
		return 0;
	}
	for (int i = 0; i < cfg->n_listen; i++) {
		const char *spec = cfg->listen[i];
		int fd;
		if (strncmp(spec, "unix:", 5) == 0) {
			fd = listen_unix(spec + 5, err, errlen);
			if (fd >= 0)
				srv->unix_paths[srv->n] = strdup(spec + 5);
		} else {
			fd = listen_inet(spec, err, errlen);
		}
		if (fd < 0)
			return -1;
		srv->fds[srv->n++] = fd;
	}
	return 0;
}

static struct MHD_Daemon *
start_daemon(struct http_server *srv, int fd)
{
	const struct collector_config *cfg = srv->app->cfg;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, cfg->request_timeout, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS, NULL },
		{ MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG, NULL },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (cfg->tls)
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL,
		    on_request, srv,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
		    MHD_OPTION_ARRAY, ops,
		    MHD_OPTION_HTTPS_CERT_CALLBACK, tls_callback,
		    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		    MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_ARRAY, ops,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_END);
}

struct http_server *
http_server_start(const struct app *app, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof *srv);

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->app = app;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	for (int i = 0; i < COLLECTOR_MAX_LISTEN; i++)
		srv->fds[i] = -1;
	if (app->cfg->tls) {
		struct tls_pair *p = tls_pair_load(app->cfg->tls_cert,
		    app->cfg->tls_key, err, errlen);
		if (p == NULL)
			goto fail;
		atomic_store(&tls_current, p);
	}
	if (open_listeners(srv, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < srv->n; i++) {
		srv->daemons[i] = start_daemon(srv, srv->fds[i]);
		if (srv->daemons[i] == NULL) {
			snprintf(err, errlen, "listen %s: libmicrohttpd cannot "
			    "start on it", app->cfg->listen_systemd ? "systemd" :
			    app->cfg->listen[i]);
			goto fail;
		}
	}
	if (pthread_create(&srv->sweeper, NULL, sweeper_main, srv) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		goto fail;
	}
	srv->sweeper_started = true;
	return srv;
fail:
	http_server_free(srv);
	return NULL;
}

int
http_check_tls(const struct collector_config *cfg, char *err, size_t errlen)
{
	struct tls_pair *p;

	if (!cfg->tls)
		return 0;
	p = tls_pair_load(cfg->tls_cert, cfg->tls_key, err, errlen);
	tls_pair_free(p);
	return p != NULL ? 0 : -1;
}

int
http_server_reload_tls(struct http_server *srv, char *err, size_t errlen)
{
	struct tls_pair *p;

	if (!srv->app->cfg->tls)
		return 0;
	p = tls_pair_load(srv->app->cfg->tls_cert, srv->app->cfg->tls_key,
	    err, errlen);
	if (p == NULL)
		return -1;
	p->older = atomic_exchange(&tls_current, p);
	return 0;
}

void
http_server_drain(struct http_server *srv, int drain_s)
{
	struct timespec until;

	for (int i = 0; i < srv->n; i++)
		if (srv->daemons[i] != NULL) {
			MHD_socket fd = MHD_quiesce_daemon(srv->daemons[i]);
			if (fd != MHD_INVALID_SOCKET && fd == srv->fds[i]) {
				close(fd);
				srv->fds[i] = -1;
			}
		}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += drain_s;
	pthread_mutex_lock(&srv->lock);
	srv->draining = true;
	/* In flight: requests begun, and connections made before the drain
	 * whose first request is still arriving. */
	while ((srv->in_flight > 0 || srv->fresh_conns > 0) &&
	    pthread_cond_timedwait(&srv->cond, &srv->lock, &until) != ETIMEDOUT)
		;
	srv->closed = true;
	/* The store finishes every job it took; none may stay suspended. */
	while (srv->pending_jobs > 0)
		pthread_cond_wait(&srv->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
}

void
http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	for (int i = 0; i < srv->n; i++)
		if (srv->daemons[i] != NULL) {
			MHD_stop_daemon(srv->daemons[i]);
			srv->fds[i] = -1;	/* closed by MHD unless quiesced */
		}
	if (srv->sweeper_started) {
		pthread_mutex_lock(&srv->lock);
		srv->sweeper_stop = true;
		pthread_cond_broadcast(&srv->cond);
		pthread_mutex_unlock(&srv->lock);
		pthread_join(srv->sweeper, NULL);
	}
	for (int i = 0; i < COLLECTOR_MAX_LISTEN; i++) {
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
		if (srv->unix_paths[i] != NULL) {
			unlink(srv->unix_paths[i]);
			free(srv->unix_paths[i]);
		}
	}
	tls_pair_free(atomic_exchange(&tls_current, NULL));
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
	free(srv);
}
