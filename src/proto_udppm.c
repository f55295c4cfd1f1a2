/*
 * proto_udppm.c - udppm: map a local UDP port to a fixed target.
 *
 * The listener thread reads datagrams from the service socket.  Each new
 * client address gets a session: an outgoing UDP socket connected to the
 * target and a worker thread that sends the target's replies back to the
 * client from the service socket.  A session ends after STRING_LONG of
 * silence; with -s every datagram is its own session, ending after the
 * first reply (DNS-like services).
 *
 * When the ACE that allowed the session has a chain of parents, the
 * session's socket is connected to the UDP relay of the chain's SOCKS5
 * parent instead (parent_udp_open): datagrams go there behind a header
 * naming the target, and the header of the replies is removed.
 *
 * Bandwidth limits (limits.md 3): replies are paced, the worker not
 * reading the next one until the delay of the last has passed (the
 * kernel keeps what arrives meanwhile).  Client datagrams all arrive on
 * the one service socket, which cannot wait for one client: a client
 * datagram arriving while its session's delay lasts is dropped.
 *
 * Sessions are shared between the listener (which forwards client
 * datagrams on them) and their worker, so they are refcounted; the
 * session table has one mutex, held only for lookups and unlinking.
 */
#include "client.h"
#include "netns.h"
#include "resolve.h"
#include "errcode.h"
#include "limit.h"
#include "log.h"
#include "os.h"
#include "parent.h"
#include "service.h"
#include "socks_parse.h"

#include <stdlib.h>
#include <string.h>

#define UDP_POLL_MS 250
#define UDP_MAX_DGRAM 65536
#define UDP_HDR_MAX 32        /* a SOCKS5 UDP header with an IP address */

struct udp_table;

struct udp_session {
	struct client *cl;
	struct udp_table *t;
	int refs;                 /* atomic */
	uint64_t last_ms;         /* atomic-ish: last datagram either way */
	struct udp_session *next; /* in t->head, under t->lock */
	int linked;
	int err;                  /* atomic: the code the session ends with */
	int stop;                 /* atomic: the listener ended it */
	/* limits: from limit_relay_setup; resume_out is the listener's */
	relay_hook_fn hook;
	void *hook_arg;
	uint64_t resume_out;
	/* a SOCKS5 parent: its control connection, the target's header */
	os_sock_t ctl;
	uint8_t hdr[UDP_HDR_MAX];
	size_t hdr_len;
};

struct udp_table {
	struct service *svc;
	os_mutex_t lock;          /* guards head */
	struct udp_session *head;
	int count;                /* atomic: live sessions */
	uint8_t *wrap;            /* listener: header + datagram to a parent */
};

