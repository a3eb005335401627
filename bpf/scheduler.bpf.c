/* The scheduler's latencies, per process group, from one program on sched_switch (one pass over
 * the thread leaving the CPU serves both, at the cost of one):
 *
 * Run-queue latency: how long the thread waited in a run queue before this run (after a wakeup,
 * or after being preempted while runnable). The scheduler keeps this itself
 * (sched_info.run_delay, the total wait, and pcount, the number of runs; /proc/<pid>/schedstat
 * shows them), so no wakeup is traced and no clock read: when a thread leaves the CPU, the
 * growth of its run_delay since it last left is the one wait that preceded this run.
 *
 * Off-CPU time: from the moment the thread blocked (left the CPU while not runnable: waiting for
 * I/O, a lock, a timer, a message) to the moment it ran again, run-queue wait included. On the
 * scheduler's clock without reading a clock: when a thread blocks, the time is its last arrival
 * on the CPU (sched_info.last_arrival) plus what it has run since (se.sum_exec_runtime -
 * se.prev_sum_exec_runtime); the next time it leaves the CPU, its new last_arrival ends the
 * interval. So the interval before a thread exits is not counted.
 *
 * Each thread's last figures sit in its task storage, freed with the thread: one lookup per
 * switch serves both histograms.
 *
 * Why not the wait of the thread coming on the CPU, next->sched_info.last_queued against the run
 * queue's clock, with no task storage? The storage is needed for the off-CPU time anyway; the
 * kernel splits a wait when the waiting thread is moved to another CPU's queue
 * (sched_info_dequeue adds the first part to run_delay and clears last_queued), which the growth
 * of run_delay counts whole and last_queued does not; and the typed per-CPU ksym `runqueues`
 * that holds the clock is resolved through kallsyms, which lists no data symbols without
 * CONFIG_KALLSYMS_ALL. */
#include "kobs.bpf.h"

HIST_MAP(runq);
HIST_MAP(offcpu);
CPU_HIST_MAP(runq_cpu);
CPU_HIST_MAP(offcpu_cpu);

struct seen {
	__u64 run_delay;
	__u64 pcount;
	__u64 blocked_at; /* 0: not blocked when it last left */
};

TASK_MAP(last, struct seen);

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch, bool preempt)
{
	/* The thread leaving the CPU is still current here. */
	struct task_struct *t = bpf_get_current_task_btf();
	if (t->pid == 0)
		return 0;
	int g = group_of(t->tgid);
	if (g < 0)
		return 0;
	struct seen *s = bpf_task_storage_get(&last, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	__u64 delay = t->sched_info.run_delay, count = t->sched_info.pcount;
	__u64 arrival = t->sched_info.last_arrival;
	/* Exactly one arrival since the last departure; the first time, only remember. */
	if (s->pcount && count == s->pcount + 1 && delay >= s->run_delay)
		hist_observe(&runq, &runq_cpu, (__u32)g, delay - s->run_delay);
	if (s->blocked_at && arrival > s->blocked_at)
		hist_observe(&offcpu, &offcpu_cpu, (__u32)g, arrival - s->blocked_at);
	s->run_delay = delay;
	s->pcount = count;
	s->blocked_at = switched_out_runnable(ctx, preempt, t)
	                    ? 0
	                    : arrival + (t->se.sum_exec_runtime - t->se.prev_sum_exec_runtime);
	return 0;
}
