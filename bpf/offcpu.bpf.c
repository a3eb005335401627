/* Off-CPU time: from the moment a thread blocks (leaves the CPU while not runnable: waiting for
 * I/O, a lock, a timer, a message) to the moment it runs again, per process group; the run-queue
 * wait after the wakeup is included.
 *
 * Measured on the scheduler's own clock without reading a clock: when a thread blocks, the time
 * is its last arrival on the CPU (sched_info.last_arrival) plus what it has run since
 * (se.sum_exec_runtime - se.prev_sum_exec_runtime); when it leaves the CPU the next time, its new
 * last_arrival ends the interval. So an interval is counted when the thread next leaves the CPU,
 * and the one before a thread exits is not counted. Each thread's pending start sits in its task
 * storage, freed with the thread. */
#include "kobs.bpf.h"

HIST_MAP(hist);

TASK_MAP(blocked_at, __u64);

SEC("raw_tp/sched_switch")
int BPF_PROG(offcpu_switch, bool preempt)
{
	struct task_struct *t;
	int g = current_group(&t);
	if (g < 0)
		return 0;
	bool blocks = !switched_out_runnable(ctx, preempt, t);
	__u64 *at =
	    bpf_task_storage_get(&blocked_at, t, 0, blocks ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!at)
		return 0;
	__u64 arrival = t->sched_info.last_arrival;
	if (*at && arrival > *at)
		hist_add(&hist, (__u32)g, arrival - *at);
	*at = blocks ? arrival + (t->se.sum_exec_runtime - t->se.prev_sum_exec_runtime) : 0;
	return 0;
}
