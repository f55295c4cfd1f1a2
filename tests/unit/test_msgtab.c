/*
 * Unit tests for the replaceable message tables (msgtab.c) and the admin
 * page pieces taken from them.  F-PLUG-05
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "admin_pages.h"
#include "msgtab.h"
#include "plugin_api.h"

static void test_counts_and_defaults(void **state)
{
	(void)state;
	assert_int_equal(msgtab_count(MSGTAB_PROXY), MSG_HTTP_COUNT);
	assert_int_equal(msgtab_count(MSGTAB_ADMIN), MSG_ADMIN_COUNT);
	assert_int_equal(msgtab_count(2), 0);
	assert_int_equal(msgtab_count(-1), 0);
	assert_int_equal(PX_MSG_PROXY, MSGTAB_PROXY);
	assert_int_equal(PX_MSG_ADMIN, MSGTAB_ADMIN);
	assert_non_null(strstr(msgtab_default(MSGTAB_PROXY, MSG_HTTP_407),
			       "407 Proxy Authentication Required"));
	assert_non_null(strstr(msgtab_default(MSGTAB_PROXY,
					      MSG_HTTP_503_LOOP),
			       "Recursion detected."));
	assert_null(msgtab_default(MSGTAB_PROXY, MSG_HTTP_COUNT));
	assert_null(msgtab_default(MSGTAB_ADMIN, MSG_ADMIN_COUNT));
	assert_string_equal(msgtab_text(NULL, MSGTAB_ADMIN, MSG_ADMIN_H2_END),
			    "</h2>\n");
	assert_string_equal(msgtab_text(NULL, 7, 0), "");
}

static void test_replace(void **state)
{
	struct msgtab *m = NULL;
	char *big;

	(void)state;
	assert_int_equal(msgtab_set(&m, MSGTAB_PROXY, MSG_HTTP_403, "nein"),
			 0);
	assert_non_null(m);
	assert_string_equal(msgtab_text(m, MSGTAB_PROXY, MSG_HTTP_403),
			    "nein");
	assert_int_equal(msgtab_set(&m, MSGTAB_PROXY, MSG_HTTP_403, "non"), 0);
	assert_string_equal(msgtab_text(m, MSGTAB_PROXY, MSG_HTTP_403), "non");
	/* the others and the defaults are untouched */
	assert_string_equal(msgtab_text(m, MSGTAB_PROXY, MSG_HTTP_400),
			    msgtab_default(MSGTAB_PROXY, MSG_HTTP_400));
	assert_null(strstr(msgtab_default(MSGTAB_PROXY, MSG_HTTP_403), "non"));
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, MSG_ADMIN_COUNT, "x"),
			 -1);
	assert_int_equal(msgtab_set(&m, 2, 0, "x"), -1);
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, 0, NULL), -1);
	big = malloc(MSGTAB_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', MSGTAB_TEXT_MAX + 1);
	big[MSGTAB_TEXT_MAX + 1] = '\0';
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, 0, big), -1);
	big[MSGTAB_TEXT_MAX] = '\0';
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, 0, big), 0);
	free(big);
	msgtab_free(m);
	msgtab_free(NULL);
}

static void test_admin_pages_use_the_table(void **state)
{
	struct msgtab *m = NULL;
	struct admin_buf b;

	(void)state;
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, MSG_ADMIN_HEAD,
				    "<html><title>"), 0);
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, MSG_ADMIN_MENU,
				    "</title><h1>"), 0);
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, MSG_ADMIN_H2_END,
				    "</h1>"), 0);
	assert_int_equal(msgtab_set(&m, MSGTAB_ADMIN, MSG_ADMIN_FOOTER,
				    "</html>"), 0);
	admin_buf_init(&b, 4096);
	b.msgs = m;
	admin_message_page(&b, "T<", "x");
	assert_string_equal(b.p, "<html><title>T&lt;</title><h1>T&lt;</h1>"
			    "<p>x</p>\n</html>");
	admin_buf_free(&b);
	/* without a table: the built-in frame */
	admin_buf_init(&b, 4096);
	admin_counters_begin(&b);
	assert_string_equal(b.p, msgtab_default(MSGTAB_ADMIN,
						MSG_ADMIN_COUNTERS));
	admin_buf_free(&b);
	msgtab_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_defaults),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_admin_pages_use_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
