/*
 * counter.c - traffic counters, quotas, the counter file and reports
 * (reference limits.md section 4).
 *
 * Owns struct counter_conf (the count* list of a generation, the report
 * settings), the process-wide registry of counter files (struct
 * cnt_file: the values of numbered counters, keyed by path) and struct
 * counter_client (the counters of a client's current request).
 *
 * Charging: a request selects its counters when it is authorized.  The
 * relay hook adds what it reads to a per-connection pending count and
 * charges the shared values once COUNTER_BATCH bytes are pending or the
 * pending bytes could cross a quota, so a long download is cut as it
 * crosses the limit; at each access record the bytes the hook did not
 * see (HTTP bodies, headers, UDP) are charged as well.
 *
 * Locking: cnt_lock guards every value (cnt_slot), the registry, the
 * files' slot arrays and dump times, and counter_conf.dumped.  It is
 * held for a few lines, never across file I/O: saves and reports work
 * on a copy.  A file's own `io` mutex orders the rewrites of that file;
 * a saver takes it first and cnt_lock inside it, for the copy only.
 * Workers never take `io`.
 */
#include "counter.h"
#include "numfmt.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "limit.h"
#include "log.h"
#include "logformat.h"
#include "os.h"
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

enum { CNT_IN = 1, CNT_OUT = 2, CNT_ALL = 3 };   /* rule kinds (bits) */
enum { DIR_IN = 0, DIR_OUT = 1 };                /* from / to servers */

/* One value, as kept in memory and as a record of the counter file
 * (limits.md 4.4: native byte order, time_t and alignment). */
struct cnt_slot {
	uint64_t bytes;
	time_t cleared;          /* last reset */
	time_t updated;          /* last charge */
};

/* The counter file header. */
struct cnt_head {
	char sig[4];             /* "3CF" */
	time_t updated;          /* last dump */
};

/* Timestamps beyond this mean a damaged file (3proxy's bound). */
#define CNT_TIME_MAX (sizeof(time_t) > 4 ? (time_t)0x793406FFFLL \
					 : (time_t)0x7FFFFFFF)

struct cnt_file {
	char *path;              /* registry key; immutable */
	FILE *f;                 /* open since `counter` */
	os_mutex_t io;           /* orders rewrites of f */
	/* the rest under cnt_lock */
	int refs;                /* counter_confs (and savers) using it */
	struct cnt_slot *slot;   /* slot[n - 1] = counter n */
	size_t nslot;
	time_t dumped;           /* last dump, as in the header */
	struct cnt_file *next;
};

struct cnt_rule {
	struct acl_rule *rule;
	unsigned kind;           /* CNT_IN, CNT_OUT or CNT_ALL */
	int no;                  /* nocount*: an exclusion */
	int number;              /* position in the file; 0 = not kept */
	char *comment;           /* NULL = none */
	char type;               /* reset period letter, upper case */
	uint64_t limit;          /* bytes */
	struct cnt_file *file;   /* numbered rule of a running config */
	struct cnt_slot own;     /* otherwise the value is here */
	int disabled;            /* atomic: switched off by admin /CDn */
};

struct counter_conf {
	struct cnt_rule **rules;     /* config order */
	size_t nrules;
	struct cnt_file *file;       /* of the last `counter` line */
	int have_file;               /* a `counter` line ran (also --check) */
	struct cnt_file **files;     /* one reference per `counter` line */
	size_t nfiles;
	char report_type;            /* 0 = no reports */
	char *report_prefix;
	time_t dumped;               /* under cnt_lock: previous dump */
};

/* Per connection; owned by its worker thread. */
struct counter_client {
	struct cnt_rule *rules[2][COUNTER_MAX_MATCH];  /* quotas to check */
	int n[2];
	int charge[2];           /* rules[d] count the traffic of d */
	uint64_t allow[2];       /* room left at the last look */
	uint64_t pending[2];     /* read by the hook, not charged yet */
	uint64_t total[2];       /* read by the hook since authorization */
	uint64_t charged[2];     /* charged since the last access record */
	struct px_quota *ext;    /* a plugin's quota (conn_limit), one ref */
};

/* A plugin's quota (plugin_api.h quota_new): a counter rule without an
 * ACL, the value in r.own, selected for a connection by the plugin
 * instead of by matching.  Being a cnt_rule, it is charged and checked
 * by the same code as countin.  refs, r.type, r.limit and r.own are
 * under cnt_lock. */
struct px_quota {
	struct cnt_rule r;
	int refs;                /* the plugin's and each connection's */
};

