/* The report: its JSON byte for byte, collect_report against a stand-in
 * `asterisk` serving the 22.10.1 fixtures, and the --show output. */
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../../collect/collect.h"
#include "../../output/output.h"
#include "unit.h"

static char dir[] = "/tmp/collect-report-XXXXXX";

static time_t
utc(const char *s)
{
	time_t t = 0;

	if (time_parse_utc(s, &t) != 0) {
		fprintf(stderr, "bad time %s\n", s);
		exit(2);
	}
	return t;
}

static struct module_info two_modules[2] = {
	{ (char *)"res_pjsip.so", (char *)"Basic SIP resource",
	  (char *)"Running", (char *)"core" },
	{ (char *)"chan_old.so", (char *)"Old", NULL, NULL },
};

/* A full report (strings not owned: never report_free'd). */
static struct report
full_report(void)
{
	struct report r;

	memset(&r, 0, sizeof r);
	r.version_name = (char *)"Asterisk 22.10.1";
	r.version_number = (char *)"221001";
	r.modules = two_modules;
	r.nmodules = 2;
	r.have_modules = true;
	r.have_startup_time = true;
	r.startup_time = utc("2026-11-22T21:53:23Z");
	r.have_last_reload_time = true;
	r.last_reload_time = utc("2026-11-22T21:53:48Z");
	r.have_calls_active = r.have_calls_processed = true;
	r.calls_active = 2;
	r.calls_processed = 5;
	r.sys_name = (char *)"Linux";
	r.release = (char *)"6.1.0-18-amd64";
	r.os_version = (char *)"#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)";
	r.machine = (char *)"x86_64";
	r.cpu_count = 2;
	r.memory_total_kb = 4028512;
	r.system_uptime = 350735;
	return r;
}

static void
test_body_full(void)
{
	struct report r = full_report();
	char *a = report_body(&r, "bc5829cc-4584-43e5-8395-a9b1206d7e02",
	    "My \"awesome\" server");
	char *b = report_body(&r, "bc5829cc-4584-43e5-8395-a9b1206d7e02",
	    "My \"awesome\" server");

	CHECK_STR(a,
	    "{\"id\":\"bc5829cc-4584-43e5-8395-a9b1206d7e02\","
	    "\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\","
	    "\"number\":\"221001\"},"
	    "\"modules\":[{\"name\":\"res_pjsip.so\",\"description\":"
	    "\"Basic SIP resource\",\"status\":\"Running\","
	    "\"support_level\":\"core\"},"
	    /* no status column (Asterisk 1.8-11): "Unknown", which the
	     * Swagger requires */
	    "{\"name\":\"chan_old.so\",\"description\":\"Old\","
	    "\"status\":\"Unknown\"}],"
	    "\"stats\":{\"run_time\":{\"startup_time\":\"2026-11-22T21:53:23Z\","
	    "\"last_reload_time\":\"2026-11-22T21:53:48Z\"},"
	    "\"calls\":{\"active\":2,\"processed\":5}}},"
	    "\"operating_system\":{\"sys_name\":\"Linux\","
	    "\"release\":\"6.1.0-18-amd64\",\"version\":\"#1 SMP "
	    "PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\","
	    "\"machine\":\"x86_64\",\"cpu_count\":2,"
	    "\"memory_total_kb\":4028512,\"uptime\":350735},"
	    "\"private_name\":\"My \\\"awesome\\\" server\"}");
	/* Same inputs, same bytes. */
	CHECK_STR(a, b);
	free(a);
	free(b);
}

