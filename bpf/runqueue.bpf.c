/* Run-queue latency: how long each thread waited in a run queue before it ran (after a wakeup,
 * or after being preempted while runnable), per process group.
 *
 * The scheduler keeps this itself (sched_info.run_delay, the total wait, and pcount, the number
 * of times the thread ran; /proc/<pid>/schedstat shows them), so no wakeup needs to be traced
 * and no clock read: when a thread leaves the CPU, the growth of its run_delay since it last
 * left is the one wait that preceded this run. Each thread's last figures sit in its task
 * storage, freed with the thread. */
#include "kobs.bpf.h"

HIST_MAP(hist);

struct seen {
	__u64 run_delay;
	__u64 pcount;
};

TASK_MAP(last, struct seen);

SEC("raw_tp/sched_switch")
int BPF_PROG(runq_switch)
{
	struct task_struct *t;
	int g = current_group(&t);
	if (g < 0)
		return 0;
	struct seen *s = bpf_task_storage_get(&last, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	__u64 delay = t->sched_info.run_delay, count = t->sched_info.pcount;
	/* Exactly one arrival since the last departure; the first time, only remember. */
	if (s->pcount && count == s->pcount + 1 && delay >= s->run_delay)
		hist_add(&hist, (__u32)g, delay - s->run_delay);
	s->run_delay = delay;
	s->pcount = count;
	return 0;
}
