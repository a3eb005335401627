/* The exposition model and its two writers.
 *
 * Everything a scrape adds lives in arrays owned by struct expo, which grow geometrically and
 * are only rewound by expo_reset(), so a daemon in steady state allocates nothing per scrape:
 *   strings  - one byte arena for names, help texts, rendered label sets and rendered bucket
 *              bounds; referenced by offset, because the arena moves when it grows;
 *   families - in the order they were started; each owns a contiguous run of samples, since a
 *              sample always belongs to the family started last;
 *   samples  - one per series (a histogram is one sample);
 *   bounds, counts - histogram bucket bounds (shared by the consecutive samples of a family
 *              that use the same bounds) and cumulative counts.
 *
 * Label sets are escaped once, when they are added: label escaping is the same in both formats,
 * so the writers just copy bytes, and expo_write() changes nothing, so concurrent scrapes may
 * write the same model. Integers and short decimals are formatted by hand; snprintf is left for
 * bucket bounds (once per family) and values that need 16 or more digits. snprintf and strtod
 * follow LC_NUMERIC, so the daemon must keep the "C" numeric locale (it never calls setlocale). */
#include "expo.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo_proto.h"
#include "rounding.h"
#include "xalloc.h"

struct family {
	size_t name; /* offsets into e->strings; lengths exclude any NUL */
	size_t name_len;
	size_t help;
	size_t help_len;
	size_t unit;
	size_t unit_len; /* 0: no unit */
	enum metric_type type;
	size_t first; /* index of its first sample */
	size_t nsamples;
};

struct sample {
	size_t labels; /* `a="x",b="y"`, already escaped; offset into e->strings */
	size_t labels_len;
	double value; /* the histogram's sum for histograms */
	double created;
	bool has_created;
	uint64_t count; /* histogram: the +Inf bucket; summary: the count */
	size_t bounds;  /* histogram, summary: index of its first bound (quantile) in e->bounds */
	size_t counts;  /* histogram: index of its first cumulative count in e->counts; summary:
	                   of its first quantile value in e->quantile_values */
	size_t nbounds; /* histogram: number of finite bounds; summary: of quantiles */
	size_t exemplars, nexemplars; /* histogram: its run in e->exemplars */
	unsigned char owner;
};

/* An exemplar of a histogram bucket; the labels are rendered into e->strings. */
struct exemplar {
	size_t bucket;
	size_t labels, labels_len;
	double value, timestamp;
};

/* A finite bucket bound, rendered once when it is added. The OpenMetrics rendering is the text
 * one, possibly followed by ".0", so one string serves both formats. */
struct bound {
	double value;
	size_t le; /* offset into e->strings */
	unsigned char text_len;
	unsigned char om_len;
};

struct expo {
	struct buf strings;
	struct family *families;
	size_t nfamilies, families_cap;
	struct sample *samples;
	size_t nsamples, samples_cap;
	struct bound *bounds;
	size_t nbounds, bounds_cap;
	uint64_t *counts;
	size_t ncounts, counts_cap;
	struct exemplar *exemplars;
	size_t nexemplars, exemplars_cap;
	double *quantile_values;
	size_t nquantile_values, quantile_values_cap;
	size_t nonempty_families;
	unsigned char owner; /* of the samples added from now on */
};

/* 2^53: every integer below it is exactly representable as a double. */
#define EXACT_INT_LIMIT 9007199254740992.0

#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* ---- growth ---- */

/* `array` with room for `need` elements of `size` bytes. Doubling the capacity keeps appends
 * amortised O(1), and a rebuilt model of the same shape never reallocates. */
static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return array;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	*cap = n;
	return xreallocarray(array, n, size);
}

static size_t store_string(struct expo *e, const char *s, size_t len)
{
	size_t off = e->strings.len;
	buf_append(&e->strings, s, len);
	return off;
}

