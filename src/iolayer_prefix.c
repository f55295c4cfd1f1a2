/*
 * iolayer_prefix.c - bytes given back to a socket (iolayer_unread).
 *
 * A layer whose reads return the saved bytes first, then whatever is
 * under it: the layer that was bound before (TLS), or the plain socket.
 * Writes, shutdown and pending go through to what is under it.  The
 * layer stays bound until the socket is released; after the saved bytes
 * are read it only forwards, which costs a wrapped side its splice path
 * for the rest of the connection (redirected connections are rare).
 */
#include "iolayer.h"

#include <stdlib.h>
#include <string.h>

#include "sockio.h"

struct prefix_ctx {
	char *buf;
	size_t len, off;            /* saved bytes, and how many were read */
	os_sock_t s;
	struct iolayer inner;       /* inner.ops NULL: the plain socket */
};

static long prefix_plain_result(long n, long want)
{
	if (n >= 0)
		return n;
	return os_errno_is_wouldblock(os_sock_errno()) ? want : -1;
}

static long prefix_read(void *ctx, void *buf, size_t len, int peek)
{
	struct prefix_ctx *p = ctx;

	if (p->off < p->len) {
		size_t n = p->len - p->off;

		if (n > len)
			n = len;
		memcpy(buf, p->buf + p->off, n);
		if (!peek)
			p->off += n;
		return (long)n;
	}
	if (p->inner.ops != NULL)
		return p->inner.ops->read(p->inner.ctx, buf, len, peek);
	return prefix_plain_result(
		sockio_recv_once(p->s, buf, len, peek ? MSG_PEEK : 0),
		IOLAYER_WANT_READ);
}

static long prefix_write(void *ctx, const void *buf, size_t len)
{
	struct prefix_ctx *p = ctx;

	if (p->inner.ops != NULL)
		return p->inner.ops->write(p->inner.ctx, buf, len);
	return prefix_plain_result(sockio_send_once(p->s, buf, len),
				   IOLAYER_WANT_WRITE);
}

static size_t prefix_pending(void *ctx)
{
	struct prefix_ctx *p = ctx;
	size_t n = p->len - p->off;

	if (p->inner.ops != NULL && p->inner.ops->pending != NULL)
		n += p->inner.ops->pending(p->inner.ctx);
	return n;
}

static void prefix_shutdown(void *ctx)
{
	struct prefix_ctx *p = ctx;

	if (p->inner.ops != NULL && p->inner.ops->shutdown != NULL)
		p->inner.ops->shutdown(p->inner.ctx);
}

static void prefix_free(void *ctx)
{
	struct prefix_ctx *p = ctx;

	if (p->inner.ops != NULL && p->inner.ops->free != NULL)
		p->inner.ops->free(p->inner.ctx);
	free(p->buf);
	free(p);
}

static const struct iolayer_ops prefix_ops = {
	"prefix", prefix_read, prefix_write, prefix_pending,
	prefix_shutdown, prefix_free
};

int iolayer_unread_take(os_sock_t s, void **data, size_t *len)
{
	const struct iolayer *io = iolayer_find(s);
	struct prefix_ctx *p;
	struct iolayer l;

	*data = NULL;
	*len = 0;
	if (io == NULL)
		return 0;
	p = io->ctx;
	if (io->ops != &prefix_ops || p->inner.ops != NULL)
		return -1;
	if (p->off < p->len) {
		*data = malloc(p->len - p->off);
		if (*data == NULL)
			return -1;
		memcpy(*data, p->buf + p->off, p->len - p->off);
		*len = p->len - p->off;
	}
	if (iolayer_detach(s, &l) == 0)
		l.ops->free(l.ctx);
	return 0;
}

int iolayer_unread(os_sock_t s, const void *data, size_t len)
{
	struct prefix_ctx *p;

	if (s == OS_BADSOCK)
		return -1;
	if (len == 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->buf = malloc(len);
	if (p->buf == NULL) {
		free(p);
		return -1;
	}
	memcpy(p->buf, data, len);
	p->len = len;
	p->s = s;
	/* the layer bound so far (if any) now sits under the saved bytes */
	(void)iolayer_detach(s, &p->inner);
	return iolayer_bind(s, &prefix_ops, p);   /* frees p on failure */
}
