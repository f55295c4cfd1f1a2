/*
 * tls.h - built-in TLS (plugins.md section 3): the ssl_* settings, the
 * per-service TLS state and the steps client.c and parent.c call.
 *
 * tls_conf.c (always built) owns the settings: the ssl_* commands change
 * the cursor's struct tls_settings, a service line snapshots it into a
 * struct tls_svc (svc_conf.tls), and a reload starts again from the
 * defaults.  tls_openssl.c (built only with OpenSSL, HAVE_OPENSSL) turns
 * a tls_svc's settings into library contexts once, at the service line
 * of a real start, and wraps sockets with an I/O layer (iolayer.h).
 * Without OpenSSL the ssl_* commands are refused at start (--check still
 * accepts them) and nothing here ever wraps a socket.
 */
#ifndef PX_TLS_H
#define PX_TLS_H

#include <stddef.h>
#include "os.h"

struct conf_ctx;
struct conf_cursor;
struct client;

/* String settings, indexed. */
enum tls_str {
	TLS_SERVER_CERT, TLS_SERVER_KEY, TLS_SERVER_CA_FILE,
	TLS_SERVER_CA_KEY, TLS_SERVER_CA_DIR, TLS_SERVER_CA_STORE,
	TLS_SERVER_CIPHERSUITES, TLS_SERVER_CIPHER_LIST,
	TLS_CLIENT_CERT, TLS_CLIENT_KEY, TLS_CLIENT_CA_FILE,
	TLS_CLIENT_CA_DIR, TLS_CLIENT_CA_STORE,
	TLS_CLIENT_CIPHERSUITES, TLS_CLIENT_CIPHER_LIST,
	TLS_CLIENT_SNI,
	TLS_CERTCACHE,            /* ssl_certcache directory (ends in / or \) */
	TLS_STR_COUNT
};

/* ssl_client_mode values: when the outgoing side is wrapped. */
enum tls_client_mode {
	TLS_CLI_AT_CONNECT = 0,   /* right after the TCP connect */
	TLS_CLI_AFTER_AUTH = 1,   /* after authentication (= at connect here:
				     the connection is made after auth) */
	TLS_CLI_BEFORE_DATA = 2,  /* before relaying, CONNECT-type only */
	TLS_CLI_PARENT_S = 3      /* only hops of "...s" parent types */
};

/* The settings in force (cursor).  Strings are owned (malloc'd). */
struct tls_settings {
	int serv, cli, mitm;
	int server_verify, client_verify;
	int client_mode;
	/* protocol versions as the library's numbers; 0 = library default */
	int server_min, server_max, client_min, client_max;
	char *str[TLS_STR_COUNT];
	unsigned char *alpn;      /* ALPN wire format (length-prefixed) */
	size_t alpn_len;
};

/* What one service uses: a copy of the settings and, after a real start,
 * the library contexts.  Owned by its svc_conf. */
struct tls_svc {
	struct tls_settings set;
	int serv_on;              /* ssl_serv with cert and key */
	int cli_on;               /* ssl_cli */
	int mitm_on;              /* ssl_mitm */
	void *srv_ctx, *cli_ctx;  /* library contexts (tls_openssl.c) */
	void *mitm;               /* interception state (tls_mitm_openssl.c):
				     CA, keys, contexts, certificate cache */
};

/* ---- configuration (tls_conf.c) -------------------------------------- */
int tls_cmd(struct conf_ctx *ctx, int argc, char **argv);
/* Free the cursor's settings (end of a config run). */
void tls_cursor_release(struct conf_cursor *c);
/* The service line: snapshot the cursor.  *out = NULL when the service
 * uses no TLS.  In a real start the library contexts are built now.
 * Returns 0, or non-zero after reporting through conf_error. */
int tls_svc_from_cursor(struct conf_ctx *ctx, struct tls_svc **out);
void tls_svc_free(struct tls_svc *t);
/* 1 if this build has a TLS library. */
int tls_built_in(void);

/* ---- the steps (tls_conf.c, on top of the library backend) ----------
 * Each returns 0 or an errcode.h code (ERR_SSL_*), with the reason in
 * the client's %T text; the socket then stays unwrapped and the caller
 * ends the connection. */
/* ssl_serv: server handshake on the accepted socket (CONNECT timeout). */
int tls_client_accept(struct client *cl);
/* ssl_cli: client handshake on the outgoing socket s, if the service's
 * mode is `mode` (a parent "...s" hop passes TLS_CLI_PARENT_S). */
int tls_server_wrap(struct client *cl, os_sock_t s, int mode);
/* The service's ssl_client_mode, or -1 without ssl_cli. */
int tls_client_mode(const struct client *cl);

/* ssl_mitm (F-TLS-04): 1 if the CONNECT-type request of cl, whose server
 * connection is open, is to be intercepted (not inside an interception
 * already). */
int tls_mitm_wanted(const struct client *cl);
/* TLS to the server (SNI = the requested name), a substitute certificate
 * and TLS with the client on it.  Returns 0 (both sockets wrapped) or
 * ERR_SSL_SERVER / ERR_SSL_CERT with the reason in %T. */
int tls_mitm_start(struct client *cl);
/* TLS to the server on a new connection s of an intercepted session
 * (SNI = cl->req.host).  Returns 0 or ERR_SSL_SERVER. */
int tls_mitm_upstream(struct client *cl, os_sock_t s);

/* ---- the library backend (tls_openssl.c) ----------------------------- */
/* Build a context from the settings; NULL with a reason in err. */
void *tlsb_ctx_new(const struct tls_settings *s, int server, char *err,
		   size_t errlen);
void tlsb_ctx_free(void *ctx);
/* Handshake on s within timeout_ms and bind the layer to s on this
 * thread.  sni may be NULL.  Returns 0, or -1 with a reason in err. */
int tlsb_wrap(void *ctx, int server, os_sock_t s, const char *sni,
	      int timeout_ms, char *err, size_t errlen);


/* ---- interception in the backend (tls_mitm_openssl.c) ----------------
 * State built once per service: CA certificate and key, the key of the
 * generated certificates, a client context for the servers, a server
 * context for the clients and the certificate cache. */
void *tlsb_mitm_new(const struct tls_settings *s, char *err, size_t errlen);
void tlsb_mitm_free(void *m);
/* Client handshake to the server on s (see tlsb_wrap). */
int tlsb_mitm_connect(void *m, os_sock_t s, const char *sni,
		      int timeout_ms, char *err, size_t errlen);
/* The substitute for the certificate of the wrapped server socket srv,
 * then the server handshake on cs with it; the client's first prelen
 * bytes are pre (already read from cs), then cs.  Returns 0, -1 (no
 * certificate: the reason in err) or -2 (the client handshake failed). */
int tlsb_mitm_accept(void *m, os_sock_t srv, os_sock_t cs, const void *pre,
		     size_t prelen, int timeout_ms, char *err, size_t errlen);

#endif
