/*
 * test_nscache.c - the name caches (F-DNS-02) and the nsrecord tables
 * built on them (F-DNS-03): TTL expiry with a clock of the test's
 * choosing, permanent entries, bounded size, the process-global caches
 * surviving a reconfiguration of the same size; and resolve_name()
 * over them (literals, fakeresolve F-DNS-04, nsrecord, family order),
 * which needs no network for those cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "net.h"
#include "nscache.h"
#include "resolve.h"

static const uint8_t a1[4] = { 10, 0, 0, 1 };
static const uint8_t a2[4] = { 10, 0, 0, 2 };

static void test_put_get(void **state)
{
	struct nscache *c = nscache_new(NSCACHE_MIN);
	uint8_t got[16];
	size_t alen;
	uint32_t ttl;
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	assert_non_null(c);
	assert_int_equal(nscache_max(c), NSCACHE_MIN);
	assert_int_equal(nscache_get(c, "a.example", got, &alen, &ttl, 100), 0);
	assert_int_equal(nscache_put(c, "a.example", a1, 4, 60, 100), 0);
	assert_int_equal(nscache_get(c, "a.example", got, &alen, &ttl, 100), 1);
	assert_int_equal(alen, 4);
	assert_memory_equal(got, a1, 4);
	assert_int_equal(ttl, 60);
	assert_int_equal(nscache_get(c, "a.example", got, &alen, &ttl, 130), 1);
	assert_int_equal(ttl, 30);
	/* [quirk] keys are case-sensitive, exactly as given */
	assert_int_equal(nscache_get(c, "A.example", got, &alen, &ttl, 100), 0);
	/* a 16-byte entry */
	assert_int_equal(nscache_put(c, "six", six, 16, 5, 0), 0);
	assert_int_equal(nscache_get(c, "six", got, &alen, &ttl, 1), 1);
	assert_int_equal(alen, 16);
	assert_memory_equal(got, six, 16);
	/* bad arguments */
	assert_int_equal(nscache_put(c, "x", a1, 5, 1, 0), -1);
	assert_int_equal(nscache_put(c, NULL, a1, 4, 1, 0), -1);
	assert_int_equal(nscache_put(NULL, "x", a1, 4, 1, 0), -1);
	assert_int_equal(nscache_count(c), 2);
	nscache_free(c);
	assert_null(nscache_new(0));
}

static void test_ttl_expiry(void **state)
{
	struct nscache *c = nscache_new(NSCACHE_MIN);
	uint8_t got[16];
	size_t alen;
	uint32_t ttl;

	assert_int_equal(nscache_put(c, "short", a1, 4, 2, 1000), 0);
	assert_int_equal(nscache_get(c, "short", got, &alen, &ttl, 1001), 1);
	assert_int_equal(ttl, 1);
	/* at the expiry second it is gone, and dropped from the table */
	assert_int_equal(nscache_get(c, "short", got, &alen, &ttl, 1002), 0);
	assert_int_equal(nscache_count(c), 0);
	/* a new answer after expiry is cached again */
	assert_int_equal(nscache_put(c, "short", a2, 4, 10, 1002), 0);
	assert_int_equal(nscache_get(c, "short", got, &alen, &ttl, 1003), 1);
	assert_memory_equal(got, a2, 4);
	/* permanent entries (nsrecord) never expire */
	assert_int_equal(nscache_put(c, "static", a1, 4, NSCACHE_FOREVER, 0),
			 0);
	assert_int_equal(nscache_get(c, "static", got, &alen, &ttl,
				     UINT64_C(1) << 60), 1);
	assert_int_equal(ttl, NSCACHE_FOREVER);
	nscache_free(c);
}

static void test_replace(void **state)
{
	struct nscache *c = nscache_new(NSCACHE_MIN);
	uint8_t got[16];
	size_t alen;
	uint32_t ttl;

	assert_int_equal(nscache_put(c, "n", a1, 4, 100, 0), 0);
	assert_int_equal(nscache_put(c, "n", a2, 4, 5, 0), 0);
	assert_int_equal(nscache_count(c), 1);
	assert_int_equal(nscache_get(c, "n", got, &alen, &ttl, 0), 1);
	assert_memory_equal(got, a2, 4);
	assert_int_equal(ttl, 5);
	nscache_free(c);
}

