/* The HTML builder: one escaping function, everything else appends. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int
html_escape(struct buf *b, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\t': case '\n': rep = NULL; break;
		default:
			/* C0 controls, DEL and NUL are no text: U+FFFD. */
			rep = c < 0x20 || c == 0x7f ? "\xEF\xBF\xBD" : NULL;
			break;
		}
		if (rep == NULL)
			continue;
		if (buf_append(b, s + start, i - start) < 0 ||
		    buf_append(b, rep, strlen(rep)) < 0)
			return -1;
		start = i + 1;
	}
	return buf_append(b, s + start, len - start);
}

static void
append(struct html *h, const char *s, size_t len)
{
	if (!h->oom && buf_append(&h->b, s, len) < 0)
		h->oom = true;
}

void
html_raw(struct html *h, const char *literal)
{
	append(h, literal, strlen(literal));
}

void
html_rawf(struct html *h, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		append(h, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);
		if (big == NULL) {
			h->oom = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		append(h, big, (size_t)n);
		free(big);
	}
}

void
html_text(struct html *h, const char *s)
{
	if (s != NULL && !h->oom && html_escape(&h->b, s, strlen(s)) < 0)
		h->oom = true;
}

void
html_text_cut(struct html *h, const char *s, size_t max)
{
	size_t len;

	if (s == NULL)
		return;
	len = strlen(s);
	if (len <= max) {
		html_text(h, s);
		return;
	}
	/* Back to the start of a UTF-8 sequence. */
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	if (!h->oom && html_escape(&h->b, s, max) < 0)
		h->oom = true;
	html_raw(h, "\xE2\x80\xA6");
}

void
html_attr(struct html *h, const char *name, const char *value)
{
	html_raw(h, " ");
	html_raw(h, name);
	html_raw(h, "=\"");
	html_text(h, value != NULL ? value : "");
	html_raw(h, "\"");
}

void
html_elem(struct html *h, const char *tag, const char *text)
{
	html_raw(h, "<");
	html_raw(h, tag);
	html_raw(h, ">");
	html_text(h, text);
	html_raw(h, "</");
	html_raw(h, tag);
	html_raw(h, ">");
}

void
html_format_count(long n, char *out, size_t outlen)
{
	char digits[32];
	char tmp[48];
	size_t len, j = 0;
	int neg = n < 0;
	unsigned long u = neg ? 0UL - (unsigned long)n : (unsigned long)n;

	snprintf(digits, sizeof digits, "%lu", u);
	len = strlen(digits);
	if (neg)
		tmp[j++] = '-';
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			tmp[j++] = ',';
		tmp[j++] = digits[i];
	}
	tmp[j] = '\0';
	snprintf(out, outlen, "%s", tmp);
}

char *
html_steal(struct html *h)
{
	char *page;

	if (h->oom) {
		html_free(h);
		return NULL;
	}
	page = buf_steal(&h->b);
	h->oom = false;
	return page;
}

void
html_free(struct html *h)
{
	buf_free(&h->b);
	h->oom = false;
}
