/* The protobuf writer, by hand: a handful of message types, written straight into the output
 * buffer in one pass, with no per-scrape allocation and no generated code.
 *
 * Wire format (protobuf's encoding guide): a field is a tag, (number << 3) | wire type, then a
 * varint (integers; sint fields zigzag-encoded), 8 little-endian bytes (double) or a varint length
 * and that many bytes (strings, nested messages, packed repeated integers). A nested message's
 * length is known only once it is written, so one byte is kept for it, which holds any length
 * below 128 (most messages here), and the body is moved up when the length needs more.
 * The field numbers are those of io.prometheus.client's metrics.proto (prometheus/client_model);
 * tests/proto/ holds a copy written from that schema, which the tests decode our output with. */
#include "expo_proto.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "rounding.h"

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_LEN = 2,
};

/* MetricFamily */
#define PB_FAMILY_NAME   1
#define PB_FAMILY_HELP   2
#define PB_FAMILY_TYPE   3
#define PB_FAMILY_METRIC 4
#define PB_FAMILY_UNIT   5
/* MetricType */
#define PB_TYPE_COUNTER   0
#define PB_TYPE_GAUGE     1
#define PB_TYPE_SUMMARY   2
#define PB_TYPE_UNTYPED   3
#define PB_TYPE_HISTOGRAM 4
/* Metric */
#define PB_METRIC_LABEL     1
#define PB_METRIC_GAUGE     2
#define PB_METRIC_COUNTER   3
#define PB_METRIC_SUMMARY   4
#define PB_METRIC_UNTYPED   5
#define PB_METRIC_HISTOGRAM 7
/* LabelPair */
#define PB_LABEL_NAME  1
#define PB_LABEL_VALUE 2
/* Gauge, Counter */
#define PB_GAUGE_VALUE     1
#define PB_COUNTER_VALUE   1
#define PB_COUNTER_CREATED 3
#define PB_UNTYPED_VALUE   1
/* Summary, Quantile */
#define PB_SUMMARY_COUNT     1
#define PB_SUMMARY_SUM       2
#define PB_SUMMARY_QUANTILE  3
#define PB_QUANTILE_Q        1
#define PB_QUANTILE_VALUE    2
#define PB_TIMESTAMP_SECONDS 1 /* google.protobuf.Timestamp */
#define PB_TIMESTAMP_NANOS   2
/* Histogram */
#define PB_HISTOGRAM_COUNT          1
#define PB_HISTOGRAM_SUM            2
#define PB_HISTOGRAM_BUCKET         3
#define PB_HISTOGRAM_SCHEMA         5
#define PB_HISTOGRAM_ZERO_THRESHOLD 6
#define PB_HISTOGRAM_ZERO_COUNT     7
#define PB_HISTOGRAM_POSITIVE_SPAN  12
#define PB_HISTOGRAM_POSITIVE_DELTA 13
/* Bucket, BucketSpan, Exemplar */
#define PB_BUCKET_CUMULATIVE 1
#define PB_BUCKET_UPPER      2
#define PB_BUCKET_EXEMPLAR   3
#define PB_EXEMPLAR_LABEL    1
#define PB_EXEMPLAR_VALUE    2
#define PB_EXEMPLAR_TIME     3
#define PB_SPAN_OFFSET       1
#define PB_SPAN_LENGTH       2

/* A gap of up to this many empty buckets stays inside a span: their deltas cost less than the
 * span a gap would start (client_golang reckons the same way). */
#define SPAN_MAX_GAP 2

/* ---- the wire format ---- */

/* The varint of `v` at `dst` (room for 10 bytes); returns its length. */
static size_t varint_to(unsigned char *dst, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		dst[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	dst[n++] = (unsigned char)v;
	return n;
}

static void put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	buf_append(b, tmp, varint_to(tmp, v));
}

/* sint32/sint64: small magnitudes of either sign in few bytes. All unsigned, so no shift of a
 * negative number. */
static uint64_t zigzag(int64_t v)
{
	uint64_t u = (uint64_t)v;
	return (u << 1) ^ (0 - (u >> 63));
}

