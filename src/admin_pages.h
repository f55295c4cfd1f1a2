/*
 * admin_pages.h - the pages of the admin service (services.md 14), as
 * pure builders: bytes in memory, no sockets, no locks.
 *
 * Every value that comes from the configuration or from a user (counter
 * comments, service names, the config file, the requested path) goes
 * through admin_html_escape.  Buffers grow up to a ceiling given at
 * init; past it the buffer is marked failed and further appends are
 * dropped, so a huge page becomes an error, never an overflow.
 */
#ifndef PX_ADMIN_PAGES_H
#define PX_ADMIN_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "os.h"

struct counter_info;
struct msgtab;

struct admin_buf {
	char *p;            /* NUL-terminated while not failed */
	size_t n;
	size_t cap;
	size_t max;         /* ceiling for n */
	int failed;         /* no memory or over the ceiling */
	/* The fixed page pieces (frame, welcome text, counters table) come
	 * from this generation's message table; NULL = built-in texts. */
	const struct msgtab *msgs;
};

void admin_buf_init(struct admin_buf *b, size_t max);
void admin_buf_free(struct admin_buf *b);
/* Append.  Return 0, or -1 (and set failed). */
int admin_buf_add(struct admin_buf *b, const char *s, size_t n);
int admin_buf_str(struct admin_buf *b, const char *s);
int admin_buf_printf(struct admin_buf *b, const char *fmt, ...)
	PX_PRINTF(2, 3);
/* Append s[0..n) with & < > " ' replaced by entities. */
int admin_html_escape(struct admin_buf *b, const char *s, size_t n);

/* Page frame: title, the menu (Counters, Reload, Running Services,
 * Config) and the footer.  title is escaped. */
void admin_page_begin(struct admin_buf *b, const char *title);
void admin_page_end(struct admin_buf *b);
/* Append entry i of the admin message table (msgtab.h) in force. */
void admin_buf_msg(struct admin_buf *b, int i);

/* Counters page pieces: the table head, one row per rule, the end. */
void admin_counters_begin(struct admin_buf *b);
/* links: the Active column is a link that switches the counter (/CDn
 * when on, /CSn when off); 0 for read-only pages. */
void admin_counter_row(struct admin_buf *b, const struct counter_info *ci,
		       int links);
void admin_counters_end(struct admin_buf *b);

/* "100 MB/day": the limit column (limit in bytes, reset type letter). */
void admin_limit_text(char *out, size_t len, uint64_t limit, char type);
/* Value in MB with one decimal ("1.5"). */
void admin_mb_text(char *out, size_t len, uint64_t bytes);
/* Local time "YYYY-MM-DD HH:MM:SS", or "never" for 0. */
void admin_time_text(char *out, size_t len, time_t t);

/* A complete response: status line, the fixed headers (Connection:
 * close, Expires, Cache-Control: no-cache), Content-type, optional
 * extra header lines (each ending in CRLF; may be NULL), the exact
 * Content-Length of body and the body.  Returns 0 or -1. */
int admin_response(struct admin_buf *out, int status, const char *reason,
		   const char *ctype, const char *extra,
		   const struct admin_buf *body);

/* A small HTML page whose body is one message: title and text are
 * escaped.  Used for errors and short answers. */
void admin_message_page(struct admin_buf *b, const char *title,
			const char *text);

/* ---- running services (/S, /SX) ---------------------------------------- */

/* Append s[0..n) for XML text or attributes: & < > " ' as entities, and
 * the control bytes XML 1.0 cannot carry (all below 0x20 but tab, LF and
 * CR) as '?', so that any user name or host name gives a well-formed
 * document. */
int admin_xml_escape(struct admin_buf *b, const char *s, size_t n);

/* One running service.  Strings may be NULL (element left empty). */
struct admin_svc_info {
	const char *name;          /* %N, e.g. "TCPPM" */
	const char *command;       /* as written, e.g. "tcppm" */
	const char *listen;        /* "addr:port" */
	const char *where;         /* "file:line" of its line */
	int maxconn;
	int nclients;              /* clients listed below */
};

/* One connected client. */
struct admin_client_info {
	const char *peer;          /* "addr:port" */
	const char *user;          /* NULL: none (yet) */
	const char *target;        /* "host:port"; NULL: not known yet */
};

/* The document: the XML declaration, the stylesheet instruction for /SX
 * and <services>; then per service admin_service_xml with its clients
 * already rendered (clients: a buffer filled by admin_client_xml, may be
 * empty); then the end. */
void admin_services_begin(struct admin_buf *b);
void admin_service_xml(struct admin_buf *b, const struct admin_svc_info *si,
		       const struct admin_buf *clients);
void admin_client_xml(struct admin_buf *b, const struct admin_client_info *ci);
void admin_services_end(struct admin_buf *b);
/* The stylesheet served as /SX (text/css). */
const char *admin_services_css(void);

/* ---- the config form (/U) ----------------------------------------------- */

/* Find field `name` in an application/x-www-form-urlencoded body and
 * decode it ('+' is a space, %XX a byte) into a new NUL-terminated
 * buffer (*out, *outlen without the NUL; free() it).  Returns 0, -1 if
 * the field is absent, -2 on a bad %-escape or a %00, -3 out of memory. */
int admin_form_field(const char *body, size_t n, const char *name,
		     char **out, size_t *outlen);

#endif
