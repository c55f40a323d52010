/* ast_process_run (asterisk -rx) against small stand-in programs written here: text,
 * failure, missing binary, output over the cap, time-out, parallelism,
 * no shell, no inherited descriptors. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../asterisk/asterisk.h"
#include "../../common/text.h"
#include "unit.h"

static char dir[] = "/tmp/collect-run-XXXXXX";

/* Write an executable script dir/name; returns its path (static). */
static const char *
script(const char *name, const char *body)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f == NULL) {
		perror(p);
		exit(2);
	}
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0755);
	return p;
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_ok_and_no_shell(void)
{
	const char *bin = script("echo", "printf '%s|%s|%s\\n' \"$#\" \"$1\" \"$2\"");
	const char *cmds[] = { "core show version", "x; touch /tmp/owned $(id)" };
	struct ast_reply r[2];

	CHECK_INT(ast_process_run(bin, cmds, 2, r, 2000), 0);
	CHECK_INT(r[0].status, AST_OK);
	CHECK_STR(r[0].out, "2|-rx|core show version\n");
	CHECK_INT(r[0].out_len, strlen("2|-rx|core show version\n"));
	CHECK(r[0].err == NULL);
	/* One argument, never seen by a shell. */
	CHECK_STR(r[1].out, "2|-rx|x; touch /tmp/owned $(id)\n");
	ast_reply_free(&r[0]);
	ast_reply_free(&r[1]);
	CHECK(r[0].out == NULL);
}

static void
test_failed(void)
{
	const char *bin = script("down",
	    "echo 'Unable to connect to remote asterisk (does "
	    "/var/run/asterisk/asterisk.ctl exist?)' >&2\nexit 1");
	const char *silent = script("silent", "exit 3");
	const char *cmds[] = { "core show version" };
	struct ast_reply r;

	CHECK_INT(ast_process_run(bin, cmds, 1, &r, 2000), -1);
	CHECK_INT(r.status, AST_FAILED);
	CHECK_STR(r.err, "Unable to connect to remote asterisk (does "
	    "/var/run/asterisk/asterisk.ctl exist?)");
	CHECK(r.out == NULL);
	ast_reply_free(&r);

	CHECK_INT(ast_process_run(silent, cmds, 1, &r, 2000), -1);
	CHECK_INT(r.status, AST_FAILED);
	CHECK_STR(r.err, "exited with status 3");
	ast_reply_free(&r);

	/* Several lines and an escape sequence: one printable line. */
	bin = script("noisy", "printf 'line one\\n\\033[31mline two\\n' >&2; exit 1");
	CHECK_INT(ast_process_run(bin, cmds, 1, &r, 2000), -1);
	CHECK_STR(r.err, "line one ?[31mline two");
	ast_reply_free(&r);
}

static void
test_not_found(void)
{
	const char *cmds[] = { "core show version" };
	char path[256];
	struct ast_reply r;
	FILE *f;

	snprintf(path, sizeof path, "%s/nonexistent", dir);
	CHECK_INT(ast_process_run(path, cmds, 1, &r, 2000), -1);
	CHECK_INT(r.status, AST_NOT_FOUND);
	{
		char want[512];
		snprintf(want, sizeof want,
		    "cannot run \"%s\": No such file or directory", path);
		CHECK_STR(r.err, want);
	}
	ast_reply_free(&r);

	/* PATH lookup of a name that is nowhere. */
	CHECK_INT(ast_process_run("no-such-asterisk-binary-here", cmds, 1, &r,
	    2000), -1);
	CHECK_INT(r.status, AST_NOT_FOUND);
	CHECK_STR(r.err, "cannot run \"no-such-asterisk-binary-here\": "
	    "No such file or directory");
	ast_reply_free(&r);

	/* Not executable. */
	snprintf(path, sizeof path, "%s/plain", dir);
	f = fopen(path, "w");
	fputs("#!/bin/sh\necho hi\n", f);
	fclose(f);
	chmod(path, 0644);
	CHECK_INT(ast_process_run(path, cmds, 1, &r, 2000), -1);
	CHECK_INT(r.status, AST_NOT_FOUND);
	CHECK(r.err != NULL && strstr(r.err, "Permission denied") != NULL);
	ast_reply_free(&r);
}

static void
test_cap(void)
{
	const char *big = script("big", "exec head -c 4194305 /dev/zero");
	const char *exact = script("exact", "exec head -c 4194304 /dev/zero");
	const char *cmds[] = { "module show" };
	struct ast_reply r;

	CHECK_INT(ast_process_run(big, cmds, 1, &r, 5000), -1);
	CHECK_INT(r.status, AST_TOO_BIG);
	CHECK(r.out == NULL && r.err != NULL);
	ast_reply_free(&r);

	CHECK_INT(ast_process_run(exact, cmds, 1, &r, 5000), 0);
	CHECK_INT(r.status, AST_OK);
	CHECK_INT(r.out_len, ASTERISK_OUTPUT_CAP);
	CHECK(r.out != NULL && r.out[r.out_len] == '\0');
	ast_reply_free(&r);
}

