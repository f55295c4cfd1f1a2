/*
 * tls_conf.c - the ssl_* commands, the per-service TLS snapshot and the
 * handshake steps services call (see tls.h).  Library calls are left to
 * tls_openssl.c; without it this file refuses the commands at start.
 */
#include "tls.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "iolayer.h"
#include "service.h"
#include "tls_certcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the commands ------------------------------------------------------ */

enum tls_cmd_kind { K_FLAG, K_STR, K_MODE, K_VERSION, K_ALPN, K_CACHE };

struct tls_cmd_row {
	const char *name;
	enum tls_cmd_kind kind;
	size_t field;    /* K_FLAG / K_VERSION: offset of the int;
			    K_STR: index in str[] */
	int value;       /* K_FLAG: value set */
};

#define TS_OFF(f) offsetof(struct tls_settings, f)

static const struct tls_cmd_row tls_rows[] = {
	{ "ssl_serv", K_FLAG, TS_OFF(serv), 1 },
	{ "ssl_server", K_FLAG, TS_OFF(serv), 1 },
	{ "ssl_noserv", K_FLAG, TS_OFF(serv), 0 },
	{ "ssl_noserver", K_FLAG, TS_OFF(serv), 0 },
	{ "ssl_cli", K_FLAG, TS_OFF(cli), 1 },
	{ "ssl_client", K_FLAG, TS_OFF(cli), 1 },
	{ "ssl_nocli", K_FLAG, TS_OFF(cli), 0 },
	{ "ssl_noclient", K_FLAG, TS_OFF(cli), 0 },
	{ "ssl_client_verify", K_FLAG, TS_OFF(client_verify), 1 },
	{ "ssl_client_no_verify", K_FLAG, TS_OFF(client_verify), 0 },
	{ "ssl_server_verify", K_FLAG, TS_OFF(server_verify), 1 },
	{ "ssl_server_no_verify", K_FLAG, TS_OFF(server_verify), 0 },
	{ "ssl_server_cert", K_STR, TLS_SERVER_CERT, 0 },
	{ "ssl_server_key", K_STR, TLS_SERVER_KEY, 0 },
	{ "ssl_server_ca_file", K_STR, TLS_SERVER_CA_FILE, 0 },
	{ "ssl_server_ca_key", K_STR, TLS_SERVER_CA_KEY, 0 },
	{ "ssl_server_ca_dir", K_STR, TLS_SERVER_CA_DIR, 0 },
	{ "ssl_server_ca_store", K_STR, TLS_SERVER_CA_STORE, 0 },
	{ "ssl_server_ciphersuites", K_STR, TLS_SERVER_CIPHERSUITES, 0 },
	{ "ssl_server_cipher_list", K_STR, TLS_SERVER_CIPHER_LIST, 0 },
	{ "ssl_client_cert", K_STR, TLS_CLIENT_CERT, 0 },
	{ "ssl_client_key", K_STR, TLS_CLIENT_KEY, 0 },
	{ "ssl_client_ca_file", K_STR, TLS_CLIENT_CA_FILE, 0 },
	{ "ssl_client_ca_dir", K_STR, TLS_CLIENT_CA_DIR, 0 },
	{ "ssl_client_ca_store", K_STR, TLS_CLIENT_CA_STORE, 0 },
	{ "ssl_client_ciphersuites", K_STR, TLS_CLIENT_CIPHERSUITES, 0 },
	{ "ssl_client_cipher_list", K_STR, TLS_CLIENT_CIPHER_LIST, 0 },
	{ "ssl_client_sni", K_STR, TLS_CLIENT_SNI, 0 },
	{ "ssl_client_mode", K_MODE, 0, 0 },
	{ "ssl_client_min_proto_version", K_VERSION, TS_OFF(client_min), 0 },
	{ "ssl_client_max_proto_version", K_VERSION, TS_OFF(client_max), 0 },
	{ "ssl_server_min_proto_version", K_VERSION, TS_OFF(server_min), 0 },
	{ "ssl_server_max_proto_version", K_VERSION, TS_OFF(server_max), 0 },
	{ "ssl_client_alpn", K_ALPN, 0, 0 },
	{ "ssl_mitm", K_FLAG, TS_OFF(mitm), 1 },
	{ "ssl_nomitm", K_FLAG, TS_OFF(mitm), 0 },
	{ "ssl_certcache", K_CACHE, TLS_CERTCACHE, 0 },
};

