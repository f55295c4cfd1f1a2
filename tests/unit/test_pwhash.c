/*
 * Unit tests for pwhash.c: constant-time comparison, BLAKE2b (RFC 7693
 * vectors), the NT hash (F-AUTH-12), crypt(3) strings and 3proxy's "$3$"
 * format (F-AUTH-11), and the 3proxy_crypt output formats (F-AUTH-10).
 * Vectors: `openssl passwd -1 -salt abc secret`, the well-known NT hash
 * of "password", and Python's hashlib.blake2b.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pwhash.h"

static void
hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
expect_b2b(size_t outlen, const void *key, size_t keylen, const void *in,
	   size_t inlen, const char *want)
{
	uint8_t d[64];
	char h[129];

	pwhash_blake2b(d, outlen, key, keylen, in, inlen);
	hex(d, outlen, h);
	assert_string_equal(h, want);
}

static void
test_blake2b_vectors(void **state)
{
	uint8_t seq[200], key[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seq); i++)
		seq[i] = (uint8_t)i;
	memset(key, 'k', sizeof(key));
	/* RFC 7693 appendix A */
	expect_b2b(64, NULL, 0, "abc", 3,
		   "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6f"
		   "dbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925a"
		   "b92386edd4009923");
	expect_b2b(16, NULL, 0, "abc", 3, "cf4ab791c62b8d2b2109c90275287816");
	expect_b2b(64, NULL, 0, "", 0,
		   "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217"
		   "f71f5419d25e1031afee585313896444934eb04b903a685b1448b755"
		   "d56f701afe9be2ce");
	/* exactly one block, and more than one block */
	expect_b2b(32, NULL, 0, seq, 128,
		   "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb"
		   "2488c1d1");
	expect_b2b(64, NULL, 0, seq, 200,
		   "fb3c1f0f56a56f8e316fdf5d853c8c872c39635d083634c3904fc3ac"
		   "07d1b578e85ff0e480e92d44ade33b62e893ee32343e79ddf6ef292e"
		   "89b582d312502314");
	/* keyed */
	expect_b2b(32, key, 64, "hello", 5,
		   "cee5d1bbe0be11729bf4e0b45248f7367cdaac3e2b8ed1faa633cb9b"
		   "a38a2773");
	expect_b2b(16, seq, 16, "", 0, "083aac7ba77bc664005d821eb8bfa4d9");
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(pwhash_equal("", ""));
	assert_true(pwhash_equal("secret", "secret"));
	assert_false(pwhash_equal("secret", "secreT"));
	assert_false(pwhash_equal("secret", "secret1"));
	assert_false(pwhash_equal("secret1", "secret"));
	assert_false(pwhash_equal("", "x"));
}

static void
test_nt(void **state)
{
	char nt[PWHASH_NT_LEN + 1];
	char longpw[400];

	(void)state;
	if (!pwhash_have_nt()) {
		assert_int_equal(pwhash_nt("password", nt), -1);
		skip();
	}
	assert_int_equal(pwhash_nt("password", nt), 0);
	assert_string_equal(nt, "8846F7EAEE8FB117AD06BDD830B7586C");
	assert_int_equal(pwhash_nt("", nt), 0);
	assert_string_equal(nt, "31D6CFE0D16AE931B73C59D7E0C089C0");
	/* only the first 255 bytes count */
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	{
		char a[PWHASH_NT_LEN + 1], b[PWHASH_NT_LEN + 1];

		assert_int_equal(pwhash_nt(longpw, a), 0);
		longpw[255] = '\0';
		assert_int_equal(pwhash_nt(longpw, b), 0);
		assert_string_equal(a, b);
		longpw[254] = '\0';
		assert_int_equal(pwhash_nt(longpw, b), 0);
		assert_string_not_equal(a, b);
	}
}

static void
test_crypt3(void **state)
{
	char out[PWHASH_CRYPT_MAX + 1];

	(void)state;
	/* 3proxy's BLAKE2b format (acl-auth.md 3.1) works in every build */
	assert_int_equal(pwhash_crypt("secret", "$3$abc", out, sizeof(out)), 0);
	assert_string_equal(out, "$3$abc$lYQG8cvf3azeHi.8OH2n/.");
	assert_int_equal(pwhash_crypt("password", "$3$saltsalt$whatever", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "$3$saltsalt$OkkL9l8/wNaNPpH99e4Xg/");
	assert_true(pwhash_crypt_check("secret",
				       "$3$abc$lYQG8cvf3azeHi.8OH2n/."));
	assert_false(pwhash_crypt_check("Secret",
					"$3$abc$lYQG8cvf3azeHi.8OH2n/."));
	assert_false(pwhash_crypt_check("secret",
					"$3$abd$lYQG8cvf3azeHi.8OH2n/."));
	/* too small an output buffer is refused, never overrun */
	assert_int_equal(pwhash_crypt("secret", "$3$abc", out, 20), -1);
}

static void
test_crypt_system(void **state)
{
	char out[PWHASH_CRYPT_MAX + 1];

	(void)state;
	if (!pwhash_have_crypt()) {
		assert_int_equal(pwhash_crypt("secret", "$1$abc", out,
					      sizeof(out)), -1);
		assert_false(pwhash_crypt_check("secret",
					"$1$abc$iCQ2D3nhptRYi27fDYv2s1"));
		skip();
	}
	/* openssl passwd -1 -salt abc secret */
	assert_int_equal(pwhash_crypt("secret", "$1$abc", out, sizeof(out)), 0);
	assert_string_equal(out, "$1$abc$iCQ2D3nhptRYi27fDYv2s1");
	assert_true(pwhash_crypt_check("secret",
				       "$1$abc$iCQ2D3nhptRYi27fDYv2s1"));
	assert_false(pwhash_crypt_check("secret1",
					"$1$abc$iCQ2D3nhptRYi27fDYv2s1"));
	assert_false(pwhash_crypt_check("",
					"$1$abc$iCQ2D3nhptRYi27fDYv2s1"));
	/* whatever else crypt(3) supports: openssl passwd -5/-6 */
	assert_true(pwhash_crypt_check("secret",
			"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0"));
	assert_true(pwhash_crypt_check("secret",
			"$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2md"
			"vgY..TKjv1T..8RadRt2qvUHYRLr/TsVArtr91iR1"));
	/* garbage never matches */
	assert_false(pwhash_crypt_check("secret", "$9$nonsense"));
	assert_false(pwhash_crypt_check("secret", ""));
}

static void
test_wipe(void **state)
{
	char buf[16] = "topsecret";
	size_t i;

	(void)state;
	pwhash_wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	pwhash_free_secret(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2b_vectors),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_nt),
		cmocka_unit_test(test_crypt3),
		cmocka_unit_test(test_crypt_system),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
