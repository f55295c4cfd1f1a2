/*
 * test_relay.c - relay_tcp() over real loopback TCP connections.
 *
 * Each test builds   peer C <-> [RC  relay  RS] <-> peer S
 * with two connected socket pairs on 127.0.0.1 (ephemeral ports), runs
 * relay_tcp(RC, RS) in its own thread and drives C and S from the test
 * or from helper threads.  Every wait is bounded: peer sockets carry
 * receive/send timeouts, the relay is waited for with a deadline and then
 * stopped through its stop flag, and alarm() ends a run that hangs anyway.
 *
 * Every fixture test runs twice: with relay_tcp() on its own thread, and
 * handed to the event-loop threads (relay_engine_start, relay_pass),
 * except the few options the loop does not take (stop flag, pre-data,
 * grace).  In loop mode an overstaying relay is ended by shutting its
 * sockets down.
 *
 * SIGPIPE is deliberately left at its default action: a relay that let
 * one through would kill the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "relay.h"
#include "relay_engine.h"
#include "errcode.h"

#ifdef __linux__
#include <sys/syscall.h>
#endif

#define PEER_TIMEOUT_S   10      /* SO_RCVTIMEO / SO_SNDTIMEO on peers */
#define RELAY_WAIT_MS    30000   /* longest wait for a relay to end */
#define MB               (1024u * 1024u)

/* ---- splice()/pipe2() call counters (Linux) ------------------------------
 * The relay is linked into this executable, so these definitions take the
 * place of the C library's: they count, then make the real system call.
 * That lets the tests check that bulk data really switched to splice and
 * that small exchanges never made a pipe. */
#ifdef __linux__
static long n_splice_calls, n_splice_bytes, n_pipes, max_splice_len;

ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
	       size_t len, unsigned int flags)
{
	long n = syscall(SYS_splice, fd_in, off_in, fd_out, off_out, len,
			 flags);

	__atomic_add_fetch(&n_splice_calls, 1, __ATOMIC_SEQ_CST);
	if ((long)len > __atomic_load_n(&max_splice_len, __ATOMIC_SEQ_CST))
		__atomic_store_n(&max_splice_len, (long)len, __ATOMIC_SEQ_CST);
	if (n > 0)
		__atomic_add_fetch(&n_splice_bytes, n, __ATOMIC_SEQ_CST);
	return n;
}

int pipe2(int fds[2], int flags)
{
	__atomic_add_fetch(&n_pipes, 1, __ATOMIC_SEQ_CST);
	return (int)syscall(SYS_pipe2, fds, flags);
}

/* The socket's TCP_NOTSENT_LOWAT (0 when never set). */
static int notsent_lowat(int s)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v,
				    &len), 0);
	return v;
}

static void splice_counters_reset(void)
{
	__atomic_store_n(&n_splice_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&n_splice_bytes, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&n_pipes, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&max_splice_len, 0, __ATOMIC_SEQ_CST);
}
#endif

/* ---- small helpers ------------------------------------------------------ */

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

static void set_peer_timeouts(int fd)
{
	struct timeval tv = { PEER_TIMEOUT_S, 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				    sizeof(tv)), 0);
}

/* Two connected TCP sockets on 127.0.0.1, through a listener on an
 * ephemeral port. */
