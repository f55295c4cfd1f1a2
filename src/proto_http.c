/*
 * proto_http.c - proxy: the HTTP/1.x proxy service (services.md section 3).
 *
 * One client connection carries any number of requests (keep-alive,
 * pipelining).  For each request the handler reads and checks the head
 * (http_parse.c), authorizes it, then either opens a CONNECT tunnel,
 * fetches an ftp:// URL (ftp_client.c), or forwards the request to the
 * origin and streams the response back (http_body.c).  Each request
 * writes its own access record with client_log().
 *
 * The server connection of a request is kept for the next request of
 * the same client connection when both ends allow it and the next
 * request goes to the same host and port.
 *
 * State: struct http_session lives as long as the client connection and
 * belongs to the worker thread; struct http_req lives for one request.
 * Nothing is shared, nothing locks.
 */
#include "client.h"
#include "numfmt.h"
#include "errcode.h"
#include "ftp_client.h"
#include "ftp_data.h"
#include "http_body.h"
#include "filter.h"
#include "http_parse.h"
#include "iolayer.h"
#include "limit.h"
#include "msgtab.h"
#include "net.h"
#include "parent.h"
#include "service.h"
#include "sockio.h"
#include "tls.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

/* %E codes of the HTTP proxy (logging.md section 7). */
enum {
	PXE_HTTP_NOREQ = 508,          /* nothing received (not logged) */
	PXE_HTTP_NOMEM = 510,
	PXE_HTTP_BAD_LINE = 511,
	PXE_HTTP_NO_SPACE = 512,
	PXE_HTTP_BAD_SCHEME = 513,
	PXE_HTTP_BAD_CONNECT = 514,
	PXE_HTTP_BAD_URL = 515,
	PXE_HTTP_HEADERS = 516,        /* too large or malformed */
	PXE_HTTP_FILTER = 517,         /* a filter rejected the request */
	PXE_HTTP_SEND_SERVER = 518,
	PXE_HTTP_SELF = 519,
	PXE_HTTP_SEND_CLIENT = 521,
	PXE_HTTP_BAD_REPLY = 522,
	PXE_HTTP_CHUNK_CLIENT = 533,
	PXE_HTTP_CHUNK_CLIENT_BIG = 534,
	PXE_HTTP_CHUNK_SERVER = 535,
	PXE_HTTP_CHUNK_SERVER_BIG = 536,
	PXE_HTTP_IDLE = 555            /* keep-alive finished (not logged) */
};

#define HTTP_IN_START   16384
#define HTTP_OUT_CAP    16384
#define HTTP_SRV_MAX    (HTTP_MAX_HEAD + 16384)
#define HTTP_FWD_MAX    (HTTP_MAX_HEAD + 8192)
#define HTTP_DRAIN_IDLE 200            /* ms, lingering close */
#define HTTP_DRAIN_MAX  (1u << 20)

struct http_session {
	struct client *cl;
	const struct svc_conf *sc;
	struct http_in cin;            /* client side */
	struct http_in sin;            /* server side, when connected */
	struct http_out out;
	struct http_buf fwd;           /* head forwarded to the server */
	char *srv_host;                /* key of the open server connection */
	uint16_t srv_port;
	struct net_addr kept_peer;     /* its addresses, given back to */
	struct net_addr kept_local;    /* cl->srv_* when it is reused */
	int nreq;                      /* requests answered so far */
	int to_short, to_long, to_body;
	struct ftp_conn ftp;           /* ftp:// control connection */
	struct http_head req;          /* parsed heads (large: heap only) */
	struct http_head resp;
	struct relay_opts pace;        /* limits of the request's bodies */
	int mitm;                      /* inside an intercepted CONNECT
					  (F-TLS-04): origin-form requests
					  are https, servers get TLS */
	int clen_own;                  /* the head being built gets its
					  Content-Length from the filters */
};

struct http_req {
	struct http_target t;
	unsigned op;
	int vminor;
	int connect, is_head, origin_form;
	int persist;                   /* the client wants keep-alive */
	int expect;                    /* Expect: 100-continue */
	int upgrade;                   /* Connection: upgrade + Upgrade */
	struct http_framing body;
	char *userinfo;                /* decoded URL userinfo (wiped) */
	size_t userinfo_cap;           /* its size: ':' become NULs */
	const char *o_user, *o_pass;   /* origin credentials, in userinfo */
	char *path;                    /* decoded ftp path */
	int reused;                    /* on a kept server connection */
	int replied;                   /* the client got a response head */
	int srv_silent;                /* the server sent nothing at all */
	int interim;                   /* a 1xx head went to the client */
	int unread;                    /* client bytes may be left unread */
	int status;                    /* error status chosen, 0 = by code */
	int keep;                      /* go on with the next request */
	/* the request body, read whole for the data filters (F-PCRE-04):
	 * sent instead of copying, with its own Content-Length */
	char *fbody_raw;
	struct filter_buf fbody;
	int fbody_own;
};

int proto_http_handle(struct client *cl);

/* ---- session ----------------------------------------------------------- */

static struct http_session *http_session_new(struct client *cl)
{
	struct http_session *hs = calloc(1, sizeof(*hs));
	size_t srvcap;

	if (hs == NULL)
		return NULL;
	hs->cl = cl;
	hs->sc = cl->conf;
	hs->to_short = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	hs->to_long = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	hs->to_body = svc_timeout_ms(cl->gen, TO_CONNECTION_SHORT);
	srvcap = hs->sc->bufsize >= HTTP_IN_START ? hs->sc->bufsize : 65536;
	if (srvcap > HTTP_SRV_MAX)
		srvcap = HTTP_SRV_MAX;
	http_buf_init(&hs->fwd, HTTP_FWD_MAX);
	if (http_in_init(&hs->cin, cl->cl_sock, HTTP_IN_START, HTTP_MAX_HEAD,
			 &cl->stats.bytes_from_client) != 0 ||
	    http_in_init(&hs->sin, OS_BADSOCK, srvcap, HTTP_SRV_MAX,
			 &cl->stats.bytes_from_server) != 0 ||
	    http_out_init(&hs->out, HTTP_OUT_CAP) != 0) {
		http_in_free(&hs->cin);
		http_in_free(&hs->sin);
		free(hs);
		return NULL;
	}
	hs->cin.pace_dir = RELAY_C2S;
	hs->sin.pace_dir = RELAY_S2C;
	return hs;
}

/* limits.md 3, 4.2: bandwidth pipes and quotas for the bodies of this
 * request, selected once the destination is known, and applied by
 * http_body_copy through the hook relay_tcp uses (upload = out, from
 * cin; download = in, from sin). */
static void http_pace_setup(struct http_session *hs)
{
	struct relay_opts *o = &hs->pace;

	relay_opts_default(o);
	o->bufsize = 0;        /* read in the pipes' step size, if any */
	o->idle_timeout_ms = hs->to_body;
	limit_relay_setup(hs->cl, o);
	hs->cin.pace = hs->sin.pace = o->hook != NULL ? o : NULL;
}

static void http_close_server(struct http_session *hs)
{
	struct client *cl = hs->cl;

	if (cl->srv_sock != OS_BADSOCK)
		iolayer_close(cl->srv_sock);
	cl->srv_sock = OS_BADSOCK;
	free(hs->srv_host);
	hs->srv_host = NULL;
	hs->sin.s = OS_BADSOCK;
	hs->sin.off = hs->sin.len = 0;
}

static void http_session_free(struct http_session *hs)
{
	http_close_server(hs);
	http_in_free(&hs->cin);
	http_in_free(&hs->sin);
	http_out_free(&hs->out);
	http_buf_free(&hs->fwd);
	free(hs);
}

/* After a hand-off (client_relay_last): the session's own memory only;
 * the client and both sockets belong to the loop thread. */
static void http_session_drop(struct http_session *hs)
{
	free(hs->srv_host);
	http_in_free(&hs->cin);
	http_in_free(&hs->sin);
	http_out_free(&hs->out);
	http_buf_free(&hs->fwd);
	free(hs);
}

static void http_wipe(void *p, size_t n)
{
	volatile char *v = p;

	while (n--)
		*v++ = 0;
}

