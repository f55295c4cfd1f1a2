/*
 * Unit tests for the PROXY protocol v1 header parser (-H, F-NET-12).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proxyproto.h"

static int parse(const char *line, struct net_addr *s, struct net_addr *d)
{
	return proxyproto_parse(line, strlen(line), s, d);
}

static void test_tcp4(void **state)
{
	struct net_addr s, d;
	char buf[64];

	(void)state;
	assert_int_equal(parse("PROXY TCP4 192.0.2.1 198.51.100.2 5000 80\r\n",
			       &s, &d), 1);
	assert_string_equal(net_addr_str(&s, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(net_get_port(&s), 5000);
	assert_string_equal(net_addr_str(&d, buf, sizeof(buf)), "198.51.100.2");
	assert_int_equal(net_get_port(&d), 80);
	/* The keyword is matched without regard to case. */
	assert_int_equal(parse("proxy tcp4 10.0.0.1 10.0.0.2 1 2\n", &s, &d), 1);
}

static void test_tcp6(void **state)
{
	struct net_addr s, d;
	char buf[64];

	(void)state;
	assert_int_equal(parse("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n", &s, &d), 1);
	assert_string_equal(net_addr_str(&s, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(net_get_port(&s), 65535);
	assert_int_equal(net_get_port(&d), 0);
}

static void test_ignored_lines(void **state)
{
	struct net_addr s, d;

	(void)state;
	assert_int_equal(parse("PROXY UNKNOWN\r\n", &s, &d), 0);
	assert_int_equal(parse("GET / HTTP/1.0\r\n", &s, &d), 0);
	assert_int_equal(parse("PROXY TCP\r\n", &s, &d), 0);   /* too short */
	assert_int_equal(parse("", &s, &d), 0);
}

static void test_malformed(void **state)
{
	struct net_addr s, d;

	(void)state;
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", &s, &d), -1);
	assert_int_equal(parse("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", &s, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_ignored_lines),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
