/*
 * net.h - addresses, name resolution, listening and outgoing sockets.
 */
#ifndef PX_NET_H
#define PX_NET_H

#include <stdint.h>
#include <stddef.h>
#include "os.h"

#ifndef _WIN32
#include <sys/un.h>
#endif

/* Any address a listener or a target can have: IPv4, IPv6 or, on POSIX,
 * a Unix-domain path ("unix:/path", "unix:@abstract"). */
struct net_addr {
	struct sockaddr_storage ss;
	os_socklen_t len;            /* 0 = unset */
};

/* Address-family preference for name resolution (-4 -6 -46 -64). */
enum net_family_pref { NET_PREF_4, NET_PREF_6, NET_PREF_46, NET_PREF_64 };

/* Parse a literal IPv4/IPv6 address (no brackets) with port 0.
 * Returns 0 or -1; never resolves names. */
int net_parse_ip(const char *s, struct net_addr *out);
/* Parse "unix:/path" or "unix:@name".  Returns 0, -1 if not such a
 * string, -2 if it is but unsupported or too long. */
int net_parse_unix(const char *s, struct net_addr *out);
/* Resolve a host name or literal with getaddrinfo in the given
 * preference.  Returns 0 or -1. */
int net_resolve(const char *host, enum net_family_pref pref,
		struct net_addr *out);
/* A syntactically plausible host name (letters, digits, -._). */
int net_is_hostname(const char *s);

void net_set_port(struct net_addr *a, uint16_t port);
uint16_t net_get_port(const struct net_addr *a);
int net_family(const struct net_addr *a);
int net_is_any(const struct net_addr *a);
/* Same family and IP address (ports ignored); 0 for unset/unix. */
int net_same_host(const struct net_addr *a, const struct net_addr *b);
/* Text form of the address only ("1.2.3.4", "2001:db8::1", socket base
 * name for Unix).  Always NUL-terminates. */
char *net_addr_str(const struct net_addr *a, char *buf, size_t len);
void net_from_sockaddr(struct net_addr *a, const struct sockaddr *sa,
		       os_socklen_t len);

/* Socket options from -oc/-os/-ol/-or: a bit set of known names. */
enum {
	NET_OPT_TCP_NODELAY = 1u << 0, NET_OPT_TCP_CORK = 1u << 1,
	NET_OPT_TCP_DEFER_ACCEPT = 1u << 2, NET_OPT_TCP_QUICKACK = 1u << 3,
	NET_OPT_SO_REUSEADDR = 1u << 4, NET_OPT_SO_REUSEPORT = 1u << 5,
	NET_OPT_SO_KEEPALIVE = 1u << 6, NET_OPT_SO_DONTROUTE = 1u << 7,
	NET_OPT_IP_TRANSPARENT = 1u << 8, NET_OPT_TCP_FASTOPEN = 1u << 9,
	NET_OPT_TCP_FASTOPEN_CONNECT = 1u << 10, NET_OPT_TCP_MAXSEG = 1u << 11,
	NET_OPT_TCP_TIMESTAMPS = 1u << 12
};
/* Names are matched as substrings (so any separator works); unknown
 * names are ignored, as 3proxy does. */
unsigned net_sockopts_parse(const char *s);
void net_sockopts_apply(os_sock_t s, unsigned opts, int maxseg);
/* The names this build supports, for the usage text. */
const char *const *net_sockopt_names(void);

/* Open a listening socket (TCP: listen with backlog; UDP: bound only).
 * Returns the socket or OS_BADSOCK with errno-style *err and the failing
 * call's name in *what. */
os_sock_t net_listen(const struct net_addr *a, int type, int backlog,
		     unsigned opts, int maxseg, int *err, const char **what);

/* Connect to `dst`, binding the source to `src` first when it is set,
 * waiting at most timeout_ms.  Returns the connected socket or
 * OS_BADSOCK with *err set.  Where sockio calls never block
 * (SOCKIO_NEVER_BLOCKS) the socket is left non-blocking, as the connect
 * needed it: callers use sockio/relay, which work in either mode;
 * elsewhere it is blocking again. */
os_sock_t net_connect(const struct net_addr *dst, const struct net_addr *src,
		      int timeout_ms, unsigned opts, int maxseg, int *err);

/* The same, with the socket bound to a network device first (-De);
 * dev NULL or "" = none.  A device that cannot be bound fails the call
 * (*err set), so traffic never leaves through another interface. */
os_sock_t net_connect_dev(const struct net_addr *dst,
			  const struct net_addr *src, const char *dev,
			  int timeout_ms, unsigned opts, int maxseg, int *err);
/* Bind a socket to a network device (SO_BINDTODEVICE); 0 or -1. */
int net_bind_device(os_sock_t s, const char *dev);

/* Disable Nagle: every service replies promptly. */
void net_nodelay(os_sock_t s);

/* Close s with a reset instead of a FIN (SO_LINGER 0): the peer learns
 * the stream was cut short, not complete (an aborted FTP transfer). */
void net_abort(os_sock_t s);
/* The same for a socket closed later by its owner (SO_LINGER 0 only). */
void net_reset_on_close(os_sock_t s);

/* Windows-only socket options (the spec's list; absent elsewhere). */
enum {
	NET_OPT_SO_EXCLUSIVEADDRUSE = 1u << 13,
	NET_OPT_SO_PORT_SCALABILITY = 1u << 14,
	NET_OPT_SO_REUSE_UNICASTPORT = 1u << 15
};

#endif
