/*
 * proto_imap.c - imapp: IMAP4rev1 proxy (F-MAIL-03, services.md
 * section 7).
 *
 * The client logs in (LOGIN, AUTHENTICATE PLAIN or AUTHENTICATE LOGIN,
 * RFC 3501 6.2) as `[proxyuser:proxypass:]user@host[:port]`; the proxy
 * connects to host (default 143), reads the server's capabilities, logs
 * in there as `user` with the client's tag and the best method the
 * server offers, and relays the rest, so the server's tagged answer to
 * the login reaches the client.
 *
 * The greeting and CAPABILITY announce STARTTLS, and STARTTLS hands the
 * session to tlspr in IMAP mode (services.md 9.3, F-MAIL-06), unless -x.
 */
#include "mailproxy.h"
#include "client.h"
#include "starttls.h"

#include <string.h>

/* IMAP result codes (logging.md section 7, 691-699) */
enum {
	IMAP_ERR_GREETING_SEND = 691,
	IMAP_ERR_LINE = 692,          /* short/overlong line, no tag */
	IMAP_ERR_CRED = 693,          /* credentials too long or malformed */
	IMAP_ERR_LOGIN = 694,         /* no user@host */
	IMAP_ERR_SRV_SHORT = 695,
	IMAP_ERR_SRV_GREETING = 696,  /* not "* OK" */
	IMAP_ERR_SRV_CAPA = 697,      /* capability query failed */
	IMAP_ERR_SRV_SEND = 698,      /* login could not be sent */
	IMAP_ERR_SRV_AUTH = 699       /* AUTHENTICATE not accepted */
};

#define IMAP_TAG_MAX 63
#define IMAP_CAPA_LINES_MAX 64
/* login methods, of the client and towards the server */
enum { M_LOGINCMD, M_PLAIN, M_LOGIN };
#define SRV_PLAIN 1
#define SRV_LOGIN 2

/* ---- client side ------------------------------------------------------------- */

/* One astring (RFC 3501 9): an atom or a "quoted" string with \\ and \"
 * escapes.  Literals ({n}) are not taken.  Advances *p. */
static int astring(const char **p, char *out, size_t max)
{
	const char *s = *p;
	size_t n = 0;
	int quoted = *s == '"';

	s += quoted;
	while (*s && (quoted ? *s != '"' : *s != ' ')) {
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		if (n + 1 >= max)
			return -1;
		out[n++] = *s++;
	}
	if (quoted && *s++ != '"')
		return -1;
	if (n == 0 && !quoted)
		return -1;
	out[n] = '\0';
	*p = s;
	return 0;
}

static int take_cred(struct mail_session *ms, const char *user,
		     const char *pass, int method)
{
	const char *c;

	/* a CR, LF or NUL could not be sent on to the server */
	for (c = pass; *c; c++)
		if (*c == '\r' || *c == '\n')
			return IMAP_ERR_CRED;
	if (strlen(pass) >= sizeof(ms->password))
		return IMAP_ERR_CRED;
	if (mail_session_login(ms, user, strlen(user)) != 0)
		return IMAP_ERR_LOGIN;
	memcpy(ms->password, pass, strlen(pass) + 1);
	/* no embedded proxy password: the IMAP one serves the proxy too */
	if (ms->login.proxy_pass[0] == '\0') {
		memcpy(ms->login.proxy_pass, pass, strlen(pass) + 1);
		ms->login.proxy_cred = 1;
	}
	ms->method = method;
	ms->authed = 1;
	return MAIL_LOGGED_IN;
}

static int imap_login_cmd(struct mail_session *ms, const char *args)
{
	char user[MAIL_FIELD_MAX], pass[MAIL_FIELD_MAX];
	int rc;

	if (astring(&args, user, sizeof(user)) || *args++ != ' ' ||
	    astring(&args, pass, sizeof(pass)) || *args != '\0')
		return IMAP_ERR_CRED;
	rc = take_cred(ms, user, pass, M_LOGINCMD);
	memset(pass, 0, sizeof(pass));
	return rc;
}

/* A continuation request, then one base64 line. */
static int cont_b64(struct mail_session *ms, const char *prompt, char *out,
		    size_t max)
{
	os_sock_t s = ms->cl->cl_sock;
	int n;

	if (mail_send(s, prompt, ms->to_short))
		return -1;
	n = mail_getline(s, ms->line, sizeof(ms->line), NULL, ms->to_short);
	if (n < 0)
		return -1;
	return mail_b64_decode(ms->line, (size_t)n, out, max);
}

