/*
 * proto_smtp.c - smtpp: SMTP proxy (F-MAIL-02, services.md section 6).
 *
 * The client authenticates to the proxy (AUTH LOGIN or AUTH PLAIN,
 * RFC 4954) as `[proxyuser:proxypass:]user@host[:port]`; the proxy
 * connects to host (default 587), says EHLO, authenticates there as
 * `user` with the client's password and relays the rest, so the server's
 * answer to the authentication reaches the client.  With -h a client
 * that does not authenticate goes to the default host: its first other
 * command is replayed to the server after EHLO.
 *
 * EHLO announces STARTTLS and STARTTLS hands the session to tlspr in
 * SMTP mode (services.md 9.3, F-MAIL-06), unless -x.
 */
#include "mailproxy.h"
#include "client.h"
#include "errcode.h"
#include "filter.h"
#include "iolayer.h"
#include "net.h"
#include "service.h"
#include "sockio.h"
#include "starttls.h"

#include <stdlib.h>
#include <string.h>

/* SMTP result codes (logging.md section 7: 617, 662-683) */
enum {
	SMTP_ERR_GREETING_SEND = 617,
	SMTP_ERR_FILTER_REQUEST = 617, /* a request filter rejected */
	SMTP_ERR_LINE = 662,          /* short, failed or overlong line */
	SMTP_ERR_LOGIN_USER = 663,    /* AUTH LOGIN: user step failed */
	SMTP_ERR_LOGIN_USER64 = 664,  /* AUTH LOGIN: bad base64 user */
	SMTP_ERR_LOGIN_PASS = 665,    /* AUTH LOGIN: password step failed */
	SMTP_ERR_LOGIN_PASS64 = 666,  /* AUTH LOGIN: bad base64 password */
	SMTP_ERR_PLAIN = 667,         /* AUTH PLAIN: missing or malformed */
	SMTP_ERR_CRED = 668,          /* authzid given, or no user@host */
	SMTP_ERR_SRV_SHORT = 671,
	SMTP_ERR_SRV_GREETING = 672,  /* not 220, or another proxy */
	SMTP_ERR_SRV_EHLO = 673,      /* EHLO not sent or not accepted */
	SMTP_ERR_SRV_AUTH = 680,      /* AUTH not accepted */
	SMTP_ERR_SRV_USER = 681,      /* AUTH LOGIN user not accepted */
	SMTP_ERR_SRV_PASS = 682,      /* password could not be sent */
	SMTP_ERR_SRV_CMD = 683,       /* remembered command not sent */
	SMTP_ERR_FILTER_CLIENT = 676, /* a command or message line rejected */
	SMTP_ERR_FILTER_SERVER = 677  /* a server reply line rejected */
};

#define SMTP_REPLY_LINES_MAX 64   /* lines of one multi-line reply */
#define SRV_LOGIN 1               /* server mechanisms seen in EHLO */
#define SRV_PLAIN 2

/* ---- client side ------------------------------------------------------------- */

/* Read one base64 answer to a 334 challenge into out. */
static int read_b64(struct mail_session *ms, const char *challenge,
		    char *out, size_t max)
{
	os_sock_t s = ms->cl->cl_sock;
	int n;

	if (mail_send(s, challenge, ms->to_short))
		return -1;
	n = mail_getline(s, ms->line, sizeof(ms->line), NULL, ms->to_short);
	if (n < 0)
		return -1;
	return mail_b64_decode(ms->line, (size_t)n, out, max) < 0 ? -2 : 0;
}

/* user, password: the credentials the client gave (user is the login
 * text with the host). */
static int take_cred(struct mail_session *ms, const char *user,
		     const char *pass)
{
	if (mail_session_login(ms, user, strlen(user)) != 0 ||
	    strlen(pass) >= sizeof(ms->password))
		return SMTP_ERR_CRED;
	memcpy(ms->password, pass, strlen(pass) + 1);
	ms->authed = 1;
	return MAIL_LOGGED_IN;
}

/* AUTH LOGIN [b64 user]: 334 Username:, 334 Password: */
static int smtp_auth_login(struct mail_session *ms, const char *arg)
{
	char user[MAIL_FIELD_MAX], pass[MAIL_FIELD_MAX];
	int rc;

	if (*arg) {
		if (mail_b64_decode(arg, strlen(arg), user, sizeof(user)) < 0)
			return SMTP_ERR_LOGIN_USER64;
	} else {
		rc = read_b64(ms, "334 VXNlcm5hbWU6\r\n", user, sizeof(user));
		if (rc != 0)
			return rc == -1 ? SMTP_ERR_LOGIN_USER
					: SMTP_ERR_LOGIN_USER64;
	}
	rc = read_b64(ms, "334 UGFzc3dvcmQ6\r\n", pass, sizeof(pass));
	if (rc != 0)
		return rc == -1 ? SMTP_ERR_LOGIN_PASS : SMTP_ERR_LOGIN_PASS64;
	rc = take_cred(ms, user, pass);
	memset(pass, 0, sizeof(pass));
	return rc;
}

