/*
 * Unit tests for the pure SOCKS parsers and reply builders
 * (socks_parse.c; F-SOCKS-01..09).
 *
 * Every message is also fed to its parser from an exactly-sized heap
 * copy, one prefix at a time, so AddressSanitizer catches any read past
 * the length the parser was given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "socks_parse.h"

/* ---- helpers ------------------------------------------------------------- */

enum kind { K_METHODS, K_AUTH, K_REQ5, K_REQ4, K_UDP };

union out {
	unsigned offered;
	struct socks_auth auth;
	struct socks_request req;
	struct socks_target udp;
};

/* Run one parser on an exact-size heap copy of p[0..n). */
static int
run(enum kind k, const uint8_t *p, size_t n, union out *o, size_t *need)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, p, n);
	switch (k) {
	case K_METHODS:
		rc = socks5_parse_methods(copy, n, &o->offered, need);
		break;
	case K_AUTH:
		rc = socks5_parse_auth(copy, n, &o->auth, need);
		break;
	case K_REQ5:
		rc = socks5_parse_request(copy, n, &o->req, need);
		break;
	case K_REQ4:
		rc = socks4_parse_request(copy, n, &o->req, need);
		break;
	default:
		rc = socks5_parse_udp(copy, n, &o->udp, need);
		break;
	}
	free(copy);
	return rc;
}

/* Every strict prefix of a complete message is "truncated": the parser
 * asks for more than it has, and never for more than the whole.  Prefixes
 * shorter than split give code1, longer ones code2. */
static void
check_prefixes2(enum kind k, const uint8_t *p, size_t full, size_t split,
		int code1, int code2)
{
	union out o;
	size_t n, need;

	for (n = 0; n < full; n++) {
		int rc = run(k, p, n, &o, &need);

		assert_int_equal(rc, n < split ? code1 : code2);
		assert_true(need > n);
		assert_true(need <= full);
	}
	assert_int_equal(run(k, p, full, &o, &need), 0);
	assert_int_equal(need, full);
}

static void
check_prefixes(enum kind k, const uint8_t *p, size_t full, int code)
{
	check_prefixes2(k, p, full, full, code, code);
}

/* ---- method negotiation (RFC 1928 §3) ------------------------------------ */

static void
test_methods_valid(void **state)
{
	static const uint8_t m[] = { 5, 3, 0x00, 0x01, 0x02, 0xAA };
	union out o;
	size_t need;

	(void)state;
	check_prefixes(K_METHODS, m, 5, ERR_SOCKS_SHORT_METHODS);
	/* bytes after the message are not part of it */
	assert_int_equal(run(K_METHODS, m, sizeof(m), &o, &need), 0);
	assert_int_equal(need, 5);
	assert_int_equal(o.offered, SOCKS_OFFER_NONE | SOCKS_OFFER_USERPASS);
}

static void
test_methods_counts(void **state)
{
	uint8_t m[2 + 255];
	union out o;
	size_t need;

	(void)state;
	/* NMETHODS 0: complete, nothing offered */
	m[0] = 5;
	m[1] = 0;
	assert_int_equal(run(K_METHODS, m, 2, &o, &need), 0);
	assert_int_equal(need, 2);
	assert_int_equal(o.offered, 0);
	/* NMETHODS 1 */
	m[1] = 1;
	m[2] = 0x02;
	assert_int_equal(run(K_METHODS, m, 3, &o, &need), 0);
	assert_int_equal(o.offered, SOCKS_OFFER_USERPASS);
	/* NMETHODS 255, none known */
	m[1] = 255;
	memset(m + 2, 0x80, 255);
	check_prefixes(K_METHODS, m, sizeof(m), ERR_SOCKS_SHORT_METHODS);
	assert_int_equal(run(K_METHODS, m, sizeof(m), &o, &need), 0);
	assert_int_equal(o.offered, 0);
	/* a count beyond the bytes: asks for exactly the rest */
	assert_int_equal(run(K_METHODS, m, 10, &o, &need),
			 ERR_SOCKS_SHORT_METHODS);
	assert_int_equal(need, 257);
}

