/*
 * Unit tests for auth types registered by plugins (auth.c registry, the
 * `auth` command and the chain).  A config command stands in for a
 * plugin line: it registers the type while the config runs, exactly when
 * a plugin's entry would.  F-PLUG-02 F-PLUG-07 F-AUTH-07
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "client.h"
#include "conf.h"
#include "conf_test.h"
#include "errcode.h"
#include "net.h"
#include "pwhash.h"
#include "service.h"

static int calls;

/* Accepts alice/s3cret; counts its calls to show cache hits. */
static int check(void *arg, const char *user, const char *password)
{
	calls++;
	if (arg != (void *)&calls)
		return ERR_AUTH_UNKNOWN;
	if (user == NULL || password == NULL)
		return ERR_AUTH_NOUSER;
	return strcmp(user, "alice") == 0 && strcmp(password, "s3cret") == 0
		       ? 0 : ERR_AUTH_UNKNOWN;
}

static int check_bogus(void *arg, const char *user, const char *password)
{
	(void)arg;
	(void)user;
	(void)password;
	return 77;
}

/* reg_pam [bogus]: registers `pam` as a plugin's entry would */
static int cmd_reg(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argv;
	return auth_plugin_register("pam", argc > 1 ? check_bogus : check,
				    &calls) == 0 ? 0 : 1;
}

/* A rewriting type: upper-cases the user name, fills the password's
 * whole buffer without a terminator (the daemon must add one), and
 * rejects so the chain goes on. */
static int upcase(void *arg, char *user, size_t user_size, char *password,
		  size_t pass_size)
{
	size_t i;

	(void)arg;
	for (i = 0; user != NULL && i + 1 < user_size; i++)
		if (user[i] >= 'a' && user[i] <= 'z')
			user[i] = (char)(user[i] - 'a' + 'A');
	if (password != NULL)
		memset(password, 'x', pass_size);
	return ERR_AUTH_UNKNOWN;
}

/* reg_up: registers the rewriting type `up` */
static int cmd_reg_up(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return auth_plugin_register_rewrite("up", upcase, NULL) == 0 ? 0 : 1;
}

static struct conf_gen *
load(const char *text, int *nerr, char **msgs)
{
	return conf_test_load(text, CONF_RUN, nerr, msgs);
}

static int
run(struct conf_gen *g, const char *user, const char *pass, uint64_t mono)
{
	struct client *cl = calloc(1, sizeof(*cl));
	int rc;

	assert_non_null(cl);
	cl->conf = g->svcs[0];
	cl->gen = g;
	assert_int_equal(net_parse_ip("10.0.0.1", &cl->cl_peer), 0);
	assert_int_equal(net_parse_ip("192.0.2.10", &cl->req.addr), 0);
	cl->req.port = 80;
	cl->req.command = OP_CONNECT;
	cl->cred.user = user ? strdup(user) : NULL;
	cl->cred.password = pass ? strdup(pass) : NULL;
	rc = auth_authorize_at(cl, time(NULL), mono);
	pwhash_free_secret(cl->cred.user);
	pwhash_free_secret(cl->cred.password);
	free(cl->req.host);
	free(cl);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	calls = 0;
	auth_cache_reset();
	if (conf_register_cmd("reg_up", 1, 1, cmd_reg_up, NULL) != 0)
		return -1;
	return conf_register_cmd("reg_pam", 1, 2, cmd_reg, NULL);
}

static int teardown(void **state)
{
	(void)state;
	conf_cmds_cleanup();
	auth_cache_reset();
	return 0;
}

static void test_register_rules(void **state)
{
	(void)state;
	auth_plugins_reset();
	assert_int_equal(auth_plugin_register("strong", check, NULL), -1);
	assert_int_equal(auth_plugin_register("", check, NULL), -1);
	assert_int_equal(auth_plugin_register(NULL, check, NULL), -1);
	assert_int_equal(auth_plugin_register("pam", NULL, NULL), -1);
	assert_int_equal(auth_plugin_register(
		"a_name_that_is_much_longer_than_31", check, NULL), -1);
	assert_int_equal(auth_plugin_register("pam", check, NULL), 0);
	assert_int_equal(auth_plugin_register("pam", check, NULL), 0);
	auth_plugins_reset();
}

