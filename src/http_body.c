/*
 * http_body.c - buffered socket sides and streamed HTTP bodies (see
 * http_body.h).
 *
 * Owns nothing but the buffers it allocates in the *_init functions;
 * the sockets belong to the caller.
 */
#include "http_body.h"
#include "sockio.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- input side ------------------------------------------------------- */

int http_in_init(struct http_in *in, os_sock_t s, size_t cap, size_t max,
		 uint64_t *count)
{
	memset(in, 0, sizeof(*in));
	in->s = s;
	in->cap = cap;
	in->max = max < cap ? cap : max;
	in->count = count;
	in->buf = malloc(cap);
	return in->buf ? 0 : -1;
}

void http_in_free(struct http_in *in)
{
	free(in->buf);
	in->buf = NULL;
}

static int http_in_make_room(struct http_in *in)
{
	char *nb;
	size_t ncap;

	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len);
		in->off = 0;
	}
	if (in->len < in->cap)
		return 0;
	if (in->cap >= in->max)
		return SOCKIO_TOOLONG;
	ncap = in->cap * 2 > in->max ? in->max : in->cap * 2;
	nb = realloc(in->buf, ncap);
	if (nb == NULL)
		return SOCKIO_ERROR;
	in->buf = nb;
	in->cap = ncap;
	return 0;
}

/* http_in_fill reading at most `most` bytes (a paced body reads in
 * small steps, so that no single read overshoots its rate). */
static int http_in_fill_upto(struct http_in *in, size_t most, int timeout_ms)
{
	int rc = http_in_make_room(in);
	size_t room;

	if (rc != 0)
		return rc;
	room = in->cap - in->len;
	if (most > 0 && room > most)
		room = most;
	rc = sockio_read_some(in->s, in->buf + in->len, room, timeout_ms);
	if (rc > 0)
		in->len += (size_t)rc;
	return rc;
}

int http_in_fill(struct http_in *in, int timeout_ms)
{
	return http_in_fill_upto(in, 0, timeout_ms);
}

void http_in_consume(struct http_in *in, size_t n)
{
	if (n > in->len)
		n = in->len;
	in->off += n;
	in->len -= n;
	if (in->len == 0)
		in->off = 0;
	if (in->count && n)
		os_atomic_add(in->count, (uint64_t)n);
}

/* ---- output side ------------------------------------------------------ */

int http_out_init(struct http_out *o, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->s = OS_BADSOCK;
	o->cap = cap;
	o->buf = malloc(cap);
	return o->buf ? 0 : -1;
}

