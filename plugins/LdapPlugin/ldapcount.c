/*
 * ldapcount.c - ldaptrafgroup arguments, count file names and text
 * (ldapcount.h).
 */
#include "ldapcount.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The longest file name most file systems take. */
#define NAME_MAX_BYTES 255

char ldap_period_letter(const char *word)
{
	static const struct {
		const char *word;
		char letter;
	} words[] = {
		{ "MONTHLY", 'M' }, { "WEEKLY", 'W' }, { "DAILY", 'D' },
		{ "M", 'M' }, { "W", 'W' }, { "D", 'D' },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(word, words[i].word) == 0)
			return words[i].letter;
	return 0;
}

/* A whole decimal number up to max.  Returns 0 or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int ldap_parse_mb(const char *s, uint64_t *bytes)
{
	uint64_t mb;

	if (parse_u64(s, UINT64_MAX >> 20, &mb) != 0 || mb == 0)
		return -1;
	*bytes = mb << 20;
	return 0;
}

int ldap_parse_bps(const char *s, uint64_t *bps)
{
	uint64_t v;

	if (parse_u64(s, UINT64_MAX / 8, &v) != 0 ||
	    (v != 0 && v < LDAP_MIN_BPS))
		return -1;
	*bps = v;
	return 0;
}

static int plain(char ch, int first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
	       ch == '@' || (ch == '.' && !first);
}

int ldap_lc_name(const char *user, char *out, size_t len)
{
	size_t n = 0, i;

	if (user[0] == '\0')
		return -1;
	for (i = 0; user[i] != '\0'; i++) {
		if (n + 4 > len)
			return -1;
		if (plain(user[i], i == 0))
			out[n++] = user[i];
		else
			n += (size_t)snprintf(out + n, 4, "%%%02X",
					      (unsigned char)user[i]);
	}
	if (n + 4 > len || n + 3 > NAME_MAX_BYTES)
		return -1;
	memcpy(out + n, ".lc", 4);
	return 0;
}

size_t ldap_lc_format(char *out, size_t len, uint64_t bytes, int64_t start)
{
	int n = snprintf(out, len, "%llu %lld\n", (unsigned long long)bytes,
			 (long long)start);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int ldap_lc_parse(const char *text, uint64_t *bytes, int64_t *start)
{
	char a[24], b[24];
	const char *sp = strchr(text, ' ');
	const char *end = text + strlen(text);
	uint64_t s;

	if (end > text && end[-1] == '\n')
		end--;
	if (sp == NULL || sp > end || (size_t)(sp - text) >= sizeof(a) ||
	    (size_t)(end - sp - 1) >= sizeof(b))
		return -1;
	memcpy(a, text, (size_t)(sp - text));
	a[sp - text] = '\0';
	memcpy(b, sp + 1, (size_t)(end - sp - 1));
	b[end - sp - 1] = '\0';
	if (parse_u64(a, UINT64_MAX, bytes) != 0 ||
	    parse_u64(b, INT64_MAX, &s) != 0)
		return -1;
	*start = (int64_t)s;
	return 0;
}