static void http_wipe_free(char *s)
{
	if (s == NULL)
		return;
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

static void http_req_clear(struct http_req *rq)
{
	filter_buf_release(&rq->fbody);
	free(rq->fbody_raw);
	/* the whole block: a NUL put at a ':' must not end the wipe */
	if (rq->userinfo != NULL)
		http_wipe(rq->userinfo, rq->userinfo_cap);
	free(rq->userinfo);
	free(rq->path);
	rq->userinfo = rq->path = NULL;
}

/* ---- error replies (services.md 3.2) ----------------------------------- */

struct http_errpage {
	int status;
	const char *reason;
	int msg;             /* its body in the message table (msgtab.h) */
};

static const struct http_errpage http_errpages[] = {
	{ 400, "Bad Request", MSG_HTTP_400 },
	{ 401, "Authentication Required", MSG_HTTP_401 },
	{ 403, "Forbidden", MSG_HTTP_403 },
	{ 404, "Not Found", MSG_HTTP_404 },
	{ 407, "Proxy Authentication Required", MSG_HTTP_407 },
	{ 431, "Request Header Fields Too Large", MSG_HTTP_431 },
	{ 500, "Internal Error", MSG_HTTP_500 },
	{ 501, "Not Implemented", MSG_HTTP_501 },
	{ 502, "Bad Gateway", MSG_HTTP_502 },
	{ 503, "Service Unavailable", MSG_HTTP_503 },
	{ 504, "Gateway Timeout", MSG_HTTP_504 },
};

/* The outgoing connect timed out (rather than being refused). */
static int http_errno_timeout(int err)
{
#ifdef _WIN32
	return err == WSAETIMEDOUT;
#else
	return err == ETIMEDOUT;
#endif
}

/* The reply status for an error code; 0 = close without a reply. */
static int http_err_status(const struct http_session *hs,
			   const struct http_req *rq, int code)
{
	if (rq->status)
		return rq->status;
	switch (code) {
	case ERR_LIMIT:
	case PXE_HTTP_SELF:
	case PXE_HTTP_FILTER:
		return 503;
	case ERR_ACL_DENY:
		return 403;
	case ERR_HOST_NOT_FOUND:
	case PXE_HTTP_BAD_REPLY:
		return 502;
	case ERR_NOT_IMPLEMENTED:
		return 501;
	case FTP_E_DATA:
		return 404;
	case FTP_E_LOGIN:
	case FTP_E_PASS:
		return 401;
	case PXE_HTTP_NOMEM:
		return 500;
	case PXE_HTTP_CHUNK_CLIENT:
	case PXE_HTTP_CHUNK_CLIENT_BIG:
		return 400;
	case ERR_RELAY_TIMEOUT:
		return 504;
	default:
		break;
	}
	if (code >= 2 && code <= 9)
		return hs->sc->user_mode == 1 ? 403 : 407;
	if (code == ERR_CONNECT && http_errno_timeout(hs->cl->conn_errno))
		return 504;
	if ((code >= 11 && code <= 19) || (code >= 30 && code <= 79) ||
	    (code >= FTP_E_GREETING && code <= 799))
		return 502;
	if (code >= 20 && code <= 29)
		return 500;
	if (code >= PXE_HTTP_BAD_LINE && code <= PXE_HTTP_HEADERS)
		return 400;
	return 0;
}

static const struct http_errpage *http_errpage_find(int status)
{
	size_t i;

	for (i = 0; i < sizeof(http_errpages) / sizeof(http_errpages[0]); i++)
		if (http_errpages[i].status == status)
			return &http_errpages[i];
	return &http_errpages[0];
}

/* Send the error page for code (if it has one and nothing was sent).
 * The body comes from the generation's message table (StringsPlugin may
 * replace it), except when it carries a server's own words (detail). */
static void http_error_reply(struct http_session *hs, struct http_req *rq,
			     int code, const char *extra, const char *detail)
{
	const struct http_errpage *pg;
	struct http_buf *b = &hs->fwd;
	char page[1024], safe[400];
	const char *body;
	size_t i, n;
	int status = http_err_status(hs, rq, code);

	if (status == 0 || rq->replied)
		return;
	pg = http_errpage_find(status);
	body = msgtab_text(hs->cl->gen ? hs->cl->gen->msgs : NULL,
			   MSGTAB_PROXY, code == PXE_HTTP_SELF ?
			   MSG_HTTP_503_LOOP : code == PXE_HTTP_FILTER ?
			   MSG_HTTP_503_POLICY : (size_t)pg->msg);
	if (detail) {
		/* a server's words, kept plain: no markup gets through */
		snprintf(safe, sizeof(safe), "%s", detail);
		for (i = 0; safe[i]; i++)
			if (strchr("<>&\"", safe[i]))
				safe[i] = ' ';
		snprintf(page, sizeof(page),
			 "<html><head><title>%d %s</title></head>\r\n"
			 "<body><h2>%d %s</h2><h3>%s</h3></body></html>\r\n",
			 status, pg->reason, status, pg->reason, safe);
		body = page;
	}
	n = strlen(body);
	http_buf_reset(b);
	http_buf_addf(b, "HTTP/1.0 %d %s\r\nConnection: close\r\n"
		      "Content-type: text/html; charset=utf-8\r\n"
		      "Content-Length: %lu\r\n", status, pg->reason,
		      (unsigned long)n);
	if (status == 407)
		http_buf_adds(b, "Proxy-Authenticate: Basic realm=\"proxy\"\r\n");
	if (extra)
		http_buf_adds(b, extra);
	http_buf_adds(b, "\r\n");
	http_buf_add(b, body, n);
	if (!b->overflow)
		sockio_write_all(hs->cl->cl_sock, b->p, b->len, hs->to_short);
	rq->replied = 1;
}

/* Before closing a connection whose request was not read to its end:
 * stop sending, then read what the client still sends for a short
 * while, so the close does not reset the connection under the reply. */
static void http_lingering_close(struct http_session *hs)
{
	size_t total = 0;

	sockio_shutdown_send(hs->cl->cl_sock);
	while (total < HTTP_DRAIN_MAX) {
		int n = sockio_read_some(hs->cl->cl_sock, hs->out.buf,
					 hs->out.cap, HTTP_DRAIN_IDLE);

		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* ---- reading a request ------------------------------------------------- */

/* Keep-alive idle wait (services.md 3.1 step 1).  Returns 0 when client
 * bytes are buffered, else PXE_HTTP_IDLE. */
static int http_wait_followup(struct http_session *hs)
{
	struct client *cl = hs->cl;
	uint64_t end = os_monotonic_ms() + (uint64_t)hs->to_short;

	while (hs->cin.len == 0) {
		os_pollfd_t p[2];
		uint64_t now = os_monotonic_ms();
		int n, nfd = 1;

		if (now >= end)
			return PXE_HTTP_IDLE;
		memset(p, 0, sizeof(p));
		p[0].fd = cl->cl_sock;
		p[0].events = POLLIN;
		if (cl->srv_sock != OS_BADSOCK) {
			p[1].fd = cl->srv_sock;
			p[1].events = POLLIN;
			nfd = 2;
		}
		n = os_poll(p, (unsigned)nfd, (int)(end - now));
		if (n < 0 && !os_errno_is_intr(os_sock_errno()))
			return PXE_HTTP_IDLE;
		if (n > 0 && p[0].revents) {
			if (http_in_fill(&hs->cin, 0) <= 0)
				return PXE_HTTP_IDLE;
		} else if (n > 0 && nfd == 2 && p[1].revents) {
			/* the server closed (or spoke out of turn) */
			http_close_server(hs);
		}
	}
	return 0;
}

/* Drop empty lines before a request line (RFC 9112 2.2).  Returns 0,
 * or -1 when too many came. */
static int http_skip_blank(struct http_session *hs, size_t *skipped)
{
	while (hs->cin.len > 0) {
		const char *p = http_in_data(&hs->cin);
		size_t k = 0;

		if (p[0] == '\n')
			k = 1;
		else if (p[0] == '\r' && hs->cin.len >= 2 && p[1] == '\n')
			k = 2;
		if (k == 0)
			break;
		http_in_consume(&hs->cin, k);
		*skipped += k;
		if (*skipped > HTTP_MAX_LINE)
			return -1;
	}
	return 0;
}

static int http_head_error(struct http_req *rq, int scan, size_t pos)
{
	rq->unread = 1;
	rq->status = (scan == HTTP_ERR_LINE_LONG && pos == 0) ? 400 : 431;
	return PXE_HTTP_HEADERS;
}

/* Milliseconds left until a deadline (at least 1 while not passed). */
static int http_left(uint64_t deadline)
{
	uint64_t now = os_monotonic_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* Read a whole request head into cin; *headlen gets its size.  The
 * whole head must come within STRING_LONG, so a client trickling bytes
 * cannot hold the worker longer than that. */
static int http_read_head(struct http_session *hs, struct http_req *rq,
			  size_t *headlen)
{
	int silent = hs->nreq ? PXE_HTTP_IDLE : PXE_HTTP_NOREQ;
	uint64_t deadline = os_monotonic_ms() + (uint64_t)hs->to_long;
	size_t pos = 0, skipped = 0;

	for (;;) {
		int rc, left;

		if (http_skip_blank(hs, &skipped) != 0) {
			rq->unread = 1;
			return PXE_HTTP_BAD_LINE;
		}
		if (hs->cin.len > 1 || (hs->cin.len == 1 &&
					http_in_data(&hs->cin)[0] != '\r')) {
			rc = http_head_scan(http_in_data(&hs->cin), hs->cin.len,
					    &pos, headlen);
			if (rc == HTTP_OK)
				return 0;
			if (rc != HTTP_NEED_MORE)
				return http_head_error(rq, rc, pos);
		}
		left = http_left(deadline);
		if (pos > 0 && left > hs->to_short)
			left = hs->to_short;
		rc = left ? http_in_fill(&hs->cin, left) : SOCKIO_TIMEOUT;
		if (rc == SOCKIO_TOOLONG)
			return http_head_error(rq, HTTP_ERR_HEAD_BIG, pos);
		if (rc <= 0)
			return hs->cin.len == 0 ? silent : PXE_HTTP_BAD_LINE;
	}
}

/* Map a parser result on the request to a code (and reply status). */
static int http_req_error(struct http_req *rq, int rc)
{
	switch (rc) {
	case HTTP_ERR_SPACE:
		return PXE_HTTP_NO_SPACE;
	case HTTP_ERR_TARGET:
		return PXE_HTTP_BAD_SCHEME;
	case HTTP_ERR_AUTHORITY:
		return rq->connect ? PXE_HTTP_BAD_CONNECT : PXE_HTTP_BAD_URL;
	case HTTP_ERR_HOST_LONG:
		return ERR_HOST_NOT_FOUND;
	case HTTP_ERR_HEADER:
	case HTTP_ERR_FRAMING:
		return PXE_HTTP_HEADERS;
	case HTTP_ERR_FIELDS:
		rq->status = 431;
		return PXE_HTTP_HEADERS;
	default:
		return PXE_HTTP_BAD_LINE;
	}
}

/* The destination of an origin-form request comes from Host. */
static int http_target_from_host(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	int i = http_find_field(h, "Host", 0);
	struct http_str path = rq->t.path;
	enum http_form form = rq->t.form;
	int rc;

	if (i < 0 || http_count_fields(h, "Host") != 1)
		return HTTP_ERR_AUTHORITY;
	rc = http_parse_authority(h->fields[i].value.p, h->fields[i].value.n,
				  hs->mitm ? 443 : 80, &rq->t);
	rq->t.form = form;
	rq->t.scheme = HTTP_SCHEME_HTTP;
	rq->t.path = path;
	rq->origin_form = 1;
	return rc;
}

/* Client persistence (RFC 9112 9.3, and Proxy-Connection as 3proxy). */
static int http_client_persist(const struct http_head *h)
{
	if (http_fields_list(h, "Connection", "close") ||
	    http_fields_list(h, "Proxy-Connection", "close"))
		return 0;
	if (h->vminor == 1)
		return 1;
	return http_fields_list(h, "Connection", "keep-alive") ||
	       http_fields_list(h, "Proxy-Connection", "keep-alive");
}

/* URL userinfo: "user:pass" for the origin, or
 * "proxyuser:proxypass:user:pass" which also gives proxy credentials. */
static int http_take_userinfo(struct http_session *hs, struct http_req *rq,
			      char **puser, char **ppass)
{
	struct http_str u = rq->t.userinfo;
	char *c1, *c2, *c3;

	*puser = *ppass = NULL;
	if (u.n == 0)
		return 0;
	rq->userinfo = malloc(u.n + 1);
	if (rq->userinfo == NULL)
		return PXE_HTTP_NOMEM;
	rq->userinfo_cap = u.n + 1;
	if (http_url_decode(u.p, u.n, 1, rq->userinfo, u.n + 1) != 0)
		return PXE_HTTP_BAD_URL;
	rq->o_user = rq->userinfo;
	rq->o_pass = "";
	c1 = strchr(rq->userinfo, ':');
	if (c1 == NULL)
		return 0;
	*c1 = '\0';
	rq->o_pass = c1 + 1;
	c2 = strchr(c1 + 1, ':');
	c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	if (c3 == NULL)
		return 0;
	*c2 = *c3 = '\0';
	*puser = rq->userinfo;
	*ppass = c1 + 1;
	rq->o_user = c2 + 1;
	rq->o_pass = c3 + 1;
	(void)hs;
	return 0;
}

static int http_set_cred(struct client *cl, const char *user,
			 const char *pass)
{
	char *u = strdup(user), *p = strdup(pass);

	if (u == NULL || p == NULL) {
		http_wipe_free(u);
		http_wipe_free(p);
		return PXE_HTTP_NOMEM;
	}
	http_wipe_free(cl->cred.user);
	http_wipe_free(cl->cred.password);
	cl->cred.user = u;
	cl->cred.password = p;
	return 0;
}

/* ftp:// without userinfo: Authorization: Basic names the FTP user. */
static int http_ftp_credentials(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	int i = http_find_field(h, "Authorization", 0);
	size_t max;

	if (i < 0)
		return 0;
	max = h->fields[i].value.n + 1;
	rq->userinfo = malloc(max);
	if (rq->userinfo == NULL)
		return PXE_HTTP_NOMEM;
	rq->userinfo_cap = max;
	rq->userinfo[0] = '\0';
	if (http_basic_decode(h->fields[i].value, rq->userinfo, max,
			      &rq->o_user, &rq->o_pass) != 0)
		rq->o_user = rq->o_pass = NULL;
	return 0;
}

/* Proxy-Authorization: Basic (not with -T), and URL proxy credentials. */
static int http_credentials(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	char *puser, *ppass;
	char dec[1024];
	const char *user, *pass;
	int i = -1, rc;

	rc = http_take_userinfo(hs, rq, &puser, &ppass);
	if (rc == 0 && rq->o_user == NULL && rq->t.scheme == HTTP_SCHEME_FTP)
		rc = http_ftp_credentials(hs, rq);
	if (rc != 0)
		return rc;
	if (puser != NULL)
		return http_set_cred(hs->cl, puser, ppass);
	if (hs->sc->transparent)
		return 0;
	rc = 0;
	while ((i = http_find_field(h, "Proxy-Authorization", i + 1)) >= 0) {
		if (http_basic_decode(h->fields[i].value, dec, sizeof(dec),
				      &user, &pass) == 0) {
			rc = http_set_cred(hs->cl, user, pass);
			break;
		}
	}
	http_wipe(dec, sizeof(dec));
	return rc;
}

/* %T: the request line; origin form rewritten to absolute form, and
 * the password of URL userinfo left out. */
static void http_set_text(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	struct http_buf *b = &hs->fwd;
	const char *colon;

	http_buf_reset(b);
	http_buf_add(b, h->method.p, h->method.n);
	http_buf_adds(b, " ");
	if (rq->origin_form) {
		http_buf_adds(b, hs->mitm ? "https://" : "http://");
		http_buf_add(b, rq->t.authority.p, rq->t.authority.n);
		http_buf_add(b, h->target.p, h->target.n);
	} else if (rq->t.userinfo.n > 0) {
		struct http_str u = rq->t.userinfo;

		colon = memchr(u.p, ':', u.n);
		http_buf_add(b, h->target.p, (size_t)(u.p - h->target.p));
		http_buf_add(b, u.p, colon ? (size_t)(colon - u.p) : u.n);
		http_buf_add(b, u.p + u.n, h->target.n -
			     (size_t)(u.p + u.n - h->target.p));
	} else {
		http_buf_add(b, h->target.p, h->target.n);
	}
	http_buf_addf(b, " HTTP/1.%d", h->vminor);
	if (!b->overflow)
		client_set_text(hs->cl, b->p);
}

/* Fill cl->req for the ACL and the log. */
static int http_set_request(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;
	char *host = malloc(rq->t.host.n + 1);

	if (host == NULL)
		return PXE_HTTP_NOMEM;
	memcpy(host, rq->t.host.p, rq->t.host.n);
	host[rq->t.host.n] = '\0';
	free(cl->req.host);
	cl->req.host = host;
	cl->req.port = rq->t.port;
	cl->req.command = rq->op;
	/* A new request on a keep-alive connection: the previous target's
	 * address must not be checked by the ACL for this one. */
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	return 0;
}

/* Everything about the request that does not need the network. */
static int http_analyze(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	int rc;

	rq->vminor = h->vminor;
	rq->op = http_method_op(h->method, 0);
	rq->connect = rq->op == OP_HTTP_CONNECT;
	rq->is_head = h->method.n == 4 && memcmp(h->method.p, "HEAD", 4) == 0;
	rc = http_parse_target(h->target.p, h->target.n, rq->connect, &rq->t);
	if (rc == HTTP_OK && (rq->t.form == HTTP_FORM_ORIGIN ||
			      rq->t.form == HTTP_FORM_ASTERISK))
		rc = http_target_from_host(hs, rq);
	if (rc == HTTP_OK && !rq->connect)
		rc = http_request_framing(h, &rq->body);
	if (rc == HTTP_OK && rq->t.form == HTTP_FORM_ABSOLUTE &&
	    http_count_fields(h, "Host") > 1)
		rc = HTTP_ERR_HEADER;
	if (rc != HTTP_OK)
		return http_req_error(rq, rc);
	if (rq->t.scheme == HTTP_SCHEME_FTP)
		rq->op = http_method_op(h->method, 1);
	rq->persist = http_client_persist(h);
	rq->expect = http_fields_list(h, "Expect", "100-continue");
	rq->upgrade = !rq->connect &&
		      http_fields_list(h, "Connection", "upgrade") &&
		      http_find_field(h, "Upgrade", 0) >= 0;
	http_set_text(hs, rq);
	rc = http_set_request(hs, rq);
	if (rc == 0)
		rc = http_credentials(hs, rq);
	return rc;
}

/* ---- the forwarded request head ------------------------------------------ */

/* A request field that is not passed on. */
static int http_req_field_dropped(const struct http_session *hs,
				  const struct http_req *rq,
				  const struct http_field *f)
{
	static const char *const hop[] = {
		"Host", "Connection", "Proxy-Connection", "Keep-Alive", "TE",
		NULL
	};
	const struct http_head *h = &hs->req;
	char name[64];
	size_t i;

	for (i = 0; hop[i]; i++)
		if (http_str_ieq(f->name, hop[i]))
			return 1;
	if (http_str_ieq(f->name, "Expect"))
		return rq->expect;
	if (http_str_ieq(f->name, "Upgrade"))
		return !rq->upgrade;
	if (http_str_ieq(f->name, "Trailer"))
		return rq->body.kind != HTTP_BODY_CHUNKED;
	if (http_str_ieq(f->name, "Proxy-Authorization"))
		return !hs->sc->transparent && f->value.n > 5 &&
		       http_str_ieq((struct http_str){ f->value.p, 5 }, "Basic");
	if (http_str_ieq(f->name, "Authorization"))
		return rq->o_user != NULL;
	if (http_str_ieq(f->name, "Content-Length"))
		return rq->fbody_own;
	if (http_str_ieq(f->name, "Transfer-Encoding") ||
	    f->name.n >= sizeof(name))
		return 0;
	/* fields named in Connection are hop-by-hop (RFC 9110 7.6.1) */
	memcpy(name, f->name.p, f->name.n);
	name[f->name.n] = '\0';
	return http_fields_list(h, "Connection", name) ||
	       http_fields_list(h, "Proxy-Connection", name);
}

static void http_addr_text(const struct net_addr *a, char *buf, size_t len)
{
	char ip[64];

	net_addr_str(a, ip, sizeof(ip));
	if (net_family(a) == AF_INET6)
		snprintf(buf, len, "\"[%s]:%u\"", ip, net_get_port(a));
	else
		snprintf(buf, len, "%s:%u", ip, net_get_port(a));
}

/* Client identification by -a level (services.md 3.3): 0 Forwarded,
 * 1 (-a) nothing, 2 (-a1) Via + random X-Forwarded-For, 3+ (-a2) Via +
 * the client's address. */
static void http_add_ident(struct http_session *hs, struct http_buf *b)
{
	struct client *cl = hs->cl;
	char a1[80], a2[80], host[256];
	uint32_t r;

	if (hs->sc->anonymous == 0) {
		http_addr_text(&cl->cl_peer, a1, sizeof(a1));
		http_addr_text(&cl->cl_local, a2, sizeof(a2));
		http_buf_addf(b, "Forwarded: for=%s;by=%s\r\n", a1, a2);
		return;
	}
	if (hs->sc->anonymous == 1)
		return;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "3proxy");
	host[sizeof(host) - 1] = '\0';
	http_buf_addf(b, "Via: 1.1 %s:%u (3proxy tiny proxy server 3proxy-%s "
		      "(%s))\r\n", host, net_get_port(&hs->sc->listen),
		      PX_VERSION, __DATE__);
	if (hs->sc->anonymous >= 3) {
		net_addr_str(&cl->cl_peer, a1, sizeof(a1));
		http_buf_addf(b, "X-Forwarded-For: %s\r\n", a1);
		return;
	}
	/* a made-up address: any value will do, it only hides the real one */
	r = (uint32_t)os_monotonic_ms() * 2654435761u ^
	    (uint32_t)net_get_port(&cl->cl_peer) * 40503u;
	http_buf_addf(b, "X-Forwarded-For: %u.%u.%u.%u\r\n",
		      (r >> 24) % 223 + 1, (r >> 16) & 255, (r >> 8) & 255,
		      r & 255 ? r & 255 : 1);
}

static void http_build_request(struct http_session *hs, struct http_req *rq)
{
	const struct http_head *h = &hs->req;
	struct http_buf *b = &hs->fwd;
	char pauth[1024];
	/* through an `http` parent: absolute form (parent.c, F-PAR-03) */
	int absolute = parent_http_absolute(hs->cl, pauth, sizeof(pauth));
	int i;

	http_buf_reset(b);
	http_buf_add(b, h->method.p, h->method.n);
	http_buf_adds(b, " ");
	if (absolute) {
		http_buf_adds(b, "http://");
		http_buf_add(b, rq->t.authority.p, rq->t.authority.n);
	}
	if (rq->t.path.n == 0)
		http_buf_adds(b, "/");
	else
		http_buf_add(b, rq->t.path.p, rq->t.path.n);
	http_buf_addf(b, " HTTP/1.%d\r\nHost: ", rq->vminor);
	http_buf_add(b, rq->t.authority.p, rq->t.authority.n);
	http_buf_adds(b, "\r\n");
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];

		if (http_req_field_dropped(hs, rq, f))
			continue;
		http_buf_add(b, f->name.p, f->name.n);
		http_buf_adds(b, ": ");
		http_buf_add(b, f->value.p, f->value.n);
		http_buf_adds(b, "\r\n");
	}
	http_add_ident(hs, b);
	if (rq->upgrade)
		http_buf_adds(b, "Connection: Upgrade\r\n");
	else if (rq->persist && rq->vminor == 0)
		http_buf_adds(b, "Connection: keep-alive\r\n");
	else if (!rq->persist && rq->vminor == 1)
		http_buf_adds(b, "Connection: close\r\n");
	if (rq->o_user) {
		char cred[600], enc[820];
		int n = snprintf(cred, sizeof(cred), "%s:%s", rq->o_user,
				 rq->o_pass);

		if (n > 0 && (size_t)n < sizeof(cred)) {
			http_b64_encode(cred, (size_t)n, enc);
			http_buf_addf(b, "Authorization: Basic %s\r\n", enc);
		}
		http_wipe(cred, sizeof(cred));
	}
	if (absolute)
		http_buf_adds(b, pauth);
	http_wipe(pauth, sizeof(pauth));
	http_buf_adds(b, "\r\n");
}

/* ---- the server connection ------------------------------------------------ */

static int http_same_endpoint(const struct net_addr *a,
			      const struct net_addr *b)
{
	const struct sockaddr_in *a4 = (const void *)&a->ss, *b4 = (const void *)&b->ss;
	const struct sockaddr_in6 *a6 = (const void *)&a->ss, *b6 = (const void *)&b->ss;

	if (a->len == 0 || b->len == 0 || net_family(a) != net_family(b) ||
	    net_get_port(a) != net_get_port(b))
		return 0;
	if (net_family(a) == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (net_family(a) == AF_INET6)
		return memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return 0;
}

/* Connect to the request's destination (a fresh connection). */
static int http_connect(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;
	int rc;

	http_close_server(hs);
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	memset(&cl->srv_peer, 0, sizeof(cl->srv_peer));
	memset(&cl->srv_local, 0, sizeof(cl->srv_local));
	rc = client_connect(cl);
	if (rc != 0)
		return rc;
	if (http_same_endpoint(&cl->srv_peer, &cl->cl_local) ||
	    (!net_is_any(&hs->sc->listen) &&
	     http_same_endpoint(&cl->srv_peer, &hs->sc->listen))) {
		http_close_server(hs);
		return PXE_HTTP_SELF;
	}
	if (hs->mitm && !rq->connect) {
		/* a new server connection of an intercepted session (a
		 * CONNECT inside is a plain tunnel) */
		rc = tls_mitm_upstream(cl, cl->srv_sock);
		if (rc != 0) {
			http_close_server(hs);
			return rc;
		}
	}
	hs->sin.s = cl->srv_sock;
	hs->srv_host = strdup(cl->req.host);
	hs->srv_port = rq->t.port;
	return hs->srv_host ? 0 : PXE_HTTP_NOMEM;
}

/* Reuse the open server connection when it goes to the same place. */
static int http_open_server(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;

	rq->reused = 0;
	if (cl->srv_sock != OS_BADSOCK && hs->srv_host != NULL &&
	    hs->srv_port == rq->t.port && hs->sin.len == 0 &&
	    http_str_ieq((struct http_str){ hs->srv_host,
					     strlen(hs->srv_host) },
			 cl->req.host)) {
		rq->reused = 1;
		cl->srv_peer = hs->kept_peer;
		cl->srv_local = hs->kept_local;
		return 0;
	}
	return http_connect(hs, rq);
}

/* ---- CONNECT tunnels ------------------------------------------------------ */

static const char http_established[] =
	"HTTP/1.0 200 Connection established\r\n\r\n";

/* Bytes that came with a head go on first, through the data filters
 * the relay applies to what follows.  Returns 0, or err (failed send),
 * or PXE_HTTP_FILTER. */
static int http_flush_pending(struct http_session *hs, struct http_in *in,
			      os_sock_t to, int err)
{
	const char *p = http_in_data(in);
	size_t n = in->len;
	enum filter_hook h = in->pace_dir == RELAY_C2S ? FH_DATA_CLI
						       : FH_DATA_SRV;

	if (n == 0)
		return 0;
	if ((filter_conn_hooks(hs->cl->filt) & FILTER_HOOK_BIT(h)) &&
	    filter_relay_chunk(hs->cl, in->pace_dir, p, n, &p, &n) != 0)
		return PXE_HTTP_FILTER;
	if (n > 0 && sockio_write_all(to, p, n, hs->to_short) != 0)
		return err;
	http_in_consume(in, in->len);
	return 0;
}

static int http_tunnel(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;
	int intercepted = cl->intercepted;
	int rc = http_connect(hs, rq);

	if (rc != 0)
		return rc;
	if (sockio_write_all(cl->cl_sock, http_established,
			     sizeof(http_established) - 1, hs->to_short) != 0)
		return PXE_HTTP_SEND_CLIENT;
	rq->replied = 1;
	if (cl->redirect != NULL || tls_mitm_wanted(cl)) {
		/* a local redirection or an interception: the parser or the
		 * TLS handshake taking the tunnel reads the bytes that came
		 * with the CONNECT head first */
		if (hs->cin.len != 0 &&
		    iolayer_unread(cl->cl_sock, http_in_data(&hs->cin),
				   hs->cin.len) != 0)
			return PXE_HTTP_NOMEM;
		http_in_consume(&hs->cin, hs->cin.len);
	} else {
		rc = http_flush_pending(hs, &hs->cin, cl->srv_sock,
					PXE_HTTP_SEND_SERVER);
		if (rc != 0)
			return rc;
	}
	/* the session ends with the tunnel: it may go to a loop thread */
	rc = client_relay_last(cl, svc_timeout_ms(cl->gen,
						  TO_CONNECTION_LONG));
	if (rc == CLIENT_HANDED_OFF)
		return rc;            /* cl is the loop thread's now */
	/* intercepted (ssl_mitm): the requests inside made the records */
	return !intercepted && cl->intercepted ? PXE_HTTP_NOREQ : rc;
}

/* ---- filters (plugins.md 2.1, 4.2; limits.md 9) ----------------------------- */

/* Run hook h over the head in fwd; a changed head replaces it. */
static int http_filter_head(struct http_session *hs, enum filter_hook h)
{
	struct http_buf *b = &hs->fwd;
	struct filter_buf fb;
	int rc;

	if (hs->cl->filt == NULL)
		return 0;
	filter_buf_init(&fb, b->p, b->len);
	rc = filter_run(hs->cl, h, &fb);
	if (rc != FILTER_REJECT && fb.owned != NULL) {
		http_buf_reset(b);
		http_buf_add(b, fb.data, fb.len);
	}
	filter_buf_release(&fb);
	if (rc == FILTER_REJECT)
		return PXE_HTTP_FILTER;
	return b->overflow ? PXE_HTTP_HEADERS : 0;
}

/* A body is read whole for the data filters when its length is declared
 * and within filtermaxsize (0: any); others are relayed as they come. */
static int http_filter_body_wanted(const struct http_session *hs,
				   const struct http_framing *f,
				   enum filter_hook h)
{
	uint64_t max = hs->cl->gen->filtermaxsize;

	return (filter_conn_hooks(hs->cl->filt) & FILTER_HOOK_BIT(h)) &&
	       f->kind == HTTP_BODY_LENGTH && (max == 0 || f->length <= max);
}

/* Read a declared body of n bytes from in into a new block. */
static int http_body_slurp(struct http_in *in, uint64_t n, int timeout_ms,
			   int in_err, char **out)
{
	size_t got = 0, take;
	char *p;
	int rc;

	if (n >= SIZE_MAX)
		return PXE_HTTP_NOMEM;
	p = malloc((size_t)n + 1);
	if (p == NULL)
		return PXE_HTTP_NOMEM;
	while (got < n) {
		if (in->len == 0) {
			rc = http_in_fill(in, timeout_ms);
			if (rc > 0)
				continue;
			free(p);
			return rc == SOCKIO_TIMEOUT ? ERR_RELAY_TIMEOUT : in_err;
		}
		take = in->len < n - got ? in->len : (size_t)(n - got);
		memcpy(p + got, http_in_data(in), take);
		http_in_consume(in, take);
		got += take;
	}
	*out = p;
	return 0;
}

/* http_in.filter: bodies without a declared length pass the data
 * filters piece by piece; a rejection is the request's 517. */
static int http_filter_piece(void *arg, int dir, const char *in, size_t n,
			     const char **out, size_t *outlen)
{
	int rc = filter_relay_chunk(arg, dir, in, n, out, outlen);

	return rc == ERR_FILTER ? PXE_HTTP_FILTER : rc;
}

/* Set (or clear, h == FH_COUNT) the piece filter of side in. */
static void http_filter_pieces(struct http_session *hs, struct http_in *in,
			       enum filter_hook h)
{
	int on = h != FH_COUNT &&
		 (filter_conn_hooks(hs->cl->filt) & FILTER_HOOK_BIT(h));

	in->filter = on ? http_filter_piece : NULL;
	in->filter_arg = on ? hs->cl : NULL;
	in->filter_sized = 0;
}

/* ftp:// transfers: the data connection carries the file alone, so
 * every body, of declared length or not, passes the data filters of
 * hook h piece by piece.  Returns 1 when some filter wants it. */
static int http_ftp_filter_pieces(struct http_session *hs,
				  struct http_in *in, enum filter_hook h)
{
	http_filter_pieces(hs, in, h);
	in->filter_sized = in->filter != NULL;
	return in->filter != NULL;
}

/* The head in b was built without Content-Length: add the filtered
 * body's before the blank line. */
static void http_head_set_length(struct http_buf *b, size_t n)
{
	char digits[NUMFMT_U64_SIZE];

	/* numfmt.h: %zu is not in every printf the project builds with */
	(void)numfmt_u64(digits, n, 0);
	if (b->len >= 2)
		b->len -= 2;
	http_buf_adds(b, "Content-Length: ");
	http_buf_adds(b, digits);
	http_buf_adds(b, "\r\n\r\n");
}

/* The request body through the clidata filters, once per request (the
 * retry of a request never has a body). */
static int http_filter_req_body(struct http_session *hs, struct http_req *rq)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	int rc;

	if (rq->fbody_raw == NULL) {
		/* the client waits for this before sending the body */
		if (rq->expect && rq->vminor == 1 &&
		    sockio_write_all(hs->cl->cl_sock, cont, sizeof(cont) - 1,
				     hs->to_short) != 0)
			return PXE_HTTP_SEND_CLIENT;
		rq->expect = 0;
		rc = http_body_slurp(&hs->cin, rq->body.length, hs->to_body,
				     ERR_RELAY_CLIENT, &rq->fbody_raw);
		if (rc != 0) {
			rq->unread = 1;
			return rc;
		}
		filter_buf_init(&rq->fbody, rq->fbody_raw,
				(size_t)rq->body.length);
		if (filter_run(hs->cl, FH_DATA_CLI, &rq->fbody) ==
		    FILTER_REJECT)
			return PXE_HTTP_FILTER;
	}
	http_head_set_length(&hs->fwd, rq->fbody.len);
	return hs->fwd.overflow ? PXE_HTTP_HEADERS : 0;
}

/* ---- forwarding ------------------------------------------------------------ */

static int http_send_request(struct http_session *hs, struct http_req *rq)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_body_errs errs = {
		ERR_RELAY_CLIENT, PXE_HTTP_SEND_SERVER, PXE_HTTP_CHUNK_CLIENT,
		PXE_HTTP_CHUNK_CLIENT_BIG, ERR_RELAY_TIMEOUT
	};
	int rc;

	if (rq->fbody_own && (rc = http_filter_req_body(hs, rq)) != 0)
		return rc;
	rc = http_filter_head(hs, FH_HEADER_CLI);
	if (rc != 0)
		return rc;
	hs->out.s = hs->cl->srv_sock;
	hs->out.timeout_ms = hs->to_body;
	http_out_discard(&hs->out);
	rc = http_out_put(&hs->out, hs->fwd.p, hs->fwd.len);
	if (rc != 0)
		return PXE_HTTP_SEND_SERVER;
	if (rq->fbody_own)
		return http_out_put(&hs->out, rq->fbody.data, rq->fbody.len) ||
		       http_out_flush(&hs->out) ? PXE_HTTP_SEND_SERVER : 0;
	if (rq->expect && rq->vminor == 1 && rq->body.kind != HTTP_BODY_NONE) {
		if (http_out_flush(&hs->out) != 0)
			return PXE_HTTP_SEND_SERVER;
		if (sockio_write_all(hs->cl->cl_sock, cont, sizeof(cont) - 1,
				     hs->to_short) != 0)
			return PXE_HTTP_SEND_CLIENT;
	}
	http_filter_pieces(hs, &hs->cin, FH_DATA_CLI);
	rc = http_body_copy(&hs->cin, &hs->out, &rq->body, HTTP_CHUNKS_KEEP,
			    hs->to_body, &errs, NULL);
	http_filter_pieces(hs, &hs->cin, FH_COUNT);
	if (rc != 0)
		rq->unread = 1;
	return rc;
}

