/*
 * bench/loadgen.c: a load generator for beacon-collector that speaks the
 * protocol of COLLECTOR.md section 3 the way beacon-report does.
 *
 *   loadgen --url https://127.0.0.1:PORT[/prefix] --cacert CA.pem
 *           [--concurrency C] [--pbxs N] [--requests R | --seconds D]
 *           [--modules module_show.txt] [--seed-ids FILE]
 *           [--fixed-path PATH] [--register-status CODE]
 *           [--timeout S] [--max-seconds S] [--workers W]
 *
 * N simulated PBXs, at most C requests in flight.  Every request is a new
 * TCP and TLS connection (a fresh easy handle, CURLOPT_FRESH_CONNECT and
 * CURLOPT_FORBID_REUSE, no TLS session cache), as each cron run of
 * beacon-report is a new process.  A PBX has at most one request in flight,
 * so updates of one server never race.
 *
 * Phase 1 (not measured): every PBX without an id registers with
 * POST /servers and expects 201 with {"server":{"id"},"token":{"id","issued"}}.
 * --seed-ids FILE reads "id token" lines of servers stored beforehand
 * (seeded into the database) instead.
 * Phase 2 (measured): PUT /servers/ID?tokenId=T with a report of its own
 * id, keeping the token of each answer.  A 401 or 404 makes that PBX
 * register again (as beacon-report does); it counts as an error.
 * --fixed-path PATH: no registration; every request is a PUT of the same
 * report to URL+PATH and any 2xx counts (the TLS+HTTP ceiling, nginx).
 *
 * The report: ~330 modules parsed from an `asterisk -rx "module show"`
 * capture (--modules; else 330 made-up ones), built once as a template;
 * each request sends it with its own PBX's id written into it.
 *
 * Prints one JSON line on stdout: requests, ok, errors by status (or
 * "curl_N" for a transport failure), reports/s, latency p50/p95/p99/max in
 * ms (CURLINFO_TOTAL_TIME of each request that got an HTTP answer, from the
 * start of the transfer, connect and handshake included, to its end).
 * It stops by itself: after R requests or D seconds, and never later than
 * --max-seconds (default 600).  Only https://127.x.x.x targets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <jansson.h>

#define ID_PLACEHOLDER "00000000-0000-4000-8000-000000000000"
#define ID_MAX 64
#define RESP_MAX (64 * 1024)

enum kind { REGISTER, UPDATE, FIXED };

struct pbx {
	char id[ID_MAX + 1];
	char token[ID_MAX + 1];
	int registered;
	int busy;
};

struct buf {
	char *data;
	size_t len;
	int overflow;
};

struct xfer {
	CURLM *multi;
	CURL *easy;
	struct pbx *pbx;
	enum kind kind;
	char *body;		/* this slot's copy of the template */
	struct buf resp;
	int in_use;
	int measured;
	double pair_ms;		/* --new-pbxs: the POST's time, added to its PUT's */
};

struct stats {
	uint64_t requests, ok, http_answers, connects;
	uint64_t put_connects;	/* --new-pbxs: new connections of the PUTs (0) */
	uint64_t status[600];
	uint64_t curl_err[100];
	uint64_t bad_answer;	/* 2xx whose body is not the protocol's */
	uint64_t reregistered;	/* POSTs of phase 2, after a 401 or 404 */
	double *lat;
	size_t nlat, caplat;
};

static struct {
	const char *url, *cacert, *modules, *seed_ids, *fixed_path, *save_ids;
	long concurrency, pbxs, requests, register_status, workers;
	int new_pbxs;
	double seconds, timeout, max_seconds;
} opt = {
	.concurrency = 100, .workers = 1, .pbxs = 0, .requests = 0, .register_status = 201,
	.seconds = 0, .timeout = 30, .max_seconds = 600,
};

static char *template;		/* the report, with ID_PLACEHOLDER as id */
static size_t template_len, id_offset;
static struct curl_slist *headers;
static char *base;		/* opt.url without a trailing '/' */

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "loadgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
parse_long(const char *s, const char *name, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		die("bad number for", name);
	return v;
}

static double
parse_double(const char *s, const char *name)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0))
		die("bad number for", name);
	return v;
}

