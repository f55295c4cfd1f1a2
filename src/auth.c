/*
 * auth.c - the per-service authentication chain and the auth cache.
 *
 * Owns struct auth_conf (copied into each svc_conf) and the process-wide
 * auth cache.  Uses users.c for `strong`, radius.c for `radius`, acl.c
 * for the ACL step.  It does not talk to the client: handlers turn its
 * codes into replies.
 *
 * Locking: only the cache is shared.  cache_lock guards every cache
 * field; it is held for a table operation only (no I/O, no allocation
 * that could block for long) and results are copied out before it is
 * released.  Everything else read here belongs to an immutable config
 * generation or to the calling worker's own struct client.
 */
#include "auth.h"
#include "resolve.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "os.h"
#include "pwhash.h"
#include "radius.h"
#include "service.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#endif

#ifndef NI_NAMEREQD
#define NI_NAMEREQD 8
#endif

static const struct auth_conf auth_default = {
	{ AUTH_IPONLY }, { { NULL, NULL, NULL } }, 1, 0, AUTH_CACHE_DEFAULT_TIME,
	AUTH_CACHE_DEFAULT_SIZE, 0
};

static uint64_t next_conf_id;   /* atomic */

/* ---- settings ----------------------------------------------------------- */

struct auth_conf *
auth_conf_snapshot(const struct auth_conf *cur)
{
	struct auth_conf *ac = malloc(sizeof(*ac));

	if (ac == NULL)
		return NULL;
	*ac = cur ? *cur : auth_default;
	ac->id = os_atomic_inc(&next_conf_id);
	return ac;
}

void
auth_conf_free(struct auth_conf *ac)
{
	free(ac);
}

void
auth_cursor_release(struct conf_cursor *c)
{
	acl_unref(c->acl);
	c->acl = NULL;
	auth_conf_free(c->auth);
	c->auth = NULL;
}

int
auth_delimchar(const struct conf_gen *g)
{
	return g && g->delimchar ? g->delimchar : '@';
}

/* ---- the cache ---------------------------------------------------------- */

#define CACHE_KEY_MAX 1024
#define CACHE_MIN_BUCKETS 1024

struct cache_entry {
	uint8_t *key;
	size_t keylen;
	uint64_t hash;
	char user[AUTH_CACHE_USER_MAX + 1];
	uint8_t ip[17];                 /* family tag + address (limit) */
	uint64_t expires;               /* monotonic seconds */
	struct cache_entry *hnext;      /* bucket chain */
	struct cache_entry *older, *newer;  /* write order */
};

static os_mutex_t cache_lock = OS_MUTEX_INIT;   /* guards the fields below */
static struct cache_entry **cache_bucket;
static size_t cache_nbuckets, cache_count;
static struct cache_entry *cache_oldest, *cache_newest;
static uint8_t cache_secret[32];   /* keys the password digests */
static int cache_seeded;