/* Read a response head into sin. */
static int http_read_response_head(struct http_session *hs,
				   struct http_req *rq, size_t *headlen)
{
	uint64_t deadline = os_monotonic_ms() + (uint64_t)hs->to_long;
	size_t pos = 0;

	for (;;) {
		int rc, left = http_left(deadline);

		if (hs->sin.len > 0) {
			rc = http_head_scan(http_in_data(&hs->sin), hs->sin.len,
					    &pos, headlen);
			if (rc == HTTP_OK)
				return 0;
			if (rc != HTTP_NEED_MORE)
				return PXE_HTTP_BAD_REPLY;
		}
		if (pos > 0 && left > hs->to_short)
			left = hs->to_short;
		rc = left ? http_in_fill(&hs->sin, left) : SOCKIO_TIMEOUT;
		if (rc > 0)
			continue;
		rq->srv_silent = hs->sin.len == 0 && !rq->replied &&
				 !rq->interim;
		return rc == SOCKIO_TIMEOUT ? ERR_RELAY_TIMEOUT
					    : PXE_HTTP_BAD_REPLY;
	}
}

/* A response field that is not passed on (not with -T). */
static int http_resp_field_dropped(const struct http_session *hs,
				   const struct http_framing *f,
				   int dechunk, const struct http_field *fl)
{
	const struct http_head *h = &hs->resp;
	char name[64];

	if (http_str_ieq(fl->name, "Transfer-Encoding"))
		return dechunk;
	if (http_str_ieq(fl->name, "Content-Length"))
		return f->kind == HTTP_BODY_CHUNKED || dechunk ||
		       hs->clen_own;
	if (hs->sc->transparent)
		return 0;
	if (http_str_ieq(fl->name, "Connection") ||
	    http_str_ieq(fl->name, "Keep-Alive") ||
	    (fl->name.n >= 6 &&
	     http_str_ieq((struct http_str){ fl->name.p, 6 }, "Proxy-")))
		return 1;
	if (fl->name.n >= sizeof(name))
		return 0;
	memcpy(name, fl->name.p, fl->name.n);
	name[fl->name.n] = '\0';
	return http_fields_list(h, "Connection", name);
}

