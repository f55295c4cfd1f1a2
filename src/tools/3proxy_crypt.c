/*
 * 3proxy_crypt - print a password hash for a `users` line (reference
 * cli.md section 6, F-AUTH-11, F-AUTH-12).
 *
 *   3proxy_crypt PASSWORD        NT:<32 uppercase hex digits>
 *   3proxy_crypt SALT PASSWORD   CR:$1$<salt>$<hash>   (MD5-crypt)
 *
 * The original prints its own "$3$" BLAKE2b format for CR; we print the
 * standard MD5-crypt made by the system's crypt(3), which every crypt
 * library and the daemon understand.  A build without libcrypt falls
 * back to "$3$" (verified by the daemon on every platform).
 */
#include "pwhash.h"

#include <stdio.h>
#include <string.h>

#define SALT_MAX 64          /* longer salts are cut, as the original */
#define MD5_SALT_MAX 8       /* MD5-crypt uses at most 8 characters */

static int
usage(void)
{
	fputs("usage: 3proxy_crypt PASSWORD\n"
	      "         prints NT:<hash> (NT password hash)\n"
	      "       3proxy_crypt SALT PASSWORD\n"
	      "         prints CR:<crypt string> (MD5-crypt)\n"
	      "Use the output after 'name:' in a users line, e.g.\n"
	      "  users \"bob:CR:$1$salt$...\"\n", stderr);
	return 1;
}

static int
valid_salt_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '/';
}

static int
print_nt(const char *password)
{
	char nt[PWHASH_NT_LEN + 1];

	if (pwhash_nt(password, nt) != 0) {
		fputs("3proxy_crypt: NT hashes need MD4 (libmd), which this "
		      "build does not have\n", stderr);
		return 1;
	}
	printf("NT:%s\n", nt);
	pwhash_wipe(nt, sizeof(nt));
	return 0;
}

static int
print_cr(const char *salt, const char *password)
{
	char setting[4 + SALT_MAX + 1], out[PWHASH_CRYPT_MAX + 1];
	size_t n = strlen(salt), max, i;
	const char *prefix = pwhash_have_crypt() ? "$1$" : "$3$";

	max = pwhash_have_crypt() ? MD5_SALT_MAX : SALT_MAX;
	if (n > max)
		n = max;
	if (n == 0) {
		fputs("3proxy_crypt: empty salt\n", stderr);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!valid_salt_char(salt[i])) {
			fputs("3proxy_crypt: salt characters must be "
			      "./0-9A-Za-z\n", stderr);
			return 1;
		}
	}
	snprintf(setting, sizeof(setting), "%s%.*s", prefix, (int)n, salt);
	if (pwhash_crypt(password, setting, out, sizeof(out)) != 0) {
		fputs("3proxy_crypt: crypt failed\n", stderr);
		return 1;
	}
	printf("CR:%s\n", out);
	pwhash_wipe(out, sizeof(out));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2)
		return print_nt(argv[1]);
	if (argc == 3)
		return print_cr(argv[1], argv[2]);
	return usage();
}
