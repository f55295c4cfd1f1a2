/*
 * test_origdst.c - TransparentPlugin's comparison of the original and
 * the local destination (F-PLUG-03): equal means "not redirected".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <arpa/inet.h>

#include "origdst.h"

static struct sockaddr_storage v4(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
	return ss;
}

static int same(struct sockaddr_storage a, struct sockaddr_storage b)
{
	return origdst_same((struct sockaddr *)&a, (struct sockaddr *)&b);
}

static void test_same(void **state)
{
	(void)state;
	assert_true(same(v4("10.0.0.1", 80), v4("10.0.0.1", 80)));
	assert_false(same(v4("10.0.0.1", 80), v4("10.0.0.1", 81)));
	assert_false(same(v4("10.0.0.1", 80), v4("10.0.0.2", 80)));
	assert_true(same(v6("2001:db8::1", 443), v6("2001:db8::1", 443)));
	assert_false(same(v6("2001:db8::1", 443), v6("2001:db8::2", 443)));
	assert_false(same(v6("2001:db8::1", 443), v6("2001:db8::1", 444)));
}

static void test_mapped(void **state)
{
	(void)state;
	/* an IPv4 client of a dual-stack listener */
	assert_true(same(v6("::ffff:10.0.0.1", 80), v4("10.0.0.1", 80)));
	assert_true(same(v4("10.0.0.1", 80), v6("::ffff:10.0.0.1", 80)));
	assert_false(same(v6("::ffff:10.0.0.1", 80), v4("10.0.0.9", 80)));
	assert_false(same(v6("::10.0.0.1", 80), v4("10.0.0.1", 80)));
}

static void test_bad_socket(void **state)
{
	struct sockaddr_storage ss;
	size_t len = sizeof(ss);

	(void)state;
	assert_int_equal(origdst_get(-1, &ss, &len), -1);
	len = 4;
	assert_int_equal(origdst_get(0, &ss, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_bad_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
