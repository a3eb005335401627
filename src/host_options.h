/* Settings of the host collectors (diskstats, netdev, netstat, filesystem, sockstat, uname,
 * time): where the host's sysfs and root filesystem are, and which devices and mounts to leave
 * out. Set by the command line (options.c), read by the collectors through collector_env. The
 * regexes are PCRE2 and were compiled once by options_parse, so a collector can count on them
 * compiling. */
#ifndef KOBS_HOST_OPTIONS_H
#define KOBS_HOST_OPTIONS_H

/* node_exporter's defaults (1.6 and later: zram devices are left out too), so that queries and
 * dashboards ported from it see the same devices and mounts. */
#define DEFAULT_DISK_EXCLUDE   "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"
#define DEFAULT_NETDEV_EXCLUDE "^lo$"
#define DEFAULT_MOUNT_POINTS_EXCLUDE                                                               \
	"^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define DEFAULT_FS_TYPES_EXCLUDE                                                                   \
	"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"    \
	"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|" \
	"sysfs|tracefs)$"
/* statvfs of a healthy mount takes microseconds, of a healthy network mount a round trip: a call
 * that takes this long is on a mount that hangs. */
#define DEFAULT_MOUNT_TIMEOUT_SECONDS 2.0

struct host_options {
	const char *sysfs;  /* --path.sysfs, without a trailing slash */
	const char *rootfs; /* --path.rootfs: "/" or a directory without a trailing slash */
	/* include XOR exclude (NULL when not given); the include wins the exclude's default */
	const char *disk_include, *disk_exclude;
	const char *netdev_include, *netdev_exclude;
	const char *mount_points_exclude, *fs_types_exclude;
	double mount_timeout; /* seconds */
};

#endif
