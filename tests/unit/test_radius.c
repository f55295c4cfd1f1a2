/*
 * Unit tests for radius.c (F-AUTH-14, acl-auth.md section 5, RFC 2865):
 * Access-Request encoding (every attribute, the hidden User-Password
 * checked against an MD5 written here, independent of libmd), reply
 * verification (authenticator, identifier, lengths, attribute bounds,
 * Framed-IP-Address, Reply-Message codes), a random fuzz of the reply
 * parser and the `radius` command.  No sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "errcode.h"
#include "net.h"
#include "radius.h"

#define SECRET "s3cr3t-shared"

/* ---- an MD5 of our own (RFC 1321), so checks do not trust libmd ----------- */

struct tmd5 {
	uint32_t h[4];
	uint8_t buf[64];
	size_t n;
	uint64_t total;
};

static const uint32_t tmd5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const int tmd5_s[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21
};

static uint32_t
rol(uint32_t x, int c)
{
	return (x << c) | (x >> (32 - c));
}

static void
tmd5_block(struct tmd5 *m, const uint8_t *p)
{
	uint32_t w[16], a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
	uint32_t f;
	int i, g;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 |
		       (uint32_t)p[4 * i + 3] << 24;
	for (i = 0; i < 64; i++) {
		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f += a + tmd5_k[i] + w[g];
		a = d;
		d = c;
		c = b;
		b += rol(f, tmd5_s[i]);
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
}

static void
tmd5_init(struct tmd5 *m)
{
	memset(m, 0, sizeof(*m));
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
}

static void
tmd5_update(struct tmd5 *m, const void *data, size_t n)
{
	const uint8_t *p = data;

	m->total += n;
	while (n-- > 0) {
		m->buf[m->n++] = *p++;
		if (m->n == 64) {
			tmd5_block(m, m->buf);
			m->n = 0;
		}
	}
}

static void
tmd5_final(struct tmd5 *m, uint8_t out[16])
{
	uint64_t bits = m->total * 8;
	uint8_t pad = 0x80, z = 0, len[8];
	int i;

	tmd5_update(m, &pad, 1);
	while (m->n != 56)
		tmd5_update(m, &z, 1);
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (8 * i));
	tmd5_update(m, len, 8);
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(m->h[i / 4] >> (8 * (i % 4)));
}

static void
tmd5(uint8_t out[16], const void *a, size_t na, const void *b, size_t nb)
{
	struct tmd5 m;

	tmd5_init(&m);
	tmd5_update(&m, a, na);
	tmd5_update(&m, b, nb);
	tmd5_final(&m, out);
}

static void
test_own_md5(void **state)
{
	static const uint8_t abc[16] = {
		0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
		0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72 };
	static const uint8_t empty[16] = {
		0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
	uint8_t d[16];

	(void)state;
	tmd5(d, "a", 1, "bc", 2);
	assert_memory_equal(d, abc, 16);
	tmd5(d, "", 0, "", 0);
	assert_memory_equal(d, empty, 16);
}

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t reqauth[16] = {
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 };

static void
need_md5(void)
{
	if (!radius_available())
		skip();
}

/* The n-th (0-based) attribute of type t in a packet, or NULL. */
static const uint8_t *
find_attr(const uint8_t *p, size_t len, uint8_t t, int nth)
{
	size_t pos = 20;

	while (pos + 2 <= len && p[pos + 1] >= 2) {
		if (p[pos] == t && nth-- == 0)
			return p + pos;
		pos += p[pos + 1];
	}
	return NULL;
}

static uint32_t
attr_u32(const uint8_t *a)
{
	assert_non_null(a);
	assert_int_equal(a[1], 6);
	return (uint32_t)a[2] << 24 | (uint32_t)a[3] << 16 |
	       (uint32_t)a[4] << 8 | a[5];
}

static void
addr(const char *s, struct net_addr *a)
{
	assert_int_equal(net_parse_ip(s, a), 0);
}

/* Undo RFC 2865 5.2 with our own MD5: the password bytes (n at most
 * the hidden length), NUL-padded. */
static void
unhide(const uint8_t *c, size_t n, const char *secret, uint8_t *out)
{
	const uint8_t *prev = reqauth;
	uint8_t b[16];
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		tmd5(b, secret, strlen(secret), prev, 16);
		for (j = 0; j < 16; j++)
			out[i + j] = c[i + j] ^ b[j];
		prev = c + i;
	}
}

