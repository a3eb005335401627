/* Pure parsers for the host collectors' files: /proc/diskstats, /proc/net/dev, /proc/net/snmp and
 * /proc/net/netstat, /proc/net/sockstat{,6} and /proc/self/mountinfo. Each takes a buffer and its
 * length (not NUL-terminated, any bytes), never reads past `len` and allocates nothing. The
 * rules of procfs_parse.c hold here too: only lines ending in '\n' are used, numbers are plain
 * decimal digits that fit in 64 bits, a line without the expected shape is skipped as a whole.
 *
 * Files with one row per device or mount hand each valid row to a callback and return 0 when
 * every complete line was understood, -1 when at least one was skipped (the valid rows were still
 * delivered). Names handed on are NUL-terminated, never empty, never hold a NUL byte, and are
 * never cut: a name too long for its buffer makes its line invalid, since a cut name could
 * collide with another. Rows are delivered in the file's order; a name may come twice in a
 * hostile file, and the caller must not serve it twice. */
#ifndef KOBS_HOST_PARSE_H
#define KOBS_HOST_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- /proc/diskstats ---- */
enum disk_field {
	DISK_READS,
	DISK_READS_MERGED,
	DISK_READ_SECTORS,
	DISK_READ_MS,
	DISK_WRITES,
	DISK_WRITES_MERGED,
	DISK_WRITE_SECTORS,
	DISK_WRITE_MS,
	DISK_IN_FLIGHT,
	DISK_IO_MS,
	DISK_WEIGHTED_MS,
	DISK_DISCARDS, /* Linux 4.18 and later */
	DISK_DISCARDS_MERGED,
	DISK_DISCARD_SECTORS,
	DISK_DISCARD_MS,
	DISK_FLUSHES, /* Linux 5.5 and later */
	DISK_FLUSH_MS,
	DISK_FIELD__COUNT,
};

#define DISK_NAME_MAX 64 /* the kernel's limit is 32 (DISK_NAME_LEN) */

struct disk_row {
	unsigned major, minor;
	char name[DISK_NAME_MAX];
	uint64_t v[DISK_FIELD__COUNT]; /* sectors are 512 bytes, whatever the device's own size */
	unsigned nfields;              /* 11, 15 or 17: how many of v the kernel printed */
};

typedef void (*disk_row_fn)(const struct disk_row *row, void *arg);
/* "major minor name" and 11, 15 or 17 numbers (more, from a newer kernel, are ignored). */
int parse_diskstats(const char *buf, size_t len, disk_row_fn fn, void *arg);

/* ---- /proc/net/dev ---- */
enum netdev_field {
	NETDEV_RX_BYTES,
	NETDEV_RX_PACKETS,
	NETDEV_RX_ERRS,
	NETDEV_RX_DROP,
	NETDEV_RX_FIFO,
	NETDEV_RX_FRAME,
	NETDEV_RX_COMPRESSED,
	NETDEV_RX_MULTICAST,
	NETDEV_TX_BYTES,
	NETDEV_TX_PACKETS,
	NETDEV_TX_ERRS,
	NETDEV_TX_DROP,
	NETDEV_TX_FIFO,
	NETDEV_TX_COLLS,
	NETDEV_TX_CARRIER,
	NETDEV_TX_COMPRESSED,
	NETDEV_FIELD__COUNT,
};

#define NETDEV_NAME_MAX 32 /* the kernel's limit is 15 bytes (IFNAMSIZ - 1) */

struct netdev_row {
	char name[NETDEV_NAME_MAX];
	uint64_t v[NETDEV_FIELD__COUNT];
};

typedef void (*netdev_row_fn)(const struct netdev_row *row, void *arg);
/* "name: 16 numbers" rows; the two header lines (they hold '|') are not rows. */
int parse_netdev(const char *buf, size_t len, netdev_row_fn fn, void *arg);

/* ---- "Group: key key ..." tables: /proc/net/snmp, /proc/net/netstat, sockstat ---- */
struct group_field {
	const char *group; /* in: "Tcp", "TcpExt", "TCP" ... (without the colon) */
	const char *key;   /* in: "RetransSegs", "inuse" ... */
	uint64_t value;    /* out */
	bool found;        /* out */
};

/* /proc/net/snmp and /proc/net/netstat: each group is a line of names followed by a line of
 * numbers with the same prefix. Fills the fields found (a column that is not a plain number, such
 * as Tcp MaxConn's -1, is left not found). -1 when no pair of lines could be used. */
int parse_snmp(const char *buf, size_t len, struct group_field *fields, size_t nfields);

/* /proc/net/sockstat and sockstat6: "TCP: inuse 4 orphan 0 tw 0 alloc 4 mem 31", a protocol
 * and key/value pairs. Fills the fields found. -1 when no line could be used. */
int parse_sockstat(const char *buf, size_t len, struct group_field *fields, size_t nfields);

/* ---- /proc/self/mountinfo ---- */
struct mount_row {
	unsigned major, minor;
	const char *mount_point; /* the kernel's octal escapes (\040 for a space...) undone */
	const char *fstype;      /* "ext4", or "fuse.sshfs" with its subtype */
	const char *source;      /* "/dev/vda1", "tmpfs", "server:/export" */
	bool read_only;          /* "ro" in the mount's or the superblock's options */
};

typedef void (*mount_row_fn)(const struct mount_row *row, void *arg);
/* The strings handed to `fn` live in `scratch` until the next row: a line whose fields do not fit
 * in `scratch_len` bytes is invalid. */
int parse_mountinfo(const char *buf, size_t len, char *scratch, size_t scratch_len, mount_row_fn fn,
                    void *arg);

#endif
