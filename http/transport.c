/* Requests on the wire: libcurl easy handles set up for the Beacon
 * protocol's transport rules (CONTRACT §6), run together over one multi
 * handle, each answer collected into a capped buffer.
 *
 * libcurl (and the TLS library under it, some thirty shared objects) is
 * not linked: it is dlopen'ed by http_global_init, which only a run that
 * is about to send calls, so that a not-due run, --show and the rest
 * load none of it.  Its functions are reached through one typed table,
 * curl_fn, filled by dlsym; the curl_* names below are that table's. */
#include <ctype.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef BEACON_COMPAT
#define BEACON_COMPAT 0
#endif
#if BEACON_COMPAT
/* `make COMPAT=1` builds the paths of libcurl < 7.84 on a newer one,
 * where their options are marked deprecated (libcurl's own switch). */
#define CURL_DISABLE_DEPRECATION 1
#endif
/* Its type-checking macros would call curl_easy_setopt by its linked
 * name; the options are checked by the tests instead. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* CURLOPT_PROTOCOLS_STR came with libcurl 7.85, CURLINFO_CAPATH with
 * 7.84 (Debian 11 has 7.74, Ubuntu 22.04 7.81, RHEL 9 7.76). */
#if !BEACON_COMPAT && LIBCURL_VERSION_NUM >= 0x075500
#define HAVE_PROTOCOLS_STR 1
#else
#define HAVE_PROTOCOLS_STR 0
#endif
#if !BEACON_COMPAT && LIBCURL_VERSION_NUM >= 0x075400
#define HAVE_INFO_CAPATH 1
#else
#define HAVE_INFO_CAPATH 0
#endif

#include "../common/log.h"
#include "http_int.h"

#ifndef TEST_CLOCK
#define TEST_CLOCK 0
#endif

/* The soname of libcurl's ABI 4 (every libcurl since 7.16), whichever
 * TLS flavour the system installed. */
#define LIBCURL_SONAME "libcurl.so.4"

/* The functions of libcurl used here, with their prototypes. */
struct curl_api {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int,
	    int, int *);
	const char *(*multi_strerror)(CURLMcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};
static struct curl_api curl_fn;

#define CURL_SYM(field) { "curl_" #field, offsetof(struct curl_api, field) }
static const struct {
	const char *name;
	size_t offset;
} curl_syms[] = {
	CURL_SYM(global_init), CURL_SYM(global_cleanup), CURL_SYM(easy_init),
	CURL_SYM(easy_cleanup), CURL_SYM(easy_setopt), CURL_SYM(easy_getinfo),
	CURL_SYM(easy_strerror), CURL_SYM(multi_init), CURL_SYM(multi_cleanup),
	CURL_SYM(multi_add_handle), CURL_SYM(multi_remove_handle),
	CURL_SYM(multi_info_read), CURL_SYM(multi_perform),
	CURL_SYM(multi_poll), CURL_SYM(multi_strerror),
	CURL_SYM(slist_append), CURL_SYM(slist_free_all),
};

#define curl_global_init (*curl_fn.global_init)
#define curl_global_cleanup (*curl_fn.global_cleanup)
#define curl_easy_init (*curl_fn.easy_init)
#define curl_easy_cleanup (*curl_fn.easy_cleanup)
#undef curl_easy_setopt		/* curl.h's pass-through macros */
#undef curl_easy_getinfo
#define curl_easy_setopt (*curl_fn.easy_setopt)
#define curl_easy_getinfo (*curl_fn.easy_getinfo)
#define curl_easy_strerror (*curl_fn.easy_strerror)
#define curl_multi_init (*curl_fn.multi_init)
#define curl_multi_cleanup (*curl_fn.multi_cleanup)
#define curl_multi_add_handle (*curl_fn.multi_add_handle)
#define curl_multi_remove_handle (*curl_fn.multi_remove_handle)
#define curl_multi_info_read (*curl_fn.multi_info_read)
#define curl_multi_perform (*curl_fn.multi_perform)
#define curl_multi_poll (*curl_fn.multi_poll)
#define curl_multi_strerror (*curl_fn.multi_strerror)
#define curl_slist_append (*curl_fn.slist_append)
#define curl_slist_free_all (*curl_fn.slist_free_all)

