/* parse_netdev on any bytes, against a reference reading of each line (host_reference.h): lines
 * holding '|' are headers; every other complete line is a row — the name (blanks trimmed) up to
 * the first ':', then exactly 16 numbers — or invalid. The rows delivered are exactly the valid
 * lines in order with the same values; -1 exactly when a line was invalid. */
#include <stdint.h>
#include <string.h>

#include "host_parse.h"

#include "fuzz_common.h"
#include "host_reference.h"

#define MAX_ROWS 512

struct rows {
	struct netdev_row row[MAX_ROWS];
	size_t n;
	bool overflow;
};

static void add(const struct netdev_row *row, void *arg)
{
	struct rows *r = arg;
	if (r->n == MAX_ROWS) {
		r->overflow = true;
		return;
	}
	r->row[r->n++] = *row;
}

static bool reference(const uint8_t *line, size_t len, struct netdev_row *want)
{
	memset(want, 0, sizeof(*want));
	if (memchr(line, '\0', len))
		return false; /* in the name it is refused, anywhere else it spoils a number */
	const uint8_t *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	struct ref_line name, nums;
	ref_split(line, (size_t)(colon - line), &name);
	bool ok = name.ntok == 1 && !name.too_many && strlen(name.tok[0]) < NETDEV_NAME_MAX;
	if (ok)
		strcpy(want->name, name.tok[0]);
	ref_free(&name);
	ref_split(colon + 1, len - (size_t)(colon - line) - 1, &nums);
	ok = ok && !nums.too_many && nums.ntok == NETDEV_FIELD__COUNT;
	for (size_t i = 0; ok && i < NETDEV_FIELD__COUNT; i++)
		ok = ref_u64(nums.tok[i], strlen(nums.tok[i]), &want->v[i]);
	ref_free(&nums);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rows got;
	got.n = 0;
	got.overflow = false;
	int rc = parse_netdev((const char *)data, size, add, &got);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (got.overflow)
		return 0;
	size_t k = 0;
	bool any_invalid = false;
	size_t complete = fuzz_complete_lines(data, size);
	for (size_t at = 0; at < complete;) {
		const uint8_t *nl = memchr(data + at, '\n', complete - at);
		size_t len = (size_t)(nl - (data + at));
		struct netdev_row want;
		if (memchr(data + at, '|', len)) {
			/* a header */
		} else if (reference(data + at, len, &want)) {
			FUZZ_CHECK(k < got.n, "valid line at offset %zu not delivered", at);
			const struct netdev_row *r = &got.row[k++];
			FUZZ_CHECK(strcmp(r->name, want.name) == 0, "name \"%s\", want \"%s\"",
			           r->name, want.name);
			FUZZ_CHECK(memcmp(r->v, want.v, sizeof(want.v)) == 0, "values of %s",
			           r->name);
		} else {
			any_invalid = true;
		}
		at += len + 1;
	}
	FUZZ_CHECK(k == got.n, "%zu rows delivered, %zu valid lines", got.n, k);
	FUZZ_CHECK((rc == -1) == any_invalid, "returned %d, invalid lines: %d", rc, any_invalid);
	return 0;
}
