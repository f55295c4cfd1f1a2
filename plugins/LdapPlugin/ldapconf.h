/*
 * ldapconf.h - the pure parts of LdapPlugin (plugins.md 5.6, F-PLUG-08):
 * the settings of one config run, the server URI, and building the user
 * DN and the access filter with the user's name escaped (RFC 4514 for a
 * DN value, RFC 4515 for a filter value), so that no user name can change
 * the DN or the search.
 */
#ifndef LDAPCONF_H
#define LDAPCONF_H

#include <stddef.h>
#include <stdint.h>

#define LDAP_TEXT_MAX 512      /* any one setting */
#define LDAP_USER_MAX 255      /* user names longer than this: refused */
#define LDAP_GROUPS_MAX 32     /* ldaptrafgroup lines per run */

/* One ldaptrafgroup line. */
struct ldap_trafgroup {
	char value[LDAP_TEXT_MAX];      /* GROUPATTR value of members */
	char period;                    /* 'M', 'W' or 'D' */
	uint64_t limit;                 /* bytes per period */
	uint64_t bps;                   /* inbound rate; 0 = none */
};

struct ldap_conf {
	char uri[LDAP_TEXT_MAX + 16];   /* ldapconnect server */
	char binddn[LDAP_TEXT_MAX];     /* service account, "" = none */
	char bindpw[LDAP_TEXT_MAX];
	char sbase[LDAP_TEXT_MAX];      /* ldapsbase */
	char userenv[LDAP_TEXT_MAX];    /* ldapuserenv: base DN of users */
	char userattr[64];              /* ldapattr; default "uid" */
	char groupattr[64];             /* "" = no group check */
	int lowercase;                  /* ldapattr ... 1 */
	char access[LDAP_TEXT_MAX];     /* ldapaccess: required value */
	char dircount[LDAP_TEXT_MAX];   /* ldapdircount; "" = memory only */
	struct ldap_trafgroup groups[LDAP_GROUPS_MAX];
	size_t ngroups;                 /* the first one a user is in wins */
	unsigned id;                    /* tells runs apart (ldapquota.c) */
};

/* Defaults: no server, user attribute "uid". */
void ldap_conf_init(struct ldap_conf *c);

/* The URI for SERVER: kept when it has a scheme (ldap://, ldaps://,
 * ldapi://), else "ldap://SERVER".  Returns 0 or -1 (too long, empty,
 * spaces or control bytes). */
int ldap_make_uri(const char *server, char *out, size_t len);

/* Copy a setting; -1 when too long (or has control bytes). */
int ldap_set_text(char *dst, size_t len, const char *src);

/* An attribute name: letters, digits and '-', starting with a letter;
 * or a numeric OID.  Returns 1 if valid. */
int ldap_attr_valid(const char *a);

/* "ATTR=USER,USERENV" with USER escaped for a DN (lower-cased if asked).
 * Returns 0, or -1 (empty or too long user, control bytes, no room). */
int ldap_user_dn(const struct ldap_conf *c, const char *user, char *out,
		 size_t len);

/* "(&(ATTR=USER)(GROUPATTR=ACCESS))" with both values escaped for a
 * filter.  Returns 0 or -1. */
int ldap_access_filter(const struct ldap_conf *c, const char *user,
		       char *out, size_t len);
/* The same with the value of group instead of ACCESS. */
int ldap_group_filter(const struct ldap_conf *c, const char *user,
		      const char *group, char *out, size_t len);

#endif
