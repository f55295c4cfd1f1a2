/*
 * admin_pages.c - page rendering for the admin service (admin_pages.h;
 * services.md 14, F-SVC-02, F-SVC-03).
 *
 * Owns nothing beyond the caller's admin_buf.  Pure and thread-safe.
 */
#include "admin_pages.h"
#include "counter.h"
#include "http_parse.h"
#include "msgtab.h"

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

/* The markup characters as entities; with `xml`, also the control
 * bytes that XML 1.0 cannot carry (as '?'). */
static int markup_escape(struct admin_buf *b, const char *s, size_t n,
			 int xml)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *ent;

		switch (c) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = xml ? "&apos;" : "&#39;"; break;
		default:
			if (!xml || c >= 0x20 || c == '\t' || c == '\n' ||
			    c == '\r')
				continue;
			ent = "?";
		}
		if (admin_buf_add(b, s + run, i - run) != 0 ||
		    admin_buf_str(b, ent) != 0)
			return -1;
		run = i + 1;
	}
	return admin_buf_add(b, s + run, n - run);
}

int admin_html_escape(struct admin_buf *b, const char *s, size_t n)
{
	return markup_escape(b, s, n, 0);
}

static void esc(struct admin_buf *b, const char *s)
{
	admin_html_escape(b, s, strlen(s));
}

/* ---- frame ---------------------------------------------------------------- */

void admin_buf_msg(struct admin_buf *b, int i)
{
	admin_buf_str(b, msgtab_text(b->msgs, MSGTAB_ADMIN, (size_t)i));
}

void admin_page_begin(struct admin_buf *b, const char *title)
{
	admin_buf_msg(b, MSG_ADMIN_HEAD);
	esc(b, title);
	admin_buf_msg(b, MSG_ADMIN_MENU);
	esc(b, title);
	admin_buf_msg(b, MSG_ADMIN_H2_END);
}

void admin_page_end(struct admin_buf *b)
{
	admin_buf_msg(b, MSG_ADMIN_FOOTER);
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
	admin_buf_msg(b, MSG_ADMIN_COUNTERS);
}

/* The Active column: YES / NO, a link to the opposite switch. */
static void active_cell(struct admin_buf *b, const struct counter_info *ci,
			int links)
{
	const char *word = ci->disabled ? "NO" : "YES";

	if (links)
		admin_buf_printf(b, "</td><td><a href=\"/C%c%llu\">%s</a>",
				 ci->disabled ? 'S' : 'D',
				 (unsigned long long)ci->position, word);
	else
		admin_buf_printf(b, "</td><td>%s", word);
}

void admin_counter_row(struct admin_buf *b, const struct counter_info *ci,
		       int links)
{
	char lim[48], mb[32], t1[32], t2[32];

	admin_buf_str(b, "<tr><td>");
	esc(b, ci->action);
	admin_buf_printf(b, "</td><td>%d", ci->number);
	if (ci->comment != NULL) {
		admin_buf_str(b, "/");
		esc(b, ci->comment);
	}
	active_cell(b, ci, links);
	if (ci->exclusion) {
		admin_buf_printf(b, "</td><td></td><td></td>"
				 "<td></td><td></td><td>%llu</td></tr>\n",
				 (unsigned long long)ci->position);
		return;
	}
	admin_limit_text(lim, sizeof(lim), ci->limit, ci->type);
	admin_mb_text(mb, sizeof(mb), ci->bytes);
	admin_time_text(t1, sizeof(t1), ci->cleared);
	admin_time_text(t2, sizeof(t2), ci->updated);
	admin_buf_printf(b, "</td><td>%s</td><td>%s</td>"
			 "<td>%s</td><td>%s</td><td>%llu</td></tr>\n",
			 lim, mb, t1, t2, (unsigned long long)ci->position);
}

void admin_counters_end(struct admin_buf *b)
{
	admin_buf_msg(b, MSG_ADMIN_COUNTERS_END);
}

/* ---- running services ------------------------------------------------------ */

int admin_xml_escape(struct admin_buf *b, const char *s, size_t n)
{
	return markup_escape(b, s, n, 1);
}

/* <tag>escaped s</tag>; an empty element for NULL. */
static void xml_elem(struct admin_buf *b, const char *tag, const char *s)
{
	admin_buf_printf(b, "<%s>", tag);
	if (s != NULL)
		admin_xml_escape(b, s, strlen(s));
	admin_buf_printf(b, "</%s>", tag);
}

void admin_services_begin(struct admin_buf *b)
{
	admin_buf_str(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<?xml-stylesheet href=\"/SX\" type=\"text/css\"?>\n"
		      "<services>\n<description>Services currently running "
		      "and connected clients</description>\n");
}

void admin_service_xml(struct admin_buf *b, const struct admin_svc_info *si,
		       const struct admin_buf *clients)
{
	admin_buf_str(b, "<service>");
	xml_elem(b, "name", si->name);
	xml_elem(b, "command", si->command);
	xml_elem(b, "listen", si->listen);
	xml_elem(b, "where", si->where);
	admin_buf_printf(b, "<maxconn>%d</maxconn><nclients>%d</nclients>\n"
			 "<clients>\n", si->maxconn, si->nclients);
	if (clients->failed)
		b->failed = 1;
	else
		admin_buf_add(b, clients->p ? clients->p : "", clients->n);
	admin_buf_str(b, "</clients></service>\n");
}

void admin_client_xml(struct admin_buf *b, const struct admin_client_info *ci)
{
	admin_buf_str(b, "<client>");
	xml_elem(b, "peer", ci->peer);
	xml_elem(b, "user", ci->user);
	xml_elem(b, "target", ci->target);
	admin_buf_str(b, "</client>\n");
}

void admin_services_end(struct admin_buf *b)
{
	admin_buf_str(b, "</services>\n");
}

const char *admin_services_css(void)
{
	return "services { display: block; margin: 1em; "
	       "font-family: sans-serif; font-size: small; }\n"
	       "description { display: block; font-size: large; "
	       "font-weight: bold; margin-bottom: 1em; }\n"
	       "service { display: block; border: 1px solid gray; "
	       "margin: 0.5em 0; padding: 0.5em; }\n"
	       "name, command, listen, where, maxconn, nclients "
	       "{ display: inline; margin-right: 1em; }\n"
	       "name { font-weight: bold; }\n"
	       "clients { display: block; margin-left: 2em; }\n"
	       "client { display: block; }\n"
	       "peer, user, target { display: inline; margin-right: 1em; }\n";
}

/* ---- the config form --------------------------------------------------------- */

int admin_form_field(const char *body, size_t n, const char *name,
		     char **out, size_t *outlen)
{
	size_t nl = strlen(name), pos = 0;

	while (body != NULL && pos <= n) {
		const char *amp = memchr(body + pos, '&', n - pos);
		size_t end = amp ? (size_t)(amp - body) : n;

		if (end - pos > nl && memcmp(body + pos, name, nl) == 0 &&
		    body[pos + nl] == '=') {
			pos += nl + 1;
			*out = malloc(end - pos + 1);
			if (*out == NULL)
				return -3;
			/* a decoded NUL is refused: strlen is the length */
			if (http_url_decode(body + pos, end - pos, 1, *out,
					    end - pos + 1) != 0) {
				free(*out);
				*out = NULL;
				return -2;
			}
			*outlen = strlen(*out);
			return 0;
		}
		pos = end + 1;
	}
	return -1;
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
