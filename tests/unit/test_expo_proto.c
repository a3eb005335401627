/* The protobuf exposition: delimited MetricFamily messages with io.prometheus.client's field
 * numbers, the text formats' names and label values, and log2 histograms as native histograms of
 * schema 0 next to their classic buckets. A small wire-format reader below takes the output
 * apart; tests/integration/protobuf.sh decodes it with Google's own parser and the schema. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "expo_proto.h"
#include "rounding.h"

#define RC "\xef\xbf\xbd" /* U+FFFD REPLACEMENT CHARACTER */

/* ---- a wire-format reader, strict: every length must fit exactly ---- */

struct msg {
	const unsigned char *p;
	size_t len;
};

static uint64_t read_varint(const unsigned char **p, const unsigned char *end)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		assert_true(*p < end);
		unsigned char c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	fail_msg("varint longer than 10 bytes");
	return 0;
}

struct field {
	unsigned number;
	unsigned wire;
	uint64_t value;  /* varint, or the bits of a fixed64 */
	struct msg body; /* length-delimited */
};

static bool next_field(struct msg *m, struct field *f)
{
	const unsigned char *p = m->p, *end = m->p + m->len;
	if (p == end)
		return false;
	uint64_t tag = read_varint(&p, end);
	f->number = (unsigned)(tag >> 3);
	f->wire = (unsigned)(tag & 7);
	if (f->wire == 0) {
		f->value = read_varint(&p, end);
	} else if (f->wire == 1) {
		assert_true(end - p >= 8);
		f->value = 0;
		for (int i = 7; i >= 0; i--)
			f->value = f->value << 8 | p[i];
		p += 8;
	} else {
		assert_int_equal(f->wire, 2);
		uint64_t len = read_varint(&p, end);
		assert_true(len <= (uint64_t)(end - p));
		f->body.p = p;
		f->body.len = (size_t)len;
		p += len;
	}
	m->len -= (size_t)(p - m->p);
	m->p = p;
	return true;
}

static size_t count(struct msg m, unsigned number)
{
	struct field f;
	size_t n = 0;
	while (next_field(&m, &f))
		n += f.number == number;
	return n;
}

/* The n-th occurrence of field `number`; fails the test when there is none. */
static struct field nth(struct msg m, unsigned number, size_t n)
{
	struct field f;
	while (next_field(&m, &f))
		if (f.number == number && n-- == 0)
			return f;
	fail_msg("no field %u (occurrence %zu)", number, n);
	return f;
}

static struct msg sub(struct msg m, unsigned number, size_t n)
{
	struct field f = nth(m, number, n);
	assert_int_equal(f.wire, 2);
	return f.body;
}

static uint64_t uint_of(struct msg m, unsigned number)
{
	struct field f = nth(m, number, 0);
	assert_int_equal(f.wire, 0);
	return f.value;
}

