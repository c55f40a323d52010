/*
 * HTTP Basic against admin_user / admin_password_hash (COLLECTOR.md §6):
 * crypt(3) from libcrypt recomputes the hash of the presented password
 * with the stored one as setting, and the two are compared in constant
 * time, as are the user names.  The hash is computed even when the user
 * name is wrong, so that the time says nothing about which part failed.
 */
#include <crypt.h>
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "../../common/sha256.h"
#include "auth.h"

#define AUTH_MAX 1024		/* bytes of a decoded user:password */

/* Equal in constant time for equal lengths; lengths are not secret. */
static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard base64 (padding optional) into out (NUL-terminated); the
 * length, or -1 when not base64 or longer than outlen - 1. */
static long
b64_decode(const char *in, char *out, size_t outlen)
{
	unsigned v = 0;
	int bits = 0;
	size_t j = 0;

	for (; *in != '\0' && *in != '='; in++) {
		int d = b64_value((unsigned char)*in);
		if (d < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (j + 1 >= outlen)
				return -1;
			out[j++] = (char)((v >> bits) & 0xff);
		}
	}
	while (*in == '=')
		in++;
	if (*in != '\0')
		return -1;
	out[j] = '\0';
	return (long)j;
}

bool
auth_check(const struct collector_config *cfg, const char *authorization)
{
	const char *hash = cfg->admin_password_hash;
	const char *user = cfg->admin_user != NULL ? cfg->admin_user : "";
	char creds[AUTH_MAX];
	struct crypt_data *cd;
	const char *colon, *got;
	long len;
	bool user_ok, pass_ok;

	if (hash == NULL || hash[0] == '\0' || authorization == NULL)
		return false;
	while (*authorization == ' ')
		authorization++;
	if (strncasecmp(authorization, "Basic", 5) != 0 ||
	    (authorization[5] != ' ' && authorization[5] != '\t'))
		return false;
	authorization += 5;
	while (*authorization == ' ' || *authorization == '\t')
		authorization++;
	len = b64_decode(authorization, creds, sizeof creds);
	if (len < 0 || memchr(creds, '\0', (size_t)len) != NULL)
		return false;
	colon = strchr(creds, ':');
	if (colon == NULL)
		return false;
	user_ok = same(creds, (size_t)(colon - creds), user, strlen(user));

	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return false;
	got = crypt_rn(colon + 1, hash, cd, (int)sizeof *cd);
	/* A failed crypt returns NULL or a string starting with '*'. */
	pass_ok = got != NULL && got[0] != '*' &&
	    same(got, strlen(got), hash, strlen(hash));
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	explicit_bzero(creds, sizeof creds);
	return user_ok && pass_ok;
}

/* ---- off the request threads: a cache and one checker ------------------
 *
 * A successful check is remembered as the SHA-256 of the whole
 * Authorization header for AUTH_CACHE_SECONDS (monotonic), so that a
 * browser's next page costs no crypt(3); a miss or a wrong password goes
 * to the checker thread, one check at a time, behind a queue of at most
 * AUTH_QUEUE_MAX.  So at most one crypt(3) runs at any moment, and never
 * on a thread that answers requests.
 */

struct cached {
	uint8_t digest[SHA256_LEN];
	long long until_ms;		/* 0: empty */
};

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cond = PTHREAD_COND_INITIALIZER;
static struct cached cache[AUTH_CACHE_SIZE];
static struct api_request *queue_head, *queue_tail;
static int queued;
static pthread_once_t checker_once = PTHREAD_ONCE_INIT;
static bool checker_running;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the header passed a check recently: every slot compared in
 * constant time, whatever matches. */
static bool
cache_hit(const char *header)
{
	uint8_t d[SHA256_LEN];
	long long now = now_ms();
	bool hit = false;

	sha256(header, strlen(header), d);
	pthread_mutex_lock(&auth_lock);
	for (int i = 0; i < AUTH_CACHE_SIZE; i++) {
		unsigned char diff = 0;
		for (int j = 0; j < SHA256_LEN; j++)
			diff |= cache[i].digest[j] ^ d[j];
		hit |= diff == 0 && cache[i].until_ms > now;
	}
	pthread_mutex_unlock(&auth_lock);
	explicit_bzero(d, sizeof d);
	return hit;
}

