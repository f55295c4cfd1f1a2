/*
 * iolayer.h - an optional I/O wrapper (TLS) under one socket.
 *
 * A protocol handler only knows its sockets.  When a side of a connection
 * is wrapped, the wrapper is bound to that socket for the worker thread
 * that serves the connection; sockio.c and relay.c look the socket up
 * and, if a layer is bound, move bytes through its ops instead of
 * recv()/send().  An unbound socket keeps the plain fast path (including
 * splice in the relay); a wrapped side never uses splice.
 *
 * Ownership: iolayer_bind() takes ownership of ctx (ops->free releases
 * it, also when binding fails).  The binding lives in the binding
 * thread's table until iolayer_release() or iolayer_close() on that
 * thread; client_finish() releases both sides of a client, so a socket
 * number reused later is never mistaken for a wrapped one.  The socket
 * itself stays owned by whoever owned it before.
 *
 * The lookup is per thread: a connection is served from start to end by
 * one worker thread, and a thread-local table needs no lock.
 */
#ifndef PX_IOLAYER_H
#define PX_IOLAYER_H

#include <stddef.h>
#include "os.h"

/* Results of the read and write ops besides a byte count (> 0), 0 (read:
 * the peer ended its stream cleanly) and -1 (error: the connection is
 * unusable): */
#define IOLAYER_WANT_READ  (-2)   /* try again once the socket is readable */
#define IOLAYER_WANT_WRITE (-3)   /* ... once it is writable */

/* At most this many wrapped sockets per thread (both sides of a client
 * and a spare). */
#define IOLAYER_MAX_PER_THREAD 4

struct iolayer_ops {
	const char *name;
	/* Read up to len (> 0) bytes without waiting; peek != 0 leaves
	 * them to be read again. */
	long (*read)(void *ctx, void *buf, size_t len, int peek);
	/* Write up to len (> 0) bytes without waiting. */
	long (*write)(void *ctx, const void *buf, size_t len);
	/* Bytes the layer already holds for read: the socket may show
	 * nothing while these wait, so callers must not poll first. */
	size_t (*pending)(void *ctx);
	/* Announce the end of our sending direction inside the layer
	 * (e.g. TLS close_notify); the caller then shuts the socket's
	 * sending direction down.  Best effort, never waits. */
	void (*shutdown)(void *ctx);
	void (*free)(void *ctx);
};

struct iolayer {
	const struct iolayer_ops *ops;
	void *ctx;
	os_sock_t sock;
};

/* Bind a layer to s for the calling thread.  Returns 0, or -1 (table
 * full or s already wrapped: ctx has been freed). */
int iolayer_bind(os_sock_t s, const struct iolayer_ops *ops, void *ctx);
/* The layer bound to s on this thread, or NULL (the common case costs
 * one thread-local load).  The pointer stays valid until the next
 * iolayer_release() on this thread. */
const struct iolayer *iolayer_find(os_sock_t s);
/* Free and unbind the layer of s, if any.  The socket stays open. */
void iolayer_release(os_sock_t s);
/* iolayer_release(s), then close s (if s is not OS_BADSOCK). */
void iolayer_close(os_sock_t s);
/* Layers bound on this thread (for tests). */
int iolayer_count(void);
/* Take the layer of s out of the table without freeing it (*out gets
 * it).  Returns 0, or -1 when s has no layer. */
int iolayer_detach(os_sock_t s, struct iolayer *out);

/* Give len bytes back to s: the next reads of s on this thread return
 * them before anything the socket (or its layer) holds.  For a handler
 * that read ahead and hands the stream to another parser (an HTTP
 * CONNECT redirected locally with the tunnel's first bytes already in
 * the head buffer).  The bytes are copied.  A layer already bound to s
 * keeps working under them.  Returns 0 or -1 (no memory, table full). */
int iolayer_unread(os_sock_t s, const void *data, size_t len);
/* Take back what iolayer_unread() gave s and is not read yet, and unbind
 * that layer: *data (malloc'd, or NULL) and *len get the bytes.  For a
 * handler that starts a layer of its own on s (TLS interception) and
 * must feed it those bytes first.  Returns 0 (also when s has no layer:
 * *len 0), or -1 when another layer is bound to s or no memory. */
int iolayer_unread_take(os_sock_t s, void **data, size_t *len);

/* The ops, with the layer's pending bytes as a hint for poll loops. */
static inline size_t iolayer_pending(const struct iolayer *io)
{
	return io != NULL && io->ops->pending ? io->ops->pending(io->ctx) : 0;
}

#endif
