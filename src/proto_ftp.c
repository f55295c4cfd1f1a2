/*
 * proto_ftp.c - ftppr: the FTP proxy (F-FTP-01..05, services.md section 8).
 *
 * The client logs in with `USER [proxyuser:proxypass:]user@host[:port]`
 * (or names the server first with `OPEN host[:port]`); the proxy
 * authorizes and connects to the server on USER, logs in there on PASS
 * and then relays commands and replies.  Data connections are the
 * proxy's own on both sides: towards the client whatever the client
 * asked for (PASV/EPSV: a listener on the address the client reached;
 * PORT/EPRT: a connection to the client's own address), towards the
 * server always passive mode, each server data connection authorized
 * with operation FTP_DATA (F-FTP-04).  One access record at login, one
 * per transfer (F-FTP-05), one when the session ends.
 *
 * Owns: struct ftppr (one per connection) and its data sockets.  The
 * FTP wire work (replies, PASV parsing, login) is ftp_client.c, the
 * login text parser mailproxy.c, the data copy client_relay_pair.
 * Runs on the client's worker thread; no shared state, no locks.
 */
#include "ftp_client.h"
#include "ftp_data.h"
#include "mailproxy.h"
#include "net.h"
#include "auth.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "filter.h"
#include "service.h"
#include "sockio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ftppr result codes (logging.md section 7, 801-888) */
enum {
	FTPPR_GREETING_SEND = 801,
	FTPPR_LINE = 802,         /* short, failed or overlong client line */
	FTPPR_OPEN = 803,         /* OPEN argument not host[:port] */
	FTPPR_USER = 804,         /* USER without a host and no default */
	FTPPR_REPLY_SEND = 807,   /* a reply not sent to the client */
	FTPPR_NOT_LOGGED = 810,   /* command before the login */
	FTPPR_SRV_SEND = 811,     /* command not sent to the server */
	FTPPR_SRV_REPLY = 812,    /* server reply not read */
	FTPPR_LISTEN = 821,       /* PASV/EPSV listener not opened */
	FTPPR_SOCKNAME = 822,     /* its port unknown */
	FTPPR_PORT_CONNECT = 826, /* PORT/EPRT: client not reachable */
	FTPPR_BAD_PORT = 828,     /* PORT/EPRT argument malformed */
	FTPPR_NO_MODE = 829,      /* transfer without PASV/EPSV/PORT */
	FTPPR_XFER_SEND = 831,    /* "125" not sent to the client */
	FTPPR_ACCEPT_TIMEOUT = 857, /* client data connection not made */
	FTPPR_ACCEPT = 858,       /* accept() failed */
	/* filters (plugins.md 4.2) rejected: the login's user@host, a
	 * client command, a server reply, transfer data */
	FTPPR_FILTER_REQUEST = 877, FTPPR_FILTER_CMD = 878,
	FTPPR_FILTER_REPLY = 879, FTPPR_FILTER_DATA = 880
};

/* Step results besides error codes. */
enum { FTPPR_NEXT = -1000, FTPPR_END = -1001 };

/* Longest client command line, line end included (RFC 959 sets no
 * limit; paths of a few hundred bytes are plenty).  Longer is an error,
 * never cut. */
#define FTPPR_LINE_MAX 1024
#define FTPPR_PORT 21

enum ftppr_mode { MODE_NONE, MODE_PASSIVE, MODE_ACTIVE };

struct ftppr {
	struct client *cl;
	struct ftp_conn fc;           /* server control connection */
	struct mail_login login;      /* what USER (or OPEN) named */
	char open_host[MAIL_FIELD_MAX + 8]; /* OPEN's "host:port", or "" */
	char who[2 * MAIL_FIELD_MAX + 16]; /* %T of the login */
	int connected;                /* the server connection is up */
	int greeted;                  /* its greeting was read */
	int logged_in;
	enum ftppr_mode mode;
	os_sock_t data;               /* listener (passive) or connected
					 client data socket (active) */
	int to_cmd, to_long, to_connect;
	int filter_rc;                /* a reply filter rejected: its code */
	int open_code;                /* a multi-line reply the client has
					 seen start but not end, or 0 */
	char line[FTPPR_LINE_MAX];
};

