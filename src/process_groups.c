#include "process_groups.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_families.h"
#include "xalloc.h"

/* pg_process.group when the process is in no group. */
#define GROUP_NONE       (-1) /* matched nothing, and no grouped ancestor took it in */
#define GROUP_OVER_LIMIT (-2) /* its group would have exceeded group_limit */
#define GROUP_UNDECIDED  (-3) /* new in this scrape, not classified yet */

/* What a process keeps of its last reading beyond the counters, packed: with thousands of
 * processes the table is most of the collector's memory. */
struct pg_gauges {
	uint64_t resident, virt, swap, peak, fd_limit;
	double fd_limit_read;
	uint32_t threads, open_fds;
	uint8_t state;
	bool io_known, fds_known;
};

struct pg_process {
	int pid, ppid;
	uint64_t start_ticks;
	double start_time;
	int group;
	unsigned flags; /* PG_* of its entry */
	bool has_slot;  /* it has per-process series (within per_process_limit) */
	bool is_new;    /* first listed in this scrape */
	bool updated;   /* pg_update() in this scrape */
	bool dead;      /* pg_vanished() in this scrape: already retired */
	bool io_known;  /* counters[PGC_IO_*] hold a reading */
	bool has_last;  /* `last` holds a whole reading */
	char comm[16];  /* the kernel's comm is at most 15 bytes */
	uint64_t counters[PGC__COUNT];
	struct pg_gauges last; /* valid when `has_last`; of this scrape when `updated` */
};

struct group {
	char *name; /* NULL: a free slot */
	uint64_t hash;
	uint64_t base[PGC__COUNT]; /* last counters of exited members */
	double created;            /* wall clock, for `_created` */
	double empty_since;        /* steady clock; < 0 while it has members */

	/* This scrape's sums, over members not retired. */
	unsigned members;
	unsigned read; /* members read whole in this scrape */
	unsigned states[PG_STATE__COUNT];
	uint64_t live[PGC__COUNT];
	struct pg_figures sum; /* of the memory, threads and open fds of the members read */
	double worst_fd_ratio;
	bool have_fd_ratio;
	double oldest_start;
	unsigned io_unavailable, fds_unavailable;
};

struct process_groups {
	struct pg_process *old, *cur; /* sorted by pid: last scrape's table and this one's */
	size_t nold, ncur, cap;
	size_t old_next; /* merge cursor in `old` */
	int last_pid;    /* the last pid observed in this scrape */
	double now, wall;
	struct pg_settings settings; /* of this scrape */

	struct group *groups;
	size_t ngroups; /* slots, used or free */
	size_t groups_in_use;
	unsigned slots_used;

	/* self */
	uint64_t seen, vanished;
	unsigned ungrouped, over_limit, capped;
};

static const char *const state_names[PG_STATE__COUNT] = {
    [PG_RUNNING] = "running", [PG_SLEEPING] = "sleeping", [PG_DISK_SLEEP] = "disk_sleep",
    [PG_ZOMBIE] = "zombie",   [PG_STOPPED] = "stopped",   [PG_IDLE] = "idle",
    [PG_OTHER] = "other",
};

enum pg_state pg_state_from_letter(char letter)
{
	switch (letter) {
	case 'R':
		return PG_RUNNING;
	case 'S':
		return PG_SLEEPING;
	case 'D':
		return PG_DISK_SLEEP;
	case 'Z':
		return PG_ZOMBIE;
	case 'T': /* stopped by a signal */
	case 't': /* stopped by a tracer */
		return PG_STOPPED;
	case 'I':
		return PG_IDLE;
	default: /* X (dead), and the letters of older kernels: x, K, W, P */
		return PG_OTHER;
	}
}

struct process_groups *pg_new(void)
{
	return xcalloc(1, sizeof(struct process_groups));
}

static void free_groups(struct process_groups *pg)
{
	for (size_t i = 0; i < pg->ngroups; i++)
		free(pg->groups[i].name);
	free(pg->groups);
	pg->groups = NULL;
	pg->ngroups = pg->groups_in_use = 0;
}

