/*
 * http_body.h - buffered socket sides and streamed HTTP bodies.
 *
 * An http_in is one socket with a read buffer that keeps what was read
 * but not yet used (the rest of a head, a pipelined request, the start
 * of a body).  An http_out collects small writes so that a response
 * head and a small body leave in one send(); it is flushed whenever the
 * data source would block, so nothing ever waits in it for more input.
 * http_body_copy() streams a Content-Length, chunked or close-delimited
 * body from an http_in to an http_out through those buffers only: a
 * body is never held whole in memory.  Body reads go through the same
 * limit hook as the TCP relay (bandwidth pipes, traffic quotas) when the
 * http_in has one.
 *
 * All waits go through sockio with the caller's timeout (an idle bound:
 * each read or write gets the full timeout).  The structures belong to
 * one worker thread; nothing here locks.
 */
#ifndef PX_HTTP_BODY_H
#define PX_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>
#include "os.h"
#include "http_parse.h"
#include "relay.h"

struct http_in {
	os_sock_t s;
	char *buf;
	size_t cap, max;       /* allocated; ceiling it may grow to */
	size_t off, len;       /* unread bytes are buf[off .. off + len) */
	uint64_t *count;       /* consumed bytes are added here (atomic) */
	/* Limits for body reads from this side (borrowed; NULL = none):
	 * http_body_copy runs pace->hook for each read as relay_tcp does
	 * (relay_hook_apply), reads at most pace->bufsize bytes at a time
	 * when that is set, and waits out the delay before the next read.
	 * pace_dir is the relay direction of the reads (RELAY_C2S for the
	 * client side, RELAY_S2C for a server side). */
	const struct relay_opts *pace;
	int pace_dir;
	/* Data filters (filter.h) for bodies without a declared length
	 * (chunked: each piece of data is sent as a chunk of its own;
	 * close-delimited): http_body_copy passes every piece of body data
	 * through filter(filter_arg, pace_dir, ...) as relay_opts.filter
	 * does.  Ignored for Content-Length bodies, whose length cannot
	 * change, unless filter_sized is set: the copy's output then has
	 * no framing of its own (an FTP data connection).  NULL = none. */
	int (*filter)(void *arg, int dir, const char *in, size_t n,
		      const char **out, size_t *outlen);
	void *filter_arg;
	int filter_sized;
};

struct http_out {
	os_sock_t s;
	char *buf;
	size_t cap, len;
	int timeout_ms;        /* for each send wait */
	uint64_t sent;         /* bytes handed to the socket */
};

/* Growable text buffer with a ceiling (for building heads). */
struct http_buf {
	char *p;
	size_t len, cap, max;
	int overflow;          /* an append did not fit under max */
};

/* Allocate the buffers.  Return 0 or -1 (out of memory). */
int http_in_init(struct http_in *in, os_sock_t s, size_t cap, size_t max,
		 uint64_t *count);
void http_in_free(struct http_in *in);
/* Read more bytes (compacting, or growing up to max when full).
 * Returns the count read, SOCKIO_EOF, SOCKIO_ERROR, SOCKIO_TIMEOUT, or
 * SOCKIO_TOOLONG when the buffer is full at its ceiling. */
int http_in_fill(struct http_in *in, int timeout_ms);
/* Drop n used bytes from the front (counted in *count). */
void http_in_consume(struct http_in *in, size_t n);
static inline const char *http_in_data(const struct http_in *in)
{
	return in->buf + in->off;
}

int http_out_init(struct http_out *o, size_t cap);
void http_out_free(struct http_out *o);
/* Queue n bytes, sending full buffers as they fill; large writes with
 * an empty buffer go straight to the socket.  0 or SOCKIO_ERROR /
 * SOCKIO_TIMEOUT. */
int http_out_put(struct http_out *o, const void *p, size_t n);
int http_out_flush(struct http_out *o);
/* Forget queued bytes (an unsent head that is being replaced). */
static inline void http_out_discard(struct http_out *o)
{
	o->len = 0;
}

void http_buf_init(struct http_buf *b, size_t max);
void http_buf_free(struct http_buf *b);
void http_buf_reset(struct http_buf *b);
/* Append; on failure (no memory or over max) sets b->overflow. */
void http_buf_add(struct http_buf *b, const char *s, size_t n);
void http_buf_adds(struct http_buf *b, const char *s);
void http_buf_addf(struct http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Codes a body copy returns for each way it can fail. */
struct http_body_errs {
	int in_err;            /* the source closed early or failed */
	int out_err;           /* the destination failed */
	int chunk_err;         /* malformed chunked coding */
	int chunk_big;         /* chunk size overflow */
	int timeout;           /* no progress within the timeout */
};

/* How a chunked body is written out. */
enum http_chunk_mode {
	HTTP_CHUNKS_KEEP,      /* re-encode: size lines, data, trailers */
	HTTP_CHUNKS_DECODE     /* data only (to a non-HTTP/1.1 peer) */
};

/* Stream one body described by f from in to out and flush out.
 * HTTP_BODY_CLOSE copies until the source closes (that is success).
 * Chunk size lines are written in a normalized form (extensions
 * dropped); trailer fields are validated and passed on.  Returns 0 or
 * one of the codes in errs.  *moved (may be NULL) gets the body bytes
 * taken from in.  With in->pace set, a code of its hook (ERR_LIMIT) or
 * ERR_RELAY_STALL can also end the copy. */
int http_body_copy(struct http_in *in, struct http_out *out,
		   const struct http_framing *f, enum http_chunk_mode mode,
		   int timeout_ms, const struct http_body_errs *errs,
		   uint64_t *moved);

/* Check the chunked body bytes already buffered in in (without using
 * them): HTTP_OK / HTTP_NEED_MORE when what is there is well-formed so
 * far, else the chunk error.  Lets a request with a hostile first chunk
 * be refused before anything is forwarded. */
int http_chunked_precheck(const struct http_in *in);

#endif
