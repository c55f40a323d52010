/* The report: one batch of Asterisk commands, uname and /proc, and the
 * protocol's Server JSON built from it in one place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "collect.h"

/* The report's own commands, run in one batch with the caller's. */
enum { CMD_VERSION, CMD_MODULES, CMD_UPTIME, CMD_CALLS, CMD__MAX };

static const char *const report_commands[CMD__MAX] = {
	[CMD_VERSION] = "core show version",
	[CMD_MODULES] = "module show",
	[CMD_UPTIME] = "core show uptime seconds",
	[CMD_CALLS] = "core show calls",
};

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	free(r->version_name);
	free(r->version_number);
	for (size_t i = 0; i < r->nmodules; i++) {
		free(r->modules[i].name);
		free(r->modules[i].description);
		free(r->modules[i].status);
		free(r->modules[i].support_level);
	}
	free(r->modules);
	free(r->sys_name);
	free(r->release);
	free(r->os_version);
	free(r->machine);
	memset(r, 0, sizeof *r);
	r->cpu_count = -1;
	r->memory_total_kb = -1;
	r->system_uptime = -1;
}

/* Print each failed command once; identical messages (Asterisk down
 * answers every command alike) only once. */
static void
log_failures(const char *via, const char *const *commands,
    const struct ast_reply *replies, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (replies[i].status == AST_OK)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = replies[j].status != AST_OK &&
			    replies[j].err != NULL && replies[i].err != NULL &&
			    strcmp(replies[j].err, replies[i].err) == 0;
		if (!seen)
			log_error("%s \"%s\": %s", via, commands[i],
			    replies[i].err ? replies[i].err : "failed");
	}
}

/* Fill r's Asterisk fields from the replies; -1 when the version is
 * unusable (printed). */
static int
read_replies(const char *via, const struct ast_reply *rep, time_t now,
    struct report *r)
{
	long long up, reload;

	if (parse_core_show_version(rep[CMD_VERSION].out, &r->version_name,
	    &r->version_number) < 0) {
		char *said = text_sanitize(rep[CMD_VERSION].out,
		    rep[CMD_VERSION].out_len, 120);
		log_error("%s \"%s\": not a version: \"%s\"",
		    via, report_commands[CMD_VERSION], said ? said : "");
		free(said);
		return -1;
	}
	if (parse_module_show(rep[CMD_MODULES].out, &r->modules,
	    &r->nmodules) == 0)
		r->have_modules = true;
	else
		log_warn("%s \"%s\": no module list; modules left out",
		    via, report_commands[CMD_MODULES]);
	if (parse_core_show_uptime(rep[CMD_UPTIME].out, &up, &reload) == 0 &&
	    up <= now) {
		/* rounded down to the hour (CONTRACT §6) */
		r->have_startup_time = true;
		r->startup_time = coarse_time(now - (time_t)up);
		if (reload >= 0 && reload <= now) {
			r->have_last_reload_time = true;
			r->last_reload_time = coarse_time(now - (time_t)reload);
		}
	} else {
		log_warn("%s \"%s\": no uptime; run time left out",
		    via, report_commands[CMD_UPTIME]);
	}
	if (parse_core_show_calls(rep[CMD_CALLS].out, &r->calls_active,
	    &r->calls_processed) == 0) {
		r->have_calls_active = r->calls_active >= 0;
		r->have_calls_processed = r->calls_processed >= 0;
	} else {
		log_warn("%s \"%s\": no call counts; calls left out",
		    via, report_commands[CMD_CALLS]);
	}
	return 0;
}

int
collect_report(const struct ast_client *ac, const char *const *extra,
    size_t nextra, struct ast_reply *extra_replies, time_t now,
    struct report *r)
{
	size_t n = CMD__MAX + nextra;
	const char **commands = calloc(n, sizeof *commands);
	struct ast_reply *replies = calloc(n, sizeof *replies);
	int ret = -1;

	memset(r, 0, sizeof *r);
	r->cpu_count = -1;
	r->memory_total_kb = -1;
	r->system_uptime = -1;
	for (size_t i = 0; i < nextra; i++)
		memset(&extra_replies[i], 0, sizeof extra_replies[i]);
	if (commands == NULL || replies == NULL) {
		log_error("collecting the report: %s", strerror(ENOMEM));
		goto out;
	}
	memcpy(commands, report_commands, sizeof report_commands);
	for (size_t i = 0; i < nextra; i++)
		commands[CMD__MAX + i] = extra[i];
	/* One batch, every command at once: each costs a round trip. */
	if (asterisk_run(ac, commands, n, replies) < 0)
		log_failures(asterisk_via(ac), commands, replies, n);
	else if (read_replies(asterisk_via(ac), replies, now, r) == 0 &&
	    collect_system(r) == 0)
		ret = 0;
	for (size_t i = 0; i < nextra; i++) {
		extra_replies[i] = replies[CMD__MAX + i];
		memset(&replies[CMD__MAX + i], 0, sizeof replies[0]);
	}
out:
	for (size_t i = 0; replies != NULL && i < n; i++)
		ast_reply_free(&replies[i]);
	free(replies);
	free(commands);
	return ret;
}

