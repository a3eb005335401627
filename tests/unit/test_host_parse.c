/* The host collectors' parsers (src/host_parse.c) on captured files (tests/fixtures/proc) and on
 * hand-made broken ones. Inputs are exact-size heap blocks (test_bytes.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "host_parse.h"
#include "test_bytes.h"

/* ---- collecting callback rows ---- */

#define MAX_ROWS 16

struct disks {
	struct disk_row rows[MAX_ROWS];
	size_t n;
};

static void add_disk(const struct disk_row *row, void *arg)
{
	struct disks *d = arg;
	assert_true(d->n < MAX_ROWS);
	d->rows[d->n++] = *row;
}

static int disks_of(const char *text, struct disks *d)
{
	memset(d, 0, sizeof(*d));
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_diskstats(b.data, b.len, add_disk, d);
	free(b.data);
	return rc;
}

struct ifaces {
	struct netdev_row rows[MAX_ROWS];
	size_t n;
};

static void add_iface(const struct netdev_row *row, void *arg)
{
	struct ifaces *d = arg;
	assert_true(d->n < MAX_ROWS);
	d->rows[d->n++] = *row;
}

static int ifaces_of(const char *text, struct ifaces *d)
{
	memset(d, 0, sizeof(*d));
	struct bytes b = copy_bytes(text, strlen(text));
	int rc = parse_netdev(b.data, b.len, add_iface, d);
	free(b.data);
	return rc;
}

struct mount_copy {
	unsigned major, minor;
	char mount_point[256], fstype[64], source[256];
	bool read_only;
};

struct mounts {
	struct mount_copy rows[MAX_ROWS];
	size_t n;
};

static void add_mount(const struct mount_row *row, void *arg)
{
	struct mounts *m = arg;
	assert_true(m->n < MAX_ROWS);
	struct mount_copy *c = &m->rows[m->n++];
	c->major = row->major;
	c->minor = row->minor;
	snprintf(c->mount_point, sizeof(c->mount_point), "%s", row->mount_point);
	snprintf(c->fstype, sizeof(c->fstype), "%s", row->fstype);
	snprintf(c->source, sizeof(c->source), "%s", row->source);
	c->read_only = row->read_only;
}

static int mounts_of(const char *text, struct mounts *m)
{
	memset(m, 0, sizeof(*m));
	struct bytes b = copy_bytes(text, strlen(text));
	char scratch[4096];
	int rc = parse_mountinfo(b.data, b.len, scratch, sizeof(scratch), add_mount, m);
	free(b.data);
	return rc;
}

/* ---- /proc/diskstats ---- */

static void diskstats_fixture_gives_every_device_with_its_fields(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/diskstats");
	struct disks d = {0};
	assert_int_equal(parse_diskstats(b.data, b.len, add_disk, &d), 0);
	free(b.data);
	assert_int_equal(d.n, 9);
	const struct disk_row *vda = &d.rows[3];
	assert_string_equal(vda->name, "vda");
	assert_int_equal(vda->major, 254);
	assert_int_equal(vda->nfields, 17);
	assert_int_equal(vda->v[DISK_READS], 226084);
	assert_int_equal(vda->v[DISK_READ_SECTORS], 15540186);
	assert_int_equal(vda->v[DISK_IN_FLIGHT], 2);
	assert_int_equal(vda->v[DISK_DISCARD_SECTORS], 25462992);
	assert_int_equal(vda->v[DISK_FLUSH_MS], 7707);
}

static void diskstats_older_layouts_have_fewer_fields(void **state)
{
	(void)state;
	struct disks d;
	assert_int_equal(disks_of("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
	                          "8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
	                          &d),
	                 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.rows[0].nfields, 11);
	assert_int_equal(d.rows[0].v[DISK_WEIGHTED_MS], 11);
	assert_int_equal(d.rows[1].nfields, 15);
	assert_int_equal(d.rows[1].v[DISK_DISCARD_MS], 15);
}

