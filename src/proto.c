/*
 * proto.c - the table of services: config command, %N name, default
 * port, transport and handler.  A row without a handler is a service
 * whose option syntax is known (so --check validates it) but whose
 * protocol is not in this build yet.
 */
#include "service.h"

#include <string.h>

int proto_http_handle(struct client *cl);
int proto_tcppm_handle(struct client *cl);
int proto_socks_handle(struct client *cl);
int proto_pop3_handle(struct client *cl);
int proto_smtp_handle(struct client *cl);
int proto_imap_handle(struct client *cl);
int proto_ftp_handle(struct client *cl);
int proto_tls_handle(struct client *cl);
int proto_auto_handle(struct client *cl);
int proto_admin_handle(struct client *cl);
int proto_dns_handle(struct client *cl);
void proto_udppm_run(struct service *svc);
void proto_dns_run(struct service *svc);

static const struct proto protos[] = {
	/* cmd      %N       port  transport    pos handler             dgram */
	{ "proxy",  "PROXY", 3128, SOCK_STREAM, 0, proto_http_handle,  NULL },
	{ "socks",  "SOCKS", 1080, SOCK_STREAM, 0, proto_socks_handle, NULL },
	{ "pop3p",  "POP3P", 110,  SOCK_STREAM, 0, proto_pop3_handle,  NULL },
	{ "smtpp",  "SMTPP", 587,  SOCK_STREAM, 0, proto_smtp_handle,  NULL },
	{ "imapp",  "IMAPP", 143,  SOCK_STREAM, 0, proto_imap_handle,  NULL },
	{ "ftppr",  "FTPPR", 21,   SOCK_STREAM, 0, proto_ftp_handle,   NULL },
	{ "tlspr",  "TLSPR", 1443, SOCK_STREAM, 0, proto_tls_handle,   NULL },
	{ "auto",   "AUTO",  8080, SOCK_STREAM, 0, proto_auto_handle,  NULL },
	{ "admin",  "ADMIN", 80,   SOCK_STREAM, 0, proto_admin_handle, NULL },
	{ "dnspr",  "DNSPR", 53,   SOCK_DGRAM,  0, proto_dns_handle,
	  proto_dns_run },
	{ "tcppm",  "TCPPM", 0,    SOCK_STREAM, 1, proto_tcppm_handle, NULL },
	{ "udppm",  "UDPPM", 0,    SOCK_DGRAM,  1, NULL,    proto_udppm_run },
};

const struct proto *proto_find(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(protos[i].cmd, cmd) == 0)
			return &protos[i];
	return NULL;
}
