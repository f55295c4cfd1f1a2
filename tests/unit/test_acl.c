/*
 * Unit tests for acl.c: compiling each ACE field and matching requests
 * with `now` passed in (no sleeping, no sockets), first-match order,
 * empty ACL and implicit deny, and the config commands allow/deny/flush/
 * nolog/weight with copy-on-write snapshots per service.
 * F-ACL-01 F-ACL-02 F-ACL-03 F-ACL-04 F-ACL-05 F-ACL-06 F-ACL-07
 * F-ACL-08 F-ACL-09 F-ACL-10 F-ACL-12
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
#include <unistd.h>

#include "acl.h"
#include "client.h"
#include "conf.h"
#include "conf_test.h"
#include "errcode.h"
#include "service.h"

/* ---- helpers ---------------------------------------------------------- */

/* Local time of a day in January 2024 (1st = Monday). */
static time_t
at(int mday, int h, int m, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 124;
	tm.tm_mon = 0;
	tm.tm_mday = mday;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

#define WED_1030 at(3, 10, 30, 0)

/* Compile "f1 f2 ..." (space separated fields). */
static struct acl_rule *
rule(const char *fields, char *err, size_t errlen, char *warn, size_t wl)
{
	char buf[4096], *argv[16], *p;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", fields);
	for (p = buf; *p != '\0' && n < 16;) {
		argv[n++] = p;
		p += strcspn(p, " ");
		if (*p == ' ')
			*p++ = '\0';
	}
	return acl_rule_compile(n, argv, err, errlen, warn, wl);
}

static struct acl_rule *
rule_ok(const char *fields)
{
	char err[256], warn[256];
	struct acl_rule *r = rule(fields, err, sizeof(err), warn, sizeof(warn));

	if (r == NULL)
		fail_msg("'%s' did not compile: %s", fields, err);
	return r;
}

static void
rule_bad(const char *fields, const char *msg)
{
	char err[256], warn[256];
	struct acl_rule *r = rule(fields, err, sizeof(err), warn, sizeof(warn));

	if (r != NULL)
		fail_msg("'%s' compiled", fields);
	if (strstr(err, msg) == NULL)
		fail_msg("'%s': expected '%s' in '%s'", fields, msg, err);
}

struct req {
	struct request r;
	struct net_addr src;
	const char *user;
	time_t now;
};

static void
req_init(struct req *q, const char *src, const char *dst, const char *host,
	 uint16_t port, unsigned cmd)
{
	memset(q, 0, sizeof(*q));
	if (src != NULL)
		assert_int_equal(net_parse_ip(src, &q->src), 0);
	if (dst != NULL)
		assert_int_equal(net_parse_ip(dst, &q->r.addr), 0);
	q->r.host = (char *)host;
	q->r.port = port;
	q->r.command = cmd;
	q->now = WED_1030;
}

static int
matches(const char *fields, const struct req *q)
{
	struct acl_rule *r = rule_ok(fields);
	int m = acl_rule_match(r, &q->r, q->user, &q->src, q->now);

	acl_rule_unref(r);
	return m;
}

/* ---- fields ----------------------------------------------------------- */

static void
test_users_field(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_CONNECT);
	q.user = "alice";
	assert_true(matches("alice,bob", &q));
	assert_true(matches("*", &q));
	assert_false(matches("Alice,bob", &q));     /* case-sensitive */
	q.user = NULL;                              /* compared as "-" */
	assert_false(matches("alice,bob", &q));
	assert_true(matches("alice,-", &q));
}

static void
test_sources_ipv4(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "192.168.1.77", NULL, NULL, 0, OP_CONNECT);
	assert_true(matches("* 192.168.1.77", &q));
	assert_true(matches("* 192.168.0.0/16", &q));
	assert_true(matches("* 192.168.1.77/32", &q));
	assert_true(matches("* 0.0.0.0/0", &q));
	assert_true(matches("* 10.0.0.0/8,192.168.1.70-192.168.1.80", &q));
	assert_false(matches("* 192.168.1.78-192.168.1.80", &q));
	assert_false(matches("* 192.168.2.0/24,10.0.0.0/8", &q));
	/* a CIDR written with host bits still means the network */
	assert_true(matches("* 192.168.1.200/24", &q));
	/* IPv4 client never matches IPv6 entries */
	assert_false(matches("* ::/0", &q));
}

