/*
 * connback.c - connect-back (-r / -R), parent.md section 9, F-SVC-05.
 *
 * State: one struct connback per -R service, created by the service's
 * listener thread before it accepts anything (so workers, started later,
 * see it), shared by the workers that take connections from its socket
 * (non-blocking accept; several workers may race for one connection,
 * the losers wait for the next), shut down by service_stop() and freed
 * with the service once no client refers to it any more.  The -r side
 * keeps no state beyond its listener thread's locals.
 */
#include "connback.h"
#include "auth.h"
#include "client.h"
#include "errcode.h"
#include "net.h"
#include "os.h"
#include "resolve.h"
#include "service.h"
#include "sockio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CB_POLL_MS 250              /* how often loops look at `stop` */
#define CB_COMMAND_WAIT_MS 60000    /* -r: wait for 'C' */
#define CB_RETRY_MAX_MS 250         /* -r: back-off after failures */
#define CB_FULL_WAIT_MS 5           /* -r: at maxconn */

struct connback {
	os_sock_t sock;             /* -R listener, OS_BADSOCK if none */
	int stop;                   /* atomic */
};

int connback_parse(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hl;
	long p;
	char *end;

	if (s == NULL)
		return -1;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostcap || colon[1] == '\0')
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* Address of an option value; a name is resolved now. */
static int cb_address(const struct service *svc, const char *opt,
		      struct net_addr *out)
{
	char host[256];
	uint16_t port;

	if (connback_parse(opt, host, sizeof(host), &port) != 0)
		return -1;
	if (net_parse_ip(host, out) != 0 &&
	    resolve_name(svc->gen, host, svc->conf->family, out) != 0)
		return -1;
	net_set_port(out, port);
	return 0;
}

/* ---- -R: the public side ------------------------------------------------------ */

void connback_listen_start(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	struct connback *cb = calloc(1, sizeof(*cb));
	struct net_addr a;
	const char *what = "socket";
	char ebuf[128];
	int err = 0;

	if (cb == NULL)
		return;
	cb->sock = OS_BADSOCK;
	svc->connback = cb;
	if (cb_address(svc, sc->connback_listen, &a) != 0) {
		service_log(svc, ERR_BIND, "Connect back address %s is not "
			    "HOST:PORT", sc->connback_listen);
		return;
	}
	cb->sock = net_listen(&a, SOCK_STREAM, 1 + sc->maxconn / 16,
			      sc->opts_connback, sc->maxseg, &err, &what);
	if (cb->sock == OS_BADSOCK) {
		service_log(svc, ERR_BIND, "Connect back %s(): %s", what,
			    os_strerror(err, ebuf, sizeof(ebuf)));
		return;
	}
	if (os_sock_nonblock(cb->sock, 1) != 0) {
		os_sock_close(cb->sock);
		cb->sock = OS_BADSOCK;
	}
}

void connback_stop(struct service *svc)
{
	struct connback *cb = svc->connback;

	if (cb == NULL)
		return;
	os_atomic_store(&cb->stop, 1);
	/* wakes workers waiting in poll; the descriptor stays valid until
	 * connback_free() */
	if (cb->sock != OS_BADSOCK)
		(void)shutdown(cb->sock, 2);
}

void connback_free(struct service *svc)
{
	struct connback *cb = svc->connback;

	if (cb == NULL)
		return;
	if (cb->sock != OS_BADSOCK)
		os_sock_close(cb->sock);
	free(cb);
	svc->connback = NULL;
}

/* The ACL, with the connect-back peer as the destination. */
static int cb_acl(struct client *cl, const struct net_addr *peer)
{
	struct net_addr saved = cl->req.addr;
	char *host = cl->req.host;
	int rc;

	cl->req.addr = *peer;
	cl->req.host = NULL;
	rc = auth_authorize(cl);
	cl->req.addr = saved;
	cl->req.host = host;
	cl->parents = NULL;
	return rc;
}

/* A connection the private side closed while it waited in the accept
 * queue (a reload there, say).  The private side sends nothing before
 * 'C', so a readable socket is one that reached its end. */
static int cb_dead(os_sock_t s)
{
	os_pollfd_t p;
	char c;

	p.fd = s;
	p.events = POLLIN;
	p.revents = 0;
	if (os_poll(&p, 1, 0) <= 0)
		return 0;
	return sockio_recv_once(s, &c, 1, MSG_PEEK) <= 0;
}

