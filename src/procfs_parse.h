/* Pure parsers for the system-wide /proc files: each takes a buffer and its length (the buffer
 * need not be NUL-terminated and may hold any bytes), fills a struct, and never reads past `len`.
 * They return 0 when the file's essential content was understood and -1 when it was not
 * (truncated or garbage input); on -1 the output may be partly filled and must not be used. */
#ifndef KOBS_PROCFS_PARSE_H
#define KOBS_PROCFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- /proc/stat ---- */
enum cpu_mode {
	CPU_USER,
	CPU_NICE,
	CPU_SYSTEM,
	CPU_IDLE,
	CPU_IOWAIT,
	CPU_IRQ,
	CPU_SOFTIRQ,
	CPU_STEAL,
	CPU_GUEST,
	CPU_GUEST_NICE,
	CPU_MODE__COUNT,
};

/* Bits of proc_stat.present: which optional lines were found. */
#define PROC_STAT_CTXT          (1u << 0)
#define PROC_STAT_INTR          (1u << 1)
#define PROC_STAT_PROCESSES     (1u << 2)
#define PROC_STAT_BTIME         (1u << 3)
#define PROC_STAT_PROCS_RUNNING (1u << 4)
#define PROC_STAT_PROCS_BLOCKED (1u << 5)

struct proc_stat {
	uint64_t cpu_ticks[CPU_MODE__COUNT]; /* the aggregate "cpu" line, in USER_HZ ticks; modes
	                                        the kernel does not print are 0 */
	unsigned cpu_modes;                  /* how many mode columns the "cpu" line had (4..10) */
	unsigned cpus;                       /* number of "cpuN" lines */
	uint64_t ctxt;
	uint64_t intr; /* the first number of the "intr" line: all interrupts */
	uint64_t processes;
	uint64_t btime; /* seconds since the epoch */
	uint64_t procs_running;
	uint64_t procs_blocked;
	unsigned present; /* PROC_STAT_* bits */
};
/* -1 when the aggregate "cpu" line is missing or has fewer than 4 numbers. */
int parse_proc_stat(const char *buf, size_t len, struct proc_stat *out);

/* One "cpuN" line of /proc/stat. */
struct cpu_line {
	unsigned cpu;                    /* N */
	unsigned modes;                  /* how many mode columns it had (4..10) */
	uint64_t ticks[CPU_MODE__COUNT]; /* in USER_HZ ticks; modes it did not have are 0 */
};
/* The "cpuN" lines, in the order of the file, into `out` (at most `max` of them); returns how
 * many. A line with fewer than 4 numbers, or a column that is not a number, or whose N is not
 * above the N of the line kept before it (the kernel lists CPUs in ascending order; a repeated
 * N would make two series of one), is left out; so are lines past `max`. */
size_t parse_proc_stat_cpus(const char *buf, size_t len, struct cpu_line *out, size_t max);

/* ---- /proc/meminfo and /proc/vmstat ---- */
struct kv_field {
	const char *key; /* in: the exact key, e.g. "MemTotal" or "pgfault" */
	uint64_t value;  /* out: meminfo values with a "kB" unit are converted to bytes */
	bool found;      /* out */
};
/* "Key:   123 kB" lines. Fills the fields whose key appears; unknown keys are ignored. -1 when
 * no line at all could be parsed. */
int parse_meminfo(const char *buf, size_t len, struct kv_field *fields, size_t nfields);
/* "key 123" lines, same contract. */
int parse_vmstat(const char *buf, size_t len, struct kv_field *fields, size_t nfields);

/* ---- /proc/loadavg: "0.52 0.58 0.59 3/1075 123456" ---- */
struct loadavg {
	double load1, load5, load15;
	uint64_t runnable; /* scheduling entities currently runnable */
	uint64_t threads;  /* scheduling entities that exist */
};
int parse_loadavg(const char *buf, size_t len, struct loadavg *out);

/* ---- /proc/pressure/{cpu,memory,io} ---- */
struct pressure_line {
	bool present;
	double avg10, avg60, avg300; /* percent */
	uint64_t total_us;           /* stall time in microseconds */
};
struct pressure {
	struct pressure_line some;
	struct pressure_line full; /* absent for cpu on kernels before 5.13 */
};
/* -1 when there is no valid "some" line. */
int parse_pressure(const char *buf, size_t len, struct pressure *out);

/* ---- /proc/softirqs ---- */
#define SOFTIRQ_NAME_MAX 24
struct softirq_total {
	char
	    name[SOFTIRQ_NAME_MAX]; /* as the kernel names it, e.g. "NET_RX"; truncated if longer */
	uint64_t total;             /* summed over all CPUs */
};
/* Fills up to `max` entries and sets *n. -1 when the header line or every row is invalid. */
int parse_softirqs(const char *buf, size_t len, struct softirq_total *out, size_t max, size_t *n);

#endif
