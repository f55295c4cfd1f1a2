/*
 * parent.c - `parent`, `redirect` and `parentretries`; building a chain
 * of parent proxies for a request; local redirection (parent.md).
 *
 * Owns struct parent_list: built on the config thread, attached to an
 * ACE, refcounted (ACL entries are copied on write, each copy holds a
 * reference) and immutable once a service has taken its ACL, so workers
 * read it without locks.  The random source is the only shared state:
 * an atomic counter mixed with a per-process seed.
 *
 * A request's chain is built on its worker thread: the sockets of a
 * failed attempt are closed before the next attempt.
 */
#include "parent.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "http_parse.h"
#include "iolayer.h"
#include "resolve.h"
#include "service.h"
#include "sockio.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARENT_RETRIES_DEFAULT 2      /* parent.md section 7 */
#define REDIRECT_DEPTH_MAX 16         /* nested local redirections */
#define PE_TYPE 30                    /* unsupported parent type */
#define PE_HA_SEND 39                 /* PROXY header not sent */

/* ---- types ----------------------------------------------------------------- */

static const struct {
	const char *name;
	enum parent_type type;
	const char *service;        /* parser of a local redirection */
	int local_only;             /* needs 0.0.0.0 port 0 */
} types[] = {
	{ "tcp", PARENT_TCP, "tcppm", 0 },
	{ "http", PARENT_HTTP, "proxy", 0 },
	{ "connect", PARENT_CONNECT, "proxy", 0 },
	{ "connect+", PARENT_CONNECTP, "proxy", 0 },
	{ "socks4", PARENT_SOCKS4, "socks", 0 },
	{ "socks4+", PARENT_SOCKS4P, "socks", 0 },
	{ "socks4b", PARENT_SOCKS4B, "socks", 0 },
	{ "socks5", PARENT_SOCKS5, "socks", 0 },
	{ "socks5+", PARENT_SOCKS5P, "socks", 0 },
	{ "socks5b", PARENT_SOCKS5B, "socks", 0 },
	{ "extip", PARENT_EXTIP, NULL, 0 },
	{ "ha", PARENT_HA, NULL, 1 },
	{ "pop3", PARENT_POP3, "pop3p", 1 },
	{ "smtp", PARENT_SMTP, "smtpp", 1 },
	{ "imap", PARENT_IMAP, "imapp", 1 },
	{ "ftp", PARENT_FTP, "ftppr", 1 },
	{ "admin", PARENT_ADMIN, "admin", 1 },
	{ "tls", PARENT_TLS, "tlspr", 1 },
	{ "dns", PARENT_DNS, "dnspr", 1 },
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static size_t type_index(enum parent_type t)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (types[i].type == t)
			break;
	return i < NTYPES ? i : 0;
}

const char *parent_type_name(enum parent_type type)
{
	return types[type_index(type)].name;
}

int parent_type_parse(const char *name, enum parent_type *type, int *tls)
{
	size_t i, n = strlen(name);

	for (i = 0; i < NTYPES; i++) {
		if (strcmp(types[i].name, name) == 0) {
			*type = types[i].type;
			*tls = 0;
			return 0;
		}
	}
	/* "<type>s": the same over TLS (https, socks5s, connect+s...) */
	if (n < 2 || name[n - 1] != 's')
		return -1;
	for (i = 0; i < NTYPES; i++) {
		if (strlen(types[i].name) == n - 1 &&
		    strncmp(types[i].name, name, n - 1) == 0) {
			*type = types[i].type;
			*tls = 1;
			return 0;
		}
	}
	return -1;
}

static int is_plus(enum parent_type t)
{
	return t == PARENT_CONNECTP || t == PARENT_SOCKS4P ||
	       t == PARENT_SOCKS5P;
}

/* 0.0.0.0 (or ::) port 0: a local redirection. */
static int entry_is_local(const struct parent_entry *e)
{
	int fam = net_family(&e->addr);

	if (e->type == PARENT_EXTIP || e->type == PARENT_HA)
		return 0;
	return (fam == AF_INET || fam == AF_INET6) && net_is_any(&e->addr) &&
	       net_get_port(&e->addr) == 0;
}

/* ---- lists ----------------------------------------------------------------- */

struct parent_list *parent_list_ref(struct parent_list *pl)
{
	if (pl != NULL)
		os_atomic_inc(&pl->refs);
	return pl;
}

