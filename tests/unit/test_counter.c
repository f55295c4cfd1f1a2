/*
 * Unit tests for counter.c: calendar periods and report names with the
 * time passed in, report lines, the count* and counter commands and
 * their errors, a quota crossed while traffic flows, the counter file
 * (3proxy's binary layout) written and read back across generations,
 * resets and reports at a dump, the in/out walks with exclusions and
 * the countall quirk, and --check not touching the file.
 * F-LIM-05 F-LIM-06 F-LIM-07 F-LIM-08 F-LIM-09
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "counter.h"
#include "errcode.h"
#include "limit.h"
#include "relay.h"

#define MiB 1048576ull

/* The file layout of limits.md 4.4 (native time_t). */
struct t_head {
	char sig[4];
	time_t updated;
};
struct t_rec {
	uint64_t bytes;
	time_t cleared;
	time_t updated;
};

/* ---- helpers ---------------------------------------------------------- */

static time_t
at(int y, int mon, int mday, int h, int m, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static struct conf_gen *
load_mode(const char *cfg, enum conf_mode mode, char **msgs)
{
	size_t len = 0;
	FILE *diag = open_memstream(msgs, &len);
	struct conf_gen *g;
	int nerr = 0;

	assert_non_null(diag);
	g = conf_load_mem(cfg, strlen(cfg), "t.cfg", mode, diag, &nerr);
	fclose(diag);
	return g;
}

static struct conf_gen *
load_ok(const char *cfg)
{
	char *msgs = NULL;
	struct conf_gen *g = load_mode(cfg, CONF_RUN, &msgs);

	if (g == NULL)
		fail_msg("config refused: %s", msgs ? msgs : "");
	free(msgs);
	return g;
}

static void
load_bad(const char *cfg, const char *want)
{
	char *msgs = NULL;
	struct conf_gen *g = load_mode(cfg, CONF_RUN, &msgs);

	assert_null(g);
	if (strstr(msgs, want) == NULL)
		fail_msg("wanted '%s' in '%s'", want, msgs);
	free(msgs);
}

static struct client *
mkclient(struct conf_gen *g, const char *ip)
{
	struct client *cl = calloc(1, sizeof(*cl));

	assert_non_null(cl);
	cl->gen = g;
	assert_int_equal(net_parse_ip(ip, &cl->cl_peer), 0);
	cl->req.command = OP_CONNECT;
	cl->req.port = 80;
	return cl;
}

static void
dropclient(struct client *cl)
{
	limit_client_release(cl);
	free(cl);
}

/* Bytes read by the relay: what the hook sees and what the stats say. */
static int
relay_read(struct client *cl, int dir, size_t n)
{
	if (dir == RELAY_S2C)
		cl->stats.bytes_from_server += n;
	else
		cl->stats.bytes_from_client += n;
	return counter_relay_charge(cl, dir, n);
}

/* An access record: charge what the hook did not, reset the stats
 * (what client_log does). */
static void
log_event(struct client *cl)
{
	counter_account(cl);
	memset(&cl->stats, 0, sizeof(cl->stats));
}

static char tmpdir[64];

static const char *
tmppath(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pxcntXXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	counter_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
read_rec(const char *path, int n, struct t_rec *out)
{
	size_t len = 0;
	char *buf = slurp(path, &len);
	size_t off = sizeof(struct t_head) + (size_t)(n - 1) * sizeof(*out);

	assert_non_null(buf);
	assert_memory_equal(buf, "3CF", 4);
	assert_true(len >= off + sizeof(*out));
	memcpy(out, buf + off, sizeof(*out));
	free(buf);
}

/* ---- calendar and reports -------------------------------------------------- */

static void
test_period_changed(void **state)
{
	time_t wed = at(2024, 1, 3, 23, 59, 30);   /* Wednesday */

	(void)state;
	assert_false(counter_period_changed('D', wed, wed + 20));
	assert_true(counter_period_changed('D', wed, wed + 60));
	assert_true(counter_period_changed('H', wed, wed + 60));
	assert_true(counter_period_changed('C', wed, wed + 31));
	assert_false(counter_period_changed('C', at(2024, 1, 3, 10, 5, 0),
					     at(2024, 1, 3, 10, 5, 59)));
	/* the same minute of another hour */
	assert_true(counter_period_changed('C', at(2024, 1, 3, 10, 5, 0),
					    at(2024, 1, 3, 11, 5, 0)));
	assert_false(counter_period_changed('M', wed, at(2024, 1, 31, 1, 0,
							 0)));
	assert_true(counter_period_changed('M', wed, at(2024, 2, 1, 0, 0, 1)));
	assert_true(counter_period_changed('M', wed, at(2025, 1, 3, 0, 0, 0)));
	assert_false(counter_period_changed('Y', wed, at(2024, 12, 31, 23, 0,
							 0)));
	assert_true(counter_period_changed('Y', wed, at(2025, 1, 1, 0, 0, 0)));
	/* weeks start on Sunday: Wed -> Sat same week, Sat -> Sun not */
	assert_false(counter_period_changed('W', wed, at(2024, 1, 6, 23, 0,
							 0)));
	assert_true(counter_period_changed('W', at(2024, 1, 6, 23, 0, 0),
					    at(2024, 1, 7, 0, 30, 0)));
	assert_true(counter_period_changed('W', wed, at(2024, 1, 10, 12, 0,
							0)));
	/* N (or any other letter) never resets */
	assert_false(counter_period_changed('N', wed, at(2030, 1, 1, 0, 0,
							 0)));
	assert_false(counter_period_changed('X', wed, wed + 86400 * 400));
}

static void
test_report_name(void **state)
{
	time_t t = at(2024, 1, 3, 9, 7, 5);
	char name[256];

	(void)state;
	assert_int_equal(counter_report_name(name, sizeof(name), "/r/t", 'D',
					     t), 0);
	assert_string_equal(name, "/r/t.2024.01.03");
	counter_report_name(name, sizeof(name), "/r/t", 'M', t);
	assert_string_equal(name, "/r/t.2024.01");
	counter_report_name(name, sizeof(name), "/r/t", 'Y', t);
	assert_string_equal(name, "/r/t.2024");
	/* the Sunday that starts the week, across a year */
	counter_report_name(name, sizeof(name), "/r/t", 'W', t);
	assert_string_equal(name, "/r/t.2023.12.31");
	counter_report_name(name, sizeof(name), "/r/t", 'H', t);
	assert_string_equal(name, "/r/t.2024.01.03-09");
	counter_report_name(name, sizeof(name), "/r/t", 'C', t);
	assert_string_equal(name, "/r/t.2024.01.03-09.07");
	counter_report_name(name, sizeof(name), "/r/t", 'N', t);
	assert_string_equal(name, "/r/t");
	/* a template */
	counter_report_name(name, sizeof(name), "/r/traf-%Y%m%d.txt", 'D', t);
	assert_string_equal(name, "/r/traf-20240103.txt");
	assert_int_equal(counter_report_name(name, 8, "/r/t", 'D', t), -1);
}

static void
test_report_line(void **state)
{
	char line[128];
	size_t n;

	(void)state;
	n = counter_report_line(line, sizeof(line), 3, 1234567890ull,
				"Web traffic of bob");
	assert_string_equal(line,
			    "00003 00000000001234567890 #Web traffic of bob\n");
	assert_int_equal(n, strlen(line));
	counter_report_line(line, sizeof(line), 12, UINT64_MAX, NULL);
	assert_string_equal(line, "00012 18446744073709551615\n");
}

/* ---- config ------------------------------------------------------------------ */

static void
test_config_errors(void **state)
{
	char cfg[512];
	FILE *f;
	struct t_head h;
	struct t_rec r;

	(void)state;
	load_bad("countin 0 D 0 *\n", "t.cfg:1: Wrong traffic limit specified");
	load_bad("countall 0 D x *\n", "Wrong traffic limit specified");
	load_bad("countin 1 D 10 *\n", "t.cfg:1: countin: counter 1 needs a "
		 "`counter` file line before it");
	load_bad("countout 0 D 10 * 1.2.3.400\n", "t.cfg:1: countout: ");
	snprintf(cfg, sizeof(cfg), "counter %s\ncountin 1 D 1 *\n"
		 "countout 1/again D 1 *\n", tmppath("dup"));
	load_bad(cfg, "t.cfg:3: countout: counter number 1 is used twice");

	/* not a counter file */
	f = fopen(tmppath("junk"), "w");
	fputs("this is some text, not counters\n", f);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "\ncounter %s\n", tmppath("junk"));
	load_bad(cfg, "Not a counter file");
	load_bad(cfg, ", line 2");

	/* a damaged record */
	memset(&h, 0, sizeof(h));
	memcpy(h.sig, "3CF", 4);
	h.updated = time(NULL);
	memset(&r, 0, sizeof(r));
	r.cleared = -5;
	f = fopen(tmppath("bad"), "wb");
	fwrite(&h, sizeof(h), 1, f);
	fwrite(&r, sizeof(r), 1, f);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "counter %s\n", tmppath("bad"));
	load_bad(cfg, "Invalid or corrupted counter file");

	/* unnumbered counters need no file */
	conf_gen_unref(load_ok("countin \"0/no file\" D 10 *\nnocountall\n"
			       "nocountin * 10.0.0.1\nnocountout\n"));
}

