/* The rows of one reading of a table file keyed by a name (a disk of /proc/diskstats, an interface
 * of /proc/net/dev): copied as they are parsed, at most a limit of them, then sorted by name with
 * the first row read of each name kept, so that every series is served once and in a stable
 * order. */
#ifndef KOBS_NAMED_ROWS_H
#define KOBS_NAMED_ROWS_H

#include <stdbool.h>
#include <stddef.h>

struct named_rows {
	unsigned char *slots; /* each a header (order read, name offset), then the row */
	size_t slot_size, row_size, name_offset, limit;
	size_t count, cap;
	bool overflow; /* more rows than `limit` were added since the last clear */
};

/* Rows of `row_size` bytes whose name is a NUL-terminated string at `name_offset`. */
void named_rows_init(struct named_rows *r, size_t row_size, size_t name_offset, size_t limit);
void named_rows_free(struct named_rows *r);
/* Forget the rows (keeping the memory) for the next reading. */
void named_rows_clear(struct named_rows *r);
/* Copy `row` in; past the limit it is left out and `overflow` set. */
void named_rows_add(struct named_rows *r, const void *row);
/* Sort by name and keep the first row read of each name. */
void named_rows_unique(struct named_rows *r);
const void *named_rows_get(const struct named_rows *r, size_t i);

#endif
