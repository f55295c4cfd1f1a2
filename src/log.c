/*
 * log.c - log sinks (stdout, append-mode files, syslog) and diagnostics.
 *
 * Each sink has its own mutex, held only around the write of a line that
 * was formatted before, or around a rotation's file switch (open the new
 * file, swap, close the old one): a writer never waits for more than
 * that.  Deleting old files and starting the archiver happen later, on
 * the main thread (log_sink_tick), outside the lock.  Sinks are
 * refcounted because several services and generations may share one.
 *
 * `log radius` is a sink too, so services keep one log pointer; it
 * writes no text (client.c sends accounting instead, radius_acct.c).
 * So is `log &DSN`: its lines are SQL statements handed to log_odbc.c,
 * which queues them for its own thread (built only with unixODBC).
 */
#include "log.h"
#include "logrotate.h"
#ifdef HAVE_ODBC
#include "log_odbc.h"
#endif
#include "os.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <syslog.h>
#endif

enum sink_kind { SINK_STDOUT, SINK_FILE, SINK_SYSLOG, SINK_RADIUS, SINK_ODBC };

#define NAME_MAX_LEN 4096

struct log_sink {
	enum sink_kind kind;
	int refs;               /* atomic */
	os_mutex_t lock;        /* guards fp, its buffer and the rotation */
	FILE *fp;
	char *ident;            /* syslog: must outlive openlog() */
	/* rotation (file sinks with a period) */
	char *pattern;          /* the name as given to `log` */
	enum logrot_period period;
	char *name;             /* the file open now */
	struct tm start;        /* start of its period */
	time_t next;            /* when to look at the calendar again */
	char *done_name;        /* closed by a switch, not yet tidied */
	struct tm done_start;   /* start of the period after it */
	struct odbc_sink *odbc; /* SINK_ODBC: queue and writer thread */
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

/* ---- rotation (logging.md 2) ---------------------------------------------- */

/* Name and start of the period containing now; -1 if the name does not
 * fit or the clock cannot be read. */
static int period_name(const struct log_sink *s, time_t now, char *name,
		       struct tm *start)
{
	struct tm lt, probe;
	time_t ts;

