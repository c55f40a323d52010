/* The token rules of COLLECTOR.md §3 and the v4 UUIDs they are made of. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "token.h"

bool
token_is_valid(const struct token *t, time_t now)
{
	if (t == NULL || t->id[0] == '\0')
		return false;
	/* both bounds written without overflow for any time_t pair */
	return now - t->issued < TOKEN_LIFETIME_S &&
	    t->issued - now <= TOKEN_LIFETIME_S;
}

/* True when presented names t and t is valid.  UUIDs compare without
 * regard to case (RFC 4122 §3). */
static bool
presents(const struct token *t, const char *presented, time_t now)
{
	return token_is_valid(t, now) && strlen(presented) == UUID_LEN &&
	    strcasecmp(t->id, presented) == 0;
}

enum token_verdict
token_check(const struct server_tokens *st, const char *presented, time_t now)
{
	if (!token_is_valid(&st->current, now) &&
	    !token_is_valid(&st->previous, now))
		return TOKEN_FREE;
	if (presented == NULL || presented[0] == '\0')
		return TOKEN_REJECT;
	if (presents(&st->current, presented, now) ||
	    presents(&st->previous, presented, now))
		return TOKEN_ACCEPT;
	return TOKEN_REJECT;
}

int
token_renew(struct server_tokens *st, time_t now)
{
	struct token fresh;

	if (token_is_valid(&st->current, now) &&
	    st->current.issued - now + TOKEN_LIFETIME_S > TOKEN_RENEW_BELOW_S)
		return 0;
	if (uuid_v4_new(fresh.id) != 0)
		return -1;
	fresh.issued = now;
	st->previous = st->current;
	st->current = fresh;
	return 1;
}

int
uuid_v4_new(char out[UUID_LEN + 1])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			out[0] = '\0';
			return -1;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* variant 10xx */
	snprintf(out, UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

bool
uuid_is_v4(const char *s)
{
	return uuid_is_valid(s) && s[14] == '4' &&
	    strchr("89abAB", s[19]) != NULL;
}
