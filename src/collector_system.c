/* The "system" collector: host-wide CPU, memory, paging, load, pressure (PSI) and softirq figures
 * from /proc/stat, meminfo, vmstat, loadavg, pressure/{cpu,memory,io} and softirqs.
 *
 * Each file is read into one buffer that lives as long as the collector, parsed by
 * procfs_parse.c and turned into families. A file that cannot be read or understood is counted
 * in read_errors and only its own families are missing from the scrape; the scrape fails only
 * when /proc/stat does, since without it the collector has nothing it can vouch for. */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "procfs.h"
#include "procfs_parse.h"
#include "xalloc.h"

/* Far above any real file (a /proc/stat with 4096 CPUs is about 0.5 MiB); a longer one is cut
 * and the parsers drop its cut line. */
#define FILE_LIMIT (1u << 20)
/* The kernel has 10 softirqs; room for a few more before any is left out. */
#define MAX_SOFTIRQS 32

/* ---- what is exposed, as tables ---- */

static const char *const cpu_mode_names[CPU_GUEST] = {
    [CPU_USER] = "user",     [CPU_NICE] = "nice", [CPU_SYSTEM] = "system",   [CPU_IDLE] = "idle",
    [CPU_IOWAIT] = "iowait", [CPU_IRQ] = "irq",   [CPU_SOFTIRQ] = "softirq", [CPU_STEAL] = "steal",
};

struct stat_metric {
	unsigned bit; /* PROC_STAT_* */
	const char *name;
	enum metric_type type;
	const char *unit;
	const char *help;
};

static const struct stat_metric stat_metrics[] = {
    {PROC_STAT_CTXT, "kobs_context_switches", METRIC_COUNTER, NULL,
     "Context switches on all CPUs since boot."},
    {PROC_STAT_INTR, "kobs_interrupts", METRIC_COUNTER, NULL,
     "Interrupts serviced on all CPUs since boot, from every source."},
    {PROC_STAT_PROCESSES, "kobs_forks", METRIC_COUNTER, NULL,
     "Processes and threads created (fork, clone) since boot."},
    {PROC_STAT_PROCS_RUNNING, "kobs_procs_running", METRIC_GAUGE, NULL,
     "Threads running or ready to run on a CPU."},
    {PROC_STAT_PROCS_BLOCKED, "kobs_procs_blocked", METRIC_GAUGE, NULL,
     "Threads blocked waiting for I/O to complete."},
    {PROC_STAT_BTIME, "kobs_boot_time_seconds", METRIC_GAUGE, "seconds",
     "When the system booted, in seconds since the Unix epoch."},
};

struct meminfo_metric {
	const char *key; /* as /proc/meminfo names it */
	const char *name;
	const char *unit;
	const char *help;
};

/* HugePages_Total is served as kobs_memory_hugepages, not kobs_memory_hugepages_total: a gauge
 * ending in _total is what `promtool check metrics` reports ("non-counter metrics should not have
 * _total suffix"). */
