/*
 * http_parse.h - pure HTTP/1.x message parsing (RFC 9110, RFC 9112).
 *
 * Everything here works on bytes already in memory: (buf, len) in,
 * parsed structs or a result code out.  No sockets, no clock, no
 * allocation; parsed strings point into the caller's buffer and are not
 * NUL-terminated.  Every function checks the length before each read, so
 * truncated or hostile input yields HTTP_NEED_MORE or an error, never an
 * out-of-bounds access.
 *
 * The parser is strict where leniency would let two HTTP implementations
 * disagree about where a message ends (request smuggling): obs-folded
 * lines, bare CR, NUL and other control bytes, whitespace before a colon,
 * duplicate or malformed Content-Length, Transfer-Encoding together with
 * Content-Length, or a transfer coding list not ending in one `chunked`.
 *
 * Used by proto_http.c (the `proxy` service); thread-safe (no state).
 */
#ifndef PX_HTTP_PARSE_H
#define PX_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Bounds.  A line or head past them is an error, not a silent cut. */
#define HTTP_MAX_LINE      8192    /* request/status line, field line */
#define HTTP_MAX_HEAD      65536   /* start line + fields + empty line */
#define HTTP_MAX_FIELDS    256
#define HTTP_MAX_CHUNKLINE 4096    /* chunk size line with extensions */
#define HTTP_MAX_HOST      253     /* longer host names -> not found */

/* Results.  Parsers return HTTP_OK, HTTP_NEED_MORE (the input ends
 * before the item does) or one of the HTTP_ERR_* values. */
enum http_result {
	HTTP_OK = 0,
	HTTP_NEED_MORE,
	HTTP_ERR_LINE,        /* malformed request or status line */
	HTTP_ERR_SPACE,       /* request line without the spaces it needs */
	HTTP_ERR_VERSION,     /* not HTTP/1.0 or HTTP/1.1 */
	HTTP_ERR_TARGET,      /* unsupported request-target or scheme */
	HTTP_ERR_AUTHORITY,   /* bad host or port in a URI or Host field */
	HTTP_ERR_HOST_LONG,   /* host name longer than HTTP_MAX_HOST */
	HTTP_ERR_HEADER,      /* malformed field line (fold, CR, NUL, ...) */
	HTTP_ERR_FRAMING,     /* conflicting/invalid message framing */
	HTTP_ERR_LINE_LONG,   /* a line longer than its bound */
	HTTP_ERR_HEAD_BIG,    /* head longer than HTTP_MAX_HEAD */
	HTTP_ERR_FIELDS,      /* more than HTTP_MAX_FIELDS fields */
	HTTP_ERR_CHUNK,       /* malformed chunked coding */
	HTTP_ERR_CHUNK_BIG    /* chunk size does not fit in 64 bits */
};

/* A span of the caller's buffer. */
struct http_str {
	const char *p;
	size_t n;
};

struct http_field {
	struct http_str name;      /* token, as received */
	struct http_str value;     /* without surrounding whitespace */
};

/* A parsed message head.  For a request, method/target are set; for a
 * response, status/reason.  vminor is 0 or 1 (HTTP/1.x). */
struct http_head {
	struct http_str method, target, reason;
	int status;
	int vminor;
	size_t linelen;            /* start line including its line end */
	int nfields;
	struct http_field fields[HTTP_MAX_FIELDS];
};

/* ---- heads --------------------------------------------------------- */

/* Find the end of a head: the first empty line ("\r\n" or "\n").
 * *pos is where scanning resumes (start with 0; it is kept across
 * NEED_MORE calls on a growing buffer, so scanning stays linear).
 * Returns HTTP_OK with *headlen = bytes up to and including the empty
 * line, HTTP_NEED_MORE, HTTP_ERR_LINE_LONG or HTTP_ERR_HEAD_BIG. */
int http_head_scan(const char *buf, size_t len, size_t *pos,
		   size_t *headlen);

/* Parse a complete head of len bytes (as found by http_head_scan).
 * Returns HTTP_OK or HTTP_ERR_{LINE,SPACE,VERSION,HEADER,FIELDS}. */
int http_parse_request_head(const char *buf, size_t len,
			    struct http_head *h);
int http_parse_response_head(const char *buf, size_t len,
			     struct http_head *h);

/* Parse one field line (without its line end).  HTTP_OK or
 * HTTP_ERR_HEADER.  Also used for chunked trailers. */
int http_parse_field(const char *line, size_t len, struct http_field *f);

/* Case-insensitive comparison of a span with a NUL-terminated name. */
int http_str_ieq(struct http_str s, const char *name);
/* Index of the first field named `name` at or after `from`, or -1. */
int http_find_field(const struct http_head *h, const char *name, int from);
/* Number of fields named `name`. */
int http_count_fields(const struct http_head *h, const char *name);

/* True if a comma-separated list value contains token (any case). */
int http_list_has(struct http_str value, const char *token);
/* True if any field `name` (e.g. "Connection") lists token. */
int http_fields_list(const struct http_head *h, const char *name,
		     const char *token);

/* ---- message framing (RFC 9112 section 6) ---------------------------- */

enum http_body_kind {
	HTTP_BODY_NONE,        /* no content */
	HTTP_BODY_LENGTH,      /* exactly `length` bytes */
	HTTP_BODY_CHUNKED,     /* chunked coding (the final one) */
	HTTP_BODY_CLOSE        /* until the sender closes (responses only) */
};

struct http_framing {
	enum http_body_kind kind;
	uint64_t length;
	int te_close;          /* response: TE not ending in chunked, or
				* TE with CL: do not reuse the connection */
};