static const char *string_at(const struct expo *e, size_t off)
{
	return e->strings.data + off;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* ---- lifetime ---- */

struct expo *expo_new(void)
{
	struct expo *e = xcalloc(1, sizeof(*e));
	buf_init(&e->strings);
	/* Give the arena memory up front so offsets always resolve against a real pointer. */
	buf_reserve(&e->strings, 4096);
	return e;
}

void expo_free(struct expo *e)
{
	if (!e)
		return;
	buf_free(&e->strings);
	free(e->families);
	free(e->samples);
	free(e->bounds);
	free(e->counts);
	free(e->exemplars);
	free(e->quantile_values);
	free(e);
}

void expo_reset(struct expo *e)
{
	buf_reset(&e->strings);
	e->nfamilies = 0;
	e->nsamples = 0;
	e->nbounds = 0;
	e->ncounts = 0;
	e->nexemplars = 0;
	e->nquantile_values = 0;
	e->nonempty_families = 0;
	e->owner = 0;
}

void expo_set_owner(struct expo *e, unsigned owner)
{
	assert(owner < EXPO_OWNERS);
	e->owner = (unsigned char)(owner < EXPO_OWNERS ? owner : 0);
}

size_t expo_families(const struct expo *e)
{
	return e->nonempty_families;
}

size_t expo_series(const struct expo *e)
{
	return e->nsamples;
}

const char *expo_content_type(enum expo_format format)
{
	if (format == EXPO_PROTOBUF)
		return EXPO_PROTO_CONTENT_TYPE;
	if (format == EXPO_OPENMETRICS)
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	return "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- escaping ---- */

/* How many bytes at `p` make up one well-formed UTF-8 character (*valid = true) or one maximal
 * subpart of an ill-formed sequence (*valid = false), per Unicode 15 section 3.9 "U+FFFD
 * Substitution of Maximal Subparts" (the practice W3C/WHATWG decoders follow): a byte that cannot
 * start a character is one subpart; otherwise the subpart runs up to, not including, the first
 * byte that cannot continue the sequence. The second-byte ranges below exclude overlong forms
 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4). */
static size_t utf8_step(const unsigned char *p, size_t avail, bool *valid)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the next byte */
	size_t need;

	*valid = false;
	if (c < 0x80) {
		*valid = true;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c == 0xe0) {
		need = 2;
		lo = 0xa0;
	} else if (c == 0xed) {
		need = 2;
		hi = 0x9f;
	} else if (c >= 0xe1 && c <= 0xef) {
		need = 2;
	} else if (c == 0xf0) {
		need = 3;
		lo = 0x90;
	} else if (c == 0xf4) {
		need = 3;
		hi = 0x8f;
	} else if (c >= 0xf1 && c <= 0xf3) {
		need = 3;
	} else {
		return 1; /* 80..C1 and F5..FF never start a character */
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= avail || p[i] < lo || p[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*valid = true;
	return need + 1;
}

enum escapes {
	ESCAPE_NOTHING, /* protobuf: only the replacements below */
	ESCAPE_TEXT,    /* backslash and newline */
	ESCAPE_QUOTE,   /* and double quote */
};

/* The common escaper: backslash and newline, and double quote when asked; invalid UTF-8,
 * NUL and CR become U+FFFD. NUL and CR are valid UTF-8, but neither format can escape them and
 * consumers trip on both: C code stops at NUL, and line-oriented readers (Python's universal
 * newlines among them) split lines at CR - a HELP ending in CR would even give the line the CR
 * line ending OpenMetrics forbids. */
static void escape(struct buf *out, const char *s, size_t len, enum escapes escapes)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;

	if (len > (SIZE_MAX - 1) / 3)
		abort(); /* no real string is this long; keeps the size computation below honest */
	/* Each input byte yields at most 3 output bytes (a lone invalid byte becomes U+FFFD), so
	 * one reservation covers the whole value and the loop can write without checks. */
	buf_reserve(out, 3 * len);
	char *o = out->data + out->len;

	while (p < end) {
		unsigned char c = *p;
		if (escapes != ESCAPE_NOTHING &&
		    (c == '\\' || c == '\n' || (c == '"' && escapes == ESCAPE_QUOTE))) {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : (char)c;
			p++;
		} else if (c == '\0' || c == '\r') {
			memcpy(o, UTF8_REPLACEMENT, 3);
			o += 3;
			p++;
		} else if (c < 0x80) {
			*o++ = (char)c;
			p++;
		} else {
			bool valid;
			size_t n = utf8_step(p, (size_t)(end - p), &valid);
			if (valid)
				memcpy(o, p, n);
			else
				memcpy(o, UTF8_REPLACEMENT, 3);
			o += valid ? n : 3;
			p += n;
		}
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

void expo_escape_label_value(struct buf *out, const char *s, size_t len)
{
	escape(out, s, len, ESCAPE_QUOTE);
}

void expo_escape_help(struct buf *out, const char *s, size_t len, enum expo_format format)
{
	/* The text format's HELP knows only \\ and \n; a \" there is an invalid escape. */
	escape(out, s, len, format == EXPO_OPENMETRICS ? ESCAPE_QUOTE : ESCAPE_TEXT);
}

void expo_valid_utf8(struct buf *out, const char *s, size_t len)
{
	escape(out, s, len, ESCAPE_NOTHING);
}

/* ---- numbers ---- */

/* Decimal digits of `v` at `dst`; returns their number (at most 20). */
static size_t format_u64(char *dst, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(dst, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}

static const double powers_of_ten[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/* The fast path for what %.15g writes in fixed notation: a value with d integer digits that
 * reads back from 15 - d decimals (CPU seconds in ticks, sums of nanoseconds). Such a decimal m
 * is unique, because neighbouring candidates are 10^-(15-d) apart while all decimals that read
 * back as `v` lie within one ulp (< 10^(d-15)) of it; so m is also what %.15g rounds to, and the
 * output is the same byte for byte. Returns 0 when `v` needs the slow path. */
static size_t format_fixed(char *dst, double v)
{
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	int d = 0; /* integer digits */
	while (a >= powers_of_ten[d])
		d++;
	int k = 15 - d; /* decimals */
	/* a * 10^k < 10^15 < 2^52, the range round_whole_small() takes. */
	double m = round_whole_small(a * powers_of_ten[k]);
	if (m / powers_of_ten[k] != a)
		return 0;

	uint64_t digits = (uint64_t)m;
	uint64_t scale = (uint64_t)powers_of_ten[k];
	uint64_t frac = digits % scale;
	size_t n = 0;
	if (v < 0)
		dst[n++] = '-';
	n += format_u64(dst + n, digits / scale);
	if (frac) {
		/* Leading zeros of the fraction, then its digits without trailing zeros. */
		while (frac % 10 == 0) {
			frac /= 10;
			k--;
		}
		dst[n++] = '.';
		char tmp[20];
		size_t len = format_u64(tmp, frac);
		for (size_t i = len; i < (size_t)k; i++)
			dst[n++] = '0';
		memcpy(dst + n, tmp, len);
		n += len;
	}
	return n;
}

/* expo_format_value into `dst`, which needs 32 bytes; returns the length. */
static size_t format_value(char *dst, double value)
{
	if (isnan(value)) {
		memcpy(dst, "NaN", 3);
		return 3;
	}
	if (isinf(value)) {
		memcpy(dst, value > 0 ? "+Inf" : "-Inf", 4);
		return 4;
	}
	/* Most values are counts: print them by hand, without exponent or decimal point. */
	if (fabs(value) < EXACT_INT_LIMIT && value == (double)(int64_t)value) {
		int64_t i = (int64_t)value;
		if (i >= 0)
			return format_u64(dst, (uint64_t)i);
		dst[0] = '-';
		return 1 + format_u64(dst + 1, 0 - (uint64_t)i);
	}
	size_t n = format_fixed(dst, value);
	if (n)
		return n;
	/* 15 significant digits reproduce every decimal of up to 15 digits, i.e. nearly every
	 * value we compute; 17 always reproduce the double exactly. */
	for (int prec = 15;; prec++) {
		n = (size_t)snprintf(dst, 32, "%.*g", prec, value);
		if (prec == 17 || strtod(dst, NULL) == value)
			return n;
	}
}

void expo_format_value(struct buf *out, double value)
{
	char tmp[32];
	buf_append(out, tmp, format_value(tmp, value));
}

/* A value and the newline that ends its sample line. */
static void put_value_line(struct buf *out, double value)
{
	char tmp[33];
	size_t n = format_value(tmp, value);
	tmp[n++] = '\n';
	buf_append(out, tmp, n);
}

static void put_count_line(struct buf *out, uint64_t count)
{
	char tmp[21];
	size_t n = format_u64(tmp, count);
	tmp[n++] = '\n';
	buf_append(out, tmp, n);
}

/* The shortest decimal digits that read back as `v` (no trailing zeros) and the decimal
 * exponent of the first one, as in d.ddd * 10^exp. For normal numbers the correctly rounded
 * 15-digit form, when it reads back, is the shortest form padded with zeros, so at most three
 * tries are needed. */
static size_t shortest_digits(double v, char digits[18], int *exp)
{
	char tmp[40];
	for (int prec = 14;; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (prec == 16 || strtod(tmp, NULL) == v)
			break;
	}
	/* tmp is [-]D.DDDDe(+|-)XX */
	const char *p = tmp + (tmp[0] == '-');
	size_t n = 0;
	for (; *p != 'e'; p++) {
		if (*p != '.')
			digits[n++] = *p;
	}
	*exp = atoi(p + 1);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	return n;
}

/* A bucket bound as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it - shortest digits,
 * exponent form when the exponent is below -4 or at least 6 (1e+06, 1e-05, 0.0001, 100000).
 * This is what client_golang writes in the text format (le="1", le="0.005"), and with ".0"
 * appended to integral forms it is the canonical number the OpenMetrics spec asks for in `le`
 * (le="1.0", le="0.005", le="1e+06"), which Python's strict parser checks. Returns the length;
 * `out` needs 32 bytes. */
static size_t format_bound(char *out, double v)
{
	char digits[18];
	int exp;
	size_t nd = shortest_digits(v, digits, &exp);
	size_t n = 0;

	if (signbit(v))
		out[n++] = '-';
	if (exp < -4 || exp >= 6) {
		out[n++] = digits[0];
		if (nd > 1) {
			out[n++] = '.';
			memcpy(out + n, digits + 1, nd - 1);
			n += nd - 1;
		}
		n += (size_t)snprintf(out + n, 8, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	} else if (exp >= 0) {
		for (int i = 0; i <= exp; i++)
			out[n++] = (size_t)i < nd ? digits[i] : '0';
		if (nd > (size_t)exp + 1) {
			out[n++] = '.';
			memcpy(out + n, digits + exp + 1, nd - (size_t)exp - 1);
			n += nd - (size_t)exp - 1;
		}
	} else {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = -1; i > exp; i--)
			out[n++] = '0';
		memcpy(out + n, digits, nd);
		n += nd;
	}
	out[n] = '\0';
	return n;
}

/* ---- building the model ---- */

static struct family *current_family(struct expo *e)
{
	return e->nfamilies ? &e->families[e->nfamilies - 1] : NULL;
}

void expo_family(struct expo *e, const char *name, enum metric_type type, const char *unit,
                 const char *help)
{
	size_t name_len = strlen(name);
	size_t unit_len = unit ? strlen(unit) : 0;

	assert(!(type == METRIC_COUNTER && ends_with(name, name_len, "_total")));
	/* OpenMetrics forbids a unit on info metrics and requires it as the name's suffix; a unit
	 * that breaks either rule is a bug in the caller and is dropped rather than written. */
	if (unit_len) {
		bool ok = type != METRIC_INFO && name_len > unit_len &&
		          ends_with(name, name_len, unit) && name[name_len - unit_len - 1] == '_';
		assert(ok && "unit must be the name's suffix and info metrics have none");
		if (!ok)
			unit_len = 0;
	}

	e->families = grow(e->families, &e->families_cap, e->nfamilies + 1, sizeof(*e->families));
	struct family *f = &e->families[e->nfamilies++];
	f->type = type;
	f->name = store_string(e, name, name_len);
	f->name_len = name_len;
	f->unit = store_string(e, unit_len ? unit : "", unit_len);
	f->unit_len = unit_len;
	f->help_len = help ? strlen(help) : 0;
	f->help = store_string(e, help ? help : "", f->help_len);
	f->first = e->nsamples;
	f->nsamples = 0;
}

/* Render `a="x",b="y"` into the arena. */
static void store_labels(struct expo *e, struct sample *s, const struct label *labels,
                         size_t nlabels)
{
	s->labels = e->strings.len;
	for (size_t i = 0; i < nlabels; i++) {
		if (i)
			buf_putc(&e->strings, ',');
		buf_puts(&e->strings, labels[i].name);
		buf_append(&e->strings, "=\"", 2);
		const char *v = labels[i].value ? labels[i].value : "";
		expo_escape_label_value(&e->strings, v, strlen(v));
		buf_putc(&e->strings, '"');
	}
	s->labels_len = e->strings.len - s->labels;
}

/* Append a sample with its labels to the current family. */
static struct sample *add_sample(struct expo *e, struct family *f, const struct label *labels,
                                 size_t nlabels)
{
	e->samples = grow(e->samples, &e->samples_cap, e->nsamples + 1, sizeof(*e->samples));
	struct sample *s = &e->samples[e->nsamples++];
	memset(s, 0, sizeof(*s));
	s->owner = e->owner;
	store_labels(e, s, labels, nlabels);
	if (f->nsamples++ == 0)
		e->nonempty_families++;
	return s;
}

/* The family a gauge/counter/info sample may join, or NULL (asserting) when there is none. */
static struct family *scalar_family(struct expo *e)
{
	struct family *f = current_family(e);
	assert(f && "expo_sample without expo_family");
	assert((!f || f->type != METRIC_HISTOGRAM) && "use expo_histogram for histograms");
	assert((!f || f->type != METRIC_SUMMARY) && "use expo_summary for summaries");
	if (!f || f->type == METRIC_HISTOGRAM || f->type == METRIC_SUMMARY)
		return NULL;
	return f;
}

void expo_sample(struct expo *e, const struct label *labels, size_t nlabels, double value)
{
	struct family *f = scalar_family(e);
	if (!f)
		return;
	add_sample(e, f, labels, nlabels)->value = value;
}

void expo_counter_created(struct expo *e, const struct label *labels, size_t nlabels, double value,
                          double created)
{
	struct family *f = scalar_family(e);
	assert((!f || f->type == METRIC_COUNTER) && "created times belong to counters");
	if (!f || f->type != METRIC_COUNTER)
		return;
	struct sample *s = add_sample(e, f, labels, nlabels);
	s->value = value;
	s->created = created;
	s->has_created = true;
}

/* Whether a histogram would be written as valid exposition: finite, strictly ascending bounds
 * (OpenMetrics forbids duplicate thresholds) and non-decreasing counts up to `count`. */
static bool histogram_is_valid(const double *bounds, const uint64_t *cumulative, size_t nbounds,
                               uint64_t count)
{
	for (size_t i = 0; i < nbounds; i++) {
		if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])))
			return false;
		if ((i && cumulative[i] < cumulative[i - 1]) || cumulative[i] > count)
			return false;
	}
	return true;
}

/* The index in e->bounds of `bounds`: the previous sample's when it used the same ones (all
 * histograms of a family usually do), so each bound is rendered once per family. */
static size_t store_bounds(struct expo *e, const struct family *f, const double *bounds,
                           size_t nbounds)
{
	if (f->nsamples) {
		const struct sample *prev = &e->samples[e->nsamples - 1];
		bool same = prev->nbounds == nbounds;
		for (size_t i = 0; same && i < nbounds; i++)
			same = e->bounds[prev->bounds + i].value == bounds[i];
		if (same)
			return prev->bounds;
	}
	size_t first = e->nbounds;
	e->bounds = grow(e->bounds, &e->bounds_cap, e->nbounds + nbounds, sizeof(*e->bounds));
	for (size_t i = 0; i < nbounds; i++) {
		char tmp[40];
		struct bound *b = &e->bounds[e->nbounds++];
		size_t n = format_bound(tmp, bounds[i]);
		b->value = bounds[i];
		b->text_len = (unsigned char)n;
		if (!memchr(tmp, '.', n) && !memchr(tmp, 'e', n)) {
			memcpy(tmp + n, ".0", 2);
			n += 2;
		}
		b->om_len = (unsigned char)n;
		b->le = store_string(e, tmp, n);
	}
	return first;
}

void expo_histogram(struct expo *e, const struct label *labels, size_t nlabels,
                    const double *bounds, const uint64_t *cumulative, size_t nbounds, double sum,
                    uint64_t count)
{
	struct family *f = current_family(e);
	assert(f && "expo_histogram without expo_family");
	assert((!f || f->type == METRIC_HISTOGRAM) && "expo_histogram on a non-histogram family");
	assert(histogram_is_valid(bounds, cumulative, nbounds, count));
	if (!f || f->type != METRIC_HISTOGRAM ||
	    !histogram_is_valid(bounds, cumulative, nbounds, count))
		return;

	/* Bounds first: the shared-bounds check looks at the family's previous sample. */
	size_t first_bound = store_bounds(e, f, bounds, nbounds);
	e->counts = grow(e->counts, &e->counts_cap, e->ncounts + nbounds, sizeof(*e->counts));
	if (nbounds)
		memcpy(e->counts + e->ncounts, cumulative, nbounds * sizeof(*cumulative));

	struct sample *s = add_sample(e, f, labels, nlabels);
	s->value = sum;
	s->count = count;
	s->bounds = first_bound;
	s->counts = e->ncounts;
	s->nbounds = nbounds;
	e->ncounts += nbounds;
}

/* The characters of a label value once made valid UTF-8, as OpenMetrics counts them. */
static size_t utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), n = 0;
	while (avail) {
		bool valid;
		size_t step = utf8_step(p, avail, &valid);
		p += step;
		avail -= step;
		n++;
	}
	return n;
}

