/*
 * relay.c - the one bidirectional TCP relay every service uses.
 *
 * The worker waits in os_poll() for whatever the two directions need
 * next; every read and write is a non-blocking call (MSG_DONTWAIT, or
 * sockets made non-blocking where that flag is missing).  Each direction is a small
 * pipeline: read from one side into a buffer, write the buffer to the
 * other side, read again only once it is empty.  A direction owns no
 * memory until its first data arrives, so idle tunnels (thousands of
 * CONNECTs waiting on a server) cost two sockets and a thread only.
 *
 * On Linux a direction that carries bulk data (a read fills the whole
 * buffer) switches to splice(): socket -> pipe -> socket, so payload
 * never crosses into user space.  The pipe is made at that moment, for
 * that direction only.  Everything splice-specific sits in one #ifdef
 * section below; elsewhere the relay is plain sockets and os.h.
 *
 * A side with an I/O layer bound (iolayer.h: TLS) is read and written
 * through the layer's ops, and the relay never splices when either side
 * is wrapped.  Bytes a layer already holds are handled before polling:
 * the socket would not report them.
 *
 * Termination (limits.md sections 5-8): both directions reach EOF and
 * are flushed -> 0; a reset or other error on one side -> 95 / 96, on both
 * -> 97; a side that closed while data was still buffered for it -> 94;
 * no bytes moving for idle_timeout_ms (shortened to linger_ms once a side
 * has closed) or the total time spent -> 92; poll() failing -> 91.
 *
 * The loop wakes up at least once a second (RELAY_MAX_WAIT_MS) even when
 * nothing moves: that is when an idle relay sees its stop flag and the
 * configuration generation it watches for `force` (F-PROC-10); no timer
 * or thread per connection is needed for either.
 */
#include "relay.h"
#include "iolayer.h"
#include "sockio.h"
#include "errcode.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_DEFAULT_BUFSIZE  65536
#define RELAY_DEFAULT_LINGER   5000   /* the LINGER timeout slot, ms */
/* The longest single wait: the stop flag and the clocks are looked at
 * at least this often. */
#define RELAY_MAX_WAIT_MS      1000
/* Wake-ups in a row that move nothing mean a socket state the loop does
 * not understand; rather than spin, give up (code 93, as 3proxy does). */
#define RELAY_MAX_IDLE_WAKES   12
#define RELAY_GRACE_WINDOW_MS  1000
/* Event-loop mode: rounds one relay may run per turn before the others
 * get theirs (a bulk tunnel would otherwise keep the loop). */
#define RELAY_PASS_ROUNDS      16

enum relay_side { SIDE_CLIENT = 1, SIDE_SERVER = 2 };

#ifdef __linux__
#define RELAY_HAVE_SPLICE 1
/* A bulk direction's pipe (bytes), and the most pipe capacity above the
 * kernel's 64 KiB default that all relays together may ask for. */
#define RELAY_PIPE_DEFAULT 65536
#ifndef RELAY_SPLICE_PIPE
#define RELAY_SPLICE_PIPE  1048576
#endif
#define RELAY_PIPE_BUDGET  (32L * 1048576L)
/* Unsent bytes a splicing direction lets queue in its destination
 * socket (TCP_NOTSENT_LOWAT); see relay_splice_start. */
#define RELAY_NOTSENT_LOWAT 16384
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

/* Per-direction splice progress. */
enum splice_state {
	SPL_NEVER = -1,   /* not allowed, or it failed: copy for good */
	SPL_COPY = 0,     /* copying; no bulk data seen yet */
	SPL_BULK,         /* a read filled the buffer: switch once flushed */
	SPL_ON            /* moving data through the pipe */
};
#endif

struct relay_dir {
	int id;                    /* RELAY_C2S or RELAY_S2C */
	os_sock_t from, to;
	const struct iolayer *from_io, *to_io;  /* NULL: plain socket */
	int from_side, to_side;    /* SIDE_* for the error codes */
	uint64_t *bytes, *reads;   /* counters in the caller's stats */
	char *buf;                 /* copy buffer; NULL until data came */
	const char *out;           /* next bytes to write: buf or pre-data */
	size_t outlen;
	int out_is_pre;            /* out points into the caller's pre-data */
	int eof;                   /* the reading side closed */
	int done;                  /* eof and everything written */
	int polled_in;             /* POLLIN was asked for this round */
	uint64_t resume_at;        /* hook delay: no reads before this */
	uint64_t win_start;        /* grace window: start, reads, bytes */
	unsigned win_reads;
	uint64_t win_bytes;
	/* Event-loop mode (relay_pass): the last read found the source
	 * empty / the last write found the sink full.  Cleared when the
	 * engine reports an edge on that socket (relay_ready). */
	int dry, full;
#ifdef RELAY_HAVE_SPLICE
	enum splice_state spl;
	int pipefd[2];             /* [0] read end, [1] write end */
	size_t inpipe;             /* bytes in the pipe: still buffered */
	size_t pipesize;           /* what one splice() asks for */
	long pipe_extra;           /* its share of relay_pipe_extra_total */
#endif
};

