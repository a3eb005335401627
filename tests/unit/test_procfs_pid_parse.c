/* The /proc/<pid> parsers, specified by example: real files of three processes of a 6.18 kernel
 * (tests/fixtures/proc/<pid>: 4242 a three-threaded worker of a systemd service, edited to known
 * values; 4243 its zombie child; 2 kthreadd, a kernel thread, as read), and hostile input.
 *
 * Every input is copied into a heap block of exactly its length, with no NUL after it, so that
 * AddressSanitizer and valgrind catch a parser that reads one byte too far. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs_pid_parse.h"

#include "test_bytes.h"

/* ---- one wrapper per parser, for a fixture or a C string taken as an unterminated buffer ---- */

static int status_of(struct bytes b, struct pid_status *out)
{
	int rc = parse_pid_status(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int io_of(struct bytes b, struct pid_io *out)
{
	int rc = parse_pid_io(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int schedstat_of(struct bytes b, struct pid_schedstat *out)
{
	int rc = parse_pid_schedstat(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int limits_of(struct bytes b, uint64_t *soft)
{
	int rc = parse_pid_limits_nofile(b.data, b.len, soft);
	free(b.data);
	return rc;
}

/* The cgroup path is copied out (NUL-terminated into `path`), since it points into the input. */
static int cgroup_of(struct bytes b, char *path, size_t size)
{
	const char *p = NULL;
	size_t n = 0;
	int rc = parse_pid_cgroup(b.data, b.len, &p, &n);
	path[0] = '\0';
	if (rc == 0) {
		assert_true(p >= b.data && n <= b.len && (size_t)(p - b.data) <= b.len - n);
		assert_true(n < size);
		memcpy(path, p, n);
		path[n] = '\0';
	}
	free(b.data);
	return rc;
}

static struct bytes text(const char *s)
{
	return copy_bytes(s, strlen(s));
}

#define KB 1024ull

/* ---- status ---- */

static void status_reads_context_switches_and_memory(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(fixture("proc/4242/status"), &s), 0);
	assert_int_equal(s.voluntary_ctxt, 1234);
	assert_int_equal(s.nonvoluntary_ctxt, 56);
	assert_int_equal(s.hwm_bytes, 14060 * KB);
	assert_int_equal(s.rss_bytes, 13312 * KB);
	assert_int_equal(s.swap_bytes, 512 * KB);
	assert_int_equal(s.present,
	                 PID_STATUS_CTXT | PID_STATUS_HWM | PID_STATUS_RSS | PID_STATUS_SWAP);
}

static void status_of_a_zombie_has_context_switches_but_no_memory(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(fixture("proc/4243/status"), &s), 0);
	assert_int_equal(s.present, PID_STATUS_CTXT);
	assert_int_equal(s.voluntary_ctxt, 7);
	assert_int_equal(s.nonvoluntary_ctxt, 0);
	assert_int_equal(s.rss_bytes, 0);
}

static void status_of_a_kernel_thread_has_context_switches_but_no_memory(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(fixture("proc/2/status"), &s), 0);
	assert_int_equal(s.present, PID_STATUS_CTXT);
	assert_int_equal(s.voluntary_ctxt, 79);
	assert_int_equal(s.hwm_bytes, 0);
}

static void status_rejects_a_missing_context_switch_line(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text("VmRSS:\t 4 kB\nvoluntary_ctxt_switches:\t3\n"), &s), -1);
	assert_int_equal(status_of(text("VmRSS:\t 4 kB\nnonvoluntary_ctxt_switches:\t3\n"), &s),
	                 -1);
}

static void status_treats_a_vm_line_whose_bytes_overflow_as_absent(void **state)
{
	(void)state;
	struct pid_status s;
	/* 2^54 kB is 2^64 bytes: one too many. 2^54 - 1 kB still fits. */
	assert_int_equal(status_of(text("VmHWM:\t18014398509481984 kB\n"
	                                "VmRSS:\t18014398509481983 kB\n"
	                                "voluntary_ctxt_switches:\t1\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"),
	                           &s),
	                 0);
	assert_false(s.present & PID_STATUS_HWM);
	assert_int_equal(s.hwm_bytes, 0);
	assert_true(s.present & PID_STATUS_RSS);
	assert_int_equal(s.rss_bytes, 18014398509481983ull * 1024);
}

static void status_rejects_a_context_switch_count_that_overflows(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text("voluntary_ctxt_switches:\t18446744073709551616\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"),
	                           &s),
	                 -1);
	assert_int_equal(status_of(text("voluntary_ctxt_switches:\t18446744073709551615\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"),
	                           &s),
	                 0);
	assert_int_equal(s.voluntary_ctxt, UINT64_MAX);
}

