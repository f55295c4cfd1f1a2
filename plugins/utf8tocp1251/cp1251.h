/*
 * cp1251.h - UTF-8 to Windows-1251 conversion of a string in place, for
 * the utf8tocp1251 plugin (plugins.md 5.8).
 */
#ifndef PX_CP1251_H
#define PX_CP1251_H

#include <stddef.h>

/* Convert the NUL-terminated UTF-8 string s to Windows-1251 in place.
 * The result is never longer: every character outside ASCII takes at
 * least two bytes in UTF-8 and one in Windows-1251.  A string that is
 * not valid UTF-8 (it may be Windows-1251 already) or has a character
 * Windows-1251 lacks is left as it is.  Returns 1 if s changed, else 0. */
int cp1251_from_utf8(char *s);

#endif