/* Clear memory that held a password; volatile stores are not dropped. */
static void ftppr_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* ---- replies to the client ---------------------------------------------- */

static int ftppr_send(struct ftppr *fp, const char *text)
{
	return sockio_write_all(fp->cl->cl_sock, text, strlen(text),
				fp->to_cmd) == 0 ? 0 : FTPPR_REPLY_SEND;
}

/* Follow the multi-line replies sent to the client (RFC 959 4.2: they
 * end with "<same code> "), so that a refusal can close one first. */
static void ftppr_track_reply(struct ftppr *fp, const char *line, size_t len)
{
	int code = ftp_code_of(line, len);

	if (code < 0)
		return;
	if (fp->open_code == 0) {
		if (len > 3 && line[3] == '-')
			fp->open_code = code;
	} else if (code == fp->open_code && (len == 3 || line[3] == ' ')) {
		fp->open_code = 0;
	}
}

/* ftp_line_fn: one server reply line to the client, with CR LF. */
static int ftppr_fwd_line(void *arg, const char *line, size_t len)
{
	struct ftppr *fp = arg;
	os_sock_t s = fp->cl->cl_sock;
	struct filter_buf b;
	int rc = 0;

	/* srvheader filters see each reply line (without CR LF) */
	filter_buf_init(&b, (char *)line, len);
	if (fp->cl->filt != NULL &&
	    filter_run(fp->cl, FH_HEADER_SRV, &b) == FILTER_REJECT) {
		fp->filter_rc = FTPPR_FILTER_REPLY;
		rc = -1;
	}
	if (rc == 0 && (sockio_write_all(s, b.data, b.len, fp->to_cmd) != 0 ||
			sockio_write_all(s, "\r\n", 2, fp->to_cmd) != 0))
		rc = -1;
	if (rc == 0)
		ftppr_track_reply(fp, b.data, b.len);
	filter_buf_release(&b);
	return rc;
}

/* The proxy's own reply to PASV/EPSV/PORT/EPRT, through the srvheader
 * filters like the server's replies.  Returns FTPPR_NEXT or a code. */
static int ftppr_reply(struct ftppr *fp, const char *text)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (ftppr_fwd_line(fp, text, n) != 0)
		return fp->filter_rc != 0 ? fp->filter_rc : FTPPR_REPLY_SEND;
	return FTPPR_NEXT;
}

/* Send the reply already read into fc.reply (kept text, '\n'-joined).
 * Text cut to FTP_MAX_TEXT may lack the final "NNN " line of a
 * multi-line reply: one is added so the client sees where it ends. */
static int ftppr_send_kept(struct ftppr *fp)
{
	const struct ftp_reply *r = &fp->fc.reply;
	const char *p = r->text, *nl, *last = r->text;
	char end[16];

	while ((nl = strchr(p, '\n')) != NULL) {
		if (ftppr_fwd_line(fp, p, (size_t)(nl - p)) != 0)
			return fp->filter_rc ? fp->filter_rc : FTPPR_REPLY_SEND;
		p = nl + 1;
		last = p;
	}
	if (ftppr_fwd_line(fp, p, strlen(p)) != 0)
		return fp->filter_rc ? fp->filter_rc : FTPPR_REPLY_SEND;
	if (last != r->text && (strlen(last) < 4 || last[3] != ' ' ||
				atoi(last) != r->code)) {
		snprintf(end, sizeof(end), "%03d end\r\n", r->code);
		fp->open_code = 0;
		return ftppr_send(fp, end);
	}
	return 0;
}

/* Send a command line to the server and relay its whole reply. */
static int ftppr_forward(struct ftppr *fp, const char *line, size_t len)
{
	int rc;

	if (sockio_write_all(fp->fc.s, line, len, fp->to_cmd) != 0 ||
	    sockio_write_all(fp->fc.s, "\r\n", 2, fp->to_cmd) != 0)
		return FTPPR_SRV_SEND;
	rc = ftp_read_reply_fn(&fp->fc, ftppr_fwd_line, fp);
	if (fp->filter_rc != 0)
		return fp->filter_rc;
	if (rc == -2)
		return FTPPR_REPLY_SEND;
	return rc == 0 ? 0 : FTPPR_SRV_REPLY;
}

/* One access record now (the session goes on, so the one at its end is
 * still written). */
