/* The token rules of COLLECTOR.md §3 ("Spoofing" in the design): pure
 * functions of the stored tokens, the presented one and the time, so that
 * every storage backend decides the same way inside its transaction. */
#ifndef COLLECTOR_TOKEN_H
#define COLLECTOR_TOKEN_H

#include <stdbool.h>
#include <time.h>

#include "../../common/text.h"

#define TOKEN_LIFETIME_S (48L * 3600)	/* valid for 48 h from issued */
#define TOKEN_RENEW_BELOW_S (24L * 3600) /* renewed when less is left */

/* One token; id[0] == '\0' means "none". */
struct token {
	char id[UUID_LEN + 1];
	time_t issued;
};

/* What a server holds: the current token and the one before it. */
struct server_tokens {
	struct token current;
	struct token previous;
};

enum token_verdict {
	TOKEN_ACCEPT,	/* a valid token was presented */
	TOKEN_FREE,	/* no token is valid: anything (or nothing) is accepted */
	TOKEN_REJECT,	/* a token is valid and it was not presented: 401 */
};

/* True when t exists and now < issued + 48 h (and issued <= now + 48 h,
 * so a token from a clock far in the future does not live forever). */
bool token_is_valid(const struct token *t, time_t now);

/* The verdict for presented (NULL or "" when the query had none). */
enum token_verdict token_check(const struct server_tokens *st,
    const char *presented, time_t now);

/*
 * After an accepted update: when the current token has 24 h or less left
 * (or is none or expired), make a new one from the kernel's random source,
 * move current to previous, and return 1; 0 when the current one stays;
 * -1 when no random bytes could be had (nothing changed).
 */
int token_renew(struct server_tokens *st, time_t now);

/* A new random v4 UUID (getrandom) in lower case; 0, or -1 on failure. */
int uuid_v4_new(char out[UUID_LEN + 1]);

/* True when s is a v4 UUID: 8-4-4-4-12 hex, version nibble 4, variant 8-b. */
bool uuid_is_v4(const char *s);

#endif
