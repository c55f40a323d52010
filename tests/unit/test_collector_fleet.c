/* Unit tests: the fleet view's query (collector/web/fleet_query.c: the
 * sort and its parsing, the filters, versions in numeric order) and a
 * server's changes between two reports (collector/base/changes.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../collector/base/changes.h"
#include "../../collector/web/fleet_query.h"
#include "unit.h"

static void
test_sort_parse(void)
{
	enum fleet_col c;
	bool desc;

	CHECK(fleet_sort_parse(NULL, NULL, &c, &desc));
	CHECK_INT(c, COL_LAST_SEEN);
	CHECK(desc);
	CHECK(fleet_sort_parse("", "", &c, &desc));
	CHECK_INT(c, COL_LAST_SEEN);
	CHECK(fleet_sort_parse("name", NULL, &c, &desc));
	CHECK_INT(c, COL_NAME);
	CHECK(!desc);			/* text: ascending by default */
	CHECK(fleet_sort_parse("cpus", NULL, &c, &desc));
	CHECK_INT(c, COL_CPUS);
	CHECK(desc);			/* numbers: descending */
	CHECK(fleet_sort_parse("memory", "asc", &c, &desc));
	CHECK(!desc);
	CHECK(fleet_sort_parse("name", "desc", &c, &desc));
	CHECK(desc);
	CHECK(!fleet_sort_parse("Name", NULL, &c, &desc));
	CHECK(!fleet_sort_parse("id", NULL, &c, &desc));
	CHECK(!fleet_sort_parse("name;", NULL, &c, &desc));
	CHECK(!fleet_sort_parse("name", "ASC", &c, &desc));
	CHECK(!fleet_sort_parse("name", "up", &c, &desc));
	/* every column's name parses back to it */
	for (int i = 0; i < COL_COUNT; i++) {
		CHECK(fleet_sort_parse(fleet_col_name((enum fleet_col)i), NULL,
		    &c, &desc));
		CHECK_INT(c, i);
	}
}

static void
test_versions(void)
{
	CHECK_STR(fleet_version_core("certified/18.9-cert5"), "18.9-cert5");
	CHECK_STR(fleet_version_core("Asterisk 22.1.0"), "22.1.0");
	CHECK(fleet_version_match("18", "certified/18.9-cert5"));
	CHECK(fleet_version_match("18.9", "certified/18.9-cert5"));
	CHECK(fleet_version_match("certified/18.9", "certified/18.9-cert5"));
	CHECK(fleet_version_match("certified/18.9-cert5", "certified/18.9-cert5"));
	CHECK(!fleet_version_match("18.9-cert", "certified/18.9-cert5"));
	CHECK(fleet_version_match("22", "22.10.1"));
	CHECK(fleet_version_match("22.10", "22.10.1"));
	CHECK(fleet_version_match("22.10.1", "22.10.1"));
	CHECK(!fleet_version_match("2", "22.10.1"));
	CHECK(!fleet_version_match("22.1", "22.10.1"));
	CHECK(!fleet_version_match("22", NULL));
	CHECK(!fleet_version_match("%", "22.1.0"));
	CHECK(fleet_version_match(NULL, "22.1.0"));

	CHECK(fleet_version_cmp("9.0.0", "18.9-cert5") < 0);
	CHECK(fleet_version_cmp("18.9-cert5", "22.2.0") < 0);
	CHECK(fleet_version_cmp("22.2.0", "22.10.1") < 0);
	CHECK(fleet_version_cmp("22.10.1", "22.10.1") == 0);
	CHECK(fleet_version_cmp("22.10", "22.10.1") < 0);
	CHECK(fleet_version_cmp("certified/18.9-cert5", "18.9-cert4") > 0);
	CHECK(fleet_version_cmp("022.1", "22.1") == 0);
	CHECK(fleet_version_cmp(NULL, "1") < 0);
	CHECK(fleet_version_cmp("1", NULL) > 0);
	CHECK(fleet_version_cmp("6.1.0-28-amd64", "6.12.5-arm64") < 0);
}

static struct fleet_server
row(const char *id, const char *name, const char *version, time_t seen,
    long long cpus)
{
	struct fleet_server s;

	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "%s", id);
	s.private_name = (char *)(uintptr_t)name;
	s.version = (char *)(uintptr_t)version;
	s.last_seen = seen;
	s.cpus = cpus;
	s.memory_kb = -1;
	s.modules = -1;
	s.calls_active = s.calls_processed = -1;
	s.machine = (char *)(uintptr_t)"x86_64";
	s.kernel = (char *)(uintptr_t)"6.1.0-28-amd64";
	return s;
}

