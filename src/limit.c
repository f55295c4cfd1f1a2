/*
 * limit.c - bandwidth pipes and connection limits (reference limits.md
 * sections 2 and 3), and the limit steps of a request.
 *
 * Owns struct limit_conf (the bandlim and connlim lists of a generation)
 * and struct limit_client (what one connection holds: its attached
 * pipes and its connlim slots).  The lists are built on the config
 * thread and never change once the generation is published; the state
 * inside each rule (a pipe's clock, a connlim count or score) is shared
 * by every worker and guarded by that rule's own mutex, taken for a few
 * lines only.  Lock order: a worker holds at most one rule lock at a time
 * and never a rule lock together with the counter lock (counter.c).
 */
#include "limit.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "counter.h"
#include "errcode.h"
#include "plugin_api.h"
#include "relay.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Directions of the pipe lists: what limits.md calls "in" is traffic
 * read from servers (relay S2C), "out" traffic read from clients. */
enum { LIM_IN = 0, LIM_OUT = 1 };

/* Idle time a pipe does not lose: a wake-up that comes a little late
 * does not cost throughput.  Also the most a quiet pipe lets through in
 * one burst. */
#define LIM_SLACK_US 20000
/* With pipes attached the relay reads about this share of a second's
 * worth of the slowest pipe at a time (1/20 s), so the rate is even
 * within a second and the first read does not overshoot. */
#define LIM_CHUNKS_PER_S 20
#define LIM_MIN_CHUNK 512

/* bandlimin / bandlimout / nobandlim* (F-LIM-01, F-LIM-02). */
struct lim_band {
	struct acl_rule *rule;
	int no;                      /* nobandlim*: stops the selection */
	struct limit_pipe pipe;     /* unused for `no` rules */
};

/* connlim / noconnlim (F-LIM-03, F-LIM-04). */
struct lim_conn {
	struct acl_rule *rule;
	int no;
	unsigned rate;
	unsigned period;             /* seconds; 0 = concurrency limit */
	os_mutex_t lock;             /* guards active and win */
	unsigned active;             /* period 0: connections holding it */
	struct limit_window win;    /* period > 0 */
};

struct limit_conf {
	struct lim_band **band[2];   /* LIM_IN, LIM_OUT; config order */
	size_t nband[2];
	struct lim_conn **conn;
	size_t nconn;
};

/* Per connection; owned by its worker thread. */
struct limit_client {
	struct limit_pipe *pipes[2][LIMIT_MAX_PIPES];
	int npipes[2];
	struct lim_conn **holds;     /* concurrency slots taken */
	size_t nholds, capholds;
	int conn_done;               /* connlim was applied */
	struct px_pipe *ext;         /* a plugin's pipe (conn_limit), a ref */
};

/* A plugin's pipe (plugin_api.h pipe_new): one limit_pipe shared by the
 * connections the plugin attaches it to, like a bandlimin rule's. */
struct px_pipe {
	struct limit_pipe pipe;
	int refs;                    /* atomic: the plugin's + connections' */
};

_Static_assert(PX_PIPE_MIN_RATE == LIMIT_MIN_RATE,
	       "plugin_api.h and limit.h agree on the lowest rate");

/* ---- pipes ------------------------------------------------------------ */

void limit_pipe_init(struct limit_pipe *p, uint64_t rate)
{
	memset(p, 0, sizeof(*p));
	os_mutex_init(&p->lock);
	p->rate = rate < LIMIT_MIN_RATE ? LIMIT_MIN_RATE : rate;
}

void limit_pipe_destroy(struct limit_pipe *p)
{
	os_mutex_destroy(&p->lock);
}

uint64_t limit_pipe_cost_us(uint64_t rate, size_t n, int out)
{
	uint64_t bytes = n;

	if (rate == 0)
		return 0;
	if (out && bytes > 512)
		bytes = (bytes + 63) / 64 * 64;
	return bytes * 8u * 1000000u / rate;
}

