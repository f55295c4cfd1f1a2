/*
 * Unit tests for the config engine (conf.c, conf_cmds.c, svc_opts.c):
 * dispatch, argument counts, error messages with file:line, the settings
 * cursor snapshotted by service lines, include, end, --check mode.
 * F-CFG-01 F-CFG-05 F-CFG-10 F-CLI-03 F-CLI-05 F-PROC-07 F-PROC-09
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_test.h"
#include "service.h"

/* Run a config from memory; diagnostics are captured in *msgs. */
static struct conf_gen *load(const char *text, enum conf_mode mode,
			     int *nerr, char **msgs)
{
	return conf_test_load(text, mode, nerr, msgs);
}

static void expect_error(const char *text, const char *message)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(text, CONF_RUN, &nerr, &msgs);

	if (g != NULL) {
		conf_gen_unref(g);
		fail_msg("'%s' was accepted", text);
	}
	assert_int_equal(nerr, 1);
	if (strstr(msgs, message) == NULL)
		fail_msg("expected '%s' in '%s'", message, msgs);
	free(msgs);
}

static void test_unknown_command(void **state)
{
	(void)state;
	expect_error("# comment\n\nbogus 1 2\n", "t.cfg:3: unknown command 'bogus'");
	/* Command names are case-sensitive. */
	expect_error("Log\n", "t.cfg:1: unknown command 'Log'");
}

static void test_argument_counts(void **state)
{
	(void)state;
	expect_error("maxconn\n", "t.cfg:1: 'maxconn': wrong number of arguments");
	expect_error("maxconn 1 2\n", "'maxconn': wrong number of arguments");
	expect_error("end x\n", "unknown command 'end'");
	expect_error("nolog 5\n", "'nolog': wrong number of arguments");
	expect_error("tcppm 1 2\n", "'tcppm': wrong number of arguments");
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("timeouts 1 5 0\n", "t.cfg:1: invalid timeout: 0");
	expect_error("timeouts 1 x\n", "invalid timeout: x");
	expect_error("maxconn 0\n", "maxconn: invalid value '0'");
	expect_error("backlog -1\n", "backlog: invalid value '-1'");
	expect_error("external :c084:56e5:0594:e0b2\n", "invalid address");
	expect_error("tcppm 0 127.0.0.1 80\n", "invalid port");
	expect_error("tcppm -z 1 127.0.0.1 80\n", "unknown option '-z'");
	expect_error("tcppm -ox1 1 127.0.0.1 80\n", "unknown socket option set");
	expect_error("tcppm 1 127.0.0.1 80 extra\n", "expected LOCALPORT");
	expect_error("setuid 0\n", "refusing to use id 0");
	expect_error("log /nonexistent-dir/x.log\n", "log: cannot open");
	expect_error("a \"unterminated\n", "t.cfg:1: parse error: unterminated quote");
}

static void test_timeouts_and_cursor(void **state)
{
	const char *cfg =
		"timeouts 2 6 31\n"
		"internal 127.0.0.1\n"
		"maxconn 7\n"
		"tcppm 2000 localhost 22\n"
		"maxconn 9\n"
		"internal 127.0.0.2\n"
		"tcppm -p2002 -i127.0.0.3 -C -b4096 2001 10.0.0.1 23\n";
	char *msgs = NULL, buf[64];
	int nerr = 0;
	struct conf_gen *g = load(cfg, CONF_RUN, &nerr, &msgs);

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->timeouts[TO_BYTE_SHORT], 2);
	assert_int_equal(g->timeouts[TO_STRING_SHORT], 31);
	assert_int_equal(g->timeouts[TO_STRING_LONG], 60);  /* default kept */
	assert_int_equal(g->nsvcs, 2);
	/* The first service snapshotted the settings in force at its line. */
	assert_int_equal(g->svcs[0]->maxconn, 7);
	assert_int_equal(g->svcs[0]->backlog, 1 + 7 / 8);
	assert_string_equal(net_addr_str(&g->svcs[0]->listen, buf, sizeof(buf)),
			    "127.0.0.1");
	assert_int_equal(net_get_port(&g->svcs[0]->listen), 2000);
	assert_string_equal(g->svcs[0]->target_host, "localhost");
	assert_int_equal(g->svcs[0]->target_port, 22);
	assert_int_equal(g->svcs[0]->halfclose, 1);
	/* The second one sees the later values and its own options. */
	assert_int_equal(g->svcs[1]->maxconn, 9);
	assert_string_equal(net_addr_str(&g->svcs[1]->listen, buf, sizeof(buf)),
			    "127.0.0.3");
	assert_int_equal(net_get_port(&g->svcs[1]->listen), 2002);
	assert_int_equal(g->svcs[1]->halfclose, 0);
	assert_int_equal(g->svcs[1]->bufsize, 4096);
	assert_int_equal(g->neffects, 2);
	assert_int_equal(g->effects[1].kind, EFF_SERVICE);
	conf_gen_unref(g);
	free(msgs);
}

/* F-PROC-10: `force` is the default and a per-service snapshot. */
static void test_force_snapshot(void **state)
{
	const char *cfg =
		"tcppm 2000 localhost 22\n"
		"noforce\n"
		"tcppm 2001 localhost 22\n"
		"force\n"
		"tcppm 2002 localhost 22\n";
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(cfg, CONF_RUN, &nerr, &msgs);

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->nsvcs, 3);
	assert_int_equal(g->svcs[0]->force, 1);
	assert_int_equal(g->svcs[1]->force, 0);
	assert_int_equal(g->svcs[2]->force, 1);
	conf_gen_unref(g);
	free(msgs);
}

