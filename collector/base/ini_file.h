/*
 * An INI file read through libinih with its line numbers, for the
 * configuration (config.c) and the lifecycle data (lifecycle.c).
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, so the handler is
 * not told its line: the file is fed through ini_parse_stream with a
 * reader that counts lines (one call per line, as inih counts them).  The
 * reader also catches what inih would let pass or report badly: section
 * headers without ']' (a name is handed to on_section, even of an empty
 * section), lines too long for inih's buffer or holding a NUL, lines
 * without '=' or ':', and indented lines (inih would join them to the
 * value above: leading blanks are removed).  The first error is the one
 * reported: "FILE:LINE: message", or "FILE: message" for line 0.
 */
#ifndef COLLECTOR_INI_FILE_H
#define COLLECTOR_INI_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ini.h>

#define INI_SHOWN 80	/* bytes of a value echoed in a message */

struct ini_file {
	const char *path;	/* for messages (sanitised when shown) */
	FILE *file;
	char *err;		/* the first error, errlen bytes at most */
	size_t errlen;
	bool error;
	int line;		/* the line inih is handling */
	/* A section header's name, before inih sees the line; may call
	 * ini_file_error.  The ini_file is the first member of the caller's
	 * own struct, which the callback may cast it back to. */
	void (*on_section)(struct ini_file *f, const char *name);
};

/* Record an error at line (0: none), unless one was recorded before.
 * Every value in the message must have been sanitised by the caller. */
void ini_file_error(struct ini_file *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A sanitised copy of v for a message (at most INI_SHOWN bytes), "?" when
 * out of memory; freed by the caller. */
char *ini_file_shown(const char *v);

/* "NAME: "VALUE" WHAT" at the current line, the value sanitised. */
void ini_file_bad_value(struct ini_file *f, const char *name, const char *v,
    const char *what);

/* Parse f->file with handler(user, ...): 0, or -1 when an error was
 * recorded (by the reader, the handler, inih or a read error). */
int ini_file_parse(struct ini_file *f, ini_handler handler, void *user);

#endif