static const struct tls_cmd_row *tls_row(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tls_rows) / sizeof(tls_rows[0]); i++)
		if (strcmp(tls_rows[i].name, name) == 0)
			return &tls_rows[i];
	return NULL;
}

/* Protocol names as 3proxy takes them; the values are the wire
 * versions, which are also the library's constants. */
static int tls_version_parse(const char *name)
{
	static const struct { const char *name; int v; } tab[] = {
		{ "SSLv3", 0x300 }, { "TLSv1", 0x301 }, { "TLSv1.1", 0x302 },
		{ "TLSv1.2", 0x303 }, { "TLSv1.3", 0x304 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].name, name) == 0)
			return tab[i].v;
	return -1;
}

static struct tls_settings *tls_cursor(struct conf_ctx *ctx)
{
	if (ctx->cur.tls == NULL) {
		ctx->cur.tls = calloc(1, sizeof(*ctx->cur.tls));
		if (ctx->cur.tls == NULL)
			conf_error(ctx, "out of memory");
	}
	return ctx->cur.tls;
}

/* ALPN wire format: each name is a length byte and the name. */
static int tls_set_alpn(struct conf_ctx *ctx, struct tls_settings *t,
			int argc, char **argv)
{
	size_t len = 0, at = 0;
	unsigned char *w;
	int i;

	for (i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n == 0 || n > 255) {
			conf_error(ctx, "ssl_client_alpn: bad protocol name "
				   "'%s' (1..255 bytes)", argv[i]);
			return 1;
		}
		len += n + 1;
	}
	free(t->alpn);
	t->alpn = NULL;
	t->alpn_len = 0;
	if (len == 0)
		return 0;
	w = malloc(len);
	if (w == NULL) {
		conf_error(ctx, "out of memory");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		w[at++] = (unsigned char)n;
		memcpy(w + at, argv[i], n);
		at += n;
	}
	t->alpn = w;
	t->alpn_len = len;
	return 0;
}

static int tls_apply(struct conf_ctx *ctx, const struct tls_cmd_row *row,
		     struct tls_settings *t, int argc, char **argv)
{
	long mode;
	int v;

	switch (row->kind) {
	case K_FLAG:
		*(int *)((char *)t + row->field) = row->value;
		return 0;
	case K_STR:
		free(t->str[row->field]);
		t->str[row->field] = NULL;
		/* without an argument the setting goes back to unset */
		if (argc < 2)
			return 0;
		t->str[row->field] = conf_strdup(ctx, argv[1]);
		return t->str[row->field] == NULL;
	case K_MODE:
		if (argc < 2) {
			t->client_mode = 0;
			return 0;
		}
		if (conf_parse_long(argv[1], 0, 3, &mode) != 0) {
			conf_error(ctx, "ssl_client_mode: bad mode '%s' "
				   "(0..3)", argv[1]);
			return 1;
		}
		t->client_mode = (int)mode;
		return 0;
	case K_VERSION:
		v = argc > 1 ? tls_version_parse(argv[1]) : 0;
		if (v < 0) {
			conf_error(ctx, "%s: unknown protocol version '%s'",
				   argv[0], argv[1]);
			return 1;
		}
		*(int *)((char *)t + row->field) = v;
		return 0;
	case K_ALPN:
		return tls_set_alpn(ctx, t, argc, argv);
	case K_CACHE:
		if (!tls_certcache_dir_ok(argv[1])) {
			conf_error(ctx, "ssl_certcache: '%s' must end with "
				   "'/' or '\\'", argv[1]);
			return 1;
		}
		free(t->str[row->field]);
		t->str[row->field] = conf_strdup(ctx, argv[1]);
		return t->str[row->field] == NULL;
	}
	return 0;
}

