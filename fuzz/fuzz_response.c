/* libFuzzer target: a server's answer bodies (http/response.c):
 * proto_parse_server_token and proto_parse_token on the same bytes, not
 * NUL-terminated (the length is the contract), then proto_put_path on
 * what they accepted; proto_parse_notices on the same bytes: every
 * notice it keeps is a valid token id and kind and a clean text. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../http/http.h"
#include "fuzz.h"

/* Stored ids a run starts with: the parsers must either replace them
 * with valid ones or leave them as they were. */
static const struct server_ids start = {
	"3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
	"0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d",
	"2026-11-22T18:00:00Z",
};

/* A notice's text: valid UTF-8, no C0, DEL or C1, at most
 * NOTICE_TEXT_CHARS characters, not empty, no blank at either end. */
static void
check_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0, len = strlen(s);

	FUZZ_CHECK(len > 0 && len < NOTICE_TEXT_BUF);
	FUZZ_CHECK(p[0] != ' ' && p[len - 1] != ' ');
	for (size_t i = 0; i < len; chars++) {
		FUZZ_CHECK(p[i] >= 0x20 && p[i] != 0x7f);
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		/* C1 is U+0080..U+009F: 0xc2 0x80..0x9f */
		FUZZ_CHECK(!(p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0));
		size_t n = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
		FUZZ_CHECK(p[i] >= 0xc2 && p[i] <= 0xf4 && i + n <= len);
		for (size_t k = 1; k < n; k++)
			FUZZ_CHECK((p[i + k] & 0xc0) == 0x80);
		i += n;
	}
	FUZZ_CHECK(chars <= NOTICE_TEXT_CHARS);
}

static void
check_notices(const char *body, size_t size)
{
	struct notices list;
	const char *why = NULL;

	if (proto_parse_notices(body, size, &list, &why) != 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(list.n == 0);
		return;
	}
	FUZZ_CHECK(list.n <= NOTICE_MAX);
	for (size_t i = 0; i < list.n; i++) {
		FUZZ_CHECK(notice_token_valid(list.item[i].id, NOTICE_ID_MAX));
		FUZZ_CHECK(notice_token_valid(list.item[i].kind, NOTICE_KIND_MAX));
		check_text(list.item[i].text);
	}
}

static void
check_date(const char *s)
{
	time_t t;

	FUZZ_CHECK(strlen(s) == RFC3339_LEN);
	FUZZ_CHECK(time_parse_utc(s, &t) == 0);
}

/* The PUT path of accepted ids: a fixed shape, nothing else in it. */
static void
check_path(const struct server_ids *ids)
{
	char *path = proto_put_path(ids);

	if (path == NULL)	/* only out of memory, ids are valid here */
		return;
	FUZZ_CHECK(strncmp(path, "/servers/", 9) == 0);
	FUZZ_CHECK(strncmp(path + 9, ids->server_id, UUID_LEN) == 0);
	FUZZ_CHECK(strcmp(path + 9 + UUID_LEN, "") == 0 ||
	    (strncmp(path + 9 + UUID_LEN, "?tokenId=", 9) == 0 &&
	    strcmp(path + 18 + UUID_LEN, ids->token_id) == 0));
	free(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that reading past len is caught. */
	char *body = malloc(size ? size : 1);
	struct server_ids ids;
	const char *why;

	if (body == NULL)
		return 0;
	if (size > 0)
		memcpy(body, data, size);

	ids = start;
	why = NULL;
	if (proto_parse_server_token(body, size, (time_t)1795370400, &ids, &why) == 0) {
		FUZZ_CHECK(uuid_is_valid(ids.server_id));
		FUZZ_CHECK(uuid_is_valid(ids.token_id));
		check_date(ids.token_issued);
		check_path(&ids);
	} else {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(memcmp(&ids, &start, sizeof ids) == 0);
	}

	ids = start;
	why = NULL;
	if (proto_parse_token(body, size, (time_t)1795370400, &ids, &why) == 0) {
		FUZZ_CHECK(memcmp(ids.server_id, start.server_id,
		    sizeof ids.server_id) == 0);
		FUZZ_CHECK(uuid_is_valid(ids.token_id));
		check_date(ids.token_issued);
		check_path(&ids);
	} else {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(memcmp(&ids, &start, sizeof ids) == 0);
	}
	check_notices(body, size);
	free(body);
	return 0;
}
