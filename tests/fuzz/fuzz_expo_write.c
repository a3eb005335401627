/* The exposition writers: build an expo model whose label values, HELP texts, sample values and
 * histogram bounds the fuzzer chooses, write it in both formats, and check that the output
 * parses and says what the model holds.
 *
 * 1. Every line is read by a strict lexer that knows nothing of the model: `# HELP name text`,
 *    `# TYPE name type`, `# UNIT name unit` and `# EOF` (the last two in OpenMetrics only), or
 *    `name{label="value",...} number`. Label values have no raw `"` or newline and only the
 *    escapes \\ \" \n; HELP has no raw newline and only \\ \n (and, in OpenMetrics, \" and no
 *    raw `"`); numbers are NaN, +Inf, -Inf or -?digits[.digits][e(+|-)digits]. The whole output
 *    is valid UTF-8 without NUL or CR and ends in a newline.
 * 2. The lines are then compared, in order, with the ones the model calls for in each format
 *    (metadata order and suffixes as client_golang and the OpenMetrics spec have them): label
 *    values and HELP texts unescape to what was given with ill-formed UTF-8, NUL and CR replaced
 *    by U+FFFD; every number reads back (strtod) as the double that was given, integers below
 *    2^53 without a point or exponent; every `le` reads back as its bound, in OpenMetrics with a
 *    ".0" when integral; bucket counts, _count and info values are exact.
 * 3. The model is reset and rebuilt from the same input (the daemon's steady state) and must
 *    write the same bytes again.
 * The layout itself does not depend on the input; tests/unit/test_expo.c and the promtool and
 * prometheus_client checks in tests/integration/ cover it. What the fuzzer can reach here is the
 * escaping and the number formatting, in every position they are used.
 *
 * The input is a list of records separated by NUL bytes (the API takes C strings, so a label
 * value or HELP cannot hold a NUL). A record's first byte modulo 4 says what it is; the letters
 * are what the seeds use:
 *   'l' VALUE...     add a label with this value (the names are fixed: group, comm, pid, collector)
 *   'e'              forget the labels
 *   'f' T U HELP...  start a family: T % 4 = gauge, counter, histogram, info; U % 4 = no unit,
 *                    seconds, bytes, no unit and a ':' in the name; HELP is the rest of the record
 *                    (a record of fewer than 3 bytes: no HELP at all)
 *   's' NUMBERS...   add a sample to the current family; NUMBERS is text that strtod reads one
 *                    number after another (so "nan", "-inf", "-0" and, in hex, every double can
 *                    be written): gauge, info: the value; counter: the value, then the created
 *                    time if there is more; histogram: the sum, the number of bounds (up to 8),
 *                    the bounds, one increment of the cumulative count per bound and one for
 *                    the +Inf bucket. Missing or unreadable numbers count as 0.
 * Values keep to the API's contract: counters and histogram sums are made non-negative and not
 * NaN, histogram bounds finite, non-negative and strictly ascending; gauges get any double. */
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

/* ---- the model, as the harness sees it, and how the input builds it ---- */

struct shadow_family {
	char name[40];
	enum metric_type type;
	const char *unit; /* NULL: none */
	const char *help; /* NULL: none */
	size_t first, nsamples;
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

static void lex_labels(struct output *o, struct span *rest, struct parsed_line *pl)
{
	do {
		EXPECT(o, pl->nlabels <= MAX_LABELS, "more labels than the model has");
		struct span name = take_name(rest, false);
		EXPECT(o, name.len && take_char(rest, '=') && take_char(rest, '"'),
		       "label %zu is not name=\"", pl->nlabels);
		size_t i = 0;
		while (i < rest->len && rest->p[i] != '"')
			i += rest->p[i] == '\\' ? 2 : 1;
		EXPECT(o, i < rest->len, "an unterminated label value");
		pl->label_names[pl->nlabels] = name;
		pl->label_values[pl->nlabels++] =
		    unescape(o, (struct span){rest->p, i}, true, "a label value");
		rest->p += i + 1;
		rest->len -= i + 1;
	} while (take_char(rest, ','));
	EXPECT(o, take_char(rest, '}'), "labels not closed by }");
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
		lex_labels(o, &rest, pl);
	EXPECT(o, take_char(&rest, ' '), "no space before the value");
	pl->value = rest;
	EXPECT(o, number_syntax(rest), "the value is not a number");
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

/* A sample line of `name` with the sample's labels, then `le` when `le` is given. */
static const struct parsed_line *expect_sample(struct output *o, const char *name,
                                               const struct shadow_sample *s, const double *le)
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
	return pl;
}

static void expect_histogram(struct output *o, const char *base, const struct shadow_sample *s)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_bucket", base);
	for (size_t i = 0; i <= s->nbounds; i++) {
		double le = i < s->nbounds ? s->bounds[i] : INFINITY;
		uint64_t count = i < s->nbounds ? s->cumulative[i] : s->count;
		expect_count(o, expect_sample(o, name, s, &le)->value, count, "the bucket");
	}
	snprintf(name, sizeof(name), "%s_sum", base);
	expect_number(o, expect_sample(o, name, s, NULL)->value, s->value, true, "_sum");
	snprintf(name, sizeof(name), "%s_count", base);
	expect_count(o, expect_sample(o, name, s, NULL)->value, s->count, "_count");
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
			expect_number(o, expect_sample(o, sample_name, s, NULL)->value, s->value,
			              true, "the value");
			if (om && s->has_created) {
				snprintf(name, sizeof(name), "%s_created", f->name);
				expect_number(o, expect_sample(o, name, s, NULL)->value, s->created,
				              true, "_created");
			}
			break;
		case METRIC_INFO:
			expect_count(o, expect_sample(o, sample_name, s, NULL)->value, 1,
			             "the info value");
			break;
		case METRIC_HISTOGRAM:
			expect_histogram(o, f->name, s);
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
	expo_write(e, EXPO_TEXT, &text);
	expo_write(e, EXPO_OPENMETRICS, &om);
	check_output(&text, EXPO_TEXT, &sh);
	check_output(&om, EXPO_OPENMETRICS, &sh);

	expo_reset(e);
	FUZZ_CHECK(expo_families(e) == 0 && expo_series(e) == 0, "expo_reset left something");
	build(e, records, size, &sh);
	expo_write(e, EXPO_TEXT, &again);
	expo_write(e, EXPO_OPENMETRICS, &again);
	FUZZ_CHECK(again.len == text.len + om.len &&
	               (!text.len || memcmp(again.data, text.data, text.len) == 0) &&
	               memcmp(again.data + text.len, om.data, om.len) == 0,
	           "the rebuilt model wrote different bytes");

	buf_free(&again);
	buf_free(&text);
	buf_free(&om);
	expo_free(e);
	free(records);
	return 0;
}
