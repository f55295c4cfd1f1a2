/*
 * pwhash.h - password hashes and comparisons for `users` entries and
 * 3proxy_crypt (reference acl-auth.md section 3).
 *
 *   CL  cleartext, compared in constant time
 *   CR  a crypt(3) string: "$1$" MD5-crypt and whatever the system's
 *       crypt(3) knows (HAVE_LIBCRYPT), plus 3proxy's own "$3$" BLAKE2b
 *       format, which is built in and so works everywhere
 *   NT  MD4 over the UTF-16LE password, as 32 hex digits (HAVE_LIBMD)
 *
 * Everything here is pure and thread-safe: no shared state.
 */
#ifndef PX_PWHASH_H
#define PX_PWHASH_H

#include <stddef.h>
#include <stdint.h>

/* Only the first PWHASH_MAXPASS bytes of a password are used. */
#define PWHASH_MAXPASS 255
#define PWHASH_NT_LEN 32          /* hex digits of an NT hash */
#define PWHASH_CRYPT_MAX 256      /* longest crypt string handled */

/* 1 when this build can verify/produce the kind of hash. */
int pwhash_have_crypt(void);      /* crypt(3) ("$1$", "$5$", ...) */
int pwhash_have_nt(void);         /* MD4 for NT hashes */

/* Constant-time comparison of two NUL-terminated strings: the time
 * depends on the longer length only.  Returns 1 if equal. */
int pwhash_equal(const char *a, const char *b);

/* Zero memory in a way the compiler may not drop. */
void pwhash_wipe(void *p, size_t n);
/* Wipe a string's bytes and free it (NULL is fine). */
void pwhash_free_secret(char *s);

/* NT hash of `password` (at most PWHASH_MAXPASS bytes used) as 32
 * uppercase hex digits plus NUL.  Returns 0, or -1 without MD4. */
int pwhash_nt(const char *password, char out[PWHASH_NT_LEN + 1]);

/* Compute the crypt string of `password` with the salt/settings of
 * `setting` (a full stored hash works: only its prefix and salt are
 * used).  "$3$" is handled here, anything else by crypt(3).  Returns 0,
 * or -1 if the format is unknown/unavailable or the result would not
 * fit in `len`. */
int pwhash_crypt(const char *password, const char *setting, char *out,
		 size_t len);

/* Check `password` against a stored crypt string in constant time.
 * Returns 1 on a match, 0 otherwise (also for unknown formats). */
int pwhash_crypt_check(const char *password, const char *stored);

/* BLAKE2b (RFC 7693), unkeyed or keyed, outlen 1..64, keylen 0..64. */
void pwhash_blake2b(uint8_t *out, size_t outlen, const void *key,
		    size_t keylen, const void *in, size_t inlen);

#endif
