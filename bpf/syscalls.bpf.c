/* Syscall latency: from entry to exit of the configured syscalls, per process group and
 * syscall. */
#include "kobs.bpf.h"

/* Rows: group * nr_syscalls + the syscall's index. */
HIST_MAP(hist);
CPU_HIST_MAP(hist_cpu);

/* The index + 1 of each timed syscall number; 0 for the others. Filled by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KOBS_SYSCALL_NRS);
	__type(key, __u32);
	__type(value, __u32);
} timed SEC(".maps");

#if defined(__TARGET_ARCH_arm64)
struct pt_regs___syscallno {
	int syscallno;
} __attribute__((preserve_access_index));
#endif

struct entered {
	__u64 ts; /* 0: not in a timed syscall */
	__u32 row;
};

/* The timed syscall each thread is in: task storage, freed with the thread (one killed inside a
 * syscall leaves nothing behind). */
TASK_MAP(inside, struct entered);

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = (__u32)id;
	__u32 *index = bpf_map_lookup_elem(&timed, &nr);
	if (!index || *index == 0)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	int g = group_of(t->tgid);
	if (g < 0)
		return 0;
	struct entered *e = bpf_task_storage_get(&inside, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e)
		return 0;
	e->row = (__u32)g * kobs.nr_syscalls + *index - 1;
	e->ts = bpf_ktime_get_ns();
	return 0;
}

/* The number of the syscall a thread is leaving, where the registers say it; -1 elsewhere. */
static __always_inline long exiting_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ((struct pt_regs___syscallno *)regs, syscallno);
#else
	return -1;
#endif
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs)
{
	/* Most syscalls are not timed: tell so from the registers, which is cheaper than the
	 * task storage lookup. */
	long id = exiting_nr(regs);
	if (id >= 0) {
		__u32 nr = (__u32)id;
		__u32 *index = bpf_map_lookup_elem(&timed, &nr);
		if (!index || *index == 0)
			return 0;
	}
	struct entered *e = bpf_task_storage_get(&inside, bpf_get_current_task_btf(), 0, 0);
	if (!e || !e->ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - e->ts;
	e->ts = 0;
	hist_observe(&hist, &hist_cpu, e->row, delta);
	return 0;
}
