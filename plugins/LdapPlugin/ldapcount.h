/*
 * ldapcount.h - the pure parts of LdapPlugin's traffic quotas
 * (ldapdircount, ldaptrafgroup): the arguments of ldaptrafgroup, the
 * file name a user's count is kept under, and the text of that file.
 *
 * The count file DIR/NAME.lc holds one line
 *     BYTES START
 * two decimal numbers: the bytes read from servers in the current
 * period and the Unix time that period's count started.
 */
#ifndef LDAPCOUNT_H
#define LDAPCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* The bandwidth below which a rate is refused (0 = no limit is fine). */
#define LDAP_MIN_BPS 300
/* A count file's line is at most this long (with the newline). */
#define LDAP_LC_LINE 48

/* MONTHLY, WEEKLY or DAILY (any case; also the letters M, W, D) as the
 * core's period letter 'M', 'W', 'D'; 0 for anything else. */
char ldap_period_letter(const char *word);

/* A limit in MB (1 MB = 1048576 bytes) as bytes: a whole decimal number
 * from 1, not so big that the bytes overflow.  Returns 0 or -1. */
int ldap_parse_mb(const char *s, uint64_t *bytes);

/* Bits per second: 0 (no limit) or a whole number >= LDAP_MIN_BPS.
 * Returns 0 or -1. */
int ldap_parse_bps(const char *s, uint64_t *bps);

/* The count file name of user: letters, digits, '-', '_' and '@' as
 * they are, every other byte (and a '.' that starts the name) as %XX,
 * then ".lc".  So no name can hold '/', be ".." or hidden, or carry a
 * control byte, and two names never share a file.  Returns 0, or -1 for
 * an empty name or one that does not fit (len, or 255 bytes). */
int ldap_lc_name(const char *user, char *out, size_t len);

/* The file's text for a count.  Returns its length (0: no room). */
size_t ldap_lc_format(char *out, size_t len, uint64_t bytes, int64_t start);

/* Read a file's text: "BYTES START" and an optional newline, nothing
 * else.  Returns 0, or -1 (the count is then not used). */
int ldap_lc_parse(const char *text, uint64_t *bytes, int64_t *start);

#endif