static void tcp_pair(int *conn, int *acc)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	*conn = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*conn >= 0);
	assert_int_equal(connect(*conn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*acc = accept(l, NULL, NULL);
	assert_true(*acc >= 0);
	close(l);
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF (or max bytes, or the peer timeout).  Returns the byte
 * count; *eof tells whether EOF was seen. */
static size_t recv_to_eof(int fd, char *buf, size_t max, int *eof)
{
	size_t got = 0;

	*eof = 0;
	while (got < max) {
		ssize_t n = recv(fd, buf + got, max - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			*eof = 1;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Exactly len bytes, or -1. */
static int recv_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* ---- deterministic byte streams ----------------------------------------- */

struct gen {
	uint32_t x;
};

static uint8_t gen_next(struct gen *g)
{
	g->x ^= g->x << 13;
	g->x ^= g->x >> 17;
	g->x ^= g->x << 5;
	return (uint8_t)(g->x >> 11);
}

/* Writes total bytes of the stream for seed, then shuts down sending. */
struct writer {
	pthread_t th;
	int fd;
	uint32_t seed;
	size_t total;
	size_t chunk;
	int result;              /* 0 when everything was sent */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct gen g = { w->seed };
	char *buf = malloc(w->chunk);
	size_t left = w->total;

	w->result = -1;
	if (buf == NULL)
		return NULL;
	while (left > 0) {
		size_t n = left < w->chunk ? left : w->chunk, i;

		for (i = 0; i < n; i++)
			buf[i] = (char)gen_next(&g);
		if (send_all(w->fd, buf, n) != 0)
			break;
		left -= n;
	}
	if (left == 0 && shutdown(w->fd, SHUT_WR) == 0)
		w->result = 0;
	free(buf);
	return NULL;
}

/* Reads to EOF and checks every byte against the stream for seed. */
struct reader {
	pthread_t th;
	int fd;
	uint32_t seed;
	size_t got;
	size_t first_bad;        /* offset of the first wrong byte, or -1 */
	int eof;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct gen g = { r->seed };
	char buf[32768];

	r->first_bad = (size_t)-1;
	for (;;) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			r->eof = 1;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if ((uint8_t)buf[i] != gen_next(&g) &&
			    r->first_bad == (size_t)-1)
				r->first_bad = r->got + (size_t)i;
		}
		r->got += (size_t)n;
	}
	return NULL;
}

static void writer_start(struct writer *w, int fd, uint32_t seed,
			 size_t total, size_t chunk)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->seed = seed;
	w->total = total;
	w->chunk = chunk;
	assert_int_equal(pthread_create(&w->th, NULL, writer_main, w), 0);
}

static void reader_start(struct reader *r, int fd, uint32_t seed)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->seed = seed;
	assert_int_equal(pthread_create(&r->th, NULL, reader_main, r), 0);
}

/* ---- the relay under test, in its own thread ------------------------------ */

struct fix {
	int c, s;                /* the test's peers */
	int rc, rs;              /* the relay's sockets */
	struct relay_opts opts;
	struct relay_stats st;
	const void *pre_s, *pre_c;
	size_t pre_s_len, pre_c_len;
	volatile int stop;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, done;
	int result;
	int in_loop;             /* handed to the event loop */
	uint64_t t0, elapsed;
};

/* The second run: relays go to the event-loop threads. */
static int use_engine;

static void fix_done(struct fix *f, int rc)
{
	pthread_mutex_lock(&f->mu);
	f->result = rc;
	f->elapsed = now_ms() - f->t0;
	f->done = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void fix_engine_done(void *arg, int code)
{
	fix_done(arg, code);
}

static void *fix_relay_main(void *arg)
{
	struct fix *f = arg;
	int rc = relay_tcp(f->rc, f->rs, f->pre_s, f->pre_s_len,
			   f->pre_c, f->pre_c_len, &f->opts, &f->st);

	fix_done(f, rc);
	return NULL;
}

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tcp_pair(&f->c, &f->rc);
	tcp_pair(&f->rs, &f->s);
	set_peer_timeouts(f->c);
	set_peer_timeouts(f->s);
	relay_opts_default(&f->opts);
	f->opts.idle_timeout_ms = 10000;
	f->opts.total_timeout_ms = RELAY_WAIT_MS;
	f->opts.stop = &f->stop;
	f->result = -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
#ifdef __linux__
	splice_counters_reset();
#endif
	*state = f;
	return 0;
}

static void fix_start(struct fix *f)
{
	f->t0 = now_ms();
	if (use_engine) {
		f->opts.stop = NULL;     /* not taken by the loop */
		assert_int_equal(relay_engine_start(f->rc, f->rs, &f->opts,
						    &f->st, fix_engine_done,
						    f), 0);
		f->in_loop = 1;
	} else {
		assert_int_equal(pthread_create(&f->th, NULL, fix_relay_main,
						f), 0);
	}
	f->running = 1;
}

/* End an overstaying relay: its stop flag, or in the loop a shutdown of
 * its sockets (the next pass sees the error). */
static void fix_stop(struct fix *f)
{
	if (f->in_loop) {
		shutdown(f->rc, SHUT_RDWR);
		shutdown(f->rs, SHUT_RDWR);
	} else {
		__atomic_store_n(&f->stop, 1, __ATOMIC_SEQ_CST);
	}
}

static void fix_join(struct fix *f)
{
	if (!f->in_loop)
		pthread_join(f->th, NULL);
}

/* Wait up to ms for the relay to return.  Returns 1 if it did. */
static int fix_wait(struct fix *f, unsigned ms)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	while (!f->done) {
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	}
	done = f->done;
	pthread_mutex_unlock(&f->mu);
	return done;
}

/* Wait for the relay and join it; a relay that overstays is stopped
 * through its flag (and the test fails). */
static void fix_finish(struct fix *f, unsigned ms)
{
	int done;

	if (!f->running)
		return;
	done = fix_wait(f, ms);
	if (!done) {
		fix_stop(f);
		fix_wait(f, 3000);
	}
	fix_join(f);
	f->running = 0;
	assert_true(done);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;

	if (f->running) {
		fix_stop(f);
		if (!fix_wait(f, 3000) && f->in_loop)
			return 0;   /* the loop still holds f: leave it */
		fix_join(f);
	}
	close_fd(&f->c);
	close_fd(&f->s);
	close_fd(&f->rc);
	close_fd(&f->rs);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
	return 0;
}

/* ---- bulk transfers -------------------------------------------------------- */

/* up bytes client->server and down bytes server->client at once,
 * byte-exact.  The writers' chunks are larger than the relay's buffer so
 * that its reads fill the buffer (the splice switch needs that). */
static void run_bulk_data(struct fix *f, size_t up, size_t down)
{
	struct writer wc, ws;
	struct reader rc, rs;

	fix_start(f);
	reader_start(&rs, f->s, 11);
	reader_start(&rc, f->c, 22);
	writer_start(&wc, f->c, 11, up, 200003);
	writer_start(&ws, f->s, 22, down, 150001);
	pthread_join(wc.th, NULL);
	pthread_join(ws.th, NULL);
	pthread_join(rs.th, NULL);
	pthread_join(rc.th, NULL);
	fix_finish(f, RELAY_WAIT_MS);

	assert_int_equal(wc.result, 0);
	assert_int_equal(ws.result, 0);
	assert_int_equal(rs.got, up);
	assert_int_equal(rc.got, down);
	assert_true(rs.eof);
	assert_true(rc.eof);
	assert_int_equal(rs.first_bad, (size_t)-1);
	assert_int_equal(rc.first_bad, (size_t)-1);
	assert_int_equal(f->result, ERR_OK);
}

