/* The /proc parsers, specified by example: real files from a 6.x kernel (tests/fixtures/proc),
 * hand-written files from older kernels (tests/fixtures/variants), and hostile input.
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

#include "procfs_parse.h"

#include "test_bytes.h"

/* ---- one wrapper per parser, taking a C string as an unterminated buffer ---- */

static int stat_of(const char *text, struct proc_stat *out)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_proc_stat(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int meminfo_of(const char *text, struct kv_field *fields, size_t n)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_meminfo(b.data, b.len, fields, n);
	free(b.data);
	return rc;
}

static int vmstat_of(const char *text, struct kv_field *fields, size_t n)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_vmstat(b.data, b.len, fields, n);
	free(b.data);
	return rc;
}

static int loadavg_of(const char *text, struct loadavg *out)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_loadavg(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int pressure_of(const char *text, struct pressure *out)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_pressure(b.data, b.len, out);
	free(b.data);
	return rc;
}

#define MAX_SOFTIRQS 32

static int softirqs_of(const char *text, struct softirq_total *out, size_t *n)
{
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_softirqs(b.data, b.len, out, MAX_SOFTIRQS, n);
	free(b.data);
	return rc;
}

static int stat_fixture(const char *relpath, struct proc_stat *out)
{
	struct bytes b = fixture(relpath);
	int rc = parse_proc_stat(b.data, b.len, out);
	free(b.data);
	return rc;
}

static int pressure_fixture(const char *relpath, struct pressure *out)
{
	struct bytes b = fixture(relpath);
	int rc = parse_pressure(b.data, b.len, out);
	free(b.data);
	return rc;
}

static const char *field_names[] = {"MemTotal",     "MemFree",         "Active",
                                    "Active(anon)", "HugePages_Total", "Hugepagesize"};
enum { MEM_TOTAL, MEM_FREE, MEM_ACTIVE, MEM_ACTIVE_ANON, MEM_HUGEPAGES_TOTAL, MEM_HUGEPAGESIZE };
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

static void meminfo_fields(struct kv_field *fields)
{
	for (size_t i = 0; i < NFIELDS; i++)
		fields[i] = (struct kv_field){.key = field_names[i]};
}

static int meminfo_fixture(struct kv_field *fields)
{
	struct bytes b = fixture("proc/meminfo");
	meminfo_fields(fields);
	int rc = parse_meminfo(b.data, b.len, fields, NFIELDS);
	free(b.data);
	return rc;
}

/* ---- /proc/stat ---- */

static void stat_reads_aggregate_cpu_ticks(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("proc/stat", &s), 0);
	/* cpu  3615 0 4316 1713464 371 0 168 0 0 0 */
	assert_int_equal(s.cpu_modes, 10);
	assert_int_equal(s.cpu_ticks[CPU_USER], 3615);
	assert_int_equal(s.cpu_ticks[CPU_NICE], 0);
	assert_int_equal(s.cpu_ticks[CPU_SYSTEM], 4316);
	assert_int_equal(s.cpu_ticks[CPU_IDLE], 1713464);
	assert_int_equal(s.cpu_ticks[CPU_IOWAIT], 371);
	assert_int_equal(s.cpu_ticks[CPU_SOFTIRQ], 168);
}

static void stat_counts_cpu_lines(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("proc/stat", &s), 0);
	assert_int_equal(s.cpus, 2);
}

static void stat_reads_single_value_lines(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("proc/stat", &s), 0);
	assert_int_equal(s.present, PROC_STAT_CTXT | PROC_STAT_INTR | PROC_STAT_PROCESSES |
	                                PROC_STAT_BTIME | PROC_STAT_PROCS_RUNNING |
	                                PROC_STAT_PROCS_BLOCKED);
	assert_int_equal(s.ctxt, 480520);
	assert_int_equal(s.processes, 4309);
	assert_int_equal(s.btime, 1795417116);
	assert_int_equal(s.procs_running, 1);
	assert_int_equal(s.procs_blocked, 0);
}

static void stat_reads_first_number_of_intr_line(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("proc/stat", &s), 0);
	assert_int_equal(s.intr, 333517);
}

static void stat_reads_old_kernel_with_four_cpu_columns(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("variants/stat-linux-2.4", &s), 0);
	assert_int_equal(s.cpu_modes, 4);
	assert_int_equal(s.cpu_ticks[CPU_USER], 1139);
	assert_int_equal(s.cpu_ticks[CPU_IDLE], 81231);
	assert_int_equal(s.cpu_ticks[CPU_IOWAIT], 0);
	assert_int_equal(s.cpus, 2);
}

