/* Every thread's figures, read by the daemon once per scrape through a BPF task iterator: the
 * daemon keeps the iterator's link, and each read of a new iterator made from it walks every task
 * of the system and gets one binary record per thread (struct kobs_task_thread), followed, for
 * a thread group's leader, by one of its process (struct kobs_task_process): the same figures
 * /proc/<pid>/{stat,status,io,schedstat,limits,fd} give, for every process whatever its owner,
 * summed by the daemon over all the threads, without a file opened per process.
 *
 * What the kernel keeps for a process as a whole (the counters of its exited threads in
 * signal_struct, the memory of its mm, its open files and limits) goes in the process record;
 * what belongs to one thread in the thread record.
 *
 * The wait channel (the kernel function a sleeping thread waits in, as /proc/<pid>/wchan gives
 * it) is looked for only in the threads of groups the daemon marked in `wchan_groups`: it walks
 * the thread's kernel stack, which costs more than the rest of the record. */
#include "kobs.bpf.h"

/* Group ids whose sleeping threads get their wait channel: bit id % 64 of word id / 64. */
WORDS_MAP(wchan_groups, KOBS_WCHAN_WORDS);

/* Functions of the scheduler and of the locks: a thread's wait channel is the first frame of
 * its stack outside them, as the kernel's own get_wchan() has it. */
extern const void __sched_text_start __ksym __weak;
extern const void __sched_text_end __ksym __weak;
extern const void __lock_text_start __ksym __weak;
extern const void __lock_text_end __ksym __weak;

/* Before Linux 5.14 the task's state was `state`. */
struct task_struct___old {
	volatile long state;
} __attribute__((preserve_access_index));

/* Before Linux 6.2 the mm's counters were plain atomics. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

enum {
	MM_FILE = 0,
	MM_ANON = 1,
	MM_SWAP = 2,
	MM_SHMEM = 3,
};

#define RLIMIT_NOFILE_INDEX 7
#define STACK_FRAMES        24
#define FD_WORDS_MAX        (1u << 17) /* 8 M descriptors: beyond, the count is not given */

