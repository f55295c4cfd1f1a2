/*
 * Unit tests for parent.c / parent_proto.c / connback.c: parent types,
 * weight groups and the weighted random choice with a seeded source,
 * chains compiled from `parent` / `redirect` lines (copy-on-write per
 * service, config errors with file:line), the request builders and the
 * reply parsers of each hop protocol fed hostile input, the PROXY line
 * of `ha`, and connect-back addresses.
 * F-PAR-01 F-PAR-02 F-PAR-03 F-PAR-04 F-PAR-05 F-PAR-06 F-PAR-07
 * F-PAR-09 F-PAR-11 F-SVC-05
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acl.h"
#include "conf.h"
#include "conf_test.h"
#include "connback.h"
#include "errcode.h"
#include "parent.h"
#include "service.h"

/* ---- helpers ----------------------------------------------------------- */

/* A seeded source: xorshift32. */
static uint32_t rnd_xorshift(void *arg)
{
	uint32_t *s = arg;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A source that replays fixed values. */
struct replay {
	const uint32_t *v;
	int n, i;
};

static uint32_t rnd_replay(void *arg)
{
	struct replay *r = arg;

	return r->v[r->i++ % r->n];
}

/* A list built by hand: weights w[0..n-1], entry i has port 1000 + i. */
static struct parent_list *mklist(const int *w, int n)
{
	struct parent_list *pl = calloc(1, sizeof(*pl));
	int i;

	assert_non_null(pl);
	pl->refs = 1;
	pl->e = calloc((size_t)n, sizeof(*pl->e));
	assert_non_null(pl->e);
	for (i = 0; i < n; i++) {
		pl->e[i].type = PARENT_SOCKS5;
		pl->e[i].weight = w[i];
		pl->e[i].prefixlen = -1;
		assert_int_equal(net_parse_ip("127.0.0.1", &pl->e[i].addr), 0);
		net_set_port(&pl->e[i].addr, (uint16_t)(1000 + i));
	}
	pl->n = n;
	return pl;
}

static int port_of(const struct parent_entry *e)
{
	return net_get_port(&e->addr) - 1000;
}

static struct conf_gen *load(const char *text, int *nerr, char **msgs)
{
	return conf_test_load(text, CONF_RUN, nerr, msgs);
}

static void expect_error(const char *text, const char *message)
{
	conf_test_expect_error(text, message);
}

static struct conf_gen *expect_ok(const char *text)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = load(text, &nerr, &msgs);

	if (g == NULL)
		fail_msg("config failed: %s", msgs);
	free(msgs);
	return g;
}

static const struct parent_list *chain_of(const struct conf_gen *g, int svc,
					  size_t ace)
{
	const struct acl_entry *e = acl_entry_at(g->svcs[svc]->acl, ace);

	assert_non_null(e);
	return e->parents;
}

/* ---- types ----------------------------------------------------------------- */

static void test_types(void **state)
{
	static const char *const names[] = {
		"tcp", "http", "connect", "connect+", "socks4", "socks4+",
		"socks4b", "socks5", "socks5+", "socks5b", "extip", "ha",
		"pop3", "smtp", "imap", "ftp", "admin", "tls", "dns"
	};
	enum parent_type t;
	size_t i;
	int tls;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(parent_type_parse(names[i], &t, &tls), 0);
		assert_int_equal(tls, 0);
		assert_string_equal(parent_type_name(t), names[i]);
	}
	/* F-PAR-10: "s" asks for TLS to the parent */
	assert_int_equal(parent_type_parse("https", &t, &tls), 0);
	assert_int_equal(t, PARENT_HTTP);
	assert_int_equal(tls, 1);
	assert_int_equal(parent_type_parse("connect+s", &t, &tls), 0);
	assert_int_equal(t, PARENT_CONNECTP);
	assert_int_equal(tls, 1);
	assert_int_equal(parent_type_parse("tlss", &t, &tls), 0);
	assert_int_equal(t, PARENT_TLS);
	assert_int_equal(tls, 1);
	assert_int_equal(parent_type_parse("socks5s", &t, &tls), 0);
	assert_int_equal(t, PARENT_SOCKS5);
	/* unknown */
	assert_int_equal(parent_type_parse("socks6", &t, &tls), -1);
	assert_int_equal(parent_type_parse("s", &t, &tls), -1);
	assert_int_equal(parent_type_parse("", &t, &tls), -1);
	assert_int_equal(parent_type_parse("HTTP", &t, &tls), -1);
	assert_int_equal(parent_type_parse("httpss", &t, &tls), -1);
	assert_int_equal(parent_type_parse("proxy", &t, &tls), -1);
}