/* Framing of a request.  Strict: any Transfer-Encoding in HTTP/1.0, TE
 * and Content-Length together, more than one Content-Length field, a
 * Content-Length that is not 1*DIGIT or overflows, a coding list that
 * does not end in exactly one `chunked` -> HTTP_ERR_FRAMING. */
int http_request_framing(const struct http_head *h, struct http_framing *f);

/* Framing of a response to a request whose method was HEAD (is_head).
 * 1xx, 204, 304 and HEAD responses have no body; TE overrides CL (and
 * the connection is not reused); identical repeated CL values are
 * accepted.  HTTP_ERR_FRAMING for an unusable Content-Length. */
int http_response_framing(const struct http_head *h, int is_head,
			  struct http_framing *f);

/* Content-Length value: 1*DIGIT, at most 2^62. */
int http_parse_length(struct http_str v, uint64_t *out);

/* ---- request targets (RFC 9112 section 3.2) -------------------------- */

enum http_form {
	HTTP_FORM_ORIGIN,      /* /path?query */
	HTTP_FORM_ABSOLUTE,    /* http://host/path, ftp://host/path */
	HTTP_FORM_AUTHORITY,   /* host:port (CONNECT) */
	HTTP_FORM_ASTERISK     /* * (OPTIONS) */
};

enum http_scheme { HTTP_SCHEME_NONE, HTTP_SCHEME_HTTP, HTTP_SCHEME_FTP };

struct http_target {
	enum http_form form;
	enum http_scheme scheme;
	struct http_str userinfo;  /* raw (percent-encoded), may be empty */
	struct http_str host;      /* brackets of an IPv6 literal removed */
	struct http_str authority; /* host[:port] as written, no userinfo */
	int host_ip6;              /* host was a bracketed IPv6 literal */
	uint16_t port;             /* given, or the scheme's default */
	int port_given;
	struct http_str path;      /* from the first '/' or '?'; may be empty */
};

/* Parse the request-target of a request.  is_connect selects authority
 * form (a missing port defaults to 80, as 3proxy does).  Returns HTTP_OK,
 * HTTP_ERR_TARGET (scheme or form not supported), HTTP_ERR_AUTHORITY,
 * HTTP_ERR_HOST_LONG. */
int http_parse_target(const char *t, size_t n, int is_connect,
		      struct http_target *out);

/* Parse "host[:port]" (a Host field value or a URI authority without
 * userinfo) into out->host/port/authority with default port defport. */
int http_parse_authority(const char *s, size_t n, uint16_t defport,
			 struct http_target *out);

/* ACL operation bits (client.h OP_*) for a method: a case-insensitive
 * prefix match as 3proxy does (CONNECT, GET, PUT, POST, BITS_POST,
 * HEAD; anything else is HTTP_OTHER).  ftp selects FTP_GET / FTP_PUT. */
unsigned http_method_op(struct http_str method, int ftp);

/* ---- chunked coding (RFC 9112 section 7.1), incremental -------------- */

enum http_chunk_kind {
	HTTP_CHUNK_SIZE,       /* a chunk size line: st->size */
	HTTP_CHUNK_DATA,       /* st->data / st->len bytes of chunk data */
	HTTP_CHUNK_DATA_END,   /* the CRLF after a chunk's data */
	HTTP_CHUNK_TRAILER,    /* a trailer field line (no line end) */
	HTTP_CHUNK_END         /* the empty line ending the message */
};

struct http_chunked {
	int state;
	uint64_t left;          /* data bytes left in the current chunk */
	size_t trailer_bytes;   /* trailer section so far */
};

struct http_chunk_step {
	enum http_chunk_kind kind;
	size_t used;            /* input bytes this step consumed */
	uint64_t size;
	const char *data;
	size_t len;
};

void http_chunked_init(struct http_chunked *c);
/* Take one step over in[0..n): HTTP_OK with *st filled (st->used bytes
 * consumed), HTTP_NEED_MORE (nothing consumed: a line is incomplete or
 * n == 0), or HTTP_ERR_CHUNK / HTTP_ERR_CHUNK_BIG / HTTP_ERR_LINE_LONG.
 * After HTTP_CHUNK_END the coding is complete and further calls fail. */
int http_chunked_step(struct http_chunked *c, const char *in, size_t n,
		      struct http_chunk_step *st);
/* Chunk size line without its line end: HEX [BWS ; extensions]. */
int http_parse_chunk_size(const char *line, size_t len, uint64_t *size);

/* ---- small codecs ---------------------------------------------------- */

/* Base64 (RFC 4648) decode into out (outmax bytes); returns 0 with
 * *outlen, or -1 on bad input or too small a buffer. */
int http_b64_decode(const char *in, size_t n, char *out, size_t outmax,
		    size_t *outlen);
/* Base64 encode; out needs 4 * ((n + 2) / 3) + 1 bytes.  Returns the
 * length written (NUL-terminated). */
size_t http_b64_encode(const void *in, size_t n, char *out);

/* Decode a "Basic <b64>" credentials value into out (NUL-terminated
 * "user\0password").  Returns 0 with *user / *pass pointing into out,
 * 1 if the scheme is not Basic, -1 if malformed. */
int http_basic_decode(struct http_str value, char *out, size_t outmax,
		      const char **user, const char **pass);

/* Percent-decode s into out (outmax >= n + 1), NUL-terminated; with
 * plus_space '+' becomes ' '.  A decoded NUL or a bad escape -> -1, and
 * out is then an empty string (what was decoded is zeroed). */
int http_url_decode(const char *s, size_t n, int plus_space, char *out,
		    size_t outmax);

#endif
