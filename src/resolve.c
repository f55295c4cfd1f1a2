/*
 * resolve.c - the resolution pipeline and our DNS client (see resolve.h;
 * reference dns.md; features F-DNS-01..06).
 *
 * One lookup of one family: the generation's nsrecord table, the global
 * cache, then each nserver in order, each with a fresh socket:
 *   UDP: connect()ed to the server (the kernel then drops datagrams from
 *        anyone else, and an ICMP "port unreachable" ends the wait at
 *        once), query sent within BYTE_LONG, replies read until one
 *        matches the query (id, QR, question) or the DNS timeout passes;
 *   TCP: connected within the CONNECT timeout, the query sent with its
 *        2-byte length prefix, one length-prefixed reply read within the
 *        DNS timeout.
 * A reply naming no records ends the lookup; a server that fails, times
 * out or gives nothing usable passes the question to the next one.
 */
#ifdef _WIN32
#define _CRT_RAND_S              /* rand_s() in stdlib.h */
#endif

#include "resolve.h"
#include "conf.h"
#include "dns_msg.h"
#include "nscache.h"
#include "os.h"
#include "service.h"
#include "sockio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <netdb.h>
#include <fcntl.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/random.h>
#endif

#define WAIT_SLICE_MS 250          /* how often a wait looks at *stop */
#define LOOKUP_BUF 4096            /* replies to our own A/AAAA/PTR */
#define MAX_NS_CACHE (1L << 28)

/* ---- randomness -------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Only if the system source fails: unpredictable enough to differ per
 * query, not a secret. */
static uint16_t fallback16(void)
{
	static uint64_t counter;
	uint64_t c = (uint64_t)os_atomic_add(&counter, 1);
	int local;

	return (uint16_t)mix64(c ^ os_monotonic_ms() ^
			       (uint64_t)(uintptr_t)&local ^
			       ((uint64_t)os_thread_id() << 32));
}

uint16_t resolve_random16(void)
{
#if defined(_WIN32)
	unsigned int v;

	if (rand_s(&v) == 0)
		return (uint16_t)v;
	return fallback16();
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
	defined(__NetBSD__) || defined(__DragonFly__)
	return (uint16_t)arc4random();
#elif defined(__linux__)
	uint16_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return fallback16();
#else
	return fallback16();
#endif
}

/* ---- per-generation settings ------------------------------------------- */

void resolve_conf_free(struct resolve_conf *rc)
{
	if (rc == NULL)
		return;
	nscache_free(rc->records[0]);
	nscache_free(rc->records[1]);
	free(rc->dialer);
	free(rc);
}

static struct resolve_conf *conf_of(struct conf_ctx *ctx)
{
	struct conf_gen *g = ctx->gen;

	if (g->resolv == NULL) {
		g->resolv = calloc(1, sizeof(*g->resolv));
		if (g->resolv == NULL)
			conf_error(ctx, "out of memory");
	}
	return g->resolv;
}

/* Split "<ip>[:port][/tcp]" / "[v6]:port".  host gets the address text.
 * Returns 0 or -1. */
static int split_server(const char *s, char *host, size_t hostcap,
			uint16_t *port, int *tcp)
{
	char buf[320], *h = buf, *slash, *c, *end;
	long p;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*tcp = 0;
	*port = 53;
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		*tcp = strstr(slash + 1, "tcp") != NULL;
	}
	c = NULL;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL)
			return -1;
		*end = '\0';
		h++;
		if (end[1] == ':')
			c = end + 1;
		else if (end[1] != '\0')
			return -1;
	} else {
		c = strchr(h, ':');
		if (c != NULL && strchr(c + 1, ':') != NULL)
			c = NULL;           /* bare IPv6: no port */
	}
	if (c != NULL) {
		*c = '\0';
		if (conf_parse_long(c + 1, 1, 65535, &p) != 0)
			return -1;
		*port = (uint16_t)p;
	}
	if (*h == '\0' || strlen(h) >= hostcap)
		return -1;
	strcpy(host, h);
	return 0;
}

int resolve_parse_server(const char *s, int allow_names,
			 struct resolve_server *out)
{
	char host[320];
	uint16_t port;
	int tcp;
	struct net_addr a;

