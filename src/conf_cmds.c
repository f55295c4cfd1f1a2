/*
 * conf_cmds.c - the command table: one row per config command.
 *
 * A row gives the name, the argument counts (including the command word;
 * max 0 = unlimited, as in 3proxy's table) and the handler.  Handlers of
 * settings live here; commands owned by a bigger module point into it.
 * Later features add rows here; plugins add rows at run time.
 */
#include "acl.h"
#include "auth.h"
#include "conf.h"
#include "counter.h"
#include "filter_pcre.h"
#include "limit.h"
#include "log.h"
#include "net.h"
#include "os.h"
#include "parent.h"
#include "relay_engine.h"
#include "plugin.h"
#include "radius.h"
#include "resolve.h"
#include "service.h"
#include "tls.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

/* Commands provided by a plugin that has not been loaded. */
static int cmd_needs_plugin(struct conf_ctx *ctx, int argc, char **argv)
{
	if (ctx->mode == CONF_CHECK)
		return 0;
	conf_error(ctx, "'%s' needs its plugin: load it first with `plugin`",
		   argv[0]);
	return 1;
}

/* ---- network and capacity ------------------------------------------------ */

static int cmd_internal(struct conf_ctx *ctx, int argc, char **argv)
{
	struct net_addr a;
	int rc;

	if (net_parse_ip(argv[1], &a) == 0) {
		ctx->cur.internal = a;
		return 0;
	}
	rc = net_parse_unix(argv[1], &a);
	if (rc == 0) {
		ctx->cur.internal = a;
		return 0;
	}
	if (rc == -2) {
		conf_error(ctx, "internal: unsupported Unix socket address %s",
			   argv[1]);
		return 1;
	}
	/* A name is resolved once; 3proxy never fails this command and
	 * keeps the previous address when it cannot use the value. */
	if (ctx->mode == CONF_RUN && net_resolve(argv[1], NET_PREF_4, &a) == 0)
		ctx->cur.internal = a;
	else if (ctx->mode == CONF_RUN)
		conf_warning(ctx, "internal: cannot use '%s', keeping the "
			     "previous address", argv[1]);
	return 0;
}

static int cmd_external(struct conf_ctx *ctx, int argc, char **argv)
{
	struct net_addr a;

	if (net_parse_ip(argv[1], &a) != 0) {
		if (strchr(argv[1], ':') != NULL || !net_is_hostname(argv[1])) {
			conf_error(ctx, "external: invalid address '%s'",
				   argv[1]);
			return 1;
		}
		if (ctx->mode == CONF_CHECK)
			return 0;
		if (net_resolve(argv[1], NET_PREF_46, &a) != 0) {
			conf_error(ctx, "external: cannot resolve '%s'",
				   argv[1]);
			return 1;
		}
	}
	if (net_family(&a) == AF_INET6)
		ctx->cur.external6 = a;
	else
		ctx->cur.external4 = a;
	return 0;
}

static void warn_nofile(struct conf_ctx *ctx, long maxconn)
{
#ifndef _WIN32
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    && (rlim_t)(2 * maxconn) > rl.rlim_cur)
		conf_warning(ctx, "current open file ulimits are too low "
			     "(cur: %lu/max: %lu), maxconn requires at least "
			     "%ld for every running service",
			     (unsigned long)rl.rlim_cur,
			     (unsigned long)rl.rlim_max, 2 * maxconn);
#endif
}

static int cmd_maxconn(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], 1, 10000000, &v) != 0) {
		conf_error(ctx, "maxconn: invalid value '%s'", argv[1]);
		return 1;
	}
	ctx->cur.maxconn = (int)v;
	warn_nofile(ctx, v);
	return 0;
}

static int cmd_backlog(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], 0, 1000000000, &v) != 0) {
		conf_error(ctx, "backlog: invalid value '%s'", argv[1]);
		return 1;
	}
	ctx->cur.backlog = (int)v;
	return 0;
}

static int cmd_stacksize(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], -(1L << 24), 1L << 28, &v) != 0) {
		conf_error(ctx, "stacksize: invalid value '%s'", argv[1]);
		return 1;
	}
	ctx->cur.stacksize = v;
	return 0;
}

/* pollspin <microseconds>: how long a waiting worker keeps checking its
 * sockets before it sleeps (pollspin.c); process-wide, last line wins. */
