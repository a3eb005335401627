/* What the BPF programs (bpf/NAME.bpf.c) and the daemon (src/collector_bpf.c) share: the layout of
 * the maps they both read and write, the settings the daemon writes into each object's read-only
 * data before loading it, and the records of the ring buffer.
 *
 * Histograms are rows of KOBS_HIST_WORDS 64-bit words in array maps the daemon maps into its
 * memory: KOBS_HIST_BUCKETS counts, then the sum of the observations in nanoseconds. An
 * observation of v ns goes to the first bucket whose bound 2^(KOBS_HIST_FIRST + b) ns is >= v
 * (ceil-style log2, so each bucket is served with le = its own bound); anything above the last
 * finite bound goes to the overflow bucket, served only in +Inf. */
#ifndef KOBS_BPF_H
#define KOBS_BPF_H

#define KOBS_HIST_FIRST   9  /* the first bucket: <= 2^9 ns = 512 ns */
#define KOBS_HIST_FINITE  27 /* finite buckets: bounds 2^9 .. 2^35 ns (34.4 s) */
#define KOBS_HIST_BUCKETS (KOBS_HIST_FINITE + 1) /* and the overflow bucket */
#define KOBS_HIST_SUM     KOBS_HIST_BUCKETS      /* the word after the buckets: sum in ns */
#define KOBS_HIST_WORDS   (KOBS_HIST_BUCKETS + 1)

/* The bucket of an observation of v ns: the smallest b with v <= 2^(KOBS_HIST_FIRST + b), or the
 * overflow bucket. Shared by the programs and the unit tests: plain C without loops, which the
 * verifier takes as it is. */
static inline __attribute__((always_inline)) unsigned int kobs_bucket(unsigned long long v)
{
	if (v <= (1ull << KOBS_HIST_FIRST))
		return 0;
	unsigned long long x = v - 1; /* ceil(log2(v)) = floor(log2(v - 1)) + 1 */
	unsigned int log = 0, shift;
	shift = (x > 0xffffffffull) << 5;
	x >>= shift;
	log |= shift;
	shift = (x > 0xffff) << 4;
	x >>= shift;
	log |= shift;
	shift = (x > 0xff) << 3;
	x >>= shift;
	log |= shift;
	shift = (x > 0xf) << 2;
	x >>= shift;
	log |= shift;
	shift = (x > 0x3) << 1;
	x >>= shift;
	log |= shift;
	log |= (unsigned int)(x >> 1);
	unsigned int b = log + 1 - KOBS_HIST_FIRST;
	return b > KOBS_HIST_FINITE ? KOBS_HIST_FINITE : b;
}

/* The pid -> group map: an array of 64-bit words, each holding the 16-bit group ids of four
 * consecutive pids (pid p is bits 16*(p%4) .. 16*(p%4)+15 of word p/4), so that even a pid_max
 * of 2^22 takes 8 MiB of kernel memory. Group id 0 stands for the processes outside every
 * group. Only the daemon writes it. */
#define KOBS_PIDS_PER_WORD 4
#define KOBS_GROUP_BITS    16
#define KOBS_MAX_GROUPS    65535 /* ids 1..65535 */

/* The first rows of each per-group histogram (row = group id, or group id * syscalls timed +
 * the syscall's index) are kept per CPU, in a BPF_MAP_TYPE_PERCPU_ARRAY of struct kobs_hist
 * (each CPU adds to its own copy, without an atomic instruction; the daemon sums the copies),
 * the others in the shared array map of words, with atomic adds. Per-CPU rows take kernel
 * memory for every possible CPU (232 bytes each), hence a fixed number of them: with 64 rows, a
 * histogram map takes 14.5 KiB per CPU, 3.6 MiB on a 256-CPU host. The ungrouped processes (id 0)
 * and the first 63 groups, the common case, are counted per CPU. */
#define KOBS_CPU_ROWS 64

#define KOBS_MAX_SYSCALLS 16   /* most syscalls timed at once */
#define KOBS_SYSCALL_NRS  1024 /* syscall numbers the selection map covers */
#define KOBS_DROP_REASONS 512  /* drop reasons counted one by one; the last counts the rest */

/* Written by the daemon into each object's .rodata before it is loaded. Every program reads
 * what it needs; the verifier drops the branches the values rule out. */
