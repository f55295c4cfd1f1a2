/*
 * Unit tests for the ClientHello / ServerHello parsers (tls_hello.c;
 * F-TLSPR-01, F-TLSPR-02, F-TLSPR-03, F-TLSPR-06).
 *
 * The real ClientHello below was sent by `openssl s_client -servername
 * www.example.com -alpn h2,http/1.1` (OpenSSL 3.0).  Others are built
 * here field by field.  Every input is parsed from an exactly-sized heap
 * copy, so AddressSanitizer catches a read past the length given.
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
#include "tls_hello.h"

static const uint8_t real_hello[] = {
	0x16, 0x03, 0x01, 0x01, 0x4e, 0x01, 0x00, 0x01, 0x4a, 0x03, 0x03, 0xf5,
	0x55, 0x7c, 0x15, 0x6b, 0x54, 0xa7, 0xe2, 0xbf, 0xec, 0xb9, 0x19, 0xf4,
	0xc2, 0x69, 0x61, 0x89, 0x0f, 0xaf, 0xb5, 0xc3, 0x3d, 0x77, 0x43, 0xf6,
	0xec, 0xdd, 0xf2, 0x7a, 0x29, 0xf2, 0x19, 0x20, 0xa8, 0x89, 0x8e, 0x86,
	0xfa, 0xf5, 0xef, 0x39, 0x8b, 0x25, 0x3d, 0xad, 0xc1, 0x8c, 0xc2, 0x57,
	0x27, 0xda, 0x8f, 0xab, 0xdf, 0xc9, 0xe1, 0x28, 0x38, 0x3e, 0x1f, 0x7d,
	0xe9, 0xfd, 0xad, 0x96, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc3,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d,
	0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16,
	0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
	0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08,
	0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00,
	0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03,
	0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a,
	0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01,
	0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02,
	0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03,
	0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00,
	0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x7f, 0x47, 0xac, 0xc6, 0x9b,
	0xa9, 0xd5, 0x56, 0xf8, 0x40, 0xb9, 0xea, 0x29, 0x24, 0x57, 0xee, 0x25,
	0x14, 0xc9, 0x6c, 0x3f, 0xed, 0x79, 0xcd, 0x0b, 0x35, 0xef, 0xc9, 0xba,
	0x85, 0x2c, 0x55
};

/* ---- helpers ------------------------------------------------------------- */

/* Parse an exact-size heap copy of p[0..n). */
static int
parse(const uint8_t *p, size_t n, struct tls_hello *h)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, p, n);
	rc = tls_hello_parse(copy, n, h);
	free(copy);
	return rc;
}

static int
server_check(const uint8_t *p, size_t n, int *version)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, p, n);
	rc = tls_server_hello_check(copy, n, version);
	free(copy);
	return rc;
}

/* A byte buffer to build messages in. */
struct bb {
	uint8_t d[1 << 17];
	size_t n;
};

