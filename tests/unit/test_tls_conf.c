/*
 * test_tls_conf.c - the ssl_* commands and the per-service snapshot
 * (tls_conf.c), run through the config engine in --check mode so that
 * no certificate has to exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_test.h"
#include "service.h"
#include "tls.h"

static struct conf_gen *load(const char *text, enum conf_mode mode,
			     int *nerr, char **msgs)
{
	return conf_test_load(text, mode, nerr, msgs);
}

/* Each service line takes the values in force at it. */
static void test_snapshot_per_service(void **state)
{
	const char *cfg =
		"ssl_server_cert /x/cert.pem\n"
		"ssl_server_key /x/key.pem\n"
		"ssl_serv\n"
		"proxy -p1\n"
		"ssl_noserv\n"
		"proxy -p2\n"
		"ssl_client_mode 3\n"
		"ssl_client_sni parent.example\n"
		"ssl_client_alpn h2 http/1.1\n"
		"ssl_client_min_proto_version TLSv1.2\n"
		"ssl_cli\n"
		"socks -p3\n"
		"ssl_client_sni\n"
		"ssl_client_alpn\n"
		"socks -p4\n"
		"ssl_nocli\n"
		"socks -p5\n";
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	char *msgs = NULL;
	int nerr = -1;
	struct conf_gen *g = load(cfg, CONF_CHECK, &nerr, &msgs);
	const struct tls_svc *t;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_non_null(g);
	assert_int_equal(g->nsvcs, 5);
	t = g->svcs[0]->tls;
	assert_non_null(t);
	assert_true(t->serv_on);
	assert_false(t->cli_on);
	assert_string_equal(t->set.str[TLS_SERVER_CERT], "/x/cert.pem");
	assert_null(g->svcs[1]->tls);
	t = g->svcs[2]->tls;
	assert_non_null(t);
	assert_false(t->serv_on);
	assert_true(t->cli_on);
	assert_int_equal(t->set.client_mode, 3);
	assert_int_equal(t->set.client_min, 0x303);
	assert_string_equal(t->set.str[TLS_CLIENT_SNI], "parent.example");
	assert_int_equal(t->set.alpn_len, sizeof(alpn) - 1);
	assert_memory_equal(t->set.alpn, alpn, sizeof(alpn) - 1);
	/* no contexts in --check */
	assert_null(t->cli_ctx);
	t = g->svcs[3]->tls;
	assert_non_null(t);
	assert_null(t->set.str[TLS_CLIENT_SNI]);
	assert_int_equal(t->set.alpn_len, 0);
	assert_null(g->svcs[4]->tls);
	conf_gen_unref(g);
	free(msgs);
}

/* ssl_serv without both files is silently off. */
static void test_serv_needs_cert_and_key(void **state)
{
	char *msgs = NULL;
	int nerr = -1;
	struct conf_gen *g = load("ssl_server_cert /x/c.pem\nssl_serv\n"
				  "proxy -p1\n", CONF_CHECK, &nerr, &msgs);

	(void)state;
	assert_int_equal(nerr, 0);
	assert_null(g->svcs[0]->tls);
	conf_gen_unref(g);
	free(msgs);
}

