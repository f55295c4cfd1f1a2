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
 *   `pam`).
 *   register_traffic - a hook that sees (and may correct) the byte counts
 *   of every access record before it is logged and counted
 *   (TrafficPlugin).
 *   message_count, message_default, set_message - the HTTP proxy's error
 *   pages and the admin page pieces, replaceable for translation or
 *   branding (StringsPlugin).
 *   conf_run - which config run is executing; at_run_end - release
 *   per-run state when the run's configuration is gone.
 *   register_auth_rewrite - an authentication type that rewrites the
 *   credentials for the methods after it (utf8tocp1251).
 *   register_filter, conn_socket, conn_set_dest - a filter that sees
 *   each accepted connection before the service protocol runs and may
 *   preset its destination (TransparentPlugin).
 *   px_filter.hooks/attach/clear/buffer/stage (px_filter.size covers
 *   them), buf_set - a plugin filter's per-connection state, buffer
 *   hooks (request, headers, data) and stage hooks (FilePlugin).
 *   publish_symbol, find_symbol - named symbols, so one plugin can offer
 *   functions to another (FilePlugin's fp_registercallback).
 *   conn_user, quota_*, pipe_*, conn_limit, at_minute - a traffic quota
 *   and a bandwidth pipe of the plugin's own (one per user, say) that
 *   the daemon charges like countin and bandlimin rules, attached to a
 *   request from a filter's afterauth stage hook (LdapPlugin's
 *   ldaptrafgroup), and a minute timer to save them.
 * What a plugin registers or replaces belongs to one config run: every
 * run (start-up and each reload) starts without it, and the entry does
 * it again.  Connections keep what their own run set up, so a reload
 * without the plugin line restores the built-in behaviour and texts.
 */
#ifndef PX_PLUGIN_API_H
#define PX_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

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

/* The rewrite of a plugin auth type (see register_auth_rewrite). */
typedef int (*px_auth_rewrite_fn)(void *arg, char *user, size_t user_size,
				  char *password, size_t pass_size);

/* The check of a plugin auth type (see register_auth). */
typedef int (*px_auth_fn)(void *arg, const char *user, const char *password);

/* One access record's traffic, as a traffic hook sees it.  in/out are
 * %I and %O (bytes from the server, bytes from the client); a hook may
 * change them, and the record and the counters get the new values. */
struct px_traffic {
	const char *service;    /* %N: "PROXY", "SOCK4", "SOC45", "SOCK5",
				   "TCPPM", "UDPPM", "ADMIN", "POP3P"... */
	int udp;                /* datagrams (udppm, SOCKS UDP ASSOCIATE) */
	unsigned target_port;   /* requested port, 0 if none */
	uint64_t in, out;       /* %I, %O: may be changed */
	uint64_t reads;         /* reads from the server side */
	uint64_t writes;        /* reads from the client side (each one
				   written to the server) */
	uint64_t connects;      /* 1 if a server connection was made */
};

/* A traffic hook (see register_traffic).  Runs on worker threads. */
typedef void (*px_traffic_fn)(void *arg, struct px_traffic *t);

/* One accepted connection, as a filter's client hook sees it (opaque;
 * valid only during that call). */
struct px_conn;
struct sockaddr;

/* Results of a filter's client hook. */
#define PX_FILTER_CONTINUE 0    /* attach to the connection */
#define PX_FILTER_PASS 1        /* leave this connection alone */
#define PX_FILTER_HANDLED 2     /* buffer/stage: done, accept */
#define PX_FILTER_REJECT 3      /* drop the connection (logged as 19) */

/* The buffer hooks of a filter (plugins.md 2.1), for px_filter.hooks
 * (as PX_HOOK_BIT()s) and px_filter.buffer. */
#define PX_HOOK_REQUEST 0       /* HTTP request line; "CONNECT host:port"
				   (SOCKS); user@host (FTP); target host
				   (SMTP) */
#define PX_HOOK_HEADER_CLI 1    /* HTTP request head; FTP and SMTP
				   commands */
#define PX_HOOK_HEADER_SRV 2    /* HTTP response head; FTP and SMTP
				   replies */
#define PX_HOOK_DATA_CLI 3      /* client -> server payload (a whole HTTP
				   body when it is read whole: declared
				   length within filtermaxsize) */
#define PX_HOOK_DATA_SRV 4      /* server -> client payload (likewise) */
#define PX_HOOK_BIT(h) (1u << (h))

/* The stage hooks (px_filter.stage). */
#define PX_STAGE_CONNECT 0      /* the server connection is made */
#define PX_STAGE_AFTERAUTH 1    /* the auth chain accepted the client */
#define PX_STAGE_PREDATA 2      /* before the data relay starts */

/* A buffer a buffer hook sees: data[0..len) (not NUL-terminated).  The
 * hook may replace the content with api->buf_set, never by writing
 * through data. */
