/* --show: the report and each server's stored state, laid out like
 * `beacon show server` of the design, in 80 columns; and as JSON. */
#include <stdio.h>
#include <string.h>

#include "output.h"

#define WIDTH 80

static void
heading(FILE *out, bool color, const char *indent, const char *text)
{
	if (color)
		fprintf(out, "%s\033[1m%s\033[0m\n", indent, text);
	else
		fprintf(out, "%s%s\n", indent, text);
}

/* "1 minute, 16 seconds", Asterisk's way of saying a duration. */
static void
human_duration(long long secs, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (secs < 0)
		secs = 0;
	for (size_t i = 0; i < DURATION_UNITS; i++) {
		long long x = secs / duration_units[i].secs;
		int w;

		if (x == 0 && !(duration_units[i].secs == 1 && len == 0))
			continue;
		secs -= x * duration_units[i].secs;
		w = snprintf(buf + len, size - len, "%s%lld %s%s",
		    len ? ", " : "", x, duration_units[i].word, x == 1 ? "" : "s");
		if (w < 0 || (size_t)w >= size - len)
			return;
		len += (size_t)w;
	}
}

static const char *
id_or(const char *s, const char *absent)
{
	return s != NULL && *s != '\0' ? s : absent;
}

/* "label text" in WIDTH columns: a long text goes on below the label's
 * end, cut at a space when there is one, never inside a UTF-8 character. */
static void
print_wrapped(FILE *out, const char *label, const char *text)
{
	size_t indent = strlen(label), room = WIDTH - indent;

	fputs(label, out);
	while (strlen(text) > room) {
		size_t cut = room;

		while (cut > room / 2 && text[cut] != ' ')
			cut--;
		if (text[cut] != ' ') {
			cut = room;
			while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
				cut--;
			if (cut == 0)
				cut = room;	/* not UTF-8: bytes, then */
		}
		fprintf(out, "%.*s\n%*s", (int)cut, text, (int)indent, "");
		text += cut;
		text += *text == ' ';
	}
	fprintf(out, "%s\n", text);
}

static void
print_server(FILE *out, const struct target *s, bool color)
{
	char buf[RFC3339_LEN + 1], title[WIDTH];
	const struct server_ids *ids = &s->job.ids;

	snprintf(title, sizeof title, "Server: %s", s->conf->name);
	heading(out, color, "", title);
	fprintf(out, "  URL:          %s\n", s->conf->url ? s->conf->url : "(none)");
	fprintf(out, "  Server ID:    %s\n",
	    id_or(ids->server_id, "none"));
	fprintf(out, "  Token:\n");
	/* a token is "****" in every output but --show --json (CONTRACT §8) */
	fprintf(out, "    ID:         %s\n",
	    ids->token_id[0] != '\0' ? SECRET_MASK : "none");
	fprintf(out, "    Issued:     %s\n",
	    id_or(ids->token_issued, "never"));
	if (s->has_last)
		time_format_utc(s->last, buf);
	fprintf(out, "  Last Posting: %s\n", s->has_last ? buf : "never");
	if (!s->due)
		time_format_utc(s->next, buf);
	fprintf(out, "  Next Posting: %s\n", s->disabled ?
	    "never (enabled = no)" : s->due ? "now" : buf);
	/* what it is sent, per server: a collector's own overrides */
	print_wrapped(out, "  Private Name: ", s->private_name != NULL ?
	    s->private_name : "(none: not sent)");
	fputc('\n', out);
}

/* Column widths of the module list, from its contents. */
struct columns {
	int name, status, level;
};

static struct columns
module_columns(const struct report *r)
{
	struct columns c = { 6, 0, 0 };

	for (size_t i = 0; i < r->nmodules; i++) {
		const struct module_info *m = &r->modules[i];
		int len;

		len = m->name ? (int)strlen(m->name) : 0;
		if (len > c.name)
			c.name = len > 30 ? 30 : len;	/* longer ones overflow */
		len = m->status ? (int)strlen(m->status) : 0;
		if (len > c.status)
			c.status = len > 11 ? 11 : len;
		len = m->support_level ? (int)strlen(m->support_level) : 0;
		if (len > c.level)
			c.level = len > 13 ? 13 : len;
	}
	return c;
}

/* One module in at most WIDTH columns: the description is cut to fit. */
static void
print_module(FILE *out, const struct module_info *m, struct columns c)
{
	char line[WIDTH + 1];
	int used = snprintf(line, sizeof line, "  %-*s %-*s %-*s ",
	    c.name, m->name ? m->name : "?", c.status,
	    m->status ? m->status : "", c.level,
	    m->support_level ? m->support_level : "");
	const char *d = m->description ? m->description : "";

	if (used < 0 || used >= WIDTH) {
		/* A long name: it keeps the line, the rest goes. */
		line[WIDTH] = '\0';
		fprintf(out, "%s\n", line);
		return;
	}
	fprintf(out, "%s%.*s\n", line, WIDTH - used, d);
}

