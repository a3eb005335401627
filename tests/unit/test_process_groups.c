/* The process groups' accounting, driven through the lives and deaths of made-up processes: what
 * a scrape serves is read back from the text exposition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "process_groups.h"

#define HZ 100

struct fixture {
	struct process_groups *pg;
	struct pg_settings settings;
	struct expo *expo;
	struct buf text;
	double now;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->pg = pg_new();
	f->settings = (struct pg_settings){
	    .per_process_limit = 100, .group_limit = 1000, .group_expiry = 300};
	f->expo = expo_new();
	buf_init(&f->text);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pg_free(f->pg);
	expo_free(f->expo);
	buf_free(&f->text);
	free(f);
	return 0;
}

/* A made-up process as one scrape sees it. */
struct proc {
	int pid, ppid;
	uint64_t start;    /* ticks */
	const char *group; /* NULL: matches nothing */
	bool per_process, children;
	bool no_new_group; /* PG_NO_NEW_GROUP */
	uint64_t cpu_user; /* ticks */
	bool io_unreadable;
	uint64_t write_bytes;
	uint64_t resident;
	char state;
};

static void begin(struct fixture *f, size_t n)
{
	expo_reset(f->expo);
	pg_begin(f->pg, &f->settings, f->now, 1700000000.0 + f->now, n);
}

/* One scrape of `procs` (ascending pids), classified by their `group`, all read whole. */
static void scrape(struct fixture *f, const struct proc *procs, size_t n)
{
	struct pg_process *seen[16];
	assert_true(n <= 16);
	begin(f, n);
	for (size_t i = 0; i < n; i++) {
		bool is_new;
		seen[i] = pg_observe(f->pg, procs[i].pid, procs[i].ppid, procs[i].start,
		                     (double)procs[i].start / HZ, &is_new);
		assert_non_null(seen[i]);
		if (is_new && procs[i].group)
			pg_classify(f->pg, seen[i], procs[i].group, "comm",
			            (procs[i].per_process ? PG_PER_PROCESS : 0) |
			                (procs[i].children ? PG_CHILDREN : 0) |
			                (procs[i].no_new_group ? PG_NO_NEW_GROUP : 0));
	}
	for (size_t i = 0; i < n; i++)
		if (pg_is_new(seen[i]) && !procs[i].group)
			pg_inherit(f->pg, seen[i], "child");
	for (size_t i = 0; i < n; i++) {
		if (!pg_grouped(seen[i]))
			continue;
		struct pg_figures fig = {
		    .state = pg_state_from_letter(procs[i].state ? procs[i].state : 'S'),
		    .resident_bytes = procs[i].resident,
		    .fds_known = true,
		    .open_fds = 10,
		    .fd_limit = 1000};
		fig.counters[PGC_CPU_USER] = procs[i].cpu_user * (1000000000 / HZ); /* ns */
		fig.io_known = !procs[i].io_unreadable;
		fig.counters[PGC_IO_WRITE_BYTES] = procs[i].write_bytes;
		pg_update(f->pg, seen[i], &fig);
	}
	pg_end(f->pg, f->expo);
	buf_reset(&f->text);
	expo_write(f->expo, EXPO_TEXT, &f->text);
}

/* The value of the sample written exactly as `series` (name and labels), NAN when absent. */
static double value_of(const struct fixture *f, const char *series)
{
	size_t len = strlen(series);
	const char *at = f->text.data;
	while ((at = strstr(at, series)) != NULL) {
		if ((at == f->text.data || at[-1] == '\n') && at[len] == ' ')
			return strtod(at + len + 1, NULL);
		at += len;
	}
	return NAN;
}

#define CPU_A "kobs_group_cpu_seconds_total{group=\"a\",mode=\"user\"}"