static void
test_sources_ipv6(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "2001:db8::1:5", NULL, NULL, 0, OP_CONNECT);
	assert_true(matches("* 2001:db8::/32", &q));
	assert_true(matches("* 2001:db8::1:0-2001:db8::1:ff", &q));
	assert_true(matches("* 2001:db8::1:5", &q));
	assert_true(matches("* 10.0.0.0/8,2001:db8::1:0/112", &q));
	assert_false(matches("* 2001:db8::1:6-2001:db8::1:ff", &q));
	assert_false(matches("* 2001:db9::/32", &q));
	assert_false(matches("* 0.0.0.0/0", &q));
	/* families must match exactly: a v4-mapped client is IPv6 */
	req_init(&q, "::ffff:10.1.2.3", NULL, NULL, 0, OP_CONNECT);
	assert_false(matches("* 10.0.0.0/8", &q));
	assert_true(matches("* ::ffff:0:0/96", &q));
}

static void
test_sources_errors(void **state)
{
	(void)state;
	rule_bad("* z.z.z.z", "Invalid IP, IP range or CIDR: 'z.z.z.z'");
	rule_bad("* 10.0.0.0/33", "Invalid IP, IP range or CIDR");
	rule_bad("* ::/129", "Invalid IP, IP range or CIDR");
	rule_bad("* 10.0.0.9-10.0.0.1", "Invalid IP, IP range or CIDR");
	rule_bad("* 10.0.0.1-::1", "Invalid IP, IP range or CIDR");
	rule_bad("* 10.0.0.1,example.com", "'example.com'");
	rule_bad("* 10.0.0.0/x", "Invalid IP");
}

static void
test_targets_addresses(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", "127.0.0.1", "localhost", 80, OP_CONNECT);
	assert_true(matches("* * 127.0.0.0/8", &q));
	assert_true(matches("* * 10.0.0.0/8,127.0.0.1", &q));
	assert_false(matches("* * 10.0.0.0/8", &q));
	/* not an address: the host name is tried against name patterns */
	assert_true(matches("* * 10.0.0.0/8,localhost", &q));
	req_init(&q, "10.0.0.1", "2001:db8::5", NULL, 443, OP_CONNECT);
	assert_true(matches("* * 2001:db8::/64", &q));
	assert_false(matches("* * 127.0.0.0/8", &q));
}

static void
test_targets_wildcards(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, "WWW.Example.COM", 80, OP_CONNECT);
	assert_true(matches("* * www.example.com", &q));   /* no case */
	assert_true(matches("* * *.example.com", &q));
	assert_true(matches("* * *example.com", &q));
	assert_true(matches("* * www.*", &q));
	assert_true(matches("* * *ample*", &q));
	assert_false(matches("* * *.example.org", &q));
	assert_false(matches("* * example.*", &q));
	assert_false(matches("* * example.com", &q));
	/* "*suffix" needs a strictly longer host */
	req_init(&q, "10.0.0.1", NULL, "example.com", 80, OP_CONNECT);
	assert_false(matches("* * *example.com", &q));
	assert_true(matches("* * example.*", &q));
	req_init(&q, "10.0.0.1", NULL, "badexample.com", 80, OP_CONNECT);
	assert_true(matches("* * *example.com", &q));
	/* trailing dots do not count */
	req_init(&q, "10.0.0.1", NULL, "www.example.com..", 80, OP_CONNECT);
	assert_true(matches("* * www.example.com", &q));
	assert_true(matches("* * *.example.com", &q));
}