static void status_counts_a_vm_line_only_in_kilobytes(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text("VmHWM:\t 4\n"
	                                "VmRSS:\t 4 MB\n"
	                                "VmSwap:\t 4 kB extra\n"
	                                "voluntary_ctxt_switches:\t1\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"),
	                           &s),
	                 0);
	assert_int_equal(s.present, PID_STATUS_CTXT);
}

static void status_ignores_unknown_and_malformed_lines(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text("Name:\tvoluntary_ctxt_switches: 9\n"
	                                "voluntary_ctxt_switches\t5\n"
	                                "voluntary_ctxt_switches:\t-5\n"
	                                "VmRSSx:\t 8 kB\n"
	                                "voluntary_ctxt_switches:\t1\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"),
	                           &s),
	                 0);
	assert_int_equal(s.voluntary_ctxt, 1);
	assert_int_equal(s.present, PID_STATUS_CTXT);
}

static void status_keeps_the_first_of_duplicate_lines(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text("VmRSS:\t 1 kB\nVmRSS:\t 2 kB\n"
	                                "voluntary_ctxt_switches:\t1\n"
	                                "nonvoluntary_ctxt_switches:\t2\n"
	                                "nonvoluntary_ctxt_switches:\t3\n"),
	                           &s),
	                 0);
	assert_int_equal(s.rss_bytes, 1 * KB);
	assert_int_equal(s.nonvoluntary_ctxt, 2);
}

static void status_ignores_unterminated_last_line(void **state)
{
	(void)state;
	struct pid_status s;
	/* "nonvoluntary_ctxt_switches:\t23" cut from "...\t2345": it must not pass for 23. */
	assert_int_equal(status_of(text("voluntary_ctxt_switches:\t1\n"
	                                "nonvoluntary_ctxt_switches:\t23"),
	                           &s),
	                 -1);
}

static void status_rejects_empty_input(void **state)
{
	(void)state;
	struct pid_status s;
	assert_int_equal(status_of(text(""), &s), -1);
	assert_int_equal(s.present, 0);
}

/* ---- io ---- */

static void io_reads_all_six_counters(void **state)
{
	(void)state;
	struct pid_io io;
	assert_int_equal(io_of(fixture("proc/4242/io"), &io), 0);
	assert_int_equal(io.rchar, 1871073);
	assert_int_equal(io.wchar, 1701);
	assert_int_equal(io.syscr, 678);
	assert_int_equal(io.syscw, 33);
	assert_int_equal(io.read_bytes, 442368);
	assert_int_equal(io.write_bytes, 16384);
}

static void io_of_a_kernel_thread_is_all_zeros(void **state)
{
	(void)state;
	struct pid_io io, zero = {0};
	assert_int_equal(io_of(fixture("proc/2/io"), &io), 0);
	assert_memory_equal(&io, &zero, sizeof(io));
}

static void io_rejects_a_missing_counter(void **state)
{
	(void)state;
	struct pid_io io;
	assert_int_equal(io_of(text("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\n"
	                            "cancelled_write_bytes: 6\n"),
	                       &io),
	                 -1);
}

static void io_rejects_a_counter_that_overflows(void **state)
{
	(void)state;
	struct pid_io io;
	assert_int_equal(io_of(text("rchar: 18446744073709551616\nwchar: 2\nsyscr: 3\nsyscw: 4\n"
	                            "read_bytes: 5\nwrite_bytes: 6\n"),
	                       &io),
	                 -1);
}