static void test_counters_keep_the_totals_of_exited_members(void **state)
{
	struct fixture *f = *state;
	struct proc both[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100},
	                      {.pid = 11, .start = 1, .group = "a", .cpu_user = 50}};
	scrape(f, both, 2);
	assert_float_equal(value_of(f, CPU_A), 1.5, 1e-9);
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 110}};
	scrape(f, one, 1);
	assert_float_equal(value_of(f, CPU_A), 1.6, 1e-9);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"sleeping\"}"), 1,
	                   0);
}

static void test_a_process_refused_new_groups_joins_only_existing_ones(void **state)
{
	struct fixture *f = *state;
	struct proc procs[] = {
	    {.pid = 10, .start = 1, .group = "a", .cpu_user = 1},
	    {.pid = 11, .start = 1, .group = "a", .no_new_group = true, .cpu_user = 2},
	    {.pid = 12, .start = 1, .group = "fresh", .no_new_group = true, .cpu_user = 4}};
	scrape(f, procs, 3);
	assert_float_equal(value_of(f, CPU_A), 0.03, 1e-9);
	assert_true(
	    isnan(value_of(f, "kobs_group_cpu_seconds_total{group=\"fresh\",mode=\"user\"}")));
	assert_float_equal(value_of(f, "kobs_processes_ungrouped"), 1, 0);
}

static void test_a_reused_pid_is_a_new_process(void **state)
{
	struct fixture *f = *state;
	struct proc first[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, first, 1);
	struct proc reused[] = {{.pid = 10, .start = 2, .group = "a", .cpu_user = 5}};
	scrape(f, reused, 1);
	assert_float_equal(value_of(f, CPU_A), 1.05, 1e-9);
	assert_float_equal(value_of(f, "kobs_processes_seen_total"), 2, 0);
}

static void test_a_lower_reading_does_not_take_a_counter_back(void **state)
{
	struct fixture *f = *state;
	struct proc high[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, high, 1);
	struct proc low[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 90}};
	scrape(f, low, 1);
	assert_float_equal(value_of(f, CPU_A), 1.0, 1e-9);
}

static void test_an_empty_group_stays_until_it_expires(void **state)
{
	struct fixture *f = *state;
	f->settings.group_expiry = 10;
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, one, 1);
	f->now = 1;
	scrape(f, NULL, 0);
	assert_float_equal(value_of(f, CPU_A), 1.0, 1e-9);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"sleeping\"}"), 0,
	                   0);
	f->now = 10.5;
	scrape(f, NULL, 0);
	assert_float_equal(value_of(f, CPU_A), 1.0, 1e-9);
	f->now = 12;
	scrape(f, NULL, 0); /* empty for 11 s, more than the expiry: gone from this scrape */
	assert_true(isnan(value_of(f, CPU_A)));
	assert_float_equal(value_of(f, "kobs_groups"), 0, 0);
}

static void test_a_group_back_after_expiry_starts_from_zero(void **state)
{
	struct fixture *f = *state;
	f->settings.group_expiry = 0;
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, one, 1);
	f->now = 1;
	scrape(f, NULL, 0);
	assert_true(isnan(value_of(f, CPU_A)));
	struct proc again[] = {{.pid = 20, .start = 5, .group = "a", .cpu_user = 7}};
	f->now = 2;
	scrape(f, again, 1);
	assert_float_equal(value_of(f, CPU_A), 0.07, 1e-9);
}

static void test_a_group_that_comes_back_before_expiry_keeps_counting(void **state)
{
	struct fixture *f = *state;
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, one, 1);
	f->now = 1;
	scrape(f, NULL, 0);
	struct proc again[] = {{.pid = 20, .start = 5, .group = "a", .cpu_user = 7}};
	f->now = 2;
	scrape(f, again, 1);
	assert_float_equal(value_of(f, CPU_A), 1.07, 1e-9);
}

