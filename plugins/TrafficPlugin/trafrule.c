/*
 * trafrule.c - parsing and applying `trafcorrect` rules (trafrule.h).
 *
 * Two fixes over the reference plugin (doc/compat.md): a rule matches
 * only when its own service, port and (for `p`) transport match, where
 * the reference accepted every TCP rule for every connection; and the
 * service of a `p` rule is parsed like that of an `m` rule, where the
 * reference inverted the test.
 */
#include "trafrule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAF_TCP_PACKET 52     /* default overhead per TCP packet */
#define TRAF_UDP_PACKET 48     /* default overhead per datagram */

/* Config names of services and the %N they log under. */
static const struct {
	const char *name;
	const char *logname;
} traf_services[] = {
	{ "proxy", "PROXY" }, { "socks4", "SOCK4" }, { "socks45", "SOC45" },
	{ "socks5", "SOCK5" }, { "tcppm", "TCPPM" }, { "udppm", "UDPPM" },
	{ "admin", "ADMIN" }, { "pop3p", "POP3P" }, { "smtpp", "SMTPP" },
	{ "imapp", "IMAPP" }, { "ftppr", "FTPPR" }, { "tlspr", "TLSPR" },
	{ "dnspr", "DNSPR" },
};

/* Fills r->service; returns 1 if name is unknown (then: any). */
static int traf_parse_service(const char *name, struct traf_rule *r)
{
	size_t i;

	r->service[0] = '\0';
	if (strcmp(name, "*") == 0)
		return 0;
	for (i = 0; i < sizeof(traf_services) / sizeof(traf_services[0]); i++)
		if (strcmp(name, traf_services[i].name) == 0) {
			snprintf(r->service, sizeof(r->service), "%s",
				 traf_services[i].logname);
			return 0;
		}
	return 1;
}

/* A whole decimal number in [lo, hi]. */
static int traf_parse_uint(const char *s, unsigned long lo, unsigned long hi,
			   unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int traf_parse_port(const char *s, unsigned *port)
{
	if (strcmp(s, "*") == 0) {
		*port = 0;
		return 0;
	}
	return traf_parse_uint(s, 0, 65535, port);
}

static int traf_parse_m(int argc, char **argv, struct traf_rule *r,
			const char **why)
{
	char *end;

	if (argc != 5) {
		*why = "usage: trafcorrect m SERVICE PORT COEFFICIENT";
		return -1;
	}
	if (traf_parse_port(argv[3], &r->port) != 0) {
		*why = "bad target port";
		return -1;
	}
	errno = 0;
	r->coeff = strtod(argv[4], &end);
	if (errno != 0 || end == argv[4] || *end != '\0' ||
	    !(r->coeff > 0 && r->coeff < 100)) {
		*why = "the coefficient must be a number above 0 and below 100";
		return -1;
	}
	return 0;
}

static int traf_parse_p(int argc, char **argv, struct traf_rule *r,
			const char **why)
{
	if (argc != 5 && argc != 6) {
		*why = "usage: trafcorrect p SERVICE tcp|udp PORT [PACKETSIZE]";
		return -1;
	}
	if (strcmp(argv[3], "tcp") == 0)
		r->udp = 0;
	else if (strcmp(argv[3], "udp") == 0)
		r->udp = 1;
	else {
		*why = "the transport must be tcp or udp";
		return -1;
	}
	if (traf_parse_port(argv[4], &r->port) != 0) {
		*why = "bad target port";
		return -1;
	}
	r->psize = r->udp ? TRAF_UDP_PACKET : TRAF_TCP_PACKET;
	if (argc == 6 && traf_parse_uint(argv[5], 0, 65535, &r->psize) != 0) {
		*why = "the packet size must be a number from 0 to 65535";
		return -1;
	}
	return 0;
}

int traf_parse(int argc, char **argv, struct traf_rule *r, int *unknown_svc,
	       const char **why)
{
	memset(r, 0, sizeof(*r));
	*unknown_svc = 0;
	if (argc < 2 || (strcmp(argv[1], "m") != 0 &&
			 strcmp(argv[1], "p") != 0)) {
		*why = "the rule type must be m (multiply) or p (packets)";
		return -1;
	}
	if (argc < 3) {
		*why = "missing service";
		return -1;
	}
	*unknown_svc = traf_parse_service(argv[2], r);
	if (argv[1][0] == 'm') {
		r->kind = TRAF_MULTIPLY;
		return traf_parse_m(argc, argv, r, why);
	}
	r->kind = TRAF_PACKET;
	return traf_parse_p(argc, argv, r, why);
}

int traf_match(const struct traf_rule *r, const struct px_traffic *t)
{
	if (r->service[0] != '\0' &&
	    (t->service == NULL || strcmp(r->service, t->service) != 0))
		return 0;
	if (r->port != 0 && r->port != t->target_port)
		return 0;
	if (r->kind == TRAF_PACKET && r->udp != (t->udp != 0))
		return 0;
	return 1;
}

/* v * c, rounded down, without overflow past UINT64_MAX. */
static uint64_t traf_scale(uint64_t v, double c)
{
	double d = (double)v * c;

	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

static uint64_t traf_add(uint64_t a, uint64_t packets, unsigned size)
{
	uint64_t extra;

	if (size != 0 && packets > UINT64_MAX / size)
		return UINT64_MAX;
	extra = packets * size;
	return a > UINT64_MAX - extra ? UINT64_MAX : a + extra;
}

int traf_apply(const struct traf_set *s, struct px_traffic *t)
{
	const struct traf_rule *r;
	int i;

	for (i = 0; i < s->n; i++)
		if (traf_match(&s->rules[i], t))
			break;
	if (i == s->n)
		return -1;
	r = &s->rules[i];
	if (r->kind == TRAF_MULTIPLY) {
		t->in = traf_scale(t->in, r->coeff);
		t->out = traf_scale(t->out, r->coeff);
	} else if (r->udp) {
		t->in = traf_add(t->in, t->reads, r->psize);
		t->out = traf_add(t->out, t->writes, r->psize);
	} else {
		/* a TCP connection's handshake and close: 3 packets each
		 * way, as the reference counts them */
		t->in = traf_add(t->in, t->reads + 3 * t->connects, r->psize);
		t->out = traf_add(t->out, t->writes + 3 * t->connects,
				  r->psize);
	}
	return i;
}

void traf_describe(const struct traf_rule *r, char *out, size_t len)
{
	const char *svc = r->service[0] ? r->service : "*";

	if (r->kind == TRAF_MULTIPLY)
		snprintf(out, len, "m %s %u x%g", svc, r->port, r->coeff);
	else
		snprintf(out, len, "p %s %s %u +%u", svc,
			 r->udp ? "udp" : "tcp", r->port, r->psize);
}
