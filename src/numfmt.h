/*
 * numfmt.h - unsigned decimals without printf length modifiers.
 *
 * The C libraries the project builds with disagree on %llu, %ju and %zu
 * (mingw's printf), so 64-bit and size_t values are written by hand,
 * here, once.
 */
#ifndef PX_NUMFMT_H
#define PX_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any uint64_t: 20 digits and the NUL. */
#define NUMFMT_U64_SIZE 21

/* Write v in decimal, zero-padded to at least width digits (at most 20),
 * into buf (NUMFMT_U64_SIZE bytes), NUL-terminated.  Returns the number
 * of digits. */
static inline size_t numfmt_u64(char *buf, uint64_t v, int width)
{
	char tmp[NUMFMT_U64_SIZE];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while ((int)n < width && n < NUMFMT_U64_SIZE - 1)
		tmp[n++] = '0';
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

#endif
