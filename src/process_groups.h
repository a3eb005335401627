/* The accounting behind the process groups: which processes are tracked, which group each belongs
 * to, and the groups' sums. It knows nothing of /proc: the processes collector tells it what it
 * listed and read in each scrape, and it exposes the groups' families. Pure, so that the unit
 * tests can drive it through lives and deaths of processes.
 *
 * A process is known by (pid, start time), so a reused pid is a new process. Each scrape:
 *   pg_begin(); pg_observe() for every listed process in ascending pid order; pg_classify() or
 *   pg_inherit() the new ones; pg_update() those whose files were read whole; pg_vanished() those
 *   that exited half-way; pg_end(), which retires processes no longer listed and writes families.
 *
 * Counters never go backwards while a group exists: each process's counters are kept as their
 * highest value seen, and when a process exits its last values move into its group's base, which
 * the group's counters include. A group without processes keeps its series until it has been
 * empty for the group expiry; then it is forgotten and starts from zero if it comes back. */
#ifndef KOBS_PROCESS_GROUPS_H
#define KOBS_PROCESS_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expo.h"

enum pg_counter {
	PGC_CPU_USER,     /* nanoseconds */
	PGC_CPU_SYSTEM,   /* nanoseconds */
	PGC_FAULTS_MAJOR, /* page faults */
	PGC_FAULTS_MINOR,
	PGC_CTXT_VOLUNTARY, /* context switches */
	PGC_CTXT_INVOLUNTARY,
	PGC_RUNQUEUE_WAIT, /* nanoseconds */
	PGC_IO_RCHAR,      /* bytes; the PGC_IO_* counters are known only when io was readable */
	PGC_IO_WCHAR,
	PGC_IO_SYSCR, /* syscalls */
	PGC_IO_SYSCW,
	PGC_IO_READ_BYTES, /* bytes */
	PGC_IO_WRITE_BYTES,
	PGC__COUNT,
};
#define PGC_IO_FIRST PGC_IO_RCHAR

enum pg_state {
	PG_RUNNING,
	PG_SLEEPING,
	PG_DISK_SLEEP,
	PG_ZOMBIE,
	PG_STOPPED,
	PG_IDLE,
	PG_OTHER,
	PG_STATE__COUNT,
};

/* The state letter of /proc/<pid>/stat as one of the served states. */
enum pg_state pg_state_from_letter(char letter);

/* What one scrape read of one process. */
struct pg_figures {
	enum pg_state state;
	uint64_t counters[PGC__COUNT];
	bool io_known;  /* /proc/<pid>/io was read; else the PGC_IO_* counters are ignored */
	bool fds_known; /* fd/ and limits were read */
	uint64_t resident_bytes, virtual_bytes, swap_bytes, peak_resident_bytes;
	uint64_t threads;
	uint64_t open_fds;
	uint64_t fd_limit;    /* soft RLIMIT_NOFILE; UINT64_MAX when unlimited */
	double fd_limit_read; /* when fd_limit was read (steady clock), so it may be reused */
};

struct pg_settings {
	unsigned per_process_limit;
	unsigned group_limit;
	double group_expiry; /* seconds */
};

/* What a process's process_names entry asks for (struct group_match), as bits. */
#define PG_PER_PROCESS  (1u << 0) /* series of its own */
#define PG_CHILDREN     (1u << 1) /* its children without a match of their own join its group */
#define PG_THREADS      (1u << 2) /* series by thread name */
#define PG_WCHAN        (1u << 3) /* sleeping threads by wait channel */
#define PG_NO_NEW_GROUP (1u << 4) /* join the group only if it exists; else stay ungrouped */

struct pg_process; /* one tracked process; valid from pg_observe() to pg_end() */
struct process_groups;

struct process_groups *pg_new(void);
void pg_free(struct process_groups *pg);
/* Forget every process and group (a new group configuration); the self counters stay. */
void pg_reset(struct process_groups *pg);

/* Start a scrape that will list at most `listed` processes. `now` is seconds on a steady clock
 * (group expiry), `wall` seconds since the epoch (when a group was created, for `_created`). */
void pg_begin(struct process_groups *pg, const struct pg_settings *settings, double now,
              double wall, size_t listed);
/* A listed process. Calls come in strictly ascending pid order. Returns its entry; `*is_new` is
 * true when it was not tracked before (it must then be classified or inherited, or it stays
 * ungrouped). NULL when the call breaks the pid order (the process is then ignored). `start_time`
 * is seconds since the epoch; `start_ticks` identifies the life. */
struct pg_process *pg_observe(struct process_groups *pg, int pid, int ppid, uint64_t start_ticks,
                              double start_time, bool *is_new);
/* The process joins the group named `name` (created when new; unless group_limit is reached, in
 * which case it stays out of every group and is counted). `comm` labels its own series; `flags`
 * are PG_* bits. */
void pg_classify(struct process_groups *pg, struct pg_process *p, const char *name,
                 const char *comm, unsigned flags);
/* A new process that matched nothing joins the group of its nearest grouped ancestor whose
 * entry lets children in, if any; otherwise it stays ungrouped for its life. Call after every
 * listed process has been observed and the new ones classified. */
void pg_inherit(struct process_groups *pg, struct pg_process *p, const char *comm);
/* True when the process belongs to a group (and its files are worth reading). */
bool pg_grouped(const struct pg_process *p);
/* The PG_* bits of the entry that put the process in its group (its ancestor's, inherited). */
unsigned pg_flags(const struct pg_process *p);
int pg_pid(const struct pg_process *p);
bool pg_is_new(const struct pg_process *p);
/* The name of the process's group, or NULL outside every group. */
const char *pg_group_of(const struct process_groups *pg, const struct pg_process *p);
/* The number of group slots, and the name of the group in slot i (id i + 1), NULL for a free one.
 */
size_t pg_group_slots(const struct process_groups *pg);
const char *pg_group_name(const struct process_groups *pg, size_t slot);
/* The figures of the process's last whole reading, in an earlier scrape, into `out`; false when
 * there is none. */
bool pg_last(const struct pg_process *p, struct pg_figures *out);
/* The figures read whole in this scrape. */
void pg_update(struct process_groups *pg, struct pg_process *p, const struct pg_figures *f);
/* The process exited while it was being read or classified: it is retired now, with the
 * figures of its last whole reading, and counted in kobs_processes_vanished_total. */
void pg_vanished(struct process_groups *pg, struct pg_process *p);

/* End the scrape: retire what was not listed, expire groups, and append the group, per-process
 * and self families to `out`. */
void pg_end(struct process_groups *pg, struct expo *out);

#endif
