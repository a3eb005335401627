/* Threads summed by name (threads: true) and sleeping threads by wait channel (wchan: true),
 * driven through the lives of made-up threads; what a scrape serves is read back from the text
 * exposition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "thread_groups.h"

struct fixture {
	struct thread_groups *tg;
	struct expo *expo;
	struct buf text;
	double now;
	unsigned limit;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->tg = tg_new();
	f->expo = expo_new();
	f->limit = 100;
	buf_init(&f->text);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tg_free(f->tg);
	expo_free(f->expo);
	buf_free(&f->text);
	free(f);
	return 0;
}

static void begin(struct fixture *f)
{
	expo_reset(f->expo);
	tg_begin(f->tg, f->limit, 300, f->now, 1700000000.0 + f->now);
}

static void end(struct fixture *f)
{
	tg_end(f->tg, f->expo);
	buf_reset(&f->text);
	expo_write(f->expo, EXPO_TEXT, &f->text);
	f->now += 15;
}

/* A thread whose user CPU time is `cpu` seconds. */
static void thread(struct fixture *f, const char *group, unsigned tid, uint64_t start,
                   const char *name, uint64_t cpu)
{
	uint64_t counters[PGC__COUNT] = {0};
	counters[PGC_CPU_USER] = cpu * 1000000000ull;
	counters[PGC_CTXT_VOLUNTARY] = cpu;
	tg_thread(f->tg, group, tid, start, name, counters);
}

/* The value of the sample written exactly as `series`, NAN when absent. */
static double value_of(const struct fixture *f, const char *series)
{
	size_t len = strlen(series);
	const char *at = f->text.data;
	while (at && (at = strstr(at, series)) != NULL) {
		if ((at == f->text.data || at[-1] == '\n') && at[len] == ' ')
			return strtod(at + len + 1, NULL);
		at += len;
	}
	return NAN;
}

#define CPU(g, n)                                                                                  \
	"kobs_thread_cpu_seconds_total{group=\"" g "\",threadname=\"" n "\",mode=\"user\"}"
#define COUNT(g, n) "kobs_threads_by_name{group=\"" g "\",threadname=\"" n "\"}"

static void threads_of_one_name_are_summed(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "worker", 3);
	thread(f, "db", 11, 1, "worker", 4);
	thread(f, "db", 12, 1, "main", 1);
	end(f);
	assert_float_equal(value_of(f, CPU("db", "worker")), 7, 1e-9);
	assert_float_equal(value_of(f, CPU("db", "main")), 1, 1e-9);
	assert_float_equal(value_of(f, COUNT("db", "worker")), 2, 0);
	assert_float_equal(
	    value_of(f, "kobs_thread_context_switches_total{group=\"db\",threadname=\"worker\","
	                "type=\"voluntary\"}"),
	    7, 0);
}

static void a_name_keeps_what_its_exited_threads_counted(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "worker", 3);
	thread(f, "db", 11, 1, "worker", 4);
	end(f);
	begin(f);
	thread(f, "db", 10, 1, "worker", 5); /* 11 exited */
	end(f);
	assert_float_equal(value_of(f, CPU("db", "worker")), 9, 1e-9);
	assert_float_equal(value_of(f, COUNT("db", "worker")), 1, 0);
}

static void a_renamed_thread_counts_its_growth_under_its_new_name(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "before", 3);
	end(f);
	begin(f);
	thread(f, "db", 10, 1, "after", 5);
	end(f);
	assert_float_equal(value_of(f, CPU("db", "before")), 3, 1e-9);
	assert_float_equal(value_of(f, CPU("db", "after")), 2, 1e-9);
	assert_float_equal(value_of(f, COUNT("db", "before")), 0, 0);
}

static void a_reused_tid_is_a_new_thread(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "worker", 30);
	end(f);
	begin(f);
	thread(f, "db", 10, 2, "worker", 4); /* another thread with the same tid */
	end(f);
	assert_float_equal(value_of(f, CPU("db", "worker")), 34, 1e-9);
}

static void a_name_without_threads_is_forgotten_after_the_expiry(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "worker", 3);
	end(f);
	for (int i = 0; i < 40; i++) {
		begin(f);
		end(f);
		if (isnan(value_of(f, CPU("db", "worker"))))
			break;
	}
	/* 300 s after it was first seen empty, at 15 s a scrape. */
	assert_true(f->now >= 315 && f->now <= 345);
	assert_true(isnan(value_of(f, CPU("db", "worker"))));
}

static void names_beyond_the_limit_are_counted_not_served(void **state)
{
	struct fixture *f = *state;
	f->limit = 2;
	begin(f);
	thread(f, "db", 10, 1, "a", 1);
	thread(f, "db", 11, 1, "b", 1);
	thread(f, "db", 12, 1, "c", 1);
	thread(f, "db", 13, 1, "c", 1);
	end(f);
	assert_float_equal(value_of(f, CPU("db", "a")), 1, 1e-9);
	assert_true(isnan(value_of(f, CPU("db", "c"))));
	assert_float_equal(value_of(f, "kobs_threads_over_limit"), 2, 0);
}

static void sleeping_threads_are_counted_by_wait_channel(void **state)
{
	struct fixture *f = *state;
	begin(f);
	tg_waiting(f->tg, "db", "futex_wait_queue");
	tg_waiting(f->tg, "db", "futex_wait_queue");
	tg_waiting(f->tg, "db", "do_epoll_wait");
	tg_waiting(f->tg, "web", "");
	end(f);
	assert_float_equal(
	    value_of(f, "kobs_group_waiting_threads{group=\"db\",wchan=\"futex_wait_queue\"}"), 2,
	    0);
	assert_float_equal(
	    value_of(f, "kobs_group_waiting_threads{group=\"db\",wchan=\"do_epoll_wait\"}"), 1, 0);
	assert_float_equal(
	    value_of(f, "kobs_group_waiting_threads{group=\"web\",wchan=\"unknown\"}"), 1, 0);
	/* A gauge of this scrape only. */
	begin(f);
	end(f);
	assert_true(isnan(
	    value_of(f, "kobs_group_waiting_threads{group=\"db\",wchan=\"futex_wait_queue\"}")));
}

static void a_reset_forgets_every_series(void **state)
{
	struct fixture *f = *state;
	begin(f);
	thread(f, "db", 10, 1, "worker", 3);
	end(f);
	tg_reset(f->tg);
	begin(f);
	thread(f, "db", 10, 1, "worker", 5);
	end(f);
	/* Counted again from the start: the thread is new to the new configuration. */
	assert_float_equal(value_of(f, CPU("db", "worker")), 5, 1e-9);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(threads_of_one_name_are_summed),
	    T(a_name_keeps_what_its_exited_threads_counted),
	    T(a_renamed_thread_counts_its_growth_under_its_new_name),
	    T(a_reused_tid_is_a_new_thread),
	    T(a_name_without_threads_is_forgotten_after_the_expiry),
	    T(names_beyond_the_limit_are_counted_not_served),
	    T(sleeping_threads_are_counted_by_wait_channel),
	    T(a_reset_forgets_every_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
