/* Unit tests: the PUT body against the Swagger Server model and the
 * limits of COLLECTOR.md §3 step 4; every error names its field. */
#include <stdlib.h>
#include <string.h>

#include "../../collector/web/validate.h"
#include "../../common/text.h"
#include "unit.h"

#define ID "3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d17"

static char err[512];

/* report_validate on a C string; the error (or "" when valid). */
static const char *
check(const char *body)
{
	json_t *out = (json_t *)1;
	int rc = report_validate(body, strlen(body), ID, &out, err, sizeof err);

	if (rc == 0) {
		if (out == NULL)
			return "(no object)";
		json_decref(out);
		return "";
	}
	if (out != NULL)
		return "(object on failure)";
	return err;
}

/* The same for a body built from a format: {"id": ID, <rest>}. */
static const char *
with(const char *rest)
{
	static struct buf body;

	buf_free(&body);
	buf_append(&body, "{\"id\":\"" ID "\"", strlen(ID) + 8);
	if (rest[0] != '\0') {
		buf_append(&body, ",", 1);
		buf_append(&body, rest, strlen(rest));
	}
	buf_append(&body, "}", 1);
	return check(body.data);
}

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void
test_valid(void)
{
	const char *full =
	    "{\"id\":\"" ID "\",\"private_name\":\"PBX 1\","
	    "\"asterisk\":{\"version\":{\"name\":\"Asterisk 22.10.1\",\"number\":\"221001\"},"
	    "\"modules\":[{\"name\":\"chan_pjsip.so\",\"description\":\"PJSIP\",\"status\":\"Running\","
	    "\"support_level\":\"core\"},{\"name\":\"app_dial.so\",\"description\":\"Dial\","
	    "\"status\":\"Running\"}],"
	    "\"stats\":{\"run_time\":{\"startup_time\":\"2026-11-22T18:00:00Z\","
	    "\"last_reload_time\":\"2026-11-22T18:00:00Z\"},\"calls\":{\"active\":0,\"processed\":12}}},"
	    "\"operating_system\":{\"sys_name\":\"Linux\",\"release\":\"6.1.0\",\"version\":\"#1 SMP\","
	    "\"machine\":\"x86_64\"}}";
	json_t *out = NULL;

	CHECK_STR(check(full), "");
	CHECK_INT(report_validate(full, strlen(full), ID, &out, err, sizeof err), 0);
	CHECK(out != NULL && json_is_object(out));
	CHECK_STR(json_string_value(json_object_get(out, "private_name")), "PBX 1");
	json_decref(out);

	CHECK_STR(with(""), "");	/* only id */
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":\"1\"}}"), "");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":\"1\"},\"modules\":[]}"), "");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":\"1\"},\"stats\":{}}"), "");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":\"1\"},"
	    "\"stats\":{\"run_time\":{},\"calls\":{}}}"), "");
	CHECK_STR(with("\"operating_system\":{}"), "");
	/* unknown fields anywhere are kept */
	CHECK_STR(with("\"future\":[1,{\"a\":null}],\"asterisk\":{\"x\":true,\"version\":"
	    "{\"name\":\"x\",\"number\":\"1\",\"extra\":1.5},\"modules\":[{\"name\":\"a\","
	    "\"description\":\"b\",\"status\":\"c\",\"more\":{}}]}"), "");
	json_t *o = NULL;
	const char *b = "{\"id\":\"" ID "\",\"future\":{\"k\":[1,2]}}";
	CHECK_INT(report_validate(b, strlen(b), ID, &o, err, sizeof err), 0);
	CHECK(o != NULL && json_is_array(json_object_get(json_object_get(o, "future"), "k")));
	json_decref(o);
	/* UTF-8 is fine */
	CHECK_STR(with("\"private_name\":\"B\xc3\xbcro \xe2\x82\xac\""), "");
	/* not NUL-terminated: only len bytes are read */
	char raw[64];
	size_t n = (size_t)snprintf(raw, sizeof raw, "{\"id\":\"%s\"}", ID);
	raw[n] = 'x';
	CHECK_INT(report_validate(raw, n, ID, &o, err, sizeof err), 0);
	json_decref(o);
}

