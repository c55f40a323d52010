/* Running `asterisk -rx COMMAND`: every command of a batch at the same
 * time, no shell, one deadline, a cap on what is read.  The default way
 * of asking Asterisk (socket.c is the other). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "asterisk.h"

#ifndef BEACON_COMPAT
#define BEACON_COMPAT 0
#endif
/* close_range(2) came with glibc 2.34; `make COMPAT=1` forces the loop
 * that older systems (Debian 11, RHEL 8) use. */
#if !BEACON_COMPAT && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_CLOSE_RANGE 1
#else
#define HAVE_CLOSE_RANGE 0
#endif

#define ERR_KEEP 4096		/* bytes of stderr kept for the message */
#define ERR_LINE 200		/* the message shown to the user */

/* One running command. */
struct child {
	pid_t pid;		/* 0 when it could not be started */
	int out_fd, err_fd;	/* -1 once closed */
	struct buf out, err;
	int start_errno;	/* pipe/fork failed (AST_SYSTEM) */
	int exec_errno;		/* execvp failed in the child (AST_NOT_FOUND) */
	int mem_errno;		/* out of memory while reading */
	bool too_big, timed_out, reaped;
	int wstatus;
	long long start_ms, end_ms;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: make fd the descriptor target, inheritable. */
static int
move_fd(int fd, int target)
{
	if (fd == target) {
		int fl = fcntl(fd, F_GETFD);
		return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(fd, target) < 0 ? -1 : 0;
}

/*
 * In the child after fork: wire stdin to /dev/null and stdout/stderr to
 * the pipes, then exec.  Only async-signal-safe calls.  When exec fails,
 * its errno goes back on report_fd (close-on-exec, so the parent reads
 * EOF when exec succeeds) and the child ends with 127.
 */
/* Every descriptor from 3 up close-on-exec, so that whatever else is
 * open (the lock file, sockets) stays here.  max_fd: from the parent. */
static void
cloexec_from_3(int max_fd)
{
#if HAVE_CLOSE_RANGE
	(void)max_fd;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;		/* else an old kernel: the loop below */
	max_fd = 65536;
#endif
	for (int fd = 3; fd < max_fd; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* The highest descriptor number + 1 a child may hold (for the loop). */
static int
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur <= 1048576)
		return (int)rl.rlim_cur;
	return 1048576;
}

static void
child_exec(const char *bin, char *const argv[], int devnull, int out_fd,
    int err_fd, int report_fd, int max_fd)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	/* main ignores SIGPIPE and catches SIGTERM/SIGINT; the child gets
	 * the defaults and no blocked signal, whatever we inherited. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its own process group: at the deadline the whole group is killed,
	 * so a wrapper script's children do not outlive it. */
	(void)setpgid(0, 0);
	if (move_fd(devnull, 0) < 0 || move_fd(out_fd, 1) < 0 ||
	    move_fd(err_fd, 2) < 0)
		goto fail;
	cloexec_from_3(max_fd);
	execvp(bin, argv);
fail:
	e = errno;
	while (write(report_fd, &e, sizeof e) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Start one command; on failure c->start_errno is set. */
static void
child_start(struct child *c, const char *bin, const char *command,
    int devnull, int max_fd)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
	char *argv[4];
	ssize_t got;
	int e;

	argv[0] = (char *)bin;
	argv[1] = (char *)"-rx";
	argv[2] = (char *)command;
	argv[3] = NULL;
	c->start_ms = now_ms();
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(rep, O_CLOEXEC) < 0) {
		c->start_errno = errno;
		goto fail;
	}
	c->pid = fork();
	if (c->pid < 0) {
		c->start_errno = errno;
		c->pid = 0;
		goto fail;
	}
	if (c->pid == 0)
		child_exec(bin, argv, devnull, outp[1], errp[1], rep[1], max_fd);
	(void)setpgid(c->pid, c->pid);	/* no race with the first kill */
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&rep[1]);
	/* EOF: exec succeeded.  Waiting here costs only the exec itself. */
	do
		got = read(rep[0], &e, sizeof e);
	while (got < 0 && errno == EINTR);
	close_fd(&rep[0]);
	if (got == (ssize_t)sizeof e) {
		c->exec_errno = e;
		close_fd(&outp[0]);
		close_fd(&errp[0]);
		return;		/* reaped with the others; it has exited */
	}
	c->out_fd = outp[0];
	c->err_fd = errp[0];
	return;
fail:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&rep[0]);
	close_fd(&rep[1]);
}

