/*
 * ldapquota.c - per-user traffic quotas and rates of LdapPlugin
 * (ldaptrafgroup, ldapdircount; ldapquota.h).
 *
 * Every request of an authenticated user passes the afterauth stage of
 * the run's filter (lq_stage).  If the user is in a trafgroup, the
 * user's quota and pipe are attached to the request (conn_limit); the
 * daemon then charges them in its relay hook exactly like a countin and
 * a bandlimin rule, refuses the request with code 10 once the quota is
 * used up and cuts a relay that crosses it.  This runs whether the auth
 * check ran or `authcache` answered, so the quota cannot be bypassed.
 *
 * Membership comes from the auth check when it ran (lq_note), else from
 * a search of the stage's own, at most every LQ_MEMBER_TTL seconds.
 *
 * The user table is process-wide, not per run: a reload keeps every
 * count in memory, and the run in force writes them to its ldapdircount
 * directory every minute and at exit; a run that ends writes them too.
 * A user's count is read from its file only when the user is first a
 * member in this process.
 */
#include "plugin_api.h"
#include "ldapconf.h"
#include "ldapcount.h"
#include "ldapquota.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LQ_BUCKETS 256
/* How long a membership found is trusted before the stage searches
 * again (the auth check refreshes it whenever it runs). */
#define LQ_MEMBER_TTL 300
#define LQ_PATH_MAX (LDAP_TEXT_MAX + 300)
/* Records at most (they are never freed): a bound on what a stream of
 * distinct names (an auth chain that accepts any name) can cost.  Past
 * it, a name not yet seen is searched on every request and a member of
 * a trafgroup is refused (code 19): its quota could not be kept. */
#define LQ_USERS_MAX 100000

struct lq_user {
	struct lq_user *next;
	unsigned conf_id;        /* the run whose groups `group` indexes */
	int group;               /* index or LQ_NO_GROUP */
	time_t checked;          /* when group was found */
	struct px_quota *q;      /* from the user's first membership on */
	char period;             /* what q is set to */
	uint64_t limit;
	struct px_pipe *pipe;    /* NULL: no rate */
	uint64_t bps;            /* pipe's rate */
	int saved;               /* the file holds saved_bytes/start */
	uint64_t saved_bytes;
	int64_t saved_start;
	char name[];             /* immutable */
};

static const struct px_api *api;
/* lq_lock guards the table and every field of every record except name.
 * It is held for lookups and updates only, never across LDAP or file
 * I/O; the daemon's calls made under it (quota_*, pipe_*, conn_limit)
 * take only the daemon's short counter lock.  Records are never freed:
 * a user seen once keeps a record for the life of the process. */
static pthread_mutex_t lq_lock = PTHREAD_MUTEX_INITIALIZER;
/* lq_io orders the savers (the minute timer of the run in force, the
 * end of an older run) so that two never write one file at once.
 * Taken before lq_lock. */
static pthread_mutex_t lq_io = PTHREAD_MUTEX_INITIALIZER;
static struct lq_user *table[LQ_BUCKETS];
static size_t nusers;                 /* records in table */

void lq_init(const struct px_api *a)
{
	api = a;
}

/* ---- the user table --------------------------------------------------------- */

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % LQ_BUCKETS;
}

/* Under lq_lock.  NULL: no memory, or LQ_USERS_MAX records. */
static struct lq_user *user_get(const char *name)
{
	unsigned b = hash(name);
	struct lq_user *u;
	size_t n;

