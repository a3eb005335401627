/* TCP segments retransmitted; each one is also an event (bpf/slow_events.bpf.h) naming the
 * connection: addresses, ports and state. A retransmit runs mostly from a timer or on an incoming
 * ACK, in whatever task the CPU was running, so the event names no process. */
#include "kobs.bpf.h"
#include "slow_events.bpf.h"

#include <bpf/bpf_endian.h>

WORDS_MAP(retransmits, 1);

#define AF_INET  2
#define AF_INET6 10

static __noinline void report(const struct kobs_slow_settings *slow, const struct sock *sk)
{
	struct kobs_slow_event *e =
	    slow_event_start(slow, KOBS_SLOW_TCP_RETRANSMIT, bpf_ktime_get_ns(), 0);
	if (!e)
		return;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->details.tcp.family = family;
	e->details.tcp.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->details.tcp.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->details.tcp.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		BPF_CORE_READ_INTO(&e->details.tcp.saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&e->details.tcp.daddr, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->details.tcp.saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->details.tcp.daddr, sk, __sk_common.skc_v6_daddr);
	}
	slow_event_send(e);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&retransmits, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	/* (const struct sock *sk, const struct sk_buff *skb[, int err]) */
	const struct kobs_slow_settings *slow = slow_settings_get();
	if (slow)
		report(slow, (const struct sock *)ctx[0]);
	return 0;
}
