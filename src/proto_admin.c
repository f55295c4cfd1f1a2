/*
 * proto_admin.c - admin: the web administration service (services.md 14;
 * F-SVC-02, F-SVC-03, acl-auth.md 8, parent.md 6).
 *
 * One HTTP/1.0 request per connection: read the head (STRING_SHORT in
 * total, at most ADMIN_HEAD_MAX bytes), parse it with http_parse.c,
 * authorize operation ADMIN with the Basic credentials it carries, and
 * answer one page, then close.  Pages are rendered by admin_pages.c.
 *
 * Read-only (-s, or reached by a `parent ... admin 0.0.0.0 0` local
 * redirection): the index banner and the counters page only, counters
 * filtered to the rules that match the requester; anything that changes
 * state is refused with 403.
 *
 * Owns only per-connection state on the worker thread: no lock.  The
 * counter values are read through counter_foreach (counter.c's lock),
 * the running services and their clients through service_foreach
 * (service.c's locks), and /U writes the config file by path.
 */
#include "admin_pages.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "control.h"
#include "counter.h"
#include "errcode.h"
#include "http_parse.h"
#include "metrics.h"
#include "msgtab.h"
#include "promtext.h"
#include "service.h"
#include "sockio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/stat.h>
#else
#include <windows.h>
#endif

int proto_admin_handle(struct client *cl);

#define ADMIN_HEAD_MAX  8192            /* request line + headers */
#define ADMIN_PAGE_MAX  (4u << 20)      /* one rendered page */
#define ADMIN_CONF_MAX  (1u << 20)      /* config file shown by /F */
#define ADMIN_DRAIN_MAX 65536           /* POST body read and dropped */
#define ADMIN_UPLOAD_MAX (1u << 20)     /* /U form body */
#define ADMIN_PATH_MAX  255             /* %T text kept */

/* logging.md 7: admin codes share the 700 range with the FTP client */
enum { ERR_ADMIN_REQUEST = 701, ERR_ADMIN_PATH = 702 };

struct admin_req {
	struct client *cl;
	char *buf;                 /* ADMIN_HEAD_MAX bytes */
	size_t n;                  /* bytes read */
	size_t headlen;
	struct http_head head;
	char path[ADMIN_PATH_MAX + 1];   /* after the '/', NUL-terminated */
	int readonly;
};

/* ---- replies ------------------------------------------------------------- */

/* A page body, with the texts of the client's generation (msgtab.h). */
static void page_init(struct admin_req *ar, struct admin_buf *b)
{
	admin_buf_init(b, ADMIN_PAGE_MAX);
	b->msgs = ar->cl->gen != NULL ? ar->cl->gen->msgs : NULL;
}

static int send_typed(struct admin_req *ar, int status, const char *reason,
		      const char *ctype, const char *extra,
		      struct admin_buf *body)
{
	struct client *cl = ar->cl;
	struct admin_buf out;
	int rc = 0;

	admin_buf_init(&out, ADMIN_PAGE_MAX + 1024);
	if (admin_response(&out, status, reason, ctype, extra, body) != 0)
		rc = ERR_NOMEM;
	else if (sockio_write_all(cl->cl_sock, out.p, out.n,
			svc_timeout_ms(cl->gen, TO_STRING_SHORT)) != 0)
		rc = ERR_RELAY_CLIENT;
	admin_buf_free(&out);
	admin_buf_free(body);
	return rc;
}

static int send_page(struct admin_req *ar, int status, const char *reason,
		     const char *extra, struct admin_buf *body)
{
	return send_typed(ar, status, reason, "text/html", extra, body);
}

/* A short page with one message; returns code (or the send failure). */
static int send_message(struct admin_req *ar, int status, const char *reason,
			const char *extra, const char *text, int code)
{
	struct admin_buf body;
	int rc;

	page_init(ar, &body);
	admin_message_page(&body, reason, text);
	rc = send_page(ar, status, reason, extra, &body);
	return code != 0 ? code : rc;
}

/* ---- the request ---------------------------------------------------------- */

/* Read until the end of the head.  Returns 0, ERR_ADMIN_REQUEST when
 * nothing usable came (the caller decides whether to answer: *answer). */
