/*
 * Unit tests for the filter framework (filter.c) and the built-in PCRE2
 * rules (filter_pcre.c): hook order and results, buffer replacement,
 * the rule parsers, option names, replacement escapes and expansion,
 * rewriting a buffer, and the pcre* config commands.
 * F-PLUG-02 F-PCRE-01 F-PCRE-02 F-PCRE-03 F-PCRE-04 F-PLUG-11
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
#include "errcode.h"
#include "filter.h"
#include "filter_pcre.h"
#include "service.h"

/* ---- the framework, with test filters ------------------------------------ */

/* A test filter: data is a struct tf describing what it does. */
struct tf {
	int client_rc;      /* result of the client hook */
	int rc;             /* result of the buffer hook */
	const char *append; /* appended to the buffer when non-NULL */
	int calls, cleared;
};

static int tf_client(void *svc, struct client *cl, void **conn)
{
	struct tf *t = svc;

	(void)cl;
	*conn = t;
	return t->client_rc;
}

static void tf_clear(void *conn)
{
	((struct tf *)conn)->cleared++;
}

static int tf_buffer(void *svc, void *conn, struct client *cl,
		     enum filter_hook h, struct filter_buf *b)
{
	struct tf *t = svc;
	size_t n;
	char *p;

	(void)conn;
	(void)cl;
	(void)h;
	t->calls++;
	if (t->append != NULL) {
		n = strlen(t->append);
		p = malloc(b->len + n);
		assert_non_null(p);
		memcpy(p, b->data, b->len);
		memcpy(p + b->len, t->append, n);
		filter_buf_set(b, p, b->len + n);
	}
	return t->rc;
}

static int tf_stage(void *svc, void *conn, struct client *cl)
{
	struct tf *t = svc;

	(void)conn;
	(void)cl;
	t->calls++;
	return t->rc;
}

static const struct filter_ops tf_ops = {
	.name = "test", .client = tf_client, .clear = tf_clear,
	.buffer = tf_buffer, .afterauth = tf_stage,
};

struct rig {
	struct filter_list *list;
	struct svc_conf sc;
	struct client cl;
};

static void rig_open(struct rig *r, struct tf *t, size_t n, unsigned hooks)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
		assert_int_equal(filter_list_add(&r->list, &tf_ops, &t[i],
						 hooks, 0), 0);
	r->sc.filters = filter_chain_build(r->list, &r->sc);
	r->cl.conf = &r->sc;
}

static void rig_close(struct rig *r)
{
	filter_conn_free(r->cl.filt);
	filter_chain_free(r->sc.filters);
	filter_list_free(r->list);
}

static void test_no_filters_no_state(void **state)
{
	struct rig r;
	struct filter_buf b;

	(void)state;
	rig_open(&r, NULL, 0, 0);
	assert_null(r.sc.filters);
	assert_int_equal(filter_conn_open(&r.cl), 0);
	assert_null(r.cl.filt);
	filter_buf_init(&b, "x", 1);
	assert_int_equal(filter_run(&r.cl, FH_REQUEST, &b), FILTER_CONTINUE);
	rig_close(&r);
}

static void test_order_and_results(void **state)
{
	struct tf t[3] = {
		{ FILTER_CONTINUE, FILTER_CONTINUE, "1", 0, 0 },
		{ FILTER_CONTINUE, FILTER_PASS, "2", 0, 0 },
		{ FILTER_CONTINUE, FILTER_REJECT, NULL, 0, 0 },
	};
	struct rig r;
	struct filter_buf b;
	char orig[] = "ab";

	(void)state;
	rig_open(&r, t, 3, FILTER_HOOK_BIT(FH_HEADER_CLI));
	assert_int_equal(filter_conn_open(&r.cl), 0);
	assert_non_null(r.cl.filt);
	assert_int_equal(filter_conn_hooks(r.cl.filt),
			 FILTER_HOOK_BIT(FH_HEADER_CLI));
	/* a hook the filters do not serve: nothing runs */
	filter_buf_init(&b, orig, 2);
	assert_int_equal(filter_run(&r.cl, FH_REQUEST, &b), FILTER_CONTINUE);
	assert_int_equal(t[0].calls, 0);
	/* PASS of the second stops before the rejecting third */
	assert_int_equal(filter_run(&r.cl, FH_HEADER_CLI, &b), FILTER_PASS);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "ab12", 4);
	assert_string_equal(orig, "ab");     /* the caller's copy stays */
	assert_int_equal(t[2].calls, 0);
	filter_buf_release(&b);
	t[1].rc = FILTER_CONTINUE;
	filter_buf_init(&b, orig, 2);
	assert_int_equal(filter_run(&r.cl, FH_HEADER_CLI, &b), FILTER_REJECT);
	filter_buf_release(&b);
	rig_close(&r);
	assert_int_equal(t[0].cleared, 1);
	assert_int_equal(t[2].cleared, 1);
}

