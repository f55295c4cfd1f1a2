/*
 * socks_parse.h - pure SOCKS 4 / 4a / 5 message parsers and reply
 * builders (RFC 1928, RFC 1929, the SOCKS4 and 4a notes).
 *
 * Nothing here touches a socket, the clock or the heap: every function
 * takes (buf, len), never reads past len, and can be unit-tested with
 * byte arrays.  proto_socks.c reads the wire and calls these; relay_udp.c
 * uses the UDP header helpers.
 *
 * Parser contract.  A parser returns 0 when p[0 .. *need) holds one
 * complete, well-formed message (bytes after it are not looked at).
 * Otherwise it returns a documented %E code.  When the code says the
 * message is truncated, *need is larger than n: it is the total length
 * needed as far as the bytes seen so far tell, so the caller reads
 * *need - n more bytes and calls again.  When *need <= n the message is
 * bad whatever follows.
 */
#ifndef PX_SOCKS_PARSE_H
#define PX_SOCKS_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

/* The documented %E codes of the socks service (logging.md §7).  Their
 * numbers are part of the log format: never renumber. */
enum socks_err {
	ERR_SOCKS_VERSION = 401,       /* first byte not 4/5; reply not sent */
	ERR_SOCKS_COMMAND = 407,       /* command not supported */
	ERR_SOCKS_AUTH_VERSION = 412,  /* RFC 1929 version byte not 1 */
	ERR_SOCKS_REQ_VERSION = 421,   /* SOCKS5 request VER not 5 */
	ERR_SOCKS_ZERO_ADDR = 431,     /* CONNECT to a zero address */
	ERR_SOCKS_SHORT_METHODS = 441, /* truncated method negotiation */
	ERR_SOCKS_SHORT_AUTH = 445,    /* truncated RFC 1929 request */
	ERR_SOCKS_SHORT_REQUEST = 447, /* truncated request header */
	ERR_SOCKS_SHORT_ADDR = 451,    /* truncated or overlong address */
	ERR_SOCKS_BIND_ABORT = 460,    /* control connection ended a BIND */
	ERR_SOCKS_PORT_ZERO = 461,     /* CONNECT to port 0 */
	ERR_SOCKS_BIND_ACCEPT = 462,   /* accept() of the BIND peer failed */
	ERR_SOCKS_BIND_PEER = 470,     /* BIND peer is not the one named */
	ERR_SOCKS_AUTH_REPLY = 481,    /* RFC 1929 reply not sent */
	ERR_SOCKS_FILTER = 517,        /* a request filter rejected it */
	ERR_SOCKS_UDP_POLL = 481,      /* poll() failed in the UDP relay */
	ERR_SOCKS_UDP_CLIENT = 482,    /* receive error, client side */
	ERR_SOCKS_UDP_HEADER = 483,    /* UDP datagram < 10 bytes, RSV != 0 */
	ERR_SOCKS_UDP_SHORT6 = 484,    /* UDP header: truncated IPv6 */
	ERR_SOCKS_UDP_SHORTNAME = 485, /* UDP header: truncated name */
	ERR_SOCKS_UDP_REMOTE = 486     /* receive error, remote side */
};

/* Not an error: a UDP datagram with FRAG != 0 is dropped (RFC 1928 §7:
 * an implementation without reassembly MUST drop it). */
#define SOCKS_UDP_FRAGMENT (-1)

enum socks_cmd {
	SOCKS_CMD_CONNECT = 1, SOCKS_CMD_BIND = 2, SOCKS_CMD_UDP = 3
};

enum socks_atyp {
	SOCKS_ATYP_IPV4 = 1, SOCKS_ATYP_DOMAIN = 3, SOCKS_ATYP_IPV6 = 4
};

/* RFC 1928 §3 method numbers, and the offered-method bits. */
#define SOCKS5_METHOD_NONE 0x00
#define SOCKS5_METHOD_USERPASS 0x02
#define SOCKS5_METHOD_REFUSE 0xFF
#define SOCKS_OFFER_NONE 0x1u
#define SOCKS_OFFER_USERPASS 0x2u