void pg_reset(struct process_groups *pg)
{
	free_groups(pg);
	pg->nold = pg->ncur = 0;
	pg->slots_used = 0;
}

void pg_free(struct process_groups *pg)
{
	if (!pg)
		return;
	free_groups(pg);
	free(pg->old);
	free(pg->cur);
	free(pg);
}

/* ---- groups ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The group named `name`, created when new; GROUP_OVER_LIMIT when that would exceed `limit`,
 * GROUP_NONE when it is new and may not be made. */
static int group_get(struct process_groups *pg, const char *name, unsigned limit, bool may_make)
{
	uint64_t h = name_hash(name);
	size_t free_slot = pg->ngroups;
	for (size_t i = 0; i < pg->ngroups; i++) {
		struct group *g = &pg->groups[i];
		if (!g->name) {
			free_slot = i;
			continue;
		}
		if (g->hash == h && strcmp(g->name, name) == 0)
			return (int)i;
	}
	if (!may_make)
		return GROUP_NONE;
	if (pg->groups_in_use >= limit)
		return GROUP_OVER_LIMIT;
	if (free_slot == pg->ngroups) {
		pg->groups = xreallocarray(pg->groups, pg->ngroups + 1, sizeof(*pg->groups));
		pg->ngroups++;
	}
	struct group *g = &pg->groups[free_slot];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->hash = h;
	g->created = pg->wall;
	g->empty_since = -1;
	pg->groups_in_use++;
	return (int)free_slot;
}

static void group_drop(struct process_groups *pg, struct group *g)
{
	free(g->name);
	g->name = NULL;
	pg->groups_in_use--;
}

/* ---- the process table ---- */

/* A process leaves: its counters move into its group's base. */
static void retire(struct process_groups *pg, struct pg_process *p)
{
	if (p->has_slot) {
		pg->slots_used--;
		p->has_slot = false;
	}
	if (p->group < 0)
		return;
	struct group *g = &pg->groups[p->group];
	for (int c = 0; c < PGC__COUNT; c++)
		if (c < PGC_IO_FIRST || p->io_known)
			g->base[c] += p->counters[c];
}

void pg_begin(struct process_groups *pg, const struct pg_settings *settings, double now,
              double wall, size_t listed)
{
	pg->settings = *settings;
	/* Last scrape's table is read while this one is built, then freed in pg_end(): between
	 * scrapes only one table is resident. Room for every listed process, so that the pointers
	 * pg_observe() returns stay valid. */
	free(pg->old);
	pg->old = pg->cur;
	pg->nold = pg->ncur;
	pg->cap = listed ? listed : 1;
	pg->cur = xreallocarray(NULL, pg->cap, sizeof(*pg->cur));
	pg->ncur = 0;
	pg->old_next = 0;
	pg->last_pid = -1;
	pg->now = now;
	pg->wall = wall;
}

struct pg_process *pg_observe(struct process_groups *pg, int pid, int ppid, uint64_t start_ticks,
                              double start_time, bool *is_new)
{
	if (pid <= pg->last_pid || pg->ncur >= pg->cap)
		return NULL;
	pg->last_pid = pid;
	while (pg->old_next < pg->nold && pg->old[pg->old_next].pid < pid)
		retire(pg, &pg->old[pg->old_next++]);

	struct pg_process *p = &pg->cur[pg->ncur++];
	if (pg->old_next < pg->nold && pg->old[pg->old_next].pid == pid) {
		struct pg_process *was = &pg->old[pg->old_next++];
		if (was->start_ticks == start_ticks) {
			*p = *was;
			p->ppid = ppid;
			p->is_new = p->updated = p->dead = false;
			*is_new = false;
			return p;
		}
		retire(pg, was); /* the pid was reused */
	}
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->start_ticks = start_ticks;
	p->start_time = start_time;
	p->group = GROUP_UNDECIDED;
	p->is_new = true;
	pg->seen++;
	*is_new = true;
	return p;
}

static void copy_comm(struct pg_process *p, const char *comm)
{
	snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
}