static void
test_body(void)
{
	CHECK(strncmp(check(""), "body: not valid JSON (line 1 column 0: ", 39) == 0);
	CHECK(strncmp(check("{"), "body: not valid JSON (line 1 column 1: ", 39) == 0);
	CHECK(strncmp(check("{\"id\":}"), "body: not valid JSON (line 1 column 7: ", 39) == 0);
	CHECK(strncmp(check("{}\n{}"), "body: not valid JSON (line 2 column 1: ", 39) == 0);
	CHECK(strncmp(check("{\"id\":\"" ID "\"} x"), "body: not valid JSON", 20) == 0);
	CHECK_STR(check("[]"), "body: not a JSON object");
	CHECK_STR(check("\"" ID "\""), "body: not a JSON object");
	CHECK_STR(check("42"), "body: not a JSON object");
	CHECK_STR(check("null"), "body: not a JSON object");
	/* invalid UTF-8 and NUL are refused by jansson */
	CHECK(strncmp(with("\"private_name\":\"\xff\""), "body: not valid JSON", 20) == 0);
	CHECK(strncmp(with("\"private_name\":\"\xc3\""), "body: not valid JSON", 20) == 0);
	CHECK(strncmp(with("\"private_name\":\"\xed\xa0\x80\""), "body: not valid JSON", 20) == 0);
	CHECK(strncmp(with("\"private_name\":\"a\\u0000b\""), "body: not valid JSON", 20) == 0);
	/* duplicate keys: refused, so that every reader sees the same */
	CHECK(strncmp(with("\"id\":\"" ID "\""), "body: not valid JSON", 20) == 0);
	CHECK(strstr(with("\"id\":\"" ID "\""), "duplicate") != NULL);
	/* embedded raw NUL, control characters in the echoed text: sanitised */
	const char nul[] = "{\"id\":\"a\0\x1b[31m\"}";
	json_t *o = (json_t *)1;
	CHECK_INT(report_validate(nul, sizeof nul - 1, ID, &o, err, sizeof err), -1);
	CHECK(o == NULL);
	CHECK(printable(err));
	CHECK_STR(check("{\"id\":\x1b[2J}"), err);
	CHECK(printable(err));
	CHECK(strncmp(err, "body: not valid JSON", 20) == 0);
	/* a NULL body is an empty one */
	CHECK_INT(report_validate(NULL, 0, ID, &o, err, sizeof err), -1);
	CHECK(strncmp(err, "body: not valid JSON", 20) == 0);
	/* a small error buffer is cut, not overrun; none at all is allowed */
	char small[8];
	CHECK_INT(report_validate("[]", 2, ID, &o, small, sizeof small), -1);
	CHECK_STR(small, "body: n");
	CHECK_INT(report_validate("[]", 2, ID, &o, NULL, 0), -1);
}

static void
test_id(void)
{
	CHECK_STR(check("{}"), "id: missing");
	CHECK_STR(check("{\"asterisk\":{}}"), "id: missing");
	CHECK_STR(check("{\"id\":1}"), "id: not a string");
	CHECK_STR(check("{\"id\":null}"), "id: not a string");
	CHECK_STR(check("{\"id\":[\"" ID "\"]}"), "id: not a string");
	CHECK_STR(check("{\"id\":\"\"}"), "id: does not match the server id");
	CHECK_STR(check("{\"id\":\"3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d18\"}"),
	    "id: does not match the server id");
	CHECK_STR(check("{\"id\":\"3F1E8A52-7C2B-4D9E-8A61-0B5C4E2F9D17\"}"),
	    "id: does not match the server id");
	CHECK_STR(check("{\"id\":\"" ID " \"}"), "id: does not match the server id");
	json_t *o;
	CHECK_INT(report_validate("{\"id\":\"x\"}", 10, NULL, &o, err, sizeof err), -1);
	CHECK_STR(err, "id: does not match the server id");
}

