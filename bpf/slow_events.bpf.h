/* Slow events: what the programs that report them share (bpf/kobs_bpf.h describes the maps and
 * the record). Included after kobs.bpf.h by each program that reports events.
 *
 * The common path, an observation under its threshold, costs one load of the threshold from the
 * settings map and one compare. Past the threshold, a per-kind rate limit decides: the event is
 * sent, or counted as suppressed, so that a storm costs no ring buffer reservation beyond the
 * limit and the daemon and the journal see at most per_second events of each kind a second. */
#ifndef KOBS_SLOW_EVENTS_BPF_H
#define KOBS_SLOW_EVENTS_BPF_H

#include "kobs.bpf.h"

/* All four are made by the daemon once and handed to every object (bpf_map__reuse_fd). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct kobs_slow_settings);
	__uint(max_entries, 1);
} slow_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} slow_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct kobs_slow_rate);
	__uint(max_entries, KOBS_SLOW_KINDS);
} slow_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct kobs_slow_counts);
	__uint(max_entries, 1);
} slow_counts SEC(".maps");

/* As the process events: the daemon reads the buffer every 100 ms, and is woken before that only
 * when it is a quarter full. */
#define SLOW_WAKEUP_AT (64 * 1024)

static __always_inline const struct kobs_slow_settings *slow_settings_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&slow_settings, &zero);
}

/* Start an event of `kind` seen at `now` by process `tgid`: a zeroed record with the kind, the
 * time and the CPU, to be filled in and sent with slow_event_send(); or NULL when the event is
 * not to be sent (the daemon's own, beyond the rate limit, or no room in the buffer), counted
 * then. The limit's second is shared by every CPU: two CPUs that start a new second at once may
 * each let a few more events through; each event is still either sent or counted, once. */
static __always_inline struct kobs_slow_event *slow_event_start(const struct kobs_slow_settings *s,
                                                                __u32 kind, __u64 now, __u32 tgid)
{
	if (tgid == s->self_tgid || kind >= KOBS_SLOW_KINDS)
		return NULL;
	__u32 key = kind, zero = 0;
	struct kobs_slow_rate *r = bpf_map_lookup_elem(&slow_rate, &key);
	struct kobs_slow_counts *c = bpf_map_lookup_elem(&slow_counts, &zero);
	if (!r || !c)
		return NULL;
	__u64 second = now / 1000000000;
	if (r->second != second) {
		r->second = second;
		r->sent = 0;
	}
	/* Per-CPU counters: an interrupt's program may count another kind meanwhile, never the
	 * same one (a program does not run again on a CPU where it is running). */
	if (__sync_fetch_and_add(&r->sent, 1) >= s->per_second) {
		c->suppressed[kind] += 1;
		return NULL;
	}
	struct kobs_slow_event *e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);
	if (!e) {
		c->lost[kind] += 1;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->cpu = bpf_get_smp_processor_id();
	e->time_ns = now;
	e->group = KOBS_SLOW_NO_GROUP;
	return e;
}

static __always_inline void slow_event_send(struct kobs_slow_event *e)
{
	__u64 flags = bpf_ringbuf_query(&slow_events, BPF_RB_AVAIL_DATA) >= SLOW_WAKEUP_AT
	                  ? BPF_RB_FORCE_WAKEUP
	                  : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

/* An event of the current thread: its ids and name. */
static __always_inline void slow_event_current(struct kobs_slow_event *e, int group)
{
	__u64 id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->group = group < 0 ? KOBS_SLOW_NO_GROUP : (__u32)group;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

#endif