static os_mutex_t cnt_lock = OS_MUTEX_INIT;
static struct cnt_file *cnt_files;        /* the registry */

/* Main thread only (counter_tick). */
static time_t tick_minute = -1;
static const struct conf_gen *tick_gen;

/* ---- calendar --------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* The day number of the Sunday that starts tm's week. */
static long week_start(const struct tm *tm)
{
	return days_from_civil(tm->tm_year + 1900L, tm->tm_mon + 1,
			       tm->tm_mday) - tm->tm_wday;
}

/* Period lengths in order; never-reset counters are the longest. */
static int period_rank(char t)
{
	switch (t) {
	case 'C': return 1;
	case 'H': return 2;
	case 'D': return 3;
	case 'W': return 4;
	case 'M': return 5;
	case 'Y': return 6;
	default: return 7;
	}
}

int counter_period_changed(char type, time_t prev, time_t now)
{
	struct tm a, b;

	if (period_rank(type) == 7)
		return 0;
	if (os_localtime(prev, &a) != 0 || os_localtime(now, &b) != 0)
		return 0;
	switch (type) {
	case 'C':
		if (a.tm_min != b.tm_min)
			return 1;
		/* fall through */
	case 'H':
		if (a.tm_hour != b.tm_hour)
			return 1;
		/* fall through */
	case 'D':
		return a.tm_yday != b.tm_yday || a.tm_year != b.tm_year;
	case 'W':
		return week_start(&a) != week_start(&b);
	case 'M':
		return a.tm_mon != b.tm_mon || a.tm_year != b.tm_year;
	default:
		return a.tm_year != b.tm_year;
	}
}

