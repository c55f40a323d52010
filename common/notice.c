/* A server's notices: the checks every notice passes before it is held
 * (common/notice.h). */
#include <string.h>

#include "notice.h"

bool
notice_token_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= max || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

/* One UTF-8 character at s[0..len-1] into *cp; its length in bytes, or
 * 0 when the bytes are not one (overlong, a surrogate, beyond U+10FFFF,
 * cut). */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned long *cp)
{
	static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n;
	unsigned long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* White space, the Unicode line and paragraph separators included. */
static bool
is_blank(unsigned long c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x2028 || c == 0x2029;
}

/* A control (C0, DEL, C1) or a character that reorders what a terminal
 * shows (bidirectional marks, embeddings, overrides and isolates). */
static bool
is_unsafe(unsigned long c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069);
}

size_t
notice_text_clean(const char *s, size_t len, char out[NOTICE_TEXT_BUF])
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, chars = 0, keep_o = 0, keep_chars = 0;
	bool space = false;

	if (len > NOTICE_IN_MAX)
		len = NOTICE_IN_MAX;
	for (size_t i = 0; s != NULL && i < len;) {
		unsigned long c;
		size_t n = utf8_decode(p + i, len - i, &c);

		if (n == 0) {
			c = '?';
			n = 1;
		}
		if (is_blank(c)) {
			space = chars > 0;
			i += n;
			continue;
		}
		if (is_unsafe(c))
			c = '?';	/* the whole character, n bytes */
		if (chars + (space ? 2 : 1) > NOTICE_TEXT_CHARS) {
			o = keep_o;
			chars = keep_chars;
			memcpy(out + o, "...", 3);
			o += 3;
			chars += 3;
			break;
		}
		if (space) {
			out[o++] = ' ';
			chars++;
		}
		space = false;
		if (c < 0x80) {
			out[o++] = (char)c;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
		}
		chars++;
		i += n;
		if (chars <= NOTICE_TEXT_CHARS - 3) {
			keep_o = o;
			keep_chars = chars;
		}
	}
	out[o] = '\0';
	return chars;
}

int
notice_set(struct notice *n, const char *id, const char *kind,
    const char *text, size_t text_len, const char **why)
{
	if (!notice_token_valid(id, NOTICE_ID_MAX)) {
		*why = "a notice's \"id\" is not a short token of [A-Za-z0-9._-]";
		return -1;
	}
	if (!notice_token_valid(kind, NOTICE_KIND_MAX)) {
		*why = "a notice's \"kind\" is not a short token of [A-Za-z0-9._-]";
		return -1;
	}
	memset(n, 0, sizeof *n);
	if (notice_text_clean(text, text_len, n->text) == 0) {
		*why = "a notice's \"text\" is empty";
		return -1;
	}
	memcpy(n->id, id, strlen(id) + 1);
	memcpy(n->kind, kind, strlen(kind) + 1);
	return 0;
}