/* SOCKS5 reply codes (RFC 1928 §6) and SOCKS4 result codes. */
enum socks5_rep {
	SOCKS5_REP_OK = 0x00, SOCKS5_REP_FAILURE = 0x01,
	SOCKS5_REP_NOT_ALLOWED = 0x02, SOCKS5_REP_NET_UNREACH = 0x03,
	SOCKS5_REP_HOST_UNREACH = 0x04, SOCKS5_REP_REFUSED = 0x05,
	SOCKS5_REP_TTL_EXPIRED = 0x06, SOCKS5_REP_BAD_COMMAND = 0x07,
	SOCKS5_REP_BAD_ATYP = 0x08
};
#define SOCKS4_GRANTED 0x5A
#define SOCKS4_REJECTED 0x5B

/* Sizes.  A SOCKS4 user id longer than SOCKS4_USERID_WIRE_MAX is refused
 * (no real client sends one); the stored copy is cut to SOCKS_USER_MAX
 * bytes, as 3proxy does (services.md §4.2). */
#define SOCKS_NAME_MAX 255             /* a domain name */
#define SOCKS_USER_MAX 127             /* SOCKS4 user id kept */
#define SOCKS4_USERID_WIRE_MAX 255
#define SOCKS5_METHODS_MAX (2 + 255)
#define SOCKS5_AUTH_MAX (3 + 255 + 255)
#define SOCKS5_REQUEST_MAX (4 + 1 + 255 + 2)
#define SOCKS4_REQUEST_MAX (8 + SOCKS4_USERID_WIRE_MAX + 1 + SOCKS_NAME_MAX + 1)
#define SOCKS5_REPLY_MAX (4 + 16 + 2)
#define SOCKS4_REPLY_LEN 8
#define SOCKS5_UDP_HEADER_MAX (4 + 1 + 255 + 2)

/* A destination as written on the wire. */
struct socks_target {
	uint8_t atyp;                   /* enum socks_atyp */
	uint8_t ip[16];                 /* 4 or 16 bytes, network order */
	char host[SOCKS_NAME_MAX + 1];  /* ATYP 3: the name, NUL-terminated */
	uint16_t port;                  /* host order */
};

/* One SOCKS4/4a/5 request. */
struct socks_request {
	uint8_t version;                /* 4 or 5 */
	uint8_t cmd;                    /* enum socks_cmd */
	int socks4a;                    /* SOCKS4 with a host name */
	struct socks_target dst;
	char user[SOCKS_USER_MAX + 1];  /* SOCKS4 USERID, "" if none */
};

/* RFC 1929 username/password request.  Holds a password: the caller
 * wipes it when done. */
struct socks_auth {
	char user[256];
	char pass[256];
};

/* How much the service wants a user name (services.md §4.1, §15 -u). */
enum socks_user_policy {
	SOCKS_USER_NEVER,      /* -u: never select 02 */
	SOCKS_USER_OPTIONAL,   /* 00 if offered, else 02 if offered */
	SOCKS_USER_PREFERRED,  /* 02 if offered, else 00 if offered */
	SOCKS_USER_REQUIRED    /* -u2: 02 or nothing */
};

/* "05 NMETHODS METHODS..." (RFC 1928 §3).  *offered gets SOCKS_OFFER_*
 * bits.  Codes: 401 (VER not 5), 441 (truncated). */
int socks5_parse_methods(const uint8_t *p, size_t n, unsigned *offered,
			 size_t *need);

/* The method to select for the offered bits under a policy: 0x00, 0x02,
 * or 0xFF when none is acceptable. */
uint8_t socks5_choose_method(unsigned offered, enum socks_user_policy pol);

/* "01 ULEN UNAME PLEN PASSWD" (RFC 1929 §2).  Codes: 412 (version not
 * 1), 445 (truncated).  Empty names and passwords are accepted; a NUL
 * inside one ends it there, as C strings do. */
int socks5_parse_auth(const uint8_t *p, size_t n, struct socks_auth *out,
		      size_t *need);

