/*
 * filter.c - the filter lists, the per-service snapshots and the hook
 * runner (plugins.md 2.1).  See filter.h for the lifetimes.
 */
#include "filter.h"
#include "client.h"
#include "errcode.h"
#include "relay.h"
#include "service.h"

#include <stdlib.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------ */

void filter_buf_init(struct filter_buf *b, char *data, size_t len)
{
	b->data = data;
	b->len = len;
	b->owned = NULL;
}

void filter_buf_set(struct filter_buf *b, char *p, size_t n)
{
	free(b->owned);
	b->owned = p;
	b->data = p;
	b->len = n;
}

void filter_buf_release(struct filter_buf *b)
{
	free(b->owned);
	b->owned = NULL;
	b->data = NULL;
	b->len = 0;
}

/* ---- the generation's list ------------------------------------------------ */

int filter_list_add(struct filter_list **lp, const struct filter_ops *ops,
		    void *data, unsigned hooks, int at_head)
{
	struct filter *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (*lp == NULL) {
		*lp = calloc(1, sizeof(**lp));
		if (*lp == NULL) {
			free(f);
			return -1;
		}
	}
	f->ops = ops;
	f->data = data;
	f->hooks = hooks;
	if (at_head) {
		f->next = (*lp)->head;
		(*lp)->head = f;
		if ((*lp)->tail == NULL)
			(*lp)->tail = f;
	} else {
		if ((*lp)->tail != NULL)
			(*lp)->tail->next = f;
		else
			(*lp)->head = f;
		(*lp)->tail = f;
	}
	return 0;
}

void filter_list_free(struct filter_list *l)
{
	struct filter *f, *next;

	if (l == NULL)
		return;
	for (f = l->head; f != NULL; f = next) {
		next = f->next;
		if (f->ops->destroy != NULL)
			f->ops->destroy(f->data);
		free(f);
	}
	free(l);
}

/* ---- per-service snapshot ---------------------------------------------- */

struct filter_slot {
	const struct filter *f;
	void *svc;                 /* what open returned */
};

struct filter_chain {
	size_t n;
	unsigned hooks;            /* union of the members' hooks */
	struct filter_slot slot[];
};

struct filter_chain *filter_chain_build(const struct filter_list *l,
					const struct svc_conf *sc)
{
	const struct filter *f;
	struct filter_chain *c;
	size_t n = 0;

	if (l == NULL || l->head == NULL)
		return NULL;
	for (f = l->head; f != NULL; f = f->next)
		n++;
	c = calloc(1, sizeof(*c) + n * sizeof(c->slot[0]));
	if (c == NULL)
		return NULL;
	for (f = l->head; f != NULL; f = f->next) {
		void *st = f->ops->open ? f->ops->open(f->data, sc) : f->data;

		if (f->ops->open != NULL && st == NULL)
			continue;       /* not used by this service */
		c->slot[c->n].f = f;
		c->slot[c->n].svc = st;
		c->hooks |= f->hooks;
		c->n++;
	}
	if (c->n == 0) {
		free(c);
		return NULL;
	}
	return c;
}

void filter_chain_free(struct filter_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		if (c->slot[i].f->ops->close != NULL)
			c->slot[i].f->ops->close(c->slot[i].svc);
	free(c);
}

/* ---- per connection ------------------------------------------------------ */

struct filter_att {
	const struct filter_slot *s;
	void *conn;
};

struct filter_conn {
	size_t n;
	unsigned hooks;
	struct filter_buf relay_out[2];   /* last relayed chunk, per dir */
	struct filter_att att[];
};

void filter_conn_free(struct filter_conn *fc)
{
	size_t i;

	if (fc == NULL)
		return;
	for (i = 0; i < fc->n; i++)
		if (fc->att[i].s->f->ops->clear != NULL)
			fc->att[i].s->f->ops->clear(fc->att[i].conn);
	filter_buf_release(&fc->relay_out[0]);
	filter_buf_release(&fc->relay_out[1]);
	free(fc);
}