static void entry_free(struct parent_entry *e)
{
	free(e->host);
	free(e->where);
	free(e->user);
	if (e->password != NULL) {
		volatile char *p = e->password;

		while (*p)
			*p++ = 0;
		free(e->password);
	}
}

void parent_list_unref(struct parent_list *pl)
{
	int i;

	if (pl == NULL || os_atomic_dec(&pl->refs) != 0)
		return;
	for (i = 0; i < pl->n; i++)
		entry_free(&pl->e[i]);
	free(pl->e);
	free(pl);
}

int parent_list_is_local(const struct parent_list *pl)
{
	return pl != NULL && pl->n > 0 && entry_is_local(&pl->e[0]);
}

int parent_weights_check(const struct parent_list *pl, int *bad, int *sum)
{
	int i, start = 0, acc = 0;

	for (i = 0; i < pl->n; i++) {
		acc += pl->e[i].weight;
		if (acc == 1000) {
			acc = 0;
			start = i + 1;
		} else if (acc > 1000) {
			break;
		}
	}
	if (acc == 0)
		return 0;
	*bad = start;
	*sum = acc;
	return -1;
}

/* ---- random hop selection (F-PAR-01) ------------------------------------------ */

static int rng_counter;     /* atomic */
static int rng_seed;        /* atomic; 0 = not seeded yet */

