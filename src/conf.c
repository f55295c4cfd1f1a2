/*
 * conf.c - run a config script into a struct conf_gen.
 *
 * Reads lines, tokenizes them (conf_tokenize.c), finds the command
 * (plugin rows first, then the built-in table in conf_cmds.c), checks the
 * argument count and calls the handler.  Messages are "file:line: text".
 * In CONF_RUN mode the first error stops the run; in CONF_CHECK mode every
 * line is examined and every error reported.
 */
#include "auth.h"
#include "conf.h"
#include "counter.h"
#include "limit.h"
#include "log.h"
#include "logformat.h"
#include "msgtab.h"
#include "os.h"
#include "plugin.h"
#include "radius.h"
#include "resolve.h"
#include "service.h"
#include "tls.h"
#include "filter.h"
#include "users.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const int default_timeouts[TO_COUNT] = {
	1, 5, 30, 60, 180, 1800, 15, 60, 15, 5, 5
};

/* ---- plugin-registered commands ----------------------------------------
 * Registered only while a config runs, which happens on the main thread;
 * read by that same thread.  No lock is needed. */
struct dyn_cmd {
	struct conf_cmd cmd;
	void *data;
	struct dyn_cmd *next;
};
static struct dyn_cmd *dyn_cmds;

int conf_register_cmd(const char *name, int minargs, int maxargs,
		      conf_handler handler, void *data)
{
	struct dyn_cmd *d = calloc(1, sizeof(*d));

	if (d == NULL || name == NULL || handler == NULL) {
		free(d);
		return -1;
	}
	d->cmd.name = strdup(name);
	if (d->cmd.name == NULL) {
		free(d);
		return -1;
	}
	d->cmd.minargs = minargs;
	d->cmd.maxargs = maxargs;
	d->cmd.handler = handler;
	d->data = data;
	/* Newest first, so a plugin loaded later overrides earlier rows. */
	d->next = dyn_cmds;
	dyn_cmds = d;
	return 0;
}

void conf_cmds_cleanup(void)
{
	while (dyn_cmds != NULL) {
		struct dyn_cmd *d = dyn_cmds;

		dyn_cmds = d->next;
		free(d->data);   /* registered data is always malloc'd */
		free((char *)d->cmd.name);
		free(d);
	}
}

/* ---- chroot ------------------------------------------------------------
 * The root the process moved into (first `chroot` only); set and read by
 * the main thread. */
static char *chroot_dir;

const char *conf_chroot_dir(void)
{
	return chroot_dir;
}

void conf_set_chroot_dir(const char *dir)
{
	free(chroot_dir);
	chroot_dir = dir ? strdup(dir) : NULL;
}

const char *conf_path_in_root(const char *path)
{
	size_t n;

	if (chroot_dir == NULL || path == NULL)
		return path;
	n = strlen(chroot_dir);
	if (n > 1 && strncmp(path, chroot_dir, n) == 0 && path[n] == '/')
		return path + n;
	return path;
}

/* ---- messages ----------------------------------------------------------- */

static void vmessage(struct conf_ctx *ctx, const char *kind, const char *fmt,
		     va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(ctx->diag, "%s:%d: %s%s\n", ctx->pos.file ? ctx->pos.file : "-",
		ctx->pos.line, kind, msg);
	fflush(ctx->diag);
}

void conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ctx, "", fmt, ap);
	va_end(ap);
	ctx->errors++;
}

void conf_warning(struct conf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ctx, "warning: ", fmt, ap);
	va_end(ap);
	ctx->warnings++;
}

/* ---- helpers for handlers ------------------------------------------------ */

int conf_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

char *conf_strdup(struct conf_ctx *ctx, const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		conf_error(ctx, "out of memory");
	return d;
}

static char *where_text(const struct conf_ctx *ctx)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s:%d", ctx->pos.file ? ctx->pos.file : "-",
		 ctx->pos.line);
	return strdup(buf);
}

