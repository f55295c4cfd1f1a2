/*
 * Unit tests for users.c (the users table, password types right and
 * wrong) and auth.c (auth types, chains, the auth cache with explicit
 * clocks, authcache parsing).  No sockets: clients are built in memory.
 * F-AUTH-01 F-AUTH-02 F-AUTH-03 F-AUTH-04 F-AUTH-06 F-AUTH-07 F-AUTH-08
 * F-AUTH-09 F-AUTH-10 F-AUTH-11 F-AUTH-12 F-AUTH-13 F-AUTH-15 F-ACL-09
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "auth.h"
#include "client.h"
#include "conf.h"
#include "conf_test.h"
#include "errcode.h"
#include "os.h"
#include "pwhash.h"
#include "radius.h"
#include "service.h"
#include "users.h"

#define CR_SECRET "$1$abc$iCQ2D3nhptRYi27fDYv2s1"   /* openssl passwd -1 */
#define CR3_SECRET "$3$abc$lYQG8cvf3azeHi.8OH2n/."
#define NT_PASSWORD "8846F7EAEE8FB117AD06BDD830B7586C"

/* ---- the table ---------------------------------------------------------- */

static void
add_ok(struct users *u, const char *spec)
{
	const char *why;

	if (users_add_spec(u, spec, &why) != USERS_ADDED)
		fail_msg("'%s' not added: %s", spec, why);
}

static void
test_spec_forms(void **state)
{
	struct users *u = users_new();
	const char *why;

	(void)state;
	assert_non_null(u);
	add_ok(u, "alice:CL:secret");
	add_ok(u, "bare:pass:word");        /* not "XY:": cleartext */
	add_ok(u, "p1:x1:y");               /* '1' is no letter: cleartext */
	add_ok(u, "empty:");
	assert_int_equal(users_add_spec(u, "nocolon", &why), USERS_SKIPPED);
	assert_int_equal(users_add_spec(u, ":CL:x", &why), USERS_SKIPPED);
	assert_int_equal(users_add_spec(u, "bob:XY:secret", &why),
			 USERS_SKIPPED);
	assert_int_equal(users_count(u), 4);
	assert_int_equal(users_check(u, "alice", "secret"), 0);
	assert_int_equal(users_check(u, "bare", "pass:word"), 0);
	assert_int_equal(users_check(u, "p1", "x1:y"), 0);
	assert_int_equal(users_check(u, "empty", ""), 0);
	assert_int_equal(users_check(u, "empty", "x"), ERR_AUTH_BADPASS_CL);
	assert_false(users_exists(u, "bob"));
	/* a later entry replaces an earlier one */
	add_ok(u, "alice:CL:other");
	assert_int_equal(users_count(u), 4);
	assert_int_equal(users_check(u, "alice", "secret"),
			 ERR_AUTH_BADPASS_CL);
	assert_int_equal(users_check(u, "alice", "other"), 0);
	users_free(u);
}

static void
test_check_codes(void **state)
{
	struct users *u = users_new();
	char longpw[300];

	(void)state;
	add_ok(u, "alice:CL:secret");
	assert_int_equal(users_check(u, NULL, "secret"), ERR_AUTH_NOUSER);
	assert_int_equal(users_check(u, "nobody", "secret"), ERR_AUTH_UNKNOWN);
	assert_int_equal(users_check(u, "alice", NULL), ERR_AUTH_UNKNOWN);
	assert_int_equal(users_check(u, "Alice", "secret"), ERR_AUTH_UNKNOWN);
	assert_int_equal(users_check(u, "alice", "Secret"),
			 ERR_AUTH_BADPASS_CL);
	assert_int_equal(users_check(NULL, "alice", "secret"),
			 ERR_AUTH_UNKNOWN);
	/* only the first 255 bytes of a password count */
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	{
		char spec[320];

		snprintf(spec, sizeof(spec), "long:CL:%s", longpw);
		add_ok(u, spec);
		longpw[255] = '\0';
		assert_int_equal(users_check(u, "long", longpw), 0);
		longpw[254] = '\0';
		assert_int_equal(users_check(u, "long", longpw),
				 ERR_AUTH_BADPASS_CL);
	}
	users_free(u);
}

