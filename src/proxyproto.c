/*
 * proxyproto.c - parse a PROXY protocol v1 header line (pure).
 */
#include "proxyproto.h"
#include "conf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_addr(const char *s, const char *family, struct net_addr *a)
{
	if (net_parse_ip(s, a) != 0)
		return -1;
	if (strcmp(family, "TCP4") == 0 && net_family(a) != AF_INET)
		return -1;
	if (strcmp(family, "TCP6") == 0 && net_family(a) != AF_INET6)
		return -1;
	return 0;
}

static int parse_port16(const char *s, uint16_t *out)
{
	long v;

	if (conf_parse_long(s, 0, 65535, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int proxyproto_parse(const char *line, size_t len, struct net_addr *src,
		     struct net_addr *dst)
{
	char buf[PROXYPROTO_MAXLINE];
	char *f[6], *save = NULL, *tok;
	uint16_t sport, dport;
	int n = 0;

	if (len <= 12 || strncasecmp(line, "PROXY TCP", 9) != 0)
		return 0;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (tok = strtok_r(buf, " \r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \r\n", &save)) {
		if (n == 6)
			return -1;   /* extra field */
		f[n++] = tok;
	}
	if (n != 6)
		return -1;
	if (strcasecmp(f[1], "TCP4") == 0)
		f[1] = "TCP4";
	else if (strcasecmp(f[1], "TCP6") == 0)
		f[1] = "TCP6";
	else
		return -1;
	if (parse_addr(f[2], f[1], src) != 0 || parse_addr(f[3], f[1], dst) ||
	    parse_port16(f[4], &sport) != 0 || parse_port16(f[5], &dport))
		return -1;
	net_set_port(src, sport);
	net_set_port(dst, dport);
	return 1;
}
