/*
 * starttls.c - the plain-text STARTTLS prefix for tlspr (services.md
 * 9.3; F-TLSPR-04, F-MAIL-06): the -X dialogue with the client and the
 * STARTTLS negotiation with the server.
 *
 * Owns nothing beyond the call: lines are read into stack buffers with
 * the mail proxies' bounded line reader (mailproxy.c), which leaves the
 * bytes after a line queued, so the ClientHello that follows the
 * client's STARTTLS stays for tls_hello_parse.  Runs on the worker
 * thread; no locks.
 */
#include "starttls.h"
#include "client.h"
#include "errcode.h"
#include "mailproxy.h"
#include "net.h"
#include "service.h"
#include "sockio.h"

#include <stdio.h>
#include <string.h>

#define STARTTLS_TAG_MAX 63       /* as imapp (services.md 7 step 2) */
#define STARTTLS_LINES_MAX 64     /* lines of one server reply */

/* TLS alert handshake_failure (services.md 9.1 step 7). */
static const unsigned char starttls_alert[] = {
	0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28
};

/* ---- pure recognizers ------------------------------------------------- */

int starttls_proto_parse(const char *name)
{
	if (strcmp(name, "imap") == 0)
		return STARTTLS_IMAP;
	if (strcmp(name, "pop3") == 0)
		return STARTTLS_POP3;
	if (strcmp(name, "smtp") == 0)
		return STARTTLS_SMTP;
	return STARTTLS_NONE;
}

uint16_t starttls_default_port(int proto)
{
	switch (proto) {
	case STARTTLS_IMAP: return 143;
	case STARTTLS_POP3: return 110;
	case STARTTLS_SMTP: return 587;
	default: return 0;
	}
}

const char *starttls_greeting(int proto)
{
	switch (proto) {
	case STARTTLS_IMAP:
		return "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] "
		       "IMAP4rev1 Proxy Ready\r\n";
	case STARTTLS_POP3: return "+OK Proxy\r\n";
	case STARTTLS_SMTP: return "220 Proxy\r\n";
	default: return "";
	}
}

/* The word at s is `word`, followed by the end or a space. */
static int is_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	return mail_prefix(s, word) && (s[n] == '\0' || s[n] == ' ');
}

static int copy_reply(char *out, size_t cap, const char *text, int act)
{
	if (cap == 0 || strlen(text) >= cap)
		return STARTTLS_ACT_BAD;
	memcpy(out, text, strlen(text) + 1);
	return act;
}

static int imap_cmd(const char *line, char *out, size_t cap)
{
	const char *sp = strchr(line, ' ');
	const char *cmd, *pre = "", *post;
	size_t tl;
	int act = STARTTLS_ACT_REPLY, n;

	if (sp == NULL || sp == line ||
	    (tl = (size_t)(sp - line)) >= STARTTLS_TAG_MAX)
		return STARTTLS_ACT_BAD;
	cmd = sp + 1;
	if (is_word(cmd, "CAPABILITY")) {
		pre = "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n";
		post = " OK CAPABILITY completed\r\n";
	} else if (is_word(cmd, "LOGOUT")) {
		pre = "* BYE\r\n";
		post = " OK LOGOUT completed\r\n";
		act = STARTTLS_ACT_QUIT;
	} else if (is_word(cmd, "STARTTLS")) {
		post = " OK Begin TLS negotiation\r\n";
		act = STARTTLS_ACT_BEGIN;
	} else {
		post = " BAD need STARTTLS first\r\n";
	}
	n = snprintf(out, cap, "%s%.*s%s", pre, (int)tl, line, post);
	return n < 0 || (size_t)n >= cap ? STARTTLS_ACT_BAD : act;
}

static int pop3_cmd(const char *line, char *out, size_t cap)
{
	if (is_word(line, "CAPA"))
		return copy_reply(out, cap, "+OK Capability list follows\r\n"
				  "STLS\r\n.\r\n", STARTTLS_ACT_REPLY);
	if (is_word(line, "QUIT"))
		return copy_reply(out, cap, "+OK\r\n", STARTTLS_ACT_QUIT);
	if (is_word(line, "STLS"))
		return copy_reply(out, cap, "+OK Begin TLS negotiation\r\n",
				  STARTTLS_ACT_BEGIN);
	return copy_reply(out, cap, "-ERR need STLS first\r\n",
			  STARTTLS_ACT_REPLY);
}

