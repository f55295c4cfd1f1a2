/*
 * test_tls_certcache.c - the library-free parts of the ssl_mitm
 * certificate cache (F-TLS-04, plugins.md 3.2): the cache file name of a
 * server certificate's fingerprint, the ssl_certcache directory check
 * and the bounded in-memory table with its references.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tls_certcache.h"

/* <dir> + the first 16 of 32 bytes in uppercase hex + ".pem" */
static void test_path_from_fingerprint(void **state)
{
	unsigned char fp[TLS_FP_LEN];
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fp); i++)
		fp[i] = (unsigned char)(i * 17 + 0x0a);
	assert_int_equal(tls_certcache_path("/var/cache/3proxy/", fp, out,
					    sizeof(out)), 0);
	assert_string_equal(out, "/var/cache/3proxy/"
			    "0A1B2C3D4E5F708192A3B4C5D6E7F809.pem");
	memset(fp, 0xff, sizeof(fp));
	assert_int_equal(tls_certcache_path("c:\\certs\\", fp, out,
					    sizeof(out)), 0);
	assert_string_equal(out, "c:\\certs\\FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF.pem");
}

/* Too small an output buffer is refused, exactly at the edge. */
static void test_path_buffer_edge(void **state)
{
	unsigned char fp[TLS_FP_LEN] = { 0 };
	char out[64];

	(void)state;
	/* "d/" + 32 + ".pem" + NUL = 39 */
	assert_int_equal(tls_certcache_path("d/", fp, out, 38), -1);
	assert_int_equal(tls_certcache_path("d/", fp, out, 39), 0);
	assert_int_equal(strlen(out), 38);
}

static void test_dir_check(void **state)
{
	(void)state;
	assert_true(tls_certcache_dir_ok("/tmp/"));
	assert_true(tls_certcache_dir_ok("c:\\x\\"));
	assert_false(tls_certcache_dir_ok("/tmp"));
	assert_false(tls_certcache_dir_ok(""));
}

/* A value is a counter of references. */
static void ref(void *v)
{
	(*(int *)v)++;
}

static void unref(void *v)
{
	(*(int *)v)--;
}

static void key(unsigned char *fp, int n)
{
	memset(fp, 0, TLS_FP_LEN);
	fp[0] = (unsigned char)n;
	fp[31] = (unsigned char)(n >> 8);
}

static void test_memcache_get_put(void **state)
{
	struct tls_memcache m;
	unsigned char a[TLS_FP_LEN], b[TLS_FP_LEN];
	int va = 1, vb = 1;

	(void)state;
	tls_memcache_init(&m, ref, unref);
	key(a, 1);
	key(b, 2);
	assert_null(tls_memcache_get(&m, a));
	assert_null(tls_memcache_put(&m, a, &va));
	assert_int_equal(va, 2);              /* ours + the table's */
	assert_ptr_equal(tls_memcache_get(&m, a), &va);
	assert_int_equal(va, 3);
	assert_null(tls_memcache_get(&m, b));
	/* a second insert of the same key: the cached value wins */
	assert_ptr_equal(tls_memcache_put(&m, a, &vb), &va);
	assert_int_equal(vb, 1);
	assert_int_equal(va, 4);
	tls_memcache_free(&m);
	assert_int_equal(va, 3);
}

/* The table is bounded: the oldest entry goes and loses its reference. */
static void test_memcache_bounded(void **state)
{
	struct tls_memcache m;
	unsigned char fp[TLS_FP_LEN];
	int v[TLS_MEMCACHE_SLOTS + 1];
	int i;

	(void)state;
	tls_memcache_init(&m, ref, unref);
	for (i = 0; i <= TLS_MEMCACHE_SLOTS; i++) {
		v[i] = 0;
		key(fp, i);
		assert_null(tls_memcache_put(&m, fp, &v[i]));
	}
	assert_int_equal(v[0], 0);            /* replaced */
	key(fp, 0);
	assert_null(tls_memcache_get(&m, fp));
	for (i = 1; i <= TLS_MEMCACHE_SLOTS; i++) {
		assert_int_equal(v[i], 1);
		key(fp, i);
		assert_ptr_equal(tls_memcache_get(&m, fp), &v[i]);
	}
	tls_memcache_free(&m);
	for (i = 1; i <= TLS_MEMCACHE_SLOTS; i++)
		assert_int_equal(v[i], 1);    /* only the gets' refs left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_from_fingerprint),
		cmocka_unit_test(test_path_buffer_edge),
		cmocka_unit_test(test_dir_check),
		cmocka_unit_test(test_memcache_get_put),
		cmocka_unit_test(test_memcache_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
