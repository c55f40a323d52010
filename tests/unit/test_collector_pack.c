/* Unit tests: the storage's compact forms (collector/store/pack.h): a
 * report without its modules and back, the previous report as a diff,
 * a summary split into its module lines and the rest and joined again. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../collector/store/pack.h"
#include "unit.h"

/* Equal as JSON (jansson compares objects whatever their key order). */
static int
same_json(const char *a, const char *b)
{
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
	int same = x != NULL && y != NULL && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return same;
}

#define R1 "{\"id\":\"x\",\"private_name\":\"caf\\u00e9 \xe2\x82\xac\"," \
	"\"asterisk\":{\"version\":{\"name\":\"22.1.0\",\"number\":\"220100\"}," \
	"\"modules\":[{\"name\":\"a.so\",\"description\":\"A\",\"status\":\"Running\"}," \
	"{\"name\":\"b.so\",\"description\":\"B\",\"status\":\"Running\",\"new\":[1,2.5,null,true]}]," \
	"\"stats\":{\"calls\":{\"active\":1,\"processed\":1.0e3}}}," \
	"\"future\":{\"k\":\"v\"}}"

static void
test_report(void)
{
	struct packed p, q;
	char *back;

	CHECK(report_pack(R1, strlen(R1), &p) == 0);
	CHECK_INT((long)strlen(p.hash), PACK_HASH_LEN);
	CHECK(strstr(p.rest, "a.so") == NULL);		/* the modules left */
	CHECK(strstr(p.rest, p.hash) != NULL);		/* their hash in place */
	CHECK(strstr(p.modules, "\"b.so\"") != NULL);
	back = report_unpack(p.rest, p.modules);
	CHECK(back != NULL && same_json(back, R1));
	/* the keys in the order received, modules where they were */
	CHECK(back != NULL && strstr(back, "\"version\"") < strstr(back, "\"modules\"") &&
	    strstr(back, "\"modules\"") < strstr(back, "\"stats\""));
	free(back);
	/* from a parse: the same, and the parse left as it was */
	{
		json_t *r = json_loads(R1, 0, NULL);
		char *before = json_dumps(r, JSON_COMPACT), *after;

		CHECK(report_pack_json(r, &q) == 0);
		CHECK_STR(q.rest, p.rest);
		CHECK_STR(q.modules, p.modules);
		after = json_dumps(r, JSON_COMPACT);
		CHECK_STR(after, before);
		free(before);
		free(after);
		json_decref(r);
		packed_free(&q);
	}
	/* the same modules, in another report: the same hash */
	{
		const char *other = "{\"asterisk\":{\"version\":{\"name\":\"1\"},\"modules\":"
		    "[{\"name\":\"a.so\",\"description\":\"A\",\"status\":\"Running\"},"
		    "{\"name\":\"b.so\",\"description\":\"B\",\"status\":\"Running\","
		    "\"new\":[1,2.5,null,true]}]}}";
		CHECK(report_pack(other, strlen(other), &q) == 0);
		CHECK_STR(q.hash, p.hash);
		packed_free(&q);
	}
	/* no modules: nothing taken out, the report as it is */
	CHECK(report_pack("{\"id\":\"y\"}", 10, &q) == 0);
	CHECK_STR(q.hash, "");
	CHECK(q.modules == NULL);
	back = report_unpack(q.rest, NULL);
	CHECK(back != NULL && same_json(back, "{\"id\":\"y\"}"));
	free(back);
	packed_free(&q);
	/* not a JSON object */
	CHECK(report_pack("[1]", 3, &q) < 0);
	CHECK(report_pack("{", 1, &q) < 0);
	packed_free(&p);
}

