/*
 * relay_udp.c - the SOCKS5 UDP ASSOCIATE relay (see relay_udp.h).
 *
 * Owns the association's sockets and its one datagram buffer; does not
 * own the client or its control connection.  Runs on the worker thread
 * of the control connection only: no shared state, no locks.
 */
#include "relay_udp.h"
#include "resolve.h"
#include "client.h"
#include "errcode.h"
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
	if (socks_target_addr(hint, &h) == 0 && socks_addr_same_ip(&h, peer))
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
	u->cl_udp = u->remote4 = u->remote6 = OS_BADSOCK;
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
	rc = udp_dest_addr(cl, t, &addr);
	if (rc != 0)
		return rc;
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
	return u->dst_err == 0 ? 0 : UDP_DROP;
}

/* ---- the two directions ------------------------------------------------- */

/* Is this datagram from the client?  The first one fixes its port. */
static int
udp_from_our_client(struct relay_udp *u, const struct net_addr *src)
{
	if (!socks_addr_same_ip(src, &u->client))
		return 0;
	if (u->client_known)
		return net_get_port(src) == net_get_port(&u->client);
	if (u->want_port != 0 && net_get_port(src) != u->want_port)
		return 0;
	u->client = *src;
	u->client_known = 1;
	return 1;
}

/* One datagram from the client side.  Returns 0 (sent or dropped), or a
 * code that ends the association. */
static int
udp_client_dgram(struct relay_udp *u, struct client *cl, uint8_t *buf,
		 int *active)
{
	struct socks_target t;
	struct net_addr src;
	size_t hlen;
	os_sock_t out;
	long n;
	int rc;

	n = udp_recvfrom(u->cl_udp, buf, UDP_DGRAM_MAX, &src);
	if (n < 0 && udp_err_transient(os_sock_errno()))
		return 0;
	if (n < 0)
		return ERR_SOCKS_UDP_CLIENT;
	if (!udp_from_our_client(u, &src))
		return 0;
	rc = socks5_parse_udp(buf, (size_t)n, &t, &hlen);
	if (rc == SOCKS_UDP_FRAGMENT)
		return 0;
	if (rc == 0)
		rc = udp_dest(u, cl, &t);
	if (rc == UDP_DROP)
		return 0;
	if (rc == 0)
		rc = udp_remote(u, cl, net_family(&u->dst_addr), &out);
	if (rc != 0)
		return rc;
	*active = 1;
	if (udp_sendto(out, buf + hlen, (size_t)n - hlen, &u->dst_addr) >= 0) {
		os_atomic_add(&cl->stats.bytes_from_client, (uint64_t)n - hlen);
		os_atomic_inc(&cl->stats.reads_from_client);
	}
	return 0;
}

/* One datagram from a remote host, sent on to the client with a header
 * naming its source.  Any source is accepted (no parent). */
static int
udp_remote_dgram(struct relay_udp *u, struct client *cl, os_sock_t s,
		 uint8_t *buf, int *active)
{
	uint8_t hdr[UDP_HEADROOM];
	struct net_addr src;
	size_t hl;
	long n;

	n = udp_recvfrom(s, buf + UDP_HEADROOM, UDP_DGRAM_MAX, &src);
	if (n < 0 && udp_err_transient(os_sock_errno()))
		return 0;
	if (n < 0)
		return ERR_SOCKS_UDP_REMOTE;
	hl = socks5_build_udp_header(hdr, sizeof(hdr), &src);
	if (hl == 0 || !u->client_known)
		return 0;
	memcpy(buf + UDP_HEADROOM - hl, hdr, hl);
	*active = 1;
	if (udp_sendto(u->cl_udp, buf + UDP_HEADROOM - hl, hl + (size_t)n,
		       &u->client) >= 0) {
		os_atomic_add(&cl->stats.bytes_from_server, (uint64_t)n);
		os_atomic_inc(&cl->stats.reads_from_server);
	}
	return 0;
}

/* ---- the loop ----------------------------------------------------------- */

/* Fill the poll set: control, client side, then the open remote sides.
 * Returns the number of entries. */
static unsigned
udp_pollset(const struct relay_udp *u, const struct client *cl,
	    os_pollfd_t *p)
{
	unsigned n = 0;

	memset(p, 0, 4 * sizeof(*p));
	p[n++].fd = cl->cl_sock;
	p[n++].fd = u->cl_udp;
	if (u->remote4 != OS_BADSOCK)
		p[n++].fd = u->remote4;
	if (u->remote6 != OS_BADSOCK)
		p[n++].fd = u->remote6;
	for (unsigned i = 0; i < n; i++)
		p[i].events = POLLIN;
	return n;
}

/* Serve the ready sockets of one poll round.  Returns 0 to go on, or the
 * code that ends the association (the control connection: 0 via *done). */
static int
udp_round(struct relay_udp *u, struct client *cl, const os_pollfd_t *p,
	  unsigned n, uint8_t *buf, int *active, int *done)
{
	const short ready = POLLIN | POLLERR | POLLHUP | POLLNVAL;
	int rc = 0;

	/* RFC 1928 §7: the association ends with its TCP connection; as
	 * in 3proxy, any event on it ends the association. */
	if (p[0].revents != 0) {
		*done = 1;
		return 0;
	}
	if (p[1].revents & ready)
		rc = udp_client_dgram(u, cl, buf, active);
	for (unsigned i = 2; rc == 0 && i < n; i++)
		if (p[i].revents & ready)
			rc = udp_remote_dgram(u, cl, p[i].fd, buf, active);
	return rc;
}

int
relay_udp_run(struct relay_udp *u, struct client *cl, int idle_ms)
{
	uint8_t *buf = malloc(UDP_BUF_SIZE);
	uint64_t last = os_monotonic_ms();
	os_pollfd_t p[4];
	int rc = 0, done = 0;

	if (buf == NULL)
		return ERR_NOMEM;
	while (rc == 0 && !done) {
		uint64_t idle = os_monotonic_ms() - last;
		int active = 0, k;
		unsigned n;

		if (idle_ms > 0 && idle >= (uint64_t)idle_ms) {
			rc = ERR_RELAY_TIMEOUT;
			break;
		}
		n = udp_pollset(u, cl, p);
		k = os_poll(p, n, idle_ms > 0 ? idle_ms - (int)idle : -1);
		if (k < 0) {
			if (!os_errno_is_intr(os_sock_errno()))
				rc = ERR_SOCKS_UDP_POLL;
			continue;
		}
		if (k > 0)
			rc = udp_round(u, cl, p, n, buf, &active, &done);
		if (active)
			last = os_monotonic_ms();
	}
	free(buf);
	return rc;
}
