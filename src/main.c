/*
 * main.c - command line, start-up, signals, the reload and exit loop.
 *
 * Only this thread handles signals (workers block them all).  Handlers
 * only set flags; the loop below acts on them about ten times a second.
 */
#include "conf.h"
#include "control.h"
#include "filter_pcre.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "plugin.h"
#include "relay_engine.h"
#include "os.h"
#include "service.h"
#include "tls.h"
#include "winservice.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PX_DEFAULT_CONFIG
#ifdef _WIN32
#define PX_DEFAULT_CONFIG "3proxy.cfg"
#else
#define PX_DEFAULT_CONFIG "/usr/local/etc/3proxy/3proxy.cfg"
#endif
#endif

#define LOOP_TICK_MS 100
#define MONITOR_EVERY_MS 1000

static volatile sig_atomic_t want_exit, want_reload, want_pause;

/* What the main thread runs: the current generation and its services. */
struct runtime {
	struct conf_gen *gen;
	struct service *services;
	const char *config_path;   /* argv path; NULL when read from stdin */
	int applied_once;          /* daemon and chroot happen only once */
	int paused;
	int64_t *mon_mtime, *mon_size;
};

static void usage(const char *argv0)
{
	const char *const *o;

	fprintf(stderr,
		"Usage: %s [conffile]\n"
		"       %s --check conffile\n"
		"  With no readable conffile the configuration is read from "
		"standard input\n  (up to a line `end`).\n"
		"available socket options:\n", argv0, argv0);
	for (o = net_sockopt_names(); *o != NULL; o++)
		fprintf(stderr, "\t%s\n", *o);
	fprintf(stderr, "3proxy tiny proxy server 3proxy-%s\n", PX_VERSION);
	fprintf(stderr, "built-in TLS: %s\n",
		tls_built_in() ? "OpenSSL" : "none");
	fprintf(stderr, "built-in PCRE: %s\n",
		pcre_built_in() ? "PCRE2" : "none");
	fprintf(stderr, "ODBC logging: %s\n",
		log_odbc_available() ? "unixODBC" : "none");
}

#ifndef _WIN32
static void on_signal(int sig)
{
	switch (sig) {
	case SIGTERM: case SIGINT:
		want_exit = 1;
		break;
	case SIGUSR1: case SIGHUP:
		want_reload = 1;
		break;
	case SIGCONT:
		want_pause = 1;
		break;
	default:
		break;
	}
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCONT, &sa, NULL);
}
#else
static void install_signals(void)
{
	signal(SIGINT, SIG_DFL);
}
#endif

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "%lu", os_process_id());
	return fclose(f);
}

/* Run one effect; returns 0 or -1 (reported). */
static int apply_effect(struct runtime *rt, const struct conf_effect *e)
{
	struct service *svc;

	switch (e->kind) {
	case EFF_DAEMON:
		return 0;   /* done before anything else, see apply() */
	case EFF_PIDFILE:
		if (write_pidfile(e->arg) != 0) {
			log_diag("%s: cannot write pid file %s: %s", e->where,
				 e->arg, strerror(errno));
			return -1;
		}
		return 0;
	case EFF_SYSTEM:
		if (os_run_shell(e->arg) != 0)
			log_diag("%s: failed to start %s", e->where, e->arg);
		return 0;
	case EFF_CHROOT:
		/* The root itself changed while the config ran. */
		if ((e->gid > 0 && os_set_gid(e->gid) != 0) ||
		    (e->uid > 0 && os_set_uid(e->uid) != 0)) {
			log_diag("%s: cannot change ids: %s", e->where,
				 strerror(errno));
			return -1;
		}
		return 0;
	case EFF_SETGID:
		if (os_set_gid(e->gid) != 0) {
			log_diag("%s: setgid(%ld): %s", e->where, e->gid,
				 strerror(errno));
			return -1;
		}
		return 0;
	case EFF_SETUID:
		if (os_set_uid(e->uid) != 0) {
			log_diag("%s: setuid(%ld): %s", e->where, e->uid,
				 strerror(errno));
			return -1;
		}
		return 0;
	case EFF_SERVICE:
		svc = service_start(e->svc, rt->gen);
		if (svc == NULL) {
			log_diag("%s: cannot start %s", e->where,
				 e->svc->cmdname);
			return -1;
		}
		svc->next = rt->services;
		rt->services = svc;
		return 0;
	}
	return 0;
}