static void stat_marks_lines_an_old_kernel_lacks_as_absent(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_fixture("variants/stat-linux-2.4", &s), 0);
	assert_int_equal(s.present,
	                 PROC_STAT_CTXT | PROC_STAT_INTR | PROC_STAT_PROCESSES | PROC_STAT_BTIME);
	assert_int_equal(s.ctxt, 21283);
}

static void stat_rejects_missing_cpu_line(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu0 1 2 3 4\nctxt 5\n", &s), -1);
}

static void stat_rejects_cpu_line_with_fewer_than_four_numbers(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3\n", &s), -1);
}

static void stat_rejects_cpu_line_with_a_non_numeric_column(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3 4 x5\n", &s), -1);
	assert_int_equal(stat_of("cpu  1 2 -3 4\n", &s), -1);
}

static void stat_ignores_cpu_columns_past_the_tenth(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3 4 5 6 7 8 9 10 11 12\n", &s), 0);
	assert_int_equal(s.cpu_modes, 10);
	assert_int_equal(s.cpu_ticks[CPU_GUEST_NICE], 10);
}

static void stat_accepts_the_largest_64_bit_number(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  18446744073709551615 0 0 0\n", &s), 0);
	assert_true(s.cpu_ticks[CPU_USER] == UINT64_MAX);
}

static void stat_rejects_cpu_line_whose_number_overflows(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  18446744073709551616 0 0 0\n", &s), -1);
	assert_int_equal(stat_of("cpu  99999999999999999999999 0 0 0\n", &s), -1);
}

static void stat_drops_a_value_line_whose_number_overflows(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3 4\nctxt 18446744073709551616\nbtime 7\n", &s), 0);
	assert_false(s.present & PROC_STAT_CTXT);
	assert_int_equal(s.ctxt, 0);
	assert_int_equal(s.btime, 7);
}

static void stat_ignores_unterminated_last_line(void **state)
{
	(void)state;
	struct proc_stat s;
	/* "ctxt 4734" may be "ctxt 473474" cut short: a wrong value is worse than none. */
	assert_int_equal(stat_of("cpu  1 2 3 4\nctxt 4734", &s), 0);
	assert_false(s.present & PROC_STAT_CTXT);
	assert_int_equal(stat_of("cpu  1 2 3 4", &s), -1);
}

static void stat_accepts_tabs_and_extra_spaces(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("\tcpu\t1  2\t3 4  \nctxt\t\t9 \n", &s), 0);
	assert_int_equal(s.cpu_ticks[CPU_IDLE], 4);
	assert_int_equal(s.ctxt, 9);
}

static void stat_keeps_the_first_of_duplicate_lines(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3 4\ncpu  5 6 7 8\nctxt 1\nctxt 2\n", &s), 0);
	assert_int_equal(s.cpu_ticks[CPU_USER], 1);
	assert_int_equal(s.ctxt, 1);
}

static void stat_does_not_take_cpu_prefixed_words_for_cpus(void **state)
{
	(void)state;
	struct proc_stat s;
	assert_int_equal(stat_of("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpux 1\ncpus 2\ncpu 5\n", &s), 0);
	assert_int_equal(s.cpus, 1);
}

