/* Unit tests of issue 22's pure functions: the history's points and their
 * k-anonymity, the query's days, a module name's charset, the major of a
 * certified version and the order of majors, and the dashboard's stacked
 * area drawn from a snapshot's history. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../collector/stats/history.h"
#include "../../collector/stats/stats.h"
#include "../../collector/web/dashboard.h"
#include "../../collector/web/modules.h"
#include "../../collector/web/svg.h"
#include "unit.h"

static void
add(struct stat_rows *r, const char *day, const char *dim, const char *key,
    long long n)
{
	if (stat_rows_add(&r->history, &r->n_history, dim, key, n, day) < 0)
		exit(2);
}

/* "day dim key n;" for every point. */
static char *
points(const struct history *h)
{
	static char out[2048];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < h->n && len < sizeof out - 64; i++)
		len += (size_t)snprintf(out + len, sizeof out - len, "%s %s %s %ld;",
		    h->points[i].day, h->points[i].dimension, h->points[i].key,
		    h->points[i].servers);
	return out;
}

static void
test_build(void)
{
	struct stat_rows r = { 0 };
	struct history h;
	json_t *j;
	char *text;

	add(&r, "2026-12-01", "servers", "active", 3);
	add(&r, "2026-12-01", "servers", "new", 3);
	add(&r, "2026-12-01", "major", "22", 3);
	add(&r, "2026-12-02", "major", "18 (certified)", 2);
	add(&r, "2026-12-02", "major", "23", 3);
	add(&r, "2026-12-02", "major", "20", 1);
	add(&r, "2026-12-02", "major", STATS_KEY_OVERFLOW, 1);
	add(&r, "2026-12-02", "module", "a.so", 7);
	add(&r, "2026-12-02", "module", "rare.so", 1);
	add(&r, "2026-12-02", "servers", "gone", 1);
	add(&r, "2026-12-02", "servers", "active", 7);
	/* Day 1 has fewer than k = 4 active: its counts only. */
	CHECK(history_build(&r, NULL, 4, NULL, &h) == 0);
	CHECK_STR(points(&h), "2026-12-01 servers active 3;2026-12-01 servers new 3;"
	    "2026-12-02 servers active 7;2026-12-02 servers gone 1;"
	    "2026-12-02 major other 7;2026-12-02 module a.so 7;"
	    "2026-12-02 lifecycle unknown 7;");
	history_free(&h);
	/* k = 2: majors by version, the overflow key in "other"; the module
	 * below k dropped, not summed. */
	CHECK(history_build(&r, "major", 2, NULL, &h) == 0);
	CHECK_STR(points(&h), "2026-12-01 major 22 3;2026-12-02 major 23 3;"
	    "2026-12-02 major 18 (certified) 2;2026-12-02 major other 2;");
	j = history_to_json(&h, "major", 30, 2);
	text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(text, "{\"dimension\":\"major\",\"days\":30,\"min_group\":2,"
	    "\"history\":[{\"date\":\"2026-12-01\",\"groups\":[{\"name\":\"22\","
	    "\"servers\":3}]},{\"date\":\"2026-12-02\",\"groups\":[{\"name\":"
	    "\"23\",\"servers\":3},{\"name\":\"18 (certified)\",\"servers\":2},"
	    "{\"name\":\"other\",\"servers\":2}]}]}");
	free(text);
	json_decref(j);
	history_free(&h);
	CHECK(history_build(&r, "module", 2, NULL, &h) == 0);
	CHECK_STR(points(&h), "2026-12-02 module a.so 7;");
	history_free(&h);
	stat_rows_free(&r);
	/* Nothing stored: no point. */
	CHECK(history_build(&r, NULL, 1, NULL, &h) == 0 && h.n == 0);
}

static void
test_parse(void)
{
	CHECK(history_dimension_known("servers"));
	CHECK(history_dimension_known("lifecycle"));
	CHECK(!history_dimension_known("Servers"));
	CHECK(!history_dimension_known(""));
	CHECK(!history_dimension_known(NULL));
	CHECK_STR(history_stored_dimension("lifecycle"), "major");
	CHECK_INT(history_parse_days("1", 400), 1);
	CHECK_INT(history_parse_days("400", 400), 400);
	CHECK_INT(history_parse_days("401", 400), -1);
	CHECK_INT(history_parse_days("0", 400), -1);
	CHECK_INT(history_parse_days("", 400), -1);
	CHECK_INT(history_parse_days(NULL, 400), -1);
	CHECK_INT(history_parse_days("-1", 400), -1);
	CHECK_INT(history_parse_days("+1", 400), -1);
	CHECK_INT(history_parse_days(" 1", 400), -1);
	CHECK_INT(history_parse_days("99999999999999999999", 400), -1);
	CHECK_INT(history_parse_days("0000001", 400), -1);	/* too long */
	CHECK_INT(history_parse_days("000001", 400), 1);
}

