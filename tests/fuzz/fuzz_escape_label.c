/* The escapers on any bytes (NULs included: both take a length): expo_escape_label_value, and
 * expo_escape_help in both formats; and expo_valid_utf8 (protobuf's text), which must give
 * exactly the oracle's sanitized input. For the escapers, checked against the independent oracle
 * in fuzz_common.h:
 * - what was there before in the buffer is kept, the result is NUL-terminated and at most three
 *   times the input;
 * - the result is valid UTF-8 with no raw newline, CR or NUL; label values and OpenMetrics HELP
 *   have no raw double quote; the only escapes are \\, \n and (not in text-format HELP) \";
 * - unescaping gives back the input with every ill-formed UTF-8 subpart, NUL and CR replaced by
 *   U+FFFD - so valid UTF-8 without NUL or CR comes back byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"

#include "fuzz_common.h"

#define PREFIX "prefix\"\\\n"

enum escaper { LABEL, HELP_TEXT, HELP_OPENMETRICS };

static const char *const escaper_names[] = {"label value", "text HELP", "OpenMetrics HELP"};

static void run(enum escaper which, const char *in, size_t len, const char *want, size_t want_len,
                char *scratch)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, PREFIX);
	if (which == LABEL)
		expo_escape_label_value(&b, in, len);
	else
		expo_escape_help(&b, in, len, which == HELP_TEXT ? EXPO_TEXT : EXPO_OPENMETRICS);

	const char *what = escaper_names[which];
	FUZZ_CHECK(b.len >= strlen(PREFIX) && memcmp(b.data, PREFIX, strlen(PREFIX)) == 0,
	           "%s: the buffer's previous contents changed", what);
	FUZZ_CHECK(b.data[b.len] == '\0', "%s: not NUL-terminated", what);
	const char *out = b.data + strlen(PREFIX);
	size_t out_len = b.len - strlen(PREFIX);
	FUZZ_CHECK(out_len <= 3 * len, "%s: %zu bytes from %zu", what, out_len, len);
	FUZZ_CHECK(!memchr(out, '\0', out_len) && !memchr(out, '\r', out_len),
	           "%s: raw NUL or CR in the output", what);
	FUZZ_CHECK(fuzz_utf8_valid(out, out_len), "%s: invalid UTF-8 in the output", what);

	size_t got_len;
	bool quote = which != HELP_TEXT;
	if (!fuzz_unescape(out, out_len, quote, scratch, &got_len)) {
		fuzz_print_bytes("output", out, out_len);
		FUZZ_CHECK(false, "%s: raw newline or quote, or an invalid escape", what);
	}
	if (got_len != want_len || memcmp(scratch, want, want_len) != 0) {
		fuzz_print_bytes("input", in, len);
		fuzz_print_bytes("output", out, out_len);
		fuzz_print_bytes("expected after unescaping", want, want_len);
		FUZZ_CHECK(false, "%s: unescaping does not give back the sanitized input", what);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *want = malloc(3 * size + 1);
	char *scratch = malloc(3 * size + 1);
	FUZZ_CHECK(want && scratch, "out of memory");
	size_t want_len = fuzz_utf8_sanitize(in, size, want);

	run(LABEL, in, size, want, want_len, scratch);
	run(HELP_TEXT, in, size, want, want_len, scratch);
	run(HELP_OPENMETRICS, in, size, want, want_len, scratch);

	struct buf b;
	buf_init(&b);
	buf_puts(&b, PREFIX);
	expo_valid_utf8(&b, in, size);
	if (b.len != strlen(PREFIX) + want_len || memcmp(b.data, PREFIX, strlen(PREFIX)) != 0 ||
	    memcmp(b.data + strlen(PREFIX), want, want_len) != 0 || b.data[b.len] != '\0') {
		fuzz_print_bytes("input", in, size);
		fuzz_print_bytes("output", b.data, b.len);
		FUZZ_CHECK(false, "expo_valid_utf8 is not the sanitized input");
	}
	buf_free(&b);

	free(want);
	free(scratch);
	return 0;
}
