/*
 * proto_auto.c - auto: one port for SOCKS, TLS (SNI) and HTTP proxy
 * clients (services.md 13; F-SVC-01).
 *
 * The first byte is peeked, not read, and the client is handed to the
 * chosen service's own handler, which then reads the whole request
 * itself under the listener's options.  Records carry the %N name of
 * the service chosen.  No state beyond the call; no lock.
 */
#include "client.h"
#include "errcode.h"
#include "service.h"
#include "sockio.h"

#include <string.h>

/* F-SVC-01 [quirk]: 3proxy waits a fixed 4 s for the first byte, not
 * one of the configurable timeouts. */
#define AUTO_WAIT_MS 4000
#define TLS_HANDSHAKE_BYTE 22

int proto_auto_handle(struct client *cl);
int proto_http_handle(struct client *cl);
int proto_socks_handle(struct client *cl);
int proto_tls_handle(struct client *cl);

/* The first byte the client sent, left in the socket; -1 if none came
 * within AUTO_WAIT_MS or the client closed. */
static int
peek_first(os_sock_t s)
{
	unsigned char c;

	/* through the socket's I/O layer (ssl_serv) when it has one */
	return sockio_peek(s, &c, 1, AUTO_WAIT_MS) == 1 ? c : -1;
}

int
proto_auto_handle(struct client *cl)
{
	int c = peek_first(cl->cl_sock);

	if (c < 0) {
		client_set_text(cl, "");
		return ERR_AUTO_NO_DATA;
	}
	if (c == 4 || c == 5)
		return proto_socks_handle(cl);   /* names itself SOCK4/5 */
	if (c == TLS_HANDSHAKE_BYTE) {
		cl->logname = "TLSPR";
		return proto_tls_handle(cl);
	}
	cl->logname = "PROXY";
	return proto_http_handle(cl);
}