static void io_ignores_unknown_lines_and_keeps_the_first_duplicate(void **state)
{
	(void)state;
	struct pid_io io;
	assert_int_equal(io_of(text("future: 9\nrchar: 1\nrchar: 100\nwchar: 2\nsyscr: 3\n"
	                            "syscw: 4\nread_bytes: 5\nwrite_bytes: 6\n"),
	                       &io),
	                 0);
	assert_int_equal(io.rchar, 1);
	assert_int_equal(io.write_bytes, 6);
}

static void io_ignores_unterminated_last_line(void **state)
{
	(void)state;
	struct pid_io io;
	assert_int_equal(io_of(text("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\n"
	                            "write_bytes: 6"),
	                       &io),
	                 -1);
}

/* ---- schedstat ---- */

static void schedstat_reads_three_numbers(void **state)
{
	(void)state;
	struct pid_schedstat s;
	assert_int_equal(schedstat_of(fixture("proc/4242/schedstat"), &s), 0);
	assert_int_equal(s.oncpu_ns, 104485979);
	assert_int_equal(s.wait_ns, 2405775);
	assert_int_equal(s.timeslices, 36);
}

static void schedstat_ignores_numbers_past_the_third(void **state)
{
	(void)state;
	struct pid_schedstat s;
	assert_int_equal(schedstat_of(text("1 2 3 4\n"), &s), 0);
	assert_int_equal(s.timeslices, 3);
}

static void schedstat_rejects_fewer_than_three_numbers(void **state)
{
	(void)state;
	struct pid_schedstat s;
	assert_int_equal(schedstat_of(text("1 2\n"), &s), -1);
}

static void schedstat_rejects_a_number_that_overflows_or_is_not_one(void **state)
{
	(void)state;
	struct pid_schedstat s;
	assert_int_equal(schedstat_of(text("1 18446744073709551616 3\n"), &s), -1);
	assert_int_equal(schedstat_of(text("1 -2 3\n"), &s), -1);
	assert_int_equal(schedstat_of(text("1 2 0x3\n"), &s), -1);
}

static void schedstat_rejects_input_without_trailing_newline(void **state)
{
	(void)state;
	struct pid_schedstat s;
	assert_int_equal(schedstat_of(text("104485979 2405775 36"), &s), -1);
	assert_int_equal(s.oncpu_ns, 0);
}

/* ---- limits ---- */

static void limits_reads_the_soft_open_files_limit(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(limits_of(fixture("proc/4242/limits"), &soft), 0);
	assert_int_equal(soft, 1024);
}

static void limits_reads_unlimited_as_the_unlimited_value(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(limits_of(text("Max open files            unlimited            unlimited"
	                                "            files     \n"),
	                           &soft),
	                 0);
	assert_true(soft == PID_LIMIT_UNLIMITED);
}

static void limits_parses_by_tokens_not_by_columns(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(limits_of(text("Max open files\t7 8\n"), &soft), 0);
	assert_int_equal(soft, 7);
}

static void limits_does_not_take_another_line_for_open_files(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(limits_of(text("Max open filesx           5                    5\n"
	                                " Max open files           6                    6\n"
	                                "Max processes             7                    7\n"),
	                           &soft),
	                 -1);
}

static void limits_rejects_a_line_without_both_limits(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(limits_of(text("Max open files            1024\n"), &soft), -1);
	assert_int_equal(limits_of(text("Max open files            lots       4096\n"), &soft), -1);
	assert_int_equal(limits_of(text("Max open files            1024       lots\n"), &soft), -1);
}

static void limits_rejects_a_soft_limit_that_overflows(void **state)
{
	(void)state;
	uint64_t soft;
	assert_int_equal(
	    limits_of(text("Max open files            18446744073709551616 unlimited\n"), &soft),
	    -1);
}

static void limits_ignores_unterminated_last_line(void **state)
{
	(void)state;
	uint64_t soft;
	/* "1024" cut from "102400" */
	assert_int_equal(limits_of(text("Max open files            1024 102400"), &soft), -1);
}

