/*
 * tls_certcache.c - cache file names and the in-memory certificate table
 * of TLS interception (see tls_certcache.h).  No TLS library here.
 */
#include "tls_certcache.h"

#include <string.h>

int tls_certcache_path(const char *dir, const unsigned char *fp,
		       char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t d = strlen(dir), i;

	/* dir, 32 hex digits, ".pem", NUL */
	if (cap < d + 32 + 5)
		return -1;
	memcpy(out, dir, d);
	for (i = 0; i < 16; i++) {
		out[d + 2 * i] = hex[fp[i] >> 4];
		out[d + 2 * i + 1] = hex[fp[i] & 15];
	}
	memcpy(out + d + 32, ".pem", 5);
	return 0;
}

int tls_certcache_dir_ok(const char *dir)
{
	size_t n = strlen(dir);

	return n > 0 && (dir[n - 1] == '/' || dir[n - 1] == '\\');
}

void tls_memcache_init(struct tls_memcache *m, void (*ref)(void *),
		       void (*unref)(void *))
{
	memset(m, 0, sizeof(*m));
	os_mutex_init(&m->lock);
	m->ref = ref;
	m->unref = unref;
}

void tls_memcache_free(struct tls_memcache *m)
{
	size_t i;

	for (i = 0; i < TLS_MEMCACHE_SLOTS; i++)
		if (m->slot[i].val != NULL)
			m->unref(m->slot[i].val);
	os_mutex_destroy(&m->lock);
	memset(m->slot, 0, sizeof(m->slot));
}

/* Index of fp, or -1.  Called with the lock held. */
static int memcache_find(const struct tls_memcache *m,
			 const unsigned char *fp)
{
	size_t i;

	for (i = 0; i < TLS_MEMCACHE_SLOTS; i++)
		if (m->slot[i].val != NULL &&
		    memcmp(m->slot[i].fp, fp, TLS_FP_LEN) == 0)
			return (int)i;
	return -1;
}

void *tls_memcache_get(struct tls_memcache *m, const unsigned char *fp)
{
	void *v = NULL;
	int i;

	os_mutex_lock(&m->lock);
	i = memcache_find(m, fp);
	if (i >= 0) {
		v = m->slot[i].val;
		m->ref(v);
	}
	os_mutex_unlock(&m->lock);
	return v;
}

void *tls_memcache_put(struct tls_memcache *m, const unsigned char *fp,
		       void *val)
{
	void *old = NULL, *won = NULL;
	size_t at;
	int i;

	os_mutex_lock(&m->lock);
	i = memcache_find(m, fp);
	if (i >= 0) {
		/* another connection generated it meanwhile */
		won = m->slot[i].val;
		m->ref(won);
	} else {
		at = m->next;
		m->next = (m->next + 1) % TLS_MEMCACHE_SLOTS;
		old = m->slot[at].val;
		memcpy(m->slot[at].fp, fp, TLS_FP_LEN);
		m->slot[at].val = val;
		m->ref(val);
	}
	os_mutex_unlock(&m->lock);
	/* the old value's last reference may be dropped outside the lock */
	if (old != NULL)
		m->unref(old);
	return won;
}
