/*
 * proto_dns.c - dnspr: a caching DNS proxy on UDP (reference dns.md 6,
 * services.md 12; F-DNS-07, F-DNS-08).
 *
 * The listener thread reads datagrams; each one becomes a client with
 * its own worker thread (a lookup may wait on a server), which answers
 * from the service socket and writes one access record:
 *   - 14..1000 bytes (else 813 short / 814 long, no answer);
 *   - authorized with operation DNSRESOLVE (denied: no answer); an ACE
 *     with parent proxies fails it with 100 (dns.md 6: dnspr does not
 *     use parents), answered with NXDOMAIN;
 *   - exactly one question (816) with a well-formed name (817);
 *   - A / AAAA: the -F address, else (unless -s) the internal lookup:
 *     nsrecord, cache, nserver list;
 *   - PTR of the service's own IPv4 listening address: "3proxy";
 *   - otherwise the query is forwarded unchanged to the first nserver
 *     and a reply with answers is relayed verbatim;
 *   - failing all that: NXDOMAIN (888, or the socket error of the
 *     forwarding attempt).
 * %T is "<qtype 4 hex>/<name>/<address>".
 * A TCP stream handed over by a local redirection (`parent 1000 dns
 * 0.0.0.0 0`) is served by proto_dns_handle with the same steps, DNS
 * over TCP framing, one record per query.
 *
 * Workers hold a count in the run loop's table; the loop waits for it to
 * drop to zero before returning (the socket is closed after that), and
 * every wait in a worker looks at svc->stop at least every 250 ms.
 */
#include "client.h"
#include "conf.h"
#include "dns_msg.h"
#include "errcode.h"
#include "nscache.h"
#include "os.h"
#include "resolve.h"
#include "service.h"
#include "sockio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_MIN_QUERY 14
#define DNS_MAX_QUERY 1000
#define DNS_RECV_BUF 65536
#define LOCAL_TTL 3600

/* %E codes of dnspr (logging.md 7). */
enum {
	DNSPR_SHORT = 813, DNSPR_LONG = 814, DNSPR_NOT_ONE = 816,
	DNSPR_BAD_NAME = 817, DNSPR_SOCKET = 818, DNSPR_CONNECT = 819,
	DNSPR_SEND = 820, DNSPR_RECV = 821, DNSPR_NOMEM = 822,
	DNSPR_TCP_CONNECT = 830, DNSPR_TCP_LEN = 832, DNSPR_TCP_BODY = 833,
	DNSPR_NXDOMAIN = 888
};

struct dns_job {
	struct service *svc;
	int *pending;                /* the run loop's worker count */
	struct net_addr peer;
	size_t len;                  /* as received (may exceed the copy) */
	uint8_t msg[];               /* min(len, DNS_MAX_QUERY + 1) bytes */
};

/* The answer goes back the way the query came: a datagram from the
 * service socket, or, on a stream, after its two-byte length. */
static void send_reply(struct client *cl, const uint8_t *buf, size_t len)
{
	long n;

	if (cl->cl_sock != OS_BADSOCK) {
		int to = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
		uint8_t lenb[2];

		lenb[0] = (uint8_t)(len >> 8);
		lenb[1] = (uint8_t)len;
		if (sockio_write_all(cl->cl_sock, lenb, 2, to) == 0 &&
		    sockio_write_all(cl->cl_sock, buf, len, to) == 0)
			cl->stats.bytes_from_server += len + 2;
		return;
	}
	n = sendto(cl->svc->sock, (const char *)buf, len, 0,
		   (const struct sockaddr *)&cl->cl_peer.ss, cl->cl_peer.len);
	if (n > 0)
		cl->stats.bytes_from_server += (uint64_t)n;
}

static int name_equal_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* The PTR of our own listening IPv4 address (only when bound to one). */
static int is_own_ptr(const struct svc_conf *sc, const char *name)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&sc->listen.ss;
	char rev[64];

	if (net_family(&sc->listen) != AF_INET || net_is_any(&sc->listen))
		return 0;
	if (dns_reverse_v4((const uint8_t *)&s4->sin_addr, rev,
			   sizeof(rev)) < 0)
		return 0;
	return name_equal_nocase(name, rev);
}

static const uint8_t *addr_bytes(const struct net_addr *a, size_t *alen)
{
	if (net_family(a) == AF_INET6) {
		*alen = 16;
		return ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
	}
	*alen = 4;
	return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
}

static void bytes_text(const uint8_t *b, size_t alen, char *out, size_t cap)
{
	int fam = alen == 16 ? AF_INET6 : AF_INET;

	if (inet_ntop(fam, (void *)b, out, (socklen_t)cap) == NULL)
		out[0] = '\0';
}

