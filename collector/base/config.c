/*
 * The collector's configuration (COLLECTOR.md §2), read with libinih.
 *
 * Read through ini_file.c, which counts the lines (Debian's libinih does
 * not tell the handler its line) and catches what inih would let pass;
 * here, unknown sections (even an empty one) are refused.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "../../common/text.h"
#include "config.h"
#include "ini_file.h"
#include "geoip.h"
#include "lifecycle.h"


enum type { T_STRING, T_LONG, T_BOOL, T_LISTEN, T_PROXIES };

struct option {
	const char *section;
	const char *name;
	enum type type;
	size_t offset;		/* into struct collector_config */
	long min, max;		/* T_LONG */
};

#define OFF(f) offsetof(struct collector_config, f)
#define BIG 1000000000L

static const struct option options[] = {
	{ "collector", "listen", T_LISTEN, 0, 0, 0 },
	{ "collector", "tls_cert", T_STRING, OFF(tls_cert), 0, 0 },
	{ "collector", "tls_key", T_STRING, OFF(tls_key), 0, 0 },
	{ "collector", "tls", T_BOOL, OFF(tls), 0, 0 },
	{ "collector", "trusted_proxies", T_PROXIES, 0, 0, 0 },
	{ "collector", "database", T_STRING, OFF(database), 0, 0 },
	{ "collector", "max_body_kb", T_LONG, OFF(max_body_kb), 1, 65536 },
	{ "collector", "request_timeout", T_LONG, OFF(request_timeout), 1, 3600 },
	{ "collector", "max_connections", T_LONG, OFF(max_connections), 1, 100000 },
	{ "collector", "public_stats", T_BOOL, OFF(public_stats), 0, 0 },
	{ "collector", "admin_user", T_STRING, OFF(admin_user), 0, 0 },
	{ "collector", "admin_password_hash", T_STRING, OFF(admin_password_hash), 0, 0 },
	{ "collector", "lifecycle", T_STRING, OFF(lifecycle), 0, 0 },
	{ "collector", "max_connections_per_address", T_LONG,
	    OFF(max_connections_per_address), 0, 100000 },
	{ "collector", "user", T_STRING, OFF(user), 0, 0 },
	{ "collector", "geoip_database", T_STRING, OFF(geoip_database), 0, 0 },
	{ "limits", "registrations_per_address_per_hour", T_LONG,
	    OFF(registrations_per_address_per_hour), 0, BIG },
	{ "limits", "requests_per_address_per_minute", T_LONG,
	    OFF(requests_per_address_per_minute), 0, BIG },
	{ "limits", "min_update_interval", T_LONG, OFF(min_update_interval), 0, BIG },
	{ "limits", "failed_logins_per_address_per_hour", T_LONG,
	    OFF(failed_logins_per_address_per_hour), 0, BIG },
	{ "privacy", "min_group", T_LONG, OFF(min_group), 1, BIG },
	{ "privacy", "active_days", T_LONG, OFF(active_days), 1, 36500 },
	{ "privacy", "established_days", T_LONG, OFF(established_days), 0, 36500 },
	{ "privacy", "retention_days", T_LONG, OFF(retention_days), 1, 36500 },
	{ "privacy", "log_addresses", T_BOOL, OFF(log_addresses), 0, 0 },
	{ "privacy", "history_days", T_LONG, OFF(history_days), 1, 36500 },
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static const char *const sections[] = { "collector", "limits", "privacy" };

struct parse {
	struct ini_file ini;	/* first: on_section casts it back */
	struct collector_config *cfg;
	int seen[N_OPTIONS];	/* the line that set each option, 0 = none */
};

static bool
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Decimal digits only (no sign, no blanks, no "0x"), in [min, max]. */
static bool
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

/* Printable ASCII, no blanks: what a path, a URI or a hash may hold. */
static bool
plain_text(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return false;
	return true;
}

/* The port of a listen spec: 1..65535, digits only. */
static bool
valid_port(const char *s)
{
	long port;

	return parse_long(s, 1, 65535, &port);
}

/* A host name of letters, digits, '-' and '.', or "*". */
static bool
valid_hostname(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	if (n == 1 && s[0] == '*')
		return true;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* "host:port", "[v6]:port" or "unix:/absolute/path". */
static bool
valid_listen(const char *s)
{
	const char *colon;

	if (strncmp(s, "unix:", 5) == 0)
		return s[5] == '/' && s[6] != '\0' && plain_text(s + 5) &&
		    strlen(s + 5) < 108;	/* sun_path */
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		char host[INET6_ADDRSTRLEN];
		unsigned char bin[16];
		size_t n;

		if (close == NULL || close[1] != ':')
			return false;
		n = (size_t)(close - s - 1);
		if (n == 0 || n >= sizeof host)
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		return inet_pton(AF_INET6, host, bin) == 1 && valid_port(close + 2);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
		return false;	/* an IPv6 address needs its brackets */
	return valid_hostname(s, (size_t)(colon - s)) && valid_port(colon + 1);
}

bool
listen_is_local(const char *spec)
{
	char host[256];
	unsigned char bin[16];
	const char *end;
	size_t n;

	if (spec == NULL)
		return false;
	if (strncmp(spec, "unix:", 5) == 0)
		return true;
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL)
			return false;
		n = (size_t)(end - spec - 1);
		if (n >= sizeof host)
			return false;
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, bin) != 1)
			return false;
		static const unsigned char loop6[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		return memcmp(bin, loop6, 16) == 0 ||
		    (memcmp(bin, mapped, 12) == 0 && bin[12] == 127);
	}
	end = strrchr(spec, ':');
	n = end != NULL ? (size_t)(end - spec) : strlen(spec);
	if (n >= sizeof host)
		return false;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, bin) == 1 && bin[0] == 127;
}

