/*
 * filter.h - request/header/data filters (reference plugins.md 2.1).
 *
 * A filter is a record of optional hooks.  The configuration keeps one
 * ordered list per generation (built-in PCRE rules in definition order;
 * a plugin may insert at the head); each service line snapshots the list
 * as it stands (filter_chain), and each accepted connection of a service
 * with a chain gets a filter_conn holding the filters that attached to
 * it.  A connection without filters has cl->filt == NULL: every hook
 * site costs one pointer test, and the relay keeps its splice path.
 *
 * Lifetimes: filter records belong to the generation (freed with it);
 * chains belong to the svc_conf; a filter_conn to its client.  All are
 * immutable once built except the per-connection states, which only the
 * client's worker thread touches: no locks.
 */
#ifndef PX_FILTER_H
#define PX_FILTER_H

#include <stddef.h>
#include "os.h"

struct client;
struct svc_conf;

/* Hook results, in increasing strength (plugins.md 2.1). */
enum filter_result {
	FILTER_CONTINUE = 0,   /* go on with the next filter */
	FILTER_PASS = 1,       /* stop here, accept */
	FILTER_HANDLED = 2,    /* the filter completed the request: accept */
	FILTER_REJECT = 3      /* reject (REMOVE is the same for us) */
};

/* The buffer hooks. */
enum filter_hook {
	FH_REQUEST,      /* request line / "CONNECT host:port" / user@host */
	FH_HEADER_CLI,   /* client request head; FTP/SMTP commands */
	FH_HEADER_SRV,   /* server response head; FTP/SMTP replies */
	FH_DATA_CLI,     /* client -> server payload */
	FH_DATA_SRV,     /* server -> client payload */
	FH_COUNT
};
#define FILTER_HOOK_BIT(h) (1u << (h))
#define FILTER_DATA_HOOKS \
	(FILTER_HOOK_BIT(FH_DATA_CLI) | FILTER_HOOK_BIT(FH_DATA_SRV))

/* A buffer passed through the hooks.  data/len is the current content;
 * a hook that changes it calls filter_buf_set with a malloc'd block,
 * which the buffer then owns (the caller's original is never freed).
 * The caller releases the buffer with filter_buf_release. */
struct filter_buf {
	char *data;
	size_t len;
	char *owned;     /* block allocated by a hook, or NULL */
};

void filter_buf_init(struct filter_buf *b, char *data, size_t len);
/* Replace the content with p (malloc'd, n bytes; takes ownership). */
void filter_buf_set(struct filter_buf *b, char *p, size_t n);
void filter_buf_release(struct filter_buf *b);

/* The hooks of one kind of filter.  Every member may be NULL.  `data` is
 * the filter record's own data; `svc` what open returned; `conn` what
 * client stored. */
struct filter_ops {
	const char *name;
	/* Once per service line: NULL = not used by this service.  Without
	 * an open hook the filter is used with svc = data. */
	void *(*open)(void *data, const struct svc_conf *sc);
	void (*close)(void *svc);
	/* At accept: FILTER_CONTINUE attaches, FILTER_PASS skips this
	 * connection, anything higher drops it.  Without a client hook
	 * the filter attaches with conn = NULL. */
	int (*client)(void *svc, struct client *cl, void **conn);
	void (*clear)(void *conn);
	/* Stage hooks (reject: the connection ends with code 19). */
	int (*connect)(void *svc, void *conn, struct client *cl);
	int (*afterauth)(void *svc, void *conn, struct client *cl);
	int (*predata)(void *svc, void *conn, struct client *cl);
	/* Buffer hooks, indexed by enum filter_hook. */
	int (*buffer)(void *svc, void *conn, struct client *cl,
		      enum filter_hook h, struct filter_buf *b);
	/* Frees `data` with the generation. */
	void (*destroy)(void *data);
};

/* One filter in a generation's list. */
struct filter {
	const struct filter_ops *ops;
	void *data;
	unsigned hooks;           /* FILTER_HOOK_BIT()s ops->buffer serves */
	struct filter *next;
};

/* The generation's list (conf_gen.filters); NULL = empty. */
struct filter_list {
	struct filter *head, *tail;
};

/* Add a filter (at the head or the tail).  Returns 0 or -1. */
int filter_list_add(struct filter_list **lp, const struct filter_ops *ops,
		    void *data, unsigned hooks, int at_head);
void filter_list_free(struct filter_list *l);

/* A service's snapshot.  NULL when no filter applies. */
struct filter_chain;
struct filter_chain *filter_chain_build(const struct filter_list *l,
					const struct svc_conf *sc);
void filter_chain_free(struct filter_chain *c);

/* Per connection (cl->filt). */
struct filter_conn;

/* At accept, when the service has a chain: attach the filters.  Returns
 * 0, or ERR_FILTER when a client hook dropped the connection.  cl->filt
 * stays NULL when nothing attached. */
int filter_conn_open(struct client *cl);
void filter_conn_free(struct filter_conn *fc);
/* The buffer hooks some attached filter serves (FILTER_HOOK_BIT()s). */
unsigned filter_conn_hooks(const struct filter_conn *fc);

/* Run hook h over b through the attached filters in order.  Returns the
 * deciding result: FILTER_CONTINUE when every filter continued (accept),
 * FILTER_PASS/HANDLED (accept), FILTER_REJECT. */
int filter_run(struct client *cl, enum filter_hook h, struct filter_buf *b);
/* The same over a NUL-terminated string copy: on change *text is
 * replaced by a new malloc'd string.  For request texts. */
int filter_run_text(struct client *cl, enum filter_hook h, char **text);
/* Stage hooks: FILTER_REJECT or a lower result. */
enum filter_stage { FS_CONNECT, FS_AFTERAUTH, FS_PREDATA };
int filter_run_stage(struct client *cl, enum filter_stage st);

/* Tell the client of smtpp or ftppr that a filter refused `what`
 * ("Message", "Command", ...): "421 <what> refused: policy violation"
 * (filter_reply.c).  Returns 0 or -1. */
int filter_refusal_send(os_sock_t s, const char *what, int timeout_ms);

/* Relay adapter (relay_opts.filter): passes a chunk read in direction
 * dir through the data hooks.  See relay.h. */
int filter_relay_chunk(void *arg, int dir, const char *in, size_t n,
		       const char **out, size_t *outlen);

#endif
