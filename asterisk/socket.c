/* Asking Asterisk over its control socket (asterisk.ctl), the way
 * `asterisk -rx` itself does (main/asterisk.c, ast_remotecontrol and
 * netconsole): connect, read the one-line greeting ("host/pid/version",
 * never kept: it names the host), send "cli quit after COMMAND" and a
 * NUL, read until Asterisk closes the connection, and drop the console's
 * verbose lines by their first byte.  Every command of a batch has its
 * own connection, all in one poll loop under one deadline; each answer
 * is capped at ASTERISK_OUTPUT_CAP like the process's stdout. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "asterisk.h"

#define GREETING_MAX 1024	/* "host/pid/version\n"; longer is not one */
#define CONNECT_RETRY_MS 5	/* a full listen backlog: try again soon */

enum conn_state {
	CONN_RETRY,		/* connect said EAGAIN: the backlog is full */
	CONN_GREETING,		/* reading the greeting line */
	CONN_SENDING,		/* writing "cli quit after ...\0" */
	CONN_READING,		/* reading the answer until EOF */
	CONN_DONE
};

/* One command's connection. */
struct conn {
	int fd;			/* -1 once closed */
	enum conn_state state;
	char *request;		/* owned: "cli quit after COMMAND\0" */
	size_t request_len, sent;
	char greeting[GREETING_MAX];	/* only until it has been checked */
	size_t greeting_len;
	struct buf out;		/* the answer, verbose lines dropped */
	bool line_start;	/* the next byte starts a line */
	bool line_dropped;	/* the current line is a verbose line */
	enum ast_status status;	/* once CONN_DONE */
	char *err;		/* owned: the reason when not AST_OK */
	long long start_ms, end_ms;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* End c with status and a printf-made reason (none for AST_OK). */
static void PRINTF_LIKE(3, 4)
conn_end(struct conn *c, enum ast_status status, const char *fmt, ...)
{
	va_list ap;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_DONE;
	c->status = status;
	c->end_ms = now_ms();
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&c->err, fmt, ap) < 0)
			c->err = NULL;
		va_end(ap);
	}
}

/* The words for a connect(2) or I/O error on the socket at path. */
static void
conn_fail_errno(struct conn *c, const char *path, int e)
{
	switch (e) {
	case ENOENT:
		conn_end(c, AST_FAILED, "Asterisk is not running (no control "
		    "socket %s)", path);
		break;
	case ECONNREFUSED:
		conn_end(c, AST_FAILED, "Asterisk is not running (%s refuses "
		    "connections: a socket left behind?)", path);
		break;
	case EACCES:
	case EPERM:
		conn_end(c, AST_FAILED, "no permission on the control socket "
		    "%s (astctlpermissions, astctlowner and astctlgroup in "
		    "asterisk.conf decide who may use it)", path);
		break;
	case ECONNRESET:
	case EPIPE:
		conn_end(c, AST_FAILED, "Asterisk closed the connection early "
		    "(%s)", path);
		break;
	default:
		conn_end(c, e == ENOMEM || e == EMFILE || e == ENFILE ||
		    e == ENOBUFS ? AST_SYSTEM : AST_FAILED,
		    "control socket %s: %s", path, strerror(e));
		break;
	}
}

/* Asterisk's greeting (netconsole): "HOST/PID/VERSION\n", PID digits. */
static bool
is_greeting(const char *g, size_t len)
{
	const char *slash = memchr(g, '/', len), *end = g + len, *q;

	if (slash == NULL || slash == g || (signed char)g[0] <= 0)
		return false;
	for (q = slash + 1; q < end && *q >= '0' && *q <= '9'; q++)
		;
	return q > slash + 1 && q < end && *q == '/';
}

/* Try to connect c; on success it waits for the greeting. */
static void
conn_connect(struct conn *c, const struct sockaddr_un *sa, const char *path)
{
	if (c->fd < 0) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			conn_fail_errno(c, path, errno);
			return;
		}
	}
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) == 0) {
		c->state = CONN_GREETING;
		return;
	}
	if (errno == EAGAIN || errno == EINTR) {
		c->state = CONN_RETRY;
		return;
	}
	/* a non-blocking unix connect never stays in progress on Linux;
	 * should one, the greeting read below tells how it went */
	if (errno == EINPROGRESS) {
		c->state = CONN_GREETING;
		return;
	}
	conn_fail_errno(c, path, errno);
}

