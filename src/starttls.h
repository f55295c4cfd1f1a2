/*
 * starttls.h - the plain-text prefix of STARTTLS sessions for tlspr
 * (services.md 9.3; F-TLSPR-04, F-MAIL-06).
 *
 * tlspr -Ximap/-Xpop3/-Xsmtp first plays a minimal IMAP, POP3 or SMTP
 * server to the client until it asks for STARTTLS, and after connecting
 * makes the real server start TLS, so that the client's ClientHello can
 * be read and forwarded as in plain tlspr.  pop3p, smtpp and imapp hand a
 * session to the same logic when their client issues STLS/STARTTLS.
 *
 * The recognizers below are pure (unit-tested); starttls_client and
 * starttls_server do the socket I/O on the worker thread.  No shared
 * state, no locks.
 */
#ifndef PX_STARTTLS_H
#define PX_STARTTLS_H

#include <stddef.h>
#include <stdint.h>

struct client;

enum starttls_proto {
	STARTTLS_NONE = 0,
	STARTTLS_IMAP,
	STARTTLS_POP3,
	STARTTLS_SMTP
};

/* What the client's command line asks for (starttls_client_cmd). */
enum starttls_act {
	STARTTLS_ACT_REPLY,    /* send the reply, read the next line */
	STARTTLS_ACT_BEGIN,    /* send the reply, then TLS starts */
	STARTTLS_ACT_QUIT,     /* send the reply, end the session (0) */
	STARTTLS_ACT_BAD       /* unusable line (IMAP: no tag): end, 364 */
};

/* "imap", "pop3", "smtp" -> the mode; anything else STARTTLS_NONE. */
int starttls_proto_parse(const char *name);
/* Default destination port of the mode: 143, 110, 587 (0 for NONE). */
uint16_t starttls_default_port(int proto);
/* The proxy's greeting in -X mode, CR LF included. */
const char *starttls_greeting(int proto);

/* One client line (CR LF stripped, NUL-terminated) of the -X plain
 * phase: the reply (CR LF included) goes to out[0..cap).  A reply that
 * does not fit, or an IMAP line without a usable tag (63 bytes or more),
 * is STARTTLS_ACT_BAD: never cut.  Returns a starttls_act. */
int starttls_client_cmd(int proto, const char *line, char *out, size_t cap);

/* Server side recognizers, for lines with CR LF stripped. */
/* The server greeting's first line is acceptable ("* OK", "+OK", "220"). */
int starttls_srv_greeting_ok(int proto, const char *line);
/* The line announces STARTTLS (IMAP capability word, POP3 "STLS" line,
 * SMTP "250-STARTTLS" / "250 STARTTLS"). */
int starttls_srv_capa(int proto, const char *line);
/* The line ends a multi-line reply to the proxy's command ("zz " tagged
 * line, POP3 "." or a first line that is not "+OK", SMTP "ddd "). */
int starttls_srv_last(int proto, const char *line, int first);
/* The final line accepts STARTTLS ("zz OK", "+OK", "220"). */
int starttls_srv_go(int proto, const char *line);

/* The plain phase with the client in -X mode (greeting included).
 * Returns 0 when the client asked for TLS, ERR_TLS_STARTTLS_CLIENT (364)
 * on failure; *quit set when the client ended politely (code 0). */
int starttls_client(struct client *cl, int proto, int *quit);

/* Make the connected server start TLS (the server side of 9.3).
 * Returns 0 or 361-363; on failure the client gets a TLS alert. */
int starttls_server(struct client *cl, int proto);

/* tlspr on a session whose client already asked for TLS (hand-off from
 * pop3p/smtpp/imapp, which sent the "begin TLS" reply); proto_tls.c. */
int proto_tls_starttls(struct client *cl, int proto);

#endif
