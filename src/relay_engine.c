/*
 * relay_engine.c - event-loop threads that carry established tunnels.
 *
 * Why: with a thread per tunnel, every wait for the peer is a sleep, a
 * wake-up and a context switch (or, with pollspin, a yield to the next
 * thread).  Short connections (SOCKS connect, 1 KB, close) spent most of
 * the daemon's CPU there.  A loop thread collects the readiness of all
 * its tunnels in one epoll_wait() and works through them without a
 * switch; an idle tunnel costs a small job record instead of a thread.
 *
 * Each loop owns: an epoll instance (sockets registered edge-triggered,
 * data = job pointer with the side in bit 0; a socket's input is watched
 * only while the relay can use it, see job_mask_input), a min-heap of
 * jobs by the time their next check is due (timeouts, bandwidth delays;
 * at most RELAY_MAX_WAIT of a second apart, as relay.c keeps it), and an
 * inbox.
 *
 * Hand-over (relay_engine_start, on a worker thread): both sockets are
 * added to the epoll set, then the job goes into the loop's inbox under
 * its lock.  Adding a socket that is already writable queues an event at
 * once, so the loop wakes, takes the inbox and runs the first pass.  An
 * event that names a job not yet in the inbox marks it early (under the
 * same lock), and its worker then rings the loop's eventfd once it has
 * posted it.  If neither socket is ready the job waits in the inbox
 * until the loop's next wake-up (at most a second, its longest wait); a
 * job whose first deadline is closer than that also rings the loop.
 *
 * Lock: loop->lock guards the inbox and the jobs' `early` flags only.  Everything else of a loop
 * (heap, jobs, their relays) is touched by the loop thread alone, after
 * the hand-over.
 *
 * A finished job's sockets leave the epoll set (EPOLL_CTL_DEL) before
 * done() closes them; the job record itself is freed only after the
 * current batch of events, which may still name it (it is marked ended).
 */
#include "relay_engine.h"
#include "errcode.h"

#include <stdlib.h>
#include <string.h>

/* Loop threads at most (also the cap of the per-CPU default). */
#define ENGINE_MAX_LOOPS RELAYTHREADS_MAX
/* The longest sleep of a loop: when the inbox is looked at anyway. */
#define ENGINE_MAX_WAIT_MS 1000
#define ENGINE_BATCH 128

static int want_loops = -1;   /* atomic; relaythreads */
static long active_jobs;      /* atomic */

void relay_engine_set_threads(int n)
{
	if (n > ENGINE_MAX_LOOPS)
		n = ENGINE_MAX_LOOPS;
	if (n < -1)
		n = -1;
	os_atomic_store(&want_loops, n);
}

int relay_engine_get_threads(void)
{
	return os_atomic_load(&want_loops);
}

long relay_engine_active(void)
{
	return os_atomic_load(&active_jobs);
}

#ifdef __linux__
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	struct relay *r;
	os_sock_t cs, ss;
	relay_done_fn done;
	void *arg;
	uint64_t due;           /* next pass at the latest (ms) */
	size_t heap_idx;        /* position in the heap; SIZE_MAX: none */
	unsigned turn;          /* the loop's timer turn it last ran in */
	int unwatched;          /* a socket could not be added: end it */
	uint32_t events[2];     /* registered for cs, ss (loop_watch) */
	int early;              /* under lock: an event came before the inbox */
	int ended;
	struct job *next;       /* inbox / list of ended jobs */
};

struct loop {
	int ep, wake;
	os_mutex_t lock;        /* the inbox only */
	struct job *inbox;
	struct job **heap;      /* loop thread only, from here on */
	size_t nheap, capheap;
	struct job *ended;
	unsigned turn;          /* loop_timers calls */
	int moved;              /* a pass of this turn moved data */
	uint64_t spin_until;    /* monotonic us: look again until then */
	os_thread_t *thread;
};

