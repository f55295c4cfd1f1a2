/*
 * strfile.c - parser of StringsPlugin's strings file (strfile.h).
 */
#include "strfile.h"

#include <stdlib.h>
#include <string.h>

#define STRFILE_MAX_STRINGS 256

/* The string being collected. */
struct strbuf {
	char *p;
	size_t n, cap;
	int have;            /* a line was added since the last string */
};

static const char *const sect_open[STRFILE_NSECT] = {
	"[--proxy--]", "[--admin--]"
};
static const char *const sect_close[STRFILE_NSECT] = {
	"[/--proxy--]", "[/--admin--]"
};

static int strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

/* Append one line (without its line break), \n as CR LF. */
static int strbuf_line(struct strbuf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	b->have = 1;
	for (i = 0; i + 1 < n; i++) {
		if (s[i] != '\\' || s[i + 1] != 'n')
			continue;
		if (strbuf_add(b, s + run, i - run) != 0 ||
		    strbuf_add(b, "\r\n", 2) != 0)
			return -1;
		run = i + 2;
		i++;
	}
	return strbuf_add(b, s + run, n - run);
}

/* The collected string becomes string n of section t. */
static int strfile_push(struct strfile *f, int t, struct strbuf *b)
{
	char **v;

	if (b->p == NULL && strbuf_add(b, "", 0) != 0)
		return -1;
	if (f->n[t] >= STRFILE_MAX_STRINGS) {
		/* more than any table holds: counted, not kept */
		f->n[t]++;
		free(b->p);
	} else {
		v = realloc(f->s[t], (size_t)(f->n[t] + 1) * sizeof(*v));
		if (v == NULL)
			return -1;
		f->s[t] = v;
		v[f->n[t]++] = b->p;
	}
	memset(b, 0, sizeof(*b));
	return 0;
}

/* Whether line l[0..n) contains word. */
static int has(const char *l, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (memcmp(l + i, word, w) == 0)
			return 1;
	return 0;
}

/* One line; *t is the open section or -1. */
static int strfile_line(struct strfile *f, int *t, struct strbuf *b,
			const char *l, size_t n)
{
	int k;

	if (*t >= 0 && has(l, n, sect_close[*t])) {
		if (b->have && strfile_push(f, *t, b) != 0)
			return -1;
		*t = -1;
		return 0;
	}
	for (k = 0; k < STRFILE_NSECT; k++)
		if (has(l, n, sect_open[k])) {
			free(b->p);
			memset(b, 0, sizeof(*b));
			*t = k;
			f->seen[k] = 1;
			return 0;
		}
	if (*t < 0)
		return 0;
	if (has(l, n, "[end]"))
		return strfile_push(f, *t, b);
	return strbuf_line(b, l, n);
}

int strfile_parse(const char *buf, size_t len, struct strfile *f)
{
	struct strbuf b;
	size_t pos = 0;
	int t = -1;

	memset(f, 0, sizeof(*f));
	memset(&b, 0, sizeof(b));
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;

		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if (strfile_line(f, &t, &b, buf + pos, n) != 0)
			goto fail;
		pos = nl ? end + 1 : len;
	}
	/* a section left open at the end of the file still counts */
	if (t >= 0 && b.have && strfile_push(f, t, &b) != 0)
		goto fail;
	free(b.p);
	return 0;
fail:
	free(b.p);
	strfile_free(f);
	return -1;
}

void strfile_free(struct strfile *f)
{
	int t, i;

	for (t = 0; t < STRFILE_NSECT; t++) {
		for (i = 0; i < f->n[t] && i < STRFILE_MAX_STRINGS; i++)
			free(f->s[t][i]);
		free(f->s[t]);
	}
	memset(f, 0, sizeof(*f));
}
