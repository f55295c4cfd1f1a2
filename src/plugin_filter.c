/*
 * plugin_filter.c - plugin filters (plugin_api.h register_filter) on
 * top of the internal filter framework (filter.h), and the accessors a
 * plugin's client hook uses on a connection (F-PLUG-02, F-PLUG-03).
 *
 * A plugin filter is one filter record in the run's list: its data is
 * a copy of the plugin's struct px_filter with the plugin's data; each
 * service that uses it gets a small state pairing the two, so the
 * client hook can reach the plugin's hooks.  All of it is immutable
 * after the service line: no locks.  A plugin with per-connection
 * hooks (attach, clear, buffer, stage) gets a pf_conn per connection,
 * touched only by that connection's worker thread.  A stage hook may
 * also attach a plugin's quota and pipe to the request (conn_limit).
 */
#include "plugin.h"
#include "client.h"
#include "conf.h"
#include "counter.h"
#include "filter.h"
#include "limit.h"
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

struct pf_conn {
	const struct pf_svc *ps;
	void *conn;                /* what the plugin's attach returned */
};

/* The buffer a plugin's buffer hook sees; pub comes first so buf_set
 * can get back to the filter buffer behind it. */
struct pf_buf {
	struct px_buf pub;
	struct filter_buf *fb;
};

_Static_assert(PX_HOOK_REQUEST == FH_REQUEST &&
	       PX_HOOK_HEADER_CLI == FH_HEADER_CLI &&
	       PX_HOOK_HEADER_SRV == FH_HEADER_SRV &&
	       PX_HOOK_DATA_CLI == FH_DATA_CLI &&
	       PX_HOOK_DATA_SRV == FH_DATA_SRV,
	       "plugin_api.h and filter.h number the buffer hooks alike");
_Static_assert(PX_FILTER_CONTINUE == FILTER_CONTINUE &&
	       PX_FILTER_PASS == FILTER_PASS &&
	       PX_FILTER_HANDLED == FILTER_HANDLED &&
	       PX_FILTER_REJECT == FILTER_REJECT,
	       "plugin_api.h and filter.h number the results alike");

/* Whether the plugin's hooks need a state per connection. */
static int pf_per_conn(const struct px_filter *f)
{
	return f->attach != NULL || f->clear != NULL || f->buffer != NULL ||
	       f->stage != NULL;
}

/* A plugin's result as a filter result (unknown values: reject). */
static int pf_result(int rc)
{
	if (rc < FILTER_CONTINUE || rc > FILTER_REJECT)
		return FILTER_REJECT;
	return rc;
}

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
	const struct px_filter *f = &ps->pd->f;
	struct pf_conn *pc;
	int rc = PX_FILTER_CONTINUE;

	if (f->client != NULL)
		rc = f->client(ps->svc, (struct px_conn *)cl);
	if (rc == PX_FILTER_PASS)
		return FILTER_PASS;
	if (rc != PX_FILTER_CONTINUE)
		return FILTER_REJECT;
	if (!pf_per_conn(f))
		return FILTER_CONTINUE;
	pc = malloc(sizeof(*pc));
	if (pc == NULL)
		return FILTER_REJECT;
	pc->ps = ps;
	pc->conn = f->attach != NULL ?
		   f->attach(ps->svc, (struct px_conn *)cl) : NULL;
	*conn = pc;
	return FILTER_CONTINUE;
}

static void pf_clear(void *conn)
{
	struct pf_conn *pc = conn;

	if (pc == NULL)
		return;
	if (pc->ps->pd->f.clear != NULL)
		pc->ps->pd->f.clear(pc->ps->svc, pc->conn);
	free(pc);
}

static int pf_stage(void *conn, struct client *cl, int stage)
{
	const struct pf_conn *pc = conn;

	if (pc == NULL || pc->ps->pd->f.stage == NULL)
		return FILTER_CONTINUE;
	return pf_result(pc->ps->pd->f.stage(pc->ps->svc, pc->conn,
					      (struct px_conn *)cl, stage));
}

static int pf_connect(void *svc, void *conn, struct client *cl)
{
	(void)svc;
	return pf_stage(conn, cl, PX_STAGE_CONNECT);
}

static int pf_afterauth(void *svc, void *conn, struct client *cl)
{
	(void)svc;
	return pf_stage(conn, cl, PX_STAGE_AFTERAUTH);
}

static int pf_predata(void *svc, void *conn, struct client *cl)
{
	(void)svc;
	return pf_stage(conn, cl, PX_STAGE_PREDATA);
}

static int pf_buffer(void *svc, void *conn, struct client *cl,
		     enum filter_hook h, struct filter_buf *b)
{
	const struct pf_conn *pc = conn;
	struct pf_buf pb;

	(void)svc;
	if (pc == NULL || pc->ps->pd->f.buffer == NULL)
		return FILTER_CONTINUE;
	pb.pub.data = b->data;
	pb.pub.len = b->len;
	pb.fb = b;
	return pf_result(pc->ps->pd->f.buffer(pc->ps->svc, pc->conn,
					       (struct px_conn *)cl, (int)h,
					       &pb.pub));
}

int plugin_buf_set(struct px_buf *b, const void *p, size_t n)
{
	struct pf_buf *pb = (struct pf_buf *)b;
	char *c;

	if (b == NULL || (p == NULL && n > 0))
		return -1;
	c = malloc(n > 0 ? n : 1);
	if (c == NULL)
		return -1;
	if (n > 0)
		memcpy(c, p, n);
	filter_buf_set(pb->fb, c, n);
	pb->pub.data = c;
	pb->pub.len = n;
	return 0;
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
	.clear = pf_clear,
	.connect = pf_connect,
	.afterauth = pf_afterauth,
	.predata = pf_predata,
	.buffer = pf_buffer,
	.destroy = pf_destroy,
};

int plugin_filter_register(struct conf_gen *g, const struct px_filter *f,
			   void *data)
{
	struct pf_data *pd;
	unsigned hooks;
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
	hooks = pd->f.buffer != NULL ? pd->f.hooks & ((1u << FH_COUNT) - 1)
				     : 0;
	/* plugins.md 2.1: a plugin's filter goes before the built-in ones */
	if (filter_list_add(&g->filters, &pf_ops, pd, hooks, 1) != 0) {
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

const char *plugin_conn_user(struct px_conn *conn)
{
	const struct client *cl = (const struct client *)conn;

	return cl != NULL ? cl->cred.user : NULL;
}

/* The quota and the pipe join what counter.c and limit.c selected for
 * the request; client_authorize then refuses a used-up quota
 * (counter_quota_check) and the relay hook charges both. */
int plugin_conn_limit(struct px_conn *conn, struct px_quota *q,
		      struct px_pipe *p)
{
	struct client *cl = (struct client *)conn;

	if (cl == NULL)
		return -1;
	if (q != NULL && counter_quota_attach(cl, q) != 0)
		return -1;
	if (p != NULL && limit_ext_pipe_attach(cl, p) != 0)
		return -1;
	return 0;
}
