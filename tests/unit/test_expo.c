/* The exposition model and writers: what each format looks like, how label values and HELP are
 * escaped, how numbers are written, and that a reset model is reused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"

#define RC "\xef\xbf\xbd" /* U+FFFD REPLACEMENT CHARACTER */

struct fixture {
	struct expo *e;
	struct buf out;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->e = expo_new();
	buf_init(&fx->out);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	expo_free(fx->e);
	buf_free(&fx->out);
	free(fx);
	return 0;
}

static const char *written(struct fixture *fx, enum expo_format format)
{
	buf_reset(&fx->out);
	expo_write(fx->e, format, &fx->out);
	return fx->out.data ? fx->out.data : "";
}

static const char *label_escaped(struct fixture *fx, const char *s, size_t len)
{
	buf_reset(&fx->out);
	expo_escape_label_value(&fx->out, s, len);
	return fx->out.data;
}

static const char *help_escaped(struct fixture *fx, const char *s, enum expo_format format)
{
	buf_reset(&fx->out);
	expo_escape_help(&fx->out, s, strlen(s), format);
	return fx->out.data;
}

static const char *value(struct fixture *fx, double v)
{
	buf_reset(&fx->out);
	expo_format_value(&fx->out, v);
	return fx->out.data;
}

/* ---- label values ---- */

static void label_value_escapes_backslash_quote_newline(void **state)
{
	const char *s = "a\\b\"c\nd";
	assert_string_equal(label_escaped(*state, s, strlen(s)), "a\\\\b\\\"c\\nd");
}

static void label_value_keeps_valid_multibyte_utf8(void **state)
{
	const char *s = "gr\xc3\xbc\xc3\x9f"
	                "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
	assert_string_equal(label_escaped(*state, s, strlen(s)), s);
}

static void label_value_keeps_other_control_bytes(void **state)
{
	assert_string_equal(label_escaped(*state, "\t\x01\x1f\x7f", 4), "\t\x01\x1f\x7f");
}

static void label_value_keeps_code_points_at_the_edges_of_valid_ranges(void **state)
{
	/* U+D7FF (last before the surrogates), U+E000 (first after), U+10FFFF (the last). */
	const char *s = "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf";
	assert_string_equal(label_escaped(*state, s, strlen(s)), s);
}

static void nul_byte_becomes_replacement_char(void **state)
{
	assert_string_equal(label_escaped(*state, "a\0b", 3), "a" RC "b");
}

static void carriage_return_becomes_replacement_char(void **state)
{
	assert_string_equal(label_escaped(*state, "a\rb", 3), "a" RC "b");
}

static void invalid_utf8_becomes_replacement_char(void **state)
{
	assert_string_equal(label_escaped(*state, "\xff\xfe", 2), RC RC);
}

static void stray_continuation_byte_is_replaced(void **state)
{
	assert_string_equal(label_escaped(*state, "a\x80z", 3), "a" RC "z");
}

static void bytes_that_never_start_a_character_are_replaced_one_each(void **state)
{
	assert_string_equal(label_escaped(*state, "\xc1\xf5\xf8", 3), RC RC RC);
}

static void overlong_encoding_is_replaced(void **state)
{
	/* "/" as two bytes: C0 cannot start a character, AF is a stray continuation. */
	assert_string_equal(label_escaped(*state, "\xc0\xaf", 2), RC RC);
}

static void overlong_three_byte_encoding_is_replaced_byte_by_byte(void **state)
{
	/* E0 needs A0..BF next, so E0 alone is the maximal subpart and 80, AF are strays. */
	assert_string_equal(label_escaped(*state, "\xe0\x80\xaf", 3), RC RC RC);
}

static void surrogate_is_replaced(void **state)
{
	assert_string_equal(label_escaped(*state, "\xed\xa0\x80", 3), RC RC RC);
}

static void code_point_above_10ffff_is_replaced(void **state)
{
	assert_string_equal(label_escaped(*state, "\xf4\x90\x80\x80", 4), RC RC RC RC);
}

static void truncated_sequence_is_one_replacement_char(void **state)
{
	assert_string_equal(label_escaped(*state, "\xe2\x82x", 3), RC "x");
}

static void truncated_sequence_at_end_is_one_replacement_char(void **state)
{
	assert_string_equal(label_escaped(*state, "x\xf0\x9f\x98", 4), "x" RC);
}

static void truncated_sequence_does_not_swallow_a_quote(void **state)
{
	assert_string_equal(label_escaped(*state, "\xe2\x82\"", 3), RC "\\\"");
}

static void label_value_of_length_zero_is_empty(void **state)
{
	assert_string_equal(label_escaped(*state, "", 0), "");
}

