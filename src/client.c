/*
 * client.c - the life of one client connection on its worker thread.
 *
 * client_new() acquires everything a client owns and client_finish()
 * releases it; client_finish() is the only way out, so every connection
 * is logged exactly once and nothing leaks on an error path.
 */
#include "client.h"
#include "netns.h"
#include "auth.h"
#include "conf.h"
#include "connback.h"
#include "counter.h"
#include "errcode.h"
#include "filter.h"
#include "iolayer.h"
#include "limit.h"
#include "log.h"
#include "logformat.h"
#include "metrics.h"
#include "os.h"
#include "parent.h"
#include "plugin.h"
#include "plugin_api.h"
#include "proxyproto.h"
#include "radius.h"
#include "relay_engine.h"
#include "resolve.h"
#include "service.h"
#include "sockio.h"
#include "tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct client *client_new(struct service *svc, os_sock_t fd,
			  const struct net_addr *peer)
{
	struct client *cl = calloc(1, sizeof(*cl));
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);

	if (cl == NULL)
		return NULL;
	cl->svc = svc;
	cl->conf = svc->conf;
	cl->gen = svc->gen;
	cl->cl_sock = fd;
	cl->srv_sock = OS_BADSOCK;
	cl->cl_peer = *peer;
	if (svc->local_fixed)
		cl->cl_local = svc->conf->listen;   /* one system call less */
	else if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		net_from_sockaddr(&cl->cl_local, (struct sockaddr *)&ss, sl);
	cl->start_ms = os_monotonic_ms();
	service_ref(svc);
	conf_gen_ref(cl->gen);
	os_atomic_inc(&svc->active);
	metrics_conn_open(svc->metrics);
	return cl;
}

/* -H: the connection starts with a PROXY protocol v1 line naming the
 * real client; it replaces the peer and local addresses (zero ports are
 * ignored).  Any other line is consumed and ignored, as 3proxy does. */
static int read_proxy_header(struct client *cl)
{
	char line[PROXYPROTO_MAXLINE];
	struct net_addr src, dst;
	size_t n = 0;
	int rc;

	rc = sockio_read_line(cl->cl_sock, line, sizeof(line), &n,
			      svc_timeout_ms(cl->gen, TO_STRING_SHORT));
	if (rc == SOCKIO_TOOLONG)
		return 0;
	if (rc <= 0)
		return ERR_RELAY_CLIENT;
	if (proxyproto_parse(line, n, &src, &dst) != 1)
		return 0;
	if (net_get_port(&src) == 0)
		net_set_port(&src, net_get_port(&cl->cl_peer));
	if (net_get_port(&dst) == 0)
		net_set_port(&dst, net_get_port(&cl->cl_local));
	cl->cl_peer = src;
	cl->cl_local = dst;
	return 0;
}

static void client_serve(struct client *cl)
{
	int rc = 0;

	/* -ne: sockets towards servers are made in that namespace */
	netns_thread_use(cl->conf->netns_out_fd);
	if (cl->conf->proxy_header)
		rc = read_proxy_header(cl);
	/* listed once cl_peer is final: the listing reads it unlocked */
	service_client_add(cl->svc, cl);
	/* ssl_serv: the service protocol runs inside TLS (F-TLS) */
	/* filters' client hooks (plugins.md 2.1), once the peer is final */
	if (rc == 0 && cl->conf->filters != NULL)
		rc = filter_conn_open(cl);
	if (rc == 0)
		rc = tls_client_accept(cl);
	if (rc == 0)
		rc = cl->conf->proto->handle(cl);
	/* a tunnel handed to a loop thread is finished there */
	if (rc != CLIENT_HANDED_OFF)
		client_finish(cl, rc);
	netns_thread_use(NETNS_NONE);
}

void client_main(void *arg)
{
	struct client *cl = arg;
	struct service *svc = cl->svc;

	/* the service outlives each client this thread serves */
	service_ref(svc);
	while (cl != NULL) {
		client_serve(cl);
		cl = service_next_client(svc);
	}
	service_release(svc);
}

int client_take_preset(struct client *cl)
{
	struct request *p = cl->preset;

	if (p == NULL || cl->req.host != NULL || cl->req.addr.len != 0)
		return 0;
	cl->req.host = p->host;
	cl->req.port = p->port;
	cl->req.addr = p->addr;
	free(p);
	cl->preset = NULL;
	return 1;
}

void client_set_text(struct client *cl, const char *text)
{
	char *t = strdup(text ? text : "");

	if (t == NULL)
		return;
	free(cl->text);
	cl->text = t;
}

/* F-PLUG-04: the generation's traffic hooks (TrafficPlugin) may
 * correct the byte counts before they are logged and counted. */
