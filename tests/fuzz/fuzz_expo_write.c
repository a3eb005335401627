/* The exposition writers: build an expo model whose label values, HELP texts, sample values and
 * histogram bounds the fuzzer chooses, write it in both formats, and check that the output
 * parses and says what the model holds.
 *
 * 1. Every line is read by a strict lexer that knows nothing of the model: `# HELP name text`,
 *    `# TYPE name type`, `# UNIT name unit` and `# EOF` (the last two in OpenMetrics only), or
 *    `name{label="value",...} number`, which in OpenMetrics, on a `_bucket` line only, may go on
 *    with an exemplar ` # {label="value",...} number timestamp` (its braces may be empty). Label
 *    values have no raw `"` or newline and only the escapes \\ \" \n; HELP has no raw newline
 *    and only \\ \n (and, in OpenMetrics, \" and no raw `"`); numbers are NaN, +Inf, -Inf or
 *    -?digits[.digits][e(+|-)digits]; timestamps are -?digits.ddd, what "%.3f" writes. The whole
 *    output is valid UTF-8 without NUL or CR and ends in a newline.
 * 2. The lines are then compared, in order, with the ones the model calls for in each format
 *    (metadata order and suffixes as client_golang and the OpenMetrics spec have them): label
 *    values and HELP texts unescape to what was given with ill-formed UTF-8, NUL and CR replaced
 *    by U+FFFD; every number reads back (strtod) as the double that was given, integers below
 *    2^53 without a point or exponent; every `le` reads back as its bound, in OpenMetrics with a
 *    ".0" when integral; bucket counts, _count and info values are exact. Exemplars (OpenMetrics
 *    only) are on exactly the buckets the model gives one, never on _sum or _count: the last one
 *    given for the bucket that was not dropped. Dropped are those whose label names and values
 *    together exceed 128 characters (code points of the values once sanitized, as the spec
 *    counts them, not of their escaped rendering) and those with a value or timestamp that is
 *    not finite. Their label values round-trip like the sample's, their value reads back
 *    exactly, their timestamp is within 0.0005 s of the one given (exactly: at any magnitude).
 * 3. The model is reset and rebuilt from the same input (the daemon's steady state) and must
 *    write the same bytes again.
 * 4. The protobuf writer (src/expo_proto.c), read back by a strict wire-format reader: one
 *    length-delimited MetricFamily per family with samples, every length exact, only the fields
 *    of io.prometheus.client's schema; names with the text format's suffixes, HELP and label
 *    values the sanitized input (unescaped), doubles bit for bit, created times to the
 *    nanosecond; histograms with their classic buckets, and native fields exactly when every
 *    histogram of the family has doubling bounds: then a power-of-two zero threshold within
 *    sqrt(2) of the first bound, holding the first bucket, and native buckets that hold the
 *    others' counts, the overflow bucket last. A bucket's Exemplar (labels, value bit for bit,
 *    Timestamp to the nanosecond, present exactly when a Timestamp can hold the time: years 1 to
 *    9999) rides in exactly the classic buckets that have one; an explicit +Inf bucket (count =
 *    the sample count) is there exactly when the +Inf bucket has one, and is no native bound.
 * The layout itself does not depend on the input; tests/unit/test_expo.c and the promtool and
 * prometheus_client checks in tests/integration/ cover it. What the fuzzer can reach here is the
 * escaping and the number formatting, in every position they are used, and which exemplars are
 * kept.
 *
 * The input is a list of records separated by NUL bytes (the API takes C strings, so a label
 * value or HELP cannot hold a NUL). A record's first byte modulo 4 says what it is; the letters
 * are what the seeds use:
 *   'l' VALUE...     add a label with this value (the names are fixed: group, comm, pid, collector;
 *                    an exemplar names the same values pid, comm, trace_id, span_id)
 *   'e'              forget the labels
 *   'f' T U HELP...  start a family: T % 4 = gauge, counter, histogram, info; U % 4 = no unit,
 *                    seconds, bytes, no unit and a ':' in the name; HELP is the rest of the record
 *                    (a record of fewer than 3 bytes: no HELP at all)
 *   's' NUMBERS...   add a sample to the current family; NUMBERS is text that strtod reads one
 *                    number after another (so "nan", "-inf", "-0" and, in hex, every double can
 *                    be written): gauge, info: the value; counter: the value, then the created
 *                    time if there is more; histogram: the sum, the number of bounds (up to 8),
 *                    the bounds, one increment of the cumulative count per bound and one for
 *                    the +Inf bucket; then, while the record goes on, exemplars: a bucket (modulo
 *                    the number of buckets, the +Inf one last), a value and a timestamp, each
 *                    labelled with the current labels. Missing or unreadable numbers count as 0.
 * Values keep to the API's contract: counters and histogram sums are made non-negative and not
 * NaN, histogram bounds finite, non-negative and strictly ascending; gauges get any double. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"

#include "fuzz_common.h"

#define MAX_FAMILIES 12
#define MAX_SAMPLES  48
#define MAX_LABELS   4
#define MAX_BOUNDS   8

static const char *const label_names[MAX_LABELS] = {"group", "comm", "pid", "collector"};
/* An exemplar's labels say where an observation came from: the same values, other names. */
static const char *const exemplar_label_names[MAX_LABELS] = {"pid", "comm", "trace_id", "span_id"};

/* OpenMetrics: "The combined length of the label names and values of an Exemplar's LabelSet
 * MUST NOT exceed 128 UTF-8 characters", the characters of the values themselves, not of their
 * escaped rendering ("for consistency between the text and proto formats"). */
#define EXEMPLAR_MAX_CHARS 128

/* The times a google.protobuf.Timestamp holds: 0001-01-01T00:00:00Z up to 10000-01-01. */
#define TIMESTAMP_MIN (-62135596800.0)
#define TIMESTAMP_END 253402300800.0

/* ---- the model, as the harness sees it, and how the input builds it ---- */

struct shadow_family {
	char name[40];
	enum metric_type type;
	const char *unit; /* NULL: none */
	const char *help; /* NULL: none */
	size_t first, nsamples;
};

/* The exemplar a bucket must carry: the last one given that the writer must accept. */
struct shadow_exemplar {
	bool present;
	size_t nlabels; /* named exemplar_label_names[i], valued as the sample's labels */
	const char *values[MAX_LABELS];
	double value, timestamp;
};

struct shadow_sample {
	size_t nlabels;
	const char *values[MAX_LABELS];
	double value; /* the sum for histograms */
	bool has_created;
	double created;
	size_t nbounds;
	double bounds[MAX_BOUNDS];
	uint64_t cumulative[MAX_BOUNDS];
	uint64_t count;
	struct shadow_exemplar exemplars[MAX_BOUNDS + 1]; /* per bucket, the +Inf one last */
};

struct shadow {
	struct shadow_family families[MAX_FAMILIES];
	size_t nfamilies;
	struct shadow_sample samples[MAX_SAMPLES];
	size_t nsamples;
	const char *labels[MAX_LABELS]; /* the label values for the next samples */
	size_t nlabels;
};

/* The next number of a NUL-terminated record; 0 when there is none or it does not read. */
static double take_double(const char **p)
{
	if (!**p)
		return 0;
	char *end;
	double v = strtod(*p, &end);
	if (end == *p) {
		(*p)++; /* not a number: skip a character */
		return 0;
	}
	*p = end;
	return v;
}

