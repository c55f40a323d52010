/* Collecting the report: Asterisk (through `asterisk -rx`), uname(2) and
 * /proc, and turning it into the protocol's Server JSON. */
#ifndef BEACON_COLLECT_H
#define BEACON_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "../common/text.h"
#include "../store/store.h"

#define ASTERISK_TIMEOUT_MS 10000	/* per run of commands */
#define ASTERISK_OUTPUT_CAP (4u << 20)	/* bytes read from one command */

/* ---- running `asterisk -rx` ------------------------------------------ */

enum ast_status {
	AST_OK = 0,		/* the command ran; out holds its stdout */
	AST_NOT_FOUND,		/* the binary could not be executed */
	AST_FAILED,		/* exited non-zero (not running, no permission...) */
	AST_TIMEOUT,		/* killed at the deadline */
	AST_TOO_BIG,		/* output over ASTERISK_OUTPUT_CAP */
	AST_SYSTEM		/* fork/pipe/poll failed */
};

/* The answer to one command; out and err are owned by the struct. */
struct ast_reply {
	enum ast_status status;
	char *out;		/* stdout, NUL-terminated (NULL unless AST_OK) */
	size_t out_len;
	char *err;		/* one printable line for the user on failure:
				 * Asterisk's own stderr words when it gave any */
	long duration_ms;
};

/*
 * Run `bin -rx commands[i]` for every i at the same time (fork/execvp, no
 * shell), each with its own pipe, all bounded by one ASTERISK_TIMEOUT_MS
 * deadline and each by ASTERISK_OUTPUT_CAP.  Children still running at the
 * deadline are killed and reaped.  Fills replies[0..n-1] (which the
 * caller frees with ast_reply_free).  Returns 0 when every command ran,
 * -1 when at least one did not (see each reply's status).
 */
int asterisk_run(const char *bin, const char *const *commands, size_t n,
    struct ast_reply *replies);

void ast_reply_free(struct ast_reply *reply);

/* asterisk_run with its own deadline in milliseconds (asterisk_run uses
 * ASTERISK_TIMEOUT_MS); lets tests try the time-out quickly. */
int asterisk_run_timed(const char *bin, const char *const *commands,
    size_t n, struct ast_reply *replies, int timeout_ms);

/* ---- the report ------------------------------------------------------ */

struct module_info {
	char *name;		/* "res_pjsip.so" */
	char *description;
	char *status;		/* "Running", "Not Running", ... ; NULL if absent */
	char *support_level;	/* "core", "extended", ... ; NULL if absent */
};

/* Everything gathered for one run; all strings owned by the struct.
 * A have_* flag false means the field is left out of the report. */
struct report {
	char *version_name;	/* "Asterisk 22.10.1"; never NULL after collect */
	char *version_number;	/* "221001" */

	struct module_info *modules;
	size_t nmodules;
	bool have_modules;

	bool have_startup_time;
	time_t startup_time;
	bool have_last_reload_time;
	time_t last_reload_time;

	bool have_calls_active;
	long calls_active;
	bool have_calls_processed;
	long calls_processed;

	/* uname(2) */
	char *sys_name, *release, *os_version, *machine;
	/* /proc: anonymous extras, -1 when unknown */
	long cpu_count;
	long long memory_total_kb;
	long long system_uptime;	/* seconds */
};

void report_free(struct report *r);

/* ---- parsers: pure functions from Asterisk's text to fields ---------- */

/* `core show version` → "Asterisk 22.10.1" and "221001".  Only the
 * version words are kept (never the build host).  0 or -1. */
int parse_core_show_version(const char *text, char **name, char **number);

/* `module show` → modules (caller frees each with the array).  0 on
 * success (zero modules is a success), -1 when the text is not a module
 * list at all. */
int parse_module_show(const char *text, struct module_info **modules,
    size_t *n);

/* `core show uptime seconds` → seconds since start and since last
 * reload; each -1 when absent.  0 if at least the uptime was read. */
int parse_core_show_uptime(const char *text, long long *uptime,
    long long *since_reload);