static int forward_error(int x)
{
	switch (x) {
	case RESOLVE_X_SOCKET: return DNSPR_SOCKET;
	case RESOLVE_X_CONNECT: return DNSPR_CONNECT;
	case RESOLVE_X_SEND: return DNSPR_SEND;
	case RESOLVE_X_RECV: return DNSPR_RECV;
	case RESOLVE_X_NOMEM: return DNSPR_NOMEM;
	case RESOLVE_X_TCP_CONNECT: return DNSPR_TCP_CONNECT;
	case RESOLVE_X_TCP_LEN: return DNSPR_TCP_LEN;
	case RESOLVE_X_TCP_BODY: return DNSPR_TCP_BODY;
	default: return DNSPR_NXDOMAIN;   /* timeout: nobody knew */
	}
}

/* Forward the query to the first nserver; relay a reply with answers.
 * Returns 0 when relayed, else the code to log. */
static int forward(struct client *cl, const uint8_t *msg, size_t len)
{
	const struct resolve_conf *rc = cl->gen->resolv;
	struct dns_header h;
	uint8_t *reply;
	int n, err = DNSPR_NXDOMAIN;

	if (rc == NULL || rc->nns == 0)
		return DNSPR_NXDOMAIN;
	reply = malloc(DNS_RECV_BUF);
	if (reply == NULL)
		return DNSPR_NOMEM;
	n = resolve_exchange(cl->gen, &rc->ns[0], msg, len, reply,
			     DNS_RECV_BUF, &cl->svc->stop);
	if (n > 0) {
		if (dns_read_header(reply, (size_t)n, &h) == 0 &&
		    h.ancount > 0) {
			send_reply(cl, reply, (size_t)n);
			err = 0;
		}
	} else {
		err = forward_error(n);
	}
	free(reply);
	return err;
}

static int handle_query(struct client *cl, const uint8_t *msg, size_t len)
{
	const struct svc_conf *sc = cl->conf;
	struct dns_header h;
	struct dns_question q;
	struct resolve_result res;
	uint8_t out[DNS_MAX_QUERY + 64];
	char text[DNS_NAME_TEXT + 80], addr[64] = "";
	const uint8_t *rdata = NULL;
	size_t rdlen = 0;
	uint32_t ttl = LOCAL_TTL;
	static const uint8_t own_name[] = "\0063proxy";   /* wire form */
	int rc, n, err;

	if (len < DNS_MIN_QUERY)
		return DNSPR_SHORT;
	if (len > DNS_MAX_QUERY)
		return DNSPR_LONG;
	cl->stats.bytes_from_client = len;
	cl->stats.reads_from_client = 1;
	rc = client_authorize(cl);
	if (rc != 0)
		return rc;                 /* denied: no answer */
	if (cl->parents != NULL) {
		n = dns_build_nxdomain(out, sizeof(out), msg, len);
		if (n > 0)
			send_reply(cl, out, (size_t)n);
		return ERR_HOST_NOT_FOUND;
	}
	rc = dns_parse_query(msg, len, &h, &q);
	if (rc == DNSQ_NOT_ONE)
		return DNSPR_NOT_ONE;
	if (rc != DNSQ_OK)
		return DNSPR_BAD_NAME;
	free(cl->req.host);
	cl->req.host = strdup(q.name);

	if (q.qtype == DNS_T_A && sc->fake4.len != 0) {
		rdata = addr_bytes(&sc->fake4, &rdlen);
	} else if (q.qtype == DNS_T_AAAA && sc->fake6.len != 0) {
		rdata = addr_bytes(&sc->fake6, &rdlen);
	} else if ((q.qtype == DNS_T_A || q.qtype == DNS_T_AAAA) &&
		   !sc->single_packet) {
		rc = resolve_lookup(cl->gen, q.name,
				    q.qtype == DNS_T_A ? AF_INET : AF_INET6,
				    &res, &cl->svc->stop);
		if (rc == RESOLVE_STOPPED)
			return DNSPR_NXDOMAIN;  /* shutting down: no answer */
		if (rc == RESOLVE_FOUND) {
			rdata = res.addr;
			rdlen = res.alen;
			ttl = res.ttl;
		}
	} else if (q.qtype == DNS_T_PTR && is_own_ptr(sc, q.name)) {
		rdata = own_name;
		rdlen = sizeof(own_name);  /* the terminating zero included */
	}
	if (rdata != NULL && q.qtype != DNS_T_PTR)
		bytes_text(rdata, rdlen, addr, sizeof(addr));
	else if (q.qtype == DNS_T_AAAA)
		snprintf(addr, sizeof(addr), "::");   /* [quirk] always */
	snprintf(text, sizeof(text), "%04x/%s/%s", (unsigned)q.qtype, q.name,
		 addr);
	client_set_text(cl, text);

	if (rdata != NULL) {
		n = dns_build_answer(out, sizeof(out), msg, &q, ttl, rdata,
				     rdlen);
		if (n > 0) {
			send_reply(cl, out, (size_t)n);
			return 0;
		}
	}
	err = forward(cl, msg, len);
	if (err == 0)
		return 0;
	n = dns_build_nxdomain(out, sizeof(out), msg, len);
	if (n > 0)
		send_reply(cl, out, (size_t)n);
	return err;
}

