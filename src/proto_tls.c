/*
 * proto_tls.c - tlspr: an SNI proxy (services.md 9; F-TLSPR-01..06).
 *
 * Reads the client's ClientHello without terminating TLS, takes the
 * destination host name from its server_name extension, authorizes and
 * connects as CONNECT, forwards the hello (in two writes with -s, the
 * SNI split) and relays.  With -c2 the server's first record must be a
 * ServerHello; -c3/-c4 also watch for certificates (tls_certcheck.c).
 * With -Ximap/-Xpop3/-Xsmtp, or when pop3p/smtpp/imapp hand a session
 * over, a plain-text STARTTLS prefix comes first on both sides
 * (starttls.c, F-TLSPR-04, F-MAIL-06).  The same handler serves a
 * `parent ... tls 0.0.0.0 0` local redirection (parent.md 6) and the
 * `auto` service.
 *
 * Owns only per-connection state on the worker thread: no lock.
 */
#include "client.h"
#include "errcode.h"
#include "resolve.h"
#include "service.h"
#include "sockio.h"
#include "starttls.h"
#include "tls_certcheck.h"
#include "tls_hello.h"

#include <stdlib.h>
#include <string.h>

#define TLS_DEFAULT_PORT 443

int proto_tls_handle(struct client *cl);

/* One connection's hello: the raw bytes read from the client. */
struct tls_conn {
	struct client *cl;
	uint8_t *buf;            /* TLS_RECORD_HEADER + TLS_RECORD_MAX_WIRE */
	size_t n;                /* bytes read from the client */
	int parsed;              /* hello holds a valid ClientHello */
	int starttls;            /* enum starttls_proto, NONE for plain */
	struct tls_hello hello;
};

static int
read_error(int r, int tmo, int eof, int err)
{
	if (r == SOCKIO_TIMEOUT)
		return tmo;
	return r == SOCKIO_EOF ? eof : err;
}

/* Read until the ClientHello is complete or proven not to be one,
 * within STRING_SHORT in total.  Returns 0 when the bytes were judged
 * (tc->parsed tells how; *perr the parser's code), else the 39x read
 * failure. */
static int
read_hello(struct tls_conn *tc, int *perr)
{
	struct client *cl = tc->cl;
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	uint64_t deadline = os_monotonic_ms() + (uint64_t)tmo;
	int r, rc = TLS_MORE;

	while (rc == TLS_MORE) {
		uint64_t now = os_monotonic_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);

		r = sockio_read_some(cl->cl_sock, tc->buf + tc->n,
				     TLS_HELLO_MAX - tc->n, left);
		if (r <= 0)
			return read_error(r, ERR_TLS_CLI_TIMEOUT,
					  ERR_TLS_CLI_EOF, ERR_TLS_CLI_READ);
		tc->n += (size_t)r;
		rc = tls_hello_parse(tc->buf, tc->n, &tc->hello);
	}
	tc->parsed = rc == 0;
	*perr = rc;
	return 0;
}

/* A destination set before this parser ran (local redirection). */
static int
dest_known(const struct client *cl)
{
	return cl->req.host != NULL || cl->req.addr.len != 0;
}

/* -hHOST[:PORT]: the destination when nothing else names one. */
static int
default_dest(struct client *cl)
{
	const char *h = cl->conf->default_host;
	const char *colon = strrchr(h, ':');
	size_t len = strlen(h);
	long port;
	char *end;

	if (colon != NULL && strchr(h, ':') == colon) {
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || port < 1 || port > 65535)
			return ERR_HOST_NOT_FOUND;
		cl->req.port = (uint16_t)port;
		len = (size_t)(colon - h);
	}
	cl->req.host = malloc(len + 1);
	if (cl->req.host == NULL)
		return ERR_NOMEM;
	memcpy(cl->req.host, h, len);
	cl->req.host[len] = '\0';
	return 0;
}

