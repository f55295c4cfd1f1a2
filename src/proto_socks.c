/*
 * proto_socks.c - socks: SOCKS 4, 4a and 5 with CONNECT, BIND and UDP
 * ASSOCIATE (RFC 1928, RFC 1929; services.md §4).
 *
 * The handler reads each message with bounded, timed reads (the first
 * byte within BYTE_LONG, the rest within BYTE_SHORT per read and
 * BYTE_LONG in all), parses it with the pure socks_parse.c functions,
 * authorizes, connects, replies and relays.  It owns a small heap context
 * for the connection, the BIND listening socket and the UDP association;
 * the client itself is released by client_finish() only.  Runs on the
 * client's worker thread: no shared state, no locks.
 */
#include "auth.h"
#include "resolve.h"
#include "client.h"
#include "filter.h"
#include "errcode.h"
#include "iolayer.h"
#include "relay_udp.h"
#include "service.h"
#include "socks_parse.h"
#include "sockio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define SOCKS_ECONNREFUSED WSAECONNREFUSED
#define SOCKS_EHOSTUNREACH WSAEHOSTUNREACH
#define SOCKS_ENETUNREACH WSAENETUNREACH
#define SOCKS_ETIMEDOUT WSAETIMEDOUT
#else
#define SOCKS_ECONNREFUSED ECONNREFUSED
#define SOCKS_EHOSTUNREACH EHOSTUNREACH
#define SOCKS_ENETUNREACH ENETUNREACH
#define SOCKS_ETIMEDOUT ETIMEDOUT
#endif

/* The largest message read: a SOCKS4a request with the longest user id
 * and name (the SOCKS5 messages are shorter). */
#define SOCKS_MSG_MAX SOCKS4_REQUEST_MAX
/* After a failure reply: how much late input to drain before closing,
 * so the close does not turn into a reset that could discard the reply
 * on the client's side. */
#define SOCKS_DRAIN_MAX 16384

int proto_socks_handle(struct client *cl);

/* One connection's SOCKS state.  On the heap: worker stacks are small. */
struct socks_ctx {
	struct client *cl;
	uint8_t version;              /* 4 or 5 */
	int short_read;               /* the last message was cut short */
	struct socks_request req;
	uint8_t buf[SOCKS_MSG_MAX];   /* the message being read, and
					 what the client sent after it */
	size_t n;                     /* bytes in buf */
	size_t msg_len;               /* length of the parsed message */
	int relay_next;               /* CONNECT granted: relay once freed */
};

/* The context is freed before the relay starts.  glibc keeps a freed
 * block of up to 1032 bytes in the freeing thread's own cache, where no
 * other thread can reuse it: an idle tunnel's thread would pin it for
 * the tunnel's whole life.  A larger block goes back to the shared
 * arena and serves the next connection. */
#define SOCKS_CTX_ALLOC \
	(sizeof(struct socks_ctx) > 1040 ? sizeof(struct socks_ctx) : 1040)

enum socks_msg { MSG_METHODS, MSG_AUTH, MSG_REQUEST5, MSG_REQUEST4 };

/* Stores the compiler may not drop: buf may have held a password. */
static void
socks_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* ---- reading ----------------------------------------------------------- */

static int
socks_parse_msg(struct socks_ctx *sx, enum socks_msg k, void *out,
		size_t *need)
{
	switch (k) {
	case MSG_METHODS:
		return socks5_parse_methods(sx->buf, sx->n, out, need);
	case MSG_AUTH:
		return socks5_parse_auth(sx->buf, sx->n, out, need);
	case MSG_REQUEST5:
		return socks5_parse_request(sx->buf, sx->n, out, need);
	case MSG_REQUEST4:
		break;
	}
	return socks4_parse_request(sx->buf, sx->n, out, need);
}

/* Timeout for the next read of a message: BYTE_LONG for its first byte;
 * then BYTE_SHORT, but never past BYTE_LONG after the first byte, so a
 * trickling client cannot hold the worker for long. */
