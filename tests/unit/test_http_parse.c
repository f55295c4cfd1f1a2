/*
 * Unit tests for the pure HTTP/1.x parser (http_parse.c): heads, fields,
 * framing and every request smuggling vector, targets, chunked coding
 * fed in pieces, and the small codecs.  Truncated and hostile inputs
 * must give NEED_MORE or an error, never a read past the input (the
 * suite runs under ASan, and inputs are copied to exact-size heap
 * buffers so an overread is caught).  F-HTTP-02, F-HTTP-04, F-HTTP-06,
 * F-HTTP-10, F-HTTP-11, F-HTTP-13.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_parse.h"

static struct http_head head;

/* An exact-size heap copy: reading one byte too far trips ASan. */
static char *dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static int req(const char *s)
{
	size_t n = strlen(s);
	char *p = dup_exact(s, n);
	int rc = http_parse_request_head(p, n, &head);

	/* the spans point into p: only status is kept */
	free(p);
	return rc;
}

static int framing(const char *s, struct http_framing *f)
{
	size_t n = strlen(s);
	char *p = dup_exact(s, n);
	int rc = http_parse_request_head(p, n, &head);

	if (rc == HTTP_OK)
		rc = http_request_framing(&head, f);
	free(p);
	return rc;
}

static int resp_framing(const char *s, int is_head, struct http_framing *f)
{
	size_t n = strlen(s);
	char *p = dup_exact(s, n);
	int rc = http_parse_response_head(p, n, &head);

	if (rc == HTTP_OK)
		rc = http_response_framing(&head, is_head, f);
	free(p);
	return rc;
}

static int scan(const char *s, size_t *headlen)
{
	size_t n = strlen(s), pos = 0;
	char *p = dup_exact(s, n);
	int rc = http_head_scan(p, n, &pos, headlen);

	free(p);
	return rc;
}

/* ---- heads -------------------------------------------------------------- */

static void test_scan(void **state)
{
	size_t hl = 0, pos = 0, n;
	const char *full = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
	char *big;
	int rc;

	(void)state;
	assert_int_equal(scan(full, &hl), HTTP_OK);
	assert_int_equal(hl, strlen(full) - 4);
	assert_int_equal(scan("GET / HTTP/1.1\nHost: a\n\n", &hl), HTTP_OK);
	assert_int_equal(hl, 24);
	/* every truncation of a head needs more */
	for (n = 0; n < strlen(full) - 4; n++) {
		char *p = dup_exact(full, n);

		pos = 0;
		assert_int_equal(http_head_scan(p, n, &pos, &hl),
				 HTTP_NEED_MORE);
		free(p);
	}
	/* resuming from a saved position gives the same answer */
	pos = 0;
	assert_int_equal(http_head_scan(full, 20, &pos, &hl), HTTP_NEED_MORE);
	assert_int_equal(http_head_scan(full, strlen(full), &pos, &hl), HTTP_OK);
	assert_int_equal(hl, strlen(full) - 4);
	/* a line past the bound, a head past the bound */
	big = malloc(HTTP_MAX_HEAD + 10);
	memset(big, 'a', HTTP_MAX_LINE);
	pos = 0;
	assert_int_equal(http_head_scan(big, HTTP_MAX_LINE, &pos, &hl),
			 HTTP_ERR_LINE_LONG);
	for (n = 0; n + 100 <= HTTP_MAX_HEAD + 10; n += 100) {
		memset(big + n, 'b', 98);
		big[n + 98] = '\r';
		big[n + 99] = '\n';
	}
	pos = 0;
	rc = http_head_scan(big, HTTP_MAX_HEAD + 10, &pos, &hl);
	assert_int_equal(rc, HTTP_ERR_HEAD_BIG);
	free(big);
}

