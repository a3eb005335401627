/* The bpf collector's task iterator, as the processes collector uses it: when the bpf collector
 * has attached bpf/task_iter.bpf.c it fills this in, and each scrape of the processes collector
 * reads every thread's figures from a new iterator instead of walking /proc. Both run on the
 * collecting thread only. */
#ifndef KOBS_TASK_FEED_H
#define KOBS_TASK_FEED_H

#include <stddef.h>
#include <stdint.h>

struct task_feed {
	void *ctx; /* NULL: no iterator */
	/* A new iterator over every task of the system: a descriptor that reads records
	 * (task_records.h) until 0; the caller closes it. -1 with errno when none can be made. */
	int (*open)(void *ctx);
	/* The group ids whose sleeping threads get their wait channel named: bit id % 64 of word
	 * id / 64, `words` words. */
	void (*set_wchan_groups)(void *ctx, const uint64_t *bits, size_t words);
};

#endif
