/*
 * Unit tests for the pure parts of the FTP client (ftp_client.c): reply
 * assembly (single and multi-line, RFC 959 4.2), PASV/EPSV replies
 * (RFC 959, RFC 2428), the PORT/EPRT arguments ftppr reads and `ls -l`
 * listing lines, with truncated and hostile input.  F-HTTP-12, F-FTP-03.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ftp_client.h"

static int feed(struct ftp_reply *r, const char *line)
{
	size_t n = strlen(line);
	char *p = malloc(n ? n : 1);   /* exact size: overreads trip ASan */
	int rc;

	memcpy(p, line, n);
	rc = ftp_reply_line(r, p, n);
	free(p);
	return rc;
}

static void test_single_line(void **state)
{
	struct ftp_reply r;

	(void)state;
	ftp_reply_init(&r);
	assert_int_equal(feed(&r, "220 Service ready"), FTP_REPLY_DONE);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.text, "220 Service ready");
	ftp_reply_init(&r);
	assert_int_equal(feed(&r, "200"), FTP_REPLY_DONE);
	assert_int_equal(r.code, 200);
}

static void test_multi_line(void **state)
{
	struct ftp_reply r;

	(void)state;
	ftp_reply_init(&r);
	assert_int_equal(feed(&r, "230-Welcome"), FTP_REPLY_MORE);
	assert_int_equal(feed(&r, "  text"), FTP_REPLY_MORE);
	/* another code, or the same code with '-', does not end it */
	assert_int_equal(feed(&r, "220 not the end"), FTP_REPLY_MORE);
	assert_int_equal(feed(&r, "230-still going"), FTP_REPLY_MORE);
	assert_int_equal(feed(&r, "230 Done"), FTP_REPLY_DONE);
	assert_int_equal(r.code, 230);
	assert_non_null(strstr(r.text, "Welcome\n  text"));
}

static void test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"", "22", "2x0 x", "620 x", "020 x", "220x", "hello", "220\tx"
	};
	struct ftp_reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ftp_reply_init(&r);
		if (feed(&r, bad[i]) != FTP_REPLY_BAD)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_text_is_bounded(void **state)
{
	struct ftp_reply r;
	char line[600];
	int i;

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	ftp_reply_init(&r);
	assert_int_equal(feed(&r, "211-start"), FTP_REPLY_MORE);
	for (i = 0; i < 20; i++)
		assert_int_equal(feed(&r, line), FTP_REPLY_MORE);
	assert_int_equal(feed(&r, "211 end"), FTP_REPLY_DONE);
	assert_true(r.textlen < sizeof(r.text));
	assert_int_equal(strlen(r.text), r.textlen);
}

static void test_pasv(void **state)
{
	const char *s;
	uint8_t ip[4];
	uint16_t port;

	(void)state;
	s = "227 Entering Passive Mode (192,168,1,2,19,137).";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), 0);
	assert_int_equal(ip[0], 192);
	assert_int_equal(ip[3], 2);
	assert_int_equal(port, 19 * 256 + 137);
	s = "227 =10,0,0,1,0,21";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), 0);
	assert_int_equal(port, 21);
	s = "227 Entering Passive Mode (192,168,1,2,19)";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), -1);
	s = "227 (192,168,1,256,1,1)";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), -1);
	s = "227 (1,2,3,4,0,0)";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), -1);
	s = "227 (1,2,3,4,99999999999999999999,1)";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), -1);
	s = "200 (1,2,3,4,5,6)";
	assert_int_equal(ftp_parse_pasv(s, strlen(s), ip, &port), -1);
	s = "227 (1,2,3,4,5,6)";
	/* every truncation fails cleanly */
	for (size_t n = 0; n < strlen(s) - 2; n++)
		assert_int_equal(ftp_parse_pasv(s, n, ip, &port), -1);
}

static void test_epsv(void **state)
{
	const char *s;
	uint16_t port;

	(void)state;
	s = "229 Entering Extended Passive Mode (|||6446|)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), 0);
	assert_int_equal(port, 6446);
	s = "229 ok (!!!21!)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), 0);
	assert_int_equal(port, 21);
	s = "229 (|||0|)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), -1);
	s = "229 (|||70000|)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), -1);
	s = "229 (||6446|)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), -1);
	s = "229 (|||6446!)";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), -1);
	s = "229 no parenthesis";
	assert_int_equal(ftp_parse_epsv(s, strlen(s), &port), -1);
	s = "229 (|||6446|)";
	for (size_t n = 0; n < strlen(s); n++)
		assert_int_equal(ftp_parse_epsv(s, n, &port), -1);
}

/* ftp_parse_port on an exact-size copy: overreads trip ASan */
static int port_of(const char *s, size_t n, uint8_t ip[4], uint16_t *port)
{
	char *p = malloc(n ? n : 1);
	int rc;

	memcpy(p, s, n);
	rc = ftp_parse_port(p, n, ip, port);
	free(p);
	return rc;
}

