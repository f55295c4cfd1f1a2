/*
 * os_win32.c - the platform layer for Windows (MSVC and mingw-w64).
 *
 * Socket error codes here are Winsock's (WSAE*), which is what
 * os_sock_errno() returns and os_strerror() understands.  POSIX process
 * control has no counterpart: those calls return -1 or do the nearest
 * thing, as os.h allows.
 */
#include "os.h"

#include <errno.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

struct os_thread {
	HANDLE h;
};

struct thread_start {
	os_thread_fn fn;
	void *arg;
};

int os_init(void)
{
	WSADATA wd;

	/* Winsock must be started before the first socket call. */
	if (WSAStartup(MAKEWORD(2, 2), &wd) != 0)
		return -1;
	return 0;
}

/* ---- threads ---------------------------------------------------------- */

static unsigned __stdcall thread_trampoline(void *p)
{
	struct thread_start ts = *(struct thread_start *)p;

	free(p);
	ts.fn(ts.arg);
	return 0;
}

/* Returns the thread handle or NULL.  The stack size is a reservation,
 * not a commitment, as on POSIX: thousands of idle client threads must
 * not pin their whole stacks. */
static HANDLE thread_create(os_thread_fn fn, void *arg, size_t stacksize)
{
	struct thread_start *ts;
	uintptr_t h;

	ts = malloc(sizeof(*ts));
	if (ts == NULL)
		return NULL;
	ts->fn = fn;
	ts->arg = arg;
	if (stacksize > 0xffffffffu)
		stacksize = 0xffffffffu;
	h = _beginthreadex(NULL, (unsigned)stacksize, thread_trampoline, ts,
			   STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
	if (h == 0) {
		free(ts);
		return NULL;
	}
	return (HANDLE)h;
}

int os_thread_detached(os_thread_fn fn, void *arg, size_t stacksize)
{
	HANDLE h = thread_create(fn, arg, stacksize);

	if (h == NULL)
		return -1;
	/* Closing the handle detaches: the thread runs on by itself. */
	CloseHandle(h);
	return 0;
}

/* Threads are not reused here: nothing is parked. */
void os_thread_pool_close(void)
{
}

void os_thread_set_exit_hook(void (*fn)(void))
{
	(void)fn;
}

int os_thread_joinable(os_thread_t **out, os_thread_fn fn, void *arg,
		       size_t stacksize)
{
	os_thread_t *t = malloc(sizeof(*t));

	if (t == NULL)
		return -1;
	t->h = thread_create(fn, arg, stacksize);
	if (t->h == NULL) {
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
	WaitForSingleObject(t->h, INFINITE);
	CloseHandle(t->h);
	free(t);
}

unsigned long os_thread_id(void)
{
	return (unsigned long)GetCurrentThreadId();
}

unsigned long os_process_id(void)
{
	return (unsigned long)GetCurrentProcessId();
}

/* SRW locks need no destruction and have a static initializer, which
 * keeps OS_MUTEX_INIT usable the same way as on POSIX. */
void os_mutex_init(os_mutex_t *m)
{
	InitializeSRWLock(m);
}

void os_mutex_lock(os_mutex_t *m)
{
	AcquireSRWLockExclusive(m);
}

void os_mutex_unlock(os_mutex_t *m)
{
	ReleaseSRWLockExclusive(m);
}

void os_mutex_destroy(os_mutex_t *m)
{
	(void)m;
}

/* ---- clocks ----------------------------------------------------------- */

uint64_t os_monotonic_ms(void)
{
	return (uint64_t)GetTickCount64();
}

uint64_t os_monotonic_us(void)
{
	static LARGE_INTEGER freq;
	LARGE_INTEGER now;

	if (freq.QuadPart == 0)
		QueryPerformanceFrequency(&freq);   /* fixed at boot */
	QueryPerformanceCounter(&now);
	return (uint64_t)(now.QuadPart / freq.QuadPart) * 1000000u +
	       (uint64_t)(now.QuadPart % freq.QuadPart) * 1000000u /
	       (uint64_t)freq.QuadPart;
}

void os_realtime(struct timespec *ts)
{
	/* FILETIME counts 100 ns units since 1601-01-01. */
	static const uint64_t epoch_delta = 116444736000000000ull;
	FILETIME ft;
	uint64_t t;

	GetSystemTimeAsFileTime(&ft);
	t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
	t = t > epoch_delta ? t - epoch_delta : 0;
	ts->tv_sec = (time_t)(t / 10000000u);
	ts->tv_nsec = (long)(t % 10000000u) * 100;
}

void os_sleep_ms(unsigned ms)
{
	Sleep(ms);
}

int os_localtime(time_t t, struct tm *out)
{
	return localtime_s(out, &t) == 0 ? 0 : -1;
}

int os_gmtime(time_t t, struct tm *out)
{
	return gmtime_s(out, &t) == 0 ? 0 : -1;
}

/* ---- randomness ------------------------------------------------------- */

/* RtlGenRandom (SystemFunction036 in advapi32, already linked): the
 * system's cryptographic generator without a CryptoAPI context. */
#include <ntsecapi.h>

int os_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ULONG k = n > 65536 ? 65536 : (ULONG)n;

		if (!RtlGenRandom(p, k))
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* ---- sockets ---------------------------------------------------------- */

int os_sock_close(os_sock_t s)
{
	return closesocket(s) == 0 ? 0 : -1;
}

int os_sock_nonblock(os_sock_t s, int on)
{
	u_long v = on ? 1 : 0;

	return ioctlsocket(s, FIONBIO, &v) == 0 ? 0 : -1;
}

int os_sock_errno(void)
{
	return WSAGetLastError();
}

int os_errno_is_wouldblock(int err)
{
	return err == WSAEWOULDBLOCK;
}

/* A non-blocking connect() on Windows reports WSAEWOULDBLOCK where POSIX
 * says EINPROGRESS; both mean "wait for writability". */
int os_errno_is_inprogress(int err)
{
	return err == WSAEINPROGRESS || err == WSAEWOULDBLOCK;
}

int os_errno_is_intr(int err)
{
	return err == WSAEINTR;
}

void os_yield(void)
{
	SwitchToThread();
}

int os_poll_sys(os_pollfd_t *fds, unsigned n, int timeout_ms)
{
	/* WSAPoll rejects an empty set; POSIX poll() just waits. */
	if (n == 0) {
		if (timeout_ms > 0)
			Sleep((DWORD)timeout_ms);
		else if (timeout_ms < 0)
			Sleep(INFINITE);
		return 0;
	}
	return WSAPoll(fds, (ULONG)n, timeout_ms);
}

/* Text of a Winsock or Win32 error code from the system message table;
 * returns the length written (0 if the system has no text for it). */
static size_t sys_message(DWORD code, char *buf, size_t len)
{
	DWORD n;

	n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
			   FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, buf,
			   len > 0xffff ? 0xffff : (DWORD)len, NULL);
	/* The system text ends in ".\r\n"; log lines want none of that. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	return n;
}

/* Winsock codes (from os_sock_errno) start at WSABASEERR; smaller values
 * are C library errno codes (files, threads). */
const char *os_strerror(int err, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return buf;
	buf[0] = '\0';
	if (err < WSABASEERR) {
		if (strerror_s(buf, len, err) != 0)
			snprintf(buf, len, "error %d", err);
	} else if (sys_message((DWORD)err, buf, len) == 0) {
		snprintf(buf, len, "error %d", err);
	}
	return buf;
}

/* ---- dynamic loading --------------------------------------------------- */

void *os_dlopen(const char *path, char *err, size_t errlen)
{
	HMODULE h = LoadLibraryA(path);

	if (h == NULL && err != NULL && errlen > 0) {
		DWORD code = GetLastError();

		if (sys_message(code, err, errlen) == 0)
			snprintf(err, errlen, "cannot load (error %lu)",
				 (unsigned long)code);
	}
	return (void *)h;
}

void *os_dlsym(void *lib, const char *name)
{
	FARPROC p = GetProcAddress((HMODULE)lib, name);
	void *r;

	/* A function pointer handed out as void *, as dlsym() does. */
	memcpy(&r, &p, sizeof(r));
	return r;
}

/* ---- files ------------------------------------------------------------- */

int os_file_stat(const char *path, int64_t *mtime, int64_t *size)
{
	struct _stat64 st;

	if (_stat64(path, &st) != 0)
		return -1;
	*mtime = (int64_t)st.st_mtime;
	*size = (int64_t)st.st_size;
	return 0;
}

/* ---- process control --------------------------------------------------- */

/* There is no fork(): the nearest thing is to drop the console so that
 * closing the window does not end the daemon. */
int os_daemonize(void)
{
	FreeConsole();
	return 0;
}

int os_run_shell(const char *cmd)
{
	int st = system(cmd);

	return st == -1 ? -1 : 0;
}

int os_chroot(const char *dir)
{
	(void)dir;
	return -1;
}

long os_lookup_uid(const char *name)
{
	(void)name;
	return -1;
}

long os_lookup_gid(const char *name)
{
	(void)name;
	return -1;
}

int os_set_uid(long uid)
{
	(void)uid;
	return -1;
}

int os_set_gid(long gid)
{
	(void)gid;
	return -1;
}

/* ---- background commands (log archiver) ----------------------------------- */

long os_spawn_shell(const char *cmd)
{
	STARTUPINFOA si;
	PROCESS_INFORMATION pi;
	char *line;
	size_t n = strlen(cmd) + 8;

	line = malloc(n);
	if (line == NULL)
		return -1;
	snprintf(line, n, "cmd /c %s", cmd);
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessA(NULL, line, NULL, NULL, FALSE, CREATE_NO_WINDOW,
			    NULL, NULL, &si, &pi)) {
		free(line);
		return -1;
	}
	free(line);
	CloseHandle(pi.hThread);
	return (long)(intptr_t)pi.hProcess;
}

int os_spawn_reap(long handle)
{
	HANDLE h = (HANDLE)(intptr_t)handle;

	if (WaitForSingleObject(h, 0) == WAIT_TIMEOUT)
		return 0;
	CloseHandle(h);
	return 1;
}
