/*
 * fuzz_http_chunked.c - chunked transfer coding (http_parse.c steps,
 * http_body.c precheck and body copy).  The first byte gives a split
 * point, so the incremental decoder also sees the input in two pieces;
 * the rest is the body.  The body copy runs over socket pairs, as
 * between a client and a server.
 * F-HTTP-01
 */
#include "fuzz_util.h"
#include "http_body.h"
#include "http_parse.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* Step through in[0..n); returns the number of steps taken. */
static int steps(const char *in, size_t n, size_t split)
{
	struct http_chunked c;
	struct http_chunk_step st;
	size_t off = 0, lim = split < n ? split : n;
	int count = 0;

	http_chunked_init(&c);
	for (;;) {
		int rc = http_chunked_step(&c, in + off, lim - off, &st);

		if (rc == HTTP_NEED_MORE && lim < n) {
			lim = n;        /* the second piece arrives */
			continue;
		}
		if (rc != HTTP_OK || st.kind == HTTP_CHUNK_END)
			break;
		if (st.used == 0 || st.used > lim - off)
			abort();        /* no progress or past the input */
		off += st.used;
		count++;
	}
	return count;
}

/* http_body_copy of a chunked body from one socket pair to another.
 * Inputs stay below the socket buffers, so nothing blocks. */
static void body_copy(const char *in, size_t n, int decode)
{
	static const struct http_body_errs errs = { 1, 2, 3, 4, 5 };
	struct http_framing f = { HTTP_BODY_CHUNKED, 0, 0 };
	struct http_in hin;
	struct http_out hout;
	int src[2], dst[2];
	char sink[4096];

	if (n > 32768 || socketpair(AF_UNIX, SOCK_STREAM, 0, src) != 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, dst) != 0) {
		close(src[0]);
		close(src[1]);
		return;
	}
	if (n > 0 && write(src[1], in, n) != (ssize_t)n)
		goto out;
	shutdown(src[1], SHUT_WR);
	if (http_in_init(&hin, src[0], 4096, 65536, NULL) != 0)
		goto out;
	if (http_out_init(&hout, 4096) == 0) {
		hout.s = dst[1];
		hout.timeout_ms = 1000;
		http_body_copy(&hin, &hout, &f,
			       decode ? HTTP_CHUNKS_DECODE : HTTP_CHUNKS_KEEP,
			       1000, &errs, NULL);
		http_out_free(&hout);
	}
	http_in_free(&hin);
	shutdown(dst[1], SHUT_WR);
	while (read(dst[0], sink, sizeof(sink)) > 0)
		;
out:
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	char *buf = (char *)fuzz_dup(data, size);
	uint64_t v;
	size_t eol;

	if (buf == NULL)
		return 0;
	steps(buf, size, (size_t)(sel & 0x7f) * size / 127);
	for (eol = 0; eol < size && buf[eol] != '\r' && buf[eol] != '\n';)
		eol++;
	http_parse_chunk_size(buf, eol, &v);
	if (sel & 0x80)
		body_copy(buf, size, sel & 1);
	free(buf);
	return 0;
}
