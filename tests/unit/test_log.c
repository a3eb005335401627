/* Lines on stderr: logfmt by default, JSON with --log.format=json; whatever bytes a message or
 * field holds (process names, file names), each line stays one valid line of its format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char line[8192];

/* Run the logging call with stderr going to a file, and keep the line it wrote (without the
 * text up to and including the timestamp, which changes). */
#define CAPTURE(call)                                                                              \
	do {                                                                                       \
		fflush(stderr);                                                                    \
		int saved = dup(2);                                                                \
		FILE *tmp = tmpfile();                                                             \
		dup2(fileno(tmp), 2);                                                              \
		call;                                                                              \
		fflush(stderr);                                                                    \
		dup2(saved, 2);                                                                    \
		close(saved);                                                                      \
		rewind(tmp);                                                                       \
		size_t n = fread(line, 1, sizeof(line) - 1, tmp);                                  \
		line[n] = '\0';                                                                    \
		fclose(tmp);                                                                       \
	} while (0)

static int reset(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	log_set_format(LOG_FORMAT_LOGFMT);
	return 0;
}

/* The line after its timestamp: from `level` on. */
static const char *after_ts(const char *key)
{
	const char *p = strstr(line, key);
	assert_non_null(p);
	return p;
}

static void formats_are_logfmt_and_json(void **state)
{
	(void)state;
	assert_int_equal(log_format_parse("logfmt"), LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("JSON"), -1);
	assert_int_equal(log_format_parse("text"), -1);
}

static void logfmt_is_the_default(void **state)
{
	(void)state;
	CAPTURE(log_info("hello \"you\""));
	assert_true(strncmp(line, "ts=", 3) == 0);
	assert_string_equal(after_ts("level="), "level=info msg=\"hello \\\"you\\\"\"\n");
}

static void json_line_has_ts_level_msg_and_fields(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	struct log_field fields[] = {{"COLLECTOR", "bpf"}, {"REASON", "none"}};
	CAPTURE(log_event(LOG_LEVEL_WARN, "abc123", fields, 2, "collector %s failed", "bpf"));
	assert_true(strncmp(line, "{\"ts\":\"", 7) == 0);
	assert_string_equal(
	    after_ts("\"level\""),
	    "\"level\":\"warn\",\"msg\":\"collector bpf failed\",\"collector\":\"bpf\","
	    "\"reason\":\"none\",\"message_id\":\"abc123\"}\n");
}

static void json_escapes_quotes_backslashes_and_control_bytes(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	CAPTURE(log_info("a\"b\\c\nd\te\x01"
	                 "f\x7f"));
	assert_string_equal(after_ts("\"level\""),
	                    "\"level\":\"info\",\"msg\":\"a\\\"b\\\\c\\nd\\te\\u0001f\x7f\"}\n");
}

static void json_keeps_utf8_and_replaces_invalid_bytes(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	struct log_field fields[] = {{"GROUP", "caf\xc3\xa9 \xff\xc3"}};
	CAPTURE(log_event(LOG_LEVEL_INFO, NULL, fields, 1, "\xe2\x82\xac \xed\xa0\x80"));
	/* A surrogate (ED A0 80) is three invalid bytes, as is each lone byte. */
	assert_string_equal(after_ts("\"level\""),
	                    "\"level\":\"info\",\"msg\":\"\xe2\x82\xac \\ufffd\\ufffd\\ufffd\","
	                    "\"group\":\"caf\xc3\xa9 \\ufffd\\ufffd\"}\n");
}

static void a_json_line_too_long_is_cut_and_still_closes(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	static char msg[1500];
	memset(msg, '"', sizeof(msg) - 1); /* each becomes two bytes */
	struct log_field fields[] = {{"FILE", "f"}};
	CAPTURE(log_event(LOG_LEVEL_INFO, "id", fields, 1, "%s", msg));
	size_t n = strlen(line);
	assert_true(n <= 2048);
	assert_string_equal(line + n - 2, "}\n");
	/* Cut between two escapes, never inside one: an even run of backslash-quote pairs. */
	const char *m = strstr(line, "\"msg\":\"") + 7;
	size_t pairs = 0;
	while (m[0] == '\\' && m[1] == '"') {
		m += 2;
		pairs++;
	}
	assert_true(pairs > 400);
	assert_true(m[0] == '"' && (m[1] == ',' || m[1] == '}'));
	assert_int_equal(strchr(line, '\n') - line, (long)n - 1);
}

static void levels_below_the_threshold_write_nothing(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	CAPTURE(log_debug("quiet"));
	assert_string_equal(line, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(formats_are_logfmt_and_json, reset),
	    cmocka_unit_test_setup(logfmt_is_the_default, reset),
	    cmocka_unit_test_setup(json_line_has_ts_level_msg_and_fields, reset),
	    cmocka_unit_test_setup(json_escapes_quotes_backslashes_and_control_bytes, reset),
	    cmocka_unit_test_setup(json_keeps_utf8_and_replaces_invalid_bytes, reset),
	    cmocka_unit_test_setup(a_json_line_too_long_is_cut_and_still_closes, reset),
	    cmocka_unit_test_setup(levels_below_the_threshold_write_nothing, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
