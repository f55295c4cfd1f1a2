/*
 * socks_parse.c - pure SOCKS 4 / 4a / 5 parsers and reply builders.
 *
 * Owns the wire formats only: no sockets, no clock, no allocation, no
 * shared state (so no locks).  Every read is preceded by a length check;
 * see socks_parse.h for the (code, *need) contract.
 */
#include "socks_parse.h"
#include "errcode.h"

#include <stdio.h>
#include <string.h>

/* parse_target's "need more bytes" result; callers turn it into their
 * message's truncation code. */
#define TARGET_SHORT (-1)

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xff);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Copy len wire bytes as a C string; out has room for len + 1. */
static void
copy_str(char *out, const uint8_t *p, size_t len)
{
	memcpy(out, p, len);
	out[len] = '\0';
}

/*
 * "ATYP ADDR PORT" as in RFC 1928 §4 and §7.  *len gets the length of
 * the field (or the length needed so far when TARGET_SHORT).  Returns 0,
 * TARGET_SHORT, or 997 for an unknown ATYP or a name holding a NUL.
 */
static int
parse_target(const uint8_t *p, size_t n, struct socks_target *t, size_t *len)
{
	size_t alen;

	*len = 1;
	if (n < 1)
		return TARGET_SHORT;
	t->atyp = p[0];
	switch (p[0]) {
	case SOCKS_ATYP_IPV4:
		alen = 4;
		break;
	case SOCKS_ATYP_IPV6:
		alen = 16;
		break;
	case SOCKS_ATYP_DOMAIN:
		*len = 2;
		if (n < 2)
			return TARGET_SHORT;
		alen = 1 + (size_t)p[1];
		break;
	default:
		return ERR_NOT_SUPPORTED;
	}
	*len = 1 + alen + 2;
	if (n < *len)
		return TARGET_SHORT;
	if (p[0] == SOCKS_ATYP_DOMAIN) {
		/* A NUL would make the name checked and resolved differ
		 * from the bytes the client sent. */
		if (memchr(p + 2, 0, alen - 1) != NULL)
			return ERR_NOT_SUPPORTED;
		copy_str(t->host, p + 2, alen - 1);
	} else {
		memcpy(t->ip, p + 1, alen);
	}
	t->port = get16(p + 1 + alen);
	return 0;
}

int
socks5_parse_methods(const uint8_t *p, size_t n, unsigned *offered,
		     size_t *need)
{
	size_t i, total;

	*offered = 0;
	*need = 2;
	if (n >= 1 && p[0] != 5) {
		*need = 1;
		return ERR_SOCKS_VERSION;
	}
	if (n < 2)
		return ERR_SOCKS_SHORT_METHODS;
	total = 2 + (size_t)p[1];
	*need = total;
	if (n < total)
		return ERR_SOCKS_SHORT_METHODS;
	for (i = 2; i < total; i++) {
		if (p[i] == SOCKS5_METHOD_NONE)
			*offered |= SOCKS_OFFER_NONE;
		else if (p[i] == SOCKS5_METHOD_USERPASS)
			*offered |= SOCKS_OFFER_USERPASS;
	}
	return 0;
}

uint8_t
socks5_choose_method(unsigned offered, enum socks_user_policy pol)
{
	int none = (offered & SOCKS_OFFER_NONE) != 0;
	int userpass = (offered & SOCKS_OFFER_USERPASS) != 0;

	switch (pol) {
	case SOCKS_USER_NEVER:
		return none ? SOCKS5_METHOD_NONE : SOCKS5_METHOD_REFUSE;
	case SOCKS_USER_OPTIONAL:
		if (none)
			return SOCKS5_METHOD_NONE;
		break;
	case SOCKS_USER_PREFERRED:
		if (userpass)
			return SOCKS5_METHOD_USERPASS;
		return none ? SOCKS5_METHOD_NONE : SOCKS5_METHOD_REFUSE;
	case SOCKS_USER_REQUIRED:
		break;
	}
	return userpass ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_REFUSE;
}