/* ---- cgroup ---- */

static void cgroup_prefers_the_unified_hierarchy(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(fixture("proc/4242/cgroup"), path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/worker.service");
	assert_int_equal(
	    cgroup_of(text("4:memory:/a\n0::/b\n1:name=systemd:/c\n"), path, sizeof(path)), 0);
	assert_string_equal(path, "/b");
}

static void cgroup_reads_a_pure_v2_system(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(
	    cgroup_of(text("0::/user.slice/user-1000.slice/session-2.scope\n"), path, sizeof(path)),
	    0);
	assert_string_equal(path, "/user.slice/user-1000.slice/session-2.scope");
}

static void cgroup_on_v1_only_takes_the_systemd_hierarchy(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(text("4:memory:/mem\n"
	                                "3:cpu,cpuacct:/cpu\n"
	                                "1:name=systemd:/system.slice/cron.service\n"),
	                           path, sizeof(path)),
	                 0);
	assert_string_equal(path, "/system.slice/cron.service");
}

static void cgroup_on_v1_without_systemd_takes_the_first_line(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(text("4:memory:/mem\n3:cpu,cpuacct:/cpu\n"), path, sizeof(path)),
	                 0);
	assert_string_equal(path, "/mem");
}

static void cgroup_path_may_contain_colons(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(text("0::/a:b::c\n"), path, sizeof(path)), 0);
	assert_string_equal(path, "/a:b::c");
}

static void cgroup_skips_lines_without_the_three_fields(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(text("garbage\n"
	                                "x::/not-an-id\n"
	                                "0:/only-two-fields\n"
	                                "0::\n"
	                                "5:pids:/good\n"),
	                           path, sizeof(path)),
	                 0);
	assert_string_equal(path, "/good");
}

static void cgroup_rejects_input_without_a_valid_line(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(cgroup_of(text(""), path, sizeof(path)), -1);
	assert_int_equal(cgroup_of(text("0::/cut-short"), path, sizeof(path)), -1);
	assert_int_equal(cgroup_of(text("just text\n"), path, sizeof(path)), -1);
}

/* ---- every parser, on input no kernel writes ---- */

/* Run all five parsers on `b`; each must return 0 or -1 and, for cgroup, point within `b`. */
/* ---- stat and the effective uid, for exec events ---- */

static void stat_gives_comm_and_start_ticks(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/4242/stat");
	char comm[16];
	uint64_t start;
	assert_int_equal(parse_pid_stat_start(b.data, b.len, comm, &start), 0);
	assert_string_equal(comm, "python3");
	assert_int_equal(start, 933431);
	free(b.data);
}

static void stat_comm_may_hold_parentheses_spaces_and_newlines(void **state)
{
	(void)state;
	static const char text[] = "77 (a) b\n(c ) d) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 "
	                           "4242 0 0\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	char comm[16];
	uint64_t start;
	assert_int_equal(parse_pid_stat_start(b.data, b.len, comm, &start), 0);
	assert_string_equal(comm, "a) b\n(c ) d");
	assert_int_equal(start, 4242);
	free(b.data);
	static const char longer[] =
	    "8 (0123456789abcdefghij) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
	    "0 99";
	b = copy_bytes(longer, sizeof(longer) - 1); /* no newline at the end */
	assert_int_equal(parse_pid_stat_start(b.data, b.len, comm, &start), 0);
	assert_string_equal(comm, "0123456789abcde");
	assert_int_equal(start, 99);
	free(b.data);
}

static void stat_without_a_start_time_is_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "1 (x S 1 1",
	    "1 x) S 1",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bytes b = copy_bytes(bad[i], strlen(bad[i]));
		char comm[16];
		uint64_t start = 1;
		assert_int_equal(parse_pid_stat_start(b.data, b.len, comm, &start), -1);
		assert_int_equal(start, 0);
		assert_string_equal(comm, "");
		free(b.data);
	}
}