static void
test_check_mode_leaves_file(void **state)
{
	char cfg[512], *msgs = NULL;
	struct conf_gen *g;
	struct stat st;

	(void)state;
	snprintf(cfg, sizeof(cfg), "counter %s\ncountin 1 D 1 *\n",
		 tmppath("never"));
	g = load_mode(cfg, CONF_CHECK, &msgs);
	assert_non_null(g);
	conf_gen_unref(g);
	free(msgs);
	assert_int_not_equal(stat(tmppath("never"), &st), 0);
}

/* ---- quotas and the file ----------------------------------------------------- */

static void
test_quota_and_file_roundtrip(void **state)
{
	char cfg[512];
	struct conf_gen *g;
	struct client *a, *b, *c;
	struct t_rec r;
	struct stat st;

	(void)state;
	snprintf(cfg, sizeof(cfg), "counter %s\n"
		 "countin 1/bob D 1 * 10.0.0.1\n"
		 "countin 2 N 5 *\n", tmppath("cnt"));
	g = load_ok(cfg);
	assert_int_equal(stat(tmppath("cnt"), &st), 0);
	assert_int_equal(st.st_mode & 0117, 0);     /* 0660 less umask */
	a = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(a, 0), 0);
	assert_true(counter_active(a));
	/* within the quota; then the read that crosses it ends the relay */
	assert_int_equal(relay_read(a, RELAY_S2C, 600000), 0);
	assert_int_equal(relay_read(a, RELAY_S2C, 400000), 0);
	assert_int_equal(relay_read(a, RELAY_S2C, 100000), ERR_LIMIT);
	/* bytes the hook did not see are charged at the access record */
	a->stats.bytes_from_server += 1000;
	log_event(a);
	/* uploads are not counted by countin */
	assert_int_equal(relay_read(a, RELAY_C2S, 5 * MiB), 0);
	log_event(a);

	b = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(b, 0), ERR_LIMIT);
	assert_false(counter_active(b));
	c = mkclient(g, "10.0.0.2");
	assert_int_equal(limit_authorize(c, 0), 0);

	counter_save_all();
	read_rec(tmppath("cnt"), 1, &r);
	assert_int_equal(r.bytes, 1101000);
	assert_true(r.updated > 0 && r.cleared > 0);
	read_rec(tmppath("cnt"), 2, &r);
	assert_int_equal(r.bytes, 1101000);
	dropclient(a);
	dropclient(b);
	dropclient(c);
	conf_gen_unref(g);
	counter_cleanup();
	memset(&r, 0, sizeof(r));
	read_rec(tmppath("cnt"), 1, &r);
	assert_int_equal(r.bytes, 1101000);

	/* a new generation (a restart) reads the values back */
	g = load_ok(cfg);
	b = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(b, 0), ERR_LIMIT);
	c = mkclient(g, "10.0.0.2");
	assert_int_equal(limit_authorize(c, 0), 0);
	dropclient(b);
	dropclient(c);
	conf_gen_unref(g);
}

