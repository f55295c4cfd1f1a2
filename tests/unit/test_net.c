/*
 * test_net.c - addresses, socket options, listening and connecting.
 *
 * Network tests use loopback only and no DNS server (a resolver that
 * cannot be reached would make them slow).  IPv6 tests skip themselves
 * where the host has no ::1 (some containers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "net.h"
#include "sockio.h"

static const char *str(const struct net_addr *a)
{
	static char buf[128];

	return net_addr_str(a, buf, sizeof(buf));
}

static void roundtrip(const char *in, int family, const char *want)
{
	struct net_addr a;

	assert_int_equal(net_parse_ip(in, &a), 0);
	assert_int_equal(net_family(&a), family);
	assert_int_equal(net_get_port(&a), 0);
	assert_string_equal(str(&a), want);
}

/* ---- parsing ---------------------------------------------------------- */

static void test_parse_ipv4(void **state)
{
	struct net_addr a;

	roundtrip("127.0.0.1", AF_INET, "127.0.0.1");
	roundtrip("0.0.0.0", AF_INET, "0.0.0.0");
	roundtrip("255.255.255.255", AF_INET, "255.255.255.255");
	assert_int_equal(net_parse_ip("10.1.2.3", &a), 0);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
}

static void test_parse_ipv6(void **state)
{
	struct net_addr a;

	roundtrip("::1", AF_INET6, "::1");
	roundtrip("::", AF_INET6, "::");
	roundtrip("2001:0db8:0000:0000::0001", AF_INET6, "2001:db8::1");
	roundtrip("::ffff:1.2.3.4", AF_INET6, "::ffff:1.2.3.4");
	roundtrip("fe80::c084:56e5:594:e0b2", AF_INET6,
		  "fe80::c084:56e5:594:e0b2");
	assert_int_equal(net_parse_ip("2001:db8::5", &a), 0);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		":c084:56e5:0594:e0b2", "1.2.3", "[::1]", "", "256.1.1.1",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.4:80", "localhost",
		"::1::2", "1.2.3.4.5", "unix:/tmp/x", NULL
	};
	struct net_addr a;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		/* A failed parse must leave the old value alone: "internal
		 * [::]" keeps the previous address. */
		assert_int_equal(net_parse_ip("192.0.2.7", &a), 0);
		if (net_parse_ip(bad[i], &a) != -1)
			fail_msg("accepted bad address \"%s\"", bad[i]);
		assert_string_equal(str(&a), "192.0.2.7");
	}
	assert_int_equal(net_parse_ip(NULL, &a), -1);
}

static void test_parse_unix(void **state)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	char longpath[300];
	struct net_addr a;

	assert_int_equal(net_parse_unix("unix:/tmp/px/x.sock", &a), 0);
	assert_int_equal(net_family(&a), AF_UNIX);
	assert_int_equal(a.len, off + strlen("/tmp/px/x.sock") + 1);
	assert_string_equal(str(&a), "x.sock");
	assert_int_equal(net_parse_unix("unix:rel.sock", &a), 0);
	assert_string_equal(str(&a), "rel.sock");
#ifdef __linux__
	assert_int_equal(net_parse_unix("unix:@abs", &a), 0);
	assert_int_equal(a.len, off + 4);
	assert_int_equal(((struct sockaddr_un *)&a.ss)->sun_path[0], 0);
	assert_memory_equal(((struct sockaddr_un *)&a.ss)->sun_path + 1,
			    "abs", 3);
	assert_string_equal(str(&a), "@abs");
