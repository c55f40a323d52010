/* The collector's configuration (COLLECTOR.md §2): one INI file read with
 * libinih, defaults for every key, and errors as "FILE:LINE: message".
 * Nothing here exits or logs; the caller prints the error. */
#ifndef COLLECTOR_CONFIG_H
#define COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct lifecycle;
struct geoip;

#define COLLECTOR_MAX_LISTEN 16
#define COLLECTOR_MAX_PROXIES 64

/* Every field is owned by the struct; collector_config_free frees them. */
struct collector_config {
	char *path;			/* the file that was read */

	/* [collector] */
	char *listen[COLLECTOR_MAX_LISTEN];	/* "host:port", "[v6]:port" or "unix:/path" */
	int n_listen;
	bool listen_systemd;		/* listen = systemd: sockets from sd_listen_fds */
	char *tls_cert;
	char *tls_key;
	bool tls;
	char *trusted_proxies[COLLECTOR_MAX_PROXIES];	/* numeric addresses, normalised by inet_pton/ntop */
	int n_trusted_proxies;
	char *database;			/* "sqlite:PATH" or "postgresql://..." */
	int database_line;		/* the line of path that set it, 0 = the default */
	long max_body_kb;
	long request_timeout;		/* seconds */
	long max_connections;
	long max_connections_per_address;	/* 0 = no limit; trusted proxies never counted */
	bool public_stats;
	char *admin_user;
	char *admin_password_hash;	/* "" = no fleet view */
	char *lifecycle;		/* the lifecycle file; "" = the installed one */
	struct lifecycle *lifecycle_data;	/* loaded from it by main (lifecycle_load);
					 * NULL = none: every version unknown */
	char *geoip_database;		/* a MaxMind DB file; "" = no countries */
	int geoip_database_line;	/* the line that set it */
	struct geoip *geoip_data;	/* opened from it by main (geoip_open);
					 * NULL = no countries */
	char *user;			/* started as root: run as this one; "" = stay */
	bool user_set;			/* user was in the file (not the default) */

	/* [limits] */
	long registrations_per_address_per_hour;
	long requests_per_address_per_minute;
	long min_update_interval;	/* minutes */
	long failed_logins_per_address_per_hour;	/* wrong fleet-view passwords; 0 = no limit */

	/* [privacy] */
	long min_group;
	long active_days;
	long established_days;		/* distinct UTC report days before a server
					 * counts in public figures; 0 or 1: at once */
	long retention_days;
	bool log_addresses;
	long history_days;		/* days of daily figures and of each
					 * server's changes kept */
};

/*
 * Fill *cfg with the defaults, then read path over them.  Unknown sections
 * or keys, bad values, a plain-HTTP (tls = no) listener on an address that
 * is not loopback or unix:, and a missing file are errors: returns -1 with
 * "FILE:LINE: message" (or "FILE: message") in err, the values sanitised
 * for a terminal.  0 on success.  *cfg must be freed either way.
 */
int collector_config_load(const char *path, struct collector_config *cfg,
    char *err, size_t errlen);

/* Free every field and zero the struct; NULL-safe. */
void collector_config_free(struct collector_config *cfg);

/* True when a listen spec is loopback (127.0.0.0/8, ::1, localhost) or unix:. */
bool listen_is_local(const char *spec);

#endif