static int read_head(struct admin_req *ar, int *answer)
{
	struct client *cl = ar->cl;
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	uint64_t deadline = os_monotonic_ms() + (uint64_t)tmo;
	size_t pos = 0;
	int r, rc;

	*answer = 0;
	for (;;) {
		uint64_t now = os_monotonic_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);

		if (ar->n == ADMIN_HEAD_MAX) {
			*answer = 1;          /* overlong head */
			return ERR_ADMIN_REQUEST;
		}
		r = sockio_read_some(cl->cl_sock, ar->buf + ar->n,
				     ADMIN_HEAD_MAX - ar->n, left);
		if (r <= 0)
			return ERR_ADMIN_REQUEST;   /* gone: no reply */
		ar->n += (size_t)r;
		rc = http_head_scan(ar->buf, ar->n, &pos, &ar->headlen);
		if (rc == HTTP_OK)
			return 0;
		if (rc != HTTP_NEED_MORE) {
			*answer = 1;
			return ERR_ADMIN_REQUEST;
		}
	}
}

/* GET or POST with an origin-form path; sets ar->path and %T. */
static int check_request_line(struct admin_req *ar)
{
	struct http_head *h = &ar->head;
	size_t n;

	if (http_parse_request_head(ar->buf, ar->headlen, h) != HTTP_OK)
		return ERR_ADMIN_REQUEST;
	if (!(h->method.n == 3 && memcmp(h->method.p, "GET", 3) == 0) &&
	    !(h->method.n == 4 && memcmp(h->method.p, "POST", 4) == 0))
		return ERR_ADMIN_REQUEST;
	if (h->target.n == 0 || h->target.p[0] != '/')
		return ERR_ADMIN_PATH;
	n = h->target.n - 1;
	if (n > ADMIN_PATH_MAX)
		n = ADMIN_PATH_MAX;
	memcpy(ar->path, h->target.p + 1, n);
	ar->path[n] = '\0';
	client_set_text(ar->cl, ar->path);
	return 0;
}

/* Basic credentials of the Authorization field, if any, replace what the
 * client carried (a redirected request gets the admin's own). */
static int take_credentials(struct admin_req *ar)
{
	struct client *cl = ar->cl;
	char dec[512];
	const char *user, *pass;
	int i = http_find_field(&ar->head, "Authorization", 0);
	int rc = 0;

	if (i < 0 || http_basic_decode(ar->head.fields[i].value, dec,
				       sizeof(dec), &user, &pass) != 0)
		return 0;
	free(cl->cred.user);
	if (cl->cred.password != NULL)
		memset(cl->cred.password, 0, strlen(cl->cred.password));
	free(cl->cred.password);
	cl->cred.user = strdup(user);
	cl->cred.password = strdup(pass);
	if (cl->cred.user == NULL || cl->cred.password == NULL)
		rc = ERR_NOMEM;
	memset(dec, 0, sizeof(dec));
	return rc;
}

/* Read and drop a POST body (up to ADMIN_DRAIN_MAX) so that closing
 * after the answer does not reset the connection under the client. */
static void drain_body(struct admin_req *ar)
{
	struct client *cl = ar->cl;
	struct http_framing f;
	uint64_t left;
	char tmp[4096];

	if (http_request_framing(&ar->head, &f) != HTTP_OK ||
	    f.kind != HTTP_BODY_LENGTH || f.length > ADMIN_DRAIN_MAX)
		return;
	left = f.length;
	left -= left < ar->n - ar->headlen ? left : ar->n - ar->headlen;
	while (left > 0) {
		size_t want = left < sizeof(tmp) ? (size_t)left : sizeof(tmp);
		int r = sockio_read_some(cl->cl_sock, tmp, want,
				svc_timeout_ms(cl->gen, TO_STRING_SHORT));

		if (r <= 0)
			return;
		left -= (uint64_t)r;
	}
}

/* ---- pages ------------------------------------------------------------------ */