int connback_take(struct client *cl)
{
	struct service *svc = cl->svc;
	const struct svc_conf *sc = cl->conf;
	struct connback *cb = svc->connback;
	int attempts = 5 + sc->maxconn / 1024, i;
	uint64_t deadline = os_monotonic_ms() +
			    (uint64_t)svc_timeout_ms(cl->gen, TO_CONNECTBACK);
	static const char cmd = 'C';

	for (i = 0; cb != NULL && cb->sock != OS_BADSOCK && i < attempts; i++) {
		struct sockaddr_storage ss;
		os_socklen_t sl = sizeof(ss);
		struct net_addr peer;
		os_pollfd_t p;
		os_sock_t s;
		uint64_t now = os_monotonic_ms();

		if (now >= deadline || os_atomic_load(&cb->stop))
			break;
		p.fd = cb->sock;
		p.events = POLLIN;
		p.revents = 0;
		if (os_poll(&p, 1, (int)(deadline - now)) <= 0)
			break;
		s = accept(cb->sock, (struct sockaddr *)&ss, &sl);
		if (s == OS_BADSOCK) {
			/* another worker took it first: wait for the next */
			if (!os_errno_is_wouldblock(os_sock_errno()))
				service_log(svc, ERR_CONNECT,
					    "Connect back accept() failed");
			continue;
		}
		net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
		if (cb_dead(s)) {
			/* not an attempt: the deadline bounds these */
			os_sock_close(s);
			i--;
			continue;
		}
		if (os_sock_nonblock(s, 0) != 0 || cb_acl(cl, &peer) != 0) {
			service_log(svc, ERR_CONNECT, "Connect back ACL failed");
			os_sock_close(s);
			continue;
		}
		if (sockio_write_all(s, &cmd, 1, svc_timeout_ms(cl->gen,
						 TO_STRING_SHORT)) != 0) {
			service_log(svc, ERR_CONNECT,
				    "Connect back sending command failed");
			os_sock_close(s);
			continue;
		}
		net_sockopts_apply(s, sc->opts_server, sc->maxseg);
		cl->srv_sock = s;
		cl->srv_peer = peer;
		sl = sizeof(ss);
		if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0)
			net_from_sockaddr(&cl->srv_local,
					  (struct sockaddr *)&ss, sl);
		return 0;
	}
	client_set_text(cl, "Connect back not received, check connback "
			"client");
	return ERR_CONNECT;
}

/* ---- -r: the private side ----------------------------------------------------- */

/* Wait for the 'C' of the public side, looking at `stop` meanwhile.
 * Returns 0 when it came. */
static int cb_wait_command(struct service *svc, os_sock_t s)
{
	uint64_t deadline = os_monotonic_ms() + CB_COMMAND_WAIT_MS;
	char c;

	while (!os_atomic_load(&svc->stop)) {
		uint64_t now = os_monotonic_ms();
		int n;

		if (now >= deadline)
			return -1;
		n = sockio_read_some(s, &c, 1, deadline - now > CB_POLL_MS
					       ? CB_POLL_MS
					       : (int)(deadline - now));
		if (n == SOCKIO_TIMEOUT)
			continue;
		return n == 1 && c == 'C' ? 0 : -1;
	}
	return -1;
}

/* A connect-back connection becomes a client, as an accepted one. */
static void cb_serve(struct service *svc, os_sock_t s)
{
	const struct svc_conf *sc = svc->conf;
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);
	struct net_addr peer;
	struct client *cl;
	char ebuf[128];

	memset(&peer, 0, sizeof(peer));
	if (getpeername(s, (struct sockaddr *)&ss, &sl) == 0)
		net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
	net_sockopts_apply(s, sc->opts_client, sc->maxseg);
	cl = client_new(svc, s, &peer);
	if (cl == NULL) {
		os_sock_close(s);
		return;
	}
	if (os_thread_detached(client_main, cl, sc->stacksize) != 0) {
		service_log(svc, 0, "pthread_create(): %s",
			    os_strerror(os_sock_errno(), ebuf, sizeof(ebuf)));
		client_finish(cl, ERR_NOMEM);
	}
}

void connback_client_loop(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	unsigned delay = 1;
	struct net_addr dst;
	const struct net_addr *src;
	os_sock_t s;
	int err;

	service_log(svc, 0, "Connecting back to %s [%lu/%lu]",
		    sc->connback_client, os_process_id(), os_thread_id());
	while (!os_atomic_load(&svc->stop)) {
		if (os_atomic_load(&svc->active) >= sc->maxconn) {
			os_sleep_ms(CB_FULL_WAIT_MS);
			continue;
		}
		s = OS_BADSOCK;
		if (cb_address(svc, sc->connback_client, &dst) == 0) {
			src = net_family(&dst) == AF_INET6 ? &sc->external6
							   : &sc->external4;
			s = net_connect(&dst, src,
					svc_timeout_ms(svc->gen, TO_CONNECTBACK),
					sc->opts_connback, sc->maxseg, &err);
		}
		if (s == OS_BADSOCK) {
			/* the public side is not there (yet): retry soon */
			os_sleep_ms(delay);
			if (delay < CB_RETRY_MAX_MS)
				delay *= 2;
			continue;
		}
		delay = 1;
		if (cb_wait_command(svc, s) != 0) {
			os_sock_close(s);
			continue;
		}
		cb_serve(svc, s);
	}
	service_log(svc, 0, "Exiting thread");
}
