/*
 * log.c - log sinks (stdout, append-mode files, syslog) and diagnostics.
 *
 * Each sink has its own mutex, held only around the write of a line that
 * was formatted before.  Sinks are refcounted because several services
 * and generations may share one.
 */
#include "log.h"
#include "os.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <syslog.h>
#endif

enum sink_kind { SINK_STDOUT, SINK_FILE, SINK_SYSLOG };

struct log_sink {
	enum sink_kind kind;
	int refs;               /* atomic */
	os_mutex_t lock;        /* guards fp and its buffer */
	FILE *fp;
	char *ident;            /* syslog: must outlive openlog() */
};

static struct log_sink *sink_new(enum sink_kind kind)
{
	struct log_sink *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->kind = kind;
	s->refs = 1;
	os_mutex_init(&s->lock);
	return s;
}

struct log_sink *log_sink_stdout(void)
{
	struct log_sink *s = sink_new(SINK_STDOUT);

	if (s != NULL)
		s->fp = stdout;
	return s;
}

struct log_sink *log_sink_file(const char *path, char *err, size_t errlen)
{
	struct log_sink *s;
	FILE *fp = fopen(path, "a");

	if (fp == NULL) {
		os_strerror(errno, err, errlen);
		return NULL;
	}
	s = sink_new(SINK_FILE);
	if (s == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fp = fp;
	return s;
}

struct log_sink *log_sink_syslog(const char *ident)
{
	struct log_sink *s = sink_new(SINK_SYSLOG);

	if (s == NULL)
		return NULL;
	s->ident = strdup(ident && *ident ? ident : "3proxy");
#ifndef _WIN32
	openlog(s->ident, LOG_PID, LOG_DAEMON);
#endif
	return s;
}

void log_sink_ref(struct log_sink *s)
{
	os_atomic_inc(&s->refs);
}

void log_sink_unref(struct log_sink *s)
{
	if (s == NULL || os_atomic_dec(&s->refs) != 0)
		return;
	if (s->kind == SINK_FILE)
		fclose(s->fp);
	else if (s->kind == SINK_STDOUT)
		fflush(stdout);
#ifndef _WIN32
	else if (s->kind == SINK_SYSLOG)
		closelog();   /* openlog() kept a pointer to ident */
#endif
	os_mutex_destroy(&s->lock);
	free(s->ident);
	free(s);
}

void log_sink_write(struct log_sink *s, const char *line, size_t len)
{
	if (s == NULL)
		return;
#ifndef _WIN32
	if (s->kind == SINK_SYSLOG) {
		syslog(LOG_INFO, "%.*s", (int)len, line);
		return;
	}
#endif
	if (s->fp == NULL)
		return;
	os_mutex_lock(&s->lock);
	fwrite(line, 1, len, s->fp);
	fputc('\n', s->fp);
	/* Flushed at once: a record must reach `docker logs`, a pipe or
	 * the file even if the process is killed right after. */
	fflush(s->fp);
	os_mutex_unlock(&s->lock);
}

void log_sink_flush(struct log_sink *s)
{
	if (s == NULL || s->fp == NULL)
		return;
	os_mutex_lock(&s->lock);
	fflush(s->fp);
	os_mutex_unlock(&s->lock);
}

void log_diag(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "3proxy: %s\n", buf);
	fflush(stderr);
}