static void stop_services(struct runtime *rt)
{
	struct service *s;

	/* all listeners wind down in parallel: a reload waits for one
	 * accept poll interval, not one per service */
	for (s = rt->services; s != NULL; s = s->next)
		service_request_stop(s);
	while (rt->services != NULL) {
		struct service *svc = rt->services;

		rt->services = svc->next;
		service_stop(svc);
	}
}

static void monitor_snapshot(struct runtime *rt)
{
	const struct conf_gen *g = rt->gen;
	int i;

	free(rt->mon_mtime);
	free(rt->mon_size);
	rt->mon_mtime = calloc((size_t)g->nmonitors + 1, sizeof(int64_t));
	rt->mon_size = calloc((size_t)g->nmonitors + 1, sizeof(int64_t));
	if (rt->mon_mtime == NULL || rt->mon_size == NULL)
		return;
	for (i = 0; i < g->nmonitors; i++)
		os_file_stat(g->monitors[i], &rt->mon_mtime[i],
			     &rt->mon_size[i]);
}

/* Put a generation in force: process changes and services, in config
 * order.  `daemon` is hoisted first: a fork keeps only the calling
 * thread, so it must happen before any listener starts. */
static int apply(struct runtime *rt, struct conf_gen *g)
{
	int i;

	rt->gen = g;
	os_poll_spin_set(g->pollspin >= 0 ? g->pollspin : OS_POLL_SPIN_DEFAULT);
	relay_engine_set_threads(g->relaythreads);
	if (!rt->applied_once) {
		for (i = 0; i < g->neffects; i++) {
			if (g->effects[i].kind == EFF_DAEMON) {
				if (os_daemonize() != 0)
					log_diag("daemon: %s", strerror(errno));
				break;
			}
		}
	}
	for (i = 0; i < g->neffects; i++)
		if (apply_effect(rt, &g->effects[i]) != 0)
			return -1;
	rt->applied_once = 1;
	monitor_snapshot(rt);
	return 0;
}

static const char *reload_path(const struct runtime *rt)
{
	if (rt->gen != NULL && rt->gen->config_path != NULL)
		return conf_path_in_root(rt->gen->config_path);
	return conf_path_in_root(rt->config_path);
}

/* Build the new generation first; only a complete one replaces the
 * running one.  Open connections keep their own generation. */
static void reload(struct runtime *rt)
{
	const char *path = reload_path(rt);
	struct conf_gen *ng;
	int nerr = 0, applied;

	if (path == NULL) {
		log_diag("reload: the configuration was read from standard "
			 "input and cannot be read again");
		return;
	}
	ng = conf_load_file(path, CONF_RUN, stderr, &nerr);
	if (ng == NULL) {
		log_diag("reload: %s has errors; the running configuration "
			 "stays in force", path);
		metrics_note_reload(0);
		return;
	}
	stop_services(rt);
	conf_gen_unref(rt->gen);
	rt->gen = NULL;
	/* F-PROC-10: open connections of `force` services see the new
	 * number and check their authorization again */
	conf_gen_publish(ng);
	applied = apply(rt, ng) == 0;
	if (!applied)
		log_diag("reload: %s could not be applied completely", path);
	metrics_note_reload(applied);
	rt->paused = 0;
}

static int monitors_changed(struct runtime *rt)
{
	const struct conf_gen *g = rt->gen;
	int64_t mt, sz;
	int i;

	if (rt->mon_mtime == NULL)
		return 0;
	for (i = 0; i < g->nmonitors; i++) {
		if (os_file_stat(g->monitors[i], &mt, &sz) != 0)
			continue;
		if (mt != rt->mon_mtime[i] || sz != rt->mon_size[i])
			return 1;
	}
	return 0;
}