/* plugins.md 3.1: interception excludes TLS towards clients, and TLS
 * towards servers cannot be switched on under it (code 2). */
static int tls_exclusive(struct conf_ctx *ctx, const struct tls_cmd_row *row,
			 const struct tls_settings *t)
{
	if (row->kind != K_FLAG || row->value != 1)
		return 0;
	if (row->field == TS_OFF(mitm) && t->serv) {
		conf_error(ctx, "%s: not while ssl_serv is on (code 2)",
			   row->name);
		return 2;
	}
	if ((row->field == TS_OFF(serv) || row->field == TS_OFF(cli)) &&
	    t->mitm) {
		conf_error(ctx, "%s: not while ssl_mitm is on (code 2)",
			   row->name);
		return 2;
	}
	return 0;
}

int tls_cmd(struct conf_ctx *ctx, int argc, char **argv)
{
	const struct tls_cmd_row *row = tls_row(argv[0]);
	struct tls_settings *t;
	int rc;

	if (row == NULL)
		return 1;
	if (!tls_built_in() && ctx->mode == CONF_RUN) {
		conf_error(ctx, "%s: this build has no TLS library (OpenSSL)",
			   argv[0]);
		return 1;
	}
	t = tls_cursor(ctx);
	if (t == NULL)
		return 1;
	rc = tls_exclusive(ctx, row, t);
	return rc != 0 ? rc : tls_apply(ctx, row, t, argc, argv);
}

/* ---- settings lifetime ------------------------------------------------- */

static void tls_settings_clear(struct tls_settings *t)
{
	int i;

	for (i = 0; i < TLS_STR_COUNT; i++)
		free(t->str[i]);
	free(t->alpn);
	memset(t, 0, sizeof(*t));
}

void tls_cursor_release(struct conf_cursor *c)
{
	if (c->tls == NULL)
		return;
	tls_settings_clear(c->tls);
	free(c->tls);
	c->tls = NULL;
}

static int tls_settings_copy(struct tls_settings *dst,
			     const struct tls_settings *src)
{
	int i;

	*dst = *src;
	memset(dst->str, 0, sizeof(dst->str));
	dst->alpn = NULL;
	for (i = 0; i < TLS_STR_COUNT; i++) {
		if (src->str[i] == NULL)
			continue;
		dst->str[i] = strdup(src->str[i]);
		if (dst->str[i] == NULL)
			goto bad;
	}
	if (src->alpn_len > 0) {
		dst->alpn = malloc(src->alpn_len);
		if (dst->alpn == NULL)
			goto bad;
		memcpy(dst->alpn, src->alpn, src->alpn_len);
	}
	return 0;
bad:
	tls_settings_clear(dst);
	return -1;
}

void tls_svc_free(struct tls_svc *t)
{
	if (t == NULL)
		return;
	tlsb_ctx_free(t->srv_ctx);
	tlsb_ctx_free(t->cli_ctx);
	tlsb_mitm_free(t->mitm);
	tls_settings_clear(&t->set);
	free(t);
}

/* Library contexts, once per service, at a real start. */
static int tls_svc_build(struct conf_ctx *ctx, struct tls_svc *t)
{
	char err[256];

	if (t->serv_on) {
		t->srv_ctx = tlsb_ctx_new(&t->set, 1, err, sizeof(err));
		if (t->srv_ctx == NULL) {
			conf_error(ctx, "ssl_serv: %s", err);
			return 1;
		}
	}
	if (t->cli_on) {
		t->cli_ctx = tlsb_ctx_new(&t->set, 0, err, sizeof(err));
		if (t->cli_ctx == NULL) {
			conf_error(ctx, "ssl_cli: %s", err);
			return 1;
		}
	}
	if (t->mitm_on) {
		t->mitm = tlsb_mitm_new(&t->set, err, sizeof(err));
		if (t->mitm == NULL) {
			conf_error(ctx, "ssl_mitm: %s", err);
			return 1;
		}
	}
	return 0;
}

