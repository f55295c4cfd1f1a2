/*
 * dns_msg.c - DNS message encoding and decoding (see dns_msg.h).
 *
 * Hostile input is the normal case here: replies come from the network
 * and queries from any client of dnspr.  Every field is read only after
 * checking that it lies inside the message.
 */
#include "dns_msg.h"

#include <stdio.h>
#include <string.h>

#define PTR_MASK 0xc0u
#define MAX_POINTER_HOPS 128

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int label_byte_ok(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e && c != '.';
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int dns_read_header(const uint8_t *msg, size_t len, struct dns_header *h)
{
	if (msg == NULL || len < DNS_HDR_LEN)
		return -1;
	h->id = get16(msg);
	h->flags = get16(msg + 2);
	h->qdcount = get16(msg + 4);
	h->ancount = get16(msg + 6);
	h->nscount = get16(msg + 8);
	h->arcount = get16(msg + 10);
	return 0;
}

int dns_encode_name(const char *name, uint8_t *out, size_t cap)
{
	size_t n, i = 0, w = 0;

	if (name == NULL || out == NULL)
		return -1;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;                        /* one trailing dot: absolute */
	while (i < n) {
		size_t start = i, lablen;

		while (i < n && name[i] != '.') {
			if (!label_byte_ok((uint8_t)name[i]))
				return -1;
			i++;
		}
		lablen = i - start;
		if (lablen == 0 || lablen > DNS_MAX_LABEL)
			return -1;
		/* length byte + label + the final zero must still fit */
		if (w + 1 + lablen + 1 > DNS_MAX_WIRE_NAME ||
		    w + 1 + lablen + 1 > cap)
			return -1;
		out[w++] = (uint8_t)lablen;
		memcpy(out + w, name + start, lablen);
		w += lablen;
		if (i < n && ++i == n)  /* past the dot; "a..": empty label */
			return -1;
	}
	if (w + 1 > cap)
		return -1;
	out[w++] = 0;
	return (int)w;
}

int dns_read_name_wire(const uint8_t *msg, size_t len, size_t *off,
		       uint8_t *wire, size_t *wirelen)
{
	size_t pos = *off, w = 0, after = 0;
	size_t limit = pos;     /* a pointer must point below this */
	int jumped = 0, hops = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -1;
		c = msg[pos];
		if ((c & PTR_MASK) == PTR_MASK) {
			size_t target;

			if (pos + 1 >= len || ++hops > MAX_POINTER_HOPS)
				return -1;
			target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			/* Strictly backwards, before every place already
			 * visited: no loops, however the pointers chain. */
			if (target >= limit)
				return -1;
			if (!jumped)
				after = pos + 2;
			jumped = 1;
			limit = target;
			pos = target;
			continue;
		}
		if ((c & PTR_MASK) != 0)
			return -1;          /* 0x40 / 0x80: reserved types */
		if (c == 0) {
			if (w + 1 > DNS_MAX_WIRE_NAME)
				return -1;
			if (wire != NULL)
				wire[w] = 0;
			w++;
			if (!jumped)
				after = pos + 1;
			break;
		}
		if (pos + 1 + c > len || w + 1 + c + 1 > DNS_MAX_WIRE_NAME)
			return -1;
		if (wire != NULL)
			memcpy(wire + w, msg + pos, (size_t)c + 1);
		w += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
	*off = after;
	if (wirelen != NULL)
		*wirelen = w;
	return 0;
}

/* Wire form (already bounded) to text; -1 on a byte we do not carry. */
static int wire_to_text(const uint8_t *wire, size_t wlen, char *out,
			size_t cap)
{
	size_t i = 0, o = 0;

	while (i < wlen && wire[i] != 0) {
		size_t l = wire[i++], k;

		if (o != 0) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = '.';
		}
		if (o + l >= cap || i + l > wlen)
			return -1;
		for (k = 0; k < l; k++) {
			if (!label_byte_ok(wire[i + k]))
				return -1;
			out[o++] = (char)wire[i + k];
		}
		i += l;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out,
		  size_t cap)
{
	uint8_t wire[DNS_MAX_WIRE_NAME];
	size_t wlen, o = *off;

	if (dns_read_name_wire(msg, len, &o, wire, &wlen) != 0)
		return -1;
	if (wire_to_text(wire, wlen, out, cap) < 0)
		return -1;
	*off = o;
	return (int)strlen(out);
}

int dns_build_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
		    uint16_t qtype)
{
	int n;

	if (out == NULL || cap < DNS_HDR_LEN + 1 + 4)
		return -1;
	memset(out, 0, DNS_HDR_LEN);
	put16(out, id);
	put16(out + 2, DNS_F_RD);
	put16(out + 4, 1);
	n = dns_encode_name(name, out + DNS_HDR_LEN, cap - DNS_HDR_LEN - 4);
	if (n <= 1)                 /* error, or the root: nothing to ask */
		return -1;
	put16(out + DNS_HDR_LEN + n, qtype);
	put16(out + DNS_HDR_LEN + n + 2, DNS_CLASS_IN);
	return DNS_HDR_LEN + n + 4;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_header *h,
		    struct dns_question *q)
{
	size_t pos = DNS_HDR_LEN;
	uint8_t wire[DNS_MAX_WIRE_NAME];
	size_t wlen;