/* ---- HELP ---- */

static void help_in_text_escapes_backslash_and_newline_but_not_quote(void **state)
{
	assert_string_equal(help_escaped(*state, "a\\b\"c\nd", EXPO_TEXT), "a\\\\b\"c\\nd");
}

static void help_in_openmetrics_also_escapes_quote(void **state)
{
	assert_string_equal(help_escaped(*state, "a\\b\"c\nd", EXPO_OPENMETRICS),
	                    "a\\\\b\\\"c\\nd");
}

static void help_replaces_carriage_return(void **state)
{
	assert_string_equal(help_escaped(*state, "ends in CR\r", EXPO_OPENMETRICS),
	                    "ends in CR" RC);
}

static void help_replaces_invalid_utf8(void **state)
{
	assert_string_equal(help_escaped(*state, "bad \xff byte", EXPO_TEXT), "bad " RC " byte");
}

/* ---- values ---- */

static void value_formatting_integers_have_no_point_or_exponent(void **state)
{
	assert_string_equal(value(*state, 0), "0");
	assert_string_equal(value(*state, 1), "1");
	assert_string_equal(value(*state, -1), "-1");
	assert_string_equal(value(*state, 42), "42");
	assert_string_equal(value(*state, 12345678901.0), "12345678901");
}

static void value_formatting_large_counts_are_exact(void **state)
{
	assert_string_equal(value(*state, 9007199254740991.0), "9007199254740991");
	assert_string_equal(value(*state, 9007199254740992.0), "9007199254740992");
	assert_string_equal(value(*state, -9007199254740991.0), "-9007199254740991");
}

static void value_formatting_beyond_2_pow_53_uses_exponent(void **state)
{
	assert_string_equal(value(*state, 1e20), "1e+20");
	assert_string_equal(value(*state, 18446744073709551616.0), "1.8446744073709552e+19");
}

static void value_formatting_fractions_use_shortest_digits(void **state)
{
	assert_string_equal(value(*state, 0.1), "0.1");
	assert_string_equal(value(*state, 123.45), "123.45");
	assert_string_equal(value(*state, 0.1 + 0.2), "0.30000000000000004");
	assert_string_equal(value(*state, 1.0 / 3), "0.3333333333333333");
}

static void value_formatting_small_numbers_use_exponent(void **state)
{
	assert_string_equal(value(*state, 1e-9), "1e-09");
	assert_string_equal(value(*state, 0.0001), "0.0001");
	assert_string_equal(value(*state, 1.5e-300), "1.5e-300");
}

static void value_formatting_nan_and_infinities(void **state)
{
	assert_string_equal(value(*state, NAN), "NaN");
	assert_string_equal(value(*state, INFINITY), "+Inf");
	assert_string_equal(value(*state, -INFINITY), "-Inf");
}

static void value_formatting_negative_zero_is_zero(void **state)
{
	assert_string_equal(value(*state, -0.0), "0");
}

static void value_formatting_reads_back_exactly(void **state)
{
	/* Random bit patterns cover every exponent; a fixed seed keeps the test repeatable. */
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		memcpy(&d, &x, sizeof(d));
		if (isnan(d))
			continue;
		const char *s = value(*state, d);
		if (strtod(s, NULL) != d)
			fail_msg("%a written as %s", d, s);
	}
}

/* What the value formatter promises for non-integers: %.15g, %.16g or %.17g, the first that
 * reads back. The writer takes shortcuts; this is the reference they must agree with. */
static void reference_value(char *dst, size_t size, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(dst, size, "%.*g", prec, v);
		if (strtod(dst, NULL) == v)
			return;
	}
}

static void value_formatting_matches_printf_for_decimal_fractions(void **state)
{
	/* CPU seconds from ticks, sums of nanoseconds: n / 10^k for k = 1..9. */
	uint64_t x = 0x2545f4914f6cdd1du;
	char want[32];
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v = (double)(x >> (11 + i % 40)) / pow(10, 1 + i % 9);
		if (v == floor(v))
			continue;
		reference_value(want, sizeof(want), i % 2 ? v : -v);
		assert_string_equal(value(*state, i % 2 ? v : -v), want);
	}
}

/* ---- the text format ---- */

static void gauge_is_written_with_help_type_and_labels(void **state)
{
	struct fixture *fx = *state;
	struct label l[] = {{"group", "nginx"}, {"state", "R"}};
	expo_family(fx->e, "kobs_group_threads", METRIC_GAUGE, NULL, "Threads by state.");
	expo_sample(fx->e, l, 2, 3);
	assert_string_equal(written(fx, EXPO_TEXT),
	                    "# HELP kobs_group_threads Threads by state.\n"
	                    "# TYPE kobs_group_threads gauge\n"
	                    "kobs_group_threads{group=\"nginx\",state=\"R\"} 3\n");
}

