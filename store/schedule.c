/* The schedule of CONTRACT §5: a server is due once per slot of
 * `interval` minutes counted from `start_time` in local time, and never
 * within 60 minutes of its last report. */
#include "store.h"

#define MIN_GAP (60 * 60)	/* seconds between two reports, always */

/* Minutes since 1970-01-01 00:00 in local time (TZ applies). */
static long long
local_minutes(time_t t)
{
	struct tm tm;
	long long s;

	if (localtime_r(&t, &tm) == NULL)
		return (long long)t / 60;
	s = (long long)t + tm.tm_gmtoff;
	return s >= 0 ? s / 60 : -((-s + 59) / 60);
}

static long long
floor_div(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static long long
slot(time_t t, unsigned interval, unsigned start_time)
{
	return floor_div(local_minutes(t) - (long long)start_time, interval);
}

bool
schedule_due(time_t now, bool has_last, time_t last, unsigned interval,
    unsigned start_time)
{
	if (!has_last)
		return true;
	return slot(now, interval, start_time) > slot(last, interval, start_time) &&
	    now - last >= MIN_GAP;
}

bool
schedule_due_forced(time_t now, bool has_last, time_t last, bool builtin)
{
	return !has_last || !builtin || now - last >= MIN_GAP;
}

time_t
schedule_next_forced(time_t last)
{
	return last + MIN_GAP;
}

/* The first whole minute t at which local_minutes(t) >= target, searched
 * near a guess; handles UTC offsets and DST jumps. */
static time_t
first_local_minute(long long target, time_t near)
{
	struct tm tm;
	time_t t = near;

	for (int i = 0; i < 3; i++) {	/* converge on the offset in force */
		long off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
		t = (time_t)(target * 60 - off);
	}
	t -= t % 60;
	for (int i = 0; i < 180 && local_minutes(t) < target; i++)
		t += 60;	/* inside a DST gap: the first minute after it */
	for (int i = 0; i < 180 && local_minutes(t - 60) >= target; i++)
		t -= 60;	/* an earlier minute already qualifies */
	return t;
}

time_t
schedule_next(time_t now, bool has_last, time_t last, unsigned interval,
    unsigned start_time)
{
	long long boundary;
	time_t t;

	if (schedule_due(now, has_last, last, interval, start_time))
		return now;
	boundary = (slot(last, interval, start_time) + 1) * (long long)interval +
	    start_time;
	t = first_local_minute(boundary, now);
	if (t < last + MIN_GAP)
		t = last + MIN_GAP;
	if (t < now)
		t = now;
	return t;
}
