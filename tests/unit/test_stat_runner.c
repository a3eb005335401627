/* statvfs with a deadline (src/stat_runner.c), with a stand-in for statvfs that blocks on paths
 * under /hang until the test opens a gate: the simulated hanging mount. Waits are bounded and
 * generous (the machine is shared); the deadlines asked for are short. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stat_runner.h"

/* Seconds: short for the hanging paths, long for the others, which must never time out even
 * under valgrind on a busy machine. */
#define DEADLINE      0.05
#define DEADLINE_EASY 10.0

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static int fake_stat(const char *path, struct statvfs *out)
{
	if (strncmp(path, "/hang", 5) == 0) {
		pthread_mutex_lock(&gate_lock);
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
	if (strcmp(path, "/missing") == 0) {
		errno = ENOENT;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->f_blocks = 42;
	return 0;
}

static void open_gate(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait (at most 10 s) until only `want` threads are left. */
static void wait_for_threads(int want)
{
	for (int i = 0; i < 1000 && threads() > want; i++)
		usleep(10000);
	assert_int_equal(threads(), want);
}

static int setup(void **state)
{
	gate_open = false;
	*state = stat_runner_new(fake_stat, 2);
	return 0;
}

static int teardown(void **state)
{
	stat_runner_free(*state);
	open_gate();
	wait_for_threads(1);
	return 0;
}

static enum stat_outcome run(struct stat_runner *r, const char *path, struct statvfs *st, int *err,
                             struct stat_call **overrun)
{
	*overrun = NULL;
	*err = -1;
	double deadline = strncmp(path, "/hang", 5) == 0 ? DEADLINE : DEADLINE_EASY;
	return stat_runner_run(r, path, deadline, st, err, overrun);
}

static void a_call_in_time_gives_its_result(void **state)
{
	struct statvfs st;
	struct stat_call *overrun;
	int err;
	assert_int_equal(run(*state, "/", &st, &err, &overrun), STAT_DONE);
	assert_int_equal(err, 0);
	assert_int_equal(st.f_blocks, 42);
	assert_null(overrun);
}

static void a_failed_call_gives_its_errno(void **state)
{
	struct statvfs st;
	struct stat_call *overrun;
	int err;
	assert_int_equal(run(*state, "/missing", &st, &err, &overrun), STAT_DONE);
	assert_int_equal(err, ENOENT);
}

static void a_hanging_call_times_out_at_its_deadline(void **state)
{
	struct statvfs st;
	struct stat_call *overrun;
	int err;
	double start = now();
	assert_int_equal(run(*state, "/hang/nfs", &st, &err, &overrun), STAT_TIMED_OUT);
	double took = now() - start;
	assert_true(took >= DEADLINE * 0.9);
	assert_true(took < 5); /* the deadline plus any scheduling delay of a busy machine */
	assert_non_null(overrun);
	assert_false(stat_call_finished(overrun));
	assert_int_equal(stat_runner_stuck(*state), 1);
	stat_call_release(overrun);
}

static void an_overrun_call_is_seen_finished_once_it_returns(void **state)
{
	struct statvfs st;
	struct stat_call *overrun;
	int err;
	assert_int_equal(run(*state, "/hang/nfs", &st, &err, &overrun), STAT_TIMED_OUT);
	open_gate();
	for (int i = 0; i < 1000 && !stat_call_finished(overrun); i++)
		usleep(10000);
	assert_true(stat_call_finished(overrun));
	assert_int_equal(stat_runner_stuck(*state), 0);
	stat_call_release(overrun);
}

static void the_next_call_after_a_timeout_runs_on_a_new_thread(void **state)
{
	struct statvfs st;
	struct stat_call *overrun, *none;
	int err;
	assert_int_equal(run(*state, "/hang/nfs", &st, &err, &overrun), STAT_TIMED_OUT);
	assert_int_equal(run(*state, "/", &st, &err, &none), STAT_DONE);
	assert_int_equal(err, 0);
	assert_int_equal(threads(), 3); /* this one, the stuck helper and the new one */
	stat_call_release(overrun);
}

static void past_max_stuck_threads_calls_are_refused_until_one_returns(void **state)
{
	struct statvfs st;
	struct stat_call *a, *b, *none;
	int err;
	assert_int_equal(run(*state, "/hang/a", &st, &err, &a), STAT_TIMED_OUT);
	assert_int_equal(run(*state, "/hang/b", &st, &err, &b), STAT_TIMED_OUT);
	assert_int_equal(run(*state, "/", &st, &err, &none), STAT_NO_THREAD);
	assert_null(none);
	assert_int_equal(threads(), 3); /* no third helper was started */
	open_gate();
	for (int i = 0; i < 1000 && stat_runner_stuck(*state) > 0; i++)
		usleep(10000);
	assert_int_equal(run(*state, "/", &st, &err, &none), STAT_DONE);
	stat_call_release(a);
	stat_call_release(b);
}

static void freeing_the_runner_does_not_wait_for_a_stuck_thread(void **state)
{
	struct statvfs st;
	struct stat_call *overrun;
	int err;
	assert_int_equal(run(*state, "/hang/nfs", &st, &err, &overrun), STAT_TIMED_OUT);
	stat_call_release(overrun);
	double start = now();
	stat_runner_free(*state);
	*state = NULL;
	assert_true(now() - start < 1);
	assert_int_equal(threads(), 2); /* the stuck helper lives on... */
	open_gate();
	wait_for_threads(1); /* ...and ends by itself once its call returns */
}

static void freeing_an_idle_runner_stops_its_thread(void **state)
{
	struct statvfs st;
	struct stat_call *none;
	int err;
	assert_int_equal(run(*state, "/", &st, &err, &none), STAT_DONE);
	assert_int_equal(threads(), 2);
	stat_runner_free(*state);
	*state = NULL;
	assert_int_equal(threads(), 1); /* joined, not left running */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_call_in_time_gives_its_result, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_failed_call_gives_its_errno, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_hanging_call_times_out_at_its_deadline, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(an_overrun_call_is_seen_finished_once_it_returns, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(the_next_call_after_a_timeout_runs_on_a_new_thread,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        past_max_stuck_threads_calls_are_refused_until_one_returns, setup, teardown),
	    cmocka_unit_test_setup_teardown(freeing_the_runner_does_not_wait_for_a_stuck_thread,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(freeing_an_idle_runner_stops_its_thread, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
