/*
 * plugin_filter.c - plugin filters (plugin_api.h register_filter) on
 * top of the internal filter framework (filter.h), and the accessors a
 * plugin's client hook uses on a connection (F-PLUG-02, F-PLUG-03).
 *
 * A plugin filter is one filter record in the run's list: its data is
 * a copy of the plugin's struct px_filter with the plugin's data; each
 * service that uses it gets a small state pairing the two, so the
 * client hook can reach the plugin's hooks.  All of it is immutable
 * after the service line: no locks.
 */
#include "plugin.h"
#include "client.h"
#include "conf.h"
#include "filter.h"
#include "net.h"
#include "os.h"
#include "plugin_api.h"
#include "service.h"

#include <stdlib.h>
#include <string.h>

#define PRESET_HOST_MAX 255

struct pf_data {
	struct px_filter f;
	void *data;
};

struct pf_svc {
	const struct pf_data *pd;
	void *svc;                 /* what the plugin's open returned */
};

static void *pf_open(void *data, const struct svc_conf *sc)
{
	const struct pf_data *pd = data;
	struct pf_svc *ps;
	void *st = pd->data;

	if (pd->f.open != NULL &&
	    (st = pd->f.open(pd->data, sc->proto->cmd)) == NULL)
		return NULL;
	ps = malloc(sizeof(*ps));
	if (ps == NULL) {
		if (pd->f.close != NULL)
			pd->f.close(st);
		return NULL;
	}
	ps->pd = pd;
	ps->svc = st;
	return ps;
}

static void pf_close(void *svc)
{
	struct pf_svc *ps = svc;

	if (ps->pd->f.close != NULL)
		ps->pd->f.close(ps->svc);
	free(ps);
}

static int pf_client(void *svc, struct client *cl, void **conn)
{
	const struct pf_svc *ps = svc;
	int rc;

	(void)conn;
	if (ps->pd->f.client == NULL)
		return FILTER_CONTINUE;
	rc = ps->pd->f.client(ps->svc, (struct px_conn *)cl);
	if (rc == PX_FILTER_CONTINUE)
		return FILTER_CONTINUE;
	return rc == PX_FILTER_PASS ? FILTER_PASS : FILTER_REJECT;
}

static void pf_destroy(void *data)
{
	struct pf_data *pd = data;

	if (pd->f.release != NULL)
		pd->f.release(pd->data);
	free(pd);
}

static const struct filter_ops pf_ops = {
	.name = "plugin",
	.open = pf_open,
	.close = pf_close,
	.client = pf_client,
	.destroy = pf_destroy,
};

int plugin_filter_register(struct conf_gen *g, const struct px_filter *f,
			   void *data)
{
	struct pf_data *pd;
	size_t n;

	if (g == NULL || f == NULL || f->size < sizeof(f->size))
		return -1;
	pd = calloc(1, sizeof(*pd));
	if (pd == NULL)
		return -1;
	/* a plugin built against an older header has fewer members */
	n = f->size < sizeof(pd->f) ? f->size : sizeof(pd->f);
	memcpy(&pd->f, f, n);
	pd->f.size = sizeof(pd->f);
	pd->data = data;
	/* plugins.md 2.1: a plugin's filter goes before the built-in ones */
	if (filter_list_add(&g->filters, &pf_ops, pd, 0, 1) != 0) {
		free(pd);
		return -1;
	}
	return 0;
}

intptr_t plugin_conn_socket(struct px_conn *conn)
{
	const struct client *cl = (const struct client *)conn;

	if (cl == NULL || cl->cl_sock == OS_BADSOCK)
		return -1;
	return (intptr_t)cl->cl_sock;
}

static int preset_addr(const struct sockaddr *sa, size_t salen,
		       struct net_addr *a)
{
	if (sa == NULL)
		return -1;
	if (!(sa->sa_family == AF_INET &&
	      salen >= sizeof(struct sockaddr_in)) &&
	    !(sa->sa_family == AF_INET6 &&
	      salen >= sizeof(struct sockaddr_in6)))
		return -1;
	net_from_sockaddr(a, sa, (os_socklen_t)(sa->sa_family == AF_INET
		? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
	return net_get_port(a) != 0 ? 0 : -1;
}

int plugin_conn_set_dest(struct px_conn *conn, const struct sockaddr *sa,
			 size_t salen, const char *host)
{
	struct client *cl = (struct client *)conn;
	struct net_addr a;
	char text[64];
	char *h;

	if (cl == NULL || preset_addr(sa, salen, &a) != 0)
		return -1;
	if (host == NULL)
		host = net_addr_str(&a, text, sizeof(text));
	if (*host == '\0' || strlen(host) > PRESET_HOST_MAX)
		return -1;
	if (cl->preset == NULL &&
	    (cl->preset = calloc(1, sizeof(*cl->preset))) == NULL)
		return -1;
	h = strdup(host);
	if (h == NULL)
		return -1;
	free(cl->preset->host);
	cl->preset->host = h;
	cl->preset->addr = a;
	cl->preset->port = net_get_port(&a);
	return 0;
}