/* Stop reading a child: kill its process group (the child is reaped
 * later) and close its pipes.  The group is killed too when the child is
 * gone but its pipes are still held: by its own children. */
static void
child_abort(struct child *c)
{
	if (c->pid > 0 && (!c->reaped || c->out_fd >= 0 || c->err_fd >= 0))
		kill(-c->pid, SIGKILL);
	if (c->pid > 0 && !c->reaped)
		kill(c->pid, SIGKILL);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
}

/* Read what is ready on fd (stdout when is_out) into c. */
static void
child_read(struct child *c, bool is_out)
{
	char chunk[65536];
	int *fd = is_out ? &c->out_fd : &c->err_fd;
	ssize_t got = read(*fd, chunk, sizeof chunk);

	if (got < 0) {
		if (errno != EINTR && errno != EAGAIN)
			close_fd(fd);
		return;
	}
	if (got == 0) {
		close_fd(fd);
		return;
	}
	if (is_out) {
		if (c->out.len + (size_t)got > ASTERISK_OUTPUT_CAP) {
			c->too_big = true;
			child_abort(c);
		} else if (buf_append(&c->out, chunk, (size_t)got) < 0) {
			c->mem_errno = ENOMEM;
			child_abort(c);
		}
	} else if (c->err.len < ERR_KEEP) {
		size_t keep = (size_t)got;
		if (keep > ERR_KEEP - c->err.len)
			keep = ERR_KEEP - c->err.len;
		/* Out of memory here only makes the message shorter. */
		(void)buf_append(&c->err, chunk, keep);
	}
}

/* Reap c if it has ended (or wait for it when block); true once reaped. */
static bool
child_reap(struct child *c, bool block)
{
	pid_t got;

	if (c->pid <= 0 || c->reaped)
		return true;
	do
		got = waitpid(c->pid, &c->wstatus, block ? 0 : WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return false;
	c->reaped = true;
	c->end_ms = now_ms();
	return true;
}

/* Read every child's pipes until all are closed or the deadline. */
static void
pump(struct child *kids, size_t n, long long deadline)
{
	struct pollfd *pfd = calloc(2 * n, sizeof *pfd);
	size_t *who = calloc(2 * n, sizeof *who);

	if (pfd == NULL || who == NULL) {
		for (size_t i = 0; i < n; i++) {
			kids[i].mem_errno = ENOMEM;
			child_abort(&kids[i]);
		}
		goto out;
	}
	for (;;) {
		nfds_t nfds = 0;
		long long left;
		int ready;

		for (size_t i = 0; i < n; i++) {
			if (kids[i].out_fd >= 0) {
				pfd[nfds].fd = kids[i].out_fd;
				pfd[nfds].events = POLLIN;
				who[nfds++] = 2 * i;
			}
			if (kids[i].err_fd >= 0) {
				pfd[nfds].fd = kids[i].err_fd;
				pfd[nfds].events = POLLIN;
				who[nfds++] = 2 * i + 1;
			}
		}
		left = deadline - now_ms();
		if (nfds == 0 || left <= 0)
			break;
		ready = poll(pfd, nfds, (int)left);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			break;	/* the deadline handling kills them all */
		}
		for (nfds_t k = 0; k < nfds; k++) {
			struct child *c = &kids[who[k] / 2];
			bool is_out = who[k] % 2 == 0;
			int fd = is_out ? c->out_fd : c->err_fd;

			/* A child aborted earlier in this round has fd -1. */
			if (fd != pfd[k].fd || pfd[k].revents == 0)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP))
				child_read(c, is_out);
			else
				close_fd(is_out ? &c->out_fd : &c->err_fd);
		}
	}
out:
	free(pfd);
	free(who);
}

/*
 * Reap every child: those that closed their pipes are given until the
 * deadline to exit; whoever is still running then is killed and marked
 * timed out.
 */
static void
reap_all(struct child *kids, size_t n, long long deadline)
{
	for (;;) {
		bool pending = false;

		for (size_t i = 0; i < n; i++)
			if (kids[i].out_fd < 0 && kids[i].err_fd < 0 &&
			    !child_reap(&kids[i], false))
				pending = true;
			else if (kids[i].out_fd >= 0 || kids[i].err_fd >= 0)
				pending = true;	/* pipes open: deadline hit */
		if (!pending || now_ms() >= deadline)
			break;
		poll(NULL, 0, 2);
	}
	for (size_t i = 0; i < n; i++) {
		struct child *c = &kids[i];

		if (c->pid > 0 && (!c->reaped || c->out_fd >= 0 || c->err_fd >= 0)) {
			if (!c->too_big && c->mem_errno == 0)
				c->timed_out = true;
			child_abort(c);
			child_reap(c, true);
		}
	}
}

