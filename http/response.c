/* A server's answers as typed data (CONTRACT §6).  Pure apart from
 * nothing: the caller's clock stands in for an unreadable date; no libcurl, no I/O, so that
 * these functions can be fuzzed on their own. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http.h"

/* Skip the fraction of a second, if any: '.' and at least one digit. */
static const char *
skip_fraction(const char *p)
{
	if (*p != '.')
		return p;
	p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

/* "+hh:mm" or "-hh:mm" (colon optional when colon is false: "+hhmm")
 * into seconds east of UTC; the end of the offset, or NULL. */
static const char *
parse_offset(const char *p, bool colon, long *secs)
{
	int sign;

	if (*p != '+' && *p != '-')
		return NULL;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return NULL;
	long hh = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (colon) {
		if (*p != ':')
			return NULL;
		p++;
	}
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return NULL;
	long mm = (p[0] - '0') * 10 + (p[1] - '0');
	if (hh > 23 || mm > 59)
		return NULL;
	*secs = sign * (hh * 3600 + mm * 60);
	return p + 2;
}

/* RFC 3339 with any offset: "2014-12-29T15:37:18.5+01:00". */
static int
parse_rfc3339(const char *s, struct tm *tm, long *off)
{
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", tm);

	if (p == NULL || (p = skip_fraction(p)) == NULL)
		return -1;
	if (*p == 'Z' || *p == 'z') {
		*off = 0;
		p++;
	} else if ((p = parse_offset(p, true, off)) == NULL) {
		return -1;
	}
	return *p == '\0' ? 0 : -1;
}

/* The zone after a human date: "UTC", "GMT", "GMT+0100", each optionally
 * followed by a " (comment)" as JavaScript's Date.toString() writes. */
static int
parse_zone(const char *p, long *off)
{
	while (*p == ' ')
		p++;
	*off = 0;
	if (strncmp(p, "UTC", 3) != 0 && strncmp(p, "GMT", 3) != 0)
		return -1;
	p += 3;
	if ((*p == '+' || *p == '-') && (p = parse_offset(p, false, off)) == NULL)
		return -1;
	if (*p == '\0')
		return 0;
	if (p[0] != ' ' || p[1] != '(')
		return -1;
	p = strchr(p, ')');
	return p != NULL && p[1] == '\0' ? 0 : -1;
}

/*
 * The date a server wrote in "issued": RFC 3339, the design's example
 * form "Mon Dec 29 2014 15:37:18 UTC", or an HTTP date.  0 with *out
 * set, or -1.  Years outside 1970..9999 are refused: they could not be
 * stored in RFC3339_LEN characters.
 */
static int
issued_parse(const char *s, time_t *out)
{
	static const char *const human[] = {
		"%a %b %d %Y %H:%M:%S",		/* the design's example */
		"%a, %d %b %Y %H:%M:%S",	/* RFC 7231 HTTP-date */
	};
	struct tm tm;
	long off = -1;
	int ok = -1;

	memset(&tm, 0, sizeof tm);
	if (parse_rfc3339(s, &tm, &off) == 0)
		ok = 0;
	for (size_t i = 0; ok != 0 && i < sizeof human / sizeof human[0]; i++) {
		const char *p;

		memset(&tm, 0, sizeof tm);
		p = strptime(s, human[i], &tm);
		if (p != NULL && parse_zone(p, &off) == 0)
			ok = 0;
	}
	if (ok != 0 || tm.tm_year < 70 || tm.tm_year > 9999 - 1900)
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || t - off < 0)
		return -1;
	*out = t - off;
	return 0;
}

/* Store the server's date as RFC 3339 UTC, or the run's now when
 * unreadable. */
static void
issued_store(const char *text, time_t now, char out[RFC3339_LEN + 1])
{
	time_t t;

	if (issued_parse(text, &t) != 0)
		t = now;
	time_format_utc(t, out);
}

/* The JSON document of a body, or NULL.  Duplicate keys are refused so
 * that no two readers of the same answer can disagree about an id, and
 * the default end-of-input check refuses trailing garbage. */
static json_t *
body_load(const char *body, size_t len)
{
	json_error_t err;

	if (body == NULL)
		return NULL;
	return json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
}

/* Pick "issued", or its synonym "issue" (the design's example). */
static const char *
issued_pick(const char *issued, const char *issue)
{
	return issued != NULL ? issued : issue;
}