	if (split_server(s, host, sizeof(host), &port, &tcp) != 0)
		return -1;
	if (net_parse_ip(host, &a) != 0) {
		if (!allow_names || !net_is_hostname(host) ||
		    net_resolve(host, NET_PREF_46, &a) != 0)
			return -1;
	}
	net_set_port(&a, port);
	out->addr = a;
	out->tcp = tcp;
	return 0;
}

/* A server line: a literal is always checked; a name is resolved only in
 * a real run (in --check its syntax is enough). */
static int server_arg(struct conf_ctx *ctx, const char *cmd, const char *s,
		      struct resolve_server *out, int *checked_only)
{
	char host[320];
	uint16_t port;
	int tcp;

	*checked_only = 0;
	if (resolve_parse_server(s, ctx->mode == CONF_RUN, out) == 0)
		return 0;
	if (ctx->mode == CONF_CHECK &&
	    split_server(s, host, sizeof(host), &port, &tcp) == 0 &&
	    net_is_hostname(host)) {
		*checked_only = 1;
		return 0;
	}
	conf_error(ctx, "%s: invalid name server '%s'", cmd, s);
	return -1;
}

int resolve_cmd_nserver(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);
	struct resolve_server srv;
	int checked_only;

	if (rc == NULL)
		return 21;
	if (server_arg(ctx, argv[0], argv[1], &srv, &checked_only) != 0)
		return 1;
	/* More than five: ignored silently, as in 3proxy. */
	if (rc->nns < RESOLVE_MAX_SERVERS && !checked_only)
		rc->ns[rc->nns++] = srv;
	rc->mode = RESOLVE_INTERNAL;
	return 0;
}

int resolve_cmd_authnserver(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);
	struct resolve_server srv;
	int checked_only;

	if (rc == NULL)
		return 21;
	if (server_arg(ctx, argv[0], argv[1], &srv, &checked_only) != 0)
		return 1;
	if (checked_only)
		return 0;
	net_set_port(&srv.addr, 53);    /* [quirk] the port is always 53 */
	rc->authns = srv;
	rc->authns_set = 1;
	return 0;
}

int resolve_cmd_fakeresolve(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);

	if (rc == NULL)
		return 21;
	rc->mode = RESOLVE_FAKE;
	return 0;
}

int resolve_cmd_nscache(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);
	int w = strcmp(argv[0], "nscache6") == 0 ? NSCACHE_V6 : NSCACHE_V4;
	long n;

	if (rc == NULL)
		return 21;
	if (conf_parse_long(argv[1], NSCACHE_MIN, MAX_NS_CACHE, &n) != 0) {
		conf_error(ctx, "Invalid NS cache size: %s", argv[1]);
		return 1;
	}
	/* The caches are the process's: a real run (re)sizes them now. */
	if (ctx->mode == CONF_RUN &&
	    nscache_global_configure((enum nscache_which)w, (size_t)n) != 0) {
		conf_error(ctx, "%s: out of memory", argv[0]);
		return 21;
	}
	rc->cache_size[w] = (size_t)n;
	return 0;
}

int resolve_cmd_nsrecord(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);
	struct net_addr a;
	const uint8_t *bytes;
	size_t alen;
	int w;

	if (rc == NULL)
		return 21;
	if (net_parse_ip(argv[2], &a) != 0) {
		if (!net_is_hostname(argv[2])) {
			conf_error(ctx, "nsrecord: invalid address '%s'",
				   argv[2]);
			return 1;
		}
		if (ctx->mode == CONF_CHECK)
			return 0;
		if (net_resolve(argv[2], NET_PREF_46, &a) != 0) {
			conf_error(ctx, "nsrecord: cannot resolve '%s'",
				   argv[2]);
			return 1;
		}
	}
	if (net_family(&a) == AF_INET6) {
		w = NSCACHE_V6;
		bytes = ((const struct sockaddr_in6 *)&a.ss)->sin6_addr.s6_addr;
		alen = 16;
	} else {
		w = NSCACHE_V4;
		bytes = (const uint8_t *)
			&((const struct sockaddr_in *)&a.ss)->sin_addr;
		alen = 4;
	}
	if (rc->cache_size[w] == 0) {
		/* 3proxy drops it silently; say so. */
		conf_warning(ctx, "nsrecord %s: no %s before this line, record "
			     "ignored", argv[1],
			     w == NSCACHE_V6 ? "nscache6" : "nscache");
		return 0;
	}
	if (rc->records[w] == NULL)
		rc->records[w] = nscache_new((size_t)-1);
	if (rc->records[w] == NULL ||
	    nscache_put(rc->records[w], argv[1], bytes, alen,
			NSCACHE_FOREVER, 0) != 0) {
		conf_error(ctx, "nsrecord: out of memory");
		return 21;
	}
	return 0;
}