/* Remember a header that passed, in the slot that ends first. */
static void
cache_add(const char *header)
{
	struct cached *slot = &cache[0];

	pthread_mutex_lock(&auth_lock);
	for (int i = 1; i < AUTH_CACHE_SIZE; i++)
		if (cache[i].until_ms < slot->until_ms)
			slot = &cache[i];
	sha256(header, strlen(header), slot->digest);
	slot->until_ms = now_ms() + AUTH_CACHE_SECONDS * 1000LL;
	pthread_mutex_unlock(&auth_lock);
}

static void *
checker_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct api_request *req;
		bool ok;

		pthread_mutex_lock(&auth_lock);
		while (queue_head == NULL)
			pthread_cond_wait(&auth_cond, &auth_lock);
		req = queue_head;
		queue_head = req->auth_next;
		if (queue_head == NULL)
			queue_tail = NULL;
		pthread_mutex_unlock(&auth_lock);

		ok = auth_check(req->app->cfg, req->authorization);
		if (ok)
			cache_add(req->authorization);
		else
			rate_limits_login_failed(req->app->limits, req->client,
			    req->now);
		req->auth_state = ok ? AUTH_OK : AUTH_FAILED;
		pthread_mutex_lock(&auth_lock);
		queued--;		/* the slot is free once the check is done */
		pthread_mutex_unlock(&auth_lock);
		req->auth_done(req);
	}
	return NULL;
}

static void
checker_start(void)
{
	pthread_t t;
	pthread_attr_t attr;

	/* Detached: it waits for work as long as the process runs. */
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	checker_running = pthread_create(&t, &attr, checker_main, NULL) == 0;
	pthread_attr_destroy(&attr);
}

bool
auth_gate(struct api_request *req)
{
	const struct collector_config *cfg = req->app->cfg;
	long wait;

	if (!auth_configured(cfg)) {
		api_error(&req->resp, 404, "not found");
		return false;
	}
	if (req->auth_state == AUTH_OK)
		return true;
	wait = rate_limits_login_wait(req->app->limits, req->client, req->now);
	if (wait > 0) {
		req->resp.retry_after = wait;
		api_error(&req->resp, 429, "too many wrong passwords from this address");
		return false;
	}
	if (req->authorization == NULL) {
		req->resp.www_authenticate = AUTH_CHALLENGE;
		api_error(&req->resp, 401, "authentication required");
		return false;
	}
	if (cache_hit(req->authorization))
		return true;
	req->auth_state = AUTH_PENDING;
	return false;
}

void
auth_submit(struct api_request *req)
{
	bool full;

	pthread_once(&checker_once, checker_start);
	pthread_mutex_lock(&auth_lock);
	full = !checker_running || queued >= AUTH_QUEUE_MAX;
	if (!full) {
		queued++;
		req->auth_next = NULL;
		if (queue_tail != NULL)
			queue_tail->auth_next = req;
		else
			queue_head = req;
		queue_tail = req;
		pthread_cond_signal(&auth_cond);
	}
	pthread_mutex_unlock(&auth_lock);
	if (full) {
		req->resp.retry_after = 1;
		api_error(&req->resp, 503, "too many password checks at once");
		req->auth_state = AUTH_FAILED;
		req->auth_done(req);
	}
}

int
auth_hash_password(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *got;
	int rc = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, salt, (int)sizeof salt) == NULL)
		return -1;
	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return -1;
	got = crypt_rn(password, salt, cd, (int)sizeof *cd);
	if (got != NULL && got[0] != '*' && strlen(got) < outlen) {
		memcpy(out, got, strlen(got) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

#define PASSWORD_MAX 1024	/* bytes of a line, its end included */

/* The line in line[0..n) (n bytes read, its end perhaps among them) made a
 * password: cut at the line end; BAD_INPUT when empty or too long. */
static enum auth_hash_result
take_line(char *line, size_t size, size_t n, char *err, size_t errlen)
{
	size_t len = strcspn(line, "\r\n");

	if (len == n && n >= size - 1) {
		snprintf(err, errlen, "password longer than %zu bytes", size - 2);
		return AUTH_HASH_BAD_INPUT;
	}
	line[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "empty password");
		return AUTH_HASH_BAD_INPUT;
	}
	return AUTH_HASH_OK;
}

/* Not a terminal: one line from in, as a script pipes it. */
static enum auth_hash_result
read_plain(FILE *in, char *line, size_t size, char *err, size_t errlen)
{
	if (fgets(line, (int)size, in) == NULL) {
		snprintf(err, errlen, "no password on stdin");
		return AUTH_HASH_BAD_INPUT;
	}
	return take_line(line, size, strlen(line), err, errlen);
}

static volatile sig_atomic_t prompt_signal;

static void
on_prompt_signal(int sig)
{
	prompt_signal = sig;
}

/* The signals that would stop the process while the terminal does not
 * echo: caught (without SA_RESTART, so that read(2) returns) while the
 * prompt waits, so that the terminal is restored before anything else. */
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
    SIGTSTP };