static int smtp_cmd(const char *line, char *out, size_t cap)
{
	if (is_word(line, "EHLO"))
		return copy_reply(out, cap, "250-Proxy\r\n250 STARTTLS\r\n",
				  STARTTLS_ACT_REPLY);
	if (is_word(line, "HELO"))
		return copy_reply(out, cap, "250 Proxy\r\n",
				  STARTTLS_ACT_REPLY);
	if (is_word(line, "QUIT"))
		return copy_reply(out, cap, "221 Proxy\r\n", STARTTLS_ACT_QUIT);
	if (is_word(line, "STARTTLS"))
		return copy_reply(out, cap, "220 2.0.0 Ready to start TLS\r\n",
				  STARTTLS_ACT_BEGIN);
	return copy_reply(out, cap, "530 5.7.0 Must issue a STARTTLS "
			  "command first\r\n", STARTTLS_ACT_REPLY);
}

int starttls_client_cmd(int proto, const char *line, char *out, size_t cap)
{
	switch (proto) {
	case STARTTLS_IMAP: return imap_cmd(line, out, cap);
	case STARTTLS_POP3: return pop3_cmd(line, out, cap);
	case STARTTLS_SMTP: return smtp_cmd(line, out, cap);
	default: return STARTTLS_ACT_BAD;
	}
}

/* "ddd" followed by the end, a space or (more lines follow) a dash. */
static int smtp_code(const char *line, const char *code, int dash_ok)
{
	return strncmp(line, code, 3) == 0 &&
	       (line[3] == '\0' || line[3] == ' ' ||
		(dash_ok && line[3] == '-'));
}

int starttls_srv_greeting_ok(int proto, const char *line)
{
	switch (proto) {
	case STARTTLS_IMAP: return is_word(line, "* OK");
	case STARTTLS_POP3: return is_word(line, "+OK");
	case STARTTLS_SMTP: return smtp_code(line, "220", 1);
	default: return 0;
	}
}

/* STARTTLS as a whole word somewhere in s. */
static int has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if (mail_prefix(s, word) &&
		    (s[n] == '\0' || s[n] == ' ' || s[n] == ']'))
			return 1;
	return 0;
}

int starttls_srv_capa(int proto, const char *line)
{
	const char *c;

	switch (proto) {
	case STARTTLS_IMAP:
		c = strstr(line, "CAPABILITY ");
		if (c == NULL || !(mail_prefix(line, "* CAPABILITY ") ||
				   mail_prefix(line, "* OK [")))
			return 0;
		return has_word(c, " STARTTLS");
	case STARTTLS_POP3:
		return is_word(line, "STLS");
	case STARTTLS_SMTP:
		return (smtp_code(line, "250", 1)) && line[3] != '\0' &&
		       is_word(line + 4, "STARTTLS");
	default:
		return 0;
	}
}

int starttls_srv_last(int proto, const char *line, int first)
{
	switch (proto) {
	case STARTTLS_IMAP: return mail_prefix(line, "zz ");
	case STARTTLS_POP3:
		return (first && !is_word(line, "+OK")) ||
		       strcmp(line, ".") == 0;
	case STARTTLS_SMTP: return strlen(line) < 4 || line[3] != '-';
	default: return 1;
	}
}

int starttls_srv_go(int proto, const char *line)
{
	switch (proto) {
	case STARTTLS_IMAP: return is_word(line, "zz OK");
	case STARTTLS_POP3: return is_word(line, "+OK");
	case STARTTLS_SMTP: return smtp_code(line, "220", 0);
	default: return 0;
	}
}

/* ---- the client's plain phase (-X) ------------------------------------ */

int starttls_client(struct client *cl, int proto, int *quit)
{
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	char line[MAIL_LINE_MAX], reply[MAIL_LINE_MAX + 128];
	int i, n, act;

	*quit = 0;
	if (mail_send(cl->cl_sock, starttls_greeting(proto), tmo) != 0)
		return ERR_TLS_STARTTLS_CLIENT;
	for (i = 0; i < MAIL_CMDS_MAX; i++) {
		n = mail_getline(cl->cl_sock, line, sizeof(line), NULL, tmo);
		if (n < 0)
			return ERR_TLS_STARTTLS_CLIENT;
		act = starttls_client_cmd(proto, line, reply, sizeof(reply));
		if (act == STARTTLS_ACT_BAD) {
			mail_send(cl->cl_sock, "* BAD need STARTTLS first\r\n",
				  tmo);
			return ERR_TLS_STARTTLS_CLIENT;
		}
		if (mail_send(cl->cl_sock, reply, tmo) != 0)
			return ERR_TLS_STARTTLS_CLIENT;
		if (act == STARTTLS_ACT_QUIT)
			*quit = 1;
		if (act != STARTTLS_ACT_REPLY)
			return 0;
	}
	return ERR_TLS_STARTTLS_CLIENT;
}

