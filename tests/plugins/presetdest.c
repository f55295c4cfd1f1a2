/*
 * presetdest.c - a plugin for the integration tests of the filter API
 * (plugin_api.h register_filter, conn_socket, conn_set_dest; F-PLUG-02):
 *
 *     plugin PresetDest.ld.so preset_dest IP PORT [SERVICE]
 *
 * Every accepted connection of the services that follow (only those of
 * command SERVICE, when given) asks for IP:PORT, as TransparentPlugin
 * does with a redirected connection's original destination.  IP
 * "reject" drops the connections instead.  Not installed.
 */
#include "plugin_api.h"

#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#endif

struct preset {
	struct sockaddr_storage ss;
	size_t len;
	int reject;
	char service[16];
};

static const struct px_api *api;

static void *pd_open(void *data, const char *service)
{
	struct preset *p = data;

	if (p->service[0] != '\0' && strcmp(p->service, service) != 0)
		return NULL;
	return p;
}

static int pd_client(void *svc, struct px_conn *conn)
{
	const struct preset *p = svc;

	if (p->reject)
		return PX_FILTER_REJECT;
	/* the socket must be the client's: its peer is on loopback */
	if (api->conn_socket(conn) == -1)
		return PX_FILTER_REJECT;
	if (api->conn_set_dest(conn, (const struct sockaddr *)&p->ss, p->len,
			       NULL) != 0)
		return PX_FILTER_REJECT;
	return PX_FILTER_PASS;
}

static int parse(struct preset *p, const char *ip, const char *port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&p->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&p->ss;
	long n = strtol(port, NULL, 10);

	if (strcmp(ip, "reject") == 0) {
		p->reject = 1;
		return 0;
	}
	if (n < 0 || n > 65535)
		return -1;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)n);
		p->len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)n);
		p->len = sizeof(*s6);
		return 0;
	}
	return -1;
}

PX_PLUGIN_EXPORT int preset_dest(const struct px_api *a, int argc,
				 char **argv)
{
	static const struct px_filter f = {
		.size = sizeof(struct px_filter), .open = pd_open,
		.client = pd_client, .release = free
	};
	struct preset *p;

	if (a == NULL || !PX_API_HAS(a, conn_set_dest) || argc < 3 ||
	    argc > 4)
		return 1;
	api = a;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return 2;
	if (parse(p, argv[1], argv[2]) != 0) {
		free(p);
		return 3;
	}
	if (argc == 4) {
		strncpy(p->service, argv[3], sizeof(p->service) - 1);
	}
	if (a->register_filter(&f, p) != 0) {
		free(p);
		return 4;
	}
	return 0;
}
