/*
 * Unit tests for StringsPlugin's strings file parser.  F-PLUG-05
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strfile.h"

static void parse(const char *text, struct strfile *f)
{
	assert_int_equal(strfile_parse(text, strlen(text), f), 0);
}

static void test_sections_and_separators(void **state)
{
	struct strfile f;

	(void)state;
	parse("ignored before\n"
	      "[--proxy--]\n"
	      "first\n[end]\n"
	      "two\nlines\n[end]\n"
	      "[end]\n"
	      "[/--proxy--]\n"
	      "ignored between\n"
	      "  [--admin--]  \r\n"
	      "<p>a</p>\r\n"
	      "  [end]\r\n"
	      "[/--admin--]\n", &f);
	assert_int_equal(f.seen[STRFILE_PROXY], 1);
	assert_int_equal(f.n[STRFILE_PROXY], 3);
	assert_string_equal(f.s[STRFILE_PROXY][0], "first");
	/* line breaks of the file are not part of a string */
	assert_string_equal(f.s[STRFILE_PROXY][1], "twolines");
	assert_string_equal(f.s[STRFILE_PROXY][2], "");
	assert_int_equal(f.n[STRFILE_ADMIN], 1);
	assert_string_equal(f.s[STRFILE_ADMIN][0], "<p>a</p>");
	strfile_free(&f);
}

static void test_literal_newline_is_crlf(void **state)
{
	struct strfile f;

	(void)state;
	parse("[--proxy--]\nHTTP\\nx\\n\\n\\\n\\\\n\n[end]\n[/--proxy--]\n", &f);
	assert_int_equal(f.n[STRFILE_PROXY], 1);
	/* "\\\n" at the end of a line is a lone backslash; "\\\\n" is a
	 * backslash followed by \n */
	assert_string_equal(f.s[STRFILE_PROXY][0],
			    "HTTP\r\nx\r\n\r\n\\\\\r\n");
	strfile_free(&f);
}

static void test_unterminated_string_counts(void **state)
{
	struct strfile f;

	(void)state;
	parse("[--admin--]\none\n[end]\nlast\n[/--admin--]\n", &f);
	assert_int_equal(f.n[STRFILE_ADMIN], 2);
	assert_string_equal(f.s[STRFILE_ADMIN][1], "last");
	assert_int_equal(f.seen[STRFILE_PROXY], 0);
	strfile_free(&f);
	/* a section open at the end of the file, no final newline */
	parse("[--proxy--]\na\n[end]\nb", &f);
	assert_int_equal(f.n[STRFILE_PROXY], 2);
	assert_string_equal(f.s[STRFILE_PROXY][1], "b");
	strfile_free(&f);
}

static void test_empty_and_odd_input(void **state)
{
	struct strfile f;
	char bin[64];
	size_t i;

	(void)state;
	parse("", &f);
	assert_int_equal(f.n[STRFILE_PROXY] + f.n[STRFILE_ADMIN], 0);
	strfile_free(&f);
	parse("[end]\nno section\n[/--proxy--]\n", &f);
	assert_int_equal(f.n[STRFILE_PROXY], 0);
	assert_int_equal(f.seen[STRFILE_PROXY], 0);
	strfile_free(&f);
	parse("[--proxy--]\n[--admin--]\nx\n[end]\n", &f);
	assert_int_equal(f.n[STRFILE_PROXY], 0);
	assert_int_equal(f.n[STRFILE_ADMIN], 1);
	strfile_free(&f);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 37);
	assert_int_equal(strfile_parse(bin, sizeof(bin), &f), 0);
	strfile_free(&f);
}

static void test_many_strings_are_counted(void **state)
{
	struct strfile f;
	char *text = malloc(400 * 8 + 64);
	size_t n = 0;
	int i;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text + n, "[--proxy--]\n");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "s\n[end]\n");
	assert_int_equal(strfile_parse(text, n, &f), 0);
	assert_int_equal(f.n[STRFILE_PROXY], 300);
	strfile_free(&f);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_and_separators),
		cmocka_unit_test(test_literal_newline_is_crlf),
		cmocka_unit_test(test_unterminated_string_counts),
		cmocka_unit_test(test_empty_and_odd_input),
		cmocka_unit_test(test_many_strings_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