/* A whole number in [0, limit). */
static uint64_t take_whole(const char **p, double limit)
{
	double v = fabs(take_double(p));
	return v < limit ? (uint64_t)v : 0;
}

/* What OpenMetrics allows a counter-like value to be. */
static double counter_like(double v)
{
	return isnan(v) ? 0 : fabs(v);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void add_family(struct expo *e, struct shadow *sh, const char *r, size_t len)
{
	static const enum metric_type types[] = {METRIC_GAUGE, METRIC_COUNTER, METRIC_HISTOGRAM,
	                                         METRIC_INFO};
	static const char *const units[] = {NULL, "seconds", "bytes", NULL};
	if (sh->nfamilies == MAX_FAMILIES)
		return;
	struct shadow_family *f = &sh->families[sh->nfamilies];
	unsigned unit = len > 2 ? (unsigned char)r[2] % 4 : 0;
	f->type = types[len > 1 ? (unsigned char)r[1] % 4 : 0];
	f->unit = f->type == METRIC_INFO ? NULL : units[unit];
	/* Unique names: two families of one name would be the caller's bug. */
	snprintf(f->name, sizeof(f->name), "kobs%cf%zu%s%s", unit == 3 ? ':' : '_', sh->nfamilies,
	         f->unit ? "_" : "", f->unit ? f->unit : "");
	f->help = len >= 3 ? r + 3 : NULL;
	f->first = sh->nsamples;
	f->nsamples = 0;
	sh->nfamilies++;
	expo_family(e, f->name, f->type, f->unit, f->help);
}

/* The characters (code points) of `given` once ill-formed UTF-8, NUL and CR are replaced: what
 * an exemplar's label value counts towards the limit. */
static size_t sanitized_chars(const char *given)
{
	size_t len = strlen(given);
	char *clean = malloc(3 * len + 1);
	FUZZ_CHECK(clean, "out of memory");
	size_t n = fuzz_utf8_sanitize(given, len, clean), chars = 0;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)clean[i] & 0xc0) != 0x80; /* not a continuation byte */
	free(clean);
	return chars;
}

/* The rest of a histogram's record: exemplars, each a bucket (modulo the number of buckets, the
 * +Inf one last), a value and a timestamp, labelled with the sample's label values. */
static void add_exemplars(struct expo *e, struct shadow_sample *s, const char *p)
{
	struct label labels[MAX_LABELS];
	struct shadow_exemplar x = {.present = true, .nlabels = s->nlabels};
	size_t chars = 0;
	for (size_t i = 0; i < s->nlabels; i++) {
		labels[i] = (struct label){exemplar_label_names[i], s->values[i]};
		x.values[i] = s->values[i];
		chars += strlen(exemplar_label_names[i]) + sanitized_chars(s->values[i]);
	}
	for (;;) {
		p += strspn(p, " \t\n\v\f\r");
		if (!*p)
			return;
		size_t bucket = (size_t)(take_whole(&p, 1e15) % (s->nbounds + 1));
		x.value = take_double(&p);
		x.timestamp = take_double(&p);
		expo_exemplar(e, bucket, labels, s->nlabels, x.value, x.timestamp);
		/* Dropped, leaving the bucket's earlier exemplar if any: too long, or not a number
		 * OpenMetrics and protobuf can carry. Otherwise it replaces the earlier one. */
		if (chars <= EXEMPLAR_MAX_CHARS && isfinite(x.value) && isfinite(x.timestamp))
			s->exemplars[bucket] = x;
	}
}

static void add_histogram(struct expo *e, struct shadow_sample *s, const char *p,
                          const struct label *labels)
{
	s->value = counter_like(take_double(&p));
	size_t want = take_whole(&p, MAX_BOUNDS + 1);
	double bounds[MAX_BOUNDS];
	size_t n = 0;
	for (size_t i = 0; i < want; i++) {
		double b = fabs(take_double(&p));
		if (isfinite(b))
			bounds[n++] = b;
	}
	qsort(bounds, n, sizeof(bounds[0]), compare_doubles);
	for (size_t i = 0; i < n; i++)
		if (!s->nbounds || bounds[i] > s->bounds[s->nbounds - 1])
			s->bounds[s->nbounds++] = bounds[i];
	/* Increments below 1e15 keep the count far from overflowing. */
	uint64_t c = 0;
	for (size_t i = 0; i < s->nbounds; i++) {
		c += take_whole(&p, 1e15);
		s->cumulative[i] = c;
	}
	s->count = c + take_whole(&p, 1e15);
	expo_histogram(e, labels, s->nlabels, s->bounds, s->cumulative, s->nbounds, s->value,
	               s->count);
	add_exemplars(e, s, p);
}

static void add_sample(struct expo *e, struct shadow *sh, const char *r)
{
	if (sh->nsamples == MAX_SAMPLES)
		return;
	if (!sh->nfamilies)
		add_family(e, sh, "f", 1);
	struct shadow_family *f = &sh->families[sh->nfamilies - 1];
	struct shadow_sample *s = &sh->samples[sh->nsamples++];
	memset(s, 0, sizeof(*s));
	f->nsamples++;

	struct label labels[MAX_LABELS];
	s->nlabels = sh->nlabels;
	for (size_t i = 0; i < sh->nlabels; i++) {
		s->values[i] = sh->labels[i];
		labels[i] = (struct label){label_names[i], sh->labels[i]};
	}
	const char *p = r + 1;
	switch (f->type) {
	case METRIC_GAUGE:
	case METRIC_INFO:
		s->value = take_double(&p);
		expo_sample(e, labels, s->nlabels, s->value);
		break;
	case METRIC_COUNTER:
		s->value = counter_like(take_double(&p));
		p += strspn(p, " \t");
		if (*p) {
			s->has_created = true;
			s->created = take_double(&p);
			expo_counter_created(e, labels, s->nlabels, s->value, s->created);
		} else {
			expo_sample(e, labels, s->nlabels, s->value);
		}
		break;
	case METRIC_HISTOGRAM:
		add_histogram(e, s, p, labels);
		break;
	case METRIC_UNTYPED:
	case METRIC_SUMMARY:
		/* Not built here: textfiles bring them, and fuzz_textfile.c serves them. */
		FUZZ_CHECK(0, "a family type this harness does not build");
		break;
	}
}

/* `records`: NUL-separated, with a NUL after the last one at `size`. */
static void build(struct expo *e, const char *records, size_t size, struct shadow *sh)
{
	memset(sh, 0, sizeof(*sh));
	for (size_t i = 0; i <= size;) {
		const char *r = records + i;
		size_t len = strlen(r);
		i += len + 1;
		if (!len)
			continue;
		switch ((unsigned char)r[0] % 4) {
		case 0: /* 'l' */
			if (sh->nlabels < MAX_LABELS)
				sh->labels[sh->nlabels++] = r + 1;
			break;
		case 1: /* 'e' */
			sh->nlabels = 0;
			break;
		case 2: /* 'f' */
			add_family(e, sh, r, len);
			break;
		case 3: /* 's' */
			add_sample(e, sh, r);
			break;
		}
	}
}

/* ---- 1: the lexer ---- */