struct kobs_settings {
	unsigned int nr_groups;   /* rows of the per-group maps: ids 0 .. nr_groups-1 */
	unsigned int pid_words;   /* words of the pid -> group map */
	unsigned int nr_syscalls; /* syscalls timed: rows per group of the syscall histograms */
	unsigned char
	    count_ungrouped; /* count processes outside every group (id 0), or skip them */
	/* The kernel's tracepoint shapes, read from its BTF by the daemon. */
	unsigned char switch_has_state; /* sched_switch passes prev_state (Linux >= 5.18) */
	unsigned char issue_has_queue;  /* block_rq_issue passes (q, rq) (Linux < 5.11) */
	unsigned char victim_is_task;  /* mark_victim passes the task, not its pid (Linux >= 6.7) */
	unsigned char drop_has_reason; /* kfree_skb passes a drop reason (Linux >= 5.17) */
};

/* A ring buffer record of the process_events program: what happened to a process (thread
 * group), so that the daemon keeps the pid -> group map up to date between two scrapes. The
 * daemon alone writes that map. */
enum kobs_event_type {
	KOBS_EVENT_FORK = 1, /* pid was born of parent; it joins its parent's group */
	KOBS_EVENT_EXEC = 2, /* pid called execve(): classify it by its new name */
	KOBS_EVENT_EXIT = 3, /* pid's last thread exited */
};

struct kobs_event {
	unsigned int type;
	unsigned int pid;
	unsigned int parent; /* KOBS_EVENT_FORK */
};

/* The key of the block I/O histograms: the disk (major << 20 | minor, as the kernel's dev_t)
 * and the operation (REQ_OP_*). */
struct kobs_bio_key {
	unsigned int dev;
	unsigned int op;
};

struct kobs_hist {
	unsigned long long words[KOBS_HIST_WORDS];
};

/* The task iterator's records (bpf/task_iter.bpf.c): one struct kobs_task_thread per thread, and
 * after a thread group leader's, one struct kobs_task_process. Each starts with its kind and size,
 * so that the daemon can tell them apart and check them. Times in nanoseconds. */
enum kobs_task_kind {
	KOBS_TASK_THREAD = 1,
	KOBS_TASK_PROCESS = 2,
};

/* Bits of task_struct.__state the programs test (include/linux/sched.h). */
#define KOBS_TASK_INTERRUPTIBLE   0x0001
#define KOBS_TASK_UNINTERRUPTIBLE 0x0002

/* struct task_io_accounting: what /proc/<pid>/io shows. */
struct kobs_task_io {
	unsigned long long rchar, wchar, syscr, syscw;
	unsigned long long read_bytes, write_bytes, cancelled_write_bytes;
};

/* What a thread counts for itself; in a process record, what its exited threads counted. */
struct kobs_task_counts {
	unsigned long long utime_ns, stime_ns; /* sampled at ticks; scaled to runtime_ns */
	unsigned long long runtime_ns;         /* on the CPU (se.sum_exec_runtime) */
	unsigned long long nvcsw, nivcsw;      /* voluntary, involuntary context switches */
	unsigned long long min_flt, maj_flt;
	struct kobs_task_io io;
};

#define KOBS_WCHAN_LEN 48

struct kobs_task_thread {
	unsigned int kind; /* KOBS_TASK_THREAD */
	unsigned int size;
	unsigned int tid, tgid;
	unsigned int state, exit_state;  /* task_struct.__state and .exit_state */
	unsigned long long start_ns;     /* start_boottime: since boot, suspend included */
	unsigned long long run_delay_ns; /* waiting on a run queue (sched_info.run_delay) */
	struct kobs_task_counts counts;
	char comm[16];
	char wchan[KOBS_WCHAN_LEN]; /* "" unless asked for and sleeping */
};

#define KOBS_PROCESS_HAS_MM  0x1 /* the memory figures are set (not a kernel thread) */
#define KOBS_PROCESS_HAS_FDS 0x2 /* open_fds is set */

struct kobs_task_process {
	unsigned int kind; /* KOBS_TASK_PROCESS */
	unsigned int size;
	unsigned int tgid, ppid, euid;
	unsigned int threads; /* signal_struct.nr_threads */
	unsigned int flags;
	unsigned int pad;
	struct kobs_task_counts exited; /* signal_struct: the process's exited threads */
	unsigned long long virtual_pages, resident_pages, swap_pages, peak_resident_pages;
	unsigned long long open_fds;
	unsigned long long fd_limit; /* soft RLIMIT_NOFILE */
};

/* The map of groups whose sleeping threads get their wait channel: one bit per group id. */
#define KOBS_WCHAN_WORDS ((KOBS_MAX_GROUPS + 1 + 63) / 64)

/* The packet drop counters, one per reason value (the last one counts reasons beyond the
 * others): the single element of a BPF_MAP_TYPE_PERCPU_ARRAY, so that drops on many CPUs at
 * once do not contend for one cache line. */
struct kobs_drops {
	unsigned long long count[KOBS_DROP_REASONS];
};

#endif
