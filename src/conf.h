/*
 * conf.h - the configuration engine.
 *
 * A config is a script: conf_load_*() tokenizes it line by line, looks each
 * command up in the command table (conf_cmds.c, plus rows that plugins
 * register) and runs its handler against a conf_ctx.  Handlers change the
 * cursor (the settings in force); a service line snapshots the cursor into
 * a svc_conf.  The result is a complete, immutable struct conf_gen, or NULL
 * with every problem reported as "file:line: message".
 *
 * Nothing here opens a socket: services are started later by
 * conf_gen_apply() in main.c's order, so a config can be checked (--check)
 * or rebuilt on reload without touching the running one.
 */
#ifndef PX_CONF_H
#define PX_CONF_H

#include <stdio.h>
#include <stdint.h>
#include "net.h"

#define CONF_MAX_LINE 65534     /* longer lines are split, as 3proxy does */
#define CONF_MAX_TOKENS 4095    /* per command */
#define CONF_MAX_INCLUDE_DEPTH 16
#define CONF_INCLUDE_MAX 65534  /* bytes read from a $file */

/* ---- timeouts: the 11 slots of the `timeouts` command --------------- */
enum conf_timeout {
	TO_BYTE_SHORT, TO_BYTE_LONG, TO_STRING_SHORT, TO_STRING_LONG,
	TO_CONNECTION_SHORT, TO_CONNECTION_LONG, TO_DNS, TO_CHAIN,
	TO_CONNECT, TO_CONNECTBACK, TO_LINGER, TO_COUNT
};

struct log_sink;
struct svc_conf;
struct users;
struct acl;
struct auth_conf;
struct resolve_conf;
struct limit_conf;
struct counter_conf;
struct radius_conf;
struct tls_settings;
struct msgtab;
struct plugin_hooks;

/* An action that changes the process and so happens only when a
 * generation is applied, never in --check: run in config order. */
enum conf_effect_kind {
	EFF_DAEMON, EFF_PIDFILE, EFF_SYSTEM, EFF_CHROOT, EFF_SETUID,
	EFF_SETGID, EFF_SERVICE
};
struct conf_effect {
	enum conf_effect_kind kind;
	char *arg;                 /* path / command / directory */
	long uid, gid;             /* chroot, setuid, setgid; -1 = none */
	struct svc_conf *svc;      /* EFF_SERVICE: owned by the generation */
	char *where;               /* "file:line" for messages at apply time */
};

/* One complete configuration.  Immutable once built; shared by the
 * services and clients started from it through an atomic refcount. */
struct conf_gen {
	int refs;                            /* atomic */
	int timeouts[TO_COUNT];              /* seconds */
	struct conf_effect *effects;
	int neffects;
	char **monitors;                     /* files whose change reloads */
	int nmonitors;
	char *config_path;                   /* re-read on reload */
	int writable;                        /* `writable`: admin /U may
						rewrite config_path */
	int maxseg;
	int rotate;                          /* rotated files to keep */
	struct log_archiver *archiver;       /* `archiver`, or NULL */
	struct log_sink *log;                /* global `log` target, or NULL */
	char *logformat;                     /* current default format */
	struct svc_conf **svcs;              /* every service, config order */
	int nsvcs;
	struct users *users;                 /* `users` table (users.c) */
	int delimchar;                       /* `delimchar`; 0 = '@' */	struct resolve_conf *resolv;         /* name service (resolve.h) */
	struct limit_conf *limits;           /* bandlim*, connlim (limit.c) */
	struct counter_conf *counters;       /* counter, count* (counter.c) */
	int parentretries;                   /* `parentretries`; 0 = 2 */
	int pollspin;                        /* `pollspin` us; -1 = default */
	int relaythreads;                    /* `relaythreads`; -1 = default */
	struct radius_conf *radius;          /* `radius` servers (radius.c) */
	int version;                         /* set by conf_gen_publish */
	/* Set by plugins during the run (plugin.c), fixed afterwards. */
	struct msgtab *msgs;                 /* replaced texts, or NULL */
	struct plugin_hooks *hooks;          /* traffic hooks, or NULL */
	/* filter.h: pcre rules in definition order (plugins may insert
	 * at the head); services snapshot it at their line. */
	struct filter_list *filters;
	uint64_t filtermaxsize;              /* `filtermaxsize`; 0 = none */
};

/* Where a token came from, for messages. */
struct conf_pos {
	const char *file;
	int line;
};

/* The settings in force while the config runs (the cursor). */
struct conf_cursor {
	struct net_addr internal;            /* address only; port per svc */
	int internal_set;
	struct net_addr external4, external6;
	int maxconn;
	int backlog;
	long stacksize;
	struct log_sink *log;                /* borrowed from the generation */
	int log_seen;                        /* a `log` line was executed */
	const char *logformat;               /* borrowed */
	uint64_t logdump_in, logdump_out;
	int force;
	struct acl *acl;          /* ACL being built (acl.c); NULL = empty */
	struct auth_conf *auth;   /* auth + authcache (auth.c); NULL = default */
	struct tls_settings *tls; /* ssl_* (tls_conf.c), owned; NULL = default */
	uint32_t pcre_opts[4];    /* `pcre_options` for later rules:
				     compile, match, newline, bsr */
	void *pcre_last;          /* the last pcre rule (pcre_extend) */
};

