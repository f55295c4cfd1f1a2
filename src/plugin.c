/*
 * plugin.c - the `plugin PATH ENTRY [ARGS]` command and the API table
 * handed to plugins (src/plugin_api.h).
 *
 * Libraries stay loaded for the life of the process: their commands and
 * callbacks may be referenced by any generation.  The entry function is
 * called again on every reload, as in 3proxy.
 *
 * What a plugin registers for a config run (traffic hooks, replaced
 * messages) goes into that run's generation: `active` is the run whose
 * plugin entry or plugin command is executing (main thread only), and
 * the API functions that need a run refuse outside one.
 */
#include "plugin.h"
#include "filter_pcre.h"
#include "auth.h"
#include "conf.h"
#include "counter.h"
#include "limit.h"
#include "log.h"
#include "msgtab.h"
#include "os.h"
#include "plugin_api.h"
#include "tls.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLUGIN_HOOKS_MAX 32

struct plugin_cmd {
	px_command_fn fn;
};

/* Traffic hooks, minute timers and end-of-run releases of one
 * generation; immutable once it is published. */
struct plugin_hooks {
	int n;
	struct {
		px_traffic_fn fn;
		void *arg;
		void (*release)(void *arg);
		void (*minute)(void *arg);
	} h[PLUGIN_HOOKS_MAX];
};

static struct conf_ctx *active;   /* main thread only */
static time_t tick_minute = -1;   /* main thread only (plugin_tick) */
static unsigned run_number;       /* main thread only */

/* Named symbols (plugins.md 2): what the plugins of the run number
 * symbols_run published.  Main thread only; a new run starts empty. */
#define PLUGIN_SYMBOLS_MAX 64
#define PLUGIN_SYMBOL_NAME 64
static struct {
	char name[PLUGIN_SYMBOL_NAME];
	void *ptr;
} symbols[PLUGIN_SYMBOLS_MAX];
static int nsymbols;
static unsigned symbols_run;

_Static_assert(PX_MSG_PROXY == MSGTAB_PROXY && PX_MSG_ADMIN == MSGTAB_ADMIN,
	       "plugin_api.h and msgtab.h number the tables alike");

/* Every plugin command goes through here: the plugin sees the config
 * run only as an opaque struct px_conf. */
static int plugin_cmd_trampoline(struct conf_ctx *ctx, int argc, char **argv)
{
	const struct plugin_cmd *pc = ctx->cmd_data;
	struct conf_ctx *outer = active;
	int rc;

	active = ctx;
	rc = pc->fn((struct px_conf *)ctx, argc, argv);
	active = outer;
	return rc;
}

static int api_register_command(const char *name, int minargs, int maxargs,
				px_command_fn fn)
{
	struct plugin_cmd *pc = malloc(sizeof(*pc));

	if (pc == NULL)
		return -1;
	pc->fn = fn;
	if (conf_register_cmd(name, minargs, maxargs, plugin_cmd_trampoline,
			      pc) != 0) {
		free(pc);
		return -1;
	}
	return 0;
}

static void api_conf_error(struct px_conf *conf, const char *msg)
{
	conf_error((struct conf_ctx *)conf, "%s", msg);
}

static void api_conf_warning(struct px_conf *conf, const char *msg)
{
	conf_warning((struct conf_ctx *)conf, "%s", msg);
}

static int api_conf_checking(struct px_conf *conf)
{
	return ((struct conf_ctx *)conf)->mode == CONF_CHECK;
}

static void api_diag(const char *msg)
{
	log_diag("%s", msg);
}

static int api_register_auth(const char *name, px_auth_fn fn, void *arg)
{
	return auth_plugin_register(name, fn, arg);
}

static int api_register_auth_rewrite(const char *name, px_auth_rewrite_fn fn,
				     void *arg)
{
	return auth_plugin_register_rewrite(name, fn, arg);
}

/* An entry has one of fn (traffic), release (at_run_end) or minute
 * (at_minute). */
