/* A run's results on stdout: one line per server (what was sent, what
 * was not and why, a dry run's request), or the --json object with the
 * exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"
#include "output.h"

void
json_set_time(json_t *obj, const char *key, bool have, time_t t)
{
	char buf[RFC3339_LEN + 1];

	if (!have) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	time_format_utc(t, buf);
	json_object_set_new(obj, key, json_string(buf));
}

/* A server not registered yet: the report that follows the registration
 * carries this in place of the id the registration will give (a UUID,
 * so that the body still validates against --schema). */
#define NEW_ID_PLACEHOLDER "00000000-0000-0000-0000-000000000000"

/* The dry run's report request for a target, the token masked (CONTRACT
 * §8: "****" in every output but --show --json).  Not registered yet
 * (*registers): the PUT that follows the POST /servers, with the
 * placeholder id and the token the registration gives.  *path and *body
 * are the caller's; NULL when out of memory. */
static void
dry_run_request(const struct run *run, const struct target *t,
    bool *registers, char **path, char **body)
{
	const struct server_ids *ids = &t->job.ids;
	bool token = uuid_is_valid(ids->token_id);

	*registers = ids->server_id[0] == '\0';
	if (*registers)
		token = true;
	if (asprintf(path, "/servers/%s%s", *registers ? NEW_ID_PLACEHOLDER :
	    ids->server_id, token ? "?tokenId=" SECRET_MASK : "") < 0)
		*path = NULL;
	*body = report_body(&run->report, *registers ? NEW_ID_PLACEHOLDER :
	    ids->server_id, t->private_name);
}

/* {"failures","since","until"} of a retry state. */
json_t *
retry_json(const struct retry_state *rs)
{
	json_t *o = json_object();

	json_object_set_new(o, "failures", json_integer(rs->failures));
	json_set_time(o, "since", rs->failures > 0, rs->since);
	json_set_time(o, "until", rs->failures > 0, rs->until);
	return o;
}

/* The notices a server sent, [{"id","kind","text"}] (all of them:
 * --json is read by programs, not mailed by cron). */
static json_t *
notices_json(const struct notices *list)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < list->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "id",
		    list->item[i].id, "kind", list->item[i].kind, "text",
		    list->item[i].text));
	return a;
}

/* "NAME: sent", then "; notice: TEXT" for each notice the run shows (-q:
 * the line only when it has one). */
static void
print_sent(const struct run *run, const struct target *t)
{
	const struct notices *list = &t->job.notices;
	bool any = false;

	for (size_t i = 0; i < list->n; i++)
		any = any || t->notice_shown[i];
	if (run->opt.quiet && !any)
		return;
	printf("%s: sent", t->conf->name);
	for (size_t i = 0; i < list->n; i++)
		if (t->notice_shown[i])
			printf("; notice: %s", list->item[i].text);
	printf("\n");
}

void
output_results_json(const struct run *run, enum exit_code code)
{
	json_t *servers = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		enum server_result r = t->job.result;
		json_t *o;

		if (r == RESULT_NONE)
			continue;	/* the run stopped before this server */
		o = json_object();
		json_object_set_new(o, "name", json_string(t->conf->name));
		json_object_set_new(o, "url", json_string(t->conf->url));
		json_object_set_new(o, "result", json_string(server_result_name(r)));
		json_object_set_new(o, "http_status", t->job.http_status ?
		    json_integer(t->job.http_status) : json_null());
		json_object_set_new(o, "server_id", t->job.ids.server_id[0] ?
		    json_string(t->job.ids.server_id) : json_null());
		json_set_time(o, "next_due", r == RESULT_SENT || r == RESULT_NOT_DUE ||
		    r == RESULT_WOULD_SEND || (r == RESULT_UNREACHED && t->backoff),
		    t->next);
		if (t->retry.failures > 0)
			json_object_set_new(o, "retry", retry_json(&t->retry));
		json_object_set_new(o, "error", t->job.error ?
		    json_string(t->job.error) : json_null());
		json_object_set_new(o, "notices", notices_json(&t->job.notices));
		if (r == RESULT_WOULD_SEND) {
			bool registers;
			char *path, *body;
			dry_run_request(run, t, &registers, &path, &body);
			/* method, path, body: the report's request; first the
			 * registration when there is no id yet */
			if (registers)
				json_object_set_new(o, "register", json_pack(
				    "{s:s, s:s, s:s}", "method", "POST", "path",
				    "/servers", "body", ""));
			json_object_set_new(o, "method", json_string("PUT"));
			json_object_set_new(o, "path", path ? json_string(path) : json_null());
			json_object_set_new(o, "body", body ? json_string(body) : json_null());
			free(path);
			free(body);
		}
		json_array_append_new(servers, o);
	}
	root = json_pack("{s:i, s:s, s:o}", "exit_code", (int)code, "status",
	    exit_code_name(code), "servers", servers);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* One line per server on stdout; -q: only a sent line with a notice due
 * (errors went to stderr). */
void
output_results_text(const struct run *run)
{
	char when[RFC3339_LEN + 1];

	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		const char *name = t->conf->name;

		if (run->opt.quiet) {	/* a notice due, or nothing */
			if (t->job.result == RESULT_SENT)
				print_sent(run, t);
			continue;
		}
		switch (t->job.result) {
		case RESULT_NOT_DUE:
			time_format_utc(t->next, when);
			if (t->backoff) {
				char since[RFC3339_LEN + 1];

				time_format_utc(t->retry.since, since);
				printf("%s: retrying after %s (%u failure%s since %s)\n",
				    name, when, t->retry.failures,
				    t->retry.failures == 1 ? "" : "s", since);
			} else {
				printf("%s: not due until %s\n", name, when);
			}
			break;
		case RESULT_WOULD_SEND: {
			bool registers;
			char *path, *body;
			dry_run_request(run, t, &registers, &path, &body);
			if (registers)
				printf("%s: would register (POST %s/servers), then "
				    "send PUT %s%s (%s standing for the id the "
				    "registration gives):\n%s\n", name, t->conf->url,
				    t->conf->url, path ? path : "", NEW_ID_PLACEHOLDER,
				    body ? body : "");
			else
				printf("%s: would send PUT %s%s\n%s\n", name,
				    t->conf->url, path ? path : "", body ? body : "");
			free(path);
			free(body);
			break;
		}
		case RESULT_DISABLED:
			printf("%s: disabled (enabled = no): not contacted\n", name);
			break;
		case RESULT_SENT:
			print_sent(run, t);
			break;
		case RESULT_NONE:	/* the run stopped before this server */
			break;
		default:
			printf("%s: %s%s%s\n", name, server_result_name(t->job.result),
			    t->job.error ? ": " : "", t->job.error ? t->job.error : "");
			break;
		}
	}
	fflush(stdout);
}
