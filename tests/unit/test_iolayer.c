/*
 * test_iolayer.c - the I/O layer table, and sockio.c / relay.c moving
 * bytes through a bound layer.
 *
 * The layer under test XORs every byte with 0x5A, so a byte that went
 * around it (plain recv/send, or splice) arrives unchanged and fails the
 * comparison.  The relay runs with splice allowed and bulk data, and the
 * splice() wrapper below counts calls: a wrapped relay must make none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "errcode.h"
#include "iolayer.h"
#include "relay.h"
#include "sockio.h"

#ifdef __linux__
#include <fcntl.h>
#include <sys/syscall.h>
static long n_splice_calls;

/* Takes the C library's place for the relay linked into this test. */
ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
	       size_t len, unsigned int flags)
{
	__atomic_add_fetch(&n_splice_calls, 1, __ATOMIC_SEQ_CST);
	return syscall(SYS_splice, fd_in, off_in, fd_out, off_out, len,
		       flags);
}
#endif

#define KEY 0x5A
#define TIMEOUT_MS 10000

/* ---- the XOR layer ------------------------------------------------------ */

struct xor_ctx {
	int fd;
	int *shutdowns, *frees;   /* counters owned by the test */
};

static void xor_buf(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] ^= KEY;
}

static long xor_read(void *c, void *buf, size_t len, int peek)
{
	struct xor_ctx *x = c;
	long n = recv(x->fd, buf, len, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));

	if (n > 0)
		xor_buf(buf, (size_t)n);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IOLAYER_WANT_READ;
	return n;
}

static long xor_write(void *c, const void *buf, size_t len)
{
	struct xor_ctx *x = c;
	unsigned char tmp[4096];
	long n;

	if (len > sizeof(tmp))
		len = sizeof(tmp);
	memcpy(tmp, buf, len);
	xor_buf(tmp, len);
	n = send(x->fd, tmp, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IOLAYER_WANT_WRITE;
	return n;
}

static size_t xor_pending(void *c)
{
	(void)c;
	return 0;
}

static void xor_shutdown(void *c)
{
	struct xor_ctx *x = c;

	(*x->shutdowns)++;
}

static void xor_free(void *c)
{
	struct xor_ctx *x = c;

	(*x->frees)++;
	free(x);
}

static const struct iolayer_ops xor_ops = {
	"xor", xor_read, xor_write, xor_pending, xor_shutdown, xor_free
};

static int xor_bind(int fd, int *shutdowns, int *frees)
{
	struct xor_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	x->fd = fd;
	x->shutdowns = shutdowns;
	x->frees = frees;
	return iolayer_bind(fd, &xor_ops, x);
}

/* ---- helpers -------------------------------------------------------------- */

/* A connected loopback TCP pair: fds[0] <-> fds[1]. */
static void tcp_pair(int fds[2])
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 10, 0 };

	assert_true(l >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	fds[1] = accept(l, NULL, NULL);
	assert_true(fds[1] >= 0);
	close(l);
	setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 31 + seed) >> 3);
}

