/*
 * netns.h - Linux network namespaces for the service options -ni (the
 * listening socket) and -ne (the sockets a worker makes towards servers)
 * (services.md 15, F-NET-11).
 *
 * A namespace is a file (/run/netns/NAME, /proc/PID/ns/net) opened once
 * at the service line; the descriptor lives as long as the svc_conf.
 * setns() changes only the calling thread, so a thread switches into the
 * namespace just for the socket() call and straight back: the socket
 * stays in the namespace it was made in.  Elsewhere than Linux the
 * options are accepted and ignored, as in 3proxy.
 */
#ifndef PX_NETNS_H
#define PX_NETNS_H

#include <stddef.h>
#include "os.h"

#define NETNS_NONE (-1)

/* Open the namespace file path: a descriptor, or NETNS_NONE with the
 * reason in err (always NETNS_NONE and no error where namespaces are
 * not supported).  Also opens the process's own namespace the first
 * time, to come back to: call it on the main thread, before workers
 * switch. */
int netns_open(const char *path, char *err, size_t errlen);
void netns_close(int fd);

/* Sockets this thread makes through netns_socket() from now on go into
 * namespace fd (NETNS_NONE: the process's own). */
void netns_thread_use(int fd);
int netns_thread_current(void);

/* socket() in this thread's namespace.  OS_BADSOCK with errno set when
 * the switch fails: never a socket in the wrong namespace. */
os_sock_t netns_socket(int family, int type, int protocol);

#endif