struct span {
	const char *p;
	size_t len;
};

enum line_kind { LINE_HELP, LINE_TYPE, LINE_UNIT, LINE_EOF, LINE_SAMPLE };

struct parsed_line {
	struct span raw;
	enum line_kind kind;
	struct span name;
	struct span text; /* HELP: unescaped; TYPE: the type; UNIT: the unit */
	size_t nlabels;
	struct span label_names[MAX_LABELS + 1];
	struct span label_values[MAX_LABELS + 1]; /* unescaped */
	struct span value;                        /* as written */
	/* OpenMetrics: ` # {labels} value timestamp` after a bucket's count */
	bool exemplar;
	size_t x_nlabels;
	struct span x_label_names[MAX_LABELS], x_label_values[MAX_LABELS]; /* values unescaped */
	struct span x_value, x_timestamp;                                  /* as written */
};

struct output {
	enum expo_format format;
	const char *data;
	size_t len;
	struct parsed_line *lines;
	size_t nlines;
	size_t next; /* the next line to compare with the model */
	size_t at;   /* the line being checked, for messages */
	char *arena; /* unescaped texts */
	size_t arena_used;
};

/* Report a violation with the line at fault and the output, then abort. */
__attribute__((format(printf, 2, 3), noreturn)) static void fail(const struct output *o,
                                                                 const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\nproperty violated: %s output, line %zu: ",
	        o->format == EXPO_OPENMETRICS ? "OpenMetrics" : "text", o->at + 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (o->at < o->nlines)
		fuzz_print_bytes("line", o->lines[o->at].raw.p, o->lines[o->at].raw.len);
	fprintf(stderr, "--- output ---\n%.*s--- end ---\n", (int)(o->len < 4096 ? o->len : 4096),
	        o->data);
	abort();
}

#define EXPECT(o, cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail(o, __VA_ARGS__);                                                      \
	} while (0)

static bool span_is(struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static bool take_char(struct span *s, char c)
{
	if (!s->len || s->p[0] != c)
		return false;
	s->p++;
	s->len--;
	return true;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric names) or [a-zA-Z_][a-zA-Z0-9_]* (label names). */
static struct span take_name(struct span *s, bool colon)
{
	size_t n = 0;
	for (; n < s->len; n++) {
		char c = s->p[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (colon && c == ':') || (n && c >= '0' && c <= '9')))
			break;
	}
	struct span name = {s->p, n};
	s->p += n;
	s->len -= n;
	return name;
}

static size_t digits(struct span v, size_t i)
{
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
		i++;
	return i;
}

/* NaN, +Inf, -Inf or -?digits[.digits][e(+|-)digits]: what the writers may produce, all of
 * which Go's ParseFloat and the OpenMetrics ABNF accept. */
static bool number_syntax(struct span v)
{
	if (span_is(v, "NaN") || span_is(v, "+Inf") || span_is(v, "-Inf"))
		return true;
	size_t start = v.len && v.p[0] == '-';
	size_t i = digits(v, start);
	if (i == start)
		return false;
	if (i < v.len && v.p[i] == '.') {
		start = i + 1;
		if ((i = digits(v, start)) == start)
			return false;
	}
	if (i + 1 < v.len && v.p[i] == 'e' && (v.p[i + 1] == '+' || v.p[i + 1] == '-')) {
		start = i + 2;
		if ((i = digits(v, start)) == start)
			return false;
	}
	return i == v.len;
}

static struct span unescape(struct output *o, struct span s, bool quote, const char *what)
{
	char *dst = o->arena + o->arena_used;
	size_t n;
	if (!fuzz_unescape(s.p, s.len, quote, dst, &n))
		fail(o, "%s has a raw newline%s or an invalid escape", what,
		     quote ? ", a raw quote" : "");
	o->arena_used += n;
	return (struct span){dst, n};
}

/* `name="value",...}` after the opening brace, at most `max` labels; an exemplar's may be
 * `}` alone (`empty`), a sample's never is (the writers leave the braces out then). */
static void lex_labels(struct output *o, struct span *rest, struct span *names, struct span *values,
                       size_t *n, size_t max, bool empty)
{
	if (empty && take_char(rest, '}'))
		return;
	do {
		EXPECT(o, *n < max, "more labels than the model has");
		struct span name = take_name(rest, false);
		EXPECT(o, name.len && take_char(rest, '=') && take_char(rest, '"'),
		       "label %zu is not name=\"", *n);
		size_t i = 0;
		while (i < rest->len && rest->p[i] != '"')
			i += rest->p[i] == '\\' ? 2 : 1;
		EXPECT(o, i < rest->len, "an unterminated label value");
		names[*n] = name;
		values[(*n)++] = unescape(o, (struct span){rest->p, i}, true, "a label value");
		rest->p += i + 1;
		rest->len -= i + 1;
	} while (take_char(rest, ','));
	EXPECT(o, take_char(rest, '}'), "labels not closed by }");
}

/* The span up to the next space or the end, taken from `rest`. */
static struct span take_word(struct span *rest)
{
	const char *sp = memchr(rest->p, ' ', rest->len);
	struct span w = {rest->p, sp ? (size_t)(sp - rest->p) : rest->len};
	rest->p += w.len;
	rest->len -= w.len;
	return w;
}

/* -?digits.ddd: what "%.3f" writes for a finite double (the integer part without leading zeros,
 * exactly three decimals, no exponent). */
static bool timestamp_syntax(struct span t)
{
	size_t start = t.len && t.p[0] == '-';
	size_t point = digits(t, start);
	return point > start && (t.p[start] != '0' || point == start + 1) && point + 4 == t.len &&
	       t.p[point] == '.' && digits(t, point + 1) == t.len;
}

/* ` # {labels} value timestamp`, the rest of a bucket's line in OpenMetrics. */
static void lex_exemplar(struct output *o, struct span rest, struct parsed_line *pl)
{
	EXPECT(o, o->format == EXPO_OPENMETRICS, "more than a value on a line of the text format");
	EXPECT(o, pl->name.len > 7 && memcmp(pl->name.p + pl->name.len - 7, "_bucket", 7) == 0,
	       "an exemplar on a line that is no histogram bucket");
	EXPECT(o,
	       take_char(&rest, ' ') && take_char(&rest, '#') && take_char(&rest, ' ') &&
	           take_char(&rest, '{'),
	       "after the value: not ` # {`");
	pl->exemplar = true;
	lex_labels(o, &rest, pl->x_label_names, pl->x_label_values, &pl->x_nlabels, MAX_LABELS,
	           true);
	EXPECT(o, take_char(&rest, ' '), "no space before the exemplar's value");
	pl->x_value = take_word(&rest);
	EXPECT(o, number_syntax(pl->x_value), "the exemplar's value is not a number");
	EXPECT(o, take_char(&rest, ' '), "no space before the exemplar's timestamp");
	pl->x_timestamp = rest;
	EXPECT(o, timestamp_syntax(rest), "the exemplar's timestamp is not -?digits.ddd");
}

