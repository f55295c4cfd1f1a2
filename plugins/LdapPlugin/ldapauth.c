/*
 * LdapPlugin - the authentication type `ldap` (plugins.md 5.6,
 * F-PLUG-08): the client's user name and password are checked by
 * binding to an LDAP server as the user; membership of a group may be
 * required too.
 *
 *     plugin /usr/local/lib/3proxy/ldapauth.ld.so start
 *     ldapconnect ldap://ldap.example.com cn=proxy,dc=example,dc=com secret
 *     ldapsbase dc=example,dc=com
 *     ldapuserenv ou=people,dc=example,dc=com
 *     ldapattr uid memberOf
 *     ldapaccess cn=internet,ou=groups,dc=example,dc=com
 *     authcache user,password 300
 *     auth cache ldap
 *
 * The user binds as ATTR=NAME,USERENV (ldapattr's first attribute,
 * ldapuserenv).  With ldapattr's group attribute and ldapaccess, a
 * search under ldapsbase (as the ldapconnect account, or as the user
 * when there is none) must find (&(ATTR=NAME)(GROUPATTR=ACCESS)).
 * Codes: 4 no user name or password, 5 bind failed (or the server could
 * not be used), 7 not in the group.
 *
 * Each check opens its own LDAP connection: nothing is shared between
 * threads, and a server restart costs nothing.  Put `authcache` in front.
 * The settings belong to the config run: `start` makes a new set that
 * the ldap* lines after it fill, and the daemon frees it when the run's
 * configuration is gone (at_run_end).
 *
 * ldapdircount and ldaptrafgroup (per-user traffic quotas) are not
 * supported: they fail the start.
 */
#include "plugin_api.h"
#include "ldapconf.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LDAP_TIMEOUT_SEC 10

static const struct px_api *api;
static struct ldap_conf *current;   /* see TrafficPlugin: valid only in */
static unsigned current_run;        /* the run that made it */

/* ---- the check ------------------------------------------------------------ */

static int ldap_open(const struct ldap_conf *c, LDAP **ld)
{
	struct timeval tv = { LDAP_TIMEOUT_SEC, 0 };
	int v3 = LDAP_VERSION3;

	if (ldap_initialize(ld, c->uri) != LDAP_SUCCESS)
		return -1;
	if (ldap_set_option(*ld, LDAP_OPT_PROTOCOL_VERSION, &v3) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(*ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(*ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(*ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS) {
		ldap_unbind_ext_s(*ld, NULL, NULL);
		return -1;
	}
	return 0;
}

static int ldap_bind_as(LDAP *ld, const char *dn, const char *pw)
{
	struct berval cred;

	cred.bv_val = (char *)pw;
	cred.bv_len = strlen(pw);
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				NULL);
}

/* 0 when the access filter finds the user, 7 when not, 5 on errors. */
static int ldap_in_group(const struct ldap_conf *c, LDAP *ld,
			 const char *user)
{
	char filter[2 * LDAP_TEXT_MAX + 3 * LDAP_USER_MAX + 160];
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct timeval tv = { LDAP_TIMEOUT_SEC, 0 };
	LDAPMessage *res = NULL;
	const char *base = c->sbase[0] ? c->sbase : c->userenv;
	int rc, n;

	if (ldap_access_filter(c, user, filter, sizeof(filter)) != 0)
		return 5;
	if (c->binddn[0] != '\0' &&
	    ldap_bind_as(ld, c->binddn, c->bindpw) != LDAP_SUCCESS)
		return 5;
	rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs,
			       1, NULL, NULL, &tv, 1, &res);
	n = rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED
		    ? ldap_count_entries(ld, res) : -1;
	if (res != NULL)
		ldap_msgfree(res);
	if (n < 0)
		return rc == LDAP_NO_SUCH_OBJECT ? 7 : 5;
	return n > 0 ? 0 : 7;
}

static int ldap_check(void *arg, const char *user, const char *password)
{
	const struct ldap_conf *c = arg;
	char dn[LDAP_TEXT_MAX + 3 * LDAP_USER_MAX + 80];
	LDAP *ld;
	int rc;

	/* an empty password is an anonymous bind, which proves nothing */
	if (user == NULL || password == NULL || user[0] == '\0' ||
	    password[0] == '\0')
		return 4;
	if (c->uri[0] == '\0' || ldap_user_dn(c, user, dn, sizeof(dn)) != 0)
		return 5;
	if (ldap_open(c, &ld) != 0)
		return 5;
	rc = ldap_bind_as(ld, dn, password) == LDAP_SUCCESS ? 0 : 5;
	if (rc == 0 && c->groupattr[0] != '\0' && c->access[0] != '\0')
		rc = ldap_in_group(c, ld, user);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

/* ---- commands ------------------------------------------------------------- */

/* The settings of this run, or NULL after an error on the line. */
static struct ldap_conf *conf_of(struct px_conf *conf, const char *cmd)
{
	char msg[160];

	if (current != NULL && current_run == api->conf_run())
		return current;
	snprintf(msg, sizeof(msg), "%s: the ldapauth plugin line must come "
		 "first", cmd);
	api->conf_error(conf, msg);
	return NULL;
}

static int bad(struct px_conf *conf, const char *cmd, const char *what)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s: %s", cmd, what);
	api->conf_error(conf, msg);
	return 1;
}

static int cmd_ldapconnect(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);

	if (c == NULL)
		return 1;
	if (ldap_make_uri(argv[1], c->uri, sizeof(c->uri)) != 0)
		return bad(conf, argv[0], "bad server");
	if (ldap_set_text(c->binddn, sizeof(c->binddn),
			  argc > 2 ? argv[2] : "") != 0 ||
	    ldap_set_text(c->bindpw, sizeof(c->bindpw),
			  argc > 3 ? argv[3] : "") != 0)
		return bad(conf, argv[0], "bind DN or password too long");
	return 0;
}