static void
test_crypt_entries(void **state)
{
	struct users *u = users_new();
	const char *why;

	(void)state;
	add_ok(u, "c3:CR:" CR3_SECRET);          /* built in everywhere */
	assert_int_equal(users_check(u, "c3", "secret"), 0);
	assert_int_equal(users_check(u, "c3", "secreT"), ERR_AUTH_BADPASS_CR);
	if (!pwhash_have_crypt()) {
		assert_int_equal(users_add_spec(u, "c1:CR:" CR_SECRET, &why),
				 USERS_ERROR);
		assert_non_null(strstr(why, "libcrypt"));
		users_free(u);
		skip();
	}
	add_ok(u, "c1:CR:" CR_SECRET);
	assert_int_equal(users_check(u, "c1", "secret"), 0);
	assert_int_equal(users_check(u, "c1", "wrong"), ERR_AUTH_BADPASS_CR);
	assert_int_equal(users_check(u, "c1", ""), ERR_AUTH_BADPASS_CR);
	add_ok(u, "c9:CR:$9$junk");
	assert_int_equal(users_check(u, "c9", "secret"), ERR_AUTH_BADPASS_CR);
	users_free(u);
}

static void
test_nt_entries(void **state)
{
	struct users *u = users_new();
	const char *why;

	(void)state;
	if (!pwhash_have_nt()) {
		assert_int_equal(users_add_spec(u, "n:NT:" NT_PASSWORD, &why),
				 USERS_ERROR);
		assert_non_null(strstr(why, "libmd"));
		users_free(u);
		skip();
	}
	add_ok(u, "n:NT:" NT_PASSWORD);
	assert_int_equal(users_check(u, "n", "password"), 0);
	assert_int_equal(users_check(u, "n", "Password"), ERR_AUTH_BADPASS_NT);
	/* F-AUTH-12: lowercase hex is accepted here (3proxy never matches) */
	add_ok(u, "lower:NT:8846f7eaee8fb117ad06bdd830b7586c");
	assert_int_equal(users_check(u, "lower", "password"), 0);
	assert_int_equal(users_add_spec(u, "bad:NT:1234", &why), USERS_SKIPPED);
	assert_int_equal(users_add_spec(u, "bad:NT:"
					"8846F7EAEE8FB117AD06BDD830B7586G",
					&why), USERS_SKIPPED);
	users_free(u);
}

static void
test_ten_thousand_users(void **state)
{
	struct users *u = users_new();
	char spec[64], name[32];
	clock_t t0 = clock();
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(spec, sizeof(spec), "user%d:CL:pw%d", i, i);
		add_ok(u, spec);
	}
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(spec, sizeof(spec), "pw%d", i);
		assert_int_equal(users_check(u, name, spec), 0);
	}
	assert_int_equal(users_count(u), 10000);
	/* a hash table: even under sanitizers this is far below a second */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	users_free(u);
}

/* ---- config ------------------------------------------------------------- */

static struct conf_gen *
load(const char *text, enum conf_mode mode, int *nerr, char **msgs)
{
	return conf_test_load(text, mode, nerr, msgs);
}

static void
expect_error(const char *text, const char *message)
{
	conf_test_expect_error(text, message);
}

