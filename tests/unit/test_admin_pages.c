/*
 * Unit tests for admin_pages.c (the admin service's page builders) and
 * counter_foreach (the read-only counter listing it renders): HTML
 * escaping, the buffer ceiling, limit / value / time columns, counter
 * rows with hostile comments, exact Content-Length of responses, and
 * the listing in config order with values and exclusions, the Active
 * switch links and counter_set_enabled (/CDn /CSn), XML escaping and the
 * running services document (/S), and the decoding of the /U form.
 * F-SVC-02 F-SVC-03 F-LIM-05 F-CFG-08
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_pages.h"
#include "conf.h"
#include "counter.h"

static void test_escape(void **state)
{
	struct admin_buf b;
	const char in[] = "a<b>&\"c'd\0e";

	(void)state;
	admin_buf_init(&b, 1024);
	assert_int_equal(admin_html_escape(&b, in, sizeof(in) - 1), 0);
	assert_int_equal(b.n, strlen("a&lt;b&gt;&amp;&quot;c&#39;d") + 2);
	assert_memory_equal(b.p, "a&lt;b&gt;&amp;&quot;c&#39;d\0e", b.n);
	admin_buf_free(&b);

	admin_buf_init(&b, 1024);
	assert_int_equal(admin_html_escape(&b, "plain", 5), 0);
	assert_string_equal(b.p, "plain");
	assert_int_equal(admin_html_escape(&b, "", 0), 0);
	assert_string_equal(b.p, "plain");
	admin_buf_free(&b);
}

static void test_ceiling(void **state)
{
	struct admin_buf b;

	(void)state;
	admin_buf_init(&b, 10);
	assert_int_equal(admin_buf_str(&b, "0123456789"), 0);
	assert_int_equal(b.n, 10);
	assert_int_equal(admin_buf_str(&b, "x"), -1);
	assert_true(b.failed);
	/* once failed, nothing more is appended */
	assert_int_equal(admin_buf_add(&b, "", 0), -1);
	assert_int_equal(b.n, 10);
	admin_buf_free(&b);

	/* escaping can grow a value past the ceiling */
	admin_buf_init(&b, 8);
	assert_int_equal(admin_html_escape(&b, "<<<", 3), -1);
	assert_int_equal(b.n, 8);
	assert_true(b.failed);
	admin_buf_free(&b);

	admin_buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(admin_buf_printf(&b, "%04d,", i % 10000), 0);
	assert_int_equal(b.n, 25000);
	assert_memory_equal(b.p + 24995, "4999,", 5);
	admin_buf_free(&b);
}

static void test_columns(void **state)
{
	char s[64];

	(void)state;
	admin_limit_text(s, sizeof(s), 100ull << 20, 'D');
	assert_string_equal(s, "100 MB/day");
	admin_limit_text(s, sizeof(s), 5ull << 20, 'N');
	assert_string_equal(s, "5 MB");
	admin_limit_text(s, sizeof(s), 1ull << 20, 'C');
	assert_string_equal(s, "1 MB/min");
	admin_mb_text(s, sizeof(s), 0);
	assert_string_equal(s, "0.0");
	admin_mb_text(s, sizeof(s), 3ull << 20);
	assert_string_equal(s, "3.0");
	admin_mb_text(s, sizeof(s), (1ull << 20) + (1ull << 19));
	assert_string_equal(s, "1.5");
	admin_mb_text(s, sizeof(s), (1ull << 20) - 1);
	assert_string_equal(s, "0.9");
	admin_mb_text(s, sizeof(s), UINT64_MAX);
	assert_string_equal(s, "17592186044415.9");
	admin_time_text(s, sizeof(s), 0);
	assert_string_equal(s, "never");
	admin_time_text(s, sizeof(s), 1700000000);
	assert_int_equal(strlen(s), 19);
	assert_int_equal(s[4], '-');
}

