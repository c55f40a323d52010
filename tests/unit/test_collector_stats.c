/* Unit tests: the statistics' summary of a report, the diff of two
 * summaries into counter changes, and k-anonymity in stats_build. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../collector/stats/stats.h"
#include "../../collector/web/metrics.h"
#include "unit.h"

#define T0 ((time_t)1796126400)	/* 2026-12-01T12:00:00Z */

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", e.text);
		exit(2);
	}
	return j;
}

static char *
summary_of(const char *text)
{
	json_t *j = parse(text);
	char *s = stats_summary(j, T0);

	json_decref(j);
	return s;
}

static const char REPORT_A[] =
	"{\"id\":\"x\",\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\","
	"\"number\":\"221001\"},\"modules\":["
	"{\"name\":\"res_pjsip.so\",\"description\":\"d\",\"status\":\"Running\",\"support_level\":\"core\"},"
	"{\"name\":\"chan_sip.so\",\"description\":\"d\",\"status\":\"Running\",\"support_level\":\"deprecated\"},"
	"{\"name\":\"chan_pjsip.so\",\"description\":\"d\",\"status\":\"Running\",\"support_level\":\"core\"},"
	"{\"name\":\"chan_iax2.so\",\"description\":\"d\",\"status\":\"Not Running\"},"
	"{\"name\":\"chan_sip.so\",\"description\":\"d\",\"status\":\"Running\",\"support_level\":\"deprecated\"}],"
	"\"stats\":{\"run_time\":{\"startup_time\":\"2026-11-29T12:00:00Z\"},"
	"\"calls\":{\"active\":3,\"processed\":120}}},"
	"\"operating_system\":{\"sys_name\":\"Linux\",\"machine\":\"x86_64\","
	"\"release\":\"6.1.0\\nevil\",\"cpu_count\":4,"
	"\"memory_total_kb\":1048577},\"private_name\":\"secret\"}";

static void
test_summary(void)
{
	char *s = summary_of(REPORT_A);

	CHECK_STR(s,
	    "calls\tactive\t3\n"
	    "calls\tprocessed\t120\n"
	    "calls_bucket\t100-999\t1\n"
	    "channel_driver\tchan_pjsip/res_pjsip\t1\n"
	    "channel_driver\tchan_sip\t1\n"
	    "cpus\t4\t1\n"
	    "deprecated\tchan_sip.so\t1\n"
	    "machine\tx86_64\t1\n"
	    "major\t22\t1\n"
	    "memory\t2 GiB\t1\n"
	    "module\tchan_iax2.so\t1\n"
	    "module\tchan_pjsip.so\t1\n"
	    "module\tchan_sip.so\t1\n"
	    "module\tres_pjsip.so\t1\n"
	    "module_status\tchan_iax2.so/Not Running\t1\n"
	    "module_status\tchan_pjsip.so/Running\t1\n"
	    "module_status\tchan_sip.so/Running\t1\n"
	    "module_status\tres_pjsip.so/Running\t1\n"
	    "module_support\tchan_iax2.so/unknown\t1\n"
	    "module_support\tchan_pjsip.so/core\t1\n"
	    "module_support\tchan_sip.so/deprecated\t1\n"
	    "module_support\tres_pjsip.so/core\t1\n"
	    "release\t6.1.0?evil\t1\n"
	    "servers\tactive\t1\n"
	    "sys_name\tLinux\t1\n"
	    "uptime\t1-7 days\t1\n"
	    "version\t22.10.1\t1\n");
	CHECK(s != NULL && strstr(s, "secret") == NULL);
	free(s);

	/* The least a report can be: every group still named. */
	s = summary_of("{\"id\":\"x\",\"asterisk\":{\"version\":{\"name\":"
	    "\"GIT-master-abc\",\"number\":\"0\"}}}");
	CHECK_STR(s,
	    "machine\tunknown\t1\n"
	    "major\tunknown\t1\n"
	    "release\tunknown\t1\n"
	    "servers\tactive\t1\n"
	    "sys_name\tunknown\t1\n"
	    "uptime\tunknown\t1\n"
	    "version\tGIT-master-abc\t1\n");
	free(s);

	/* A long key is cut, on a UTF-8 boundary; '/' in a module name
	 * cannot fake a status. */
	{
		char big[600];
		char *p = big + sprintf(big, "{\"id\":\"x\",\"asterisk\":{\"version\":"
		    "{\"name\":\"Asterisk 1");
		for (int i = 0; i < 120; i++)
			p += sprintf(p, "\xc3\xa9");	/* é, 2 bytes */
		sprintf(p, "\",\"number\":\"0\"},\"modules\":[{\"name\":\"a/b.so\","
		    "\"description\":\"\",\"status\":\"Running\"}]}}");
		s = summary_of(big);
		CHECK(s != NULL && strstr(s, "module\ta?b.so\t1\n") != NULL);
		CHECK(s != NULL && strstr(s, "module_status\ta?b.so/Running\t1\n") != NULL);
		{
			const char *v = s != NULL ? strstr(s, "version\t") : NULL;
			size_t len = v != NULL ? strcspn(v + 8, "\t") : 0;
			CHECK(len == STATS_KEY_MAX - 1);	/* "1" + 99 × 2 bytes */
		}
		free(s);
	}
}

