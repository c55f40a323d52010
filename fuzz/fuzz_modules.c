/* libFuzzer target: parse_module_show (collect/parse.c) on any text
 * `asterisk -rx "module show"` could print. */
#include <stdlib.h>

#include "../collect/collect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	struct module_info *mods;
	size_t n;

	if (text == NULL)
		return 0;
	if (parse_module_show(text, &mods, &n) == 0) {
		FUZZ_CHECK(n == 0 || mods != NULL);
		for (size_t i = 0; i < n; i++) {
			struct module_info *m = &mods[i];

			FUZZ_CHECK(m->name != NULL && m->name[0] != '\0');
			FUZZ_CHECK(m->description != NULL);
			FUZZ_CHECK(fuzz_printable(m->name));
			FUZZ_CHECK(fuzz_printable(m->description));
			FUZZ_CHECK(m->status == NULL || fuzz_printable(m->status));
			FUZZ_CHECK(m->support_level == NULL ||
			    fuzz_printable(m->support_level));
			free(m->name);
			free(m->description);
			free(m->status);
			free(m->support_level);
		}
		free(mods);
	} else {
		FUZZ_CHECK(mods == NULL && n == 0);
	}
	free(text);
	return 0;
}
