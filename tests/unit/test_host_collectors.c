/* The host collectors (diskstats, netdev, netstat, sockstat, filesystem, uname, time) run against
 * the fixture trees (tests/fixtures/proc and sys) and against temporary ones, through their
 * collector_ops as the daemon runs them. Expected values are worked out by hand from the files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
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

extern const struct collector_ops collector_diskstats;
extern const struct collector_ops collector_netdev;
extern const struct collector_ops collector_netstat;
extern const struct collector_ops collector_sockstat;
extern const struct collector_ops collector_filesystem;
extern const struct collector_ops collector_uname;
extern const struct collector_ops collector_time;

struct scrape {
	char procfs[PATH_MAX];
	char sysfs[PATH_MAX];
	char tmp[PATH_MAX]; /* a temporary tree this test made, or "" */
	struct host_options host;
	struct read_errors *errors;
	struct collector_env env;
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
	snprintf(s->sysfs, sizeof(s->sysfs), "%s/sys", fixtures_dir());
	s->host = (struct host_options){
	    .sysfs = s->sysfs,
	    .rootfs = "/",
	    .disk_exclude = DEFAULT_DISK_EXCLUDE,
	    .netdev_exclude = DEFAULT_NETDEV_EXCLUDE,
	    .mount_points_exclude = DEFAULT_MOUNT_POINTS_EXCLUDE,
	    .fs_types_exclude = DEFAULT_FS_TYPES_EXCLUDE,
	    .mount_timeout = 10,
	};
	s->errors = read_errors_new();
	s->env =
	    (struct collector_env){.procfs = s->procfs, .read_errors = s->errors, .host = &s->host};
	s->expo = expo_new();
	buf_init(&s->text);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scrape *s = *state;
	if (s->tmp[0]) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->tmp);
		assert_int_equal(system(cmd), 0);
	}
	buf_free(&s->text);
	expo_free(s->expo);
	read_errors_free(s->errors);
	free(s);
	return 0;
}

/* A fresh temporary procfs; files are added with put_file. */
static void use_temporary_procfs(struct scrape *s)
{
	snprintf(s->tmp, sizeof(s->tmp), "/tmp/kobs-host-XXXXXX");
	assert_non_null(mkdtemp(s->tmp));
	snprintf(s->procfs, sizeof(s->procfs), "%s", s->tmp);
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/net", s->tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/self", s->tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
}

static void put_file(struct scrape *s, const char *relpath, const char *text)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", s->procfs, relpath);
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Init, collect once (or `times`), destroy; the text format of the last scrape is in s->text. */
static int scrape_n(struct scrape *s, const struct collector_ops *ops, int times)
{
	void *st = NULL;
	char why[256] = "";
	if (ops->init(&st, &s->env, why, sizeof(why)) != 0)
		fail_msg("%s: init failed: %s", ops->name, why);
	int rc = 0;
	for (int i = 0; i < times; i++) {
		expo_reset(s->expo);
		rc = ops->collect(st, &s->env, s->expo);
		read_errors_expose(s->errors, s->expo);
	}
	buf_reset(&s->text);
	expo_write(s->expo, EXPO_TEXT, &s->text);
	if (ops->destroy)
		ops->destroy(st);
	return rc;
}

static int scrape(struct scrape *s, const struct collector_ops *ops)
{
	return scrape_n(s, ops, 1);
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

static size_t count_text(const struct buf *text, const char *fragment)
{
	size_t n = 0;
	for (const char *p = text->data; p && (p = strstr(p, fragment)); p++)
		n++;
	return n;
}

/* ---- diskstats ---- */

static void diskstats_serves_whole_disks_in_base_units(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	/* vda: 15540186 sectors read, 106568 ms busy, 25462992 sectors discarded */
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"vda\"} 226084");
	assert_line(&s->text, "kobs_disk_read_bytes_total{device=\"vda\"} 7956575232");
	assert_line(&s->text, "kobs_disk_written_bytes_total{device=\"vda\"} 14853398528");
	assert_line(&s->text, "kobs_disk_io_time_seconds_total{device=\"vda\"} 106.568");
	assert_line(&s->text, "kobs_disk_io_time_weighted_seconds_total{device=\"vda\"} 347.448");
	assert_line(&s->text, "kobs_disk_io_now{device=\"vda\"} 2");
	assert_line(&s->text, "kobs_disk_discarded_bytes_total{device=\"vda\"} 13037051904");
	assert_line(&s->text, "kobs_disk_discard_time_seconds_total{device=\"vda\"} 16.958");
	assert_line(&s->text, "kobs_disk_flush_requests_total{device=\"vda\"} 24683");
	assert_line(&s->text, "kobs_disk_flush_requests_time_seconds_total{device=\"vda\"} 7.707");
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"nvme0n1\"} 5000");
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"dm-0\"} 7000");
}

