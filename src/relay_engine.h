/*
 * relay_engine.h - event-loop threads that carry established tunnels.
 *
 * A worker thread serves a client's handshake (SOCKS request, CONNECT,
 * tcppm target, TLS hello) and then, instead of relaying itself, hands
 * the two sockets to one of a few event-loop threads and goes back to
 * accept the next client.  One loop thread moves the data of thousands
 * of tunnels with epoll, so an established tunnel costs neither a thread
 * nor its context switches.  Linux only (epoll); elsewhere, and for
 * relays that might block (relay_async_ok), the worker relays itself.
 */
#ifndef PX_RELAY_ENGINE_H
#define PX_RELAY_ENGINE_H

#include "relay.h"

/* Runs on the loop thread when the relay ends, with its errcode.h code;
 * it owns the sockets from then on (typically closes them). */
typedef void (*relay_done_fn)(void *arg, int code);

/* Hand the relay between client and server to a loop thread.  Returns 0
 * when it was taken: from then on only done(arg, code) touches the
 * sockets, opts' callbacks and st (on the loop thread).  Returns -1 when
 * the caller must relay itself: no loop threads (`relaythreads 0`, or
 * not Linux), options that may block (relay_async_ok), no memory. */
int relay_engine_start(os_sock_t client, os_sock_t server,
		       const struct relay_opts *opts, struct relay_stats *st,
		       relay_done_fn done, void *arg);

#define RELAYTHREADS_MAX 64

/* `relaythreads N`: how many loop threads carry tunnels (0 = none: each
 * tunnel stays on its worker thread); -1 = one per CPU the daemon may
 * run on (the default).  Loop threads start on first use; later calls
 * spread new tunnels over the first N. */
void relay_engine_set_threads(int n);
int relay_engine_get_threads(void);

/* Tunnels the loop threads carry now (for tests and /metrics). */
long relay_engine_active(void);

#endif