static void
test_methods_bad_version(void **state)
{
	static const uint8_t m[] = { 4, 1, 0 };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_METHODS, m, 1, &o, &need), ERR_SOCKS_VERSION);
	assert_int_equal(need, 1);
	assert_int_equal(run(K_METHODS, m, 3, &o, &need), ERR_SOCKS_VERSION);
}

static void
test_choose_method(void **state)
{
	const unsigned none = SOCKS_OFFER_NONE, up = SOCKS_OFFER_USERPASS;

	(void)state;
	/* default (F-SOCKS-08): 00 if offered, else 02 */
	assert_int_equal(socks5_choose_method(none | up, SOCKS_USER_OPTIONAL),
			 0);
	assert_int_equal(socks5_choose_method(up, SOCKS_USER_OPTIONAL), 2);
	assert_int_equal(socks5_choose_method(0, SOCKS_USER_OPTIONAL), 0xFF);
	/* -u: never 02 */
	assert_int_equal(socks5_choose_method(none | up, SOCKS_USER_NEVER), 0);
	assert_int_equal(socks5_choose_method(up, SOCKS_USER_NEVER), 0xFF);
	/* -u2: 02 or nothing */
	assert_int_equal(socks5_choose_method(none | up, SOCKS_USER_REQUIRED),
			 2);
	assert_int_equal(socks5_choose_method(none, SOCKS_USER_REQUIRED), 0xFF);
	/* a chain that wants a user: 02 first */
	assert_int_equal(socks5_choose_method(none | up, SOCKS_USER_PREFERRED),
			 2);
	assert_int_equal(socks5_choose_method(none, SOCKS_USER_PREFERRED), 0);
	assert_int_equal(socks5_choose_method(0, SOCKS_USER_PREFERRED), 0xFF);
}

/* ---- RFC 1929 ------------------------------------------------------------ */

static void
test_auth_valid(void **state)
{
	static const uint8_t a[] = { 1, 5, 'a', 'l', 'i', 'c', 'e',
				     3, 'p', 'w', '!', 0xEE };
	union out o;
	size_t need;

	(void)state;
	check_prefixes(K_AUTH, a, 11, ERR_SOCKS_SHORT_AUTH);
	assert_int_equal(run(K_AUTH, a, sizeof(a), &o, &need), 0);
	assert_int_equal(need, 11);
	assert_string_equal(o.auth.user, "alice");
	assert_string_equal(o.auth.pass, "pw!");
}

static void
test_auth_lengths(void **state)
{
	uint8_t a[3 + 255 + 255];
	union out o;
	size_t need;

	(void)state;
	/* empty name and password */
	a[0] = 1;
	a[1] = 0;
	a[2] = 0;
	assert_int_equal(run(K_AUTH, a, 3, &o, &need), 0);
	assert_string_equal(o.auth.user, "");
	assert_string_equal(o.auth.pass, "");
	/* 255 and 255 */
	a[1] = 255;
	memset(a + 2, 'u', 255);
	a[257] = 255;
	memset(a + 258, 'p', 255);
	check_prefixes(K_AUTH, a, sizeof(a), ERR_SOCKS_SHORT_AUTH);
	assert_int_equal(run(K_AUTH, a, sizeof(a), &o, &need), 0);
	assert_int_equal(strlen(o.auth.user), 255);
	assert_int_equal(strlen(o.auth.pass), 255);
	/* ULEN beyond the buffer */
	assert_int_equal(run(K_AUTH, a, 20, &o, &need), ERR_SOCKS_SHORT_AUTH);
	assert_int_equal(need, 258);
	/* a NUL ends the name as a C string */
	a[1] = 3;
	a[2] = 'a';
	a[3] = 0;
	a[4] = 'b';
	a[5] = 0;
	assert_int_equal(run(K_AUTH, a, 6, &o, &need), 0);
	assert_string_equal(o.auth.user, "a");
	assert_string_equal(o.auth.pass, "");
}

static void
test_auth_bad_version(void **state)
{
	static const uint8_t a[] = { 5, 1, 'a', 1, 'b' };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_AUTH, a, 1, &o, &need), ERR_SOCKS_AUTH_VERSION);
	assert_int_equal(need, 1);
	assert_int_equal(run(K_AUTH, a, sizeof(a), &o, &need),
			 ERR_SOCKS_AUTH_VERSION);
}

