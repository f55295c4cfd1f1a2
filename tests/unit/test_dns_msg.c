/*
 * test_dns_msg.c - DNS message encoding and decoding (dns_msg.c), the
 * wire layer of the internal resolver (F-DNS-01) and of dnspr
 * (F-DNS-07, F-DNS-08).  Hostile input: truncation at every length,
 * looping and forward compression pointers, over-long names, mutated
 * and random messages (run under ASan/UBSan in CI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"

/* ---- building test messages ------------------------------------------- */

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put8(struct msg *m, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(m, &c, 1);
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
	uint8_t w[DNS_MAX_WIRE_NAME];
	int n = dns_encode_name(name, w, sizeof(w));

	assert_true(n > 0);
	put(m, w, (size_t)n);
}

static void header(struct msg *m, unsigned id, unsigned flags, unsigned qd,
		   unsigned an)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

/* A reply to (id, name, qtype) with the question; answers follow. */
static void reply_start(struct msg *m, unsigned id, unsigned flags,
			unsigned an, const char *name, unsigned qtype)
{
	header(m, id, flags, 1, an);
	put_name(m, name);
	put16(m, qtype);
	put16(m, DNS_CLASS_IN);
}

/* A record whose owner is a pointer to the question name. */
static void rr(struct msg *m, unsigned type, uint32_t ttl, const void *rdata,
	       size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, DNS_CLASS_IN);
	put32(m, ttl);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

static const uint8_t ip4[4] = { 192, 0, 2, 7 };

/* ---- names ------------------------------------------------------------- */

static void test_encode_name(void **state)
{
	uint8_t w[300];
	static const uint8_t want[] = "\007example\003com";
	char label63[64], label64[65], big[400];
	int i;

	assert_int_equal(dns_encode_name("example.com", w, sizeof(w)), 13);
	assert_memory_equal(w, want, 13);      /* includes the final 0 */
	assert_int_equal(dns_encode_name("example.com.", w, sizeof(w)), 13);
	assert_memory_equal(w, want, 13);
	assert_int_equal(dns_encode_name("", w, sizeof(w)), 1);
	assert_int_equal(dns_encode_name(".", w, sizeof(w)), 1);
	assert_int_equal(w[0], 0);
	/* empty labels */
	assert_int_equal(dns_encode_name("a..b", w, sizeof(w)), -1);
	assert_int_equal(dns_encode_name(".a", w, sizeof(w)), -1);
	assert_int_equal(dns_encode_name("a..", w, sizeof(w)), -1);
	assert_int_equal(dns_encode_name("..", w, sizeof(w)), -1);
	/* bytes that are not carried */
	assert_int_equal(dns_encode_name("a b.com", w, sizeof(w)), -1);
	assert_int_equal(dns_encode_name("a\nb", w, sizeof(w)), -1);
	assert_int_equal(dns_encode_name("caf\xc3\xa9", w, sizeof(w)), -1);
	/* label length 63 ok, 64 not */
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'b', 64);
	label64[64] = '\0';
	assert_int_equal(dns_encode_name(label63, w, sizeof(w)), 65);
	assert_int_equal(dns_encode_name(label64, w, sizeof(w)), -1);
	/* total: 4 x 63-byte labels = 256 wire bytes > 255 */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", label63, label63, label63,
		 label63);
	assert_int_equal(dns_encode_name(big, w, sizeof(w)), -1);
	/* 3 x 63 + one of 61: 64*3 + 62 + 1 = 255, the limit */
	snprintf(big, sizeof(big), "%s.%s.%s.%.61s", label63, label63,
		 label63, label63);
	assert_int_equal(dns_encode_name(big, w, sizeof(w)), 255);
	/* too small a buffer, at every size */
	for (i = 0; i < 13; i++)
		assert_int_equal(dns_encode_name("example.com", w, (size_t)i),
				 -1);
	assert_int_equal(dns_encode_name(NULL, w, sizeof(w)), -1);
}

