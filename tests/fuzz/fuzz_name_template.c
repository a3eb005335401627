/* name_template_parse on any bytes (the length is passed; no NUL follows the text), and
 * name_template_expand of every template that parses, with hostile values: quotes, backslashes,
 * newlines, NULs cut short, invalid UTF-8, a 64 KiB value, and the input itself. Checked:
 * - a failed parse says something, with an offset within the text; parsing twice agrees;
 * - an expansion keeps what was in the buffer, appends at most `limit` bytes, and is
 *   deterministic;
 * - a smaller limit gives a prefix of the full expansion, the whole of it when it fits, and
 *   when the full expansion is valid UTF-8, a cut one is too and loses at most 3 bytes more than
 *   the limit asks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "name_template.h"

#include "fuzz_common.h"

#define PREFIX     "prefix\xe2\x82"
#define HUGE_BYTES (64 * 1024)

static const size_t limits[] = {0, 1, 2, 3, 7, 255, 4096};

static void expand(const struct name_template *t, const struct name_values *v, size_t limit,
                   struct buf *out)
{
	buf_reset(out);
	buf_puts(out, PREFIX);
	name_template_expand(t, v, limit, out);
	FUZZ_CHECK(memcmp(out->data, PREFIX, strlen(PREFIX)) == 0, "the prefix was changed");
	FUZZ_CHECK(out->data[out->len] == '\0', "not NUL-terminated");
}

static void check_values(const struct name_template *t, const struct name_values *v)
{
	const size_t pre = strlen(PREFIX);
	struct buf full, again, cut;
	buf_init(&full);
	buf_init(&again);
	buf_init(&cut);
	expand(t, v, SIZE_MAX, &full);
	expand(t, v, SIZE_MAX, &again);
	FUZZ_CHECK(full.len == again.len && memcmp(full.data, again.data, full.len) == 0,
	           "two expansions differ");
	const char *whole = full.data + pre;
	size_t whole_len = full.len - pre;
	bool valid = fuzz_utf8_valid(whole, whole_len);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		size_t limit = limits[i];
		expand(t, v, limit, &cut);
		size_t n = cut.len - pre;
		FUZZ_CHECK(n <= limit, "%zu bytes with a limit of %zu", n, limit);
		FUZZ_CHECK(n <= whole_len && memcmp(cut.data + pre, whole, n) == 0,
		           "the cut expansion is not a prefix of the whole one (limit %zu)", limit);
		if (whole_len <= limit)
			FUZZ_CHECK(n == whole_len, "%zu of %zu bytes with a limit of %zu", n,
			           whole_len, limit);
		else if (valid) {
			FUZZ_CHECK(fuzz_utf8_valid(cut.data + pre, n),
			           "a cut at %zu split a character", limit);
			FUZZ_CHECK(n + 3 >= limit, "cut to %zu bytes with a limit of %zu", n,
			           limit);
		}
	}
	buf_free(&full);
	buf_free(&again);
	buf_free(&cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128], err2[128];
	size_t offset = SIZE_MAX, offset2 = SIZE_MAX;
	memset(err, 0, sizeof(err));
	struct name_template *t =
	    name_template_parse((const char *)data, size, &offset, err, sizeof(err));
	struct name_template *t2 =
	    name_template_parse((const char *)data, size, &offset2, err2, sizeof(err2));
	FUZZ_CHECK(!t == !t2, "parsed once, not the second time");
	if (!t) {
		FUZZ_CHECK(err[0], "no message");
		FUZZ_CHECK(offset <= size, "offset %zu past the %zu bytes", offset, size);
		FUZZ_CHECK(offset == offset2 && strcmp(err, err2) == 0,
		           "two parses disagree: \"%s\" at %zu, \"%s\" at %zu", err, offset, err2,
		           offset2);
		return 0;
	}
	name_template_free(t2);

	char *self = fuzz_strndup(data, size);
	char *huge = malloc(HUGE_BYTES + 1);
	FUZZ_CHECK(huge, "out of memory");
	for (size_t i = 0; i < HUGE_BYTES; i++)
		huge[i] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\""[i % 12];
	huge[HUGE_BYTES] = '\0';

	struct name_match matches[] = {
	    {"jar", "a\"b\\c\nd", 7}, {"Cfgfile", "\xff\xfe\xc0\x80", 4}, {"x", "nul\0inside", 10},
	    {"jar", "second", 6},     {"big", huge, HUGE_BYTES},          {"self", self, size},
	};
	struct name_values hostile = {
	    .comm = "a\"b\\c\nd",
	    .exe_base = "\xe2\x82",
	    .exe_full = huge,
	    .username = "{{.Comm}}",
	    .cgroup = self,
	    .unit = "\xed\xa0\x80.service",
	    .pid = -1,
	    .start_time = INT64_MIN,
	    .matches = matches,
	    .nmatches = sizeof(matches) / sizeof(matches[0]),
	};
	struct name_values empty = {0};
	struct name_values readable = {
	    .comm = "caf\xc3\xa9",
	    .exe_base = "\xe2\x82\xac\xe2\x82\xac",
	    .exe_full = "/usr/bin/\xf0\x9f\x98\x80",
	    .username = self,
	    .pid = 4194304,
	    .start_time = 1700000000,
	};
	check_values(t, &hostile);
	check_values(t, &empty);
	check_values(t, &readable);

	free(huge);
	free(self);
	name_template_free(t);
	return 0;
}