static void
put(struct bb *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void
put_n(struct bb *b, size_t v, int bytes)
{
	while (bytes-- > 0) {
		uint8_t c = (uint8_t)(v >> (8 * bytes));

		put(b, &c, 1);
	}
}

/* One extension: type, 2-byte length, body. */
static void
put_ext(struct bb *b, unsigned type, const struct bb *body)
{
	put_n(b, type, 2);
	put_n(b, body->n, 2);
	put(b, body->d, body->n);
}

static void
ext_sni(struct bb *b, const char *name)
{
	static struct bb e;
	size_t n = strlen(name);

	e.n = 0;
	put_n(&e, n + 3, 2);
	put_n(&e, 0, 1);
	put_n(&e, n, 2);
	put(&e, name, n);
	put_ext(b, 0, &e);
}

/* A ClientHello handshake message (type, 3-byte length, body) with the
 * given extension block; ext NULL: no extension block at all. */
static void
client_hello(struct bb *msg, unsigned version, const struct bb *ext)
{
	static struct bb body;
	static const uint8_t random[32] = { 1, 2, 3 };

	body.n = 0;
	put_n(&body, version, 2);
	put(&body, random, sizeof(random));
	put_n(&body, 0, 1);                 /* session id */
	put_n(&body, 4, 2);                 /* two cipher suites */
	put_n(&body, 0x1301, 2);
	put_n(&body, 0xc02f, 2);
	put_n(&body, 1, 1);                 /* compression: null */
	put_n(&body, 0, 1);
	if (ext != NULL) {
		put_n(&body, ext->n, 2);
		put(&body, ext->d, ext->n);
	}
	msg->n = 0;
	put_n(msg, 1, 1);
	put_n(msg, body.n, 3);
	put(msg, body.d, body.n);
}

/* Wrap msg into handshake records of at most frag bytes each. */
static void
records(struct bb *out, const struct bb *msg, size_t frag)
{
	size_t off = 0, k;

	out->n = 0;
	while (off < msg->n) {
		k = msg->n - off < frag ? msg->n - off : frag;
		put_n(out, 22, 1);
		put_n(out, 0x0301, 2);
		put_n(out, k, 2);
		put(out, msg->d + off, k);
		off += k;
	}
}

/* Every proper prefix must ask for more, never fail or succeed. */
static void
assert_prefixes_need_more(const uint8_t *p, size_t n)
{
	struct tls_hello h;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(parse(p, i, &h), TLS_MORE);
}

/* The split offset sits in the middle of the host name in the raw
 * bytes, wherever the record boundaries fall. */
static void
assert_split_in_name(const uint8_t *p, const struct tls_hello *h)
{
	size_t half = h->host_len / 2, i, j;
	char seen[TLS_HOST_MAX + 1];

	/* the raw bytes after the split, skipping record headers, must
	 * continue the name from its middle */
	j = h->split;
	for (i = half; i < h->host_len; i++) {
		/* a record header can only sit where a record ended */
		if (p[j] == 22 && p[j + 1] == 3 &&
		    (unsigned char)h->host[i] != 22)
			j += 5;
		seen[i] = (char)p[j++];
	}
	assert_memory_equal(seen + half, h->host + half, h->host_len - half);
}

/* ---- the real hello ------------------------------------------------------ */

static void
test_real_hello(void **state)
{
	struct tls_hello h;
	char text[300];

	(void)state;
	assert_int_equal(parse(real_hello, sizeof(real_hello), &h), 0);
	assert_string_equal(h.host, "www.example.com");
	assert_int_equal(h.host_len, 15);
	assert_string_equal(h.alpn, "h2");
	assert_int_equal(h.version, 4);
	assert_int_equal(h.len, sizeof(real_hello));
	assert_memory_equal(real_hello + h.split - 7, "www.example.com", 15);
	tls_hello_text(&h, text, sizeof(text));
	assert_string_equal(text, "TLSv1.3 www.example.com h2");
	assert_prefixes_need_more(real_hello, sizeof(real_hello));
}

/* Bytes after the hello (a next record) do not change the result. */
static void
test_real_hello_with_more_data(void **state)
{
	static struct bb b;
	struct tls_hello h;

	(void)state;
	b.n = 0;
	put(&b, real_hello, sizeof(real_hello));
	put(&b, "\x17\x03\x03\x00\x01x", 6);
	assert_int_equal(parse(b.d, b.n, &h), 0);
	assert_int_equal(h.len, sizeof(real_hello));
	assert_string_equal(h.host, "www.example.com");
}

/* RFC 5246 6.2.1: a handshake message may be cut into records of any
 * size; the name may straddle a record boundary. */
static void
test_real_hello_fragmented(void **state)
{
	static struct bb msg, rec;
	static const size_t frags[] = { 1, 2, 3, 7, 50, 128, 200 };
	struct tls_hello h;
	size_t i;

	(void)state;
	msg.n = 0;
	put(&msg, real_hello + 5, sizeof(real_hello) - 5);
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		records(&rec, &msg, frags[i]);
		assert_int_equal(parse(rec.d, rec.n, &h), 0);
		assert_string_equal(h.host, "www.example.com");
		assert_string_equal(h.alpn, "h2");
		assert_int_equal(h.version, 4);
		assert_int_equal(h.len, rec.n);
		assert_split_in_name(rec.d, &h);
		if (frags[i] >= 50)
			assert_prefixes_need_more(rec.d, rec.n);
	}
}

/* ---- built hellos --------------------------------------------------------- */

static int
parse_built(unsigned version, const struct bb *ext, struct tls_hello *h)
{
	static struct bb msg, rec;

	client_hello(&msg, version, ext);
	records(&rec, &msg, TLS_RECORD_MAX);
	return parse(rec.d, rec.n, h);
}

