/*
 * log_odbc.c - `log &DSN[,USER[,PASSWORD]]`: access records as SQL
 * statements executed on an ODBC data source (logging.md 1.3, F-LOG-07).
 *
 * A database can be slow or gone for minutes, and a relay or worker must
 * never wait for it.  So the caller only appends the statement to a queue
 * bounded in count and bytes (a full queue drops the record and counts
 * it), and one writer thread per sink owns the ODBC handles: it connects,
 * executes in order, reconnects after a failure and reports drops at most
 * once a minute.  Connection attempts: after more than 5 consecutive
 * failures, at most one every 180 s (logging.md 1.3); before that at most
 * one a second, so a burst of records does not hammer a dead server.
 * A statement that fails is dropped (3proxy would write it to the log
 * file; doc/compat.md).
 *
 * Built only with unixODBC, so POSIX threads are used directly for the
 * condition variable that os.h does not have.
 */
#include "log_odbc.h"
#include "log.h"
#include "os.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sql.h>
#include <sqlext.h>

#define QUEUE_MAX_RECORDS 10000
#define QUEUE_MAX_BYTES (4u << 20)
#define REPORT_EVERY_MS 60000     /* drops and failed statements */
#define RETRY_FAST_MS 1000        /* the first attempts */
#define RETRY_SLOW_MS 180000      /* after FAST_ATTEMPTS failures */
#define FAST_ATTEMPTS 5
#define DRAIN_MS 2000             /* at close */
#define DB_TIMEOUT_S 10           /* login and query timeouts */

struct odbc_rec {
	struct odbc_rec *next;
	size_t len;
	char sql[];
};

struct odbc_sink {
	/* shared with producers, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct odbc_rec *head, *tail;
	size_t count, bytes;
	uint64_t dropped;           /* not reported yet */
	int stop;
	uint64_t deadline;          /* when stop: give up draining */
	/* the writer thread's own */
	os_thread_t *thread;
	char *dsn, *user, *pass;
	SQLHENV env;
	SQLHDBC dbc;
	int connected;
	int failures;               /* consecutive connection failures */
	int pinned;                 /* pin_odbcinst() done */
	uint64_t next_try;
	uint64_t drop_report;       /* last report of drops */
	uint64_t failed;            /* statements failed, not reported */
	uint64_t fail_report;
	char fail_msg[300];         /* the first of them */
};

/* ---- the queue (any thread) ---------------------------------------------- */

void odbc_sink_put(struct odbc_sink *o, const char *sql, size_t len)
{
	struct odbc_rec *r = NULL;

	pthread_mutex_lock(&o->lock);
	if (!o->stop && o->count < QUEUE_MAX_RECORDS &&
	    o->bytes + len <= QUEUE_MAX_BYTES)
		r = malloc(sizeof(*r) + len + 1);
	if (r == NULL) {
		o->dropped++;
		pthread_mutex_unlock(&o->lock);
		return;
	}
	r->next = NULL;
	r->len = len;
	memcpy(r->sql, sql, len);
	r->sql[len] = '\0';
	if (o->tail != NULL)
		o->tail->next = r;
	else
		o->head = r;
	o->tail = r;
	o->count++;
	o->bytes += len;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
}

/* Caller holds the lock. */
static struct odbc_rec *queue_pop(struct odbc_sink *o)
{
	struct odbc_rec *r = o->head;

	o->head = r->next;
	if (o->head == NULL)
		o->tail = NULL;
	o->count--;
	o->bytes -= r->len;
	return r;
}

/* ---- ODBC (writer thread only) ------------------------------------------- */

/* The first diagnostic record of a handle as "SQLSTATE: message". */
static void diag_text(SQLSMALLINT type, SQLHANDLE h, char *out, size_t n,
		      char state[6])
{
	SQLCHAR st[6] = "", msg[200] = "";
	SQLINTEGER native = 0;
	SQLSMALLINT mlen = 0;

	if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, 1, st, &native, msg,
					 (SQLSMALLINT)sizeof(msg), &mlen)))
		snprintf((char *)msg, sizeof(msg), "no details");
	snprintf(out, n, "%s: %s", st[0] ? (char *)st : "?????",
		 (char *)msg);
	memcpy(state, st, 6);
	state[5] = '\0';
}

static void db_disconnect(struct odbc_sink *o)
{
	if (o->dbc == SQL_NULL_HDBC)
		return;
	if (o->connected)
		SQLDisconnect(o->dbc);
	SQLFreeHandle(SQL_HANDLE_DBC, o->dbc);
	o->dbc = SQL_NULL_HDBC;
	o->connected = 0;
}

