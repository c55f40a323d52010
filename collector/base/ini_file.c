/* An INI file read through libinih with its line numbers (ini_file.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/text.h"
#include "ini_file.h"

void
ini_file_error(struct ini_file *f, int line, const char *fmt, ...)
{
	char msg[512];
	char *file;
	va_list ap;

	if (f->error)
		return;
	f->error = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	file = text_sanitize(f->path, strlen(f->path), 256);
	if (f->errlen == 0)
		;
	else if (line > 0)
		snprintf(f->err, f->errlen, "%s:%d: %s", file ? file : "?", line, msg);
	else
		snprintf(f->err, f->errlen, "%s: %s", file ? file : "?", msg);
	free(file);
}

char *
ini_file_shown(const char *v)
{
	char *s = text_sanitize(v, strlen(v), INI_SHOWN);

	return s != NULL ? s : strdup("?");
}

void
ini_file_bad_value(struct ini_file *f, const char *name, const char *v,
    const char *what)
{
	char *s = ini_file_shown(v);

	ini_file_error(f, f->line, "%s: \"%s\" %s", name, s ? s : "?", what);
	free(s);
}

/* The reader's verdict on one line (leading blanks and BOM removed). */
static void
check_line(struct ini_file *f, const char *s)
{
	const char *end;
	char *name;

	if (s[0] == '\0' || s[0] == '\n' || s[0] == '\r' || s[0] == ';' || s[0] == '#')
		return;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			ini_file_error(f, f->line, "malformed section header (no ']')");
			return;
		}
		name = strndup(s + 1, (size_t)(end - s - 1));
		if (name == NULL) {
			ini_file_error(f, f->line, "out of memory");
			return;
		}
		f->on_section(f, name);
		free(name);
		return;
	}
	if (strpbrk(s, "=:") == NULL)
		ini_file_error(f, f->line, "malformed line (expected [section], name = value or a ; comment)");
}

/* fgets for inih: one line per call, counted; a line too long for inih's
 * buffer is an error and is swallowed whole, so that the count stays
 * inih's. */
static char *
reader(char *str, int num, void *stream)
{
	struct ini_file *f = stream;
	size_t len, skip;
	int c;

	if (fgets(str, num, f->file) == NULL)
		return NULL;
	f->line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(f->file)) {
		/* fgets stopped early: at the buffer's end, or a NUL byte
		 * made the line look shorter than what was read */
		if (len + 1 < (size_t)num)
			ini_file_error(f, f->line, "a NUL byte in the line (not a text file)");
		else
			ini_file_error(f, f->line, "line too long (at most %d bytes)", num - 2);
		while ((c = fgetc(f->file)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	skip = 0;
	if (f->line == 1 && strncmp(str, "\xEF\xBB\xBF", 3) == 0)
		skip = 3;
	skip += strspn(str + skip, " \t");
	memmove(str, str + skip, strlen(str + skip) + 1);
	check_line(f, str);
	return str;
}

int
ini_file_parse(struct ini_file *f, ini_handler handler, void *user)
{
	int rc = ini_parse_stream(reader, f, handler, user);

	if (ferror(f->file))
		ini_file_error(f, 0, "cannot read: %s", strerror(errno));
	if (rc > 0)
		ini_file_error(f, rc, "malformed line (expected [section], name = value or a ; comment)");
	else if (rc < 0)
		ini_file_error(f, 0, "cannot read: out of memory");
	return f->error ? -1 : 0;
}