static void test_client_hook(void **state)
{
	struct tf t[2] = {
		{ FILTER_PASS, FILTER_REJECT, NULL, 0, 0 },
		{ FILTER_CONTINUE, FILTER_CONTINUE, NULL, 0, 0 },
	};
	struct rig r;
	struct filter_buf b;

	(void)state;
	/* PASS: not attached to this connection */
	rig_open(&r, t, 2, FILTER_HOOK_BIT(FH_REQUEST));
	assert_int_equal(filter_conn_open(&r.cl), 0);
	filter_buf_init(&b, "x", 1);
	assert_int_equal(filter_run(&r.cl, FH_REQUEST, &b), FILTER_CONTINUE);
	assert_int_equal(t[0].calls, 0);
	assert_int_equal(t[1].calls, 1);
	rig_close(&r);
	assert_int_equal(t[0].cleared, 0);
	/* higher than PASS: the connection is dropped */
	t[1].client_rc = FILTER_REJECT;
	rig_open(&r, t, 2, FILTER_HOOK_BIT(FH_REQUEST));
	assert_int_equal(filter_conn_open(&r.cl), ERR_FILTER);
	assert_null(r.cl.filt);
	rig_close(&r);
}

static void test_stage_hooks(void **state)
{
	struct tf t[2] = {
		{ FILTER_CONTINUE, FILTER_CONTINUE, NULL, 0, 0 },
		{ FILTER_CONTINUE, FILTER_REJECT, NULL, 0, 0 },
	};
	struct rig r;

	(void)state;
	rig_open(&r, t, 2, 0);
	assert_int_equal(filter_conn_open(&r.cl), 0);
	/* no connect hook in these filters */
	assert_int_equal(filter_run_stage(&r.cl, FS_CONNECT),
			 FILTER_CONTINUE);
	assert_int_equal(t[0].calls, 0);
	assert_int_equal(filter_run_stage(&r.cl, FS_AFTERAUTH),
			 FILTER_REJECT);
	assert_int_equal(t[0].calls, 1);
	assert_int_equal(t[1].calls, 1);
	rig_close(&r);
}

static void test_relay_chunk(void **state)
{
	struct tf t[1] = { { FILTER_CONTINUE, FILTER_CONTINUE, "!", 0, 0 } };
	struct rig r;
	const char *out;
	size_t n;

	(void)state;
	rig_open(&r, t, 1, FILTER_HOOK_BIT(FH_DATA_SRV));
	assert_int_equal(filter_conn_open(&r.cl), 0);
	assert_int_equal(filter_conn_hooks(r.cl.filt) & FILTER_DATA_HOOKS,
			 FILTER_HOOK_BIT(FH_DATA_SRV));
	assert_int_equal(filter_relay_chunk(&r.cl, 1, "abc", 3, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "abc!", 4);
	/* the other direction has no filter: the chunk is as read */
	assert_int_equal(filter_relay_chunk(&r.cl, 0, "xy", 2, &out, &n), 0);
	assert_int_equal(n, 2);
	t[0].rc = FILTER_REJECT;
	assert_int_equal(filter_relay_chunk(&r.cl, 1, "abc", 3, &out, &n),
			 ERR_FILTER);
	rig_close(&r);
}

/* ---- pure parsers ------------------------------------------------------ */

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(pcre_parse_types("request"),
			 FILTER_HOOK_BIT(FH_REQUEST));
	assert_int_equal(pcre_parse_types("srvheader,cliheader"),
			 FILTER_HOOK_BIT(FH_HEADER_SRV) |
			 FILTER_HOOK_BIT(FH_HEADER_CLI));
	assert_int_equal(pcre_parse_types("clidata,srvdata"),
			 FILTER_DATA_HOOKS);
	assert_int_equal(pcre_parse_types("xrequestx"),
			 FILTER_HOOK_BIT(FH_REQUEST));   /* substring */
	assert_int_equal(pcre_parse_types("headers"), 0);
}

