/*
 * http_parse.c - pure HTTP/1.x message parsing (see http_parse.h).
 *
 * Grammar references are to RFC 9110 (semantics) and RFC 9112 (HTTP/1.1
 * messages).  The functions own no memory and keep no state between
 * calls except what the caller passes in (scan position, chunk state).
 */
#include "http_parse.h"
#include "client.h"

#include <string.h>

/* ---- character classes ------------------------------------------------ */

static int http_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* tchar, RFC 9110 section 5.6.2 */
static int http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: VCHAR, obs-text, SP, HTAB (RFC 9110 5.5). */
static int http_is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int http_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)http_lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int http_mem_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int http_str_ieq(struct http_str s, const char *name)
{
	size_t n = strlen(name);

	return s.n == n && http_mem_ieq(s.p, name, n);
}

static struct http_str http_trim(const char *p, size_t n)
{
	struct http_str s;

	while (n > 0 && http_is_ows(*p)) {
		p++;
		n--;
	}
	while (n > 0 && http_is_ows(p[n - 1]))
		n--;
	s.p = p;
	s.n = n;
	return s;
}

/* ---- heads --------------------------------------------------------------- */

int http_head_scan(const char *buf, size_t len, size_t *pos, size_t *headlen)
{
	size_t ls = *pos;

	for (;;) {
		size_t avail = len - ls, look, ll;
		const char *nl;

		look = avail < HTTP_MAX_LINE ? avail : HTTP_MAX_LINE;
		nl = memchr(buf + ls, '\n', look);
		if (nl == NULL) {
			*pos = ls;
			if (avail >= HTTP_MAX_LINE)
				return HTTP_ERR_LINE_LONG;
			if (len >= HTTP_MAX_HEAD)
				return HTTP_ERR_HEAD_BIG;
			return HTTP_NEED_MORE;
		}
		ll = (size_t)(nl - (buf + ls)) + 1;
		if (ls + ll > HTTP_MAX_HEAD)
			return HTTP_ERR_HEAD_BIG;
		if (ls > 0 && (ll == 1 || (ll == 2 && buf[ls] == '\r'))) {
			*headlen = ls + ll;
			return HTTP_OK;
		}
		ls += ll;
	}
}

/* Next line of a complete head: content [*off, end) without its line
 * end; *off moves past the line.  Returns the content length, or -1 if
 * the line has no '\n' (cannot happen for scanned heads). */
static long http_next_line(const char *buf, size_t len, size_t *off,
			   const char **line)
{
	const char *nl = memchr(buf + *off, '\n', len - *off);
	size_t n;

	if (nl == NULL)
		return -1;
	*line = buf + *off;
	n = (size_t)(nl - *line);
	*off += n + 1;
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	return (long)n;
}

int http_parse_field(const char *line, size_t len, struct http_field *f)
{
	const char *colon = memchr(line, ':', len);
	size_t i, nl;

	if (colon == NULL || colon == line)
		return HTTP_ERR_HEADER;
	nl = (size_t)(colon - line);
	/* no whitespace between name and colon (RFC 9112 5.1) */
	for (i = 0; i < nl; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return HTTP_ERR_HEADER;
	for (i = nl + 1; i < len; i++)
		if (!http_is_vbyte((unsigned char)line[i]))
			return HTTP_ERR_HEADER;
	f->name.p = line;
	f->name.n = nl;
	f->value = http_trim(colon + 1, len - nl - 1);
	return HTTP_OK;
}

/* Field lines from *off to the empty line ending the head. */
static int http_parse_fields(const char *buf, size_t len, size_t off,
			     struct http_head *h)
{
	h->nfields = 0;
	for (;;) {
		const char *line;
		long n = http_next_line(buf, len, &off, &line);
		int rc;

		if (n < 0)
			return HTTP_ERR_HEADER;
		if (n == 0)
			return off == len ? HTTP_OK : HTTP_ERR_HEADER;
		/* obs-fold: a line starting with whitespace (RFC 9112 5.2) */
		if (http_is_ows(line[0]))
			return HTTP_ERR_HEADER;
		if (h->nfields >= HTTP_MAX_FIELDS)
			return HTTP_ERR_FIELDS;
		rc = http_parse_field(line, (size_t)n, &h->fields[h->nfields]);
		if (rc != HTTP_OK)
			return rc;
		h->nfields++;
	}
}

/* "HTTP/1.0" or "HTTP/1.1" -> minor version, else -1. */
static int http_parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0)
		return -1;
	if (p[7] == '0' || p[7] == '1')
		return p[7] - '0';
	return -1;
}

