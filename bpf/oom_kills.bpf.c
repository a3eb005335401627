/* OOM kills, by the victim's process group; each one is also an event (bpf/slow_events.bpf.h):
 * the victim, its memory, and the task that ran out of it. */
#include "kobs.bpf.h"
#include "slow_events.bpf.h"

/* One counter per group. */
WORDS_MAP(kills, 1);

/* Before Linux 6.2 the counters of a process's pages were atomics, not per-CPU counters. */
struct mm_rss_stat___o {
	long count[4];
} __attribute__((preserve_access_index));

struct mm_struct___o {
	struct mm_rss_stat___o rss_stat;
} __attribute__((preserve_access_index));

/* MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES: resident are all but the swapped. */
static __always_inline __u64 resident_pages(struct mm_struct *mm)
{
	long file, anon, shmem;
	if (bpf_core_type_exists(struct mm_rss_stat___o)) {
		struct mm_struct___o *o = (void *)mm;
		file = BPF_CORE_READ(o, rss_stat.count[0]);
		anon = BPF_CORE_READ(o, rss_stat.count[1]);
		shmem = BPF_CORE_READ(o, rss_stat.count[3]);
	} else {
		file = BPF_CORE_READ(mm, rss_stat[0].count);
		anon = BPF_CORE_READ(mm, rss_stat[1].count);
		shmem = BPF_CORE_READ(mm, rss_stat[3].count);
	}
	long pages = file + anon + shmem;
	return pages > 0 ? (__u64)pages : 0;
}

static __noinline void report(const struct kobs_slow_settings *slow, struct task_struct *victim,
                              __u32 tgid, int g)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kobs_slow_event *e =
	    slow_event_start(slow, KOBS_SLOW_OOM_KILL, bpf_ktime_get_ns(), tgid);
	if (!e)
		return;
	e->pid = tgid;
	e->group = (__u32)g;
	e->details.oom.trigger_pid = id >> 32;
	bpf_get_current_comm(e->details.oom.trigger_comm, sizeof(e->details.oom.trigger_comm));
	if (victim) {
		e->tid = BPF_CORE_READ(victim, pid);
		BPF_CORE_READ_STR_INTO(&e->comm, victim, comm);
		struct mm_struct *mm = BPF_CORE_READ(victim, mm);
		if (mm) {
			e->details.oom.rss_pages = resident_pages(mm);
			e->details.oom.vm_pages = BPF_CORE_READ(mm, total_vm);
		}
	} else {
		e->tid = tgid;
	}
	slow_event_send(e);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(oom_victim)
{
	/* (struct task_struct *task, uid_t uid) since 6.7; (int pid) before */
	struct task_struct *victim = NULL;
	__u32 tgid;
	if (kobs.victim_is_task) {
		victim = (struct task_struct *)ctx[0];
		tgid = BPF_CORE_READ(victim, tgid);
	} else {
		tgid = (__u32)ctx[0];
	}
	int g = group_of(tgid);
	if (g < 0)
		return 0;
	__u32 key = (__u32)g;
	__u64 *c = bpf_map_lookup_elem(&kills, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	const struct kobs_slow_settings *slow = slow_settings_get();
	if (slow)
		report(slow, victim, tgid, g);
	return 0;
}
