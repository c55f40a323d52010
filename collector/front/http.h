/*
 * The HTTP(S) side of the collector: the listening sockets (host:port,
 * unix:PATH or systemd's), one libmicrohttpd daemon per socket, TLS from
 * GnuTLS with a certificate that SIGHUP can replace, the limits of
 * COLLECTOR.md §4 that belong to connections (max_connections,
 * max_connections_per_address, request_timeout, a new connection's
 * handshake, memory per connection, malformed requests), and the request
 * log.  The
 * protocol itself is web/api.c's.
 */
#ifndef COLLECTOR_HTTP_H
#define COLLECTOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../web/api.h"

struct http_server;

/*
 * Load the TLS pair (when cfg->tls) and open every listen address: what
 * needs root, done before it is dropped.  app is kept (its store may be
 * filled in until http_server_start).  Returns NULL with a one-line
 * message in err (a TLS file that cannot be read or does not match, an
 * address that cannot be bound).
 */
struct http_server *http_server_open(const struct app *app, char *err,
    size_t errlen);

/* Start serving requests on the sockets http_server_open opened, into its
 * app (whose store is open by now).  0, or -1 with a message in err. */
int http_server_start(struct http_server *srv, char *err, size_t errlen);

/* Check that cfg's TLS pair can be read and matches (--check-config);
 * 0, or -1 with the reason in err.  0 when cfg->tls is off. */
int http_check_tls(const struct collector_config *cfg, char *err,
    size_t errlen);

/* The certificate served: "subject '...', expires ...". */
void http_server_certificate(char *desc, size_t desclen);

/*
 * Serve the pair cert/key from now on (SIGHUP; the paths as the
 * configuration file names them now).  Connections keep the pair their
 * handshake took; a pair no connection uses any more is freed.  0 with
 * what is served now in desc (subject, expiry, the files, the pairs in
 * memory), or, on any error, -1 with the reason in err and the pair in
 * use kept.
 */
int http_server_reload_tls(struct http_server *srv, const char *cert,
    const char *key, char *desc, size_t desclen, char *err, size_t errlen);

/*
 * Stop accepting, answer new requests on open connections with 503, and
 * wait up to drain_s seconds for the requests in flight; then wait for
 * every store job already submitted (the store finishes them), so that no
 * connection is left suspended.
 */
void http_server_drain(struct http_server *srv, int drain_s);

/* ---- pure parts, for the fuzz target ---- */

#define HTTP_MAX_XFF_LINES 32	/* more X-Forwarded-For lines: not believed */

/*
 * The client address behind a trusted proxy (COLLECTOR.md §4) from the
 * X-Forwarded-For header lines in the order received: the rightmost entry
 * that is not in cfg->trusted_proxies, normalised; the leftmost when all
 * are.  False (out untouched) when there is no entry or the one where the
 * client should be is not a numeric address.
 */
bool http_forwarded_client(const char *const *lines, int n,
    const struct collector_config *cfg, char *out, size_t outlen);

/* The request path as the request log shows it: only [A-Za-z0-9/._-] up to
 * the first other byte ("..." in its place), a segment naming a token and
 * every UUID but a /servers/ or /fleet/ id masked as "****".  Allocated
 * (the caller frees it); NULL when out of memory. */
char *http_loggable_path(const char *path);

/* Stop the daemons and free everything; NULL-safe.  Call after drain. */
void http_server_free(struct http_server *srv);

#endif