/* ---- SOCKS5 request (RFC 1928 §4) ---------------------------------------- */

static void
test_req5_ipv4(void **state)
{
	static const uint8_t r[] = { 5, 1, 0, 1, 192, 0, 2, 1, 0x1F, 0x90,
				     'x' };

	(void)state;
	check_prefixes2(K_REQ5, r, 10, 4, ERR_SOCKS_SHORT_REQUEST,
			ERR_SOCKS_SHORT_ADDR);
}

static void
test_req5_ipv4_fields(void **state)
{
	static const uint8_t r[] = { 5, 2, 0, 1, 192, 0, 2, 1, 0x1F, 0x90 };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_REQ5, r, sizeof(r), &o, &need), 0);
	assert_int_equal(o.req.version, 5);
	assert_int_equal(o.req.cmd, SOCKS_CMD_BIND);
	assert_int_equal(o.req.dst.atyp, SOCKS_ATYP_IPV4);
	assert_memory_equal(o.req.dst.ip, r + 4, 4);
	assert_int_equal(o.req.dst.port, 8080);
}

static void
test_req5_ipv6(void **state)
{
	uint8_t r[22] = { 5, 3, 0, 4 };
	union out o;
	size_t need;

	(void)state;
	r[4] = 0x20;
	r[5] = 0x01;
	r[19] = 1;
	r[20] = 0;
	r[21] = 53;
	assert_int_equal(run(K_REQ5, r, sizeof(r), &o, &need), 0);
	assert_int_equal(need, 22);
	assert_int_equal(o.req.cmd, SOCKS_CMD_UDP);
	assert_int_equal(o.req.dst.atyp, SOCKS_ATYP_IPV6);
	assert_memory_equal(o.req.dst.ip, r + 4, 16);
	assert_int_equal(o.req.dst.port, 53);
	/* prefixes: header (447), then the address (451) */
	for (size_t n = 0; n < 22; n++) {
		int rc = run(K_REQ5, r, n, &o, &need);

		assert_int_equal(rc, n < 4 ? ERR_SOCKS_SHORT_REQUEST
					   : ERR_SOCKS_SHORT_ADDR);
		assert_true(need > n && need <= 22);
	}
}

static void
test_req5_domain(void **state)
{
	uint8_t r[4 + 1 + 255 + 2] = { 5, 1, 0, 3 };
	union out o;
	size_t need;

	(void)state;
	/* one-letter name */
	r[4] = 1;
	r[5] = 'a';
	r[6] = 0;
	r[7] = 80;
	assert_int_equal(run(K_REQ5, r, 8, &o, &need), 0);
	assert_string_equal(o.req.dst.host, "a");
	assert_int_equal(o.req.dst.port, 80);
	/* 255-byte name */
	r[4] = 255;
	memset(r + 5, 'n', 255);
	r[260] = 0x01;
	r[261] = 0xBB;
	assert_int_equal(run(K_REQ5, r, sizeof(r), &o, &need), 0);
	assert_int_equal(need, sizeof(r));
	assert_int_equal(strlen(o.req.dst.host), 255);
	assert_int_equal(o.req.dst.port, 443);
	/* the length byte says more than the buffer holds */
	assert_int_equal(run(K_REQ5, r, 40, &o, &need), ERR_SOCKS_SHORT_ADDR);
	assert_int_equal(need, sizeof(r));
	/* an empty name is accepted: it fails to resolve later */
	r[4] = 0;
	r[5] = 0;
	r[6] = 80;
	assert_int_equal(run(K_REQ5, r, 7, &o, &need), 0);
	assert_string_equal(o.req.dst.host, "");
}

static void
test_req5_domain_nul(void **state)
{
	static const uint8_t r[] = { 5, 1, 0, 3, 5, 'a', 0, 'b', 'c', 'd',
				     0, 80 };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_REQ5, r, sizeof(r), &o, &need),
			 ERR_NOT_SUPPORTED);
}

