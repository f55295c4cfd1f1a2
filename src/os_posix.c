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
};

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
	rc = pthread_create(tid, &attr, thread_trampoline, ts);
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

int os_poll(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	return poll(fds, (nfds_t)n, timeout_ms);
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
