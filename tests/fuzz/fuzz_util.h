/*
 * fuzz_util.h - small helpers shared by the fuzz harnesses: copies of
 * the input sized exactly (so ASan catches a read one past the end) and
 * a way to take selector bytes off the front of the input.
 */
#ifndef PX_FUZZ_UTIL_H
#define PX_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data[0..n) plus a NUL; NULL when out of memory.
 * Embedded NULs stay, so C-string parsers see a shorter string. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, data, n);
		s[n] = '\0';
	}
	return s;
}

/* A malloc'd copy of exactly n bytes (at least one allocated). */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (p != NULL && n > 0)
		memcpy(p, data, n);
	return p;
}

/* Take one selector byte off the front (0 when the input is empty). */
static inline uint8_t fuzz_take(const uint8_t **data, size_t *size)
{
	uint8_t b = 0;

	if (*size > 0) {
		b = **data;
		(*data)++;
		(*size)--;
	}
	return b;
}

/* Keep the compiler from dropping a parser's results as unused. */
static inline void fuzz_use(const void *p, size_t n)
{
	volatile uint8_t sink = 0;
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		sink ^= b[i];
	(void)sink;
}

#endif
