/* Packets the kernel dropped (kfree_skb), by the kernel's drop reason. */
#include "kobs.bpf.h"

/* One counter per reason value; the last one counts reasons beyond the others (a subsystem's
 * own reasons carry its id in their high bits). */
WORDS_MAP(drops, KOBS_DROP_REASONS);

SEC("raw_tp/kfree_skb")
int BPF_PROG(packet_drop)
{
	/* (struct sk_buff *skb, void *location, enum skb_drop_reason reason, ...) since 5.17 */
	__u32 reason = kobs.drop_has_reason ? (__u32)ctx[2] : 0;
	if (reason >= KOBS_DROP_REASONS)
		reason = KOBS_DROP_REASONS - 1;
	__u64 *c = bpf_map_lookup_elem(&drops, &reason);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}