static void
test_versions_and_text(void **state)
{
	static struct bb ext, e;
	struct tls_hello h;
	char text[300];

	(void)state;
	/* no extensions at all: SSL 3.0 style */
	assert_int_equal(parse_built(0x0300, NULL, &h), 0);
	assert_string_equal(h.host, "");
	assert_int_equal(h.split, 0);
	tls_hello_text(&h, text, sizeof(text));
	assert_string_equal(text, "SSLv3.0 - -");
	/* TLS 1.2 with SNI only */
	ext.n = 0;
	ext_sni(&ext, "a.example");
	assert_int_equal(parse_built(0x0303, &ext, &h), 0);
	tls_hello_text(&h, text, sizeof(text));
	assert_string_equal(text, "TLSv1.2 a.example -");
	/* supported_versions: GREASE first, then TLS 1.3 */
	e.n = 0;
	put_n(&e, 4, 1);
	put_n(&e, 0x7a7a, 2);
	put_n(&e, 0x0304, 2);
	put_ext(&ext, 43, &e);
	assert_int_equal(parse_built(0x0303, &ext, &h), 0);
	assert_int_equal(h.version, 4);
	tls_hello_text(NULL, text, sizeof(text));
	assert_string_equal(text, "NONEv0.0 - -");
}

static void
test_sni_limits(void **state)
{
	static struct bb ext;
	char name[300];
	struct tls_hello h;

	(void)state;
	memset(name, 'a', sizeof(name));
	name[TLS_HOST_MAX] = '\0';
	ext.n = 0;
	ext_sni(&ext, name);
	assert_int_equal(parse_built(0x0303, &ext, &h), 0);
	assert_int_equal(h.host_len, TLS_HOST_MAX);
	name[TLS_HOST_MAX] = 'a';
	name[TLS_HOST_MAX + 1] = '\0';
	ext.n = 0;
	ext_sni(&ext, name);
	assert_int_equal(parse_built(0x0303, &ext, &h), ERR_TLS_SNI_NAME);
	ext.n = 0;
	ext_sni(&ext, "bad name");
	assert_int_equal(parse_built(0x0303, &ext, &h), ERR_TLS_SNI_NAME);
	assert_string_equal(h.host, "");   /* nothing half-filled is left */
	ext.n = 0;
	ext_sni(&ext, "");
	assert_int_equal(parse_built(0x0303, &ext, &h), ERR_TLS_SNI_NAME);
	/* an ALPN name longer than kept is not an error, just not logged */
	memset(name, 'p', 40);
	ext.n = 0;
	put_n(&ext, 16, 2);
	put_n(&ext, 43, 2);
	put_n(&ext, 41, 2);
	put_n(&ext, 40, 1);
	put(&ext, name, 40);
	assert_int_equal(parse_built(0x0303, &ext, &h), 0);
	assert_string_equal(h.alpn, "");
}

/* One hand-made extension block per malformed case. */
static void
test_malformed_extensions(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
		int rc;
	} cases[] = {
		/* ext header cut */
		{ "\x00\x00\x00", 3, ERR_TLS_EXTENSION },
		/* ext length beyond the block */
		{ "\x00\x0a\x00\x05\x00", 5, ERR_TLS_EXTENSION },
		/* server_name list length != extension length - 2 */
		{ "\x00\x00\x00\x06\x00\x05\x00\x00\x01x", 10,
		  ERR_TLS_SNI_LIST },
		/* server_name list empty */
		{ "\x00\x00\x00\x02\x00\x00", 6, ERR_TLS_SNI_LIST },
		/* entry name length beyond the list */
		{ "\x00\x00\x00\x06\x00\x04\x00\x00\x09x", 10,
		  ERR_TLS_SNI_ENTRY },
		/* supported_versions: odd length */
		{ "\x00\x2b\x00\x04\x03\x03\x04\x00", 8, ERR_TLS_VERSIONS },
		/* supported_versions: vector length beyond extension */
		{ "\x00\x2b\x00\x03\x04\x03\x04", 7, ERR_TLS_VERSIONS },
		/* ALPN: empty list */
		{ "\x00\x10\x00\x02\x00\x00", 6, ERR_TLS_ALPN },
		/* ALPN: empty name */
		{ "\x00\x10\x00\x03\x00\x01\x00", 7, ERR_TLS_ALPN },
	};
	static struct bb ext;
	struct tls_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ext.n = 0;
		put(&ext, cases[i].bytes, cases[i].n);
		assert_int_equal(parse_built(0x0303, &ext, &h), cases[i].rc);
	}
}

