/* Out of memory in the configuration loader (issue 11: add_server leaked
 * the name when the url's strdup failed).  Linked with
 * -Wl,--wrap=strdup,--wrap=free (Makefile: UNIT_LDFLAGS_test_alloc): the
 * Nth strdup fails, and every string strdup gave must have been freed
 * when config_load returns -1 (or after config_free). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../conf/config.h"
#include "unit.h"

char *__real_strdup(const char *s);
void __real_free(void *p);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

#define MAX_LIVE 256

static bool tracking;
static int calls, fail_at;
static void *live[MAX_LIVE];
static size_t nlive;

char *
__wrap_strdup(const char *s)
{
	char *p;

	if (!tracking)
		return __real_strdup(s);
	if (++calls == fail_at) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_strdup(s);
	if (p != NULL && nlive < MAX_LIVE)
		live[nlive++] = p;
	return p;
}

void
__wrap_free(void *p)
{
	for (size_t i = 0; tracking && p != NULL && i < nlive; i++) {
		if (live[i] == p) {
			live[i] = live[--nlive];
			break;
		}
	}
	__real_free(p);
}

/* Load path with the nth strdup failing; the strings left unfreed. */
static size_t
leaked_when_failing(const char *path, bool must_exist, int nth, int *rc)
{
	struct config cfg;

	calls = 0;
	fail_at = nth;
	nlive = 0;
	tracking = true;
	*rc = config_load(path, must_exist, &cfg);
	if (*rc == 0)
		config_free(&cfg);
	tracking = false;
	return nlive;
}

int
main(void)
{
	char path[] = "/tmp/beacon-alloc-XXXXXX";
	int fd = mkstemp(path), rc, failures = 0;
	FILE *f;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return 2;
	fputs("[general]\nprivate_name = p\n\n[mylab]\ntype = server\n"
	    "url = https://127.0.0.1:9\nproxy = http://127.0.0.1:3128\n"
	    "\n[other]\ntype = server\nurl = https://127.0.0.1:10\n", f);
	fclose(f);
	/* every strdup of a load fails in turn: never a leak */
	for (int nth = 1; nth <= 40; nth++) {
		size_t left = leaked_when_failing(path, true, nth, &rc);
		if (rc < 0)
			failures++;
		if (left != 0)
			fprintf(stderr, "strdup #%d failing leaves %zu strings\n", nth, left);
		CHECK_INT(left, 0);
	}
	CHECK(failures > 0);	/* some strdup did fail the load */
	CHECK_INT(leaked_when_failing(path, true, 0, &rc), 0);
	CHECK_INT(rc, 0);	/* and none failing loads it */
	/* the defaults alone (an absent default file) */
	for (int nth = 1; nth <= 8; nth++)
		CHECK_INT(leaked_when_failing("/nonexistent/beacon.ini", false, nth, &rc), 0);
	unlink(path);
	UNIT_END("alloc");
}