static void
test_body_omitted(void)
{
	struct report r;
	char *s;

	memset(&r, 0, sizeof r);
	r.version_name = (char *)"Asterisk 13.38.3";
	r.version_number = (char *)"133803";
	r.cpu_count = r.memory_total_kb = r.system_uptime = -1;
	s = report_body(&r, NULL, NULL);
	CHECK_STR(s, "{\"asterisk\":{\"version\":{\"name\":\"Asterisk 13.38.3\","
	    "\"number\":\"133803\"}}}");
	free(s);

	/* An empty module list is a list; one call count alone. */
	r.have_modules = true;
	r.have_calls_active = true;
	r.calls_active = 0;
	r.have_last_reload_time = true;	/* without a start time */
	r.last_reload_time = utc("2026-01-01T00:00:00Z");
	s = report_body(&r, "bc5829cc-4584-43e5-8395-a9b1206d7e02", NULL);
	CHECK_STR(s, "{\"id\":\"bc5829cc-4584-43e5-8395-a9b1206d7e02\","
	    "\"asterisk\":{\"version\":{\"name\":\"Asterisk 13.38.3\","
	    "\"number\":\"133803\"},\"modules\":[],"
	    "\"stats\":{\"run_time\":{\"last_reload_time\":"
	    "\"2026-01-01T00:00:00Z\"},\"calls\":{\"active\":0}}}}");
	free(s);

	/* Only part of the operating system. */
	r.have_modules = r.have_calls_active = r.have_last_reload_time = false;
	r.machine = (char *)"aarch64";
	r.memory_total_kb = 1024;
	s = report_body(&r, NULL, "lab");
	CHECK_STR(s, "{\"asterisk\":{\"version\":{\"name\":\"Asterisk 13.38.3\","
	    "\"number\":\"133803\"}},\"operating_system\":{\"machine\":"
	    "\"aarch64\",\"memory_total_kb\":1024},\"private_name\":\"lab\"}");
	free(s);
}

/* Bytes that are not UTF-8 are sent sanitised; UTF-8 stays. */
static void
test_body_utf8(void)
{
	struct module_info m[2] = {
		{ (char *)"res_bad.so", (char *)"Bad \xff\xfe desc",
		  (char *)"Running", (char *)"core" },
		{ (char *)"res_cafe.so", (char *)"Caf\xc3\xa9", NULL, NULL },
	};
	struct report r;
	char *s;

	memset(&r, 0, sizeof r);
	r.version_name = (char *)"Asterisk 22.10.1";
	r.version_number = (char *)"221001";
	r.modules = m;
	r.nmodules = 2;
	r.have_modules = true;
	r.cpu_count = r.memory_total_kb = r.system_uptime = -1;
	s = report_body(&r, NULL, "n\xc3");
	CHECK_STR(s, "{\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\","
	    "\"number\":\"221001\"},\"modules\":[{\"name\":\"res_bad.so\","
	    "\"description\":\"Bad ?? desc\",\"status\":\"Running\","
	    "\"support_level\":\"core\"},{\"name\":\"res_cafe.so\","
	    "\"description\":\"Caf\xc3\xa9\",\"status\":\"Unknown\"}]},"
	    "\"private_name\":\"n?\"}");
	free(s);
}

/* ---- collect_report with a stand-in asterisk ------------------------ */

static char fixtures[PATH_MAX];

/* A stand-in `asterisk` that logs each command and answers from the
 * fixtures; version_file replaces core_show_version.txt. */
static const char *
fake_asterisk(const char *name, const char *version_file,
    const char *uptime_file, int exit_code)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fprintf(f, "#!/bin/sh\n"
	    "F='%s'\n"
	    "echo \"$2\" >> '%s/%s.log'\n"
	    "[ %d = 0 ] || { echo 'Unable to connect to remote asterisk (does "
	    "/var/run/asterisk/asterisk.ctl exist?)' >&2; exit %d; }\n"
	    "case \"$2\" in\n"
	    "'core show version') cat \"$F/%s\";;\n"
	    "'module show') cat \"$F/22.10.1/module_show.txt\";;\n"
	    "'core show uptime seconds') cat \"$F/%s\";;\n"
	    "'core show calls') cat \"$F/22.10.1/core_show_calls.txt\";;\n"
	    "'database show beacon') cat \"$F/22.10.1/database_show_beacon.txt\";;\n"
	    "*) echo \"No such command '$2'\";;\n"
	    "esac\n", fixtures, dir, name, exit_code, exit_code, version_file,
	    uptime_file);
	fclose(f);
	chmod(path, 0755);
	return path;
}

static char *
read_log(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s.log", dir, name);
	return unit_read_file(path);
}

