/* The privacy guard (CONTRACT §9).  The matchers are deliberately
 * simple scanners, not validators: a false positive costs one redacted
 * module description, a false negative a host's address on someone
 * else's server. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/log.h"
#include "guard.h"

#ifndef TEST_CLOCK
#define TEST_CLOCK 0
#endif

/* A character that continues a word: a match must not be inside one. */
static bool
wordch(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool
hexch(char c)
{
	return isxdigit((unsigned char)c) != 0;
}

/* An IPv4 address at p: 1-3 digits up to 255, four times, joined by '.';
 * its length, or 0. */
static size_t
ipv4_at(const char *p)
{
	const char *q = p;

	for (int part = 0; part < 4; part++) {
		int n = 0, v = 0;

		if (part > 0 && *q++ != '.')
			return 0;
		while (n < 3 && isdigit((unsigned char)*q)) {
			v = v * 10 + (*q++ - '0');
			n++;
		}
		if (n == 0 || v > 255 || isdigit((unsigned char)*q))
			return 0;
	}
	if (*q == '.' && isdigit((unsigned char)q[1]))
		return 0;	/* five parts: a version number */
	return (size_t)(q - p);
}

bool
guard_has_ipv4(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			continue;
		if (p > s && (isdigit((unsigned char)p[-1]) || p[-1] == '.' ||
		    isalpha((unsigned char)p[-1])))
			continue;
		if (ipv4_at(p) > 0)
			return true;
	}
	return false;
}

/* Is the run [p, p+len) of hex digits and colons an IPv6 address? */
static bool
ipv6_run(const char *p, size_t len)
{
	size_t groups = 0, glen = 0, doubles = 0;

	if (len < 2)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != ':') {
			if (++glen > 4)
				return false;
			continue;
		}
		if (glen > 0)
			groups++;
		else if (i > 0 && p[i - 1] == ':')
			doubles++;	/* "::" */
		else if (i + 1 >= len || p[i + 1] != ':')
			return false;	/* a lone ':' with no group before it */
		glen = 0;
	}
	if (glen > 0)
		groups++;
	else if (p[len - 1] == ':' && (len < 2 || p[len - 2] != ':'))
		return false;	/* ends in a single ':' */
	if (doubles > 1)
		return false;
	if (doubles == 1)
		return groups <= 7 && memmem(p, len, ":::", 3) == NULL;
	return groups == 8;
}

bool
guard_has_ipv6(const char *s)
{
	const char *p = s;

	while (*p != '\0') {
		size_t len = 0;

		if (!hexch(*p) && *p != ':') {
			p++;
			continue;
		}
		while (hexch(p[len]) || p[len] == ':')
			len++;
		/* a whole word: "std::vector" is not one */
		if ((p == s || !wordch(p[-1])) && !wordch(p[len]) &&
		    memchr(p, ':', len) != NULL && ipv6_run(p, len))
			return true;
		/* an embedded IPv4 tail ("::ffff:10.0.0.1") is the IPv4 matcher's */
		p += len;
	}
	return false;
}

bool
guard_has_mac(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		char sep;
		const char *q = p;
		int pairs = 0;

		if (p > s && (wordch(p[-1]) || p[-1] == ':' || p[-1] == '-'))
			continue;
		if (!hexch(p[0]) || !hexch(p[1]) || (p[2] != ':' && p[2] != '-'))
			continue;
		sep = p[2];
		while (pairs < 6 && hexch(q[0]) && hexch(q[1])) {
			q += 2;
			pairs++;
			if (pairs < 6) {
				if (*q != sep)
					break;
				q++;
			}
		}
		if (pairs == 6 && !wordch(*q) && *q != sep)
			return true;
	}
	return false;
}

static bool
local_ch(char c)
{
	return isalnum((unsigned char)c) || (c != '\0' && strchr("._%+-", c));
}

bool
guard_has_email(const char *s)
{
	for (const char *at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@')) {
		const char *q = at + 1;
		size_t labels = 0, last = 0;

		if (at == s || !local_ch(at[-1]))
			continue;
		for (;;) {
			size_t n = 0;

			while (isalnum((unsigned char)q[n]) || q[n] == '-')
				n++;
			if (n == 0)
				break;
			labels++;
			last = n;
			q += n;
			if (*q != '.' || !isalnum((unsigned char)q[1]))
				break;
			q++;
		}
		if (labels >= 2 && last >= 2)
			return true;
	}
	return false;
}