/* Damage one field of a valid hello body at a time. */
static void
test_malformed_body(void **state)
{
	static struct bb msg, rec;
	struct tls_hello h;
	const size_t sid = 4 + 2 + 32;   /* session id length byte */

	(void)state;
	client_hello(&msg, 0x0303, NULL);
	msg.d[4] = 2;                     /* legacy_version 2.3 */
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_HELLO_VERSION);

	client_hello(&msg, 0x0303, NULL);
	msg.d[sid] = 33;
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_SESSION_ID);

	client_hello(&msg, 0x0303, NULL);
	msg.d[sid + 2] = 3;               /* cipher suites: odd length */
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_CIPHERS);

	client_hello(&msg, 0x0303, NULL);
	msg.d[sid + 7] = 0;               /* no compression method */
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_COMPRESSION);

	/* a message shorter than version + random */
	msg.n = 0;
	put_n(&msg, 1, 1);
	put_n(&msg, 10, 3);
	put(&msg, "\x03\x03xxxxxxxx", 10);
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_HELLO_SHORT);

	/* extension block longer / shorter than the rest of the message */
	client_hello(&msg, 0x0303, NULL);
	put_n(&msg, 10, 2);
	put(&msg, "\x00\x00\x00\x00", 4);
	msg.d[3] = (uint8_t)(msg.n - 4);
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_EXTENSIONS);
	client_hello(&msg, 0x0303, NULL);
	put_n(&msg, 0, 2);
	put(&msg, "\x00\x00\x00\x00", 4);
	msg.d[3] = (uint8_t)(msg.n - 4);
	records(&rec, &msg, 1000);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_TRAILING);
}

/* ---- not TLS, records, bounds --------------------------------------------- */

static void
test_not_tls_decided_early(void **state)
{
	struct tls_hello h;

	(void)state;
	assert_int_equal(parse((const uint8_t *)"G", 1, &h),
			 ERR_TLS_NOT_HANDSHAKE);
	assert_int_equal(parse((const uint8_t *)"\x80\x2e\x01", 3, &h),
			 ERR_TLS_NOT_HANDSHAKE);   /* SSLv2 hello */
	assert_int_equal(parse((const uint8_t *)"\x16\x02", 2, &h),
			 ERR_TLS_BAD_VERSION);
	assert_int_equal(parse((const uint8_t *)"\x16\x03\x01\x00\x00", 5, &h),
			 ERR_TLS_BAD_LENGTH);
	assert_int_equal(parse((const uint8_t *)"\x16\x03\x01\x40\x01", 5, &h),
			 ERR_TLS_BAD_LENGTH);
	assert_int_equal(parse((const uint8_t *)"\x16\x03\x01\x00\x05\x02",
			       6, &h),
			 ERR_TLS_NOT_HELLO);
	assert_int_equal(parse((const uint8_t *)"\x16\x03\x01", 3, &h),
			 TLS_MORE);
	assert_int_equal(parse((const uint8_t *)"", 0, &h), TLS_MORE);
}

static void
test_bounds(void **state)
{
	static struct bb rec;
	struct tls_hello h;

	(void)state;
	/* a handshake length above the ceiling fails at once */
	rec.n = 0;
	put(&rec, "\x16\x03\x01\x00\x04\x01\x00\x40\x00", 9);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_HELLO_TOO_BIG);
	/* a continuation record that is not a handshake record */
	rec.n = 0;
	put(&rec, "\x16\x03\x01\x00\x04\x01\x00\x01\x00", 9);
	put(&rec, "\x17\x03\x03\x00\x01x", 6);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_FRAGMENT);
	rec.n = 0;
	put(&rec, "\x16\x03\x01\x00\x04\x01\x00\x01\x00", 9);
	put(&rec, "\x16\x03\x03\x00\x00", 5);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_FRAGMENT);
	/* records that never complete the message, up to the ceiling */
	rec.n = 0;
	put(&rec, "\x16\x03\x01\x00\x04\x01\x00\x30\x00", 9);
	while (rec.n + 6 <= TLS_HELLO_MAX)
		put(&rec, "\x16\x03\x01\x00\x01\x00", 6);
	assert_int_equal(parse(rec.d, rec.n, &h), TLS_MORE);
	while (rec.n < TLS_HELLO_MAX)
		put(&rec, "\x16", 1);
	assert_int_equal(parse(rec.d, rec.n, &h), ERR_TLS_HELLO_TOO_BIG);
}

/* Any byte of the real hello replaced by any value: no crash, no read
 * past the end (ASan), and a result from the documented set. */
