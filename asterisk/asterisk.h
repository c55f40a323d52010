/* Asking Asterisk: a batch of CLI commands, either as `asterisk -rx`
 * processes (process.c) or over Asterisk's control socket (socket.c),
 * with the same deadline, output cap and replies.  A leaf: it sees only
 * common/, and collect/ and store/ both use it. */
#ifndef BEACON_ASTERISK_H
#define BEACON_ASTERISK_H

#include <stddef.h>

#define ASTERISK_TIMEOUT_MS 10000	/* per run of commands */
#define ASTERISK_OUTPUT_CAP (4u << 20)	/* bytes read from one command */

/* How to reach Asterisk (CONTRACT §4); both strings borrowed. */
struct ast_client {
	const char *bin;	/* `asterisk`: PATH lookup unless it has a '/' */
	const char *socket;	/* control_socket; NULL: run `bin -rx` */
};

enum ast_status {
	AST_OK = 0,		/* the command ran; out holds its output */
	AST_NOT_FOUND,		/* the binary could not be executed; no socket */
	AST_FAILED,		/* exited non-zero, refused, no permission... */
	AST_TIMEOUT,		/* no whole answer by the deadline */
	AST_TOO_BIG,		/* output over ASTERISK_OUTPUT_CAP */
	AST_SYSTEM		/* fork/pipe/socket/poll failed */
};

/* The answer to one command; out and err are owned by the struct. */
struct ast_reply {
	enum ast_status status;
	char *out;		/* output, NUL-terminated (NULL unless AST_OK) */
	size_t out_len;
	char *err;		/* one printable line for the user on failure:
				 * Asterisk's own stderr words when it gave any */
	long duration_ms;
};

/*
 * Ask Asterisk commands[i] for every i at the same time (one process or
 * one connection each, no shell), all bounded by one ASTERISK_TIMEOUT_MS
 * deadline and each by ASTERISK_OUTPUT_CAP.  Fills replies[0..n-1]
 * (which the caller frees with ast_reply_free).  Returns 0 when every
 * command was answered, -1 when at least one was not (see each reply's
 * status).  Nothing is printed but -v's progress.
 */
int asterisk_run(const struct ast_client *ac, const char *const *commands,
    size_t n, struct ast_reply *replies);

/* asterisk_run with its own deadline in milliseconds; lets tests try
 * the time-out quickly. */
int asterisk_run_timed(const struct ast_client *ac,
    const char *const *commands, size_t n, struct ast_reply *replies,
    int timeout_ms);

/* How the user knows this way of asking, for messages:
 * "asterisk -rx" or "control socket PATH". */
const char *asterisk_via(const struct ast_client *ac);

void ast_reply_free(struct ast_reply *reply);

/* ---- the two transports (inside asterisk/ and its tests) ------------- */

int ast_process_run(const char *bin, const char *const *commands, size_t n,
    struct ast_reply *replies, int timeout_ms);
int ast_socket_run(const char *path, const char *const *commands, size_t n,
    struct ast_reply *replies, int timeout_ms);

#endif
