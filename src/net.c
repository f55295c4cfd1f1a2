/*
 * net.c - addresses, name resolution, listening and outgoing sockets.
 *
 * Calls that differ on Windows (close, non-blocking mode, poll, error
 * codes) go through os.h, so this file builds for both platforms.
 * Unix-domain sockets are the one POSIX-only part; their helpers sit in
 * one block below with Windows stand-ins.
 */
#include "net.h"
#include "netns.h"
#include "sockio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#define NET_ETIMEDOUT WSAETIMEDOUT
#define NET_ECONNREFUSED WSAECONNREFUSED
#else
#include <netdb.h>
#include <netinet/tcp.h>
#include <unistd.h>
#define NET_ETIMEDOUT ETIMEDOUT
#define NET_ECONNREFUSED ECONNREFUSED
#endif

/* Abstract Unix socket names ("unix:@name") exist on Linux only. */
#ifdef __linux__
#define NET_HAVE_ABSTRACT 1
#else
#define NET_HAVE_ABSTRACT 0
#endif

static int set_int_opt(os_sock_t s, int level, int opt, int v)
{
	/* The cast suits both setsockopt prototypes (void * and char *). */
	return setsockopt(s, level, opt, (const char *)&v,
			  (os_socklen_t)sizeof(v));
}

/* A new socket that child processes (os_run_shell, the log archiver)
 * do not inherit: a stray copy would keep a port bound after a reload.
 * It is made in this thread's network namespace (-ni/-ne, netns.h). */
static os_sock_t open_socket(int family, int type)
{
#if defined(_WIN32)
	return WSASocketW(family, type, 0, NULL, 0,
			  WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
#elif defined(SOCK_CLOEXEC)
	return netns_socket(family, type | SOCK_CLOEXEC, 0);
#else
	return netns_socket(family, type, 0);
#endif
}

/* ---- Unix-domain addresses ------------------------------------------- */

#ifndef _WIN32
static int unix_fill(const char *name, struct net_addr *out)
{
	struct net_addr a;
	struct sockaddr_un *sun = (struct sockaddr_un *)&a.ss;
	size_t n = strlen(name);
	size_t off = offsetof(struct sockaddr_un, sun_path);

	if (n == 0)
		return -2;
	memset(&a, 0, sizeof(a));
	sun->sun_family = AF_UNIX;
	if (name[0] == '@') {
		/* "@" alone would ask Linux for an auto-generated name. */
		if (!NET_HAVE_ABSTRACT || n < 2 || n > sizeof(sun->sun_path))
			return -2;
		/* sun_path[0] stays 0; the name is not NUL-terminated and
		 * its length is carried by the address length alone. */
		memcpy(sun->sun_path + 1, name + 1, n - 1);
		a.len = (os_socklen_t)(off + n);
	} else {
		if (n >= sizeof(sun->sun_path))
			return -2;
		memcpy(sun->sun_path, name, n + 1);
		a.len = (os_socklen_t)(off + n + 1);
	}
	*out = a;
	return 0;
}

/* Base name of the socket file, or "@name" for an abstract socket. */
static void unix_str(const struct net_addr *a, char *buf, size_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n, i, base = 0;

	/* An unnamed socket (e.g. a client's) has no path at all. */
	if ((size_t)a->len <= off)
		return;
	n = (size_t)a->len - off;
	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (sun->sun_path[0] == '\0') {
		snprintf(buf, len, "@%.*s", (int)(n - 1), sun->sun_path + 1);
		return;
	}
	n = strnlen(sun->sun_path, n);
	for (i = 0; i < n; i++)
		if (sun->sun_path[i] == '/')
			base = i + 1;
	snprintf(buf, len, "%.*s", (int)(n - base), sun->sun_path + base);
}

/* A stale socket file from an earlier run would make bind() fail. */
static void unix_unlink(const struct net_addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;

	if ((size_t)a->len > offsetof(struct sockaddr_un, sun_path) &&
	    sun->sun_path[0] != '\0')
		(void)unlink(sun->sun_path);
}
#else
static int unix_fill(const char *name, struct net_addr *out)
{
	(void)name;
	(void)out;
	return -2;
}

static void unix_str(const struct net_addr *a, char *buf, size_t len)
{
	(void)a;
	(void)buf;
	(void)len;
}

static void unix_unlink(const struct net_addr *a)
{
	(void)a;
}
#endif

/* ---- parsing and resolving -------------------------------------------- */

int net_parse_ip(const char *s, struct net_addr *out)
{
	struct net_addr a;
	struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

	if (s == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		a.len = (os_socklen_t)sizeof(*sin);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		a.len = (os_socklen_t)sizeof(*sin6);
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

int net_parse_unix(const char *s, struct net_addr *out)
{
	if (s == NULL || strncmp(s, "unix:", 5) != 0)
		return -1;
	return unix_fill(s + 5, out);
}

static int resolve_family(const char *host, int family, struct net_addr *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	/* One socket type, or every address comes back once per type. */
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != family || ai->ai_addr == NULL ||
		    ai->ai_addrlen > sizeof(out->ss))
			continue;
		net_from_sockaddr(out, ai->ai_addr,
				  (os_socklen_t)ai->ai_addrlen);
		rc = 0;
		break;
	}
	freeaddrinfo(res);
	return rc;
}

int net_resolve(const char *host, enum net_family_pref pref,
		struct net_addr *out)
{
	if (host == NULL || host[0] == '\0')
		return -1;
	switch (pref) {
	case NET_PREF_4:
		return resolve_family(host, AF_INET, out);
	case NET_PREF_6:
		return resolve_family(host, AF_INET6, out);
	case NET_PREF_46:
		if (resolve_family(host, AF_INET, out) == 0)
			return 0;
		return resolve_family(host, AF_INET6, out);
	case NET_PREF_64:
		if (resolve_family(host, AF_INET6, out) == 0)
			return 0;
		return resolve_family(host, AF_INET, out);
	}
	return -1;
}

int net_is_hostname(const char *s)
{
	size_t n;
	int letters = 0;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= 253)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-' || c == '_') {
			letters = 1;
			continue;
		}
		if ((c >= '0' && c <= '9') || c == '.')
			continue;
		return 0;
	}
	/* All digits and dots: a mistyped address ("300.1.1.1"), since no
	 * top-level domain is numeric. */
	return letters;
}