static uint32_t mix32(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

uint32_t parent_random(void *arg)
{
	uint32_t seed = (uint32_t)os_atomic_load(&rng_seed), c;

	(void)arg;
	if (seed == 0) {
		seed = mix32(os_monotonic_ms() ^
			     ((uint64_t)os_process_id() << 32) ^
			     (uint64_t)(uintptr_t)&seed) | 1u;
		os_atomic_store(&rng_seed, (int)seed);
	}
	c = (uint32_t)os_atomic_inc(&rng_counter);
	return mix32(((uint64_t)seed << 32) | c);
}

/* parent.md section 2, exactly: so weights give the documented odds. */
int parent_pick(const struct parent_list *pl, parent_rand_fn rnd, void *arg,
		const struct parent_entry **out, int max)
{
	int acc = 1000, r = (int)(rnd(arg) % 1000), picked = 0, n = 0, i;

	for (i = 0; i < pl->n; i++) {
		const struct parent_entry *e = &pl->e[i];

		acc -= e->weight;
		if (acc > r || picked) {
			if (acc <= 0) {
				acc += 1000;
				picked = 0;
				r = (int)(rnd(arg) % 1000);
			}
			continue;
		}
		if (n < max)
			out[n++] = e;
		picked = 1;
		if (acc <= 0) {
			acc += 1000;
			picked = 0;
			r = (int)(rnd(arg) % 1000);
		}
	}
	return n;
}

/* ---- building a chain for a request (F-PAR-02..09) ------------------------- */

struct chain {
	struct client *cl;
	os_sock_t s;                     /* connected to the first hop */
	struct net_addr src;             /* extip source, len 0 = none */
	int ha;                          /* send a PROXY line first */
	const struct parent_entry *last; /* the hop s now talks to */
	struct net_addr last_addr;       /* ... and its address */
	struct parent_udp *udp;          /* UDP association, else NULL */
	int hops;
	int send_ms, reply_ms;
};

/* The request's destination address (resolved now if only a name is
 * known), with its port. */
static int dest_addr(struct client *cl, struct net_addr *out)
{
	if (cl->req.addr.len == 0) {
		if (cl->req.host == NULL ||
		    resolve_name(cl->gen, cl->req.host, cl->conf->family,
				 &cl->req.addr) != 0)
			return ERR_HOST_NOT_FOUND;
	}
	*out = cl->req.addr;
	if (net_family(out) != AF_UNIX)
		net_set_port(out, cl->req.port);
	return 0;
}

/* The credentials a hop presents: its own, or the client's for "*". */
static int hop_creds(const struct client *cl, const struct parent_entry *e,
		     const char **user, const char **pass)
{
	*user = e->user;
	*pass = e->password;
	if (e->user != NULL && strcmp(e->user, "*") == 0) {
		if (cl->cred.user == NULL)
			return ERR_AUTH_NOUSER;
		*user = cl->cred.user;
		*pass = cl->cred.password;
	}
	return 0;
}

/* Where a hop is, after the zero address / zero port rules (parent.md
 * section 5): 0.0.0.0 keeps the requested address, port 0 the requested
 * port.  host is the configured text (sent by + types). */
static int hop_target(struct client *cl, const struct parent_entry *e,
		      struct parent_target *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->addr = e->addr;
	t->port = net_get_port(&e->addr);
	t->host = e->host;
	if (net_family(&e->addr) == AF_UNIX)
		return 0;
	if (net_is_any(&e->addr)) {
		rc = dest_addr(cl, &t->addr);
		if (rc != 0)
			return rc;
		t->host = NULL;
	}
	if (t->port == 0)
		t->port = cl->req.port;
	net_set_port(&t->addr, t->port);
	return 0;
}

/* extip (parent.md 4.3): 0.0.0.0 is the client's own address; an IPv6
 * address with a prefix gets random bits after the prefix. */
static void set_extip(struct chain *ch, const struct parent_entry *e)
{
	struct net_addr a = e->addr;

	if (net_is_any(&a) && net_family(&a) != AF_UNIX)
		a = ch->cl->cl_peer;
	if (net_family(&a) == AF_INET6 && e->prefixlen >= 0 &&
	    e->prefixlen < 128) {
		uint8_t *b = ((struct sockaddr_in6 *)&a.ss)->sin6_addr.s6_addr;
		int bit;

		for (bit = e->prefixlen; bit < 128; bit++)
			if (parent_random(NULL) & 1u)
				b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
	net_set_port(&a, 0);
	ch->src = a;
}

static int send_ha(struct chain *ch)
{
	char line[128];
	size_t n;

	ch->ha = 0;
	n = parent_ha_line(line, sizeof(line), &ch->cl->cl_peer,
			   &ch->cl->cl_local);
	if (n == 0)
		n = (size_t)snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	return sockio_write_all(ch->s, line, n, ch->send_ms) == 0 ? 0
								 : PE_HA_SEND;
}

/* The first connection of the chain (or the direct one). */
static int chain_open(struct chain *ch, const struct net_addr *dst)
{
	struct client *cl = ch->cl;
	const struct svc_conf *sc = cl->conf;
	const struct net_addr *src = NULL;
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);
	int err = 0, fam = net_family(dst);

	if (fam == AF_INET || fam == AF_INET6) {
		src = fam == AF_INET6 ? &sc->external6 : &sc->external4;
		/* chosen by auth (RADIUS Framed-IP), F-AUTH-14 */
		if (cl->ext_addr != NULL && net_family(cl->ext_addr) == fam)
			src = cl->ext_addr;
		/* an extip hop names the source explicitly */
		if (ch->src.len != 0 && net_family(&ch->src) == fam)
			src = &ch->src;
	}
	/* %R names the hop tried, also when it fails (as 3proxy) */
	cl->srv_peer = *dst;
	ch->s = net_connect(dst, src, svc_timeout_ms(cl->gen, TO_CONNECT),
			    sc->opts_server, sc->maxseg, &err);
	cl->conn_errno = err;
	if (ch->s == OS_BADSOCK)
		return ERR_CONNECT;
	if (getsockname(ch->s, (struct sockaddr *)&ss, &sl) == 0)
		net_from_sockaddr(&cl->srv_local, (struct sockaddr *)&ss, sl);
	if (ch->ha) {
		int rc = send_ha(ch);

		if (rc != 0)
			return rc;
	}
	/* ssl_cli modes 0 and 1: TLS right after the TCP connect, to the
	 * first hop or the destination.  A UDP association's control
	 * connection stays plain: its owner (relay_udp.c) closes it. */
	if (ch->udp != NULL)
		return 0;
	return tls_server_wrap(cl, ch->s, TLS_CLI_AT_CONNECT);
}

/* Ask the current last hop to connect to t. */
static int chain_ask(struct chain *ch, const struct parent_target *t)
{
	const char *user, *pass;
	struct parent_target tt = *t;
	int rc;

	rc = hop_creds(ch->cl, ch->last, &user, &pass);
	if (rc != 0)
		return rc;
	if (!is_plus(ch->last->type) && ch->last->type != PARENT_HTTP)
		tt.host = NULL;
	return parent_negotiate(ch->s, ch->last->type, &tt, user, pass,
				ch->send_ms, ch->reply_ms);
}

static const char *redirect_service(enum parent_type t)
{
	return types[type_index(t)].service;
}

/* A local redirection (parent.md section 6): only for a request whose
 * client stream the service relays afterwards (SOCKS or tcppm CONNECT,
 * HTTP CONNECT), to a parser this build has. */
static int choose_redirect(struct client *cl, const struct parent_entry *e)
{
	const char *svc = redirect_service(e->type);
	const struct proto *p;

	if (!(cl->req.command & (OP_CONNECT | OP_HTTP_CONNECT)) ||
	    (cl->req.command & ~(unsigned)(OP_CONNECT | OP_HTTP_CONNECT)))
		return PE_TYPE;
	if (cl->redirect_depth >= REDIRECT_DEPTH_MAX)
		return ERR_REDIRECT_LOOP;
	if (e->type != PARENT_TCP) {
		p = svc ? proto_find(svc) : NULL;
		if (p == NULL || p->handle == NULL)
			return PE_TYPE;
	}
	cl->redirect = e;
	cl->hops = cl->redirect_depth + 1;
	return 0;
}

/* The final request through the chain's last hop. */
static int chain_finish(struct chain *ch, int terminal)
{
	struct client *cl = ch->cl;
	const struct parent_entry *last = ch->last;
	struct parent_target t;
	int rc, plus, name;

	if (terminal) {
		/* tcp / http: the stream goes to the parent as it is; the
		 * proxy service sends HTTP requests in absolute form through
		 * an http parent and CONNECT requests as CONNECT */
		if (last->type == PARENT_HTTP &&
		    (cl->req.command & OP_FTP))
			return PE_TYPE;
		if (last->type != PARENT_HTTP ||
		    !(cl->req.command & OP_HTTP_CONNECT)) {
			cl->via = last;
			return 0;
		}
	}
	memset(&t, 0, sizeof(t));
	t.host = cl->req.host;
	t.port = cl->req.port;
	t.addr = cl->req.addr;
	plus = is_plus(last->type) || last->type == PARENT_HTTP;
	name = plus && t.host != NULL && t.host[0] != '\0' &&
	       strlen(t.host) <= PARENT_NAME_MAX;
	/* + types let the parent resolve the name: no local lookup */
	if (!name || t.addr.len != 0) {
		rc = dest_addr(cl, &t.addr);
		if (rc != 0)
			return rc;
	}
	return chain_ask(ch, &t);
}

/* The last hop of a UDP chain: a SOCKS5 UDP ASSOCIATE (parent.md 4.1
 * step 5); other types cannot carry datagrams (acl-auth.md 6). */
static int chain_udp(struct chain *ch)
{
	const struct parent_entry *last = ch->last;
	struct net_addr *r = &ch->udp->relay;
	const char *user, *pass;
	uint16_t port;
	int rc;

	if (last->type != PARENT_SOCKS5 && last->type != PARENT_SOCKS5P)
		return PARENT_ERR_UDP;
	rc = hop_creds(ch->cl, last, &user, &pass);
	if (rc != 0)
		return rc;
	rc = parent_socks5_udp(ch->s, user, pass, ch->send_ms, ch->reply_ms,
			       r);
	if (rc != 0)
		return rc;
	ch->udp->plus = last->type == PARENT_SOCKS5P;
	/* an unspecified relay address means the parent's own address */
	if (net_is_any(r) && net_family(&ch->last_addr) != AF_UNIX) {
		port = net_get_port(r);
		*r = ch->last_addr;
		net_set_port(r, port);
	}
	return net_family(r) == AF_UNIX ? PARENT_ERR_UDP : 0;
}

/* Can entry e be part of a UDP chain?  tcp / http end a chain in a
 * stream, local redirections hand over a stream: neither carries
 * datagrams. */
static int udp_entry_ok(const struct parent_entry *e)
{
	return !entry_is_local(e) && e->type <= PARENT_SOCKS5B &&
	       e->type != PARENT_TCP && e->type != PARENT_HTTP;
}

static int chain_try(struct client *cl, const struct parent_list *pl,
		     struct parent_udp *udp)
{
	const struct parent_entry **pick;
	struct chain ch;
	struct parent_target t;
	struct net_addr dst;
	int n, i, rc = 0, terminal = 0;

	pick = malloc(sizeof(*pick) * (size_t)pl->n);
	if (pick == NULL)
		return ERR_NOMEM;
	memset(&ch, 0, sizeof(ch));
	ch.cl = cl;
	ch.s = OS_BADSOCK;
	ch.udp = udp;
	ch.send_ms = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	ch.reply_ms = svc_timeout_ms(cl->gen, TO_CHAIN);
	n = parent_pick(pl, parent_random, NULL, pick, pl->n);
	for (i = 0; i < n && rc == 0 && !terminal; i++) {
		const struct parent_entry *e = pick[i];

		if (e->type == PARENT_EXTIP) {
			if (ch.s == OS_BADSOCK)
				set_extip(&ch, e);
			continue;
		}
		if (e->type == PARENT_HA) {
			ch.ha = ch.s == OS_BADSOCK;
			continue;
		}
		ch.hops++;
		if (udp != NULL && !udp_entry_ok(e)) {
			rc = PARENT_ERR_UDP;
			break;
		}
		if (entry_is_local(e)) {
			rc = ch.s == OS_BADSOCK ? choose_redirect(cl, e)
						: PE_TYPE;
			free(pick);
			if (rc != 0 && ch.s != OS_BADSOCK)
				iolayer_close(ch.s);
			return rc;
		}
		if (e->type > PARENT_SOCKS5B) {
			rc = PE_TYPE;
			break;
		}
		rc = hop_target(cl, e, &t);
		if (rc != 0)
			break;
		if (ch.s == OS_BADSOCK)
			rc = chain_open(&ch, &t.addr);
		else
			rc = chain_ask(&ch, &t);
		/* "...s" types: TLS to this hop before its negotiation
		 * (ssl_cli with ssl_client_mode 3) */
		if (rc == 0 && e->tls && udp == NULL)
			rc = tls_server_wrap(cl, ch.s, TLS_CLI_PARENT_S);
		ch.last = e;
		ch.last_addr = t.addr;
		terminal = e->type == PARENT_TCP || e->type == PARENT_HTTP;
	}
	free(pick);
	if (rc == 0 && ch.s == OS_BADSOCK && udp != NULL) {
		/* only extip / ha entries: datagrams go directly */
		udp->ctl = OS_BADSOCK;
		cl->hops = cl->redirect_depth;
		return 0;
	}
	if (rc == 0 && ch.s == OS_BADSOCK) {
		/* only extip / ha entries: a direct connection */
		rc = dest_addr(cl, &dst);
		if (rc == 0)
			rc = chain_open(&ch, &dst);
	} else if (rc == 0) {
		rc = udp != NULL ? chain_udp(&ch) : chain_finish(&ch, terminal);
	}
	cl->hops = cl->redirect_depth + ch.hops;
	if (rc != 0) {
		if (ch.s != OS_BADSOCK)
			iolayer_close(ch.s);
		return rc;
	}
	if (udp != NULL)
		udp->ctl = ch.s;
	else
		cl->srv_sock = ch.s;
	return 0;
}

/* chain_try, `parentretries` times (parent.md section 7). */
static int chain_retry(struct client *cl, const struct parent_list *pl,
		       struct parent_udp *udp)
{
	int tries = cl->gen->parentretries > 0 ? cl->gen->parentretries
					       : PARENT_RETRIES_DEFAULT;
	int rc = ERR_CONNECT, i;

	cl->via = NULL;
	cl->redirect = NULL;
	if (pl == NULL || pl->n == 0)
		return ERR_REDIRECT_DATA;
	for (i = 0; i < tries; i++) {
		memset(&cl->srv_peer, 0, sizeof(cl->srv_peer));
		memset(&cl->srv_local, 0, sizeof(cl->srv_local));
		cl->via = NULL;
		rc = chain_try(cl, pl, udp);
		/* retrying cannot help these */
		if (rc == 0 || rc == ERR_AUTH_NOUSER || rc == ERR_NOMEM ||
		    rc == ERR_REDIRECT_LOOP || rc == PE_TYPE ||
		    rc == PARENT_ERR_UDP || rc == ERR_HOST_NOT_FOUND)
			break;
	}
	return rc;
}

int parent_connect(struct client *cl, const struct parent_list *pl)
{
	return chain_retry(cl, pl, NULL);
}

int parent_udp_open(struct client *cl, const struct parent_list *pl,
		    struct parent_udp *u)
{
	memset(u, 0, sizeof(*u));
	u->ctl = OS_BADSOCK;
	return chain_retry(cl, pl, u);
}

/* ---- local redirection (F-PAR-06) ----------------------------------------------- */

static void wipe_free(char *s)
{
	volatile char *p = s;

	if (s == NULL)
		return;
	while (*p)
		*p++ = 0;
	free(s);
}

/* `tcp 0.0.0.0 0`: the destination is known already; authorize it
 * again and relay (tcppm-like). */
static int redirect_tcp(struct client *cl)
{
	int rc;

	if (cl->req.host == NULL && cl->req.addr.len == 0)
		return ERR_HOST_NOT_FOUND;
	cl->req.command = OP_CONNECT;
	rc = client_authorize(cl);
	if (rc == 0)
		rc = client_connect(cl);
	if (rc == 0)
		rc = client_relay(cl, svc_timeout_ms(cl->gen,
						     TO_CONNECTION_LONG));
	return rc;
}

int parent_redirect_run(struct client *cl)
{
	const struct parent_entry *e = cl->redirect;
	const char *logname = cl->logname;
	const struct proto *p;
	int rc;

	cl->redirect = NULL;
	cl->redirect_depth++;
	if (e->type == PARENT_TCP)
		return redirect_tcp(cl);
	p = proto_find(redirect_service(e->type));
	if (p == NULL || p->handle == NULL)
		return PE_TYPE;
	/* The parser reads its own request: nothing of the first one may
	 * be taken for it, except by tlspr, which keeps the destination
	 * and takes only the name from SNI (services.md 9.1 step 4).  The
	 * socks parser also takes its own user. */
	if (e->type != PARENT_TLS) {
		free(cl->req.host);
		memset(&cl->req, 0, sizeof(cl->req));
	}
	if (strcmp(p->cmd, "socks") == 0) {
		wipe_free(cl->cred.user);
		wipe_free(cl->cred.password);
		cl->cred.user = cl->cred.password = NULL;
	}
	cl->relay_inline = 1;   /* cl is used below */
	rc = p->handle(cl);
	/* records keep the name of the service the client reached */
	cl->logname = logname;
	return rc;
}

int parent_http_absolute(const struct client *cl, char *hdr, size_t cap)
{
	const struct parent_entry *e = cl->via;
	const char *user, *pass;
	char cred[2 * 256 + 2], enc[4 * ((sizeof(cred) + 2) / 3) + 1];
	int n;

	if (cap > 0)
		hdr[0] = '\0';
	if (e == NULL || e->type != PARENT_HTTP)
		return 0;
	if (hop_creds(cl, e, &user, &pass) != 0 || user == NULL)
		return 1;
	n = snprintf(cred, sizeof(cred), "%s:%s", user, pass ? pass : "");
	if (n > 0 && (size_t)n < sizeof(cred)) {
		http_b64_encode(cred, (size_t)n, enc);
		snprintf(hdr, cap, "Proxy-Authorization: Basic %s\r\n", enc);
	}
	memset(cred, 0, sizeof(cred));
	memset(enc, 0, sizeof(enc));
	return 1;
}

/* ---- config commands (F-PAR-01, config.md 4.6) ---------------------------------- */

static char *where_now(struct conf_ctx *ctx)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s:%d", ctx->pos.file ? ctx->pos.file : "-",
		 ctx->pos.line);
	return strdup(buf);
}