static int db_alloc(struct odbc_sink *o)
{
	if (o->env == SQL_NULL_HENV) {
		if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV,
						  SQL_NULL_HANDLE, &o->env))) {
			o->env = SQL_NULL_HENV;
			return -1;
		}
		SQLSetEnvAttr(o->env, SQL_ATTR_ODBC_VERSION,
			      (SQLPOINTER)SQL_OV_ODBC3, 0);
	}
	if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, o->env, &o->dbc))) {
		o->dbc = SQL_NULL_HDBC;
		return -1;
	}
	/* a server that does not answer must not hold the queue forever */
	SQLSetConnectAttr(o->dbc, SQL_ATTR_LOGIN_TIMEOUT,
			  (SQLPOINTER)(uintptr_t)DB_TIMEOUT_S, 0);
	return 0;
}

/* Drivers load unixODBC's installer library to read odbc.ini, and it
 * is unloaded with them at each disconnect; its static ini cache is
 * then lost, a leak per reconnect or reload.  Once it is loaded, keep
 * it for the life of the process, so the cache is reused. */
static void pin_odbcinst(struct odbc_sink *o)
{
#if defined(RTLD_NOLOAD) && defined(RTLD_NODELETE)
	static const char *const names[] = {
		"libodbcinst.so.2", "libodbcinst.so.1", "libodbcinst.so"
	};
	size_t i;

	if (o->pinned)
		return;
	o->pinned = 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD |
			   RTLD_NODELETE) != NULL)
			return;   /* never closed: that is the point */
#else
	(void)o;
#endif
}

/* One connection attempt; schedules the next one on failure. */
static void db_connect(struct odbc_sink *o)
{
	char msg[300] = "cannot allocate ODBC handles", state[6];
	SQLRETURN rc;

	if (db_alloc(o) == 0) {
		rc = SQLConnect(o->dbc, (SQLCHAR *)o->dsn, SQL_NTS,
				(SQLCHAR *)o->user, SQL_NTS,
				(SQLCHAR *)o->pass, SQL_NTS);
		if (SQL_SUCCEEDED(rc)) {
			if (o->failures > 0)
				log_diag("log &%s: connected", o->dsn);
			o->connected = 1;
			o->failures = 0;
			pin_odbcinst(o);
			return;
		}
		diag_text(SQL_HANDLE_DBC, o->dbc, msg, sizeof(msg), state);
		db_disconnect(o);
	}
	o->failures++;
	o->next_try = os_monotonic_ms() + (o->failures > FAST_ATTEMPTS ?
					   RETRY_SLOW_MS : RETRY_FAST_MS);
	log_diag("log &%s: cannot connect (attempt %d, next in %d s): %s",
		 o->dsn, o->failures,
		 (o->failures > FAST_ATTEMPTS ? RETRY_SLOW_MS :
		  RETRY_FAST_MS) / 1000, msg);
}

/* SQLSTATE class 08 is a connection error: reconnect before the next
 * statement.  Other failures are the statement's own. */
static void stmt_failed(struct odbc_sink *o, SQLHSTMT st)
{
	char msg[sizeof(o->fail_msg)], state[6];

	diag_text(SQL_HANDLE_STMT, st, msg, sizeof(msg), state);
	if (o->failed++ == 0)
		memcpy(o->fail_msg, msg, sizeof(msg));
	if (strncmp(state, "08", 2) == 0)
		db_disconnect(o);
}

static void db_exec(struct odbc_sink *o, const struct odbc_rec *r)
{
	SQLHSTMT st;

	if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, o->dbc, &st))) {
		if (o->failed++ == 0)
			snprintf(o->fail_msg, sizeof(o->fail_msg),
				 "cannot allocate a statement");
		db_disconnect(o);
		return;
	}
	SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT,
		       (SQLPOINTER)(uintptr_t)DB_TIMEOUT_S, 0);
	if (!SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)r->sql,
					 (SQLINTEGER)r->len)))
		stmt_failed(o, st);
	SQLFreeHandle(SQL_HANDLE_STMT, st);
}

/* ---- the writer thread --------------------------------------------------- */

/* Caller holds the lock; reports what was lost, at most once a minute
 * unless `now_anyway` (the last report at close). */