/* The same, and the stats count every byte. */
static void run_bulk(struct fix *f, size_t up, size_t down)
{
	run_bulk_data(f, up, down);
	assert_int_equal(f->st.bytes_from_client, up);
	assert_int_equal(f->st.bytes_from_server, down);
	assert_true(f->st.reads_from_client > 0);
	assert_true(f->st.reads_from_server > 0);
}

static void test_bulk_copy(void **state)
{
	struct fix *f = *state;

	f->opts.splice = 0;
	run_bulk(f, 8 * MB, 6 * MB + 12345);
#ifdef __linux__
	assert_int_equal(n_splice_calls, 0);
	assert_int_equal(n_pipes, 0);
	/* copies leave the sockets' send queues as they were */
	assert_int_not_equal(notsent_lowat(f->rc), 16384);
	assert_int_not_equal(notsent_lowat(f->rs), 16384);
#endif
}

/* A small buffer: many partial reads and writes. */
static void test_bulk_copy_small_buffer(void **state)
{
	struct fix *f = *state;

	f->opts.splice = 0;
	f->opts.bufsize = 1500;
	run_bulk(f, 2 * MB + 7, 1 * MB + 3);
	assert_true(f->st.reads_from_client >= (2 * MB + 7) / 1500);
}

static void test_bulk_splice(void **state)
{
	struct fix *f = *state;

	f->opts.splice = 1;
	run_bulk(f, 8 * MB, 6 * MB + 12345);
#ifdef __linux__
	/* both directions carried bulk data: each made its pipe, and a
	 * good part of the bytes went through them (in and out) */
	assert_int_equal(n_pipes, 2);
	assert_true(n_splice_bytes > (long)(2 * MB));
	/* the pipes were grown past the 64 KiB default: one splice()
	 * may move more than one copy buffer */
	assert_true(max_splice_len > 65536);
	/* bulk data waits in the pipes: each destination socket queues
	 * at most 16 KiB unsent (RELAY_NOTSENT_LOWAT) */
	assert_int_equal(notsent_lowat(f->rc), 16384);
	assert_int_equal(notsent_lowat(f->rs), 16384);
#endif
	/* the pipes' share of the capacity budget went back */
	assert_int_equal(relay_pipe_reserved(), 0);
}

/* A copy buffer larger than the grown pipe: the pipe holds one buffer,
 * as it always did, and takes nothing from the budget. */
static void test_bulk_splice_big_buffer(void **state)
{
	struct fix *f = *state;

	f->opts.splice = 1;
	f->opts.bufsize = 2 * MB;
	run_bulk(f, 8 * MB, 6 * MB + 12345);
	assert_int_equal(relay_pipe_reserved(), 0);
}

/* Small exchanges never switch: no pipe, no splice. */
static void test_splice_small_stays_copy(void **state)
{
	struct fix *f = *state;
	char buf[64];
	int eof;

	f->opts.splice = 1;
	fix_start(f);
	assert_int_equal(send_all(f->c, "ping", 4), 0);
	assert_int_equal(recv_exact(f->s, buf, 4), 0);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(send_all(f->s, "pong!", 5), 0);
	assert_int_equal(recv_exact(f->c, buf, 5), 0);
	assert_memory_equal(buf, "pong!", 5);
	shutdown(f->c, SHUT_WR);
	shutdown(f->s, SHUT_WR);
	assert_int_equal(recv_to_eof(f->s, buf, sizeof(buf), &eof), 0);
	assert_true(eof);
	assert_int_equal(recv_to_eof(f->c, buf, sizeof(buf), &eof), 0);
	assert_true(eof);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(f->st.bytes_from_client, 4);
	assert_int_equal(f->st.bytes_from_server, 5);
#ifdef __linux__
	assert_int_equal(n_pipes, 0);
	assert_int_equal(n_splice_calls, 0);
#endif
}

/* ---- half-close -------------------------------------------------------------- */

/* The client's shutdown(SHUT_WR) reaches the server as EOF while the
 * client still listens, and the server's answer arrives afterwards. */
static void test_halfclose_request_then_answer(void **state)
{
	struct fix *f = *state;
	char buf[256];
	int eof;
	size_t n;

	fix_start(f);
	assert_int_equal(send_all(f->c, "request", 7), 0);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	n = recv_to_eof(f->s, buf, sizeof(buf), &eof);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "request", 7);
	assert_true(eof);
	/* the relay keeps going: the answer still has to come back */
	assert_false(fix_wait(f, 100));
	assert_int_equal(send_all(f->s, "response", 8), 0);
	close_fd(&f->s);
	n = recv_to_eof(f->c, buf, sizeof(buf), &eof);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "response", 8);
	assert_true(eof);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(f->st.bytes_from_client, 7);
	assert_int_equal(f->st.bytes_from_server, 8);
}

/* relay_opts.closing: the first direction to finish is shut down as
 * usual; the last one leaves its FIN to the caller's close(), so the
 * client sees its EOF only once the relay's sockets are closed. */
