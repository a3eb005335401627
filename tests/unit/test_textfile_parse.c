/* The textfile parser: what node_exporter's textfiles hold is read, served as valid text format
 * and OpenMetrics, and anything else is refused with its line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "textfile_parse.h"

static struct textfile *tf;
static char err[512];
static struct buf out;

static int setup(void **state)
{
	(void)state;
	tf = textfile_new();
	buf_init(&out);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	textfile_free(tf);
	buf_free(&out);
	return 0;
}

static void parses(const char *text)
{
	if (textfile_parse(tf, text, strlen(text), err, sizeof(err)) < 0)
		fail_msg("refused: %s", err);
}

/* The message of a refusal, which must name `where` ("line 2, column 5"). */
static void refuses(const char *text, const char *where, const char *what)
{
	assert_int_equal(textfile_parse(tf, text, strlen(text), err, sizeof(err)), -1);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err, where, what);
	assert_int_equal(textfile_families(tf), 0);
}

static const char *served(enum expo_format format)
{
	struct expo *e = expo_new();
	textfile_expose(tf, "Metric read from t.prom.", e);
	buf_reset(&out);
	expo_write(e, format, &out);
	expo_free(e);
	return out.data ? out.data : "";
}

static const struct textfile_family *family(size_t i)
{
	assert_true(i < textfile_families(tf));
	return textfile_family_at(tf, i);
}

/* ---- what is read ---- */

static void a_gauge_with_help_type_and_labels_is_read(void **state)
{
	(void)state;
	parses("# HELP disk_free_bytes Free space.\n# TYPE disk_free_bytes gauge\n"
	       "disk_free_bytes{mount=\"/\",dev=\"vda1\"} 1.5e9\n");
	const struct textfile_family *f = family(0);
	assert_string_equal(f->name, "disk_free_bytes");
	assert_string_equal(f->help, "Free space.");
	assert_int_equal(f->type, TEXTFILE_GAUGE);
	assert_int_equal(f->nseries, 1);
	assert_int_equal(f->series[0].nlabels, 2);
	/* Sorted by name. */
	assert_string_equal(f->series[0].labels[0].name, "dev");
	assert_string_equal(f->series[0].labels[1].value, "/");
	assert_true(f->series[0].value == 1.5e9);
}

static void a_sample_without_type_is_untyped_and_has_no_help(void **state)
{
	(void)state;
	parses("backup_ok 1\n");
	assert_int_equal(family(0)->type, TEXTFILE_UNTYPED);
	assert_null(family(0)->help);
	assert_string_equal(served(EXPO_TEXT), "# HELP backup_ok Metric read from t.prom.\n"
	                                       "# TYPE backup_ok untyped\nbackup_ok 1\n");
}

static void comments_blank_lines_and_blanks_are_allowed(void **state)
{
	(void)state;
	parses("# written by cron\n\n  \t\n#another\nx{ a = \"1\" , } \t 2  \n");
	assert_int_equal(family(0)->series[0].nlabels, 1);
	assert_true(family(0)->series[0].value == 2);
}

static void a_last_line_without_newline_is_read(void **state)
{
	(void)state;
	parses("x 1\ny 2");
	assert_int_equal(textfile_families(tf), 2);
}

static void label_values_are_unescaped(void **state)
{
	(void)state;
	parses("x{path=\"C:\\\\dir\\\\\\\"a\\\"\\nb\"} 1\n");
	assert_string_equal(family(0)->series[0].labels[0].value, "C:\\dir\\\"a\"\nb");
	assert_non_null(strstr(served(EXPO_TEXT), "x{path=\"C:\\\\dir\\\\\\\"a\\\"\\nb\"} 1\n"));
}

static void help_is_unescaped_and_served_again(void **state)
{
	(void)state;
	parses("# HELP x A \\\\ and a\\nnew line, \"quoted\".\nx 1\n");
	assert_string_equal(family(0)->help, "A \\ and a\nnew line, \"quoted\".");
	assert_non_null(
	    strstr(served(EXPO_TEXT), "# HELP x A \\\\ and a\\nnew line, \"quoted\".\n"));
}

