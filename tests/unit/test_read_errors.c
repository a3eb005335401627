#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "read_errors.h"

static void render(struct read_errors *r, struct buf *out)
{
	struct expo *e = expo_new();
	read_errors_expose(r, e);
	buf_reset(out);
	expo_write(e, EXPO_TEXT, out);
	expo_free(e);
}

static void errno_maps_to_reasons(void **state)
{
	(void)state;
	assert_int_equal(read_error_from_errno(ENOENT), READ_ERROR_NOT_FOUND);
	assert_int_equal(read_error_from_errno(ESRCH), READ_ERROR_NOT_FOUND);
	assert_int_equal(read_error_from_errno(EACCES), READ_ERROR_PERMISSION);
	assert_int_equal(read_error_from_errno(EPERM), READ_ERROR_PERMISSION);
	assert_int_equal(read_error_from_errno(EOPNOTSUPP), READ_ERROR_UNSUPPORTED);
	assert_int_equal(read_error_from_errno(EIO), READ_ERROR_IO);
}

static void counts_are_served_per_file_and_reason(void **state)
{
	(void)state;
	struct read_errors *r = read_errors_new();
	struct buf out;
	buf_init(&out);
	read_errors_count(r, "pid/io", READ_ERROR_PERMISSION);
	read_errors_count(r, "pid/io", READ_ERROR_PERMISSION);
	read_errors_count(r, "pressure/cpu", READ_ERROR_NOT_FOUND);
	render(r, &out);
	assert_non_null(strstr(
	    out.data,
	    "kobs_procfs_read_errors_total{file=\"pid/io\",reason=\"permission_denied\"} 2\n"));
	assert_non_null(strstr(
	    out.data,
	    "kobs_procfs_read_errors_total{file=\"pressure/cpu\",reason=\"not_found\"} 1\n"));
	buf_free(&out);
	read_errors_free(r);
}

static void too_many_files_fold_into_other(void **state)
{
	(void)state;
	struct read_errors *r = read_errors_new();
	struct buf out;
	buf_init(&out);
	char name[32];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		read_errors_count(r, name, READ_ERROR_IO);
	}
	render(r, &out);
	assert_non_null(strstr(out.data, "{file=\"file0\",reason=\"io_error\"} 1\n"));
	assert_non_null(strstr(out.data, "{file=\"other\",reason=\"io_error\"} "));
	buf_free(&out);
	read_errors_free(r);
}

static void nothing_counted_serves_no_samples(void **state)
{
	(void)state;
	struct read_errors *r = read_errors_new();
	struct buf out;
	buf_init(&out);
	render(r, &out);
	assert_true(out.len == 0 || !strstr(out.data, "kobs_procfs_read_errors_total{"));
	buf_free(&out);
	read_errors_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(errno_maps_to_reasons),
	    cmocka_unit_test(counts_are_served_per_file_and_reason),
	    cmocka_unit_test(too_many_files_fold_into_other),
	    cmocka_unit_test(nothing_counted_serves_no_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