static int64_t sint_of(struct msg m, unsigned number)
{
	uint64_t u = uint_of(m, number);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static double double_of(struct msg m, unsigned number)
{
	struct field f = nth(m, number, 0);
	assert_int_equal(f.wire, 1);
	double d;
	memcpy(&d, &f.value, sizeof(d));
	return d;
}

static void assert_string_field(struct msg m, unsigned number, const char *want)
{
	struct msg s = sub(m, number, 0);
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

/* ---- fixture ---- */

struct fixture {
	struct expo *e;
	struct buf out;
	struct msg families[64];
	size_t nfamilies;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->e = expo_new();
	buf_init(&fx->out);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	expo_free(fx->e);
	buf_free(&fx->out);
	free(fx);
	return 0;
}

/* Write the model and split the output into its delimited messages, which must fill it
 * exactly. */
static void write_and_split(struct fixture *fx)
{
	buf_reset(&fx->out);
	expo_proto_write(fx->e, &fx->out);
	const unsigned char *p = (const unsigned char *)fx->out.data, *end = p + fx->out.len;
	fx->nfamilies = 0;
	while (p < end) {
		uint64_t len = read_varint(&p, end);
		assert_true(len <= (uint64_t)(end - p));
		assert_true(fx->nfamilies < 64);
		fx->families[fx->nfamilies++] = (struct msg){p, (size_t)len};
		p += len;
	}
}

/* Field numbers of io.prometheus.client's metrics.proto. */
enum { F_NAME = 1, F_HELP = 2, F_TYPE = 3, F_METRIC = 4, F_UNIT = 5 };
enum { M_LABEL = 1, M_GAUGE = 2, M_COUNTER = 3, M_HISTOGRAM = 7 };
enum { H_COUNT = 1, H_SUM = 2, H_BUCKET = 3, H_SCHEMA = 5, H_ZERO_THRESHOLD = 6, H_ZERO_COUNT = 7 };
enum { H_POSITIVE_SPAN = 12, H_POSITIVE_DELTA = 13 };
enum { B_EXEMPLAR = 3, X_LABEL = 1, X_VALUE = 2, X_TIMESTAMP = 3 };
enum { TYPE_COUNTER = 0, TYPE_GAUGE = 1, TYPE_HISTOGRAM = 4 };

/* ---- families ---- */

static void gauge_family_is_one_delimited_message_byte_for_byte(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "g", METRIC_GAUGE, NULL, "h");
	struct label l = {"a", "b"};
	expo_sample(fx->e, &l, 1, 1.0);
	buf_reset(&fx->out);
	expo_proto_write(fx->e, &fx->out);

	static const unsigned char want[] = {
	    29,                                                 /* the message's length */
	    0x0a, 1,  'g',                                      /* name */
	    0x12, 1,  'h',                                      /* help */
	    0x18, 1,                                            /* type GAUGE */
	    0x22, 19,                                           /* metric */
	    0x0a, 6,  0x0a, 1, 'a', 0x12, 1, 'b',               /* label a="b" */
	    0x12, 9,  0x09, 0, 0,   0,    0, 0,   0, 0xf0, 0x3f /* gauge value 1.0, little-endian */
	};
	assert_int_equal(fx->out.len, sizeof(want));
	assert_memory_equal(fx->out.data, want, sizeof(want));
}

static void expo_write_writes_protobuf_with_its_content_type(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "g", METRIC_GAUGE, NULL, NULL);
	expo_sample(fx->e, NULL, 0, 2);
	struct buf direct;
	buf_init(&direct);
	expo_proto_write(fx->e, &direct);
	buf_reset(&fx->out);
	expo_write(fx->e, EXPO_PROTOBUF, &fx->out);
	assert_int_equal(fx->out.len, direct.len);
	assert_memory_equal(fx->out.data, direct.data, direct.len);
	buf_free(&direct);
	assert_string_equal(expo_content_type(EXPO_PROTOBUF),
	                    "application/vnd.google.protobuf; "
	                    "proto=io.prometheus.client.MetricFamily; encoding=delimited");
}

static void counter_is_named_with_total_and_typed_counter(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_x_seconds", METRIC_COUNTER, "seconds", "Time.");
	expo_sample(fx->e, NULL, 0, 2.5);
	write_and_split(fx);
	assert_int_equal(fx->nfamilies, 1);
	struct msg f = fx->families[0];
	assert_string_field(f, F_NAME, "kobs_x_seconds_total");
	assert_int_equal(uint_of(f, F_TYPE), TYPE_COUNTER);
	/* Prometheus 3.0 to 3.8 reject a unit that does not end the name, as _total does. */
	assert_int_equal(count(f, F_UNIT), 0);
	struct msg counter = sub(sub(f, F_METRIC, 0), M_COUNTER, 0);
	assert_true(double_of(counter, 1) == 2.5);
	assert_int_equal(count(counter, 3), 0); /* no created time given */
}

static void counter_created_time_is_a_timestamp(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_x", METRIC_COUNTER, NULL, "X.");
	expo_counter_created(fx->e, NULL, 0, 7, 1700000000.25);
	write_and_split(fx);
	struct msg created = sub(sub(sub(fx->families[0], F_METRIC, 0), M_COUNTER, 0), 3, 0);
	assert_int_equal(uint_of(created, 1), 1700000000);
	assert_int_equal(uint_of(created, 2), 250000000);
}

/* google.protobuf.Timestamp holds 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
#define YEAR_1_START  (-62135596800.0)
#define YEAR_9999_END 253402300800.0
#define YEAR_9955     2.52e11 /* 9955-07-25: inside, though near the end */
#define YEAR_36       -6.1e10 /* 0036-12-26: inside, though near the start */

/* The created time of counter sample `n`, or none (false). */
static bool created_of(struct fixture *fx, size_t n, int64_t *seconds)
{
	struct msg counter = sub(sub(fx->families[0], F_METRIC, n), M_COUNTER, 0);
	if (!count(counter, 3))
		return false;
	*seconds = (int64_t)uint_of(sub(counter, 3, 0), 1);
	return true;
}

