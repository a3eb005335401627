/* parse_diskstats on any bytes, against a reference reading of each line (host_reference.h):
 * - the rows delivered are exactly the valid complete lines, in order, with the same name, device
 *   numbers, field count and values; the return value is -1 exactly when a complete line was
 *   invalid;
 * - a name is non-empty, shorter than DISK_NAME_MAX and free of NUL bytes (never cut). */
#include <stdint.h>
#include <string.h>

#include "host_parse.h"

#include "fuzz_common.h"
#include "host_reference.h"

#define MAX_ROWS 512

struct rows {
	struct disk_row row[MAX_ROWS];
	size_t n;
	bool overflow;
};

static void add(const struct disk_row *row, void *arg)
{
	struct rows *r = arg;
	if (r->n == MAX_ROWS) {
		r->overflow = true;
		return;
	}
	r->row[r->n++] = *row;
}

/* What the parser must make of one line (the line's own bytes, any of them NUL). */
static bool reference(const uint8_t *line, size_t len, struct disk_row *want)
{
	if (memchr(line, '\0', len)) {
		/* A NUL can only stand in the name (elsewhere it spoils a number) and a name with a
		 * NUL is refused: either way the line is invalid. */
		return false;
	}
	struct ref_line l;
	ref_split(line, len, &l);
	bool ok = !l.too_many && l.ntok >= 3 + 11;
	uint64_t v;
	memset(want, 0, sizeof(*want));
	if (ok) {
		ok = ref_u64(l.tok[0], strlen(l.tok[0]), &v) && v <= 0xffffffffu;
		want->major = (unsigned)v;
	}
	if (ok) {
		ok = ref_u64(l.tok[1], strlen(l.tok[1]), &v) && v <= 0xffffffffu;
		want->minor = (unsigned)v;
	}
	if (ok) {
		size_t n = strlen(l.tok[2]);
		ok = n > 0 && n < DISK_NAME_MAX;
		if (ok)
			memcpy(want->name, l.tok[2], n + 1);
	}
	size_t nums = ok ? l.ntok - 3 : 0;
	ok = ok && (nums == 11 || nums == 15 || nums >= 17);
	for (size_t i = 0; ok && i < nums; i++) {
		ok = ref_u64(l.tok[3 + i], strlen(l.tok[3 + i]), &v);
		if (i < DISK_FIELD__COUNT)
			want->v[i] = v;
	}
	want->nfields = (unsigned)(nums < DISK_FIELD__COUNT ? nums : DISK_FIELD__COUNT);
	ref_free(&l);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rows got;
	got.n = 0;
	got.overflow = false;
	int rc = parse_diskstats((const char *)data, size, add, &got);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (got.overflow)
		return 0;

	size_t k = 0;
	bool any_invalid = false;
	size_t complete = fuzz_complete_lines(data, size);
	for (size_t at = 0; at < complete;) {
		const uint8_t *nl = memchr(data + at, '\n', complete - at);
		size_t len = (size_t)(nl - (data + at));
		struct disk_row want;
		if (reference(data + at, len, &want)) {
			FUZZ_CHECK(k < got.n, "valid line at offset %zu not delivered", at);
			const struct disk_row *r = &got.row[k++];
			FUZZ_CHECK(strcmp(r->name, want.name) == 0, "name \"%s\", want \"%s\"",
			           r->name, want.name);
			FUZZ_CHECK(r->major == want.major && r->minor == want.minor,
			           "device numbers");
			FUZZ_CHECK(r->nfields == want.nfields, "nfields %u, want %u", r->nfields,
			           want.nfields);
			for (unsigned i = 0; i < want.nfields; i++)
				FUZZ_CHECK(r->v[i] == want.v[i], "field %u", i);
		} else {
			any_invalid = true;
		}
		at += len + 1;
	}
	FUZZ_CHECK(k == got.n, "%zu rows delivered, %zu valid lines", got.n, k);
	FUZZ_CHECK((rc == -1) == any_invalid, "returned %d, invalid lines: %d", rc, any_invalid);
	return 0;
}
