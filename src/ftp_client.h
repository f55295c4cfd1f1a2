/*
 * ftp_client.h - the client side of FTP (RFC 959, RFC 2428) for the
 * services that talk to FTP servers: `proxy` for ftp:// URLs, and the
 * FTP proxy `ftppr`.
 *
 * Two layers: pure parsers (reply lines, PASV/EPSV replies, `ls -l`
 * listing lines) that take (buf, len) and touch no socket, and a small
 * control-connection API (login, CWD, TYPE, passive mode, transfers)
 * over one connected socket with sockio's bounded, timed reads.  Data
 * connections are opened by the caller (it authorizes them first), so
 * this module never connects anywhere itself.
 *
 * No shared state: each struct ftp_conn belongs to one worker thread.
 */
#ifndef PX_FTP_CLIENT_H
#define PX_FTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

/* %E codes of the FTP client side (logging.md section 7). */
enum ftp_err {
	FTP_E_LOGIN = 700,         /* USER refused */
	FTP_E_PASS = 701,          /* PASS refused */
	FTP_E_GREETING = 702,      /* greeting not 2xx */
	FTP_E_IO_GREETING = 703,   /* greeting not read */
	FTP_E_IO_USER = 704,       /* USER not sent / no reply */
	FTP_E_IO_PASS = 705,       /* PASS not sent / no reply */
	FTP_E_CWD_IO = 710,        /* CWD not sent / no reply */
	FTP_E_CWD = 711,           /* CWD refused */
	FTP_E_TYPE_IO = 740,       /* TYPE not sent / no reply */
	FTP_E_TYPE = 741,          /* TYPE refused */
	FTP_E_REPLY = 750,         /* malformed reply */
	FTP_E_PASV_IO = 751,       /* PASV/EPSV not sent / no reply */
	FTP_E_PASV = 752,          /* passive mode refused or unparsable */
	FTP_E_XFER_IO = 753,       /* transfer command not sent / no reply */
	FTP_E_XFER_END = 754,      /* no final reply after a transfer */
	FTP_E_XFER_FAIL = 755,     /* transfer ended with an error reply */
	FTP_E_DATA = 780,          /* no data connection / file not found */
	FTP_E_LIST_SEND = 781,     /* listing not sent to the client */
	FTP_E_URL = 799            /* malformed URL / path */
};

#define FTP_MAX_LINE 2048          /* one reply line */
#define FTP_MAX_TEXT 2048          /* reply text kept for messages */

/* ---- pure parsers ------------------------------------------------------ */

/* A reply being assembled line by line (RFC 959 section 4.2). */
struct ftp_reply {
	int code;                  /* 3-digit code, 0 until the first line */
	int multi;                 /* inside a "123-" multi-line reply */
	size_t textlen;
	char text[FTP_MAX_TEXT];   /* the lines, '\n'-joined, cut to fit */
};

enum { FTP_REPLY_MORE = 0, FTP_REPLY_DONE = 1, FTP_REPLY_BAD = -1 };

void ftp_reply_init(struct ftp_reply *r);
/* The code of an FTP reply line line[0..len) (no NUL needed): its three
 * digits followed by nothing, ' ' or '-'; -1 when it is none. */
int ftp_code_of(const char *line, size_t len);
/* Feed one line without its line end.  Returns FTP_REPLY_DONE when the
 * reply is complete (r->code set), FTP_REPLY_MORE, or FTP_REPLY_BAD
 * when the first line does not start with a 3-digit code. */
int ftp_reply_line(struct ftp_reply *r, const char *line, size_t len);

/* "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)": 0 and the address,
 * or -1.  The parentheses are optional, as servers vary. */
int ftp_parse_pasv(const char *text, size_t len, uint8_t ip[4],
		   uint16_t *port);
/* "229 Entering Extended Passive Mode (|||port|)": 0 and the port, -1. */
int ftp_parse_epsv(const char *text, size_t len, uint16_t *port);
/* The argument of a client's PORT command, "h1,h2,h3,h4,p1,p2" (RFC 959
 * section 4.1.2; blanks around it allowed): 0 and the address, or -1
 * (six numbers 0..255 and a non-zero port are required). */
int ftp_parse_port(const char *arg, size_t len, uint8_t ip[4],
		   uint16_t *port);
