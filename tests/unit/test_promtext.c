/*
 * test_promtext.c - the Prometheus text exposition writer (promtext.c):
 * family headers, sample lines with and without labels, label value and
 * HELP escaping, signed values, and the metrics document's layout
 * (metrics.c) for a service attached to the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_pages.h"
#include "metrics.h"
#include "promtext.h"
#include "service.h"

static void test_family_and_plain_sample(void **state)
{
	struct admin_buf b;

	(void)state;
	admin_buf_init(&b, 4096);
	prom_family(&b, "x_total", "counter", "Things\\done\nhere.");
	prom_sample(&b, "x_total", NULL, 0, 18446744073709551615ULL);
	assert_false(b.failed);
	assert_string_equal(b.p,
		"# HELP x_total Things\\\\done\\nhere.\n"
		"# TYPE x_total counter\n"
		"x_total 18446744073709551615\n");
	admin_buf_free(&b);
}

static void test_labels_escaped(void **state)
{
	struct admin_buf b;
	struct prom_label l[3] = {
		{ "service", "PROXY" },
		{ "comment", "a \"quoted\" \\ back\nslash" },
		{ "empty", NULL },
	};

	(void)state;
	admin_buf_init(&b, 4096);
	prom_sample(&b, "y", l, 3, 0);
	assert_string_equal(b.p,
		"y{service=\"PROXY\",comment=\"a \\\"quoted\\\" \\\\ back"
		"\\nslash\",empty=\"\"} 0\n");
	admin_buf_free(&b);
}

static void test_signed_sample(void **state)
{
	struct admin_buf b;
	struct prom_label l = { "a", "b" };

	(void)state;
	admin_buf_init(&b, 4096);
	prom_sample_int(&b, "g", &l, 1, -3);
	prom_sample_int(&b, "g", &l, 1, 42);
	assert_string_equal(b.p, "g{a=\"b\"} -3\ng{a=\"b\"} 42\n");
	admin_buf_free(&b);
}

static void test_ceiling_fails_cleanly(void **state)
{
	struct admin_buf b;
	int i;

	(void)state;
	admin_buf_init(&b, 64);
	for (i = 0; i < 10; i++)
		prom_sample(&b, "some_long_metric_name", NULL, 0, 1);
	assert_true(b.failed);
	admin_buf_free(&b);
}

/* Lines of a document: comments name a family once, then every sample
 * line is "name{...} value" with a known family. */
static int count_lines(const char *doc, const char *prefix)
{
	int n = 0;
	const char *p = doc;

	while ((p = strstr(p, prefix)) != NULL) {
		if (p == doc || p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

static void test_metrics_document(void **state)
{
	static const struct proto px = { "proxy", "PROXY", 3128,
					 SOCK_STREAM, 0, NULL, NULL };
	struct svc_conf sc;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&sc.listen.ss;
	struct metrics_svc *m, *again;
	struct admin_buf b;

	(void)state;
	memset(&sc, 0, sizeof(sc));
	sc.proto = &px;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(3128);
	s4->sin_addr.s_addr = htonl(0x7f000001);
	sc.listen.len = sizeof(*s4);
	m = metrics_service_attach(&sc);
	assert_non_null(m);
	metrics_conn_open(m);
	metrics_conn_open(m);
	metrics_conn_bytes(m, 100, 7);
	metrics_conn_close(m, 0);
	metrics_conn_close(m, 92);
	metrics_conn_open(m);
	/* a reload: the same name and address is the same entry */
	again = metrics_service_attach(&sc);
	assert_ptr_equal(again, m);
	metrics_service_detach(m);
	metrics_note_reload(1);

	admin_buf_init(&b, 1 << 20);
	metrics_render(&b, NULL);
	assert_false(b.failed);
	assert_non_null(strstr(b.p,
		"threeproxy_service_connections_total{service=\"PROXY\","
		"listen=\"127.0.0.1:3128\"} 3\n"));
	assert_non_null(strstr(b.p,
		"threeproxy_service_connections_active{service=\"PROXY\","
		"listen=\"127.0.0.1:3128\"} 1\n"));
	assert_non_null(strstr(b.p,
		"threeproxy_service_connections_finished_total{service=\"PROXY\","
		"listen=\"127.0.0.1:3128\",result=\"ok\"} 1\n"));
	assert_non_null(strstr(b.p,
		"threeproxy_service_connections_finished_total{service=\"PROXY\","
		"listen=\"127.0.0.1:3128\",result=\"error\"} 1\n"));
	assert_non_null(strstr(b.p, "threeproxy_service_bytes_in_total{"
		"service=\"PROXY\",listen=\"127.0.0.1:3128\"} 100\n"));
	assert_non_null(strstr(b.p, "threeproxy_service_bytes_out_total{"
		"service=\"PROXY\",listen=\"127.0.0.1:3128\"} 7\n"));
	assert_non_null(strstr(b.p,
		"threeproxy_config_reloads_total{result=\"ok\"} 1\n"));
	/* each family announced once, with HELP and TYPE */
	assert_int_equal(count_lines(b.p,
		"# TYPE threeproxy_service_connections_total counter"), 1);
	assert_int_equal(count_lines(b.p, "# HELP "),
			 count_lines(b.p, "# TYPE "));
	assert_int_equal(b.p[b.n - 1], '\n');
	admin_buf_free(&b);

	/* no service attached and no client left: the entry is not listed */
	metrics_conn_close(m, 0);
	metrics_service_detach(m);
	admin_buf_init(&b, 1 << 20);
	metrics_render(&b, NULL);
	assert_null(strstr(b.p, "listen=\"127.0.0.1:3128\""));
	admin_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_and_plain_sample),
	    cmocka_unit_test(test_labels_escaped),
	    cmocka_unit_test(test_signed_sample),
	    cmocka_unit_test(test_ceiling_fails_cleanly),
	    cmocka_unit_test(test_metrics_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
