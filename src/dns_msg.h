/*
 * dns_msg.h - DNS messages (RFC 1035): build queries and local answers,
 * parse queries and replies.
 *
 * Pure functions on byte buffers: no sockets, no allocation, no global
 * state.  Every read is bounded by the message length; compression
 * pointers must point strictly backwards (so they cannot loop) and a
 * decoded name never exceeds 255 wire bytes.  Anything else is refused.
 *
 * Names in text form have no trailing dot ("www.example.com"; the root
 * is "").  Label bytes must be printable ASCII other than '.' (0x21..0x7e):
 * a name with other bytes is refused rather than escaped, so a name never
 * carries spaces or control characters into logs or cache keys.
 */
#ifndef PX_DNS_MSG_H
#define PX_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_MAX_WIRE_NAME 255     /* RFC 1035 limit, length bytes included */
#define DNS_MAX_LABEL 63
#define DNS_NAME_TEXT 256         /* buffer for a name in text form */
#define DNS_MAX_UDP 512           /* what we ask and accept without EDNS */

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_PTR = 12,
	DNS_T_AAAA = 28
};
#define DNS_CLASS_IN 1

/* Flag bits of the header's second 16-bit word. */
#define DNS_F_QR 0x8000u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_RCODE(flags) ((flags) & 0x000fu)
#define DNS_RCODE_NXDOMAIN 3

struct dns_header {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* Read the 12-byte header.  Returns 0, or -1 if len < 12. */
int dns_read_header(const uint8_t *msg, size_t len, struct dns_header *h);

/* Text name -> wire form (labels, terminating zero).  One trailing dot
 * is allowed.  Returns the wire length (1 for the root) or -1 when the
 * name has an empty or over-long label, a byte outside 0x21..0x7e, does
 * not fit 255 wire bytes, or cap is too small. */
int dns_encode_name(const char *name, uint8_t *out, size_t cap);

/* Read the name at *off, following compression pointers.  Stores the
 * decompressed wire form (at most 255 bytes) in wire[] when wire is not
 * NULL and its length in *wirelen (may be NULL); advances *off past the
 * name as written at that place.  Returns 0 or -1 (truncated, forward or
 * looping pointer, reserved label type, too long). */
int dns_read_name_wire(const uint8_t *msg, size_t len, size_t *off,
		       uint8_t *wire, size_t *wirelen);

/* Like dns_read_name_wire, giving the text form in out (cap >=
 * DNS_NAME_TEXT is always enough).  Also refuses names whose label
 * bytes are not printable (see above).  Returns the text length or -1. */
int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out,
		  size_t cap);

/* A query: header with the id, RD set, one question (name, qtype, IN).
 * Returns the length or -1 (bad name, or cap too small). */
int dns_build_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
		    uint16_t qtype);

/* The one question of a client's query (dnspr). */
struct dns_question {
	char name[DNS_NAME_TEXT];    /* text form */
	uint16_t qtype, qclass;
	size_t end;                  /* offset just past the question */
};

enum dns_query_result {
	DNSQ_OK = 0,
	DNSQ_SHORT = -1,      /* shorter than a header */
	DNSQ_NOT_ONE = -2,    /* QDCOUNT is not 1 */
	DNSQ_BAD_NAME = -3    /* the question is malformed or truncated */
};

/* Parse a query: the header and exactly one question.  The question name
 * may not use compression (nothing precedes it to point to).  Returns a
 * dns_query_result. */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_header *h,
		    struct dns_question *q);

/* The record a resolver looked for. */
struct dns_answer {
	uint8_t addr[16];            /* A: 4 bytes, AAAA: 16 */
	size_t addrlen;
	char name[DNS_NAME_TEXT];    /* PTR: the name pointed to */
	uint32_t ttl;                /* clamped with dns_clamp_ttl */
};

enum dns_reply_result {
	DNSR_FOUND = 0,       /* *ans holds the first usable record */
	DNSR_EMPTY = 1,       /* a valid "no such data" answer (ANCOUNT 0) */
	DNSR_UNUSABLE = 2,    /* valid reply, nothing usable: ask elsewhere */
	DNSR_MISMATCH = -1    /* not a well-formed reply to this query */
};

/* Check that msg answers the query (id, QR, one question equal to
 * qname/qtype/IN, case-insensitive) and find the first answer record of
 * qtype with the right data (4 bytes for A, 16 for AAAA, a valid name
 * for PTR), skipping CNAMEs and anything else.
 *
 * A reply with ANCOUNT 0 and RCODE 0 (no data) or 3 (NXDOMAIN) is
 * DNSR_EMPTY: the name does not exist, other servers are not asked.  A
 * failure RCODE (SERVFAIL, REFUSED, ...) or a truncated reply without a
 * usable record is DNSR_UNUSABLE, so the next server gets its chance.
 * Returns a dns_reply_result. */
int dns_parse_reply(const uint8_t *msg, size_t len, uint16_t id,
		    const char *qname, uint16_t qtype, struct dns_answer *ans);

/* TTLs of positive answers are kept within 1 s .. 12 h. */
uint32_t dns_clamp_ttl(uint32_t ttl);

/* A local answer to a parsed query: the query's id, flags 0x8580 (QR AA
 * RD RA), QDCOUNT 1, ANCOUNT 1, the question as received, and one record
 * "C0 0C type IN ttl rdlength rdata".  Returns the length or -1. */
int dns_build_answer(uint8_t *out, size_t cap, const uint8_t *query,
		     const struct dns_question *q, uint32_t ttl,
		     const uint8_t *rdata, size_t rdlen);

/* NXDOMAIN: the query echoed with flags 0x8583.  Returns len or -1. */
int dns_build_nxdomain(uint8_t *out, size_t cap, const uint8_t *query,
		       size_t len);

/* "d.c.b.a.in-addr.arpa" for the IPv4 address a.b.c.d.  Returns the
 * text length or -1 if cap is too small. */
int dns_reverse_v4(const uint8_t a[4], char *out, size_t cap);
/* The nibble form under ip6.arpa for an IPv6 address. */
int dns_reverse_v6(const uint8_t a[16], char *out, size_t cap);

#endif