static void client_traffic_hooks(struct client *cl)
{
	const struct svc_conf *sc = cl->conf;
	struct px_traffic t;

	if (cl->gen == NULL || cl->gen->hooks == NULL)
		return;
	memset(&t, 0, sizeof(t));
	t.service = cl->logname ? cl->logname : sc->proto->logname;
	t.udp = sc->proto->socktype == SOCK_DGRAM ||
		(cl->req.command & OP_UDPASSOC) != 0;
	t.target_port = cl->req.port;
	t.in = cl->stats.bytes_from_server;
	t.out = cl->stats.bytes_from_client;
	t.reads = cl->stats.reads_from_server;
	t.writes = cl->stats.reads_from_client;
	t.connects = cl->srv_peer.len != 0;
	plugin_traffic_apply(cl->gen->hooks, &t);
	cl->stats.bytes_from_server = t.in;
	cl->stats.bytes_from_client = t.out;
}

void client_log(struct client *cl, int err)
{
	const struct svc_conf *sc = cl->conf;
	struct log_record rec;
	struct net_addr req = cl->req.addr;
	char line[LOGFORMAT_MAXLINE];
	uint64_t now = os_monotonic_ms();
	size_t n;

	cl->logged = 1;
	client_traffic_hooks(cl);
	if (log_sink_is_radius(sc->log)) {
		/* logging.md 1.4/1.5: a Stop instead of text, even with nolog */
		radius_acct(cl, RADIUS_ACCT_STOP);
	} else if (sc->log != NULL && !cl->nolog) {
		memset(&rec, 0, sizeof(rec));
		os_realtime(&rec.now);
		rec.duration_ms = now - cl->start_ms;
		rec.service = cl->logname ? cl->logname : sc->proto->logname;
		rec.port = net_get_port(&sc->listen);
		rec.err = err;
		rec.user = cl->cred.user;
		rec.client = &cl->cl_peer;
		rec.local = &cl->cl_local;
		rec.external = &cl->srv_local;
		rec.remote = &cl->srv_peer;
		if (req.len != 0)
			net_set_port(&req, cl->req.port);
		rec.requested = &req;
		rec.host = cl->req.host;
		rec.bytes_in = cl->stats.bytes_from_server;
		rec.bytes_out = cl->stats.bytes_from_client;
		rec.hops = cl->hops;
		rec.text = cl->text ? cl->text : "";
		rec.sql_quote = log_sink_is_sql(sc->log);   /* log &DSN */
		n = logformat_expand(line, sizeof(line), sc->logformat, &rec);
		log_sink_write(sc->log, line, n);
	}
	counter_account(cl);   /* also for unlogged requests */
	metrics_conn_bytes(cl->svc->metrics, cl->stats.bytes_from_server,
			   cl->stats.bytes_from_client);
	/* The next record of this connection covers only what follows. */
	memset(&cl->stats, 0, sizeof(cl->stats));
	cl->start_ms = now;
}

/* logdump (logging.md 6, F-LOG-15): an interim record in the middle of
 * a relay, with an empty %T and code 0; like every record it charges the
 * counters and restarts the byte counts and %D.  The connection's own
 * record still follows at its end. */
void client_log_interim(void *arg)
{
	struct client *cl = arg;
	char *text = cl->text;
	int logged = cl->logged;

	cl->text = NULL;
	client_log(cl, 0);
	cl->text = text;
	cl->logged = logged;
}

static void wipe(char *s)
{
	if (s == NULL)
		return;
	/* volatile stores: the compiler may not drop a wipe before free */
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

void client_finish(struct client *cl, int err)
{
	struct service *svc = cl->svc;

	if (!cl->logged)
		client_log(cl, err);
	if (cl->listed)
		service_client_remove(svc, cl);
	free(cl->shown);
	filter_conn_free(cl->filt);
	limit_client_release(cl);
	/* wrapped sides drop their layer (iolayer.h) with the socket */
	iolayer_close(cl->srv_sock);
	iolayer_close(cl->cl_sock);
	wipe(cl->cred.password);
	wipe(cl->cred.user);
	free(cl->req.host);
	if (cl->preset != NULL)
		free(cl->preset->host);
	free(cl->preset);
	free(cl->text);
	free(cl->ext_addr);
	free(cl->acct_sid);
	conf_gen_unref(cl->gen);
	os_atomic_dec(&svc->active);
	metrics_conn_close(svc->metrics, err);
	free(cl);
	service_release(svc);
}

/* Admin /S: publish the user and target of an authorized request.  The
 * worker changes cred and req freely; the listing reads only this copy,
 * swapped under the service's lock. */
static void client_publish(struct client *cl)
{
	char host[256], text[600];
	const char *user = cl->cred.user ? cl->cred.user : "";
	const char *h = cl->req.host;
	size_t ul = strlen(user);
	char *copy, *old;
	int n;

	if (h == NULL && cl->req.addr.len != 0)
		h = net_addr_str(&cl->req.addr, host, sizeof(host));
	if (ul >= 256)
		ul = 255;
	memcpy(text, user, ul);
	text[ul] = '\0';
	n = h == NULL || *h == '\0' ? 0 :
	    snprintf(text + ul + 1, sizeof(text) - ul - 1, "%s:%u", h,
		     (unsigned)cl->req.port);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text) - ul - 1)
		n = (int)(sizeof(text) - ul - 2);   /* cut, still terminated */
	text[ul + 1 + (size_t)n] = '\0';
	copy = malloc(ul + (size_t)n + 2);
	if (copy == NULL)
		return;
	memcpy(copy, text, ul + (size_t)n + 2);
	os_mutex_lock(&cl->svc->cl_lock);
	old = cl->shown;
	cl->shown = copy;
	os_mutex_unlock(&cl->svc->cl_lock);
	free(old);
}