/* The next comma-separated item at *cursor, trimmed, cut out in place
 * (*cursor moves past it); NULL after the last. */
static char *
next_item(char **cursor)
{
	char *s = *cursor, *comma, *end;

	if (s == NULL)
		return NULL;
	comma = strchr(s, ',');
	*cursor = comma != NULL ? comma + 1 : NULL;
	if (comma != NULL)
		*comma = '\0';
	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static void
free_list(char **list, int *n)
{
	for (int i = 0; i < *n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*n = 0;
}

static void
set_listen(struct parse *p, const char *v)
{
	struct collector_config *cfg = p->cfg;
	char *copy, *cursor, *item;

	free_list(cfg->listen, &cfg->n_listen);
	cfg->listen_systemd = false;
	if (strcmp(v, "systemd") == 0) {
		cfg->listen_systemd = true;
		return;
	}
	copy = strdup(v);
	if (copy == NULL) {
		ini_file_error(&p->ini, p->ini.line, "out of memory");
		return;
	}
	cursor = copy;
	while ((item = next_item(&cursor)) != NULL) {
		if (item[0] == '\0') {
			ini_file_error(&p->ini, p->ini.line, "listen: an empty address in the list");
			break;
		}
		if (strcmp(item, "systemd") == 0) {
			ini_file_error(&p->ini, p->ini.line, "listen: \"systemd\" must be the only value");
			break;
		}
		if (!valid_listen(item)) {
			ini_file_bad_value(&p->ini, "listen", item,
			    "is not host:port, [IPv6]:port or unix:/path");
			break;
		}
		if (cfg->n_listen == COLLECTOR_MAX_LISTEN) {
			ini_file_error(&p->ini, p->ini.line, "listen: more than %d addresses",
			    COLLECTOR_MAX_LISTEN);
			break;
		}
		if ((cfg->listen[cfg->n_listen] = strdup(item)) == NULL) {
			ini_file_error(&p->ini, p->ini.line, "out of memory");
			break;
		}
		cfg->n_listen++;
	}
	free(copy);
}

static void
set_proxies(struct parse *p, const char *v)
{
	struct collector_config *cfg = p->cfg;
	char *copy, *cursor, *item;
	char text[INET6_ADDRSTRLEN];
	unsigned char bin[16];

	free_list(cfg->trusted_proxies, &cfg->n_trusted_proxies);
	if (v[0] == '\0')
		return;
	if ((copy = strdup(v)) == NULL) {
		ini_file_error(&p->ini, p->ini.line, "out of memory");
		return;
	}
	cursor = copy;
	while ((item = next_item(&cursor)) != NULL) {
		int af = strchr(item, ':') != NULL ? AF_INET6 : AF_INET;

		if (inet_pton(af, item, bin) != 1 ||
		    inet_ntop(af, bin, text, sizeof text) == NULL) {
			ini_file_bad_value(&p->ini, "trusted_proxies", item,
			    "is not a numeric IPv4 or IPv6 address");
			break;
		}
		if (cfg->n_trusted_proxies == COLLECTOR_MAX_PROXIES) {
			ini_file_error(&p->ini, p->ini.line, "trusted_proxies: more than %d addresses",
			    COLLECTOR_MAX_PROXIES);
			break;
		}
		if ((cfg->trusted_proxies[cfg->n_trusted_proxies] = strdup(text)) == NULL) {
			ini_file_error(&p->ini, p->ini.line, "out of memory");
			break;
		}
		cfg->n_trusted_proxies++;
	}
	free(copy);
}

/* The rules of each string option; NULL when v is fine, else what is wrong. */
static const char *
check_string(const char *name, const char *v)
{
	if (strcmp(name, "admin_password_hash") == 0) {
		/* Only hashes that cost an attacker something: md5-crypt,
		 * NT and DES crypt are refused.  The value is never quoted
		 * back (it may be a plain password). */
		static const char *const kinds[] = { "$y$", "$6$", "$2b$", "$gy$" };
		if (v[0] == '\0')
			return NULL;
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (strncmp(v, kinds[i], strlen(kinds[i])) == 0 &&
			    strlen(v) > strlen(kinds[i]) + 8 && plain_text(v))
				return NULL;
		return "is not a crypt(3) hash of a kind accepted (yescrypt \"$y$\", "
		    "sha512-crypt \"$6$\", bcrypt \"$2b$\", gost-yescrypt \"$gy$\"); "
		    "make one with beacon-collector --hash-password";
	}
	if (strcmp(name, "user") == 0)	/* empty: keep the user it runs as */
		return v[0] == '\0' || (plain_text(v) && strchr(v, ':') == NULL) ?
		    NULL : "is not a user name";
	if (v[0] == '\0')
		return strcmp(name, "lifecycle") == 0 ||
		    strcmp(name, "geoip_database") == 0 ? NULL : "must not be empty";
	if (!plain_text(v))
		return "holds blanks or characters that are not printable ASCII";
	if (strcmp(name, "admin_user") == 0)
		return strchr(v, ':') == NULL ? NULL :
		    "must not contain ':' (HTTP Basic authentication)";
	if (strcmp(name, "database") == 0) {
		if (strncmp(v, "sqlite:", 7) == 0)
			return v[7] != '\0' ? NULL : "needs a path after sqlite:";
		if ((strncmp(v, "postgresql://", 13) == 0) ||
		    (strncmp(v, "postgres://", 11) == 0))
			return NULL;
		return "is not sqlite:PATH or postgresql://...";
	}
	return NULL;
}

static void
set_option(struct parse *p, const struct option *o, const char *v)
{
	char *base = (char *)p->cfg;
	const char *why;
	char *copy;

	switch (o->type) {
	case T_LISTEN:
		set_listen(p, v);
		return;
	case T_PROXIES:
		set_proxies(p, v);
		return;
	case T_BOOL:
		if (!parse_bool(v, (bool *)(void *)(base + o->offset)))
			ini_file_bad_value(&p->ini, o->name, v,
			    "is not a boolean (yes/no, true/false, on/off, 1/0)");
		return;
	case T_LONG:
		if (!parse_long(v, o->min, o->max, (long *)(void *)(base + o->offset))) {
			char what[80];

			snprintf(what, sizeof what, "is not a whole number from %ld to %ld",
			    o->min, o->max);
			ini_file_bad_value(&p->ini, o->name, v, what);
		}
		return;
	case T_STRING:
		if ((why = check_string(o->name, v)) != NULL) {
			/* A secret (or a password typed where its hash
			 * belongs) is never repeated into a log. */
			if (strcmp(o->name, "admin_password_hash") == 0)
				ini_file_error(&p->ini, p->ini.line, "%s: the value %s", o->name, why);
			else
				ini_file_bad_value(&p->ini, o->name, v, why);
			return;
		}
		if ((copy = strdup(v)) == NULL) {
			ini_file_error(&p->ini, p->ini.line, "out of memory");
			return;
		}
		free(*(char **)(void *)(base + o->offset));
		*(char **)(void *)(base + o->offset) = copy;
		return;
	}
}

static bool
known_section(const char *name)
{
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strcmp(name, sections[i]) == 0)
			return true;
	return false;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	char *s;

	if (p->ini.error)
		return 1;
	if (section[0] == '\0') {
		s = ini_file_shown(name);
		ini_file_error(&p->ini, p->ini.line, "\"%s\" is outside any section", s ? s : "?");
		free(s);
		return 0;
	}
	if (!known_section(section))
		return 0;	/* the reader has said so at the header */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (strcmp(options[i].section, section) != 0 ||
		    strcmp(options[i].name, name) != 0)
			continue;
		if (p->seen[i] != 0) {
			ini_file_error(&p->ini, p->ini.line, "%s is set twice (first on line %d)",
			    name, p->seen[i]);
			return 0;
		}
		p->seen[i] = p->ini.line;
		set_option(p, &options[i], value);
		return !p->ini.error;
	}
	s = ini_file_shown(name);
	ini_file_error(&p->ini, p->ini.line, "unknown option \"%s\" in [%s]", s ? s : "?", section);
	free(s);
	return 0;
}