/* Build the response head for the client in fwd. */
static int http_build_response_head(struct http_session *hs,
				    struct http_req *rq,
				    const struct http_framing *f, int dechunk)
{
	const struct http_head *h = &hs->resp;
	const char *line = http_in_data(&hs->sin);
	struct http_buf *b = &hs->fwd;
	size_t ll = h->linelen;
	int i;

	while (ll > 0 && (line[ll - 1] == '\n' || line[ll - 1] == '\r'))
		ll--;
	http_buf_reset(b);
	http_buf_add(b, line, ll);
	http_buf_adds(b, "\r\n");
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *fl = &h->fields[i];

		if (http_resp_field_dropped(hs, f, dechunk, fl))
			continue;
		http_buf_add(b, fl->name.p, fl->name.n);
		http_buf_adds(b, ": ");
		http_buf_add(b, fl->value.p, fl->value.n);
		http_buf_adds(b, "\r\n");
	}
	if (!hs->sc->transparent && h->status >= 200) {
		if (!rq->origin_form &&
		    http_find_field(h, "WWW-Authenticate", 0) >= 0)
			http_buf_adds(b, "Proxy-support: Session-Based-"
				      "Authentication\r\nConnection: "
				      "Proxy-support\r\n");
		http_buf_adds(b, rq->keep ? "Connection: keep-alive\r\n"
					  : "Connection: close\r\n");
	}
	http_buf_adds(b, "\r\n");
	return b->overflow ? PXE_HTTP_HEADERS : 0;
}