/* ---- address accessors ------------------------------------------------ */

void net_set_port(struct net_addr *a, uint16_t port)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
		break;
	case AF_INET6:
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
		break;
	default:
		break;
	}
}

uint16_t net_get_port(const struct net_addr *a)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	default:
		return 0;
	}
}

int net_family(const struct net_addr *a)
{
	return a->len == 0 ? AF_UNSPEC : a->ss.ss_family;
}

/* Same host (family and IP address; ports and scope are ignored). */
int net_same_host(const struct net_addr *a, const struct net_addr *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->ss;

	if (net_family(a) != net_family(b))
		return 0;
	switch (net_family(a)) {
	case AF_INET:
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		return memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	default:
		return 0;
	}
}

/* True for 0.0.0.0, :: and an unset address: "let the OS choose". */
int net_is_any(const struct net_addr *a)
{
	static const unsigned char zero16[16];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	switch (net_family(a)) {
	case AF_UNSPEC:
		return 1;
	case AF_INET:
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		return memcmp(&sin6->sin6_addr, zero16, sizeof(zero16)) == 0;
	default:
		return 0;
	}
}

char *net_addr_str(const struct net_addr *a, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	switch (net_family(a)) {
	case AF_INET:
		if (inet_ntop(AF_INET, &sin->sin_addr, buf, len) == NULL)
			buf[0] = '\0';
		break;
	case AF_INET6:
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len) == NULL)
			buf[0] = '\0';
		break;
	case AF_UNIX:
		unix_str(a, buf, len);
		break;
	default:
		break;
	}
	return buf;
}

void net_from_sockaddr(struct net_addr *a, const struct sockaddr *sa,
		       os_socklen_t len)
{
	memset(a, 0, sizeof(*a));
	/* An oversized length is a caller's error: keep the address unset
	 * rather than read past the end of sa. */
	if (sa == NULL || len == 0 || (size_t)len > sizeof(a->ss))
		return;
	memcpy(&a->ss, sa, (size_t)len);
	a->len = len;
}

/* ---- socket options --------------------------------------------------- */

struct sockopt_def {
	const char *name;
	unsigned bit;
	int level;
	int opt;
};

/*
 * Only the options this platform defines exist.  Each is listed once,
 * through SOCKOPT_LIST, which builds both the table and the name list.
 */
