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
 * socket of one that passes it while still sending its request.  A new
 * connection has less: FIRST_REQUEST_S (or request_timeout when shorter)
 * for its TLS handshake and its first request's headers, so that
 * connections that never finish a handshake do not hold slots for long.
 *
 * At most max_connections_per_address connections from one client
 * address (IPv6: one /64) are open at once; one more is shut down as soon
 * as it is accepted, before its handshake.  Connections from a trusted
 * proxy are not counted (every client behind it shares its address; the
 * proxy limits its own clients' connections).
 *
 * What one client can make happen often (a refused or swept connection,
 * plain HTTP on the TLS port, libmicrohttpd's complaints about broken
 * handshakes) is counted and logged as one summary line at most every
 * LOG_SUMMARY_S seconds, never a line each.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "../base/clock.h"
#include "http.h"
#include "../base/health.h"
#include "../base/limits.h"
#include "../web/auth.h"

#define CONN_MEMORY_LIMIT (16 * 1024)	/* headers and MHD's buffers, per connection */
#define POOL_THREADS 2			/* per listening socket */
#define LISTEN_BACKLOG 1024
#define MAX_CHAIN 16
#define FIRST_REQUEST_S 10		/* handshake + first request's headers */
#define FIRST_REQUEST_MAX_S 60		/* ... while its bytes wait for us */
#define LOG_SUMMARY_S 10		/* at most one summary line this often */
#define MHD_LINES_PER_WINDOW 5		/* libmicrohttpd lines shown per LOG_SUMMARY_S */
#define ADDR_BUCKETS 4096		/* the per-address connection counts */
#define SNIFF_FDS 65536			/* fds whose first byte is looked at */

/* ---- TLS: the pair in use, replaceable by SIGHUP ---------------------- */

/*
 * A certificate chain and its key.  Every handshake that takes the pair
 * holds a reference until its connection closes (GnuTLS keeps pointers
 * into it for the session's life); a pair replaced by SIGHUP is freed
 * when its last connection closes, so that reloads cost nothing in the
 * long run.  A handshake whose connection cannot be found pins its pair
 * until exit (it never happens with libmicrohttpd 0.9.75).
 */
struct tls_pair {
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
	long refs;			/* connections using it; under tls_lock */
	bool pinned;			/* used by a handshake we cannot track */
	struct tls_pair *next;		/* the list of replaced pairs */
	char desc[384];			/* subject and expiry, for the log */
};

/* GnuTLS's callback has no user pointer, hence globals. */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_pair *tls_current;	/* under tls_lock */
static struct tls_pair *tls_retired;	/* replaced, still used; under tls_lock */

struct conn_track;
static void track_set_tls(struct conn_track *t, struct tls_pair *p);
static struct conn_track *track_of_session(gnutls_session_t session);

static int
tls_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct conn_track *t = track_of_session(session);
	struct tls_pair *p;

	(void)req_ca_dn; (void)nreqs; (void)pk_algos; (void)pk_algos_length;
	pthread_mutex_lock(&tls_lock);
	p = tls_current;
	if (p != NULL) {
		if (t != NULL)
			p->refs++;
		else
			p->pinned = true;
	}
	pthread_mutex_unlock(&tls_lock);
	if (p == NULL)
		return -1;
	if (t != NULL)
		track_set_tls(t, p);
	*pcert = p->pcert;
	*pcert_length = p->n;
	*privkey = p->key;
	return 0;
}

