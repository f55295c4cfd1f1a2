/*
 * log_odbc.h - the ODBC side of `log &DSN[,USER[,PASSWORD]]` (logging.md
 * 1.3, F-LOG-07).  Built only with unixODBC (HAVE_ODBC); log.c wraps it
 * in a log sink and is the only user.
 */
#ifndef PX_LOG_ODBC_H
#define PX_LOG_ODBC_H

#include <stddef.h>

struct odbc_sink;

/* spec is "DSN[,USER[,PASSWORD]]".  Starts the writer thread, which
 * connects at once (a failure is reported and retried, not returned).
 * NULL with a reason in err only for a bad spec or no memory/thread. */
struct odbc_sink *odbc_sink_open(const char *spec, char *err, size_t errlen);
/* Queue one statement; drops it (and counts it) when the queue is full. */
void odbc_sink_put(struct odbc_sink *o, const char *sql, size_t len);
/* Let the thread execute what is queued (2 s at most), disconnect, end;
 * then free everything. */
void odbc_sink_close(struct odbc_sink *o);

#endif