/* The service's auth chain and ACL (auth.c), then connlim and the
 * traffic quotas (limit.c), the filters' afterauth stage and the quota a
 * plugin filter may attach there (counter.c). */
int client_authorize(struct client *cl)
{
	int rc = limit_authorize(cl, auth_authorize(cl));

	/* plugins.md 2.1: filters' afterauth hooks */
	if (rc == 0 && cl->filt != NULL &&
	    filter_run_stage(cl, FS_AFTERAUTH) == FILTER_REJECT)
		rc = ERR_FILTER;
	/* a quota a plugin attached in that stage (conn_limit) */
	if (rc == 0)
		rc = counter_quota_check(cl);
	if (rc == 0 && cl->listed)
		client_publish(cl);
	return rc;
}

int client_connect(struct client *cl)
{
	const struct svc_conf *sc = cl->conf;
	const struct net_addr *src;
	struct net_addr dst;
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);
	int err = 0;

	/* -R: the server side is a connect-back connection (connback.c);
	 * an ACE with parents: through the chain (parent.c) */
	cl->via = NULL;
	cl->hops = cl->redirect_depth;
	if (sc->connback_listen != NULL)
		return connback_take(cl);
	if (cl->parents != NULL)
		return parent_connect(cl, cl->parents);
	if (cl->req.addr.len != 0) {
		dst = cl->req.addr;
	} else if (cl->req.host == NULL ||
		   resolve_name(cl->gen, cl->req.host, sc->family, &dst) != 0) {
		return ERR_HOST_NOT_FOUND;
	}
	if (net_family(&dst) != AF_UNIX)
		net_set_port(&dst, cl->req.port);
	cl->req.addr = dst;
	src = net_family(&dst) == AF_INET6 ? &sc->external6 : &sc->external4;
	if (cl->ext_addr != NULL && net_family(cl->ext_addr) ==
	    net_family(&dst))
		src = cl->ext_addr;    /* chosen by auth (RADIUS) */
	if (net_family(&dst) == AF_UNIX)
		src = NULL;
	cl->srv_sock = net_connect_dev(&dst, src, sc->bind_dev_out,
				       svc_timeout_ms(cl->gen, TO_CONNECT),
				       sc->opts_server, sc->maxseg, &err);
	cl->conn_errno = err;
	if (cl->srv_sock == OS_BADSOCK) {
		/* -De: a device that cannot be bound is a bind failure. */
		if (sc->bind_dev_out != NULL && *sc->bind_dev_out != '\0' &&
		    err != 0 && !os_errno_is_inprogress(err) &&
		    err != ECONNREFUSED && err != ETIMEDOUT &&
		    err != EHOSTUNREACH && err != ENETUNREACH)
			return ERR_BIND;
		return ERR_CONNECT;
	}
	cl->srv_peer = dst;
	if (getsockname(cl->srv_sock, (struct sockaddr *)&ss, &sl) == 0)
		net_from_sockaddr(&cl->srv_local, (struct sockaddr *)&ss, sl);
	/* filters' connect hooks (plugins.md 2.1) */
	if (cl->filt != NULL &&
	    filter_run_stage(cl, FS_CONNECT) == FILTER_REJECT)
		return ERR_FILTER;
	/* ssl_cli, modes 0 and 1: TLS right after the TCP connect */
	return tls_server_wrap(cl, cl->srv_sock, TLS_CLI_AT_CONNECT);
}

/* F-PROC-10 (acl-auth.md 7): the configuration was reloaded while this
 * connection relays.  Its service's auth chain and ACL (cl->conf, the
 * copy taken at the service line) run again with the user table now in
 * force; a failure other than 2 (redirect) ends the relay with its
 * code.  Limits and quotas are not selected again: the relay hook goes
 * on charging the ones chosen at the start. */