/* Any control byte (a bare CR or a NUL included) in a start line. */
static int http_has_ctl(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

int http_parse_request_head(const char *buf, size_t len, struct http_head *h)
{
	const char *line, *sp1, *sp2;
	size_t off = 0;
	long n;
	int i;

	memset(h, 0, offsetof(struct http_head, fields));
	n = http_next_line(buf, len, &off, &line);
	if (n < 0)
		return HTTP_ERR_LINE;
	h->linelen = off;
	if (http_has_ctl(line, (size_t)n))
		return HTTP_ERR_LINE;
	sp1 = memchr(line, ' ', (size_t)n);
	if (sp1 == NULL)
		return HTTP_ERR_SPACE;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line + n - (sp1 + 1)));
	if (sp2 == NULL)
		return HTTP_ERR_SPACE;
	h->method.p = line;
	h->method.n = (size_t)(sp1 - line);
	h->target.p = sp1 + 1;
	h->target.n = (size_t)(sp2 - (sp1 + 1));
	if (h->method.n == 0 || h->target.n == 0)
		return HTTP_ERR_LINE;
	for (i = 0; i < (int)h->method.n; i++)
		if (!http_is_tchar((unsigned char)h->method.p[i]))
			return HTTP_ERR_LINE;
	h->vminor = http_parse_version(sp2 + 1, (size_t)(line + n - sp2 - 1));
	if (h->vminor < 0)
		return HTTP_ERR_VERSION;
	return http_parse_fields(buf, len, off, h);
}

int http_parse_response_head(const char *buf, size_t len, struct http_head *h)
{
	const char *line;
	size_t off = 0;
	long n;

	memset(h, 0, offsetof(struct http_head, fields));
	n = http_next_line(buf, len, &off, &line);
	if (n < 12 || http_has_ctl(line, (size_t)n))
		return HTTP_ERR_LINE;
	h->linelen = off;
	h->vminor = http_parse_version(line, 8);
	if (h->vminor < 0)
		return HTTP_ERR_VERSION;
	if (line[8] != ' ' || line[9] < '1' || line[9] > '9' ||
	    line[10] < '0' || line[10] > '9' || line[11] < '0' ||
	    line[11] > '9')
		return HTTP_ERR_LINE;
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
		    (line[11] - '0');
	if (n > 12 && line[12] != ' ')
		return HTTP_ERR_LINE;
	h->reason.p = line + (n > 12 ? 13 : 12);
	h->reason.n = n > 12 ? (size_t)n - 13 : 0;
	return http_parse_fields(buf, len, off, h);
}

int http_find_field(const struct http_head *h, const char *name, int from)
{
	int i;

	for (i = from < 0 ? 0 : from; i < h->nfields; i++)
		if (http_str_ieq(h->fields[i].name, name))
			return i;
	return -1;
}

int http_count_fields(const struct http_head *h, const char *name)
{
	int i, n = 0;

	for (i = 0; i < h->nfields; i++)
		if (http_str_ieq(h->fields[i].name, name))
			n++;
	return n;
}

/* Split the next element of a comma list; returns 0 at the end. */
static int http_list_next(struct http_str *rest, struct http_str *elem)
{
	const char *comma;
	size_t n;

	if (rest->p == NULL)
		return 0;
	comma = memchr(rest->p, ',', rest->n);
	n = comma ? (size_t)(comma - rest->p) : rest->n;
	*elem = http_trim(rest->p, n);
	if (comma) {
		rest->n -= n + 1;
		rest->p = comma + 1;
	} else {
		rest->p = NULL;
		rest->n = 0;
	}
	return 1;
}

int http_list_has(struct http_str value, const char *token)
{
	struct http_str rest = value, e;

	while (http_list_next(&rest, &e))
		if (http_str_ieq(e, token))
			return 1;
	return 0;
}

