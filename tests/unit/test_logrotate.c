/*
 * Unit tests for logrotate.c (logging.md 2; F-LOG-02 rotation periods,
 * F-LOG-03 % templates in file names): period parsing, the start of the
 * period containing a time for every period (daily, hourly, weekly on
 * Sundays, monthly, yearly, minutely), moving by whole periods across
 * month/year/leap-day edges, and the file-name expansion with a fixed
 * time passed in.  No clock, no files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "logrotate.h"

static struct tm mk(int y, int mo, int d, int h, int mi, int s)
{
	struct tm t;

	memset(&t, 0, sizeof(t));
	t.tm_year = y - 1900;
	t.tm_mon = mo - 1;
	t.tm_mday = d;
	t.tm_hour = h;
	t.tm_min = mi;
	t.tm_sec = s;
	return t;
}

static void same(const struct tm *t, int y, int mo, int d, int h, int mi)
{
	assert_int_equal(t->tm_year + 1900, y);
	assert_int_equal(t->tm_mon + 1, mo);
	assert_int_equal(t->tm_mday, d);
	assert_int_equal(t->tm_hour, h);
	assert_int_equal(t->tm_min, mi);
	assert_int_equal(t->tm_sec, 0);
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(logrot_period_parse("C"), LOGROT_MINUTE);
	assert_int_equal(logrot_period_parse("c"), LOGROT_MINUTE);
	assert_int_equal(logrot_period_parse("H"), LOGROT_HOUR);
	assert_int_equal(logrot_period_parse("daily"), LOGROT_DAY);
	assert_int_equal(logrot_period_parse("w"), LOGROT_WEEK);
	assert_int_equal(logrot_period_parse("M"), LOGROT_MONTH);
	assert_int_equal(logrot_period_parse("Y"), LOGROT_YEAR);
	assert_int_equal(logrot_period_parse("X"), LOGROT_NONE);
	assert_int_equal(logrot_period_parse(""), LOGROT_NONE);
	assert_int_equal(logrot_period_parse(NULL), LOGROT_NONE);
}

static void test_period_start(void **state)
{
	/* Wednesday 2026-11-25 13:47:59 */
	struct tm t = mk(2026, 11, 25, 13, 47, 59), s;

	(void)state;
	logrot_period_start(&t, LOGROT_MINUTE, &s);
	same(&s, 2026, 11, 25, 13, 47);
	logrot_period_start(&t, LOGROT_HOUR, &s);
	same(&s, 2026, 11, 25, 13, 0);
	logrot_period_start(&t, LOGROT_DAY, &s);
	same(&s, 2026, 11, 25, 0, 0);
	assert_int_equal(s.tm_wday, 3);
	logrot_period_start(&t, LOGROT_WEEK, &s);
	same(&s, 2026, 11, 22, 0, 0);          /* the Sunday before */
	assert_int_equal(s.tm_wday, 0);
	logrot_period_start(&t, LOGROT_MONTH, &s);
	same(&s, 2026, 11, 1, 0, 0);
	logrot_period_start(&t, LOGROT_YEAR, &s);
	same(&s, 2026, 1, 1, 0, 0);
	assert_int_equal(s.tm_yday, 0);
	/* a week that began in the previous month and year */
	t = mk(2027, 1, 2, 5, 0, 0);           /* Saturday */
	logrot_period_start(&t, LOGROT_WEEK, &s);
	same(&s, 2026, 12, 27, 0, 0);
	/* a Sunday is its own week's start */
	t = mk(2026, 11, 22, 23, 59, 59);
	logrot_period_start(&t, LOGROT_WEEK, &s);
	same(&s, 2026, 11, 22, 0, 0);
}

static void test_shift(void **state)
{
	struct tm t;

	(void)state;
	t = mk(2026, 12, 31, 23, 59, 0);
	logrot_period_shift(&t, LOGROT_MINUTE, 1);
	same(&t, 2027, 1, 1, 0, 0);
	logrot_period_shift(&t, LOGROT_MINUTE, -2);
	same(&t, 2026, 12, 31, 23, 58);
	t = mk(2026, 3, 1, 0, 0, 0);
	logrot_period_shift(&t, LOGROT_HOUR, -1);
	same(&t, 2026, 2, 28, 23, 0);
	t = mk(2024, 3, 1, 0, 0, 0);            /* leap year */
	logrot_period_shift(&t, LOGROT_DAY, -1);
	same(&t, 2024, 2, 29, 0, 0);
	assert_int_equal(t.tm_yday, 59);
	t = mk(2026, 11, 22, 0, 0, 0);
	logrot_period_shift(&t, LOGROT_WEEK, 2);
	same(&t, 2026, 12, 6, 0, 0);
	assert_int_equal(t.tm_wday, 0);
	t = mk(2026, 1, 1, 0, 0, 0);
	logrot_period_shift(&t, LOGROT_MONTH, -30);
	same(&t, 2023, 7, 1, 0, 0);
	logrot_period_shift(&t, LOGROT_MONTH, 6);
	same(&t, 2024, 1, 1, 0, 0);
	logrot_period_shift(&t, LOGROT_YEAR, 3);
	same(&t, 2027, 1, 1, 0, 0);
	t = mk(2026, 5, 5, 5, 5, 0);
	logrot_period_shift(&t, LOGROT_NONE, 9);
	same(&t, 2026, 5, 5, 5, 5);
}