static void
test_match(void)
{
	struct fleet_server s = row("a", "ACME Berlin", "certified/18.9-cert5", 0, 4);
	struct fleet_match m = { 0 };

	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.q = "acme";
	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.q = "BERLIN";
	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.q = "paris";
	CHECK(!fleet_matches(&m, &s, NULL, 0));
	m.q = NULL;
	m.version = "18";
	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.machine = "X86_64";
	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.machine = "x86";		/* a machine is named whole */
	CHECK(!fleet_matches(&m, &s, NULL, 0));
	m.machine = NULL;
	m.kernel = "6.1.0";
	CHECK(fleet_matches(&m, &s, NULL, 0));
	m.kernel = "5.10";
	CHECK(!fleet_matches(&m, &s, NULL, 0));
	s.private_name = NULL;
	m.kernel = NULL;
	m.q = "a";
	CHECK(!fleet_matches(&m, &s, NULL, 0));	/* no name: no match */
	CHECK(fleet_contains("abc", ""));
	CHECK(!fleet_contains(NULL, "a"));
}

static void
test_sort(void)
{
	struct fleet_server v[4];
	char order[8] = "? ? ? ?";

	v[0] = row("id-b", "bravo", "22.10.1", 100, 2);
	v[1] = row("id-a", "Alpha", "9.0.0", 300, 16);
	v[2] = row("id-c", "charlie", "certified/18.9-cert5", 200, -1);
	v[3] = row("id-d", "delta", "22.2.0", 200, 8);

#define ORDER() (order[0] = v[0].id[3], order[2] = v[1].id[3], \
	order[4] = v[2].id[3], order[6] = v[3].id[3], order)
	fleet_sort(v, 4, COL_NAME, false, NULL, 0);
	CHECK_STR(ORDER(), "a b c d");
	fleet_sort(v, 4, COL_NAME, true, NULL, 0);
	CHECK_STR(ORDER(), "d c b a");
	fleet_sort(v, 4, COL_VERSION, false, NULL, 0);
	CHECK_STR(ORDER(), "a c d b");
	fleet_sort(v, 4, COL_CPUS, true, NULL, 0);
	CHECK_STR(ORDER(), "a d b c");		/* unknown last when descending */
	/* ties: newest last_seen, then id */
	fleet_sort(v, 4, COL_LAST_SEEN, true, NULL, 0);
	CHECK_STR(ORDER(), "a c d b");
	fleet_sort(v, 4, COL_MEMORY, true, NULL, 0);	/* all unknown */
	CHECK_STR(ORDER(), "a c d b");
#undef ORDER
	fleet_sort(NULL, 0, COL_NAME, false, NULL, 0);	/* nothing: no call */
	fleet_sort(v, 1, COL_NAME, false, NULL, 0);
	CHECK_STR(v[0].id, "id-a");
}

/* "kind=detail|..." of the changes from a to b. */
static const char *
changes(const char *a, const char *b)
{
	static char out[2048];
	struct change_list l;

	out[0] = '\0';
	if (changes_between(a, a != NULL ? strlen(a) : 0, b, strlen(b), &l) < 0)
		return "(error)";
	for (size_t i = 0; i < l.n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s=%s",
		    i ? "|" : "", l.v[i].kind, l.v[i].detail);
	change_list_free(&l);
	return out;
}

#define R(name, version, mods) "{\"private_name\":" name ",\"asterisk\":{" \
	"\"version\":{\"name\":\"" version "\"},\"modules\":[" mods "]}}"
#define M(n) "{\"name\":\"" n "\"}"

