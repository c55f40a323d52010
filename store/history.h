/* What beacon-report keeps over months (CONTRACT §9), beside the stamps
 * of store.h: each server's retry state, the archive of the body it last
 * accepted, the clone check's AstDB key `machine`, and the metrics file.
 * Every file is replaced atomically; nothing here exits. */
#ifndef BEACON_HISTORY_H
#define BEACON_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* ---- retry state and back-off (retry.c) ------------------------------ */

#define RETRY_FIRST (60 * 60)		/* back-off after one failure */
#define RETRY_MAX (24 * 60 * 60)	/* the longest back-off we choose */
#define RETRY_AFTER_MIN 60		/* a server's Retry-After, clamped */
#define RETRY_AFTER_MAX (7 * 24 * 60 * 60)

/* One server's retry state, kept in state_dir as "NAME.retry" (JSON). */
struct retry_state {
	unsigned failures;	/* unreached runs in a row; 0: not failing */
	time_t since;		/* the first of them (when failures > 0) */
	time_t until;		/* no attempt before this (when failures > 0) */
	bool has_attempt;
	time_t last_attempt;	/* the last run that tried to send */
	int last_exit_code;	/* that attempt's outcome: 0, 5 or 6; -1 none */
};

/* The back-off after the n-th failure in a row (n >= 1): 1 h, 2 h, 4 h,
 * ... at most RETRY_MAX. */
long retry_backoff(unsigned n);

/* A Retry-After in seconds, clamped to RETRY_AFTER_MIN..RETRY_AFTER_MAX. */
long retry_clamp(long long secs);

/*
 * A Retry-After header value (RFC 9110 §10.2.3): delay-seconds, or an
 * HTTP-date (IMF-fixdate, RFC 850 or asctime form) taken against now.
 * *secs is the wait from now, not yet clamped (negative: in the past).
 * 0, or -1 when value is neither.
 */
int retry_after_parse(const char *value, time_t now, long long *secs);

/*
 * An HTTP-date into *t (UTC).  The three forms of RFC 9110 §5.6.7; the
 * two-digit year of RFC 850 is 1970..2069.  0 or -1.
 */
int http_date_parse(const char *s, time_t *t);

/* Read the retry state of server name (dirfd < 0 or no file: a clean
 * state).  0, or -1 on a read error (printed); an unreadable file is
 * warned about and counts as clean. */
int retry_read(int dirfd, const char *name, struct retry_state *rs);

/* Record an attempt at now: sent (clears the back-off), rejected (keeps
 * it as it was), or unreached (one more failure; the wait is the
 * server's Retry-After when retry_after >= 0, clamped, otherwise the
 * back-off).  Pure. */
enum attempt_outcome { ATTEMPT_SENT, ATTEMPT_REJECTED, ATTEMPT_UNREACHED };
void retry_record(struct retry_state *rs, enum attempt_outcome outcome,
    time_t now, long long retry_after);

/* The state file's text into rs (pure; fuzzed).  0, or -1 when it is
 * not a retry state (rs then clean). */
int retry_parse(const char *text, struct retry_state *rs);

/* Replace the state file atomically.  0 or -1 (printed). */
int retry_write(int dirfd, const char *name, const struct retry_state *rs);

/* Forget it (--reset).  0 or -1. */
int retry_remove(int dirfd, const char *name);

/* ---- the archive of accepted bodies (archive.c) ---------------------- */

/* The exact body server name last accepted, "NAME.sent.json", 0600. */
int archive_write(int dirfd, const char *name, const char *body);
/* 1 with *body (caller frees), 0 when there is none, -1 (printed). */
int archive_read(int dirfd, const char *name, char **body);
int archive_remove(int dirfd, const char *name);

/* ---- clones: the AstDB key `machine` (machine.c) --------------------- */

#define MACHINE_HASH_LEN 32	/* hex digits kept of the SHA-256 */

/* This machine's id (/etc/machine-id, else /var/lib/dbus/machine-id; a
 * TEST_CLOCK build takes the file from BEACON_REPORT_MACHINE_ID) into
 * buf.  0, or -1 when there is none (nothing is then stored or checked). */
int machine_id_read(char *buf, size_t size);

/* The salted hash kept as `machine` for server_id: the first 32 hex
 * digits of SHA-256("beacon-report machine\n" ID "\n" SERVER_ID "\n").
 * 0 or -1. */
int machine_hash(const char *machine_id, const char *server_id,
    char out[MACHINE_HASH_LEN + 1]);

/* The value of /family/machine in a `database show beacon` listing into
 * out: true when present (any value; one that is not 32 hex digits
 * counts as a mismatch). */
bool astdb_parse_machine(const char *show_text, const char *family,
    char *out, size_t size);

/* `database put family machine HASH`, checked by its answer and a
 * read-back.  0, -1 (printed) or ASTDB_NO_ASTERISK. */
struct ast_client;
int astdb_store_machine(const struct ast_client *ac, const char *family,
    const char *hash);

/* ---- metrics (metrics_file.c) ---------------------------------------- */

/* One server's line of the metrics file; a has_* false leaves it out. */
struct metrics_server {
	const char *name;
	bool has_success;
	time_t last_success;
	bool has_attempt;
	time_t last_attempt;
	unsigned failures;
	time_t next_due;
	int last_exit_code;	/* -1: none yet */
};

/* The node_exporter textfile text for servers[0..n-1]; caller frees.
 * NULL on ENOMEM. */
char *metrics_text(const struct metrics_server *servers, size_t n);

/* Write text to path atomically, unless the file already holds exactly
 * that text.  1 written, 0 unchanged, -1 (printed). */
int metrics_file_update(const char *path, const char *text);

#endif
