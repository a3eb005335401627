/* Keeps the pid -> group map fresh between two scrapes: a new process joins its parent's group at
 * fork, an exec is sent to the daemon (which classifies the process by its new name at once),
 * and a process that exits leaves the map. */
#include "kobs.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/* Exec events the ring buffer had no room for. */
WORDS_MAP(lost, 1);

/* Set the 16-bit group id of `tgid` without disturbing its three neighbours, which the daemon may
 * be writing at the same time. */
static __always_inline void set_group(__u32 tgid, __u64 g)
{
	__u32 word = tgid / KOBS_PIDS_PER_WORD;
	__u64 *w = bpf_map_lookup_elem(&pid_groups, &word);
	if (!w)
		return;
	__u32 shift = KOBS_GROUP_BITS * (tgid % KOBS_PIDS_PER_WORD);
	__sync_fetch_and_and(w, ~(0xffffull << shift));
	if (g)
		__sync_fetch_and_or(w, g << shift);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid, ptgid, cpid, ctgid;
	task_ids(parent, &ppid, &ptgid);
	task_ids(child, &cpid, &ctgid);
	if (ctgid == ptgid) /* a new thread */
		return 0;
	__u32 word = ptgid / KOBS_PIDS_PER_WORD;
	__u64 *w = bpf_map_lookup_elem(&pid_groups, &word);
	if (!w)
		return 0;
	__u64 g = (*w >> (KOBS_GROUP_BITS * (ptgid % KOBS_PIDS_PER_WORD))) & 0xffff;
	set_group(ctgid, g);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p)
{
	struct kobs_exec_event ev = {.pid = bpf_get_current_pid_tgid() >> 32};
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0) < 0) {
		__u32 key = 0;
		__u64 *c = bpf_map_lookup_elem(&lost, &key);
		if (c)
			__sync_fetch_and_add(c, 1);
	}
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	/* Each thread passes here; the process is gone when the last one does. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	set_group(BPF_CORE_READ(p, tgid), 0);
	return 0;
}
