/* libFuzzer target: retry_after_parse and http_date_parse (store/retry.c)
 * on any Retry-After header a server could send. */
#include <stdlib.h>

#include "../store/history.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	long long secs = 0;
	time_t t = 0, now = 1795000000;
	long wait;

	if (text == NULL)
		return 0;
	if (http_date_parse(text, &t) == 0)
		FUZZ_CHECK(t >= 0);	/* 1970..9999 only */
	if (retry_after_parse(text, now, &secs) == 0) {
		wait = retry_clamp(secs);
		FUZZ_CHECK(wait >= RETRY_AFTER_MIN && wait <= RETRY_AFTER_MAX);
		if (text[strspn(text, " \t")] >= '0' && text[strspn(text, " \t")] <= '9')
			FUZZ_CHECK(secs >= 0);
	}
	free(text);
	return 0;
}