/* Address of a `parent` line: IP (with optional /prefix), unix:path, or
 * a name resolved now.  Returns 0 or the chaining error code 5. */
static int parse_parent_addr(struct conf_ctx *ctx, const char *text,
			     struct parent_entry *e)
{
	char buf[300];
	const char *slash;
	long plen;
	int rc;

	e->prefixlen = -1;
	rc = net_parse_unix(text, &e->addr);
	if (rc == 0)
		return 0;
	if (rc == -2) {
		conf_error(ctx, "Chaining error: unsupported Unix socket "
			   "address %s", text);
		return 5;
	}
	if (strlen(text) >= sizeof(buf)) {
		conf_error(ctx, "Chaining error: parent address too long");
		return 5;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		if (conf_parse_long(slash + 1, 0, 128, &plen) != 0) {
			conf_error(ctx, "Chaining error: bad prefix length in "
				   "%s", text);
			return 5;
		}
		e->prefixlen = (int)plen;
		buf[slash - buf] = '\0';
	}
	e->host = strdup(buf);
	if (e->host == NULL) {
		conf_error(ctx, "out of memory");
		return 21;
	}
	if (net_parse_ip(buf, &e->addr) == 0)
		return 0;
	if (!net_is_hostname(buf)) {
		conf_error(ctx, "Chaining error: invalid parent address %s",
			   text);
		return 5;
	}
	if (ctx->mode == CONF_CHECK)
		return 0;       /* --check does not resolve */
	if (net_resolve(buf, NET_PREF_46, &e->addr) != 0) {
		conf_error(ctx, "Chaining error: cannot resolve parent "
			   "address %s", buf);
		return 5;
	}
	return 0;
}