static void
test_targets_quirk_unknown(void **state)
{
	struct req q;

	(void)state;
	/* F-ACL-05 [quirk]: an address-only ACE with no address known yet,
	 * or a name-only ACE without a host name, counts as matching */
	req_init(&q, "10.0.0.1", NULL, "somewhere.example", 80, OP_CONNECT);
	assert_true(matches("* * 192.0.2.0/24", &q));
	req_init(&q, "10.0.0.1", NULL, NULL, 80, OP_CONNECT);
	assert_true(matches("* * *.example.com", &q));
	/* a request by literal address has that text as its host name */
	req_init(&q, "10.0.0.1", "192.0.2.9", NULL, 80, OP_CONNECT);
	assert_false(matches("* * *.example.com", &q));
	assert_true(matches("* * 192.0.2.*", &q));
	/* ...and with both kinds of entries and something to test, no */
	assert_false(matches("* * *.example.com,198.51.100.0/24", &q));
	/* BIND tests the address even when it is zero */
	req_init(&q, "10.0.0.1", "0.0.0.0", NULL, 0, OP_BIND);
	assert_false(matches("* * 192.0.2.0/24", &q));
	assert_true(matches("* * 0.0.0.0/0", &q));
}

static void
test_ports(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", "192.0.2.1", NULL, 8080, OP_CONNECT);
	assert_true(matches("* * * 8080", &q));
	assert_true(matches("* * * 80,443,8000-8099", &q));
	assert_true(matches("* * * 0-65535", &q));
	assert_false(matches("* * * 80,443", &q));
	assert_false(matches("* * * 8081-9000", &q));
	/* a zero port (not known yet) is not tested */
	req_init(&q, "10.0.0.1", "192.0.2.1", NULL, 0, OP_CONNECT);
	assert_true(matches("* * * 80", &q));
	rule_bad("* * * http", "Invalid port");
	rule_bad("* * * 90-80", "Invalid port");
	rule_bad("* * * 70000", "Invalid port");
}

static void
test_ports_empty_item(void **state)
{
	char err[256], warn[256];
	struct acl_rule *r;

	(void)state;
	r = rule("* * * 80,,443", err, sizeof(err), warn, sizeof(warn));
	assert_non_null(r);
	acl_rule_unref(r);
}

static void
test_operations(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, "h", 80, OP_HTTP_GET);
	assert_true(matches("* * * * HTTP", &q));
	assert_true(matches("* * * * HTTP_GET", &q));
	assert_true(matches("* * * * CONNECT,HTTP_GET", &q));
	assert_true(matches("* * * * http_get", &q));
	assert_false(matches("* * * * HTTPS", &q));
	assert_false(matches("* * * * CONNECT", &q));
	req_init(&q, "10.0.0.1", NULL, "h", 443, OP_HTTP_CONNECT);
	assert_true(matches("* * * * HTTPS", &q));
	assert_true(matches("* * * * HTTP_CONNECT", &q));
	assert_false(matches("* * * * HTTP", &q));   /* HTTP excludes it */
	req_init(&q, "10.0.0.1", NULL, "h", 21, OP_FTP_DATA);
	assert_true(matches("* * * * FTP", &q));
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_UDPASSOC);
	assert_true(matches("* * * * UDPASSOC,BIND", &q));
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_ADMIN);
	assert_true(matches("* * * * ADMIN", &q));
	req_init(&q, "10.0.0.1", NULL, "x", 53, OP_DNSRESOLVE);
	assert_true(matches("* * * * DNSRESOLVE", &q));
	assert_true(matches("* * * * *", &q));
	rule_bad("* * * * CONNECT,FOO", "Unknown operation: 'FOO'");
}

static void
test_weekdays(void **state)
{
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_CONNECT);
	q.now = at(3, 12, 0, 0);                        /* Wednesday */
	assert_true(matches("* * * * * 1-5", &q));
	assert_true(matches("* * * * * 3", &q));
	assert_true(matches("* * * * * 135", &q));      /* digits only */
	assert_false(matches("* * * * * 0,6", &q));
	assert_false(matches("* * * * * 4-6", &q));
	q.now = at(7, 12, 0, 0);                        /* Sunday */
	assert_true(matches("* * * * * 0", &q));
	assert_true(matches("* * * * * 7", &q));        /* 7 = Sunday too */
	assert_false(matches("* * * * * 1-5", &q));
	q.now = at(1, 12, 0, 0);                        /* Monday */
	assert_true(matches("* * * * * 8", &q));        /* [quirk] mod 7 */
	assert_true(matches("* * * * * *", &q));
	/* a range must go up; "5-1" is just 5 and 1 */
	assert_true(matches("* * * * * 5-1", &q));
	q.now = at(3, 12, 0, 0);
	assert_false(matches("* * * * * 5-1", &q));
}