/* "05 CMD 00 ATYP DST.ADDR DST.PORT" (RFC 1928 §4).  Codes: 421 (VER
 * not 5), 447 (truncated header), 451 (truncated address), 997 (unknown
 * ATYP, or a domain holding a NUL byte), 407 (unknown CMD,
 * reported only once the whole request is in, so nothing is left
 * unread).  An empty domain is accepted (it fails to resolve).  The
 * reserved byte is not checked (RFC 1928 gives no error for it). */
int socks5_parse_request(const uint8_t *p, size_t n, struct socks_request *out,
			 size_t *need);

/* "04 CMD PORT(2) IP(4) USERID 00 [HOST 00]".  0.0.0.x with x != 0 is
 * SOCKS4a: a host name follows the user id.  Codes: 401 (VER not 4),
 * 447 (truncated header), 451 (truncated or overlong user id or name),
 * 407 (CMD not 1 or 2, once the whole request is in). */
int socks4_parse_request(const uint8_t *p, size_t n, struct socks_request *out,
			 size_t *need);

/* Checks that need the whole request: CONNECT to a zero address (431)
 * or to port 0 (461).  Returns 0 or the code. */
int socks_request_check(const struct socks_request *r);

/* True for a BIND target that means "any" (services.md §4.1: a domain of
 * "0" or "0.0.0.0", or a zero IP address). */
int socks_target_is_any(const struct socks_target *t);

/* The IP of an ATYP 1/4 target as an address with its port.  Returns 0,
 * or -1 for a domain. */
int socks_target_addr(const struct socks_target *t, struct net_addr *out);


/* Map an IPv4 address to ::ffff:a.b.c.d, keeping the port (-6).  Other
 * addresses are left alone. */
void socks_addr_map_v6(struct net_addr *a);

/* "<verb> <host>:<port>" for %T: the name, or the address text without
 * brackets, as 3proxy prints it.  Always NUL-terminated. */
void socks_target_text(const struct socks_target *t, const char *verb,
		       char *out, size_t cap);

/* The SOCKS5 reply code for an errcode.h / socks_err code (services.md
 * §4.3): 0 -> 00, 1..10 -> 02, 11..19 -> 05, 20..29 -> 01, 30..100 -> 04,
 * 407 -> 07, 997 -> 08, other -> code mod 10, or 01 where that is 0. */
uint8_t socks5_rep_from_err(int err);

/* Build "05 REP 00 ATYP BND.ADDR BND.PORT" into out (zeroed first).  bnd
 * may be NULL or not an IP address: the reply then carries 0.0.0.0:0.
 * IPv4-mapped IPv6 addresses are written as IPv4.  Returns the length,
 * or 0 if cap is too small. */
size_t socks5_build_reply(uint8_t *out, size_t cap, uint8_t rep,
			  const struct net_addr *bnd);

/* Build the 8-byte SOCKS4 reply "00 CD PORT(2) IP(4)" (zeroed first).  A
 * bnd that is not IPv4 (or IPv4-mapped) is written as zeros.  Returns 8,
 * or 0 if cap is too small. */
size_t socks4_build_reply(uint8_t *out, size_t cap, uint8_t cd,
			  const struct net_addr *bnd);

/* "00 00 FRAG ATYP DST.ADDR DST.PORT DATA" (RFC 1928 §7).  *hdrlen gets
 * the header length (the data follows it).  Returns 0, SOCKS_UDP_FRAGMENT
 * (drop it), 483 (shorter than 10 bytes or RSV != 0), 484 (truncated IPv6
 * address), 485 (truncated or empty name), 997 (unknown ATYP). */
int socks5_parse_udp(const uint8_t *p, size_t n, struct socks_target *out,
		     size_t *hdrlen);

/* Build the UDP header for a datagram from src (ATYP 1 or 4; mapped IPv6
 * written as IPv4) into out (zeroed first).  Returns the length (10 or
 * 22), or 0 if cap is too small or src is not an IP address. */
size_t socks5_build_udp_header(uint8_t *out, size_t cap,
			       const struct net_addr *src);

#endif