static void test_names(void **state)
{
	struct tm t = mk(2026, 11, 23, 7, 5, 9), s;
	char out[128];

	(void)state;
	/* templates: every escape, unknown ones kept, %% */
	assert_int_equal(logrot_name(out, sizeof(out),
				     "/l/%Y-%m-%d_%H%M%S_%y_%o_%t_%%_%q",
				     LOGROT_DAY, &t, 42), 0);
	assert_string_equal(out, "/l/2026-11-23_070509_26_Nov_0000000042_%_%q");
	assert_int_equal(logrot_name(out, sizeof(out), "end%", LOGROT_NONE,
				     &t, 0), 0);
	assert_string_equal(out, "end%");
	/* suffixes (logging.md 2 table) */
	logrot_period_start(&t, LOGROT_MINUTE, &s);
	assert_int_equal(logrot_name(out, sizeof(out), "3p.log",
				     LOGROT_MINUTE, &s, 0), 0);
	assert_string_equal(out, "3p.log.2026.11.23-07.05");
	logrot_period_start(&t, LOGROT_HOUR, &s);
	logrot_name(out, sizeof(out), "3p.log", LOGROT_HOUR, &s, 0);
	assert_string_equal(out, "3p.log.2026.11.23-07");
	logrot_period_start(&t, LOGROT_DAY, &s);
	logrot_name(out, sizeof(out), "3p.log", LOGROT_DAY, &s, 0);
	assert_string_equal(out, "3p.log.2026.11.23");
	logrot_period_start(&t, LOGROT_WEEK, &s);
	logrot_name(out, sizeof(out), "3p.log", LOGROT_WEEK, &s, 0);
	assert_string_equal(out, "3p.log.2026.11.22");   /* Sunday */
	logrot_period_start(&t, LOGROT_MONTH, &s);
	logrot_name(out, sizeof(out), "3p.log", LOGROT_MONTH, &s, 0);
	assert_string_equal(out, "3p.log.2026.11");
	logrot_period_start(&t, LOGROT_YEAR, &s);
	logrot_name(out, sizeof(out), "3p.log", LOGROT_YEAR, &s, 0);
	assert_string_equal(out, "3p.log.2026");
	logrot_name(out, sizeof(out), "3p.log", LOGROT_NONE, &s, 0);
	assert_string_equal(out, "3p.log");
	/* template with the minute period: the period start, seconds 00 */
	logrot_period_start(&t, LOGROT_MINUTE, &s);
	logrot_name(out, sizeof(out), "px%Y%m%d%H%M%S", LOGROT_MINUTE, &s, 0);
	assert_string_equal(out, "px20261123070500");
}

static void test_name_room(void **state)
{
	struct tm t = mk(2026, 11, 23, 7, 5, 9);
	char out[12];

	(void)state;
	assert_int_equal(logrot_name(out, sizeof(out), "a%Y%m%d", LOGROT_DAY,
				     &t, 0), 0);
	assert_string_equal(out, "a20261123");
	assert_int_equal(logrot_name(out, sizeof(out), "abc%Y%m%d",
				     LOGROT_DAY, &t, 0), 0);    /* 11 chars */
	assert_string_equal(out, "abc20261123");
	assert_int_equal(logrot_name(out, sizeof(out), "abcd%Y%m%d",
				     LOGROT_DAY, &t, 0), -1);
	assert_int_equal(logrot_name(out, sizeof(out), "x.log", LOGROT_DAY,
				     &t, 0), -1);
	assert_int_equal(logrot_name(out, sizeof(out), "x", LOGROT_YEAR, &t,
				     0), 0);
	assert_string_equal(out, "x.2026");
	assert_int_equal(logrot_name(out, 0, "x", LOGROT_NONE, &t, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_period_start),
		cmocka_unit_test(test_shift),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_name_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