	for (u = table[b]; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	if (nusers >= LQ_USERS_MAX)
		return NULL;
	n = strlen(name);
	u = calloc(1, sizeof(*u) + n + 1);
	if (u == NULL)
		return NULL;
	nusers++;
	memcpy(u->name, name, n + 1);
	u->group = LQ_NO_GROUP;
	u->next = table[b];
	table[b] = u;
	return u;
}

void lq_note(const struct ldap_conf *c, const char *user, int group)
{
	struct lq_user *u;

	pthread_mutex_lock(&lq_lock);
	u = user_get(user);
	if (u != NULL) {
		u->conf_id = c->id;
		u->group = group;
		u->checked = time(NULL);
	}
	pthread_mutex_unlock(&lq_lock);
}

/* The membership known for this run: fresh, or LQ_LDAP_FAILED and in
 * *stale an older answer (LQ_LDAP_FAILED if none). */
static int cached_group(const struct ldap_conf *c, const char *user,
			int *stale)
{
	struct lq_user *u;
	int g = LQ_LDAP_FAILED;

	*stale = LQ_LDAP_FAILED;
	pthread_mutex_lock(&lq_lock);
	u = user_get(user);
	if (u != NULL && u->conf_id == c->id) {
		if (time(NULL) - u->checked < LQ_MEMBER_TTL)
			g = u->group;
		else
			*stale = u->group;
	}
	pthread_mutex_unlock(&lq_lock);
	return g;
}

/* ---- count files ---------------------------------------------------------------- */

static int lc_path(const char *dir, const char *user, char *out,
		   size_t len)
{
	char name[256];
	int n;

	if (ldap_lc_name(user, name, sizeof(name)) != 0)
		return -1;
	n = snprintf(out, len, "%s/%s", dir, name);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The saved count of user, or 0 since now (no file, or no dir). */
static void lc_read(const char *dir, const char *user, uint64_t *bytes,
		    int64_t *start)
{
	char path[LQ_PATH_MAX], line[LDAP_LC_LINE + 2], msg[LQ_PATH_MAX + 80];
	FILE *f;

	*bytes = 0;
	*start = 0;
	if (dir[0] == '\0' || lc_path(dir, user, path, sizeof(path)) != 0)
		return;
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(line, sizeof(line), f) == NULL ||
	    ldap_lc_parse(line, bytes, start) != 0) {
		*bytes = 0;
		*start = 0;
		snprintf(msg, sizeof(msg), "ldapauth: %s is damaged: the "
			 "count starts again", path);
		api->diag(msg);
	}
	fclose(f);
}

/* Write through a temporary file, so a reader never sees half. */
static int lc_write(const char *path, uint64_t bytes, int64_t start)
{
	char tmp[LQ_PATH_MAX + 8], text[LDAP_LC_LINE];
	size_t n = ldap_lc_format(text, sizeof(text), bytes, start);
	FILE *f;
	int ok;

	if (n == 0 || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	ok = fwrite(text, 1, n, f) == n;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return 0;
	remove(tmp);
	return -1;
}

struct lq_dirty {
	struct lq_user *u;       /* never freed; u->name is immutable */
	uint64_t bytes;
	int64_t start;
};

/* The users whose count changed since it was last written, marked as
 * written.  Under lq_lock.  *n = 0 and NULL when none (or no memory). */
static struct lq_dirty *collect_dirty(size_t *n)
{
	struct lq_dirty *v = NULL, *nv;
	size_t cap = 0, i;
	struct lq_user *u;

	*n = 0;
	for (i = 0; i < LQ_BUCKETS; i++) {
		for (u = table[i]; u != NULL; u = u->next) {
			uint64_t b;
			int64_t s;

			if (u->q == NULL)
				continue;
			api->quota_read(u->q, &b, &s);
			if (u->saved && b == u->saved_bytes &&
			    s == u->saved_start)
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (nv == NULL)
					return v;   /* the rest next time */
				v = nv;
			}
			u->saved = 1;
			u->saved_bytes = b;
			u->saved_start = s;
			v[*n].u = u;
			v[*n].bytes = b;
			v[*n].start = s;
			(*n)++;
		}
	}
	return v;
}

/* Write the changed counts to c's ldapdircount directory. */
static void lq_save(const struct ldap_conf *c)
{
	char path[LQ_PATH_MAX], msg[LQ_PATH_MAX + 80];
	struct lq_dirty *v;
	size_t n, i;

	if (c->dircount[0] == '\0')
		return;
	pthread_mutex_lock(&lq_io);
	pthread_mutex_lock(&lq_lock);
	v = collect_dirty(&n);
	pthread_mutex_unlock(&lq_lock);
	for (i = 0; i < n; i++) {
		if (lc_path(c->dircount, v[i].u->name, path,
			    sizeof(path)) != 0)
			continue;           /* a name too long for a file */
		if (lc_write(path, v[i].bytes, v[i].start) == 0)
			continue;
		snprintf(msg, sizeof(msg), "ldapauth: cannot write %s", path);
		api->diag(msg);
		pthread_mutex_lock(&lq_lock);
		v[i].u->saved = 0;          /* try again next minute */
		pthread_mutex_unlock(&lq_lock);
	}
	pthread_mutex_unlock(&lq_io);
	free(v);
}

/* ---- the stage ------------------------------------------------------------------ */

/* Make u's quota and pipe those of trafgroup g; a new quota starts from
 * bytes since start.  Under lq_lock.  Returns 0 or -1. */
static int user_limits(struct lq_user *u, const struct ldap_trafgroup *g,
		       uint64_t bytes, int64_t start)
{
	if (u->q == NULL) {
		u->q = api->quota_new(g->period, g->limit, bytes, start);
		if (u->q == NULL)
			return -1;
		/* what the file holds: no rewrite until it changes */
		u->saved = 1;
		u->saved_bytes = bytes;
		u->saved_start = start;
	} else if ((u->period != g->period || u->limit != g->limit) &&
		   api->quota_set(u->q, g->period, g->limit) != 0) {
		return -1;
	}
	u->period = g->period;
	u->limit = g->limit;
	if (u->bps != g->bps || (g->bps != 0 && u->pipe == NULL)) {
		/* running requests keep the old pipe till they end */
		api->pipe_unref(u->pipe);
		u->pipe = g->bps != 0 ? api->pipe_new(g->bps) : NULL;
		u->bps = u->pipe != NULL ? g->bps : 0;
		if (g->bps != 0 && u->pipe == NULL)
			return -1;
	}
	return 0;
}

static int attach(const struct ldap_conf *c, const char *user, int gi,
		  struct px_conn *pc)
{
	uint64_t bytes = 0;
	int64_t start = 0;
	struct lq_user *u;
	int rc, first;