static void
test_collect(void)
{
	const char *bin = fake_asterisk("good", "22.10.1/core_show_version.txt",
	    "22.10.1/core_show_uptime_seconds.txt", 0);
	const char *extra[] = { "database show beacon" };
	struct ast_reply xr[1];
	struct report r;
	struct utsname u;
	/* the fixture says up 76 s, reloaded 51 s ago */
	time_t now = utc("2026-11-22T21:54:39Z");
	char *log, *want;

	CHECK_INT(collect_report(&(struct ast_client){.bin = bin}, extra, 1, xr, now, &r), 0);
	CHECK_STR(r.version_name, "Asterisk 22.10.1");
	CHECK_STR(r.version_number, "221001");
	CHECK(r.have_modules);
	CHECK_INT(r.nmodules, 326);
	/* CONTRACT §6 (issue 11): rounded down to the hour, never exact */
	CHECK(r.have_startup_time);
	CHECK_INT(r.startup_time, utc("2026-11-22T21:00:00Z"));
	CHECK(r.have_last_reload_time);
	CHECK_INT(r.last_reload_time, utc("2026-11-22T21:00:00Z"));
	CHECK(r.have_calls_active && r.calls_active == 2);
	CHECK(r.have_calls_processed && r.calls_processed == 5);
	CHECK(uname(&u) == 0);
	CHECK_STR(r.sys_name, u.sysname);
	CHECK_STR(r.release, u.release);
	CHECK_STR(r.machine, u.machine);
	CHECK(r.cpu_count >= 1);
	CHECK(r.memory_total_kb > 0);
	CHECK_INT(r.memory_total_kb % COARSE_MEMORY_KB, 0);
	CHECK(r.system_uptime >= 0);
	CHECK_INT(r.system_uptime % 3600, 0);
	CHECK_INT(xr[0].status, AST_OK);
	CHECK_INT(coarse_memory_kb(4028512), 3932160);	/* 3.75 GiB */
	CHECK_INT(coarse_memory_kb(1024), COARSE_MEMORY_KB);
	CHECK_INT(coarse_memory_kb(-1), -1);
	CHECK_INT(coarse_seconds(350735), 349200);
	CHECK_INT(coarse_time(utc("2026-11-22T21:59:59Z")), utc("2026-11-22T21:00:00Z"));
	want = unit_fixture("22.10.1/database_show_beacon.txt");
	CHECK_STR(xr[0].out, want);
	free(want);
	/* Each command exactly once, in one batch. */
	log = read_log("good");
	CHECK_INT(strlen(log), strlen("core show version\nmodule show\n"
	    "core show uptime seconds\ncore show calls\ndatabase show beacon\n"));
	CHECK(strstr(log, "core show version\n") != NULL);
	CHECK(strstr(log, "module show\n") != NULL);
	CHECK(strstr(log, "core show uptime seconds\n") != NULL);
	CHECK(strstr(log, "core show calls\n") != NULL);
	CHECK(strstr(log, "database show beacon\n") != NULL);
	free(log);
	/* The node name never gets into the report. */
	{
		char *body = report_body(&r, NULL, NULL);
		CHECK(body != NULL && strstr(body, "\"sys_name\"") != NULL);
		if (strlen(u.nodename) > 3)
			CHECK(strstr(body, u.nodename) == NULL);
		free(body);
	}
	ast_reply_free(&xr[0]);
	report_free(&r);
	CHECK(r.modules == NULL && r.version_name == NULL);
}