static int page_index(struct admin_req *ar)
{
	const struct conf_gen *g = ar->cl->gen;
	struct admin_buf b;
	char port[16];
	int i;

	page_init(ar, &b);
	admin_page_begin(&b, "Welcome");
	admin_buf_msg(&b, MSG_ADMIN_WELCOME);
	if (!ar->readonly && g != NULL && g->nsvcs > 0) {
		admin_buf_str(&b, "<table border=\"1\">\n<tr><th>Service"
			      "</th><th>Port</th><th>Defined at</th></tr>\n");
		for (i = 0; i < g->nsvcs; i++) {
			const struct svc_conf *sc = g->svcs[i];

			snprintf(port, sizeof(port), "%u",
				 (unsigned)net_get_port(&sc->listen));
			admin_buf_str(&b, "<tr><td>");
			admin_html_escape(&b, sc->cmdname, strlen(sc->cmdname));
			admin_buf_printf(&b, "</td><td>%s</td><td>", port);
			if (sc->where != NULL)
				admin_html_escape(&b, sc->where,
						  strlen(sc->where));
			admin_buf_str(&b, "</td></tr>\n");
		}
		admin_buf_str(&b, "</table>\n");
	}
	admin_page_end(&b);
	return send_page(ar, 200, "OK", NULL, &b);
}

struct counters_walk {
	struct admin_req *ar;
	struct admin_buf *b;
	time_t now;
};

static int counters_row(void *arg, const struct counter_info *ci)
{
	struct counters_walk *w = arg;
	struct client *cl = w->ar->cl;

	/* read-only: only the rules that apply to this requester */
	if (w->ar->readonly && (ci->rule == NULL ||
	    !acl_rule_match(ci->rule, &cl->req, cl->cred.user, &cl->cl_peer,
			    w->now)))
		return 0;
	admin_counter_row(w->b, ci, !w->ar->readonly);
	return w->b->failed ? -1 : 0;
}

/* /CDn, /CSn: n is 0-based, decimal digits only.  Returns 0 when the
 * switch was made, else the answer it sent. */
static int switch_counter(struct admin_req *ar, int *answered)
{
	const char *num = ar->path + 2;
	size_t len = strlen(num);
	char msg[96];

	*answered = 1;
	if (ar->readonly)
		return send_message(ar, 403, "Forbidden", NULL,
			"Read-only access: counters cannot be changed.", 0);
	if (len == 0 || len > 9 || strspn(num, "0123456789") != len)
		return send_message(ar, 400, "Bad Request", NULL,
			"A counter number (0-based position in the counters "
			"list) must follow /CD or /CS.", 0);
	if (counter_set_enabled(ar->cl->gen, strtoul(num, NULL, 10),
				ar->path[1] == 'S') != 0) {
		snprintf(msg, sizeof(msg), "There is no counter number %s.",
			 num);
		return send_message(ar, 404, "Not Found", NULL, msg, 0);
	}
	*answered = 0;
	return 0;
}

static int page_counters(struct admin_req *ar)
{
	struct admin_buf b;
	struct counters_walk w;
	int answered, rc;

	/* services.md 14: after the switch the counters page shows it */
	if (ar->path[1] == 'D' || ar->path[1] == 'S') {
		rc = switch_counter(ar, &answered);
		if (answered)
			return rc;
	}
	page_init(ar, &b);
	admin_page_begin(&b, "Counters");
	admin_counters_begin(&b);
	w.ar = ar;
	w.b = &b;
	w.now = time(NULL);
	counter_foreach(ar->cl->gen, counters_row, &w);
	admin_counters_end(&b);
	admin_page_end(&b);
	return send_page(ar, 200, "OK", NULL, &b);
}

static int page_reload(struct admin_req *ar)
{
	control_request_reload();
	return send_message(ar, 200, "OK", NULL, "Reload scheduled", 0);
}

