/* The privacy guard of CONTRACT §9: before a report leaves, every string
 * in it but private_name is checked for this machine's host name, an
 * IPv4 or IPv6 address, a MAC address, an e-mail address and a sip:/sips:
 * URI, and such a string is replaced whole by GUARD_REDACTED. */
#ifndef BEACON_GUARD_H
#define BEACON_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "collect.h"

#define GUARD_REDACTED "[redacted]"

/* ---- the matchers: pure, each true when s holds such a thing ---------- */

bool guard_has_ipv4(const char *s);
/* Eight groups, or fewer around one "::"; a time "08:49:37" is none. */
bool guard_has_ipv6(const char *s);
/* Six pairs of hex digits joined by ':' or by '-'. */
bool guard_has_mac(const char *s);
bool guard_has_email(const char *s);
bool guard_has_sip_uri(const char *s);
/* host (and its first label) as a whole word, any case; host "" or
 * NULL never matches. */
bool guard_has_host(const char *s, const char *host);

/* What s gives away ("a host name", "an IPv4 address", ...), or NULL. */
const char *guard_check(const char *s, const char *host);

/* This machine's name as gethostname(2) gives it (a TEST_CLOCK build
 * takes BEACON_REPORT_HOSTNAME).  0, or -1 (buf then ""). */
int guard_hostname(char *buf, size_t size);

/*
 * Replace in r every string that guard_check flags by GUARD_REDACTED,
 * with a warning naming the field ("asterisk.modules[3].description")
 * and what it held.  In the Asterisk version only, a dotted quad is a
 * version (1.8.32.3), not an address.  Returns the number replaced, -1 when out of memory.
 */
int guard_report(struct report *r, const char *host);

#endif