	if (dns_read_header(msg, len, h) != 0)
		return DNSQ_SHORT;
	if (h->qdcount != 1)
		return DNSQ_NOT_ONE;
	/* A pointer in the first name could only point into the header. */
	if (dns_read_name_wire(msg, len, &pos, wire, &wlen) != 0 ||
	    pos - DNS_HDR_LEN != wlen)
		return DNSQ_BAD_NAME;
	if (wire_to_text(wire, wlen, q->name, sizeof(q->name)) < 0)
		return DNSQ_BAD_NAME;
	if (pos + 4 > len)
		return DNSQ_BAD_NAME;
	q->qtype = get16(msg + pos);
	q->qclass = get16(msg + pos + 2);
	q->end = pos + 4;
	return DNSQ_OK;
}

uint32_t dns_clamp_ttl(uint32_t ttl)
{
	if (ttl < 1)
		return 1;
	if (ttl > 43200)
		return 43200;
	return ttl;
}

static int wire_equal_nocase(const uint8_t *a, size_t alen, const uint8_t *b,
			     size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

int dns_parse_reply(const uint8_t *msg, size_t len, uint16_t id,
		    const char *qname, uint16_t qtype, struct dns_answer *ans)
{
	struct dns_header h;
	uint8_t want[DNS_MAX_WIRE_NAME], got[DNS_MAX_WIRE_NAME];
	int wantlen;
	size_t gotlen, pos = DNS_HDR_LEN;
	unsigned i;

	if (dns_read_header(msg, len, &h) != 0 || h.id != id ||
	    !(h.flags & DNS_F_QR) || h.qdcount != 1)
		return DNSR_MISMATCH;
	wantlen = dns_encode_name(qname, want, sizeof(want));
	if (wantlen < 0 ||
	    dns_read_name_wire(msg, len, &pos, got, &gotlen) != 0 ||
	    !wire_equal_nocase(want, (size_t)wantlen, got, gotlen) ||
	    pos + 4 > len || get16(msg + pos) != qtype ||
	    get16(msg + pos + 2) != DNS_CLASS_IN)
		return DNSR_MISMATCH;
	pos += 4;
	if (h.ancount == 0) {
		unsigned rc = DNS_RCODE(h.flags);

		if ((rc == 0 || rc == DNS_RCODE_NXDOMAIN) &&
		    !(h.flags & DNS_F_TC))
			return DNSR_EMPTY;
		return DNSR_UNUSABLE;
	}
	for (i = 0; i < h.ancount; i++) {
		uint16_t type, rdlen;
		uint32_t ttl;

		if (dns_read_name_wire(msg, len, &pos, NULL, NULL) != 0 ||
		    pos + 10 > len)
			return DNSR_UNUSABLE;   /* truncated: keep nothing */
		type = get16(msg + pos);
		ttl = get32(msg + pos + 4);
		rdlen = get16(msg + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return DNSR_UNUSABLE;
		if (type == qtype) {
			if ((qtype == DNS_T_A && rdlen == 4) ||
			    (qtype == DNS_T_AAAA && rdlen == 16)) {
				memcpy(ans->addr, msg + pos, rdlen);
				ans->addrlen = rdlen;
				ans->name[0] = '\0';
				ans->ttl = dns_clamp_ttl(ttl);
				return DNSR_FOUND;
			}
			if (qtype == DNS_T_PTR) {
				size_t p = pos;

				/* The name must lie within its rdata. */
				if (dns_read_name(msg, pos + rdlen, &p,
						  ans->name,
						  sizeof(ans->name)) > 0) {
					ans->addrlen = 0;
					ans->ttl = dns_clamp_ttl(ttl);
					return DNSR_FOUND;
				}
			}
		}
		pos += rdlen;
	}
	return DNSR_UNUSABLE;
}

int dns_build_answer(uint8_t *out, size_t cap, const uint8_t *query,
		     const struct dns_question *q, uint32_t ttl,
		     const uint8_t *rdata, size_t rdlen)
{
	size_t n = q->end + 12 + rdlen;

	if (q->end < DNS_HDR_LEN + 5 || rdlen > 65535 || n > cap)
		return -1;
	memcpy(out, query, q->end);
	out[2] = 0x85;              /* QR, AA, RD */
	out[3] = 0x80;              /* RA, NOERROR */
	put16(out + 4, 1);
	put16(out + 6, 1);
	put16(out + 8, 0);
	put16(out + 10, 0);
	out[q->end] = 0xc0;         /* the name: a pointer to the question */
	out[q->end + 1] = 0x0c;
	put16(out + q->end + 2, q->qtype);
	put16(out + q->end + 4, DNS_CLASS_IN);
	put32(out + q->end + 6, ttl);
	put16(out + q->end + 10, (uint16_t)rdlen);
	if (rdlen > 0)
		memcpy(out + q->end + 12, rdata, rdlen);
	return (int)n;
}

int dns_build_nxdomain(uint8_t *out, size_t cap, const uint8_t *query,
		       size_t len)
{
	if (len < DNS_HDR_LEN || len > cap)
		return -1;
	memmove(out, query, len);
	out[2] = 0x85;              /* QR, AA, RD */
	out[3] = 0x83;              /* RA, NXDOMAIN */
	return (int)len;
}

int dns_reverse_v4(const uint8_t a[4], char *out, size_t cap)
{
	int n = snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
			 a[1], a[0]);

	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

int dns_reverse_v6(const uint8_t a[16], char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const char *suffix = "ip6.arpa";
	size_t o = 0;
	int i;

	if (cap < 64 + strlen(suffix) + 1)
		return -1;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0x0f];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, suffix, strlen(suffix) + 1);
	return (int)(o + strlen(suffix));
}
