/* Well-formed UTF-8, as the exposition formats, JSON and the configuration need it. */
#ifndef KOBS_UTF8_H
#define KOBS_UTF8_H

#include <stddef.h>

/* The length of the well-formed UTF-8 character at `s` (Unicode Table 3-7) within `avail`
 * bytes, or 0 when the bytes there are not one (an invalid byte, an overlong form, a surrogate,
 * beyond U+10FFFF, or cut short). */
size_t utf8_char(const unsigned char *s, size_t avail);

#endif
