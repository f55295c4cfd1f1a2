/*
 * relay_udp.c - the SOCKS5 UDP ASSOCIATE relay (see relay_udp.h).
 *
 * Owns the association's sockets and its one datagram buffer; does not
 * own the client or its control connection.  Runs on the worker thread
 * of the control connection only: no shared state, no locks.  Datagrams
 * are read UDP_HEADROOM bytes into the buffer, so a header can be put
 * in front of the data without copying it.
 */
#include "relay_udp.h"
#include "resolve.h"
#include "client.h"
#include "errcode.h"
#include "limit.h"
#include "service.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Room for the largest datagram plus the header put in front of a
 * remote datagram on its way to the client. */
#define UDP_HEADROOM 32
#define UDP_DGRAM_MAX 65536
#define UDP_BUF_SIZE (UDP_HEADROOM + UDP_DGRAM_MAX)

/* Dropping a datagram is not an error of the association. */
#define UDP_DROP (-1)

/* ---- system calls that differ on Windows ------------------------------ */

static long
udp_recvfrom(os_sock_t s, uint8_t *buf, size_t len, struct net_addr *from)
{
	struct sockaddr_storage ss;
	os_socklen_t sl = (os_socklen_t)sizeof(ss);
	long n;

#ifdef _WIN32
	n = recvfrom(s, (char *)buf, (int)len, 0, (struct sockaddr *)&ss, &sl);
#else
	n = (long)recvfrom(s, buf, len, 0, (struct sockaddr *)&ss, &sl);
#endif
	if (n >= 0)
		net_from_sockaddr(from, (struct sockaddr *)&ss, sl);
	return n;
}

static long
udp_sendto(os_sock_t s, const uint8_t *buf, size_t len,
	   const struct net_addr *to)
{
#ifdef _WIN32
	return sendto(s, (const char *)buf, (int)len, 0,
		      (const struct sockaddr *)&to->ss, to->len);
#else
	return (long)sendto(s, buf, len, 0, (const struct sockaddr *)&to->ss,
			    to->len);
#endif
}

/* Errors that concern one datagram only: an ICMP error reported on the
 * socket (Windows reports port unreachable on the next recvfrom). */
static int
udp_err_transient(int e)
{
	if (os_errno_is_wouldblock(e) || os_errno_is_intr(e))
		return 1;
#ifdef _WIN32
	return e == WSAECONNRESET || e == WSAECONNREFUSED || e == WSAEMSGSIZE;
#else
	return e == ECONNREFUSED || e == ECONNRESET;
#endif
}

static os_sock_t
udp_socket(int family)
{
#if defined(SOCK_CLOEXEC) && !defined(_WIN32)
	return socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
	return socket(family, SOCK_DGRAM, 0);
#endif
}

/* ---- addresses -------------------------------------------------------- */

