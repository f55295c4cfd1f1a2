/*
 * iolayer.c - the per-thread table of wrapped sockets (see iolayer.h).
 */
#include "iolayer.h"

#include <string.h>


/* Slots in use are the first iol_n entries. */
static OS_THREAD_LOCAL struct iolayer iol_tab[IOLAYER_MAX_PER_THREAD];
static OS_THREAD_LOCAL int iol_n;

int iolayer_bind(os_sock_t s, const struct iolayer_ops *ops, void *ctx)
{
	if (s == OS_BADSOCK || ops == NULL || iol_n >= IOLAYER_MAX_PER_THREAD ||
	    iolayer_find(s) != NULL) {
		if (ops != NULL && ops->free != NULL)
			ops->free(ctx);
		return -1;
	}
	iol_tab[iol_n].ops = ops;
	iol_tab[iol_n].ctx = ctx;
	iol_tab[iol_n].sock = s;
	iol_n++;
	return 0;
}

const struct iolayer *iolayer_find(os_sock_t s)
{
	int i;

	for (i = 0; i < iol_n; i++)
		if (iol_tab[i].sock == s)
			return &iol_tab[i];
	return NULL;
}

void iolayer_release(os_sock_t s)
{
	int i;

	for (i = 0; i < iol_n; i++) {
		struct iolayer l;

		if (iol_tab[i].sock != s)
			continue;
		l = iol_tab[i];
		/* keep the table dense: the last slot fills the hole */
		iol_tab[i] = iol_tab[iol_n - 1];
		memset(&iol_tab[iol_n - 1], 0, sizeof(iol_tab[0]));
		iol_n--;
		if (l.ops->free != NULL)
			l.ops->free(l.ctx);
		return;
	}
}

void iolayer_close(os_sock_t s)
{
	if (s == OS_BADSOCK)
		return;
	iolayer_release(s);
	os_sock_close(s);
}

int iolayer_detach(os_sock_t s, struct iolayer *out)
{
	int i;

	for (i = 0; i < iol_n; i++) {
		if (iol_tab[i].sock != s)
			continue;
		*out = iol_tab[i];
		iol_tab[i] = iol_tab[iol_n - 1];
		memset(&iol_tab[iol_n - 1], 0, sizeof(iol_tab[0]));
		iol_n--;
		return 0;
	}
	return -1;
}

int iolayer_count(void)
{
	return iol_n;
}
