/*
 * fileplugin.c - FilePlugin (plugins.md 5.4, F-PLUG-06):
 *
 *     plugin FilePlugin.ld.so file_plugin
 *     file_cachedir DIR
 *     file_preview BYTES
 *
 * The entry makes this config run's state, registers a filter for it
 * and publishes fp_registercallback (fileplugin.h).  The filter is used
 * by the proxy, smtpp and ftppr lines that follow once a callback is
 * registered; its buffer hooks hand the request, heads and data to
 * fpspool.c.
 */
#include "fpint.h"

#include <stdlib.h>
#include <sys/stat.h>

#ifndef S_IFDIR
#define S_IFDIR _S_IFDIR
#endif
#ifndef S_IFMT
#define S_IFMT _S_IFMT
#endif

/* One config run's settings and callbacks.  Main thread only (entry,
 * commands, open); services work on their copies (struct fp_svc). */
struct fp_run {
	char *dir;              /* NULL: $TEMP, else /tmp */
	uint64_t preview;
	int ncb;
	struct fp_cb cb[FP_CALLBACKS_MAX];
};

static const struct px_api *api;
/* The run being read; valid only while api->conf_run() == current_run
 * (the daemon frees an older one once its services are gone). */
static struct fp_run *current;
static unsigned current_run;

void fp_diag(const char *msg)
{
	api->diag(msg);
}

static struct fp_run *fp_current(void)
{
	return current != NULL && current_run == api->conf_run() ? current
								  : NULL;
}

static const char *fp_service_name(const char *service)
{
	static const char *const names[] = { "proxy", "smtpp", "ftppr" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(service, names[i]) == 0)
			return names[i];
	return NULL;
}

static void *fp_open(void *data, const char *service)
{
	const struct fp_run *r = data;
	const char *name = fp_service_name(service);
	const char *dir = r->dir;
	struct fp_svc *s;
	int i;

	if (name == NULL || r->ncb == 0)
		return NULL;    /* nothing to do for this service */
	if (dir == NULL && ((dir = getenv("TEMP")) == NULL || *dir == '\0'))
		dir = "/tmp";
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		fp_diag("FilePlugin: no memory: service not inspected");
		return NULL;
	}
	s->service = name;
	s->ncb = r->ncb;
	for (i = 0; i < r->ncb; i++) {
		s->cb[i] = r->cb[i];
		if (s->cb[i].preview == 0)
			s->cb[i].preview = r->preview;
	}
	return s;
}

static void fp_close_svc(void *svc)
{
	struct fp_svc *s = svc;

	free(s->dir);
	free(s);
}

static void *fp_attach(void *svc, struct px_conn *conn)
{
	(void)conn;
	return fp_conn_new(svc);
}

static void fp_clear(void *svc, void *conn)
{
	(void)svc;
	fp_conn_end(conn);
}

static int fp_is_ftppr(const struct fp_svc *s)
{
	return strcmp(s->service, "ftppr") == 0;
}

static int fp_buffer(void *svc, void *conn, struct px_conn *c, int hook,
		     struct px_buf *b)
{
	static const unsigned part[] = {
		0, FP_CLIHEADER, FP_SRVHEADER, FP_CLIDATA, FP_SRVDATA
	};
	int rc;

	(void)c;
	/* no state (no memory at accept): refuse rather than not inspect */
	if (conn == NULL || hook < 0 || hook > PX_HOOK_DATA_SRV)
		return PX_FILTER_REJECT;
	if (hook == PX_HOOK_REQUEST)
		return fp_conn_request(conn, b->data, b->len) == FP_ACCEPT
		       ? PX_FILTER_CONTINUE : PX_FILTER_REJECT;
	/* ftppr's request is the login: each file transfer after it gets
	 * files of its own, started by its command (which goes into them
	 * when commands are selected) */
	if (hook == PX_HOOK_HEADER_CLI && fp_is_ftppr(svc) &&
	    fp_ftp_transfer(b->data, b->len))
		fp_conn_next(conn);
	rc = fp_conn_part(conn, part[hook], b->data, b->len);
	return rc == FP_ACCEPT ? PX_FILTER_CONTINUE : PX_FILTER_REJECT;
}

