/*
 * test_netns.c - sockets made in a network namespace (netns.c, -ni/-ne,
 * F-NET-11).  The namespace switch itself is tested end to end in
 * tests/integration/test_netns.py; here the bookkeeping and errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "netns.h"

static void test_bad_path(void **state)
{
	char err[256] = "";
	int fd;

	(void)state;
	fd = netns_open("/nonexistent/netns", err, sizeof(err));
	assert_int_equal(fd, NETNS_NONE);
#ifdef __linux__
	assert_non_null(strstr(err, "cannot open network namespace "
				    "/nonexistent/netns"));
#else
	assert_string_equal(err, "");   /* ignored elsewhere */
#endif
}

static void test_thread_setting(void **state)
{
	(void)state;
	assert_int_equal(netns_thread_current(), NETNS_NONE);
	netns_thread_use(5);
	assert_int_equal(netns_thread_current(), 5);
	netns_thread_use(NETNS_NONE);
	assert_int_equal(netns_thread_current(), NETNS_NONE);
}

/* The process's own namespace as the target: the switch there and back
 * works without privileges beyond the ones setns() needs (root). */
static void test_socket_in_own_namespace(void **state)
{
	char err[256] = "";
	os_sock_t s;
	int fd;

	(void)state;
	s = netns_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s != OS_BADSOCK);
	os_sock_close(s);
#ifdef __linux__
	if (geteuid() != 0)
		skip();
	fd = netns_open("/proc/self/ns/net", err, sizeof(err));
	assert_true(fd != NETNS_NONE);
	netns_thread_use(fd);
	s = netns_socket(AF_INET, SOCK_DGRAM, 0);
	netns_thread_use(NETNS_NONE);
	assert_true(s != OS_BADSOCK);
	os_sock_close(s);
	netns_close(fd);
#else
	(void)fd;
	(void)err;
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test(test_thread_setting),
		cmocka_unit_test(test_socket_in_own_namespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