/* Append up to ADMIN_CONF_MAX bytes of the config file, escaped. */
static int add_config_text(struct admin_buf *b, const char *path)
{
	char chunk[4096];
	size_t got, total = 0;
	FILE *f = path ? fopen(path, "rb") : NULL;

	if (f == NULL)
		return -1;
	while (total < ADMIN_CONF_MAX &&
	       (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		admin_html_escape(b, chunk, got);
		total += got;
	}
	fclose(f);
	return 0;
}

static int page_config(struct admin_req *ar)
{
	const struct conf_gen *g = ar->cl->gen;
	const char *path = g && g->config_path ?
		conf_path_in_root(g->config_path) : NULL;
	struct admin_buf b;

	page_init(ar, &b);
	admin_page_begin(&b, "Config");
	admin_buf_str(&b, "<form method=\"POST\" action=\"/U\">"
		      "<textarea name=\"conffile\" rows=\"30\" cols=\"100\">");
	if (add_config_text(&b, path) != 0) {
		admin_buf_free(&b);
		return send_message(ar, 404, "Not Found", NULL,
			"The configuration file cannot be read.", 0);
	}
	admin_buf_str(&b, "</textarea>\n");
	if (g->writable)
		admin_buf_str(&b, "<p><input type=\"submit\" value=\"Save\">"
			      " (then Reload to apply it)</p></form>\n");
	else
		admin_buf_str(&b, "</form>\n<p>Saving needs the line "
			      "<code>writable</code> in the configuration."
			      "</p>\n");
	admin_page_end(&b);
	return send_page(ar, 200, "OK", NULL, &b);
}

/* ---- /S and /SX ---------------------------------------------------------- */

/* "1.2.3.4:80", "[::1]:80", or the socket name of a Unix address. */
static void addr_port_text(const struct net_addr *a, char *out, size_t len)
{
	char ip[128];

	net_addr_str(a, ip, sizeof(ip));
	if (net_family(a) == AF_UNIX)
		snprintf(out, len, "%s", ip);
	else
		snprintf(out, len, net_family(a) == AF_INET6 ? "[%s]:%u" :
			 "%s:%u", ip, (unsigned)net_get_port(a));
}

struct svc_walk {
	struct admin_buf *b;       /* the document */
	struct admin_buf cl;       /* one service's clients */
	int ncl;
};

/* Under the service's cl_lock: only memory work here. */
static int services_client(void *arg, const struct client *c)
{
	struct svc_walk *w = arg;
	struct admin_client_info ci;
	char peer[160];

	addr_port_text(&c->cl_peer, peer, sizeof(peer));
	ci.peer = peer;
	ci.user = c->shown != NULL && c->shown[0] != '\0' ? c->shown : NULL;
	ci.target = c->shown != NULL ? c->shown + strlen(c->shown) + 1 : NULL;
	if (ci.target != NULL && ci.target[0] == '\0')
		ci.target = NULL;
	admin_client_xml(&w->cl, &ci);
	w->ncl++;
	return w->cl.failed ? -1 : 0;
}

/* Under the registry lock. */
static int services_row(void *arg, struct service *svc)
{
	struct svc_walk *w = arg;
	const struct svc_conf *sc = svc->conf;
	struct admin_svc_info si;
	char listen[160];

	admin_buf_init(&w->cl, ADMIN_PAGE_MAX);
	w->ncl = 0;
	service_foreach_client(svc, services_client, w);
	addr_port_text(&sc->listen, listen, sizeof(listen));
	si.name = sc->proto->logname;
	si.command = sc->cmdname;
	si.listen = listen;
	si.where = sc->where;
	si.maxconn = sc->maxconn;
	si.nclients = w->ncl;
	admin_service_xml(w->b, &si, &w->cl);
	admin_buf_free(&w->cl);
	return w->b->failed ? -1 : 0;
}

static int page_services(struct admin_req *ar)
{
	struct admin_buf b;
	struct svc_walk w;

	admin_buf_init(&b, ADMIN_PAGE_MAX);
	admin_services_begin(&b);
	w.b = &b;
	service_foreach(services_row, &w);
	admin_services_end(&b);
	if (b.failed) {
		admin_buf_free(&b);
		return send_message(ar, 500, "Internal Server Error", NULL,
			"The services listing is too large.", 0);
	}
	return send_typed(ar, 200, "OK", "text/xml", NULL, &b);
}

static int page_css(struct admin_req *ar)
{
	struct admin_buf b;

	admin_buf_init(&b, ADMIN_PAGE_MAX);
	admin_buf_str(&b, admin_services_css());
	return send_typed(ar, 200, "OK", "text/css", NULL, &b);
}

/* ---- /metrics and /health (beyond the original) -------------------------- */

/* Prometheus text: every service and counter, so not on a read-only
 * admin (its counters page shows only the requester's rules). */
static int page_metrics(struct admin_req *ar)
{
	struct admin_buf b;

	if (ar->readonly)
		return send_message(ar, 403, "Forbidden", NULL,
			"Read-only access: /metrics is not available.", 0);
	admin_buf_init(&b, ADMIN_PAGE_MAX);
	metrics_render(&b, ar->cl->gen);
	if (b.failed) {
		admin_buf_free(&b);
		return send_message(ar, 500, "Internal Server Error", NULL,
			"The metrics document is too large.", 0);
	}
	return send_typed(ar, 200, "OK", PROMTEXT_CTYPE, NULL, &b);
}

/* A liveness probe: no lock, no walk. */
static int page_health(struct admin_req *ar)
{
	struct admin_buf b;

	admin_buf_init(&b, 16);
	admin_buf_str(&b, "ok\n");
	return send_typed(ar, 200, "OK", "text/plain", NULL, &b);
}

/* The path without a query string is name. */
static int path_is(const char *path, const char *name)
{
	size_t n = strlen(name);

	return strncmp(path, name, n) == 0 &&
	       (path[n] == '\0' || path[n] == '?');
}

/* ---- /U ----------------------------------------------------------------------- */

/* Read a Content-Length body of at most ADMIN_UPLOAD_MAX bytes into a
 * new buffer.  Returns 0, or the HTTP status to answer (*why says why). */
static int read_body(struct admin_req *ar, char **body, size_t *len,
		     const char **why)
{
	struct client *cl = ar->cl;
	struct http_framing f;
	size_t have = ar->n - ar->headlen, got;
	uint64_t deadline;

	if (http_request_framing(&ar->head, &f) != HTTP_OK ||
	    f.kind != HTTP_BODY_LENGTH) {
		*why = "A POST with a Content-Length is expected.";
		return 411;
	}
	if (f.length > ADMIN_UPLOAD_MAX) {
		*why = "The configuration posted is larger than 1 MiB.";
		return 413;
	}
	*len = (size_t)f.length;
	*body = malloc(*len + 1);
	if (*body == NULL) {
		*why = "Out of memory.";
		return 500;
	}
	got = have < *len ? have : *len;
	memcpy(*body, ar->buf + ar->headlen, got);
	deadline = os_monotonic_ms() +
		   (uint64_t)svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	while (got < *len) {
		uint64_t now = os_monotonic_ms();
		int r = now >= deadline ? 0 : sockio_read_some(cl->cl_sock,
				*body + got, *len - got, (int)(deadline - now));

		if (r <= 0) {
			free(*body);
			*body = NULL;
			*why = "The request body did not arrive.";
			return 400;
		}
		got += (size_t)r;
	}
	return 0;
}

/* Write text over path: a new file next to it, then a rename, so a
 * reload never reads half a file.  Returns 0 or an errno value. */
static int write_config(const char *path, const char *text, size_t len)
{
	static int seq;
	char tmp[4096];
	FILE *f;
	int err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%lu.%d.new", path,
			     os_process_id(), os_atomic_inc(&seq))
	    >= sizeof(tmp))
		return ENAMETOOLONG;
