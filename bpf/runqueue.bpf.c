/* Run-queue latency: from the moment a task becomes runnable (woken, or preempted while still
 * runnable) to the moment it runs, per process group. */
#include "kobs.bpf.h"

HIST_MAP(hist);

/* When each runnable thread was queued, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} queued SEC(".maps");

static __always_inline void enqueue(struct task_struct *p)
{
	__u32 pid, tgid;
	task_ids(p, &pid, &tgid);
	if (pid == 0 || group_of(tgid) < 0)
		return;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&queued, &pid, &ts, BPF_ANY);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(runq_wakeup, struct task_struct *p)
{
	enqueue(p);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(runq_wakeup_new, struct task_struct *p)
{
	enqueue(p);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(runq_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (switched_out_runnable(ctx, preempt, prev))
		enqueue(prev);

	__u32 pid, tgid;
	task_ids(next, &pid, &tgid);
	if (pid == 0)
		return 0;
	__u64 *ts = bpf_map_lookup_elem(&queued, &pid);
	if (!ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&queued, &pid);
	int g = group_of(tgid);
	if (g >= 0)
		hist_add(&hist, (__u32)g, delta);
	return 0;
}
