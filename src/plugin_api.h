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
 *
 * Added later (check api->size covers the member before calling it):
 *   register_auth - an authentication type for `auth NAME` (PamAuth's
 *   `pam`).  Types belong to one config run: every run (start-up and each
 *   reload) starts without them, and the entry registers them again.
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

/* The check of a plugin auth type (see register_auth). */
typedef int (*px_auth_fn)(void *arg, const char *user, const char *password);

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

	/* ---- appended: test api->size before use ---- */

	/* Register the authentication type NAME, usable by `auth` lines
	 * after the plugin line, in the chain like `strong` (and cached by
	 * `authcache` like it).  fn gets arg and the client's user name and
	 * password (either may be NULL) and returns 0 to accept or a code:
	 * 4 = credentials missing, 5 = wrong.  fn runs on many threads at
	 * once.  Registering a name again replaces it.  Returns 0 or -1 (a
	 * built-in name, longer than 31 bytes, too many types). */
	int (*register_auth)(const char *name, px_auth_fn fn, void *arg);
};

/* Whether the daemon's table has the member m (appended members). */
#define PX_API_HAS(api, m) \
	((api)->size >= offsetof(struct px_api, m) + sizeof((api)->m))

typedef int (*px_plugin_entry)(const struct px_api *api, int argc,
			       char **argv);

#endif