static void
test_req5_bad_atyp(void **state)
{
	static const uint8_t atyps[] = { 0, 2, 5, 0xFF };
	uint8_t r[] = { 5, 1, 0, 0, 127, 0, 0, 1, 0, 80 };
	union out o;
	size_t need;

	(void)state;
	for (size_t i = 0; i < sizeof(atyps); i++) {
		r[3] = atyps[i];
		assert_int_equal(run(K_REQ5, r, 4, &o, &need),
				 ERR_NOT_SUPPORTED);
		assert_true(need <= 4);
	}
}

static void
test_req5_bad_cmd_and_version(void **state)
{
	uint8_t r[] = { 5, 9, 0, 1, 127, 0, 0, 1, 0, 80 };
	union out o;
	size_t need;

	(void)state;
	/* the whole request is read before the command is refused */
	assert_int_equal(run(K_REQ5, r, 4, &o, &need), ERR_SOCKS_SHORT_ADDR);
	assert_int_equal(need, 10);
	assert_int_equal(run(K_REQ5, r, 10, &o, &need), ERR_SOCKS_COMMAND);
	assert_int_equal(need, 10);
	r[1] = 0;
	assert_int_equal(run(K_REQ5, r, 10, &o, &need), ERR_SOCKS_COMMAND);
	r[1] = 1;
	r[0] = 4;
	assert_int_equal(run(K_REQ5, r, 10, &o, &need), ERR_SOCKS_REQ_VERSION);
	assert_int_equal(need, 1);
}

/* ---- SOCKS4 / 4a --------------------------------------------------------- */

static void
test_req4_connect(void **state)
{
	static const uint8_t r[] = { 4, 1, 0, 80, 10, 1, 2, 3,
				     'b', 'o', 'b', 0, 'X' };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need), 0);
	assert_int_equal(need, 12);
	assert_int_equal(o.req.version, 4);
	assert_int_equal(o.req.cmd, SOCKS_CMD_CONNECT);
	assert_int_equal(o.req.socks4a, 0);
	assert_int_equal(o.req.dst.atyp, SOCKS_ATYP_IPV4);
	assert_memory_equal(o.req.dst.ip, r + 4, 4);
	assert_int_equal(o.req.dst.port, 80);
	assert_string_equal(o.req.user, "bob");
	for (size_t n = 0; n < 12; n++) {
		int rc = run(K_REQ4, r, n, &o, &need);

		assert_int_equal(rc, n < 8 ? ERR_SOCKS_SHORT_REQUEST
					   : ERR_SOCKS_SHORT_ADDR);
		assert_true(need > n && need <= 12);
	}
}

static void
test_req4a(void **state)
{
	static const uint8_t r[] = { 4, 2, 0x1F, 0x90, 0, 0, 0, 9, 0,
				     'e', 'x', '.', 'o', 'r', 'g', 0 };
	union out o;
	size_t need;

	(void)state;
	check_prefixes2(K_REQ4, r, sizeof(r), 8, ERR_SOCKS_SHORT_REQUEST,
			ERR_SOCKS_SHORT_ADDR);
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need), 0);
	assert_int_equal(o.req.socks4a, 1);
	assert_int_equal(o.req.cmd, SOCKS_CMD_BIND);
	assert_int_equal(o.req.dst.atyp, SOCKS_ATYP_DOMAIN);
	assert_string_equal(o.req.dst.host, "ex.org");
	assert_string_equal(o.req.user, "");
	assert_int_equal(o.req.dst.port, 8080);
}

static void
test_req4_not_4a(void **state)
{
	/* 0.0.0.0 and 1.0.0.1 are plain addresses */
	static const uint8_t r0[] = { 4, 1, 0, 80, 0, 0, 0, 0, 0 };
	static const uint8_t r1[] = { 4, 1, 0, 80, 1, 0, 0, 1, 0 };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_REQ4, r0, sizeof(r0), &o, &need), 0);
	assert_int_equal(o.req.socks4a, 0);
	assert_int_equal(socks_request_check(&o.req), ERR_SOCKS_ZERO_ADDR);
	assert_int_equal(run(K_REQ4, r1, sizeof(r1), &o, &need), 0);
	assert_int_equal(o.req.socks4a, 0);
}