static void test_closing_leaves_last_fin_to_close(void **state)
{
	struct fix *f = *state;
	char buf[64];
	int eof;
	size_t n;

	f->opts.closing = 1;
	fix_start(f);
	assert_int_equal(send_all(f->c, "request", 7), 0);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	n = recv_to_eof(f->s, buf, sizeof(buf), &eof);
	assert_int_equal(n, 7);
	assert_true(eof);           /* first to finish: shut down */
	assert_int_equal(send_all(f->s, "response", 8), 0);
	close_fd(&f->s);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_OK);
	/* the response is there, the EOF is not: no shutdown(rc) */
	n = (size_t)recv(f->c, buf, sizeof(buf), 0);
	assert_int_equal(n, 8);
	assert_int_equal(recv(f->c, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close_fd(&f->rc);
	n = recv_to_eof(f->c, buf, sizeof(buf), &eof);
	assert_int_equal(n, 0);
	assert_true(eof);
}

/* Bulk data in one direction after the other has half-closed, in splice
 * mode, so the pipe path also sees a half-close. */
static void test_halfclose_bulk_after_close_splice(void **state)
{
	struct fix *f = *state;
	struct writer ws;
	struct reader rc;
	char buf[16];
	int eof;

	f->opts.splice = 1;
	fix_start(f);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	assert_int_equal(recv_to_eof(f->s, buf, sizeof(buf), &eof), 0);
	assert_true(eof);
	reader_start(&rc, f->c, 5);
	writer_start(&ws, f->s, 5, 4 * MB + 1, 200003);
	pthread_join(ws.th, NULL);
	pthread_join(rc.th, NULL);
	fix_finish(f, RELAY_WAIT_MS);
	assert_int_equal(ws.result, 0);
	assert_int_equal(rc.got, 4 * MB + 1);
	assert_true(rc.eof);
	assert_int_equal(rc.first_bad, (size_t)-1);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(f->st.bytes_from_server, 4 * MB + 1);
	assert_int_equal(f->st.bytes_from_client, 0);
}

/* -C: the client's close ends the relay although the server stays. */
static void test_no_halfclose_client_close_ends(void **state)
{
	struct fix *f = *state;
	char buf[16];

	f->opts.halfclose = 0;
	fix_start(f);
	assert_int_equal(send_all(f->c, "hello", 5), 0);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	assert_int_equal(recv_exact(f->s, buf, 5), 0);
	assert_memory_equal(buf, "hello", 5);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_OK);
	assert_true(f->elapsed < 2000);
	assert_int_equal(f->st.bytes_from_client, 5);
}

/* -C: the server's data already on its way is delivered before the
 * relay ends at the server's close; the client never closes. */
static void test_no_halfclose_server_close_flushes(void **state)
{
	struct fix *f = *state;
	struct writer ws;
	struct reader rc;

	f->opts.halfclose = 0;
	fix_start(f);
	reader_start(&rc, f->c, 9);
	writer_start(&ws, f->s, 9, 3 * MB, 100000);
	pthread_join(ws.th, NULL);
	assert_int_equal(ws.result, 0);
	close_fd(&f->s);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(f->st.bytes_from_server, 3 * MB);
	/* the relay is over and its sockets go: the client got it all */
	close_fd(&f->rc);
	close_fd(&f->rs);
	pthread_join(rc.th, NULL);
	assert_int_equal(rc.got, 3 * MB);
	assert_true(rc.eof);
	assert_int_equal(rc.first_bad, (size_t)-1);
}

/* ---- timeouts, stop flag, errors ----------------------------------------------- */

static void test_idle_timeout(void **state)
{
	struct fix *f = *state;

	f->opts.idle_timeout_ms = 200;
	fix_start(f);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_TIMEOUT);
	assert_true(f->elapsed >= 190);
	assert_true(f->elapsed < 1500);
}

/* Traffic keeps the idle timer from firing; silence then ends it. */
static void test_idle_timeout_reset_by_traffic(void **state)
{
	struct fix *f = *state;
	char buf[4];
	int i;

	f->opts.idle_timeout_ms = 300;
	fix_start(f);
	for (i = 0; i < 6; i++) {
		sleep_ms(100);
		assert_int_equal(send_all(f->c, "x", 1), 0);
		assert_int_equal(recv_exact(f->s, buf, 1), 0);
	}
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_TIMEOUT);
	assert_true(f->elapsed >= 600 + 290);
	assert_int_equal(f->st.bytes_from_client, 6);
}

static void test_total_timeout(void **state)
{
	struct fix *f = *state;
	char buf[4];
	uint64_t end;

	f->opts.idle_timeout_ms = 5000;
	f->opts.total_timeout_ms = 400;
	fix_start(f);
	end = now_ms() + 2000;
	while (!fix_wait(f, 50) && now_ms() < end) {
		assert_int_equal(send_all(f->c, "y", 1), 0);
		assert_int_equal(recv_exact(f->s, buf, 1), 0);
	}
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_TIMEOUT);
	assert_true(f->elapsed >= 390);
	assert_true(f->elapsed < 1500);
}

/* After a half-close the wait is bounded by linger, not the idle time. */
static void test_linger_after_halfclose(void **state)
{
	struct fix *f = *state;
	char buf[4];
	int eof;

	f->opts.idle_timeout_ms = 10000;
	f->opts.linger_ms = 250;
	fix_start(f);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	assert_int_equal(recv_to_eof(f->s, buf, sizeof(buf), &eof), 0);
	assert_true(eof);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_TIMEOUT);
	assert_true(f->elapsed >= 240);
	assert_true(f->elapsed < 2000);
}