static void
test_changes(void)
{
	CHECK_STR(changes(NULL, R("\"a\"", "Asterisk 20.5.0", M("x.so"))),
	    "first_report=20.5.0");
	CHECK_STR(changes("not json", R("\"a\"", "20.5.0", "")),
	    "first_report=20.5.0");
	CHECK_STR(changes(R("\"a\"", "20.5.0", M("x.so") "," M("y.so")),
	    R("\"a\"", "20.5.0", M("y.so") "," M("x.so"))), "");
	CHECK_STR(changes(R("\"a\"", "20.5.0", M("b.so") "," M("c.so")),
	    R("\"z\"", "22.1.0", M("d.so") "," M("a.so") "," M("c.so"))),
	    "version=20.5.0 -> 22.1.0|private_name=z|module_removed=b.so|"
	    "module_added=a.so|module_added=d.so");
	CHECK_STR(changes(R("\"a\"", "20.5.0", ""), R("null", "20.5.0", "")),
	    "private_name=");
	/* a module listed twice counts once */
	CHECK_STR(changes(R("\"a\"", "20.5.0", ""),
	    R("\"a\"", "20.5.0", M("x.so") "," M("x.so"))), "module_added=x.so");
	CHECK_STR(changes(R("\"a\"", "20.5.0", ""), "[1"), "(error)");
	{
		/* a swap of many modules keeps CHANGES_MAX rows */
		size_t cap = 64 + 40 * 3000;
		char *big = malloc(cap);
		struct change_list l;

		snprintf(big, cap, "{\"asterisk\":{\"modules\":[");
		for (int i = 0; i < 3000; i++)
			snprintf(big + strlen(big), cap - strlen(big),
			    "%s{\"name\":\"m%d.so\"}", i ? "," : "", i);
		strcat(big, "]}}");
		CHECK_INT(changes_between("{}", 2, big, strlen(big), &l), 0);
		CHECK_INT(l.n, CHANGES_MAX);
		CHECK_INT(l.dropped, 3000 - CHANGES_MAX);
		change_list_free(&l);
		free(big);
	}
}

/* "kind=detail|..." of the changes between two summaries; "(1)" when
 * they cannot tell. */
static const char *
from_summaries(const char *a, const char *b, const char *na, const char *nb)
{
	static char out[2048];
	struct change_list l;
	int rc = changes_from_summaries(a, b, na, nb, &l);

	out[0] = '\0';
	if (rc != 0) {
		change_list_free(&l);
		return rc > 0 ? "(1)" : "(error)";
	}
	for (size_t i = 0; i < l.n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s=%s",
		    i ? "|" : "", l.v[i].kind, l.v[i].detail);
	change_list_free(&l);
	return out;
}

static void
test_from_summaries(void)
{
	const char *a = "major\t20\t1\nmodule\tb.so\t1\nmodule\tc.so\t1\n"
	    "module_status\tb.so/Running\t1\nservers\tactive\t1\n"
	    "version\t20.5.0\t1\n";
	const char *b = "major\t22\t1\nmodule\ta.so\t1\nmodule\tc.so\t1\n"
	    "module\td.so\t1\nmodule_status\ta.so/Running\t1\n"
	    "servers\tactive\t1\nversion\t22.1.0\t1\n";

	CHECK_STR(from_summaries(NULL, b, NULL, "x"), "first_report=22.1.0");
	CHECK_STR(from_summaries(NULL, "servers\tactive\t1\n", NULL, NULL),
	    "first_report=");
	CHECK_STR(from_summaries(a, a, "x", "x"), "");
	CHECK_STR(from_summaries(a, b, "x", "y"),
	    "version=20.5.0 -> 22.1.0|private_name=y|module_removed=b.so|"
	    "module_added=a.so|module_added=d.so");
	CHECK_STR(from_summaries(a, a, "x", NULL), "private_name=");
	CHECK_STR(from_summaries(a, a, NULL, "x"), "private_name=x");
	/* "module_status" lines are not modules */
	CHECK_STR(from_summaries("module_status\tx.so/Running\t1\n",
	    "module\tx.so\t1\n", NULL, NULL), "module_added=x.so");
	/* a module counted as "other" before: the summary cannot tell */
	CHECK_STR(from_summaries("module\t\x1f\t3\nmodule\ta.so\t1\n", b,
	    NULL, NULL), "(1)");
	CHECK_STR(from_summaries(a, NULL, NULL, NULL), "(1)");
	/* a summary and the report agree */
	CHECK_STR(from_summaries(a, b, NULL, NULL), changes(
	    R("null", "20.5.0", M("c.so") "," M("b.so")),
	    R("null", "22.1.0", M("d.so") "," M("c.so") "," M("a.so"))));
}

int
main(void)
{
	test_sort_parse();
	test_versions();
	test_match();
	test_sort();
	test_changes();
	test_from_summaries();
	UNIT_END("collector_fleet");
}