static void
usage(void)
{
	fputs("usage: loadgen --url https://127.x.x.x:PORT[/prefix] --cacert FILE\n"
	    "  [--concurrency C] [--pbxs N] [--requests R | --seconds D]\n"
	    "  [--modules module_show.txt] [--seed-ids FILE] [--fixed-path PATH]\n"
	    "  [--register-status CODE] [--timeout S] [--max-seconds S] [--workers W]\n"
	    "  [--new-pbxs] [--save-ids FILE]\n", stderr);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			usage();
		if (strcmp(a, "--new-pbxs") == 0) {
			opt.new_pbxs = 1;
			continue;
		}
		if (v == NULL)
			die("missing value for", a);
		i++;
		if (strcmp(a, "--url") == 0)
			opt.url = v;
		else if (strcmp(a, "--cacert") == 0)
			opt.cacert = v;
		else if (strcmp(a, "--modules") == 0)
			opt.modules = v;
		else if (strcmp(a, "--seed-ids") == 0)
			opt.seed_ids = v;
		else if (strcmp(a, "--fixed-path") == 0)
			opt.fixed_path = v;
		else if (strcmp(a, "--save-ids") == 0)
			opt.save_ids = v;
		else if (strcmp(a, "--concurrency") == 0)
			opt.concurrency = parse_long(v, a, 1);
		else if (strcmp(a, "--workers") == 0)
			opt.workers = parse_long(v, a, 1);
		else if (strcmp(a, "--pbxs") == 0)
			opt.pbxs = parse_long(v, a, 1);
		else if (strcmp(a, "--requests") == 0)
			opt.requests = parse_long(v, a, 1);
		else if (strcmp(a, "--register-status") == 0)
			opt.register_status = parse_long(v, a, 200);
		else if (strcmp(a, "--seconds") == 0)
			opt.seconds = parse_double(v, a);
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout = parse_double(v, a);
		else if (strcmp(a, "--max-seconds") == 0)
			opt.max_seconds = parse_double(v, a);
		else
			die("unknown option", a);
	}
	if (opt.url == NULL || opt.cacert == NULL)
		usage();
	if (opt.requests > 0 && opt.seconds > 0)
		die("--requests and --seconds exclude each other", NULL);
	if (opt.requests == 0 && opt.seconds == 0 && opt.save_ids == NULL)
		opt.seconds = 10;
	if (opt.seconds > opt.max_seconds)
		die("--seconds is over --max-seconds", NULL);
	if (opt.fixed_path != NULL && opt.fixed_path[0] != '/')
		die("--fixed-path must start with /", opt.fixed_path);
	if (opt.fixed_path != NULL && opt.seed_ids != NULL)
		die("--fixed-path and --seed-ids exclude each other", NULL);
	if (opt.new_pbxs && (opt.fixed_path != NULL || opt.seed_ids != NULL))
		die("--new-pbxs excludes --fixed-path and --seed-ids", NULL);
	if (opt.save_ids != NULL && (opt.new_pbxs || opt.fixed_path != NULL ||
	    opt.seed_ids != NULL || opt.requests > 0 || opt.seconds > 0))
		die("--save-ids registers only: no --new-pbxs, --fixed-path,"
		    " --seed-ids, --requests or --seconds", NULL);
	if (opt.workers > 64)
		die("--workers is over 64", NULL);
	if (opt.concurrency > 20000)
		die("--concurrency is over 20000", NULL);
}

/* https only, and the host a literal 127.0.0.0/8 address. */
static void
check_target(void)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	struct in_addr a;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, opt.url, 0) != CURLUE_OK)
		die("not a URL", opt.url);
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcmp(scheme, "https") != 0)
		die("only https:// URLs", opt.url);
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    inet_pton(AF_INET, host, &a) != 1 ||
	    (ntohl(a.s_addr) >> 24) != 127)
		die("refusing a target outside 127.0.0.0/8", opt.url);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (strchr(opt.url, '?') != NULL || strchr(opt.url, '#') != NULL)
		die("--url takes no query", opt.url);
	base = strdup(opt.url);
	if (base == NULL)
		die("out of memory", NULL);
	for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
}

/* ---- the report ---------------------------------------------------------- */

static int
add_module(json_t *mods, const char *name, const char *descr,
    const char *status, const char *level)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:s}", "name", name,
	    "description", descr, "status", status, "support_level", level);

	return m == NULL || json_array_append_new(mods, m) != 0;
}

