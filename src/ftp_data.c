/*
 * ftp_data.c - see ftp_data.h.
 */
#include "ftp_data.h"

#include "client.h"
#include "conf.h"
#include "ftp_client.h"
#include "net.h"
#include "service.h"

int ftp_data_open(struct client *cl, struct ftp_conn *fc, os_sock_t *ds)
{
	const struct svc_conf *sc = cl->conf;
	struct net_addr data, saved = cl->req.addr;
	unsigned op = cl->req.command;
	int rc, err = 0;

	*ds = OS_BADSOCK;
	rc = ftp_passive(fc, &cl->srv_peer, &data);
	if (rc != 0)
		return rc;
	cl->req.command = OP_FTP_DATA;
	cl->req.addr = data;
	rc = client_authorize(cl);
	cl->req.command = op;
	cl->req.addr = saved;
	if (rc != 0)
		return rc;
	*ds = net_connect(&data, net_family(&data) == AF_INET6 ?
			  &sc->external6 : &sc->external4,
			  svc_timeout_ms(cl->gen, TO_CONNECT), sc->opts_server,
			  sc->maxseg, &err);
	return *ds == OS_BADSOCK ? FTP_E_DATA : 0;
}
