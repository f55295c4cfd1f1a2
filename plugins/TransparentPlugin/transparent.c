/*
 * TransparentPlugin - connections redirected to 3proxy by the packet
 * filter go where the client sent them (plugins.md 5.1, F-PLUG-03):
 *
 *     plugin /usr/local/lib/3proxy/TransparentPlugin.ld.so \
 *         transparent_plugin
 *     transparent
 *     tcppm -i10.0.0.1 12345 127.0.0.1 11111
 *     notransparent
 *
 * A filter at the head of the run's list reads each accepted
 * connection's original destination and presets it as the requested
 * address and port, with the address text as host name: tcppm connects
 * there instead of its configured target, tlspr connects there while
 * the client's SNI names it for ACLs and the log.  `transparent` (the
 * default after loading) and `notransparent` decide for the services
 * whose lines follow.
 *
 * The original destination is the netfilter one on Linux
 * (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST).  A connection that was not
 * redirected has none, or one equal to the local address: it is left
 * unchanged, since taking the local address would make tcppm connect to
 * itself.  Elsewhere the local address the client connected to is the
 * original destination (ipfw fwd, pf divert-to keep it).
 */
#include "plugin_api.h"
#include "origdst.h"

#include <stdlib.h>
#include <string.h>

/* One config run's switch.  Read by open on the main thread only. */
struct tp_run {
	int enabled;
};

static const struct px_api *api;
/* The state of the run being read (main thread).  Valid only while
 * api->conf_run() == current_run: the daemon frees an older one once
 * its services and connections are gone. */
static struct tp_run *current;
static unsigned current_run;

/* A service line: used while `transparent` is in force; the state
 * itself is not needed by the client hook. */
static void *tp_open(void *data, const char *service)
{
	struct tp_run *r = data;

	(void)service;
	return r->enabled ? r : NULL;
}

static int tp_client(void *svc, struct px_conn *conn)
{
	struct sockaddr_storage ss;
	size_t len = sizeof(ss);
	intptr_t fd = api->conn_socket(conn);

	(void)svc;
	/* not redirected: unchanged; either way no later hook is needed */
	if (fd != -1 && origdst_get(fd, &ss, &len) == 0)
		(void)api->conn_set_dest(conn, (const struct sockaddr *)&ss,
					 len, NULL);
	return PX_FILTER_PASS;
}

static void tp_release(void *data)
{
	free(data);
}

static int cmd_transparent(struct px_conf *conf, int argc, char **argv)
{
	(void)argc;
	if (current == NULL || current_run != api->conf_run()) {
		api->conf_error(conf, "the TransparentPlugin line must come "
				"first");
		return 1;
	}
	current->enabled = strcmp(argv[0], "transparent") == 0;
	return 0;
}

PX_PLUGIN_EXPORT int transparent_plugin(const struct px_api *a, int argc,
					char **argv)
{
	static const struct px_filter f = {
		.size = sizeof(struct px_filter), .open = tp_open,
		.client = tp_client, .release = tp_release
	};
	static int registered;
	struct tp_run *r;

	(void)argv;
	if (a == NULL || a->version < 1 || !PX_API_HAS(a, conn_set_dest))
		return 1;
	if (argc > 1) {
		a->diag("TransparentPlugin: usage: plugin "
			"TransparentPlugin.ld.so transparent_plugin");
		return 2;
	}
	api = a;
	/* Loading the plugin again in the same run only enables it. */
	if (current != NULL && current_run == a->conf_run()) {
		current->enabled = 1;
		return 0;
	}
	/* Commands live for the process; register once. */
	if (!registered) {
		if (a->register_command("transparent", 1, 1,
					cmd_transparent) != 0 ||
		    a->register_command("notransparent", 1, 1,
					cmd_transparent) != 0)
			return 3;
		registered = 1;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 4;
	r->enabled = 1;
	if (a->register_filter(&f, r) != 0) {
		free(r);
		return 5;
	}
	current = r;
	current_run = a->conf_run();
	return 0;
}
