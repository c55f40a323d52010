/* ast_socket_run against a control socket served here, byte by byte:
 * the greeting cut in two, verbose lines cut across writes, lines whose
 * first byte is NUL or has the high bit set, a last line without its
 * newline; the request's bytes; the deadline; ENOENT and refused. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../asterisk/asterisk.h"
#include "unit.h"

static char dir[] = "/tmp/ast-socket-XXXXXX";

/* Write s in pieces of one byte, with a pause now and then, so that the
 * reader sees every cut. */
static void
dribble(int fd, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (write(fd, s + i, 1) != 1)
			_exit(3);
		if (i % 5 == 0)
			poll(NULL, 0, 1);
	}
}

/* A server on path for n connections, each answered by script: "hang"
 * never answers; anything else is the answer (with verbose lines); the
 * request seen is written to path.req.  Returns the child's pid. */
static pid_t
serve(const char *path, const char *script, int n)
{
	struct sockaddr_un sa;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0) {
		perror("serve");
		exit(2);
	}
	pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	for (int i = 0; i < n; i++) {
		static const char greeting[] = "pbx.example/42/22.10.1\n";
		static const char verbose[] = "\xfc    -- a verbose line\n"
		    "\xff[Dec  1] NOTICE: also one\n";
		char req[512], reqpath[300];
		size_t got = 0;
		ssize_t r;
		int fd = accept(lfd, NULL, NULL);
		FILE *f;

		if (fd < 0)
			_exit(3);
		dribble(fd, greeting, 10);
		dribble(fd, greeting + 10, strlen(greeting) - 10);
		dribble(fd, verbose, strlen(verbose));
		while (got < sizeof req && (r = read(fd, req + got, sizeof req - got)) > 0) {
			got += (size_t)r;
			if (memchr(req, '\0', got) != NULL)
				break;
		}
		snprintf(reqpath, sizeof reqpath, "%s.req", path);
		if ((f = fopen(reqpath, "w")) != NULL) {
			fwrite(req, 1, got, f);
			fclose(f);
		}
		if (strcmp(script, "hang") == 0) {
			pause();
			_exit(0);
		}
		dribble(fd, script, strlen(script));
		close(fd);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_answer_filtered(void)
{
	char path[200], reqpath[220];
	/* a verbose line between answer lines */
	static const char answer[] = "Asterisk 22.10.1 built by x\n"
	    "\xfd  == between the lines\n"
	    "second line\n";
	const char *cmds[1] = {"core show version"};
	struct ast_reply r;
	pid_t pid;
	char *req;

	snprintf(path, sizeof path, "%s/a.ctl", dir);
	pid = serve(path, answer, 1);
	CHECK_INT(ast_socket_run(path, cmds, 1, &r, 3000), 0);
	CHECK_INT(r.status, AST_OK);
	CHECK_STR(r.out, "Asterisk 22.10.1 built by x\nsecond line\n");
	ast_reply_free(&r);
	reap(pid);
	snprintf(reqpath, sizeof reqpath, "%s.req", path);
	req = unit_read_file(reqpath);
	CHECK(memcmp(req, "cli quit after core show version\0", 34) == 0);
	free(req);

	/* a line whose first byte has the high bit set (UTF-8 too: dropped,
	 * as asterisk -rx drops it), and a last line without its newline */
	pid = serve(path, "one\n\xe2\x82\xac euro line\nthree\nlast", 1);
	CHECK_INT(ast_socket_run(path, cmds, 1, &r, 3000), 0);
	CHECK_STR(r.out, "one\nthree\nlast");
	CHECK(r.out_len == strlen("one\nthree\nlast"));
	ast_reply_free(&r);
	reap(pid);
}

static void
test_many_at_once(void)
{
	char path[200];
	const char *cmds[5] = {"a", "b", "c", "d", "e"};
	struct ast_reply r[5];
	pid_t pid;

	snprintf(path, sizeof path, "%s/m.ctl", dir);
	pid = serve(path, "ok\n", 5);
	CHECK_INT(ast_socket_run(path, cmds, 5, r, 5000), 0);
	for (int i = 0; i < 5; i++) {
		CHECK_STR(r[i].out, "ok\n");
		ast_reply_free(&r[i]);
	}
	reap(pid);
}

static void
test_failures(void)
{
	char path[200];
	const char *cmds[2] = {"core show version", "module show"};
	struct ast_reply r[2];
	struct timespec t0, t1;
	pid_t pid;
	long ms;

	snprintf(path, sizeof path, "%s/none.ctl", dir);
	CHECK_INT(ast_socket_run(path, cmds, 1, r, 1000), -1);
	CHECK_INT(r[0].status, AST_FAILED);
	CHECK(r[0].err != NULL && strstr(r[0].err, "Asterisk is not running") != NULL);
	ast_reply_free(&r[0]);

	/* bound, never listened: refused */
	{
		struct sockaddr_un sa;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s/stale.ctl", dir);
		CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
		CHECK_INT(ast_socket_run(sa.sun_path, cmds, 1, r, 1000), -1);
		CHECK(r[0].err != NULL && strstr(r[0].err, "refuses connections") != NULL);
		ast_reply_free(&r[0]);
		close(fd);
	}

	/* the deadline covers the batch: two hanging connections, one wait */
	snprintf(path, sizeof path, "%s/h.ctl", dir);
	pid = serve(path, "hang", 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(ast_socket_run(path, cmds, 2, r, 400), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 390 && ms < 2000);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(r[i].status, AST_TIMEOUT);
		CHECK_STR(r[i].err, "no answer within 400 ms");
		ast_reply_free(&r[i]);
	}
	reap(pid);

	CHECK_INT(ast_socket_run(path, cmds, 0, r, 400), 0);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_answer_filtered();
	test_many_at_once();
	test_failures();
	unit_remove_dir(dir);
	UNIT_END("ast_socket");
}
