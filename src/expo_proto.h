/* The protobuf exposition: the model of expo.h as a stream of length-delimited
 * io.prometheus.client.MetricFamily messages, what Prometheus asks for first when its native
 * histograms are on (--enable-feature=native-histograms).
 *
 * Families and samples are those of the text formats, named as client_golang names them in
 * protobuf (counters end in _total, info metrics in _info and are gauges); label values and
 * HELP texts are the text formats' ones unescaped, so a series is the same series whichever
 * format Prometheus scraped. Counters carry their created time.
 *
 * Histograms keep their classic buckets, and a histogram whose finite bounds double from one to
 * the next (b, 2b, 4b, ...: the bpf collector's log2 slots) is also a native histogram of schema
 * 0, whose bucket i is (2^(i-1), 2^i]. Such bounds are powers of two only up to a constant factor
 * (2^k ns is 2^k / 1e9 s, and log2(1e9) is not a whole number), so every bound is scaled by the
 * factor f = 2^n / b that takes the first one, b, to the nearest power of two 2^n (|log2 f| <= 1/2;
 * for the bpf collector's bounds, 2^(9+k) ns, f = 1e9 / 2^30 = 0.9313: native bounds are 6.9 %
 * below the classic ones):
 *   the first bucket [0, b]             -> the zero bucket, zero_threshold 2^n;
 *   the bucket (b * 2^(k-1), b * 2^k]   -> native bucket n + k;
 *   the overflow bucket (b * 2^K, +Inf) -> native bucket n + K + 1, the last (a native histogram
 *                                          has no +Inf bucket; K + 1 is the number of finite
 *                                          bounds).
 * So the native histogram is the classic one with every bound multiplied by f: linear
 * interpolation within a bucket (Prometheus 2.x's histogram_quantile) gives quantiles f times the
 * classic ones, except in the overflow bucket, where the classic answer is its lower bound and the
 * native one lies in (f * b * 2^K, 2 * f * b * 2^K]. Every observation stays in the bucket that
 * holds it, up to the factor f. The sum and count are the true ones. A histogram family is native
 * only when every one of its histograms qualifies (and none has a negative sum, which would mean
 * negative observations the zero bucket cannot claim), because Prometheus decides per family. */
#ifndef KOBS_EXPO_PROTO_H
#define KOBS_EXPO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "expo.h"

#define EXPO_PROTO_CONTENT_TYPE                                                                    \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "               \
	"encoding=delimited"

/* Append the whole exposition to `out`. Allocates nothing beyond `out`'s growth. */
void expo_proto_write(const struct expo *e, struct buf *out);
/* The same, with only the samples whose owner's bit is set in `owners` (expo_write_owned). */
void expo_proto_write_owned(const struct expo *e, uint64_t owners, struct buf *out);

/* The native histogram of a classic one (exposed for the tests). */
struct expo_native {
	int first_index; /* n: the zero bucket's threshold is 2^n, classic bucket k is index n + k
	                  */
	double zero_threshold;
	double scale; /* f: native bound / classic bound */
};

/* How a histogram whose finite bounds double from `first_bound` on maps onto schema 0; false
 * when it does not (a first bound that is not positive and finite, a sum that is negative or
 * NaN). */
bool expo_native_of(double first_bound, double sum, struct expo_native *out);

#endif
