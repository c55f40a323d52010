/*
 * The body of PUT /servers/{id} against the Swagger `Server` model
 * (res_beacon-design.md) and the limits of COLLECTOR.md §3 step 4.
 *
 * Two walks over the parsed tree: the first enforces the limits on every
 * value, named or not (depth, string and key length, the number of
 * modules); the second the types and required fields of the named ones.
 * Unknown fields are allowed anywhere and kept, since the protocol only
 * grows.
 *
 * Duplicate keys are refused (JSON_REJECT_DUPLICATES): the body is stored
 * as received and read again later by other parsers, which do not agree
 * on which of two values wins; what was validated must be what is read.
 * JSON_DECODE_ANY only so that a scalar body gets the clearer "not a JSON
 * object".  jansson refuses invalid UTF-8 and "\u0000" in strings by default, and
 * stops at its own depth limit (2048) before ours is checked.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/text.h"
#include "validate.h"

#define PATH_MAX_LEN 512	/* the field path in a message */
#define KEY_SHOWN 64		/* bytes of an unknown key shown in a path */
#define PATH_SEGS (REPORT_MAX_DEPTH + 8)

/* The path to the value being checked, as a stack of segments: a key (a
 * pointer into the parsed body) or an index.  It is turned into text only
 * when a check fails, so that a valid body costs no formatting. */
struct seg {
	const char *key;	/* NULL: an array index */
	size_t index;
};

struct walk {
	struct seg segs[PATH_SEGS];
	size_t depth;		/* segments in use; past PATH_SEGS not kept */
	char *err;
	size_t errlen;
};

/* The path as text ("asterisk.modules[3].name"), keys sanitised and cut,
 * the whole cut to fit. */
static void
path_format(const struct walk *w, char out[PATH_MAX_LEN])
{
	size_t len = 0, n = w->depth < PATH_SEGS ? w->depth : PATH_SEGS;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < PATH_MAX_LEN - 1; i++) {
		int k;
		if (w->segs[i].key != NULL) {
			char *shown = text_sanitize(w->segs[i].key,
			    strlen(w->segs[i].key), KEY_SHOWN);
			k = snprintf(out + len, PATH_MAX_LEN - len, "%s%s",
			    i > 0 ? "." : "", shown != NULL ? shown : "?");
			free(shown);
		} else {
			k = snprintf(out + len, PATH_MAX_LEN - len, "[%zu]",
			    w->segs[i].index);
		}
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

/* "PATH: message" into the error; always -1. */
static int fail(struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct walk *w, const char *fmt, ...)
{
	char msg[256], path[PATH_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	path_format(w, path);
	if (w->errlen > 0)
		snprintf(w->err, w->errlen, "%s: %s",
		    path[0] != '\0' ? path : "body", msg);
	return -1;
}

/* Enter a member or an element; returns the old depth for path_pop. */
static size_t
path_push_key(struct walk *w, const char *key)
{
	size_t old = w->depth;

	if (old < PATH_SEGS)
		w->segs[old] = (struct seg){ .key = key };
	w->depth++;
	return old;
}

static size_t
path_push_index(struct walk *w, size_t i)
{
	size_t old = w->depth;

	if (old < PATH_SEGS)
		w->segs[old] = (struct seg){ .key = NULL, .index = i };
	w->depth++;
	return old;
}

static void
path_pop(struct walk *w, size_t old)
{
	w->depth = old;
}

/* The limits on every value: depth counts containers (the body object is
 * depth 1), strings and keys count bytes. */
static int
check_limits(struct walk *w, json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i, old;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) > REPORT_MAX_STRING)
			return fail(w, "longer than %d bytes", REPORT_MAX_STRING);
		return 0;
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth > REPORT_MAX_DEPTH)
			return fail(w, "nested deeper than %d levels",
			    REPORT_MAX_DEPTH);
		break;
	default:
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			old = path_push_index(w, i);
			if (check_limits(w, item, depth + 1) != 0)
				return -1;
			path_pop(w, old);
		}
		return 0;
	}
	json_object_foreach(v, key, item) {
		old = path_push_key(w, key);
		if (strlen(key) > REPORT_MAX_STRING)
			return fail(w, "key longer than %d bytes",
			    REPORT_MAX_STRING);
		if (check_limits(w, item, depth + 1) != 0)
			return -1;
		path_pop(w, old);
	}
	return 0;
}

enum kind { STRING, INTEGER, OBJECT, ARRAY };

/* The member name of obj: NULL when absent (an error when required),
 * otherwise of the given kind or an error naming it. */
static int
member(struct walk *w, json_t *obj, const char *name, enum kind kind,
    bool required, json_t **out)
{
	static const char *const what[] = {
		[STRING] = "not a string", [INTEGER] = "not an integer",
		[OBJECT] = "not an object", [ARRAY] = "not an array",
	};
	json_t *v = json_object_get(obj, name);
	size_t old = path_push_key(w, name);
	bool ok;

	*out = v;
	if (v == NULL) {
		if (required)
			return fail(w, "missing");
		path_pop(w, old);
		return 0;
	}
	switch (kind) {
	case STRING: ok = json_is_string(v); break;
	case INTEGER: ok = json_is_integer(v); break;
	case OBJECT: ok = json_is_object(v); break;
	default: ok = json_is_array(v); break;
	}
	if (!ok)
		return fail(w, "%s", what[kind]);
	if (kind == INTEGER && json_integer_value(v) < 0)
		return fail(w, "negative");
	path_pop(w, old);
	return 0;
}