static void test_request_line(void **state)
{
	(void)state;
	assert_int_equal(req("GET http://a/ HTTP/1.1\r\n\r\n"), HTTP_OK);
	assert_int_equal(head.vminor, 1);
	assert_int_equal(req("GET / HTTP/1.0\r\nA: b\r\n\r\n"), HTTP_OK);
	assert_int_equal(head.vminor, 0);
	assert_int_equal(head.nfields, 1);
	assert_int_equal(req("GARBAGE\r\n\r\n"), HTTP_ERR_SPACE);
	assert_int_equal(req("GET /\r\n\r\n"), HTTP_ERR_SPACE);
	assert_int_equal(req("GET  / HTTP/1.1\r\n\r\n"), HTTP_ERR_LINE);
	assert_int_equal(req("GET / HTTP/2.0\r\n\r\n"), HTTP_ERR_VERSION);
	assert_int_equal(req("GET / HTTP/1.1 \r\n\r\n"), HTTP_ERR_VERSION);
	assert_int_equal(req("GET / http/1.1\r\n\r\n"), HTTP_ERR_VERSION);
	assert_int_equal(req("G(T / HTTP/1.1\r\n\r\n"), HTTP_ERR_LINE);
	assert_int_equal(req("GET /\ra HTTP/1.1\r\n\r\n"), HTTP_ERR_LINE);
	assert_int_equal(http_parse_request_head("GET /\0a HTTP/1.1\r\n\r\n",
						 20, &head), HTTP_ERR_LINE);
	assert_int_equal(req("GET /a\tb HTTP/1.1\r\n\r\n"), HTTP_ERR_LINE);
}

static void test_fields(void **state)
{
	struct http_field f;
	static const char nul[] = "GET / HTTP/1.1\r\nA: x\0y\r\n\r\n";
	char *p;

	(void)state;
	assert_int_equal(req("GET / HTTP/1.1\r\nA:  v  \r\nB:\r\n\r\n"),
			 HTTP_OK);
	assert_int_equal(head.nfields, 2);
	assert_int_equal(http_parse_field("Name: value ", 12, &f), HTTP_OK);
	assert_int_equal(f.value.n, 5);
	assert_memory_equal(f.value.p, "value", 5);
	/* RFC 9112 5.1: no whitespace between the name and the colon */
	assert_int_equal(req("GET / HTTP/1.1\r\nA : v\r\n\r\n"),
			 HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\n: v\r\n\r\n"), HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\nNoColon\r\n\r\n"),
			 HTTP_ERR_HEADER);
	/* obs-fold (RFC 9112 5.2) */
	assert_int_equal(req("GET / HTTP/1.1\r\nA: 1\r\n 2\r\n\r\n"),
			 HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\nA: 1\r\n\t2\r\n\r\n"),
			 HTTP_ERR_HEADER);
	/* bare CR, NUL, other controls */
	assert_int_equal(req("GET / HTTP/1.1\r\nA: 1\r2\r\n\r\n"),
			 HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\nA: 1\r\rB: 2\r\n\r\n"),
			 HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\nA: \x01\r\n\r\n"),
			 HTTP_ERR_HEADER);
	assert_int_equal(req("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n"),
			 HTTP_ERR_HEADER);
	p = dup_exact(nul, sizeof(nul) - 1);
	assert_int_equal(http_parse_request_head(p, sizeof(nul) - 1, &head),
			 HTTP_ERR_HEADER);
	free(p);
	/* obs-text is allowed in values */
	assert_int_equal(req("GET / HTTP/1.1\r\nA: caf\xc3\xa9\r\n\r\n"),
			 HTTP_OK);
}

static void test_too_many_fields(void **state)
{
	char *s = malloc(HTTP_MAX_HEAD);
	size_t n = 0;
	int i;

	(void)state;
	n += (size_t)snprintf(s, HTTP_MAX_HEAD, "GET / HTTP/1.1\r\n");
	for (i = 0; i <= HTTP_MAX_FIELDS; i++)
		n += (size_t)snprintf(s + n, HTTP_MAX_HEAD - n, "X%d: y\r\n",
				      i);
	n += (size_t)snprintf(s + n, HTTP_MAX_HEAD - n, "\r\n");
	assert_int_equal(http_parse_request_head(s, n, &head), HTTP_ERR_FIELDS);
	free(s);
}

static void test_lists(void **state)
{
	static const char h[] = "GET / HTTP/1.1\r\nConnection: a, Keep-Alive ,b"
				"\r\nConnection: Upgrade\r\n\r\n";

	(void)state;
	assert_int_equal(http_parse_request_head(h, sizeof(h) - 1, &head),
			 HTTP_OK);
	assert_true(http_fields_list(&head, "connection", "keep-alive"));
	assert_true(http_fields_list(&head, "Connection", "upgrade"));
	assert_false(http_fields_list(&head, "Connection", "close"));
	assert_false(http_fields_list(&head, "Connection", "keep"));
	assert_int_equal(http_find_field(&head, "CONNECTION", 1), 1);
	assert_int_equal(http_count_fields(&head, "connection"), 2);
}