struct relay {
	const struct relay_opts *o;
	size_t bufsize;
	struct relay_dir d[2];     /* indexed by RELAY_C2S / RELAY_S2C */
	uint64_t start, last_moved;
	int errs;                  /* SIDE_* bits that failed */
	int lost;                  /* data was buffered for a side that left */
	int code;                  /* a final code decided inside a step */
	int moved;                 /* this round changed something */
	int watch_seen;            /* last *o->watch value checked */
	int bulk;                  /* a read filled the buffer */
	int evmode;                /* driven by relay_pass (relay_engine.c) */
#ifdef RELAY_HAVE_SPLICE
	int sigpipe_held;          /* SIGPIPE blocked by us, see below */
	sigset_t oldmask;
#endif
};

void relay_opts_default(struct relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->linger_ms = RELAY_DEFAULT_LINGER;
	o->bufsize = RELAY_DEFAULT_BUFSIZE;
	o->halfclose = 1;
}

/* ---- helpers ---------------------------------------------------------- */

/* Copy buffers of an event-loop thread.  One loop runs the relays of
 * thousands of tunnels, and a direction gives its buffer back as soon as
 * everything in it is written (or a read found nothing), so that idle
 * tunnels hold none: a few freed buffers are kept for the next reads
 * instead of going back to malloc (which trims and re-grows its heap,
 * with page faults, at that rate).  Thread-local: only the loop thread
 * that runs a relay touches its buffers.  Workers use malloc as before. */
#define RELAY_SPARE_BUFS 8

static OS_THREAD_LOCAL char *spare_buf[RELAY_SPARE_BUFS];
static OS_THREAD_LOCAL size_t spare_size[RELAY_SPARE_BUFS];
static OS_THREAD_LOCAL unsigned spare_n;

static char *relay_buf_get(const struct relay *r)
{
	unsigned i;

	for (i = 0; r->evmode && i < spare_n; i++) {
		if (spare_size[i] == r->bufsize) {
			char *b = spare_buf[i];

			spare_n--;
			spare_buf[i] = spare_buf[spare_n];
			spare_size[i] = spare_size[spare_n];
			return b;
		}
	}
	return malloc(r->bufsize);
}

static void relay_buf_put(const struct relay *r, char *b)
{
	if (b != NULL && r->evmode && spare_n < RELAY_SPARE_BUFS) {
		spare_buf[spare_n] = b;
		spare_size[spare_n++] = r->bufsize;
		return;
	}
	free(b);
}

static int relay_err_retry(int err)
{
	return os_errno_is_wouldblock(err) || os_errno_is_intr(err);
}

static size_t relay_dir_pending(const struct relay_dir *d)
{
	size_t n = d->outlen;

#ifdef RELAY_HAVE_SPLICE
	n += d->inpipe;
#endif
	return n;
}

static int relay_any_pending(const struct relay *r)
{
	return relay_dir_pending(&r->d[0]) || relay_dir_pending(&r->d[1]);
}

/* A side has closed: from here on the linger limit applies. */
static int relay_closing(const struct relay *r)
{
	return r->d[0].eof || r->d[1].eof;
}

/* Writing to d->to failed.  If that side had already sent its EOF, it
 * has gone away with our data still queued for it (94); otherwise it is
 * an error on that side. */
static void relay_fail_write(struct relay *r, struct relay_dir *d)
{
	const struct relay_dir *back = &r->d[1 - d->id];

	if (back->eof)
		r->lost = 1;
	else
		r->errs |= d->to_side;
}

/* The reading side of d sent EOF.  This counts as activity: the linger
 * limit that now applies runs from here, as 3proxy's poll timeout does. */
static void relay_saw_eof(struct relay *r, struct relay_dir *d, uint64_t now)
{
	d->eof = 1;
	r->last_moved = now;
	r->moved = 1;
}

/* Book n bytes read in direction d: counters, grace window, hook. */
/* logdump: more than the threshold since the last record?  The counts
 * are written by this thread only (the interim record resets them). */
static int relay_dump_due(const struct relay *r)
{
	const struct relay_opts *o = r->o;

	return (o->dump_in > 0 && *r->d[RELAY_S2C].bytes > o->dump_in) ||
	       (o->dump_out > 0 && *r->d[RELAY_C2S].bytes > o->dump_out);
}

static void relay_account(struct relay *r, struct relay_dir *d, size_t n,
			  uint64_t now)
{
	const struct relay_opts *o = r->o;

	os_atomic_add(d->bytes, (uint64_t)n);
	os_atomic_add(d->reads, 1);
	r->last_moved = now;
	r->moved = 1;
	if (o->grace_num > 0) {
		if (now - d->win_start >= RELAY_GRACE_WINDOW_MS) {
			d->win_start = now;
			d->win_reads = 0;
			d->win_bytes = 0;
		}
		d->win_reads++;
		d->win_bytes += n;
	}
	if (o->hook) {
		int delay = 0;
		int rc = relay_hook_apply(o, d->id, n, &delay);

		if (rc != 0)
			r->code = rc;
		else if (delay > 0)
			d->resume_at = now + (uint64_t)delay;
	}
	if (o->dump != NULL && relay_dump_due(r))
		o->dump(o->dump_arg);
}