static int cmd_pollspin(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], 0, OS_POLL_SPIN_MAX, &v) != 0) {
		conf_error(ctx, "pollspin: invalid value '%s' (0-%d "
			   "microseconds)", argv[1], OS_POLL_SPIN_MAX);
		return 1;
	}
	ctx->gen->pollspin = (int)v;
	return 0;
}

/* relaythreads <n>: event-loop threads for established tunnels
 * (relay_engine.c); 0 = none; process-wide, last line wins. */
static int cmd_relaythreads(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], 0, RELAYTHREADS_MAX, &v) != 0) {
		conf_error(ctx, "relaythreads: invalid value '%s' (0-%d)",
			   argv[1], RELAYTHREADS_MAX);
		return 1;
	}
	ctx->gen->relaythreads = (int)v;
	return 0;
}

static int cmd_maxseg(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	if (conf_parse_long(argv[1], 0, 65535, &v) != 0) {
		conf_error(ctx, "maxseg: invalid value '%s'", argv[1]);
		return 1;
	}
	ctx->gen->maxseg = (int)v;
	return 0;
}

static int cmd_timeouts(struct conf_ctx *ctx, int argc, char **argv)
{
	int i;
	long v;

	/* Values past the 11th slot are ignored, as in 3proxy. */
	for (i = 1; i < argc && i <= TO_COUNT; i++) {
		if (conf_parse_long(argv[i], 1, 2000000, &v) != 0) {
			conf_error(ctx, "invalid timeout: %s", argv[i]);
			return 1;
		}
		ctx->gen->timeouts[i - 1] = (int)v;
	}
	return 0;
}

/* ---- process control -------------------------------------------------------- */

static int cmd_noop(struct conf_ctx *ctx, int argc, char **argv)
{
	return 0;
}

static int cmd_daemon(struct conf_ctx *ctx, int argc, char **argv)
{
	conf_add_effect(ctx, EFF_DAEMON, NULL, -1, -1, NULL);
	return 0;
}

static int cmd_pidfile(struct conf_ctx *ctx, int argc, char **argv)
{
	conf_add_effect(ctx, EFF_PIDFILE, argv[1], -1, -1, NULL);
	return 0;
}

static int cmd_system(struct conf_ctx *ctx, int argc, char **argv)
{
	conf_add_effect(ctx, EFF_SYSTEM, argv[1], -1, -1, NULL);
	return 0;
}

/* Resolve a user or group name; 0 and unknown names are refused (3proxy
 * never drops to root).  In --check an unknown name is only a warning:
 * the account may exist where the config is deployed. */
static int lookup_id(struct conf_ctx *ctx, const char *what, const char *name,
		     long (*lookup)(const char *), long *out)
{
	long id = lookup(name);

	if (id == 0) {
		conf_error(ctx, "%s: refusing to use id 0 ('%s')", what, name);
		return -1;
	}
	if (id < 0) {
		if (ctx->mode == CONF_CHECK) {
			conf_warning(ctx, "%s: unknown name '%s'", what, name);
			*out = -1;
			return 0;
		}
		conf_error(ctx, "%s: unknown name '%s'", what, name);
		return -1;
	}
	*out = id;
	return 0;
}

static int cmd_setuid(struct conf_ctx *ctx, int argc, char **argv)
{
	long id;

	if (lookup_id(ctx, "setuid", argv[1], os_lookup_uid, &id) != 0)
		return 1;
	conf_add_effect(ctx, EFF_SETUID, NULL, id, -1, NULL);
	return 0;
}

static int cmd_setgid(struct conf_ctx *ctx, int argc, char **argv)
{
	long id;

	if (lookup_id(ctx, "setgid", argv[1], os_lookup_gid, &id) != 0)
		return 1;
	conf_add_effect(ctx, EFF_SETGID, NULL, -1, id, NULL);
	return 0;
}

static int cmd_chroot(struct conf_ctx *ctx, int argc, char **argv)
{
	long uid = -1, gid = -1;
	char *dir = conf_strdup(ctx, argv[1]);
	size_t n;

	if (dir == NULL)
		return 1;
	n = strlen(dir);
	while (n > 1 && (dir[n - 1] == '/' || dir[n - 1] == '\\'))
		dir[--n] = '\0';
	if ((argc > 2 && lookup_id(ctx, "chroot", argv[2], os_lookup_uid,
				   &uid) != 0) ||
	    (argc > 3 && lookup_id(ctx, "chroot", argv[3], os_lookup_gid,
				   &gid) != 0)) {
		free(dir);
		return 1;
	}
	/* Files named after this line (log, include, $file, plugin) are
	 * inside the new root, so the root changes now, while the config
	 * runs; the id changes wait for their place in config order.  Only
	 * the first chroot of the process changes the root. */
	if (ctx->mode == CONF_RUN && conf_chroot_dir() == NULL) {
		if (os_chroot(dir) != 0) {
			conf_error(ctx, "chroot: cannot change root to %s: %s",
				   dir, strerror(errno));
			free(dir);
			return 1;
		}
		conf_set_chroot_dir(dir);
	}
	conf_add_effect(ctx, EFF_CHROOT, dir, uid, gid, NULL);
	free(dir);
	return 0;
}