/* An answer: header, attributes, authenticator from our own MD5. */
static size_t
make_reply(uint8_t *p, uint8_t code, uint8_t id, const uint8_t *attrs,
	   size_t alen, const char *secret)
{
	struct tmd5 m;
	size_t len = 20 + alen;

	p[0] = code;
	p[1] = id;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (alen > 0)
		memcpy(p + 20, attrs, alen);
	tmd5_init(&m);
	tmd5_update(&m, p, 4);
	tmd5_update(&m, reqauth, 16);
	tmd5_update(&m, p + 20, alen);
	tmd5_update(&m, secret, strlen(secret));
	tmd5_final(&m, p + 4);
	return len;
}

/* ---- the Access-Request -------------------------------------------------- */

static void
test_request_attributes(void **state)
{
	struct net_addr nas, peer, target;
	struct radius_req_info in;
	uint8_t out[1024];
	char longhost[300];
	const uint8_t *a;
	size_t len;

	(void)state;
	need_md5();
	addr("127.0.0.1", &nas);
	addr("10.1.2.3", &peer);
	addr("2001:db8::7", &target);
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	memset(&in, 0, sizeof(in));
	in.user = "alice";
	in.password = "pw";
	in.session_id = "1700000000.123.42";
	in.nas_port = 3128;
	in.nas = &nas;
	in.nas_id = "PROXY";
	in.peer = &peer;
	in.called = longhost;
	in.login_service = 0x100u << 8;
	in.login_port = 443;
	in.target = &target;
	assert_int_equal(radius_build_request(&in, SECRET, 0x5a, reqauth, out,
					      sizeof(out), &len), 0);
	assert_int_equal(out[0], RADIUS_ACCESS_REQUEST);
	assert_int_equal(out[1], 0x5a);
	assert_int_equal((size_t)out[2] << 8 | out[3], len);
	assert_memory_equal(out + 4, reqauth, 16);
	assert_int_equal(attr_u32(find_attr(out, len, RA_SERVICE_TYPE, 0)),
			 8);
	assert_int_equal(attr_u32(find_attr(out, len, RA_NAS_PORT_TYPE, 0)),
			 5);
	assert_int_equal(attr_u32(find_attr(out, len, RA_NAS_PORT, 0)), 3128);
	assert_int_equal(attr_u32(find_attr(out, len, RA_LOGIN_SERVICE, 0)),
			 0x10000);
	assert_int_equal(attr_u32(find_attr(out, len, RA_LOGIN_TCP_PORT, 0)),
			 443);
	a = find_attr(out, len, RA_ACCT_SESSION_ID, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 2 + 17);
	assert_memory_equal(a + 2, "1700000000.123.42", 17);
	a = find_attr(out, len, RA_NAS_IP_ADDRESS, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 6);
	assert_memory_equal(a + 2, "\x7f\x00\x00\x01", 4);
	a = find_attr(out, len, RA_NAS_IDENTIFIER, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 7);
	assert_memory_equal(a + 2, "PROXY", 5);
	a = find_attr(out, len, RA_FRAMED_IP_ADDRESS, 0);
	assert_non_null(a);
	assert_memory_equal(a + 2, "\x0a\x01\x02\x03", 4);
	a = find_attr(out, len, RA_CALLED_STATION_ID, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 2 + RADIUS_FIELD_MAX);   /* capped */
	a = find_attr(out, len, RA_LOGIN_IPV6_HOST, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 18);
	assert_memory_equal(a + 2, "\x20\x01\x0d\xb8", 4);
	assert_null(find_attr(out, len, RA_LOGIN_IP_HOST, 0));
	a = find_attr(out, len, RA_USER_NAME, 0);
	assert_non_null(a);
	assert_int_equal(a[1], 7);
	assert_memory_equal(a + 2, "alice", 5);
	assert_non_null(find_attr(out, len, RA_USER_PASSWORD, 0));
	/* nothing left over after the last attribute */
	assert_null(find_attr(out, len, 0, 0));
}

