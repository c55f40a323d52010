/* libFuzzer target: astdb_parse_ids (store/astdb.c) on any text
 * `asterisk -rx "database show beacon"` could print, for the built-in
 * family and a collector's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../store/store.h"
#include "fuzz.h"

/* What store.h promises of ids: each field absent or valid, and no token
 * without its server id. */
static void
check_ids(const struct server_ids *ids)
{
	time_t t;

	FUZZ_CHECK(ids->server_id[0] == '\0' || uuid_is_valid(ids->server_id));
	FUZZ_CHECK(ids->token_id[0] == '\0' || uuid_is_valid(ids->token_id));
	FUZZ_CHECK(ids->token_issued[0] == '\0' ||
	    time_parse_utc(ids->token_issued, &t) == 0);
	FUZZ_CHECK(memchr(ids->token_issued, '\0', sizeof ids->token_issued));
	if (ids->server_id[0] == '\0')
		FUZZ_CHECK(ids->token_id[0] == '\0' &&
		    ids->token_issued[0] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const families[] = { "beacon", "beacon/mylab" };
	char *text = fuzz_cstring(data, size);
	struct server_ids ids;

	if (text == NULL)
		return 0;
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		memset(&ids, 'x', sizeof ids);	/* must be fully overwritten */
		astdb_parse_ids(text, families[i], &ids);
		check_ids(&ids);
	}
	free(text);
	return 0;
}
