#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_file.h"

static char path[64];

static int write_config(void **state)
{
	(void)state;
	strcpy(path, "/tmp/kobs-config-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int remove_config(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void put(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void process_exporter_style_file_is_valid(void **state)
{
	(void)state;
	const char *text = "process_names:\n"
	                   "  - name: \"{{.Comm}}\"\n"
	                   "    cmdline:\n"
	                   "    - '.+'\n";
	char err[256];
	put(text, strlen(text));
	assert_int_equal(config_check(path, err, sizeof(err)), 0);
}

static void empty_file_is_valid(void **state)
{
	(void)state;
	char err[256];
	put("", 0);
	assert_int_equal(config_check(path, err, sizeof(err)), 0);
}

static void syntax_error_names_file_line_and_column(void **state)
{
	(void)state;
	const char *text = "process_names:\n  - name: x\n   bad: [\n";
	char err[256], want[128];
	put(text, strlen(text));
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3:", path);
	assert_non_null(strstr(err, want));
}

static void top_level_list_is_rejected(void **state)
{
	(void)state;
	const char *text = "- a\n- b\n";
	char err[256];
	put(text, strlen(text));
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mapping"));
	assert_non_null(strstr(err, ":1:1:"));
}

static void deep_nesting_is_rejected(void **state)
{
	(void)state;
	char text[4096];
	size_t n = 0;
	n += (size_t)sprintf(text + n, "a: ");
	for (int i = 0; i < 200; i++)
		text[n++] = '[';
	for (int i = 0; i < 200; i++)
		text[n++] = ']';
	text[n++] = '\n';
	char err[256];
	put(text, n);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested too deeply"));
}

static void invalid_utf8_is_rejected_with_position(void **state)
{
	(void)state;
	const char text[] = "name: \"\xff\xfe\"\n";
	char err[256];
	put(text, sizeof(text) - 1);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

static void missing_file_is_reported_with_reason(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(config_check("/nonexistent/kobsd.yml", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/kobsd.yml"));
	assert_non_null(strstr(err, "No such file"));
}

static void two_documents_are_rejected(void **state)
{
	(void)state;
	const char *text = "a: 1\n---\nb: 2\n";
	char err[256];
	put(text, strlen(text));
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "one YAML document"));
}

/* libyaml reports a byte it refuses (a reader error) with an offset and leaves the mark at the
 * start, which used to read "1:1" whatever the line. */
static void nul_byte_is_reported_at_its_line_and_column(void **state)
{
	(void)state;
	const char text[] = "a: 1\nb: x\0y\n";
	char err[256], want[128];
	put(text, sizeof(text) - 1);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2:5: ", path);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "NUL"));
}

static void invalid_utf8_is_reported_at_its_line_and_column(void **state)
{
	(void)state;
	/* the column counts characters, as libyaml's do: "é" is one */
	const char text[] = "a: 1\nb: \"\xc3\xa9\xff\"\n";
	char err[256], want[128];
	put(text, sizeof(text) - 1);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2:6: ", path);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "0xFF"));
}

/* Opening a FIFO for reading waits for a writer: --check-config never returned, and a SIGHUP
 * that found one left the daemon deaf to SIGTERM. The alarm turns a hang into a failure. */
static void fifo_is_refused_at_once(void **state)
{
	(void)state;
	char err[256];
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	alarm(0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "named pipe (FIFO), not a regular file"));
}

static void directory_is_refused(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(config_check("/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: is a directory, not a regular file");
}

static void device_is_refused_without_reading_it(void **state)
{
	(void)state;
	char err[256];
	alarm(10);
	assert_int_equal(config_check("/dev/zero", err, sizeof(err)), -1);
	alarm(0);
	assert_string_equal(err, "/dev/zero: is a character device, not a regular file");
}

static void file_over_one_mib_is_refused(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(truncate(path, 1024 * 1024 + 1), 0);
	assert_int_equal(config_check(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(
	    strstr(err, "is 1048577 bytes, larger than 1 MiB; is this the right file?"));
}

static void crlf_line_ends_count_as_one_line_each(void **state)
{
	(void)state;
	const char text[] = "a: 1\r\nb: 2\r\nc: \x01\r\n";
	char err[256];
	assert_int_equal(config_check_buffer("c.yml", text, sizeof(text) - 1, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "c.yml:3:4: control characters are not allowed (U+0001)");
}

static void utf16_text_is_located_in_characters(void **state)
{
	(void)state;
	/* "a: 1\nb: \x01" in UTF-16LE after its byte order mark */
	const char text[] = "\xff\xfe"
	                    "a\0:\0 \0"
	                    "1\0\n\0"
	                    "b\0:\0 \0\x01\0";
	char err[256];
	assert_int_equal(config_check_buffer("c.yml", text, sizeof(text) - 1, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "c.yml:2:4: control characters are not allowed (U+0001)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(process_exporter_style_file_is_valid, write_config,
	                                    remove_config),
	    cmocka_unit_test_setup_teardown(empty_file_is_valid, write_config, remove_config),
	    cmocka_unit_test_setup_teardown(syntax_error_names_file_line_and_column, write_config,
	                                    remove_config),
	    cmocka_unit_test_setup_teardown(top_level_list_is_rejected, write_config,
	                                    remove_config),
	    cmocka_unit_test_setup_teardown(deep_nesting_is_rejected, write_config, remove_config),
	    cmocka_unit_test_setup_teardown(invalid_utf8_is_rejected_with_position, write_config,
	                                    remove_config),
	    cmocka_unit_test(missing_file_is_reported_with_reason),
	    cmocka_unit_test_setup_teardown(two_documents_are_rejected, write_config,
	                                    remove_config),
	    cmocka_unit_test_setup_teardown(nul_byte_is_reported_at_its_line_and_column,
	                                    write_config, remove_config),
	    cmocka_unit_test_setup_teardown(invalid_utf8_is_reported_at_its_line_and_column,
	                                    write_config, remove_config),
	    cmocka_unit_test_setup_teardown(fifo_is_refused_at_once, write_config, remove_config),
	    cmocka_unit_test(crlf_line_ends_count_as_one_line_each),
	    cmocka_unit_test(utf16_text_is_located_in_characters),
	    cmocka_unit_test(directory_is_refused),
	    cmocka_unit_test(device_is_refused_without_reading_it),
	    cmocka_unit_test_setup_teardown(file_over_one_mib_is_refused, write_config,
	                                    remove_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
