/*
 * Unit tests for FilePlugin's pure parts (plugins/FilePlugin/fpname.c):
 * the 7-digit spool file names, callback flag names, file_preview
 * sizes and the FTP commands that start a transfer.  F-PLUG-06
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fileplugin.h"

static void test_spool_name(void **state)
{
	char b[64];

	(void)state;
	assert_int_equal(fp_spool_name(b, sizeof(b), "/tmp", 1), 0);
	assert_string_equal(b, "/tmp/0000001.tmp");
	assert_int_equal(fp_spool_name(b, sizeof(b), "/var/spool/", 1234567),
			 0);
	assert_string_equal(b, "/var/spool/1234567.tmp");
	/* the counter wraps at 7 digits */
	assert_int_equal(fp_spool_name(b, sizeof(b), "d", 10000042), 0);
	assert_string_equal(b, "d/0000042.tmp");
	assert_int_equal(fp_spool_name(b, sizeof(b), "/", 9999999), 0);
	assert_string_equal(b, "//9999999.tmp");
	/* does not fit, no dir */
	assert_int_equal(fp_spool_name(b, 16, "/tmp", 1), -1);
	assert_int_equal(fp_spool_name(b, 17, "/tmp", 1), 0);
	assert_int_equal(fp_spool_name(b, sizeof(b), "", 1), -1);
	assert_int_equal(fp_spool_name(b, sizeof(b), NULL, 1), -1);
}

static void test_flags(void **state)
{
	unsigned f = 99;

	(void)state;
	assert_int_equal(fp_flags_parse("srvdata", &f), 0);
	assert_int_equal(f, FP_SRVDATA);
	assert_int_equal(fp_flags_parse("srvdata,data,remove", &f), 0);
	assert_int_equal(f, FP_SRVDATA | FP_CALL_ONDATA | FP_CALL_ONREMOVE);
	assert_int_equal(fp_flags_parse("cliheader,srvheader,clidata,"
					"request,headers", &f), 0);
	assert_int_equal(f, FP_CLIHEADER | FP_SRVHEADER | FP_CLIDATA |
			 FP_CALL_ONREQUEST | FP_CALL_AFTERHEADERS);
	f = 99;
	assert_int_equal(fp_flags_parse("", &f), -1);
	assert_int_equal(fp_flags_parse("srvdata,", &f), -1);
	assert_int_equal(fp_flags_parse(",data", &f), -1);
	assert_int_equal(fp_flags_parse("srvdat", &f), -1);
	assert_int_equal(fp_flags_parse("srvdatax", &f), -1);
	assert_int_equal(fp_flags_parse("DATA", &f), -1);
	assert_int_equal(f, 99);
}

static void test_sizes(void **state)
{
	uint64_t n = 7;

	(void)state;
	assert_int_equal(fp_size_parse("0", &n), 0);
	assert_true(n == 0);
	assert_int_equal(fp_size_parse("1048576", &n), 0);
	assert_true(n == 1048576);
	assert_int_equal(fp_size_parse("1099511627776", &n), 0);
	assert_true(n == (uint64_t)1 << 40);
	n = 7;
	assert_int_equal(fp_size_parse("1099511627777", &n), -1);
	assert_int_equal(fp_size_parse("99999999999999999999999", &n), -1);
	assert_int_equal(fp_size_parse("", &n), -1);
	assert_int_equal(fp_size_parse("-1", &n), -1);
	assert_int_equal(fp_size_parse("12k", &n), -1);
	assert_int_equal(fp_size_parse(" 1", &n), -1);
	assert_true(n == 7);
}

static int xfer(const char *line)
{
	return fp_ftp_transfer(line, strlen(line));
}

static void test_ftp_transfer(void **state)
{
	(void)state;
	/* every data command, any case, with or without an argument */
	assert_int_equal(xfer("RETR pub/file.bin"), 1);
	assert_int_equal(xfer("stor upload.bin"), 1);
	assert_int_equal(xfer("Appe log"), 1);
	assert_int_equal(xfer("STOU"), 1);
	assert_int_equal(xfer("LIST"), 1);
	assert_int_equal(xfer("nlst -la"), 1);
	assert_int_equal(xfer("MLSD dir"), 1);
	/* other commands, and names that only start like one */
	assert_int_equal(xfer("CWD pub"), 0);
	assert_int_equal(xfer("PASV"), 0);
	assert_int_equal(xfer("MLST file"), 0);
	assert_int_equal(xfer("RETRX file"), 0);
	assert_int_equal(xfer("RET file"), 0);
	assert_int_equal(xfer(""), 0);
	/* only len bytes count */
	assert_int_equal(fp_ftp_transfer("RETR", 3), 0);
	assert_int_equal(fp_ftp_transfer("LISTING", 4), 1);
	assert_int_equal(fp_ftp_transfer(NULL, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_name),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ftp_transfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