int limit_pipe_take(struct limit_pipe *p, size_t n, int out,
		     uint64_t now_us)
{
	uint64_t cost = limit_pipe_cost_us(p->rate, n, out);
	uint64_t floor = now_us > LIM_SLACK_US ? now_us - LIM_SLACK_US : 0;
	uint64_t end, wait;

	os_mutex_lock(&p->lock);
	end = (p->next_us > floor ? p->next_us : floor) + cost;
	p->next_us = end;
	os_mutex_unlock(&p->lock);
	if (end <= now_us)
		return 0;
	/* Rounded down: the clock keeps the remainder, so the next wait
	 * makes up for it and the long-run rate stays exact. */
	wait = (end - now_us) / 1000;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* ---- connlim windows ---------------------------------------------------- */

int limit_window_admit(struct limit_window *w, unsigned rate,
			uint64_t period_ms, uint64_t now_ms)
{
	uint64_t next, el;

	if (!w->used || now_ms < w->last_ms ||
	    now_ms - w->last_ms >= period_ms) {
		/* a whole period passed (or the clock went back): start over */
		next = LIMIT_SCORE_ONE;
	} else {
		el = now_ms - w->last_ms;
		if (el == 0)
			next = w->score + LIMIT_SCORE_ONE;
		else
			next = (uint64_t)((double)w->score *
					  (double)(period_ms - el) /
					  (double)period_ms) + LIMIT_SCORE_ONE;
		if (next > (uint64_t)rate * LIMIT_SCORE_ONE)
			return 0;
	}
	w->score = next;
	w->last_ms = now_ms;
	w->used = 1;
	return 1;
}

/* ---- the lists ----------------------------------------------------------- */

void limit_conf_free(struct limit_conf *lc)
{
	size_t i;
	int d;

	if (lc == NULL)
		return;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < lc->nband[d]; i++) {
			acl_rule_unref(lc->band[d][i]->rule);
			limit_pipe_destroy(&lc->band[d][i]->pipe);
			free(lc->band[d][i]);
		}
		free(lc->band[d]);
	}
	for (i = 0; i < lc->nconn; i++) {
		acl_rule_unref(lc->conn[i]->rule);
		os_mutex_destroy(&lc->conn[i]->lock);
		free(lc->conn[i]);
	}
	free(lc->conn);
	free(lc);
}

static struct limit_conf *lim_conf(struct conf_ctx *ctx)
{
	if (ctx->gen->limits == NULL) {
		ctx->gen->limits = calloc(1, sizeof(*ctx->gen->limits));
		if (ctx->gen->limits == NULL)
			conf_error(ctx, "out of memory");
	}
	return ctx->gen->limits;
}

/* Append p to the pointer array *v of n entries. */
static int push_ptr(void ***v, size_t *n, void *p)
{
	void **nv = realloc(*v, sizeof(*nv) * (*n + 1));

	if (nv == NULL)
		return -1;
	nv[(*n)++] = p;
	*v = nv;
	return 0;
}

struct acl_rule *limit_compile_ace(struct conf_ctx *ctx, const char *cmd,
				    int nfields, char **fields)
{
	char err[512], warn[512];
	struct acl_rule *r;

	if (nfields > 7) {
		conf_warning(ctx, "%s: %d extra argument(s) ignored", cmd,
			     nfields - 7);
		nfields = 7;
	}
	r = acl_rule_compile(nfields, fields, err, sizeof(err), warn,
			     sizeof(warn));
	if (r == NULL) {
		conf_error(ctx, "%s: %s", cmd, err);
		return NULL;
	}
	if (warn[0] != '\0')
		conf_warning(ctx, "%s: %s", cmd, warn);
	return r;
}

int limit_match(const struct acl_rule *r, const struct client *cl,
		 time_t now)
{
	return acl_rule_match(r, &cl->req, cl->cred.user, &cl->cl_peer, now);
}

/* A whole decimal number (3proxy reads these with atoi: anything else
 * counts as 0).  Returns 0 or -1. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int limit_cmd_bandlim(struct conf_ctx *ctx, int argc, char **argv)
{
	int no = strncmp(argv[0], "no", 2) == 0;
	int d = strcmp(argv[0] + (no ? 2 : 0), "bandlimin") == 0 ? LIM_IN
								 : LIM_OUT;
	int first = no ? 1 : 2;
	struct limit_conf *lc;
	struct lim_band *b;
	uint64_t rate = 0;

	if (!no && (argc < 2 || parse_u64(argv[1], &rate) != 0 ||
		    rate < LIMIT_MIN_RATE)) {
		conf_error(ctx, "Wrong bandwidth specified");
		return 1;
	}
	lc = lim_conf(ctx);
	b = calloc(1, sizeof(*b));
	if (lc == NULL || b == NULL) {
		free(b);
		conf_error(ctx, "out of memory");
		return 21;
	}
	b->rule = limit_compile_ace(ctx, argv[0], argc - first, argv + first);
	if (b->rule == NULL) {
		free(b);
		return 1;
	}
	b->no = no;
	limit_pipe_init(&b->pipe, rate);
	if (push_ptr((void ***)&lc->band[d], &lc->nband[d], b) != 0) {
		acl_rule_unref(b->rule);
		limit_pipe_destroy(&b->pipe);
		free(b);
		conf_error(ctx, "out of memory");
		return 21;
	}
	return 0;
}

int limit_cmd_connlim(struct conf_ctx *ctx, int argc, char **argv)
{
	int no = strcmp(argv[0], "noconnlim") == 0;
	int first = no ? 1 : 3;
	struct limit_conf *lc;
	struct lim_conn *c;
	long rate = 0, period = 0;

	if (!no && (conf_parse_long(argv[1], 0, INT_MAX, &rate) != 0 ||
		    conf_parse_long(argv[2], 0, INT_MAX / 1000, &period) != 0)) {
		conf_error(ctx, "connlim: invalid rate or period '%s %s'",
			   argv[1], argv[2]);
		return 1;
	}
	lc = lim_conf(ctx);
	c = calloc(1, sizeof(*c));
	if (lc == NULL || c == NULL) {
		free(c);
		conf_error(ctx, "out of memory");
		return 21;
	}
	c->rule = limit_compile_ace(ctx, argv[0], argc - first, argv + first);
	if (c->rule == NULL) {
		free(c);
		return 1;
	}
	c->no = no;
	c->rate = (unsigned)rate;
	c->period = (unsigned)period;
	os_mutex_init(&c->lock);
	if (push_ptr((void ***)&lc->conn, &lc->nconn, c) != 0) {
		acl_rule_unref(c->rule);
		os_mutex_destroy(&c->lock);
		free(c);
		conf_error(ctx, "out of memory");
		return 21;
	}
	return 0;
}

/* ---- per client ------------------------------------------------------------ */

