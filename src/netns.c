/*
 * netns.c - sockets made in another network namespace (see netns.h).
 */
#include "netns.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__linux__)
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#define NETNS_LINUX 1
#endif


static OS_THREAD_LOCAL int thread_ns = NETNS_NONE;

#ifdef NETNS_LINUX
/* The process's own namespace: opened by the main thread (config time)
 * before any thread switches, never closed. */
static int own_ns = NETNS_NONE;

int netns_open(const char *path, char *err, size_t errlen)
{
	int fd;

	if (own_ns == NETNS_NONE)
		own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own_ns == NETNS_NONE) {
		snprintf(err, errlen, "cannot open /proc/self/ns/net: %s",
			 strerror(errno));
		return NETNS_NONE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open network namespace %s: %s",
			 path, strerror(errno));
		return NETNS_NONE;
	}
	return fd;
}

void netns_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

os_sock_t netns_socket(int family, int type, int protocol)
{
	int ns = thread_ns, e;
	os_sock_t s;

	if (ns == NETNS_NONE)
		return socket(family, type, protocol);
	if (setns(ns, CLONE_NEWNET) != 0)
		return OS_BADSOCK;
	s = socket(family, type, protocol);
	e = errno;
	/* coming back cannot fail for the namespace we started in; if it
	 * did, this thread must not make more sockets in the wrong one */
	if (setns(own_ns, CLONE_NEWNET) != 0) {
		if (s != OS_BADSOCK)
			close(s);
		return OS_BADSOCK;
	}
	errno = e;
	return s;
}
#else
int netns_open(const char *path, char *err, size_t errlen)
{
	(void)path;
	if (errlen > 0)
		err[0] = '\0';
	return NETNS_NONE;
}

void netns_close(int fd)
{
	(void)fd;
}

os_sock_t netns_socket(int family, int type, int protocol)
{
	return socket(family, type, protocol);
}
#endif

void netns_thread_use(int fd)
{
	thread_ns = fd;
}

int netns_thread_current(void)
{
	return thread_ns;
}
