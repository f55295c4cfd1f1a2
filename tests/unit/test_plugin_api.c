/*
 * Unit tests for the per-run parts of the plugin API (plugin.c): traffic
 * hooks, replaced messages, conf_run and at_run_end belong to the config
 * run whose plugin command set them up.  A command registered through
 * the API stands in for a plugin's entry.  F-PLUG-02 F-PLUG-04 F-PLUG-05
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
#include "msgtab.h"
#include "plugin.h"
#include "plugin_api.h"

static const struct px_api *api;
static int released;
static unsigned seen_run;

static void double_it(void *arg, struct px_traffic *t)
{
	t->in *= 2;
	t->out += *(int *)arg;
}

static void release(void *arg)
{
	released += *(int *)arg;
}

/* `reg`: registers what a plugin entry would. */
static int cmd_reg(struct px_conf *conf, int argc, char **argv)
{
	static int ten = 10, one = 1;

	(void)conf;
	(void)argc;
	(void)argv;
	seen_run = api->conf_run();
	if (api->register_traffic(double_it, &ten, release) != 0 ||
	    api->at_run_end(release, &one) != 0 ||
	    api->set_message(PX_MSG_PROXY, 2, "<p>nein</p>") != 0)
		return 1;
	/* refused: no such entry, no such table, NULL function */
	if (api->set_message(PX_MSG_PROXY, api->message_count(PX_MSG_PROXY),
			     "x") == 0 ||
	    api->set_message(9, 0, "x") == 0 ||
	    api->register_traffic(NULL, NULL, NULL) == 0)
		return 2;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	api = plugin_api();
	return api->register_command("reg", 1, 1, cmd_reg);
}

static int teardown(void **state)
{
	(void)state;
	conf_cmds_cleanup();
	return 0;
}

static void test_table(void **state)
{
	(void)state;
	assert_true(PX_API_HAS(api, at_run_end));
	assert_int_equal(api->message_count(PX_MSG_PROXY), MSG_HTTP_COUNT);
	assert_int_equal(api->message_count(PX_MSG_ADMIN), MSG_ADMIN_COUNT);
	assert_int_equal(api->message_count(5), 0);
	assert_string_equal(api->message_default(PX_MSG_ADMIN,
						 MSG_ADMIN_H2_END), "</h2>\n");
	assert_null(api->message_default(PX_MSG_ADMIN, -1));
	/* outside a config run nothing can be registered */
	assert_int_equal(api->conf_run(), 0);
	assert_int_equal(api->set_message(PX_MSG_PROXY, 0, "x"), -1);
	assert_int_equal(api->register_traffic(double_it, NULL, NULL), -1);
	assert_int_equal(api->at_run_end(release, NULL), -1);
}

static void test_run_owns_hooks_and_messages(void **state)
{
	struct conf_gen *g1, *g2;
	struct px_traffic t;
	unsigned run1;

	(void)state;
	released = 0;
	g1 = conf_test_run("reg\n");
	assert_non_null(g1);
	run1 = seen_run;
	assert_true(run1 != 0);
	assert_string_equal(msgtab_text(g1->msgs, MSGTAB_PROXY, 2),
			    "<p>nein</p>");
	memset(&t, 0, sizeof(t));
	t.in = 5;
	t.out = 1;
	plugin_traffic_apply(g1->hooks, &t);
	assert_true(t.in == 10 && t.out == 11);

	/* the next run without the command has neither */
	g2 = conf_test_run("# nothing\n");
	assert_non_null(g2);
	assert_null(g2->hooks);
	assert_string_equal(msgtab_text(g2->msgs, MSGTAB_PROXY, 2),
			    msgtab_default(MSGTAB_PROXY, 2));
	assert_int_equal(released, 0);
	conf_gen_unref(g2);

	/* releases run when the run's configuration is gone */
	conf_gen_unref(g1);
	assert_int_equal(released, 11);

	/* a failed run releases at once; runs are numbered anew */
	released = 0;
	assert_null(conf_test_run("reg\nno_such_command\n"));
	assert_int_equal(released, 11);
	assert_true(seen_run != run1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_run_owns_hooks_and_messages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