static const struct meminfo_metric meminfo_metrics[] = {
    {"MemTotal", "kobs_memory_total_bytes", "bytes",
     "Usable RAM: physical memory minus what firmware and the kernel image reserve (MemTotal)."},
    {"MemFree", "kobs_memory_free_bytes", "bytes",
     "RAM not used for anything at all (MemFree); kobs_memory_available_bytes is what can be "
     "used."},
    {"MemAvailable", "kobs_memory_available_bytes", "bytes",
     "Estimate of the RAM that new workloads can get without swapping (MemAvailable)."},
    {"Buffers", "kobs_memory_buffers_bytes", "bytes",
     "Cache of raw block device data, not tied to files (Buffers)."},
    {"Cached", "kobs_memory_cached_bytes", "bytes",
     "Page cache of file data, including tmpfs and shared memory (Cached)."},
    {"SwapCached", "kobs_memory_swap_cached_bytes", "bytes",
     "Memory swapped back in that still has a copy in swap (SwapCached)."},
    {"Active", "kobs_memory_active_bytes", "bytes",
     "Memory used recently and reclaimed only when needed (Active)."},
    {"Inactive", "kobs_memory_inactive_bytes", "bytes",
     "Memory used less recently, the first to be reclaimed (Inactive)."},
    {"Dirty", "kobs_memory_dirty_bytes", "bytes",
     "Modified file data waiting to be written back to storage (Dirty)."},
    {"Writeback", "kobs_memory_writeback_bytes", "bytes",
     "File data being written back to storage right now (Writeback)."},
    {"AnonPages", "kobs_memory_anon_bytes", "bytes",
     "Anonymous memory (heaps, stacks) mapped into processes (AnonPages)."},
    {"Mapped", "kobs_memory_mapped_bytes", "bytes",
     "Files mapped into processes, such as executables and libraries (Mapped)."},
    {"Shmem", "kobs_memory_shmem_bytes", "bytes", "Shared memory and tmpfs contents (Shmem)."},
    {"SReclaimable", "kobs_memory_slab_reclaimable_bytes", "bytes",
     "Kernel slab memory that can be reclaimed, such as dentry and inode caches "
     "(SReclaimable)."},
    {"SUnreclaim", "kobs_memory_slab_unreclaimable_bytes", "bytes",
     "Kernel slab memory that cannot be reclaimed (SUnreclaim)."},
    {"KernelStack", "kobs_memory_kernel_stack_bytes", "bytes",
     "Kernel stacks of all threads (KernelStack)."},
    {"PageTables", "kobs_memory_page_tables_bytes", "bytes",
     "Page tables that map process memory (PageTables)."},
    {"CommitLimit", "kobs_memory_commit_limit_bytes", "bytes",
     "Memory that can be committed when overcommit is strict, vm.overcommit_memory=2 "
     "(CommitLimit)."},
    {"Committed_AS", "kobs_memory_committed_bytes", "bytes",
     "Memory processes have allocated, used or not: what RAM and swap would need to hold for "
     "no allocation to fail (Committed_AS)."},
    {"SwapTotal", "kobs_memory_swap_total_bytes", "bytes", "Swap space (SwapTotal)."},
    {"SwapFree", "kobs_memory_swap_free_bytes", "bytes", "Swap space not in use (SwapFree)."},
    {"HugePages_Total", "kobs_memory_hugepages", NULL,
     "Huge pages in the pool, used or not (HugePages_Total)."},
    {"HugePages_Free", "kobs_memory_hugepages_free", NULL,
     "Huge pages in the pool not yet allocated (HugePages_Free)."},
    {"Hugepagesize", "kobs_memory_hugepage_size_bytes", "bytes",
     "Size of one huge page of the default size (Hugepagesize)."},
};
#define MEMINFO_METRICS (sizeof(meminfo_metrics) / sizeof(meminfo_metrics[0]))

enum vm_key {
	VM_PGFAULT,
	VM_PGMAJFAULT,
	VM_PGPGIN,
	VM_PGPGOUT,
	VM_PSWPIN,
	VM_PSWPOUT,
	VM_PGSCAN_KSWAPD,
	VM_PGSCAN_DIRECT,
	VM_PGSTEAL_KSWAPD,
	VM_PGSTEAL_DIRECT,
	VM_OOM_KILL,
	VM_KEY__COUNT,
};

static const char *const vm_keys[VM_KEY__COUNT] = {
    [VM_PGFAULT] = "pgfault",
    [VM_PGMAJFAULT] = "pgmajfault",
    [VM_PGPGIN] = "pgpgin",
    [VM_PGPGOUT] = "pgpgout",
    [VM_PSWPIN] = "pswpin",
    [VM_PSWPOUT] = "pswpout",
    [VM_PGSCAN_KSWAPD] = "pgscan_kswapd",
    [VM_PGSCAN_DIRECT] = "pgscan_direct",
    [VM_PGSTEAL_KSWAPD] = "pgsteal_kswapd",
    [VM_PGSTEAL_DIRECT] = "pgsteal_direct",
    [VM_OOM_KILL] = "oom_kill",
};

