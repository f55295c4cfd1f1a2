/*
 * logjson.c - `logformat json`: an access record as one JSON object.
 *
 * Owns the JSON text of a record: field names, escaping and the size
 * budget that keeps the object complete in a bounded line.  The record
 * comes from client.c or service.c through logformat_expand, so every
 * log sink (stdout, file, rotation, syslog) carries it like any line.
 *
 * No shared state: any number of threads may write records at once.
 */
#include <stdio.h>
#include <string.h>

#include "logjson.h"
#include "numfmt.h"
#include "net.h"
#include "os.h"

/* Longest text of an address (IPv6 literal, Unix socket name). */
#define LJ_ADDR_MAX 128
/* Escaped bytes at most for these values; the request text gets the
 * rest of the line. */
#define LJ_SERVICE_MAX 64
#define LJ_USER_MAX 768
#define LJ_HOST_MAX 1536
/* Room kept for what follows a string value: the other fields' keys,
 * numbers and addresses (at most about 560 bytes) and the closing. */
#define LJ_TAIL 600

int logjson_selected(const char *fmt)
{
	return fmt != NULL && strcmp(fmt, LOGJSON_FORMAT) == 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

size_t json_escape(char *out, size_t cap, const char *s, size_t n,
		   size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < n) {
		char tmp[8];
		const char *piece = tmp;
		size_t plen, take = 1;
		unsigned char c = u[i];

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			plen = 2;
		} else if (c < 0x20 || c == 0x7F) {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hex[c >> 4];
			tmp[5] = hex[c & 15];
			plen = 6;
		} else if (c < 0x80) {
			tmp[0] = (char)c;
			plen = 1;
		} else if ((take = utf8_len(u + i, n - i)) != 0) {
			piece = s + i;
			plen = take;
		} else {
			piece = "\\ufffd";   /* a stray byte: replaced */
			plen = 6;
			take = 1;
		}
		if (plen > cap - o)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += take;
	}
	if (used != NULL)
		*used = i;
	return o;
}

/* ---- the object ------------------------------------------------------ */

struct lj_out {
	char *buf;
	size_t len;
	size_t cap;         /* excludes the NUL */
};

static void lj_raw(struct lj_out *w, const char *s, size_t n)
{
	if (n > w->cap - w->len)
		n = w->cap - w->len;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void lj_lit(struct lj_out *w, const char *s)
{
	lj_raw(w, s, strlen(s));
}

/* ,"key": (no comma before the first field) */
static void lj_key(struct lj_out *w, const char *key)
{
	if (w->len > 1)
		lj_lit(w, ",");
	lj_lit(w, "\"");
	lj_lit(w, key);
	lj_lit(w, "\":");
}

/* A string value of at most max escaped bytes, leaving tail bytes of
 * the line free; NULL is null. */
static void lj_str(struct lj_out *w, const char *key, const char *s,
		   size_t max, size_t tail)
{
	size_t room;

	lj_key(w, key);
	if (s == NULL) {
		lj_lit(w, "null");
		return;
	}
	lj_lit(w, "\"");
	room = w->cap - w->len;
	room = room > tail + 1 ? room - tail - 1 : 0;
	if (room > max)
		room = max;
	w->len += json_escape(w->buf + w->len, room, s, strlen(s), NULL);
	lj_lit(w, "\"");
}

static void lj_digits(struct lj_out *w, uint64_t v)
{
	char tmp[NUMFMT_U64_SIZE];

	lj_raw(w, tmp, numfmt_u64(tmp, v, 0));
}

static void lj_uint(struct lj_out *w, const char *key, uint64_t v)
{
	lj_key(w, key);
	lj_digits(w, v);
}

static void lj_int(struct lj_out *w, const char *key, int v)
{
	lj_key(w, key);
	if (v < 0)
		lj_lit(w, "-");
	lj_digits(w, v < 0 ? (uint64_t)0 - (uint64_t)(int64_t)v :
		  (uint64_t)v);
}

static int lj_unset(const struct net_addr *a)
{
	return a == NULL || a->len == 0;
}

/* "key_ip" and, if port_key, "key_port"; null when never filled in. */
static void lj_addr(struct lj_out *w, const char *ip_key,
		    const char *port_key, const struct net_addr *a)
{
	char ip[LJ_ADDR_MAX];

	if (lj_unset(a)) {
		lj_str(w, ip_key, NULL, 0, 0);
		if (port_key != NULL) {
			lj_key(w, port_key);
			lj_lit(w, "null");
		}
		return;
	}
	ip[0] = '\0';
	net_addr_str(a, ip, sizeof(ip));
	ip[sizeof(ip) - 1] = '\0';
	lj_str(w, ip_key, ip, LJ_ADDR_MAX * 6, LJ_TAIL);
	if (port_key != NULL) {
		if (net_family(a) == AF_UNIX) {
			lj_key(w, port_key);
			lj_lit(w, "null");
		} else {
			lj_uint(w, port_key, net_get_port(a));
		}
	}
}

/* ISO 8601 UTC with milliseconds: 2026-11-23T18:31:42.256Z */
static void lj_time(struct lj_out *w, const struct timespec *ts)
{
	struct tm tm;
	char tmp[96];   /* room for any int the compiler can imagine */
	long ms = ts->tv_nsec / 1000000;

	if (os_gmtime(ts->tv_sec, &tm) != 0)
		memset(&tm, 0, sizeof(tm));
	if (ms < 0 || ms > 999)
		ms = 0;
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms);
	lj_str(w, "time", tmp, sizeof(tmp), LJ_TAIL);
}

size_t logjson_write(char *out, size_t outlen, const struct log_record *rec)
{
	struct lj_out w;
	const char *host = rec->host;

	if (out == NULL || outlen == 0)
		return 0;
	out[0] = '\0';
	if (outlen < LOGJSON_MIN)
		return 0;
	w.buf = out;
	w.len = 0;
	w.cap = outlen - 1;
	lj_lit(&w, "{");
	lj_time(&w, &rec->now);
	lj_str(&w, "service", rec->service, LJ_SERVICE_MAX, LJ_TAIL);
	lj_uint(&w, "port", rec->port);
	lj_int(&w, "code", rec->err);
	lj_addr(&w, "client_ip", "client_port", rec->client);
	lj_addr(&w, "local_ip", NULL, rec->local);
	lj_addr(&w, "external_ip", NULL, rec->external);
	lj_addr(&w, "server_ip", "server_port", rec->remote);
	lj_addr(&w, "target_ip", "target_port", rec->requested);
	lj_uint(&w, "bytes_in", rec->bytes_in);
	lj_uint(&w, "bytes_out", rec->bytes_out);
	lj_uint(&w, "duration_ms", rec->duration_ms);
	lj_int(&w, "hops", rec->hops);
	lj_str(&w, "user", rec->user != NULL && rec->user[0] != '\0' ?
	       rec->user : NULL, LJ_USER_MAX, LJ_TAIL);
	lj_str(&w, "target_host", host != NULL && host[0] != '\0' ?
	       host : NULL, LJ_HOST_MAX, LJ_TAIL);
	lj_str(&w, "request", rec->text != NULL ? rec->text : "",
	       (size_t)-1, 1);
	lj_lit(&w, "}");
	out[w.len] = '\0';
	return w.len;
}