/* Append e (taken over) to the chain of an ACE, copying a chain that
 * a service already holds. */
static int list_append(struct acl_entry *ace, struct parent_entry *e)
{
	struct parent_list *old = ace->parents, *pl = old;
	struct parent_entry *v;
	int i;

	if (pl == NULL || os_atomic_load(&pl->refs) > 1) {
		pl = calloc(1, sizeof(*pl));
		if (pl == NULL)
			return -1;
		pl->refs = 1;
		if (old != NULL && old->n > 0) {
			pl->e = calloc((size_t)old->n, sizeof(*pl->e));
			if (pl->e == NULL) {
				free(pl);
				return -1;
			}
			for (i = 0; i < old->n; i++) {
				struct parent_entry *d = &pl->e[i];

				*d = old->e[i];
				d->host = old->e[i].host ? strdup(old->e[i].host)
							 : NULL;
				d->where = old->e[i].where ?
					   strdup(old->e[i].where) : NULL;
				d->user = old->e[i].user ? strdup(old->e[i].user)
							 : NULL;
				d->password = old->e[i].password ?
					      strdup(old->e[i].password) : NULL;
				pl->n++;
				if ((old->e[i].host && !d->host) ||
				    (old->e[i].where && !d->where) ||
				    (old->e[i].user && !d->user) ||
				    (old->e[i].password && !d->password)) {
					parent_list_unref(pl);
					return -1;
				}
			}
		}
		parent_list_unref(old);
		ace->parents = pl;
	}
	v = realloc(pl->e, sizeof(*v) * (size_t)(pl->n + 1));
	if (v == NULL)
		return -1;
	pl->e = v;
	pl->e[pl->n++] = *e;
	return 0;
}