int counter_report_name(char *out, size_t len, const char *prefix, char type,
			time_t t)
{
	struct tm tm;
	int n, y, m, d;

	if (strchr(prefix, '%') != NULL) {
		/* a template of logformat's time macros, in local time */
		struct log_record rec;
		char fmt[1024];

		if ((size_t)snprintf(fmt, sizeof(fmt), "L%s", prefix) >=
		    sizeof(fmt))
			return -1;
		memset(&rec, 0, sizeof(rec));
		rec.now.tv_sec = t;
		rec.text = "";
		return logformat_expand(out, len, fmt, &rec) + 1 < len ? 0 : -1;
	}
	if (os_localtime(t, &tm) != 0)
		return -1;
	y = tm.tm_year + 1900;
	switch (type) {
	case 'Y':
		n = snprintf(out, len, "%s.%04d", prefix, y);
		break;
	case 'M':
		n = snprintf(out, len, "%s.%04d.%02d", prefix, y,
			     tm.tm_mon + 1);
		break;
	case 'W':
		civil_from_days(week_start(&tm), &y, &m, &d);
		n = snprintf(out, len, "%s.%04d.%02d.%02d", prefix, y, m, d);
		break;
	case 'D':
		n = snprintf(out, len, "%s.%04d.%02d.%02d", prefix, y,
			     tm.tm_mon + 1, tm.tm_mday);
		break;
	case 'H':
		n = snprintf(out, len, "%s.%04d.%02d.%02d-%02d", prefix, y,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
		break;
	case 'C':
		n = snprintf(out, len, "%s.%04d.%02d.%02d-%02d.%02d", prefix,
			     y, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min);
		break;
	default:
		n = snprintf(out, len, "%s", prefix);
		break;
	}
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

size_t counter_report_line(char *out, size_t len, int number,
			   uint64_t bytes, const char *comment)
{
	char digits[NUMFMT_U64_SIZE];
	int n;

	/* %020 of a 64-bit value (numfmt.h) */
	(void)numfmt_u64(digits, bytes, 20);
	n = snprintf(out, len, "%05d %s%s%s\n", number, digits,
		     comment ? " #" : "", comment ? comment : "");
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* ---- values ------------------------------------------------------------------ */

/* The value of r.  Under cnt_lock. */
static struct cnt_slot *rule_slot(struct cnt_rule *r)
{
	if (r->file != NULL && r->number > 0 &&
	    (size_t)r->number <= r->file->nslot)
		return &r->file->slot[r->number - 1];
	return &r->own;
}

/* ---- counter files ---------------------------------------------------------- */

static FILE *file_open(const char *path)
{
#ifndef _WIN32
	int flags = O_RDWR | O_CREAT;
	int fd;
	FILE *f;

#ifdef O_CLOEXEC
	flags |= O_CLOEXEC;
#endif
	fd = open(path, flags, 0660);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r+b");
	if (f == NULL)
		close(fd);
	return f;
#else
	FILE *f = fopen(path, "r+b");

	return f != NULL ? f : fopen(path, "w+b");
#endif
}

static int time_ok(time_t t)
{
	return t >= 0 && t <= CNT_TIME_MAX;
}

/* Read the header and every record of cf->f into cf (not yet shared).
 * Returns 0, 1 for a wrong signature, 2 for a damaged file. */
static int file_load(struct cnt_file *cf, time_t now)
{
	struct cnt_head h;
	struct cnt_slot rec, *v;
	size_t n;

	cf->dumped = now;
	if (fseek(cf->f, 0, SEEK_SET) != 0)
		return 2;
	n = fread(&h, 1, sizeof(h), cf->f);
	if (n == 0)
		return 0;               /* a new file */
	if (n != sizeof(h) || memcmp(h.sig, "3CF", 4) != 0)
		return 1;
	if (!time_ok(h.updated))
		return 2;
	if (h.updated != 0)
		cf->dumped = h.updated;
	while (fread(&rec, 1, sizeof(rec), cf->f) == sizeof(rec)) {
		if (!time_ok(rec.cleared) || !time_ok(rec.updated))
			return 2;
		if (cf->nslot >= COUNTER_MAX_NUMBER)
			return 2;
		v = realloc(cf->slot, sizeof(*v) * (cf->nslot + 1));
		if (v == NULL)
			return 2;
		cf->slot = v;
		cf->slot[cf->nslot++] = rec;
	}
	return 0;
}

/* Rewrite cf from a copy of its values.  The io mutex is held across
 * the copy and the write so that saves land in order; cnt_lock is taken
 * inside it for the copy only (order: io -> cnt_lock; workers never
 * take io). */
static void file_save(struct cnt_file *cf)
{
	struct cnt_head h;
	struct cnt_slot *copy = NULL;
	size_t n;
	int ok;

	memset(&h, 0, sizeof(h));
	memcpy(h.sig, "3CF", 4);
	os_mutex_lock(&cf->io);
	os_mutex_lock(&cnt_lock);
	n = cf->nslot;
	h.updated = cf->dumped;
	if (n > 0) {
		copy = malloc(sizeof(*copy) * n);
		if (copy != NULL)
			memcpy(copy, cf->slot, sizeof(*copy) * n);
	}
	os_mutex_unlock(&cnt_lock);
	ok = (n == 0 || copy != NULL) &&
	     fseek(cf->f, 0, SEEK_SET) == 0 &&
	     fwrite(&h, sizeof(h), 1, cf->f) == 1 &&
	     (n == 0 || fwrite(copy, sizeof(*copy), n, cf->f) == n) &&
	     fflush(cf->f) == 0;
	os_mutex_unlock(&cf->io);
	if (!ok)
		log_diag("counter: cannot write %s: %s", cf->path,
			 strerror(errno));
	free(copy);
}

/* Drop a reference; the last one saves.  The file stays registered and
 * open: a configuration that names it again (a reload back to it) takes
 * the values in memory, which are never older than the file, and no
 * reader can meet a half-written file. */
static void file_unref(struct cnt_file *cf)
{
	int last;

	os_mutex_lock(&cnt_lock);
	last = --cf->refs == 0;
	os_mutex_unlock(&cnt_lock);
	if (last)
		file_save(cf);
}

void counter_cleanup(void)
{
	struct cnt_file **pp = &cnt_files, *cf, *dead = NULL;

	os_mutex_lock(&cnt_lock);
	while ((cf = *pp) != NULL) {
		if (cf->refs == 0) {
			*pp = cf->next;
			cf->next = dead;
			dead = cf;
		} else {
			pp = &cf->next;
		}
	}
	os_mutex_unlock(&cnt_lock);
	while ((cf = dead) != NULL) {
		dead = cf->next;
		file_save(cf);
		fclose(cf->f);
		os_mutex_destroy(&cf->io);
		free(cf->slot);
		free(cf->path);
		free(cf);
	}
}

/* The registered file for path with one more reference, or a newly
 * opened and loaded one.  Config thread only: the only place files are
 * added, so finding and adding need not be one locked step. */
static struct cnt_file *file_get(struct conf_ctx *ctx, const char *path)
{
	struct cnt_file *cf;
	time_t now = time(NULL);
	int rc;

	os_mutex_lock(&cnt_lock);
	for (cf = cnt_files; cf != NULL; cf = cf->next)
		if (strcmp(cf->path, path) == 0)
			break;
	if (cf != NULL)
		cf->refs++;
	os_mutex_unlock(&cnt_lock);
	if (cf != NULL)
		return cf;

	cf = calloc(1, sizeof(*cf));
	if (cf == NULL || (cf->path = strdup(path)) == NULL) {
		free(cf);
		conf_error(ctx, "out of memory");
		return NULL;
	}
	cf->f = file_open(path);
	if (cf->f == NULL) {
		conf_error(ctx, "counter: cannot open %s: %s", path,
			   strerror(errno));
		free(cf->path);
		free(cf);
		return NULL;
	}
	rc = file_load(cf, now);
	if (rc != 0) {
		if (rc == 1)
			conf_error(ctx, "Not a counter file %s, line %d", path,
				   ctx->pos.line);
		else
			conf_error(ctx, "Invalid or corrupted counter file %s",
				   path);
		fclose(cf->f);
		free(cf->slot);
		free(cf->path);
		free(cf);
		return NULL;
	}
	os_mutex_init(&cf->io);
	cf->refs = 1;
	os_mutex_lock(&cnt_lock);
	cf->next = cnt_files;
	cnt_files = cf;
	os_mutex_unlock(&cnt_lock);
	return cf;
}

/* Make slot number n exist (new slots count from now). */
static int file_grow(struct cnt_file *cf, size_t n, time_t now)
{
	struct cnt_slot *v;
	size_t i;
	int rc = 0;

	os_mutex_lock(&cnt_lock);
	if (n > cf->nslot) {
		v = realloc(cf->slot, sizeof(*v) * n);
		if (v == NULL) {
			rc = -1;
		} else {
			for (i = cf->nslot; i < n; i++) {
				memset(&v[i], 0, sizeof(v[i]));
				v[i].cleared = now;
			}
			cf->slot = v;
			cf->nslot = n;
		}
	}
	if (rc == 0 && cf->slot[n - 1].cleared == 0)
		cf->slot[n - 1].cleared = now;
	os_mutex_unlock(&cnt_lock);
	return rc;
}

void counter_save_all(void)
{
	struct cnt_file **v = NULL, *cf;
	size_t n = 0, i;

	os_mutex_lock(&cnt_lock);
	for (cf = cnt_files; cf != NULL; cf = cf->next)
		n++;
	if (n > 0)
		v = malloc(sizeof(*v) * n);
	n = 0;
	if (v != NULL) {
		for (cf = cnt_files; cf != NULL; cf = cf->next) {
			cf->refs++;        /* not cleaned up while saved */
			v[n++] = cf;
		}
	}
	os_mutex_unlock(&cnt_lock);
	for (i = 0; i < n; i++)
		file_save(v[i]);
	os_mutex_lock(&cnt_lock);
	for (i = 0; i < n; i++)
		v[i]->refs--;
	os_mutex_unlock(&cnt_lock);
	free(v);
}

/* ---- the rule list ------------------------------------------------------------ */

void counter_conf_free(struct counter_conf *cc)
{
	size_t i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->nrules; i++) {
		acl_rule_unref(cc->rules[i]->rule);
		free(cc->rules[i]->comment);
		free(cc->rules[i]);
	}
	free(cc->rules);
	for (i = 0; i < cc->nfiles; i++)
		file_unref(cc->files[i]);
	free(cc->files);
	free(cc->report_prefix);
	free(cc);
}

static struct counter_conf *cnt_conf(struct conf_ctx *ctx)
{
	struct counter_conf *cc = ctx->gen->counters;

	if (cc == NULL) {
		cc = calloc(1, sizeof(*cc));
		if (cc == NULL) {
			conf_error(ctx, "out of memory");
			return NULL;
		}
		cc->dumped = time(NULL);
		ctx->gen->counters = cc;
	}
	return cc;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int counter_cmd_counter(struct conf_ctx *ctx, int argc, char **argv)
{
	struct counter_conf *cc = cnt_conf(ctx);
	struct cnt_file *cf, **v;

	if (cc == NULL)
		return 21;
	cc->have_file = 1;
	if (argc == 3)
		conf_warning(ctx, "counter: a report type needs a report "
			     "path: no reports");
	if (argc >= 4) {
		char *p = conf_strdup(ctx, argv[3]);

		if (p == NULL)
			return 21;
		free(cc->report_prefix);
		cc->report_prefix = p;
		cc->report_type = upper(argv[2][0]);
	}
	if (ctx->mode == CONF_CHECK)
		return 0;
	cf = file_get(ctx, argv[1]);
	if (cf == NULL)
		return 2;
	v = realloc(cc->files, sizeof(*v) * (cc->nfiles + 1));
	if (v == NULL) {
		file_unref(cf);
		conf_error(ctx, "out of memory");
		return 21;
	}
	cc->files = v;
	cc->files[cc->nfiles++] = cf;
	cc->file = cf;
	os_mutex_lock(&cnt_lock);
	cc->dumped = cf->dumped;
	os_mutex_unlock(&cnt_lock);
	return 0;
}

/* "N", "N/comment" or "Ncomment": the number (atoi-like) and the text. */
static int parse_number(struct conf_ctx *ctx, const char *cmd, const char *s,
			long *num, char **comment)
{
	long v = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > COUNTER_MAX_NUMBER) {
			conf_error(ctx, "%s: counter number too large (at most "
				   "%d)", cmd, COUNTER_MAX_NUMBER);
			return -1;
		}
	}
	if (*s == '/')
		s++;
	*num = v;
	*comment = NULL;
	if (*s != '\0' && (*comment = conf_strdup(ctx, s)) == NULL)
		return -1;
	return 0;
}

/* A limit in MiB, as bytes; 0 or not a number -> error. */
static int parse_limit(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX >> 20) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v == 0 || v > (UINT64_MAX >> 20))
		return -1;
	*out = v << 20;
	return 0;
}

