/*
 * parent.h - parent proxies, chains and local redirection (reference
 * parent.md; config.md 4.6; acl-auth.md 4.4).
 *
 * `parent` lines compile into a struct parent_list attached to the last
 * ACE of the ACL being built (`redirect` makes an ACE with a one-entry
 * list).  A list is immutable once a service has taken the ACL and is
 * refcounted, because ACL entries are copied on write.
 *
 * When the ACE that allowed a request has a list, auth.c records it in
 * cl->parents and client_connect() calls parent_connect(): it picks one
 * entry per weight group (weighted random), connects to the first hop
 * and asks each hop in turn (HTTP CONNECT, SOCKS 4/4a, SOCKS 5) for the
 * next one and finally for the requested destination, leaving
 * cl->srv_sock connected through the whole chain.  A first hop of
 * 0.0.0.0 port 0 is a local redirection: no connection is made and the
 * client stream is later handed to another service's parser
 * (parent_redirect_run(), called by client_relay()).
 *
 * Wire formats of each hop live in parent_proto.c, with pure builders
 * and reply parsers (unit-tested).
 */
#ifndef PX_PARENT_H
#define PX_PARENT_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

struct client;
struct conf_ctx;
struct acl;

enum parent_type {
	PARENT_TCP, PARENT_HTTP, PARENT_CONNECT, PARENT_CONNECTP,
	PARENT_SOCKS4, PARENT_SOCKS4P, PARENT_SOCKS4B,
	PARENT_SOCKS5, PARENT_SOCKS5P, PARENT_SOCKS5B,
	PARENT_EXTIP, PARENT_HA,
	PARENT_POP3, PARENT_SMTP, PARENT_IMAP, PARENT_FTP, PARENT_ADMIN,
	PARENT_TLS, PARENT_DNS
};

/* One `parent` line. */
struct parent_entry {
	enum parent_type type;
	int tls;                    /* "...s": TLS to the parent (stored) */
	int weight;                 /* 1..1000 */
	struct net_addr addr;       /* resolved at config time, with port */
	char *host;                 /* the address as written (+ types) */
	int prefixlen;              /* "/N" suffix, -1 if none */
	char *user, *password;      /* NULL: none; user "*": the client's */
	char *where;                /* "file:line", for messages */
};

/* The chain of one ACE. */
struct parent_list {
	int refs;                   /* atomic */
	int n;
	struct parent_entry *e;
	int reported;               /* config thread: weight error shown */
};

/* ---- lists -------------------------------------------------------------- */

struct parent_list *parent_list_ref(struct parent_list *pl);  /* NULL-safe */
void parent_list_unref(struct parent_list *pl);               /* NULL-safe */

/* 1 when the first entry is a local redirection (0.0.0.0 port 0):
 * such ACEs are skipped on the second pass after a redirection.
 * NULL-safe (0). */
int parent_list_is_local(const struct parent_list *pl);

/* Type name ("socks5+", "https" = http over TLS...) to type.  Returns 0
 * or -1 if unknown. */
int parent_type_parse(const char *name, enum parent_type *type, int *tls);
const char *parent_type_name(enum parent_type type);

/* Weight groups (parent.md section 2): every group of consecutive
 * entries must add up to exactly 1000.  Returns 0 when they do, else -1
 * with *bad the index of the first entry of the faulty group and *sum
 * what that group adds up to. */
int parent_weights_check(const struct parent_list *pl, int *bad, int *sum);

/* ---- hop selection ----------------------------------------------------- */

/* A source of random numbers: returns any 32-bit value. */
typedef uint32_t (*parent_rand_fn)(void *arg);

/* The process-wide source (thread-safe, not for cryptography). */
uint32_t parent_random(void *arg);

/* Pick the entries used for one connection, in chain order: one per
 * group, at random by weight (parent.md section 2, exact algorithm).
 * Writes at most max pointers to out and returns how many. */
int parent_pick(const struct parent_list *pl, parent_rand_fn rnd, void *arg,
		const struct parent_entry **out, int max);

/* ---- requests ------------------------------------------------------------ */

/* Connect cl's server side through the chain pl (the worker thread's
 * client_connect() branch).  Retries the whole chain `parentretries`
 * times.  Returns 0 with cl->srv_sock connected to the destination (or,
 * for a local redirection, 0 with no socket and cl->redirect set), or
 * the code of the last failure: 4, 1x, 30-69, 100, 101. */
int parent_connect(struct client *cl, const struct parent_list *pl);

/* UDP through a SOCKS5 parent (parent.md 4.1 step 5, acl-auth.md 6). */
#define PARENT_ERR_UDP 70           /* UDP through a non-SOCKS5 parent */

struct parent_udp {
	os_sock_t ctl;              /* control connection; OS_BADSOCK: direct */
	struct net_addr relay;      /* the parent's UDP relay */
	int plus;                   /* socks5+: names may be sent as they are */
};

/* Build the chain of pl for a UDP association: the earlier hops are
 * asked for TCP connections as for CONNECT, the last one, which must be
 * socks5 or socks5+, for a UDP ASSOCIATE.  Datagrams then go to
 * u->relay wrapped in a SOCKS5 UDP header; u->ctl must stay open for the
 * association's life (the caller closes it).  A chain of extip / ha
 * entries only gives 0 with u->ctl == OS_BADSOCK (direct).  Returns 0,
 * PARENT_ERR_UDP, or a code of parent_connect(). */