static void test_children_join_their_ancestors_group(void **state)
{
	struct fixture *f = *state;
	struct proc tree[] = {
	    {.pid = 10, .start = 1, .group = "a", .children = true, .cpu_user = 100},
	    {.pid = 11, .ppid = 10, .start = 1, .cpu_user = 20},
	    {.pid = 12, .ppid = 11, .start = 1, .cpu_user = 30},
	};
	scrape(f, tree, 3);
	assert_float_equal(value_of(f, CPU_A), 1.5, 1e-9);
	assert_float_equal(value_of(f, "kobs_processes_ungrouped"), 0, 0);
}

static void test_a_child_listed_before_its_parent_still_joins(void **state)
{
	struct fixture *f = *state;
	/* pids wrap: the child got a lower pid than its parent */
	struct proc tree[] = {
	    {.pid = 5, .ppid = 90, .start = 9, .cpu_user = 20},
	    {.pid = 90, .start = 1, .group = "a", .children = true, .cpu_user = 100},
	};
	scrape(f, tree, 2);
	assert_float_equal(value_of(f, CPU_A), 1.2, 1e-9);
}

static void test_children_false_keeps_children_out(void **state)
{
	struct fixture *f = *state;
	struct proc tree[] = {
	    {.pid = 10, .start = 1, .group = "a", .children = false, .cpu_user = 100},
	    {.pid = 11, .ppid = 10, .start = 1, .cpu_user = 20},
	};
	scrape(f, tree, 2);
	assert_float_equal(value_of(f, CPU_A), 1.0, 1e-9);
	assert_float_equal(value_of(f, "kobs_processes_ungrouped"), 1, 0);
}

static void test_unreadable_io_leaves_the_groups_io_out_instead_of_zero(void **state)
{
	struct fixture *f = *state;
	struct proc procs[] = {
	    {.pid = 10, .start = 1, .group = "a", .write_bytes = 4096},
	    {.pid = 11, .start = 1, .group = "a", .io_unreadable = true},
	    {.pid = 12, .start = 1, .group = "b", .write_bytes = 8192},
	};
	scrape(f, procs, 3);
	assert_true(isnan(
	    value_of(f, "kobs_group_io_bytes_total{group=\"a\",op=\"write\",layer=\"storage\"}")));
	assert_float_equal(
	    value_of(f, "kobs_group_unavailable_processes{group=\"a\",figure=\"io\"}"), 1, 0);
	assert_float_equal(
	    value_of(f, "kobs_group_io_bytes_total{group=\"b\",op=\"write\",layer=\"storage\"}"),
	    8192, 0);
}

static void test_the_group_limit_leaves_new_groups_out_and_counts_them(void **state)
{
	struct fixture *f = *state;
	f->settings.group_limit = 1;
	struct proc procs[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 1},
	                       {.pid = 11, .start = 1, .group = "b", .cpu_user = 1}};
	scrape(f, procs, 2);
	assert_float_equal(value_of(f, "kobs_groups"), 1, 0);
	assert_float_equal(value_of(f, "kobs_processes_over_group_limit"), 1, 0);
	assert_true(isnan(value_of(f, "kobs_group_cpu_seconds_total{group=\"b\",mode=\"user\"}")));
}

static void test_per_process_series_stop_at_the_limit(void **state)
{
	struct fixture *f = *state;
	f->settings.per_process_limit = 1;
	struct proc procs[] = {
	    {.pid = 10, .start = 1, .group = "a", .per_process = true, .resident = 4096},
	    {.pid = 11, .start = 1, .group = "a", .per_process = true, .resident = 8192},
	};
	scrape(f, procs, 2);
	assert_float_equal(value_of(f, "kobs_process_resident_memory_bytes{group=\"a\",pid=\"10\","
	                               "comm=\"comm\"}"),
	                   4096, 0);
	assert_true(isnan(value_of(f, "kobs_process_resident_memory_bytes{group=\"a\",pid=\"11\","
	                              "comm=\"comm\"}")));
	assert_float_equal(value_of(f, "kobs_processes_per_process_capped"), 1, 0);
	/* when the first exits, the second gets its slot */
	struct proc second[] = {
	    {.pid = 11, .start = 1, .group = "a", .per_process = true, .resident = 8192}};
	scrape(f, second, 1);
	assert_float_equal(value_of(f, "kobs_process_resident_memory_bytes{group=\"a\",pid=\"11\","
	                               "comm=\"comm\"}"),
	                   8192, 0);
}