	if (os_localtime(now, &lt) != 0)
		return -1;
	logrot_period_start(&lt, s->period, start);
	probe = *start;
	ts = mktime(&probe);
	return logrot_name(name, NAME_MAX_LEN, s->pattern, s->period, start,
			   ts == (time_t)-1 ? now : ts);
}

/* When the period after start begins; at worst a second from now, so a
 * clock that mktime() cannot handle costs a look per second. */
static time_t next_boundary(enum logrot_period p, const struct tm *start,
			    time_t now)
{
	struct tm t = *start;
	time_t ts;

	if (p == LOGROT_NONE)
		return (time_t)-1;
	logrot_period_shift(&t, p, 1);
	ts = mktime(&t);
	return ts == (time_t)-1 || ts <= now ? now + 1 : ts;
}

/* Caller holds s->lock.  Opens the file of the current period when the
 * period changed; the old one is left for log_sink_tick(). */
static void maybe_switch(struct log_sink *s, time_t now)
{
	char *name;
	struct tm start;
	FILE *fp;

	if (s->period == LOGROT_NONE || now < s->next)
		return;
	name = malloc(NAME_MAX_LEN);
	if (name == NULL)
		return;
	if (period_name(s, now, name, &start) != 0) {
		s->next = now + 1;
		free(name);
		return;
	}
	if (strcmp(name, s->name) == 0 || (fp = fopen(name, "a")) == NULL) {
		/* same name (clock went back, DST) or cannot open: keep
		 * writing where we are and look again later */
		s->next = strcmp(name, s->name) == 0 ?
			  next_boundary(s->period, &start, now) : now + 1;
		free(name);
		return;
	}
	fclose(s->fp);
	s->fp = fp;
	free(s->done_name);   /* a switch nobody tidied: that file stays */
	s->done_name = s->name;
	s->done_start = start;
	s->name = name;
	s->start = start;
	s->next = next_boundary(s->period, &start, now);
}

struct log_sink *log_sink_file_rotating(const char *pattern, const char *rot,
					char *err, size_t errlen)
{
	struct log_sink *s = sink_new(SINK_FILE);
	time_t now = time(NULL);

	if (s == NULL || (s->pattern = strdup(pattern)) == NULL ||
	    (s->name = malloc(NAME_MAX_LEN)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	s->period = logrot_period_parse(rot);
	if (strchr(pattern, '%') == NULL && s->period == LOGROT_NONE)
		snprintf(s->name, NAME_MAX_LEN, "%s", pattern);
	else if (period_name(s, now, s->name, &s->start) != 0) {
		snprintf(err, errlen, "file name too long");
		goto bad;
	}
	s->next = next_boundary(s->period, &s->start, now);
	s->fp = fopen(s->name, "a");
	if (s->fp == NULL) {
		os_strerror(errno, err, errlen);
		goto bad;
	}
	return s;
bad:
	if (s != NULL) {
		free(s->pattern);
		free(s->name);
		os_mutex_destroy(&s->lock);
		free(s);
	}
	return NULL;
}

struct log_sink *log_sink_file(const char *path, char *err, size_t errlen)
{
	return log_sink_file_rotating(path, NULL, err, errlen);
}

struct log_sink *log_sink_radius(void)
{
	return sink_new(SINK_RADIUS);
}

int log_sink_is_radius(const struct log_sink *s)
{
	return s != NULL && s->kind == SINK_RADIUS;
}

/* ---- tidying after a switch (main thread only) ----------------------------- */

struct log_archiver *log_archiver_new(int argc, char **argv)
{
	struct log_archiver *a = calloc(1, sizeof(*a));

	if (a == NULL || argc < 2 || (a->ext = strdup(argv[0])) == NULL ||
	    (a->argv = calloc((size_t)argc, sizeof(char *))) == NULL)
		goto bad;
	for (a->argc = 0; a->argc < argc - 1; a->argc++)
		if ((a->argv[a->argc] = strdup(argv[a->argc + 1])) == NULL)
			goto bad;
	return a;
bad:
	log_archiver_free(a);
	return NULL;
}

void log_archiver_free(struct log_archiver *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->ext);
	free(a);
}

/* Archiver processes not reaped yet.  Only the main thread touches this
 * (log_sink_tick), so it needs no lock. */
#define MAX_CHILDREN 16
static long children[MAX_CHILDREN];
static int nchildren;

static void reap_children(void)
{
	int i = 0;

	while (i < nchildren) {
		if (os_spawn_reap(children[i]) != 0)
			children[i] = children[--nchildren];
		else
			i++;
	}
}

/* Append s to the command, in double quotes when quote is set. */
static int cmd_add(char *cmd, size_t cap, size_t *n, const char *s, int quote)
{
	int w = snprintf(cmd + *n, cap - *n, quote ? " \"%s\"" : " %s", s);

	if (w < 0 || (size_t)w >= cap - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* `archiver EXT CMD ARGS`: %A is the archive name, %F the closed file. */
static void run_archiver(const struct log_archiver *a, const char *file)
{
	char cmd[3 * NAME_MAX_LEN], arch[NAME_MAX_LEN];
	size_t n = 0;
	int i, bad = 0;

	snprintf(arch, sizeof(arch), "%s.%s", file, a->ext);
	cmd[0] = '\0';
	for (i = 0; i < a->argc && !bad; i++) {
		if (strcmp(a->argv[i], "%A") == 0)
			bad = cmd_add(cmd, sizeof(cmd), &n, arch, 1);
		else if (strcmp(a->argv[i], "%F") == 0)
			bad = cmd_add(cmd, sizeof(cmd), &n, file, 1);
		else
			bad = cmd_add(cmd, sizeof(cmd), &n, a->argv[i], 0);
	}
	if (bad) {
		log_diag("archiver: command too long for %s", file);
		return;
	}
	reap_children();
	if (nchildren == MAX_CHILDREN) {
		log_diag("archiver: %d still running; not archiving %s",
			 nchildren, file);
		return;
	}
	children[nchildren] = os_spawn_shell(cmd + 1);
	if (children[nchildren] < 0)
		log_diag("archiver: cannot run %s", cmd + 1);
	else
		nchildren++;
}

/* rotate N: the file (or archive) of the period N before the new one. */
static void delete_old(const struct log_sink *s, const struct tm *newstart,
		       int rotate, const struct log_archiver *a)
{
	char name[NAME_MAX_LEN + 64];
	struct tm t = *newstart, probe;
	time_t ts;
	size_t n;

	logrot_period_shift(&t, s->period, -rotate);
	probe = t;
	ts = mktime(&probe);
	if (logrot_name(name, NAME_MAX_LEN, s->pattern, s->period, &t,
			ts) != 0)
		return;
	n = strlen(name);
	if (a != NULL)
		snprintf(name + n, sizeof(name) - n, ".%s", a->ext);
	remove(name);   /* usually absent: nothing to report */
}

void log_sink_tick(struct log_sink *s, int rotate,
		   const struct log_archiver *a)
{
	char *done;
	struct tm start;

	reap_children();
	if (s == NULL || s->kind != SINK_FILE || s->period == LOGROT_NONE)
		return;
	os_mutex_lock(&s->lock);
	maybe_switch(s, time(NULL));   /* an idle daemon rotates too */
	done = s->done_name;
	start = s->done_start;
	s->done_name = NULL;
	os_mutex_unlock(&s->lock);
	if (done == NULL)
		return;
	/* logging.md 2: with rotate 0 nothing is deleted or archived */
	if (rotate > 0) {
		delete_old(s, &start, rotate, a);
		if (a != NULL)
			run_archiver(a, done);
	}
	free(done);
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

#ifdef HAVE_ODBC
struct log_sink *log_sink_odbc(const char *spec, char *err, size_t errlen)
{
	struct log_sink *s = sink_new(SINK_ODBC);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->odbc = odbc_sink_open(spec, err, errlen);
	if (s->odbc == NULL) {
		os_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

int log_odbc_available(void)
{
	return 1;
}
#else
struct log_sink *log_sink_odbc(const char *spec, char *err, size_t errlen)
{
	snprintf(err, errlen, "this build has no ODBC (unixODBC)");
	return NULL;
}

int log_odbc_available(void)
{
	return 0;
}
#endif

int log_sink_is_sql(const struct log_sink *s)
{
	return s != NULL && s->kind == SINK_ODBC;
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
		fclose(s->fp);   /* a pending done_name is not tidied: gone */
	else if (s->kind == SINK_STDOUT)
		fflush(stdout);
#ifndef _WIN32
	else if (s->kind == SINK_SYSLOG)
		closelog();   /* openlog() kept a pointer to ident */
#endif
#ifdef HAVE_ODBC
	else if (s->kind == SINK_ODBC)
		odbc_sink_close(s->odbc);   /* drains, for 2 s at most */
#endif
	os_mutex_destroy(&s->lock);
	free(s->ident);
	free(s->pattern);
	free(s->name);
	free(s->done_name);
	free(s);
}

void log_sink_write(struct log_sink *s, const char *line, size_t len)
{
	if (s == NULL)
		return;
#ifdef HAVE_ODBC
	if (s->kind == SINK_ODBC) {
		odbc_sink_put(s->odbc, line, len);   /* never waits */
		return;
	}
#endif
#ifndef _WIN32
	if (s->kind == SINK_SYSLOG) {
		syslog(LOG_INFO, "%.*s", (int)len, line);
		return;
	}
#endif
	if (s->fp == NULL)
		return;
	os_mutex_lock(&s->lock);
	if (s->kind == SINK_FILE)
		maybe_switch(s, time(NULL));
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
