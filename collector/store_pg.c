/* The PostgreSQL backend (COLLECTOR.md §5), not written yet: issue 14.
 * Until then a postgresql:// database is refused at start, plainly. */
#include <stdio.h>

#include "store_backend.h"

int
store_pg_open(const char *uri, struct store **out, char *err, size_t errlen)
{
	(void)uri;
	*out = NULL;
	snprintf(err, errlen, "postgresql: this build has no PostgreSQL "
	    "backend yet; use sqlite:PATH");
	return -1;
}