/* Collects the changes as "dim key delta;". */
static int
collect(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen, long long delta)
{
	char line[512];

	snprintf(line, sizeof line, "%.*s %.*s %lld;", (int)dimlen, dim,
	    (int)keylen, key, delta);
	strcat(arg, line);
	return 0;
}

static void
test_diff(void)
{
	char out[4096];
	const char *a = "major\t22\t1\nmodule\tx.so\t1\nservers\tactive\t1\n"
	    "version\t22.1\t1\n";
	const char *b = "calls\tactive\t4\nmajor\t22\t1\nservers\tactive\t1\n"
	    "version\t22.2\t1\n";

	out[0] = '\0';
	CHECK_INT(stats_diff(a, a, collect, out), 0);
	CHECK_STR(out, "");		/* the usual case: nothing to write */
	out[0] = '\0';
	stats_diff(a, b, collect, out);
	CHECK_STR(out, "calls active 4;module x.so -1;version 22.1 -1;"
	    "version 22.2 1;");
	out[0] = '\0';
	stats_diff(NULL, a, collect, out);
	CHECK_STR(out, "major 22 1;module x.so 1;servers active 1;version 22.1 1;");
	out[0] = '\0';
	stats_diff(a, NULL, collect, out);
	CHECK_STR(out, "major 22 -1;module x.so -1;servers active -1;"
	    "version 22.1 -1;");
	out[0] = '\0';
	stats_diff("calls\tactive\t4\n", "calls\tactive\t6\n", collect, out);
	CHECK_STR(out, "calls active 2;");
	/* Garbage lines are skipped, never misread. */
	out[0] = '\0';
	stats_diff("junk\nmajor\t22\n", "major\t22\t1\n", collect, out);
	CHECK_STR(out, "major 22 1;");

	/* Real summaries: a diff applied to a's counters gives b's. */
	{
		char *sa = summary_of(REPORT_A);
		char *sb = summary_of("{\"id\":\"x\",\"asterisk\":{\"version\":"
		    "{\"name\":\"Asterisk 22.11.0\",\"number\":\"0\"},\"modules\":["
		    "{\"name\":\"res_pjsip.so\",\"description\":\"d\",\"status\":"
		    "\"Running\",\"support_level\":\"core\"}]}}");
		out[0] = '\0';
		stats_diff(sa, sb, collect, out);
		CHECK(strstr(out, "version 22.10.1 -1;version 22.11.0 1;") != NULL);
		CHECK(strstr(out, "module res_pjsip.so") == NULL);
		CHECK(strstr(out, "deprecated chan_sip.so -1;") != NULL);
		CHECK(strstr(out, "servers active") == NULL);
		free(sa);
		free(sb);
	}
}

static void
add(struct stat_rows *r, const char *dim, const char *key, long long n)
{
	if (stat_rows_add(&r->counts, &r->n_counts, dim, key, n, NULL) < 0)
		exit(2);
}

static const char *
keys(const struct stat_list *l)
{
	static char buf[1024];

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char g[256];
		snprintf(g, sizeof g, "%s%s=%ld", i ? "," : "", l->groups[i].key,
		    l->groups[i].servers);
		strcat(buf, g);
	}
	return buf;
}

