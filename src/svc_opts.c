/*
 * svc_opts.c - the options of a service line, parsed in one place for
 * every service (reference services.md section 15).
 *
 * Options are separate arguments "-X[value]" with the value glued to the
 * letter.  Parsing stops at the first argument that does not start with
 * '-': for tcppm/udppm the three positional arguments follow, for the
 * other services any such argument is an error.
 */
#include "service.h"
#include "netns.h"
#include "acl.h"
#include "auth.h"
#include "conf.h"
#include "log.h"
#include "logformat.h"
#include "starttls.h"
#include "tls.h"
#include "filter.h"

#include <stdlib.h>
#include <string.h>

/* Base stack of worker and listener threads, plus `stacksize` and -S.
 * Sanitizer builds need several times more stack for their redzones. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STACK_BASE 524288
#elif defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
	defined(__DragonFly__)
#define STACK_BASE 65536
#else
#define STACK_BASE 49152
#endif
#define STACK_MIN 16384

static const struct proto *find_proto(const char *cmd)
{
	return proto_find(cmd);
}

static int parse_port(const char *s, uint16_t *out)
{
	long v;

	if (conf_parse_long(s, 1, 65535, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static char *dup_opt(struct conf_ctx *ctx, char **slot, const char *v)
{
	free(*slot);
	*slot = conf_strdup(ctx, v);
	return *slot;
}

/* -iADDR: never fails, as in 3proxy: an unusable value keeps the
 * address in force (with a warning). */
static void opt_listen(struct conf_ctx *ctx, struct svc_conf *sc,
		       const char *v)
{
	struct net_addr a;
	uint16_t port = net_get_port(&sc->listen);

	dup_opt(ctx, &sc->listen_text, v);
	if (net_parse_ip(v, &a) == 0 || net_parse_unix(v, &a) == 0 ||
	    (ctx->mode == CONF_RUN && net_resolve(v, sc->family, &a) == 0)) {
		sc->listen = a;
		net_set_port(&sc->listen, port);
		return;
	}
	if (ctx->mode == CONF_RUN)
		conf_warning(ctx, "%s: cannot use listening address '%s', "
			     "using the internal address", sc->cmdname, v);
}

/* -eADDR: IPv4 or IPv6 literal, or a host name. */
static int opt_external(struct conf_ctx *ctx, struct svc_conf *sc,
			const char *v)
{
	struct net_addr a;

	if (net_parse_ip(v, &a) != 0) {
		if (strchr(v, ':') != NULL || !net_is_hostname(v)) {
			conf_error(ctx, "%s: invalid external address '%s'",
				   sc->cmdname, v);
			return -1;
		}
		if (ctx->mode == CONF_CHECK)
			return 0;
		if (net_resolve(v, NET_PREF_46, &a) != 0) {
			conf_error(ctx, "%s: cannot resolve external address "
				   "'%s'", sc->cmdname, v);
			return -1;
		}
	}
	if (net_family(&a) == AF_INET6)
		sc->external6 = a;
	else
		sc->external4 = a;
	return 0;
}

/* -l, -lFILE, -l@IDENT */
static int opt_log(struct conf_ctx *ctx, struct svc_conf *sc, const char *v)
{
	struct log_sink *s = NULL;
	char err[256];

	if (ctx->mode == CONF_CHECK)
		return 0;
	if (*v == '\0') {
		s = ctx->gen->log ? ctx->gen->log : log_sink_stdout();
		if (s == ctx->gen->log)
			log_sink_ref(s);
	} else if (*v == '@') {
		s = log_sink_syslog(v + 1);
	} else {
		s = log_sink_file(v, err, sizeof(err));
		if (s == NULL) {
			conf_error(ctx, "%s: cannot open log file %s: %s",
				   sc->cmdname, v, err);
			return -1;
		}
	}
	if (sc->log)
		log_sink_unref(sc->log);
	sc->log = s;
	return 0;
}

/* -oXOPTS */
static int opt_sockopts(struct conf_ctx *ctx, struct svc_conf *sc,
			const char *v)
{
	unsigned o = net_sockopts_parse(v + (*v ? 1 : 0));

	switch (*v) {
	case 'c': sc->opts_client = o; return 0;
	case 's': sc->opts_server = o; return 0;
	case 'l': sc->opts_listen = o; return 0;
	case 'r': case 'R': sc->opts_connback = o; return 0;
	default:
		conf_error(ctx, "%s: unknown socket option set '-o%s'",
			   sc->cmdname, v);
		return -1;
	}
}