#endif
	assert_int_equal(net_parse_unix("/tmp/x", &a), -1);
	assert_int_equal(net_parse_unix("1.2.3.4", &a), -1);
	assert_int_equal(net_parse_unix("UNIX:/tmp/x", &a), -1);
	assert_int_equal(net_parse_unix(NULL, &a), -1);
	assert_int_equal(net_parse_unix("unix:", &a), -2);
	assert_int_equal(net_parse_unix("unix:@", &a), -2);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	memcpy(longpath, "unix:/", 6);
	assert_int_equal(net_parse_unix(longpath, &a), -2);
	/* Unix addresses carry no port. */
	assert_int_equal(net_parse_unix("unix:/tmp/y", &a), 0);
	net_set_port(&a, 80);
	assert_int_equal(net_get_port(&a), 0);
	assert_int_equal(net_is_any(&a), 0);
}

static void test_ports(void **state)
{
	struct net_addr a;

	assert_int_equal(net_parse_ip("1.2.3.4", &a), 0);
	net_set_port(&a, 8080);
	assert_int_equal(net_get_port(&a), 8080);
	assert_int_equal(((struct sockaddr_in *)&a.ss)->sin_port, htons(8080));
	net_set_port(&a, 65535);
	assert_int_equal(net_get_port(&a), 65535);
	assert_string_equal(str(&a), "1.2.3.4");
	assert_int_equal(net_parse_ip("2001:db8::1", &a), 0);
	net_set_port(&a, 3128);
	assert_int_equal(net_get_port(&a), 3128);
	assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_port,
			 htons(3128));
	assert_string_equal(str(&a), "2001:db8::1");
}

static void test_is_any(void **state)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(net_family(&a), AF_UNSPEC);
	assert_true(net_is_any(&a));
	assert_string_equal(str(&a), "");
	assert_int_equal(net_parse_ip("0.0.0.0", &a), 0);
	assert_true(net_is_any(&a));
	assert_int_equal(net_parse_ip("::", &a), 0);
	assert_true(net_is_any(&a));
	assert_int_equal(net_parse_ip("127.0.0.1", &a), 0);
	assert_false(net_is_any(&a));
	assert_int_equal(net_parse_ip("::1", &a), 0);
	assert_false(net_is_any(&a));
}

static void test_addr_str_small_buffer(void **state)
{
	struct net_addr a;
	char buf[8];

	assert_int_equal(net_parse_ip("2001:db8::1", &a), 0);
	memset(buf, 'x', sizeof(buf));
	net_addr_str(&a, buf, sizeof(buf));
	assert_non_null(memchr(buf, '\0', sizeof(buf)));
	assert_int_equal(net_parse_unix("unix:/tmp/a-long-name.sock", &a), 0);
	memset(buf, 'x', sizeof(buf));
	net_addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "a-long-");
	/* A zero-length buffer is left untouched. */
	buf[0] = 'x';
	net_addr_str(&a, buf, 0);
	assert_int_equal(buf[0], 'x');
}

static void test_from_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct net_addr a;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0x0a000001);
	net_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin));
	assert_string_equal(str(&a), "10.0.0.1");
	assert_int_equal(net_get_port(&a), 25);
	net_from_sockaddr(&a, (struct sockaddr *)&sin,
			  sizeof(struct sockaddr_storage) + 1);
	assert_int_equal(a.len, 0);
	net_from_sockaddr(&a, NULL, sizeof(sin));
	assert_int_equal(a.len, 0);
}

static void test_is_hostname(void **state)
{
	char name[300];

	assert_true(net_is_hostname("example.com"));
	assert_true(net_is_hostname("a-b_c.D9"));
	/* All digits and dots is a mistyped address, not a name. */
	assert_false(net_is_hostname("1.2.3.4"));
	assert_false(net_is_hostname("300.1.1.1"));
	assert_true(net_is_hostname("1.2.3.example"));
	assert_false(net_is_hostname(""));
	assert_false(net_is_hostname(NULL));
	assert_false(net_is_hostname("a b"));
	assert_false(net_is_hostname("a:b"));
	assert_false(net_is_hostname("[::1]"));
	assert_false(net_is_hostname("x/y"));
	assert_false(net_is_hostname("caf\xc3\xa9"));
	memset(name, 'a', sizeof(name));
	name[253] = '\0';
	assert_true(net_is_hostname(name));
	name[253] = 'a';
	name[254] = '\0';
	assert_false(net_is_hostname(name));
}