static void ftppr_record(struct ftppr *fp, const char *text, int err)
{
	client_set_text(fp->cl, text);
	client_log(fp->cl, err);
	fp->cl->logged = 0;
	/* the record at the end names the session again */
	if (fp->who[0] != '\0')
		client_set_text(fp->cl, fp->who);
}

/* ---- commands ----------------------------------------------------------- */

/* "CMD" or "CMD arg", case-insensitive: the argument ("" if none), or
 * NULL when line is another command. */
static const char *ftppr_arg(const char *line, const char *cmd)
{
	size_t n = strlen(cmd);

	if (!mail_prefix(line, cmd) || (line[n] != '\0' && line[n] != ' '))
		return NULL;
	return line[n] == ' ' ? line + n + 1 : line + n;
}

/* Authorize (CONNECT) and connect to the host in fp->login.  An
 * authorization failure closes the connection without a word
 * (services.md 8 item 4); a failed connect gets 421. */
static int ftppr_connect(struct ftppr *fp)
{
	struct client *cl = fp->cl;
	int rc;

	rc = mail_login_apply(cl, &fp->login);
	if (rc == 0)
		rc = client_authorize(cl);
	if (rc != 0)
		return rc;
	rc = client_connect(cl);
	if (rc != 0) {
		ftppr_send(fp, "421 Cannot connect to the server\r\n");
		return rc;
	}
	if (cl->redirect != NULL) {
		/* a local redirection: the stream goes to that parser */
		rc = client_relay(cl, svc_timeout_ms(cl->gen,
						     TO_CONNECTION_LONG));
		return rc == 0 ? FTPPR_END : rc;
	}
	fp->connected = 1;
	ftp_conn_init(&fp->fc, cl->srv_sock, fp->to_long);
	return 0;
}

/* OPEN host[:port] (F-FTP-02). */
static int ftppr_open(struct ftppr *fp, const char *arg)
{
	struct mail_login *lg = &fp->login;
	int rc;

	if (fp->connected)
		return ftppr_send(fp, "503 Already connected\r\n") ?
		       FTPPR_REPLY_SEND : FTPPR_NEXT;
	memset(lg, 0, sizeof(*lg));
	if (mail_host_parse(arg, strlen(arg), FTPPR_PORT, lg->host,
			    sizeof(lg->host), &lg->port) != 0) {
		ftppr_send(fp, "501 OPEN host[:port]\r\n");
		return FTPPR_OPEN;
	}
	snprintf(fp->open_host, sizeof(fp->open_host),
		 strchr(lg->host, ':') ? "[%s]:%u" : "%s:%u", lg->host,
		 (unsigned)lg->port);
	rc = ftppr_connect(fp);
	if (rc != 0)
		return rc;
	return ftppr_send(fp, "220 Ready\r\n") ? FTPPR_REPLY_SEND : FTPPR_NEXT;
}

/* USER [proxyuser:proxypass:]ftpuser[<delim>host[:port]] (F-FTP-01). */
static int ftppr_user(struct ftppr *fp, const char *arg)
{
	const struct svc_conf *sc = fp->cl->conf;
	const char *def = fp->open_host[0] ? fp->open_host : sc->default_host;
	char was[MAIL_FIELD_MAX];
	uint16_t was_port = fp->login.port;
	int rc;

	memcpy(was, fp->login.host, sizeof(was));
	if (*arg == '\0' && def != NULL && *def != '\0') {
		/* no user at all: anonymous at the default host */
		memset(&fp->login, 0, sizeof(fp->login));
		rc = mail_host_parse(def, strlen(def), FTPPR_PORT,
				     fp->login.host, sizeof(fp->login.host),
				     &fp->login.port);
	} else {
		rc = mail_login_parse(arg, strlen(arg),
				      auth_delimchar(fp->cl->gen),
				      sc->user_mode != 1, FTPPR_PORT, def,
				      &fp->login);
	}
	if (rc != 0) {
		ftppr_send(fp, "530 Need user@host\r\n");
		return FTPPR_USER;
	}
	if (fp->connected) {
		/* a second USER: the server stays the one connected */
		memcpy(fp->login.host, was, sizeof(was));
		fp->login.port = was_port;
	} else {
		rc = ftppr_connect(fp);
		if (rc != 0)
			return rc;
	}
	return ftppr_send(fp, "331 ok\r\n") ? FTPPR_REPLY_SEND : FTPPR_NEXT;
}

