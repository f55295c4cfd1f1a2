/*
 * errcode.h - the documented %E result codes, by name.
 *
 * The numbers are part of the log format users parse; never renumber.
 */
#ifndef PX_ERRCODE_H
#define PX_ERRCODE_H

enum px_err {
	ERR_OK = 0,
	/* authentication / authorization */
	ERR_ACL_DENY = 1, ERR_ACL_REDIRECT = 2, ERR_ACL_NOMATCH = 3,
	ERR_AUTH_NOUSER = 4, ERR_AUTH_UNKNOWN = 5, ERR_AUTH_BADPASS_CL = 6,
	ERR_AUTH_BADPASS_CR = 7, ERR_AUTH_BADPASS_NT = 8,
	ERR_REDIRECT_DATA = 9, ERR_LIMIT = 10,
	/* sockets */
	ERR_SOCKET = 11, ERR_BIND = 12, ERR_CONNECT = 13,
	ERR_GETPEERNAME = 14, ERR_GETSOCKNAME = 15,
	ERR_FILTER = 19, ERR_NOMEM = 21,
	/* relay termination (limits.md section 5) */
	ERR_RELAY_INTERNAL = 90, ERR_RELAY_POLL = 91, ERR_RELAY_TIMEOUT = 92,
	ERR_RELAY_STALL = 93, ERR_RELAY_UNSENT = 94, ERR_RELAY_CLIENT = 95,
	ERR_RELAY_SERVER = 96, ERR_RELAY_BOTH = 97,
	ERR_RELAY_SRV_DONE = 98, ERR_RELAY_CLI_DONE = 99,
	/* destinations */
	ERR_HOST_NOT_FOUND = 100, ERR_REDIRECT_LOOP = 101,
	/* tlspr (services.md 9; logging.md 7 gives the ranges): client
	 * data that is not TLS, a malformed ClientHello, the server's
	 * first record, and read/send failures on either side */
	ERR_TLS_NOT_HANDSHAKE = 301, ERR_TLS_BAD_VERSION = 302,
	ERR_TLS_BAD_LENGTH = 303, ERR_TLS_NOT_HELLO = 304,
	ERR_TLS_SPLIT_SEND = 310,
	ERR_TLS_HELLO_TOO_BIG = 311, ERR_TLS_FRAGMENT = 312,
	ERR_TLS_HELLO_SHORT = 313, ERR_TLS_SESSION_ID = 314,
	ERR_TLS_CIPHERS = 315, ERR_TLS_COMPRESSION = 316,
	ERR_TLS_EXTENSIONS = 317, ERR_TLS_EXTENSION = 318,
	ERR_TLS_SNI_LIST = 319, ERR_TLS_SNI_ENTRY = 320,
	ERR_TLS_SNI_NAME = 321, ERR_TLS_VERSIONS = 322, ERR_TLS_ALPN = 323,
	ERR_TLS_TRAILING = 324, ERR_TLS_HELLO_VERSION = 325,
	ERR_TLS_SRV_NOT_HANDSHAKE = 341, ERR_TLS_SRV_BAD_VERSION = 342,
	ERR_TLS_SRV_BAD_LENGTH = 343, ERR_TLS_SRV_ALERT = 344,
	ERR_TLS_SRV_NOT_HELLO = 351, ERR_TLS_SRV_HELLO_SHORT = 352,
	ERR_TLS_SRV_VERSIONS = 353,
	/* STARTTLS (services.md 9.3): the server's greeting, its missing
	 * STARTTLS capability, its refusal; the client's plain phase */
	ERR_TLS_STARTTLS_GREETING = 361, ERR_TLS_STARTTLS_CAPA = 362,
	ERR_TLS_STARTTLS_REFUSED = 363, ERR_TLS_STARTTLS_CLIENT = 364,
	/* -c3/-c4 certificate checks (services.md 9.2) */
	ERR_TLS_13_NO_CHECK = 370,
	ERR_TLS_CLIENT_SEND = 371,
	ERR_TLS_NO_SRV_CERT = 373, ERR_TLS_NO_CERT_REQUEST = 374,
	ERR_TLS_NO_CLI_CERT = 375,
	ERR_TLS_SRV_TIMEOUT = 381, ERR_TLS_SRV_EOF = 382,
	ERR_TLS_SRV_READ = 383,
	ERR_TLS_CLI_TIMEOUT = 391, ERR_TLS_CLI_EOF = 392,
	ERR_TLS_CLI_READ = 393,
	ERR_AUTO_NO_DATA = 801,
	/* built-in TLS (plugins.md 3): handshake to the server or parent,
	 * substitute certificate (MITM), handshake to the client */
	ERR_SSL_SERVER = 8011, ERR_SSL_CERT = 8012, ERR_SSL_CLIENT = 8013,
	ERR_NOT_SUPPORTED = 997, ERR_NOT_IMPLEMENTED = 999
};

#endif