/* ---- weights and hop selection (F-PAR-01, F-PAR-02) ----------------------- */

static void test_weights_check(void **state)
{
	static const int ok1[] = { 1000 };
	static const int ok2[] = { 500, 500, 1000, 300, 700 };
	static const int ok3[] = { 250, 250, 250, 250 };
	static const int low[] = { 1000, 300 };
	static const int over[] = { 600, 600 };
	static const int over2[] = { 1000, 999, 2 };
	struct parent_list *pl;
	int bad = -1, sum = -1;

	(void)state;
	pl = mklist(ok1, 1);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), 0);
	parent_list_unref(pl);
	pl = mklist(ok2, 5);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), 0);
	parent_list_unref(pl);
	pl = mklist(ok3, 4);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), 0);
	parent_list_unref(pl);
	pl = mklist(low, 2);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(sum, 300);
	parent_list_unref(pl);
	pl = mklist(over, 2);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), -1);
	assert_int_equal(bad, 0);
	assert_int_equal(sum, 1200);
	parent_list_unref(pl);
	pl = mklist(over2, 3);
	assert_int_equal(parent_weights_check(pl, &bad, &sum), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(sum, 1001);
	parent_list_unref(pl);
}

/* The documented algorithm with chosen random values. */
static void test_pick_exact(void **state)
{
	static const int w[] = { 1000, 1000, 300, 700 };
	/* r for group 1, 2, 3 (and the re-roll after the last group) */
	static const uint32_t lowr[] = { 5, 999, 699, 0 };
	static const uint32_t highr[] = { 0, 0, 700, 0 };
	static const uint32_t wrap[] = { 1999, 1000, 1700, 0 };
	const struct parent_entry *out[8];
	struct parent_list *pl = mklist(w, 4);
	struct replay r = { lowr, 4, 0 };

	(void)state;
	/* r = 699 for the last group: acc 700 > 699 skips the 300 entry */
	assert_int_equal(parent_pick(pl, rnd_replay, &r, out, 8), 3);
	assert_int_equal(port_of(out[0]), 0);
	assert_int_equal(port_of(out[1]), 1);
	assert_int_equal(port_of(out[2]), 3);
	/* r = 700: acc 700 > 700 is false, so the 300 entry is taken */
	r.v = highr;
	r.i = 0;
	assert_int_equal(parent_pick(pl, rnd_replay, &r, out, 8), 3);
	assert_int_equal(port_of(out[2]), 2);
	/* values are taken modulo 1000 */
	r.v = wrap;
	r.i = 0;
	assert_int_equal(parent_pick(pl, rnd_replay, &r, out, 8), 3);
	assert_int_equal(port_of(out[2]), 2);
	/* max bounds what is written */
	r.v = lowr;
	r.i = 0;
	assert_int_equal(parent_pick(pl, rnd_replay, &r, out, 2), 2);
	parent_list_unref(pl);
}

/* A group below 1000 (accepted only by hand-made lists) is a hop taken
 * with probability weight/1000, as parent.md section 2 describes. */
static void test_pick_partial_group(void **state)
{
	static const int w[] = { 300 };
	const struct parent_entry *out[2];
	struct parent_list *pl = mklist(w, 1);
	uint32_t seed = 12345;
	int i, used = 0;

	(void)state;
	for (i = 0; i < 10000; i++)
		used += parent_pick(pl, rnd_xorshift, &seed, out, 2);
	assert_in_range(used, 2700, 3300);
	parent_list_unref(pl);
}

static void test_pick_distribution(void **state)
{
	static const int w[] = { 1000, 300, 700, 250, 250, 500 };
	const struct parent_entry *out[8];
	struct parent_list *pl = mklist(w, 6);
	uint32_t seed = 0x2545F491;
	int count[6] = { 0 }, i, j, n;

	(void)state;
	for (i = 0; i < 20000; i++) {
		n = parent_pick(pl, rnd_xorshift, &seed, out, 8);
		/* one hop per group: three hops, in group order */
		assert_int_equal(n, 3);
		assert_int_equal(port_of(out[0]), 0);
		assert_in_range(port_of(out[1]), 1, 2);
		assert_in_range(port_of(out[2]), 3, 5);
		for (j = 0; j < n; j++)
			count[port_of(out[j])]++;
	}
	assert_int_equal(count[0], 20000);
	/* 30 % / 70 %, 25 % / 25 % / 50 %, within generous bounds */
	assert_in_range(count[1], 5400, 6600);
	assert_in_range(count[2], 13400, 14600);
	assert_in_range(count[3], 4400, 5600);
	assert_in_range(count[4], 4400, 5600);
	assert_in_range(count[5], 9400, 10600);
	parent_list_unref(pl);
}

