/* TCP segments retransmitted. */
#include "kobs.bpf.h"

WORDS_MAP(retransmits, 1);

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&retransmits, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}