static void main_loop(struct runtime *rt)
{
	uint64_t last_monitor = os_monotonic_ms();

	while (!want_exit) {
		os_sleep_ms(LOOP_TICK_MS);
		if (want_pause) {
			/* SIGCONT: the 1st pauses (listeners close, open
			 * connections go on), the 2nd reloads. */
			want_pause = 0;
			if (!rt->paused) {
				stop_services(rt);
				rt->paused = 1;
			} else {
				want_reload = 1;
			}
		}
		/* SIGUSR1, or the admin /R page (control.c) */
		if (want_reload || control_take_reload()) {
			want_reload = 0;
			reload(rt);
		}
		limit_tick(rt->gen, time(NULL));
		plugin_tick(rt->gen, time(NULL));
		if (rt->gen != NULL)   /* rotation, even when idle */
			log_sink_tick(rt->gen->log, rt->gen->rotate,
				      rt->gen->archiver);
		if (os_monotonic_ms() - last_monitor >= MONITOR_EVERY_MS) {
			last_monitor = os_monotonic_ms();
			if (monitors_changed(rt))
				reload(rt);
		}
	}
}

static int run_check(const char *path)
{
	struct conf_gen *g;
	int nerr = 0;

	g = conf_load_file(path, CONF_CHECK, stderr, &nerr);
	conf_gen_unref(g);
	conf_cmds_cleanup();
	if (nerr != 0) {
		fprintf(stderr, "%s: %d error%s\n", path, nerr,
			nerr == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* Open the config the way 3proxy does: an unreadable file means the
 * configuration comes from standard input. */
static const char *pick_source(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		fclose(f);
		return path;
	}
#ifdef _WIN32
	/* A service has no standard input to fall back to. */
	return path;
#endif
	log_diag("cannot open %s (%s): reading the configuration from "
		 "standard input", path, strerror(errno));
	return NULL;
}

static const char *run_path;

/* Start, serve until asked to exit, stop.  Returns the exit status. */
static int run_daemon(void)
{
	struct runtime rt;
	struct conf_gen *g;
	int nerr = 0;

	memset(&rt, 0, sizeof(rt));
	rt.config_path = pick_source(run_path);
	metrics_note_start();
	install_signals();
	g = conf_load_file(rt.config_path, CONF_RUN, stderr, &nerr);
	if (g == NULL) {
		/* 3proxy exits 0 here; a failed start must not look fine
		 * to systemd or a script. */
		conf_cmds_cleanup();
		return 1;
	}
	conf_gen_publish(g);
	if (apply(&rt, g) != 0) {
		stop_services(&rt);
		conf_gen_publish(NULL);
		conf_gen_unref(rt.gen);
		conf_cmds_cleanup();
		return 1;
	}
	main_loop(&rt);
	stop_services(&rt);
	os_thread_pool_close();
	plugin_exit(rt.gen);
	limit_shutdown(rt.gen);
	conf_gen_publish(NULL);
	conf_gen_unref(rt.gen);
	free(rt.mon_mtime);
	free(rt.mon_size);
	conf_cmds_cleanup();
	conf_set_chroot_dir(NULL);
	return 0;
}

#ifdef _WIN32
static void svc_stop(void) { want_exit = 1; }
static void svc_pause(void) { want_pause = 1; }
static void svc_resume(void) { want_pause = 1; }

/* --install [cfg], --remove, and "cfg --service" from the SCM. */
static int windows_args(int argc, char **argv, int *rc)
{
	static const struct winsvc_hooks hooks = {
		svc_stop, svc_pause, svc_resume
	};

	if (argc >= 2 && strcmp(argv[1], "--install") == 0 && argc <= 3) {
		*rc = winsvc_install(argc == 3 ? argv[2] : PX_DEFAULT_CONFIG)
			? 1 : 0;
		return 1;
	}
	if (argc == 2 && strcmp(argv[1], "--remove") == 0) {
		*rc = winsvc_remove() ? 1 : 0;
		return 1;
	}
	if (argc == 3 && strcmp(argv[2], "--service") == 0) {
		run_path = argv[1];
		*rc = winsvc_dispatch(&hooks, run_daemon);
		return 1;
	}
	return 0;
}
#endif

int main(int argc, char **argv)
{
	os_init();
	if (argc == 3 && strcmp(argv[1], "--check") == 0)
		return run_check(argv[2]);
#ifdef _WIN32
	{
		int rc;

		if (windows_args(argc, argv, &rc))
			return rc;
	}
#endif
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(argv[0]);
		return 1;
	}
	run_path = argc == 2 ? argv[1] : PX_DEFAULT_CONFIG;
	return run_daemon();
}
