/*
 * test_logformat.c - logformat_expand() against logging.md §3.
 *
 * Every record is built by hand with a fixed wall clock
 * (2026-11-23 18:31:42.256 UTC), so the tests need no clock and no
 * network.  Local-time cases set TZ to a POSIX rule string, which needs
 * no zone database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/un.h>

#include "logformat.h"

#define T_SEC  1795458702 /* 2026-11-23 18:31:42 UTC */
#define T_NSEC 256000000L
#define T_TEXT "GET http://example.com/ HTTP/1.1"

static struct net_addr a_client, a_local, a_ext, a_remote, a_req;

static void
set_ip(struct net_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		a->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		a->len = sizeof(*s4);
	}
}

/* The record behind the example line of logging.md §3. */
static struct log_record
base_record(void)
{
	struct log_record r;

	memset(&r, 0, sizeof(r));
	set_ip(&a_client, "10.0.0.5", 51234);
	set_ip(&a_local, "10.0.0.1", 3128);
	set_ip(&a_ext, "192.0.2.7", 40000);
	set_ip(&a_remote, "93.184.216.34", 80);
	set_ip(&a_req, "93.184.216.34", 80);
	r.now.tv_sec = T_SEC;
	r.now.tv_nsec = T_NSEC;
	r.duration_ms = 2000;
	r.service = "PROXY";
	r.port = 3128;
	r.err = 0;
	r.user = "bob";
	r.client = &a_client;
	r.local = &a_local;
	r.external = &a_ext;
	r.remote = &a_remote;
	r.requested = &a_req;
	r.host = "example.com";
	r.bytes_in = 12890;
	r.bytes_out = 517;
	r.hops = 0;
	r.text = T_TEXT;
	return r;
}

/* Expand into a static buffer and check the return value is the
 * length of what was written. */
static const char *
xp(const char *fmt, const struct log_record *r)
{
	static char buf[LOGFORMAT_MAXLINE];
	size_t n;

	memset(buf, 'Z', sizeof(buf));
	n = logformat_expand(buf, sizeof(buf), fmt, r);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* ---- whole lines ----------------------------------------------------- */

static void
test_default_format(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp(LOGFORMAT_DEFAULT, &r),
	                    "261123183142.256 3128 00000 bob 10.0.0.5:51234 "
	                    "93.184.216.34:80 517 12890 0 "
	                    "GET http://example.com/ HTTP/1.1");
}

static void
test_null_format_is_default(void **state)
{
	struct log_record r = base_record();
	char want[LOGFORMAT_MAXLINE];

	snprintf(want, sizeof(want), "%s", xp(LOGFORMAT_DEFAULT, &r));
	assert_string_equal(xp(NULL, &r), want);
}

static void
test_empty_format(void **state)
{
	struct log_record r = base_record();
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(logformat_expand(buf, sizeof(buf), "", &r), 0);
	assert_string_equal(buf, "");
	/* only a zone flag: it is not printed */
	assert_string_equal(xp("G", &r), "");
	assert_string_equal(xp("L", &r), "");
}

static void
test_literal_text(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("Ghello, world", &r), "hello, world");
	/* the zone flag is whatever the first character is */
	assert_string_equal(xp("xyz", &r), "yz");
}

/* logging.md §3.2: the Squid access.log format from the HowTo. */
static void
test_squid_format(void **state)
{
	struct log_record r = base_record();

	r.user = "bob smith";
	assert_string_equal(
	    xp("- +_G%t.%. %D %C TCP_MISS/200 %I %1-1T %2-2T %U "
	       "DIRECT/%R application/unknown",
	       &r),
	    "1795458702.256 2000 10.0.0.5 TCP_MISS/200 12890 GET "
	    "http://example.com/ bob_smith DIRECT/93.184.216.34 "
	    "application/unknown");
}

/* logging.md §3.2: the Apache common log format, as it reads after the
 * config tokenizer has turned "" into ". */