/* F-PLUG-10: a rewriting type changes the credentials the next
 * methods see, within their buffers, and accepts nobody itself. */
static void test_rewrite_type(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	assert_int_equal(auth_plugin_register_rewrite("strong", upcase, NULL),
			 -1);
	assert_int_equal(auth_plugin_register_rewrite("up", NULL, NULL), -1);
	g = load("reg_up\nusers ALICE:CL:xxxxxx\nauth up strong\nallow *\n"
		 "proxy -p3128\n", &nerr, &msgs);
	free(msgs);
	assert_non_null(g);
	/* "s3cret" became "xxxxxx" (6 bytes: the terminator is kept) */
	assert_int_equal(run(g, "alice", "s3cret", 1), 0);
	assert_int_not_equal(run(g, "alice", "s3cre", 1), 0);
	assert_int_not_equal(run(g, "bob", "s3cret", 1), 0);
	/* no credentials: the rewrite sees NULLs and the chain goes on */
	assert_int_not_equal(run(g, NULL, NULL, 1), 0);
	conf_gen_unref(g);
}

static void test_unknown_before_registration(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	g = load("auth pam\nreg_pam\nproxy -p3128\n", &nerr, &msgs);
	assert_null(g);
	assert_non_null(strstr(msgs, "unknown authentication type 'pam'"));
	free(msgs);
}

static void test_chain_codes(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	calls = 0;
	g = load("reg_pam\nauth pam\nallow *\nproxy -p3128\n", &nerr, &msgs);
	free(msgs);
	assert_non_null(g);
	assert_int_equal(run(g, "alice", "s3cret", 1), 0);
	assert_int_equal(run(g, "alice", "wrong", 1), ERR_AUTH_UNKNOWN);
	assert_int_equal(run(g, NULL, NULL, 1), ERR_AUTH_NOUSER);
	assert_int_equal(calls, 3);
	conf_gen_unref(g);
}

/* A registration lives for its own config run only. */
static void test_reload_forgets(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g, *g2;

	(void)state;
	g = load("reg_pam\nauth pam\nallow *\nproxy -p3128\n", &nerr, &msgs);
	free(msgs);
	msgs = NULL;
	assert_non_null(g);
	g2 = load("auth pam\nproxy -p3128\n", &nerr, &msgs);
	assert_null(g2);
	free(msgs);
	/* the running generation keeps its check */
	assert_int_equal(run(g, "alice", "s3cret", 1), 0);
	conf_gen_unref(g);
}

static void test_bad_code_is_wrong_password(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	g = load("reg_pam bogus\nauth pam\nallow *\nproxy -p3128\n", &nerr,
		 &msgs);
	free(msgs);
	assert_non_null(g);
	assert_int_equal(run(g, "alice", "s3cret", 1), ERR_AUTH_UNKNOWN);
	conf_gen_unref(g);
}

/* `auth cache pam` with `authcache user,password`: a success is cached,
 * the next request with the same pair does not reach the plugin. */
static void test_cache_then_plugin(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	calls = 0;
	auth_cache_reset();
	g = load("reg_pam\nauthcache user,password 60\nauth cache pam\n"
		 "allow *\nproxy -p3128\n", &nerr, &msgs);
	free(msgs);
	assert_non_null(g);
	assert_int_equal(run(g, "alice", "s3cret", 10), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(run(g, "alice", "s3cret", 20), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(run(g, "alice", "other", 20), ERR_AUTH_UNKNOWN);
	assert_int_equal(calls, 2);
	/* expired: asks the plugin again */
	assert_int_equal(run(g, "alice", "s3cret", 100), 0);
	assert_int_equal(calls, 3);
	conf_gen_unref(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_rewrite_type),
		cmocka_unit_test(test_unknown_before_registration),
		cmocka_unit_test(test_chain_codes),
		cmocka_unit_test(test_reload_forgets),
		cmocka_unit_test(test_bad_code_is_wrong_password),
		cmocka_unit_test(test_cache_then_plugin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