static void
test_k_anonymity(void)
{
	struct stat_rows r = { 0 };
	struct stats *s;

	add(&r, "known", "", 12);
	add(&r, "servers", "active", 10);
	add(&r, "version", "22.10.1", 6);
	add(&r, "version", "20.5.0", 2);
	add(&r, "version", "18.1.0", 1);
	add(&r, "version", "other", 1);	/* a version really named so */
	add(&r, "module", "res_pjsip.so", 9);
	add(&r, "module", "chan_rare.so", 2);
	add(&r, "module_status", "res_pjsip.so/Running", 8);
	add(&r, "module_status", "res_pjsip.so/Not Running", 1);
	add(&r, "module_status", "chan_rare.so/Running", 2);
	add(&r, "module_support", "res_pjsip.so/core", 9);
	add(&r, "machine", "x86_64", 3);
	add(&r, "machine", "aarch64", 3);
	add(&r, "machine", "riscv64", 0);	/* an emptied group */
	add(&r, "calls", "active", 7);
	add(&r, "major", "22", 6);
	add(&r, "major", "20", 2);
	add(&r, "major", "18", 2);
	add(&r, "first_seen", "2026-11-24", 5);	/* 7 days before T0: out */
	add(&r, "first_seen", "2026-11-25", 3);	/* 6 days before: in */
	add(&r, "first_seen", "2026-12-01", 1);
	if (stat_rows_add(&r.history, &r.n_history, "servers", "active", 2,
	    "2026-11-30") < 0 ||
	    stat_rows_add(&r.history, &r.n_history, "major", "22", 2,
	    "2026-11-30") < 0 ||
	    stat_rows_add(&r.history, &r.n_history, "servers", "active", 9,
	    "2026-12-01") < 0 ||
	    stat_rows_add(&r.history, &r.n_history, "major", "22", 7,
	    "2026-12-01") < 0 ||
	    stat_rows_add(&r.history, &r.n_history, "major", "20", 2,
	    "2026-12-01") < 0)
		exit(2);

	s = stats_build(&r, 3, 7, T0);
	CHECK(s != NULL);
	CHECK_INT(s->servers_known, 12);
	CHECK_INT(s->servers_active, 10);
	CHECK_INT(s->servers_new_7d, 4);
	CHECK(!s->suppressed);
	CHECK_STR(keys(&s->versions), "22.10.1=6,other=4");
	CHECK_STR(keys(&s->machines), "aarch64=3,x86_64=3");
	CHECK_INT(s->n_modules, 1);
	CHECK_STR(s->n_modules ? s->modules[0].name : "", "res_pjsip.so");
	CHECK_STR(s->n_modules ? keys(&s->modules[0].status) : "",
	    "Running=8,other=1");
	CHECK_INT(s->calls_active_total, 7);
	CHECK_INT(s->n_history, 2);
	CHECK_STR(s->n_history ? s->history[0].date : "", "2026-11-30");
	CHECK_INT(s->n_history ? s->history[0].major_versions.n : 9, 0);
	/* Today (T0's day) is the counters as they stand, not its stored
	 * row (9 active, 22=7, 20=2): 10 active, 20 and 18 below k. */
	CHECK_STR(s->n_history > 1 ? s->history[1].date : "", "2026-12-01");
	CHECK_INT(s->n_history > 1 ? s->history[1].active : 0, 10);
	CHECK_STR(s->n_history > 1 ? keys(&s->history[1].major_versions) : "",
	    "22=6,other=4");
	{
		json_t *j = stats_to_json(s);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		char *metrics = metrics_render(s);
		char *plain = stats_to_text(s);
		CHECK(text != NULL && strstr(text, "20.5.0") == NULL &&
		    strstr(text, "chan_rare") == NULL);
		CHECK(text != NULL && strstr(text,
		    "\"totals\":{\"servers_known\":12,\"servers_active\":10,"
		    "\"servers_new_7d\":4}") != NULL);
		CHECK(metrics != NULL && strstr(metrics,
		    "beacon_servers{version=\"other\"} 4\n") != NULL);
		CHECK(metrics != NULL && strstr(metrics, "20.5.0") == NULL);
		CHECK(plain != NULL && strstr(plain, "20.5.0") == NULL &&
		    strstr(plain, "22.10.1") != NULL);
		free(text);
		free(metrics);
		free(plain);
		json_decref(j);
	}
	stats_free(s);

	/* Fewer active than k: counts only, today's point too. */
	s = stats_build(&r, 11, 7, T0);
	CHECK(s != NULL && s->suppressed);
	CHECK_INT(s ? s->servers_active : 0, 10);
	CHECK_INT(s ? s->versions.n + s->n_modules + s->machines.n : 1, 0);
	CHECK_INT(s ? s->calls_active_total : 1, 0);
	CHECK_INT(s && s->n_history > 1 ? s->history[1].active : 0, 10);
	CHECK_INT(s && s->n_history > 1 ? s->history[1].major_versions.n : 1, 0);
	stats_free(s);

	/* The next day, before its first periodic job: a point of its own
	 * after the stored days. */
	s = stats_build(&r, 3, 7, T0 + 86400);
	CHECK_INT(s ? s->n_history : 0, 3);
	CHECK_STR(s && s->n_history > 2 ? s->history[2].date : "", "2026-12-02");
	CHECK_INT(s && s->n_history > 2 ? s->history[2].active : 0, 10);
	CHECK_STR(s && s->n_history > 2 ? keys(&s->history[2].major_versions) :
	    "", "22=6,other=4");
	CHECK_INT(s && s->n_history > 1 ? s->history[1].active : 0, 9);
	stats_free(s);

	/* A clock gone back before the last stored day: the days as stored. */
	s = stats_build(&r, 3, 7, T0 - 2 * 86400);
	CHECK_INT(s ? s->n_history : 0, 2);
	CHECK_INT(s && s->n_history > 1 ? s->history[1].active : 0, 9);
	stats_free(s);

	/* k = 1: everything shown, nothing merged. */
	s = stats_build(&r, 1, 7, T0);
	CHECK_STR(s ? keys(&s->versions) : "", "22.10.1=6,20.5.0=2,18.1.0=1,other=1");
	CHECK_INT(s ? s->n_modules : 0, 2);
	stats_free(s);
	stat_rows_free(&r);
}