static void
test_req4_userid_limits(void **state)
{
	uint8_t r[8 + 300] = { 4, 1, 0, 80, 127, 0, 0, 1 };
	union out o;
	size_t need;

	(void)state;
	/* 255 bytes + NUL: accepted, kept to 127 bytes */
	memset(r + 8, 'u', 255);
	r[8 + 255] = 0;
	assert_int_equal(run(K_REQ4, r, 8 + 256, &o, &need), 0);
	assert_int_equal(strlen(o.req.user), SOCKS_USER_MAX);
	/* 256 bytes without NUL: too long, whatever follows */
	memset(r + 8, 'u', 300);
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need),
			 ERR_SOCKS_SHORT_ADDR);
	assert_true(need <= sizeof(r));
	/* shorter and unterminated: one more byte, please */
	assert_int_equal(run(K_REQ4, r, 100, &o, &need), ERR_SOCKS_SHORT_ADDR);
	assert_int_equal(need, 101);
}

static void
test_req4a_name_limits(void **state)
{
	uint8_t r[9 + 300] = { 4, 1, 0, 80, 0, 0, 0, 1, 0 };
	union out o;
	size_t need;

	(void)state;
	memset(r + 9, 'h', 255);
	r[9 + 255] = 0;
	assert_int_equal(run(K_REQ4, r, 9 + 256, &o, &need), 0);
	assert_int_equal(strlen(o.req.dst.host), 255);
	memset(r + 9, 'h', 300);
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need),
			 ERR_SOCKS_SHORT_ADDR);
	assert_true(need <= sizeof(r));
}

static void
test_req4_bad_cmd_and_version(void **state)
{
	uint8_t r[] = { 4, 3, 0, 80, 127, 0, 0, 1, 0 };
	union out o;
	size_t need;

	(void)state;
	assert_int_equal(run(K_REQ4, r, 8, &o, &need), ERR_SOCKS_SHORT_ADDR);
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need),
			 ERR_SOCKS_COMMAND);
	r[0] = 5;
	assert_int_equal(run(K_REQ4, r, sizeof(r), &o, &need),
			 ERR_SOCKS_VERSION);
}

/* ---- request checks and targets ------------------------------------------ */

static void
test_request_check(void **state)
{
	struct socks_request r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.cmd = SOCKS_CMD_CONNECT;
	r.dst.atyp = SOCKS_ATYP_IPV4;
	r.dst.port = 80;
	assert_int_equal(socks_request_check(&r), ERR_SOCKS_ZERO_ADDR);
	r.dst.atyp = SOCKS_ATYP_IPV6;
	assert_int_equal(socks_request_check(&r), ERR_SOCKS_ZERO_ADDR);
	r.dst.ip[15] = 1;
	assert_int_equal(socks_request_check(&r), 0);
	r.dst.port = 0;
	assert_int_equal(socks_request_check(&r), ERR_SOCKS_PORT_ZERO);
	/* BIND and UDP may name nothing */
	memset(&r.dst, 0, sizeof(r.dst));
	r.dst.atyp = SOCKS_ATYP_IPV4;
	r.cmd = SOCKS_CMD_BIND;
	assert_int_equal(socks_request_check(&r), 0);
	r.cmd = SOCKS_CMD_UDP;
	assert_int_equal(socks_request_check(&r), 0);
}

static void
test_target_any_and_text(void **state)
{
	struct socks_target t;
	char text[300];

	(void)state;
	memset(&t, 0, sizeof(t));
	t.atyp = SOCKS_ATYP_IPV4;
	assert_true(socks_target_is_any(&t));
	t.atyp = SOCKS_ATYP_DOMAIN;
	snprintf(t.host, sizeof(t.host), "%s", "0");
	assert_true(socks_target_is_any(&t));
	snprintf(t.host, sizeof(t.host), "%s", "0.0.0.0");
	assert_true(socks_target_is_any(&t));
	snprintf(t.host, sizeof(t.host), "%s", "00");
	assert_false(socks_target_is_any(&t));
	snprintf(t.host, sizeof(t.host), "%s", "www.example.org");
	t.port = 443;
	socks_target_text(&t, "CONNECT", text, sizeof(text));
	assert_string_equal(text, "CONNECT www.example.org:443");
	t.atyp = SOCKS_ATYP_IPV6;
	memset(t.ip, 0, sizeof(t.ip));
	t.ip[15] = 1;
	t.port = 53;
	socks_target_text(&t, "UDPMAP", text, sizeof(text));
	assert_string_equal(text, "UDPMAP ::1:53");
	t.atyp = SOCKS_ATYP_IPV4;
	t.ip[0] = 10;
	t.ip[3] = 7;
	socks_target_text(&t, "BIND", text, sizeof(text));
	assert_string_equal(text, "BIND 10.0.0.7:53");
	/* a small buffer is cut, and terminated */
	socks_target_text(&t, "BIND", text, 6);
	assert_string_equal(text, "BIND ");
}

