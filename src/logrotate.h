/*
 * logrotate.h - the calendar side of log rotation (logging.md section 2,
 * F-LOG-02..04): rotation periods, their local-time boundaries and the
 * file name of a period.
 *
 * Pure functions: the caller passes the broken-down local time, so the
 * arithmetic is the same in every time zone and unit tests need no
 * clock.  Local wall-clock time is treated as a plain calendar (a DST
 * shift moves the boundary with the wall clock, as 3proxy does).
 */
#ifndef PX_LOGROTATE_H
#define PX_LOGROTATE_H

#include <stddef.h>
#include <time.h>

enum logrot_period {
	LOGROT_NONE, LOGROT_MINUTE, LOGROT_HOUR, LOGROT_DAY, LOGROT_WEEK,
	LOGROT_MONTH, LOGROT_YEAR
};

/* `log FILE X`: the first character of X, case-insensitive (C, H, D, W,
 * M, Y); anything else (or NULL) is no rotation (config.md 4.4). */
enum logrot_period logrot_period_parse(const char *arg);

/* The start of the period that contains t: smaller fields zeroed, for a
 * week the Sunday before (or of) t.  out is normalized (tm_wday and
 * tm_yday set, tm_isdst -1). */
void logrot_period_start(const struct tm *t, enum logrot_period p,
			 struct tm *out);

/* Move a period start by n periods (n may be negative); calendar
 * arithmetic, so a month is a month and a year a year. */
void logrot_period_shift(struct tm *t, enum logrot_period p, int n);

/* The file name for the period starting at start (unix time tstart,
 * for %t).  A pattern with '%' is a template (%y %Y %m %o %d %H %M %S
 * %t %%; other escapes are kept as they are); otherwise the period's
 * suffix (.YYYY, .YYYY.MM, .YYYY.MM.DD, .YYYY.MM.DD-HH,
 * .YYYY.MM.DD-HH.MM) is appended.  Returns 0, or -1 if it does not fit
 * in cap bytes. */
int logrot_name(char *out, size_t cap, const char *pattern,
		enum logrot_period p, const struct tm *start, time_t tstart);

#endif