static void status_gives_the_effective_uid(void **state)
{
	(void)state;
	static const char text[] = "Name:\tx\nUid:\t1000\t33\t33\t33\nGid:\t5\t5\t5\t5\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	unsigned uid;
	assert_int_equal(parse_pid_status_euid(b.data, b.len, &uid), 0);
	assert_int_equal(uid, 33);
	free(b.data);
	b = fixture("proc/4242/status");
	assert_int_equal(parse_pid_status_euid(b.data, b.len, &uid), 0);
	assert_int_equal(uid, 0);
	free(b.data);
	static const char *const bad[] = {"Name:\tx\n", "Uid:\t1000\n", "Uid:\t1 4294967296\n",
	                                  "Uid:\t1 2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = copy_bytes(bad[i], strlen(bad[i]));
		assert_int_equal(parse_pid_status_euid(b.data, b.len, &uid), -1);
		free(b.data);
	}
}

static void parse_all(const struct bytes *b)
{
	struct pid_status st;
	struct pid_io io;
	struct pid_schedstat ss;
	uint64_t soft;
	const char *p;
	size_t n;
	int rc = parse_pid_status(b->data, b->len, &st);
	assert_true(rc == 0 || rc == -1);
	if (rc == 0)
		assert_true(st.present & PID_STATUS_CTXT);
	rc = parse_pid_io(b->data, b->len, &io);
	assert_true(rc == 0 || rc == -1);
	rc = parse_pid_schedstat(b->data, b->len, &ss);
	assert_true(rc == 0 || rc == -1);
	rc = parse_pid_limits_nofile(b->data, b->len, &soft);
	assert_true(rc == 0 || rc == -1);
	rc = parse_pid_cgroup(b->data, b->len, &p, &n);
	assert_true(rc == 0 || rc == -1);
	if (rc == 0)
		assert_true(p >= b->data && n > 0 && n <= b->len &&
		            (size_t)(p - b->data) <= b->len - n);
	char comm[16];
	uint64_t start;
	unsigned uid;
	rc = parse_pid_stat_start(b->data, b->len, comm, &start);
	assert_true((rc == 0 || rc == -1) && strlen(comm) <= 15);
	rc = parse_pid_status_euid(b->data, b->len, &uid);
	assert_true(rc == 0 || rc == -1);
}

static void every_parser_survives_garbage_bytes(void **state)
{
	(void)state;
	for_each_garbage_input("0123456789 \t\n:kBVmRSSHWMrcharunlimitedMax open files", 4242,
	                       parse_all);
}

/* Every prefix of every fixture, in its own exact-size block: a parse that succeeds on a prefix
 * reports the same values as on the whole file (a cut line is dropped, never read short). */
static void every_prefix_of_every_fixture_is_safe(void **state)
{
	(void)state;
	static const char *const pids[] = {"4242", "4243", "2"};
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		char path[64];
		struct pid_status st_whole, st;
		snprintf(path, sizeof(path), "proc/%s/status", pids[i]);
		assert_int_equal(status_of(fixture(path), &st_whole), 0);
		struct bytes whole = fixture(path);
		for (size_t len = 0; len <= whole.len; len++) {
			struct bytes b = copy_bytes(whole.data, len);
			parse_all(&b);
			if (parse_pid_status(b.data, b.len, &st) == 0) {
				assert_int_equal(st.voluntary_ctxt, st_whole.voluntary_ctxt);
				assert_int_equal(st.nonvoluntary_ctxt, st_whole.nonvoluntary_ctxt);
				assert_int_equal(st.present & ~st_whole.present, 0);
				assert_int_equal(st.rss_bytes, st_whole.rss_bytes);
			}
			free(b.data);
		}
		free(whole.data);

		static const char *const files[] = {"io", "schedstat", "limits", "cgroup", "stat"};
		for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
			snprintf(path, sizeof(path), "proc/%s/%s", pids[i], files[f]);
			whole = fixture(path);
			for (size_t len = 0; len <= whole.len; len++) {
				struct bytes b = copy_bytes(whole.data, len);
				parse_all(&b);
				free(b.data);
			}
			free(whole.data);
		}
	}
}

