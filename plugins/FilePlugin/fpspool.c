/*
 * fpspool.c - FilePlugin's spool files and callback calls for one
 * connection (plugins.md 5.4, F-PLUG-06).
 *
 * Each callback of the service gets its own file per request, created
 * on the first byte it selects (O_EXCL, mode 0600, a fresh 7-digit
 * name), so callbacks never see each other's parts.  A file that cannot
 * be written refuses the request: an inspection that did not happen
 * must not let the content through.
 */
#include "fpint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _MSC_VER
#include <intrin.h>
#endif
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#define fp_open_new(p) _open((p), _O_WRONLY | _O_CREAT | _O_EXCL | \
			     _O_BINARY, _S_IREAD | _S_IWRITE)
#define fp_write(fd, p, n) _write((fd), (p), (unsigned)(n))
#define fp_close _close
#define fp_unlink _unlink
#else
#include <fcntl.h>
#include <unistd.h>
#define fp_open_new(p) open((p), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, \
			    0600)
#define fp_write write
#define fp_close close
#define fp_unlink unlink
#endif

#define FP_NAME_TRIES 100
#define FP_WRITE_MAX 65536     /* per write call (the Windows API takes
				  an unsigned int) */

struct fp_spool {
	int fd;                 /* -1: no file yet */
	char *path;
	uint64_t size, skipped;
	int keep;
};

struct fp_conn {
	const struct fp_svc *svc;
	struct fp_spool sp[FP_CALLBACKS_MAX];
};

/* Process-wide: names stay unique across connections and reloads. */
static unsigned fp_counter;

static unsigned fp_next_counter(void)
{
#ifdef _MSC_VER
	return (unsigned)_InterlockedIncrement((volatile long *)&fp_counter);
#else
	return __atomic_add_fetch(&fp_counter, 1u, __ATOMIC_RELAXED);
#endif
}

struct fp_conn *fp_conn_new(const struct fp_svc *svc)
{
	struct fp_conn *c = calloc(1, sizeof(*c));
	int i;

	if (c == NULL)
		return NULL;
	c->svc = svc;
	for (i = 0; i < FP_CALLBACKS_MAX; i++)
		c->sp[i].fd = -1;
	return c;
}

static int fp_call(const struct fp_conn *c, int i, unsigned what,
		   unsigned part, const char *request)
{
	const struct fp_spool *sp = &c->sp[i];
	struct fp_event ev;

	ev.what = what;
	ev.part = part;
	ev.service = c->svc->service;
	ev.request = request;
	ev.path = sp->fd >= 0 ? sp->path : NULL;
	ev.size = sp->size;
	ev.skipped = sp->skipped;
	return c->svc->cb[i].fn(c->svc->cb[i].arg, &ev);
}

/* The end of callback i's file: the ONREMOVE call, then removal. */
static void fp_spool_finish(struct fp_conn *c, int i)
{
	struct fp_spool *sp = &c->sp[i];

	if (sp->fd < 0)
		return;
	if (c->svc->cb[i].flags & FP_CALL_ONREMOVE) {
		if (fp_call(c, i, FP_CALL_ONREMOVE, 0, NULL) & FP_KEEPFILE)
			sp->keep = 1;
	}
	fp_close(sp->fd);
	if (!sp->keep)
		(void)fp_unlink(sp->path);
	free(sp->path);
	sp->path = NULL;
	sp->fd = -1;
	sp->size = sp->skipped = 0;
	sp->keep = 0;
}

void fp_conn_end(struct fp_conn *c)
{
	if (c == NULL)
		return;
	fp_conn_next(c);
	free(c);
}

static int fp_spool_open(const struct fp_conn *c, struct fp_spool *sp)
{
	size_t size = strlen(c->svc->dir) + 16;
	char msg[160];
	int t;

	sp->path = malloc(size);
	if (sp->path == NULL)
		return -1;
	for (t = 0; t < FP_NAME_TRIES; t++) {
		if (fp_spool_name(sp->path, size, c->svc->dir,
				  fp_next_counter()) != 0)
			break;
		sp->fd = fp_open_new(sp->path);
		if (sp->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(msg, sizeof(msg), "FilePlugin: cannot create a spool "
		 "file in %.100s", c->svc->dir);
	fp_diag(msg);
	free(sp->path);
	sp->path = NULL;
	sp->fd = -1;
	return -1;
}

static int fp_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		size_t chunk = n < FP_WRITE_MAX ? n : FP_WRITE_MAX;
		long w = (long)fp_write(fd, p, chunk);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Append what callback i's preview lets in of n bytes of part. */
static int fp_spool_add(struct fp_conn *c, int i, unsigned part,
			const char *p, size_t n)
{
	struct fp_spool *sp = &c->sp[i];
	uint64_t preview = c->svc->cb[i].preview;
	size_t take = n;

	if ((part & (FP_CLIDATA | FP_SRVDATA)) && preview > 0) {
		uint64_t room = sp->size >= preview ? 0 : preview - sp->size;

		if ((uint64_t)take > room)
			take = (size_t)room;
		sp->skipped += n - take;
	}
	if (sp->fd < 0 && fp_spool_open(c, sp) != 0)
		return -1;
	if (take > 0 && fp_write_all(sp->fd, p, take) != 0)
		return -1;
	sp->size += take;
	return 0;
}

void fp_conn_next(struct fp_conn *c)
{
	int i;

	for (i = 0; i < c->svc->ncb; i++)
		fp_spool_finish(c, i);
}

int fp_conn_request(struct fp_conn *c, const char *text, size_t len)
{
	char *req = malloc(len + 1);
	int i, rc = FP_ACCEPT;

	if (req == NULL)
		return FP_REJECT;
	memcpy(req, text, len);
	req[len] = '\0';
	fp_conn_next(c);
	for (i = 0; i < c->svc->ncb; i++) {
		if ((c->svc->cb[i].flags & FP_CALL_ONREQUEST) &&
		    (fp_call(c, i, FP_CALL_ONREQUEST, 0, req) & FP_REJECT))
			rc = FP_REJECT;
		if (rc == FP_REJECT)
			break;
	}
	free(req);
	return rc;
}

int fp_conn_part(struct fp_conn *c, unsigned part, const char *p,
		 size_t n)
{
	unsigned when = (part & (FP_CLIDATA | FP_SRVDATA))
			? FP_CALL_ONDATA : FP_CALL_AFTERHEADERS;
	int i, r;

	for (i = 0; i < c->svc->ncb; i++) {
		const struct fp_cb *cb = &c->svc->cb[i];

		if (!(cb->flags & part))
			continue;
		if (fp_spool_add(c, i, part, p, n) != 0)
			return FP_REJECT;
		if (!(cb->flags & when))
			continue;
		r = fp_call(c, i, when, part, NULL);
		if (r & FP_KEEPFILE)
			c->sp[i].keep = 1;
		if (r & FP_REJECT)
			return FP_REJECT;
	}
	return FP_ACCEPT;
}