/*
 * `module show` lines: NAME DESCRIPTION... USECOUNT STATUS LEVEL; the
 * header and the "N modules loaded" trailer are skipped.
 */
static void
load_modules(json_t *mods)
{
	FILE *f;
	char line[1024];

	if (opt.modules == NULL) {
		for (int i = 0; i < 330; i++) {
			char name[32], descr[64];

			snprintf(name, sizeof name, "res_module_%03d.so", i);
			snprintf(descr, sizeof descr, "Made-up module number %d of the load test", i);
			if (add_module(mods, name, descr, "Running", i % 3 ? "core" : "extended"))
				die("out of memory", NULL);
		}
		return;
	}
	if ((f = fopen(opt.modules, "r")) == NULL)
		die("cannot read --modules", opt.modules);
	while (fgets(line, sizeof line, f) != NULL) {
		char *w[64], *save = NULL, *t;
		int n = 0;
		char descr[512] = "";

		for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 64;
		    t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (n < 5 || strcmp(w[0], "Module") == 0)
			continue;
		for (int i = 1; i < n - 3; i++) {
			if (i > 1)
				strncat(descr, " ", sizeof descr - strlen(descr) - 1);
			strncat(descr, w[i], sizeof descr - strlen(descr) - 1);
		}
		if (add_module(mods, w[0], descr, w[n - 2], w[n - 1]))
			die("out of memory", NULL);
	}
	fclose(f);
	if (json_array_size(mods) == 0)
		die("no modules in", opt.modules);
}

/* The Server JSON as beacon-report sends it, "id" first. */
static void
build_template(void)
{
	json_t *mods = json_array(), *root;
	char *at;

	if (mods == NULL)
		die("out of memory", NULL);
	load_modules(mods);
	root = json_pack("{s:s, s:{s:{s:s, s:s}, s:o, s:{s:{s:s, s:s}, s:{s:i, s:i}}},"
	    " s:{s:s, s:s, s:s, s:s, s:i, s:i, s:i}, s:s}",
	    "id", ID_PLACEHOLDER,
	    "asterisk",
	    "version", "name", "Asterisk 22.10.1", "number", "22.10.1",
	    "modules", mods,
	    "stats", "run_time", "startup_time", "2026-11-20T08:00:00Z",
	    "last_reload_time", "2026-11-21T08:00:00Z",
	    "calls", "active", 2, "processed", 1238,
	    "operating_system", "sys_name", "Linux", "release", "6.1.0-28-amd64",
	    "version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
	    "machine", "x86_64", "cpu_count", 4, "memory_total_kb", 8123456,
	    "uptime", 86400,
	    "private_name", "loadgen PBX");
	if (root == NULL)
		die("cannot build the report", NULL);
	template = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (template == NULL || (at = strstr(template, ID_PLACEHOLDER)) == NULL)
		die("cannot build the report", NULL);
	template_len = strlen(template);
	id_offset = (size_t)(at - template);
}

/* ---- the PBXs ------------------------------------------------------------ */

static int
id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F') || *s == '-'))
			return 0;
	return 1;
}

static struct pbx *
make_pbxs(long *count)
{
	long n = opt.pbxs > 0 ? opt.pbxs : opt.concurrency;
	struct pbx *p;

	if (opt.seed_ids != NULL) {
		FILE *f = fopen(opt.seed_ids, "r");
		char line[512];
		long have = 0, cap = opt.pbxs > 0 ? opt.pbxs : 1024;

		if (f == NULL)
			die("cannot read --seed-ids", opt.seed_ids);
		if ((p = calloc((size_t)cap, sizeof *p)) == NULL)
			die("out of memory", NULL);
		while ((opt.pbxs == 0 || have < opt.pbxs) &&
		    fgets(line, sizeof line, f) != NULL) {
			char id[512], tok[512];

			if (line[0] == '#' || line[0] == '\n')
				continue;
			if (sscanf(line, "%511s %511s", id, tok) != 2 ||
			    !id_ok(id) || !id_ok(tok) || strlen(id) != strlen(ID_PLACEHOLDER))
				die("--seed-ids: not an \"id token\" line", line);
			if (have == cap) {
				struct pbx *q = realloc(p, (size_t)cap * 2 * sizeof *p);

				if (q == NULL)
					die("out of memory", NULL);
				memset(q + cap, 0, (size_t)cap * sizeof *p);
				p = q;
				cap *= 2;
			}
			strcpy(p[have].id, id);
			strcpy(p[have].token, tok);
			p[have].registered = 1;
			have++;
		}
		fclose(f);
		if (have == 0 || (opt.pbxs > 0 && have < opt.pbxs))
			die("--seed-ids has fewer lines than --pbxs", opt.seed_ids);
		*count = have;
		return p;
	}
	if ((p = calloc((size_t)n, sizeof *p)) == NULL)
		die("out of memory", NULL);
	if (opt.fixed_path != NULL)
		for (long i = 0; i < n; i++) {
			/* a v4-shaped id of its own per PBX */
			snprintf(p[i].id, sizeof p[i].id,
			    "%08lx-0000-4000-8000-%012lx", (unsigned long)i, (unsigned long)i);
			p[i].registered = 1;
		}
	*count = n;
	return p;
}

