/*
 * metrics.h - numbers for the admin /metrics page (Prometheus text), an
 * addition beyond the original 3proxy.
 *
 * Per service: a process-wide table of entries keyed by the service
 * name (%N of the protocol, e.g. "PROXY") and the listening address
 * text ("127.0.0.1:3128").  A service line attaches to the entry of its
 * key when it starts (service.c), so a reload that keeps a line with
 * the same name and address keeps counting on; a line that is gone
 * stops being listed, and its numbers continue if it comes back.
 * Entries are never freed while the process runs (one per distinct
 * name+address ever configured).
 *
 * Locking: the data path (client.c) does one atomic operation per
 * value and takes no lock.  The table's membership is guarded by a
 * mutex in metrics.c, taken only when a service starts or stops and
 * while /metrics is rendered.
 */
#ifndef PX_METRICS_H
#define PX_METRICS_H

#include <stdint.h>

struct svc_conf;
struct conf_gen;
struct admin_buf;
struct metrics_svc;

/* service.c: the entry for a starting service (created on first use;
 * NULL when out of memory: the service then is not measured) and its
 * release when the service stops. */
struct metrics_svc *metrics_service_attach(const struct svc_conf *sc);
void metrics_service_detach(struct metrics_svc *m);

/* client.c, one atomic operation per value; m may be NULL. */
void metrics_conn_open(struct metrics_svc *m);
void metrics_conn_bytes(struct metrics_svc *m, uint64_t in, uint64_t out);
/* err: the connection's final code; 0 counts as "ok", else "error". */
void metrics_conn_close(struct metrics_svc *m, int err);

/* main.c: process start and each reload attempt (ok = applied). */
void metrics_note_start(void);
void metrics_note_reload(int ok);

/* Append the whole /metrics document; counters of gen (may be NULL). */
void metrics_render(struct admin_buf *b, const struct conf_gen *gen);

#endif