static void
test_request_optional_and_errors(void **state)
{
	struct net_addr v6;
	struct radius_req_info in;
	uint8_t out[1024];
	size_t len;

	(void)state;
	need_md5();
	addr("::1", &v6);
	memset(&in, 0, sizeof(in));
	in.user = "u";
	in.password = "p";
	in.nas = &v6;
	in.peer = &v6;
	assert_int_equal(radius_build_request(&in, SECRET, 1, reqauth, out,
					      sizeof(out), &len), 0);
	assert_non_null(find_attr(out, len, RA_NAS_IPV6_ADDRESS, 0));
	assert_non_null(find_attr(out, len, RA_FRAMED_IPV6_ADDRESS, 0));
	assert_null(find_attr(out, len, RA_NAS_IP_ADDRESS, 0));
	assert_null(find_attr(out, len, RA_CALLED_STATION_ID, 0));
	assert_null(find_attr(out, len, RA_NAS_IDENTIFIER, 0));
	/* no room, no user, no password */
	assert_int_equal(radius_build_request(&in, SECRET, 1, reqauth, out,
					      40, &len), -1);
	in.user = NULL;
	assert_int_equal(radius_build_request(&in, SECRET, 1, reqauth, out,
					      sizeof(out), &len), -1);
	in.user = "u";
	in.password = NULL;
	assert_int_equal(radius_build_request(&in, SECRET, 1, reqauth, out,
					      sizeof(out), &len), -1);
}

/* RFC 2865 5.2 for passwords of 1, 16, 17 and 128 bytes (and 0, and
 * 200 cut to 128), decoded with our own MD5. */
static void
test_hidden_password(void **state)
{
	static const size_t sizes[] = { 0, 1, 16, 17, 128, 200 };
	struct radius_req_info in;
	uint8_t out[1024], plain[RADIUS_FIELD_MAX];
	char pw[201];
	const uint8_t *a;
	size_t i, len, want, hidden;

	(void)state;
	need_md5();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], k;

		for (k = 0; k < n; k++)
			pw[k] = (char)('!' + (k * 7) % 90);
		pw[n] = '\0';
		memset(&in, 0, sizeof(in));
		in.user = "bob";
		in.password = pw;
		assert_int_equal(radius_build_request(&in, SECRET, 7, reqauth,
						      out, sizeof(out), &len),
				 0);
		a = find_attr(out, len, RA_USER_PASSWORD, 0);
		assert_non_null(a);
		want = n > RADIUS_FIELD_MAX ? RADIUS_FIELD_MAX : n;
		hidden = want == 0 ? 16 : (want + 15) / 16 * 16;
		assert_int_equal(a[1], 2 + hidden);
		unhide(a + 2, hidden, SECRET, plain);
		assert_memory_equal(plain, pw, want);
		for (k = want; k < hidden; k++)
			assert_int_equal(plain[k], 0);
		/* the hidden bytes are not the password */
		if (want >= 4)
			assert_memory_not_equal(a + 2, pw, want);
	}
	assert_int_equal(radius_hide_password((const uint8_t *)pw, 129, SECRET,
					      reqauth, plain, &len), -1);
}

/* ---- the answer ---------------------------------------------------------- */

static void
test_reply_accept_and_reject(void **state)
{
	uint8_t p[256];
	struct radius_reply r;
	size_t n;

	(void)state;
	need_md5();
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 9, NULL, 0, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 9, reqauth, SECRET, &r), 0);
	assert_int_equal(r.code, RADIUS_ACCESS_ACCEPT);
	assert_int_equal(r.framed.len, 0);
	assert_int_equal(radius_reply_result(&r), 0);
	/* padding after Length is ignored (RFC 2865 3) */
	p[n] = 0xee;
	assert_int_equal(radius_parse_reply(p, n + 1, 9, reqauth, SECRET, &r),
			 0);
	n = make_reply(p, RADIUS_ACCESS_REJECT, 9, NULL, 0, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 9, reqauth, SECRET, &r), 0);
	assert_int_equal(radius_reply_result(&r), ERR_AUTH_NOUSER);
	n = make_reply(p, RADIUS_ACCESS_CHALLENGE, 9, NULL, 0, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 9, reqauth, SECRET, &r), 0);
	assert_int_equal(radius_reply_result(&r), ERR_AUTH_NOUSER);
	/* a request is no answer */
	n = make_reply(p, RADIUS_ACCESS_REQUEST, 9, NULL, 0, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 9, reqauth, SECRET, &r), -1);
}