/* Two generations alive at once (a reload) share the values. */
static void
test_reload_shares_values(void **state)
{
	char cfg[512];
	struct conf_gen *g1, *g2;
	struct client *a, *b;

	(void)state;
	snprintf(cfg, sizeof(cfg), "counter %s\ncountout 7 N 1 *\n",
		 tmppath("reload"));
	g1 = load_ok(cfg);
	a = mkclient(g1, "10.0.0.1");
	assert_int_equal(limit_authorize(a, 0), 0);
	assert_int_equal(relay_read(a, RELAY_C2S, 2 * MiB), ERR_LIMIT);
	g2 = load_ok(cfg);
	b = mkclient(g2, "10.0.0.1");
	assert_int_equal(limit_authorize(b, 0), ERR_LIMIT);
	dropclient(a);
	dropclient(b);
	conf_gen_unref(g1);
	conf_gen_unref(g2);
}

static void
test_tick_resets_and_reports(void **state)
{
	char cfg[512], name[256], *rep;
	time_t now = time(NULL), yday = now - 86400 - 3600;
	struct t_head h;
	struct t_rec r[2];
	struct conf_gen *g;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(&h, 0, sizeof(h));
	memcpy(h.sig, "3CF", 4);
	h.updated = yday;
	memset(r, 0, sizeof(r));
	r[0].bytes = 5 * MiB;
	r[0].cleared = r[0].updated = yday;
	r[1].bytes = 7 * MiB;
	r[1].cleared = r[1].updated = yday;
	f = fopen(tmppath("tick"), "wb");
	fwrite(&h, sizeof(h), 1, f);
	fwrite(r, sizeof(r[0]), 2, f);
	fclose(f);

	snprintf(cfg, sizeof(cfg), "counter %s D %s\n"
		 "countin 1/daily D 10 *\n"
		 "countin 2 N 10 *\n"
		 "countall \"3/an hour\" H 10 *\n",
		 tmppath("tick"), tmppath("rep"));
	g = load_ok(cfg);
	counter_tick(g, now);
	/* the day's report, for the day of the previous dump; counters
	 * with a shorter period (H) are not in it */
	assert_int_equal(counter_report_name(name, sizeof(name),
					     tmppath("rep"), 'D', yday), 0);
	rep = slurp(name, &len);
	assert_non_null(rep);
	assert_string_equal(rep, "00001 00000000000005242880 #daily\n"
				 "00002 00000000000007340032\n");
	free(rep);
	/* the daily counter was reset, the other one kept */
	read_rec(tmppath("tick"), 1, &r[0]);
	assert_int_equal(r[0].bytes, 0);
	assert_int_equal(r[0].cleared, now);
	read_rec(tmppath("tick"), 2, &r[0]);
	assert_int_equal(r[0].bytes, 7 * MiB);
	read_rec(tmppath("tick"), 3, &r[0]);
	assert_int_equal(r[0].bytes, 0);
	conf_gen_unref(g);
}