	pthread_mutex_lock(&lq_lock);
	u = user_get(user);
	first = u != NULL && u->q == NULL;
	pthread_mutex_unlock(&lq_lock);
	if (u == NULL)
		return -1;
	if (first)
		lc_read(c->dircount, user, &bytes, &start);
	pthread_mutex_lock(&lq_lock);
	/* another request of the user may have made the quota meanwhile:
	 * user_limits then keeps that one */
	rc = user_limits(u, &c->groups[gi], bytes, start);
	if (rc == 0)
		rc = api->conn_limit(pc, u->q, u->pipe);
	pthread_mutex_unlock(&lq_lock);
	return rc;
}

static int lq_stage(void *svc, void *conn, struct px_conn *pc, int stage)
{
	const struct ldap_conf *c = svc;
	const char *user;
	int g, stale;

	(void)conn;
	if (stage != PX_STAGE_AFTERAUTH || c->ngroups == 0)
		return PX_FILTER_CONTINUE;
	user = api->conn_user(pc);
	if (user == NULL || user[0] == '\0')
		return PX_FILTER_CONTINUE;
	g = cached_group(c, user, &stale);
	if (g == LQ_LDAP_FAILED) {
		g = ldap_trafgroup_find(c, NULL, user);
		if (g != LQ_LDAP_FAILED)
			lq_note(c, user, g);
		else
			g = stale;      /* the server is down: last answer */
	}
	/* whether the user is limited cannot be told: refuse (code 19) */
	if (g == LQ_LDAP_FAILED)
		return PX_FILTER_REJECT;
	if (g == LQ_NO_GROUP)
		return PX_FILTER_CONTINUE;
	return attach(c, user, g, pc) == 0 ? PX_FILTER_CONTINUE
					   : PX_FILTER_REJECT;
}

static void lq_minute(void *arg)
{
	lq_save(arg);
}

int lq_enable(struct ldap_conf *c)
{
	struct px_filter f;

	if (!PX_API_HAS(api, at_minute))
		return -1;
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.stage = lq_stage;         /* the state of every service is c */
	if (api->register_filter(&f, c) != 0 ||
	    api->at_minute(lq_minute, c) != 0)
		return -1;
	return 0;
}

void lq_conf_end(void *arg)
{
	struct ldap_conf *c = arg;

	if (c->ngroups > 0)
		lq_save(c);
	free(c);
}