/* ---- the server's STARTTLS ------------------------------------------- */

struct srv_io {
	struct client *cl;
	int proto;
	int to_short, to_long;
	char line[MAIL_SRV_LINE_MAX];
};

/* Read one reply (several lines when multi) into io->line, the last
 * line kept; *capa set if a line announces STARTTLS (capa may be NULL).
 * Returns 0, or -1 on a read failure or an endless reply. */
static int srv_reply(struct srv_io *io, int multi, int *capa)
{
	int i, n;

	for (i = 0; i < STARTTLS_LINES_MAX; i++) {
		n = mail_getline(io->cl->srv_sock, io->line, sizeof(io->line),
				 NULL, io->to_long);
		if (n < 0)
			return -1;
		if (capa != NULL && starttls_srv_capa(io->proto, io->line))
			*capa = 1;
		if (!multi || starttls_srv_last(io->proto, io->line, i == 0))
			return 0;
	}
	return -1;
}

/* Send cmd, read the reply.  Returns 0 or -1. */
static int srv_cmd(struct srv_io *io, const char *cmd, int multi, int *capa)
{
	if (mail_send(io->cl->srv_sock, cmd, io->to_short) != 0)
		return -1;
	return srv_reply(io, multi, capa);
}

/* Greeting and capabilities: 0, 361 or 362. */
static int srv_capabilities(struct srv_io *io)
{
	char ehlo[80], ext[64];
	int capa = 0;

	if (mail_getline(io->cl->srv_sock, io->line, sizeof(io->line), NULL,
			 io->to_long) < 0 ||
	    !starttls_srv_greeting_ok(io->proto, io->line))
		return ERR_TLS_STARTTLS_GREETING;
	switch (io->proto) {
	case STARTTLS_IMAP:
		if (starttls_srv_capa(io->proto, io->line))
			return 0;
		if (srv_cmd(io, "zz CAPABILITY\r\n", 1, &capa) != 0 ||
		    !starttls_srv_go(io->proto, io->line))
			return ERR_TLS_STARTTLS_CAPA;
		break;
	case STARTTLS_POP3:
		if (srv_cmd(io, "CAPA\r\n", 1, &capa) != 0)
			return ERR_TLS_STARTTLS_CAPA;
		break;
	default:
		/* the rest of a multi-line 220 greeting */
		if (io->line[3] == '-' && srv_reply(io, 1, NULL) != 0)
			return ERR_TLS_STARTTLS_GREETING;
		net_addr_str(&io->cl->srv_local, ext, sizeof(ext));
		snprintf(ehlo, sizeof(ehlo), "EHLO [%s]\r\n", ext);
		if (srv_cmd(io, ehlo, 1, &capa) != 0)
			return ERR_TLS_STARTTLS_CAPA;
		break;
	}
	return capa ? 0 : ERR_TLS_STARTTLS_CAPA;
}

static int srv_negotiate(struct srv_io *io)
{
	static const char *const cmd[] = {
		"", "zz STARTTLS\r\n", "STLS\r\n", "STARTTLS\r\n"
	};
	int rc = srv_capabilities(io);

	if (rc != 0)
		return rc;
	if (srv_cmd(io, cmd[io->proto], io->proto != STARTTLS_POP3, NULL) ||
	    !starttls_srv_go(io->proto, io->line))
		return ERR_TLS_STARTTLS_REFUSED;
	return 0;
}

int starttls_server(struct client *cl, int proto)
{
	struct srv_io io;
	int rc;

	if (proto <= STARTTLS_NONE || proto > STARTTLS_SMTP)
		return ERR_TLS_STARTTLS_REFUSED;
	memset(&io, 0, sizeof(io));
	io.cl = cl;
	io.proto = proto;
	io.to_short = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	io.to_long = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	rc = srv_negotiate(&io);
	if (rc != 0)
		sockio_write_all(cl->cl_sock, starttls_alert,
				 sizeof(starttls_alert), io.to_short);
	return rc;
}
