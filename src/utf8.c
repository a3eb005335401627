#include "utf8.h"

size_t utf8_char(const unsigned char *s, size_t avail)
{
	unsigned char ch = s[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (ch < 0x80)
		return 1;
	if (ch >= 0xc2 && ch <= 0xdf) {
		n = 2;
	} else if (ch >= 0xe0 && ch <= 0xef) {
		n = 3;
		lo = ch == 0xe0 ? 0xa0 : lo;
		hi = ch == 0xed ? 0x9f : hi;
	} else if (ch >= 0xf0 && ch <= 0xf4) {
		n = 4;
		lo = ch == 0xf0 ? 0x90 : lo;
		hi = ch == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}
