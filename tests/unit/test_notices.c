/* A server's notices (CONTRACT §6): proto_parse_notices (http/response.c),
 * the text's cleaning and the id's check (common/notice.c), and the kept
 * file with its -q memory (store/notices.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../http/http.h"
#include "../../store/notices.h"
#include "unit.h"

#define TOKEN "{\"id\":\"ca74af9d-260c-4764-b452-e0628a9468a9\"," \
	"\"issued\":\"2026-12-06T10:00:00Z\""
#define EOL_TEXT "Asterisk 16 reached its end of life on 2023-10-09; it gets " \
	"no fixes, not even for security: upgrade to a supported version"
#define DAY (24 * 60 * 60)
#define UNIT_NOW ((time_t)1795370400)	/* 2026-11-22T18:00:00Z */

static int
parse(const char *body, struct notices *out, const char **why)
{
	*why = NULL;
	return proto_parse_notices(body, strlen(body), out, why);
}

static void
test_parse(void)
{
	struct notices l;
	const char *why;

	CHECK_INT(parse(TOKEN ",\"notices\":[{\"id\":\"lifecycle-16-eol\","
	    "\"kind\":\"lifecycle\",\"text\":\"" EOL_TEXT "\",\"more\":1}]}",
	    &l, &why), 0);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.item[0].id, "lifecycle-16-eol");
	CHECK_STR(l.item[0].kind, "lifecycle");
	CHECK_STR(l.item[0].text, EOL_TEXT);

	/* none: no member, or an empty array */
	CHECK_INT(parse(TOKEN "}", &l, &why), 0);
	CHECK_INT(l.n, 0);
	CHECK_INT(parse(TOKEN ",\"notices\":[]}", &l, &why), 0);
	CHECK_INT(l.n, 0);
}

#define MALFORMED(body) do { \
	struct notices l_; const char *why_; \
	CHECK_INT(parse(body, &l_, &why_), -1); \
	CHECK(why_ != NULL && why_[0] != 0); \
	CHECK_INT(l_.n, 0); \
} while (0)

static void
test_malformed(void)
{
	char big[4096];
	size_t o;

	MALFORMED(TOKEN ",\"notices\":{}}");
	MALFORMED(TOKEN ",\"notices\":\"upgrade\"}");
	MALFORMED(TOKEN ",\"notices\":[\"upgrade\"]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":1,\"kind\":\"k\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"a\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"a\",\"kind\":\"k\",\"text\":null}]}");
	/* an id that is not a short token */
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"a b\",\"kind\":\"k\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"../x\",\"kind\":\"k\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"\",\"kind\":\"k\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"x\\u001b\",\"kind\":\"k\",\"text\":\"t\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"kind\":\"k\",\"text\":\"t\"}]}");
	/* an empty text, twice the same id */
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"a\",\"kind\":\"k\",\"text\":\" \\n\"}]}");
	MALFORMED(TOKEN ",\"notices\":[{\"id\":\"a\",\"kind\":\"k\",\"text\":\"t\"},"
	    "{\"id\":\"a\",\"kind\":\"k\",\"text\":\"u\"}]}");
	MALFORMED("not json");
	/* more than NOTICE_MAX */
	o = (size_t)snprintf(big, sizeof big, "%s,\"notices\":[", TOKEN);
	for (int i = 0; i <= NOTICE_MAX; i++)
		o += (size_t)snprintf(big + o, sizeof big - o,
		    "%s{\"id\":\"n%d\",\"kind\":\"k\",\"text\":\"t\"}", i ? "," : "", i);
	snprintf(big + o, sizeof big - o, "]}");
	MALFORMED(big);
	/* exactly NOTICE_MAX is fine */
	{
		struct notices l;
		const char *why;
		char *cut = strrchr(big, '{');

		strcpy(cut - 1, "]}");
		CHECK_INT(parse(big, &l, &why), 0);
		CHECK_INT(l.n, NOTICE_MAX);
	}
}

