/* The configuration file (CONTRACT §3): read strictly with libinih, every
 * mistake reported as "FILE:LINE: message". */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "../common/log.h"
#include "../common/text.h"
#include "config.h"

#ifndef DEFAULT_STATE_DIR
#define DEFAULT_STATE_DIR "/var/lib/beacon-report"
#endif
#ifndef BEACON_URL
#define BEACON_URL "https://beacon.asterisk.org"
#endif
#ifndef DEV_MODE
#define DEV_MODE 0
#endif

#define MAX_COLLECTORS 64
#define MAX_SERVERS (MAX_COLLECTORS + 1)	/* and the built-in one */
#define MAX_SECTIONS (MAX_SERVERS + 1)		/* and [general] */
#define MAX_NAME 49	/* inih keeps section names of at most 49 bytes */
#define MAX_INTERVAL 525600	/* a year of minutes */

/* Where each [section] of the file starts, and what it set. */
struct section {
	char name[128];	/* as the reader saw it */
	int line;
	bool seen_type;
	struct server_conf *server;	/* NULL for [general] */
};

/* The parser's state while inih walks the file. */
struct parse {
	const char *path;
	FILE *file;
	int line;		/* number of the line inih is handling */
	int completed;		/* lines read to their end */
	bool error;		/* a message was printed */
	struct config *cfg;
	struct section sections[MAX_SECTIONS];
	size_t nsections;
	char seen[MAX_SECTIONS][16][24];	/* option names per section */
	struct server_conf dev_beacon;	/* DEV_MODE: [beacon], checked then dropped */
};

/* Print "beacon-report: FILE:LINE: message" for the first mistake only:
 * it is the one to fix, and later ones may be its echoes. */
static void PRINTF_LIKE(3, 4)
parse_error(struct parse *p, int line, const char *fmt, ...)
{
	char msg[512], *clean;
	va_list ap;

	if (p->error)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* the message quotes the file's values: no escape sequence of
	 * theirs reaches a terminal or syslog */
	clean = text_sanitize(msg, strlen(msg), sizeof msg);
	log_error("%s:%d: %s", p->path, line, clean ? clean : "bad value");
	free(clean);
	p->error = true;
}