/* services.md 9.1 step 4: where the connection goes.  A destination
 * set before (local redirection) stays; SNI only renames it for ACLs
 * and the log, so its address is resolved first. */
static int
choose_dest(struct tls_conn *tc)
{
	struct client *cl = tc->cl;
	const struct svc_conf *sc = cl->conf;
	const char *sni = tc->parsed ? tc->hello.host : "";
	uint16_t defport = tc->starttls != STARTTLS_NONE
				   ? starttls_default_port(tc->starttls)
				   : TLS_DEFAULT_PORT;
	char *name;

	if (dest_known(cl)) {
		if (*sni == '\0')
			return 0;
		if (cl->req.addr.len == 0 &&
		    resolve_name(cl->gen, cl->req.host, sc->family,
				 &cl->req.addr) != 0)
			return ERR_HOST_NOT_FOUND;
	} else if (*sni == '\0') {
		cl->req.port = sc->default_port_opt ? sc->default_port_opt
						    : defport;
		if (sc->default_host == NULL || *sc->default_host == '\0')
			return ERR_HOST_NOT_FOUND;
		return default_dest(cl);
	} else {
		cl->req.port = sc->default_port_opt ? sc->default_port_opt
						    : defport;
	}
	name = strdup(sni);
	if (name == NULL)
		return ERR_NOMEM;
	free(cl->req.host);
	cl->req.host = name;
	return 0;
}

/* Forward what was read; with -s (F-TLSPR-03), the bytes up to the
 * middle of the host name go in a write of their own, so a middlebox
 * that looks at one segment sees half a name.  (-s also sets the udppm
 * single-packet flag: the same option letter, stored once.) */
static int
send_hello(struct tls_conn *tc)
{
	struct client *cl = tc->cl;
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	size_t first = 0;

	if (tc->n == 0)
		return 0;
	if (cl->conf->single_packet && tc->parsed && tc->hello.split > 0)
		first = tc->hello.split;
	if (first > 0 &&
	    sockio_write_all(cl->srv_sock, tc->buf, first, tmo) != 0)
		return ERR_TLS_SPLIT_SEND;
	if (sockio_write_all(cl->srv_sock, tc->buf + first, tc->n - first,
			     tmo) != 0)
		return first > 0 ? ERR_TLS_SPLIT_SEND : ERR_RELAY_SERVER;
	cl->stats.bytes_from_client += tc->n;
	return 0;
}

/* -c2 (F-TLSPR-02): the server's first record must carry a ServerHello;
 * it is passed on to the client before the relay starts (with pass 0
 * the -c3/-c4 checks pass it on once it is judged). */
static int
check_server(struct tls_conn *tc, size_t *rec_len, int *version, int pass)
{
	struct client *cl = tc->cl;
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	size_t len;
	int r;

	r = sockio_read_exact(cl->srv_sock, tc->buf, TLS_RECORD_HEADER, tmo);
	if (r <= 0)
		return read_error(r, ERR_TLS_SRV_TIMEOUT, ERR_TLS_SRV_EOF,
				  ERR_TLS_SRV_READ);
	if (tc->buf[0] == TLS_CT_HANDSHAKE || tc->buf[0] == TLS_CT_ALERT) {
		r = tls_record_header(tc->buf, &len);
		if (r != 0)
			return r == 1 ? ERR_TLS_SRV_BAD_VERSION
				      : ERR_TLS_SRV_BAD_LENGTH;
		r = sockio_read_exact(cl->srv_sock,
				      tc->buf + TLS_RECORD_HEADER, len, tmo);
		if (r <= 0)
			return read_error(r, ERR_TLS_SRV_TIMEOUT,
					  ERR_TLS_SRV_EOF, ERR_TLS_SRV_READ);
	} else {
		len = 0;
	}
	r = tls_server_hello_check(tc->buf, TLS_RECORD_HEADER + len, version);
	*rec_len = TLS_RECORD_HEADER + len;
	if (r != 0 || !pass)
		return r;
	if (sockio_write_all(cl->cl_sock, tc->buf, TLS_RECORD_HEADER + len,
			     tmo) != 0)
		return ERR_TLS_CLIENT_SEND;
	cl->stats.bytes_from_server += TLS_RECORD_HEADER + len;
	return 0;
}