static uint64_t
key_hash(const uint8_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= *k++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Passwords never enter the cache: only a digest keyed with a per-process
 * value does.  The value need not be unpredictable for that, so clocks
 * and ids suffice (no portable entropy source is needed). */
static void
cache_seed(void)
{
	struct {
		uint64_t mono;
		struct timespec ts;
		unsigned long pid, tid;
		const void *where;
	} s;

	memset(&s, 0, sizeof(s));
	s.mono = os_monotonic_ms();
	os_realtime(&s.ts);
	s.pid = os_process_id();
	s.tid = os_thread_id();
	s.where = &s;
	pwhash_blake2b(cache_secret, sizeof(cache_secret), NULL, 0, &s,
		       sizeof(s));
	cache_seeded = 1;
}

static void
unlink_age(struct cache_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		cache_oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		cache_newest = e->older;
	e->older = e->newer = NULL;
}

static void
push_newest(struct cache_entry *e)
{
	e->older = cache_newest;
	e->newer = NULL;
	if (cache_newest)
		cache_newest->newer = e;
	else
		cache_oldest = e;
	cache_newest = e;
}

static void
cache_remove(struct cache_entry *e)
{
	struct cache_entry **pp = &cache_bucket[e->hash & (cache_nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_age(e);
	cache_count--;
	pwhash_wipe(e->key, e->keylen);
	free(e->key);
	pwhash_wipe(e, sizeof(*e));
	free(e);
}

static struct cache_entry *
cache_find(const uint8_t *key, size_t n, uint64_t h)
{
	struct cache_entry *e;

	if (cache_bucket == NULL)
		return NULL;
	for (e = cache_bucket[h & (cache_nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->keylen == n &&
		    memcmp(e->key, key, n) == 0)
			return e;
	return NULL;
}

static void
cache_grow(void)
{
	size_t n = cache_nbuckets ? cache_nbuckets * 2 : CACHE_MIN_BUCKETS, i;
	struct cache_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;   /* keep the old table: chains just get longer */
	for (i = 0; i < cache_nbuckets; i++) {
		while (cache_bucket[i]) {
			struct cache_entry *e = cache_bucket[i];

			cache_bucket[i] = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(cache_bucket);
	cache_bucket = b;
	cache_nbuckets = n;
}

void
auth_cache_reset(void)
{
	os_mutex_lock(&cache_lock);
	while (cache_oldest != NULL)
		cache_remove(cache_oldest);
	free(cache_bucket);
	cache_bucket = NULL;
	cache_nbuckets = 0;
	os_mutex_unlock(&cache_lock);
}

size_t
auth_cache_count(void)
{
	size_t n;

	os_mutex_lock(&cache_lock);
	n = cache_count;
	os_mutex_unlock(&cache_lock);
	return n;
}

/* ---- cache keys --------------------------------------------------------- */

struct keybuf {
	uint8_t b[CACHE_KEY_MAX];
	size_t n;
	int bad;       /* an item did not fit: do not use the cache */
};

static void
key_put(struct keybuf *k, uint8_t tag, const void *p, size_t n)
{
	if (k->bad || n > 0xffff || k->n + 3 + n > sizeof(k->b)) {
		k->bad = 1;
		return;
	}
	k->b[k->n++] = tag;
	k->b[k->n++] = (uint8_t)(n >> 8);
	k->b[k->n++] = (uint8_t)n;
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

/* Family and bytes of an address in 17 bytes (zero if none). */
static void
addr_tagged(const struct net_addr *a, uint8_t out[17])
{
	memset(out, 0, 17);
	if (a->len == 0)
		return;
	if (net_family(a) == AF_INET) {
		out[0] = 4;
		memcpy(out + 1, &((const struct sockaddr_in *)&a->ss)->sin_addr,
		       4);
	} else if (net_family(a) == AF_INET6) {
		out[0] = 6;
		memcpy(out + 1,
		       &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
	}
}

/* Build the key of a request under a cache type.  The type itself is
 * part of the key, so services with different types never share. */
static int
build_key(struct keybuf *k, const struct auth_conf *ac,
	  const struct client *cl, const char *user, const char *pass)
{
	unsigned t = ac->cache_type;
	uint8_t a[17], d[16], tb[4];
	uint16_t port;

	k->n = 0;
	k->bad = 0;
	tb[0] = (uint8_t)(t >> 24);
	tb[1] = (uint8_t)(t >> 16);
	tb[2] = (uint8_t)(t >> 8);
	tb[3] = (uint8_t)t;
	key_put(k, 't', tb, 4);
	if ((t & AC_IP) && !(t & AC_LIMIT)) {
		addr_tagged(&cl->cl_peer, a);
		key_put(k, 'i', a, sizeof(a));
	}
	if (t & AC_USER) {
		if (user == NULL)
			return -1;
		key_put(k, 'u', user, strlen(user));
	}
	if (t & AC_PASS) {
		if (pass == NULL)
			return -1;
		pwhash_blake2b(d, sizeof(d), cache_secret, sizeof(cache_secret),
			       pass, strlen(pass));
		key_put(k, 'p', d, sizeof(d));
		pwhash_wipe(d, sizeof(d));
	}
	if (t & AC_ACL)
		key_put(k, 'a', &ac->id, sizeof(ac->id));
	if (t & AC_DSTADDR) {
		addr_tagged(&cl->req.addr, a);
		key_put(k, 'd', a, sizeof(a));
	}
	if (t & AC_DSTPORT)
		key_put(k, 'P', &cl->req.port, sizeof(cl->req.port));
	if (t & AC_DSTHOST) {
		const char *h = cl->req.host ? cl->req.host : "";

		key_put(k, 'h', h, strlen(h));
	}
	if (t & AC_DSTOPER)
		key_put(k, 'o', &cl->req.command, sizeof(cl->req.command));
	if (t & AC_SRVADDR) {
		addr_tagged(&cl->conf->listen, a);
		key_put(k, 's', a, sizeof(a));
	}
	if (t & AC_SRVPORT) {
		port = net_get_port(&cl->conf->listen);
		key_put(k, 'S', &port, sizeof(port));
	}
	return k->bad ? -1 : 0;
}

/* The password digests are keyed with cache_secret, set once under the
 * lock; after this returns it is only read. */
static void
cache_ensure_seed(void)
{
	os_mutex_lock(&cache_lock);
	if (!cache_seeded)
		cache_seed();
	os_mutex_unlock(&cache_lock);
}

/* `cache`/`cacheacl` authenticate step: 0 on a hit (the cached name is
 * assigned when the key has no user), ERR_AUTH_NOUSER on a miss,
 * ERR_LIMIT when `limit` binds the entry to another address.  The key
 * is built before the lock is taken; only the table lookup holds it. */
static int
cache_lookup(struct client *cl, const struct auth_conf *ac, uint64_t mono)
{
	struct keybuf *k;
	struct cache_entry *e;
	char user[AUTH_CACHE_USER_MAX + 1];
	uint8_t ip[17];
	uint64_t h;
	int rc = ERR_AUTH_NOUSER;

	if (ac->cache_type == 0)
		return ERR_AUTH_NOUSER;     /* no `authcache`: nothing cached */
	cache_ensure_seed();
	k = malloc(sizeof(*k));
	if (k == NULL)
		return ERR_AUTH_NOUSER;
	if (build_key(k, ac, cl, cl->cred.user, cl->cred.password) != 0)
		goto out;
	h = key_hash(k->b, k->n);
	addr_tagged(&cl->cl_peer, ip);
	os_mutex_lock(&cache_lock);
	e = cache_find(k->b, k->n, h);
	if (e != NULL && e->expires <= mono) {
		cache_remove(e);
		e = NULL;
	}
	if (e != NULL) {
		memcpy(user, e->user, sizeof(user));
		rc = 0;
		if ((ac->cache_type & (AC_LIMIT | AC_IP)) == (AC_LIMIT | AC_IP)
		    && memcmp(ip, e->ip, sizeof(ip)) != 0)
			rc = ERR_LIMIT;
	}
	os_mutex_unlock(&cache_lock);
	if (rc == 0 && !(ac->cache_type & AC_USER)) {
		/* "ip" caching: the address is that user now (acl-auth 2) */
		char *u = strdup(user);

		if (u == NULL) {
			rc = ERR_AUTH_NOUSER;
			goto out;
		}
		pwhash_free_secret(cl->cred.user);
		cl->cred.user = u;
	}
out:
	pwhash_wipe(k, sizeof(*k));
	free(k);
	return rc;
}

/* Insert a new entry (the caller holds the lock).  Takes ownership of
 * e and its key; returns -1 (and frees nothing) if the table has no
 * buckets and cannot get any. */
static int
cache_insert(struct cache_entry *e, uint64_t mono, long size)
{
	/* make room: expired entries first, then the oldest */
	while (cache_oldest && (cache_oldest->expires <= mono ||
	       cache_count >= (size_t)size))
		cache_remove(cache_oldest);
	if (cache_count >= cache_nbuckets)
		cache_grow();   /* rare: the table doubles */
	if (cache_bucket == NULL)
		return -1;
	e->hnext = cache_bucket[e->hash & (cache_nbuckets - 1)];
	cache_bucket[e->hash & (cache_nbuckets - 1)] = e;
	cache_count++;
	return 0;
}

/* Remember a successful authentication.  The key and the new entry are
 * made before the lock is taken. */
static void
cache_store(struct client *cl, const struct auth_conf *ac, uint64_t mono)
{
	struct keybuf *k;
	struct cache_entry *e, *fresh = NULL;
	uint8_t *key = NULL;

	if (ac->cache_type == 0 || cl->cred.user == NULL ||
	    strlen(cl->cred.user) > AUTH_CACHE_USER_MAX ||
	    ((ac->cache_type & AC_PASS) && cl->cred.password == NULL))
		return;
	cache_ensure_seed();
	k = malloc(sizeof(*k));
	if (k == NULL)
		return;
	if (build_key(k, ac, cl, cl->cred.user, cl->cred.password) != 0)
		goto out;
	fresh = calloc(1, sizeof(*fresh));
	key = malloc(k->n);
	if (fresh == NULL || key == NULL)
		goto out;
	memcpy(key, k->b, k->n);
	fresh->key = key;
	fresh->keylen = k->n;
	fresh->hash = key_hash(k->b, k->n);
	snprintf(fresh->user, sizeof(fresh->user), "%s", cl->cred.user);
	addr_tagged(&cl->cl_peer, fresh->ip);
	fresh->expires = mono + (uint64_t)ac->cache_time;
	os_mutex_lock(&cache_lock);
	e = cache_find(key, k->n, fresh->hash);
	if (e != NULL) {
		/* rewrite in place: it becomes the newest entry */
		unlink_age(e);
		memcpy(e->user, fresh->user, sizeof(e->user));
		memcpy(e->ip, fresh->ip, sizeof(e->ip));
		e->expires = fresh->expires;
		push_newest(e);
	} else if (cache_insert(fresh, mono, ac->cache_size) == 0) {
		push_newest(fresh);
		fresh = NULL;
		key = NULL;
	}
	os_mutex_unlock(&cache_lock);
out:
	if (key != NULL) {
		pwhash_wipe(key, k->n);
		free(key);
	}
	pwhash_wipe(k, sizeof(*k));
	free(k);
	if (fresh != NULL) {
		pwhash_wipe(fresh, sizeof(*fresh));
		free(fresh);
	}
}

/* ---- methods ------------------------------------------------------------ */

static int
same_addr(const struct sockaddr *sa, const struct net_addr *peer)
{
	uint8_t a[17], b[17];
	struct net_addr tmp;

	net_from_sockaddr(&tmp, sa, (os_socklen_t)(sa->sa_family == AF_INET6
		? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)));
	addr_tagged(&tmp, a);
	addr_tagged(peer, b);
	return a[0] != 0 && memcmp(a, b, sizeof(a)) == 0;
}

/* dnsname (F-AUTH-05): the client's PTR name, confirmed by a forward
 * lookup giving the client's address back, becomes the user name.  Any
 * failure is ERR_ACL_NOMATCH, as in 3proxy. */
static int
dnsname_auth(struct client *cl)
{
	char host[1025];
	struct net_addr back;
	char *u;

	/* The client's PTR name counts only if it resolves back to the
	 * client (authnserver, else nserver, else the system resolver). */
	if (cl->cl_peer.len == 0 ||
	    resolve_auth_reverse(cl->gen, &cl->cl_peer, host,
				 sizeof(host)) != 0)
		return ERR_ACL_NOMATCH;
	if (resolve_auth_forward(cl->gen, host, net_family(&cl->cl_peer),
				 &back) != 0 ||
	    !same_addr((const struct sockaddr *)&back.ss, &cl->cl_peer))
		return ERR_ACL_NOMATCH;
	if ((u = strdup(host)) == NULL)
		return ERR_ACL_NOMATCH;
	pwhash_free_secret(cl->cred.user);
	cl->cred.user = u;
	return 0;
}

/* ---- the chain (acl-auth.md 1.1, F-AUTH-06) ------------------------------ */

struct chain {
	struct client *cl;
	const struct users *users;       /* table for `strong` */
	time_t now;
	struct acl_state st;             /* weight within this request */
	const struct acl_entry *decider; /* ACE of the last ACL evaluation */
};

static int
acl_step(struct chain *c, const char *user)
{
	int rc = acl_match(c->cl->conf->acl, &c->cl->req, user,
			   &c->cl->cl_peer, c->now, &c->st);

	c->decider = c->st.entry;
	return rc;
}

/* A rewriting type (utf8tocp1251) changes the strings in place, within
 * their length: the later methods of the chain see the new ones. */
static int
plugin_rewrite(const struct auth_plugin_ref *p, struct client *cl)
{
	char *u = cl->cred.user, *pw = cl->cred.password;
	size_t ul = u ? strlen(u) + 1 : 0, pl = pw ? strlen(pw) + 1 : 0;
	int rc = p->rewrite(p->arg, u, ul, pw, pl);

	/* a plugin that wrote no terminator still leaves strings */
	if (u != NULL)
		u[ul - 1] = '\0';
	if (pw != NULL)
		pw[pl - 1] = '\0';
	return rc;
}

/* A plugin's answer: anything but 0 or a documented code counts as a
 * wrong password, so a plugin cannot stop the chain by accident. */
static int
plugin_auth(const struct auth_plugin_ref *p, struct client *cl)
{
	int rc;

	if (p->rewrite != NULL)
		rc = plugin_rewrite(p, cl);
	else if (p->fn != NULL)
		rc = p->fn(p->arg, cl->cred.user, cl->cred.password);
	else
		return ERR_AUTH_NOUSER;
	if (rc < 0 || rc > ERR_AUTH_BADPASS_NT)
		return ERR_AUTH_UNKNOWN;
	return rc;
}

/* Authenticate with method i of the chain.  *authorize tells whether the
 * ACL is evaluated with the user name afterwards. */
static int
authenticate(struct chain *c, const struct auth_conf *ac, int i,
	     uint64_t mono, int *authorize)
{
	struct client *cl = c->cl;

	*authorize = 1;
	switch (ac->methods[i]) {
	case AUTH_NONE:
		*authorize = 0;
		return 0;
	case AUTH_IPONLY:
		/* the ACL is the check, as if no user name were given */
		*authorize = 0;
		return acl_step(c, NULL);
	case AUTH_USERONLY:
		return cl->cred.user ? 0 : ERR_AUTH_NOUSER;
	case AUTH_DNSNAME:
		return dnsname_auth(cl);
	case AUTH_STRONG:
		return users_check(c->users, cl->cred.user, cl->cred.password);
	case AUTH_CACHE:
		return cache_lookup(cl, ac, mono);
	case AUTH_CACHEACL:
		*authorize = 0;
		return cache_lookup(cl, ac, mono);
	case AUTH_RADIUS:
		return radius_auth(cl);
	case AUTH_PLUGIN:
		return plugin_auth(&ac->plug[i], cl);
	default:
		return ERR_AUTH_NOUSER;
	}
}

/* Methods whose success vouches for the user name.  Successes of `none`
 * and `iponly` are not cached even when the client sent some name: it
 * was never checked, and a cached entry would let it stand for later
 * requests (3proxy caches those too; we deliberately do not). */
static int
stores_in_cache(int m)
{
	return m == AUTH_USERONLY || m == AUTH_STRONG || m == AUTH_DNSNAME ||
	       m == AUTH_RADIUS || m == AUTH_PLUGIN;
}

static int
chain_done(struct chain *c, int rc)
{
	/* F-ACL-09 `nolog`: this request writes no record (a keep-alive connection
	 * decides again for its next request). */
	c->cl->nolog = c->decider != NULL && c->decider->nolog;
	/* F-PAR-01: an allowing ACE with parents chains the connection */
	c->cl->parents = rc == 0 && c->decider != NULL ? c->decider->parents
						       : NULL;
	return rc;
}

/* Address entries of targets need the requested address.  Handlers set
 * it when they have it; a literal host is parsed here, and a name is
 * resolved when the ACL has address entries, as 3proxy resolves before
 * its ACL check (otherwise an address-only ACE would match any named
 * request, F-ACL-05 [quirk]).  client_connect() reuses the result. */
static void
request_address(struct client *cl)
{
	struct net_addr a;
	const struct svc_conf *sc = cl->conf;

	if (cl->req.addr.len != 0 || cl->req.host == NULL)
		return;
	if (net_parse_ip(cl->req.host, &a) == 0 ||
	    (sc != NULL && acl_wants_target_addr(sc->acl) &&
	     resolve_name(cl->gen, cl->req.host, sc->family, &a) == 0))
		cl->req.addr = a;
}

static int
auth_run(struct client *cl, const struct users *users, time_t now,
	 uint64_t mono)
{
	const struct auth_conf *ac = cl->conf && cl->conf->auth
					     ? cl->conf->auth : &auth_default;
	struct chain c;
	int best = 0, rc, i, authorize;

	memset(&c, 0, sizeof(c));
	c.cl = cl;
	c.users = users;
	c.now = now;
	/* F-PAR-06: after a local redirection the ACL is checked again,
	 * without the ACEs that redirect locally */
	c.st.skip_local = cl->redirect_depth > 0;
	free(cl->ext_addr);     /* a method may choose it again */
	cl->ext_addr = NULL;
	request_address(cl);
	for (i = 0; i < ac->nmethods; i++) {
		int m = ac->methods[i];

		rc = authenticate(&c, ac, i, mono, &authorize);
		if (rc == 0) {
			/* the ACL result with the name is final */
			if (authorize)
				rc = acl_step(&c, cl->cred.user);
			if (rc != 0)
				return chain_done(&c, rc);
			if (stores_in_cache(m))
				cache_store(cl, ac, mono);
			return chain_done(&c, 0);
		}
		if (rc > best)
			best = rc;
		if (best >= ERR_LIMIT)
			break;
	}
	return chain_done(&c, best);
}

int
auth_authorize_at(struct client *cl, time_t now, uint64_t mono)
{
	return auth_run(cl, cl->gen ? cl->gen->users : NULL, now, mono);
}

int
auth_reauthorize(struct client *cl, const struct conf_gen *gen)
{
	return auth_run(cl, gen ? gen->users : NULL, time(NULL),
			os_monotonic_ms() / 1000);
}

/* The methods of a service's auth chain, one bit per auth_method. */
static unsigned
auth_chain_methods(const struct svc_conf *sc)
{
	const struct auth_conf *ac = sc && sc->auth ? sc->auth : &auth_default;
	unsigned set = 0;
	int i;

	for (i = 0; i < ac->nmethods; i++)
		set |= 1u << ac->methods[i];
	return set;
}

#define AUTH_BIT(m) (1u << (m))

int
auth_wants_user(const struct svc_conf *sc)
{
	return (auth_chain_methods(sc) &
		(AUTH_BIT(AUTH_USERONLY) | AUTH_BIT(AUTH_STRONG) |
		 AUTH_BIT(AUTH_CACHE) | AUTH_BIT(AUTH_CACHEACL) |
		 AUTH_BIT(AUTH_RADIUS) | AUTH_BIT(AUTH_PLUGIN))) != 0;
}

int
auth_may_block(const struct svc_conf *sc)
{
	return (auth_chain_methods(sc) &
		(AUTH_BIT(AUTH_DNSNAME) | AUTH_BIT(AUTH_RADIUS) |
		 AUTH_BIT(AUTH_PLUGIN))) != 0;
}

int
auth_authorize(struct client *cl)
{
	return auth_authorize_at(cl, time(NULL), os_monotonic_ms() / 1000);
}

/* ---- config commands ---------------------------------------------------- */

static struct auth_conf *
cursor_auth(struct conf_ctx *ctx)
{
	if (ctx->cur.auth == NULL) {
		ctx->cur.auth = malloc(sizeof(*ctx->cur.auth));
		if (ctx->cur.auth == NULL) {
			conf_error(ctx, "out of memory");
			return NULL;
		}
		*ctx->cur.auth = auth_default;
	}
	return ctx->cur.auth;
}

static const struct {
	const char *name;
	enum auth_method m;
} method_names[] = {
	{ "none", AUTH_NONE }, { "iponly", AUTH_IPONLY },
	{ "useronly", AUTH_USERONLY }, { "dnsname", AUTH_DNSNAME },
	{ "strong", AUTH_STRONG }, { "cache", AUTH_CACHE },
	{ "cacheacl", AUTH_CACHEACL }, { "radius", AUTH_RADIUS },
};

/* ---- auth types of plugins ----------------------------------------------
 * Written and read by the main thread during a config run only. */
static struct {
	char name[AUTH_PLUGIN_NAME_MAX + 1];
	struct auth_plugin_ref ref;
} plugin_types[AUTH_PLUGIN_MAX];
static int nplugin_types;

static int
builtin_method(const char *name)
{
	size_t j;

	for (j = 0; j < sizeof(method_names) / sizeof(method_names[0]); j++)
		if (strcmp(name, method_names[j].name) == 0)
			return (int)j;
	return -1;
}

static const struct auth_plugin_ref *
plugin_type(const char *name)
{
	int i;

	for (i = 0; i < nplugin_types; i++)
		if (strcmp(plugin_types[i].name, name) == 0)
			return &plugin_types[i].ref;
	return NULL;
}

static int
plugin_type_set(const char *name, auth_plugin_fn fn,
		auth_plugin_rewrite_fn rewrite, void *arg)
{
	struct auth_plugin_ref *r;
	size_t n = name ? strlen(name) : 0;

	if ((fn == NULL && rewrite == NULL) || n == 0 ||
	    n > AUTH_PLUGIN_NAME_MAX || builtin_method(name) >= 0)
		return -1;
	r = (struct auth_plugin_ref *)plugin_type(name);
	if (r == NULL) {
		if (nplugin_types >= AUTH_PLUGIN_MAX)
			return -1;
		memcpy(plugin_types[nplugin_types].name, name, n + 1);
		r = &plugin_types[nplugin_types++].ref;
	}
	r->fn = fn;
	r->rewrite = rewrite;
	r->arg = arg;
	return 0;
}

int
auth_plugin_register(const char *name, auth_plugin_fn fn, void *arg)
{
	return fn ? plugin_type_set(name, fn, NULL, arg) : -1;
}

int
auth_plugin_register_rewrite(const char *name, auth_plugin_rewrite_fn fn,
			     void *arg)
{
	return fn ? plugin_type_set(name, NULL, fn, arg) : -1;
}

void
auth_plugins_reset(void)
{
	memset(plugin_types, 0, sizeof(plugin_types));
	nplugin_types = 0;
}

/* auth TYPE... (F-AUTH-01..09, F-AUTH-15: `nbname` is unknown; F-PLUG-02:
 * types registered by plugins) */
int
auth_cmd_auth(struct conf_ctx *ctx, int argc, char **argv)
{
	unsigned char m[AUTH_MAX_METHODS];
	struct auth_plugin_ref plug[AUTH_MAX_METHODS];
	const struct auth_plugin_ref *p;
	struct auth_conf *ac;
	int i, j;

	if (argc - 1 > AUTH_MAX_METHODS) {
		conf_error(ctx, "auth: at most %d methods", AUTH_MAX_METHODS);
		return 1;
	}
	memset(plug, 0, sizeof(plug));
	for (i = 1; i < argc; i++) {
		j = builtin_method(argv[i]);
		if (j < 0 && (p = plugin_type(argv[i])) != NULL) {
			plug[i - 1] = *p;
			m[i - 1] = AUTH_PLUGIN;
			continue;
		}
		if (j < 0) {
			conf_error(ctx, "auth: unknown authentication type "
				   "'%s'", argv[i]);
			return 1;
		}
		if (method_names[j].m == AUTH_RADIUS && !radius_available()) {
			conf_error(ctx, "auth: 'radius' needs an MD5 library "
				   "(libmd) that this build lacks");
			return 1;
		}
		m[i - 1] = (unsigned char)method_names[j].m;
	}
	ac = cursor_auth(ctx);
	if (ac == NULL)
		return 21;
	memcpy(ac->methods, m, (size_t)(argc - 1));
	memcpy(ac->plug, plug, sizeof(plug));
	ac->nmethods = argc - 1;
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} cache_items[] = {
	{ "ip", AC_IP }, { "user", AC_USER }, { "pass", AC_PASS },
	{ "limit", AC_LIMIT }, { "acl", AC_ACL }, { "ext", AC_EXT },
	{ "dstaddr", AC_DSTADDR }, { "dstport", AC_DSTPORT },
	{ "dsthost", AC_DSTHOST }, { "dstoper", AC_DSTOPER },
	{ "srvaddr", AC_SRVADDR }, { "srvport", AC_SRVPORT },
};

/* authcache TYPES [SECONDS [ENTRIES]] (F-AUTH-07).  Items are found as
 * substrings, as 3proxy does; none recognised means user,password. */
int
auth_cmd_authcache(struct conf_ctx *ctx, int argc, char **argv)
{
	struct auth_conf *ac;
	unsigned t = 0;
	long v;
	size_t i;

	for (i = 0; i < sizeof(cache_items) / sizeof(cache_items[0]); i++)
		if (strstr(argv[1], cache_items[i].name) != NULL)
			t |= cache_items[i].bit;
	if (t == 0)
		t = AC_USER | AC_PASS;
	ac = cursor_auth(ctx);
	if (ac == NULL)
		return 21;
	ac->cache_type = t;
	ac->cache_time = AUTH_CACHE_DEFAULT_TIME;
	ac->cache_size = AUTH_CACHE_DEFAULT_SIZE;
	if (argc > 2) {
		if (conf_parse_long(argv[2], 1, 100000000, &v) == 0)
			ac->cache_time = v;
		else
			conf_warning(ctx, "authcache: invalid time '%s': %d s "
				     "used", argv[2], AUTH_CACHE_DEFAULT_TIME);
	}
	if (argc > 3) {
		if (conf_parse_long(argv[3], 1, 100000000, &v) == 0)
			ac->cache_size = v;
		else
			conf_warning(ctx, "authcache: invalid size '%s': %d "
				     "used", argv[3], AUTH_CACHE_DEFAULT_SIZE);
	}
	return 0;
}

/* delimchar C: separator of user and host in protocol logins (live, per
 * generation). */
int
auth_cmd_delimchar(struct conf_ctx *ctx, int argc, char **argv)
{
	if (argv[1][0] == '\0') {
		conf_error(ctx, "delimchar: empty argument");
		return 1;
	}
	ctx->gen->delimchar = (unsigned char)argv[1][0];
	return 0;
}
