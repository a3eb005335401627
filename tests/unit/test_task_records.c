/* The task iterator's records (task_records.h): what the parser accepts, refuses and sorts, and
 * the kernel's rules for a task's state letter and its user/system split. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "task_records.h"

/* Room for a few records, aligned as the daemon's read buffer is. */
struct stream {
	_Alignas(8) unsigned char bytes[8 * 1024];
	size_t len;
};

static void put_thread(struct stream *s, unsigned tgid, unsigned tid, const char *comm)
{
	struct kobs_task_thread t = {
	    .kind = KOBS_TASK_THREAD, .size = sizeof(t), .tid = tid, .tgid = tgid};
	strncpy(t.comm, comm, sizeof(t.comm) - 1);
	memcpy(s->bytes + s->len, &t, sizeof(t));
	s->len += sizeof(t);
}

static void put_process(struct stream *s, unsigned tgid, unsigned threads)
{
	struct kobs_task_process p = {
	    .kind = KOBS_TASK_PROCESS, .size = sizeof(p), .tgid = tgid, .threads = threads};
	memcpy(s->bytes + s->len, &p, sizeof(p));
	s->len += sizeof(p);
}

static void threads_are_sorted_by_process_then_thread(void **state)
{
	(void)state;
	struct stream s = {0};
	/* As the kernel walks tasks: by tid, so a process's threads are scattered. */
	put_thread(&s, 10, 10, "main");
	put_process(&s, 10, 2);
	put_thread(&s, 11, 11, "other");
	put_process(&s, 11, 1);
	put_thread(&s, 10, 12, "worker");
	struct task_records r;
	task_records_init(&r);
	char err[200];
	assert_int_equal(task_records_parse(s.bytes, s.len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nthreads, 3);
	assert_int_equal(r.nprocesses, 2);
	assert_int_equal(r.threads[0]->tid, 10);
	assert_int_equal(r.threads[1]->tid, 12);
	assert_int_equal(r.threads[2]->tid, 11);
	assert_int_equal(r.processes[0]->tgid, 10);
	size_t first;
	assert_int_equal(task_records_threads_of(&r, 10, &first), 2);
	assert_int_equal(first, 0);
	assert_int_equal(task_records_threads_of(&r, 11, &first), 1);
	assert_int_equal(first, 2);
	assert_int_equal(task_records_threads_of(&r, 12, &first), 0);
	task_records_free(&r);
}

static void an_empty_stream_has_no_records(void **state)
{
	(void)state;
	struct task_records r;
	task_records_init(&r);
	char err[200];
	assert_int_equal(task_records_parse("", 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nthreads + r.nprocesses, 0);
	task_records_free(&r);
}

static void a_record_cut_short_is_refused_with_nothing_kept(void **state)
{
	(void)state;
	struct stream s = {0};
	put_thread(&s, 10, 10, "main");
	put_process(&s, 10, 1);
	struct task_records r;
	task_records_init(&r);
	char err[200];
	assert_int_equal(task_records_parse(s.bytes, s.len - 1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cut short"));
	assert_int_equal(r.nthreads + r.nprocesses, 0);
	/* A stream ending inside the kind and size words. */
	assert_int_equal(task_records_parse(s.bytes, 5, &r, err, sizeof(err)), -1);
	task_records_free(&r);
}

static void a_record_of_another_build_is_refused(void **state)
{
	(void)state;
	struct stream s = {0};
	put_thread(&s, 10, 10, "main");
	unsigned size = sizeof(struct kobs_task_thread) + 8;
	memcpy(s.bytes + sizeof(unsigned), &size, sizeof(size));
	struct task_records r;
	task_records_init(&r);
	char err[200];
	assert_int_equal(task_records_parse(s.bytes, s.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "do not match"));
	unsigned kind = 7;
	memcpy(s.bytes, &kind, sizeof(kind));
	assert_int_equal(task_records_parse(s.bytes, s.len, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown kind 7"));
	task_records_free(&r);
}

static void a_second_record_of_a_process_is_dropped(void **state)
{
	(void)state;
	struct stream s = {0};
	put_process(&s, 10, 1);
	put_process(&s, 10, 5);
	struct task_records r;
	task_records_init(&r);
	char err[200];
	assert_int_equal(task_records_parse(s.bytes, s.len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nprocesses, 1);
	task_records_free(&r);
}

static void state_letters_follow_the_kernel(void **state)
{
	(void)state;
	assert_int_equal(task_state_letter(0x0000, 0), 'R');
	assert_int_equal(task_state_letter(0x0001, 0), 'S');
	assert_int_equal(task_state_letter(0x0002, 0), 'D');
	assert_int_equal(task_state_letter(0x0004, 0), 'T');
	assert_int_equal(task_state_letter(0x0008, 0), 't');
	assert_int_equal(task_state_letter(0x0000, 0x0020), 'Z'); /* EXIT_ZOMBIE */
	assert_int_equal(task_state_letter(0x0000, 0x0010), 'X'); /* EXIT_DEAD */
	assert_int_equal(task_state_letter(0x0040, 0), 'P');      /* TASK_PARKED */
	assert_int_equal(task_state_letter(0x0402, 0), 'I');      /* TASK_IDLE */
	assert_int_equal(task_state_letter(0x1000, 0), 'D');      /* TASK_RTLOCK_WAIT */
	/* A sleeper killed (TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE) is D. */
	assert_int_equal(task_state_letter(0x0102, 0), 'D');
}

static void cpu_time_is_split_in_the_sampled_proportion(void **state)
{
	(void)state;
	uint64_t user, system;
	task_cputime_split(30, 10, 1000, &user, &system);
	assert_int_equal(user, 750);
	assert_int_equal(system, 250);
	task_cputime_split(0, 0, 1000, &user, &system);
	assert_int_equal(user, 1000);
	assert_int_equal(system, 0);
	task_cputime_split(0, 7, 1000, &user, &system);
	assert_int_equal(user, 0);
	assert_int_equal(system, 1000);
	/* Large figures do not overflow: a year of CPU time in nanoseconds. */
	uint64_t year = 365ull * 24 * 3600 * 1000000000ull;
	task_cputime_split(year, year, 2 * year, &user, &system);
	assert_int_equal(user, year);
	assert_int_equal(system, year);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(threads_are_sorted_by_process_then_thread),
	    cmocka_unit_test(an_empty_stream_has_no_records),
	    cmocka_unit_test(a_record_cut_short_is_refused_with_nothing_kept),
	    cmocka_unit_test(a_record_of_another_build_is_refused),
	    cmocka_unit_test(a_second_record_of_a_process_is_dropped),
	    cmocka_unit_test(state_letters_follow_the_kernel),
	    cmocka_unit_test(cpu_time_is_split_in_the_sampled_proportion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
