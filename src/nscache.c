/*
 * nscache.c - bounded name caches (see nscache.h).
 *
 * Chained hash table whose bucket array grows by doubling with the entry
 * count (starting small, so a big `nscache 1000000` costs nothing until
 * it fills), plus a list in insertion order that gives the entry to drop
 * when the table is full.
 */
#include "nscache.h"
#include "os.h"

#include <stdlib.h>
#include <string.h>

#define START_BUCKETS 64

struct ns_entry {
	struct ns_entry *hnext;          /* hash chain */
	struct ns_entry *older, *newer;  /* insertion order */
	uint64_t expires;                /* UINT64_MAX: never */
	uint32_t hash;
	uint8_t addr[16];
	uint8_t alen;
	char name[];                     /* NUL-terminated */
};

struct nscache {
	struct ns_entry **buckets;
	size_t nbuckets;                 /* power of two */
	size_t count, max;
	struct ns_entry *oldest, *newest;
};

/* FNV-1a: names are short; good enough spread for a chained table. */
static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

struct nscache *nscache_new(size_t max)
{
	struct nscache *c;

	if (max == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->nbuckets = START_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	c->max = max;
	return c;
}

void nscache_free(struct nscache *c)
{
	struct ns_entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->oldest; e != NULL; e = next) {
		next = e->newer;
		free(e);
	}
	free(c->buckets);
	free(c);
}

size_t nscache_max(const struct nscache *c)
{
	return c ? c->max : 0;
}

size_t nscache_count(const struct nscache *c)
{
	return c ? c->count : 0;
}

static struct ns_entry **find_slot(struct nscache *c, const char *name,
				   uint32_t h)
{
	struct ns_entry **pp = &c->buckets[h & (c->nbuckets - 1)];

	while (*pp != NULL &&
	       ((*pp)->hash != h || strcmp((*pp)->name, name) != 0))
		pp = &(*pp)->hnext;
	return pp;
}

static void unlink_order(struct nscache *c, struct ns_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	e->older = e->newer = NULL;
}

static void remove_entry(struct nscache *c, struct ns_entry *e)
{
	struct ns_entry **pp = find_slot(c, e->name, e->hash);

	if (*pp == e)
		*pp = e->hnext;
	unlink_order(c, e);
	c->count--;
	free(e);
}

/* Double the bucket array while the chains would get long; failing to
 * grow only makes chains longer. */
static void maybe_grow(struct nscache *c)
{
	struct ns_entry **nb, *e;
	size_t n, i;

	if (c->count < c->nbuckets * 2 || c->nbuckets >= c->max)
		return;
	n = c->nbuckets * 2;
	if (n > ((size_t)-1) / sizeof(*nb))
		return;
	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++) {
		while ((e = c->buckets[i]) != NULL) {
			c->buckets[i] = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

int nscache_put(struct nscache *c, const char *name, const void *addr,
		size_t alen, uint32_t ttl, uint64_t now)
{
	struct ns_entry **pp, *e;
	uint32_t h;
	size_t nlen;

	if (c == NULL || name == NULL || addr == NULL ||
	    (alen != 4 && alen != 16))
		return -1;
	nlen = strlen(name);
	h = hash_name(name);
	pp = find_slot(c, name, h);
	if (*pp != NULL)
		remove_entry(c, *pp);   /* replaced: it becomes the newest */
	while (c->count >= c->max && c->oldest != NULL)
		remove_entry(c, c->oldest);
	e = malloc(sizeof(*e) + nlen + 1);
	if (e == NULL)
		return -1;
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, nlen + 1);
	e->hash = h;
	memcpy(e->addr, addr, alen);
	e->alen = (uint8_t)alen;
	e->expires = ttl == NSCACHE_FOREVER ? UINT64_MAX : now + ttl;
	pp = &c->buckets[h & (c->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	maybe_grow(c);
	return 0;
}

int nscache_get(struct nscache *c, const char *name, uint8_t addr[16],
		size_t *alen, uint32_t *ttl_left, uint64_t now)
{
	struct ns_entry *e;

	if (c == NULL || name == NULL)
		return 0;
	e = *find_slot(c, name, hash_name(name));
	if (e == NULL)
		return 0;
	if (e->expires != UINT64_MAX && e->expires <= now) {
		remove_entry(c, e);
		return 0;
	}
	memcpy(addr, e->addr, e->alen);
	*alen = e->alen;
	if (e->expires == UINT64_MAX)
		*ttl_left = NSCACHE_FOREVER;
	else if (e->expires - now >= NSCACHE_FOREVER)
		*ttl_left = NSCACHE_FOREVER - 1;
	else
		*ttl_left = (uint32_t)(e->expires - now);
	return 1;
}

/* ---- the process-global caches --------------------------------------- */

static struct {
	os_mutex_t lock;          /* guards c and its content */
	struct nscache *c;
} global[2] = { { OS_MUTEX_INIT, NULL }, { OS_MUTEX_INIT, NULL } };

int nscache_global_configure(enum nscache_which w, size_t max)
{
	struct nscache *fresh = NULL, *old = NULL;

	os_mutex_lock(&global[w].lock);
	if (global[w].c != NULL && global[w].c->max == max) {
		os_mutex_unlock(&global[w].lock);
		return 0;
	}
	os_mutex_unlock(&global[w].lock);
	/* Allocate outside the lock; a concurrent configure (there is
	 * none: configs run on the main thread) would just win or lose. */
	fresh = nscache_new(max);
	if (fresh == NULL)
		return -1;
	os_mutex_lock(&global[w].lock);
	old = global[w].c;
	global[w].c = fresh;
	os_mutex_unlock(&global[w].lock);
	nscache_free(old);
	return 0;
}

size_t nscache_global_size(enum nscache_which w)
{
	size_t n;

	os_mutex_lock(&global[w].lock);
	n = nscache_max(global[w].c);
	os_mutex_unlock(&global[w].lock);
	return n;
}

int nscache_global_put(enum nscache_which w, const char *name,
		       const void *addr, size_t alen, uint32_t ttl,
		       uint64_t now)
{
	int rc = -1;

	os_mutex_lock(&global[w].lock);
	if (global[w].c != NULL)
		rc = nscache_put(global[w].c, name, addr, alen, ttl, now);
	os_mutex_unlock(&global[w].lock);
	return rc;
}

int nscache_global_get(enum nscache_which w, const char *name,
		       uint8_t addr[16], size_t *alen, uint32_t *ttl_left,
		       uint64_t now)
{
	int rc = 0;

	os_mutex_lock(&global[w].lock);
	if (global[w].c != NULL)
		rc = nscache_get(global[w].c, name, addr, alen, ttl_left, now);
	os_mutex_unlock(&global[w].lock);
	return rc;
}

void nscache_global_cleanup(void)
{
	int w;

	for (w = 0; w < 2; w++) {
		struct nscache *old;

		os_mutex_lock(&global[w].lock);
		old = global[w].c;
		global[w].c = NULL;
		os_mutex_unlock(&global[w].lock);
		nscache_free(old);
	}
}

uint64_t nscache_now(void)
{
	return os_monotonic_ms() / 1000;
}