static struct loop *loops[ENGINE_MAX_LOOPS];
static int nloops;                    /* atomic: loops started */
static unsigned next_loop;            /* atomic: round robin */
static os_mutex_t start_lock = OS_MUTEX_INIT;

/* ---- the heap of due times ---------------------------------------------- */

static void heap_set(struct loop *l, size_t i, struct job *j)
{
	l->heap[i] = j;
	j->heap_idx = i;
}

static void heap_up(struct loop *l, size_t i)
{
	struct job *j = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (l->heap[p]->due <= j->due)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, j);
}

static void heap_down(struct loop *l, size_t i)
{
	struct job *j = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (j->due <= l->heap[c]->due)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, j);
}

static int heap_add(struct loop *l, struct job *j)
{
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 256;
		struct job **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		l->heap = h;
		l->capheap = cap;
	}
	heap_set(l, l->nheap++, j);
	heap_up(l, l->nheap - 1);
	return 0;
}

static void heap_remove(struct loop *l, struct job *j)
{
	size_t i = j->heap_idx;
	struct job *last;

	if (i == SIZE_MAX)
		return;
	j->heap_idx = SIZE_MAX;
	last = l->heap[--l->nheap];
	if (last == j)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->heap_idx);
}

/* The job's due time changed: restore the heap order. */
static void heap_fix(struct loop *l, struct job *j)
{
	heap_up(l, j->heap_idx);
	heap_down(l, j->heap_idx);
}

/* ---- one job ------------------------------------------------------------ */

static void job_end(struct loop *l, struct job *j, int code)
{
	j->ended = 1;
	heap_remove(l, j);
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, j->cs, NULL);
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, j->ss, NULL);
	relay_destroy(j->r);
	j->r = NULL;
	os_atomic_dec(&active_jobs);
	j->done(j->arg, code);
	/* events of this batch may still name the job */
	j->next = l->ended;
	l->ended = j;
}

/* What a socket of a job is watched for: input only while its bytes
 * can be used.  A bulk tunnel whose sink is full would otherwise get an
 * edge for every segment that arrives meanwhile, each waking a sleeping
 * loop (and costing the CPU that queued the segment a wake-up) for
 * nothing.  Watching for input again reports input already there, as an
 * edge, so nothing is missed. */
static uint32_t job_events(int parked)
{
	return EPOLLOUT | EPOLLRDHUP | EPOLLET | (parked ? 0 : EPOLLIN);
}

static void job_mask_input(struct loop *l, struct job *j, int side)
{
	struct epoll_event ev;
	uint32_t want = job_events(relay_input_parked(j->r, side));

	if (want == j->events[side])
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = (void *)((uintptr_t)j | (uintptr_t)side);
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, side ? j->ss : j->cs, &ev) == 0)
		j->events[side] = want;
}

static void job_run(struct loop *l, struct job *j)
{
	int wait = 0, moved = 0, code;

	j->turn = l->turn;
	code = j->unwatched ? ERR_RELAY_INTERNAL :
	       relay_pass(j->r, &wait, &moved);
	l->moved |= moved;

	if (code != RELAY_GOING) {
		job_end(l, j, code);
		return;
	}
	job_mask_input(l, j, 0);
	job_mask_input(l, j, 1);
	j->due = os_monotonic_ms() + (uint64_t)wait;
	heap_fix(l, j);
}

/* ---- the loop ----------------------------------------------------------- */

/* New jobs: into the heap, due now (their first pass).  want: a job an
 * event named before it was seen here; if it is not in the inbox yet,
 * it is marked early, and its worker rings the loop once it is. */
static void loop_take_inbox(struct loop *l, struct job *want)
{
	struct job *j, *next;
	uint64_t now;

	if (want == NULL && os_atomic_load(&l->inbox) == NULL)
		return;
	os_mutex_lock(&l->lock);
	j = l->inbox;
	l->inbox = NULL;
	if (want != NULL) {
		for (next = j; next != NULL && next != want; next = next->next)
			;
		if (next == NULL)
			want->early = 1;
	}
	os_mutex_unlock(&l->lock);
	now = os_monotonic_ms();
	/* a new tunnel's first bytes are due any moment: worth a spin */
	if (j != NULL)
		l->moved = 1;
	for (; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->due = now;
		if (heap_add(l, j) != 0)
			job_end(l, j, ERR_NOMEM);
	}
}