static void
test_apache_format(void **state)
{
	struct log_record r = base_record();

	set_tz("UTC0");
	r.err = 519;
	assert_string_equal(
	    xp("-\"+_L%C - %U [%d/%o/%Y:%H:%M:%S %z] \"%T\" %E %I", &r),
	    "10.0.0.5 - bob [23/Nov/2026:18:31:42 +0000] "
	    "\"GET http://example.com/ HTTP/1.1\" 00519 12890");
}

/* ---- time ------------------------------------------------------------ */

static void
test_date_macros_utc(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%y|%Y|%m|%o|%d|%H|%M|%S|%t|%.|%z", &r),
	                    "26|2026|11|Nov|23|18|31|42|1795458702|256|+0000");
	/* lower-case g is UTC too */
	set_tz("IST-5:30");
	assert_string_equal(xp("g%H:%M %z", &r), "18:31 +0000");
}

static void
test_date_padding(void **state)
{
	struct log_record r = base_record();

	r.now.tv_sec = 946782245; /* 2000-01-02 03:04:05 UTC */
	r.now.tv_nsec = 7000000;
	assert_string_equal(xp("G%y%m%d %H%M%S %.", &r), "000102 030405 007");
	assert_string_equal(xp("G%Y-%o", &r), "2000-Jan");
	r.now.tv_sec = 12345;
	r.now.tv_nsec = 999999999;
	assert_string_equal(xp("G%t.%.", &r), "0000012345.999");
	r.now.tv_nsec = 0;
	assert_string_equal(xp("G%.", &r), "000");
}

static void
test_month_names(void **state)
{
	static const char *const names[] = {"Jan", "Feb", "Mar", "Apr",
	                                    "May", "Jun", "Jul", "Aug",
	                                    "Sep", "Oct", "Nov", "Dec"};
	struct log_record r = base_record();
	struct tm tm;
	char want[16];
	int i;

	for (i = 0; i < 12; i++) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = 126;
		tm.tm_mon = i;
		tm.tm_mday = 15;
		r.now.tv_sec = timegm(&tm);
		snprintf(want, sizeof(want), "%s %02d", names[i], i + 1);
		assert_string_equal(xp("G%o %m", &r), want);
	}
}

static void
test_local_zone(void **state)
{
	struct log_record r = base_record();

	set_tz("IST-5:30"); /* UTC+05:30: the next day already */
	assert_string_equal(xp("L%Y-%m-%d %H:%M:%S %z", &r),
	                    "2026-11-24 00:01:42 +0530");
	set_tz("EST5");
	assert_string_equal(xp("L%d %H:%M %z", &r), "23 13:31 -0500");
	/* not whole hours and negative: real minutes (see logformat.c) */
	set_tz("NST3:30");
	assert_string_equal(xp("L%H:%M %z", &r), "15:01 -0330");
	/* any flag other than G/g means local time */
	set_tz("EST5");
	assert_string_equal(xp("*%H", &r), "13");
	/* even a '%' in first place is taken as the flag */
	assert_string_equal(xp("%%H", &r), "13");
	set_tz("UTC0");
}

static void
test_year_boundary_zone(void **state)
{
	struct log_record r = base_record();

	r.now.tv_sec = 1798761600; /* 2027-01-01 00:00:00 UTC */
	r.now.tv_nsec = 0;
	set_tz("EST5");
	assert_string_equal(xp("L%Y-%m-%d %H %z", &r), "2026-12-31 19 -0500");
	set_tz("JST-9");
	r.now.tv_sec = 1798747200; /* 2026-12-31 20:00:00 UTC */
	assert_string_equal(xp("L%Y-%m-%d %H %z", &r), "2027-01-01 05 +0900");
	set_tz("UTC0");
}

