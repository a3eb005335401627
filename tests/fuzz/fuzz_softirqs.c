/* parse_softirqs on any bytes. Beyond "no crash, no read past len":
 * - *n <= max, and entries past *n are not touched (checked with a canary), for a small and a
 *   large `max`; the rows from the small one are the first rows from the large one;
 * - failure leaves *n at 0; success with room for rows gives at least one;
 * - names are non-empty, NUL-terminated within SOFTIRQ_NAME_MAX and made of [A-Za-z0-9_];
 * - the result depends on the input alone and only on its complete lines. */
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"

#define SMALL  3
#define LARGE  64
#define CANARY 0xa5

static int parse(const uint8_t *data, size_t size, struct softirq_total *out, size_t max, size_t *n)
{
	memset(out, CANARY, sizeof(*out) * (max + 1));
	*n = (size_t)-1;
	return parse_softirqs((const char *)data, size, out, max, n);
}

static void check(int rc, const struct softirq_total *rows, size_t max, size_t n)
{
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	FUZZ_CHECK(n <= max, "n=%zu > max=%zu", n, max);
	if (rc == -1)
		FUZZ_CHECK(n == 0, "failed with n=%zu", n);
	else if (max > 0)
		FUZZ_CHECK(n >= 1, "success without rows");
	for (size_t i = 0; i < n; i++) {
		const char *name = rows[i].name;
		size_t len = strnlen(name, SOFTIRQ_NAME_MAX);
		FUZZ_CHECK(len > 0 && len < SOFTIRQ_NAME_MAX, "row %zu: name length %zu", i, len);
		FUZZ_CHECK(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                        "0123456789_") == len,
		           "row %zu: name \"%s\"", i, name);
	}
	const unsigned char *after = (const unsigned char *)&rows[max];
	for (size_t i = 0; i < sizeof(rows[max]); i++)
		FUZZ_CHECK(after[i] == CANARY, "wrote past max=%zu", max);
}

/* Rows compare by name (up to its NUL: the bytes after it are unspecified) and total. */
static bool same_rows(const struct softirq_total *a, const struct softirq_total *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || a[i].total != b[i].total)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct softirq_total small[SMALL + 1], large[LARGE + 1], complete[LARGE + 1];
	size_t n_small, n_large, n_complete;

	int rc_small = parse(data, size, small, SMALL, &n_small);
	int rc_large = parse(data, size, large, LARGE, &n_large);
	check(rc_small, small, SMALL, n_small);
	check(rc_large, large, LARGE, n_large);
	FUZZ_CHECK(rc_small == rc_large, "returned %d with max=%d, %d with max=%d", rc_small, SMALL,
	           rc_large, LARGE);
	FUZZ_CHECK(n_small == (n_large < SMALL ? n_large : SMALL), "n=%zu with max=%d, %zu with %d",
	           n_small, SMALL, n_large, LARGE);
	FUZZ_CHECK(same_rows(small, large, n_small),
	           "the first rows differ between max=%d and max=%d", SMALL, LARGE);

	int rc_complete =
	    parse(data, fuzz_complete_lines(data, size), complete, LARGE, &n_complete);
	FUZZ_CHECK(rc_complete == rc_large && n_complete == n_large &&
	               same_rows(complete, large, n_large),
	           "the unterminated last line changed the result");

	/* max = 0: no room, nothing written, but the return code still reports validity. */
	struct softirq_total none[1];
	size_t n_none;
	int rc_none = parse(data, size, none, 0, &n_none);
	check(rc_none, none, 0, n_none);
	FUZZ_CHECK(rc_none == rc_large, "returned %d with max=0, %d with max=%d", rc_none, rc_large,
	           LARGE);
	return 0;
}
