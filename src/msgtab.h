/*
 * msgtab.h - the replaceable message tables (plugins.md 2, F-PLUG-05):
 * the HTTP proxy's error pages and the pieces of the admin pages.
 *
 * The built-in texts are constant.  A config run may replace entries
 * (StringsPlugin, through the plugin API); the replacements belong to
 * that run's generation (struct conf_gen.msgs), so a reload without
 * them shows the built-in texts again and open connections keep the
 * texts of their own generation.  A generation is immutable once
 * published: readers take no lock.
 */
#ifndef PX_MSGTAB_H
#define PX_MSGTAB_H

#include <stddef.h>

/* Table numbers: the same values as PX_MSG_* in plugin_api.h. */
enum msgtab_table { MSGTAB_PROXY = 0, MSGTAB_ADMIN = 1, MSGTAB_NTABLES };

/* Entries of the proxy table: the HTML body of each error page (the
 * status line and headers stay the daemon's). */
enum msgtab_proxy {
	MSG_HTTP_400, MSG_HTTP_401, MSG_HTTP_403, MSG_HTTP_404,
	MSG_HTTP_407, MSG_HTTP_431, MSG_HTTP_500, MSG_HTTP_501,
	MSG_HTTP_502, MSG_HTTP_503, MSG_HTTP_503_LOOP, MSG_HTTP_504,
	MSG_HTTP_503_POLICY,   /* a filter (pcre) rejected the request */
	MSG_HTTP_COUNT
};

/* Entries of the admin table: the fixed pieces of the pages. */
enum msgtab_admin {
	MSG_ADMIN_HEAD,        /* up to the page title */
	MSG_ADMIN_MENU,        /* after the title: end of head, menu, <h2> */
	MSG_ADMIN_H2_END,      /* after the heading */
	MSG_ADMIN_FOOTER,      /* end of every page */
	MSG_ADMIN_WELCOME,     /* text of the index page */
	MSG_ADMIN_COUNTERS,    /* head of the counters table */
	MSG_ADMIN_COUNTERS_END,
	MSG_ADMIN_COUNT
};

/* Longest replacement text accepted (bytes). */
#define MSGTAB_TEXT_MAX 16384

struct msgtab;   /* replacements of one generation */

/* Entries in table t (0 for an unknown table). */
size_t msgtab_count(int t);
/* The built-in text of entry i of table t, or NULL if out of range. */
const char *msgtab_default(int t, size_t i);
/* The text in force: m's replacement if any, else the built-in one.
 * m may be NULL.  Entry numbers come from the enums above. */
const char *msgtab_text(const struct msgtab *m, int t, size_t i);
/* Replace entry i of table t in *m (created on first use) with a copy
 * of text.  Returns 0, or -1 (bad table or entry, text too long, no
 * memory). */
int msgtab_set(struct msgtab **m, int t, size_t i, const char *text);
void msgtab_free(struct msgtab *m);

#endif