/* Run the filters of hook h over the string in buf (size max); a
 * change that fits replaces it.  Returns 0, or -1 when rejected. */
static int ftppr_filter_text(struct ftppr *fp, enum filter_hook h,
			     char *buf, size_t max)
{
	struct filter_buf b;
	int rc;

	if (fp->cl->filt == NULL)
		return 0;
	filter_buf_init(&b, buf, strlen(buf));
	rc = filter_run(fp->cl, h, &b);
	if (rc != FILTER_REJECT && b.owned != NULL) {
		size_t n = b.len < max - 1 ? b.len : max - 1;

		memmove(buf, b.data, n);
		buf[n] = '\0';
	}
	filter_buf_release(&b);
	return rc == FILTER_REJECT ? -1 : 0;
}

/* PASS: log in to the server for the client and relay its answer. */
static int ftppr_pass(struct ftppr *fp, const char *arg)
{
	const struct mail_login *lg = &fp->login;
	const char *user = lg->user[0] ? lg->user : "anonymous";
	const char *pass = lg->user[0] || *arg ? arg : "3proxy@";
	char *text = fp->who;
	size_t max = sizeof(fp->who);
	int rc, sent;

	if (!fp->connected)
		return FTPPR_NOT_LOGGED;
	if (lg->port == FTPPR_PORT)
		snprintf(text, max, "%s@%s", user, lg->host);
	else
		snprintf(text, max, "%s@%s:%u", user, lg->host,
			 (unsigned)lg->port);
	/* plugins.md 2.1: request filters see "user@host[:port]", before
	 * the password goes to a server the filters refuse */
	if (ftppr_filter_text(fp, FH_REQUEST, text, max) != 0) {
		client_set_text(fp->cl, text);
		return FTPPR_FILTER_REQUEST;
	}
	if (!fp->greeted) {
		rc = ftp_greeting(&fp->fc);
		if (rc == FTP_E_GREETING)
			ftppr_send_kept(fp);
		if (rc != 0)
			return rc;
		fp->greeted = 1;
	}
	rc = ftp_user_pass(&fp->fc, user, pass);
	if (rc == FTP_E_IO_USER || rc == FTP_E_IO_PASS)
		return rc;
	sent = ftppr_send_kept(fp);
	if (sent != 0)
		return sent;
	/* a refused login is recorded; the client may try again */
	ftppr_record(fp, fp->who, rc);
	fp->logged_in = rc == 0;
	return FTPPR_NEXT;
}

/* Before the login: OPEN, USER, PASS; anything else ends the session
 * (F-FTP-01; services.md 8 quirk: no 530 is sent). */
static int ftppr_before_login(struct ftppr *fp, const char *line)
{
	const char *arg;

	if ((arg = ftppr_arg(line, "OPEN")) != NULL)
		return ftppr_open(fp, arg);
	if ((arg = ftppr_arg(line, "USER")) != NULL)
		return ftppr_user(fp, arg);
	if ((arg = ftppr_arg(line, "PASS")) != NULL)
		return ftppr_pass(fp, arg);
	return FTPPR_NOT_LOGGED;
}

/* ---- client data connections (F-FTP-03) --------------------------------- */

static void ftppr_data_close(struct ftppr *fp)
{
	if (fp->data != OS_BADSOCK)
		os_sock_close(fp->data);
	fp->data = OS_BADSOCK;
	fp->mode = MODE_NONE;
}

