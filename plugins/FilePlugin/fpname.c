/*
 * fpname.c - FilePlugin's pure parts: spool file names, flag names,
 * sizes and the FTP commands that start a transfer (plugins.md 5.4,
 * F-PLUG-06).  Unit tested (test_fpname).
 */
#include "fileplugin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define FP_COUNTER_MOD 10000000u   /* 7 digits */
#define FP_SIZE_MAX ((uint64_t)1 << 40)

int fp_spool_name(char *buf, size_t size, const char *dir,
		  unsigned counter)
{
	size_t dl;
	int n;

	if (buf == NULL || dir == NULL || *dir == '\0')
		return -1;
	dl = strlen(dir);
	/* "dir/" and "dir" name the same place */
	while (dl > 1 && (dir[dl - 1] == '/' || dir[dl - 1] == '\\'))
		dl--;
	if (dl > (size_t)0x7fffffff)
		return -1;
	n = snprintf(buf, size, "%.*s/%07u.tmp", (int)dl, dir,
		     counter % FP_COUNTER_MOD);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static const struct {
	const char *name;
	unsigned bit;
} fp_names[] = {
	{ "cliheader", FP_CLIHEADER }, { "srvheader", FP_SRVHEADER },
	{ "clidata", FP_CLIDATA }, { "srvdata", FP_SRVDATA },
	{ "request", FP_CALL_ONREQUEST }, { "headers", FP_CALL_AFTERHEADERS },
	{ "data", FP_CALL_ONDATA }, { "remove", FP_CALL_ONREMOVE },
};

int fp_flags_parse(const char *s, unsigned *flags)
{
	unsigned f = 0;
	size_t i, n;

	if (s == NULL || flags == NULL)
		return -1;
	for (;;) {
		n = strcspn(s, ",");
		for (i = 0; i < sizeof(fp_names) / sizeof(fp_names[0]); i++)
			if (strlen(fp_names[i].name) == n &&
			    strncmp(fp_names[i].name, s, n) == 0)
				break;
		if (i == sizeof(fp_names) / sizeof(fp_names[0]))
			return -1;      /* unknown or empty name */
		f |= fp_names[i].bit;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	*flags = f;
	return 0;
}

int fp_size_parse(const char *s, uint64_t *n)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > FP_SIZE_MAX)
			return -1;
	}
	*n = v;
	return 0;
}

/* The FTP commands that move a file or a listing over a data
 * connection (RFC 959, RFC 1123, RFC 3659). */
int fp_ftp_transfer(const char *line, size_t len)
{
	static const char *const cmds[] = {
		"RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"
	};
	size_t i, k, n;

	if (line == NULL)
		return 0;
	for (n = 0; n < len && line[n] != ' '; n++)
		;
	if (n != 4)
		return 0;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (k = 0; k < 4; k++)
			if (toupper((unsigned char)line[k]) != cmds[i][k])
				break;
		if (k == 4)
			return 1;
	}
	return 0;
}
