/*
 * strfile.h - the strings file of StringsPlugin (plugins.md 5.3,
 * F-PLUG-05).  Pure: parses bytes in memory.
 *
 * Format: the proxy strings are between a line containing [--proxy--]
 * and one containing [/--proxy--], the admin strings between
 * [--admin--] and [/--admin--].  Inside a section, a line containing
 * [end] ends a string; the lines before it are joined without their line
 * breaks, and each literal \n (backslash, n) becomes CR LF.  Text after
 * the last [end] of a section is one more string.  Lines outside the
 * sections are ignored.
 */
#ifndef STRFILE_H
#define STRFILE_H

#include <stddef.h>

enum { STRFILE_PROXY, STRFILE_ADMIN, STRFILE_NSECT };

struct strfile {
	char **s[STRFILE_NSECT];
	int n[STRFILE_NSECT];
	int seen[STRFILE_NSECT];    /* the section was present */
};

/* Parse buf[0..len).  Returns 0, or -1 when out of memory (f is then
 * empty).  Free with strfile_free. */
int strfile_parse(const char *buf, size_t len, struct strfile *f);
void strfile_free(struct strfile *f);

#endif