static void
test_time_periods(void **state)
{
	struct req q;
	char err[256], warn[256];
	struct acl_rule *r;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_CONNECT);
	q.now = at(3, 10, 30, 0);
	assert_true(matches("* * * * * * 09:00:00-18:00:00", &q));
	assert_true(matches("* * * * * * 00:00:00-01:00:00,10:30:00-10:30:01",
			    &q));
	assert_false(matches("* * * * * * 10:30:01-24:00:00", &q));
	q.now = at(3, 18, 0, 0);                        /* half-open end */
	assert_false(matches("* * * * * * 09:00:00-18:00:00", &q));
	q.now = at(3, 23, 59, 59);
	assert_true(matches("* * * * * * 18:00:00-24:00:00", &q));
	q.now = at(3, 8, 59, 59);
	assert_false(matches("* * * * * 1-5 09:00:00-18:00:00", &q));
	/* malformed periods stop parsing with a warning; what was read
	 * before stays */
	r = rule("* * * * * * 09:00:00-10:00:00,9:00:00-18:00:00", err,
		 sizeof(err), warn, sizeof(warn));
	assert_non_null(r);
	assert_non_null(strstr(warn, "9:00:00-18:00:00"));
	q.now = at(3, 12, 0, 0);
	assert_false(acl_rule_match(r, &q.r, NULL, &q.src, q.now));
	acl_rule_unref(r);
	r = rule("* * * * * * 18:00:00-09:00:00", err, sizeof(err), warn,
		 sizeof(warn));
	assert_non_null(r);
	assert_true(warn[0] != '\0');
	assert_true(acl_rule_match(r, &q.r, NULL, &q.src, q.now));
	acl_rule_unref(r);
}

/* ---- lists -------------------------------------------------------------- */

static void
append(struct acl **a, enum acl_action act, const char *fields)
{
	assert_int_equal(acl_append(a, act, rule_ok(fields), 0), 0);
}

static void
test_first_match_and_implicit_deny(void **state)
{
	struct acl *a = NULL;
	struct acl_state st;
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", "192.0.2.1", "h.example", 80, OP_CONNECT);
	/* empty ACL: allowed */
	assert_int_equal(acl_match(NULL, &q.r, NULL, &q.src, q.now, NULL), 0);
	append(&a, ACL_DENY, "* * * 25");
	append(&a, ACL_ALLOW, "* 10.0.0.0/8 * 80");
	append(&a, ACL_DENY, "* 10.0.0.1");
	memset(&st, 0, sizeof(st));
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, &st), 0);
	assert_ptr_equal(st.entry, acl_entry_at(a, 1));
	q.r.port = 443;                       /* third ACE decides: deny */
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, &st),
			 ERR_ACL_DENY);
	assert_ptr_equal(st.entry, acl_entry_at(a, 2));
	req_init(&q, "172.16.0.1", "192.0.2.1", NULL, 443, OP_CONNECT);
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, &st),
			 ERR_ACL_NOMATCH);
	assert_null(st.entry);
	assert_int_equal(acl_count(a), 3);
	acl_unref(a);
}

/* acl-auth.md 6 (F-SOCKS UDP): a UDP association is authorized before
 * any destination is known.  Deny ACEs with destination fields are
 * skipped and allow ACEs match on their other fields. */