static void diskstats_columns_of_a_newer_kernel_are_ignored(void **state)
{
	(void)state;
	struct disks d;
	assert_int_equal(disks_of("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n", &d),
	                 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.rows[0].nfields, 17);
	assert_int_equal(d.rows[0].v[DISK_FLUSH_MS], 17);
}

static void diskstats_bad_lines_are_skipped_and_reported(void **state)
{
	(void)state;
	struct disks d;
	assert_int_equal(disks_of("8 0 sda 1 2 3 4 5 6 7 8 9 10\n"       /* 10 fields */
	                          "8 0 sdb 1 2 3 4 5 6 7 8 9 10 11 12\n" /* 12 fields */
	                          "8 0 sdc 1 2 3 -4 5 6 7 8 9 10 11\n"   /* a sign */
	                          "x 0 sdd 1 2 3 4 5 6 7 8 9 10 11\n"    /* no major */
	                          "8 0 sde 1 2 3 4 5 6 7 8 9 10 11\n",
	                          &d),
	                 -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.rows[0].name, "sde");
}

static void diskstats_a_cut_last_line_is_dropped(void **state)
{
	(void)state;
	struct disks d;
	assert_int_equal(
	    disks_of("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sdb 1 2 3 4 5 6 7 8 9 10 1", &d), 0);
	assert_int_equal(d.n, 1);
}

static void diskstats_a_name_too_long_or_with_nul_is_refused_not_cut(void **state)
{
	(void)state;
	char text[512];
	char name[DISK_NAME_MAX + 1];
	memset(name, 'a', DISK_NAME_MAX);
	name[DISK_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), "8 0 %s 1 2 3 4 5 6 7 8 9 10 11\n", name);
	struct disks d;
	assert_int_equal(disks_of(text, &d), -1);
	assert_int_equal(d.n, 0);

	static const char with_nul[] = "8 0 sd\0a 1 2 3 4 5 6 7 8 9 10 11\n";
	struct bytes b = copy_bytes(with_nul, sizeof(with_nul) - 1);
	memset(&d, 0, sizeof(d));
	assert_int_equal(parse_diskstats(b.data, b.len, add_disk, &d), -1);
	assert_int_equal(d.n, 0);
	free(b.data);
}

static void diskstats_a_number_past_64_bits_is_refused(void **state)
{
	(void)state;
	struct disks d;
	assert_int_equal(disks_of("8 0 sda 18446744073709551616 2 3 4 5 6 7 8 9 10 11\n", &d), -1);
	assert_int_equal(d.n, 0);
	assert_int_equal(disks_of("8 0 sda 18446744073709551615 2 3 4 5 6 7 8 9 10 11\n", &d), 0);
	assert_true(d.rows[0].v[DISK_READS] == UINT64_MAX);
}

/* ---- /proc/net/dev ---- */

static void netdev_fixture_gives_each_interface_and_skips_headers(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/net/dev");
	struct ifaces d = {0};
	assert_int_equal(parse_netdev(b.data, b.len, add_iface, &d), 0);
	free(b.data);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.rows[0].name, "lo");
	assert_string_equal(d.rows[1].name, "eth0");
	assert_int_equal(d.rows[1].v[NETDEV_RX_BYTES], 191706179);
	assert_int_equal(d.rows[1].v[NETDEV_RX_ERRS], 1);
	assert_int_equal(d.rows[1].v[NETDEV_RX_MULTICAST], 6);
	assert_int_equal(d.rows[1].v[NETDEV_TX_ERRS], 7);
	assert_int_equal(d.rows[1].v[NETDEV_TX_CARRIER], 11);
	assert_int_equal(d.rows[1].v[NETDEV_TX_COMPRESSED], 12);
	assert_string_equal(d.rows[2].name, "veth1a2b3c");
}

