/* libFuzzer target: the privacy guard's matchers (collect/guard.c) on any
 * text a module description or a kernel version could hold. */
#include <stdlib.h>

#include "../collect/guard.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	const char *what;

	if (text == NULL)
		return 0;
	what = guard_check(text, "pbx01.example.net");
	/* guard_check is the matchers in one */
	FUZZ_CHECK((what != NULL) == (guard_has_host(text, "pbx01.example.net") ||
	    guard_has_email(text) || guard_has_sip_uri(text) ||
	    guard_has_mac(text) || guard_has_ipv4(text) || guard_has_ipv6(text)));
	/* what replaces a match is clean */
	FUZZ_CHECK(guard_check(GUARD_REDACTED, "pbx01.example.net") == NULL);
	free(text);
	return 0;
}