static void numbers_are_read_as_go_reads_them(void **state)
{
	(void)state;
	parses("a +Inf\nb -inf\nc NaN\nd .5\ne 1.\nf -2e-3\ng 1E+2\n");
	assert_true(isinf(family(0)->series[0].value) && family(0)->series[0].value > 0);
	assert_true(isinf(family(1)->series[0].value) && family(1)->series[0].value < 0);
	assert_true(isnan(family(2)->series[0].value));
	assert_true(family(3)->series[0].value == 0.5);
	assert_true(family(4)->series[0].value == 1);
	assert_true(family(5)->series[0].value == -2e-3);
	assert_true(family(6)->series[0].value == 100);
}

static void samples_of_a_family_need_not_be_adjacent(void **state)
{
	(void)state;
	parses("# TYPE x gauge\nx{a=\"1\"} 1\ny 5\nx{a=\"2\"} 2\n");
	assert_int_equal(textfile_families(tf), 2);
	assert_int_equal(family(0)->nseries, 2);
}

static void an_empty_label_value_is_no_label(void **state)
{
	(void)state;
	parses("x{a=\"\",b=\"1\"} 1\n");
	assert_int_equal(family(0)->series[0].nlabels, 1);
	assert_string_equal(family(0)->series[0].labels[0].name, "b");
}

static void a_family_with_help_but_no_sample_is_left_out(void **state)
{
	(void)state;
	parses("# HELP x Nothing yet.\n# TYPE x gauge\ny 1\n");
	assert_int_equal(textfile_families(tf), 1);
	assert_string_equal(family(0)->name, "y");
}

static void an_empty_file_has_no_families(void **state)
{
	(void)state;
	parses("");
	assert_int_equal(textfile_families(tf), 0);
}

/* ---- counters ---- */

static void a_counter_ending_in_total_is_served_as_a_counter(void **state)
{
	(void)state;
	parses("# TYPE jobs_total counter\njobs_total{job=\"a\"} 7\n");
	assert_string_equal(served(EXPO_TEXT), "# HELP jobs_total Metric read from t.prom.\n"
	                                       "# TYPE jobs_total counter\n"
	                                       "jobs_total{job=\"a\"} 7\n");
	const char *om = served(EXPO_OPENMETRICS);
	assert_non_null(strstr(om, "# TYPE jobs counter\n"));
	assert_non_null(strstr(om, "\njobs_total{job=\"a\"} 7\n"));
}

static void a_counter_without_total_keeps_its_name_as_untyped(void **state)
{
	(void)state;
	parses("# TYPE jobs counter\njobs 7\n");
	assert_string_equal(served(EXPO_TEXT), "# HELP jobs Metric read from t.prom.\n"
	                                       "# TYPE jobs untyped\njobs 7\n");
	assert_non_null(strstr(served(EXPO_OPENMETRICS), "# TYPE jobs unknown\n"));
}

static void a_negative_or_nan_counter_is_refused(void **state)
{
	(void)state;
	refuses("# TYPE c_total counter\nc_total -1\n", "line 2", "negative");
	refuses("# TYPE c_total counter\nc_total NaN\n", "line 2", "NaN");
}

/* ---- histograms ---- */

static const char histogram[] = "# HELP rt_seconds Run time.\n"
                                "# TYPE rt_seconds histogram\n"
                                "rt_seconds_bucket{job=\"b\",le=\"1\"} 2\n"
                                "rt_seconds_bucket{job=\"b\",le=\"0.5\"} 1\n"
                                "rt_seconds_bucket{job=\"b\",le=\"+Inf\"} 3\n"
                                "rt_seconds_sum{job=\"b\"} 4.25\n"
                                "rt_seconds_count{job=\"b\"} 3\n";

