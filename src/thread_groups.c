#include "thread_groups.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_families.h"
#include "xalloc.h"

struct seen_thread {
	unsigned tid;
	uint64_t start;
	uint64_t counters[PGC__COUNT];
};

/* What series are known by: the group and a second label's value (thread name, wait channel). */
struct pair {
	char *group, *value;
};

struct series {
	struct pair key; /* value: the thread name */
	uint64_t counters[PGC__COUNT];
	unsigned threads; /* in this scrape */
	double created;
	double empty_since; /* steady clock; < 0 while it has threads */
};

struct waiting {
	struct pair key; /* value: the wait channel */
	unsigned threads;
};

struct thread_groups {
	struct seen_thread *last, *cur; /* last sorted by tid; cur in the order seen */
	size_t nlast, ncur, cur_cap;
	struct series *series; /* sorted by group, then name */
	size_t nseries, series_cap;
	struct waiting *waiting; /* sorted by group, then wchan */
	size_t nwaiting, waiting_cap;
	unsigned limit;
	double expiry, now, wall;
	unsigned over_limit, waiting_over_limit;
};

struct thread_groups *tg_new(void)
{
	return xcalloc(1, sizeof(struct thread_groups));
}

static void free_waiting(struct thread_groups *tg)
{
	for (size_t i = 0; i < tg->nwaiting; i++) {
		free(tg->waiting[i].key.group);
		free(tg->waiting[i].key.value);
	}
	tg->nwaiting = 0;
}

void tg_reset(struct thread_groups *tg)
{
	for (size_t i = 0; i < tg->nseries; i++) {
		free(tg->series[i].key.group);
		free(tg->series[i].key.value);
	}
	tg->nseries = 0;
	free_waiting(tg);
	tg->nlast = tg->ncur = 0;
}

void tg_free(struct thread_groups *tg)
{
	if (!tg)
		return;
	tg_reset(tg);
	free(tg->series);
	free(tg->waiting);
	free(tg->last);
	free(tg->cur);
	free(tg);
}

void tg_begin(struct thread_groups *tg, unsigned limit, double expiry, double now, double wall)
{
	tg->limit = limit;
	tg->expiry = expiry;
	tg->now = now;
	tg->wall = wall;
	tg->ncur = 0;
	tg->over_limit = tg->waiting_over_limit = 0;
	free_waiting(tg);
	for (size_t i = 0; i < tg->nseries; i++)
		tg->series[i].threads = 0;
}

/* Where (group, value) is in a table of `n` items of `size` bytes that start with a struct pair,
 * sorted by both; or where it would go, with `*found` false. */