static void sample_without_labels_has_no_braces(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_up", METRIC_GAUGE, NULL, "Up.");
	expo_sample(fx->e, NULL, 0, 1);
	assert_string_equal(written(fx, EXPO_TEXT), "# HELP kobs_up Up.\n"
	                                            "# TYPE kobs_up gauge\n"
	                                            "kobs_up 1\n");
}

static void label_values_are_escaped_in_samples(void **state)
{
	struct fixture *fx = *state;
	struct label l[] = {{"comm", "a\"b\\c\nd\xff"}};
	expo_family(fx->e, "kobs_x", METRIC_GAUGE, NULL, "X.");
	expo_sample(fx->e, l, 1, 1);
	assert_non_null(
	    strstr(written(fx, EXPO_TEXT), "kobs_x{comm=\"a\\\"b\\\\c\\nd" RC "\"} 1\n"));
}

static void counter_gets_total_suffix_in_text(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_group_cpu_seconds", METRIC_COUNTER, "seconds", "CPU time.");
	expo_sample(fx->e, NULL, 0, 1.5);
	assert_string_equal(written(fx, EXPO_TEXT),
	                    "# HELP kobs_group_cpu_seconds_total CPU time.\n"
	                    "# TYPE kobs_group_cpu_seconds_total counter\n"
	                    "kobs_group_cpu_seconds_total 1.5\n");
}

static void counter_created_is_left_out_of_text(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_events", METRIC_COUNTER, NULL, "Events.");
	expo_counter_created(fx->e, NULL, 0, 7, 1700000000.5);
	assert_null(strstr(written(fx, EXPO_TEXT), "created"));
}

static void text_has_no_unit_line_and_no_eof(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_memory_bytes", METRIC_GAUGE, "bytes", "Memory.");
	expo_sample(fx->e, NULL, 0, 4096);
	assert_string_equal(written(fx, EXPO_TEXT), "# HELP kobs_memory_bytes Memory.\n"
	                                            "# TYPE kobs_memory_bytes gauge\n"
	                                            "kobs_memory_bytes 4096\n");
}

static void info_metric_text_is_gauge_with_info_suffix(void **state)
{
	struct fixture *fx = *state;
	struct label l[] = {{"version", "1.2.3"}};
	expo_family(fx->e, "kobs_build", METRIC_INFO, NULL, "Build information.");
	expo_sample(fx->e, l, 1, 1);
	assert_string_equal(written(fx, EXPO_TEXT), "# HELP kobs_build_info Build information.\n"
	                                            "# TYPE kobs_build_info gauge\n"
	                                            "kobs_build_info{version=\"1.2.3\"} 1\n");
}

static void info_value_is_always_one(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_build", METRIC_INFO, NULL, "Build information.");
	expo_sample(fx->e, NULL, 0, 42);
	assert_non_null(strstr(written(fx, EXPO_OPENMETRICS), "\nkobs_build_info 1\n"));
}

static const double latency_bounds[] = {0.001, 0.01, 0.1};
static const uint64_t latency_cumulative[] = {1, 3, 6};

static void add_latency_family(struct expo *e)
{
	struct label l[] = {{"group", "db"}};
	expo_family(e, "kobs_latency_seconds", METRIC_HISTOGRAM, "seconds", "Latency.");
	expo_histogram(e, l, 1, latency_bounds, latency_cumulative, 3, 0.25, 7);
}

static void histogram_text_has_buckets_sum_and_count(void **state)
{
	struct fixture *fx = *state;
	add_latency_family(fx->e);
	assert_string_equal(written(fx, EXPO_TEXT),
	                    "# HELP kobs_latency_seconds Latency.\n"
	                    "# TYPE kobs_latency_seconds histogram\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.001\"} 1\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.01\"} 3\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.1\"} 6\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"+Inf\"} 7\n"
	                    "kobs_latency_seconds_sum{group=\"db\"} 0.25\n"
	                    "kobs_latency_seconds_count{group=\"db\"} 7\n");
}

static void histogram_inf_bucket_equals_count(void **state)
{
	struct fixture *fx = *state;
	add_latency_family(fx->e);
	assert_non_null(strstr(written(fx, EXPO_OPENMETRICS),
	                       "kobs_latency_seconds_bucket{group=\"db\",le=\"+Inf\"} 7\n"));
	assert_non_null(strstr(fx->out.data, "kobs_latency_seconds_count{group=\"db\"} 7\n"));
}