void conf_add_effect(struct conf_ctx *ctx, enum conf_effect_kind kind,
		     const char *arg, long uid, long gid, struct svc_conf *svc)
{
	struct conf_gen *g = ctx->gen;
	struct conf_effect *e;

	e = realloc(g->effects, sizeof(*e) * (size_t)(g->neffects + 1));
	if (e == NULL) {
		conf_error(ctx, "out of memory");
		return;
	}
	g->effects = e;
	e = &g->effects[g->neffects++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->arg = arg ? strdup(arg) : NULL;
	e->uid = uid;
	e->gid = gid;
	e->svc = svc;
	e->where = where_text(ctx);
}

/* ---- generations ---------------------------------------------------------- */

static struct conf_gen *gen_new(void)
{
	struct conf_gen *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->refs = 1;
	g->pollspin = -1;
	g->relaythreads = -1;
	g->filtermaxsize = 1048576;
	memcpy(g->timeouts, default_timeouts, sizeof(g->timeouts));
	return g;
}

void conf_gen_ref(struct conf_gen *g)
{
	os_atomic_inc(&g->refs);
}

/* ---- the generation in force ------------------------------------------- */

static os_mutex_t cur_lock = OS_MUTEX_INIT;   /* guards cur_gen */
static struct conf_gen *cur_gen;
static int cur_version;                       /* atomic */

void conf_gen_publish(struct conf_gen *g)
{
	struct conf_gen *old;

	if (g != NULL) {
		conf_gen_ref(g);
		g->version = cur_version + 1;
	}
	os_mutex_lock(&cur_lock);
	old = cur_gen;
	cur_gen = g;
	os_mutex_unlock(&cur_lock);
	/* after the swap: whoever sees the new number finds g */
	if (g != NULL)
		os_atomic_store(&cur_version, g->version);
	conf_gen_unref(old);
}

struct conf_gen *conf_gen_current(void)
{
	struct conf_gen *g;

	os_mutex_lock(&cur_lock);
	g = cur_gen;
	if (g != NULL)
		conf_gen_ref(g);
	os_mutex_unlock(&cur_lock);
	return g;
}

const int *conf_gen_version(void)
{
	return &cur_version;
}

void conf_gen_unref(struct conf_gen *g)
{
	int i;

	if (g == NULL || os_atomic_dec(&g->refs) != 0)
		return;
	for (i = 0; i < g->neffects; i++) {
		free(g->effects[i].arg);
		free(g->effects[i].where);
	}
	free(g->effects);
	for (i = 0; i < g->nsvcs; i++)
		svc_conf_free(g->svcs[i]);
	free(g->svcs);
	filter_list_free(g->filters);   /* after the services' chains */
	for (i = 0; i < g->nmonitors; i++)
		free(g->monitors[i]);
	free(g->monitors);
	free(g->config_path);
	free(g->logformat);
	log_archiver_free(g->archiver);
	if (g->log)
		log_sink_unref(g->log);
	users_free(g->users);
	resolve_conf_free(g->resolv);
	limit_conf_free(g->limits);
	counter_conf_free(g->counters);
	radius_conf_free(g->radius);
	msgtab_free(g->msgs);
	plugin_hooks_free(g->hooks);
	free(g);
}

static void cursor_init(struct conf_cursor *c, struct conf_gen *g)
{
	memset(c, 0, sizeof(*c));
	net_parse_ip("0.0.0.0", &c->internal);
	net_parse_ip("0.0.0.0", &c->external4);
	net_parse_ip("::", &c->external6);
	c->maxconn = 500;
	c->force = 1;
	c->logformat = NULL;   /* LOGFORMAT_DEFAULT */
	(void)g;
}

/* ---- dispatch ------------------------------------------------------------- */

static const struct conf_cmd *find_builtin(const char *name)
{
	size_t n, i;
	const struct conf_cmd *t = conf_builtin_cmds(&n);

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static int count_ok(const struct conf_cmd *c, int argc)
{
	if (argc < c->minargs)
		return 0;
	if (c->maxargs != 0 && argc > c->maxargs)
		return 0;
	return 1;
}

/* Run one command; returns 0 or -1 (already reported). */
static int dispatch(struct conf_ctx *ctx, int argc, char **argv)
{
	const struct conf_cmd *c;
	struct dyn_cmd *d;
	int before = ctx->errors, rc;

	/* Plugin rows first: a negative result passes to the next row. */
	for (d = dyn_cmds; d != NULL; d = d->next) {
		if (strcmp(d->cmd.name, argv[0]) != 0)
			continue;
		if (!ctx->line_incomplete && !count_ok(&d->cmd, argc)) {
			conf_error(ctx, "'%s': wrong number of arguments",
				   argv[0]);
			return -1;
		}
		ctx->cmd_data = d->data;
		rc = d->cmd.handler(ctx, argc, argv);
		ctx->cmd_data = NULL;
		if (rc < 0)
			continue;
		if (rc > 0) {
			if (ctx->errors == before)
				conf_error(ctx, "'%s' failed with code %d",
					   argv[0], rc);
			return -1;
		}
		return 0;
	}
	c = find_builtin(argv[0]);
	if (c == NULL) {
		conf_error(ctx, "unknown command '%s'", argv[0]);
		return -1;
	}
	/* A line whose $file could not be read (only possible in check
	 * mode) has unknown words: check nothing more about it. */
	if (ctx->line_incomplete)
		return 0;
	if (!count_ok(c, argc)) {
		conf_error(ctx, "'%s': wrong number of arguments", argv[0]);
		return -1;
	}
	rc = c->handler(ctx, argc, argv);
	if (rc != 0) {
		if (ctx->errors == before)
			conf_error(ctx, "'%s' failed with code %d", argv[0],
				   rc);
		return -1;
	}
	return 0;
}

static char *slurp_checked(const char *path, size_t *len, void *arg)
{
	struct conf_ctx *ctx = arg;
	char *buf = conf_slurp_file(path, len, NULL);

	if (buf == NULL) {
		if (ctx->mode == CONF_CHECK)
			conf_warning(ctx, "cannot read included file %s: %s",
				     path, strerror(errno));
		else
			conf_error(ctx, "cannot read included file %s: %s",
				   path, strerror(errno));
	}
	return buf;
}

/* Handle one physical line.  Returns 1 to stop reading this stream
 * (`end`), -1 on an error that stops the run, 0 otherwise. */
static int run_line(struct conf_ctx *ctx, struct conf_tokens *tok,
		    const char *line, size_t len)
{
	const char *why = NULL;
	int before = ctx->errors;

	if (conf_tokenize(line, len, tok, slurp_checked, ctx, &why) != 0) {
		conf_error(ctx, "parse error: %s", why ? why : "bad line");
		return ctx->mode == CONF_RUN ? -1 : 0;
	}
	if (ctx->errors != before)  /* unreadable $file in run mode */
		return -1;
	if (tok->argc == 0)
		return 0;
	ctx->line_incomplete = tok->incomplete;
	if (tok->argc == 1 && strcmp(tok->argv[0], "end") == 0)
		return 1;
	if (dispatch(ctx, tok->argc, tok->argv) != 0 && ctx->mode == CONF_RUN)
		return -1;
	return ctx->stop ? 1 : 0;
}

/* Lines come from a stdio stream or from memory (tests, reload). */
struct line_src {
	FILE *f;
	const char *mem;
	size_t memlen, off;
};

/* Like fgets: at most max-1 bytes, stops after '\n'.  NULL at end. */
static char *src_gets(struct line_src *s, char *buf, size_t max)
{
	size_t n = 0;

	if (s->f != NULL)
		return fgets(buf, (int)max, s->f);
	if (s->off >= s->memlen)
		return NULL;
	while (s->off < s->memlen && n + 1 < max) {
		char c = s->mem[s->off++];

		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return buf;
}

static int run_src(struct conf_ctx *ctx, struct line_src *src,
		   const char *name)
{
	struct conf_pos saved = ctx->pos;
	struct conf_tokens *tok;
	char *line;
	int rc = 0, at_start = 1;

	tok = calloc(1, sizeof(*tok));
	line = malloc(CONF_MAX_LINE + 2);
	if (tok == NULL || line == NULL) {
		free(tok);
		free(line);
		conf_error(ctx, "out of memory");
		return -1;
	}
	ctx->pos.file = name;
	ctx->pos.line = 0;
	while (src_gets(src, line, CONF_MAX_LINE + 1) != NULL) {
		size_t len = strlen(line);

		/* A line longer than the limit continues as a new command,
		 * as 3proxy reads it, but keeps its physical line number. */
		if (at_start)
			ctx->pos.line++;
		at_start = len > 0 && line[len - 1] == '\n';
		rc = run_line(ctx, tok, line, len);
		if (rc != 0)
			break;
	}
	conf_tokens_free(tok);
	free(tok);
	free(line);
	ctx->pos = saved;
	return rc < 0 ? -1 : 0;
}

int conf_run_stream(struct conf_ctx *ctx, FILE *f, const char *name)
{
	struct line_src src = { f, NULL, 0, 0 };

	return run_src(ctx, &src, name);
}

static void ctx_init(struct conf_ctx *ctx, struct conf_gen *g,
		     enum conf_mode mode, FILE *diag)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->gen = g;
	ctx->mode = mode;
	ctx->diag = diag ? diag : stderr;
	cursor_init(&ctx->cur, g);
	/* Plugin auth types belong to the run whose plugin line registered
	 * them; the plugin's entry registers them again on reload. */
	auth_plugins_reset();
	plugin_run_begin();
}

static struct conf_gen *finish(struct conf_ctx *ctx, int *nerrors)
{
	auth_cursor_release(&ctx->cur);
	tls_cursor_release(&ctx->cur);
	if (nerrors)
		*nerrors = ctx->errors;
	if (ctx->errors != 0) {
		conf_gen_unref(ctx->gen);
		return NULL;
	}
	return ctx->gen;
}

struct conf_gen *conf_load_file(const char *path, enum conf_mode mode,
				FILE *diag, int *nerrors)
{
	struct conf_ctx ctx;
	struct conf_gen *g = gen_new();
	FILE *f;
	int is_stdin = (path == NULL || strcmp(path, "-") == 0);

	if (g == NULL)
		return NULL;
	ctx_init(&ctx, g, mode, diag);
	if (is_stdin) {
		f = stdin;
	} else {
		f = fopen(path, "r");
		if (f == NULL) {
			fprintf(ctx.diag, "%s: cannot open: %s\n", path,
				strerror(errno));
			if (nerrors)
				*nerrors = 1;
			conf_gen_unref(g);
			return NULL;
		}
		g->config_path = strdup(path);
	}
	conf_run_stream(&ctx, f, is_stdin ? "<stdin>" : path);
	if (!is_stdin)
		fclose(f);
	return finish(&ctx, nerrors);
}

struct conf_gen *conf_load_mem(const char *buf, size_t len, const char *name,
			       enum conf_mode mode, FILE *diag, int *nerrors)
{
	struct conf_ctx ctx;
	struct conf_gen *g = gen_new();
	struct line_src src = { NULL, NULL, 0, 0 };

	if (g == NULL)
		return NULL;
	ctx_init(&ctx, g, mode, diag);
	src.mem = buf;
	src.memlen = len;
	run_src(&ctx, &src, name);
	return finish(&ctx, nerrors);
}