/* At most max entries: the oldest insert goes first. */
static void test_bounded(void **state)
{
	struct nscache *c = nscache_new(3);
	uint8_t got[16];
	size_t alen;
	uint32_t ttl;

	nscache_put(c, "one", a1, 4, 100, 0);
	nscache_put(c, "two", a1, 4, 100, 0);
	nscache_put(c, "three", a1, 4, 100, 0);
	nscache_put(c, "four", a2, 4, 100, 0);
	assert_int_equal(nscache_count(c), 3);
	assert_int_equal(nscache_get(c, "one", got, &alen, &ttl, 0), 0);
	assert_int_equal(nscache_get(c, "two", got, &alen, &ttl, 0), 1);
	assert_int_equal(nscache_get(c, "four", got, &alen, &ttl, 0), 1);
	/* replacing refreshes the position */
	nscache_put(c, "two", a2, 4, 100, 0);
	nscache_put(c, "five", a2, 4, 100, 0);
	assert_int_equal(nscache_get(c, "three", got, &alen, &ttl, 0), 0);
	assert_int_equal(nscache_get(c, "two", got, &alen, &ttl, 0), 1);
	nscache_free(c);
}

/* Many entries: the table grows and every entry stays reachable. */
static void test_many(void **state)
{
	struct nscache *c = nscache_new(50000);
	uint8_t got[16], a[4];
	size_t alen;
	uint32_t ttl;
	char name[64];
	int i;

	for (i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		a[0] = (uint8_t)(i >> 24); a[1] = (uint8_t)(i >> 16);
		a[2] = (uint8_t)(i >> 8); a[3] = (uint8_t)i;
		assert_int_equal(nscache_put(c, name, a, 4, 100, 0), 0);
	}
	assert_int_equal(nscache_count(c), 50000);
	for (i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		if (i < 10000) {
			assert_int_equal(nscache_get(c, name, got, &alen, &ttl,
						     1), 0);
			continue;
		}
		assert_int_equal(nscache_get(c, name, got, &alen, &ttl, 1), 1);
		assert_int_equal(got[3], (uint8_t)i);
		assert_int_equal(got[2], (uint8_t)(i >> 8));
	}
	nscache_free(c);
}

/* The process caches: a same-size `nscache` keeps the content (they
 * survive a reload), another size starts empty; none configured means
 * no caching at all. */
static void test_global(void **state)
{
	uint8_t got[16];
	size_t alen;
	uint32_t ttl;

	nscache_global_cleanup();
	assert_int_equal(nscache_global_size(NSCACHE_V4), 0);
	assert_int_equal(nscache_global_put(NSCACHE_V4, "g", a1, 4, 10, 0), -1);
	assert_int_equal(nscache_global_get(NSCACHE_V4, "g", got, &alen, &ttl,
					    0), 0);
	assert_int_equal(nscache_global_configure(NSCACHE_V4, 1024), 0);
	assert_int_equal(nscache_global_size(NSCACHE_V4), 1024);
	assert_int_equal(nscache_global_size(NSCACHE_V6), 0);
	assert_int_equal(nscache_global_put(NSCACHE_V4, "g", a1, 4, 10, 0), 0);
	assert_int_equal(nscache_global_configure(NSCACHE_V4, 1024), 0);
	assert_int_equal(nscache_global_get(NSCACHE_V4, "g", got, &alen, &ttl,
					    5), 1);
	assert_int_equal(ttl, 5);
	/* the two caches are separate */
	assert_int_equal(nscache_global_get(NSCACHE_V6, "g", got, &alen, &ttl,
					    5), 0);
	assert_int_equal(nscache_global_configure(NSCACHE_V4, 2048), 0);
	assert_int_equal(nscache_global_get(NSCACHE_V4, "g", got, &alen, &ttl,
					    5), 0);
	nscache_global_cleanup();
	assert_int_equal(nscache_global_size(NSCACHE_V4), 0);
}


/* ---- resolve_name over a configuration --------------------------------- */

static struct conf_gen *load(const char *text)
{
	FILE *devnull = fopen("/dev/null", "w");
	int errors = 0;
	struct conf_gen *g = conf_load_mem(text, strlen(text), "t", CONF_RUN,
					   devnull, &errors);

	fclose(devnull);
	assert_int_equal(errors, 0);
	assert_non_null(g);
	return g;
}

static const char *text_of(const struct net_addr *a)
{
	static char buf[64];

	return net_addr_str(a, buf, sizeof(buf));
}