static void
test_duration_and_rates(void **state)
{
	struct log_record r = base_record();

	/* %b from %O (client->server), %B from %I (server->client) */
	assert_string_equal(xp("G%D %b %B", &r), "2000 258 6445");
	r.duration_ms = 0;
	assert_string_equal(xp("G%D %b %B", &r), "0 0 0");
	r.duration_ms = 3;
	r.bytes_out = 10;
	r.bytes_in = 2;
	assert_string_equal(xp("G%b %B", &r), "3333 666");
	/* huge counts saturate rather than wrap */
	r.duration_ms = 1;
	r.bytes_out = UINT64_MAX;
	r.bytes_in = UINT64_MAX / 1000;
	assert_string_equal(xp("G%b %B", &r),
	                    "18446744073709551615 18446744073709551000");
}

/* ---- connection macros ------------------------------------------------ */

static void
test_user(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%U", &r), "bob");
	r.user = NULL;
	assert_string_equal(xp("G%U", &r), "-");
	r.user = "";
	assert_string_equal(xp("G%U", &r), "-");
}

static void
test_service_name(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%N.%p", &r), "PROXY.3128");
	r.service = "abcdefghijklmnopqrstuvwxyz";
	assert_string_equal(xp("G%N|", &r), "abcdefghijklmnopqrst|");
	r.service = NULL;
	assert_string_equal(xp("G[%N]", &r), "[]");
}

static void
test_error_code(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%E", &r), "00000");
	r.err = 13;
	assert_string_equal(xp("G%E", &r), "00013");
	r.err = 519;
	assert_string_equal(xp("G%E", &r), "00519");
	r.err = 123456;
	assert_string_equal(xp("G%E", &r), "123456");
}

static void
test_addresses_ipv4(void **state)
{
	struct log_record r = base_record();

	set_ip(&a_req, "198.51.100.9", 8443);
	assert_string_equal(xp("G%C:%c %i %e %R:%r %Q:%q", &r),
	                    "10.0.0.5:51234 10.0.0.1 192.0.2.7 "
	                    "93.184.216.34:80 198.51.100.9:8443");
}

static void
test_addresses_null(void **state)
{
	struct log_record r = base_record();
	struct net_addr unset;

	r.client = r.local = r.external = r.remote = r.requested = NULL;
	assert_string_equal(xp("G%C:%c %i %e %R:%r %Q:%q", &r),
	                    "0.0.0.0:0 0.0.0.0 0.0.0.0 0.0.0.0:0 0.0.0.0:0");
	/* an address struct that was never filled in is the same */
	memset(&unset, 0, sizeof(unset));
	r.remote = &unset;
	assert_string_equal(xp("G%R:%r", &r), "0.0.0.0:0");
}

static void
test_addresses_ipv6(void **state)
{
	struct log_record r = base_record();

	set_ip(&a_client, "2001:db8:0:0:0:0:0:1", 443);
	set_ip(&a_remote, "2001:db8:85a3::8a2e:370:7334", 8080);
	assert_string_equal(
	    xp("G%C %c %R %r", &r),
	    "2001:db8::1 443 2001:db8:85a3::8a2e:370:7334 8080");
	set_ip(&a_local, "::1", 1);
	assert_string_equal(xp("G%i", &r), "::1");
}

static void
test_addresses_unix(void **state)
{
	struct log_record r = base_record();
	struct net_addr u;
	struct sockaddr_un *su = (struct sockaddr_un *)&u.ss;
	static const char path[] = "/run/3proxy/ctl.sock";

	memset(&u, 0, sizeof(u));
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, path, sizeof(path));
	u.len = offsetof(struct sockaddr_un, sun_path) + sizeof(path);
	r.client = &u;
	assert_string_equal(xp("G%C", &r), "ctl.sock");
	/* abstract: leading NUL byte, printed with '@' */
	memset(&u, 0, sizeof(u));
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, "\0px", 3);
	u.len = offsetof(struct sockaddr_un, sun_path) + 3;
	assert_string_equal(xp("G%C", &r), "@px");
}