/* ---- JSON ------------------------------------------------------------ */

/*
 * Set key to the string s in obj (nothing when s is NULL).  Text is
 * printable ASCII after the parsers, but a report built elsewhere may
 * hold bytes that are not UTF-8, which jansson refuses: such a value is
 * sent sanitised rather than dropping the whole report.  -1 on ENOMEM.
 */
static int
set_text(json_t *obj, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL)
		return 0;
	v = json_string(s);
	if (v == NULL) {
		char *clean = text_sanitize(s, strlen(s), 1024);
		if (clean == NULL)
			return -1;
		v = json_string(clean);
		free(clean);
		if (v == NULL)
			return -1;
	}
	return json_object_set_new(obj, key, v);
}

static int
set_time(json_t *obj, const char *key, bool have, time_t t)
{
	char buf[RFC3339_LEN + 1];

	if (!have)
		return 0;
	time_format_utc(t, buf);
	return json_object_set_new(obj, key, json_string(buf));
}

static int
set_int(json_t *obj, const char *key, bool have, long long v)
{
	if (!have)
		return 0;
	return json_object_set_new(obj, key, json_integer(v));
}

/* Add child to obj under key unless it is empty (then drop it). */
static int
set_nonempty(json_t *obj, const char *key, json_t *child)
{
	if (child == NULL)
		return -1;
	if (json_object_size(child) == 0) {
		json_decref(child);
		return 0;
	}
	return json_object_set_new(obj, key, child);
}

static json_t *
modules_json(const struct report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < r->nmodules; i++) {
		const struct module_info *m = &r->modules[i];
		json_t *o = json_object();

		if (o == NULL || set_text(o, "name", m->name ? m->name : "") ||
		    set_text(o, "description",
		    m->description ? m->description : "") ||
		    set_text(o, "status", m->status) ||
		    set_text(o, "support_level", m->support_level) ||
		    json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *
asterisk_json(const struct report *r)
{
	json_t *ast = json_object(), *ver = json_object();
	json_t *stats = json_object(), *run = json_object(),
	    *calls = json_object();
	int bad;

	bad = ast == NULL || ver == NULL || stats == NULL || run == NULL ||
	    calls == NULL;
	bad = bad || set_text(ver, "name", r->version_name) ||
	    set_text(ver, "number", r->version_number);
	bad = bad || json_object_set(ast, "version", ver);
	if (!bad && r->have_modules)
		bad = json_object_set_new(ast, "modules", modules_json(r));
	bad = bad || set_time(run, "startup_time", r->have_startup_time,
	    r->startup_time) ||
	    set_time(run, "last_reload_time", r->have_last_reload_time,
	    r->last_reload_time);
	bad = bad || set_int(calls, "active", r->have_calls_active,
	    r->calls_active) ||
	    set_int(calls, "processed", r->have_calls_processed,
	    r->calls_processed);
	if (!bad) {
		/* Each set_nonempty takes its child, whatever it returns. */
		bad = set_nonempty(stats, "run_time", run);
		bad = set_nonempty(stats, "calls", calls) || bad;
		run = calls = NULL;
		bad = set_nonempty(ast, "stats", stats) || bad;
		stats = NULL;
	}
	json_decref(ver);
	json_decref(run);
	json_decref(calls);
	json_decref(stats);
	if (bad) {
		json_decref(ast);
		return NULL;
	}
	return ast;
}

static json_t *
os_json(const struct report *r)
{
	json_t *os = json_object();

	if (os == NULL || set_text(os, "sys_name", r->sys_name) ||
	    set_text(os, "release", r->release) ||
	    set_text(os, "version", r->os_version) ||
	    set_text(os, "machine", r->machine) ||
	    set_int(os, "cpu_count", r->cpu_count >= 0, r->cpu_count) ||
	    set_int(os, "memory_total_kb", r->memory_total_kb >= 0,
	    r->memory_total_kb) ||
	    set_int(os, "uptime", r->system_uptime >= 0, r->system_uptime)) {
		json_decref(os);
		return NULL;
	}
	return os;
}

json_t *
report_to_json(const struct report *r, const char *server_id,
    const char *private_name)
{
	json_t *root = json_object();

	/* Key order is the protocol's; insertion order is kept on output. */
	if (root == NULL || set_text(root, "id", server_id) ||
	    set_nonempty(root, "asterisk", asterisk_json(r)) ||
	    set_nonempty(root, "operating_system", os_json(r)) ||
	    set_text(root, "private_name", private_name)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

char *
report_body(const struct report *r, const char *server_id,
    const char *private_name)
{
	json_t *root = report_to_json(r, server_id, private_name);
	char *body;

	if (root == NULL)
		return NULL;
	body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return body;
}