static void *libcurl;		/* the dlopen handle, NULL until loaded */

/* Load libcurl and fill curl_fn.  0, or -1 with the reason printed. */
static int
libcurl_load(void)
{
	const char *soname = LIBCURL_SONAME;

#if TEST_CLOCK
	/* test builds only: a library that is not there */
	if (getenv("BEACON_REPORT_LIBCURL") != NULL)
		soname = getenv("BEACON_REPORT_LIBCURL");
#endif
	if (libcurl != NULL)
		return 0;
	libcurl = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (libcurl == NULL) {
		const char *e = dlerror();
		log_error("cannot load libcurl: %s (install libcurl4)",
		    e != NULL ? e : soname);
		return -1;
	}
	for (size_t i = 0; i < sizeof curl_syms / sizeof curl_syms[0]; i++) {
		void *sym = dlsym(libcurl, curl_syms[i].name);

		if (sym == NULL) {
			log_error("cannot load libcurl: %s has no %s (older "
			    "than 7.66?)", soname, curl_syms[i].name);
			dlclose(libcurl);
			libcurl = NULL;
			return -1;
		}
		/* POSIX: a function's address fits in a void * */
		memcpy((char *)&curl_fn + curl_syms[i].offset, &sym, sizeof sym);
	}
	return 0;
}


/* The system's hashed CA directory, for a libcurl built without one. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* One request in flight; tied to its easy handle by CURLOPT_PRIVATE. */
struct http_request {
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;	/* the answer so far */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	char *proxy_secret;	/* the proxy password as configured, or NULL:
				 * masked in every error text */
	const char *server_name;	/* borrowed from the server_conf */
	char *method;
	char *shown_url;
	void *owner;
	struct http_request *prev, *next;	/* in http_multi.requests */
};

struct http_multi {
	CURLM *multi;
	struct http_request *requests;	/* added and not yet handed back */
};

int
http_global_init(void)
{
	CURLcode rc;

	if (libcurl_load() < 0)
		return -1;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_error("cannot initialise libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void
http_global_cleanup(void)
{
	if (libcurl == NULL)
		return;
	curl_global_cleanup();
	/* left loaded: its TLS library may have registered exit handlers */
}

/* Collect the answer; returning less than asked makes libcurl stop the
 * transfer with CURLE_WRITE_ERROR, which is how the cap is enforced. */
static size_t
write_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *req = userp;
	size_t n = size * nmemb;

	if (n > HTTP_BODY_CAP || req->body.len + n > HTTP_BODY_CAP) {
		req->too_big = true;
		return 0;
	}
	if (buf_append(&req->body, data, n) != 0)
		return 0;
	return n;
}

static void
request_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->easy != NULL)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	buf_free(&req->body);
	free(req->method);
	free(req->shown_url);
	free(req->proxy_secret);
	free(req);
}

/* The default CA directory for handle easy: the build's, else the
 * system's hashed directory (libcurl without CURLINFO_CAPATH: always). */
static const char *
default_capath(CURL *easy)
{
	char *capath = NULL;

#if HAVE_INFO_CAPATH
	if (curl_easy_getinfo(easy, CURLINFO_CAPATH, &capath) == CURLE_OK &&
	    capath != NULL)
		return NULL;	/* libcurl keeps its own */
#else
	(void)easy;
	(void)capath;
#endif
	return SYSTEM_CA_DIR;
}

/*
 * Trust for server, and for an https:// proxy on the way (the same
 * verify_cert and ca_path): the configured CA in addition to the
 * system's, never instead of it, so that a TLS-inspecting proxy's CA can
 * be added without losing the public ones.  With OpenSSL, CURLOPT_CAINFO
 * replaces the default bundle, so a CA file goes into CAINFO and the
 * system's hashed directory stays in CAPATH; a CA directory goes into
 * CAPATH and the default bundle stays in CAINFO.  A path that cannot be
 * stat'ed is treated as a file: libcurl then fails the request naming the
 * problem.
 */