static void
test_types(void)
{
	const char *v = "\"version\":{\"name\":\"x\",\"number\":\"1\"}";
	char b[1024];

	CHECK_STR(with("\"private_name\":5"), "private_name: not a string");
	CHECK_STR(with("\"private_name\":null"), "private_name: not a string");
	CHECK_STR(with("\"asterisk\":[]"), "asterisk: not an object");
	CHECK_STR(with("\"asterisk\":\"22\""), "asterisk: not an object");
	CHECK_STR(with("\"asterisk\":{}"), "asterisk.version: missing");
	CHECK_STR(with("\"asterisk\":{\"version\":\"22\"}"), "asterisk.version: not an object");
	CHECK_STR(with("\"asterisk\":{\"version\":{}}"), "asterisk.version.name: missing");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\"}}"), "asterisk.version.number: missing");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"number\":\"1\"}}"), "asterisk.version.name: missing");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":1,\"number\":\"1\"}}"),
	    "asterisk.version.name: not a string");
	CHECK_STR(with("\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":221001}}"),
	    "asterisk.version.number: not a string");

	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":{}}", v);
	CHECK_STR(with(b), "asterisk.modules: not an array");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[1]}", v);
	CHECK_STR(with(b), "asterisk.modules[0]: not an object");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"description\":\"b\","
	    "\"status\":\"c\"},{\"name\":\"a\",\"description\":\"b\",\"status\":\"c\"},"
	    "{\"name\":\"a\",\"description\":\"b\",\"status\":\"c\"},{\"name\":7,"
	    "\"description\":\"b\",\"status\":\"c\"}]}", v);
	CHECK_STR(with(b), "asterisk.modules[3].name: not a string");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"description\":\"b\",\"status\":\"c\"}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].name: missing");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"status\":\"c\"}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].description: missing");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"description\":\"b\"}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].status: missing");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"description\":\"b\","
	    "\"status\":true}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].status: not a string");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"description\":null,"
	    "\"status\":\"c\"}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].description: not a string");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"modules\":[{\"name\":\"a\",\"description\":\"b\","
	    "\"status\":\"c\",\"support_level\":3}]}", v);
	CHECK_STR(with(b), "asterisk.modules[0].support_level: not a string");

	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":[]}", v);
	CHECK_STR(with(b), "asterisk.stats: not an object");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"run_time\":1}}", v);
	CHECK_STR(with(b), "asterisk.stats.run_time: not an object");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"run_time\":{\"startup_time\":1}}}", v);
	CHECK_STR(with(b), "asterisk.stats.run_time.startup_time: not a string");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"run_time\":{\"last_reload_time\":{}}}}", v);
	CHECK_STR(with(b), "asterisk.stats.run_time.last_reload_time: not a string");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":\"3\"}}", v);
	CHECK_STR(with(b), "asterisk.stats.calls: not an object");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"active\":\"3\"}}}", v);
	CHECK_STR(with(b), "asterisk.stats.calls.active: not an integer");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"processed\":1.5}}}", v);
	CHECK_STR(with(b), "asterisk.stats.calls.processed: not an integer");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"processed\":1.0}}}", v);
	CHECK_STR(with(b), "asterisk.stats.calls.processed: not an integer");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"active\":-1}}}", v);
	CHECK_STR(with(b), "asterisk.stats.calls.active: negative");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"active\":0,"
	    "\"processed\":9223372036854775807}}}", v);
	CHECK_STR(with(b), "");
	snprintf(b, sizeof b, "\"asterisk\":{%s,\"stats\":{\"calls\":{\"active\":"
	    "99999999999999999999}}}", v);
	CHECK(strncmp(with(b), "body: not valid JSON", 20) == 0);	/* jansson: too big */

	CHECK_STR(with("\"operating_system\":\"Linux\""), "operating_system: not an object");
	CHECK_STR(with("\"operating_system\":{\"sys_name\":1}"), "operating_system.sys_name: not a string");
	CHECK_STR(with("\"operating_system\":{\"release\":[]}"), "operating_system.release: not a string");
	CHECK_STR(with("\"operating_system\":{\"version\":false}"), "operating_system.version: not a string");
	CHECK_STR(with("\"operating_system\":{\"machine\":null}"), "operating_system.machine: not a string");
}

