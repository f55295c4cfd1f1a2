/*
 * sockio.c - bounded, timed I/O on one socket (see sockio.h).
 *
 * Each call turns its timeout into one deadline on the monotonic clock
 * and waits in os_poll() for the time that is left, so EINTR, spurious
 * wake-ups and partial transfers never stretch the total wait.
 */
#include "sockio.h"
#include "iolayer.h"

#include <string.h>

/* A point on the monotonic clock; forever = no limit. */
struct sockio_deadline {
	uint64_t at;
	int forever;
};

static void sockio_deadline_set(struct sockio_deadline *dl, int timeout_ms)
{
	dl->forever = timeout_ms < 0;
	dl->at = os_monotonic_ms() + (dl->forever ? 0 : (uint64_t)timeout_ms);
}

/* Milliseconds left for os_poll(): -1 = forever, 0 = expired. */
static int sockio_remaining(const struct sockio_deadline *dl)
{
	uint64_t now;

	if (dl->forever)
		return -1;
	now = os_monotonic_ms();
	if (now >= dl->at)
		return 0;
	if (dl->at - now > INT_MAX)
		return INT_MAX;
	return (int)(dl->at - now);
}

/* Wait until s reports one of events (or an error or hang-up, which the
 * following call then reports).  Returns 1 ready, 0 deadline passed,
 * -1 poll failed. */
static int sockio_wait(os_sock_t s, short events,
		       const struct sockio_deadline *dl)
{
	for (;;) {
		os_pollfd_t p;
		int left = sockio_remaining(dl);
		int n;

		memset(&p, 0, sizeof(p));
		p.fd = s;
		p.events = events;
		n = os_poll(&p, 1, left);
		if (n > 0)
			return 1;
		if (n == 0) {
			/* poll may round the wait down; only give up once
			 * the clock agrees */
			if (sockio_remaining(dl) == 0)
				return 0;
			continue;
		}
		if (!os_errno_is_intr(os_sock_errno()))
			return -1;
	}
}

/* A failed call that only means "not now": wait and try again. */
static int sockio_retry(void)
{
	int err = os_sock_errno();

	return os_errno_is_wouldblock(err) || os_errno_is_intr(err);
}

/* ---- wrapped sockets (iolayer.h) ----------------------------------------
 * The layer says which way the socket must become ready before it can
 * go on (a TLS read may need to write, and the reverse). */
static int sockio_layer_wait(os_sock_t s, long want,
			     const struct sockio_deadline *dl)
{
	int w = sockio_wait(s, want == IOLAYER_WANT_WRITE ? POLLOUT : POLLIN,
			    dl);

	if (w == 0)
		return SOCKIO_TIMEOUT;
	return w < 0 ? SOCKIO_ERROR : 0;
}

static int sockio_layer_recv(const struct iolayer *io, void *buf, size_t len,
			     int peek, const struct sockio_deadline *dl)
{
	for (;;) {
		long n = io->ops->read(io->ctx, buf, len, peek);
		int w;

		if (n >= 0)
			return (int)n;
		if (n != IOLAYER_WANT_READ && n != IOLAYER_WANT_WRITE)
			return SOCKIO_ERROR;
		w = sockio_layer_wait(io->sock, n, dl);
		if (w != 0)
			return w;
	}
}

static int sockio_layer_send(const struct iolayer *io, const char *p,
			     size_t len, const struct sockio_deadline *dl)
{
	while (len > 0) {
		long n = io->ops->write(io->ctx, p, len > INT_MAX ? INT_MAX
								   : len);
		int w;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n != IOLAYER_WANT_READ && n != IOLAYER_WANT_WRITE)
			return SOCKIO_ERROR;
		w = sockio_layer_wait(io->sock, n, dl);
		if (w != 0)
			return w;
	}
	return 0;
}

int sockio_shutdown_send(os_sock_t s)
{
	const struct iolayer *io = iolayer_find(s);

	if (io != NULL && io->ops->shutdown != NULL)
		io->ops->shutdown(io->ctx);
#ifdef _WIN32
	return shutdown(s, SD_SEND);
#else
	return shutdown(s, SHUT_WR);
#endif
}

/* Wait for data, then one recv() with flags.  Returns bytes, 0 on EOF,
 * SOCKIO_ERROR or SOCKIO_TIMEOUT. */