static void lex_line(struct output *o, struct parsed_line *pl)
{
	struct span rest = pl->raw;
	bool om = o->format == EXPO_OPENMETRICS;
	if (span_is(rest, "# EOF")) {
		EXPECT(o, om, "# EOF in the text format");
		pl->kind = LINE_EOF;
		return;
	}
	if (take_char(&rest, '#')) {
		EXPECT(o, take_char(&rest, ' '), "no space after #");
		struct span keyword = take_name(&rest, false);
		if (span_is(keyword, "HELP"))
			pl->kind = LINE_HELP;
		else if (span_is(keyword, "TYPE"))
			pl->kind = LINE_TYPE;
		else if (om && span_is(keyword, "UNIT"))
			pl->kind = LINE_UNIT;
		else
			fail(o, "an unknown comment");
		EXPECT(o, take_char(&rest, ' '), "no space after the keyword");
		pl->name = take_name(&rest, true);
		EXPECT(o, pl->name.len && take_char(&rest, ' '), "no metric name and space");
		if (pl->kind == LINE_HELP)
			pl->text = unescape(o, rest, om, "HELP");
		else
			pl->text = rest;
		return;
	}
	pl->kind = LINE_SAMPLE;
	pl->name = take_name(&rest, true);
	EXPECT(o, pl->name.len, "no metric name");
	if (take_char(&rest, '{'))
		lex_labels(o, &rest, pl->label_names, pl->label_values, &pl->nlabels,
		           MAX_LABELS + 1, false);
	EXPECT(o, take_char(&rest, ' '), "no space before the value");
	pl->value = take_word(&rest);
	EXPECT(o, number_syntax(pl->value), "the value is not a number");
	if (rest.len)
		lex_exemplar(o, rest, pl);
}

static void lex(struct output *o)
{
	EXPECT(o, !memchr(o->data, '\0', o->len) && !memchr(o->data, '\r', o->len),
	       "a NUL or CR in the output");
	EXPECT(o, fuzz_utf8_valid(o->data, o->len), "invalid UTF-8 in the output");
	EXPECT(o, o->len == 0 || o->data[o->len - 1] == '\n', "no newline at the end");
	for (const char *p = o->data, *end = p + o->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		o->at = o->nlines;
		struct parsed_line *pl = &o->lines[o->nlines++];
		pl->raw = (struct span){p, (size_t)(nl - p)};
		lex_line(o, pl);
		p = nl + 1;
	}
}

/* ---- 2: the lines the model calls for ---- */

static const struct parsed_line *expect_line(struct output *o, enum line_kind kind,
                                             const char *name)
{
	o->at = o->next++;
	EXPECT(o, o->at < o->nlines, "missing: a line for %s", name);
	const struct parsed_line *pl = &o->lines[o->at];
	EXPECT(o, pl->kind == kind && (kind == LINE_EOF || span_is(pl->name, name)),
	       "expected a line of kind %d for %s", (int)kind, name);
	return pl;
}

/* `got` (unescaped) must be `given` with ill-formed UTF-8, NUL and CR replaced. */
static void expect_text(struct output *o, struct span got, const char *given, const char *what)
{
	size_t len = strlen(given);
	char *want = malloc(3 * len + 1);
	FUZZ_CHECK(want, "out of memory");
	size_t want_len = fuzz_utf8_sanitize(given, len, want);
	if (got.len != want_len || memcmp(got.p, want, want_len) != 0) {
		fuzz_print_bytes("given", given, len);
		fuzz_print_bytes("expected after unescaping", want, want_len);
		fuzz_print_bytes("got after unescaping", got.p, got.len);
		fail(o, "%s does not round-trip", what);
	}
	free(want);
}

/* `written` reads back as `want`. Sample values (`as_value`) also write integers below 2^53 as
 * integers; bucket bounds follow Go's %g instead (1e+06). */
static void expect_number(struct output *o, struct span written, double want, bool as_value,
                          const char *what)
{
	char tmp[64];
	EXPECT(o, number_syntax(written) && written.len < sizeof(tmp), "%s is not a number", what);
	memcpy(tmp, written.p, written.len);
	tmp[written.len] = '\0';
	double got = strtod(tmp, NULL);
	EXPECT(o, (isnan(want) && isnan(got)) || got == want, "%s reads back as %.17g, not %.17g",
	       what, got, want);
	bool negative = written.p[0] == '-';
	if (as_value && want == floor(want) && fabs(want) < 9007199254740992.0)
		EXPECT(o, digits(written, negative) == written.len,
		       "%s: an integer not written as one", what);
}

static void expect_count(struct output *o, struct span written, uint64_t want, const char *what)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)want);
	EXPECT(o, span_is(written, tmp), "%s is not %s", what, tmp);
}

/* The decimal digits of a whole double `v` >= 2^53, exactly, into `out` (320 bytes): v = m * 2^k
 * with m and k whole, and m is doubled k times in base-10^9 limbs. By hand, because the writer
 * uses printf, which the oracle must not. */
static void whole_digits(double v, char *out)
{
	int k;
	uint64_t m = (uint64_t)ldexp(frexp(v, &k), 53);
	uint32_t limbs[40];
	size_t n = 0;
	for (; m; m /= 1000000000)
		limbs[n++] = (uint32_t)(m % 1000000000);
	for (k -= 53; k > 0; k--) {
		uint32_t carry = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t twice = limbs[i] * 2 + carry;
			carry = twice >= 1000000000;
			limbs[i] = twice - carry * 1000000000;
		}
		if (carry)
			limbs[n++] = carry;
	}
	int len = sprintf(out, "%" PRIu32, limbs[n - 1]);
	for (size_t i = n - 1; i-- > 0;)
		len += sprintf(out + len, "%09" PRIu32, limbs[i]);
}

/* An exemplar's timestamp (syntax -?digits.ddd, checked by the lexer) is `want` rounded to the
 * millisecond: within 0.0005 s of it, exactly, at any magnitude. */
static void expect_timestamp(struct output *o, struct span written, double want)
{
	bool negative = written.p[0] == '-';
	struct span whole = {written.p + negative, written.len - negative - 4};
	const char *frac = written.p + written.len - 3;
	double thousandths = (frac[0] - '0') * 100 + (frac[1] - '0') * 10 + (frac[2] - '0');
	double x = negative ? -want : want;
	if (x >= 9007199254740992.0) { /* a whole number: its digits, and .000 */
		char exact[320];
		whole_digits(x, exact);
		EXPECT(o, span_is(whole, exact) && thousandths == 0,
		       "the exemplar's timestamp %.17g is written as %.*s", want, (int)written.len,
		       written.p);
		return;
	}
	/* Below 2^53 the whole part reads back exactly, and x minus it is exact too (Sterbenz:
	 * both are within a factor of 2 of each other, or the whole part is 0); only the product
	 * by 1000 rounds, by far less than 1e-9. */
	char tmp[24];
	EXPECT(o, whole.len <= 16, "the exemplar's timestamp %.17g is written as %.*s", want,
	       (int)written.len, written.p);
	memcpy(tmp, whole.p, whole.len);
	tmp[whole.len] = '\0';
	double error = (x - strtod(tmp, NULL)) * 1000 - thousandths;
	EXPECT(o, fabs(error) <= 0.5 + 1e-9,
	       "the exemplar's timestamp %.17g is written as %.*s, %g ms away", want,
	       (int)written.len, written.p, error);
}

