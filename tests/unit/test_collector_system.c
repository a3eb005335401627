/* The system collector, run against the fixture /proc tree (tests/fixtures/proc, captured from a
 * 6.x kernel) and against temporary trees with files missing or broken. Expected values are
 * worked out by hand from the fixture files; USER_HZ is 100 on every Linux this runs on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "collector.h"
#include "expo.h"
#include "read_errors.h"

extern const struct collector_ops collector_system;

/* The files a temporary procfs may hold, so that teardown can remove them all. */
static const char *const proc_files[] = {
    "stat",     "meminfo",      "vmstat",          "loadavg",
    "softirqs", "pressure/cpu", "pressure/memory", "pressure/io"};
#define NPROC_FILES (sizeof(proc_files) / sizeof(proc_files[0]))

struct scrape {
	char procfs[4096];
	bool temporary; /* procfs is a directory this test made */
	struct read_errors *errors;
	struct collector_env env;
	void *collector;
	struct expo *expo;
	struct buf text;
};

static const char *fixtures_dir(void)
{
	const char *dir = getenv("KOBS_FIXTURES");
	return dir && *dir ? dir : "tests/fixtures";
}

static int setup(void **state)
{
	struct scrape *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	snprintf(s->procfs, sizeof(s->procfs), "%s/proc", fixtures_dir());
	s->errors = read_errors_new();
	s->env = (struct collector_env){.procfs = s->procfs, .read_errors = s->errors};
	s->expo = expo_new();
	buf_init(&s->text);
	*state = s;
	return 0;
}

static void remove_temporary_procfs(const char *dir)
{
	char path[4200];
	for (size_t i = 0; i < NPROC_FILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, proc_files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/pressure", dir);
	rmdir(path);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct scrape *s = *state;
	if (s->collector)
		collector_system.destroy(s->collector);
	if (s->temporary)
		remove_temporary_procfs(s->procfs);
	buf_free(&s->text);
	expo_free(s->expo);
	read_errors_free(s->errors);
	free(s);
	return 0;
}

/* ---- building temporary procfs trees ---- */

static void write_file(const char *dir, const char *relpath, const char *data, size_t len)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, relpath);
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void copy_fixture(const char *dir, const char *relpath)
{
	char path[4200];
	static char data[65536];
	snprintf(path, sizeof(path), "%s/proc/%s", fixtures_dir(), relpath);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s (set KOBS_FIXTURES)", path);
	size_t len = fread(data, 1, sizeof(data), f);
	fclose(f);
	write_file(dir, relpath, data, len);
}

/* Point the scrape at a fresh directory holding a copy of the fixture tree, without the files
 * named in `leave_out` (NULL-terminated; "pressure" leaves out the whole directory). */
static void use_copy_of_fixtures(struct scrape *s, const char *const *leave_out)
{
	char dir[] = "/tmp/kobs-procfs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	snprintf(s->procfs, sizeof(s->procfs), "%s", dir);
	s->temporary = true;
	bool skip_pressure = false;
	for (const char *const *p = leave_out; *p; p++)
		skip_pressure |= strcmp(*p, "pressure") == 0;
	if (!skip_pressure) {
		char pressure[4200];
		snprintf(pressure, sizeof(pressure), "%s/pressure", dir);
		assert_int_equal(mkdir(pressure, 0700), 0);
	}
	for (size_t i = 0; i < NPROC_FILES; i++) {
		bool skip = skip_pressure && strncmp(proc_files[i], "pressure/", 9) == 0;
		for (const char *const *p = leave_out; *p; p++)
			skip |= strcmp(*p, proc_files[i]) == 0;
		if (!skip)
			copy_fixture(dir, proc_files[i]);
	}
}

static void replace_file(struct scrape *s, const char *relpath, const char *text)
{
	write_file(s->procfs, relpath, text, strlen(text));
}

/* ---- scraping and looking at the output ---- */

static void init_collector(struct scrape *s)
{
	char why[256] = "";
	if (collector_system.init(&s->collector, &s->env, why, sizeof(why)) != 0)
		fail_msg("init failed: %s", why);
}

