/* Threads summed by name within their process group (an entry's `threads: true`, as
 * process-exporter's -threads), and sleeping threads counted by wait channel (`wchan: true`).
 * It knows nothing of where the figures come from: the processes collector hands it, each scrape,
 * every thread of the processes whose entry asks for it. Pure, so that the unit tests can drive
 * it through the lives of made-up threads.
 *
 * A thread is known by (tid, start): its counters are remembered from one scrape to the next,
 * and what each grew by is added to the series of its current name, so that a name's series never
 * go backwards when threads exit or rename themselves. A thread seen for the first time adds all
 * it counted. At most `limit` (group, name) series exist at once: threads beyond are counted in
 * kobs_threads_over_limit and left out. A series without threads is forgotten after the expiry,
 * as groups are. */
#ifndef KOBS_THREAD_GROUPS_H
#define KOBS_THREAD_GROUPS_H

#include <stdint.h>

#include "expo.h"
#include "process_groups.h"

struct thread_groups;

struct thread_groups *tg_new(void);
void tg_free(struct thread_groups *tg);
/* Forget every series (a new group configuration). */
void tg_reset(struct thread_groups *tg);

/* Start a scrape: at most `limit` series; `expiry` seconds; `now` on a steady clock, `wall`
 * since the epoch (for `_created`). */
void tg_begin(struct thread_groups *tg, unsigned limit, double expiry, double now, double wall);
/* A thread named `name` of a process in group `group`, with its counters (enum pg_counter). */
void tg_thread(struct thread_groups *tg, const char *group, unsigned tid, uint64_t start,
               const char *name, const uint64_t counters[PGC__COUNT]);
/* A thread of group `group` asleep (S or D) in kernel function `wchan` ("" when unknown). */
void tg_waiting(struct thread_groups *tg, const char *group, const char *wchan);
/* End the scrape: forget the threads not seen, expire series, append the families to `out`. */
void tg_end(struct thread_groups *tg, struct expo *out);

#endif