static void
tls_pair_free(struct tls_pair *p)
{
	if (p == NULL)
		return;
	for (unsigned int i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	gnutls_privkey_deinit(p->key);
	free(p);
}

/* Under tls_lock: free p when nothing uses it any more. */
static void
tls_pair_maybe_free(struct tls_pair *p)
{
	if (p == NULL || p == tls_current || p->refs > 0 || p->pinned)
		return;
	for (struct tls_pair **pp = &tls_retired; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	tls_pair_free(p);
}

/* A connection that used p has closed. */
static void
tls_pair_release(struct tls_pair *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&tls_lock);
	p->refs--;
	tls_pair_maybe_free(p);
	pthread_mutex_unlock(&tls_lock);
}

/* Serve p from now on; the pair it replaces goes when its last
 * connection does.  Returns the number of pairs now in memory. */
static int
tls_pair_install(struct tls_pair *p)
{
	struct tls_pair *old;
	int n = 0;

	pthread_mutex_lock(&tls_lock);
	old = tls_current;
	tls_current = p;
	if (old != NULL) {
		old->next = tls_retired;
		tls_retired = old;
		tls_pair_maybe_free(old);
	}
	n = tls_current != NULL;
	for (struct tls_pair *r = tls_retired; r != NULL; r = r->next)
		n++;
	pthread_mutex_unlock(&tls_lock);
	return n;
}

/* At exit, with no connection left. */
static void
tls_pairs_free_all(void)
{
	pthread_mutex_lock(&tls_lock);
	tls_pair_free(tls_current);
	tls_current = NULL;
	while (tls_retired != NULL) {
		struct tls_pair *next = tls_retired->next;
		tls_pair_free(tls_retired);
		tls_retired = next;
	}
	pthread_mutex_unlock(&tls_lock);
}

/* "subject 'CN=...', expires 2027-01-01T00:00:00Z" of the chain's first
 * certificate, for the log (COLLECTOR.md §7). */
static void
tls_pair_describe(struct tls_pair *p)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	char when[32] = "?";
	time_t exp;
	struct tm tm;
	char *subject = NULL;

	snprintf(p->desc, sizeof p->desc, "subject unknown");
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &p->pcert[0].cert,
	    GNUTLS_X509_FMT_DER) == 0) {
		if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0)
			subject = text_sanitize((const char *)dn.data, dn.size, 200);
		exp = gnutls_x509_crt_get_expiration_time(crt);
		if (exp != (time_t)-1 && gmtime_r(&exp, &tm) != NULL)
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(p->desc, sizeof p->desc, "subject '%s', expires %s",
		    subject != NULL ? subject : "?", when);
	}
	free(subject);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
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
	tls_pair_describe(p);
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
	long long start_ms;		/* accepted */
	long long deadline_ms;		/* 0: not sending a request */
	bool fresh;			/* connected, first request not begun */
	bool counted;			/* in its address's connection count */
	char key[LIMITS_KEY_LEN];	/* limits_address_key of the peer */
	struct tls_pair *tls;		/* the pair its handshake took, or NULL */
};

/* READING: gathering the body; DISCARDING: the answer is decided, the
 * body (within max_body_kb) is read and dropped before it is sent;
 * LINGER: a 413 was sent mid-body, a little more is read and dropped
 * (LINGER_BYTES, LINGER_MS) so that closing does not reset the
 * connection before the client reads the answer. */
enum req_state { REQ_READING, REQ_DISCARDING, REQ_WAITING, REQ_AUTH,
    REQ_SENT, REQ_LINGER };

#define LINGER_BYTES (256 * 1024)
#define LINGER_MS 2000

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

/* Open connections per client address (limits_address_key). */
struct addr_count {
	struct addr_count *next;
	long n;
	char key[LIMITS_KEY_LEN];
};

