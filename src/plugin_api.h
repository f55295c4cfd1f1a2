/*
 * plugin_api.h - THE public interface between 3proxy and its plugins.
 *
 * A plugin is a shared object loaded by the config line
 *     plugin PATH ENTRY [ARG ...]
 * whose ENTRY function has the shape
 *     int ENTRY(const struct px_api *api, int argc, char **argv);
 * argv[0] is the entry name, argv[1..] the extra arguments.  It returns 0
 * on success; a positive value fails the config line with that code.  The
 * entry runs again on every reload, so it must tolerate repeated calls.
 *
 * Compatibility rules: a plugin checks api->version (and api->size before
 * using a member added later).  Members are only ever appended.  Plugins
 * see opaque handles, never the daemon's own structures.
 *
 * Callbacks may run on many worker threads at once: a plugin keeps its
 * own locks.
 */
#ifndef PX_PLUGIN_API_H
#define PX_PLUGIN_API_H

#include <stddef.h>

#define PX_API_VERSION 1

#ifdef _WIN32
#define PX_PLUGIN_EXPORT __declspec(dllexport)
#else
#define PX_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Opaque handle on the config run that is executing a plugin's command. */
struct px_conf;

/* A config command added by a plugin.  argv[0] is the command word.
 * Return 0 on success, a positive code to fail the line, or a negative
 * value to let another command of the same name handle it. */
typedef int (*px_command_fn)(struct px_conf *conf, int argc, char **argv);

struct px_api {
	size_t size;            /* sizeof(struct px_api) of the daemon */
	int version;            /* PX_API_VERSION of the daemon */
	const char *product;    /* "3proxy" */
	const char *release;    /* e.g. "1.0.0" */

	/* Register a config command.  minargs/maxargs count the command
	 * word; maxargs 0 = unlimited.  Plugin commands are searched before
	 * built-in ones.  Returns 0 or -1. */
	int (*register_command)(const char *name, int minargs, int maxargs,
				px_command_fn fn);

	/* Report a problem with the current config line as "file:line: msg"
	 * (error fails the config; warning does not). */
	void (*conf_error)(struct px_conf *conf, const char *msg);
	void (*conf_warning)(struct px_conf *conf, const char *msg);
	/* 1 when the config is only being checked (--check): a command must
	 * then validate its arguments and change nothing. */
	int (*conf_checking)(struct px_conf *conf);

	/* Write a diagnostic line to the daemon's standard error. */
	void (*diag)(const char *msg);
};

typedef int (*px_plugin_entry)(const struct px_api *api, int argc,
			       char **argv);

#endif