static void put_tag(struct buf *b, unsigned field, enum wire_type wire)
{
	put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_uint(struct buf *b, unsigned field, uint64_t v)
{
	put_tag(b, field, WIRE_VARINT);
	put_varint(b, v);
}

static void put_sint(struct buf *b, unsigned field, int64_t v)
{
	put_tag(b, field, WIRE_VARINT);
	put_varint(b, zigzag(v));
}

static void put_double(struct buf *b, unsigned field, double v)
{
	uint64_t bits;
	unsigned char le[8];
	memcpy(&bits, &v, sizeof(bits));
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(bits >> (8 * i));
	put_tag(b, field, WIRE_FIXED64);
	buf_append(b, le, sizeof(le));
}

static void put_bytes(struct buf *b, unsigned field, const char *s, size_t len)
{
	put_tag(b, field, WIRE_LEN);
	put_varint(b, len);
	buf_append(b, s, len);
}

/* Start a length-delimited body (a message, a string written piecewise, packed integers), with
 * one byte kept for its length. Returns where the body begins, for close_body(). */
static size_t open_body(struct buf *b)
{
	buf_putc(b, 0);
	return b->len;
}

static size_t open_field(struct buf *b, unsigned field)
{
	put_tag(b, field, WIRE_LEN);
	return open_body(b);
}

/* Write the length of the body that began at `body`, moving the body up when the length needs
 * more than the one byte kept for it. */
static void close_body(struct buf *b, size_t body)
{
	size_t len = b->len - body;
	unsigned char tmp[10];
	size_t n = varint_to(tmp, len);
	if (n > 1) {
		buf_reserve(b, n - 1);
		memmove(b->data + body + n - 1, b->data + body, len);
		b->len += n - 1;
		b->data[b->len] = '\0';
	}
	memcpy(b->data + body - 1, tmp, n);
}

/* ---- labels ---- */

/* The model keeps a sample's labels as the text formats write them, `name="value",...` with the
 * values escaped (\\, \", \n) and already valid UTF-8: undo the escaping, nothing else, so that
 * each format carries the same label values. */
static void put_labels(struct buf *b, unsigned field, const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end) {
		const char *name = p;
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || end - eq < 3 || eq[1] != '"')
			break;
		const char *v = eq + 2, *q = v;
		size_t escapes = 0;
		while (q < end && *q != '"') {
			if (*q == '\\' && end - q > 1) {
				q++;
				escapes++;
			}
			q++;
		}
		if (q == end)
			break;

		size_t pair = open_field(b, field);
		put_bytes(b, PB_LABEL_NAME, name, (size_t)(eq - name));
		put_tag(b, PB_LABEL_VALUE, WIRE_LEN);
		put_varint(b, (size_t)(q - v) - escapes);
		buf_reserve(b, (size_t)(q - v));
		char *o = b->data + b->len;
		for (const char *c = v; c < q; c++) {
			if (*c == '\\') {
				c++;
				*o++ = *c == 'n' ? '\n' : *c;
			} else {
				*o++ = *c;
			}
		}
		b->len = (size_t)(o - b->data);
		b->data[b->len] = '\0';
		close_body(b, pair);
		p = q + 1;
		if (p < end && *p == ',')
			p++;
	}
	assert(p == end && "a label set the model did not render");
}

/* ---- native histograms ---- */

bool expo_native_of(double first_bound, double sum, struct expo_native *out)
{
	if (!(first_bound > 0) || !isfinite(first_bound) || !(sum >= 0))
		return false;
	int n = nearest_log2(first_bound);
	double zero_threshold = ldexp(1.0, n);
	if (!isfinite(zero_threshold))
		return false;
	out->first_index = n;
	out->zero_threshold = zero_threshold;
	out->scale = zero_threshold / first_bound;
	return true;
}

/* Whether the finite bounds double from one to the next, exactly: bound k == bound 0 * 2^k,
 * which holds for the bpf collector's 2^(9+k) / 1e9, since scaling by 2 is exact. */