int counter_cmd_count(struct conf_ctx *ctx, int argc, char **argv)
{
	int no = strncmp(argv[0], "no", 2) == 0;
	const char *what = argv[0] + (no ? 7 : 5);    /* "in" "out" "all" */
	struct counter_conf *cc = cnt_conf(ctx);
	struct cnt_rule *r, **v;
	time_t now = time(NULL);
	int first = no ? 1 : 4;
	long num = 0;
	size_t i;

	if (cc == NULL)
		return 21;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		conf_error(ctx, "out of memory");
		return 21;
	}
	r->no = no;
	r->kind = strcmp(what, "in") == 0 ? CNT_IN :
		  strcmp(what, "out") == 0 ? CNT_OUT : CNT_ALL;
	r->own.cleared = now;
	if (!no) {
		if (parse_number(ctx, argv[0], argv[1], &num, &r->comment) != 0)
			goto bad;
		r->number = (int)num;
		r->type = upper(argv[2][0]);
		if (parse_limit(argv[3], &r->limit) != 0) {
			conf_error(ctx, "Wrong traffic limit specified");
			goto bad;
		}
		if (num > 0 && !cc->have_file) {
			conf_error(ctx, "%s: counter %ld needs a `counter` "
				   "file line before it", argv[0], num);
			goto bad;
		}
		for (i = 0; num > 0 && i < cc->nrules; i++) {
			if (cc->rules[i]->number == num) {
				conf_error(ctx, "%s: counter number %ld is "
					   "used twice", argv[0], num);
				goto bad;
			}
		}
	}
	r->rule = limit_compile_ace(ctx, argv[0], argc - first, argv + first);
	if (r->rule == NULL)
		goto bad;
	if (num > 0 && cc->file != NULL) {
		if (file_grow(cc->file, (size_t)num, now) != 0) {
			conf_error(ctx, "out of memory");
			goto bad;
		}
		r->file = cc->file;
	}
	v = realloc(cc->rules, sizeof(*v) * (cc->nrules + 1));
	if (v == NULL) {
		conf_error(ctx, "out of memory");
		goto bad;
	}
	cc->rules = v;
	cc->rules[cc->nrules++] = r;
	return 0;