static char *
repeat(const char *s, size_t times)
{
	size_t n = strlen(s);
	char *out = malloc(n * times + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(out + i * n, s, n);
	out[n * times] = '\0';
	return out;
}

static void
app(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

static void
test_limits(void)
{
	struct buf b = { 0 };
	char *s, *body;

	/* strings: 1024 bytes pass, 1025 do not; UTF-8 counts bytes */
	s = repeat("a", 1024);
	app(&b, "\"private_name\":\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\"");
	CHECK_STR(with(b.data), "");
	buf_free(&b);
	free(s);
	s = repeat("a", 1025);
	app(&b, "\"private_name\":\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\"");
	CHECK_STR(with(b.data), "private_name: longer than 1024 bytes");
	buf_free(&b);
	free(s);
	s = repeat("\xc3\xbc", 513);	/* 513 characters, 1026 bytes */
	app(&b, "\"x\":[\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\"]");
	CHECK_STR(with(b.data), "x[0]: longer than 1024 bytes");
	buf_free(&b);
	free(s);
	/* keys count too; the key in the message is cut */
	s = repeat("k", 1025);
	app(&b, "\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\":1");
	const char *e = with(b.data);
	CHECK(strstr(e, ": key longer than 1024 bytes") != NULL);
	CHECK(strlen(e) < 120);
	CHECK(strncmp(e, "kkkkkkkk", 8) == 0);
	buf_free(&b);
	free(s);
	s = repeat("k", 1024);
	app(&b, "\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\":1");
	CHECK_STR(with(b.data), "");
	buf_free(&b);
	free(s);
	/* a long string deep in an unknown field: named by its path */
	CHECK_STR(with("\"a\":{\"b\":[0,{\"c\":\"x\"}]}"), "");
	s = repeat("y", 2000);
	app(&b, "\"a\":{\"b\":[0,{\"c\":\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\"}]}");
	CHECK_STR(with(b.data), "a.b[1].c: longer than 1024 bytes");
	buf_free(&b);
	free(s);
	/* a key with control characters is sanitised in the path */
	e = with("\"bad\\u001b[31m\\nkey\":[\"" "\"]");
	CHECK_STR(e, "");
	s = repeat("z", 1100);
	app(&b, "\"k\\u001b\\n\\t\xc3\xbc\":\"");
	buf_append(&b, s, strlen(s));
	app(&b, "\"");
	e = with(b.data);
	CHECK(printable(e));
	CHECK_STR(e, "k? ??: longer than 1024 bytes");
	buf_free(&b);
	free(s);

	/* depth: the body is 1, so 15 more containers pass and 16 do not */
	s = repeat("[", 15);
	body = repeat("]", 15);
	app(&b, "\"d\":");
	buf_append(&b, s, strlen(s));
	buf_append(&b, body, strlen(body));
	CHECK_STR(with(b.data), "");
	buf_free(&b);
	free(s);
	free(body);
	s = repeat("[", 16);
	body = repeat("]", 16);
	app(&b, "\"d\":");
	buf_append(&b, s, strlen(s));
	buf_append(&b, body, strlen(body));
	CHECK_STR(with(b.data), "d[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 16 levels");
	buf_free(&b);
	free(s);
	free(body);
	s = repeat("{\"o\":", 16);
	body = repeat("}", 16);
	app(&b, "\"d\":");
	buf_append(&b, s, strlen(s));
	app(&b, "1");
	buf_append(&b, body, strlen(body));
	CHECK_STR(with(b.data), "d.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o: nested deeper than 16 levels");
	buf_free(&b);
	free(s);
	free(body);
	/* deeper than jansson's own limit: refused while parsing, no crash */
	s = repeat("[", 100000);
	app(&b, "{\"d\":");
	buf_append(&b, s, strlen(s));
	CHECK(strncmp(check(b.data), "body: not valid JSON", 20) == 0);
	buf_free(&b);
	free(s);

	/* modules: 5000 pass, 5001 do not */
	app(&b, "\"asterisk\":{\"version\":{\"name\":\"x\",\"number\":\"1\"},\"modules\":[");
	for (int i = 0; i < 5000; i++) {
		const char *m = "{\"name\":\"m\",\"description\":\"d\",\"status\":\"s\"}";
		if (i > 0)
			app(&b, ",");
		buf_append(&b, m, strlen(m));
	}
	body = malloc(b.len + 3);
	memcpy(body, b.data, b.len);
	memcpy(body + b.len, "]}", 3);
	CHECK_STR(with(body), "");
	free(body);
	app(&b, ",{}]}");
	CHECK_STR(with(b.data), "asterisk.modules: more than 5000 modules");
	buf_free(&b);
}

int
main(void)
{
	test_valid();
	test_body();
	test_id();
	test_types();
	test_limits();
	UNIT_END("collector_validate");
}