int tls_svc_from_cursor(struct conf_ctx *ctx, struct tls_svc **out)
{
	const struct tls_settings *cur = ctx->cur.tls;
	struct tls_svc *t;

	*out = NULL;
	if (cur == NULL || (!cur->serv && !cur->cli && !cur->mitm))
		return 0;
	t = calloc(1, sizeof(*t));
	if (t == NULL || tls_settings_copy(&t->set, cur) != 0) {
		free(t);
		conf_error(ctx, "out of memory");
		return 1;
	}
	/* plugins.md 3: without both files ssl_serv is silently off */
	t->serv_on = cur->serv && cur->str[TLS_SERVER_CERT] != NULL &&
		     cur->str[TLS_SERVER_KEY] != NULL;
	t->cli_on = cur->cli;
	t->mitm_on = cur->mitm;
	if (t->mitm_on && t->cli_on) {
		/* ssl_cli came first (only the other order is refused):
		 * the interception makes the TLS to servers itself */
		conf_warning(ctx, "ssl_mitm: ssl_cli is off for this service "
			     "(interception makes its own TLS to servers)");
		t->cli_on = 0;
	}
	if (t->cli_on && cur->str[TLS_CLIENT_CERT] != NULL &&
	    cur->str[TLS_CLIENT_KEY] == NULL) {
		conf_warning(ctx, "ssl_cli: ssl_client_cert without "
			     "ssl_client_key: TLS to servers is off for "
			     "this service");
		t->cli_on = 0;
	}
	if (ctx->mode == CONF_RUN && tls_svc_build(ctx, t) != 0) {
		tls_svc_free(t);
		return 1;
	}
	if (!t->serv_on && !t->cli_on && !t->mitm_on) {
		tls_svc_free(t);
		return 0;
	}
	*out = t;
	return 0;
}

/* ---- the steps ----------------------------------------------------------- */

int tls_client_accept(struct client *cl)
{
	const struct tls_svc *t = cl->conf->tls;
	char err[256], text[320];

	if (t == NULL || t->srv_ctx == NULL)
		return 0;
	if (tlsb_wrap(t->srv_ctx, 1, cl->cl_sock, NULL,
		      svc_timeout_ms(cl->gen, TO_CONNECT), err,
		      sizeof(err)) == 0)
		return 0;
	snprintf(text, sizeof(text), "Handshake to client failed: %s", err);
	client_set_text(cl, text);
	return ERR_SSL_CLIENT;
}

int tls_client_mode(const struct client *cl)
{
	const struct tls_svc *t = cl->conf->tls;

	if (t == NULL || t->cli_ctx == NULL)
		return -1;
	/* the outgoing connection is made after authentication anyway */
	return t->set.client_mode == TLS_CLI_AFTER_AUTH ? TLS_CLI_AT_CONNECT
						       : t->set.client_mode;
}

int tls_server_wrap(struct client *cl, os_sock_t s, int mode)
{
	const struct tls_svc *t = cl->conf->tls;
	char err[256], text[320];

	if (tls_client_mode(cl) != mode)
		return 0;
	if (iolayer_find(s) != NULL) {
		snprintf(err, sizeof(err), "TLS inside TLS is not supported");
	} else if (tlsb_wrap(t->cli_ctx, 0, s, t->set.str[TLS_CLIENT_SNI],
			     svc_timeout_ms(cl->gen, TO_CONNECT), err,
			     sizeof(err)) == 0) {
		return 0;
	}
	snprintf(text, sizeof(text), "SSL handshake to server failed: %s",
		 err);
	client_set_text(cl, text);
	return ERR_SSL_SERVER;
}

/* ---- interception (F-TLS-04) ---------------------------------------------- */

