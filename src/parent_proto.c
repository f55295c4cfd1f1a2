/*
 * parent_proto.c - the client side of each parent hop: HTTP CONNECT,
 * SOCKS 4/4a and SOCKS 5 (parent.md sections 3 and 4.1), and the PROXY
 * protocol line of the `ha` type.
 *
 * Builders and reply parsers are pure (no socket, no allocation) and
 * unit-tested with hostile input; parent_negotiate() drives them on a
 * connected socket with bounded, timed reads that never take a byte
 * past the reply, so whatever follows belongs to the relayed stream.
 */
#include "parent.h"
#include "errcode.h"
#include "http_parse.h"
#include "sockio.h"

#include <stdio.h>
#include <string.h>

/* Parent error codes (parent.md section 10). */
enum {
	PE_TYPE = 30, PE_CONNECT_SEND = 31, PE_CONNECT_SHORT = 32,
	PE_CONNECT_STATUS = 33, PE_CONNECT_HEADERS = 34,
	PE_S4_SEND = 41, PE_S4_SHORT = 42, PE_S4_REJECT = 43, PE_S4_NOT4 = 44,
	PE_S5_SEND = 51, PE_S5_METHOD_SHORT = 52, PE_S5_VERSION = 53,
	PE_S5_METHOD = 54, PE_S5_AUTH_SHORT = 55, PE_S5_AUTH = 56,
	PE_S5_REPLY_SHORT = 57, PE_S5_ATYP = 58, PE_S5_ADDR_SHORT = 59,
	PE_S5_REFUSED = 60
};

#define CONNECT_LINE_MAX 1024     /* one line of a CONNECT reply head */
#define CONNECT_HEAD_LINES 100    /* lines of a CONNECT reply head */

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* ---- HTTP CONNECT ---------------------------------------------------------- */

/* "host:port" as a CONNECT target: a name (plus), else the address;
 * IPv6 and names with ':' in brackets. */
static int connect_authority(char *out, size_t cap, int plus,
			     const struct parent_target *t)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *h;
	int n;

	if (plus && t->host != NULL && t->host[0] != '\0' &&
	    strlen(t->host) <= PARENT_CONNECT_NAME_MAX &&
	    strpbrk(t->host, " \r\n") == NULL)
		h = t->host;
	else if (t->addr.len != 0 && (net_family(&t->addr) == AF_INET ||
				      net_family(&t->addr) == AF_INET6))
		h = net_addr_str(&t->addr, ip, sizeof(ip));
	else
		return -1;
	n = snprintf(out, cap, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h,
		     (unsigned)t->port);
	return n > 0 && (size_t)n < cap ? n : -1;
}

size_t parent_connect_request(char *buf, size_t cap, int plus,
			      const struct parent_target *t, const char *user,
			      const char *pass)
{
	char auth[PARENT_CONNECT_NAME_MAX + 16];
	char cred[2 * 256 + 2], enc[4 * ((sizeof(cred) + 2) / 3) + 1];
	int n, c;

	if (connect_authority(auth, sizeof(auth), plus, t) < 0)
		return 0;
	n = snprintf(buf, cap, "CONNECT %s HTTP/1.0\r\nConnection: "
		     "keep-alive\r\n", auth);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	if (user != NULL) {
		c = snprintf(cred, sizeof(cred), "%s:%s", user,
			     pass ? pass : "");
		if (c < 0 || (size_t)c >= sizeof(cred)) {
			wipe(cred, sizeof(cred));
			return 0;
		}
		http_b64_encode(cred, (size_t)c, enc);
		c = snprintf(buf + n, cap - (size_t)n,
			     "Proxy-Authorization: Basic %s\r\n", enc);
		wipe(cred, sizeof(cred));
		wipe(enc, sizeof(enc));
		if (c < 0 || (size_t)c >= cap - (size_t)n)
			return 0;
		n += c;
	}
	if ((size_t)n + 3 > cap)
		return 0;
	memcpy(buf + n, "\r\n", 3);
	return (size_t)n + 2;
}

/* The status line must be at least 13 bytes with '2' as its 10th
 * character ("HTTP/1.x 2xx"), as 3proxy checks. */
int parent_connect_status(const char *line, size_t n)
{
	if (n < 13)
		return PE_CONNECT_SHORT;
	if (line[9] != '2')
		return PE_CONNECT_STATUS;
	return 0;
}