static void diskstats_default_exclude_leaves_out_partitions_loop_and_ram(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	assert_no_text(&s->text, "\"vda1\"");
	assert_no_text(&s->text, "\"nvme0n1p1\"");
	assert_no_text(&s->text, "\"loop0\"");
	assert_no_text(&s->text, "\"ram0\"");
	assert_no_text(&s->text, "\"zram0\"");
}

static void diskstats_fields_an_older_kernel_lacks_are_left_out(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	/* sdb has the 11 fields of kernels before 4.18, dm-0 the 15 before 5.5 */
	assert_line(&s->text, "kobs_disk_io_time_seconds_total{device=\"sdb\"} 0.05");
	assert_no_text(&s->text, "kobs_disk_discards_completed_total{device=\"sdb\"}");
	assert_line(&s->text, "kobs_disk_discards_completed_total{device=\"dm-0\"} 0");
	assert_no_text(&s->text, "kobs_disk_flush_requests_total{device=\"dm-0\"}");
}

static void diskstats_include_replaces_the_default_exclude(void **state)
{
	struct scrape *s = *state;
	s->host.disk_include = "^vda";
	s->host.disk_exclude = NULL;
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"vda\"} 226084");
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"vda1\"} 1000");
	assert_no_text(&s->text, "\"sdb\"");
}

static void diskstats_a_device_named_twice_is_served_once_from_its_first_row(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	put_file(s, "diskstats",
	         "8 0 sda 1 0 0 0 0 0 0 0 0 0 0\n8 0 sdb 5 0 0 0 0 0 0 0 0 0 0\n"
	         "8 0 sda 2 0 0 0 0 0 0 0 0 0 0\n");
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	assert_int_equal(count_text(&s->text, "kobs_disk_reads_completed_total{device=\"sda\"}"),
	                 1);
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"sda\"} 1");
}

static void diskstats_a_broken_line_is_counted_and_the_rest_served(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	put_file(s, "diskstats", "8 0 sda 1 0 0 0 0 0 0 0 0 0 0\n8 16 sdb garbage\n");
	assert_int_equal(scrape(s, &collector_diskstats), 0);
	assert_line(&s->text, "kobs_disk_reads_completed_total{device=\"sda\"} 1");
	assert_line(&s->text,
	            "kobs_procfs_read_errors_total{file=\"diskstats\",reason=\"parse_error\"} 1");
}

static void diskstats_without_the_file_fails_at_start_naming_it(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	void *st = NULL;
	char why[256] = "";
	assert_int_equal(collector_diskstats.init(&st, &s->env, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "/diskstats: No such file or directory"));
	assert_non_null(strstr(why, "--path.procfs"));
}

/* ---- netdev ---- */

static void netdev_serves_each_interface_but_loopback(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_netdev), 0);
	assert_line(&s->text, "kobs_network_receive_bytes_total{device=\"eth0\"} 191706179");
	assert_line(&s->text, "kobs_network_receive_errs_total{device=\"eth0\"} 1");
	assert_line(&s->text, "kobs_network_receive_drop_total{device=\"eth0\"} 2");
	assert_line(&s->text, "kobs_network_receive_multicast_total{device=\"eth0\"} 6");
	assert_line(&s->text, "kobs_network_transmit_bytes_total{device=\"eth0\"} 282563");
	assert_line(&s->text, "kobs_network_transmit_colls_total{device=\"eth0\"} 10");
	assert_line(&s->text, "kobs_network_transmit_carrier_total{device=\"eth0\"} 11");
	assert_line(&s->text, "kobs_network_receive_bytes_total{device=\"veth1a2b3c\"} 4096");
	assert_no_text(&s->text, "\"lo\"");
}

