/*
 * tls_hello.c - pure parsers for the ClientHello and the ServerHello
 * (RFC 8446 4.1.2, 4.1.3; RFC 6066 3 server_name; RFC 7301 3.1 ALPN;
 * RFC 5246 6.2.1 record fragmentation).
 *
 * A ClientHello may be split over several handshake records, so the body
 * is read through a cursor that steps over record headers: the parser
 * never copies the message, and the SNI split offset it reports is an
 * offset in the raw bytes the proxy forwards.  Every read is checked
 * against the enclosing length (message, extension block, extension,
 * list), through sub-cursors limited to that length.
 */
#include "tls_hello.h"
#include "errcode.h"

#include <stdio.h>
#include <string.h>

#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

/* Reads bytes of one handshake message out of raw records. */
struct cur {
	const uint8_t *p;
	size_t pos;        /* raw offset of the next byte */
	size_t rec_left;   /* payload bytes left in the current record */
	size_t left;       /* bytes this (sub-)cursor may still read */
};

/* The records were checked by hs_walk(), so a record header met here
 * is valid and the bytes are present. */
static int
cur_byte(struct cur *c, uint8_t *b)
{
	if (c->left == 0)
		return -1;
	if (c->rec_left == 0) {
		c->rec_left = (size_t)c->p[c->pos + 3] << 8 | c->p[c->pos + 4];
		c->pos += TLS_RECORD_HEADER;
	}
	*b = c->p[c->pos++];
	c->rec_left--;
	c->left--;
	return 0;
}

static int
cur_num(struct cur *c, int bytes, size_t *v)
{
	uint8_t b;

	*v = 0;
	while (bytes-- > 0) {
		if (cur_byte(c, &b) != 0)
			return -1;
		*v = *v << 8 | b;
	}
	return 0;
}

static int
cur_skip(struct cur *c, size_t n)
{
	uint8_t b;

	if (n > c->left)
		return -1;
	while (n-- > 0)
		(void)cur_byte(c, &b);
	return 0;
}

/* A sub-cursor over the next n bytes of c; c moves past them. */
static int
cur_sub(struct cur *c, size_t n, struct cur *sub)
{
	if (n > c->left)
		return -1;
	*sub = *c;
	sub->left = n;
	return cur_skip(c, n);
}

/* A length-prefixed vector: its length (width bytes) must fit in c. */
static int
cur_vector(struct cur *c, int width, struct cur *sub)
{
	size_t n;

	if (cur_num(c, width, &n) != 0)
		return -1;
	return cur_sub(c, n, sub);
}

int
tls_record_header(const uint8_t *h, size_t *len)
{
	*len = (size_t)h[3] << 8 | h[4];
	if (h[1] != 3)
		return 1;
	if (*len == 0 || *len > TLS_RECORD_MAX_WIRE)
		return 2;
	return 0;
}

/* The first bytes decide whether this is TLS at all (services.md 9.1
 * step 2), as soon as they arrive. */
static int
first_bytes(const uint8_t *p, size_t n)
{
	size_t len;

	if (n >= 1 && p[0] != TLS_CT_HANDSHAKE)
		return ERR_TLS_NOT_HANDSHAKE;
	if (n >= 2 && p[1] != 3)
		return ERR_TLS_BAD_VERSION;
	if (n >= TLS_RECORD_HEADER) {
		len = (size_t)p[3] << 8 | p[4];
		if (len == 0 || len > TLS_RECORD_MAX)
			return ERR_TLS_BAD_LENGTH;
	}
	if (n >= TLS_RECORD_HEADER + 1 && p[5] != HS_CLIENT_HELLO)
		return ERR_TLS_NOT_HELLO;
	return 0;
}

/* Walk the records present until the handshake message is complete.
 * Returns 0 with *end the raw length up to the end of the record that
 * completes it, TLS_MORE, or an error code. */