int http_fields_list(const struct http_head *h, const char *name,
		     const char *token)
{
	int i = -1;

	while ((i = http_find_field(h, name, i + 1)) >= 0)
		if (http_list_has(h->fields[i].value, token))
			return 1;
	return 0;
}

/* ---- framing ----------------------------------------------------------- */

#define HTTP_MAX_LENGTH ((uint64_t)1 << 62)

int http_parse_length(struct http_str v, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (v.n == 0 || v.n > 19)
		return HTTP_ERR_FRAMING;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return HTTP_ERR_FRAMING;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (x > HTTP_MAX_LENGTH)
		return HTTP_ERR_FRAMING;
	*out = x;
	return HTTP_OK;
}

/* Transfer codings of every TE field: 1 if the list is well-formed and
 * ends in the only `chunked`, 0 if it is well-formed but does not, -1
 * if an element is empty or not a token (parameters allowed). */
static int http_te_chunked(const struct http_head *h)
{
	int i = -1, nchunked = 0, last = 0;

	while ((i = http_find_field(h, "Transfer-Encoding", i + 1)) >= 0) {
		struct http_str rest = h->fields[i].value, e;

		while (http_list_next(&rest, &e)) {
			const char *semi = memchr(e.p, ';', e.n);
			struct http_str name = e;
			size_t k;

			if (semi)
				name = http_trim(e.p, (size_t)(semi - e.p));
			if (name.n == 0)
				return -1;
			for (k = 0; k < name.n; k++)
				if (!http_is_tchar((unsigned char)name.p[k]))
					return -1;
			last = http_str_ieq(name, "chunked");
			if (last && semi)
				return -1;   /* chunked takes no parameters */
			nchunked += last;
		}
	}
	return last && nchunked == 1 ? 1 : 0;
}

int http_request_framing(const struct http_head *h, struct http_framing *f)
{
	int nte = http_count_fields(h, "Transfer-Encoding");
	int ncl = http_count_fields(h, "Content-Length");

	memset(f, 0, sizeof(*f));
	f->kind = HTTP_BODY_NONE;
	if (nte > 0) {
		/* RFC 9112 6.1: TE in HTTP/1.0 means faulty framing; 6.3:
		 * TE with CL is a smuggling attempt for a request. */
		if (h->vminor == 0 || ncl > 0 || http_te_chunked(h) != 1)
			return HTTP_ERR_FRAMING;
		f->kind = HTTP_BODY_CHUNKED;
		return HTTP_OK;
	}
	if (ncl > 1)
		return HTTP_ERR_FRAMING;
	if (ncl == 1) {
		int i = http_find_field(h, "Content-Length", 0);

		if (http_parse_length(h->fields[i].value, &f->length) != 0)
			return HTTP_ERR_FRAMING;
		f->kind = f->length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	}
	return HTTP_OK;
}

/* Every Content-Length value (fields and list elements) must be valid
 * and equal (RFC 9110 8.6).  Returns 1 with *len, 0 if none, -1. */
static int http_response_length(const struct http_head *h, uint64_t *len)
{
	int i = -1, seen = 0;

	while ((i = http_find_field(h, "Content-Length", i + 1)) >= 0) {
		struct http_str rest = h->fields[i].value, e;

		while (http_list_next(&rest, &e)) {
			uint64_t v;

			if (http_parse_length(e, &v) != 0)
				return -1;
			if (seen && v != *len)
				return -1;
			*len = v;
			seen = 1;
		}
	}
	return seen;
}

int http_response_framing(const struct http_head *h, int is_head,
			  struct http_framing *f)
{
	int nte = http_count_fields(h, "Transfer-Encoding");
	int ncl = http_count_fields(h, "Content-Length");
	int rc;

	memset(f, 0, sizeof(*f));
	if (is_head || h->status < 200 || h->status == 204 ||
	    h->status == 304) {
		f->kind = HTTP_BODY_NONE;
		return HTTP_OK;
	}
	if (nte > 0) {
		/* RFC 9112 6.3 items 3 and 4 */
		f->te_close = 1;
		if (h->vminor == 1 && http_te_chunked(h) == 1) {
			f->kind = HTTP_BODY_CHUNKED;
			f->te_close = ncl > 0;
		} else {
			f->kind = HTTP_BODY_CLOSE;
		}
		return HTTP_OK;
	}
	rc = http_response_length(h, &f->length);
	if (rc < 0)
		return HTTP_ERR_FRAMING;
	f->kind = rc ? HTTP_BODY_LENGTH : HTTP_BODY_CLOSE;
	return HTTP_OK;
}

