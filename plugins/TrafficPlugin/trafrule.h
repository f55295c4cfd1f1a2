/*
 * trafrule.h - the rules of `trafcorrect` (plugins.md 5.2, F-PLUG-04):
 * parsing, matching and applying them to one record's traffic.  Pure:
 * no I/O, no globals; the plugin keeps one rule set per config run.
 */
#ifndef TRAFRULE_H
#define TRAFRULE_H

#include <stddef.h>
#include "plugin_api.h"

#define TRAF_RULES_MAX 1024

enum traf_kind { TRAF_MULTIPLY, TRAF_PACKET };

struct traf_rule {
	enum traf_kind kind;
	char service[8];       /* %N value to match; "" = any */
	int udp;               /* TRAF_PACKET: 1 udp, 0 tcp */
	unsigned port;         /* target port; 0 = any */
	double coeff;          /* TRAF_MULTIPLY: 0 < coeff < 100 */
	unsigned psize;        /* TRAF_PACKET: bytes per packet */
};

struct traf_set {
	struct traf_rule rules[TRAF_RULES_MAX];
	int n;
	int debug;             /* print decisions to stdout */
};

/* Parse `trafcorrect m SERVICE PORT COEFF` or `trafcorrect p SERVICE
 * tcp|udp PORT [SIZE]` (argv[0] is the command word).  Returns 0, or -1
 * with a reason in why.  *unknown_svc is set when SERVICE is not a known
 * service name (it then matches any service, as in 3proxy). */
int traf_parse(int argc, char **argv, struct traf_rule *r, int *unknown_svc,
	       const char **why);

/* Whether rule r applies to t. */
int traf_match(const struct traf_rule *r, const struct px_traffic *t);

/* Apply the first rule of s that matches t; returns its index or -1. */
int traf_apply(const struct traf_set *s, struct px_traffic *t);

/* "m PROXY 80 x1.5" style description of r, for debug lines. */
void traf_describe(const struct traf_rule *r, char *out, size_t len);

#endif