/* Build one entry from "W TYPE ADDR PORT [USER [PASS]]".  Returns 0 or
 * a chaining error code (reported). */
static int parse_entry(struct conf_ctx *ctx, int argc, char **argv,
		       struct parent_entry *e)
{
	long w, port;
	size_t ti;
	int rc;

	memset(e, 0, sizeof(*e));
	e->prefixlen = -1;
	if (conf_parse_long(argv[0], 1, 1000, &w) != 0) {
		conf_error(ctx, "Chaining error: bad chain weight %s", argv[0]);
		return 3;
	}
	e->weight = (int)w;
	if (parent_type_parse(argv[1], &e->type, &e->tls) != 0) {
		conf_error(ctx, "Chaining error: bad chain type (%s)", argv[1]);
		return 4;
	}
	/* A parent asked to speak TLS must never get plain text: without
	 * a TLS library the line is refused (--check accepts it).  With
	 * one, TLS is done when the service runs ssl_cli with
	 * ssl_client_mode 3 (parent.md 3); otherwise, as in 3proxy, none. */
	if (e->tls && ctx->mode == CONF_RUN && !tls_built_in()) {
		conf_error(ctx, "parent type '%s': this build has no TLS "
			   "library (OpenSSL)", argv[1]);
		return 4;
	}
	rc = parse_parent_addr(ctx, argv[2], e);
	if (rc != 0)
		return rc;
	if (conf_parse_long(argv[3], 0, 65535, &port) != 0) {
		conf_error(ctx, "Chaining error: bad parent port %s", argv[3]);
		return 5;
	}
	if (net_family(&e->addr) != AF_UNIX && e->addr.len != 0)
		net_set_port(&e->addr, (uint16_t)port);
	ti = type_index(e->type);
	if (types[ti].local_only &&
	    !(net_family(&e->addr) == AF_INET && net_is_any(&e->addr) &&
	      port == 0)) {
		conf_error(ctx, "Chaining error: chain type (%s) is a local "
			   "redirection, it requires 0.0.0.0 as address and 0 "
			   "as port", types[ti].name);
		return 4;
	}
	if ((argc > 4 && (e->user = strdup(argv[4])) == NULL) ||
	    (argc > 5 && (e->password = strdup(argv[5])) == NULL) ||
	    (e->where = where_now(ctx)) == NULL) {
		conf_error(ctx, "out of memory");
		return 21;
	}
	if (argc > 6)
		conf_warning(ctx, "parent: %d extra argument(s) ignored",
			     argc - 6);
	return 0;
}