/* Each name of names must be, when present, of the given kind. */
static int
members(struct walk *w, json_t *obj, const char *const *names,
    enum kind kind, bool required)
{
	json_t *v;

	for (; *names != NULL; names++)
		if (member(w, obj, *names, kind, required, &v) != 0)
			return -1;
	return 0;
}

/* Enter the member name of obj (an object, when present): its value or
 * NULL, and the old path length for path_pop. */
static int
enter(struct walk *w, json_t *obj, const char *name, bool required,
    json_t **out, size_t *old)
{
	if (member(w, obj, name, OBJECT, required, out) != 0)
		return -1;
	*old = path_push_key(w, name);
	return 0;
}

static int
check_module(struct walk *w, json_t *m)
{
	static const char *const required[] =
	    { "name", "description", "status", NULL };
	static const char *const optional[] = { "support_level", NULL };

	if (!json_is_object(m))
		return fail(w, "not an object");
	if (members(w, m, required, STRING, true) != 0 ||
	    members(w, m, optional, STRING, false) != 0)
		return -1;
	return 0;
}

static int
check_stats(struct walk *w, json_t *stats)
{
	static const char *const times[] =
	    { "startup_time", "last_reload_time", NULL };
	static const char *const counts[] = { "active", "processed", NULL };
	json_t *v;
	size_t old;

	if (enter(w, stats, "run_time", false, &v, &old) != 0)
		return -1;
	if (v != NULL && members(w, v, times, STRING, false) != 0)
		return -1;
	path_pop(w, old);
	if (enter(w, stats, "calls", false, &v, &old) != 0)
		return -1;
	if (v != NULL && members(w, v, counts, INTEGER, false) != 0)
		return -1;
	path_pop(w, old);
	return 0;
}

static int
check_asterisk(struct walk *w, json_t *ast)
{
	static const char *const version[] = { "name", "number", NULL };
	json_t *v, *m;
	size_t old, old2, i;

	if (enter(w, ast, "version", true, &v, &old) != 0 ||
	    members(w, v, version, STRING, true) != 0)
		return -1;
	path_pop(w, old);

	if (member(w, ast, "modules", ARRAY, false, &v) != 0)
		return -1;
	if (v != NULL) {
		old = path_push_key(w, "modules");
		if (json_array_size(v) > REPORT_MAX_MODULES)
			return fail(w, "more than %d modules",
			    REPORT_MAX_MODULES);
		json_array_foreach(v, i, m) {
			old2 = path_push_index(w, i);
			if (check_module(w, m) != 0)
				return -1;
			path_pop(w, old2);
		}
		path_pop(w, old);
	}

	if (enter(w, ast, "stats", false, &v, &old) != 0)
		return -1;
	if (v != NULL && check_stats(w, v) != 0)
		return -1;
	path_pop(w, old);
	return 0;
}

/* The Swagger `Server` model. */
static int
check_server(struct walk *w, json_t *body, const char *server_id)
{
	static const char *const os[] =
	    { "sys_name", "release", "version", "machine", NULL };
	json_t *v;
	size_t old;

	if (member(w, body, "id", STRING, true, &v) != 0)
		return -1;
	if (server_id == NULL || strcmp(json_string_value(v), server_id) != 0 ||
	    json_string_length(v) != strlen(server_id)) {
		old = path_push_key(w, "id");
		return fail(w, "does not match the server id");
	}
	if (enter(w, body, "asterisk", false, &v, &old) != 0)
		return -1;
	if (v != NULL && check_asterisk(w, v) != 0)
		return -1;
	path_pop(w, old);
	if (enter(w, body, "operating_system", false, &v, &old) != 0)
		return -1;
	if (v != NULL && members(w, v, os, STRING, false) != 0)
		return -1;
	path_pop(w, old);
	return member(w, body, "private_name", STRING, false, &v);
}

int
report_validate(const char *data, size_t len, const char *server_id,
    json_t **out, char *err, size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *body;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	body = json_loadb(data != NULL ? data : "", data != NULL ? len : 0,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (body == NULL) {
		char *text = text_sanitize(jerr.text, strlen(jerr.text), 120);

		if (errlen > 0)
			snprintf(err, errlen,
			    "body: not valid JSON (line %d column %d: %s)",
			    jerr.line, jerr.column, text != NULL ? text : "?");
		free(text);
		return -1;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		if (errlen > 0)
			snprintf(err, errlen, "body: not a JSON object");
		return -1;
	}
	if (check_limits(&w, body, 1) != 0 ||
	    check_server(&w, body, server_id) != 0) {
		json_decref(body);
		return -1;
	}
	*out = body;
	return 0;
}