static void test_random_source(void **state)
{
	uint32_t a = parent_random(NULL), b = parent_random(NULL);
	int i, buckets[4] = { 0 };

	(void)state;
	assert_true(a != b);
	for (i = 0; i < 4000; i++)
		buckets[parent_random(NULL) % 4]++;
	for (i = 0; i < 4; i++)
		assert_in_range(buckets[i], 800, 1200);
}

/* ---- config (F-PAR-01..07, F-PAR-11) ----------------------------------------- */

static void test_conf_chain(void **state)
{
	struct conf_gen *g;
	const struct parent_list *pl;
	char buf[64];

	(void)state;
	g = expect_ok("allow * * * 80\n"
		      "parent 1000 socks5 192.0.2.10 1080\n"
		      "parent 1000 connect 192.0.2.20 3128 bob secret\n"
		      "parent 300 socks4 192.0.2.30 1080 *\n"
		      "parent 700 socks5+ 2001:db8::1 1080\n"
		      "allow *\n"
		      "parentretries 5\n"
		      "proxy -p1\n");
	assert_int_equal(acl_count(g->svcs[0]->acl), 2);
	pl = chain_of(g, 0, 0);
	assert_non_null(pl);
	assert_int_equal(pl->n, 4);
	assert_int_equal(pl->e[0].type, PARENT_SOCKS5);
	assert_string_equal(net_addr_str(&pl->e[0].addr, buf, sizeof(buf)),
			    "192.0.2.10");
	assert_int_equal(net_get_port(&pl->e[0].addr), 1080);
	assert_null(pl->e[0].user);
	assert_string_equal(pl->e[1].user, "bob");
	assert_string_equal(pl->e[1].password, "secret");
	assert_string_equal(pl->e[2].user, "*");
	assert_null(pl->e[2].password);
	assert_int_equal(pl->e[3].type, PARENT_SOCKS5P);
	assert_string_equal(pl->e[3].host, "2001:db8::1");
	assert_string_equal(pl->e[1].where, "t.cfg:3");
	assert_null(chain_of(g, 0, 1));
	assert_int_equal(g->parentretries, 5);
	conf_gen_unref(g);
}

static void test_conf_snapshots(void **state)
{
	struct conf_gen *g;

	(void)state;
	/* a service keeps the chain it saw; later lines extend a copy */
	g = expect_ok("allow *\n"
		      "parent 500 http 192.0.2.1 3128\n"
		      "parent 500 http 192.0.2.2 3128\n"
		      "proxy -p1\n"
		      "parent 1000 tcp 192.0.2.3 80\n"
		      "proxy -p2\n");
	assert_int_equal(chain_of(g, 0, 0)->n, 2);
	assert_int_equal(chain_of(g, 1, 0)->n, 3);
	assert_int_equal(chain_of(g, 1, 0)->e[2].type, PARENT_TCP);
	conf_gen_unref(g);
}

static void test_conf_redirect(void **state)
{
	struct conf_gen *g;
	const struct acl_entry *e;
	const struct parent_list *pl;
	char buf[64];

	(void)state;
	g = expect_ok("redirect 192.0.2.5 8080 * * * 80\n"
		      "parent 1000 socks5 192.0.2.6 1080\n"
		      "redirect 0.0.0.0 0\n"
		      "proxy -p1\n");
	e = acl_entry_at(g->svcs[0]->acl, 0);
	assert_int_equal(e->action, ACL_REDIRECT);
	pl = e->parents;
	assert_int_equal(pl->n, 2);
	assert_int_equal(pl->e[0].type, PARENT_HTTP);
	assert_int_equal(pl->e[0].weight, 1000);
	assert_string_equal(net_addr_str(&pl->e[0].addr, buf, sizeof(buf)),
			    "192.0.2.5");
	assert_int_equal(net_get_port(&pl->e[0].addr), 8080);
	assert_false(parent_list_is_local(pl));
	/* 0.0.0.0 0: a local redirection into the HTTP parser */
	assert_true(parent_list_is_local(chain_of(g, 0, 1)));
	assert_false(parent_list_is_local(NULL));
	conf_gen_unref(g);
}