/* ---- framing and smuggling -------------------------------------------- */

static void test_request_framing(void **state)
{
	struct http_framing f;

	(void)state;
	assert_int_equal(framing("GET / HTTP/1.1\r\n\r\n", &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n",
				 &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_LENGTH);
	assert_int_equal(f.length, 12);
	assert_int_equal(framing("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
				 &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: "
				 "ChUnKeD\r\n\r\n", &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_CHUNKED);
	assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, "
				 "chunked\r\n\r\n", &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_CHUNKED);
	assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n", &f),
			 HTTP_OK);
}

static void test_smuggling_vectors(void **state)
{
	static const char *const bad[] = {
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
		"Content-Length: 5\r\nContent-Length: 5\r\n",
		"Content-Length: 5\r\nContent-Length: 6\r\n",
		"Content-Length: 5, 5\r\n",
		"Content-Length: +5\r\n",
		"Content-Length: -1\r\n",
		"Content-Length: 0x5\r\n",
		"Content-Length: 5 5\r\n",
		"Content-Length: \r\n",
		"Content-Length: 99999999999999999999\r\n",
		"Content-Length: 9223372036854775808\r\n",
		"Transfer-Encoding: identity\r\n",
		"Transfer-Encoding: chunked, identity\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
		"Transfer-Encoding: chunked, chunked\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: xchunked\r\n",
		"Transfer-Encoding: chunked;q=1\r\n",
		"Transfer-Encoding: ,chunked\r\n",
		"Transfer-Encoding: \"chunked\"\r\n",
		"Transfer-Encoding: \r\n",
	};
	char buf[256];
	struct http_framing f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\n%s\r\n", bad[i]);
		if (framing(buf, &f) != HTTP_ERR_FRAMING)
			fail_msg("accepted: %s", bad[i]);
	}
	/* any Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1) */
	assert_int_equal(framing("POST / HTTP/1.0\r\nTransfer-Encoding: "
				 "chunked\r\n\r\n", &f), HTTP_ERR_FRAMING);
	/* header-level vectors fail in the head parser already */
	assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding : "
				 "chunked\r\n\r\n", &f), HTTP_ERR_HEADER);
	assert_int_equal(framing("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n "
				 "chunked\r\n\r\n", &f), HTTP_ERR_HEADER);
	assert_int_equal(framing("POST / HTTP/1.1\r\nX: a\rContent-Length: 5"
				 "\r\n\r\n", &f), HTTP_ERR_HEADER);
}

static void test_response_framing(void **state)
{
	struct http_framing f;

	(void)state;
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nContent-Length: 3"
				      "\r\n\r\n", 0, &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_LENGTH);
	assert_int_equal(f.length, 3);
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nContent-Length: 3"
				      "\r\n\r\n", 1, &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(resp_framing("HTTP/1.1 204 No\r\n\r\n", 0, &f),
			 HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(resp_framing("HTTP/1.1 304 NM\r\nContent-Length: 9\r\n"
				      "\r\n", 0, &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(resp_framing("HTTP/1.1 100 Continue\r\n\r\n", 0, &f),
			 HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_NONE);
	assert_int_equal(resp_framing("HTTP/1.0 200 OK\r\n\r\n", 0, &f),
			 HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_CLOSE);
	/* identical repeated lengths are one length (RFC 9110 8.6) */
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nContent-Length: 3, 3"
				      "\r\nContent-Length: 3\r\n\r\n", 0, &f),
			 HTTP_OK);
	assert_int_equal(f.length, 3);
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
				      "Content-Length: 4\r\n\r\n", 0, &f),
			 HTTP_ERR_FRAMING);
	/* TE overrides CL, and the connection is not reused */
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
				      "Transfer-Encoding: chunked\r\n\r\n", 0,
				      &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_CHUNKED);
	assert_true(f.te_close);
	assert_int_equal(resp_framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				      "gzip\r\n\r\n", 0, &f), HTTP_OK);
	assert_int_equal(f.kind, HTTP_BODY_CLOSE);
	/* status lines */
	assert_int_equal(resp_framing("HTTP/1.1 200\r\n\r\n", 0, &f), HTTP_OK);
	assert_int_equal(resp_framing("HTTP/1.1 20\r\n\r\n", 0, &f),
			 HTTP_ERR_LINE);
	assert_int_equal(resp_framing("HTTP/1.1 2000 OK\r\n\r\n", 0, &f),
			 HTTP_ERR_LINE);
	assert_int_equal(resp_framing("HTTP/3.0 200 OK\r\n\r\n", 0, &f),
			 HTTP_ERR_VERSION);
	assert_int_equal(resp_framing("ICY 200 OK\r\n\r\n", 0, &f),
			 HTTP_ERR_LINE);
	assert_int_equal(resp_framing("ICY/1.0 200 OK\r\n\r\n", 0, &f),
			 HTTP_ERR_VERSION);
}