static void test_actions(void **state)
{
	(void)state;
	assert_int_equal(pcre_parse_action("allow"), PCRE_ACT_ALLOW);
	assert_int_equal(pcre_parse_action("a"), PCRE_ACT_ALLOW);
	assert_int_equal(pcre_parse_action("deny"), PCRE_ACT_DENY);
	assert_int_equal(pcre_parse_action("d"), PCRE_ACT_DENY);
	assert_int_equal(pcre_parse_action("rem"), PCRE_ACT_DENY);
	assert_int_equal(pcre_parse_action("du"), PCRE_ACT_DUNNO);
	assert_int_equal(pcre_parse_action("dunno"), PCRE_ACT_DUNNO);
	assert_int_equal(pcre_parse_action("allowx"), -1);
	assert_int_equal(pcre_parse_action("block"), -1);
	assert_int_equal(pcre_parse_action(""), -1);
}

static void test_unescape(void **state)
{
	char *s;

	(void)state;
	s = pcre_unescape_replacement("a\\r\\nb\\\\c");
	assert_string_equal(s, "a\r\nb\\c");
	free(s);
	s = pcre_unescape_replacement("keep\\0dropped");
	assert_string_equal(s, "keep");
	free(s);
	/* other escapes are for match time */
	s = pcre_unescape_replacement("\\$1 \\x$2\\");
	assert_string_equal(s, "\\$1 \\x$2\\");
	free(s);
}

#ifdef HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static void test_option_names(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(pcre_option_lookup("PCRE2_CASELESS", &v), 0);
	assert_int_equal(v, PCRE2_CASELESS);
	assert_int_equal(pcre_option_lookup("PCRE_CASELESS", &v), 0);
	assert_int_equal(v, PCRE2_CASELESS);
	assert_int_equal(pcre_option_lookup("PCRE_UTF8", &v), 0);
	assert_int_equal(v, PCRE2_UTF);
#ifdef PCRE2_EXTENDED_MORE
	assert_int_equal(pcre_option_lookup("PCRE_EXTRA", &v), 0);
	assert_int_equal(v, PCRE2_EXTENDED_MORE);
#endif
	assert_int_equal(pcre_option_lookup("PCRE_NOTBOL", &v), 1);
	assert_int_equal(v, PCRE2_NOTBOL);
	assert_int_equal(pcre_option_lookup("PCRE_NEWLINE_LF", &v), 2);
	assert_int_equal(v, PCRE2_NEWLINE_LF);
	assert_int_equal(pcre_option_lookup("PCRE_BSR_UNICODE", &v), 3);
	assert_int_equal(pcre_option_lookup("PCRE2_NOPE", &v), -1);
	assert_int_equal(pcre_option_lookup("pcre2_caseless", &v), -1);
}

static const uint32_t no_opts[4] = { 0, 0, 0, 0 };

static struct pcre_rule *rule(const char *re, const char *repl,
			      const uint32_t *opts)
{
	char err[256];
	struct pcre_rule *r = pcre_rule_new(FILTER_HOOK_BIT(FH_DATA_SRV),
					    PCRE_ACT_DUNNO, re, repl,
					    opts ? opts : no_opts, err,
					    sizeof(err));

	if (r == NULL)
		fail_msg("%s", err);
	return r;
}

static void expect_rewrite(const char *re, const char *repl, const char *in,
			   int count, const char *want)
{
	struct pcre_rule *r = rule(re, repl, NULL);
	char *out = NULL;
	size_t n = 0;
	int rc = pcre_rule_rewrite(r, in, strlen(in), &out, &n);

	assert_int_equal(rc, count);
	if (count > 0) {
		if (n != strlen(want) || memcmp(out, want, n) != 0)
			fail_msg("'%s' -> '%.*s', want '%s'", in, (int)n, out,
				 want);
	}
	free(out);
	pcre_rule_free(r);
}