/* -gTRAF,NUM,DELAY */
static int opt_grace(struct conf_ctx *ctx, struct svc_conf *sc,
		     const char *v)
{
	char *end;

	sc->grace_traf = (int)strtol(v, &end, 10);
	if (*end != ',')
		goto bad;
	sc->grace_num = (int)strtol(end + 1, &end, 10);
	if (*end != ',')
		goto bad;
	sc->grace_delay = (int)strtol(end + 1, &end, 10);
	if (*end != '\0')
		goto bad;
	return 0;
bad:
	conf_error(ctx, "%s: -g needs TRAF,NUM,DELAY", sc->cmdname);
	return -1;
}

static int opt_number(struct conf_ctx *ctx, struct svc_conf *sc, char opt,
		      const char *v, long min, long max, long *out)
{
	if (conf_parse_long(v, min, max, out) != 0) {
		conf_error(ctx, "%s: invalid value for -%c: '%s'", sc->cmdname,
			   opt, v);
		return -1;
	}
	return 0;
}

/* One option; *i may advance when a value is a separate argument. */
static int parse_option(struct conf_ctx *ctx, struct svc_conf *sc, int argc,
			char **argv, int *i, long *stack_add)
{
	const char *a = argv[*i];
	const char *v = a + 2;
	long n;

	switch (a[1]) {
	case 'p': {
		uint16_t port;

		if (parse_port(v, &port) != 0) {
			conf_error(ctx, "%s: invalid port '%s'", sc->cmdname, v);
			return -1;
		}
		net_set_port(&sc->listen, port);
		sc->port_given = 1;
		return 0;
	}
	case 'i':
		opt_listen(ctx, sc, v);
		return 0;
	case 'e':
		return opt_external(ctx, sc, v);
	case 'N':
		if (*v == 'e' || *v == 'i') {
			char **slot = *v == 'e' ? &sc->nat_ext : &sc->nat_int;

			v++;
			if (*v == '\0' && *i + 1 < argc)
				v = argv[++*i];
			return dup_opt(ctx, slot, v) ? 0 : -1;
		}
		return dup_opt(ctx, &sc->nat_ext, v) ? 0 : -1;
	case '4': case '6':
		if (strcmp(a, "-4") == 0)
			sc->family = NET_PREF_4;
		else if (strcmp(a, "-6") == 0)
			sc->family = NET_PREF_6;
		else if (strcmp(a, "-46") == 0)
			sc->family = NET_PREF_46;
		else if (strcmp(a, "-64") == 0)
			sc->family = NET_PREF_64;
		else
			break;
		return 0;
	case 'l':
		return opt_log(ctx, sc, v);
	case 'f':
		return dup_opt(ctx, &sc->logformat, v) ? 0 : -1;
	case 't':
		sc->silent = 1;
		return 0;
	case 'u':
		sc->user_mode = *v == '2' ? 2 : 1;
		return 0;
	case 'a':
		sc->anonymous = *v ? atoi(v) + 1 : 1;   /* -aN = level N+1 */
		return 0;
	case 'h':
		return dup_opt(ctx, &sc->default_host, v) ? 0 : -1;
	case 'P':
		if (parse_port(v, &sc->default_port_opt) != 0) {
			conf_error(ctx, "%s: invalid port '%s'", sc->cmdname, v);
			return -1;
		}
		return 0;
	case 'c':
		sc->check_level = *v ? atoi(v) : 1;
		/* F-TLSPR-02: 0..4; a level outside is refused rather than
		 * silently weakened or strengthened */
		if (sc->check_level < 0 || sc->check_level > 4) {
			conf_error(ctx, "%s: invalid check level '%s' "
				   "(0 to 4)", sc->cmdname, a);
			return -1;
		}
		return 0;
	case 'x':
		sc->no_starttls = 1;
		return 0;
	case 'X':
		/* F-TLSPR-04: the STARTTLS prefix tlspr speaks first */
		if (starttls_proto_parse(v) == STARTTLS_NONE)
			break;
		sc->starttls = starttls_proto_parse(v);
		return 0;
	case 'F': {
		struct net_addr fa;

		if (net_parse_ip(v, &fa) != 0) {
			conf_error(ctx, "%s: invalid address for -F: '%s'",
				   sc->cmdname, v);
			return -1;
		}
		if (net_family(&fa) == AF_INET6)
			sc->fake6 = fa;
		else
			sc->fake4 = fa;
		return 0;
	}
	case 's':
		n = *v ? atoi(v) : 1;
		sc->splice = n != 0;
		sc->single_packet = n != 0;
		return 0;
	case 'T':
		sc->transparent = 1;
		return 0;
	case 'H':
		sc->proxy_header = 1;
		return 0;
	case 'C':
		sc->halfclose = *v ? atoi(v) != 0 : 0;
		return 0;
	case 'U':
		sc->udp_mode = *v ? atoi(v) : 0;
		return 0;
	case 'g':
		if (*v == '\0' && *i + 1 < argc)
			v = argv[++*i];
		return opt_grace(ctx, sc, v);
	case 'b':
		if (opt_number(ctx, sc, 'b', v, 1, 1L << 26, &n) != 0)
			return -1;
		sc->bufsize = (size_t)n;
		return 0;
	case 'S':
		if (opt_number(ctx, sc, 'S', v, -(1L << 24), 1L << 28, &n) != 0)
			return -1;
		*stack_add = n;
		return 0;
	case 'r':
		return dup_opt(ctx, &sc->connback_client, v) ? 0 : -1;
	case 'R':
		return dup_opt(ctx, &sc->connback_listen, v) ? 0 : -1;
	case 'o':
		return opt_sockopts(ctx, sc, v);
	case 'D':
		if (*v == 'i')
			return dup_opt(ctx, &sc->bind_dev_in, v + 1) ? 0 : -1;
		return dup_opt(ctx, &sc->bind_dev_out, *v ? v + 1 : v) ? 0 : -1;
	case 'n':
		/* -ni/-ne namespaces; any other -n (historic) is ignored. */
		if (*v == 'i')
			return dup_opt(ctx, &sc->netns_in, v + 1) ? 0 : -1;
		if (*v == 'e')
			return dup_opt(ctx, &sc->netns_out, v + 1) ? 0 : -1;
		return 0;
	case 'd':
		conf_add_effect(ctx, EFF_DAEMON, NULL, -1, -1, NULL);
		return 0;
	default:
		break;
	}
	conf_error(ctx, "%s: unknown option '%s'", sc->cmdname, a);
	return -1;
}

