/*
 * logformat.c - expansion of `logformat` %-macros for one access record.
 *
 * Owns the format syntax of logging.md §3: the optional "-chars+r"
 * character filter, the G/L zone flag and every % macro.  It does not own
 * where the line goes (log.c), the clock (the record carries its own
 * time) or how an address becomes text (net.c).
 *
 * No shared state and no locks: any number of threads may expand records
 * at once.  The only library calls are os_gmtime/os_localtime, which are
 * the reentrant forms.
 */
#include <string.h>

#include "logformat.h"
#include "numfmt.h"
#include "logjson.h"
#include "net.h"
#include "os.h"

/* Longest address text: an IPv6 literal is 46 bytes; a Unix socket base
 * name is bounded by sun_path (108 on Linux) plus the '@' prefix. */
#define LF_ADDR_MAX 128
/* %N prints at most this many characters of the service name. */
#define LF_SERVICE_MAX 20
/* Field numbers in %X-YT saturate here; no text has more fields. */
#define LF_FIELD_MAX 100000

/* The output line being built.  `cap` excludes the terminating NUL, so
 * every writer below only has to compare len against cap. */
struct lf_out {
	char *buf;
	size_t len;
	size_t cap;
};

/* The "-chars+r" prefix: characters of `set` and control characters in
 * the values of %U, %n and %T are replaced by `repl`.  For SQL records
 * a single quote left after that is doubled, so the value stays inside
 * its '...' literal. */
struct lf_filter {
	int on;
	int sql_quote;
	const char *set;
	size_t setlen;
	char repl;
};

/* Everything a macro may need while one format is expanded. */
struct lf_ctx {
	const struct log_record *rec;
	struct lf_filter flt;
	int utc;
	struct tm tm;
};

static const char *const lf_months[12] = {"Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec"};

/* ---- bounded writers ------------------------------------------------ */

static void
out_char(struct lf_out *o, char c)
{
	if (o->len < o->cap)
		o->buf[o->len++] = c;
}