/* PASV / EPSV: listen on the address the client connected to. */
static int ftppr_pasv(struct ftppr *fp, int epsv)
{
	struct client *cl = fp->cl;
	struct net_addr a = cl->cl_local;
	struct sockaddr_storage ss;
	os_socklen_t sl = (os_socklen_t)sizeof(ss);
	const uint8_t *ip = (const uint8_t *)"\177\0\0\1";
	char reply[64];
	const char *what;
	unsigned port;
	int err = 0;

	ftppr_data_close(fp);
	net_set_port(&a, 0);
	fp->data = net_listen(&a, SOCK_STREAM, 1, 0, 0, &err, &what);
	if (fp->data == OS_BADSOCK) {
		ftppr_send(fp, "425 Cannot open data connection\r\n");
		return FTPPR_LISTEN;
	}
	if (getsockname(fp->data, (struct sockaddr *)&ss, &sl) != 0) {
		ftppr_send(fp, "425 Cannot open data connection\r\n");
		return FTPPR_SOCKNAME;
	}
	net_from_sockaddr(&a, (struct sockaddr *)&ss, sl);
	port = net_get_port(&a);
	/* services.md 8 quirk: 127,0,0,1 in PASV replies to IPv6 clients */
	if (net_family(&a) == AF_INET)
		ip = (const uint8_t *)&((struct sockaddr_in *)&a.ss)->sin_addr;
	if (epsv)
		snprintf(reply, sizeof(reply), "229 OK (|||%u|)\r\n", port);
	else
		snprintf(reply, sizeof(reply), "227 OK (%u,%u,%u,%u,%u,%u)\r\n",
			 ip[0], ip[1], ip[2], ip[3], port >> 8, port & 255);
	fp->mode = MODE_PASSIVE;
	return ftppr_reply(fp, reply);
}

/* PORT / EPRT: connect from the client-side address to the client's own
 * IP and the given port; the address in the command is ignored, so
 * the proxy never connects to a third host for a client. */
static int ftppr_port(struct ftppr *fp, const char *arg, int eprt)
{
	struct client *cl = fp->cl;
	struct net_addr dst = cl->cl_peer, src = cl->cl_local;
	uint8_t ip[4];
	uint16_t port;
	int af, err = 0, bad;

	ftppr_data_close(fp);
	bad = eprt ? ftp_parse_eprt(arg, strlen(arg), &af, &port)
		   : ftp_parse_port(arg, strlen(arg), ip, &port);
	if (bad) {
		ftppr_send(fp, "501 Syntax error\r\n");
		return FTPPR_BAD_PORT;
	}
	net_set_port(&dst, port);
	net_set_port(&src, 0);
	fp->data = net_connect(&dst, &src, fp->to_connect, 0, 0, &err);
	if (fp->data == OS_BADSOCK) {
		ftppr_send(fp, "425 Cannot open data connection\r\n");
		return FTPPR_PORT_CONNECT;
	}
	fp->mode = MODE_ACTIVE;
	return ftppr_reply(fp, "200 OK\r\n");
}

/* Accept one connection on the passive data listener.  Only the client's
 * own host may take it: anyone else who finds the port is turned away
 * (closed) and the listener keeps waiting, so a stranger can neither
 * read a download nor inject an upload ("port stealing").  Returns 0
 * (*cs set), 1 (a stranger was turned away) or -1 (accept failed). */
static int ftppr_accept_client(struct ftppr *fp, os_sock_t *cs)
{
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);
	struct net_addr peer;

	*cs = accept(fp->data, (struct sockaddr *)&ss, &sl);
	if (*cs == OS_BADSOCK)
		return -1;
	net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
	if (net_same_host(&peer, &fp->cl->cl_peer))
		return 0;
	os_sock_close(*cs);
	*cs = OS_BADSOCK;
	return 1;
}

/* The client's data connection: accepted within STRING_LONG in passive
 * mode, already open in active mode.  Returns 0 and the socket in *cs. */
static int ftppr_client_data(struct ftppr *fp, os_sock_t *cs)
{
	uint64_t deadline = os_monotonic_ms() + (uint64_t)fp->to_long;
	os_pollfd_t p;
	int rc;

	if (fp->mode == MODE_ACTIVE) {
		*cs = fp->data;
		fp->data = OS_BADSOCK;
		return 0;
	}
	for (;;) {
		uint64_t now = os_monotonic_ms();

		if (now >= deadline)
			return FTPPR_ACCEPT_TIMEOUT;
		memset(&p, 0, sizeof(p));
		p.fd = fp->data;
		p.events = POLLIN;
		if (os_poll(&p, 1, (int)(deadline - now)) < 0 &&
		    !os_errno_is_intr(os_sock_errno()))
			return FTPPR_ACCEPT;
		if (p.revents == 0)
			continue;
		rc = ftppr_accept_client(fp, cs);
		if (rc == 0)
			return 0;
		if (rc < 0 && !os_errno_is_wouldblock(os_sock_errno()))
			return FTPPR_ACCEPT;
	}
}

