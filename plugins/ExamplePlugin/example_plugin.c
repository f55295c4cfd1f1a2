/*
 * ExamplePlugin - the smallest useful plugin: it adds the config command
 *
 *     example_say WORD [WORD ...]
 *
 * which writes its words to standard error when the config runs (not in
 * --check).  It shows the shape every plugin has: check the API version,
 * register commands, tolerate being started again on reload.
 *
 *     plugin /usr/local/lib/3proxy/ExamplePlugin.ld.so example_start
 */
#include "plugin_api.h"

#include <stdio.h>
#include <string.h>

static const struct px_api *api;

static int cmd_example_say(struct px_conf *conf, int argc, char **argv)
{
	char line[1024];
	size_t n = 0;
	int i;

	if (api->conf_checking(conf))
		return 0;
	line[0] = '\0';
	for (i = 1; i < argc && n < sizeof(line) - 1; i++) {
		int w = snprintf(line + n, sizeof(line) - n, "%s%s",
				 i > 1 ? " " : "", argv[i]);

		if (w < 0)
			return 1;
		n += (size_t)w;
	}
	api->diag(line);
	return 0;
}

PX_PLUGIN_EXPORT int example_start(const struct px_api *a, int argc,
				   char **argv)
{
	static int registered;

	(void)argc;
	(void)argv;
	if (a == NULL || a->version < 1 || a->size < sizeof(struct px_api))
		return 1;
	api = a;
	/* The entry runs again on every reload: register only once. */
	if (!registered) {
		if (a->register_command("example_say", 2, 0,
					cmd_example_say) != 0)
			return 2;
		registered = 1;
	}
	return 0;
}