/* One scrape as the daemon does it: the collector's families, then the read errors. */
static int scrape_once(struct scrape *s)
{
	if (!s->collector)
		init_collector(s);
	expo_reset(s->expo);
	int rc = collector_system.collect(s->collector, &s->env, s->expo);
	read_errors_expose(s->errors, s->expo);
	buf_reset(&s->text);
	expo_write(s->expo, EXPO_TEXT, &s->text);
	return rc;
}

static bool has_line(const struct buf *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text->data; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p += len + (nl ? 1 : 0);
	}
	return false;
}

static void assert_line(const struct buf *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("no line \"%s\" in:\n%s", line, text->data ? text->data : "");
}

static void assert_no_text(const struct buf *text, const char *fragment)
{
	if (text->data && strstr(text->data, fragment))
		fail_msg("unexpected \"%s\" in:\n%s", fragment, text->data);
}

/* ---- values from the fixture tree ---- */

static void cpu_seconds_are_per_cpu_ticks_divided_by_user_hz(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	/* cpu0 1446 0 2184 856976 8 0 83 0 0 0
	 * cpu1 2169 0 2132 856487 362 0 84 0 0 0 */
	assert_line(&s->text, "# TYPE kobs_cpu_seconds_total counter");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 14.46");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"0\",mode=\"system\"} 21.84");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 8564.87");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"1\",mode=\"iowait\"} 3.62");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0");
	/* The aggregate "cpu" line is not served: summing the CPUs by mode gives it. */
	assert_no_text(&s->text, "kobs_cpu_seconds_total{mode=");
}

static void guest_time_is_its_own_family_per_cpu(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	assert_no_text(&s->text, "mode=\"guest");
	assert_line(&s->text, "kobs_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 0");
	assert_line(&s->text, "kobs_cpu_guest_seconds_total{cpu=\"1\",mode=\"nice\"} 0");
}

static void a_cpu_line_that_does_not_parse_is_left_out_alone(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "stat",
	             "cpu  3 0 3 3\ncpu0 1 0 1 1\ncpu1 x 0 1 1\ncpu1 2 0 2 2\ncpu0 9 9 9 9\n");
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 0.01");
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 0.02");
	/* Neither the broken line nor the repeated cpu0 makes a series. */
	assert_no_text(&s->text, "{cpu=\"0\",mode=\"user\"} 0.09");
}

static void stat_lines_become_counters_and_gauges(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "kobs_cpus 2");
	assert_line(&s->text, "kobs_context_switches_total 480520");
	assert_line(&s->text, "kobs_interrupts_total 333517");
	assert_line(&s->text, "kobs_forks_total 4309");
	assert_line(&s->text, "kobs_procs_running 1");
	assert_line(&s->text, "kobs_procs_blocked 0");
	assert_line(&s->text, "kobs_boot_time_seconds 1795417116");
}

static void memory_is_kilobytes_times_1024(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	/* MemTotal: 24683620 kB; Hugepagesize: 2048 kB */
	assert_line(&s->text, "# TYPE kobs_memory_total_bytes gauge");
	assert_line(&s->text, "kobs_memory_total_bytes 25276026880");
	assert_line(&s->text, "kobs_memory_hugepage_size_bytes 2097152");
	assert_line(&s->text, "kobs_memory_committed_bytes 53788672");
}

static void hugepage_counts_are_not_scaled(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "meminfo", "HugePages_Total:      12\nHugePages_Free:        5\n");
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "kobs_memory_hugepages 12");
	assert_line(&s->text, "kobs_memory_hugepages_free 5");
	assert_no_text(&s->text, "kobs_memory_total_bytes");
}

static void paging_is_kilobytes_times_1024(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	/* pgpgin 1222517, pgpgout 616292 */
	assert_line(&s->text, "kobs_vm_paged_in_bytes_total 1251857408");
	assert_line(&s->text, "kobs_vm_paged_out_bytes_total 631083008");
}

static void vm_event_counters_come_from_vmstat(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "kobs_vm_page_faults_total 1368879");
	assert_line(&s->text, "kobs_vm_major_page_faults_total 1119");
	assert_line(&s->text, "kobs_vm_pages_scanned_total{by=\"kswapd\"} 0");
	assert_line(&s->text, "kobs_vm_pages_reclaimed_total{by=\"direct\"} 0");
	assert_line(&s->text, "kobs_vm_oom_kills_total 0");
}

