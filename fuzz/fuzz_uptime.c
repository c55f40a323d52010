/* libFuzzer target: parse_core_show_uptime (collect/parse.c) on any text
 * `asterisk -rx "core show uptime seconds"` could print. */
#include <stdlib.h>

#include "../collect/collect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	long long uptime, since_reload;
	int rc;

	if (text == NULL)
		return 0;
	rc = parse_core_show_uptime(text, &uptime, &since_reload);
	/* collect.h: each -1 when absent; 0 iff the uptime was read. */
	FUZZ_CHECK(uptime >= -1 && since_reload >= -1);
	FUZZ_CHECK((rc == 0) == (uptime >= 0));
	FUZZ_CHECK(rc == 0 || rc == -1);
	free(text);
	return 0;
}