/* ---- targets ------------------------------------------------------------- */

static int target(const char *s, int is_connect, struct http_target *t)
{
	return http_parse_target(s, strlen(s), is_connect, t);
}

static void assert_span(struct http_str s, const char *want)
{
	assert_int_equal(s.n, strlen(want));
	assert_memory_equal(s.p, want, s.n);
}

static void test_targets(void **state)
{
	struct http_target t;
	char longhost[300];

	(void)state;
	assert_int_equal(target("http://Example.com/a?b", 0, &t), HTTP_OK);
	assert_int_equal(t.form, HTTP_FORM_ABSOLUTE);
	assert_int_equal(t.scheme, HTTP_SCHEME_HTTP);
	assert_span(t.host, "Example.com");
	assert_int_equal(t.port, 80);
	assert_span(t.path, "/a?b");
	assert_int_equal(target("HTTP://h:8080", 0, &t), HTTP_OK);
	assert_int_equal(t.port, 8080);
	assert_int_equal(t.path.n, 0);
	assert_span(t.authority, "h:8080");
	assert_int_equal(target("http://h?q", 0, &t), HTTP_OK);
	assert_span(t.path, "?q");
	assert_int_equal(target("ftp://u:p@w@h/f", 0, &t), HTTP_OK);
	assert_int_equal(t.scheme, HTTP_SCHEME_FTP);
	assert_int_equal(t.port, 21);
	assert_span(t.userinfo, "u:p@w");
	assert_span(t.host, "h");
	assert_int_equal(target("http://[2001:db8::1]:81/", 0, &t), HTTP_OK);
	assert_true(t.host_ip6);
	assert_span(t.host, "2001:db8::1");
	assert_int_equal(t.port, 81);
	assert_int_equal(target("/only/path", 0, &t), HTTP_OK);
	assert_int_equal(t.form, HTTP_FORM_ORIGIN);
	assert_int_equal(target("*", 0, &t), HTTP_OK);
	assert_int_equal(t.form, HTTP_FORM_ASTERISK);
	assert_int_equal(target("host:443", 1, &t), HTTP_OK);
	assert_int_equal(t.form, HTTP_FORM_AUTHORITY);
	assert_int_equal(t.port, 443);
	assert_int_equal(target("host", 1, &t), HTTP_OK);
	assert_int_equal(t.port, 80);
	assert_int_equal(target("http://h:/", 0, &t), HTTP_OK);
	assert_int_equal(t.port, 80);

	assert_int_equal(target("https://h/", 0, &t), HTTP_ERR_TARGET);
	assert_int_equal(target("h/x", 0, &t), HTTP_ERR_TARGET);
	assert_int_equal(target("http:/h/", 0, &t), HTTP_ERR_TARGET);
	assert_int_equal(target("http:///", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://h:0/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://h:65536/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://h:8a/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://h%41/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://::1/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://[::1/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://[::1]x/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("http://[zz]/", 0, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("bad/host:1", 1, &t), HTTP_ERR_AUTHORITY);
	assert_int_equal(target("h:1:2", 1, &t), HTTP_ERR_AUTHORITY);
	memset(longhost, 'a', sizeof(longhost));
	memcpy(longhost, "http://", 7);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(target(longhost, 0, &t), HTTP_ERR_HOST_LONG);
}

static void test_method_ops(void **state)
{
	struct http_str m;

	(void)state;
#define OP(s, ftp) (m.p = s, m.n = strlen(s), http_method_op(m, ftp))
	assert_int_equal(OP("GET", 0), OP_HTTP_GET);
	assert_int_equal(OP("get", 0), OP_HTTP_GET);
	assert_int_equal(OP("GET", 1), OP_FTP_GET);
	assert_int_equal(OP("PUT", 0), OP_HTTP_PUT);
	assert_int_equal(OP("PUT", 1), OP_FTP_PUT);
	assert_int_equal(OP("POST", 0), OP_HTTP_POST);
	assert_int_equal(OP("BITS_POST", 0), OP_HTTP_POST);
	assert_int_equal(OP("HEAD", 0), OP_HTTP_HEAD);
	assert_int_equal(OP("CONNECT", 0), OP_HTTP_CONNECT);
	assert_int_equal(OP("DELETE", 0), OP_HTTP_OTHER);
	assert_int_equal(OP("GE", 0), OP_HTTP_OTHER);
#undef OP
}

/* ---- chunked coding ----------------------------------------------------- */

/* Decode a whole chunked body, feeding at most `piece` new bytes at a
 * time (the stepper must cope with every split).  Returns the result
 * and the decoded data / trailers in out. */
static int dechunk(const char *in, size_t n, size_t piece, char *out,
		   size_t *outlen, int *trailers)
{
	struct http_chunked c;
	size_t have = piece < n ? piece : n, off = 0;

	http_chunked_init(&c);
	*outlen = 0;
	*trailers = 0;
	for (;;) {
		struct http_chunk_step st;
		char *p = dup_exact(in + off, have - off);
		int rc = http_chunked_step(&c, p, have - off, &st);

		if (rc == HTTP_NEED_MORE) {
			free(p);
			if (have == n)
				return HTTP_NEED_MORE;
			have = have + piece < n ? have + piece : n;
			continue;
		}
		if (rc != HTTP_OK) {
			free(p);
			return rc;
		}
		if (st.kind == HTTP_CHUNK_DATA) {
			memcpy(out + *outlen, st.data, st.len);
			*outlen += st.len;
		}
		if (st.kind == HTTP_CHUNK_TRAILER)
			(*trailers)++;
		free(p);
		off += st.used;
		if (st.kind == HTTP_CHUNK_END)
			return off == n ? HTTP_OK : -100;
	}
}

static void test_chunked_pieces(void **state)
{
	static const char body[] =
		"5;name=val\r\nhello\r\n6\r\n world\r\n"
		"000\r\nX-T: 1\r\nY: 2\r\n\r\n";
	char out[64];
	size_t piece, outlen;
	int tr;

	(void)state;
	for (piece = 1; piece <= sizeof(body); piece++) {
		assert_int_equal(dechunk(body, sizeof(body) - 1, piece, out,
					 &outlen, &tr), HTTP_OK);
		assert_int_equal(outlen, 11);
		assert_memory_equal(out, "hello world", 11);
		assert_int_equal(tr, 2);
	}
	/* LF-only line ends */
	assert_int_equal(dechunk("3\nabc\n0\n\n", 9, 100, out, &outlen, &tr),
			 HTTP_OK);
	assert_int_equal(outlen, 3);
	/* truncated bodies need more, at every length */
	for (piece = 0; piece < sizeof(body) - 1; piece++)
		assert_int_equal(dechunk(body, piece, 1000, out, &outlen, &tr),
				 HTTP_NEED_MORE);
}

static void test_chunked_hostile(void **state)
{
	static const char *const bad[] = {
		"zz\r\nhi\r\n0\r\n\r\n",           /* not hex */
		"-5\r\nhello\r\n0\r\n\r\n",        /* sign */
		"+5\r\nhello\r\n0\r\n\r\n",
		"0x5\r\nhello\r\n0\r\n\r\n",       /* prefix */
		" 5\r\nhello\r\n0\r\n\r\n",        /* leading space */
		"5 x\r\nhello\r\n0\r\n\r\n",       /* junk after size */
		"\r\nhello\r\n0\r\n\r\n",          /* empty size */
		"5\r\nhelloXX0\r\n\r\n",           /* no CRLF after data */
		"5\r\nhello\rX0\r\n\r\n",          /* bare CR after data */
		"5;\x01\r\nhello\r\n0\r\n\r\n",    /* control in extension */
		"5\r\r\nhello\r\n0\r\n\r\n",       /* bare CR in size line */
		"0\r\nBad Trailer\r\n\r\n",        /* malformed trailer */
		"0\r\n folded\r\n\r\n",            /* folded trailer */
		"0\r\nA: b\rc\r\n\r\n",            /* bare CR in trailer */
	};
	char out[64];
	size_t i, outlen;
	int tr;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dechunk(bad[i], strlen(bad[i]), 1000, out, &outlen,
				 &tr);

		if (rc != HTTP_ERR_CHUNK)
			fail_msg("case %zu gave %d", i, rc);
	}
	/* sizes that do not fit in 64 bits */
	assert_int_equal(dechunk("10000000000000000\r\n", 19, 100, out,
				 &outlen, &tr), HTTP_ERR_CHUNK_BIG);
	assert_int_equal(dechunk("FFFFFFFFFFFFFFFFF1\r\n", 20, 100, out,
				 &outlen, &tr), HTTP_ERR_CHUNK_BIG);
	/* leading zeros are not an overflow */
	assert_int_equal(dechunk("00000000000000000000003\r\nabc\r\n0\r\n\r\n",
				 35, 100, out, &outlen, &tr), HTTP_OK);
}

static void test_chunk_line_bound(void **state)
{
	struct http_chunked c;
	struct http_chunk_step st;
	char *p = malloc(HTTP_MAX_CHUNKLINE);

	(void)state;
	memset(p, 'a', HTTP_MAX_CHUNKLINE);
	p[0] = '5';
	p[1] = ';';
	http_chunked_init(&c);
	assert_int_equal(http_chunked_step(&c, p, HTTP_MAX_CHUNKLINE - 1, &st),
			 HTTP_NEED_MORE);
	assert_int_equal(http_chunked_step(&c, p, HTTP_MAX_CHUNKLINE, &st),
			 HTTP_ERR_LINE_LONG);
	free(p);
	/* a finished coding accepts nothing more */
	http_chunked_init(&c);
	assert_int_equal(http_chunked_step(&c, "0\r\n", 3, &st), HTTP_OK);
	assert_int_equal(http_chunked_step(&c, "\r\n", 2, &st), HTTP_OK);
	assert_int_equal(st.kind, HTTP_CHUNK_END);
	assert_int_equal(http_chunked_step(&c, "0\r\n", 3, &st), HTTP_ERR_CHUNK);
}

/* ---- codecs ----------------------------------------------------------------- */

static void test_base64(void **state)
{
	static const char *const plain[] = { "", "a", "ab", "abc", "abcd",
					     "user:pass", "\xff\xfe\x00" };
	char enc[64], dec[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		size_t len = strlen(plain[i]), el;

		el = http_b64_encode(plain[i], len, enc);
		assert_int_equal(el, 4 * ((len + 2) / 3));
		assert_int_equal(http_b64_decode(enc, el, dec, sizeof(dec), &n),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, plain[i], len);
	}
	assert_string_equal((http_b64_encode("user:pass", 9, enc), enc),
			    "dXNlcjpwYXNz");
	assert_int_equal(http_b64_decode("abc", 3, dec, sizeof(dec), &n), -1);
	assert_int_equal(http_b64_decode("a===", 4, dec, sizeof(dec), &n), -1);
	assert_int_equal(http_b64_decode("ab!d", 4, dec, sizeof(dec), &n), -1);
	assert_int_equal(http_b64_decode("YWJj", 4, dec, 2, &n), -1);
}

static void test_basic(void **state)
{
	struct http_str v;
	const char *u, *p;
	char out[64];

	(void)state;
#define BASIC(s) (v.p = s, v.n = strlen(s), \
		  http_basic_decode(v, out, sizeof(out), &u, &p))
	assert_int_equal(BASIC("Basic dXNlcjpwYXNz"), 0);
	assert_string_equal(u, "user");
	assert_string_equal(p, "pass");
	assert_int_equal(BASIC("basic   dXNlcjpwOmFzcw=="), 0);
	assert_string_equal(p, "p:ass");
	assert_int_equal(BASIC("Basic dXNlcg=="), 0);
	assert_string_equal(u, "user");
	assert_string_equal(p, "");
	assert_int_equal(BASIC("NTLM abc"), 1);
	assert_int_equal(BASIC("Basicx"), 1);
	assert_int_equal(BASIC("Basic !!!!"), -1);
	assert_int_equal(BASIC("Basic AGE6Yg=="), -1);   /* NUL inside */
#undef BASIC
}

