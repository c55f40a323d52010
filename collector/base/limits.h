/* Per-address request counters of COLLECTOR.md §4, in memory only (never
 * written anywhere), bounded in size whatever the number of addresses.
 * Thread-safe: every MHD thread counts into the same table. */
#ifndef COLLECTOR_LIMITS_H
#define COLLECTOR_LIMITS_H

#include <stddef.h>
#include <time.h>

struct rate_limits;

/* Bytes of an address key, with its NUL (INET6_ADDRSTRLEN). */
#define LIMITS_KEY_LEN 46

/*
 * The key every per-address limit counts under (COLLECTOR.md §4): an IPv4
 * address as itself, an IPv4-mapped IPv6 address as the IPv4 one, an IPv6
 * address as its /64 ("2001:db8:1:2::" for 2001:db8:1:2:a:b:c:d: one
 * subscriber usually holds a whole /64), anything else as its first
 * LIMITS_KEY_LEN - 1 bytes, and "" as "-".
 */
void limits_address_key(const char *addr, char key[LIMITS_KEY_LEN]);

/* A table for the two limits (0 = no limit).  NULL when out of memory.
 * Freed with rate_limits_free. */
struct rate_limits *rate_limits_new(long registrations_per_hour,
    long requests_per_minute);
void rate_limits_free(struct rate_limits *rl);

/*
 * Count one request (any method) from addr, a numeric address as text.
 * Returns 0 when it is allowed, otherwise the seconds (>= 1) until the
 * next would be: the Retry-After of the 429.
 */
long rate_limits_request(struct rate_limits *rl, const char *addr, time_t now);

/* The same for one registration (POST /servers). */
long rate_limits_register(struct rate_limits *rl, const char *addr, time_t now);

/* Wrong fleet-view passwords (failed_logins_per_address_per_hour; 0, the
 * value of a new table, = no limit). */
void rate_limits_set_logins(struct rate_limits *rl, long failed_per_hour);

/* 0 when addr may try a password now, else the seconds (>= 1) until it
 * may (its failures of the hour reached the limit).  Counts nothing. */
long rate_limits_login_wait(struct rate_limits *rl, const char *addr,
    time_t now);

/* Count one wrong password from addr. */
void rate_limits_login_failed(struct rate_limits *rl, const char *addr,
    time_t now);

#endif
