/*
 * Unit tests for the STARTTLS dialogue recognizers (starttls.c;
 * F-TLSPR-04, F-MAIL-06, services.md 9.3) and the handshake scanner
 * behind tlspr -c3/-c4 (tls_hsscan.c; F-TLSPR-02, services.md 9.2).
 *
 * Scanner inputs are fed from exactly-sized heap copies, one byte at a
 * time as well as whole, so AddressSanitizer catches a read past the
 * length given and a message split anywhere is still found.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "starttls.h"
#include "tls_hsscan.h"

static void expect_cmd(int proto, const char *line, int act,
		       const char *reply)
{
	char out[256];

	memset(out, 'x', sizeof(out));
	assert_int_equal(starttls_client_cmd(proto, line, out, sizeof(out)),
			 act);
	if (reply != NULL)
		assert_string_equal(out, reply);
}

static void test_proto_names(void **state)
{
	(void)state;
	assert_int_equal(starttls_proto_parse("imap"), STARTTLS_IMAP);
	assert_int_equal(starttls_proto_parse("pop3"), STARTTLS_POP3);
	assert_int_equal(starttls_proto_parse("smtp"), STARTTLS_SMTP);
	assert_int_equal(starttls_proto_parse("IMAP"), STARTTLS_NONE);
	assert_int_equal(starttls_proto_parse(""), STARTTLS_NONE);
	assert_int_equal(starttls_default_port(STARTTLS_IMAP), 143);
	assert_int_equal(starttls_default_port(STARTTLS_POP3), 110);
	assert_int_equal(starttls_default_port(STARTTLS_SMTP), 587);
	assert_string_equal(starttls_greeting(STARTTLS_POP3), "+OK Proxy\r\n");
}

static void test_client_imap(void **state)
{
	(void)state;
	expect_cmd(STARTTLS_IMAP, "a1 CAPABILITY", STARTTLS_ACT_REPLY,
		   "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
		   "a1 OK CAPABILITY completed\r\n");
	expect_cmd(STARTTLS_IMAP, "a2 starttls", STARTTLS_ACT_BEGIN,
		   "a2 OK Begin TLS negotiation\r\n");
	expect_cmd(STARTTLS_IMAP, "a3 LOGOUT", STARTTLS_ACT_QUIT,
		   "* BYE\r\na3 OK LOGOUT completed\r\n");
	expect_cmd(STARTTLS_IMAP, "a4 LOGIN u p", STARTTLS_ACT_REPLY,
		   "a4 BAD need STARTTLS first\r\n");
	/* STARTTLSX is another command */
	expect_cmd(STARTTLS_IMAP, "a5 STARTTLSX", STARTTLS_ACT_REPLY,
		   "a5 BAD need STARTTLS first\r\n");
	expect_cmd(STARTTLS_IMAP, "STARTTLS", STARTTLS_ACT_BAD, NULL);
	expect_cmd(STARTTLS_IMAP, " STARTTLS", STARTTLS_ACT_BAD, NULL);
	expect_cmd(STARTTLS_IMAP, "", STARTTLS_ACT_BAD, NULL);
}

static void test_client_imap_long_tag(void **state)
{
	char line[200], out[64];

	(void)state;
	memset(line, 't', 62);
	strcpy(line + 62, " STARTTLS");
	expect_cmd(STARTTLS_IMAP, line, STARTTLS_ACT_BEGIN, NULL);
	memset(line, 't', 63);
	strcpy(line + 63, " STARTTLS");
	expect_cmd(STARTTLS_IMAP, line, STARTTLS_ACT_BAD, NULL);
	/* a reply that does not fit is refused, never cut */
	memset(line, 't', 40);
	strcpy(line + 40, " CAPABILITY");
	assert_int_equal(starttls_client_cmd(STARTTLS_IMAP, line, out,
					     sizeof(out)),
			 STARTTLS_ACT_BAD);
}