static int same_peer(const struct net_addr *a, const struct net_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static void session_unref(struct udp_session *s)
{
	struct udp_table *t = s->t;

	if (os_atomic_dec(&s->refs) != 0)
		return;
	if (s->ctl != OS_BADSOCK)
		os_sock_close(s->ctl);
	client_finish(s->cl, os_atomic_load(&s->err));
	free(s);
	os_atomic_dec(&t->count);
}

static void session_unlink(struct udp_session *s)
{
	struct udp_table *t = s->t;
	struct udp_session **pp;

	os_mutex_lock(&t->lock);
	for (pp = &t->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->linked = 0;
	os_mutex_unlock(&t->lock);
}

/* Find a session for a client address; returns it referenced. */
static struct udp_session *session_find(struct udp_table *t,
					const struct net_addr *peer)
{
	struct udp_session *s;

	os_mutex_lock(&t->lock);
	for (s = t->head; s != NULL; s = s->next)
		if (same_peer(&s->cl->cl_peer, peer))
			break;
	if (s != NULL)
		os_atomic_inc(&s->refs);
	os_mutex_unlock(&t->lock);
	return s;
}

/* Charge n bytes read in direction dir to the session's quotas and
 * pipes.  Returns 0 with the delay in *delay_ms, or the code that ends
 * the session. */
static int session_charge(struct udp_session *s, int dir, size_t n,
			  int *delay_ms)
{
	*delay_ms = 0;
	if (s->hook == NULL)
		return 0;
	return s->hook(s->hook_arg, dir, n, delay_ms);
}

/* Wait out a bandwidth delay (sleeping, a slice at a time so a stopping
 * service is noticed).  Returns 0, or ERR_RELAY_STALL when the delay is
 * as long as the idle timeout (limits.md 3). */
static int session_pace(struct service *svc, int delay_ms, int idle_ms)
{
	uint64_t until;

	if (delay_ms <= 0)
		return 0;
	if (delay_ms >= idle_ms)
		return ERR_RELAY_STALL;
	until = os_monotonic_ms() + (uint64_t)delay_ms;
	while (!os_atomic_load(&svc->stop)) {
		uint64_t now = os_monotonic_ms();

		if (now >= until)
			break;
		os_sleep_ms(until - now > UDP_POLL_MS ? UDP_POLL_MS
						      : (unsigned)(until - now));
	}
	return 0;
}

/* Wait for a reply (or the parent's control connection to end).
 * Returns 1 when one can be read, 0 on timeout, -1 to end the session. */
static int session_wait(struct udp_session *s)
{
	os_pollfd_t pfd[2];
	unsigned n = 1;

	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = s->cl->srv_sock;
	pfd[0].events = POLLIN;
	if (s->ctl != OS_BADSOCK) {
		pfd[1].fd = s->ctl;
		pfd[1].events = POLLIN;
		n = 2;
	}
	if (os_poll(pfd, n, UDP_POLL_MS) <= 0)
		return 0;
	if (n == 2 && pfd[1].revents != 0) {
		os_atomic_store(&s->err, ERR_SOCKS_UDP_REMOTE);
		return -1;
	}
	return pfd[0].revents != 0;
}

/* A reply through a parent carries a SOCKS5 UDP header: the data after
 * it, or -1 to drop a datagram without one. */
static long session_unwrap(const struct udp_session *s, char **data, long n)
{
	struct socks_target t;
	size_t hl;

	if (s->ctl == OS_BADSOCK)
		return n;
	if (socks5_parse_udp((const uint8_t *)*data, (size_t)n, &t, &hl) != 0)
		return -1;
	*data += hl;
	return n - (long)hl;
}

/* Worker: target -> client, until idle or stopped. */
static void session_main(void *arg)
{
	struct udp_session *s = arg;
	struct client *cl = s->cl;
	struct service *svc = s->t->svc;
	int idle = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	char *buf = malloc(UDP_MAX_DGRAM);

	while (buf != NULL && !os_atomic_load(&svc->stop) &&
	       !os_atomic_load(&s->stop)) {
		char *data = buf;
		int ready = session_wait(s), delay, rc;
		long n;

		if (ready < 0)
			break;
		if (ready == 0) {
			if (os_monotonic_ms() - os_atomic_load(&s->last_ms) >=
			    (uint64_t)idle)
				break;
			continue;
		}
		n = recv(cl->srv_sock, buf, UDP_MAX_DGRAM, 0);
		if (n < 0)
			continue;  /* e.g. ICMP port unreachable: keep going */
		n = session_unwrap(s, &data, n);
		if (n < 0)
			continue;
		cl->stats.bytes_from_server += (uint64_t)n;
		cl->stats.reads_from_server++;
		sendto(svc->sock, data, (size_t)n, 0,
		       (const struct sockaddr *)&cl->cl_peer.ss,
		       cl->cl_peer.len);
		os_atomic_store(&s->last_ms, os_monotonic_ms());
		rc = session_charge(s, RELAY_S2C, (size_t)n, &delay);
		if (rc == 0 && !cl->conf->single_packet)
			rc = session_pace(svc, delay, idle);
		if (rc != 0)
			os_atomic_store(&s->err, rc);
		if (rc != 0 || cl->conf->single_packet)
			break;
	}
	free(buf);
	session_unlink(s);
	session_unref(s);
}

/* Where the session's datagrams go: the target, or (an ACE with parents)
 * the UDP relay of the chain's SOCKS5 parent, with the header that names
 * the target kept in the session.  Returns 0 or a code. */
static int session_route(struct udp_session *s, const struct net_addr *dst,
			 struct net_addr *to)
{
	struct client *cl = s->cl;
	struct parent_udp pu;
	int rc;

	*to = *dst;
	if (cl->parents == NULL)
		return 0;
	rc = parent_udp_open(cl, cl->parents, &pu);
	if (rc != 0 || pu.ctl == OS_BADSOCK)
		return rc;
	s->ctl = pu.ctl;
	s->hdr_len = socks5_build_udp_header(s->hdr, sizeof(s->hdr), dst);
	if (s->hdr_len == 0)
		return ERR_NOT_SUPPORTED;
	*to = pu.relay;
	return 0;
}

/* The session's socket: bound to the external address, connected to
 * `to` so that only its datagrams reach it.  Returns 0 or a code. */
static int session_socket(struct client *cl, const struct net_addr *to)
{
	const struct svc_conf *sc = cl->conf;
	const struct net_addr *src;
	int prev = netns_thread_current();

	src = net_family(to) == AF_INET6 ? &sc->external6 : &sc->external4;
	/* -ne: the session socket faces the servers */
	netns_thread_use(sc->netns_out_fd);
	cl->srv_sock = netns_socket(net_family(to), SOCK_DGRAM, 0);
	netns_thread_use(prev);
	if (cl->srv_sock == OS_BADSOCK)
		return ERR_SOCKET;
	if (!net_is_any(src) &&
	    bind(cl->srv_sock, (const struct sockaddr *)&src->ss, src->len))
		return ERR_BIND;
	if (connect(cl->srv_sock, (const struct sockaddr *)&to->ss, to->len))
		return ERR_CONNECT;
	return 0;
}

/* Authorize a new client and find its target.  Returns 0 or a code. */
static int session_authorize(struct client *cl, struct net_addr *dst)
{
	const struct svc_conf *sc = cl->conf;
	int rc;

	cl->cl_local = sc->listen;
	cl->req.port = sc->target_port;
	cl->req.command = OP_UDPASSOC;
	rc = client_authorize(cl);
	if (rc != 0)
		return rc;   /* denied: datagrams are dropped */
	if (net_parse_ip(sc->target_host, dst) != 0 &&
	    resolve_name(cl->gen, sc->target_host, sc->family, dst) != 0)
		return ERR_HOST_NOT_FOUND;
	net_set_port(dst, sc->target_port);
	cl->req.addr = *dst;
	cl->srv_peer = *dst;
	return 0;
}

/* Attach the pipes and quotas the session's request matches. */
static void session_limits(struct udp_session *s)
{
	struct relay_opts o;

	relay_opts_default(&o);
	limit_relay_setup(s->cl, &o);
	s->hook = o.hook;
	s->hook_arg = o.hook_arg;
}

/* Create a session (referenced twice: its worker and the caller). */
static struct udp_session *session_new(struct udp_table *t,
				       const struct net_addr *peer)
{
	struct service *svc = t->svc;
	const struct svc_conf *sc = svc->conf;
	struct udp_session *s;
	struct client *cl;
	struct net_addr dst, to;
	int rc;

	cl = client_new(svc, OS_BADSOCK, peer);
	if (cl == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		client_finish(cl, ERR_NOMEM);
		return NULL;
	}
	s->cl = cl;
	s->t = t;
	s->ctl = OS_BADSOCK;
	rc = session_authorize(cl, &dst);
	if (rc == 0)
		rc = session_route(s, &dst, &to);
	if (rc == 0)
		rc = session_socket(cl, &to);
	if (rc != 0) {
		if (s->ctl != OS_BADSOCK)
			os_sock_close(s->ctl);
		free(s);
		client_finish(cl, rc);
		return NULL;
	}
	session_limits(s);
	s->refs = 2;
	s->last_ms = os_monotonic_ms();
	os_atomic_inc(&t->count);
	if (!sc->single_packet) {
		os_mutex_lock(&t->lock);
		s->next = t->head;
		t->head = s;
		s->linked = 1;
		os_mutex_unlock(&t->lock);
	}
	if (os_thread_detached(session_main, s, sc->stacksize) != 0) {
		session_unlink(s);
		s->refs = 1;
		return s;   /* caller's unref finishes it */
	}
	return s;
}

/* Send a client datagram on the session's socket, behind the target's
 * header when the socket leads to a parent.  Returns what send did. */
static long session_send(struct udp_table *t, struct udp_session *s,
			 const char *buf, long n)
{
	if (s->hdr_len == 0)
		return (long)send(s->cl->srv_sock, buf, (size_t)n, 0);
	if (t->wrap == NULL)
		return -1;
	memcpy(t->wrap, s->hdr, s->hdr_len);
	memcpy(t->wrap + s->hdr_len, buf, (size_t)n);
	return (long)send(s->cl->srv_sock, (const char *)t->wrap,
			  s->hdr_len + (size_t)n, 0);
}

static void forward_datagram(struct udp_table *t, const char *buf, long n,
			     const struct net_addr *peer)
{
	struct service *svc = t->svc;
	struct udp_session *s = NULL;

	if (!svc->conf->single_packet)
		s = session_find(t, peer);
	if (s == NULL) {
		if (os_atomic_load(&svc->active) >= svc->conf->maxconn)
			return;   /* full: drop, the client will retry */
		s = session_new(t, peer);
		if (s == NULL)
			return;
	}
	/* the shared service socket cannot wait for one client: a
	 * datagram within its session's bandwidth delay is dropped */
	if (s->hook != NULL && os_monotonic_ms() < s->resume_out) {
		session_unref(s);
		return;
	}
	if (session_send(t, s, buf, n) >= 0) {
		int delay, rc;

		s->cl->stats.bytes_from_client += (uint64_t)n;
		s->cl->stats.reads_from_client++;
		rc = session_charge(s, RELAY_C2S, (size_t)n, &delay);
		if (rc != 0) {
			os_atomic_store(&s->err, rc);
			os_atomic_store(&s->stop, 1);
		}
		s->resume_out = os_monotonic_ms() + (uint64_t)delay;
	}
	os_atomic_store(&s->last_ms, os_monotonic_ms());
	session_unref(s);
}

static void udppm_datagram(void *arg, const void *buf, size_t n,
			   const struct net_addr *peer)
{
	forward_datagram(arg, buf, (long)n, peer);
}

void proto_udppm_run(struct service *svc)
{
	struct udp_table t;

	memset(&t, 0, sizeof(t));
	t.svc = svc;
	t.wrap = malloc(UDP_HDR_MAX + UDP_MAX_DGRAM);
	os_mutex_init(&t.lock);
	service_dgram_loop(svc, UDP_MAX_DGRAM, udppm_datagram, &t, &t.count);
	os_mutex_destroy(&t.lock);
	free(t.wrap);
}
