/* One report against the one before: the rows of a PBX's history. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "changes.h"

static int
add(struct change_list *l, const char *kind, const char *a, const char *b)
{
	size_t len = strlen(a) + (b != NULL ? strlen(b) + 4 : 0) + 1;
	struct change *nv;
	char *d;

	if (l->n >= CHANGES_MAX) {
		l->dropped++;
		return 0;
	}
	if ((d = malloc(len)) == NULL)
		return -1;
	if (b != NULL)
		snprintf(d, len, "%s -> %s", a, b);
	else
		memcpy(d, a, len);
	if ((nv = realloc(l->v, (l->n + 1) * sizeof *nv)) == NULL) {
		free(d);
		return -1;
	}
	l->v = nv;
	l->v[l->n].kind = kind;
	l->v[l->n++].detail = d;
	return 0;
}

static const char *
version_of(json_t *r)
{
	const char *v = json_string_value(json_object_get(json_object_get(
	    json_object_get(r, "asterisk"), "version"), "name"));

	if (v != NULL && strncmp(v, "Asterisk ", 9) == 0)
		v += 9;
	return v;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char **
changes_module_names(json_t *r, size_t *n)
{
	json_t *mods = json_object_get(json_object_get(r, "asterisk"), "modules");
	size_t len = json_array_size(mods), k = 0;
	const char **names = calloc(len + 1, sizeof *names);

	if (names == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		const char *name = json_string_value(json_object_get(
		    json_array_get(mods, i), "name"));
		if (name != NULL)
			names[k++] = name;
	}
	qsort(names, k, sizeof *names, cmp_str);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || strcmp(names[*n - 1], names[i]) != 0)
			names[(*n)++] = names[i];
	return names;
}

static int
modules(struct change_list *l, json_t *a, json_t *b)
{
	size_t la = 0, lb = 0, ia = 0, ib = 0;
	const char **na = changes_module_names(a, &la),
	    **nb = changes_module_names(b, &lb);
	int rc = na != NULL && nb != NULL ? 0 : -1;

	/* Removed first, then added: two merges of the sorted lists. */
	while (rc == 0 && ia < la) {
		int c = ib == lb ? -1 : strcmp(na[ia], nb[ib]);
		if (c < 0)
			rc = add(l, CHANGE_REMOVED, na[ia++], NULL);
		else if (c > 0)
			ib++;
		else
			ia++, ib++;
	}
	ia = ib = 0;
	while (rc == 0 && ib < lb) {
		int c = ia == la ? 1 : strcmp(na[ia], nb[ib]);
		if (c > 0)
			rc = add(l, CHANGE_ADDED, nb[ib++], NULL);
		else if (c < 0)
			ia++;
		else
			ia++, ib++;
	}
	free(na);
	free(nb);
	return rc;
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

int
changes_between(const char *previous, size_t previous_len,
    const char *latest, size_t latest_len, struct change_list *out)
{
	json_t *a = NULL, *b;
	int rc = -1;

	memset(out, 0, sizeof *out);
	b = json_loadb(latest, latest_len, 0, NULL);
	if (b == NULL)
		return -1;
	if (previous != NULL)
		a = json_loadb(previous, previous_len, 0, NULL);
	if (a == NULL) {
		/* The first report (or an unreadable one before: start over). */
		const char *v = version_of(b);
		rc = add(out, CHANGE_FIRST, v != NULL ? v : "", NULL);
		goto out;
	}
	{
		const char *va = version_of(a), *vb = version_of(b);
		const char *pa = json_string_value(json_object_get(a, "private_name"));
		const char *pb = json_string_value(json_object_get(b, "private_name"));

		if (!same(va, vb) && add(out, CHANGE_VERSION, va != NULL ? va :
		    "unknown", vb != NULL ? vb : "unknown") < 0)
			goto out;
		if (!same(pa, pb) && add(out, CHANGE_NAME, pb != NULL ? pb : "",
		    NULL) < 0)
			goto out;
	}
	rc = modules(out, a, b);
out:
	json_decref(a);
	json_decref(b);
	return rc;
}

