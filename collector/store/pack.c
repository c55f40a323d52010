/* The storage's compact forms (pack.h): a report without its modules, the
 * report before it as a diff, a summary without its module lines. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/sha256.h"
#include "../../common/text.h"
#include "pack.h"

/* Compact and in the order received: the canonical form that is hashed. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

void
pack_hash(const char *data, size_t len, char out[PACK_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_LEN];

	sha256(data, len, d);
	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[PACK_HASH_LEN] = '\0';
}

void
packed_free(struct packed *p)
{
	free(p->rest);
	free(p->modules);
	memset(p, 0, sizeof *p);
}

int
report_pack_json(const json_t *report, struct packed *out)
{
	json_t *ast = json_object_get(report, "asterisk");
	json_t *mods = json_object_get(ast, "modules");
	json_t *top = NULL, *ast2 = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (!json_is_object(report))
		goto out;
	if (!json_is_array(mods)) {
		out->rest = json_dumps(report, DUMP_FLAGS);
		rc = out->rest != NULL ? 0 : -1;
		goto out;
	}
	if ((out->modules = json_dumps(mods, DUMP_FLAGS)) == NULL)
		goto out;
	pack_hash(out->modules, strlen(out->modules), out->hash);
	/* Shallow copies (the caller's report stays as it is): the keys in
	 * their order, the modules' place taken by their hash. */
	if ((top = json_copy((json_t *)report)) == NULL ||
	    (ast2 = json_copy(ast)) == NULL ||
	    json_object_set_new(ast2, "modules", json_string(out->hash)) < 0 ||
	    json_object_set(top, "asterisk", ast2) < 0 ||
	    (out->rest = json_dumps(top, DUMP_FLAGS)) == NULL)
		goto out;
	rc = 0;
out:
	json_decref(ast2);
	json_decref(top);
	if (rc < 0)
		packed_free(out);
	return rc;
}

int
report_pack(const char *report, size_t len, struct packed *out)
{
	json_t *r = json_loadb(report, len, 0, NULL);
	int rc = report_pack_json(r, out);

	json_decref(r);
	return rc;
}

char *
report_unpack(const char *rest, const char *modules)
{
	json_t *r;
	char *text = NULL;

	if (modules == NULL)	/* nothing taken out: as stored */
		return strdup(rest);
	r = json_loads(rest, 0, NULL);
	if (!json_is_object(r))
		goto out;
	json_t *ast = json_object_get(r, "asterisk");
	json_t *mods = json_loads(modules, 0, NULL);
	/* set on an existing key keeps its place among the keys */
	if (!json_is_object(ast) || mods == NULL ||
	    json_object_set_new(ast, "modules", mods) < 0)
		goto out;
	text = json_dumps(r, DUMP_FLAGS);
out:
	json_decref(r);
	return text;
}

/* {"s": {key: prev's value}, "o": {key: diff of two objects},
 *  "d": [keys only latest has]}, each member only when not empty. */
static json_t *
diff_objects(json_t *prev, json_t *latest)
{
	json_t *d = json_object(), *s = json_object(), *o = json_object();
	json_t *del = json_array();
	const char *k;
	json_t *pv, *lv;

	if (d == NULL || s == NULL || o == NULL || del == NULL)
		goto fail;
	json_object_foreach(prev, k, pv) {
		lv = json_object_get(latest, k);
		if (lv != NULL && json_equal(pv, lv))
			continue;
		if (json_is_object(pv) && json_is_object(lv)) {
			json_t *sub = diff_objects(pv, lv);
			if (sub == NULL || json_object_set_new(o, k, sub) < 0)
				goto fail;
		} else if (json_object_set(s, k, pv) < 0) {
			goto fail;
		}
	}
	json_object_foreach(latest, k, lv)
		if (json_object_get(prev, k) == NULL &&
		    json_array_append_new(del, json_string(k)) < 0)
			goto fail;
	if ((json_object_size(s) > 0 && json_object_set(d, "s", s) < 0) ||
	    (json_object_size(o) > 0 && json_object_set(d, "o", o) < 0) ||
	    (json_array_size(del) > 0 && json_object_set(d, "d", del) < 0))
		goto fail;
	json_decref(s);
	json_decref(o);
	json_decref(del);
	return d;
fail:
	json_decref(d);
	json_decref(s);
	json_decref(o);
	json_decref(del);
	return NULL;
}

/* Apply d to obj in place. */
static int
undiff_object(json_t *obj, json_t *d)
{
	const char *k;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(d, "d"), i, v)
		if (json_is_string(v))
			json_object_del(obj, json_string_value(v));
	json_object_foreach(json_object_get(d, "s"), k, v)
		if (json_object_set(obj, k, v) < 0)
			return -1;
	json_object_foreach(json_object_get(d, "o"), k, v) {
		json_t *sub = json_object_get(obj, k);
		if (!json_is_object(sub) || undiff_object(sub, v) < 0)
			return -1;
	}
	return 0;
}

