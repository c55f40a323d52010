/* Unit tests: the pure parts of collector/front/http.c (issue 21): the
 * client behind a trusted proxy (COLLECTOR.md §4: the rightmost
 * X-Forwarded-For entry that is not a proxy, over every header line) and
 * the path the request log shows (never a token, however encoded). */
#include <stdlib.h>
#include <string.h>

#include "../../collector/front/http.h"
#include "unit.h"

static struct collector_config cfg;

/* The client for these header lines, or "-" when none is believed. */
static const char *
client(int n, const char *l0, const char *l1, const char *l2)
{
	static char out[64];
	const char *lines[3] = { l0, l1, l2 };

	strcpy(out, "-");
	if (!http_forwarded_client(lines, n, &cfg, out, sizeof out))
		return strcmp(out, "-") == 0 ? "-" : "OUT WRITTEN ON FALSE";
	return out;
}

static void
test_forwarded(void)
{
	char p0[] = "127.0.0.1", p1[] = "2001:db8::10";

	cfg.trusted_proxies[0] = p0;
	cfg.trusted_proxies[1] = p1;
	cfg.n_trusted_proxies = 2;
	/* nginx appends: the client's own entries on the left are ignored */
	CHECK_STR(client(1, "10.0.0.1, 10.0.0.2, 198.51.100.7", NULL, NULL), "198.51.100.7");
	/* HAProxy adds a line: the last line's entry counts */
	CHECK_STR(client(2, "10.0.0.1", "198.51.100.7", NULL), "198.51.100.7");
	/* through two proxies: skip the trusted ones from the right */
	CHECK_STR(client(2, "10.9.9.9, 198.51.100.7", "127.0.0.1", NULL), "198.51.100.7");
	CHECK_STR(client(3, "10.9.9.9", "198.51.100.7,2001:db8::10", " 127.0.0.1 "), "198.51.100.7");
	/* all trusted: the leftmost */
	CHECK_STR(client(1, "2001:db8::10, 127.0.0.1", NULL, NULL), "2001:db8::10");
	/* normalised: v4-mapped and long forms */
	CHECK_STR(client(1, "::ffff:198.51.100.7", NULL, NULL), "198.51.100.7");
	CHECK_STR(client(1, "2001:0DB8:0:0::1", NULL, NULL), "2001:db8::1");
	/* empty elements are skipped; blanks and tabs trimmed */
	CHECK_STR(client(1, "198.51.100.7 ,, \t", NULL, NULL), "198.51.100.7");
	/* garbage where the client is: none (the peer counts) */
	CHECK_STR(client(1, "198.51.100.7, unknown", NULL, NULL), "-");
	CHECK_STR(client(1, "evil, 127.0.0.1", NULL, NULL), "-");
	CHECK_STR(client(1, "198.51.100.7:4711", NULL, NULL), "-");
	CHECK_STR(client(1, "", NULL, NULL), "-");
	CHECK_STR(client(0, NULL, NULL, NULL), "-");
	/* garbage left of the client is never looked at */
	CHECK_STR(client(1, "<script>, 198.51.100.7", NULL, NULL), "198.51.100.7");
}

static const char *
logged(const char *path)
{
	static char out[256];
	char *p = http_loggable_path(path);

	strcpy(out, p != NULL ? p : "NULL");
	free(p);
	return out;
}

static void
test_log_path(void)
{
	const char *id = "3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d17";
	char path[200];

	CHECK_STR(logged("/api/v1/stats"), "/api/v1/stats");
	CHECK_STR(logged("/modules/chan_pjsip.so"), "/modules/chan_pjsip.so");
	snprintf(path, sizeof path, "/servers/%s", id);
	CHECK_STR(logged(path), path);
	snprintf(path, sizeof path, "/fleet/%s", id);
	CHECK_STR(logged(path), path);
	/* a decoded "%3F" and anything after it */
	snprintf(path, sizeof path, "/servers/%s?tokenId=%s", id, id);
	CHECK(strstr(logged(path), "tokenId") == NULL);
	CHECK(strstr(logged(path), id) != NULL);
	CHECK_STR(logged("/servers/x%3FtokenId%3Dabc"), "/servers/x...");
	CHECK_STR(logged("/servers/x;tokenId=abc"), "/servers/x...");
	/* a token named in the path itself, any case */
	CHECK_STR(logged("/servers/x/TOKENID/abc"), "/servers/x/****");
	CHECK_STR(logged("/tokenid-abc"), "/****");
	/* a UUID that is not the server id */
	snprintf(path, sizeof path, "/servers/%s/%s", id, id);
	snprintf(path + 100, 100, "/servers/%s/****", id);
	CHECK_STR(logged(path), path + 100);
	snprintf(path, sizeof path, "/x/%s", id);
	CHECK_STR(logged(path), "/x/****");
	CHECK_STR(logged(""), "");
	CHECK_STR(logged("*"), "...");
}

int
main(void)
{
	test_forwarded();
	test_log_path();
	UNIT_END("collector_front");
}
