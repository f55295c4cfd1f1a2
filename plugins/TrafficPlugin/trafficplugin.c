/*
 * TrafficPlugin - correct the byte counts of access records before they
 * are logged and charged to counters (plugins.md 5.2, F-PLUG-04):
 *
 *     plugin /usr/local/lib/3proxy/TrafficPlugin.ld.so start [debug]
 *     trafcorrect m socks5 6667 1.1
 *     trafcorrect p * tcp 80
 *
 * Each config run that loads the plugin gets a fresh rule set: `start`
 * creates it and registers it with the run's traffic hook, and the
 * `trafcorrect` lines that follow fill it.  Connections keep the set of
 * their own run; the daemon releases it after the run's last
 * connection, so the hook reads it without a lock.
 */
#include "plugin_api.h"
#include "trafrule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct px_api *api;
/* The set of the run being read (main thread).  Valid only while
 * api->conf_run() == current_run: the daemon may free an older set on
 * any thread once its connections are gone. */
static struct traf_set *current;
static unsigned current_run;

static void traf_hook(void *arg, struct px_traffic *t)
{
	const struct traf_set *s = arg;
	uint64_t in = t->in, out = t->out;
	char desc[80];
	int i = traf_apply(s, t);

	if (!s->debug)
		return;
	/* one call per line: lines of many threads do not mix */
	if (i < 0) {
		printf("trafcorrect: %s port %u %s: no rule\n",
		       t->service ? t->service : "?", t->target_port,
		       t->udp ? "udp" : "tcp");
	} else {
		traf_describe(&s->rules[i], desc, sizeof(desc));
		printf("trafcorrect: %s port %u %s: rule %d (%s): "
		       "in %llu -> %llu, out %llu -> %llu\n",
		       t->service ? t->service : "?", t->target_port,
		       t->udp ? "udp" : "tcp", i + 1, desc,
		       (unsigned long long)in, (unsigned long long)t->in,
		       (unsigned long long)out, (unsigned long long)t->out);
	}
	fflush(stdout);
}

static void traf_release(void *arg)
{
	free(arg);
}

static int cmd_trafcorrect(struct px_conf *conf, int argc, char **argv)
{
	struct traf_rule r;
	const char *why = NULL;
	char msg[160];
	int unknown;

	if (traf_parse(argc, argv, &r, &unknown, &why) != 0) {
		snprintf(msg, sizeof(msg), "trafcorrect: %s", why);
		api->conf_error(conf, msg);
		return 1;
	}
	if (unknown) {
		snprintf(msg, sizeof(msg), "trafcorrect: unknown service "
			 "'%.40s' matches every service", argv[2]);
		api->conf_warning(conf, msg);
	}
	if (current == NULL || current_run != api->conf_run()) {
		api->conf_error(conf, "trafcorrect: the TrafficPlugin line "
				"must come first");
		return 1;
	}
	if (current->n >= TRAF_RULES_MAX) {
		api->conf_error(conf, "trafcorrect: too many rules");
		return 1;
	}
	current->rules[current->n++] = r;
	return 0;
}

PX_PLUGIN_EXPORT int start(const struct px_api *a, int argc, char **argv)
{
	static int registered;
	struct traf_set *s;

	if (a == NULL || a->version < 1 || !PX_API_HAS(a, conf_run))
		return 1;
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "debug") != 0)) {
		a->diag("TrafficPlugin: usage: plugin TrafficPlugin.ld.so "
			"start [debug]");
		return 2;
	}
	api = a;
	/* Commands live for the process; register once. */
	if (!registered) {
		if (a->register_command("trafcorrect", 5, 6,
					cmd_trafcorrect) != 0)
			return 3;
		registered = 1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return 4;
	s->debug = argc == 2;
	if (a->register_traffic(traf_hook, s, traf_release) != 0) {
		free(s);
		return 5;
	}
	/* Loading the plugin again in the same run starts a new set. */
	current = s;
	current_run = a->conf_run();
	return 0;
}
