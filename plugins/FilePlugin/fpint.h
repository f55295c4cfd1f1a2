/*
 * fpint.h - FilePlugin's own structures (not for consumers: they use
 * fileplugin.h).
 */
#ifndef FP_INT_H
#define FP_INT_H

#include "fileplugin.h"

#define FP_CALLBACKS_MAX 16

struct fp_cb {
	unsigned flags;         /* FP_* parts | FP_CALL_* moments */
	uint64_t preview;       /* data bytes spooled per file, 0 = all */
	fp_callback fn;
	void *arg;
};

/* What a service line saw (a copy of its run's settings): immutable,
 * shared by the service's connections without locks. */
struct fp_svc {
	const char *service;    /* "proxy", "smtpp", "ftppr" */
	char *dir;
	int ncb;
	struct fp_cb cb[FP_CALLBACKS_MAX];
};

/* One connection's spool files (fpspool.c); its worker thread only. */
struct fp_conn;

struct fp_conn *fp_conn_new(const struct fp_svc *svc);
/* The connection ends: ONREMOVE calls, files removed, freed. */
void fp_conn_end(struct fp_conn *c);
/* The files so far are finished (ONREMOVE calls, removed): the next
 * part starts new ones.  For a new request or FTP transfer. */
void fp_conn_next(struct fp_conn *c);
/* A new request (the previous one's files are finished): the ONREQUEST
 * calls.  Returns FP_ACCEPT or FP_REJECT. */
int fp_conn_request(struct fp_conn *c, const char *text, size_t len);
/* n bytes of part (one FP_* part bit) go to the files of the callbacks
 * that select it, which are then called.  FP_ACCEPT or FP_REJECT (a
 * callback refused, or a file could not be written). */
int fp_conn_part(struct fp_conn *c, unsigned part, const char *p,
		 size_t n);

/* A diagnostic line (fileplugin.c: the daemon's diag). */
void fp_diag(const char *msg);

#endif