struct px_buf {
	const char *data;
	size_t len;
};

/* A plugin filter (see register_filter).  Every hook may be NULL.  The
 * daemon copies the structure; size lets later members be appended. */
struct px_filter {
	size_t size;            /* sizeof(struct px_filter) of the plugin */
	/* At each service line of the run, on the main thread: the state
	 * the client hook of that service gets, or NULL = this service
	 * does not use the filter.  service is the command word ("tcppm",
	 * "tlspr", "proxy"...).  Without open the state is data. */
	void *(*open)(void *data, const char *service);
	/* The service is gone: its state from open. */
	void (*close)(void *svc);
	/* A TCP connection was accepted (after -H, before the protocol);
	 * on the connection's worker thread, many at once.  Returns a
	 * PX_FILTER_* result. */
	int (*client)(void *svc, struct px_conn *conn);
	/* The run's configuration is gone: data may be freed. */
	void (*release)(void *data);

	/* ---- appended: the daemon uses what size covers ---- */

	/* The buffer hooks buffer wants (PX_HOOK_BIT()s). */
	unsigned hooks;
	/* The client hook continued (or there is none): the connection's
	 * state for the hooks below (NULL is a state too).  Worker thread. */
	void *(*attach)(void *svc, struct px_conn *conn);
	/* The connection ends: its state from attach. */
	void (*clear)(void *svc, void *conn);
	/* A buffer hook (hook is a PX_HOOK_*) on the connection's worker
	 * thread.  Returns PX_FILTER_CONTINUE (go on with the next filter),
	 * PASS or HANDLED (accept, later filters skipped) or REJECT: the
	 * service's filter rejection (HTTP 503 with code 517, SOCKS and
	 * connect-stage 517/19, SMTP/FTP their filter error replies). */
	int (*buffer)(void *svc, void *conn, struct px_conn *c, int hook,
		      struct px_buf *b);
	/* A stage hook (stage is a PX_STAGE_*); REJECT ends the connection
	 * (code 19).  Same results as buffer. */
	int (*stage)(void *svc, void *conn, struct px_conn *c, int stage);
};

/* Plugin-owned limits (see quota_new, pipe_new): opaque. */
struct px_quota;
struct px_pipe;
/* The lowest rate pipe_new accepts, bits per second (as bandlimin). */
#define PX_PIPE_MIN_RATE 300

