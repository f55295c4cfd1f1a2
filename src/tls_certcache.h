/*
 * tls_certcache.h - the library-free parts of the MITM certificate cache
 * (plugins.md section 3.2, F-TLS-04): the cache file name of a server
 * certificate and a small in-memory table of generated certificates.
 *
 * The table is shared by every connection of one service: its slots are
 * guarded by the table's own mutex (held only while a slot is looked up
 * or replaced, never during a handshake or a signature).  Values are
 * opaque and reference counted by the caller's ref/unref callbacks, so
 * a value handed out stays valid after another thread replaces its
 * slot.
 */
#ifndef PX_TLS_CERTCACHE_H
#define PX_TLS_CERTCACHE_H

#include <stddef.h>
#include "os.h"

/* SHA-256 of the server's certificate (DER). */
#define TLS_FP_LEN 32
/* The table keeps this many certificates (oldest replaced first). */
#define TLS_MEMCACHE_SLOTS 64

/* "<dir><H>.pem", H = the first 16 bytes of fp in uppercase hex.
 * Returns 0, or -1 when out (cap bytes) is too small. */
int tls_certcache_path(const char *dir, const unsigned char *fp,
		       char *out, size_t cap);

/* 1 if dir may name a cache directory: it ends with '/' or '\'. */
int tls_certcache_dir_ok(const char *dir);

struct tls_memcache {
	os_mutex_t lock;          /* guards slot[], next */
	size_t next;              /* slot replaced by the next insert */
	struct {
		unsigned char fp[TLS_FP_LEN];
		void *val;            /* NULL: empty */
	} slot[TLS_MEMCACHE_SLOTS];
	void (*ref)(void *val);   /* take one more reference */
	void (*unref)(void *val); /* drop one */
};

void tls_memcache_init(struct tls_memcache *m, void (*ref)(void *),
		       void (*unref)(void *));
/* Drop every value and the lock. */
void tls_memcache_free(struct tls_memcache *m);
/* The value cached for fp with a reference taken for the caller, or
 * NULL. */
void *tls_memcache_get(struct tls_memcache *m, const unsigned char *fp);
/* Cache val for fp (the table takes its own reference).  When fp is
 * there already, the cached value wins and is returned referenced
 * instead (NULL when val went in). */
void *tls_memcache_put(struct tls_memcache *m, const unsigned char *fp,
		       void *val);

#endif
