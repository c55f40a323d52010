/* The collector's clock: time(NULL), or in a TEST_CLOCK=1 build the time
 * in the file named by BEACON_COLLECTOR_CLOCK_FILE, read at every call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/text.h"
#include "clock.h"

#if TEST_CLOCK
/* The time in the clock file; -1 when there is none or it is not one
 * RFC 3339 UTC time (an optional line end after it). */
static int
clock_file(time_t *out)
{
	const char *path = getenv("BEACON_COLLECTOR_CLOCK_FILE");
	char text[64];
	size_t n;
	FILE *f;

	if (path == NULL || path[0] == '\0' || (f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	while (n > 0 && strchr(" \t\r\n", text[n - 1]) != NULL)
		text[--n] = '\0';
	return time_parse_utc(text, out);
}
#endif

time_t
collector_now(void)
{
#if TEST_CLOCK
	time_t t;

	if (clock_file(&t) == 0)
		return t;
#endif
	return time(NULL);
}
