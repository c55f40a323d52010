/* Unit tests: Asterisk's release lifecycle (collector/base/lifecycle.c):
 * the shipped data file, the rules of a version's status on a day, the
 * certified series, the notices, and the errors of a malformed file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../collector/base/lifecycle.h"
#include "unit.h"

static char err[1024];

/* noon UTC of a day "YYYY-MM-DD" */
static time_t
day(const char *d)
{
	struct tm tm = { 0 };

	tm.tm_year = atoi(d) - 1900;
	tm.tm_mon = atoi(d + 5) - 1;
	tm.tm_mday = atoi(d + 8);
	tm.tm_hour = 12;
	return timegm(&tm);
}

/* Load text as a file called "t.ini"; the loaded data or NULL (err set). */
static struct lifecycle *
parse(const char *text)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	struct lifecycle *lc = NULL;

	if (f == NULL)
		exit(2);
	if (lifecycle_load_stream(f, "t.ini", &lc, err, sizeof err) < 0)
		lc = NULL;
	fclose(f);
	return lc;
}

/* The error of loading text ("" when it loads). */
static const char *
error_of(const char *text)
{
	struct lifecycle *lc = parse(text);

	if (lc != NULL) {
		lifecycle_free(lc);
		return "";
	}
	return err;
}

#define HEAD "[lifecycle]\nlast_checked = 2026-01-01\n"
#define S16 "[16]\nkind = lts\nreleased = 2018-10-09\nsecurity_fixes_only = 2022-10-09\n" \
	"end_of_life = 2023-10-09\nsource = https://example.org/v\n"
#define CERT "[certified/18.9]\nkind = certified\nreleased = 2022-01-01\n" \
	"security_fixes_only = 2026-01-01\nend_of_life = 2027-01-01\nsource = https://example.org/c\n"

