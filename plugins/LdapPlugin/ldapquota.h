/*
 * ldapquota.h - LdapPlugin's per-user traffic quotas and rates
 * (ldaptrafgroup, ldapdircount): which trafgroup a user is in, the
 * user's quota and pipe (kept by the daemon, plugin_api.h quota_new and
 * pipe_new), attached to each of the user's requests by a filter's
 * afterauth stage, and the count files.
 */
#ifndef LDAPQUOTA_H
#define LDAPQUOTA_H

#include <ldap.h>

struct px_api;
struct ldap_conf;

/* Group search results besides an index into c->groups. */
#define LQ_NO_GROUP (-1)
#define LQ_LDAP_FAILED (-2)

/* ldapauth.c: the index of the first trafgroup of c that user is in,
 * LQ_NO_GROUP or LQ_LDAP_FAILED.  ld: a connection of the auth check
 * (searching as the ldapconnect account, else as the user); NULL = a
 * connection of its own (the ldapconnect account, else anonymous). */
int ldap_trafgroup_find(const struct ldap_conf *c, LDAP *ld,
			const char *user);

/* The daemon's API table, before anything else here is used. */
void lq_init(const struct px_api *api);
/* The auth check found user's trafgroup (or LQ_NO_GROUP): remember it
 * for the stage hook, which then needs no search of its own. */
void lq_note(const struct ldap_conf *c, const char *user, int group);
/* The run's first ldaptrafgroup: its filter and minute timer.  Only in
 * a plugin command.  Returns 0 or -1. */
int lq_enable(struct ldap_conf *c);
/* at_run_end of a run's settings: save the counts, free c. */
void lq_conf_end(void *c);

#endif