static void test_counter_row(void **state)
{
	struct admin_buf b;
	struct counter_info ci;

	(void)state;
	memset(&ci, 0, sizeof(ci));
	ci.position = 2;
	ci.action = "countin";
	ci.number = 7;
	ci.comment = "<script>alert('x')</script>";
	ci.type = 'M';
	ci.limit = 10ull << 20;
	ci.bytes = 5ull << 19;
	admin_buf_init(&b, 4096);
	admin_counter_row(&b, &ci, 0);
	assert_false(b.failed);
	assert_null(strstr(b.p, "<script>"));
	assert_non_null(strstr(b.p, "<td>7/&lt;script&gt;alert(&#39;x&#39;)"
				    "&lt;/script&gt;</td>"));
	assert_non_null(strstr(b.p, "<td>YES</td><td>10 MB/month</td>"
				    "<td>2.5</td><td>never</td><td>never</td>"
				    "<td>2</td></tr>"));
	admin_buf_free(&b);

	ci.exclusion = 1;
	ci.action = "nocountall";
	ci.comment = NULL;
	admin_buf_init(&b, 4096);
	admin_counter_row(&b, &ci, 0);
	assert_string_equal(b.p, "<tr><td>nocountall</td><td>7</td><td>YES"
			    "</td><td></td><td></td><td></td><td></td>"
			    "<td>2</td></tr>\n");
	admin_buf_free(&b);

	/* with links: YES switches off (/CD), NO switches on (/CS) */
	admin_buf_init(&b, 4096);
	admin_counter_row(&b, &ci, 1);
	assert_non_null(strstr(b.p, "<td><a href=\"/CD2\">YES</a></td>"));
	admin_buf_free(&b);
	ci.disabled = 1;
	admin_buf_init(&b, 4096);
	admin_counter_row(&b, &ci, 1);
	assert_non_null(strstr(b.p, "<td><a href=\"/CS2\">NO</a></td>"));
	admin_buf_free(&b);
	admin_buf_init(&b, 4096);
	admin_counter_row(&b, &ci, 0);
	assert_non_null(strstr(b.p, "<td>NO</td>"));
	assert_null(strstr(b.p, "href"));
	admin_buf_free(&b);
}