static void netdev_include_serves_only_its_matches(void **state)
{
	struct scrape *s = *state;
	s->host.netdev_include = "^(lo|eth)";
	s->host.netdev_exclude = NULL;
	assert_int_equal(scrape(s, &collector_netdev), 0);
	assert_line(&s->text, "kobs_network_receive_bytes_total{device=\"lo\"} 18771987578");
	assert_line(&s->text, "kobs_network_receive_bytes_total{device=\"eth0\"} 191706179");
	assert_no_text(&s->text, "veth");
}

static void netdev_an_interface_named_twice_is_served_once(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	put_file(s, "net/dev",
	         "eth0: 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\neth0: 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	assert_int_equal(scrape(s, &collector_netdev), 0);
	assert_int_equal(count_text(&s->text, "kobs_network_receive_bytes_total{"), 1);
	assert_line(&s->text, "kobs_network_receive_bytes_total{device=\"eth0\"} 1");
}

/* ---- netstat ---- */

static void put_netstat_files(struct scrape *s)
{
	use_temporary_procfs(s);
	put_file(s, "net/snmp",
	         "Tcp: RtoAlgorithm ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
	         "InSegs OutSegs RetransSegs InErrs OutRsts MaxConn\n"
	         "Tcp: 1 10 20 3 4 5 600 700 8 9 11 -1\n"
	         "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
	         "Udp: 100 2 3 400 5 6\n"
	         "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
	         "UdpLite: 0 0 7 0 0 0\n"
	         "Icmp: InMsgs InErrors OutMsgs\nIcmp: 30 1 31\n");
	put_file(s, "net/netstat",
	         "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows "
	         "ListenDrops TCPTimeouts TCPSynRetrans\n"
	         "TcpExt: 1 2 3 40 41 50 60\n"
	         "IpExt: InOctets OutOctets\nIpExt: 123456 654321\n");
	put_file(s, "net/snmp6",
	         "Ip6InOctets                     \t1000\nIp6OutOctets \t2000\n"
	         "Udp6InDatagrams 7\nUdp6InErrors 8\nIcmp6InMsgs 9\n");
}

static void netstat_tcp_counters_come_from_snmp_and_netstat(void **state)
{
	struct scrape *s = *state;
	put_netstat_files(s);
	assert_int_equal(scrape(s, &collector_netstat), 0);
	assert_line(&s->text, "kobs_netstat_tcp_active_opens_total 10");
	assert_line(&s->text, "kobs_netstat_tcp_retransmitted_segments_total 8");
	assert_line(&s->text, "kobs_netstat_tcp_sent_resets_total 11");
	assert_line(&s->text, "kobs_netstat_tcp_current_established 5");
	assert_line(&s->text, "# TYPE kobs_netstat_tcp_current_established gauge");
	assert_line(&s->text, "kobs_netstat_tcp_listen_overflows_total 40");
	assert_line(&s->text, "kobs_netstat_tcp_listen_drops_total 41");
	assert_line(&s->text, "kobs_netstat_tcp_syn_retransmits_total 60");
	assert_line(&s->text, "kobs_netstat_tcp_syncookies_failed_total 3");
}

static void netstat_udp_ip_and_icmp_are_labelled_by_protocol(void **state)
{
	struct scrape *s = *state;
	put_netstat_files(s);
	assert_int_equal(scrape(s, &collector_netstat), 0);
	assert_line(&s->text, "kobs_netstat_udp_received_datagrams_total{protocol=\"udp\"} 100");
	assert_line(&s->text, "kobs_netstat_udp_received_datagrams_total{protocol=\"udp6\"} 7");
	assert_line(&s->text, "kobs_netstat_udp_receive_errors_total{protocol=\"udplite\"} 7");
	assert_line(&s->text, "kobs_netstat_udp_receive_errors_total{protocol=\"udp6\"} 8");
	assert_line(&s->text, "kobs_netstat_ip_received_bytes_total{protocol=\"ipv4\"} 123456");
	assert_line(&s->text, "kobs_netstat_ip_sent_bytes_total{protocol=\"ipv6\"} 2000");
	assert_line(&s->text, "kobs_netstat_icmp_received_messages_total{protocol=\"icmp6\"} 9");
	/* Keys the file lacks are left out, never served as 0. */
	assert_no_text(&s->text, "kobs_netstat_udp_sent_datagrams_total{protocol=\"udp6\"}");
}

static void netstat_without_ipv6_serves_the_rest_and_counts_nothing(void **state)
{
	struct scrape *s = *state;
	put_netstat_files(s);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/net/snmp6", s->procfs);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(scrape(s, &collector_netstat), 0);
	assert_line(&s->text, "kobs_netstat_udp_received_datagrams_total{protocol=\"udp\"} 100");
	assert_no_text(&s->text, "udp6");
	assert_no_text(&s->text, "kobs_procfs_read_errors_total");
}

/* ---- sockstat ---- */

static void sockstat_serves_sockets_by_protocol_and_memory_in_bytes(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_sockstat), 0);
	char line[128];
	assert_line(&s->text, "kobs_sockstat_sockets_used 15");
	assert_line(&s->text, "kobs_sockstat_in_use{protocol=\"tcp\"} 4");
	assert_line(&s->text, "kobs_sockstat_in_use{protocol=\"tcp6\"} 3");
	assert_line(&s->text, "kobs_sockstat_in_use{protocol=\"raw\"} 1");
	assert_line(&s->text, "kobs_sockstat_tcp_orphans 1");
	assert_line(&s->text, "kobs_sockstat_tcp_time_wait 7");
	assert_line(&s->text, "kobs_sockstat_tcp_allocated 5");
	snprintf(line, sizeof(line), "kobs_sockstat_memory_bytes{protocol=\"tcp\"} %ld",
	         31 * sysconf(_SC_PAGESIZE));
	assert_line(&s->text, line);
	assert_line(&s->text, "kobs_sockstat_memory_bytes{protocol=\"frag\"} 0");
}