bad:
	acl_rule_unref(r->rule);
	free(r->comment);
	free(r);
	return 1;
}

/* ---- requests ------------------------------------------------------------------ */

static void add_rule(struct counter_client *s, int d, struct cnt_rule *r)
{
	if (s->n[d] < COUNTER_MAX_MATCH)
		s->rules[d][s->n[d]++] = r;
}

/* limits.md 4.2 / 4.3: the "in" walk, then the "out" walk if a rule of
 * the in walk called for it. */
static void cnt_select(const struct counter_conf *cc,
		       const struct client *cl, time_t now,
		       struct counter_client *s)
{
	int out_check = 0, out_charge = 0;
	size_t i;

	s->n[DIR_IN] = s->n[DIR_OUT] = 0;
	for (i = 0; i < cc->nrules; i++) {
		struct cnt_rule *r = cc->rules[i];

		if (!limit_match(r->rule, cl, now))
			continue;
		if (r->no) {
			if (r->kind == CNT_ALL)
				break;
			out_check = out_charge = 1;
			if (r->kind == CNT_IN)
				break;
			continue;
		}
		if (r->kind & CNT_IN)
			add_rule(s, DIR_IN, r);
		if (r->kind == CNT_OUT)
			out_check = out_charge = 1;
		else if (r->kind == CNT_ALL)
			/* [quirk] countall enables the upload check but
			 * not the upload accounting (limits.md 4.3) */
			out_check = 1;
	}
	for (i = 0; out_check && i < cc->nrules; i++) {
		struct cnt_rule *r = cc->rules[i];

		if (!limit_match(r->rule, cl, now))
			continue;
		if (r->no) {
			if (r->kind & CNT_OUT)
				break;
			continue;
		}
		if (r->kind & CNT_OUT)
			add_rule(s, DIR_OUT, r);
	}
	s->charge[DIR_IN] = s->n[DIR_IN] > 0;
	s->charge[DIR_OUT] = s->n[DIR_OUT] > 0 && out_charge;
}