/* ---- walks -------------------------------------------------------------------- */

static void
test_exclusions(void **state)
{
	struct conf_gen *g;
	struct client *a, *b;

	(void)state;
	g = load_ok("nocountin * 10.0.0.1\ncountin 0 N 1 *\n");
	a = mkclient(g, "10.0.0.1");
	b = mkclient(g, "10.0.0.2");
	assert_int_equal(limit_authorize(a, 0), 0);
	assert_false(counter_active(a));
	assert_int_equal(limit_authorize(b, 0), 0);
	assert_true(counter_active(b));
	assert_int_equal(relay_read(b, RELAY_S2C, 2 * MiB), ERR_LIMIT);
	dropclient(a);
	dropclient(b);
	conf_gen_unref(g);

	g = load_ok("nocountall * 10.0.0.1\ncountout 0 N 1 *\n");
	a = mkclient(g, "10.0.0.1");
	b = mkclient(g, "10.0.0.2");
	assert_int_equal(limit_authorize(a, 0), 0);
	assert_false(counter_active(a));
	assert_int_equal(limit_authorize(b, 0), 0);
	assert_int_equal(relay_read(b, RELAY_S2C, 2 * MiB), 0);
	assert_int_equal(relay_read(b, RELAY_C2S, 2 * MiB), ERR_LIMIT);
	dropclient(a);
	dropclient(b);
	conf_gen_unref(g);
}

/* limits.md 4.3 [quirk]: countall alone checks uploads but counts only
 * downloads; with a countout matched too it counts both. */