static void swapped_pages_are_multiplied_by_the_page_size(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "vmstat", "pswpin 3\npswpout 1\n");
	assert_int_equal(scrape_once(s), 0);
	char line[128];
	snprintf(line, sizeof(line), "kobs_vm_swapped_in_bytes_total %ld",
	         3 * sysconf(_SC_PAGESIZE));
	assert_line(&s->text, line);
	snprintf(line, sizeof(line), "kobs_vm_swapped_out_bytes_total %ld", sysconf(_SC_PAGESIZE));
	assert_line(&s->text, line);
	assert_no_text(&s->text, "kobs_vm_page_faults");
	assert_no_text(&s->text, "kobs_vm_pages_scanned");
}

static void load_and_threads_come_from_loadavg(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	/* 0.03 0.07 0.02 1/81 4311 */
	assert_line(&s->text, "kobs_load1 0.03");
	assert_line(&s->text, "kobs_load5 0.07");
	assert_line(&s->text, "kobs_load15 0.02");
	assert_line(&s->text, "kobs_threads 81");
	assert_line(&s->text, "kobs_threads_runnable 1");
}

static void pressure_totals_are_microseconds_over_a_million(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "# TYPE kobs_pressure_stalled_seconds_total counter");
	/* cpu: some total=9621525; io: full total=3061737 */
	assert_line(&s->text,
	            "kobs_pressure_stalled_seconds_total{resource=\"cpu\",kind=\"some\"} 9.621525");
	assert_line(&s->text,
	            "kobs_pressure_stalled_seconds_total{resource=\"io\",kind=\"full\"} 3.061737");
	assert_line(&s->text,
	            "kobs_pressure_stalled_seconds_total{resource=\"memory\",kind=\"full\"} 0");
}

static void softirqs_are_summed_over_cpus_and_lower_cased(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	/* NET_RX: 1085 1213; TIMER: 44190 41468 */
	assert_line(&s->text, "kobs_softirqs_total{type=\"net_rx\"} 2298");
	assert_line(&s->text, "kobs_softirqs_total{type=\"timer\"} 85658");
	assert_line(&s->text, "kobs_softirqs_total{type=\"irq_poll\"} 0");
}

static void a_clean_scrape_counts_no_read_errors(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	assert_no_text(&s->text, "kobs_procfs_read_errors_total{");
}

static void a_second_scrape_gives_the_same_output(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape_once(s), 0);
	char *first = strdup(s->text.data);
	assert_int_equal(scrape_once(s), 0);
	assert_string_equal(s->text.data, first);
	free(first);
}

/* ---- missing and broken files ---- */

static void old_kernel_stat_exposes_only_the_modes_it_printed(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "stat", "cpu  1139 0 2208 81231\ncpu0 1139 0 2208 81231\nctxt 21283\n");
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text, "kobs_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 812.31");
	assert_no_text(&s->text, "mode=\"iowait\"");
	assert_no_text(&s->text, "# TYPE kobs_cpu_guest_seconds");
	assert_no_text(&s->text, "kobs_procs_running");
	assert_line(&s->text, "kobs_context_switches_total 21283");
}

static void missing_pressure_dir_is_counted_and_the_rest_still_served(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){"pressure", NULL});
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text,
	            "kobs_procfs_read_errors_total{file=\"pressure/cpu\",reason=\"not_found\"} 1");
	assert_line(
	    &s->text,
	    "kobs_procfs_read_errors_total{file=\"pressure/memory\",reason=\"not_found\"} 1");
	assert_line(&s->text,
	            "kobs_procfs_read_errors_total{file=\"pressure/io\",reason=\"not_found\"} 1");
	assert_no_text(&s->text, "kobs_pressure_stalled_seconds");
	assert_line(&s->text, "kobs_memory_total_bytes 25276026880");
	assert_line(&s->text, "kobs_softirqs_total{type=\"net_rx\"} 2298");
}