int filter_conn_open(struct client *cl)
{
	const struct filter_chain *c = cl->conf->filters;
	struct filter_conn *fc;
	size_t i;

	if (c == NULL)
		return 0;
	fc = calloc(1, sizeof(*fc) + c->n * sizeof(fc->att[0]));
	if (fc == NULL)
		return ERR_NOMEM;
	for (i = 0; i < c->n; i++) {
		const struct filter_slot *s = &c->slot[i];
		void *conn = NULL;
		int rc = FILTER_CONTINUE;

		if (s->f->ops->client != NULL)
			rc = s->f->ops->client(s->svc, cl, &conn);
		if (rc == FILTER_PASS)
			continue;
		/* attached states are cleared by filter_conn_free */
		if (rc == FILTER_CONTINUE) {
			fc->att[fc->n].s = s;
			fc->att[fc->n].conn = conn;
			fc->hooks |= s->f->hooks;
			fc->n++;
			continue;
		}
		filter_conn_free(fc);
		return ERR_FILTER;
	}
	if (fc->n == 0) {
		free(fc);
		return 0;
	}
	cl->filt = fc;
	return 0;
}

unsigned filter_conn_hooks(const struct filter_conn *fc)
{
	return fc != NULL ? fc->hooks : 0;
}

int filter_run(struct client *cl, enum filter_hook h, struct filter_buf *b)
{
	struct filter_conn *fc = cl->filt;
	size_t i;

	if (fc == NULL || !(fc->hooks & FILTER_HOOK_BIT(h)))
		return FILTER_CONTINUE;
	for (i = 0; i < fc->n; i++) {
		const struct filter *f = fc->att[i].s->f;
		int rc;

		if (f->ops->buffer == NULL || !(f->hooks & FILTER_HOOK_BIT(h)))
			continue;
		rc = f->ops->buffer(fc->att[i].s->svc, fc->att[i].conn, cl, h,
				    b);
		if (rc != FILTER_CONTINUE)
			return rc > FILTER_REJECT ? FILTER_REJECT : rc;
	}
	return FILTER_CONTINUE;
}

int filter_run_text(struct client *cl, enum filter_hook h, char **text)
{
	struct filter_buf b;
	char *s;
	int rc;

	filter_buf_init(&b, *text, strlen(*text));
	rc = filter_run(cl, h, &b);
	if (b.owned != NULL) {
		s = malloc(b.len + 1);
		if (s != NULL) {
			memcpy(s, b.data, b.len);
			s[b.len] = '\0';
			free(*text);
			*text = s;
		}
	}
	filter_buf_release(&b);
	return rc;
}

int filter_run_stage(struct client *cl, enum filter_stage st)
{
	struct filter_conn *fc = cl->filt;
	size_t i;

	if (fc == NULL)
		return FILTER_CONTINUE;
	for (i = 0; i < fc->n; i++) {
		const struct filter_ops *ops = fc->att[i].s->f->ops;
		int (*fn)(void *, void *, struct client *) =
			st == FS_CONNECT ? ops->connect :
			st == FS_AFTERAUTH ? ops->afterauth : ops->predata;
		int rc;

		if (fn == NULL)
			continue;
		rc = fn(fc->att[i].s->svc, fc->att[i].conn, cl);
		if (rc != FILTER_CONTINUE)
			return rc > FILTER_REJECT ? FILTER_REJECT : rc;
	}
	return FILTER_CONTINUE;
}

/* The relay reads a direction again only after writing all of what the
 * previous call returned, so one output buffer per direction is enough. */
int filter_relay_chunk(void *arg, int dir, const char *in, size_t n,
		       const char **out, size_t *outlen)
{
	struct client *cl = arg;
	struct filter_buf *b = &cl->filt->relay_out[dir ? 1 : 0];
	int rc;

	filter_buf_release(b);
	filter_buf_init(b, (char *)in, n);
	rc = filter_run(cl, dir == RELAY_C2S ? FH_DATA_CLI : FH_DATA_SRV, b);
	if (rc == FILTER_REJECT)
		return ERR_FILTER;
	*out = b->data;
	*outlen = b->len;
	return 0;
}