static void a_histogram_is_read_with_its_buckets_in_order(void **state)
{
	(void)state;
	parses(histogram);
	const struct textfile_series *s = &family(0)->series[0];
	assert_int_equal(family(0)->nseries, 1);
	assert_int_equal(s->nlabels, 1); /* job; le is not a label of the series */
	assert_int_equal(s->nbounds, 2);
	assert_true(s->bounds[0] == 0.5 && s->bounds[1] == 1);
	assert_int_equal(s->cumulative[0], 1);
	assert_int_equal(s->cumulative[1], 2);
	assert_int_equal(s->count, 3);
	assert_true(s->value == 4.25);
	assert_string_equal(served(EXPO_TEXT), "# HELP rt_seconds Run time.\n"
	                                       "# TYPE rt_seconds histogram\n"
	                                       "rt_seconds_bucket{job=\"b\",le=\"0.5\"} 1\n"
	                                       "rt_seconds_bucket{job=\"b\",le=\"1\"} 2\n"
	                                       "rt_seconds_bucket{job=\"b\",le=\"+Inf\"} 3\n"
	                                       "rt_seconds_sum{job=\"b\"} 4.25\n"
	                                       "rt_seconds_count{job=\"b\"} 3\n");
	assert_non_null(strstr(served(EXPO_OPENMETRICS), "{job=\"b\",le=\"1.0\"} 2\n"));
}

static void a_histogram_without_inf_bucket_gets_it_from_the_count(void **state)
{
	(void)state;
	parses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 4\n");
	assert_non_null(strstr(served(EXPO_TEXT), "h_bucket{le=\"+Inf\"} 4\n"));
}

static void a_histogram_needs_sum_and_count(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 4\n", "line 2", "_sum");
	refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 4\n", "line 2", "_count");
}

static void an_inf_bucket_must_be_the_count(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n", "line 2",
	        "is not the _count");
}

static void buckets_must_not_decrease(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\nh_sum 1\n"
	        "h_count 4\n",
	        "line 3", "cumulative");
}

static void a_bucket_needs_le_and_whole_counts(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket 1\n", "line 2, column 1", "needs an le");
	refuses("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", "line 2", "not a number");
	refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1.5\n", "line 2", "whole number");
	refuses("# TYPE h histogram\nh_count -1\n", "line 2", "whole number");
}

static void a_negative_bucket_bound_is_refused(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket{le=\"-1\"} 1\n", "line 2", "negative bucket");
}

static void a_histogram_sample_without_suffix_is_refused(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh 1\n", "line 2", "h_bucket");
}

static void the_same_bucket_twice_is_refused(void **state)
{
	(void)state;
	refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\nh_sum 1\n"
	        "h_count 1\n",
	        "line 3", "line 2");
}

/* ---- summaries ---- */

static void a_summary_is_read_with_its_quantiles(void **state)
{
	(void)state;
	parses("# TYPE s summary\ns{quantile=\"0.99\"} 9\ns{quantile=\"0.5\"} 2\ns_sum 30\n"
	       "s_count 10\n");
	const struct textfile_series *x = &family(0)->series[0];
	assert_int_equal(x->nbounds, 2);
	assert_true(x->bounds[0] == 0.5 && x->values[0] == 2);
	assert_true(x->bounds[1] == 0.99 && x->values[1] == 9);
	assert_string_equal(served(EXPO_TEXT), "# HELP s Metric read from t.prom.\n"
	                                       "# TYPE s summary\n"
	                                       "s{quantile=\"0.5\"} 2\n"
	                                       "s{quantile=\"0.99\"} 9\n"
	                                       "s_sum 30\n"
	                                       "s_count 10\n");
}

static void a_summary_quantile_must_be_between_0_and_1(void **state)
{
	(void)state;
	refuses("# TYPE s summary\ns{quantile=\"1.5\"} 1\n", "line 2", "between 0 and 1");
	refuses("# TYPE s summary\ns 1\n", "line 2", "needs a quantile");
	refuses("# TYPE s summary\ns{quantile=\"0.5\"} -1\n", "line 2", "cannot be negative");
}

/* ---- what is refused ---- */

static void a_timestamp_is_refused(void **state)
{
	(void)state;
	refuses("x 1\ny 2 1700000000000\n", "line 2, column 5", "timestamps are not supported");
}