static void
test_host(void **state)
{
	struct log_record r = base_record();
	struct net_addr v6;

	assert_string_equal(xp("G%n", &r), "example.com");
	r.host = NULL;
	assert_string_equal(xp("G%n", &r), "[93.184.216.34]");
	r.host = "";
	assert_string_equal(xp("G%n", &r), "[93.184.216.34]");
	set_ip(&v6, "2001:db8::1", 80);
	r.requested = &v6;
	r.host = "2001:db8::1";
	assert_string_equal(xp("G%n", &r), "[2001:db8::1]");
	r.requested = NULL;
	r.host = NULL;
	assert_string_equal(xp("G%n", &r), "[0.0.0.0]");
}

static void
test_counters(void **state)
{
	struct log_record r = base_record();

	r.hops = 2;
	assert_string_equal(xp("G%I %O %h %L", &r), "12890 517 2 0");
	r.bytes_in = UINT64_MAX;
	r.bytes_out = 0;
	assert_string_equal(xp("G%I %O", &r), "18446744073709551615 0");
}

static void
test_text(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G<%T>", &r), "<" T_TEXT ">");
	r.text = NULL;
	assert_string_equal(xp("G<%T>", &r), "<>");
	assert_string_equal(xp("G<%1-2T>", &r), "<>");
	/* without a filter, control characters pass through */
	r.text = "a\tb";
	assert_string_equal(xp("G%T", &r), "a\tb");
}

static void
test_percent_and_unknown(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G100%%", &r), "100%");
	assert_string_equal(xp("G%x%a%-%!", &r), "xa-!");
	/* a '%' at the very end is printed as is */
	assert_string_equal(xp("Gend%", &r), "end%");
	assert_string_equal(xp("G%", &r), "%");
}

/* ---- %X-YT ------------------------------------------------------------ */

static void
test_field_ranges(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%1-1T", &r), "GET");
	assert_string_equal(xp("G%2-2T", &r), "http://example.com/");
	assert_string_equal(xp("G%3-3T", &r), "HTTP/1.1");
	assert_string_equal(xp("G%1-2T", &r), "GET http://example.com/");
	assert_string_equal(xp("G%2-3T", &r), "http://example.com/ HTTP/1.1");
	assert_string_equal(xp("G%1-3T", &r), T_TEXT);
	assert_string_equal(xp("G%2-99T", &r), "http://example.com/ HTTP/1.1");
	assert_string_equal(xp("G[%4-5T]", &r), "[]");
	assert_string_equal(xp("G[%3-2T]", &r), "[]");
	/* the range is followed by normal text */
	assert_string_equal(xp("G%1-1T/%3-3T!", &r), "GET/HTTP/1.1!");
}

static void
test_field_separators(void **state)
{
	struct log_record r = base_record();

	/* a run of whitespace is one separator */
	r.text = "a   b \t c";
	assert_string_equal(xp("G%1-2T", &r), "a b");
	assert_string_equal(xp("G%2-3T", &r), "b c");
	assert_string_equal(xp("G%3-3T", &r), "c");
	/* the separator printed is the last character of the run */
	r.text = "a \tb";
	assert_string_equal(xp("G%1-2T", &r), "a\tb");
	/* leading whitespace makes field 1 empty */
	r.text = " x y";
	assert_string_equal(xp("G[%1-1T]", &r), "[]");
	assert_string_equal(xp("G[%2-2T]", &r), "[x]");
}

/* logging.md §3.1: "%NT (single number) prints field 1, then the
 * literal characters that follow the first digit". */
static void
test_single_number_quirk(void **state)
{
	struct log_record r = base_record();

	assert_string_equal(xp("G%1T", &r), "GETT");
	assert_string_equal(xp("G%2T", &r), "GETT");
	assert_string_equal(xp("G%12T", &r), "GET2T");
	/* no T: nothing printed, only the first digit is consumed */
	assert_string_equal(xp("G%5x", &r), "x");
	assert_string_equal(xp("G%56", &r), "6");
	/* an unfinished range at the end of the format */
	assert_string_equal(xp("Ga%1-2", &r), "a");
	assert_string_equal(xp("Ga%1-", &r), "a-");
}