enum vm_unit {
	VM_COUNT, /* as is */
	VM_KIB,   /* pgpgin/pgpgout: the kernel turns sectors into KiB before printing them */
	VM_PAGES, /* pswpin/pswpout count pages */
};

struct vm_sample {
	enum vm_key key;
	const char *by; /* the "by" label, or NULL for a family without labels */
};

struct vm_metric {
	const char *name; /* counters all: without _total */
	const char *unit;
	enum vm_unit scale;
	const char *help;
	size_t nsamples;
	struct vm_sample samples[2];
};

static const struct vm_metric vm_metrics[] = {
    {"kobs_vm_page_faults",
     NULL,
     VM_COUNT,
     "Page faults since boot, minor and major.",
     1,
     {{VM_PGFAULT, NULL}}},
    {"kobs_vm_major_page_faults",
     NULL,
     VM_COUNT,
     "Page faults since boot that had to wait for storage.",
     1,
     {{VM_PGMAJFAULT, NULL}}},
    {"kobs_vm_paged_in_bytes",
     "bytes",
     VM_KIB,
     "Data read from block devices into memory since boot (pgpgin).",
     1,
     {{VM_PGPGIN, NULL}}},
    {"kobs_vm_paged_out_bytes",
     "bytes",
     VM_KIB,
     "Data written from memory to block devices since boot (pgpgout).",
     1,
     {{VM_PGPGOUT, NULL}}},
    {"kobs_vm_swapped_in_bytes",
     "bytes",
     VM_PAGES,
     "Memory read back from swap since boot.",
     1,
     {{VM_PSWPIN, NULL}}},
    {"kobs_vm_swapped_out_bytes",
     "bytes",
     VM_PAGES,
     "Memory written out to swap since boot.",
     1,
     {{VM_PSWPOUT, NULL}}},
    {"kobs_vm_pages_scanned",
     NULL,
     VM_COUNT,
     "Pages scanned for reclaim since boot, by kswapd in the background or directly by "
     "allocating tasks (which then stall).",
     2,
     {{VM_PGSCAN_KSWAPD, "kswapd"}, {VM_PGSCAN_DIRECT, "direct"}}},
    {"kobs_vm_pages_reclaimed",
     NULL,
     VM_COUNT,
     "Pages reclaimed since boot, by kswapd in the background or directly by allocating "
     "tasks.",
     2,
     {{VM_PGSTEAL_KSWAPD, "kswapd"}, {VM_PGSTEAL_DIRECT, "direct"}}},
    {"kobs_vm_oom_kills",
     NULL,
     VM_COUNT,
     "Processes killed by the kernel's OOM killer since boot.",
     1,
     {{VM_OOM_KILL, NULL}}},
};

static const char *const psi_resources[] = {"cpu", "memory", "io"};

/* ---- state ---- */

struct system_state {
	struct buf file;  /* the file being parsed; every read reuses it */
	double user_hz;   /* /proc/stat ticks per second */
	double page_size; /* bytes */
	struct kv_field meminfo[MEMINFO_METRICS];
	struct kv_field vmstat[VM_KEY__COUNT];
	struct softirq_total softirqs[MAX_SOFTIRQS];
	struct cpu_line *cpus; /* the cpuN lines of /proc/stat, as many as the last one had */
	size_t cpus_cap;
};

/* Read <procfs>/<file> into st->file; a failure is counted under the file's name. */
static bool read_proc_file(struct system_state *st, const struct collector_env *env,
                           const char *file)
{
	if (procfs_read(env->procfs, file, &st->file, FILE_LIMIT) == 0)
		return true;
	read_errors_count(env->read_errors, file, read_error_from_errno(errno));
	return false;
}

