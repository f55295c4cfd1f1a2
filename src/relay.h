/*
 * relay.h - the one bidirectional TCP relay every service uses.
 *
 * It copies client->server and server->client until both directions are
 * finished, a timeout fires or an error occurs.  On Linux it moves bulk
 * data with splice() through a pipe created only once a direction carries
 * bulk data; small exchanges and other systems use poll() and a heap
 * buffer allocated on the first byte.  Half-close is propagated: when one
 * side shuts down its sending direction, the other side's sending
 * direction is shut down and the opposite direction keeps flowing.
 */
#ifndef PX_RELAY_H
#define PX_RELAY_H

#include <stdint.h>
#include "os.h"

/* Directions, as passed to the hook. */
enum relay_dir_id {
	RELAY_C2S = 0,         /* read from the client, written to the server */
	RELAY_S2C = 1          /* read from the server, written to the client */
};

/* Optional per-read hook for bandwidth limits and traffic quotas.  Called
 * after n bytes were read in direction dir (pre-data is not reported).
 * Return 0 to go on, or an errcode.h code (e.g. ERR_LIMIT) to end the
 * relay with that code.  Setting *delay_ms > 0 holds further reads in
 * that direction for that long (bandwidth limit); a delay of at least
 * idle_timeout_ms ends the relay with ERR_RELAY_STALL. */
typedef int (*relay_hook_fn)(void *arg, int dir, size_t n, int *delay_ms);

struct relay_opts {
	int idle_timeout_ms;   /* no progress either way -> ERR_RELAY_TIMEOUT; 0 = none */
	int total_timeout_ms;  /* whole relay -> ERR_RELAY_TIMEOUT; 0 = none */
	int linger_ms;         /* after a half-close: max wait to flush; 0 = idle only */
	size_t bufsize;        /* copy buffer per direction (default 65536) */
	int splice;            /* 1 allow splice where available, 0 never */
	int halfclose;         /* 1 keep half-closed sessions (-C1), 0 end (-C) */
	/* 1: the caller closes both sockets as soon as the relay returns,
	 * so the direction that finishes last leaves its FIN to close()
	 * instead of a shutdown() of its own.  0 (default): every finished
	 * direction is shut down before the relay returns. */
	int closing;
	const volatile int *stop;  /* optional: non-zero ends the relay (ERR_OK) */
	/* -gTRAF,NUM,DELAY: when, within the current second, at least
	 * grace_num reads in one direction averaged <= grace_traf bytes
	 * (0 = any size), sleep grace_delay_ms before the next poll.
	 * grace_num 0 = off (default). */
	int grace_traf, grace_num, grace_delay_ms;
	relay_hook_fn hook;    /* optional, see above; NULL = none */
	void *hook_arg;
	/* F-PROC-10: optional re-check after a configuration reload.  At
	 * every iteration of the loop (at least once a second: the longest
	 * poll wait) the relay does one atomic load of *watch; when the
	 * value differs from the last one seen (watch_seen at the start),
	 * recheck(recheck_arg) runs once for it, and a non-zero return
	 * ends the relay with that code.  NULL recheck = none. */
	const int *watch;
	int watch_seen;
	int (*recheck)(void *arg);
	void *recheck_arg;
	/* `logdump IN OUT` (logging.md 6, F-LOG-15): when the bytes from
	 * the server since the last record exceed dump_in, or those from the
	 * client exceed dump_out (0 = that direction off), dump(dump_arg)
	 * runs on the relay's thread: it writes an interim record, which
	 * restarts the byte counts.  NULL dump = none. */
	uint64_t dump_in, dump_out;
	void (*dump)(void *arg);
	void *dump_arg;
	/* Data filters (filter.h): every chunk read in direction dir goes
	 * through filter(); what it returns in *out (valid until the next
	 * call for that direction) is written instead.  A non-zero return
	 * ends the relay with that code.  Needs splice 0.  NULL = none. */
	int (*filter)(void *arg, int dir, const char *in, size_t n,
		      const char **out, size_t *outlen);
	void *filter_arg;
};