static void
test_conf_commands(void **state)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g;

	(void)state;
	expect_error("auth iponly bogus\n",
		     "t.cfg:1: auth: unknown authentication type 'bogus'");
	expect_error("auth nbname\n", "unknown authentication type 'nbname'");
	if (!radius_available())
		expect_error("auth radius\n", "needs an MD5 library");
	expect_error("auth\n", "wrong number of arguments");
	expect_error("delimchar \"\"\n", "delimchar: empty");
	g = load("users a:CL:x nocolon \"b:CR:" CR3_SECRET "\"\n"
		 "users c:XY:secretvalue\n"
		 "auth iponly strong\nauthcache ip,user 30\ndelimchar #\n"
		 "tcppm 3001 127.0.0.1 25\n", CONF_RUN, &nerr, &msgs);
	assert_non_null(g);
	assert_int_equal(users_count(g->users), 2);
	assert_non_null(strstr(msgs, "t.cfg:1: warning: users: argument 2"));
	assert_non_null(strstr(msgs, "t.cfg:2: warning: users: 'c'"));
	assert_null(strstr(msgs, "secretvalue"));    /* never printed */
	assert_int_equal(auth_delimchar(g), '#');
	assert_int_equal(g->svcs[0]->auth->nmethods, 2);
	assert_int_equal(g->svcs[0]->auth->methods[0], AUTH_IPONLY);
	assert_int_equal(g->svcs[0]->auth->methods[1], AUTH_STRONG);
	assert_int_equal(g->svcs[0]->auth->cache_type, AC_IP | AC_USER);
	assert_int_equal(g->svcs[0]->auth->cache_time, 30);
	conf_gen_unref(g);
	free(msgs);
	msgs = NULL;
	/* F-AUTH-14: radius is accepted where MD5 is available; without
	 * CR support, CR fails */
	if (radius_available()) {
		g = load("auth radius\n", CONF_RUN, &nerr, &msgs);
		assert_non_null(g);
		conf_gen_unref(g);
		free(msgs);
		msgs = NULL;
	}
	if (!pwhash_have_crypt())
		expect_error("users \"b:CR:" CR_SECRET "\"\n",
			     "t.cfg:1: users: 'b': CR passwords need crypt");
	if (!pwhash_have_nt())
		expect_error("users b:NT:" NT_PASSWORD "\n",
			     "t.cfg:1: users: 'b': NT passwords need MD4");
	/* authcache: unknown items mean user,password; defaults */
	g = load("authcache whatever\ntcppm 3001 127.0.0.1 25\n"
		 "authcache pass,limit,ip 5 100\ntcppm 3002 127.0.0.1 25\n"
		 "tcppm 3003 127.0.0.1 25\n", CONF_RUN, &nerr, &msgs);
	assert_non_null(g);
	assert_int_equal(g->svcs[0]->auth->cache_type, AC_USER | AC_PASS);
	assert_int_equal(g->svcs[0]->auth->cache_time, 600);
	assert_int_equal(g->svcs[0]->auth->cache_size, 262144);
	assert_int_equal(g->svcs[1]->auth->cache_type,
			 AC_PASS | AC_LIMIT | AC_IP);
	assert_int_equal(g->svcs[1]->auth->cache_size, 100);
	/* each service has its own snapshot id (the `acl` cache item) */
	assert_true(g->svcs[1]->auth->id != g->svcs[2]->auth->id);
	conf_gen_unref(g);
	free(msgs);
}

/* ---- the auth chain ----------------------------------------------------- */

static struct conf_gen *gen;

static struct conf_gen *
build(const char *cfg)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(cfg, CONF_RUN, &nerr, &msgs);

	if (g == NULL)
		fail_msg("config failed: %s", msgs);
	free(msgs);
	return g;
}

static struct client *
mkclient(int svc, const char *src, const char *user, const char *pass,
	 uint16_t port)
{
	struct client *cl = calloc(1, sizeof(*cl));

	assert_non_null(cl);
	cl->conf = gen->svcs[svc];
	cl->gen = gen;
	assert_int_equal(net_parse_ip(src, &cl->cl_peer), 0);
	assert_int_equal(net_parse_ip("192.0.2.10", &cl->req.addr), 0);
	cl->req.port = port;
	cl->req.command = OP_CONNECT;
	cl->cred.user = user ? strdup(user) : NULL;
	cl->cred.password = pass ? strdup(pass) : NULL;
	return cl;
}

static void
freeclient(struct client *cl)
{
	pwhash_free_secret(cl->cred.user);
	pwhash_free_secret(cl->cred.password);
	free(cl->req.host);
	free(cl);
}

/* Authorize once; returns the code and the user name after the chain. */
static int
run(int svc, const char *src, const char *user, const char *pass,
    uint16_t port, uint64_t mono, char *who, size_t wholen)
{
	struct client *cl = mkclient(svc, src, user, pass, port);
	int rc = auth_authorize_at(cl, time(NULL), mono);

	if (who != NULL)
		snprintf(who, wholen, "%s",
			 cl->cred.user ? cl->cred.user : "-");
	freeclient(cl);
	return rc;
}

#define RUN(svc, src, user, pass, port) \
	run(svc, src, user, pass, port, 1000, NULL, 0)