/* tcppm/udppm: LOCALPORT TARGETHOST TARGETPORT */
static int parse_positional(struct conf_ctx *ctx, struct svc_conf *sc,
			    int argc, char **argv, int i)
{
	uint16_t lport;

	if (argc - i != 3) {
		conf_error(ctx, "%s: expected LOCALPORT TARGETHOST TARGETPORT",
			   sc->cmdname);
		return -1;
	}
	if (parse_port(argv[i], &lport) != 0 ||
	    parse_port(argv[i + 2], &sc->target_port) != 0) {
		conf_error(ctx, "%s: invalid port in '%s %s %s'", sc->cmdname,
			   argv[i], argv[i + 1], argv[i + 2]);
		return -1;
	}
	if (!sc->port_given)
		net_set_port(&sc->listen, lport);
	sc->target_host = conf_strdup(ctx, argv[i + 1]);
	return sc->target_host ? 0 : -1;
}

static struct svc_conf *svc_from_cursor(struct conf_ctx *ctx,
					const struct proto *p, const char *cmd)
{
	struct svc_conf *sc = calloc(1, sizeof(*sc));
	char where[512];

	if (sc == NULL)
		return NULL;
	sc->proto = p;
	sc->cmdname = p->cmd;
	snprintf(where, sizeof(where), "%s:%d", ctx->pos.file, ctx->pos.line);
	sc->where = strdup(where);
	sc->listen = ctx->cur.internal;
	net_set_port(&sc->listen, p->default_port);
	sc->external4 = ctx->cur.external4;
	sc->external6 = ctx->cur.external6;
	sc->maxconn = ctx->cur.maxconn;
	sc->family = NET_PREF_4;
	sc->splice = -1;
	sc->halfclose = 1;
	sc->netns_in_fd = sc->netns_out_fd = NETNS_NONE;
	sc->udp_mode = 3;
	sc->bufsize = p->socktype == SOCK_DGRAM ? 16384 : 65536;
	sc->force = ctx->cur.force;
	sc->maxseg = ctx->gen->maxseg;
	sc->logdump_in = ctx->cur.logdump_in;
	sc->logdump_out = ctx->cur.logdump_out;
	sc->logformat = strdup(ctx->cur.logformat ? ctx->cur.logformat
				 : LOGFORMAT_DEFAULT);
	if (ctx->cur.log != NULL) {
		sc->log = ctx->cur.log;
		log_sink_ref(sc->log);
	}
	sc->acl = acl_ref(ctx->cur.acl);
	sc->auth = auth_conf_snapshot(ctx->cur.auth);
	if (sc->auth == NULL) {
		svc_conf_free(sc);
		return NULL;
	}
	(void)cmd;
	return sc;
}

