/* parse_pressure on any bytes (/proc/pressure/{cpu,memory,io}). Beyond "no crash, no read past
 * len":
 * - the result depends on the input alone and only on its complete lines;
 * - success means a valid "some" line was found;
 * - a line that is present has finite, non-negative averages; one that is absent is all zero;
 * - a line is only present when its keyword is in the input. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"

static int parse(const uint8_t *data, size_t size, struct pressure *out, int garbage)
{
	memset(out, garbage, sizeof(*out));
	return parse_pressure((const char *)data, size, out);
}

static void check_line(const struct pressure_line *l, const char *kind, const uint8_t *data,
                       size_t size)
{
	if (!l->present) {
		FUZZ_CHECK(l->avg10 == 0 && l->avg60 == 0 && l->avg300 == 0 && l->total_us == 0,
		           "%s absent but not zero", kind);
		return;
	}
	FUZZ_CHECK(memmem(data, size, kind, strlen(kind)), "%s present but not in the input", kind);
	FUZZ_CHECK(isfinite(l->avg10) && l->avg10 >= 0, "%s avg10 = %g", kind, l->avg10);
	FUZZ_CHECK(isfinite(l->avg60) && l->avg60 >= 0, "%s avg60 = %g", kind, l->avg60);
	FUZZ_CHECK(isfinite(l->avg300) && l->avg300 >= 0, "%s avg300 = %g", kind, l->avg300);
}

/* Field by field: the struct has padding, which the parser need not keep. */
static bool same_line(const struct pressure_line *a, const struct pressure_line *b)
{
	return a->present == b->present && a->avg10 == b->avg10 && a->avg60 == b->avg60 &&
	       a->avg300 == b->avg300 && a->total_us == b->total_us;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pressure p, again;
	int rc = parse(data, size, &p, 0xa5);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

	int rc2 = parse(data, fuzz_complete_lines(data, size), &again, 0x5a);
	FUZZ_CHECK(rc2 == rc, "%d on the whole input, %d on its complete lines", rc, rc2);
	FUZZ_CHECK(same_line(&p.some, &again.some) && same_line(&p.full, &again.full),
	           "output depends on the unterminated tail or on the output's old contents");

	FUZZ_CHECK(rc == (p.some.present ? 0 : -1), "returned %d with some.present=%d", rc,
	           p.some.present);
	check_line(&p.some, "some", data, size);
	check_line(&p.full, "full", data, size);
	return 0;
}