void expo_exemplar(struct expo *e, size_t bucket, const struct label *labels, size_t nlabels,
                   double value, double timestamp)
{
	struct sample *s = e->nsamples ? &e->samples[e->nsamples - 1] : NULL;
	struct family *f = current_family(e);
	assert(s && f && f->type == METRIC_HISTOGRAM && f->nsamples &&
	       "expo_exemplar without a histogram sample");
	if (!s || !f || f->type != METRIC_HISTOGRAM || !f->nsamples || bucket > s->nbounds)
		return;
	size_t chars = 0;
	for (size_t i = 0; i < nlabels; i++)
		chars +=
		    strlen(labels[i].name) + utf8_chars(labels[i].value ? labels[i].value : "");
	if (chars > 128 || !isfinite(value) || !isfinite(timestamp))
		return;
	if (s->nexemplars == 0)
		s->exemplars = e->nexemplars;
	e->exemplars =
	    grow(e->exemplars, &e->exemplars_cap, e->nexemplars + 1, sizeof(*e->exemplars));
	struct exemplar *x = &e->exemplars[e->nexemplars++];
	s->nexemplars++;
	x->bucket = bucket;
	x->value = value;
	x->timestamp = timestamp;
	struct sample rendered;
	store_labels(e, &rendered, labels, nlabels);
	x->labels = rendered.labels;
	x->labels_len = rendered.labels_len;
}

