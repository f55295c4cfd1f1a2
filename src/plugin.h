/*
 * plugin.h - loading plugins (dlopen / LoadLibrary) and the API table.
 */
#ifndef PX_PLUGIN_H
#define PX_PLUGIN_H

struct conf_ctx;
struct plugin_hooks;
struct px_traffic;
struct px_api;
struct px_filter;
struct px_conn;
struct conf_gen;
struct sockaddr;

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct px_quota;
struct px_pipe;

/* The `plugin PATH ENTRY [ARGS]` command. */
int plugin_cmd(struct conf_ctx *ctx, int argc, char **argv);

/* The table handed to every plugin entry (for tests of the API). */
const struct px_api *plugin_api(void);

/* A config run starts (conf.c): the next run number (conf_run). */
void plugin_run_begin(void);

/* Run a generation's traffic hooks (struct conf_gen.hooks, may be NULL)
 * on t, in registration order.  Any thread. */
void plugin_traffic_apply(const struct plugin_hooks *h, struct px_traffic *t);
/* From the main loop: once the minute changes, the at_minute timers of
 * g (the generation in force). */
void plugin_tick(const struct conf_gen *g, time_t now);
/* At exit: the at_minute timers of g once more. */
void plugin_exit(const struct conf_gen *g);
/* Release the hooks of a generation that is gone (conf_gen_unref). */
void plugin_hooks_free(struct plugin_hooks *h);

/* plugin_filter.c: register_filter into generation g, and the
 * connection accessors of plugin_api.h. */
int plugin_filter_register(struct conf_gen *g, const struct px_filter *f,
			   void *data);
intptr_t plugin_conn_socket(struct px_conn *conn);
struct px_buf;
int plugin_buf_set(struct px_buf *b, const void *p, size_t n);
int plugin_conn_set_dest(struct px_conn *conn, const struct sockaddr *sa,
			 size_t salen, const char *host);
const char *plugin_conn_user(struct px_conn *conn);
int plugin_conn_limit(struct px_conn *conn, struct px_quota *q,
		      struct px_pipe *p);

#endif