static void created_times_of_years_1_to_9999_are_written_and_no_others(void **state)
{
	struct fixture *fx = *state;
	static const double created[] = {YEAR_1_START,       YEAR_36,
	                                 YEAR_9955,          YEAR_9999_END - 0.5,
	                                 YEAR_1_START - 0.5, YEAR_9999_END};
	expo_family(fx->e, "kobs_x", METRIC_COUNTER, NULL, "X.");
	for (size_t i = 0; i < 6; i++) {
		char v[4];
		snprintf(v, sizeof(v), "%zu", i);
		struct label l = {"i", v};
		expo_counter_created(fx->e, &l, 1, 7, created[i]);
	}
	write_and_split(fx);
	int64_t seconds;
	assert_true(created_of(fx, 0, &seconds) && seconds == -62135596800);
	assert_true(created_of(fx, 1, &seconds) && seconds == -61000000000);
	assert_true(created_of(fx, 2, &seconds) && seconds == 252000000000);
	assert_true(created_of(fx, 3, &seconds) && seconds == 253402300799);
	assert_false(created_of(fx, 4, &seconds));
	assert_false(created_of(fx, 5, &seconds));
}

static void info_is_a_gauge_named_info_with_value_1(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_build", METRIC_INFO, NULL, "Build.");
	struct label l = {"version", "1.0"};
	expo_sample(fx->e, &l, 1, 0);
	write_and_split(fx);
	struct msg f = fx->families[0];
	assert_string_field(f, F_NAME, "kobs_build_info");
	assert_int_equal(uint_of(f, F_TYPE), TYPE_GAUGE);
	assert_true(double_of(sub(sub(f, F_METRIC, 0), M_GAUGE, 0), 1) == 1.0);
}

static void family_without_samples_and_empty_help_are_left_out(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_empty", METRIC_GAUGE, NULL, "Nothing.");
	expo_family(fx->e, "kobs_full", METRIC_GAUGE, NULL, "");
	expo_sample(fx->e, NULL, 0, 1);
	write_and_split(fx);
	assert_int_equal(fx->nfamilies, 1);
	assert_string_field(fx->families[0], F_NAME, "kobs_full");
	assert_int_equal(count(fx->families[0], F_HELP), 0);
	assert_int_equal(count(fx->families[0], F_UNIT), 0);
}

static void families_and_samples_keep_their_order(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_a", METRIC_GAUGE, NULL, "A.");
	for (int i = 0; i < 3; i++) {
		char v[4] = {(char)('x' + i), 0};
		struct label l = {"k", v};
		expo_sample(fx->e, &l, 1, i);
	}
	expo_family(fx->e, "kobs_b", METRIC_GAUGE, NULL, "B.");
	expo_sample(fx->e, NULL, 0, 9);
	write_and_split(fx);
	assert_int_equal(fx->nfamilies, 2);
	assert_string_field(fx->families[0], F_NAME, "kobs_a");
	assert_string_field(fx->families[1], F_NAME, "kobs_b");
	assert_int_equal(count(fx->families[0], F_METRIC), 3);
	for (size_t i = 0; i < 3; i++) {
		char v[4] = {(char)('x' + i), 0};
		struct msg m = sub(fx->families[0], F_METRIC, i);
		assert_string_field(sub(m, M_LABEL, 0), 2, v);
		assert_true(double_of(sub(m, M_GAUGE, 0), 1) == (double)i);
	}
}

/* ---- text ---- */

static void label_values_are_unescaped_and_valid_utf8(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_g", METRIC_GAUGE, NULL, "G.");
	struct label l[] = {
	    {"a", "q\"b\\n\nx"}, {"b", "bad \xff\xc0 cr\r nul"}, {"c", ""}, {"d", "\\\""}};
	expo_sample(fx->e, l, 4, 1);
	write_and_split(fx);
	struct msg m = sub(fx->families[0], F_METRIC, 0);
	assert_int_equal(count(m, M_LABEL), 4);
	assert_string_field(sub(m, M_LABEL, 0), 1, "a");
	assert_string_field(sub(m, M_LABEL, 0), 2, "q\"b\\n\nx");
	assert_string_field(sub(m, M_LABEL, 1), 1, "b");
	assert_string_field(sub(m, M_LABEL, 1), 2, "bad " RC RC " cr" RC " nul");
	assert_string_field(sub(m, M_LABEL, 2), 1, "c");
	assert_string_field(sub(m, M_LABEL, 2), 2, "");
	assert_string_field(sub(m, M_LABEL, 3), 2, "\\\"");
}

