/* OOM kills, by the victim's process group. */
#include "kobs.bpf.h"

/* One counter per group. */
WORDS_MAP(kills, 1);

SEC("raw_tp/mark_victim")
int BPF_PROG(oom_victim)
{
	/* (struct task_struct *task, uid_t uid) since 6.7; (int pid) before */
	__u32 tgid;
	if (kobs.victim_is_task)
		tgid = BPF_CORE_READ((struct task_struct *)ctx[0], tgid);
	else
		tgid = (__u32)ctx[0];
	int g = group_of(tgid);
	if (g < 0)
		return 0;
	__u32 key = (__u32)g;
	__u64 *c = bpf_map_lookup_elem(&kills, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}
