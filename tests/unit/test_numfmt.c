/*
 * test_numfmt.c - unsigned decimals written without printf (numfmt.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "numfmt.h"

static void check(uint64_t v, int width, const char *want)
{
	char buf[NUMFMT_U64_SIZE];

	assert_int_equal(numfmt_u64(buf, v, width), strlen(want));
	assert_string_equal(buf, want);
}

static void test_values(void **state)
{
	(void)state;
	check(0, 0, "0");
	check(7, 0, "7");
	check(1234567890, 0, "1234567890");
	check(UINT64_MAX, 0, "18446744073709551615");
}

static void test_widths(void **state)
{
	(void)state;
	check(42, 5, "00042");
	check(123456, 3, "123456");          /* never cut */
	check(0, 20, "00000000000000000000");
	check(5, 99, "00000000000000000005"); /* at most 20 digits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_widths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