/* The client closed its side and never reads: what the server sends
 * piles up in the relay, and the linger wait ends it with 94. */
static void test_unsent_after_close(void **state)
{
	struct fix *f = *state;
	struct writer ws;
	int small = 4096;

	f->opts.idle_timeout_ms = 10000;
	f->opts.linger_ms = 300;
	setsockopt(f->c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fix_start(f);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	writer_start(&ws, f->s, 3, 256 * MB, 65536);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_RELAY_UNSENT);
	/* unblock the writer: its peer goes away */
	close_fd(&f->rs);
	close_fd(&f->rc);
	pthread_join(ws.th, NULL);
	assert_int_not_equal(ws.result, 0);
}

static void test_stop_flag(void **state)
{
	struct fix *f = *state;

	f->opts.idle_timeout_ms = 0;
	f->opts.total_timeout_ms = 0;
	fix_start(f);
	sleep_ms(150);
	assert_false(fix_wait(f, 1));
	__atomic_store_n(&f->stop, 1, __ATOMIC_SEQ_CST);
	assert_true(fix_wait(f, 1500));
	fix_finish(f, 100);
	assert_int_equal(f->result, ERR_OK);
	assert_true(f->elapsed < 1300);
}

/* An abortive close (RST) of one peer. */
static void reset_peer(int *fd)
{
	struct linger lg = { 1, 0 };

	assert_int_equal(setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg)), 0);
	close_fd(fd);
}

static void test_client_reset(void **state)
{
	struct fix *f = *state;

	fix_start(f);
	sleep_ms(50);
	reset_peer(&f->c);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_CLIENT);
}

static void test_server_reset(void **state)
{
	struct fix *f = *state;

	fix_start(f);
	sleep_ms(50);
	reset_peer(&f->s);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_SERVER);
}

/* ---- pre-data ----------------------------------------------------------------- */

static void test_pre_data(void **state)
{
	struct fix *f = *state;
	char buf[64];
	int eof;
	size_t n;

	f->pre_s = "PRE-S";
	f->pre_s_len = 5;
	f->pre_c = "PRE-CLIENT";
	f->pre_c_len = 10;
	fix_start(f);
	assert_int_equal(send_all(f->c, "abc", 3), 0);
	assert_int_equal(shutdown(f->c, SHUT_WR), 0);
	n = recv_to_eof(f->s, buf, sizeof(buf), &eof);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "PRE-Sabc", 8);
	assert_true(eof);
	assert_int_equal(send_all(f->s, "xyz", 3), 0);
	assert_int_equal(shutdown(f->s, SHUT_WR), 0);
	n = recv_to_eof(f->c, buf, sizeof(buf), &eof);
	assert_int_equal(n, 13);
	assert_memory_equal(buf, "PRE-CLIENTxyz", 13);
	assert_true(eof);
	fix_finish(f, 5000);
	assert_int_equal(f->result, ERR_OK);
	/* pre-data counts as moved, not as read */
	assert_int_equal(f->st.bytes_from_client, 8);
	assert_int_equal(f->st.bytes_from_server, 13);
	assert_true(f->st.reads_from_client >= 1 &&
		    f->st.reads_from_client <= 3);
	assert_true(f->st.reads_from_server >= 1 &&
		    f->st.reads_from_server <= 3);
}

/* ---- logdump ------------------------------------------------------------------------ */

struct dump_state {
	struct relay_stats *st;
	uint64_t in, out;           /* the thresholds */
	uint64_t in_sum, out_sum;   /* what the records covered */
	int calls, early;
};

/* Like an interim access record: take the counts, restart them. */
static void dump_record(void *arg)
{
	struct dump_state *d = arg;

	d->calls++;
	if (d->st->bytes_from_server <= d->in &&
	    d->st->bytes_from_client <= d->out)
		d->early++;
	d->in_sum += d->st->bytes_from_server;
	d->out_sum += d->st->bytes_from_client;
	d->st->bytes_from_server = d->st->bytes_from_client = 0;
}

/* F-LOG-15: records come only past a threshold, and the records plus
 * what is left after the relay count every byte once, in both copy and
 * splice mode (the transfer is large enough to switch). */
static void test_logdump_interim(void **state)
{
	struct fix *f = *state;
	struct dump_state d;

	memset(&d, 0, sizeof(d));
	d.st = &f->st;
	d.in = 300000;
	d.out = 200000;
	f->opts.dump_in = d.in;
	f->opts.dump_out = d.out;
	f->opts.dump = dump_record;
	f->opts.dump_arg = &d;
	run_bulk_data(f, 3u << 20, 5u << 20);
	assert_true(d.calls >= 5);
	assert_int_equal(d.early, 0);
	assert_int_equal(d.in_sum + f->st.bytes_from_server, 5u << 20);
	assert_int_equal(d.out_sum + f->st.bytes_from_client, 3u << 20);
}

/* ---- hook and grace --------------------------------------------------------------- */

struct hook_state {
	size_t c2s, s2c;
	size_t quota;            /* c2s bytes allowed; 0 = any */
	int delay_ms;            /* asked after every c2s read */
};