int tls_mitm_wanted(const struct client *cl)
{
	const struct tls_svc *t = cl->conf->tls;

	return t != NULL && t->mitm != NULL && !cl->intercepted &&
	       cl->srv_sock != OS_BADSOCK &&
	       (cl->req.command & (OP_CONNECT | OP_HTTP_CONNECT)) != 0;
}

int tls_mitm_upstream(struct client *cl, os_sock_t s)
{
	const struct tls_svc *t = cl->conf->tls;
	char err[256], text[320];

	if (iolayer_find(s) != NULL)
		snprintf(err, sizeof(err), "TLS inside TLS is not supported");
	else if (tlsb_mitm_connect(t->mitm, s, cl->req.host,
				   svc_timeout_ms(cl->gen, TO_CONNECT), err,
				   sizeof(err)) == 0)
		return 0;
	snprintf(text, sizeof(text), "SSL handshake to server failed: %s",
		 err);
	client_set_text(cl, text);
	return ERR_SSL_SERVER;
}

int tls_mitm_start(struct client *cl)
{
	const struct tls_svc *t = cl->conf->tls;
	char err[256], text[320];
	void *pre = NULL;
	size_t prelen = 0;
	int rc = tls_mitm_upstream(cl, cl->srv_sock);

	if (rc != 0)
		return rc;
	/* bytes that came with the CONNECT head start the client's
	 * handshake (proto_http gives them back to the socket) */
	if (iolayer_unread_take(cl->cl_sock, &pre, &prelen) != 0) {
		snprintf(text, sizeof(text), "Handshake to client failed: "
			 "TLS inside TLS is not supported");
		client_set_text(cl, text);
		return ERR_SSL_CERT;
	}
	rc = tlsb_mitm_accept(t->mitm, cl->srv_sock, cl->cl_sock, pre, prelen,
			      svc_timeout_ms(cl->gen, TO_CONNECT), err,
			      sizeof(err));
	free(pre);
	if (rc == 0)
		return 0;
	if (rc == -2) {
		snprintf(text, sizeof(text), "Handshake to client failed: %s",
			 err);
		client_set_text(cl, text);
	} else {
		client_set_text(cl, err);
	}
	return ERR_SSL_CERT;
}

/* ---- builds without a TLS library ------------------------------------ */
#ifdef HAVE_OPENSSL
int tls_built_in(void)
{
	return 1;
}
#else
int tls_built_in(void)
{
	return 0;
}

void *tlsb_ctx_new(const struct tls_settings *s, int server, char *err,
		   size_t errlen)
{
	snprintf(err, errlen, "this build has no TLS library (OpenSSL)");
	return NULL;
}

void tlsb_ctx_free(void *ctx)
{
	(void)ctx;
}

int tlsb_wrap(void *ctx, int server, os_sock_t s, const char *sni,
	      int timeout_ms, char *err, size_t errlen)
{
	snprintf(err, errlen, "this build has no TLS library (OpenSSL)");
	return -1;
}

void *tlsb_mitm_new(const struct tls_settings *s, char *err, size_t errlen)
{
	(void)s;
	snprintf(err, errlen, "this build has no TLS library (OpenSSL)");
	return NULL;
}

void tlsb_mitm_free(void *m)
{
	(void)m;
}

int tlsb_mitm_connect(void *m, os_sock_t s, const char *sni,
		      int timeout_ms, char *err, size_t errlen)
{
	(void)m; (void)s; (void)sni; (void)timeout_ms;
	snprintf(err, errlen, "this build has no TLS library (OpenSSL)");
	return -1;
}

int tlsb_mitm_accept(void *m, os_sock_t srv, os_sock_t cs, const void *pre,
		     size_t prelen, int timeout_ms, char *err, size_t errlen)
{
	(void)m; (void)srv; (void)cs; (void)pre; (void)prelen;
	(void)timeout_ms;
	snprintf(err, errlen, "this build has no TLS library (OpenSSL)");
	return -1;
}
#endif