static void stat_reads_a_megabyte_long_intr_line(void **state)
{
	(void)state;
	const char head[] = "cpu  1 2 3 4\nintr 123";
	const char tail[] = "\nctxt 77\n";
	size_t pairs = 1u << 19, len = sizeof(head) - 1 + pairs * 2 + sizeof(tail) - 1;
	char *text = malloc(len);
	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	for (size_t i = 0; i < pairs; i++)
		memcpy(text + sizeof(head) - 1 + 2 * i, " 0", 2);
	memcpy(text + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	struct proc_stat s;
	assert_int_equal(parse_proc_stat(text, len, &s), 0);
	assert_int_equal(s.intr, 123);
	assert_int_equal(s.ctxt, 77);
	free(text);
}

/* ---- /proc/stat, per CPU ---- */

static size_t cpus_of(const char *text, struct cpu_line *out, size_t max)
{
	return parse_proc_stat_cpus(text, strlen(text), out, max);
}

static void stat_cpus_reads_each_cpu_line(void **state)
{
	(void)state;
	struct cpu_line c[4];
	assert_int_equal(cpus_of("cpu  3 0 3 3 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	                         "intr 5\ncpu3 4 0 4 4\n",
	                         c, 4),
	                 2);
	assert_int_equal(c[0].cpu, 0);
	assert_int_equal(c[0].modes, 10);
	assert_int_equal(c[0].ticks[CPU_IOWAIT], 5);
	assert_int_equal(c[0].ticks[CPU_GUEST_NICE], 10);
	/* An offline cpu1 is not listed; cpu3 had the four columns of Linux 2.4. */
	assert_int_equal(c[1].cpu, 3);
	assert_int_equal(c[1].modes, 4);
	assert_int_equal(c[1].ticks[CPU_IDLE], 4);
	assert_int_equal(c[1].ticks[CPU_IOWAIT], 0);
}

static void stat_cpus_leaves_out_broken_and_repeated_lines(void **state)
{
	(void)state;
	struct cpu_line c[8];
	assert_int_equal(cpus_of("cpu0 1 1 1\ncpu0 1 x 1 1\ncpu1 1 1 1 1\ncpu1 2 2 2 2\n"
	                         "cpu0 3 3 3 3\ncpux 1 1 1 1\ncpu99999999999 1 1 1 1\n"
	                         "cpu2 4 4 4 4",
	                         c, 8),
	                 1);
	assert_int_equal(c[0].cpu, 1);
	assert_int_equal(c[0].ticks[CPU_USER], 1);
}

static void stat_cpus_stops_at_max(void **state)
{
	(void)state;
	struct cpu_line c[2];
	assert_int_equal(cpus_of("cpu0 1 1 1 1\ncpu1 1 1 1 1\ncpu2 1 1 1 1\n", c, 2), 2);
	assert_int_equal(c[1].cpu, 1);
	assert_int_equal(cpus_of("cpu0 1 1 1 1\n", c, 0), 0);
}

/* ---- /proc/meminfo ---- */

static void meminfo_converts_kb_to_bytes(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	assert_int_equal(meminfo_fixture(f), 0);
	assert_true(f[MEM_TOTAL].found);
	assert_int_equal(f[MEM_TOTAL].value, 24683620ull * 1024);
	assert_int_equal(f[MEM_HUGEPAGESIZE].value, 2048 * 1024);
}

static void meminfo_keeps_values_without_unit(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	assert_int_equal(meminfo_of("HugePages_Total:      17\n", f, NFIELDS), 0);
	assert_true(f[MEM_HUGEPAGES_TOTAL].found);
	assert_int_equal(f[MEM_HUGEPAGES_TOTAL].value, 17);
}

static void meminfo_matches_keys_with_parentheses_exactly(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	assert_int_equal(meminfo_fixture(f), 0);
	assert_int_equal(f[MEM_ACTIVE_ANON].value, 1484 * 1024);
	assert_int_equal(f[MEM_ACTIVE].value, 9724 * 1024); /* not Active(anon) nor Active(file) */
}

static void meminfo_leaves_absent_keys_not_found(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	f[MEM_FREE].found = true; /* stale from an earlier scrape */
	f[MEM_FREE].value = 99;
	assert_int_equal(meminfo_of("MemTotal:  1 kB\nMemFreeX:  2 kB\n", f, NFIELDS), 0);
	assert_false(f[MEM_FREE].found);
	assert_int_equal(f[MEM_FREE].value, 0);
}

static void meminfo_drops_a_line_whose_bytes_overflow(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	/* 2^54 kB is 2^64 bytes. */
	assert_int_equal(meminfo_of("MemTotal: 18014398509481984 kB\nMemFree: 1 kB\n", f, NFIELDS),
	                 0);
	assert_false(f[MEM_TOTAL].found);
	assert_true(f[MEM_FREE].found);
}

static void meminfo_drops_a_line_with_an_unknown_unit(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	assert_int_equal(meminfo_of("MemTotal: 5 MB\n", f, NFIELDS), -1);
	assert_false(f[MEM_TOTAL].found);
}

static void meminfo_drops_lines_without_colon_or_number(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	assert_int_equal(meminfo_of("MemTotal 5 kB\nMemFree:\n: 3 kB\nActive: kB\n", f, NFIELDS),
	                 -1);
	for (size_t i = 0; i < NFIELDS; i++)
		assert_false(f[i].found);
}

static void meminfo_ignores_unterminated_last_line(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	/* "Hugepagesize: 2048 k" could be kB cut short, and the value would be off by 1024. */
	assert_int_equal(meminfo_of("MemTotal: 1 kB\nHugepagesize: 2048 kB", f, NFIELDS), 0);
	assert_false(f[MEM_HUGEPAGESIZE].found);
}

static void meminfo_rejects_empty_input(void **state)
{
	(void)state;
	struct kv_field f[NFIELDS];
	meminfo_fields(f);
	assert_int_equal(meminfo_of("", f, NFIELDS), -1);
	assert_int_equal(parse_meminfo(NULL, 0, f, NFIELDS), -1);
}

/* ---- /proc/vmstat ---- */

static void vmstat_reads_counters(void **state)
{
	(void)state;
	struct kv_field f[] = {{.key = "pgfault"}, {.key = "pgpgin"}, {.key = "oom_kill"}};
	struct bytes b = fixture("proc/vmstat");
	assert_int_equal(parse_vmstat(b.data, b.len, f, 3), 0);
	free(b.data);
	assert_int_equal(f[0].value, 1368879);
	assert_int_equal(f[1].value, 1222517);
	assert_true(f[2].found);
	assert_int_equal(f[2].value, 0);
}

static void vmstat_matches_whole_keys_only(void **state)
{
	(void)state;
	struct kv_field f[] = {{.key = "pgscan_direct"}};
	assert_int_equal(vmstat_of("pgscan_direct_throttle 5\n", f, 1), 0);
	assert_false(f[0].found);
}

static void vmstat_drops_malformed_lines(void **state)
{
	(void)state;
	struct kv_field f[] = {{.key = "a"}, {.key = "b"}, {.key = "c"}, {.key = "d"}};
	assert_int_equal(vmstat_of("a 1 2\nb x\nc\nd 4\n", f, 4), 0);
	assert_false(f[0].found);
	assert_false(f[1].found);
	assert_false(f[2].found);
	assert_int_equal(f[3].value, 4);
}

static void vmstat_rejects_input_without_a_valid_line(void **state)
{
	(void)state;
	struct kv_field f[] = {{.key = "pgfault"}};
	assert_int_equal(vmstat_of("", f, 1), -1);
	assert_int_equal(vmstat_of("pgfault\n\n\n", f, 1), -1);
	assert_int_equal(vmstat_of("pgfault 12", f, 1), -1);
}

/* ---- /proc/loadavg ---- */

static void loadavg_reads_loads_and_threads(void **state)
{
	(void)state;
	struct loadavg l;
	struct bytes b = fixture("proc/loadavg");
	assert_int_equal(parse_loadavg(b.data, b.len, &l), 0);
	free(b.data);
	/* 0.03 0.07 0.02 1/81 4311 */
	assert_true(l.load1 == 0.03);
	assert_true(l.load5 == 0.07);
	assert_true(l.load15 == 0.02);
	assert_int_equal(l.runnable, 1);
	assert_int_equal(l.threads, 81);
}

static void loadavg_reads_decimals_as_strtod_would(void **state)
{
	(void)state;
	struct loadavg l;
	assert_int_equal(loadavg_of("123.45 7 0.1 10/20 1\n", &l), 0);
	assert_true(l.load1 == 123.45);
	assert_true(l.load5 == 7.0);
	assert_true(l.load15 == 0.1);
}

static void loadavg_rejects_numbers_strtod_would_take(void **state)
{
	(void)state;
	struct loadavg l;
	assert_int_equal(loadavg_of("nan 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("1e3 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("-1.0 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("0x10 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of(".5 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("5. 0.1 0.1 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("1.2.3 0.1 0.1 1/2 3\n", &l), -1);
}

static void loadavg_rejects_missing_fields(void **state)
{
	(void)state;
	struct loadavg l;
	assert_int_equal(loadavg_of("0.1 0.2 0.3\n", &l), -1);
	assert_int_equal(loadavg_of("0.1 0.2 0.3 12\n", &l), -1);
	assert_int_equal(loadavg_of("0.1 0.2 0.3 /12\n", &l), -1);
	assert_int_equal(loadavg_of("0.1 0.2 0.3 1/\n", &l), -1);
}

static void loadavg_rejects_input_without_trailing_newline(void **state)
{
	(void)state;
	struct loadavg l;
	assert_int_equal(loadavg_of("0.52 0.58 0.59 3/1075 123456", &l), -1);
}

static void loadavg_rejects_a_load_with_too_many_digits(void **state)
{
	(void)state;
	struct loadavg l;
	assert_int_equal(loadavg_of("1.00000000000000000000001 0 0 1/2 3\n", &l), -1);
	assert_int_equal(loadavg_of("99999999999999999999.5 0 0 1/2 3\n", &l), -1);
}

/* ---- /proc/pressure ---- */

static void pressure_reads_some_and_full(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_fixture("proc/pressure/io", &p), 0);
	/* some avg10=0.00 avg60=0.00 avg300=0.12 total=3292481
	 * full avg10=0.00 avg60=0.00 avg300=0.11 total=3061737 */
	assert_true(p.some.present);
	assert_true(p.some.avg300 == 0.12);
	assert_int_equal(p.some.total_us, 3292481);
	assert_true(p.full.present);
	assert_true(p.full.avg300 == 0.11);
	assert_int_equal(p.full.total_us, 3061737);
}

static void pressure_reads_every_fixture_resource(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_fixture("proc/pressure/cpu", &p), 0);
	assert_int_equal(p.some.total_us, 9621525);
	assert_true(p.some.avg60 == 0.17);
	assert_int_equal(pressure_fixture("proc/pressure/memory", &p), 0);
	assert_true(p.full.present);
	assert_int_equal(p.full.total_us, 0);
}

static void pressure_without_full_line_is_valid(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_fixture("variants/pressure-cpu-linux-5.12", &p), 0);
	assert_true(p.some.present);
	assert_true(p.some.avg10 == 1.53);
	assert_int_equal(p.some.total_us, 123456789);
	assert_false(p.full.present);
}

static void pressure_rejects_missing_some_line(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_of("full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", &p), -1);
}

