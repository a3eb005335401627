#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name_template.h"

static const struct name_match captures[] = {
    {"jar", "app", 3},
    {"Cfgfile", "/etc/app.conf", 13},
};

static const struct name_values values = {
    .comm = "java",
    .exe_base = "java",
    .exe_full = "/usr/bin/java",
    .username = "www-data",
    .cgroup = "/system.slice/app.service",
    .unit = "app.service",
    .pid = 4242,
    .start_time = 1700000000,
    .matches = captures,
    .nmatches = 2,
};

static char out[1024];

/* Parse and expand with `v`, no limit to speak of; fails the test on a parse error. */
static const char *expand_with(const char *text, const struct name_values *v, size_t limit)
{
	char err[200];
	size_t offset = 0;
	struct name_template *t =
	    name_template_parse(text, strlen(text), &offset, err, sizeof(err));
	if (!t)
		fail_msg("\"%s\" does not parse: %s at %zu", text, err, offset);
	struct buf b;
	buf_init(&b);
	name_template_expand(t, v, limit, &b);
	assert_true(b.len < sizeof(out));
	memcpy(out, b.data ? b.data : "", b.len + 1);
	buf_free(&b);
	name_template_free(t);
	return out;
}

static const char *expand(const char *text)
{
	return expand_with(text, &values, 4096);
}

static char err[200];

/* Parse `text`, which must fail; returns the offset and leaves the message in `err`. */
static size_t parse_error(const char *text)
{
	size_t offset = 12345;
	struct name_template *t =
	    name_template_parse(text, strlen(text), &offset, err, sizeof(err));
	if (t) {
		name_template_free(t);
		fail_msg("\"%s\" parses", text);
	}
	return offset;
}

static void literal_text_is_copied(void **state)
{
	(void)state;
	assert_string_equal(expand("postgres main"), "postgres main");
}

static void empty_template_expands_to_nothing(void **state)
{
	(void)state;
	assert_string_equal(expand(""), "");
}

static void comm_is_the_command_name(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Comm}}"), "java");
}

static void exe_base_is_the_base_name_of_argv0(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.ExeBase}}"), "java");
}

static void exe_full_is_argv0(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.ExeFull}}"), "/usr/bin/java");
}

static void username_is_the_user_name(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Username}}"), "www-data");
}

static void pid_is_decimal(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.PID}}"), "4242");
}

static void start_time_is_whole_seconds_since_the_epoch(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.StartTime}}"), "1700000000");
}

static void cgroups_is_the_cgroup_path(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Cgroups}}"), "/system.slice/app.service");
}

static void cgroup_is_the_cgroup_path(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Cgroup}}"), "/system.slice/app.service");
}

static void unit_is_the_systemd_unit(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Unit}}"), "app.service");
}

static void matches_name_is_the_named_capture(void **state)
{
	(void)state;
	assert_string_equal(expand("java:{{.Matches.jar}}"), "java:app");
}

static void missing_match_expands_to_no_value_as_in_go(void **state)
{
	(void)state;
	assert_string_equal(expand("{{.Matches.other}}"), "<no value>");
}

static void index_matches_is_the_named_capture(void **state)
{
	(void)state;
	assert_string_equal(expand("{{index .Matches \"Cfgfile\"}}"), "/etc/app.conf");
}

static void index_of_a_missing_key_is_empty_as_in_go(void **state)
{
	(void)state;
	assert_string_equal(expand("[{{index .Matches \"other\"}}]"), "[]");
}

static void index_takes_a_raw_string(void **state)
{
	(void)state;
	assert_string_equal(expand("{{index .Matches `jar`}}"), "app");
}

static void index_string_may_hold_closing_braces(void **state)
{
	(void)state;
	assert_string_equal(expand("{{index .Matches \"a}}b\"}}"), "");
}

static void the_last_capture_of_a_repeated_name_wins(void **state)
{
	(void)state;
	struct name_match twice[] = {{"x", "first", 5}, {"x", "second", 6}};
	struct name_values v = {.matches = twice, .nmatches = 2};
	assert_string_equal(expand_with("{{.Matches.x}}", &v, 100), "second");
}