char *
report_diff(const char *prev, const char *latest)
{
	json_t *p = json_loads(prev, 0, NULL), *l = json_loads(latest, 0, NULL);
	json_t *d = json_is_object(p) && json_is_object(l) ?
	    diff_objects(p, l) : NULL;
	char *text = d != NULL ? json_dumps(d, DUMP_FLAGS) : NULL;

	json_decref(p);
	json_decref(l);
	json_decref(d);
	return text;
}

char *
report_undiff(const char *latest, const char *diff)
{
	json_t *l = json_loads(latest, 0, NULL), *d = json_loads(diff, 0, NULL);
	char *text = NULL;

	if (json_is_object(l) && json_is_object(d) && undiff_object(l, d) == 0)
		text = json_dumps(l, DUMP_FLAGS);
	json_decref(l);
	json_decref(d);
	return text;
}

/* ---- summaries ------------------------------------------------------------ */

/* The dimensions whose lines follow the module set (summary.h). */
static bool
shared_dim(const char *line, size_t dimlen)
{
	static const char *const dims[] = { "module", "module_status",
	    "module_support", "deprecated", "channel_driver" };

	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
		if (strlen(dims[i]) == dimlen && memcmp(dims[i], line, dimlen) == 0)
			return true;
	return false;
}

int
summary_split(const char *summary, char **shared,
    char shared_hash[PACK_HASH_LEN + 1], char **own)
{
	struct buf sh = { 0 }, ow = { 0 };
	const char *p = summary;

	*shared = *own = NULL;
	shared_hash[0] = '\0';
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		const char *tab = memchr(p, '\t', len);
		size_t dimlen = tab != NULL ? (size_t)(tab - p) : len;

		if (buf_append(shared_dim(p, dimlen) ? &sh : &ow, p, len) < 0)
			goto fail;
		p += len;
	}
	if (sh.len > 0) {
		pack_hash(sh.data, sh.len, shared_hash);
		if ((*shared = buf_steal(&sh)) == NULL)
			goto fail;
	}
	if ((*own = buf_steal(&ow)) == NULL)
		goto fail;
	return 0;
fail:
	buf_free(&sh);
	buf_free(&ow);
	free(*shared);
	*shared = NULL;
	shared_hash[0] = '\0';
	return -1;
}

/* The length of a line's "DIM\tKEY", by which summaries are sorted. */
static size_t
line_prefix(const char *p, size_t len)
{
	const char *t1 = memchr(p, '\t', len), *t2;

	if (t1 == NULL)
		return len;
	t2 = memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p));
	return t2 != NULL ? (size_t)(t2 - p) : len;
}

static size_t
line_len(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
}

char *
summary_join(const char *own, const char *shared)
{
	struct buf b = { 0 };
	const char *a = own != NULL ? own : "", *c = shared != NULL ? shared : "";

	if (own == NULL && shared == NULL)
		return NULL;
	if (buf_reserve(&b, strlen(a) + strlen(c) + 1) < 0)
		return NULL;
	while (*a != '\0' || *c != '\0') {
		const char **take;
		size_t la = *a ? line_len(a) : 0, lc = *c ? line_len(c) : 0;

		if (*a == '\0') {
			take = &c;
		} else if (*c == '\0') {
			take = &a;
		} else {
			size_t pa = line_prefix(a, la), pc = line_prefix(c, lc);
			int cmp = memcmp(a, c, pa < pc ? pa : pc);
			take = cmp < 0 || (cmp == 0 && pa <= pc) ? &a : &c;
		}
		size_t l = take == &a ? la : lc;
		if (buf_append(&b, *take, l) < 0) {
			buf_free(&b);
			return NULL;
		}
		*take += l;
	}
	return buf_steal(&b);
}

/* ---- the migration from schema 4 --------------------------------------- */

void
pack_row_free(struct pack_row *row)
{
	packed_free(&row->latest);
	packed_free(&row->prev);
	free(row->prev_diff);
	free(row->summary_own);
	free(row->summary_shared);
	memset(row, 0, sizeof *row);
}

int
pack_row_v4(struct pack_row *row, const char *report, const char *previous,
    const char *summary)
{
	memset(row, 0, sizeof *row);
	if (report != NULL &&
	    report_pack(report, strlen(report), &row->latest) < 0)
		goto fail;
	if (report != NULL && previous != NULL &&
	    (report_pack(previous, strlen(previous), &row->prev) < 0 ||
	    (row->prev_diff = report_diff(row->prev.rest,
	    row->latest.rest)) == NULL))
		goto fail;
	if (summary != NULL && summary_split(summary, &row->summary_shared,
	    row->summary_hash, &row->summary_own) < 0)
		goto fail;
	return 0;
fail:
	pack_row_free(row);
	return -1;
}
