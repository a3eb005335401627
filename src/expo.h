/* The exposition model: what one scrape collected, as metric families and samples, and the
 * writers that turn it into Prometheus text 0.0.4 or OpenMetrics 1.0.0 (and, through
 * expo_proto.c, the protobuf format).
 *
 * Collectors call expo_family() and then add that family's samples; families are written in the
 * order they were started and a family without samples is not written at all. All strings are
 * copied into the model, so callers may pass temporaries. Label values are escaped and made valid
 * UTF-8 (U+FFFD for each invalid sequence) as they are added, so whatever bytes a process name
 * holds, the output parses. expo_reset() keeps every buffer for the next scrape: once a scrape
 * of the same shape has run, adding samples allocates nothing. */
#ifndef KOBS_EXPO_H
#define KOBS_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metric_type {
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_HISTOGRAM,
	METRIC_INFO,
	METRIC_UNTYPED, /* "untyped" in the text format, "unknown" in OpenMetrics */
	METRIC_SUMMARY,
};

enum expo_format {
	EXPO_TEXT,        /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	EXPO_PROTOBUF,    /* delimited io.prometheus.client.MetricFamily messages (expo_proto.h) */
};

struct label {
	const char *name;  /* a valid label name, fixed by the code */
	const char *value; /* any bytes up to the NUL */
};

struct expo;

struct expo *expo_new(void);
void expo_free(struct expo *e);
/* Forget all families and samples; keep the memory. */
void expo_reset(struct expo *e);

/* Start a family. `name` is the OpenMetrics family name: counters without `_total`, info metrics
 * without `_info` (the writers add the suffixes). `unit` may be NULL; when given, `name` ends in
 * "_<unit>". `help` is any text; it is escaped on output. */
void expo_family(struct expo *e, const char *name, enum metric_type type, const char *unit,
                 const char *help);

/* A gauge, counter or info sample of the current family (info values are written as 1). */
void expo_sample(struct expo *e, const struct label *labels, size_t nlabels, double value);

/* A counter sample that also knows when the counter started (seconds since the epoch): written
 * as `<name>_created` in OpenMetrics, left out of the text format. */
void expo_counter_created(struct expo *e, const struct label *labels, size_t nlabels, double value,
                          double created);

/* A histogram sample. `bounds` are the finite upper bounds in ascending order; `cumulative[i]` is
 * the number of observations <= bounds[i]; `count` is the number of all observations (the +Inf
 * bucket) and `sum` their sum. */
void expo_histogram(struct expo *e, const struct label *labels, size_t nlabels,
                    const double *bounds, const uint64_t *cumulative, size_t nbounds, double sum,
                    uint64_t count);

/* An exemplar on bucket `bucket` of the histogram sample added last (bucket i < nbounds is the
 * one bounded by bounds[i], nbounds the +Inf one): an observation `value` at `timestamp`
 * (seconds since the epoch) and labels saying where it came from. Written in OpenMetrics as
 * ` # {labels} value timestamp` after the bucket's sample, and in protobuf in the bucket's
 * message (the +Inf one written for it); the text format has none. A later one on the same bucket
 * replaces it. Dropped when the label names and values together exceed 128 characters, the
 * OpenMetrics limit. */
void expo_exemplar(struct expo *e, size_t bucket, const struct label *labels, size_t nlabels,
                   double value, double timestamp);

/* A summary sample: `quantiles` ascending in [0, 1] with their `values`, the `sum` and `count` of
 * the observations. */
void expo_summary(struct expo *e, const struct label *labels, size_t nlabels,
                  const double *quantiles, const double *values, size_t nquantiles, double sum,
                  uint64_t count);

/* Who adds the samples from now on (0 until set; below EXPO_OWNERS): the scrape marks each
 * collector's samples with its own number, so that one model can be written for a request that
 * asked for some collectors only. */
#define EXPO_OWNERS 64
void expo_set_owner(struct expo *e, unsigned owner);

