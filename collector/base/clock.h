/* The collector's clock.  A TEST_CLOCK=1 build reads the time from the
 * file named by BEACON_COLLECTOR_CLOCK_FILE (one RFC 3339 UTC time) at
 * every call, so that tests can age tokens and servers; any other build,
 * or no such variable, uses time(NULL). */
#ifndef COLLECTOR_CLOCK_H
#define COLLECTOR_CLOCK_H

#include <time.h>

/* Now.  A clock file that cannot be read or parsed falls back to
 * time(NULL) (a test will notice). */
time_t collector_now(void);

#endif