static void pressure_rejects_a_line_missing_a_field(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_of("some avg10=0.00 avg60=0.00 avg300=0.00\n", &p), -1);
	assert_int_equal(pressure_of("some avg10=0.00 avg60=0.00 total=5\n", &p), -1);
}

static void pressure_rejects_a_malformed_field(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_of("some avg10=0.00 avg60=0.00 avg300=0.00 total=5x\n", &p), -1);
	assert_int_equal(pressure_of("some avg10=0.00 avg60 avg300=0.00 total=5\n", &p), -1);
	assert_int_equal(pressure_of("some avg10= avg60=0.00 avg300=0.00 total=5\n", &p), -1);
}

static void pressure_ignores_fields_it_does_not_know(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(
	    pressure_of("some avg10=0.00 avg60=0.00 avg300=0.00 avg3600=0.01 total=5\n", &p), 0);
	assert_int_equal(p.some.total_us, 5);
}

static void pressure_ignores_an_invalid_full_line(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_of("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"
	                             "full avg10=0.00 total=x\n",
	                             &p),
	                 0);
	assert_false(p.full.present);
}

static void pressure_rejects_unterminated_some_line(void **state)
{
	(void)state;
	struct pressure p;
	assert_int_equal(pressure_of("some avg10=0.00 avg60=0.00 avg300=0.00 total=5", &p), -1);
}