/* ---- filesystem ---- */

static void filesystem_serves_real_mounts_and_leaves_out_pseudo_ones(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_filesystem), 0);
	/* The fixture's / is this machine's /, whatever it is: statvfs answers for it. */
	assert_int_equal(
	    count_text(
	        &s->text,
	        "kobs_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}"),
	    1);
	assert_line(&s->text, "kobs_filesystem_device_error{device=\"/dev/vda\",fstype=\"ext4\","
	                      "mountpoint=\"/\"} 0");
	assert_line(
	    &s->text,
	    "kobs_filesystem_stale{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 0");
	assert_line(&s->text, "kobs_filesystem_stat_timeouts_total 0");
	assert_line(&s->text, "kobs_filesystem_stuck_threads 0");
	assert_no_text(&s->text, "mountpoint=\"/proc\"");
	assert_no_text(&s->text, "mountpoint=\"/dev/shm\"");
	assert_no_text(&s->text, "mountpoint=\"/mnt\"");
	assert_no_text(&s->text, "cgroup");
}

static void filesystem_a_mount_point_that_cannot_be_stated_is_a_device_error(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	put_file(s, "self/mountinfo",
	         "1 0 8:1 / /no/such/mount\\040point rw - ext4 /dev/sdz1 ro\n");
	assert_int_equal(scrape(s, &collector_filesystem), 0);
	assert_line(&s->text, "kobs_filesystem_device_error{device=\"/dev/sdz1\",fstype=\"ext4\","
	                      "mountpoint=\"/no/such/mount point\"} 1");
	assert_line(&s->text, "kobs_filesystem_readonly{device=\"/dev/sdz1\",fstype=\"ext4\","
	                      "mountpoint=\"/no/such/mount point\"} 1");
	assert_no_text(&s->text, "kobs_filesystem_size_bytes");
}

static void filesystem_a_mount_point_mounted_over_is_served_once_from_the_top(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	put_file(s, "self/mountinfo",
	         "1 0 8:1 / / rw - ext4 /dev/under rw\n2 1 8:2 / / rw - ext4 /dev/over rw\n");
	assert_int_equal(scrape(s, &collector_filesystem), 0);
	assert_int_equal(count_text(&s->text, "kobs_filesystem_device_error{"), 1);
	assert_line(&s->text, "kobs_filesystem_device_error{device=\"/dev/over\",fstype=\"ext4\","
	                      "mountpoint=\"/\"} 0");
}