int parent_udp_open(struct client *cl, const struct parent_list *pl,
		    struct parent_udp *u);

/* Run the parser a local redirection chose on cl's client stream (the
 * client_relay() branch).  Returns that parser's code. */
int parent_redirect_run(struct client *cl);

/* For the proxy service: 1 when the server connection ends at an `http`
 * parent, so requests go in absolute form.  When the parent has
 * credentials, hdr (cap bytes) gets a "Proxy-Authorization: Basic ...\r\n"
 * line, else "". */
int parent_http_absolute(const struct client *cl, char *hdr, size_t cap);

/* ---- config ----------------------------------------------------------------- */

/* Report chains whose weights do not form whole groups of 1000 in the
 * ACL a service is about to take.  Returns 0, or 1 after conf_error. */
int parent_acl_check(struct conf_ctx *ctx, const struct acl *acl);

int parent_cmd_parent(struct conf_ctx *ctx, int argc, char **argv);
int parent_cmd_redirect(struct conf_ctx *ctx, int argc, char **argv);
int parent_cmd_parentretries(struct conf_ctx *ctx, int argc, char **argv);

/* ---- hop protocols (parent_proto.c) ------------------------------------------ */

/* What a hop is asked to connect to. */
struct parent_target {
	const char *host;           /* name to send (+ types), or NULL */
	struct net_addr addr;       /* address (len 0: unknown) */
	uint16_t port;
};

/* Partial-read results of the pure parsers below. */
#define PARENT_MORE (-1)

#define PARENT_CONNECT_MAX 600   /* a CONNECT request head */
#define PARENT_SOCKS4_MAX 600    /* a SOCKS4/4a request */
#define PARENT_SOCKS5_MAX 300    /* a SOCKS5 request or auth message */
#define PARENT_NAME_MAX 255      /* names in SOCKS 4a/5 requests */
#define PARENT_CONNECT_NAME_MAX 256

/* HTTP CONNECT request: "CONNECT <host:port> HTTP/1.0", keep-alive and
 * optional Basic credentials.  `plus` sends t->host when set.  Returns
 * the length, or 0 if it does not fit or t has nothing to send. */
size_t parent_connect_request(char *buf, size_t cap, int plus,
			      const struct parent_target *t, const char *user,
			      const char *pass);
/* Status line of the reply: 0 (2xx), 32 (too short), 33 (not 2xx). */
int parent_connect_status(const char *line, size_t n);

/* SOCKS4 (plus: 4a) CONNECT request.  Returns the length, or 0 with
 * *err = 44 (destination not IPv4) or 41 (does not fit). */
size_t parent_socks4_request(uint8_t *buf, size_t cap, int plus,
			     const struct parent_target *t, const char *user,
			     int *err);
/* Reply (8 bytes, or 3 for socks4b): 0, 42 short, 43 rejected. */
int parent_socks4_reply(const uint8_t *b, size_t n, size_t want);

/* SOCKS5 greeting: 05 01 00, or 05 02 00 02 with credentials. */
size_t parent_socks5_greeting(uint8_t *buf, int with_creds);
/* Method reply: 0 with *method, 52 short, 53 version, 54 refused. */
int parent_socks5_method(const uint8_t *b, size_t n, int with_creds,
			 int *method);
/* RFC 1929 request; 0 if a field is longer than 255 bytes. */
size_t parent_socks5_auth(uint8_t *buf, size_t cap, const char *user,
			  const char *pass);
/* RFC 1929 reply: 0, 55 short, 56 rejected. */
int parent_socks5_auth_reply(const uint8_t *b, size_t n);
/* Request with command cmd (1 CONNECT, 3 UDP ASSOCIATE); plus sends
 * the name.  Returns the length, or 0 if there is nothing usable. */
size_t parent_socks5_request(uint8_t *buf, size_t cap, int cmd, int plus,
			     const struct parent_target *t);
/* Reply read so far (n bytes): 0 when complete (bound address in *bnd
 * if it is an IP), PARENT_MORE with *need the total length to read, or
 * 53, 57, 58, 59, 60-69.  `broken` (socks5b): no bound address after an
 * IPv4 reply. */
int parent_socks5_reply(const uint8_t *b, size_t n, int broken, size_t *need,
			struct net_addr *bnd);

/* UDP ASSOCIATE on s, already connected to a SOCKS5 parent (RFC 1929
 * login when user is set).  Returns 0 with the relay's address and port
 * in *relay (an IP; may be unspecified), or a code as for CONNECT. */
int parent_socks5_udp(os_sock_t s, const char *user, const char *pass,
		      int send_ms, int reply_ms, struct net_addr *relay);

/* PROXY protocol v1 line for the `ha` type ("PROXY TCP4 ...\r\n").
 * Returns the length or 0. */
size_t parent_ha_line(char *buf, size_t cap, const struct net_addr *src,
		      const struct net_addr *dst);

/* Drive one hop: ask the proxy on s (of type `type`) to connect to t.
 * Timeouts in ms for sends and for replies.  Returns 0 or a code. */
int parent_negotiate(os_sock_t s, enum parent_type type,
		     const struct parent_target *t, const char *user,
		     const char *pass, int send_ms, int reply_ms);

#endif