#ifdef TCP_NODELAY
#define SO_ROW_TCP_NODELAY(X) X(TCP_NODELAY, IPPROTO_TCP)
#else
#define SO_ROW_TCP_NODELAY(X)
#endif
#ifdef TCP_CORK
#define SO_ROW_TCP_CORK(X) X(TCP_CORK, IPPROTO_TCP)
#else
#define SO_ROW_TCP_CORK(X)
#endif
#ifdef TCP_DEFER_ACCEPT
#define SO_ROW_TCP_DEFER_ACCEPT(X) X(TCP_DEFER_ACCEPT, IPPROTO_TCP)
#else
#define SO_ROW_TCP_DEFER_ACCEPT(X)
#endif
#ifdef TCP_QUICKACK
#define SO_ROW_TCP_QUICKACK(X) X(TCP_QUICKACK, IPPROTO_TCP)
#else
#define SO_ROW_TCP_QUICKACK(X)
#endif
#ifdef TCP_TIMESTAMPS
#define SO_ROW_TCP_TIMESTAMPS(X) X(TCP_TIMESTAMPS, IPPROTO_TCP)
#else
#define SO_ROW_TCP_TIMESTAMPS(X)
#endif
#ifdef SO_REUSEADDR
#define SO_ROW_SO_REUSEADDR(X) X(SO_REUSEADDR, SOL_SOCKET)
#else
#define SO_ROW_SO_REUSEADDR(X)
#endif
#ifdef SO_REUSEPORT
#define SO_ROW_SO_REUSEPORT(X) X(SO_REUSEPORT, SOL_SOCKET)
#else
#define SO_ROW_SO_REUSEPORT(X)
#endif
#ifdef SO_EXCLUSIVEADDRUSE
#define SO_ROW_SO_EXCLUSIVEADDRUSE(X) X(SO_EXCLUSIVEADDRUSE, SOL_SOCKET)
#else
#define SO_ROW_SO_EXCLUSIVEADDRUSE(X)
#endif
#ifdef SO_PORT_SCALABILITY
#define SO_ROW_SO_PORT_SCALABILITY(X) X(SO_PORT_SCALABILITY, SOL_SOCKET)
#else
#define SO_ROW_SO_PORT_SCALABILITY(X)
#endif
#ifdef SO_REUSE_UNICASTPORT
#define SO_ROW_SO_REUSE_UNICASTPORT(X) X(SO_REUSE_UNICASTPORT, SOL_SOCKET)
#else
#define SO_ROW_SO_REUSE_UNICASTPORT(X)
#endif
#ifdef SO_KEEPALIVE
#define SO_ROW_SO_KEEPALIVE(X) X(SO_KEEPALIVE, SOL_SOCKET)
#else
#define SO_ROW_SO_KEEPALIVE(X)
#endif
#ifdef SO_DONTROUTE
#define SO_ROW_SO_DONTROUTE(X) X(SO_DONTROUTE, SOL_SOCKET)
#else
#define SO_ROW_SO_DONTROUTE(X)
#endif
#ifdef IP_TRANSPARENT
#define SO_ROW_IP_TRANSPARENT(X) X(IP_TRANSPARENT, IPPROTO_IP)
#else
#define SO_ROW_IP_TRANSPARENT(X)
#endif
#ifdef TCP_FASTOPEN
#define SO_ROW_TCP_FASTOPEN(X) X(TCP_FASTOPEN, IPPROTO_TCP)
#else
#define SO_ROW_TCP_FASTOPEN(X)
#endif
#ifdef TCP_FASTOPEN_CONNECT
#define SO_ROW_TCP_FASTOPEN_CONNECT(X) X(TCP_FASTOPEN_CONNECT, IPPROTO_TCP)
#else
#define SO_ROW_TCP_FASTOPEN_CONNECT(X)
#endif
#ifdef TCP_MAXSEG
#define SO_ROW_TCP_MAXSEG(X) X(TCP_MAXSEG, IPPROTO_TCP)
#else
#define SO_ROW_TCP_MAXSEG(X)
#endif

#define SOCKOPT_LIST(X) \
	SO_ROW_TCP_NODELAY(X) SO_ROW_TCP_CORK(X) SO_ROW_TCP_DEFER_ACCEPT(X) \
	SO_ROW_TCP_QUICKACK(X) SO_ROW_TCP_TIMESTAMPS(X) \
	SO_ROW_SO_REUSEADDR(X) SO_ROW_SO_REUSEPORT(X) \
	SO_ROW_SO_EXCLUSIVEADDRUSE(X) SO_ROW_SO_PORT_SCALABILITY(X) \
	SO_ROW_SO_REUSE_UNICASTPORT(X) SO_ROW_SO_KEEPALIVE(X) \
	SO_ROW_SO_DONTROUTE(X) SO_ROW_IP_TRANSPARENT(X) \
	SO_ROW_TCP_FASTOPEN(X) SO_ROW_TCP_FASTOPEN_CONNECT(X) \
	SO_ROW_TCP_MAXSEG(X)