static void count_parse_error(const struct collector_env *env, const char *file)
{
	read_errors_count(env->read_errors, file, READ_ERROR_PARSE);
}

/* A family of one sample without labels. */
static void expose_one(struct expo *e, const char *name, enum metric_type type, const char *unit,
                       const char *help, double value)
{
	expo_family(e, name, type, unit, help);
	expo_sample(e, NULL, 0, value);
}

/* ---- /proc/stat ---- */

/* Per CPU, as node_exporter's node_cpu_seconds_total: `sum by (mode)` gives the host's figures
 * (contrib/prometheus records it as instance_mode:kobs_cpu_seconds:rate5m). */
static void expose_cpu_modes(const struct system_state *st, const struct cpu_line *cpus, size_t n,
                             struct expo *e)
{
	char cpu[16];
	expo_family(e, "kobs_cpu_seconds", METRIC_COUNTER, "seconds",
	            "Time each CPU spent in each mode since boot. Time running guests is included "
	            "in user and nice (see kobs_cpu_guest_seconds_total).");
	for (size_t i = 0; i < n; i++) {
		snprintf(cpu, sizeof(cpu), "%u", cpus[i].cpu);
		for (unsigned m = 0; m < cpus[i].modes && m < CPU_GUEST; m++) {
			struct label labels[] = {{"cpu", cpu}, {"mode", cpu_mode_names[m]}};
			expo_sample(e, labels, 2, (double)cpus[i].ticks[m] / st->user_hz);
		}
	}
	expo_family(
	    e, "kobs_cpu_guest_seconds", METRIC_COUNTER, "seconds",
	    "Time each CPU spent running virtual CPUs of guests since boot; already counted "
	    "in kobs_cpu_seconds_total with the same cpu and mode.");
	static const char *const guest_modes[] = {"user", "nice"};
	for (size_t i = 0; i < n; i++) {
		snprintf(cpu, sizeof(cpu), "%u", cpus[i].cpu);
		for (unsigned m = CPU_GUEST; m < cpus[i].modes && m <= CPU_GUEST_NICE; m++) {
			struct label labels[] = {{"cpu", cpu},
			                         {"mode", guest_modes[m - CPU_GUEST]}};
			expo_sample(e, labels, 2, (double)cpus[i].ticks[m] / st->user_hz);
		}
	}
}

static uint64_t stat_value(const struct proc_stat *s, unsigned bit)
{
	switch (bit) {
	case PROC_STAT_CTXT:
		return s->ctxt;
	case PROC_STAT_INTR:
		return s->intr;
	case PROC_STAT_PROCESSES:
		return s->processes;
	case PROC_STAT_BTIME:
		return s->btime;
	case PROC_STAT_PROCS_RUNNING:
		return s->procs_running;
	default:
		return s->procs_blocked;
	}
}

static int collect_stat(struct system_state *st, const struct collector_env *env, struct expo *e)
{
	struct proc_stat s;
	if (!read_proc_file(st, env, "stat"))
		return -1;
	if (parse_proc_stat(st->file.data, st->file.len, &s) < 0) {
		count_parse_error(env, "stat");
		return -1;
	}
	if (s.cpus > st->cpus_cap) {
		st->cpus = xreallocarray(st->cpus, s.cpus, sizeof(*st->cpus));
		st->cpus_cap = s.cpus;
	}
	expose_cpu_modes(st, st->cpus,
	                 parse_proc_stat_cpus(st->file.data, st->file.len, st->cpus, s.cpus), e);
	expose_one(e, "kobs_cpus", METRIC_GAUGE, NULL, "CPUs online.", (double)s.cpus);
	for (size_t i = 0; i < sizeof(stat_metrics) / sizeof(stat_metrics[0]); i++) {
		const struct stat_metric *m = &stat_metrics[i];
		if (s.present & m->bit)
			expose_one(e, m->name, m->type, m->unit, m->help,
			           (double)stat_value(&s, m->bit));
	}
	return 0;
}