int
socks5_parse_auth(const uint8_t *p, size_t n, struct socks_auth *out,
		  size_t *need)
{
	size_t ulen, plen;

	out->user[0] = '\0';
	out->pass[0] = '\0';
	*need = 2;
	if (n >= 1 && p[0] != 1) {
		*need = 1;
		return ERR_SOCKS_AUTH_VERSION;
	}
	if (n < 2)
		return ERR_SOCKS_SHORT_AUTH;
	ulen = p[1];
	*need = 2 + ulen + 1;
	if (n < *need)
		return ERR_SOCKS_SHORT_AUTH;
	plen = p[2 + ulen];
	*need = 3 + ulen + plen;
	if (n < *need)
		return ERR_SOCKS_SHORT_AUTH;
	copy_str(out->user, p + 2, ulen);
	copy_str(out->pass, p + 3 + ulen, plen);
	return 0;
}

int
socks5_parse_request(const uint8_t *p, size_t n, struct socks_request *out,
		     size_t *need)
{
	size_t tlen;
	int rc;

	memset(out, 0, sizeof(*out));
	*need = 4;
	if (n >= 1 && p[0] != 5) {
		*need = 1;
		return ERR_SOCKS_REQ_VERSION;
	}
	if (n < 4)
		return ERR_SOCKS_SHORT_REQUEST;
	out->version = 5;
	out->cmd = p[1];
	rc = parse_target(p + 3, n - 3, &out->dst, &tlen);
	*need = 3 + tlen;
	if (rc == TARGET_SHORT)
		return ERR_SOCKS_SHORT_ADDR;
	if (rc != 0)
		return rc;
	if (out->cmd < SOCKS_CMD_CONNECT || out->cmd > SOCKS_CMD_UDP)
		return ERR_SOCKS_COMMAND;
	return 0;
}

/*
 * Find the NUL ending a string that starts at p[start] and holds at most
 * max bytes.  Returns 0 with *len; else 451 with *need = n + 1 when more
 * bytes may bring the NUL, or *need = n when the string is too long.
 */
static int
scan_nul(const uint8_t *p, size_t n, size_t start, size_t max, size_t *len,
	 size_t *need)
{
	size_t avail = n > start ? n - start : 0;
	const uint8_t *z;

	if (avail > max + 1)
		avail = max + 1;
	z = avail > 0 ? memchr(p + start, 0, avail) : NULL;
	if (z != NULL) {
		*len = (size_t)(z - (p + start));
		*need = start + *len + 1;
		return 0;
	}
	*need = avail > max ? n : (start + avail + 1);
	return ERR_SOCKS_SHORT_ADDR;
}

int
socks4_parse_request(const uint8_t *p, size_t n, struct socks_request *out,
		     size_t *need)
{
	size_t ulen, hlen, hstart;
	int rc;

	memset(out, 0, sizeof(*out));
	*need = 8;
	if (n >= 1 && p[0] != 4) {
		*need = 1;
		return ERR_SOCKS_VERSION;
	}
	if (n < 8)
		return ERR_SOCKS_SHORT_REQUEST;
	out->version = 4;
	out->cmd = p[1];
	out->dst.atyp = SOCKS_ATYP_IPV4;
	out->dst.port = get16(p + 2);
	memcpy(out->dst.ip, p + 4, 4);
	rc = scan_nul(p, n, 8, SOCKS4_USERID_WIRE_MAX, &ulen, need);
	if (rc != 0)
		return rc;
	copy_str(out->user, p + 8,
		 ulen > SOCKS_USER_MAX ? SOCKS_USER_MAX : ulen);
	/* SOCKS4a: 0.0.0.x, x != 0, announces a host name. */
	if (all_zero(p + 4, 3) && p[7] != 0) {
		hstart = 8 + ulen + 1;
		rc = scan_nul(p, n, hstart, SOCKS_NAME_MAX, &hlen, need);
		if (rc != 0)
			return rc;
		out->socks4a = 1;
		out->dst.atyp = SOCKS_ATYP_DOMAIN;
		memset(out->dst.ip, 0, sizeof(out->dst.ip));
		copy_str(out->dst.host, p + hstart, hlen);
	}
	if (out->cmd != SOCKS_CMD_CONNECT && out->cmd != SOCKS_CMD_BIND)
		return ERR_SOCKS_COMMAND;
	return 0;
}