/* ---- targets ---------------------------------------------------------- */

static int http_is_hostchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
}

static int http_parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "[v6]" part of an authority; *end = index after ']'. */
static int http_parse_ip6(const char *s, size_t n, struct http_target *out,
			  size_t *end)
{
	const char *rb = memchr(s, ']', n);
	size_t i, hn;

	if (rb == NULL)
		return HTTP_ERR_AUTHORITY;
	hn = (size_t)(rb - s) - 1;
	if (hn < 2 || hn > 45)
		return HTTP_ERR_AUTHORITY;
	for (i = 1; i <= hn; i++)
		if (http_hexval(s[i]) < 0 && s[i] != ':' && s[i] != '.')
			return HTTP_ERR_AUTHORITY;
	out->host.p = s + 1;
	out->host.n = hn;
	out->host_ip6 = 1;
	*end = hn + 2;
	return HTTP_OK;
}

int http_parse_authority(const char *s, size_t n, uint16_t defport,
			 struct http_target *out)
{
	size_t i, hend;
	int rc;

	out->port = defport;
	out->port_given = 0;
	out->host_ip6 = 0;
	out->authority.p = s;
	out->authority.n = n;
	if (n == 0)
		return HTTP_ERR_AUTHORITY;
	if (s[0] == '[') {
		rc = http_parse_ip6(s, n, out, &hend);
		if (rc != HTTP_OK)
			return rc;
	} else {
		for (hend = 0; hend < n && s[hend] != ':'; hend++)
			if (!http_is_hostchar((unsigned char)s[hend]))
				return HTTP_ERR_AUTHORITY;
		if (hend == 0)
			return HTTP_ERR_AUTHORITY;
		if (hend > HTTP_MAX_HOST)
			return HTTP_ERR_HOST_LONG;
		out->host.p = s;
		out->host.n = hend;
	}
	if (hend == n)
		return HTTP_OK;
	if (s[hend] != ':')
		return HTTP_ERR_AUTHORITY;
	i = hend + 1;
	if (i == n)
		return HTTP_OK;   /* "host:" - empty port = default */
	if (http_parse_port(s + i, n - i, &out->port) != 0)
		return HTTP_ERR_AUTHORITY;
	out->port_given = 1;
	return HTTP_OK;
}

static int http_scheme_prefix(const char *t, size_t n, const char *scheme)
{
	size_t k = strlen(scheme);

	return n >= k && http_mem_ieq(t, scheme, k);
}

/* absolute-form: scheme "://" [userinfo "@"] authority [path] */
static int http_parse_absolute(const char *t, size_t n,
			       struct http_target *out)
{
	const char *auth, *at = NULL;
	size_t skip, an, i;
	uint16_t defport;

	if (http_scheme_prefix(t, n, "http://")) {
		out->scheme = HTTP_SCHEME_HTTP;
		skip = 7;
		defport = 80;
	} else if (http_scheme_prefix(t, n, "ftp://")) {
		out->scheme = HTTP_SCHEME_FTP;
		skip = 6;
		defport = 21;
	} else {
		return HTTP_ERR_TARGET;
	}
	out->form = HTTP_FORM_ABSOLUTE;
	auth = t + skip;
	for (an = 0; skip + an < n; an++)
		if (auth[an] == '/' || auth[an] == '?' || auth[an] == '#')
			break;
	/* the last '@' ends the userinfo (it may contain '@' itself) */
	for (i = 0; i < an; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at) {
		out->userinfo.p = auth;
		out->userinfo.n = (size_t)(at - auth);
		an -= out->userinfo.n + 1;
		auth = at + 1;
	}
	out->path.p = auth + an;
	out->path.n = n - (size_t)(auth + an - t);
	return http_parse_authority(auth, an, defport, out);
}