static void test_conf_local(void **state)
{
	struct conf_gen *g;

	(void)state;
	g = expect_ok("allow * * * 80\n"
		      "parent 1000 http 0.0.0.0 0\n"
		      "allow * * * 21\n"
		      "parent 1000 ftp 0.0.0.0 0\n"
		      "allow * * * 443\n"
		      "parent 1000 ha 0.0.0.0 0\n"
		      "parent 1000 socks5 192.0.2.1 1080\n"
		      "allow *\n"
		      "parent 250 extip 192.0.2.1 0\n"
		      "parent 250 extip 192.0.2.2 0\n"
		      "parent 250 extip 2001:db8:1:2::/64 0\n"
		      "parent 250 extip 0.0.0.0 0\n"
		      "socks -p1\n");
	assert_true(parent_list_is_local(chain_of(g, 0, 0)));
	assert_true(parent_list_is_local(chain_of(g, 0, 1)));
	assert_false(parent_list_is_local(chain_of(g, 0, 2)));
	assert_false(parent_list_is_local(chain_of(g, 0, 3)));
	assert_int_equal(chain_of(g, 0, 3)->e[2].prefixlen, 64);
	assert_string_equal(chain_of(g, 0, 3)->e[2].host, "2001:db8:1:2::");
	conf_gen_unref(g);
}

static void test_conf_errors(void **state)
{
	(void)state;
	expect_error("parent 1000 http 192.0.2.1 3128\n",
		     "t.cfg:1: Chaining error: last ACL entry was not "
		     "\"allow\" or \"redirect\"");
	expect_error("allow *\ndeny *\nparent 1000 http 192.0.2.1 3128\n",
		     "t.cfg:3: Chaining error: last ACL entry was not");
	expect_error("allow *\nparent 0 http 192.0.2.1 3128\n",
		     "t.cfg:2: Chaining error: bad chain weight 0");
	expect_error("allow *\nparent 1001 http 192.0.2.1 3128\n",
		     "bad chain weight 1001");
	expect_error("allow *\nparent x http 192.0.2.1 3128\n",
		     "bad chain weight x");
	expect_error("allow *\nparent 1000 socks6 192.0.2.1 1080\n",
		     "t.cfg:2: Chaining error: bad chain type (socks6)");
	expect_error("allow *\nparent 1000 pop3 192.0.2.1 110\n",
		     "Chaining error: chain type (pop3) is a local "
		     "redirection, it requires 0.0.0.0 as address and 0 as "
		     "port");
	expect_error("allow *\nparent 1000 tls 0.0.0.0 443\n",
		     "chain type (tls) is a local redirection");
	expect_error("allow *\nparent 1000 ha 192.0.2.1 0\n",
		     "chain type (ha) is a local redirection");
	expect_error("allow *\nparent 1000 http 192.0.2.1 99999\n",
		     "bad parent port 99999");
	expect_error("allow *\nparent 1000 http bad..name! 80\n",
		     "invalid parent address");
	/* a group that crosses 1000 is an error */
	expect_error("allow *\nparent 600 http 192.0.2.1 1\n"
		     "parent 600 http 192.0.2.2 1\n",
		     "t.cfg:3: Chaining error: parent weights of the group "
		     "starting at t.cfg:2 add up to 1200");
	/* a short last group is accepted, as by 3proxy, with a warning:
	 * its hop is optional (parent.md 2; a real config relies on it) */
	{
		char *msgs = NULL;
		int nerr = 0;
		struct conf_gen *g = load("allow *\nparent 1000 http 192.0.2.1 1\n"
					  "parent 300 http 192.0.2.2 1\n"
					  "proxy -p1\n", &nerr, &msgs);

		assert_non_null(g);
		assert_int_equal(nerr, 0);
		if (strstr(msgs, "t.cfg:4: warning: parent weights of the group "
			   "starting at t.cfg:3 add up to 300") == NULL)
			fail_msg("got '%s'", msgs);
		conf_gen_unref(g);
		free(msgs);
	}
	expect_error("redirect x.y 80\n", "redirect: invalid address 'x.y'");
	expect_error("redirect 192.0.2.1 80 * z.z.z.z\n",
		     "redirect: Invalid IP, IP range or CIDR");
	expect_error("parentretries many\n", "parentretries: invalid value");
}

/* ---- HTTP CONNECT (F-PAR-03, F-PAR-05, F-PAR-12) ----------------------------- */

static struct parent_target target(const char *host, const char *ip,
				   uint16_t port)
{
	struct parent_target t;

	memset(&t, 0, sizeof(t));
	t.host = host;
	t.port = port;
	if (ip != NULL)
		assert_int_equal(net_parse_ip(ip, &t.addr), 0);
	return t;
}

