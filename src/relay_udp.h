/*
 * relay_udp.h - the SOCKS5 UDP ASSOCIATE relay (RFC 1928 §7, services.md
 * §4.4).
 *
 * One association: a UDP socket on the client side, bound to the local
 * address the client's control connection reached, and up to two
 * remote-side UDP sockets (IPv4, IPv6) bound to the service's external
 * addresses, opened when first needed.  Client datagrams carry the SOCKS5
 * UDP header: it is removed, the destination is authorized (per change of
 * destination, as -U says) and the data sent on.  Datagrams from remote
 * hosts go back to the client with a header naming their source.
 *
 * When the ACE that allowed the current destination has a chain of
 * parents, the datagrams go instead to the UDP relay of the chain's
 * SOCKS5 parent (parent_udp_open), wrapped in a header naming the
 * destination, and only that relay's datagrams, whose header already
 * names their source, come back.  Bandwidth limits pace each direction:
 * after a datagram that needs a delay, that direction's sockets are not
 * read until it has passed (the kernel keeps what arrives meanwhile).
 *
 * The association belongs to the worker thread of its control
 * connection: no locks.  It ends when the control connection closes or
 * shows any event, on a fatal error, or after the idle timeout.
 */
#ifndef PX_RELAY_UDP_H
#define PX_RELAY_UDP_H

#include <stdint.h>
#include "net.h"
#include "parent.h"
#include "relay.h"
#include "socks_parse.h"

struct client;

struct relay_udp {
	os_sock_t cl_udp;            /* client side */
	os_sock_t remote4, remote6;  /* remote side, OS_BADSOCK until used */
	struct net_addr bound;       /* cl_udp's own address, for the reply */
	struct net_addr client;      /* the client's datagram source */
	int client_known;            /* client's source port is fixed */
	uint16_t want_port;          /* source port named in the request */
	int have_dst;                /* a destination was seen */
	int dst_err;                 /* its authorization result */
	struct socks_target dst;     /* the current destination ... */
	struct net_addr dst_addr;    /* ... and its address */
	/* the SOCKS5 parent of the current destination (parent.md 4.1) */
	const struct parent_list *up_list;  /* the chain `up` was built for */
	struct parent_udp up;        /* up.ctl OS_BADSOCK: direct */
	/* bandwidth limits and quotas (limits.md 3, 4) */
	relay_hook_fn hook;          /* NULL: none apply */
	void *hook_arg;
	uint64_t resume_ms[2];       /* by relay_dir_id: no reads before */
	int idle_ms;                 /* relay_udp_run's idle timeout */
};

/* Set every socket to OS_BADSOCK, so relay_udp_close is always safe. */
void relay_udp_init(struct relay_udp *u);

/* Open the client-side socket on `local` (the address only; the OS picks
 * the port) and remember who may use it: datagrams must come from the
 * IP of `peer`; when `hint` (the ASSOCIATE request's address) names that
 * IP with a non-zero port, from that port only.  Returns 0 or an
 * errcode.h code (ERR_SOCKET, ERR_BIND, ERR_GETSOCKNAME, and
 * ERR_NOT_SUPPORTED for a non-IP local address). */
int relay_udp_open(struct relay_udp *u, const struct net_addr *local,
		   const struct net_addr *peer,
		   const struct socks_target *hint);

/* Relay until the association ends.  Uses cl->cl_sock as the control
 * connection, cl->conf (-U mode, -4/-6, external addresses), updates
 * cl->req, cl->srv_peer, the %T text and cl->stats per destination, and
 * writes an interim record per change of destination when -U bit 1 is
 * set.  idle_ms: no datagram either way for that long ends it.
 * Returns 0 (control connection ended), ERR_RELAY_TIMEOUT, ERR_NOMEM,
 * ERR_SOCKET, ERR_BIND, ERR_HOST_NOT_FOUND, ERR_NOT_SUPPORTED, a
 * socks_err UDP code (481..486; 486 also when the parent's control
 * connection ends), ERR_LIMIT (quota), ERR_RELAY_STALL (a bandwidth
 * delay as long as idle_ms), or a parent_udp_open() code. */
int relay_udp_run(struct relay_udp *u, struct client *cl, int idle_ms);

/* Close every socket of the association. */
void relay_udp_close(struct relay_udp *u);

#endif
