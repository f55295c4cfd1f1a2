/*
 * resolve.h - name resolution for requests (reference dns.md).
 *
 * resolve_name() is the daemon's one entry point for turning a requested
 * host into an address:
 *   1. address literals are parsed, never looked up;
 *   2. `fakeresolve` answers 127.0.0.2 / ::2 for every name (F-DNS-04);
 *   3. with `nserver` (F-DNS-01): the config's `nsrecord` entries
 *      (F-DNS-03), then the process-global cache (`nscache`/`nscache6`,
 *      F-DNS-02), then the servers in config order, with our own DNS
 *      client (UDP, or TCP with a length prefix);
 *   4. otherwise the system resolver (getaddrinfo).
 * The service's family preference (-4 -6 -46 -64) orders the A and AAAA
 * lookups.  A name recorded as 0.0.0.0 (or ::) does not resolve.
 *
 * What belongs to a config run lives in its generation (struct
 * resolve_conf, gen->resolv): the nserver list, authnserver, the
 * nsrecord entries, the resolver choice, which caches the config asked
 * for, the dialer.  So a reload starts them afresh, and clients of the
 * old generation keep the settings they started with.  The caches
 * themselves are process-global (nscache.h) and survive reloads, as in
 * 3proxy.
 *
 * No lock is held across network I/O: a lookup copies what it needs out
 * of the cache, asks the servers, and stores the answer afterwards.
 */
#ifndef PX_RESOLVE_H
#define PX_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

struct conf_gen;
struct conf_ctx;
struct nscache;

#define RESOLVE_MAX_SERVERS 5
#define RESOLVE_PTR_NAME "3proxy"

struct resolve_server {
	struct net_addr addr;        /* with port */
	int tcp;                     /* /tcp: length-prefixed TCP */
};

enum resolve_mode {
	RESOLVE_SYSTEM = 0,          /* getaddrinfo */
	RESOLVE_INTERNAL,            /* nserver: records, cache, servers */
	RESOLVE_FAKE                 /* fakeresolve */
};

/* The name-service settings of one generation (immutable once built). */
struct resolve_conf {
	enum resolve_mode mode;              /* the last nserver/fakeresolve */
	struct resolve_server ns[RESOLVE_MAX_SERVERS];
	int nns;
	struct resolve_server authns;        /* authnserver */
	int authns_set;
	size_t cache_size[2];                /* nscache / nscache6 of this
						config; 0 = no cache used */
	struct nscache *records[2];          /* nsrecord entries, or NULL */
	char *dialer;                        /* stored; no effect (dns.md 3.6) */
};

void resolve_conf_free(struct resolve_conf *rc);

/* ---- config commands (rows in conf_cmds.c) ------------------------- */
int resolve_cmd_nserver(struct conf_ctx *ctx, int argc, char **argv);
int resolve_cmd_authnserver(struct conf_ctx *ctx, int argc, char **argv);
int resolve_cmd_fakeresolve(struct conf_ctx *ctx, int argc, char **argv);
int resolve_cmd_nscache(struct conf_ctx *ctx, int argc, char **argv);
int resolve_cmd_nsrecord(struct conf_ctx *ctx, int argc, char **argv);
int resolve_cmd_dialer(struct conf_ctx *ctx, int argc, char **argv);
/* For a `dnspr` line: warn unless an nserver and a cache are in effect
 * (and not fakeresolve), as 3proxy does. */
void resolve_dnspr_warning(struct conf_ctx *ctx);

/* Parse "<ip>[:port][/tcp]" ("[v6]:port" accepted).  Names are resolved
 * only when allow_names is set.  Returns 0 or -1. */
int resolve_parse_server(const char *s, int allow_names,
			 struct resolve_server *out);

/* ---- resolution ------------------------------------------------------ */

/* The daemon's entry point (see above).  out gets port 0.
 * Returns 0, or -1 when the name does not resolve (ERR_HOST_NOT_FOUND). */
int resolve_name(const struct conf_gen *gen, const char *host,
		 enum net_family_pref pref, struct net_addr *out);

struct resolve_result {
	uint8_t addr[16];
	size_t alen;                 /* 4 or 16 */
	uint32_t ttl;                /* seconds left; UINT32_MAX: nsrecord */
};

enum resolve_status {
	RESOLVE_FOUND = 0,
	RESOLVE_NOTFOUND = -1,
	RESOLVE_STOPPED = -2         /* *stop was set while waiting */
};

/* The internal lookup of one family (AF_INET / AF_INET6): nsrecord,
 * cache, then the nserver list, whatever the resolver mode (dnspr uses
 * it directly).  A 0.0.0.0 record is FOUND (callers decide).  stop may
 * be NULL; when it points to a flag that becomes non-zero, waits end
 * within a quarter second.  Returns a resolve_status. */
int resolve_lookup(const struct conf_gen *gen, const char *name, int family,
		   struct resolve_result *res, const int *stop);

/* One raw exchange with a server, for forwarding (dnspr): send query,
 * return the first reply that has the query's id and the QR bit (from
 * the server's address and port).  Returns the reply length (> 0) or a
 * negative resolve_xerr. */
enum resolve_xerr {
	RESOLVE_X_SOCKET = -1,       /* socket() */
	RESOLVE_X_CONNECT = -2,      /* UDP connect() */
	RESOLVE_X_SEND = -3,
	RESOLVE_X_RECV = -4,         /* error, e.g. port unreachable */
	RESOLVE_X_TIMEOUT = -5,      /* no answer within the DNS timeout */
	RESOLVE_X_TCP_CONNECT = -6,
	RESOLVE_X_TCP_LEN = -7,      /* TCP: no length prefix */
	RESOLVE_X_TCP_BODY = -8,     /* TCP: short or unmatched message */
	RESOLVE_X_STOPPED = -9,
	RESOLVE_X_NOMEM = -10
};
int resolve_exchange(const struct conf_gen *gen,
		     const struct resolve_server *srv, const uint8_t *query,
		     size_t qlen, uint8_t *reply, size_t cap,
		     const int *stop);

/* ---- for `auth dnsname` (F-DNS-05) ------------------------------------
 * The authnserver alone when set, else the nserver list, else the system
 * resolver.  Reverse: the PTR name of a; forward: an address of name in
 * the given family.  Return 0 or -1. */
int resolve_auth_reverse(const struct conf_gen *gen, const struct net_addr *a,
			 char *name, size_t cap);
int resolve_auth_forward(const struct conf_gen *gen, const char *name,
			 int family, struct net_addr *out);

/* 16 random bits for query ids. */
uint16_t resolve_random16(void);

#endif
