/*
 * radius.h - RADIUS authentication (`radius`, `auth radius`; reference
 * acl-auth.md section 5, config.md 4.5, F-AUTH-14).
 *
 * Two layers.  The packet functions are pure (bytes in, bytes out, no
 * I/O, no clock, no randomness of their own) so they are unit tested:
 * radius_build_request() writes an Access-Request (RFC 2865 section 4.1)
 * and radius_parse_reply() verifies and decodes an answer.  radius_auth()
 * is the `auth radius` step: it gathers the request's attributes from a
 * client, asks the generation's servers in order over UDP and maps the
 * answer to an acl-auth.md section 9 code.
 *
 * The server list belongs to a config generation (global, like `users`)
 * and is immutable once built, so no lock is needed.
 *
 * MD5 comes from libmd; a build without it (HAVE_MD5 undefined) refuses
 * `radius` and `auth radius` at config time and keeps everything else.
 */
#ifndef PX_RADIUS_H
#define PX_RADIUS_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

struct client;
struct conf_ctx;

#define RADIUS_MAX_SERVERS 5
#define RADIUS_SECRET_MAX 63     /* longer secrets are truncated (3proxy) */
#define RADIUS_FIELD_MAX 128     /* user name, password, strings: cap */
#define RADIUS_AUTH_LEN 16       /* Request/Response Authenticator */
#define RADIUS_HDR_LEN 20        /* code, id, length, authenticator */
#define RADIUS_PACKET_MAX 4096   /* RFC 2865 section 3 */
#define RADIUS_DEFAULT_PORT 1812

/* Packet codes (RFC 2865 section 3). */
enum radius_code {
	RADIUS_ACCESS_REQUEST = 1, RADIUS_ACCESS_ACCEPT = 2,
	RADIUS_ACCESS_REJECT = 3, RADIUS_ACCOUNTING_REQUEST = 4,
	RADIUS_ACCOUNTING_RESPONSE = 5, RADIUS_ACCESS_CHALLENGE = 11
};

/* Attribute types used here (RFC 2865, 2869, 3162, 6911). */
enum radius_attr {
	RA_USER_NAME = 1, RA_USER_PASSWORD = 2, RA_NAS_IP_ADDRESS = 4,
	RA_NAS_PORT = 5, RA_SERVICE_TYPE = 6, RA_FRAMED_IP_ADDRESS = 8,
	RA_LOGIN_IP_HOST = 14, RA_LOGIN_SERVICE = 15, RA_LOGIN_TCP_PORT = 16,
	RA_REPLY_MESSAGE = 18, RA_CALLED_STATION_ID = 30,
	RA_NAS_IDENTIFIER = 32, RA_ACCT_STATUS_TYPE = 40,
	RA_ACCT_INPUT_OCTETS = 42, RA_ACCT_OUTPUT_OCTETS = 43,
	RA_ACCT_SESSION_ID = 44, RA_ACCT_SESSION_TIME = 46,
	RA_ACCT_INPUT_PACKETS = 47, RA_ACCT_OUTPUT_PACKETS = 48,
	RA_ACCT_INPUT_GIGAWORDS = 52, RA_ACCT_OUTPUT_GIGAWORDS = 53,
	RA_NAS_PORT_TYPE = 61, RA_NAS_IPV6_ADDRESS = 95,
	RA_LOGIN_IPV6_HOST = 98, RA_FRAMED_IPV6_ADDRESS = 168
};

#define RADIUS_SERVICE_AUTHENTICATE_ONLY 8
#define RADIUS_PORT_TYPE_VIRTUAL 5

/* One `radius` server: where to send, and the local address to bind
 * (len 0 = any). */
struct radius_server {
	struct net_addr addr;
	struct net_addr local;
};

/* The `radius` line in force for a generation (owned by it). */
struct radius_conf {
	char secret[RADIUS_SECRET_MAX + 1];
	int nservers;
	struct radius_server srv[RADIUS_MAX_SERVERS];
};

/* What an Access-Request says, as plain values.  NULL strings and
 * addresses with len 0 are left out of the packet. */
struct radius_req_info {
	const char *user;             /* User-Name (required) */
	const char *password;         /* User-Password (required) */
	const char *session_id;       /* Acct-Session-Id */
	uint16_t nas_port;            /* NAS-Port: the service's port */
	const struct net_addr *nas;   /* NAS-IP(v6)-Address */
	const char *nas_id;           /* NAS-Identifier: service name */
	const struct net_addr *peer;  /* Framed-IP(v6)-Address: client */
	const char *called;           /* Called-Station-Id: target host */
	uint32_t login_service;       /* Login-Service: operation << 8 */
	uint16_t login_port;          /* Login-TCP-Port: target port */
	const struct net_addr *target;  /* Login-IP(v6)-Host */
};

/* A verified answer. */
struct radius_reply {
	int code;                     /* enum radius_code */
	struct net_addr framed;       /* Framed-IP(v6)-Address; len 0 none */
	long msg_code;                /* number leading Reply-Message; -1 */
};

/* Returns 1 when this build can do RADIUS (it has MD5), else 0. */
int radius_available(void);