static void
out_mem(struct lf_out *o, const char *s, size_t n)
{
	size_t room = o->cap - o->len;

	if (n > room)
		n = room;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
out_str(struct lf_out *o, const char *s)
{
	if (s != NULL)
		out_mem(o, s, strlen(s));
}

/* Decimal, zero-padded to at least `width` digits (numfmt.h). */
static void
out_uint(struct lf_out *o, uint64_t v, int width)
{
	char tmp[NUMFMT_U64_SIZE];
	size_t n = numfmt_u64(tmp, v, width), i;

	for (i = 0; i < n; i++)
		out_char(o, tmp[i]);
}

/* Signed decimal like printf's "%0*d": the sign counts in the width. */
static void
out_int(struct lf_out *o, int64_t v, int width)
{
	if (v >= 0) {
		out_uint(o, (uint64_t)v, width);
		return;
	}
	out_char(o, '-');
	out_uint(o, (uint64_t)0 - (uint64_t)v, width > 1 ? width - 1 : 0);
}

static int
filter_hits(const struct lf_filter *f, unsigned char c)
{
	if (!f->on)
		return 0;
	if (c < 0x20)
		return 1;
	return f->setlen > 0 && memchr(f->set, c, f->setlen) != NULL;
}

static void
out_filtered_char(struct lf_out *o, const struct lf_filter *f, char c)
{
	char v = filter_hits(f, (unsigned char)c) ? f->repl : c;

	out_char(o, v);
	if (v == '\'' && f->sql_quote)
		out_char(o, v);
}

static void
out_filtered(struct lf_out *o, const struct lf_filter *f, const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0' && o->len < o->cap; s++)
		out_filtered_char(o, f, *s);
}

/* ---- addresses ------------------------------------------------------ */

static int
addr_unset(const struct net_addr *a)
{
	return a == NULL || a->len == 0;
}

/* An address that was never filled in prints as the IPv4 "any"
 * address, as 3proxy does for connections that were not made. */
static void
out_addr(struct lf_out *o, const struct net_addr *a)
{
	char tmp[LF_ADDR_MAX];

	if (addr_unset(a)) {
		out_str(o, "0.0.0.0");
		return;
	}
	tmp[0] = '\0';
	net_addr_str(a, tmp, sizeof(tmp));
	tmp[sizeof(tmp) - 1] = '\0';
	out_str(o, tmp);
}

static void
out_port(struct lf_out *o, const struct net_addr *a)
{
	out_uint(o, addr_unset(a) ? 0 : net_get_port(a), 0);
}

/* %n: the requested host name, or the requested IP in brackets when
 * there is no name or the "name" is itself an IPv6 literal. */
static void
out_host(struct lf_out *o, const struct lf_ctx *cx)
{
	const char *h = cx->rec->host;

	if (h != NULL && *h != '\0' && strchr(h, ':') == NULL) {
		out_filtered(o, &cx->flt, h);
		return;
	}
	out_char(o, '[');
	out_addr(o, cx->rec->requested);
	out_char(o, ']');
}

/* ---- time ----------------------------------------------------------- */

/* Offset of local time from UTC in seconds, from the two broken-down
 * forms of the same instant.  Portable: Windows has no tm_gmtoff.  The
 * two dates differ by at most one day, so the year/yday pair is enough
 * to find the day difference. */
static long
zone_offset(const struct lf_ctx *cx)
{
	struct tm g;
	const struct tm *l = &cx->tm;
	long days;

	if (cx->utc || os_gmtime(cx->rec->now.tv_sec, &g) != 0)
		return 0;
	if (l->tm_year == g.tm_year)
		days = l->tm_yday - g.tm_yday;
	else
		days = l->tm_year > g.tm_year ? 1 : -1;
	return days * 86400L + (l->tm_hour - g.tm_hour) * 3600L +
	       (l->tm_min - g.tm_min) * 60L + (l->tm_sec - g.tm_sec);
}

/* %z as +HHMM / -HHMM.  3proxy prints a garbage minute field for
 * negative offsets that are not whole hours; we print the real minutes,
 * since nothing can depend on the garbage. */
static void
out_zone(struct lf_out *o, const struct lf_ctx *cx)
{
	long off = zone_offset(cx);
	unsigned long a = off < 0 ? (unsigned long)-off : (unsigned long)off;

	out_char(o, off < 0 ? '-' : '+');
	out_uint(o, a / 3600, 2);
	out_uint(o, a % 3600 / 60, 2);
}

/* Bytes per second over the record's duration; 0 when it took no time.
 * Whole seconds and the remainder are scaled apart so that no product
 * can wrap; a rate beyond 64 bits saturates. */
static uint64_t
rate(uint64_t bytes, uint64_t ms)
{
	uint64_t q, rem, frac;

	if (ms == 0)
		return 0;
	q = bytes / ms;
	rem = bytes % ms;
	frac = ms <= UINT64_MAX / 1000 ? rem * 1000 / ms : rem / (ms / 1000);
	if (q > UINT64_MAX / 1000 || q * 1000 > UINT64_MAX - frac)
		return UINT64_MAX;
	return q * 1000 + frac;
}

/* Date, time and duration macros.  Returns 0 if `c` is not one. */
static int
expand_time(struct lf_out *o, const struct lf_ctx *cx, char c)
{
	const struct tm *tm = &cx->tm;
	const struct log_record *r = cx->rec;
	long ms = r->now.tv_nsec / 1000000;

	switch (c) {
	case 'y':
		out_int(o, (tm->tm_year + 1900) % 100, 2);
		break;
	case 'Y':
		out_int(o, tm->tm_year + 1900, 4);
		break;
	case 'm':
		out_int(o, tm->tm_mon + 1, 2);
		break;
	case 'o':
		if (tm->tm_mon >= 0 && tm->tm_mon < 12)
			out_str(o, lf_months[tm->tm_mon]);
		break;
	case 'd':
		out_int(o, tm->tm_mday, 2);
		break;
	case 'H':
		out_int(o, tm->tm_hour, 2);
		break;
	case 'M':
		out_int(o, tm->tm_min, 2);
		break;
	case 'S':
		out_int(o, tm->tm_sec, 2);
		break;
	case 't':
		out_int(o, (int64_t)r->now.tv_sec, 10);
		break;
	case '.':
		out_int(o, ms < 0 ? 0 : ms > 999 ? 999 : ms, 3);
		break;
	case 'z':
		out_zone(o, cx);
		break;
	case 'D':
		out_uint(o, r->duration_ms, 0);
		break;
	case 'b':
		out_uint(o, rate(r->bytes_out, r->duration_ms), 0);
		break;
	case 'B':
		out_uint(o, rate(r->bytes_in, r->duration_ms), 0);
		break;
	default:
		return 0;
	}
	return 1;
}

/* Address macros.  Returns 0 if `c` is not one. */
static int
expand_addr(struct lf_out *o, const struct lf_ctx *cx, char c)
{
	const struct log_record *r = cx->rec;

	switch (c) {
	case 'C':
		out_addr(o, r->client);
		break;
	case 'c':
		out_port(o, r->client);
		break;
	case 'i':
		out_addr(o, r->local);
		break;
	case 'e':
		out_addr(o, r->external);
		break;
	case 'R':
		out_addr(o, r->remote);
		break;
	case 'r':
		out_port(o, r->remote);
		break;
	case 'Q':
		out_addr(o, r->requested);
		break;
	case 'q':
		out_port(o, r->requested);
		break;
	case 'n':
		out_host(o, cx);
		break;
	default:
		return 0;
	}
	return 1;
}

/* The other macros taken from the connection.  Returns 0 if `c` is not
 * one. */
static int
expand_conn(struct lf_out *o, const struct lf_ctx *cx, char c)
{
	const struct log_record *r = cx->rec;

	switch (c) {
	case 'U':
		/* the placeholder is not a value, so it is not filtered */
		if (r->user == NULL || r->user[0] == '\0')
			out_char(o, '-');
		else
			out_filtered(o, &cx->flt, r->user);
		break;
	case 'N':
		if (r->service != NULL)
			out_mem(o, r->service,
			        strnlen(r->service, LF_SERVICE_MAX));
		break;
	case 'p':
		out_uint(o, r->port, 0);
		break;
	case 'E':
		out_int(o, r->err, 5);
		break;
	case 'I':
		out_uint(o, r->bytes_in, 0);
		break;
	case 'O':
		out_uint(o, r->bytes_out, 0);
		break;
	case 'h':
		out_int(o, r->hops, 0);
		break;
	case 'T':
		out_filtered(o, &cx->flt, r->text);
		break;
	case 'L':
		out_char(o, '0');
		break;
	default:
		return 0;
	}
	return 1;
}

/* ---- %X-YT field selection ------------------------------------------ */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read a decimal number, saturating, and return the first non-digit. */
static const char *
read_num(const char *s, long *v)
{
	*v = 0;
	for (; is_digit(*s); s++)
		if (*v < LF_FIELD_MAX)
			*v = *v * 10 + (*s - '0');
	return s;
}

/* Print fields first..last (1-based) of the text.  Every whitespace
 * run starts a new field (a leading run makes field 1 empty, as in
 * 3proxy); the run's last character separates two selected fields and,
 * like the fields, goes through the filter. */
static void
out_fields(struct lf_out *o, const struct lf_ctx *cx, long first, long last)
{
	const char *s = cx->rec->text;
	long field = 1;

	for (; s != NULL && *s != '\0' && o->len < o->cap; s++) {
		if (!is_space(*s)) {
			if (field >= first && field <= last)
				out_filtered_char(o, &cx->flt, *s);
			continue;
		}
		while (is_space(s[1]))
			s++;
		field++;
		if (field > first && field <= last)
			out_filtered_char(o, &cx->flt, *s);
	}
}

/* A macro that starts with a digit; `f` points at that digit.  Returns
 * where expansion continues.
 *
 * "%X-YT" prints fields X..Y and continues after the 'T'.  A range not
 * followed by 'T' prints nothing and swallows the character after it.
 *
 * F-LOG-12 quirk: 3proxy only reads a range when there is a '-'.  With
 * a single number ("%NT") it prints field 1 whatever N is, and then
 * continues right after the first digit, so the rest of the number and
 * the 'T' come out literally: "%1T" gives "GETT", "%12T" gives "GET2T".
 * Without a 'T' nothing is printed and only the first digit is eaten. */
static const char *
expand_digits(struct lf_out *o, const struct lf_ctx *cx, const char *f)
{
	long first, last;
	const char *p = read_num(f, &first);

	if (*p == '-' && is_digit(p[1])) {
		p = read_num(p + 1, &last);
		if (*p == 'T')
			out_fields(o, cx, first, last);
		return *p != '\0' ? p + 1 : p;
	}
	if (*p == 'T')
		out_fields(o, cx, 1, 1);
	return f + 1;
}

/* ---- the format ----------------------------------------------------- */

/* Recognise the "-chars+r" prefix: a leading '-' and a '+' with at
 * least one character after it.  Returns the start of the format
 * proper (the zone flag). */
static const char *
parse_filter(const char *fmt, struct lf_filter *flt)
{
	const char *plus;

	memset(flt, 0, sizeof(*flt));
	if (fmt[0] != '-')
		return fmt;
	plus = strchr(fmt, '+');
	if (plus == NULL || plus[1] == '\0')
		return fmt;
	flt->on = 1;
	flt->set = fmt + 1;
	flt->setlen = (size_t)(plus - (fmt + 1));
	flt->repl = plus[1];
	return plus + 2;
}

/* One '%' sequence; `f` points just past the '%'.  Returns where
 * expansion continues. */
static const char *
expand_macro(struct lf_out *o, const struct lf_ctx *cx, const char *f)
{
	if (is_digit(*f))
		return expand_digits(o, cx, f);
	if (!expand_time(o, cx, *f) && !expand_addr(o, cx, *f) &&
	    !expand_conn(o, cx, *f))
		out_char(o, *f); /* "%%" and "%x" print the character */
	return f + 1;
}

size_t
logformat_expand(char *out, size_t outlen, const char *fmt,
                 const struct log_record *rec)
{
	static const struct log_record empty;
	struct lf_out o;
	struct lf_ctx cx;
	const char *f;

	if (out == NULL || outlen == 0)
		return 0;
	/* `logformat json` (logjson.h): the whole record as JSON */
	if (logjson_selected(fmt))
		return logjson_write(out, outlen, rec != NULL ? rec : &empty);
	o.buf = out;
	o.len = 0;
	o.cap = outlen - 1;
	memset(&cx, 0, sizeof(cx));
	cx.rec = rec != NULL ? rec : &empty;
	f = parse_filter(fmt != NULL ? fmt : LOGFORMAT_DEFAULT, &cx.flt);
	cx.flt.sql_quote = cx.rec->sql_quote;
	if (*f != '\0') {
		cx.utc = (*f == 'G' || *f == 'g');
		f++; /* the zone flag itself is not printed */
	}
	if ((cx.utc ? os_gmtime(cx.rec->now.tv_sec, &cx.tm)
	            : os_localtime(cx.rec->now.tv_sec, &cx.tm)) != 0)
		memset(&cx.tm, 0, sizeof(cx.tm));
	while (*f != '\0' && o.len < o.cap) {
		if (f[0] == '%' && f[1] != '\0')
			f = expand_macro(&o, &cx, f + 1);
		else
			out_char(&o, *f++); /* a trailing '%' is literal */
	}
	out[o.len] = '\0';
	return o.len;
}