/* Queue the head in fwd for the client, through the srvheader filters. */
static int http_send_response_head(struct http_session *hs)
{
	struct http_buf *b = &hs->fwd;
	int rc = http_filter_head(hs, FH_HEADER_SRV);

	if (rc != 0)
		return rc;
	hs->out.s = hs->cl->cl_sock;
	hs->out.timeout_ms = hs->to_short;
	http_out_discard(&hs->out);
	return http_out_put(&hs->out, b->p, b->len) ? PXE_HTTP_SEND_CLIENT : 0;
}

/* Queue the response head for the client in out. */
static int http_put_response_head(struct http_session *hs,
				  struct http_req *rq,
				  const struct http_framing *f, int dechunk)
{
	int rc = http_build_response_head(hs, rq, f, dechunk);

	return rc != 0 ? rc : http_send_response_head(hs);
}

/* 101 Switching Protocols after an Upgrade request: pass the head
 * unchanged and relay both ways. */
static int http_switch(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;
	int rc;

	rq->replied = 1;
	rq->keep = 0;
	rc = http_flush_pending(hs, &hs->sin, cl->cl_sock,
				PXE_HTTP_SEND_CLIENT);
	if (rc == 0)
		rc = http_flush_pending(hs, &hs->cin, cl->srv_sock,
					PXE_HTTP_SEND_SERVER);
	if (rc != 0)
		return rc;
	return client_relay(cl, svc_timeout_ms(cl->gen, TO_CONNECTION_LONG));
}

