/*
 * Unit tests for plugin filters (plugin_api.h register_filter,
 * conn_socket, conn_set_dest; plugin_filter.c) and client_take_preset:
 * a filter belongs to the run that registered it, its open hook decides
 * per service line, and a preset destination is checked, kept on the
 * connection and taken by the services that honour it.  Buffer and
 * stage hooks with a per-connection state, buf_set, and named symbols.
 * F-PLUG-02 F-PLUG-03
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "conf_test.h"
#include "filter.h"
#include "net.h"
#include "plugin.h"
#include "plugin_api.h"
#include "service.h"

static const struct px_api *api;
static int released, opened, closed;
static char seen[8][16];

static void *f_open(void *data, const char *service)
{
	if (opened < 8)
		snprintf(seen[opened], sizeof(seen[0]), "%s", service);
	opened++;
	return strcmp(service, "tcppm") == 0 ? data : NULL;
}

static void f_close(void *svc)
{
	(void)svc;
	closed++;
}

static void f_release(void *data)
{
	released += *(int *)data;
}

/* `regf`: what a plugin entry with a filter does. */
static int cmd_regf(struct px_conf *conf, int argc, char **argv)
{
	static int seven = 7;
	static const struct px_filter f = {
		.size = sizeof(struct px_filter), .open = f_open,
		.close = f_close, .release = f_release
	};

	(void)conf;
	(void)argc;
	(void)argv;
	return api->register_filter(&f, &seven) == 0 ? 0 : 1;
}

/* `regb`: a filter with per-connection, buffer and stage hooks. */
static int attached, cleared;

static void *b_attach(void *svc, struct px_conn *conn)
{
	(void)svc;
	(void)conn;
	attached++;
	return &attached;
}

static void b_clear(void *svc, void *conn)
{
	(void)svc;
	assert_ptr_equal(conn, &attached);
	cleared++;
}

static int b_buffer(void *svc, void *conn, struct px_conn *c, int hook,
		    struct px_buf *b)
{
	(void)svc;
	(void)c;
	assert_ptr_equal(conn, &attached);
	if (hook == PX_HOOK_HEADER_CLI)
		return api->buf_set(b, "new head", 8) == 0 ? PX_FILTER_CONTINUE
							   : PX_FILTER_REJECT;
	assert_int_equal(hook, PX_HOOK_DATA_SRV);
	if (b->len == 3 && memcmp(b->data, "bad", 3) == 0)
		return PX_FILTER_REJECT;
	return b->len == 4 ? 77 : PX_FILTER_PASS;   /* 77: unknown */
}

static int b_stage(void *svc, void *conn, struct px_conn *c, int stage)
{
	(void)svc;
	(void)conn;
	(void)c;
	return stage == PX_STAGE_PREDATA ? PX_FILTER_REJECT
					 : PX_FILTER_CONTINUE;
}

static int cmd_regb(struct px_conf *conf, int argc, char **argv)
{
	static const struct px_filter f = {
		.size = sizeof(struct px_filter),
		.hooks = PX_HOOK_BIT(PX_HOOK_HEADER_CLI) |
			 PX_HOOK_BIT(PX_HOOK_DATA_SRV),
		.attach = b_attach,
		.clear = b_clear,
		.buffer = b_buffer,
		.stage = b_stage,
	};

	(void)conf;
	(void)argc;
	(void)argv;
	return api->register_filter(&f, NULL) == 0 ? 0 : 1;
}

/* `pub` and `findsym`: named symbols within a run. */
static int symbol_target;
static void *found;

static int cmd_pub(struct px_conf *conf, int argc, char **argv)
{
	(void)conf;
	(void)argc;
	(void)argv;
	return api->publish_symbol("test_symbol", &symbol_target) == 0 ? 0 : 1;
}

static int cmd_findsym(struct px_conf *conf, int argc, char **argv)
{
	(void)conf;
	(void)argc;
	(void)argv;
	found = api->find_symbol("test_symbol");
	return 0;
}