/* Quantiles in [0, 1], strictly ascending; values never negative (OpenMetrics parsers refuse
 * negative quantile values); a sum that is a number and not negative. */
static bool summary_is_valid(const double *quantiles, const double *values, size_t n, double sum)
{
	for (size_t i = 0; i < n; i++) {
		if (!(quantiles[i] >= 0 && quantiles[i] <= 1) ||
		    (i && !(quantiles[i] > quantiles[i - 1])) || values[i] < 0)
			return false;
	}
	return sum >= 0;
}

void expo_summary(struct expo *e, const struct label *labels, size_t nlabels,
                  const double *quantiles, const double *values, size_t nquantiles, double sum,
                  uint64_t count)
{
	struct family *f = current_family(e);
	assert(f && "expo_summary without expo_family");
	assert((!f || f->type == METRIC_SUMMARY) && "expo_summary on a non-summary family");
	assert(summary_is_valid(quantiles, values, nquantiles, sum));
	if (!f || f->type != METRIC_SUMMARY ||
	    !summary_is_valid(quantiles, values, nquantiles, sum))
		return;

	size_t first_quantile = store_bounds(e, f, quantiles, nquantiles);
	e->quantile_values = grow(e->quantile_values, &e->quantile_values_cap,
	                          e->nquantile_values + nquantiles, sizeof(*e->quantile_values));
	if (nquantiles)
		memcpy(e->quantile_values + e->nquantile_values, values,
		       nquantiles * sizeof(*values));

	struct sample *s = add_sample(e, f, labels, nlabels);
	s->value = sum;
	s->count = count;
	s->bounds = first_quantile;
	s->counts = e->nquantile_values;
	s->nbounds = nquantiles;
	e->nquantile_values += nquantiles;
}