/* ---- /proc/softirqs ---- */

static void softirqs_sums_each_row_over_cpus(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	struct bytes b = fixture("proc/softirqs");
	assert_int_equal(parse_softirqs(b.data, b.len, t, MAX_SOFTIRQS, &n), 0);
	free(b.data);
	assert_int_equal(n, 10);
	assert_string_equal(t[1].name, "TIMER");
	assert_int_equal(t[1].total, 44190 + 41468);
	assert_string_equal(t[3].name, "NET_RX");
	assert_int_equal(t[3].total, 1085 + 1213);
}

static void softirqs_keeps_kernel_names_without_leading_spaces(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	assert_int_equal(softirqs_of("   CPU0\n          HI:    5\n    IRQ_POLL:   7\n", t, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].name, "HI");
	assert_string_equal(t[1].name, "IRQ_POLL");
}

static void softirqs_truncates_long_names(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	assert_int_equal(softirqs_of("CPU0\nABCDEFGHIJKLMNOPQRSTUVWXYZ: 1\n", t, &n), 0);
	assert_int_equal(strlen(t[0].name), SOFTIRQ_NAME_MAX - 1);
	assert_memory_equal(t[0].name, "ABCDEFGHIJKLMNOPQRSTUVW", SOFTIRQ_NAME_MAX);
}

static void softirqs_fills_at_most_max_entries(void **state)
{
	(void)state;
	struct softirq_total t[2];
	size_t n;
	struct bytes b = fixture("proc/softirqs");
	assert_int_equal(parse_softirqs(b.data, b.len, t, 2, &n), 0);
	free(b.data);
	assert_int_equal(n, 2);
	assert_string_equal(t[1].name, "TIMER");
}

static void softirqs_rejects_missing_header(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	assert_int_equal(softirqs_of("  HI: 1 2\n  TIMER: 3 4\n", t, &n), -1);
	assert_int_equal(softirqs_of("\n  HI: 1 2\n", t, &n), -1);
	assert_int_equal(softirqs_of("CPU0 CPUx\n  HI: 1 2\n", t, &n), -1);
	assert_int_equal(n, 0);
}

static void softirqs_drops_invalid_rows(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	assert_int_equal(softirqs_of("CPU0 CPU1\n"
	                             "  HI: 1 x\n"
	                             "  NET RX: 1 2\n"
	                             "  TIMER:\n"
	                             "  :  1 2\n"
	                             "  BLOCK: 18446744073709551615 1\n"
	                             "  RCU: 3 4\n",
	                             t, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].name, "RCU");
	assert_int_equal(t[0].total, 7);
}

static void softirqs_rejects_input_where_every_row_is_invalid(void **state)
{
	(void)state;
	struct softirq_total t[MAX_SOFTIRQS];
	size_t n;
	assert_int_equal(softirqs_of("CPU0\n  HI: x\n", t, &n), -1);
	assert_int_equal(softirqs_of("CPU0\n", t, &n), -1);
	assert_int_equal(softirqs_of("CPU0\n  HI: 1", t, &n), -1);
}

/* ---- every parser against hostile input ---- */