static void histogram_without_labels_has_only_le(void **state)
{
	struct fixture *fx = *state;
	double bounds[] = {1};
	uint64_t cumulative[] = {2};
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 1, 3, 4);
	assert_non_null(strstr(written(fx, EXPO_TEXT), "\nkobs_h_bucket{le=\"1\"} 2\n"
	                                               "kobs_h_bucket{le=\"+Inf\"} 4\n"
	                                               "kobs_h_sum 3\n"
	                                               "kobs_h_count 4\n"));
}

static void histogram_without_finite_bounds_has_only_inf_bucket(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, NULL, 0, NULL, NULL, 0, 0, 0);
	assert_string_equal(written(fx, EXPO_TEXT), "# HELP kobs_h H.\n"
	                                            "# TYPE kobs_h histogram\n"
	                                            "kobs_h_bucket{le=\"+Inf\"} 0\n"
	                                            "kobs_h_sum 0\n"
	                                            "kobs_h_count 0\n");
}

/* Bounds on the log2 scale, powers of ten and the switch to exponent form. */
static const double le_bounds[] = {9.5367431640625e-07, 0.0001, 0.005, 1, 2.5, 100000, 1e6};
static const uint64_t le_cumulative[] = {0, 0, 0, 0, 0, 0, 0};

static void histogram_le_in_text_is_formatted_like_client_golang(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, NULL, 0, le_bounds, le_cumulative, 7, 0, 0);
	const char *out = written(fx, EXPO_TEXT);
	assert_non_null(strstr(out, "{le=\"9.5367431640625e-07\"}"));
	assert_non_null(strstr(out, "{le=\"0.0001\"}"));
	assert_non_null(strstr(out, "{le=\"0.005\"}"));
	assert_non_null(strstr(out, "{le=\"1\"}"));
	assert_non_null(strstr(out, "{le=\"2.5\"}"));
	assert_non_null(strstr(out, "{le=\"100000\"}"));
	assert_non_null(strstr(out, "{le=\"1e+06\"}"));
}

static void histogram_le_in_openmetrics_is_canonical(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, NULL, 0, le_bounds, le_cumulative, 7, 0, 0);
	const char *out = written(fx, EXPO_OPENMETRICS);
	assert_non_null(strstr(out, "{le=\"9.5367431640625e-07\"}"));
	assert_non_null(strstr(out, "{le=\"0.0001\"}"));
	assert_non_null(strstr(out, "{le=\"0.005\"}"));
	assert_non_null(strstr(out, "{le=\"1.0\"}"));
	assert_non_null(strstr(out, "{le=\"2.5\"}"));
	assert_non_null(strstr(out, "{le=\"100000.0\"}"));
	assert_non_null(strstr(out, "{le=\"1e+06\"}"));
}

static void histograms_of_one_family_may_have_different_bounds(void **state)
{
	struct fixture *fx = *state;
	double a[] = {1, 2}, b[] = {1, 4}, c[] = {1};
	uint64_t counts[] = {1, 1};
	struct label la[] = {{"g", "a"}}, lb[] = {{"g", "b"}}, lc[] = {{"g", "c"}};
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, la, 1, a, counts, 2, 1, 1);
	expo_histogram(fx->e, lb, 1, b, counts, 2, 1, 1);
	expo_histogram(fx->e, lc, 1, c, counts, 1, 1, 1);
	const char *out = written(fx, EXPO_TEXT);
	assert_non_null(strstr(out, "kobs_h_bucket{g=\"a\",le=\"2\"} 1\n"));
	assert_non_null(strstr(out, "kobs_h_bucket{g=\"b\",le=\"4\"} 1\n"));
	assert_non_null(strstr(out, "kobs_h_bucket{g=\"c\",le=\"1\"} 1\n"
	                            "kobs_h_bucket{g=\"c\",le=\"+Inf\"} 1\n"));
}

static void empty_family_is_not_written(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_nothing", METRIC_GAUGE, NULL, "Nothing.");
	expo_family(fx->e, "kobs_something", METRIC_GAUGE, NULL, "Something.");
	expo_sample(fx->e, NULL, 0, 1);
	expo_family(fx->e, "kobs_nothing_either", METRIC_COUNTER, NULL, "Nothing.");
	assert_null(strstr(written(fx, EXPO_TEXT), "nothing"));
	assert_null(strstr(written(fx, EXPO_OPENMETRICS), "nothing"));
}

