/*
 * origdst.c - where a redirected client meant to connect (see origdst.h).
 *
 * Linux: netfilter keeps the original destination of a NAT-redirected
 * connection (iptables REDIRECT / DNAT) for SO_ORIGINAL_DST (IPv4) and
 * IP6T_SO_ORIGINAL_DST (IPv6).  With conntrack loaded every connection
 * has one, equal to the local address when nothing was rewritten; that
 * case counts as "no original destination".
 * Other systems: the redirecting rules (ipfw fwd, pf divert-to) keep the
 * original destination as the socket's local address.
 */
#include "origdst.h"

#include <string.h>

#ifdef __linux__
/* <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>;
 * the values are kernel ABI, spelt here so that no kernel header has to
 * be mixed with the libc ones. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#endif

#ifdef _WIN32
typedef SOCKET od_sock;
typedef int od_len;
#else
typedef int od_sock;
typedef socklen_t od_len;
#endif

/* The IPv4 address and port of a (or of its IPv4-mapped IPv6 form);
 * 0 when it has none. */
static int as_v4(const struct sockaddr *a, uint8_t ip[4], uint16_t *port)
{
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;

		memcpy(ip, &s->sin_addr, 4);
		*port = s->sin_port;
		return 1;
	}
	if (a->sa_family == AF_INET6) {
		static const uint8_t mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
		};
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
		const uint8_t *b = (const uint8_t *)&s->sin6_addr;

		if (memcmp(b, mapped, sizeof(mapped)) != 0)
			return 0;
		memcpy(ip, b + 12, 4);
		*port = s->sin6_port;
		return 1;
	}
	return 0;
}

int origdst_same(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t ia[4], ib[4];
	uint16_t pa, pb;

	if (as_v4(a, ia, &pa) && as_v4(b, ib, &pb))
		return pa == pb && memcmp(ia, ib, 4) == 0;
	if (a->sa_family == AF_INET6 && b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
			      sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

static int local_addr(od_sock s, struct sockaddr_storage *ss, od_len *len)
{
	*len = (od_len)sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	if (getsockname(s, (struct sockaddr *)ss, len) != 0)
		return -1;
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6 ? 0
								      : -1;
}

#ifdef __linux__
/* The netfilter lookup: IPv6 first for an IPv6 socket, then IPv4 (an
 * IPv4 client of a dual-stack listener). */
static int netfilter_dst(od_sock s, int family, struct sockaddr_storage *ss,
			 od_len *len)
{
	memset(ss, 0, sizeof(*ss));
	*len = (od_len)sizeof(struct sockaddr_in6);
	if (family == AF_INET6 &&
	    getsockopt(s, IPPROTO_IPV6, IP6T_SO_ORIGINAL_DST, ss, len) == 0 &&
	    ss->ss_family == AF_INET6)
		return 0;
	memset(ss, 0, sizeof(*ss));
	*len = (od_len)sizeof(struct sockaddr_in);
	if (getsockopt(s, IPPROTO_IP, SO_ORIGINAL_DST, ss, len) == 0 &&
	    ss->ss_family == AF_INET)
		return 0;
	return -1;
}
#endif

int origdst_get(intptr_t fd, struct sockaddr_storage *ss, size_t *len)
{
	struct sockaddr_storage local;
	od_sock s = (od_sock)fd;
	od_len n;

	if (*len < sizeof(*ss) || local_addr(s, &local, &n) != 0)
		return -1;
#ifdef __linux__
	if (netfilter_dst(s, local.ss_family, ss, &n) != 0 ||
	    origdst_same((const struct sockaddr *)ss,
			 (const struct sockaddr *)&local))
		return -1;
#else
	memcpy(ss, &local, sizeof(local));
#endif
	*len = (size_t)n;
	return 0;
}