static void test_build_query(void **state)
{
	uint8_t q[512];
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1
	};
	int n = dns_build_query(q, sizeof(q), 0x1234, "example.com", DNS_T_A);

	assert_int_equal(n, sizeof(want));
	assert_memory_equal(q, want, sizeof(want));
	n = dns_build_query(q, sizeof(q), 1, "x.org", DNS_T_AAAA);
	assert_int_equal(q[n - 3], 28);
	/* the root and bad names are not asked */
	assert_int_equal(dns_build_query(q, sizeof(q), 1, "", DNS_T_A), -1);
	assert_int_equal(dns_build_query(q, sizeof(q), 1, "a b", DNS_T_A), -1);
	assert_int_equal(dns_build_query(q, 20, 1, "example.com", DNS_T_A),
			 -1);
}

static void test_read_name_compression(void **state)
{
	struct msg m;
	char out[DNS_NAME_TEXT];
	size_t off;

	header(&m, 1, 0x8180, 1, 1);
	put_name(&m, "www.example.com");          /* at 12 */
	put16(&m, 1);
	put16(&m, 1);
	/* at 33: "mail" + pointer to "example.com" (offset 16) */
	put8(&m, 4);
	put(&m, "mail", 4);
	put16(&m, 0xc000 | 16);
	off = 33;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, sizeof(out)), 16);
	assert_string_equal(out, "mail.example.com");
	assert_int_equal(off, 33 + 5 + 2);       /* past the pointer */
	/* a lone pointer */
	put16(&m, 0xc00c);
	off = 40;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, sizeof(out)), 15);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(off, 42);
	/* a pointer to a pointer (chains go backwards) */
	put16(&m, 0xc000 | 40);
	off = 42;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, sizeof(out)), 15);
	assert_int_equal(off, 44);
}

static void test_read_name_hostile(void **state)
{
	uint8_t b[600];
	char out[DNS_NAME_TEXT];
	size_t off, i;

	memset(b, 0, sizeof(b));
	/* a pointer to itself */
	b[12] = 0xc0;
	b[13] = 12;
	off = 12;
	assert_int_equal(dns_read_name(b, 14, &off, out, sizeof(out)), -1);
	/* two pointers pointing at each other */
	b[12] = 0xc0; b[13] = 14; b[14] = 0xc0; b[15] = 12;
	off = 14;
	assert_int_equal(dns_read_name(b, 16, &off, out, sizeof(out)), -1);
	off = 12;
	assert_int_equal(dns_read_name(b, 16, &off, out, sizeof(out)), -1);
	/* a forward pointer */
	b[12] = 0xc0; b[13] = 20; b[20] = 0;
	off = 12;
	assert_int_equal(dns_read_name(b, 30, &off, out, sizeof(out)), -1);
	/* a label pointing back into its own name: loop */
	b[12] = 1; b[13] = 'a'; b[14] = 0xc0; b[15] = 12;
	off = 12;
	assert_int_equal(dns_read_name(b, 16, &off, out, sizeof(out)), -1);
	/* a pointer past the end / cut in half */
	b[12] = 0xc3; b[13] = 0xff;
	off = 12;
	assert_int_equal(dns_read_name(b, 14, &off, out, sizeof(out)), -1);
	off = 12;
	assert_int_equal(dns_read_name(b, 13, &off, out, sizeof(out)), -1);
	/* reserved label types 0x40 and 0x80 */
	b[12] = 0x41; b[13] = 'a'; b[14] = 0;
	off = 12;
	assert_int_equal(dns_read_name(b, 15, &off, out, sizeof(out)), -1);
	b[12] = 0x81;
	off = 12;
	assert_int_equal(dns_read_name(b, 15, &off, out, sizeof(out)), -1);
	/* a label running off the end, at every cut */
	b[12] = 5; memcpy(b + 13, "abcde", 5); b[18] = 0;
	for (i = 12; i < 19; i++) {
		off = 12;
		assert_int_equal(dns_read_name(b, i, &off, out, sizeof(out)),
				 -1);
	}
	off = 12;
	assert_int_equal(dns_read_name(b, 19, &off, out, sizeof(out)), 5);
	/* no terminating zero before the end */
	off = 12;
	assert_int_equal(dns_read_name(b, 18, &off, out, sizeof(out)), -1);
	/* a name growing past 255 bytes through pointers: segments of
	 * 63-byte labels each ending in a pointer to the previous one */
	memset(b, 0, sizeof(b));
	b[12] = 63; memset(b + 13, 'x', 63); b[76] = 0;          /* 65 */
	b[77] = 63; memset(b + 78, 'y', 63); b[141] = 0xc0; b[142] = 12;
	b[143] = 63; memset(b + 144, 'z', 63); b[207] = 0xc0; b[208] = 77;
	b[209] = 63; memset(b + 210, 'w', 63); b[273] = 0xc0; b[274] = 143;
	off = 143;                                  /* 3 labels: 193 ok */
	assert_int_equal(dns_read_name(b, 275, &off, out, sizeof(out)),
			 63 * 3 + 2);
	off = 209;                                  /* 4 labels: 257 */
	assert_int_equal(dns_read_name(b, 275, &off, out, sizeof(out)), -1);
	/* bytes we refuse to carry into text */
	b[12] = 3; memcpy(b + 13, "a b", 3); b[16] = 0;
	off = 12;
	assert_int_equal(dns_read_name(b, 17, &off, out, sizeof(out)), -1);
	b[12] = 3; memcpy(b + 13, "a.b", 3);
	off = 12;
	assert_int_equal(dns_read_name(b, 17, &off, out, sizeof(out)), -1);
	/* a small output buffer */
	b[12] = 3; memcpy(b + 13, "abc", 3);
	off = 12;
	assert_int_equal(dns_read_name(b, 17, &off, out, 3), -1);
	off = 12;
	assert_int_equal(dns_read_name(b, 17, &off, out, 4), 3);
}

