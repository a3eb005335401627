/* Block I/O latency: from the moment a request is issued to the device driver to its completion,
 * per disk and operation. A request slower than the block_io threshold is a slow event of the
 * thread that issued it (bpf/slow_events.bpf.h); the completion runs in whatever context the
 * device interrupted, so the issuer is noted at issue. */
#include "kobs.bpf.h"
#include "slow_events.bpf.h"

/* Histograms by (disk, operation); few keys, so a hash read with syscalls. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct kobs_bio_key);
	__type(value, struct kobs_hist);
} hist SEC(".maps");

/* A request in flight: when it was issued, and by which thread. The issuer's name is read only
 * for a slow request, from its task, which is checked to be still the same thread (a freed task
 * reads as another pid, or fails to read): a name copied at every issue would cost each one. */
struct issue {
	__u64 ts;
	__u64 id; /* bpf_get_current_pid_tgid() */
	struct task_struct *task;
};

/* The requests in flight, by address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct issue);
} issued SEC(".maps");

/* Before Linux 5.17 a request knew its disk directly. */
struct request___o {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

#define REQ_OP_BITS 8
#define MINORBITS   20

SEC("raw_tp/block_rq_issue")
int BPF_PROG(bio_issue)
{
	/* (struct request *rq), or (struct request_queue *q, struct request *rq) before 5.11 */
	__u64 rq = kobs.issue_has_queue ? ctx[1] : ctx[0];
	struct issue v = {
	    .ts = bpf_ktime_get_ns(),
	    .id = bpf_get_current_pid_tgid(),
	    .task = (struct task_struct *)bpf_get_current_task(),
	};
	bpf_map_update_elem(&issued, &rq, &v, BPF_ANY);
	return 0;
}

/* A slow event of the request's issuer. Not inlined: the common path stays as short as before. */
static __noinline void report(const struct kobs_slow_settings *slow, const struct issue *by,
                              __u64 now, __u64 ns, const struct kobs_bio_key *k)
{
	__u32 tgid = by->id >> 32, tid = (__u32)by->id;
	int g = group_of(tgid);
	if (g < 0)
		return;
	struct kobs_slow_event *e = slow_event_start(slow, KOBS_SLOW_BLOCK_IO, now, tgid);
	if (!e)
		return;
	e->pid = tgid;
	e->tid = tid;
	e->group = (__u32)g;
	int pid = -1;
	if (bpf_probe_read_kernel(&pid, sizeof(pid), &by->task->pid) == 0 && (__u32)pid == tid)
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), by->task->comm);
	if ((__u32)pid != tid) /* the issuer is gone: its name is not known */
		e->comm[0] = '\0';
	e->latency_ns = ns;
	e->details.block.dev = k->dev;
	e->details.block.op = k->op;
	slow_event_send(e);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(bio_complete, struct request *rq)
{
	__u64 key = (__u64)rq;
	struct issue *by = bpf_map_lookup_elem(&issued, &key);
	if (!by)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 delta = now - by->ts;
	const struct kobs_slow_settings *slow = slow_settings_get();
	bool is_slow = slow && by->id && delta > slow->threshold_ns[KOBS_SLOW_BLOCK_IO];

	struct gendisk *disk;
	if (bpf_core_field_exists(((struct request___o *)rq)->rq_disk))
		disk = BPF_CORE_READ((struct request___o *)rq, rq_disk);
	else
		disk = BPF_CORE_READ(rq, q, disk);
	struct kobs_bio_key k = {.op = BPF_CORE_READ(rq, cmd_flags) & ((1u << REQ_OP_BITS) - 1)};
	if (disk)
		k.dev = ((__u32)BPF_CORE_READ(disk, major) << MINORBITS) |
		        (__u32)BPF_CORE_READ(disk, first_minor);
	if (is_slow)
		report(slow, by, now, delta, &k);
	bpf_map_delete_elem(&issued, &key);

	struct kobs_hist *h = bpf_map_lookup_elem(&hist, &k);
	if (!h) {
		struct kobs_hist zero = {}; /* not static: .rodata holds the settings only */
		bpf_map_update_elem(&hist, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hist, &k);
		if (!h)
			return 0;
	}
	__u32 b = kobs_bucket(delta);
	if (b < KOBS_HIST_BUCKETS)
		__sync_fetch_and_add(&h->words[b], 1);
	__sync_fetch_and_add(&h->words[KOBS_HIST_SUM], delta);
	return 0;
}