static void
test_addr_helpers(void **state)
{
	struct socks_target t;
	struct net_addr a, b;
	char s[64];

	(void)state;
	memset(&t, 0, sizeof(t));
	t.atyp = SOCKS_ATYP_IPV4;
	t.ip[0] = 192;
	t.ip[1] = 0;
	t.ip[2] = 2;
	t.ip[3] = 9;
	t.port = 1080;
	assert_int_equal(socks_target_addr(&t, &a), 0);
	assert_string_equal(net_addr_str(&a, s, sizeof(s)), "192.0.2.9");
	assert_int_equal(net_get_port(&a), 1080);
	b = a;
	socks_addr_map_v6(&b);
	assert_int_equal(net_family(&b), AF_INET6);
	assert_string_equal(net_addr_str(&b, s, sizeof(s)), "::ffff:192.0.2.9");
	assert_int_equal(net_get_port(&b), 1080);
	assert_false(net_same_host(&a, &b));
	net_set_port(&b, 1);
	socks_addr_map_v6(&b);   /* IPv6 stays as it is */
	assert_string_equal(net_addr_str(&b, s, sizeof(s)), "::ffff:192.0.2.9");
	assert_int_equal(net_parse_ip("192.0.2.9", &b), 0);
	assert_true(net_same_host(&a, &b));
	t.atyp = SOCKS_ATYP_DOMAIN;
	assert_int_equal(socks_target_addr(&t, &a), -1);
}

/* ---- replies ------------------------------------------------------------- */

static void
test_rep_from_err(void **state)
{
	(void)state;
	assert_int_equal(socks5_rep_from_err(0), 0x00);
	assert_int_equal(socks5_rep_from_err(1), 0x02);
	assert_int_equal(socks5_rep_from_err(10), 0x02);
	assert_int_equal(socks5_rep_from_err(ERR_CONNECT), 0x05);
	assert_int_equal(socks5_rep_from_err(21), 0x01);
	assert_int_equal(socks5_rep_from_err(92), 0x04);
	assert_int_equal(socks5_rep_from_err(ERR_HOST_NOT_FOUND), 0x04);
	assert_int_equal(socks5_rep_from_err(ERR_SOCKS_COMMAND), 0x07);
	assert_int_equal(socks5_rep_from_err(ERR_NOT_SUPPORTED), 0x08);
	assert_int_equal(socks5_rep_from_err(ERR_SOCKS_ZERO_ADDR), 0x01);
	assert_int_equal(socks5_rep_from_err(ERR_SOCKS_PORT_ZERO), 0x01);
	/* never a success code for a failure */
	assert_int_equal(socks5_rep_from_err(ERR_SOCKS_BIND_PEER), 0x01);
	assert_int_equal(socks5_rep_from_err(-5), 0x01);
}

