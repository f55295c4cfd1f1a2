/*
 * auth.h - the authentication chain of a service and the auth cache
 * (reference acl-auth.md sections 1, 2 and 9; config.md 4.5).
 *
 * `auth` and `authcache` set a struct auth_conf on the config cursor; a
 * service line snapshots it (with the ACL in force) into its svc_conf.
 * auth_authorize() runs the chain for one request: it authenticates with
 * each method in turn, evaluates the ACL (acl.c) and returns 0 or the
 * documented code 1..10.
 *
 * The cache is one process-wide table (it survives reloads) behind one
 * mutex; lookups copy results out.  Entries record the key items their
 * service's `authcache` type named, and the type itself, so a decision
 * is never reused outside what that type allows.
 */
#ifndef PX_AUTH_H
#define PX_AUTH_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

struct client;
struct conf_ctx;
struct conf_cursor;
struct conf_gen;
struct svc_conf;

enum auth_method {
	AUTH_NONE, AUTH_IPONLY, AUTH_USERONLY, AUTH_DNSNAME, AUTH_STRONG,
	AUTH_CACHE, AUTH_CACHEACL, AUTH_RADIUS,
	AUTH_PLUGIN     /* a type registered by a plugin (F-PLUG-02) */
};

/* The check behind a plugin auth type: 0 accepts, 1..10 is the code
 * (4 = no user name or password, 5 = wrong).  Called on worker threads
 * at once; user and password may be NULL.  Same shape as px_auth_fn. */
typedef int (*auth_plugin_fn)(void *arg, const char *user,
			      const char *password);

/* A plugin type that may rewrite the credentials for the methods after
 * it (px_auth_rewrite_fn): buffers of size strlen + 1, NULL/0 when the
 * client gave none. */
typedef int (*auth_plugin_rewrite_fn)(void *arg, char *user, size_t user_size,
				      char *password, size_t pass_size);

struct auth_plugin_ref {
	auth_plugin_fn fn;                 /* a check ... */
	auth_plugin_rewrite_fn rewrite;    /* ... or a rewrite (one is set) */
	void *arg;
};

/* `authcache` items (acl-auth.md 2). */
enum auth_cache_item {
	AC_IP = 1u << 0, AC_USER = 1u << 1, AC_PASS = 1u << 2,
	AC_LIMIT = 1u << 3, AC_ACL = 1u << 4, AC_EXT = 1u << 5,
	AC_DSTADDR = 1u << 6, AC_DSTPORT = 1u << 7, AC_DSTHOST = 1u << 8,
	AC_DSTOPER = 1u << 9, AC_SRVADDR = 1u << 10, AC_SRVPORT = 1u << 11
};

#define AUTH_MAX_METHODS 16
#define AUTH_CACHE_DEFAULT_TIME 600
#define AUTH_CACHE_DEFAULT_SIZE 262144
#define AUTH_CACHE_USER_MAX 63     /* longer names are not cached */

/* Auth settings in force at a service line.  Immutable in a svc_conf. */
struct auth_conf {
	unsigned char methods[AUTH_MAX_METHODS];   /* enum auth_method */
	/* The check of each AUTH_PLUGIN slot, copied in at the `auth` line
	 * so a running generation never looks at the registry again (the
	 * plugin library stays loaded for the life of the process). */
	struct auth_plugin_ref plug[AUTH_MAX_METHODS];
	int nmethods;
	unsigned cache_type;     /* AC_* bits; 0 = no `authcache` given */
	long cache_time;         /* seconds an entry lives after a write */
	long cache_size;         /* entries at most */
	uint64_t id;             /* unique per snapshot: the `acl` item */
};

/* A copy of the cursor's settings (NULL = defaults: `auth iponly`, no
 * cache) for a new service, with its own id.  NULL on no memory. */
struct auth_conf *auth_conf_snapshot(const struct auth_conf *cur);
void auth_conf_free(struct auth_conf *ac);

/* Release what the cursor holds (its ACL and auth settings) at the end
 * of a config run. */
void auth_cursor_release(struct conf_cursor *c);

/* Run the service's auth chain and ACL for the request in cl (cl->req,
 * cl->cred, cl->cl_peer).  Returns 0 (allowed) or 1..10 (errcode.h).
 * May set cl->cred.user (a cache hit keyed without the user, or
 * `dnsname`).  When the deciding ACE has `nolog`, the connection's
 * record is suppressed.  Called on the client's worker thread. */
int auth_authorize(struct client *cl);
/* The same with explicit clocks: `now` is the wall clock (weekday and
 * time ACL fields), `mono` seconds of a monotonic clock (cache ages). */
int auth_authorize_at(struct client *cl, time_t now, uint64_t mono);
/* F-PROC-10: the same chain and ACL (the service's own, cl->conf) for a
 * connection that is already relaying, with the user table of `gen`
 * (the generation now in force) instead of the client's own. */
int auth_reauthorize(struct client *cl, const struct conf_gen *gen);

/* 1 when the service's chain has a method that uses a user name or
 * password (useronly, strong, cache, cacheacl, radius, a plugin type); a
 * handler that negotiates (SOCKS5 method 02) then asks for them.  0 for
 * chains of none/iponly/dnsname only.  sc may be NULL (the default chain: 0). */
int auth_wants_user(const struct svc_conf *sc);
/* 1 when the service's auth chain may wait on the network (dnsname,
 * radius, plugin methods): not to be run on an event-loop thread. */
int auth_may_block(const struct svc_conf *sc);

/* The cache: drop every entry (tests), count entries. */
void auth_cache_reset(void);
size_t auth_cache_count(void);

/* `delimchar` in force for a generation (default '@'). */
int auth_delimchar(const struct conf_gen *g);

/* ---- auth types added by plugins (F-PLUG-02) ------------------------------
 * Registered while a config runs (main thread only), so a later `auth`
 * line may name them.  Every config run starts with an empty registry:
 * the plugin line of the new run registers its types again.  Registering
 * a name again replaces its check.  Returns 0, or -1 for an invalid or
 * built-in name, a name longer than AUTH_PLUGIN_NAME_MAX or a full table. */
#define AUTH_PLUGIN_MAX 16
#define AUTH_PLUGIN_NAME_MAX 31
int auth_plugin_register(const char *name, auth_plugin_fn fn, void *arg);
/* The same for a type that rewrites the credentials. */
int auth_plugin_register_rewrite(const char *name, auth_plugin_rewrite_fn fn,
				 void *arg);
void auth_plugins_reset(void);

/* ---- config commands (rows in conf_cmds.c) ------------------------------- */
int auth_cmd_auth(struct conf_ctx *ctx, int argc, char **argv);
int auth_cmd_authcache(struct conf_ctx *ctx, int argc, char **argv);
int auth_cmd_delimchar(struct conf_ctx *ctx, int argc, char **argv);

#endif