static void test_rewrite(void **state)
{
	(void)state;
	expect_rewrite("badword", "*******", "a badword b badword", 2,
		       "a ******* b *******");
	expect_rewrite("nothing", "x", "abc", 0, NULL);
	expect_rewrite("(\\w+)@(\\w+)", "$2 at $1", "mail bob@example now", 1,
		       "mail example at bob now");
	expect_rewrite("a(b)?c", "[$1$5$0]", "ac abc", 2, "[ac] [babc]");
	expect_rewrite("x", "\\$1\\\\", "x", 1, "$1\\");
	expect_rewrite("x*", "-", "abc", 4, "-a-b-c-");
	expect_rewrite("^", "> ", "line", 1, "> line");
	/* longer and shorter results */
	expect_rewrite("o", "ooo", "foo", 2, "foooooo");
	expect_rewrite("o+", "", "foo boo", 2, "f b");
}

static void test_rule_compile(void **state)
{
	uint32_t caseless[4] = { PCRE2_CASELESS, 0, 0, 0 };
	char err[256];
	struct pcre_rule *r;

	(void)state;
	r = pcre_rule_new(1, PCRE_ACT_DENY, "a(b", NULL, no_opts, err,
			  sizeof(err));
	assert_null(r);
	assert_non_null(strstr(err, "bad regex"));
	/* "*" and "": no pattern, matches anything */
	r = rule("*", NULL, NULL);
	assert_int_equal(pcre_rule_matches(r, "", 0), 1);
	pcre_rule_free(r);
	r = rule("", NULL, NULL);
	assert_int_equal(pcre_rule_matches(r, "zz", 2), 1);
	pcre_rule_free(r);
	r = rule("casino", NULL, NULL);
	assert_int_equal(pcre_rule_matches(r, "GET /CASINO", 11), 0);
	assert_int_equal(pcre_rule_matches(r, "GET /casino", 11), 1);
	pcre_rule_free(r);
	r = rule("casino", NULL, caseless);
	assert_int_equal(pcre_rule_matches(r, "GET /CASINO", 11), 1);
	pcre_rule_free(r);
	/* a pathological pattern stops at the step limit: no match */
	r = rule("(a+)+$", NULL, NULL);
	assert_int_equal(pcre_rule_matches(r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
					   31), 0);
	pcre_rule_free(r);
}

/* ---- the commands ------------------------------------------------------ */

static struct conf_gen *load(const char *text, enum conf_mode mode,
			     int *nerr, char **msgs)
{
	return conf_test_load(text, mode, nerr, msgs);
}

static void expect_error(const char *text, const char *message)
{
	conf_test_expect_error(text, message);
}

static void test_commands(void **state)
{
	const char *cfg =
		"proxy -p1\n"
		"filtermaxsize 100\n"
		"pcre_options PCRE2_CASELESS NO_SUCH_OPTION\n"
		"pcre request deny casino * 10.0.0.0/8\n"
		"pcre_extend * 192.168.0.0/16\n"
		"pcre_rewrite srvdata,cliheader dunno \"bad\" \"g\\\\ood\"\n"
		"plugin nowhere.so pcre_plugin\n"
		"socks -p2\n";
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(cfg, CONF_RUN, &nerr, &msgs);

	(void)state;
	if (g == NULL)
		fail_msg("%s", msgs);
	assert_int_equal(g->filtermaxsize, 100);
	assert_non_null(g->filters);
	/* the service before the rules has none */
	assert_int_equal(g->nsvcs, 2);
	assert_null(g->svcs[0]->filters);
	assert_non_null(g->svcs[1]->filters);
	conf_gen_unref(g);
	free(msgs);
}

static void test_command_errors(void **state)
{
	(void)state;
	expect_error("pcre request block x\n",
		     "t.cfg:1: pcre: unknown action 'block'");
	expect_error("pcre request deny \"a(b\"\n", "t.cfg:1: pcre: bad regex");
	expect_error("pcre_extend * 10.0.0.1\n",
		     "t.cfg:1: pcre_extend: no pcre rule before it");
	expect_error("pcre request deny x * 999.1.1.1\n", "t.cfg:1:");
	expect_error("filtermaxsize -1\n", "t.cfg:1: filtermaxsize: bad size");
}
#endif /* HAVE_PCRE2 */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filters_no_state),
		cmocka_unit_test(test_order_and_results),
		cmocka_unit_test(test_client_hook),
		cmocka_unit_test(test_stage_hooks),
		cmocka_unit_test(test_relay_chunk),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_unescape),
#ifdef HAVE_PCRE2
		cmocka_unit_test(test_option_names),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rule_compile),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_command_errors),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