static void
test_countall_quirk(void **state)
{
	struct conf_gen *g;
	struct client *a, *b, *c;

	(void)state;
	g = load_ok("countall 0 N 1 *\ncountout 0 N 100 * 10.0.0.9\n");
	a = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(a, 0), 0);
	/* one upload bigger than the quota is cut ... */
	assert_int_equal(relay_read(a, RELAY_C2S, 600000), 0);
	assert_int_equal(relay_read(a, RELAY_C2S, 500000), ERR_LIMIT);
	log_event(a);
	/* ... but not counted: the next request is allowed */
	b = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(b, 0), 0);
	dropclient(b);
	/* with the countout matched as well, uploads count */
	c = mkclient(g, "10.0.0.9");
	assert_int_equal(limit_authorize(c, 0), 0);
	assert_int_equal(relay_read(c, RELAY_C2S, 600000), 0);
	assert_int_equal(relay_read(c, RELAY_C2S, 500000), ERR_LIMIT);
	log_event(c);
	b = mkclient(g, "10.0.0.1");
	assert_int_equal(limit_authorize(b, 0), ERR_LIMIT);
	dropclient(a);
	dropclient(b);
	dropclient(c);
	conf_gen_unref(g);
}

/* A plugin's quota (counter_quota_*): shared by the requests it is
 * attached to, charged and checked like countin, dropped at the next
 * request, reset when a new period began. */
static void
test_plugin_quota(void **state)
{
	struct client *a = mkclient(NULL, "10.0.0.1");
	struct client *b = mkclient(NULL, "10.0.0.2");
	struct px_quota *q, *old;
	time_t now = time(NULL);
	uint64_t bytes;
	int64_t start;

	(void)state;
	assert_null(counter_quota_new('X', 1 << 20, 0, 0));
	assert_null(counter_quota_new('D', 0, 0, 0));
	assert_null(counter_quota_new('D', 1, 0, -1));
	q = counter_quota_new('m', 1 << 20, 0, 0);
	assert_non_null(q);
	assert_int_equal(counter_quota_set(q, 'Q', 1), -1);

	assert_int_equal(counter_authorize(a), 0);
	assert_int_equal(counter_quota_attach(a, q), 0);
	assert_int_equal(counter_quota_check(a), 0);
	assert_true(counter_active(a));
	assert_int_equal(relay_read(a, RELAY_S2C, 600 * 1024), 0);
	assert_int_equal(relay_read(a, RELAY_C2S, 900 * 1024), 0);
	assert_int_equal(counter_authorize(b), 0);
	assert_int_equal(counter_quota_attach(b, q), 0);
	assert_int_equal(counter_quota_check(b), 0);
	/* the second request crosses the shared quota */
	assert_int_equal(relay_read(b, RELAY_S2C, 600 * 1024), ERR_LIMIT);
	counter_quota_read(q, &bytes, &start);
	assert_true(bytes == 1200 * 1024);
	assert_true(start > 0 && start <= (int64_t)time(NULL));
	/* a new request starts without it, and is refused once attached */
	assert_int_equal(counter_authorize(a), 0);
	assert_false(counter_active(a));
	assert_int_equal(counter_quota_attach(a, q), 0);
	assert_int_equal(counter_quota_check(a), ERR_LIMIT);
	assert_false(counter_active(a));
	/* a bigger limit lets it through again */
	assert_int_equal(counter_quota_set(q, 'M', 2 << 20), 0);
	assert_int_equal(counter_quota_attach(a, q), 0);
	assert_int_equal(counter_quota_check(a), 0);
	/* the plugin's reference goes first; the requests keep theirs */
	counter_quota_unref(q);
	assert_int_equal(relay_read(a, RELAY_S2C, 1000), 0);
	dropclient(a);
	dropclient(b);

	/* a count from an earlier day starts again; today's is kept */
	old = counter_quota_new('D', 1 << 20, 5000, (int64_t)now - 3 * 86400);
	assert_non_null(old);
	counter_quota_read(old, &bytes, &start);
	assert_true(bytes == 0 && start >= (int64_t)now);
	counter_quota_unref(old);
	q = counter_quota_new('D', 1 << 20, 5000, (int64_t)now);
	counter_quota_read(q, &bytes, &start);
	assert_true(bytes == 5000 && start == (int64_t)now);
	counter_quota_unref(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period_changed),
		cmocka_unit_test(test_report_name),
		cmocka_unit_test(test_report_line),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_check_mode_leaves_file),
		cmocka_unit_test(test_quota_and_file_roundtrip),
		cmocka_unit_test(test_reload_shares_values),
		cmocka_unit_test(test_tick_resets_and_reports),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_countall_quirk),
		cmocka_unit_test(test_plugin_quota),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