static void test_client_pop3_smtp(void **state)
{
	char out[4];

	(void)state;
	expect_cmd(STARTTLS_POP3, "CAPA", STARTTLS_ACT_REPLY,
		   "+OK Capability list follows\r\nSTLS\r\n.\r\n");
	expect_cmd(STARTTLS_POP3, "stls", STARTTLS_ACT_BEGIN,
		   "+OK Begin TLS negotiation\r\n");
	expect_cmd(STARTTLS_POP3, "QUIT", STARTTLS_ACT_QUIT, "+OK\r\n");
	expect_cmd(STARTTLS_POP3, "USER a@b", STARTTLS_ACT_REPLY,
		   "-ERR need STLS first\r\n");
	expect_cmd(STARTTLS_SMTP, "EHLO me", STARTTLS_ACT_REPLY,
		   "250-Proxy\r\n250 STARTTLS\r\n");
	expect_cmd(STARTTLS_SMTP, "HELO me", STARTTLS_ACT_REPLY,
		   "250 Proxy\r\n");
	expect_cmd(STARTTLS_SMTP, "STARTTLS", STARTTLS_ACT_BEGIN,
		   "220 2.0.0 Ready to start TLS\r\n");
	expect_cmd(STARTTLS_SMTP, "QUIT", STARTTLS_ACT_QUIT, "221 Proxy\r\n");
	expect_cmd(STARTTLS_SMTP, "MAIL FROM:<a@b>", STARTTLS_ACT_REPLY,
		   "530 5.7.0 Must issue a STARTTLS command first\r\n");
	assert_int_equal(starttls_client_cmd(STARTTLS_SMTP, "QUIT", out,
					     sizeof(out)), STARTTLS_ACT_BAD);
	expect_cmd(STARTTLS_NONE, "STARTTLS", STARTTLS_ACT_BAD, NULL);
}

static void test_server_replies(void **state)
{
	(void)state;
	assert_true(starttls_srv_greeting_ok(STARTTLS_IMAP, "* OK ready"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_IMAP, "* BYE"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_IMAP, "* OKAY"));
	assert_true(starttls_srv_greeting_ok(STARTTLS_POP3, "+OK hi"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_POP3, "-ERR"));
	assert_true(starttls_srv_greeting_ok(STARTTLS_SMTP, "220-first"));
	assert_true(starttls_srv_greeting_ok(STARTTLS_SMTP, "220 x"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_SMTP, "2200"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_SMTP, "554 no"));
	assert_false(starttls_srv_greeting_ok(STARTTLS_SMTP, "22"));

	assert_true(starttls_srv_capa(STARTTLS_IMAP,
		    "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi"));
	assert_true(starttls_srv_capa(STARTTLS_IMAP,
		    "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN"));
	assert_false(starttls_srv_capa(STARTTLS_IMAP,
		     "* CAPABILITY IMAP4rev1 XSTARTTLS"));
	assert_false(starttls_srv_capa(STARTTLS_IMAP, "* OK STARTTLS"));
	assert_false(starttls_srv_capa(STARTTLS_IMAP,
		     "zz OK CAPABILITY STARTTLS"));
	assert_true(starttls_srv_capa(STARTTLS_POP3, "STLS"));
	assert_true(starttls_srv_capa(STARTTLS_POP3, "stls"));
	assert_false(starttls_srv_capa(STARTTLS_POP3, "STLSX"));
	assert_true(starttls_srv_capa(STARTTLS_SMTP, "250-STARTTLS"));
	assert_true(starttls_srv_capa(STARTTLS_SMTP, "250 STARTTLS"));
	assert_false(starttls_srv_capa(STARTTLS_SMTP, "250-X STARTTLS"));
	assert_false(starttls_srv_capa(STARTTLS_SMTP, "250"));
	assert_false(starttls_srv_capa(STARTTLS_SMTP, "220 STARTTLS"));

	assert_true(starttls_srv_last(STARTTLS_IMAP, "zz OK done", 0));
	assert_false(starttls_srv_last(STARTTLS_IMAP, "* CAPABILITY x", 1));
	assert_true(starttls_srv_last(STARTTLS_POP3, "-ERR no", 1));
	assert_false(starttls_srv_last(STARTTLS_POP3, "+OK list", 1));
	assert_true(starttls_srv_last(STARTTLS_POP3, ".", 0));
	assert_false(starttls_srv_last(STARTTLS_POP3, "-ERR", 0));
	assert_false(starttls_srv_last(STARTTLS_SMTP, "250-x", 1));
	assert_true(starttls_srv_last(STARTTLS_SMTP, "250 x", 0));
	assert_true(starttls_srv_last(STARTTLS_SMTP, "250", 0));

	assert_true(starttls_srv_go(STARTTLS_IMAP, "zz OK begin"));
	assert_false(starttls_srv_go(STARTTLS_IMAP, "zz NO"));
	assert_true(starttls_srv_go(STARTTLS_POP3, "+OK"));
	assert_false(starttls_srv_go(STARTTLS_POP3, "-ERR"));
	assert_true(starttls_srv_go(STARTTLS_SMTP, "220 go"));
	assert_false(starttls_srv_go(STARTTLS_SMTP, "220-go"));
	assert_false(starttls_srv_go(STARTTLS_SMTP, "454 TLS not available"));
}