/* Interim (1xx) responses: 100 is dropped (the proxy answered Expect
 * itself), others go to HTTP/1.1 clients; 101 switches protocols.
 * Returns 0 when a final head is in sin, 1 after a switch (*rc). */
static int http_interim(struct http_session *hs, struct http_req *rq,
			size_t headlen, int *rc)
{
	const struct http_head *h = &hs->resp;
	struct http_framing none = { HTTP_BODY_NONE, 0, 0 };

	if (h->status == 101) {
		*rc = PXE_HTTP_BAD_REPLY;
		if (!rq->upgrade)
			return 1;
		*rc = http_switch(hs, rq);
		return 1;
	}
	if (h->status != 100 && rq->vminor == 1) {
		rq->interim = 1;
		*rc = http_put_response_head(hs, rq, &none, 0);
		if (*rc == 0)
			*rc = http_out_flush(&hs->out) ? PXE_HTTP_SEND_CLIENT : 0;
		if (*rc != 0)
			return 1;
	}
	http_in_consume(&hs->sin, headlen);
	return 0;
}

/* The server keeps the connection open after this response. */
static int http_server_persist(const struct http_head *h,
			       const struct http_framing *f)
{
	if (f->kind == HTTP_BODY_CLOSE || f->te_close)
		return 0;
	if (http_fields_list(h, "Connection", "close"))
		return 0;
	return h->vminor == 1 || http_fields_list(h, "Connection", "keep-alive");
}

static int http_relay_body(struct http_session *hs, struct http_req *rq,
			   const struct http_framing *f, int dechunk)
{
	struct http_body_errs errs = {
		ERR_RELAY_SERVER, PXE_HTTP_SEND_CLIENT, PXE_HTTP_CHUNK_SERVER,
		PXE_HTTP_CHUNK_SERVER_BIG, ERR_RELAY_TIMEOUT
	};
	int rc;

	hs->out.timeout_ms = hs->to_body;
	http_filter_pieces(hs, &hs->sin, FH_DATA_SRV);
	rc = http_body_copy(&hs->sin, &hs->out, f,
			    dechunk ? HTTP_CHUNKS_DECODE : HTTP_CHUNKS_KEEP,
			    hs->to_body, &errs, NULL);
	http_filter_pieces(hs, &hs->sin, FH_COUNT);
	return rc;
}

/* A declared response body through the srvdata filters: read whole,
 * filtered, and sent with its new length. */
static int http_filtered_response(struct http_session *hs,
				  struct http_req *rq,
				  const struct http_framing *f, size_t headlen,
				  int srv_keep)
{
	struct filter_buf fb;
	char *raw = NULL;
	int rc;

	hs->clen_own = 1;
	rc = http_build_response_head(hs, rq, f, 0);
	hs->clen_own = 0;
	http_in_consume(&hs->sin, headlen);
	if (rc == 0)
		rc = http_body_slurp(&hs->sin, f->length, hs->to_body,
				     ERR_RELAY_SERVER, &raw);
	if (rc == 0) {
		filter_buf_init(&fb, raw, (size_t)f->length);
		if (filter_run(hs->cl, FH_DATA_SRV, &fb) == FILTER_REJECT) {
			rc = PXE_HTTP_FILTER;
		} else {
			http_head_set_length(&hs->fwd, fb.len);
			rc = hs->fwd.overflow ? PXE_HTTP_HEADERS
					      : http_send_response_head(hs);
		}
		if (rc == 0) {
			rq->replied = 1;
			hs->out.timeout_ms = hs->to_body;
			if (http_out_put(&hs->out, fb.data, fb.len) != 0 ||
			    http_out_flush(&hs->out) != 0)
				rc = PXE_HTTP_SEND_CLIENT;
		}
		filter_buf_release(&fb);
	}
	free(raw);
	if (rc != 0 || !srv_keep || hs->sin.len > 0)
		http_close_server(hs);
	return rc;
}

static int http_relay_response(struct http_session *hs, struct http_req *rq)
{
	struct http_framing f;
	size_t headlen;
	int rc, dechunk, srv_keep;

	for (;;) {
		rc = http_read_response_head(hs, rq, &headlen);
		if (rc != 0)
			return rc;
		if (http_parse_response_head(http_in_data(&hs->sin), headlen,
					     &hs->resp) != HTTP_OK)
			return PXE_HTTP_BAD_REPLY;
		if (hs->resp.status >= 200)
			break;
		if (http_interim(hs, rq, headlen, &rc))
			return rc;
	}
	if (http_response_framing(&hs->resp, rq->is_head, &f) != HTTP_OK)
		return PXE_HTTP_BAD_REPLY;
	dechunk = f.kind == HTTP_BODY_CHUNKED && rq->vminor == 0;
	srv_keep = http_server_persist(&hs->resp, &f);
	rq->keep = rq->persist && f.kind != HTTP_BODY_CLOSE && !dechunk;
	if (http_filter_body_wanted(hs, &f, FH_DATA_SRV))
		return http_filtered_response(hs, rq, &f, headlen, srv_keep);
	rc = http_put_response_head(hs, rq, &f, dechunk);
	if (rc != 0)
		return rc;
	rq->replied = 1;
	http_in_consume(&hs->sin, headlen);
	rc = http_relay_body(hs, rq, &f, dechunk);
	if (rc != 0 || !srv_keep || hs->sin.len > 0)
		http_close_server(hs);
	return rc;
}

/* The server stopped taking the request body (it may have answered
 * early, e.g. 413): pass its response on if there is one, then end the
 * client connection, whose body was not read to its end. */
static int http_early_response(struct http_session *hs, struct http_req *rq)
{
	int rc;

	if (rq->body.kind == HTTP_BODY_NONE)
		return PXE_HTTP_SEND_SERVER;
	rq->persist = 0;
	rq->unread = 1;
	rc = http_relay_response(hs, rq);
	return rq->replied ? rc : PXE_HTTP_SEND_SERVER;
}