static void filesystem_rootfs_serves_mounts_below_it_as_the_host_names_them(void **state)
{
	struct scrape *s = *state;
	use_temporary_procfs(s);
	char root[PATH_MAX + 8], data[PATH_MAX + 16], mountinfo[4 * PATH_MAX];
	snprintf(root, sizeof(root), "%s/root", s->tmp);
	snprintf(data, sizeof(data), "%s/data", root);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(mkdir(data, 0700), 0);
	snprintf(mountinfo, sizeof(mountinfo),
	         "1 0 8:1 / / rw - ext4 /dev/container rw\n"
	         "2 1 8:2 / %s rw - ext4 /dev/hostroot rw\n"
	         "3 2 8:3 / %s rw - xfs /dev/hostdata rw\n"
	         "4 1 8:4 / %sx rw - ext4 /dev/sibling rw\n",
	         root, data, root);
	put_file(s, "self/mountinfo", mountinfo);
	s->host.rootfs = root;
	assert_int_equal(scrape(s, &collector_filesystem), 0);
	assert_line(&s->text,
	            "kobs_filesystem_device_error{device=\"/dev/hostroot\",fstype=\"ext4\","
	            "mountpoint=\"/\"} 0");
	assert_line(&s->text,
	            "kobs_filesystem_device_error{device=\"/dev/hostdata\",fstype=\"xfs\","
	            "mountpoint=\"/data\"} 0");
	assert_no_text(&s->text, "/dev/container");
	assert_no_text(&s->text, "/dev/sibling");
}

/* ---- uname, time ---- */

static void uname_serves_one_info_sample(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_uname), 0);
	assert_line(&s->text, "# TYPE kobs_uname_info gauge");
	assert_int_equal(count_text(&s->text, "kobs_uname_info{sysname=\"Linux\",release=\""), 1);
}

static void time_serves_the_clock_sources_of_sysfs(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_time), 0);
	assert_line(&s->text,
	            "kobs_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"} 1");
	assert_line(&s->text,
	            "kobs_time_clocksource_available_info{clocksource=\"hpet\",device=\"0\"} 1");
	assert_line(&s->text,
	            "kobs_time_clocksource_available_info{clocksource=\"acpi_pm\",device=\"0\"} 1");
	assert_int_equal(count_text(&s->text, "kobs_time_clocksource_available_info{"), 3);
}

static void time_serves_the_clock_and_the_ntp_state(void **state)
{
	struct scrape *s = *state;
	assert_int_equal(scrape(s, &collector_time), 0);
	assert_int_equal(count_text(&s->text, "\nkobs_time_seconds "), 1);
	assert_int_equal(count_text(&s->text, "\nkobs_timex_sync_status "), 1);
	assert_int_equal(count_text(&s->text, "\nkobs_timex_maxerror_seconds "), 1);
	assert_int_equal(count_text(&s->text, "\nkobs_timex_tick_seconds "), 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(diskstats_serves_whole_disks_in_base_units),
	    T(diskstats_default_exclude_leaves_out_partitions_loop_and_ram),
	    T(diskstats_fields_an_older_kernel_lacks_are_left_out),
	    T(diskstats_include_replaces_the_default_exclude),
	    T(diskstats_a_device_named_twice_is_served_once_from_its_first_row),
	    T(diskstats_a_broken_line_is_counted_and_the_rest_served),
	    T(diskstats_without_the_file_fails_at_start_naming_it),
	    T(netdev_serves_each_interface_but_loopback),
	    T(netdev_include_serves_only_its_matches),
	    T(netdev_an_interface_named_twice_is_served_once),
	    T(netstat_tcp_counters_come_from_snmp_and_netstat),
	    T(netstat_udp_ip_and_icmp_are_labelled_by_protocol),
	    T(netstat_without_ipv6_serves_the_rest_and_counts_nothing),
	    T(sockstat_serves_sockets_by_protocol_and_memory_in_bytes),
	    T(filesystem_serves_real_mounts_and_leaves_out_pseudo_ones),
	    T(filesystem_a_mount_point_that_cannot_be_stated_is_a_device_error),
	    T(filesystem_a_mount_point_mounted_over_is_served_once_from_the_top),
	    T(filesystem_rootfs_serves_mounts_below_it_as_the_host_names_them),
	    T(uname_serves_one_info_sample),
	    T(time_serves_the_clock_sources_of_sysfs),
	    T(time_serves_the_clock_and_the_ntp_state),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
