/*
 * test_sockio.c - the timed socket reads and writes of sockio.c, over real
 * loopback TCP connections.
 *
 * A helper thread plays the peer where timing matters (data trickling in
 * pieces).  Peer sockets carry receive/send timeouts and alarm() ends a
 * run that hangs anyway.  SIGPIPE keeps its default action, so a write
 * that raised it would kill the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "sockio.h"

#define PEER_TIMEOUT_S 10

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- fixture: one connected pair, a = the side under test, b = peer ---- */

struct pair {
	int a, b;
};

static int pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct timeval tv = { PEER_TIMEOUT_S, 0 };
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_non_null(p);
	assert_true(l >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 2), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	p->a = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->a >= 0);
	assert_int_equal(connect(p->a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	p->b = accept(l, NULL, NULL);
	assert_true(p->b >= 0);
	close(l);
	setsockopt(p->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(p->b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	free(p);
	return 0;
}

static void peer_send(int fd, const char *s)
{
	size_t len = strlen(s);

	assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* A peer thread that sends pieces with pauses, then maybe closes. */
struct trickle {
	pthread_t th;
	int fd;
	const char *const *pieces;
	unsigned pause_ms;
	int close_after;
};

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	size_t i;

	for (i = 0; t->pieces[i] != NULL; i++) {
		sleep_ms(t->pause_ms);
		if (send(t->fd, t->pieces[i], strlen(t->pieces[i]),
			 MSG_NOSIGNAL) < 0)
			break;
	}
	if (t->close_after)
		shutdown(t->fd, SHUT_WR);
	return NULL;
}

static void trickle_start(struct trickle *t, int fd,
			  const char *const *pieces, unsigned pause_ms,
			  int close_after)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->pieces = pieces;
	t->pause_ms = pause_ms;
	t->close_after = close_after;
	assert_int_equal(pthread_create(&t->th, NULL, trickle_main, t), 0);
}

/* ---- sockio_read_some ----------------------------------------------------- */

static void test_read_some_data(void **state)
{
	struct pair *p = *state;
	char buf[16];

	peer_send(p->b, "hello");
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000), 5);
	assert_memory_equal(buf, "hello", 5);
	/* never more than len */
	peer_send(p->b, "abcdef");
	assert_int_equal(sockio_read_some(p->a, buf, 4, 1000), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000), 2);
	assert_memory_equal(buf, "ef", 2);
}

static void test_read_some_timeout(void **state)
{
	struct pair *p = *state;
	char buf[16];
	uint64_t t0 = now_ms();

	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 150),
			 SOCKIO_TIMEOUT);
	assert_true(now_ms() - t0 >= 145);
	assert_true(now_ms() - t0 < 1000);
	/* 0 = only what is already there */
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 0),
			 SOCKIO_TIMEOUT);
}

static void test_read_some_eof(void **state)
{
	struct pair *p = *state;
	char buf[16];

	peer_send(p->b, "x");
	shutdown(p->b, SHUT_WR);
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000), 1);
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000),
			 SOCKIO_EOF);
}

static void test_read_some_bad_args(void **state)
{
	struct pair *p = *state;
	char buf[4];

	assert_int_equal(sockio_read_some(p->a, buf, 0, 100), SOCKIO_ERROR);
	assert_int_equal(sockio_read_some(p->a, NULL, 4, 100), SOCKIO_ERROR);
	assert_int_equal(sockio_read_exact(p->a, buf, 0, 100), SOCKIO_ERROR);
	assert_int_equal(sockio_read_line(p->a, buf, 1, NULL, 100),
			 SOCKIO_ERROR);
}

/* ---- sockio_read_exact ------------------------------------------------------ */

static void test_read_exact_pieces(void **state)
{
	struct pair *p = *state;
	static const char *const pieces[] = { "hel", "lo wor", "ld", NULL };
	struct trickle t;
	char buf[16];

	trickle_start(&t, p->b, pieces, 30, 0);
	assert_int_equal(sockio_read_exact(p->a, buf, 11, 3000), 11);
	assert_memory_equal(buf, "hello world", 11);
	pthread_join(t.th, NULL);
}

