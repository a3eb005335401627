/* task_records_parse on any bytes (the task iterator's records, bpf/kobs_bpf.h). Beyond "no crash,
 * no read past len":
 * - it fails, with nothing kept, unless the input is whole records of the two known kinds and
 *   sizes; on success every record lies inside the input, and the records account for all of it
 *   (but for second process records of a tgid, which are dropped);
 * - threads come sorted by tgid, then tid, and processes by strictly ascending tgid;
 * - task_records_threads_of finds exactly each process's threads;
 * - any state gives one of the letters /proc uses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task_records.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The daemon reads into a malloc'd buffer: aligned for 8-byte words. */
	uint64_t *aligned = malloc(size ? size : 1);
	FUZZ_CHECK(aligned, "out of memory");
	memcpy(aligned, data, size);
	const unsigned char *base = (const unsigned char *)aligned;

	struct task_records r;
	task_records_init(&r);
	char err[256];
	int rc = task_records_parse(aligned, size, &r, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(r.nthreads == 0 && r.nprocesses == 0, "records kept after a failure");
		FUZZ_CHECK(err[0], "a failure without a reason");
	} else {
		size_t covered = 0;
		for (size_t i = 0; i < r.nthreads; i++) {
			const unsigned char *p = (const unsigned char *)r.threads[i];
			FUZZ_CHECK(p >= base && p + sizeof(*r.threads[i]) <= base + size,
			           "thread record %zu outside the input", i);
			FUZZ_CHECK(r.threads[i]->kind == KOBS_TASK_THREAD, "a thread of kind %u",
			           r.threads[i]->kind);
			covered += sizeof(*r.threads[i]);
			if (i)
				FUZZ_CHECK(r.threads[i - 1]->tgid < r.threads[i]->tgid ||
				               (r.threads[i - 1]->tgid == r.threads[i]->tgid &&
				                r.threads[i - 1]->tid <= r.threads[i]->tid),
				           "threads out of order at %zu", i);
		}
		for (size_t i = 0; i < r.nprocesses; i++) {
			const unsigned char *p = (const unsigned char *)r.processes[i];
			FUZZ_CHECK(p >= base && p + sizeof(*r.processes[i]) <= base + size,
			           "process record %zu outside the input", i);
			FUZZ_CHECK(r.processes[i]->kind == KOBS_TASK_PROCESS,
			           "a process of kind %u", r.processes[i]->kind);
			covered += sizeof(*r.processes[i]);
			if (i)
				FUZZ_CHECK(r.processes[i - 1]->tgid < r.processes[i]->tgid,
				           "processes out of order at %zu", i);
			size_t first, n = task_records_threads_of(&r, r.processes[i]->tgid, &first);
			for (size_t k = 0; k < r.nthreads; k++) {
				bool in = k >= first && k < first + n;
				FUZZ_CHECK(in == (r.threads[k]->tgid == r.processes[i]->tgid),
				           "threads_of(%u) gets thread %zu wrong",
				           r.processes[i]->tgid, k);
			}
		}
		FUZZ_CHECK(covered <= size && (covered == size || r.nprocesses > 0),
		           "records cover %zu of %zu bytes", covered, size);
	}
	if (size >= 8) {
		unsigned state, exit_state;
		memcpy(&state, data, 4);
		memcpy(&exit_state, data + 4, 4);
		char c = task_state_letter(state, exit_state);
		FUZZ_CHECK(c && strchr("RSDTtXZPI", c), "state letter '%c'", c);
	}
	task_records_free(&r);
	free(aligned);
	return 0;
}
