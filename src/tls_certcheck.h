/*
 * tls_certcheck.h - tlspr -c3/-c4 (services.md 9.1 step 8, 9.2;
 * F-TLSPR-02): watch the plaintext handshake of TLS 1.2 and older for
 * the server's Certificate (and, with -c4, its CertificateRequest and
 * the client's non-empty Certificate) while passing the records on.
 */
#ifndef PX_TLS_CERTCHECK_H
#define PX_TLS_CERTCHECK_H

#include <stddef.h>
#include <stdint.h>

struct client;

/* rec[0..rec_len) is the server's first record (not yet passed to the
 * client: it goes on once it passed the checks), version its ServerHello version (4 = TLS 1.3); buf is a
 * scratch buffer of TLS_RECORD_HEADER + TLS_RECORD_MAX_WIRE bytes (may
 * be rec).  Relays handshake records until the checks of level (3 or 4)
 * are decided.  Returns 0 or 344, 341-343, 370, 371, 373-375, 381-383,
 * 391-393. */
int tls_cert_check(struct client *cl, int level, int version,
		   const uint8_t *rec, size_t rec_len, uint8_t *buf);

#endif