/*
 * Keep the bytes of the answer that `asterisk -rx` would print: a line
 * whose first byte is NUL or has the high bit set is one of the
 * console's verbose lines (logger.c prefixes each with its level as a
 * negative char) and is dropped whole, up to and including its newline.
 * The state carries across reads, so where a read ends does not matter.
 * -1 when out of memory or over the cap (c ended).
 */
static int
conn_take(struct conn *c, const char *p, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : len;

		if (c->line_start)
			c->line_dropped = (signed char)p[0] <= 0;
		if (!c->line_dropped) {
			if (c->out.len + n > ASTERISK_OUTPUT_CAP) {
				conn_end(c, AST_TOO_BIG, "output over 4 MiB");
				return -1;
			}
			if (buf_append(&c->out, p, n) < 0) {
				conn_end(c, AST_SYSTEM, "%s", strerror(ENOMEM));
				return -1;
			}
		}
		c->line_start = nl != NULL;
		p += n;
		len -= n;
	}
	return 0;
}

/* Read what is ready: the greeting first (dropped), then the answer. */
static void
conn_read(struct conn *c, const char *path)
{
	char chunk[65536];
	ssize_t got = read(c->fd, chunk, sizeof chunk);
	const char *p = chunk;
	size_t len;

	if (got < 0) {
		if (errno != EINTR && errno != EAGAIN)
			conn_fail_errno(c, path, errno);
		return;
	}
	if (got == 0) {
		if (c->state == CONN_READING)
			conn_end(c, AST_OK, NULL);	/* the answer is whole */
		else
			conn_end(c, AST_FAILED, "Asterisk closed the connection "
			    "early, before %s (%s)", c->greeting_len ?
			    "sending its whole greeting" : "its greeting", path);
		return;
	}
	len = (size_t)got;
	if (c->state == CONN_GREETING) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : len;

		if (c->greeting_len + n > GREETING_MAX) {
			conn_end(c, AST_FAILED, "%s does not greet like Asterisk's "
			    "control socket", path);
			return;
		}
		memcpy(c->greeting + c->greeting_len, p, n);
		c->greeting_len += n;
		if (nl == NULL)
			return;
		if (!is_greeting(c->greeting, c->greeting_len)) {
			conn_end(c, AST_FAILED, "%s does not greet like Asterisk's "
			    "control socket", path);
			return;
		}
		/* it names the host: gone as soon as it has been looked at */
		memset(c->greeting, 0, sizeof c->greeting);
		c->state = CONN_SENDING;
		p += n;
		len -= n;
	}
	/* Whatever comes before the command is sent (verbose lines) is
	 * filtered like the answer: it is only ever console output. */
	(void)conn_take(c, p, len);
}

static void
conn_send(struct conn *c, const char *path)
{
	ssize_t put = send(c->fd, c->request + c->sent, c->request_len - c->sent,
	    MSG_NOSIGNAL);

	if (put < 0) {
		if (errno != EINTR && errno != EAGAIN)
			conn_fail_errno(c, path, errno);
		return;
	}
	c->sent += (size_t)put;
	if (c->sent == c->request_len)
		c->state = CONN_READING;
}

