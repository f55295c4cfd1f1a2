/*
 * fuzz_logformat.c - log line expansion (logformat.c): the format with
 * its "-chars+r" filter prefix, %-macros and field selectors, expanded
 * for a record whose text, user and host come from the input too (they
 * are client controlled).  Input: fmt NUL text NUL user NUL host; the
 * first byte picks the output size, SQL quoting and missing fields.
 * F-LOG-03
 */
#include "fuzz_util.h"
#include "logformat.h"
#include "net.h"

/* The next NUL-separated part of [*p, end), NUL-terminated in place. */
static char *part(char **p, char *end)
{
	char *s = *p;

	if (s >= end)
		return NULL;
	*p = s + strlen(s) + 1;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outlens[] = { 1, 2, 16, 80, 4096, 65536 };
	uint8_t sel = fuzz_take(&data, &size);
	char *buf = fuzz_cstr(data, size), *p, *end, *fmt, *out;
	struct net_addr c, l, r;
	struct log_record rec;
	size_t outlen = outlens[(sel & 0x0f) % 6], n;

	if (buf == NULL)
		return 0;
	out = malloc(outlen);
	if (out == NULL) {
		free(buf);
		return 0;
	}
	p = buf;
	end = buf + size;
	fmt = part(&p, end);
	memset(&rec, 0, sizeof(rec));
	net_parse_ip("10.0.0.5", &c);
	net_parse_ip("::1", &l);
	net_parse_ip("192.0.2.7", &r);
	rec.now.tv_sec = 1795458702;
	rec.now.tv_nsec = 256000000L;
	rec.duration_ms = 1234;
	rec.service = "PROXY";
	rec.port = 3128;
	rec.err = 0;
	rec.text = part(&p, end);
	rec.user = part(&p, end);
	rec.host = part(&p, end);
	if (!(sel & 0x10)) {
		rec.client = &c;
		rec.local = &l;
		rec.remote = &r;
		rec.requested = &r;
		rec.external = &c;
	}
	rec.bytes_in = UINT64_MAX;
	rec.bytes_out = 17;
	rec.hops = 2;
	rec.sql_quote = (sel & 0x20) != 0;
	n = logformat_expand(out, outlen, fmt != NULL ? fmt : "", &rec);
	if (n >= outlen || strlen(out) != n)
		abort();                /* cut, never overflowed (logformat.h) */
	free(out);
	free(buf);
	return 0;
}