/* ---- queries (dnspr) ---------------------------------------------------- */

static void test_parse_query(void **state)
{
	struct msg m;
	struct dns_header h;
	struct dns_question q;
	size_t i;

	header(&m, 0xbeef, 0x0100, 1, 0);
	put_name(&m, "Host.Example.NET");
	put16(&m, DNS_T_AAAA);
	put16(&m, DNS_CLASS_IN);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_OK);
	assert_int_equal(h.id, 0xbeef);
	assert_string_equal(q.name, "Host.Example.NET");
	assert_int_equal(q.qtype, DNS_T_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.end, m.n);
	/* every truncation fails cleanly */
	for (i = 0; i < m.n; i++)
		assert_int_not_equal(dns_parse_query(m.b, i, &h, &q), DNSQ_OK);
	assert_int_equal(dns_parse_query(m.b, 11, &h, &q), DNSQ_SHORT);
	assert_int_equal(dns_parse_query(m.b, 14, &h, &q), DNSQ_BAD_NAME);
	/* QDCOUNT 0 and 2 */
	m.b[5] = 0;
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_NOT_ONE);
	m.b[5] = 2;
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_NOT_ONE);
	m.b[4] = 1; m.b[5] = 1;
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_NOT_ONE);
	/* a compressed question name */
	header(&m, 1, 0x0100, 1, 0);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_BAD_NAME);
	header(&m, 1, 0x0100, 1, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc000);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_BAD_NAME);
	/* a control byte in a label */
	header(&m, 1, 0x0100, 1, 0);
	put8(&m, 2);
	put(&m, "a\n", 2);
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_BAD_NAME);
	/* the root is a well-formed name */
	header(&m, 1, 0x0100, 1, 0);
	put8(&m, 0);
	put16(&m, DNS_T_NS);
	put16(&m, 1);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_OK);
	assert_string_equal(q.name, "");
}

/* ---- replies (resolver) ------------------------------------------------- */

static void test_reply_a_after_cname(void **state)
{
	struct msg m;
	struct dns_answer a;
	uint8_t cname[64];
	int cn = dns_encode_name("real.example.com", cname, sizeof(cname));

	reply_start(&m, 0x4242, 0x8180, 2, "www.example.com", DNS_T_A);
	rr(&m, DNS_T_CNAME, 300, cname, (size_t)cn);
	rr(&m, DNS_T_A, 120, ip4, 4);
	assert_int_equal(dns_parse_reply(m.b, m.n, 0x4242, "www.example.com",
					 DNS_T_A, &a), DNSR_FOUND);
	assert_int_equal(a.addrlen, 4);
	assert_memory_equal(a.addr, ip4, 4);
	assert_int_equal(a.ttl, 120);
	/* the question compares without regard to case, and a trailing dot
	 * in our name is the same name */
	assert_int_equal(dns_parse_reply(m.b, m.n, 0x4242, "WWW.Example.COM.",
					 DNS_T_A, &a), DNSR_FOUND);
}

