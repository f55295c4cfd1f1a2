/*
 * os.h - the platform layer.
 *
 * Everything that differs between POSIX systems and Windows lives behind
 * these few functions and types, so the rest of the daemon has no #ifdef
 * in its logic.  os_posix.c and os_win32.c each implement all of it; the
 * build picks one.
 */
#ifndef PX_OS_H
#define PX_OS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* printf-style argument checking where the compiler has it. */
#if defined(__GNUC__) || defined(__clang__)
#define PX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PX_PRINTF(fmt, args)
#endif

#ifdef _WIN32
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601   /* Windows 7: inet_pton, WSAPoll */
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
typedef SOCKET os_sock_t;
#define OS_BADSOCK INVALID_SOCKET
typedef int os_socklen_t;
typedef SRWLOCK os_mutex_t;
#define OS_MUTEX_INIT SRWLOCK_INIT
typedef struct pollfd os_pollfd_t;
#else
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
typedef int os_sock_t;
#define OS_BADSOCK (-1)
typedef socklen_t os_socklen_t;
typedef pthread_mutex_t os_mutex_t;
#define OS_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
typedef struct pollfd os_pollfd_t;
#endif

/* ---- atomics: plain counters shared between threads ---------------- */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define os_atomic_inc(p) _InterlockedIncrement((volatile long *)(p))
#define os_atomic_dec(p) _InterlockedDecrement((volatile long *)(p))
#define os_atomic_add(p, v) (_InterlockedExchangeAdd((volatile long *)(p), (v)) + (v))
#define os_atomic_load(p) _InterlockedCompareExchange((volatile long *)(p), 0, 0)
#define os_atomic_store(p, v) _InterlockedExchange((volatile long *)(p), (v))
/* 64-bit counters (byte totals) */
#define os_atomic_add64(p, v) (_InterlockedExchangeAdd64((volatile __int64 *)(p), (v)) + (v))
#define os_atomic_load64(p) _InterlockedCompareExchange64((volatile __int64 *)(p), 0, 0)
#else
#define os_atomic_inc(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define os_atomic_dec(p) __atomic_sub_fetch((p), 1, __ATOMIC_SEQ_CST)
#define os_atomic_add(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define os_atomic_load(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define os_atomic_store(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define os_atomic_add64(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define os_atomic_load64(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#endif

/* ---- start-up ------------------------------------------------------- */
/* Once per process: socket library, signal dispositions for threads. */
int os_init(void);

/* ---- threads and locks ---------------------------------------------- */
/* Storage of one per thread (C11 _Thread_local; MSVC's spelling). */
#if defined(_MSC_VER) && !defined(__clang__)
#define OS_THREAD_LOCAL __declspec(thread)
#else
#define OS_THREAD_LOCAL _Thread_local
#endif

typedef struct os_thread os_thread_t;   /* opaque; joinable handle */
typedef void (*os_thread_fn)(void *arg);

/* Run fn(arg) on a detached thread with the given stack size (0 = system
 * default).  All signals are blocked in that thread.  Returns 0 or -1.
 * The thread may be a reused one that ran an earlier fn: nothing of the
 * earlier call may be left in thread-local state. */
int os_thread_detached(os_thread_fn fn, void *arg, size_t stacksize);
/* Before the process exits: idle reused threads end (waits up to 2 s).
 * Later os_thread_detached() calls still work but reuse nothing. */
void os_thread_pool_close(void);
/* A library with per-thread state (OpenSSL) registers its cleanup here:
 * an idle reused thread ended by os_thread_pool_close() runs it before
 * the closing thread stops waiting, so the process never exits while
 * that state is half torn down.  Set once, before threads use it. */
void os_thread_set_exit_hook(void (*fn)(void));
/* Start a joinable thread; *out receives a handle for os_thread_join. */
int os_thread_joinable(os_thread_t **out, os_thread_fn fn, void *arg,
		       size_t stacksize);
void os_thread_join(os_thread_t *t);
unsigned long os_thread_id(void);
unsigned long os_process_id(void);

void os_mutex_init(os_mutex_t *m);
void os_mutex_lock(os_mutex_t *m);
void os_mutex_unlock(os_mutex_t *m);
void os_mutex_destroy(os_mutex_t *m);

/* ---- clocks ---------------------------------------------------------- */
uint64_t os_monotonic_ms(void);          /* for intervals and timeouts */
uint64_t os_monotonic_us(void);          /* the same in microseconds */
void os_realtime(struct timespec *ts);   /* wall clock, for log records */
void os_sleep_ms(unsigned ms);
int os_localtime(time_t t, struct tm *out);
int os_gmtime(time_t t, struct tm *out);

/* ---- randomness -------------------------------------------------------- */
/* Fill buf with n bytes from the system's cryptographic random source
 * (getrandom / arc4random / /dev/urandom; RtlGenRandom on Windows).
 * Returns 0, or -1 if the source failed: never falls back to a weak one. */
int os_random_bytes(void *buf, size_t n);

/* ---- sockets --------------------------------------------------------- */
int os_sock_close(os_sock_t s);
int os_sock_nonblock(os_sock_t s, int on);
int os_sock_errno(void);                 /* last socket error code */
int os_errno_is_wouldblock(int err);
int os_errno_is_inprogress(int err);
int os_errno_is_intr(int err);
/* poll() on every platform; timeout in ms, -1 = forever.  A wait that
 * would sleep first checks the descriptors again for up to the spin
 * time, yielding the CPU between checks (pollspin.c). */
int os_poll(os_pollfd_t *fds, unsigned n, int timeout_ms);
/* The same for a tunnel moving bulk data: at most one such waiter in
 * the process spins at a time, the others sleep at once. */
int os_poll_bulk(os_pollfd_t *fds, unsigned n, int timeout_ms);
/* The same as one plain system call, without the spin. */
int os_poll_sys(os_pollfd_t *fds, unsigned n, int timeout_ms);
/* The spin time of os_poll() in microseconds; 0 = sleep at once. */
#define OS_POLL_SPIN_DEFAULT 50
#define OS_POLL_SPIN_MAX 100000
void os_poll_spin_set(int usec);
int os_poll_spin_get(void);
/* Give the CPU to another runnable thread, if there is one. */
void os_yield(void);
/* Thread-safe strerror into buf; returns buf. */
const char *os_strerror(int err, char *buf, size_t len);

/* ---- dynamic loading ------------------------------------------------- */
void *os_dlopen(const char *path, char *err, size_t errlen);
void *os_dlsym(void *lib, const char *name);

/* ---- files ----------------------------------------------------------- */
/* Modification time and size of a file; -1 if it cannot be examined. */
int os_file_stat(const char *path, int64_t *mtime, int64_t *size);

/* ---- process control (POSIX only; Windows returns -1 where absent) --- */
int os_daemonize(void);
int os_run_shell(const char *cmd);       /* waits; -1 if the shell failed */
int os_chroot(const char *dir);
/* Look up a user or group: numeric if it starts with a digit.
 * Returns the id, or -1 if unknown. */
long os_lookup_uid(const char *name);
long os_lookup_gid(const char *name);
int os_set_uid(long uid);
int os_set_gid(long gid);

/* Start `cmd` through the shell without waiting (the log archiver).
 * Returns a handle >= 0, or -1.  os_spawn_reap() returns 1 once the
 * process has ended (and releases the handle), 0 while it runs. */
long os_spawn_shell(const char *cmd);
int os_spawn_reap(long handle);

#endif