static int test_hook(void *arg, int dir, size_t n, int *delay_ms)
{
	struct hook_state *h = arg;

	if (dir == RELAY_C2S) {
		h->c2s += n;
		if (h->quota && h->c2s > h->quota)
			return ERR_LIMIT;
		*delay_ms = h->delay_ms;
	} else {
		h->s2c += n;
	}
	return 0;
}

static void test_hook_quota(void **state)
{
	struct fix *f = *state;
	struct hook_state h = { .quota = 1000 };
	char buf[3000];

	memset(buf, 'q', sizeof(buf));
	f->opts.hook = test_hook;
	f->opts.hook_arg = &h;
	fix_start(f);
	assert_int_equal(send_all(f->s, "hi", 2), 0);
	assert_int_equal(recv_exact(f->c, buf, 2), 0);
	assert_int_equal(send_all(f->c, buf, sizeof(buf)), 0);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_LIMIT);
	assert_int_equal(h.s2c, 2);
	assert_true(h.c2s > 1000);
}

/* A delay from the hook holds the next read back that long. */
static void test_hook_delay(void **state)
{
	struct fix *f = *state;
	struct hook_state h = { .delay_ms = 150 };
	char buf[4];
	uint64_t t0;
	int i;

	f->opts.hook = test_hook;
	f->opts.hook_arg = &h;
	fix_start(f);
	assert_int_equal(send_all(f->c, "0", 1), 0);
	assert_int_equal(recv_exact(f->s, buf, 1), 0);
	t0 = now_ms();
	for (i = 0; i < 3; i++) {
		assert_int_equal(send_all(f->c, "1", 1), 0);
		assert_int_equal(recv_exact(f->s, buf, 1), 0);
	}
	assert_true(now_ms() - t0 >= 3 * 150 - 30);
	/* the server side was never held */
	assert_int_equal(send_all(f->s, "s", 1), 0);
	assert_int_equal(recv_exact(f->c, buf, 1), 0);
	shutdown(f->c, SHUT_WR);
	shutdown(f->s, SHUT_WR);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(h.c2s, 4);
}

/* A delay at least as long as the idle timeout: 93. */
static void test_hook_stall(void **state)
{
	struct fix *f = *state;
	struct hook_state h = { .delay_ms = 500 };

	f->opts.idle_timeout_ms = 400;
	f->opts.hook = test_hook;
	f->opts.hook_arg = &h;
	fix_start(f);
	assert_int_equal(send_all(f->c, "z", 1), 0);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_RELAY_STALL);
}

/* relay_hook_apply: the hook's rules shared with http_body.c. */
static void test_hook_apply(void **state)
{
	struct hook_state h = { .quota = 10, .delay_ms = 200 };
	struct relay_opts o;
	int delay = -1;

	(void)state;
	relay_opts_default(&o);
	assert_int_equal(relay_hook_apply(&o, RELAY_C2S, 5, &delay), 0);
	assert_int_equal(delay, 0);                  /* no hook */
	o.hook = test_hook;
	o.hook_arg = &h;
	assert_int_equal(relay_hook_apply(&o, RELAY_C2S, 5, &delay), 0);
	assert_int_equal(delay, 200);
	o.idle_timeout_ms = 200;                     /* delay >= timeout */
	assert_int_equal(relay_hook_apply(&o, RELAY_C2S, 1, &delay),
			 ERR_RELAY_STALL);
	o.idle_timeout_ms = 0;
	assert_int_equal(relay_hook_apply(&o, RELAY_C2S, 10, &delay),
			 ERR_LIMIT);                 /* over the quota */
	assert_int_equal(relay_hook_apply(&o, RELAY_S2C, 7, &delay), 0);
	assert_int_equal(delay, 0);
	assert_int_equal(h.s2c, 7);
}

/* F-PROC-10: the watched number and the re-check. */
struct recheck_state {
	int calls;
	int code;                /* what the re-check returns */
};

static int test_recheck(void *arg)
{
	struct recheck_state *r = arg;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_SEQ_CST);
	return r->code;
}

/* An idle relay notices a change within about a second (its longest
 * wait) and ends with the re-check's code. */
static void test_recheck_idle_fails(void **state)
{
	struct fix *f = *state;
	struct recheck_state r = { 0, ERR_AUTH_UNKNOWN };
	int version = 1;
	uint64_t t0;

	f->opts.idle_timeout_ms = 0;
	f->opts.watch = &version;
	f->opts.watch_seen = 1;
	f->opts.recheck = test_recheck;
	f->opts.recheck_arg = &r;
	fix_start(f);
	sleep_ms(150);
	assert_false(fix_wait(f, 1));
	assert_int_equal(__atomic_load_n(&r.calls, __ATOMIC_SEQ_CST), 0);
	t0 = now_ms();
	__atomic_store_n(&version, 2, __ATOMIC_SEQ_CST);
	assert_true(fix_wait(f, 2500));
	fix_finish(f, 100);
	assert_int_equal(f->result, ERR_AUTH_UNKNOWN);
	assert_int_equal(r.calls, 1);
	assert_true(now_ms() - t0 < 1600);
}