#define N_PROMPT_SIGNALS (sizeof prompt_signals / sizeof prompt_signals[0])

/* A terminal: "prompt" on stderr, one line read from fd with ECHO off.  The
 * terminal's settings and the signals' actions are put back on every path
 * (a signal during the prompt ends it as BAD_INPUT, "interrupted"). */
static enum auth_hash_result
read_hidden(int fd, const char *prompt, char *line, size_t size, char *err,
    size_t errlen)
{
	struct termios saved, quiet;
	struct sigaction sa, old[N_PROMPT_SIGNALS];
	size_t n = 0;
	ssize_t got = 1;
	enum auth_hash_result r;

	if (tcgetattr(fd, &saved) < 0) {
		snprintf(err, errlen, "terminal: %s", strerror(errno));
		return AUTH_HASH_BAD_INPUT;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_prompt_signal;
	sigemptyset(&sa.sa_mask);
	prompt_signal = 0;
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt shows: what is typed once it is seen is
	 * never echoed.  TCSANOW, not TCSAFLUSH: a line typed ahead is kept. */
	if (tcsetattr(fd, TCSANOW, &quiet) < 0) {
		snprintf(err, errlen, "terminal: %s", strerror(errno));
		r = AUTH_HASH_BAD_INPUT;
		goto out;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	/* Canonical mode: each read(2) returns at most one line. */
	while (prompt_signal == 0 && n < size - 1) {
		got = read(fd, line + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (line[n - 1] == '\n')
			break;
	}
	line[n] = '\0';
	if (prompt_signal != 0) {
		snprintf(err, errlen, "interrupted (%s)", strsignal(prompt_signal));
		r = AUTH_HASH_BAD_INPUT;
	} else if (got < 0) {
		snprintf(err, errlen, "terminal: %s", strerror(errno));
		r = AUTH_HASH_BAD_INPUT;
	} else if (n == 0) {
		snprintf(err, errlen, "no password on the terminal");
		r = AUTH_HASH_BAD_INPUT;
	} else {
		r = take_line(line, size, n, err, errlen);
	}
out:
	tcsetattr(fd, TCSANOW, &saved);
	fputc('\n', stderr);
	fflush(stderr);
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	if (r != AUTH_HASH_OK)
		explicit_bzero(line, size);
	return r;
}

enum auth_hash_result
auth_hash_stdin(FILE *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char line[PASSWORD_MAX], again[PASSWORD_MAX];
	enum auth_hash_result r;
	int fd = fileno(in);

	if (isatty(fd)) {
		r = read_hidden(fd, "Password: ", line, sizeof line, err,
		    errlen);
		if (r == AUTH_HASH_OK) {
			r = read_hidden(fd, "Again: ", again, sizeof again,
			    err, errlen);
			if (r == AUTH_HASH_OK && strcmp(line, again) != 0) {
				snprintf(err, errlen, "the two passwords differ");
				r = AUTH_HASH_BAD_INPUT;
			}
			explicit_bzero(again, sizeof again);
		}
	} else {
		r = read_plain(in, line, sizeof line, err, errlen);
	}
	if (r != AUTH_HASH_OK) {
		explicit_bzero(line, sizeof line);
		return r;
	}
	r = auth_hash_password(line, out, outlen) == 0 ? AUTH_HASH_OK :
	    AUTH_HASH_FAILED;
	explicit_bzero(line, sizeof line);
	if (r != AUTH_HASH_OK)
		snprintf(err, errlen, "libcrypt could not hash it");
	return r;
}