static void help_is_unescaped_but_valid_utf8(void **state)
{
	struct fixture *fx = *state;
	expo_family(fx->e, "kobs_g", METRIC_GAUGE, NULL, "two\nlines \\ \"q\" \xe2\x82 \xc3\xa9");
	expo_sample(fx->e, NULL, 0, 1);
	write_and_split(fx);
	assert_string_field(fx->families[0], F_HELP, "two\nlines \\ \"q\" " RC " \xc3\xa9");
}

static void long_messages_get_multibyte_lengths(void **state)
{
	struct fixture *fx = *state;
	/* A label value of 20000 bytes: the label, the metric and the family all need lengths of
	 * two or three bytes, and the bodies are moved up to make room. */
	char *big = malloc(20001);
	memset(big, 'v', 20000);
	big[20000] = '\0';
	expo_family(fx->e, "kobs_g", METRIC_GAUGE, NULL, "G.");
	for (int i = 0; i < 3; i++) {
		struct label l = {"k", big + i};
		expo_sample(fx->e, &l, 1, i);
	}
	write_and_split(fx);
	assert_int_equal(fx->nfamilies, 1);
	for (size_t i = 0; i < 3; i++) {
		struct msg m = sub(fx->families[0], F_METRIC, i);
		assert_string_field(sub(m, M_LABEL, 0), 2, big + i);
		assert_true(double_of(sub(m, M_GAUGE, 0), 1) == (double)i);
	}
	free(big);
}

/* ---- histograms ---- */

/* The bpf collector's bounds: 2^k ns for k = 9..35, in seconds. */
#define KERNEL_BOUNDS 27
static void kernel_bounds(double *b)
{
	for (int i = 0; i < KERNEL_BOUNDS; i++)
		b[i] = (double)(1ull << (9 + i)) / 1e9;
}

/* Per-bucket counts to a cumulative histogram: counts[0..n-1] the finite buckets, counts[n] the
 * overflow. Returns the total. */
static uint64_t cumulate(const uint64_t *counts, size_t n, uint64_t *cumulative)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		total += counts[i];
		cumulative[i] = total;
	}
	return total + counts[n];
}

static void kernel_bounds_map_to_schema_0_scaled_by_1e9_over_2_pow_30(void **state)
{
	(void)state;
	struct expo_native n;
	assert_true(expo_native_of(512e-9, 0, &n));
	/* log2(512e-9) = -20.897: the nearest power of two is 2^-21, 6.9 % lower. */
	assert_int_equal(n.first_index, -21);
	assert_true(n.zero_threshold == ldexp(1, -21));
	assert_true(fabs(n.scale - 1e9 / 1073741824.0) < 1e-12);
	assert_true(expo_native_of(1.0, 0, &n));
	assert_int_equal(n.first_index, 0);
	assert_true(n.scale == 1.0);
	assert_true(
	    expo_native_of(0.001, 0, &n)); /* client_golang's ExponentialBuckets(0.001, 2, n) */
	assert_int_equal(n.first_index, -10);
}

static void bounds_or_sums_that_cannot_be_native_are_refused(void **state)
{
	(void)state;
	struct expo_native n;
	assert_false(expo_native_of(0, 1, &n));
	assert_false(expo_native_of(-1, 1, &n));
	assert_false(expo_native_of(INFINITY, 1, &n));
	assert_false(expo_native_of(NAN, 1, &n));
	assert_false(expo_native_of(1, -0.5, &n));
	assert_false(expo_native_of(1, NAN, &n));
	assert_false(expo_native_of(1.7e308, 1, &n)); /* 2^1024 is no double */
}

