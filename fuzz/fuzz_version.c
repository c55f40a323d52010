/* libFuzzer target: parse_core_show_version (collect/parse.c) on any
 * text `asterisk -rx "core show version"` could print. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../collect/collect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size), *name, *number;

	if (text == NULL)
		return 0;
	if (parse_core_show_version(text, &name, &number) == 0) {
		/* collect.h: "Asterisk 22.10.1" and "221001"; the name goes
		 * into JSON and onto a terminal, so printable only. */
		FUZZ_CHECK(name != NULL && number != NULL);
		FUZZ_CHECK(strncmp(name, "Asterisk ", 9) == 0);
		FUZZ_CHECK(fuzz_printable(name));
		FUZZ_CHECK(number[0] != '\0');
		for (const char *p = number; *p != '\0'; p++)
			FUZZ_CHECK(isdigit((unsigned char)*p));
		free(name);
		free(number);
	} else {
		FUZZ_CHECK(name == NULL && number == NULL);
	}
	free(text);
	return 0;
}
