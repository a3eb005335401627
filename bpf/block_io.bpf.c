/* Block I/O latency: from the moment a request is issued to the device driver to its completion,
 * per disk and operation. */
#include "kobs.bpf.h"

/* Histograms by (disk, operation); few keys, so a hash read with syscalls. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct kobs_bio_key);
	__type(value, struct kobs_hist);
} hist SEC(".maps");

/* When each request in flight was issued, by its address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
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
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&issued, &rq, &ts, BPF_ANY);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(bio_complete, struct request *rq)
{
	__u64 key = (__u64)rq;
	__u64 *ts = bpf_map_lookup_elem(&issued, &key);
	if (!ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&issued, &key);

	struct gendisk *disk;
	if (bpf_core_field_exists(((struct request___o *)rq)->rq_disk))
		disk = BPF_CORE_READ((struct request___o *)rq, rq_disk);
	else
		disk = BPF_CORE_READ(rq, q, disk);
	struct kobs_bio_key k = {.op = BPF_CORE_READ(rq, cmd_flags) & ((1u << REQ_OP_BITS) - 1)};
	if (disk)
		k.dev = ((__u32)BPF_CORE_READ(disk, major) << MINORBITS) |
		        (__u32)BPF_CORE_READ(disk, first_minor);

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
