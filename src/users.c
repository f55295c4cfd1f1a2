/*
 * users.c - the users table: a hash table of name -> password entry.
 *
 * Owns the entries and their secrets (wiped on free).  Built on the
 * config thread by `users` lines; read-only afterwards, so lookups take
 * no lock.  It does not know about the auth chain (auth.c) or ACLs.
 */
#include "users.h"
#include "conf.h"
#include "errcode.h"
#include "pwhash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct user_entry {
	char *name;
	char *secret;                /* cleartext, crypt string or NT hex */
	enum users_pwtype type;
	uint32_t hash;
	struct user_entry *next;     /* bucket chain */
};

struct users {
	struct user_entry **bucket;
	size_t nbuckets;             /* a power of two */
	size_t count;
};

#define USERS_MIN_BUCKETS 64

/* FNV-1a: names are short and the table only ever grows. */
static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

struct users *
users_new(void)
{
	struct users *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->bucket = calloc(USERS_MIN_BUCKETS, sizeof(*u->bucket));
	if (u->bucket == NULL) {
		free(u);
		return NULL;
	}
	u->nbuckets = USERS_MIN_BUCKETS;
	return u;
}

static void
entry_free(struct user_entry *e)
{
	free(e->name);
	pwhash_free_secret(e->secret);
	free(e);
}

void
users_free(struct users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->nbuckets; i++) {
		while (u->bucket[i] != NULL) {
			struct user_entry *e = u->bucket[i];

			u->bucket[i] = e->next;
			entry_free(e);
		}
	}
	free(u->bucket);
	free(u);
}

size_t
users_count(const struct users *u)
{
	return u ? u->count : 0;
}

/* Double the buckets once the load passes 1; on no memory the table
 * keeps working, only with longer chains. */
