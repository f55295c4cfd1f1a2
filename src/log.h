/*
 * log.h - where records and diagnostics go.
 *
 * A sink is a destination (stdout, an append-mode file, syslog, an ODBC
 * data source) shared by every service that logs to it; writes are
 * serialized by the sink's own mutex, which covers the write only: lines
 * are formatted before.
 */
#ifndef PX_LOG_H
#define PX_LOG_H

#include <stddef.h>
#include "os.h"

struct log_sink;

struct log_sink *log_sink_stdout(void);
/* Append-mode file.  Returns NULL with a reason in err. */
struct log_sink *log_sink_file(const char *path, char *err, size_t errlen);
/* `log PATTERN [ROT]` (logging.md 2, F-LOG-02/03): a file whose name is
 * PATTERN expanded for the current period (rot: C/H/D/W/M/Y, NULL or
 * anything else = none).  A new period switches to a new file, checked
 * at each write and by log_sink_tick(). */
struct log_sink *log_sink_file_rotating(const char *pattern, const char *rot,
					char *err, size_t errlen);
/* `log radius` (logging.md 1.4): writes no text; client.c asks
 * log_sink_is_radius() and sends RADIUS accounting instead. */
struct log_sink *log_sink_radius(void);
int log_sink_is_radius(const struct log_sink *s);

/* `archiver EXT CMD ARGS...` (F-LOG-05): argv holds CMD and ARGS. */
struct log_archiver {
	char *ext;
	int argc;
	char **argv;
};

/* NULL or one from log_archiver_new(argv = EXT CMD ARGS...). */
struct log_archiver *log_archiver_new(int argc, char **argv);
void log_archiver_free(struct log_archiver *a);

/* Main thread, once a second (cli.md 3 step 6): switches an idle file
 * sink to a new period, then, after any switch and if rotate > 0,
 * deletes the file (or archive, with an archiver) of `rotate` periods
 * ago and starts the archiver (a may be NULL) without waiting for it;
 * finished archivers are reaped here too.  s may be NULL. */
void log_sink_tick(struct log_sink *s, int rotate,
		   const struct log_archiver *a);
struct log_sink *log_sink_syslog(const char *ident);
/* `log &DSN[,USER[,PASSWORD]]` (logging.md 1.3, F-LOG-07): each record
 * is one SQL statement, queued and executed on the data source by the
 * sink's own thread (log_odbc.c), so a slow database never blocks the
 * caller.  A database that cannot be reached is not an error here: the
 * thread reports it and retries.  NULL with a reason in err (also when
 * the build has no ODBC). */
struct log_sink *log_sink_odbc(const char *spec, char *err, size_t errlen);
/* 1 if this build can log to ODBC (built with unixODBC). */
int log_odbc_available(void);
/* 1 if records for s are SQL statements: their %U, %n and %T values
 * need single quotes doubled (struct log_record.sql_quote). */
int log_sink_is_sql(const struct log_sink *s);
void log_sink_ref(struct log_sink *s);
void log_sink_unref(struct log_sink *s);
/* Write one line (a '\n' is added). */
void log_sink_write(struct log_sink *s, const char *line, size_t len);
/* Flush buffered file output (main loop, once a second). */
void log_sink_flush(struct log_sink *s);

/* Diagnostics of the daemon itself (not access records): stderr. */
void log_diag(const char *fmt, ...) PX_PRINTF(1, 2);

#endif
