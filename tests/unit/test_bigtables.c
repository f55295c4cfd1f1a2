/*
 * Unit tests for the lookup structures a large configuration relies on
 * (10,000 config lines must load and be looked up without linear
 * scans): the users hash table across many growths, and ACL user lists
 * of thousands of names (sorted, binary search).  F-AUTH-02 F-ACL-01
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "client.h"
#include "errcode.h"
#include "users.h"

#define NUSERS 20000

static void add_user(struct users *u, unsigned i, const char *pw)
{
	char spec[64];
	const char *why = NULL;

	snprintf(spec, sizeof(spec), "u%u:CL:%s%u", i, pw, i);
	assert_int_equal(users_add_spec(u, spec, &why), USERS_ADDED);
}

/* Every one of NUSERS entries is found with its own password after the
 * table has grown many times; near-miss names are not found. */
static void test_users_many(void **state)
{
	struct users *u = users_new();
	char name[32], pw[32];
	unsigned i;

	(void)state;
	assert_non_null(u);
	for (i = 0; i < NUSERS; i++)
		add_user(u, i, "p");
	assert_int_equal(users_count(u), NUSERS);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		snprintf(pw, sizeof(pw), "p%u", i);
		assert_int_equal(users_check(u, name, pw), 0);
		assert_true(users_exists(u, name));
	}
	assert_int_equal(users_check(u, "u1", "p2"), ERR_AUTH_BADPASS_CL);
	assert_false(users_exists(u, "u"));
	assert_false(users_exists(u, "U1"));
	snprintf(name, sizeof(name), "u%u", NUSERS);
	assert_false(users_exists(u, name));
	users_free(u);
}

/* A later entry replaces the earlier one of the same name: the count
 * stays, the new password holds, the old one fails. */
static void test_users_replace_after_growth(void **state)
{
	struct users *u = users_new();
	unsigned i;

	(void)state;
	for (i = 0; i < 5000; i++)
		add_user(u, i, "old");
	for (i = 0; i < 5000; i += 7)
		add_user(u, i, "new");
	assert_int_equal(users_count(u), 5000);
	assert_int_equal(users_check(u, "u0", "new0"), 0);
	assert_int_equal(users_check(u, "u0", "old0"), ERR_AUTH_BADPASS_CL);
	assert_int_equal(users_check(u, "u1", "old1"), 0);
	assert_int_equal(users_check(u, "u4998", "new4998"), 0);
	users_free(u);
}

/* An ACE naming 5000 users matches each of them and nothing else. */
static void test_acl_long_user_list(void **state)
{
	const unsigned n = 5000;
	size_t cap = (size_t)n * 8 + 1, off = 0;
	char *list = malloc(cap);
	char err[256], warn[256], name[32];
	char *fields[1];
	struct acl_rule *r;
	struct request req;
	unsigned i;

	(void)state;
	assert_non_null(list);
	/* descending order: the compiler must sort, not rely on input */
	for (i = n; i-- > 0;)
		off += (size_t)snprintf(list + off, cap - off, "%su%u",
					off ? "," : "", i * 2);
	fields[0] = list;
	r = acl_rule_compile(1, fields, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(r);
	memset(&req, 0, sizeof(req));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "u%u", i * 2);
		assert_int_equal(acl_rule_match(r, &req, name, NULL, 0), 1);
		snprintf(name, sizeof(name), "u%u", i * 2 + 1);
		assert_int_equal(acl_rule_match(r, &req, name, NULL, 0), 0);
	}
	assert_int_equal(acl_rule_match(r, &req, NULL, NULL, 0), 0);
	acl_rule_unref(r);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_many),
		cmocka_unit_test(test_users_replace_after_growth),
		cmocka_unit_test(test_acl_long_user_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
