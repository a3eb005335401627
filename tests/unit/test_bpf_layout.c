/* The histogram layout the BPF programs and the daemon share (bpf/kobs_bpf.h): which bucket an
 * observation goes to, checked against the definition, at and around every bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kobs_bpf.h"

/* The definition: the first bucket whose bound 2^(FIRST + b) is >= v, else the overflow one. */
static unsigned reference(unsigned long long v)
{
	for (unsigned b = 0; b < KOBS_HIST_FINITE; b++)
		if (v <= 1ull << (KOBS_HIST_FIRST + b))
			return b;
	return KOBS_HIST_FINITE;
}

static void every_bound_holds_its_own_value(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 64; k++) {
		unsigned long long p = 1ull << k;
		assert_int_equal(kobs_bucket(p), reference(p));
		assert_int_equal(kobs_bucket(p - 1), reference(p - 1));
		assert_int_equal(kobs_bucket(p + 1), reference(p + 1));
	}
	/* ceil-style: exactly 2^k ns counts in le = 2^k ns, one more in the next bucket */
	assert_int_equal(kobs_bucket(1ull << 10), 1);
	assert_int_equal(kobs_bucket((1ull << 10) + 1), 2);
}

static void the_ends_are_the_first_and_the_overflow_bucket(void **state)
{
	(void)state;
	assert_int_equal(kobs_bucket(0), 0);
	assert_int_equal(kobs_bucket(1), 0);
	assert_int_equal(kobs_bucket(512), 0);
	assert_int_equal(kobs_bucket(1ull << 35), KOBS_HIST_FINITE - 1);
	assert_int_equal(kobs_bucket((1ull << 35) + 1), KOBS_HIST_FINITE);
	assert_int_equal(kobs_bucket(~0ull), KOBS_HIST_FINITE);
	assert_true(KOBS_HIST_SUM == KOBS_HIST_BUCKETS && KOBS_HIST_WORDS == KOBS_HIST_BUCKETS + 1);
}

static void values_in_between_agree_with_the_definition(void **state)
{
	(void)state;
	unsigned long long x = 88172645463325252ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned long long v = x >> (x % 64);
		assert_int_equal(kobs_bucket(v), reference(v));
	}
}

/* The records and settings of slow events are written by BPF programs (compiled for the BPF
 * target) and read by the daemon: no padding may differ. Every field sits at its natural
 * alignment, so both compilers lay them out alike; these are the sizes both must agree on. */
static void slow_event_layout_is_fixed(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct kobs_slow_event), 96);
	assert_int_equal(offsetof(struct kobs_slow_event, comm), 40);
	assert_int_equal(offsetof(struct kobs_slow_event, details), 56);
	assert_int_equal(sizeof(struct kobs_slow_settings),
	                 8 * (KOBS_SLOW_KINDS + KOBS_MAX_SYSCALLS + 1) + 8);
	assert_int_equal(sizeof(struct kobs_slow_counts), 16 * KOBS_SLOW_KINDS);
	/* The syscall index is masked with KOBS_MAX_SYSCALLS - 1 in the kernel. */
	assert_int_equal(KOBS_MAX_SYSCALLS & (KOBS_MAX_SYSCALLS - 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(slow_event_layout_is_fixed),
	    cmocka_unit_test(every_bound_holds_its_own_value),
	    cmocka_unit_test(the_ends_are_the_first_and_the_overflow_bucket),
	    cmocka_unit_test(values_in_between_agree_with_the_definition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