static void test_a_process_that_vanishes_mid_read_is_retired_whole(void **state)
{
	struct fixture *f = *state;
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, one, 1);
	begin(f, 1);
	bool is_new;
	struct pg_process *p = pg_observe(f->pg, 10, 0, 1, 0.01, &is_new);
	assert_false(is_new);
	pg_vanished(f->pg, p);
	pg_end(f->pg, f->expo);
	buf_reset(&f->text);
	expo_write(f->expo, EXPO_TEXT, &f->text);
	assert_float_equal(value_of(f, CPU_A), 1.0, 1e-9);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"sleeping\"}"), 0,
	                   0);
	assert_float_equal(value_of(f, "kobs_processes_vanished_total"), 1, 0);
}

static void test_states_are_counted_by_kind(void **state)
{
	struct fixture *f = *state;
	struct proc procs[] = {{.pid = 10, .start = 1, .group = "a", .state = 'D'},
	                       {.pid = 11, .start = 1, .group = "a", .state = 'D'},
	                       {.pid = 12, .start = 1, .group = "a", .state = 'Z'},
	                       {.pid = 13, .start = 1, .group = "a", .state = 't'}};
	scrape(f, procs, 4);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"disk_sleep\"}"), 2,
	                   0);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"zombie\"}"), 1, 0);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"stopped\"}"), 1,
	                   0);
	assert_float_equal(value_of(f, "kobs_group_processes{group=\"a\",state=\"running\"}"), 0,
	                   0);
}

static void test_pids_out_of_order_are_refused(void **state)
{
	struct fixture *f = *state;
	begin(f, 2);
	bool is_new;
	assert_non_null(pg_observe(f->pg, 10, 0, 1, 0, &is_new));
	assert_null(pg_observe(f->pg, 9, 0, 1, 0, &is_new));
	pg_end(f->pg, f->expo);
}

static void test_reset_forgets_groups_but_not_the_self_counters(void **state)
{
	struct fixture *f = *state;
	struct proc one[] = {{.pid = 10, .start = 1, .group = "a", .cpu_user = 100}};
	scrape(f, one, 1);
	pg_reset(f->pg);
	struct proc renamed[] = {{.pid = 10, .start = 1, .group = "b", .cpu_user = 100}};
	scrape(f, renamed, 1);
	assert_true(isnan(value_of(f, CPU_A)));
	assert_float_equal(value_of(f, "kobs_group_cpu_seconds_total{group=\"b\",mode=\"user\"}"),
	                   1.0, 1e-9);
	assert_float_equal(value_of(f, "kobs_processes_seen_total"), 2, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_counters_keep_the_totals_of_exited_members, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_reused_pid_is_a_new_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_process_refused_new_groups_joins_only_existing_ones, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_lower_reading_does_not_take_a_counter_back,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_an_empty_group_stays_until_it_expires, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_group_that_comes_back_before_expiry_keeps_counting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_group_back_after_expiry_starts_from_zero, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_children_join_their_ancestors_group, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_child_listed_before_its_parent_still_joins,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_children_false_keeps_children_out, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unreadable_io_leaves_the_groups_io_out_instead_of_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_the_group_limit_leaves_new_groups_out_and_counts_them, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_process_series_stop_at_the_limit, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_process_that_vanishes_mid_read_is_retired_whole,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_states_are_counted_by_kind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pids_out_of_order_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_forgets_groups_but_not_the_self_counters,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