static void classic_buckets_are_cumulative_without_inf(void **state)
{
	struct fixture *fx = *state;
	const double bounds[] = {0.1, 0.5, 1};
	const uint64_t cumulative[] = {1, 3, 3};
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 3, 1.75, 5);
	write_and_split(fx);
	struct msg f = fx->families[0];
	assert_string_field(f, F_NAME, "kobs_h_seconds");
	assert_int_equal(uint_of(f, F_TYPE), TYPE_HISTOGRAM);
	assert_string_field(f, F_UNIT, "seconds");
	struct msg h = sub(sub(f, F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(uint_of(h, H_COUNT), 5);
	assert_true(double_of(h, H_SUM) == 1.75);
	assert_int_equal(count(h, H_BUCKET), 3);
	for (size_t i = 0; i < 3; i++) {
		struct msg b = sub(h, H_BUCKET, i);
		assert_int_equal(uint_of(b, 1), cumulative[i]);
		assert_true(double_of(b, 2) == bounds[i]);
	}
	/* 0.1, 0.5, 1 do not double: classic only. */
	assert_int_equal(count(h, H_SCHEMA), 0);
	assert_int_equal(count(h, H_ZERO_THRESHOLD), 0);
	assert_int_equal(count(h, H_POSITIVE_SPAN), 0);
}

/* A bucket's exemplar rides in its Bucket message: labels, value and time. The +Inf bucket, which
 * protobuf leaves implicit, is written when it has an exemplar to carry. */
static void exemplars_ride_in_their_classic_buckets(void **state)
{
	struct fixture *fx = *state;
	const double bounds[] = {0.1, 0.5, 1};
	const uint64_t cumulative[] = {1, 3, 3};
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 3, 1.75, 5);
	struct label who[] = {{"pid", "4242"}, {"comm", "post\"gres"}};
	expo_exemplar(fx->e, 1, who, 2, 0.25, 1700000000.5);
	expo_exemplar(fx->e, 1, who, 1, 0.3, 1700000001.25); /* the last one given wins */
	expo_exemplar(fx->e, 3, who, 2, 4.5, 1700000002);    /* +Inf */
	/* A second series, with no exemplar above its last bound: no +Inf bucket. */
	struct label db[] = {{"group", "db"}};
	expo_histogram(fx->e, db, 1, bounds, cumulative, 3, 1.75, 5);
	expo_exemplar(fx->e, 0, who, 1, 0.05, 1700000003);
	write_and_split(fx);
	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(count(h, H_BUCKET), 4);
	assert_int_equal(count(sub(h, H_BUCKET, 0), B_EXEMPLAR), 0);
	assert_int_equal(count(sub(h, H_BUCKET, 2), B_EXEMPLAR), 0);
	struct msg inf = sub(h, H_BUCKET, 3);
	assert_int_equal(uint_of(inf, 1), 5);
	assert_true(isinf(double_of(inf, 2)) && double_of(inf, 2) > 0);
	assert_true(double_of(sub(inf, B_EXEMPLAR, 0), X_VALUE) == 4.5);
	struct msg h2 = sub(sub(fx->families[0], F_METRIC, 1), M_HISTOGRAM, 0);
	assert_int_equal(count(h2, H_BUCKET), 3);
	assert_int_equal(count(sub(h2, H_BUCKET, 0), B_EXEMPLAR), 1);
	struct msg x = sub(sub(h, H_BUCKET, 1), B_EXEMPLAR, 0);
	assert_int_equal(count(x, X_LABEL), 1);
	assert_string_field(sub(x, X_LABEL, 0), 1, "pid");
	assert_string_field(sub(x, X_LABEL, 0), 2, "4242");
	assert_true(double_of(x, X_VALUE) == 0.3);
	struct msg t = sub(x, X_TIMESTAMP, 0);
	assert_int_equal(uint_of(t, 1), 1700000001);
	assert_int_equal(uint_of(t, 2), 250000000);
}

/* An exemplar's time goes out as a Timestamp when one can hold it, as a created time does. */
static void exemplar_times_of_years_1_to_9999_are_written_and_no_others(void **state)
{
	struct fixture *fx = *state;
	const double bounds[] = {1, 2, 4};
	const uint64_t cumulative[] = {1, 2, 3};
	static const double when[] = {YEAR_36, YEAR_9955, YEAR_1_START - 0.5, YEAR_9999_END};
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 3, 6, 4);
	for (size_t k = 0; k < 4; k++)
		expo_exemplar(fx->e, k, NULL, 0, 0.5, when[k]);
	write_and_split(fx);
	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(count(h, H_BUCKET), 4);
	for (size_t k = 0; k < 4; k++) {
		struct msg x = sub(sub(h, H_BUCKET, k), B_EXEMPLAR, 0);
		assert_true(double_of(x, X_VALUE) == 0.5);
		assert_int_equal(count(x, X_TIMESTAMP), k < 2);
	}
	assert_int_equal(
	    (int64_t)uint_of(sub(sub(sub(h, H_BUCKET, 0), B_EXEMPLAR, 0), X_TIMESTAMP, 0), 1),
	    -61000000000);
	assert_int_equal(uint_of(sub(sub(sub(h, H_BUCKET, 1), B_EXEMPLAR, 0), X_TIMESTAMP, 0), 1),
	                 252000000000);
}

