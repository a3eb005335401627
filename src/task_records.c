#include "task_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void task_records_init(struct task_records *r)
{
	memset(r, 0, sizeof(*r));
}

void task_records_free(struct task_records *r)
{
	free(r->threads);
	free(r->processes);
	task_records_init(r);
}

static int by_thread(const void *a, const void *b)
{
	const struct kobs_task_thread *x = *(const struct kobs_task_thread *const *)a;
	const struct kobs_task_thread *y = *(const struct kobs_task_thread *const *)b;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int by_process(const void *a, const void *b)
{
	const struct kobs_task_process *x = *(const struct kobs_task_process *const *)a;
	const struct kobs_task_process *y = *(const struct kobs_task_process *const *)b;
	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

/* Push `p` on a growing array of pointers. */
static void push(const void ***items, size_t *n, size_t *cap, const void *p)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*items = xreallocarray(*items, *cap, sizeof(**items));
	}
	(*items)[(*n)++] = p;
}

int task_records_parse(const void *buf, size_t len, struct task_records *out, char *err,
                       size_t errlen)
{
	const unsigned char *p = buf;
	size_t off = 0;
	out->nthreads = out->nprocesses = 0;
	while (off < len) {
		unsigned kind, size;
		if (len - off < 2 * sizeof(unsigned)) {
			snprintf(err, errlen, "a record cut short at byte %zu of %zu", off, len);
			goto fail;
		}
		memcpy(&kind, p + off, sizeof(kind));
		memcpy(&size, p + off + sizeof(kind), sizeof(size));
		size_t want = kind == KOBS_TASK_THREAD    ? sizeof(struct kobs_task_thread)
		              : kind == KOBS_TASK_PROCESS ? sizeof(struct kobs_task_process)
		                                          : 0;
		if (!want) {
			snprintf(err, errlen, "a record of unknown kind %u at byte %zu", kind, off);
			goto fail;
		}
		if (size != want) {
			snprintf(err, errlen,
			         "a record of %u bytes where this build expects %zu, at byte %zu "
			         "(the BPF object and the daemon do not match)",
			         size, want, off);
			goto fail;
		}
		if (len - off < size) {
			snprintf(err, errlen, "a record cut short at byte %zu of %zu", off, len);
			goto fail;
		}
		if ((uintptr_t)(p + off) % 8 != 0) {
			snprintf(err, errlen, "a record not aligned to 8 bytes, at byte %zu", off);
			goto fail;
		}
		if (kind == KOBS_TASK_THREAD)
			push((const void ***)&out->threads, &out->nthreads, &out->threads_cap,
			     p + off);
		else
			push((const void ***)&out->processes, &out->nprocesses, &out->processes_cap,
			     p + off);
		off += size;
	}
	if (out->nthreads)
		qsort(out->threads, out->nthreads, sizeof(*out->threads), by_thread);
	if (out->nprocesses) {
		qsort(out->processes, out->nprocesses, sizeof(*out->processes), by_process);
		size_t kept = 1;
		for (size_t i = 1; i < out->nprocesses; i++)
			if (out->processes[i]->tgid != out->processes[kept - 1]->tgid)
				out->processes[kept++] = out->processes[i];
		out->nprocesses = kept;
	}
	return 0;
fail:
	out->nthreads = out->nprocesses = 0;
	return -1;
}

size_t task_records_threads_of(const struct task_records *r, unsigned tgid, size_t *first)
{
	size_t lo = 0, hi = r->nthreads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->threads[mid]->tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < r->nthreads && r->threads[end]->tgid == tgid)
		end++;
	*first = lo;
	return end - lo;
}

/* include/linux/sched.h: the states /proc reports, in the order of their letters. */
#define TASK_REPORT      0x7f
#define TASK_NOLOAD      0x0400
#define TASK_IDLE        (KOBS_TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_REPORT_IDLE (TASK_REPORT + 1)

char task_state_letter(unsigned state, unsigned exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	unsigned report = (state | exit_state) & TASK_REPORT;
	if ((state & TASK_IDLE) == TASK_IDLE)
		report = TASK_REPORT_IDLE;
	if (state & TASK_RTLOCK_WAIT)
		report = KOBS_TASK_UNINTERRUPTIBLE;
	unsigned index = 0; /* fls(): the highest bit set, counted from 1 */
	while (report) {
		index++;
		report >>= 1;
	}
	return index < sizeof(letters) - 1 ? letters[index] : '?';
}

/* a * b / c without overflowing 64 bits (c > 0, b <= c). */
static uint64_t scale(uint64_t a, uint64_t b, uint64_t c)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)((unsigned __int128)a * b / c);
#else
	return (uint64_t)((long double)a * (long double)b / (long double)c);
#endif
}

void task_cputime_split(uint64_t utime, uint64_t stime, uint64_t runtime, uint64_t *user,
                        uint64_t *system)
{
	/* No tick fell in system mode (or none at all yet): the kernel counts it all as user time.
	 */
	if (stime == 0) {
		*user = runtime;
		*system = 0;
		return;
	}
	if (utime == 0) {
		*user = 0;
		*system = runtime;
		return;
	}
	*system = scale(runtime, stime, utime + stime);
	*user = runtime - *system;
}
