/* Unit tests: the collector's token rules (COLLECTOR.md §3), its v4 UUIDs,
 * and the update decision shared by the store backends. */
#include <stdlib.h>
#include <string.h>

#include "../../collector/base/clock.h"
#include "../../collector/store/store_backend.h"
#include "../../collector/store/token.h"
#include "unit.h"

#define H 3600L
#define T0 ((time_t)1795000000)	/* 2026-11-18, any fixed time */

static struct token
tok(const char *id, time_t issued)
{
	struct token t;

	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%s", id);
	t.issued = issued;
	return t;
}

#define A "11111111-1111-4111-8111-111111111111"
#define B "22222222-2222-4222-9222-222222222222"
#define C "33333333-3333-4333-a333-333333333333"

static void
test_valid(void)
{
	struct token t = tok(A, T0), none = tok("", T0);

	CHECK(token_is_valid(&t, T0));
	CHECK(token_is_valid(&t, T0 + 48 * H - 1));
	CHECK(!token_is_valid(&t, T0 + 48 * H));	/* exactly 48 h: expired */
	CHECK(!token_is_valid(&t, T0 + 100 * H));
	CHECK(!token_is_valid(&none, T0));
	CHECK(!token_is_valid(NULL, T0));
	/* issued in the future: valid up to 48 h ahead, not beyond */
	CHECK(token_is_valid(&t, T0 - 1));
	CHECK(token_is_valid(&t, T0 - 48 * H));
	CHECK(!token_is_valid(&t, T0 - 48 * H - 1));
}

static void
test_check(void)
{
	struct server_tokens st;

	/* never had a token: anything, or nothing */
	memset(&st, 0, sizeof st);
	CHECK_INT(token_check(&st, NULL, T0), TOKEN_FREE);
	CHECK_INT(token_check(&st, "", T0), TOKEN_FREE);
	CHECK_INT(token_check(&st, A, T0), TOKEN_FREE);

	/* current valid */
	st.current = tok(A, T0);
	CHECK_INT(token_check(&st, A, T0 + H), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, "11111111-1111-4111-8111-111111111111", T0), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, "11111111-1111-4111-8111-11111111111A", T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, "11111111-1111-4111-8111-1111111111", T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, "11111111-1111-4111-8111-1111111111111", T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, NULL, T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, "", T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, B, T0), TOKEN_REJECT);
	/* upper case is the same UUID */
	st.current = tok("abcdefab-1111-4111-8111-111111111111", T0);
	CHECK_INT(token_check(&st, "ABCDEFAB-1111-4111-8111-111111111111", T0), TOKEN_ACCEPT);

	/* the previous token is accepted while valid, and so is current */
	st.previous = tok(A, T0);
	st.current = tok(B, T0 + 24 * H);
	CHECK_INT(token_check(&st, A, T0 + 30 * H), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, B, T0 + 30 * H), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, C, T0 + 30 * H), TOKEN_REJECT);
	/* previous expired, current still valid: previous refused */
	CHECK_INT(token_check(&st, A, T0 + 48 * H), TOKEN_REJECT);
	CHECK_INT(token_check(&st, B, T0 + 48 * H), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, B, T0 + 72 * H - 1), TOKEN_ACCEPT);
	/* both expired: free again, whatever is presented */
	CHECK_INT(token_check(&st, B, T0 + 72 * H), TOKEN_FREE);
	CHECK_INT(token_check(&st, C, T0 + 72 * H), TOKEN_FREE);
	CHECK_INT(token_check(&st, NULL, T0 + 72 * H), TOKEN_FREE);

	/* only the previous valid (current none) */
	st.previous = tok(A, T0);
	st.current = tok("", 0);
	CHECK_INT(token_check(&st, A, T0 + H), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, "", T0 + H), TOKEN_REJECT);

	/* a token from far in the future does not count */
	st.previous = tok("", 0);
	st.current = tok(A, T0 + 49 * H);
	CHECK_INT(token_check(&st, NULL, T0), TOKEN_FREE);
	st.current = tok(A, T0 + 48 * H);
	CHECK_INT(token_check(&st, NULL, T0), TOKEN_REJECT);
	CHECK_INT(token_check(&st, A, T0), TOKEN_ACCEPT);
}

static void
test_renew(void)
{
	struct server_tokens st;

	/* none: a new one, previous stays none */
	memset(&st, 0, sizeof st);
	CHECK_INT(token_renew(&st, T0), 1);
	CHECK(uuid_is_v4(st.current.id));
	CHECK_INT(st.current.issued, T0);
	CHECK_STR(st.previous.id, "");

	/* more than 24 h left: kept */
	st.current = tok(A, T0);
	st.previous = tok(B, T0 - 24 * H);
	CHECK_INT(token_renew(&st, T0 + 24 * H - 1), 0);
	CHECK_STR(st.current.id, A);
	CHECK_STR(st.previous.id, B);
	/* exactly 24 h left: renewed, the old one becomes previous */
	CHECK_INT(token_renew(&st, T0 + 24 * H), 1);
	CHECK_STR(st.previous.id, A);
	CHECK_INT(st.previous.issued, T0);
	CHECK(uuid_is_v4(st.current.id));
	CHECK(strcmp(st.current.id, A) != 0);
	CHECK_INT(st.current.issued, T0 + 24 * H);
	/* and the old one is still accepted until its 48 h are up */
	CHECK_INT(token_check(&st, A, T0 + 48 * H - 1), TOKEN_ACCEPT);
	CHECK_INT(token_check(&st, A, T0 + 48 * H), TOKEN_REJECT);

	/* expired: renewed */
	st.current = tok(A, T0);
	CHECK_INT(token_renew(&st, T0 + 100 * H), 1);
	CHECK_STR(st.previous.id, A);
	CHECK_INT(st.current.issued, T0 + 100 * H);

	/* issued in the future (within 48 h): more than 24 h left, kept */
	st.current = tok(A, T0 + 10 * H);
	CHECK_INT(token_renew(&st, T0), 0);
	CHECK_STR(st.current.id, A);
	/* too far in the future: not valid, replaced */
	st.current = tok(A, T0 + 49 * H);
	CHECK_INT(token_renew(&st, T0), 1);
	CHECK_INT(st.current.issued, T0);
}

