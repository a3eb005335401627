/* The counter families of the process groups, of the processes served one by one, and of the
 * threads summed by name: the same figures (struct pg_counter) under three names, so that a
 * group's, a process's and a thread name's series read alike. */
#ifndef KOBS_GROUP_FAMILIES_H
#define KOBS_GROUP_FAMILIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expo.h"
#include "process_groups.h"

enum pg_scale {
	PG_SCALE_ONE,
	PG_SCALE_NS, /* nanoseconds to seconds */
};

struct pg_series {
	const char *label[2], *value[2]; /* extra labels; NULL when fewer */
	enum pg_counter counter;
};

struct pg_family {
	const char *group_name, *process_name, *thread_name; /* without _total */
	const char *unit;
	const char *help; /* of the figure; each use says whose */
	enum pg_scale scale;
	bool main_thread_on_procfs; /* /proc gives the main thread's figure only */
	size_t nseries;
	struct pg_series series[4];
};

#define PG_FAMILIES 6
extern const struct pg_family pg_families[PG_FAMILIES];

/* The value served for `v` counted in the family's unit. */
double pgf_scaled(enum pg_scale scale, uint64_t v);
/* Whether the family's figures come from /proc/<pid>/io (and may be unknown). */
bool pgf_is_io(const struct pg_family *f);
/* Append the series' extra labels to the `nfixed` in `labels`; returns the count. */
size_t pgf_labels(struct label *labels, size_t nfixed, const struct pg_series *s);

#endif
