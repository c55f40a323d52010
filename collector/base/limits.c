/*
 * Per-address rate limits (COLLECTOR.md §4), in memory only.
 *
 * Each limit is a fixed window that opens at an address's first counted
 * request: up to `limit` requests are allowed until start + window, and
 * Retry-After is the time left until then.  (A window per address, not
 * one aligned to the clock, so that no instant frees every address at
 * once.)
 *
 * The table has a fixed number of slots, allocated once: open addressing
 * with a keyed hash (a random key, so that nobody can choose addresses
 * that collide) and a bounded probe.  Slots are never emptied; a slot
 * whose windows have both ended holds nothing that matters and is taken
 * over by the next new address that probes it.  When every slot of a
 * probe is live, the least recently used address of that probe is
 * evicted: it starts over with fresh counters.  That is the choice that
 * keeps the service up under a flood of addresses (refusing new addresses
 * instead would let anyone with many addresses lock everybody out); the
 * price is that an address may get a fresh window early, which is why the
 * table is big (65,536 slots of about 80 bytes: 5 MiB) and the probe long
 * enough that this only happens when tens of thousands of addresses are
 * live at the same time.
 *
 * IPv6 addresses count per /64 (limits_address_key): an address of its
 * own costs nothing to someone who holds a /64.
 *
 * One mutex guards the table: a lookup is a few dozen memory reads, far
 * cheaper than the TLS handshake and the request it belongs to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "limits.h"

#define SLOTS 65536		/* a power of two */
#define PROBE 32		/* slots looked at per address */
#define KEY_LEN LIMITS_KEY_LEN

#define HOUR 3600
#define MINUTE 60

struct window {
	time_t start;		/* 0: not open */
	long count;
};

struct slot {
	char key[KEY_LEN];	/* "" = never used */
	uint64_t used;		/* the table's tick at its last request */
	struct window reg;	/* registrations, per hour */
	struct window req;	/* requests, per minute */
	struct window login;	/* wrong passwords, per hour */
};

struct rate_limits {
	pthread_mutex_t lock;
	long reg_limit;
	long req_limit;
	long login_limit;
	uint64_t seed[2];
	uint64_t tick;		/* counts requests: an exact "least recent" */
	struct slot *slots;
};

struct rate_limits *
rate_limits_new(long registrations_per_hour, long requests_per_minute)
{
	struct rate_limits *rl = calloc(1, sizeof *rl);

	if (rl == NULL)
		return NULL;
	rl->slots = calloc(SLOTS, sizeof *rl->slots);
	if (rl->slots == NULL || pthread_mutex_init(&rl->lock, NULL) != 0) {
		free(rl->slots);
		free(rl);
		return NULL;
	}
	rl->reg_limit = registrations_per_hour > 0 ? registrations_per_hour : 0;
	rl->req_limit = requests_per_minute > 0 ? requests_per_minute : 0;
	/* Without random bytes the hash is still correct, only guessable. */
	if (getrandom(rl->seed, sizeof rl->seed, GRND_NONBLOCK) !=
	    (ssize_t)sizeof rl->seed) {
		rl->seed[0] = (uint64_t)(uintptr_t)rl ^ 0x9e3779b97f4a7c15u;
		rl->seed[1] = (uint64_t)time(NULL);
	}
	return rl;
}

void
rate_limits_free(struct rate_limits *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	free(rl);
}

/* The canonical text of addr (limits.h): inet_ntop of what inet_pton
 * reads, with IPv4-mapped IPv6 addresses as plain IPv4 (a dual-stack
 * socket gives "::ffff:192.0.2.1" for the client that also connects as
 * "192.0.2.1") and other IPv6 addresses cut to their /64. */
void
limits_address_key(const char *addr, char key[KEY_LEN])
{
	unsigned char bin[16];
	size_t n;

	memset(key, 0, KEY_LEN);
	if (addr == NULL)
		addr = "";
	if (inet_pton(AF_INET6, addr, bin) == 1) {
		static const unsigned char mapped[12] =
		    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(bin, mapped, sizeof mapped) == 0) {
			if (inet_ntop(AF_INET, bin + 12, key, KEY_LEN) != NULL)
				return;
		} else {
			memset(bin + 8, 0, 8);	/* the /64 */
			if (inet_ntop(AF_INET6, bin, key, KEY_LEN) != NULL)
				return;
		}
	} else if (inet_pton(AF_INET, addr, bin) == 1 &&
	    inet_ntop(AF_INET, bin, key, KEY_LEN) != NULL)
		return;
	n = strnlen(addr, KEY_LEN - 1);
	memcpy(key, addr, n);
	key[n] = '\0';
	if (n == 0)
		key[0] = '-';
}