struct relay_stats {
	uint64_t bytes_from_client;   /* %O */
	uint64_t bytes_from_server;   /* %I */
	uint64_t reads_from_client, reads_from_server;
};

/* Set opts to the defaults above. */
void relay_opts_default(struct relay_opts *o);

/* Run o->hook (if any) for n bytes just read in direction dir, with the
 * relay's rules: returns 0 and the time to hold further reads in that
 * direction in *delay_ms (0 = none), or the code to end the transfer
 * with: the hook's own code, or ERR_RELAY_STALL when the delay reaches
 * o->idle_timeout_ms.  For loops other than relay_tcp that move a
 * stream (HTTP bodies); the caller waits, without polling the source. */
int relay_hook_apply(const struct relay_opts *o, int dir, size_t n,
		     int *delay_ms);

/* Relay between two connected sockets (blocking or not; the relay makes
 * them non-blocking and leaves them so).  Already-read bytes that must go
 * first can be passed in pre_to_server / pre_to_client (may be NULL); they
 * are counted in bytes_from_client / bytes_from_server as they are
 * written, but not in reads_*.  Returns an errcode.h code: 0, 90..97,
 * ERR_NOMEM, or a code returned by opts->hook.  Byte counts are added to
 * *st atomically as data is read (st and opts may be NULL). */
int relay_tcp(os_sock_t client, os_sock_t server,
	      const void *pre_to_server, size_t pre_to_server_len,
	      const void *pre_to_client, size_t pre_to_client_len,
	      const struct relay_opts *opts, struct relay_stats *st);

/* ---- event-loop mode: for relay_engine.c ---------------------------------
 * The relay above as a state machine that never waits: relay_pass() does
 * all the work the sockets allow now and says how long the loop may wait
 * before the next pass at the latest (timeouts, bandwidth delays).  The
 * sockets must be registered edge-triggered for input and output, and
 * every edge reported to relay_ready() before the next pass. */
struct relay;

#define RELAY_GOING (-1)   /* relay_pass: not finished yet */

/* 1 when a relay with these options may run in an event loop: nothing in
 * it may block (filters, grace sleeps) and neither side is wrapped by an
 * I/O layer.  A recheck runs on the loop thread: the caller hands over
 * only one that does not wait on the network. */
int relay_async_ok(os_sock_t client, os_sock_t server,
		   const struct relay_opts *o);
/* A relay to be driven by relay_pass (opts are copied; st must outlive
 * it).  NULL when out of memory or the sockets are unusable. */
struct relay *relay_create(os_sock_t client, os_sock_t server,
			   const struct relay_opts *opts,
			   struct relay_stats *st);
/* An edge on the client's (server_side 0) or the server's socket. */
void relay_ready(struct relay *r, int server_side, int readable,
		 int writable);
/* Work until every wanted socket would block.  Returns RELAY_GOING with
 * the longest wait before the next pass in *wait_ms (0: at once), or the
 * final errcode.h code, as relay_tcp would return it.  *moved: 0 when
 * the pass found nothing to do (an edge that brought no work). */
int relay_pass(struct relay *r, int *wait_ms, int *moved);
/* 1 while the input from the client's (server_side 0) or the server's
 * socket cannot be used: the direction it feeds still holds bytes its
 * sink has not taken.  The loop need not hear of that socket's input
 * until the bytes are out (each such edge would only wake it). */
int relay_input_parked(const struct relay *r, int server_side);
/* Free the relay's buffers and pipes; the sockets stay open. */
void relay_destroy(struct relay *r);

/* Pipe capacity above the kernel's 64 KiB default that running relays
 * hold now, in bytes (Linux splice pipes; 0 elsewhere).  Bounded by a
 * fixed budget, so that bulk tunnels never push the daemon's user past
 * the kernel's soft limit on pipe memory. */
long relay_pipe_reserved(void);

#endif