int relay_hook_apply(const struct relay_opts *o, int dir, size_t n,
		     int *delay_ms)
{
	int rc;

	*delay_ms = 0;
	if (o == NULL || o->hook == NULL)
		return 0;
	rc = o->hook(o->hook_arg, dir, n, delay_ms);
	if (rc != 0)
		return rc;
	if (*delay_ms <= 0) {
		*delay_ms = 0;
		return 0;
	}
	/* a wait that long would look like a dead peer: 93 (limits.md 3) */
	if (o->idle_timeout_ms > 0 && *delay_ms >= o->idle_timeout_ms)
		return ERR_RELAY_STALL;
	return 0;
}

/* ---- splice (Linux) --------------------------------------------------
 * splice() into a socket cannot take MSG_NOSIGNAL, so a peer that went
 * away would raise SIGPIPE.  The daemon ignores SIGPIPE anyway, but the
 * relay must not depend on it: while a pipe exists SIGPIPE is blocked in
 * this thread, and a SIGPIPE raised meanwhile is taken off the pending
 * set before the old mask comes back. */
#ifdef RELAY_HAVE_SPLICE

static void relay_sigpipe_hold(struct relay *r)
{
	sigset_t set;

	/* an event-loop thread keeps SIGPIPE blocked for good */
	if (r->sigpipe_held || r->evmode)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &set, &r->oldmask) == 0)
		r->sigpipe_held = 1;
}

static void relay_sigpipe_release(struct relay *r)
{
	sigset_t set, pend;
	struct timespec zero = { 0, 0 };

	if (!r->sigpipe_held || sigismember(&r->oldmask, SIGPIPE))
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE))
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &r->oldmask, NULL);
}

/* splice() errors that are ours, not the socket's: the relay cannot go on. */
static int relay_splice_internal(int err)
{
	return err == EBADF || err == EINVAL || err == ESPIPE ||
	       err == ENOMEM || err == ENOSYS;
}

static void relay_pipe_unreserve(struct relay_dir *d);

static void relay_splice_off(struct relay_dir *d)
{
	relay_pipe_unreserve(d);
	if (d->pipefd[0] >= 0)
		close(d->pipefd[0]);
	if (d->pipefd[1] >= 0)
		close(d->pipefd[1]);
	d->pipefd[0] = d->pipefd[1] = -1;
	d->spl = SPL_NEVER;
}

/* Pipe capacity above the default, granted to all relays together.
 * The kernel charges pipe capacity to the user, and once a user holds
 * more than fs.pipe-user-pages-soft (64 MiB by default) every new pipe
 * gets only two pages: keep well below that. */
static long relay_pipe_extra_total;

static void relay_pipe_unreserve(struct relay_dir *d)
{
	if (d->pipe_extra > 0)
		(void)os_atomic_add(&relay_pipe_extra_total, -d->pipe_extra);
	d->pipe_extra = 0;
}

/* Size a new pipe: RELAY_SPLICE_PIPE while the budget lasts and no hook
 * is set, else one buffer (as before).  One splice() moves at most one
 * pipe's worth, so a large pipe means fewer system calls per gigabyte. */
static void relay_pipe_grow(struct relay *r, struct relay_dir *d)
{
	size_t base = r->bufsize > RELAY_PIPE_DEFAULT ? r->bufsize
						      : RELAY_PIPE_DEFAULT;
	long extra = RELAY_SPLICE_PIPE > base ?
		     (long)(RELAY_SPLICE_PIPE - base) : 0;
	int got = -1;

	/* a hook (bandwidth limit, quota) acts after each read: reads stay
	 * one buffer long, so that it acts as often as it always did */
	if (r->o->hook != NULL)
		extra = 0;
	d->pipesize = r->bufsize;
	if (extra > 0 && os_atomic_add(&relay_pipe_extra_total, extra) >
			 RELAY_PIPE_BUDGET) {
		(void)os_atomic_add(&relay_pipe_extra_total, -extra);
		extra = 0;
	}
	d->pipe_extra = extra;
#ifdef F_SETPIPE_SZ
	if (extra > 0) {
		got = fcntl(d->pipefd[1], F_SETPIPE_SZ, (int)(base + extra));
		if (got > (int)r->bufsize)
			d->pipesize = (size_t)got;
		else
			relay_pipe_unreserve(d);
	}
	if (got < 0 && base > RELAY_PIPE_DEFAULT)
		(void)fcntl(d->pipefd[1], F_SETPIPE_SZ, (int)base);
#endif
}

/* Bulk data waits in the pipe, not in the destination socket: the
 * socket takes more only while fewer than RELAY_NOTSENT_LOWAT bytes of
 * it are still unsent.  Otherwise a splice() queues up to a whole pipe
 * there, and the kernel sends that queue whenever the peer's ACKs open
 * the window, on whatever CPU handles them; with the relay on another
 * CPU the segments of one stream then leave from two CPUs and arrive
 * out of order (spurious retransmissions on loopback under BBR).  One
 * tunnel moved 15-20% more at 15-25% less CPU per GB, eight tunnels a
 * third more (doc/performance.md).  Not a socket that refuses it. */