static int
target_ip_len(const struct socks_target *t)
{
	if (t->atyp == SOCKS_ATYP_IPV4)
		return 4;
	if (t->atyp == SOCKS_ATYP_IPV6)
		return 16;
	return 0;
}

int
socks_request_check(const struct socks_request *r)
{
	int alen = target_ip_len(&r->dst);

	if (r->cmd != SOCKS_CMD_CONNECT)
		return 0;
	if (alen > 0 && all_zero(r->dst.ip, (size_t)alen))
		return ERR_SOCKS_ZERO_ADDR;
	if (r->dst.port == 0)
		return ERR_SOCKS_PORT_ZERO;
	return 0;
}

int
socks_target_is_any(const struct socks_target *t)
{
	int alen = target_ip_len(t);

	if (alen > 0)
		return all_zero(t->ip, (size_t)alen);
	return t->atyp == SOCKS_ATYP_DOMAIN &&
	       (strcmp(t->host, "0") == 0 || strcmp(t->host, "0.0.0.0") == 0);
}

int
socks_target_addr(const struct socks_target *t, struct net_addr *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (t->atyp == SOCKS_ATYP_IPV4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, t->ip, 4);
		sin->sin_port = htons(t->port);
		out->len = (os_socklen_t)sizeof(*sin);
		return 0;
	}
	if (t->atyp == SOCKS_ATYP_IPV6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, t->ip, 16);
		sin6->sin6_port = htons(t->port);
		out->len = (os_socklen_t)sizeof(*sin6);
		return 0;
	}
	return -1;
}

void
socks_addr_map_v6(struct net_addr *a)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	uint8_t *b;

	if (net_family(a) != AF_INET)
		return;
	memcpy(&sin, &a->ss, sizeof(sin));
	memset(a, 0, sizeof(*a));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin.sin_port;
	b = (uint8_t *)&sin6->sin6_addr;
	b[10] = 0xff;
	b[11] = 0xff;
	memcpy(b + 12, &sin.sin_addr, 4);
	a->len = (os_socklen_t)sizeof(*sin6);
}

void
socks_target_text(const struct socks_target *t, const char *verb, char *out,
		  size_t cap)
{
	char ip[64];
	struct net_addr a;
	const char *host = t->host;

	if (cap == 0)
		return;
	if (socks_target_addr(t, &a) == 0)
		host = net_addr_str(&a, ip, sizeof(ip));
	snprintf(out, cap, "%s %s:%u", verb, host, (unsigned)t->port);
}

uint8_t
socks5_rep_from_err(int err)
{
	if (err == 0)
		return SOCKS5_REP_OK;
	if (err >= 1 && err <= 10)
		return SOCKS5_REP_NOT_ALLOWED;
	if (err >= 11 && err <= 19)
		return SOCKS5_REP_REFUSED;
	if (err >= 20 && err <= 29)
		return SOCKS5_REP_FAILURE;
	if (err >= 30 && err <= 100)
		return SOCKS5_REP_HOST_UNREACH;
	if (err == ERR_NOT_SUPPORTED)
		return SOCKS5_REP_BAD_ATYP;
	/* 407 -> 07 falls out of the rule; a failure never reads as 00. */
	if (err < 0 || err % 10 == 0)
		return SOCKS5_REP_FAILURE;
	return (uint8_t)(err % 10);
}