int http_parse_target(const char *t, size_t n, int is_connect,
		      struct http_target *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return HTTP_ERR_TARGET;
	if (is_connect) {
		out->form = HTTP_FORM_AUTHORITY;
		return http_parse_authority(t, n, 80, out);
	}
	if (t[0] == '/') {
		out->form = HTTP_FORM_ORIGIN;
		out->path.p = t;
		out->path.n = n;
		return HTTP_OK;
	}
	if (n == 1 && t[0] == '*') {
		out->form = HTTP_FORM_ASTERISK;
		out->path.p = t;
		out->path.n = n;
		return HTTP_OK;
	}
	return http_parse_absolute(t, n, out);
}

static int http_prefix_ieq(struct http_str s, const char *prefix)
{
	size_t k = strlen(prefix);

	return s.n >= k && http_mem_ieq(s.p, prefix, k);
}

unsigned http_method_op(struct http_str m, int ftp)
{
	if (http_prefix_ieq(m, "CONNECT"))
		return OP_HTTP_CONNECT;
	if (http_prefix_ieq(m, "GET"))
		return ftp ? OP_FTP_GET : OP_HTTP_GET;
	if (http_prefix_ieq(m, "PUT"))
		return ftp ? OP_FTP_PUT : OP_HTTP_PUT;
	if (http_prefix_ieq(m, "POST") || http_prefix_ieq(m, "BITS_POST"))
		return OP_HTTP_POST;
	if (http_prefix_ieq(m, "HEAD"))
		return OP_HTTP_HEAD;
	return OP_HTTP_OTHER;
}

/* ---- chunked coding -------------------------------------------------- */

enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

void http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

int http_parse_chunk_size(const char *line, size_t len, uint64_t *size)
{
	uint64_t v = 0;
	size_t i = 0;
	int d;

	while (i < len && (d = http_hexval(line[i])) >= 0) {
		if (v > (UINT64_MAX >> 4))
			return HTTP_ERR_CHUNK_BIG;
		v = (v << 4) | (uint64_t)d;
		i++;
	}
	if (i == 0)
		return HTTP_ERR_CHUNK;
	while (i < len && http_is_ows(line[i]))
		i++;
	if (i < len && line[i] != ';')
		return HTTP_ERR_CHUNK;
	/* chunk-ext: any visible text; control bytes are refused */
	for (; i < len; i++)
		if (!http_is_vbyte((unsigned char)line[i]))
			return HTTP_ERR_CHUNK;
	*size = v;
	return HTTP_OK;
}

/* One line of at most max bytes (with its end): *content without the
 * line end, *used with it. */
static int http_chunk_line(const char *in, size_t n, size_t max,
			   size_t *content, size_t *used)
{
	size_t look = n < max ? n : max;
	const char *nl = memchr(in, '\n', look);

	if (nl == NULL)
		return n >= max ? HTTP_ERR_LINE_LONG : HTTP_NEED_MORE;
	*used = (size_t)(nl - in) + 1;
	*content = *used - 1;
	if (*content > 0 && in[*content - 1] == '\r')
		(*content)--;
	return HTTP_OK;
}

static int http_chunk_trailer(struct http_chunked *c, const char *in,
			      size_t n, struct http_chunk_step *st)
{
	struct http_field f;
	size_t len, used;
	int rc = http_chunk_line(in, n, HTTP_MAX_LINE, &len, &used);

	if (rc != HTTP_OK)
		return rc;
	st->used = used;
	if (len == 0) {
		st->kind = HTTP_CHUNK_END;
		c->state = CH_DONE;
		return HTTP_OK;
	}
	c->trailer_bytes += used;
	if (c->trailer_bytes > HTTP_MAX_HEAD || http_is_ows(in[0]) ||
	    memchr(in, '\r', len) != NULL ||
	    http_parse_field(in, len, &f) != HTTP_OK)
		return HTTP_ERR_CHUNK;
	st->kind = HTTP_CHUNK_TRAILER;
	st->data = in;
	st->len = len;
	return HTTP_OK;
}

static int http_chunk_size_step(struct http_chunked *c, const char *in,
				size_t n, struct http_chunk_step *st)
{
	size_t len, used;
	int rc = http_chunk_line(in, n, HTTP_MAX_CHUNKLINE, &len, &used);

	if (rc != HTTP_OK)
		return rc;
	rc = http_parse_chunk_size(in, len, &st->size);
	if (rc != HTTP_OK)
		return rc;
	st->kind = HTTP_CHUNK_SIZE;
	st->used = used;
	c->left = st->size;
	c->state = st->size ? CH_DATA : CH_TRAILER;
	return HTTP_OK;
}

