/* Content negotiation: the Accept headers real scrapers and clients send (protobuf included),
 * hostile headers, and Accept-Encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

/* The Accept headers Prometheus sends, by version. */
#define PROMETHEUS_2_40                                                                            \
	"application/openmetrics-text;version=1.0.0;q=0.75,application/openmetrics-text;q=0.6,"    \
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define PROMETHEUS_2_45                                                                            \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"   \
	"q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define PROMETHEUS_3                                                                               \
	"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"                   \
	"application/openmetrics-text;version=0.0.1;q=0.4,"                                        \
	"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,"      \
	"*/*;q=0.1"
/* Prometheus 3 with scrape_protocols listing the text formats first. */
#define PROMETHEUS_3_TEXT_FIRST                                                                    \
	"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,"      \
	"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.3,*/*;q=0.1"
/* Prometheus 2.40 to 2.48 with --enable-feature=native-histograms (2.42 sends exactly this). */
#define PROMETHEUS_2_42_NATIVE_HISTOGRAMS                                                          \
	"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"                 \
	"encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"                     \
	"application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"        \
	"*/*;q=0.1"
/* Prometheus 3 with protobuf first in scrape_protocols. */
#define PROMETHEUS_3_PROTOBUF_FIRST                                                                \
	"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"                 \
	"encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;"                     \
	"escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
#define FIREFOX "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

/* ---- real clients ---- */

static void prometheus_2_40_gets_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_2_40), EXPO_OPENMETRICS);
}

static void prometheus_2_45_gets_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_2_45), EXPO_OPENMETRICS);
}

static void prometheus_3_default_gets_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_3), EXPO_OPENMETRICS);
}

static void prometheus_3_preferring_text_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_3_TEXT_FIRST), EXPO_TEXT);
}

static void prometheus_asking_only_for_text_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), EXPO_TEXT);
}

static void prometheus_3_preferring_protobuf_gets_protobuf(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_3_PROTOBUF_FIRST), EXPO_PROTOBUF);
}

static void prometheus_2_42_with_native_histograms_gets_protobuf(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(PROMETHEUS_2_42_NATIVE_HISTOGRAMS), EXPO_PROTOBUF);
}

static void curl_any_type_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("*/*"), EXPO_TEXT);
}

static void browser_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(FIREFOX), EXPO_TEXT);
}

static void no_header_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(NULL), EXPO_TEXT);
}

static void empty_header_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(""), EXPO_TEXT);
}

/* ---- the rules ---- */

static void bare_openmetrics_type_gets_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text"), EXPO_OPENMETRICS);
}

static void openmetrics_with_q0_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text;q=0"), EXPO_TEXT);
}

static void unsupported_openmetrics_version_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text;version=2.0.0"), EXPO_TEXT);
}

static void higher_weight_wins_over_order(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("text/plain;q=0.5,application/openmetrics-text;q=0.9"),
	                 EXPO_OPENMETRICS);
}

static void equal_weights_go_to_the_first_listed(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("text/plain,application/openmetrics-text"), EXPO_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text,text/plain"),
	                 EXPO_OPENMETRICS);
}

static void application_wildcard_counts_for_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/*"), EXPO_OPENMETRICS);
}

static void specific_range_overrides_wildcard(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/*,application/openmetrics-text;q=0,"
	                                  "text/plain;q=0.1"),
	                 EXPO_TEXT);
}

static void media_type_and_parameter_names_ignore_case(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("Application/OpenMetrics-Text; Version=1.0.0; Q=1,"
	                                  "text/plain;q=0.5"),
	                 EXPO_OPENMETRICS);
}

static void whitespace_around_separators_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(" application/openmetrics-text \t; version=1.0.0 ;q=0.9 "
	                                  ", text/plain ;q=0.5"),
	                 EXPO_OPENMETRICS);
}

static void quoted_version_is_understood(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text;version=\"1.0.0\""),
	                 EXPO_OPENMETRICS);
}

static void comma_inside_quotes_does_not_split_elements(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("text/plain;x=\"a,application/openmetrics-text\""),
	                 EXPO_TEXT);
}

static void malformed_weight_skips_the_element(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text;q=abc"), EXPO_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=1.5"), EXPO_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=0.1234"), EXPO_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=\"1\""), EXPO_TEXT);
}

static void malformed_element_does_not_hide_the_next(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("text/plain junk;q=1,application/openmetrics-text"),
	                 EXPO_OPENMETRICS);
}

static void protobuf_needs_delimited_metric_families(void **state)
{
	(void)state;
	/* Other encodings, another message, or a parameter left out: not what we write. */
	const char *other[] = {
	    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
	    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
	    "encoding=compact-text",
	    "application/vnd.google.protobuf;proto=io.prometheus.write.v2.Request;"
	    "encoding=delimited",
	    "application/vnd.google.protobuf;encoding=delimited",
	    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily",
	    "application/vnd.google.protobuf",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_int_equal(negotiate_format(other[i]), EXPO_TEXT);
}

