/*
 * mailproxy.h - what pop3p, smtpp and imapp share (F-MAIL-01..03).
 *
 * The three mail proxies have the same shape: greet the client, read
 * its commands until it logs in as `user<delim>host[:port]`, authorize
 * and connect to that host, log in there for the client, then relay.
 * This module owns that shape (mail_run), the pure login parser, the
 * bounded line reader and the reply writers; proto_pop3.c,
 * proto_smtp.c and proto_imap.c supply only their protocol's steps
 * through a struct mail_proto.
 *
 * Everything here runs on the client's worker thread; no locks.
 */
#ifndef PX_MAILPROXY_H
#define PX_MAILPROXY_H

#include <stddef.h>
#include <stdint.h>
#include "os.h"

struct client;

/* Longest client line, line end included; a longer line is an error,
 * never cut.  Server lines (greetings, capability lists) may be longer. */
#define MAIL_LINE_MAX 1024
#define MAIL_SRV_LINE_MAX 2048
/* Longest user name, password or host (3proxy's 320-byte buffers). */
#define MAIL_FIELD_MAX 320
/* Commands a client may send before it logs in. */
#define MAIL_CMDS_MAX 64
/* Relay inactivity timeout after the login (services.md 5-7). */
#define MAIL_RELAY_TIMEOUT_MS 180000

/* ---- login parsing (pure) ------------------------------------------- */

/* [proxyuser:proxypass:]user<delim>host[:port] (F-CFG-12 delimchar). */
struct mail_login {
	char user[MAIL_FIELD_MAX];        /* server-side user */
	char host[MAIL_FIELD_MAX];        /* destination, no brackets */
	uint16_t port;
	int proxy_cred;                   /* a proxy user/pass prefix came */
	char proxy_user[MAIL_FIELD_MAX];  /* "" if none or empty */
	char proxy_pass[MAIL_FIELD_MAX];
};

enum mail_login_result {
	MAIL_LOGIN_OK = 0,
	MAIL_LOGIN_EMPTY = -1,     /* no user at all */
	MAIL_LOGIN_NOHOST = -2,    /* no delimiter and no default host */
	MAIL_LOGIN_BADHOST = -3,   /* empty host, bad brackets or port */
	MAIL_LOGIN_TOOLONG = -4    /* a field of MAIL_FIELD_MAX or more */
};

/* Parse the n bytes at s.  The host follows the LAST delim (so
 * "a@b@host" is user "a@b"); "[v6]:port" and a bare IPv6 literal are
 * accepted; without a port defport is used.  With no delim the host
 * comes from default_host ("host[:port]", may be NULL).  proxy_cred: a
 * "proxyuser:proxypass:" prefix is split off (off with -u).
 * Returns a mail_login_result; out is always initialised. */
int mail_login_parse(const char *s, size_t n, int delim, int proxy_cred,
		     uint16_t defport, const char *default_host,
		     struct mail_login *out);

/* Parse "host[:port]", "[v6][:port]" or a bare IPv6 literal into
 * host/port (defport when none).  Returns 0 or MAIL_LOGIN_BADHOST /
 * MAIL_LOGIN_TOOLONG. */
int mail_host_parse(const char *s, size_t n, uint16_t defport, char *host,
		    size_t hostmax, uint16_t *port);

/* Make lg the request of cl: destination host/port, operation CONNECT,
 * %T "user@host:port", and a proxyuser:proxypass: prefix as the
 * credentials the ACL sees (an empty field keeps what is known).
 * Returns 0 or ERR_NOMEM.  Shared with ftppr. */
int mail_login_apply(struct client *cl, const struct mail_login *lg);

/* ---- line I/O ---------------------------------------------------------- */

enum mail_io_result {
	MAIL_IO_FAIL = -1,         /* EOF, socket error or timeout */
	MAIL_IO_TOOLONG = -2       /* no line end within max - 1 bytes */
};

/* Read one line into buf (max bytes) and strip its CR LF.  Returns the
 * stripped length (>= 0) with *raw (may be NULL) set to the length read,
 * line end included, or a mail_io_result. */