static void
test_module_names(void)
{
	char long_name[MODULE_NAME_MAX + 2];

	CHECK(module_name_valid("chan_sip.so", 11));
	CHECK(module_name_valid("res_pjsip-x+y.so", 16));
	CHECK(!module_name_valid("", 0));
	CHECK(!module_name_valid(".hidden", 7));
	CHECK(!module_name_valid("a/b", 3));
	CHECK(!module_name_valid("a b", 3));
	CHECK(!module_name_valid("=x", 2));
	CHECK(!module_name_valid("a\"b", 3));
	CHECK(!module_name_valid("a%2f", 4));
	CHECK(!module_name_valid("caf\xc3\xa9", 5));
	memset(long_name, 'x', sizeof long_name);
	CHECK(module_name_valid(long_name, MODULE_NAME_MAX));
	CHECK(!module_name_valid(long_name, MODULE_NAME_MAX + 1));
	/* only len bytes are looked at: "a.so" of "a.so.svg" */
	CHECK(module_name_valid("a.so/x", 4));
}

static void
test_majors(void)
{
	char k[STATS_KEY_MAX + 1];
	struct stat_group g[] = { { (char[]){ "other" }, 9, NULL },
	    { (char[]){ "18 (certified)" }, 5, NULL },
	    { (char[]){ "unknown" }, 4, NULL }, { (char[]){ "1.8" }, 3, NULL },
	    { (char[]){ "22" }, 1, NULL }, { (char[]){ "18" }, 2, NULL },
	    { (char[]){ "9" }, 2, NULL } };
	struct stat_list l = { g, sizeof g / sizeof g[0] };
	char got[256] = "";

	stats_major_key("22.10.1", k);
	CHECK_STR(k, "22");
	stats_major_key("certified/18.9-cert5", k);
	CHECK_STR(k, "18 (certified)");
	stats_major_key("18.9-cert5", k);
	CHECK_STR(k, "18 (certified)");
	stats_major_key("1.8.32.3", k);
	CHECK_STR(k, "1.8");
	stats_major_key("GIT-master-abc", k);
	CHECK_STR(k, "unknown");
	stats_major_key("certified/", k);
	CHECK_STR(k, "unknown");
	stats_major_key("unknown", k);
	CHECK_STR(k, "unknown");
	stats_sort_majors(&l);
	for (size_t i = 0; i < l.n; i++) {
		strcat(got, l.groups[i].key);
		strcat(got, ",");
	}
	CHECK_STR(got, "22,18,18 (certified),9,1.8,unknown,other,");
}

/* The dashboard of a snapshot whose history shows an upgrade. */
static void
test_dashboard_adoption(void)
{
	struct stat_group d1[] = { { (char[]){ "22" }, 6, NULL },
	    { (char[]){ "20" }, 4, NULL } };
	struct stat_group d2[] = { { (char[]){ "23" }, 3, NULL },
	    { (char[]){ "22" }, 3, NULL }, { (char[]){ "20" }, 4, NULL } };
	struct stats_day days[3] = {
		{ "2026-11-30", 2, { NULL, 0 }, { NULL, 0 }, 2, 0 },
		{ "2026-12-01", 10, { d1, 2 }, { NULL, 0 }, 8, 0 },
		{ "2026-12-02", 10, { d2, 3 }, { NULL, 0 }, 0, 1 },
	};
	struct stats s;
	char *page;

	memset(&s, 0, sizeof s);
	s.generated = 1796169600;
	s.min_group = 3;
	s.active_days = 7;
	s.servers_active = 10;
	s.history = days;
	s.n_history = 3;
	page = dashboard_render(&s);
	CHECK(page != NULL);
	if (page == NULL)
		return;
	/* the day below min_group has no column; three bands, named */
	CHECK(strstr(page, "<title>23</title></path>") != NULL);
	CHECK(strstr(page, "<title>20</title></path>") != NULL);
	CHECK(strstr(page, "on the last day: 20 4, 22 3, 23 3.") != NULL);
	CHECK(strstr(page, "on the last day: 20 40.0 %, 22 30.0 %, 23 30.0 %.") != NULL);
	CHECK(strstr(page, "<th scope=\"row\">2026-11-30</th><td class=\"num\">") != NULL);
	CHECK(strstr(page, "Gone PBXs per day") != NULL);
	CHECK(strstr(page, "<script") == NULL);
	free(page);
}

int
main(void)
{
	test_build();
	test_parse();
	test_module_names();
	test_majors();
	test_dashboard_adoption();
	UNIT_END("collector_history");
}
