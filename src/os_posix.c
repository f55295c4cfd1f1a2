/*
 * os_posix.c - the platform layer for Linux, the BSDs and macOS.
 */
#include "os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

struct os_thread {
	pthread_t tid;
};

struct thread_start {
	os_thread_fn fn;
	void *arg;
	size_t stacksize;        /* as asked: the key of the idle pool */
};

/*
 * Worker reuse.  A thread started by os_thread_detached() does not exit
 * when its function returns: it parks for up to POOL_PARK_MS, and the
 * next os_thread_detached() with the same stack size hands it the new
 * function instead of creating a thread.  Steady connection churn then
 * costs no clone3/mmap/madvise/exit per connection.
 *
 * Lock: pool.lock guards every field of `pool` and the fn/arg/next of
 * every parked record.  A parked thread sleeps on its own semaphore, which
 * the giver posts after dropping the lock, so the woken thread never
 * waits for the lock (two futex calls per hand-over, no herd).
 * Bounds: at most POOL_IDLE_MAX parked threads per stack size; a parked
 * thread keeps only the stack pages it touched, and gives them back when
 * it exits after POOL_PARK_MS without work.  Parked threads hold no
 * reference to any configuration, so a reload needs nothing from them;
 * os_thread_pool_close() makes them exit before the process does.
 * macOS has no unnamed semaphores: there every call starts a thread.
 */
#define POOL_IDLE_MAX 64
#define POOL_PARK_MS 3000
#define POOL_CLOSE_WAIT_MS 2000

#if !defined(__APPLE__)
#define POOL_ENABLED 1
#endif

#ifdef POOL_ENABLED
struct parked {
	sem_t wake;              /* posted once work is handed over */
	size_t stacksize;
	os_thread_fn fn;         /* set by the giver, under pool.lock */
	void *arg;
	struct parked *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t gone;     /* `leaving` went down */
	struct parked *idle;     /* most recently parked first: warm stack */
	unsigned nidle;
	unsigned leaving;        /* unlinked by os_thread_pool_close, not
				    yet awake */
	int closing;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0,
	   0 };
#endif

int os_init(void)
{
	/* A peer that closes early must give EPIPE, not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- threads ---------------------------------------------------------- */

static void *thread_trampoline(void *p)
{
	struct thread_start ts = *(struct thread_start *)p;

	free(p);
	ts.fn(ts.arg);
	return NULL;
}

#ifdef POOL_ENABLED
static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Call with pool.lock held.  Returns 1 if me was still parked. */
static int pool_unlink(struct parked *me)
{
	struct parked **pp;

	for (pp = &pool.idle; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == me) {
			*pp = me->next;
			pool.nidle--;
			return 1;
		}
	}
	return 0;
}

/* Call with pool.lock held: may a thread of this stack size park? */
static int pool_has_room(size_t stacksize)
{
	const struct parked *p;
	unsigned same = 0;

	if (pool.closing)
		return 0;
	for (p = pool.idle; p != NULL; p = p->next)
		if (p->stacksize == stacksize && ++same >= POOL_IDLE_MAX)
			return 0;
	return 1;
}

/* Wait for the semaphore until the deadline; 0 when posted. */
static int sem_wait_until(sem_t *s, const struct timespec *until)
{
	int rc;

	while ((rc = sem_timedwait(s, until)) != 0 && errno == EINTR)
		;
	return rc;
}

/* Set once by a library before threads use it (os.h). */
static void (*pool_exit_hook)(void);

void os_thread_set_exit_hook(void (*fn)(void))
{
	pool_exit_hook = fn;
}

/* Park until handed work (returns 1, *ts updated) or until the pool
 * closes or POOL_PARK_MS pass (returns 0: the thread should exit). */
static int pool_park(struct parked *me, struct thread_start *ts)
{
	struct timespec until;
	int still;

	pthread_mutex_lock(&pool.lock);
	if (!pool_has_room(me->stacksize)) {
		pthread_mutex_unlock(&pool.lock);
		return 0;
	}
	me->fn = NULL;
	me->next = pool.idle;
	pool.idle = me;
	pool.nidle++;
	pthread_mutex_unlock(&pool.lock);

	deadline_in(&until, POOL_PARK_MS);
	if (sem_wait_until(&me->wake, &until) != 0) {
		/* timed out or closing: leave, unless a giver unlinked this
		 * record meanwhile; its post is then on the way */
		pthread_mutex_lock(&pool.lock);
		still = pool_unlink(me);
		pthread_mutex_unlock(&pool.lock);
		if (still)
			return 0;
		while (sem_wait(&me->wake) != 0 && errno == EINTR)
			;
	}
	if (me->fn == NULL) {        /* woken by os_thread_pool_close */
		/* the closing thread waits for this one's library state */
		if (pool_exit_hook != NULL)
			pool_exit_hook();
		pthread_mutex_lock(&pool.lock);
		pool.leaving--;
		pthread_cond_broadcast(&pool.gone);
		pthread_mutex_unlock(&pool.lock);
		return 0;
	}
	ts->fn = me->fn;
	ts->arg = me->arg;
	return 1;
}

