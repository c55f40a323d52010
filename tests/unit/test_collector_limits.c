/* Unit tests: the per-address rate limits (COLLECTOR.md §4): windows,
 * Retry-After, independence of addresses and of the two limits, a table
 * that stays bounded under a flood of addresses, and threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../collector/base/limits.h"
#include "unit.h"

#define T0 ((time_t)1795000000)

static void
test_requests(void)
{
	struct rate_limits *rl = rate_limits_new(20, 3);
	int allowed = 0;

	CHECK(rl != NULL);
	/* 3 per minute: the 4th waits for the window opened at T0 */
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 10), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 20), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 20), 40);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 59), 1);
	/* a refused request does not move the window */
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 59), 1);
	/* the window frees at exactly start + 60 */
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 60), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 61), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 62), 0);
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 + 62), 58);
	/* other addresses are counted apart */
	CHECK_INT(rate_limits_request(rl, "192.0.2.2", T0 + 62), 0);
	CHECK_INT(rate_limits_request(rl, "2001:db8::1", T0 + 62), 0);
	/* registrations are a separate counter: not touched by requests */
	CHECK_INT(rate_limits_register(rl, "192.0.2.1", T0 + 62), 0);
	/* the same address in other spellings is the same address */
	CHECK_INT(rate_limits_request(rl, "::ffff:192.0.2.1", T0 + 63), 57);
	CHECK_INT(rate_limits_request(rl, "2001:db8::1", T0 + 62), 0);
	CHECK_INT(rate_limits_request(rl, "2001:0db8:0000::0001", T0 + 62), 0);
	CHECK_INT(rate_limits_request(rl, "2001:DB8::1", T0 + 62), 60);
	/* a clock that goes back opens a new window rather than a huge wait */
	CHECK_INT(rate_limits_request(rl, "192.0.2.1", T0 - 1000), 0);
	/* an empty or odd address is counted like any other */
	for (int i = 0; i < 5; i++)
		if (rate_limits_request(rl, "", T0) == 0)
			allowed++;
	CHECK_INT(allowed, 3);
	allowed = 0;
	for (int i = 0; i < 5; i++)
		if (rate_limits_request(rl, "unix:/run/x.sock-and-a-very-long-name-beyond-46-bytes", T0) == 0)
			allowed++;
	CHECK_INT(allowed, 3);
	rate_limits_free(rl);
}

static void
test_registrations(void)
{
	struct rate_limits *rl = rate_limits_new(2, 0);

	CHECK_INT(rate_limits_register(rl, "198.51.100.7", T0), 0);
	CHECK_INT(rate_limits_register(rl, "198.51.100.7", T0 + 100), 0);
	CHECK_INT(rate_limits_register(rl, "198.51.100.7", T0 + 100), 3500);
	CHECK_INT(rate_limits_register(rl, "198.51.100.7", T0 + 3599), 1);
	CHECK_INT(rate_limits_register(rl, "198.51.100.7", T0 + 3600), 0);
	CHECK_INT(rate_limits_register(rl, "198.51.100.8", T0 + 100), 0);
	/* requests unlimited (0) */
	for (int i = 0; i < 10000; i++)
		if (rate_limits_request(rl, "198.51.100.7", T0) != 0) {
			CHECK(!"an unlimited request was refused");
			break;
		}
	rate_limits_free(rl);

	/* both 0: nothing is ever refused; negative is taken as 0 */
	rl = rate_limits_new(0, -5);
	CHECK(rl != NULL);
	long refused = 0;
	for (int i = 0; i < 1000; i++)
		refused += rate_limits_register(rl, "203.0.113.1", T0) +
		    rate_limits_request(rl, "203.0.113.1", T0);
	CHECK_INT(refused, 0);
	rate_limits_free(rl);
	rate_limits_free(NULL);
}

/* A flood of distinct addresses: far more than the table's slots.  It
 * must not grow (it is allocated once; ASan would see an overrun), the
 * newest addresses must still be limited, and an address seen long ago
 * may have been evicted (a fresh window), never wrongly refused. */
