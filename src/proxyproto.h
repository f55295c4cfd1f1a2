/*
 * proxyproto.h - the HAProxy PROXY protocol v1 header accepted with -H.
 */
#ifndef PX_PROXYPROTO_H
#define PX_PROXYPROTO_H

#include <stddef.h>
#include "net.h"

#define PROXYPROTO_MAXLINE 128   /* 3proxy reads at most 127 bytes */

/* Parse one header line ("PROXY TCP4 src dst sport dport\r\n").
 * Returns 1 and fills src/dst when the line carries addresses, 0 for a
 * line to ignore (PROXY UNKNOWN, anything else: consumed, as 3proxy
 * does), -1 for a PROXY TCP line whose fields are malformed.  A zero
 * port leaves the port of that address 0 (the caller keeps its own). */
int proxyproto_parse(const char *line, size_t len, struct net_addr *src,
		     struct net_addr *dst);

#endif