static void
test_build_reply5(void **state)
{
	uint8_t out[SOCKS5_REPLY_MAX];
	struct net_addr a;

	(void)state;
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(socks5_build_reply(out, sizeof(out), 0x05, NULL), 10);
	assert_memory_equal(out, "\x05\x05\x00\x01\0\0\0\0\0\0", 10);
	assert_int_equal(net_parse_ip("192.0.2.1", &a), 0);
	net_set_port(&a, 1080);
	assert_int_equal(socks5_build_reply(out, sizeof(out), 0, &a), 10);
	assert_memory_equal(out, "\x05\x00\x00\x01\xC0\x00\x02\x01\x04\x38",
			    10);
	/* IPv4-mapped IPv6 goes out as IPv4 */
	socks_addr_map_v6(&a);
	assert_int_equal(socks5_build_reply(out, sizeof(out), 0, &a), 10);
	assert_memory_equal(out + 3, "\x01\xC0\x00\x02\x01\x04\x38", 7);
	assert_int_equal(net_parse_ip("2001:db8::1", &a), 0);
	net_set_port(&a, 443);
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(socks5_build_reply(out, sizeof(out), 0, &a), 22);
	assert_memory_equal(out, "\x05\x00\x00\x04\x20\x01\x0d\xb8", 8);
	assert_memory_equal(out + 8, "\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xbb", 14);
	/* too small */
	assert_int_equal(socks5_build_reply(out, 21, 0, &a), 0);
	assert_int_equal(socks5_build_reply(out, 9, 0, NULL), 0);
}

static void
test_build_reply4(void **state)
{
	uint8_t out[SOCKS4_REPLY_LEN];
	struct net_addr a;

	(void)state;
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(socks4_build_reply(out, sizeof(out), SOCKS4_REJECTED,
					    NULL), 8);
	assert_memory_equal(out, "\x00\x5B\0\0\0\0\0\0", 8);
	assert_int_equal(net_parse_ip("10.1.2.3", &a), 0);
	net_set_port(&a, 80);
	assert_int_equal(socks4_build_reply(out, sizeof(out), SOCKS4_GRANTED,
					    &a), 8);
	assert_memory_equal(out, "\x00\x5A\x00\x50\x0A\x01\x02\x03", 8);
	/* IPv6 cannot be said in SOCKS4: zeros */
	assert_int_equal(net_parse_ip("::1", &a), 0);
	net_set_port(&a, 80);
	assert_int_equal(socks4_build_reply(out, sizeof(out), SOCKS4_GRANTED,
					    &a), 8);
	assert_memory_equal(out, "\x00\x5A\0\0\0\0\0\0", 8);
	assert_int_equal(socks4_build_reply(out, 7, SOCKS4_GRANTED, &a), 0);
}

/* ---- UDP header (RFC 1928 §7) -------------------------------------------- */

static void
test_udp_valid(void **state)
{
	static const uint8_t v4[] = { 0, 0, 0, 1, 127, 0, 0, 1, 0, 53, 'd' };
	uint8_t v6[22 + 2] = { 0, 0, 0, 4 };
	static const uint8_t dn[] = { 0, 0, 0, 3, 3, 'a', '.', 'b', 0, 7, 'x' };
	union out o;
	size_t hl;

	(void)state;
	assert_int_equal(run(K_UDP, v4, sizeof(v4), &o, &hl), 0);
	assert_int_equal(hl, 10);
	assert_int_equal(o.udp.port, 53);
	/* an empty payload is fine */
	assert_int_equal(run(K_UDP, v4, 10, &o, &hl), 0);
	v6[19] = 1;
	v6[21] = 9;
	assert_int_equal(run(K_UDP, v6, sizeof(v6), &o, &hl), 0);
	assert_int_equal(hl, 22);
	assert_int_equal(o.udp.atyp, SOCKS_ATYP_IPV6);
	assert_int_equal(run(K_UDP, dn, sizeof(dn), &o, &hl), 0);
	assert_int_equal(hl, 10);
	assert_string_equal(o.udp.host, "a.b");
	assert_int_equal(o.udp.port, 7);
}