static void
test_diff(void)
{
	const char *prev = "{\"a\":1,\"o\":{\"x\":1,\"y\":[1,2],\"z\":{\"d\":1}},\"gone\":true,\"s\":\"old\"}";
	const char *latest = "{\"a\":1,\"o\":{\"x\":2,\"y\":[1,2],\"z\":5},\"s\":\"new\",\"added\":null}";
	char *d = report_diff(prev, latest), *back;

	CHECK(d != NULL);
	/* what did not change is not in the diff */
	CHECK(d != NULL && strstr(d, "[1,2]") == NULL);
	back = d != NULL ? report_undiff(latest, d) : NULL;
	CHECK(back != NULL && same_json(back, prev));
	free(back);
	free(d);
	/* identical: an empty diff */
	d = report_diff(latest, latest);
	CHECK_STR(d, "{}");
	back = report_undiff(latest, d);
	CHECK(back != NULL && same_json(back, latest));
	free(back);
	free(d);
	CHECK(report_diff("[]", latest) == NULL);
	CHECK(report_undiff(latest, "nope") == NULL);
}

static void
test_summary(void)
{
	const char *s = "calls\tactive\t3\n"
	    "channel_driver\tchan_pjsip/res_pjsip\t1\n"
	    "machine\tx86_64\t1\n"
	    "major\t22\t1\n"
	    "module\ta.so\t1\n"
	    "module\tb.so\t1\n"
	    "module_status\ta.so/Running\t1\n"
	    "module_support\ta.so/core\t1\n"
	    "servers\tactive\t1\n"
	    "version\t22.1.0\t1\n";
	char *shared, *own, *back, hash[PACK_HASH_LEN + 1];

	CHECK(summary_split(s, &shared, hash, &own) == 0);
	CHECK_STR(own, "calls\tactive\t3\nmachine\tx86_64\t1\nmajor\t22\t1\n"
	    "servers\tactive\t1\nversion\t22.1.0\t1\n");
	CHECK(shared != NULL && strncmp(shared, "channel_driver\t", 15) == 0);
	CHECK_INT((long)strlen(hash), PACK_HASH_LEN);
	back = summary_join(own, shared);
	CHECK_STR(back, s);
	free(back);
	free(shared);
	free(own);
	/* no module lines: no set */
	CHECK(summary_split("servers\tactive\t1\n", &shared, hash, &own) == 0);
	CHECK(shared == NULL);
	CHECK_STR(hash, "");
	back = summary_join(own, NULL);
	CHECK_STR(back, "servers\tactive\t1\n");
	free(back);
	free(own);
	/* the empty summary */
	CHECK(summary_split("", &shared, hash, &own) == 0);
	CHECK_STR(own, "");
	free(own);
	CHECK(summary_join(NULL, NULL) == NULL);
	/* a key that sorts between dimensions' keys: "module" before
	 * "module_status" whatever the keys */
	back = summary_join("major\t9\t1\n", "module\tz\t1\nmodule_status\ta/R\t1\n");
	CHECK_STR(back, "major\t9\t1\nmodule\tz\t1\nmodule_status\ta/R\t1\n");
	free(back);
}

static void
test_row_v4(void)
{
	struct pack_row row;
	char *back;

	CHECK(pack_row_v4(&row, R1, "{\"id\":\"x\",\"asterisk\":{\"modules\":[]}}",
	    "module\ta.so\t1\nservers\tactive\t1\n") == 0);
	CHECK(row.prev_diff != NULL);
	CHECK(strlen(row.prev.hash) == PACK_HASH_LEN);
	CHECK_STR(row.summary_own, "servers\tactive\t1\n");
	{
		char *prev_rest = report_undiff(row.latest.rest, row.prev_diff);
		back = prev_rest != NULL ? report_unpack(prev_rest, row.prev.modules) : NULL;
		CHECK(back != NULL && same_json(back, "{\"id\":\"x\",\"asterisk\":{\"modules\":[]}}"));
		free(back);
		free(prev_rest);
	}
	pack_row_free(&row);
	/* a registration never reported */
	CHECK(pack_row_v4(&row, NULL, NULL, NULL) == 0);
	CHECK(row.latest.rest == NULL && row.prev_diff == NULL && row.summary_own == NULL);
	pack_row_free(&row);
	CHECK(pack_row_v4(&row, "not json", NULL, NULL) < 0);
}

int
main(void)
{
	test_report();
	test_diff();
	test_summary();
	test_row_v4();
	UNIT_END("collector_pack");
}
