/* TCP segments retransmitted. */
#include "kobs.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} retransmits SEC(".maps");

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&retransmits, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}