static void test_resolve(void **state)
{
	struct net_addr a;

	assert_int_equal(net_resolve("127.0.0.1", NET_PREF_4, &a), 0);
	assert_string_equal(str(&a), "127.0.0.1");
	assert_int_equal(net_get_port(&a), 0);
	assert_int_equal(net_resolve("127.0.0.1", NET_PREF_6, &a), -1);
	assert_int_equal(net_resolve("::1", NET_PREF_4, &a), -1);
	assert_int_equal(net_resolve("::1", NET_PREF_6, &a), 0);
	assert_string_equal(str(&a), "::1");
	/* Preferences fall back to the other family. */
	assert_int_equal(net_resolve("::1", NET_PREF_46, &a), 0);
	assert_int_equal(net_family(&a), AF_INET6);
	assert_int_equal(net_resolve("127.0.0.1", NET_PREF_64, &a), 0);
	assert_int_equal(net_family(&a), AF_INET);
	assert_int_equal(net_resolve("localhost", NET_PREF_4, &a), 0);
	assert_int_equal(net_family(&a), AF_INET);
	assert_int_equal(net_resolve("", NET_PREF_46, &a), -1);
	assert_int_equal(net_resolve(NULL, NET_PREF_46, &a), -1);
}

/* ---- socket options ---------------------------------------------------- */

static void test_sockopts_parse(void **state)
{
	const char *const *names = net_sockopt_names();
	unsigned all = 0;
	int i;

	assert_int_equal(net_sockopts_parse("TCP_NODELAY,SO_KEEPALIVE"),
			 NET_OPT_TCP_NODELAY | NET_OPT_SO_KEEPALIVE);
	/* Any separator works, and unknown names are ignored. */
	assert_int_equal(net_sockopts_parse("xSO_KEEPALIVE;;TCP_NODELAYy"),
			 NET_OPT_TCP_NODELAY | NET_OPT_SO_KEEPALIVE);
	assert_int_equal(net_sockopts_parse("TCP_NODELAY,NO_SUCH_OPTION"),
			 NET_OPT_TCP_NODELAY);
	assert_int_equal(net_sockopts_parse("NO_SUCH_OPTION"), 0);
	assert_int_equal(net_sockopts_parse("tcp_nodelay"), 0);
	assert_int_equal(net_sockopts_parse(""), 0);
	assert_int_equal(net_sockopts_parse(NULL), 0);
#if defined(TCP_FASTOPEN) && defined(TCP_FASTOPEN_CONNECT)
	/* Substring matching: the longer name contains the shorter. */
	assert_int_equal(net_sockopts_parse("TCP_FASTOPEN_CONNECT"),
			 NET_OPT_TCP_FASTOPEN | NET_OPT_TCP_FASTOPEN_CONNECT);
#endif
#ifdef __linux__
	assert_int_equal(net_sockopts_parse("SO_REUSEPORT TCP_MAXSEG"),
			 NET_OPT_SO_REUSEPORT | NET_OPT_TCP_MAXSEG);
	/* Not defined on Linux, so not known there. */
	assert_int_equal(net_sockopts_parse("SO_EXCLUSIVEADDRUSE"), 0);
#endif
	assert_non_null(names);
	assert_non_null(names[0]);
	for (i = 0; names[i] != NULL; i++) {
		unsigned bit = net_sockopts_parse(names[i]);

		if (bit == 0)
			fail_msg("listed option %s is not parsed", names[i]);
		all |= bit;
	}
	assert_true(all & NET_OPT_TCP_NODELAY);
	assert_true(all & NET_OPT_SO_KEEPALIVE);
#if defined(__linux__) && defined(TCP_FASTOPEN_CONNECT)
	{
		/* The usage text of a Linux build lists exactly these. */
		char joined[512] = "";
		size_t n = 0;

		for (i = 0; names[i] != NULL && n < sizeof(joined); i++)
			n += (size_t)snprintf(joined + n, sizeof(joined) - n,
					      "%s%s", i ? " " : "", names[i]);
		assert_string_equal(joined, "TCP_NODELAY TCP_CORK "
			"TCP_DEFER_ACCEPT TCP_QUICKACK SO_REUSEADDR "
			"SO_REUSEPORT SO_KEEPALIVE SO_DONTROUTE IP_TRANSPARENT "
			"TCP_FASTOPEN TCP_FASTOPEN_CONNECT TCP_MAXSEG");
	}
#endif
}

