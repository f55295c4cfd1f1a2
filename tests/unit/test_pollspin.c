/*
 * Unit tests for pollspin.c (os_poll: check again for a short while,
 * yielding, before sleeping; the `pollspin` command, F-PERF): the spin
 * time is clamped, ready descriptors are reported at once, data that
 * arrives during the spin or after it is reported, a hang-up is
 * reported, the caller's timeout is kept (never cut short, and a long
 * spin never outlasts a short timeout), and spin 0 is a plain poll().
 * os_poll_bulk() does the same, and while one bulk waiter spins a
 * second one sleeps (it uses almost no CPU time in its wait).  A thread
 * whose last wait timed out sleeps at once (no CPU time) until a wait
 * sees something again.
 * Only lower bounds, and wide upper bounds, on elapsed and CPU time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "os.h"

static int sv[2];

/* A wait that sees something: this thread's waits spin again. */
static void make_active(void)
{
	os_pollfd_t p;
	char c;

	memset(&p, 0, sizeof(p));
	p.fd = sv[0];
	p.events = POLLIN;
	assert_int_equal(write(sv[1], "a", 1), 1);
	assert_int_equal(os_poll(&p, 1, 1000), 1);
	assert_int_equal(read(sv[0], &c, 1), 1);
}

static int setup(void **state)
{
	(void)state;
	os_poll_spin_set(OS_POLL_SPIN_DEFAULT);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	make_active();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	os_poll_spin_set(OS_POLL_SPIN_DEFAULT);
	return 0;
}

typedef int (*poll_fn)(os_pollfd_t *fds, unsigned n, int timeout_ms);

/* revents of one POLLIN wait on fd through fn, 0 if nothing came */
static int wait_with(poll_fn fn, int fd, int timeout_ms)
{
	os_pollfd_t p;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	p.events = POLLIN;
	if (fn(&p, 1, timeout_ms) != 1)
		return 0;
	return p.revents;
}

static int wait_in(int fd, int timeout_ms)
{
	return wait_with(os_poll, fd, timeout_ms);
}

static int wait_in_bulk(int fd, int timeout_ms)
{
	return wait_with(os_poll_bulk, fd, timeout_ms);
}

static void spin_is_clamped(void **state)
{
	(void)state;
	os_poll_spin_set(-5);
	assert_int_equal(os_poll_spin_get(), 0);
	os_poll_spin_set(OS_POLL_SPIN_MAX + 1);
	assert_int_equal(os_poll_spin_get(), OS_POLL_SPIN_MAX);
	os_poll_spin_set(75);
	assert_int_equal(os_poll_spin_get(), 75);
}

static void ready_is_reported_at_once(void **state)
{
	(void)state;
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_true(wait_in(sv[0], 1000) & POLLIN);
	/* the same through the plain call */
	{
		os_pollfd_t p = { .fd = sv[0], .events = POLLIN };

		assert_int_equal(os_poll_sys(&p, 1, 0), 1);
	}
}

static void *late_writer(void *arg)
{
	useconds_t delay = *(useconds_t *)arg;

	usleep(delay);
	(void)!write(sv[1], "y", 1);
	return NULL;
}

/* A writer after 20 us lands in the spin, after 20 ms in the sleep:
 * both must be reported. */
static void late_data_is_reported(void **state)
{
	static useconds_t delays[] = { 20, 20000 };
	size_t i;

	(void)state;
	os_poll_spin_set(1000);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		pthread_t t;
		char c;

		assert_int_equal(pthread_create(&t, NULL, late_writer,
						&delays[i]), 0);
		assert_true(wait_in(sv[0], 5000) & POLLIN);
		pthread_join(t, NULL);
		assert_int_equal(read(sv[0], &c, 1), 1);
	}
}

static void hangup_is_reported(void **state)
{
	(void)state;
	close(sv[1]);
	sv[1] = -1;
	assert_true(wait_in(sv[0], 1000) & (POLLIN | POLLHUP));
}