static void
test_escape(void)
{
	char *e = metrics_escape("a\\b\"c\nd");

	CHECK_STR(e, "a\\\\b\\\"c\\nd");
	free(e);
}

/* Issue 21: C1 controls (U+0080..U+009F) go like C0, in the summary's
 * keys and in --stats' text (whatever an older database holds). */
static void
test_c1_controls(void)
{
	char *sum = summary_of("{\"id\":\"x\",\"operating_system\":{\"release\":"
	    "\"6.1\\u009b31m\\u0085x\\u00a0\\u00e9\"}}");
	struct stat_rows r = { 0 };
	struct stats *s;
	char *plain;

	CHECK(sum != NULL && strstr(sum, "release\t6.1?31m?x\xc2\xa0\xc3\xa9\t1\n") != NULL);
	free(sum);
	add(&r, "known", "", 1);
	add(&r, "servers", "active", 1);
	add(&r, "release", "evil\xc2\x9b[2J\xc2\x80\x1b-ok\xc3\xa9", 1);
	s = stats_build(&r, 1, 7, T0);
	plain = s != NULL ? stats_to_text(s) : NULL;
	CHECK(plain != NULL && strstr(plain, "evil?[2J?" "?-ok\xc3\xa9") != NULL);
	CHECK(plain != NULL && strstr(plain, "\xc2\x9b") == NULL &&
	    strstr(plain, "\xc2\x80") == NULL);
	free(plain);
	stats_free(s);
	stat_rows_free(&r);
}

/* Issue 21: a sum one server makes up more than half of is hidden, and
 * so is one whose servers' shares are not all known. */