static int http_forward(struct http_session *hs, struct http_req *rq)
{
	int attempt, rc = 0;

	rq->fbody_own = http_filter_body_wanted(hs, &rq->body, FH_DATA_CLI);
	http_build_request(hs, rq);
	if (hs->fwd.overflow)
		return PXE_HTTP_HEADERS;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = http_open_server(hs, rq);
		if (rc != 0)
			return rc;
		http_pace_setup(hs);
		/* the head depends on the parent the connection went
		 * through (a new chain may have picked another one) */
		http_build_request(hs, rq);
		if (hs->fwd.overflow)
			return PXE_HTTP_HEADERS;
		rc = http_send_request(hs, rq);
		if (rc == 0)
			rc = http_relay_response(hs, rq);
		else if (rc == PXE_HTTP_SEND_SERVER)
			rc = http_early_response(hs, rq);
		/* a kept connection the server had closed meanwhile: try
		 * once more on a new one (only without a request body) */
		if (rc == 0 || !rq->reused || rq->replied ||
		    rq->body.kind != HTTP_BODY_NONE ||
		    (rc != PXE_HTTP_SEND_SERVER && !rq->srv_silent))
			break;
		http_close_server(hs);
	}
	if (rc != 0)
		http_close_server(hs);
	return rc;
}

/* ---- ftp:// URLs (services.md 3.4) ------------------------------------------ */

static const char http_ftp_401[] =
	"WWW-Authenticate: Basic realm=\"FTP Server\"\r\n";

/* The FTP path: percent-decoded, relative to the login directory
 * (RFC 1738 3.2.2), without a query.  CR/LF/NUL are refused. */
static int http_ftp_path(struct http_req *rq)
{
	struct http_str p = rq->t.path;
	const char *q = memchr(p.p, '?', p.n);

	if (q)
		p.n = (size_t)(q - p.p);
	if (p.n > 0 && p.p[0] == '/') {
		p.p++;
		p.n--;
	}
	rq->path = malloc(p.n + 1);
	if (rq->path == NULL)
		return PXE_HTTP_NOMEM;
	if (http_url_decode(p.p, p.n, 0, rq->path, p.n + 1) != 0 ||
	    strpbrk(rq->path, "\r\n") != NULL) {
		rq->status = 400;
		return FTP_E_URL;
	}
	return 0;
}