/* ---- transfers ----------------------------------------------------------- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n > RESP_MAX) {
		b->overflow = 1;
		return 0;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * Point x's easy handle at its next request: the PBX's POST or PUT (or the
 * fixed path).  A new connection each time, as each cron run of
 * beacon-report is a new process, except that with --new-pbxs a POST keeps
 * its connection for the PUT that follows it: beacon-report's first run
 * registers and reports over one connection (one multi handle, one
 * connection cache), and a bench that paid two handshakes there charged
 * the server one more than a PBX costs it.
 */
static void
aim(struct xfer *x, int chained)
{
	char url[4096];
	CURL *e = x->easy;
	struct pbx *p = x->pbx;
	CURLcode rc = CURLE_OK;

	x->resp.len = 0;
	x->resp.overflow = 0;
	x->resp.data[0] = '\0';
	if (opt.fixed_path != NULL) {
		x->kind = FIXED;
		snprintf(url, sizeof url, "%s%s", base, opt.fixed_path);
	} else if (!p->registered) {
		x->kind = REGISTER;
		snprintf(url, sizeof url, "%s/servers", base);
	} else {
		char *tok = curl_easy_escape(e, p->token, 0);

		x->kind = UPDATE;
		if (tok == NULL)
			die("out of memory", NULL);
		snprintf(url, sizeof url, "%s/servers/%s?tokenId=%s", base, p->id, tok);
		curl_free(tok);
	}
#define SET(o, v) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, o, v); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_FRESH_CONNECT, chained ? 0L : 1L);
	SET(CURLOPT_FORBID_REUSE, opt.new_pbxs && x->kind == REGISTER ? 0L : 1L);
	if (x->kind == REGISTER) {
		SET(CURLOPT_POSTFIELDS, "");
		SET(CURLOPT_POSTFIELDSIZE, 0L);
		SET(CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		memcpy(x->body + id_offset, p->id, strlen(ID_PLACEHOLDER));
		SET(CURLOPT_POSTFIELDS, x->body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)template_len);
		SET(CURLOPT_CUSTOMREQUEST, "PUT");
	}
#undef SET
	if (rc != CURLE_OK)
		die("curl_easy_setopt failed", curl_easy_strerror(rc));
	if (curl_multi_add_handle(x->multi, e) != CURLM_OK)
		die("curl_multi_add_handle failed", NULL);
}

static void
start(CURLM *multi, struct xfer *x, struct pbx *p, int measured)
{
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (e == NULL)
		die("curl_easy_init failed", NULL);
	x->easy = e;
	x->multi = multi;
	x->pbx = p;
	x->in_use = 1;
	x->measured = measured;
	x->pair_ms = 0;
	p->busy = 1;
#define SET(o, v) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, o, v); } while (0)
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	SET(CURLOPT_TIMEOUT_MS, (long)(opt.timeout * 1000));
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(opt.timeout * 1000));
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_CAINFO, opt.cacert);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* no resumption: a cron run has no session of an earlier run */
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_USERAGENT, "beacon-loadgen/1");
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &x->resp);
#undef SET
	if (rc != CURLE_OK)
		die("curl_easy_setopt failed", curl_easy_strerror(rc));
	aim(x, 0);
}

static void
record_latency(struct stats *s, double ms)
{
	if (s->nlat == s->caplat) {
		size_t cap = s->caplat ? s->caplat * 2 : 65536;
		double *l = realloc(s->lat, cap * sizeof *l);

		if (l == NULL)
			die("out of memory", NULL);
		s->lat = l;
		s->caplat = cap;
	}
	s->lat[s->nlat++] = ms;
}

