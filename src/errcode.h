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
	ERR_NOT_SUPPORTED = 997, ERR_NOT_IMPLEMENTED = 999
};

#endif