int resolve_cmd_dialer(struct conf_ctx *ctx, int argc, char **argv)
{
	struct resolve_conf *rc = conf_of(ctx);
	char *d;

	if (rc == NULL)
		return 21;
	d = conf_strdup(ctx, argv[1]);
	if (d == NULL)
		return 21;
	free(rc->dialer);
	rc->dialer = d;
	return 0;
}

void resolve_dnspr_warning(struct conf_ctx *ctx)
{
	const struct resolve_conf *rc = ctx->gen->resolv;

	if (rc == NULL || rc->nns == 0 || rc->mode == RESOLVE_FAKE ||
	    (rc->cache_size[0] == 0 && rc->cache_size[1] == 0))
		conf_warning(ctx, "no nserver/nscache configured, dnspr will "
			     "not work as expected");
}

/* ---- waiting ------------------------------------------------------------- */

static int stopped(const int *stop)
{
	return stop != NULL && os_atomic_load(stop) != 0;
}

/* Wait for events on s until deadline (monotonic ms).  Returns 1 ready,
 * 0 timeout, -1 poll error, -2 stopped. */
static int wait_sock(os_sock_t s, short events, uint64_t deadline,
		     const int *stop)
{
	for (;;) {
		uint64_t now = os_monotonic_ms();
		os_pollfd_t p;
		int slice, rc;

		if (stopped(stop))
			return -2;
		if (now >= deadline)
			return 0;
		slice = deadline - now > WAIT_SLICE_MS ? WAIT_SLICE_MS
						       : (int)(deadline - now);
		p.fd = s;
		p.events = events;
		p.revents = 0;
		rc = os_poll(&p, 1, slice);
		if (rc > 0)
			return 1;
		if (rc < 0 && !os_errno_is_intr(os_sock_errno()))
			return -1;
	}
}

/* Read exactly n bytes before deadline.  Returns 0, -1 (error / EOF /
 * timeout), -2 stopped. */
