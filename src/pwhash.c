/*
 * pwhash.c - password hashes: constant-time comparison, NT (MD4 from
 * libmd), crypt(3) strings (libcrypt's crypt_r), and 3proxy's "$3$"
 * BLAKE2b crypt, whose BLAKE2b (RFC 7693) is implemented here.
 *
 * Owns no state; every function is reentrant.  Buffers holding password
 * material are wiped before they go out of scope.
 */
#include "pwhash.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LIBCRYPT
#include <crypt.h>
#endif
#ifdef HAVE_LIBMD
#include <md4.h>
#endif

/* ---- generic helpers --------------------------------------------------- */

void
pwhash_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void
pwhash_free_secret(char *s)
{
	if (s == NULL)
		return;
	pwhash_wipe(s, strlen(s));
	free(s);
}

int
pwhash_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la > lb ? la : lb, i;
	unsigned diff = (unsigned)(la ^ lb);

	/* Read both up to the longer length; past its end a string reads
	 * as zero bytes, and the length difference already counts. */
	for (i = 0; i < n; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;

		diff |= (unsigned)(ca ^ cb);
	}
	return diff == 0;
}

int
pwhash_have_crypt(void)
{
#ifdef HAVE_LIBCRYPT
	return 1;
#else
	return 0;
#endif
}

int
pwhash_have_nt(void)
{
#ifdef HAVE_LIBMD
	return 1;
#else
	return 0;
#endif
}

static size_t
pass_len(const char *password)
{
	size_t n = strlen(password);

	return n > PWHASH_MAXPASS ? PWHASH_MAXPASS : n;
}

/* ---- NT ----------------------------------------------------------------- */

int
pwhash_nt(const char *password, char out[PWHASH_NT_LEN + 1])
{
#ifdef HAVE_LIBMD
	static const char hex[] = "0123456789ABCDEF";
	uint8_t wide[2 * PWHASH_MAXPASS];
	uint8_t d[MD4_DIGEST_LENGTH];
	size_t n = pass_len(password), i;
	MD4_CTX ctx;

	/* UTF-16LE of Latin-1: each byte zero-extended (F-AUTH-12). */
	for (i = 0; i < n; i++) {
		wide[2 * i] = (uint8_t)password[i];
		wide[2 * i + 1] = 0;
	}
	MD4Init(&ctx);
	MD4Update(&ctx, wide, 2 * n);
	MD4Final(d, &ctx);
	for (i = 0; i < MD4_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[PWHASH_NT_LEN] = '\0';
	pwhash_wipe(wide, sizeof(wide));
	pwhash_wipe(d, sizeof(d));
	pwhash_wipe(&ctx, sizeof(ctx));
	return 0;
#else
	(void)password;
	out[0] = '\0';
	return -1;
#endif
}

/* ---- BLAKE2b (RFC 7693) ------------------------------------------------- */

struct b2b {
	uint64_t h[8];
	uint64_t t[2];
	uint8_t buf[128];
	size_t fill;
	size_t outlen;
};

static const uint64_t b2b_iv[8] = {
	0x6A09E667F3BCC908ULL, 0xBB67AE8584CAA73BULL,
	0x3C6EF372FE94F82BULL, 0xA54FF53A5F1D36F1ULL,
	0x510E527FADE682D1ULL, 0x9B05688C2B3E6C1FULL,
	0x1F83D9ABFB41BD6BULL, 0x5BE0CD19137E2179ULL
};

static const uint8_t b2b_sigma[12][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 }
};

static uint64_t
rotr64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* The mixing function G of RFC 7693 section 3.1. */
static void
b2b_g(uint64_t *v, int a, int b, int c, int d, uint64_t x, uint64_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = rotr64(v[d] ^ v[a], 32);
	v[c] = v[c] + v[d];
	v[b] = rotr64(v[b] ^ v[c], 24);
	v[a] = v[a] + v[b] + y;
	v[d] = rotr64(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = rotr64(v[b] ^ v[c], 63);
}

/* Compression function F (RFC 7693 section 3.2). */
static void
b2b_compress(struct b2b *s, int last)
{
	uint64_t v[16], m[16];
	int i;

	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = b2b_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (i = 0; i < 16; i++)
		m[i] = load64(s->buf + 8 * i);
	for (i = 0; i < 12; i++) {
		const uint8_t *z = b2b_sigma[i];

		b2b_g(v, 0, 4, 8, 12, m[z[0]], m[z[1]]);
		b2b_g(v, 1, 5, 9, 13, m[z[2]], m[z[3]]);
		b2b_g(v, 2, 6, 10, 14, m[z[4]], m[z[5]]);
		b2b_g(v, 3, 7, 11, 15, m[z[6]], m[z[7]]);
		b2b_g(v, 0, 5, 10, 15, m[z[8]], m[z[9]]);
		b2b_g(v, 1, 6, 11, 12, m[z[10]], m[z[11]]);
		b2b_g(v, 2, 7, 8, 13, m[z[12]], m[z[13]]);
		b2b_g(v, 3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	pwhash_wipe(v, sizeof(v));
	pwhash_wipe(m, sizeof(m));
}

static void
b2b_update(struct b2b *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k;

		/* A full buffer is compressed only once more input follows:
		 * the last block must carry the final flag. */
		if (s->fill == sizeof(s->buf)) {
			s->t[0] += sizeof(s->buf);
			if (s->t[0] < sizeof(s->buf))
				s->t[1]++;
			b2b_compress(s, 0);
			s->fill = 0;
		}
		k = sizeof(s->buf) - s->fill;
		if (k > n)
			k = n;
		memcpy(s->buf + s->fill, p, k);
		s->fill += k;
		p += k;
		n -= k;
	}
}

static void
b2b_init(struct b2b *s, size_t outlen, const void *key, size_t keylen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->h, b2b_iv, sizeof(s->h));
	s->h[0] ^= 0x01010000ULL ^ ((uint64_t)keylen << 8) ^ outlen;
	s->outlen = outlen;
	if (keylen > 0) {
		uint8_t block[128];

		memset(block, 0, sizeof(block));
		memcpy(block, key, keylen);
		b2b_update(s, block, sizeof(block));
		pwhash_wipe(block, sizeof(block));
	}
}

static void
b2b_final(struct b2b *s, uint8_t *out)
{
	size_t i;

	s->t[0] += s->fill;
	if (s->t[0] < s->fill)
		s->t[1]++;
	memset(s->buf + s->fill, 0, sizeof(s->buf) - s->fill);
	b2b_compress(s, 1);
	for (i = 0; i < s->outlen; i++)
		out[i] = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
	pwhash_wipe(s, sizeof(*s));
}

void
pwhash_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen,
	       const void *in, size_t inlen)
{
	struct b2b s;

	if (outlen == 0 || outlen > 64 || keylen > 64)
		return;
	b2b_init(&s, outlen, key, keylen);
	b2b_update(&s, in, inlen);
	b2b_final(&s, out);
}