/* The exemplar of a bucket's line: the one the model has, or none. */
static void expect_exemplar(struct output *o, const struct parsed_line *pl,
                            const struct shadow_exemplar *x)
{
	if (!x || !x->present) {
		EXPECT(o, !pl->exemplar, "an exemplar the model does not have");
		return;
	}
	EXPECT(o, pl->exemplar, "the bucket's exemplar is missing");
	EXPECT(o, pl->x_nlabels == x->nlabels, "the exemplar has %zu labels, the model %zu",
	       pl->x_nlabels, x->nlabels);
	for (size_t i = 0; i < x->nlabels; i++) {
		EXPECT(o, span_is(pl->x_label_names[i], exemplar_label_names[i]),
		       "exemplar label %zu misnamed", i);
		expect_text(o, pl->x_label_values[i], x->values[i], "an exemplar's label value");
	}
	expect_number(o, pl->x_value, x->value, true, "the exemplar's value");
	expect_timestamp(o, pl->x_timestamp, x->timestamp);
}

/* A sample line of `name` with the sample's labels, then `le` when `le` is given, and the
 * exemplar `x` (NULL or absent: none). */
static const struct parsed_line *expect_sample(struct output *o, const char *name,
                                               const struct shadow_sample *s, const double *le,
                                               const struct shadow_exemplar *x)
{
	const struct parsed_line *pl = expect_line(o, LINE_SAMPLE, name);
	EXPECT(o, pl->nlabels == s->nlabels + (le != NULL), "%zu labels, the model has %zu",
	       pl->nlabels, s->nlabels + (le != NULL));
	for (size_t i = 0; i < s->nlabels; i++) {
		EXPECT(o, span_is(pl->label_names[i], label_names[i]), "label %zu misnamed", i);
		expect_text(o, pl->label_values[i], s->values[i], "a label value");
	}
	if (le) {
		struct span v = pl->label_values[s->nlabels];
		EXPECT(o, span_is(pl->label_names[s->nlabels], "le"), "le is not the last label");
		if (isinf(*le)) {
			EXPECT(o, span_is(v, "+Inf"), "the last bucket is not le=\"+Inf\"");
		} else {
			expect_number(o, v, *le, false, "le");
			if (o->format == EXPO_OPENMETRICS && *le == floor(*le))
				EXPECT(o, memchr(v.p, '.', v.len) || memchr(v.p, 'e', v.len),
				       "le of an integral bound without .0 (not canonical)");
		}
	}
	expect_exemplar(o, pl, x);
	return pl;
}

static void expect_histogram(struct output *o, const char *base, const struct shadow_sample *s)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_bucket", base);
	for (size_t i = 0; i <= s->nbounds; i++) {
		double le = i < s->nbounds ? s->bounds[i] : INFINITY;
		uint64_t count = i < s->nbounds ? s->cumulative[i] : s->count;
		/* Exemplars in OpenMetrics only; the lexer refuses them in the text format. */
		const struct shadow_exemplar *x =
		    o->format == EXPO_OPENMETRICS ? &s->exemplars[i] : NULL;
		expect_count(o, expect_sample(o, name, s, &le, x)->value, count, "the bucket");
	}
	snprintf(name, sizeof(name), "%s_sum", base);
	expect_number(o, expect_sample(o, name, s, NULL, NULL)->value, s->value, true, "_sum");
	snprintf(name, sizeof(name), "%s_count", base);
	expect_count(o, expect_sample(o, name, s, NULL, NULL)->value, s->count, "_count");
}

static void expect_family(struct output *o, const struct shadow *sh, const struct shadow_family *f)
{
	static const char *const words[] = {
	    [METRIC_GAUGE] = "gauge",
	    [METRIC_COUNTER] = "counter",
	    [METRIC_HISTOGRAM] = "histogram",
	    [METRIC_INFO] = "info",
	};
	bool om = o->format == EXPO_OPENMETRICS;
	const char *suffix = f->type == METRIC_COUNTER ? "_total"
	                     : f->type == METRIC_INFO  ? "_info"
	                                               : "";
	char sample_name[64], name[64];
	snprintf(sample_name, sizeof(sample_name), "%s%s", f->name, suffix);
	/* client_golang names text metadata after the samples; OpenMetrics after the family. */
	const char *meta = om ? f->name : sample_name;
	const char *word = !om && f->type == METRIC_INFO ? "gauge" : words[f->type];
	bool help = f->help && f->help[0];

	if (!om && help)
		expect_text(o, expect_line(o, LINE_HELP, meta)->text, f->help, "HELP");
	EXPECT(o, span_is(expect_line(o, LINE_TYPE, meta)->text, word), "TYPE is not %s", word);
	if (om && f->unit)
		EXPECT(o, span_is(expect_line(o, LINE_UNIT, meta)->text, f->unit), "UNIT is not %s",
		       f->unit);
	if (om && help)
		expect_text(o, expect_line(o, LINE_HELP, meta)->text, f->help, "HELP");

	for (size_t i = 0; i < f->nsamples; i++) {
		const struct shadow_sample *s = &sh->samples[f->first + i];
		switch (f->type) {
		case METRIC_GAUGE:
		case METRIC_COUNTER:
			expect_number(o, expect_sample(o, sample_name, s, NULL, NULL)->value,
			              s->value, true, "the value");
			if (om && s->has_created) {
				snprintf(name, sizeof(name), "%s_created", f->name);
				expect_number(o, expect_sample(o, name, s, NULL, NULL)->value,
				              s->created, true, "_created");
			}
			break;
		case METRIC_INFO:
			expect_count(o, expect_sample(o, sample_name, s, NULL, NULL)->value, 1,
			             "the info value");
			break;
		case METRIC_HISTOGRAM:
			expect_histogram(o, f->name, s);
			break;
		case METRIC_UNTYPED:
		case METRIC_SUMMARY:
			FUZZ_CHECK(0, "a family type this harness does not build");
			break;
		}
	}
}

static void check_output(const struct buf *out, enum expo_format format, const struct shadow *sh)
{
	struct output o = {.format = format, .data = out->len ? out->data : "", .len = out->len};
	size_t lines = 0;
	for (size_t i = 0; i < o.len; i++)
		lines += o.data[i] == '\n';
	o.lines = calloc(lines + 1, sizeof(*o.lines));
	o.arena = malloc(o.len + 1);
	FUZZ_CHECK(o.lines && o.arena, "out of memory");
	lex(&o);

	for (size_t i = 0; i < sh->nfamilies; i++)
		if (sh->families[i].nsamples)
			expect_family(&o, sh, &sh->families[i]);
	if (format == EXPO_OPENMETRICS)
		expect_line(&o, LINE_EOF, "# EOF");
	o.at = o.next;
	EXPECT(&o, o.next == o.nlines, "%zu lines more than the model calls for",
	       o.nlines - o.next);
	free(o.lines);
	free(o.arena);
}

/* ---- 4: protobuf ---- */

struct pb {
	const unsigned char *p, *end;
};

struct pb_field {
	unsigned number, wire;
	uint64_t value; /* a varint, or the bits of a fixed64 */
	struct pb body; /* length-delimited */
};

static uint64_t pb_varint(const unsigned char **p, const unsigned char *end)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		FUZZ_CHECK(*p < end, "a varint runs past its message");
		unsigned char c = *(*p)++;
		FUZZ_CHECK(shift < 63 || c <= 1, "a varint overflows 64 bits");
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	FUZZ_CHECK(false, "a varint of more than 10 bytes");
	return 0;
}