static void families_are_written_in_the_order_started(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_b", METRIC_GAUGE, NULL, "B.");
	expo_sample(fx->e, NULL, 0, 1);
	expo_family(fx->e, "kobs_a", METRIC_GAUGE, NULL, "A.");
	expo_sample(fx->e, NULL, 0, 2);
	const char *out = written(fx, EXPO_TEXT);
	assert_true(strstr(out, "kobs_b 1") < strstr(out, "kobs_a 2"));
}

static void empty_help_is_left_out(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_x", METRIC_GAUGE, NULL, "");
	expo_sample(fx->e, NULL, 0, 1);
	assert_string_equal(written(fx, EXPO_TEXT), "# TYPE kobs_x gauge\n"
	                                            "kobs_x 1\n");
}

static void help_is_escaped_in_the_help_line(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_x", METRIC_GAUGE, NULL, "say \"hi\"\\\n");
	expo_sample(fx->e, NULL, 0, 1);
	assert_non_null(strstr(written(fx, EXPO_TEXT), "# HELP kobs_x say \"hi\"\\\\\\n\n"));
	assert_non_null(
	    strstr(written(fx, EXPO_OPENMETRICS), "# HELP kobs_x say \\\"hi\\\"\\\\\\n\n"));
}

static void strings_are_copied_into_the_model(void **state)
{
	struct fixture *fx = *state;
	char name[] = "kobs_x", help[] = "Help.", lname[] = "group", lvalue[] = "web";
	struct label l[] = {{lname, lvalue}};
	expo_family(fx->e, name, METRIC_GAUGE, NULL, help);
	expo_sample(fx->e, l, 1, 1);
	memset(name, 'z', strlen(name));
	memset(help, 'z', strlen(help));
	memset(lname, 'z', strlen(lname));
	memset(lvalue, 'z', strlen(lvalue));
	assert_string_equal(written(fx, EXPO_TEXT), "# HELP kobs_x Help.\n"
	                                            "# TYPE kobs_x gauge\n"
	                                            "kobs_x{group=\"web\"} 1\n");
}

static void offsets_survive_arena_growth(void **state)
{
	struct fixture *fx = *state;
	char v[32];
	expo_family(fx->e, "kobs_x", METRIC_GAUGE, NULL, "X.");
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "value-%d", i);
		struct label l[] = {{"n", v}};
		expo_sample(fx->e, l, 1, i);
	}
	const char *out = written(fx, EXPO_TEXT);
	assert_non_null(strstr(out, "\nkobs_x{n=\"value-0\"} 0\n"));
	assert_non_null(strstr(out, "\nkobs_x{n=\"value-4999\"} 4999\n"));
}

static void write_appends_to_the_output(void **state)
{
	struct fixture *fx = *state;
	buf_reset(&fx->out);
	buf_puts(&fx->out, "before\n");
	expo_write(fx->e, EXPO_OPENMETRICS, &fx->out);
	assert_string_equal(fx->out.data, "before\n# EOF\n");
}

static void empty_model_writes_nothing_in_text(void **state)
{
	assert_string_equal(written(*state, EXPO_TEXT), "");
}

/* ---- OpenMetrics ---- */

static void openmetrics_ends_with_eof(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_up", METRIC_GAUGE, NULL, "Up.");
	expo_sample(fx->e, NULL, 0, 1);
	const char *out = written(fx, EXPO_OPENMETRICS);
	size_t len = strlen(out);
	assert_true(len >= 6);
	assert_string_equal(out + len - 6, "# EOF\n");
}

static void openmetrics_empty_model_is_only_eof(void **state)
{
	assert_string_equal(written(*state, EXPO_OPENMETRICS), "# EOF\n");
}

static void openmetrics_counter_family_has_no_total_suffix(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_events", METRIC_COUNTER, NULL, "Events.");
	expo_sample(fx->e, NULL, 0, 7);
	assert_string_equal(written(fx, EXPO_OPENMETRICS), "# TYPE kobs_events counter\n"
	                                                   "# HELP kobs_events Events.\n"
	                                                   "kobs_events_total 7\n"
	                                                   "# EOF\n");
}

static void openmetrics_counter_created_follows_total(void **state)
{
	struct fixture *fx = *state;
	struct label l[] = {{"group", "a"}};
	expo_family(fx->e, "kobs_events", METRIC_COUNTER, NULL, "Events.");
	expo_counter_created(fx->e, l, 1, 7, 1700000000.5);
	expo_sample(fx->e, NULL, 0, 8);
	assert_non_null(strstr(written(fx, EXPO_OPENMETRICS),
	                       "kobs_events_total{group=\"a\"} 7\n"
	                       "kobs_events_created{group=\"a\"} 1700000000.5\n"
	                       "kobs_events_total 8\n"
	                       "# EOF\n"));
}