#define SOCKOPT_DEF(n, lvl) { #n, NET_OPT_##n, lvl, n },
#define SOCKOPT_NAME(n, lvl) #n,

static const struct sockopt_def sockopt_defs[] = {
	SOCKOPT_LIST(SOCKOPT_DEF)
	{ NULL, 0, 0, 0 }
};

static const char *const sockopt_names[] = {
	SOCKOPT_LIST(SOCKOPT_NAME)
	NULL
};

/* Plain substring search, as the reference does: "TCP_FASTOPEN_CONNECT"
 * therefore selects TCP_FASTOPEN as well. */
unsigned net_sockopts_parse(const char *s)
{
	const struct sockopt_def *d;
	unsigned opts = 0;

	if (s == NULL)
		return 0;
	for (d = sockopt_defs; d->name != NULL; d++)
		if (strstr(s, d->name) != NULL)
			opts |= d->bit;
	return opts;
}

/* Failures are ignored: an option the kernel refuses for this socket
 * (say TCP_CORK on a UDP socket) must not stop the service. */
void net_sockopts_apply(os_sock_t s, unsigned opts, int maxseg)
{
	const struct sockopt_def *d;

	for (d = sockopt_defs; d->name != NULL; d++) {
		int v = 1;

		if ((opts & d->bit) == 0)
			continue;
		if (d->bit == NET_OPT_TCP_MAXSEG) {
			if (maxseg == 0)
				continue;
			v = maxseg;
		}
		(void)set_int_opt(s, d->level, d->opt, v);
	}
}

const char *const *net_sockopt_names(void)
{
	return sockopt_names;
}

void net_nodelay(os_sock_t s)
{
	(void)set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 1);
}

void net_reset_on_close(os_sock_t s)
{
	struct linger l;

	l.l_onoff = 1;
	l.l_linger = 0;
	(void)setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l,
			 sizeof(l));
}

void net_abort(os_sock_t s)
{
	net_reset_on_close(s);
	os_sock_close(s);
}

/* ---- listening -------------------------------------------------------- */

static void listen_reuse(os_sock_t s)
{
	(void)s;
#ifndef _WIN32
	/* Lets a restarted daemon bind while old connections sit in
	 * TIME_WAIT.  Windows would instead let another process take over
	 * the port, so it is not set there. */
	(void)set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, 1);
#endif
#ifdef SO_REUSEPORT
	(void)set_int_opt(s, SOL_SOCKET, SO_REUSEPORT, 1);
#endif
}

os_sock_t net_listen(const struct net_addr *a, int type, int backlog,
		     unsigned opts, int maxseg, int *err, const char **what)
{
	int family = a->ss.ss_family, e;
	const char *w = "socket";
	os_sock_t s;

	s = open_socket(family, type);
	if (s == OS_BADSOCK) {
		e = os_sock_errno();
		goto out;
	}
	net_sockopts_apply(s, opts, maxseg);
	if (family == AF_UNIX)
		unix_unlink(a);
	else
		listen_reuse(s);
	/* IPV6_V6ONLY keeps the system default: "internal ::" is then
	 * dual-stack wherever the system makes it so. */
	w = "bind";
	if (bind(s, (const struct sockaddr *)&a->ss, a->len) != 0)
		goto bad;
	if (type == SOCK_STREAM) {
		w = "listen";
		if (listen(s, backlog) != 0)
			goto bad;
	}
	if (err != NULL)
		*err = 0;
	if (what != NULL)
		*what = NULL;
	return s;
bad:
	e = os_sock_errno();
	os_sock_close(s);
out:
	if (err != NULL)
		*err = e;
	if (what != NULL)
		*what = w;
	return OS_BADSOCK;
}

/* ---- connecting ------------------------------------------------------- */

/* Bind the source only when it says something: 0.0.0.0 / :: with port
 * 0 means "let the OS choose".  An address of the other family belongs
 * to the other kind of destination and is skipped. */
static int want_source(const struct net_addr *src, int family)
{
	if (src == NULL || src->len == 0 || src->ss.ss_family != family)
		return 0;
	return !(net_is_any(src) && net_get_port(src) == 0);
}

static uint64_t ms_left(uint64_t deadline)
{
	uint64_t now = os_monotonic_ms();

	return now >= deadline ? 0 : deadline - now;
}