static void every_parser_rejects_empty_input(void **state)
{
	(void)state;
	struct proc_stat s;
	struct kv_field f[] = {{.key = "x"}};
	struct loadavg l;
	struct pressure p;
	struct softirq_total t[1];
	size_t n;
	const char *empty = "";
	for (int i = 0; i < 2; i++) {
		const char *buf = i ? empty : NULL;
		assert_int_equal(parse_proc_stat(buf, 0, &s), -1);
		assert_int_equal(parse_meminfo(buf, 0, f, 1), -1);
		assert_int_equal(parse_vmstat(buf, 0, f, 1), -1);
		assert_int_equal(parse_loadavg(buf, 0, &l), -1);
		assert_int_equal(parse_pressure(buf, 0, &p), -1);
		assert_int_equal(parse_softirqs(buf, 0, t, 1, &n), -1);
	}
}

/* Runs every parser over `b` and checks what a successful parse promises. */
static void parse_all_and_check_invariants(const struct bytes *b)
{
	struct proc_stat s;
	struct kv_field f[] = {{.key = "MemTotal"}, {.key = "pgfault"}};
	struct loadavg l;
	struct pressure p;
	struct softirq_total t[4];
	size_t n = 99;
	int rc = parse_proc_stat(b->data, b->len, &s);
	assert_true(rc == -1 || (rc == 0 && s.cpu_modes >= 4 && s.cpu_modes <= 10));
	rc = parse_meminfo(b->data, b->len, f, 2);
	assert_true(rc == 0 || rc == -1);
	rc = parse_vmstat(b->data, b->len, f, 2);
	assert_true(rc == 0 || rc == -1);
	rc = parse_loadavg(b->data, b->len, &l);
	assert_true(rc == -1 || (rc == 0 && l.load1 >= 0 && l.load5 >= 0 && l.load15 >= 0));
	rc = parse_pressure(b->data, b->len, &p);
	assert_true(rc == -1 || (rc == 0 && p.some.present));
	rc = parse_softirqs(b->data, b->len, t, 4, &n);
	assert_true(rc == 0 || rc == -1);
	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++)
		assert_true(strlen(t[i].name) < SOFTIRQ_NAME_MAX);
}

static void garbage_bytes_never_crash_a_parser(void **state)
{
	(void)state;
	/* Mostly bytes that make the parsers go deep (digits, separators), plus any byte at all. */
	for_each_garbage_input("0123456789 \t\n:./=-cpuCPUkBsomefullavgtotal", 42,
	                       parse_all_and_check_invariants);
}

static void mutated_fixtures_never_crash_a_parser(void **state)
{
	(void)state;
	static const char *files[] = {
	    "proc/stat",     "proc/meminfo",      "proc/vmstat",      "proc/loadavg",
	    "proc/softirqs", "proc/pressure/cpu", "proc/pressure/io", "proc/pressure/memory"};
	uint32_t seed = 7;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct bytes original = fixture(files[i]);
		for (int round = 0; round < 300; round++) {
			struct bytes b = copy_bytes(original.data, original.len);
			for (int flips = 0; flips < 4 && b.len; flips++)
				b.data[next_random(&seed) % b.len] = (char)next_random(&seed);
			parse_all_and_check_invariants(&b);
			free(b.data);
		}
		free(original.data);
	}
}

/* The truncation tests: every prefix of a fixture, in its own exact-size block. A parse that
 * succeeds must agree with the whole file on every value it reports: a cut line is dropped,
 * never read as a smaller number. */
typedef void (*prefix_check)(const struct bytes *whole, const struct bytes *prefix);

static void for_every_prefix(const char *relpath, prefix_check check)
{
	struct bytes whole = fixture(relpath);
	for (size_t len = 0; len <= whole.len; len++) {
		struct bytes prefix = copy_bytes(whole.data, len);
		check(&whole, &prefix);
		free(prefix.data);
	}
	free(whole.data);
}

static void check_stat_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	struct proc_stat full, part;
	assert_int_equal(parse_proc_stat(whole->data, whole->len, &full), 0);
	int rc = parse_proc_stat(prefix->data, prefix->len, &part);
	if (rc == -1)
		return;
	assert_int_equal(rc, 0);
	assert_int_equal(part.cpu_modes, full.cpu_modes);
	assert_memory_equal(part.cpu_ticks, full.cpu_ticks, sizeof(full.cpu_ticks));
	assert_true(part.cpus <= full.cpus);
	assert_int_equal(part.present & ~full.present, 0);
	if (part.present & PROC_STAT_CTXT)
		assert_int_equal(part.ctxt, full.ctxt);
	if (part.present & PROC_STAT_INTR)
		assert_int_equal(part.intr, full.intr);
	if (part.present & PROC_STAT_PROCESSES)
		assert_int_equal(part.processes, full.processes);
	if (part.present & PROC_STAT_BTIME)
		assert_int_equal(part.btime, full.btime);
	if (part.present & PROC_STAT_PROCS_RUNNING)
		assert_int_equal(part.procs_running, full.procs_running);
	if (part.present & PROC_STAT_PROCS_BLOCKED)
		assert_int_equal(part.procs_blocked, full.procs_blocked);
}