static bool pb_next(struct pb *m, struct pb_field *f)
{
	if (m->p == m->end)
		return false;
	uint64_t tag = pb_varint(&m->p, m->end);
	f->number = (unsigned)(tag >> 3);
	f->wire = (unsigned)(tag & 7);
	if (f->wire == 0) {
		f->value = pb_varint(&m->p, m->end);
	} else if (f->wire == 1) {
		FUZZ_CHECK(m->end - m->p >= 8, "a fixed64 runs past its message");
		f->value = 0;
		for (int i = 7; i >= 0; i--)
			f->value = f->value << 8 | m->p[i];
		m->p += 8;
	} else {
		FUZZ_CHECK(f->wire == 2, "field %u has wire type %u", f->number, f->wire);
		uint64_t len = pb_varint(&m->p, m->end);
		FUZZ_CHECK(len <= (uint64_t)(m->end - m->p), "field %u runs past its message",
		           f->number);
		f->body = (struct pb){m->p, m->p + len};
		m->p += len;
	}
	return true;
}

static void pb_expect_wire(const struct pb_field *f, unsigned wire, const char *what)
{
	FUZZ_CHECK(f->wire == wire, "%s has wire type %u, not %u", what, f->wire, wire);
}

static void pb_expect_bytes(const struct pb_field *f, const char *want, size_t len,
                            const char *what)
{
	pb_expect_wire(f, 2, what);
	size_t got = (size_t)(f->body.end - f->body.p);
	if (got != len || memcmp(f->body.p, want, len) != 0) {
		fuzz_print_bytes("got", (const char *)f->body.p, got);
		fuzz_print_bytes("want", want, len);
		FUZZ_CHECK(false, "%s differs", what);
	}
}

static void pb_expect_sanitized(const struct pb_field *f, const char *given, const char *what)
{
	size_t len = strlen(given);
	char *want = malloc(3 * len + 1);
	FUZZ_CHECK(want, "out of memory");
	pb_expect_bytes(f, want, fuzz_utf8_sanitize(given, len, want), what);
	free(want);
}

static double pb_double(const struct pb_field *f, const char *what)
{
	pb_expect_wire(f, 1, what);
	double d;
	memcpy(&d, &f->value, sizeof(d));
	return d;
}

static void pb_expect_double(const struct pb_field *f, double want, const char *what)
{
	double got = pb_double(f, what);
	FUZZ_CHECK(memcmp(&got, &want, sizeof(got)) == 0 || (isnan(got) && isnan(want)),
	           "%s is %.17g, not %.17g", what, got, want);
}

/* Whether a google.protobuf.Timestamp can hold a time: years 1 to 9999. */
static bool pb_timestamp_fits(double t)
{
	return t >= TIMESTAMP_MIN && t < TIMESTAMP_END;
}

/* A google.protobuf.Timestamp field that must say `want` to the nanosecond. */
static void pb_expect_timestamp(const struct pb_field *f, double want, const char *what)
{
	pb_expect_wire(f, 2, what);
	struct pb ts = f->body;
	struct pb_field t;
	int64_t seconds = 0;
	uint64_t nanos = 0;
	bool got_seconds = false, got_nanos = false;
	while (pb_next(&ts, &t)) {
		FUZZ_CHECK(t.wire == 0 &&
		               ((t.number == 1 && !got_seconds) || (t.number == 2 && !got_nanos)),
		           "field %u in %s", t.number, what);
		if (t.number == 1) {
			seconds = (int64_t)t.value;
			got_seconds = true;
		} else {
			nanos = t.value;
			got_nanos = true;
		}
	}
	FUZZ_CHECK(nanos < 1000000000, "%s: %" PRIu64 " nanoseconds", what, nanos);
	FUZZ_CHECK(pb_timestamp_fits((double)seconds), "%s: %" PRId64 " seconds", what, seconds);
	double got = (double)seconds + (double)nanos / 1e9;
	FUZZ_CHECK(fabs(got - want) <= 1e-9 + fabs(want) * 4.5e-16, "%s of %.17g for %.17g", what,
	           got, want);
}

/* The one double field 1 of a Gauge or Counter. */
static void pb_expect_value(struct pb m, double want, const struct shadow_sample *s)
{
	struct pb_field f;
	bool value = false, created = false;
	while (pb_next(&m, &f)) {
		if (f.number == 1 && !value) {
			pb_expect_double(&f, want, "the value");
			value = true;
		} else if (f.number == 3 && !created) {
			FUZZ_CHECK(s && s->has_created, "a created time the model does not have");
			pb_expect_timestamp(&f, s->created, "the created time");
			created = true;
		} else {
			FUZZ_CHECK(false, "field %u in a value message", f.number);
		}
	}
	FUZZ_CHECK(value, "no value");
	/* A created time goes out when a Timestamp can hold it. */
	bool want_created = s && s->has_created && pb_timestamp_fits(s->created);
	FUZZ_CHECK(created == want_created, "created time %s", created ? "extra" : "missing");
}

/* A Bucket's Exemplar: labels, value and, when a Timestamp can hold it, the time. */
/* A LabelPair: exactly `name`, then the sanitized `value`, each once. */
static void pb_expect_label(const struct pb_field *f, const char *name, const char *value,
                            const char *what)
{
	pb_expect_wire(f, 2, what);
	struct pb lp = f->body;
	struct pb_field lf;
	bool got_name = false, got_value = false;
	while (pb_next(&lp, &lf)) {
		if (lf.number == 1 && !got_name) {
			pb_expect_bytes(&lf, name, strlen(name), what);
			got_name = true;
		} else {
			FUZZ_CHECK(lf.number == 2 && !got_value, "field %u in %s", lf.number, what);
			pb_expect_sanitized(&lf, value, what);
			got_value = true;
		}
	}
	FUZZ_CHECK(got_name && got_value, "%s without its name or value", what);
}

static void pb_expect_exemplar(struct pb m, const struct shadow_exemplar *x)
{
	struct pb_field f;
	size_t nlabels = 0;
	bool value = false, timestamp = false;
	while (pb_next(&m, &f)) {
		if (f.number == 1) {
			FUZZ_CHECK(nlabels < x->nlabels, "an exemplar label more than %zu",
			           x->nlabels);
			pb_expect_label(&f, exemplar_label_names[nlabels], x->values[nlabels],
			                "an exemplar label");
			nlabels++;
		} else if (f.number == 2 && !value) {
			pb_expect_double(&f, x->value, "the exemplar's value");
			value = true;
		} else {
			FUZZ_CHECK(f.number == 3 && !timestamp, "field %u in an exemplar",
			           f.number);
			pb_expect_timestamp(&f, x->timestamp, "the exemplar's timestamp");
			timestamp = true;
		}
	}
	FUZZ_CHECK(nlabels == x->nlabels && value, "an exemplar with %zu of %zu labels, value %d",
	           nlabels, x->nlabels, value);
	FUZZ_CHECK(timestamp == pb_timestamp_fits(x->timestamp),
	           "the exemplar's timestamp %.17g %s", x->timestamp,
	           timestamp ? "written" : "missing");
}

