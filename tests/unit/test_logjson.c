/*
 * test_logjson.c - `logformat json` (logjson.c): string escaping of
 * hostile values (quotes, backslashes, control bytes, invalid UTF-8),
 * the object's fields, null values, and an object that stays complete
 * when the line is too short for the request text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logformat.h"
#include "logjson.h"

#define T_SEC  1795458702 /* 2026-11-23 18:31:42 UTC */

static void set_ip4(struct net_addr *a, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	a->len = sizeof(*s4);
}

/* Escape a NUL-terminated string with a roomy buffer. */
static const char *esc(const char *s)
{
	static char out[512];
	size_t used, n;

	n = json_escape(out, sizeof(out) - 1, s, strlen(s), &used);
	out[n] = '\0';
	assert_int_equal(used, strlen(s));
	return out;
}

static void test_escape_plain_and_quotes(void **state)
{
	(void)state;
	assert_string_equal(esc("GET / HTTP/1.1"), "GET / HTTP/1.1");
	assert_string_equal(esc("a\"b\\c"), "a\\\"b\\\\c");
	assert_string_equal(esc("/\"}{,:"), "/\\\"}{,:");
}

static void test_escape_controls(void **state)
{
	(void)state;
	assert_string_equal(esc("a\nb\rc\td"),
			    "a\\u000ab\\u000dc\\u0009d");
	assert_string_equal(esc("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
	assert_string_equal(esc("\x1b[31m"), "\\u001b[31m");
}

static void test_escape_utf8(void **state)
{
	(void)state;
	/* well-formed sequences of 2, 3 and 4 bytes pass unchanged */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* a stray continuation byte, a lone lead byte, 0xff */
	assert_string_equal(esc("a\x80z"), "a\\ufffdz");
	assert_string_equal(esc("a\xc3z"), "a\\ufffdz");
	assert_string_equal(esc("\xff\xfe"), "\\ufffd\\ufffd");
	/* overlong '/', an encoded surrogate, beyond U+10FFFF */
	assert_string_equal(esc("\xc0\xaf"), "\\ufffd\\ufffd");
	assert_string_equal(esc("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xf4\x90\x80\x80"),
			    "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* a sequence cut by the end of the value */
	assert_string_equal(esc("x\xe2\x82"), "x\\ufffd\\ufffd");
}

static void test_escape_never_splits(void **state)
{
	char out[16];
	size_t used, n;

	(void)state;
	/* room for "ab" and not for the 6-byte escape after it */
	n = json_escape(out, 7, "ab\x01" "cd", 5, &used);
	assert_int_equal(n, 2);
	assert_int_equal(used, 2);
	/* nor a UTF-8 sequence */
	n = json_escape(out, 3, "a\xe2\x82\xac", 4, &used);
	assert_int_equal(n, 1);
	assert_int_equal(used, 1);
}

static struct log_record base_record(struct net_addr *cl,
				     struct net_addr *srv,
				     struct net_addr *req)
{
	struct log_record r;

	memset(&r, 0, sizeof(r));
	r.now.tv_sec = T_SEC;
	r.now.tv_nsec = 256000000L;
	r.duration_ms = 1500;
	r.service = "PROXY";
	r.port = 3128;
	r.err = 0;
	r.user = "bob";
	set_ip4(cl, "10.0.0.5", 51234);
	set_ip4(srv, "93.184.216.34", 80);
	*req = *srv;
	r.client = cl;
	r.remote = srv;
	r.requested = req;
	r.host = "example.com";
	r.bytes_in = 12890;
	r.bytes_out = 517;
	r.text = "GET http://example.com/ HTTP/1.1";
	return r;
}

static void test_record_fields(void **state)
{
	struct net_addr cl, srv, req;
	struct log_record r = base_record(&cl, &srv, &req);
	char line[LOGFORMAT_MAXLINE];
	size_t n;

	(void)state;
	n = logjson_write(line, sizeof(line), &r);
	assert_int_equal(n, strlen(line));
	assert_string_equal(line,
		"{\"time\":\"2026-11-23T18:31:42.256Z\",\"service\":\"PROXY\","
		"\"port\":3128,\"code\":0,\"client_ip\":\"10.0.0.5\","
		"\"client_port\":51234,\"local_ip\":null,\"external_ip\":null,"
		"\"server_ip\":\"93.184.216.34\",\"server_port\":80,"
		"\"target_ip\":\"93.184.216.34\",\"target_port\":80,"
		"\"bytes_in\":12890,\"bytes_out\":517,\"duration_ms\":1500,"
		"\"hops\":0,\"user\":\"bob\",\"target_host\":\"example.com\","
		"\"request\":\"GET http://example.com/ HTTP/1.1\"}");
}

static void test_record_nulls_and_negative(void **state)
{
	struct log_record r;
	char line[LOGFORMAT_MAXLINE];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.err = -5;
	r.hops = -1;
	logjson_write(line, sizeof(line), &r);
	assert_non_null(strstr(line, "\"service\":null,"));
	assert_non_null(strstr(line, "\"code\":-5,"));
	assert_non_null(strstr(line, "\"client_ip\":null,"
				     "\"client_port\":null,"));
	assert_non_null(strstr(line, "\"hops\":-1,\"user\":null,"
				     "\"target_host\":null,"
				     "\"request\":\"\"}"));
}

static void test_record_hostile_strings(void **state)
{
	struct net_addr cl, srv, req;
	struct log_record r = base_record(&cl, &srv, &req);
	char line[LOGFORMAT_MAXLINE];

	(void)state;
	r.user = "ev\"il\\";
	r.host = "h\nost";
	r.text = "GET /\"}\x01\xff HTTP/1.1";
	logjson_write(line, sizeof(line), &r);
	assert_non_null(strstr(line, "\"user\":\"ev\\\"il\\\\\","));
	assert_non_null(strstr(line, "\"target_host\":\"h\\u000aost\","));
	assert_non_null(strstr(line, "\"request\":\"GET /\\\"}\\u0001"
				     "\\ufffd HTTP/1.1\"}"));
	assert_null(strchr(line, '\n'));
}

/* Counts '"' that are not escaped: even in a complete object. */
static int unescaped_quotes(const char *s)
{
	int q = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			q++;
	}
	return q;
}

static void test_long_values_are_cut_whole(void **state)
{
	struct net_addr cl, srv, req;
	struct log_record r = base_record(&cl, &srv, &req);
	char line[LOGJSON_MIN];
	char *big = malloc(8192), *user = malloc(4096);
	size_t n, i;

	(void)state;
	assert_non_null(big);
	assert_non_null(user);
	for (i = 0; i + 1 < 8192; i++)
		big[i] = i % 3 == 0 ? '"' : i % 3 == 1 ? '\x02' : 'x';
	big[8191] = '\0';
	memset(user, '\x01', 4095);
	user[4095] = '\0';
	r.text = big;
	r.user = user;
	r.host = big;
	n = logjson_write(line, sizeof(line), &r);
	assert_true(n > 0 && n < sizeof(line));
	assert_int_equal(line[n - 1], '}');
	assert_int_equal(line[n - 2], '"');
	assert_int_equal(unescaped_quotes(line) % 2, 0);
	assert_non_null(strstr(line, "\"request\":\""));
	free(big);
	free(user);
}

static void test_short_buffer_and_selection(void **state)
{
	struct log_record r;
	char line[64];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(logjson_write(line, sizeof(line), &r), 0);
	assert_string_equal(line, "");
	assert_true(logjson_selected("json"));
	assert_false(logjson_selected("JSON"));
	assert_false(logjson_selected("json "));
	assert_false(logjson_selected("Ljson"));
	assert_false(logjson_selected(NULL));
}

/* logformat_expand hands "json" over: sinks get the object. */
static void test_through_logformat(void **state)
{
	struct net_addr cl, srv, req;
	struct log_record r = base_record(&cl, &srv, &req);
	char line[LOGFORMAT_MAXLINE];
	size_t n;

	(void)state;
	n = logformat_expand(line, sizeof(line), "json", &r);
	assert_true(n > 0);
	assert_int_equal(line[0], '{');
	assert_int_equal(line[n - 1], '}');
	/* any other text is a 3proxy format as before */
	logformat_expand(line, sizeof(line), "Gjson %N", &r);
	assert_string_equal(line, "json PROXY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_plain_and_quotes),
	    cmocka_unit_test(test_escape_controls),
	    cmocka_unit_test(test_escape_utf8),
	    cmocka_unit_test(test_escape_never_splits),
	    cmocka_unit_test(test_record_fields),
	    cmocka_unit_test(test_record_nulls_and_negative),
	    cmocka_unit_test(test_record_hostile_strings),
	    cmocka_unit_test(test_long_values_are_cut_whole),
	    cmocka_unit_test(test_short_buffer_and_selection),
	    cmocka_unit_test(test_through_logformat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