void http_out_free(struct http_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

int http_out_flush(struct http_out *o)
{
	int rc;

	if (o->len == 0)
		return 0;
	rc = sockio_write_all(o->s, o->buf, o->len, o->timeout_ms);
	if (rc == 0)
		o->sent += o->len;
	o->len = 0;
	return rc;
}

int http_out_put(struct http_out *o, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		size_t take;
		int rc;

		if (o->len == 0 && n >= o->cap) {
			rc = sockio_write_all(o->s, c, n, o->timeout_ms);
			if (rc == 0)
				o->sent += n;
			return rc;
		}
		take = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, c, take);
		o->len += take;
		c += take;
		n -= take;
		if (o->len == o->cap) {
			rc = http_out_flush(o);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- text buffer ------------------------------------------------------ */

void http_buf_init(struct http_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void http_buf_free(struct http_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void http_buf_reset(struct http_buf *b)
{
	b->len = 0;
	b->overflow = 0;
}

static int http_buf_room(struct http_buf *b, size_t n)
{
	size_t ncap;
	char *np;

	if (b->overflow || n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 1024;
	while (ncap < b->len + n + 1)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

void http_buf_add(struct http_buf *b, const char *s, size_t n)
{
	if (http_buf_room(b, n) != 0) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void http_buf_adds(struct http_buf *b, const char *s)
{
	http_buf_add(b, s, strlen(s));
}

void http_buf_addf(struct http_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->overflow = 1;
		return;
	}
	http_buf_add(b, tmp, (size_t)n);
}

/* ---- bodies ----------------------------------------------------------- */

struct http_copy {
	struct http_in *in;
	struct http_out *out;
	int timeout_ms;
	const struct http_body_errs *errs;
	uint64_t moved;
	uint64_t resume_at;    /* limit delay: no read before (monotonic) */
	int filtered;          /* in->filter applies to this body */
	int chunked;           /* ... and its pieces go out as chunks */
};

/* limits.md 3: a pipe's delay holds the next read, as in relay_tcp.
 * What was read is written at once; only the source waits. */
static void http_copy_pace_wait(const struct http_copy *cp)
{
	uint64_t now;

	if (cp->resume_at == 0)
		return;
	now = os_monotonic_ms();
	if (cp->resume_at > now)
		os_sleep_ms((unsigned)(cp->resume_at - now));
}

/* Book n bytes just read with the side's limit hook.  Returns 0 or the
 * code that ends the copy (quota: ERR_LIMIT; delay too long: 93). */
static int http_copy_pace(struct http_copy *cp, size_t n)
{
	const struct relay_opts *o = cp->in->pace;
	int delay = 0, rc;

	if (o == NULL || o->hook == NULL)
		return 0;
	rc = relay_hook_apply(o, cp->in->pace_dir, n, &delay);
	cp->resume_at = delay > 0 ? os_monotonic_ms() + (uint64_t)delay : 0;
	return rc;
}

/* Flush what is queued (the source is about to block), then read.
 * Returns > 0, or 0 at EOF, or an error code from errs (or of the
 * limit hook), negated. */
static int http_copy_fill(struct http_copy *cp)
{
	const struct relay_opts *o = cp->in->pace;
	int rc = http_out_flush(cp->out);

	if (rc != 0)
		return -cp->errs->out_err;
	http_copy_pace_wait(cp);
	rc = http_in_fill_upto(cp->in, o != NULL && o->hook != NULL ?
				       o->bufsize : 0, cp->timeout_ms);
	if (rc > 0) {
		int code = http_copy_pace(cp, (size_t)rc);

		return code != 0 ? -code : rc;
	}
	if (rc == SOCKIO_EOF)
		return rc;
	if (rc == SOCKIO_TIMEOUT)
		return -cp->errs->timeout;
	if (rc == SOCKIO_TOOLONG)
		return -cp->errs->chunk_err;
	return -cp->errs->in_err;
}

/* Body data through the filters; a chunked body gets one chunk per
 * piece (never an empty one: that would end the body). */
static int http_copy_put_filtered(struct http_copy *cp, const char *p,
				  size_t n)
{
	struct http_in *in = cp->in;
	const char *out;
	size_t outlen;
	char line[32];
	int rc = in->filter(in->filter_arg, in->pace_dir, p, n, &out, &outlen);

	if (rc != 0)
		return rc;
	if (outlen == 0)
		return 0;
	if (cp->chunked) {
		rc = snprintf(line, sizeof(line), "%" PRIx64 "\r\n",
			      (uint64_t)outlen);
		if (http_out_put(cp->out, line, (size_t)rc) != 0)
			return cp->errs->out_err;
	}
	if (http_out_put(cp->out, out, outlen) != 0 ||
	    (cp->chunked && http_out_put(cp->out, "\r\n", 2) != 0))
		return cp->errs->out_err;
	return 0;
}

static int http_copy_take(struct http_copy *cp, size_t n)
{
	int rc;

	if (cp->filtered) {
		rc = http_copy_put_filtered(cp, http_in_data(cp->in), n);
		if (rc != 0)
			return rc;
	} else if (http_out_put(cp->out, http_in_data(cp->in), n) != 0) {
		return cp->errs->out_err;
	}
	http_in_consume(cp->in, n);
	cp->moved += n;
	return 0;
}

/* Content-Length (until_eof = 0) or close-delimited (until_eof = 1). */
static int http_copy_plain(struct http_copy *cp, uint64_t left, int until_eof)
{
	while (until_eof || left > 0) {
		size_t take;
		int rc;

		if (cp->in->len == 0) {
			rc = http_copy_fill(cp);
			if (rc == 0)
				return until_eof ? 0 : cp->errs->in_err;
			if (rc < 0)
				return -rc;
		}
		take = cp->in->len;
		if (!until_eof && take > left)
			take = (size_t)left;
		rc = http_copy_take(cp, take);
		if (rc != 0)
			return rc;
		left -= until_eof ? 0 : take;
	}
	return 0;
}

/* Trailer fields that would change framing are never passed on. */
static int http_trailer_allowed(const char *line, size_t len)
{
	struct http_field f;

	if (http_parse_field(line, len, &f) != HTTP_OK)
		return 0;
	return !http_str_ieq(f.name, "Content-Length") &&
	       !http_str_ieq(f.name, "Transfer-Encoding") &&
	       !http_str_ieq(f.name, "Host");
}

/* Write what one chunk step stands for.  Returns 0 or out_err. */
static int http_copy_step(struct http_copy *cp, const struct http_chunk_step *st,
			  enum http_chunk_mode mode)
{
	struct http_out *o = cp->out;
	char line[32];
	int n, rc = 0;

	if (st->kind == HTTP_CHUNK_DATA)
		return http_copy_take(cp, st->len);
	/* filtered: data pieces carry their own size lines and ends */
	if (cp->chunked && (st->kind == HTTP_CHUNK_DATA_END ||
			    (st->kind == HTTP_CHUNK_SIZE && st->size > 0))) {
		http_in_consume(cp->in, st->used);
		cp->moved += st->used;
		return 0;
	}
	if (mode == HTTP_CHUNKS_KEEP) {
		switch (st->kind) {
		case HTTP_CHUNK_SIZE:
			n = snprintf(line, sizeof(line), "%" PRIx64 "\r\n",
				     st->size);
			rc = http_out_put(o, line, (size_t)n);
			break;
		case HTTP_CHUNK_TRAILER:
			if (!http_trailer_allowed(st->data, st->len))
				break;
			rc = http_out_put(o, st->data, st->len);
			if (rc == 0)
				rc = http_out_put(o, "\r\n", 2);
			break;
		default:   /* DATA_END, END */
			rc = http_out_put(o, "\r\n", 2);
			break;
		}
	}
	http_in_consume(cp->in, st->used);
	cp->moved += st->used;
	return rc != 0 ? cp->errs->out_err : 0;
}

static int http_copy_chunked(struct http_copy *cp, enum http_chunk_mode mode)
{
	struct http_chunked c;

	http_chunked_init(&c);
	for (;;) {
		struct http_chunk_step st;
		int rc = http_chunked_step(&c, http_in_data(cp->in),
					   cp->in->len, &st);

		if (rc == HTTP_NEED_MORE) {
			rc = http_copy_fill(cp);
			if (rc == 0)
				return cp->errs->in_err;
			if (rc < 0)
				return -rc;
			continue;
		}
		if (rc == HTTP_ERR_CHUNK_BIG)
			return cp->errs->chunk_big;
		if (rc != HTTP_OK)
			return cp->errs->chunk_err;
		rc = http_copy_step(cp, &st, mode);
		if (rc != 0 || st.kind == HTTP_CHUNK_END)
			return rc;
	}
}

/* Body bytes that came in with the head were read unpaced: book them
 * first, so that the pipe's rate holds over the whole body. */
static int http_copy_early(struct http_copy *cp,
			   const struct http_framing *f)
{
	size_t early = cp->in->len;

	if (f->kind == HTTP_BODY_NONE)
		return 0;
	if (f->kind == HTTP_BODY_LENGTH && early > f->length)
		early = (size_t)f->length;
	return early > 0 ? http_copy_pace(cp, early) : 0;
}

static int http_copy_framed(struct http_copy *cp,
			    const struct http_framing *f,
			    enum http_chunk_mode mode)
{
	switch (f->kind) {
	case HTTP_BODY_LENGTH:
		return http_copy_plain(cp, f->length, 0);
	case HTTP_BODY_CLOSE:
		return http_copy_plain(cp, 0, 1);
	case HTTP_BODY_CHUNKED:
		return http_copy_chunked(cp, mode);
	default:
		return 0;
	}
}

int http_body_copy(struct http_in *in, struct http_out *out,
		   const struct http_framing *f, enum http_chunk_mode mode,
		   int timeout_ms, const struct http_body_errs *errs,
		   uint64_t *moved)
{
	struct http_copy cp;
	int rc;

	cp.in = in;
	cp.out = out;
	cp.timeout_ms = timeout_ms;
	cp.errs = errs;
	cp.moved = 0;
	cp.resume_at = 0;
	cp.filtered = in->filter != NULL && (f->kind == HTTP_BODY_CLOSE ||
					     f->kind == HTTP_BODY_CHUNKED ||
					     (f->kind == HTTP_BODY_LENGTH &&
					      in->filter_sized));
	cp.chunked = cp.filtered && f->kind == HTTP_BODY_CHUNKED &&
		     mode == HTTP_CHUNKS_KEEP;
	rc = http_copy_early(&cp, f);
	if (rc == 0)
		rc = http_copy_framed(&cp, f, mode);
	if (rc == 0 && http_out_flush(out) != 0)
		rc = errs->out_err;
	if (moved)
		*moved = cp.moved;
	return rc;
}

int http_chunked_precheck(const struct http_in *in)
{
	const char *p = http_in_data(in);
	size_t n = in->len;
	struct http_chunked c;

	http_chunked_init(&c);
	for (;;) {
		struct http_chunk_step st;
		int rc = http_chunked_step(&c, p, n, &st);

		if (rc != HTTP_OK)
			return rc;
		if (st.kind == HTTP_CHUNK_END)
			return HTTP_OK;
		p += st.used;
		n -= st.used;
	}
}
