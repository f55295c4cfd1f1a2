/*
 * Unit tests for LdapPlugin's pure parts: server URI, attribute names,
 * and the user DN and access filter with the user name escaped.
 * F-PLUG-08
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ldapconf.h"

static void test_uri(void **state)
{
	char u[64];

	(void)state;
	assert_int_equal(ldap_make_uri("ldap.example.com", u, sizeof(u)), 0);
	assert_string_equal(u, "ldap://ldap.example.com");
	assert_int_equal(ldap_make_uri("127.0.0.1:3890", u, sizeof(u)), 0);
	assert_string_equal(u, "ldap://127.0.0.1:3890");
	assert_int_equal(ldap_make_uri("ldaps://h:636", u, sizeof(u)), 0);
	assert_string_equal(u, "ldaps://h:636");
	assert_int_equal(ldap_make_uri("", u, sizeof(u)), -1);
	assert_int_equal(ldap_make_uri("a b", u, sizeof(u)), -1);
	assert_int_equal(ldap_make_uri("h\n", u, sizeof(u)), -1);
	assert_int_equal(ldap_make_uri("a-very-long-host-name-that-does-not-"
				       "fit-in-the-buffer.example", u, 32), -1);
}

static void test_attr(void **state)
{
	(void)state;
	assert_true(ldap_attr_valid("uid"));
	assert_true(ldap_attr_valid("memberOf"));
	assert_true(ldap_attr_valid("x-custom-1"));
	assert_true(ldap_attr_valid("2.5.4.3"));
	assert_false(ldap_attr_valid(""));
	assert_false(ldap_attr_valid("-uid"));
	assert_false(ldap_attr_valid("u id"));
	assert_false(ldap_attr_valid("uid)(x"));
	assert_false(ldap_attr_valid("2..5"));
	assert_false(ldap_attr_valid("2.5."));
}

static void test_user_dn(void **state)
{
	struct ldap_conf c;
	char dn[128];

	(void)state;
	ldap_conf_init(&c);
	strcpy(c.userenv, "ou=people,dc=example,dc=com");
	assert_int_equal(ldap_user_dn(&c, "alice", dn, sizeof(dn)), 0);
	assert_string_equal(dn, "uid=alice,ou=people,dc=example,dc=com");
	/* a user name cannot add RDNs or change the attribute */
	assert_int_equal(ldap_user_dn(&c, "x,ou=admins", dn, sizeof(dn)), 0);
	assert_string_equal(dn, "uid=x\\,ou\\=admins,ou=people,dc=example,"
			    "dc=com");
	assert_int_equal(ldap_user_dn(&c, " a+b\"<>;\\ ", dn, sizeof(dn)), 0);
	assert_string_equal(dn, "uid=\\ a\\+b\\\"\\<\\>\\;\\\\\\ ,"
			    "ou=people,dc=example,dc=com");
	/* '#' is special only in front */
	assert_int_equal(ldap_user_dn(&c, "#1#", dn, sizeof(dn)), 0);
	assert_string_equal(dn, "uid=\\#1#,ou=people,dc=example,dc=com");
	c.lowercase = 1;
	strcpy(c.userattr, "cn");
	c.userenv[0] = '\0';
	assert_int_equal(ldap_user_dn(&c, "Alice", dn, sizeof(dn)), 0);
	assert_string_equal(dn, "cn=alice");
	assert_int_equal(ldap_user_dn(&c, "", dn, sizeof(dn)), -1);
	assert_int_equal(ldap_user_dn(&c, "a\rb", dn, sizeof(dn)), -1);
	assert_int_equal(ldap_user_dn(&c, "abcdefghij", dn, 8), -1);
}

static void test_filter(void **state)
{
	struct ldap_conf c;
	char f[160];

	(void)state;
	ldap_conf_init(&c);
	strcpy(c.groupattr, "memberOf");
	strcpy(c.access, "cn=web(all),dc=x");
	assert_int_equal(ldap_access_filter(&c, "bob", f, sizeof(f)), 0);
	assert_string_equal(f, "(&(uid=bob)(memberOf=cn=web\\28all\\29,dc=x))");
	/* a wildcard or a closing parenthesis stays a literal */
	assert_int_equal(ldap_access_filter(&c, "*)(uid=*", f, sizeof(f)), 0);
	assert_string_equal(f, "(&(uid=\\2a\\29\\28uid=\\2a)(memberOf=cn=web"
			    "\\28all\\29,dc=x))");
	assert_int_equal(ldap_access_filter(&c, "bob", f, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_attr),
		cmocka_unit_test(test_user_dn),
		cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