static void
test_reply_rejected_forms(void **state)
{
	static const uint8_t msg[] = { RA_REPLY_MESSAGE, 5, 'h', 'i', '!' };
	uint8_t p[256], q[256];
	struct radius_reply r;
	size_t n;

	(void)state;
	need_md5();
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 3, msg, sizeof(msg), SECRET);
	assert_int_equal(radius_parse_reply(p, n, 3, reqauth, SECRET, &r), 0);
	/* wrong id, wrong secret, bad authenticator, changed attribute */
	assert_int_equal(radius_parse_reply(p, n, 4, reqauth, SECRET, &r), -1);
	assert_int_equal(radius_parse_reply(p, n, 3, reqauth, "other", &r),
			 -1);
	memcpy(q, p, n);
	q[10] ^= 1;
	assert_int_equal(radius_parse_reply(q, n, 3, reqauth, SECRET, &r), -1);
	memcpy(q, p, n);
	q[n - 1] ^= 1;
	assert_int_equal(radius_parse_reply(q, n, 3, reqauth, SECRET, &r), -1);
	/* truncated: datagram shorter than Length, than the header */
	assert_int_equal(radius_parse_reply(p, n - 1, 3, reqauth, SECRET, &r),
			 -1);
	assert_int_equal(radius_parse_reply(p, 19, 3, reqauth, SECRET, &r),
			 -1);
	assert_int_equal(radius_parse_reply(p, 0, 3, reqauth, SECRET, &r), -1);
	/* Length field below the header size */
	memcpy(q, p, n);
	q[2] = 0;
	q[3] = 19;
	assert_int_equal(radius_parse_reply(q, n, 3, reqauth, SECRET, &r), -1);
}

/* Attribute lengths 0, 1 and past the end, with a correct authenticator
 * each time: the walker itself must refuse them. */
static void
test_reply_bad_attribute_lengths(void **state)
{
	uint8_t attrs[8], p[256];
	struct radius_reply r;
	size_t n;
	int len;

	(void)state;
	need_md5();
	for (len = 0; len <= 9; len++) {
		memset(attrs, 'x', sizeof(attrs));
		attrs[0] = RA_REPLY_MESSAGE;
		attrs[1] = (uint8_t)len;
		n = make_reply(p, RADIUS_ACCESS_ACCEPT, 1, attrs, 8, SECRET);
		/* 8 bytes: one attribute of 8, else the next one's
		 * length byte ('x' = 120) or this one's is out of bounds */
		assert_int_equal(radius_parse_reply(p, n, 1, reqauth, SECRET,
						    &r),
				 len == 8 ? 0 : -1);
	}
	/* a lone type byte at the end */
	attrs[0] = RA_REPLY_MESSAGE;
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 1, attrs, 1, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 1, reqauth, SECRET, &r), -1);
}

static void
test_reply_framed_ip(void **state)
{
	static const uint8_t v4[] = { RA_FRAMED_IP_ADDRESS, 6, 127, 0, 0, 2 };
	static const uint8_t any[] = { RA_FRAMED_IP_ADDRESS, 6, 255, 255, 255,
				       254 };
	static const uint8_t bad[] = { RA_FRAMED_IP_ADDRESS, 5, 127, 0, 0 };
	uint8_t v6[18] = { RA_FRAMED_IPV6_ADDRESS, 18 };
	uint8_t p[256];
	struct radius_reply r;
	char s[64];
	size_t n;

	(void)state;
	need_md5();
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 2, v4, sizeof(v4), SECRET);
	assert_int_equal(radius_parse_reply(p, n, 2, reqauth, SECRET, &r), 0);
	assert_int_equal(net_family(&r.framed), AF_INET);
	assert_string_equal(net_addr_str(&r.framed, s, sizeof(s)),
			    "127.0.0.2");
	v6[17] = 1;
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 2, v6, sizeof(v6), SECRET);
	assert_int_equal(radius_parse_reply(p, n, 2, reqauth, SECRET, &r), 0);
	assert_int_equal(net_family(&r.framed), AF_INET6);
	assert_string_equal(net_addr_str(&r.framed, s, sizeof(s)), "::1");
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 2, any, sizeof(any), SECRET);
	assert_int_equal(radius_parse_reply(p, n, 2, reqauth, SECRET, &r), 0);
	assert_int_equal(r.framed.len, 0);
	n = make_reply(p, RADIUS_ACCESS_ACCEPT, 2, bad, sizeof(bad), SECRET);
	assert_int_equal(radius_parse_reply(p, n, 2, reqauth, SECRET, &r), -1);
}

