/* Small text helpers shared by every module: validation of what comes
 * from outside, time formats, and a growing buffer. */
#ifndef BEACON_TEXT_H
#define BEACON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define UUID_LEN 36		/* 8-4-4-4-12 hex digits, no braces */
#define RFC3339_LEN 20		/* "2026-11-22T18:00:00Z" */

/* True when s is exactly a UUID in 8-4-4-4-12 hex form (any case). */
bool uuid_is_valid(const char *s);

/*
 * A printable copy of untrusted text for a terminal or a log line:
 * control characters and non-ASCII bytes become '?', runs of white space
 * one space, and the result is cut to at most max bytes (with "..." when
 * cut).  Returns a new string the caller frees, or NULL when out of memory.
 */
char *text_sanitize(const char *s, size_t len, size_t max);

/* What stands for a secret (a token, a password) in every line shown. */
#define SECRET_MASK "****"

/* cmd as it may be printed or logged: the value of `database put F
 * token_id V` becomes SECRET_MASK, the one rule for tokens (the HTTP
 * lines mask ?tokenId= the same way).  Always NUL-terminates out. */
void command_for_log(const char *cmd, char *out, size_t size);

/* Format t as RFC 3339 UTC ("2026-11-22T18:00:00Z") into buf. */
void time_format_utc(time_t t, char buf[RFC3339_LEN + 1]);

/* Parse an RFC 3339 UTC time exactly as time_format_utc writes it
 * ("2026-11-22T18:00:00Z": no blanks, no fraction, a real date); 0 on
 * success, -1 otherwise. */
int time_parse_utc(const char *s, time_t *out);

/* A growing byte buffer, always NUL-terminated; owned by its holder. */
struct buf {
	char *data;		/* NULL until the first append */
	size_t len;
	size_t cap;
};

/* Append len bytes; -1 when out of memory (the buffer is unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
/* Make room for len more bytes at once (one allocation of the exact size
 * when the size is known in advance); -1 when out of memory. */
int buf_reserve(struct buf *b, size_t len);
/* Append printf-formatted text; -1 when out of memory or on a format
 * error (the buffer then holds what was there before). */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Free the buffer's memory and reset it to empty. */
void buf_free(struct buf *b);
/* Hand the data to the caller (who frees it) and reset the buffer;
 * never NULL unless out of memory: an empty buffer gives "". */
char *buf_steal(struct buf *b);

#endif
