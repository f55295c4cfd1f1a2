/*
 * Unit tests for limit.c: the shared pipe's clock with `now` passed in
 * (rate over a few simulated seconds, two readers sharing one pipe, no
 * credit after idle time), the connlim window score, the bandlim and
 * connlim config commands, pipe selection with nobandlim* exclusions,
 * and connlim concurrency, exclusions and roll-back on rejection.
 * F-LIM-01 F-LIM-02 F-LIM-03 F-LIM-04
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
#include "errcode.h"
#include "limit.h"
#include "relay.h"

/* ---- helpers ---------------------------------------------------------- */

static struct conf_gen *
load(const char *cfg, char **msgs)
{
	size_t len = 0;
	FILE *diag = open_memstream(msgs, &len);
	struct conf_gen *g;
	int nerr = 0;

	assert_non_null(diag);
	g = conf_load_mem(cfg, strlen(cfg), "t.cfg", CONF_RUN, diag, &nerr);
	fclose(diag);
	return g;
}

static struct conf_gen *
load_ok(const char *cfg)
{
	char *msgs = NULL;
	struct conf_gen *g = load(cfg, &msgs);

	if (g == NULL)
		fail_msg("config refused: %s", msgs ? msgs : "");
	free(msgs);
	return g;
}

static void
load_bad(const char *cfg, const char *want)
{
	char *msgs = NULL;
	struct conf_gen *g = load(cfg, &msgs);

	assert_null(g);
	if (strstr(msgs, want) == NULL)
		fail_msg("wanted '%s' in '%s'", want, msgs);
	free(msgs);
}

static struct client *
mkclient(struct conf_gen *g, const char *ip)
{
	struct client *cl = calloc(1, sizeof(*cl));

	assert_non_null(cl);
	cl->gen = g;
	cl->srv_sock = OS_BADSOCK;
	cl->cl_sock = OS_BADSOCK;
	assert_int_equal(net_parse_ip(ip, &cl->cl_peer), 0);
	cl->req.command = OP_CONNECT;
	cl->req.port = 80;
	return cl;
}

static void
dropclient(struct client *cl)
{
	limit_client_release(cl);
	free(cl);
}

/* ---- the pipe clock ---------------------------------------------------- */

static void
test_pipe_cost(void **state)
{
	(void)state;
	/* 1000 bytes at 8000 bit/s: one second */
	assert_int_equal(limit_pipe_cost_us(8000, 1000, 0), 1000000);
	/* uploads above 512 bytes count in 64-byte units */
	assert_int_equal(limit_pipe_cost_us(8000, 600, 1),
			 limit_pipe_cost_us(8000, 640, 0));
	assert_int_equal(limit_pipe_cost_us(8000, 500, 1),
			 limit_pipe_cost_us(8000, 500, 0));
}

/* A reader that waits exactly as told moves rate bytes a second. */
static void
test_pipe_rate(void **state)
{
	struct limit_pipe p;
	uint64_t now = 5000000000ull, end = now + 3000000, bytes = 0;
	const size_t chunk = 5000;

	(void)state;
	limit_pipe_init(&p, 800000);              /* 100 000 bytes/s */
	while (now < end) {
		int w = limit_pipe_take(&p, chunk, 0, now);

		bytes += chunk;
		/* plus a little scheduling jitter */
		now += (uint64_t)w * 1000 + 300;
	}
	/* 3 s at 100 000 B/s, within 2 % */
	assert_in_range(bytes, 294000, 306000);
	limit_pipe_destroy(&p);
}

/* Two readers on one pipe get about half each, and together the rate. */
static void
test_pipe_shared(void **state)
{
	struct limit_pipe p;
	uint64_t t[2] = { 1000000000ull, 1000000000ull };
	uint64_t got[2] = { 0, 0 }, end = t[0] + 4000000;
	/* the relay reads both connections with the same buffer size */
	size_t chunk[2] = { 5000, 5000 };

	(void)state;
	limit_pipe_init(&p, 400000);              /* 50 000 bytes/s */
	for (;;) {
		int i = t[0] <= t[1] ? 0 : 1, w;

		if (t[i] >= end)
			break;
		w = limit_pipe_take(&p, chunk[i], 0, t[i]);
		got[i] += chunk[i];
		t[i] += (uint64_t)w * 1000 + 100 + 50 * (uint64_t)i;
	}
	assert_in_range(got[0] + got[1], 190000, 212000);
	assert_in_range(got[0], 80000, 120000);
	assert_in_range(got[1], 80000, 120000);
	limit_pipe_destroy(&p);
}

/* Idle time is not saved up: after a pause the next read waits as
 * long as a fresh one (less the small slack). */