static int
reject_code(const char *text)
{
	uint8_t attrs[64], p[128];
	struct radius_reply r;
	size_t n = strlen(text);

	attrs[0] = RA_REPLY_MESSAGE;
	attrs[1] = (uint8_t)(n + 2);
	memcpy(attrs + 2, text, n);
	n = make_reply(p, RADIUS_ACCESS_REJECT, 8, attrs, n + 2, SECRET);
	assert_int_equal(radius_parse_reply(p, n, 8, reqauth, SECRET, &r), 0);
	return radius_reply_result(&r);
}

static void
test_reply_message_code(void **state)
{
	(void)state;
	need_md5();
	assert_int_equal(reject_code("5 over quota"), 5);
	assert_int_equal(reject_code("10"), 10);
	assert_int_equal(reject_code("123456"), 123456);
	assert_int_equal(reject_code("no number"), ERR_AUTH_NOUSER);
	assert_int_equal(reject_code("0 zero"), ERR_AUTH_NOUSER);
	assert_int_equal(reject_code("99999999999999999999"),
			 ERR_AUTH_NOUSER);
	assert_int_equal(reject_code(""), ERR_AUTH_NOUSER);
}

/* ---- fuzz ------------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Random datagrams, and valid answers with random attribute bytes and a
 * correct authenticator (so the walker, not the MD5 check, decides).
 * Nothing may read out of bounds (ASan) or crash. */
static void
test_fuzz_reply(void **state)
{
	uint8_t *p = malloc(RADIUS_PACKET_MAX + 16), attrs[512];
	struct radius_reply r;
	int i, ok = 0;

	(void)state;
	need_md5();
	assert_non_null(p);
	for (i = 0; i < 20000; i++) {
		size_t n = next_rand() % 600, k, alen;

		for (k = 0; k < n; k++)
			p[k] = (uint8_t)next_rand();
		if (n >= 4 && (i & 1)) {   /* plausible header */
			p[0] = RADIUS_ACCESS_ACCEPT;
			p[1] = 1;
			p[2] = (uint8_t)(n >> 8);
			p[3] = (uint8_t)n;
		}
		(void)radius_parse_reply(p, n, 1, reqauth, SECRET, &r);
		/* an authentic answer with random attribute bytes */
		alen = next_rand() % sizeof(attrs);
		for (k = 0; k < alen; k++)
			attrs[k] = (uint8_t)next_rand();
		if (i & 2)      /* mostly well-formed lengths */
			for (k = 0; k + 2 <= alen; k += attrs[k + 1])
				attrs[k + 1] = (uint8_t)(2 + next_rand() %
					(alen - k - 1 < 20 ? alen - k - 1 : 20));
		n = make_reply(p, (uint8_t)(2 + next_rand() % 2), 1, attrs,
			       alen, SECRET);
		if (radius_parse_reply(p, n, 1, reqauth, SECRET, &r) == 0)
			ok++;
	}
	assert_true(ok > 0);   /* the well-formed ones got through */
	free(p);
}

/* ---- the `radius` command ---------------------------------------------------- */

static struct conf_gen *
load(const char *text, char **msgs)
{
	size_t len = 0;
	FILE *diag = open_memstream(msgs, &len);
	struct conf_gen *g;
	int nerr = 0;

	assert_non_null(diag);
	g = conf_load_mem(text, strlen(text), "r.cfg", CONF_RUN, diag, &nerr);
	fclose(diag);
	return g;
}

