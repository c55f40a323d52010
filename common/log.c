/* Messages: stderr for people, syslog for the admin's log files. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static bool verbose_on;
static bool quiet_on;
static bool syslog_on;

void
log_init(bool verbose, bool quiet, bool use_syslog)
{
	verbose_on = verbose;
	quiet_on = quiet;
	syslog_on = use_syslog;
	if (syslog_on)
		openlog("beacon-report", LOG_PID, LOG_DAEMON);
}

void
log_close(void)
{
	if (syslog_on)
		closelog();
	syslog_on = false;
}

static void __attribute__((format(printf, 2, 0)))
vlog_line(int priority, const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	fputs("beacon-report: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (syslog_on && priority <= LOG_WARNING)
		vsyslog(priority, fmt, copy);
	va_end(copy);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_line(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!quiet_on)
		vlog_line(LOG_WARNING, fmt, ap);
	else if (syslog_on)
		vsyslog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	if (quiet_on)
		return;
	va_start(ap, fmt);
	vlog_line(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

bool
log_is_verbose(void)
{
	return verbose_on;
}

void
log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose_on)
		return;
	va_start(ap, fmt);
	vlog_line(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_syslog_info(const char *fmt, ...)
{
	va_list ap;

	if (!syslog_on)
		return;
	va_start(ap, fmt);
	vsyslog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_syslog_error(const char *fmt, ...)
{
	va_list ap;

	if (!syslog_on)
		return;
	va_start(ap, fmt);
	vsyslog(LOG_ERR, fmt, ap);
	va_end(ap);
}
