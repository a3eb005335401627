/* negotiate_format (Accept) and negotiate_gzip (Accept-Encoding) on any header text, passed as a
 * NUL-terminated copy of the input (so an embedded NUL ends the header, as in a C string).
 * Beyond "no crash, no read past the NUL" (and libFuzzer's -timeout for a pathological slowdown):
 * - the format is EXPO_TEXT, EXPO_OPENMETRICS or EXPO_PROTOBUF and both answers are stable
 *   across calls;
 * - OpenMetrics is only chosen when the header names an "application/" media range, protobuf only
 *   when it names application/vnd.google.protobuf, io.prometheus.client.MetricFamily and
 *   delimited;
 * - gzip is only chosen when the header names "gzip" or "*";
 * - ASCII case does not matter: the same header in upper case gets the same answers (names and
 *   parameter names compare without case, and versions and weights have no letters), except
 *   that protobuf's proto and encoding values compare exactly: upper case may lose protobuf, but
 *   never gains it;
 * - an element that names nothing we serve, appended at the end, changes nothing; one that asks
 *   for our format or coding with the highest weight, put first, always wins (OpenMetrics,
 *   protobuf, gzip);
 * - a NULL header gets the defaults: text, no gzip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

#include "fuzz_common.h"

/* `prefix` + `header` + `suffix`, in a new allocation. */
static char *concat(const char *prefix, const char *header, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(header) + strlen(suffix) + 1;
	char *s = malloc(n);
	FUZZ_CHECK(s, "out of memory");
	snprintf(s, n, "%s%s%s", prefix, header, suffix);
	return s;
}

static void check_neighbours(const char *header, enum expo_format format, bool gzip)
{
	char *s = concat("", header, ",image/png;q=1");
	FUZZ_CHECK(negotiate_format(s) == format, "an unrelated element changed the format: \"%s\"",
	           s);
	free(s);
	s = concat("", header, ",br;q=1");
	FUZZ_CHECK(negotiate_gzip(s) == gzip, "an unrelated coding changed gzip: \"%s\"", s);
	free(s);
	s = concat("application/openmetrics-text;version=1.0.0,", header, "");
	FUZZ_CHECK(negotiate_format(s) == EXPO_OPENMETRICS, "OpenMetrics first lost: \"%s\"", s);
	free(s);
	s = concat("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
	           "encoding=delimited,",
	           header, "");
	FUZZ_CHECK(negotiate_format(s) == EXPO_PROTOBUF, "protobuf first lost: \"%s\"", s);
	free(s);
	s = concat("gzip,", header, "");
	FUZZ_CHECK(negotiate_gzip(s), "gzip first lost: \"%s\"", s);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_strndup(data, size);
	enum expo_format format = negotiate_format(header);
	bool gzip = negotiate_gzip(header);

	FUZZ_CHECK(format == EXPO_TEXT || format == EXPO_OPENMETRICS || format == EXPO_PROTOBUF,
	           "format %d", (int)format);
	FUZZ_CHECK(negotiate_format(header) == format, "format changed between calls");
	FUZZ_CHECK(negotiate_gzip(header) == gzip, "gzip changed between calls");
	if (format == EXPO_OPENMETRICS)
		FUZZ_CHECK(fuzz_contains_nocase(header, "application/"),
		           "OpenMetrics without an application/ range in \"%s\"", header);
	if (format == EXPO_PROTOBUF)
		FUZZ_CHECK(fuzz_contains_nocase(header, "application/vnd.google.protobuf") &&
		               strstr(header, "io.prometheus.client.MetricFamily") &&
		               strstr(header, "delimited"),
		           "protobuf without its media type and parameters in \"%s\"", header);
	if (gzip)
		FUZZ_CHECK(fuzz_contains_nocase(header, "gzip") || strchr(header, '*'),
		           "gzip without gzip or * in \"%s\"", header);

	check_neighbours(header, format, gzip);

	for (char *p = header; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	enum expo_format upper = negotiate_format(header);
	FUZZ_CHECK(upper == format || (format == EXPO_PROTOBUF && upper != EXPO_PROTOBUF),
	           "upper case changed the format: \"%s\"", header);
	FUZZ_CHECK(negotiate_gzip(header) == gzip, "upper case changed gzip: \"%s\"", header);

	FUZZ_CHECK(negotiate_format(NULL) == EXPO_TEXT, "NULL Accept is not text");
	FUZZ_CHECK(!negotiate_gzip(NULL), "NULL Accept-Encoding allows gzip");
	free(header);
	return 0;
}