/* What is summed up in the log instead of a line each. */
struct log_counts {
	long refused;			/* over max_connections_per_address */
	long swept;			/* no request (or handshake) in time */
	long plain_http;		/* plain HTTP on the TLS port */
	long mhd_lines;			/* libmicrohttpd lines in this window */
	long mhd_hidden;		/* ... not shown */
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
	struct addr_count *per_addr[ADDR_BUCKETS];
	uint64_t addr_seed;
	struct log_counts counts;
	long long window_ms;		/* when the current log window began */
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

/* Under srv->lock: the summary of the window that ends now, if any. */
static void
log_summary(struct http_server *srv, long long now)
{
	struct log_counts *c = &srv->counts;
	char line[400];
	int n = 0;

	if (now - srv->window_ms < LOG_SUMMARY_S * 1000)
		return;
	if (c->refused > 0)
		n += snprintf(line + n, sizeof line - (size_t)n,
		    "%s%ld refused (over max_connections_per_address = %ld)",
		    n ? "; " : "", c->refused,
		    srv->app->cfg->max_connections_per_address);
	if (c->swept > 0 && n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n,
		    "%s%ld closed without a complete request in time",
		    n ? "; " : "", c->swept);
	if (c->plain_http > 0 && n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n,
		    "%s%ld plain HTTP on the TLS port (answered 400)",
		    n ? "; " : "", c->plain_http);
	if (c->mhd_hidden > 0 && n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n,
		    "%s%ld more libmicrohttpd messages not shown",
		    n ? "; " : "", c->mhd_hidden);
	if (n > 0)
		fprintf(stderr, "beacon-collector: connections in the last %lld s: %s\n",
		    (now - srv->window_ms + 500) / 1000, line);
	memset(c, 0, sizeof *c);
	srv->window_ms = now;
}

/*
 * A new connection whose bytes sit unread in its socket is waiting for
 * the collector, not stalling.  In a burst (1,000 PBXs at once on two
 * cores) handshakes queue for the CPU.  Sweeping them at FIRST_REQUEST_S
 * threw away the work already spent on them, so fewer were served: 2 of 3
 * failed and 22 reports/s were served against 78 at 50 at once (issue
 * 24). Such a connection is spared until FIRST_REQUEST_MAX_S (nginx's
 * client_header_timeout). A client that stops sending has nothing
 * queued, so it still goes at its deadline.
 */
static bool
waiting_for_us(const struct conn_track *t, long long now)
{
	int queued = 0;

	return t->fresh && now - t->start_ms < FIRST_REQUEST_MAX_S * 1000LL &&
	    ioctl(t->fd, FIONREAD, &queued) == 0 && queued > 0;
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
			if (t->deadline_ms != 0 && now > t->deadline_ms &&
			    !waiting_for_us(t, now)) {
				t->deadline_ms = 0;
				shutdown(t->fd, SHUT_RDWR);
				srv->counts.swept++;
			}
		log_summary(srv, now);
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

/* The time a new connection has for its handshake and first headers. */
static long long
first_request_ms(const struct collector_config *cfg)
{
	return (cfg->request_timeout < FIRST_REQUEST_S ?
	    cfg->request_timeout : FIRST_REQUEST_S) * 1000LL;
}

static size_t
addr_bucket(const struct http_server *srv, const char *key)
{
	uint64_t h = srv->addr_seed ^ 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3u;
	}
	h ^= h >> 33;
	return (size_t)(h % ADDR_BUCKETS);
}

/* Under srv->lock: add delta to key's count; the count after it. */
static long
addr_count_add(struct http_server *srv, const char *key, long delta)
{
	struct addr_count **pp = &srv->per_addr[addr_bucket(srv, key)], *a;
	long n;

	for (; (a = *pp) != NULL; pp = &a->next)
		if (strcmp(a->key, key) == 0)
			break;
	if (a == NULL) {
		if (delta <= 0 || (a = calloc(1, sizeof *a)) == NULL)
			return 0;	/* out of memory: not counted */
		memcpy(a->key, key, LIMITS_KEY_LEN);
		a->next = srv->per_addr[addr_bucket(srv, key)];
		srv->per_addr[addr_bucket(srv, key)] = a;
		pp = NULL;
	}
	a->n += delta;
	n = a->n;
	if (n <= 0) {
		if (pp == NULL)
			for (pp = &srv->per_addr[addr_bucket(srv, key)]; *pp != a;
			    pp = &(*pp)->next)
				;
		*pp = a->next;
		free(a);
	}
	return n;
}

static bool is_trusted_proxy(const struct collector_config *cfg,
    const char *addr);
static void format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* ---- plain HTTP on the TLS port ---------------------------------------- */

/* 1: the first byte of the connection on this fd is still to be seen. */
static _Atomic unsigned char sniff[SNIFF_FDS];
static _Atomic long plain_http_seen;	/* added to the summary by the sweeper */

/* libmicrohttpd's message about a connection we closed on purpose (it
 * follows on the same thread at once) is not shown. */
static _Thread_local long long mhd_quiet_until;

#define PLAIN_HTTP_BODY "plain HTTP on the TLS port: this port speaks HTTPS (https://)\n"
/* A fixed answer written to the socket before any TLS: libmicrohttpd has
 * no HTTP for a connection whose handshake failed. */
static const char plain_http_answer[] =
	"HTTP/1.1 400 Bad Request\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Connection: close\r\n"
	"Content-Length: " "62" "\r\n"
	"\r\n"
	PLAIN_HTTP_BODY;
_Static_assert(sizeof PLAIN_HTTP_BODY - 1 == 62, "Content-Length of PLAIN_HTTP_BODY");

/*
 * GnuTLS's pull function for our connections: recv(2), except that the
 * very first byte is looked at first.  A TLS connection starts with a
 * handshake record (0x16); an upper-case letter is an HTTP method: the
 * client speaks plain HTTP.  It gets a plain-text 400 in words, and the
 * handshake fails quietly.
 */
static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ptr;

	if (fd >= 0 && fd < SNIFF_FDS && atomic_load(&sniff[fd])) {
		unsigned char b;
		ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

		if (n <= 0)
			return n;
		atomic_store(&sniff[fd], 0);
		if (b >= 'A' && b <= 'Z') {
			char drop[4096];

			/* Read what came (within reason), so that closing
			 * sends the answer rather than a reset. */
			for (int i = 0; i < 4 &&
			    recv(fd, drop, sizeof drop, MSG_DONTWAIT) > 0; i++)
				;
			(void)!send(fd, plain_http_answer, sizeof plain_http_answer - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			shutdown(fd, SHUT_WR);
			atomic_fetch_add(&plain_http_seen, 1);
			mhd_quiet_until = mono_ms() + 100;
			errno = ECONNRESET;
			return -1;
		}
	}
	return recv(fd, buf, len, 0);
}

/* GnuTLS wants this with a pull function of one's own. */
static int
tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct pollfd p = { .fd = (int)(intptr_t)ptr, .events = POLLIN };
	int r = poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);

	return r < 0 ? -1 : r;
}

