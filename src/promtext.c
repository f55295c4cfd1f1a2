/*
 * promtext.c - the Prometheus text exposition format writer (see
 * promtext.h).  Owns escaping and line layout only; the values come
 * from metrics.c.
 */
#include <string.h>

#include "promtext.h"
#include "numfmt.h"

/* Escape backslash and line feed, and the double quote if quote. */
static void prom_escape(struct admin_buf *b, const char *s, int quote)
{
	const char *run = s;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
			(quote && *s == '"') ? "\\\"" : NULL;

		if (rep == NULL)
			continue;
		admin_buf_add(b, run, (size_t)(s - run));
		admin_buf_str(b, rep);
		run = s + 1;
	}
	admin_buf_add(b, run, (size_t)(s - run));
}

void prom_escape_label(struct admin_buf *b, const char *s)
{
	prom_escape(b, s, 1);
}

void prom_family(struct admin_buf *b, const char *name, const char *type,
		 const char *help)
{
	admin_buf_printf(b, "# HELP %s ", name);
	prom_escape(b, help, 0);
	admin_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void prom_head(struct admin_buf *b, const char *name,
		      const struct prom_label *labels, int nlabels)
{
	int i;

	admin_buf_str(b, name);
	if (nlabels <= 0)
		return;
	admin_buf_str(b, "{");
	for (i = 0; i < nlabels; i++) {
		admin_buf_printf(b, "%s%s=\"", i > 0 ? "," : "",
				 labels[i].name);
		prom_escape(b, labels[i].value, 1);
		admin_buf_str(b, "\"");
	}
	admin_buf_str(b, "}");
}

/* numfmt.h: no printf length modifiers (they differ on mingw). */
static void prom_u64(struct admin_buf *b, uint64_t v)
{
	char tmp[NUMFMT_U64_SIZE];

	admin_buf_add(b, tmp, numfmt_u64(tmp, v, 0));
}

void prom_sample(struct admin_buf *b, const char *name,
		 const struct prom_label *labels, int nlabels, uint64_t value)
{
	prom_head(b, name, labels, nlabels);
	admin_buf_str(b, " ");
	prom_u64(b, value);
	admin_buf_str(b, "\n");
}

void prom_sample_int(struct admin_buf *b, const char *name,
		     const struct prom_label *labels, int nlabels,
		     int64_t value)
{
	prom_head(b, name, labels, nlabels);
	admin_buf_str(b, value < 0 ? " -" : " ");
	prom_u64(b, value < 0 ? (uint64_t)0 - (uint64_t)value :
		 (uint64_t)value);
	admin_buf_str(b, "\n");
}
