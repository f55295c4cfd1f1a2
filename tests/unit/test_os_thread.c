/*
 * Unit tests for os_thread_detached() with worker reuse (os_posix.c):
 * every call runs its function once, with all signals blocked, finished
 * threads are handed the next call, stack sizes are not mixed, and
 * os_thread_pool_close() ends the parked threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <string.h>

#include "os.h"

struct job {
	int done;                    /* atomic: fn has run */
	unsigned long tid;
	int sigs_blocked;
};

static void job_fn(void *arg)
{
	struct job *j = arg;
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	j->sigs_blocked = sigismember(&cur, SIGTERM) &&
			  sigismember(&cur, SIGUSR1);
	j->tid = os_thread_id();
	os_atomic_store(&j->done, 1);
}

static void wait_done(struct job *j)
{
	int i;

	for (i = 0; i < 5000 && !os_atomic_load(&j->done); i++)
		os_sleep_ms(1);
	assert_int_equal(os_atomic_load(&j->done), 1);
}

/* Run one job to its end; a pause lets its thread park (no hook tells
 * when it has: the reuse test asks only for a majority). */
static unsigned long run_one(size_t stacksize)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	assert_int_equal(os_thread_detached(job_fn, &j, stacksize), 0);
	wait_done(&j);
	assert_true(j.sigs_blocked);
	os_sleep_ms(10);
	return j.tid;
}

/* 100 jobs one after another: each runs, on a thread that the earlier
 * jobs left behind almost every time. */
static void test_sequential_jobs_reuse_threads(void **state)
{
	unsigned long first = run_one(65536), same = 0;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		if (run_one(65536) == first)
			same++;
	assert_true(same >= 50);
}

/* A thread parked with one stack size does not take a job that asked
 * for another. */
static void test_stack_sizes_not_mixed(void **state)
{
	unsigned long a, b;

	(void)state;
	a = run_one(65536 + 4096);
	b = run_one(65536 + 8192);
	assert_true(a != b);
}

/* Many jobs at once: all of them run. */
static void test_parallel_jobs(void **state)
{
	struct job j[40];
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	for (i = 0; i < 40; i++)
		assert_int_equal(os_thread_detached(job_fn, &j[i], 65536), 0);
	for (i = 0; i < 40; i++)
		wait_done(&j[i]);
}

#ifdef __linux__
static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
#endif

/* Closing ends every parked thread; later calls still run. */
static void test_close_ends_parked(void **state)
{
	struct job j;
	int i;

	(void)state;
	run_one(65536);
	os_thread_pool_close();
#ifdef __linux__
	for (i = 0; i < 2000 && thread_count() != 1; i++)
		os_sleep_ms(1);
	assert_int_equal(thread_count(), 1);
#else
	(void)i;
#endif
	memset(&j, 0, sizeof(j));
	assert_int_equal(os_thread_detached(job_fn, &j, 65536), 0);
	wait_done(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential_jobs_reuse_threads),
		cmocka_unit_test(test_stack_sizes_not_mixed),
		cmocka_unit_test(test_parallel_jobs),
		cmocka_unit_test(test_close_ends_parked),   /* last: closes */
	};

	os_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