static int negotiate_connect(os_sock_t s, int plus,
			     const struct parent_target *t, const char *user,
			     const char *pass, int send_ms, int reply_ms)
{
	char req[PARENT_CONNECT_MAX], line[CONNECT_LINE_MAX];
	uint64_t deadline;
	size_t n = 0, len;
	int rc, i;

	len = parent_connect_request(req, sizeof(req), plus, t, user, pass);
	if (len == 0)
		return PE_CONNECT_SEND;
	rc = sockio_write_all(s, req, len, send_ms);
	wipe(req, sizeof(req));
	if (rc != 0)
		return PE_CONNECT_SEND;
	deadline = os_monotonic_ms() + (uint64_t)reply_ms;
	rc = sockio_read_line(s, line, sizeof(line), &n, reply_ms);
	if (rc <= 0)
		return PE_CONNECT_SHORT;
	rc = parent_connect_status(line, n);
	if (rc != 0)
		return rc;
	/* the rest of the head, up to the empty line */
	for (i = 0; i < CONNECT_HEAD_LINES; i++) {
		uint64_t now = os_monotonic_ms();

		if (now >= deadline)
			return PE_CONNECT_HEADERS;
		rc = sockio_read_line(s, line, sizeof(line), &n,
				      (int)(deadline - now));
		if (rc <= 0)
			return PE_CONNECT_HEADERS;
		if ((n == 1 && line[0] == '\n') ||
		    (n == 2 && line[0] == '\r' && line[1] == '\n'))
			return 0;
	}
	return PE_CONNECT_HEADERS;
}

/* ---- SOCKS4 / 4a ------------------------------------------------------------- */

size_t parent_socks4_request(uint8_t *buf, size_t cap, int plus,
			     const struct parent_target *t, const char *user,
			     int *err)
{
	const char *u = user ? user : "anonymous";
	size_t ul = strlen(u), hl = 0, n;
	int name = plus && t->host != NULL && t->host[0] != '\0' &&
		   strlen(t->host) <= PARENT_NAME_MAX;

	*err = PE_S4_SEND;
	if (ul > PARENT_NAME_MAX)
		return 0;
	if (name)
		hl = strlen(t->host);
	if (!name && (t->addr.len == 0 || net_family(&t->addr) != AF_INET)) {
		*err = PE_S4_NOT4;
		return 0;
	}
	n = 8 + ul + 1 + (name ? hl + 1 : 0);
	if (n > cap)
		return 0;
	buf[0] = 4;
	buf[1] = 1;
	buf[2] = (uint8_t)(t->port >> 8);
	buf[3] = (uint8_t)t->port;
	if (name) {
		buf[4] = buf[5] = buf[6] = 0;
		buf[7] = 3;
	} else {
		memcpy(buf + 4,
		       &((const struct sockaddr_in *)&t->addr.ss)->sin_addr, 4);
	}
	memcpy(buf + 8, u, ul + 1);
	if (name)
		memcpy(buf + 8 + ul + 1, t->host, hl + 1);
	*err = 0;
	return n;
}

int parent_socks4_reply(const uint8_t *b, size_t n, size_t want)
{
	if (n < want || n < 2)
		return PE_S4_SHORT;
	if (b[1] != 90)
		return PE_S4_REJECT;
	return 0;
}

static int negotiate_socks4(os_sock_t s, int plus, int broken,
			    const struct parent_target *t, const char *user,
			    int send_ms, int reply_ms)
{
	uint8_t req[PARENT_SOCKS4_MAX], rep[8];
	size_t want = broken ? 3 : 8;
	size_t len;
	int err, got;

	len = parent_socks4_request(req, sizeof(req), plus, t, user, &err);
	if (len == 0)
		return err;
	err = sockio_write_all(s, req, len, send_ms);
	wipe(req, sizeof(req));
	if (err != 0)
		return PE_S4_SEND;
	got = sockio_read_exact(s, rep, want, reply_ms);
	return parent_socks4_reply(rep, got > 0 ? (size_t)got : 0, want);
}

/* ---- SOCKS5 ------------------------------------------------------------------ */

size_t parent_socks5_greeting(uint8_t *buf, int with_creds)
{
	buf[0] = 5;
	if (!with_creds) {
		buf[1] = 1;
		buf[2] = 0;
		return 3;
	}
	buf[1] = 2;
	buf[2] = 0;
	buf[3] = 2;
	return 4;
}

int parent_socks5_method(const uint8_t *b, size_t n, int with_creds,
			 int *method)
{
	if (n < 2)
		return PE_S5_METHOD_SHORT;
	if (b[0] != 5)
		return PE_S5_VERSION;
	if (b[1] != 0 && !(b[1] == 2 && with_creds))
		return PE_S5_METHOD;
	*method = b[1];
	return 0;
}

