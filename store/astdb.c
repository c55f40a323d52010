/* Server ids and tokens in Asterisk's AstDB (CONTRACT §4), through
 * `asterisk -rx "database ..."`.  Asterisk answers 0 whatever happens, so
 * every write is judged by its answer and then by a read-back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "store.h"

#define PUT_OK "Updated database successfully"

/* The keys of a family, in the order they are written. */
enum id_key { KEY_SERVER_ID, KEY_TOKEN_ID, KEY_TOKEN_ISSUED, KEY__MAX };
static const char *const key_names[KEY__MAX] = {
	[KEY_SERVER_ID] = "server_id",
	[KEY_TOKEN_ID] = "token_id",
	[KEY_TOKEN_ISSUED] = "token_issued",
};

static char *
id_field(struct server_ids *ids, enum id_key k)
{
	switch (k) {
	case KEY_SERVER_ID:
		return ids->server_id;
	case KEY_TOKEN_ID:
		return ids->token_id;
	case KEY_TOKEN_ISSUED:
	case KEY__MAX:
		break;
	}
	return ids->token_issued;
}

char *
astdb_family(const char *server_name, bool builtin)
{
	size_t n = strlen(server_name) + sizeof "beacon/";
	char *f = malloc(n);

	if (f != NULL)
		snprintf(f, n, builtin ? "beacon" : "beacon/%s", server_name);
	return f;
}

/* Is value acceptable for key?  UUIDs for ids, RFC 3339 for the date. */
static bool
valid_value(enum id_key k, const char *value)
{
	time_t t;

	if (k == KEY_TOKEN_ISSUED)
		return strlen(value) <= RFC3339_LEN && time_parse_utc(value, &t) == 0;
	return uuid_is_valid(value);
}

bool
astdb_show_value(const char *text, const char *family, const char *key,
    char *out, size_t size)
{
	char want[160];
	size_t wlen;
	const char *line = text;

	wlen = (size_t)snprintf(want, sizeof want, "/%s/%s", family, key);
	if (text == NULL || size == 0 || wlen >= sizeof want)
		return false;
	for (; line != NULL && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = line, *end, *v;
		size_t vlen;

		if (strncmp(p, want, wlen) != 0)
			continue;
		p += wlen;
		while (*p == ' ')
			p++;
		if (*p != ':')
			continue;	/* a longer key with the same start */
		v = p + 1;
		while (*v == ' ')
			v++;
		end = v + strcspn(v, "\r\n");
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		vlen = (size_t)(end - v);
		if (vlen >= size)
			vlen = size - 1;	/* too long to be valid anyway */
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return true;
	}
	return false;
}

bool
astdb_is_listing(const char *text)
{
	const char *line = text, *next;
	unsigned long count = 0, rows = 0;
	char *end;

	if (text == NULL)
		return false;
	/* every line but the last is "/key : value"; the last is the footer
	 * "N results found." with N the number of rows */
	for (; *line != '\0'; line = next) {
		size_t len = strcspn(line, "\n");

		next = line[len] == '\n' ? line + len + 1 : line + len;
		if (line[0] == '/' && memchr(line, ':', len) != NULL) {
			rows++;
			continue;
		}
		if (line[0] < '0' || line[0] > '9')
			return false;
		count = strtoul(line, &end, 10);
		if (strncmp(end, " results found.", 15) != 0)
			return false;
		end += 15;
		while (*end == '\r')
			end++;
		if (end != line + len || next[strspn(next, "\r\n")] != '\0')
			return false;	/* the footer ends the answer */
		return count == rows;
	}
	return false;		/* no footer */
}

int
astdb_parse_ids(const char *show_text, const char *family,
    struct server_ids *ids)
{
	memset(ids, 0, sizeof *ids);
	if (!astdb_is_listing(show_text))
		return -1;
	for (enum id_key k = 0; k < KEY__MAX; k++) {
		char value[64];

		if (show_text == NULL ||
		    !astdb_show_value(show_text, family, key_names[k], value, sizeof value))
			continue;
		if (!valid_value(k, value)) {
			log_warn("AstDB /%s/%s: not a valid %s; treated as absent",
			    family, key_names[k],
			    k == KEY_TOKEN_ISSUED ? "RFC 3339 time" : "UUID");
			continue;
		}
		/* valid_value() checked the length against the field's size */
		memcpy(id_field(ids, k), value, strlen(value) + 1);
	}
	if (ids->server_id[0] == '\0')	/* a token without its server is useless */
		ids->token_id[0] = ids->token_issued[0] = '\0';
	return 0;
}

/* Run n commands at once; the replies are checked by the caller.
 * ASTDB_NO_ASTERISK when a command could not run at all: the first such
 * error is printed (the others share its cause). */
static int
run_batch(const struct ast_client *ac, const char *const *cmds, size_t n,
    struct ast_reply *replies)
{
	if (asterisk_run(ac, cmds, n, replies) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (replies[i].status != AST_OK) {
			char shown[256];

			command_for_log(cmds[i], shown, sizeof shown);
			log_error("%s \"%s\": %s", asterisk_via(ac), shown,
			    replies[i].err ? replies[i].err : "failed");
			break;
		}
	}
	return ASTDB_NO_ASTERISK;
}

/* Run `database show family` into *text (caller frees).  0, -1 when the
 * answer is not a listing (a locked database, a permission denial), or
 * ASTDB_NO_ASTERISK (printed). */
