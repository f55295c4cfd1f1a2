/*
 * metrics.c - the numbers behind the admin /metrics page (metrics.h)
 * and its rendering in the Prometheus text format (promtext.h).
 *
 * Owns the per-service table and the process-wide numbers (start time,
 * reloads).  The traffic counters' values are read through
 * counter_foreach (counter.c's lock), not copied here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "metrics.h"
#include "net.h"
#include "os.h"
#include "promtext.h"
#include "relay_engine.h"
#include "service.h"

#define MX "threeproxy_"

struct metrics_svc {
	char *service;              /* %N of the protocol */
	char *listen;               /* "addr:port" */
	int running;                /* atomic: services attached */
	int active;                 /* atomic: clients being served */
	int64_t accepted;           /* atomic, like the rest */
	int64_t ok, failed;
	int64_t bytes_in, bytes_out;
	struct metrics_svc *next;   /* under table_lock */
};

/* Membership of the table (never the values). */
static os_mutex_t table_lock = OS_MUTEX_INIT;
static struct metrics_svc *table;
static time_t start_time;          /* set before any thread runs */
static int64_t reloads_ok, reloads_failed;   /* atomic */

/* "127.0.0.1:3128", "[::1]:3128", or a Unix socket's name. */
static void listen_text(const struct net_addr *a, char *out, size_t len)
{
	char ip[128];

	ip[0] = '\0';
	net_addr_str(a, ip, sizeof(ip));
	ip[sizeof(ip) - 1] = '\0';
	if (net_family(a) == AF_UNIX)
		snprintf(out, len, "%s", ip);
	else
		snprintf(out, len, net_family(a) == AF_INET6 ? "[%s]:%u" :
			 "%s:%u", ip, (unsigned)net_get_port(a));
}

struct metrics_svc *metrics_service_attach(const struct svc_conf *sc)
{
	const char *name = sc->proto->logname;
	char listen[160];
	struct metrics_svc *m;

	listen_text(&sc->listen, listen, sizeof(listen));
	os_mutex_lock(&table_lock);
	for (m = table; m != NULL; m = m->next)
		if (strcmp(m->service, name) == 0 &&
		    strcmp(m->listen, listen) == 0)
			break;
	if (m == NULL && (m = calloc(1, sizeof(*m))) != NULL) {
		m->service = strdup(name);
		m->listen = strdup(listen);
		if (m->service == NULL || m->listen == NULL) {
			free(m->service);
			free(m->listen);
			free(m);
			m = NULL;
		} else {
			m->next = table;
			table = m;
		}
	}
	if (m != NULL)
		os_atomic_inc(&m->running);
	os_mutex_unlock(&table_lock);
	return m;
}

void metrics_service_detach(struct metrics_svc *m)
{
	if (m != NULL)
		os_atomic_dec(&m->running);
}

void metrics_conn_open(struct metrics_svc *m)
{
	if (m == NULL)
		return;
	os_atomic_add64(&m->accepted, 1);
	os_atomic_inc(&m->active);
}

void metrics_conn_bytes(struct metrics_svc *m, uint64_t in, uint64_t out)
{
	if (m == NULL)
		return;
	if (in != 0)
		os_atomic_add64(&m->bytes_in, (int64_t)in);
	if (out != 0)
		os_atomic_add64(&m->bytes_out, (int64_t)out);
}

void metrics_conn_close(struct metrics_svc *m, int err)
{
	if (m == NULL)
		return;
	os_atomic_dec(&m->active);
	os_atomic_add64(err == 0 ? &m->ok : &m->failed, 1);
}

void metrics_note_start(void)
{
	start_time = time(NULL);
}

void metrics_note_reload(int ok)
{
	os_atomic_add64(ok ? &reloads_ok : &reloads_failed, 1);
}

/* ---- rendering --------------------------------------------------------- */

/* One per-service family.  Listed: entries a running service uses, or
 * that still have clients of a service line now gone. */
enum svc_value { SV_ACCEPTED, SV_ACTIVE, SV_FINISHED, SV_IN, SV_OUT };

static const struct {
	const char *name, *type, *help;
} svc_families[] = {
	{ MX "service_connections_total", "counter",
	  "Client connections accepted by the service." },
	{ MX "service_connections_active", "gauge",
	  "Client connections being served now." },
	{ MX "service_connections_finished_total", "counter",
	  "Client connections finished, by result (ok: code 0)." },
	{ MX "service_bytes_in_total", "counter",
	  "Bytes received from servers (%I)." },
	{ MX "service_bytes_out_total", "counter",
	  "Bytes received from clients (%O)." },
};