static void protobuf_parameters_may_be_quoted_and_in_any_order(void **state)
{
	(void)state;
	assert_int_equal(
	    negotiate_format("Application/Vnd.Google.Protobuf; Encoding=\"delimited\"; "
	                     "Proto=\"io.prometheus.client.MetricFamily\""),
	    EXPO_PROTOBUF);
}

static void protobuf_with_lower_weight_loses_to_openmetrics(void **state)
{
	(void)state;
	assert_int_equal(
	    negotiate_format(
	        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
	        "encoding=delimited;q=0.5,application/openmetrics-text;q=0.6"),
	    EXPO_OPENMETRICS);
	assert_int_equal(
	    negotiate_format(
	        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
	        "encoding=delimited;q=0"),
	    EXPO_TEXT);
}

static void wildcards_never_get_protobuf(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("*/*"), EXPO_TEXT);
	assert_int_equal(negotiate_format("application/*"), EXPO_OPENMETRICS);
}

/* ---- hostile headers ---- */

static void garbage_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format(";;;,,,q=abc"), EXPO_TEXT);
	assert_int_equal(negotiate_format("/"), EXPO_TEXT);
	assert_int_equal(negotiate_format("a/b;=;c=\""), EXPO_TEXT);
	assert_int_equal(negotiate_format("\xff\xfe/\x80;q=1"), EXPO_TEXT);
}

static void unterminated_quote_gets_text(void **state)
{
	(void)state;
	assert_int_equal(negotiate_format("application/openmetrics-text;version=\"1.0.0"),
	                 EXPO_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;version=\"1.0.0\\"),
	                 EXPO_TEXT);
}

static char *repeat(const char *piece, size_t times, const char *tail)
{
	size_t n = strlen(piece), t = strlen(tail);
	char *s = malloc(n * times + t + 1);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, piece, n);
	memcpy(s + n * times, tail, t + 1);
	return s;
}

static void hundred_kilobytes_of_commas_get_text(void **state)
{
	(void)state;
	char *s = repeat(",", 100 * 1024, "");
	assert_int_equal(negotiate_format(s), EXPO_TEXT);
	free(s);
}

static void thousands_of_elements_are_all_considered(void **state)
{
	(void)state;
	char *s = repeat("text/plain;q=0.1,", 10000, "application/openmetrics-text;q=0.2");
	assert_int_equal(negotiate_format(s), EXPO_OPENMETRICS);
	free(s);
}

static void long_run_of_quotes_and_commas_is_handled(void **state)
{
	(void)state;
	char *s = repeat("a/b;p=\",", 20000, "application/openmetrics-text");
	assert_int_equal(negotiate_format(s), EXPO_OPENMETRICS);
	free(s);
}

/* ---- Accept-Encoding ---- */

static void gzip_in_list_allows_gzip(void **state)
{
	(void)state;
	assert_true(negotiate_gzip("gzip, deflate, br"));
}

static void gzip_with_q0_refuses_gzip(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("gzip;q=0"));
}

static void gzip_with_weight_allows_gzip(void **state)
{
	(void)state;
	assert_true(negotiate_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
}

static void star_allows_gzip(void **state)
{
	(void)state;
	assert_true(negotiate_gzip("*"));
}

static void star_does_not_override_gzip_q0(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("gzip;q=0, *"));
}