static bool bounds_double(const struct expo *e, const struct expo_sample_info *s)
{
	double first, bound;
	uint64_t cumulative;
	/* 2100 doublings overflow any double: no longer ladder can be one. */
	if (s->nbounds == 0 || s->nbounds > 2100)
		return false;
	expo_bucket(e, s, 0, &first, &cumulative);
	for (size_t k = 1; k < s->nbounds; k++) {
		expo_bucket(e, s, k, &bound, &cumulative);
		if (bound != ldexp(first, (int)k))
			return false;
	}
	return true;
}

static bool sample_is_native(const struct expo *e, const struct expo_sample_info *s)
{
	struct expo_native native;
	double first;
	uint64_t cumulative;
	if (!bounds_double(e, s))
		return false;
	expo_bucket(e, s, 0, &first, &cumulative);
	return expo_native_of(first, s->value, &native);
}

/* Prometheus takes a family's first histogram to say whether all of them are native. */
static bool family_is_native(const struct expo *e, size_t family, size_t nsamples)
{
	struct expo_sample_info s;
	for (size_t j = 0; j < nsamples; j++) {
		expo_sample_at(e, family, j, &s);
		if (!sample_is_native(e, &s))
			return false;
	}
	return nsamples > 0;
}

/* Observations in classic bucket k, 1 <= k <= nbounds (nbounds: the overflow bucket), which is
 * native bucket first_index + k. */
static uint64_t bucket_count(const struct expo *e, const struct expo_sample_info *s, size_t k)
{
	double bound;
	uint64_t below, upto = s->count;
	expo_bucket(e, s, k - 1, &bound, &below);
	if (k < s->nbounds)
		expo_bucket(e, s, k, &bound, &upto);
	return upto - below;
}

/* The span of buckets that starts at the first non-empty one from `from` on: [*start, *end];
 * false when the rest is empty. */
static bool next_span(const struct expo *e, const struct expo_sample_info *s, size_t from,
                      size_t *start, size_t *end)
{
	size_t k = from;
	while (k <= s->nbounds && bucket_count(e, s, k) == 0)
		k++;
	if (k > s->nbounds)
		return false;
	*start = *end = k;
	for (size_t j = k + 1; j <= s->nbounds && j <= *end + SPAN_MAX_GAP + 1; j++)
		if (bucket_count(e, s, j))
			*end = j;
	return true;
}

static void put_native(struct buf *b, const struct expo *e, const struct expo_sample_info *s)
{
	struct expo_native native;
	double first;
	uint64_t zero_count;
	expo_bucket(e, s, 0, &first, &zero_count);
	if (!expo_native_of(first, s->value, &native))
		return;

	put_sint(b, PB_HISTOGRAM_SCHEMA, 0);
	put_double(b, PB_HISTOGRAM_ZERO_THRESHOLD, native.zero_threshold);
	put_uint(b, PB_HISTOGRAM_ZERO_COUNT, zero_count);

	size_t start, end, prev_end = 0;
	for (size_t from = 1; next_span(e, s, from, &start, &end); from = end + 1) {
		size_t span = open_field(b, PB_HISTOGRAM_POSITIVE_SPAN);
		/* The first span's offset is its first bucket's index, the others' the gap before.
		 */
		int64_t offset = prev_end == 0 ? (int64_t)native.first_index + (int64_t)start
		                               : (int64_t)(start - prev_end - 1);
		put_sint(b, PB_SPAN_OFFSET, offset);
		put_uint(b, PB_SPAN_LENGTH, end - start + 1);
		close_body(b, span);
		prev_end = end;
	}
	if (prev_end == 0)
		return; /* everything is in the zero bucket */

	/* Packed: each bucket's count minus the previous one's, the first minus 0. */
	size_t deltas = open_field(b, PB_HISTOGRAM_POSITIVE_DELTA);
	uint64_t prev = 0;
	for (size_t from = 1; next_span(e, s, from, &start, &end); from = end + 1) {
		for (size_t k = start; k <= end; k++) {
			uint64_t c = bucket_count(e, s, k);
			put_varint(b, zigzag((int64_t)(c - prev)));
			prev = c;
		}
	}
	close_body(b, deltas);
}