static int recv_full(os_sock_t s, uint8_t *buf, size_t n, uint64_t deadline,
		     const int *stop)
{
	size_t got = 0;

	while (got < n) {
		int w = wait_sock(s, POLLIN, deadline, stop);
		long r;

		if (w == -2)
			return -2;
		if (w <= 0)
			return -1;
		r = sockio_recv_once(s, buf + got, n - got, 0);
		if (r == 0)
			return -1;
		if (r < 0) {
			int e = os_sock_errno();

			if (os_errno_is_wouldblock(e) || os_errno_is_intr(e))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* Decides whether a received message is the reply we wait for. */
typedef int (*reply_ok_fn)(const uint8_t *msg, size_t len, void *arg);

static int exchange_udp(const struct conf_gen *gen,
			const struct resolve_server *srv, const uint8_t *q,
			size_t qlen, uint8_t *reply, size_t cap,
			reply_ok_fn ok, void *arg, const int *stop)
{
	os_sock_t s;
	uint64_t deadline;
	int rc = RESOLVE_X_TIMEOUT, w;
	long n;

	s = socket(net_family(&srv->addr), SOCK_DGRAM, 0);
	if (s == OS_BADSOCK)
		return RESOLVE_X_SOCKET;
	os_sock_nonblock(s, 1);
	if (connect(s, (const struct sockaddr *)&srv->addr.ss,
		    srv->addr.len) != 0) {
		os_sock_close(s);
		return RESOLVE_X_CONNECT;
	}
	deadline = os_monotonic_ms() +
		   (uint64_t)svc_timeout_ms(gen, TO_BYTE_LONG);
	w = wait_sock(s, POLLOUT, deadline, stop);
	if (w != 1 || sockio_send_once(s, q, qlen) != (long)qlen) {
		os_sock_close(s);
		return w == -2 ? RESOLVE_X_STOPPED : RESOLVE_X_SEND;
	}
	deadline = os_monotonic_ms() + (uint64_t)svc_timeout_ms(gen, TO_DNS);
	for (;;) {
		w = wait_sock(s, POLLIN, deadline, stop);
		if (w != 1) {
			rc = w == -2 ? RESOLVE_X_STOPPED
			     : w == 0 ? RESOLVE_X_TIMEOUT : RESOLVE_X_RECV;
			break;
		}
		n = sockio_recv_once(s, reply, cap, 0);
		if (n < 0) {
			int e = os_sock_errno();

			if (os_errno_is_wouldblock(e) || os_errno_is_intr(e))
				continue;
			rc = RESOLVE_X_RECV;    /* e.g. port unreachable */
			break;
		}
		/* Anything else (wrong id, wrong question, garbage) may be
		 * a stale or forged datagram: keep waiting. */
		if (n > 0 && ok(reply, (size_t)n, arg)) {
			rc = (int)n;
			break;
		}
	}
	os_sock_close(s);
	return rc;
}

static int exchange_tcp(const struct conf_gen *gen,
			const struct resolve_server *srv, const uint8_t *q,
			size_t qlen, uint8_t *reply, size_t cap,
			reply_ok_fn ok, void *arg, const int *stop)
{
	uint8_t *out, len2[2];
	uint64_t deadline;
	os_sock_t s;
	size_t n;
	int err = 0, rc;

	if (qlen > 65535)
		return RESOLVE_X_SEND;
	s = net_connect(&srv->addr, NULL, svc_timeout_ms(gen, TO_CONNECT), 0,
			0, &err);
	if (s == OS_BADSOCK)
		return RESOLVE_X_TCP_CONNECT;
	out = malloc(qlen + 2);
	if (out == NULL) {
		os_sock_close(s);
		return RESOLVE_X_NOMEM;
	}
	out[0] = (uint8_t)(qlen >> 8);
	out[1] = (uint8_t)qlen;
	memcpy(out + 2, q, qlen);
	rc = sockio_write_all(s, out, qlen + 2,
			      svc_timeout_ms(gen, TO_BYTE_LONG));
	free(out);
	if (rc != 0) {
		os_sock_close(s);
		return RESOLVE_X_SEND;
	}
	deadline = os_monotonic_ms() + (uint64_t)svc_timeout_ms(gen, TO_DNS);
	rc = recv_full(s, len2, 2, deadline, stop);
	if (rc != 0) {
		os_sock_close(s);
		return rc == -2 ? RESOLVE_X_STOPPED : RESOLVE_X_TCP_LEN;
	}
	n = ((size_t)len2[0] << 8) | len2[1];
	if (n == 0 || n > cap) {
		os_sock_close(s);
		return RESOLVE_X_TCP_BODY;
	}
	rc = recv_full(s, reply, n, deadline, stop);
	os_sock_close(s);
	if (rc != 0)
		return rc == -2 ? RESOLVE_X_STOPPED : RESOLVE_X_TCP_BODY;
	return ok(reply, n, arg) ? (int)n : RESOLVE_X_TCP_BODY;
}

static int exchange(const struct conf_gen *gen,
		    const struct resolve_server *srv, const uint8_t *q,
		    size_t qlen, uint8_t *reply, size_t cap, reply_ok_fn ok,
		    void *arg, const int *stop)
{
	if (srv->tcp)
		return exchange_tcp(gen, srv, q, qlen, reply, cap, ok, arg,
				    stop);
	return exchange_udp(gen, srv, q, qlen, reply, cap, ok, arg, stop);
}

/* Forwarding: the reply must carry the query's id and be a response. */
static int forward_ok(const uint8_t *msg, size_t len, void *arg)
{
	const uint8_t *q = arg;

	return len >= DNS_HDR_LEN && msg[0] == q[0] && msg[1] == q[1] &&
	       (msg[2] & 0x80) != 0;
}

int resolve_exchange(const struct conf_gen *gen,
		     const struct resolve_server *srv, const uint8_t *query,
		     size_t qlen, uint8_t *reply, size_t cap,
		     const int *stop)
{
	if (qlen < DNS_HDR_LEN)
		return RESOLVE_X_SEND;
	return exchange(gen, srv, query, qlen, reply, cap, forward_ok,
			(void *)query, stop);
}

/* ---- one question to one server ------------------------------------------ */

struct lookup_check {
	uint16_t id, qtype;
	const char *name;
	struct dns_answer *ans;
	int result;
};

static int lookup_ok(const uint8_t *msg, size_t len, void *arg)
{
	struct lookup_check *c = arg;
	int r = dns_parse_reply(msg, len, c->id, c->name, c->qtype, c->ans);

	if (r == DNSR_MISMATCH)
		return 0;
	c->result = r;
	return 1;
}

enum { ASK_FAILED = -1, ASK_STOPPED = -2 };

/* Returns DNSR_FOUND / DNSR_EMPTY / DNSR_UNUSABLE, ASK_FAILED (nothing
 * usable from this server) or ASK_STOPPED. */
static int ask(const struct conf_gen *gen, const struct resolve_server *srv,
	       const char *name, uint16_t qtype, struct dns_answer *ans,
	       uint8_t *buf, const int *stop)
{
	uint8_t q[DNS_HDR_LEN + DNS_MAX_WIRE_NAME + 4];
	struct lookup_check c;
	int qlen, rc;

	c.id = resolve_random16();
	c.qtype = qtype;
	c.name = name;
	c.ans = ans;
	c.result = DNSR_UNUSABLE;
	qlen = dns_build_query(q, sizeof(q), c.id, name, qtype);
	if (qlen < 0)
		return DNSR_EMPTY;      /* not a name DNS can carry */
	rc = exchange(gen, srv, q, (size_t)qlen, buf, LOOKUP_BUF, lookup_ok,
		      &c, stop);
	if (rc == RESOLVE_X_STOPPED)
		return ASK_STOPPED;
	if (rc < 0)
		return ASK_FAILED;
	return c.result;
}

/* Ask each server in turn until one knows.  Returns a resolve_status. */
static int ask_servers(const struct conf_gen *gen,
		       const struct resolve_server *srv, int nsrv,
		       const char *name, uint16_t qtype,
		       struct dns_answer *ans, const int *stop)
{
	uint8_t *buf = malloc(LOOKUP_BUF);
	int i, rc = RESOLVE_NOTFOUND;

	if (buf == NULL)
		return RESOLVE_NOTFOUND;
	for (i = 0; i < nsrv; i++) {
		int r = ask(gen, &srv[i], name, qtype, ans, buf, stop);

		if (r == DNSR_FOUND) {
			rc = RESOLVE_FOUND;
			break;
		}
		if (r == DNSR_EMPTY)
			break;              /* the name has no such record */
		if (r == ASK_STOPPED) {
			rc = RESOLVE_STOPPED;
			break;
		}
	}
	free(buf);
	return rc;
}

/* ---- the pipeline ---------------------------------------------------------- */

int resolve_lookup(const struct conf_gen *gen, const char *name, int family,
		   struct resolve_result *res, const int *stop)
{
	const struct resolve_conf *rc = gen ? gen->resolv : NULL;
	enum nscache_which w = family == AF_INET6 ? NSCACHE_V6 : NSCACHE_V4;
	size_t want = family == AF_INET6 ? 16 : 4;
	struct dns_answer ans;
	int r;

	if (name == NULL || name[0] == '\0' || rc == NULL)
		return RESOLVE_NOTFOUND;
	/* nsrecord tables are read-only once the config is built; their
	 * entries never expire, so a lookup changes nothing. */
	if (rc->records[w] != NULL &&
	    nscache_get(rc->records[w], name, res->addr, &res->alen,
			&res->ttl, 0) && res->alen == want)
		return RESOLVE_FOUND;
	if (rc->cache_size[w] != 0 &&
	    nscache_global_get(w, name, res->addr, &res->alen, &res->ttl,
			       nscache_now()) && res->alen == want)
		return RESOLVE_FOUND;
	if (rc->nns == 0)
		return RESOLVE_NOTFOUND;
	r = ask_servers(gen, rc->ns, rc->nns, name,
			family == AF_INET6 ? DNS_T_AAAA : DNS_T_A, &ans, stop);
	if (r != RESOLVE_FOUND)
		return r;
	if (ans.addrlen != want)
		return RESOLVE_NOTFOUND;
	memcpy(res->addr, ans.addr, want);
	res->alen = want;
	res->ttl = ans.ttl;
	if (rc->cache_size[w] != 0)
		nscache_global_put(w, name, ans.addr, want, ans.ttl,
				   nscache_now());
	return RESOLVE_FOUND;
}

static void addr_from_bytes(struct net_addr *out, const uint8_t *b,
			    size_t alen)
{
	memset(out, 0, sizeof(*out));
	if (alen == 16) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b, 16);
		out->len = (os_socklen_t)sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b, 4);
		out->len = (os_socklen_t)sizeof(*s4);
	}
}