static void
test_shipped_file(void)
{
	struct lifecycle *lc = NULL;
	char id[LC_NOTICE_ID_MAX + 1], text[LC_NOTICE_TEXT_MAX + 1];
	const char *majors[] = { "1.8", "10", "11", "12", "13", "14", "15", "16",
	    "17", "18", "19", "20", "21", "22", "23" };

	CHECK_INT(lifecycle_load("conf/asterisk-lifecycle.ini", &lc, err, sizeof err), 0);
	if (lc == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(lc->n, 15);
	for (size_t i = 0; i < sizeof majors / sizeof majors[0]; i++) {
		const struct lc_series *s = lifecycle_find(lc, majors[i], 0);
		CHECK(s != NULL && strcmp(s->name, majors[i]) == 0);
		CHECK(s != NULL && strncmp(s->source, "https://docs.asterisk.org/", 26) == 0);
	}
	/* the page's dates */
	CHECK_INT(lifecycle_status(lc, "16.30.1", 163001, day("2023-10-08")), LC_SECURITY);
	CHECK_INT(lifecycle_status(lc, "16.30.1", 163001, day("2023-10-09")), LC_EOL);
	CHECK_INT(lifecycle_status(lc, "22.5.0", 220500, day("2026-12-06")), LC_SUPPORTED);
	CHECK_INT(lifecycle_status(lc, "20.17.0", 0, day("2026-12-06")), LC_SECURITY);
	CHECK_INT(lifecycle_status(lc, "21.10.0", 0, day("2026-12-06")), LC_EOL);
	CHECK_INT(lifecycle_status(lc, "1.8.32.3", 0, day("2015-10-21")), LC_EOL);
	CHECK_INT(lifecycle_status(lc, "Asterisk 23.1.0", 0, day("2026-01-01")), LC_SUPPORTED);
	/* not in the file: unknown, never supported */
	CHECK_INT(lifecycle_status(lc, "24.0.0", 0, day("2026-01-01")), LC_UNKNOWN);
	CHECK_INT(lifecycle_status(lc, "1.6.2.24", 0, day("2026-01-01")), LC_UNKNOWN);
	CHECK_INT(lifecycle_status(lc, "certified/18.9-cert5", 180905, day("2026-01-01")), LC_UNKNOWN);
	CHECK_INT(lifecycle_status(lc, "GIT-master-abc", 0, day("2026-01-01")), LC_UNKNOWN);
	CHECK_INT(lifecycle_status(lc, "", 0, day("2026-01-01")), LC_UNKNOWN);
	CHECK_INT(lifecycle_status(lc, NULL, 0, day("2026-01-01")), LC_UNKNOWN);
	/* the number only when the name cannot tell */
	CHECK_INT(lifecycle_status(lc, "GIT-master-abc", 163001, day("2026-01-01")), LC_EOL);
	CHECK_INT(lifecycle_status(lc, "22.1.0", 163001, day("2026-01-01")), LC_SUPPORTED);

	CHECK(lifecycle_notice(lc, "16.30.1", 163001, day("2026-12-06"), id, text));
	CHECK_STR(id, "lifecycle-16-eol");
	CHECK_STR(text, "Asterisk 16 reached its end of life on 2023-10-09; it gets no "
	    "fixes, not even for security: upgrade to a supported version");
	CHECK(strlen(text) <= LC_NOTICE_TEXT_MAX);
	CHECK(lifecycle_notice(lc, "20.17.0", 0, day("2026-12-06"), id, text));
	CHECK_STR(id, "lifecycle-20-security");
	CHECK_STR(text, "Asterisk 20 gets security fixes only since 2026-10-19 and "
	    "reaches its end of life on 2027-10-19: plan an upgrade");
	CHECK(!lifecycle_notice(lc, "22.5.0", 0, day("2026-12-06"), id, text));
	CHECK_STR(id, "");
	CHECK(!lifecycle_notice(lc, "99.1.0", 0, day("2026-12-06"), id, text));
	CHECK(!lifecycle_notice(NULL, "16.30.1", 0, day("2026-12-06"), id, text));
	CHECK_INT(lifecycle_age_days(lc, day("2026-12-06")), 0);
	CHECK_INT(lifecycle_age_days(lc, day("2027-06-05")), 181);
	lifecycle_free(lc);
}

static void
test_keys(void)
{
	char k[LC_NAME_MAX + 1];

	CHECK(lifecycle_series_key("22.10.1", k));
	CHECK_STR(k, "22");
	CHECK(lifecycle_series_key("Asterisk 16.30.1", k));
	CHECK_STR(k, "16");
	CHECK(lifecycle_series_key("1.8.32.3", k));
	CHECK_STR(k, "1.8");
	CHECK(lifecycle_series_key("certified/18.9-cert5", k));
	CHECK_STR(k, "certified/18.9");
	CHECK(lifecycle_series_key("18.9-cert5", k));
	CHECK_STR(k, "certified/18.9");
	CHECK(lifecycle_series_key("22.0.0-rc1", k));
	CHECK_STR(k, "22");
	CHECK(!lifecycle_series_key("certified/18", k));
	CHECK(!lifecycle_series_key("GIT-master", k));
	CHECK(!lifecycle_series_key("0.1", k));
	CHECK(!lifecycle_series_key("12345.1", k));
	CHECK(!lifecycle_series_key("", k));
}

static void
test_certified(void)
{
	struct lifecycle *lc = parse(HEAD S16 CERT);
	char id[LC_NOTICE_ID_MAX + 1], text[LC_NOTICE_TEXT_MAX + 1];

	CHECK(lc != NULL);
	CHECK_INT(lifecycle_status(lc, "certified/18.9-cert5", 180905, day("2025-06-01")), LC_SUPPORTED);
	CHECK_INT(lifecycle_status(lc, "18.9-cert5", 180905, day("2026-06-01")), LC_SECURITY);
	CHECK_INT(lifecycle_status(lc, "Asterisk certified/18.9-cert5", 0, day("2027-01-01")), LC_EOL);
	/* the certified series is not the major version 18 */
	CHECK_INT(lifecycle_status(lc, "18.9.0", 0, day("2025-06-01")), LC_UNKNOWN);
	CHECK(lifecycle_notice(lc, "certified/18.9-cert5", 0, day("2027-01-02"), id, text));
	CHECK_STR(id, "lifecycle-certified-18.9-eol");
	CHECK(strncmp(text, "Certified Asterisk 18.9 reached its end of life on 2027-01-01", 61) == 0);
	CHECK_STR(lifecycle_kind_name(lc->series[1].kind), "certified");
	lifecycle_free(lc);
}

static void
test_errors(void)
{
	CHECK_STR(error_of(HEAD S16), "");
	CHECK_STR(error_of(S16), "t.ini: no last_checked = YYYY-MM-DD in [lifecycle]");
	CHECK_STR(error_of("[lifecycle]\n" S16), "t.ini:1: no last_checked = YYYY-MM-DD in [lifecycle]");
	CHECK_STR(error_of(HEAD "[16]\nkind = lts\n"), "t.ini:3: [16] has no released");
	CHECK_STR(error_of(HEAD "[16]\nkind = old\n"), "t.ini:4: kind: \"old\" is not lts, standard or certified");
	CHECK_STR(error_of(HEAD "[16]\nreleased = 2018-13-01\n"),
	    "t.ini:4: released: \"2018-13-01\" is not a date YYYY-MM-DD");
	CHECK_STR(error_of(HEAD "[16]\nreleased = 2023-02-29\n"),
	    "t.ini:4: released: \"2023-02-29\" is not a date YYYY-MM-DD");
	CHECK_STR(error_of(HEAD "[16]\nend_of_life = soon\n"),
	    "t.ini:4: end_of_life: \"soon\" is not a date YYYY-MM-DD");
	CHECK_STR(error_of(HEAD "[16]\nsource = ftp://x\n"),
	    "t.ini:4: source: \"ftp://x\" is not an http(s) URL");
	CHECK_STR(error_of(HEAD "[16]\nkind = lts\nkind = lts\n"),
	    "t.ini:5: kind is set twice in [16] (first on line 4)");
	CHECK_STR(error_of(HEAD "[16]\ncolour = red\n"),
	    "t.ini:4: unknown key \"colour\" (known: kind, released, security_fixes_only, end_of_life, source)");
	CHECK_STR(error_of(HEAD "[latest]\n"),
	    "t.ini:3: [latest] is neither [lifecycle] nor a release series ([1.8], [16], [certified/18.9])");
	CHECK_STR(error_of(HEAD "[18.9]\n"),
	    "t.ini:3: [18.9] is neither [lifecycle] nor a release series ([1.8], [16], [certified/18.9])");
	CHECK_STR(error_of(HEAD S16 S16), "t.ini:9: [16] appears twice");
	CHECK_STR(error_of(HEAD HEAD), "t.ini:3: [lifecycle] appears twice (first on line 1)");
	CHECK_STR(error_of("[lifecycle\n"), "t.ini:1: malformed section header (no ']')");
	CHECK_STR(error_of(HEAD "just words\n"),
	    "t.ini:3: malformed line (expected [section], name = value or a ; comment)");
	CHECK_STR(error_of("kind = lts\n" HEAD), "t.ini:1: \"kind\" is outside any section");
	CHECK_STR(error_of(HEAD "[16]\nkind = lts\nreleased = 2018-10-09\n"
	    "security_fixes_only = 2017-10-09\nend_of_life = 2023-10-09\nsource = https://e.org/\n"),
	    "t.ini:6: [16]: security_fixes_only (2017-10-09) is before released (2018-10-09)");
	CHECK_STR(error_of(HEAD "[16]\nkind = lts\nreleased = 2018-10-09\n"
	    "security_fixes_only = 2022-10-09\nend_of_life = 2021-10-09\nsource = https://e.org/\n"),
	    "t.ini:7: [16]: end_of_life (2021-10-09) is before security_fixes_only (2022-10-09)");
	CHECK_STR(error_of(HEAD "[16]\nkind = certified\nreleased = 2018-10-09\n"
	    "security_fixes_only = 2022-10-09\nend_of_life = 2023-10-09\nsource = https://e.org/\n"),
	    "t.ini:4: [16]: kind = certified goes with, and only with, a [certified/N.N] series");
	CHECK_STR(error_of("[lifecycle]\nlast_checked = yesterday\n"),
	    "t.ini:2: last_checked: \"yesterday\" is not a date YYYY-MM-DD");
	CHECK_STR(error_of("[lifecycle]\nlast_checked = \x1b[31m\n"),
	    "t.ini:2: last_checked: \"?[31m\" is not a date YYYY-MM-DD");
}

int
main(void)
{
	test_shipped_file();
	test_keys();
	test_certified();
	test_errors();
	UNIT_END("collector_lifecycle");
}