/* A section header (ini_file.c): only the three sections exist. */
static void
on_section(struct ini_file *f, const char *name)
{
	char *n;

	if (known_section(name))
		return;
	n = ini_file_shown(name);
	ini_file_error(f, f->line, "unknown section [%s] (known: [collector], "
	    "[limits], [privacy])", n ? n : "?");
	free(n);
}

/* COLLECTOR.md §2's defaults, before the file is read. */
static void
defaults(struct parse *p)
{
	struct collector_config *cfg = p->cfg;

	cfg->n_listen = 1;
	cfg->listen[0] = strdup("[::]:8443");
	cfg->tls_cert = strdup("/etc/beacon-collector/tls/cert.pem");
	cfg->tls_key = strdup("/etc/beacon-collector/tls/key.pem");
	cfg->tls = true;
	cfg->database = strdup("sqlite:/var/lib/beacon-collector/beacon.db");
	cfg->max_body_kb = 256;
	cfg->request_timeout = 30;
	cfg->max_connections = 1024;
	cfg->max_connections_per_address = 32;
	cfg->user = strdup("beacon-collector");
	cfg->public_stats = true;
	cfg->admin_user = strdup("admin");
	cfg->admin_password_hash = strdup("");
	cfg->lifecycle = strdup("");
	cfg->geoip_database = strdup("");
	cfg->registrations_per_address_per_hour = 20;
	cfg->requests_per_address_per_minute = 120;
	cfg->min_update_interval = 30;
	cfg->min_group = 10;
	cfg->active_days = 7;
	cfg->established_days = 3;
	cfg->failed_logins_per_address_per_hour = 10;
	cfg->retention_days = 400;
	cfg->log_addresses = false;
	cfg->history_days = 730;
	cfg->path = strdup(p->ini.path);
	if (cfg->listen[0] == NULL || cfg->tls_cert == NULL || cfg->tls_key == NULL ||
	    cfg->database == NULL || cfg->admin_user == NULL ||
	    cfg->admin_password_hash == NULL || cfg->lifecycle == NULL ||
	    cfg->geoip_database == NULL ||
	    cfg->path == NULL || cfg->user == NULL)
		ini_file_error(&p->ini, 0, "out of memory");
}