int
proto_parse_server_token(const char *body, size_t len, time_t now,
    struct server_ids *ids, const char **why)
{
	const char *tid = NULL, *issued = NULL, *issue = NULL, *sid = NULL;
	struct server_ids got;
	json_error_t err;
	json_t *root = body_load(body, len);
	int rc = -1;

	memset(&got, 0, sizeof got);
	if (root == NULL) {
		*why = "not JSON";
		return -1;
	}
	if (json_unpack_ex(root, &err, 0, "{s:{s:s, s?s, s?s}, s:{s:s}}",
	    "token", "id", &tid, "issued", &issued, "issue", &issue,
	    "server", "id", &sid) != 0)
		*why = "not a ServerToken {\"token\":{\"id\",\"issued\"},\"server\":{\"id\"}}";
	else if (issued_pick(issued, issue) == NULL)
		*why = "token has no \"issued\" date";
	else if (!uuid_is_valid(sid))
		*why = "server id is not a UUID";
	else if (!uuid_is_valid(tid))
		*why = "token id is not a UUID";
	else {
		memcpy(got.server_id, sid, UUID_LEN + 1);
		memcpy(got.token_id, tid, UUID_LEN + 1);
		issued_store(issued_pick(issued, issue), now, got.token_issued);
		*ids = got;
		rc = 0;
	}
	json_decref(root);
	return rc;
}

int
proto_parse_token(const char *body, size_t len, time_t now,
    struct server_ids *ids,
    const char **why)
{
	const char *tid = NULL, *issued = NULL, *issue = NULL;
	json_error_t err;
	json_t *root = body_load(body, len);
	int rc = -1;

	if (root == NULL) {
		*why = "not JSON";
		return -1;
	}
	if (json_unpack_ex(root, &err, 0, "{s:s, s?s, s?s}", "id", &tid,
	    "issued", &issued, "issue", &issue) != 0)
		*why = "not a Token {\"id\",\"issued\"}";
	else if (issued_pick(issued, issue) == NULL)
		*why = "token has no \"issued\" date";
	else if (!uuid_is_valid(tid))
		*why = "token id is not a UUID";
	else {
		memcpy(ids->token_id, tid, UUID_LEN + 1);
		issued_store(issued_pick(issued, issue), now, ids->token_issued);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

int
proto_parse_notices(const char *body, size_t len, struct notices *out,
    const char **why)
{
	json_t *root = body_load(body, len), *list, *item;
	struct notices got;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (root == NULL) {
		*why = "not JSON";
		return -1;
	}
	memset(&got, 0, sizeof got);
	list = json_is_object(root) ? json_object_get(root, "notices") : NULL;
	if (list == NULL) {
		rc = 0;		/* nothing to tell */
		goto out;
	}
	if (!json_is_array(list)) {
		*why = "\"notices\" is not an array";
		goto out;
	}
	if (json_array_size(list) > NOTICE_MAX) {
		*why = "more than " NOTICE_MAX_TEXT " notices";
		goto out;
	}
	json_array_foreach(list, i, item) {
		json_t *id = json_object_get(item, "id");
		json_t *kind = json_object_get(item, "kind");
		json_t *text = json_object_get(item, "text");

		if (!json_is_object(item) || !json_is_string(id) ||
		    !json_is_string(kind) || !json_is_string(text)) {
			*why = "a notice is not {\"id\",\"kind\",\"text\"} strings";
			goto out;
		}
		if (notice_set(&got.item[got.n], json_string_value(id),
		    json_string_value(kind), json_string_value(text),
		    json_string_length(text), why) != 0)
			goto out;
		for (size_t j = 0; j < got.n; j++) {
			if (strcmp(got.item[j].id, got.item[got.n].id) == 0) {
				*why = "two notices with the same \"id\"";
				goto out;
			}
		}
		got.n++;
	}
	rc = 0;
out:
	if (rc == 0)
		*out = got;
	json_decref(root);
	return rc;
}

char *
proto_put_path(const struct server_ids *ids)
{
	char *path;
	int n;

	if (!uuid_is_valid(ids->server_id))
		return NULL;
	if (uuid_is_valid(ids->token_id))
		n = asprintf(&path, "/servers/%s?tokenId=%s", ids->server_id,
		    ids->token_id);
	else
		n = asprintf(&path, "/servers/%s", ids->server_id);
	return n < 0 ? NULL : path;
}