static void openmetrics_unit_line_follows_type(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_cpu_seconds", METRIC_COUNTER, "seconds", "CPU.");
	expo_sample(fx->e, NULL, 0, 2);
	assert_string_equal(written(fx, EXPO_OPENMETRICS), "# TYPE kobs_cpu_seconds counter\n"
	                                                   "# UNIT kobs_cpu_seconds seconds\n"
	                                                   "# HELP kobs_cpu_seconds CPU.\n"
	                                                   "kobs_cpu_seconds_total 2\n"
	                                                   "# EOF\n");
}

static void info_metric_openmetrics_has_info_type(void **state)
{
	struct fixture *fx = *state;
	struct label l[] = {{"version", "1.2.3"}};
	expo_family(fx->e, "kobs_build", METRIC_INFO, NULL, "Build information.");
	expo_sample(fx->e, l, 1, 1);
	assert_string_equal(written(fx, EXPO_OPENMETRICS), "# TYPE kobs_build info\n"
	                                                   "# HELP kobs_build Build information.\n"
	                                                   "kobs_build_info{version=\"1.2.3\"} 1\n"
	                                                   "# EOF\n");
}

static void openmetrics_histogram_has_unit_and_canonical_le(void **state)
{
	struct fixture *fx = *state;
	add_latency_family(fx->e);
	assert_string_equal(written(fx, EXPO_OPENMETRICS),
	                    "# TYPE kobs_latency_seconds histogram\n"
	                    "# UNIT kobs_latency_seconds seconds\n"
	                    "# HELP kobs_latency_seconds Latency.\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.001\"} 1\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.01\"} 3\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"0.1\"} 6\n"
	                    "kobs_latency_seconds_bucket{group=\"db\",le=\"+Inf\"} 7\n"
	                    "kobs_latency_seconds_sum{group=\"db\"} 0.25\n"
	                    "kobs_latency_seconds_count{group=\"db\"} 7\n"
	                    "# EOF\n");
}

/* ---- counting and reuse ---- */

static void build_every_type(struct expo *e)
{
	struct label l[] = {{"group", "web"}};
	expo_family(e, "kobs_threads", METRIC_GAUGE, NULL, "Threads.");
	expo_sample(e, l, 1, 12);
	expo_sample(e, NULL, 0, 3);
	expo_family(e, "kobs_events", METRIC_COUNTER, NULL, "Events.");
	expo_counter_created(e, l, 1, 5, 1700000000);
	expo_family(e, "kobs_empty", METRIC_GAUGE, NULL, "Empty.");
	expo_family(e, "kobs_build", METRIC_INFO, NULL, "Build.");
	expo_sample(e, l, 1, 1);
	add_latency_family(e);
}

static void series_counts_one_per_sample_and_histogram(void **state)
{
	struct fixture *fx = *state;
	build_every_type(fx->e);
	assert_int_equal(expo_series(fx->e), 5);
}

static void families_counts_only_families_with_samples(void **state)
{
	struct fixture *fx = *state;
	build_every_type(fx->e);
	assert_int_equal(expo_families(fx->e), 4);
}

static void reset_forgets_all_families(void **state)
{
	struct fixture *fx = *state;
	build_every_type(fx->e);
	expo_reset(fx->e);
	assert_int_equal(expo_families(fx->e), 0);
	assert_int_equal(expo_series(fx->e), 0);
	assert_string_equal(written(fx, EXPO_OPENMETRICS), "# EOF\n");
}

static void reset_reuses_memory(void **state)
{
	struct fixture *fx = *state;
	build_every_type(fx->e);
	char *first = strdup(written(fx, EXPO_OPENMETRICS));
	expo_reset(fx->e);
	build_every_type(fx->e);
	assert_string_equal(written(fx, EXPO_OPENMETRICS), first);
	free(first);
}

static void rebuild_after_reset_allocates_nothing(void **state)
{
	/* glibc's count of bytes in use; sanitizers and valgrind bypass glibc's allocator, in
	 * which case the counts stay equal trivially and the test checks nothing. */
	struct fixture *fx = *state;
	build_every_type(fx->e);
	written(fx, EXPO_TEXT);
	struct mallinfo2 before = mallinfo2();
	expo_reset(fx->e);
	build_every_type(fx->e);
	written(fx, EXPO_TEXT);
	struct mallinfo2 after = mallinfo2();
	assert_int_equal(after.uordblks, before.uordblks);
}

/* ---- content types ---- */

static void content_type_of_text(void **state)
{
	(void)state;
	assert_string_equal(expo_content_type(EXPO_TEXT),
	                    "text/plain; version=0.0.4; charset=utf-8");
}

