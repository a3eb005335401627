/* What every BPF program of kobsd uses: the settings, the pid -> group map the processes collector
 * keeps, and the log2 histograms. Included once by each bpf/NAME.bpf.c. */
#ifndef KOBS_BPF_BPF_H
#define KOBS_BPF_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kobs_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The object's only read-only data, so that the daemon finds it at offset 0 of .rodata. */
const volatile struct kobs_settings kobs = {};

/* An array of 64-bit words the daemon maps into its memory (counters, histograms). */
#define WORDS_MAP(name, entries)                                                                   \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                                  \
		__uint(map_flags, BPF_F_MMAPABLE);                                                 \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
		__uint(max_entries, entries);                                                      \
	} name SEC(".maps")

/* A histogram array map, sized by the daemon. */
#define HIST_MAP(name) WORDS_MAP(name, KOBS_HIST_WORDS)

/* The first KOBS_CPU_ROWS rows of a histogram, one copy per CPU (see kobs_bpf.h). */
#define CPU_HIST_MAP(name)                                                                         \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__type(key, __u32);                                                                \
		__type(value, struct kobs_hist);                                                   \
		__uint(max_entries, KOBS_CPU_ROWS);                                                \
	} name SEC(".maps")

/* Per-thread state, freed with the thread. */
#define TASK_MAP(name, value_type)                                                                 \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);                                           \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__type(key, int);                                                                  \
		__type(value, value_type);                                                         \
	} name SEC(".maps")

/* Made by the daemon once and handed to every object (bpf_map__reuse_fd), so all of them see the
 * same groups; its size is set by the daemon. */
WORDS_MAP(pid_groups, 1);

#define TASK_RUNNING 0

/* Before Linux 5.14 the task's state was `state`. */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

/* Whether the thread sched_switch takes off the CPU stays runnable (it was preempted, or yields)
 * rather than blocking. */
static __always_inline bool switched_out_runnable(unsigned long long *ctx, bool preempt,
                                                  struct task_struct *prev)
{
	long state;
	if (preempt)
		return true;
	if (kobs.switch_has_state)
		state = (long)ctx[3];
	else if (bpf_core_field_exists(prev->__state))
		state = BPF_CORE_READ(prev, __state);
	else
		state = BPF_CORE_READ((struct task_struct___o *)prev, state);
	return state == TASK_RUNNING;
}

/* The group of a thread group, or -1 when it is not counted (outside every group while those
 * are skipped, or beyond the rows the maps were sized for). */
static __always_inline int group_of(__u32 tgid)
{
	__u32 word = tgid / KOBS_PIDS_PER_WORD;
	__u64 *w = bpf_map_lookup_elem(&pid_groups, &word);
	__u32 g = 0;
	if (w)
		g = (*w >> (KOBS_GROUP_BITS * (tgid % KOBS_PIDS_PER_WORD))) & 0xffff;
	if (g == 0 && !kobs.count_ungrouped)
		return -1;
	if (g >= kobs.nr_groups)
		return -1;
	return (int)g;
}

/* pid and tgid of a task in one read when they are neighbours, as they are in every kernel
 * since 2.6; two reads otherwise. */
static __always_inline void task_ids(struct task_struct *t, __u32 *pid, __u32 *tgid)
{
	if (bpf_core_field_offset(t->tgid) == bpf_core_field_offset(t->pid) + 4) {
		__u32 ids[2] = {};
		bpf_probe_read_kernel(ids, sizeof(ids), (char *)t + bpf_core_field_offset(t->pid));
		*pid = ids[0];
		*tgid = ids[1];
	} else {
		*pid = BPF_CORE_READ(t, pid);
		*tgid = BPF_CORE_READ(t, tgid);
	}
}

/* Add one observation of `ns` to row `row` of a histogram array map. */
static __always_inline void hist_add(void *map, __u32 row, __u64 ns)
{
	__u32 key = row * KOBS_HIST_WORDS + kobs_bucket(ns);
	__u64 *c = bpf_map_lookup_elem(map, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	key = row * KOBS_HIST_WORDS + KOBS_HIST_SUM;
	c = bpf_map_lookup_elem(map, &key);
	if (c)
		__sync_fetch_and_add(c, ns);
}

/* Add one observation of `ns` to row `row` of a histogram kept in two maps: its first rows in
 * `cpu` (a CPU_HIST_MAP), where this CPU's copy needs no atomic add, and the rest in `shared` (a
 * HIST_MAP). Programs run with migration disabled, and a program is not run again on a CPU
 * where it is already running, so nothing else writes this CPU's copy in between. */
static __always_inline void hist_observe(void *shared, void *cpu, __u32 row, __u64 ns)
{
	if (row >= KOBS_CPU_ROWS) {
		hist_add(shared, row, ns);
		return;
	}
	struct kobs_hist *h = bpf_map_lookup_elem(cpu, &row);
	if (!h)
		return;
	__u32 b = kobs_bucket(ns);
	if (b < KOBS_HIST_BUCKETS)
		h->words[b] += 1;
	h->words[KOBS_HIST_SUM] += ns;
}

#endif