static void test_url_decode(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(http_url_decode("a%41+b", 6, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "aA b");
	assert_int_equal(http_url_decode("a%41+b", 6, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "aA+b");
	assert_int_equal(http_url_decode("%0d%0A", 6, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "\r\n");
	assert_int_equal(http_url_decode("%", 1, 0, out, sizeof(out)), -1);
	assert_int_equal(http_url_decode("%4", 2, 0, out, sizeof(out)), -1);
	assert_int_equal(http_url_decode("%zz", 3, 0, out, sizeof(out)), -1);
	assert_int_equal(http_url_decode("%00", 3, 0, out, sizeof(out)), -1);
	assert_int_equal(http_url_decode("abc", 3, 0, out, 3), -1);
}

/* Found by fuzz_service: a bad escape after decoded bytes left them
 * unterminated, and proxy's wipe of URL credentials ("http://user:p%zz@")
 * then read past the buffer.  A failed decode leaves an empty string and
 * no decoded byte behind. */
static void test_url_decode_failure_leaves_empty(void **state)
{
	static const char *const bad[] = { "user:pa%zz", "ab%4", "ab%",
					   "secret%00", "x+y%0" };
	char out[16];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'X', sizeof(out));
		assert_int_equal(http_url_decode(bad[i], strlen(bad[i]), 1, out,
						 strlen(bad[i]) + 1), -1);
		for (j = 0; j < strlen(bad[i]); j++)
			if (out[j] != '\0' && out[j] != 'X')
				fail_msg("'%s': decoded byte %zu left: %c",
					 bad[i], j, out[j]);
		assert_int_equal(out[0], '\0');
	}
	memset(out, 'X', sizeof(out));
	assert_int_equal(http_url_decode("abc", 3, 0, out, 3), -1);
	assert_int_equal(out[0], '\0');
}

/* ---- random hostile input ------------------------------------------------ */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, so a failure is reproducible */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Bytes biased towards HTTP syntax, so parsers get deep often. */
static size_t rnd_message(char *buf, size_t max)
{
	static const char *const parts[] = {
		"GET ", "POST ", "CONNECT ", "http://", "ftp://", "HTTP/1.1",
		"HTTP/1.0", "\r\n", "\n", "\r", ": ", ":", " ", "\t", "/",
		"Host", "Content-Length", "Transfer-Encoding", "chunked", ",",
		"0", "5", "ff", ";", "@", "[", "]", "\0", "\x80", "=", "%",
		"100", "200 OK", "a", "zz", "\r\n\r\n", "-", "+", "1234567",
		"FFFFFFFFFFFFFFFFFF",
	};
	size_t n = 0, k = rnd() % 40;

	while (k-- > 0) {
		const char *p = parts[rnd() % (sizeof(parts) / sizeof(parts[0]))];
		size_t l = strlen(p);

		if (p[0] == '\0')
			l = 1;
		if (rnd() % 8 == 0) {
			if (n < max)
				buf[n++] = (char)rnd();
			continue;
		}
		if (n + l > max)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	return n;
}

static void fuzz_one(const char *p, size_t n)
{
	struct http_framing f;
	struct http_target t;
	struct http_chunked c;
	struct http_chunk_step st;
	struct http_str v = { p, n };
	size_t pos = 0, hl, off = 0;
	char out[600];
	const char *u, *pw;
	int rc;

	if (http_head_scan(p, n, &pos, &hl) == HTTP_OK) {
		if (http_parse_request_head(p, hl, &head) == HTTP_OK)
			http_request_framing(&head, &f);
		if (http_parse_response_head(p, hl, &head) == HTTP_OK)
			http_response_framing(&head, (int)(n & 1), &f);
	}
	http_parse_target(p, n, (int)(n & 1), &t);
	http_chunked_init(&c);
	do {
		rc = http_chunked_step(&c, p + off, n - off, &st);
		if (rc == HTTP_OK)
			off += st.used;
	} while (rc == HTTP_OK && st.kind != HTTP_CHUNK_END && off <= n);
	assert_true(off <= n);
	if (n < 400) {
		size_t dn;

		http_b64_decode(p, n, out, sizeof(out), &dn);
		http_basic_decode(v, out, sizeof(out), &u, &pw);
		http_url_decode(p, n, 1, out, sizeof(out));
	}
}

static void test_random_input(void **state)
{
	char msg[2048];
	int i;

	(void)state;
	for (i = 0; i < 30000; i++) {
		size_t n = rnd_message(msg, sizeof(msg));
		char *p = dup_exact(msg, n);

		fuzz_one(p, n);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_smuggling_vectors),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_method_ops),
		cmocka_unit_test(test_chunked_pieces),
		cmocka_unit_test(test_chunked_hostile),
		cmocka_unit_test(test_chunk_line_bound),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_url_decode_failure_leaves_empty),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