static CURLcode
set_trust(CURL *easy, const struct server_conf *server)
{
	struct stat st;
	CURLcode rc = CURLE_OK;
	long verify = server->verify_cert ? 1L : 0L;
	const char *capath;

#define SET(opt, val) do { \
	if (rc == CURLE_OK) rc = curl_easy_setopt(easy, opt, val); } while (0)
	SET(CURLOPT_SSL_VERIFYPEER, verify);
	SET(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	SET(CURLOPT_PROXY_SSL_VERIFYPEER, verify);
	SET(CURLOPT_PROXY_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (rc != CURLE_OK || !server->verify_cert || server->ca_path == NULL)
		return rc;
	if (stat(server->ca_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		SET(CURLOPT_CAPATH, server->ca_path);
		SET(CURLOPT_PROXY_CAPATH, server->ca_path);
		return rc;
	}
	SET(CURLOPT_CAINFO, server->ca_path);
	SET(CURLOPT_PROXY_CAINFO, server->ca_path);
	/* keep the build's default directory, or name the system's */
	if ((capath = default_capath(easy)) != NULL) {
		SET(CURLOPT_CAPATH, capath);
		SET(CURLOPT_PROXY_CAPATH, capath);
	}
#undef SET
	return rc;
}

/* Decode %XX in s in place (a proxy URL's user and password are
 * written that way); bad escapes are kept as they are. */
static void
percent_decode(char *s)
{
	char *o = s;

	for (const char *i = s; *i; i++) {
		if (i[0] == '%' && isxdigit((unsigned char)i[1]) &&
		    isxdigit((unsigned char)i[2])) {
			char hex[3] = {i[1], i[2], '\0'};
			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
}

/*
 * Split a configured proxy "[scheme://][user[:pass]@]host[:port]" into
 * the URL without credentials and the decoded user and password (NULL
 * when absent), so that no libcurl text (which quotes the proxy URL)
 * can carry the password.  Each out string is the caller's.  0 or -1
 * (out of memory).
 */
static int
proxy_split(const char *proxy, char **url, char **user, char **pass)
{
	const char *rest = strstr(proxy, "://");
	const char *at;

	*url = *user = *pass = NULL;
	rest = rest != NULL ? rest + 3 : proxy;
	at = strrchr(rest, '@');
	if (at == NULL) {
		*url = strdup(proxy);
		return *url != NULL ? 0 : -1;
	}
	if (asprintf(url, "%.*s%s", (int)(rest - proxy), proxy, at + 1) < 0) {
		*url = NULL;
		return -1;
	}
	const char *colon = memchr(rest, ':', (size_t)(at - rest));
	size_t ulen = (size_t)((colon != NULL ? colon : at) - rest);
	*user = strndup(rest, ulen);
	if (colon != NULL)
		*pass = strndup(colon + 1, (size_t)(at - colon - 1));
	if (*user == NULL || (colon != NULL && *pass == NULL)) {
		free(*url);
		free(*user);
		*url = *user = NULL;
		return -1;
	}
	percent_decode(*user);
	return 0;
}

/* Replace every occurrence of secret in text (a new string, or NULL on
 * ENOMEM) with SECRET_MASK. */
static char *
mask_secret(const char *text, const char *secret)
{
	struct buf out = {0};
	size_t n = secret != NULL ? strlen(secret) : 0;
	const char *p = text, *hit;

	while (n > 0 && (hit = strstr(p, secret)) != NULL) {
		if (buf_append(&out, p, (size_t)(hit - p)) < 0 ||
		    buf_append(&out, SECRET_MASK, strlen(SECRET_MASK)) < 0) {
			buf_free(&out);
			return NULL;
		}
		p = hit + n;
	}
	if (buf_append(&out, p, strlen(p)) < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

/* The proxy options: the URL without credentials, and the credentials
 * apart.  "" when no proxy is configured makes libcurl ignore
 * https_proxy and friends in the environment (cron's environment is not
 * the admin's), and NOPROXY "" keeps NO_PROXY from bypassing a
 * configured proxy. */
static CURLcode
set_proxy(struct http_request *req, const struct server_conf *server)
{
	char *url = NULL, *user = NULL, *pass = NULL;
	CURLcode rc = CURLE_OK;

	if (server->proxy != NULL && proxy_split(server->proxy, &url, &user,
	    &pass) < 0)
		return CURLE_OUT_OF_MEMORY;
	if (pass != NULL) {
		/* as configured and as decoded: masked in any text */
		req->proxy_secret = strdup(pass);
		percent_decode(pass);
		if (req->proxy_secret == NULL)
			rc = CURLE_OUT_OF_MEMORY;
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(req->easy, CURLOPT_PROXY, url != NULL ? url : "");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(req->easy, CURLOPT_NOPROXY, "");
	if (rc == CURLE_OK && user != NULL)
		rc = curl_easy_setopt(req->easy, CURLOPT_PROXYUSERNAME, user);
	if (rc == CURLE_OK && pass != NULL)
		rc = curl_easy_setopt(req->easy, CURLOPT_PROXYPASSWORD, pass);
	free(url);
	free(user);
	if (pass != NULL)
		memset(pass, 0, strlen(pass));
	free(pass);
	return rc;
}

/* Every option of one request; the first failure, or CURLE_OK. */
static CURLcode
request_setup(struct http_request *req, const struct server_conf *server,
    unsigned timeout, const char *url, const char *body)
{
	CURL *easy = req->easy;
	long connect = timeout < HTTP_CONNECT_TIMEOUT ? (long)timeout :
	    HTTP_CONNECT_TIMEOUT;
	static const char *const headers[] = {
		"Content-Type: application/json",
		"Accept: application/json",
		"Expect:",	/* no 100-continue round trip */
	};
	CURLcode rc = CURLE_OK;

	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		struct curl_slist *l = curl_slist_append(req->headers, headers[i]);
		if (l == NULL)
			return CURLE_OUT_OF_MEMORY;
		req->headers = l;
	}

#define SET(opt, val) do { \
	if (rc == CURLE_OK) rc = curl_easy_setopt(easy, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_PRIVATE, req);
	SET(CURLOPT_URL, url);
#if HAVE_PROTOCOLS_STR
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT, (long)timeout);
	SET(CURLOPT_CONNECTTIMEOUT, connect);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_USERAGENT, "beacon-report/" VERSION);
	SET(CURLOPT_HTTPHEADER, req->headers);
	SET(CURLOPT_WRITEFUNCTION, write_body);
	SET(CURLOPT_WRITEDATA, req);
	/* the body: PUT sends it through the POST machinery with its verb */
	SET(CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	SET(CURLOPT_COPYPOSTFIELDS, body != NULL ? body : "");
	if (strcmp(req->method, "POST") != 0)
		SET(CURLOPT_CUSTOMREQUEST, req->method);
#undef SET
	/* where the request goes depends on the configuration file alone */
	if (rc == CURLE_OK)
		rc = set_proxy(req, server);
	if (rc == CURLE_OK)
		rc = set_trust(easy, server);
	return rc;
}

struct http_multi *
http_multi_new(void)
{
	struct http_multi *m = calloc(1, sizeof *m);

	if (m == NULL || (m->multi = curl_multi_init()) == NULL) {
		log_error("cannot set up libcurl's multi interface");
		free(m);
		return NULL;
	}
	return m;
}

/* Take req off the list of requests in flight. */
static void
request_unlink(struct http_multi *m, struct http_request *req)
{
	curl_multi_remove_handle(m->multi, req->easy);
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		m->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

void
http_multi_free(struct http_multi *m)
{
	if (m == NULL)
		return;
	while (m->requests != NULL) {
		struct http_request *req = m->requests;

		request_unlink(m, req);
		request_free(req);
	}
	curl_multi_cleanup(m->multi);
	free(m);
}

int
http_multi_start(struct http_multi *m, const struct server_conf *server,
    unsigned timeout, const char *method, const char *url,
    const char *shown_url, const char *body, void *owner, const char **why)
{
	struct http_request *req = calloc(1, sizeof *req);
	CURLcode rc;

	*why = "out of memory";
	if (req == NULL)
		return -1;
	req->owner = owner;
	req->server_name = server->name;
	req->method = strdup(method);
	req->shown_url = strdup(shown_url);
	req->easy = curl_easy_init();
	if (req->method == NULL || req->shown_url == NULL || req->easy == NULL) {
		request_free(req);
		return -1;
	}
	rc = request_setup(req, server, timeout, url, body);
	if (rc != CURLE_OK) {
		*why = curl_easy_strerror(rc);
		request_free(req);
		return -1;
	}
	CURLMcode mc = curl_multi_add_handle(m->multi, req->easy);
	if (mc != CURLM_OK) {
		*why = curl_multi_strerror(mc);
		request_free(req);
		return -1;
	}
	req->next = m->requests;
	if (req->next != NULL)
		req->next->prev = req;
	m->requests = req;
	log_verbose("server %s: %s %s", server->name, method, shown_url);
	return 0;
}

/* Move a finished request's outcome into reply and free the request. */
static void
request_finish(struct http_request *req, CURLcode result,
    struct http_reply *reply)
{
	curl_off_t usecs = 0;

	memset(reply, 0, sizeof *reply);
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &usecs);
	reply->too_big = req->too_big;
	reply->len = req->body.len;
	reply->body = buf_steal(&req->body);
	if (reply->body == NULL) {
		reply->failed = true;
		reply->error = strdup("out of memory");
	} else if (result != CURLE_OK && !req->too_big) {
		const char *text = req->errbuf[0] ? req->errbuf :
		    curl_easy_strerror(result);
		char *masked = mask_secret(text, req->proxy_secret);
		reply->failed = true;
		/* no proxy password from libcurl's words, however quoted */
		reply->error = masked != NULL ? text_sanitize(masked,
		    strlen(masked), 300) : strdup(curl_easy_strerror(result));
		free(masked);
	}
	if (reply->failed)
		log_verbose("server %s: %s %s: %s (%.3f s)", req->server_name,
		    req->method, req->shown_url,
		    reply->error ? reply->error : "failed", (double)usecs / 1e6);
	else
		log_verbose("server %s: %s %s: HTTP %ld (%.3f s)",
		    req->server_name, req->method, req->shown_url,
		    reply->status, (double)usecs / 1e6);
	request_free(req);
}

int
http_multi_next(struct http_multi *m, void **owner, struct http_reply *reply,
    volatile sig_atomic_t *stop)
{
	while (m->requests != NULL) {
		int running = 0, left = 0;
		CURLMsg *msg;
		CURLMcode mc = curl_multi_perform(m->multi, &running);

		if (mc != CURLM_OK) {
			log_error("libcurl: %s", curl_multi_strerror(mc));
			return -1;
		}
		while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
			void *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			/* read msg before removing its handle invalidates it */
			CURLcode result = msg->data.result;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			struct http_request *req = priv;
			request_unlink(m, req);
			*owner = req->owner;
			request_finish(req, result, reply);
			return 1;
		}
		if (stop != NULL && *stop)
			return HTTP_STOPPED;
		mc = curl_multi_poll(m->multi, NULL, 0, HTTP_STOP_MS, NULL);
		if (mc != CURLM_OK) {
			log_error("libcurl: %s", curl_multi_strerror(mc));
			return -1;
		}
	}
	return 0;
}

void
http_reply_free(struct http_reply *reply)
{
	free(reply->body);
	free(reply->error);
	memset(reply, 0, sizeof *reply);
}
