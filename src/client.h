/*
 * client.h - one accepted connection and the steps a handler calls.
 *
 * The worker thread owns its struct client: no lock.  client_new() and
 * client_finish() are the matched pair; client_finish() is the only exit
 * (closes sockets, writes the access record once, drops the generation
 * reference, wipes secrets, frees).
 */
#ifndef PX_CLIENT_H
#define PX_CLIENT_H

#include <stdint.h>
#include "net.h"
#include "relay.h"

struct service;
struct svc_conf;
struct conf_gen;
struct limit_client;
struct counter_client;
struct parent_list;
struct parent_entry;
struct filter_conn;

/* ACL operation bits (reference acl-auth.md 4.3): what a request does.
 * The values are 3proxy's, so they stay stable for plugins and RADIUS. */
enum px_op {
	OP_CONNECT = 0x00000001, OP_BIND = 0x00000002,
	OP_UDPASSOC = 0x00000004, OP_ICMPASSOC = 0x00000008,
	OP_HTTP_GET = 0x00000100, OP_HTTP_PUT = 0x00000200,
	OP_HTTP_POST = 0x00000400, OP_HTTP_HEAD = 0x00000800,
	OP_HTTP_CONNECT = 0x00001000, OP_HTTP_OTHER = 0x00008000,
	OP_HTTP = 0x0000EF00,
	OP_FTP_GET = 0x00010000, OP_FTP_PUT = 0x00020000,
	OP_FTP_LIST = 0x00040000, OP_FTP_DATA = 0x00080000,
	OP_FTP = 0x000F0000,
	OP_DNSRESOLVE = 0x00100000, OP_ADMIN = 0x01000000
};

/* What was asked. */
struct request {
	char *host;                 /* requested host name, or NULL */
	uint16_t port;
	struct net_addr addr;       /* requested address, once known */
	unsigned command;           /* ACL operation bits */
	int preauth;                /* destination not known yet (SOCKS UDP
				       ASSOCIATE): acl-auth.md section 6 */
};

/* Credentials presented by the client (wiped on free). */
struct credentials {
	char *user;
	char *password;
};

struct client {
	struct service *svc;
	const struct svc_conf *conf;
	struct conf_gen *gen;        /* referenced for the client's life */
	os_sock_t cl_sock;           /* client side */
	os_sock_t srv_sock;          /* server side, OS_BADSOCK if none */
	struct net_addr cl_peer;     /* %C %c */
	struct net_addr cl_local;    /* %i */
	struct net_addr srv_peer;    /* %R %r */
	struct net_addr srv_local;   /* %e */
	struct request req;
	struct credentials cred;
	struct relay_stats stats;
	uint64_t start_ms;           /* monotonic, for %D */
	char *acct_sid;              /* RADIUS Acct-Session-Id, or NULL */
	int hops;                    /* %h */
	int conn_errno;              /* socket error of the last failed
					client_connect(), 0 if none */
	char *text;                  /* %T */
	const char *logname;         /* %N override (e.g. SOCK5), or NULL */
	int logged;                  /* a record was written */
	int nolog;                   /* the matched ACE said `nolog` */
	struct limit_client *lim;   /* limit.c: pipes, connlim slots */
	struct counter_client *cnt;  /* counter.c: counters of the request */
	/* parent.c (F-PAR-*): the chain of the ACE that allowed the request
	 * (set by auth.c; NULL: direct), the terminal tcp/http parent the
	 * server connection goes through, a local redirection waiting to run
	 * (client_relay starts it) and how many were taken. */
	const struct parent_list *parents;
	const struct parent_entry *via;
	const struct parent_entry *redirect;
	int redirect_depth;
	/* F-TLS-04: the connection is an intercepted CONNECT (ssl_mitm);
	 * both sockets carry TLS and no second interception is made. */
	int intercepted;
	/* F-AUTH-14: source address an authentication method chose for
	 * this request's outgoing connection (RADIUS Framed-IP-Address);
	 * NULL = the service's external address.  Reset by each
	 * authorization.  Kept out of line (with acct_sid): few requests
	 * have one, and every idle tunnel would pay for the space. */
	struct net_addr *ext_addr;
	/* Admin /S: links in svc->clients and what the listing shows, both
	 * under svc->cl_lock (service.c).  shown is "user\0host:port", as
	 * of the last successful authorization, or NULL.  Only clients run
	 * by client_main are listed. */
	struct client *svc_next, *svc_prev;
	int listed;
	/* The code that called the handler uses cl after it returns (a
	 * local redirection, STARTTLS from a mail proxy): the tunnel stays
	 * on this thread (client_relay_last). */
	int relay_inline;
	char *shown;
	struct filter_conn *filt;    /* filter.h: attached filters, or NULL */
	/* A destination a filter's client hook preset (plugin_api.h
	 * conn_set_dest, TransparentPlugin), or NULL.  Services whose
	 * target is not in their protocol take it (client_take_preset). */
	struct request *preset;
};

/* Create the client for an accepted socket (takes ownership of fd). */
struct client *client_new(struct service *svc, os_sock_t fd,
			  const struct net_addr *peer);
/* Worker thread body: runs the handler, then client_finish; then, while
 * the service's backlog holds connections, serves those too
 * (service_next_client). */
void client_main(void *arg);
/* The only exit: log with err (unless already logged), close, free. */
void client_finish(struct client *cl, int err);

/* Move the destination preset at accept (cl->preset) into cl->req,
 * unless req already names one (a local redirection).  Returns 1 when
 * it was taken, 0 otherwise. */
int client_take_preset(struct client *cl);

/* Set the %T text (copied). */
void client_set_text(struct client *cl, const char *text);
/* logdump: an interim record during a relay (arg: the client). */
void client_log_interim(void *arg);
/* Write an access record now and reset the byte counters and start
 * time, as 3proxy does for each HTTP request and interim record. */
void client_log(struct client *cl, int err);

/* Check the request (req, cred, client address) against the service's
 * auth chain and ACL.  Returns 0 when allowed, else the auth/ACL code
 * 1..10 (errcode.h) that the handler answers in its protocol's way. */
int client_authorize(struct client *cl);

/* Resolve req.host (or use req.addr) and connect to it within the
 * CONNECT timeout, from the service's external address.  Sets srv_sock,
 * srv_peer, srv_local.  Returns 0 or an errcode.h code. */
int client_connect(struct client *cl);

/* Relay client <-> server with the service's options and the given
 * timeout slot.  Returns the relay's code.  The last act of a handler:
 * the sockets are closed (client_finish) right after it returns, so the
 * relay leaves the last FIN to that close (relay_opts.closing). */
int client_relay(struct client *cl, int idle_timeout_ms);
/* client_relay for a handler that returns its result at once: the
 * tunnel may go to an event-loop thread (relay_engine.h), which then
 * finishes the client (client_finish) when it ends.  In that case
 * CLIENT_HANDED_OFF comes back: the handler returns it untouched and
 * must not use cl any more. */
#define CLIENT_HANDED_OFF (-1000)
int client_relay_last(struct client *cl, int idle_timeout_ms);
/* The same relay (limits, counters, `force`) between two other sockets
 * of this client, e.g. ftppr's data connections: cs is the client's
 * side, ss the server's.  Neither is closed.  Returns the relay's code. */
int client_relay_pair(struct client *cl, os_sock_t cs, os_sock_t ss,
		      int idle_timeout_ms);

/* proto_http.c: serve the decrypted stream of an intercepted CONNECT
 * (after tls_mitm_start) as HTTP proxy requests. */
int proto_http_intercepted(struct client *cl);

#endif