static int get_int_opt(int s, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(s, level, opt, &v, &len), 0);
	return v;
}

static void test_sockopts_apply(void **state)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
	net_sockopts_apply(s, NET_OPT_TCP_NODELAY | NET_OPT_SO_KEEPALIVE, 0);
	assert_int_not_equal(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_int_not_equal(get_int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(get_int_opt(s, SOL_SOCKET, SO_DONTROUTE), 0);
#ifdef __linux__
	/* TCP_MAXSEG takes the maxseg value, and is skipped when it is 0. */
	net_sockopts_apply(s, NET_OPT_TCP_MAXSEG, 0);
	assert_int_not_equal(get_int_opt(s, IPPROTO_TCP, TCP_MAXSEG), 1000);
	net_sockopts_apply(s, NET_OPT_TCP_MAXSEG, 1000);
	assert_int_equal(get_int_opt(s, IPPROTO_TCP, TCP_MAXSEG), 1000);
#endif
	close(s);
}

/* ---- listening and connecting ------------------------------------------ */

static int is_blocking(int s)
{
	int fl = fcntl(s, F_GETFL);

	assert_true(fl >= 0);
	return (fl & O_NONBLOCK) == 0;
}

static void local_addr(int s, struct net_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(s, (struct sockaddr *)&ss, &len), 0);
	net_from_sockaddr(a, (struct sockaddr *)&ss, len);
}

/* Listen on `ip` port 0; returns the socket (or -1 with *err) and the
 * bound address with its port. */
static int listen_any_port(const char *ip, int type, struct net_addr *bound,
			   int *err)
{
	struct net_addr a;
	const char *what = "unset";
	int s;

	assert_int_equal(net_parse_ip(ip, &a), 0);
	s = net_listen(&a, type, 8, 0, 0, err, &what);
	if (s < 0)
		return -1;
	assert_null(what);
	assert_int_equal(*err, 0);
	local_addr(s, bound);
	assert_int_not_equal(net_get_port(bound), 0);
	return s;
}

/* Connect to the listener, accept, and pass one byte each way. */
static void check_pair(int ls, const struct net_addr *to,
		       const struct net_addr *src)
{
	int err = -1, c, a;
	char ch = 0;

	c = net_connect(to, src, 2000, 0, 0, &err);
	if (c < 0)
		fail_msg("connect: %s", strerror(err));
	assert_int_equal(err, 0);
#ifdef SOCKIO_NEVER_BLOCKS
	/* left non-blocking: every sockio call works in that mode */
	assert_false(is_blocking(c));
	assert_int_equal(fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK),
			 0);
#else
	assert_true(is_blocking(c));