/* ---- /proc/meminfo and /proc/vmstat ---- */

static void collect_meminfo(struct system_state *st, const struct collector_env *env,
                            struct expo *e)
{
	if (!read_proc_file(st, env, "meminfo"))
		return;
	if (parse_meminfo(st->file.data, st->file.len, st->meminfo, MEMINFO_METRICS) < 0) {
		count_parse_error(env, "meminfo");
		return;
	}
	for (size_t i = 0; i < MEMINFO_METRICS; i++) {
		const struct meminfo_metric *m = &meminfo_metrics[i];
		if (st->meminfo[i].found)
			expose_one(e, m->name, METRIC_GAUGE, m->unit, m->help,
			           (double)st->meminfo[i].value);
	}
}

static double vm_scale(const struct system_state *st, enum vm_unit unit)
{
	switch (unit) {
	case VM_KIB:
		return 1024;
	case VM_PAGES:
		return st->page_size;
	default:
		return 1;
	}
}

static void expose_vm_metric(const struct system_state *st, const struct vm_metric *m,
                             struct expo *e)
{
	bool started = false;
	for (size_t i = 0; i < m->nsamples; i++) {
		const struct kv_field *f = &st->vmstat[m->samples[i].key];
		if (!f->found)
			continue;
		if (!started)
			expo_family(e, m->name, METRIC_COUNTER, m->unit, m->help);
		started = true;
		struct label by = {"by", m->samples[i].by};
		expo_sample(e, &by, by.value ? 1 : 0, (double)f->value * vm_scale(st, m->scale));
	}
}

static void collect_vmstat(struct system_state *st, const struct collector_env *env, struct expo *e)
{
	if (!read_proc_file(st, env, "vmstat"))
		return;
	if (parse_vmstat(st->file.data, st->file.len, st->vmstat, VM_KEY__COUNT) < 0) {
		count_parse_error(env, "vmstat");
		return;
	}
	for (size_t i = 0; i < sizeof(vm_metrics) / sizeof(vm_metrics[0]); i++)
		expose_vm_metric(st, &vm_metrics[i], e);
}

/* ---- /proc/loadavg ---- */

static void collect_loadavg(struct system_state *st, const struct collector_env *env,
                            struct expo *e)
{
	struct loadavg l;
	if (!read_proc_file(st, env, "loadavg"))
		return;
	if (parse_loadavg(st->file.data, st->file.len, &l) < 0) {
		count_parse_error(env, "loadavg");
		return;
	}
	expose_one(e, "kobs_load1", METRIC_GAUGE, NULL,
	           "Load average over 1 minute: runnable plus uninterruptible threads.", l.load1);
	expose_one(e, "kobs_load5", METRIC_GAUGE, NULL,
	           "Load average over 5 minutes: runnable plus uninterruptible threads.", l.load5);
	expose_one(e, "kobs_load15", METRIC_GAUGE, NULL,
	           "Load average over 15 minutes: runnable plus uninterruptible threads.",
	           l.load15);
	expose_one(e, "kobs_threads", METRIC_GAUGE, NULL,
	           "Scheduling entities (threads) that exist on the system.", (double)l.threads);
	expose_one(e, "kobs_threads_runnable", METRIC_GAUGE, NULL,
	           "Scheduling entities (threads) running or ready to run.", (double)l.runnable);
}

/* ---- /proc/pressure ---- */

static void expose_pressure_line(const char *resource, const char *kind,
                                 const struct pressure_line *line, struct expo *e)
{
	if (!line->present)
		return;
	struct label labels[] = {{"resource", resource}, {"kind", kind}};
	expo_sample(e, labels, 2, (double)line->total_us / 1e6);
}

/* Kernels without PSI (older than 4.20, or booted with psi=0) have no such files, or refuse to
 * open them; that is counted like any unreadable file but does not fail the scrape. */