static int
same_target(const struct socks_target *a, const struct socks_target *b)
{
	if (a->atyp != b->atyp || a->port != b->port)
		return 0;
	if (a->atyp == SOCKS_ATYP_DOMAIN)
		return strcmp(a->host, b->host) == 0;
	return memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

/* ---- set-up and tear-down ---------------------------------------------- */

void
relay_udp_init(struct relay_udp *u)
{
	memset(u, 0, sizeof(*u));
	u->cl_udp = OS_BADSOCK;
	u->remote4 = OS_BADSOCK;
	u->remote6 = OS_BADSOCK;
	u->up.ctl = OS_BADSOCK;
}

/* A socket of the address's family bound to it with port 0. */
static int
udp_bind(const struct net_addr *addr, os_sock_t *out)
{
	struct net_addr a = *addr;
	os_sock_t s;

	*out = OS_BADSOCK;
	s = udp_socket(net_family(&a));
	if (s == OS_BADSOCK)
		return ERR_SOCKET;
	net_set_port(&a, 0);
	if (bind(s, (const struct sockaddr *)&a.ss, a.len) != 0 ||
	    os_sock_nonblock(s, 1) != 0) {
		os_sock_close(s);
		return ERR_BIND;
	}
	*out = s;
	return 0;
}

int
relay_udp_open(struct relay_udp *u, const struct net_addr *local,
	       const struct net_addr *peer, const struct socks_target *hint)
{
	struct sockaddr_storage ss;
	os_socklen_t sl = (os_socklen_t)sizeof(ss);
	struct net_addr h;
	int rc;

	if (net_family(local) != AF_INET && net_family(local) != AF_INET6)
		return ERR_NOT_SUPPORTED;
	rc = udp_bind(local, &u->cl_udp);
	if (rc != 0)
		return rc;
	if (getsockname(u->cl_udp, (struct sockaddr *)&ss, &sl) != 0)
		return ERR_GETSOCKNAME;
	net_from_sockaddr(&u->bound, (struct sockaddr *)&ss, sl);
	u->client = *peer;
	/* RFC 1928 §7: the request names the client's source, or zeros. */
	if (socks_target_addr(hint, &h) == 0 && net_same_host(&h, peer))
		u->want_port = hint->port;
	return 0;
}

void
relay_udp_close(struct relay_udp *u)
{
	if (u->cl_udp != OS_BADSOCK)
		os_sock_close(u->cl_udp);
	if (u->remote4 != OS_BADSOCK)
		os_sock_close(u->remote4);
	if (u->remote6 != OS_BADSOCK)
		os_sock_close(u->remote6);
	if (u->up.ctl != OS_BADSOCK)
		os_sock_close(u->up.ctl);
	u->cl_udp = u->remote4 = u->remote6 = u->up.ctl = OS_BADSOCK;
	u->up_list = NULL;
}

/* The remote-side socket for a family, opened and bound to the service's
 * external address on first use. */
static int
udp_remote(struct relay_udp *u, const struct client *cl, int family,
	   os_sock_t *out)
{
	const struct svc_conf *sc = cl->conf;
	os_sock_t *slot = family == AF_INET6 ? &u->remote6 : &u->remote4;
	const struct net_addr *ext;
	struct net_addr any;

	if (*slot == OS_BADSOCK) {
		ext = family == AF_INET6 ? &sc->external6 : &sc->external4;
		if (net_family(ext) != family) {
			const char *v = family == AF_INET6 ? "::" : "0.0.0.0";

			(void)net_parse_ip(v, &any);
			ext = &any;
		}
		if (udp_bind(ext, slot) != 0)
			return ERR_BIND;
	}
	*out = *slot;
	return 0;
}

/* ---- destinations ------------------------------------------------------ */

/* Address of a datagram's destination: a name is resolved with the
 * service's family preference; with -6 IPv4 is mapped (services.md
 * §4.1). */
static int
udp_dest_addr(const struct client *cl, const struct socks_target *t,
	      struct net_addr *out)
{
	enum net_family_pref fam = cl->conf->family;

	if (t->atyp == SOCKS_ATYP_DOMAIN) {
		if (resolve_name(cl->gen, t->host, fam, out) != 0)
			return ERR_HOST_NOT_FOUND;
		net_set_port(out, t->port);
		return 0;
	}
	(void)socks_target_addr(t, out);
	if (fam == NET_PREF_6)
		socks_addr_map_v6(out);
	return 0;
}

/* Make t the request of the client: host, port, address, %R, %T. */
static int
udp_set_request(struct client *cl, const struct socks_target *t,
		const struct net_addr *addr)
{
	char text[SOCKS_NAME_MAX + 32];
	char *host = NULL;

	if (t->atyp == SOCKS_ATYP_DOMAIN) {
		host = strdup(t->host);
		if (host == NULL)
			return ERR_NOMEM;
	}
	free(cl->req.host);
	cl->req.host = host;
	cl->req.port = t->port;
	cl->req.addr = *addr;
	cl->srv_peer = *addr;
	socks_target_text(t, "UDPMAP", text, sizeof(text));
	client_set_text(cl, text);
	return 0;
}

/* After an allowed destination: attach the bandwidth pipes and quotas
 * its request matches, and reach it through the parents of the ACE that
 * allowed it (a new chain only when that ACE's chain changed). */
static int
udp_dest_setup(struct relay_udp *u, struct client *cl)
{
	struct relay_opts o;
	int rc = 0;

	relay_opts_default(&o);
	limit_relay_setup(cl, &o);
	u->hook = o.hook;
	u->hook_arg = o.hook_arg;
	if (cl->parents == u->up_list)
		return 0;
	if (u->up.ctl != OS_BADSOCK)
		os_sock_close(u->up.ctl);
	u->up.ctl = OS_BADSOCK;
	u->up_list = cl->parents;
	if (cl->parents != NULL)
		rc = parent_udp_open(cl, cl->parents, &u->up);
	if (rc != 0)
		u->up_list = NULL;
	return rc;
}

/* Charge n payload bytes read in direction dir to the quotas and pipes;
 * a delay holds further reads in that direction (limits.md 3). */
static int
udp_charge(struct relay_udp *u, int dir, size_t n)
{
	int delay = 0, rc;

	if (u->hook == NULL)
		return 0;
	rc = u->hook(u->hook_arg, dir, n, &delay);
	if (rc != 0)
		return rc;
	if (delay > 0) {
		if (u->idle_ms > 0 && delay >= u->idle_ms)
			return ERR_RELAY_STALL;
		u->resume_ms[dir] = os_monotonic_ms() + (uint64_t)delay;
	}
	return 0;
}

/*
 * The datagram goes to t.  A new destination is, by -U (services.md
 * §4.4), logged (bit 1: a record for the previous one) and authorized
 * (bit 2; the first destination always is).  Returns 0 to send, UDP_DROP
 * for a denied destination, or a code that ends the association.
 */
static int
udp_dest(struct relay_udp *u, struct client *cl, const struct socks_target *t)
{
	int mode = cl->conf->udp_mode;
	struct net_addr addr;
	int first = !u->have_dst;
	int rc;

	if (u->have_dst && same_target(&u->dst, t))
		return u->dst_err == 0 ? 0 : UDP_DROP;
	/* a name we cannot resolve may still go to a socks5+ parent: it
	 * is known only once the destination is authorized */
	memset(&addr, 0, sizeof(addr));
	if (udp_dest_addr(cl, t, &addr) != 0)
		memset(&addr, 0, sizeof(addr));
	if (!first && (mode & 1)) {
		client_log(cl, u->dst_err);
		/* An interim record: the end of the association still gets
		 * its own (logging.md §5). */
		cl->logged = 0;
	}
	rc = udp_set_request(cl, t, &addr);
	if (rc != 0)
		return rc;
	u->dst = *t;
	u->dst_addr = addr;
	u->have_dst = 1;
	u->dst_err = 0;
	if (first || (mode & 2))
		u->dst_err = client_authorize(cl);
	if (u->dst_err != 0)
		return UDP_DROP;
	rc = udp_dest_setup(u, cl);
	if (rc == 0 && addr.len == 0 &&
	    (u->up.ctl == OS_BADSOCK || !u->up.plus))
		rc = ERR_HOST_NOT_FOUND;
	return rc;
}

/* ---- the two directions ------------------------------------------------- */

/* Is this datagram from the client?  The first one fixes its port. */
static int
udp_from_our_client(struct relay_udp *u, const struct net_addr *src)
{
	if (!net_same_host(src, &u->client))
		return 0;
	if (u->client_known)
		return net_get_port(src) == net_get_port(&u->client);
	if (u->want_port != 0 && net_get_port(src) != u->want_port)
		return 0;
	u->client = *src;
	u->client_known = 1;
	return 1;
}

/* Send the client datagram d (n bytes, SOCKS header of hlen bytes) on:
 * its data to the destination, or to the parent's relay with a header
 * naming the destination (a name only to a socks5+ parent, as the
 * client sent it; else the address).  There are UDP_HEADROOM bytes of
 * room in front of d. */
static int
udp_send_out(struct relay_udp *u, struct client *cl,
	     const struct socks_target *t, uint8_t *d, size_t n, size_t hlen)
{
	const struct net_addr *to = &u->dst_addr;
	uint8_t *p = d + hlen, hdr[UDP_HEADROOM];
	size_t len = n - hlen, hl;
	os_sock_t out;
	int rc;

	if (u->up.ctl != OS_BADSOCK) {
		to = &u->up.relay;
		if (u->up.plus && t->atyp == SOCKS_ATYP_DOMAIN) {
			p = d;
			len = n;
		} else {
			hl = socks5_build_udp_header(hdr, sizeof(hdr),
						     &u->dst_addr);
			if (hl == 0)
				return 0;
			p = d + hlen - hl;
			memcpy(p, hdr, hl);
			len += hl;
		}
	}
	rc = udp_remote(u, cl, net_family(to), &out);
	if (rc != 0)
		return rc;
	if (udp_sendto(out, p, len, to) < 0)
		return 0;
	os_atomic_add(&cl->stats.bytes_from_client, (uint64_t)(n - hlen));
	os_atomic_inc(&cl->stats.reads_from_client);
	return udp_charge(u, RELAY_C2S, n - hlen);
}

/* One datagram from the client side.  Returns 0 (sent or dropped), or a
 * code that ends the association. */
static int
udp_client_dgram(struct relay_udp *u, struct client *cl, uint8_t *buf,
		 int *active)
{
	uint8_t *d = buf + UDP_HEADROOM;
	struct socks_target t;
	struct net_addr src;
	size_t hlen;
	long n;
	int rc;

	n = udp_recvfrom(u->cl_udp, d, UDP_DGRAM_MAX, &src);
	if (n < 0 && udp_err_transient(os_sock_errno()))
		return 0;
	if (n < 0)
		return ERR_SOCKS_UDP_CLIENT;
	if (!udp_from_our_client(u, &src))
		return 0;
	rc = socks5_parse_udp(d, (size_t)n, &t, &hlen);
	if (rc == SOCKS_UDP_FRAGMENT)
		return 0;
	if (rc == 0)
		rc = udp_dest(u, cl, &t);
	if (rc == UDP_DROP)
		return 0;
	if (rc != 0)
		return rc;
	*active = 1;
	return udp_send_out(u, cl, &t, d, (size_t)n, hlen);
}

/* Is src the parent's relay (address and port)? */
static int
udp_from_parent(const struct relay_udp *u, const struct net_addr *src)
{
	return net_same_host(src, &u->up.relay) &&
	       net_get_port(src) == net_get_port(&u->up.relay);
}

/* One datagram from a remote host, sent on to the client with a header
 * naming its source.  Without a parent any source is accepted; with one,
 * only its relay, whose datagrams carry that header already. */
static int
udp_remote_dgram(struct relay_udp *u, struct client *cl, os_sock_t s,
		 uint8_t *buf, int *active)
{
	uint8_t hdr[UDP_HEADROOM], *d = buf + UDP_HEADROOM;
	struct socks_target t;
	struct net_addr src;
	size_t hl;
	long n;

	n = udp_recvfrom(s, d, UDP_DGRAM_MAX, &src);
	if (n < 0 && udp_err_transient(os_sock_errno()))
		return 0;
	if (n < 0)
		return ERR_SOCKS_UDP_REMOTE;
	if (!u->client_known)
		return 0;
	if (u->up.ctl != OS_BADSOCK) {
		if (!udp_from_parent(u, &src) ||
		    socks5_parse_udp(d, (size_t)n, &t, &hl) != 0)
			return 0;
	} else {
		hl = socks5_build_udp_header(hdr, sizeof(hdr), &src);
		if (hl == 0)
			return 0;
		d -= hl;
		memcpy(d, hdr, hl);
		n += (long)hl;
	}
	*active = 1;
	if (udp_sendto(u->cl_udp, d, (size_t)n, &u->client) < 0)
		return 0;
	/* n - hl: the data, without the header */
	n -= (long)hl;
	os_atomic_add(&cl->stats.bytes_from_server, (uint64_t)n);
	os_atomic_inc(&cl->stats.reads_from_server);
	return udp_charge(u, RELAY_S2C, (size_t)n);
}

/* ---- the loop ----------------------------------------------------------- */

/* What a poll entry is. */
enum udp_role { UR_CONTROL, UR_PARENT, UR_CLIENT, UR_REMOTE };
#define UDP_POLL_MAX 5

static void
udp_poll_add(os_pollfd_t *p, int *role, unsigned *n, os_sock_t s, int r)
{
	p[*n].fd = s;
	p[*n].events = POLLIN;
	p[*n].revents = 0;
	role[(*n)++] = r;
}

/* Fill the poll set: the control connections, then the client side and
 * the open remote sides unless a bandwidth delay holds their direction.
 * Returns the number of entries. */
static unsigned
udp_pollset(const struct relay_udp *u, const struct client *cl,
	    os_pollfd_t *p, int *role, uint64_t now)
{
	unsigned n = 0;

	udp_poll_add(p, role, &n, cl->cl_sock, UR_CONTROL);
	if (u->up.ctl != OS_BADSOCK)
		udp_poll_add(p, role, &n, u->up.ctl, UR_PARENT);
	if (now >= u->resume_ms[RELAY_C2S])
		udp_poll_add(p, role, &n, u->cl_udp, UR_CLIENT);
	if (now < u->resume_ms[RELAY_S2C])
		return n;
	if (u->remote4 != OS_BADSOCK)
		udp_poll_add(p, role, &n, u->remote4, UR_REMOTE);
	if (u->remote6 != OS_BADSOCK)
		udp_poll_add(p, role, &n, u->remote6, UR_REMOTE);
	return n;
}

/* How long poll may wait: until the idle timeout or the end of a
 * bandwidth delay, whichever comes first (-1: forever). */
static int
udp_poll_ms(const struct relay_udp *u, uint64_t now, uint64_t idle)
{
	int ms = u->idle_ms > 0 ? u->idle_ms - (int)idle : -1;

	for (int d = 0; d < 2; d++) {
		if (now < u->resume_ms[d] &&
		    (ms < 0 || u->resume_ms[d] - now < (uint64_t)ms))
			ms = (int)(u->resume_ms[d] - now);
	}
	return ms;
}

/* Serve the ready sockets of one poll round.  Returns 0 to go on, or the
 * code that ends the association (the control connection: 0 via *done). */
static int
udp_round(struct relay_udp *u, struct client *cl, const os_pollfd_t *p,
	  const int *role, unsigned n, uint8_t *buf, int *active, int *done)
{
	const short ready = POLLIN | POLLERR | POLLHUP | POLLNVAL;
	int rc = 0;

	/* RFC 1928 §7: the association ends with its TCP connection; as
	 * in 3proxy, any event on it ends the association.  The parent's
	 * association ends with its own. */
	for (unsigned i = 0; i < n; i++) {
		if (role[i] == UR_CONTROL && p[i].revents != 0) {
			*done = 1;
			return 0;
		}
		if (role[i] == UR_PARENT && p[i].revents != 0)
			return ERR_SOCKS_UDP_REMOTE;
	}
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if (!(p[i].revents & ready))
			continue;
		if (role[i] == UR_CLIENT)
			rc = udp_client_dgram(u, cl, buf, active);
		else if (role[i] == UR_REMOTE)
			rc = udp_remote_dgram(u, cl, p[i].fd, buf, active);
	}
	return rc;
}

int
relay_udp_run(struct relay_udp *u, struct client *cl, int idle_ms)
{
	uint8_t *buf = malloc(UDP_BUF_SIZE);
	uint64_t last = os_monotonic_ms();
	os_pollfd_t p[UDP_POLL_MAX];
	int role[UDP_POLL_MAX];
	int rc = 0, done = 0;

	if (buf == NULL)
		return ERR_NOMEM;
	u->idle_ms = idle_ms;
	while (rc == 0 && !done) {
		uint64_t now = os_monotonic_ms(), idle = now - last;
		int active = 0, k;
		unsigned n;

		if (idle_ms > 0 && idle >= (uint64_t)idle_ms) {
			rc = ERR_RELAY_TIMEOUT;
			break;
		}
		n = udp_pollset(u, cl, p, role, now);
		k = os_poll(p, n, udp_poll_ms(u, now, idle));
		if (k < 0) {
			if (!os_errno_is_intr(os_sock_errno()))
				rc = ERR_SOCKS_UDP_POLL;
			continue;
		}
		if (k > 0)
			rc = udp_round(u, cl, p, role, n, buf, &active, &done);
		if (active)
			last = os_monotonic_ms();
	}
	free(buf);
	return rc;
}
