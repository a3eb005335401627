/* Pure parsers for the per-process files of /proc/<pid> that the processes collector reads
 * itself, because libproc2 4.0.2 lacks their figures (status: context switches and VmHWM;
 * schedstat; limits) or hides a failed read behind zeros (io). Same contract as procfs_parse.h:
 * a buffer and its length (not NUL-terminated, any bytes), never a read past `len`, 0 when the
 * essential content was understood and -1 when not (then the output must not be used). */
#ifndef KOBS_PROCFS_PID_PARSE_H
#define KOBS_PROCFS_PID_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* ---- /proc/<pid>/status ---- */
#define PID_STATUS_CTXT (1u << 0) /* both context switch lines */
#define PID_STATUS_HWM  (1u << 1) /* VmHWM */
#define PID_STATUS_RSS  (1u << 2) /* VmRSS */
#define PID_STATUS_SWAP (1u << 3) /* VmSwap */

struct pid_status {
	uint64_t voluntary_ctxt;    /* voluntary_ctxt_switches */
	uint64_t nonvoluntary_ctxt; /* nonvoluntary_ctxt_switches */
	uint64_t hwm_bytes;         /* VmHWM, converted from kB */
	uint64_t rss_bytes;         /* VmRSS */
	uint64_t swap_bytes;        /* VmSwap */
	unsigned present;           /* PID_STATUS_* bits */
};
/* -1 when the context switch lines are missing (every kernel since 2.6.23 prints them, for
 * kernel threads and zombies too; the Vm* lines are absent for both). */
int parse_pid_status(const char *buf, size_t len, struct pid_status *out);

/* ---- /proc/<pid>/io ---- */
struct pid_io {
	uint64_t rchar, wchar;            /* bytes through read/write-like syscalls */
	uint64_t syscr, syscw;            /* read/write-like syscalls */
	uint64_t read_bytes, write_bytes; /* bytes fetched from / sent to the storage layer */
};
/* -1 unless all six fields are there. */
int parse_pid_io(const char *buf, size_t len, struct pid_io *out);

/* ---- /proc/<pid>/schedstat: "oncpu_ns wait_ns timeslices\n" (of the main thread) ---- */
struct pid_schedstat {
	uint64_t oncpu_ns;
	uint64_t wait_ns; /* time spent runnable, waiting on a run queue */
	uint64_t timeslices;
};
int parse_pid_schedstat(const char *buf, size_t len, struct pid_schedstat *out);

/* ---- /proc/<pid>/limits: the soft limit of the "Max open files" line ---- */
#define PID_LIMIT_UNLIMITED UINT64_MAX
int parse_pid_limits_nofile(const char *buf, size_t len, uint64_t *soft);

/* ---- /proc/<pid>/cgroup: the cgroup v2 path ---- */
/* Point `*path`/`*path_len` at the path of the "0::PATH" line (the unified hierarchy); on a
 * cgroup v1 only system, at the path of the first line with a "name=systemd" or empty
 * controller list, else of the first line. -1 when no line has the "ID:CONTROLLERS:PATH" form. */
/* ---- /proc/<pid>/stat: what an exec needs ---- */
/* The command name between the first '(' and the last ')' (it may hold any bytes, ')' too; cut
 * to 15 bytes and NUL-terminated into `comm`), and the start time in clock ticks since boot
 * (field 22). -1 when either is missing. */
int parse_pid_stat_start(const char *buf, size_t len, char comm[16], uint64_t *start_ticks);

/* The effective uid: the second number of the first "Uid:" line of /proc/<pid>/status. */
int parse_pid_status_euid(const char *buf, size_t len, unsigned *euid);

/* Split /proc/<pid>/cmdline at its NULs into at most `max` arguments pointing into `buf`; the
 * trailing NUL ends the last one. Returns the number of arguments (0 for an empty one). */
size_t split_pid_cmdline(const char *buf, size_t len, const char **argv, size_t max);

int parse_pid_cgroup(const char *buf, size_t len, const char **path, size_t *path_len);

#endif