/* The connection a GnuTLS session belongs to: libmicrohttpd (0.9.75, as
 * in 1.0) keeps its connection as the session's pointer. */
static struct conn_track *
track_of_session(gnutls_session_t session)
{
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *sc;

	if (conn == NULL)
		return NULL;
	sc = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return sc != NULL ? sc->socket_context : NULL;
}

static void
track_set_tls(struct conn_track *t, struct tls_pair *p)
{
	struct tls_pair *old = t->tls;

	t->tls = p;
	tls_pair_release(old);	/* a second handshake on one connection */
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	const struct collector_config *cfg = srv->app->cfg;
	struct conn_track *t = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		/* libmicrohttpd 1.0 answers every MHD_get_connection_info() of
		 * a connection in one union of its own (0.9.x pointed into the
		 * connection): each answer is used before the next call. */
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		int sock = ci != NULL ? (int)ci->connect_fd : -1;
		char addr[INET6_ADDRSTRLEN + 8];
		bool refuse = false;

		t = calloc(1, sizeof *t);
		if (t == NULL || sock < 0) {
			free(t);
			return;
		}
		t->fd = sock;
		t->fresh = true;
		t->start_ms = mono_ms();
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		format_addr(ci != NULL ? ci->client_addr : NULL, addr, sizeof addr);
		limits_address_key(addr, t->key);
		pthread_mutex_lock(&srv->lock);
		srv->fresh_conns++;
		t->deadline_ms = t->start_ms + first_request_ms(cfg);
		if (cfg->max_connections_per_address > 0 &&
		    !is_trusted_proxy(cfg, addr)) {
			t->counted = true;
			if (addr_count_add(srv, t->key, 1) >
			    cfg->max_connections_per_address) {
				refuse = true;
				t->deadline_ms = 0;
				srv->counts.refused++;
			}
		}
		t->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = t;
		srv->conns = t;
		pthread_mutex_unlock(&srv->lock);
		*socket_context = t;
		health_connection(1);
		if (refuse) {
			/* Closed at once: libmicrohttpd sees the end and frees it. */
			shutdown(t->fd, SHUT_RDWR);
			mhd_quiet_until = mono_ms() + 100;
			return;
		}
		if (cfg->tls) {
			const union MHD_ConnectionInfo *ts = MHD_get_connection_info(conn,
			    MHD_CONNECTION_INFO_GNUTLS_SESSION);
			if (ts != NULL && ts->tls_session != NULL) {
				if (t->fd >= 0 && t->fd < SNIFF_FDS)
					atomic_store(&sniff[t->fd], 1);
				gnutls_transport_set_pull_function(ts->tls_session, tls_pull);
				gnutls_transport_set_pull_timeout_function(ts->tls_session,
				    tls_pull_timeout);
			}
		}
	} else if (t != NULL) {
		health_connection(-1);
		if (t->fd >= 0 && t->fd < SNIFF_FDS)
			atomic_store(&sniff[t->fd], 0);
		pthread_mutex_lock(&srv->lock);
		if (t->fresh) {
			srv->fresh_conns--;
			pthread_cond_broadcast(&srv->cond);
		}
		if (t->counted)
			addr_count_add(srv, t->key, -1);
		if (t->prev != NULL)
			t->prev->next = t->next;
		else
			srv->conns = t->next;
		if (t->next != NULL)
			t->next->prev = t->prev;
		srv->counts.plain_http += atomic_exchange(&plain_http_seen, 0);
		pthread_mutex_unlock(&srv->lock);
		tls_pair_release(t->tls);
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

/* The numeric address s[0..n), normalised (inet_pton/ntop); false when
 * it is not one. */
static bool
numeric_address(const char *s, size_t n, char *out, size_t outlen)
{
	char text[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];

	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, text, bin) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)bin))
			return inet_ntop(AF_INET, bin + 12, out, (socklen_t)outlen) != NULL;
		return inet_ntop(AF_INET6, bin, out, (socklen_t)outlen) != NULL;
	}
	return false;
}

/* Every X-Forwarded-For header line, in the order received. */
struct xff_lines {
	const char *v[HTTP_MAX_XFF_LINES];
	int n;
	bool overflow;
};