static int cmd_ldapsbase(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);

	(void)argc;
	if (c == NULL)
		return 1;
	if (ldap_set_text(c->sbase, sizeof(c->sbase), argv[1]) != 0)
		return bad(conf, argv[0], "search base too long");
	return 0;
}

static int cmd_ldapuserenv(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);

	(void)argc;
	if (c == NULL)
		return 1;
	if (ldap_set_text(c->userenv, sizeof(c->userenv), argv[1]) != 0)
		return bad(conf, argv[0], "base DN too long");
	return 0;
}

static int cmd_ldapattr(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);

	if (c == NULL)
		return 1;
	if (!ldap_attr_valid(argv[1]) || !ldap_attr_valid(argv[2]))
		return bad(conf, argv[0], "bad attribute name");
	if (argc > 3 && strcmp(argv[3], "0") != 0 &&
	    strcmp(argv[3], "1") != 0)
		return bad(conf, argv[0], "the third argument must be 0 or 1");
	strcpy(c->userattr, argv[1]);
	strcpy(c->groupattr, argv[2]);
	c->lowercase = argc > 3 && argv[3][0] == '1';
	return 0;
}

static int cmd_ldapaccess(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);

	(void)argc;
	if (c == NULL)
		return 1;
	if (ldap_set_text(c->access, sizeof(c->access), argv[1]) != 0)
		return bad(conf, argv[0], "value too long");
	return 0;
}

/* ldapdircount, ldaptrafgroup: recognised, not supported. */
static int cmd_unsupported(struct px_conf *conf, int argc, char **argv)
{
	char msg[160];

	(void)argc;
	snprintf(msg, sizeof(msg), "'%s' is not supported by this build yet",
		 argv[0]);
	if (api->conf_checking(conf)) {
		api->conf_warning(conf, msg);
		return 0;
	}
	api->conf_error(conf, msg);
	return 1;
}

static const struct {
	const char *name;
	int min, max;
	px_command_fn fn;
} ldap_cmds[] = {
	{ "ldapconnect", 2, 4, cmd_ldapconnect },
	{ "ldapsbase", 2, 2, cmd_ldapsbase },
	{ "ldapuserenv", 2, 2, cmd_ldapuserenv },
	{ "ldapattr", 3, 4, cmd_ldapattr },
	{ "ldapaccess", 2, 2, cmd_ldapaccess },
	{ "ldapdircount", 2, 2, cmd_unsupported },
	{ "ldaptrafgroup", 5, 5, cmd_unsupported },
};

PX_PLUGIN_EXPORT int start(const struct px_api *a, int argc, char **argv)
{
	static int registered;
	struct ldap_conf *c;
	size_t i;

	(void)argv;
	if (a == NULL || a->version < 1 || !PX_API_HAS(a, at_run_end))
		return 1;
	if (argc != 1) {
		a->diag("ldapauth: usage: plugin ldapauth.ld.so start");
		return 2;
	}
	api = a;
	/* Commands live for the process; register once. */
	for (i = 0; !registered && i < sizeof(ldap_cmds) / sizeof(ldap_cmds[0]);
	     i++)
		if (a->register_command(ldap_cmds[i].name, ldap_cmds[i].min,
					ldap_cmds[i].max, ldap_cmds[i].fn) != 0)
			return 3;
	registered = 1;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return 4;
	ldap_conf_init(c);
	if (a->at_run_end(free, c) != 0) {
		free(c);
		return 5;
	}
	/* Auth types are emptied before every run: register every time. */
	if (a->register_auth("ldap", ldap_check, c) != 0)
		return 6;
	current = c;
	current_run = a->conf_run();
	return 0;
}
