/*
 * admin_pages.c - page rendering for the admin service (admin_pages.h;
 * services.md 14, F-SVC-02, F-SVC-03).
 *
 * Owns nothing beyond the caller's admin_buf.  Pure and thread-safe.
 */
#include "admin_pages.h"
#include "counter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ---------------------------------------------------------------- */

void admin_buf_init(struct admin_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void admin_buf_free(struct admin_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int buf_reserve(struct admin_buf *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (more > b->max || b->n > b->max - more) {
		b->failed = 1;
		return -1;
	}
	need = b->n + more + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int admin_buf_add(struct admin_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int admin_buf_str(struct admin_buf *b, const char *s)
{
	return admin_buf_add(b, s, strlen(s));
}

int admin_buf_printf(struct admin_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* formats here are short; a cut one would be a bug: fail loudly */
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return -1;
	}
	return admin_buf_add(b, tmp, (size_t)n);
}

int admin_html_escape(struct admin_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		if (admin_buf_add(b, s + run, i - run) != 0 ||
		    admin_buf_str(b, ent) != 0)
			return -1;
		run = i + 1;
	}
	return admin_buf_add(b, s + run, n - run);
}

static void esc(struct admin_buf *b, const char *s)
{
	admin_html_escape(b, s, strlen(s));
}

/* ---- frame ---------------------------------------------------------------- */

void admin_page_begin(struct admin_buf *b, const char *title)
{
	admin_buf_str(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		      "<title>3proxy: ");
	esc(b, title);
	admin_buf_str(b, "</title></head><body>\n"
		      "<p><a href=\"/C\">Counters</a> | "
		      "<a href=\"/R\">Reload</a> | "
		      "<a href=\"/S\">Running Services</a> | "
		      "<a href=\"/F\">Config</a></p>\n<h2>");
	esc(b, title);
	admin_buf_str(b, "</h2>\n");
}

void admin_page_end(struct admin_buf *b)
{
	admin_buf_str(b, "<hr><p><small>3proxy in C, a re-implementation of "
		      "3proxy tiny proxy server</small></p>\n</body></html>\n");
}

void admin_message_page(struct admin_buf *b, const char *title,
			const char *text)
{
	admin_page_begin(b, title);
	admin_buf_str(b, "<p>");
	esc(b, text);
	admin_buf_str(b, "</p>\n");
	admin_page_end(b);
}

/* ---- counters ------------------------------------------------------------- */

static const char *period_unit(char type)
{
	switch (type) {
	case 'C': return "MB/min";
	case 'H': return "MB/hour";
	case 'D': return "MB/day";
	case 'W': return "MB/week";
	case 'M': return "MB/month";
	case 'Y': return "MB/year";
	default: return "MB";
	}
}

void admin_limit_text(char *out, size_t len, uint64_t limit, char type)
{
	snprintf(out, len, "%llu %s",
		 (unsigned long long)(limit / 1048576u), period_unit(type));
}

void admin_mb_text(char *out, size_t len, uint64_t bytes)
{
	/* MiB with one decimal, rounded down; no overflow near 2^64 */
	uint64_t whole = bytes / 1048576u;
	unsigned tenth = (unsigned)(bytes % 1048576u * 10 / 1048576u);

	snprintf(out, len, "%llu.%u", (unsigned long long)whole, tenth);
}

void admin_time_text(char *out, size_t len, time_t t)
{
	struct tm tm;

	if (t == 0 || os_localtime(t, &tm) != 0 ||
	    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, len, "%s", t == 0 ? "never" : "?");
}

void admin_counters_begin(struct admin_buf *b)
{
	admin_buf_str(b, "<table border=\"1\">\n<tr><th>Action</th>"
		      "<th>Number / comment</th><th>Active</th>"
		      "<th>Limit</th><th>Value (MB)</th><th>Last reset</th>"
		      "<th>Last update</th><th>Position</th></tr>\n");
}

void admin_counter_row(struct admin_buf *b, const struct counter_info *ci)
{
	char lim[48], mb[32], t1[32], t2[32];

	admin_buf_str(b, "<tr><td>");
	esc(b, ci->action);
	admin_buf_printf(b, "</td><td>%d", ci->number);
	if (ci->comment != NULL) {
		admin_buf_str(b, "/");
		esc(b, ci->comment);
	}
	if (ci->exclusion) {
		admin_buf_printf(b, "</td><td>YES</td><td></td><td></td>"
				 "<td></td><td></td><td>%llu</td></tr>\n",
				 (unsigned long long)ci->position);
		return;
	}
	admin_limit_text(lim, sizeof(lim), ci->limit, ci->type);
	admin_mb_text(mb, sizeof(mb), ci->bytes);
	admin_time_text(t1, sizeof(t1), ci->cleared);
	admin_time_text(t2, sizeof(t2), ci->updated);
	admin_buf_printf(b, "</td><td>YES</td><td>%s</td><td>%s</td>"
			 "<td>%s</td><td>%s</td><td>%llu</td></tr>\n",
			 lim, mb, t1, t2, (unsigned long long)ci->position);
}

void admin_counters_end(struct admin_buf *b)
{
	admin_buf_str(b, "</table>\n");
}

/* ---- responses ------------------------------------------------------------ */

int admin_response(struct admin_buf *out, int status, const char *reason,
		   const char *ctype, const char *extra,
		   const struct admin_buf *body)
{
	if (body->failed)
		return -1;
	admin_buf_printf(out, "HTTP/1.0 %d %s\r\nConnection: close\r\n"
			 "Expires: Thu, 01 Dec 1994 16:00:00 GMT\r\n"
			 "Cache-Control: no-cache\r\nContent-type: %s\r\n",
			 status, reason, ctype);
	if (extra != NULL)
		admin_buf_str(out, extra);
	/* %llu: mingw's printf knows no %zu */
	admin_buf_printf(out, "Content-Length: %llu\r\n\r\n",
			 (unsigned long long)body->n);
	admin_buf_add(out, body->p ? body->p : "", body->n);
	return out->failed ? -1 : 0;
}
