/*
 * sockio.h - bounded, timed I/O on one socket, for protocol handlers.
 *
 * Every call takes a timeout in milliseconds that bounds the whole call
 * (not each packet), so a peer that trickles bytes cannot hold a worker
 * longer than the handler allows.  A negative timeout waits without
 * limit; 0 only takes what is already there.  The socket may be blocking
 * or non-blocking: the calls poll first and never wait inside recv().
 *
 * Results: a byte count (> 0), or one of the SOCKIO_* codes below.  After
 * SOCKIO_ERROR, os_sock_errno() tells why (not for a wrapped socket).
 *
 * A socket with an I/O layer bound on this thread (iolayer.h, e.g. TLS)
 * is read and written through the layer by every call below except the
 * single-call helpers sockio_recv_once / sockio_send_once, which always
 * touch the socket itself.
 */
#ifndef PX_SOCKIO_H
#define PX_SOCKIO_H

#include <stddef.h>
#include <limits.h>
#include "os.h"

enum sockio_result {
	SOCKIO_EOF = 0,          /* the peer closed its sending direction */
	SOCKIO_ERROR = -1,       /* socket error, or bad arguments */
	SOCKIO_TIMEOUT = -2,     /* the timeout passed first */
	SOCKIO_TOOLONG = -3      /* read_line: no '\n' within max - 1 bytes */
};

/* Read what is available, at least one byte, at most len (1..INT_MAX).
 * Returns the byte count, SOCKIO_EOF, SOCKIO_ERROR or SOCKIO_TIMEOUT. */
int sockio_read_some(os_sock_t s, void *buf, size_t len, int timeout_ms);

/* Like sockio_read_some, but the bytes stay queued for the next read. */
int sockio_peek(os_sock_t s, void *buf, size_t len, int timeout_ms);

/* Read exactly len bytes (1..INT_MAX) within timeout_ms in total.
 * Returns len, SOCKIO_EOF if the peer closed first (the bytes that did
 * arrive are in buf but lost to the caller: a short message is a
 * protocol error anyway), SOCKIO_ERROR or SOCKIO_TIMEOUT. */
int sockio_read_exact(os_sock_t s, void *buf, size_t len, int timeout_ms);

/* Read one line, up to and including '\n', into buf of max bytes
 * (max >= 2).  Bytes after the '\n' stay in the socket for the next read:
 * the data is peeked first and only the line is consumed.  buf is always
 * NUL-terminated and *outlen (may be NULL) gets the number of bytes
 * stored, '\n' (and any '\r') included.
 * Returns the line length (> 0) when a '\n' was read; SOCKIO_EOF if the
 * peer closed before the '\n' (*outlen > 0 tells a partial line);
 * SOCKIO_TOOLONG when max - 1 bytes came without '\n' (they are consumed);
 * SOCKIO_ERROR or SOCKIO_TIMEOUT. */
int sockio_read_line(os_sock_t s, char *buf, size_t max, size_t *outlen,
		     int timeout_ms);

/* Write all len bytes within timeout_ms in total.  Never raises SIGPIPE
 * where MSG_NOSIGNAL exists.  Returns 0, SOCKIO_ERROR or SOCKIO_TIMEOUT.
 * On Windows a blocking socket may block inside send() until the data is
 * buffered; pass a non-blocking socket where that matters. */
int sockio_write_all(os_sock_t s, const void *buf, size_t len,
		     int timeout_ms);

/* ---- single system calls, shared with relay.c ----------------------
 * These hide the few differences between POSIX sockets and winsock (char
 * pointers and int lengths, SD_SEND, MSG_NOSIGNAL / MSG_DONTWAIT).  They
 * do not wait: with nothing to do they fail with a would-block error. */

#ifndef _WIN32
#ifdef MSG_NOSIGNAL
#define SOCKIO_F_NOSIGNAL MSG_NOSIGNAL
#else
#define SOCKIO_F_NOSIGNAL 0
#endif
#ifdef MSG_DONTWAIT
#define SOCKIO_F_DONTWAIT MSG_DONTWAIT
/* The calls below never block whatever the socket's mode, so callers
 * need not switch a socket to non-blocking (one ioctl each way saved
 * per socket).  splice() and library code on the bare descriptor still
 * need O_NONBLOCK and set it themselves. */
#define SOCKIO_NEVER_BLOCKS 1
#else
#define SOCKIO_F_DONTWAIT 0
#endif
#endif

/* One recv(); flags may hold MSG_PEEK.  Returns bytes, 0 on EOF, -1. */
static inline long sockio_recv_once(os_sock_t s, void *buf, size_t len,
				    int flags)
{
	if (len > INT_MAX)
		len = INT_MAX;
#ifdef _WIN32
	return recv(s, (char *)buf, (int)len, flags);
#else
	return (long)recv(s, buf, len, flags | SOCKIO_F_DONTWAIT);
#endif
}

/* One send().  Returns bytes written or -1. */
static inline long sockio_send_once(os_sock_t s, const void *buf, size_t len)
{
	if (len > INT_MAX)
		len = INT_MAX;
#ifdef _WIN32
	return send(s, (const char *)buf, (int)len, 0);
#else
	return (long)send(s, buf, len, SOCKIO_F_NOSIGNAL | SOCKIO_F_DONTWAIT);
#endif
}

/* Shut down the sending direction: the peer reads EOF.  A wrapped
 * socket (iolayer.h) first ends its layer's stream. */
int sockio_shutdown_send(os_sock_t s);

#endif