static void test_reply_mismatch(void **state)
{
	struct msg m;
	struct dns_answer a;

	reply_start(&m, 7, 0x8180, 1, "a.example", DNS_T_A);
	rr(&m, DNS_T_A, 60, ip4, 4);
	assert_int_equal(dns_parse_reply(m.b, m.n, 8, "a.example", DNS_T_A,
					 &a), DNSR_MISMATCH);   /* id */
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "b.example", DNS_T_A,
					 &a), DNSR_MISMATCH);   /* name */
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "a.example.org",
					 DNS_T_A, &a), DNSR_MISMATCH);
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "a.example",
					 DNS_T_AAAA, &a), DNSR_MISMATCH);
	m.b[2] &= 0x7f;                                     /* QR clear */
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "a.example", DNS_T_A,
					 &a), DNSR_MISMATCH);
	m.b[2] |= 0x80;
	m.b[5] = 2;                                         /* QDCOUNT 2 */
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "a.example", DNS_T_A,
					 &a), DNSR_MISMATCH);
	m.b[5] = 1;
	m.b[m.n - 4 - 10 - 2 - 1] = 3;                      /* QCLASS CH */
	assert_int_equal(dns_parse_reply(m.b, m.n, 7, "a.example", DNS_T_A,
					 &a), DNSR_MISMATCH);
}

static void test_reply_empty_and_unusable(void **state)
{
	struct msg m;
	struct dns_answer a;
	uint8_t cname[32];
	int cn = dns_encode_name("elsewhere.example", cname, sizeof(cname));
	static const uint8_t five[5] = { 1, 2, 3, 4, 5 };

	/* NOERROR / NXDOMAIN with no answers: the name has nothing */
	reply_start(&m, 1, 0x8180, 0, "none.example", DNS_T_A);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "none.example", DNS_T_A,
					 &a), DNSR_EMPTY);
	reply_start(&m, 1, 0x8183, 0, "none.example", DNS_T_A);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "none.example", DNS_T_A,
					 &a), DNSR_EMPTY);
	/* SERVFAIL, REFUSED, truncated: ask the next server */
	reply_start(&m, 1, 0x8182, 0, "none.example", DNS_T_A);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "none.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
	reply_start(&m, 1, 0x8185, 0, "none.example", DNS_T_A);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "none.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
	reply_start(&m, 1, 0x8380, 0, "none.example", DNS_T_A);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "none.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
	/* only a CNAME; an A with the wrong length */
	reply_start(&m, 1, 0x8180, 2, "c.example", DNS_T_A);
	rr(&m, DNS_T_CNAME, 60, cname, (size_t)cn);
	rr(&m, DNS_T_A, 60, five, 5);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "c.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
	/* ANCOUNT larger than what is there */
	reply_start(&m, 1, 0x8180, 3, "c.example", DNS_T_A);
	rr(&m, DNS_T_CNAME, 60, cname, (size_t)cn);
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "c.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
	/* RDLENGTH past the end */
	reply_start(&m, 1, 0x8180, 1, "c.example", DNS_T_A);
	rr(&m, DNS_T_A, 60, ip4, 4);
	m.b[m.n - 5] = 40;
	assert_int_equal(dns_parse_reply(m.b, m.n, 1, "c.example", DNS_T_A,
					 &a), DNSR_UNUSABLE);
}