/* Charge add[d] to the counters of each direction, then look at the
 * room left.  Returns 1 if the traffic now exceeds a quota; *used_up
 * (may be NULL) tells whether some quota has no room left at all.
 * Takes cnt_lock. */
static int cnt_charge(struct counter_client *s, const uint64_t add[2],
		      time_t now, int *used_up)
{
	int d, i, over = 0, full = 0;

	os_mutex_lock(&cnt_lock);
	for (d = 0; d < 2; d++) {
		uint64_t room = UINT64_MAX;

		for (i = 0; i < s->n[d]; i++) {
			struct cnt_rule *r = s->rules[d][i];
			struct cnt_slot *v = rule_slot(r);
			uint64_t extra = s->charge[d] ? 0 : s->total[d];

			if (s->charge[d] && add[d] > 0) {
				v->bytes += add[d];
				v->updated = now;
			}
			/* switched off by admin /CDn: it keeps counting but
			 * limits nothing (limits.md 4.2, 4.3) */
			if (os_atomic_load(&r->disabled))
				continue;
			if (v->bytes + extra > r->limit)
				over = 1;
			if (v->bytes >= r->limit) {
				full = 1;
				room = 0;
			} else if (r->limit - v->bytes < room) {
				room = r->limit - v->bytes;
			}
		}
		s->allow[d] = room;
	}
	os_mutex_unlock(&cnt_lock);
	if (used_up != NULL)
		*used_up = full;
	return over;
}

/* limits.md 4.2.  Every selected quota is checked, and while relaying
 * the room left is the least of them (3proxy keeps only the last
 * matching rule's allowance; the others then apply from the next
 * request on). */
int counter_authorize(struct client *cl)
{
	const struct counter_conf *cc = cl->gen ? cl->gen->counters : NULL;
	struct counter_client *s = cl->cnt;
	static const uint64_t none[2] = { 0, 0 };
	int d, used_up = 0;

	/* a new request starts with nothing selected; a plugin's filter
	 * attaches its quota again after this (counter_quota_attach) */
	counter_forget(cl);
	for (d = 0; s != NULL && d < 2; d++)
		s->pending[d] = s->total[d] = 0;
	if (cc == NULL || cc->nrules == 0)
		return 0;
	if (s == NULL) {
		s = cl->cnt = calloc(1, sizeof(*s));
		if (s == NULL)
			return ERR_NOMEM;
	}
	cnt_select(cc, cl, time(NULL), s);
	(void)cnt_charge(s, none, 0, &used_up);
	if (used_up) {
		counter_forget(cl);
		return ERR_LIMIT;
	}
	return 0;
}

static void ext_drop(struct counter_client *s)
{
	if (s->ext != NULL) {
		counter_quota_unref(s->ext);
		s->ext = NULL;
	}
}

void counter_forget(struct client *cl)
{
	struct counter_client *s = cl->cnt;

	if (s != NULL) {
		s->n[DIR_IN] = s->n[DIR_OUT] = 0;
		s->charge[DIR_IN] = s->charge[DIR_OUT] = 0;
		ext_drop(s);
	}
}

int counter_active(const struct client *cl)
{
	const struct counter_client *s = cl->cnt;

	return s != NULL && s->n[DIR_IN] + s->n[DIR_OUT] > 0;
}

int counter_relay_charge(struct client *cl, int dir, size_t n)
{
	struct counter_client *s = cl->cnt;
	int d = dir == RELAY_S2C ? DIR_IN : DIR_OUT;
	uint64_t add[2] = { 0, 0 }, extra;

	if (s == NULL || s->n[d] == 0)
		return 0;
	s->pending[d] += n;
	s->total[d] += n;
	extra = s->charge[d] ? s->pending[d] : s->total[d];
	if (extra <= s->allow[d] && s->pending[d] < COUNTER_BATCH)
		return 0;
	if (s->charge[d]) {
		add[d] = s->pending[d];
		s->charged[d] += s->pending[d];
	}
	s->pending[d] = 0;
	return cnt_charge(s, add, time(NULL), NULL) ? ERR_LIMIT : 0;
}