static void
test_pipe_idle_no_credit(void **state)
{
	struct limit_pipe p;
	uint64_t now = 1000000000ull;
	int w;

	(void)state;
	limit_pipe_init(&p, 8000);                /* 1000 bytes/s */
	w = limit_pipe_take(&p, 1000, 0, now);
	assert_in_range(w, 970, 1000);
	now += 60ull * 1000000;                   /* a minute later */
	w = limit_pipe_take(&p, 1000, 0, now);
	assert_in_range(w, 970, 1000);
	/* right away again: queued behind the first */
	w = limit_pipe_take(&p, 1000, 0, now);
	assert_in_range(w, 1970, 2000);
	limit_pipe_destroy(&p);
}

/* ---- the connlim window ------------------------------------------------- */

static void
test_window_score(void **state)
{
	struct limit_window w;
	uint64_t t = 100000;

	(void)state;
	memset(&w, 0, sizeof(w));
	/* rate 3 per 60 s: a burst of three, the fourth is refused */
	assert_true(limit_window_admit(&w, 3, 60000, t));
	assert_true(limit_window_admit(&w, 3, 60000, t));
	assert_true(limit_window_admit(&w, 3, 60000, t));
	assert_false(limit_window_admit(&w, 3, 60000, t));
	assert_false(limit_window_admit(&w, 3, 60000, t + 1000));
	/* a refusal does not change the score: 20 s later 3*40/60+1 = 3 */
	assert_true(limit_window_admit(&w, 3, 60000, t + 20000));
	assert_false(limit_window_admit(&w, 3, 60000, t + 20000));
	/* linear recovery: another 40 s (2/3 of the period) brings
	 * 3 * 20/60 + 1 = 2 */
	assert_true(limit_window_admit(&w, 3, 60000, t + 60000));
	assert_int_equal(w.score / LIMIT_SCORE_ONE, 2);
	/* a whole idle period starts over */
	assert_true(limit_window_admit(&w, 3, 60000, t + 200000));
	assert_int_equal(w.score, LIMIT_SCORE_ONE);
	/* the clock went back: start over too */
	assert_true(limit_window_admit(&w, 3, 60000, t));
	assert_int_equal(w.score, LIMIT_SCORE_ONE);
}

/* ---- config commands ------------------------------------------------------ */

static void
test_config_errors(void **state)
{
	(void)state;
	load_bad("bandlimin 299 *\n", "t.cfg:1: Wrong bandwidth specified");
	load_bad("bandlimout abc *\n", "Wrong bandwidth specified");
	load_bad("bandlimin 1000 * 300.1.1.1\n", "t.cfg:1: bandlimin: ");
	load_bad("nobandlimout * * * 99999999\n", "nobandlimout: ");
	load_bad("connlim x 60 *\n", "connlim: invalid rate or period");
	load_bad("connlim 10 -1 *\n", "connlim: invalid rate or period");
	load_bad("noconnlim * 1.2.3\n", "noconnlim: ");
	conf_gen_unref(load_ok("bandlimin 300 *\nbandlimout 1000000 alice\n"
			       "nobandlimin * * * 110\nnobandlimout\n"
			       "connlim 100 60 * 127.0.0.1\nconnlim 20 0 *\n"
			       "noconnlim * 192.168.1.10\n"));
}

/* ---- bandwidth selection ------------------------------------------------- */

/* The delay the hook asks for after n bytes from the server. */
static int
in_delay(struct client *cl, size_t n)
{
	struct relay_opts o;
	int delay = 0;

	relay_opts_default(&o);
	limit_relay_setup(cl, &o);
	if (o.hook == NULL)
		return -1;
	assert_ptr_equal(o.hook_arg, cl);
	assert_int_equal(o.hook(o.hook_arg, RELAY_S2C, n, &delay), 0);
	return delay;
}

static void
test_band_selection(void **state)
{
	struct conf_gen *g;
	struct client *a, *b, *c, *d;
	struct relay_opts o;
	int delay = 0;

	(void)state;
	g = load_ok("bandlimin 8000 * 10.0.0.0/8\n"
		    "nobandlimin * 10.0.0.1\n"
		    "bandlimin 16000 *\n"
		    "bandlimout 80000 * 10.0.0.2\n");
	a = mkclient(g, "10.0.0.2");   /* both "in" pipes */
	b = mkclient(g, "10.0.0.1");   /* first pipe, then excluded */
	c = mkclient(g, "192.168.1.1");/* only the 16000 one */
	d = mkclient(g, "10.0.0.3");

	/* 1000 bytes at 8000 bit/s = 1 s, less the 20 ms slack */
	assert_in_range(in_delay(a, 1000), 970, 1000);
	/* b shares the 8000 pipe with a: it queues behind a's second */
	assert_in_range(in_delay(b, 1000), 1970, 2000);
	/* c is on the 16000 pipe only, which a shares too: half a second
	 * of a's, then its own */
	assert_in_range(in_delay(c, 1000), 970, 1000);
	/* d also shares the 8000 and 16000 pipes: the longer wait wins */
	assert_in_range(in_delay(d, 1000), 2970, 3000);

	/* reads are cut to a twentieth of a second of the slowest pipe,
	 * at least 512 bytes */
	relay_opts_default(&o);
	limit_relay_setup(c, &o);
	assert_int_equal(o.bufsize, 512);
	/* the other direction of c has no pipe */
	assert_int_equal(o.hook(o.hook_arg, RELAY_C2S, 100000, &delay), 0);
	assert_int_equal(delay, 0);
	/* a's upload pipe: 80000 bit/s */
	assert_int_equal(o.hook(a, RELAY_C2S, 10000, &delay), 0);
	assert_in_range(delay, 970, 1000);

	dropclient(a);
	dropclient(b);
	dropclient(c);
	dropclient(d);
	conf_gen_unref(g);
}