/* Whether every histogram of the family has doubling bounds: what makes it native. */
static bool pb_family_native(const struct shadow *sh, const struct shadow_family *fam)
{
	for (size_t i = 0; i < fam->nsamples; i++) {
		const struct shadow_sample *s = &sh->samples[fam->first + i];
		if (!s->nbounds || !(s->bounds[0] > 0) || !(s->value >= 0))
			return false;
		for (size_t k = 1; k < s->nbounds; k++)
			if (s->bounds[k] != ldexp(s->bounds[0], (int)k))
				return false;
		if (!isfinite(exp2(round(log2(s->bounds[0])))))
			return false;
	}
	return fam->nsamples > 0;
}

static uint64_t bucket_of(const struct shadow_sample *s, size_t k)
{
	uint64_t upto = k < s->nbounds ? s->cumulative[k] : s->count;
	return upto - (k ? s->cumulative[k - 1] : 0);
}

static void pb_expect_histogram(struct pb m, const struct shadow_sample *s, bool native)
{
	struct pb_field f;
	size_t nbuckets = 0, nspans = 0;
	bool count = false, sum = false, schema = false, threshold = false, zero = false;
	double zero_threshold = 0;
	uint64_t zero_count = 0;
	struct pb deltas = {NULL, NULL};
	int64_t index[MAX_BOUNDS + 2];
	size_t nindex = 0;
	int64_t at = 0;
	/* An explicit +Inf bucket carries the +Inf bucket's exemplar (as client_golang writes it);
	 * without one, protobuf leaves it implicit. It is no bound of the native buckets. */
	size_t want_buckets = s->nbounds + s->exemplars[s->nbounds].present;
	while (pb_next(&m, &f)) {
		switch (f.number) {
		case 1:
			pb_expect_wire(&f, 0, "sample_count");
			FUZZ_CHECK(f.value == s->count, "count %" PRIu64 ", not %" PRIu64, f.value,
			           s->count);
			count = true;
			break;
		case 2:
			pb_expect_double(&f, s->value, "sample_sum");
			sum = true;
			break;
		case 3: {
			/* The finite buckets, then the +Inf one when it has an exemplar. */
			FUZZ_CHECK(nbuckets < want_buckets, "more buckets than %zu", want_buckets);
			pb_expect_wire(&f, 2, "a bucket");
			const struct shadow_exemplar *x = &s->exemplars[nbuckets];
			double bound = nbuckets < s->nbounds ? s->bounds[nbuckets] : INFINITY;
			uint64_t cumulative =
			    nbuckets < s->nbounds ? s->cumulative[nbuckets] : s->count;
			struct pb b = f.body;
			struct pb_field bf;
			bool c = false, u = false, e = false;
			while (pb_next(&b, &bf)) {
				if (bf.number == 1 && !c) {
					pb_expect_wire(&bf, 0, "cumulative_count");
					FUZZ_CHECK(bf.value == cumulative,
					           "bucket %zu counts %" PRIu64 ", not %" PRIu64,
					           nbuckets, bf.value, cumulative);
					c = true;
				} else if (bf.number == 2 && !u) {
					pb_expect_double(&bf, bound, "upper_bound");
					u = true;
				} else {
					FUZZ_CHECK(bf.number == 3 && !e, "field %u in a bucket",
					           bf.number);
					FUZZ_CHECK(x->present,
					           "an exemplar on bucket %zu, which has none",
					           nbuckets);
					pb_expect_wire(&bf, 2, "an exemplar");
					pb_expect_exemplar(bf.body, x);
					e = true;
				}
			}
			FUZZ_CHECK(c && u, "a bucket without its count or bound");
			FUZZ_CHECK(e == x->present, "bucket %zu's exemplar is missing", nbuckets);
			nbuckets++;
			break;
		}
		case 5:
			pb_expect_wire(&f, 0, "schema");
			FUZZ_CHECK(f.value == 0, "schema (zigzag) %" PRIu64, f.value);
			schema = true;
			break;
		case 6:
			zero_threshold = pb_double(&f, "zero_threshold");
			threshold = true;
			break;
		case 7:
			pb_expect_wire(&f, 0, "zero_count");
			zero_count = f.value;
			zero = true;
			break;
		case 12: {
			pb_expect_wire(&f, 2, "a span");
			struct pb sp = f.body;
			struct pb_field sf;
			int64_t offset = 0;
			uint64_t length = 0;
			while (pb_next(&sp, &sf)) {
				FUZZ_CHECK(sf.wire == 0 && (sf.number == 1 || sf.number == 2),
				           "field %u in a span", sf.number);
				if (sf.number == 1)
					offset =
					    (int64_t)(sf.value >> 1) ^ -(int64_t)(sf.value & 1);
				else
					length = sf.value;
			}
			FUZZ_CHECK(nspans == 0 || offset > 0, "a later span with offset %" PRId64,
			           offset);
			FUZZ_CHECK(length > 0 && length <= MAX_BOUNDS + 1 - nindex,
			           "a span of %" PRIu64 " buckets", length);
			at += offset;
			for (uint64_t k = 0; k < length; k++)
				index[nindex++] = at++;
			nspans++;
			break;
		}
		case 13:
			pb_expect_wire(&f, 2, "positive_delta (packed)");
			FUZZ_CHECK(!deltas.p, "two runs of deltas");
			deltas = f.body;
			break;
		default:
			FUZZ_CHECK(false, "field %u in a histogram", f.number);
		}
	}
	FUZZ_CHECK(count && sum && nbuckets == want_buckets, "count, sum or buckets missing");
	FUZZ_CHECK(native == (schema && threshold && zero), "native fields %s",
	           native ? "missing" : "on a classic histogram");
	if (!native) {
		FUZZ_CHECK(!nspans && !deltas.p, "native buckets on a classic histogram");
		return;
	}
	/* A power of two within sqrt(2) of the first bound, holding the first bucket. */
	int e2;
	FUZZ_CHECK(frexp(zero_threshold, &e2) == 0.5, "zero threshold %g", zero_threshold);
	double scale = zero_threshold / s->bounds[0];
	FUZZ_CHECK(scale >= M_SQRT1_2 * (1 - 1e-12) && scale <= M_SQRT2 * (1 + 1e-12),
	           "zero threshold %g for a first bound of %g", zero_threshold, s->bounds[0]);
	FUZZ_CHECK(zero_count == s->cumulative[0], "zero count %" PRIu64, zero_count);
	/* Classic bucket k is native bucket first + k; the absent ones are empty. */
	int64_t first = e2 - 1;
	FUZZ_CHECK(nindex == 0 || deltas.p, "spans without deltas");
	uint64_t c = 0, total = zero_count;
	for (size_t i = 0; i < nindex; i++) {
		uint64_t u = pb_varint(&deltas.p, deltas.end);
		c += (u >> 1) ^ (0 - (u & 1)); /* zigzag, in unsigned arithmetic */
		int64_t k = index[i] - first;
		uint64_t want = k >= 1 && k <= (int64_t)s->nbounds ? bucket_of(s, (size_t)k) : 0;
		FUZZ_CHECK(c == want,
		           "native bucket %" PRId64 " holds %" PRIu64 ", classic bucket %" PRId64
		           " %" PRIu64,
		           index[i], c, k, want);
		total += c;
	}
	FUZZ_CHECK(!deltas.p || deltas.p == deltas.end, "more deltas than the spans cover");
	FUZZ_CHECK(total == s->count, "native buckets hold %" PRIu64 " of %" PRIu64, total,
	           s->count);
}

