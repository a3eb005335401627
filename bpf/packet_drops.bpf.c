/* Packets the kernel dropped (kfree_skb), by the kernel's drop reason. */
#include "kobs.bpf.h"

/* One counter per reason value, one copy per CPU (a drop storm hits every CPU at once: shared
 * counters would bounce between them); the last counter counts reasons beyond the others (a
 * subsystem's own reasons carry its id in their high bits). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct kobs_drops);
	__uint(max_entries, 1);
} drops SEC(".maps");

SEC("raw_tp/kfree_skb")
int BPF_PROG(packet_drop)
{
	/* (struct sk_buff *skb, void *location, enum skb_drop_reason reason, ...) since 5.17 */
	__u32 reason = kobs.drop_has_reason ? (__u32)ctx[2] : 0;
	if (reason >= KOBS_DROP_REASONS)
		reason = KOBS_DROP_REASONS - 1;
	__u32 key = 0;
	struct kobs_drops *d = bpf_map_lookup_elem(&drops, &key);
	if (d)
		d->count[reason] += 1;
	return 0;
}