static void fp_release(void *data)
{
	struct fp_run *r = data;

	free(r->dir);
	free(r);
}

/* fp_registercallback (fileplugin.h). */
static int fp_register(unsigned flags, uint64_t preview, fp_callback cb,
		       void *arg)
{
	struct fp_run *r = fp_current();

	if (r == NULL || cb == NULL || (flags & ~(FP_PARTS | FP_CALLS)) ||
	    !(flags & FP_CALLS) || r->ncb >= FP_CALLBACKS_MAX)
		return -1;
	r->cb[r->ncb].flags = flags;
	r->cb[r->ncb].preview = preview;
	r->cb[r->ncb].fn = cb;
	r->cb[r->ncb].arg = arg;
	r->ncb++;
	return 0;
}

static int cmd_cachedir(struct px_conf *conf, int argc, char **argv)
{
	struct fp_run *r = fp_current();
	struct stat st;
	char *d;

	(void)argc;
	if (r == NULL) {
		api->conf_error(conf, "the FilePlugin line must come first");
		return 1;
	}
	if (stat(argv[1], &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR) {
		api->conf_error(conf, "file_cachedir: not a directory");
		return 1;
	}
	if (api->conf_checking(conf))
		return 0;
	if ((d = strdup(argv[1])) == NULL)
		return 1;
	free(r->dir);
	r->dir = d;
	return 0;
}

static int cmd_preview(struct px_conf *conf, int argc, char **argv)
{
	struct fp_run *r = fp_current();
	uint64_t n;

	(void)argc;
	if (r == NULL) {
		api->conf_error(conf, "the FilePlugin line must come first");
		return 1;
	}
	if (fp_size_parse(argv[1], &n) != 0) {
		api->conf_error(conf, "file_preview: expected a byte count "
				"(0 .. 2^40)");
		return 1;
	}
	if (!api->conf_checking(conf))
		r->preview = n;
	return 0;
}

PX_PLUGIN_EXPORT int file_plugin(const struct px_api *a, int argc,
				 char **argv)
{
	static const struct px_filter f = {
		.size = sizeof(struct px_filter),
		.open = fp_open,
		.close = fp_close_svc,
		.release = fp_release,
		.hooks = PX_HOOK_BIT(PX_HOOK_REQUEST) |
			 PX_HOOK_BIT(PX_HOOK_HEADER_CLI) |
			 PX_HOOK_BIT(PX_HOOK_HEADER_SRV) |
			 PX_HOOK_BIT(PX_HOOK_DATA_CLI) |
			 PX_HOOK_BIT(PX_HOOK_DATA_SRV),
		.attach = fp_attach,
		.clear = fp_clear,
		.buffer = fp_buffer,
	};
	static int registered;
	fp_register_fn fn = fp_register;
	struct fp_run *r;
	void *sym;

	(void)argv;
	if (a == NULL || a->version < 1 || !PX_API_HAS(a, find_symbol))
		return 1;
	api = a;
	if (argc > 1) {
		a->diag("FilePlugin: usage: plugin FilePlugin.ld.so "
			"file_plugin");
		return 2;
	}
	/* loaded again in the same run: one state is enough */
	if (fp_current() != NULL)
		return 0;
	/* commands live for the process; register once */
	if (!registered) {
		if (a->register_command("file_cachedir", 2, 2,
					cmd_cachedir) != 0 ||
		    a->register_command("file_preview", 2, 2,
					cmd_preview) != 0)
			return 3;
		registered = 1;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 4;
	if (a->register_filter(&f, r) != 0) {
		free(r);
		return 5;
	}
	/* the run owns r now */
	current = r;
	current_run = a->conf_run();
	memcpy(&sym, &fn, sizeof(sym));
	return a->publish_symbol(FP_REGISTER_SYMBOL, sym) == 0 ? 0 : 6;
}
