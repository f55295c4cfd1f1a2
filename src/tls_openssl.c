/*
 * tls_openssl.c - the TLS backend on OpenSSL (built only when the
 * library is found; HAVE_OPENSSL).  It builds the per-service contexts
 * and wraps a socket: a handshake within a deadline, then an I/O layer
 * (iolayer.h) whose ops are non-blocking SSL_read / SSL_write.
 *
 * The error queue is per thread: every failure path reads and clears it,
 * so a later connection on the same worker never reports an old error.
 */
#include "tls.h"
#include "tls_openssl.h"
#include "iolayer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

void tlso_error(char *err, size_t n, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char lib[256];

	if (e != 0)
		ERR_error_string_n(e, lib, sizeof(lib));
	else
		snprintf(lib, sizeof(lib), "no library error");
	snprintf(err, n, "%s: %s", what, lib);
	ERR_clear_error();
}

/* ---- contexts ---------------------------------------------------------- */

static int tlso_versions(SSL_CTX *c, int min, int max)
{
	if (min != 0 && SSL_CTX_set_min_proto_version(c, min) != 1)
		return -1;
	if (max != 0 && SSL_CTX_set_max_proto_version(c, max) != 1)
		return -1;
	return 0;
}

static int tlso_ciphers(SSL_CTX *c, const char *suites, const char *list)
{
	if (suites != NULL && SSL_CTX_set_ciphersuites(c, suites) != 1)
		return -1;
	if (list != NULL && SSL_CTX_set_cipher_list(c, list) != 1)
		return -1;
	return 0;
}

/* Trust anchors for verification: the configured ones, or the system's. */
static int tlso_trust(SSL_CTX *c, const char *file, const char *dir,
		      const char *store)
{
	if (file == NULL && dir == NULL && store == NULL)
		return SSL_CTX_set_default_verify_paths(c) == 1 ? 0 : -1;
	if (file != NULL && SSL_CTX_load_verify_locations(c, file, NULL) != 1)
		return -1;
	if (dir != NULL && SSL_CTX_load_verify_locations(c, NULL, dir) != 1)
		return -1;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	if (store != NULL && SSL_CTX_load_verify_store(c, store) != 1)
		return -1;
#else
	if (store != NULL)
		return -1;
#endif
	return 0;
}

static int tlso_own_cert(SSL_CTX *c, const char *cert, const char *key)
{
	if (cert == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1)
		return -1;
	if (SSL_CTX_use_PrivateKey_file(c, key ? key : cert,
					SSL_FILETYPE_PEM) != 1)
		return -1;
	return SSL_CTX_check_private_key(c) == 1 ? 0 : -1;
}

