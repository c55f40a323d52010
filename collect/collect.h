/* Collecting the report: Asterisk (through asterisk/), uname(2) and
 * /proc, and turning it into the protocol's Server JSON. */
#ifndef BEACON_COLLECT_H
#define BEACON_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "../asterisk/asterisk.h"
#include "../common/text.h"

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
int collect_report(const struct ast_client *ac, const char *const *extra,
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

#endif