/* Native bucket index -> count, from the spans and deltas of a histogram message. */
static size_t native_buckets(struct msg h, int64_t *index, int64_t *counts, size_t max)
{
	size_t n = 0, nspans = count(h, H_POSITIVE_SPAN);
	int64_t at = 0;
	struct msg deltas = {NULL, 0};
	if (nspans)
		deltas = sub(h, H_POSITIVE_DELTA, 0); /* packed */
	const unsigned char *p = deltas.p, *end = deltas.p + deltas.len;
	int64_t c = 0;
	for (size_t s = 0; s < nspans; s++) {
		struct msg span = sub(h, H_POSITIVE_SPAN, s);
		int64_t offset = sint_of(span, 1);
		assert_true(s == 0 || offset > 0);
		at += offset;
		uint64_t length = uint_of(span, 2);
		assert_true(length > 0);
		for (uint64_t k = 0; k < length; k++) {
			uint64_t u = read_varint(&p, end);
			c += (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
			assert_true(n < max);
			index[n] = at++;
			counts[n++] = c;
		}
	}
	assert_true(p == end); /* as many deltas as the spans say */
	return n;
}

static void log2_histogram_is_also_native_schema_0(void **state)
{
	struct fixture *fx = *state;
	double bounds[KERNEL_BOUNDS];
	kernel_bounds(bounds);
	/* Counts per bucket: the first (<= 512 ns), a run, a gap of two empty buckets (kept in
	 * the span), a gap of five (a new span), and the overflow bucket (> 34.4 s). */
	uint64_t counts[KERNEL_BOUNDS + 1] = {0};
	counts[0] = 7;
	counts[3] = 2;
	counts[4] = 5;
	counts[7] = 1;
	counts[13] = 4;
	counts[KERNEL_BOUNDS] = 3;
	uint64_t cumulative[KERNEL_BOUNDS];
	uint64_t total = cumulate(counts, KERNEL_BOUNDS, cumulative);
	expo_family(fx->e, "kobs_runqueue_latency_seconds", METRIC_HISTOGRAM, "seconds", "W.");
	struct label l = {"group", "g"};
	expo_histogram(fx->e, &l, 1, bounds, cumulative, KERNEL_BOUNDS, 100.5, total);
	write_and_split(fx);

	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	/* Classic and native side by side in one message. */
	assert_int_equal(uint_of(h, H_COUNT), total);
	assert_true(double_of(h, H_SUM) == 100.5);
	assert_int_equal(count(h, H_BUCKET), KERNEL_BOUNDS);
	assert_int_equal(sint_of(h, H_SCHEMA), 0);
	assert_true(double_of(h, H_ZERO_THRESHOLD) == ldexp(1, -21));
	assert_int_equal(uint_of(h, H_ZERO_COUNT), 7);

	int64_t index[64], got[64];
	size_t n = native_buckets(h, index, got, 64);
	/* Bucket k (k >= 1) of the kernel's is native index -21 + k. */
	const int64_t want_index[] = {-18, -17, -16, -15, -14, -8, 6};
	const int64_t want_count[] = {2, 5, 0, 0, 1, 4, 3};
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(index[i], want_index[i]);
		assert_int_equal(got[i], want_count[i]);
	}
	assert_int_equal(count(h, H_POSITIVE_SPAN), 3);
	/* Every observation is in a native bucket: zero count and buckets add up to the count. */
	int64_t sum = 7;
	for (size_t i = 0; i < n; i++)
		sum += got[i];
	assert_int_equal(sum, (int64_t)total);
}

static void native_bucket_bounds_are_the_classic_ones_scaled(void **state)
{
	(void)state;
	double bounds[KERNEL_BOUNDS];
	kernel_bounds(bounds);
	struct expo_native n;
	assert_true(expo_native_of(bounds[0], 1, &n));
	/* Classic bucket k is (bounds[k-1], bounds[k]]; native bucket n + k is (2^(n+k-1),
	 * 2^(n+k)], the same times the scale, within rounding. */
	for (int k = 1; k < KERNEL_BOUNDS; k++) {
		double upper = ldexp(1, n.first_index + k);
		assert_true(fabs(upper / bounds[k] - n.scale) < 1e-12);
		assert_true(fabs(upper / 2 / bounds[k - 1] - n.scale) < 1e-12);
	}
	assert_true(n.zero_threshold / bounds[0] == n.scale);
}

static void histogram_all_in_the_zero_bucket_has_no_spans(void **state)
{
	struct fixture *fx = *state;
	double bounds[KERNEL_BOUNDS];
	kernel_bounds(bounds);
	uint64_t counts[KERNEL_BOUNDS + 1] = {5}, cumulative[KERNEL_BOUNDS];
	uint64_t total = cumulate(counts, KERNEL_BOUNDS, cumulative);
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, KERNEL_BOUNDS, 1e-6, total);
	write_and_split(fx);
	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(uint_of(h, H_ZERO_COUNT), 5);
	assert_true(double_of(h, H_ZERO_THRESHOLD) > 0); /* what marks it native */
	assert_int_equal(count(h, H_POSITIVE_SPAN), 0);
	assert_int_equal(count(h, H_POSITIVE_DELTA), 0);
}