static void test_connect_request(void **state)
{
	char buf[PARENT_CONNECT_MAX], big[400];
	struct parent_target t = target("www.example.com", "192.0.2.7", 443);
	size_t n;

	(void)state;
	n = parent_connect_request(buf, sizeof(buf), 0, &t, NULL, NULL);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "CONNECT 192.0.2.7:443 HTTP/1.0\r\n"
			    "Connection: keep-alive\r\n\r\n");
	/* connect+: the name; credentials as Basic */
	n = parent_connect_request(buf, sizeof(buf), 1, &t, "Aladdin",
				   "open sesame");
	assert_true(n > 0);
	assert_string_equal(buf, "CONNECT www.example.com:443 HTTP/1.0\r\n"
			    "Connection: keep-alive\r\nProxy-Authorization: "
			    "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	/* IPv6 in brackets */
	t = target(NULL, "2001:db8::7", 80);
	n = parent_connect_request(buf, sizeof(buf), 1, &t, NULL, NULL);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "CONNECT [2001:db8::7]:80 HTTP/1.0"));
	/* + with no name falls back to the address; nothing at all: 0 */
	t = target(NULL, NULL, 80);
	assert_int_equal(parent_connect_request(buf, sizeof(buf), 1, &t, NULL,
						NULL), 0);
	/* a name that would break the request line is not sent */
	t = target("a b\r\nX: y", "192.0.2.1", 80);
	n = parent_connect_request(buf, sizeof(buf), 1, &t, NULL, NULL);
	assert_non_null(strstr(buf, "CONNECT 192.0.2.1:80 "));
	/* too long for the buffer */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t = target("h", "192.0.2.1", 80);
	assert_int_equal(parent_connect_request(buf, 40, 1, &t, NULL, NULL),
			 0);
	assert_int_equal(parent_connect_request(buf, sizeof(buf), 1, &t, big,
						big), 0);
}

static void test_connect_status(void **state)
{
	(void)state;
	assert_int_equal(parent_connect_status("HTTP/1.0 200 OK\r\n", 17), 0);
	assert_int_equal(parent_connect_status("HTTP/1.1 204 x\r\n", 16), 0);
	assert_int_equal(parent_connect_status("HTTP/1.0 200\r\n", 14), 0);
	assert_int_equal(parent_connect_status("HTTP/1.0 407 Auth\r\n", 19), 33);
	assert_int_equal(parent_connect_status("HTTP/1.0 502 Bad\r\n", 18), 33);
	assert_int_equal(parent_connect_status("HTTP/1.0 200", 12), 32);
	assert_int_equal(parent_connect_status("", 0), 32);
	assert_int_equal(parent_connect_status("SSH-2.0-OpenSSH_9\r\n", 19),
			 33);
}

/* ---- SOCKS4 (F-PAR-04) ------------------------------------------------------------ */

static void test_socks4(void **state)
{
	uint8_t buf[PARENT_SOCKS4_MAX];
	static const uint8_t plain[] = { 4, 1, 0, 80, 192, 0, 2, 9,
					 'a', 'n', 'o', 'n', 'y', 'm', 'o',
					 'u', 's', 0 };
	static const uint8_t named[] = { 4, 1, 0x1f, 0x90, 0, 0, 0, 3,
					 'u', 0, 'h', '.', 'e', 'x', 0 };
	struct parent_target t = target("h.ex", "192.0.2.9", 80);
	char longname[300];
	int err;
	size_t n;

	(void)state;
	n = parent_socks4_request(buf, sizeof(buf), 0, &t, NULL, &err);
	assert_int_equal(n, sizeof(plain));
	assert_memory_equal(buf, plain, n);
	t = target("h.ex", NULL, 8080);
	n = parent_socks4_request(buf, sizeof(buf), 1, &t, "u", &err);
	assert_int_equal(n, sizeof(named));
	assert_memory_equal(buf, named, n);
	/* plain SOCKS4 cannot carry IPv6 or a name */
	t = target("h.ex", "2001:db8::1", 80);
	assert_int_equal(parent_socks4_request(buf, sizeof(buf), 0, &t, NULL,
					       &err), 0);
	assert_int_equal(err, 44);
	t = target("h.ex", NULL, 80);
	assert_int_equal(parent_socks4_request(buf, sizeof(buf), 0, &t, NULL,
					       &err), 0);
	assert_int_equal(err, 44);
	/* a name over 255 bytes is not sent: the address is needed */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	t = target(longname, NULL, 80);
	assert_int_equal(parent_socks4_request(buf, sizeof(buf), 1, &t, NULL,
					       &err), 0);
	assert_int_equal(err, 44);
	t = target(NULL, "192.0.2.9", 80);
	assert_int_equal(parent_socks4_request(buf, 10, 0, &t, NULL, &err), 0);
	assert_int_equal(err, 41);
	/* replies */
	assert_int_equal(parent_socks4_reply((const uint8_t *)"\0\x5a\0\0\0\0"
					     "\0\0", 8, 8), 0);
	assert_int_equal(parent_socks4_reply((const uint8_t *)"\0\x5b\0\0\0\0"
					     "\0\0", 8, 8), 43);
	assert_int_equal(parent_socks4_reply((const uint8_t *)"\0\x5a\0", 3,
					     8), 42);
	assert_int_equal(parent_socks4_reply((const uint8_t *)"\0\x5a\0", 3,
					     3), 0);
	assert_int_equal(parent_socks4_reply((const uint8_t *)"", 0, 8), 42);
	assert_int_equal(parent_socks4_reply((const uint8_t *)"\x04", 1, 1),
			 42);
}