static void netdev_a_number_right_after_the_colon_is_read(void **state)
{
	(void)state;
	struct ifaces d;
	assert_int_equal(ifaces_of("  eth0:1234567890123 5 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n", &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.rows[0].v[NETDEV_RX_BYTES], 1234567890123ull);
	assert_int_equal(d.rows[0].v[NETDEV_TX_PACKETS], 8);
}

static void netdev_short_or_long_rows_are_refused(void **state)
{
	(void)state;
	struct ifaces d;
	assert_int_equal(ifaces_of("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
	                           "eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
	                           "eth 2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	                           ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	                           "eth3: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	                           &d),
	                 -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.rows[0].name, "eth3");
}

/* ---- /proc/net/snmp, netstat ---- */

static void snmp_fixture_fills_the_fields_asked_for(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/net/snmp");
	struct group_field f[] = {
	    {"Tcp", "RetransSegs", 0, false}, {"Udp", "InErrors", 0, false},
	    {"Tcp", "MaxConn", 0, false},     {"Tcp", "NoSuchKey", 0, false},
	    {"Udp", "RetransSegs", 0, false},
	};
	assert_int_equal(parse_snmp(b.data, b.len, f, 5), 0);
	free(b.data);
	assert_true(f[0].found);
	assert_true(f[1].found);
	assert_false(f[2].found); /* -1: not a count */
	assert_false(f[3].found);
	assert_false(f[4].found); /* the key, but in another group */
}

static void snmp_values_go_with_their_column(void **state)
{
	(void)state;
	static const char text[] = "Tcp: A B C\nTcp: 1 2 3\nUdp: A B\nUdp: 4 5\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	struct group_field f[] = {{"Tcp", "C", 0, false}, {"Udp", "A", 0, false}};
	assert_int_equal(parse_snmp(b.data, b.len, f, 2), 0);
	free(b.data);
	assert_true(f[0].found && f[0].value == 3);
	assert_true(f[1].found && f[1].value == 4);
}

static void snmp_a_pair_with_unequal_columns_is_not_trusted(void **state)
{
	(void)state;
	static const char text[] = "Tcp: A B C\nTcp: 1 2\nUdp: A\nUdp: 4\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	struct group_field f[] = {{"Tcp", "A", 0, false}, {"Udp", "A", 0, false}};
	assert_int_equal(parse_snmp(b.data, b.len, f, 2), 0);
	free(b.data);
	assert_false(f[0].found);
	assert_true(f[1].found && f[1].value == 4);
}

static void snmp_a_values_line_of_another_group_does_not_pair(void **state)
{
	(void)state;
	static const char text[] = "Tcp: A\nUdp: A\nUdp: 9\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	struct group_field f[] = {{"Tcp", "A", 0, false}, {"Udp", "A", 0, false}};
	assert_int_equal(parse_snmp(b.data, b.len, f, 2), 0);
	free(b.data);
	assert_false(f[0].found);
	assert_true(f[1].found && f[1].value == 9);
}

static void snmp_garbage_is_an_error(void **state)
{
	(void)state;
	static const char text[] = "hello\nworld\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	struct group_field f[] = {{"Tcp", "A", 0, false}};
	assert_int_equal(parse_snmp(b.data, b.len, f, 1), -1);
	free(b.data);
}

/* ---- sockstat ---- */

static void sockstat_fixture_fills_protocol_and_key(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/net/sockstat");
	struct group_field f[] = {
	    {"sockets", "used", 0, false}, {"TCP", "tw", 0, false},     {"TCP", "mem", 0, false},
	    {"FRAG", "memory", 0, false},  {"UDP", "orphan", 0, false},
	};
	assert_int_equal(parse_sockstat(b.data, b.len, f, 5), 0);
	free(b.data);
	assert_true(f[0].found && f[0].value == 15);
	assert_true(f[1].found && f[1].value == 7);
	assert_true(f[2].found && f[2].value == 31);
	assert_true(f[3].found && f[3].value == 0);
	assert_false(f[4].found);
}

static void sockstat_a_line_with_a_bad_pair_is_skipped_whole(void **state)
{
	(void)state;
	static const char text[] = "TCP: inuse 4 orphan x\nUDP: inuse 2 mem\nRAW: inuse 1\n";
	struct bytes b = copy_bytes(text, sizeof(text) - 1);
	struct group_field f[] = {
	    {"TCP", "inuse", 0, false}, {"UDP", "inuse", 0, false}, {"RAW", "inuse", 0, false}};
	assert_int_equal(parse_sockstat(b.data, b.len, f, 3), 0);
	free(b.data);
	assert_false(f[0].found);
	assert_false(f[1].found);
	assert_true(f[2].found && f[2].value == 1);
}

/* ---- mountinfo ---- */

static void mountinfo_fixture_gives_each_mount(void **state)
{
	(void)state;
	struct bytes b = fixture("proc/self/mountinfo");
	struct mounts m = {0};
	char scratch[4096];
	assert_int_equal(parse_mountinfo(b.data, b.len, scratch, sizeof(scratch), add_mount, &m),
	                 0);
	free(b.data);
	assert_int_equal(m.n, 8);
	const struct mount_copy *root = &m.rows[4];
	assert_string_equal(root->mount_point, "/");
	assert_string_equal(root->fstype, "ext4");
	assert_string_equal(root->source, "/dev/vda");
	assert_int_equal(root->major, 254);
	assert_false(root->read_only);
}

static void mountinfo_escapes_are_undone(void **state)
{
	(void)state;
	struct mounts m;
	assert_int_equal(mounts_of("36 35 0:40 / /mnt/my\\040disk\\011x\\134y rw - fuse.sshfs "
	                           "user@host:/a\\040b rw\n",
	                           &m),
	                 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.rows[0].mount_point, "/mnt/my disk\tx\\y");
	assert_string_equal(m.rows[0].fstype, "fuse.sshfs");
	assert_string_equal(m.rows[0].source, "user@host:/a b");
}

static void mountinfo_optional_fields_are_skipped(void **state)
{
	(void)state;
	struct mounts m;
	assert_int_equal(
	    mounts_of("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root "
	              "rw,errors=continue\n",
	              &m),
	    0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.rows[0].mount_point, "/mnt2");
	assert_string_equal(m.rows[0].fstype, "ext3");
}

static void mountinfo_read_only_from_mount_or_superblock_options(void **state)
{
	(void)state;
	struct mounts m;
	assert_int_equal(
	    mounts_of("1 0 8:1 / /a ro,relatime - ext4 /dev/sda1 rw\n"
	              "2 0 8:2 / /b rw,relatime - ext4 /dev/sda2 ro,errors=remount-ro\n"
	              "3 0 8:3 / /c rw,relatime - ext4 /dev/sda3 rw,errors=remount-ro\n",
	              &m),
	    0);
	assert_int_equal(m.n, 3);
	assert_true(m.rows[0].read_only);
	assert_true(m.rows[1].read_only);
	assert_false(m.rows[2].read_only); /* "remount-ro" is not "ro" */
}

static void mountinfo_malformed_lines_are_skipped(void **state)
{
	(void)state;
	struct mounts m;
	assert_int_equal(mounts_of("1 0 8:1 / /a rw - ext4\n"             /* no source */
	                           "1 0 8:1 / /a rw ext4 /dev/sda1 rw\n"  /* no "-" */
	                           "1 0 81 / /a rw - ext4 /dev/sda1 rw\n" /* no major:minor */
	                           "1 0 8:1 / /a\\000b rw - ext4 /dev/sda1 rw\n" /* NUL */
	                           "1 0 8:1 / /a\\777 rw - ext4 /dev/sda1 rw\n"  /* > 0377 */
	                           "1 0 8:1 / /ok rw - ext4 /dev/sda1 rw\n",
	                           &m),
	                 -1);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.rows[0].mount_point, "/ok");
}