/* `core show calls` → active and processed; each -1 when absent. 0 if at
 * least one was read. */
int parse_core_show_calls(const char *text, long *active, long *processed);

/* ---- the machine: uname(2) and /proc (system.c) --------------------- */

/* /proc/meminfo text → MemTotal in kB.  0 or -1. */
int proc_parse_meminfo(const char *text, long long *total_kb);

/* /proc/uptime text → whole seconds since boot.  0 or -1. */
int proc_parse_uptime(const char *text, long long *seconds);

/* /proc/cpuinfo text → number of "processor" entries, -1 when none. */
long proc_parse_cpuinfo(const char *text);

/*
 * CONTRACT §6: what is sent is coarse, so that a PBX's reports cannot be
 * linked across --reset by exact values.  Memory in whole multiples of
 * 256 MiB (down; at least one unit when there is any), seconds in whole
 * hours (down), times rounded down to the hour.  Negative: unknown, kept.
 */
#define COARSE_MEMORY_KB (256LL * 1024)
long long coarse_memory_kb(long long kb);
long long coarse_seconds(long long secs);
time_t coarse_time(time_t t);

/* Fill r's operating-system fields from uname(2) and /proc: sys_name,
 * release, os_version, machine (never the node name), cpu_count,
 * memory_total_kb, system_uptime (both coarse).  What cannot be read is
 * left NULL/-1.
 * Returns -1 only when out of memory (printed). */
int collect_system(struct report *r);

/* The words of Asterisk's durations ("1 minute, 16 seconds"), largest
 * first; a year is 365 days there.  Read by the parser, written by --show. */
#define DURATION_UNITS 6
struct duration_unit {
	const char *word;
	long long secs;
};
extern const struct duration_unit duration_units[DURATION_UNITS];

/* ---- collection and the JSON body ------------------------------------ */

/*
 * Collect the whole report into r: the Asterisk commands (plus the extra
 * commands in extra[0..nextra-1], run in the same batch, e.g. `database
 * show beacon`; their replies go to extra_replies), uname and /proc.
 * Unparseable optional fields are left out with a warning.  Returns 0, or
 * -1 when Asterisk could not be asked or its version not parsed: the
 * error has been printed.  The caller frees r (and extra_replies).
 * now is the run's clock: Asterisk's relative uptimes become times from it.
 */
int collect_report(const char *asterisk_bin, const char *const *extra,
    size_t nextra, struct ast_reply *extra_replies, time_t now,
    struct report *r);

/* The Server object for r (new reference), keys in the protocol's order;
 * server_id and private_name may be NULL (left out).  NULL on ENOMEM. */
json_t *report_to_json(const struct report *r, const char *server_id,
    const char *private_name);

/*
 * The protocol's Server JSON for r, compact, in a fixed key order, so that
 * the same inputs always give the same bytes.  server_id and
 * private_name may be NULL (left out).  Returns a string the caller
 * frees, or NULL when out of memory.
 */
char *report_body(const struct report *r, const char *server_id,
    const char *private_name);

/* ---- --show (show.c) ------------------------------------------------- */

/* One server's stored state for --show.  An empty string in ids means
 * absent; ids may be NULL (nothing stored). */
struct show_server {
	const char *name;
	const char *url;
	const struct server_ids *ids;
	bool has_last;		/* it has reported before, at last */
	time_t last;
	bool due;		/* due now; otherwise at next */
	time_t next;
};

/* Print r and the servers like `beacon show server` (CONTRACT §8), in 80
 * columns, headed by whether reporting is enabled; bold headings only when
 * color; now (the run's clock) gives "Running for". */
void show_print(FILE *out, const struct report *r,
    const struct show_server *servers, size_t n, bool enabled, bool color,
    time_t now);

/* {"report":{...},"servers":[{"name","url","server_id","token_id",
 * "token_issued","last_report","next_due","due"}]} (new reference),
 * absent values as null.  NULL on ENOMEM. */
json_t *show_json(const struct report *r, const struct show_server *servers,
    size_t n, const char *private_name);

#endif
