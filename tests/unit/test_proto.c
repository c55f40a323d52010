/* The server's answers as typed data: http/response.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../http/http.h"
#include "unit.h"

#define SID "bc5829cc-4584-43e5-8395-a9b1206d7e02"
#define TID "ca74af9d-260c-4764-b452-e0628a9468a9"
#define OLD_SID "11111111-2222-4333-8444-555555555555"
#define OLD_TID "0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d"
#define OLD_ISSUED "2020-01-02T03:04:05Z"
/* The run's clock, far from the real one: an unreadable date must give
 * this, never time(NULL) (issue 11). */
#define UNIT_NOW ((time_t)1795370400)	/* 2026-11-22T18:00:00Z */

/* ids as they were before an answer came */
static void
old_ids(struct server_ids *ids)
{
	memset(ids, 0, sizeof *ids);
	strcpy(ids->server_id, OLD_SID);
	strcpy(ids->token_id, OLD_TID);
	strcpy(ids->token_issued, OLD_ISSUED);
}

/* Parse a ServerToken body; the ids must be untouched on failure. */
static int
server_token(const char *body, struct server_ids *ids, const char **why)
{
	old_ids(ids);
	*why = NULL;
	return proto_parse_server_token(body, strlen(body), UNIT_NOW, ids, why);
}

static void
check_refused_server_token(const char *body, int line)
{
	struct server_ids ids;
	const char *why;
	int rc = server_token(body, &ids, &why);

	if (rc != -1 || why == NULL || strcmp(ids.server_id, OLD_SID) != 0 ||
	    strcmp(ids.token_id, OLD_TID) != 0 ||
	    strcmp(ids.token_issued, OLD_ISSUED) != 0) {
		unit_failed++;
		fprintf(stderr, "FAIL %s:%d: ServerToken accepted or ids changed: %.80s\n",
		    __FILE__, line, body);
	} else {
		unit_passed++;
	}
}
#define REFUSED_ST(body) check_refused_server_token(body, __LINE__)

static void
check_refused_token(const char *body, int line)
{
	struct server_ids ids;
	const char *why = NULL;

	old_ids(&ids);
	if (proto_parse_token(body, strlen(body), UNIT_NOW, &ids, &why) != -1 ||
	    why == NULL || strcmp(ids.server_id, OLD_SID) != 0 ||
	    strcmp(ids.token_id, OLD_TID) != 0 ||
	    strcmp(ids.token_issued, OLD_ISSUED) != 0) {
		unit_failed++;
		fprintf(stderr, "FAIL %s:%d: Token accepted or ids changed: %.80s\n",
		    __FILE__, line, body);
	} else {
		unit_passed++;
	}
}
#define REFUSED_T(body) check_refused_token(body, __LINE__)

/* The design's example answer: "issue", and its odd date form. */
static void
test_design_example(void)
{
	struct server_ids ids;
	const char *why;
	const char *body =
	    "{\n \"token\": { \"id\": \"" TID "\", \"issue\": \"Mon Dec 29 2014 15:37:18 UTC\" },\n"
	    " \"server\": { \"id\": \"" SID "\" }\n}\n";

	CHECK_INT(server_token(body, &ids, &why), 0);
	CHECK_STR(ids.server_id, SID);
	CHECK_STR(ids.token_id, TID);
	CHECK_STR(ids.token_issued, "2014-12-29T15:37:18Z");
}