/* A keyed FNV-1a variant with a final mix: good enough spread, and the
 * random seed keeps collisions unpredictable. */
static size_t
hash(const struct rate_limits *rl, const char *key)
{
	uint64_t h = rl->seed[0] ^ 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3u;
	}
	h ^= rl->seed[1];
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return (size_t)(h & (SLOTS - 1));
}

/* True when the window w of length len has ended (or never opened). */
static bool
window_over(const struct window *w, long len, time_t now)
{
	return w->start == 0 || now >= w->start + len || now < w->start;
}

/* The slot of key, or the one it takes over; never NULL. */
static struct slot *
find_slot(struct rate_limits *rl, const char *key, time_t now)
{
	size_t h = hash(rl, key);
	struct slot *free_slot = NULL, *oldest = NULL, *s;

	for (size_t i = 0; i < PROBE; i++) {
		s = &rl->slots[(h + i) & (SLOTS - 1)];
		if (s->key[0] == '\0') {
			/* never used: key is not further on */
			if (free_slot == NULL)
				free_slot = s;
			break;
		}
		if (strcmp(s->key, key) == 0)
			return s;
		if (free_slot == NULL && window_over(&s->reg, HOUR, now) &&
		    window_over(&s->req, MINUTE, now) &&
		    window_over(&s->login, HOUR, now))
			free_slot = s;
		if (oldest == NULL || s->used < oldest->used)
			oldest = s;
	}
	s = free_slot != NULL ? free_slot : oldest;
	memset(s, 0, sizeof *s);
	memcpy(s->key, key, KEY_LEN);
	return s;
}

/* Count one event in w (limit per len seconds); 0 or the Retry-After. */
static long
count(struct window *w, long limit, long len, time_t now)
{
	if (window_over(w, len, now)) {
		w->start = now;
		w->count = 0;
	}
	if (w->count >= limit) {
		long left = (long)(w->start + len - now);

		return left >= 1 ? left : 1;
	}
	w->count++;
	return 0;
}

/* The two entry points: which window, and its limit. */
static long
account(struct rate_limits *rl, const char *addr, time_t now, bool reg)
{
	long limit = reg ? rl->reg_limit : rl->req_limit;
	char key[KEY_LEN];
	struct slot *s;
	long wait;

	if (limit == 0)
		return 0;
	if (now <= 0)
		now = 1;	/* start == 0 means "not open" */
	limits_address_key(addr, key);
	pthread_mutex_lock(&rl->lock);
	s = find_slot(rl, key, now);
	s->used = ++rl->tick;
	wait = reg ? count(&s->reg, limit, HOUR, now) :
	    count(&s->req, limit, MINUTE, now);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

long
rate_limits_request(struct rate_limits *rl, const char *addr, time_t now)
{
	return account(rl, addr, now, false);
}

long
rate_limits_register(struct rate_limits *rl, const char *addr, time_t now)
{
	return account(rl, addr, now, true);
}

void
rate_limits_set_logins(struct rate_limits *rl, long failed_per_hour)
{
	pthread_mutex_lock(&rl->lock);
	rl->login_limit = failed_per_hour > 0 ? failed_per_hour : 0;
	pthread_mutex_unlock(&rl->lock);
}

/* The login window of addr, under the lock: wait (count = false) or count
 * one failure (count = true); 0 or the seconds until the window ends. */
static long
login(struct rate_limits *rl, const char *addr, time_t now, bool add)
{
	char key[KEY_LEN];
	struct slot *s;
	long wait = 0;

	if (now <= 0)
		now = 1;
	limits_address_key(addr, key);
	pthread_mutex_lock(&rl->lock);
	if (rl->login_limit > 0) {
		s = find_slot(rl, key, now);
		s->used = ++rl->tick;
		if (add) {
			wait = count(&s->login, rl->login_limit, HOUR, now);
		} else if (!window_over(&s->login, HOUR, now) &&
		    s->login.count >= rl->login_limit) {
			wait = (long)(s->login.start + HOUR - now);
			if (wait < 1)
				wait = 1;
		}
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

long
rate_limits_login_wait(struct rate_limits *rl, const char *addr, time_t now)
{
	return login(rl, addr, now, false);
}

void
rate_limits_login_failed(struct rate_limits *rl, const char *addr, time_t now)
{
	(void)login(rl, addr, now, true);
}