void counter_account(struct client *cl)
{
	struct counter_client *s = cl->cnt;
	uint64_t got[2], add[2] = { 0, 0 };
	int d;

	if (s == NULL)
		return;
	got[DIR_IN] = cl->stats.bytes_from_server;
	got[DIR_OUT] = cl->stats.bytes_from_client;
	for (d = 0; d < 2; d++) {
		if (s->charge[d] && got[d] > s->charged[d])
			add[d] = got[d] - s->charged[d];
		s->charged[d] = 0;
		s->pending[d] = 0;
	}
	if (add[DIR_IN] + add[DIR_OUT] > 0)
		(void)cnt_charge(s, add, time(NULL), NULL);
}

void counter_client_free(struct client *cl)
{
	if (cl->cnt != NULL)
		ext_drop(cl->cnt);
	free(cl->cnt);
	cl->cnt = NULL;
}

/* ---- plugin quotas ------------------------------------------------------------ */

/* A new period started since the value was last reset: start over, as
 * cnt_dump does for count* rules.  Under cnt_lock. */
static void quota_roll(struct px_quota *q, time_t now)
{
	if (counter_period_changed(q->r.type, q->r.own.cleared, now)) {
		q->r.own.bytes = 0;
		q->r.own.cleared = now;
	}
}

static int quota_args_ok(char period, uint64_t limit)
{
	return limit > 0 && period != '\0' && strchr("CHDWMY", period) != NULL;
}

struct px_quota *counter_quota_new(char period, uint64_t limit,
				   uint64_t bytes, int64_t start)
{
	struct px_quota *q;
	time_t now = time(NULL);

	period = upper(period);
	if (!quota_args_ok(period, limit) || start < 0 ||
	    (time_t)start > CNT_TIME_MAX)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->r.kind = CNT_IN;
	q->r.type = period;
	q->r.limit = limit;
	q->r.own.bytes = bytes;
	q->r.own.cleared = start > 0 ? (time_t)start : now;
	q->refs = 1;
	return q;
}

int counter_quota_set(struct px_quota *q, char period, uint64_t limit)
{
	period = upper(period);
	if (q == NULL || !quota_args_ok(period, limit))
		return -1;
	os_mutex_lock(&cnt_lock);
	q->r.type = period;
	q->r.limit = limit;
	os_mutex_unlock(&cnt_lock);
	return 0;
}

void counter_quota_read(struct px_quota *q, uint64_t *bytes, int64_t *start)
{
	os_mutex_lock(&cnt_lock);
	quota_roll(q, time(NULL));
	*bytes = q->r.own.bytes;
	*start = (int64_t)q->r.own.cleared;
	os_mutex_unlock(&cnt_lock);
}

void counter_quota_unref(struct px_quota *q)
{
	int last;

	if (q == NULL)
		return;
	os_mutex_lock(&cnt_lock);
	last = --q->refs == 0;
	os_mutex_unlock(&cnt_lock);
	if (last)
		free(q);
}

int counter_quota_attach(struct client *cl, struct px_quota *q)
{
	struct counter_client *s = cl->cnt;

	if (s == NULL && (s = cl->cnt = calloc(1, sizeof(*s))) == NULL)
		return -1;
	os_mutex_lock(&cnt_lock);
	q->refs++;
	quota_roll(q, time(NULL));
	os_mutex_unlock(&cnt_lock);
	ext_drop(s);
	s->ext = q;
	/* the plugin's quota is never dropped for want of room */
	if (s->n[DIR_IN] == COUNTER_MAX_MATCH)
		s->n[DIR_IN]--;
	add_rule(s, DIR_IN, &q->r);
	s->charge[DIR_IN] = 1;
	return 0;
}

int counter_quota_check(struct client *cl)
{
	struct counter_client *s = cl->cnt;
	static const uint64_t none[2] = { 0, 0 };
	int used_up = 0;

	if (s == NULL || s->ext == NULL)
		return 0;
	/* also sets the room left that the relay hook starts from */
	(void)cnt_charge(s, none, 0, &used_up);
	if (!used_up)
		return 0;
	counter_forget(cl);
	return ERR_LIMIT;
}

/* ---- dumps: reports, resets, saves ------------------------------------------ */

struct report_line {
	int number;
	uint64_t bytes;
	const char *comment;     /* the rule's, alive with the generation */
};