/* The one-line message for a failed command: Asterisk's stderr (else its
 * stdout, else how it ended), printable.  NULL when out of memory. */
static char *
failure_text(const struct child *c)
{
	char text[64];

	if (c->err.len > 0)
		return text_sanitize(c->err.data, c->err.len, ERR_LINE);
	if (c->out.len > 0)
		return text_sanitize(c->out.data, c->out.len, ERR_LINE);
	if (WIFEXITED(c->wstatus))
		snprintf(text, sizeof text, "exited with status %d",
		    WEXITSTATUS(c->wstatus));
	else if (WIFSIGNALED(c->wstatus))
		snprintf(text, sizeof text, "killed by signal %d",
		    WTERMSIG(c->wstatus));
	else
		snprintf(text, sizeof text, "ended abnormally");
	return strdup(text);
}

/* "cannot run "BIN": reason" (caller frees; NULL when out of memory). */
static char *
cannot_run(const char *bin, int e)
{
	char *s = NULL;

	if (asprintf(&s, "cannot run \"%s\": %s", bin, strerror(e)) < 0)
		return NULL;
	return s;
}

/* Turn a finished child into its reply. */
static void
child_finish(struct child *c, const char *bin, int timeout_ms,
    struct ast_reply *r)
{
	char limit[64];

	r->duration_ms = c->reaped ? (long)(c->end_ms - c->start_ms) : 0;
	if (c->start_errno) {
		r->status = AST_SYSTEM;
		r->err = cannot_run(bin, c->start_errno);
	} else if (c->exec_errno) {
		r->status = AST_NOT_FOUND;
		r->err = cannot_run(bin, c->exec_errno);
	} else if (c->mem_errno) {
		r->status = AST_SYSTEM;
		r->err = strdup(strerror(c->mem_errno));
	} else if (c->too_big) {
		r->status = AST_TOO_BIG;
		r->err = strdup("output over 4 MiB");
	} else if (c->timed_out) {
		r->status = AST_TIMEOUT;
		if (timeout_ms % 1000 == 0)
			snprintf(limit, sizeof limit, "no answer within %d s",
			    timeout_ms / 1000);
		else
			snprintf(limit, sizeof limit, "no answer within %d ms",
			    timeout_ms);
		r->err = strdup(limit);
	} else if (WIFEXITED(c->wstatus) && WEXITSTATUS(c->wstatus) == 0) {
		r->status = AST_OK;
		r->out_len = c->out.len;
		r->out = buf_steal(&c->out);
		if (r->out == NULL) {
			r->status = AST_SYSTEM;
			r->out_len = 0;
			r->err = strdup(strerror(ENOMEM));
		}
	} else {
		r->status = AST_FAILED;
		r->err = failure_text(c);
	}
}

int
ast_process_run(const char *bin, const char *const *commands, size_t n,
    struct ast_reply *replies, int timeout_ms)
{
	struct child *kids;
	long long deadline;
	int devnull, max_fd, ret = 0;

	for (size_t i = 0; i < n; i++)
		memset(&replies[i], 0, sizeof replies[i]);
	kids = calloc(n ? n : 1, sizeof *kids);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (kids == NULL || devnull < 0) {
		int e = kids == NULL ? ENOMEM : errno;
		for (size_t i = 0; i < n; i++) {
			replies[i].status = AST_SYSTEM;
			replies[i].err = cannot_run(bin, e);
		}
		free(kids);
		if (devnull >= 0)
			close(devnull);
		return n ? -1 : 0;
	}
	deadline = now_ms() + timeout_ms;
	max_fd = fd_limit();
	for (size_t i = 0; i < n; i++) {
		kids[i].out_fd = kids[i].err_fd = -1;
		child_start(&kids[i], bin, commands[i], devnull, max_fd);
	}
	close(devnull);
	pump(kids, n, deadline);
	reap_all(kids, n, deadline);
	for (size_t i = 0; i < n; i++) {
		child_finish(&kids[i], bin, timeout_ms, &replies[i]);
		if (replies[i].status != AST_OK)
			ret = -1;
		if (log_is_verbose()) {
			char shown[256];

			command_for_log(commands[i], shown, sizeof shown);
			log_verbose("%s -rx \"%s\": %ld ms%s", bin, shown,
			    replies[i].duration_ms,
			    replies[i].status == AST_OK ? "" : " (failed)");
		}
		buf_free(&kids[i].out);
		buf_free(&kids[i].err);
	}
	free(kids);
	return ret;
}