#endif
	if (net_family(to) != AF_UNIX)
		assert_int_not_equal(
			get_int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
	a = accept(ls, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(write(c, "x", 1), 1);
	assert_int_equal(read(a, &ch, 1), 1);
	assert_int_equal(ch, 'x');
	assert_int_equal(write(a, "y", 1), 1);
	assert_int_equal(read(c, &ch, 1), 1);
	assert_int_equal(ch, 'y');
	close(a);
	close(c);
}

static void test_listen_connect_v4(void **state)
{
	struct net_addr bound;
	int err, ls;

	ls = listen_any_port("127.0.0.1", SOCK_STREAM, &bound, &err);
	if (ls < 0)
		fail_msg("listen: %s", strerror(err));
	/* The caller polls the listener, so it stays blocking. */
	assert_true(is_blocking(ls));
	assert_int_not_equal(get_int_opt(ls, SOL_SOCKET, SO_REUSEADDR), 0);
	assert_int_not_equal(get_int_opt(ls, SOL_SOCKET, SO_ACCEPTCONN), 0);
	assert_string_equal(str(&bound), "127.0.0.1");
	check_pair(ls, &bound, NULL);
	close(ls);
}

static void test_listen_connect_v6(void **state)
{
	struct net_addr bound;
	int err, ls;

	ls = listen_any_port("::1", SOCK_STREAM, &bound, &err);
	if (ls < 0) {
		/* No IPv6 loopback on this host. */
		if (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)
			skip();
		fail_msg("listen: %s", strerror(err));
	}
	assert_string_equal(str(&bound), "::1");
	check_pair(ls, &bound, NULL);
	close(ls);
}

static void test_connect_source(void **state)
{
	struct net_addr bound, src, peer;
	int err = -1, ls, c, a;

	ls = listen_any_port("127.0.0.1", SOCK_STREAM, &bound, &err);
	assert_true(ls >= 0);
	/* An IPv6 source is for IPv6 targets only and must be ignored. */
	assert_int_equal(net_parse_ip("2001:db8::5", &src), 0);
	check_pair(ls, &bound, &src);
	/* "Any" with port 0 binds nothing. */
	assert_int_equal(net_parse_ip("0.0.0.0", &src), 0);
	check_pair(ls, &bound, &src);
	assert_int_equal(net_parse_ip("127.0.0.1", &src), 0);
	c = net_connect(&bound, &src, 2000, NET_OPT_SO_KEEPALIVE, 0, &err);
	assert_true(c >= 0);
	assert_int_not_equal(get_int_opt(c, SOL_SOCKET, SO_KEEPALIVE), 0);
	local_addr(c, &peer);
	assert_string_equal(str(&peer), "127.0.0.1");
	close(c);
	a = accept(ls, NULL, NULL);
	assert_true(a >= 0);
	close(a);
#ifdef __linux__
	/* Linux answers on all of 127/8, which shows the bind happened. */
	assert_int_equal(net_parse_ip("127.0.0.2", &src), 0);
	c = net_connect(&bound, &src, 2000, 0, 0, &err);
	assert_true(c >= 0);
	local_addr(c, &peer);
	assert_string_equal(str(&peer), "127.0.0.2");
	close(c);
#endif
	close(ls);
}

static void test_connect_refused(void **state)
{
	struct net_addr bound;
	uint64_t t0;
	int err = 0, ls, c;

	/* Take a free port, then close it: nothing listens there now. */
	ls = listen_any_port("127.0.0.1", SOCK_STREAM, &bound, &err);
	assert_true(ls >= 0);
	close(ls);
	t0 = os_monotonic_ms();
	c = net_connect(&bound, NULL, 3000, 0, 0, &err);
	assert_int_equal(c, OS_BADSOCK);
	assert_int_equal(err, ECONNREFUSED);
	assert_true(os_monotonic_ms() - t0 < 2500);
}

static void test_connect_timeout(void **state)
{
#ifdef __linux__
	struct net_addr bound;
	int err = 0, ls, c[8], n, i, timed_out = 0;

	/* A listener that never accepts, with the smallest backlog: once
	 * its queue is full Linux drops further SYNs, so the next connect
	 * can only end by timing out. */
	ls = listen_any_port("127.0.0.1", SOCK_STREAM, &bound, &err);
	assert_true(ls >= 0);
	assert_int_equal(listen(ls, 0), 0);
	for (n = 0; n < 8; n++) {
		uint64_t t0 = os_monotonic_ms(), dt;

		c[n] = net_connect(&bound, NULL, 300, 0, 0, &err);
		dt = os_monotonic_ms() - t0;
		if (c[n] >= 0)
			continue;
		assert_int_equal(err, ETIMEDOUT);
		assert_in_range(dt, 250, 2000);
		timed_out = 1;
		break;
	}
	for (i = 0; i < n; i++)
		close(c[i]);
	close(ls);
	assert_true(timed_out);
#else
	skip();
#endif
}

static void test_listen_errors(void **state)
{
	struct net_addr a;
	const char *what = NULL;
	int err = 0, s;

	/* An address that is not ours. */
	assert_int_equal(net_parse_ip("192.0.2.1", &a), 0);
	net_set_port(&a, 1);
	s = net_listen(&a, SOCK_STREAM, 8, 0, 0, &err, &what);
	assert_int_equal(s, OS_BADSOCK);
	assert_string_equal(what, "bind");
	assert_int_equal(err, EADDRNOTAVAIL);
	/* An unset address has no family to make a socket of. */
	memset(&a, 0, sizeof(a));
	s = net_listen(&a, SOCK_STREAM, 8, 0, 0, &err, &what);
	assert_int_equal(s, OS_BADSOCK);
	assert_string_equal(what, "socket");
	assert_int_not_equal(err, 0);
	/* err and what may be left out. */
	s = net_listen(&a, SOCK_STREAM, 8, 0, 0, NULL, NULL);
	assert_int_equal(s, OS_BADSOCK);
}

static void test_listen_udp(void **state)
{
	struct net_addr bound;
	int err, s;

	s = listen_any_port("127.0.0.1", SOCK_DGRAM, &bound, &err);
	assert_true(s >= 0);
	assert_int_equal(get_int_opt(s, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	close(s);
}

static void test_listen_unix(void **state)
{
	char spec[128], path[100];
	struct net_addr a, got;
	const char *what;
	int err, ls, fd;

	snprintf(path, sizeof(path), "/tmp/px-test-net-%ld.sock",
		 (long)getpid());
	snprintf(spec, sizeof(spec), "unix:%s", path);
	/* A stale file at the path is removed before bind. */
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(net_parse_unix(spec, &a), 0);
	ls = net_listen(&a, SOCK_STREAM, 8, NET_OPT_TCP_NODELAY, 0, &err,
			&what);
	if (ls < 0)
		fail_msg("%s: %s", what, strerror(err));
	assert_true(is_blocking(ls));
	local_addr(ls, &got);
	assert_int_equal(net_family(&got), AF_UNIX);
	assert_string_equal(str(&got), strrchr(path, '/') + 1);
	check_pair(ls, &a, NULL);
	close(ls);
	unlink(path);
}

static void test_listen_unix_abstract(void **state)
{
#ifdef __linux__
	char spec[128];
	struct net_addr a, got;
	const char *what;
	int err, ls;

	snprintf(spec, sizeof(spec), "unix:@px-test-net-%ld", (long)getpid());
	assert_int_equal(net_parse_unix(spec, &a), 0);
	ls = net_listen(&a, SOCK_STREAM, 8, 0, 0, &err, &what);
	if (ls < 0)
		fail_msg("%s: %s", what, strerror(err));
	local_addr(ls, &got);
	assert_string_equal(str(&got), spec + 5);
	check_pair(ls, &a, NULL);
	close(ls);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_unix),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_is_any),
		cmocka_unit_test(test_addr_str_small_buffer),
		cmocka_unit_test(test_from_sockaddr),
		cmocka_unit_test(test_is_hostname),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_sockopts_parse),
		cmocka_unit_test(test_sockopts_apply),
		cmocka_unit_test(test_listen_connect_v4),
		cmocka_unit_test(test_listen_connect_v6),
		cmocka_unit_test(test_connect_source),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_listen_udp),
		cmocka_unit_test(test_listen_unix),
		cmocka_unit_test(test_listen_unix_abstract),
	};

	os_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