static void
print_asterisk(FILE *out, const struct report *r, bool color)
{
	char buf[RFC3339_LEN + 1];

	heading(out, color, "", "Asterisk Information:");
	fprintf(out, "  Version: %s (%s)\n",
	    r->version_name ? r->version_name : "unknown",
	    r->version_number ? r->version_number : "?");
	heading(out, color, "  ", "Stats:");
	/* the values sent, which are coarse (CONTRACT §6): a duration from
	 * a rounded start time would mislead */
	fprintf(out, "    Run-time (as sent: rounded down to the hour):\n");
	if (r->have_startup_time) {
		time_format_utc(r->startup_time, buf);
		fprintf(out, "      Started at:       %s\n", buf);
	} else {
		fprintf(out, "      Started at:       unknown\n");
	}
	if (r->have_last_reload_time) {
		time_format_utc(r->last_reload_time, buf);
		fprintf(out, "      Last reload time: %s\n", buf);
	} else {
		fprintf(out, "      Last reload time: unknown\n");
	}
	fprintf(out, "    Calls:\n");
	if (r->have_calls_active)
		fprintf(out, "      Active:    %ld\n", r->calls_active);
	else
		fprintf(out, "      Active:    unknown\n");
	if (r->have_calls_processed)
		fprintf(out, "      Processed: %ld\n", r->calls_processed);
	else
		fprintf(out, "      Processed: unknown\n");
	if (!r->have_modules) {
		heading(out, color, "  ", "Modules: unknown");
	} else {
		char title[64];
		struct columns c = module_columns(r);
		snprintf(title, sizeof title, "Modules: %zu", r->nmodules);
		heading(out, color, "  ", title);
		for (size_t i = 0; i < r->nmodules; i++)
			print_module(out, &r->modules[i], c);
	}
	fputc('\n', out);
}

static void
print_os(FILE *out, const struct report *r, bool color)
{
	char dur[128];
	const char *sys = r->sys_name ? r->sys_name : "unknown";
	const char *rel = r->release ? r->release : "";
	const char *ver = r->os_version ? r->os_version : "";
	const char *mach = r->machine ? r->machine : "";

	heading(out, color, "", "Operating System:");
	/* "Linux 6.1.0 #1 SMP ... x86_64", the kernel's version on a line of
	 * its own when the whole would not fit. */
	if (2 + strlen(sys) + strlen(rel) + strlen(ver) + strlen(mach) + 3 <=
	    WIDTH)
		fprintf(out, "  %s %s %s %s\n", sys, rel, ver, mach);
	else
		fprintf(out, "  %s %s %s\n  %.*s\n", sys, rel, mach,
		    WIDTH - 2, ver);
	if (r->cpu_count >= 0)
		fprintf(out, "  CPUs:   %ld\n", r->cpu_count);
	/* as sent: coarse on purpose (CONTRACT §6), and said so */
	if (r->memory_total_kb >= 0)
		fprintf(out, "  Memory: %lld kB (as sent: whole multiples of 256 MiB)\n",
		    r->memory_total_kb);
	if (r->system_uptime >= 0) {
		human_duration(r->system_uptime, dur, sizeof dur);
		fprintf(out, "  Uptime: %s (as sent: in whole hours)\n",
		    r->system_uptime < 3600 ? "0 hours" : dur);
	}
}

void
show_print(FILE *out, const struct report *r,
    const struct target *servers, size_t n, bool enabled, bool color)
{
	heading(out, color, "", enabled ? "ANONYMOUS USAGE STATISTICS ENABLED" :
	    "ANONYMOUS USAGE STATISTICS DISABLED (enabled = no: nothing is sent)");
	fputc('\n', out);
	for (size_t i = 0; i < n; i++)
		print_server(out, &servers[i], color);
	print_asterisk(out, r, color);
	print_os(out, r, color);
}

/* A string or null: absent (NULL or "") gives null.  -1 on ENOMEM. */
static int
set_or_null(json_t *obj, const char *key, const char *s)
{
	json_t *v = (s != NULL && *s != '\0') ? json_string(s) : json_null();

	return json_object_set_new(obj, key, v);
}

static int
set_time_or_null(json_t *obj, const char *key, bool have, time_t t)
{
	char buf[RFC3339_LEN + 1];

	if (have)
		time_format_utc(t, buf);
	return set_or_null(obj, key, have ? buf : NULL);
}

json_t *
show_json(const struct report *r, const struct target *servers,
    size_t n, const char *private_name)
{
	json_t *root = json_object(), *arr = json_array();

	if (root == NULL || arr == NULL ||
	    json_object_set_new(root, "report",
	    report_to_json(r, NULL, private_name)) ||
	    json_object_set(root, "servers", arr))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct target *s = &servers[i];
		const struct server_ids *ids = &s->job.ids;
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(arr, o) ||
		    set_or_null(o, "name", s->conf->name) ||
		    set_or_null(o, "url", s->conf->url) ||
		    set_or_null(o, "server_id", ids->server_id) ||
		    set_or_null(o, "token_id", ids->token_id) ||
		    set_or_null(o, "token_issued",
		    ids->token_issued) ||
		    set_time_or_null(o, "last_report", s->has_last, s->last) ||
		    set_time_or_null(o, "next_due", true, s->next) ||
		    json_object_set_new(o, "due", json_boolean(s->due)) ||
		    json_object_set_new(o, "enabled", json_boolean(!s->disabled)) ||
		    set_or_null(o, "private_name", s->private_name))
			goto fail;
	}
	json_decref(arr);
	return root;
fail:
	json_decref(arr);
	json_decref(root);
	return NULL;
}