static void check_kv_prefix(const struct bytes *whole, const struct bytes *prefix,
                            int (*parse)(const char *, size_t, struct kv_field *, size_t))
{
	static const char *keys[] = {"MemTotal",    "Hugepagesize", "HugePages_Total",
	                             "DirectMap2M", "pgfault",      "pgpgin",
	                             "oom_kill",    "nr_free_pages"};
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	struct kv_field full[NKEYS], part[NKEYS];
	for (size_t i = 0; i < NKEYS; i++)
		full[i] = part[i] = (struct kv_field){.key = keys[i]};
	assert_int_equal(parse(whole->data, whole->len, full, NKEYS), 0);
	int rc = parse(prefix->data, prefix->len, part, NKEYS);
	assert_true(rc == 0 || rc == -1);
	for (size_t i = 0; i < NKEYS; i++) {
		if (!part[i].found)
			continue;
		assert_true(full[i].found);
		assert_int_equal(part[i].value, full[i].value);
	}
}

static void check_meminfo_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	check_kv_prefix(whole, prefix, parse_meminfo);
}

static void check_vmstat_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	check_kv_prefix(whole, prefix, parse_vmstat);
}

static void check_loadavg_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	struct loadavg full, part;
	assert_int_equal(parse_loadavg(whole->data, whole->len, &full), 0);
	int rc = parse_loadavg(prefix->data, prefix->len, &part);
	if (rc == -1)
		return;
	assert_int_equal(rc, 0);
	assert_true(part.load1 == full.load1 && part.load5 == full.load5 &&
	            part.load15 == full.load15);
	assert_int_equal(part.runnable, full.runnable);
	assert_int_equal(part.threads, full.threads);
}

static void assert_same_pressure_line(const struct pressure_line *a, const struct pressure_line *b)
{
	assert_true(a->avg10 == b->avg10 && a->avg60 == b->avg60 && a->avg300 == b->avg300);
	assert_int_equal(a->total_us, b->total_us);
}

static void check_pressure_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	struct pressure full, part;
	assert_int_equal(parse_pressure(whole->data, whole->len, &full), 0);
	int rc = parse_pressure(prefix->data, prefix->len, &part);
	if (rc == -1)
		return;
	assert_int_equal(rc, 0);
	assert_same_pressure_line(&part.some, &full.some);
	if (part.full.present)
		assert_same_pressure_line(&part.full, &full.full);
}

static void check_softirqs_prefix(const struct bytes *whole, const struct bytes *prefix)
{
	struct softirq_total full[MAX_SOFTIRQS], part[MAX_SOFTIRQS];
	size_t nfull, npart;
	assert_int_equal(parse_softirqs(whole->data, whole->len, full, MAX_SOFTIRQS, &nfull), 0);
	int rc = parse_softirqs(prefix->data, prefix->len, part, MAX_SOFTIRQS, &npart);
	if (rc == -1)
		return;
	assert_int_equal(rc, 0);
	assert_true(npart >= 1 && npart <= nfull);
	for (size_t i = 0; i < npart; i++) {
		assert_string_equal(part[i].name, full[i].name);
		assert_int_equal(part[i].total, full[i].total);
	}
}

static void every_prefix_of_stat_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/stat", check_stat_prefix);
	for_every_prefix("variants/stat-linux-2.4", check_stat_prefix);
}

static void every_prefix_of_meminfo_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/meminfo", check_meminfo_prefix);
}

static void every_prefix_of_vmstat_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/vmstat", check_vmstat_prefix);
}

static void every_prefix_of_loadavg_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/loadavg", check_loadavg_prefix);
}

static void every_prefix_of_pressure_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/pressure/cpu", check_pressure_prefix);
	for_every_prefix("proc/pressure/memory", check_pressure_prefix);
	for_every_prefix("proc/pressure/io", check_pressure_prefix);
	for_every_prefix("variants/pressure-cpu-linux-5.12", check_pressure_prefix);
}

