/*
 * tls_mitm_openssl.c - TLS interception on OpenSSL (ssl_mitm, F-TLS-04;
 * plugins.md sections 3.1 and 3.2).  Built only with HAVE_OPENSSL.
 *
 * Per service (struct mitm, built at the service line, read-only while
 * clients run): the CA certificate and key, the key the generated
 * certificates carry, a client context towards the servers, a server
 * context towards the clients and the certificate cache.  The cache has
 * two levels: an in-memory table (tls_certcache.c, its own mutex) so one
 * server is not signed for again on every connection, and, with
 * ssl_certcache, a file per server certificate.  A cache file is written
 * under a temporary name and renamed into place, so a reader (another
 * thread or another 3proxy) sees a whole file or none.
 */
#include "tls.h"
#include "tls_certcache.h"
#include "tls_openssl.h"
#include "net.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <process.h>
#define mitm_getpid() ((unsigned long)_getpid())
#else
#include <unistd.h>
#define mitm_getpid() ((unsigned long)getpid())
#endif

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define MITM_PATH_MAX 4096

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#define mitm_peer_cert SSL_get1_peer_certificate
#else
#define mitm_peer_cert SSL_get_peer_certificate
#endif

struct mitm {
	X509 *ca;
	EVP_PKEY *ca_key;
	EVP_PKEY *leaf_key;        /* key of generated certificates */
	SSL_CTX *cli, *srv;
	char *cachedir;            /* ssl_certcache, or NULL */
	struct tls_memcache mem;
};

/* ---- loading the CA and the keys ---------------------------------------- */

static EVP_PKEY *mitm_read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *mitm_read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int mitm_file_exists(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	fclose(f);
	return 1;
}

/* The CA: ssl_server_ca_file + ssl_server_ca_key, else 3proxy.pem and
 * 3proxy.key in the cache directory. */
static int mitm_load_ca(struct mitm *m, const struct tls_settings *s,
			char *err, size_t errlen)
{
	const char *cf = s->str[TLS_SERVER_CA_FILE];
	const char *kf = s->str[TLS_SERVER_CA_KEY];
	char cbuf[MITM_PATH_MAX], kbuf[MITM_PATH_MAX];

	if ((cf == NULL || kf == NULL) && m->cachedir != NULL) {
		snprintf(cbuf, sizeof(cbuf), "%s3proxy.pem", m->cachedir);
		snprintf(kbuf, sizeof(kbuf), "%s3proxy.key", m->cachedir);
		cf = cbuf;
		kf = kbuf;
	}
	if (cf == NULL || kf == NULL) {
		snprintf(err, errlen, "no CA: set ssl_server_ca_file and "
			 "ssl_server_ca_key, or put 3proxy.pem and 3proxy.key "
			 "in ssl_certcache");
		return -1;
	}
	m->ca = mitm_read_cert(cf);
	if (m->ca == NULL) {
		snprintf(err, errlen, "no CA: cannot read the certificate %s",
			 cf);
		return -1;
	}
	m->ca_key = mitm_read_key(kf);
	if (m->ca_key == NULL || X509_check_private_key(m->ca, m->ca_key) != 1) {
		snprintf(err, errlen, "cannot read the CA key %s (or it does "
			 "not match %s)", kf, cf);
		return -1;
	}
	return 0;
}

/* ssl_server_key, else <certcache>server.key if present, else the CA's. */
static int mitm_load_leaf_key(struct mitm *m, const struct tls_settings *s,
			      char *err, size_t errlen)
{
	const char *kf = s->str[TLS_SERVER_KEY];
	char buf[MITM_PATH_MAX];

	if (kf == NULL && m->cachedir != NULL) {
		snprintf(buf, sizeof(buf), "%sserver.key", m->cachedir);
		if (mitm_file_exists(buf))
			kf = buf;
	}
	if (kf == NULL) {
		if (EVP_PKEY_up_ref(m->ca_key) != 1)
			return -1;
		m->leaf_key = m->ca_key;
		return 0;
	}
	m->leaf_key = mitm_read_key(kf);
	if (m->leaf_key == NULL) {
		snprintf(err, errlen, "cannot read the key %s", kf);
		return -1;
	}
	return 0;
}

static void mitm_x509_ref(void *x)
{
	X509_up_ref(x);
}

static void mitm_x509_unref(void *x)
{
	X509_free(x);
}

void tlsb_mitm_free(void *mv)
{
	struct mitm *m = mv;

	if (m == NULL)
		return;
	tls_memcache_free(&m->mem);
	X509_free(m->ca);
	EVP_PKEY_free(m->ca_key);
	EVP_PKEY_free(m->leaf_key);
	SSL_CTX_free(m->cli);
	SSL_CTX_free(m->srv);
	free(m->cachedir);
	free(m);
}