/* Add a parsed entry to the last ACE; reports a group over 1000 now. */
static int attach_entry(struct conf_ctx *ctx, struct acl_entry *ace,
			struct parent_entry *e)
{
	int bad, sum;

	if (list_append(ace, e) != 0) {
		entry_free(e);
		conf_error(ctx, "out of memory");
		return 21;
	}
	if (parent_weights_check(ace->parents, &bad, &sum) != 0 &&
	    sum > 1000) {
		ace->parents->reported = 1;
		conf_error(ctx, "Chaining error: parent weights of the group "
			   "starting at %s add up to %d: each group must add "
			   "up to exactly 1000", ace->parents->e[bad].where,
			   sum);
		return 3;
	}
	return 0;
}

/* parent WEIGHT TYPE ADDR PORT [USER [PASS]] */
int parent_cmd_parent(struct conf_ctx *ctx, int argc, char **argv)
{
	struct parent_entry e;
	struct acl_entry *ace;
	int rc;

	if (acl_count(ctx->cur.acl) == 0 ||
	    (acl_entry_at(ctx->cur.acl, acl_count(ctx->cur.acl) - 1)->action
	     == ACL_DENY)) {
		conf_error(ctx, "Chaining error: last ACL entry was not "
			   "\"allow\" or \"redirect\"");
		return 1;
	}
	rc = parse_entry(ctx, argc - 1, argv + 1, &e);
	if (rc != 0) {
		entry_free(&e);
		return rc;
	}
	ace = acl_last_mutable(&ctx->cur.acl);
	if (ace == NULL) {
		entry_free(&e);
		conf_error(ctx, "out of memory");
		return 21;
	}
	return attach_entry(ctx, ace, &e);
}