static enum MHD_Result
take_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct xff_lines *x = cls;

	(void)kind;
	if (key == NULL || value == NULL ||
	    strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	if (x->n == HTTP_MAX_XFF_LINES) {
		x->overflow = true;
		return MHD_NO;
	}
	x->v[x->n++] = value;
	return MHD_YES;
}

/*
 * COLLECTOR.md §4: behind a trusted proxy, the client is the rightmost
 * X-Forwarded-For entry (over every header line, in order) that is not
 * itself a trusted proxy: each proxy appends the peer it saw, so entries
 * to the left of the last untrusted one were written by the client and
 * are never believed.  When every entry is a trusted proxy, the leftmost
 * is the client.  An entry that is not a numeric address where the
 * client should be: none (the peer itself is the client).
 */
bool
http_forwarded_client(const char *const *lines, int n,
    const struct collector_config *cfg, char *out, size_t outlen)
{
	char found[INET6_ADDRSTRLEN + 8], leftmost[INET6_ADDRSTRLEN + 8];
	bool any = false;

	for (int i = n - 1; i >= 0; i--) {
		const char *v = lines[i];
		size_t end = strlen(v);

		while (end > 0) {
			size_t start = end, a, b;

			while (start > 0 && v[start - 1] != ',')
				start--;
			a = start;
			b = end;
			while (a < b && (v[a] == ' ' || v[a] == '\t'))
				a++;
			while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
				b--;
			end = start > 0 ? start - 1 : 0;
			if (a == b)
				continue;	/* an empty element ("a,,b") */
			if (!numeric_address(v + a, b - a, found, sizeof found))
				return false;	/* garbage where the client is */
			if (!is_trusted_proxy(cfg, found)) {
				snprintf(out, outlen, "%s", found);
				return true;
			}
			any = true;
			memcpy(leftmost, found, sizeof leftmost);
		}
	}
	if (any)
		snprintf(out, outlen, "%s", leftmost);
	return any;
}

/* The client behind a trusted peer; out (the peer) unchanged when the
 * header is missing, unusable, or on too many lines. */
static void
forwarded_client(struct MHD_Connection *conn,
    const struct collector_config *cfg, char *out, size_t outlen)
{
	struct xff_lines x = { .n = 0 };
	char client[INET6_ADDRSTRLEN + 8];

	MHD_get_connection_values(conn, MHD_HEADER_KIND, take_xff, &x);
	if (x.n == 0 || x.overflow)
		return;
	if (http_forwarded_client(x.v, x.n, cfg, client, sizeof client))
		snprintf(out, outlen, "%s", client);
}