/* ---- SOCKS5 (F-PAR-04, F-PAR-05) --------------------------------------------------- */

static void test_socks5_negotiation(void **state)
{
	uint8_t buf[PARENT_SOCKS5_MAX];
	char u300[300];
	int m = -1;

	(void)state;
	assert_int_equal(parent_socks5_greeting(buf, 0), 3);
	assert_memory_equal(buf, "\x05\x01\x00", 3);
	assert_int_equal(parent_socks5_greeting(buf, 1), 4);
	assert_memory_equal(buf, "\x05\x02\x00\x02", 4);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05\x00", 2,
					      0, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05\x02", 2,
					      1, &m), 0);
	assert_int_equal(m, 2);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05\x02", 2,
					      0, &m), 54);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05\xff", 2,
					      1, &m), 54);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05\x01", 2,
					      1, &m), 54);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x04\x00", 2,
					      0, &m), 53);
	assert_int_equal(parent_socks5_method((const uint8_t *)"\x05", 1, 0,
					      &m), 52);
	/* RFC 1929 */
	assert_int_equal(parent_socks5_auth(buf, sizeof(buf), "bob", "pw"), 8);
	assert_memory_equal(buf, "\x01\x03" "bob" "\x02" "pw", 8);
	assert_int_equal(parent_socks5_auth(buf, sizeof(buf), "bob", NULL), 6);
	memset(u300, 'u', sizeof(u300) - 1);
	u300[sizeof(u300) - 1] = '\0';
	assert_int_equal(parent_socks5_auth(buf, sizeof(buf), u300, "pw"), 0);
	assert_int_equal(parent_socks5_auth(buf, sizeof(buf), "u", u300), 0);
	assert_int_equal(parent_socks5_auth(buf, 5, "bob", "pw"), 0);
	assert_int_equal(parent_socks5_auth_reply((const uint8_t *)"\x01\x00",
						  2), 0);
	assert_int_equal(parent_socks5_auth_reply((const uint8_t *)"\x01\x01",
						  2), 56);
	assert_int_equal(parent_socks5_auth_reply((const uint8_t *)"\x05\x00",
						  2), 56);
	assert_int_equal(parent_socks5_auth_reply((const uint8_t *)"\x01", 1),
			 55);
}

static void test_socks5_request(void **state)
{
	uint8_t buf[PARENT_SOCKS5_MAX];
	struct parent_target t = target("h.ex", "192.0.2.9", 443);
	char longname[300];
	size_t n;

	(void)state;
	n = parent_socks5_request(buf, sizeof(buf), 1, 0, &t);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "\x05\x01\x00\x01\xc0\x00\x02\x09\x01\xbb",
			    10);
	n = parent_socks5_request(buf, sizeof(buf), 1, 1, &t);
	assert_int_equal(n, 4 + 1 + 4 + 2);
	assert_memory_equal(buf, "\x05\x01\x00\x03\x04h.ex\x01\xbb", n);
	t = target(NULL, "2001:db8::1", 80);
	n = parent_socks5_request(buf, sizeof(buf), 1, 1, &t);
	assert_int_equal(n, 22);
	assert_int_equal(buf[3], 4);
	assert_int_equal(buf[19], 1);
	/* UDP ASSOCIATE: 0.0.0.0:0 */
	n = parent_socks5_request(buf, sizeof(buf), 3, 0, &t);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "\x05\x03\x00\x01\0\0\0\0\0\0", 10);
	/* nothing usable */
	t = target(NULL, NULL, 80);
	assert_int_equal(parent_socks5_request(buf, sizeof(buf), 1, 1, &t), 0);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	t = target(longname, NULL, 80);
	assert_int_equal(parent_socks5_request(buf, sizeof(buf), 1, 1, &t), 0);
	t = target(longname, "192.0.2.1", 80);
	assert_int_equal(parent_socks5_request(buf, sizeof(buf), 1, 1, &t),
			 10);
	assert_int_equal(parent_socks5_request(buf, 20, 1, 1, &t), 0);
}

