/* parse_mountinfo on any bytes. Beyond "no crash, no read past len or past the scratch":
 * - the rows depend only on the complete lines, and there are at most as many as lines;
 * - each string handed on is non-empty, NUL-terminated inside the scratch, and holds no byte the
 *   kernel escapes raw (a blank or a newline could come only from an escape, so a field without
 *   a backslash comes through as it is);
 * - a scratch too small for a line makes that line invalid, never cut: with a smaller scratch
 *   the rows are a subsequence of those with a large one. */
#include <stdint.h>
#include <string.h>

#include "host_parse.h"

#include "fuzz_common.h"

#define MAX_ROWS 256
#define LARGE    8192
#define SMALL    24

struct row_copy {
	char mount_point[LARGE], fstype[LARGE], source[LARGE];
	bool read_only;
	unsigned major, minor;
};

struct rows {
	struct row_copy *row;
	size_t n;
	bool overflow;
	const char *scratch;
	size_t scratch_len;
};

static void check_string(const struct rows *r, const char *s, const char *what)
{
	FUZZ_CHECK(s >= r->scratch && s < r->scratch + r->scratch_len, "%s outside the scratch",
	           what);
	size_t room = (size_t)(r->scratch + r->scratch_len - s);
	size_t len = strnlen(s, room);
	FUZZ_CHECK(len < room, "%s not NUL-terminated inside the scratch", what);
	FUZZ_CHECK(len > 0, "%s empty", what);
}

static void add(const struct mount_row *row, void *arg)
{
	struct rows *r = arg;
	check_string(r, row->mount_point, "mount point");
	check_string(r, row->fstype, "fstype");
	check_string(r, row->source, "source");
	if (r->n == MAX_ROWS) {
		r->overflow = true;
		return;
	}
	struct row_copy *c = &r->row[r->n++];
	snprintf(c->mount_point, sizeof(c->mount_point), "%s", row->mount_point);
	snprintf(c->fstype, sizeof(c->fstype), "%s", row->fstype);
	snprintf(c->source, sizeof(c->source), "%s", row->source);
	c->read_only = row->read_only;
	c->major = row->major;
	c->minor = row->minor;
}

static int parse(const uint8_t *data, size_t size, struct rows *r, char *scratch, size_t len)
{
	r->n = 0;
	r->overflow = false;
	r->scratch = scratch;
	r->scratch_len = len;
	return parse_mountinfo((const char *)data, size, scratch, len, add, r);
}

static bool same_row(const struct row_copy *a, const struct row_copy *b)
{
	return strcmp(a->mount_point, b->mount_point) == 0 && strcmp(a->fstype, b->fstype) == 0 &&
	       strcmp(a->source, b->source) == 0 && a->read_only == b->read_only &&
	       a->major == b->major && a->minor == b->minor;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct row_copy whole_rows[MAX_ROWS], cut_rows[MAX_ROWS], small_rows[MAX_ROWS];
	static char scratch[LARGE], small_scratch[SMALL];
	struct rows whole = {.row = whole_rows}, cut = {.row = cut_rows},
	            small = {.row = small_rows};
	int rc = parse(data, size, &whole, scratch, sizeof(scratch));
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	size_t complete = fuzz_complete_lines(data, size);
	int rc2 = parse(data, complete, &cut, scratch, sizeof(scratch));
	FUZZ_CHECK(rc == rc2, "%d on the whole input, %d on its complete lines", rc, rc2);
	if (whole.overflow)
		return 0;
	FUZZ_CHECK(whole.n == cut.n, "%zu rows, %zu from the complete lines", whole.n, cut.n);
	size_t lines = 0;
	for (size_t i = 0; i < complete; i++)
		lines += data[i] == '\n';
	FUZZ_CHECK(whole.n <= lines, "%zu rows from %zu lines", whole.n, lines);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(same_row(&whole.row[i], &cut.row[i]), "row %zu differs when cut", i);
		const char *mp = whole.row[i].mount_point;
		FUZZ_CHECK(!strchr(mp, '\n') || memmem(data, size, "\\012", 4),
		           "a newline in \"%s\" without an escape for it", mp);
	}

	parse(data, size, &small, small_scratch, sizeof(small_scratch));
	size_t j = 0;
	for (size_t i = 0; i < small.n; i++) {
		while (j < whole.n && !same_row(&whole.row[j], &small.row[i]))
			j++;
		FUZZ_CHECK(j < whole.n,
		           "row %zu with a small scratch is not a row with a large one", i);
		j++;
	}
	return 0;
}
