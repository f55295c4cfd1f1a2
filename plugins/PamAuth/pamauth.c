/*
 * PamAuth - the authentication type `pam` (plugins.md 5.5, F-PLUG-07):
 *
 *     plugin /usr/local/lib/3proxy/pamauth.ld.so start 3proxy
 *     authcache user,password 300
 *     auth cache pam
 *
 * The client's user name and password are checked by PAM service
 * SERVICE (/etc/pam.d/SERVICE): pam_authenticate, then pam_acct_mgmt.
 * No user name or no password gives code 4, any PAM failure code 5.
 * Calls into PAM are serialized by one mutex, as the spec says: many PAM
 * modules are not thread safe.  PAM may be slow (pam_faildelay, network
 * modules), so pair it with `authcache`.
 */
#include "plugin_api.h"

#include <pthread.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

#define PAM_SERVICE_MAX 255

static pthread_mutex_t pam_lock = PTHREAD_MUTEX_INITIALIZER;

/* The service names given to `start`.  A generation that is still
 * running keeps checking with the name it was loaded with while a reload
 * may name another, so names are kept for the life of the process (one
 * per distinct name; touched by the main thread only, in `start`). */
struct pam_svc {
	struct pam_svc *next;
	char name[PAM_SERVICE_MAX + 1];
};
static struct pam_svc *services;

static struct pam_svc *service_named(const char *name, size_t n)
{
	struct pam_svc *s;

	for (s = services; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	s = malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(s->name, name, n + 1);
	s->next = services;
	services = s;
	return s;
}

/* Answers every prompt: the password for hidden and echoed prompts,
 * nothing for messages.  PAM frees the answers (strdup'ed). */
static int pam_conv_fn(int n, const struct pam_message **msg,
		       struct pam_response **resp, void *data)
{
	const char *password = data;
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		int style = msg[i]->msg_style;

		if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strdup(password);
		if (r[i].resp == NULL)
			goto fail;
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_BUF_ERR;
}

static int pam_check(void *arg, const char *user, const char *password)
{
	const struct pam_svc *svc = arg;
	struct pam_conv conv;
	pam_handle_t *h = NULL;
	int rc;

	if (user == NULL || password == NULL || user[0] == '\0')
		return 4;
	conv.conv = pam_conv_fn;
	conv.appdata_ptr = (void *)password;
	pthread_mutex_lock(&pam_lock);
	rc = pam_start(svc->name, user, &conv, &h);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(h, PAM_SILENT);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, PAM_SILENT);
	if (h != NULL)
		pam_end(h, rc);
	pthread_mutex_unlock(&pam_lock);
	return rc == PAM_SUCCESS ? 0 : 5;
}

PX_PLUGIN_EXPORT int start(const struct px_api *a, int argc, char **argv)
{
	struct pam_svc *svc;
	size_t n;

	if (a == NULL || a->version < 1 || !PX_API_HAS(a, register_auth))
		return 1;
	if (argc != 2) {
		a->diag("pamauth: usage: plugin pamauth.ld.so start SERVICE");
		return 2;
	}
	n = strlen(argv[1]);
	if (n == 0 || n > PAM_SERVICE_MAX || strchr(argv[1], '/') != NULL) {
		a->diag("pamauth: invalid PAM service name");
		return 3;
	}
	svc = service_named(argv[1], n);
	if (svc == NULL)
		return 4;
	/* The registry is emptied before every config run: register on
	 * every start, reloads included. */
	if (a->register_auth("pam", pam_check, svc) != 0)
		return 5;
	return 0;
}