static int all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int resolve_name(const struct conf_gen *gen, const char *host,
		 enum net_family_pref pref, struct net_addr *out)
{
	const struct resolve_conf *rc = gen ? gen->resolv : NULL;
	enum resolve_mode mode = rc ? rc->mode : RESOLVE_SYSTEM;
	int fams[2], nf = 0, i;
	struct net_addr a;

	if (host == NULL || host[0] == '\0')
		return -1;
	switch (pref) {
	case NET_PREF_4: fams[nf++] = AF_INET; break;
	case NET_PREF_6: fams[nf++] = AF_INET6; break;
	case NET_PREF_46: fams[nf++] = AF_INET; fams[nf++] = AF_INET6; break;
	case NET_PREF_64: fams[nf++] = AF_INET6; fams[nf++] = AF_INET; break;
	default: return -1;
	}
	/* Literals never reach a resolver; their family must be allowed. */
	if (net_parse_ip(host, &a) == 0) {
		for (i = 0; i < nf; i++) {
			if (fams[i] == net_family(&a)) {
				*out = a;
				return 0;
			}
		}
		return -1;
	}
	if (net_parse_unix(host, &a) == 0) {
		*out = a;
		return 0;
	}
	if (mode == RESOLVE_FAKE) {
		static const uint8_t fake4[4] = { 127, 0, 0, 2 };
		static const uint8_t fake6[16] = { [15] = 2 };

		if (fams[0] == AF_INET6)
			addr_from_bytes(out, fake6, 16);
		else
			addr_from_bytes(out, fake4, 4);
		return 0;
	}
	if (mode == RESOLVE_SYSTEM)
		return net_resolve(host, pref, out);
	for (i = 0; i < nf; i++) {
		struct resolve_result res;

		if (resolve_lookup(gen, host, fams[i], &res, NULL) !=
		    RESOLVE_FOUND)
			continue;
		if (all_zero(res.addr, res.alen))
			return -1;          /* nsrecord name 0.0.0.0: blocked */
		addr_from_bytes(out, res.addr, res.alen);
		return 0;
	}
	return -1;
}

