/*
 * logformat.h - expansion of `logformat` %-macros for one access record.
 *
 * Pure: no clock, no I/O.  Everything a macro can print is in the
 * record, so tests can build one by hand.
 */
#ifndef PX_LOGFORMAT_H
#define PX_LOGFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "net.h"

#define LOGFORMAT_DEFAULT "G%y%m%d%H%M%S.%. %p %E %U %C:%c %R:%r %O %I %h %T"
#define LOGFORMAT_MAXLINE 4096

struct log_record {
	struct timespec now;          /* wall clock of the record */
	uint64_t duration_ms;         /* %D */
	const char *service;          /* %N */
	uint16_t port;                /* %p: listening port */
	int err;                      /* %E */
	const char *user;             /* %U, NULL -> "-" */
	const struct net_addr *client;    /* %C %c */
	const struct net_addr *local;     /* %i */
	const struct net_addr *external;  /* %e */
	const struct net_addr *remote;    /* %R %r: actually connected */
	const struct net_addr *requested; /* %Q %q */
	const char *host;             /* %n: requested host name */
	uint64_t bytes_in;            /* %I: from server */
	uint64_t bytes_out;           /* %O: from client */
	int hops;                     /* %h */
	const char *text;             /* %T */
	int sql_quote;                /* ODBC sinks (logging.md 1.3): single
				       * quotes in %U %n %T values doubled */
};

/* Expand fmt for rec into out (always NUL-terminated, at most outlen-1
 * bytes; the line is cut, never overflowed).  The zone flag (first
 * character after an optional "-chars+r" filter prefix: G/g = UTC, else
 * local) is handled here.  Returns the length written. */
size_t logformat_expand(char *out, size_t outlen, const char *fmt,
			const struct log_record *rec);

#endif
