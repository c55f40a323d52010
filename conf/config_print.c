/* --show-config: the effective settings after defaults and rounding.
 * A proxy's password is never printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

/* The proxy string with its credentials masked: "user:****@" for a
 * user and password, "****@" for a user alone (it may be a token, and
 * libcurl takes it as the whole credential); caller frees. */
static char *
proxy_masked(const char *proxy)
{
	const char *start, *at, *colon;
	char *out;

	if (proxy == NULL)
		return strdup("");
	start = strstr(proxy, "://");
	start = start ? start + 3 : proxy;
	at = strrchr(start, '@');
	if (at == NULL)
		return strdup(proxy);
	colon = memchr(start, ':', (size_t)(at - start));
	out = malloc(strlen(proxy) + 5);
	if (out != NULL && colon != NULL)
		sprintf(out, "%.*s****%s", (int)(colon + 1 - proxy), proxy, at);
	else if (out != NULL)
		sprintf(out, "%.*s****%s", (int)(start - proxy), proxy, at);
	return out;
}

static const char *
yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void
print_text(const struct config *cfg)
{
	printf("; %s%s\n", cfg->path,
	    cfg->file_found ? "" : " (not found: built-in defaults)");
	if (!config_has_builtin())
		printf("; DEV_MODE build: no built-in Asterisk Beacon server\n");
	printf("[general]\nenabled = %s\nprivate_name = %s\nasterisk = %s\n"
	    "control_socket = %s\nstate_dir = %s\ntimeout = %u\n"
	    "metrics_file = %s\nclone_detection = %s\nwarn_after = %u\n",
	    yes_no(cfg->enabled), cfg->private_name ? cfg->private_name : "",
	    cfg->asterisk, cfg->control_socket ? cfg->control_socket : "",
	    cfg->state_dir, cfg->timeout,
	    cfg->metrics_file ? cfg->metrics_file : "",
	    yes_no(cfg->clone_detection), cfg->warn_after);
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct server_conf *s = &cfg->servers[i];
		char *proxy = proxy_masked(s->proxy);

		printf("\n[%s]\n", s->name);
		if (s->builtin)
			printf("; built in: url and verify_cert are fixed\n");
		else
			printf("type = server\n");
		printf("enabled = %s\n", yes_no(s->enabled));
		printf("url = %s\nproxy = %s\ninterval = %u\nstart_time = %02u:%02u\n"
		    "verify_cert = %s\nca_path = %s\n", s->url, proxy ? proxy : "****",
		    s->interval, s->start_time / 60, s->start_time % 60,
		    yes_no(s->verify_cert), s->ca_path ? s->ca_path : "");
		if (s->private_name != NULL)
			printf("private_name = %s\n", s->private_name);
		free(proxy);
	}
}

static void
print_json(const struct config *cfg)
{
	json_t *servers = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct server_conf *s = &cfg->servers[i];
		char *proxy = proxy_masked(s->proxy);
		char hhmm[16];

		snprintf(hhmm, sizeof hhmm, "%02u:%02u", s->start_time / 60,
		    s->start_time % 60);
		json_array_append_new(servers, json_pack("{s:s, s:b, s:b, s:s, s:s?, s:i, s:s, s:b, s:s?, s:s?}",
		    "name", s->name, "builtin", s->builtin, "enabled", s->enabled,
		    "url", s->url,
		    "proxy", s->proxy ? proxy : NULL, "interval", (int)s->interval,
		    "start_time", hhmm, "verify_cert", s->verify_cert,
		    "ca_path", s->ca_path, "private_name", s->private_name));
		free(proxy);
	}
	root = json_pack("{s:s, s:b, s:b, s:{s:b, s:s?, s:s, s:s?, s:s, s:i, s:s?, s:b, s:i}, s:o}",
	    "config_file", cfg->path, "file_found", cfg->file_found,
	    "dev_mode", !config_has_builtin(),
	    "general", "enabled", cfg->enabled, "private_name", cfg->private_name,
	    "asterisk", cfg->asterisk, "control_socket", cfg->control_socket,
	    "state_dir", cfg->state_dir,
	    "timeout", (int)cfg->timeout, "metrics_file", cfg->metrics_file,
	    "clone_detection", cfg->clone_detection,
	    "warn_after", (int)cfg->warn_after, "servers", servers);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

void
config_print(const struct config *cfg, bool json)
{
	if (json)
		print_json(cfg);
	else
		print_text(cfg);
}
