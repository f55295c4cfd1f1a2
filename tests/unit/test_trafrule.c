/*
 * Unit tests for TrafficPlugin's `trafcorrect` rules: parsing, matching
 * (including the two reference quirks that are fixed) and the
 * corrections.  F-PLUG-04
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "trafrule.h"

/* Parse a rule line given as words; returns traf_parse's result. */
static int parse(struct traf_rule *r, int *unknown, const char **why, ...)
{
	char *argv[8];
	int argc = 0;
	va_list ap;

	va_start(ap, why);
	argv[argc++] = "trafcorrect";
	while (argc < 8 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return traf_parse(argc, argv, r, unknown, why);
}

static struct px_traffic traffic(const char *svc, int udp, unsigned port)
{
	struct px_traffic t;

	memset(&t, 0, sizeof(t));
	t.service = svc;
	t.udp = udp;
	t.target_port = port;
	t.in = 1000;
	t.out = 100;
	t.reads = 5;
	t.writes = 2;
	t.connects = 1;
	return t;
}

static void test_parse_multiply(void **state)
{
	struct traf_rule r;
	const char *why = NULL;
	int unk;

	(void)state;
	assert_int_equal(parse(&r, &unk, &why, "m", "socks5", "6667", "1.5",
			       NULL), 0);
	assert_int_equal(r.kind, TRAF_MULTIPLY);
	assert_string_equal(r.service, "SOCK5");
	assert_int_equal(r.port, 6667);
	assert_true(r.coeff == 1.5);
	assert_int_equal(unk, 0);
	assert_int_equal(parse(&r, &unk, &why, "m", "*", "*", "0.25", NULL),
			 0);
	assert_string_equal(r.service, "");
	assert_int_equal(r.port, 0);
	assert_int_equal(parse(&r, &unk, &why, "m", "socks45", "0", "2", NULL),
			 0);
	assert_string_equal(r.service, "SOC45");
}

static void test_parse_packet(void **state)
{
	struct traf_rule r;
	const char *why = NULL;
	int unk;

	(void)state;
	assert_int_equal(parse(&r, &unk, &why, "p", "proxy", "tcp", "80",
			       NULL), 0);
	assert_int_equal(r.kind, TRAF_PACKET);
	/* the reference inverted the service test for p rules */
	assert_string_equal(r.service, "PROXY");
	assert_int_equal(r.udp, 0);
	assert_int_equal(r.psize, 52);
	assert_int_equal(parse(&r, &unk, &why, "p", "udppm", "udp", "*",
			       NULL), 0);
	assert_int_equal(r.udp, 1);
	assert_int_equal(r.psize, 48);
	assert_int_equal(parse(&r, &unk, &why, "p", "*", "udp", "53", "60",
			       NULL), 0);
	assert_int_equal(r.psize, 60);
	assert_int_equal(r.port, 53);
}

static void test_parse_unknown_service_is_any(void **state)
{
	struct traf_rule r;
	const char *why = NULL;
	int unk;

	(void)state;
	assert_int_equal(parse(&r, &unk, &why, "m", "gopher", "*", "2", NULL),
			 0);
	assert_int_equal(unk, 1);
	assert_string_equal(r.service, "");
}

static void test_parse_errors(void **state)
{
	struct traf_rule r;
	const char *why;
	int unk;

	(void)state;
#define BAD(...) do { why = NULL; \
	assert_int_equal(parse(&r, &unk, &why, __VA_ARGS__, NULL), -1); \
	assert_non_null(why); } while (0)
	BAD("x", "*", "*", "2");
	BAD("m", "*", "*");
	BAD("m", "*", "*", "2", "3");
	BAD("m", "*", "*", "0");
	BAD("m", "*", "*", "100");
	BAD("m", "*", "*", "-1");
	BAD("m", "*", "*", "2x");
	BAD("m", "*", "*", "nan");
	BAD("m", "*", "65536", "2");
	BAD("m", "*", "-5", "2");
	BAD("m", "*", "8o", "2");
	BAD("p", "*", "icmp", "*");
	BAD("p", "*", "tcp");
	BAD("p", "*", "tcp", "*", "65536");
	BAD("p", "*", "tcp", "*", "1", "2");
	BAD("m");
#undef BAD
}

static void test_match(void **state)
{
	struct traf_rule r;
	const char *why;
	int unk;
	struct px_traffic t = traffic("PROXY", 0, 80);

	(void)state;
	parse(&r, &unk, &why, "m", "proxy", "80", "2", NULL);
	assert_true(traf_match(&r, &t));
	t.target_port = 443;
	assert_false(traf_match(&r, &t));
	t = traffic("SOCK5", 0, 80);
	assert_false(traf_match(&r, &t));
	/* m rules apply to datagrams too */
	t = traffic("PROXY", 1, 80);
	assert_true(traf_match(&r, &t));
	/* a TCP p rule is not taken for every connection (reference
	 * quirk): service, port and transport must all match */
	parse(&r, &unk, &why, "p", "socks5", "tcp", "25", NULL);
	t = traffic("PROXY", 0, 80);
	assert_false(traf_match(&r, &t));
	t = traffic("SOCK5", 1, 25);
	assert_false(traf_match(&r, &t));
	t = traffic("SOCK5", 0, 25);
	assert_true(traf_match(&r, &t));
}

static void test_apply(void **state)
{
	struct traf_set *s = calloc(1, sizeof(*s));
	const char *why;
	int unk;
	struct px_traffic t;

	(void)state;
	assert_non_null(s);
	parse(&s->rules[s->n++], &unk, &why, "m", "tcppm", "*", "0.5", NULL);
	parse(&s->rules[s->n++], &unk, &why, "p", "*", "udp", "*", NULL);
	parse(&s->rules[s->n++], &unk, &why, "p", "*", "tcp", "*", "10",
	      NULL);
	parse(&s->rules[s->n++], &unk, &why, "m", "*", "*", "3", NULL);

	t = traffic("TCPPM", 0, 80);
	assert_int_equal(traf_apply(s, &t), 0);
	assert_int_equal(t.in, 500);
	assert_int_equal(t.out, 50);

	t = traffic("UDPPM", 1, 53);   /* reads 5, writes 2, size 48 */
	assert_int_equal(traf_apply(s, &t), 1);
	assert_int_equal(t.in, 1000 + 5 * 48);
	assert_int_equal(t.out, 100 + 2 * 48);

	t = traffic("PROXY", 0, 80);   /* + 3 per connect, size 10 */
	assert_int_equal(traf_apply(s, &t), 2);
	assert_int_equal(t.in, 1000 + (5 + 3) * 10);
	assert_int_equal(t.out, 100 + (2 + 3) * 10);

	/* first match wins: the catch-all m rule is never reached */
	s->n = 1;
	t = traffic("PROXY", 0, 80);
	assert_int_equal(traf_apply(s, &t), -1);
	assert_int_equal(t.in, 1000);

	/* no overflow past the top */
	s->n = 0;
	parse(&s->rules[s->n++], &unk, &why, "m", "*", "*", "99", NULL);
	t = traffic("PROXY", 0, 80);
	t.in = UINT64_MAX / 2;
	traf_apply(s, &t);
	assert_true(t.in == UINT64_MAX);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_multiply),
		cmocka_unit_test(test_parse_packet),
		cmocka_unit_test(test_parse_unknown_service_is_any),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