static void mountinfo_a_line_too_long_for_the_scratch_is_refused(void **state)
{
	(void)state;
	char text[8192];
	char long_path[5000];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	snprintf(text, sizeof(text), "1 0 8:1 / %s rw - ext4 /dev/sda1 rw\n", long_path);
	struct mounts m;
	assert_int_equal(mounts_of(text, &m), -1);
	assert_int_equal(m.n, 0);
}

static void mountinfo_a_lone_backslash_is_kept(void **state)
{
	(void)state;
	struct mounts m;
	assert_int_equal(mounts_of("1 0 8:1 / /a\\b\\12 rw - ext4 /dev/sda1 rw\n", &m), 0);
	assert_string_equal(m.rows[0].mount_point, "/a\\b\\12");
}

/* ---- garbage ---- */

static void ignore_disk(const struct disk_row *row, void *arg)
{
	(void)arg;
	assert_true(row->name[0] != '\0' && row->nfields >= 11 && row->nfields <= 17);
}

static void ignore_iface(const struct netdev_row *row, void *arg)
{
	(void)arg;
	assert_true(row->name[0] != '\0');
}

static void ignore_mount(const struct mount_row *row, void *arg)
{
	(void)arg;
	assert_true(row->mount_point[0] && row->fstype[0] && row->source[0]);
}