static void one_missing_pressure_file_leaves_the_others(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){"pressure/memory", NULL});
	assert_int_equal(scrape_once(s), 0);
	assert_line(
	    &s->text,
	    "kobs_procfs_read_errors_total{file=\"pressure/memory\",reason=\"not_found\"} 1");
	assert_no_text(&s->text, "resource=\"memory\"");
	assert_line(&s->text,
	            "kobs_pressure_stalled_seconds_total{resource=\"io\",kind=\"some\"} 3.292481");
}

static void unparseable_file_is_counted_as_a_parse_error(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "meminfo", "\x01\x02garbage\xff\n");
	assert_int_equal(scrape_once(s), 0);
	assert_line(&s->text,
	            "kobs_procfs_read_errors_total{file=\"meminfo\",reason=\"parse_error\"} 1");
	assert_no_text(&s->text, "kobs_memory_");
	assert_line(&s->text, "kobs_load1 0.03");
}

static void stat_vanishing_after_init_fails_the_scrape_but_serves_the_rest(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	init_collector(s);
	char path[4200];
	snprintf(path, sizeof(path), "%s/stat", s->procfs);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(scrape_once(s), -1);
	assert_line(&s->text,
	            "kobs_procfs_read_errors_total{file=\"stat\",reason=\"not_found\"} 1");
	assert_no_text(&s->text, "kobs_cpu_seconds");
	assert_line(&s->text, "kobs_memory_total_bytes 25276026880");
}

static void init_fails_without_stat_and_names_the_file(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){"stat", NULL});
	char why[256] = "";
	assert_int_equal(collector_system.init(&s->collector, &s->env, why, sizeof(why)), -1);
	assert_null(s->collector);
	char expected[4200];
	snprintf(expected, sizeof(expected), "%s/stat: No such file or directory", s->procfs);
	if (strncmp(why, expected, strlen(expected)) != 0)
		fail_msg("why is \"%s\", expected it to start with \"%s\"", why, expected);
	assert_non_null(strstr(why, "--path.procfs"));
}

static void init_fails_on_a_stat_without_cpu_line(void **state)
{
	struct scrape *s = *state;
	use_copy_of_fixtures(s, (const char *const[]){NULL});
	replace_file(s, "stat", "not a stat file\n");
	char why[256] = "";
	assert_int_equal(collector_system.init(&s->collector, &s->env, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "/stat: no aggregate cpu line"));
}

static void the_collector_describes_itself(void **state)
{
	(void)state;
	assert_string_equal(collector_system.name, "system");
	assert_true(collector_system.default_enabled);
	assert_string_equal(collector_system.description,
	                    "System-wide CPU, memory, paging, load, pressure (PSI) and softirqs "
	                    "from /proc");
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(cpu_seconds_are_per_cpu_ticks_divided_by_user_hz),
	    TEST(guest_time_is_its_own_family_per_cpu),
	    TEST(a_cpu_line_that_does_not_parse_is_left_out_alone),
	    TEST(stat_lines_become_counters_and_gauges),
	    TEST(memory_is_kilobytes_times_1024),
	    TEST(hugepage_counts_are_not_scaled),
	    TEST(paging_is_kilobytes_times_1024),
	    TEST(vm_event_counters_come_from_vmstat),
	    TEST(swapped_pages_are_multiplied_by_the_page_size),
	    TEST(load_and_threads_come_from_loadavg),
	    TEST(pressure_totals_are_microseconds_over_a_million),
	    TEST(softirqs_are_summed_over_cpus_and_lower_cased),
	    TEST(a_clean_scrape_counts_no_read_errors),
	    TEST(a_second_scrape_gives_the_same_output),
	    TEST(old_kernel_stat_exposes_only_the_modes_it_printed),
	    TEST(missing_pressure_dir_is_counted_and_the_rest_still_served),
	    TEST(one_missing_pressure_file_leaves_the_others),
	    TEST(unparseable_file_is_counted_as_a_parse_error),
	    TEST(stat_vanishing_after_init_fails_the_scrape_but_serves_the_rest),
	    TEST(init_fails_without_stat_and_names_the_file),
	    TEST(init_fails_on_a_stat_without_cpu_line),
	    cmocka_unit_test(the_collector_describes_itself),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