static void pb_expect_metric(struct pb m, const struct shadow_family *fam,
                             const struct shadow_sample *s, bool native)
{
	struct pb_field f;
	size_t nlabels = 0;
	bool value = false;
	while (pb_next(&m, &f)) {
		if (f.number == 1) {
			FUZZ_CHECK(nlabels < s->nlabels && !value,
			           "a label more, or after the value");
			pb_expect_label(&f, label_names[nlabels], s->values[nlabels], "a label");
			nlabels++;
			continue;
		}
		FUZZ_CHECK(!value, "a second value");
		value = true;
		switch (fam->type) {
		case METRIC_GAUGE:
		case METRIC_INFO:
			FUZZ_CHECK(f.number == 2, "field %u for a gauge", f.number);
			pb_expect_wire(&f, 2, "gauge");
			pb_expect_value(f.body, fam->type == METRIC_INFO ? 1 : s->value, NULL);
			break;
		case METRIC_COUNTER:
			FUZZ_CHECK(f.number == 3, "field %u for a counter", f.number);
			pb_expect_wire(&f, 2, "counter");
			pb_expect_value(f.body, s->value, s);
			break;
		case METRIC_HISTOGRAM:
			FUZZ_CHECK(f.number == 7, "field %u for a histogram", f.number);
			pb_expect_wire(&f, 2, "histogram");
			pb_expect_histogram(f.body, s, native);
			break;
		case METRIC_UNTYPED:
		case METRIC_SUMMARY:
			FUZZ_CHECK(0, "a family type this harness does not build");
			break;
		}
	}
	FUZZ_CHECK(nlabels == s->nlabels && value, "%zu of %zu labels, value %d", nlabels,
	           s->nlabels, value);
}

static void pb_expect_family(struct pb m, const struct shadow *sh, const struct shadow_family *fam)
{
	const char *suffix = fam->type == METRIC_COUNTER ? "_total"
	                     : fam->type == METRIC_INFO  ? "_info"
	                                                 : "";
	unsigned type = fam->type == METRIC_COUNTER ? 0 : fam->type == METRIC_HISTOGRAM ? 4 : 1;
	char name[64];
	snprintf(name, sizeof(name), "%s%s", fam->name, suffix);
	bool native = fam->type == METRIC_HISTOGRAM && pb_family_native(sh, fam);
	bool want_help = fam->help && *fam->help, want_unit = fam->unit && !*suffix;
	bool got_name = false, got_help = false, got_type = false, got_unit = false;
	size_t nmetrics = 0;
	struct pb_field f;
	while (pb_next(&m, &f)) {
		switch (f.number) {
		case 1:
			FUZZ_CHECK(!got_name, "two names");
			pb_expect_bytes(&f, name, strlen(name), "the family name");
			got_name = true;
			break;
		case 2:
			FUZZ_CHECK(want_help && !got_help, "a HELP %s",
			           got_help ? "twice" : "extra");
			pb_expect_sanitized(&f, fam->help, "HELP");
			got_help = true;
			break;
		case 3:
			pb_expect_wire(&f, 0, "the type");
			FUZZ_CHECK(!got_type && f.value == type, "type %" PRIu64 ", not %u",
			           f.value, type);
			got_type = true;
			break;
		case 4:
			FUZZ_CHECK(nmetrics < fam->nsamples, "more metrics than samples");
			pb_expect_wire(&f, 2, "a metric");
			pb_expect_metric(f.body, fam, &sh->samples[fam->first + nmetrics], native);
			nmetrics++;
			break;
		case 5:
			FUZZ_CHECK(want_unit && !got_unit, "a unit %s",
			           got_unit ? "twice" : "extra");
			pb_expect_bytes(&f, fam->unit, strlen(fam->unit), "the unit");
			got_unit = true;
			break;
		default:
			FUZZ_CHECK(false, "field %u in a MetricFamily", f.number);
		}
	}
	FUZZ_CHECK(got_name && got_type && got_help == want_help && got_unit == want_unit &&
	               nmetrics == fam->nsamples,
	           "%s: name %d, type %d, help %d, unit %d, %zu of %zu metrics", name, got_name,
	           got_type, got_help, got_unit, nmetrics, fam->nsamples);
}

static void check_protobuf(const struct buf *out, const struct shadow *sh)
{
	struct pb all = {NULL, NULL};
	if (out->len) /* an empty buffer may have no memory at all */
		all = (struct pb){(const unsigned char *)out->data,
		                  (const unsigned char *)out->data + out->len};
	for (size_t i = 0; i < sh->nfamilies; i++) {
		const struct shadow_family *fam = &sh->families[i];
		if (!fam->nsamples)
			continue;
		uint64_t len = pb_varint(&all.p, all.end);
		FUZZ_CHECK(len <= (uint64_t)(all.end - all.p), "a family runs past the output");
		pb_expect_family((struct pb){all.p, all.p + len}, sh, fam);
		all.p += len;
	}
	FUZZ_CHECK(all.p == all.end, "%td bytes after the last family", all.end - all.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shadow sh;
	char *records = fuzz_strndup(data, size);
	struct expo *e = expo_new();
	build(e, records, size, &sh);

	size_t nonempty = 0;
	for (size_t i = 0; i < sh.nfamilies; i++)
		nonempty += sh.families[i].nsamples > 0;
	FUZZ_CHECK(expo_families(e) == nonempty && expo_series(e) == sh.nsamples,
	           "expo counts %zu families and %zu series, the model %zu and %zu",
	           expo_families(e), expo_series(e), nonempty, sh.nsamples);

	struct buf text, om, again;
	buf_init(&text);
	buf_init(&om);
	buf_init(&again);
	struct buf proto;
	buf_init(&proto);
	/* Each checked before the next is written: a finding is the property that broke, not an
	 * assertion in a later writer. */
	expo_write(e, EXPO_TEXT, &text);
	check_output(&text, EXPO_TEXT, &sh);
	expo_write(e, EXPO_OPENMETRICS, &om);
	check_output(&om, EXPO_OPENMETRICS, &sh);
	expo_write(e, EXPO_PROTOBUF, &proto);
	check_protobuf(&proto, &sh);

	expo_reset(e);
	FUZZ_CHECK(expo_families(e) == 0 && expo_series(e) == 0, "expo_reset left something");
	build(e, records, size, &sh);
	expo_write(e, EXPO_TEXT, &again);
	expo_write(e, EXPO_OPENMETRICS, &again);
	expo_write(e, EXPO_PROTOBUF, &again);
	FUZZ_CHECK(
	    again.len == text.len + om.len + proto.len &&
	        (!text.len || memcmp(again.data, text.data, text.len) == 0) &&
	        memcmp(again.data + text.len, om.data, om.len) == 0 &&
	        (!proto.len || memcmp(again.data + text.len + om.len, proto.data, proto.len) == 0),
	    "the rebuilt model wrote different bytes");
	buf_free(&proto);

	buf_free(&again);
	buf_free(&text);
	buf_free(&om);
	expo_free(e);
	free(records);
	return 0;
}