/* AUTH PLAIN [b64]: "\0user\0password" (RFC 4616), empty authzid. */
static int smtp_auth_plain(struct mail_session *ms, const char *arg)
{
	char dec[2 * MAIL_FIELD_MAX + 2];
	const char *user, *pass;
	int n, rc;

	if (*arg) {
		n = mail_b64_decode(arg, strlen(arg), dec, sizeof(dec));
	} else {
		rc = read_b64(ms, "334 \r\n", dec, sizeof(dec));
		n = rc == 0 ? 0 : -1;
		if (rc == 0)
			n = mail_b64_decode(ms->line, strlen(ms->line), dec,
					    sizeof(dec));
	}
	if (n < 2)
		return SMTP_ERR_PLAIN;
	if (dec[0] != '\0')
		return SMTP_ERR_CRED;
	user = dec + 1;
	if (strlen(user) + 1 >= (size_t)n)
		return SMTP_ERR_PLAIN;
	pass = user + strlen(user) + 1;
	rc = take_cred(ms, user, pass);
	memset(dec, 0, sizeof(dec));
	return rc;
}

/* Any other command: with -h it goes to the default host untouched. */
static int smtp_other(struct mail_session *ms, const char *line)
{
	size_t n = strlen(line);

	if (ms->cl->conf->default_host == NULL) {
		if (mail_send(ms->cl->cl_sock, "571 need AUTH first\r\n",
			      ms->to_short))
			return SMTP_ERR_LINE;
		return MAIL_NEXT;
	}
	memset(&ms->login, 0, sizeof(ms->login));
	if (mail_host_parse(ms->cl->conf->default_host,
			    strlen(ms->cl->conf->default_host), ms->mp->port,
			    ms->login.host, sizeof(ms->login.host),
			    &ms->login.port) != 0)
		return SMTP_ERR_CRED;
	ms->pending = malloc(n + 3);
	if (ms->pending == NULL)
		return ERR_NOMEM;
	memcpy(ms->pending, line, n);
	memcpy(ms->pending + n, "\r\n", 3);
	return MAIL_LOGGED_IN;
}

static int smtp_command(struct mail_session *ms, char *line, size_t len,
			size_t raw)
{
	os_sock_t s = ms->cl->cl_sock;

	(void)len;
	if (raw <= 4)
		return SMTP_ERR_LINE;
	if (mail_prefix(line, "QUIT")) {
		mail_send(s, "221 Proxy\r\n", ms->to_short);
		return MAIL_END;
	}
	if (mail_prefix(line, "HELO"))
		return mail_send(s, "250 Proxy\r\n", ms->to_short)
			   ? SMTP_ERR_LINE : MAIL_NEXT;
	if (mail_prefix(line, "EHLO"))
		return mail_sendf(s, ms->to_short, "250-Proxy\r\n"
				  "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n"
				  "%s250 DSN\r\n", mail_starttls_enabled(ms)
				  ? "250-STARTTLS\r\n" : "")
			   ? SMTP_ERR_LINE : MAIL_NEXT;
	if (mail_starttls_enabled(ms) && mail_prefix(line, "STARTTLS") &&
	    line[8] == '\0')
		return mail_send(s, "220 2.0.0 Ready to start TLS\r\n",
				 ms->to_short)
			   ? SMTP_ERR_LINE : MAIL_STARTTLS;
	if (mail_prefix(line, "AUTH LOGIN") &&
	    (line[10] == '\0' || line[10] == ' '))
		return smtp_auth_login(ms, line[10] ? line + 11 : "");
	if (mail_prefix(line, "AUTH PLAIN") &&
	    (line[10] == '\0' || line[10] == ' '))
		return smtp_auth_plain(ms, line[10] ? line + 11 : "");
	return smtp_other(ms, line);
}

/* ---- server side ------------------------------------------------------------- */

/* Read a (multi-line) reply; returns its code or -1.  *mech collects the
 * AUTH mechanisms named in it (may be NULL). */
