/* Messages to the user: errors and warnings on stderr, one line each,
 * prefixed "beacon-report: "; progress with -v; syslog for reports sent,
 * warnings and failures.  No function here exits. */
#ifndef BEACON_LOG_H
#define BEACON_LOG_H

#include <stdbool.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Set once by main: verbose enables log_verbose(); quiet (-q) silences
 * log_notice() and keeps log_warn() to syslog; use_syslog opens the syslog connection (ident
 * "beacon-report", facility daemon). */
void log_init(bool verbose, bool quiet, bool use_syslog);
void log_close(void);

/* "beacon-report: <message>" on stderr, and to syslog. */
void log_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* A warning: the same, but under -q syslog alone (CONTRACT: -q prints
 * nothing on success, warnings included; they still go to syslog), so
 * that cron mails only what went wrong. */
void log_warn(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* A warning about something the admin chose and --show-config shows
 * (e.g. an interval raised to 60): stderr, but not under -q, so that
 * cron does not mail it every hour. */
void log_notice(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Progress on stderr, only with -v. */
void log_verbose(const char *fmt, ...) PRINTF_LIKE(1, 2);
bool log_is_verbose(void);

/* One line to syslog only (a report sent), at LOG_INFO. */
void log_syslog_info(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* A failure to syslog only, at LOG_ERR: what -q keeps off stderr while
 * a server has been failing for less than warn_after (CONTRACT §9). */
void log_syslog_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