static void
expect_error(const char *text, const char *message)
{
	char *msgs = NULL;
	struct conf_gen *g = load(text, &msgs);

	assert_null(g);
	if (strstr(msgs, message) == NULL)
		fail_msg("expected '%s' in '%s'", message, msgs);
	free(msgs);
}

static void
test_radius_command(void **state)
{
	struct conf_gen *g;
	char *msgs = NULL, s[64], cfg[256];
	const struct radius_conf *rc;

	(void)state;
	if (!radius_available()) {
		expect_error("radius x 127.0.0.1\n", "no MD5 library");
		return;
	}
	g = load("radius old 127.0.0.9\n"
		 "radius 0123456789012345678901234567890123456789012345678901"
		 "234567890123456789 127.0.0.1 127.0.0.2:1645/127.0.0.1 "
		 "[::1]:1700 ::1 10.0.0.1:1/10.0.0.2 10.0.0.3\n"
		 "auth radius\n", &msgs);
	assert_non_null(g);
	assert_non_null(strstr(msgs, "r.cfg:2: warning: radius: only the "
				     "first 5"));
	rc = g->radius;
	assert_non_null(rc);
	assert_int_equal(strlen(rc->secret), RADIUS_SECRET_MAX);
	assert_int_equal(rc->nservers, 5);
	assert_int_equal(net_get_port(&rc->srv[0].addr), 1812);
	assert_int_equal(rc->srv[0].local.len, 0);
	assert_int_equal(net_get_port(&rc->srv[1].addr), 1645);
	assert_string_equal(net_addr_str(&rc->srv[1].local, s, sizeof(s)),
			    "127.0.0.1");
	assert_int_equal(net_family(&rc->srv[2].addr), AF_INET6);
	assert_int_equal(net_get_port(&rc->srv[2].addr), 1700);
	assert_int_equal(net_get_port(&rc->srv[3].addr), 1812);
	assert_string_equal(net_addr_str(&rc->srv[3].addr, s, sizeof(s)),
			    "::1");
	assert_int_equal(net_get_port(&rc->srv[4].addr), 1);
	conf_gen_unref(g);
	free(msgs);
	expect_error("radius s 127.0.0.1:99999\n",
		     "r.cfg:1: radius: invalid server '127.0.0.1:99999'");
	expect_error("radius s 127.0.0.1:x\n", "invalid server");
	expect_error("radius s [::1\n", "invalid server");
	expect_error("radius s 127.0.0.1/::1\n",
		     "radius: local address '::1' is not usable");
	expect_error("radius s\n", "wrong number of arguments");
	snprintf(cfg, sizeof(cfg), "radius s %s\n", "127.0.0.1:0");
	expect_error(cfg, "invalid server");
}

/* ---- accounting (RFC 2866, logging.md 1.4, F-LOG-08) ----------------------- */