/* ---- "$3$": 3proxy's BLAKE2b crypt (acl-auth.md 3.1, F-AUTH-11) --------- */

static const char crypt_alpha[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Emit `n` base-64 characters of v, least significant 6 bits first, as
 * the MD5-crypt tail does. */
static char *
put64(char *p, unsigned long v, int n)
{
	while (n-- > 0) {
		*p++ = crypt_alpha[v & 0x3f];
		v >>= 6;
	}
	return p;
}

static int
crypt3(const char *password, const char *setting, char *out, size_t len)
{
	const char *salt = setting + 3, *end = strchr(salt, '$');
	size_t slen = end ? (size_t)(end - salt) : strlen(salt);
	size_t plen = pass_len(password);
	uint8_t msg[PWHASH_MAXPASS + 1 + PWHASH_CRYPT_MAX], d[16];
	char tail[23], *p = tail;
	static const int grp[5][3] = {
		{ 0, 6, 12 }, { 1, 7, 13 }, { 2, 8, 14 }, { 3, 9, 15 },
		{ 4, 10, 5 }
	};
	int i;

	if (slen > PWHASH_CRYPT_MAX || 3 + slen + 1 + 22 + 1 > len)
		return -1;
	/* digest = BLAKE2b-128(password, 0x00, salt) */
	memcpy(msg, password, plen);
	msg[plen] = 0;
	memcpy(msg + plen + 1, salt, slen);
	pwhash_blake2b(d, sizeof(d), NULL, 0, msg, plen + 1 + slen);
	pwhash_wipe(msg, sizeof(msg));
	for (i = 0; i < 5; i++) {
		unsigned long v = ((unsigned long)d[grp[i][0]] << 16) |
				  ((unsigned long)d[grp[i][1]] << 8) |
				  d[grp[i][2]];

		p = put64(p, v, 4);
	}
	p = put64(p, d[11], 2);
	*p = '\0';
	pwhash_wipe(d, sizeof(d));
	memcpy(out, "$3$", 3);
	memcpy(out + 3, salt, slen);
	out[3 + slen] = '$';
	memcpy(out + 4 + slen, tail, sizeof(tail));
	return 0;
}

/* ---- crypt(3) ----------------------------------------------------------- */

#ifdef HAVE_LIBCRYPT
static int
sys_crypt(const char *password, const char *setting, char *out, size_t len)
{
	/* struct crypt_data is tens of KiB: never on a worker's stack. */
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char pw[PWHASH_MAXPASS + 1];
	const char *r;
	size_t n;
	int rc = -1;

	if (cd == NULL)
		return -1;
	n = pass_len(password);
	memcpy(pw, password, n);
	pw[n] = '\0';
	r = crypt_r(pw, setting, cd);
	/* Failure is NULL or a string starting with '*' (libxcrypt). */
	if (r != NULL && r[0] != '*' && strlen(r) < len) {
		memcpy(out, r, strlen(r) + 1);
		rc = 0;
	}
	pwhash_wipe(pw, sizeof(pw));
	pwhash_wipe(cd, sizeof(*cd));
	free(cd);
	return rc;
}
#endif

int
pwhash_crypt(const char *password, const char *setting, char *out,
	     size_t len)
{
	if (strncmp(setting, "$3$", 3) == 0)
		return crypt3(password, setting, out, len);
#ifdef HAVE_LIBCRYPT
	return sys_crypt(password, setting, out, len);
#else
	return -1;
#endif
}

int
pwhash_crypt_check(const char *password, const char *stored)
{
	char buf[PWHASH_CRYPT_MAX + 1];
	int ok;

	if (pwhash_crypt(password, stored, buf, sizeof(buf)) != 0)
		return 0;
	ok = pwhash_equal(buf, stored);
	pwhash_wipe(buf, sizeof(buf));
	return ok;
}
