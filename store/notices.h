/* The last notices of each server (CONTRACT §6), kept in state_dir as
 * "NAME.notices" (JSON, replaced atomically by files.c) for --show, and
 * when each id was last shown on a run's output, so that -q prints a
 * notice the first time and again at most every NOTICE_REPEAT. */
#ifndef BEACON_STORE_NOTICES_H
#define BEACON_STORE_NOTICES_H

#include <stdbool.h>
#include <time.h>

#include "../common/notice.h"

#define NOTICE_REPEAT (30 * 24 * 60 * 60)	/* -q: again after 30 days */
#define NOTICE_SHOWN_MAX 32	/* ids remembered; the oldest go first */

struct notice_shown {
	char id[NOTICE_ID_MAX + 1];
	time_t when;		/* last shown on a run's output */
};

/* One server's file.  received: when the last answer that carried
 * list (possibly empty) came. */
struct notice_file {
	bool has_received;
	time_t received;
	struct notices list;
	size_t nshown;
	struct notice_shown shown[NOTICE_SHOWN_MAX];
};

/* The file's text into nf (pure; fuzzed): every notice checked again as
 * if it came from a server.  0, or -1 when it is not such a file (nf
 * then empty). */
int notice_file_parse(const char *text, struct notice_file *nf);

/* nf as the file's text; caller frees.  NULL when out of memory. */
char *notice_file_text(const struct notice_file *nf);

/* Read the file of server name (dirfd < 0 or no file: empty).  0, or -1
 * on a read error (printed); an unreadable file is warned about and
 * counts as empty. */
int notice_file_read(int dirfd, const char *name, struct notice_file *nf);

/* Replace it atomically; a file with no notices and nothing shown is
 * removed instead.  0 or -1 (printed). */
int notice_file_write(int dirfd, const char *name,
    const struct notice_file *nf);

/* Forget it (--reset).  0 or -1. */
int notice_file_remove(int dirfd, const char *name);

/* Under -q, is notice id to be printed at now: never shown, or shown
 * NOTICE_REPEAT ago or more (a time in the future counts as long ago:
 * a clock set back must not silence a notice for years)?  Pure. */
bool notice_due(const struct notice_file *nf, const char *id, time_t now);

/* Record that id was shown at now; entries older than NOTICE_REPEAT go
 * (they are due anyway), and past NOTICE_SHOWN_MAX the oldest.  Pure. */
void notice_mark_shown(struct notice_file *nf, const char *id, time_t now);

#endif