static void content_type_of_openmetrics(void **state)
{
	(void)state;
	assert_string_equal(expo_content_type(EXPO_OPENMETRICS),
	                    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* ---- untyped and summary families (from textfiles) ---- */

static void untyped_is_untyped_in_text_and_unknown_in_openmetrics(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "cron_runs", METRIC_UNTYPED, NULL, "Runs.");
	expo_sample(fx->e, NULL, 0, 4);
	assert_string_equal(written(fx, EXPO_TEXT),
	                    "# HELP cron_runs Runs.\n# TYPE cron_runs untyped\ncron_runs 4\n");
	assert_string_equal(written(fx, EXPO_OPENMETRICS), "# TYPE cron_runs unknown\n"
	                                                   "# HELP cron_runs Runs.\n"
	                                                   "cron_runs 4\n# EOF\n");
}

static void add_summary(struct expo *e)
{
	struct label l = {"job", "backup"};
	double q[] = {0.5, 0.99, 1}, v[] = {2.5, 9, 12};
	expo_family(e, "backup_seconds", METRIC_SUMMARY, NULL, "Backups.");
	expo_summary(e, &l, 1, q, v, 3, 40.5, 11);
}

static void summary_text_has_quantiles_sum_and_count(void **state)
{
	struct fixture *fx = *state;
	add_summary(fx->e);
	assert_string_equal(written(fx, EXPO_TEXT),
	                    "# HELP backup_seconds Backups.\n"
	                    "# TYPE backup_seconds summary\n"
	                    "backup_seconds{job=\"backup\",quantile=\"0.5\"} 2.5\n"
	                    "backup_seconds{job=\"backup\",quantile=\"0.99\"} 9\n"
	                    "backup_seconds{job=\"backup\",quantile=\"1\"} 12\n"
	                    "backup_seconds_sum{job=\"backup\"} 40.5\n"
	                    "backup_seconds_count{job=\"backup\"} 11\n");
}

static void summary_quantiles_in_openmetrics_are_canonical(void **state)
{
	struct fixture *fx = *state;
	add_summary(fx->e);
	const char *out = written(fx, EXPO_OPENMETRICS);
	assert_non_null(strstr(out, "# TYPE backup_seconds summary\n"));
	assert_non_null(strstr(out, "backup_seconds{job=\"backup\",quantile=\"1.0\"} 12\n"));
	assert_non_null(strstr(out, "backup_seconds{job=\"backup\",quantile=\"0.5\"} 2.5\n"));
}

/* ---- owners: writing some collectors' samples only ---- */

static void write_owned_leaves_out_other_owners_samples(void **state)
{
	struct fixture *fx = *state;
	struct label a = {"collector", "a"}, b = {"collector", "b"};
	expo_family(fx->e, "kobs_x", METRIC_GAUGE, NULL, "X.");
	expo_set_owner(fx->e, 0);
	expo_sample(fx->e, &a, 1, 1);
	expo_set_owner(fx->e, 5);
	expo_sample(fx->e, &b, 1, 2);
	buf_reset(&fx->out);
	expo_write_owned(fx->e, EXPO_TEXT, (uint64_t)1 << 5, &fx->out);
	assert_string_equal(fx->out.data,
	                    "# HELP kobs_x X.\n# TYPE kobs_x gauge\nkobs_x{collector=\"b\"} 2\n");
}

static void write_owned_leaves_out_families_without_owned_samples(void **state)
{
	struct fixture *fx = *state;
	expo_set_owner(fx->e, 1);
	expo_family(fx->e, "kobs_a", METRIC_GAUGE, NULL, "A.");
	expo_sample(fx->e, NULL, 0, 1);
	expo_set_owner(fx->e, 2);
	expo_family(fx->e, "kobs_b", METRIC_GAUGE, NULL, "B.");
	expo_sample(fx->e, NULL, 0, 2);
	buf_reset(&fx->out);
	expo_write_owned(fx->e, EXPO_OPENMETRICS, (uint64_t)1 << 2, &fx->out);
	assert_string_equal(fx->out.data,
	                    "# TYPE kobs_b gauge\n# HELP kobs_b B.\nkobs_b 2\n# EOF\n");
}

static void a_reset_model_adds_samples_for_owner_0(void **state)
{
	struct fixture *fx = *state;
	expo_set_owner(fx->e, 7);
	expo_reset(fx->e);
	expo_family(fx->e, "kobs_a", METRIC_GAUGE, NULL, "A.");
	expo_sample(fx->e, NULL, 0, 1);
	buf_reset(&fx->out);
	expo_write_owned(fx->e, EXPO_TEXT, 1, &fx->out);
	assert_non_null(strstr(fx->out.data, "kobs_a 1\n"));
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(label_value_escapes_backslash_quote_newline),
	    TEST(label_value_keeps_valid_multibyte_utf8),
	    TEST(label_value_keeps_other_control_bytes),
	    TEST(label_value_keeps_code_points_at_the_edges_of_valid_ranges),
	    TEST(nul_byte_becomes_replacement_char),
	    TEST(carriage_return_becomes_replacement_char),
	    TEST(invalid_utf8_becomes_replacement_char),
	    TEST(stray_continuation_byte_is_replaced),
	    TEST(bytes_that_never_start_a_character_are_replaced_one_each),
	    TEST(overlong_encoding_is_replaced),
	    TEST(overlong_three_byte_encoding_is_replaced_byte_by_byte),
	    TEST(surrogate_is_replaced),
	    TEST(code_point_above_10ffff_is_replaced),
	    TEST(truncated_sequence_is_one_replacement_char),
	    TEST(truncated_sequence_at_end_is_one_replacement_char),
	    TEST(truncated_sequence_does_not_swallow_a_quote),
	    TEST(label_value_of_length_zero_is_empty),
	    TEST(help_in_text_escapes_backslash_and_newline_but_not_quote),
	    TEST(help_in_openmetrics_also_escapes_quote),
	    TEST(help_replaces_carriage_return),
	    TEST(help_replaces_invalid_utf8),
	    TEST(value_formatting_integers_have_no_point_or_exponent),
	    TEST(value_formatting_large_counts_are_exact),
	    TEST(value_formatting_beyond_2_pow_53_uses_exponent),
	    TEST(value_formatting_fractions_use_shortest_digits),
	    TEST(value_formatting_small_numbers_use_exponent),
	    TEST(value_formatting_nan_and_infinities),
	    TEST(value_formatting_negative_zero_is_zero),
	    TEST(value_formatting_reads_back_exactly),
	    TEST(value_formatting_matches_printf_for_decimal_fractions),
	    TEST(gauge_is_written_with_help_type_and_labels),
	    TEST(sample_without_labels_has_no_braces),
	    TEST(label_values_are_escaped_in_samples),
	    TEST(counter_gets_total_suffix_in_text),
	    TEST(counter_created_is_left_out_of_text),
	    TEST(text_has_no_unit_line_and_no_eof),
	    TEST(info_metric_text_is_gauge_with_info_suffix),
	    TEST(info_value_is_always_one),
	    TEST(histogram_text_has_buckets_sum_and_count),
	    TEST(histogram_inf_bucket_equals_count),
	    TEST(histogram_without_labels_has_only_le),
	    TEST(histogram_without_finite_bounds_has_only_inf_bucket),
	    TEST(histogram_le_in_text_is_formatted_like_client_golang),
	    TEST(histogram_le_in_openmetrics_is_canonical),
	    TEST(histograms_of_one_family_may_have_different_bounds),
	    TEST(empty_family_is_not_written),
	    TEST(families_are_written_in_the_order_started),
	    TEST(empty_help_is_left_out),
	    TEST(help_is_escaped_in_the_help_line),
	    TEST(strings_are_copied_into_the_model),
	    TEST(offsets_survive_arena_growth),
	    TEST(write_appends_to_the_output),
	    TEST(empty_model_writes_nothing_in_text),
	    TEST(openmetrics_ends_with_eof),
	    TEST(openmetrics_empty_model_is_only_eof),
	    TEST(openmetrics_counter_family_has_no_total_suffix),
	    TEST(openmetrics_counter_created_follows_total),
	    TEST(openmetrics_unit_line_follows_type),
	    TEST(info_metric_openmetrics_has_info_type),
	    TEST(openmetrics_histogram_has_unit_and_canonical_le),
	    TEST(series_counts_one_per_sample_and_histogram),
	    TEST(families_counts_only_families_with_samples),
	    TEST(reset_forgets_all_families),
	    TEST(reset_reuses_memory),
	    TEST(rebuild_after_reset_allocates_nothing),
	    TEST(content_type_of_text),
	    TEST(content_type_of_openmetrics),
	    TEST(untyped_is_untyped_in_text_and_unknown_in_openmetrics),
	    TEST(summary_text_has_quantiles_sum_and_count),
	    TEST(summary_quantiles_in_openmetrics_are_canonical),
	    TEST(write_owned_leaves_out_other_owners_samples),
	    TEST(write_owned_leaves_out_families_without_owned_samples),
	    TEST(a_reset_model_adds_samples_for_owner_0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