static int
socks_read_timeout(const struct socks_ctx *sx, uint64_t deadline)
{
	int t_short = svc_timeout_ms(sx->cl->gen, TO_BYTE_SHORT);
	uint64_t now = os_monotonic_ms();
	uint64_t left = deadline > now ? deadline - now : 0;

	if (sx->n == 0)
		return svc_timeout_ms(sx->cl->gen, TO_BYTE_LONG);
	return left < (uint64_t)t_short ? (int)left : t_short;
}

/*
 * Read one message into sx->buf (sx->n bytes of it may be there) until
 * the parser of kind k is satisfied.  Each read takes whatever has come,
 * up to the buffer's size: a whole message is usually one recv().  Bytes
 * after the message stay in sx->buf (socks_consume, socks_keep_rest).
 * Returns the parser's result (sx->msg_len is the message's length when
 * it is 0); sx->short_read tells a message cut short by the client
 * (closed, timed out) from a bad one.
 */
static int
socks_read_msg(struct socks_ctx *sx, enum socks_msg k, void *out)
{
	int t_long = svc_timeout_ms(sx->cl->gen, TO_BYTE_LONG);
	uint64_t deadline = os_monotonic_ms() + (uint64_t)t_long;
	size_t need;
	int rc, got;

	sx->short_read = 0;
	for (;;) {
		rc = socks_parse_msg(sx, k, out, &need);
		if (rc == 0)
			sx->msg_len = need;
		if (rc == 0 || need <= sx->n || need > sizeof(sx->buf))
			return rc;
		got = sockio_read_some(sx->cl->cl_sock, sx->buf + sx->n,
				       sizeof(sx->buf) - sx->n,
				       socks_read_timeout(sx, deadline));
		if (got <= 0) {
			sx->short_read = 1;
			return rc;
		}
		/* the first byte may take BYTE_LONG; the rest must follow
		 * within BYTE_LONG of it */
		if (sx->n == 0)
			deadline = os_monotonic_ms() + (uint64_t)t_long;
		sx->n += (size_t)got;
	}
}

/* Drop the parsed message from the front of sx->buf, keeping what the
 * client sent after it for the next message.  The bytes freed are wiped
 * (the message may have held a password). */
static void
socks_consume(struct socks_ctx *sx)
{
	size_t len = sx->msg_len < sx->n ? sx->msg_len : sx->n;
	size_t rest = sx->n - len;

	memmove(sx->buf, sx->buf + len, rest);
	socks_wipe(sx->buf + rest, len);
	sx->n = rest;
	sx->msg_len = 0;
}

/* The request was the last message: whatever the client sent after it
 * (data for the tunnel, sent before our reply) goes back to the socket,
 * where the relay reads it first. */
static int
socks_keep_rest(struct socks_ctx *sx)
{
	socks_consume(sx);
	if (sx->n == 0)
		return 0;
	if (iolayer_unread(sx->cl->cl_sock, sx->buf, sx->n) != 0)
		return ERR_NOMEM;
	sx->n = 0;
	return 0;
}

/* ---- replies ----------------------------------------------------------- */

static int
socks_send(struct client *cl, const uint8_t *p, size_t n)
{
	return sockio_write_all(cl->cl_sock, p, n,
				svc_timeout_ms(cl->gen, TO_STRING_SHORT));
}

/* F-SOCKS-09: a failed connect() says more than 3proxy's fixed 05. */
static uint8_t
socks_rep_connect(int e)
{
	switch (e) {
	case SOCKS_EHOSTUNREACH:
	case SOCKS_ENETUNREACH:
		return SOCKS5_REP_HOST_UNREACH;
	case SOCKS_ETIMEDOUT:
		return SOCKS5_REP_TTL_EXPIRED;
	case SOCKS_ECONNREFUSED:
	default:
		return SOCKS5_REP_REFUSED;
	}
}

/* Send the reply for result err (services.md §4.3).  Success replies
 * carry bnd; failure replies carry zeros.  Returns 0, or 401 when the
 * reply could not be sent. */