static void
test_timeout_and_parallel(void)
{
	const char *slow = script("slow", "exec sleep 5");
	const char *nap = script("nap", "sleep 0.3; echo \"$2\"");
	const char *quick = script("quick", "echo fast");
	const char *cmds[] = { "a", "b", "c", "d" };
	struct ast_reply r[4];
	long long t0;

	/* Killed at the deadline, not waited for. */
	t0 = ms_now();
	CHECK_INT(ast_process_run(slow, cmds, 1, r, 300), -1);
	CHECK(ms_now() - t0 < 1500);
	CHECK_INT(r[0].status, AST_TIMEOUT);
	CHECK_STR(r[0].err, "no answer within 300 ms");
	ast_reply_free(&r[0]);

	/* Four commands of 0.3 s each take about 0.3 s together. */
	t0 = ms_now();
	CHECK_INT(ast_process_run(nap, cmds, 4, r, 3000), 0);
	CHECK(ms_now() - t0 < 1000);
	for (int i = 0; i < 4; i++) {
		char want[4] = { cmds[i][0], '\n', '\0' };
		CHECK_INT(r[i].status, AST_OK);
		CHECK_STR(r[i].out, want);
		CHECK(r[i].duration_ms >= 250);
		ast_reply_free(&r[i]);
	}

	/* A quick command is not held back by a slow one. */
	{
		const char *one[] = { "x" };
		CHECK_INT(ast_process_run(quick, one, 1, r, 3000), 0);
		CHECK_STR(r[0].out, "fast\n");
		CHECK(r[0].duration_ms < 1000);
		ast_reply_free(&r[0]);
	}
}

static void
test_stdin_and_fds(void)
{
	const char *cat = script("cat", "exec cat");
	const char *fdcheck = script("fds",
	    "if [ -e /proc/$$/fd/$2 ]; then echo open; else echo closed; fi");
	const char *cmds[] = { "x" };
	char num[16];
	const char *fdcmd[] = { num };
	struct ast_reply r;
	int leak = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */

	/* stdin is /dev/null: cat ends at once with nothing. */
	CHECK_INT(ast_process_run(cat, cmds, 1, &r, 2000), 0);
	CHECK_STR(r.out, "");
	CHECK_INT(r.out_len, 0);
	ast_reply_free(&r);

	snprintf(num, sizeof num, "%d", leak);
	CHECK_INT(ast_process_run(fdcheck, fdcmd, 1, &r, 2000), 0);
	CHECK_STR(r.out, "closed\n");
	ast_reply_free(&r);
	close(leak);
	/* The check itself can see an open descriptor. */
	snprintf(num, sizeof num, "%d", 1);
	CHECK_INT(ast_process_run(fdcheck, fdcmd, 1, &r, 2000), 0);
	CHECK_STR(r.out, "open\n");
	ast_reply_free(&r);
}

/* Is pid gone (or a zombie nobody will run again)? */
static bool
process_gone(long pid)
{
	char path[64], stat[512];
	FILE *f;
	char *close_paren;
	bool gone = true;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fgets(stat, sizeof stat, f) != NULL &&
	    (close_paren = strrchr(stat, ')')) != NULL)
		gone = close_paren[2] == 'Z' || close_paren[2] == 'X';
	fclose(f);
	return gone;
}

/* issue 11: a wrapper given as `asterisk =` runs Asterisk as its child;
 * at the deadline the whole process group is killed, not the wrapper
 * alone; and a descriptor far up is not inherited either. */
static void
test_group_killed_and_high_fd(void)
{
	char body[512], pidfile[300], num[16];
	const char *wrapper, *fdcheck;
	const char *cmds[] = { "core show version" };
	const char *fdcmd[] = { num };
	struct ast_reply r;
	long pid = 0;
	FILE *f;
	int high;

	snprintf(pidfile, sizeof pidfile, "%s/grandchild.pid", dir);
	snprintf(body, sizeof body, "sleep 30 &\necho $! >%s\nwait", pidfile);
	wrapper = script("wrapper", body);
	CHECK_INT(ast_process_run(wrapper, cmds, 1, &r, 500), -1);
	CHECK_INT(r.status, AST_TIMEOUT);
	ast_reply_free(&r);
	f = fopen(pidfile, "r");
	CHECK(f != NULL && fscanf(f, "%ld", &pid) == 1 && pid > 1);
	if (f != NULL)
		fclose(f);
	for (int i = 0; i < 100 && pid > 1 && !process_gone(pid); i++)
		poll(NULL, 0, 10);
	CHECK(pid > 1 && process_gone(pid));

	high = dup2(1, 900);	/* no O_CLOEXEC on purpose */
	CHECK_INT(high, 900);
	fdcheck = script("fds2",
	    "if [ -e /proc/$$/fd/$2 ]; then echo open; else echo closed; fi");
	snprintf(num, sizeof num, "%d", high);
	CHECK_INT(ast_process_run(fdcheck, fdcmd, 1, &r, 2000), 0);
	CHECK_STR(r.out, "closed\n");
	ast_reply_free(&r);
	close(high);
}

static void
test_mixed_batch(void)
{
	const char *bin = script("mixed",
	    "case \"$2\" in\n"
	    "ok) echo fine;;\n"
	    "fail) echo broken >&2; exit 1;;\n"
	    "hang) exec sleep 5;;\n"
	    "esac");
	const char *cmds[] = { "ok", "fail", "hang", "ok" };
	struct ast_reply r[4];

	CHECK_INT(ast_process_run(bin, cmds, 4, r, 400), -1);
	CHECK_INT(r[0].status, AST_OK);
	CHECK_STR(r[0].out, "fine\n");
	CHECK_INT(r[1].status, AST_FAILED);
	CHECK_STR(r[1].err, "broken");
	CHECK_INT(r[2].status, AST_TIMEOUT);
	CHECK_INT(r[3].status, AST_OK);
	for (int i = 0; i < 4; i++)
		ast_reply_free(&r[i]);
	CHECK_INT(ast_process_run(bin, cmds, 0, r, 400), 0);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_ok_and_no_shell();
	test_failed();
	test_not_found();
	test_cap();
	test_timeout_and_parallel();
	test_stdin_and_fds();
	test_group_killed_and_high_fd();
	test_mixed_batch();
	unit_remove_dir(dir);
	UNIT_END("collect_run");
}