static void
test_chain_basic(void **state)
{
	(void)state;
	gen = build("users alice:CL:secret \"bob:CR:" CR3_SECRET "\"\n"
		    /* 0: the default: iponly, empty ACL */
		    "tcppm 3000 127.0.0.1 25\n"
		    "auth none\ndeny *\n"
		    "tcppm 3001 127.0.0.1 25\n"      /* 1: none ignores ACL */
		    "flush\nauth iponly\nallow * 10.0.0.0/8\n"
		    "tcppm 3002 127.0.0.1 25\n"      /* 2: iponly */
		    "flush\nauth strong\nallow alice\ndeny *\n"
		    "tcppm 3003 127.0.0.1 25\n"      /* 3: strong */
		    "auth useronly\n"
		    "tcppm 3004 127.0.0.1 25\n");    /* 4: useronly */
	assert_int_equal(RUN(0, "203.0.113.1", NULL, NULL, 25), 0);
	assert_int_equal(RUN(1, "203.0.113.1", NULL, NULL, 25), 0);
	assert_int_equal(RUN(2, "10.1.1.1", NULL, NULL, 25), 0);
	assert_int_equal(RUN(2, "203.0.113.1", NULL, NULL, 25),
			 ERR_ACL_NOMATCH);
	/* iponly compares ACE users with "-": a user list never matches */
	assert_int_equal(RUN(3, "10.1.1.1", "alice", "secret", 25), 0);
	assert_int_equal(RUN(3, "10.1.1.1", "alice", "wrong", 25),
			 ERR_AUTH_BADPASS_CL);
	assert_int_equal(RUN(3, "10.1.1.1", "bob", "secret", 25),
			 ERR_ACL_DENY);            /* right password, deny */
	assert_int_equal(RUN(3, "10.1.1.1", "bob", "nope", 25),
			 ERR_AUTH_BADPASS_CR);
	assert_int_equal(RUN(3, "10.1.1.1", "carol", "x", 25),
			 ERR_AUTH_UNKNOWN);
	assert_int_equal(RUN(3, "10.1.1.1", NULL, NULL, 25), ERR_AUTH_NOUSER);
	assert_int_equal(RUN(4, "10.1.1.1", "alice", NULL, 25), 0);
	assert_int_equal(RUN(4, "10.1.1.1", "mallory", NULL, 25),
			 ERR_ACL_DENY);
	assert_int_equal(RUN(4, "10.1.1.1", NULL, NULL, 25), ERR_AUTH_NOUSER);
	conf_gen_unref(gen);
}

static void
test_chain_iponly_strong(void **state)
{
	(void)state;
	/* acl-auth.md 1.1: a password is needed only where the ACL needs
	 * a user name to decide */
	gen = build("users alice:CL:secret\n"
		    "auth iponly strong\n"
		    "allow * 127.0.0.1\n"
		    "allow alice * * 80\n"
		    "deny *\n"
		    "tcppm 3000 127.0.0.1 25\n");
	assert_int_equal(RUN(0, "127.0.0.1", NULL, NULL, 22), 0);
	/* no name: iponly gets 1 (deny *), strong 4: the highest wins */
	assert_int_equal(RUN(0, "10.0.0.1", NULL, NULL, 80), ERR_AUTH_NOUSER);
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 80), 0);
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "bad", 80),
			 ERR_AUTH_BADPASS_CL);
	/* authenticated, then the ACL with the name is final */
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 22),
			 ERR_ACL_DENY);
	conf_gen_unref(gen);
}

static void
test_cache_ip(void **state)
{
	char who[64];

	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\n"
		    "authcache ip 60\nauth cache strong\n"
		    "allow alice\n"
		    "tcppm 3000 127.0.0.1 25\n");
	assert_int_equal(run(0, "10.0.0.1", NULL, NULL, 25, 1000, NULL, 0),
			 ERR_AUTH_NOUSER);
	assert_int_equal(auth_cache_count(), 0);
	assert_int_equal(run(0, "10.0.0.1", "alice", "secret", 25, 1000, NULL,
			     0), 0);
	assert_int_equal(auth_cache_count(), 1);
	/* the address is alice now, without credentials */
	assert_int_equal(run(0, "10.0.0.1", NULL, NULL, 25, 1030, who,
			     sizeof(who)), 0);
	assert_string_equal(who, "alice");
	/* ...not another address */
	assert_int_equal(run(0, "10.0.0.2", NULL, NULL, 25, 1030, NULL, 0),
			 ERR_AUTH_NOUSER);
	/* entries expire `seconds` after they were written */
	assert_int_equal(run(0, "10.0.0.1", NULL, NULL, 25, 1060, NULL, 0),
			 ERR_AUTH_NOUSER);
	assert_int_equal(auth_cache_count(), 0);
	conf_gen_unref(gen);
	auth_cache_reset();
}

