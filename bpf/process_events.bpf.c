/* Forks, execs and exits of processes, sent to the daemon through a ring buffer so that it keeps
 * the pid -> group map up to date between two scrapes: a new process joins its parent's group,
 * one that calls execve() is classified by its new name at once, and one that exits leaves the
 * map. New threads are left out: they share their process's entry. */
#include "kobs.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024); /* some 2,700 events between two reads */
} events SEC(".maps");

/* Events the ring buffer had no room for. */
WORDS_MAP(lost, 1);

/* Waking the daemon for each event costs more than the rest of the program (about 30 us on a
 * VM, where the wakeup interrupts another CPU): it reads the buffer every 100 ms anyway, and is
 * woken only when the buffer is a quarter full. */
#define WAKEUP_AT (16 * 1024)

static __always_inline void send(__u32 type, __u32 pid, __u32 parent)
{
	struct kobs_event ev = {.type = type, .pid = pid, .parent = parent};
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_AT
	                  ? BPF_RB_FORCE_WAKEUP
	                  : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), flags) < 0) {
		__u32 key = 0;
		__u64 *c = bpf_map_lookup_elem(&lost, &key);
		if (c)
			__sync_fetch_and_add(c, 1);
	}
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid, ptgid, cpid, ctgid;
	task_ids(parent, &ppid, &ptgid);
	task_ids(child, &cpid, &ctgid);
	if (ctgid != ptgid) /* not a new thread */
		send(KOBS_EVENT_FORK, ctgid, ptgid);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(proc_exec)
{
	send(KOBS_EVENT_EXEC, bpf_get_current_pid_tgid() >> 32, 0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(proc_exit)
{
	/* Each thread passes here; the process is gone when the last one does. */
	struct task_struct *t = bpf_get_current_task_btf();
	if (t->signal->live.counter == 0)
		send(KOBS_EVENT_EXIT, t->tgid, 0);
	return 0;
}