static int loop_wait_ms(const struct loop *l)
{
	uint64_t now;

	if (l->nheap == 0)
		return ENGINE_MAX_WAIT_MS;
	now = os_monotonic_ms();
	if (l->heap[0]->due <= now)
		return 0;
	return l->heap[0]->due - now < ENGINE_MAX_WAIT_MS ?
	       (int)(l->heap[0]->due - now) : ENGINE_MAX_WAIT_MS;
}

static void loop_events(struct loop *l, struct epoll_event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uintptr_t tag = (uintptr_t)ev[i].data.ptr;
		struct job *j = (struct job *)(tag & ~(uintptr_t)1);
		uint32_t e = ev[i].events;

		if (j == NULL) {          /* the eventfd */
			uint64_t v;

			(void)read(l->wake, &v, sizeof(v));
			continue;
		}
		if (j->ended)
			continue;
		relay_ready(j->r, (int)(tag & 1),
			    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
			    (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0);
		if (j->heap_idx == SIZE_MAX) {
			/* added, but not in the inbox when it was looked at */
			loop_take_inbox(l, j);
			if (j->heap_idx == SIZE_MAX)
				continue;
		}
		job_run(l, j);
	}
}

static void loop_timers(struct loop *l)
{
	uint64_t now = os_monotonic_ms();

	/* jobs due now, one run each: a job that comes due again at once
	 * (still moving data) waits for the next turn, after the events */
	l->turn++;
	while (l->nheap > 0 && l->heap[0]->due <= now &&
	       l->heap[0]->turn != l->turn)
		job_run(l, l->heap[0]);
}

static void loop_free_ended(struct loop *l)
{
	struct job *j;

	while ((j = l->ended) != NULL) {
		l->ended = j->next;
		free(j);
	}
}

/* Like os_poll (pollspin.c): after work, look again for a while,
 * yielding in between, before sleeping; a sleeping loop must be woken.
 * The spin runs for pollspin microseconds from the last turn that moved
 * data or took new tunnels (the answer to what was moved is due).  An
 * edge that brings no work (bytes arriving for a direction whose output
 * is still pending) neither extends the spin nor ends it: a tunnel
 * waiting for its sink to take more would otherwise fall asleep on
 * every such edge and pay a wake-up for the room it was waiting for. */
static void loop_spin_arm(struct loop *l)
{
	uint64_t limit = (uint64_t)os_poll_spin_get();

	if (l->moved && limit > 0)
		l->spin_until = os_monotonic_us() + limit;
	l->moved = 0;
}

static int loop_wait(struct loop *l, struct epoll_event *ev)
{
	int wait = loop_wait_ms(l), n;

	if (wait == 0 || l->spin_until == 0)
		return epoll_wait(l->ep, ev, ENGINE_BATCH, wait);
	while (os_monotonic_us() < l->spin_until) {
		os_yield();
		n = epoll_wait(l->ep, ev, ENGINE_BATCH, 0);
		if (n != 0)
			return n;
	}
	l->spin_until = 0;
	return epoll_wait(l->ep, ev, ENGINE_BATCH, loop_wait_ms(l));
}

static void loop_main(void *arg)
{
	struct loop *l = arg;
	struct epoll_event ev[ENGINE_BATCH];
	int n;

	for (;;) {
		loop_spin_arm(l);
		n = loop_wait(l, ev);

		if (n < 0 && errno != EINTR)
			os_sleep_ms(10);   /* cannot happen with a valid set */
		loop_take_inbox(l, NULL);
		if (n > 0)
			loop_events(l, ev, n);
		loop_timers(l);
		loop_free_ended(l);
	}
}

static struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev;

	if (l == NULL)
		return NULL;
	os_mutex_init(&l->lock);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (l->ep < 0 || l->wake < 0 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0 ||
	    os_thread_joinable(&l->thread, loop_main, l, 0) != 0) {
		if (l->ep >= 0)
			close(l->ep);
		if (l->wake >= 0)
			close(l->wake);
		os_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

/* CPUs this process may run on: the default number of loops. */
static int engine_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > ENGINE_MAX_LOOPS ? ENGINE_MAX_LOOPS : n;
}

/* The loop for the next tunnel, started on first use; NULL: none. */
static struct loop *engine_pick(void)
{
	int want = os_atomic_load(&want_loops), have;
	unsigned k;

	if (want == 0)
		return NULL;
	if (want < 0)
		want = engine_cpus();
	have = os_atomic_load(&nloops);
	if (have < want) {
		os_mutex_lock(&start_lock);
		while (nloops < want) {
			struct loop *l = loop_new();

			if (l == NULL)
				break;
			loops[nloops] = l;
			os_atomic_store(&nloops, nloops + 1);
		}
		os_mutex_unlock(&start_lock);
		have = os_atomic_load(&nloops);
		if (have == 0)
			return NULL;
		if (have < want)
			want = have;
	}
	k = (unsigned)os_atomic_add(&next_loop, 1u);
	return loops[k % (unsigned)want];
}

static int loop_watch(struct loop *l, struct job *j, os_sock_t s, int side)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = j->events[side] = job_events(0);
	ev.data.ptr = (void *)((uintptr_t)j | (uintptr_t)side);
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, s, &ev);
}

int relay_engine_start(os_sock_t client, os_sock_t server,
		       const struct relay_opts *opts, struct relay_stats *st,
		       relay_done_fn done, void *arg)
{
	struct loop *l;
	struct job *j;
	int soon;

	if (!relay_async_ok(client, server, opts))
		return -1;
	l = engine_pick();
	if (l == NULL)
		return -1;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -1;
	j->r = relay_create(client, server, opts, st);
	if (j->r == NULL) {
		free(j);
		return -1;
	}
	j->cs = client;
	j->ss = server;
	j->done = done;
	j->arg = arg;
	j->heap_idx = SIZE_MAX;
	/* a first deadline within the loop's longest sleep: ring it */
	soon = (opts->idle_timeout_ms > 0 &&
		opts->idle_timeout_ms < ENGINE_MAX_WAIT_MS) ||
	       (opts->total_timeout_ms > 0 &&
		opts->total_timeout_ms < ENGINE_MAX_WAIT_MS);
	os_atomic_inc(&active_jobs);
	/* Watch first, then post: the loop never runs (or ends) a job
	 * before both sockets are added, so j stays valid up to here.
	 * Adding a socket is not expected to fail (connected stream
	 * sockets, a large limit of watches); should it, the job cannot be
	 * taken back (an event may name it already): it ends with 90 at
	 * its first pass. */
	if (loop_watch(l, j, client, 0) != 0 ||
	    loop_watch(l, j, server, 1) != 0)
		j->unwatched = 1;
	os_mutex_lock(&l->lock);
	j->next = l->inbox;
	l->inbox = j;
	/* an event for it came before it was posted: ring the loop */
	if (j->early || j->unwatched)
		soon = 1;
	os_mutex_unlock(&l->lock);
	if (soon) {
		uint64_t one = 1;

		(void)write(l->wake, &one, sizeof(one));
	}
	return 0;
}

#else   /* no epoll: every worker relays its own tunnel */

int relay_engine_start(os_sock_t client, os_sock_t server,
		       const struct relay_opts *opts, struct relay_stats *st,
		       relay_done_fn done, void *arg)
{
	(void)client;
	(void)server;
	(void)opts;
	(void)st;
	(void)done;
	(void)arg;
	return -1;
}

#endif