/* Copy a string member at a JSON path into dst; 0 on success. */
static int
take_id(json_t *obj, const char *outer, char *dst)
{
	json_t *v;

	if (outer != NULL)
		obj = json_object_get(obj, outer);
	v = json_object_get(obj, "id");
	if (!json_is_string(v) || !id_ok(json_string_value(v)))
		return -1;
	strcpy(dst, json_string_value(v));
	return 0;
}

/*
 * The answer of one finished transfer; returns 1 when it was "ok", 2 when
 * it was a --new-pbxs POST that went well: its PUT comes next, on the same
 * handle and connection, and the pair counts as one report (its latency is
 * the sum of the two).
 */
static int
finish(struct xfer *x, CURLcode res, struct stats *s)
{
	long status = 0, nconn = 0;
	curl_off_t total_us = 0;
	struct pbx *p = x->pbx;
	int ok = 0, bad = 0;
	int pair = opt.new_pbxs && x->measured;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	s->connects += (uint64_t)nconn;
	if (pair && x->kind == UPDATE)
		s->put_connects += (uint64_t)nconn;
	if (pair && x->kind == REGISTER && res == CURLE_OK &&
	    status == opt.register_status) {
		json_t *j = json_loadb(x->resp.data, x->resp.len, 0, NULL);

		if (j != NULL && take_id(j, "server", p->id) == 0 &&
		    take_id(j, "token", p->token) == 0 &&
		    strlen(p->id) == strlen(ID_PLACEHOLDER)) {
			json_decref(j);
			p->registered = 1;
			x->pair_ms = (double)total_us / 1000.0;
			return 2;
		}
		json_decref(j);
	}
	s->requests++;
	if (res != CURLE_OK || status == 0) {
		s->curl_err[res < 100 ? res : 99]++;
		return 0;
	}
	s->http_answers++;
	record_latency(s, x->pair_ms + (double)total_us / 1000.0);
	if (status < 0 || status >= 600)
		status = 599;
	if (x->kind == FIXED) {
		ok = status >= 200 && status < 300;
	} else if (x->kind == REGISTER && status == opt.register_status) {
		json_t *j = json_loadb(x->resp.data, x->resp.len, 0, NULL);
		json_t *tok = json_object_get(j, "token");

		if (j != NULL && take_id(j, "server", p->id) == 0 &&
		    take_id(j, "token", p->token) == 0 &&
		    json_is_string(json_object_get(tok, "issued")) &&
		    strlen(p->id) == strlen(ID_PLACEHOLDER)) {
			p->registered = 1;
			ok = 1;
		} else {
			bad = 1;
		}
		json_decref(j);
	} else if (x->kind == UPDATE && status == 200) {
		json_t *j = json_loadb(x->resp.data, x->resp.len, 0, NULL);

		if (j != NULL && take_id(j, NULL, p->token) == 0 &&
		    json_is_string(json_object_get(j, "issued")))
			ok = 1;
		else
			bad = 1;
		json_decref(j);
	} else if (x->kind == UPDATE && (status == 401 || status == 404)) {
		p->registered = 0;	/* beacon-report asks for a new id */
	}
	if (pair)
		p->registered = 0;	/* its next turn is a new PBX again */
	if (ok && x->kind == REGISTER && x->measured)
		s->reregistered++;	/* a new id, not a report */
	else if (ok)
		s->ok++;
	else if (bad)
		s->bad_answer++;
	else
		s->status[status]++;
	return ok;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
pct(const struct stats *s, double q)
{
	size_t i;

	if (s->nlat == 0)
		return 0;
	i = (size_t)(q * (double)(s->nlat - 1) + 0.5);
	return s->lat[i < s->nlat ? i : s->nlat - 1];
}

static json_t *
errors_json(const struct stats *s)
{
	json_t *e = json_object();
	char k[32];

	for (int i = 0; i < 600; i++)
		if (s->status[i]) {
			snprintf(k, sizeof k, "%d", i);
			json_object_set_new(e, k, json_integer((json_int_t)s->status[i]));
		}
	for (int i = 0; i < 100; i++)
		if (s->curl_err[i]) {
			snprintf(k, sizeof k, "curl_%d", i);
			json_object_set_new(e, k, json_integer((json_int_t)s->curl_err[i]));
		}
	if (s->bad_answer)
		json_object_set_new(e, "bad_answer", json_integer((json_int_t)s->bad_answer));
	return e;
}

/*
 * Run transfers with at most conc in flight.  measured: phase 2 (stop after
 * R requests or D seconds); otherwise register every PBX that has no id
 * yet.  Returns the seconds it took; *aborted says it hit --max-seconds.
 */
static double
run(CURLM *multi, struct xfer *xs, long conc, struct pbx *pbxs, long npbx,
    int measured, struct stats *s, double hard_end, int *aborted)
{
	double t0 = now_s(), end = measured && opt.seconds > 0 ? t0 + opt.seconds : 0;
	long started = 0, inflight = 0, cursor = 0, to_register = 0;

	if (!measured)
		for (long i = 0; i < npbx; i++)
			to_register += !pbxs[i].registered;
	for (;;) {
		double t = now_s();
		int more, done;
		CURLMsg *m;
		int left;

		if (t >= hard_end) {
			*aborted = 1;
			break;
		}
		/* start as many as allowed */
		for (;;) {
			struct pbx *p = NULL;

			if (inflight >= conc)
				break;
			if (measured) {
				if (opt.requests > 0 ? started >= opt.requests : t >= end)
					break;
				for (long k = 0; k < npbx; k++) {
					struct pbx *q = &pbxs[(cursor + k) % npbx];

					if (!q->busy) {
						p = q;
						cursor = (cursor + k + 1) % npbx;
						break;
					}
				}
			} else {
				if (started >= to_register)
					break;
				while (cursor < npbx && pbxs[cursor].registered)
					cursor++;
				if (cursor < npbx)
					p = &pbxs[cursor++];
			}
			if (p == NULL)
				break;
			for (long k = 0; k < conc; k++)
				if (!xs[k].in_use) {
					start(multi, &xs[k], p, measured);
					break;
				}
			started++;
			inflight++;
		}
		if (inflight == 0)
			break;
		curl_multi_perform(multi, &more);
		done = 0;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			done++;
			if (finish(x, m->data.result, s) == 2) {
				curl_multi_remove_handle(multi, x->easy);
				aim(x, 1);	/* its PUT, on the POST's connection */
				continue;
			}
			curl_multi_remove_handle(multi, x->easy);
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
			x->in_use = 0;
			x->pbx->busy = 0;
			inflight--;
		}
		/* Wait only when nothing ended: after an end, start the next
		 * transfer at once (a wait of up to 50 ms here held every slot
		 * that had just finished: 14 reports/s at --concurrency 1). */
		if (done == 0)
			curl_multi_poll(multi, NULL, 0, 50, NULL);
	}
	if (*aborted)
		for (long k = 0; k < conc; k++)
			if (xs[k].in_use) {
				curl_multi_remove_handle(multi, xs[k].easy);
				curl_easy_cleanup(xs[k].easy);
				xs[k].in_use = 0;
				xs[k].pbx->busy = 0;
			}
	return now_s() - t0;
}