static void
test_collect_failures(void)
{
	const char *extra[] = { "database show beacon" };
	struct ast_reply xr[1];
	struct report r;
	const char *bin;

	/* Asterisk not running: -1, the extra reply says why too. */
	bin = fake_asterisk("down", "22.10.1/core_show_version.txt",
	    "22.10.1/core_show_uptime_seconds.txt", 1);
	CHECK_INT(collect_report(&(struct ast_client){.bin = bin}, extra, 1, xr, time(NULL), &r), -1);
	CHECK_INT(xr[0].status, AST_FAILED);
	CHECK_STR(xr[0].err, "Unable to connect to remote asterisk (does "
	    "/var/run/asterisk/asterisk.ctl exist?)");
	ast_reply_free(&xr[0]);
	report_free(&r);

	/* A version that is no version: -1. */
	bin = fake_asterisk("nover", "22.10.1/core_show_calls_seconds.txt",
	    "22.10.1/core_show_uptime_seconds.txt", 0);
	CHECK_INT(collect_report(&(struct ast_client){.bin = bin}, NULL, 0, NULL, time(NULL), &r), -1);
	report_free(&r);

	/* The binary missing. */
	{
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/missing", dir);
		CHECK_INT(collect_report(&(struct ast_client){.bin = path}, extra, 1, xr, time(NULL), &r), -1);
		CHECK_INT(xr[0].status, AST_NOT_FOUND);
		ast_reply_free(&xr[0]);
		report_free(&r);
	}

	/* An unreadable uptime is left out; the rest stays. */
	bin = fake_asterisk("noup", "variants/core_show_version_git.txt",
	    "22.10.1/core_show_uptime_bogus.txt", 0);
	CHECK_INT(collect_report(&(struct ast_client){.bin = bin}, NULL, 0, NULL, time(NULL), &r), 0);
	CHECK_STR(r.version_name, "Asterisk GIT-master-abc123f");
	CHECK(!r.have_startup_time && !r.have_last_reload_time);
	CHECK(r.have_calls_active && r.have_modules);
	report_free(&r);
}

/* ---- --show ---------------------------------------------------------- */

/* The output of show_print in a new string. */
static char *
show_text(const struct report *r, const struct target *s, size_t n,
    bool color)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);

	show_print(f, r, s, n, true, color);
	fclose(f);
	return data;
}

static int
longest_line(const char *s)
{
	int max = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		int len = nl ? (int)(nl - s) : (int)strlen(s);
		if (len > max)
			max = len;
		s += len + (nl != NULL);
	}
	return max;
}

static void
test_show(void)
{
	struct report r = full_report();
	struct server_ids ids = { "bc5829cc-4584-43e5-8395-a9b1206d7e02",
		"ca74af9d-260c-4764-b452-e0628a9468a9", "2026-11-22T18:00:00Z" };
	struct server_ids none = { "", "", "" };
	struct server_conf bc = { .name = (char *)"beacon",
		.url = (char *)"https://beacon.asterisk.org" };
	struct server_conf lab = { .name = (char *)"mylab",
		.url = (char *)"https://stats.example.com/beacon" };
	struct target s[2] = {
		{ .conf = &bc, .has_last = true,
		  .last = utc("2026-11-22T18:00:00Z"), .due = false,
		  .next = utc("2026-11-23T00:00:00Z"), .job = { .ids = ids } },
		{ .conf = &lab, .has_last = false, .due = true,
		  .private_name = "lab-pbx",
		  .next = utc("2026-11-22T21:54:39Z"), .job = { .ids = none } },
	};
	char *t = show_text(&r, s, 2, false), *c;

	CHECK(strncmp(t, "ANONYMOUS USAGE STATISTICS ENABLED\n", 35) == 0);
	CHECK(strstr(t, "Server: beacon\n  URL:          https://beacon.asterisk"
	    ".org\n  Server ID:    bc5829cc-4584-43e5-8395-a9b1206d7e02\n"
	    "  Token:\n    ID:         ****\n"
	    "    Issued:     2026-11-22T18:00:00Z\n"
	    "  Last Posting: 2026-11-22T18:00:00Z\n"
	    "  Next Posting: 2026-11-23T00:00:00Z\n"
	    "  Private Name: (none: not sent)\n") != NULL);
	/* a token is never printed in clear but by --show --json */
	CHECK(strstr(t, "ca74af9d-260c-4764-b452-e0628a9468a9") == NULL);
	CHECK(strstr(t, "  Server ID:    none\n") != NULL);
	CHECK(strstr(t, "  Last Posting: never\n  Next Posting: now\n"
	    "  Private Name: lab-pbx\n") != NULL);
	CHECK(strstr(t, "  Version: Asterisk 22.10.1 (221001)\n") != NULL);
	/* the values sent, said to be rounded; no duration from them */
	CHECK(strstr(t, "    Run-time (as sent: rounded down to the hour):\n"
	    "      Started at:       2026-11-22T21:53:23Z\n"
	    "      Last reload time: 2026-11-22T21:53:48Z\n") != NULL);
	CHECK(strstr(t, "Running for") == NULL);
	CHECK(strstr(t, "      Active:    2\n      Processed: 5\n") != NULL);
	/* Columns as wide as their contents. */
	CHECK(strstr(t, "  Modules: 2\n  res_pjsip.so Running core Basic SIP "
	    "resource\n  chan_old.so               Old\n") != NULL);
	/* 81 columns on one line: the kernel version goes below. */
	CHECK(strstr(t, "Operating System:\n  Linux 6.1.0-18-amd64 x86_64\n"
	    "  #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n") != NULL);
	CHECK(strstr(t, "  CPUs:   2\n  Memory: 4028512 kB (as sent: whole "
	    "multiples of 256 MiB)\n  Uptime: 4 days, 1 hour, 25 minutes, "
	    "35 seconds (as sent: in whole hours)\n") != NULL);
	CHECK(strchr(t, '\033') == NULL);
	CHECK(longest_line(t) <= 80);
	c = show_text(&r, s, 2, true);
	CHECK(strstr(c, "\033[1mANONYMOUS USAGE STATISTICS ENABLED\033[0m\n")
	    != NULL);
	free(c);
	free(t);

	/* The real module list and a long kernel version in 80 columns. */
	{
		char *text = unit_fixture("22.10.1/module_show.txt");
		struct report big = full_report();
		CHECK_INT(parse_module_show(text, &big.modules, &big.nmodules), 0);
		/* Longer than uname's 64 bytes: still cut to fit. */
		big.os_version = (char *)"#1 SMP PREEMPT_DYNAMIC Debian "
		    "6.1.129-1 (2025-03-06) with a very long suffix here";
		t = show_text(&big, s, 2, false);
		CHECK(longest_line(t) <= 80);
		CHECK(strstr(t, "  Modules: 326\n") != NULL);
		CHECK(strstr(t, "\n  res_pjsip_endpoint_identifier_anonymous.so "
		    "Running     core       PJSIP Anonym\n") != NULL);
		/* "Not Running" is in the list: an 11-column status. */
		CHECK(strstr(t, "\n  app_adsiprog.so                Running     "
		    "deprecated Asterisk ADSI Programmin\n") != NULL);
		free(t);
		for (size_t i = 0; i < big.nmodules; i++) {
			free(big.modules[i].name);
			free(big.modules[i].description);
			free(big.modules[i].status);
			free(big.modules[i].support_level);
		}
		free(big.modules);
		free(text);
	}
}