#ifndef _WIN32
	f = fopen(tmp, "wbx");      /* never follow what someone put there */
#else
	f = fopen(tmp, "wb");       /* older C runtimes know no "x" */
#endif
	if (f == NULL)
		return errno;
	if (fwrite(text, 1, len, f) != len)
		err = errno ? errno : EIO;
	if (fclose(f) != 0 && err == 0)
		err = errno ? errno : EIO;
#ifndef _WIN32
	{
		struct stat st;

		/* keep the old file's permissions, not the umask's */
		if (err == 0 && stat(path, &st) == 0)
			(void)chmod(tmp, st.st_mode & 07777);
	}
	if (err == 0 && rename(tmp, path) != 0)
		err = errno;
#else
	if (err == 0 && !MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING))
		err = EACCES;
#endif
	if (err != 0)
		remove(tmp);
	return err;
}

static int page_upload(struct admin_req *ar)
{
	const struct conf_gen *g = ar->cl->gen;
	const char *path = g && g->config_path ?
		conf_path_in_root(g->config_path) : NULL;
	char *body = NULL, *text = NULL, msg[512];
	const char *why = NULL;
	size_t blen = 0, tlen = 0;
	int st, err;

	if (g == NULL || !g->writable || path == NULL) {
		drain_body(ar);
		return send_message(ar, 403, "Forbidden", NULL, path == NULL ?
			"The configuration was not read from a file." :
			"The configuration is not writable: it needs the line "
			"`writable`.", 0);
	}
	st = read_body(ar, &body, &blen, &why);
	if (st != 0)
		return send_message(ar, st, st == 500 ? "Internal Server Error"
			: st == 400 ? "Bad Request" : st == 411 ?
			"Length Required" : "Payload Too Large", NULL, why, 0);
	st = admin_form_field(body, blen, "conffile", &text, &tlen);
	free(body);
	if (st != 0)
		return send_message(ar, 400, "Bad Request", NULL, st == -1 ?
			"The form has no conffile field." :
			"The form field conffile is not URL-encoded "
			"correctly.", 0);
	err = write_config(path, text, tlen);
	free(text);
	if (err != 0) {
		snprintf(msg, sizeof(msg), "The configuration could not be "
			 "written: %s.", strerror(err));
		return send_message(ar, 500, "Internal Server Error", NULL,
				    msg, 0);
	}
	return send_message(ar, 200, "OK", NULL, "Configuration written. "
		"It takes effect with Reload (/R).", 0);
}