/* A passing re-check runs once per change; data keeps moving. */
static void test_recheck_passes(void **state)
{
	struct fix *f = *state;
	struct recheck_state r = { 0, 0 };
	int version = 5;
	char buf[2];
	int i;

	f->opts.watch = &version;
	f->opts.watch_seen = 4;          /* a reload before the relay */
	f->opts.recheck = test_recheck;
	f->opts.recheck_arg = &r;
	fix_start(f);
	for (i = 0; i < 3; i++) {
		assert_int_equal(send_all(f->c, "x", 1), 0);
		assert_int_equal(recv_exact(f->s, buf, 1), 0);
	}
	assert_int_equal(__atomic_load_n(&r.calls, __ATOMIC_SEQ_CST), 1);
	__atomic_store_n(&version, 6, __ATOMIC_SEQ_CST);
	assert_int_equal(send_all(f->c, "y", 1), 0);
	assert_int_equal(recv_exact(f->s, buf, 1), 0);
	/* the look comes at the top of the next iteration: within 1 s */
	for (i = 0; i < 150 &&
	     __atomic_load_n(&r.calls, __ATOMIC_SEQ_CST) < 2; i++)
		sleep_ms(10);
	assert_int_equal(__atomic_load_n(&r.calls, __ATOMIC_SEQ_CST), 2);
	shutdown(f->c, SHUT_WR);
	shutdown(f->s, SHUT_WR);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_OK);
	assert_int_equal(r.calls, 2);
}

/* -g: after NUM small reads within a second the relay pauses before
 * polling again, so the next small packet waits about DELAY. */
static void test_grace(void **state)
{
	struct fix *f = *state;
	char buf[4];
	uint64_t t0;

	f->opts.grace_traf = 10;
	f->opts.grace_num = 2;
	f->opts.grace_delay_ms = 300;
	fix_start(f);
	assert_int_equal(send_all(f->c, "a", 1), 0);
	assert_int_equal(recv_exact(f->s, buf, 1), 0);
	assert_int_equal(send_all(f->c, "b", 1), 0);
	assert_int_equal(recv_exact(f->s, buf, 1), 0);
	t0 = now_ms();
	assert_int_equal(send_all(f->c, "c", 1), 0);
	assert_int_equal(recv_exact(f->s, buf, 1), 0);
	assert_int_equal(buf[0], 'c');
	assert_true(now_ms() - t0 >= 200);
	shutdown(f->c, SHUT_WR);
	shutdown(f->s, SHUT_WR);
	fix_finish(f, 3000);
	assert_int_equal(f->result, ERR_OK);
}

/* Large reads do not count as "small": no pause. */
static void test_grace_ignores_bulk(void **state)
{
	struct fix *f = *state;

	f->opts.grace_traf = 10;
	f->opts.grace_num = 1;
	f->opts.grace_delay_ms = 500;
	run_bulk(f, 4 * MB, 4 * MB);
	assert_true(f->elapsed < 5000);
}

/* ---- opts / arguments --------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct relay_opts o;

	memset(&o, 0x5a, sizeof(o));
	relay_opts_default(&o);
	assert_int_equal(o.bufsize, 65536);
	assert_int_equal(o.halfclose, 1);
	assert_int_equal(o.splice, 0);
	assert_int_equal(o.idle_timeout_ms, 0);
	assert_int_equal(o.total_timeout_ms, 0);
	assert_true(o.linger_ms > 0);
	assert_null(o.stop);
	assert_null(o.hook);
	assert_int_equal(o.grace_num, 0);
	assert_int_equal(relay_tcp(OS_BADSOCK, OS_BADSOCK, NULL, 0, NULL, 0,
				   &o, NULL), ERR_RELAY_INTERNAL);
}

/* ---- the event loop only -------------------------------------------------------- */

static int engine_test_filter(void *arg, int dir, const char *in, size_t n,
			      const char **out, size_t *outlen)
{
	(void)arg;
	(void)dir;
	*out = in;
	*outlen = n;
	return 0;
}

/* Options the loop must not take, and relaythreads 0: the caller is told
 * to relay itself (-1), and nothing was taken over. */
static void test_engine_refuses(void **state)
{
	struct fix *f = *state;
	struct relay_opts o = f->opts;

	o.stop = NULL;
	o.filter = engine_test_filter;
	assert_int_equal(relay_engine_start(f->rc, f->rs, &o, &f->st,
					    fix_engine_done, f), -1);
	o.filter = NULL;
	o.grace_num = 1;
	assert_int_equal(relay_engine_start(f->rc, f->rs, &o, &f->st,
					    fix_engine_done, f), -1);
	o.grace_num = 0;
	o.stop = &f->stop;
	assert_int_equal(relay_engine_start(f->rc, f->rs, &o, &f->st,
					    fix_engine_done, f), -1);
	o.stop = NULL;
	relay_engine_set_threads(0);
	assert_int_equal(relay_engine_start(f->rc, f->rs, &o, &f->st,
					    fix_engine_done, f), -1);
	relay_engine_set_threads(2);
	assert_int_equal(relay_engine_active(), 0);
	assert_false(f->done);
}

#define MANY 64

/* Many tunnels at once over two loops: every one carries its own bytes
 * both ways, half-closes and ends with 0; none is left behind. */