/* What one worker process found; sent to the parent over a pipe. */
struct result {
	struct stats reg, put;
	double reg_s, put_s;
	int aborted;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * One worker: its share of the PBXs and of the concurrency, its own multi
 * handle.  Registers, says so on ready_fd, waits for go_fd to close (all
 * workers start the measured phase together), then measures.
 */
static void
worker(struct pbx *pbxs, long npbx, long conc, double hard_end,
    int ready_fd, int go_fd, struct result *r)
{
	struct xfer *xs = calloc((size_t)conc, sizeof *xs);
	CURLM *multi = curl_multi_init();
	char c = 'r';

	if (xs == NULL || multi == NULL)
		die("out of memory", NULL);
	for (long k = 0; k < conc; k++) {
		xs[k].body = malloc(template_len + 1);
		xs[k].resp.data = malloc(RESP_MAX + 1);
		if (xs[k].body == NULL || xs[k].resp.data == NULL)
			die("out of memory", NULL);
		memcpy(xs[k].body, template, template_len + 1);
	}
	/* --new-pbxs: a POST's connection waits in the cache for its PUT; the
	 * room keeps the cache from closing it for another PBX's connect. */
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opt.new_pbxs ? 2 * conc : conc);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 2 * conc);
	if (opt.fixed_path == NULL && !opt.new_pbxs) {
		r->reg_s = run(multi, xs, conc, pbxs, npbx, 0, &r->reg, hard_end, &r->aborted);
		if (r->reg.ok != r->reg.requests) {
			/* no measured phase on a collector that does not register */
			fprintf(stderr, "loadgen: %" PRIu64 " of %" PRIu64
			    " registrations failed: no updates sent\n",
			    r->reg.requests - r->reg.ok, r->reg.requests);
			r->aborted = 1;
		}
	}
	if (ready_fd >= 0) {
		if (write_all(ready_fd, &c, 1) != 0)
			die("cannot talk to the parent", NULL);
		(void)read(go_fd, &c, 1);	/* EOF: go */
	}
	if (!r->aborted && opt.save_ids == NULL)
		r->put_s = run(multi, xs, conc, pbxs, npbx, 1, &r->put, hard_end, &r->aborted);
	for (long k = 0; k < conc; k++) {
		free(xs[k].body);
		free(xs[k].resp.data);
	}
	free(xs);
	curl_multi_cleanup(multi);
}