static void
test_server_token_dates(void)
{
	struct server_ids ids;
	const char *why;

	CHECK_INT(server_token("{\"token\":{\"id\":\"" TID "\",\"issued\":"
	    "\"2026-11-22T18:00:00Z\"},\"server\":{\"id\":\"" SID "\"}}",
	    &ids, &why), 0);
	CHECK_STR(ids.token_issued, "2026-11-22T18:00:00Z");

	/* an offset and a fraction are converted to UTC */
	CHECK_INT(server_token("{\"token\":{\"id\":\"" TID "\",\"issued\":"
	    "\"2026-11-22T19:30:00.123+01:30\"},\"server\":{\"id\":\"" SID "\"}}",
	    &ids, &why), 0);
	CHECK_STR(ids.token_issued, "2026-11-22T18:00:00Z");

	/* JavaScript's Date.toString() form */
	CHECK_INT(server_token("{\"token\":{\"id\":\"" TID "\",\"issued\":"
	    "\"Mon Dec 29 2014 16:37:18 GMT+0100 (CET)\"},\"server\":{\"id\":\"" SID "\"}}",
	    &ids, &why), 0);
	CHECK_STR(ids.token_issued, "2014-12-29T15:37:18Z");

	/* "issued" wins over "issue" when both are there */
	CHECK_INT(server_token("{\"token\":{\"id\":\"" TID "\",\"issue\":"
	    "\"2001-01-01T00:00:00Z\",\"issued\":\"2002-02-02T00:00:00Z\"},"
	    "\"server\":{\"id\":\"" SID "\"}}", &ids, &why), 0);
	CHECK_STR(ids.token_issued, "2002-02-02T00:00:00Z");

	/* unreadable or absurd dates: the run's clock */
	static const char *const odd[] = {
		"yesterday", "", "2026-13-45T99:00:00Z", "1969-12-31T23:59:59Z",
		"Mon Dec 29 2014 15:37:18 PST", "2026-11-22T18:00:00Z trailing",
		"99999-01-01T00:00:00Z",
	};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		char body[512];
		time_t got;

		snprintf(body, sizeof body, "{\"token\":{\"id\":\"" TID "\","
		    "\"issued\":\"%s\"},\"server\":{\"id\":\"" SID "\"}}", odd[i]);
		CHECK_INT(server_token(body, &ids, &why), 0);
		CHECK_INT(time_parse_utc(ids.token_issued, &got), 0);
		CHECK_INT(got, UNIT_NOW);
	}
}

/* Extra fields are what a growing protocol sends; they are tolerated. */
static void
test_server_token_extra_fields(void)
{
	struct server_ids ids;
	const char *why;

	CHECK_INT(server_token("{\"token\":{\"id\":\"" TID "\",\"issued\":"
	    "\"2026-11-22T18:00:00Z\",\"ttl\":172800},\"server\":{\"id\":\""
	    SID "\",\"asterisk\":{\"version\":{\"name\":\"x\"}}},\"extra\":[1,{}]}",
	    &ids, &why), 0);
	CHECK_STR(ids.server_id, SID);
}

static void
test_server_token_refused(void)
{
	char *huge;
	size_t hlen = 1 << 20;

	REFUSED_ST("");
	REFUSED_ST("null");
	REFUSED_ST("[]");
	REFUSED_ST("[{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}]");
	REFUSED_ST("\"" SID "\"");
	REFUSED_ST("{}");
	REFUSED_ST("<html>Bad gateway</html>");
	/* missing parts */
	REFUSED_ST("{\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"}}");
	REFUSED_ST("{\"token\":{\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\"},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{}}");
	/* wrong types */
	REFUSED_ST("{\"token\":{\"id\":42,\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":17},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issue\":null},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":\"" TID "\",\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":[\"" SID "\"]}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":null}}");
	/* ids that are not UUIDs, in particular ones that would travel */
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"../x?a=b\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"../x?a=b\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "/\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"bc5829cc-4584-43e5-8395-a9b1206d7e0\\u0000\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"{" SID "}\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"bc5829cc-4584-43e5-8395-a9b1206d7e0z\"}}");
	/* trailing garbage, two documents, duplicate keys */
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}} x");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}{}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\",\"id\":\"" OLD_SID "\"}}");
	/* nested garbage and truncation */
	REFUSED_ST("{\"token\":{\"id\":{\"id\":{\"id\":[[[[[]]]]]}},\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}");
	REFUSED_ST("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID);

	/* a huge id: valid JSON, not a UUID */
	huge = malloc(hlen + 200);
	CHECK(huge != NULL);
	if (huge != NULL) {
		size_t o = (size_t)sprintf(huge, "{\"token\":{\"id\":\"" TID
		    "\",\"issued\":\"x\"},\"server\":{\"id\":\"");
		memset(huge + o, 'a', hlen);
		strcpy(huge + o + hlen, "\"}}");
		REFUSED_ST(huge);
		free(huge);
	}
}

/* The body is not NUL-terminated in general: only len bytes count. */
static void
test_length_respected(void)
{
	struct server_ids ids;
	const char *why = NULL;
	const char *body = "{\"id\":\"" TID "\",\"issued\":\"2026-11-22T18:00:00Z\"}garbage";
	size_t len = strlen(body) - strlen("garbage");

	old_ids(&ids);
	CHECK_INT(proto_parse_token(body, len, UNIT_NOW, &ids, &why), 0);
	CHECK_INT(proto_parse_token(body, len - 1, UNIT_NOW, &ids, &why), -1);
	CHECK(why != NULL);
	CHECK_INT(proto_parse_token(NULL, 0, UNIT_NOW, &ids, &why), -1);
}