static void
grow(struct users *u)
{
	size_t n = u->nbuckets * 2, i;
	struct user_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (i = 0; i < u->nbuckets; i++) {
		while (u->bucket[i] != NULL) {
			struct user_entry *e = u->bucket[i];

			u->bucket[i] = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(u->bucket);
	u->bucket = b;
	u->nbuckets = n;
}

static const struct user_entry *
find(const struct users *u, const char *name)
{
	uint32_t h = name_hash(name);
	const struct user_entry *e;

	if (u == NULL)
		return NULL;
	for (e = u->bucket[h & (u->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

int
users_exists(const struct users *u, const char *name)
{
	return name != NULL && find(u, name) != NULL;
}

/* Insert or replace (a later entry for a name wins).  Takes ownership
 * of e. */
static void
insert(struct users *u, struct user_entry *e)
{
	struct user_entry **pp;

	e->hash = name_hash(e->name);
	for (pp = &u->bucket[e->hash & (u->nbuckets - 1)]; *pp != NULL;
	     pp = &(*pp)->next) {
		if ((*pp)->hash == e->hash &&
		    strcmp((*pp)->name, e->name) == 0) {
			e->next = (*pp)->next;
			entry_free(*pp);
			*pp = e;
			return;
		}
	}
	e->next = NULL;
	*pp = e;
	if (++u->count > u->nbuckets)
		grow(u);
}

/* "XY:" where X and Y are letters: the second field names a type. */
static int
has_type_field(const char *rest)
{
	return ((rest[0] >= 'A' && rest[0] <= 'Z') ||
		(rest[0] >= 'a' && rest[0] <= 'z')) &&
	       ((rest[1] >= 'A' && rest[1] <= 'Z') ||
		(rest[1] >= 'a' && rest[1] <= 'z')) &&
	       rest[2] == ':';
}

/* Validate an NT value and store it in uppercase.  F-AUTH-12: 3proxy
 * compares with its uppercase rendering, so a lowercase hash there never
 * matches; we accept either case, the digest is the same. */
static int
nt_normalize(const char *v, char *out)
{
	size_t i;

	if (strlen(v) != PWHASH_NT_LEN)
		return -1;
	for (i = 0; i < PWHASH_NT_LEN; i++) {
		char c = v[i];

		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return -1;
		out[i] = c;
	}
	out[PWHASH_NT_LEN] = '\0';
	return 0;
}

/* Work out type and secret of the part after "name:". */
static enum users_add
parse_secret(const char *rest, enum users_pwtype *type, char **secret,
	     const char **why)
{
	char nt[PWHASH_NT_LEN + 1];
	const char *v = rest;
	size_t n;

	*type = USERS_CL;
	if (has_type_field(rest)) {
		v = rest + 3;
		if (strncmp(rest, "CL", 2) == 0) {
			*type = USERS_CL;
		} else if (strncmp(rest, "CR", 2) == 0) {
			*type = USERS_CR;
		} else if (strncmp(rest, "NT", 2) == 0) {
			*type = USERS_NT;
		} else {
			*why = "unknown password type: entry ignored";
			return USERS_SKIPPED;
		}
	}
	n = strlen(v);
	if (*type == USERS_CR) {
		if (strncmp(v, "$3$", 3) != 0 && !pwhash_have_crypt()) {
			*why = "CR passwords need crypt(3): this build has "
			       "no libcrypt (only $3$ hashes work)";
			return USERS_ERROR;
		}
		if (n == 0 || n >= PWHASH_CRYPT_MAX) {
			*why = "CR value empty or too long: entry ignored";
			return USERS_SKIPPED;
		}
	} else if (*type == USERS_NT) {
		if (!pwhash_have_nt()) {
			*why = "NT passwords need MD4: this build has no libmd";
			return USERS_ERROR;
		}
		if (nt_normalize(v, nt) != 0) {
			*why = "NT value is not 32 hex digits: entry ignored";
			return USERS_SKIPPED;
		}
		v = nt;
		n = PWHASH_NT_LEN;
	} else if (n > PWHASH_MAXPASS) {
		n = PWHASH_MAXPASS;   /* only 255 bytes count */
	}
	*secret = malloc(n + 1);
	if (*secret == NULL) {
		*why = "out of memory";
		return USERS_ERROR;
	}
	memcpy(*secret, v, n);
	(*secret)[n] = '\0';
	return USERS_ADDED;
}

enum users_add
users_add_spec(struct users *u, const char *spec, const char **why)
{
	const char *colon = strchr(spec, ':');
	struct user_entry *e;
	enum users_add rc;

	*why = NULL;
	if (colon == NULL) {
		*why = "no ':' in user entry: ignored";
		return USERS_SKIPPED;
	}
	if (colon == spec) {
		*why = "empty user name: entry ignored";
		return USERS_SKIPPED;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*why = "out of memory";
		return USERS_ERROR;
	}
	rc = parse_secret(colon + 1, &e->type, &e->secret, why);
	if (rc != USERS_ADDED) {
		free(e);
		return rc;
	}
	e->name = malloc((size_t)(colon - spec) + 1);
	if (e->name == NULL) {
		entry_free(e);
		*why = "out of memory";
		return USERS_ERROR;
	}
	memcpy(e->name, spec, (size_t)(colon - spec));
	e->name[colon - spec] = '\0';
	insert(u, e);
	return USERS_ADDED;
}

/* Cleartext comparison on the first 255 bytes of each side. */
static int
cl_equal(const char *stored, const char *given)
{
	char buf[PWHASH_MAXPASS + 1];
	size_t n = strlen(given);
	int ok;

	if (n > PWHASH_MAXPASS)
		n = PWHASH_MAXPASS;
	memcpy(buf, given, n);
	buf[n] = '\0';
	ok = pwhash_equal(stored, buf);
	pwhash_wipe(buf, sizeof(buf));
	return ok;
}

int
users_check(const struct users *u, const char *name, const char *password)
{
	const struct user_entry *e;
	char nt[PWHASH_NT_LEN + 1];
	int ok;

	if (name == NULL)
		return ERR_AUTH_NOUSER;
	e = find(u, name);
	if (e == NULL || password == NULL)
		return ERR_AUTH_UNKNOWN;
	switch (e->type) {
	case USERS_CL:
		return cl_equal(e->secret, password) ? 0 : ERR_AUTH_BADPASS_CL;
	case USERS_CR:
		return pwhash_crypt_check(password, e->secret)
			       ? 0 : ERR_AUTH_BADPASS_CR;
	case USERS_NT:
		if (pwhash_nt(password, nt) != 0)
			return ERR_AUTH_BADPASS_NT;
		ok = pwhash_equal(nt, e->secret);
		pwhash_wipe(nt, sizeof(nt));
		return ok ? 0 : ERR_AUTH_BADPASS_NT;
	}
	return ERR_AUTH_UNKNOWN;
}

/* users SPEC... : entries go to the generation's table.  Entries 3proxy
 * ignores are ignored here too, with a warning naming the user part. */
int
users_cmd(struct conf_ctx *ctx, int argc, char **argv)
{
	struct conf_gen *g = ctx->gen;
	const char *why;
	int i;

	if (g->users == NULL) {
		g->users = users_new();
		if (g->users == NULL) {
			conf_error(ctx, "users: out of memory");
			return 21;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *colon = strchr(argv[i], ':');
		int nlen = colon ? (int)(colon - argv[i])
				 : (int)strlen(argv[i]);

		switch (users_add_spec(g->users, argv[i], &why)) {
		case USERS_ADDED:
			break;
		case USERS_SKIPPED:
			/* Never print a secret: only the name part, and
			 * nothing of a token without ':' (it may be one). */
			if (colon == NULL)
				conf_warning(ctx, "users: argument %d: %s", i,
					     why);
			else
				conf_warning(ctx, "users: '%.*s': %s", nlen,
					     argv[i], why);
			break;
		case USERS_ERROR:
			conf_error(ctx, "users: '%.*s': %s", nlen, argv[i],
				   why);
			return 1;
		}
	}
	return 0;
}
