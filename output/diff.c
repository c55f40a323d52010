/* --diff: the changes between two Server bodies that an admin cares
 * about — the version, modules added, removed or changed in status or
 * support level, the operating-system fields and the private name.
 * Times, call counts and the server id change every run and are left
 * out. */
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"
#include "diff.h"

/* A member by dotted path ("asterisk.version.name"), or NULL. */
static json_t *
at(json_t *root, const char *path)
{
	char key[64];
	json_t *v = root;

	while (v != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += n;
		if (*path == '.')
			path++;
	}
	return v;
}

static bool
same(json_t *a, json_t *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(a, b) != 0;
}

/* {"old": a, "new": b}, a missing side as null. */
static json_t *
pair(json_t *a, json_t *b)
{
	return json_pack("{s:O, s:O}", "old", a ? a : json_null(), "new",
	    b ? b : json_null());
}

/* The module named name in the modules array of body, or NULL. */
static json_t *
find_module(json_t *body, const char *name)
{
	json_t *mods = at(body, "asterisk.modules"), *m;
	size_t i;

	json_array_foreach(mods, i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return m;
	}
	return NULL;
}

/* Each module of from that is not in other, appended to list. */
static void
modules_missing(json_t *from, json_t *other, json_t *list)
{
	json_t *m;
	size_t i;

	json_array_foreach(at(from, "asterisk.modules"), i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));

		if (n != NULL && find_module(other, n) == NULL)
			json_array_append(list, m);
	}
}

static void
modules_changed(json_t *old, json_t *new_body, json_t *list)
{
	static const char *const fields[] = {"status", "support_level"};
	json_t *m;
	size_t i;

	json_array_foreach(at(new_body, "asterisk.modules"), i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));
		json_t *was = n != NULL ? find_module(old, n) : NULL;
		json_t *change;

		if (was == NULL)
			continue;
		change = NULL;
		for (size_t k = 0; k < 2; k++) {
			json_t *a = json_object_get(was, fields[k]);
			json_t *b = json_object_get(m, fields[k]);

			if (same(a, b))
				continue;
			if (change == NULL)
				change = json_pack("{s:s}", "name", n);
			json_object_set_new(change, fields[k], pair(a, b));
		}
		if (change != NULL)
			json_array_append_new(list, change);
	}
}

json_t *
diff_bodies(json_t *old, json_t *new_body)
{
	static const char *const os_fields[] = {"sys_name", "release",
	    "version", "machine", "cpu_count", "memory_total_kb"};
	json_t *out = json_object(), *added = json_array(),
	    *removed = json_array(), *changed = json_array(), *os = json_object();
	json_t *ov = at(old, "asterisk.version"), *nv = at(new_body, "asterisk.version");
	json_t *op = at(old, "private_name"), *np = at(new_body, "private_name");
	bool any;

	if (out == NULL || added == NULL || removed == NULL || changed == NULL ||
	    os == NULL) {
		json_decref(out);
		json_decref(added);
		json_decref(removed);
		json_decref(changed);
		json_decref(os);
		return NULL;
	}
	if (old != NULL) {
		modules_missing(new_body, old, added);
		modules_missing(old, new_body, removed);
		modules_changed(old, new_body, changed);
		for (size_t k = 0; k < sizeof os_fields / sizeof os_fields[0]; k++) {
			json_t *a = json_object_get(at(old, "operating_system"), os_fields[k]);
			json_t *b = json_object_get(at(new_body, "operating_system"), os_fields[k]);

			if (!same(a, b))
				json_object_set_new(os, os_fields[k], pair(a, b));
		}
	}
	any = old != NULL && (!same(ov, nv) || !same(op, np) ||
	    json_array_size(added) || json_array_size(removed) ||
	    json_array_size(changed) || json_object_size(os));
	json_object_set_new(out, "changed", json_boolean(any));
	json_object_set_new(out, "version", old != NULL && !same(ov, nv) ?
	    pair(ov, nv) : json_null());
	json_object_set_new(out, "modules", json_pack("{s:o, s:o, s:o}",
	    "added", added, "removed", removed, "changed", changed));
	json_object_set_new(out, "operating_system", os);
	json_object_set_new(out, "private_name", old != NULL && !same(op, np) ?
	    pair(op, np) : json_null());
	return out;
}

/* A value as text for a line: strings sanitised (they may come from a
 * file), numbers as numbers, absent as "(none)". */
static void
put_value(FILE *out, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		s = text_sanitize(json_string_value(v), json_string_length(v), 200);
		fprintf(out, "%s", s != NULL ? s : "?");
		free(s);
	} else if (json_is_integer(v)) {
		fprintf(out, "%lld", (long long)json_integer_value(v));
	} else {
		fputs("(none)", out);
	}
}

static void
put_version(FILE *out, const json_t *ver)
{
	if (!json_is_object(ver)) {
		fputs("(none)", out);
		return;
	}
	put_value(out, json_object_get(ver, "name"));
	fputs(" (", out);
	put_value(out, json_object_get(ver, "number"));
	fputs(")", out);
}

static void
put_module(FILE *out, const char *what, const json_t *m)
{
	fprintf(out, "  module %s: ", what);
	put_value(out, json_object_get(m, "name"));
	fputs(" (", out);
	put_value(out, json_object_get(m, "status"));
	fputs(", ", out);
	put_value(out, json_object_get(m, "support_level"));
	fputs(")\n", out);
}

void
diff_print(FILE *out, const char *name, const char *since,
    const json_t *changes, bool have_old)
{
	const json_t *v, *m, *mods = json_object_get(changes, "modules");
	const char *key;
	size_t i;

	if (!have_old) {
		fprintf(out, "%s: no report accepted yet: nothing to compare\n", name);
		return;
	}
	if (!json_is_true(json_object_get(changes, "changed"))) {
		fprintf(out, "%s: no change since the report accepted %s\n", name,
		    since);
		return;
	}
	fprintf(out, "%s: changes since the report accepted %s:\n", name, since);
	v = json_object_get(changes, "version");
	if (json_is_object(v)) {
		fputs("  version: ", out);
		put_version(out, json_object_get(v, "old"));
		fputs(" -> ", out);
		put_version(out, json_object_get(v, "new"));
		fputs("\n", out);
	}
	json_array_foreach(json_object_get(mods, "added"), i, m)
		put_module(out, "added", m);
	json_array_foreach(json_object_get(mods, "removed"), i, m)
		put_module(out, "removed", m);
	json_array_foreach(json_object_get(mods, "changed"), i, m) {
		fputs("  module changed: ", out);
		put_value(out, json_object_get(m, "name"));
		fputs(":", out);
		json_object_foreach((json_t *)m, key, v) {
			if (strcmp(key, "name") == 0)
				continue;
			fprintf(out, " %s ", key);
			put_value(out, json_object_get(v, "old"));
			fputs(" -> ", out);
			put_value(out, json_object_get(v, "new"));
			fputs(";", out);
		}
		fputs("\n", out);
	}
	json_object_foreach((json_t *)json_object_get(changes, "operating_system"),
	    key, v) {
		fprintf(out, "  operating_system.%s: ", key);
		put_value(out, json_object_get(v, "old"));
		fputs(" -> ", out);
		put_value(out, json_object_get(v, "new"));
		fputs("\n", out);
	}
	v = json_object_get(changes, "private_name");
	if (json_is_object(v)) {
		fputs("  private_name: ", out);
		put_value(out, json_object_get(v, "old"));
		fputs(" -> ", out);
		put_value(out, json_object_get(v, "new"));
		fputs("\n", out);
	}
}