static size_t find_pair(const void *table, size_t n, size_t size, const char *group,
                        const char *value, bool *found)
{
	size_t lo = 0, hi = n;
	int c = 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pair *p = (const void *)((const char *)table + mid * size);
		c = strcmp(p->group, group);
		if (c == 0)
			c = strcmp(p->value, value);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct series *series_of(struct thread_groups *tg, const char *group, const char *name)
{
	bool found;
	size_t at = find_pair(tg->series, tg->nseries, sizeof(*tg->series), group, name, &found);
	if (found)
		return &tg->series[at];
	if (tg->nseries >= tg->limit)
		return NULL;
	if (tg->nseries == tg->series_cap) {
		tg->series_cap = tg->series_cap ? tg->series_cap * 2 : 16;
		tg->series = xreallocarray(tg->series, tg->series_cap, sizeof(*tg->series));
	}
	memmove(&tg->series[at + 1], &tg->series[at], (tg->nseries - at) * sizeof(*tg->series));
	tg->nseries++;
	struct series *s = &tg->series[at];
	*s = (struct series){
	    .key = {xstrdup(group), xstrdup(name)}, .created = tg->wall, .empty_since = -1};
	return s;
}

static const struct seen_thread *last_seen(const struct thread_groups *tg, unsigned tid)
{
	size_t lo = 0, hi = tg->nlast;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tg->last[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < tg->nlast && tg->last[lo].tid == tid ? &tg->last[lo] : NULL;
}

void tg_thread(struct thread_groups *tg, const char *group, unsigned tid, uint64_t start,
               const char *name, const uint64_t counters[PGC__COUNT])
{
	const struct seen_thread *was = last_seen(tg, tid);
	if (was && was->start != start)
		was = NULL; /* the tid was reused */
	if (tg->ncur == tg->cur_cap) {
		tg->cur_cap = tg->cur_cap ? tg->cur_cap * 2 : 64;
		tg->cur = xreallocarray(tg->cur, tg->cur_cap, sizeof(*tg->cur));
	}
	struct seen_thread *now = &tg->cur[tg->ncur++];
	now->tid = tid;
	now->start = start;
	memcpy(now->counters, counters, sizeof(now->counters));

	struct series *s = series_of(tg, group, name);
	if (!s) {
		tg->over_limit++;
		return;
	}
	s->threads++;
	/* What it counted since it was last seen; all of it when new. A figure that went down
	 * (which the kernel's do not) adds nothing. */
	for (int c = 0; c < PGC__COUNT; c++) {
		uint64_t before = was ? was->counters[c] : 0;
		if (counters[c] > before)
			s->counters[c] += counters[c] - before;
	}
}

void tg_waiting(struct thread_groups *tg, const char *group, const char *wchan)
{
	if (!wchan[0])
		wchan = "unknown";
	bool found;
	size_t at =
	    find_pair(tg->waiting, tg->nwaiting, sizeof(*tg->waiting), group, wchan, &found);
	if (found) {
		tg->waiting[at].threads++;
		return;
	}
	if (tg->nwaiting >= tg->limit) {
		tg->waiting_over_limit++;
		return;
	}
	if (tg->nwaiting == tg->waiting_cap) {
		tg->waiting_cap = tg->waiting_cap ? tg->waiting_cap * 2 : 16;
		tg->waiting = xreallocarray(tg->waiting, tg->waiting_cap, sizeof(*tg->waiting));
	}
	memmove(&tg->waiting[at + 1], &tg->waiting[at], (tg->nwaiting - at) * sizeof(*tg->waiting));
	tg->nwaiting++;
	tg->waiting[at] = (struct waiting){{xstrdup(group), xstrdup(wchan)}, 1};
}

static int by_tid(const void *a, const void *b)
{
	const struct seen_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static void expire(struct thread_groups *tg)
{
	size_t kept = 0;
	for (size_t i = 0; i < tg->nseries; i++) {
		struct series *s = &tg->series[i];
		if (s->threads)
			s->empty_since = -1;
		else if (s->empty_since < 0)
			s->empty_since = tg->now;
		if (!s->threads && tg->now - s->empty_since >= tg->expiry) {
			free(s->key.group);
			free(s->key.value);
			continue;
		}
		tg->series[kept++] = *s;
	}
	tg->nseries = kept;
}

static void expose(struct thread_groups *tg, struct expo *out)
{
	expo_family(out, "kobs_threads_by_name", METRIC_GAUGE, NULL,
	            "Threads of the group with this name (comm), of entries with threads: true.");
	for (size_t i = 0; i < tg->nseries; i++) {
		const struct series *s = &tg->series[i];
		struct label l[2] = {{"group", s->key.group}, {"threadname", s->key.value}};
		expo_sample(out, l, 2, s->threads);
	}
	for (size_t f = 0; f < PG_FAMILIES; f++) {
		const struct pg_family *fam = &pg_families[f];
		char help[512];
		snprintf(help, sizeof(help),
		         "%s, summed over the group's threads of this name, exited ones included "
		         "(entries with threads: true).",
		         fam->help);
		expo_family(out, fam->thread_name, METRIC_COUNTER, fam->unit, help);
		for (size_t i = 0; i < tg->nseries; i++) {
			const struct series *s = &tg->series[i];
			for (size_t k = 0; k < fam->nseries; k++) {
				struct label l[4] = {{"group", s->key.group},
				                     {"threadname", s->key.value}};
				size_t n = pgf_labels(l, 2, &fam->series[k]);
				expo_counter_created(
				    out, l, n,
				    pgf_scaled(fam->scale, s->counters[fam->series[k].counter]),
				    s->created);
			}
		}
	}
	expo_family(out, "kobs_threads_over_limit", METRIC_GAUGE, NULL,
	            "Threads of entries with threads: true left out of this scrape because "
	            "processes.thread_limit series exist already.");
	expo_sample(out, NULL, 0, tg->over_limit);

	expo_family(out, "kobs_group_waiting_threads", METRIC_GAUGE, NULL,
	            "Threads asleep (state S or D) by the kernel function they wait in, as "
	            "/proc/PID/wchan gives it (entries with wchan: true).");
	for (size_t i = 0; i < tg->nwaiting; i++) {
		const struct waiting *w = &tg->waiting[i];
		struct label l[2] = {{"group", w->key.group}, {"wchan", w->key.value}};
		expo_sample(out, l, 2, w->threads);
	}
	expo_family(out, "kobs_waiting_threads_over_limit", METRIC_GAUGE, NULL,
	            "Sleeping threads of entries with wchan: true left out of this scrape because "
	            "processes.thread_limit (group, wchan) series exist already.");
	expo_sample(out, NULL, 0, tg->waiting_over_limit);
}

void tg_end(struct thread_groups *tg, struct expo *out)
{
	if (tg->ncur)
		qsort(tg->cur, tg->ncur, sizeof(*tg->cur), by_tid);
	/* Only the last scrape's threads stay between scrapes. */
	free(tg->last);
	tg->last = tg->cur;
	tg->nlast = tg->ncur;
	tg->cur = NULL;
	tg->ncur = tg->cur_cap = 0;
	expire(tg);
	expose(tg, out);
}
