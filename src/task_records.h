/* The records of the bpf collector's task iterator (bpf/task_iter.bpf.c, layout in
 * bpf/kobs_bpf.h): one per thread, and one per process after its leader's. Pure, so that the
 * unit tests and a fuzzer can drive them: the parser takes a buffer and its length and checks
 * every record's kind and size before pointing at it.
 *
 * Also here, the kernel's own rules for turning a task's raw figures into what /proc shows: the
 * state letter, and the split of the CPU time between user and system mode. */
#ifndef KOBS_TASK_RECORDS_H
#define KOBS_TASK_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/kobs_bpf.h"

/* Pointers into the parsed buffer, which must stay as it is while they are used. */
struct task_records {
	const struct kobs_task_thread **threads; /* sorted by tgid, then tid */
	size_t nthreads, threads_cap;
	const struct kobs_task_process **processes; /* sorted by tgid; one per tgid */
	size_t nprocesses, processes_cap;
};

void task_records_init(struct task_records *r);
/* Release the arrays (not the buffer they point into). */
void task_records_free(struct task_records *r);

/* Parse `len` bytes of records at `buf`, which must be aligned for 8-byte words. Returns 0, or
 * -1 with what is wrong in `err` (a record cut short, an unknown kind, a size that does not
 * match this build's records); the records before the fault are left out too. A second process
 * record of the same tgid (the iterator cannot produce one) is dropped. */
int task_records_parse(const void *buf, size_t len, struct task_records *out, char *err,
                       size_t errlen);

/* The threads of process `tgid`: the first of them in `r->threads` and how many, 0 if none. */
size_t task_records_threads_of(const struct task_records *r, unsigned tgid, size_t *first);

/* The state letter /proc/<pid>/stat shows for a task's __state and exit_state (R, S, D, T, t,
 * X, Z, P or I), as the kernel's task_state_index() makes it. */
char task_state_letter(unsigned state, unsigned exit_state);

/* The kernel's cputime_adjust() without its memory of the last split: `runtime` (precise, from
 * the scheduler) divided between user and system mode in the proportion of the tick-sampled
 * `utime` and `stime`; all in nanoseconds. */
void task_cputime_split(uint64_t utime, uint64_t stime, uint64_t runtime, uint64_t *user,
                        uint64_t *system);

#endif
