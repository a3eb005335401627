#include "named_rows.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A slot's header: qsort is not stable and takes no context, so each slot carries both. */
struct slot_header {
	size_t order;       /* in the file */
	size_t name_offset; /* of the row's name, from the row's start */
};

#define HEADER_SIZE                                                                                \
	((sizeof(struct slot_header) + alignof(max_align_t) - 1) / alignof(max_align_t) *          \
	 alignof(max_align_t))

void named_rows_init(struct named_rows *r, size_t row_size, size_t name_offset, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->row_size = row_size;
	r->name_offset = name_offset;
	r->limit = limit;
	size_t align = alignof(max_align_t);
	r->slot_size = HEADER_SIZE + (row_size + align - 1) / align * align;
}

void named_rows_free(struct named_rows *r)
{
	free(r->slots);
	r->slots = NULL;
	r->count = r->cap = 0;
}

void named_rows_clear(struct named_rows *r)
{
	r->count = 0;
	r->overflow = false;
}

static unsigned char *slot(const struct named_rows *r, size_t i)
{
	return r->slots + i * r->slot_size;
}

void named_rows_add(struct named_rows *r, const void *row)
{
	if (r->count == r->limit) {
		r->overflow = true;
		return;
	}
	if (r->count == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->slots = xreallocarray(r->slots, r->cap, r->slot_size);
	}
	unsigned char *s = slot(r, r->count);
	struct slot_header h = {r->count, r->name_offset};
	memcpy(s, &h, sizeof(h));
	memcpy(s + HEADER_SIZE, row, r->row_size);
	r->count++;
}

static const char *slot_name(const unsigned char *s)
{
	struct slot_header h;
	memcpy(&h, s, sizeof(h));
	return (const char *)s + HEADER_SIZE + h.name_offset;
}

static size_t slot_order(const unsigned char *s)
{
	struct slot_header h;
	memcpy(&h, s, sizeof(h));
	return h.order;
}

/* By name, then by the order read. */
static int by_name(const void *a, const void *b)
{
	int c = strcmp(slot_name(a), slot_name(b));
	if (c)
		return c;
	size_t x = slot_order(a), y = slot_order(b);
	return (x > y) - (x < y);
}

void named_rows_unique(struct named_rows *r)
{
	if (r->count == 0)
		return;
	qsort(r->slots, r->count, r->slot_size, by_name);
	size_t kept = 1;
	for (size_t i = 1; i < r->count; i++) {
		if (strcmp(slot_name(slot(r, kept - 1)), slot_name(slot(r, i))) == 0)
			continue;
		if (kept != i)
			memcpy(slot(r, kept), slot(r, i), r->slot_size);
		kept++;
	}
	r->count = kept;
}

const void *named_rows_get(const struct named_rows *r, size_t i)
{
	return i < r->count ? slot(r, i) + HEADER_SIZE : NULL;
}