/* ---- writing ---- */

/* What differs between the formats, per family: the suffix on the HELP/TYPE name and the TYPE
 * word. In text, counters and info metrics are named by their sample names (client_golang's
 * convention), and info is a gauge since the text format has no info type. */
static const char *family_suffix(const struct family *f, enum expo_format format)
{
	if (format == EXPO_OPENMETRICS)
		return "";
	if (f->type == METRIC_COUNTER)
		return "_total";
	if (f->type == METRIC_INFO)
		return "_info";
	return "";
}

static const char *type_word(const struct family *f, enum expo_format format)
{
	switch (f->type) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_HISTOGRAM:
		return "histogram";
	case METRIC_INFO:
		return format == EXPO_OPENMETRICS ? "info" : "gauge";
	case METRIC_UNTYPED:
		return format == EXPO_OPENMETRICS ? "unknown" : "untyped";
	case METRIC_SUMMARY:
		return "summary";
	case METRIC_GAUGE:
		break;
	}
	return "gauge";
}

/* `# KEYWORD name[suffix] ` */
static void put_meta(struct buf *out, const struct expo *e, const struct family *f,
                     const char *keyword, const char *suffix)
{
	buf_append(out, "# ", 2);
	buf_puts(out, keyword);
	buf_putc(out, ' ');
	buf_append(out, string_at(e, f->name), f->name_len);
	buf_puts(out, suffix);
	buf_putc(out, ' ');
}