static void falling_counts_give_negative_deltas(void **state)
{
	struct fixture *fx = *state;
	const double bounds[] = {1, 2, 4, 8};
	const uint64_t counts[] = {0, 1000, 1, 300, 0};
	uint64_t cumulative[4];
	uint64_t total = cumulate(counts, 4, cumulative);
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 4, 5000, total);
	write_and_split(fx);
	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(uint_of(h, H_ZERO_COUNT), 0);
	int64_t index[8], got[8];
	assert_int_equal(native_buckets(h, index, got, 8), 3);
	assert_int_equal(index[0], 1); /* (1, 2]: bounds that are powers of two map as they are */
	assert_int_equal(got[0], 1000);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 300);
}

static void one_classic_histogram_makes_its_family_classic(void **state)
{
	struct fixture *fx = *state;
	double bounds[KERNEL_BOUNDS];
	kernel_bounds(bounds);
	uint64_t counts[KERNEL_BOUNDS + 1] = {1, 1}, cumulative[KERNEL_BOUNDS];
	uint64_t total = cumulate(counts, KERNEL_BOUNDS, cumulative);
	const double decimal[] = {0.1, 0.25};
	const uint64_t decimal_cumulative[] = {1, 2};
	expo_family(fx->e, "kobs_h_seconds", METRIC_HISTOGRAM, "seconds", "H.");
	struct label a = {"g", "a"}, b = {"g", "b"};
	expo_histogram(fx->e, &a, 1, bounds, cumulative, KERNEL_BOUNDS, 1e-6, total);
	expo_histogram(fx->e, &b, 1, decimal, decimal_cumulative, 2, 0.3, 2);
	write_and_split(fx);
	/* Prometheus reads the first histogram of a family to decide for all of them. */
	for (size_t i = 0; i < 2; i++) {
		struct msg h = sub(sub(fx->families[0], F_METRIC, i), M_HISTOGRAM, 0);
		assert_int_equal(count(h, H_ZERO_THRESHOLD), 0);
		assert_int_equal(count(h, H_SCHEMA), 0);
	}
}

static void negative_sum_keeps_the_histogram_classic(void **state)
{
	struct fixture *fx = *state;
	const double bounds[] = {1, 2, 4};
	const uint64_t cumulative[] = {1, 1, 2};
	expo_family(fx->e, "kobs_h", METRIC_HISTOGRAM, NULL, "H.");
	expo_histogram(fx->e, NULL, 0, bounds, cumulative, 3, -10, 2);
	write_and_split(fx);
	struct msg h = sub(sub(fx->families[0], F_METRIC, 0), M_HISTOGRAM, 0);
	assert_int_equal(count(h, H_ZERO_THRESHOLD), 0);
}

/* ---- rounding.h, against libm (which the daemon no longer loads) ---- */

/* A fixed sequence of 64-bit values (xorshift64*), so that a failure can be run again. */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

/* A double from 64 random bits: positive, finite, any exponent (subnormals too). */
static double random_positive(uint64_t *x)
{
	for (;;) {
		uint64_t bits = next_random(x) & ~(1ULL << 63);
		double d;
		memcpy(&d, &bits, sizeof(d));
		if (isfinite(d) && d > 0)
			return d;
	}
}

static void round_whole_small_is_nearbyint_below_2_pow_52(void **state)
{
	(void)state;
	/* Every quarter up to 2^20: the ties (k + 1/2) go to the even neighbour. */
	for (double q = 0; q < 0x1p20; q += 0.25)
		assert_true(round_whole_small(q) == nearbyint(q));
	const double edges[] = {0x1p52 - 1, 0x1p52 - 0.5, 0x1p51 + 0.5, 0x1p-1074,
	                        0.49999999999999994};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_true(round_whole_small(edges[i]) == nearbyint(edges[i]));
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 1000000; i++) {
		double d = random_positive(&x);
		d = ldexp(frexp(d, &(int){0}), (int)(next_random(&x) % 53)); /* [1/2, 2^52) */
		if (d < 0x1p52)
			assert_true(round_whole_small(d) == nearbyint(d));
	}
}