static void
test_token(void)
{
	struct server_ids ids;
	const char *why = NULL;
	const char *body = "{\"id\":\"" TID "\",\"issued\":\"2026-11-22T18:00:00Z\",\"new\":true}";

	old_ids(&ids);
	CHECK_INT(proto_parse_token(body, strlen(body), UNIT_NOW, &ids, &why), 0);
	CHECK_STR(ids.server_id, OLD_SID);	/* a Token leaves the server id */
	CHECK_STR(ids.token_id, TID);
	CHECK_STR(ids.token_issued, "2026-11-22T18:00:00Z");

	body = "{\"id\":\"" TID "\",\"issue\":\"Mon Dec 29 2014 15:37:18 UTC\"}";
	old_ids(&ids);
	CHECK_INT(proto_parse_token(body, strlen(body), UNIT_NOW, &ids, &why), 0);
	CHECK_STR(ids.token_issued, "2014-12-29T15:37:18Z");

	REFUSED_T("");
	REFUSED_T("null");
	REFUSED_T("[\"" TID "\"]");
	REFUSED_T("{}");
	REFUSED_T("{\"id\":\"" TID "\"}");
	REFUSED_T("{\"issued\":\"2026-11-22T18:00:00Z\"}");
	REFUSED_T("{\"id\":\"../x?a=b\",\"issued\":\"2026-11-22T18:00:00Z\"}");
	REFUSED_T("{\"id\":[\"" TID "\"],\"issued\":\"2026-11-22T18:00:00Z\"}");
	REFUSED_T("{\"id\":\"" TID "\",\"issued\":{}}");
	REFUSED_T("{\"id\":\"" TID "\",\"issued\":\"2026-11-22T18:00:00Z\"} []");
	/* a ServerToken is not a Token */
	REFUSED_T("{\"token\":{\"id\":\"" TID "\",\"issued\":\"x\"},\"server\":{\"id\":\"" SID "\"}}");
}

static void
test_put_path(void)
{
	struct server_ids ids;
	char *p;

	old_ids(&ids);
	p = proto_put_path(&ids);
	CHECK_STR(p, "/servers/" OLD_SID "?tokenId=" OLD_TID);
	free(p);

	ids.token_id[0] = '\0';
	p = proto_put_path(&ids);
	CHECK_STR(p, "/servers/" OLD_SID);
	free(p);

	/* nothing unchecked reaches a URL */
	strcpy(ids.token_id, "../x?a=b");
	p = proto_put_path(&ids);
	CHECK_STR(p, "/servers/" OLD_SID);
	free(p);

	memset(&ids, 0, sizeof ids);
	strcpy(ids.token_id, OLD_TID);
	CHECK(proto_put_path(&ids) == NULL);
	strcpy(ids.server_id, "../x?a=b");
	CHECK(proto_put_path(&ids) == NULL);
}

/* The run's status from its servers' results (common/exit_code.c): a
 * server disabled in its section counts neither way (issue 25). */
static void
test_exit_combine(void)
{
	enum server_result sent_dis[] = {RESULT_DISABLED, RESULT_SENT};
	enum server_result unr_dis[] = {RESULT_UNREACHED, RESULT_DISABLED};
	enum server_result due_dis[] = {RESULT_NOT_DUE, RESULT_DISABLED};
	enum server_result part[] = {RESULT_SENT, RESULT_UNREACHED, RESULT_DISABLED};

	CHECK_INT(exit_code_combine(sent_dis, 2), EXIT_OK);
	CHECK_INT(exit_code_combine(unr_dis, 2), EXIT_UNREACHED);
	CHECK_INT(exit_code_combine(due_dis, 2), EXIT_NOT_DUE);
	CHECK_INT(exit_code_combine(part, 3), EXIT_PARTIAL);
	CHECK_STR(server_result_name(RESULT_DISABLED), "disabled");
}

int
main(void)
{
	test_exit_combine();
	test_design_example();
	test_server_token_dates();
	test_server_token_extra_fields();
	test_server_token_refused();
	test_length_respected();
	test_token();
	test_put_path();
	UNIT_END("proto");
}