static void timeout_is_kept(void **state)
{
	uint64_t t0 = os_monotonic_ms();

	(void)state;
	assert_int_equal(wait_in(sv[0], 30), 0);
	/* never cut short by the time spent spinning */
	assert_true(os_monotonic_ms() - t0 >= 29);
}

static void long_spin_keeps_short_timeout(void **state)
{
	uint64_t t0;

	(void)state;
	os_poll_spin_set(OS_POLL_SPIN_MAX);    /* 100 ms */
	t0 = os_monotonic_ms();
	assert_int_equal(wait_in(sv[0], 5), 0);
	/* the spin stops at the caller's 5 ms, below the 100 ms spin */
	assert_true(os_monotonic_ms() - t0 < 100);
	t0 = os_monotonic_ms();
	assert_int_equal(wait_in(sv[0], 0), 0);
	assert_true(os_monotonic_ms() - t0 < 100);
}

static void spin_zero_is_plain_poll(void **state)
{
	uint64_t t0;

	(void)state;
	os_poll_spin_set(0);
	t0 = os_monotonic_ms();
	assert_int_equal(wait_in(sv[0], 20), 0);
	assert_true(os_monotonic_ms() - t0 >= 19);
	assert_int_equal(write(sv[1], "z", 1), 1);
	assert_true(wait_in(sv[0], 1000) & POLLIN);
}

static void bulk_reports_and_keeps_timeout(void **state)
{
	uint64_t t0;

	(void)state;
	t0 = os_monotonic_ms();
	assert_int_equal(wait_in_bulk(sv[0], 30), 0);
	assert_true(os_monotonic_ms() - t0 >= 29);
	assert_int_equal(write(sv[1], "b", 1), 1);
	assert_true(wait_in_bulk(sv[0], 1000) & POLLIN);
}

static int spinner_started;

static void *bulk_spinner(void *arg)
{
	int fd = *(int *)arg;

	os_atomic_store(&spinner_started, 1);
	(void)wait_in_bulk(fd, 300);
	return NULL;
}

static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* With a 100 ms spin, a 40 ms wait that times out makes the thread
 * idle: the next 40 ms wait costs well under 20 ms of CPU (it would
 * spin all 40 ms otherwise); data still wakes it, and then it is
 * active again. */
static void idle_thread_sleeps_at_once(void **state)
{
	uint64_t c0, c1;

	(void)state;
	os_poll_spin_set(OS_POLL_SPIN_MAX);
	assert_int_equal(wait_in(sv[0], 40), 0);
	c0 = thread_cpu_us();
	assert_int_equal(wait_in(sv[0], 40), 0);
	c1 = thread_cpu_us();
	assert_true(c1 - c0 < 20000);
	assert_int_equal(write(sv[1], "i", 1), 1);
	assert_true(wait_in(sv[0], 1000) & POLLIN);
}

/* While one bulk waiter spins (100 ms spin, nothing arrives), a second
 * one sleeps at once: 60 ms of waiting cost it well under 20 ms of CPU.
 * Without the gate it would spin all 60 ms. */
static void second_bulk_waiter_sleeps(void **state)
{
	int other[2];
	pthread_t t;
	uint64_t c0, c1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
	os_poll_spin_set(OS_POLL_SPIN_MAX);
	os_atomic_store(&spinner_started, 0);
	assert_int_equal(pthread_create(&t, NULL, bulk_spinner, &other[0]), 0);
	while (!os_atomic_load(&spinner_started))
		usleep(100);
	usleep(5000);          /* the spinner is inside its 100 ms spin */
	c0 = thread_cpu_us();
	assert_int_equal(wait_in_bulk(sv[0], 60), 0);
	c1 = thread_cpu_us();
	assert_true(c1 - c0 < 20000);
	pthread_join(t, NULL);
	close(other[0]);
	close(other[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spin_is_clamped),
		cmocka_unit_test_setup_teardown(ready_is_reported_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(late_data_is_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hangup_is_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_is_kept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(long_spin_keeps_short_timeout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(spin_zero_is_plain_poll,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_reports_and_keeps_timeout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(second_bulk_waiter_sleeps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(idle_thread_sleeps_at_once,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
