/*
 * Asterisk's release lifecycle (COLLECTOR.md §6): the data file
 * (conf/asterisk-lifecycle.ini, INI read with libinih) and the rules that
 * say, for a version a PBX reports and a day, whether it is fully
 * supported, gets security fixes only, or is past its end of life.  A
 * version the file does not name is "unknown", never "supported".
 * Nothing here exits or logs; the caller prints the error.
 */
#ifndef COLLECTOR_LIFECYCLE_H
#define COLLECTOR_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

enum lc_status { LC_UNKNOWN, LC_SUPPORTED, LC_SECURITY, LC_EOL, LC__MAX };
enum lc_kind { LC_LTS, LC_STANDARD, LC_CERTIFIED };

#define LC_NAME_MAX 31		/* "1.8", "22", "certified/18.9" */
#define LC_SOURCE_MAX 300	/* bytes of a source URL */
#define LC_MAX_SERIES 256	/* rows a file may hold */
#define LC_NOTICE_ID_MAX 63
#define LC_NOTICE_TEXT_MAX 200	/* CONTRACT.md §6: a notice's text */

/* One release series: a major version ("16", "1.8") or a certified
 * series ("certified/18.9").  The dates are UTC days "YYYY-MM-DD". */
struct lc_series {
	char name[LC_NAME_MAX + 1];
	enum lc_kind kind;
	char released[11];
	char security[11];	/* end of full support: security fixes only from this day */
	char eol[11];		/* end of life: no fixes at all from this day */
	char source[LC_SOURCE_MAX + 1];
};

/* A loaded file; lifecycle_free frees it. */
struct lifecycle {
	struct lc_series *series;
	size_t n;
	char last_checked[11];	/* when the rows were last compared with their sources */
};

/*
 * Read the file at path.  A malformed file (unknown section or key, a
 * missing or bad value, dates out of order, a series named twice, no
 * last_checked) is refused: -1 with "FILE:LINE: message" (or "FILE:
 * message") in err, sanitised for a terminal.  0 and *out on success.
 */
int lifecycle_load(const char *path, struct lifecycle **out, char *err,
    size_t errlen);

/* The same from an open stream; name is what the messages call it. */
int lifecycle_load_stream(FILE *f, const char *name, struct lifecycle **out,
    char *err, size_t errlen);

void lifecycle_free(struct lifecycle *lc);

/* The collector's policy at start: load the file `lifecycle =` names
 * (configured, "" for none) or else the installed one (installed).  A
 * malformed file, or a named one that cannot be read: -1 with err set (a
 * configuration error).  An installed one that is missing, or data last
 * checked more than LIFECYCLE_STALE_DAYS before now: 0 with a one-line
 * warning in warn ("" otherwise); *out is NULL when nothing was loaded
 * (every version then counts as unknown). */
#define LIFECYCLE_STALE_DAYS 180
int lifecycle_load_configured(const char *configured, const char *installed,
    time_t now, struct lifecycle **out, char *warn, size_t warnlen,
    char *err, size_t errlen);

/* The series a version belongs to, as its name says ("22.10.1",
 * "Asterisk 16.30.1", "1.8.32.3", "certified/18.9-cert5", "18.9-cert5"),
 * or, when the name cannot tell, its number (MMmmpp: 160301 is 16,
 * 10803xx is 1.8); NULL when the file does not know it or lc is NULL.
 * number <= 0: not given. */
const struct lc_series *lifecycle_find(const struct lifecycle *lc,
    const char *version, long number);

/* The key the name maps to ("16", "1.8", "certified/18.9") into out;
 * false when the name is not a release version (a git build, empty). */
bool lifecycle_series_key(const char *version, char out[LC_NAME_MAX + 1]);

/* The status of a series on the UTC day of now (LC_UNKNOWN for NULL). */
enum lc_status lifecycle_series_status(const struct lc_series *s, time_t now);

/* lifecycle_find, then lifecycle_series_status. */
enum lc_status lifecycle_status(const struct lifecycle *lc,
    const char *version, long number, time_t now);

/* "supported", "security", "eol", "unknown". */
const char *lifecycle_status_name(enum lc_status st);

/* The status a name stands for (as lifecycle_status_name spells it);
 * false when it is none of them. */
bool lifecycle_status_parse(const char *name, enum lc_status *out);

/* "lts", "standard", "certified". */
const char *lifecycle_kind_name(enum lc_kind k);

/* The notice for a PBX on this version at now, when its series is past
 * end of life or in security fixes only: true, with a stable id
 * ("lifecycle-16-eol", "lifecycle-21-security",
 * "lifecycle-certified-18.9-eol") and a one-line text of at most
 * LC_NOTICE_TEXT_MAX bytes.  false (nothing to tell) when supported or
 * unknown. */
bool lifecycle_notice(const struct lifecycle *lc, const char *version,
    long number, time_t now, char id[LC_NOTICE_ID_MAX + 1],
    char text[LC_NOTICE_TEXT_MAX + 1]);

/* Days between last_checked and now (negative when in the future). */
long lifecycle_age_days(const struct lifecycle *lc, time_t now);

#endif
