/*
 * proto_pop3.c - pop3p: POP3 proxy (F-MAIL-01, services.md section 5).
 *
 * The client logs in with `USER [proxyuser:proxypass:]user@host[:port]`;
 * the proxy connects to host (default port 110), checks the greeting,
 * sends `USER user` and relays the rest (the server's answer to USER,
 * PASS and the mailbox session).  The session skeleton is mailproxy.c.
 *
 * CAPA announces STLS and STLS hands the session to tlspr in POP3 mode
 * (services.md 9.3, F-MAIL-06), unless -x.
 */
#include "mailproxy.h"
#include "client.h"
#include "starttls.h"

#include <string.h>

/* POP3 result codes (logging.md section 7, 611-623) */
enum {
	POP3_ERR_GREETING_SEND = 611,
	POP3_ERR_LINE = 612,           /* short, failed or overlong line */
	POP3_ERR_NOT_USER = 614,
	POP3_ERR_LOGIN = 615,          /* no host in the USER argument */
	POP3_ERR_SRV_SHORT = 621,
	POP3_ERR_SRV_GREETING = 622,   /* not +OK, or another proxy */
	POP3_ERR_SRV_USER = 623
};

static int pop3_command(struct mail_session *ms, char *line, size_t len,
			size_t raw)
{
	os_sock_t s = ms->cl->cl_sock;

	(void)len;
	/* 3proxy: a line of 4 bytes or less (line end included) ends the
	 * dialogue */
	if (raw <= 4)
		return POP3_ERR_LINE;
	if (!mail_prefix(line, "USER")) {
		if (mail_prefix(line, "QUIT")) {
			mail_send(s, "+OK\r\n", ms->to_short);
			return MAIL_END;
		}
		if (mail_starttls_enabled(ms) && mail_prefix(line, "CAPA"))
			return mail_send(s, "+OK Capability list follows\r\n"
					    "STLS\r\n.\r\n", ms->to_short)
				   ? POP3_ERR_LINE : MAIL_NEXT;
		if (mail_starttls_enabled(ms) && mail_prefix(line, "STLS"))
			return mail_send(s, "+OK Begin TLS negotiation\r\n",
					 ms->to_short)
				   ? POP3_ERR_LINE : MAIL_STARTTLS;
		if (mail_send(s, "-ERR need USER first\r\n", ms->to_short))
			return POP3_ERR_LINE;
		return MAIL_NEXT;
	}
	if (raw < 6)
		return POP3_ERR_LINE;
	if (!mail_prefix(line, "USER "))
		return POP3_ERR_NOT_USER;
	if (mail_session_login(ms, line + 5, strlen(line + 5)) != 0)
		return POP3_ERR_LOGIN;
	return MAIL_LOGGED_IN;
}

static int pop3_server_login(struct mail_session *ms)
{
	os_sock_t srv = ms->cl->srv_sock;
	int n;

	n = mail_getline(srv, ms->sline, sizeof(ms->sline), NULL, ms->to_long);
	if (n < 3)
		return POP3_ERR_SRV_SHORT;
	/* "+OK Proxy" would be ourselves (or another 3proxy): a loop */
	if (!mail_prefix(ms->sline, "+OK") ||
	    (n >= 9 && mail_prefix(ms->sline + 4, "PROXY")))
		return POP3_ERR_SRV_GREETING;
	if (mail_sendf(srv, ms->to_short, "USER %s\r\n", ms->login.user))
		return POP3_ERR_SRV_USER;
	return 0;
}

static void pop3_deny(struct mail_session *ms, int err)
{
	(void)err;
	mail_send(ms->cl->cl_sock, "-ERR\r\n", ms->to_short);
}

static const struct mail_proto pop3 = {
	.greeting = "+OK Proxy\r\n",
	.starttls = STARTTLS_POP3,
	.port = 110,
	.err_greeting = POP3_ERR_GREETING_SEND,
	.err_line = POP3_ERR_LINE,
	.deny_lo = POP3_ERR_LINE,
	.command = pop3_command,
	.server_login = pop3_server_login,
	.deny = pop3_deny,
};

int proto_pop3_handle(struct client *cl);

int proto_pop3_handle(struct client *cl)
{
	return mail_run(cl, &pop3);
}