static int cmd_config(struct conf_ctx *ctx, int argc, char **argv)
{
	char *p = conf_strdup(ctx, argv[1]);

	if (p == NULL)
		return 1;
	free(ctx->gen->config_path);
	ctx->gen->config_path = p;
	return 0;
}

static int cmd_monitor(struct conf_ctx *ctx, int argc, char **argv)
{
	struct conf_gen *g = ctx->gen;
	int64_t mt, sz;
	char **m;

	if (os_file_stat(argv[1], &mt, &sz) != 0) {
		conf_warning(ctx, "file %s doesn't exist: not monitored",
			     argv[1]);
		return 0;
	}
	m = realloc(g->monitors, sizeof(*m) * (size_t)(g->nmonitors + 1));
	if (m == NULL)
		return 21;
	g->monitors = m;
	m[g->nmonitors] = conf_strdup(ctx, argv[1]);
	if (m[g->nmonitors] == NULL)
		return 21;
	g->nmonitors++;
	return 0;
}

static int cmd_include(struct conf_ctx *ctx, int argc, char **argv)
{
	FILE *f;
	int rc, stop;

	if (ctx->depth >= CONF_MAX_INCLUDE_DEPTH) {
		conf_error(ctx, "include: nested too deeply");
		return 1;
	}
	f = fopen(argv[1], "r");
	if (f == NULL) {
		if (ctx->mode == CONF_CHECK) {
			conf_warning(ctx, "cannot open included file %s: %s",
				     argv[1], strerror(errno));
			return 0;
		}
		conf_error(ctx, "cannot open included file %s: %s", argv[1],
			   strerror(errno));
		return 1;
	}
	ctx->depth++;
	stop = ctx->stop;
	rc = conf_run_stream(ctx, f, argv[1]);
	/* `end` inside an include ends only the include. */
	ctx->stop = stop;
	ctx->depth--;
	fclose(f);
	return rc == 0 ? 0 : 1;
}

/* `writable` (F-CFG-08): the admin /U page may rewrite the config file.
 * The file is written by path (a new file renamed over it) and re-read
 * by path on reload, so no handle is kept: only the flag.  As in 3proxy,
 * a file that cannot be opened for writing fails the line now rather
 * than the first save (--check only warns: the file may exist where the
 * config will run).  A config read from standard input has no file: /U
 * then says so. */
static int cmd_writable(struct conf_ctx *ctx, int argc, char **argv)
{
	const char *path = ctx->gen->config_path != NULL ?
		conf_path_in_root(ctx->gen->config_path) : NULL;
	FILE *f;

	if (path != NULL) {
		f = fopen(path, "r+");
		if (f == NULL && ctx->mode == CONF_CHECK) {
			conf_warning(ctx, "cannot reopen config for writing: "
				     "%s", path);
		} else if (f == NULL) {
			conf_error(ctx, "Unable to reopen config for "
				   "writing: %s", path);
			return 1;
		} else {
			fclose(f);
		}
	}
	ctx->gen->writable = 1;
	return 0;
}

/* ---- logging ----------------------------------------------------------------- */

