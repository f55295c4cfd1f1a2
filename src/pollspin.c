/*
 * pollspin.c - os_poll(): check again for a short while before sleeping.
 *
 * Why: a worker thread that sleeps in poll() is woken by the kernel when
 * its peer answers.  The wake-up is the dearest part of a short
 * exchange: an idle CPU has to be woken by an interrupt from another
 * one (on a virtual machine the host must first reschedule that vCPU,
 * tens of microseconds), and under load every sleep adds a wake-up and a
 * full context switch.  Request/response traffic usually answers within
 * a few tens of microseconds, so a worker that keeps checking its
 * descriptors for that long catches most answers without sleeping.
 * Between checks it yields the CPU, so under load the other workers run
 * instead of waiting for it; when nothing else is runnable the checks
 * follow each other directly.
 *
 * The spin is bounded by `pollspin` (microseconds, default
 * OS_POLL_SPIN_DEFAULT; 0 turns it off) and by the caller's timeout.  It
 * costs at most that much CPU per wait, which idle connections pay once
 * per event.
 *
 * A thread whose last wait ran out with nothing ready serves an idle
 * peer: it sleeps at once until one of its waits sees something again.
 * An idle tunnel that wakes up every second to check its timers thus
 * costs no spin, however many there are.
 *
 * Tunnels moving bulk data wait for buffer space or the next burst.  One
 * such tunnel gains from the spin (its relay answers each burst at
 * once), but several spinning together take the CPU that the others'
 * copies need: os_poll_bulk() lets one of them spin at a time.
 */
#include "os.h"


static int spin_us = OS_POLL_SPIN_DEFAULT;   /* atomic */
/* This thread's last wait timed out: its peers are idle. */
static OS_THREAD_LOCAL int thread_idle;
static int bulk_spinning;                     /* atomic: bulk spinners */

void os_poll_spin_set(int usec)
{
	if (usec < 0)
		usec = 0;
	if (usec > OS_POLL_SPIN_MAX)
		usec = OS_POLL_SPIN_MAX;
	os_atomic_store(&spin_us, usec);
}

int os_poll_spin_get(void)
{
	return os_atomic_load(&spin_us);
}

/* Check until something is ready or `limit` microseconds pass.  Returns
 * poll()'s result (0 when the time ran out); *spent is the time used. */
static int poll_spin(os_pollfd_t *fds, unsigned n, uint64_t limit,
		     uint64_t *spent)
{
	uint64_t start = os_monotonic_us(), now = start;
	int r;

	do {
		/* callers have just found nothing: let others run first */
		os_yield();
		r = os_poll_sys(fds, n, 0);
		if (r != 0)
			break;
		now = os_monotonic_us();
	} while (now - start < limit);
	*spent = now - start;
	return r;
}

/* Sleep in poll(); note whether the wait ran out with nothing ready. */
static int poll_sleep(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	int r = os_poll_sys(fds, n, timeout_ms);

	thread_idle = r == 0;
	return r;
}

/* Spin for up to `spin` us (never beyond the caller's timeout), then
 * sleep for what is left.  With a `gate`, only one caller at a time
 * spins; the others go to sleep at once. */
static int poll_spin_then_sleep(os_pollfd_t *fds, unsigned n,
				int timeout_ms, int *gate)
{
	int spin = os_atomic_load(&spin_us);
	uint64_t limit = (uint64_t)spin, spent = 0;
	int r;

	if (timeout_ms == 0 || spin <= 0 || n == 0)
		return os_poll_sys(fds, n, timeout_ms);
	if (thread_idle)
		return poll_sleep(fds, n, timeout_ms);
	if (gate != NULL && os_atomic_inc(gate) != 1) {
		os_atomic_dec(gate);
		return poll_sleep(fds, n, timeout_ms);
	}
	if (timeout_ms > 0 && (uint64_t)timeout_ms * 1000u < limit)
		limit = (uint64_t)timeout_ms * 1000u;
	r = poll_spin(fds, n, limit, &spent);
	if (gate != NULL)
		os_atomic_dec(gate);
	if (r != 0)
		return r;
	if (timeout_ms > 0) {
		uint64_t ms = spent / 1000u;

		if (ms >= (uint64_t)timeout_ms) {
			thread_idle = 1;
			return 0;
		}
		timeout_ms -= (int)ms;
	}
	return poll_sleep(fds, n, timeout_ms);
}

int os_poll(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	return poll_spin_then_sleep(fds, n, timeout_ms, NULL);
}

int os_poll_bulk(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	return poll_spin_then_sleep(fds, n, timeout_ms, &bulk_spinning);
}