static void render_entry(struct admin_buf *b, int fam,
			 const struct metrics_svc *m)
{
	struct prom_label l[3] = {
		{ "service", m->service }, { "listen", m->listen },
		{ "result", "ok" }
	};
	const char *name = svc_families[fam].name;

	switch (fam) {
	case SV_ACCEPTED:
		prom_sample(b, name, l, 2,
			    (uint64_t)os_atomic_load64(&m->accepted));
		break;
	case SV_ACTIVE:
		prom_sample_int(b, name, l, 2, os_atomic_load(&m->active));
		break;
	case SV_FINISHED:
		prom_sample(b, name, l, 3, (uint64_t)os_atomic_load64(&m->ok));
		l[2].value = "error";
		prom_sample(b, name, l, 3,
			    (uint64_t)os_atomic_load64(&m->failed));
		break;
	case SV_IN:
		prom_sample(b, name, l, 2,
			    (uint64_t)os_atomic_load64(&m->bytes_in));
		break;
	default:
		prom_sample(b, name, l, 2,
			    (uint64_t)os_atomic_load64(&m->bytes_out));
		break;
	}
}

static void render_services(struct admin_buf *b)
{
	const struct metrics_svc *m;
	int fam;

	for (fam = 0; fam < (int)(sizeof(svc_families) /
				  sizeof(svc_families[0])); fam++) {
		prom_family(b, svc_families[fam].name, svc_families[fam].type,
			    svc_families[fam].help);
		/* table entries are never freed: only the walk is locked */
		os_mutex_lock(&table_lock);
		for (m = table; m != NULL; m = m->next)
			if (os_atomic_load(&m->running) > 0 ||
			    os_atomic_load(&m->active) > 0)
				render_entry(b, fam, m);
		os_mutex_unlock(&table_lock);
	}
}

/* Traffic counters (count* rules; nocount* have no value). */
struct counter_walk {
	struct admin_buf *b;
	int limits;                 /* second pass: the limits */
};

static int counter_sample(void *arg, const struct counter_info *ci)
{
	struct counter_walk *w = arg;
	char pos[24], num[24];
	struct prom_label l[4] = {
		{ "position", pos }, { "number", num },
		{ "rule", ci->action }, { "comment", ci->comment }
	};

	if (ci->exclusion)
		return 0;
	snprintf(pos, sizeof(pos), "%lu", (unsigned long)ci->position);
	snprintf(num, sizeof(num), "%d", ci->number);
	prom_sample(w->b, w->limits ? MX "counter_limit_bytes" :
		    MX "counter_bytes", l, 4, w->limits ? ci->limit :
		    ci->bytes);
	return w->b->failed ? -1 : 0;
}

static void render_counters(struct admin_buf *b, const struct conf_gen *gen)
{
	struct counter_walk w;

	w.b = b;
	w.limits = 0;
	prom_family(b, MX "counter_bytes", "gauge",
		    "Value of a traffic counter rule (countin, countout, "
		    "countall); it drops at the rule's reset.");
	if (gen != NULL)
		counter_foreach(gen, counter_sample, &w);
	w.limits = 1;
	prom_family(b, MX "counter_limit_bytes", "gauge",
		    "Limit of a traffic counter rule in bytes.");
	if (gen != NULL)
		counter_foreach(gen, counter_sample, &w);
}

void metrics_render(struct admin_buf *b, const struct conf_gen *gen)
{
	struct prom_label res = { "result", "ok" };

	prom_family(b, MX "start_time_seconds", "gauge",
		    "Start time of the process, Unix seconds.");
	prom_sample(b, MX "start_time_seconds", NULL, 0,
		    (uint64_t)start_time);
	prom_family(b, MX "config_reloads_total", "counter",
		    "Configuration reloads, by result (error: the old "
		    "configuration stayed in force or was applied in part).");
	prom_sample(b, MX "config_reloads_total", &res, 1,
		    (uint64_t)os_atomic_load64(&reloads_ok));
	res.value = "error";
	prom_sample(b, MX "config_reloads_total", &res, 1,
		    (uint64_t)os_atomic_load64(&reloads_failed));
	prom_family(b, MX "relay_loop_tunnels", "gauge",
		    "Established tunnels the event-loop threads carry now "
		    "(relaythreads).");
	prom_sample(b, MX "relay_loop_tunnels", NULL, 0,
		    (uint64_t)relay_engine_active());
	render_services(b);
	render_counters(b, gen);
}
