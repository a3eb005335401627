/* Off-CPU time: from the moment a thread blocks (leaves the CPU while not runnable: waiting for
 * I/O, a lock, a timer, a message) to the moment it runs again, per process group. It includes
 * the run-queue wait that follows the wakeup. */
#include "kobs.bpf.h"

HIST_MAP(hist);

/* When each blocked thread left the CPU, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} blocked SEC(".maps");

SEC("raw_tp/sched_switch")
int BPF_PROG(offcpu_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid, tgid;
	if (!switched_out_runnable(ctx, preempt, prev)) {
		task_ids(prev, &pid, &tgid);
		if (pid != 0 && group_of(tgid) >= 0) {
			__u64 ts = bpf_ktime_get_ns();
			bpf_map_update_elem(&blocked, &pid, &ts, BPF_ANY);
		}
	}

	task_ids(next, &pid, &tgid);
	if (pid == 0)
		return 0;
	__u64 *ts = bpf_map_lookup_elem(&blocked, &pid);
	if (!ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&blocked, &pid);
	int g = group_of(tgid);
	if (g >= 0)
		hist_add(&hist, (__u32)g, delta);
	return 0;
}
