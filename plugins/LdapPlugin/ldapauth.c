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
 * Per-user traffic quotas and rates (ldapquota.c):
 *
 *     ldapattr uid employeeType
 *     ldapdircount /var/lib/3proxy/ldap/
 *     ldaptrafgroup internet MONTHLY 10240 0
 *     ldaptrafgroup students DAILY 500 2000000
 *
 * A user in a trafgroup ((&(ATTR=NAME)(GROUPATTR=VALUE)) under
 * ldapsbase; the first group that matches) may read LIMIT MB from
 * servers per calendar period, at BPS bits per second (0 = no rate);
 * then code 10.  Searching for the trafgroup fails the check with 5.
 */
#include "plugin_api.h"
#include "ldapconf.h"
#include "ldapcount.h"
#include "ldapquota.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The searches run as the ldapconnect account when there is one (else
 * as whoever ld is bound as: the user, or anonymous).  0 or 5. */
static int ldap_search_identity(const struct ldap_conf *c, LDAP *ld)
{
	if (c->binddn[0] != '\0' &&
	    ldap_bind_as(ld, c->binddn, c->bindpw) != LDAP_SUCCESS)
		return 5;
	return 0;
}

/* 0 when (&(USERATTR=user)(GROUPATTR=value)) finds an entry under the
 * search base, 7 when not, 5 on errors. */
static int ldap_member(const struct ldap_conf *c, LDAP *ld,
		       const char *user, const char *value)
{
	char filter[2 * LDAP_TEXT_MAX + 3 * LDAP_USER_MAX + 160];
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct timeval tv = { LDAP_TIMEOUT_SEC, 0 };
	LDAPMessage *res = NULL;
	const char *base = c->sbase[0] ? c->sbase : c->userenv;
	int rc, n;

	if (ldap_group_filter(c, user, value, filter, sizeof(filter)) != 0)
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

/* 0 when the access filter finds the user, 7 when not, 5 on errors. */
static int ldap_in_group(const struct ldap_conf *c, LDAP *ld,
			 const char *user)
{
	if (ldap_search_identity(c, ld) != 0)
		return 5;
	return ldap_member(c, ld, user, c->access);
}

int ldap_trafgroup_find(const struct ldap_conf *c, LDAP *ld,
			const char *user)
{
	LDAP *own = NULL;
	int g = LQ_NO_GROUP, rc;
	size_t i;

	if (ld == NULL) {
		if (c->uri[0] == '\0' || ldap_open(c, &own) != 0)
			return LQ_LDAP_FAILED;
		ld = own;
	}
	if (ldap_search_identity(c, ld) != 0)
		g = LQ_LDAP_FAILED;
	for (i = 0; g == LQ_NO_GROUP && i < c->ngroups; i++) {
		rc = ldap_member(c, ld, user, c->groups[i].value);
		if (rc == 0)
			g = (int)i;
		else if (rc != 7)
			g = LQ_LDAP_FAILED;
	}
	if (own != NULL)
		ldap_unbind_ext_s(own, NULL, NULL);
	return g;
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
	if (rc == 0 && c->ngroups > 0) {
		/* the trafgroup now, on this connection: the stage hook of
		 * this request then needs no search */
		int g = ldap_trafgroup_find(c, ld, user);

		if (g == LQ_LDAP_FAILED)
			rc = 5;
		else
			lq_note(c, user, g);
	}
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

/* ldapdircount DIR: count files of trafgroup members go there. */
static int cmd_ldapdircount(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);
	struct stat st;
	size_t n;

	(void)argc;
	if (c == NULL)
		return 1;
	if (argv[1][0] == '\0' ||
	    ldap_set_text(c->dircount, sizeof(c->dircount), argv[1]) != 0)
		return bad(conf, argv[0], "bad directory name");
	/* "dir/" and "dir" are one directory; "/" stays */
	for (n = strlen(c->dircount); n > 1 && c->dircount[n - 1] == '/'; )
		c->dircount[--n] = '\0';
	if (!api->conf_checking(conf) &&
	    (stat(c->dircount, &st) != 0 || !S_ISDIR(st.st_mode)))
		return bad(conf, argv[0], "not a directory");
	return 0;
}

/* ldaptrafgroup VALUE MONTHLY|WEEKLY|DAILY LIMIT_MB BPS */
static int cmd_ldaptrafgroup(struct px_conf *conf, int argc, char **argv)
{
	struct ldap_conf *c = conf_of(conf, argv[0]);
	struct ldap_trafgroup *g;
	char msg[160];

	(void)argc;
	if (c == NULL)
		return 1;
	if (c->uri[0] == '\0' || c->sbase[0] == '\0')
		return bad(conf, argv[0], "ldapconnect and ldapsbase must "
			   "come before it");
	if (c->groupattr[0] == '\0')
		return bad(conf, argv[0], "ldapattr with a group attribute "
			   "must come before it");
	if (c->ngroups == LDAP_GROUPS_MAX)
		return bad(conf, argv[0], "too many groups");
	g = &c->groups[c->ngroups];
	if (ldap_set_text(g->value, sizeof(g->value), argv[1]) != 0 ||
	    argv[1][0] == '\0')
		return bad(conf, argv[0], "bad group value");
	g->period = ldap_period_letter(argv[2]);
	snprintf(msg, sizeof(msg), "bad period '%.40s' (MONTHLY, WEEKLY or "
		 "DAILY)", argv[2]);
	if (g->period == 0)
		return bad(conf, argv[0], msg);
	snprintf(msg, sizeof(msg), "bad limit '%.40s' (MB: a whole number "
		 "from 1)", argv[3]);
	if (ldap_parse_mb(argv[3], &g->limit) != 0)
		return bad(conf, argv[0], msg);
	snprintf(msg, sizeof(msg), "bad rate '%.40s' (bits per second: 0 "
		 "or at least %d)", argv[4], LDAP_MIN_BPS);
	if (ldap_parse_bps(argv[4], &g->bps) != 0)
		return bad(conf, argv[0], msg);
	/* the filter that applies them, once per run */
	if (!api->conf_checking(conf) && c->ngroups == 0 && lq_enable(c) != 0)
		return bad(conf, argv[0], "the daemon cannot apply quotas");
	c->ngroups++;
	return 0;
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
	{ "ldapdircount", 2, 2, cmd_ldapdircount },
	{ "ldaptrafgroup", 5, 5, cmd_ldaptrafgroup },
};

/* libldap sets itself up (options, SASL) on its first call.  Make that
 * call here, on the main thread at start-up, rather than on whichever
 * worker checks the first user: the set-up is process-wide, and what it
 * allocates per thread (the SASL library's dlsym() leaves a dlerror
 * buffer behind) then belongs to a thread that lives as long as the
 * daemon instead of a worker that may end at any time. */
static void ldap_lib_init(void)
{
	static int done;
	int v;

	if (!done && ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v) ==
		     LDAP_OPT_SUCCESS)
		done = 1;
}

PX_PLUGIN_EXPORT int start(const struct px_api *a, int argc, char **argv)
{
	static int registered;
	static unsigned runs;
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
	ldap_lib_init();
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
	c->id = ++runs;
	lq_init(a);
	if (a->at_run_end(lq_conf_end, c) != 0) {
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