static void
test_udp_preauthorization(void **state)
{
	struct acl *a = NULL;
	struct req q;

	(void)state;
	append(&a, ACL_DENY, "* * 192.0.2.0/24");
	append(&a, ACL_ALLOW, "* 10.0.0.0/8 198.51.100.1 53");
	append(&a, ACL_DENY, "*");
	req_init(&q, "10.0.0.1", NULL, NULL, 0, OP_UDPASSOC);
	/* Without pre-authorization the zero destination meets the first
	 * deny ACE. */
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, NULL),
			 ERR_ACL_DENY);
	q.r.preauth = 1;
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, NULL), 0);
	/* A client outside the allowed sources still meets `deny *`. */
	req_init(&q, "172.16.0.1", NULL, NULL, 0, OP_UDPASSOC);
	q.r.preauth = 1;
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, NULL),
			 ERR_ACL_DENY);
	/* Each datagram is then checked with its destination. */
	req_init(&q, "10.0.0.1", "192.0.2.7", NULL, 53, OP_UDPASSOC);
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, NULL),
			 ERR_ACL_DENY);
	req_init(&q, "10.0.0.1", "198.51.100.1", NULL, 53, OP_UDPASSOC);
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, NULL), 0);
	acl_unref(a);
}

static void
test_weight(void **state)
{
	struct acl *a = NULL;
	struct acl_state st;
	struct req q;

	(void)state;
	req_init(&q, "10.0.0.1", NULL, NULL, 80, OP_CONNECT);
	assert_int_equal(acl_append(&a, ACL_DENY, rule_ok("*"), 5), 0);
	assert_int_equal(acl_append(&a, ACL_ALLOW, rule_ok("*"), 0), 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, &st),
			 ERR_ACL_DENY);
	assert_int_equal(st.weight, 5);
	/* a request that already recorded weight 10 skips weight-5 ACEs */
	st.weight = 10;
	assert_int_equal(acl_match(a, &q.r, NULL, &q.src, q.now, &st), 0);
	acl_unref(a);
}

static void
test_copy_on_write(void **state)
{
	struct acl *cur = NULL, *snap;
	struct acl_entry *e;

	(void)state;
	append(&cur, ACL_ALLOW, "alice");
	snap = acl_ref(cur);                       /* a service line */
	append(&cur, ACL_DENY, "*");               /* later line */
	assert_int_equal(acl_count(snap), 1);
	assert_int_equal(acl_count(cur), 2);
	acl_unref(snap);
	snap = acl_ref(cur);
	e = acl_last_mutable(&cur);                /* nolog after it */
	assert_non_null(e);
	e->nolog = 1;
	assert_true(acl_entry_at(cur, 1)->nolog);
	assert_false(acl_entry_at(snap, 1)->nolog);
	assert_ptr_not_equal(cur, snap);
	acl_unref(snap);
	acl_unref(cur);
	assert_null(acl_last_mutable(&(struct acl *){ NULL }));
}

static void
test_large_lists(void **state)
{
	enum { N = 10000 };
	char *users = malloc(N * 12), *srcs = malloc(N * 20);
	char name[16], *argv[2];
	char err[256], warn[256];
	struct acl_rule *r;
	struct req q;
	size_t ul = 0, sl = 0;
	int i;

	(void)state;
	assert_non_null(users);
	assert_non_null(srcs);
	for (i = 0; i < N; i++) {
		ul += (size_t)snprintf(users + ul, N * 12 - ul, "%su%d",
				       i ? "," : "", i);
		sl += (size_t)snprintf(srcs + sl, N * 20 - sl,
				       "%s10.%d.%d.0/24", i ? "," : "",
				       i / 256, i % 256);
	}
	argv[0] = users;
	argv[1] = srcs;
	r = acl_rule_compile(2, argv, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(r);
	req_init(&q, "10.39.15.200", NULL, NULL, 0, OP_CONNECT);  /* #9999 */
	for (i = 0; i < N; i += 97) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_true(acl_rule_match(r, &q.r, name, &q.src, q.now));
	}
	assert_false(acl_rule_match(r, &q.r, "u10000", &q.src, q.now));
	assert_false(acl_rule_match(r, &q.r, NULL, &q.src, q.now));
	req_init(&q, "10.39.16.1", NULL, NULL, 0, OP_CONNECT);    /* #10000 */
	assert_false(acl_rule_match(r, &q.r, "u1", &q.src, q.now));
	acl_rule_unref(r);
	free(users);
	free(srcs);
}

/* ---- config commands ---------------------------------------------------- */

static struct conf_gen *
load(const char *text, int *nerr, char **msgs)
{
	return conf_test_load(text, CONF_RUN, nerr, msgs);
}

static void
expect_error(const char *text, const char *message)
{
	conf_test_expect_error(text, message);
}

