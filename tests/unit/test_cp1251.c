/*
 * test_cp1251.c - the utf8tocp1251 plugin's conversion (F-PLUG-10).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cp1251.h"

static void check(const char *in, const char *want, int changed)
{
	char buf[128];

	strcpy(buf, in);
	assert_int_equal(cp1251_from_utf8(buf), changed);
	assert_string_equal(buf, want);
}

static void test_cyrillic(void **state)
{
	(void)state;
	/* "Иван" -> C8 E2 E0 ED */
	check("\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD", "\xC8\xE2\xE0\xED", 1);
	/* the whole alphabet's ends: А Я а я, and Ё ё */
	check("\xD0\x90\xD0\xAF\xD0\xB0\xD1\x8F", "\xC0\xDF\xE0\xFF", 1);
	check("\xD0\x81\xD1\x91", "\xA8\xB8", 1);
}

static void test_mixed_and_upper_half(void **state)
{
	(void)state;
	/* ASCII kept around converted letters; Ukrainian Ї і, and № € */
	check("user-\xD0\x87\xD1\x96", "user-\xAF\xB3", 1);
	check("\xE2\x84\x96" "1\xE2\x82\xAC", "\xB9" "1\x88", 1);
}

static void test_left_alone(void **state)
{
	(void)state;
	check("plain ascii", "plain ascii", 0);
	check("", "", 0);
	/* already Windows-1251 (not UTF-8): unchanged */
	check("\xC8\xE2\xE0\xED", "\xC8\xE2\xE0\xED", 0);
	/* a character Windows-1251 lacks (CJK): the whole string stays */
	check("\xD0\x98\xE4\xB8\xAD", "\xD0\x98\xE4\xB8\xAD", 0);
	/* overlong, surrogate, truncated, beyond U+10FFFF */
	check("\xC0\xAF", "\xC0\xAF", 0);
	check("\xED\xA0\x80", "\xED\xA0\x80", 0);
	check("\xD0", "\xD0", 0);
	check("\xF4\x90\x80\x80", "\xF4\x90\x80\x80", 0);
	/* 0x98 has no character in Windows-1251: U+0098 is not mapped */
	check("\xC2\x98", "\xC2\x98", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cyrillic),
		cmocka_unit_test(test_mixed_and_upper_half),
		cmocka_unit_test(test_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
