/* libFuzzer target: the lifecycle data file (collector/base/lifecycle.c)
 * on any bytes, read through fmemopen, then the rules on the first bytes
 * as a version name.  It checks what lifecycle.h promises of a loaded
 * file (every series complete, its name a release series, its dates
 * valid days in order, a last_checked) and of a refused one (one
 * printable line starting "NAME:"), and that a notice is one printable
 * line of at most 200 bytes given only for eol or security. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../collector/base/lifecycle.h"
#include "fuzz.h"

static bool
day_like(const char *d)
{
	return strlen(d) == 10 && d[4] == '-' && d[7] == '-';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lifecycle *lc = NULL;
	char err[1024], id[LC_NOTICE_ID_MAX + 1], text[LC_NOTICE_TEXT_MAX + 1];
	char key[LC_NAME_MAX + 1], *version;
	FILE *f;
	time_t now = 1796558400;	/* 2026-12-06 */

	if (size == 0)
		return 0;
	f = fmemopen((void *)(uintptr_t)data, size, "r");
	if (f == NULL)
		return 0;
	if (lifecycle_load_stream(f, "fuzz.ini", &lc, err, sizeof err) == 0) {
		FUZZ_CHECK(lc != NULL && day_like(lc->last_checked));
		FUZZ_CHECK(lc->n <= LC_MAX_SERIES);
		for (size_t i = 0; i < lc->n; i++) {
			const struct lc_series *s = &lc->series[i];

			FUZZ_CHECK(lifecycle_series_key(s->name, key));
			FUZZ_CHECK(day_like(s->released) && day_like(s->security) &&
			    day_like(s->eol));
			FUZZ_CHECK(strcmp(s->released, s->security) <= 0 &&
			    strcmp(s->security, s->eol) <= 0);
			FUZZ_CHECK(strncmp(s->source, "http", 4) == 0 &&
			    fuzz_printable(s->source));
			FUZZ_CHECK((s->kind == LC_CERTIFIED) ==
			    (strncmp(s->name, "certified/", 10) == 0));
			FUZZ_CHECK(lifecycle_find(lc, s->name, 0) == s);
		}
	} else {
		FUZZ_CHECK(lc == NULL);
		FUZZ_CHECK(strncmp(err, "fuzz.ini:", 9) == 0 && fuzz_printable(err));
	}
	fclose(f);

	/* the input's first line as a version name, against the file */
	version = fuzz_cstring(data, size < 64 ? size : 64);
	if (version != NULL) {
		enum lc_status st = lifecycle_status(lc, version, (long)size * 997, now);
		bool told = lifecycle_notice(lc, version, (long)size * 997, now, id, text);

		FUZZ_CHECK(told == (st == LC_EOL || st == LC_SECURITY));
		FUZZ_CHECK(lc != NULL || st == LC_UNKNOWN);
		FUZZ_CHECK(strlen(text) <= LC_NOTICE_TEXT_MAX && fuzz_printable(text));
		FUZZ_CHECK(!told || (strncmp(id, "lifecycle-", 10) == 0 &&
		    fuzz_printable(id) && strchr(id, '/') == NULL));
		if (lifecycle_series_key(version, key))
			FUZZ_CHECK(key[0] != '\0' && fuzz_printable(key));
		free(version);
	}
	lifecycle_free(lc);
	return 0;
}