static void test_socks5_reply(void **state)
{
	static const uint8_t v4[] = { 5, 0, 0, 1, 10, 0, 0, 1, 0x04, 0x38 };
	static const uint8_t name[] = { 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80 };
	uint8_t v6[22] = { 5, 0, 0, 4 };
	struct net_addr bnd;
	char buf[64];
	size_t need = 0;
	uint8_t b[300];
	int rep;

	(void)state;
	/* incremental: what to read next */
	assert_int_equal(parent_socks5_reply(v4, 0, 0, &need, NULL),
			 PARENT_MORE);
	assert_int_equal(need, 4);
	assert_int_equal(parent_socks5_reply(v4, 4, 0, &need, NULL),
			 PARENT_MORE);
	assert_int_equal(need, 10);
	assert_int_equal(parent_socks5_reply(v4, 10, 0, &need, &bnd), 0);
	assert_string_equal(net_addr_str(&bnd, buf, sizeof(buf)), "10.0.0.1");
	assert_int_equal(net_get_port(&bnd), 1080);
	/* socks5b: nothing after an IPv4 reply head */
	assert_int_equal(parent_socks5_reply(v4, 4, 1, &need, NULL), 0);
	/* a name is skipped by its own length */
	assert_int_equal(parent_socks5_reply(name, 4, 0, &need, NULL),
			 PARENT_MORE);
	assert_int_equal(need, 5);
	assert_int_equal(parent_socks5_reply(name, 5, 0, &need, NULL),
			 PARENT_MORE);
	assert_int_equal(need, 10);
	assert_int_equal(parent_socks5_reply(name, 10, 0, &need, &bnd), 0);
	assert_int_equal(bnd.len, 0);
	v6[19] = 1;
	v6[21] = 80;
	assert_int_equal(parent_socks5_reply(v6, 4, 0, &need, NULL),
			 PARENT_MORE);
	assert_int_equal(need, 22);
	assert_int_equal(parent_socks5_reply(v6, 22, 0, &need, &bnd), 0);
	assert_string_equal(net_addr_str(&bnd, buf, sizeof(buf)), "::1");
	/* errors */
	assert_int_equal(parent_socks5_reply((const uint8_t *)"\x04\0\0\x01",
					     4, 0, &need, NULL), 53);
	for (rep = 1; rep < 256; rep++) {
		uint8_t r[4] = { 5, (uint8_t)rep, 0, 1 };

		assert_int_equal(parent_socks5_reply(r, 4, 0, &need, NULL),
				 60 + rep % 10);
	}
	assert_int_equal(parent_socks5_reply((const uint8_t *)"\x05\0\0\x02",
					     4, 0, &need, NULL), 58);
	assert_int_equal(parent_socks5_reply((const uint8_t *)"\x05\0\0\xff",
					     4, 0, &need, NULL), 58);
	/* hostile: any bytes give a code, MORE with a bounded need, or 0 */
	{
		uint32_t seed = 777;
		int i;
		size_t j, len;

		for (i = 0; i < 20000; i++) {
			len = rnd_xorshift(&seed) % 40;
			for (j = 0; j < len; j++)
				b[j] = (uint8_t)rnd_xorshift(&seed);
			if (i % 2)
				b[0] = 5;
			if (i % 4 == 1)
				b[1] = 0;
			rep = parent_socks5_reply(b, len, i % 3 == 0, &need,
						  &bnd);
			if (rep == PARENT_MORE)
				assert_true(need > len && need <= 262);
			else
				assert_true(rep == 0 || rep == 53 ||
					    (rep >= 58 && rep <= 69));
		}
	}
}

/* ---- ha (F-PAR-09) ------------------------------------------------------------------ */

/* parent_socks5_udp over a socketpair: the parent's replies are queued
 * before the call, what was sent is read afterwards. */
static int udp_exchange(const uint8_t *reply, size_t rlen, const char *user,
			uint8_t *sent, size_t *slen, struct net_addr *relay)
{
	int sv[2], rc;
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], reply, rlen), (ssize_t)rlen);
	rc = parent_socks5_udp(sv[0], user, user ? "pw" : NULL, 1000, 1000,
			       relay);
	close(sv[0]);
	n = read(sv[1], sent, 64);
	*slen = n > 0 ? (size_t)n : 0;
	close(sv[1]);
	return rc;
}