bool
config_has_builtin(void)
{
	return !DEV_MODE;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* yes/no, true/false, on/off, 1/0 in any case; 0 or -1. */
static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* A positive decimal integer no larger than max; 0 or -1. */
static int
parse_uint(const char *v, unsigned max, unsigned *out)
{
	unsigned long n = 0;

	if (*v == '\0')
		return -1;
	for (const char *c = v; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		n = n * 10 + (unsigned long)(*c - '0');
		if (n > max)
			return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* "HH:MM" (hour may have one digit) into minutes after midnight. */
static int
parse_hhmm(const char *v, unsigned *out)
{
	unsigned h = 0, m;
	const char *c = v;

	if (!isdigit((unsigned char)*c))
		return -1;
	while (isdigit((unsigned char)*c) && c - v < 2)
		h = h * 10 + (unsigned)(*c++ - '0');
	if (*c++ != ':' || !isdigit((unsigned char)c[0]) ||
	    !isdigit((unsigned char)c[1]) || c[2] != '\0')
		return -1;
	m = (unsigned)(c[0] - '0') * 10 + (unsigned)(c[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

/* An https URL with a host and nothing that would change the request:
 * no white space, control characters, query or fragment. */
static bool
valid_https_url(const char *v)
{
	const char *host;

	if (strncasecmp(v, "https://", 8) != 0)
		return false;
	host = v + 8;
	if (*host == '\0' || *host == '/' || *host == ':' ||
	    memchr(host, '@', strcspn(host, "/")) != NULL)
		return false;	/* no user:password@: it would be printed */
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f ||
		    *c == '?' || *c == '#' || *c == '"' || *c == '\\')
			return false;
	return true;
}

static bool
printable(const char *v)
{
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return false;
	return true;
}

static int
set_string(char **field, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static struct server_conf *
add_server(struct config *cfg, const char *name, bool builtin)
{
	struct server_conf *s;

	if (cfg->nservers >= MAX_SERVERS)
		return NULL;
	s = &cfg->servers[cfg->nservers];
	memset(s, 0, sizeof *s);
	s->name = strdup(name);
	s->url = strdup(builtin ? BEACON_URL : "");
	if (s->name == NULL || s->url == NULL) {
		free(s->name);	/* not counted yet: config_free would miss them */
		free(s->url);
		s->name = s->url = NULL;
		return NULL;
	}
	s->interval = 360;
	s->start_time = 0;
	s->verify_cert = true;
	s->builtin = builtin;
	s->enabled = true;
	cfg->nservers++;
	return s;
}

/* The section record for name, created on first sight.  The reader has
 * already noted its header line. */
static struct section *
find_section(struct parse *p, const char *name)
{
	for (size_t i = 0; i < p->nsections; i++)
		if (strcmp(p->sections[i].name, name) == 0)
			return &p->sections[i];
	return NULL;
}

/* Record a "[name]" header seen by the reader; checks its name. */
static void
note_section(struct parse *p, const char *name, int line)
{
	struct section *sec;
	bool general = strcmp(name, "general") == 0;
	bool builtin = strcmp(name, BUILTIN_SERVER) == 0;

	if (find_section(p, name) != NULL) {
		parse_error(p, line, "section [%s] appears twice", name);
		return;
	}
	if (!general && !valid_name(name)) {
		parse_error(p, line, "bad section name [%s]: use letters, digits, '_', '.' and '-'", name);
		return;
	}
	if (p->nsections >= MAX_SECTIONS ||
	    (!general && !builtin && p->cfg->nservers >= MAX_SERVERS)) {
		parse_error(p, line, "too many collectors (at most %d)", MAX_COLLECTORS);
		return;
	}
	sec = &p->sections[p->nsections++];
	memset(sec, 0, sizeof *sec);
	snprintf(sec->name, sizeof sec->name, "%s", name);
	sec->line = line;
	if (general)
		return;
	if (builtin && !config_has_builtin()) {
		/* checked like the real one, so that --show-config stays a
		 * config check, then dropped */
		log_notice("%s:%d: [beacon] ignored: this build has no built-in server (DEV_MODE)",
		    p->path, line);
		p->dev_beacon.builtin = true;
		sec->server = &p->dev_beacon;
		return;
	}
	if (builtin) {
		sec->server = &p->cfg->servers[0];	/* added by config_load */
		return;
	}
	sec->server = add_server(p->cfg, name, false);
	if (sec->server == NULL)
		parse_error(p, line, "cannot add server [%s]", name);
}

/* A line inih will refuse: not blank, not a comment, and neither a
 * "[section]" nor a "name = value" (inih also splits on ':').  inih goes
 * on after such a line and would hand the lines below it to the wrong
 * section, so the mistake must be caught here, at its own line. */
static bool
malformed_line(const char *s, bool first)
{
	if (first && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;		/* a UTF-8 byte order mark */
	s += strspn(s, " \t\r\n\v\f");
	if (*s == '\0' || *s == ';' || *s == '#')
		return false;
	if (*s == '[')
		return strchr(s, ']') == NULL;
	return strpbrk(s, "=:") == NULL;
}

/* fgets for inih that counts lines and spots section headers, so that
 * every message can name its line, even for an empty section. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *got, *s, *end;
	size_t len;

	got = fgets(str, num, p->file);
	if (got == NULL)
		return NULL;
	p->line = p->completed + 1;
	len = strlen(str);
	if (len > 0 && str[len - 1] == '\n')
		p->completed++;
	else if (!feof(p->file)) {
		parse_error(p, p->line, "line too long (at most %d bytes)", num - 2);
		str[0] = '\0';
		return str;
	}
	if (malformed_line(str, p->line == 1)) {
		parse_error(p, p->line, "malformed line (expected [section], name = value or a ; comment)");
		str[0] = '\0';
		return str;
	}
	/* No indentation (nor byte order mark): Debian's inih would take an
	 * indented line as the continuation of the previous value. */
	s = str;
	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	s += strspn(s, " \t");
	memmove(str, s, strlen(s) + 1);
	if (*str == '[' && (end = strchr(str, ']')) != NULL) {
		char name[128];
		size_t n = (size_t)(end - str - 1);

		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, str + 1, n);
		name[n] = '\0';	/* as inih takes it: not trimmed */
		note_section(p, name, p->line);
	}
	return got;
}

/* Has this option been set already in this section?  Marks it. */
static bool
seen_before(struct parse *p, struct section *sec, const char *name)
{
	size_t idx = (size_t)(sec - p->sections);

	for (size_t i = 0; i < 16; i++) {
		if (p->seen[idx][i][0] == '\0') {
			snprintf(p->seen[idx][i], sizeof p->seen[idx][i], "%s", name);
			return false;
		}
		if (strcmp(p->seen[idx][i], name) == 0)
			return true;
	}
	return false;
}

static int
handle_general(struct parse *p, const char *name, const char *v)
{
	struct config *cfg = p->cfg;
	int line = p->line;

	if (strcmp(name, "enabled") == 0) {
		if (parse_bool(v, &cfg->enabled) < 0)
			parse_error(p, line, "enabled: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", v);
	} else if (strcmp(name, "private_name") == 0) {
		if (!printable(v) || strlen(v) > 255)
			parse_error(p, line, "private_name: must be printable text of at most 255 bytes");
		else if (*v != '\0' && set_string(&cfg->private_name, v) < 0)
			return -1;	/* empty: unset, and never sent */
	} else if (strcmp(name, "asterisk") == 0) {
		if (*v == '\0' || !printable(v))
			parse_error(p, line, "asterisk: needs the name or path of the Asterisk binary");
		else if (set_string(&cfg->asterisk, v) < 0)
			return -1;
	} else if (strcmp(name, "control_socket") == 0) {
		/* never guessed: empty (the default) runs `asterisk -rx` */
		if (*v != '\0' && (v[0] != '/' || !printable(v) ||
		    strlen(v) >= CONTROL_SOCKET_MAX))
			parse_error(p, line, "control_socket: \"%s\" is not an absolute path (Asterisk's asterisk.ctl, up to %d bytes)", v, CONTROL_SOCKET_MAX - 1);
		else if (*v != '\0' && set_string(&cfg->control_socket, v) < 0)
			return -1;
	} else if (strcmp(name, "state_dir") == 0) {
		if (v[0] != '/' || !printable(v))
			parse_error(p, line, "state_dir: \"%s\" is not an absolute path", v);
		else if (set_string(&cfg->state_dir, v) < 0)
			return -1;
	} else if (strcmp(name, "timeout") == 0) {
		if (parse_uint(v, 300, &cfg->timeout) < 0 || cfg->timeout < 1)
			parse_error(p, line, "timeout: \"%s\" is not a number of seconds from 1 to 300", v);
	} else if (strcmp(name, "metrics_file") == 0) {
		if (*v != '\0' && (v[0] != '/' || !printable(v) || v[strlen(v) - 1] == '/'))
			parse_error(p, line, "metrics_file: \"%s\" is not an absolute file path", v);
		else if (*v != '\0' && set_string(&cfg->metrics_file, v) < 0)
			return -1;
	} else if (strcmp(name, "clone_detection") == 0) {
		if (parse_bool(v, &cfg->clone_detection) < 0)
			parse_error(p, line, "clone_detection: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", v);
	} else if (strcmp(name, "warn_after") == 0) {
		if (parse_uint(v, 8760, &cfg->warn_after) < 0)
			parse_error(p, line, "warn_after: \"%s\" is not a number of hours from 0 to 8760", v);
	} else {
		return 1;	/* not a [general] option */
	}
	return 0;
}

static int
handle_server(struct parse *p, struct section *sec, const char *name,
    const char *v)
{
	struct server_conf *s = sec->server;
	int line = p->line;
	bool builtin = s->builtin;

	if (strcmp(name, "enabled") == 0) {
		/* this server alone: not contacted, not a failure (CONTRACT §3) */
		if (parse_bool(v, &s->enabled) < 0)
			parse_error(p, line, "enabled: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", v);
	} else if (strcmp(name, "proxy") == 0) {
		if (!printable(v) || strchr(v, ' '))
			parse_error(p, line, "proxy: not a [scheme://][user:pass@]host[:port]");
		else if (*v != '\0' && set_string(&s->proxy, v) < 0)
			return -1;
	} else if (strcmp(name, "interval") == 0) {
		if (parse_uint(v, MAX_INTERVAL, &s->interval) < 0 || s->interval == 0)
			parse_error(p, line, "interval: \"%s\" is not a positive number of minutes", v);
		else if (s->interval < MIN_INTERVAL) {
			log_notice("%s:%d: interval %u is below %d minutes; using %d",
			    p->path, line, s->interval, MIN_INTERVAL, MIN_INTERVAL);
			s->interval = MIN_INTERVAL;
		}
	} else if (strcmp(name, "start_time") == 0) {
		if (parse_hhmm(v, &s->start_time) < 0)
			parse_error(p, line, "start_time: \"%s\" is not a valid HH:MM", v);
	} else if (strcmp(name, "ca_path") == 0) {
		if (!printable(v))
			parse_error(p, line, "ca_path: not a path");
		else if (*v != '\0' && set_string(&s->ca_path, v) < 0)
			return -1;
	} else if (!builtin && strcmp(name, "private_name") == 0) {
		/* this collector's only; [general]'s then not sent to it */
		if (!printable(v) || strlen(v) > 255)
			parse_error(p, line, "private_name: must be printable text of at most 255 bytes");
		else if (*v != '\0' && set_string(&s->private_name, v) < 0)
			return -1;
	} else if (builtin && (strcmp(name, "url") == 0 || strcmp(name, "type") == 0 ||
	    strcmp(name, "verify_cert") == 0)) {
		parse_error(p, line, "[beacon] does not accept '%s': the built-in server's URL and certificate check are fixed", name);
	} else if (strcmp(name, "type") == 0) {
		sec->seen_type = true;
		if (strcmp(v, "server") != 0)
			parse_error(p, line, "type: must be \"server\", not \"%s\"", v);
	} else if (strcmp(name, "url") == 0) {
		size_t n;
		if (!valid_https_url(v))
			parse_error(p, line, "url: \"%s\" is not an https URL without query or fragment (http is never used)", v);
		else if (set_string(&s->url, v) < 0)
			return -1;
		n = strlen(s->url);
		while (n > 8 && s->url[n - 1] == '/')
			s->url[--n] = '\0';
	} else if (strcmp(name, "verify_cert") == 0) {
		if (parse_bool(v, &s->verify_cert) < 0)
			parse_error(p, line, "verify_cert: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", v);
	} else {
		return 1;
	}
	return 0;
}

static bool
is_general_option(const char *name)
{
	static const char *const names[] = {"enabled", "private_name", "asterisk",
	    "control_socket", "state_dir", "timeout", "metrics_file",
	    "clone_detection", "warn_after"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* inih's callback: 1 to go on, 0 on a mistake (already printed). */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct section *sec;
	int rc;

	if (p->error)
		return 0;
	if (*section == '\0') {
		parse_error(p, p->line, "'%s' is outside any section", name);
		return 0;
	}
	sec = find_section(p, section);
	if (sec == NULL) {	/* a header the reader refused or misread */
		parse_error(p, p->line, "'%s' is in a section that is not valid", name);
		return 0;
	}
	if (seen_before(p, sec, name)) {
		parse_error(p, p->line, "'%s' is set twice in [%s]", name, section);
		return 0;
	}
	if (strcmp(section, "general") == 0) {
		rc = handle_general(p, name, value);
		if (rc > 0)
			parse_error(p, p->line, "unknown option '%s' in [general]", name);
	} else if (is_general_option(name) && strcmp(name, "enabled") != 0 &&
	    !(strcmp(name, "private_name") == 0 && strcmp(section, BUILTIN_SERVER) != 0)) {
		parse_error(p, p->line, "'%s' belongs in [general], not in [%s]", name, section);
		rc = 0;
	} else {
		rc = handle_server(p, sec, name, value);
		if (rc > 0)
			parse_error(p, p->line, "unknown option '%s' in [%s]", name, section);
	}
	if (rc < 0)
		parse_error(p, p->line, "out of memory");
	return p->error ? 0 : 1;
}

/* After the file: every collector section must be complete. */
static void
check_sections(struct parse *p)
{
	for (size_t i = 0; i < p->nsections && !p->error; i++) {
		struct section *sec = &p->sections[i];
		if (sec->server == NULL || sec->server->builtin)
			continue;
		if (!sec->seen_type)
			parse_error(p, sec->line, "[%s] needs 'type = server'", sec->name);
		else if (sec->server->url[0] == '\0')
			parse_error(p, sec->line, "[%s] needs a 'url = https://...'", sec->name);
	}
}

/* Free the strings of one server (the struct itself is not owned). */
static void
server_conf_free(struct server_conf *s)
{
	free(s->name);
	free(s->url);
	free(s->proxy);
	free(s->ca_path);
	free(s->private_name);
	s->name = s->url = s->proxy = s->ca_path = s->private_name = NULL;
}

static int
set_defaults(struct config *cfg, const char *path)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enabled = true;
	cfg->timeout = 30;
	cfg->clone_detection = true;
	cfg->warn_after = 24;
	cfg->path = strdup(path);
	cfg->asterisk = strdup("asterisk");
	cfg->state_dir = strdup(DEFAULT_STATE_DIR);
	cfg->servers = calloc(MAX_SERVERS, sizeof *cfg->servers);
	if (cfg->path == NULL || cfg->asterisk == NULL || cfg->state_dir == NULL ||
	    cfg->servers == NULL)
		return -1;
	if (config_has_builtin() && add_server(cfg, BUILTIN_SERVER, true) == NULL)
		return -1;
	return 0;
}

/* "uid 1000 (name)" for a message. */
static void
owner_text(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, size, "%s (uid %ld)", pw ? pw->pw_name : "?", (long)uid);
}

/* One path component: 0 when only root can change it, -1 (printed). */
static int
component_trusted(const char *path, const struct stat *st, bool dir,
    const char *what, const char *top)
{
	char who[128];
	struct group *gr;

	if (st->st_uid != 0) {
		owner_text(st->st_uid, who, sizeof who);
		log_error("%s %s: %s is owned by %s, not root; refusing to use it as root",
		    what, top, path, who);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    (dir && (st->st_mode & S_ISVTX)))
		return 0;
	gr = getgrgid(st->st_gid);
	log_error("%s %s: %s is writable by %s (mode %04o, group %s); refusing to use it as root",
	    what, top, path, st->st_mode & S_IWOTH ? "every user" : "its group",
	    (unsigned)(st->st_mode & 07777), gr ? gr->gr_name : "?");
	return -1;
}

/* dir and every directory above it; 0 or -1 (printed).  dir is
 * resolved first; one that does not exist holds nothing to trust. */
static int
chain_trusted(const char *dir, const char *what, const char *top)
{
	char *real = realpath(dir, NULL);
	struct stat st;
	int rc = 0;

	if (real == NULL)
		return 0;
	for (;;) {
		char *slash;

		if (stat(real, &st) == 0 &&
		    component_trusted(real, &st, true, what, top) < 0) {
			rc = -1;
			break;
		}
		if (strcmp(real, "/") == 0)
			break;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(real);
	return rc;
}

int
path_trusted_by_root(const char *path, const char *what)
{
	char *copy, *real;
	struct stat st;
	int rc;

	if (geteuid() != 0)
		return 0;
	/* where the name lives (a symbolic link can be replaced there) */
	copy = strdup(path);
	if (copy == NULL)
		return -1;
	rc = chain_trusted(dirname(copy), what, path);
	free(copy);
	if (rc < 0)
		return -1;
	/* and what it names, with the directories above that */
	real = realpath(path, NULL);
	if (real == NULL)
		return 0;	/* absent: the defaults apply */
	if (stat(real, &st) == 0)
		rc = component_trusted(real, &st, S_ISDIR(st.st_mode), what, path);
	if (rc == 0) {
		copy = strdup(real);
		rc = copy != NULL ? chain_trusted(dirname(copy), what, path) : -1;
		free(copy);
	}
	free(real);
	return rc;
}

int
config_load(const char *path, bool must_exist, struct config *cfg)
{
	struct parse *p;
	int rc;

	if (set_defaults(cfg, path) < 0) {
		log_error("%s: out of memory", path);
		config_free(cfg);
		return -1;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL) {
		log_error("%s: out of memory", path);
		config_free(cfg);
		return -1;
	}
	p->path = path;
	p->cfg = cfg;
	/* root runs the file's `asterisk =`: only root may write it */
	if (path_trusted_by_root(path, "configuration file") < 0) {
		free(p);
		config_free(cfg);
		return -1;
	}
	p->file = fopen(path, "r");
	if (p->file == NULL) {
		if (errno == ENOENT && !must_exist) {
			free(p);
			return 0;	/* the default file may be absent */
		}
		log_error("%s: %s", path, strerror(errno));
		free(p);
		config_free(cfg);
		return -1;
	}
	cfg->file_found = true;
	rc = ini_parse_stream(reader, p, handler, p);
	if (ferror(p->file) && !p->error)
		parse_error(p, p->line, "read error");
	fclose(p->file);
	if (rc > 0 && !p->error)
		parse_error(p, rc, "malformed line (expected [section], name = value or a ; comment)");
	else if (rc < 0 && !p->error)
		parse_error(p, 0, "cannot read the file");
	check_sections(p);
	server_conf_free(&p->dev_beacon);
	if (p->error) {
		free(p);
		config_free(cfg);
		return -1;
	}
	free(p);
	return 0;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; cfg->servers != NULL && i < cfg->nservers; i++)
		server_conf_free(&cfg->servers[i]);
	free(cfg->servers);
	free(cfg->path);
	free(cfg->private_name);
	free(cfg->asterisk);
	free(cfg->control_socket);
	free(cfg->state_dir);
	free(cfg->metrics_file);
	memset(cfg, 0, sizeof *cfg);
}

const struct server_conf *
config_find_server(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nservers; i++)
		if (strcmp(cfg->servers[i].name, name) == 0)
			return &cfg->servers[i];
	return NULL;
}

char *
config_server_names(const struct config *cfg)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < cfg->nservers; i++)
		len += strlen(cfg->servers[i].name) + 2;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < cfg->nservers; i++) {
		if (i > 0)
			strcat(out, ", ");
		strcat(out, cfg->servers[i].name);
	}
	return out;
}