/* AUTHENTICATE PLAIN [b64]: "[authzid]\0user\0password" (RFC 4616) */
static int imap_auth_plain(struct mail_session *ms, const char *arg)
{
	char dec[2 * MAIL_FIELD_MAX + 2];
	const char *user, *pass;
	size_t az, ul;
	int n, rc;

	n = *arg ? mail_b64_decode(arg, strlen(arg), dec, sizeof(dec))
		 : cont_b64(ms, "+ \r\n", dec, sizeof(dec));
	if (n < 2)
		return IMAP_ERR_CRED;
	az = strlen(dec);
	if (az + 1 >= (size_t)n)
		return IMAP_ERR_CRED;
	user = dec + az + 1;
	ul = strlen(user);
	if (az + ul + 2 > (size_t)n)
		return IMAP_ERR_CRED;
	pass = user + ul + 1;
	if (strlen(user) >= MAIL_FIELD_MAX)
		return IMAP_ERR_CRED;
	rc = take_cred(ms, user, pass, M_PLAIN);
	memset(dec, 0, sizeof(dec));
	return rc;
}

/* AUTHENTICATE LOGIN [b64 user]: "+ Username:", "+ Password:" */
static int imap_auth_login(struct mail_session *ms, const char *arg)
{
	char user[MAIL_FIELD_MAX], pass[MAIL_FIELD_MAX];
	int rc;

	if (*arg)
		rc = mail_b64_decode(arg, strlen(arg), user, sizeof(user));
	else
		rc = cont_b64(ms, "+ VXNlcm5hbWU6\r\n", user, sizeof(user));
	if (rc < 0 ||
	    cont_b64(ms, "+ UGFzc3dvcmQ6\r\n", pass, sizeof(pass)) < 0)
		return IMAP_ERR_CRED;
	rc = take_cred(ms, user, pass, M_LOGIN);
	memset(pass, 0, sizeof(pass));
	return rc;
}

/* "<tag> <command> [args]" */
static int imap_command(struct mail_session *ms, char *line, size_t len,
			size_t raw)
{
	os_sock_t s = ms->cl->cl_sock;
	const char *sp = strchr(line, ' ');
	const char *cmd;
	size_t tl;

	(void)raw;
	if (len < 4 || sp == NULL || sp == line ||
	    (tl = (size_t)(sp - line)) >= IMAP_TAG_MAX)
		return IMAP_ERR_LINE;
	memcpy(ms->tag, line, tl);
	ms->tag[tl] = '\0';
	cmd = sp + 1;
	if (mail_prefix(cmd, "LOGOUT")) {
		mail_sendf(s, ms->to_short, "* BYE\r\n%s OK LOGOUT completed\r\n",
			   ms->tag);
		return MAIL_END;
	}
	if (mail_prefix(cmd, "CAPABILITY"))
		return mail_sendf(s, ms->to_short,
				  "* CAPABILITY IMAP4rev1%s AUTH=PLAIN "
				  "AUTH=LOGIN\r\n%s OK CAPABILITY completed\r\n",
				  mail_starttls_enabled(ms) ? " STARTTLS" : "",
				  ms->tag)
			   ? IMAP_ERR_LINE : MAIL_NEXT;
	if (mail_starttls_enabled(ms) && mail_prefix(cmd, "STARTTLS") &&
	    cmd[8] == '\0')
		return mail_sendf(s, ms->to_short,
				  "%s OK Begin TLS negotiation\r\n", ms->tag)
			   ? IMAP_ERR_LINE : MAIL_STARTTLS;
	if (mail_prefix(cmd, "LOGIN "))
		return imap_login_cmd(ms, cmd + 6);
	if (mail_prefix(cmd, "AUTHENTICATE PLAIN") &&
	    (cmd[18] == '\0' || cmd[18] == ' '))
		return imap_auth_plain(ms, cmd[18] ? cmd + 19 : "");
	if (mail_prefix(cmd, "AUTHENTICATE LOGIN") &&
	    (cmd[18] == '\0' || cmd[18] == ' '))
		return imap_auth_login(ms, cmd[18] ? cmd + 19 : "");
	return mail_sendf(s, ms->to_short, "%s BAD need LOGIN first\r\n",
			  ms->tag)
		   ? IMAP_ERR_LINE : MAIL_NEXT;
}

/* ---- server side ------------------------------------------------------------- */

static int capa_scan(const char *line)
{
	return (mail_contains(line, "AUTH=PLAIN") ? SRV_PLAIN : 0) |
	       (mail_contains(line, "AUTH=LOGIN") ? SRV_LOGIN : 0);
}

/* The server's AUTH= mechanisms: from the greeting's [CAPABILITY ...]
 * or from a CAPABILITY command. */
