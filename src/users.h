/*
 * users.h - the `users` table of one config generation (reference
 * acl-auth.md section 3, config.md 4.5).
 *
 * A hash table keyed by user name, built while the config runs and
 * immutable afterwards: workers read it without a lock.  Secrets are
 * wiped when the table is freed.
 */
#ifndef PX_USERS_H
#define PX_USERS_H

#include <stddef.h>

struct conf_ctx;

enum users_pwtype { USERS_CL, USERS_CR, USERS_NT };

struct users;

/* Result of adding one spec. */
enum users_add {
	USERS_ADDED = 0,     /* stored (replacing an entry of that name) */
	USERS_SKIPPED = 1,   /* ignored, as 3proxy does; *why says why */
	USERS_ERROR = -1     /* refused: this build cannot check it, or no
				memory; *why says why */
};

struct users *users_new(void);
/* Wipes every password and frees the table.  NULL is fine. */
void users_free(struct users *u);
size_t users_count(const struct users *u);

/* Add one `users` argument: "name:CL:pw", "name:CR:crypt",
 * "name:NT:HEX", "name:pw".  A later entry for a name replaces the
 * earlier one.  *why is a static string when the result is not
 * USERS_ADDED. */
enum users_add users_add_spec(struct users *u, const char *spec,
			      const char **why);

/* Check a user's cleartext password (strong authentication).  Returns
 * 0, ERR_AUTH_NOUSER (no name given), ERR_AUTH_UNKNOWN (no such user, or
 * no password given), ERR_AUTH_BADPASS_CL / _CR / _NT.  `u` may be NULL
 * (no users at all).  Thread-safe on a built table. */
int users_check(const struct users *u, const char *name, const char *password);

/* 1 if the table has an entry for name. */
int users_exists(const struct users *u, const char *name);

/* Config command `users SPEC...` (adds to ctx->gen->users). */
int users_cmd(struct conf_ctx *ctx, int argc, char **argv);

#endif
