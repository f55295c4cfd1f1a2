/*
 * StringsPlugin - replace the HTTP proxy's error pages and the admin
 * page texts with strings from a file, for translation or branding
 * (plugins.md 5.3, F-PLUG-05):
 *
 *     plugin /usr/local/lib/3proxy/StringsPlugin.ld.so start /etc/3proxy/strings
 *
 * The strings replace the tables in order (see strfile.h for the
 * format); a section with fewer or more strings than the table gets a
 * warning and replaces what it has.  The replacements belong to the
 * config run that loads the plugin: after a reload without the plugin
 * line the built-in texts are back.  An unreadable file fails the line
 * with code 1001.
 */
#include "plugin_api.h"
#include "strfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRINGS_FILE_MAX (1 << 20)

static const char *const sect_name[STRFILE_NSECT] = { "proxy", "admin" };
static const int sect_table[STRFILE_NSECT] = { PX_MSG_PROXY, PX_MSG_ADMIN };

/* Read the whole file (at most STRINGS_FILE_MAX bytes) into *out. */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return -1;
	buf = malloc(STRINGS_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, STRINGS_FILE_MAX + 1, f);
	if (ferror(f) || n > STRINGS_FILE_MAX) {
		errno = ferror(f) ? EIO : EFBIG;
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* Replace table entries from section k; warnings on stderr. */
static void apply_section(const struct px_api *a, const char *path,
			  const struct strfile *sf, int k)
{
	int want = a->message_count(sect_table[k]), i;
	char msg[600];

	if (sf->n[k] != want) {
		snprintf(msg, sizeof(msg), "StringsPlugin: %.400s: %d %s "
			 "strings, the table has %d", path, sf->n[k],
			 sect_name[k], want);
		a->diag(msg);
	}
	for (i = 0; i < sf->n[k] && i < want; i++)
		if (a->set_message(sect_table[k], i, sf->s[k][i]) != 0) {
			snprintf(msg, sizeof(msg), "StringsPlugin: %.400s: "
				 "%s string %d is too long, not used", path,
				 sect_name[k], i + 1);
			a->diag(msg);
		}
}

PX_PLUGIN_EXPORT int start(const struct px_api *a, int argc, char **argv)
{
	struct strfile sf;
	char msg[600], *buf;
	size_t len;
	int k;

	if (a == NULL || a->version < 1 || !PX_API_HAS(a, set_message))
		return 1;
	if (argc != 2) {
		a->diag("StringsPlugin: usage: plugin StringsPlugin.ld.so "
			"start FILE");
		return 2;
	}
	if (read_file(argv[1], &buf, &len) != 0) {
		snprintf(msg, sizeof(msg), "StringsPlugin: cannot read "
			 "%.400s: %s", argv[1], strerror(errno));
		a->diag(msg);
		return 1001;
	}
	k = strfile_parse(buf, len, &sf);
	free(buf);
	if (k != 0) {
		a->diag("StringsPlugin: out of memory");
		return 3;
	}
	for (k = 0; k < STRFILE_NSECT; k++)
		if (sf.seen[k])
			apply_section(a, argv[1], &sf, k);
	strfile_free(&sf);
	return 0;
}