static int tlso_server_setup(SSL_CTX *c, const struct tls_settings *s,
			     const char **what)
{
	*what = "cannot load ssl_server_cert / ssl_server_key";
	if (tlso_own_cert(c, s->str[TLS_SERVER_CERT],
			  s->str[TLS_SERVER_KEY]) != 0)
		return -1;
	*what = "bad ssl_server protocol versions or ciphers";
	if (tlso_versions(c, s->server_min, s->server_max) != 0 ||
	    tlso_ciphers(c, s->str[TLS_SERVER_CIPHERSUITES],
			 s->str[TLS_SERVER_CIPHER_LIST]) != 0)
		return -1;
	if (!s->server_verify)
		return 0;
	*what = "cannot load the CA for ssl_server_verify";
	if (tlso_trust(c, s->str[TLS_SERVER_CA_FILE],
		       s->str[TLS_SERVER_CA_DIR],
		       s->str[TLS_SERVER_CA_STORE]) != 0)
		return -1;
	if (s->str[TLS_SERVER_CA_FILE] != NULL) {
		STACK_OF(X509_NAME) *names =
			SSL_load_client_CA_file(s->str[TLS_SERVER_CA_FILE]);

		if (names != NULL)
			SSL_CTX_set_client_CA_list(c, names);
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

static int tlso_client_setup(SSL_CTX *c, const struct tls_settings *s,
			     const char **what)
{
	*what = "cannot load ssl_client_cert / ssl_client_key";
	if (tlso_own_cert(c, s->str[TLS_CLIENT_CERT],
			  s->str[TLS_CLIENT_KEY]) != 0)
		return -1;
	*what = "bad ssl_client protocol versions or ciphers";
	if (tlso_versions(c, s->client_min, s->client_max) != 0 ||
	    tlso_ciphers(c, s->str[TLS_CLIENT_CIPHERSUITES],
			 s->str[TLS_CLIENT_CIPHER_LIST]) != 0)
		return -1;
	*what = "bad ssl_client_alpn";
	/* this one returns 0 on success */
	if (s->alpn_len > 0 && (s->alpn_len > UINT_MAX ||
	    SSL_CTX_set_alpn_protos(c, s->alpn,
				    (unsigned)s->alpn_len) != 0))
		return -1;
	if (!s->client_verify)
		return 0;
	*what = "cannot load the CA for ssl_client_verify";
	if (tlso_trust(c, s->str[TLS_CLIENT_CA_FILE],
		       s->str[TLS_CLIENT_CA_DIR],
		       s->str[TLS_CLIENT_CA_STORE]) != 0)
		return -1;
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	return 0;
}

void *tlsb_ctx_new(const struct tls_settings *s, int server, char *err,
		   size_t errlen)
{
	const char *what = "cannot create a TLS context";
	SSL_CTX *c;
	int rc;

	/* The process may exit while workers are inside SSL calls: the
	 * library must not tear its global state down in an exit handler
	 * under them.  The first initialisation decides, and this is the
	 * first library call of the process. */
#ifdef OPENSSL_INIT_NO_ATEXIT
	OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, NULL);
#endif
	/* reused threads free their library state before the exit */
	os_thread_set_exit_hook(OPENSSL_thread_stop);
	c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (c == NULL) {
		tlso_error(err, errlen, what);
		return NULL;
	}
	/* the relay retries a write with the same bytes, maybe moved */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a peer that closes without close_notify ends its stream */
	SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	rc = server ? tlso_server_setup(c, s, &what)
		    : tlso_client_setup(c, s, &what);
	if (rc != 0) {
		tlso_error(err, errlen, what);
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

void tlsb_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

/* ---- the I/O layer ---------------------------------------------------- */

/* Map a failed call to the layer's results. */
static long tlso_result(SSL *ssl, int n)
{
	int e = SSL_get_error(ssl, n);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return IOLAYER_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return IOLAYER_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* older libraries: EOF without close_notify */
		if (ERR_peek_error() == 0 && n == 0)
			return 0;
		break;
	default:
		break;
	}
	ERR_clear_error();
	return -1;
}

static long tlso_read(void *ctx, void *buf, size_t len, int peek)
{
	SSL *ssl = ctx;
	int n, want = len > INT_MAX ? INT_MAX : (int)len;

	n = peek ? SSL_peek(ssl, buf, want) : SSL_read(ssl, buf, want);
	return n > 0 ? n : tlso_result(ssl, n);
}

static long tlso_write(void *ctx, const void *buf, size_t len)
{
	SSL *ssl = ctx;
	int n = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? n : tlso_result(ssl, n);
}

/* Only decrypted bytes count: undecrypted input is not readable yet and
 * would make a poll loop spin. */
static size_t tlso_pending(void *ctx)
{
	int n = SSL_pending(ctx);

	return n > 0 ? (size_t)n : 0;
}

static void tlso_shutdown(void *ctx)
{
	(void)SSL_shutdown(ctx);
	ERR_clear_error();
}

static void tlso_free(void *ctx)
{
	SSL_free(ctx);    /* the socket BIO does not close the socket */
}

static const struct iolayer_ops tlso_ops = {
	"tls", tlso_read, tlso_write, tlso_pending, tlso_shutdown, tlso_free
};

/* ---- the handshake ------------------------------------------------------ */

static int tlso_wait(os_sock_t s, short events, uint64_t deadline)
{
	for (;;) {
		os_pollfd_t p;
		uint64_t now = os_monotonic_ms();
		int n;

		if (now >= deadline)
			return 0;
		memset(&p, 0, sizeof(p));
		p.fd = s;
		p.events = events;
		n = os_poll(&p, 1, (int)(deadline - now > 1000 ? 1000
							: deadline - now));
		if (n > 0)
			return 1;
		if (n < 0 && !os_errno_is_intr(os_sock_errno()))
			return -1;
	}
}

static void tlso_handshake_error(SSL *ssl, int n, char *err, size_t errlen)
{
	int e = SSL_get_error(ssl, n);
	long vr = SSL_get_verify_result(ssl);

	if (vr != X509_V_OK) {
		snprintf(err, errlen, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		snprintf(err, errlen, "connection closed during handshake");
	} else {
		tlso_error(err, errlen, "handshake failed");
	}
}

static int tlso_handshake(SSL *ssl, int server, os_sock_t s, int timeout_ms,
			  char *err, size_t errlen)
{
	uint64_t deadline = os_monotonic_ms() +
			    (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int n = server ? SSL_accept(ssl) : SSL_connect(ssl);
		int e, w;

		if (n == 1)
			return 0;
		e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tlso_handshake_error(ssl, n, err, errlen);
			return -1;
		}
		w = tlso_wait(s, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
			      deadline);
		if (w <= 0) {
			snprintf(err, errlen, w == 0 ? "handshake timed out"
						     : "poll failed");
			ERR_clear_error();
			return -1;
		}
	}
}

int tlso_wrap_ssl(SSL *ssl, int server, os_sock_t s, int timeout_ms,
		  char *err, size_t errlen)
{
	if (tlso_handshake(ssl, server, s, timeout_ms, err, errlen) != 0) {
		SSL_free(ssl);
		return -1;
	}
	if (iolayer_bind(s, &tlso_ops, ssl) != 0) {
		snprintf(err, errlen, "too many TLS layers on one thread");
		return -1;
	}
	return 0;
}

SSL *tlso_layer_ssl(os_sock_t s)
{
	const struct iolayer *io = iolayer_find(s);

	return io != NULL && io->ops == &tlso_ops ? io->ctx : NULL;
}

int tlsb_wrap(void *ctx, int server, os_sock_t s, const char *sni,
	      int timeout_ms, char *err, size_t errlen)
{
	SSL *ssl;

	ERR_clear_error();
	if (ctx == NULL || os_sock_nonblock(s, 1) != 0) {
		snprintf(err, errlen, "bad socket");
		return -1;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, (int)s) != 1) {
		tlso_error(err, errlen, "cannot start TLS");
		SSL_free(ssl);
		return -1;
	}
	if (!server && sni != NULL && *sni != '\0') {
		/* SNI, and with verification the name the cert must have */
		if (SSL_set_tlsext_host_name(ssl, sni) != 1 ||
		    (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
		     SSL_set1_host(ssl, sni) != 1)) {
			tlso_error(err, errlen, "bad ssl_client_sni");
			SSL_free(ssl);
			return -1;
		}
	}
	return tlso_wrap_ssl(ssl, server, s, timeout_ms, err, errlen);
}
