/* Requests on the wire: libcurl easy handles set up for the Beacon
 * protocol's transport rules (CONTRACT §6), run together over one multi
 * handle, each answer collected into a capped buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "../common/log.h"
#include "http.h"

#define HTTP_POLL_MS 1000	/* curl wakes us earlier when a request needs it */

/* The system's hashed CA directory, for a libcurl built without one. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* One request in flight; tied to its easy handle by CURLOPT_PRIVATE. */
struct http_request {
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;	/* the answer so far */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
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
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		log_error("cannot initialise libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
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
	free(req);
}

/*
 * Trust for server: the configured CA in addition to the system's, never
 * instead of it, so that a TLS-inspecting proxy's CA can be added without
 * losing the public ones.  With OpenSSL, CURLOPT_CAINFO replaces the
 * default bundle, so a CA file goes into CAINFO and the system's hashed
 * directory stays in CAPATH; a CA directory goes into CAPATH and the
 * default bundle stays in CAINFO.  A path that cannot be stat'ed is
 * treated as a file: libcurl then fails the request naming the problem.
 */
static CURLcode
set_trust(CURL *easy, const struct server_conf *server)
{
	struct stat st;
	CURLcode rc = CURLE_OK;

	if (!server->verify_cert) {
		rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
		return rc;
	}
	rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc != CURLE_OK || server->ca_path == NULL)
		return rc;
	if (stat(server->ca_path, &st) == 0 && S_ISDIR(st.st_mode))
		return curl_easy_setopt(easy, CURLOPT_CAPATH, server->ca_path);
	rc = curl_easy_setopt(easy, CURLOPT_CAINFO, server->ca_path);
	if (rc == CURLE_OK) {
		char *capath = NULL;

		/* keep the build's default directory, or name the system's */
		if (curl_easy_getinfo(easy, CURLINFO_CAPATH, &capath) != CURLE_OK ||
		    capath == NULL)
			rc = curl_easy_setopt(easy, CURLOPT_CAPATH, SYSTEM_CA_DIR);
	}
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
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT, (long)timeout);
	SET(CURLOPT_CONNECTTIMEOUT, connect);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_USERAGENT, "beacon-report/" VERSION);
	SET(CURLOPT_HTTPHEADER, req->headers);
	SET(CURLOPT_WRITEFUNCTION, write_body);
	SET(CURLOPT_WRITEDATA, req);
	/*
	 * Where the request goes depends on the configuration file alone:
	 * with no proxy configured, "" makes libcurl ignore https_proxy and
	 * friends in the environment (cron's environment is not the admin's).
	 */
	SET(CURLOPT_PROXY, server->proxy != NULL ? server->proxy : "");
	/* the body: PUT sends it through the POST machinery with its verb */
	SET(CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	SET(CURLOPT_COPYPOSTFIELDS, body != NULL ? body : "");
	if (strcmp(req->method, "POST") != 0)
		SET(CURLOPT_CUSTOMREQUEST, req->method);
#undef SET
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
		reply->failed = true;
		reply->error = text_sanitize(text, strlen(text), 300);
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
http_multi_next(struct http_multi *m, void **owner, struct http_reply *reply)
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
		mc = curl_multi_poll(m->multi, NULL, 0, HTTP_POLL_MS, NULL);
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