static void collect_pressure(struct system_state *st, const struct collector_env *env,
                             struct expo *e)
{
	expo_family(e, "kobs_pressure_stalled_seconds", METRIC_COUNTER, "seconds",
	            "Time since boot that tasks waited for a resource (PSI). kind=\"some\": at "
	            "least one task stalled; kind=\"full\": all non-idle tasks stalled at once.");
	for (size_t i = 0; i < sizeof(psi_resources) / sizeof(psi_resources[0]); i++) {
		char file[32];
		struct pressure p;
		snprintf(file, sizeof(file), "pressure/%s", psi_resources[i]);
		if (!read_proc_file(st, env, file))
			continue;
		if (parse_pressure(st->file.data, st->file.len, &p) < 0) {
			count_parse_error(env, file);
			continue;
		}
		expose_pressure_line(psi_resources[i], "some", &p.some, e);
		expose_pressure_line(psi_resources[i], "full", &p.full, e);
	}
}

/* ---- /proc/softirqs ---- */

static void lower_case(char *dst, const char *src, size_t size)
{
	size_t i = 0;
	for (; i + 1 < size && src[i]; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

static void collect_softirqs(struct system_state *st, const struct collector_env *env,
                             struct expo *e)
{
	size_t n;
	if (!read_proc_file(st, env, "softirqs"))
		return;
	if (parse_softirqs(st->file.data, st->file.len, st->softirqs, MAX_SOFTIRQS, &n) < 0) {
		count_parse_error(env, "softirqs");
		return;
	}
	expo_family(e, "kobs_softirqs", METRIC_COUNTER, NULL,
	            "Software interrupts handled on all CPUs since boot, by type.");
	for (size_t i = 0; i < n; i++) {
		char type[SOFTIRQ_NAME_MAX];
		lower_case(type, st->softirqs[i].name, sizeof(type));
		struct label label = {"type", type};
		expo_sample(e, &label, 1, (double)st->softirqs[i].total);
	}
}

/* ---- the collector ---- */

static void system_destroy(void *state)
{
	struct system_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	free(st->cpus);
	free(st);
}

/* A procfs that lacks a readable /proc/stat is the wrong directory or a restricted mount, and
 * the user should hear which at start-up rather than from empty scrapes. */
static int check_stat(struct system_state *st, const struct collector_env *env, char *why,
                      size_t why_len)
{
	struct proc_stat s;
	if (procfs_read_at_start(env->procfs, "stat", &st->file, FILE_LIMIT, why, why_len) < 0)
		return -1;
	if (parse_proc_stat(st->file.data, st->file.len, &s) < 0) {
		snprintf(why, why_len,
		         "%s/stat: no aggregate cpu line, not a kernel's /proc/stat — is "
		         "--path.procfs right?",
		         env->procfs);
		return -1;
	}
	return 0;
}

static int system_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct system_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	long hz = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	/* Both have been these values on Linux for decades; the fallbacks only guard a failed call.
	 */
	st->user_hz = hz > 0 ? (double)hz : 100;
	st->page_size = page > 0 ? (double)page : 4096;
	for (size_t i = 0; i < MEMINFO_METRICS; i++)
		st->meminfo[i].key = meminfo_metrics[i].key;
	for (size_t i = 0; i < VM_KEY__COUNT; i++)
		st->vmstat[i].key = vm_keys[i];
	if (check_stat(st, env, why, why_len) < 0) {
		system_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static int system_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct system_state *st = state;
	int rc = collect_stat(st, env, out);
	collect_meminfo(st, env, out);
	collect_vmstat(st, env, out);
	collect_loadavg(st, env, out);
	collect_pressure(st, env, out);
	collect_softirqs(st, env, out);
	return rc;
}

const struct collector_ops collector_system = {
    .name = "system",
    .description = "System-wide CPU, memory, paging, load, pressure (PSI) and softirqs from /proc",
    .default_enabled = true,
    .init = system_init,
    .collect = system_collect,
    .destroy = system_destroy,
};