static void
test_sum_rule(void)
{
	struct stat_rows r = { 0 };
	struct stats *s;

	add(&r, "known", "", 5);
	add(&r, "servers", "active", 5);
	add(&r, "calls", "active", 37);
	add(&r, "calls", "processed", 200);
	r.calls_max_active = 37;	/* one server: all of it */
	r.calls_max_processed = 100;	/* exactly half: shown */
	s = stats_build(&r, 5, 7, T0);
	CHECK_INT(s ? s->calls_active_total : 0, STATS_HIDDEN);
	CHECK_INT(s ? s->calls_processed_total : 0, 200);
	{
		json_t *j = s ? stats_to_json(s) : NULL;
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		char *metrics = s ? metrics_render(s) : NULL;
		CHECK(text != NULL && strstr(text,
		    "\"calls\":{\"active\":null,\"processed\":200}") != NULL);
		CHECK(metrics != NULL && strstr(metrics, "beacon_calls_active") == NULL &&
		    strstr(metrics, "beacon_calls_processed 200\n") != NULL);
		free(text);
		free(metrics);
		json_decref(j);
	}
	stats_free(s);
	r.calls_unknown = 1;
	s = stats_build(&r, 5, 7, T0);
	CHECK_INT(s ? s->calls_processed_total : 0, STATS_HIDDEN);
	stats_free(s);
	stat_rows_free(&r);
}

/* stats_bound: keys counted by name only while there is room; the ones a
 * server counted by name before stay so; overflow sorts first. */
static int room_left;
static int
fake_room(void *arg, const char *dim, size_t dimlen, const char *key,
    size_t keylen)
{
	(void)arg;
	(void)dim;
	(void)dimlen;
	if (keylen == 8 && memcmp(key, "known.so", 8) == 0)
		return 1;	/* its counter exists */
	return room_left-- > 0 ? 1 : 0;
}

static void
test_bound(void)
{
	const char *new = "calls\tactive\t4\n"
	    "module\ta.so\t1\nmodule\tb.so\t1\nmodule\tc.so\t1\n"
	    "module\tknown.so\t1\nmodule\tz.so\t1\n"
	    "release\tx\t1\nservers\tactive\t1\n";
	const char *old = "module\tz.so\t1\n";
	char *b;

	room_left = 1;
	b = stats_bound(old, new, fake_room, NULL);
	CHECK_STR(b, "calls\tactive\t4\n"
	    "module\t\x1f\t2\nmodule\ta.so\t1\nmodule\tknown.so\t1\n"
	    "module\tz.so\t1\n"
	    "release\t\x1f\t1\nservers\tactive\t1\n");
	/* Bounded again with nothing new: the same. */
	{
		char *again;
		room_left = 0;
		again = stats_bound(b, b, fake_room, NULL);
		CHECK_STR(again, b);
		free(again);
	}
	free(b);
}

/* The keys of the size buckets (issue 22): edges of each. */
static void
test_size_keys(void)
{
	static const struct { const char *os; const char *calls;
	    const char *want; } c[] = {
		{ "\"cpu_count\":1,\"memory_total_kb\":1048576", "0",
		  "calls_bucket\t0\t1\ncpus\t1\t1\nmemory\t1 GiB\t1\n" },
		{ "\"cpu_count\":4096,\"memory_total_kb\":1048575", "9",
		  "calls_bucket\t1-9\t1\ncpus\t4096\t1\nmemory\t<1 GiB\t1\n" },
		{ "\"cpu_count\":4097,\"memory_total_kb\":3145728", "999999",
		  "calls_bucket\t100000-999999\t1\nmemory\t4 GiB\t1\n" },
		{ "\"cpu_count\":0", "1000000",
		  "calls_bucket\t1000000+\t1\n" },
		{ "\"cpu_count\":\"8\"", "10", "calls_bucket\t10-99\t1\n" },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char text[512], want[512], *s;

		snprintf(text, sizeof text, "{\"id\":\"x\",\"asterisk\":{"
		    "\"version\":{\"name\":\"Asterisk 22.1.0\",\"number\":\"0\"},"
		    "\"stats\":{\"calls\":{\"processed\":%s}}},"
		    "\"operating_system\":{%s}}", c[i].calls, c[i].os);
		s = summary_of(text);
		/* the new lines only */
		want[0] = '\0';
		for (const char *l = s; l != NULL && *l != '\0';
		    l += strcspn(l, "\n") + 1)
			if (strncmp(l, "calls_bucket\t", 13) == 0 ||
			    strncmp(l, "cpus\t", 5) == 0 ||
			    strncmp(l, "memory\t", 7) == 0)
				strncat(want, l, strcspn(l, "\n") + 1);
		CHECK_STR(want, c[i].want);
		free(s);
	}
}