static void every_parser_on(const struct bytes *b)
{
	struct group_field f[] = {{"Tcp", "A", 0, false}, {"TCP", "inuse", 0, false}};
	char scratch[256];
	parse_diskstats(b->data, b->len, ignore_disk, NULL);
	parse_netdev(b->data, b->len, ignore_iface, NULL);
	parse_snmp(b->data, b->len, f, 2);
	parse_sockstat(b->data, b->len, f, 2);
	parse_mountinfo(b->data, b->len, scratch, sizeof(scratch), ignore_mount, NULL);
}

static void parsers_survive_garbage(void **state)
{
	(void)state;
	for_each_garbage_input("0123456789 \t\n:|-\\/TcpAinuseTCPsda", 1616, every_parser_on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(diskstats_fixture_gives_every_device_with_its_fields),
	    cmocka_unit_test(diskstats_older_layouts_have_fewer_fields),
	    cmocka_unit_test(diskstats_columns_of_a_newer_kernel_are_ignored),
	    cmocka_unit_test(diskstats_bad_lines_are_skipped_and_reported),
	    cmocka_unit_test(diskstats_a_cut_last_line_is_dropped),
	    cmocka_unit_test(diskstats_a_name_too_long_or_with_nul_is_refused_not_cut),
	    cmocka_unit_test(diskstats_a_number_past_64_bits_is_refused),
	    cmocka_unit_test(netdev_fixture_gives_each_interface_and_skips_headers),
	    cmocka_unit_test(netdev_a_number_right_after_the_colon_is_read),
	    cmocka_unit_test(netdev_short_or_long_rows_are_refused),
	    cmocka_unit_test(snmp_fixture_fills_the_fields_asked_for),
	    cmocka_unit_test(snmp_values_go_with_their_column),
	    cmocka_unit_test(snmp_a_pair_with_unequal_columns_is_not_trusted),
	    cmocka_unit_test(snmp_a_values_line_of_another_group_does_not_pair),
	    cmocka_unit_test(snmp_garbage_is_an_error),
	    cmocka_unit_test(sockstat_fixture_fills_protocol_and_key),
	    cmocka_unit_test(sockstat_a_line_with_a_bad_pair_is_skipped_whole),
	    cmocka_unit_test(mountinfo_fixture_gives_each_mount),
	    cmocka_unit_test(mountinfo_escapes_are_undone),
	    cmocka_unit_test(mountinfo_optional_fields_are_skipped),
	    cmocka_unit_test(mountinfo_read_only_from_mount_or_superblock_options),
	    cmocka_unit_test(mountinfo_malformed_lines_are_skipped),
	    cmocka_unit_test(mountinfo_a_line_too_long_for_the_scratch_is_refused),
	    cmocka_unit_test(mountinfo_a_lone_backslash_is_kept),
	    cmocka_unit_test(parsers_survive_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