/* ---- handshake scanner ---------------------------------------------- */

/* A TLS 1.2 server flight: ServerHello (4 body bytes), Certificate
 * (list of 5), ServerKeyExchange (0 bytes), CertificateRequest (2),
 * ServerHelloDone. */
static const uint8_t flight[] = {
	2, 0, 0, 4, 3, 3, 0, 0,
	11, 0, 0, 8, 0, 0, 5, 0, 0, 2, 0xaa, 0xbb,
	12, 0, 0, 0,
	13, 0, 0, 2, 1, 1,
	14, 0, 0, 0,
};

static int scan(const uint8_t *data, size_t n, size_t step,
		struct tls_hs_msg *msgs, int max)
{
	struct tls_hs_scan s;
	uint8_t *copy;
	size_t off = 0;
	int count = 0;

	memset(&s, 0, sizeof(s));
	while (off < n) {
		size_t len = n - off < step ? n - off : step, left = len;
		const uint8_t *p;

		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, data + off, len);
		p = copy;
		while (count < max && tls_hs_next(&s, &p, &left,
						  &msgs[count]) == 1)
			count++;
		assert_int_equal(left, 0);
		free(copy);
		off += len;
	}
	return count;
}

static void test_scanner(void **state)
{
	struct tls_hs_msg m[8];
	size_t step;

	(void)state;
	for (step = 1; step <= sizeof(flight); step++) {
		assert_int_equal(scan(flight, sizeof(flight), step, m, 8), 5);
		assert_int_equal(m[0].type, 2);
		assert_int_equal(m[0].len, 4);
		assert_int_equal(m[1].type, 11);
		assert_int_equal(m[1].len, 8);
		assert_int_equal(m[1].list_len, 5);
		assert_int_equal(m[2].type, 12);
		assert_int_equal(m[2].len, 0);
		assert_int_equal(m[2].list_len, 0);
		assert_int_equal(m[3].type, 13);
		assert_int_equal(m[4].type, 14);
	}
}

static int run_rules(int level, const uint8_t *data, size_t n)
{
	struct tls_hs_msg m[8];
	struct tls_cert_rule r;
	int i, count, rc = 0;

	memset(&r, 0, sizeof(r));
	r.level = level;
	count = scan(data, n, n, m, 8);
	for (i = 0; i < count && rc == 0; i++)
		rc = tls_cert_rule_server(&r, &m[i]);
	return rc;
}

static void test_cert_rules(void **state)
{
	static const uint8_t no_cert[] = { 2, 0, 0, 1, 3, 14, 0, 0, 0 };
	static const uint8_t empty_cert[] = { 11, 0, 0, 3, 0, 0, 0,
					      14, 0, 0, 0 };
	static const uint8_t no_req[] = { 11, 0, 0, 4, 0, 0, 1, 9,
					  14, 0, 0, 0 };
	struct tls_hs_msg m;

	(void)state;
	assert_int_equal(run_rules(3, flight, sizeof(flight)), 1);
	assert_int_equal(run_rules(4, flight, sizeof(flight)), 1);
	assert_int_equal(run_rules(3, no_cert, sizeof(no_cert)),
			 ERR_TLS_NO_SRV_CERT);
	assert_int_equal(run_rules(3, empty_cert, sizeof(empty_cert)),
			 ERR_TLS_NO_SRV_CERT);
	assert_int_equal(run_rules(3, no_req, sizeof(no_req)), 1);
	assert_int_equal(run_rules(4, no_req, sizeof(no_req)),
			 ERR_TLS_NO_CERT_REQUEST);
	/* not decided before ServerHelloDone */
	assert_int_equal(run_rules(4, flight, sizeof(flight) - 4), 0);

	m.type = TLS_HS_CERTIFICATE;
	m.len = 8;
	m.list_len = 5;
	assert_int_equal(tls_cert_rule_client(&m), 0);
	m.len = 3;
	m.list_len = 0;
	assert_int_equal(tls_cert_rule_client(&m), ERR_TLS_NO_CLI_CERT);
	m.type = 16;              /* ClientKeyExchange first: no cert */
	m.len = 66;
	m.list_len = 65;
	assert_int_equal(tls_cert_rule_client(&m), ERR_TLS_NO_CLI_CERT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_client_imap),
		cmocka_unit_test(test_client_imap_long_tag),
		cmocka_unit_test(test_client_pop3_smtp),
		cmocka_unit_test(test_server_replies),
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_cert_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
