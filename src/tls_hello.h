/*
 * tls_hello.h - pure parsers for the TLS messages tlspr looks at: the
 * client's ClientHello (SNI, ALPN, versions) and the server's first
 * record (ServerHello), reference services.md 9.
 *
 * The parsers take the raw bytes read so far (records with their 5-byte
 * headers) and never read past the length they are given.  They hold no
 * state and take no lock: any thread may call them.
 */
#ifndef PX_TLS_HELLO_H
#define PX_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define TLS_RECORD_HEADER 5
#define TLS_RECORD_MAX 16384       /* RFC 8446 5.1: plaintext fragment */
#define TLS_RECORD_MAX_WIRE (TLS_RECORD_MAX + 2048) /* RFC 5246 6.2.3 */
#define TLS_HELLO_MAX 16384        /* ceiling for a whole ClientHello,
				      record headers included */
#define TLS_HOST_MAX 255           /* longest SNI host name kept */
#define TLS_ALPN_MAX 31            /* longest ALPN protocol kept */
#define TLS_MORE (-1)              /* a complete message needs more bytes */

#define TLS_CT_HANDSHAKE 22        /* RFC 8446 5.1 ContentType */
#define TLS_CT_ALERT 21

/* What the ClientHello said. */
struct tls_hello {
	int version;                 /* minor of legacy_version, or of the
					first supported_versions entry
					(3.4 = TLS 1.3 gives 4) */
	char host[TLS_HOST_MAX + 1]; /* SNI host_name, "" if none */
	size_t host_len;
	size_t split;                /* raw offset just past the first
					half of the host name (-s), 0 if
					there is no host name */
	char alpn[TLS_ALPN_MAX + 1]; /* first ALPN protocol, "" if none
					(or longer than TLS_ALPN_MAX) */
	size_t len;                  /* raw bytes up to the end of the
					record that ends the ClientHello */
};

/* Parse the ClientHello at the start of p[0..n): one handshake message,
 * possibly fragmented over several handshake records.
 * Returns 0 (out filled), TLS_MORE (everything so far is valid but the
 * message is not complete; n bytes reaching TLS_HELLO_MAX without an end
 * is ERR_TLS_HELLO_TOO_BIG instead), or an errcode.h code:
 * ERR_TLS_NOT_HANDSHAKE .. ERR_TLS_NOT_HELLO when the data is not TLS
 * (decided from the first bytes, without waiting for more), and
 * ERR_TLS_HELLO_TOO_BIG .. ERR_TLS_HELLO_VERSION for a malformed hello. */
int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *out);

/* Check a record header (5 bytes): handshake type is not required here.
 * Returns 0 with *len the payload length, or 1 (major version not 3),
 * 2 (length 0 or above TLS_RECORD_MAX_WIRE). */
int tls_record_header(const uint8_t *h, size_t *len);

/* Check the server's first record rec[0..n) (header + payload, complete):
 * it must carry a ServerHello.  Returns 0 with *version as in struct
 * tls_hello (4 when supported_versions selects TLS 1.3), or
 * ERR_TLS_SRV_NOT_HANDSHAKE .. ERR_TLS_SRV_VERSIONS. */
int tls_server_hello_check(const uint8_t *rec, size_t n, int *version);

/* %T text: "<PROTO>v<maj>.<min> <host|-> <alpn|->" (logging.md 4);
 * h NULL means not TLS ("NONEv0.0 - -"). */
void tls_hello_text(const struct tls_hello *h, char *buf, size_t cap);

#endif