/* Wait for a non-blocking connect to finish; returns 0 or an error code. */
static int connect_wait(os_sock_t s, int timeout_ms)
{
	uint64_t deadline = os_monotonic_ms() + (uint64_t)timeout_ms;
	os_pollfd_t pfd;
	os_socklen_t elen = (os_socklen_t)sizeof(int);
	int e = 0, n;

	/* A connect over loopback or a LAN has often finished by now: look
	 * once before os_poll(), which would first yield the CPU. */
	memset(&pfd, 0, sizeof(pfd));
	pfd.fd = s;
	pfd.events = POLLOUT;
	if (os_poll_sys(&pfd, 1, 0) > 0)
		goto ready;
	for (;;) {
		int wait = -1;

		if (timeout_ms >= 0) {
			uint64_t left = ms_left(deadline);

			wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		memset(&pfd, 0, sizeof(pfd));
		pfd.fd = s;
		pfd.events = POLLOUT;
		n = os_poll(&pfd, 1, wait);
		if (n > 0)
			break;
		if (n == 0)
			return NET_ETIMEDOUT;
		e = os_sock_errno();
		if (!os_errno_is_intr(e))
			return e;
	}
ready:
#ifdef __linux__
	/* Linux reports a failed connect with POLLERR (and POLLHUP): plain
	 * POLLOUT means connected, and SO_ERROR would only say 0 again. */
	if (pfd.revents == POLLOUT)
		return 0;
#endif
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&e, &elen) != 0)
		return os_sock_errno();
	/* Some systems flag a refused connect with POLLHUP alone. */
	if (e == 0 && (pfd.revents & POLLOUT) == 0)
		e = NET_ECONNREFUSED;
	return e;
}

static int connect_start(os_sock_t s, const struct net_addr *dst,
			 int timeout_ms)
{
	int e;

	if (connect(s, (const struct sockaddr *)&dst->ss, dst->len) == 0)
		return 0;
	e = os_sock_errno();
	/* An interrupted non-blocking connect goes on in the background. */
	if (!os_errno_is_inprogress(e) && !os_errno_is_intr(e))
		return e;
	return connect_wait(s, timeout_ms);
}

int net_bind_device(os_sock_t s, const char *dev)
{
	if (dev == NULL || *dev == '\0')
		return 0;
#ifdef SO_BINDTODEVICE
	return setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev,
			  (os_socklen_t)strlen(dev)) == 0 ? 0 : -1;
#else
	/* No per-socket device binding here: refuse rather than let the
	 * traffic leave through another interface. */
	errno = ENOTSUP;
	return -1;
#endif
}

os_sock_t net_connect(const struct net_addr *dst, const struct net_addr *src,
		      int timeout_ms, unsigned opts, int maxseg, int *err)
{
	return net_connect_dev(dst, src, NULL, timeout_ms, opts, maxseg, err);
}

/* The connect waits in poll(), so the socket is made non-blocking at
 * once where socket() can do it. */
#ifdef SOCK_NONBLOCK
#define CONNECT_NONBLOCK SOCK_NONBLOCK
#else
#define CONNECT_NONBLOCK 0
#endif

os_sock_t net_connect_dev(const struct net_addr *dst,
			  const struct net_addr *src, const char *dev,
			  int timeout_ms, unsigned opts, int maxseg, int *err)
{
	int family = dst->ss.ss_family, e;
	os_sock_t s;

	s = open_socket(family, SOCK_STREAM | CONNECT_NONBLOCK);
	if (s == OS_BADSOCK) {
		e = os_sock_errno();
		goto out;
	}
	if (net_bind_device(s, dev) != 0)
		goto bad;
	net_sockopts_apply(s, opts, maxseg);
	if (family == AF_INET || family == AF_INET6)
		net_nodelay(s);
	if (want_source(src, family)) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		/* -e without a port: let connect() pick the port for the
		 * whole 4-tuple instead of bind() reserving one that no other
		 * connection may share (cheaper, and the ephemeral range is
		 * not exhausted by one source address). */
		if (net_get_port(src) == 0)
			(void)set_int_opt(s, IPPROTO_IP,
					  IP_BIND_ADDRESS_NO_PORT, 1);
#endif
		if (bind(s, (const struct sockaddr *)&src->ss, src->len) != 0)
			goto bad;
	}
#ifndef SOCK_NONBLOCK
	if (os_sock_nonblock(s, 1) != 0)
		goto bad;
#endif
	e = connect_start(s, dst, timeout_ms);
	if (e != 0)
		goto fail;
#ifndef SOCKIO_NEVER_BLOCKS
	if (os_sock_nonblock(s, 0) != 0)
		goto bad;
#endif
	if (err != NULL)
		*err = 0;
	return s;
bad:
	e = os_sock_errno();
fail:
	os_sock_close(s);
out:
	if (err != NULL)
		*err = e;
	return OS_BADSOCK;
}