static void test_reply_ttl_clamp_and_aaaa(void **state)
{
	struct msg m;
	struct dns_answer a;
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	six[15] = 9;
	reply_start(&m, 9, 0x8180, 1, "v6.example", DNS_T_AAAA);
	rr(&m, DNS_T_AAAA, 0, six, 16);
	assert_int_equal(dns_parse_reply(m.b, m.n, 9, "v6.example",
					 DNS_T_AAAA, &a), DNSR_FOUND);
	assert_int_equal(a.addrlen, 16);
	assert_memory_equal(a.addr, six, 16);
	assert_int_equal(a.ttl, 1);                       /* 0 -> 1 */
	reply_start(&m, 9, 0x8180, 1, "v6.example", DNS_T_AAAA);
	rr(&m, DNS_T_AAAA, 0xffffffffu, six, 16);
	assert_int_equal(dns_parse_reply(m.b, m.n, 9, "v6.example",
					 DNS_T_AAAA, &a), DNSR_FOUND);
	assert_int_equal(a.ttl, 43200);                   /* 12 h at most */
	/* an A record in an AAAA answer is skipped */
	reply_start(&m, 9, 0x8180, 1, "v6.example", DNS_T_AAAA);
	rr(&m, DNS_T_A, 60, ip4, 4);
	assert_int_equal(dns_parse_reply(m.b, m.n, 9, "v6.example",
					 DNS_T_AAAA, &a), DNSR_UNUSABLE);
	assert_int_equal(dns_clamp_ttl(3600), 3600);
}

static void test_reply_ptr(void **state)
{
	struct msg m;
	struct dns_answer a;
	uint8_t target[64];
	int tn = dns_encode_name("host.example.org", target, sizeof(target));
	char rev[64];

	assert_int_equal(dns_reverse_v4(ip4, rev, sizeof(rev)), 22);
	assert_string_equal(rev, "7.2.0.192.in-addr.arpa");
	reply_start(&m, 3, 0x8180, 1, rev, DNS_T_PTR);
	rr(&m, DNS_T_PTR, 60, target, (size_t)tn);
	assert_int_equal(dns_parse_reply(m.b, m.n, 3, rev, DNS_T_PTR, &a),
			 DNSR_FOUND);
	assert_string_equal(a.name, "host.example.org");
	/* a PTR name that runs past its rdata is not used */
	reply_start(&m, 3, 0x8180, 1, rev, DNS_T_PTR);
	rr(&m, DNS_T_PTR, 60, target, (size_t)tn);
	m.b[m.n - (size_t)tn - 1] = 4;     /* RDLENGTH 4, name is longer */
	m.n = m.n - (size_t)tn + 4;
	assert_int_equal(dns_parse_reply(m.b, m.n, 3, rev, DNS_T_PTR, &a),
			 DNSR_UNUSABLE);
}

/* ---- local answers (dnspr) ---------------------------------------------- */

static void test_build_answer_and_nxdomain(void **state)
{
	struct msg m;
	struct dns_header h;
	struct dns_question q;
	struct dns_answer a;
	uint8_t out[600];
	int n;

	header(&m, 0x0102, 0x0100, 1, 0);
	m.b[11] = 1;                          /* ARCOUNT 1: an OPT record */
	put_name(&m, "fake.example");
	put16(&m, DNS_T_A);
	put16(&m, DNS_CLASS_IN);
	put8(&m, 0);
	put16(&m, 41);
	put16(&m, 4096);
	put32(&m, 0);
	put16(&m, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &h, &q), DNSQ_OK);
	n = dns_build_answer(out, sizeof(out), m.b, &q, 3600, ip4, 4);
	assert_int_equal(n, (int)q.end + 16);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(out[1], 0x02);
	assert_int_equal(out[2], 0x85);
	assert_int_equal(out[3], 0x80);
	assert_int_equal(out[5], 1);
	assert_int_equal(out[7], 1);
	assert_int_equal(out[9], 0);
	assert_int_equal(out[11], 0);         /* the OPT is not echoed */
	assert_int_equal(out[q.end], 0xc0);
	assert_int_equal(out[q.end + 1], 0x0c);
	assert_int_equal(out[q.end + 9], 0x10);   /* TTL 3600 = 0x0e10 */
	/* our own parser reads it back */
	assert_int_equal(dns_parse_reply(out, (size_t)n, 0x0102,
					 "fake.example", DNS_T_A, &a),
			 DNSR_FOUND);
	assert_memory_equal(a.addr, ip4, 4);
	/* too small a buffer */
	assert_int_equal(dns_build_answer(out, q.end + 15, m.b, &q, 1, ip4, 4),
			 -1);
	/* NXDOMAIN: the query echoed with 0x85 0x83 */
	n = dns_build_nxdomain(out, sizeof(out), m.b, m.n);
	assert_int_equal(n, (int)m.n);
	assert_int_equal(out[2], 0x85);
	assert_int_equal(out[3], 0x83);
	assert_memory_equal(out + 4, m.b + 4, m.n - 4);
	assert_int_equal(dns_build_nxdomain(out, 5, m.b, m.n), -1);
	assert_int_equal(dns_build_nxdomain(out, sizeof(out), m.b, 11), -1);
}