static void
test_uuid(void)
{
	char a[UUID_LEN + 1], b[UUID_LEN + 1];
	bool all_ok = true;

	CHECK_INT(uuid_v4_new(a), 0);
	CHECK_INT(uuid_v4_new(b), 0);
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(strlen(a), UUID_LEN);
	for (int i = 0; i < 1000; i++) {
		if (uuid_v4_new(a) != 0 || !uuid_is_v4(a) || a[14] != '4' || strchr("89ab", a[19]) == NULL)
			all_ok = false;
		for (const char *c = a; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				all_ok = false;	/* lower case */
	}
	CHECK(all_ok);

	CHECK(uuid_is_v4("3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d17"));
	CHECK(uuid_is_v4("3F1E8A52-7C2B-4D9E-BA61-0B5C4E2F9D17"));
	CHECK(uuid_is_v4("00000000-0000-4000-8000-000000000000"));
	CHECK(uuid_is_v4("ffffffff-ffff-4fff-bfff-ffffffffffff"));
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-1d9e-8a61-0b5c4e2f9d17"));	/* version 1 */
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-5d9e-8a61-0b5c4e2f9d17"));	/* version 5 */
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-4d9e-7a61-0b5c4e2f9d17"));	/* variant 0 */
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-4d9e-ca61-0b5c4e2f9d17"));	/* variant 110 */
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d1"));	/* short */
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d177"));	/* long */
	CHECK(!uuid_is_v4("3f1e8a527c2b-4d9e-8a61-0b5c4e2f9d17a"));	/* dash */
	CHECK(!uuid_is_v4("{3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d1}"));
	CHECK(!uuid_is_v4("3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d1g"));
	CHECK(!uuid_is_v4(""));
	CHECK(!uuid_is_v4(NULL));
}

/* store_decide_update (store.c) builds on the rules above. */
static void
test_decide(void)
{
	struct store_job job;
	struct server_state st;

	memset(&job, 0, sizeof job);
	memset(&st, 0, sizeof st);
	job.now = T0;
	job.min_update_interval_s = 30 * 60;
	CHECK_INT(store_decide_update(&job, false, &st), STORE_NOT_FOUND);

	/* never had a token, first update: accepted, one issued */
	CHECK_INT(store_decide_update(&job, true, &st), STORE_OK);
	CHECK(uuid_is_v4(job.token.id));
	CHECK_STR(job.token.id, st.tokens.current.id);
	CHECK_INT(st.reports, 1);
	CHECK_INT(st.last_update, T0);

	/* too soon: nothing changes, the retry is the time left */
	job.now = T0 + 60;
	snprintf(job.presented, sizeof job.presented, "%s", st.tokens.current.id);
	CHECK_INT(store_decide_update(&job, true, &st), STORE_TOO_SOON);
	CHECK_INT(job.retry_after, 30 * 60 - 60);
	CHECK_INT(st.reports, 1);

	/* without the token: 401 */
	job.now = T0 + H;
	job.presented[0] = '\0';
	CHECK_INT(store_decide_update(&job, true, &st), STORE_BAD_TOKEN);
	/* with it: accepted, the token is kept (47 h left) */
	snprintf(job.presented, sizeof job.presented, "%s", st.tokens.current.id);
	CHECK_INT(store_decide_update(&job, true, &st), STORE_OK);
	CHECK_STR(job.token.id, job.presented);
	CHECK_INT(st.reports, 2);
}

static void
test_clock(void)
{
	char path[] = "/tmp/beacon-unit-clock-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	time_t now = time(NULL), t;

	if (fd < 0)
		exit(2);
	close(fd);
	unsetenv("BEACON_COLLECTOR_CLOCK_FILE");
	t = collector_now();
	CHECK(t >= now && t <= now + 5);
	setenv("BEACON_COLLECTOR_CLOCK_FILE", path, 1);
	f = fopen(path, "w");
	fputs("2026-11-22T18:00:00Z\n", f);
	fclose(f);
#if TEST_CLOCK
	CHECK_INT(collector_now(), 1795370400);
	f = fopen(path, "w");
	fputs("2030-01-01T00:00:00Z", f);
	fclose(f);
	CHECK_INT(collector_now(), 1893456000);	/* read again at every call */
	f = fopen(path, "w");
	fputs("not a time\n", f);
	fclose(f);
	t = collector_now();
	CHECK(t >= now && t <= now + 5);	/* falls back */
#else
	t = collector_now();
	CHECK(t >= now && t <= now + 5);	/* only a TEST_CLOCK build reads it */
#endif
	unlink(path);
	t = collector_now();
	CHECK(t >= now && t <= now + 5);
	unsetenv("BEACON_COLLECTOR_CLOCK_FILE");
}

int
main(void)
{
	test_valid();
	test_check();
	test_renew();
	test_uuid();
	test_decide();
	test_clock();
	UNIT_END("collector_token");
}