static int
hs_walk(const uint8_t *p, size_t n, size_t *end)
{
	uint8_t hdr[4];
	size_t pos = 0, got = 0, need = 0, len, take, i;

	while (n - pos >= TLS_RECORD_HEADER) {
		len = (size_t)p[pos + 3] << 8 | p[pos + 4];
		if (pos > 0 && (p[pos] != TLS_CT_HANDSHAKE || p[pos + 1] != 3 ||
				len == 0 || len > TLS_RECORD_MAX))
			return ERR_TLS_FRAGMENT;
		if (n - pos - TLS_RECORD_HEADER < len)
			break;
		take = len;
		for (i = 0; got + i < 4 && i < take; i++)
			hdr[got + i] = p[pos + TLS_RECORD_HEADER + i];
		got += take;
		pos += TLS_RECORD_HEADER + len;
		if (need == 0 && got >= 4) {
			need = 4 + ((size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 |
				    hdr[3]);
			if (need > TLS_HELLO_MAX)
				return ERR_TLS_HELLO_TOO_BIG;
		}
		if (need != 0 && got >= need) {
			*end = pos;
			return 0;
		}
	}
	return n >= TLS_HELLO_MAX ? ERR_TLS_HELLO_TOO_BIG : TLS_MORE;
}

/* RFC 6066 3: ServerNameList; the first host_name entry is kept. */
static int
ext_server_name(struct cur *e, struct tls_hello *out)
{
	struct cur list, name;
	size_t type, i;
	uint8_t b;

	if (cur_vector(e, 2, &list) != 0 || e->left != 0 || list.left == 0)
		return ERR_TLS_SNI_LIST;
	while (list.left > 0) {
		if (cur_num(&list, 1, &type) != 0 ||
		    cur_vector(&list, 2, &name) != 0)
			return ERR_TLS_SNI_ENTRY;
		if (type != 0 || out->host_len != 0)
			continue;
		if (name.left == 0 || name.left > TLS_HOST_MAX)
			return ERR_TLS_SNI_NAME;
		out->host_len = name.left;
		for (i = 0; name.left > 0; i++) {
			if (i == out->host_len / 2)
				out->split = name.pos;
			(void)cur_byte(&name, &b);
			/* the name goes into ACLs and log lines */
			if (b <= 0x20 || b >= 0x7f)
				return ERR_TLS_SNI_NAME;
			out->host[i] = (char)b;
		}
		out->host[i] = '\0';
	}
	return 0;
}

/* GREASE values (RFC 8701) are 0x?A?A; they mean nothing. */
static int
is_grease(size_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* RFC 8446 4.2.1: the first real version offered. */
static int
ext_versions(struct cur *e, struct tls_hello *out)
{
	struct cur list;
	size_t v;

	if (cur_vector(e, 1, &list) != 0 || e->left != 0 || list.left < 2 ||
	    list.left % 2 != 0)
		return ERR_TLS_VERSIONS;
	while (list.left > 0) {
		(void)cur_num(&list, 2, &v);
		if (!is_grease(v) && (v >> 8) == 3) {
			out->version = (int)(v & 0xff);
			break;
		}
	}
	return 0;
}

/* RFC 7301 3.1: ProtocolNameList; the first name is kept. */
static int
ext_alpn(struct cur *e, struct tls_hello *out)
{
	struct cur list, name;
	char tmp[TLS_ALPN_MAX + 1];
	size_t i;
	uint8_t b;

	if (cur_vector(e, 2, &list) != 0 || e->left != 0 || list.left == 0)
		return ERR_TLS_ALPN;
	if (cur_vector(&list, 1, &name) != 0 || name.left == 0)
		return ERR_TLS_ALPN;
	if (name.left > TLS_ALPN_MAX)
		return 0;
	for (i = 0; name.left > 0; i++) {
		(void)cur_byte(&name, &b);
		if (b <= 0x20 || b >= 0x7f)
			return 0;   /* not text: do not log it */
		tmp[i] = (char)b;
	}
	tmp[i] = '\0';
	memcpy(out->alpn, tmp, i + 1);
	return 0;
}

static int
hello_extensions(struct cur *c, struct tls_hello *out)
{
	struct cur blk, e;
	size_t type;
	int rc = 0;

	if (c->left == 0)
		return 0;   /* RFC 5246 7.4.1.2: extensions are optional */
	if (cur_vector(c, 2, &blk) != 0)
		return ERR_TLS_EXTENSIONS;
	if (c->left != 0)
		return ERR_TLS_TRAILING;
	while (blk.left > 0 && rc == 0) {
		if (cur_num(&blk, 2, &type) != 0 ||
		    cur_vector(&blk, 2, &e) != 0)
			return ERR_TLS_EXTENSION;
		if (type == EXT_SERVER_NAME)
			rc = ext_server_name(&e, out);
		else if (type == EXT_SUPPORTED_VERSIONS)
			rc = ext_versions(&e, out);
		else if (type == EXT_ALPN)
			rc = ext_alpn(&e, out);
	}
	return rc;
}

/* RFC 8446 4.1.2 ClientHello body. */
static int
hello_body(struct cur *c, struct tls_hello *out)
{
	struct cur v;
	size_t ver;

	if (cur_num(c, 2, &ver) != 0 || cur_skip(c, 32) != 0)
		return ERR_TLS_HELLO_SHORT;
	if ((ver >> 8) != 3)
		return ERR_TLS_HELLO_VERSION;
	out->version = (int)(ver & 0xff);
	if (cur_vector(c, 1, &v) != 0 || v.left > 32)
		return ERR_TLS_SESSION_ID;
	if (cur_vector(c, 2, &v) != 0 || v.left < 2 || v.left % 2 != 0)
		return ERR_TLS_CIPHERS;
	if (cur_vector(c, 1, &v) != 0 || v.left < 1)
		return ERR_TLS_COMPRESSION;
	return hello_extensions(c, out);
}

int
tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *out)
{
	struct cur c;
	size_t end = 0, len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = first_bytes(p, n);
	if (rc == 0)
		rc = hs_walk(p, n, &end);
	if (rc != 0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.left = 4;
	(void)cur_skip(&c, 1);
	(void)cur_num(&c, 3, &len);
	c.left = len;
	out->len = end;
	rc = hello_body(&c, out);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* RFC 8446 4.1.3: in a TLS 1.3 ServerHello, supported_versions holds the
 * version chosen. */
static int
server_extensions(struct cur *c, int *version)
{
	struct cur blk, e;
	size_t type, v;

	if (c->left == 0)
		return 0;
	if (cur_vector(c, 2, &blk) != 0 || c->left != 0)
		return ERR_TLS_SRV_HELLO_SHORT;
	while (blk.left > 0) {
		if (cur_num(&blk, 2, &type) != 0 ||
		    cur_vector(&blk, 2, &e) != 0)
			return ERR_TLS_SRV_HELLO_SHORT;
		if (type != EXT_SUPPORTED_VERSIONS)
			continue;
		if (e.left != 2 || cur_num(&e, 2, &v) != 0 || (v >> 8) != 3)
			return ERR_TLS_SRV_VERSIONS;
		*version = (int)(v & 0xff);
	}
	return 0;
}

int
tls_server_hello_check(const uint8_t *rec, size_t n, int *version)
{
	struct cur c, v, sid;
	size_t len, hlen, ver;

	if (n < TLS_RECORD_HEADER)
		return ERR_TLS_SRV_BAD_LENGTH;
	if (rec[0] == TLS_CT_ALERT)
		return ERR_TLS_SRV_ALERT;
	if (rec[0] != TLS_CT_HANDSHAKE)
		return ERR_TLS_SRV_NOT_HANDSHAKE;
	if (tls_record_header(rec, &len) != 0)
		return rec[1] != 3 ? ERR_TLS_SRV_BAD_VERSION
				   : ERR_TLS_SRV_BAD_LENGTH;
	if (n - TLS_RECORD_HEADER != len)
		return ERR_TLS_SRV_BAD_LENGTH;
	memset(&c, 0, sizeof(c));
	c.p = rec;
	c.left = len;
	/* the whole ServerHello must be in this first record */
	if (rec[TLS_RECORD_HEADER] != HS_SERVER_HELLO)
		return ERR_TLS_SRV_NOT_HELLO;
	(void)cur_skip(&c, 1);
	if (cur_num(&c, 3, &hlen) != 0 || cur_sub(&c, hlen, &v) != 0)
		return ERR_TLS_SRV_HELLO_SHORT;
	if (cur_num(&v, 2, &ver) != 0 || (ver >> 8) != 3 ||
	    cur_skip(&v, 32) != 0)
		return ERR_TLS_SRV_HELLO_SHORT;
	*version = (int)(ver & 0xff);
	if (cur_vector(&v, 1, &sid) != 0 || sid.left > 32 ||
	    cur_skip(&v, 3) != 0)
		return ERR_TLS_SRV_HELLO_SHORT;
	return server_extensions(&v, version);
}

void
tls_hello_text(const struct tls_hello *h, char *buf, size_t cap)
{
	const char *host = h && h->host[0] ? h->host : "-";
	const char *alpn = h && h->alpn[0] ? h->alpn : "-";

	if (cap == 0)
		return;
	if (h == NULL)
		snprintf(buf, cap, "NONEv0.0 - -");
	else if (h->version == 0)
		snprintf(buf, cap, "SSLv3.0 %s %s", host, alpn);
	else
		snprintf(buf, cap, "TLSv1.%d %s %s", h->version - 1, host,
			 alpn);
}