static void test_socks5_udp_associate(void **state)
{
	/* F-PAR-04: login, then UDP ASSOCIATE 0.0.0.0:0; the relay is
	 * the bound address of the reply */
	static const uint8_t ok[] = { 5, 2, 1, 0, 5, 0, 0, 1,
				      127, 0, 0, 9, 0x12, 0x34 };
	static const uint8_t want[] = { 5, 2, 0, 2, 1, 2, 'b', 'o', 2, 'p',
					'w', 5, 3, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const uint8_t name[] = { 5, 0, 5, 0, 0, 3, 1, 'h', 0, 53 };
	static const uint8_t refused[] = { 5, 0, 5, 2, 0, 1,
					   0, 0, 0, 0, 0, 0 };
	uint8_t sent[64];
	struct net_addr relay;
	char ip[64];
	size_t n;

	(void)state;
	assert_int_equal(udp_exchange(ok, sizeof(ok), "bo", sent, &n,
				      &relay), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(sent, want, sizeof(want));
	assert_string_equal(net_addr_str(&relay, ip, sizeof(ip)),
			    "127.0.0.9");
	assert_int_equal(net_get_port(&relay), 0x1234);
	/* a relay named by a host name cannot be used: 58 */
	assert_int_equal(udp_exchange(name, sizeof(name), NULL, sent, &n,
				      &relay), 58);
	/* REP 2 (not allowed): 62 */
	assert_int_equal(udp_exchange(refused, sizeof(refused), NULL, sent,
				      &n, &relay), 62);
}

static void test_ha_line(void **state)
{
	struct net_addr s, d;
	char buf[128];

	(void)state;
	assert_int_equal(net_parse_ip("192.0.2.1", &s), 0);
	net_set_port(&s, 5000);
	assert_int_equal(net_parse_ip("198.51.100.2", &d), 0);
	net_set_port(&d, 3128);
	assert_int_equal(parent_ha_line(buf, sizeof(buf), &s, &d),
			 strlen("PROXY TCP4 192.0.2.1 198.51.100.2 5000 3128\r\n"));
	assert_string_equal(buf, "PROXY TCP4 192.0.2.1 198.51.100.2 5000 "
			    "3128\r\n");
	assert_int_equal(net_parse_ip("2001:db8::1", &s), 0);
	assert_int_equal(parent_ha_line(buf, sizeof(buf), &s, &d), 0);
	assert_int_equal(net_parse_ip("::1", &d), 0);
	assert_true(parent_ha_line(buf, sizeof(buf), &s, &d) > 0);
	assert_non_null(strstr(buf, "PROXY TCP6 2001:db8::1 ::1 "));
	assert_int_equal(parent_ha_line(buf, 10, &s, &d), 0);
}

/* ---- connect-back (F-SVC-05) -------------------------------------------------------- */

static void test_connback_parse(void **state)
{
	char host[64];
	uint16_t port = 0;

	(void)state;
	assert_int_equal(connback_parse("host.example.org:1234", host,
					sizeof(host), &port), 0);
	assert_string_equal(host, "host.example.org");
	assert_int_equal(port, 1234);
	assert_int_equal(connback_parse("[::1]:80", host, sizeof(host), &port),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(connback_parse("0.0.0.0:65535", host, sizeof(host),
					&port), 0);
	assert_int_equal(connback_parse("host", host, sizeof(host), &port), -1);
	assert_int_equal(connback_parse("host:", host, sizeof(host), &port),
			 -1);
	assert_int_equal(connback_parse(":80", host, sizeof(host), &port), -1);
	assert_int_equal(connback_parse("h:0", host, sizeof(host), &port), -1);
	assert_int_equal(connback_parse("h:65536", host, sizeof(host), &port),
			 -1);
	assert_int_equal(connback_parse("h:8x", host, sizeof(host), &port), -1);
	assert_int_equal(connback_parse("[::1]80", host, sizeof(host), &port),
			 -1);
	assert_int_equal(connback_parse("[::1", host, sizeof(host), &port), -1);
	assert_int_equal(connback_parse("averyveryverylonghostname:1", host, 8,
					&port), -1);
	assert_int_equal(connback_parse(NULL, host, sizeof(host), &port), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_weights_check),
		cmocka_unit_test(test_pick_exact),
		cmocka_unit_test(test_pick_partial_group),
		cmocka_unit_test(test_pick_distribution),
		cmocka_unit_test(test_random_source),
		cmocka_unit_test(test_conf_chain),
		cmocka_unit_test(test_conf_snapshots),
		cmocka_unit_test(test_conf_redirect),
		cmocka_unit_test(test_conf_local),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_connect_request),
		cmocka_unit_test(test_connect_status),
		cmocka_unit_test(test_socks4),
		cmocka_unit_test(test_socks5_negotiation),
		cmocka_unit_test(test_socks5_request),
		cmocka_unit_test(test_socks5_reply),
		cmocka_unit_test(test_socks5_udp_associate),
		cmocka_unit_test(test_ha_line),
		cmocka_unit_test(test_connback_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