/* Whether a google.protobuf.Timestamp may hold a time: its definition allows
 * 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, and parsers refuse the rest. (Near
 * either end a double is far coarser than a nanosecond, so rounding cannot cross them.) */
static bool timestamp_fits(double t)
{
	return t >= -62135596800.0 && t < 253402300800.0;
}

/* google.protobuf.Timestamp of a time in seconds since the epoch, one that fits. */
static void put_timestamp(struct buf *b, unsigned field, double t)
{
	int64_t seconds;
	int32_t nanos;
	split_seconds(t, &seconds, &nanos);
	size_t ts = open_field(b, field);
	put_uint(b, PB_TIMESTAMP_SECONDS, (uint64_t)seconds);
	if (nanos > 0)
		put_uint(b, PB_TIMESTAMP_NANOS, (uint64_t)nanos);
	close_body(b, ts);
}

/* A classic bucket's exemplar, if it has one. */
static void put_bucket_exemplar(struct buf *b, const struct expo *e,
                                const struct expo_sample_info *s, size_t k)
{
	const char *labels;
	size_t labels_len;
	double value, timestamp;
	if (!expo_bucket_exemplar(e, s, k, &labels, &labels_len, &value, &timestamp))
		return;
	size_t x = open_field(b, PB_BUCKET_EXEMPLAR);
	put_labels(b, PB_EXEMPLAR_LABEL, labels, labels_len);
	put_double(b, PB_EXEMPLAR_VALUE, value);
	if (timestamp_fits(timestamp))
		put_timestamp(b, PB_EXEMPLAR_TIME, timestamp);
	close_body(b, x);
}

static bool has_exemplar(const struct expo *e, const struct expo_sample_info *s, size_t k)
{
	const char *labels;
	size_t labels_len;
	double value, timestamp;
	return expo_bucket_exemplar(e, s, k, &labels, &labels_len, &value, &timestamp);
}

static void put_histogram(struct buf *b, const struct expo *e, const struct expo_sample_info *s,
                          bool native)
{
	size_t h = open_field(b, PB_METRIC_HISTOGRAM);
	put_uint(b, PB_HISTOGRAM_COUNT, s->count);
	put_double(b, PB_HISTOGRAM_SUM, s->value);
	/* The classic buckets. The +Inf one is the count and protobuf leaves it implicit, unless it
	 * has an exemplar to carry: then it is written, as client_golang does, and Prometheus takes
	 * an explicit +Inf bucket as the last one. */
	size_t nbuckets = s->nbounds + has_exemplar(e, s, s->nbounds);
	for (size_t k = 0; k < nbuckets; k++) {
		double bound = INFINITY;
		uint64_t cumulative = s->count;
		if (k < s->nbounds)
			expo_bucket(e, s, k, &bound, &cumulative);
		size_t bucket = open_field(b, PB_HISTOGRAM_BUCKET);
		put_uint(b, PB_BUCKET_CUMULATIVE, cumulative);
		put_double(b, PB_BUCKET_UPPER, bound);
		put_bucket_exemplar(b, e, s, k);
		close_body(b, bucket);
	}
	if (native)
		put_native(b, e, s);
	close_body(b, h);
}

static void put_summary(struct buf *b, const struct expo *e, const struct expo_sample_info *s)
{
	size_t m = open_field(b, PB_METRIC_SUMMARY);
	put_uint(b, PB_SUMMARY_COUNT, s->count);
	put_double(b, PB_SUMMARY_SUM, s->value);
	for (size_t k = 0; k < s->nbounds; k++) {
		double q, v;
		expo_quantile(e, s, k, &q, &v);
		size_t quantile = open_field(b, PB_SUMMARY_QUANTILE);
		put_double(b, PB_QUANTILE_Q, q);
		put_double(b, PB_QUANTILE_VALUE, v);
		close_body(b, quantile);
	}
	close_body(b, m);
}

/* ---- families ---- */

