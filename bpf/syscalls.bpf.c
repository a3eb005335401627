/* Syscall latency: from entry to exit of the configured syscalls, per process group and
 * syscall. */
#include "kobs.bpf.h"

/* Rows: group * nr_syscalls + the syscall's index. */
HIST_MAP(hist);

/* The index + 1 of each timed syscall number; 0 for the others. Filled by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KOBS_SYSCALL_NRS);
	__type(key, __u32);
	__type(value, __u32);
} timed SEC(".maps");

struct entered {
	__u64 ts;
	__u32 row;
};

/* The timed syscall each thread is in, by thread id. LRU, so that the entries of threads killed
 * inside a syscall make room for others. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct entered);
} inside SEC(".maps");

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = (__u32)id;
	__u32 *index = bpf_map_lookup_elem(&timed, &nr);
	if (!index || *index == 0)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	int g = group_of(pid_tgid >> 32);
	if (g < 0)
		return 0;
	struct entered e = {
	    .ts = bpf_ktime_get_ns(),
	    .row = (__u32)g * kobs.nr_syscalls + *index - 1,
	};
	__u32 tid = (__u32)pid_tgid;
	bpf_map_update_elem(&inside, &tid, &e, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct entered *e = bpf_map_lookup_elem(&inside, &tid);
	if (!e)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - e->ts;
	__u32 row = e->row;
	bpf_map_delete_elem(&inside, &tid);
	hist_add(&hist, row, delta);
	return 0;
}