static void nearest_log2_is_lround_log2(void **state)
{
	(void)state;
	const double boundary = 0x1.6a09e667f3bcdp-1; /* the double nearest 1/sqrt(2), above it */
	assert_true(boundary == M_SQRT1_2);
	/* boundary^2 - 1/2, with one rounding: above 0 for it, below for the double under it. */
	assert_true(fma(boundary, boundary, -0.5) > 0);
	assert_true(fma(nextafter(boundary, 0), nextafter(boundary, 0), -0.5) < 0);
	uint64_t x = 2463534242ULL;
	for (int i = 0; i < 1000000; i++) {
		double d = random_positive(&x);
		int e;
		double m = frexp(d, &e);
		/* log2 then lround is not exact within an ulp or two of the boundary; there the
		 * comparison below is checked on its own. */
		if (fabs(m - boundary) <= 4 * 0x1p-53)
			continue;
		assert_int_equal(nearest_log2(d), lround(log2(d)));
	}
	for (int k = -1021; k <= 1023; k++) { /* normal: ldexp keeps every bit */
		assert_int_equal(nearest_log2(ldexp(boundary, k + 1)), k + 1);
		assert_int_equal(nearest_log2(ldexp(nextafter(boundary, 0), k + 1)), k);
		assert_int_equal(nearest_log2(ldexp(1, k)), k);
	}
	assert_int_equal(nearest_log2(0x1p-1074), -1074);
	assert_int_equal(nearest_log2(DBL_MAX), 1024);
}

static void split_seconds_is_floor_and_rounded_nanoseconds(void **state)
{
	(void)state;
	uint64_t x = 1234567ULL;
	for (int i = 0; i < 1000000; i++) {
		/* Times within the Timestamp's years 1-9999, at every scale of fraction. */
		double t = ((double)(next_random(&x) % 600000000000ULL) - 3e11) /
		           (double)(1ULL << (next_random(&x) % 40));
		int64_t seconds;
		int32_t nanos;
		split_seconds(t, &seconds, &nanos);
		double floor_t = floor(t);
		long expect = lround((t - floor_t) * 1e9);
		if (expect >= 1000000000) {
			floor_t += 1;
			expect -= 1000000000;
		}
		assert_true((double)seconds == floor_t);
		assert_int_equal(nanos, expect);
		assert_in_range(nanos, 0, 999999999);
	}
	int64_t seconds;
	int32_t nanos;
	split_seconds(-0.5, &seconds, &nanos);
	assert_true(seconds == -1 && nanos == 500000000);
	split_seconds(1.9999999999, &seconds, &nanos);
	assert_true(seconds == 2 && nanos == 0);
	split_seconds(-62135596800.0, &seconds, &nanos);
	assert_true(seconds == -62135596800LL && nanos == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(gauge_family_is_one_delimited_message_byte_for_byte,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(expo_write_writes_protobuf_with_its_content_type, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(counter_is_named_with_total_and_typed_counter, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(counter_created_time_is_a_timestamp, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        created_times_of_years_1_to_9999_are_written_and_no_others, setup, teardown),
	    cmocka_unit_test_setup_teardown(info_is_a_gauge_named_info_with_value_1, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(family_without_samples_and_empty_help_are_left_out,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(families_and_samples_keep_their_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(label_values_are_unescaped_and_valid_utf8, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(help_is_unescaped_but_valid_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(long_messages_get_multibyte_lengths, setup, teardown),
	    cmocka_unit_test(kernel_bounds_map_to_schema_0_scaled_by_1e9_over_2_pow_30),
	    cmocka_unit_test(bounds_or_sums_that_cannot_be_native_are_refused),
	    cmocka_unit_test(native_bucket_bounds_are_the_classic_ones_scaled),
	    cmocka_unit_test(round_whole_small_is_nearbyint_below_2_pow_52),
	    cmocka_unit_test(nearest_log2_is_lround_log2),
	    cmocka_unit_test(split_seconds_is_floor_and_rounded_nanoseconds),
	    cmocka_unit_test_setup_teardown(classic_buckets_are_cumulative_without_inf, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        exemplar_times_of_years_1_to_9999_are_written_and_no_others, setup, teardown),
	    cmocka_unit_test_setup_teardown(exemplars_ride_in_their_classic_buckets, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(log2_histogram_is_also_native_schema_0, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(histogram_all_in_the_zero_bucket_has_no_spans, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(falling_counts_give_negative_deltas, setup, teardown),
	    cmocka_unit_test_setup_teardown(one_classic_histogram_makes_its_family_classic, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(negative_sum_keeps_the_histogram_classic, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