static void
test_text_clean(void)
{
	char out[NOTICE_TEXT_BUF], in[1200];

	/* C0, DEL, C1 (U+0085, U+009B: the 8-bit CSI), a bidi override and
	 * an invalid byte become '?'; blanks become one space; UTF-8 stays */
	CHECK_INT(notice_text_clean("  a\x1b[31mb\x7f\xc2\x85\xc2\x9b"
	    "c\xe2\x80\xae" "d\xff \t\n\xc3\xa9t\xc3\xa9  ", 30, out), 18);
	CHECK_STR(out, "a?[31mb???c?d? \xc3\xa9t\xc3\xa9");
	/* a NUL inside is a control too */
	CHECK_INT(notice_text_clean("a\0b", 3, out), 3);
	CHECK_STR(out, "a?b");
	/* overlong and surrogate encodings are not characters */
	notice_text_clean("\xc0\xaf\xed\xa0\x80", 5, out);
	CHECK_STR(out, "?????");
	/* 200 characters kept whole; 201 cut to 197 and "..." */
	memset(in, 'x', 200);
	CHECK_INT(notice_text_clean(in, 200, out), 200);
	CHECK_INT(strlen(out), 200);
	memset(in, 'x', 201);
	CHECK_INT(notice_text_clean(in, 201, out), 200);
	CHECK(strlen(out) == 200 && strcmp(out + 197, "...") == 0);
	/* characters, not bytes: 300 two-byte letters → 197 of them + "..." */
	for (int i = 0; i < 300; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	CHECK_INT(notice_text_clean(in, 600, out), 200);
	CHECK_INT(strlen(out), 197 * 2 + 3);
	CHECK_INT(notice_text_clean(" \n ", 3, out), 0);
	CHECK_STR(out, "");
}

static void
test_file(void)
{
	struct notice_file nf, back;
	const char *why;
	char *text;

	memset(&nf, 0, sizeof nf);
	nf.has_received = true;
	nf.received = UNIT_NOW;
	nf.list.n = 1;
	CHECK_INT(notice_set(&nf.list.item[0], "lifecycle-16-eol", "lifecycle",
	    EOL_TEXT, strlen(EOL_TEXT), &why), 0);
	notice_mark_shown(&nf, "lifecycle-16-eol", UNIT_NOW);
	text = notice_file_text(&nf);
	CHECK_STR(text, "{\"received\":\"2026-11-22T18:00:00Z\",\"notices\":"
	    "[{\"id\":\"lifecycle-16-eol\",\"kind\":\"lifecycle\",\"text\":\""
	    EOL_TEXT "\"}],\"shown\":{\"lifecycle-16-eol\":\"2026-11-22T18:00:00Z\"}}");
	CHECK_INT(notice_file_parse(text, &back), 0);
	CHECK_INT(back.list.n, 1);
	CHECK_STR(back.list.item[0].text, EOL_TEXT);
	CHECK(back.has_received && back.received == UNIT_NOW);
	CHECK_INT(back.nshown, 1);
	free(text);

	/* someone wrote into state_dir: checked as if from a server */
	CHECK_INT(notice_file_parse("{\"received\":null,\"notices\":[{\"id\":"
	    "\"a b\",\"kind\":\"k\",\"text\":\"t\"}],\"shown\":{}}", &back), -1);
	CHECK_INT(back.list.n, 0);
	CHECK_INT(notice_file_parse("{\"notices\":[],\"shown\":{\"x\":\"yesterday\"}}",
	    &back), -1);
	CHECK_INT(notice_file_parse("[]", &back), -1);
	CHECK_INT(notice_file_parse("{\"notices\":[{\"id\":\"a\",\"kind\":\"k\","
	    "\"text\":\"\\u001b]0;x\\u0007\"}],\"shown\":{}}", &back), 0);
	CHECK_STR(back.list.item[0].text, "?]0;x?");
}

static void
test_due(void)
{
	struct notice_file nf;

	memset(&nf, 0, sizeof nf);
	CHECK(notice_due(&nf, "a", UNIT_NOW));		/* never shown */
	notice_mark_shown(&nf, "a", UNIT_NOW);
	CHECK(!notice_due(&nf, "a", UNIT_NOW));
	CHECK(!notice_due(&nf, "a", UNIT_NOW + 30 * DAY - 1));
	CHECK(notice_due(&nf, "a", UNIT_NOW + 30 * DAY));
	CHECK(notice_due(&nf, "b", UNIT_NOW));		/* another id */
	/* a clock set back does not silence it for years */
	CHECK(notice_due(&nf, "a", UNIT_NOW - 1));
	/* marking again moves the 30 days; entries due anyway go */
	notice_mark_shown(&nf, "b", UNIT_NOW + 10 * DAY);
	notice_mark_shown(&nf, "a", UNIT_NOW + 30 * DAY);
	CHECK_INT(nf.nshown, 2);
	CHECK(!notice_due(&nf, "a", UNIT_NOW + 59 * DAY));
	notice_mark_shown(&nf, "c", UNIT_NOW + 45 * DAY);
	CHECK_INT(nf.nshown, 2);	/* b (day 10) is due at 45: forgotten */
	CHECK(notice_due(&nf, "b", UNIT_NOW + 45 * DAY));
	/* bounded: the oldest go first */
	memset(&nf, 0, sizeof nf);
	for (int i = 0; i < NOTICE_SHOWN_MAX + 5; i++) {
		char id[16];

		snprintf(id, sizeof id, "n%d", i);
		notice_mark_shown(&nf, id, UNIT_NOW + i);
	}
	CHECK_INT(nf.nshown, NOTICE_SHOWN_MAX);
	CHECK(notice_due(&nf, "n0", UNIT_NOW + 100));
	CHECK(!notice_due(&nf, "n36", UNIT_NOW + 100));
}

int
main(void)
{
	test_parse();
	test_malformed();
	test_text_clean();
	test_file();
	test_due();
	UNIT_END("notices");
}