/* redirect IP PORT [ACE fields]: allow + parent 1000 http IP PORT */
int parent_cmd_redirect(struct conf_ctx *ctx, int argc, char **argv)
{
	char err[512], warn[512];
	char *pargv[4];
	struct parent_entry e;
	struct acl_rule *r;
	struct acl_entry *ace;
	struct net_addr a;
	int rc;

	if (net_parse_ip(argv[1], &a) != 0) {
		conf_error(ctx, "redirect: invalid address '%s'", argv[1]);
		return 1;
	}
	pargv[0] = "1000";
	pargv[1] = "http";
	pargv[2] = argv[1];
	pargv[3] = argv[2];
	rc = parse_entry(ctx, 4, pargv, &e);
	if (rc != 0) {
		entry_free(&e);
		return rc;
	}
	r = acl_rule_compile(argc - 3, argv + 3, err, sizeof(err), warn,
			     sizeof(warn));
	if (r == NULL) {
		entry_free(&e);
		conf_error(ctx, "redirect: %s", err);
		return 1;
	}
	if (warn[0] != '\0')
		conf_warning(ctx, "redirect: %s", warn);
	if (argc > 10)
		conf_warning(ctx, "redirect: %d extra argument(s) ignored",
			     argc - 10);
	if (acl_append(&ctx->cur.acl, ACL_REDIRECT, r, 0) != 0 ||
	    (ace = acl_last_mutable(&ctx->cur.acl)) == NULL) {
		entry_free(&e);
		conf_error(ctx, "out of memory");
		return 21;
	}
	return attach_entry(ctx, ace, &e);
}

/* parentretries N (values <= 0 are ignored, as in 3proxy) */
int parent_cmd_parentretries(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], -1000000, 1000000, &v) != 0) {
		conf_error(ctx, "parentretries: invalid value '%s'", argv[1]);
		return 1;
	}
	if (v > 0)
		ctx->gen->parentretries = (int)v;
	return 0;
}

int parent_acl_check(struct conf_ctx *ctx, const struct acl *acl)
{
	size_t i, n = acl_count(acl);
	int bad, sum, rc = 0;

	for (i = 0; i < n; i++) {
		struct parent_list *pl = acl_entry_at(acl, i)->parents;

		if (pl == NULL || pl->reported ||
		    parent_weights_check(pl, &bad, &sum) == 0)
			continue;
		pl->reported = 1;
		/* 3proxy accepts a short last group: its hop is then used
		 * only with probability sum/1000 (reference parent.md 2),
		 * and real configs rely on that.  Say so, but keep them
		 * working. */
		conf_warning(ctx, "parent weights of the group starting at %s "
			     "add up to %d, not 1000: that hop is used only "
			     "with probability %d/1000", pl->e[bad].where, sum,
			     sum);
	}
	return rc;
}