static void put_metric(struct buf *b, const struct expo *e, enum metric_type type,
                       const struct expo_sample_info *s, bool native)
{
	size_t m = open_field(b, PB_FAMILY_METRIC);
	put_labels(b, PB_METRIC_LABEL, s->labels, s->labels_len);
	size_t value;
	switch (type) {
	case METRIC_COUNTER:
		value = open_field(b, PB_METRIC_COUNTER);
		put_double(b, PB_COUNTER_VALUE, s->value);
		/* Only times a Timestamp can hold (years 1 to 9999). */
		if (s->has_created && timestamp_fits(s->created))
			put_timestamp(b, PB_COUNTER_CREATED, s->created);
		close_body(b, value);
		break;
	case METRIC_GAUGE:
	case METRIC_INFO:
		value = open_field(b, PB_METRIC_GAUGE);
		put_double(b, PB_GAUGE_VALUE, s->value);
		close_body(b, value);
		break;
	case METRIC_HISTOGRAM:
		put_histogram(b, e, s, native);
		break;
	case METRIC_UNTYPED:
		value = open_field(b, PB_METRIC_UNTYPED);
		put_double(b, PB_UNTYPED_VALUE, s->value);
		close_body(b, value);
		break;
	case METRIC_SUMMARY:
		put_summary(b, e, s);
		break;
	}
	close_body(b, m);
}

/* protobuf's family name is the text format's: counters end in _total, info metrics in _info
 * (and are gauges, as there is no info type). */
static void put_family_header(struct buf *b, const struct expo_family_info *f)
{
	const char *suffix = "";
	unsigned type = PB_TYPE_GAUGE;
	switch (f->type) {
	case METRIC_COUNTER:
		suffix = "_total";
		type = PB_TYPE_COUNTER;
		break;
	case METRIC_INFO:
		suffix = "_info";
		break;
	case METRIC_HISTOGRAM:
		type = PB_TYPE_HISTOGRAM;
		break;
	case METRIC_UNTYPED:
		type = PB_TYPE_UNTYPED;
		break;
	case METRIC_SUMMARY:
		type = PB_TYPE_SUMMARY;
		break;
	case METRIC_GAUGE:
		break;
	}
	size_t name = open_field(b, PB_FAMILY_NAME);
	buf_append(b, f->name, f->name_len);
	buf_puts(b, suffix);
	close_body(b, name);
	if (f->help_len) {
		size_t help = open_field(b, PB_FAMILY_HELP);
		expo_valid_utf8(b, f->help, f->help_len);
		close_body(b, help);
	}
	put_uint(b, PB_FAMILY_TYPE, type);
	/* Prometheus 3 before 3.9 fails the whole scrape when the name does not end in the unit,
	 * as a counter's, which ends in _total, does not: the unit goes with the others only. */
	if (f->unit_len && !*suffix)
		put_bytes(b, PB_FAMILY_UNIT, f->unit, f->unit_len);
}

static bool owned(const struct expo_sample_info *s, uint64_t owners)
{
	return (owners >> s->owner) & 1;
}

void expo_proto_write_owned(const struct expo *e, uint64_t owners, struct buf *out)
{
	size_t nfamilies = expo_family_count(e);
	for (size_t i = 0; i < nfamilies; i++) {
		struct expo_family_info f;
		expo_family_at(e, i, &f);
		size_t served = 0;
		for (size_t j = 0; j < f.nsamples; j++) {
			struct expo_sample_info s;
			expo_sample_at(e, i, j, &s);
			served += owned(&s, owners);
		}
		if (!served)
			continue;
		bool native = f.type == METRIC_HISTOGRAM && family_is_native(e, i, f.nsamples);
		size_t family = open_body(out); /* delimited: the length, then the message */
		put_family_header(out, &f);
		for (size_t j = 0; j < f.nsamples; j++) {
			struct expo_sample_info s;
			expo_sample_at(e, i, j, &s);
			if (owned(&s, owners))
				put_metric(out, e, f.type, &s, native);
		}
		close_body(out, family);
	}
}

void expo_proto_write(const struct expo *e, struct buf *out)
{
	expo_proto_write_owned(e, UINT64_MAX, out);
}