static void
test_show_json(void)
{
	struct report r = full_report();
	struct server_ids ids = { "bc5829cc-4584-43e5-8395-a9b1206d7e02", "",
		"" };
	struct server_conf bc = { .name = (char *)"beacon",
		.url = (char *)"https://beacon.asterisk.org" };
	struct target s[1] = {
		{ .conf = &bc, .has_last = false, .due = false,
		  .next = utc("2026-11-23T00:00:00Z"), .job = { .ids = ids } },
	};
	json_t *j = show_json(&r, s, 1, "lab");
	char *got = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *report = report_body(&r, NULL, "lab"), *want = NULL;

	CHECK(asprintf(&want, "{\"report\":%s,\"servers\":[{\"name\":\"beacon\","
	    "\"url\":\"https://beacon.asterisk.org\",\"server_id\":"
	    "\"bc5829cc-4584-43e5-8395-a9b1206d7e02\",\"token_id\":null,"
	    "\"token_issued\":null,\"last_report\":null,\"next_due\":"
	    "\"2026-11-23T00:00:00Z\",\"due\":false,\"enabled\":true,"
	    "\"private_name\":null}]}", report) > 0);
	CHECK_STR(got, want);
	free(got);
	free(want);
	free(report);
	json_decref(j);
}

int
main(void)
{
	const char *fx = getenv("FIXTURES");

	if (realpath(fx ? fx : "tests/fixtures", fixtures) == NULL ||
	    mkdtemp(dir) == NULL) {
		perror("setup");
		return 2;
	}
	test_body_full();
	test_body_omitted();
	test_body_utf8();
	test_collect();
	test_collect_failures();
	test_show();
	test_show_json();
	unit_remove_dir(dir);
	UNIT_END("report");
}
