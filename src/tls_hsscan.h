/*
 * tls_hsscan.h - a pure scanner for the handshake messages inside
 * plaintext TLS handshake records, and the -c3/-c4 certificate rules
 * built on it (services.md 9.1 step 8, 9.2; F-TLSPR-02).
 *
 * tlspr does not terminate TLS: it only looks at the message types the
 * server and client exchange in TLS 1.2 and older, where the Certificate
 * and CertificateRequest messages travel unencrypted.  (In TLS 1.3 they
 * are encrypted: -c3/-c4 end such a session with 370.)  Messages may
 * span records and records may hold several messages, so the scanner
 * keeps a few bytes of state between calls.  No I/O, no locks.
 */
#ifndef PX_TLS_HSSCAN_H
#define PX_TLS_HSSCAN_H

#include <stddef.h>
#include <stdint.h>

#define TLS_CT_CHANGE_CIPHER 20    /* RFC 5246 6.2.1 ContentType */

/* RFC 5246 7.4 HandshakeType values the checks use */
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_HS_CERT_REQUEST 13
#define TLS_HS_SERVER_DONE 14

struct tls_hs_scan {
	uint8_t hdr[4];     /* type + uint24 length, as read so far */
	size_t hdr_n;
	uint8_t head[3];    /* first body bytes (a Certificate's list length) */
	size_t head_n, head_want;
	size_t skip;        /* body bytes still to pass over */
	int emitted;        /* the current message was reported */
};

struct tls_hs_msg {
	int type;
	size_t len;         /* body length */
	size_t list_len;    /* first 3 body bytes as uint24 (0 if len < 3) */
};

/* Feed *n record payload bytes at *p.  Returns 1 when a message header
 * (and its first min(3, len) body bytes) is complete: *out filled and
 * *p, *n advanced past what was used; 0 when all input was used. */
int tls_hs_next(struct tls_hs_scan *s, const uint8_t **p, size_t *n,
		struct tls_hs_msg *out);

/* -c3/-c4 on the server's flight. */
struct tls_cert_rule {
	int level;          /* 3 or 4 */
	int seen_cert;      /* a non-empty Certificate came */
	int seen_request;   /* a CertificateRequest came */
};

/* One server handshake message.  Returns 0 (go on), 1 (ServerHelloDone:
 * the server's flight passed) or ERR_TLS_NO_SRV_CERT (373) /
 * ERR_TLS_NO_CERT_REQUEST (374). */
int tls_cert_rule_server(struct tls_cert_rule *r, const struct tls_hs_msg *m);

/* The client's first handshake message after the server's flight (-c4):
 * 0 when it is a Certificate with at least one certificate, else
 * ERR_TLS_NO_CLI_CERT (375). */
int tls_cert_rule_client(const struct tls_hs_msg *m);

#endif
