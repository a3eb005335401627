/* The three roundings the exposition writers need (expo.c, expo_proto.c), done with libc alone.
 * They were libm's nearbyint, log2 and lround, the only libm functions the daemon called;
 * loading libm for them cost about 0.3 MiB of resident memory (its pages touched at load), and
 * the daemon's target is under 8 MiB. The unit tests check them against libm. Header-only, so
 * that the fuzz harnesses need nothing more. */
#ifndef KOBS_ROUNDING_H
#define KOBS_ROUNDING_H

#include <math.h>
#include <stdint.h>

/* x rounded to a whole number, ties to even, for 0 <= x < 2^52: nearbyint(x) on that range in
 * the default rounding mode, which the daemon never changes. Done in integers, so that no FPU's
 * excess precision (x87) can change it: x - trunc(x) is exact, and so are the comparisons. */
static inline double round_whole_small(double x)
{
	int64_t whole = (int64_t)x;
	double fraction = x - (double)whole;
	if (fraction > 0.5 || (fraction == 0.5 && (whole & 1)))
		whole++;
	return (double)whole;
}

/* The whole number nearest log2(x), for a finite x > 0; lround(log2(x)). With x = m * 2^e and
 * 1/2 <= m < 1 (frexp, in libc), log2(x) = e + log2(m), and log2(m) >= -1/2 exactly when
 * m >= 1/sqrt(2). The constant is the double nearest 1/sqrt(2), which is above it, and the
 * double below it is under it, so comparing doubles decides exactly. */
static inline int nearest_log2(double x)
{
	int e;
	double m = frexp(x, &e);
	return m >= 0x1.6a09e667f3bcdp-1 ? e : e - 1;
}

/* A time in seconds, within +-2^62 s, as whole seconds (rounded down) and nanoseconds
 * (0 to 999 999 999, rounded to nearest): the fields of a google.protobuf.Timestamp. */
static inline void split_seconds(double t, int64_t *seconds, int32_t *nanos)
{
	int64_t s = (int64_t)t; /* toward zero */
	if ((double)s > t)
		s--;
	int64_t n = (int64_t)((t - (double)s) * 1e9 + 0.5);
	if (n >= 1000000000) {
		s++;
		n -= 1000000000;
	}
	*seconds = s;
	*nanos = (int32_t)n;
}

#endif