static void dns_worker(void *arg)
{
	struct dns_job *job = arg;
	struct service *svc = job->svc;
	int *pending = job->pending;
	struct client *cl;
	int err;

	cl = client_new(svc, OS_BADSOCK, &job->peer);
	if (cl != NULL) {
		cl->cl_local = svc->conf->listen;
		cl->req.command = OP_DNSRESOLVE;
		cl->req.port = 53;
		err = handle_query(cl, job->msg, job->len);
		client_finish(cl, err);
	}
	free(job);
	os_atomic_dec(pending);     /* last touch of the run loop's state */
}

static void dispatch(struct service *svc, int *pending, const uint8_t *buf,
		     size_t n, const struct net_addr *peer)
{
	size_t keep = n > DNS_MAX_QUERY ? DNS_MAX_QUERY + 1 : n;
	struct dns_job *job;

	if (os_atomic_load(pending) >= svc->conf->maxconn)
		return;                 /* full: drop, the client retries */
	job = malloc(sizeof(*job) + keep);
	if (job == NULL)
		return;
	job->svc = svc;
	job->pending = pending;
	job->peer = *peer;
	job->len = n;
	memcpy(job->msg, buf, keep);
	os_atomic_inc(pending);
	if (os_thread_detached(dns_worker, job, svc->conf->stacksize) != 0) {
		os_atomic_dec(pending);
		free(job);
	}
}

/* DNS over a stream (two-byte length, then the message; RFC 1035
 * 4.2.2): a TCP connection handed to dnspr by a local redirection
 * (`parent 1000 dns 0.0.0.0 0`, parent.md 6).  Queries are answered in
 * turn, each with its own record, until the client closes, stays silent
 * for the STRING_LONG timeout, sends a bad length or is denied. */
#define DNS_STREAM_MAX_QUERIES 64

static int dns_stream_query(struct client *cl, uint8_t *msg, int *len)
{
	int to = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	uint8_t lenb[2];
	int rc = sockio_read_exact(cl->cl_sock, lenb, 2, to);

	if (rc == SOCKIO_EOF || rc == SOCKIO_TIMEOUT)
		return 1;                  /* the client is done */
	if (rc != 2)
		return DNSPR_TCP_LEN;
	*len = (lenb[0] << 8) | lenb[1];
	if (*len < DNS_MIN_QUERY)
		return DNSPR_SHORT;
	if (*len > DNS_MAX_QUERY)
		return DNSPR_LONG;
	rc = sockio_read_exact(cl->cl_sock, msg, (size_t)*len, to);
	return rc == *len ? 0 : DNSPR_TCP_BODY;
}

int proto_dns_handle(struct client *cl)
{
	uint8_t msg[DNS_MAX_QUERY];
	int i, len = 0, rc = 0;

	for (i = 0; i < DNS_STREAM_MAX_QUERIES; i++) {
		rc = dns_stream_query(cl, msg, &len);
		if (rc == 1)
			return 0;
		if (rc != 0)
			return rc;
		free(cl->req.host);
		memset(&cl->req, 0, sizeof(cl->req));
		cl->req.command = OP_DNSRESOLVE;
		cl->req.port = 53;
		rc = handle_query(cl, msg, (size_t)len);
		client_log(cl, rc);
		if (rc >= ERR_ACL_DENY && rc <= ERR_LIMIT)
			return rc;          /* denied: no answer, and no more */
	}
	return rc;
}

struct dns_loop {
	struct service *svc;
	int pending;     /* atomic: workers still answering */
};

static void dns_datagram(void *arg, const void *buf, size_t n,
			 const struct net_addr *peer)
{
	struct dns_loop *l = arg;

	dispatch(l->svc, &l->pending, buf, n, peer);
}

void proto_dns_run(struct service *svc)
{
	struct dns_loop l;

	l.svc = svc;
	l.pending = 0;
	service_dgram_loop(svc, DNS_RECV_BUF, dns_datagram, &l, &l.pending);
}