static int read_reply(struct mail_session *ms, int *mech)
{
	os_sock_t srv = ms->cl->srv_sock;
	int n, i, code = -1;

	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
		n = mail_getline(srv, ms->sline, sizeof(ms->sline), NULL,
				 ms->to_long);
		if (n < 3)
			return -1;
		if (i == 0)
			code = atoi(ms->sline);
		if (mech != NULL && mail_contains(ms->sline, "LOGIN"))
			*mech |= SRV_LOGIN;
		if (mech != NULL && mail_contains(ms->sline, "PLAIN"))
			*mech |= SRV_PLAIN;
		if (n == 3 || ms->sline[3] != '-')
			return code;
	}
	return -1;
}

static int smtp_greeting_ehlo(struct mail_session *ms, int *mech)
{
	struct client *cl = ms->cl;
	char ext[64];
	int code;

	code = read_reply(ms, NULL);
	if (code < 0)
		return SMTP_ERR_SRV_SHORT;
	if (code != 220 || (strlen(ms->sline) >= 9 &&
			    mail_prefix(ms->sline + 4, "PROXY")))
		return SMTP_ERR_SRV_GREETING;
	net_addr_str(&cl->srv_local, ext, sizeof(ext));
	if (mail_sendf(cl->srv_sock, ms->to_short, "EHLO [%s]\r\n", ext) ||
	    read_reply(ms, mech) != 250)
		return SMTP_ERR_SRV_EHLO;
	return 0;
}

static int smtp_server_auth(struct mail_session *ms, int mech)
{
	os_sock_t srv = ms->cl->srv_sock;
	const char *user = ms->login.user, *pass = ms->password;
	char plain[2 * MAIL_FIELD_MAX + 2];
	size_t ul = strlen(user), pl = strlen(pass);
	int rc;

	if (mech & SRV_LOGIN) {
		if (mail_send(srv, "AUTH LOGIN\r\n", ms->to_short) ||
		    read_reply(ms, NULL) != 334)
			return SMTP_ERR_SRV_AUTH;
		if (mail_send_b64(srv, user, ul, ms->to_short) ||
		    read_reply(ms, NULL) != 334)
			return SMTP_ERR_SRV_USER;
		return mail_send_b64(srv, pass, pl, ms->to_short)
			   ? SMTP_ERR_SRV_PASS : 0;
	}
	plain[0] = '\0';
	memcpy(plain + 1, user, ul + 1);
	memcpy(plain + ul + 2, pass, pl);
	rc = mail_send(srv, "AUTH PLAIN ", ms->to_short) ||
	     mail_send_b64(srv, plain, ul + pl + 2, ms->to_short);
	memset(plain, 0, sizeof(plain));
	return rc ? SMTP_ERR_SRV_PASS : 0;
}

static int smtp_server_login(struct mail_session *ms)
{
	int mech = 0, rc;

	rc = smtp_greeting_ehlo(ms, &mech);
	if (rc != 0)
		return rc;
	if (ms->authed) {
		/* [quirk] nothing to log in with: let the client go on */
		if (ms->login.user[0] == '\0' || ms->password[0] == '\0' ||
		    mech == 0)
			return mail_send(ms->cl->cl_sock, "235 auth required\r\n",
					 ms->to_short)
				   ? SMTP_ERR_SRV_AUTH : 0;
		return smtp_server_auth(ms, mech);
	}
	if (ms->pending != NULL &&
	    mail_send(ms->cl->srv_sock, ms->pending, ms->to_short))
		return SMTP_ERR_SRV_CMD;
	return 0;
}

/* ---- relay under filters (services.md 6 item 8) -------------------------
 * With client-header, client-data or server-header filters the session
 * is relayed line by line: MAIL, RCPT, STARTTLS and TURN commands pass
 * the cliheader filters, message lines (between a 354 reply and the
 * final ".") the clidata filters, and server reply lines the srvheader
 * filters.  After STARTTLS or TURN the stream is no longer SMTP text
 * the proxy can read: the plain relay takes over.
 *
 * A refusal ends the session with 421 to the client (plugins.md 5.4)
 * and abandons the server's transaction: the server never gets the
 * "." of a refused message, so it delivers nothing. */

#define SMTP_FLINE_MAX 8192

struct smtp_side {
	os_sock_t from, to;
	char buf[SMTP_FLINE_MAX];
	size_t len;
};

struct smtp_frelay {
	struct mail_session *ms;
	struct smtp_side cli, srv;
	int data_next;       /* DATA sent: a 354 starts the message */
	int in_data;         /* message lines until "." */
	int plain_next;      /* STARTTLS/TURN sent: plain relay next */
};