static void report(struct odbc_sink *o, int now_anyway)
{
	uint64_t now = os_monotonic_ms();
	uint64_t dropped = 0, failed = 0;
	char msg[sizeof(o->fail_msg)];

	if (o->dropped > 0 &&
	    (now_anyway || now - o->drop_report >= REPORT_EVERY_MS)) {
		dropped = o->dropped;
		o->dropped = 0;
		o->drop_report = now;
	}
	if (o->failed > 0 &&
	    (now_anyway || now - o->fail_report >= REPORT_EVERY_MS)) {
		failed = o->failed;
		o->failed = 0;
		o->fail_report = now;
		memcpy(msg, o->fail_msg, sizeof(msg));
	}
	if (dropped == 0 && failed == 0)
		return;
	pthread_mutex_unlock(&o->lock);   /* stderr may be slow too */
	if (dropped > 0)
		log_diag("log &%s: queue full or closing, %llu record(s) "
			 "dropped", o->dsn, (unsigned long long)dropped);
	if (failed > 0)
		log_diag("log &%s: %llu statement(s) failed and dropped, "
			 "first: %s", o->dsn, (unsigned long long)failed, msg);
	pthread_mutex_lock(&o->lock);
}

/* Caller holds the lock.  Sleeps until a record, a stop, the next
 * connection attempt or the next report, whichever comes first. */
static void wait_for_work(struct odbc_sink *o, uint64_t until)
{
	uint64_t now = os_monotonic_ms(), ms = 1000;
	struct timespec ts;

	if (until > now && until - now < ms)
		ms = until - now;
	else if (until <= now)
		ms = 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&o->wake, &o->lock, &ts);
}

/* Caller holds the lock.  1 when the loop should end. */
static int writer_step(struct odbc_sink *o)
{
	struct odbc_rec *r;
	uint64_t now = os_monotonic_ms();

	report(o, 0);
	if (o->stop && (o->head == NULL || now >= o->deadline))
		return 1;
	if (o->head != NULL && !o->connected && now >= o->next_try) {
		pthread_mutex_unlock(&o->lock);
		db_connect(o);
		pthread_mutex_lock(&o->lock);
		return 0;
	}
	if (o->head == NULL || !o->connected) {
		wait_for_work(o, o->stop ? o->deadline :
			      o->head != NULL ? o->next_try : now + 1000);
		return 0;
	}
	r = queue_pop(o);
	pthread_mutex_unlock(&o->lock);
	db_exec(o, r);
	free(r);
	pthread_mutex_lock(&o->lock);
	return 0;
}

static void writer(void *arg)
{
	struct odbc_sink *o = arg;

	db_connect(o);   /* at the `log` line, as 3proxy does */
	pthread_mutex_lock(&o->lock);
	while (!writer_step(o))
		;
	/* what the drain could not write in time is lost: counted */
	while (o->head != NULL) {
		free(queue_pop(o));
		o->dropped++;
	}
	report(o, 1);
	pthread_mutex_unlock(&o->lock);
	db_disconnect(o);
	if (o->env != SQL_NULL_HENV)
		SQLFreeHandle(SQL_HANDLE_ENV, o->env);
	o->env = SQL_NULL_HENV;
}

/* ---- open and close ------------------------------------------------------ */

static void sink_free(struct odbc_sink *o)
{
	pthread_cond_destroy(&o->wake);
	pthread_mutex_destroy(&o->lock);
	free(o->dsn);   /* user and pass point into the same block */
	free(o);
}

/* "DSN[,USER[,PASSWORD]]": the password is the rest, commas and all. */
static int parse_spec(struct odbc_sink *o, const char *spec)
{
	char *c;

	o->dsn = strdup(spec);
	if (o->dsn == NULL)
		return -1;
	o->user = o->pass = o->dsn + strlen(o->dsn);   /* "" */
	if ((c = strchr(o->dsn, ',')) != NULL) {
		*c = '\0';
		o->user = c + 1;
		if ((c = strchr(o->user, ',')) != NULL) {
			*c = '\0';
			o->pass = c + 1;
		}
	}
	return 0;
}

struct odbc_sink *odbc_sink_open(const char *spec, char *err, size_t errlen)
{
	struct odbc_sink *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->wake, NULL);
	o->env = SQL_NULL_HENV;
	o->dbc = SQL_NULL_HDBC;
	o->drop_report = o->fail_report = os_monotonic_ms() - REPORT_EVERY_MS;
	if (parse_spec(o, spec) != 0) {
		snprintf(err, errlen, "out of memory");
	} else if (o->dsn[0] == '\0') {
		snprintf(err, errlen, "no data source name after '&'");
	} else if (os_thread_joinable(&o->thread, writer, o, 0) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
	} else {
		return o;
	}
	sink_free(o);
	return NULL;
}

void odbc_sink_close(struct odbc_sink *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = 1;
	o->deadline = os_monotonic_ms() + DRAIN_MS;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
	os_thread_join(o->thread);
	sink_free(o);
}
