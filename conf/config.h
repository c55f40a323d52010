/* The configuration file of CONTRACT §3, read with libinih. */
#ifndef BEACON_CONFIG_H
#define BEACON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define BUILTIN_SERVER "beacon"
#define MIN_INTERVAL 60		/* minutes; the floor for every server */
#define CONTROL_SOCKET_MAX 108	/* sizeof sun_path, with its NUL */

/* One server to report to: the built-in one or a [collector] section. */
struct server_conf {
	char *name;		/* section name, [A-Za-z0-9_.-]; "beacon" for the built-in */
	char *url;		/* https base URL, without "/servers" or a trailing '/' */
	char *proxy;		/* NULL when unset; may hold a password: never print it */
	char *ca_path;		/* NULL when unset: CA file or hashed directory */
	char *private_name;	/* NULL when unset: [general]'s applies */
	unsigned interval;	/* minutes, >= MIN_INTERVAL */
	unsigned start_time;	/* minutes after local midnight, 0..1439 */
	bool verify_cert;	/* always true for the built-in server */
	bool builtin;
	bool enabled;		/* false: this server alone is never reported to */
};

/* The effective configuration; every string is owned by the struct. */
struct config {
	char *path;		/* the file read, or the default path */
	bool file_found;	/* false when the default file was absent */
	bool enabled;
	char *private_name;	/* NULL when unset */
	char *asterisk;		/* binary: PATH lookup unless it has a '/' */
	char *control_socket;	/* NULL when unset: `asterisk -rx` is used */
	char *state_dir;
	unsigned timeout;	/* seconds per HTTP request, 1..300 */
	char *metrics_file;	/* NULL when unset: node_exporter textfile */
	bool clone_detection;	/* keep and check the AstDB key `machine` */
	unsigned warn_after;	/* hours a server may fail quietly under -q */
	struct server_conf *servers;	/* the built-in server first, if any */
	size_t nservers;
};

/*
 * Fill cfg from the file at path (the defaults when path is absent and
 * must_exist is false).  On a bad file prints "FILE:LINE: message" and
 * returns -1; cfg then holds nothing to free.  Run as root, a file (or a
 * directory above it) that a user other than root can write is refused
 * (-1, naming the path and its owner): it names a program to run.  0 on success; the caller
 * frees cfg with config_free().
 */
int config_load(const char *path, bool must_exist, struct config *cfg);

void config_free(struct config *cfg);

/* The server named name, or NULL. */
const struct server_conf *config_find_server(const struct config *cfg,
    const char *name);

/* Names of all servers, comma-separated, for a usage message; caller frees. */
char *config_server_names(const struct config *cfg);

/* Print the effective settings (--show-config), passwords as "****". */
void config_print(const struct config *cfg, bool json);

/*
 * Run as root (euid 0), may path be trusted?  The file itself (when it
 * exists) must be root's and writable by no one else; every directory
 * above it root's and not group- or world-writable, unless sticky (/tmp).
 * what names the path in the message ("configuration file").  0, or -1
 * with the reason printed.  Not root: always 0.
 */
int path_trusted_by_root(const char *path, const char *what);

/* True when this build has the built-in Asterisk Beacon server. */
bool config_has_builtin(void);

#endif