/* The "." line that ends a message (RFC 5321 4.1.1.4). */
static int smtp_is_end(const char *line, size_t n)
{
	return (n == 3 && memcmp(line, ".\r\n", 3) == 0) ||
	       (n == 2 && memcmp(line, ".\n", 2) == 0);
}

/* One line (terminator included, n bytes) from the client. */
static int smtp_fclient_line(struct smtp_frelay *fr, char *line, size_t n)
{
	static const char *const hdr[] = { "MAIL", "RCPT", "STARTTLS", "TURN" };
	struct client *cl = fr->ms->cl;
	enum filter_hook h = FH_COUNT;
	struct filter_buf b;
	size_t i;
	int rc = 0;

	if (fr->in_data) {
		if (smtp_is_end(line, n))
			fr->in_data = 0;
		else
			h = FH_DATA_CLI;
	} else {
		for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
			if (mail_prefix(line, hdr[i]))
				h = FH_HEADER_CLI;
		fr->data_next = mail_prefix(line, "DATA");
		fr->plain_next = mail_prefix(line, "STARTTLS") ||
				 mail_prefix(line, "TURN");
	}
	filter_buf_init(&b, line, n);
	if (h != FH_COUNT && filter_run(cl, h, &b) == FILTER_REJECT)
		rc = SMTP_ERR_FILTER_CLIENT;
	else if (sockio_write_all(fr->cli.to, b.data, b.len,
				  MAIL_RELAY_TIMEOUT_MS) != 0)
		rc = ERR_RELAY_SERVER;
	filter_buf_release(&b);
	return rc;
}

/* One reply line (terminator included) from the server. */
static int smtp_fserver_line(struct smtp_frelay *fr, char *line, size_t n)
{
	struct filter_buf b;
	int rc = 0, last = n < 4 || line[3] != '-';

	if (last && fr->data_next) {
		fr->in_data = n >= 3 && memcmp(line, "354", 3) == 0;
		fr->data_next = 0;
	}
	filter_buf_init(&b, line, n);
	if (filter_run(fr->ms->cl, FH_HEADER_SRV, &b) == FILTER_REJECT)
		rc = SMTP_ERR_FILTER_SERVER;
	else if (sockio_write_all(fr->srv.to, b.data, b.len,
				  MAIL_RELAY_TIMEOUT_MS) != 0)
		rc = ERR_RELAY_CLIENT;
	filter_buf_release(&b);
	return rc;
}

/* Hand every complete line of side s to fn (a full buffer without a line
 * end counts as a line). */
static int smtp_fdrain(struct smtp_frelay *fr, struct smtp_side *s,
		       int (*fn)(struct smtp_frelay *, char *, size_t))
{
	char *nl;
	size_t n;
	int rc;

	while (s->len > 0) {
		nl = memchr(s->buf, '\n', s->len);
		if (nl == NULL && s->len < sizeof(s->buf))
			return 0;
		n = nl != NULL ? (size_t)(nl - s->buf) + 1 : s->len;
		rc = fn(fr, s->buf, n);
		if (rc != 0)
			return rc;
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
	}
	return 0;
}

static int smtp_fread(struct smtp_side *s, int eof_code)
{
	int n = sockio_read_some(s->from, s->buf + s->len,
				 sizeof(s->buf) - s->len, 0);

	if (n > 0) {
		s->len += (size_t)n;
		return 0;
	}
	if (n == SOCKIO_TIMEOUT)
		return 0;
	return n == SOCKIO_EOF ? eof_code : ERR_RELAY_BOTH;
}

/* smtp_fdrain line function while a refused message is dropped: 1 at
 * its "." line. */
static int smtp_fskip_line(struct smtp_frelay *fr, char *line, size_t n)
{
	(void)fr;
	return smtp_is_end(line, n);
}

/* A client sends the whole message before it reads a reply: the rest of
 * a refused message is read and dropped up to its "." (within the relay
 * timeout), so that the client is reading when the 421 comes.  Returns
 * 0 at the ".", -1 when the client left or took too long. */
static int smtp_fskip_message(struct smtp_frelay *fr)
{
	struct smtp_side *s = &fr->cli;
	uint64_t deadline = os_monotonic_ms() + MAIL_RELAY_TIMEOUT_MS;
	uint64_t now;
	int n;

	for (;;) {
		if (smtp_fdrain(fr, s, smtp_fskip_line) == 1)
			return 0;
		now = os_monotonic_ms();
		if (now >= deadline)
			return -1;
		n = sockio_read_some(s->from, s->buf + s->len,
				     sizeof(s->buf) - s->len,
				     (int)(deadline - now));
		if (n <= 0)
			return -1;
		s->len += (size_t)n;
	}
}