static int setup(void **state)
{
	(void)state;
	api = plugin_api();
	return api->register_command("regf", 1, 1, cmd_regf) ||
	       api->register_command("regb", 1, 1, cmd_regb) ||
	       api->register_command("pub", 1, 1, cmd_pub) ||
	       api->register_command("findsym", 1, 1, cmd_findsym);
}

static void test_outside_run(void **state)
{
	struct px_filter f;

	(void)state;
	assert_true(PX_API_HAS(api, conn_set_dest));
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	assert_int_equal(api->register_filter(&f, NULL), -1);
}

static void test_open_per_service(void **state)
{
	struct conf_gen *g;

	(void)state;
	opened = closed = released = 0;
	g = conf_test_run("proxy -p12001\n"
		 "regf\n"
		 "tcppm 12002 127.0.0.1 80\n"
		 "proxy -p12003\n");
	assert_non_null(g);
	assert_int_equal(g->nsvcs, 3);
	/* the first service line came before the filter: never asked */
	assert_int_equal(opened, 2);
	assert_string_equal(seen[0], "tcppm");
	assert_string_equal(seen[1], "proxy");
	assert_null(g->svcs[0]->filters);
	assert_non_null(g->svcs[1]->filters);
	assert_null(g->svcs[2]->filters);
	/* put at the head of the run's list */
	assert_non_null(g->filters);
	assert_string_equal(g->filters->head->ops->name, "plugin");
	conf_gen_unref(g);
	assert_int_equal(closed, 1);
	assert_int_equal(released, 7);

	/* the next run without the line has no filter */
	opened = 0;
	g = conf_test_run("tcppm 12002 127.0.0.1 80\n");
	assert_non_null(g);
	assert_null(g->filters);
	assert_int_equal(opened, 0);
	conf_gen_unref(g);
}

static void sin4(struct sockaddr_in *s, const char *ip, unsigned port)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
}

static void free_client(struct client *cl)
{
	free(cl->req.host);
	if (cl->preset != NULL)
		free(cl->preset->host);
	free(cl->preset);
}

static void test_set_dest(void **state)
{
	struct client cl;
	struct px_conn *conn = (struct px_conn *)&cl;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	char text[64];

	(void)state;
	memset(&cl, 0, sizeof(cl));
	cl.cl_sock = 7;
	assert_true(api->conn_socket(conn) == 7);

	/* refused: port 0, short length, not IP, NULL, empty host */
	sin4(&s4, "192.0.2.1", 0);
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s4,
					    sizeof(s4), NULL), -1);
	sin4(&s4, "192.0.2.1", 80);
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s4,
					    sizeof(s4) - 1, NULL), -1);
	assert_int_equal(api->conn_set_dest(conn, NULL, 0, NULL), -1);
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s4,
					    sizeof(s4), ""), -1);
	s4.sin_family = AF_UNIX;
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s4,
					    sizeof(s4), NULL), -1);
	assert_null(cl.preset);

	/* the address text is the host name by default; a second call
	 * replaces the first */
	sin4(&s4, "192.0.2.1", 80);
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s4,
					    sizeof(s4), "www.example"), 0);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(8443);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr),
			 1);
	assert_int_equal(api->conn_set_dest(conn, (struct sockaddr *)&s6,
					    sizeof(s6), NULL), 0);
	assert_non_null(cl.preset);
	assert_string_equal(cl.preset->host, "2001:db8::5");

	/* taken once into the request */
	assert_int_equal(client_take_preset(&cl), 1);
	assert_null(cl.preset);
	assert_string_equal(cl.req.host, "2001:db8::5");
	assert_int_equal(cl.req.port, 8443);
	assert_int_equal(net_get_port(&cl.req.addr), 8443);
	assert_string_equal(net_addr_str(&cl.req.addr, text, sizeof(text)),
			    "2001:db8::5");
	assert_int_equal(client_take_preset(&cl), 0);
	free_client(&cl);
}

