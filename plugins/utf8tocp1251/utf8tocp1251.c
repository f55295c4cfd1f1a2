/*
 * utf8tocp1251 - the authentication type `utf8tocp1251` (plugins.md 5.8,
 * F-PLUG-10):
 *
 *     plugin /usr/local/lib/3proxy/utf8tocp1251.ld.so utf8tocp1251
 *     auth utf8tocp1251 strong
 *
 * Clients that send a Cyrillic user name or password in UTF-8 meet a
 * `users` table written in Windows-1251: this type converts both to
 * Windows-1251 and never accepts anyone itself, so the next method of the
 * chain checks the converted values.  Names that are not UTF-8, or hold
 * characters Windows-1251 lacks, pass unchanged.
 */
#include "plugin_api.h"
#include "cp1251.h"

#include <string.h>

/* 5: "rejected", so the chain goes on to the next method. */
#define UTF8TOCP1251_RESULT 5

static int rewrite(void *arg, char *user, size_t user_size, char *password,
		   size_t pass_size)
{
	(void)arg;
	/* the conversion never lengthens a string: it fits its buffer */
	if (user != NULL && user_size > 0)
		(void)cp1251_from_utf8(user);
	if (password != NULL && pass_size > 0)
		(void)cp1251_from_utf8(password);
	return UTF8TOCP1251_RESULT;
}

PX_PLUGIN_EXPORT int utf8tocp1251(const struct px_api *api, int argc,
				  char **argv)
{
	(void)argc;
	(void)argv;
	if (api->version < 1 || !PX_API_HAS(api, register_auth_rewrite)) {
		api->diag("utf8tocp1251: this 3proxy cannot rewrite credentials");
		return 1;
	}
	return api->register_auth_rewrite("utf8tocp1251", rewrite, NULL) == 0
		       ? 0 : 1;
}