/* A filter refused a client line (rc SMTP_ERR_FILTER_CLIENT) or a server
 * reply line.  While the server reads message text a QUIT would be text
 * too: its connection is reset instead, and a server drops a message
 * whose "." never came (RFC 5321 3.8).  Otherwise a QUIT ends its
 * open transaction. */
static void smtp_frefuse(struct smtp_frelay *fr, int rc)
{
	struct client *cl = fr->ms->cl;
	int to = fr->ms->to_short;
	const char *what = "Reply";

	if (fr->in_data || fr->data_next) {
		net_reset_on_close(cl->srv_sock);
		iolayer_close(cl->srv_sock);
		cl->srv_sock = OS_BADSOCK;
	} else {
		(void)mail_send(cl->srv_sock, "QUIT\r\n", to);
	}
	if (rc == SMTP_ERR_FILTER_CLIENT) {
		what = fr->in_data ? "Message" : "Command";
		if (fr->in_data && smtp_fskip_message(fr) != 0)
			return;
	}
	(void)filter_refusal_send(cl->cl_sock, what, to);
}

static int smtp_filtered_relay(struct mail_session *ms)
{
	struct client *cl = ms->cl;
	struct smtp_frelay *fr = calloc(1, sizeof(*fr));
	os_pollfd_t pf[2];
	int rc = 0, n = 0;

	if (fr == NULL)
		return ERR_NOMEM;
	fr->ms = ms;
	fr->cli.from = fr->srv.to = cl->cl_sock;
	fr->cli.to = fr->srv.from = cl->srv_sock;
	while (rc == 0 && !(fr->plain_next && fr->srv.len == 0)) {
		pf[0].fd = cl->cl_sock;
		pf[1].fd = cl->srv_sock;
		pf[0].events = pf[1].events = POLLIN;
		pf[0].revents = pf[1].revents = 0;
		n = os_poll(pf, 2, MAIL_RELAY_TIMEOUT_MS);
		if (n == 0)
			rc = ERR_RELAY_TIMEOUT;
		if (n <= 0)
			break;
		if (pf[1].revents != 0)
			rc = smtp_fread(&fr->srv, ERR_RELAY_SRV_DONE);
		if (rc == 0)
			rc = smtp_fdrain(fr, &fr->srv, smtp_fserver_line);
		if (rc == 0 && pf[0].revents != 0 && !fr->plain_next)
			rc = smtp_fread(&fr->cli, ERR_RELAY_CLI_DONE);
		if (rc == 0)
			rc = smtp_fdrain(fr, &fr->cli, smtp_fclient_line);
	}
	if (n < 0 && rc == 0)
		rc = ERR_RELAY_POLL;
	if (rc == SMTP_ERR_FILTER_CLIENT || rc == SMTP_ERR_FILTER_SERVER)
		smtp_frefuse(fr, rc);
	n = fr->plain_next && rc == 0;
	free(fr);
	if (rc == ERR_RELAY_SRV_DONE || rc == ERR_RELAY_CLI_DONE)
		rc = 0;
	return n ? client_relay(cl, MAIL_RELAY_TIMEOUT_MS) : rc;
}

static void smtp_deny(struct mail_session *ms, int err)
{
	/* SMTP_ERR_FILTER_REQUEST: the target host was refused (the code
	 * is the greeting's too, but then the client is gone anyway) */
	if (err == SMTP_ERR_FILTER_REQUEST)
		(void)filter_refusal_send(ms->cl->cl_sock, "Request",
					  ms->to_short);
	else
		mail_send(ms->cl->cl_sock, "571 \r\n", ms->to_short);
}

static const struct mail_proto smtp = {
	.greeting = "220 Proxy\r\n",
	.starttls = STARTTLS_SMTP,
	.port = 587,
	.err_greeting = SMTP_ERR_GREETING_SEND,
	.err_line = SMTP_ERR_LINE,
	.deny_lo = SMTP_ERR_LINE,
	.command = smtp_command,
	.server_login = smtp_server_login,
	.filtered_relay = smtp_filtered_relay,
	.err_filter_request = SMTP_ERR_FILTER_REQUEST,
	.deny = smtp_deny,
};

int proto_smtp_handle(struct client *cl);

int proto_smtp_handle(struct client *cl)
{
	return mail_run(cl, &smtp);
}