/* ---- filter prefix ---------------------------------------------------- */

static void
test_filter_space(void **state)
{
	struct log_record r = base_record();

	r.user = "bob smith";
	r.host = "odd host";
	r.service = "my svc";
	assert_string_equal(xp("- +_G%U|%n|%T|%N|a b", &r),
	                    "bob_smith|odd_host|GET_http://example.com/_"
	                    "HTTP/1.1|my svc|a b");
	/* field-selected %T is filtered too, separators included */
	assert_string_equal(xp("- +_G%2-3T", &r),
	                    "http://example.com/_HTTP/1.1");
}

static void
test_filter_set_and_controls(void **state)
{
	struct log_record r = base_record();

	r.text = "a,b%c d";
	assert_string_equal(xp("-,%+ G%T", &r), "a b c d");
	r.text = "x\ty\r\n";
	r.user = "u\001v";
	assert_string_equal(xp("-'+_G%T|%U", &r), "x_y__|u_v");
	r.text = "it's";
	assert_string_equal(xp("-'+_G%T", &r), "it_s");
	/* an empty set still replaces control characters */
	r.text = "a\tb c";
	assert_string_equal(xp("-+.G%T", &r), "a.b c");
	/* 0x1f is the last control character; space is not one */
	r.text = "a\x1f"
	         "b c";
	assert_string_equal(xp("-x+_G%T", &r), "a_b c");
	/* the user placeholder is not a value and is not filtered */
	r.user = NULL;
	assert_string_equal(xp("--+_G%U", &r), "-");
	/* bytes above 0x7f are not control characters */
	r.text = "caf\xc3\xa9";
	assert_string_equal(xp("- +_G%T", &r), "caf\xc3\xa9");
}

/* logging.md 1.3 (F-LOG-07): for ODBC sinks single quotes in %U, %n
 * and %T values are doubled, after the filter; literal text and other
 * macros are left alone. */
static void
test_sql_quote(void **state)
{
	struct log_record r = base_record();

	r.user = "o'brien";
	r.host = "it's.example";
	r.text = "say 'hi' now";
	assert_string_equal(xp("G'%U','%n','%T'", &r),
	                    "'o'brien','it's.example','say 'hi' now'");
	r.sql_quote = 1;
	assert_string_equal(xp("G'%U','%n','%T'", &r),
	                    "'o''brien','it''s.example','say ''hi'' now'");
	/* field-selected %T too */
	assert_string_equal(xp("G'%2-2T'", &r), "'''hi'''");
	/* a filter on the quote replaces it first: nothing left to double */
	assert_string_equal(xp("-'+_G'%U'", &r), "'o_brien'");
	/* other filters keep the doubling, and control characters go */
	r.user = "a'\tb";
	assert_string_equal(xp("-;+_G'%U'", &r), "'a''_b'");
	/* a filter that turns characters into quotes: those are doubled */
	r.user = "a;b";
	assert_string_equal(xp("-;+'G%U", &r), "a''b");
	/* the placeholder and the service name are not values */
	r.user = NULL;
	r.service = "it's";
	assert_string_equal(xp("G%U %N", &r), "- it's");
}

static void
test_filter_not_recognised(void **state)
{
	struct log_record r = base_record();

	/* '+' with nothing after it: no filter, '-' is the zone flag */
	r.text = "a b";
	assert_string_equal(xp("-ab+", &r), "ab+");
	/* no '+' at all: no filter either */
	assert_string_equal(xp("-G%T", &r), "Ga b");
	/* the set ends at the first '+', wherever it is: here the set is
	 * "G%T", 'x' replaces, and '|' is the zone flag */
	assert_string_equal(xp("-G%T+x|%T", &r), "a b");
}