size_t parent_socks5_auth(uint8_t *buf, size_t cap, const char *user,
			  const char *pass)
{
	size_t ul = strlen(user), pl = pass ? strlen(pass) : 0;

	if (ul > 255 || pl > 255 || 3 + ul + pl > cap)
		return 0;
	buf[0] = 1;
	buf[1] = (uint8_t)ul;
	memcpy(buf + 2, user, ul);
	buf[2 + ul] = (uint8_t)pl;
	if (pl > 0)
		memcpy(buf + 3 + ul, pass, pl);
	return 3 + ul + pl;
}

int parent_socks5_auth_reply(const uint8_t *b, size_t n)
{
	if (n < 2)
		return PE_S5_AUTH_SHORT;
	if (b[0] != 1 || b[1] != 0)
		return PE_S5_AUTH;
	return 0;
}

size_t parent_socks5_request(uint8_t *buf, size_t cap, int cmd, int plus,
			     const struct parent_target *t)
{
	size_t n = 4;

	if (cap < 4 + 1 + PARENT_NAME_MAX + 2)
		return 0;
	buf[0] = 5;
	buf[1] = (uint8_t)cmd;
	buf[2] = 0;
	if (cmd == 3) {
		/* UDP ASSOCIATE: the client's address is not known */
		buf[3] = 1;
		memset(buf + 4, 0, 6);
		return 10;
	}
	if (plus && t->host != NULL && t->host[0] != '\0' &&
	    strlen(t->host) <= PARENT_NAME_MAX) {
		size_t hl = strlen(t->host);

		buf[3] = 3;
		buf[4] = (uint8_t)hl;
		memcpy(buf + 5, t->host, hl);
		n = 5 + hl;
	} else if (t->addr.len != 0 && net_family(&t->addr) == AF_INET) {
		buf[3] = 1;
		memcpy(buf + 4,
		       &((const struct sockaddr_in *)&t->addr.ss)->sin_addr, 4);
		n = 8;
	} else if (t->addr.len != 0 && net_family(&t->addr) == AF_INET6) {
		buf[3] = 4;
		memcpy(buf + 4,
		       &((const struct sockaddr_in6 *)&t->addr.ss)->sin6_addr,
		       16);
		n = 20;
	} else {
		return 0;
	}
	buf[n] = (uint8_t)(t->port >> 8);
	buf[n + 1] = (uint8_t)t->port;
	return n + 2;
}

/* The reply is 4 fixed bytes, then the bound address by ATYP.  Unlike
 * 3proxy, a name (ATYP 3) is skipped by the length it carries, so a
 * parent answering with a name does not desynchronise the stream. */
int parent_socks5_reply(const uint8_t *b, size_t n, int broken, size_t *need,
			struct net_addr *bnd)
{
	size_t total;

	if (bnd != NULL)
		memset(bnd, 0, sizeof(*bnd));
	if (n < 4) {
		*need = 4;
		return PARENT_MORE;
	}
	if (b[0] != 5)
		return PE_S5_VERSION;
	if (b[1] != 0)
		return PE_S5_REFUSED + b[1] % 10;
	switch (b[3]) {
	case 1:
		total = broken ? 4 : 10;
		break;
	case 3:
		if (n < 5) {
			*need = 5;
			return PARENT_MORE;
		}
		total = 5 + (size_t)b[4] + 2;
		break;
	case 4:
		total = 22;
		break;
	default:
		return PE_S5_ATYP;
	}
	if (n < total) {
		*need = total;
		return PARENT_MORE;
	}
	if (bnd != NULL && b[3] == 1 && total == 10) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&bnd->ss;

		sa->sin_family = AF_INET;
		memcpy(&sa->sin_addr, b + 4, 4);
		memcpy(&sa->sin_port, b + 8, 2);
		bnd->len = sizeof(*sa);
	} else if (bnd != NULL && b[3] == 4) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&bnd->ss;

		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, b + 4, 16);
		memcpy(&sa->sin6_port, b + 20, 2);
		bnd->len = sizeof(*sa);
	}
	return 0;
}

/* Greeting, optional RFC 1929 login and one request with command cmd;
 * the reply's bound address goes to bnd (may be NULL). */