int mail_getline(os_sock_t s, char *buf, size_t max, size_t *raw,
		 int timeout_ms);
/* Write a NUL-terminated text.  Returns 0 or -1. */
int mail_send(os_sock_t s, const char *text, int timeout_ms);
/* Write a formatted text of at most MAIL_SRV_LINE_MAX - 1 bytes (longer
 * is refused, not cut).  Returns 0 or -1. */
int mail_sendf(os_sock_t s, int timeout_ms, const char *fmt, ...)
	PX_PRINTF(3, 4);

/* ---- base64 for SASL (RFC 4648) ---------------------------------------- */

/* Decode n chars at in into out (NUL-terminated; outmax bytes).  Returns
 * the decoded length or -1 if malformed or too long. */
int mail_b64_decode(const char *in, size_t n, char *out, size_t outmax);
/* Send b64(data) + CR LF.  Returns 0 or -1. */
int mail_send_b64(os_sock_t s, const void *data, size_t n, int timeout_ms);

/* ---- the session --------------------------------------------------------- */

struct mail_session;

/* What a command handler tells the driver. */
enum mail_step {
	MAIL_NEXT = -1000,     /* read the next command */
	MAIL_LOGGED_IN,        /* ms->login is complete: connect */
	MAIL_END,              /* the client said goodbye: end with 0 */
	MAIL_STARTTLS          /* the client was told to start TLS: hand
				  the session to tlspr (services.md 9.3) */
};

struct mail_proto {
	const char *greeting;      /* sent first */
	const char *greeting_tls;  /* instead, when STARTTLS is enabled */
	int starttls;              /* enum starttls_proto of the hand-off */
	uint16_t port;             /* default destination port */
	int err_greeting;          /* code when the greeting cannot be sent */
	int err_line;              /* code for a failed or overlong line */
	int deny_lo;               /* codes deny_lo..699 and 1..99 get the
				      protocol's error reply */
	/* One client line (CR LF stripped; raw = bytes read).  Returns a
	 * mail_step or an error code. */
	int (*command)(struct mail_session *ms, char *line, size_t len,
		       size_t raw);
	/* Connected: check the server's greeting and log in for the client.
	 * Returns 0 or an error code. */
	int (*server_login)(struct mail_session *ms);
	/* The protocol's error reply for code err (also err_filter_request). */
	void (*deny)(struct mail_session *ms, int err);
	/* Optional: the relay when header or data filters are attached
	 * (filter.h); NULL = the plain relay in every case. */
	int (*filtered_relay)(struct mail_session *ms);
	/* Code for a request filter rejecting the target host; 0 = no
	 * request filters for this protocol. */
	int err_filter_request;
};

/* Per-connection state, on the heap (worker stacks are small). */
struct mail_session {
	struct client *cl;
	const struct mail_proto *mp;
	struct mail_login login;
	char password[MAIL_FIELD_MAX];   /* server-side password (wiped) */
	char tag[64];                    /* IMAP tag of the login, or "" */
	int method;                      /* protocol's login method */
	int authed;                      /* the client sent credentials */
	char *pending;                   /* SMTP: command to replay */
	int to_short, to_long;           /* STRING_SHORT / STRING_LONG ms */
	char line[MAIL_LINE_MAX];        /* client lines */
	char sline[MAIL_SRV_LINE_MAX];   /* server lines */
};

/* Run a mail proxy session on cl with the protocol mp: the handler body
 * of pop3p, smtpp and imapp.  Returns 0 or an errcode.h / protocol
 * code for client_finish. */
int mail_run(struct client *cl, const struct mail_proto *mp);

/* STARTTLS/STLS is offered and handed to tlspr (F-MAIL-06): unless -x. */
int mail_starttls_enabled(const struct mail_session *ms);

/* Parse login text of len bytes for ms with the service's delimchar,
 * -u and -h.  Returns 0 or a mail_login_result. */
int mail_session_login(struct mail_session *ms, const char *s, size_t len);

/* Case-insensitive: does s (NUL-terminated) start with word? */
int mail_prefix(const char *s, const char *word);
/* Case-insensitive substring search in s. */
int mail_contains(const char *s, const char *word);

#endif