static void null_values_expand_to_nothing(void **state)
{
	(void)state;
	struct name_values v = {0};
	assert_string_equal(expand_with("<{{.Comm}}{{.Unit}}{{.Cgroup}}{{.Username}}>", &v, 100),
	                    "<>");
}

static void spaces_inside_the_braces_are_allowed(void **state)
{
	(void)state;
	assert_string_equal(expand("{{ .Comm }}/{{\t.PID\n}}/{{  index  .Matches  \"jar\"  }}"),
	                    "java/4242/app");
}

static void left_trim_marker_drops_the_whitespace_before(void **state)
{
	(void)state;
	assert_string_equal(expand("a \n\t {{- .Comm}} b"), "ajava b");
}

static void right_trim_marker_drops_the_whitespace_after(void **state)
{
	(void)state;
	assert_string_equal(expand("a {{.Comm -}} \n b"), "a javab");
}

static void both_trim_markers_join_the_neighbours(void **state)
{
	(void)state;
	assert_string_equal(expand("x  {{- .PID -}}  y"), "x4242y");
}

static void lone_closing_braces_are_text(void **state)
{
	(void)state;
	assert_string_equal(expand("a}}b{"), "a}}b{");
}

static void values_are_copied_without_escaping(void **state)
{
	(void)state;
	struct name_values v = {.comm = "a\"b\\c\nd\xff"};
	assert_string_equal(expand_with("{{.Comm}}", &v, 100), "a\"b\\c\nd\xff");
}

static void expansion_stops_at_the_limit(void **state)
{
	(void)state;
	assert_string_equal(expand_with("{{.ExeFull}}-{{.Comm}}", &values, 10), "/usr/bin/j");
}

static void a_cut_does_not_split_a_utf8_character(void **state)
{
	(void)state;
	struct name_values v = {.comm = "ab\xe2\x82\xac"}; /* "ab€" */
	assert_string_equal(expand_with("{{.Comm}}", &v, 4), "ab");
}

static void a_cut_keeps_invalid_bytes(void **state)
{
	(void)state;
	struct name_values v = {.comm = "ab\x80\x80\x80\x80"};
	assert_string_equal(expand_with("{{.Comm}}", &v, 4), "ab\x80\x80");
}

static void the_limit_counts_only_what_is_appended(void **state)
{
	(void)state;
	size_t offset;
	struct name_template *t = name_template_parse("{{.Comm}}", 9, &offset, err, sizeof(err));
	assert_non_null(t);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "prefix:");
	name_template_expand(t, &values, 2, &b);
	assert_string_equal(b.data, "prefix:ja");
	buf_free(&b);
	name_template_free(t);
}

static void unknown_field_is_an_error_at_its_offset(void **state)
{
	(void)state;
	assert_int_equal(parse_error("x-{{ .Name }}"), 5);
	assert_non_null(strstr(err, "unknown field .Name"));
}

static void cwd_is_not_supported(void **state)
{
	(void)state;
	assert_int_equal(parse_error("{{.Cwd}}"), 2);
	assert_non_null(strstr(err, ".Cwd is not supported"));
}

static void unterminated_action_is_an_error_at_its_braces(void **state)
{
	(void)state;
	assert_int_equal(parse_error("abc{{.Comm"), 3);
	assert_non_null(strstr(err, "unterminated"));
}

static void pipeline_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(parse_error("{{.Comm | printf \"%s\"}}"), 8);
	assert_non_null(strstr(err, "pipelines are not supported"));
}

static void function_other_than_index_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(parse_error("{{printf \"%s\" .Comm}}"), 2);
	assert_non_null(strstr(err, "function 'printf' is not supported"));
}

static void empty_action_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(parse_error("a{{ }}"), 1);
	assert_non_null(strstr(err, "empty action"));
}

static void matches_alone_is_an_error(void **state)
{
	(void)state;
	parse_error("{{.Matches}}");
	assert_non_null(strstr(err, ".Matches.NAME"));
}

