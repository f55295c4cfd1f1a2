/*
 * fuzz_users.c - user and password-hash parsing (users.c, pwhash.c):
 * a `users` argument ("name:CL:pw", "name:CR:$1$...", "name:NT:HEX",
 * "name:pw") added to a table and checked against a password, and a
 * stored crypt string checked directly.  Input: spec NUL password.
 * Settings for costly crypt(3) schemes (bcrypt, yescrypt, SHA-crypt
 * rounds) are skipped: their cost is the admin's choice, not a bug.
 * F-AUTH-03
 */
#include "fuzz_util.h"
#include "pwhash.h"
#include "users.h"

#include <stdio.h>

/* Only MD5-crypt, "$3$" (NT in crypt form) and DES crypt run (not
 * the "_" extended DES form: its round count is in the setting). */
static int cheap(const char *stored)
{
	const char *p = strstr(stored, ":CR:");

	if (p != NULL)
		stored = p + 4;
	if (stored[0] != '$' && stored[0] != '_')
		return 1;
	return strncmp(stored, "$1$", 3) == 0 ||
	       strncmp(stored, "$3$", 3) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_cstr(data, size);
	const char *pass, *why = NULL, *colon;
	struct users *u;
	char name[256];

	if (spec == NULL)
		return 0;
	pass = spec + strlen(spec);
	if ((size_t)(pass - spec) < size)
		pass++;                 /* the part after the first NUL */
	if (!cheap(spec)) {
		free(spec);
		return 0;
	}
	u = users_new();
	if (u != NULL && users_add_spec(u, spec, &why) == USERS_ADDED) {
		colon = strchr(spec, ':');
		snprintf(name, sizeof(name), "%.*s",
			 colon ? (int)(colon - spec) : 0, spec);
		users_check(u, name, pass);
		users_exists(u, name);
	}
	users_free(u);
	pwhash_crypt_check(pass, spec);
	free(spec);
	return 0;
}