static int client_recheck(void *arg)
{
	struct client *cl = arg;
	struct conf_gen *now = conf_gen_current();
	int rc;

	if (now == NULL)
		return 0;
	rc = auth_reauthorize(cl, now);
	conf_gen_unref(now);
	return rc == ERR_ACL_REDIRECT ? 0 : rc;
}

/* The loop thread's end of a handed-off tunnel (relay_engine.h). */
static void client_relay_done(void *arg, int code)
{
	client_finish(arg, code);
}

/* What runs on a loop thread besides the relay must not wait on the
 * network: the `force` recheck (the auth chain) and the end of the
 * connection (client_finish: a `log radius` Stop waits for its answer). */
static int client_may_loop(const struct client *cl,
			   const struct relay_opts *o)
{
	const struct svc_conf *sc = cl->conf;

	return (o->recheck == NULL || !auth_may_block(sc)) &&
	       !log_sink_is_radius(sc->log);
}

/* closing: the sockets are closed as soon as the relay returns
 * (relay_opts.closing).  last: the handler ends with this relay, which
 * may then be handed to a loop thread (client_relay_last). */
static int client_relay_run(struct client *cl, os_sock_t cs, os_sock_t ss,
			    int idle_timeout_ms, int closing, int last)
{
	const struct svc_conf *sc = cl->conf;
	struct relay_opts o;

	relay_opts_default(&o);
	o.closing = closing;
	o.idle_timeout_ms = idle_timeout_ms;
	o.linger_ms = svc_timeout_ms(cl->gen, TO_LINGER);
	o.bufsize = sc->bufsize;
	o.splice = sc->splice != 0;
	o.halfclose = sc->halfclose;
	o.grace_traf = sc->grace_traf;
	o.grace_num = sc->grace_num;
	o.grace_delay_ms = sc->grace_delay;
	if (sc->force && cl->gen != NULL) {
		/* `force`: one atomic load per relay iteration */
		o.watch = conf_gen_version();
		o.watch_seen = cl->gen->version;
		o.recheck = client_recheck;
		o.recheck_arg = cl;
	}
	if (sc->logdump_in > 0 || sc->logdump_out > 0) {
		o.dump_in = sc->logdump_in;
		o.dump_out = sc->logdump_out;
		o.dump = client_log_interim;
		o.dump_arg = cl;
	}
	limit_relay_setup(cl, &o);
	/* filters' predata hooks (plugins.md 2.1) */
	if (cl->filt != NULL &&
	    filter_run_stage(cl, FS_PREDATA) == FILTER_REJECT)
		return ERR_FILTER;
	/* data filters see every chunk: the copy path, no splice */
	if (filter_conn_hooks(cl->filt) & FILTER_DATA_HOOKS) {
		o.splice = 0;
		o.filter = filter_relay_chunk;
		o.filter_arg = cl;
	}
	if (last && client_may_loop(cl, &o) &&
	    relay_engine_start(cs, ss, &o, &cl->stats,
			       client_relay_done, cl) == 0)
		return CLIENT_HANDED_OFF;
	return relay_tcp(cs, ss, NULL, 0, NULL, 0, &o, &cl->stats);
}

static int client_relay_any(struct client *cl, int idle_timeout_ms,
			    int last)
{
	/* a local redirection hands the stream to another parser */
	int rc;

	if (cl->redirect != NULL)
		return parent_redirect_run(cl);
	/* ssl_mitm (F-TLS-04): the decrypted stream goes to the HTTP
	 * proxy parser instead of the relay */
	if (tls_mitm_wanted(cl)) {
		rc = tls_mitm_start(cl);
		return rc != 0 ? rc : proto_http_intercepted(cl);
	}
	/* ssl_cli mode 2: TLS just before relaying, CONNECT-type only */
	if (cl->req.command & (OP_CONNECT | OP_HTTP_CONNECT)) {
		rc = tls_server_wrap(cl, cl->srv_sock, TLS_CLI_BEFORE_DATA);
		if (rc != 0)
			return rc;
	}
	/* the handler returns to client_finish, which closes both sockets */
	return client_relay_run(cl, cl->cl_sock, cl->srv_sock,
				idle_timeout_ms, 1, last);
}

int client_relay(struct client *cl, int idle_timeout_ms)
{
	return client_relay_any(cl, idle_timeout_ms, 0);
}

int client_relay_last(struct client *cl, int idle_timeout_ms)
{
	return client_relay_any(cl, idle_timeout_ms, !cl->relay_inline);
}

int client_relay_pair(struct client *cl, os_sock_t cs, os_sock_t ss,
		      int idle_timeout_ms)
{
	return client_relay_run(cl, cs, ss, idle_timeout_ms, 0, 0);
}