static void
test_cache_types_isolated(void **state)
{
	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret bob:CL:pw\n"
		    "authcache user,pass 60\nauth cache strong\n"
		    "allow alice,bob\n"
		    "tcppm 3000 127.0.0.1 25\n"
		    "authcache ip 60\n"
		    "tcppm 3001 127.0.0.1 25\n"
		    "authcache ip,acl 60\n"
		    "tcppm 3002 127.0.0.1 25\n"
		    "tcppm 3003 127.0.0.1 25\n");
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 25), 0);
	/* user,pass: the password is part of the key */
	assert_int_equal(RUN(0, "10.0.0.9", "alice", "secret", 25), 0);
	/* a wrong password misses the cache and fails strong */
	assert_int_equal(RUN(0, "10.0.0.9", "alice", "wrong", 25),
			 ERR_AUTH_BADPASS_CL);
	/* an entry of the user,pass service is not an "ip" entry */
	assert_int_equal(RUN(1, "10.0.0.1", NULL, NULL, 25), ERR_AUTH_NOUSER);
	/* acl: the entry belongs to the service that wrote it */
	assert_int_equal(RUN(2, "10.0.0.3", "bob", "pw", 25), 0);
	assert_int_equal(RUN(2, "10.0.0.3", NULL, NULL, 25), 0);
	assert_int_equal(RUN(3, "10.0.0.3", NULL, NULL, 25), ERR_AUTH_NOUSER);
	conf_gen_unref(gen);
	auth_cache_reset();
}

static void
test_cache_limit(void **state)
{
	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\n"
		    "authcache ip,user,pass,limit 120\nauth cache strong\n"
		    "tcppm 3000 127.0.0.1 25\n");
	assert_int_equal(run(0, "10.0.0.1", "alice", "secret", 25, 1000, NULL,
			     0), 0);
	assert_int_equal(run(0, "10.0.0.1", "alice", "secret", 25, 1010, NULL,
			     0), 0);
	/* one address at a time: another one gets code 10 */
	assert_int_equal(run(0, "10.0.0.2", "alice", "secret", 25, 1010, NULL,
			     0), ERR_LIMIT);
	/* after expiry the other address may take over */
	assert_int_equal(run(0, "10.0.0.2", "alice", "secret", 25, 1200, NULL,
			     0), 0);
	assert_int_equal(run(0, "10.0.0.1", "alice", "secret", 25, 1201, NULL,
			     0), ERR_LIMIT);
	conf_gen_unref(gen);
	auth_cache_reset();
}

static void
test_cacheacl_and_unverified(void **state)
{
	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\n"
		    "authcache user,pass,dstport 60\nauth cacheacl strong\n"
		    "allow alice * * 80\ndeny *\n"
		    "tcppm 3000 127.0.0.1 25\n"
		    "flush\nauthcache ip 60\nauth iponly cache strong\n"
		    "allow * 10.0.0.0/8 * 80\nallow admin\n"
		    "tcppm 3001 127.0.0.1 25\n");
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 80), 0);
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 80), 0);
	/* dstport is in the key: port 22 is a miss, and the ACL denies */
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 22),
			 ERR_ACL_DENY);
	/* an iponly success with an unchecked name is never cached, so
	 * "admin" does not stick to the address */
	assert_int_equal(RUN(1, "10.0.0.5", "admin", "guess", 80), 0);
	assert_int_equal(RUN(1, "10.0.0.5", NULL, NULL, 22), ERR_AUTH_NOUSER);
	conf_gen_unref(gen);
	auth_cache_reset();
}

static void
test_cache_without_authcache(void **state)
{
	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\nauth cache strong\n"
		    "tcppm 3000 127.0.0.1 25\n");
	assert_int_equal(RUN(0, "10.0.0.1", "alice", "secret", 25), 0);
	assert_int_equal(auth_cache_count(), 0);
	assert_int_equal(RUN(0, "10.0.0.1", NULL, NULL, 25), ERR_AUTH_NOUSER);
	conf_gen_unref(gen);
}

static void
test_nolog_marks_record(void **state)
{
	struct client *cl;

	(void)state;
	gen = build("allow * 10.0.0.1\nnolog\ndeny *\n"
		    "tcppm 3000 127.0.0.1 25\n");
	cl = mkclient(0, "10.0.0.1", NULL, NULL, 25);
	assert_int_equal(auth_authorize_at(cl, time(NULL), 1), 0);
	assert_true(cl->nolog);
	freeclient(cl);
	cl = mkclient(0, "10.0.0.2", NULL, NULL, 25);
	assert_int_equal(auth_authorize_at(cl, time(NULL), 1), ERR_ACL_DENY);
	assert_false(cl->nolog);
	freeclient(cl);
	conf_gen_unref(gen);
}

