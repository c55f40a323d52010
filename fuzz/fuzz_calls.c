/* libFuzzer target: parse_core_show_calls (collect/parse.c) on any text
 * `asterisk -rx "core show calls"` could print. */
#include <stdlib.h>

#include "../collect/collect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	long active, processed;
	int rc;

	if (text == NULL)
		return 0;
	rc = parse_core_show_calls(text, &active, &processed);
	/* collect.h: each -1 when absent; 0 iff at least one was read. */
	FUZZ_CHECK(active >= -1 && processed >= -1);
	FUZZ_CHECK((rc == 0) == (active >= 0 || processed >= 0));
	FUZZ_CHECK(rc == 0 || rc == -1);
	free(text);
	return 0;
}
