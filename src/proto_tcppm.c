/*
 * proto_tcppm.c - tcppm: map a local TCP port to a fixed target.
 *
 * Every connection goes to the host and port of the service line (the
 * name is resolved for each connection, so a changed DNS record is
 * followed), then bytes are relayed both ways under CONNECTION_LONG.
 * A destination preset at accept (TransparentPlugin: the original
 * destination of a redirected connection) replaces the configured
 * target (services.md 10).
 */
#include "client.h"
#include "errcode.h"
#include "service.h"

#include <stdlib.h>
#include <string.h>

/* The target of the service line. */
static int tcppm_target(struct client *cl)
{
	const struct svc_conf *sc = cl->conf;

	client_set_text(cl, sc->target_host);
	cl->req.port = sc->target_port;
	if (net_parse_ip(sc->target_host, &cl->req.addr) != 0 &&
	    net_parse_unix(sc->target_host, &cl->req.addr) != 0) {
		cl->req.host = strdup(sc->target_host);
		if (cl->req.host == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

int proto_tcppm_handle(struct client *cl)
{
	int rc;

	if (client_take_preset(cl)) {
		client_set_text(cl, cl->req.host);
	} else {
		rc = tcppm_target(cl);
		if (rc != 0)
			return rc;
	}
	cl->req.command = OP_CONNECT;
	rc = client_authorize(cl);
	if (rc != 0)
		return rc;
	rc = client_connect(cl);
	if (rc != 0)
		return rc;
	return client_relay_last(cl, svc_timeout_ms(cl->gen,
						    TO_CONNECTION_LONG));
}