static void star_with_q0_refuses_gzip(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("*;q=0"));
}

static void identity_refuses_gzip(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("identity"));
}

static void deflate_refuses_gzip(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("deflate"));
}

static void uppercase_gzip_allows_gzip(void **state)
{
	(void)state;
	assert_true(negotiate_gzip("GZIP"));
}

static void x_gzip_allows_gzip(void **state)
{
	(void)state;
	assert_true(negotiate_gzip("x-gzip"));
}

static void no_accept_encoding_refuses_gzip(void **state)
{
	(void)state;
	assert_false(negotiate_gzip(NULL));
	assert_false(negotiate_gzip(""));
}

static void malformed_gzip_element_is_skipped(void **state)
{
	(void)state;
	assert_false(negotiate_gzip("gzip;q=yes"));
	assert_false(negotiate_gzip("gzip/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(prometheus_2_40_gets_openmetrics),
	    cmocka_unit_test(prometheus_2_45_gets_openmetrics),
	    cmocka_unit_test(prometheus_3_default_gets_openmetrics),
	    cmocka_unit_test(prometheus_3_preferring_text_gets_text),
	    cmocka_unit_test(prometheus_asking_only_for_text_gets_text),
	    cmocka_unit_test(prometheus_3_preferring_protobuf_gets_protobuf),
	    cmocka_unit_test(prometheus_2_42_with_native_histograms_gets_protobuf),
	    cmocka_unit_test(curl_any_type_gets_text),
	    cmocka_unit_test(browser_gets_text),
	    cmocka_unit_test(no_header_gets_text),
	    cmocka_unit_test(empty_header_gets_text),
	    cmocka_unit_test(bare_openmetrics_type_gets_openmetrics),
	    cmocka_unit_test(openmetrics_with_q0_gets_text),
	    cmocka_unit_test(unsupported_openmetrics_version_gets_text),
	    cmocka_unit_test(higher_weight_wins_over_order),
	    cmocka_unit_test(equal_weights_go_to_the_first_listed),
	    cmocka_unit_test(application_wildcard_counts_for_openmetrics),
	    cmocka_unit_test(specific_range_overrides_wildcard),
	    cmocka_unit_test(media_type_and_parameter_names_ignore_case),
	    cmocka_unit_test(whitespace_around_separators_is_allowed),
	    cmocka_unit_test(quoted_version_is_understood),
	    cmocka_unit_test(comma_inside_quotes_does_not_split_elements),
	    cmocka_unit_test(malformed_weight_skips_the_element),
	    cmocka_unit_test(malformed_element_does_not_hide_the_next),
	    cmocka_unit_test(protobuf_needs_delimited_metric_families),
	    cmocka_unit_test(protobuf_parameters_may_be_quoted_and_in_any_order),
	    cmocka_unit_test(protobuf_with_lower_weight_loses_to_openmetrics),
	    cmocka_unit_test(wildcards_never_get_protobuf),
	    cmocka_unit_test(garbage_gets_text),
	    cmocka_unit_test(unterminated_quote_gets_text),
	    cmocka_unit_test(hundred_kilobytes_of_commas_get_text),
	    cmocka_unit_test(thousands_of_elements_are_all_considered),
	    cmocka_unit_test(long_run_of_quotes_and_commas_is_handled),
	    cmocka_unit_test(gzip_in_list_allows_gzip),
	    cmocka_unit_test(gzip_with_q0_refuses_gzip),
	    cmocka_unit_test(gzip_with_weight_allows_gzip),
	    cmocka_unit_test(star_allows_gzip),
	    cmocka_unit_test(star_does_not_override_gzip_q0),
	    cmocka_unit_test(star_with_q0_refuses_gzip),
	    cmocka_unit_test(identity_refuses_gzip),
	    cmocka_unit_test(deflate_refuses_gzip),
	    cmocka_unit_test(uppercase_gzip_allows_gzip),
	    cmocka_unit_test(x_gzip_allows_gzip),
	    cmocka_unit_test(no_accept_encoding_refuses_gzip),
	    cmocka_unit_test(malformed_gzip_element_is_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