static void test_xml_escape(void **state)
{
	struct admin_buf b;
	const char in[] = "a<b>&\"c'd\x01\te\x1f\r\n\xc3\xa9";

	(void)state;
	admin_buf_init(&b, 1024);
	assert_int_equal(admin_xml_escape(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(b.p, "a&lt;b&gt;&amp;&quot;c&apos;d?\te?\r\n"
			    "\xc3\xa9");
	admin_buf_free(&b);
	/* a NUL byte cannot appear in XML either */
	admin_buf_init(&b, 1024);
	assert_int_equal(admin_xml_escape(&b, "x\0y", 3), 0);
	assert_string_equal(b.p, "x?y");
	admin_buf_free(&b);
	admin_buf_init(&b, 5);
	assert_int_equal(admin_xml_escape(&b, "<<", 2), -1);
	assert_true(b.failed);
	admin_buf_free(&b);
}

static void test_services_xml(void **state)
{
	struct admin_buf b, cl;
	struct admin_svc_info si;
	struct admin_client_info ci;

	(void)state;
	admin_buf_init(&b, 1 << 16);
	admin_buf_init(&cl, 1 << 16);
	ci.peer = "127.0.0.1:5000";
	ci.user = "b<o>b";
	ci.target = "ex&ample.org:80";
	admin_client_xml(&cl, &ci);
	ci.peer = "[::1]:6000";
	ci.user = NULL;
	ci.target = NULL;
	admin_client_xml(&cl, &ci);
	memset(&si, 0, sizeof(si));
	si.name = "TCPPM";
	si.command = "tcppm";
	si.listen = "127.0.0.1:1234";
	si.where = "a'b.cfg:3";
	si.maxconn = 100;
	si.nclients = 2;
	admin_services_begin(&b);
	admin_service_xml(&b, &si, &cl);
	admin_services_end(&b);
	assert_false(b.failed);
	assert_true(strncmp(b.p, "<?xml version=\"1.0\"", 19) == 0);
	assert_non_null(strstr(b.p, "<?xml-stylesheet href=\"/SX\" "
				    "type=\"text/css\"?>"));
	assert_non_null(strstr(b.p, "<service><name>TCPPM</name><command>"
		"tcppm</command><listen>127.0.0.1:1234</listen><where>"
		"a&apos;b.cfg:3</where><maxconn>100</maxconn><nclients>2"
		"</nclients>"));
	assert_non_null(strstr(b.p, "<client><peer>127.0.0.1:5000</peer>"
		"<user>b&lt;o&gt;b</user><target>ex&amp;ample.org:80"
		"</target></client>"));
	assert_non_null(strstr(b.p, "<client><peer>[::1]:6000</peer><user>"
		"</user><target></target></client>"));
	assert_non_null(strstr(b.p, "</clients></service>\n</services>\n"));
	admin_buf_free(&b);

	/* a client list that overflowed fails the document */
	cl.failed = 1;
	admin_buf_init(&b, 1 << 16);
	admin_service_xml(&b, &si, &cl);
	assert_true(b.failed);
	admin_buf_free(&b);
	admin_buf_free(&cl);
	assert_non_null(strstr(admin_services_css(), "services"));
}

static void test_form_field(void **state)
{
	const char body[] = "a=1&conffile=log+x%0Aport%3d%25%c3%A9&z=";
	char *out = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(admin_form_field(body, strlen(body), "conffile",
					  &out, &n), 0);
	assert_int_equal(n, strlen("log x\nport=%\xc3\xa9"));
	assert_string_equal(out, "log x\nport=%\xc3\xa9");
	free(out);
	/* an empty value, a field at the end; a NUL in a config is refused */
	assert_int_equal(admin_form_field(body, strlen(body), "z", &out, &n),
			 0);
	assert_int_equal(n, 0);
	free(out);
	assert_int_equal(admin_form_field("conffile=a%00b", 14, "conffile",
					  &out, &n), -2);
	assert_null(out);
	/* a name is matched whole, not as a prefix or suffix */
	assert_int_equal(admin_form_field("xconffile=1&conffile2=2", 23,
					  "conffile", &out, &n), -1);
	assert_int_equal(admin_form_field("conffile", 8, "conffile", &out,
					  &n), -1);
	assert_int_equal(admin_form_field("", 0, "conffile", &out, &n), -1);
	assert_int_equal(admin_form_field(NULL, 0, "conffile", &out, &n), -1);
	/* bad escapes; the length given bounds the scan */
	assert_int_equal(admin_form_field("conffile=%4", 11, "conffile", &out,
					  &n), -2);
	assert_int_equal(admin_form_field("conffile=%zz", 12, "conffile",
					  &out, &n), -2);
	assert_int_equal(admin_form_field("conffile=%41", 11, "conffile",
					  &out, &n), -2);
}

struct seen {
	int n;
	struct counter_info ci[4];
	char comment[4][32];
};

static int visit(void *arg, const struct counter_info *ci)
{
	struct seen *s = arg;

	if (s->n == 4)
		return 1;
	s->ci[s->n] = *ci;
	snprintf(s->comment[s->n], sizeof(s->comment[0]), "%s",
		 ci->comment ? ci->comment : "-");
	s->n++;
	return 0;
}

/* Load a config from text, quietly; the test owns the generation. */
static struct conf_gen *load_cfg(const char *cfg)
{
	char *msgs = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&msgs, &len);
	struct conf_gen *g;
	int nerr = 0;

	g = conf_load_mem(cfg, strlen(cfg), "t.cfg", CONF_RUN, diag, &nerr);
	fclose(diag);
	free(msgs);
	return g;
}

static void test_counter_foreach(void **state)
{
	const char cfg[] = "countin \"0/web <in>\" D 10 *\n"
			   "nocountout * * 10.0.0.1\n"
			   "countall 0 N 3 *\n";
	struct conf_gen *g;
	struct seen s;

	(void)state;
	g = load_cfg(cfg);
	assert_non_null(g);
	memset(&s, 0, sizeof(s));
	assert_int_equal(counter_foreach(g, visit, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.ci[0].action, "countin");
	assert_string_equal(s.comment[0], "web <in>");
	assert_int_equal(s.ci[0].type, 'D');
	assert_int_equal(s.ci[0].limit, 10ull << 20);
	assert_int_equal(s.ci[0].bytes, 0);
	assert_non_null(s.ci[0].rule);
	assert_string_equal(s.ci[1].action, "nocountout");
	assert_true(s.ci[1].exclusion);
	assert_string_equal(s.ci[2].action, "countall");
	assert_int_equal(s.ci[2].position, 2);
	/* a visitor can stop the walk */
	s.n = 4;
	assert_int_equal(counter_foreach(g, visit, &s), 1);
	assert_int_equal(counter_foreach(NULL, visit, &s), 0);
	conf_gen_unref(g);
	counter_cleanup();
}

static void test_counter_switch(void **state)
{
	const char cfg[] = "countin 0/a D 10 *\ncountout 0/b D 10 *\n";
	struct conf_gen *g;
	struct seen s;

	(void)state;
	g = load_cfg(cfg);
	assert_non_null(g);
	assert_int_equal(counter_set_enabled(g, 1, 0), 0);
	assert_int_equal(counter_set_enabled(g, 2, 0), -1);
	assert_int_equal(counter_set_enabled(NULL, 0, 0), -1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(counter_foreach(g, visit, &s), 0);
	assert_false(s.ci[0].disabled);
	assert_true(s.ci[1].disabled);
	assert_int_equal(counter_set_enabled(g, 1, 1), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(counter_foreach(g, visit, &s), 0);
	assert_false(s.ci[1].disabled);
	conf_gen_unref(g);
	counter_cleanup();
}

static void test_response(void **state)
{
	struct admin_buf body, out;
	const char *sep;

	(void)state;
	admin_buf_init(&body, 1 << 20);
	admin_message_page(&body, "Not <Found>", "x & y");
	assert_null(strstr(body.p, "<Found>"));
	assert_non_null(strstr(body.p, "<p>x &amp; y</p>"));
	admin_buf_init(&out, 1 << 20);
	assert_int_equal(admin_response(&out, 401, "Authentication Required",
		"text/html", "WWW-Authenticate: Basic realm=\"proxy\"\r\n",
		&body), 0);
	assert_true(strncmp(out.p, "HTTP/1.0 401 Authentication Required\r\n"
			    "Connection: close\r\n", 57) == 0);
	assert_non_null(strstr(out.p, "\r\nWWW-Authenticate: Basic "
				      "realm=\"proxy\"\r\n"));
	sep = strstr(out.p, "\r\n\r\n");
	assert_non_null(sep);
	assert_int_equal(out.n - (size_t)(sep + 4 - out.p), body.n);
	{
		char want[64];

		snprintf(want, sizeof(want), "Content-Length: %zu\r\n",
			 body.n);
		assert_non_null(strstr(out.p, want));
	}
	admin_buf_free(&out);

	/* a body that overflowed its ceiling is never sent half-built */
	body.failed = 1;
	admin_buf_init(&out, 1 << 20);
	assert_int_equal(admin_response(&out, 200, "OK", "text/html", NULL,
					&body), -1);
	admin_buf_free(&out);
	admin_buf_free(&body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_counter_row),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_counter_foreach),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_services_xml),
		cmocka_unit_test(test_form_field),
		cmocka_unit_test(test_counter_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
