/*
 * acl.h - access control lists (reference acl-auth.md section 4).
 *
 * An ACE's seven fields (users, sources, targets, ports, operations,
 * weekdays, times) compile into a struct acl_rule: immutable and
 * refcounted, so the same compiled rule can sit in several ACLs.  Other
 * rule lists with the same syntax (bandlim*, connlim, count*) can use
 * acl_rule_compile/acl_rule_match directly.
 *
 * A struct acl is the ordered list a service snapshots.  It is
 * refcounted and copy-on-write: a service line takes a reference, and
 * the next `allow` (or `nolog`, `weight`) on the config cursor copies
 * the list first, so a started service never sees later lines.  Once a
 * generation is built nothing changes: workers read ACLs without locks.
 */
#ifndef PX_ACL_H
#define PX_ACL_H

#include <stddef.h>
#include <time.h>

#include "net.h"

struct request;
struct conf_ctx;
struct parent_list;

enum acl_action { ACL_ALLOW, ACL_DENY, ACL_REDIRECT };

struct acl_rule;

/* One ACE of an ACL: the compiled fields plus what the ACE lines after
 * it (`nolog`, `weight`, `parent`) attach. */
struct acl_entry {
	struct acl_rule *rule;       /* shared, immutable */
	enum acl_action action;
	int weight;                  /* 8th field or `weight`; 0 = none */
	int nolog;                   /* `nolog`: matched requests unlogged */
	/* The parent chain (parent.c, `parent`/`redirect`), or NULL.
	 * Refcounted like rules: each copy of the entry holds a reference. */
	struct parent_list *parents;
};

struct acl;

/* What acl_match reports besides its code. */
struct acl_state {
	int weight;                      /* in: weight recorded for the
					    request (0 = none); out: weight
					    of the deciding ACE */
	const struct acl_entry *entry;   /* out: deciding ACE or NULL */
	int skip_local;                  /* in: skip ACEs whose first parent
					    is a local redirection (the
					    second pass, parent.md 6) */
};

/* ---- rules ------------------------------------------------------------- */

/* Compile the ACE fields fields[0..nfields-1] (users, sources, targets,
 * ports, operations, weekdays, times; missing trailing fields = any).
 * Returns a rule with one reference, or NULL with a message in err (for
 * config errors: "Invalid IP, IP range or CIDR: 'x'").  A non-fatal
 * remark (an ignored time period...) goes to warn (warn[0] == 0: none). */
struct acl_rule *acl_rule_compile(int nfields, char *const *fields,
				  char *err, size_t errlen, char *warn,
				  size_t warnlen);
void acl_rule_unref(struct acl_rule *r);

/* Does the request match every field of the rule?  `user` NULL is
 * compared as "-"; `src` is the client address; `now` gives the local
 * weekday and time of day.  Pure: touches no socket.  Returns 1 or 0. */
int acl_rule_match(const struct acl_rule *r, const struct request *req,
		   const char *user, const struct net_addr *src, time_t now);

/* Does the sources field of the rule match src?  1 or 0. */
int acl_rule_match_source(const struct acl_rule *r,
			  const struct net_addr *src);

/* ---- lists ------------------------------------------------------------- */

struct acl *acl_ref(struct acl *a);          /* NULL-safe; returns a */
void acl_unref(struct acl *a);               /* NULL-safe */
size_t acl_count(const struct acl *a);
const struct acl_entry *acl_entry_at(const struct acl *a, size_t i);

/* Append an ACE to *ap (creating or copying the list as needed).  Takes
 * ownership of rule (also on failure).  Returns 0 or -1 (no memory). */
int acl_append(struct acl **ap, enum acl_action action,
	       struct acl_rule *rule, int weight);
/* The last ACE of *ap, writable (copying a shared list first); NULL if
 * the list is empty or on no memory. */
struct acl_entry *acl_last_mutable(struct acl **ap);

/* Evaluate the ACL (acl-auth.md 4.4): first matching ACE decides.
 * Returns 0 (allow, redirect, or an empty/NULL ACL), ERR_ACL_DENY, or
 * ERR_ACL_NOMATCH (implicit final deny).  st may be NULL. */
int acl_match(const struct acl *a, const struct request *req,
	      const char *user, const struct net_addr *src, time_t now,
	      struct acl_state *st);

/* 1 when some ACE restricts targets by address: the request's address
 * should then be known before acl_match (auth.c resolves it). */
int acl_wants_target_addr(const struct acl *a);

/* ---- config commands (rows in conf_cmds.c) ------------------------------- */
int acl_cmd_allow(struct conf_ctx *ctx, int argc, char **argv); /* +deny */
int acl_cmd_flush(struct conf_ctx *ctx, int argc, char **argv);
int acl_cmd_nolog(struct conf_ctx *ctx, int argc, char **argv);
int acl_cmd_weight(struct conf_ctx *ctx, int argc, char **argv);

#endif