static int imap_capabilities(struct mail_session *ms, int *mech)
{
	os_sock_t srv = ms->cl->srv_sock;
	int n, i;

	n = mail_getline(srv, ms->sline, sizeof(ms->sline), NULL, ms->to_long);
	if (n < 4)
		return IMAP_ERR_SRV_SHORT;
	if (!mail_prefix(ms->sline, "* OK"))
		return IMAP_ERR_SRV_GREETING;
	if (mail_contains(ms->sline, "[CAPABILITY ")) {
		*mech = capa_scan(ms->sline);
		return 0;
	}
	if (mail_send(srv, "zz CAPABILITY\r\n", ms->to_short))
		return IMAP_ERR_SRV_CAPA;
	for (i = 0; i < IMAP_CAPA_LINES_MAX; i++) {
		n = mail_getline(srv, ms->sline, sizeof(ms->sline), NULL,
				 ms->to_long);
		if (n < 0)
			return IMAP_ERR_SRV_CAPA;
		if (mail_prefix(ms->sline, "* CAPABILITY "))
			*mech = capa_scan(ms->sline);
		if (mail_prefix(ms->sline, "zz "))
			return mail_prefix(ms->sline, "zz OK")
				   ? 0 : IMAP_ERR_SRV_CAPA;
	}
	return IMAP_ERR_SRV_CAPA;
}

/* The client's method if the server has it, else the other AUTH
 * mechanism, else the LOGIN command (services.md 7 step 5). */
static int pick_method(int client, int mech)
{
	if (client == M_LOGIN && (mech & SRV_LOGIN))
		return M_LOGIN;
	if (mech & SRV_PLAIN)
		return M_PLAIN;
	if (mech & SRV_LOGIN)
		return M_LOGIN;
	return M_LOGINCMD;
}

/* Wait for the server's "+" continuation. */
static int srv_cont(struct mail_session *ms)
{
	int n = mail_getline(ms->cl->srv_sock, ms->sline, sizeof(ms->sline),
			     NULL, ms->to_long);

	return n >= 1 && ms->sline[0] == '+' ? 0 : -1;
}

/* A quoted string (RFC 3501 9 quoted) of s into out. */
static void quote(const char *s, char *out)
{
	*out++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*out++ = '\\';
		*out++ = *s;
	}
	*out++ = '"';
	*out = '\0';
}

static int imap_send_login(struct mail_session *ms, int method)
{
	os_sock_t srv = ms->cl->srv_sock;
	const char *user = ms->login.user, *pass = ms->password;
	char qu[2 * MAIL_FIELD_MAX + 3], qp[2 * MAIL_FIELD_MAX + 3];
	char plain[2 * MAIL_FIELD_MAX + 2];
	size_t ul = strlen(user), pl = strlen(pass);
	int rc;

	if (method == M_LOGINCMD) {
		quote(user, qu);
		quote(pass, qp);
		rc = mail_sendf(srv, ms->to_short, "%s LOGIN %s %s\r\n", ms->tag,
				qu, qp);
		memset(qp, 0, sizeof(qp));
		return rc ? IMAP_ERR_SRV_SEND : 0;
	}
	if (mail_sendf(srv, ms->to_short, "%s AUTHENTICATE %s\r\n", ms->tag,
		       method == M_PLAIN ? "PLAIN" : "LOGIN"))
		return IMAP_ERR_SRV_SEND;
	if (srv_cont(ms))
		return IMAP_ERR_SRV_AUTH;
	if (method == M_LOGIN) {
		if (mail_send_b64(srv, user, ul, ms->to_short))
			return IMAP_ERR_SRV_SEND;
		if (srv_cont(ms))
			return IMAP_ERR_SRV_AUTH;
		return mail_send_b64(srv, pass, pl, ms->to_short)
			   ? IMAP_ERR_SRV_SEND : 0;
	}
	plain[0] = '\0';
	memcpy(plain + 1, user, ul + 1);
	memcpy(plain + ul + 2, pass, pl);
	rc = mail_send_b64(srv, plain, ul + pl + 2, ms->to_short);
	memset(plain, 0, sizeof(plain));
	return rc ? IMAP_ERR_SRV_SEND : 0;
}

static int imap_server_login(struct mail_session *ms)
{
	int mech = 0, rc;

	rc = imap_capabilities(ms, &mech);
	if (rc != 0)
		return rc;
	return imap_send_login(ms, pick_method(ms->method, mech));
}

static void imap_deny(struct mail_session *ms, int err)
{
	(void)err;
	mail_sendf(ms->cl->cl_sock, ms->to_short, "%s NO proxy error\r\n",
		   ms->tag[0] ? ms->tag : "*");
}

static const struct mail_proto imap = {
	.greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] "
		    "IMAP4rev1 Proxy Ready\r\n",
	.greeting_tls = "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN "
			"AUTH=LOGIN] IMAP4rev1 Proxy Ready\r\n",
	.starttls = STARTTLS_IMAP,
	.port = 143,
	.err_greeting = IMAP_ERR_GREETING_SEND,
	.err_line = IMAP_ERR_LINE,
	.deny_lo = IMAP_ERR_LINE,
	.command = imap_command,
	.server_login = imap_server_login,
	.deny = imap_deny,
};

int proto_imap_handle(struct client *cl);

int proto_imap_handle(struct client *cl)
{
	return mail_run(cl, &imap);
}