static void
add_stats(struct stats *to, const struct stats *from)
{
	to->requests += from->requests;
	to->ok += from->ok;
	to->http_answers += from->http_answers;
	to->connects += from->connects;
	to->put_connects += from->put_connects;
	to->bad_answer += from->bad_answer;
	to->reregistered += from->reregistered;
	for (int i = 0; i < 600; i++)
		to->status[i] += from->status[i];
	for (int i = 0; i < 100; i++)
		to->curl_err[i] += from->curl_err[i];
}

static double
cpu_seconds(void)
{
	struct rusage a, b;

	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec +
	    b.ru_stime.tv_sec) + (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec +
	    b.ru_utime.tv_usec + b.ru_stime.tv_usec) / 1e6;
}

/*
 * --workers W > 1: W processes (the TLS client work of one process, a new
 * SSL_CTX per connection with OpenSSL 3, saturates one core before a
 * server does); each sends its result and its latencies back over a pipe.
 */
static void
run_workers(struct pbx *pbxs, long npbx, long conc, long nw, double hard_end,
    struct result *total)
{
	pid_t pid[64];
	int res_fd[64], ready_fd[64], go[2];
	long first = 0, requests = opt.requests;

	if (pipe(go) != 0)
		die("pipe failed", strerror(errno));
	fflush(NULL);
	for (long w = 0; w < nw; w++) {
		long n = npbx / nw + (w < npbx % nw), c = conc / nw + (w < conc % nw);
		int rp[2], dp[2];

		if (pipe(rp) != 0 || pipe(dp) != 0)
			die("pipe failed", strerror(errno));
		if ((pid[w] = fork()) < 0)
			die("fork failed", strerror(errno));
		if (pid[w] == 0) {
			struct result r;

			memset(&r, 0, sizeof r);
			close(go[1]);
			close(rp[0]);
			close(dp[0]);
			if (requests > 0)
				opt.requests = requests / nw + (w < requests % nw);
			worker(pbxs + first, n, c, hard_end, dp[1], go[0], &r);
			if (write_all(rp[1], &r, sizeof r) != 0 ||
			    write_all(rp[1], r.put.lat, r.put.nlat * sizeof *r.put.lat) != 0)
				_exit(3);
			_exit(0);
		}
		close(rp[1]);
		close(dp[1]);
		res_fd[w] = rp[0];
		ready_fd[w] = dp[0];
		first += n;
	}
	close(go[0]);
	for (long w = 0; w < nw; w++) {
		char c;

		(void)read_all(ready_fd[w], &c, 1);
		close(ready_fd[w]);
	}
	close(go[1]);		/* all registered: go */
	for (long w = 0; w < nw; w++) {
		struct result r;
		int st;

		if (read_all(res_fd[w], &r, sizeof r) != 0) {
			total->aborted = 1;
		} else {
			size_t nlat = r.put.nlat;

			add_stats(&total->reg, &r.reg);
			add_stats(&total->put, &r.put);
			for (size_t i = 0; i < nlat; i++) {
				double ms;

				if (read_all(res_fd[w], &ms, sizeof ms) != 0) {
					total->aborted = 1;
					break;
				}
				record_latency(&total->put, ms);
			}
			total->reg_s = r.reg_s > total->reg_s ? r.reg_s : total->reg_s;
			total->put_s = r.put_s > total->put_s ? r.put_s : total->put_s;
			total->aborted |= r.aborted;
		}
		close(res_fd[w]);
		if (waitpid(pid[w], &st, 0) != pid[w] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			total->aborted = 1;
	}
}

/*
 * --save-ids FILE: register the PBXs (not measured) and write their
 * "id token" lines for --seed-ids, so that a later run measures the
 * server's CPU for its reports alone.  Exit 0 only when all registered.
 */
static int
save_ids(const struct pbx *pbxs, long npbx, const struct result *res)
{
	FILE *f;
	int bad = res->aborted || res->reg.ok != res->reg.requests;

	if (bad) {
		fprintf(stderr, "loadgen: registration failed, %s not written\n", opt.save_ids);
		return 1;
	}
	if ((f = fopen(opt.save_ids, "w")) == NULL)
		die("cannot write --save-ids", opt.save_ids);
	for (long i = 0; i < npbx; i++)
		fprintf(f, "%s %s\n", pbxs[i].id, pbxs[i].token);
	if (fclose(f) != 0)
		die("cannot write --save-ids", opt.save_ids);
	printf("{\"registered\":%ld}\n", npbx);
	return 0;
}

int
main(int argc, char **argv)
{
	struct result res;
	struct stats *reg = &res.reg, *put = &res.put;
	struct pbx *pbxs;
	long npbx, conc, nw;
	json_t *out;
	char *line;
	double hard_end;

	memset(&res, 0, sizeof res);
	parse_args(argc, argv);
	check_target();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed", NULL);
	build_template();
	pbxs = make_pbxs(&npbx);
	conc = opt.concurrency < npbx ? opt.concurrency : npbx;
	nw = opt.workers < conc ? opt.workers : conc;
	if (opt.save_ids != NULL)
		nw = 1;		/* the ids come back in this process's pbxs */
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	headers = curl_slist_append(headers, "Expect:");
	if (headers == NULL)
		die("out of memory", NULL);

	hard_end = now_s() + opt.max_seconds;
	if (nw <= 1)
		worker(pbxs, npbx, conc, hard_end, -1, -1, &res);
	else
		run_workers(pbxs, npbx, conc, nw, hard_end, &res);
	qsort(put->lat, put->nlat, sizeof *put->lat, cmp_double);
	if (opt.save_ids != NULL)
		return save_ids(pbxs, npbx, &res);

	out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:f,"
	    " s:{s:f, s:f, s:f, s:f}, s:I, s:I, s:I, s:b, s:{s:I, s:I, s:o, s:f}, s:I, s:f}",
	    "mode", opt.fixed_path ? "fixed" : opt.seed_ids ? "seeded" :
	    opt.new_pbxs ? "new" : "register",
	    "concurrency", (json_int_t)conc, "pbxs", (json_int_t)npbx,
	    "workers", (json_int_t)(nw > 1 ? nw : 1),
	    "requests", (json_int_t)put->requests, "ok", (json_int_t)put->ok,
	    "failed", (json_int_t)(put->requests - put->ok),
	    "errors", errors_json(put),
	    "seconds", res.put_s,
	    "reports_per_s", res.put_s > 0 ? (double)put->ok / res.put_s : 0.0,
	    "latency_ms", "p50", pct(put, 0.50), "p95", pct(put, 0.95),
	    "p99", pct(put, 0.99), "max", put->nlat ? put->lat[put->nlat - 1] : 0.0,
	    "new_connections", (json_int_t)put->connects,
	    "put_new_connections", (json_int_t)put->put_connects,
	    "reregistered", (json_int_t)put->reregistered,
	    "aborted", res.aborted,
	    "registration", "requests", (json_int_t)reg->requests,
	    "ok", (json_int_t)reg->ok, "errors", errors_json(reg), "seconds", res.reg_s,
	    "body_bytes", (json_int_t)template_len,
	    "loadgen_cpu_s", cpu_seconds());
	if (out == NULL || (line = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))) == NULL)
		die("cannot print the result", NULL);
	puts(line);
	free(line);
	json_decref(out);
	free(pbxs);
	free(put->lat);
	free(reg->lat);
	free(template);
	free(base);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return res.aborted || reg->ok != reg->requests || put->ok != put->requests ||
	    put->requests == 0 ? 1 : 0;
}