int http_chunked_step(struct http_chunked *c, const char *in, size_t n,
		      struct http_chunk_step *st)
{
	memset(st, 0, sizeof(*st));
	if (c->state == CH_DONE)
		return HTTP_ERR_CHUNK;
	if (n == 0)
		return HTTP_NEED_MORE;
	switch (c->state) {
	case CH_SIZE:
		return http_chunk_size_step(c, in, n, st);
	case CH_DATA:
		st->kind = HTTP_CHUNK_DATA;
		st->data = in;
		st->len = (uint64_t)n < c->left ? n : (size_t)c->left;
		st->used = st->len;
		c->left -= st->len;
		if (c->left == 0)
			c->state = CH_DATA_END;
		return HTTP_OK;
	case CH_DATA_END:
		if (in[0] == '\n') {
			st->used = 1;
		} else if (in[0] == '\r') {
			if (n < 2)
				return HTTP_NEED_MORE;
			if (in[1] != '\n')
				return HTTP_ERR_CHUNK;
			st->used = 2;
		} else {
			return HTTP_ERR_CHUNK;
		}
		st->kind = HTTP_CHUNK_DATA_END;
		c->state = CH_SIZE;
		return HTTP_OK;
	default:
		return http_chunk_trailer(c, in, n, st);
	}
}

/* ---- codecs --------------------------------------------------------- */

static const char http_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int http_b64val(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(http_b64, c);
	return p ? (int)(p - http_b64) : -1;
}

int http_b64_decode(const char *in, size_t n, char *out, size_t outmax,
		    size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	while (pad < 2 && n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if ((n + pad) % 4 != 0 || n % 4 == 1)
		return -1;
	for (i = 0; i < n; i += 4) {
		uint32_t v = 0;
		size_t k, m = n - i < 4 ? n - i : 4;

		for (k = 0; k < 4; k++) {
			int d = k < m ? http_b64val(in[i + k]) : 0;

			if (d < 0)
				return -1;
			v = (v << 6) | (uint32_t)d;
		}
		if (o + m - 1 > outmax)
			return -1;
		for (k = 0; k + 1 < m; k++)
			out[o++] = (char)(v >> (16 - 8 * k));
	}
	*outlen = o;
	return 0;
}

size_t http_b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t m = n - i < 3 ? n - i : 3;

		if (m > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (m > 2)
			v |= p[i + 2];
		out[o++] = http_b64[(v >> 18) & 63];
		out[o++] = http_b64[(v >> 12) & 63];
		out[o++] = m > 1 ? http_b64[(v >> 6) & 63] : '=';
		out[o++] = m > 2 ? http_b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int http_basic_decode(struct http_str value, char *out, size_t outmax,
		      const char **user, const char **pass)
{
	struct http_str b64;
	size_t n;
	char *colon;

	if (value.n < 6 || !http_mem_ieq(value.p, "Basic", 5) ||
	    !http_is_ows(value.p[5]))
		return 1;
	b64 = http_trim(value.p + 5, value.n - 5);
	if (outmax < 2 ||
	    http_b64_decode(b64.p, b64.n, out, outmax - 1, &n) != 0 ||
	    memchr(out, '\0', n) != NULL)
		return -1;
	out[n] = '\0';
	colon = strchr(out, ':');
	*user = out;
	*pass = out + n;   /* "" when there is no colon */
	if (colon) {
		*colon = '\0';
		*pass = colon + 1;
	}
	return 0;
}

int http_url_decode(const char *s, size_t n, int plus_space, char *out,
		    size_t outmax)
{
	size_t i, o = 0;

	if (outmax < n + 1) {
		if (outmax > 0)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto bad;
			hi = http_hexval(s[i + 1]);
			lo = http_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				goto bad;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
bad:
	/* Callers free (and wipe, for credentials) out as a string: leave
	 * no unterminated or half-decoded secret behind. */
	while (o > 0)
		((volatile char *)out)[--o] = '\0';
	out[0] = '\0';
	return -1;
}
