/* Text helpers: UUID check, sanitising, RFC 3339, growing buffer. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

bool
uuid_is_valid(const char *s)
{
	if (s == NULL || strlen(s) != UUID_LEN)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

char *
text_sanitize(const char *s, size_t len, size_t max)
{
	char *out;
	size_t o = 0, keep = 0;
	bool space = false;

	if (max < 4)
		max = 4;
	out = malloc(max + 1);
	if (out == NULL)
		return NULL;
	/* Copy until the text is known not to fit; only then cut it back
	 * to leave room for "...": a text of max bytes is kept whole. */
	for (size_t i = 0; s != NULL && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (o + (space ? 2 : 1) > max) {
			o = keep;
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		if (o <= max - 3)
			keep = o;
	}
	out[o] = '\0';
	return out;
}

void
command_for_log(const char *cmd, char *out, size_t size)
{
	static const char put[] = "database put ";
	const char *key, *end;

	if (size == 0)
		return;
	snprintf(out, size, "%s", cmd);
	if (strncmp(cmd, put, sizeof put - 1) != 0)
		return;
	key = strchr(cmd + sizeof put - 1, ' ');	/* after the family */
	if (key == NULL || strncmp(key + 1, "token_id ", 9) != 0)
		return;
	end = key + 1 + 9;
	snprintf(out, size, "%.*s" SECRET_MASK, (int)(end - cmd), cmd);
}

void
time_format_utc(time_t t, char buf[RFC3339_LEN + 1])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, RFC3339_LEN + 1, "1970-01-01T00:00:00Z");
}

int
time_parse_utc(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	char again[RFC3339_LEN + 1];
	time_t t;

	if (s == NULL || strlen(s) != RFC3339_LEN)
		return -1;
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	t = timegm(&tm);
	/* strptime skips blanks and accepts "2026-02-31": only a time that
	 * formats back to the very same text is one we wrote */
	time_format_utc(t, again);
	if (strcmp(again, s) != 0)
		return -1;
	*out = t;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (len >= SIZE_MAX - b->len - 1)
		return -1;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	b->len += (size_t)n;
	return 0;
}

int
buf_reserve(struct buf *b, size_t len)
{
	char *p;

	if (len >= SIZE_MAX - b->len - 1)
		return -1;
	if (b->len + len + 1 <= b->cap)
		return 0;
	p = realloc(b->data, b->len + len + 1);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = b->len + len + 1;
	return 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