static void
test_acct_request(void **state)
{
	struct radius_req_info in;
	struct radius_acct_info a;
	struct net_addr peer;
	uint8_t p[1024], want[16], zero[16], resp[64];
	struct tmd5 m;
	size_t n;

	(void)state;
	need_md5();
	addr("192.0.2.7", &peer);
	memset(&in, 0, sizeof(in));
	in.user = "alice";
	in.password = "never-sent";
	in.session_id = "1700000000.123.42";
	in.nas_port = 3128;
	in.peer = &peer;
	memset(&a, 0, sizeof(a));
	a.req = &in;
	a.status = RADIUS_ACCT_STOP;
	a.in_octets = 0x100000005ULL;     /* needs Gigawords */
	a.out_octets = 77;
	a.in_packets = 9;
	a.out_packets = 0x1ffffffffULL;   /* capped at 2^32-1 */
	a.session_time = 61;
	assert_int_equal(radius_build_acct(&a, SECRET, 17, p, sizeof(p), &n),
			 0);
	assert_int_equal(p[0], RADIUS_ACCOUNTING_REQUEST);
	assert_int_equal(p[1], 17);
	assert_int_equal((size_t)(p[2] << 8 | p[3]), n);
	/* RFC 2866 3: MD5(Code+ID+Length+16 zeros+Attributes+Secret) */
	memset(zero, 0, sizeof(zero));
	tmd5_init(&m);
	tmd5_update(&m, p, 4);
	tmd5_update(&m, zero, 16);
	tmd5_update(&m, p + 20, n - 20);
	tmd5_update(&m, SECRET, strlen(SECRET));
	tmd5_final(&m, want);
	assert_memory_equal(p + 4, want, 16);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_STATUS_TYPE, 0)), 2);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_INPUT_OCTETS, 0)),
			 5);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_INPUT_GIGAWORDS, 0)),
			 1);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_OUTPUT_OCTETS, 0)),
			 77);
	assert_null(find_attr(p, n, RA_ACCT_OUTPUT_GIGAWORDS, 0));
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_INPUT_PACKETS, 0)),
			 9);
	assert_true(attr_u32(find_attr(p, n, RA_ACCT_OUTPUT_PACKETS, 0)) ==
		    0xffffffffu);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_SESSION_TIME, 0)),
			 61);
	assert_int_equal(attr_u32(find_attr(p, n, RA_NAS_PORT, 0)), 3128);
	assert_non_null(find_attr(p, n, RA_USER_NAME, 0));
	assert_non_null(find_attr(p, n, RA_ACCT_SESSION_ID, 0));
	assert_null(find_attr(p, n, RA_USER_PASSWORD, 0));

	/* the Response Authenticator uses the request's authenticator */
	memcpy(want, p + 4, 16);
	resp[0] = RADIUS_ACCOUNTING_RESPONSE;
	resp[1] = 17;
	resp[2] = 0;
	resp[3] = 20;
	tmd5_init(&m);
	tmd5_update(&m, resp, 4);
	tmd5_update(&m, want, 16);
	tmd5_update(&m, SECRET, strlen(SECRET));
	tmd5_final(&m, resp + 4);
	assert_int_equal(radius_parse_acct_reply(resp, 20, 17, want, SECRET),
			 0);
	assert_int_equal(radius_parse_acct_reply(resp, 20, 18, want, SECRET),
			 -1);
	assert_int_equal(radius_parse_acct_reply(resp, 19, 17, want, SECRET),
			 -1);
	assert_int_equal(radius_parse_acct_reply(resp, 20, 17, want, "x"), -1);
	resp[0] = RADIUS_ACCESS_ACCEPT;   /* right hash, wrong kind */
	assert_int_equal(radius_parse_acct_reply(resp, 20, 17, want, SECRET),
			 -1);
}

static void
test_acct_start_and_room(void **state)
{
	struct radius_req_info in;
	struct radius_acct_info a;
	uint8_t p[1024];
	size_t n;

	(void)state;
	need_md5();
	memset(&in, 0, sizeof(in));   /* no user: attribute left out */
	memset(&a, 0, sizeof(a));
	a.req = &in;
	a.status = RADIUS_ACCT_START;
	a.in_octets = 1000;
	assert_int_equal(radius_build_acct(&a, SECRET, 1, p, sizeof(p), &n),
			 0);
	assert_int_equal(attr_u32(find_attr(p, n, RA_ACCT_STATUS_TYPE, 0)), 1);
	assert_null(find_attr(p, n, RA_ACCT_INPUT_OCTETS, 0));
	assert_null(find_attr(p, n, RA_USER_NAME, 0));
	/* too small a buffer is refused, never overrun */
	assert_int_equal(radius_build_acct(&a, SECRET, 1, p, 30, &n), -1);
	assert_int_equal(radius_build_acct(&a, SECRET, 1, p, 10, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_md5),
		cmocka_unit_test(test_request_attributes),
		cmocka_unit_test(test_request_optional_and_errors),
		cmocka_unit_test(test_hidden_password),
		cmocka_unit_test(test_reply_accept_and_reject),
		cmocka_unit_test(test_reply_rejected_forms),
		cmocka_unit_test(test_reply_bad_attribute_lengths),
		cmocka_unit_test(test_reply_framed_ip),
		cmocka_unit_test(test_reply_message_code),
		cmocka_unit_test(test_fuzz_reply),
		cmocka_unit_test(test_radius_command),
		cmocka_unit_test(test_acct_request),
		cmocka_unit_test(test_acct_start_and_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