static void
test_bounded(void)
{
	struct rate_limits *rl = rate_limits_new(0, 1);
	char addr[64];
	long refused_new = 0, limited_recent = 0;
	const int flood = 300000;

	CHECK_INT(rate_limits_request(rl, "10.255.255.254", T0), 0);
	for (int i = 0; i < flood; i++) {
		snprintf(addr, sizeof addr, "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		if (rate_limits_request(rl, addr, T0 + 1) != 0)
			refused_new++;
	}
	/* every new address had its first request allowed */
	CHECK_INT(refused_new, 0);
	/* the most recent ones are still remembered and limited */
	for (int i = flood - 1000; i < flood; i++) {
		snprintf(addr, sizeof addr, "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		if (rate_limits_request(rl, addr, T0 + 2) != 0)
			limited_recent++;
	}
	CHECK_INT(limited_recent, 1000);
	/* expired entries are reused: a minute later all start afresh */
	refused_new = 0;
	for (int i = 0; i < flood; i++) {
		snprintf(addr, sizeof addr, "198.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		if (rate_limits_request(rl, addr, T0 + 120) != 0)
			refused_new++;
	}
	CHECK_INT(refused_new, 0);
	rate_limits_free(rl);
}

struct worker {
	struct rate_limits *rl;
	int id;
	long allowed;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char addr[64];

	for (int i = 0; i < 20000; i++) {
		/* every thread hits one shared address and many of its own */
		if (rate_limits_request(w->rl, "192.0.2.99", T0) == 0)
			w->allowed++;
		snprintf(addr, sizeof addr, "10.%d.%d.%d", w->id, (i >> 8) & 255, i & 255);
		(void)rate_limits_register(w->rl, addr, T0);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct rate_limits *rl = rate_limits_new(5, 100);
	struct worker w[4];
	pthread_t t[4];
	long total = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .rl = rl, .id = i };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += w[i].allowed;
	}
	/* exactly the limit, whatever the interleaving */
	CHECK_INT(total, 100);
	rate_limits_free(rl);
}

/* IPv6 counts per /64 (COLLECTOR.md §4): a thousand addresses of one /64
 * are one client; the next /64 is another. */
static void
test_ipv6_prefix(void)
{
	struct rate_limits *rl = rate_limits_new(20, 3);
	char key[LIMITS_KEY_LEN], addr[64];
	int allowed = 0;

	limits_address_key("2001:db8:1:2:a:b:c:d", key);
	CHECK_STR(key, "2001:db8:1:2::");
	limits_address_key("2001:0DB8:0001:0002::1", key);
	CHECK_STR(key, "2001:db8:1:2::");
	limits_address_key("::ffff:198.51.100.7", key);
	CHECK_STR(key, "198.51.100.7");
	limits_address_key("198.51.100.7", key);
	CHECK_STR(key, "198.51.100.7");
	limits_address_key("::1", key);
	CHECK_STR(key, "::");
	limits_address_key("", key);
	CHECK_STR(key, "-");
	limits_address_key(NULL, key);
	CHECK_STR(key, "-");
	CHECK(rl != NULL);
	for (int i = 1; i <= 1000; i++) {
		snprintf(addr, sizeof addr, "2001:db8:1:2:%x:%x::1", i, i * 7);
		if (rate_limits_request(rl, addr, T0) == 0)
			allowed++;
	}
	CHECK_INT(allowed, 3);
	CHECK_INT(rate_limits_request(rl, "2001:db8:1:3::1", T0), 0);
	allowed = 0;
	for (int i = 1; i <= 100; i++) {
		snprintf(addr, sizeof addr, "2001:db8:9:9::%x", i);
		if (rate_limits_register(rl, addr, T0) == 0)
			allowed++;
	}
	CHECK_INT(allowed, 20);
	rate_limits_free(rl);
}

int
main(void)
{
	test_requests();
	test_ipv6_prefix();
	test_registrations();
	test_bounded();
	test_threads();
	UNIT_END("collector_limits");
}
