/*
 * A small HTML builder for the collector's pages (dashboard, fleet).
 * Markup comes only from string literals of our own (html_raw, and the
 * formats of html_rawf, which print numbers); every text that comes from
 * data — a report, a configuration value, a query — goes through
 * html_text or html_attr, which escape & < > " ' and replace control
 * characters, so that nothing a PBX sends can become markup.
 *
 * Out of memory is sticky: the first failed append marks the page, later
 * appends do nothing, and html_steal returns NULL.
 */
#ifndef COLLECTOR_HTML_H
#define COLLECTOR_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "../../common/text.h"

struct html {
	struct buf b;
	bool oom;
};

/* The one escaping function: len bytes of s, escaped, appended to b.
 * -1 when out of memory. */
int html_escape(struct buf *b, const char *s, size_t len);

/* A literal of our own markup (never data). */
void html_raw(struct html *h, const char *literal);

/* Our own markup with numbers: the format must not take %s of data. */
void html_rawf(struct html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Escaped text; NULL is written as nothing. */
void html_text(struct html *h, const char *s);

/* At most max bytes of s (cut at a UTF-8 boundary, then "…"), escaped. */
void html_text_cut(struct html *h, const char *s, size_t max);

/* ` name="value"`, value escaped (name is a literal). */
void html_attr(struct html *h, const char *name, const char *value);

/* <tag>text</tag> with text escaped (tag is a literal, e.g. "td"). */
void html_elem(struct html *h, const char *tag, const char *text);

/* A count with thousands separators ("1,234,567"), into out. */
void html_format_count(long n, char *out, size_t outlen);

/* The page (caller frees), or NULL when out of memory; h is reset. */
char *html_steal(struct html *h);

/* Free what h holds and reset it. */
void html_free(struct html *h);

#endif