static struct limit_client *lim_client(struct client *cl)
{
	if (cl->lim == NULL)
		cl->lim = calloc(1, sizeof(*cl->lim));
	return cl->lim;
}

static void conn_release(struct lim_conn *c)
{
	os_mutex_lock(&c->lock);
	if (c->active > 0)
		c->active--;
	os_mutex_unlock(&c->lock);
}

static void holds_release(struct limit_client *lm)
{
	size_t i;

	for (i = 0; i < lm->nholds; i++)
		conn_release(lm->holds[i]);
	lm->nholds = 0;
}

/* Take one concurrency slot or one step of the window of c.  1 = ok. */
static int conn_admit(struct lim_conn *c, uint64_t now_ms)
{
	int ok;

	os_mutex_lock(&c->lock);
	if (c->period == 0) {
		ok = c->active < c->rate;
		if (ok)
			c->active++;
	} else {
		ok = limit_window_admit(&c->win, c->rate,
					 (uint64_t)c->period * 1000u, now_ms);
	}
	os_mutex_unlock(&c->lock);
	return ok;
}

static int hold_push(struct limit_client *lm, struct lim_conn *c)
{
	struct lim_conn **v;

	if (lm->nholds == lm->capholds) {
		size_t cap = lm->capholds ? 2 * lm->capholds : 4;

		v = realloc(lm->holds, sizeof(*v) * cap);
		if (v == NULL)
			return -1;
		lm->holds = v;
		lm->capholds = cap;
	}
	lm->holds[lm->nholds++] = c;
	return 0;
}

/* limits.md 2: walk the connlim list once per client connection; every
 * matching rule applies until a matching noconnlim. */
static int connlim_check(struct client *cl, time_t now)
{
	const struct limit_conf *lc = cl->gen ? cl->gen->limits : NULL;
	struct limit_client *lm;
	uint64_t now_ms;
	size_t i;

	if (lc == NULL || lc->nconn == 0)
		return 0;
	lm = lim_client(cl);
	if (lm == NULL)
		return ERR_NOMEM;
	if (lm->conn_done)
		return 0;
	lm->conn_done = 1;
	now_ms = os_monotonic_ms();
	for (i = 0; i < lc->nconn; i++) {
		struct lim_conn *c = lc->conn[i];

		if (!limit_match(c->rule, cl, now))
			continue;
		if (c->no)
			break;
		if (!conn_admit(c, now_ms)) {
			/* give back what this walk took */
			holds_release(lm);
			return ERR_LIMIT;
		}
		if (c->period == 0 && hold_push(lm, c) != 0) {
			conn_release(c);
			holds_release(lm);
			return ERR_NOMEM;
		}
	}
	return 0;
}

/* ---- plugin pipes ------------------------------------------------------------ */

struct px_pipe *limit_ext_pipe_new(uint64_t bps)
{
	struct px_pipe *p;

	if (bps < LIMIT_MIN_RATE)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	limit_pipe_init(&p->pipe, bps);
	p->refs = 1;
	return p;
}

void limit_ext_pipe_unref(struct px_pipe *p)
{
	if (p != NULL && os_atomic_dec(&p->refs) == 0) {
		limit_pipe_destroy(&p->pipe);
		free(p);
	}
}