/* -ni/-ne: open the namespace files now, so a wrong path is a config
 * error at its line.  --check only warns: the namespace may exist only
 * where the daemon runs. */
static int netns_open_opt(struct conf_ctx *ctx, const struct svc_conf *sc,
			  const char *opt, const char *path, int *fd)
{
	char err[512];

	if (path == NULL || *path == '\0')
		return 0;
	*fd = netns_open(path, err, sizeof(err));
	if (*fd != NETNS_NONE || err[0] == '\0')
		return 0;
	if (ctx->mode == CONF_CHECK) {
		conf_warning(ctx, "%s: %s: %s", sc->cmdname, opt, err);
		return 0;
	}
	conf_error(ctx, "%s: %s: %s", sc->cmdname, opt, err);
	return -1;
}

static int svc_netns_open(struct conf_ctx *ctx, struct svc_conf *sc)
{
	if (netns_open_opt(ctx, sc, "-ni", sc->netns_in, &sc->netns_in_fd))
		return -1;
	return netns_open_opt(ctx, sc, "-ne", sc->netns_out,
			      &sc->netns_out_fd);
}

struct svc_conf *svc_conf_parse(struct conf_ctx *ctx, int argc, char **argv)
{
	const struct proto *p = find_proto(argv[0]);
	struct svc_conf *sc;
	long stack_add = ctx->cur.stacksize;
	long stack;
	int i;

	if (p == NULL) {
		conf_error(ctx, "unknown service '%s'", argv[0]);
		return NULL;
	}
	sc = svc_from_cursor(ctx, p, argv[0]);
	if (sc == NULL) {
		conf_error(ctx, "out of memory");
		return NULL;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (parse_option(ctx, sc, argc, argv, &i, &stack_add) != 0)
			goto bad;
	}
	if (p->positional) {
		if (parse_positional(ctx, sc, argc, argv, i) != 0)
			goto bad;
	} else if (i < argc) {
		conf_error(ctx, "%s: unexpected argument '%s'", sc->cmdname,
			   argv[i]);
		goto bad;
	}
	sc->backlog = ctx->cur.backlog ? ctx->cur.backlog : 1 + sc->maxconn / 8;
	stack = STACK_BASE + stack_add;
	sc->stacksize = (size_t)(stack < STACK_MIN ? STACK_MIN : stack);
	if (svc_netns_open(ctx, sc) != 0)
		goto bad;
	/* ssl_* in force: TLS contexts are built once, here, per service */
	if (tls_svc_from_cursor(ctx, &sc->tls) != 0)
		goto bad;
	/* plugins.md 2.1: the filters defined so far, in their order */
	sc->filters = filter_chain_build(ctx->gen->filters, sc);
	return sc;
bad:
	svc_conf_free(sc);
	return NULL;
}

void svc_conf_free(struct svc_conf *sc)
{
	if (sc == NULL)
		return;
	free(sc->where);
	free(sc->listen_text);
	free(sc->default_host);
	free(sc->target_host);
	free(sc->connback_client);
	free(sc->connback_listen);
	free(sc->nat_ext);
	free(sc->nat_int);
	free(sc->bind_dev_in);
	free(sc->bind_dev_out);
	free(sc->netns_in);
	free(sc->netns_out);
	netns_close(sc->netns_in_fd);
	netns_close(sc->netns_out_fd);
	free(sc->logformat);
	if (sc->log)
		log_sink_unref(sc->log);
	acl_unref(sc->acl);
	auth_conf_free(sc->auth);
	tls_svc_free(sc->tls);
	filter_chain_free(sc->filters);
	free(sc);
}