static void a_field_of_a_field_is_an_error(void **state)
{
	(void)state;
	parse_error("{{.Comm.Len}}");
	assert_non_null(strstr(err, ".Comm has no fields"));
}

static void unterminated_quoted_string_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(parse_error("{{index .Matches \"jar}}"), 17);
	assert_non_null(strstr(err, "unterminated quoted string"));
}

static void index_of_anything_but_matches_is_an_error(void **state)
{
	(void)state;
	parse_error("{{index .Comm \"x\"}}");
	assert_non_null(strstr(err, "index takes .Matches"));
}

static void dash_without_a_space_is_not_a_trim_marker(void **state)
{
	(void)state;
	assert_int_equal(parse_error("{{-.Comm}}"), 2);
}

static void variables_are_an_error(void **state)
{
	(void)state;
	parse_error("{{$x := .Comm}}");
	assert_non_null(strstr(err, "variables are not supported"));
}

static void comments_are_an_error(void **state)
{
	(void)state;
	parse_error("{{/* a comment */}}");
	assert_non_null(strstr(err, "comments are not supported"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(literal_text_is_copied),
	    cmocka_unit_test(empty_template_expands_to_nothing),
	    cmocka_unit_test(comm_is_the_command_name),
	    cmocka_unit_test(exe_base_is_the_base_name_of_argv0),
	    cmocka_unit_test(exe_full_is_argv0),
	    cmocka_unit_test(username_is_the_user_name),
	    cmocka_unit_test(pid_is_decimal),
	    cmocka_unit_test(start_time_is_whole_seconds_since_the_epoch),
	    cmocka_unit_test(cgroups_is_the_cgroup_path),
	    cmocka_unit_test(cgroup_is_the_cgroup_path),
	    cmocka_unit_test(unit_is_the_systemd_unit),
	    cmocka_unit_test(matches_name_is_the_named_capture),
	    cmocka_unit_test(missing_match_expands_to_no_value_as_in_go),
	    cmocka_unit_test(index_matches_is_the_named_capture),
	    cmocka_unit_test(index_of_a_missing_key_is_empty_as_in_go),
	    cmocka_unit_test(index_takes_a_raw_string),
	    cmocka_unit_test(index_string_may_hold_closing_braces),
	    cmocka_unit_test(the_last_capture_of_a_repeated_name_wins),
	    cmocka_unit_test(null_values_expand_to_nothing),
	    cmocka_unit_test(spaces_inside_the_braces_are_allowed),
	    cmocka_unit_test(left_trim_marker_drops_the_whitespace_before),
	    cmocka_unit_test(right_trim_marker_drops_the_whitespace_after),
	    cmocka_unit_test(both_trim_markers_join_the_neighbours),
	    cmocka_unit_test(lone_closing_braces_are_text),
	    cmocka_unit_test(values_are_copied_without_escaping),
	    cmocka_unit_test(expansion_stops_at_the_limit),
	    cmocka_unit_test(a_cut_does_not_split_a_utf8_character),
	    cmocka_unit_test(a_cut_keeps_invalid_bytes),
	    cmocka_unit_test(the_limit_counts_only_what_is_appended),
	    cmocka_unit_test(unknown_field_is_an_error_at_its_offset),
	    cmocka_unit_test(cwd_is_not_supported),
	    cmocka_unit_test(unterminated_action_is_an_error_at_its_braces),
	    cmocka_unit_test(pipeline_is_an_error),
	    cmocka_unit_test(function_other_than_index_is_an_error),
	    cmocka_unit_test(empty_action_is_an_error),
	    cmocka_unit_test(matches_alone_is_an_error),
	    cmocka_unit_test(a_field_of_a_field_is_an_error),
	    cmocka_unit_test(unterminated_quoted_string_is_an_error),
	    cmocka_unit_test(index_of_anything_but_matches_is_an_error),
	    cmocka_unit_test(dash_without_a_space_is_not_a_trim_marker),
	    cmocka_unit_test(variables_are_an_error),
	    cmocka_unit_test(comments_are_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