/* Number of families and of series (one per sample; a histogram counts once). */
size_t expo_families(const struct expo *e);
size_t expo_series(const struct expo *e);

/* Append the whole exposition to `out` in the given format (OpenMetrics ends with `# EOF`;
 * EXPO_PROTOBUF is expo_proto_write()). */
void expo_write(const struct expo *e, enum expo_format format, struct buf *out);
/* The same, with only the samples whose owner's bit is set in `owners`; families left without
 * samples are not written. */
void expo_write_owned(const struct expo *e, enum expo_format format, uint64_t owners,
                      struct buf *out);

/* The Content-Type header value for a format. */
const char *expo_content_type(enum expo_format format);

/* The escapers, exposed for the tests and fuzzers. Both replace invalid UTF-8 with U+FFFD.
 * Label values escape backslash, double quote and newline; HELP escapes backslash and newline,
 * and in OpenMetrics also double quote. */
void expo_escape_label_value(struct buf *out, const char *s, size_t len);
void expo_escape_help(struct buf *out, const char *s, size_t len, enum expo_format format);
/* What the escapers do but the escaping: invalid UTF-8, NUL and CR become U+FFFD, the rest is
 * copied. For formats that need no escaping (protobuf), so that text is the same in every one. */
void expo_valid_utf8(struct buf *out, const char *s, size_t len);

/* Format a sample value the way Prometheus does: shortest form that reads back to the same
 * double, integers without exponent up to 2^53, "NaN", "+Inf", "-Inf". */
void expo_format_value(struct buf *out, double value);

/* ---- reading the model back, for the writers outside this file (expo_proto.c) ---- */

struct expo_family_info {
	const char *name; /* as given to expo_family(); none of these is NUL-terminated */
	size_t name_len;
	const char *help; /* as given, unescaped; help_len 0 when there was none */
	size_t help_len;
	const char *unit; /* unit_len 0 when there is none */
	size_t unit_len;
	enum metric_type type;
	size_t nsamples;
};

struct expo_sample_info {
	/* The label set as the text formats write it between the braces: `name="value"` pairs
	 * joined by commas, each value already made valid UTF-8 and escaped (\\, \", \n). */
	const char *labels;
	size_t labels_len;
	double value; /* gauge, counter, untyped; the sum of a histogram or summary; 1 for info */
	double created;
	bool has_created;
	uint64_t count;  /* histogram: number of observations (the +Inf bucket); summary: count */
	size_t nbounds;  /* histogram: finite buckets, read with expo_bucket(); summary: quantiles,
	                    read with expo_quantile() */
	size_t at_bound; /* where they are (for expo_bucket, expo_quantile) */
	size_t at_count;
	size_t at_exemplar, nexemplars; /* histogram: its exemplars (for expo_bucket_exemplar) */
	unsigned owner;                 /* expo_set_owner()'s, when the sample was added */
};

/* Every family started since the last reset, empty ones included, in order. */
size_t expo_family_count(const struct expo *e);
void expo_family_at(const struct expo *e, size_t family, struct expo_family_info *out);
/* Sample `sample` (< nsamples) of a family. */
void expo_sample_at(const struct expo *e, size_t family, size_t sample,
                    struct expo_sample_info *out);
/* Finite bucket `k` (< nbounds) of a histogram sample: its upper bound and cumulative count. */
void expo_bucket(const struct expo *e, const struct expo_sample_info *s, size_t k, double *bound,
                 uint64_t *cumulative);
/* The exemplar of bucket `k` (< nbounds; nbounds is the +Inf one) of a histogram sample, the last
 * one given: its labels as the text formats write them between the braces, value and time.
 * Returns false when the bucket has none. */
bool expo_bucket_exemplar(const struct expo *e, const struct expo_sample_info *s, size_t k,
                          const char **labels, size_t *labels_len, double *value,
                          double *timestamp);
/* Quantile `k` (< nbounds) of a summary sample: the quantile and its value. */
void expo_quantile(const struct expo *e, const struct expo_sample_info *s, size_t k,
                   double *quantile, double *value);

#endif