static void test_reverse_names(void **state)
{
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	char out[128];

	a6[15] = 0x1f;
	assert_int_equal(dns_reverse_v6(a6, out, sizeof(out)), 72);
	assert_string_equal(out, "f.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dns_reverse_v6(a6, out, 50), -1);
	assert_int_equal(dns_reverse_v4(a6, out, 10), -1);
}

/* ---- random and mutated input: nothing may crash or read out of bounds */

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void exercise(const uint8_t *b, size_t n)
{
	struct dns_header h;
	struct dns_question q;
	struct dns_answer a;
	char out[DNS_NAME_TEXT];
	uint8_t ans[2048];
	size_t off;

	memset(&h, 0, sizeof(h));
	if (dns_parse_query(b, n, &h, &q) == DNSQ_OK) {
		assert_true(q.end <= n);
		assert_true(strlen(q.name) < DNS_NAME_TEXT);
		dns_build_answer(ans, sizeof(ans), b, &q, 1, ip4, 4);
	}
	dns_parse_reply(b, n, h.id, "www.example.com", DNS_T_A, &a);
	dns_parse_reply(b, n, h.id, "www.example.com", DNS_T_PTR, &a);
	for (off = 0; off < n && off < 64; off++) {
		size_t o = off;

		if (dns_read_name(b, n, &o, out, sizeof(out)) >= 0)
			assert_true(o <= n);
	}
}

static void test_fuzz(void **state)
{
	struct msg base;
	uint8_t cname[64], *buf;
	int cn = dns_encode_name("c.example.com", cname, sizeof(cname));
	int i, k;

	reply_start(&base, 0x1111, 0x8180, 3, "www.example.com", DNS_T_A);
	rr(&base, DNS_T_CNAME, 60, cname, (size_t)cn);
	put16(&base, 0xc000 | 45);      /* owner: the CNAME's target */
	put16(&base, DNS_T_A);
	put16(&base, 1);
	put32(&base, 60);
	put16(&base, 4);
	put(&base, ip4, 4);
	rr(&base, DNS_T_A, 60, ip4, 4);
	for (i = 0; i < 200000; i++) {
		size_t n = base.n;

		/* exact-size heap copies so ASan sees any overread */
		if (i % 4 == 0)
			n = rnd() % (base.n + 1);
		buf = malloc(n ? n : 1);
		assert_non_null(buf);
		memcpy(buf, base.b, n);
		for (k = (int)(rnd() % 6); k >= 0 && n > 0; k--)
			buf[rnd() % n] = (uint8_t)rnd();
		if (i % 7 == 0 && n > 13)       /* random pointers */
			buf[12 + rnd() % (n - 13)] = 0xc0;
		exercise(buf, n);
		free(buf);
	}
	for (i = 0; i < 50000; i++) {
		size_t n = rnd() % 300;

		buf = malloc(n ? n : 1);
		assert_non_null(buf);
		for (k = 0; k < (int)n; k++)
			buf[k] = (uint8_t)(rnd() % 4 == 0 ? 0xc0 : rnd());
		exercise(buf, n);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_name),
		cmocka_unit_test(test_build_query),
		cmocka_unit_test(test_read_name_compression),
		cmocka_unit_test(test_read_name_hostile),
		cmocka_unit_test(test_parse_query),
		cmocka_unit_test(test_reply_a_after_cname),
		cmocka_unit_test(test_reply_mismatch),
		cmocka_unit_test(test_reply_empty_and_unusable),
		cmocka_unit_test(test_reply_ttl_clamp_and_aaaa),
		cmocka_unit_test(test_reply_ptr),
		cmocka_unit_test(test_build_answer_and_nxdomain),
		cmocka_unit_test(test_reverse_names),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