static void
test_band_exclusion_first(void **state)
{
	struct conf_gen *g;
	struct client *a;
	struct relay_opts o;

	(void)state;
	g = load_ok("nobandlimin * * * 110\nbandlimin 8000 *\n");
	a = mkclient(g, "10.0.0.1");
	a->req.port = 110;
	relay_opts_default(&o);
	limit_relay_setup(a, &o);
	assert_null(o.hook);                /* nothing to do */
	assert_int_equal(o.bufsize, 65536);
	a->req.port = 80;
	assert_in_range(in_delay(a, 1000), 970, 1000);
	dropclient(a);
	conf_gen_unref(g);
}

/* ---- connlim --------------------------------------------------------------- */

static void
test_connlim_concurrency(void **state)
{
	struct conf_gen *g;
	struct client *a, *b, *c, *x;

	(void)state;
	g = load_ok("connlim 2 0 * 10.0.0.0/8\n");
	a = mkclient(g, "10.0.0.1");
	b = mkclient(g, "10.0.0.2");
	c = mkclient(g, "10.0.0.3");
	x = mkclient(g, "192.168.0.1");
	assert_int_equal(limit_authorize(a, 0), 0);
	/* once per client connection: a's next request takes nothing */
	assert_int_equal(limit_authorize(a, 0), 0);
	assert_int_equal(limit_authorize(b, 0), 0);
	assert_int_equal(limit_authorize(c, 0), ERR_LIMIT);
	assert_int_equal(limit_authorize(x, 0), 0);
	/* an auth or ACL failure passes through untouched */
	assert_int_equal(limit_authorize(x, ERR_ACL_DENY), ERR_ACL_DENY);
	dropclient(a);                     /* gives its slot back */
	dropclient(c);
	c = mkclient(g, "10.0.0.3");
	assert_int_equal(limit_authorize(c, 0), 0);
	dropclient(b);
	dropclient(c);
	dropclient(x);
	conf_gen_unref(g);
}

static void
test_connlim_exclusion_and_rollback(void **state)
{
	struct conf_gen *g;
	struct client *v[8];
	int i;

	(void)state;
	g = load_ok("noconnlim * 10.0.0.1\n"
		    "connlim 5 0 *\n"
		    "connlim 1 0 * 10.0.0.5\n");
	/* excluded from every later rule */
	v[0] = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(v[0], 0), 0);
	dropclient(v[0]);
	v[0] = mkclient(g, "10.0.0.5");
	assert_int_equal(limit_authorize(v[0], 0), 0);     /* 1 of 5 */
	v[1] = mkclient(g, "10.0.0.5");
	/* refused by the second rule: the first gives its slot back */
	assert_int_equal(limit_authorize(v[1], 0), ERR_LIMIT);
	dropclient(v[1]);
	for (i = 1; i < 5; i++) {
		v[i] = mkclient(g, "10.0.0.6");
		assert_int_equal(limit_authorize(v[i], 0), 0);
	}
	v[5] = mkclient(g, "10.0.0.7");
	assert_int_equal(limit_authorize(v[5], 0), ERR_LIMIT);
	for (i = 0; i <= 5; i++)
		dropclient(v[i]);
	conf_gen_unref(g);
}

static void
test_connlim_rate(void **state)
{
	struct conf_gen *g;
	struct client *v[4];
	int i;

	(void)state;
	g = load_ok("connlim 3 60 *\n");
	for (i = 0; i < 4; i++)
		v[i] = mkclient(g, "10.0.0.1");
	for (i = 0; i < 3; i++)
		assert_int_equal(limit_authorize(v[i], 0), 0);
	assert_int_equal(limit_authorize(v[3], 0), ERR_LIMIT);
	for (i = 0; i < 4; i++)
		dropclient(v[i]);
	conf_gen_unref(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_cost),
		cmocka_unit_test(test_pipe_rate),
		cmocka_unit_test(test_pipe_shared),
		cmocka_unit_test(test_pipe_idle_no_credit),
		cmocka_unit_test(test_window_score),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_band_selection),
		cmocka_unit_test(test_band_exclusion_first),
		cmocka_unit_test(test_connlim_concurrency),
		cmocka_unit_test(test_connlim_exclusion_and_rollback),
		cmocka_unit_test(test_connlim_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