static void write_report(const struct counter_conf *cc, time_t when,
			 const struct report_line *lines, size_t n)
{
	char name[4096], line[1024];
	FILE *f;
	size_t i, len;

	if (counter_report_name(name, sizeof(name), cc->report_prefix,
				cc->report_type, when) != 0) {
		log_diag("counter: report name too long: %s",
			 cc->report_prefix);
		return;
	}
	f = fopen(name, "w");
	if (f == NULL) {
		log_diag("counter: cannot write report %s: %s", name,
			 strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		len = counter_report_line(line, sizeof(line), lines[i].number,
					  lines[i].bytes, lines[i].comment);
		fwrite(line, 1, len, f);
	}
	if (fclose(f) != 0)
		log_diag("counter: cannot write report %s: %s", name,
			 strerror(errno));
}

/* limits.md 4.5: the report of the previous period if it ended, then
 * the resets of the counters whose period ended. */
static void cnt_dump(struct counter_conf *cc, time_t now)
{
	struct report_line *lines = NULL;
	size_t i, n = 0;
	time_t prev;
	int report;

	os_mutex_lock(&cnt_lock);
	prev = cc->file != NULL ? cc->file->dumped : cc->dumped;
	report = cc->report_type != 0 && cc->report_prefix != NULL &&
		 prev > 0 && counter_period_changed(cc->report_type, prev, now);
	if (report && cc->nrules > 0)
		lines = malloc(sizeof(*lines) * cc->nrules);
	for (i = 0; i < cc->nrules; i++) {
		struct cnt_rule *r = cc->rules[i];
		struct cnt_slot *v;

		if (r->no)
			continue;
		v = rule_slot(r);
		if (lines != NULL && period_rank(r->type) >=
		    period_rank(cc->report_type)) {
			lines[n].number = r->number;
			lines[n].bytes = v->bytes;
			lines[n].comment = r->comment;
			n++;
		}
		if (counter_period_changed(r->type, v->cleared, now)) {
			v->bytes = 0;
			v->cleared = now;
		}
	}
	cc->dumped = now;
	if (cc->file != NULL)
		cc->file->dumped = now;
	os_mutex_unlock(&cnt_lock);
	if (report)
		write_report(cc, prev, lines, n);
	free(lines);
}

void counter_tick(struct conf_gen *gen, time_t now)
{
	time_t minute = now / 60;

	if (gen == NULL || (minute == tick_minute && gen == tick_gen))
		return;
	tick_minute = minute;
	tick_gen = gen;
	if (gen->counters == NULL)
		return;
	cnt_dump(gen->counters, now);
	counter_save_all();
}

/* ---- read-only listing (admin counters page) ------------------------------ */

static const char *rule_action(const struct cnt_rule *r)
{
	static const char *const names[2][4] = {
		{ "", "countin", "countout", "countall" },
		{ "", "nocountin", "nocountout", "nocountall" }
	};

	return names[r->no ? 1 : 0][r->kind & 3];
}

/* Each value is copied under cnt_lock, one rule at a time, and fn runs
 * without the lock (it may write to a socket).  The rules belong to gen,
 * which the caller keeps referenced, so rule and comment stay valid. */
int counter_foreach(const struct conf_gen *gen, counter_visit_fn fn,
		    void *arg)
{
	const struct counter_conf *cc = gen ? gen->counters : NULL;
	struct counter_info ci;
	size_t i;
	int rc;

	if (cc == NULL)
		return 0;
	for (i = 0; i < cc->nrules; i++) {
		struct cnt_rule *r = cc->rules[i];
		struct cnt_slot *s;

		memset(&ci, 0, sizeof(ci));
		ci.position = i;
		ci.action = rule_action(r);
		ci.exclusion = r->no;
		ci.number = r->number;
		ci.comment = r->comment;
		ci.type = r->type;
		ci.limit = r->limit;
		ci.rule = r->rule;
		ci.disabled = os_atomic_load(&r->disabled) != 0;
		os_mutex_lock(&cnt_lock);
		s = rule_slot(r);
		ci.bytes = s->bytes;
		ci.cleared = s->cleared;
		ci.updated = s->updated;
		os_mutex_unlock(&cnt_lock);
		rc = fn(arg, &ci);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The flag is atomic rather than under cnt_lock: cnt_select reads it for
 * every rule of every request without taking the lock. */
int counter_set_enabled(const struct conf_gen *gen, size_t pos, int on)
{
	const struct counter_conf *cc = gen ? gen->counters : NULL;

	if (cc == NULL || pos >= cc->nrules)
		return -1;
	os_atomic_store(&cc->rules[pos]->disabled, on ? 0 : 1);
	return 0;
}