void *tlsb_mitm_new(const struct tls_settings *s, char *err, size_t errlen)
{
	struct mitm *m = calloc(1, sizeof(*m));
	const char *dir = s->str[TLS_CERTCACHE];

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tls_memcache_init(&m->mem, mitm_x509_ref, mitm_x509_unref);
	if (dir != NULL && (m->cachedir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	if (mitm_load_ca(m, s, err, errlen) != 0 ||
	    mitm_load_leaf_key(m, s, err, errlen) != 0)
		goto bad;
	/* the contexts of ssl_cli and ssl_serv with the same settings
	 * (verification only with ssl_client_verify) */
	m->cli = tlsb_ctx_new(s, 0, err, errlen);
	if (m->cli == NULL)
		goto bad;
	/* the stream inside is HTTP/1.x: no ALPN that could pick h2 */
	SSL_CTX_set_alpn_protos(m->cli, NULL, 0);
	m->srv = tlsb_ctx_new(s, 1, err, errlen);
	if (m->srv == NULL)
		goto bad;
	ERR_clear_error();
	return m;
bad:
	ERR_clear_error();
	tlsb_mitm_free(m);
	return NULL;
}

/* ---- the handshake to the server ------------------------------------------ */

int tlsb_mitm_connect(void *mv, os_sock_t s, const char *sni,
		      int timeout_ms, char *err, size_t errlen)
{
	struct mitm *m = mv;
	struct net_addr a;
	SSL *ssl;

	ERR_clear_error();
	if (os_sock_nonblock(s, 1) != 0) {
		snprintf(err, errlen, "bad socket");
		return -1;
	}
	ssl = SSL_new(m->cli);
	if (ssl == NULL || SSL_set_fd(ssl, (int)s) != 1) {
		tlso_error(err, errlen, "cannot start TLS");
		SSL_free(ssl);
		return -1;
	}
	if (sni != NULL && *sni != '\0') {
		/* SNI carries names only (RFC 6066 3); verification
		 * checks the name or the address */
		if ((net_parse_ip(sni, &a) != 0 &&
		     SSL_set_tlsext_host_name(ssl, sni) != 1) ||
		    (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
		     SSL_set1_host(ssl, sni) != 1)) {
			tlso_error(err, errlen, "bad server name");
			SSL_free(ssl);
			return -1;
		}
	}
	return tlso_wrap_ssl(ssl, 0, s, timeout_ms, err, errlen);
}

/* ---- the substitute certificate ------------------------------------------- */

/* Copy extension nid of src to dst, or add the default value. */
static int mitm_ext(X509 *dst, X509 *src, int nid, const char *dflt)
{
	int i = X509_get_ext_by_NID(src, nid, -1);
	X509_EXTENSION *e;
	int rc;

	if (i >= 0)
		return X509_add_ext(dst, X509_get_ext(src, i), -1) == 1 ? 0
									: -1;
	if (dflt == NULL)
		return 0;
	e = X509V3_EXT_conf_nid(NULL, NULL, nid, dflt);
	if (e == NULL)
		return -1;
	rc = X509_add_ext(dst, e, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(e);
	return rc;
}

/* plugins.md 3.2: version 3; serial, subject and validity of the
 * server's certificate; issuer = the CA's subject; the leaf key;
 * subjectAltName, basicConstraints and extendedKeyUsage copied (the
 * last two with defaults); SHA-256 with the CA key. */
static X509 *mitm_forge(const struct mitm *m, X509 *peer)
{
	X509 *x = X509_new();

	if (x == NULL)
		return NULL;
	if (X509_set_version(x, 2) != 1 ||
	    X509_set_serialNumber(x, X509_get_serialNumber(peer)) != 1 ||
	    X509_set_subject_name(x, X509_get_subject_name(peer)) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(m->ca)) != 1 ||
	    X509_set1_notBefore(x, X509_get0_notBefore(peer)) != 1 ||
	    X509_set1_notAfter(x, X509_get0_notAfter(peer)) != 1 ||
	    X509_set_pubkey(x, m->leaf_key) != 1 ||
	    mitm_ext(x, peer, NID_subject_alt_name, NULL) != 0 ||
	    mitm_ext(x, peer, NID_basic_constraints,
		     "critical,CA:FALSE") != 0 ||
	    mitm_ext(x, peer, NID_ext_key_usage, "serverAuth") != 0 ||
	    X509_sign(x, m->ca_key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A cache file is used only if it still fits the CA and key in force
 * (the configuration may have changed since it was written). */
static X509 *mitm_file_load(const struct mitm *m, const char *path)
{
	X509 *x = mitm_read_cert(path);

	if (x == NULL)
		return NULL;
	if (X509_check_private_key(x, m->leaf_key) != 1 ||
	    X509_check_issued(m->ca, x) != X509_V_OK) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	return x;
}

/* Write under a name of this thread, then rename into place. */
static void mitm_file_save(const char *path, X509 *x)
{
	char tmp[MITM_PATH_MAX + 64];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.%lu.%lu.tmp", path, mitm_getpid(),
		 os_thread_id());
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	ok = PEM_write_X509(f, x) == 1;
	ok = fclose(f) == 0 && ok;
#ifdef _WIN32
	/* rename does not replace there: a stale file goes first */
	if (ok)
		(void)remove(path);
#endif
	if (!ok || rename(tmp, path) != 0)
		(void)remove(tmp);
}

/* The certificate to show for peer, referenced, or NULL. */
static X509 *mitm_cert_for(struct mitm *m, X509 *peer)
{
	unsigned char fp[EVP_MAX_MD_SIZE];
	char path[MITM_PATH_MAX];
	unsigned int n = 0;
	X509 *x, *won;
	int cached = 0;

	if (X509_digest(peer, EVP_sha256(), fp, &n) != 1 || n != TLS_FP_LEN)
		return NULL;
	x = tls_memcache_get(&m->mem, fp);
	if (x != NULL)
		return x;
	if (m->cachedir != NULL &&
	    tls_certcache_path(m->cachedir, fp, path, sizeof(path)) == 0) {
		cached = 1;
		x = mitm_file_load(m, path);
	}
	if (x == NULL) {
		x = mitm_forge(m, peer);
		if (x != NULL && cached)
			mitm_file_save(path, x);
	}
	if (x == NULL)
		return NULL;
	won = tls_memcache_put(&m->mem, fp, x);
	if (won != NULL) {
		X509_free(x);
		x = won;
	}
	return x;
}

/* ---- the handshake with the client ------------------------------------------ */

/* The socket for writing; for reading the bytes read ahead (pre), if
 * any, then the socket (mitm_pre_handshake switches). */
static int mitm_set_bios(SSL *ssl, os_sock_t cs, const void *pre,
			 size_t prelen)
{
	BIO *sock, *mem;

	if (prelen == 0)
		return SSL_set_fd(ssl, (int)cs) == 1 ? 0 : -1;
	if (prelen > INT_MAX)
		return -1;
	sock = BIO_new_socket((int)cs, BIO_NOCLOSE);
	mem = BIO_new_mem_buf(pre, (int)prelen);
	if (sock == NULL || mem == NULL) {
		BIO_free(sock);
		BIO_free(mem);
		return -1;
	}
	/* empty: "try again" rather than end of stream */
	BIO_set_mem_eof_return(mem, -1);
	SSL_set_bio(ssl, mem, sock);
	return 0;
}

/* Run the handshake on the read-ahead bytes, then read from the socket
 * (the memory BIO refers to the caller's buffer: it goes now). */
static int mitm_pre_handshake(SSL *ssl)
{
	BIO *sock = SSL_get_wbio(ssl);
	int i;

	for (i = 0; i < 16; i++) {
		int n = SSL_accept(ssl), e;

		if (n == 1)
			break;
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			break;      /* the socket is full: resumed later */
		if (e != SSL_ERROR_WANT_READ)
			return -1;
		if (BIO_ctrl_pending(SSL_get_rbio(ssl)) == 0)
			break;
	}
	if (BIO_up_ref(sock) != 1)
		return -1;
	SSL_set0_rbio(ssl, sock);
	return 0;
}

int tlsb_mitm_accept(void *mv, os_sock_t srv, os_sock_t cs, const void *pre,
		     size_t prelen, int timeout_ms, char *err, size_t errlen)
{
	struct mitm *m = mv;
	SSL *up = tlso_layer_ssl(srv), *ssl;
	X509 *peer, *x;

	ERR_clear_error();
	peer = up != NULL ? mitm_peer_cert(up) : NULL;
	if (peer == NULL) {
		snprintf(err, errlen, "Failed to create certificate copy: "
			 "the server sent no certificate");
		return -1;
	}
	x = mitm_cert_for(m, peer);
	X509_free(peer);
	if (x == NULL) {
		tlso_error(err, errlen, "Failed to create certificate copy");
		return -1;
	}
	ssl = SSL_new(m->srv);
	if (ssl == NULL || os_sock_nonblock(cs, 1) != 0 ||
	    mitm_set_bios(ssl, cs, pre, prelen) != 0 ||
	    SSL_use_certificate(ssl, x) != 1 ||
	    SSL_use_PrivateKey(ssl, m->leaf_key) != 1 ||
	    SSL_add1_chain_cert(ssl, m->ca) != 1) {
		X509_free(x);
		SSL_free(ssl);
		tlso_error(err, errlen, "Failed to create certificate copy");
		return -1;
	}
	X509_free(x);
	if (prelen > 0 && mitm_pre_handshake(ssl) != 0) {
		tlso_error(err, errlen, "handshake failed");
		SSL_free(ssl);
		return -2;
	}
	if (tlso_wrap_ssl(ssl, 1, cs, timeout_ms, err, errlen) != 0)
		return -2;
	return 0;
}