/* Pages by first letter (services.md 14 step 5). */
static int dispatch(struct admin_req *ar)
{
	const char *p = ar->path;

	if (p[0] == '\0')
		return page_index(ar);
	if (p[0] == 'C' && (p[1] == '\0' || p[1] == 'D' || p[1] == 'S'))
		return page_counters(ar);
	if (path_is(p, "metrics"))
		return page_metrics(ar);
	if (path_is(p, "health"))
		return page_health(ar);
	if (ar->readonly && strchr("RSFU", p[0]) != NULL)
		return send_message(ar, 403, "Forbidden", NULL,
			"Read-only access: only the counters page is "
			"available.", 0);
	if (strcmp(p, "R") == 0)
		return page_reload(ar);
	if (strcmp(p, "F") == 0)
		return page_config(ar);
	if (strcmp(p, "S") == 0)
		return page_services(ar);
	if (strcmp(p, "SX") == 0)
		return page_css(ar);
	if (strcmp(p, "U") == 0)
		return page_upload(ar);
	return send_message(ar, 404, "Not Found", NULL,
			    "No such page.", 0);
}

/* ---- entry -------------------------------------------------------------------- */

static int admin_serve(struct admin_req *ar)
{
	struct client *cl = ar->cl;
	int answer, rc;

	rc = read_head(ar, &answer);
	if (rc == 0)
		rc = check_request_line(ar);
	if (rc != 0) {
		/* 3proxy closes silently; an HTTP client is better served
		 * by a 400 when it sent something (doc/compat.md) */
		if (answer || ar->n > 0)
			return send_message(ar, 400, "Bad Request", NULL,
					    "Malformed request.", rc);
		return rc;
	}
	rc = take_credentials(ar);
	if (rc != 0)
		return rc;
	cl->req.command = OP_ADMIN;
	rc = client_authorize(cl);
	if (rc != 0 && rc != ERR_LIMIT)
		return send_message(ar, 401, "Authentication Required",
			"WWW-Authenticate: Basic realm=\"proxy\"\r\n",
			"Authentication required.", rc);
	/* /U reads the body itself */
	if (strcmp(ar->path, "U") != 0 || ar->readonly)
		drain_body(ar);
	return dispatch(ar);
}

int proto_admin_handle(struct client *cl)
{
	struct admin_req *ar = calloc(1, sizeof(*ar));
	int rc;

	if (ar == NULL)
		return ERR_NOMEM;
	ar->buf = malloc(ADMIN_HEAD_MAX);
	if (ar->buf == NULL) {
		free(ar);
		return ERR_NOMEM;
	}
	ar->cl = cl;
	/* -s (parsed into single_packet for every service), or a local
	 * redirection (parent.md 6) */
	ar->readonly = cl->conf->single_packet || cl->redirect_depth > 0;
	rc = admin_serve(ar);
	free(ar->buf);
	free(ar);
	return rc;
}