/* The argument of EPRT, "<d>af<d>addr<d>port<d>" (RFC 2428 section 2):
 * 0 with the port and the family (1 IPv4, 2 IPv6), or -1.  The address
 * is checked for its characters only: the proxy connects to the
 * client's own address anyway. */
int ftp_parse_eprt(const char *arg, size_t len, int *af, uint16_t *port);

/* One line of a Unix `ls -l` style LIST reply. */
struct ftp_list_entry {
	char type;                 /* 'd' directory, 'l' link, '-' file */
	const char *name;          /* links: without " -> target" */
	size_t namelen;
	const char *size;
	size_t sizelen;
	const char *date;          /* "Mon DD HH:MM" or "Mon DD  YYYY" */
	size_t datelen;
};
/* 0 when the line has the 9-column form, else -1 (e.g. "total 12"). */
int ftp_parse_list_line(const char *line, size_t len,
			struct ftp_list_entry *e);

/* ---- control connection ----------------------------------------------------- */

struct ftp_conn {
	os_sock_t s;               /* connected control socket (not owned) */
	int timeout_ms;            /* for each reply (STRING_LONG) */
	struct ftp_reply reply;    /* the last reply */
	char line[FTP_MAX_LINE];
};

void ftp_conn_init(struct ftp_conn *fc, os_sock_t s, int timeout_ms);
/* Read one complete reply into fc->reply.  0, or -1 on I/O failure,
 * timeout or a malformed reply. */
int ftp_read_reply(struct ftp_conn *fc);
/* Called with each line of a reply as it is read (line end removed);
 * a non-zero return stops the reading. */
typedef int (*ftp_line_fn)(void *arg, const char *line, size_t len);
/* ftp_read_reply, handing every line to fn as well (ftppr relays the
 * server's replies whole, however many lines they have).  0, -1 as
 * ftp_read_reply, or -2 when fn refused a line. */
int ftp_read_reply_fn(struct ftp_conn *fc, ftp_line_fn fn, void *arg);
/* Send "CMD[ arg]\r\n" and read the reply.  An arg holding CR, LF or
 * NUL is refused (-2) so no second command can be smuggled in. */
int ftp_command(struct ftp_conn *fc, const char *cmd, const char *arg);

/* Greeting, USER, PASS (on 3xx).  0 or FTP_E_{GREETING,LOGIN,PASS,IO_*}. */
int ftp_login(struct ftp_conn *fc, const char *user, const char *pass);
/* The two halves of ftp_login, for a client that may retry its password
 * on the same connection: the greeting (0, FTP_E_IO_GREETING or
 * FTP_E_GREETING), then USER and PASS (0 or FTP_E_{LOGIN,PASS,IO_*});
 * fc->reply holds the last reply either way. */
int ftp_greeting(struct ftp_conn *fc);
int ftp_user_pass(struct ftp_conn *fc, const char *user, const char *pass);
/* CWD: 0 (2xx), FTP_E_CWD (refused) or FTP_E_CWD_IO. */
int ftp_cwd(struct ftp_conn *fc, const char *path);
/* TYPE I or TYPE A: 0, FTP_E_TYPE or FTP_E_TYPE_IO. */
int ftp_type(struct ftp_conn *fc, char type);
/* Passive mode: EPSV first on IPv6 control connections, else PASV
 * (falling back to the other).  The data address is the control
 * connection's peer with the port the server gave (the address in a
 * PASV reply is not trusted: no FTP bounce).  0, FTP_E_PASV(_IO). */
int ftp_passive(struct ftp_conn *fc, const struct net_addr *peer,
		struct net_addr *data);
/* Send a transfer command (RETR, LIST, STOR ...) after the data
 * connection is open; 0 on a 1xx reply, FTP_E_DATA when refused,
 * FTP_E_XFER_IO on I/O failure. */
int ftp_transfer_start(struct ftp_conn *fc, const char *cmd,
		       const char *arg);
/* After the data connection is closed: the final reply must be 2xx.
 * 0, FTP_E_XFER_FAIL or FTP_E_XFER_END. */
int ftp_transfer_end(struct ftp_conn *fc);
/* SIZE: the size, or -1 if the server does not tell. */
int64_t ftp_size(struct ftp_conn *fc, const char *path);
/* QUIT without waiting long for the answer. */
void ftp_quit(struct ftp_conn *fc);

#endif
