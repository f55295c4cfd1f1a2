/*
 * msgtab.c - built-in message tables and their per-generation
 * replacements (msgtab.h).
 *
 * Owns: struct msgtab, built during a config run on the main thread and
 * read-only once its generation is published.
 */
#include "msgtab.h"

#include <stdlib.h>
#include <string.h>

/* An error page: the title is both <title> and the heading. */
#define PAGE(title, text) \
	"<html><head><title>" title "</title></head>\r\n" \
	"<body><h2>" title "</h2><h3>" text "</h3></body></html>\r\n"

static const char *const proxy_msgs[MSG_HTTP_COUNT] = {
	[MSG_HTTP_400] = PAGE("400 Bad Request",
			      "Your request is malformed."),
	[MSG_HTTP_401] = PAGE("401 Authentication Required",
			      "The FTP server refused the login."),
	[MSG_HTTP_403] = PAGE("403 Access Denied",
		"Access control list denies you to access this resource."),
	[MSG_HTTP_404] = PAGE("404 Not Found",
			      "File not found or no data connection."),
	[MSG_HTTP_407] = PAGE("407 Proxy Authentication Required",
			      "Proxy authentication required."),
	[MSG_HTTP_431] = PAGE("431 Request Header Fields Too Large",
			      "Your request is larger than this proxy "
			      "accepts."),
	[MSG_HTTP_500] = PAGE("500 Internal Error", "Internal proxy error."),
	[MSG_HTTP_501] = PAGE("501 Not Implemented",
			      "Required action is not supported."),
	[MSG_HTTP_502] = PAGE("502 Bad Gateway",
			      "Host not found or connection failed."),
	[MSG_HTTP_503] = PAGE("503 Service Unavailable",
			      "You have exceeded your limits."),
	[MSG_HTTP_503_LOOP] = PAGE("503 Service Unavailable",
				   "Recursion detected."),
	[MSG_HTTP_504] = PAGE("504 Gateway Timeout",
			      "The server did not answer in time."),
	[MSG_HTTP_503_POLICY] = PAGE("503 Service Unavailable",
				     "Your request violates configured "
				     "policy."),
};

static const char *const admin_msgs[MSG_ADMIN_COUNT] = {
	[MSG_ADMIN_HEAD] = "<!DOCTYPE html>\n<html><head><meta "
		"charset=\"utf-8\"><title>3proxy: ",
	[MSG_ADMIN_MENU] = "</title></head><body>\n"
		"<p><a href=\"/C\">Counters</a> | "
		"<a href=\"/R\">Reload</a> | "
		"<a href=\"/S\">Running Services</a> | "
		"<a href=\"/F\">Config</a></p>\n<h2>",
	[MSG_ADMIN_H2_END] = "</h2>\n",
	[MSG_ADMIN_FOOTER] = "<hr><p><small>3proxy in C, a re-implementation "
		"of 3proxy tiny proxy server</small></p>\n</body></html>\n",
	[MSG_ADMIN_WELCOME] = "<p>3proxy web administration.</p>\n",
	[MSG_ADMIN_COUNTERS] = "<table border=\"1\">\n<tr><th>Action</th>"
		"<th>Number / comment</th><th>Active</th>"
		"<th>Limit</th><th>Value (MB)</th><th>Last reset</th>"
		"<th>Last update</th><th>Position</th></tr>\n",
	[MSG_ADMIN_COUNTERS_END] = "</table>\n",
};

static const struct {
	const char *const *msgs;
	size_t n;
} tables[MSGTAB_NTABLES] = {
	[MSGTAB_PROXY] = { proxy_msgs, MSG_HTTP_COUNT },
	[MSGTAB_ADMIN] = { admin_msgs, MSG_ADMIN_COUNT },
};

/* Entries of the longest table. */
#define MSGTAB_ROW ((int)MSG_HTTP_COUNT > (int)MSG_ADMIN_COUNT ? \
		    (int)MSG_HTTP_COUNT : (int)MSG_ADMIN_COUNT)

struct msgtab {
	char *text[MSGTAB_NTABLES][MSGTAB_ROW];
};

size_t msgtab_count(int t)
{
	return t >= 0 && t < MSGTAB_NTABLES ? tables[t].n : 0;
}

const char *msgtab_default(int t, size_t i)
{
	return i < msgtab_count(t) ? tables[t].msgs[i] : NULL;
}

const char *msgtab_text(const struct msgtab *m, int t, size_t i)
{
	if (i >= msgtab_count(t))
		return "";
	if (m != NULL && m->text[t][i] != NULL)
		return m->text[t][i];
	return tables[t].msgs[i];
}

int msgtab_set(struct msgtab **m, int t, size_t i, const char *text)
{
	char *copy;

	if (i >= msgtab_count(t) || text == NULL ||
	    strlen(text) > MSGTAB_TEXT_MAX)
		return -1;
	if (*m == NULL && (*m = calloc(1, sizeof(**m))) == NULL)
		return -1;
	copy = strdup(text);
	if (copy == NULL)
		return -1;
	free((*m)->text[t][i]);
	(*m)->text[t][i] = copy;
	return 0;
}

void msgtab_free(struct msgtab *m)
{
	size_t t, i;

	if (m == NULL)
		return;
	for (t = 0; t < MSGTAB_NTABLES; t++)
		for (i = 0; i < msgtab_count((int)t); i++)
			free(m->text[t][i]);
	free(m);
}