/* ---- transfers --------------------------------------------------------- */

/* Open both data connections and start the command at the server. */
static int ftppr_xfer_open(struct ftppr *fp, const char *line, os_sock_t *cs,
			   os_sock_t *ss)
{
	char cmd[8];
	const char *sp = strchr(line, ' ');
	size_t n = sp ? (size_t)(sp - line) : strlen(line);
	int rc;

	if (n >= sizeof(cmd))
		return FTP_E_URL;
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	rc = ftppr_client_data(fp, cs);
	if (rc == 0)
		rc = ftp_data_open(fp->cl, &fp->fc, ss);
	if (rc == 0)
		rc = ftp_transfer_start(&fp->fc, cmd, sp ? sp + 1 : NULL);
	return rc;
}

/* clidata/srvdata filters (a pcre rule, a FilePlugin callback) refused
 * the transfer's data.  The server's data connection is reset, so that
 * a cut upload is not stored as a whole file; the client gets the
 * reason on the control connection (ftppr_refused).  The session ends
 * here, its record naming the transfer: the server's own final reply
 * would report a success. */
static int ftppr_data_rejected(struct ftppr *fp, const char *line,
			       os_sock_t cs, os_sock_t ss)
{
	net_abort(ss);
	os_sock_close(cs);
	client_set_text(fp->cl, line);
	return FTPPR_FILTER_DATA;
}

/* RETR, STOR, LIST ...: relay the data, then the server's final reply;
 * a transfer that cannot start gets 550 and the session goes on. */
static int ftppr_transfer(struct ftppr *fp, const char *line)
{
	struct client *cl = fp->cl;
	os_sock_t cs = OS_BADSOCK, ss = OS_BADSOCK;
	int rc, end, started;

	if (fp->mode == MODE_NONE) {
		ftppr_send(fp, "425 Use PASV or PORT first\r\n");
		return FTPPR_NO_MODE;
	}
	rc = ftppr_xfer_open(fp, line, &cs, &ss);
	started = rc == 0;
	ftppr_data_close(fp);
	if (rc == 0 && ftppr_send(fp, "125 data\r\n") != 0)
		rc = FTPPR_XFER_SEND;
	if (rc == 0)
		rc = client_relay_pair(cl, cs, ss, svc_timeout_ms(cl->gen,
						  TO_CONNECTION_SHORT));
	if (rc == ERR_FILTER)
		return ftppr_data_rejected(fp, line, cs, ss);
	if (cs != OS_BADSOCK)
		os_sock_close(cs);
	if (ss != OS_BADSOCK)
		os_sock_close(ss);
	if (started) {
		/* the server's final reply follows the closed connection */
		end = ftp_read_reply_fn(&fp->fc, ftppr_fwd_line, fp);
		if (fp->filter_rc != 0)
			return fp->filter_rc;
		if (end == -2)
			return FTPPR_REPLY_SEND;
		if (end != 0 && rc == 0)
			rc = FTP_E_XFER_END;
		else if (rc == 0 && fp->fc.reply.code / 100 != 2)
			rc = FTP_E_XFER_FAIL;
	} else if (ftppr_send(fp, "550 err\r\n") != 0) {
		return FTPPR_REPLY_SEND;
	}
	ftppr_record(fp, line, rc);
	return FTPPR_NEXT;
}

