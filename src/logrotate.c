/*
 * logrotate.c - rotation periods and file names (logging.md section 2).
 *
 * Dates are converted to a day count and back (the proleptic Gregorian
 * algorithm of "chrono-Compatible Low-Level Date Algorithms") instead of
 * using mktime(), which depends on the process time zone.
 */
#include "logrotate.h"

#include <stdio.h>
#include <string.h>

static const char *const month_name[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

enum logrot_period logrot_period_parse(const char *arg)
{
	if (arg == NULL)
		return LOGROT_NONE;
	switch (arg[0]) {
	case 'c': case 'C': return LOGROT_MINUTE;
	case 'h': case 'H': return LOGROT_HOUR;
	case 'd': case 'D': return LOGROT_DAY;
	case 'w': case 'W': return LOGROT_WEEK;
	case 'm': case 'M': return LOGROT_MONTH;
	case 'y': case 'Y': return LOGROT_YEAR;
	default: return LOGROT_NONE;
	}
}

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static long floor_div(long a, long b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Bring every field of t into range (minutes and hours carry into days,
 * months into years) and set tm_wday/tm_yday.  Seconds are kept. */
static void normalize(struct tm *t)
{
	long y = (long)t->tm_year + 1900, mon = t->tm_mon, days, mins;
	long yy, mm, dd;

	y += floor_div(mon, 12);
	mon -= floor_div(mon, 12) * 12;
	mins = (long)t->tm_hour * 60 + t->tm_min;
	days = days_from_civil(y, mon + 1, 1) + t->tm_mday - 1 +
	       floor_div(mins, 1440);
	mins -= floor_div(mins, 1440) * 1440;
	civil_from_days(days, &yy, &mm, &dd);
	t->tm_year = (int)(yy - 1900);
	t->tm_mon = (int)(mm - 1);
	t->tm_mday = (int)dd;
	t->tm_hour = (int)(mins / 60);
	t->tm_min = (int)(mins % 60);
	t->tm_wday = (int)((days % 7 + 11) % 7);   /* 1970-01-01: Thursday */
	t->tm_yday = (int)(days - days_from_civil(yy, 1, 1));
	t->tm_isdst = -1;
}

void logrot_period_start(const struct tm *t, enum logrot_period p,
			 struct tm *out)
{
	*out = *t;
	if (p != LOGROT_NONE)   /* no period: a template keeps %S */
		out->tm_sec = 0;
	normalize(out);   /* tm_wday of the input may be unset */
	switch (p) {
	case LOGROT_YEAR:
		out->tm_mon = 0;
		/* fall through */
	case LOGROT_MONTH:
		out->tm_mday = 1;
		/* fall through */
	case LOGROT_DAY:
		out->tm_hour = 0;
		/* fall through */
	case LOGROT_HOUR:
		out->tm_min = 0;
		break;
	case LOGROT_WEEK:
		out->tm_mday -= out->tm_wday;
		out->tm_hour = 0;
		out->tm_min = 0;
		break;
	default:
		break;
	}
	normalize(out);
}

void logrot_period_shift(struct tm *t, enum logrot_period p, int n)
{
	switch (p) {
	case LOGROT_MINUTE: t->tm_min += n; break;
	case LOGROT_HOUR: t->tm_hour += n; break;
	case LOGROT_DAY: t->tm_mday += n; break;
	case LOGROT_WEEK: t->tm_mday += 7 * n; break;
	case LOGROT_MONTH: t->tm_mon += n; break;
	case LOGROT_YEAR: t->tm_year += n; break;
	default: return;
	}
	normalize(t);
}

/* The value of one template escape, or NULL to copy it unchanged. */
static const char *escape(char c, const struct tm *t, time_t ts,
			  char *buf, size_t len)
{
	switch (c) {
	case 'y': snprintf(buf, len, "%02d", (t->tm_year + 1900) % 100); break;
	case 'Y': snprintf(buf, len, "%04d", t->tm_year + 1900); break;
	case 'm': snprintf(buf, len, "%02d", t->tm_mon + 1); break;
	case 'o': snprintf(buf, len, "%s", month_name[t->tm_mon % 12]); break;
	case 'd': snprintf(buf, len, "%02d", t->tm_mday); break;
	case 'H': snprintf(buf, len, "%02d", t->tm_hour); break;
	case 'M': snprintf(buf, len, "%02d", t->tm_min); break;
	case 'S': snprintf(buf, len, "%02d", t->tm_sec); break;
	case 't': snprintf(buf, len, "%010lld", (long long)ts); break;
	case '%': snprintf(buf, len, "%%"); break;
	default: return NULL;
	}
	return buf;
}

static int expand(char *out, size_t cap, const char *pat, const struct tm *t,
		  time_t ts)
{
	size_t n = 0, vl;
	char buf[32];
	const char *v;

	for (; *pat != '\0'; pat++) {
		v = NULL;
		if (pat[0] == '%' && pat[1] != '\0')
			v = escape(pat[1], t, ts, buf, sizeof(buf));
		if (v == NULL) {
			buf[0] = *pat;
			buf[1] = '\0';
			v = buf;
		} else {
			pat++;
		}
		vl = strlen(v);
		if (n + vl >= cap)
			return -1;
		memcpy(out + n, v, vl);
		n += vl;
	}
	out[n] = '\0';
	return 0;
}

int logrot_name(char *out, size_t cap, const char *pattern,
		enum logrot_period p, const struct tm *start, time_t tstart)
{
	static const char *const suffix[] = {
		"", ".%Y.%m.%d-%H.%M", ".%Y.%m.%d-%H", ".%Y.%m.%d",
		".%Y.%m.%d", ".%Y.%m", ".%Y"
	};
	size_t n;

	if (cap == 0)
		return -1;
	if (strchr(pattern, '%') != NULL)
		return expand(out, cap, pattern, start, tstart);
	n = strlen(pattern);
	if (n >= cap)
		return -1;
	memcpy(out, pattern, n);
	return expand(out + n, cap - n, suffix[p], start, tstart);
}