static int cmd_log(struct conf_ctx *ctx, int argc, char **argv)
{
	struct conf_gen *g = ctx->gen;
	struct log_sink *s = NULL;
	char err[256];

	ctx->cur.log_seen = 1;
	if (argc < 2) {
		s = log_sink_stdout();
	} else if (strcmp(argv[1], "/dev/null") == 0) {
		s = NULL;
	} else if (argv[1][0] == '&') {
		/* logging.md 1.3, F-LOG-07; the spec holds a password, so
		 * errors do not repeat it */
		if (ctx->mode == CONF_RUN &&
		    (s = log_sink_odbc(argv[1] + 1, err, sizeof(err))) == NULL) {
			conf_error(ctx, "log &...: %s", err);
			return 1;
		}
	} else if (strcmp(argv[1], "radius") == 0) {
		if (!radius_available()) {
			conf_error(ctx, "log radius: this build has no MD5 "
				   "(libmd), so no RADIUS");
			return 1;
		}
		s = log_sink_radius();
	} else if (argv[1][0] == '@') {
		if (ctx->mode == CONF_RUN)
			s = log_sink_syslog(argv[1] + 1);
	} else if (ctx->mode == CONF_RUN) {
		s = log_sink_file_rotating(argv[1], argc > 2 ? argv[2] : NULL,
					   err, sizeof(err));
		if (s == NULL) {
			conf_error(ctx, "log: cannot open %s: %s", argv[1],
				   err);
			return 1;
		}
	}
	if (g->log)
		log_sink_unref(g->log);
	g->log = s;
	ctx->cur.log = s;
	return 0;
}

static int cmd_logformat(struct conf_ctx *ctx, int argc, char **argv)
{
	char *f = conf_strdup(ctx, argv[1]);

	if (f == NULL)
		return 21;
	free(ctx->gen->logformat);
	ctx->gen->logformat = f;
	ctx->cur.logformat = f;
	return 0;
}

static int cmd_rotate(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	/* 3proxy reads this with atoi(): real configs contain words here,
	 * so a non-number means 0 (keep all), with a warning. */
	if (conf_parse_long(argv[1], 0, 1000000, &v) != 0) {
		conf_warning(ctx, "rotate: '%s' is not a number of files; "
			     "keeping all", argv[1]);
		v = 0;
	}
	ctx->gen->rotate = (int)v;
	return 0;
}

/* archiver EXT CMD [ARGS...] (config.md 4.4, F-LOG-05) */
static int cmd_archiver(struct conf_ctx *ctx, int argc, char **argv)
{
	struct log_archiver *a = log_archiver_new(argc - 1, argv + 1);

	if (a == NULL)
		return 21;
	log_archiver_free(ctx->gen->archiver);
	ctx->gen->archiver = a;
	return 0;
}

static int cmd_logdump(struct conf_ctx *ctx, int argc, char **argv)
{
	char *end;

	ctx->cur.logdump_in = strtoull(argv[1], &end, 10);
	ctx->cur.logdump_out = argc > 2 ? strtoull(argv[2], &end, 10) : 0;
	return 0;
}

/* ---- access control: allow/deny/flush/nolog/weight live in acl.c,
 * auth/authcache/delimchar in auth.c, users in users.c ---------------------- */

static int cmd_force(struct conf_ctx *ctx, int argc, char **argv)
{
	ctx->cur.force = strcmp(argv[0], "force") == 0;
	return 0;
}

/* ---- services ------------------------------------------------------------------ */

static int cmd_service_line(struct conf_ctx *ctx, int argc, char **argv)
{
	struct svc_conf *sc = svc_conf_parse(ctx, argc, argv);
	struct conf_gen *g = ctx->gen;
	struct svc_conf **v;

	if (sc == NULL)
		return 40;
	/* F-PAR-01: the ACL's parent chains must form groups of 1000 */
	if (parent_acl_check(ctx, ctx->cur.acl) != 0) {
		svc_conf_free(sc);
		return 3;
	}
	if (strcmp(argv[0], "dnspr") == 0)
		resolve_dnspr_warning(ctx);
	v = realloc(g->svcs, sizeof(*v) * (size_t)(g->nsvcs + 1));
	if (v == NULL) {
		svc_conf_free(sc);
		return 21;
	}
	g->svcs = v;
	v[g->nsvcs++] = sc;
	conf_add_effect(ctx, EFF_SERVICE, NULL, -1, -1, sc);
	return 0;
}

/* limits.md 9 (F-PCRE-04): larger declared HTTP bodies are relayed
 * without the body filters; 0 = no limit. */
static int cmd_filtermaxsize(struct conf_ctx *ctx, int argc, char **argv)
{
	long v;

	(void)argc;
	if (conf_parse_long(argv[1], 0, LONG_MAX, &v) != 0) {
		conf_error(ctx, "filtermaxsize: bad size '%s'", argv[1]);
		return 1;
	}
	ctx->gen->filtermaxsize = (uint64_t)v;
	return 0;
}

/* ---- the table ----------------------------------------------------------------- */

#define PLUGIN(name, min, max, p) { name, min, max, cmd_needs_plugin, p }
/* built-in TLS (tls_conf.c): refused at start in builds without it */
#define TLS(name, min, max) { name, min, max, tls_cmd, NULL }