static void
test_udp_hostile(void **state)
{
	uint8_t d[40] = { 0, 0, 0, 1, 127, 0, 0, 1, 0, 53 };
	union out o;
	size_t hl;

	(void)state;
	for (size_t n = 0; n < 10; n++)
		assert_int_equal(run(K_UDP, d, n, &o, &hl),
				 ERR_SOCKS_UDP_HEADER);
	d[1] = 1;
	assert_int_equal(run(K_UDP, d, 10, &o, &hl), ERR_SOCKS_UDP_HEADER);
	d[1] = 0;
	d[2] = 1;
	assert_int_equal(run(K_UDP, d, 10, &o, &hl), SOCKS_UDP_FRAGMENT);
	d[2] = 0x80;
	assert_int_equal(run(K_UDP, d, 10, &o, &hl), SOCKS_UDP_FRAGMENT);
	d[2] = 0;
	d[3] = 4;   /* IPv6 in 10..21 bytes */
	assert_int_equal(run(K_UDP, d, 21, &o, &hl), ERR_SOCKS_UDP_SHORT6);
	d[3] = 3;   /* a name longer than the datagram */
	d[4] = 200;
	assert_int_equal(run(K_UDP, d, sizeof(d), &o, &hl),
			 ERR_SOCKS_UDP_SHORTNAME);
	d[4] = 0;   /* an empty name */
	assert_int_equal(run(K_UDP, d, 10, &o, &hl), ERR_SOCKS_UDP_SHORTNAME);
	d[3] = 7;
	assert_int_equal(run(K_UDP, d, 10, &o, &hl), ERR_NOT_SUPPORTED);
	assert_int_equal(hl, 0);
}

static void
test_udp_build_header(void **state)
{
	uint8_t out[SOCKS5_UDP_HEADER_MAX];
	struct net_addr a;

	(void)state;
	assert_int_equal(net_parse_ip("198.51.100.4", &a), 0);
	net_set_port(&a, 5353);
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(socks5_build_udp_header(out, sizeof(out), &a), 10);
	assert_memory_equal(out, "\0\0\0\x01\xC6\x33\x64\x04\x14\xE9", 10);
	assert_int_equal(net_parse_ip("::1", &a), 0);
	net_set_port(&a, 1);
	assert_int_equal(socks5_build_udp_header(out, sizeof(out), &a), 22);
	assert_memory_equal(out, "\0\0\0\x04", 4);
	assert_int_equal(out[19], 1);
	assert_int_equal(out[21], 1);
	assert_int_equal(socks5_build_udp_header(out, 21, &a), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(socks5_build_udp_header(out, sizeof(out), &a), 0);
}

/* ---- noise --------------------------------------------------------------- */

/* Pseudo-random bytes (fixed seed): no parser may crash, read past its
 * length (ASan), or claim success with a length it was not given. */
static void
test_random_input(void **state)
{
	uint8_t buf[600];
	uint32_t x = 12345;
	union out o;
	size_t need;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(x % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		/* give the version bytes a fair chance */
		if (n > 0 && (round & 1))
			buf[0] = (uint8_t)(round & 2 ? 5 : 4);
		for (int k = K_METHODS; k <= K_UDP; k++) {
			int rc = run((enum kind)k, buf, n, &o, &need);

			if (rc == 0)
				assert_true(need <= n);
		}
		x = x * 1103515245u + 12345u;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods_valid),
		cmocka_unit_test(test_methods_counts),
		cmocka_unit_test(test_methods_bad_version),
		cmocka_unit_test(test_choose_method),
		cmocka_unit_test(test_auth_valid),
		cmocka_unit_test(test_auth_lengths),
		cmocka_unit_test(test_auth_bad_version),
		cmocka_unit_test(test_req5_ipv4),
		cmocka_unit_test(test_req5_ipv4_fields),
		cmocka_unit_test(test_req5_ipv6),
		cmocka_unit_test(test_req5_domain),
		cmocka_unit_test(test_req5_domain_nul),
		cmocka_unit_test(test_req5_bad_atyp),
		cmocka_unit_test(test_req5_bad_cmd_and_version),
		cmocka_unit_test(test_req4_connect),
		cmocka_unit_test(test_req4a),
		cmocka_unit_test(test_req4_not_4a),
		cmocka_unit_test(test_req4_userid_limits),
		cmocka_unit_test(test_req4a_name_limits),
		cmocka_unit_test(test_req4_bad_cmd_and_version),
		cmocka_unit_test(test_request_check),
		cmocka_unit_test(test_target_any_and_text),
		cmocka_unit_test(test_addr_helpers),
		cmocka_unit_test(test_rep_from_err),
		cmocka_unit_test(test_build_reply5),
		cmocka_unit_test(test_build_reply4),
		cmocka_unit_test(test_udp_valid),
		cmocka_unit_test(test_udp_hostile),
		cmocka_unit_test(test_udp_build_header),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