static int http_ftp_head(struct http_session *hs, struct http_req *rq,
			 const char *type, int64_t size)
{
	struct http_buf *b = &hs->fwd;

	http_buf_reset(b);
	http_buf_addf(b, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\n", type);
	if (size >= 0)
		http_buf_addf(b, "Content-Length: %lld\r\n", (long long)size);
	http_buf_adds(b, "Connection: close\r\n\r\n");
	hs->out.s = hs->cl->cl_sock;
	hs->out.timeout_ms = hs->to_body;
	http_out_discard(&hs->out);
	rq->replied = 1;
	return http_out_put(&hs->out, b->p, b->len) ? PXE_HTTP_SEND_CLIENT : 0;
}

/* Put s as HTML text (url = 0) or as a URL path (url = 1). */
static int http_put_escaped(struct http_out *o, const char *s, size_t n,
			    int url)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		const char *rep = NULL;
		int rc;

		if (url && !(c > 0x20 && c < 0x7f && !strchr("\"#%<>?`{}", c))) {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			e[3] = '\0';
			rep = e;
		} else if (!url && strchr("<>&\"", c) && c) {
			rep = c == '<' ? "&lt;" : c == '>' ? "&gt;" :
			      c == '&' ? "&amp;" : "&quot;";
		}
		rc = rep ? http_out_put(o, rep, strlen(rep))
			 : http_out_put(o, &s[i], 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* One LIST line as a line of the HTML listing. */
static int http_ftp_list_line(struct http_out *o, const char *base,
			      const char *line, size_t n)
{
	struct ftp_list_entry e;
	char meta[128];
	int rc, dir;

	if (n == 0 || (n > 6 && memcmp(line, "total ", 6) == 0))
		return 0;
	if (ftp_parse_list_line(line, n, &e) != 0) {
		rc = http_put_escaped(o, line, n, 0);
		return rc ? rc : http_out_put(o, "\n", 1);
	}
	dir = e.type == 'd';
	rc = http_out_put(o, "<a href=\"", 9);
	rc = rc ? rc : http_put_escaped(o, base, strlen(base), 1);
	rc = rc ? rc : http_put_escaped(o, e.name, e.namelen, 1);
	rc = rc ? rc : http_out_put(o, dir ? "/\">" : "\">", dir ? 3 : 2);
	rc = rc ? rc : http_put_escaped(o, e.name, e.namelen, 0);
	rc = rc ? rc : http_out_put(o, dir ? "/</a>" : "</a>", dir ? 5 : 4);
	snprintf(meta, sizeof(meta), "  %.*s  %.*s\n",
		 (int)(e.sizelen < 40 ? e.sizelen : 40), e.size,
		 (int)(e.datelen < 40 ? e.datelen : 40), e.date);
	return rc ? rc : http_out_put(o, meta, strlen(meta));
}

/* Relative links work only from a URL ending in '/'. */
static const char *http_ftp_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = strlen(path);

	if (n == 0 || path[n - 1] == '/')
		return "";
	return slash ? slash + 1 : path;
}

static int http_ftp_list_page(struct http_session *hs, struct http_req *rq)
{
	struct http_in *in = &hs->sin;
	struct http_out *o = &hs->out;
	const char *base = http_ftp_base(rq->path);
	char dirbase[512];
	int rc;

	snprintf(dirbase, sizeof(dirbase), "%s%s", base, *base ? "/" : "");
	rc = http_out_put(o, "<html><head><title>", 19);
	rc = rc ? rc : http_put_escaped(o, hs->cl->text, strlen(hs->cl->text), 0);
	rc = rc ? rc : http_out_put(o, "</title></head><body>\n<pre>\n", 28);
	if (rc == 0 && rq->path[0])
		rc = http_out_put(o, *base ? "<a href=\"./\">..</a>\n"
				  : "<a href=\"../\">..</a>\n", *base ? 20 : 21);
	while (rc == 0) {
		const char *p = http_in_data(in);
		const char *nl = memchr(p, '\n', in->len);
		size_t n;

		if (nl == NULL && in->len < in->cap) {
			int r = http_in_fill(in, hs->to_body);

			if (r > 0)
				continue;
			if (r != SOCKIO_EOF)
				return ERR_RELAY_SERVER;
			if (in->len == 0)
				break;
		}
		n = nl ? (size_t)(nl - p) : in->len;
		rc = http_ftp_list_line(o, dirbase, p,
					n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		http_in_consume(in, nl ? n + 1 : n);
	}
	if (rc == 0)
		rc = http_out_put(o, "</pre></body></html>\n", 21);
	if (rc == 0)
		rc = http_out_flush(o);
	return rc ? FTP_E_LIST_SEND : 0;
}

/* Fetch a file (RETR) or a listing (LIST) over a data connection. */
static int http_ftp_fetch(struct http_session *hs, struct http_req *rq,
			  struct ftp_conn *fc, int list)
{
	struct http_body_errs errs = {
		ERR_RELAY_SERVER, PXE_HTTP_SEND_CLIENT, 0, 0, ERR_RELAY_TIMEOUT
	};
	struct http_framing f = { HTTP_BODY_CLOSE, 0, 0 };
	int64_t size = -1;
	os_sock_t ds = OS_BADSOCK;
	int rc, rc2, started = 0;

	rc = ftp_type(fc, list ? 'A' : 'I');
	/* filtered data may change length: no Content-Length then */
	if (rc == 0 && !list && !http_ftp_filter_pieces(hs, &hs->sin,
							 FH_DATA_SRV))
		size = ftp_size(fc, rq->path);
	if (rc == 0)
		rc = ftp_data_open(hs->cl, fc, &ds);
	if (rc == 0) {
		rc = ftp_transfer_start(fc, list ? "LIST" : "RETR",
					list ? NULL : rq->path);
		started = rc == 0;
	}
	if (rc == 0)
		rc = http_ftp_head(hs, rq, list ? "text/html; charset=utf-8"
				   : "application/octet-stream", size);
	if (rc == 0) {
		hs->sin.s = ds;
		hs->sin.off = hs->sin.len = 0;
		rc = list ? http_ftp_list_page(hs, rq)
			  : http_body_copy(&hs->sin, &hs->out, &f,
					   HTTP_CHUNKS_KEEP, hs->to_body, &errs,
					   NULL);
	}
	http_filter_pieces(hs, &hs->sin, FH_COUNT);
	if (ds != OS_BADSOCK) {
		os_sock_close(ds);
		hs->sin.s = OS_BADSOCK;
		hs->sin.off = hs->sin.len = 0;
	}
	if (started) {
		rc2 = ftp_transfer_end(fc);
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

/* PUT: STOR the request body. */
static int http_ftp_store(struct http_session *hs, struct http_req *rq,
			  struct ftp_conn *fc)
{
	static const char done[] = "HTTP/1.0 201 Created\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct http_body_errs errs = {
		ERR_RELAY_CLIENT, ERR_RELAY_SERVER, PXE_HTTP_CHUNK_CLIENT,
		PXE_HTTP_CHUNK_CLIENT_BIG, ERR_RELAY_TIMEOUT
	};
	os_sock_t ds = OS_BADSOCK;
	int rc, started = 0;

	rc = ftp_type(fc, 'I');
	if (rc == 0)
		rc = ftp_data_open(hs->cl, fc, &ds);
	if (rc == 0) {
		rc = ftp_transfer_start(fc, "STOR", rq->path);
		started = rc == 0;
	}
	if (rc == 0 && rq->expect)
		sockio_write_all(hs->cl->cl_sock, "HTTP/1.1 100 Continue\r\n\r\n",
				 25, hs->to_short);
	if (rc == 0) {
		hs->out.s = ds;
		hs->out.timeout_ms = hs->to_body;
		http_out_discard(&hs->out);
		http_ftp_filter_pieces(hs, &hs->cin, FH_DATA_CLI);
		rc = http_body_copy(&hs->cin, &hs->out, &rq->body,
				    HTTP_CHUNKS_DECODE, hs->to_body, &errs, NULL);
		http_filter_pieces(hs, &hs->cin, FH_COUNT);
	}
	/* a refused upload is cut with a reset: the server must not
	 * store the part sent so far as a whole file */
	if (ds != OS_BADSOCK && rc == PXE_HTTP_FILTER)
		net_abort(ds);
	else if (ds != OS_BADSOCK)
		os_sock_close(ds);
	if (started && rc == 0)
		rc = ftp_transfer_end(fc);
	if (rc != 0)
		return rc;
	rq->replied = 1;
	return sockio_write_all(hs->cl->cl_sock, done, sizeof(done) - 1,
				hs->to_short) ? PXE_HTTP_SEND_CLIENT : 0;
}

/* Credentials: URL userinfo, else Authorization: Basic, else anonymous. */
static int http_ftp_login(struct http_session *hs, struct http_req *rq,
			  struct ftp_conn *fc)
{
	const char *user = rq->o_user ? rq->o_user : "anonymous";
	const char *pass = rq->o_user ? rq->o_pass : "3proxy@";
	int rc = ftp_login(fc, user, pass);

	if (rc == FTP_E_LOGIN || rc == FTP_E_PASS) {
		rq->unread = 1;
		http_error_reply(hs, rq, rc, http_ftp_401, fc->reply.text);
	}
	return rc;
}

static int http_ftp(struct http_session *hs, struct http_req *rq)
{
	struct ftp_conn *fc = &hs->ftp;
	int rc, put = rq->op == OP_FTP_PUT, dir;

	rq->keep = 0;
	if (rq->op != OP_FTP_GET && !put)
		return ERR_NOT_IMPLEMENTED;
	rc = http_ftp_path(rq);
	if (rc == 0)
		rc = http_connect(hs, rq);
	if (rc != 0)
		return rc;
	http_pace_setup(hs);
	ftp_conn_init(fc, hs->cl->srv_sock, hs->to_long);
	rc = http_ftp_login(hs, rq, fc);
	if (rc == 0 && put)
		rc = http_ftp_store(hs, rq, fc);
	else if (rc == 0) {
		dir = rq->path[0] == '\0';
		if (!dir) {
			rc = ftp_cwd(fc, rq->path);
			dir = rc == 0;
			if (rc == FTP_E_CWD)
				rc = rq->path[strlen(rq->path) - 1] == '/'
				     ? FTP_E_DATA : 0;
		}
		if (rc == 0)
			rc = http_ftp_fetch(hs, rq, fc, dir);
	}
	ftp_quit(fc);
	http_close_server(hs);
	return rc;
}

/* ---- one request ------------------------------------------------------------ */

/* A chunked request whose first chunk line is already hostile is
 * refused before anything is forwarded. */
static int http_precheck_body(struct http_session *hs, struct http_req *rq)
{
	int rc;

	if (rq->body.kind != HTTP_BODY_CHUNKED)
		return 0;
	for (;;) {
		const char *p = http_in_data(&hs->cin);

		rc = http_chunked_precheck(&hs->cin);
		if (rc == HTTP_ERR_CHUNK_BIG)
			return PXE_HTTP_CHUNK_CLIENT_BIG;
		if (rc != HTTP_OK && rc != HTTP_NEED_MORE)
			return PXE_HTTP_CHUNK_CLIENT;
		if (rc == HTTP_OK || rq->expect ||
		    memchr(p, '\n', hs->cin.len) != NULL)
			return 0;
		rc = http_in_fill(&hs->cin, hs->to_short);
		if (rc <= 0)
			return rc == SOCKIO_TIMEOUT ? ERR_RELAY_TIMEOUT
						    : ERR_RELAY_CLIENT;
	}
}

static int http_authorize(struct http_session *hs)
{
	struct client *cl = hs->cl;

	if (hs->sc->user_mode == 2 &&
	    (cl->cred.user == NULL || cl->cred.user[0] == '\0'))
		return ERR_AUTH_NOUSER;
	return client_authorize(cl);
}

/* A new request starts with nothing of the previous one in cl->req and
 * %T; until the head is understood %T is its first line as received
 * (control bytes shown as '?'). */
static void http_reset_request(struct http_session *hs, size_t headlen)
{
	struct client *cl = hs->cl;
	const char *p = http_in_data(&hs->cin);
	size_t n = 0, i;
	char *line;

	free(cl->req.host);
	cl->req.host = NULL;
	cl->req.port = 0;
	cl->req.command = 0;
	while (n < headlen && p[n] != '\r' && p[n] != '\n')
		n++;
	line = malloc(n + 1);
	if (line == NULL)
		return;
	for (i = 0; i < n; i++)
		line[i] = (unsigned char)p[i] < 0x20 ? '?' : p[i];
	line[n] = '\0';
	client_set_text(cl, line);
	free(line);
}

static int http_serve_one(struct http_session *hs, struct http_req *rq)
{
	struct client *cl = hs->cl;
	size_t headlen;
	int rc;

	if (hs->nreq > 0) {
		rc = http_wait_followup(hs);
		if (rc != 0)
			return rc;
	}
	/* the record of this request names only a server it used */
	hs->kept_peer = cl->srv_peer;
	hs->kept_local = cl->srv_local;
	memset(&cl->srv_peer, 0, sizeof(cl->srv_peer));
	memset(&cl->srv_local, 0, sizeof(cl->srv_local));
	rc = http_read_head(hs, rq, &headlen);
	http_reset_request(hs, rc == 0 ? headlen : hs->cin.len);
	if (rc != 0)
		return rc;
	rc = http_parse_request_head(http_in_data(&hs->cin), headlen, &hs->req);
	if (rc == HTTP_OK)
		rc = http_analyze(hs, rq);
	else
		rc = http_req_error(rq, rc);
	if (rc == 0 && !rq->connect && rq->t.scheme == HTTP_SCHEME_HTTP)
		http_build_request(hs, rq);
	/* the head is used up: from here on cin holds the body */
	http_in_consume(&hs->cin, headlen);
	if (rc != 0)
		return rc;
	rc = http_authorize(hs);
	if (rc != 0)
		return rc;
	/* plugins.md 4.2: the request filters see the logged line */
	if (cl->filt != NULL && cl->text != NULL &&
	    filter_run_text(cl, FH_REQUEST, &cl->text) == FILTER_REJECT)
		return PXE_HTTP_FILTER;
	if (rq->connect)
		return http_tunnel(hs, rq);
	rc = http_precheck_body(hs, rq);
	if (rc != 0)
		return rc;
	if (rq->t.scheme == HTTP_SCHEME_FTP)
		return http_ftp(hs, rq);
	return http_forward(hs, rq);
}

/* Codes ending a connection quietly (logging.md section 5). */
static int http_silent_end(int rc)
{
	return rc == PXE_HTTP_NOREQ || rc == PXE_HTTP_IDLE;
}

/* The requests of one client connection. */
static int http_run(struct http_session *hs)
{
	struct client *cl = hs->cl;
	int rc = 0;

	for (;;) {
		struct http_req rq;

		memset(&rq, 0, sizeof(rq));
		rc = http_serve_one(hs, &rq);
		http_req_clear(&rq);
		if (rc == CLIENT_HANDED_OFF) {
			/* a CONNECT tunnel went to a loop thread, which
			 * writes its record and finishes the client */
			http_session_drop(hs);
			return rc;
		}
		if (http_silent_end(rc)) {
			cl->logged = 1;
			break;
		}
		if (rc != 0)
			http_error_reply(hs, &rq, rc, NULL, NULL);
		client_log(cl, rc);
		hs->nreq++;
		/* unread request bytes would make the close a reset that
		 * can destroy the reply before the client reads it */
		if (rc != 0 && (rq.unread || rq.replied))
			http_lingering_close(hs);
		if (rc != 0 || !rq.keep)
			break;
	}
	http_session_free(hs);
	return rc;
}

int proto_http_handle(struct client *cl)
{
	struct http_session *hs = http_session_new(cl);

	if (hs == NULL)
		return ERR_NOMEM;
	return http_run(hs);
}

/* F-TLS-04: the decrypted stream of an intercepted CONNECT (tls.h
 * tls_mitm_start wrapped both sockets).  The tunnel's server connection
 * serves the requests for its host and port; every request is logged
 * and checked like any other (absolute https:// URL in %T). */
int proto_http_intercepted(struct client *cl)
{
	struct http_session *hs = http_session_new(cl);
	char addr[64];
	const char *host = cl->req.host;
	int rc;

	if (hs == NULL)
		return ERR_NOMEM;
	cl->intercepted = 1;
	hs->mitm = 1;
	if (host == NULL)
		host = net_addr_str(&cl->req.addr, addr, sizeof(addr));
	hs->srv_host = strdup(host);
	hs->srv_port = cl->req.port;
	hs->sin.s = cl->srv_sock;
	if (hs->srv_host == NULL) {
		http_session_free(hs);
		return ERR_NOMEM;
	}
	rc = http_run(hs);
	/* each request inside had its record */
	cl->logged = 1;
	return rc;
}