static int ftppr_is_transfer(const char *line)
{
	static const char *const cmds[] = {
		"RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (ftppr_arg(line, cmds[i]) != NULL)
			return 1;
	return 0;
}

/* After the login (services.md 8 item 3). */
static int ftppr_after_login(struct ftppr *fp, const char *line, size_t len)
{
	const char *arg;
	int rc;

	if (ftppr_arg(line, "PASV") != NULL)
		return ftppr_pasv(fp, 0);
	if (ftppr_arg(line, "EPSV") != NULL)
		return ftppr_pasv(fp, 1);
	if ((arg = ftppr_arg(line, "PORT")) != NULL)
		return ftppr_port(fp, arg, 0);
	if ((arg = ftppr_arg(line, "EPRT")) != NULL)
		return ftppr_port(fp, arg, 1);
	if (ftppr_is_transfer(line))
		return ftppr_transfer(fp, line);
	rc = ftppr_forward(fp, line, len);
	if (rc != 0)
		return rc;
	if (ftppr_arg(line, "QUIT") != NULL)
		return FTPPR_END;
	if (ftppr_arg(line, "CWD") != NULL)
		client_set_text(fp->cl, line);
	return FTPPR_NEXT;
}

/* ---- the session ------------------------------------------------------- */

/* One command line, CR LF removed, into fp->line with its length in
 * *len: 0, FTPPR_END when the client closed, or FTPPR_LINE. */
static int ftppr_getline(struct ftppr *fp, size_t *len)
{
	size_t n = 0;
	int rc = sockio_read_line(fp->cl->cl_sock, fp->line, sizeof(fp->line),
				  &n, fp->to_cmd);

	if (rc == SOCKIO_EOF)
		return FTPPR_END;
	if (rc == SOCKIO_TOOLONG) {
		ftppr_send(fp, "500 Line too long\r\n");
		return FTPPR_LINE;
	}
	if (rc < 0)
		return FTPPR_LINE;
	while (n > 0 && (fp->line[n - 1] == '\n' || fp->line[n - 1] == '\r'))
		fp->line[--n] = '\0';
	/* a NUL would cut the command short of what is relayed */
	if (memchr(fp->line, '\0', n) != NULL)
		return FTPPR_LINE;
	*len = n;
	/* 3proxy: a line under 4 bytes, LF included, ends the session */
	return n < 3 ? FTPPR_LINE : 0;
}

/* A filter refused the login (877), a command (878), a reply (879) or
 * a transfer (880): the session ends with "421 ... policy violation"
 * (plugins.md 5.4) instead of a silent close, so the client does not
 * just retry.  A multi-line reply the client saw start is closed first,
 * or the 421 would read as a line of it. */
static int ftppr_refused(struct ftppr *fp, int rc)
{
	static const char *const what[] = {
		"Login", "Command", "Reply", "Transfer"
	};
	char end[16];

	if (rc < FTPPR_FILTER_REQUEST || rc > FTPPR_FILTER_DATA)
		return rc;
	if (fp->open_code != 0) {
		snprintf(end, sizeof(end), "%03d cut\r\n", fp->open_code);
		(void)ftppr_send(fp, end);
	}
	(void)filter_refusal_send(fp->cl->cl_sock,
				  what[rc - FTPPR_FILTER_REQUEST], fp->to_cmd);
	return rc;
}

static int ftppr_run(struct ftppr *fp)
{
	size_t n = 0;
	int rc;

	if (ftppr_send(fp, "220 Ready\r\n") != 0)
		return FTPPR_GREETING_SEND;
	for (;;) {
		rc = ftppr_getline(fp, &n);
		if (rc != 0)
			return rc;
		if (fp->logged_in) {
			/* cliheader filters see the commands after login */
			if (ftppr_filter_text(fp, FH_HEADER_CLI, fp->line,
					      sizeof(fp->line)) != 0)
				return FTPPR_FILTER_CMD;
			rc = ftppr_after_login(fp, fp->line, strlen(fp->line));
		} else {
			rc = ftppr_before_login(fp, fp->line);
		}
		if (rc != FTPPR_NEXT)
			return rc;
	}
}

int proto_ftp_handle(struct client *cl);

int proto_ftp_handle(struct client *cl)
{
	struct ftppr *fp = calloc(1, sizeof(*fp));
	int rc;

	if (fp == NULL)
		return ERR_NOMEM;
	fp->cl = cl;
	fp->data = OS_BADSOCK;
	fp->to_cmd = svc_timeout_ms(cl->gen, TO_CONNECTION_SHORT);
	fp->to_long = svc_timeout_ms(cl->gen, TO_STRING_LONG);
	fp->to_connect = svc_timeout_ms(cl->gen, TO_CONNECT);
	rc = ftppr_refused(fp, ftppr_run(fp));
	if (rc == FTPPR_END)
		rc = 0;
	ftppr_data_close(fp);
	ftppr_wipe(fp, sizeof(*fp));   /* the password passed through */
	free(fp);
	return rc;
}