static void a_carriage_return_is_refused(void **state)
{
	(void)state;
	refuses("x 1\r\n", "line 1, column 4", "DOS line endings");
}

static void a_nul_byte_is_refused(void **state)
{
	(void)state;
	assert_int_equal(textfile_parse(tf, "x 1\ny\0 2\n", 9, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2, column 2: a NUL byte"));
}

static void invalid_utf8_in_a_label_value_or_help_is_refused(void **state)
{
	(void)state;
	refuses("x{a=\"caf\xe9\"} 1\n", "line 1, column 9", "not UTF-8");
	refuses("# HELP x \xff\nx 1\n", "line 1, column 10", "not UTF-8");
}

static void a_bad_escape_is_refused(void **state)
{
	(void)state;
	refuses("x{a=\"\\t\"} 1\n", "line 1, column 6", "invalid escape");
	refuses("# HELP x say \\\"hi\\\"\nx 1\n", "line 1, column 14", "invalid escape");
}

static void malformed_lines_are_refused_where_they_go_wrong(void **state)
{
	(void)state;
	refuses("x{a=\"1\" 1\n", "line 1, column 9", "expected ',' or '}'");
	refuses("x{a=1} 1\n", "line 1, column 5", "'\"'");
	refuses("x{a=\"1} 1\n", "line 1, column 5", "not closed");
	refuses("x\n", "line 1, column 2", "expected a value");
	refuses("x one\n", "line 1, column 3", "not a number");
	refuses("x 0x10\n", "line 1, column 3", "not a number");
	refuses("x 1e999\n", "line 1, column 3", "not a number");
	refuses("9x 1\n", "line 1, column 1", "metric name");
	refuses("x-y 1\n", "line 1, column 2", "invalid character");
	refuses("x{9=\"1\"} 1\n", "line 1, column 3", "label name");
}

static void reserved_and_repeated_label_names_are_refused(void **state)
{
	(void)state;
	refuses("x{__name__=\"y\"} 1\n", "line 1, column 3", "reserved");
	refuses("x{a=\"1\",a=\"2\"} 1\n", "line 1, column 9", "given twice");
}

static void the_same_series_twice_is_refused(void **state)
{
	(void)state;
	refuses("x{a=\"1\",b=\"2\"} 1\ny 0\nx{b=\"2\",a=\"1\"} 3\n", "line 3", "line 1");
}

static void help_and_type_once_each_and_type_before_samples(void **state)
{
	(void)state;
	refuses("# HELP x a\n# HELP x b\n", "line 2", "second HELP");
	refuses("# TYPE x gauge\n# TYPE x gauge\n", "line 2", "second TYPE");
	refuses("x 1\n# TYPE x gauge\n", "line 2", "after its samples");
	refuses("# TYPE x info\n", "line 1, column 10", "unknown type 'info'");
	refuses("# TYPE x gauge extra\n", "line 1, column 16", "after the type");
	refuses("# HELP\n", "line 1", "needs a metric name");
}

static void families_whose_sample_names_clash_are_refused(void **state)
{
	(void)state;
	/* In OpenMetrics, counter foo_total is family foo. */
	refuses("# TYPE foo_total counter\nfoo_total 1\nfoo 2\n", "line 3",
	        "as counter foo_total (line 1)");
	refuses("# TYPE h histogram\nh_sum 1\nh_count 1\n# TYPE h_created gauge\nh_created 1\n",
	        "line 4", "h_created");
}

static void le_and_quantile_are_ordinary_labels_of_other_types(void **state)
{
	(void)state;
	parses("old_bucket{le=\"0.5\"} 3\nq{quantile=\"x\"} 1\n");
	assert_string_equal(family(0)->series[0].labels[0].name, "le");
	assert_string_equal(family(1)->series[0].labels[0].value, "x");
}

/* ---- the names families take, across files ---- */

static void names_of_another_file_clash(void **state)
{
	(void)state;
	struct textfile_names *n = textfile_names_new();
	parses("# TYPE jobs_total counter\njobs_total 1\n");
	textfile_names_take(n, family(0), 7);
	size_t owner = 0;
	parses("jobs_created 4\n");
	const char *clash = textfile_names_clash(n, family(0), &owner);
	assert_non_null(clash);
	assert_string_equal(clash, "jobs_created");
	assert_int_equal(owner, 7);
	parses("jobs_done 4\n");
	assert_null(textfile_names_clash(n, family(0), &owner));
	textfile_names_reset(n);
	parses("jobs 4\n");
	assert_null(textfile_names_clash(n, family(0), &owner));
	textfile_names_free(n);
}

static void a_parser_is_reused_from_file_to_file(void **state)
{
	(void)state;
	parses(histogram);
	refuses("x 1 2\n", "line 1", "timestamps");
	parses("y 3\n");
	assert_int_equal(textfile_families(tf), 1);
	assert_string_equal(family(0)->name, "y");
}

static void a_large_file_is_read_whole(void **state)
{
	(void)state;
	/* Far more than the parser's first buffers hold, so that they grow while labels are
	 * copied from one place of them to another. */
	struct buf text;
	buf_init(&text);
	buf_puts(&text, "# TYPE big gauge\n");
	for (int i = 0; i < 20000; i++)
		buf_printf(&text,
		           "big{job=\"j%d\",instance=\"host-%d\",path=\"/var/lib/x/%d\"} %d\n",
		           i % 97, i % 13, i, i);
	if (textfile_parse(tf, text.data, text.len, err, sizeof(err)) < 0)
		fail_msg("refused: %s", err);
	buf_free(&text);
	assert_int_equal(family(0)->nseries, 20000);
	const struct textfile_series *s = &family(0)->series[19999];
	assert_int_equal(s->nlabels, 3);
	assert_string_equal(s->labels[0].name, "instance");
	assert_string_equal(s->labels[2].name, "path");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(a_gauge_with_help_type_and_labels_is_read),
	    T(a_sample_without_type_is_untyped_and_has_no_help),
	    T(comments_blank_lines_and_blanks_are_allowed),
	    T(a_last_line_without_newline_is_read),
	    T(label_values_are_unescaped),
	    T(help_is_unescaped_and_served_again),
	    T(numbers_are_read_as_go_reads_them),
	    T(samples_of_a_family_need_not_be_adjacent),
	    T(an_empty_label_value_is_no_label),
	    T(a_family_with_help_but_no_sample_is_left_out),
	    T(an_empty_file_has_no_families),
	    T(a_counter_ending_in_total_is_served_as_a_counter),
	    T(a_counter_without_total_keeps_its_name_as_untyped),
	    T(a_negative_or_nan_counter_is_refused),
	    T(a_histogram_is_read_with_its_buckets_in_order),
	    T(a_histogram_without_inf_bucket_gets_it_from_the_count),
	    T(a_histogram_needs_sum_and_count),
	    T(an_inf_bucket_must_be_the_count),
	    T(buckets_must_not_decrease),
	    T(a_bucket_needs_le_and_whole_counts),
	    T(a_negative_bucket_bound_is_refused),
	    T(a_histogram_sample_without_suffix_is_refused),
	    T(the_same_bucket_twice_is_refused),
	    T(a_summary_is_read_with_its_quantiles),
	    T(a_summary_quantile_must_be_between_0_and_1),
	    T(a_timestamp_is_refused),
	    T(a_carriage_return_is_refused),
	    T(a_nul_byte_is_refused),
	    T(invalid_utf8_in_a_label_value_or_help_is_refused),
	    T(a_bad_escape_is_refused),
	    T(malformed_lines_are_refused_where_they_go_wrong),
	    T(reserved_and_repeated_label_names_are_refused),
	    T(the_same_series_twice_is_refused),
	    T(help_and_type_once_each_and_type_before_samples),
	    T(families_whose_sample_names_clash_are_refused),
	    T(le_and_quantile_are_ordinary_labels_of_other_types),
	    T(names_of_another_file_clash),
	    T(a_parser_is_reused_from_file_to_file),
	    T(a_large_file_is_read_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