/* RFC 2865 section 5.2: hide pw (n bytes, at most RADIUS_FIELD_MAX)
 * into out (room for RADIUS_FIELD_MAX bytes); *outlen gets the padded
 * length (16..128, a multiple of 16).  Returns 0, or -1 if n is too
 * long or MD5 is unavailable. */
int radius_hide_password(const uint8_t *pw, size_t n, const char *secret,
			 const uint8_t reqauth[RADIUS_AUTH_LEN], uint8_t *out,
			 size_t *outlen);

/* Write an Access-Request with identifier id and Request Authenticator
 * reqauth into out (cap bytes).  Strings and the password longer than
 * RADIUS_FIELD_MAX are cut to it.  Returns 0 and the length in *len, or
 * -1 (no room, no user or password, no MD5). */
int radius_build_request(const struct radius_req_info *in, const char *secret,
			 uint8_t id, const uint8_t reqauth[RADIUS_AUTH_LEN],
			 uint8_t *out, size_t cap, size_t *len);

/* Verify a datagram (n bytes) as the answer to the request with
 * identifier id and Request Authenticator reqauth: the identifier, the
 * Length field against n, every attribute's bounds, and the Response
 * Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
 * Returns 0 with *out filled, or -1 for anything that is not a valid
 * answer (it is then ignored, as RFC 2865 section 3 says). */
int radius_parse_reply(const uint8_t *p, size_t n, uint8_t id,
		       const uint8_t reqauth[RADIUS_AUTH_LEN],
		       const char *secret, struct radius_reply *out);

/* The acl-auth.md section 9 code of a verified answer: 0 for
 * Access-Accept; for anything else the number leading its Reply-Message
 * when there is one (1..999999), else ERR_AUTH_NOUSER (4). */
int radius_reply_result(const struct radius_reply *r);

/* Accounting-Request (RFC 2866, `log radius`, logging.md 1.4, F-LOG-08):
 * Acct-Status-Type values, what a request says, and the pure builder.
 * The Request Authenticator is MD5(Code+ID+Length+16 zero octets+
 * Attributes+Secret) (RFC 2866 3). */
enum radius_acct_status { RADIUS_ACCT_START = 1, RADIUS_ACCT_STOP = 2 };

struct radius_acct_info {
	const struct radius_req_info *req;   /* password is not sent */
	int status;                          /* enum radius_acct_status */
	uint64_t in_octets, out_octets;      /* from server / from client */
	uint64_t in_packets, out_packets;    /* read calls per side */
	uint32_t session_time;               /* seconds */
};

/* Write an Accounting-Request with identifier id into out (cap bytes);
 * a Stop carries the counters (octets > 2^32-1 with Gigawords).
 * Returns 0 and the length in *len, or -1 (no room, no MD5). */
int radius_build_acct(const struct radius_acct_info *a, const char *secret,
		      uint8_t id, uint8_t *out, size_t cap, size_t *len);

/* Verify an Accounting-Response to the request with identifier id and
 * Request Authenticator reqauth (RFC 2866 3).  0 if valid, else -1. */
int radius_parse_acct_reply(const uint8_t *p, size_t n, uint8_t id,
			    const uint8_t reqauth[RADIUS_AUTH_LEN],
			    const char *secret);

/* Send an Accounting-Request of the given status for a client (worker
 * thread) to the generation's servers in turn (accounting port = auth
 * port + 1) until one answers validly; each waits BYTE_LONG.  Failures
 * are reported with log_diag() and otherwise ignored. */
void radius_acct(struct client *cl, int status);

/* ---- shared by radius.c and radius_acct.c ---- */
/* MD5(a + b); 0, or -1 without MD5. */
int radius_md5(uint8_t out[16], const void *a, size_t na, const void *b,
	       size_t nb);
/* Append the acl-auth.md 5 attributes except User-Password (or one
 * 32-bit attribute) at out + *len; -1 if they do not fit in cap. */
int radius_put_info(uint8_t *out, size_t cap, size_t *len,
		    const struct radius_req_info *in);
int radius_put_u32(uint8_t *out, size_t cap, size_t *len, uint8_t type,
		   uint32_t v);
/* What a client's request says (Acct-Session-Id kept in cl). */
void radius_client_info(struct client *cl, struct radius_req_info *in);
/* Send req (len bytes) to each server in turn until one answers with a
 * verified reply (an Accounting-Response for an Accounting-Request, on
 * the port after the auth port).  0 with *r set, or -1. */
int radius_exchange(const struct radius_conf *rc, const uint8_t *req,
		    size_t len, int timeout_ms, struct radius_reply *r);

/* The `auth radius` step for a client (worker thread): needs a user name
 * and a password, asks the generation's servers in turn (each given the
 * BYTE_LONG timeout) and returns 0 or the code above; no valid answer
 * from any server is 4.  On acceptance a Framed-IP(v6)-Address becomes
 * cl->ext_addr, the source of the request's outgoing connection. */
int radius_auth(struct client *cl);

void radius_conf_free(struct radius_conf *rc);

/* radius SECRET SERVER[:PORT][/LOCALADDR] ... (row in conf_cmds.c) */
int radius_cmd(struct conf_ctx *ctx, int argc, char **argv);

#endif
