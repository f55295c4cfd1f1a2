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
 * Sessions are shared between the listener (which forwards client
 * datagrams on them) and their worker, so they are refcounted; the
 * session table has one mutex, held only for lookups and unlinking.
 */
#include "client.h"
#include "resolve.h"
#include "errcode.h"
#include "log.h"
#include "os.h"
#include "service.h"

#include <stdlib.h>
#include <string.h>

#define UDP_POLL_MS 250
#define UDP_MAX_DGRAM 65536

struct udp_table;

struct udp_session {
	struct client *cl;
	struct udp_table *t;
	int refs;                 /* atomic */
	uint64_t last_ms;         /* atomic-ish: last datagram either way */
	struct udp_session *next; /* in t->head, under t->lock */
	int linked;
};

struct udp_table {
	struct service *svc;
	os_mutex_t lock;          /* guards head */
	struct udp_session *head;
	int count;                /* atomic: live sessions */
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
	client_finish(s->cl, 0);
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

/* Worker: target -> client, until idle or stopped. */
static void session_main(void *arg)
{
	struct udp_session *s = arg;
	struct client *cl = s->cl;
	struct service *svc = s->t->svc;
	int idle = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	char *buf = malloc(UDP_MAX_DGRAM);
	os_pollfd_t pfd;

	while (buf != NULL && !os_atomic_load(&svc->stop)) {
		long n;

		pfd.fd = cl->srv_sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (os_poll(&pfd, 1, UDP_POLL_MS) <= 0) {
			if (os_monotonic_ms() - os_atomic_load(&s->last_ms) >=
			    (uint64_t)idle)
				break;
			continue;
		}
		n = recv(cl->srv_sock, buf, UDP_MAX_DGRAM, 0);
		if (n < 0)
			continue;  /* e.g. ICMP port unreachable: keep going */
		cl->stats.bytes_from_server += (uint64_t)n;
		cl->stats.reads_from_server++;
		sendto(svc->sock, buf, (size_t)n, 0,
		       (const struct sockaddr *)&cl->cl_peer.ss,
		       cl->cl_peer.len);
		os_atomic_store(&s->last_ms, os_monotonic_ms());
		if (cl->conf->single_packet)
			break;
	}
	free(buf);
	session_unlink(s);
	session_unref(s);
}

/* Create a session (referenced twice: its worker and the caller). */
static struct udp_session *session_new(struct udp_table *t,
				       const struct net_addr *peer)
{
	struct service *svc = t->svc;
	const struct svc_conf *sc = svc->conf;
	const struct net_addr *src;
	struct udp_session *s;
	struct client *cl;
	struct net_addr dst;
	int rc;

	cl = client_new(svc, OS_BADSOCK, peer);
	if (cl == NULL)
		return NULL;
	cl->cl_local = sc->listen;
	cl->req.port = sc->target_port;
	cl->req.command = OP_UDPASSOC;
	rc = client_authorize(cl);
	if (rc != 0) {
		client_finish(cl, rc);   /* denied: datagrams are dropped */
		return NULL;
	}
	if (net_parse_ip(sc->target_host, &dst) != 0 &&
	    resolve_name(cl->gen, sc->target_host, sc->family, &dst) != 0) {
		client_finish(cl, ERR_HOST_NOT_FOUND);
		return NULL;
	}
	net_set_port(&dst, sc->target_port);
	cl->req.addr = dst;
	cl->srv_peer = dst;
	src = net_family(&dst) == AF_INET6 ? &sc->external6 : &sc->external4;
	cl->srv_sock = socket(net_family(&dst), SOCK_DGRAM, 0);
	if (cl->srv_sock == OS_BADSOCK) {
		client_finish(cl, ERR_SOCKET);
		return NULL;
	}
	if (!net_is_any(src) &&
	    bind(cl->srv_sock, (const struct sockaddr *)&src->ss, src->len)) {
		client_finish(cl, ERR_BIND);
		return NULL;
	}
	/* connect(): only the target's replies reach this socket. */
	if (connect(cl->srv_sock, (const struct sockaddr *)&dst.ss, dst.len)) {
		client_finish(cl, ERR_CONNECT);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		client_finish(cl, ERR_NOMEM);
		return NULL;
	}
	s->cl = cl;
	s->t = t;
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
	if (send(s->cl->srv_sock, buf, (size_t)n, 0) >= 0) {
		s->cl->stats.bytes_from_client += (uint64_t)n;
		s->cl->stats.reads_from_client++;
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
	os_mutex_init(&t.lock);
	service_dgram_loop(svc, UDP_MAX_DGRAM, udppm_datagram, &t, &t.count);
	os_mutex_destroy(&t.lock);
}
