/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): a property check that aborts, so that
 * libFuzzer saves the input, and the small helpers several harnesses need. Header-only and
 * `static inline`, because each harness is built as one program from its own source file and the
 * parser sources it drives (tests/fuzz/run.sh).
 *
 * The UTF-8 code here is written independently of src/expo.c on purpose: it is the oracle the
 * writer is checked against, so it follows the table of well-formed byte sequences in the Unicode
 * standard (Table 3-7) rather than expo.c's byte-by-byte state machine. */
#ifndef KOBS_FUZZ_COMMON_H
#define KOBS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort with the failed condition and a formatted explanation. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "\nproperty violated at %s:%d: %s\n  ", __FILE__,          \
			        __LINE__, #cond);                                                  \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The length of the input up to and including its last '\n' (0 when there is none): the part
 * the /proc parsers may use, since they ignore an unterminated last line. */
static inline size_t fuzz_complete_lines(const uint8_t *data, size_t size)
{
	while (size && data[size - 1] != '\n')
		size--;
	return size;
}

/* A NUL-terminated heap copy of the input (which may itself hold NULs: C string APIs see only
 * what precedes the first one). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s, "out of memory");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline char fuzz_ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether `needle` (lower case) occurs in `haystack`, ignoring ASCII case. */
static inline bool fuzz_contains_nocase(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *h = haystack; *h; h++) {
		size_t i = 0;
		while (i < n && h[i] && fuzz_ascii_lower(h[i]) == needle[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* ---- UTF-8 ---- */

/* Unicode Table 3-7, "Well-Formed UTF-8 Byte Sequences": one row per range of first bytes, with
 * the allowed range of each following byte. */
struct fuzz_utf8_row {
	unsigned char len;
	unsigned char lo[4];
	unsigned char hi[4];
};

static const struct fuzz_utf8_row fuzz_utf8_rows[] = {
    {1, {0x00}, {0x7f}},
    {2, {0xc2, 0x80}, {0xdf, 0xbf}},
    {3, {0xe0, 0xa0, 0x80}, {0xe0, 0xbf, 0xbf}},
    {3, {0xe1, 0x80, 0x80}, {0xec, 0xbf, 0xbf}},
    {3, {0xed, 0x80, 0x80}, {0xed, 0x9f, 0xbf}},
    {3, {0xee, 0x80, 0x80}, {0xef, 0xbf, 0xbf}},
    {4, {0xf0, 0x90, 0x80, 0x80}, {0xf0, 0xbf, 0xbf, 0xbf}},
    {4, {0xf1, 0x80, 0x80, 0x80}, {0xf3, 0xbf, 0xbf, 0xbf}},
    {4, {0xf4, 0x80, 0x80, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}},
};

/* The length of the well-formed character at `p`, or 0 when there is none; then *subpart is the
 * length of the maximal subpart (Unicode 3.9): the longest prefix that could still begin a
 * well-formed sequence, at least 1. */
static inline size_t fuzz_utf8_char(const unsigned char *p, size_t avail, size_t *subpart)
{
	size_t best = 0;
	for (size_t r = 0; r < sizeof(fuzz_utf8_rows) / sizeof(fuzz_utf8_rows[0]); r++) {
		const struct fuzz_utf8_row *row = &fuzz_utf8_rows[r];
		size_t k = 0;
		while (k < row->len && k < avail && p[k] >= row->lo[k] && p[k] <= row->hi[k])
			k++;
		if (k == row->len) {
			*subpart = k;
			return k;
		}
		if (k > best)
			best = k;
	}
	*subpart = best ? best : 1;
	return 0;
}

static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, sub;
	while (i < len) {
		size_t n = fuzz_utf8_char(p + i, len - i, &sub);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* What kobsd promises to make of any bytes before escaping: each maximal subpart of an ill-formed
 * sequence, each NUL and each CR becomes U+FFFD; everything else is kept. `out` needs 3 * len
 * bytes; returns the length written. */
static inline size_t fuzz_utf8_sanitize(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, sub;
	while (i < len) {
		size_t n = fuzz_utf8_char(p + i, len - i, &sub);
		if (n && p[i] != '\0' && p[i] != '\r') {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += n ? n : sub;
		}
	}
	return o;
}

/* Undo exposition escaping: `\\` and `\n` always, `\"` when `quote` is allowed. Returns false on
 * any other escape, a trailing lone backslash, a raw newline, or (when `quote`) a raw double
 * quote. `out` needs `len` bytes; *outlen gets the unescaped length. */
static inline bool fuzz_unescape(const char *s, size_t len, bool quote, char *out, size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\n' || (quote && c == '"'))
			return false;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i == len)
			return false;
		if (s[i] == '\\')
			out[o++] = '\\';
		else if (s[i] == 'n')
			out[o++] = '\n';
		else if (quote && s[i] == '"')
			out[o++] = '"';
		else
			return false;
	}
	*outlen = o;
	return true;
}

/* Print at most 64 bytes of `s` escaped, for failure messages. */
static inline void fuzz_print_bytes(const char *what, const void *s, size_t len)
{
	const unsigned char *p = s;
	fprintf(stderr, "  %s (%zu bytes): \"", what, len);
	for (size_t i = 0; i < len && i < 64; i++)
		fprintf(stderr, p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? "%c" : "\\x%02x",
		        p[i]);
	fprintf(stderr, "\"%s\n", len > 64 ? "..." : "");
}

#endif