/* ---- auth dnsname ------------------------------------------------------------ */

static const struct resolve_server *auth_servers(const struct conf_gen *gen,
						 int *n)
{
	const struct resolve_conf *rc = gen ? gen->resolv : NULL;

	*n = 0;
	if (rc == NULL)
		return NULL;
	if (rc->authns_set) {
		*n = 1;
		return &rc->authns;
	}
	*n = rc->nns;
	return rc->nns ? rc->ns : NULL;
}

int resolve_auth_reverse(const struct conf_gen *gen, const struct net_addr *a,
			 char *name, size_t cap)
{
	const struct resolve_server *srv;
	struct dns_answer ans;
	char rev[80];
	int n;

	if (a == NULL || a->len == 0 || cap == 0)
		return -1;
	srv = auth_servers(gen, &n);
	if (n == 0)
		return getnameinfo((const struct sockaddr *)&a->ss, a->len,
				   name, (socklen_t)cap, NULL, 0,
				   NI_NAMEREQD) == 0 ? 0 : -1;
	if (net_family(a) == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&a->ss;

		if (dns_reverse_v6(s6->sin6_addr.s6_addr, rev,
				   sizeof(rev)) < 0)
			return -1;
	} else if (net_family(a) == AF_INET) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)&a->ss;

		if (dns_reverse_v4((const uint8_t *)&s4->sin_addr, rev,
				   sizeof(rev)) < 0)
			return -1;
	} else {
		return -1;
	}
	if (ask_servers(gen, srv, n, rev, DNS_T_PTR, &ans, NULL) !=
	    RESOLVE_FOUND || strlen(ans.name) >= cap)
		return -1;
	strcpy(name, ans.name);
	return 0;
}

int resolve_auth_forward(const struct conf_gen *gen, const char *name,
			 int family, struct net_addr *out)
{
	const struct resolve_server *srv;
	struct dns_answer ans;
	int n;

	srv = auth_servers(gen, &n);
	if (n == 0)
		return net_resolve(name, family == AF_INET6 ? NET_PREF_6
				   : NET_PREF_4, out);
	if (ask_servers(gen, srv, n, name,
			family == AF_INET6 ? DNS_T_AAAA : DNS_T_A, &ans,
			NULL) != RESOLVE_FOUND)
		return -1;
	addr_from_bytes(out, ans.addr, ans.addrlen);
	return 0;
}