static void
test_cache_size_bound(void **state)
{
	char ip[32];
	int i;

	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\n"
		    "authcache ip 60 3\nauth cache strong\n"
		    "tcppm 3000 127.0.0.1 25\n");
	for (i = 1; i <= 5; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		assert_int_equal(RUN(0, ip, "alice", "secret", 25), 0);
	}
	/* at most 3 entries: the oldest two went first */
	assert_int_equal(auth_cache_count(), 3);
	assert_int_equal(RUN(0, "10.0.0.1", NULL, NULL, 25), ERR_AUTH_NOUSER);
	assert_int_equal(RUN(0, "10.0.0.5", NULL, NULL, 25), 0);
	/* a rewrite refreshes an entry instead of adding one */
	assert_int_equal(RUN(0, "10.0.0.3", "alice", "secret", 25), 0);
	assert_int_equal(auth_cache_count(), 3);
	conf_gen_unref(gen);
	auth_cache_reset();
}

/* Many workers use the cache at once (run under ASan; the lock keeps
 * the table consistent). */
static int stress_failures;

static void
stress_worker(void *arg)
{
	char ip[32];
	int i, base = (int)(intptr_t)arg;

	for (i = 0; i < 2000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", base, (i / 250) % 250,
			 i % 250);
		if (RUN(0, ip, "alice", "secret", 25) != 0)
			os_atomic_inc(&stress_failures);
		if (RUN(0, ip, NULL, NULL, 25) != 0)
			os_atomic_inc(&stress_failures);
	}
}

static void
test_cache_threads(void **state)
{
	os_thread_t *t[4];
	int i;

	(void)state;
	auth_cache_reset();
	gen = build("users alice:CL:secret\n"
		    "authcache ip 600 100000\nauth cache strong\n"
		    "tcppm 3000 127.0.0.1 25\n");
	for (i = 0; i < 4; i++)
		assert_int_equal(os_thread_joinable(&t[i], stress_worker,
						    (void *)(intptr_t)(i + 1),
						    0), 0);
	for (i = 0; i < 4; i++)
		os_thread_join(t[i]);
	assert_int_equal(stress_failures, 0);
	assert_int_equal(auth_cache_count(), 8000);
	conf_gen_unref(gen);
	auth_cache_reset();
}

static void
test_request_address(void **state)
{
	struct client *cl;

	(void)state;
	gen = build("deny * * 127.0.0.1\nallow *\n"
		    "tcppm 3000 127.0.0.1 25\n"
		    "flush\nallow * * *.example\n"
		    "tcppm 3001 127.0.0.1 25\n");
	/* a literal host is an address; a name is resolved when the ACL
	 * has address entries, so the deny is not bypassed by a name */
	cl = mkclient(0, "10.0.0.1", NULL, NULL, 80);
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	cl->req.host = strdup("127.0.0.1");
	assert_int_equal(auth_authorize_at(cl, time(NULL), 1), ERR_ACL_DENY);
	freeclient(cl);
	cl = mkclient(0, "10.0.0.1", NULL, NULL, 80);
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	cl->req.host = strdup("localhost");
	assert_int_equal(auth_authorize_at(cl, time(NULL), 1), ERR_ACL_DENY);
	assert_int_not_equal(cl->req.addr.len, 0);
	freeclient(cl);
	/* no address entries: no lookup */
	cl = mkclient(1, "10.0.0.1", NULL, NULL, 80);
	memset(&cl->req.addr, 0, sizeof(cl->req.addr));
	cl->req.host = strdup("localhost");
	assert_int_equal(auth_authorize_at(cl, time(NULL), 1), ERR_ACL_NOMATCH);
	assert_int_equal(cl->req.addr.len, 0);
	freeclient(cl);
	conf_gen_unref(gen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_forms),
		cmocka_unit_test(test_check_codes),
		cmocka_unit_test(test_crypt_entries),
		cmocka_unit_test(test_nt_entries),
		cmocka_unit_test(test_ten_thousand_users),
		cmocka_unit_test(test_conf_commands),
		cmocka_unit_test(test_chain_basic),
		cmocka_unit_test(test_chain_iponly_strong),
		cmocka_unit_test(test_cache_ip),
		cmocka_unit_test(test_cache_types_isolated),
		cmocka_unit_test(test_cache_limit),
		cmocka_unit_test(test_cacheacl_and_unverified),
		cmocka_unit_test(test_cache_without_authcache),
		cmocka_unit_test(test_nolog_marks_record),
		cmocka_unit_test(test_request_address),
		cmocka_unit_test(test_cache_size_bound),
		cmocka_unit_test(test_cache_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
