/* The exposition model: what one scrape collected, as metric families and samples, and the
 * writers that turn it into Prometheus text 0.0.4 or OpenMetrics 1.0.0.
 *
 * Collectors call expo_family() and then add that family's samples; families are written in the
 * order they were started and a family without samples is not written at all. All strings are
 * copied into the model, so callers may pass temporaries. Label values are escaped and made valid
 * UTF-8 (U+FFFD for each invalid sequence) as they are added, so whatever bytes a process name
 * holds, the output parses. expo_reset() keeps every buffer for the next scrape: once a scrape
 * of the same shape has run, adding samples allocates nothing. */
#ifndef KOBS_EXPO_H
#define KOBS_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metric_type {
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_HISTOGRAM,
	METRIC_INFO,
};

enum expo_format {
	EXPO_TEXT,        /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
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
 * (seconds since the epoch) and labels saying where it came from. Written in OpenMetrics only,
 * as ` # {labels} value timestamp` after the bucket's sample; a later one on the same bucket
 * replaces it. Dropped when the label names and values together exceed 128 characters, the
 * OpenMetrics limit. */
void expo_exemplar(struct expo *e, size_t bucket, const struct label *labels, size_t nlabels,
                   double value, double timestamp);

/* Number of families and of series (one per sample; a histogram counts once). */
size_t expo_families(const struct expo *e);
size_t expo_series(const struct expo *e);

/* Append the whole exposition to `out` in the given format (OpenMetrics ends with `# EOF`). */
void expo_write(const struct expo *e, enum expo_format format, struct buf *out);

/* The Content-Type header value for a format. */
const char *expo_content_type(enum expo_format format);

/* The escapers, exposed for the tests and fuzzers. Both replace invalid UTF-8 with U+FFFD.
 * Label values escape backslash, double quote and newline; HELP escapes backslash and newline,
 * and in OpenMetrics also double quote. */
void expo_escape_label_value(struct buf *out, const char *s, size_t len);
void expo_escape_help(struct buf *out, const char *s, size_t len, enum expo_format format);

/* Format a sample value the way Prometheus does: shortest form that reads back to the same
 * double, integers without exponent up to 2^53, "NaN", "+Inf", "-Inf". */
void expo_format_value(struct buf *out, double value);

#endif
