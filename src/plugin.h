/*
 * plugin.h - loading plugins (dlopen / LoadLibrary) and the API table.
 */
#ifndef PX_PLUGIN_H
#define PX_PLUGIN_H

struct conf_ctx;

/* The `plugin PATH ENTRY [ARGS]` command. */
int plugin_cmd(struct conf_ctx *ctx, int argc, char **argv);

#endif