static void test_read_exact_eof(void **state)
{
	struct pair *p = *state;
	char buf[16];

	peer_send(p->b, "abc");
	shutdown(p->b, SHUT_WR);
	assert_int_equal(sockio_read_exact(p->a, buf, 10, 1000), SOCKIO_EOF);
}

/* The timeout bounds the whole call: a peer trickling a byte every 40 ms
 * cannot keep it going past it. */
static void test_read_exact_total_deadline(void **state)
{
	struct pair *p = *state;
	static const char *const pieces[] = { "1", "2", "3", "4", "5", "6",
		"7", "8", "9", "0", NULL };
	struct trickle t;
	char buf[16];
	uint64_t t0 = now_ms(), dt;

	trickle_start(&t, p->b, pieces, 40, 0);
	assert_int_equal(sockio_read_exact(p->a, buf, 10, 200),
			 SOCKIO_TIMEOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 195);
	assert_true(dt < 1000);
	pthread_join(t.th, NULL);
}

/* ---- sockio_read_line ------------------------------------------------------- */

/* Lines are consumed one at a time; what follows stays in the socket. */
static void test_read_line_keeps_rest(void **state)
{
	struct pair *p = *state;
	char buf[64];
	size_t n = 99;

	peer_send(p->b, "abc\r\ndef\nrest");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000), 5);
	assert_int_equal(n, 5);
	assert_string_equal(buf, "abc\r\n");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000), 4);
	assert_string_equal(buf, "def\n");
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000), 4);
	assert_memory_equal(buf, "rest", 4);
}

static void test_read_line_pieces(void **state)
{
	struct pair *p = *state;
	static const char *const pieces[] = { "GET / HT", "TP/1.0\r", "\nHost",
		NULL };
	struct trickle t;
	char buf[64];
	size_t n = 0;

	trickle_start(&t, p->b, pieces, 30, 0);
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 3000),
			 16);
	assert_string_equal(buf, "GET / HTTP/1.0\r\n");
	pthread_join(t.th, NULL);
	assert_int_equal(sockio_read_some(p->a, buf, sizeof(buf), 1000), 4);
	assert_memory_equal(buf, "Host", 4);
}

static void test_read_line_too_long(void **state)
{
	struct pair *p = *state;
	char buf[8];
	size_t n = 0;

	peer_send(p->b, "0123456789\n");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 SOCKIO_TOOLONG);
	assert_int_equal(n, 7);
	assert_string_equal(buf, "0123456");
	/* only max - 1 bytes were taken */
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 4);
	assert_string_equal(buf, "789\n");
}

/* A line of exactly max - 1 bytes fits; one more does not. */
static void test_read_line_exact_fit(void **state)
{
	struct pair *p = *state;
	char buf[6];
	size_t n = 0;

	peer_send(p->b, "abcd\nabcde\n");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 5);
	assert_string_equal(buf, "abcd\n");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 SOCKIO_TOOLONG);
	assert_string_equal(buf, "abcde");
}

static void test_read_line_eof_partial(void **state)
{
	struct pair *p = *state;
	char buf[32];
	size_t n = 0;

	peer_send(p->b, "partial");
	shutdown(p->b, SHUT_WR);
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 SOCKIO_EOF);
	assert_int_equal(n, 7);
	assert_string_equal(buf, "partial");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 1000),
			 SOCKIO_EOF);
	assert_int_equal(n, 0);
}

static void test_read_line_timeout(void **state)
{
	struct pair *p = *state;
	char buf[32];
	size_t n = 0;
	uint64_t t0 = now_ms();

	peer_send(p->b, "no newline");
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), &n, 150),
			 SOCKIO_TIMEOUT);
	assert_true(now_ms() - t0 >= 145);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(n, 10);
}

