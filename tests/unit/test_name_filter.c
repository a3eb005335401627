/* Include and exclude regexes (src/name_filter.c), and node_exporter's default patterns that
 * kobsd keeps (src/host_options.h) on the names they are meant for. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "host_options.h"
#include "name_filter.h"

static struct name_filter *filter(const char *include, const char *exclude)
{
	char err[256] = "";
	struct name_filter *f = name_filter_new(include, exclude, "test", err, sizeof(err));
	if (!f)
		fail_msg("%s", err);
	return f;
}

static void no_pattern_accepts_everything(void **state)
{
	(void)state;
	struct name_filter *f = filter(NULL, NULL);
	assert_true(name_filter_accepts(f, "sda"));
	assert_true(name_filter_accepts(f, ""));
	name_filter_free(f);
}

static void an_exclude_is_searched_anywhere_in_the_name(void **state)
{
	(void)state;
	struct name_filter *f = filter(NULL, "veth");
	assert_false(name_filter_accepts(f, "veth1234"));
	assert_false(name_filter_accepts(f, "cali-veth"));
	assert_true(name_filter_accepts(f, "eth0"));
	name_filter_free(f);
}

static void an_include_lets_only_its_matches_through(void **state)
{
	(void)state;
	struct name_filter *f = filter("^(eth|en)", NULL);
	assert_true(name_filter_accepts(f, "eth0"));
	assert_true(name_filter_accepts(f, "enp3s0"));
	assert_false(name_filter_accepts(f, "docker0"));
	name_filter_free(f);
}

static void dollar_is_the_end_of_the_name_as_in_go(void **state)
{
	(void)state;
	struct name_filter *f = filter(NULL, "^lo$");
	assert_false(name_filter_accepts(f, "lo"));
	assert_true(name_filter_accepts(f, "lo\n"));
	assert_true(name_filter_accepts(f, "lo0"));
	name_filter_free(f);
}

static void invalid_utf8_names_are_matched_not_refused(void **state)
{
	(void)state;
	struct name_filter *f = filter(NULL, "^bad");
	assert_false(name_filter_accepts(f, "bad\xff\xfe"));
	assert_true(name_filter_accepts(f, "\xffgood"));
	name_filter_free(f);
}

static void a_pattern_that_does_not_compile_is_reported_with_its_offset(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(name_filter_new(NULL, "^(sd", "--collector.x", err, sizeof(err)));
	assert_non_null(strstr(err, "does not compile"));
	assert_non_null(strstr(err, "offset 4"));
	assert_non_null(strstr(err, "--collector.x exclude"));
}

static void default_disk_exclude_leaves_out_partitions_loop_and_ram(void **state)
{
	(void)state;
	struct name_filter *f = filter(NULL, DEFAULT_DISK_EXCLUDE);
	const char *out[] = {"sda1",  "vda2", "xvda1", "hdb3", "nvme0n1p1",
	                     "loop0", "ram0", "zram0", "fd0"};
	const char *in[] = {"sda", "vda", "nvme0n1", "dm-0", "md0", "sr0", "mmcblk0"};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		if (name_filter_accepts(f, out[i]))
			fail_msg("%s should be left out", out[i]);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		if (!name_filter_accepts(f, in[i]))
			fail_msg("%s should be served", in[i]);
	name_filter_free(f);
}

static void default_mount_and_type_excludes_leave_out_pseudo_filesystems(void **state)
{
	(void)state;
	struct name_filter *points = filter(NULL, DEFAULT_MOUNT_POINTS_EXCLUDE);
	struct name_filter *types = filter(NULL, DEFAULT_FS_TYPES_EXCLUDE);
	assert_true(name_filter_accepts(points, "/"));
	assert_true(name_filter_accepts(points, "/home"));
	assert_true(name_filter_accepts(points, "/devices")); /* not /dev */
	assert_false(name_filter_accepts(points, "/dev/shm"));
	assert_false(name_filter_accepts(points, "/run"));
	assert_false(name_filter_accepts(points, "/var/lib/docker/overlay2/abc/merged"));
	assert_true(name_filter_accepts(points, "/var/lib/docker"));
	assert_true(name_filter_accepts(types, "ext4"));
	assert_true(name_filter_accepts(types, "tmpfs"));
	assert_true(name_filter_accepts(types, "nfs4"));
	assert_false(name_filter_accepts(types, "cgroup2"));
	assert_false(name_filter_accepts(types, "proc"));
	assert_false(name_filter_accepts(types, "overlay"));
	name_filter_free(points);
	name_filter_free(types);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_pattern_accepts_everything),
	    cmocka_unit_test(an_exclude_is_searched_anywhere_in_the_name),
	    cmocka_unit_test(an_include_lets_only_its_matches_through),
	    cmocka_unit_test(dollar_is_the_end_of_the_name_as_in_go),
	    cmocka_unit_test(invalid_utf8_names_are_matched_not_refused),
	    cmocka_unit_test(a_pattern_that_does_not_compile_is_reported_with_its_offset),
	    cmocka_unit_test(default_disk_exclude_leaves_out_partitions_loop_and_ram),
	    cmocka_unit_test(default_mount_and_type_excludes_leave_out_pseudo_filesystems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