/* What needs the whole file: plain HTTP only on local addresses. */
static void
check_whole(struct parse *p)
{
	struct collector_config *cfg = p->cfg;
	int tls_line = p->seen[3];	/* options[3] is tls */

	if (cfg->tls)
		return;
	if (cfg->listen_systemd) {
		ini_file_error(&p->ini, tls_line, "tls = no needs listen addresses that are loopback or unix:, "
		    "and those of listen = systemd are not known here (the protocol is HTTPS only)");
		return;
	}
	for (int i = 0; i < cfg->n_listen; i++) {
		if (listen_is_local(cfg->listen[i]))
			continue;
		char *s = ini_file_shown(cfg->listen[i]);
		int listen_line = p->seen[0];	/* options[0] is listen */

		if (listen_line > 0)
			ini_file_error(&p->ini, tls_line, "tls = no, but listen address \"%s\" (line %d) is not "
			    "loopback or unix: (the protocol is HTTPS only)", s ? s : "?", listen_line);
		else
			ini_file_error(&p->ini, tls_line, "tls = no, but listen address \"%s\" (the default) is not "
			    "loopback or unix: (the protocol is HTTPS only)", s ? s : "?");
		free(s);
		return;
	}
}

int
collector_config_load(const char *path, struct collector_config *cfg,
    char *err, size_t errlen)
{
	struct parse p = { .ini = { .path = path, .err = err, .errlen = errlen,
	    .on_section = on_section }, .cfg = cfg };

	memset(cfg, 0, sizeof *cfg);
	if (errlen > 0)
		err[0] = '\0';
	defaults(&p);
	if (p.ini.error)
		return -1;
	p.ini.file = fopen(path, "r");
	if (p.ini.file == NULL) {
		ini_file_error(&p.ini, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	ini_file_parse(&p.ini, handler, &p);
	fclose(p.ini.file);
	check_whole(&p);
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].name, "database") == 0)
			cfg->database_line = p.seen[i];
		else if (strcmp(options[i].name, "user") == 0)
			cfg->user_set = p.seen[i] != 0;
		else if (strcmp(options[i].name, "geoip_database") == 0)
			cfg->geoip_database_line = p.seen[i];
	return p.ini.error ? -1 : 0;
}

void
collector_config_free(struct collector_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free_list(cfg->listen, &cfg->n_listen);
	free_list(cfg->trusted_proxies, &cfg->n_trusted_proxies);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->database);
	free(cfg->admin_user);
	free(cfg->admin_password_hash);
	free(cfg->lifecycle);
	free(cfg->geoip_database);
	geoip_close(cfg->geoip_data);
	lifecycle_free(cfg->lifecycle_data);
	free(cfg->user);
	memset(cfg, 0, sizeof *cfg);
}
