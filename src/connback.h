/*
 * connback.h - connect-back (-r / -R service options, parent.md section 9).
 *
 * -RHOST:PORT (public side): besides its own port the service listens on
 * HOST:PORT for connect-back connections; each client's "server side" is
 * one of them (connback_take(), from client_connect()) instead of an
 * outgoing connection.
 *
 * -rHOST:PORT (private side): the service does not listen; its listener
 * thread connects out to HOST:PORT again and again, waits for the byte
 * 'C' and serves each such connection as a newly accepted client
 * (connback_client_loop()).
 */
#ifndef PX_CONNBACK_H
#define PX_CONNBACK_H

#include <stddef.h>
#include <stdint.h>

struct service;
struct client;

/* Split "host:port" or "[v6]:port".  Returns 0 or -1. */
int connback_parse(const char *s, char *host, size_t hostcap, uint16_t *port);

/* -R: open the connect-back listener of svc (its listener thread, before
 * the first client).  Failures are logged; clients then get code 13. */
void connback_listen_start(struct service *svc);
/* service_stop(): stop taking connect-back connections. */
void connback_stop(struct service *svc);
/* The service's last reference went: close and free. */
void connback_free(struct service *svc);

/* -R, on the client's worker thread: wait up to CONNECTBACK seconds for
 * a connect-back connection that passes the ACL, send it 'C' and make it
 * cl->srv_sock.  Returns 0 or ERR_CONNECT (13). */
int connback_take(struct client *cl);

/* -r: the listener thread's loop, until svc->stop is set. */
void connback_client_loop(struct service *svc);

#endif