static void test_read_line_nonblocking(void **state)
{
	struct pair *p = *state;
	static const char *const pieces[] = { "US", "ER bob\r\n", NULL };
	struct trickle t;
	char buf[32];

	set_nonblock(p->a);
	trickle_start(&t, p->b, pieces, 30, 0);
	assert_int_equal(sockio_read_line(p->a, buf, sizeof(buf), NULL, 3000),
			 10);
	assert_string_equal(buf, "USER bob\r\n");
	pthread_join(t.th, NULL);
}

/* ---- sockio_write_all -------------------------------------------------------- */

struct drain {
	pthread_t th;
	int fd;
	size_t got;
	uint32_t sum;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[65536];

	for (;;) {
		ssize_t n = recv(d->fd, buf, sizeof(buf), 0), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			d->sum = d->sum * 31u + buf[i];
		d->got += (size_t)n;
	}
	return NULL;
}

static void write_all_big(struct pair *p)
{
	size_t len = 8u * 1024 * 1024, i;
	unsigned char *buf = malloc(len);
	uint32_t sum = 0;
	struct drain d;

	assert_non_null(buf);
	for (i = 0; i < len; i++) {
		buf[i] = (unsigned char)(i * 7 + (i >> 13));
		sum = sum * 31u + buf[i];
	}
	memset(&d, 0, sizeof(d));
	d.fd = p->b;
	assert_int_equal(pthread_create(&d.th, NULL, drain_main, &d), 0);
	assert_int_equal(sockio_write_all(p->a, buf, len, 10000), 0);
	shutdown(p->a, SHUT_WR);
	pthread_join(d.th, NULL);
	assert_int_equal(d.got, len);
	assert_int_equal(d.sum, sum);
	free(buf);
}

static void test_write_all_big(void **state)
{
	write_all_big(*state);
}

static void test_write_all_big_nonblocking(void **state)
{
	struct pair *p = *state;

	set_nonblock(p->a);
	write_all_big(p);
}

static void test_write_all_timeout(void **state)
{
	struct pair *p = *state;
	size_t len = 64u * 1024 * 1024;
	char *buf = calloc(1, len);
	uint64_t t0, dt;

	assert_non_null(buf);
	t0 = now_ms();
	assert_int_equal(sockio_write_all(p->a, buf, len, 200),
			 SOCKIO_TIMEOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 195);
	assert_true(dt < 2000);
	free(buf);
}

/* The peer is gone: an error, and no SIGPIPE. */
static void test_write_all_peer_gone(void **state)
{
	struct pair *p = *state;
	struct linger lg = { 1, 0 };
	char buf[4096];
	int i, rc = 0;

	memset(buf, 'w', sizeof(buf));
	setsockopt(p->b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(p->b);
	p->b = -1;
	sleep_ms(20);
	for (i = 0; i < 10 && rc == 0; i++)
		rc = sockio_write_all(p->a, buf, sizeof(buf), 1000);
	assert_int_equal(rc, SOCKIO_ERROR);
	assert_int_equal(sockio_write_all(p->a, buf, 0, 1000), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, pair_setup, pair_teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_some_data),
		T(test_read_some_timeout),
		T(test_read_some_eof),
		T(test_read_some_bad_args),
		T(test_read_exact_pieces),
		T(test_read_exact_eof),
		T(test_read_exact_total_deadline),
		T(test_read_line_keeps_rest),
		T(test_read_line_pieces),
		T(test_read_line_too_long),
		T(test_read_line_exact_fit),
		T(test_read_line_eof_partial),
		T(test_read_line_timeout),
		T(test_read_line_nonblocking),
		T(test_write_all_big),
		T(test_write_all_big_nonblocking),
		T(test_write_all_timeout),
		T(test_write_all_peer_gone),
	};
#undef T

	/* last resort: a hang ends the run instead of blocking the build */
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