/* Message tables (see set_message). */
#define PX_MSG_PROXY 0          /* HTTP proxy error page bodies */
#define PX_MSG_ADMIN 1          /* admin page pieces */

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

	/* Call fn(arg, t) for every access record written (or counted) by
	 * services of this config run, after the bytes are known and before
	 * they are logged and charged to counters.  Hooks run in the order
	 * registered; each sees the previous one's result.  fn runs on many
	 * threads at once.  release (may be NULL) is called with arg once
	 * the run's last connection is gone, so a plugin can keep per-run
	 * state in arg without locks.  Only during a plugin's entry or
	 * command.  Returns 0 or -1 (not in a config run, too many). */
	int (*register_traffic)(px_traffic_fn fn, void *arg,
				void (*release)(void *arg));

	/* The number of entries in table PX_MSG_* (0: no such table), and
	 * the built-in text of entry i (NULL: out of range). */
	int (*message_count)(int table);
	const char *(*message_default)(int table, int i);
	/* Replace entry i of a table for this config run with a copy of
	 * text (at most 16384 bytes).  A proxy entry is the whole HTML body
	 * of an error page; the daemon still writes the status line and the
	 * headers.  Only during a plugin's entry or command.  Returns 0 or
	 * -1 (no such entry, too long, not in a config run). */
	int (*set_message)(int table, int i, const char *text);

	/* The number of the config run executing the plugin's entry or
	 * command (start-up is one run, each reload another; never 0), or
	 * 0 outside a run.  Lets a command find the state its run's entry
	 * made, and refuse state left over from an earlier run. */
	unsigned (*conf_run)(void);

	/* Call fn(arg) once, after the current config run's configuration
	 * is gone (its last connection ended, or the run failed); on any
	 * thread.  For per-run state of a plugin that has no hook with a
	 * release of its own (an auth type's arg).  Only during a plugin's
	 * entry or command.  Returns 0 or -1. */
	int (*at_run_end)(void (*fn)(void *arg), void *arg);

	/* Register the authentication type NAME whose check may rewrite the
	 * client's credentials for the methods after it in the chain
	 * (utf8tocp1251: `auth utf8tocp1251 strong`).  fn gets the user name
	 * and password in writable buffers of user_size and pass_size bytes
	 * (each its string's length + 1; NULL and 0 when the client gave
	 * none) and may replace either with a string that fits.  Its return
	 * is the method's result as for register_auth: a rewriting type
	 * usually returns 5, so the chain goes on to the next method.
	 * Same rules as register_auth otherwise.  Returns 0 or -1. */
	int (*register_auth_rewrite)(const char *name, px_auth_rewrite_fn fn,
				     void *arg);

	/* Put a filter at the head of the current config run's filter
	 * list (before the built-in TLS and PCRE filters): the services of
	 * the run started after this call use it, each as its open hook
	 * decides.  The filter belongs to the run (release is called with
	 * data once the run's last service and connection are gone).  Only
	 * during a plugin's entry or command.  Returns 0 or -1. */
	int (*register_filter)(const struct px_filter *f, void *data);
	/* The client socket of a connection (a SOCKET on Windows), for
	 * getsockopt / getsockname; -1 if none. */
	intptr_t (*conn_socket)(struct px_conn *conn);
	/* Preset the destination a connection asks for: an IPv4 or IPv6
	 * address with a non-zero port, and host, its name for ACLs and
	 * the log (NULL: the address as text).  tcppm connects there
	 * instead of its configured target; tlspr connects to the address
	 * and takes the name from the client's SNI.  Services that read a
	 * destination from their own protocol (proxy, socks, ftppr, the
	 * mail proxies) ignore it.  Only from a client hook.  Returns 0 or
	 * -1 (bad address, no memory). */
	int (*conn_set_dest)(struct px_conn *conn, const struct sockaddr *sa,
			     size_t salen, const char *host);

	/* Replace the content of b (only the buffer a buffer hook got,
	 * during that hook) with a copy of p[0..n).  Returns 0 or -1 (no
	 * memory: b is unchanged). */
	int (*buf_set)(struct px_buf *b, const void *p, size_t n);
	/* Publish ptr under name (at most 63 bytes) for the plugins whose
	 * lines follow in the same config run; publishing a name again
	 * replaces it.  Only during a plugin's entry or command.  Returns
	 * 0 or -1 (not in a run, bad name, too many). */
	int (*publish_symbol)(const char *name, void *ptr);
	/* What the current config run published as name, or NULL (not
	 * published, not in a run). */
	void *(*find_symbol)(const char *name);

	/* The user name the connection authenticated with (the client's
	 * name, as `auth` saw it), or NULL.  Valid during the hook that got
	 * conn. */
	const char *(*conn_user)(struct px_conn *conn);
	/* A traffic quota owned by the plugin: bytes read from servers (as
	 * countin counts them), at most limit bytes per calendar period
	 * (period: 'D' day, 'W' week from Sunday, 'M' month; also 'C', 'H',
	 * 'Y' as in countin), starting with bytes counted since start (Unix
	 * time; 0 = now; a start in an earlier period means a new period:
	 * the value starts at 0).  The caller holds one reference.  NULL on
	 * bad arguments or no memory.  Any thread. */
	struct px_quota *(*quota_new)(char period, uint64_t limit,
				      uint64_t bytes, int64_t start);
	/* Change a quota's period and limit.  Returns 0 or -1. */
	int (*quota_set)(struct px_quota *q, char period, uint64_t limit);
	/* The bytes counted in the current period and its start. */
	void (*quota_read)(struct px_quota *q, uint64_t *bytes,
			   int64_t *start);
	/* Drop the caller's reference (connections using it keep theirs). */
	void (*quota_unref)(struct px_quota *q);
	/* A bandwidth pipe owned by the plugin: bps bits per second (at
	 * least PX_PIPE_MIN_RATE) shared by every connection it is attached
	 * to.  NULL on a bad rate or no memory.  Any thread. */
	struct px_pipe *(*pipe_new)(uint64_t bps);
	void (*pipe_unref)(struct px_pipe *p);
	/* Only from a filter's PX_STAGE_AFTERAUTH stage hook: charge the
	 * traffic of the connection's current request to q and send what
	 * it reads from the server through p (either may be NULL), as the
	 * daemon does for a matching countin and bandlimin rule.  When q is
	 * used up the request is refused with code 10 (ERR_LIMIT); a relay
	 * that crosses it stops with code 10.  Each request starts without
	 * them: the hook attaches them again for every request it limits.
	 * Returns 0 or -1 (no memory). */
	int (*conn_limit)(struct px_conn *conn, struct px_quota *q,
			  struct px_pipe *p);
	/* Call fn(arg) on the main thread about once a minute while the
	 * current config run is the one in force, and once more when the
	 * daemon exits (before it saves its own counters), e.g. to save
	 * what quota_read tells.  Only during a plugin's entry or command.
	 * Returns 0 or -1. */
	int (*at_minute)(void (*fn)(void *arg), void *arg);
};

/* Whether the daemon's table has the member m (appended members). */
#define PX_API_HAS(api, m) \
	((api)->size >= offsetof(struct px_api, m) + sizeof((api)->m))

typedef int (*px_plugin_entry)(const struct px_api *api, int argc,
			       char **argv);

#endif