static void
test_conf_errors(void **state)
{
	(void)state;
	expect_error("flush\nallow * 10.0.0.1\nallow * z.z.z.z\n",
		     "t.cfg:3: allow: Invalid IP, IP range or CIDR: 'z.z.z.z'");
	expect_error("deny * * * x\n", "t.cfg:1: deny: Invalid port");
	expect_error("allow * * * * GET\n", "Unknown operation: 'GET'");
	expect_error("nolog\n", "t.cfg:1: chaining error");
	expect_error("allow *\nflush\nweight 3\n", "t.cfg:3: chaining error");
	expect_error("allow *\nweight x\n", "weight: invalid value 'x'");
	expect_error("weight\n", "wrong number of arguments");
}

static void
test_conf_flush_and_snapshots(void **state)
{
	const char *cfg =
		"allow alice\n"
		"tcppm 3001 127.0.0.1 25\n"
		"deny bob\n"
		"nolog\n"
		"tcppm 3002 127.0.0.1 25\n"
		"flush\n"
		"tcppm 3003 127.0.0.1 25\n"
		"allow * * * 80 * * * 7\n"
		"tcppm 3004 127.0.0.1 25\n";
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(cfg, &nerr, &msgs);
	const struct acl *a1, *a2, *a3, *a4;

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->nsvcs, 4);
	a1 = g->svcs[0]->acl;
	a2 = g->svcs[1]->acl;
	a3 = g->svcs[2]->acl;
	a4 = g->svcs[3]->acl;
	assert_int_equal(acl_count(a1), 1);       /* later lines unseen */
	assert_false(acl_entry_at(a1, 0)->nolog);
	assert_int_equal(acl_count(a2), 2);
	assert_int_equal(acl_entry_at(a2, 1)->action, ACL_DENY);
	assert_true(acl_entry_at(a2, 1)->nolog);
	assert_int_equal(acl_count(a3), 0);       /* flush: empty */
	assert_int_equal(acl_count(a4), 1);
	assert_int_equal(acl_entry_at(a4, 0)->weight, 7);
	conf_gen_unref(g);
	free(msgs);
}

static void
test_conf_dollar_file_list(void **state)
{
	char path[] = "/tmp/pxaclXXXXXX", cfg[512];
	char *msgs = NULL;
	int nerr = 0, fd = mkstemp(path);
	struct conf_gen *g;
	struct req q;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "10.0.0.0/8,192.168.0.0/16\n", 26), 26);
	close(fd);
	snprintf(cfg, sizeof(cfg), "allow * $%s\ntcppm 3001 127.0.0.1 25\n",
		 path);
	g = load(cfg, &nerr, &msgs);
	assert_non_null(g);
	req_init(&q, "192.168.4.4", NULL, NULL, 25, OP_CONNECT);
	assert_int_equal(acl_match(g->svcs[0]->acl, &q.r, NULL, &q.src, q.now,
				   NULL), 0);
	req_init(&q, "172.16.4.4", NULL, NULL, 25, OP_CONNECT);
	assert_int_equal(acl_match(g->svcs[0]->acl, &q.r, NULL, &q.src, q.now,
				   NULL), ERR_ACL_NOMATCH);
	conf_gen_unref(g);
	free(msgs);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_field),
		cmocka_unit_test(test_sources_ipv4),
		cmocka_unit_test(test_sources_ipv6),
		cmocka_unit_test(test_sources_errors),
		cmocka_unit_test(test_targets_addresses),
		cmocka_unit_test(test_targets_wildcards),
		cmocka_unit_test(test_targets_quirk_unknown),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ports_empty_item),
		cmocka_unit_test(test_operations),
		cmocka_unit_test(test_weekdays),
		cmocka_unit_test(test_time_periods),
		cmocka_unit_test(test_first_match_and_implicit_deny),
		cmocka_unit_test(test_udp_preauthorization),
	    cmocka_unit_test(test_weight),
		cmocka_unit_test(test_copy_on_write),
		cmocka_unit_test(test_large_lists),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_flush_and_snapshots),
		cmocka_unit_test(test_conf_dollar_file_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