static void
test_corrupt_every_byte(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	uint8_t buf[sizeof(real_hello)];
	struct tls_hello h;
	size_t i, v, cut;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(buf); i++) {
		for (v = 0; v < sizeof(vals); v++) {
			memcpy(buf, real_hello, sizeof(buf));
			buf[i] = vals[v];
			for (cut = sizeof(buf) - 2; cut <= sizeof(buf);
			     cut++) {
				rc = parse(buf, cut, &h);
				assert_true(rc == 0 || rc == TLS_MORE ||
					    (rc >= 301 && rc <= 327));
				if (rc == 0)
					assert_true(h.len <= cut &&
						    h.host_len <= TLS_HOST_MAX);
			}
		}
	}
}

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
test_random_fuzz(void **state)
{
	static uint8_t buf[600];
	struct tls_hello h;
	uint32_t seed = 12345;
	size_t i, n, k;
	int rc;

	(void)state;
	for (i = 0; i < 20000; i++) {
		n = next_rand(&seed) % sizeof(buf);
		if (i % 2 == 0 && n > 0) {
			/* start from the real hello, then mutate bytes */
			k = n < sizeof(real_hello) ? n : sizeof(real_hello);
			memcpy(buf, real_hello, k);
			for (k = 0; k < 4; k++)
				buf[next_rand(&seed) % n] =
				    (uint8_t)next_rand(&seed);
		} else {
			for (k = 0; k < n; k++)
				buf[k] = (uint8_t)next_rand(&seed);
			if (n >= 6) {
				memcpy(buf, "\x16\x03\x01", 3);
				buf[5] = 1;
			}
		}
		rc = parse(buf, n, &h);
		assert_true(rc == 0 || rc == TLS_MORE ||
			    (rc >= 301 && rc <= 327));
	}
}

/* ---- ServerHello (-c2) ----------------------------------------------------- */

static void
server_hello(struct bb *rec, unsigned version, int tls13)
{
	static struct bb msg, body;
	static const uint8_t random[32] = { 9 };

	body.n = 0;
	put_n(&body, version, 2);
	put(&body, random, sizeof(random));
	put_n(&body, 0, 1);
	put_n(&body, 0x1301, 2);
	put_n(&body, 0, 1);
	if (tls13)
		put(&body, "\x00\x06\x00\x2b\x00\x02\x03\x04", 8);
	msg.n = 0;
	put_n(&msg, 2, 1);
	put_n(&msg, body.n, 3);
	put(&msg, body.d, body.n);
	rec->n = 0;
	put_n(rec, 22, 1);
	put_n(rec, 0x0303, 2);
	put_n(rec, msg.n, 2);
	put(rec, msg.d, msg.n);
}

static void
test_server_hello(void **state)
{
	static struct bb rec;
	int version = -1;
	size_t i;
	int rc;

	(void)state;
	server_hello(&rec, 0x0303, 1);
	assert_int_equal(server_check(rec.d, rec.n, &version), 0);
	assert_int_equal(version, 4);
	server_hello(&rec, 0x0303, 0);
	assert_int_equal(server_check(rec.d, rec.n, &version), 0);
	assert_int_equal(version, 3);
	/* the record must be complete, and nothing past it is read */
	for (i = 0; i < rec.n; i++) {
		rc = server_check(rec.d, i, &version);
		assert_true(rc >= 341 && rc <= 353);
	}
	rec.d[5] = 1;   /* not a ServerHello */
	assert_int_equal(server_check(rec.d, rec.n, &version),
			 ERR_TLS_SRV_NOT_HELLO);
	server_hello(&rec, 0x0303, 0);
	rec.d[8] += 1;  /* handshake length beyond the record */
	assert_int_equal(server_check(rec.d, rec.n, &version),
			 ERR_TLS_SRV_HELLO_SHORT);
	server_hello(&rec, 0x0303, 1);
	rec.d[rec.n - 3] = 3;   /* supported_versions length 3 */
	assert_int_equal(server_check(rec.d, rec.n, &version),
			 ERR_TLS_SRV_HELLO_SHORT);
	assert_int_equal(server_check((const uint8_t *)"\x15\x03\x03\x00\x02"
						       "\x02\x28", 7, &version),
			 ERR_TLS_SRV_ALERT);
	assert_int_equal(server_check((const uint8_t *)"HTTP/1.0 400", 12,
				      &version),
			 ERR_TLS_SRV_NOT_HANDSHAKE);
	assert_int_equal(server_check((const uint8_t *)"\x16\x02\x00\x00\x01"
						       "\x02", 6, &version),
			 ERR_TLS_SRV_BAD_VERSION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hello),
		cmocka_unit_test(test_real_hello_with_more_data),
		cmocka_unit_test(test_real_hello_fragmented),
		cmocka_unit_test(test_versions_and_text),
		cmocka_unit_test(test_sni_limits),
		cmocka_unit_test(test_malformed_extensions),
		cmocka_unit_test(test_malformed_body),
		cmocka_unit_test(test_not_tls_decided_early),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_corrupt_every_byte),
		cmocka_unit_test(test_random_fuzz),
		cmocka_unit_test(test_server_hello),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