static void put_help(struct buf *out, const struct expo *e, const struct family *f,
                     enum expo_format format)
{
	/* An empty HELP means the same as none in OpenMetrics; leave it out in both formats. */
	if (!f->help_len)
		return;
	put_meta(out, e, f, "HELP", family_suffix(f, format));
	expo_escape_help(out, string_at(e, f->help), f->help_len, format);
	buf_putc(out, '\n');
}

static void put_type(struct buf *out, const struct expo *e, const struct family *f,
                     enum expo_format format)
{
	put_meta(out, e, f, "TYPE", family_suffix(f, format));
	buf_puts(out, type_word(f, format));
	buf_putc(out, '\n');
}

/* Text: HELP then TYPE, as client_golang writes them. OpenMetrics: TYPE, UNIT, HELP, the order
 * the spec recommends. */
static void put_metadata(struct buf *out, const struct expo *e, const struct family *f,
                         enum expo_format format)
{
	if (format == EXPO_TEXT) {
		put_help(out, e, f, format);
		put_type(out, e, f, format);
		return;
	}
	put_type(out, e, f, format);
	if (f->unit_len) {
		put_meta(out, e, f, "UNIT", "");
		buf_append(out, string_at(e, f->unit), f->unit_len);
		buf_putc(out, '\n');
	}
	put_help(out, e, f, format);
}