static void
client_address(struct MHD_Connection *conn, const struct collector_config *cfg,
    char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	format_addr(ci != NULL ? ci->client_addr : NULL, out, outlen);
	if (is_trusted_proxy(cfg, out))
		forwarded_client(conn, cfg, out, outlen);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/*
 * The path as the request log shows it: never a token, however it was
 * encoded.  Only the characters of our own paths are kept (letters,
 * digits, "/", ".", "_", "-"): the first other one ("?", "%", ";", a
 * decoded "%3F"...) ends it, with "..." in its place.  Then a path
 * segment that names a token in any case, and every UUID but the server
 * id of /servers/{id} or /fleet/{id}, are "****".
 */
char *
http_loggable_path(const char *path)
{
	size_t n = strspn(path != NULL ? path : "",
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-");
	char *out = malloc(n + 8 + 4 * 16), *w;
	int seg = 0;
	const char *r = path, *end = path + n;

	if (out == NULL)
		return NULL;
	w = out;
	while (r < end) {
		const char *slash = memchr(r + 1, '/', (size_t)(end - r - 1));
		const char *segend = slash != NULL ? slash : end;
		size_t len = (size_t)(segend - r);
		bool token = false, uuid;

		for (const char *q = r; q + 5 <= segend; q++)
			if (strncasecmp(q, "token", 5) == 0)
				token = true;
		/* r[0] is the segment's "/" (or its first byte at the start) */
		uuid = len == 37 && r[0] == '/' && r[9] == '-' && r[14] == '-' &&
		    r[19] == '-' && r[24] == '-';
		if (token || (uuid && !(seg == 1 && w > out &&
		    (strncmp(out, "/servers", 8) == 0 || strncmp(out, "/fleet", 6) == 0)))) {
			if (r[0] == '/')
				*w++ = '/';
			memcpy(w, "****", 4);
			w += 4;
			if (token)
				break;	/* nothing after a token's segment */
		} else {
			memcpy(w, r, len);
			w += len;
		}
		r = segend;
		seg++;
	}
	if (path != NULL && path[n] != '\0') {
		memcpy(w, "...", 3);
		w += 3;
	}
	*w = '\0';
	return out;
}

static void
log_request(const struct http_request *hr, int status)
{
	const struct api_request *req = &hr->api;
	char *masked = http_loggable_path(req->path);
	char *path = masked != NULL ? text_sanitize(masked, strlen(masked), 200) : NULL;
	long long ms = mono_ms() - hr->start_ms;

	if (hr->srv->app->cfg->log_addresses)
		fprintf(stderr, "beacon-collector: %s %s %d %lld ms from %s\n",
		    req->method, path ? path : "?", status, ms, req->client);
	else
		fprintf(stderr, "beacon-collector: %s %s %d %lld ms\n",
		    req->method, path ? path : "?", status, ms);
	free(path);
	free(masked);
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
		/* The headers came within first_request_ms: the whole request
		 * has request_timeout from the connection's start. */
		if (hr->track->deadline_ms != 0)
			hr->track->deadline_ms = hr->track->start_ms +
			    srv->app->cfg->request_timeout * 1000;
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

/* An HTTP token character (RFC 9110 5.6.2). */
static bool
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

struct header_check {
	const char *why;		/* NULL: every field is fine */
	int content_lengths;
	bool chunked;
	const char *last_end;		/* the end of the last value (0.9.x) */
};

/* COLLECTOR.md §4: what libmicrohttpd 0.9.75 lets through. */
static enum MHD_Result
check_field(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct header_check *hc = cls;

	(void)kind;
	if (key == NULL || key_size == 0 || key[0] == '\0') {
		hc->why = "a header field with an empty name";
		return MHD_NO;
	}
	for (size_t i = 0; i < key_size; i++)
		if (!is_tchar((unsigned char)key[i])) {
			hc->why = "a header field name that is not an HTTP token";
			return MHD_NO;
		}
	if (value == NULL)
		value = "";
	if (strlen(value) != value_size) {
		hc->why = "a NUL in a header field value";
		return MHD_NO;
	}
#if MHD_VERSION < 0x01000000
	/* libmicrohttpd 0.9.x parses the header in place and cuts a value at
	 * a NUL without a word: a value's line ended where its CR and LF were
	 * overwritten by two NULs, so anything else right after the value's
	 * end is the rest of a line cut short by a NUL (or a line not ended
	 * by CRLF, which no HTTP client sends).  The byte is inside the
	 * request's buffer: the header's final empty line follows. */
	if (value[value_size + 1] != '\0') {
		hc->why = "a NUL in a header field value, or a line not ended by CRLF";
		return MHD_NO;
	}
	/* In place, a name is followed by its colon (overwritten by a NUL),
	 * blanks, and its value.  An obs-fold line ("X: a" CRLF " b") is
	 * taken by 0.9.x as more of the name, copied elsewhere: a name that
	 * is not right before its value was folded. */
	{
		uintptr_t k = (uintptr_t)key, v = (uintptr_t)value;

		if (!(k + key_size < v && key[key_size] == '\0' &&
		    strspn(key + key_size + 1, " \t") == v - k - key_size - 1)) {
			hc->why = "an obs-fold line (a header field continued on the next line)";
			return MHD_NO;
		}
	}
	hc->last_end = value + value_size;
#endif
	for (size_t i = 0; i < value_size; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			hc->why = "a control character in a header field value";
			return MHD_NO;
		}
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		hc->content_lengths++;
		if (value_size == 0 || value_size > 18 ||
		    strspn(value, "0123456789") != value_size) {
			hc->why = "an invalid Content-Length";
			return MHD_NO;
		}
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		hc->chunked = true;
	return MHD_YES;
}

/*
 * The request line's version and the header fields, checked here whatever
 * the library does (libmicrohttpd 0.9.72 answers HTTP/2.0 with 200, 0.9.75
 * takes a duplicated Content-Length or a field name with a blank).
 * Returns 0, or the status (400, 505) with the reason in *why.
 */
static int
check_request(struct MHD_Connection *conn, const char *version,
    const char **why)
{
	struct header_check hc = { .why = NULL };

	if (version == NULL || strlen(version) != 8 ||
	    strncmp(version, "HTTP/", 5) != 0 || !isdigit((unsigned char)version[5]) ||
	    version[6] != '.' || !isdigit((unsigned char)version[7])) {
		*why = "malformed HTTP version";
		return 400;
	}
	if (version[5] != '1') {
		*why = "HTTP version not supported (HTTP/1.x only)";
		return 505;
	}
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, check_field, &hc);
	/* 0.9.x drops a last line it cannot take (": x", an empty name,
	 * whose colon it still overwrites) without a word: the header's final
	 * empty line, its CR and LF overwritten by two NULs in place, must
	 * come right after the last field's line. */
	if (hc.why == NULL && hc.last_end != NULL &&
	    (hc.last_end[2] != '\0' || hc.last_end[3] != '\0'))
		hc.why = "a header line that is not a field (an empty field name?)";
	if (hc.why == NULL && hc.content_lengths > 1)
		hc.why = "more than one Content-Length";
	if (hc.why == NULL && hc.content_lengths > 0 && hc.chunked)
		hc.why = "both Content-Length and Transfer-Encoding";
	if (hc.why != NULL) {
		*why = hc.why;
		return 400;
	}
	return 0;
}

/*
 * A body that passes max_body_kb while it arrives (chunked): 413 now, the
 * rest unread (COLLECTOR.md §4).  libmicrohttpd 0.9.75 takes no response
 * until the body has ended (MHD_queue_response is refused while it is
 * being received), so this one answer is written to the connection here,
 * on its own thread (a fixed head, the JSON error of web/api.c's 413),
 * and the connection is closed after at most LINGER_BYTES more.
 */
static enum MHD_Result
answer_too_large_now(struct http_request *hr)
{
	const struct collector_config *cfg = hr->srv->app->cfg;
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t tls = NULL;
	int sock = -1;
	char msg[96], head[256];
	char *body = NULL;
	json_t *j;
	int hl;

	/* One union per connection answers both in libmicrohttpd 1.0 (the
	 * second call overwrote the session pointer's low half with the fd):
	 * each value is copied before the next call. */
	if (cfg->tls && (ci = MHD_get_connection_info(hr->conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL)
		tls = ci->tls_session;
	if ((ci = MHD_get_connection_info(hr->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL)
		sock = (int)ci->connect_fd;
	snprintf(msg, sizeof msg, "body larger than max_body_kb (%ld KiB)",
	    cfg->max_body_kb);
	j = json_pack("{s:s}", "error", msg);
	if (j != NULL)
		body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body != NULL && sock >= 0) {
		hl = snprintf(head, sizeof head, "HTTP/1.1 413 Content Too Large\r\n"
		    "Content-Type: application/json\r\nCache-Control: no-store\r\n"
		    "Connection: close\r\nContent-Length: %zu\r\n\r\n", strlen(body));
		for (int part = 0; part < 2; part++) {
			const char *b = part == 0 ? head : body;
			size_t left = part == 0 ? (size_t)hl : strlen(body);
			for (int tries = 0; left > 0 && tries < 20; tries++) {
				ssize_t n = tls != NULL ?
				    gnutls_record_send(tls, b, left) :
				    send(sock, b, left, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (n > 0) {
					b += n;
					left -= (size_t)n;
				} else {
					struct pollfd pf = { .fd = sock,
					    .events = POLLOUT };
					if (n < 0 && n != GNUTLS_E_AGAIN &&
					    n != GNUTLS_E_INTERRUPTED && errno != EAGAIN &&
					    errno != EINTR)
						break;
					poll(&pf, 1, 50);
				}
			}
		}
	}
	free(body);
	hr->state = REQ_LINGER;
	hr->discarded = 0;
	if (hr->track != NULL) {
		pthread_mutex_lock(&hr->srv->lock);
		hr->track->deadline_ms = mono_ms() + LINGER_MS;
		pthread_mutex_unlock(&hr->srv->lock);
	}
	log_request(hr, 413);
	health_request(hr->api.method, 413,
	    (double)(mono_ms() - hr->start_ms) / 1000.0);
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
		{
			const char *why = NULL;
			int bad = check_request(conn, version, &why);
			if (bad != 0) {
				api_error(&hr->api.resp, bad, why);
				return send_answer(hr);
			}
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
			/* A chunked body past the cap: 413 now, the rest unread. */
			return hr->discarded <= hr->api.body_max ? MHD_YES :
			    answer_too_large_now(hr);
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
				/* Past the cap (a chunked body): 413 now. */
				req->body_too_large = true;
				buf_free(&req->body);
				*upload_size = 0;
				return answer_too_large_now(hr);
			}
			*upload_size = 0;
			return MHD_YES;
		}
		return finish(hr);
	case REQ_WAITING:
		return send_answer(hr);	/* resumed by on_job_done */
	case REQ_LINGER:
		if (*upload_size > 0) {
			hr->discarded += *upload_size;
			*upload_size = 0;
			if (hr->discarded <= LINGER_BYTES)
				return MHD_YES;
		}
		/* The answer is out: close ("Application reported ..." is ours). */
		mhd_quiet_until = mono_ms() + 100;
		return MHD_NO;
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
	if (hr->state != REQ_SENT && hr->state != REQ_LINGER)
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
 * shaped like an address becomes "<address>" before it reaches the log.
 * One client can make them come by the thousand: at most
 * MHD_LINES_PER_WINDOW are shown per LOG_SUMMARY_S, the rest counted in
 * the summary line; those about a connection closed on purpose (plain
 * HTTP on the TLS port, over the per-address limit, a 413 mid-body) are
 * not shown at all. */
static void __attribute__((format(printf, 2, 0)))
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *srv = cls;
	char line[512], out[512];
	size_t n, o = 0;
	bool show;

	if (mono_ms() < mhd_quiet_until)
		return;
	pthread_mutex_lock(&srv->lock);
	show = srv->counts.mhd_lines < MHD_LINES_PER_WINDOW;
	if (show)
		srv->counts.mhd_lines++;
	else
		srv->counts.mhd_hidden++;
	pthread_mutex_unlock(&srv->lock);
	if (!show)
		return;
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
	const char *shown = spec;	/* as written, brackets and all */
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
		snprintf(err, errlen, "listen %s: host too long", shown);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	rc = getaddrinfo(hl == 0 || strcmp(host, "*") == 0 ? NULL : host,
	    colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listen %s: %s", shown, gai_strerror(rc));
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
		snprintf(err, errlen, "listen %s: %s", shown, strerror(errno));
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
#if MHD_VERSION >= 0x01000000
		/* 1.0 takes an obs-fold line at its default level 0 (the fold
		 * made blanks), which check_field's 0.9.x test cannot see:
		 * level 1 answers it 400 (RFC 9112 5.2), and a bare LF too. */
		{ MHD_OPTION_CLIENT_DISCIPLINE_LVL, 1, NULL },
#endif
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
http_server_open(const struct app *app, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof *srv);

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->app = app;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	srv->window_ms = mono_ms();
	if (getrandom(&srv->addr_seed, sizeof srv->addr_seed, GRND_NONBLOCK) !=
	    (ssize_t)sizeof srv->addr_seed)
		srv->addr_seed = (uint64_t)(uintptr_t)srv ^ (uint64_t)time(NULL);
	for (int i = 0; i < COLLECTOR_MAX_LISTEN; i++)
		srv->fds[i] = -1;
	if (app->cfg->tls) {
		struct tls_pair *p = tls_pair_load(app->cfg->tls_cert,
		    app->cfg->tls_key, err, errlen);
		if (p == NULL)
			goto fail;
		tls_pair_install(p);
	}
	if (open_listeners(srv, err, errlen) < 0)
		goto fail;
	return srv;
fail:
	http_server_free(srv);
	return NULL;
}

int
http_server_start(struct http_server *srv, char *err, size_t errlen)
{
	const struct app *app = srv->app;

	for (int i = 0; i < srv->n; i++) {
		srv->daemons[i] = start_daemon(srv, srv->fds[i]);
		if (srv->daemons[i] == NULL) {
			snprintf(err, errlen, "listen %s: libmicrohttpd cannot "
			    "start on it", app->cfg->listen_systemd ? "systemd" :
			    app->cfg->listen[i]);
			return -1;
		}
	}
	if (pthread_create(&srv->sweeper, NULL, sweeper_main, srv) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		return -1;
	}
	srv->sweeper_started = true;
	return 0;
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

void
http_server_certificate(char *desc, size_t desclen)
{
	pthread_mutex_lock(&tls_lock);
	snprintf(desc, desclen, "%s", tls_current != NULL ? tls_current->desc :
	    "none");
	pthread_mutex_unlock(&tls_lock);
}

int
http_server_reload_tls(struct http_server *srv, const char *cert,
    const char *key, char *desc, size_t desclen, char *err, size_t errlen)
{
	struct tls_pair *p;
	int pairs;

	if (!srv->app->cfg->tls) {
		snprintf(desc, desclen, "no TLS (tls = no)");
		return 0;
	}
	p = tls_pair_load(cert, key, err, errlen);
	if (p == NULL)
		return -1;
	pairs = tls_pair_install(p);
	snprintf(desc, desclen, "%s (%s, %s); %d certificate pair%s in memory",
	    p->desc, cert, key, pairs, pairs == 1 ? "" : "s");
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
	for (int i = 0; i < ADDR_BUCKETS; i++)
		while (srv->per_addr[i] != NULL) {
			struct addr_count *next = srv->per_addr[i]->next;
			free(srv->per_addr[i]);
			srv->per_addr[i] = next;
		}
	tls_pairs_free_all();
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
	free(srv);
}
