/* --show and --diff: read state_dir (never create it), collect the
 * report as a run would, and print; they send nothing and change
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "diff.h"
#include "output.h"
#include "../schema/schema.h"

/* --show: each server's retry state (CONTRACT §9) after the layout of
 * `beacon show server`. */
static void
show_retries(const struct run *run)
{
	char since[RFC3339_LEN + 1], until[RFC3339_LEN + 1];

	printf("\nRetry state:\n");
	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];

		if (t->retry.failures == 0) {
			printf("  %s: not failing\n", t->conf->name);
			continue;
		}
		time_format_utc(t->retry.since, since);
		time_format_utc(t->retry.until, until);
		printf("  %s: %u failure%s since %s; %s %s\n", t->conf->name,
		    t->retry.failures, t->retry.failures == 1 ? "" : "s", since,
		    t->retry.until > run->now ? "retrying after" : "back-off ended",
		    until);
	}
}

/* --show: the last notices each server sent (CONTRACT §6), with the
 * date they were received; in --json, notices_json's object. */
static void
show_notices(const struct run *run)
{
	char when[RFC3339_LEN + 1];

	printf("\nNotices from the servers:\n");
	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		struct notice_file nf;

		if (notice_file_read(run->dirfd, t->conf->name, &nf) < 0 ||
		    nf.list.n == 0) {
			printf("  %s: none\n", t->conf->name);
			continue;
		}
		if (nf.has_received)
			time_format_utc(nf.received, when);
		printf("  %s: received %s\n", t->conf->name,
		    nf.has_received ? when : "(time unknown)");
		for (size_t j = 0; j < nf.list.n; j++)
			printf("    %s [%s]\n", nf.list.item[j].text,
			    nf.list.item[j].id);
	}
}

/* {"received","notices":[{"id","kind","text"}]} of a server's kept
 * notices (new reference). */
static json_t *
notices_kept_json(const struct run *run, const struct target *t)
{
	struct notice_file nf;
	json_t *o = json_object(), *a = json_array();

	(void)notice_file_read(run->dirfd, t->conf->name, &nf);
	for (size_t j = 0; a != NULL && j < nf.list.n; j++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "id",
		    nf.list.item[j].id, "kind", nf.list.item[j].kind, "text",
		    nf.list.item[j].text));
	json_set_time(o, "received", nf.has_received && nf.list.n > 0,
	    nf.received);
	json_object_set_new(o, "notices", a);
	return o;
}

/* --diff: what changed since each server's last accepted report; sends
 * nothing and changes nothing. */
enum exit_code
output_diff(struct run *run)
{
	json_t *servers = json_array();
	enum exit_code rc;

	run->dirfd = state_dir_open(run->cfg.state_dir, false);
	if (run->dirfd == -1 || servers == NULL) {
		json_decref(servers);
		return EXIT_STATE;
	}
	if ((rc = run_decide_due(run)) != EXIT_OK || (rc = run_collect(run)) != EXIT_OK) {
		json_decref(servers);
		return rc;
	}
	for (size_t i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		char *text = NULL, since[RFC3339_LEN + 1] = "";
		json_t *old = NULL, *now, *changes;
		int got = archive_read(run->dirfd, t->conf->name, &text);

		if (got < 0) {
			rc = EXIT_STATE;
			continue;
		}
		if (got == 1 && (old = json_loads(text, 0, NULL)) == NULL)
			log_warn("archive %s.sent.json: not JSON; ignored", t->conf->name);
		free(text);
		now = report_to_json(&run->report, t->job.ids.server_id[0] ?
		    t->job.ids.server_id : NULL, run_private_name(run, t->conf));
		changes = now != NULL ? diff_bodies(old, now) : NULL;
		if (changes == NULL) {
			log_error("--diff: out of memory");
			json_decref(old);
			json_decref(now);
			rc = EXIT_STATE;
			continue;
		}
		if (t->has_last)
			time_format_utc(t->last, since);
		if (run->opt.json) {
			json_object_set_new(changes, "archived", json_boolean(old != NULL));
			json_set_time(changes, "last_report", t->has_last, t->last);
			json_array_append_new(servers, json_pack("{s:s, s:s, s:O}",
			    "name", t->conf->name, "url", t->conf->url, "diff",
			    changes));
		} else {
			diff_print(stdout, t->conf->name, t->has_last ? since :
			    "(time unknown)", changes, old != NULL);
		}
		json_decref(changes);
		json_decref(old);
		json_decref(now);
	}
	if (run->opt.json) {
		json_t *root = json_pack("{s:O}", "servers", servers);
		char *out = root ? json_dumps(root, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;

		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(root);
	}
	json_decref(servers);
	return rc;
}

/* --show: the report and each server's stored state; changes nothing. */
enum exit_code
output_show(struct run *run)
{
	enum exit_code rc;

	run->dirfd = state_dir_open(run->cfg.state_dir, false);
	if (run->dirfd == -1)
		return EXIT_STATE;
	if ((rc = run_decide_due(run)) != EXIT_OK)
		return rc;
	if ((rc = run_collect(run)) != EXIT_OK)
		return rc;
	if (run->opt.json) {
		json_t *root = show_json(&run->report, run->targets, run->ntargets,
		    run->cfg.private_name);

		/* which file was read: an opt-out in another one is not */
		if (root != NULL)
			json_object_set_new(root, "config_file",
			    json_string(run->cfg.path));
		for (size_t i = 0; root != NULL && i < run->ntargets; i++)
			json_object_set_new(json_array_get(json_object_get(root,
			    "servers"), i), "retry",
			    retry_json(&run->targets[i].retry));
		for (size_t i = 0; root != NULL && i < run->ntargets; i++)
			json_object_set_new(json_array_get(json_object_get(root,
			    "servers"), i), "notices",
			    notices_kept_json(run, &run->targets[i]));
		char *text = root ? json_dumps(root, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;
		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(root);
	} else {
		show_print(stdout, &run->report, run->targets, run->ntargets,
		    run->cfg.enabled, isatty(STDOUT_FILENO));
		show_retries(run);
		show_notices(run);
		printf("\nConfiguration: %s%s\n", run->cfg.path,
		    run->cfg.file_found ? "" : " (not found: built-in defaults)");
	}
	return EXIT_OK;
}

enum exit_code
output_schema(void)
{
	size_t len;
	const char *text = schema_text(&len);

	return fwrite(text, 1, len, stdout) == len ? EXIT_OK : EXIT_STATE;
}