/* The IP bytes and port of an address for a reply.  Returns 4 (IPv4, or
 * IPv4-mapped IPv6), 16, or 0 when it is not an IP address. */
static int
addr_bytes(const struct net_addr *a, uint8_t ip[16], uint16_t *port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(ip, 0, 16);
	*port = 0;
	if (a == NULL)
		return 0;
	switch (net_family(a)) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&a->ss;
		memcpy(ip, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 4;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&a->ss;
		*port = ntohs(sin6->sin6_port);
		if (memcmp(&sin6->sin6_addr, mapped, sizeof(mapped)) == 0) {
			memcpy(ip, (const uint8_t *)&sin6->sin6_addr + 12, 4);
			return 4;
		}
		memcpy(ip, &sin6->sin6_addr, 16);
		return 16;
	default:
		return 0;
	}
}

/* "ATYP ADDR PORT" for an IP address (zeros when not one). */
static size_t
put_addr(uint8_t *out, const struct net_addr *a)
{
	uint8_t ip[16];
	uint16_t port;
	int alen = addr_bytes(a, ip, &port);

	if (alen == 0)
		alen = 4;
	out[0] = alen == 16 ? SOCKS_ATYP_IPV6 : SOCKS_ATYP_IPV4;
	memcpy(out + 1, ip, (size_t)alen);
	put16(out + 1 + alen, port);
	return 1 + (size_t)alen + 2;
}

static size_t
addr_field_len(const struct net_addr *a)
{
	uint8_t ip[16];
	uint16_t port;

	return addr_bytes(a, ip, &port) == 16 ? 19 : 7;
}

size_t
socks5_build_reply(uint8_t *out, size_t cap, uint8_t rep,
		   const struct net_addr *bnd)
{
	size_t len = 3 + addr_field_len(bnd);

	if (cap < len)
		return 0;
	memset(out, 0, len);
	out[0] = 5;
	out[1] = rep;
	(void)put_addr(out + 3, bnd);
	return len;
}

size_t
socks4_build_reply(uint8_t *out, size_t cap, uint8_t cd,
		   const struct net_addr *bnd)
{
	uint8_t ip[16];
	uint16_t port;

	if (cap < SOCKS4_REPLY_LEN)
		return 0;
	memset(out, 0, SOCKS4_REPLY_LEN);
	out[1] = cd;
	if (addr_bytes(bnd, ip, &port) == 4) {
		put16(out + 2, port);
		memcpy(out + 4, ip, 4);
	}
	return SOCKS4_REPLY_LEN;
}

int
socks5_parse_udp(const uint8_t *p, size_t n, struct socks_target *out,
		 size_t *hdrlen)
{
	size_t tlen;
	int rc;

	memset(out, 0, sizeof(*out));
	*hdrlen = 0;
	if (n < 10 || p[0] != 0 || p[1] != 0)
		return ERR_SOCKS_UDP_HEADER;
	if (p[2] != 0)
		return SOCKS_UDP_FRAGMENT;
	rc = parse_target(p + 3, n - 3, out, &tlen);
	if (rc == TARGET_SHORT)
		return out->atyp == SOCKS_ATYP_IPV6 ? ERR_SOCKS_UDP_SHORT6
						    : ERR_SOCKS_UDP_SHORTNAME;
	if (rc != 0)
		return rc;
	if (out->atyp == SOCKS_ATYP_DOMAIN && out->host[0] == '\0')
		return ERR_SOCKS_UDP_SHORTNAME;
	*hdrlen = 3 + tlen;
	return 0;
}

size_t
socks5_build_udp_header(uint8_t *out, size_t cap, const struct net_addr *src)
{
	uint8_t ip[16];
	uint16_t port;
	size_t len;

	if (addr_bytes(src, ip, &port) == 0)
		return 0;
	len = 3 + addr_field_len(src);
	if (cap < len)
		return 0;
	memset(out, 0, len);
	(void)put_addr(out + 3, src);
	return len;
}