/* Records are made in per-CPU scratch rather than on the 512-byte BPF stack. */
struct scratch {
	struct kobs_task_thread thread;
	struct kobs_task_process process;
	__u64 stack[STACK_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return (__u32)BPF_CORE_READ((struct task_struct___old *)t, state);
}

/* One of the mm's page counters, as get_mm_counter() reads it: never below 0. */
static __always_inline __u64 mm_pages(struct mm_struct *mm, int which)
{
	long v;
	if (bpf_core_type_exists(struct mm_rss_stat___old))
		v = BPF_CORE_READ((struct mm_struct___old *)mm, rss_stat.count[which].counter);
	else
		v = (long)mm->rss_stat[which].count;
	return v > 0 ? (__u64)v : 0;
}

static __always_inline __u64 popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

struct fd_count {
	unsigned long *bits;
	__u64 count;
};

static long count_word(__u64 i, void *arg)
{
	struct fd_count *c = arg;
	unsigned long word = 0;
	if (bpf_probe_read_kernel(&word, sizeof(word), c->bits + i) < 0)
		return 1;
	c->count += popcount64(word);
	return 0;
}

/* The open descriptors of the process: the bits set in its table's open_fds, as the size of
 * /proc/<pid>/fd gives it since Linux 6.2. */
static __always_inline bool count_fds(struct task_struct *t, __u64 *out)
{
	struct files_struct *files = t->files;
	if (!files)
		return false;
	struct fdtable *fdt = files->fdt;
	if (!fdt)
		return false;
	__u32 words = (fdt->max_fds + 63) / 64;
	if (words > FD_WORDS_MAX)
		return false;
	struct fd_count c = {.bits = fdt->open_fds};
	bpf_loop(words, count_word, &c, 0);
	*out = c.count;
	return true;
}

static __always_inline bool in_sched_functions(__u64 ip)
{
	return (ip >= (__u64)&__sched_text_start && ip < (__u64)&__sched_text_end) ||
	       (ip >= (__u64)&__lock_text_start && ip < (__u64)&__lock_text_end);
}

static __always_inline bool wants_wchan(__u32 tgid)
{
	int g = group_of(tgid);
	if (g < 0)
		return false;
	__u32 word = (__u32)g / 64;
	__u64 *w = bpf_map_lookup_elem(&wchan_groups, &word);
	return w && (*w >> ((__u32)g % 64)) & 1;
}

/* The name of the first function on the sleeping thread's stack outside the scheduler. */
static __always_inline void find_wchan(struct task_struct *t, struct scratch *s)
{
	long bytes = bpf_get_task_stack(t, s->stack, sizeof(s->stack), 0);
	if (bytes <= 0)
		return;
	for (int i = 0; i < STACK_FRAMES; i++) {
		if (i * 8 >= bytes)
			return;
		__u64 ip = s->stack[i];
		if (in_sched_functions(ip))
			continue;
		static const char fmt[] = "%ps";
		bpf_snprintf(s->thread.wchan, sizeof(s->thread.wchan), fmt, &ip, sizeof(ip));
		return;
	}
}

/* struct task_io_accounting's fields exist only with CONFIG_TASK_XACCT (the syscall figures)
 * and CONFIG_TASK_IO_ACCOUNTING (the storage ones). */
static __always_inline void fill_io(struct kobs_task_io *out, struct task_io_accounting *io)
{
	if (bpf_core_field_exists(io->rchar)) {
		out->rchar = io->rchar;
		out->wchar = io->wchar;
		out->syscr = io->syscr;
		out->syscw = io->syscw;
	}
	if (bpf_core_field_exists(io->read_bytes)) {
		out->read_bytes = io->read_bytes;
		out->write_bytes = io->write_bytes;
		out->cancelled_write_bytes = io->cancelled_write_bytes;
	}
}

static __always_inline void write_thread(struct seq_file *seq, struct task_struct *t,
                                         struct scratch *s)
{
	struct kobs_task_thread *r = &s->thread;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = KOBS_TASK_THREAD;
	r->size = sizeof(*r);
	r->tid = t->pid;
	r->tgid = t->tgid;
	r->state = task_state(t);
	r->exit_state = t->exit_state;
	r->start_ns = t->start_boottime;
	if (bpf_core_field_exists(t->sched_info))
		r->run_delay_ns = t->sched_info.run_delay;
	r->counts.utime_ns = t->utime;
	r->counts.stime_ns = t->stime;
	r->counts.runtime_ns = t->se.sum_exec_runtime;
	r->counts.nvcsw = t->nvcsw;
	r->counts.nivcsw = t->nivcsw;
	r->counts.min_flt = t->min_flt;
	r->counts.maj_flt = t->maj_flt;
	fill_io(&r->counts.io, &t->ioac);
	__builtin_memcpy(r->comm, t->comm, sizeof(r->comm));
	/* S (interruptible) or D (uninterruptible), not stopped or exiting. */
	if ((r->state & (KOBS_TASK_INTERRUPTIBLE | KOBS_TASK_UNINTERRUPTIBLE)) && !r->exit_state &&
	    wants_wchan(r->tgid))
		find_wchan(t, s);
	bpf_seq_write(seq, r, sizeof(*r));
}

static __always_inline void write_process(struct seq_file *seq, struct task_struct *t,
                                          struct scratch *s)
{
	struct kobs_task_process *r = &s->process;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = KOBS_TASK_PROCESS;
	r->size = sizeof(*r);
	r->tgid = t->tgid;
	struct task_struct *parent = t->real_parent;
	r->ppid = parent ? parent->tgid : 0;
	const struct cred *cred = t->real_cred;
	r->euid = cred ? cred->euid.val : 0;
	struct signal_struct *sig = t->signal;
	if (sig) {
		r->threads = (__u32)sig->nr_threads;
		r->exited.utime_ns = sig->utime;
		r->exited.stime_ns = sig->stime;
		r->exited.runtime_ns = sig->sum_sched_runtime;
		r->exited.nvcsw = sig->nvcsw;
		r->exited.nivcsw = sig->nivcsw;
		r->exited.min_flt = sig->min_flt;
		r->exited.maj_flt = sig->maj_flt;
		fill_io(&r->exited.io, &sig->ioac);
		r->fd_limit = sig->rlim[RLIMIT_NOFILE_INDEX].rlim_cur;
	}
	struct mm_struct *mm = t->mm;
	if (mm) {
		__u64 resident =
		    mm_pages(mm, MM_FILE) + mm_pages(mm, MM_ANON) + mm_pages(mm, MM_SHMEM);
		__u64 peak = mm->hiwater_rss;
		r->flags |= KOBS_PROCESS_HAS_MM;
		r->virtual_pages = mm->total_vm;
		r->resident_pages = resident;
		r->swap_pages = mm_pages(mm, MM_SWAP);
		r->peak_resident_pages = peak > resident ? peak : resident;
	}
	if (count_fds(t, &r->open_fds))
		r->flags |= KOBS_PROCESS_HAS_FDS;
	bpf_seq_write(seq, r, sizeof(*r));
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	if (!t)
		return 0;
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	write_thread(ctx->meta->seq, t, s);
	if (t->pid == t->tgid)
		write_process(ctx->meta->seq, t, s);
	return 0;
}
