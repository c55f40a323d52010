/* A notice from a server (CONTRACT §6): what a collector has to tell a
 * PBX, e.g. that its Asterisk is past end of life.  The protocol (http/)
 * parses them from a PUT answer and the state (store/) keeps the last
 * ones: here, so that neither has to see the other.  Every notice held
 * in these structs has been validated. */
#ifndef BEACON_NOTICE_H
#define BEACON_NOTICE_H

#include <stdbool.h>
#include <stddef.h>

#define NOTICE_MAX 8		/* notices in one answer; more: malformed */
#define NOTICE_MAX_TEXT "8"	/* the same, for messages */
#define NOTICE_ID_MAX 64	/* bytes of an id: [A-Za-z0-9._-] */
#define NOTICE_KIND_MAX 32	/* bytes of a kind: the same characters */
#define NOTICE_TEXT_CHARS 200	/* characters of a text, "..." when cut */
#define NOTICE_TEXT_BUF (NOTICE_TEXT_CHARS * 4 + 1)	/* UTF-8, NUL */
#define NOTICE_IN_MAX 4096	/* bytes of a text we look at, at most */

struct notice {
	char id[NOTICE_ID_MAX + 1];
	char kind[NOTICE_KIND_MAX + 1];
	char text[NOTICE_TEXT_BUF];
};

struct notices {
	size_t n;
	struct notice item[NOTICE_MAX];
};

/* True when s is a short token: 1..max bytes of [A-Za-z0-9._-]. */
bool notice_token_valid(const char *s, size_t max);

/*
 * The text of a notice as it may be printed and logged: valid UTF-8 is
 * kept, but every control character (C0, DEL, C1) and every invalid
 * byte becomes '?' (white space: one space), bidirectional overrides
 * too, blanks at the ends are dropped, and the result is cut to
 * NOTICE_TEXT_CHARS characters, the last three "..." when cut.  len
 * bytes of s are read (NUL bytes included: they are controls).  Returns
 * the number of characters kept (0: nothing printable).
 */
size_t notice_text_clean(const char *s, size_t len, char out[NOTICE_TEXT_BUF]);

/* Fill n from the id, kind and text given: 0, or -1 with *why set to a
 * static reason when the id or kind is not a token or the text has
 * nothing printable. */
int notice_set(struct notice *n, const char *id, const char *kind,
    const char *text, size_t text_len, const char **why);

#endif