/* p5/p50/p95 by nearest rank over the ordered buckets; a percentile
 * whose bucket holds fewer than min_group servers is hidden (issue 22). */
static void
test_percentiles(void)
{
	struct stat_rows r = { 0 };
	struct stat_dist d;
	struct stats *s;

	/* 20 servers: 1 CPU ×1, 2 ×9, 4 ×8, 64 ×2 (numeric, not byte, order) */
	add(&r, "servers", "active", 20);
	add(&r, "cpus", "64", 2);
	add(&r, "cpus", "1", 1);
	add(&r, "cpus", "2", 9);
	add(&r, "cpus", "4", 8);
	add(&r, "cpus", "100", 0);	/* an emptied bucket */
	CHECK(stats_distribution(&r, STATS_DIST_CPUS, 1, &d) == 0);
	CHECK_INT(d.servers, 20);
	/* ranks: p5 = 1st (1), p50 = 10th (2), p95 = 19th (64) */
	CHECK_STR(d.p[0], "1");
	CHECK_STR(d.p[1], "2");
	CHECK_STR(d.p[2], "64");
	CHECK(stats_distribution(&r, STATS_DIST_CPUS, 8, &d) == 0);
	CHECK_STR(d.p[0], "");		/* 1 server: hidden */
	CHECK_STR(d.p[1], "2");
	CHECK_STR(d.p[2], "");
	CHECK(stats_distribution(&r, STATS_DIST_CPUS, 10, &d) == 0);
	CHECK_STR(d.p[1], "");		/* 9 < 10 */
	CHECK_INT(d.servers, 20);

	/* memory and calls order; uptime "unknown" is not counted */
	add(&r, "memory", "16 GiB", 5);
	add(&r, "memory", "<1 GiB", 5);
	add(&r, "memory", "2 GiB", 10);
	CHECK(stats_distribution(&r, STATS_DIST_MEMORY, 5, &d) == 0);
	CHECK_STR(d.p[0], "<1 GiB");
	CHECK_STR(d.p[1], "2 GiB");
	CHECK_STR(d.p[2], "16 GiB");
	add(&r, "calls_bucket", "1000000+", 3);
	add(&r, "calls_bucket", "100-999", 3);
	add(&r, "calls_bucket", "0", 3);
	CHECK(stats_distribution(&r, STATS_DIST_CALLS, 3, &d) == 0);
	CHECK_STR(d.p[0], "0");
	CHECK_STR(d.p[1], "100-999");
	CHECK_STR(d.p[2], "1000000+");
	add(&r, "uptime", "unknown", 50);
	add(&r, "uptime", "> 1 year", 10);
	add(&r, "uptime", "< 1 day", 10);
	CHECK(stats_distribution(&r, STATS_DIST_UPTIME, 10, &d) == 0);
	CHECK_INT(d.servers, 20);
	CHECK_STR(d.p[0], "< 1 day");
	CHECK_STR(d.p[1], "< 1 day");	/* 10th of 20 */
	CHECK_STR(d.p[2], "> 1 year");

	/* and through stats_build into the JSON */
	s = stats_build(&r, 8, 7, T0);
	{
		json_t *j = s ? stats_to_json(s) : NULL;
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		CHECK(text != NULL && strstr(text, "\"cpus\":{\"servers\":20,"
		    "\"p5\":null,\"p50\":\"2\",\"p95\":null}") != NULL);
		CHECK(text != NULL && strstr(text, "\"memory\":{\"servers\":20,"
		    "\"p5\":null,\"p50\":\"2 GiB\",\"p95\":null}") != NULL);
		free(text);
		json_decref(j);
	}
	stats_free(s);
	stat_rows_free(&r);
}

int
main(void)
{
	test_c1_controls();
	test_sum_rule();
	test_bound();
	test_summary();
	test_diff();
	test_k_anonymity();
	test_escape();
	test_size_keys();
	test_percentiles();
	UNIT_END("collector_stats");
}