/* ---- from two summaries ------------------------------------------------- */

/* The next "dim\tkey\tN" line of dimension dim from *p on: key and its
 * length; false at the end of the dimension (summaries are sorted). */
static bool
next_key(const char **p, const char *dim, const char **key, size_t *klen)
{
	size_t dl = strlen(dim);

	while (**p != '\0') {
		const char *line = *p, *end = strchr(line, '\n'), *tab;
		int c;

		*p = end != NULL ? end + 1 : line + strlen(line);
		c = strncmp(line, dim, dl);
		if (c == 0 && line[dl] != '\t')	/* a longer name: "module_status" */
			c = (unsigned char)line[dl] < '\t' ? -1 : 1;
		if (c < 0)
			continue;	/* an earlier dimension */
		if (c > 0)
			return false;
		*key = line + dl + 1;
		tab = memchr(*key, '\t', (size_t)(*p - *key));
		*klen = tab != NULL ? (size_t)(tab - *key) : (size_t)(*p - *key);
		return true;
	}
	return false;
}

/* key as a C string in buf (cut to its size). */
static const char *
key_str(char *buf, size_t size, const char *key, size_t klen)
{
	if (klen >= size)
		klen = size - 1;
	memcpy(buf, key, klen);
	buf[klen] = '\0';
	return buf;
}

/* The first key of dim in summary s, or NULL; in buf. */
static const char *
first_key(const char *s, const char *dim, char *buf, size_t size)
{
	const char *k;
	size_t kl;

	if (s == NULL || !next_key(&s, dim, &k, &kl))
		return NULL;
	return key_str(buf, size, k, kl);
}

static int
cmp_keys(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : al < bl ? -1 : al > bl;
}

int
changes_from_summaries(const char *previous, const char *latest,
    const char *previous_name, const char *latest_name,
    struct change_list *out)
{
	char va[256], vb[256], name[256];
	const char *a, *b, *ka = NULL, *kb = NULL;
	size_t la = 0, lb = 0;
	bool ha, hb;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (latest == NULL)
		return 1;
	if (previous == NULL) {
		const char *v = first_key(latest, "version", vb, sizeof vb);
		return add(out, CHANGE_FIRST, v != NULL ? v : "", NULL);
	}
	/* A module the summary before counted only as "other": its name is
	 * not there to compare with. */
	a = previous;
	while (next_key(&a, "module", &ka, &la))
		if (la == 1 && ka[0] == '\x1f')
			return 1;
	{
		const char *v1 = first_key(previous, "version", va, sizeof va);
		const char *v2 = first_key(latest, "version", vb, sizeof vb);

		if (!same(v1, v2) && add(out, CHANGE_VERSION, v1 != NULL ? v1 :
		    "unknown", v2 != NULL ? v2 : "unknown") < 0)
			return -1;
	}
	if (!same(previous_name, latest_name) && add(out, CHANGE_NAME,
	    latest_name != NULL ? latest_name : "", NULL) < 0)
		return -1;
	/* Removed, then added: two merges of the sorted module lines. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		a = previous;
		b = latest;
		ha = next_key(&a, "module", &ka, &la);
		hb = next_key(&b, "module", &kb, &lb);
		while (rc == 0 && (pass == 0 ? ha : hb)) {
			int c = !ha ? 1 : !hb ? -1 : cmp_keys(ka, la, kb, lb);

			if (c < 0) {
				if (pass == 0)
					rc = add(out, CHANGE_REMOVED, key_str(name,
					    sizeof name, ka, la), NULL);
				ha = next_key(&a, "module", &ka, &la);
			} else if (c > 0) {
				if (pass == 1)
					rc = add(out, CHANGE_ADDED, key_str(name,
					    sizeof name, kb, lb), NULL);
				hb = next_key(&b, "module", &kb, &lb);
			} else {
				ha = next_key(&a, "module", &ka, &la);
				hb = next_key(&b, "module", &kb, &lb);
			}
		}
	}
	return rc;
}

void
change_list_free(struct change_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].detail);
	free(l->v);
	memset(l, 0, sizeof *l);
}
