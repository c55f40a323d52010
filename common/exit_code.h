/* The process exit status of CONTRACT §7, and the per-server results that
 * are combined into it.  Only beacon-report.c turns these into exit(). */
#ifndef BEACON_EXIT_CODE_H
#define BEACON_EXIT_CODE_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_ASTERISK = 4,
	EXIT_UNREACHED = 5,
	EXIT_REJECTED = 6,
	EXIT_STATE = 7,
	EXIT_LOCKED = 8,
	EXIT_NOT_DUE = 9,
	EXIT_DISABLED = 10,
	EXIT__MAX
};

/* What happened to one server in one run (CONTRACT §8 "result"). */
enum server_result {
	RESULT_NONE = 0,	/* not yet decided */
	RESULT_SENT,
	RESULT_NOT_DUE,
	RESULT_UNREACHED,
	RESULT_REJECTED,
	RESULT_WOULD_SEND,
	RESULT_DISABLED,	/* enabled = no in its section: never contacted */
	RESULT__MAX
};

/* Lower-case name of a code ("ok", "not_due", ...); never NULL. */
const char *exit_code_name(enum exit_code code);

/* One-line meaning of a code, as in the man page's EXIT STATUS. */
const char *exit_code_meaning(enum exit_code code);

/* Name of a result ("sent", "unreached", ...); never NULL. */
const char *server_result_name(enum server_result result);

/*
 * Combine the results of the servers that were due into the run's status:
 * all sent → OK; some sent → PARTIAL; none sent and one rejected →
 * REJECTED; none sent → UNREACHED; none due → NOT_DUE.
 * would_send (dry run) counts as sent; disabled counts as not due.
 */
enum exit_code exit_code_combine(const enum server_result *results, int n);

#endif