static int
read_family(const struct ast_client *ac, const char *family, char **text)
{
	char cmd[200];
	const char *cmds[1] = {cmd};
	struct ast_reply reply;
	int rc;

	snprintf(cmd, sizeof cmd, "database show %s", family);
	rc = run_batch(ac, cmds, 1, &reply);
	if (rc == 0 && !astdb_is_listing(reply.out)) {
		char *said = text_sanitize(reply.out, reply.out_len, 120);
		log_error("%s \"%s\": not a database listing: \"%s\"",
		    asterisk_via(ac), cmd, said ? said : "");
		free(said);
		rc = -1;
	}
	*text = rc == 0 ? reply.out : NULL;
	if (rc == 0)
		reply.out = NULL;
	ast_reply_free(&reply);
	return rc;
}

/* One `database put`/`del` whose answer must start with ok; 0, -1
 * (printed) or ASTDB_NO_ASTERISK. */
static int
astdb_cmd(const struct ast_client *ac, const char *family, const char *cmd,
    const char *key, const char *ok, bool any_answer)
{
	const char *cmds[1] = {cmd};
	struct ast_reply reply;
	int rc = run_batch(ac, cmds, 1, &reply);

	if (rc == 0 && !any_answer && (reply.out == NULL ||
	    strncmp(reply.out, ok, strlen(ok)) != 0)) {
		char *why = text_sanitize(reply.out, reply.out ? reply.out_len : 0,
		    120);
		log_error("AstDB /%s/%s: database %s failed: %s", family, key,
		    strncmp(cmd, "database put", 12) == 0 ? "put" : "del",
		    why && *why ? why : "no answer");
		free(why);
		rc = -1;
	}
	ast_reply_free(&reply);
	return rc;
}

int
astdb_store_ids(const struct ast_client *ac, const char *family,
    const struct server_ids *ids_in, const struct server_ids *prev)
{
	struct server_ids ids = *ids_in;
	static const enum id_key order[KEY__MAX] = {KEY_SERVER_ID,
	    KEY_TOKEN_ISSUED, KEY_TOKEN_ID};
	char cmd[256];
	int rc;
	char *text;

	for (enum id_key k = 0; k < KEY__MAX; k++) {
		const char *v = id_field(&ids, k);
		if (*v != '\0' && !valid_value(k, v)) {	/* never store a worse value */
			log_error("AstDB /%s/%s: refusing to store an invalid value",
			    family, key_names[k]);
			return -1;
		}
	}
	/*
	 * One key at a time, in an order where a cut (a kill, Asterisk
	 * going down) between two writes never pairs a new server id with
	 * the old token: a new id first drops the old token, and the token
	 * id comes last.
	 */
	if (prev != NULL && prev->token_id[0] != '\0' &&
	    strcmp(prev->server_id, ids.server_id) != 0) {
		snprintf(cmd, sizeof cmd, "database del %s %s", family,
		    key_names[KEY_TOKEN_ID]);
		if ((rc = astdb_cmd(ac, family, cmd, key_names[KEY_TOKEN_ID],
		    "", true)) != 0)
			return rc;
	}
	for (size_t i = 0; i < KEY__MAX; i++) {
		enum id_key k = order[i];
		const char *v = id_field(&ids, k);

		if (*v == '\0' || (prev != NULL &&
		    strcmp(id_field((struct server_ids *)prev, k), v) == 0 &&
		    strcmp(prev->server_id, ids.server_id) == 0))
			continue;	/* unchanged */
		snprintf(cmd, sizeof cmd, "database put %s %s %s", family,
		    key_names[k], v);
		if ((rc = astdb_cmd(ac, family, cmd, key_names[k], PUT_OK,
		    false)) != 0)
			return rc;
	}
	/* "Updated database successfully" is not proof: read it back. */
	if ((rc = read_family(ac, family, &text)) != 0)
		return rc;
	for (enum id_key k = 0; k < KEY__MAX; k++) {
		char got[64];
		const char *want = id_field(&ids, k);
		if (*want == '\0')
			continue;
		if (!astdb_show_value(text, family, key_names[k], got, sizeof got) ||
		    strcmp(got, want) != 0) {
			log_error("AstDB /%s/%s: the value written is not there on "
			    "read-back (is the astdb read-only?)", family,
			    key_names[k]);
			rc = -1;
		}
	}
	free(text);
	return rc;
}

int
astdb_forget_ids(const struct ast_client *ac, const char *family)
{
	/* everything of the server (CONTRACT §2): its ids and `machine`,
	 * each key by name, so that another family or key is never touched */
	static const char *const forget[] = {
		[KEY_SERVER_ID] = "server_id", [KEY_TOKEN_ID] = "token_id",
		[KEY_TOKEN_ISSUED] = "token_issued", [KEY__MAX] = "machine",
	};
	enum { NFORGET = sizeof forget / sizeof forget[0] };
	char cmd[NFORGET][200];
	const char *cmds[NFORGET];
	struct ast_reply replies[NFORGET];
	int rc;
	char *text;

	for (size_t k = 0; k < NFORGET; k++) {
		snprintf(cmd[k], sizeof cmd[k], "database del %s %s", family,
		    forget[k]);
		cmds[k] = cmd[k];
	}
	/* "could not be removed" also means "was not there": the read-back
	 * below is the judge. */
	rc = run_batch(ac, cmds, NFORGET, replies);
	for (size_t i = 0; i < NFORGET; i++)
		ast_reply_free(&replies[i]);
	if (rc != 0 || (rc = read_family(ac, family, &text)) != 0)
		return rc;
	for (size_t k = 0; k < NFORGET; k++) {
		char got[80];
		if (astdb_show_value(text, family, forget[k], got, sizeof got)) {
			log_error("AstDB /%s/%s: could not be removed", family,
			    forget[k]);
			rc = -1;
		}
	}
	free(text);
	return rc;
}