static void a_cut_schedstat_or_limits_is_never_read_short(void **state)
{
	(void)state;
	struct bytes whole = fixture("proc/4242/schedstat");
	for (size_t len = 0; len < whole.len; len++) {
		struct pid_schedstat s;
		assert_int_equal(schedstat_of(copy_bytes(whole.data, len), &s), -1);
	}
	free(whole.data);
	whole = fixture("proc/4242/limits");
	for (size_t len = 0; len <= whole.len; len++) {
		uint64_t soft;
		if (limits_of(copy_bytes(whole.data, len), &soft) == 0)
			assert_int_equal(soft, 1024);
	}
	free(whole.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(status_reads_context_switches_and_memory),
	    cmocka_unit_test(status_of_a_zombie_has_context_switches_but_no_memory),
	    cmocka_unit_test(status_of_a_kernel_thread_has_context_switches_but_no_memory),
	    cmocka_unit_test(status_rejects_a_missing_context_switch_line),
	    cmocka_unit_test(status_treats_a_vm_line_whose_bytes_overflow_as_absent),
	    cmocka_unit_test(status_rejects_a_context_switch_count_that_overflows),
	    cmocka_unit_test(status_counts_a_vm_line_only_in_kilobytes),
	    cmocka_unit_test(status_ignores_unknown_and_malformed_lines),
	    cmocka_unit_test(status_keeps_the_first_of_duplicate_lines),
	    cmocka_unit_test(status_ignores_unterminated_last_line),
	    cmocka_unit_test(status_rejects_empty_input),
	    cmocka_unit_test(io_reads_all_six_counters),
	    cmocka_unit_test(io_of_a_kernel_thread_is_all_zeros),
	    cmocka_unit_test(io_rejects_a_missing_counter),
	    cmocka_unit_test(io_rejects_a_counter_that_overflows),
	    cmocka_unit_test(io_ignores_unknown_lines_and_keeps_the_first_duplicate),
	    cmocka_unit_test(io_ignores_unterminated_last_line),
	    cmocka_unit_test(schedstat_reads_three_numbers),
	    cmocka_unit_test(schedstat_ignores_numbers_past_the_third),
	    cmocka_unit_test(schedstat_rejects_fewer_than_three_numbers),
	    cmocka_unit_test(schedstat_rejects_a_number_that_overflows_or_is_not_one),
	    cmocka_unit_test(schedstat_rejects_input_without_trailing_newline),
	    cmocka_unit_test(limits_reads_the_soft_open_files_limit),
	    cmocka_unit_test(limits_reads_unlimited_as_the_unlimited_value),
	    cmocka_unit_test(limits_parses_by_tokens_not_by_columns),
	    cmocka_unit_test(limits_does_not_take_another_line_for_open_files),
	    cmocka_unit_test(limits_rejects_a_line_without_both_limits),
	    cmocka_unit_test(limits_rejects_a_soft_limit_that_overflows),
	    cmocka_unit_test(limits_ignores_unterminated_last_line),
	    cmocka_unit_test(cgroup_prefers_the_unified_hierarchy),
	    cmocka_unit_test(cgroup_reads_a_pure_v2_system),
	    cmocka_unit_test(cgroup_on_v1_only_takes_the_systemd_hierarchy),
	    cmocka_unit_test(cgroup_on_v1_without_systemd_takes_the_first_line),
	    cmocka_unit_test(cgroup_path_may_contain_colons),
	    cmocka_unit_test(cgroup_skips_lines_without_the_three_fields),
	    cmocka_unit_test(cgroup_rejects_input_without_a_valid_line),
	    cmocka_unit_test(stat_gives_comm_and_start_ticks),
	    cmocka_unit_test(stat_comm_may_hold_parentheses_spaces_and_newlines),
	    cmocka_unit_test(stat_without_a_start_time_is_refused),
	    cmocka_unit_test(status_gives_the_effective_uid),
	    cmocka_unit_test(every_parser_survives_garbage_bytes),
	    cmocka_unit_test(every_prefix_of_every_fixture_is_safe),
	    cmocka_unit_test(a_cut_schedstat_or_limits_is_never_read_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
