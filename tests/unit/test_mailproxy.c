/*
 * Unit tests for the mail proxies' login parser (mailproxy.c):
 * [proxyuser:proxypass:]user<delim>host[:port] (F-MAIL-01..03, F-CFG-12).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mailproxy.h"

static int parse(const char *s, int delim, int pc, const char *def,
		 struct mail_login *lg)
{
	return mail_login_parse(s, strlen(s), delim, pc, 110, def, lg);
}

static void test_user_host_port(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("alice@mail.example.net", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.user, "alice");
	assert_string_equal(lg.host, "mail.example.net");
	assert_int_equal(lg.port, 110);
	assert_int_equal(lg.proxy_cred, 0);
	assert_int_equal(parse("alice@10.0.0.1:1110", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.host, "10.0.0.1");
	assert_int_equal(lg.port, 1110);
}

static void test_last_delimiter(void **state)
{
	struct mail_login lg;

	(void)state;
	/* a user name that is itself an address: the host follows the
	 * last delimiter */
	assert_int_equal(parse("bob@example.org@pop.example.org:995", '@', 1,
			       NULL, &lg), 0);
	assert_string_equal(lg.user, "bob@example.org");
	assert_string_equal(lg.host, "pop.example.org");
	assert_int_equal(lg.port, 995);
}

static void test_delimchar(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("bob@example.org#pop.example.org", '#', 1, NULL,
			       &lg), 0);
	assert_string_equal(lg.user, "bob@example.org");
	assert_string_equal(lg.host, "pop.example.org");
	/* with '#' an '@' is part of the user: no host */
	assert_int_equal(parse("bob@pop.example.org", '#', 1, NULL, &lg),
			 MAIL_LOGIN_NOHOST);
}

static void test_proxy_credentials(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("px:secret:carol@h", '@', 1, NULL, &lg), 0);
	assert_int_equal(lg.proxy_cred, 1);
	assert_string_equal(lg.proxy_user, "px");
	assert_string_equal(lg.proxy_pass, "secret");
	assert_string_equal(lg.user, "carol");
	assert_string_equal(lg.host, "h");
	/* -u: the prefix is part of the user name */
	assert_int_equal(parse("px:secret:carol@h", '@', 0, NULL, &lg), 0);
	assert_int_equal(lg.proxy_cred, 0);
	assert_string_equal(lg.user, "px:secret:carol");
	/* one colon is not a prefix */
	assert_int_equal(parse("a:b@h", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.user, "a:b");
}

static void test_ipv6(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("u@[2001:db8::1]:2110", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.host, "2001:db8::1");
	assert_int_equal(lg.port, 2110);
	assert_int_equal(parse("u@[::1]", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.host, "::1");
	assert_int_equal(lg.port, 110);
	/* unbracketed: the whole text is the address, default port */
	assert_int_equal(parse("u@2001:db8::2", '@', 1, NULL, &lg), 0);
	assert_string_equal(lg.host, "2001:db8::2");
	assert_int_equal(lg.port, 110);
	assert_int_equal(parse("u@[::1", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@[]:110", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@[::1]x", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
}

static void test_bad_ports_and_hosts(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("u@h:0", '@', 1, NULL, &lg), MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@h:65536", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@h:65535", '@', 1, NULL, &lg), 0);
	assert_int_equal(parse("u@h:", '@', 1, NULL, &lg), MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@h:11x", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@h:000110", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@", '@', 1, NULL, &lg), MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("u@:110", '@', 1, NULL, &lg),
			 MAIL_LOGIN_BADHOST);
	assert_int_equal(parse("", '@', 1, NULL, &lg), MAIL_LOGIN_EMPTY);
}

static void test_default_host(void **state)
{
	struct mail_login lg;

	(void)state;
	assert_int_equal(parse("dave", '@', 1, NULL, &lg), MAIL_LOGIN_NOHOST);
	assert_int_equal(parse("dave", '@', 1, "", &lg), MAIL_LOGIN_NOHOST);
	assert_int_equal(parse("dave", '@', 1, "mx.example:2525", &lg), 0);
	assert_string_equal(lg.user, "dave");
	assert_string_equal(lg.host, "mx.example");
	assert_int_equal(lg.port, 2525);
	/* a host in the login wins over -h */
	assert_int_equal(parse("dave@other", '@', 1, "mx.example", &lg), 0);
	assert_string_equal(lg.host, "other");
}

static void test_overlong(void **state)
{
	struct mail_login lg;
	char buf[MAIL_LINE_MAX + 16];

	(void)state;
	/* a user of MAIL_FIELD_MAX bytes does not fit */
	memset(buf, 'u', MAIL_FIELD_MAX);
	memcpy(buf + MAIL_FIELD_MAX, "@h", 3);
	assert_int_equal(parse(buf, '@', 1, NULL, &lg), MAIL_LOGIN_TOOLONG);
	/* one byte less does */
	memmove(buf + 1, buf + 2, strlen(buf + 2) + 1);
	assert_int_equal(parse(buf, '@', 1, NULL, &lg), 0);
	assert_int_equal(strlen(lg.user), MAIL_FIELD_MAX - 1);
	/* an overlong host */
	buf[0] = 'u';
	buf[1] = '@';
	memset(buf + 2, 'h', MAIL_FIELD_MAX);
	buf[MAIL_FIELD_MAX + 2] = '\0';
	assert_int_equal(parse(buf, '@', 1, NULL, &lg), MAIL_LOGIN_TOOLONG);
	/* the whole text */
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(parse(buf, '@', 1, NULL, &lg), MAIL_LOGIN_TOOLONG);
	/* only n bytes are read: no NUL needed */
	memcpy(buf, "u@hostXXXX", 10);
	assert_int_equal(mail_login_parse(buf, 6, '@', 1, 143, NULL, &lg), 0);
	assert_string_equal(lg.host, "host");
	assert_int_equal(lg.port, 143);
}

static void test_b64(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(mail_b64_decode("AHVAaABwdw==", 12, out, sizeof(out)),
			 7);
	assert_memory_equal(out, "\0u@h\0pw", 7);
	assert_int_equal(mail_b64_decode("!!!", 3, out, sizeof(out)), -1);
	/* the decoded text must fit with its NUL */
	assert_int_equal(mail_b64_decode("YWJjZA==", 8, out, 4), -1);
	assert_int_equal(mail_b64_decode("YWJjZA==", 8, out, 5), 4);
}

static void test_prefix(void **state)
{
	(void)state;
	assert_true(mail_prefix("user alice", "USER"));
	assert_false(mail_prefix("US", "USER"));
	assert_true(mail_contains("250-AUTH plain LOGIN", "PLAIN"));
	assert_false(mail_contains("250-AUTH CRAM-MD5", "PLAIN"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_host_port),
		cmocka_unit_test(test_last_delimiter),
		cmocka_unit_test(test_delimchar),
		cmocka_unit_test(test_proxy_credentials),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_ports_and_hosts),
		cmocka_unit_test(test_default_host),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
