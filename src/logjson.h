/*
 * logjson.h - `logformat json`: one access record as one JSON object
 * (JSON Lines), an addition beyond the original 3proxy.
 *
 * Pure: no clock, no I/O, no locks; the record (logformat.h) carries
 * everything.  Every string value is escaped here (json_escape):
 * quote and backslash, control characters as \u00XX, DEL as \u007f,
 * and every byte that is not part of a well-formed UTF-8 sequence as
 * \ufffd (U+FFFD, the replacement character).  The object is always
 * complete: when the line buffer is short, string values are cut at a
 * character boundary, never inside an escape.
 */
#ifndef PX_LOGJSON_H
#define PX_LOGJSON_H

#include <stddef.h>
#include "logformat.h"

/* The format string that selects JSON output (exactly this text). */
#define LOGJSON_FORMAT "json"

/* 1 if fmt selects the JSON format. */
int logjson_selected(const char *fmt);

/* Escape s[0..n) as the inside of a JSON string into out[0..cap),
 * writing only whole escapes.  Returns the bytes written; *used gets
 * the input bytes consumed (less than n when out is full). */
size_t json_escape(char *out, size_t cap, const char *s, size_t n,
		   size_t *used);

/* Write rec as one JSON object into out (NUL-terminated, at most
 * outlen-1 bytes; outlen must be at least LOGJSON_MIN).  Returns the
 * length.  A smaller buffer gets an empty string. */
#define LOGJSON_MIN 1024
size_t logjson_write(char *out, size_t outlen, const struct log_record *rec);

#endif
