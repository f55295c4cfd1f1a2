/*
 * fakeav.c - a plugin for the integration tests of FilePlugin and of
 * plugin buffer and stage hooks (F-PLUG-02, F-PLUG-06).  Not installed.
 *
 *     plugin FakeAV.ld.so fakeav REPORT [FLAGS [keep]]
 *
 * A fake antivirus: registers a FilePlugin callback (FLAGS as
 * fp_flags_parse, default "srvdata,data,remove") that rejects when the
 * spool file holds "EICAR-TEST", and a request holding "fakeav-deny".
 * Every call appends a line to REPORT:
 *     request TEXT
 *     headers|data PATH SIZE FILESIZE accept|reject
 *     remove PATH SIZE FILESIZE
 * where FILESIZE is what stat says of PATH during the call (-1: none).
 * "keep" asks FilePlugin to keep the files.
 *
 *     plugin FakeAV.ld.so rewrite_header FROM TO [STAGE]
 *
 * A plain buffer hook for proxy: the first FROM in a client request
 * head becomes TO.  STAGE (connect, afterauth, predata) rejects the
 * connections of every service at that stage instead.
 */
#include "fileplugin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct px_api *api;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static char report[4096];
static int keep;

static void say(const char *what, const struct fp_event *ev,
		long long fsize, const char *verdict)
{
	FILE *f;

	pthread_mutex_lock(&report_lock);
	f = fopen(report, "a");
	if (f != NULL) {
		fprintf(f, "%s %s %llu %lld%s%s\n", what,
			ev->path ? ev->path : "-",
			(unsigned long long)ev->size, fsize,
			*verdict ? " " : "", verdict);
		fclose(f);
	}
	pthread_mutex_unlock(&report_lock);
}

/* Whether the file holds the signature (and its size by stat). */
static int scan(const char *path, long long *fsize)
{
	struct stat st;
	char *buf;
	FILE *f;
	size_t n, i, sl = strlen("EICAR-TEST");
	int hit = 0;

	*fsize = -1;
	if (path == NULL || stat(path, &st) != 0)
		return 0;
	*fsize = (long long)st.st_size;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	buf = malloc((size_t)st.st_size + 1);
	n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	for (i = 0; i + sl <= n && !hit; i++)
		hit = memcmp(buf + i, "EICAR-TEST", sl) == 0;
	free(buf);
	return hit;
}

static int av_check(void *arg, const struct fp_event *ev)
{
	long long fsize;
	int hit;
	FILE *f;

	(void)arg;
	if (ev->what == FP_CALL_ONREQUEST) {
		pthread_mutex_lock(&report_lock);
		if ((f = fopen(report, "a")) != NULL) {
			fprintf(f, "request %s\n", ev->request);
			fclose(f);
		}
		pthread_mutex_unlock(&report_lock);
		return strstr(ev->request, "fakeav-deny") ? FP_REJECT
							  : FP_ACCEPT;
	}
	hit = scan(ev->path, &fsize);
	if (ev->what == FP_CALL_ONREMOVE) {
		say("remove", ev, fsize, "");
		return keep ? FP_KEEPFILE : FP_ACCEPT;
	}
	say(ev->what == FP_CALL_ONDATA ? "data" : "headers", ev, fsize,
	    hit ? "reject" : "accept");
	return hit ? FP_REJECT : FP_ACCEPT;
}

PX_PLUGIN_EXPORT int fakeav(const struct px_api *a, int argc, char **argv)
{
	fp_register_fn reg;
	unsigned flags;

	if (argc < 2 || argc > 4 ||
	    strlen(argv[1]) >= sizeof(report))
		return 1;
	api = a;
	reg = fp_find(a);
	if (reg == NULL) {
		a->diag("fakeav: FilePlugin is not loaded");
		return 2;
	}
	if (fp_flags_parse(argc > 2 ? argv[2] : "srvdata,data,remove",
			   &flags) != 0)
		return 3;
	keep = argc > 3 && strcmp(argv[3], "keep") == 0;
	strcpy(report, argv[1]);
	return reg(flags, 0, av_check, NULL) == 0 ? 0 : 4;
}

/* ---- rewrite_header ---------------------------------------------------- */

struct rewrite {
	char *from, *to;
	int stage;              /* -1: none */
};

static void *rw_open(void *data, const char *service)
{
	const struct rewrite *rw = data;

	return rw->stage >= 0 || strcmp(service, "proxy") == 0 ? data : NULL;
}

static int rw_buffer(void *svc, void *conn, struct px_conn *c, int hook,
		     struct px_buf *b)
{
	const struct rewrite *rw = svc;
	size_t fl = strlen(rw->from), tl = strlen(rw->to), i;
	char *out;
	int rc;

	(void)conn;
	(void)c;
	if (hook != PX_HOOK_HEADER_CLI || rw->stage >= 0)
		return PX_FILTER_CONTINUE;
	for (i = 0; i + fl <= b->len; i++)
		if (memcmp(b->data + i, rw->from, fl) == 0)
			break;
	if (i + fl > b->len)
		return PX_FILTER_CONTINUE;
	out = malloc(b->len - fl + tl);
	if (out == NULL)
		return PX_FILTER_REJECT;
	memcpy(out, b->data, i);
	memcpy(out + i, rw->to, tl);
	memcpy(out + i + tl, b->data + i + fl, b->len - i - fl);
	rc = api->buf_set(b, out, b->len - fl + tl);
	free(out);
	return rc == 0 ? PX_FILTER_CONTINUE : PX_FILTER_REJECT;
}

static int rw_stage(void *svc, void *conn, struct px_conn *c, int stage)
{
	const struct rewrite *rw = svc;

	(void)conn;
	(void)c;
	return stage == rw->stage ? PX_FILTER_REJECT : PX_FILTER_CONTINUE;
}

static void rw_release(void *data)
{
	struct rewrite *rw = data;

	free(rw->from);
	free(rw->to);
	free(rw);
}

PX_PLUGIN_EXPORT int rewrite_header(const struct px_api *a, int argc,
				    char **argv)
{
	static const char *const stages[] = { "connect", "afterauth",
					      "predata" };
	static const struct px_filter f = {
		.size = sizeof(struct px_filter),
		.open = rw_open,
		.release = rw_release,
		.hooks = PX_HOOK_BIT(PX_HOOK_HEADER_CLI),
		.buffer = rw_buffer,
		.stage = rw_stage,
	};
	struct rewrite *rw;
	int i;

	if (argc < 3 || argc > 4 || !PX_API_HAS(a, buf_set))
		return 1;
	api = a;
	rw = calloc(1, sizeof(*rw));
	if (rw == NULL)
		return 2;
	rw->stage = -1;
	for (i = 0; argc > 3 && i < 3; i++)
		if (strcmp(argv[3], stages[i]) == 0)
			rw->stage = PX_STAGE_CONNECT + i;
	rw->from = strdup(argv[1]);
	rw->to = strdup(argv[2]);
	if (rw->from == NULL || rw->to == NULL || *rw->from == '\0' ||
	    (argc > 3 && rw->stage < 0) || a->register_filter(&f, rw) != 0) {
		rw_release(rw);
		return 3;
	}
	return 0;
}
