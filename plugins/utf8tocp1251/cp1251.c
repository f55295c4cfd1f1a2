/*
 * cp1251.c - UTF-8 to Windows-1251 (see cp1251.h).
 */
#include "cp1251.h"

#include <stdint.h>
#include <string.h>

/* The code points of Windows-1251 bytes 0x80..0xBF (0: no character);
 * bytes 0xC0..0xFF are U+0410..U+044F, the Cyrillic alphabet. */
static const uint16_t upper_half[64] = {
	0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021,
	0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
	0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x0000, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
	0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7,
	0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
	0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7,
	0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
};

/* The Windows-1251 byte of code point c, or 0 when it has none. */
static unsigned char to_byte(uint32_t c)
{
	unsigned i;

	if (c < 0x80)
		return (unsigned char)c;
	if (c >= 0x0410 && c <= 0x044F)
		return (unsigned char)(0xC0 + (c - 0x0410));
	for (i = 0; i < 64; i++)
		if (upper_half[i] != 0 && upper_half[i] == c)
			return (unsigned char)(0x80 + i);
	return 0;
}

/* Decode one UTF-8 character at p (strict: no overlong forms, no
 * surrogates, at most U+10FFFF).  Returns its length, or 0 if invalid. */
static size_t utf8_next(const unsigned char *p, uint32_t *out)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80) {
		*out = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		c = p[0] & 0x1Fu;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		c = p[0] & 0x0Fu;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		c = p[0] & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0u) != 0x80u)   /* also stops at the NUL */
			return 0;
		c = (c << 6) | (p[i] & 0x3Fu);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*out = c;
	return n;
}

/* Check the whole string first, so a string that cannot be converted is
 * never half-written. */
static int convertible(const unsigned char *p, int *wide)
{
	uint32_t c;
	size_t n;

	*wide = 0;
	while (*p != '\0') {
		n = utf8_next(p, &c);
		if (n == 0 || to_byte(c) == 0)
			return 0;
		if (n > 1)
			*wide = 1;
		p += n;
	}
	return 1;
}

int cp1251_from_utf8(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = in;
	uint32_t c;
	int wide;

	if (s == NULL || !convertible(in, &wide) || !wide)
		return 0;
	while (*in != '\0') {
		in += utf8_next(in, &c);
		*out++ = to_byte(c);
	}
	*out = '\0';
	return 1;
}
