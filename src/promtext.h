/*
 * promtext.h - the Prometheus text exposition format (version 0.0.4)
 * as a pure writer into an admin_buf: no sockets, no locks.
 *
 * A family is announced once (# HELP, # TYPE), then its samples follow,
 * each "name{label="value",...} number".  Label values are escaped as
 * the format requires (backslash, double quote, line feed); HELP texts
 * escape backslash and line feed.
 */
#ifndef PX_PROMTEXT_H
#define PX_PROMTEXT_H

#include <stdint.h>
#include "admin_pages.h"

#define PROMTEXT_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* One label; a NULL value prints as "". */
struct prom_label {
	const char *name;
	const char *value;
};

/* "# HELP name help\n# TYPE name type\n"; type: "counter", "gauge". */
void prom_family(struct admin_buf *b, const char *name, const char *type,
		 const char *help);
/* name{labels} value\n for an unsigned value. */
void prom_sample(struct admin_buf *b, const char *name,
		 const struct prom_label *labels, int nlabels, uint64_t value);
/* The same for a signed value (gauges that may read below zero while a
 * connection is being counted on another thread). */
void prom_sample_int(struct admin_buf *b, const char *name,
		     const struct prom_label *labels, int nlabels,
		     int64_t value);
/* Append s with \ " and line feed escaped as in a label value. */
void prom_escape_label(struct admin_buf *b, const char *s);

#endif