static int
socks_reply(struct socks_ctx *sx, int err, const struct net_addr *bnd)
{
	uint8_t out[SOCKS5_REPLY_MAX];
	uint8_t rep;
	size_t len;

	if (err != 0)
		bnd = NULL;
	if (sx->version == 4) {
		len = socks4_build_reply(out, sizeof(out),
					 err == 0 ? SOCKS4_GRANTED
						  : SOCKS4_REJECTED, bnd);
	} else {
		rep = err == ERR_CONNECT ? socks_rep_connect(sx->cl->conn_errno)
					 : socks5_rep_from_err(err);
		len = socks5_build_reply(out, sizeof(out), rep, bnd);
	}
	if (socks_send(sx->cl, out, len) != 0)
		return ERR_SOCKS_VERSION;
	return 0;
}

/* After a failure reply: stop sending, and read what the client still
 * sends until it closes (at most SOCKS_DRAIN_MAX bytes within
 * BYTE_SHORT), so the reply is not lost to a reset. */
static void
socks_drain(struct client *cl)
{
	uint8_t junk[256];
	size_t total = 0;
	int t = svc_timeout_ms(cl->gen, TO_BYTE_SHORT);
	uint64_t end = os_monotonic_ms() + (uint64_t)t;

	(void)sockio_shutdown_send(cl->cl_sock);
	while (total < SOCKS_DRAIN_MAX) {
		uint64_t now = os_monotonic_ms();
		int n;

		if (now >= end)
			break;
		n = sockio_read_some(cl->cl_sock, junk, sizeof(junk),
				     (int)(end - now));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* Reply failure err, close our side; returns err for the record. */
static int
socks_fail(struct socks_ctx *sx, int err)
{
	if (socks_reply(sx, err, NULL) == 0)
		socks_drain(sx->cl);
	return err;
}

/* A request that could not be read: a reply only when it was complete
 * but bad; a client that went away or stalled gets none.  An unknown
 * command is logged as "UNKNOWN host:port" (logging.md §4). */
static int
socks_bad_request(struct socks_ctx *sx, int err)
{
	char text[SOCKS_NAME_MAX + 32];

	if (sx->short_read)
		return err;
	if (err == ERR_SOCKS_COMMAND) {
		socks_target_text(&sx->req.dst, "UNKNOWN", text, sizeof(text));
		client_set_text(sx->cl, text);
	}
	return socks_fail(sx, err);
}

/* -Ne / -Ni: an IP address for replies.  Returns 0 or -1 if unset. */
static int
socks_nat_addr(const char *s, struct net_addr *out)
{
	if (s == NULL || *s == '\0')
		return -1;
	return net_parse_ip(s, out);
}

/* ---- SOCKS5 negotiation ------------------------------------------------- */

/* F-SOCKS-08: how much this service wants a user name.  -u never asks,
 * -u2 insists; otherwise method 00 is taken when offered.  This is the
 * one place the auth chain is to refine (a chain that needs a user would
 * answer SOCKS_USER_PREFERRED). */
static enum socks_user_policy
socks_user_policy(const struct client *cl)
{
	if (cl->conf->user_mode == 1)
		return SOCKS_USER_NEVER;
	if (cl->conf->user_mode == 2)
		return SOCKS_USER_REQUIRED;
	/* The auth chain needs a user (strong, useronly...): prefer 02. */
	if (auth_wants_user(cl->conf))
		return SOCKS_USER_PREFERRED;
	return SOCKS_USER_OPTIONAL;
}

static int
socks_set_cred(struct client *cl, const struct socks_auth *a)
{
	if (a->user[0] == '\0')
		return 0;
	cl->cred.user = strdup(a->user);
	cl->cred.password = strdup(a->pass);
	if (cl->cred.user == NULL || cl->cred.password == NULL)
		return ERR_NOMEM;
	return 0;
}

/* RFC 1929: take the user name and password; the answer is always
 * success here, the check comes with the request (services.md §4.1). */
static int
socks5_auth(struct socks_ctx *sx)
{
	static const uint8_t ok[2] = { 0x01, 0x00 };
	static const uint8_t bad[2] = { 0x01, 0x01 };
	struct socks_auth a;
	int rc;

	socks_consume(sx);
	rc = socks_read_msg(sx, MSG_AUTH, &a);
	if (rc == 0)
		rc = socks_set_cred(sx->cl, &a);
	socks_wipe(&a, sizeof(a));
	if (rc == 0)
		socks_consume(sx);
	else
		socks_wipe(sx->buf, sizeof(sx->buf));
	if (rc != 0) {
		if (!sx->short_read && socks_send(sx->cl, bad, 2) == 0)
			socks_drain(sx->cl);
		return rc;
	}
	if (socks_send(sx->cl, ok, sizeof(ok)) != 0)
		return ERR_SOCKS_AUTH_REPLY;
	return 0;
}

/* "05 NMETHODS METHODS" -> "05 METHOD", then the sub-negotiation. */
static int
socks5_negotiate(struct socks_ctx *sx)
{
	enum socks_user_policy pol = socks_user_policy(sx->cl);
	unsigned offered;
	uint8_t reply[2] = { 5, 0 };
	int rc;

	rc = socks_read_msg(sx, MSG_METHODS, &offered);
	if (rc != 0)
		return rc;
	reply[1] = socks5_choose_method(offered, pol);
	if (socks_send(sx->cl, reply, sizeof(reply)) != 0)
		return ERR_SOCKS_VERSION;
	if (reply[1] == SOCKS5_METHOD_REFUSE) {
		socks_drain(sx->cl);
		return pol == SOCKS_USER_REQUIRED ? ERR_AUTH_NOUSER
						  : ERR_NOT_SUPPORTED;
	}
	if (reply[1] == SOCKS5_METHOD_USERPASS)
		return socks5_auth(sx);
	return 0;
}

static int
socks5_read(struct socks_ctx *sx)
{
	int rc;

	sx->cl->logname = "SOCK5";
	rc = socks5_negotiate(sx);
	if (rc != 0)
		return rc;
	socks_consume(sx);
	rc = socks_read_msg(sx, MSG_REQUEST5, &sx->req);
	if (rc == 0)
		rc = socks_request_check(&sx->req);
	if (rc != 0)
		return socks_bad_request(sx, rc);
	return socks_keep_rest(sx);
}

static int
socks4_read(struct socks_ctx *sx)
{
	struct client *cl = sx->cl;
	int rc;

	cl->logname = "SOCK4";
	rc = socks_read_msg(sx, MSG_REQUEST4, &sx->req);
	if (rc == 0)
		rc = socks_request_check(&sx->req);
	if (sx->req.socks4a)
		cl->logname = "SOC45";
	if (rc != 0)
		return socks_bad_request(sx, rc);
	/* services.md §4.2: the user id is the user name (no password). */
	if (sx->req.user[0] != '\0') {
		cl->cred.user = strdup(sx->req.user);
		if (cl->cred.user == NULL)
			return socks_fail(sx, ERR_NOMEM);
	}
	return socks_keep_rest(sx);
}

/* First byte: the version (BYTE_LONG).  Anything but 4 or 5 gets a
 * SOCKS4 rejection and 401 (services.md §4.1).  The rest of the first
 * message comes with it when it is there already, as it usually is: one
 * recv() for the whole message. */
static int
socks_read_request(struct socks_ctx *sx)
{
	int got;

	got = sockio_read_some(sx->cl->cl_sock, sx->buf, sizeof(sx->buf),
			       svc_timeout_ms(sx->cl->gen, TO_BYTE_LONG));
	if (got <= 0)
		return ERR_SOCKS_VERSION;
	sx->n = (size_t)got;
	sx->version = sx->buf[0];
	if (sx->version == 5)
		return socks5_read(sx);
	if (sx->version == 4)
		return socks4_read(sx);
	sx->version = 4;
	return socks_fail(sx, ERR_SOCKS_VERSION);
}

/* ---- the request ------------------------------------------------------- */

static const char *
socks_verb(uint8_t cmd)
{
	if (cmd == SOCKS_CMD_CONNECT)
		return "CONNECT";
	if (cmd == SOCKS_CMD_BIND)
		return "BIND";
	return "UDPMAP";
}

/* The requested address: a name is resolved now (services.md §4.1), so
 * the ACL sees both; a BIND/UDP "any" target stays "any" (0.0.0.0, or ::
 * with -6). */
static int
socks_target_resolve(struct socks_ctx *sx, struct net_addr *a)
{
	const struct socks_target *t = &sx->req.dst;
	struct client *cl = sx->cl;
	const char *any;

	if (sx->req.cmd != SOCKS_CMD_CONNECT && socks_target_is_any(t)) {
		any = cl->conf->family == NET_PREF_6 ? "::" : "0.0.0.0";
		return net_parse_ip(any, a) == 0 ? 0 : ERR_NOT_SUPPORTED;
	}
	if (t->atyp != SOCKS_ATYP_DOMAIN)
		return socks_target_addr(t, a) == 0 ? 0 : ERR_NOT_SUPPORTED;
	if (resolve_name(cl->gen, t->host, cl->conf->family, a) != 0)
		return ERR_HOST_NOT_FOUND;
	cl->req.host = strdup(t->host);
	return cl->req.host != NULL ? 0 : ERR_NOMEM;
}

/* Fill cl->req, the %T text and %R from the SOCKS request. */
static int
socks_set_request(struct socks_ctx *sx)
{
	static const unsigned ops[] = { OP_CONNECT, OP_BIND, OP_UDPASSOC };
	const struct socks_target *t = &sx->req.dst;
	struct client *cl = sx->cl;
	const char *verb = socks_verb(sx->req.cmd);
	char text[SOCKS_NAME_MAX + 32];
	struct net_addr a;
	int rc;

	cl->req.command = ops[sx->req.cmd - 1];
	socks_target_text(t, verb, text, sizeof(text));
	client_set_text(cl, text);
	rc = socks_target_resolve(sx, &a);
	if (rc == ERR_HOST_NOT_FOUND) {
		/* F-SOCKS-03: as 3proxy, the name is not recorded. */
		snprintf(text, sizeof(text), "%s 0.0.0.0:0", verb);
		client_set_text(cl, text);
	}
	if (rc != 0)
		return rc;
	/* Resolving "0.0.0.0" must not open a way around 431. */
	if (sx->req.cmd == SOCKS_CMD_CONNECT && net_is_any(&a))
		return ERR_SOCKS_ZERO_ADDR;
	/* -6: IPv4 goes out as IPv4-mapped IPv6 (services.md §15). */
	if (cl->conf->family == NET_PREF_6)
		socks_addr_map_v6(&a);
	net_set_port(&a, t->port);
	cl->req.port = t->port;
	cl->req.addr = a;
	/* logging.md: %R shows the request until a connection is made. */
	cl->srv_peer = a;
	return 0;
}

/* ---- CONNECT ------------------------------------------------------------ */

/* BND of a CONNECT reply (services.md §4.3, F-SOCKS-07): with -Ne that
 * address and the outgoing port, else the address and port the client
 * connected to, as 3proxy does. */
static void
socks_bnd_connect(const struct client *cl, struct net_addr *out)
{
	if (socks_nat_addr(cl->conf->nat_ext, out) == 0) {
		net_set_port(out, net_get_port(&cl->srv_local));
		return;
	}
	*out = cl->cl_local;
}

static int
socks_connect(struct socks_ctx *sx)
{
	struct client *cl = sx->cl;
	struct net_addr bnd;
	int rc;

	rc = client_connect(cl);
	if (rc != 0)
		return socks_fail(sx, rc);
	socks_bnd_connect(cl, &bnd);
	rc = socks_reply(sx, 0, &bnd);
	if (rc != 0)
		return rc;
	/* the relay runs after this context is freed: a tunnel can stay
	 * open for hours and needs none of it */
	sx->relay_next = 1;
	return 0;
}

/* ---- BIND --------------------------------------------------------------- */

/* Listen on the external address of the request's family, port chosen
 * by the OS (services.md §4.3).  *laddr gets the bound address. */
static int
socks_bind_listen(struct client *cl, os_sock_t *ls, struct net_addr *laddr)
{
	const struct svc_conf *sc = cl->conf;
	int fam = net_family(&cl->req.addr);
	struct net_addr a = fam == AF_INET6 ? sc->external6 : sc->external4;
	struct sockaddr_storage ss;
	os_socklen_t sl = (os_socklen_t)sizeof(ss);
	const char *what = NULL;
	int err = 0;

	if (net_family(&a) != fam &&
	    net_parse_ip(fam == AF_INET6 ? "::" : "0.0.0.0", &a) != 0)
		return ERR_SOCKET;
	net_set_port(&a, 0);
	*ls = net_listen(&a, SOCK_STREAM, 1, sc->opts_listen, sc->maxseg, &err,
			 &what);
	if (*ls == OS_BADSOCK)
		return what != NULL && strcmp(what, "socket") == 0 ? ERR_SOCKET
								   : ERR_BIND;
	if (getsockname(*ls, (struct sockaddr *)&ss, &sl) != 0)
		return ERR_GETSOCKNAME;
	net_from_sockaddr(laddr, (struct sockaddr *)&ss, sl);
	if (os_sock_nonblock(*ls, 1) != 0)
		return ERR_SOCKET;
	return 0;
}

/* BND of the first BIND reply: the -Ne address, else the listening
 * address if it is a specific one, else the address the client reached
 * us on (when of the same family); always with the listening port.
 * 3proxy reports the control connection's port here, which no peer can
 * use (services.md §4.3 [quirk]); see doc/compat.md. */
static void
socks_bnd_bind(const struct client *cl, const struct net_addr *laddr,
	       struct net_addr *out)
{
	*out = *laddr;
	if (socks_nat_addr(cl->conf->nat_ext, out) != 0 && net_is_any(laddr) &&
	    net_family(&cl->cl_local) == net_family(laddr))
		*out = cl->cl_local;
	net_set_port(out, net_get_port(laddr));
}

/* Accept the peer; it must be the requested host when one was named. */
static int
socks_bind_accept(struct client *cl, os_sock_t ls)
{
	struct sockaddr_storage ss;
	os_socklen_t sl = (os_socklen_t)sizeof(ss);
	struct net_addr peer;
	os_sock_t s;

	s = accept(ls, (struct sockaddr *)&ss, &sl);
	if (s == OS_BADSOCK && os_errno_is_wouldblock(os_sock_errno()))
		return -1;   /* the peer went away: wait for another */
	if (s == OS_BADSOCK)
		return ERR_SOCKS_BIND_ACCEPT;
	net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
	if (!net_is_any(&cl->req.addr) &&
	    !net_same_host(&peer, &cl->req.addr)) {
		os_sock_close(s);
		return ERR_SOCKS_BIND_PEER;
	}
	cl->srv_sock = s;
	cl->srv_peer = peer;
	sl = (os_socklen_t)sizeof(ss);
	if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0)
		net_from_sockaddr(&cl->srv_local, (struct sockaddr *)&ss, sl);
	return 0;
}

/* Wait up to CONNECTION_LONG for the incoming connection; any data or
 * close on the control connection aborts (460). */
static int
socks_bind_wait(struct client *cl, os_sock_t ls)
{
	int t = svc_timeout_ms(cl->gen, TO_CONNECTION_LONG);
	uint64_t deadline = os_monotonic_ms() + (uint64_t)t;
	os_pollfd_t p[2];
	int rc = -1;

	while (rc == -1) {
		uint64_t now = os_monotonic_ms();

		if (now >= deadline)
			return ERR_RELAY_TIMEOUT;
		memset(p, 0, sizeof(p));
		p[0].fd = cl->cl_sock;
		p[0].events = POLLIN;
		p[1].fd = ls;
		p[1].events = POLLIN;
		if (os_poll(p, 2, (int)(deadline - now)) < 0) {
			if (!os_errno_is_intr(os_sock_errno()))
				return ERR_SOCKS_BIND_ACCEPT;
			continue;
		}
		if (p[0].revents != 0)
			return ERR_SOCKS_BIND_ABORT;
		if (p[1].revents != 0)
			rc = socks_bind_accept(cl, ls);
	}
	return rc;
}

static int
socks_bind(struct socks_ctx *sx)
{
	struct client *cl = sx->cl;
	os_sock_t ls = OS_BADSOCK;
	struct net_addr laddr, bnd;
	int rc;

	rc = socks_bind_listen(cl, &ls, &laddr);
	if (rc != 0) {
		rc = socks_fail(sx, rc);
		goto out;
	}
	socks_bnd_bind(cl, &laddr, &bnd);
	rc = socks_reply(sx, 0, &bnd);
	if (rc != 0)
		goto out;
	rc = socks_bind_wait(cl, ls);
	os_sock_close(ls);
	ls = OS_BADSOCK;
	if (rc == ERR_SOCKS_BIND_ABORT)
		goto out;
	if (rc != 0) {
		rc = socks_fail(sx, rc);
		goto out;
	}
	rc = socks_reply(sx, 0, &cl->srv_peer);
	if (rc == 0)
		rc = client_relay(cl,
				  svc_timeout_ms(cl->gen, TO_CONNECTION_SHORT));
out:
	if (ls != OS_BADSOCK)
		os_sock_close(ls);
	return rc;
}

/* ---- UDP ASSOCIATE ------------------------------------------------------ */

static int
socks_udp(struct socks_ctx *sx)
{
	struct client *cl = sx->cl;
	struct relay_udp u;
	struct net_addr bnd;
	int rc;

	relay_udp_init(&u);
	rc = relay_udp_open(&u, &cl->cl_local, &cl->cl_peer, &sx->req.dst);
	if (rc != 0) {
		rc = socks_fail(sx, rc);
		goto out;
	}
	/* F-SOCKS-07: -Ni replaces the address of the relay socket. */
	bnd = u.bound;
	if (socks_nat_addr(cl->conf->nat_int, &bnd) == 0)
		net_set_port(&bnd, net_get_port(&u.bound));
	rc = socks_reply(sx, 0, &bnd);
	if (rc == 0)
		rc = relay_udp_run(&u, cl,
				   svc_timeout_ms(cl->gen, TO_CONNECTION_LONG));
out:
	relay_udp_close(&u);
	return rc;
}

/* ---- entry -------------------------------------------------------------- */

static int
socks_serve(struct socks_ctx *sx)
{
	int rc;

	rc = socks_set_request(sx);
	/* UDP ASSOCIATE names no destination yet: authorize the client
	 * now, and each datagram's destination in the relay. */
	sx->cl->req.preauth = sx->req.cmd == SOCKS_CMD_UDP;
	if (rc == 0)
		rc = client_authorize(sx->cl);
	sx->cl->req.preauth = 0;
	/* plugins.md 2.1: request filters see "CONNECT host:port" (%T) */
	if (rc == 0 && sx->cl->filt != NULL && sx->cl->text != NULL &&
	    filter_run_text(sx->cl, FH_REQUEST, &sx->cl->text) ==
	    FILTER_REJECT)
		rc = ERR_SOCKS_FILTER;
	if (rc != 0)
		return socks_fail(sx, rc);
	switch (sx->req.cmd) {
	case SOCKS_CMD_CONNECT:
		return socks_connect(sx);
	case SOCKS_CMD_BIND:
		return socks_bind(sx);
	default:
		return socks_udp(sx);
	}
}

/* The socks service handler (proto.c).  Returns 0 or the %E code. */
int
proto_socks_handle(struct client *cl)
{
	struct socks_ctx *sx = calloc(1, SOCKS_CTX_ALLOC);
	int rc, relay;

	if (sx == NULL)
		return ERR_NOMEM;
	sx->cl = cl;
	rc = socks_read_request(sx);
	if (rc == 0)
		rc = socks_serve(sx);
	relay = rc == 0 && sx->relay_next;
	socks_wipe(sx, sizeof(*sx));
	free(sx);
	if (relay)
		rc = client_relay_last(cl, svc_timeout_ms(cl->gen,
							  TO_CONNECTION_LONG));
	return rc;
}