/* F-PROC-10: publishing numbers generations and advances the counter
 * relays watch; the current one is handed out with a reference. */
static void test_gen_publish(void **state)
{
	char *msgs = NULL;
	int nerr = 0, v0;
	struct conf_gen *a = load("tcppm 2000 localhost 22\n", CONF_RUN,
				  &nerr, &msgs);
	struct conf_gen *b, *cur;

	(void)state;
	free(msgs);
	msgs = NULL;
	b = load("tcppm 2001 localhost 22\n", CONF_RUN, &nerr, &msgs);
	free(msgs);
	assert_non_null(a);
	assert_non_null(b);
	v0 = *conf_gen_version();
	assert_null(conf_gen_current());
	conf_gen_publish(a);
	assert_int_equal(*conf_gen_version(), v0 + 1);
	assert_int_equal(a->version, v0 + 1);
	conf_gen_publish(b);
	assert_int_equal(*conf_gen_version(), v0 + 2);
	assert_int_equal(b->version, v0 + 2);
	cur = conf_gen_current();
	assert_ptr_equal(cur, b);
	conf_gen_unref(cur);
	conf_gen_unref(a);       /* the publication's reference is gone */
	conf_gen_publish(NULL);  /* drops b's */
	assert_null(conf_gen_current());
	assert_int_equal(*conf_gen_version(), v0 + 2);
	conf_gen_unref(b);
}

static void test_end_stops_reading(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load("maxseg 1400\nend\nbogus\n", CONF_RUN, &nerr,
				  &msgs);

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->maxseg, 1400);
	conf_gen_unref(g);
	free(msgs);
}

static void test_check_reports_every_error(void **state)
{
	const char *cfg =
		"bogus\n"
		"maxconn x\n"
		"pop3p -p3110\n"         /* accepted by --check */
		"filtermaxsize 1000\n"   /* fine */
		"timeouts 0\n";
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(cfg, CONF_CHECK, &nerr, &msgs);

	(void)state;
	assert_null(g);
	assert_int_equal(nerr, 3);
	assert_non_null(strstr(msgs, "t.cfg:1: unknown command 'bogus'"));
	assert_non_null(strstr(msgs, "t.cfg:2: maxconn: invalid value 'x'"));
	assert_non_null(strstr(msgs, "t.cfg:5: invalid timeout: 0"));
	free(msgs);
}

static void test_run_refuses_later_features(void **state)
{
	(void)state;
	expect_error("filtermaxsize x\n",
		     "t.cfg:1: filtermaxsize: bad size 'x'");
	expect_error("transparent\n", "needs its plugin");
}

static void test_include_and_dollar_file(void **state)
{
	char dir[] = "/tmp/pxconfXXXXXX";
	char inc[256], args[256], cfg[1024];
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(inc, sizeof(inc), "%s/inc.cfg", dir);
	snprintf(args, sizeof(args), "%s/args", dir);
	f = fopen(inc, "w");
	fputs("# included\nmaxseg 1300\nmaxconn 0\n", f);
	fclose(f);
	f = fopen(args, "w");
	fputs("3000\n127.0.0.1\n25\n", f);
	fclose(f);
	/* An error inside an include names the included file and line. */
	snprintf(cfg, sizeof(cfg), "include %s\n", inc);
	g = load(cfg, CONF_RUN, &nerr, &msgs);
	assert_null(g);
	if (strstr(msgs, "inc.cfg:3: maxconn: invalid value '0'") == NULL)
		fail_msg("got '%s'", msgs);
	free(msgs);
	msgs = NULL;
	/* $file supplies arguments; newlines are separators. */
	snprintf(cfg, sizeof(cfg), "tcppm $%s\n", args);
	g = load(cfg, CONF_RUN, &nerr, &msgs);
	assert_non_null(g);
	assert_int_equal(net_get_port(&g->svcs[0]->listen), 3000);
	assert_int_equal(g->svcs[0]->target_port, 25);
	conf_gen_unref(g);
	free(msgs);
	msgs = NULL;
	/* A missing $file is fatal when running, a warning in --check. */
	expect_error("tcppm $/nonexistent/args\n", "cannot read included file");
	g = load("users $/nonexistent/passwd\n$/nonexistent/line\n", CONF_CHECK,
		 &nerr, &msgs);
	assert_non_null(g);
	assert_int_equal(nerr, 0);
	assert_non_null(strstr(msgs, "warning"));
	conf_gen_unref(g);
	free(msgs);
	unlink(inc);
	unlink(args);
	rmdir(dir);
}

static int dummy_handler(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argv;
	return argc == 2 && strcmp(argv[1], "fail") == 0 ? 7 : 0;
}

static void test_registered_command(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	assert_int_equal(conf_register_cmd("mycmd", 2, 2, dummy_handler, NULL), 0);
	g = load("mycmd ok\n", CONF_RUN, &nerr, &msgs);
	assert_non_null(g);
	conf_gen_unref(g);
	free(msgs);
	expect_error("mycmd\n", "'mycmd': wrong number of arguments");
	expect_error("mycmd fail\n", "t.cfg:1: 'mycmd' failed with code 7");
	conf_cmds_cleanup();
	expect_error("mycmd ok\n", "unknown command 'mycmd'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_argument_counts),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_timeouts_and_cursor),
		cmocka_unit_test(test_end_stops_reading),
		cmocka_unit_test(test_force_snapshot),
		cmocka_unit_test(test_gen_publish),
		cmocka_unit_test(test_check_reports_every_error),
		cmocka_unit_test(test_run_refuses_later_features),
		cmocka_unit_test(test_include_and_dollar_file),
		cmocka_unit_test(test_registered_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
