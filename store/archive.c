/* The archive of accepted bodies: the exact body each server last
 * accepted, "NAME.sent.json" in state_dir, for --diff.  A file of
 * files.c's, one per server. */
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "history.h"

#define ARCHIVE_MAX (8u << 20)	/* bytes of an archived body we read back */

static void
archive_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s.sent.json", name);
}

int
archive_write(int dirfd, const char *name, const char *body)
{
	char file[160];

	archive_name(name, file, sizeof file);
	return file_replace(dirfd, file, "archive", body, strlen(body), 0600,
	    true);
}

int
archive_read(int dirfd, const char *name, char **body)
{
	char file[160];

	archive_name(name, file, sizeof file);
	return file_read(dirfd, file, "archive", ARCHIVE_MAX, body, NULL);
}

int
archive_remove(int dirfd, const char *name)
{
	char file[160];

	archive_name(name, file, sizeof file);
	return file_remove(dirfd, file, "archive");
}
