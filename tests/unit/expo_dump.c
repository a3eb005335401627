/* Write a fixed exposition holding every metric type and the nastiest label values and HELP
 * texts a process name or config can produce, so that real parsers can judge the output:
 *
 *   expo_dump text        | promtool check metrics
 *   expo_dump openmetrics | python3 -c '...text_string_to_metric_families...'
 *   expo_dump protobuf    > file; tests/integration/metricfamily.py check file
 *
 * Usage: expo_dump text|openmetrics|protobuf */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "expo.h"

/* Each of these must come out escaped or replaced, never raw. */
static const char *const hostile[] = {
    "plain",
    "quote\"inside",
    "back\\slash",
    "new\nline",
    "trailing backslash\\",
    "\\n literally",
    "\xff\xfe",                          /* bytes that never start a character */
    "\xc0\xaf",                          /* overlong "/" */
    "\xe0\x80\xaf",                      /* overlong "/" in three bytes */
    "\xed\xa0\x80",                      /* a UTF-16 surrogate */
    "\xf4\x90\x80\x80",                  /* above U+10FFFF */
    "cut \xe2\x82",                      /* truncated sequence */
    "stray \x80 continuation",           /* continuation byte without a lead */
    "gr\u00fc\u00dfe \u65e5 \U0001F600", /* valid UTF-8 stays */
    "tab\tcr\rbell\a",                   /* CR is replaced: line readers split at it */
    "{braces},commas=\"and\"=equals",
    "# not a comment",
    "",
};

#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static void add_gauges(struct expo *e)
{
	expo_family(e, "kobs_dump_processes", METRIC_GAUGE, NULL,
	            "Processes per group, with \"quotes\", a back\\slash,\na newline, \xff bad "
	            "bytes and a carriage return at the end.\r");
	for (size_t i = 0; i < NHOSTILE; i++) {
		char idx[16];
		snprintf(idx, sizeof(idx), "%zu", i);
		struct label l[] = {{"group", hostile[i]}, {"index", idx}};
		expo_sample(e, l, 2, (double)i);
	}
	expo_family(e, "kobs_dump_values", METRIC_GAUGE, NULL, "Values of every shape.");
	const double values[] = {0, -1, 0.1, 1e-9, 12345678901.0, 1e300, 1.0 / 3};
	const char *const names[] = {"zero", "minus_one", "tenth", "nano", "big", "huge", "third"};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct label l[] = {{"kind", names[i]}};
		expo_sample(e, l, 1, values[i]);
	}
	expo_family(e, "kobs_dump_never_written", METRIC_GAUGE, NULL, "A family without samples.");
}

static void add_counters(struct expo *e)
{
	expo_family(e, "kobs_dump_cpu_seconds", METRIC_COUNTER, "seconds",
	            "CPU time, \\ escaped \"help\".");
	for (size_t i = 0; i < NHOSTILE; i++) {
		char idx[16];
		snprintf(idx, sizeof(idx), "%zu", i);
		struct label l[] = {{"group", hostile[i]}, {"index", idx}};
		expo_counter_created(e, l, 2, 1.25 * (double)i, 1700000000.5);
	}
	expo_family(e, "kobs_dump_oom_kills", METRIC_COUNTER, NULL, "OOM kills.");
	expo_sample(e, NULL, 0, 3);
}

static void add_info(struct expo *e)
{
	expo_family(e, "kobs_dump_build", METRIC_INFO, NULL, "Build information.");
	struct label l[] = {{"version", "0.1.0"}, {"revision", "\xc0\xaf\"\\\n"}};
	expo_sample(e, l, 2, 1);
}

static void add_histograms(struct expo *e)
{
	/* log2 bounds in seconds from 1 microsecond-ish up, as the BPF collector makes them. */
	double bounds[24];
	uint64_t cumulative[24];
	for (int i = 0; i < 24; i++) {
		bounds[i] = (double)(1u << i) / 1048576.0;
		cumulative[i] = (uint64_t)i * 10;
	}
	expo_family(e, "kobs_dump_runqueue_latency_seconds", METRIC_HISTOGRAM, "seconds",
	            "Run-queue latency.");
	for (size_t i = 0; i < NHOSTILE; i++) {
		/* Distinct invalid names can become the same replacement characters, so the index
		 * keeps every series unique, as OpenMetrics requires. */
		char idx[16];
		snprintf(idx, sizeof(idx), "%zu", i);
		struct label l[] = {{"group", hostile[i]}, {"index", idx}};
		expo_histogram(e, l, 2, bounds, cumulative, 24, 0.5 * (double)i, 300);
	}
	const double decimal[] = {0.005, 0.01, 0.025, 0.05, 0.1,    0.25, 0.5,
	                          1,     2.5,  5,     10,   100000, 1e6};
	const uint64_t counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
	expo_family(e, "kobs_dump_request_seconds", METRIC_HISTOGRAM, "seconds", "Requests.");
	expo_histogram(e, NULL, 0, decimal, counts, 13, 12.5, 14);
}

/* What textfiles bring: an untyped family and a summary. */
static void add_textfile_types(struct expo *e)
{
	struct label l[] = {{"job", "back\\up \"nightly\"\n"}};
	expo_family(e, "kobs_dump_cron_runs", METRIC_UNTYPED, NULL, "Runs of \"cron\".");
	expo_sample(e, l, 1, 7);
	const double q[] = {0, 0.5, 0.99, 1}, v[] = {0.25, 2, 9.5, 12};
	expo_family(e, "kobs_dump_rows", METRIC_SUMMARY, NULL, "Rows per batch.");
	expo_summary(e, l, 1, q, v, 4, 321.5, 40);
	expo_summary(e, NULL, 0, NULL, NULL, 0, 0, 0);
}

int main(int argc, char **argv)
{
	enum expo_format format;
	if (argc == 2 && strcmp(argv[1], "text") == 0) {
		format = EXPO_TEXT;
	} else if (argc == 2 && strcmp(argv[1], "openmetrics") == 0) {
		format = EXPO_OPENMETRICS;
	} else if (argc == 2 && strcmp(argv[1], "protobuf") == 0) {
		format = EXPO_PROTOBUF;
	} else {
		fprintf(stderr, "usage: expo_dump text|openmetrics|protobuf\n");
		return 64;
	}

	struct expo *e = expo_new();
	struct buf out;
	buf_init(&out);
	add_gauges(e);
	add_counters(e);
	add_info(e);
	add_histograms(e);
	add_textfile_types(e);
	expo_write(e, format, &out);

	int rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 1;
	buf_free(&out);
	expo_free(e);
	return rc;
}