static size_t read_full(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, p + got, n - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* ---- the table -------------------------------------------------------------- */

static void test_bind_find_release(void **state)
{
	int fds[2], shut = 0, frees = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_null(iolayer_find(fds[0]));
	assert_int_equal(xor_bind(fds[0], &shut, &frees), 0);
	assert_non_null(iolayer_find(fds[0]));
	assert_null(iolayer_find(fds[1]));
	assert_int_equal(iolayer_count(), 1);
	/* a second layer on the same socket is refused and freed */
	assert_int_equal(xor_bind(fds[0], &shut, &frees), -1);
	assert_int_equal(frees, 1);
	iolayer_release(fds[0]);
	assert_int_equal(frees, 2);
	assert_null(iolayer_find(fds[0]));
	assert_int_equal(iolayer_count(), 0);
	iolayer_release(fds[0]);     /* nothing bound: no-op */
	assert_int_equal(frees, 2);
	close(fds[0]);
	close(fds[1]);
}

static void test_table_full(void **state)
{
	int fds[IOLAYER_MAX_PER_THREAD + 1], i, shut = 0, frees = 0;

	(void)state;
	for (i = 0; i <= IOLAYER_MAX_PER_THREAD; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
	}
	for (i = 0; i < IOLAYER_MAX_PER_THREAD; i++)
		assert_int_equal(xor_bind(fds[i], &shut, &frees), 0);
	assert_int_equal(xor_bind(fds[i], &shut, &frees), -1);
	assert_int_equal(frees, 1);
	/* releasing from the middle keeps the others findable */
	iolayer_release(fds[1]);
	assert_non_null(iolayer_find(fds[0]));
	assert_non_null(iolayer_find(fds[2]));
	assert_null(iolayer_find(fds[1]));
	for (i = 0; i <= IOLAYER_MAX_PER_THREAD; i++)
		iolayer_close(fds[i]);
	assert_int_equal(iolayer_count(), 0);
	assert_int_equal(frees, IOLAYER_MAX_PER_THREAD + 1);
}

/* The binding is per thread: another thread does not see it. */
static void *other_thread_find(void *arg)
{
	return (void *)iolayer_find(*(int *)arg);
}

static void test_binding_is_per_thread(void **state)
{
	int fds[2], shut = 0, frees = 0;
	pthread_t th;
	void *seen = (void *)1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_int_equal(xor_bind(fds[0], &shut, &frees), 0);
	assert_int_equal(pthread_create(&th, NULL, other_thread_find,
					&fds[0]), 0);
	pthread_join(th, &seen);
	assert_null(seen);
	iolayer_close(fds[0]);
	close(fds[1]);
}

/* ---- sockio through a layer ------------------------------------------ */

static void test_sockio_uses_layer(void **state)
{
	int fds[2], shut = 0, frees = 0;
	unsigned char raw[64];
	char line[64];
	size_t n = 0;
	const char msg[] = "hello";
	unsigned char wire[] = "one\ntwo";

	(void)state;
	tcp_pair(fds);
	assert_int_equal(xor_bind(fds[0], &shut, &frees), 0);
	/* write: the peer sees the XORed bytes */
	assert_int_equal(sockio_write_all(fds[0], msg, 5, TIMEOUT_MS), 0);
	assert_int_equal(read_full(fds[1], raw, 5), 5);
	xor_buf(raw, 5);
	assert_memory_equal(raw, msg, 5);
	/* read_line peeks and consumes through the layer */
	xor_buf(wire, 7);
	assert_int_equal(send(fds[1], wire, 7, 0), 7);
	assert_int_equal(sockio_read_line(fds[0], line, sizeof(line), &n,
					  TIMEOUT_MS), 4);
	assert_string_equal(line, "one\n");
	assert_int_equal(sockio_read_exact(fds[0], line, 3, TIMEOUT_MS), 3);
	assert_memory_equal(line, "two", 3);
	/* nothing more: a timeout, not a spin */
	assert_int_equal(sockio_read_some(fds[0], line, 3, 50),
			 SOCKIO_TIMEOUT);
	/* shutdown goes through the layer, then the socket */
	assert_int_equal(sockio_shutdown_send(fds[0]), 0);
	assert_int_equal(shut, 1);
	assert_int_equal(recv(fds[1], raw, 1, 0), 0);
	iolayer_close(fds[0]);
	assert_int_equal(frees, 1);
	close(fds[1]);
}

/* ---- bytes given back (iolayer_unread) ---------------------------------- */

/* Plain socket: the saved bytes come first, then the socket's; peeking
 * (read_line) does not consume them; writes go straight through. */
static void test_unread_plain(void **state)
{
	int fds[2];
	char line[64];
	size_t n = 0;
	unsigned char raw[8];

	(void)state;
	tcp_pair(fds);
	assert_int_equal(iolayer_unread(fds[0], "GET /\nab", 8), 0);
	assert_int_equal(iolayer_count(), 1);
	assert_int_equal(send(fds[1], "cd\n", 3, 0), 3);
	assert_int_equal(sockio_read_line(fds[0], line, sizeof(line), &n,
					  TIMEOUT_MS), 6);
	assert_string_equal(line, "GET /\n");
	assert_int_equal(sockio_read_line(fds[0], line, sizeof(line), &n,
					  TIMEOUT_MS), 5);
	assert_string_equal(line, "abcd\n");
	assert_int_equal(sockio_read_some(fds[0], line, 3, 50),
			 SOCKIO_TIMEOUT);
	assert_int_equal(sockio_write_all(fds[0], "ok", 2, TIMEOUT_MS), 0);
	assert_int_equal(read_full(fds[1], raw, 2), 2);
	assert_memory_equal(raw, "ok", 2);
	iolayer_close(fds[0]);
	assert_int_equal(iolayer_count(), 0);
	close(fds[1]);
}

/* iolayer_unread_take (ssl_mitm, F-TLS-04): the bytes not read yet come
 * back and the socket is plain again; nothing bound gives 0 bytes; a
 * prefix over another layer is refused and stays. */
static void test_unread_take(void **state)
{
	int fds[2], shut = 0, frees = 0;
	void *data = (void *)1;
	size_t len = 99;
	char buf[8];

	(void)state;
	tcp_pair(fds);
	assert_int_equal(iolayer_unread_take(fds[0], &data, &len), 0);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(iolayer_unread(fds[0], "hello", 5), 0);
	assert_int_equal(sockio_read_exact(fds[0], buf, 2, TIMEOUT_MS), 2);
	assert_int_equal(iolayer_unread_take(fds[0], &data, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "llo", 3);
	free(data);
	assert_int_equal(iolayer_count(), 0);
	/* all read: nothing comes back, the layer still goes */
	assert_int_equal(iolayer_unread(fds[0], "x", 1), 0);
	assert_int_equal(sockio_read_exact(fds[0], buf, 1, TIMEOUT_MS), 1);
	assert_int_equal(iolayer_unread_take(fds[0], &data, &len), 0);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(iolayer_count(), 0);
	/* over another layer */
	assert_int_equal(xor_bind(fds[0], &shut, &frees), 0);
	assert_int_equal(iolayer_unread_take(fds[0], &data, &len), -1);
	assert_int_equal(iolayer_unread(fds[0], "abc", 3), 0);
	assert_int_equal(iolayer_unread_take(fds[0], &data, &len), -1);
	assert_int_equal(iolayer_count(), 1);
	iolayer_close(fds[0]);
	assert_int_equal(frees, 1);
	close(fds[1]);
}

/* Over a layer (TLS in real use): the saved bytes come first, then the
 * layer's; writes and shutdown still go through the layer, which is
 * freed once, with the socket. */
static void test_unread_over_layer(void **state)
{
	int fds[2], shut = 0, frees = 0;
	unsigned char wire[] = "xyz", raw[4];
	char buf[8];

	(void)state;
	tcp_pair(fds);
	assert_int_equal(xor_bind(fds[0], &shut, &frees), 0);
	assert_int_equal(iolayer_unread(fds[0], "abc", 3), 0);
	assert_int_equal(iolayer_count(), 1);
	xor_buf(wire, 3);
	assert_int_equal(send(fds[1], wire, 3, 0), 3);
	assert_int_equal(sockio_read_exact(fds[0], buf, 6, TIMEOUT_MS), 6);
	assert_memory_equal(buf, "abcxyz", 6);
	assert_int_equal(sockio_write_all(fds[0], "hi", 2, TIMEOUT_MS), 0);
	assert_int_equal(read_full(fds[1], raw, 2), 2);
	xor_buf(raw, 2);
	assert_memory_equal(raw, "hi", 2);
	assert_int_equal(sockio_shutdown_send(fds[0]), 0);
	assert_int_equal(shut, 1);
	iolayer_close(fds[0]);
	assert_int_equal(frees, 1);
	assert_int_equal(iolayer_count(), 0);
	close(fds[1]);
}

/* ---- the relay with one side wrapped ----------------------------------- */

struct relay_run {
	int rc_fd, rs_fd;
	int shut, frees;
	int rc;
};

/* The relay thread binds the layer itself: bindings are per thread. */
static void *relay_main(void *arg)
{
	struct relay_run *r = arg;
	struct relay_opts o;

	relay_opts_default(&o);
	o.splice = 1;
	o.idle_timeout_ms = TIMEOUT_MS;
	if (xor_bind(r->rc_fd, &r->shut, &r->frees) != 0) {
		r->rc = -1;
		return NULL;
	}
	r->rc = relay_tcp(r->rc_fd, r->rs_fd, NULL, 0, NULL, 0, &o, NULL);
	iolayer_release(r->rc_fd);
	return NULL;
}

struct writer {
	int fd;
	const unsigned char *p;
	size_t n;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;

	while (off < w->n) {
		ssize_t k = send(w->fd, w->p + off, w->n - off, MSG_NOSIGNAL);

		if (k <= 0)
			break;
		off += (size_t)k;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void test_relay_wrapped_side_no_splice(void **state)
{
	const size_t big = 4u * 1024 * 1024;
	unsigned char *plain = malloc(big), *wire = malloc(big);
	unsigned char *got = malloc(big);
	int c[2], s[2];
	struct relay_run r;
	struct writer w;
	pthread_t rt, wt;

	(void)state;
	assert_non_null(plain);
	assert_non_null(wire);
	assert_non_null(got);
	tcp_pair(c);    /* c[0]: peer C, c[1]: relay's client side */
	tcp_pair(s);    /* s[0]: relay's server side, s[1]: peer S */
	memset(&r, 0, sizeof(r));
	r.rc_fd = c[1];
	r.rs_fd = s[0];
#ifdef __linux__
	__atomic_store_n(&n_splice_calls, 0, __ATOMIC_SEQ_CST);
#endif
	assert_int_equal(pthread_create(&rt, NULL, relay_main, &r), 0);
	/* C -> S: C sends "encrypted" bytes, S must get them decoded */
	fill(plain, big, 7);
	memcpy(wire, plain, big);
	xor_buf(wire, big);
	w.fd = c[0];
	w.p = wire;
	w.n = big;
	assert_int_equal(pthread_create(&wt, NULL, writer_main, &w), 0);
	assert_int_equal(read_full(s[1], got, big), big);
	assert_memory_equal(got, plain, big);
	pthread_join(wt, NULL);
	/* C's half-close arrives at S as EOF */
	assert_int_equal(recv(s[1], got, 1, 0), 0);
	/* S -> C still flows after the half-close, and gets encoded */
	fill(plain, big, 11);
	w.fd = s[1];
	w.p = plain;
	assert_int_equal(pthread_create(&wt, NULL, writer_main, &w), 0);
	assert_int_equal(read_full(c[0], got, big), big);
	xor_buf(got, big);
	assert_memory_equal(got, plain, big);
	pthread_join(wt, NULL);
	assert_int_equal(recv(c[0], got, 1, 0), 0);
	pthread_join(rt, NULL);
	assert_int_equal(r.rc, 0);
	/* the EOF from S was passed on through the layer's shutdown */
	assert_int_equal(r.shut, 1);
	assert_int_equal(r.frees, 1);
#ifdef __linux__
	assert_int_equal(__atomic_load_n(&n_splice_calls, __ATOMIC_SEQ_CST),
			 0);
#endif
	close(c[0]);
	close(c[1]);
	close(s[0]);
	close(s[1]);
	free(plain);
	free(wire);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_find_release),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_binding_is_per_thread),
		cmocka_unit_test(test_sockio_uses_layer),
		cmocka_unit_test(test_unread_plain),
		cmocka_unit_test(test_unread_over_layer),
		cmocka_unit_test(test_unread_take),
		cmocka_unit_test(test_relay_wrapped_side_no_splice),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