/* ---- bounds ------------------------------------------------------------ */

/* Every output size from 0 up to the full line: the result is a prefix
 * of the full line, NUL-terminated, and nothing is written past outlen
 * (each buffer is a heap block of exactly outlen bytes, so ASan sees
 * any overflow). */
static void
test_truncation(void **state)
{
	static const char *const fmts[] = {
	    LOGFORMAT_DEFAULT,
	    "- +_G%U %n %1-3T %2T %z %o %N",
	    "G%t%t%t%E%E%I%I%O%b%B",
	};
	struct log_record r = base_record();
	char full[LOGFORMAT_MAXLINE];
	size_t flen, n, got, f;
	char *buf;

	r.user = "a user";
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		flen = logformat_expand(full, sizeof(full), fmts[f], &r);
		assert_true(flen > 10);
		for (n = 1; n <= flen + 2; n++) {
			buf = malloc(n);
			assert_non_null(buf);
			got = logformat_expand(buf, n, fmts[f], &r);
			assert_int_equal(got, n - 1 < flen ? n - 1 : flen);
			assert_int_equal(strlen(buf), got);
			assert_memory_equal(buf, full, got);
			free(buf);
		}
	}
}

static void
test_zero_outlen(void **state)
{
	struct log_record r = base_record();
	char guard = 'Z';

	assert_int_equal(logformat_expand(&guard, 0, LOGFORMAT_DEFAULT, &r), 0);
	assert_int_equal(guard, 'Z');
}

static void
test_long_text_is_cut(void **state)
{
	struct log_record r = base_record();
	char *text = malloc(3 * LOGFORMAT_MAXLINE);
	char *buf = malloc(LOGFORMAT_MAXLINE);
	size_t n;

	assert_non_null(text);
	assert_non_null(buf);
	memset(text, 'x', 3 * LOGFORMAT_MAXLINE - 1);
	text[3 * LOGFORMAT_MAXLINE - 1] = '\0';
	r.text = text;
	n = logformat_expand(buf, LOGFORMAT_MAXLINE, "G%T%1-1T%T", &r);
	assert_int_equal(n, LOGFORMAT_MAXLINE - 1);
	assert_int_equal(strlen(buf), LOGFORMAT_MAXLINE - 1);
	free(text);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_format),
	    cmocka_unit_test(test_null_format_is_default),
	    cmocka_unit_test(test_empty_format),
	    cmocka_unit_test(test_literal_text),
	    cmocka_unit_test(test_squid_format),
	    cmocka_unit_test(test_apache_format),
	    cmocka_unit_test(test_date_macros_utc),
	    cmocka_unit_test(test_date_padding),
	    cmocka_unit_test(test_month_names),
	    cmocka_unit_test(test_local_zone),
	    cmocka_unit_test(test_year_boundary_zone),
	    cmocka_unit_test(test_duration_and_rates),
	    cmocka_unit_test(test_user),
	    cmocka_unit_test(test_service_name),
	    cmocka_unit_test(test_error_code),
	    cmocka_unit_test(test_addresses_ipv4),
	    cmocka_unit_test(test_addresses_null),
	    cmocka_unit_test(test_addresses_ipv6),
	    cmocka_unit_test(test_addresses_unix),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_percent_and_unknown),
	    cmocka_unit_test(test_field_ranges),
	    cmocka_unit_test(test_field_separators),
	    cmocka_unit_test(test_single_number_quirk),
	    cmocka_unit_test(test_filter_space),
	    cmocka_unit_test(test_filter_set_and_controls),
	    cmocka_unit_test(test_sql_quote),
	    cmocka_unit_test(test_filter_not_recognised),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_zero_outlen),
	    cmocka_unit_test(test_long_text_is_cut),
	};

	set_tz("UTC0");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
