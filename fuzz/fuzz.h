/* Shared by the libFuzzer targets: a NUL-terminated copy of the input
 * (the parsers read C strings) and a check that stops the run, so that a
 * broken promise of a parser is reported like a crash. */
#ifndef BEACON_FUZZ_H
#define BEACON_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string the caller frees; NULL when out of memory.
 * An embedded NUL simply ends the text early, as it would for the
 * program, which reads Asterisk's output into a NUL-terminated buffer. */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		if (size > 0)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Printable ASCII only (what every parser promises for what it keeps). */
static inline bool
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* stderr is closed while fuzzing (-close_fd_mask=2); abort() gives
 * libFuzzer's "deadly signal" report with the stack, which names the
 * failed check's line. */
#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

#endif