static void test_request_wins(void **state)
{
	struct client cl;
	struct sockaddr_in s4;
	char big[300];

	(void)state;
	memset(&cl, 0, sizeof(cl));
	sin4(&s4, "198.51.100.7", 25);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(api->conn_set_dest((struct px_conn *)&cl,
					    (struct sockaddr *)&s4,
					    sizeof(s4), big), -1);
	assert_int_equal(api->conn_set_dest((struct px_conn *)&cl,
					    (struct sockaddr *)&s4,
					    sizeof(s4), NULL), 0);
	/* a destination already named (local redirection) stays */
	cl.req.host = strdup("named.example");
	assert_non_null(cl.req.host);
	assert_int_equal(client_take_preset(&cl), 0);
	assert_string_equal(cl.req.host, "named.example");
	assert_non_null(cl.preset);
	free_client(&cl);
}

static void test_buffer_and_stage_hooks(void **state)
{
	struct conf_gen *g;
	struct client cl;
	struct filter_buf b;
	char orig[] = "old head";

	(void)state;
	attached = cleared = 0;
	g = conf_test_run("regb\ntcppm 12002 127.0.0.1 80\n");
	assert_non_null(g);
	memset(&cl, 0, sizeof(cl));
	cl.conf = g->svcs[0];
	assert_int_equal(filter_conn_open(&cl), 0);
	assert_non_null(cl.filt);
	assert_int_equal(attached, 1);
	assert_int_equal(filter_conn_hooks(cl.filt),
			 FILTER_HOOK_BIT(FH_HEADER_CLI) |
			 FILTER_HOOK_BIT(FH_DATA_SRV));

	/* the head is replaced by a daemon-owned copy */
	filter_buf_init(&b, orig, strlen(orig));
	assert_int_equal(filter_run(&cl, FH_HEADER_CLI, &b), FILTER_CONTINUE);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "new head", 8);
	assert_string_equal(orig, "old head");
	filter_buf_release(&b);

	/* results: reject, pass, an unknown value rejects */
	filter_buf_init(&b, "bad", 3);
	assert_int_equal(filter_run(&cl, FH_DATA_SRV, &b), FILTER_REJECT);
	filter_buf_init(&b, "good!", 5);
	assert_int_equal(filter_run(&cl, FH_DATA_SRV, &b), FILTER_PASS);
	filter_buf_init(&b, "four", 4);
	assert_int_equal(filter_run(&cl, FH_DATA_SRV, &b), FILTER_REJECT);
	/* a hook it does not serve */
	filter_buf_init(&b, "x", 1);
	assert_int_equal(filter_run(&cl, FH_DATA_CLI, &b), FILTER_CONTINUE);

	assert_int_equal(filter_run_stage(&cl, FS_CONNECT), FILTER_CONTINUE);
	assert_int_equal(filter_run_stage(&cl, FS_PREDATA), FILTER_REJECT);

	filter_conn_free(cl.filt);
	assert_int_equal(cleared, 1);
	conf_gen_unref(g);
}

static void test_symbols(void **state)
{
	struct conf_gen *g;

	(void)state;
	/* outside a run */
	assert_int_equal(api->publish_symbol("test_symbol", &symbol_target),
			 -1);
	assert_null(api->find_symbol("test_symbol"));

	found = NULL;
	g = conf_test_run("pub\nfindsym\n");
	assert_non_null(g);
	assert_ptr_equal(found, &symbol_target);
	conf_gen_unref(g);
	/* a new run starts without the symbols of the last one */
	found = &found;
	g = conf_test_run("findsym\n");
	assert_non_null(g);
	assert_null(found);
	conf_gen_unref(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outside_run),
		cmocka_unit_test(test_open_per_service),
		cmocka_unit_test(test_set_dest),
		cmocka_unit_test(test_request_wins),
		cmocka_unit_test(test_buffer_and_stage_hooks),
		cmocka_unit_test(test_symbols),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
