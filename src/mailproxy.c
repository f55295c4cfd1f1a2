/*
 * mailproxy.c - the session driver, login parser, line I/O and SASL
 * base64 shared by pop3p, smtpp and imapp (services.md sections 5-7).
 *
 * Owns: struct mail_session (one per connection, freed and wiped here).
 * Does not own: the protocol dialogues (proto_pop3.c, proto_smtp.c,
 * proto_imap.c), authorization and connecting (client.c), the relay.
 * No shared state, no locks.
 */
#include "mailproxy.h"
#include "auth.h"
#include "client.h"
#include "filter.h"
#include "conf.h"
#include "errcode.h"
#include "http_parse.h"
#include "service.h"
#include "sockio.h"
#include "starttls.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small string helpers ------------------------------------------------ */

int mail_prefix(const char *s, const char *word)
{
	for (; *word; s++, word++)
		if (tolower((unsigned char)*s) != tolower((unsigned char)*word))
			return 0;
	return 1;
}

int mail_contains(const char *s, const char *word)
{
	for (; *s; s++)
		if (mail_prefix(s, word))
			return 1;
	return 0;
}

/* Copy n bytes into a field of max bytes; -1 if it does not fit. */
static int field_copy(char *dst, size_t max, const char *s, size_t n)
{
	if (n >= max)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static const char *mem_rchr(const char *s, size_t n, int c)
{
	while (n > 0) {
		n--;
		if (s[n] == (char)c)
			return s + n;
	}
	return NULL;
}

/* ---- login parsing -------------------------------------------------------- */

static int port_parse(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int mail_host_parse(const char *s, size_t n, uint16_t defport, char *host,
		    size_t hostmax, uint16_t *port)
{
	const char *end = s + n, *colon, *close;
	size_t hn;

	*port = defport;
	if (n == 0)
		return MAIL_LOGIN_BADHOST;
	if (s[0] == '[') {
		/* [IPv6]:port, RFC 3986 style */
		close = memchr(s, ']', n);
		if (close == NULL || close == s + 1)
			return MAIL_LOGIN_BADHOST;
		if (close + 1 < end &&
		    (close[1] != ':' ||
		     port_parse(close + 2, (size_t)(end - close - 2), port)))
			return MAIL_LOGIN_BADHOST;
		s++;
		hn = (size_t)(close - s);
	} else {
		colon = memchr(s, ':', n);
		hn = n;
		/* one colon: host:port; more: a bare IPv6 literal */
		if (colon != NULL && mem_rchr(s, n, ':') == colon) {
			hn = (size_t)(colon - s);
			if (port_parse(colon + 1, (size_t)(end - colon - 1),
				       port))
				return MAIL_LOGIN_BADHOST;
		}
		if (hn == 0)
			return MAIL_LOGIN_BADHOST;
	}
	if (memchr(s, '\0', hn) != NULL)
		return MAIL_LOGIN_BADHOST;
	if (field_copy(host, hostmax, s, hn))
		return MAIL_LOGIN_TOOLONG;
	return MAIL_LOGIN_OK;
}

/* "proxyuser:proxypass:user": split off the prefix when there are two
 * colons (3proxy's parseusername); the rest is the server-side user. */
static int user_parse(const char *s, size_t n, int proxy_cred,
		      struct mail_login *out)
{
	const char *c1, *c2;

	c1 = proxy_cred ? memchr(s, ':', n) : NULL;
	c2 = c1 ? memchr(c1 + 1, ':', (size_t)(s + n - c1 - 1)) : NULL;
	if (c2 != NULL) {
		if (field_copy(out->proxy_user, sizeof(out->proxy_user), s,
			       (size_t)(c1 - s)) ||
		    field_copy(out->proxy_pass, sizeof(out->proxy_pass),
			       c1 + 1, (size_t)(c2 - c1 - 1)))
			return MAIL_LOGIN_TOOLONG;
		out->proxy_cred = 1;
		n -= (size_t)(c2 + 1 - s);
		s = c2 + 1;
	}
	if (field_copy(out->user, sizeof(out->user), s, n))
		return MAIL_LOGIN_TOOLONG;
	return MAIL_LOGIN_OK;
}

int mail_login_parse(const char *s, size_t n, int delim, int proxy_cred,
		     uint16_t defport, const char *default_host,
		     struct mail_login *out)
{
	const char *d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return MAIL_LOGIN_EMPTY;
	if (n >= MAIL_LINE_MAX)
		return MAIL_LOGIN_TOOLONG;
	d = mem_rchr(s, n, delim);
	if (d == NULL) {
		/* no host in the login: the service's -h default */
		if (default_host == NULL || *default_host == '\0')
			return MAIL_LOGIN_NOHOST;
		rc = mail_host_parse(default_host, strlen(default_host),
				     defport, out->host, sizeof(out->host),
				     &out->port);
		if (rc == 0)
			rc = user_parse(s, n, proxy_cred, out);
		return rc;
	}
	rc = user_parse(s, (size_t)(d - s), proxy_cred, out);
	if (rc == 0)
		rc = mail_host_parse(d + 1, (size_t)(s + n - d - 1), defport,
				     out->host, sizeof(out->host), &out->port);
	return rc;
}

/* ---- line I/O ---------------------------------------------------------------- */

int mail_getline(os_sock_t s, char *buf, size_t max, size_t *raw,
		 int timeout_ms)
{
	size_t n = 0;
	int rc;

	rc = sockio_read_line(s, buf, max, &n, timeout_ms);
	if (raw != NULL)
		*raw = n;
	if (rc == SOCKIO_TOOLONG)
		return MAIL_IO_TOOLONG;
	if (rc <= 0)
		return MAIL_IO_FAIL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return (int)n;
}

int mail_send(os_sock_t s, const char *text, int timeout_ms)
{
	return sockio_write_all(s, text, strlen(text), timeout_ms) == 0 ? 0
									 : -1;
}

int mail_sendf(os_sock_t s, int timeout_ms, const char *fmt, ...)
{
	char buf[MAIL_SRV_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return sockio_write_all(s, buf, (size_t)n, timeout_ms) == 0 ? 0 : -1;
}

/* ---- base64 --------------------------------------------------------------------- */

int mail_b64_decode(const char *in, size_t n, char *out, size_t outmax)
{
	size_t len = 0;

	if (outmax == 0 ||
	    http_b64_decode(in, n, out, outmax - 1, &len) != 0)
		return -1;
	out[len] = '\0';
	return (int)len;
}

int mail_send_b64(os_sock_t s, const void *data, size_t n, int timeout_ms)
{
	char enc[4 * ((2 * MAIL_FIELD_MAX + 2) / 3) + 4];

	if (n > 2 * MAIL_FIELD_MAX)
		return -1;
	n = http_b64_encode(data, n, enc);
	memcpy(enc + n, "\r\n", 3);
	return sockio_write_all(s, enc, n + 2, timeout_ms) == 0 ? 0 : -1;
}

/* ---- the session ---------------------------------------------------------------- */

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* Replace *p by a copy of s unless s is empty.  Returns 0 or -1. */
static int replace_cred(char **p, const char *s)
{
	char *c;

	if (*s == '\0')
		return 0;
	c = strdup(s);
	if (c == NULL)
		return -1;
	if (*p != NULL) {
		wipe(*p, strlen(*p));
		free(*p);
	}
	*p = c;
	return 0;
}

int mail_session_login(struct mail_session *ms, const char *s, size_t len)
{
	const struct svc_conf *sc = ms->cl->conf;

	return mail_login_parse(s, len, auth_delimchar(ms->cl->gen),
				sc->user_mode != 1, ms->mp->port,
				sc->default_host, &ms->login);
}

/* The login names the destination (%T = user@host:port); a
 * proxyuser:proxypass: prefix becomes the credentials the ACL sees. */
static int apply_login(struct mail_session *ms)
{
	return mail_login_apply(ms->cl, &ms->login);
}

int mail_login_apply(struct client *cl, const struct mail_login *lg)
{
	char text[3 * MAIL_FIELD_MAX];

	free(cl->req.host);
	cl->req.host = NULL;
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	if (net_parse_ip(lg->host, &cl->req.addr) != 0) {
		cl->req.host = strdup(lg->host);
		if (cl->req.host == NULL)
			return ERR_NOMEM;
	}
	cl->req.port = lg->port;
	cl->req.command = OP_CONNECT;
	snprintf(text, sizeof(text), "%s@%s:%u", lg->user, lg->host,
		 (unsigned)lg->port);
	client_set_text(cl, text);
	/* as 3proxy's parseusername: an empty field keeps what is known
	 * (e.g. the SOCKS user of a local redirection) */
	if (replace_cred(&cl->cred.user, lg->proxy_user) ||
	    replace_cred(&cl->cred.password, lg->proxy_pass))
		return ERR_NOMEM;
	return 0;
}

int mail_starttls_enabled(const struct mail_session *ms)
{
	return ms->mp->starttls != STARTTLS_NONE && !ms->cl->conf->no_starttls;
}

/* Greeting, then commands until the client logs in or leaves. */
static int client_phase(struct mail_session *ms)
{
	os_sock_t s = ms->cl->cl_sock;
	const char *greeting = ms->mp->greeting;
	size_t raw;
	int n, i, rc;

	if (mail_starttls_enabled(ms) && ms->mp->greeting_tls != NULL)
		greeting = ms->mp->greeting_tls;
	if (mail_send(s, greeting, ms->to_short) != 0)
		return ms->mp->err_greeting;
	for (i = 0; i < MAIL_CMDS_MAX; i++) {
		n = mail_getline(s, ms->line, sizeof(ms->line), &raw,
				 ms->to_short);
		if (n < 0)
			return ms->mp->err_line;
		rc = ms->mp->command(ms, ms->line, (size_t)n, raw);
		if (rc != MAIL_NEXT)
			return rc;
	}
	return ms->mp->err_line;
}

/* plugins.md 2.1: request filters see the target host (smtpp). */
static int filter_request(struct mail_session *ms)
{
	struct filter_buf b;
	int rc;

	if (ms->cl->filt == NULL || ms->mp->err_filter_request == 0)
		return 0;
	filter_buf_init(&b, ms->login.host, strlen(ms->login.host));
	rc = filter_run(ms->cl, FH_REQUEST, &b);
	filter_buf_release(&b);
	return rc == FILTER_REJECT ? ms->mp->err_filter_request : 0;
}

/* Authorize and connect; log in to the server; relay. */
static int server_phase(struct mail_session *ms, int *relaying)
{
	struct client *cl = ms->cl;
	int rc;

	rc = apply_login(ms);
	if (rc == 0)
		rc = client_authorize(cl);
	if (rc == 0)
		rc = filter_request(ms);
	if (rc == 0)
		rc = client_connect(cl);
	if (rc != 0)
		return rc;
	/* a local redirection: the stream goes to that parser as it is */
	if (cl->redirect == NULL) {
		rc = ms->mp->server_login(ms);
		if (rc != 0)
			return rc;
	}
	*relaying = 1;
	if (ms->mp->filtered_relay != NULL && cl->redirect == NULL &&
	    (filter_conn_hooks(cl->filt) &
	     (FILTER_HOOK_BIT(FH_HEADER_CLI) | FILTER_HOOK_BIT(FH_HEADER_SRV) |
	      FILTER_HOOK_BIT(FH_DATA_CLI))))
		return ms->mp->filtered_relay(ms);
	return client_relay(cl, MAIL_RELAY_TIMEOUT_MS);
}

int mail_run(struct client *cl, const struct mail_proto *mp)
{
	struct mail_session *ms = calloc(1, sizeof(*ms));
	int rc, relaying = 0;

	if (ms == NULL)
		return ERR_NOMEM;
	ms->cl = cl;
	ms->mp = mp;
	ms->to_short = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	ms->to_long = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	rc = client_phase(ms);
	if (rc == MAIL_END)
		rc = 0;
	else if (rc == MAIL_LOGGED_IN)
		rc = server_phase(ms, &relaying);
	else if (rc == MAIL_STARTTLS) {
		/* the client now speaks TLS: no plain error reply fits */
		relaying = 1;
		rc = proto_tls_starttls(cl, mp->starttls);
	}
	/* the error reply only while the proxy still speaks for itself:
	 * once relaying, the stream belongs to the server */
	if (!relaying && ((rc >= 1 && rc <= 99) ||
			  (rc >= mp->deny_lo && rc <= 699) ||
			  (rc != 0 && rc == mp->err_filter_request)))
		mp->deny(ms, rc);
	free(ms->pending);
	wipe(ms, sizeof(*ms));
	free(ms);
	return rc;
}