static void test_engine_many(void **state)
{
	struct fix *fx[MANY];
	char out[1500], in[1500];
	int i, k, eof;

	(void)state;
	for (i = 0; i < MANY; i++) {
		assert_int_equal(fix_setup((void **)&fx[i]), 0);
		fix_start(fx[i]);
	}
	for (k = 0; k < 3; k++) {
		for (i = 0; i < MANY; i++) {
			memset(out, 'a' + (i + k) % 26, sizeof(out));
			assert_int_equal(send_all(fx[i]->c, out, sizeof(out)), 0);
		}
		for (i = 0; i < MANY; i++) {
			assert_int_equal(recv_exact(fx[i]->s, in, sizeof(in)), 0);
			assert_int_equal(in[0], 'a' + (i + k) % 26);
			assert_int_equal(send_all(fx[i]->s, in, sizeof(in)), 0);
		}
		for (i = 0; i < MANY; i++) {
			assert_int_equal(recv_exact(fx[i]->c, in, sizeof(in)), 0);
			assert_int_equal(in[sizeof(in) - 1], 'a' + (i + k) % 26);
		}
	}
	for (i = 0; i < MANY; i++) {
		assert_int_equal(shutdown(fx[i]->c, SHUT_WR), 0);
		assert_int_equal(recv_to_eof(fx[i]->s, in, sizeof(in), &eof), 0);
		assert_true(eof);
		assert_int_equal(shutdown(fx[i]->s, SHUT_WR), 0);
	}
	for (i = 0; i < MANY; i++) {
		fix_finish(fx[i], 5000);
		assert_int_equal(fx[i]->result, ERR_OK);
		assert_int_equal(fx[i]->st.bytes_from_client, 3 * sizeof(out));
		assert_int_equal(fx[i]->st.bytes_from_server, 3 * sizeof(out));
		fix_teardown((void **)&fx[i]);
	}
	assert_int_equal(relay_engine_active(), 0);
}

/* Drive a relay by hand, as a loop does, with every edge reported. */
static int pass_all(struct relay *r)
{
	int wait, moved;

	relay_ready(r, 0, 1, 1);
	relay_ready(r, 1, 1, 1);
	return relay_pass(r, &wait, &moved);
}

/* The server sends more than the client takes: the S2C direction holds
 * bytes its sink refuses, so the loop need not hear of the server's
 * input (relay_input_parked) until the client has taken them; the
 * client's input is never parked.  Then the client reads everything and
 * nothing stays parked. */
static void test_input_parked(void **state)
{
	struct fix *f = *state;
	static char chunk[65536];
	size_t sent = 0, got = 0;
	int i, rc = RELAY_GOING;
	struct relay *r;

	assert_int_equal(fcntl(f->s, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(f->c, F_SETFL, O_NONBLOCK), 0);
	f->opts.stop = NULL;
	r = relay_create(f->rc, f->rs, &f->opts, &f->st);
	assert_non_null(r);
	assert_false(relay_input_parked(r, 0));
	assert_false(relay_input_parked(r, 1));
	for (i = 0; i < 1000 && !relay_input_parked(r, 1); i++) {
		ssize_t n = send(f->s, chunk, sizeof(chunk), MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		rc = pass_all(r);
		assert_int_equal(rc, RELAY_GOING);
	}
	assert_true(relay_input_parked(r, 1));
	assert_false(relay_input_parked(r, 0));
	/* the client drains; the server sends nothing more */
	for (i = 0; i < 5000 && got < sent; i++) {
		ssize_t n = recv(f->c, chunk, sizeof(chunk), 0);

		if (n > 0)
			got += (size_t)n;
		else
			sleep_ms(1);
		rc = pass_all(r);
		assert_int_equal(rc, RELAY_GOING);
	}
	assert_int_equal(got, sent);
	assert_false(relay_input_parked(r, 1));
	assert_false(relay_input_parked(r, 0));
	relay_destroy(r);
}

static int engine_on(void **state)
{
	(void)state;
	use_engine = 1;
	relay_engine_set_threads(2);
	return 0;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)
#define BOTH \
		T(test_bulk_copy), \
		T(test_bulk_copy_small_buffer), \
		T(test_logdump_interim), \
		T(test_bulk_splice), \
		T(test_bulk_splice_big_buffer), \
		T(test_splice_small_stays_copy), \
		T(test_halfclose_request_then_answer), \
		T(test_halfclose_bulk_after_close_splice), \
		T(test_closing_leaves_last_fin_to_close), \
		T(test_no_halfclose_client_close_ends), \
		T(test_no_halfclose_server_close_flushes), \
		T(test_idle_timeout), \
		T(test_idle_timeout_reset_by_traffic), \
		T(test_total_timeout), \
		T(test_linger_after_halfclose), \
		T(test_unsent_after_close), \
		T(test_client_reset), \
		T(test_server_reset), \
		T(test_hook_quota), \
		T(test_hook_delay), \
		T(test_hook_stall), \
		T(test_recheck_idle_fails), \
		T(test_recheck_passes)
	const struct CMUnitTest thread_tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_hook_apply),
		BOTH,
		T(test_stop_flag),
		T(test_pre_data),
		T(test_grace),
		T(test_grace_ignores_bulk),
		T(test_input_parked),
	};
	const struct CMUnitTest loop_tests[] = {
		BOTH,
		T(test_engine_refuses),
		cmocka_unit_test(test_engine_many),
	};
#undef BOTH
#undef T
	int failed;

	/* last resort: a hang ends the run (SIGALRM kills) instead of
	 * blocking the build */
	alarm(300);
	failed = cmocka_run_group_tests_name("relay on its thread",
					     thread_tests, NULL, NULL);
#ifdef __linux__
	failed += cmocka_run_group_tests_name("relay in the event loop",
					      loop_tests, engine_on, NULL);
#endif
	return failed;
}
