/* test_ldapcount.c - LdapPlugin's quota helpers (ldapcount.h):
 * ldaptrafgroup arguments, count file names, the count file's text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ldapcount.h"

static void test_period_words(void **state)
{
	(void)state;
	assert_int_equal(ldap_period_letter("MONTHLY"), 'M');
	assert_int_equal(ldap_period_letter("weekly"), 'W');
	assert_int_equal(ldap_period_letter("Daily"), 'D');
	assert_int_equal(ldap_period_letter("D"), 'D');
	assert_int_equal(ldap_period_letter("YEARLY"), 0);
	assert_int_equal(ldap_period_letter("MONTH"), 0);
	assert_int_equal(ldap_period_letter(""), 0);
}

static void test_limits_and_rates(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(ldap_parse_mb("1", &v), 0);
	assert_true(v == 1048576);
	assert_int_equal(ldap_parse_mb("10240", &v), 0);
	assert_true(v == 10240ull << 20);
	assert_int_equal(ldap_parse_mb("0", &v), -1);
	assert_int_equal(ldap_parse_mb("", &v), -1);
	assert_int_equal(ldap_parse_mb("-1", &v), -1);
	assert_int_equal(ldap_parse_mb("12x", &v), -1);
	/* the bytes would not fit in 64 bits */
	assert_int_equal(ldap_parse_mb("17592186044416", &v), -1);
	assert_int_equal(ldap_parse_mb("17592186044415", &v), 0);
	assert_int_equal(ldap_parse_bps("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ldap_parse_bps("300", &v), 0);
	assert_true(v == 300);
	assert_int_equal(ldap_parse_bps("299", &v), -1);
	assert_int_equal(ldap_parse_bps("1e6", &v), -1);
	assert_int_equal(ldap_parse_bps("99999999999999999999", &v), -1);
}

static void test_file_names(void **state)
{
	char out[300], big[300];

	(void)state;
	assert_int_equal(ldap_lc_name("alice", out, sizeof(out)), 0);
	assert_string_equal(out, "alice.lc");
	assert_int_equal(ldap_lc_name("j.doe@example.com", out, sizeof(out)),
			 0);
	assert_string_equal(out, "j.doe@example.com.lc");
	assert_int_equal(ldap_lc_name("../etc/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "%2E.%2Fetc%2Fpasswd.lc");
	assert_int_equal(ldap_lc_name("..", out, sizeof(out)), 0);
	assert_string_equal(out, "%2E..lc");
	assert_int_equal(ldap_lc_name(".hidden", out, sizeof(out)), 0);
	assert_string_equal(out, "%2Ehidden.lc");
	assert_int_equal(ldap_lc_name("a b\n%", out, sizeof(out)), 0);
	assert_string_equal(out, "a%20b%0A%25.lc");
	assert_int_equal(ldap_lc_name("\xc3\xa9t\xc3\xa9", out, sizeof(out)),
			 0);
	assert_string_equal(out, "%C3%A9t%C3%A9.lc");
	/* escaping is one to one: '%' itself is escaped */
	assert_int_equal(ldap_lc_name("%2E", out, sizeof(out)), 0);
	assert_string_equal(out, "%252E.lc");
	assert_int_equal(ldap_lc_name("", out, sizeof(out)), -1);
	assert_int_equal(ldap_lc_name("alice", out, 8), -1);
	assert_int_equal(ldap_lc_name("alice", out, 9), 0);
	/* a name over 255 bytes as a file name is refused */
	memset(big, 'a', 252);
	big[252] = '\0';
	assert_int_equal(ldap_lc_name(big, out, sizeof(out)), 0);
	big[252] = 'a';
	big[253] = '\0';
	assert_int_equal(ldap_lc_name(big, out, sizeof(out)), -1);
	memset(big, '/', 90);
	big[90] = '\0';
	assert_int_equal(ldap_lc_name(big, out, sizeof(out)), -1);
}

static void test_count_text(void **state)
{
	char text[LDAP_LC_LINE];
	uint64_t b = 1;
	int64_t s = 1;
	size_t n;

	(void)state;
	n = ldap_lc_format(text, sizeof(text), 2097152, 1700000000);
	assert_string_equal(text, "2097152 1700000000\n");
	assert_int_equal(n, strlen(text));
	assert_int_equal(ldap_lc_parse(text, &b, &s), 0);
	assert_true(b == 2097152 && s == 1700000000);
	n = ldap_lc_format(text, sizeof(text), UINT64_MAX, INT64_MAX);
	assert_true(n > 0);
	assert_int_equal(ldap_lc_parse(text, &b, &s), 0);
	assert_true(b == UINT64_MAX && s == INT64_MAX);
	assert_int_equal(ldap_lc_format(text, 5, 123456, 1), 0);
	assert_int_equal(ldap_lc_parse("5 0", &b, &s), 0);
	assert_true(b == 5 && s == 0);
	assert_int_equal(ldap_lc_parse("", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("5", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("5 ", &b, &s), -1);
	assert_int_equal(ldap_lc_parse(" 5 6", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("5 6 7", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("5 -6", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("5 6\n\n", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("18446744073709551616 1", &b, &s), -1);
	assert_int_equal(ldap_lc_parse("1 9223372036854775808", &b, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period_words),
		cmocka_unit_test(test_limits_and_rates),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_count_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