static int eprt_of(const char *s, size_t n, int *af, uint16_t *port)
{
	char *p = malloc(n ? n : 1);
	int rc;

	memcpy(p, s, n);
	rc = ftp_parse_eprt(p, n, af, port);
	free(p);
	return rc;
}

/* PORT h1,h2,h3,h4,p1,p2 (RFC 959 4.1.2), as ftppr reads it (F-FTP-03) */
static void test_port_arg(void **state)
{
	static const char *const bad[] = {
		"", "1,2,3,4,5", "1,2,3,4,5,6,7", "1,2,3,4,0,0",
		"256,0,0,1,4,1", "1,2,3,4,5,256", "1,2,3,4,5,a",
		"1,2,3,4,5,6x", "1,,3,4,5,6", "(1,2,3,4,5,6)", "-1,2,3,4,5,6",
		"1.2.3.4,5,6", "99999999999,0,0,1,4,1"
	};
	const char *s;
	uint8_t ip[4];
	uint16_t port;
	size_t i;

	(void)state;
	s = "127,0,0,1,4,1";
	assert_int_equal(port_of(s, strlen(s), ip, &port), 0);
	assert_int_equal(ip[0], 127);
	assert_int_equal(ip[3], 1);
	assert_int_equal(port, 1025);
	s = " 10,1,2,3,255,255 ";
	assert_int_equal(port_of(s, strlen(s), ip, &port), 0);
	assert_int_equal(ip[1], 1);
	assert_int_equal(port, 65535);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(port_of(bad[i], strlen(bad[i]), ip, &port),
				 -1);
	s = "10,0,0,1,4,1";
	for (i = 0; i < strlen(s); i++)
		assert_int_equal(port_of(s, i, ip, &port), -1);
}

/* EPRT <d>af<d>addr<d>port<d> (RFC 2428 section 2) */
static void test_eprt_arg(void **state)
{
	static const char *const bad[] = {
		"", "|", "|1|", "|1|1.2.3.4|", "|1|1.2.3.4|0|", "|3|::1|21|",
		"|0|::1|21|", "|1||21|", "|1|1.2.3.4|70000|",
		"|1|1.2.3.4|21", "|1|1.2.3.4|21|x", "|1|host.name|21|",
		"1|1|1.2.3.4|21|1", "|1!1.2.3.4!21!", " |1|1.2.3.4|21|"
	};
	const char *s;
	uint16_t port;
	size_t i;
	int af;

	(void)state;
	s = "|1|132.235.1.2|6275|";
	assert_int_equal(eprt_of(s, strlen(s), &af, &port), 0);
	assert_int_equal(af, 1);
	assert_int_equal(port, 6275);
	s = "!2!1080::8:800:200C:417A!5282!";
	assert_int_equal(eprt_of(s, strlen(s), &af, &port), 0);
	assert_int_equal(af, 2);
	assert_int_equal(port, 5282);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(eprt_of(bad[i], strlen(bad[i]), &af, &port),
				 -1);
	s = "|1|132.235.1.2|6275|";
	for (i = 0; i < strlen(s); i++)
		assert_int_equal(eprt_of(s, i, &af, &port), -1);
}

static void test_list_lines(void **state)
{
	struct ftp_list_entry e;
	const char *s;

	(void)state;
	s = "-rw-r--r--   1 ftp ftp      1234 Jan 01 12:00 hello world.txt";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), 0);
	assert_int_equal(e.type, '-');
	assert_int_equal(e.namelen, strlen("hello world.txt"));
	assert_memory_equal(e.name, "hello world.txt", e.namelen);
	assert_memory_equal(e.size, "1234", e.sizelen);
	assert_memory_equal(e.date, "Jan 01 12:00", e.datelen);
	s = "drwxr-xr-x 2 0 0 4096 Mar  3  2020 pub";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), 0);
	assert_int_equal(e.type, 'd');
	assert_memory_equal(e.name, "pub", e.namelen);
	s = "lrwxrwxrwx 1 0 0 7 Mar 3 2020 link -> target";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), 0);
	assert_int_equal(e.type, 'l');
	assert_int_equal(e.namelen, 4);
	s = "total 12";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), -1);
	s = "-rw-r--r-- 1 ftp ftp 1234 Jan 01 12:00";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), -1);
	s = "01-01-20  12:00PM       <DIR>          dos";
	assert_int_equal(ftp_parse_list_line(s, strlen(s), &e), -1);
	s = "-rw-r--r-- 1 ftp ftp 1234 Jan 01 12:00 x";
	for (size_t n = 0; n < strlen(s); n++)
		assert_int_equal(ftp_parse_list_line(s, n, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_text_is_bounded),
		cmocka_unit_test(test_pasv),
		cmocka_unit_test(test_epsv),
		cmocka_unit_test(test_port_arg),
		cmocka_unit_test(test_eprt_arg),
		cmocka_unit_test(test_list_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