static void test_resolve_literals_and_fake(void **state)
{
	struct conf_gen *g = load("fakeresolve\n");
	struct net_addr a;

	/* literals never reach a resolver; their family must be allowed */
	assert_int_equal(resolve_name(g, "192.0.2.1", NET_PREF_4, &a), 0);
	assert_string_equal(text_of(&a), "192.0.2.1");
	assert_int_equal(resolve_name(g, "2001:db8::1", NET_PREF_4, &a), -1);
	assert_int_equal(resolve_name(g, "2001:db8::1", NET_PREF_46, &a), 0);
	assert_int_equal(resolve_name(g, "192.0.2.1", NET_PREF_6, &a), -1);
	/* F-DNS-04: every name is 127.0.0.2 / ::2 */
	assert_int_equal(resolve_name(g, "any.name", NET_PREF_4, &a), 0);
	assert_string_equal(text_of(&a), "127.0.0.2");
	assert_int_equal(resolve_name(g, "any.name", NET_PREF_64, &a), 0);
	assert_string_equal(text_of(&a), "::2");
	assert_int_equal(resolve_name(g, "", NET_PREF_4, &a), -1);
	assert_int_equal(resolve_name(g, NULL, NET_PREF_4, &a), -1);
	conf_gen_unref(g);
}

/* F-DNS-03: nsrecord entries answer when the internal resolver is on;
 * 0.0.0.0 blocks the name.  The nserver is a closed local port: only
 * names without a record would ever reach it. */
static void test_resolve_nsrecord(void **state)
{
	struct conf_gen *g = load("timeouts 1 1 1 1 1 1 1 1 1\n"
				  "nserver 127.0.0.1:9/tcp\n"
				  "nscache 256\nnscache6 256\n"
				  "nsrecord a.test 10.1.1.1\n"
				  "nsrecord a.test 2001:db8::a\n"
				  "nsrecord six.test 2001:db8::6\n"
				  "nsrecord blocked.test 0.0.0.0\n");
	struct resolve_result r;
	struct net_addr a;

	assert_int_equal(resolve_name(g, "a.test", NET_PREF_4, &a), 0);
	assert_string_equal(text_of(&a), "10.1.1.1");
	assert_int_equal(resolve_name(g, "a.test", NET_PREF_64, &a), 0);
	assert_string_equal(text_of(&a), "2001:db8::a");
	assert_int_equal(resolve_name(g, "six.test", NET_PREF_46, &a), 0);
	assert_string_equal(text_of(&a), "2001:db8::6");
	assert_int_equal(resolve_name(g, "blocked.test", NET_PREF_4, &a), -1);
	/* dnspr's lookup sees the record itself, with the permanent TTL */
	assert_int_equal(resolve_lookup(g, "blocked.test", AF_INET, &r, NULL),
			 RESOLVE_FOUND);
	assert_int_equal(r.alen, 4);
	assert_int_equal(r.ttl, NSCACHE_FOREVER);
	conf_gen_unref(g);
	/* a new generation without the records does not see them */
	g = load("nserver 127.0.0.1:9/tcp\ntimeouts 1 1 1 1 1 1 1 1 1\n");
	assert_int_equal(resolve_lookup(g, "a.test", AF_INET, &r, NULL),
			 RESOLVE_NOTFOUND);
	conf_gen_unref(g);
	nscache_global_cleanup();
}

static void test_parse_server(void **state)
{
	struct resolve_server s;
	char buf[64];

	assert_int_equal(resolve_parse_server("127.0.0.1", 0, &s), 0);
	assert_int_equal(net_get_port(&s.addr), 53);
	assert_int_equal(s.tcp, 0);
	assert_int_equal(resolve_parse_server("127.0.0.1:5353/tcp", 0, &s), 0);
	assert_int_equal(net_get_port(&s.addr), 5353);
	assert_int_equal(s.tcp, 1);
	assert_int_equal(resolve_parse_server("[::1]:54", 0, &s), 0);
	assert_string_equal(net_addr_str(&s.addr, buf, sizeof(buf)), "::1");
	assert_int_equal(net_get_port(&s.addr), 54);
	assert_int_equal(resolve_parse_server("2001:db8::1/udp", 0, &s), 0);
	assert_int_equal(net_get_port(&s.addr), 53);
	assert_int_equal(s.tcp, 0);
	assert_int_equal(resolve_parse_server("127.0.0.1:0", 0, &s), -1);
	assert_int_equal(resolve_parse_server("127.0.0.1:65536", 0, &s), -1);
	assert_int_equal(resolve_parse_server("[::1", 0, &s), -1);
	assert_int_equal(resolve_parse_server("[::1]x", 0, &s), -1);
	assert_int_equal(resolve_parse_server("", 0, &s), -1);
	assert_int_equal(resolve_parse_server("dns.example", 0, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_global),
		cmocka_unit_test(test_resolve_literals_and_fake),
		cmocka_unit_test(test_resolve_nsrecord),
		cmocka_unit_test(test_parse_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
