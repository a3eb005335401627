#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
