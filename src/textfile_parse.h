/* The textfile collector's parser: Prometheus text format 0.0.4 (what node_exporter's textfile
 * collector reads), checked so that whatever it accepts is served as valid text format and valid
 * OpenMetrics. Pure: it takes a buffer and a length, so the unit tests and the fuzzer drive it.
 *
 * What a file may hold, as Prometheus' own parser (expfmt) reads it: `# HELP name text` and
 * `# TYPE name counter|gauge|histogram|summary|untyped` lines (at most one of each per family,
 * TYPE before the family's samples), other `#` lines as comments, blank lines, and samples
 * `name{label="value",...} value`. A family's samples need not be adjacent. Refused, with the line
 * and column: a timestamp after the value (node_exporter refuses them too), a CR or NUL byte, a
 * label value or HELP that is not UTF-8, an escape other than \\ \" \n (\\ \n in HELP), a label
 * name starting with "__" or given twice, the same series twice, and what OpenMetrics cannot
 * carry: a counter, histogram _bucket/_count/_sum or summary _count/_sum that is negative or NaN,
 * a non-integer count, a negative quantile value, a histogram with a negative bucket bound, a
 * histogram or summary without its _sum and _count, a +Inf bucket that is not the _count,
 * buckets that decrease, and two families whose sample names clash (a gauge foo_total beside a
 * counter foo_total, a histogram foo beside a gauge foo_count). */
#ifndef KOBS_TEXTFILE_PARSE_H
#define KOBS_TEXTFILE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "expo.h"

enum textfile_type {
	TEXTFILE_UNTYPED,
	TEXTFILE_COUNTER,
	TEXTFILE_GAUGE,
	TEXTFILE_HISTOGRAM,
	TEXTFILE_SUMMARY,
};

/* One series. Labels are sorted by name; a label with an empty value is left out (Prometheus
 * treats it as absent); histograms have no `le` and summaries no `quantile` here. */
struct textfile_series {
	const struct label *labels;
	size_t nlabels;
	double value;         /* counter, gauge, untyped: the value; else the _sum */
	uint64_t count;       /* histogram, summary: the _count */
	const double *bounds; /* histogram: finite `le` bounds; summary: quantiles; ascending */
	const uint64_t *cumulative; /* histogram: the bucket of each bound */
	const double *values;       /* summary: the value of each quantile */
	size_t nbounds;
};

struct textfile_family {
	const char *name; /* as the file names it (a counter's ends in _total, or not) */
	const char *help; /* NULL when the file has none */
	enum textfile_type type;
	const struct textfile_series *series; /* sorted by their labels */
	size_t nseries;
	unsigned line; /* where the file first names it */
};

struct textfile;

struct textfile *textfile_new(void);
void textfile_free(struct textfile *t);

/* Parse `len` bytes of `data`. Returns 0, or -1 with "line L, column C: what is wrong" (or
 * "line L: ...") in `err`. The families stay valid until the next call. */
int textfile_parse(struct textfile *t, const char *data, size_t len, char *err, size_t errlen);
size_t textfile_families(const struct textfile *t);
const struct textfile_family *textfile_family_at(const struct textfile *t, size_t i);

/* Append the parsed families to `out`. A counter named without _total is served as untyped,
 * under its own name: OpenMetrics wants every counter sample to end in _total, and renaming it
 * would change the series users query. `default_help` stands for a missing HELP. */
void textfile_expose(const struct textfile *t, const char *default_help, struct expo *out);

/* Metric names taken by families, so that families of several files can be checked for clashes.
 * A family takes its name and every sample name it may be written with in either format. */
struct textfile_names;

struct textfile_names *textfile_names_new(void);
void textfile_names_free(struct textfile_names *n);
void textfile_names_reset(struct textfile_names *n);
/* The first name `f` would take that is taken already, with its owner in `*owner`; or NULL.
 * The name stays valid until the next call. */
const char *textfile_names_clash(struct textfile_names *n, const struct textfile_family *f,
                                 size_t *owner);
/* Take `f`'s names for `owner` (names taken already keep their owner). */
void textfile_names_take(struct textfile_names *n, const struct textfile_family *f, size_t owner);

#endif