void pg_classify(struct process_groups *pg, struct pg_process *p, const char *name,
                 const char *comm, unsigned flags)
{
	p->group = group_get(pg, name, pg->settings.group_limit, !(flags & PG_NO_NEW_GROUP));
	copy_comm(p, comm);
	p->flags = flags & ~PG_NO_NEW_GROUP;
}

/* The tracked process with this pid in this scrape, NULL if none. */
static struct pg_process *find(struct process_groups *pg, int pid)
{
	size_t lo = 0, hi = pg->ncur;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pg->cur[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pg->ncur && pg->cur[lo].pid == pid && !pg->cur[lo].dead ? &pg->cur[lo] : NULL;
}

/* Far deeper than any real process tree; only bounds the walk. */
#define MAX_ANCESTRY 4096

void pg_inherit(struct process_groups *pg, struct pg_process *p, const char *comm)
{
	if (p->dead)
		return;
	copy_comm(p, comm);
	p->group = GROUP_NONE;
	const struct pg_process *a = p;
	for (int depth = 0; depth < MAX_ANCESTRY && a->ppid > 0; depth++) {
		a = find(pg, a->ppid);
		if (!a || a == p)
			return;
		/* A new ancestor without a match of its own is decided by the same walk. */
		if (a->group == GROUP_UNDECIDED)
			continue;
		if (a->group >= 0 && (a->flags & PG_CHILDREN))
			p->group = a->group, p->flags = a->flags;
		return;
	}
}

bool pg_grouped(const struct pg_process *p)
{
	return p->group >= 0;
}

unsigned pg_flags(const struct pg_process *p)
{
	return p->flags;
}

const char *pg_group_of(const struct process_groups *pg, const struct pg_process *p)
{
	return p->group < 0 ? NULL : pg->groups[p->group].name;
}

size_t pg_group_slots(const struct process_groups *pg)
{
	return pg->ngroups;
}

const char *pg_group_name(const struct process_groups *pg, size_t slot)
{
	return slot < pg->ngroups ? pg->groups[slot].name : NULL;
}

int pg_pid(const struct pg_process *p)
{
	return p->pid;
}

bool pg_is_new(const struct pg_process *p)
{
	return p->is_new;
}

/* The last reading as pg_figures: its gauges, and the counters (which only grow, so their
 * highest values are the last reading's). */
static void unpack(const struct pg_process *p, struct pg_figures *f)
{
	const struct pg_gauges *g = &p->last;
	*f = (struct pg_figures){
	    .state = (enum pg_state)g->state,
	    .io_known = g->io_known,
	    .fds_known = g->fds_known,
	    .resident_bytes = g->resident,
	    .virtual_bytes = g->virt,
	    .swap_bytes = g->swap,
	    .peak_resident_bytes = g->peak,
	    .threads = g->threads,
	    .open_fds = g->open_fds,
	    .fd_limit = g->fd_limit,
	    .fd_limit_read = g->fd_limit_read,
	};
	memcpy(f->counters, p->counters, sizeof(f->counters));
}

bool pg_last(const struct pg_process *p, struct pg_figures *out)
{
	if (!p->has_last || p->updated)
		return false;
	unpack(p, out);
	return true;
}

void pg_update(struct process_groups *pg, struct pg_process *p, const struct pg_figures *f)
{
	(void)pg;
	/* The kernel's counters only grow; keeping the highest value seen makes sure a group's
	 * sum cannot go back even if one reading were off. */
	for (int c = 0; c < PGC__COUNT; c++) {
		if (c >= PGC_IO_FIRST && !f->io_known)
			continue;
		if (f->counters[c] > p->counters[c] || (c >= PGC_IO_FIRST && !p->io_known))
			p->counters[c] = f->counters[c];
	}
	if (f->io_known)
		p->io_known = true;
	p->last = (struct pg_gauges){
	    .resident = f->resident_bytes,
	    .virt = f->virtual_bytes,
	    .swap = f->swap_bytes,
	    .peak = f->peak_resident_bytes,
	    .fd_limit = f->fd_limit,
	    .fd_limit_read = f->fd_limit_read,
	    .threads = f->threads > UINT32_MAX ? UINT32_MAX : (uint32_t)f->threads,
	    .open_fds = f->open_fds > UINT32_MAX ? UINT32_MAX : (uint32_t)f->open_fds,
	    .state = (uint8_t)(f->state < PG_STATE__COUNT ? f->state : PG_OTHER),
	    .io_known = f->io_known,
	    .fds_known = f->fds_known,
	};
	p->has_last = true;
	p->updated = true;
}

void pg_vanished(struct process_groups *pg, struct pg_process *p)
{
	if (p->dead)
		return;
	if (p->group == GROUP_UNDECIDED)
		p->group = GROUP_NONE;
	retire(pg, p);
	p->dead = true;
	pg->vanished++;
}

/* ---- the end of a scrape: sums ---- */

static void clear_sums(struct group *g)
{
	g->members = g->read = 0;
	memset(g->states, 0, sizeof(g->states));
	memset(g->live, 0, sizeof(g->live));
	memset(&g->sum, 0, sizeof(g->sum));
	g->worst_fd_ratio = 0;
	g->have_fd_ratio = false;
	g->oldest_start = INFINITY;
	g->io_unavailable = g->fds_unavailable = 0;
}

static double fd_ratio(const struct pg_figures *f)
{
	if (f->fd_limit == UINT64_MAX || f->fd_limit == 0)
		return 0;
	return (double)f->open_fds / (double)f->fd_limit;
}

static void add_to_group(struct group *g, const struct pg_process *p)
{
	g->members++;
	for (int c = 0; c < PGC__COUNT; c++)
		if (c < PGC_IO_FIRST || p->io_known)
			g->live[c] += p->counters[c];
	bool io_readable = p->updated ? p->last.io_known : p->io_known;
	if (!io_readable)
		g->io_unavailable++;
	if (!p->updated) {
		g->fds_unavailable++;
		return;
	}
	struct pg_figures last;
	unpack(p, &last);
	const struct pg_figures *f = &last;
	g->read++;
	g->states[f->state < PG_STATE__COUNT ? f->state : PG_OTHER]++;
	g->sum.resident_bytes += f->resident_bytes;
	g->sum.virtual_bytes += f->virtual_bytes;
	g->sum.swap_bytes += f->swap_bytes;
	g->sum.peak_resident_bytes += f->peak_resident_bytes;
	g->sum.threads += f->threads;
	if (f->fds_known) {
		g->sum.open_fds += f->open_fds;
		double r = fd_ratio(f);
		if (!g->have_fd_ratio || r > g->worst_fd_ratio)
			g->worst_fd_ratio = r;
		g->have_fd_ratio = true;
	} else {
		g->fds_unavailable++;
	}
	if (p->start_time < g->oldest_start)
		g->oldest_start = p->start_time;
}

static void sum_up(struct process_groups *pg)
{
	for (size_t i = 0; i < pg->ngroups; i++)
		if (pg->groups[i].name)
			clear_sums(&pg->groups[i]);
	pg->ungrouped = pg->over_limit = pg->capped = 0;
	for (size_t i = 0; i < pg->ncur; i++) {
		struct pg_process *p = &pg->cur[i];
		if (p->group == GROUP_UNDECIDED)
			p->group = GROUP_NONE;
		if (p->group == GROUP_NONE)
			pg->ungrouped++;
		else if (p->group == GROUP_OVER_LIMIT)
			pg->over_limit++;
		if (p->group < 0)
			continue;
		add_to_group(&pg->groups[p->group], p);
		if ((p->flags & PG_PER_PROCESS) && !p->has_slot) {
			if (pg->slots_used < pg->settings.per_process_limit) {
				p->has_slot = true;
				pg->slots_used++;
			} else {
				pg->capped++;
			}
		}
	}
}

static void expire_groups(struct process_groups *pg)
{
	for (size_t i = 0; i < pg->ngroups; i++) {
		struct group *g = &pg->groups[i];
		if (!g->name)
			continue;
		if (g->members > 0) {
			g->empty_since = -1;
			continue;
		}
		if (g->empty_since < 0)
			g->empty_since = pg->now;
		if (pg->now - g->empty_since >= pg->settings.group_expiry)
			group_drop(pg, g);
	}
}

/* ---- the families ---- */

enum gauge {
	G_RESIDENT,
	G_VIRTUAL,
	G_SWAP,
	G_PEAK,
	G_THREADS,
	G_OPEN_FDS,
	G_FD_RATIO,
	G_START,
};

struct gauge_family {
	const char *group_name, *process_name;
	const char *unit;
	const char *group_help, *process_help;
	enum gauge gauge;
};

static const struct gauge_family gauge_families[] = {
    {"kobs_group_resident_memory_bytes", "kobs_process_resident_memory_bytes", "bytes",
     "Resident memory (RSS) summed over the group's processes.", "Resident memory (RSS).",
     G_RESIDENT},
    {"kobs_group_virtual_memory_bytes", "kobs_process_virtual_memory_bytes", "bytes",
     "Virtual memory size summed over the group's processes.", "Virtual memory size.", G_VIRTUAL},
    {"kobs_group_swap_bytes", "kobs_process_swap_bytes", "bytes",
     "Memory swapped out, summed over the group's processes.", "Memory swapped out.", G_SWAP},
    {"kobs_group_peak_resident_memory_bytes", "kobs_process_peak_resident_memory_bytes", "bytes",
     "Peak resident memory (VmHWM) summed over the group's processes.",
     "Peak resident memory (VmHWM).", G_PEAK},
    {"kobs_group_threads", "kobs_process_threads", NULL, "Threads of the group's processes.",
     "Threads of the process.", G_THREADS},
    {"kobs_group_open_fds", "kobs_process_open_fds", NULL,
     "Open file descriptors of the group's processes; absent while any of them cannot be "
     "read (see kobs_group_unavailable_processes).",
     "Open file descriptors.", G_OPEN_FDS},
    {"kobs_group_max_fd_usage_ratio", "kobs_process_fd_usage_ratio", "ratio",
     "The highest open file descriptors / soft RLIMIT_NOFILE among the group's processes "
     "(0 when unlimited).",
     "Open file descriptors / soft RLIMIT_NOFILE (0 when unlimited).", G_FD_RATIO},
    {"kobs_group_oldest_start_time_seconds", "kobs_process_start_time_seconds", "seconds",
     "Start time of the group's oldest process, in seconds since the epoch.",
     "Start time, in seconds since the epoch.", G_START},
};

/* What the two sources of the figures give (kobs_processes_source). */
#define MAIN_THREAD_NOTE                                                                           \
	"; every thread's from the bpf_iter source, the main thread's only from procfs"

static void expose_group_counters(struct process_groups *pg, const struct pg_family *f,
                                  struct expo *out)
{
	char help[512];
	snprintf(help, sizeof(help),
	         "%s, summed over the group's processes, exited ones included%s.", f->help,
	         f->main_thread_on_procfs ? MAIN_THREAD_NOTE : "");
	expo_family(out, f->group_name, METRIC_COUNTER, f->unit, help);
	for (size_t i = 0; i < pg->ngroups; i++) {
		const struct group *g = &pg->groups[i];
		if (!g->name || (pgf_is_io(f) && g->io_unavailable))
			continue;
		for (size_t s = 0; s < f->nseries; s++) {
			struct label labels[3] = {{"group", g->name}};
			size_t n = pgf_labels(labels, 1, &f->series[s]);
			enum pg_counter c = f->series[s].counter;
			expo_counter_created(out, labels, n,
			                     pgf_scaled(f->scale, g->base[c] + g->live[c]),
			                     g->created);
		}
	}
}

/* The gauges a process and a group have alike: memory, threads, open fds. */
static bool figure_gauge(const struct pg_figures *f, enum gauge which, double *v)
{
	switch (which) {
	case G_RESIDENT:
		*v = (double)f->resident_bytes;
		return true;
	case G_VIRTUAL:
		*v = (double)f->virtual_bytes;
		return true;
	case G_SWAP:
		*v = (double)f->swap_bytes;
		return true;
	case G_PEAK:
		*v = (double)f->peak_resident_bytes;
		return true;
	case G_THREADS:
		*v = (double)f->threads;
		return true;
	case G_OPEN_FDS:
		*v = (double)f->open_fds;
		return true;
	default:
		return false;
	}
}

static bool group_gauge(const struct group *g, enum gauge which, double *v)
{
	switch (which) {
	case G_OPEN_FDS:
		return g->fds_unavailable == 0 && figure_gauge(&g->sum, which, v);
	case G_FD_RATIO:
		*v = g->worst_fd_ratio;
		return g->fds_unavailable == 0 && g->have_fd_ratio;
	case G_START:
		*v = g->oldest_start;
		return g->read > 0;
	default:
		return figure_gauge(&g->sum, which, v);
	}
}

static void expose_group_gauges(struct process_groups *pg, const struct gauge_family *f,
                                struct expo *out)
{
	expo_family(out, f->group_name, METRIC_GAUGE, f->unit, f->group_help);
	for (size_t i = 0; i < pg->ngroups; i++) {
		const struct group *g = &pg->groups[i];
		double v;
		if (g->name && group_gauge(g, f->gauge, &v)) {
			struct label l = {"group", g->name};
			expo_sample(out, &l, 1, v);
		}
	}
}

static void expose_groups(struct process_groups *pg, struct expo *out)
{
	expo_family(out, "kobs_group_processes", METRIC_GAUGE, NULL,
	            "Processes of the group by state: running, sleeping, disk_sleep (D, "
	            "uninterruptible), zombie, stopped, idle, other.");
	for (size_t i = 0; i < pg->ngroups; i++) {
		const struct group *g = &pg->groups[i];
		if (!g->name)
			continue;
		for (int s = 0; s < PG_STATE__COUNT; s++) {
			struct label l[2] = {{"group", g->name}, {"state", state_names[s]}};
			expo_sample(out, l, 2, g->states[s]);
		}
	}
	for (size_t i = 0; i < PG_FAMILIES; i++)
		expose_group_counters(pg, &pg_families[i], out);
	for (size_t i = 0; i < sizeof(gauge_families) / sizeof(gauge_families[0]); i++)
		expose_group_gauges(pg, &gauge_families[i], out);
	expo_family(out, "kobs_group_unavailable_processes", METRIC_GAUGE, NULL,
	            "Processes of the group whose figure could not be read: figure=\"io\" "
	            "(/proc/PID/io) or \"fds\" (/proc/PID/fd); while it is above 0 the group's "
	            "series of that figure are left out rather than undercounted. Another user's "
	            "processes need CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (io) or "
	            "CAP_DAC_READ_SEARCH (fds).");
	for (size_t i = 0; i < pg->ngroups; i++) {
		const struct group *g = &pg->groups[i];
		if (!g->name)
			continue;
		struct label io[2] = {{"group", g->name}, {"figure", "io"}};
		struct label fds[2] = {{"group", g->name}, {"figure", "fds"}};
		expo_sample(out, io, 2, g->io_unavailable);
		expo_sample(out, fds, 2, g->fds_unavailable);
	}
}

/* ---- per-process series ---- */

static bool process_gauge(const struct pg_process *p, enum gauge which, double *v)
{
	struct pg_figures f;
	unpack(p, &f);
	switch (which) {
	case G_OPEN_FDS:
		return f.fds_known && figure_gauge(&f, which, v);
	case G_FD_RATIO:
		*v = fd_ratio(&f);
		return f.fds_known;
	case G_START:
		*v = p->start_time;
		return true;
	default:
		return figure_gauge(&f, which, v);
	}
}

static size_t process_labels(const struct process_groups *pg, const struct pg_process *p,
                             struct label *labels, char *pid, size_t pidlen)
{
	snprintf(pid, pidlen, "%d", p->pid);
	labels[0] = (struct label){"group", pg->groups[p->group].name};
	labels[1] = (struct label){"pid", pid};
	labels[2] = (struct label){"comm", p->comm};
	return 3;
}

static void expose_processes(struct process_groups *pg, struct expo *out)
{
	char pid[16];
	for (size_t i = 0; i < PG_FAMILIES; i++) {
		const struct pg_family *f = &pg_families[i];
		char help[512];
		snprintf(help, sizeof(help),
		         "%s, of each process of a group with per_process: true%s.", f->help,
		         f->main_thread_on_procfs ? MAIN_THREAD_NOTE : "");
		expo_family(out, f->process_name, METRIC_COUNTER, f->unit, help);
		for (size_t k = 0; k < pg->ncur; k++) {
			const struct pg_process *p = &pg->cur[k];
			if (!p->has_slot || (pgf_is_io(f) && !(p->updated && p->last.io_known)))
				continue;
			for (size_t s = 0; s < f->nseries; s++) {
				struct label labels[5];
				size_t n = process_labels(pg, p, labels, pid, sizeof(pid));
				n = pgf_labels(labels, n, &f->series[s]);
				enum pg_counter c = f->series[s].counter;
				expo_counter_created(out, labels, n,
				                     pgf_scaled(f->scale, p->counters[c]),
				                     p->start_time);
			}
		}
	}
	for (size_t i = 0; i < sizeof(gauge_families) / sizeof(gauge_families[0]); i++) {
		const struct gauge_family *f = &gauge_families[i];
		expo_family(out, f->process_name, METRIC_GAUGE, f->unit, f->process_help);
		for (size_t k = 0; k < pg->ncur; k++) {
			const struct pg_process *p = &pg->cur[k];
			double v;
			if (!p->has_slot || !p->updated || !process_gauge(p, f->gauge, &v))
				continue;
			struct label labels[3];
			size_t n = process_labels(pg, p, labels, pid, sizeof(pid));
			expo_sample(out, labels, n, v);
		}
	}
}

static void expose_self(struct process_groups *pg, struct expo *out)
{
	expo_family(out, "kobs_processes_seen", METRIC_COUNTER, NULL,
	            "Processes (pid and start time) seen since the daemon started.");
	expo_sample(out, NULL, 0, (double)pg->seen);
	expo_family(out, "kobs_processes_vanished", METRIC_COUNTER, NULL,
	            "Processes that exited while being read; they were left out of that scrape "
	            "rather than served half-read.");
	expo_sample(out, NULL, 0, (double)pg->vanished);
	expo_family(out, "kobs_processes_tracked", METRIC_GAUGE, NULL,
	            "Processes listed in this scrape.");
	expo_sample(out, NULL, 0, (double)pg->ncur);
	expo_family(out, "kobs_processes_ungrouped", METRIC_GAUGE, NULL,
	            "Processes that matched no process_names entry and have no grouped ancestor.");
	expo_sample(out, NULL, 0, pg->ungrouped);
	expo_family(out, "kobs_processes_over_group_limit", METRIC_GAUGE, NULL,
	            "Processes left out because their group would have exceeded "
	            "processes.group_limit.");
	expo_sample(out, NULL, 0, pg->over_limit);
	expo_family(out, "kobs_processes_per_process_capped", METRIC_GAUGE, NULL,
	            "Processes of per_process entries without series of their own because "
	            "processes.per_process_limit was reached.");
	expo_sample(out, NULL, 0, pg->capped);
	expo_family(out, "kobs_groups", METRIC_GAUGE, NULL, "Process groups served.");
	expo_sample(out, NULL, 0, (double)pg->groups_in_use);
}

void pg_end(struct process_groups *pg, struct expo *out)
{
	while (pg->old_next < pg->nold)
		retire(pg, &pg->old[pg->old_next++]);
	free(pg->old);
	pg->old = NULL;
	pg->nold = 0;
	size_t kept = 0;
	for (size_t i = 0; i < pg->ncur; i++)
		if (!pg->cur[i].dead)
			pg->cur[kept++] = pg->cur[i];
	pg->ncur = kept;

	sum_up(pg);
	/* Before exposing: a group that expires is left out of this scrape, so that if it comes
	 * back from zero in the next one, its series will have been absent in between (a reset,
	 * not a counter going backwards). */
	expire_groups(pg);
	expose_groups(pg, out);
	expose_processes(pg, out);
	expose_self(pg, out);
}