static int socks5_exchange(os_sock_t s, int cmd, int plus, int broken,
			   const struct parent_target *t, const char *user,
			   const char *pass, int send_ms, int reply_ms,
			   struct net_addr *bnd)
{
	uint8_t msg[PARENT_SOCKS5_MAX];
	size_t len, need, have = 0;
	int rc, got, method = 0;

	len = parent_socks5_greeting(msg, user != NULL);
	if (sockio_write_all(s, msg, len, send_ms) != 0)
		return PE_S5_SEND;
	got = sockio_read_exact(s, msg, 2, reply_ms);
	rc = parent_socks5_method(msg, got > 0 ? (size_t)got : 0,
				  user != NULL, &method);
	if (rc != 0)
		return rc;
	if (method == 2) {
		len = parent_socks5_auth(msg, sizeof(msg), user, pass);
		if (len == 0)
			return PE_S5_AUTH;
		rc = sockio_write_all(s, msg, len, send_ms);
		wipe(msg, sizeof(msg));
		if (rc != 0)
			return PE_S5_SEND;
		got = sockio_read_exact(s, msg, 2, reply_ms);
		rc = parent_socks5_auth_reply(msg, got > 0 ? (size_t)got : 0);
		if (rc != 0)
			return rc;
	}
	len = parent_socks5_request(msg, sizeof(msg), cmd, plus, t);
	if (len == 0)
		return PE_S5_SEND;
	if (sockio_write_all(s, msg, len, send_ms) != 0)
		return PE_S5_SEND;
	for (;;) {
		rc = parent_socks5_reply(msg, have, broken, &need, bnd);
		if (rc != PARENT_MORE)
			return rc;
		if (need > sizeof(msg))
			return PE_S5_ADDR_SHORT;
		got = sockio_read_exact(s, msg + have, need - have, reply_ms);
		if (got != (int)(need - have))
			return have < 4 ? PE_S5_REPLY_SHORT : PE_S5_ADDR_SHORT;
		have = need;
	}
}

static int negotiate_socks5(os_sock_t s, int plus, int broken,
			    const struct parent_target *t, const char *user,
			    const char *pass, int send_ms, int reply_ms)
{
	return socks5_exchange(s, 1, plus, broken, t, user, pass, send_ms,
			       reply_ms, NULL);
}

int parent_socks5_udp(os_sock_t s, const char *user, const char *pass,
		      int send_ms, int reply_ms, struct net_addr *relay)
{
	struct parent_target t;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = socks5_exchange(s, 3, 0, 0, &t, user, pass, send_ms, reply_ms,
			     relay);
	/* a relay named by a host name cannot be used */
	if (rc == 0 && relay->len == 0)
		return PE_S5_ATYP;
	return rc;
}

/* ---- PROXY protocol v1 (ha) -------------------------------------------------- */

size_t parent_ha_line(char *buf, size_t cap, const struct net_addr *src,
		      const struct net_addr *dst)
{
	char a[INET6_ADDRSTRLEN + 1], b[INET6_ADDRSTRLEN + 1];
	int fam = net_family(src), n;

	if ((fam != AF_INET && fam != AF_INET6) || net_family(dst) != fam)
		return 0;
	n = snprintf(buf, cap, "PROXY %s %s %s %u %u\r\n",
		     fam == AF_INET ? "TCP4" : "TCP6",
		     net_addr_str(src, a, sizeof(a)),
		     net_addr_str(dst, b, sizeof(b)),
		     (unsigned)net_get_port(src), (unsigned)net_get_port(dst));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- one hop ------------------------------------------------------------------ */

int parent_negotiate(os_sock_t s, enum parent_type type,
		     const struct parent_target *t, const char *user,
		     const char *pass, int send_ms, int reply_ms)
{
	switch (type) {
	case PARENT_CONNECT:
	case PARENT_CONNECTP:
	case PARENT_HTTP:   /* a CONNECT request forwarded as CONNECT */
		return negotiate_connect(s, type != PARENT_CONNECT, t, user,
					 pass, send_ms, reply_ms);
	case PARENT_SOCKS4:
	case PARENT_SOCKS4P:
	case PARENT_SOCKS4B:
		return negotiate_socks4(s, type == PARENT_SOCKS4P,
					type == PARENT_SOCKS4B, t, user,
					send_ms, reply_ms);
	case PARENT_SOCKS5:
	case PARENT_SOCKS5P:
	case PARENT_SOCKS5B:
		return negotiate_socks5(s, type == PARENT_SOCKS5P,
					type == PARENT_SOCKS5B, t, user, pass,
					send_ms, reply_ms);
	default:
		return PE_TYPE;
	}
}