static int sockio_plain_recv(os_sock_t s, void *buf, size_t len, int flags,
			     const struct sockio_deadline *dl)
{
#if !defined(_WIN32) && defined(MSG_DONTWAIT)
	/* recv() here never blocks (MSG_DONTWAIT), so try it before
	 * polling: a client's request is usually queued already when its
	 * worker starts, and a SOCKS handshake is read in small pieces;
	 * this saves one poll() per read that finds data. */
	long n0 = sockio_recv_once(s, buf, len, flags);

	if (n0 >= 0)
		return (int)n0;
	if (!sockio_retry())
		return SOCKIO_ERROR;
#endif
	for (;;) {
		long n;
		int w = sockio_wait(s, POLLIN, dl);

		if (w == 0)
			return SOCKIO_TIMEOUT;
		if (w < 0)
			return SOCKIO_ERROR;
		n = sockio_recv_once(s, buf, len, flags);
		if (n >= 0)
			return (int)n;
		if (!sockio_retry())
			return SOCKIO_ERROR;
	}
}

/* The same through the socket's layer, if it has one. */
static int sockio_recv_wait(os_sock_t s, void *buf, size_t len, int flags,
			    const struct sockio_deadline *dl)
{
	const struct iolayer *io = iolayer_find(s);

	if (io != NULL)
		return sockio_layer_recv(io, buf, len, flags & MSG_PEEK, dl);
	return sockio_plain_recv(s, buf, len, flags, dl);
}

int sockio_read_some(os_sock_t s, void *buf, size_t len, int timeout_ms)
{
	struct sockio_deadline dl;

	if (buf == NULL || len == 0 || len > INT_MAX)
		return SOCKIO_ERROR;
	sockio_deadline_set(&dl, timeout_ms);
	return sockio_recv_wait(s, buf, len, 0, &dl);
}

int sockio_peek(os_sock_t s, void *buf, size_t len, int timeout_ms)
{
	struct sockio_deadline dl;

	if (buf == NULL || len == 0 || len > INT_MAX)
		return SOCKIO_ERROR;
	sockio_deadline_set(&dl, timeout_ms);
	return sockio_recv_wait(s, buf, len, MSG_PEEK, &dl);
}

int sockio_read_exact(os_sock_t s, void *buf, size_t len, int timeout_ms)
{
	struct sockio_deadline dl;
	char *p = buf;
	size_t got = 0;

	if (buf == NULL || len == 0 || len > INT_MAX)
		return SOCKIO_ERROR;
	sockio_deadline_set(&dl, timeout_ms);
	while (got < len) {
		int n = sockio_recv_wait(s, p + got, len - got, 0, &dl);

		if (n <= 0)
			return n;   /* SOCKIO_EOF, _ERROR or _TIMEOUT */
		got += (size_t)n;
	}
	return (int)len;
}

int sockio_read_line(os_sock_t s, char *buf, size_t max, size_t *outlen,
		     int timeout_ms)
{
	struct sockio_deadline dl;
	const struct iolayer *io = iolayer_find(s);
	size_t have = 0;

	if (outlen)
		*outlen = 0;
	if (buf == NULL || max < 2)
		return SOCKIO_ERROR;
	if (max - 1 > INT_MAX)
		max = (size_t)INT_MAX + 1;
	buf[0] = '\0';
	sockio_deadline_set(&dl, timeout_ms);
	for (;;) {
		size_t room = max - 1 - have, take;
		const char *nl;
		long got;
		int n;

		if (room == 0)
			return SOCKIO_TOOLONG;
		/* Look first, then consume up to the '\n' only, so the
		 * bytes after the line stay queued for the next reader. */
		n = sockio_recv_wait(s, buf + have, room, MSG_PEEK, &dl);
		if (n <= 0)
			return n;
		nl = memchr(buf + have, '\n', (size_t)n);
		take = nl ? (size_t)(nl - (buf + have)) + 1 : (size_t)n;
		got = io != NULL ? io->ops->read(io->ctx, buf + have, take, 0)
				 : sockio_recv_once(s, buf + have, take, 0);
		if (got <= 0) {
			/* peeked bytes cannot vanish from a stream socket
			 * (nor from a layer's buffer) */
			if (got < 0 && io == NULL && sockio_retry())
				continue;
			return SOCKIO_ERROR;
		}
		have += (size_t)got;
		buf[have] = '\0';
		if (outlen)
			*outlen = have;
		if (nl && (size_t)got == take)
			return (int)have;
	}
}

int sockio_write_all(os_sock_t s, const void *buf, size_t len,
		     int timeout_ms)
{
	struct sockio_deadline dl;
	const struct iolayer *io;
	const char *p = buf;

	if (len == 0)
		return 0;
	if (buf == NULL)
		return SOCKIO_ERROR;
	sockio_deadline_set(&dl, timeout_ms);
	io = iolayer_find(s);
	if (io != NULL)
		return sockio_layer_send(io, p, len, &dl);
	while (len > 0) {
		long n = sockio_send_once(s, p, len);
		int w;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && !sockio_retry())
			return SOCKIO_ERROR;
		w = sockio_wait(s, POLLOUT, &dl);
		if (w == 0)
			return SOCKIO_TIMEOUT;
		if (w < 0)
			return SOCKIO_ERROR;
	}
	return 0;
}