static void *pooled_trampoline(void *p)
{
	struct thread_start ts = *(struct thread_start *)p;
	struct parked me;

	free(p);
	memset(&me, 0, sizeof(me));
	me.stacksize = ts.stacksize;
	if (sem_init(&me.wake, 0, 0) != 0) {
		ts.fn(ts.arg);
		return NULL;
	}
	do {
		ts.fn(ts.arg);
	} while (pool_park(&me, &ts));
	sem_destroy(&me.wake);
	return NULL;
}

/* Hand fn to a parked thread of that stack size.  Returns 0 if one took
 * it, -1 if none is parked. */
static int pool_handoff(os_thread_fn fn, void *arg, size_t stacksize)
{
	struct parked **pp, *p = NULL;

	pthread_mutex_lock(&pool.lock);
	for (pp = &pool.idle; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->stacksize == stacksize) {
			p = *pp;
			*pp = p->next;
			pool.nidle--;
			p->fn = fn;
			p->arg = arg;
			break;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	if (p == NULL)
		return -1;
	/* the record stays valid: its thread consumes this post before it
	 * can run fn, let alone exit */
	sem_post(&p->wake);
	return 0;
}

void os_thread_pool_close(void)
{
	struct timespec until;
	struct parked *p;

	pthread_mutex_lock(&pool.lock);
	pool.closing = 1;
	/* unlinked with fn NULL: each woken thread exits */
	while ((p = pool.idle) != NULL) {
		pool.idle = p->next;
		pool.nidle--;
		pool.leaving++;
		sem_post(&p->wake);
	}
	deadline_in(&until, POOL_CLOSE_WAIT_MS);
	while (pool.leaving > 0)
		if (pthread_cond_timedwait(&pool.gone, &pool.lock, &until) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&pool.lock);
}
#else
void os_thread_pool_close(void)
{
}

void os_thread_set_exit_hook(void (*fn)(void))
{
	(void)fn;
}
#endif

static int thread_create(pthread_t *tid, int detached, os_thread_fn fn,
			 void *arg, size_t stacksize)
{
	pthread_attr_t attr;
	sigset_t all, old;
	struct thread_start *ts;
	int rc;

	ts = malloc(sizeof(*ts));
	if (ts == NULL)
		return -1;
	ts->fn = fn;
	ts->arg = arg;
	ts->stacksize = stacksize;
	pthread_attr_init(&attr);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stacksize > 0) {
		if (stacksize < (size_t)PTHREAD_STACK_MIN)
			stacksize = PTHREAD_STACK_MIN;
		pthread_attr_setstacksize(&attr, stacksize);
	}
	/* Only the main thread handles signals: new threads start with all
	 * of them blocked (the mask is inherited from the creator). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
#ifdef POOL_ENABLED
	rc = pthread_create(tid, &attr,
			    detached ? pooled_trampoline : thread_trampoline, ts);
#else
	rc = pthread_create(tid, &attr, thread_trampoline, ts);
#endif
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(ts);
		errno = rc;
		return -1;
	}
	return 0;
}

int os_thread_detached(os_thread_fn fn, void *arg, size_t stacksize)
{
	pthread_t tid;

#ifdef POOL_ENABLED
	if (pool_handoff(fn, arg, stacksize) == 0)
		return 0;
#endif
	return thread_create(&tid, 1, fn, arg, stacksize);
}

int os_thread_joinable(os_thread_t **out, os_thread_fn fn, void *arg,
		       size_t stacksize)
{
	os_thread_t *t = malloc(sizeof(*t));

	if (t == NULL)
		return -1;
	if (thread_create(&t->tid, 0, fn, arg, stacksize) != 0) {
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void os_thread_join(os_thread_t *t)
{
	if (t == NULL)
		return;
	pthread_join(t->tid, NULL);
	free(t);
}

unsigned long os_thread_id(void)
{
#ifdef __linux__
	return (unsigned long)syscall(SYS_gettid);
#else
	return (unsigned long)(uintptr_t)pthread_self();
#endif
}

unsigned long os_process_id(void)
{
	return (unsigned long)getpid();
}

void os_mutex_init(os_mutex_t *m)
{
	pthread_mutex_init(m, NULL);
}

void os_mutex_lock(os_mutex_t *m)
{
	pthread_mutex_lock(m);
}

void os_mutex_unlock(os_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

void os_mutex_destroy(os_mutex_t *m)
{
	pthread_mutex_destroy(m);
}

/* ---- clocks ----------------------------------------------------------- */

uint64_t os_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t os_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void os_realtime(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

void os_sleep_ms(unsigned ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int os_localtime(time_t t, struct tm *out)
{
	return localtime_r(&t, out) ? 0 : -1;
}

int os_gmtime(time_t t, struct tm *out)
{
	return gmtime_r(&t, out) ? 0 : -1;
}

/* ---- sockets ---------------------------------------------------------- */

int os_sock_close(os_sock_t s)
{
	return close(s);
}

int os_sock_nonblock(os_sock_t s, int on)
{
#ifdef FIONBIO
	/* One ioctl instead of F_GETFL + F_SETFL: the relay and connect
	 * paths switch modes several times per connection. */
	int v = on ? 1 : 0;

	return ioctl(s, FIONBIO, &v);
#else
	int fl = fcntl(s, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(s, F_SETFL, fl);
#endif
}

int os_sock_errno(void)
{
	return errno;
}

int os_errno_is_wouldblock(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

int os_errno_is_inprogress(int err)
{
	return err == EINPROGRESS;
}

int os_errno_is_intr(int err)
{
	return err == EINTR;
}

int os_poll_sys(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	return poll(fds, (nfds_t)n, timeout_ms);
}

void os_yield(void)
{
	sched_yield();
}

const char *os_strerror(int err, char *buf, size_t len)
{
	/* The GNU strerror_r may return a static string instead of filling
	 * buf; the XSI one fills buf.  Handle both without #ifdefs. */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	const char *s = strerror_r(err, buf, len);

	if (s != buf)
		snprintf(buf, len, "%s", s);
#else
	if (strerror_r(err, buf, len) != 0)
		snprintf(buf, len, "error %d", err);
#endif
	return buf;
}

/* ---- dynamic loading --------------------------------------------------- */

void *os_dlopen(const char *path, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_LAZY);

	if (h == NULL && err != NULL) {
		const char *e = dlerror();

		snprintf(err, errlen, "%s", e ? e : "cannot load");
	}
	return h;
}

void *os_dlsym(void *lib, const char *name)
{
	return dlsym(lib, name);
}

/* ---- files ------------------------------------------------------------- */

int os_file_stat(const char *path, int64_t *mtime, int64_t *size)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*mtime = (int64_t)st.st_mtime;
	*size = (int64_t)st.st_size;
	return 0;
}

/* ---- process control --------------------------------------------------- */

int os_daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	return 0;
}

int os_run_shell(const char *cmd)
{
	int st = system(cmd);

	return st == -1 ? -1 : 0;
}

int os_chroot(const char *dir)
{
	if (chroot(dir) != 0)
		return -1;
	return chdir("/");
}

long os_lookup_uid(const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (name[0] >= '0' && name[0] <= '9')
		return strtol(name, NULL, 10);
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	return (long)res->pw_uid;
}

long os_lookup_gid(const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (name[0] >= '0' && name[0] <= '9')
		return strtol(name, NULL, 10);
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	return (long)res->gr_gid;
}

int os_set_uid(long uid)
{
	return setreuid((uid_t)uid, (uid_t)uid);
}

int os_set_gid(long gid)
{
	if (setregid((gid_t)gid, (gid_t)gid) != 0)
		return -1;
	/* Drop supplementary groups too, or root's would stay. */
	if (getuid() == 0) {
		gid_t g = (gid_t)gid;

		(void)setgroups(1, &g);
	}
	return 0;
}

/* ---- randomness ------------------------------------------------------ */

#if defined(__linux__)
#include <sys/random.h>
#endif

/* /dev/urandom, for systems without a system call (or an old kernel). */
static int random_from_device(uint8_t *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
}

int os_random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
	defined(__NetBSD__) || defined(__DragonFly__)
	arc4random_buf(p, n);
	return 0;
#else
#if defined(__linux__)
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;   /* ENOSYS on an old kernel: try the device */
		p += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return 0;
#endif
	return random_from_device(p, n);
#endif
}

/* ---- background commands (log archiver) ----------------------------------- */

#include <spawn.h>
extern char **environ;

/* posix_spawn, not fork: the process has many threads and big heaps. */
long os_spawn_shell(const char *cmd)
{
	char *argv[4];
	pid_t pid;

	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
		return -1;
	return (long)pid;
}

int os_spawn_reap(long handle)
{
	int st;
	pid_t r = waitpid((pid_t)handle, &st, WNOHANG);

	/* -1: already reaped elsewhere (ECHILD) - nothing left to wait for */
	return r == 0 ? 0 : 1;
}