/* Run every connection until each is done or the deadline. */
static void
pump(struct conn *conns, size_t n, const struct sockaddr_un *sa,
    const char *path, long long deadline)
{
	struct pollfd *pfd = calloc(n, sizeof *pfd);
	size_t *who = calloc(n, sizeof *who);

	if (pfd == NULL || who == NULL) {
		for (size_t i = 0; i < n; i++)
			if (conns[i].state != CONN_DONE)
				conn_end(&conns[i], AST_SYSTEM, "%s", strerror(ENOMEM));
		goto out;
	}
	for (;;) {
		nfds_t nfds = 0;
		bool retry = false;
		long long left = deadline - now_ms();
		int ready, wait;

		for (size_t i = 0; i < n; i++) {
			struct conn *c = &conns[i];

			if (c->state == CONN_RETRY && left > 0)
				conn_connect(c, sa, path);
			if (c->state == CONN_RETRY) {
				retry = true;
				continue;
			}
			if (c->state == CONN_DONE)
				continue;
			pfd[nfds].fd = c->fd;
			pfd[nfds].events = c->state == CONN_SENDING ? POLLOUT : POLLIN;
			pfd[nfds].revents = 0;
			who[nfds++] = i;
		}
		if ((nfds == 0 && !retry) || left <= 0)
			break;
		wait = retry && left > CONNECT_RETRY_MS ? CONNECT_RETRY_MS : (int)left;
		ready = poll(pfd, nfds, wait);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			for (size_t i = 0; i < n; i++)
				if (conns[i].state != CONN_DONE)
					conn_end(&conns[i], AST_SYSTEM, "poll: %s",
					    strerror(errno));
			break;
		}
		for (nfds_t k = 0; k < nfds; k++) {
			struct conn *c = &conns[who[k]];

			if (pfd[k].revents == 0 || c->state == CONN_DONE)
				continue;
			if (c->state == CONN_SENDING) {
				if (pfd[k].revents & (POLLOUT | POLLERR | POLLHUP))
					conn_send(c, path);
			} else {
				conn_read(c, path);
			}
		}
	}
out:
	free(pfd);
	free(who);
}

/* Turn a connection into its reply. */
static void
conn_finish(struct conn *c, int timeout_ms, struct ast_reply *r)
{
	if (c->state != CONN_DONE) {
		if (timeout_ms % 1000 == 0)
			conn_end(c, AST_TIMEOUT, "no answer within %d s",
			    timeout_ms / 1000);
		else
			conn_end(c, AST_TIMEOUT, "no answer within %d ms",
			    timeout_ms);
	}
	r->duration_ms = (long)(c->end_ms - c->start_ms);
	r->status = c->status;
	if (c->status == AST_OK) {
		r->out_len = c->out.len;
		r->out = buf_steal(&c->out);
		if (r->out == NULL) {
			r->status = AST_SYSTEM;
			r->out_len = 0;
			r->err = strdup(strerror(ENOMEM));
		}
	} else {
		r->err = c->err;
		c->err = NULL;
	}
}

int
ast_socket_run(const char *path, const char *const *commands, size_t n,
    struct ast_reply *replies, int timeout_ms)
{
	struct sockaddr_un sa;
	struct conn *conns;
	long long deadline;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		memset(&replies[i], 0, sizeof replies[i]);
	if (n == 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	conns = calloc(n, sizeof *conns);
	if (conns == NULL || strlen(path) >= sizeof sa.sun_path) {
		for (size_t i = 0; i < n; i++) {
			replies[i].status = conns == NULL ? AST_SYSTEM : AST_FAILED;
			replies[i].err = conns == NULL ? strdup(strerror(ENOMEM)) :
			    strdup("control socket: path too long");
		}
		free(conns);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	deadline = now_ms() + timeout_ms;
	for (size_t i = 0; i < n; i++) {
		struct conn *c = &conns[i];

		c->fd = -1;
		c->line_start = true;
		c->start_ms = now_ms();
		if (asprintf(&c->request, "cli quit after %s", commands[i]) < 0) {
			c->request = NULL;
			conn_end(c, AST_SYSTEM, "%s", strerror(ENOMEM));
			continue;
		}
		c->request_len = strlen(c->request) + 1;	/* with its NUL */
		conn_connect(c, &sa, path);
	}
	pump(conns, n, &sa, path, deadline);
	for (size_t i = 0; i < n; i++) {
		conn_finish(&conns[i], timeout_ms, &replies[i]);
		if (replies[i].status != AST_OK)
			ret = -1;
		if (log_is_verbose()) {
			char shown[256];

			command_for_log(commands[i], shown, sizeof shown);
			log_verbose("control socket %s \"%s\": %ld ms%s", path,
			    shown, replies[i].duration_ms,
			    replies[i].status == AST_OK ? "" : " (failed)");
		}
		free(conns[i].request);
		free(conns[i].err);
		buf_free(&conns[i].out);
	}
	free(conns);
	return ret;
}
