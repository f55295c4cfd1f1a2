/*
 * limit.h - bandwidth pipes (bandlimin/bandlimout) and connection limits
 * (connlim), the rule lists they share with traffic quotas (counter.h),
 * and the steps client.c calls (reference limits.md sections 2, 3, 5).
 *
 * The rule lists are global to a generation: every service of the
 * generation sees every rule, in config order, whatever line its service
 * came from.  A rule's ACE fields are compiled by acl.c and matched with
 * acl_rule_match against the request.
 *
 * State shared between workers lives in the rules themselves, each rule
 * behind its own small mutex: a pipe's virtual clock, a connlim count or
 * score.  A worker computes a delay under the pipe's lock and the relay
 * waits after the lock is released; nothing here sleeps or does I/O
 * while holding a lock.
 */
#ifndef PX_LIMIT_H
#define PX_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "os.h"

struct acl_rule;
struct conf_ctx;
struct conf_gen;
struct client;
struct relay_opts;

/* At most this many pipes are attached per direction (limits.md 3). */
#define LIMIT_MAX_PIPES 10
/* Bandwidth below this many bits per second is refused. */
#define LIMIT_MIN_RATE 300

/* ---- one shared pipe (F-LIM-01) -----------------------------------------
 * A virtual clock: next_us is when the pipe has sent everything charged
 * so far.  Charging n bytes at now moves it by n * 8e6 / rate µs from
 * max(next_us, now - slack); the caller waits until the new next_us
 * before reading again.  Idle time is not saved up beyond the slack, so
 * a pipe that was idle does not burst. */
struct limit_pipe {
	os_mutex_t lock;          /* guards next_us */
	uint64_t rate;            /* bits per second, >= LIMIT_MIN_RATE */
	uint64_t next_us;         /* monotonic µs; 0 = never used */
};

void limit_pipe_init(struct limit_pipe *p, uint64_t rate);
void limit_pipe_destroy(struct limit_pipe *p);
/* Time in µs that n bytes take at rate (out = upload: above 512 bytes
 * rounded up to 64-byte units, as 3proxy does). */
uint64_t limit_pipe_cost_us(uint64_t rate, size_t n, int out);
/* Charge n bytes at now_us; returns how long (ms) the caller must wait
 * before it reads again in this direction. */
int limit_pipe_take(struct limit_pipe *p, size_t n, int out,
		     uint64_t now_us);

/* ---- connlim with a period: a decaying score (F-LIM-03) ----------------
 * score is fixed point (LIMIT_SCORE_ONE = one connection); last_ms the
 * time of the last accepted connection.  Not locked: the rule's mutex
 * covers it. */
#define LIMIT_SCORE_ONE 65536u
struct limit_window {
	uint64_t score;
	uint64_t last_ms;
	int used;
};
/* Would one more connection at now_ms stay within rate per period_ms?
 * Returns 1 and records it, or 0 and changes nothing (limits.md 2). */
int limit_window_admit(struct limit_window *w, unsigned rate,
			uint64_t period_ms, uint64_t now_ms);

/* ---- per generation -------------------------------------------------- */
struct limit_conf;
void limit_conf_free(struct limit_conf *lc);

/* ---- config commands (rows in conf_cmds.c) ------------------------------ */
/* Compile the ACE fields of a limit rule (also for count*): problems are
 * reported as config errors ("cmd: ...") and give NULL. */
struct acl_rule *limit_compile_ace(struct conf_ctx *ctx, const char *cmd,
				    int nfields, char **fields);
/* Does the rule match the client's request (at local time now)? */
int limit_match(const struct acl_rule *r, const struct client *cl,
		 time_t now);
/* bandlimin|bandlimout RATE ACE...; nobandlimin|nobandlimout ACE... */
int limit_cmd_bandlim(struct conf_ctx *ctx, int argc, char **argv);
/* connlim RATE PERIOD ACE...; noconnlim ACE... */
int limit_cmd_connlim(struct conf_ctx *ctx, int argc, char **argv);

/* ---- the steps of a request (client.c) ----------------------------------- */
/* After auth and ACL gave rc: when rc is 0, apply connlim (once per
 * client connection) and the traffic quotas (each request).  Returns rc,
 * or ERR_LIMIT when a limit refuses the request. */
int limit_authorize(struct client *cl, int rc);
/* Before a relay: attach the matching bandwidth pipes and, if any limit
 * or quota applies, install limit_relay_hook in o. */
void limit_relay_setup(struct client *cl, struct relay_opts *o);
/* The relay hook (relay.h): charges quotas and pipes for n bytes read in
 * direction dir; arg is the struct client.  Handlers that move data
 * without relay_tcp may call it for each read too. */
int limit_relay_hook(void *arg, int dir, size_t n, int *delay_ms);
/* client_finish: give back connlim slots, free per-client state. */
void limit_client_release(struct client *cl);

/* ---- plugin pipes (plugin_api.h pipe_new, conn_limit) --------------------
 * A bandwidth pipe a plugin owns (LdapPlugin's per-user rate), applied to
 * traffic read from servers like a matching bandlimin rule's pipe, and
 * shared by every connection it is attached to.  Reference counted like
 * px_quota (counter.h).  Any thread. */
struct px_pipe;
/* NULL if bps < LIMIT_MIN_RATE or no memory. */
struct px_pipe *limit_ext_pipe_new(uint64_t bps);
void limit_ext_pipe_unref(struct px_pipe *p);
/* Use p for cl's current request (limit_authorize drops it at the
 * next).  Returns 0 or -1 (no memory). */
int limit_ext_pipe_attach(struct client *cl, struct px_pipe *p);

/* ---- process (main.c) ---------------------------------------------------- */
/* From the main loop: counter resets, reports and saves when due. */
void limit_tick(struct conf_gen *gen, time_t now);
/* At exit: save the counters. */
void limit_shutdown(struct conf_gen *gen);

#endif
