/* The last notices of each server and when each was shown
 * (store/notices.h): "NAME.notices" in state_dir, a small JSON object
 * {"received","notices":[{"id","kind","text"}],"shown":{"ID":"TIME"}}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/log.h"
#include "../common/text.h"
#include "files.h"
#include "notices.h"

#define NOTICE_FILE_MAX (64u << 10)

static void
notice_file_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s.notices", name);
}

static bool
get_time(json_t *v, time_t *t)
{
	return json_is_string(v) && time_parse_utc(json_string_value(v), t) == 0;
}

int
notice_file_parse(const char *text, struct notice_file *nf)
{
	json_t *o = text != NULL ? json_loads(text, 0, NULL) : NULL;
	json_t *list, *shown, *item, *v;
	const char *key, *why;
	size_t i;

	memset(nf, 0, sizeof *nf);
	list = json_object_get(o, "notices");
	shown = json_object_get(o, "shown");
	if (!json_is_object(o) || !json_is_array(list) ||
	    json_array_size(list) > NOTICE_MAX || !json_is_object(shown) ||
	    json_object_size(shown) > NOTICE_SHOWN_MAX)
		goto bad;
	nf->has_received = get_time(json_object_get(o, "received"),
	    &nf->received);
	json_array_foreach(list, i, item) {
		json_t *id = json_object_get(item, "id");
		json_t *kind = json_object_get(item, "kind");
		json_t *tx = json_object_get(item, "text");

		if (!json_is_string(id) || !json_is_string(kind) ||
		    !json_is_string(tx) || notice_set(&nf->list.item[nf->list.n],
		    json_string_value(id), json_string_value(kind),
		    json_string_value(tx), json_string_length(tx), &why) != 0)
			goto bad;
		nf->list.n++;
	}
	json_object_foreach(shown, key, v) {
		struct notice_shown *s = &nf->shown[nf->nshown];

		if (!notice_token_valid(key, NOTICE_ID_MAX) || !get_time(v, &s->when))
			goto bad;
		memcpy(s->id, key, strlen(key) + 1);
		nf->nshown++;
	}
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	memset(nf, 0, sizeof *nf);
	return -1;
}

static json_t *
time_json(time_t t)
{
	char buf[RFC3339_LEN + 1];

	time_format_utc(t, buf);
	return json_string(buf);
}

char *
notice_file_text(const struct notice_file *nf)
{
	json_t *o = json_object(), *list = json_array(), *shown = json_object();
	char *text = NULL;
	bool ok = o != NULL && list != NULL && shown != NULL;

	for (size_t i = 0; ok && i < nf->list.n; i++) {
		const struct notice *n = &nf->list.item[i];

		ok = json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
		    "id", n->id, "kind", n->kind, "text", n->text)) == 0;
	}
	for (size_t i = 0; ok && i < nf->nshown; i++)
		ok = json_object_set_new(shown, nf->shown[i].id,
		    time_json(nf->shown[i].when)) == 0;
	if (ok)
		ok = json_object_set_new(o, "received", nf->has_received ?
		    time_json(nf->received) : json_null()) == 0 &&
		    json_object_set(o, "notices", list) == 0 &&
		    json_object_set(o, "shown", shown) == 0;
	if (ok)
		text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(list);
	json_decref(shown);
	json_decref(o);
	return text;
}

int
notice_file_read(int dirfd, const char *name, struct notice_file *nf)
{
	char file[160], *text;
	int rc;

	memset(nf, 0, sizeof *nf);
	if (dirfd < 0)
		return 0;
	notice_file_name(name, file, sizeof file);
	rc = file_read(dirfd, file, "notices", NOTICE_FILE_MAX, &text, NULL);
	if (rc <= 0)
		return rc;
	if (notice_file_parse(text, nf) < 0)
		log_warn("notices %s: not readable; ignored", file);
	free(text);
	return 0;
}

int
notice_file_write(int dirfd, const char *name, const struct notice_file *nf)
{
	char file[160], *text;
	int rc;

	if (nf->list.n == 0 && nf->nshown == 0)
		return notice_file_remove(dirfd, name);
	notice_file_name(name, file, sizeof file);
	text = notice_file_text(nf);
	if (text == NULL) {
		log_error("notices %s: out of memory", file);
		return -1;
	}
	rc = file_replace(dirfd, file, "notices", text, strlen(text), 0600, true);
	free(text);
	return rc;
}

int
notice_file_remove(int dirfd, const char *name)
{
	char file[160];

	notice_file_name(name, file, sizeof file);
	return file_remove(dirfd, file, "notices");
}

bool
notice_due(const struct notice_file *nf, const char *id, time_t now)
{
	for (size_t i = 0; i < nf->nshown; i++) {
		if (strcmp(nf->shown[i].id, id) != 0)
			continue;
		return nf->shown[i].when > now ||
		    now - nf->shown[i].when >= NOTICE_REPEAT;
	}
	return true;
}

void
notice_mark_shown(struct notice_file *nf, const char *id, time_t now)
{
	size_t o = 0, oldest = 0;

	/* drop this id and every entry that is due anyway */
	for (size_t i = 0; i < nf->nshown; i++) {
		const struct notice_shown *s = &nf->shown[i];

		if (strcmp(s->id, id) == 0 || s->when > now ||
		    now - s->when >= NOTICE_REPEAT)
			continue;
		nf->shown[o++] = *s;
	}
	nf->nshown = o;
	if (nf->nshown == NOTICE_SHOWN_MAX) {
		for (size_t i = 1; i < nf->nshown; i++)
			if (nf->shown[i].when < nf->shown[oldest].when)
				oldest = i;
		nf->shown[oldest] = nf->shown[--nf->nshown];
	}
	if (!notice_token_valid(id, NOTICE_ID_MAX))
		return;
	memcpy(nf->shown[nf->nshown].id, id, strlen(id) + 1);
	nf->shown[nf->nshown].when = now;
	nf->nshown++;
}
