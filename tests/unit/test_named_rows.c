#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "named_rows.h"

/* A row shaped like the collectors' own: the name in the middle, values on both sides. */
struct row {
	uint64_t before;
	char name[16];
	uint64_t after;
};

static struct row row(const char *name, uint64_t value)
{
	struct row r = {value, {0}, value};
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static const struct row *at(const struct named_rows *r, size_t i)
{
	return named_rows_get(r, i);
}

static struct named_rows rows_of(size_t limit)
{
	struct named_rows r;
	named_rows_init(&r, sizeof(struct row), offsetof(struct row, name), limit);
	return r;
}

static void rows_come_out_sorted_by_name_with_their_values(void **state)
{
	(void)state;
	struct named_rows r = rows_of(10);
	const char *names[] = {"sdb", "nvme0n1", "sda", "vda"};
	for (size_t i = 0; i < 4; i++) {
		struct row x = row(names[i], i);
		named_rows_add(&r, &x);
	}
	named_rows_unique(&r);
	assert_int_equal(r.count, 4);
	const char *sorted[] = {"nvme0n1", "sda", "sdb", "vda"};
	const uint64_t values[] = {1, 2, 0, 3};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(at(&r, i)->name, sorted[i]);
		assert_int_equal(at(&r, i)->before, values[i]);
		assert_int_equal(at(&r, i)->after, values[i]);
	}
	assert_null(named_rows_get(&r, 4));
	named_rows_free(&r);
}

/* A name read twice (a file that changed under the reader) is served once: its first row. */
static void the_first_row_of_a_name_is_kept(void **state)
{
	(void)state;
	struct named_rows r = rows_of(100);
	for (uint64_t i = 0; i < 40; i++) {
		struct row x = row(i % 2 ? "eth0" : "lo", i);
		named_rows_add(&r, &x);
	}
	named_rows_unique(&r);
	assert_int_equal(r.count, 2);
	assert_string_equal(at(&r, 0)->name, "eth0");
	assert_int_equal(at(&r, 0)->before, 1);
	assert_string_equal(at(&r, 1)->name, "lo");
	assert_int_equal(at(&r, 1)->before, 0);
	named_rows_free(&r);
}

static void rows_past_the_limit_are_left_out_and_said(void **state)
{
	(void)state;
	struct named_rows r = rows_of(3);
	const char *names[] = {"d", "c", "b", "a"};
	for (size_t i = 0; i < 4; i++) {
		struct row x = row(names[i], i);
		named_rows_add(&r, &x);
	}
	assert_true(r.overflow);
	named_rows_unique(&r);
	assert_int_equal(r.count, 3);
	assert_string_equal(at(&r, 0)->name, "b");
	named_rows_clear(&r);
	assert_false(r.overflow);
	assert_int_equal(r.count, 0);
	named_rows_unique(&r); /* nothing to sort */
	assert_int_equal(r.count, 0);
	named_rows_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rows_come_out_sorted_by_name_with_their_values),
	    cmocka_unit_test(the_first_row_of_a_name_is_kept),
	    cmocka_unit_test(rows_past_the_limit_are_left_out_and_said),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