static int hooks_add(px_traffic_fn fn, void *arg, void (*release)(void *arg),
		     void (*minute)(void *arg))
{
	struct conf_gen *g = active ? active->gen : NULL;
	struct plugin_hooks *h;

	if (g == NULL)
		return -1;
	if (g->hooks == NULL && (g->hooks = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h = g->hooks;
	if (h->n >= PLUGIN_HOOKS_MAX)
		return -1;
	h->h[h->n].fn = fn;
	h->h[h->n].arg = arg;
	h->h[h->n].release = release;
	h->h[h->n].minute = minute;
	h->n++;
	return 0;
}

static int api_register_traffic(px_traffic_fn fn, void *arg,
				void (*release)(void *arg))
{
	return fn != NULL ? hooks_add(fn, arg, release, NULL) : -1;
}

static int api_at_run_end(void (*fn)(void *arg), void *arg)
{
	return fn != NULL ? hooks_add(NULL, arg, fn, NULL) : -1;
}

static int api_at_minute(void (*fn)(void *arg), void *arg)
{
	return fn != NULL ? hooks_add(NULL, arg, NULL, fn) : -1;
}

static void minute_run(const struct plugin_hooks *h)
{
	int i;

	for (i = 0; h != NULL && i < h->n; i++)
		if (h->h[i].minute != NULL)
			h->h[i].minute(h->h[i].arg);
}

void plugin_tick(const struct conf_gen *g, time_t now)
{
	if (g == NULL || now / 60 == tick_minute)
		return;
	tick_minute = now / 60;
	minute_run(g->hooks);
}

void plugin_exit(const struct conf_gen *g)
{
	if (g != NULL)
		minute_run(g->hooks);
}

void plugin_run_begin(void)
{
	run_number++;
	if (run_number == 0)   /* 0 means "no run" */
		run_number = 1;
}

static unsigned api_conf_run(void)
{
	return active != NULL ? run_number : 0;
}

static int api_message_count(int table)
{
	return (int)msgtab_count(table);
}

static const char *api_message_default(int table, int i)
{
	return i < 0 ? NULL : msgtab_default(table, (size_t)i);
}

static int api_set_message(int table, int i, const char *text)
{
	if (active == NULL || i < 0)
		return -1;
	return msgtab_set(&active->gen->msgs, table, (size_t)i, text);
}

static int api_register_filter(const struct px_filter *f, void *data)
{
	return plugin_filter_register(active ? active->gen : NULL, f, data);
}

static int symbol_index(const char *name)
{
	int i;

	if (symbols_run != run_number)
		return -1;
	for (i = 0; i < nsymbols; i++)
		if (strcmp(symbols[i].name, name) == 0)
			return i;
	return -1;
}

static int api_publish_symbol(const char *name, void *ptr)
{
	int i;

	if (active == NULL || name == NULL || *name == '\0' ||
	    strlen(name) >= PLUGIN_SYMBOL_NAME)
		return -1;
	if (symbols_run != run_number) {
		nsymbols = 0;
		symbols_run = run_number;
	}
	i = symbol_index(name);
	if (i < 0) {
		if (nsymbols >= PLUGIN_SYMBOLS_MAX)
			return -1;
		i = nsymbols++;
		strcpy(symbols[i].name, name);
	}
	symbols[i].ptr = ptr;
	return 0;
}

static void *api_find_symbol(const char *name)
{
	int i;

	if (active == NULL || name == NULL)
		return NULL;
	i = symbol_index(name);
	return i < 0 ? NULL : symbols[i].ptr;
}

void plugin_traffic_apply(const struct plugin_hooks *h, struct px_traffic *t)
{
	int i;

	for (i = 0; h != NULL && i < h->n; i++)
		if (h->h[i].fn != NULL)
			h->h[i].fn(h->h[i].arg, t);
}

void plugin_hooks_free(struct plugin_hooks *h)
{
	int i;

	for (i = 0; h != NULL && i < h->n; i++)
		if (h->h[i].release != NULL)
			h->h[i].release(h->h[i].arg);
	free(h);
}

static const struct px_api api = {
	sizeof(struct px_api),
	PX_API_VERSION,
	"3proxy",
	PX_VERSION,
	api_register_command,
	api_conf_error,
	api_conf_warning,
	api_conf_checking,
	api_diag,
	api_register_auth,
	api_register_traffic,
	api_message_count,
	api_message_default,
	api_set_message,
	api_conf_run,
	api_at_run_end,
	api_register_auth_rewrite,
	api_register_filter,
	plugin_conn_socket,
	plugin_conn_set_dest,
	plugin_buf_set,
	api_publish_symbol,
	api_find_symbol,
	plugin_conn_user,
	counter_quota_new,
	counter_quota_set,
	counter_quota_read,
	counter_quota_unref,
	limit_ext_pipe_new,
	limit_ext_pipe_unref,
	plugin_conn_limit,
	api_at_minute,
};

const struct px_api *plugin_api(void)
{
	return &api;
}

int plugin_cmd(struct conf_ctx *ctx, int argc, char **argv)
{
	char err[512];
	void *lib, *sym;
	px_plugin_entry entry;
	int rc, before;

	/* Historic names of the built-in TLS and PCRE modules: TLS is
	 * built in when the library was found, so loading it does nothing
	 * (plugins.md 1). */
	if (strcmp(argv[2], "ssl_plugin") == 0 && tls_built_in())
		return 0;
	if (strcmp(argv[2], "pcre_plugin") == 0 && pcre_built_in())
		return 0;
	if (strcmp(argv[2], "ssl_plugin") == 0 ||
	    strcmp(argv[2], "pcre_plugin") == 0) {
		if (ctx->mode == CONF_CHECK)
			return 0;
		conf_error(ctx, "'%s': this build has no %s", argv[2],
			   argv[2][0] == 's' ? "TLS library (OpenSSL)"
					     : "PCRE2");
		return 1;
	}
	lib = os_dlopen(argv[1], err, sizeof(err));
	if (lib == NULL) {
		/* --check runs where the plugin may not be installed. */
		if (ctx->mode == CONF_CHECK) {
			conf_warning(ctx, "plugin: %s", err);
			return 0;
		}
		conf_error(ctx, "plugin: %s", err);
		return 1;
	}
	sym = os_dlsym(lib, argv[2]);
	if (sym == NULL) {
		conf_error(ctx, "plugin: %s has no function %s", argv[1],
			   argv[2]);
		return 2;
	}
	memcpy(&entry, &sym, sizeof(entry));
	before = ctx->errors;
	active = ctx;
	rc = entry(&api, argc - 2, argv + 2);
	active = NULL;
	if (rc != 0 && ctx->errors == before)
		conf_error(ctx, "plugin: %s %s failed with code %d", argv[1],
			   argv[2], rc);
	return rc;
}
