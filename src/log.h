/*
 * log.h - where records and diagnostics go.
 *
 * A sink is a destination (stdout, an append-mode file, syslog) shared by
 * every service that logs to it; writes are serialized by the sink's own
 * mutex, which covers the write only: lines are formatted before.
 */
#ifndef PX_LOG_H
#define PX_LOG_H

#include <stddef.h>
#include "os.h"

struct log_sink;

struct log_sink *log_sink_stdout(void);
/* Append-mode file.  Returns NULL with a reason in err. */
struct log_sink *log_sink_file(const char *path, char *err, size_t errlen);
struct log_sink *log_sink_syslog(const char *ident);
void log_sink_ref(struct log_sink *s);
void log_sink_unref(struct log_sink *s);
/* Write one line (a '\n' is added). */
void log_sink_write(struct log_sink *s, const char *line, size_t len);
/* Flush buffered file output (main loop, once a second). */
void log_sink_flush(struct log_sink *s);

/* Diagnostics of the daemon itself (not access records): stderr. */
void log_diag(const char *fmt, ...) PX_PRINTF(1, 2);

#endif
