/*
 * tls_openssl.h - what the OpenSSL backend files share (built only with
 * HAVE_OPENSSL): the handshake of a prepared SSL object and the error
 * text helper.
 */
#ifndef PX_TLS_OPENSSL_H
#define PX_TLS_OPENSSL_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "os.h"

/* "what: library text" into err, then clear the thread's error queue. */
void tlso_error(char *err, size_t n, const char *what);
/* Handshake ssl (its fd set to s, s non-blocking) within timeout_ms and
 * bind it as the I/O layer of s.  Takes ownership of ssl in every case.
 * Returns 0, or -1 with a reason in err. */
int tlso_wrap_ssl(SSL *ssl, int server, os_sock_t s, int timeout_ms,
		  char *err, size_t errlen);
/* The SSL object of the layer bound to s on this thread, or NULL. */
SSL *tlso_layer_ssl(os_sock_t s);

#endif