bool
guard_has_sip_uri(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		size_t n;

		if (p > s && wordch(p[-1]))
			continue;
		if (strncasecmp(p, "sips:", 5) == 0)
			n = 5;
		else if (strncasecmp(p, "sip:", 4) == 0)
			n = 4;
		else
			continue;
		if (p[n] != '\0' && !isspace((unsigned char)p[n]))
			return true;
	}
	return false;
}

/* A host name's characters: a match is a whole word of them. */
static bool
hostch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static bool
has_word(const char *s, const char *word, size_t wlen)
{
	if (wlen == 0)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (strncasecmp(p, word, wlen) != 0)
			continue;
		if ((p == s || !hostch(p[-1])) && !hostch(p[wlen]))
			return true;
	}
	return false;
}

bool
guard_has_host(const char *s, const char *host)
{
	size_t label;

	if (host == NULL || *host == '\0')
		return false;
	label = strcspn(host, ".");
	return has_word(s, host, strlen(host)) ||
	    (host[label] == '.' && has_word(s, host, label));
}

const char *
guard_check(const char *s, const char *host)
{
	if (s == NULL)
		return NULL;
	if (guard_has_host(s, host))
		return "the host name";
	if (guard_has_email(s))
		return "an e-mail address";
	if (guard_has_sip_uri(s))
		return "a SIP URI";
	if (guard_has_mac(s))
		return "a MAC address";
	if (guard_has_ipv4(s))
		return "an IPv4 address";
	if (guard_has_ipv6(s))
		return "an IPv6 address";
	return NULL;
}

int
guard_hostname(char *buf, size_t size)
{
#if TEST_CLOCK
	/* Test builds only, as the clock: the guard tests pick the name. */
	const char *env = getenv("BEACON_REPORT_HOSTNAME");

	if (env != NULL) {
		snprintf(buf, size, "%s", env);
		return 0;
	}
#endif
	if (size == 0)
		return -1;
	if (gethostname(buf, size) < 0) {
		buf[0] = '\0';
		return -1;
	}
	buf[size - 1] = '\0';
	return 0;
}

/* Redact *field when it gives something away; 1 when it did, 0 when
 * not, -1 on ENOMEM. */
static int
guard_field(char **field, const char *host, const char *name)
{
	const char *what = guard_check(*field, host);
	char *red;

	/* Asterisk 1.8's versions have four parts ("Asterisk 1.8.32.3"):
	 * in the version, which the parser cut to its version words, a
	 * dotted quad is a version, not an address */
	if (what != NULL && strncmp(name, "asterisk.version.", 17) == 0 &&
	    strcmp(what, "an IPv4 address") == 0 && !guard_has_ipv6(*field))
		what = NULL;

	if (what == NULL)
		return 0;
	red = strdup(GUARD_REDACTED);
	if (red == NULL)
		return -1;
	log_warn("privacy guard: %s held %s; sent as \"%s\"", name, what,
	    GUARD_REDACTED);
	free(*field);
	*field = red;
	return 1;
}

int
guard_report(struct report *r, const char *host)
{
	struct {
		char **field;
		const char *name;
	} top[] = {
		{&r->version_name, "asterisk.version.name"},
		{&r->version_number, "asterisk.version.number"},
		{&r->sys_name, "operating_system.sys_name"},
		{&r->release, "operating_system.release"},
		{&r->os_version, "operating_system.version"},
		{&r->machine, "operating_system.machine"},
	};
	int n = 0, rc;

	for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
		if ((rc = guard_field(top[i].field, host, top[i].name)) < 0)
			return -1;
		n += rc;
	}
	for (size_t i = 0; i < r->nmodules; i++) {
		struct module_info *m = &r->modules[i];
		char **fields[4] = {&m->name, &m->description, &m->status,
		    &m->support_level};
		static const char *const keys[4] = {"name", "description",
		    "status", "support_level"};

		for (size_t k = 0; k < 4; k++) {
			char name[80];

			snprintf(name, sizeof name, "asterisk.modules[%zu].%s", i,
			    keys[k]);
			if ((rc = guard_field(fields[k], host, name)) < 0)
				return -1;
			n += rc;
		}
	}
	return n;
}
