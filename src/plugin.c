/*
 * plugin.c - the `plugin PATH ENTRY [ARGS]` command and the API table
 * handed to plugins (src/plugin_api.h).
 *
 * Libraries stay loaded for the life of the process: their commands and
 * callbacks may be referenced by any generation.  The entry function is
 * called again on every reload, as in 3proxy.
 */
#include "plugin.h"
#include "filter_pcre.h"
#include "auth.h"
#include "conf.h"
#include "log.h"
#include "os.h"
#include "plugin_api.h"
#include "tls.h"

#include <stdlib.h>
#include <string.h>

struct plugin_cmd {
	px_command_fn fn;
};

/* Every plugin command goes through here: the plugin sees the config
 * run only as an opaque struct px_conf. */
static int plugin_cmd_trampoline(struct conf_ctx *ctx, int argc, char **argv)
{
	const struct plugin_cmd *pc = ctx->cmd_data;

	return pc->fn((struct px_conf *)ctx, argc, argv);
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
};

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
		conf_error(ctx, "'%s' is not supported by this build yet",
			   argv[2]);
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
	rc = entry(&api, argc - 2, argv + 2);
	if (rc != 0 && ctx->errors == before)
		conf_error(ctx, "plugin: %s %s failed with code %d", argv[1],
			   argv[2], rc);
	return rc;
}
