/*
 * ldapconf.c - settings, URI and escaping for LdapPlugin (ldapconf.h).
 */
#include "ldapconf.h"

#include <stdio.h>
#include <string.h>

void ldap_conf_init(struct ldap_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->userattr, "uid");
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int ldap_set_text(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len || has_ctl(src))
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int ldap_make_uri(const char *server, char *out, size_t len)
{
	int n;

	if (server[0] == '\0' || strpbrk(server, " \t") != NULL ||
	    has_ctl(server))
		return -1;
	if (strstr(server, "://") != NULL)
		n = snprintf(out, len, "%s", server);
	else
		n = snprintf(out, len, "ldap://%s", server);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int ldap_attr_valid(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > 63)
		return 0;
	if (a[0] >= '0' && a[0] <= '9') {
		for (i = 0; i < n; i++)
			if (!((a[i] >= '0' && a[i] <= '9') ||
			      (a[i] == '.' && i > 0 && a[i - 1] != '.')))
				return 0;
		return a[n - 1] != '.';
	}
	for (i = 0; i < n; i++) {
		char ch = a[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch == '-' && i > 0)))
			return 0;
	}
	return 1;
}

/* Output cursor with a hard end. */
struct out {
	char *p;
	size_t n, len;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->len - o->n) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static char lower(char ch, int on)
{
	return on && ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* RFC 4514: special characters get a backslash; a leading space or '#'
 * and a trailing space too. */
static void put_dn_value(struct out *o, const char *v, int low)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++) {
		char ch = lower(v[i], low);

		if (strchr(",+\"\\<>;=", ch) != NULL ||
		    (i == 0 && (ch == ' ' || ch == '#')) ||
		    (i == n - 1 && ch == ' '))
			put(o, "\\", 1);
		put(o, &ch, 1);
	}
}

/* RFC 4515: * ( ) \ as \XX. */
static void put_filter_value(struct out *o, const char *v, int low)
{
	char hex[4];

	for (; *v; v++) {
		char ch = lower(*v, low);

		if (strchr("*()\\", ch) != NULL) {
			snprintf(hex, sizeof(hex), "\\%02x", (unsigned char)ch);
			puts_(o, hex);
		} else {
			put(o, &ch, 1);
		}
	}
}

static int user_ok(const char *user)
{
	size_t n = strlen(user);

	return n > 0 && n <= LDAP_USER_MAX && !has_ctl(user);
}

int ldap_user_dn(const struct ldap_conf *c, const char *user, char *out,
		 size_t len)
{
	struct out o = { out, 0, len, 0 };

	if (len == 0 || !user_ok(user))
		return -1;
	out[0] = '\0';
	puts_(&o, c->userattr);
	put(&o, "=", 1);
	put_dn_value(&o, user, c->lowercase);
	if (c->userenv[0] != '\0') {
		put(&o, ",", 1);
		puts_(&o, c->userenv);
	}
	return o.full ? -1 : 0;
}

int ldap_access_filter(const struct ldap_conf *c, const char *user,
		       char *out, size_t len)
{
	return ldap_group_filter(c, user, c->access, out, len);
}

int ldap_group_filter(const struct ldap_conf *c, const char *user,
		      const char *group, char *out, size_t len)
{
	struct out o = { out, 0, len, 0 };

	if (len == 0 || !user_ok(user))
		return -1;
	out[0] = '\0';
	puts_(&o, "(&(");
	puts_(&o, c->userattr);
	put(&o, "=", 1);
	put_filter_value(&o, user, c->lowercase);
	puts_(&o, ")(");
	puts_(&o, c->groupattr);
	put(&o, "=", 1);
	put_filter_value(&o, group, 0);
	puts_(&o, "))");
	return o.full ? -1 : 0;
}