/* -c2 and up, after the hello went to the server. */
static int
check_levels(struct tls_conn *tc)
{
	int level = tc->cl->conf->check_level;
	size_t rec_len = 0;
	int version = 0, rc;

	if (level < 2)
		return 0;
	rc = check_server(tc, &rec_len, &version, level < 3);
	if (rc != 0 || level < 3)
		return rc;
	return tls_cert_check(tc->cl, level, version, tc->buf, rec_len,
			      tc->buf);
}

static void
set_text(struct tls_conn *tc)
{
	char text[TLS_HOST_MAX + TLS_ALPN_MAX + 32];

	tls_hello_text(tc->parsed ? &tc->hello : NULL, text, sizeof(text));
	client_set_text(tc->cl, text);
}

/* Everything up to the relay; the buffer is freed by the caller. */
static int
tls_serve(struct tls_conn *tc)
{
	struct client *cl = tc->cl;
	int level = cl->conf->check_level;
	int rc, perr = 0;

	rc = read_hello(tc, &perr);
	set_text(tc);
	/* -c0: anything goes as it is, if the destination is known; a
	 * client that waits for the server to speak first sends nothing */
	if (rc != 0 && (level >= 1 ||
			(tc->n == 0 && !(rc == ERR_TLS_CLI_TIMEOUT &&
					 dest_known(cl)))))
		return rc;
	if (rc == 0 && perr != 0 && level >= 1)
		return perr;
	rc = choose_dest(tc);
	set_text(tc);
	if (rc != 0)
		return rc;
	cl->req.command = OP_CONNECT;
	rc = client_authorize(cl);
	if (rc == 0)
		rc = client_connect(cl);
	/* the hello is read: a parser the ACL redirects to would miss it */
	if (rc == 0 && cl->redirect != NULL)
		rc = ERR_REDIRECT_DATA;
	/* services.md 9.1 step 7: the server starts TLS before it can
	 * take the hello */
	if (rc == 0 && tc->starttls != STARTTLS_NONE)
		rc = starttls_server(cl, tc->starttls);
	if (rc == 0)
		rc = send_hello(tc);
	if (rc == 0)
		rc = check_levels(tc);
	return rc;
}

/* tlspr proper; the client's plain phase, if any, is over. */
static int
tls_run(struct client *cl, int starttls)
{
	struct tls_conn tc;
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.cl = cl;
	/* a destination preset at accept (TransparentPlugin) is known
	 * before the hello: SNI only renames it (services.md 9.1 step 4) */
	client_take_preset(cl);
	tc.starttls = starttls;
	tc.buf = malloc(TLS_RECORD_HEADER + TLS_RECORD_MAX_WIRE);
	if (tc.buf == NULL)
		return ERR_NOMEM;
	rc = tls_serve(&tc);
	free(tc.buf);
	if (rc != 0)
		return rc;
	return client_relay_last(cl, svc_timeout_ms(cl->gen,
						    TO_CONNECTION_LONG));
}

int
proto_tls_starttls(struct client *cl, int proto)
{
	cl->relay_inline = 1;   /* the mail proxy goes on with cl */
	return tls_run(cl, proto);
}

int
proto_tls_handle(struct client *cl)
{
	int mode = cl->conf->starttls, quit = 0, rc;

	/* -X: play the mail server until the client asks for TLS */
	if (mode != STARTTLS_NONE) {
		rc = starttls_client(cl, mode, &quit);
		if (rc != 0 || quit)
			return rc;
	}
	return tls_run(cl, mode);
}
