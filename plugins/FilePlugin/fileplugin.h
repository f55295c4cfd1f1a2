/*
 * fileplugin.h - what FilePlugin offers to content-inspection plugins
 * (an antivirus, a DLP check...; plugins.md 5.4, F-PLUG-06).
 *
 *     plugin FilePlugin.ld.so file_plugin
 *     file_cachedir /var/spool/3proxy     (default $TEMP, else /tmp)
 *     file_preview 1048576                (0 = no limit, the default)
 *     plugin MyCheck.ld.so start          (registers a callback)
 *     proxy
 *
 * FilePlugin publishes the named symbol FP_REGISTER_SYMBOL, a function
 * of type fp_register_fn.  A plugin whose line comes after FilePlugin's
 * in the same config run gets it with fp_find() (below) in its entry
 * and registers callbacks.  The service lines that follow (proxy,
 * smtpp, ftppr) then spool, per connection and per callback, the parts
 * the callback selects to a new file <file_cachedir>/<7 digits>.tmp
 * (mode 0600) and call the callback at the moments it selects with the
 * file's path.  A callback's FP_REJECT refuses the request the way a
 * `pcre ... deny` rule does: HTTP 503 with code 517, SMTP and FTP their
 * filter error replies (an ftppr transfer: "421 ... policy violation",
 * 880).  The file is removed when the HTTP request is over (the next
 * request on the connection starts a new file), at the next ftppr
 * transfer (each has files of its own) or when the connection ends,
 * unless a callback returned FP_KEEPFILE.
 *
 * Callbacks run on the connections' worker threads, many at once; arg
 * is the callback's own.  Everything registered belongs to the config
 * run: a reload starts without callbacks, and the consumer's entry
 * registers again.
 */
#ifndef PX_FILEPLUGIN_H
#define PX_FILEPLUGIN_H

#include <stdint.h>
#include <string.h>

#include "plugin_api.h"

#define FP_REGISTER_SYMBOL "fp_registercallback"

/* What goes into the spool file (flags of fp_register_fn). */
#define FP_CLIHEADER 0x01u      /* HTTP request head; FTP/SMTP commands */
#define FP_SRVHEADER 0x02u      /* HTTP response head; FTP/SMTP replies */
#define FP_CLIDATA 0x04u        /* client -> server payload (HTTP request
				   bodies, SMTP message lines, ftppr
				   uploads) */
#define FP_SRVDATA 0x08u        /* server -> client payload (HTTP response
				   bodies, ftppr downloads and listings) */
#define FP_PARTS 0x0fu

/* When the callback is called (flags of fp_register_fn; fp_event.what). */
#define FP_CALL_ONREQUEST 0x10u /* on the request (HTTP request line, FTP
				   user@host, SMTP target); nothing is
				   spooled yet: path is NULL */
#define FP_CALL_AFTERHEADERS 0x20u /* after a selected head was spooled
				   (an HTTP response whose body is read
				   whole has its body spooled first: the
				   head is filtered as it is sent) */
#define FP_CALL_ONDATA 0x40u    /* after a selected data chunk was spooled
				   (an HTTP body of declared length within
				   filtermaxsize comes whole: this is then
				   "at the end") */
#define FP_CALL_ONREMOVE 0x80u  /* before the file is removed (the result
				   only counts for FP_KEEPFILE) */
#define FP_CALLS 0xf0u

/* Results of a callback (FP_KEEPFILE may be or'ed in). */
#define FP_ACCEPT 0
#define FP_REJECT 1
#define FP_KEEPFILE 2           /* do not remove the spool file */

struct fp_event {
	unsigned what;          /* the FP_CALL_* of this call */
	unsigned part;          /* FP_CLIHEADER...FP_SRVDATA just spooled,
				   0 for ONREQUEST and ONREMOVE */
	const char *service;    /* "proxy", "smtpp" or "ftppr" */
	const char *request;    /* ONREQUEST: the request text */
	const char *path;       /* the spool file, NULL before the first
				   byte of the request was spooled */
	uint64_t size;          /* bytes in the spool file */
	uint64_t skipped;       /* data bytes beyond the preview, not
				   spooled */
};

typedef int (*fp_callback)(void *arg, const struct fp_event *ev);

/* Register cb for the services that follow in this config run.  flags:
 * FP_* parts and FP_CALL_* moments.  preview: at most this many data
 * bytes go into each spool file (0: file_preview's value; heads are
 * always spooled whole).  Only from a plugin's entry or command.
 * Returns 0, or -1 (no part or moment, too many callbacks, FilePlugin
 * not loaded in this run). */
typedef int (*fp_register_fn)(unsigned flags, uint64_t preview,
			      fp_callback cb, void *arg);

/* FilePlugin's register function for this config run, or NULL. */
static inline fp_register_fn fp_find(const struct px_api *api)
{
	void *p;
	fp_register_fn fn;

	if (!PX_API_HAS(api, find_symbol) ||
	    (p = api->find_symbol(FP_REGISTER_SYMBOL)) == NULL)
		return NULL;
	/* a data pointer that holds a function (as dlsym's does) */
	memcpy(&fn, &p, sizeof(fn));
	return fn;
}

/* fpname.c: the pure parts. */

/* "<dir>/<counter mod 10^7 as 7 digits>.tmp" into buf.  Returns 0, or
 * -1 when it does not fit. */
int fp_spool_name(char *buf, size_t size, const char *dir,
		  unsigned counter);
/* Comma-separated flag names ("srvdata,clidata,srvheader,cliheader,
 * request,headers,data,remove") into FP_* bits.  Returns 0 or -1. */
int fp_flags_parse(const char *s, unsigned *flags);
/* A byte count for file_preview: decimal digits only, at most 2^40.
 * Returns 0 or -1. */
int fp_size_parse(const char *s, uint64_t *n);
/* 1 when the FTP command line (len bytes, no CR LF) starts a data
 * transfer (RETR, STOR, STOU, APPE, LIST, NLST, MLSD, any case), else 0.
 * Each such transfer gets spool files of its own. */
int fp_ftp_transfer(const char *line, size_t len);

#endif