enum conf_mode {
	CONF_RUN,        /* start-up or reload: stop at the first error */
	CONF_CHECK       /* --check: report every error, touch nothing */
};

/* State of one config run.  Handlers receive it. */
struct conf_ctx {
	struct conf_gen *gen;
	struct conf_cursor cur;
	enum conf_mode mode;
	struct conf_pos pos;
	int errors, warnings;
	int line_incomplete;   /* a $file on this line could not be read */
	int depth;             /* include nesting */
	FILE *diag;            /* where messages go (stderr) */
	int stop;              /* `end` seen at top level, or fatal error */
	void *cmd_data;        /* data of the plugin row being run */
};

/* Handlers return 0 on success.  A non-zero value fails the command; if
 * the handler did not report anything itself the engine prints
 * "file:line: 'cmd' failed with code N". */
typedef int (*conf_handler)(struct conf_ctx *ctx, int argc, char **argv);

struct conf_cmd {
	const char *name;
	int minargs;      /* including the command word */
	int maxargs;      /* 0 = unlimited */
	conf_handler handler;
	const char *needs;  /* non-NULL: provided by this plugin/feature */
};

/* ---- tokenizer (pure; unit-tested) ---------------------------------- */
struct conf_tokens {
	int argc;
	char *argv[CONF_MAX_TOKENS + 1];
	char *store;       /* token storage, owned */
	size_t storelen, storecap;
	int incomplete;    /* a $file could not be read */
};
/* Include-file reader used for `$file`: returns malloc'd bytes or NULL.
 * The default reads the file from disk (at most CONF_INCLUDE_MAX bytes). */
typedef char *(*conf_slurp_fn)(const char *path, size_t *len, void *arg);

/* Split one line into tokens.  Returns 0, or -1 on a parse error with a
 * reason in *why.  A line that is a comment or blank yields argc == 0.
 * `allow_dollar` is 0 inside an included file (no recursion). */
int conf_tokenize(const char *line, size_t len, struct conf_tokens *out,
		  conf_slurp_fn slurp, void *slurp_arg, const char **why);
void conf_tokens_free(struct conf_tokens *t);
char *conf_slurp_file(const char *path, size_t *len, void *arg);

/* ---- loading ---------------------------------------------------------- */
/* Run a whole config from a file path ("-" or NULL = stdin). */
struct conf_gen *conf_load_file(const char *path, enum conf_mode mode,
				FILE *diag, int *nerrors);
/* Run a config held in memory; `name` is used in messages. */
struct conf_gen *conf_load_mem(const char *buf, size_t len, const char *name,
			       enum conf_mode mode, FILE *diag, int *nerrors);
/* Run one stream inside a running ctx (used by `include`). */
int conf_run_stream(struct conf_ctx *ctx, FILE *f, const char *name);

void conf_gen_ref(struct conf_gen *g);
void conf_gen_unref(struct conf_gen *g);

/* ---- the generation in force (F-PROC-10) -------------------------------
 * main.c publishes each generation as it puts it in force (before its
 * services start).  Publishing numbers it (g->version) and advances a
 * process-wide counter that relays watch with one atomic load per
 * iteration; connections of older generations then re-check their
 * authorization against the current one.  Main thread only; takes a
 * reference to g and drops the previous one (NULL at exit: none). */
void conf_gen_publish(struct conf_gen *g);
/* The generation in force with a reference the caller drops with
 * conf_gen_unref, or NULL.  Any thread. */
struct conf_gen *conf_gen_current(void);
/* The counter: the version of the generation in force, 0 before the
 * first.  Read it with os_atomic_load. */
const int *conf_gen_version(void);

/* ---- messages --------------------------------------------------------- */
void conf_error(struct conf_ctx *ctx, const char *fmt, ...)
	PX_PRINTF(2, 3);
void conf_warning(struct conf_ctx *ctx, const char *fmt, ...)
	PX_PRINTF(2, 3);

/* ---- command table ---------------------------------------------------- */
const struct conf_cmd *conf_builtin_cmds(size_t *n);
/* Plugins add rows at run time; they are searched before the built-ins.
 * `data` (malloc'd or NULL; freed by conf_cmds_cleanup) is given to the
 * handler in ctx->cmd_data.  Returns 0 or -1. */
int conf_register_cmd(const char *name, int minargs, int maxargs,
		      conf_handler handler, void *data);
void conf_cmds_cleanup(void);

/* The root the process moved into with `chroot` (NULL if none), and a
 * path as seen from inside it: "/root/etc/x.cfg" -> "/etc/x.cfg". */
const char *conf_chroot_dir(void);
void conf_set_chroot_dir(const char *dir);
const char *conf_path_in_root(const char *path);

/* Helpers for handlers. */
int conf_parse_long(const char *s, long min, long max, long *out);
char *conf_strdup(struct conf_ctx *ctx, const char *s);
void conf_add_effect(struct conf_ctx *ctx, enum conf_effect_kind kind,
		     const char *arg, long uid, long gid, struct svc_conf *svc);

#endif