static void every_prefix_of_softirqs_is_safe(void **state)
{
	(void)state;
	for_every_prefix("proc/softirqs", check_softirqs_prefix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stat_reads_aggregate_cpu_ticks),
	    cmocka_unit_test(stat_counts_cpu_lines),
	    cmocka_unit_test(stat_cpus_reads_each_cpu_line),
	    cmocka_unit_test(stat_cpus_leaves_out_broken_and_repeated_lines),
	    cmocka_unit_test(stat_cpus_stops_at_max),
	    cmocka_unit_test(stat_reads_single_value_lines),
	    cmocka_unit_test(stat_reads_first_number_of_intr_line),
	    cmocka_unit_test(stat_reads_old_kernel_with_four_cpu_columns),
	    cmocka_unit_test(stat_marks_lines_an_old_kernel_lacks_as_absent),
	    cmocka_unit_test(stat_rejects_missing_cpu_line),
	    cmocka_unit_test(stat_rejects_cpu_line_with_fewer_than_four_numbers),
	    cmocka_unit_test(stat_rejects_cpu_line_with_a_non_numeric_column),
	    cmocka_unit_test(stat_ignores_cpu_columns_past_the_tenth),
	    cmocka_unit_test(stat_accepts_the_largest_64_bit_number),
	    cmocka_unit_test(stat_rejects_cpu_line_whose_number_overflows),
	    cmocka_unit_test(stat_drops_a_value_line_whose_number_overflows),
	    cmocka_unit_test(stat_ignores_unterminated_last_line),
	    cmocka_unit_test(stat_accepts_tabs_and_extra_spaces),
	    cmocka_unit_test(stat_keeps_the_first_of_duplicate_lines),
	    cmocka_unit_test(stat_does_not_take_cpu_prefixed_words_for_cpus),
	    cmocka_unit_test(stat_reads_a_megabyte_long_intr_line),
	    cmocka_unit_test(meminfo_converts_kb_to_bytes),
	    cmocka_unit_test(meminfo_keeps_values_without_unit),
	    cmocka_unit_test(meminfo_matches_keys_with_parentheses_exactly),
	    cmocka_unit_test(meminfo_leaves_absent_keys_not_found),
	    cmocka_unit_test(meminfo_drops_a_line_whose_bytes_overflow),
	    cmocka_unit_test(meminfo_drops_a_line_with_an_unknown_unit),
	    cmocka_unit_test(meminfo_drops_lines_without_colon_or_number),
	    cmocka_unit_test(meminfo_ignores_unterminated_last_line),
	    cmocka_unit_test(meminfo_rejects_empty_input),
	    cmocka_unit_test(vmstat_reads_counters),
	    cmocka_unit_test(vmstat_matches_whole_keys_only),
	    cmocka_unit_test(vmstat_drops_malformed_lines),
	    cmocka_unit_test(vmstat_rejects_input_without_a_valid_line),
	    cmocka_unit_test(loadavg_reads_loads_and_threads),
	    cmocka_unit_test(loadavg_reads_decimals_as_strtod_would),
	    cmocka_unit_test(loadavg_rejects_numbers_strtod_would_take),
	    cmocka_unit_test(loadavg_rejects_missing_fields),
	    cmocka_unit_test(loadavg_rejects_input_without_trailing_newline),
	    cmocka_unit_test(loadavg_rejects_a_load_with_too_many_digits),
	    cmocka_unit_test(pressure_reads_some_and_full),
	    cmocka_unit_test(pressure_reads_every_fixture_resource),
	    cmocka_unit_test(pressure_without_full_line_is_valid),
	    cmocka_unit_test(pressure_rejects_missing_some_line),
	    cmocka_unit_test(pressure_rejects_a_line_missing_a_field),
	    cmocka_unit_test(pressure_rejects_a_malformed_field),
	    cmocka_unit_test(pressure_ignores_fields_it_does_not_know),
	    cmocka_unit_test(pressure_ignores_an_invalid_full_line),
	    cmocka_unit_test(pressure_rejects_unterminated_some_line),
	    cmocka_unit_test(softirqs_sums_each_row_over_cpus),
	    cmocka_unit_test(softirqs_keeps_kernel_names_without_leading_spaces),
	    cmocka_unit_test(softirqs_truncates_long_names),
	    cmocka_unit_test(softirqs_fills_at_most_max_entries),
	    cmocka_unit_test(softirqs_rejects_missing_header),
	    cmocka_unit_test(softirqs_drops_invalid_rows),
	    cmocka_unit_test(softirqs_rejects_input_where_every_row_is_invalid),
	    cmocka_unit_test(every_parser_rejects_empty_input),
	    cmocka_unit_test(garbage_bytes_never_crash_a_parser),
	    cmocka_unit_test(mutated_fixtures_never_crash_a_parser),
	    cmocka_unit_test(every_prefix_of_stat_is_safe),
	    cmocka_unit_test(every_prefix_of_meminfo_is_safe),
	    cmocka_unit_test(every_prefix_of_vmstat_is_safe),
	    cmocka_unit_test(every_prefix_of_loadavg_is_safe),
	    cmocka_unit_test(every_prefix_of_pressure_is_safe),
	    cmocka_unit_test(every_prefix_of_softirqs_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