static const struct conf_cmd builtin[] = {
	/* services */
	{ "proxy", 1, 0, cmd_service_line, NULL },
	{ "socks", 1, 0, cmd_service_line, NULL },
	{ "pop3p", 1, 0, cmd_service_line, NULL },
	{ "imapp", 1, 0, cmd_service_line, NULL },
	{ "smtpp", 1, 0, cmd_service_line, NULL },
	{ "ftppr", 1, 0, cmd_service_line, NULL },
	{ "tlspr", 1, 0, cmd_service_line, NULL },
	{ "auto", 1, 0, cmd_service_line, NULL },
	{ "admin", 1, 0, cmd_service_line, NULL },
	{ "dnspr", 1, 0, cmd_service_line, NULL },
	{ "tcppm", 4, 0, cmd_service_line, NULL },
	{ "udppm", 4, 0, cmd_service_line, NULL },
	/* network, capacity, process */
	{ "internal", 2, 2, cmd_internal, NULL },
	{ "external", 2, 2, cmd_external, NULL },
	{ "maxconn", 2, 2, cmd_maxconn, NULL },
	{ "backlog", 2, 2, cmd_backlog, NULL },
	{ "stacksize", 2, 2, cmd_stacksize, NULL },
	{ "maxseg", 2, 2, cmd_maxseg, NULL },
	{ "pollspin", 2, 2, cmd_pollspin, NULL },
	{ "relaythreads", 2, 2, cmd_relaythreads, NULL },
	{ "timeouts", 2, 0, cmd_timeouts, NULL },
	{ "daemon", 1, 1, cmd_daemon, NULL },
	{ "service", 1, 1, cmd_noop, NULL },
	{ "pidfile", 2, 2, cmd_pidfile, NULL },
	{ "system", 2, 2, cmd_system, NULL },
	{ "setuid", 2, 2, cmd_setuid, NULL },
	{ "setgid", 2, 2, cmd_setgid, NULL },
	{ "chroot", 2, 4, cmd_chroot, NULL },
	{ "config", 2, 2, cmd_config, NULL },
	{ "monitor", 2, 2, cmd_monitor, NULL },
	{ "include", 2, 2, cmd_include, NULL },
	{ "writable", 1, 1, cmd_writable, NULL },
	{ "plugin", 3, 0, plugin_cmd, NULL },
	/* logging */
	{ "log", 1, 0, cmd_log, NULL },
	{ "logformat", 2, 2, cmd_logformat, NULL },
	{ "rotate", 2, 2, cmd_rotate, NULL },
	{ "logdump", 2, 3, cmd_logdump, NULL },
	{ "archiver", 3, 0, cmd_archiver, NULL },
	/* access control */
	{ "flush", 1, 1, acl_cmd_flush, NULL },
	{ "nolog", 1, 1, acl_cmd_nolog, NULL },
	{ "force", 1, 1, cmd_force, NULL },
	{ "noforce", 1, 1, cmd_force, NULL },
	{ "auth", 2, 0, auth_cmd_auth, NULL },
	{ "users", 1, 0, users_cmd, NULL },
	{ "authcache", 2, 4, auth_cmd_authcache, NULL },
	{ "allow", 1, 0, acl_cmd_allow, NULL },
	{ "deny", 1, 0, acl_cmd_allow, NULL },
	{ "redirect", 3, 0, parent_cmd_redirect, NULL },
	{ "parent", 5, 0, parent_cmd_parent, NULL },
	{ "parentretries", 2, 2, parent_cmd_parentretries, NULL },
	{ "weight", 2, 2, acl_cmd_weight, NULL },
	{ "delimchar", 2, 2, auth_cmd_delimchar, NULL },
	{ "radius", 3, 0, radius_cmd, NULL },
	/* limits */
	{ "bandlimin", 2, 0, limit_cmd_bandlim, NULL },
	{ "bandlimout", 2, 0, limit_cmd_bandlim, NULL },
	{ "nobandlimin", 1, 0, limit_cmd_bandlim, NULL },
	{ "nobandlimout", 1, 0, limit_cmd_bandlim, NULL },
	{ "counter", 2, 4, counter_cmd_counter, NULL },
	{ "countin", 4, 0, counter_cmd_count, NULL },
	{ "countout", 4, 0, counter_cmd_count, NULL },
	{ "countall", 4, 0, counter_cmd_count, NULL },
	{ "nocountin", 1, 0, counter_cmd_count, NULL },
	{ "nocountout", 1, 0, counter_cmd_count, NULL },
	{ "nocountall", 1, 0, counter_cmd_count, NULL },
	{ "connlim", 4, 0, limit_cmd_connlim, NULL },
	{ "noconnlim", 1, 0, limit_cmd_connlim, NULL },
	{ "filtermaxsize", 2, 2, cmd_filtermaxsize, NULL },
	/* name service */
	{ "nserver", 2, 2, resolve_cmd_nserver, NULL },
	{ "authnserver", 2, 2, resolve_cmd_authnserver, NULL },
	{ "fakeresolve", 1, 1, resolve_cmd_fakeresolve, NULL },
	{ "nscache", 2, 2, resolve_cmd_nscache, NULL },
	{ "nscache6", 2, 2, resolve_cmd_nscache, NULL },
	{ "nsrecord", 3, 3, resolve_cmd_nsrecord, NULL },
	{ "dialer", 2, 2, resolve_cmd_dialer, NULL },
	/* built-in TLS */
	TLS("ssl_mitm", 1, 1), TLS("ssl_nomitm", 1, 1),
	TLS("ssl_serv", 1, 1), TLS("ssl_noserv", 1, 1),
	TLS("ssl_cli", 1, 1), TLS("ssl_nocli", 1, 1),
	TLS("ssl_server", 1, 1), TLS("ssl_noserver", 1, 1),
	TLS("ssl_client", 1, 1), TLS("ssl_noclient", 1, 1),
	TLS("ssl_client_verify", 1, 1), TLS("ssl_client_no_verify", 1, 1),
	TLS("ssl_server_verify", 1, 1), TLS("ssl_server_no_verify", 1, 1),
	TLS("ssl_server_cert", 1, 2), TLS("ssl_server_key", 1, 2),
	TLS("ssl_client_cert", 1, 2), TLS("ssl_client_key", 1, 2),
	TLS("ssl_server_ca_file", 1, 2), TLS("ssl_server_ca_key", 1, 2),
	TLS("ssl_server_ca_dir", 1, 2), TLS("ssl_server_ca_store", 1, 2),
	TLS("ssl_client_ca_file", 1, 2), TLS("ssl_client_ca_dir", 1, 2),
	TLS("ssl_client_ca_store", 1, 2),
	TLS("ssl_client_ciphersuites", 1, 2),
	TLS("ssl_server_ciphersuites", 1, 2),
	TLS("ssl_client_cipher_list", 1, 2),
	TLS("ssl_server_cipher_list", 1, 2),
	TLS("ssl_client_min_proto_version", 1, 2),
	TLS("ssl_client_max_proto_version", 1, 2),
	TLS("ssl_server_min_proto_version", 1, 2),
	TLS("ssl_server_max_proto_version", 1, 2),
	TLS("ssl_client_sni", 1, 2), TLS("ssl_client_mode", 1, 2),
	TLS("ssl_client_alpn", 1, 0), TLS("ssl_certcache", 2, 2),
	/* built-in PCRE */
	{ "pcre", 4, 0, pcre_cmd_rule, NULL },
	{ "pcre_rewrite", 5, 0, pcre_cmd_rule, NULL },
	{ "pcre_extend", 2, 0, pcre_cmd_extend, NULL },
	{ "pcre_options", 2, 0, pcre_cmd_options, NULL },
	/* provided by bundled plugins */
	PLUGIN("transparent", 1, 0, "TransparentPlugin"),
	PLUGIN("notransparent", 1, 0, "TransparentPlugin"),
	PLUGIN("trafcorrect", 1, 0, "TrafficPlugin"),
	PLUGIN("file_cachedir", 1, 0, "FilePlugin"),
	PLUGIN("file_preview", 1, 0, "FilePlugin"),
	PLUGIN("ldapconnect", 1, 0, "LdapPlugin"),
	PLUGIN("ldapsbase", 1, 0, "LdapPlugin"),
	PLUGIN("ldapattr", 1, 0, "LdapPlugin"),
	PLUGIN("ldapaccess", 1, 0, "LdapPlugin"),
	PLUGIN("ldapuserenv", 1, 0, "LdapPlugin"),
	PLUGIN("ldaptrafgroup", 1, 0, "LdapPlugin"),
	PLUGIN("ldapdircount", 1, 0, "LdapPlugin"),
};

const struct conf_cmd *conf_builtin_cmds(size_t *n)
{
	*n = sizeof(builtin) / sizeof(builtin[0]);
	return builtin;
}