static char *copy(char *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	return dst + n;
}

/* Everything of a sample line up to and including the space before the value:
 * `name<suffix>{labels[,extra]} `. `extra` is an already rendered label such as le="1". This is
 * the inner loop of a scrape, so it reserves once and copies, rather than appending piecewise. */
static void put_series(struct buf *out, const struct expo *e, const struct family *f,
                       const char *suffix, const struct sample *s, const char *extra,
                       size_t extra_len)
{
	size_t suffix_len = strlen(suffix);
	buf_reserve(out, f->name_len + suffix_len + s->labels_len + extra_len + 4);
	char *o = out->data + out->len;

	o = copy(o, string_at(e, f->name), f->name_len);
	o = copy(o, suffix, suffix_len);
	if (s->labels_len || extra_len) {
		*o++ = '{';
		o = copy(o, string_at(e, s->labels), s->labels_len);
		if (s->labels_len && extra_len)
			*o++ = ',';
		if (extra_len)
			o = copy(o, extra, extra_len);
		*o++ = '}';
	}
	*o++ = ' ';
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

static void put_bucket(struct buf *out, const struct expo *e, const struct family *f,
                       const struct sample *s, const char *le, size_t le_len, uint64_t count)
{
	char label[48];
	memcpy(label, "le=\"", 4);
	memcpy(label + 4, le, le_len);
	label[4 + le_len] = '"';
	put_series(out, e, f, "_bucket", s, label, le_len + 5);
	put_count_line(out, count);
}

/* The line of bucket `bucket` just written gets its exemplar, if it has one: the newline is
 * moved after ` # {labels} value timestamp`. */
/* The last exemplar given for a bucket, or NULL. */
static const struct exemplar *exemplar_of(const struct expo *e, size_t first, size_t n,
                                          size_t bucket)
{
	const struct exemplar *x = NULL;
	for (size_t i = 0; i < n; i++)
		if (e->exemplars[first + i].bucket == bucket)
			x = &e->exemplars[first + i];
	return x;
}

static void put_exemplar(struct buf *out, const struct expo *e, const struct sample *s,
                         size_t bucket)
{
	const struct exemplar *x = exemplar_of(e, s->exemplars, s->nexemplars, bucket);
	if (!x)
		return;
	out->len--; /* the newline */
	buf_append(out, " # {", 4);
	buf_append(out, string_at(e, x->labels), x->labels_len);
	buf_append(out, "} ", 2);
	expo_format_value(out, x->value);
	buf_putc(out, ' ');
	/* Milliseconds, as Prometheus keeps them. */
	buf_printf(out, "%.3f\n", x->timestamp);
}

static void put_histogram(struct buf *out, const struct expo *e, const struct family *f,
                          const struct sample *s, enum expo_format format)
{
	bool exemplars = format == EXPO_OPENMETRICS && s->nexemplars;
	for (size_t i = 0; i < s->nbounds; i++) {
		const struct bound *b = &e->bounds[s->bounds + i];
		size_t len = format == EXPO_OPENMETRICS ? b->om_len : b->text_len;
		put_bucket(out, e, f, s, string_at(e, b->le), len, e->counts[s->counts + i]);
		if (exemplars)
			put_exemplar(out, e, s, i);
	}
	/* The +Inf bucket is the count by definition, so it is always present and always agrees. */
	put_bucket(out, e, f, s, "+Inf", 4, s->count);
	if (exemplars)
		put_exemplar(out, e, s, s->nbounds);
	put_series(out, e, f, "_sum", s, NULL, 0);
	put_value_line(out, s->value);
	put_series(out, e, f, "_count", s, NULL, 0);
	put_count_line(out, s->count);
}

/* Quantiles are written like bucket bounds: canonical in OpenMetrics (quantile="1.0"). */
static void put_summary(struct buf *out, const struct expo *e, const struct family *f,
                        const struct sample *s, enum expo_format format)
{
	for (size_t i = 0; i < s->nbounds; i++) {
		const struct bound *b = &e->bounds[s->bounds + i];
		size_t len = format == EXPO_OPENMETRICS ? b->om_len : b->text_len;
		char label[56];
		memcpy(label, "quantile=\"", 10);
		memcpy(label + 10, string_at(e, b->le), len);
		label[10 + len] = '"';
		put_series(out, e, f, "", s, label, len + 11);
		put_value_line(out, e->quantile_values[s->counts + i]);
	}
	put_series(out, e, f, "_sum", s, NULL, 0);
	put_value_line(out, s->value);
	put_series(out, e, f, "_count", s, NULL, 0);
	put_count_line(out, s->count);
}

static void put_sample(struct buf *out, const struct expo *e, const struct family *f,
                       const struct sample *s, enum expo_format format)
{
	switch (f->type) {
	case METRIC_HISTOGRAM:
		put_histogram(out, e, f, s, format);
		return;
	case METRIC_SUMMARY:
		put_summary(out, e, f, s, format);
		return;
	case METRIC_INFO:
		put_series(out, e, f, "_info", s, NULL, 0);
		buf_append(out, "1\n", 2);
		return;
	case METRIC_COUNTER:
		put_series(out, e, f, "_total", s, NULL, 0);
		put_value_line(out, s->value);
		/* The text format has no place for created times. */
		if (s->has_created && format == EXPO_OPENMETRICS) {
			put_series(out, e, f, "_created", s, NULL, 0);
			put_value_line(out, s->created);
		}
		return;
	case METRIC_GAUGE:
	case METRIC_UNTYPED:
		break;
	}
	put_series(out, e, f, "", s, NULL, 0);
	put_value_line(out, s->value);
}

static bool owned(const struct sample *s, uint64_t owners)
{
	return (owners >> s->owner) & 1;
}

void expo_write_owned(const struct expo *e, enum expo_format format, uint64_t owners,
                      struct buf *out)
{
	if (format == EXPO_PROTOBUF) {
		expo_proto_write_owned(e, owners, out);
		return;
	}
	for (size_t i = 0; i < e->nfamilies; i++) {
		const struct family *f = &e->families[i];
		if (!f->nsamples)
			continue; /* e->samples may still be NULL */
		const struct sample *first = e->samples + f->first, *end = first + f->nsamples;
		while (first < end && !owned(first, owners))
			first++;
		if (first == end)
			continue;
		put_metadata(out, e, f, format);
		for (const struct sample *s = first; s < end; s++)
			if (owned(s, owners))
				put_sample(out, e, f, s, format);
	}
	if (format == EXPO_OPENMETRICS)
		buf_append(out, "# EOF\n", 6);
}

void expo_write(const struct expo *e, enum expo_format format, struct buf *out)
{
	expo_write_owned(e, format, UINT64_MAX, out);
}

/* ---- reading the model back ---- */

size_t expo_family_count(const struct expo *e)
{
	return e->nfamilies;
}

void expo_family_at(const struct expo *e, size_t family, struct expo_family_info *out)
{
	const struct family *f = &e->families[family];
	out->name = string_at(e, f->name);
	out->name_len = f->name_len;
	out->help = string_at(e, f->help);
	out->help_len = f->help_len;
	out->unit = string_at(e, f->unit);
	out->unit_len = f->unit_len;
	out->type = f->type;
	out->nsamples = f->nsamples;
}

void expo_sample_at(const struct expo *e, size_t family, size_t sample,
                    struct expo_sample_info *out)
{
	const struct family *f = &e->families[family];
	const struct sample *s = &e->samples[f->first + sample];
	out->labels = string_at(e, s->labels);
	out->labels_len = s->labels_len;
	out->value = f->type == METRIC_INFO ? 1 : s->value;
	out->created = s->created;
	out->has_created = s->has_created;
	out->count = s->count;
	out->nbounds = s->nbounds;
	out->at_bound = s->bounds;
	out->at_count = s->counts;
	out->at_exemplar = s->exemplars;
	out->nexemplars = s->nexemplars;
	out->owner = s->owner;
}

bool expo_bucket_exemplar(const struct expo *e, const struct expo_sample_info *s, size_t k,
                          const char **labels, size_t *labels_len, double *value, double *timestamp)
{
	const struct exemplar *x = exemplar_of(e, s->at_exemplar, s->nexemplars, k);
	if (!x)
		return false;
	*labels = string_at(e, x->labels);
	*labels_len = x->labels_len;
	*value = x->value;
	*timestamp = x->timestamp;
	return true;
}

void expo_quantile(const struct expo *e, const struct expo_sample_info *s, size_t k,
                   double *quantile, double *value)
{
	*quantile = e->bounds[s->at_bound + k].value;
	*value = e->quantile_values[s->at_count + k];
}

void expo_bucket(const struct expo *e, const struct expo_sample_info *s, size_t k, double *bound,
                 uint64_t *cumulative)
{
	*bound = e->bounds[s->at_bound + k].value;
	*cumulative = e->counts[s->at_count + k];
}