static void ext_drop(struct limit_client *lm)
{
	limit_ext_pipe_unref(lm->ext);
	lm->ext = NULL;
}

int limit_ext_pipe_attach(struct client *cl, struct px_pipe *p)
{
	struct limit_client *lm = lim_client(cl);

	if (lm == NULL)
		return -1;
	os_atomic_inc(&p->refs);
	ext_drop(lm);
	lm->ext = p;
	return 0;
}

int limit_authorize(struct client *cl, int rc)
{
	/* a plugin's pipe belongs to one request: its filter attaches it
	 * again after this (limit_ext_pipe_attach) */
	if (cl->lim != NULL)
		ext_drop(cl->lim);
	if (rc == 0)
		rc = connlim_check(cl, time(NULL));
	if (rc == 0)
		return counter_authorize(cl);
	counter_forget(cl);
	return rc;
}

/* limits.md 3: attach every matching rule of the direction's list (at
 * most LIMIT_MAX_PIPES) until a matching nobandlim*. */
static void band_select(const struct limit_conf *lc, struct client *cl,
			struct limit_client *lm, int d, time_t now)
{
	size_t i;

	lm->npipes[d] = 0;
	for (i = 0; i < lc->nband[d]; i++) {
		struct lim_band *b = lc->band[d][i];

		if (!limit_match(b->rule, cl, now))
			continue;
		if (b->no)
			break;
		if (lm->npipes[d] < LIMIT_MAX_PIPES)
			lm->pipes[d][lm->npipes[d]++] = &b->pipe;
	}
}

/* The plugin's pipe goes with the bandlimin pipes (last, if room). */
static void ext_select(struct limit_client *lm)
{
	if (lm->ext != NULL && lm->npipes[LIM_IN] < LIMIT_MAX_PIPES)
		lm->pipes[LIM_IN][lm->npipes[LIM_IN]++] = &lm->ext->pipe;
}

void limit_relay_setup(struct client *cl, struct relay_opts *o)
{
	const struct limit_conf *lc = cl->gen ? cl->gen->limits : NULL;
	struct limit_client *lm = cl->lim;
	uint64_t slowest = 0;
	int d, i, pipes = 0;

	if (lc != NULL && lc->nband[LIM_IN] + lc->nband[LIM_OUT] > 0)
		lm = lim_client(cl);
	if (lm != NULL) {
		time_t now = time(NULL);

		for (d = 0; d < 2; d++) {
			lm->npipes[d] = 0;
			if (lc != NULL)
				band_select(lc, cl, lm, d, now);
		}
		ext_select(lm);
		for (d = 0; d < 2; d++) {
			for (i = 0; i < lm->npipes[d]; i++) {
				uint64_t r = lm->pipes[d][i]->rate;

				if (slowest == 0 || r < slowest)
					slowest = r;
				pipes++;
			}
		}
	}
	if (pipes > 0 || counter_active(cl)) {
		o->hook = limit_relay_hook;
		o->hook_arg = cl;
	}
	if (slowest > 0) {
		size_t chunk = (size_t)(slowest / 8 / LIM_CHUNKS_PER_S);

		if (chunk < LIM_MIN_CHUNK)
			chunk = LIM_MIN_CHUNK;
		if (o->bufsize == 0 || chunk < o->bufsize)
			o->bufsize = chunk;
	}
}

int limit_relay_hook(void *arg, int dir, size_t n, int *delay_ms)
{
	struct client *cl = arg;
	struct limit_client *lm = cl->lim;
	int d = dir == RELAY_S2C ? LIM_IN : LIM_OUT;
	int rc = counter_relay_charge(cl, dir, n), i, worst = 0;
	uint64_t now_us;

	if (rc != 0 || lm == NULL || lm->npipes[d] == 0)
		return rc;
	now_us = os_monotonic_ms() * 1000u;
	for (i = 0; i < lm->npipes[d]; i++) {
		int w = limit_pipe_take(lm->pipes[d][i], n, d == LIM_OUT,
					 now_us);

		if (w > worst)
			worst = w;
	}
	*delay_ms = worst;
	return 0;
}

void limit_client_release(struct client *cl)
{
	struct limit_client *lm = cl->lim;

	counter_client_free(cl);
	if (lm == NULL)
		return;
	holds_release(lm);
	ext_drop(lm);
	free(lm->holds);
	free(lm);
	cl->lim = NULL;
}

/* ---- process ------------------------------------------------------------------ */

void limit_tick(struct conf_gen *gen, time_t now)
{
	counter_tick(gen, now);
}

void limit_shutdown(struct conf_gen *gen)
{
	(void)gen;
	counter_save_all();
}