static void test_bad_values(void **state)
{
	static const struct { const char *cfg, *msg; } cases[] = {
		{ "ssl_client_mode 4\n", "t.cfg:1: ssl_client_mode: bad mode" },
		{ "ssl_client_mode x\n", "t.cfg:1: ssl_client_mode: bad mode" },
		{ "ssl_client_max_proto_version TLSv2\n",
		  "t.cfg:1: ssl_client_max_proto_version: unknown protocol" },
		{ "ssl_client_alpn "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\n", "t.cfg:1: ssl_client_alpn: bad protocol name" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		conf_test_check_fails(cases[i].cfg, cases[i].msg);
}

/* F-TLS-04: ssl_mitm / ssl_nomitm and ssl_certcache are captured per
 * service; no library state in --check. */
static void test_mitm_snapshot(void **state)
{
	char *msgs = NULL;
	int nerr = -1;
	struct conf_gen *g = load("ssl_certcache /c/\nssl_mitm\nproxy -p1\n"
				  "ssl_nomitm\nproxy -p2\n"
				  "ssl_certcache c:\\x\\\nssl_mitm\nsocks -p3\n",
				  CONF_CHECK, &nerr, &msgs);
	const struct tls_svc *t;

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(g->nsvcs, 3);
	t = g->svcs[0]->tls;
	assert_non_null(t);
	assert_true(t->mitm_on);
	assert_false(t->serv_on);
	assert_false(t->cli_on);
	assert_null(t->mitm);
	assert_string_equal(t->set.str[TLS_CERTCACHE], "/c/");
	assert_null(g->svcs[1]->tls);
	t = g->svcs[2]->tls;
	assert_true(t->mitm_on);
	assert_string_equal(t->set.str[TLS_CERTCACHE], "c:\\x\\");
	conf_gen_unref(g);
	free(msgs);
}

/* plugins.md 3.1: ssl_mitm excludes ssl_serv; ssl_serv and ssl_cli are
 * refused under ssl_mitm (code 2, file:line message); ssl_certcache
 * needs a trailing separator. */
static void test_mitm_exclusions(void **state)
{
	static const struct { const char *cfg, *msg; } cases[] = {
		{ "ssl_serv\nssl_mitm\n",
		  "t.cfg:2: ssl_mitm: not while ssl_serv is on" },
		{ "ssl_mitm\nssl_serv\n",
		  "t.cfg:2: ssl_serv: not while ssl_mitm is on" },
		{ "ssl_mitm\nssl_server\n",
		  "t.cfg:2: ssl_server: not while ssl_mitm is on" },
		{ "ssl_mitm\nssl_cli\n",
		  "t.cfg:2: ssl_cli: not while ssl_mitm is on" },
		{ "ssl_certcache /tmp\n",
		  "t.cfg:1: ssl_certcache: '/tmp' must end with" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		conf_test_check_fails(cases[i].cfg, cases[i].msg);
}

/* ssl_mitm after ssl_noserv, and ssl_cli before ssl_mitm, are allowed;
 * a service with both intercepts and warns that ssl_cli is off. */
static void test_mitm_allowed_orders(void **state)
{
	char *msgs = NULL;
	int nerr = -1;
	struct conf_gen *g = load("ssl_serv\nssl_noserv\nssl_cli\nssl_mitm\n"
				  "proxy -p1\nssl_nomitm\nssl_serv\n",
				  CONF_CHECK, &nerr, &msgs);

	(void)state;
	assert_int_equal(nerr, 0);
	assert_non_null(g);
	assert_true(g->svcs[0]->tls->mitm_on);
	assert_false(g->svcs[0]->tls->cli_on);
	assert_non_null(strstr(msgs, "t.cfg:5: warning"));
	conf_gen_unref(g);
	free(msgs);
}

/* A build without the library refuses every ssl_* command at start. */
static void test_no_library_refused(void **state)
{
	char *msgs = NULL;
	int nerr = -1;
	struct conf_gen *g = load("ssl_client_mode 3\n", CONF_RUN, &nerr,
				  &msgs);

	(void)state;
	if (tls_built_in()) {
		assert_non_null(g);
		conf_gen_unref(g);
	} else {
		assert_null(g);
		assert_non_null(strstr(msgs, "t.cfg:1: ssl_client_mode: this "
				       "build has no TLS library (OpenSSL)"));
	}
	free(msgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_per_service),
		cmocka_unit_test(test_serv_needs_cert_and_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_mitm_snapshot),
		cmocka_unit_test(test_mitm_exclusions),
		cmocka_unit_test(test_mitm_allowed_orders),
		cmocka_unit_test(test_no_library_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
