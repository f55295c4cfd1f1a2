/*
 * nscache.h - name -> address caches (F-DNS-02, F-DNS-03).
 *
 * struct nscache is a bounded hash table of names with an address and an
 * expiry time.  It has no lock and takes the current time as an argument,
 * so it is unit-tested with a clock of the test's choosing.  Keys are the
 * names exactly as given (case-sensitive, as in 3proxy).  When the table
 * is full the oldest entry (by insertion) is dropped; expired entries are
 * dropped when met.
 *
 * The process keeps two of them, for A and AAAA answers (`nscache`,
 * `nscache6`).  They are global, as in 3proxy, so they survive a reload;
 * the nscache_global_* calls wrap them with one mutex each and copy
 * results out, so no caller holds a lock while doing anything else.
 */
#ifndef PX_NSCACHE_H
#define PX_NSCACHE_H

#include <stddef.h>
#include <stdint.h>

#define NSCACHE_MIN 256                 /* smaller `nscache` is an error */
#define NSCACHE_FOREVER UINT32_MAX      /* a ttl that never expires */

struct nscache;

/* A table of at most max entries (max >= 1).  NULL if out of memory. */
struct nscache *nscache_new(size_t max);
void nscache_free(struct nscache *c);
size_t nscache_max(const struct nscache *c);
size_t nscache_count(const struct nscache *c);

/* Add or replace name -> addr (alen 4 or 16 bytes), valid for ttl
 * seconds after now (NSCACHE_FOREVER: never expires).  Times are in
 * seconds of any monotonic clock.  Returns 0, or -1 if out of memory or
 * the arguments are unusable. */
int nscache_put(struct nscache *c, const char *name, const void *addr,
		size_t alen, uint32_t ttl, uint64_t now);

/* Look name up at time now.  On a hit copies the address into addr
 * (16 bytes of room), its length into *alen and the seconds left into
 * *ttl_left (NSCACHE_FOREVER for a permanent entry); returns 1.
 * Returns 0 when absent or expired (the expired entry is dropped). */
int nscache_get(struct nscache *c, const char *name, uint8_t addr[16],
		size_t *alen, uint32_t *ttl_left, uint64_t now);

/* ---- the process-global caches ------------------------------------- */
enum nscache_which { NSCACHE_V4 = 0, NSCACHE_V6 = 1 };

/* `nscache N` / `nscache6 N`: make the cache hold N entries.  A cache of
 * the same size keeps its content; another size starts empty.  Returns
 * 0 or -1 (out of memory; the previous cache stays). */
int nscache_global_configure(enum nscache_which w, size_t max);
/* The configured size, 0 if none. */
size_t nscache_global_size(enum nscache_which w);
/* As nscache_put/nscache_get on the global cache; nothing happens (and
 * get returns 0) when that cache was never configured. */
int nscache_global_put(enum nscache_which w, const char *name,
		       const void *addr, size_t alen, uint32_t ttl,
		       uint64_t now);
int nscache_global_get(enum nscache_which w, const char *name,
		       uint8_t addr[16], size_t *alen, uint32_t *ttl_left,
		       uint64_t now);
/* Free both caches (process exit, tests). */
void nscache_global_cleanup(void);

/* Seconds of the monotonic clock, the `now` of the global callers. */
uint64_t nscache_now(void);

#endif