static void relay_notsent_lowat(os_sock_t s)
{
#ifdef TCP_NOTSENT_LOWAT
	int v = RELAY_NOTSENT_LOWAT;

	(void)setsockopt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
#else
	(void)s;
#endif
}

/* The direction's buffer is empty after bulk data: move to splice.  If
 * no pipe can be had, keep copying. */
static void relay_splice_start(struct relay *r, struct relay_dir *d)
{
	/* splice() has no MSG_DONTWAIT: it takes the sockets' own mode,
	 * which copies leave alone (SOCKIO_NEVER_BLOCKS) */
	if (os_sock_nonblock(d->from, 1) != 0 ||
	    os_sock_nonblock(d->to, 1) != 0) {
		d->spl = SPL_NEVER;
		return;
	}
	if (pipe2(d->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
		d->pipefd[0] = d->pipefd[1] = -1;
		d->spl = SPL_NEVER;
		return;
	}
	relay_pipe_grow(r, d);
	relay_notsent_lowat(d->to);
	relay_sigpipe_hold(r);
	d->spl = SPL_ON;
	/* the copy buffer is not needed while splicing */
	relay_buf_put(r, d->buf);
	d->buf = NULL;
	d->out = NULL;
}

/* socket -> pipe, only into an empty pipe: a full pipe would make the
 * readable socket report ready for ever (a busy loop). */
static void relay_splice_read(struct relay *r, struct relay_dir *d,
			      uint64_t now)
{
	ssize_t n = splice(d->from, NULL, d->pipefd[1], NULL, d->pipesize,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	int err;

	if (n > 0) {
		d->inpipe += (size_t)n;
		relay_account(r, d, (size_t)n, now);
		return;
	}
	if (n == 0) {
		relay_saw_eof(r, d, now);
		return;
	}
	err = errno;
	if (relay_err_retry(err)) {
		d->dry = 1;
		return;
	}
	if (err == EINVAL || err == ENOSYS) {
		/* this socket type cannot splice: copy from now on */
		relay_splice_off(d);
		r->moved = 1;
		return;
	}
	if (relay_splice_internal(err))
		r->code = ERR_RELAY_INTERNAL;
	else
		r->errs |= d->from_side;
}

/* pipe -> socket. */
static void relay_splice_write(struct relay *r, struct relay_dir *d,
			       uint64_t now)
{
	ssize_t n = splice(d->pipefd[0], NULL, d->to, NULL, d->inpipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	int err;

	if (n > 0) {
		d->inpipe -= (size_t)n;
		r->last_moved = now;
		r->moved = 1;
		return;
	}
	if (n == 0)
		return;
	err = errno;
	if (relay_err_retry(err)) {
		d->full = 1;
		return;
	}
	if (relay_splice_internal(err))
		r->code = ERR_RELAY_INTERNAL;   /* data stuck in the pipe */
	else
		relay_fail_write(r, d);
}

static int relay_splicing(const struct relay_dir *d)
{
	return d->spl == SPL_ON;
}

#endif

/* ---- copy mode -------------------------------------------------------- */

static void relay_copy_read(struct relay *r, struct relay_dir *d,
			    uint64_t now)
{
	long n;

	if (d->buf == NULL) {
		d->buf = relay_buf_get(r);
		if (d->buf == NULL) {
			r->code = ERR_NOMEM;
			return;
		}
	}
	if (d->from_io != NULL)
		n = d->from_io->ops->read(d->from_io->ctx, d->buf,
					  r->bufsize, 0);
	else
		n = sockio_recv_once(d->from, d->buf, r->bufsize, 0);
	if (n > 0) {
		d->out = d->buf;
		d->outlen = (size_t)n;
		d->out_is_pre = 0;
#ifdef RELAY_HAVE_SPLICE
		if ((size_t)n == r->bufsize && d->spl == SPL_COPY)
			d->spl = SPL_BULK;
#endif
		if ((size_t)n == r->bufsize)
			r->bulk = 1;
		relay_account(r, d, (size_t)n, now);
		if (r->o->filter != NULL && r->code == 0) {
			int rc = r->o->filter(r->o->filter_arg, d->id, d->buf,
					      (size_t)n, &d->out, &d->outlen);

			if (rc != 0)
				r->code = rc;
		}
		return;
	}
	if (r->evmode) {
		/* nothing read: an idle direction of a loop holds no buffer */
		relay_buf_put(r, d->buf);
		d->buf = NULL;
	}
	if (n == 0) {
		relay_saw_eof(r, d, now);
		return;
	}
	if (d->from_io != NULL) {
		/* the layer took what the socket had (part of a record):
		 * that is progress, not a stall */
		if (n == IOLAYER_WANT_READ || n == IOLAYER_WANT_WRITE)
			r->moved = 1;
		else
			r->errs |= d->from_side;
		return;
	}
	if (!relay_err_retry(os_sock_errno()))
		r->errs |= d->from_side;
	else
		d->dry = 1;
}

static void relay_copy_write(struct relay *r, struct relay_dir *d,
			     uint64_t now)
{
	long n = d->to_io != NULL ?
		 d->to_io->ops->write(d->to_io->ctx, d->out, d->outlen) :
		 sockio_send_once(d->to, d->out, d->outlen);

	if (n > 0) {
		/* pre-data was never read here: count it as it leaves */
		if (d->out_is_pre)
			os_atomic_add(d->bytes, (uint64_t)n);
		d->out += n;
		d->outlen -= (size_t)n;
		r->last_moved = now;
		r->moved = 1;
		if (d->outlen == 0) {
			d->out = NULL;
			d->out_is_pre = 0;
#ifdef RELAY_HAVE_SPLICE
			if (d->spl == SPL_BULK && !d->eof)
				relay_splice_start(r, d);
#endif
			/* in a loop an empty buffer goes back to the spares:
			 * an idle tunnel holds none (taking it again for
			 * the next read costs nothing) */
			if (r->evmode && d->buf != NULL) {
				relay_buf_put(r, d->buf);
				d->buf = NULL;
			}
		}
		return;
	}
	if (d->to_io != NULL) {
		if (n != IOLAYER_WANT_READ && n != IOLAYER_WANT_WRITE)
			relay_fail_write(r, d);
		return;
	}
	if (n < 0) {
		if (!relay_err_retry(os_sock_errno()))
			relay_fail_write(r, d);
		else
			d->full = 1;
	}
}

/* ---- one direction, one round ----------------------------------------- */

static void relay_dir_write(struct relay *r, struct relay_dir *d,
			    uint64_t now)
{
	if (d->outlen > 0)
		relay_copy_write(r, d, now);
#ifdef RELAY_HAVE_SPLICE
	else if (d->inpipe > 0)
		relay_splice_write(r, d, now);
#endif
}

static void relay_dir_read(struct relay *r, struct relay_dir *d,
			   uint64_t now)
{
#ifdef RELAY_HAVE_SPLICE
	if (relay_splicing(d)) {
		relay_splice_read(r, d, now);
		return;
	}
#endif
	relay_copy_read(r, d, now);
}

static struct relay_dir *relay_other(struct relay *r, struct relay_dir *d)
{
	return d == &r->d[RELAY_C2S] ? &r->d[RELAY_S2C] : &r->d[RELAY_C2S];
}

/* EOF read and everything written: pass the half-close on. */
static void relay_dir_check_done(struct relay *r, struct relay_dir *d)
{
	if (!d->eof || d->done || relay_dir_pending(d) > 0)
		return;
	d->done = 1;
	r->moved = 1;
	/* With `closing`, the last direction to finish needs no shutdown of
	 * its own: both peers have closed their sides, the relay ends and
	 * the caller's close() sends the same FIN (one system call less per
	 * tunnel).  A wrapped side still ends its layer's stream (TLS
	 * close_notify).  Errors ignored: the peer may already be gone, and
	 * then the other direction finds out by itself. */
	if (r->o->halfclose && (!r->o->closing || d->to_io != NULL ||
				!relay_other(r, d)->done))
		(void)sockio_shutdown_send(d->to);
}

/* Act on what poll reported for this direction's two sockets. */
static void relay_dir_step(struct relay *r, struct relay_dir *d,
			   short rev_from, short rev_to)
{
	const short anyout = POLLOUT | POLLERR | POLLHUP;
	const short anyin = POLLIN | POLLERR | POLLHUP;
	uint64_t now = os_monotonic_ms();

	if (relay_dir_pending(d) > 0 && (rev_to & anyout))
		relay_dir_write(r, d, now);
	if (d->polled_in && (rev_from & anyin) && !r->code &&
	    relay_dir_pending(d) == 0) {
		relay_dir_read(r, d, now);
		/* the other side is very likely writable: save a round */
		if (relay_dir_pending(d) > 0 && !r->code)
			relay_dir_write(r, d, now);
	}
	relay_dir_check_done(r, d);
}

/* ---- the loop --------------------------------------------------------- */

/* The inactivity limit in force: the relay timeout, shortened to the
 * linger time once a side has closed (limits.md section 6).  0 = none. */
static int relay_idle_limit(const struct relay *r)
{
	int idle = r->o->idle_timeout_ms > 0 ? r->o->idle_timeout_ms : 0;
	int linger = r->o->linger_ms;

	if (relay_closing(r) && linger > 0 && (idle == 0 || linger < idle))
		return linger;
	return idle;
}

/* Check the clocks.  Returns 0 and the longest allowed wait in *wait, or
 * the code to end with. */
static int relay_deadlines(const struct relay *r, uint64_t now, int *wait)
{
	uint64_t w = RELAY_MAX_WAIT_MS, end;
	int idle = relay_idle_limit(r), i;

	if (r->o->total_timeout_ms > 0) {
		end = r->start + (uint64_t)r->o->total_timeout_ms;
		if (now >= end)
			return ERR_RELAY_TIMEOUT;
		if (end - now < w)
			w = end - now;
	}
	if (idle > 0) {
		end = r->last_moved + (uint64_t)idle;
		if (now >= end)
			return relay_closing(r) && relay_any_pending(r) ?
			       ERR_RELAY_UNSENT : ERR_RELAY_TIMEOUT;
		if (end - now < w)
			w = end - now;
	}
	for (i = 0; i < 2; i++) {
		if (r->d[i].resume_at > now && r->d[i].resume_at - now < w)
			w = r->d[i].resume_at - now;
	}
	*wait = (int)w;
	return 0;
}

/* Both directions finished (or, with -C, one side closed and all that
 * was buffered went out). */
static int relay_finished(const struct relay *r)
{
	if (r->o->halfclose)
		return r->d[0].done && r->d[1].done;
	return relay_closing(r) && !relay_any_pending(r);
}

/* Reads wanted from d this round.  With -C nothing more is read once
 * either side has closed: only what is buffered still goes out. */
static int relay_dir_wants_read(const struct relay *r,
				const struct relay_dir *d, uint64_t now)
{
	if (d->eof || relay_dir_pending(d) > 0 || now < d->resume_at)
		return 0;
	return r->o->halfclose || !relay_closing(r);
}

/* -g: many small reads within this second -> let them gather. */
static int relay_grace_due(const struct relay *r, uint64_t now)
{
	const struct relay_opts *o = r->o;
	int i;

	if (o->grace_num <= 0 || o->grace_delay_ms <= 0)
		return 0;
	for (i = 0; i < 2; i++) {
		const struct relay_dir *d = &r->d[i];

		if (now - d->win_start >= RELAY_GRACE_WINDOW_MS ||
		    d->win_reads < (unsigned)o->grace_num)
			continue;
		if (o->grace_traf <= 0 ||
		    d->win_bytes <= (uint64_t)o->grace_traf * d->win_reads)
			return 1;
	}
	return 0;
}

/* Both directions act on what the client's and the server's sockets
 * reported.  Returns 0 to go on or the code to end with. */
static int relay_steps(struct relay *r, short cl_rev, short srv_rev)
{
	r->moved = 0;
	relay_dir_step(r, &r->d[RELAY_C2S], cl_rev, srv_rev);
	if (!r->code)
		relay_dir_step(r, &r->d[RELAY_S2C], srv_rev, cl_rev);
	if (r->code)
		return r->code;
	if (r->lost)
		return ERR_RELAY_UNSENT;
	if (r->errs)
		return r->errs == SIDE_CLIENT ? ERR_RELAY_CLIENT :
		       r->errs == SIDE_SERVER ? ERR_RELAY_SERVER :
		       ERR_RELAY_BOTH;
	return 0;
}

/* One wait in poll and the work it allows.  Returns 0 to go on or the
 * code to end with. */
static int relay_round(struct relay *r, int wait, int *idle_wakes)
{
	os_pollfd_t pfd[2];
	int ci = -1, si = -1, i;
	unsigned nfd = 0;
	short cl_ev, srv_ev, cl_rev, srv_rev;
	uint64_t now = os_monotonic_ms();
	struct relay_dir *c2s = &r->d[RELAY_C2S], *s2c = &r->d[RELAY_S2C];
	int n, cl_held, srv_held, rc;

	c2s->polled_in = relay_dir_wants_read(r, c2s, now);
	s2c->polled_in = relay_dir_wants_read(r, s2c, now);
	/* a layer holding readable bytes: act on them without waiting */
	cl_held = c2s->polled_in && iolayer_pending(c2s->from_io) > 0;
	srv_held = s2c->polled_in && iolayer_pending(s2c->from_io) > 0;
	if (cl_held || srv_held)
		wait = 0;
	cl_ev = (short)((c2s->polled_in ? POLLIN : 0) |
			(relay_dir_pending(s2c) ? POLLOUT : 0));
	srv_ev = (short)((s2c->polled_in ? POLLIN : 0) |
			 (relay_dir_pending(c2s) ? POLLOUT : 0));
	/* a socket with nothing asked is left out: poll would still
	 * report its hang-up, and report it again, and again */
	memset(pfd, 0, sizeof(pfd));
	if (cl_ev) {
		pfd[nfd].fd = c2s->from;
		pfd[nfd].events = cl_ev;
		ci = (int)nfd++;
	}
	if (srv_ev) {
		pfd[nfd].fd = s2c->from;
		pfd[nfd].events = srv_ev;
		si = (int)nfd++;
	}
	if (nfd == 0) {
		/* only held back by a hook delay */
		os_sleep_ms((unsigned)wait);
		return 0;
	}
	/* Bulk traffic: one tunnel at a time spins (pollspin.c); more
	 * spinners would take the CPU that the other tunnels' copies
	 * need. */
	n = r->bulk ? os_poll_bulk(pfd, nfd, wait) : os_poll(pfd, nfd, wait);
	if (n < 0)
		return os_errno_is_intr(os_sock_errno()) ? 0 : ERR_RELAY_POLL;
	if (n == 0 && !cl_held && !srv_held)
		return 0;
	for (i = 0; i < (int)nfd; i++) {
		if (pfd[i].revents & POLLNVAL)
			return ERR_RELAY_INTERNAL;
	}
	cl_rev = ci >= 0 ? pfd[ci].revents : 0;
	srv_rev = si >= 0 ? pfd[si].revents : 0;
	if (cl_held)
		cl_rev |= POLLIN;
	if (srv_held)
		srv_rev |= POLLIN;
	rc = relay_steps(r, cl_rev, srv_rev);
	if (rc)
		return rc;
	if (r->moved)
		*idle_wakes = 0;
	else if (++*idle_wakes > RELAY_MAX_IDLE_WAKES)
		return ERR_RELAY_STALL;
	return 0;
}

/* F-PROC-10: the watched generation moved since the last look: let the
 * owner check the connection again (once per change). */
static int relay_recheck(struct relay *r)
{
	int seen = os_atomic_load(r->o->watch);

	if (seen == r->watch_seen)
		return 0;
	r->watch_seen = seen;
	return r->o->recheck(r->o->recheck_arg);
}

static int relay_loop(struct relay *r)
{
	int idle_wakes = 0;

	for (;;) {
		uint64_t now;
		int wait = 0, rc;

		if (r->o->stop && os_atomic_load(r->o->stop))
			return ERR_OK;
		rc = r->o->recheck && r->o->watch ? relay_recheck(r) : 0;
		if (rc)
			return rc;
		if (relay_finished(r))
			return ERR_OK;
		now = os_monotonic_ms();
		rc = relay_deadlines(r, now, &wait);
		if (rc)
			return rc;
		if (relay_grace_due(r, now)) {
			int g = r->o->grace_delay_ms;

			os_sleep_ms((unsigned)(g < wait ? g : wait));
			now = os_monotonic_ms();
			rc = relay_deadlines(r, now, &wait);
			if (rc)
				return rc;
		}
		rc = relay_round(r, wait, &idle_wakes);
		if (rc)
			return rc;
	}
}

/* ---- set-up and tear-down --------------------------------------------- */

static void relay_dir_init(struct relay_dir *d, int id, os_sock_t from,
			   os_sock_t to, uint64_t *bytes, uint64_t *reads,
			   const void *pre, size_t prelen)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->from = from;
	d->to = to;
	d->from_io = iolayer_find(from);
	d->to_io = iolayer_find(to);
	d->from_side = id == RELAY_C2S ? SIDE_CLIENT : SIDE_SERVER;
	d->to_side = id == RELAY_C2S ? SIDE_SERVER : SIDE_CLIENT;
	d->bytes = bytes;
	d->reads = reads;
	if (pre != NULL && prelen > 0) {
		d->out = pre;
		d->outlen = prelen;
		d->out_is_pre = 1;
	}
#ifdef RELAY_HAVE_SPLICE
	d->pipefd[0] = d->pipefd[1] = -1;
#endif
}

static void relay_dir_free(const struct relay *r, struct relay_dir *d)
{
	relay_buf_put(r, d->buf);
	d->buf = NULL;
#ifdef RELAY_HAVE_SPLICE
	if (d->pipefd[0] >= 0)
		relay_splice_off(d);
#endif
}

long relay_pipe_reserved(void)
{
#ifdef RELAY_HAVE_SPLICE
	return os_atomic_load(&relay_pipe_extra_total);
#else
	return 0;
#endif
}

/* Fill r for a relay between client and server (see relay_tcp). */
static int relay_setup(struct relay *r, os_sock_t client, os_sock_t server,
		       const void *pre_to_server, size_t pre_to_server_len,
		       const void *pre_to_client, size_t pre_to_client_len,
		       const struct relay_opts *opts, struct relay_stats *st)
{
	int i;

	if (client == OS_BADSOCK || server == OS_BADSOCK)
		return ERR_RELAY_INTERNAL;
#ifndef SOCKIO_NEVER_BLOCKS
	if (os_sock_nonblock(client, 1) != 0 ||
	    os_sock_nonblock(server, 1) != 0)
		return ERR_RELAY_INTERNAL;
#endif
	memset(r, 0, sizeof(*r));
	r->o = opts;
	r->bufsize = opts->bufsize > 0 ? opts->bufsize : RELAY_DEFAULT_BUFSIZE;
	if (r->bufsize > INT_MAX)
		r->bufsize = INT_MAX;
	r->start = r->last_moved = os_monotonic_ms();
	r->watch_seen = opts->watch_seen;
	relay_dir_init(&r->d[RELAY_C2S], RELAY_C2S, client, server,
		       &st->bytes_from_client, &st->reads_from_client,
		       pre_to_server, pre_to_server_len);
	relay_dir_init(&r->d[RELAY_S2C], RELAY_S2C, server, client,
		       &st->bytes_from_server, &st->reads_from_server,
		       pre_to_client, pre_to_client_len);
	for (i = 0; i < 2; i++) {
#ifdef RELAY_HAVE_SPLICE
		/* a wrapped side must see every byte: no splice (either way) */
		r->d[i].spl = opts->splice && r->d[i].from_io == NULL &&
			      r->d[i].to_io == NULL ? SPL_COPY : SPL_NEVER;
#endif
	}
	return 0;
}

static void relay_teardown(struct relay *r)
{
	int i;

	for (i = 0; i < 2; i++)
		relay_dir_free(r, &r->d[i]);
#ifdef RELAY_HAVE_SPLICE
	relay_sigpipe_release(r);
#endif
}

int relay_tcp(os_sock_t client, os_sock_t server,
	      const void *pre_to_server, size_t pre_to_server_len,
	      const void *pre_to_client, size_t pre_to_client_len,
	      const struct relay_opts *opts, struct relay_stats *st)
{
	struct relay_opts defaults;
	struct relay_stats scratch;
	struct relay r;
	int rc;

	if (opts == NULL) {
		relay_opts_default(&defaults);
		opts = &defaults;
	}
	if (st == NULL) {
		memset(&scratch, 0, sizeof(scratch));
		st = &scratch;
	}
	rc = relay_setup(&r, client, server, pre_to_server, pre_to_server_len,
			 pre_to_client, pre_to_client_len, opts, st);
	if (rc)
		return rc;
	rc = relay_loop(&r);
	relay_teardown(&r);
	return rc;
}

/* ---- event-loop mode (relay_engine.c) ----------------------------------
 * The same directions and steps, driven by readiness edges instead of a
 * poll() of its own: every socket operation that would block marks its
 * direction dry (nothing to read) or full (no room to write), and only
 * an edge reported for that socket (relay_ready) makes it worth trying
 * again.  A pass repeats rounds until nothing moves, so no readiness is
 * ever left unconsumed (edge-triggered notification needs that). */

struct relay_async {
	struct relay r;
	struct relay_opts o;       /* the relay's own copy */
};

int relay_async_ok(os_sock_t client, os_sock_t server,
		   const struct relay_opts *o)
{
	/* left on the worker: anything that may block the loop (filters,
	 * grace sleeps) and wrapped (TLS) sides.  The caller decides
	 * whether its recheck may run there. */
	return o->filter == NULL && o->stop == NULL &&
	       o->grace_num <= 0 && iolayer_find(client) == NULL &&
	       iolayer_find(server) == NULL;
}

struct relay *relay_create(os_sock_t client, os_sock_t server,
			   const struct relay_opts *opts,
			   struct relay_stats *st)
{
	struct relay_async *a = malloc(sizeof(*a));

	if (a == NULL)
		return NULL;
	a->o = *opts;
	if (relay_setup(&a->r, client, server, NULL, 0, NULL, 0, &a->o,
			st) != 0) {
		free(a);
		return NULL;
	}
	a->r.evmode = 1;
	return &a->r;
}

void relay_ready(struct relay *r, int server_side, int readable,
		 int writable)
{
	/* the client's socket is the source of C2S and the sink of S2C */
	struct relay_dir *in = &r->d[server_side ? RELAY_S2C : RELAY_C2S];
	struct relay_dir *out = &r->d[server_side ? RELAY_C2S : RELAY_S2C];

	if (readable)
		in->dry = 0;
	if (writable)
		out->full = 0;
}

int relay_input_parked(const struct relay *r, int server_side)
{
	const struct relay_dir *in = &r->d[server_side ? RELAY_S2C
						       : RELAY_C2S];

	/* a direction reads only once it has written all it holds */
	return relay_dir_pending(in) > 0;
}

/* One round without waiting: each direction tries what it wants and
 * has not been told would block. */
static int relay_ready_round(struct relay *r, uint64_t now)
{
	struct relay_dir *c2s = &r->d[RELAY_C2S], *s2c = &r->d[RELAY_S2C];
	short cl_rev = 0, srv_rev = 0;

	c2s->polled_in = !c2s->dry && relay_dir_wants_read(r, c2s, now);
	s2c->polled_in = !s2c->dry && relay_dir_wants_read(r, s2c, now);
	if (c2s->polled_in)
		cl_rev |= POLLIN;
	if (s2c->polled_in)
		srv_rev |= POLLIN;
	if (!s2c->full)
		cl_rev |= POLLOUT;
	if (!c2s->full)
		srv_rev |= POLLOUT;
	return relay_steps(r, cl_rev, srv_rev);
}

int relay_pass(struct relay *r, int *wait_ms, int *moved)
{
	int round, rc;

	*moved = 1;

	/* relay_pass runs at least once a second (the longest wait) */
	rc = r->o->recheck && r->o->watch ? relay_recheck(r) : 0;
	if (rc)
		return rc;
	for (round = 0; round < RELAY_PASS_ROUNDS; round++) {
		if (relay_finished(r))
			return ERR_OK;
		rc = relay_deadlines(r, os_monotonic_ms(), wait_ms);
		if (rc)
			return rc;
		rc = relay_ready_round(r, os_monotonic_ms());
		if (rc)
			return rc;
		if (!r->moved)
			break;
	}
	if (relay_finished(r))
		return ERR_OK;
	rc = relay_deadlines(r, os_monotonic_ms(), wait_ms);
	if (rc)
		return rc;
	/* still moving after its share of rounds: come back right after
	 * the other relays had theirs */
	if (round == RELAY_PASS_ROUNDS)
		*wait_ms = 0;
	*moved = round > 0;    /* the first round already found nothing */
	return RELAY_GOING;
}

void relay_destroy(struct relay *r)
{
	if (r == NULL)
		return;
	relay_teardown(r);
	/* r is the first member of its relay_async */
	free((struct relay_async *)(void *)r);
}
