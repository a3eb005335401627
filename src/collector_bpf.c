/* The "bpf" collector: kernel latency histograms and event counters from the libbpf CO-RE
 * programs of bpf/, labelled with the process groups of the processes collector.
 *
 * At start each program (one BPF object: bpf/NAME.bpf.c, embedded as its bpftool skeleton) is
 * checked against the kernel's BTF, loaded and attached on its own; one that fails is reported
 * (log, landing page, kobs_bpf_program_attached 0) and the others run. They all share one
 * pid -> group map, which the processes collector fills through group_link.h; exec events from
 * the kernel let this collector classify a new process at once. The daemon then drops every
 * capability (main.c): the maps stay readable through their mappings and descriptors.
 *
 * Counts live in the kernel: a scrape reads the maps (arrays mapped into this process, and a
 * syscall for each per-CPU value in use: see KOBS_CPU_ROWS) and serves them as they are, so they
 * are cumulative for as long as the daemon runs. A group's rows are zeroed when its id is given to
 * another group, or when a reload makes all ids new. */
#include "collector.h"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-login.h>
#endif

/* The skeletons use the settings' type. */
#include "kobs_bpf.h"

#include "block_io.skel.h"
#include "oom_kills.skel.h"
#include "packet_drops.skel.h"
#include "process_events.skel.h"
#include "scheduler.skel.h"
#include "syscalls.skel.h"
#include "task_iter.skel.h"
#include "tcp_retransmits.skel.h"

#include "buf.h"
#include "events.h"
#include "group_link.h"
#include "groups_config.h"
#include "log.h"
#include "procfs.h"
#include "procfs_pid_parse.h"
#include "task_feed.h"
#include "xalloc.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

enum program_id {
	P_SCHEDULER,
	P_BLOCK_IO,
	P_SYSCALLS,
	P_OOM_KILLS,
	P_TCP_RETRANSMITS,
	P_PACKET_DROPS,
	P_PROCESS_EVENTS,
	P_TASK_ITER,
	P__COUNT,
};

/* How the rows of a program's "hist" map are laid out. */
enum rows {
	ROWS_NONE,
	ROWS_GROUPS,          /* one histogram per group id */
	ROWS_GROUPS_SYSCALLS, /* one per group id and timed syscall */
};

struct program_def {
	const void *(*elf)(size_t *size);
	const char *tracepoints[4]; /* what it attaches to, NULL-terminated */
	enum rows rows;
	const char *hists[2];     /* its histogram maps, laid out as `rows` says */
	const char *cpu_hists[2]; /* their first KOBS_CPU_ROWS rows, one copy per CPU */
	const char *words;        /* its map of counters, if any */
	const char *table;        /* a map read by descriptor: hash, per-CPU array, ring buffer */
};

/* In the order of groups_bpf_program_names. */
static const struct program_def programs[P__COUNT] = {
    [P_SCHEDULER] = {scheduler_bpf__elf_bytes,
                     {"sched_switch"},
                     ROWS_GROUPS,
                     {"runq", "offcpu"},
                     {"runq_cpu", "offcpu_cpu"}},
    [P_BLOCK_IO] = {block_io_bpf__elf_bytes,
                    {"block_rq_issue", "block_rq_complete"},
                    .table = "hist"},
    [P_SYSCALLS] = {syscalls_bpf__elf_bytes,
                    {"sys_enter", "sys_exit"},
                    ROWS_GROUPS_SYSCALLS,
                    {"hist"},
                    {"hist_cpu"}},
    [P_OOM_KILLS] = {oom_kills_bpf__elf_bytes, {"mark_victim"}, .words = "kills"},
    [P_TCP_RETRANSMITS] = {tcp_retransmits_bpf__elf_bytes,
                           {"tcp_retransmit_skb"},
                           .words = "retransmits"},
    [P_PACKET_DROPS] = {packet_drops_bpf__elf_bytes, {"kfree_skb"}, .table = "drops"},
    [P_PROCESS_EVENTS] = {process_events_bpf__elf_bytes,
                          {"sched_process_fork", "sched_process_exec", "sched_process_exit"},
                          .words = "lost",
                          .table = "events"},
    /* Not on a tracepoint: an iterator the processes collector reads (task_feed.h). */
    [P_TASK_ITER] = {task_iter_bpf__elf_bytes, {NULL}, .words = "wchan_groups"},
};

/* An array map of words, mapped into this process as far as it is read: the kernel maps every
 * page of a mapping at once, so a mapping only as long as the ids in use keeps the resident
 * memory to the groups there are rather than the group_limit the map is sized for. */
struct mapping {
	int fd;
	size_t entries;
	uint64_t *words; /* NULL until read */
	size_t len;      /* bytes mapped */
};

/* One BPF program of the object, attached. */
struct hook {
	struct bpf_link *link;
	int fd;              /* the program's, for its run time and count */
	char tracepoint[40]; /* what it is attached to */
};

/* One program of the table above. Once attached, only the descriptors and links it needs stay:
 * libbpf's object (the ELF image and its BTF, some 100 KiB each) is closed. */
struct program {
	struct bpf_object *obj; /* while loading */
	struct hook hooks[4];
	size_t nhooks;
	bool attached;
	char why[200];           /* why it is not attached */
	struct mapping hists[2]; /* as programs[].hists */
	int cpu_hist_fd[2];      /* programs[].cpu_hists */
	struct mapping words;    /* programs[].words */
	int table_fd;            /* programs[].table */
};

/* Names of the values of a kernel enum (drop reasons, block operations), by value. */
struct enum_names {
	char **names;
	size_t n;
};

struct device {
	unsigned dev;
	char name[64];
};

/* The latest slow event in each bucket of a histogram series, for its exemplar: a bounded
 * table, the oldest entry making room for a new one. */
#define EXEMPLARS 1024

struct exemplar {
	uint64_t key; /* exemplar_key(); 0: free */
	unsigned pid;
	char comm[16];
	double value, time; /* seconds; seconds since the epoch */
};

/* The slow events' maps, in the order of slow_maps[]. */
enum slow_map { SLOW_SETTINGS, SLOW_RING, SLOW_RATE, SLOW_COUNTS, SLOW__MAPS };

struct slow {
	int fds[SLOW__MAPS];
	struct kobs_slow_settings *settings; /* mapped */
	struct events *out;                  /* where they go; NULL: counted only */
	uint64_t *counts; /* received, by kind and group id: [kind * nr_groups + id] */
	uint64_t no_group[EVENT_KINDS]; /* received without a group */
	long page_size;
	/* Under `lock`: the exemplars, and what the reading thread shares with the scrapes. */
	pthread_mutex_t lock;
	struct exemplar *exemplars;
	struct exemplar *sorted; /* a scrape's copy, by key */
	size_t nsorted;
};

struct bpf_collector {
	struct program progs[P__COUNT];
	int pid_map_fd;
	size_t pid_words;
	unsigned nr_groups;
	struct kobs_settings settings;
	int ncpus;            /* possible CPUs: the copies of a per-CPU map's value */
	uint64_t *per_cpu;    /* a per-CPU value read, of ncpus * PER_CPU_WORDS words */
	bool cpu_read_failed; /* a per-CPU map could not be read, and the log said so */
	char *syscalls[GROUPS_BPF_SYSCALLS]; /* copies: a reload frees the configuration */
	char *ungrouped; /* the group label of id 0, NULL when those processes are left out */

	struct enum_names drop_reasons, block_ops;
	struct device *devices;
	size_t ndevices;

	/* What each id was called when last served, to notice an id given to another group. */
	char **served_names;
	unsigned highest_id; /* the highest id that ever had a group */
	unsigned epoch;

	/* The thread that reads the ring buffers: exec events and slow events. */
	struct ring_buffer *events;
	pthread_t exec_thread;
	bool exec_running;
	bool stopping; /* read by the exec thread: atomic loads and stores */
	bool reader_started;

	/* Slow events (bpf/slow_events.bpf.h): the maps every reporting object shares. */
	struct slow slow;
	struct group_link *link;
	struct task_feed *tasks; /* filled in while the task iterator is attached */
	struct buf file, cmdline, cgroup, name;
	const char **argv;
};

/* The largest per-CPU value: the drop counters. */
#define PER_CPU_WORDS KOBS_DROP_REASONS

#define MAX_ARGS      4096
#define CMDLINE_LIMIT (128u * 1024)

/* ---- the kernel's BTF: which tracepoints exist and what they pass ---- */

static const struct btf_type *skip_modifiers(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t &&
	       (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The prototype of a raw tracepoint's programs (its first parameter is the tracepoint's own
 * data pointer), or NULL when the kernel has no such tracepoint. */
static const struct btf_type *tracepoint_proto(const struct btf *btf, const char *tp)
{
	char name[128];
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	const struct btf_type *t = skip_modifiers(btf, (__u32)id);
	if (t && btf_is_ptr(t))
		t = skip_modifiers(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

static int tracepoint_args(const struct btf *btf, const char *tp)
{
	const struct btf_type *t = tracepoint_proto(btf, tp);
	return t ? (int)btf_vlen(t) - 1 : -1;
}

static bool tracepoint_arg_is_pointer(const struct btf *btf, const char *tp, int arg)
{
	const struct btf_type *t = tracepoint_proto(btf, tp);
	if (!t || arg + 1 >= (int)btf_vlen(t))
		return false;
	const struct btf_type *a = skip_modifiers(btf, btf_params(t)[arg + 1].type);
	return a && btf_is_ptr(a);
}

/* The values of enum `name` as label values: without `prefix`, in lower case. */
static void read_enum(const struct btf *btf, const char *name, const char *prefix, size_t max,
                      struct enum_names *out)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);
	if (id < 0)
		return;
	const struct btf_type *t = btf__type_by_id(btf, (__u32)id);
	const struct btf_enum *e = btf_enum(t);
	out->n = max;
	out->names = xcalloc(max, sizeof(*out->names));
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		if (e[i].val < 0 || (size_t)e[i].val >= max || out->names[e[i].val])
			continue;
		const char *s = btf__name_by_offset(btf, e[i].name_off);
		if (!s)
			continue;
		if (strncmp(s, prefix, strlen(prefix)) == 0)
			s += strlen(prefix);
		char *lower = xstrdup(s);
		for (char *c = lower; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		out->names[e[i].val] = lower;
	}
}

static void free_enum(struct enum_names *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->names[i]);
	free(e->names);
}

/* ---- privileges ---- */

static bool capable_of(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Which capabilities loading needs and this process lacks, or "" when it has them. */
static const char *missing_capabilities(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};
	if (syscall(SYS_capget, &h, d) != 0)
		return "CAP_BPF and CAP_PERFMON";
	if (capable_of(d, CAP_SYS_ADMIN) || (capable_of(d, CAP_BPF) && capable_of(d, CAP_PERFMON)))
		return "";
	if (capable_of(d, CAP_BPF))
		return "CAP_PERFMON";
	if (capable_of(d, CAP_PERFMON))
		return "CAP_BPF";
	return "CAP_BPF and CAP_PERFMON";
}

/* ---- loading ---- */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The verifier's log of a refused program runs to thousands of lines: debug only. */
	if (level == LIBBPF_DEBUG || !log_enabled(LOG_LEVEL_DEBUG))
		return 0;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

/* The first `n` words of the map (n <= its entries), or NULL when they cannot be mapped. */
static uint64_t *words_upto(struct mapping *m, size_t n)
{
	if (n > m->entries)
		n = m->entries;
	if (m->words && n * sizeof(uint64_t) <= m->len)
		return m->words;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t full = (m->entries * sizeof(uint64_t) + page - 1) / page * page;
	size_t want = (n * sizeof(uint64_t) + page - 1) / page * page;
	if (want < 2 * m->len)
		want = 2 * m->len; /* grow by halves at least, not a page per new group */
	if (want > full)
		want = full;
	if (m->words)
		munmap(m->words, m->len);
	void *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	m->words = p == MAP_FAILED ? NULL : p;
	m->len = m->words ? want : 0;
	return m->words;
}

static int map_words(int fd, size_t entries, struct mapping *m)
{
	*m = (struct mapping){.fd = fd, .entries = fd >= 0 ? entries : 0};
	/* Map the first page now: a kernel that cannot map this map fails the program at start. */
	return words_upto(m, 1) ? 0 : -1;
}

static void unmap(struct mapping *m)
{
	if (m->words)
		munmap(m->words, m->len);
	if (m->entries && m->fd >= 0)
		close(m->fd);
	*m = (struct mapping){.fd = -1};
}

/* Write the settings into the object's `kobs` variable of .rodata, found through its BTF. */
static int set_settings(struct bpf_object *obj, const struct kobs_settings *s)
{
	const struct btf *btf = bpf_object__btf(obj);
	int id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (id < 0)
		return -1;
	const struct btf_type *sec = btf__type_by_id(btf, (__u32)id);
	const struct btf_var_secinfo *v = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++) {
		const struct btf_type *var = btf__type_by_id(btf, v[i].type);
		const char *name = var ? btf__name_by_offset(btf, var->name_off) : NULL;
		if (!name || strcmp(name, "kobs") != 0 || v[i].size != sizeof(*s))
			continue;
		struct bpf_map *m;
		bpf_object__for_each_map(m, obj)
		{
			size_t size;
			char *data;
			if (!bpf_map__is_internal(m) || !strstr(bpf_map__name(m), ".rodata"))
				continue;
			data = (char *)bpf_map__initial_value(m, &size);
			if (!data || v[i].offset + sizeof(*s) > size)
				return -1;
			memcpy(data + v[i].offset, s, sizeof(*s));
			return 0;
		}
	}
	return -1;
}

/* ---- slow events: the shared maps and their settings ---- */

static const struct {
	const char *name; /* in bpf/slow_events.bpf.h */
	enum bpf_map_type type;
	__u32 value_size, entries, flags;
} slow_maps[SLOW__MAPS] = {
    [SLOW_SETTINGS] = {"slow_settings", BPF_MAP_TYPE_ARRAY, sizeof(struct kobs_slow_settings), 1,
                       BPF_F_MMAPABLE},
    /* Some 2,500 events: with the rate limit's default of 5 a second per kind, far more than
     * arrive between two reads; with the largest, 10,000, the reader is woken a quarter full. */
    [SLOW_RING] = {"slow_events", BPF_MAP_TYPE_RINGBUF, 0, 256 * 1024, 0},
    [SLOW_RATE] = {"slow_rate", BPF_MAP_TYPE_ARRAY, sizeof(struct kobs_slow_rate), KOBS_SLOW_KINDS,
                   0},
    [SLOW_COUNTS] = {"slow_counts", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct kobs_slow_counts), 1,
                     0},
};

static int make_slow_maps(struct slow *slow)
{
	for (int i = 0; i < SLOW__MAPS; i++) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = slow_maps[i].flags);
		bool ring = slow_maps[i].type == BPF_MAP_TYPE_RINGBUF;
		slow->fds[i] =
		    bpf_map_create(slow_maps[i].type, slow_maps[i].name, ring ? 0 : sizeof(__u32),
		                   slow_maps[i].value_size, slow_maps[i].entries, &opts);
		if (slow->fds[i] < 0)
			return -1;
	}
	void *p = mmap(NULL, sizeof(*slow->settings), PROT_READ | PROT_WRITE, MAP_SHARED,
	               slow->fds[SLOW_SETTINGS], 0);
	if (p == MAP_FAILED)
		return -1;
	slow->settings = p;
	return 0;
}

static void store_word(unsigned long long *w, unsigned long long v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

/* The thresholds and the rate limit of `cfg` into the map the programs read: at start, and at
 * each reload (each word changes on its own: a program may see a mix of the two for an event). */
static void write_slow_settings(struct bpf_collector *b, const struct groups_events *cfg)
{
	struct kobs_slow_settings *k = b->slow.settings;
	if (!k)
		return;
	static const int latency_kinds[GROUPS_EVENT_LATENCIES] = {
	    [GROUPS_EVENT_RUNQUEUE] = KOBS_SLOW_RUNQUEUE,
	    [GROUPS_EVENT_OFFCPU] = KOBS_SLOW_OFFCPU,
	    [GROUPS_EVENT_BLOCK_IO] = KOBS_SLOW_BLOCK_IO,
	};
	for (int i = 0; i < KOBS_SLOW_KINDS; i++)
		store_word(&k->threshold_ns[i], KOBS_SLOW_OFF);
	for (int i = 0; i < GROUPS_EVENT_LATENCIES; i++)
		store_word(&k->threshold_ns[latency_kinds[i]], cfg->threshold_ns[i]);
	for (size_t i = 0; i < KOBS_MAX_SYSCALLS; i++) {
		unsigned long long ns = KOBS_SLOW_OFF;
		for (size_t j = 0; i < b->settings.nr_syscalls && j < cfg->nsyscalls; j++)
			if (strcmp(cfg->syscalls[j], b->syscalls[i]) == 0)
				ns = cfg->syscall_ns[j];
		store_word(&k->syscall_ns[i], ns);
	}
	store_word(&k->per_second, cfg->per_second);
	__atomic_store_n(&k->self_tgid, (unsigned)getpid(), __ATOMIC_RELAXED);
}

static size_t hist_rows(const struct bpf_collector *b, enum program_id id)
{
	switch (programs[id].rows) {
	case ROWS_GROUPS:
		return b->nr_groups;
	case ROWS_GROUPS_SYSCALLS:
		return (size_t)b->nr_groups * b->settings.nr_syscalls;
	case ROWS_NONE:
		break;
	}
	return 0;
}

/* Size the object's maps, hand it the shared pid map and its settings. */
static int prepare(struct bpf_collector *b, enum program_id id, struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "pid_groups");
	if (!m || bpf_map__set_max_entries(m, (__u32)b->pid_words) ||
	    bpf_map__reuse_fd(m, b->pid_map_fd))
		return -1;
	for (int h = 0; h < 2 && programs[id].hists[h]; h++) {
		m = bpf_object__find_map_by_name(obj, programs[id].hists[h]);
		if (!m || bpf_map__set_max_entries(m, (__u32)(hist_rows(b, id) * KOBS_HIST_WORDS)))
			return -1;
		/* Rows beyond hist_rows are never counted: no copies of them. */
		size_t cpu_rows =
		    hist_rows(b, id) < KOBS_CPU_ROWS ? hist_rows(b, id) : KOBS_CPU_ROWS;
		m = bpf_object__find_map_by_name(obj, programs[id].cpu_hists[h]);
		if (!m || bpf_map__set_max_entries(m, (__u32)cpu_rows))
			return -1;
	}
	if (id == P_OOM_KILLS) {
		m = bpf_object__find_map_by_name(obj, "kills");
		if (!m || bpf_map__set_max_entries(m, b->nr_groups))
			return -1;
	}
	/* The objects that report slow events share the daemon's maps for them. */
	for (int i = 0; i < SLOW__MAPS; i++) {
		m = bpf_object__find_map_by_name(obj, slow_maps[i].name);
		if (m && bpf_map__reuse_fd(m, b->slow.fds[i]))
			return -1;
	}
	return set_settings(obj, &b->settings);
}

/* A descriptor of the object's, kept when the object is closed. */
static int dup_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* After loading: map what the scrapes read, fill what the programs read. */
static int finish(struct bpf_collector *b, enum program_id id, struct program *p)
{
	const struct program_def *def = &programs[id];
	for (int h = 0; h < 2 && def->hists[h]; h++) {
		struct bpf_map *m = bpf_object__find_map_by_name(p->obj, def->hists[h]);
		if (!m ||
		    map_words(dup_fd(bpf_map__fd(m)), bpf_map__max_entries(m), &p->hists[h]) < 0)
			return -1;
		m = bpf_object__find_map_by_name(p->obj, def->cpu_hists[h]);
		if (!m || (p->cpu_hist_fd[h] = dup_fd(bpf_map__fd(m))) < 0)
			return -1;
	}
	if (def->words) {
		struct bpf_map *m = bpf_object__find_map_by_name(p->obj, def->words);
		if (!m || map_words(dup_fd(bpf_map__fd(m)), bpf_map__max_entries(m), &p->words) < 0)
			return -1;
	}
	if (def->table) {
		struct bpf_map *m = bpf_object__find_map_by_name(p->obj, def->table);
		if (!m || (p->table_fd = dup_fd(bpf_map__fd(m))) < 0)
			return -1;
	}
	if (id == P_SYSCALLS) {
		int fd = bpf_map__fd(bpf_object__find_map_by_name(p->obj, "timed"));
		for (__u32 i = 0; i < b->settings.nr_syscalls; i++) {
			__u32 nr = (__u32)groups_syscall_number(b->syscalls[i]), index = i + 1;
			if (bpf_map_update_elem(fd, &nr, &index, BPF_ANY) < 0)
				return -1;
		}
	}
	return 0;
}

static void unload(struct program *p)
{
	for (size_t i = 0; i < p->nhooks; i++) {
		bpf_link__destroy(p->hooks[i].link);
		if (p->hooks[i].fd >= 0)
			close(p->hooks[i].fd);
	}
	p->nhooks = 0;
	unmap(&p->hists[0]);
	unmap(&p->hists[1]);
	unmap(&p->words);
	for (int h = 0; h < 2; h++) {
		if (p->cpu_hist_fd[h] >= 0)
			close(p->cpu_hist_fd[h]);
		p->cpu_hist_fd[h] = -1;
	}
	if (p->table_fd >= 0)
		close(p->table_fd);
	p->table_fd = -1;
	bpf_object__close(p->obj);
	p->obj = NULL;
	p->attached = false;
}

static void load(struct bpf_collector *b, enum program_id id, const struct btf *kernel)
{
	struct program *p = &b->progs[id];
	const struct program_def *def = &programs[id];
	for (size_t i = 0; def->tracepoints[i]; i++)
		if (tracepoint_args(kernel, def->tracepoints[i]) < 0) {
			snprintf(p->why, sizeof(p->why), "the kernel has no tracepoint %s",
			         def->tracepoints[i]);
			return;
		}
	size_t size;
	const void *elf = def->elf(&size);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = groups_bpf_program_names[id]);
	p->obj = bpf_object__open_mem(elf, size, &opts);
	if (!p->obj) {
		snprintf(p->why, sizeof(p->why), "cannot open: %s", strerror(errno));
		return;
	}
	int err = prepare(b, id, p->obj);
	if (err) {
		snprintf(p->why, sizeof(p->why), "cannot prepare its maps");
		goto fail;
	}
	err = bpf_object__load(p->obj);
	if (err) {
		snprintf(p->why, sizeof(p->why),
		         "the kernel refused to load it: %s (run with --log.level=debug for the "
		         "verifier's log)",
		         strerror(-err));
		goto fail;
	}
	if (finish(b, id, p) < 0) {
		snprintf(p->why, sizeof(p->why), "cannot map or fill its maps: %s",
		         strerror(errno));
		goto fail;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, p->obj)
	{
		const char *sec = bpf_program__section_name(prog);
		const char *slash = strchr(sec, '/');
		if (p->nhooks == sizeof(p->hooks) / sizeof(p->hooks[0])) {
			snprintf(p->why, sizeof(p->why), "more programs than kobsd keeps");
			goto fail;
		}
		struct hook *h = &p->hooks[p->nhooks];
		h->link = bpf_program__attach(prog);
		if (!h->link) {
			snprintf(p->why, sizeof(p->why), "cannot attach to %s: %s", sec,
			         strerror(errno));
			goto fail;
		}
		h->fd = dup_fd(bpf_program__fd(prog));
		snprintf(h->tracepoint, sizeof(h->tracepoint), "%s", slash ? slash + 1 : sec);
		p->nhooks++;
	}
	/* What runs in the kernel is held by the links and the descriptors kept above. */
	bpf_object__close(p->obj);
	p->obj = NULL;
	p->attached = true;
	return;
fail:
	unload(p);
}

/* The programs' ELF images, embedded in the daemon, are read only to load them: once loaded,
 * their pages (some 200 KiB) need not stay resident. They are the daemon's own read-only data,
 * so the kernel drops them and would read them again from the file if they were touched. */
static void release_elf_images(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < P__COUNT; i++) {
		size_t size;
		uintptr_t elf = (uintptr_t)programs[i].elf(&size);
		uintptr_t from = (elf + page - 1) & ~(page - 1), to = (elf + size) & ~(page - 1);
		if (to > from)
			madvise((void *)from, to - from, MADV_DONTNEED);
	}
}

/* ---- exec events: classify a new process the moment it has its final name ---- */

static void classify_exec(struct bpf_collector *b, int pid)
{
	static long hz;
	if (!hz)
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	char dir[32];
	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	int pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	char comm[16];
	uint64_t start;
	struct proc_identity id = {.pid = pid, .comm = comm};
	if (procfs_read_seq_at(pfd, "stat", &b->file, 4096) < 0 ||
	    parse_pid_stat_start(b->file.data, b->file.len, comm, &start) < 0)
		goto out;
	/* A process that started before the processes collector's last listing may have been
	 * classified by its name before this exec: that collector must classify it again. */
	group_link_lock(b->link);
	double listed = group_link_listed_boot(b->link);
	group_link_unlock(b->link);
	if ((double)start / (double)hz <= listed)
		group_link_exec(b->link, pid);
	if (procfs_read_seq_at(pfd, "status", &b->file, 16384) < 0 ||
	    parse_pid_status_euid(b->file.data, b->file.len, &id.uid) < 0)
		goto out;
	if (procfs_read_at(pfd, "cmdline", &b->cmdline, CMDLINE_LIMIT) < 0)
		goto out;
	id.argc = split_pid_cmdline(b->cmdline.data, b->cmdline.len, b->argv, MAX_ARGS);
	id.argv = id.argc ? b->argv : NULL;
	const char *path;
	size_t plen;
	if (procfs_read_seq_at(pfd, "cgroup", &b->cgroup, 16384) == 0 &&
	    parse_pid_cgroup(b->cgroup.data, b->cgroup.len, &path, &plen) == 0) {
		memmove(b->cgroup.data, path, plen);
		b->cgroup.data[plen] = '\0';
		id.cgroup = b->cgroup.data;
	}
	struct passwd pw, *found = NULL;
	char pwbuf[1024];
	if (getpwuid_r(id.uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		id.user = found->pw_name;
	char *unit = NULL;
#ifdef HAVE_SYSTEMD
	if (sd_pid_get_unit(pid, &unit) >= 0)
		id.unit = unit;
#endif
	id.start_time = (double)time(NULL); /* it just started */
	struct group_match m;
	if (group_link_match(b->link, &id, &m, &b->name)) {
		/* A group the processes collector has not made yet gets its id now, so that
		 * a process gone before the next scrape still counts in its own group; unless
		 * this process has made too many new groups already (ungrouped, then). */
		group_link_set(b->link, pid, group_link_exec_id(b->link, pid, b->name.data));
	}
	free(unit);
out:
	close(pfd);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct bpf_collector *b = ctx;
	struct kobs_event ev;
	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	switch (ev.type) {
	case KOBS_EVENT_FORK:
		/* A child starts in its parent's group, as the processes collector would put it
		 * (unless its own name matches: then the exec that gave it that name says so). */
		group_link_set(b->link, (int)ev.pid, group_link_get(b->link, (int)ev.parent));
		break;
	case KOBS_EVENT_EXEC:
		classify_exec(b, (int)ev.pid);
		break;
	case KOBS_EVENT_EXIT:
		group_link_exit(b->link, (int)ev.pid);
		break;
	}
	return 0;
}

/* ---- slow events: from the kernel's record to the log, the streams and the exemplars ---- */

static double now_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A latency for people: "850 us", "2.45 ms", "1.2 s". */
static void human_seconds(char *out, size_t len, double s)
{
	if (s < 1e-3)
		snprintf(out, len, "%.3g us", s * 1e6);
	else if (s < 1)
		snprintf(out, len, "%.3g ms", s * 1e3);
	else
		snprintf(out, len, "%.3g s", s);
}

static const char *tcp_state_name(unsigned state)
{
	static const char *const names[] = {
	    "",          "ESTABLISHED", "SYN_SENT",     "SYN_RECV",       "FIN_WAIT1",
	    "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",     "LAST_ACK",
	    "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE",
	};
	return state < sizeof(names) / sizeof(names[0]) && names[state][0] ? names[state]
	                                                                   : "UNKNOWN";
}

/* Which histogram series an event's latency was counted in, as a key of the exemplar table
 * (kind + 1, series, bucket), or 0 for the kinds without a histogram. */
static uint64_t exemplar_key(unsigned kind, uint64_t series, unsigned bucket)
{
	return ((uint64_t)(kind + 1) << 61) | ((series & ((1ull << 56) - 1)) << 5) | (bucket & 31);
}

static uint64_t event_series(const struct kobs_slow_event *e)
{
	switch (e->kind) {
	case KOBS_SLOW_RUNQUEUE:
	case KOBS_SLOW_OFFCPU:
		return e->group;
	case KOBS_SLOW_SYSCALL:
		return (uint64_t)e->group * KOBS_MAX_SYSCALLS + e->details.syscall.index;
	case KOBS_SLOW_BLOCK_IO:
		return ((uint64_t)e->details.block.dev << 8) | (e->details.block.op & 0xff);
	}
	return 0;
}

/* Called with slow.lock held. */
static void keep_exemplar(struct bpf_collector *b, const struct kobs_slow_event *e, double time)
{
	if (e->kind > KOBS_SLOW_SYSCALL || e->group == KOBS_SLOW_NO_GROUP)
		return;
	uint64_t key = exemplar_key(e->kind, event_series(e), kobs_bucket(e->latency_ns));
	struct exemplar *x = NULL, *unused = NULL, *oldest = NULL;
	for (size_t i = 0; i < EXEMPLARS && !x; i++) {
		struct exemplar *c = &b->slow.exemplars[i];
		if (c->key == key)
			x = c;
		else if (!c->key && !unused)
			unused = c;
		else if (c->key && (!oldest || c->time < oldest->time))
			oldest = c;
	}
	if (!x)
		x = unused ? unused : oldest;
	x->key = key;
	x->pid = e->pid;
	memcpy(x->comm, e->comm, sizeof(x->comm));
	x->comm[sizeof(x->comm) - 1] = '\0';
	x->value = (double)e->latency_ns / 1e9;
	x->time = time;
}

static const char *device_name(struct bpf_collector *b, unsigned dev);

/* Hand an event on: count it for its group, keep it as its bucket's exemplar, and publish it. */
static void deliver(struct bpf_collector *b, const struct kobs_slow_event *e)
{
	enum event_kind kind = (enum event_kind)e->kind;
	/* The kernel's clock of the record against the wall clock, now. */
	double time =
	    now_seconds(CLOCK_REALTIME) - (now_seconds(CLOCK_MONOTONIC) - (double)e->time_ns / 1e9);
	char comm[sizeof(e->comm) + 1], group[256] = "", cpu[16], pid[16], tid[16], latency[32];
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	bool has_group = false;
	if (e->group != KOBS_SLOW_NO_GROUP) {
		group_link_lock(b->link);
		pthread_mutex_lock(&b->slow.lock);
		const char *name =
		    e->group == 0 ? b->ungrouped : group_link_name(b->link, e->group);
		if (name) {
			snprintf(group, sizeof(group), "%s", name);
			has_group = true;
		}
		pthread_mutex_unlock(&b->slow.lock);
		group_link_unlock(b->link);
	}
	if (e->group < b->nr_groups)
		__atomic_fetch_add(&b->slow.counts[(size_t)kind * b->nr_groups + e->group], 1,
		                   __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&b->slow.no_group[kind], 1, __ATOMIC_RELAXED);

	struct event_field f[EVENT_MAX_FIELDS];
	size_t n = 0;
	snprintf(cpu, sizeof(cpu), "%u", e->cpu);
	snprintf(pid, sizeof(pid), "%u", e->pid);
	snprintf(tid, sizeof(tid), "%u", e->tid);
	f[n++] = (struct event_field){"cpu", cpu, true};
	if (e->pid) {
		f[n++] = (struct event_field){"pid", pid, true};
		f[n++] = (struct event_field){"tid", tid, true};
		f[n++] = (struct event_field){"comm", comm, false};
	}
	if (has_group)
		f[n++] = (struct event_field){"group", group, false};
	double seconds = (double)e->latency_ns / 1e9;
	char human[32];
	human_seconds(human, sizeof(human), seconds);
	if (kind <= EVENT_SYSCALL) {
		snprintf(latency, sizeof(latency), "%.9f", seconds);
		f[n++] = (struct event_field){"latency_seconds", latency, true};
	}
	const char *who = has_group ? group : "-";
	char message[512], a[64], c[64], sport[8], dport[8], rss[24], vm[24], tpid[16];
	char tcomm[sizeof(e->details.oom.trigger_comm) + 1];
	switch (kind) {
	case EVENT_RUNQUEUE:
	case EVENT_OFFCPU:
		snprintf(message, sizeof(message),
		         "%s of %s: pid %u (%s), thread %u, group %s, CPU %u",
		         kind == EVENT_RUNQUEUE ? "run-queue wait" : "off-CPU time", human, e->pid,
		         comm, e->tid, who, e->cpu);
		break;
	case EVENT_BLOCK_IO: {
		unsigned op = e->details.block.op;
		if (op < b->block_ops.n && b->block_ops.names[op])
			snprintf(c, sizeof(c), "%s", b->block_ops.names[op]);
		else
			snprintf(c, sizeof(c), "op%u", op);
		pthread_mutex_lock(&b->slow.lock);
		snprintf(a, sizeof(a), "%s", device_name(b, e->details.block.dev));
		pthread_mutex_unlock(&b->slow.lock);
		f[n++] = (struct event_field){"device", a, false};
		f[n++] = (struct event_field){"op", c, false};
		snprintf(message, sizeof(message),
		         "block I/O of %s: %s on %s, issued by pid %u (%s), thread %u, group %s",
		         human, c, a, e->pid, comm, e->tid, who);
		break;
	}
	case EVENT_SYSCALL: {
		unsigned i = e->details.syscall.index;
		const char *name = i < b->settings.nr_syscalls ? b->syscalls[i] : "?";
		f[n++] = (struct event_field){"syscall", name, false};
		snprintf(message, sizeof(message),
		         "syscall %s took %s: pid %u (%s), thread %u, group %s, CPU %u", name,
		         human, e->pid, comm, e->tid, who, e->cpu);
		break;
	}
	case EVENT_OOM_KILL:
		memcpy(tcomm, e->details.oom.trigger_comm, sizeof(e->details.oom.trigger_comm));
		tcomm[sizeof(tcomm) - 1] = '\0';
		snprintf(rss, sizeof(rss), "%llu",
		         (unsigned long long)e->details.oom.rss_pages *
		             (unsigned long long)b->slow.page_size);
		snprintf(vm, sizeof(vm), "%llu",
		         (unsigned long long)e->details.oom.vm_pages *
		             (unsigned long long)b->slow.page_size);
		snprintf(tpid, sizeof(tpid), "%u", e->details.oom.trigger_pid);
		f[n++] = (struct event_field){"resident_bytes", rss, true};
		f[n++] = (struct event_field){"virtual_bytes", vm, true};
		f[n++] = (struct event_field){"trigger_pid", tpid, true};
		f[n++] = (struct event_field){"trigger_comm", tcomm, false};
		snprintf(
		    message, sizeof(message),
		    "the OOM killer chose pid %u (%s) of group %s, %.1f MiB resident, when pid %u "
		    "(%s) ran out of memory",
		    e->pid, comm, who,
		    (double)e->details.oom.rss_pages * (double)b->slow.page_size / 1048576.0,
		    e->details.oom.trigger_pid, tcomm);
		break;
	case EVENT_TCP_RETRANSMIT: {
		int af = e->details.tcp.family == 10 ? AF_INET6 : AF_INET;
		if (!inet_ntop(af, e->details.tcp.saddr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		if (!inet_ntop(af, e->details.tcp.daddr, c, sizeof(c)))
			snprintf(c, sizeof(c), "?");
		snprintf(sport, sizeof(sport), "%u", e->details.tcp.sport);
		snprintf(dport, sizeof(dport), "%u", e->details.tcp.dport);
		const char *state = tcp_state_name(e->details.tcp.state);
		f[n++] = (struct event_field){"saddr", a, false};
		f[n++] = (struct event_field){"sport", sport, true};
		f[n++] = (struct event_field){"daddr", c, false};
		f[n++] = (struct event_field){"dport", dport, true};
		f[n++] = (struct event_field){"state", state, false};
		snprintf(message, sizeof(message), "TCP retransmit: %s%s%s:%s -> %s%s%s:%s (%s)",
		         af == AF_INET6 ? "[" : "", a, af == AF_INET6 ? "]" : "", sport,
		         af == AF_INET6 ? "[" : "", c, af == AF_INET6 ? "]" : "", dport, state);
		break;
	}
	case EVENT_KINDS:
		return;
	}
	if (kind <= EVENT_SYSCALL && e->pid) {
		pthread_mutex_lock(&b->slow.lock);
		keep_exemplar(b, e, time);
		pthread_mutex_unlock(&b->slow.lock);
	}
	if (b->slow.out) {
		struct event ev = {kind, time, f, n, message};
		events_publish(b->slow.out, &ev);
	}
}

static int on_slow_event(void *ctx, void *data, size_t size)
{
	struct kobs_slow_event e;
	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	if (e.kind < KOBS_SLOW_KINDS)
		deliver(ctx, &e);
	return 0;
}

static void *exec_main(void *arg)
{
	struct bpf_collector *b = arg;
	while (!__atomic_load_n(&b->stopping, __ATOMIC_RELAXED)) {
		/* The kernel wakes this thread only when a buffer fills up (see
		 * bpf/process_events.bpf.c): otherwise the poll times out, and the buffers are
		 * read. */
		int rc = ring_buffer__poll(b->events, 100);
		if (rc >= 0)
			rc = ring_buffer__consume(b->events);
		if (rc < 0 && rc != -EINTR) {
			log_warn(
			    "bpf: reading the kernel's events failed (%s); new processes are "
			    "classified at the next scrape only, and slow events are no longer "
			    "reported",
			    strerror(-rc));
			break;
		}
	}
	return NULL;
}

/* The slow events' buffer is read if a program that reports them is attached. */
static bool reports_slow_events(const struct bpf_collector *b)
{
	static const enum program_id reporting[] = {P_SCHEDULER, P_BLOCK_IO, P_SYSCALLS,
	                                            P_OOM_KILLS, P_TCP_RETRANSMITS};
	for (size_t i = 0; i < sizeof(reporting) / sizeof(reporting[0]); i++)
		if (b->progs[reporting[i]].attached)
			return true;
	return false;
}

/* One thread reads both ring buffers. */
static void start_event_reader(struct bpf_collector *b)
{
	bool exec = b->progs[P_PROCESS_EVENTS].attached;
	bool slow = reports_slow_events(b);
	if (exec)
		b->events =
		    ring_buffer__new(b->progs[P_PROCESS_EVENTS].table_fd, on_event, b, NULL);
	if (exec && !b->events) {
		b->progs[P_PROCESS_EVENTS].attached = false; /* not tried again */
		snprintf(b->progs[P_PROCESS_EVENTS].why, sizeof(b->progs[P_PROCESS_EVENTS].why),
		         "no ring buffer");
		log_warn(
		    "bpf: no exec events (%s); new processes are classified at the next scrape "
		    "only",
		    strerror(errno));
	}
	if (slow) {
		int rc = 0;
		if (b->events)
			rc = ring_buffer__add(b->events, b->slow.fds[SLOW_RING], on_slow_event, b);
		else
			b->events =
			    ring_buffer__new(b->slow.fds[SLOW_RING], on_slow_event, b, NULL);
		if (!b->events || rc < 0)
			log_warn(
			    "bpf: cannot read the slow events' ring buffer (%s); slow events are "
			    "not reported",
			    strerror(rc < 0 ? -rc : errno));
	}
	if (!b->events)
		return;
	b->argv = xcalloc(MAX_ARGS, sizeof(*b->argv));
	int rc = pthread_create(&b->exec_thread, NULL, exec_main, b);
	if (rc != 0) {
		log_warn("bpf: cannot start the thread that reads the kernel's events: %s",
		         strerror(rc));
		return;
	}
	b->exec_running = true;
}

/* ---- set up and tear down ---- */

static int read_pid_word(void *ctx, uint32_t word, uint64_t *value)
{
	struct bpf_collector *b = ctx;
	return bpf_map_lookup_elem(b->pid_map_fd, &word, value);
}

static int write_pid_word(void *ctx, uint32_t word, uint64_t value)
{
	struct bpf_collector *b = ctx;
	return bpf_map_update_elem(b->pid_map_fd, &word, &value, BPF_ANY);
}

static unsigned read_pid_max(void)
{
	struct buf f;
	buf_init(&f);
	unsigned long v = 0;
	if (procfs_read("/proc", "sys/kernel/pid_max", &f, 64) == 0)
		v = strtoul(f.data, NULL, 10);
	buf_free(&f);
	/* PID_MAX_LIMIT is 4194304 (2^22). */
	return v >= 301 && v <= (1ul << 22) ? (unsigned)v : 1u << 22;
}

/* ---- the task iterator, for the processes collector ---- */

static int open_tasks(void *ctx)
{
	struct bpf_collector *b = ctx;
	/* The link was made while privileged; making an iterator of it needs no capability. */
	return bpf_iter_create(bpf_link__fd(b->progs[P_TASK_ITER].hooks[0].link));
}

static void set_wchan_groups(void *ctx, const uint64_t *bits, size_t words)
{
	struct bpf_collector *b = ctx;
	uint64_t *w = words_upto(&b->progs[P_TASK_ITER].words, words);
	if (!w)
		return;
	for (size_t i = 0; i < words && i < b->progs[P_TASK_ITER].words.entries; i++)
		if (__atomic_load_n(&w[i], __ATOMIC_RELAXED) != bits[i])
			__atomic_store_n(&w[i], bits[i], __ATOMIC_RELAXED);
}

static void offer_tasks(struct bpf_collector *b)
{
	if (!b->progs[P_TASK_ITER].attached || b->progs[P_TASK_ITER].nhooks != 1)
		return;
	*b->tasks = (struct task_feed){b, open_tasks, set_wchan_groups};
}

static void bpf_destroy(void *state)
{
	struct bpf_collector *b = state;
	if (b->tasks)
		*b->tasks = (struct task_feed){0};
	if (b->exec_running) {
		__atomic_store_n(&b->stopping, true, __ATOMIC_RELAXED);
		pthread_join(b->exec_thread, NULL);
	}
	ring_buffer__free(b->events);
	group_link_attach(b->link, NULL, 0, 0);
	for (int i = 0; i < P__COUNT; i++)
		unload(&b->progs[i]);
	if (b->slow.settings)
		munmap(b->slow.settings, sizeof(*b->slow.settings));
	for (int i = 0; i < SLOW__MAPS; i++)
		if (b->slow.fds[i] >= 0)
			close(b->slow.fds[i]);
	free(b->slow.counts);
	free(b->slow.exemplars);
	free(b->slow.sorted);
	pthread_mutex_destroy(&b->slow.lock);
	if (b->pid_map_fd >= 0)
		close(b->pid_map_fd);
	free_enum(&b->drop_reasons);
	free_enum(&b->block_ops);
	free(b->devices);
	if (b->served_names)
		for (unsigned i = 0; i < b->nr_groups; i++)
			free(b->served_names[i]);
	free(b->served_names);
	free(b->per_cpu);
	free(b->ungrouped);
	for (size_t i = 0; i < GROUPS_BPF_SYSCALLS; i++)
		free(b->syscalls[i]);
	free(b->argv);
	buf_free(&b->file);
	buf_free(&b->cmdline);
	buf_free(&b->cgroup);
	buf_free(&b->name);
	free(b);
}

static int bpf_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	const char *missing = missing_capabilities();
	if (*missing) {
		snprintf(why, why_len,
		         "%s missing; run as root, or grant them with systemd/kobsd-bpf.conf",
		         missing);
		return COLLECTOR_NOT_PERMITTED;
	}
	libbpf_set_print(libbpf_log);
	struct btf *kernel = btf__load_vmlinux_btf();
	if (!kernel) {
		snprintf(why, why_len,
		         "off: the kernel has no BTF (/sys/kernel/btf/vmlinux: %s), which CO-RE "
		         "needs (CONFIG_DEBUG_INFO_BTF=y)",
		         strerror(errno));
		return -1;
	}
	struct bpf_collector *b = xcalloc(1, sizeof(*b));
	b->pid_map_fd = -1;
	for (int i = 0; i < SLOW__MAPS; i++)
		b->slow.fds[i] = -1;
	pthread_mutex_init(&b->slow.lock, NULL);
	b->slow.out = env->events;
	b->slow.page_size = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	for (int i = 0; i < P__COUNT; i++)
		b->progs[i].table_fd = b->progs[i].cpu_hist_fd[0] = b->progs[i].cpu_hist_fd[1] = -1;
	b->link = env->link;
	b->tasks = env->tasks;
	buf_init(&b->file);
	buf_init(&b->cmdline);
	buf_init(&b->cgroup);
	buf_init(&b->name);
	const struct groups_bpf *cfg = groups_config_bpf(env->groups);
	unsigned limit = groups_config_settings(env->groups)->group_limit;
	b->nr_groups = (limit < KOBS_MAX_GROUPS ? limit : KOBS_MAX_GROUPS) + 1;
	b->ungrouped = cfg->ungrouped ? xstrdup(cfg->ungrouped) : NULL;
	b->settings = (struct kobs_settings){
	    .nr_groups = b->nr_groups,
	    .nr_syscalls = (unsigned)cfg->nsyscalls,
	    .count_ungrouped = cfg->ungrouped != NULL,
	    .switch_has_state = tracepoint_args(kernel, "sched_switch") >= 4,
	    .issue_has_queue = tracepoint_args(kernel, "block_rq_issue") >= 2,
	    .victim_is_task = tracepoint_arg_is_pointer(kernel, "mark_victim", 0),
	    .drop_has_reason = tracepoint_args(kernel, "kfree_skb") >= 3,
	};
	for (size_t i = 0; i < cfg->nsyscalls; i++)
		b->syscalls[i] = xstrdup(cfg->syscalls[i]);
	read_enum(kernel, "skb_drop_reason", "SKB_DROP_REASON_", KOBS_DROP_REASONS - 1,
	          &b->drop_reasons);
	read_enum(kernel, "req_op", "REQ_OP_", 256, &b->block_ops);
	if (!b->block_ops.names)
		read_enum(kernel, "req_opf", "REQ_OP_", 256, &b->block_ops);

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		snprintf(why, why_len, "off: cannot count the possible CPUs: %s",
		         strerror(b->ncpus < 0 ? -b->ncpus : EINVAL));
		btf__free(kernel);
		bpf_destroy(b);
		return -1;
	}
	b->per_cpu = xcalloc((size_t)b->ncpus * PER_CPU_WORDS, sizeof(*b->per_cpu));

	unsigned pid_max = read_pid_max();
	b->pid_words = (pid_max + KOBS_PIDS_PER_WORD - 1) / KOBS_PIDS_PER_WORD;
	b->pid_map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kobs_pid_groups", sizeof(__u32),
	                               sizeof(__u64), (__u32)b->pid_words, NULL);
	if (b->pid_map_fd < 0) {
		snprintf(why, why_len, "off: cannot make the pid map (%zu entries): %s",
		         b->pid_words, strerror(errno));
		btf__free(kernel);
		bpf_destroy(b);
		return -1;
	}

	if (make_slow_maps(&b->slow) < 0) {
		snprintf(why, why_len, "off: cannot make the maps of slow events: %s",
		         strerror(errno));
		btf__free(kernel);
		bpf_destroy(b);
		return -1;
	}
	write_slow_settings(b, groups_config_events(env->groups));
	b->slow.counts = xcalloc((size_t)EVENT_KINDS * b->nr_groups, sizeof(*b->slow.counts));
	b->slow.exemplars = xcalloc(EXEMPLARS, sizeof(*b->slow.exemplars));

	size_t attached = 0;
	for (int i = 0; i < P__COUNT; i++) {
		if (!(cfg->programs & (1u << i))) {
			snprintf(b->progs[i].why, sizeof(b->progs[i].why), "not in bpf.programs");
			continue;
		}
		if (programs[i].rows == ROWS_GROUPS_SYSCALLS && cfg->nsyscalls == 0) {
			snprintf(b->progs[i].why, sizeof(b->progs[i].why),
			         "no syscall to time (list them in bpf.syscalls)");
			continue;
		}
		load(b, (enum program_id)i, kernel);
		if (b->progs[i].attached) {
			attached++;
		} else {
			struct log_field fields[] = {{"PROGRAM", groups_bpf_program_names[i]},
			                             {"REASON", b->progs[i].why}};
			log_event(LOG_LEVEL_WARN, LOG_ID_BPF_PROGRAM_OFF, fields, 2,
			          "bpf program %s is off: %s", groups_bpf_program_names[i],
			          b->progs[i].why);
		}
	}
	btf__free(kernel);
	release_elf_images();
	if (attached == 0) {
		snprintf(why, why_len, "off: no program could be attached (see the log)");
		bpf_destroy(b);
		return -1;
	}
	b->served_names = xcalloc(b->nr_groups, sizeof(*b->served_names));
	struct group_link_map map = {b, read_pid_word, write_pid_word};
	group_link_attach(b->link, &map, pid_max, b->nr_groups);
	offer_tasks(b);
	/* The note of the log and the landing page: what runs, and why the rest does not. */
	int used = snprintf(why, why_len, "%zu of %d programs attached", attached, P__COUNT);
	for (int i = 0; i < P__COUNT && used > 0 && (size_t)used < why_len; i++)
		if (!b->progs[i].attached)
			used += snprintf(why + used, why_len - (size_t)used, "; %s off: %s",
			                 groups_bpf_program_names[i], b->progs[i].why);
	*state = b;
	return 0;
}

static void bpf_reconfigure(void *state, const struct collector_env *env)
{
	struct bpf_collector *b = state;
	const struct groups_bpf *cfg = groups_config_bpf(env->groups);
	/* What the loaded programs were built with stays until a restart. */
	bool same = cfg->nsyscalls == b->settings.nr_syscalls &&
	            (cfg->ungrouped != NULL) == (b->settings.count_ungrouped != 0);
	for (size_t i = 0; same && i < cfg->nsyscalls; i++)
		same = strcmp(cfg->syscalls[i], b->syscalls[i]) == 0;
	for (int i = 0; same && i < P__COUNT; i++)
		same =
		    ((cfg->programs >> i) & 1) ==
		    (b->progs[i].attached || strcmp(b->progs[i].why, "not in bpf.programs") != 0);
	if (!same)
		log_warn(
		    "bpf: changes to bpf.programs, bpf.syscalls or turning bpf.ungrouped on or "
		    "off take effect when kobsd restarts (the programs are loaded at start, "
		    "before it drops its capabilities)");
	if (cfg->ungrouped && b->ungrouped && strcmp(cfg->ungrouped, b->ungrouped) != 0) {
		pthread_mutex_lock(&b->slow.lock);
		free(b->ungrouped);
		b->ungrouped = xstrdup(cfg->ungrouped);
		pthread_mutex_unlock(&b->slow.lock);
	}
	const struct groups_events *ev = groups_config_events(env->groups);
	for (size_t i = 0; i < ev->nsyscalls; i++) {
		size_t j = 0;
		while (j < b->settings.nr_syscalls && strcmp(b->syscalls[j], ev->syscalls[i]) != 0)
			j++;
		if (j == b->settings.nr_syscalls)
			log_warn(
			    "events.syscalls.%s: the syscall is timed from the next restart only "
			    "(bpf.syscalls): no slow events for it until then",
			    ev->syscalls[i]);
	}
	write_slow_settings(b, ev);
}

/* ---- collecting ---- */

static double bounds[KOBS_HIST_FINITE];

static void init_bounds(void)
{
	if (bounds[0] != 0)
		return;
	for (int i = 0; i < KOBS_HIST_FINITE; i++)
		bounds[i] = (double)(1ull << (KOBS_HIST_FIRST + i)) / 1e9;
}

/* One histogram sample from KOBS_HIST_WORDS words; nothing (false) when it has no
 * observations. */
static bool expose_hist(struct expo *out, const struct label *labels, size_t nlabels,
                        const uint64_t *w)
{
	uint64_t cumulative[KOBS_HIST_FINITE], count = 0;
	for (int i = 0; i < KOBS_HIST_FINITE; i++) {
		count += __atomic_load_n(&w[i], __ATOMIC_RELAXED);
		cumulative[i] = count;
	}
	count += __atomic_load_n(&w[KOBS_HIST_FINITE], __ATOMIC_RELAXED);
	if (count == 0)
		return false;
	double sum = (double)__atomic_load_n(&w[KOBS_HIST_SUM], __ATOMIC_RELAXED) / 1e9;
	expo_histogram(out, labels, nlabels, bounds, cumulative, KOBS_HIST_FINITE, sum, count);
	return true;
}

/* ---- exemplars and event counts ---- */

static int by_key(const void *a, const void *b)
{
	uint64_t x = ((const struct exemplar *)a)->key, y = ((const struct exemplar *)b)->key;
	return (x > y) - (x < y);
}

/* This scrape's copy of the exemplars, sorted, so that each series finds its own quickly. */
static void sort_exemplars(struct bpf_collector *b)
{
	if (!b->slow.sorted)
		b->slow.sorted = xcalloc(EXEMPLARS, sizeof(*b->slow.sorted));
	b->slow.nsorted = 0;
	pthread_mutex_lock(&b->slow.lock);
	for (size_t i = 0; i < EXEMPLARS; i++)
		if (b->slow.exemplars[i].key)
			b->slow.sorted[b->slow.nsorted++] = b->slow.exemplars[i];
	pthread_mutex_unlock(&b->slow.lock);
	qsort(b->slow.sorted, b->slow.nsorted, sizeof(*b->slow.sorted), by_key);
}

/* The latest exemplar of each bucket of a series, added to best[] (KOBS_HIST_BUCKETS entries),
 * where another series of the same label may have put one already. */
static void find_exemplars(const struct bpf_collector *b, unsigned kind, uint64_t series,
                           const struct exemplar **best)
{
	uint64_t first = exemplar_key(kind, series, 0);
	size_t lo = 0, hi = b->slow.nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->slow.sorted[mid].key < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < b->slow.nsorted && b->slow.sorted[lo].key >> 5 == first >> 5; lo++) {
		const struct exemplar *x = &b->slow.sorted[lo];
		unsigned bucket = (unsigned)(x->key & 31);
		if (bucket < KOBS_HIST_BUCKETS && (!best[bucket] || x->time > best[bucket]->time))
			best[bucket] = x;
	}
}

/* The exemplars of the histogram sample just added: # {pid="...",comm="..."}. */
static void add_exemplars(struct expo *out, const struct exemplar **best)
{
	for (unsigned bucket = 0; bucket < KOBS_HIST_BUCKETS; bucket++) {
		if (!best[bucket])
			continue;
		char pid[16];
		snprintf(pid, sizeof(pid), "%u", best[bucket]->pid);
		struct label l[] = {{"pid", pid}, {"comm", best[bucket]->comm}};
		expo_exemplar(out, bucket, l, 2, best[bucket]->value, best[bucket]->time);
	}
}

/* Group id `id` is someone else's now: its events and exemplars go with its histograms. */
static void forget_events(struct bpf_collector *b, unsigned id)
{
	for (int k = 0; k < EVENT_KINDS; k++)
		__atomic_store_n(&b->slow.counts[(size_t)k * b->nr_groups + id], 0,
		                 __ATOMIC_RELAXED);
	pthread_mutex_lock(&b->slow.lock);
	for (size_t i = 0; i < EXEMPLARS; i++) {
		struct exemplar *x = &b->slow.exemplars[i];
		unsigned kind = (unsigned)(x->key >> 61) - 1;
		uint64_t series = (x->key >> 5) & ((1ull << 56) - 1);
		if (!x->key || kind > KOBS_SLOW_SYSCALL || kind == KOBS_SLOW_BLOCK_IO)
			continue;
		if ((kind == KOBS_SLOW_SYSCALL ? series / KOBS_MAX_SYSCALLS : series) == id)
			x->key = 0;
	}
	pthread_mutex_unlock(&b->slow.lock);
}

/* Add every CPU's copy of row `row` of a per-CPU histogram map (the first KOBS_CPU_ROWS rows of
 * a histogram) to `sum`, KOBS_HIST_WORDS words; -1 when the map cannot be read. */
static int add_cpu_row(struct bpf_collector *b, int fd, size_t row, uint64_t *sum)
{
	__u32 key = (__u32)row;
	if (bpf_map_lookup_elem(fd, &key, b->per_cpu) != 0) {
		if (!b->cpu_read_failed)
			log_warn("bpf: cannot read the per-CPU rows of a histogram (%s): the "
			         "histograms of the first %d group ids are not served",
			         strerror(errno), KOBS_CPU_ROWS);
		b->cpu_read_failed = true;
		return -1;
	}
	for (int c = 0; c < b->ncpus; c++)
		for (int k = 0; k < KOBS_HIST_WORDS; k++)
			sum[k] += b->per_cpu[(size_t)c * KOBS_HIST_WORDS + k];
	return 0;
}

/* Zero what a program counted for group id `id`. */
static void forget_id(struct bpf_collector *b, enum program_id p, unsigned id)
{
	size_t per = programs[p].rows == ROWS_GROUPS_SYSCALLS ? b->settings.nr_syscalls : 1;
	size_t from = (size_t)id * per * KOBS_HIST_WORDS;
	for (int h = 0; h < 2 && programs[p].hists[h]; h++) {
		uint64_t *w = words_upto(&b->progs[p].hists[h], from + per * KOBS_HIST_WORDS);
		if (w)
			memset(w + from, 0, per * KOBS_HIST_WORDS * sizeof(uint64_t));
		memset(b->per_cpu, 0, (size_t)b->ncpus * KOBS_HIST_WORDS * sizeof(uint64_t));
		for (__u32 row = (__u32)(id * per); row < (id + 1) * per && row < KOBS_CPU_ROWS;
		     row++)
			bpf_map_update_elem(b->progs[p].cpu_hist_fd[h], &row, b->per_cpu, BPF_ANY);
	}
	if (p == P_OOM_KILLS) {
		uint64_t *w = words_upto(&b->progs[p].words, b->nr_groups);
		if (w)
			w[id] = 0;
	}
}

/* The group label of each id this scrape (NULL: not served), after zeroing the rows of ids whose
 * group changed since the last scrape. */
static const char **group_labels(struct bpf_collector *b)
{
	const char **labels = xcalloc(b->nr_groups, sizeof(*labels));
	group_link_lock(b->link);
	bool renumbered = group_link_epoch(b->link) != b->epoch;
	b->epoch = group_link_epoch(b->link);
	for (unsigned id = 0; id < b->nr_groups; id++) {
		const char *now = id == 0 ? b->ungrouped : group_link_name(b->link, id);
		char *was = b->served_names[id];
		/* The id's group expired, or the id is someone else's now; after a reload every
		 * id that ever had a group (not the others: zeroing them would map their pages). */
		bool changed = was && (!now || strcmp(was, now) != 0);
		if (id > 0 && (changed || (renumbered && id <= b->highest_id))) {
			for (int p = 0; p < P__COUNT; p++)
				if (b->progs[p].attached)
					forget_id(b, (enum program_id)p, id);
			forget_events(b, id);
		}
		if (!was || !now || strcmp(was, now) != 0) {
			free(was);
			b->served_names[id] = now ? xstrdup(now) : NULL;
		}
		labels[id] = b->served_names[id];
		if (labels[id] && id > b->highest_id)
			b->highest_id = id;
	}
	group_link_unlock(b->link);
	return labels;
}

/* Ids in the order of their labels, so that two ids with the same label (a group named like the
 * ungrouped label) are served as one series. */
struct ordered {
	const char *label;
	unsigned id;
};

static int by_label(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static size_t order_ids(const struct bpf_collector *b, const char **labels, struct ordered *out)
{
	size_t n = 0;
	for (unsigned id = 0; id < b->nr_groups; id++)
		if (labels[id])
			out[n++] = (struct ordered){labels[id], id};
	qsort(out, n, sizeof(*out), by_label);
	return n;
}

/* Histograms by group (and syscall): rows of the same label summed. */
static void expose_group_hists(struct bpf_collector *b, enum program_id id, int which,
                               struct expo *out, const struct ordered *ids, size_t n)
{
	size_t per = programs[id].rows == ROWS_GROUPS_SYSCALLS ? b->settings.nr_syscalls : 1;
	unsigned last = 0;
	for (size_t i = 0; i < n; i++)
		last = ids[i].id > last ? ids[i].id : last;
	const uint64_t *words =
	    words_upto(&b->progs[id].hists[which], (last + 1) * per * KOBS_HIST_WORDS);
	if (!words)
		return;
	for (size_t s = 0; s < per; s++) {
		for (size_t i = 0; i < n;) {
			uint64_t sum[KOBS_HIST_WORDS] = {0};
			bool readable = true;
			size_t j = i;
			for (; j < n && strcmp(ids[j].label, ids[i].label) == 0; j++) {
				/* A row below KOBS_CPU_ROWS is counted in the per-CPU map; its
				 * words in the shared one stay 0. */
				size_t row = (size_t)ids[j].id * per + s;
				const uint64_t *w = words + row * KOBS_HIST_WORDS;
				for (int k = 0; k < KOBS_HIST_WORDS; k++)
					sum[k] += __atomic_load_n(&w[k], __ATOMIC_RELAXED);
				if (row < KOBS_CPU_ROWS &&
				    add_cpu_row(b, b->progs[id].cpu_hist_fd[which], row, sum) < 0)
					readable = false;
			}
			struct label labels[] = {{"group", ids[i].label},
			                         {"syscall", b->syscalls[s]}};
			if (readable &&
			    expose_hist(out, labels, per > 1 || id == P_SYSCALLS ? 2 : 1, sum)) {
				const struct exemplar *best[KOBS_HIST_BUCKETS] = {0};
				unsigned kind = id == P_SYSCALLS ? KOBS_SLOW_SYSCALL
				                : which == 0     ? KOBS_SLOW_RUNQUEUE
				                                 : KOBS_SLOW_OFFCPU;
				for (size_t k = i; k < j; k++)
					find_exemplars(
					    b, kind,
					    id == P_SYSCALLS
					        ? (uint64_t)ids[k].id * KOBS_MAX_SYSCALLS + s
					        : ids[k].id,
					    best);
				add_exemplars(out, best);
			}
			i = j;
		}
	}
}

static const char *device_name(struct bpf_collector *b, unsigned dev)
{
	for (size_t i = 0; i < b->ndevices; i++)
		if (b->devices[i].dev == dev)
			return b->devices[i].name;
	b->devices = xreallocarray(b->devices, b->ndevices + 1, sizeof(*b->devices));
	struct device *d = &b->devices[b->ndevices++];
	d->dev = dev;
	unsigned major = dev >> 20, minor = dev & 0xfffff;
	snprintf(d->name, sizeof(d->name), "%u:%u", major, minor);
	/* The kernel's name, e.g. "vda" or "nvme0n1", from sysfs. */
	char path[64];
	snprintf(path, sizeof(path), "dev/block/%u:%u/uevent", major, minor);
	struct buf f;
	buf_init(&f);
	if (procfs_read("/sys", path, &f, 4096) == 0) {
		const char *k = memmem(f.data, f.len, "DEVNAME=", 8);
		if (k) {
			k += 8;
			size_t n = strcspn(k, "\n");
			if (n > 0 && n < sizeof(d->name)) {
				memcpy(d->name, k, n);
				d->name[n] = '\0';
			}
		}
	}
	buf_free(&f);
	return d->name;
}

static void expose_block_io(struct bpf_collector *b, struct expo *out)
{
	int fd = b->progs[P_BLOCK_IO].table_fd;
	/* No disk has this key: the kernel then starts at the first key. */
	struct kobs_bio_key key = {UINT32_MAX, UINT32_MAX}, next;
	struct kobs_hist h;
	while (bpf_map_get_next_key(fd, &key, &next) == 0) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &h) != 0)
			continue;
		char op[24];
		if (key.op < b->block_ops.n && b->block_ops.names[key.op])
			snprintf(op, sizeof(op), "%s", b->block_ops.names[key.op]);
		else
			snprintf(op, sizeof(op), "op%u", key.op);
		char device[64];
		pthread_mutex_lock(&b->slow.lock);
		snprintf(device, sizeof(device), "%s", device_name(b, key.dev));
		pthread_mutex_unlock(&b->slow.lock);
		struct label labels[] = {{"device", device}, {"op", op}};
		if (expose_hist(out, labels, 2, (const uint64_t *)h.words)) {
			const struct exemplar *best[KOBS_HIST_BUCKETS] = {0};
			find_exemplars(b, KOBS_SLOW_BLOCK_IO,
			               ((uint64_t)key.dev << 8) | (key.op & 0xff), best);
			add_exemplars(out, best);
		}
	}
}

static void expose_drops(struct bpf_collector *b, struct expo *out)
{
	/* One element, one copy of the counters per CPU. */
	__u32 key = 0;
	if (bpf_map_lookup_elem(b->progs[P_PACKET_DROPS].table_fd, &key, b->per_cpu) != 0) {
		if (!b->cpu_read_failed)
			log_warn("bpf: cannot read the packet drop counters (%s): they are not "
			         "served",
			         strerror(errno));
		b->cpu_read_failed = true;
		return;
	}
	for (size_t r = 0; r < KOBS_DROP_REASONS; r++) {
		uint64_t v = 0;
		for (int c = 0; c < b->ncpus; c++)
			v += b->per_cpu[(size_t)c * KOBS_DROP_REASONS + r];
		if (!v)
			continue;
		char name[32];
		const char *reason = name;
		if (r < b->drop_reasons.n && b->drop_reasons.names[r])
			reason = b->drop_reasons.names[r];
		else if (r == KOBS_DROP_REASONS - 1)
			reason = "other";
		else
			snprintf(name, sizeof(name), "reason_%zu", r);
		struct label l = {"reason", reason};
		expo_sample(out, &l, 1, (double)v);
	}
}

/* Run time and count of each BPF program, when kernel.bpf_stats_enabled is on: from the
 * program's information (bpf_prog_info), which needs no capability. Not /proc/self/fdinfo: once
 * a daemon started as root has switched users it is not dumpable, and /proc/self/fdinfo belongs
 * to root then. */
static void expose_stats(struct bpf_collector *b, struct expo *out)
{
	struct buf f;
	buf_init(&f);
	bool on = procfs_read("/proc", "sys/kernel/bpf_stats_enabled", &f, 16) == 0 && f.len &&
	          f.data[0] == '1';
	if (!on) {
		buf_free(&f);
		return;
	}
	struct stat_row {
		const char *program, *tracepoint;
		double seconds, runs;
	} rows[P__COUNT * 4];
	size_t n = 0;
	for (int i = 0; i < P__COUNT; i++) {
		if (!b->progs[i].attached)
			continue;
		for (size_t k = 0; k < b->progs[i].nhooks; k++) {
			const struct hook *h = &b->progs[i].hooks[k];
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			memset(&info, 0, sizeof(info));
			if (n == sizeof(rows) / sizeof(rows[0]) ||
			    bpf_obj_get_info_by_fd(h->fd, &info, &len) < 0)
				continue;
			rows[n++] =
			    (struct stat_row){groups_bpf_program_names[i], h->tracepoint,
			                      (double)info.run_time_ns / 1e9, (double)info.run_cnt};
		}
	}
	buf_free(&f);
	expo_family(out, "kobs_bpf_program_run_seconds", METRIC_COUNTER, "seconds",
	            "Time the kernel spent running each BPF program of kobsd (counted while "
	            "kernel.bpf_stats_enabled is 1).");
	for (size_t i = 0; i < n; i++) {
		struct label l[] = {{"program", rows[i].program},
		                    {"tracepoint", rows[i].tracepoint}};
		expo_sample(out, l, 2, rows[i].seconds);
	}
	expo_family(out, "kobs_bpf_program_runs", METRIC_COUNTER, NULL,
	            "Runs of each BPF program of kobsd (counted while kernel.bpf_stats_enabled is "
	            "1).");
	for (size_t i = 0; i < n; i++) {
		struct label l[] = {{"program", rows[i].program},
		                    {"tracepoint", rows[i].tracepoint}};
		expo_sample(out, l, 2, rows[i].runs);
	}
}

/* Slow events received, by kind and group (summed over ids of one label), and those the kernel
 * did not send, by kind and why. */
static void expose_events(struct bpf_collector *b, struct expo *out, const struct ordered *ids,
                          size_t n)
{
	bool on[EVENT_KINDS] = {
	    [EVENT_RUNQUEUE] = b->progs[P_SCHEDULER].attached,
	    [EVENT_OFFCPU] = b->progs[P_SCHEDULER].attached,
	    [EVENT_BLOCK_IO] = b->progs[P_BLOCK_IO].attached,
	    [EVENT_SYSCALL] = b->progs[P_SYSCALLS].attached,
	    [EVENT_OOM_KILL] = b->progs[P_OOM_KILLS].attached,
	    [EVENT_TCP_RETRANSMIT] = b->progs[P_TCP_RETRANSMITS].attached,
	};
	expo_family(out, "kobs_events", METRIC_COUNTER, NULL,
	            "Slow events received from the kernel (a latency above its kind's threshold, "
	            "every OOM kill and TCP retransmit), by kind and the group of the process "
	            "(none for a retransmit): each is logged and streamed on /api/events.");
	for (int k = 0; k < EVENT_KINDS; k++) {
		if (!on[k])
			continue;
		const uint64_t *c = b->slow.counts + (size_t)k * b->nr_groups;
		for (size_t i = 0; i < n;) {
			uint64_t v = 0;
			size_t j = i;
			for (; j < n && strcmp(ids[j].label, ids[i].label) == 0; j++)
				v += __atomic_load_n(&c[ids[j].id], __ATOMIC_RELAXED);
			struct label l[] = {{"kind", event_kind_names[k]}, {"group", ids[i].label}};
			if (v)
				expo_sample(out, l, 2, (double)v);
			i = j;
		}
		uint64_t v = __atomic_load_n(&b->slow.no_group[k], __ATOMIC_RELAXED);
		struct label l[] = {{"kind", event_kind_names[k]}, {"group", ""}};
		if (v)
			expo_sample(out, l, 2, (double)v);
	}

	/* One element, one copy of the counts per CPU. */
	__u32 key = 0;
	if (bpf_map_lookup_elem(b->slow.fds[SLOW_COUNTS], &key, b->per_cpu) != 0) {
		if (!b->cpu_read_failed)
			log_warn("bpf: cannot read the counts of suppressed slow events (%s): they "
			         "are not served",
			         strerror(errno));
		b->cpu_read_failed = true;
		return;
	}
	expo_family(out, "kobs_events_suppressed", METRIC_COUNTER, NULL,
	            "Slow events the kernel did not send, by kind and reason: rate_limit (beyond "
	            "events.rate_limit a second) or buffer_full (the ring buffer had no room). "
	            "With kobs_events_total, every threshold crossing.");
	const size_t words = sizeof(struct kobs_slow_counts) / sizeof(uint64_t);
	for (int k = 0; k < EVENT_KINDS; k++) {
		if (!on[k])
			continue;
		uint64_t suppressed = 0, lost = 0;
		for (int c = 0; c < b->ncpus; c++) {
			const struct kobs_slow_counts *pc =
			    (const struct kobs_slow_counts *)(b->per_cpu + (size_t)c * words);
			suppressed += pc->suppressed[k];
			lost += pc->lost[k];
		}
		struct label l[] = {{"kind", event_kind_names[k]}, {"reason", "rate_limit"}};
		expo_sample(out, l, 2, (double)suppressed);
		l[1].value = "buffer_full";
		expo_sample(out, l, 2, (double)lost);
	}
}

static int bpf_collect(void *state, const struct collector_env *env, struct expo *out)
{
	(void)env;
	struct bpf_collector *b = state;
	init_bounds();
	/* Started here rather than at init, so that the thread is made after the daemon has given
	 * up its capabilities (they belong to each thread). */
	if (!b->reader_started) {
		b->reader_started = true;
		start_event_reader(b);
	}
	expo_family(out, "kobs_bpf_program_attached", METRIC_GAUGE, NULL,
	            "Whether each BPF program of kobsd is attached (1) or off (0; the log and the "
	            "landing page say why).");
	for (int i = 0; i < P__COUNT; i++) {
		struct label l = {"program", groups_bpf_program_names[i]};
		expo_sample(out, &l, 1, b->progs[i].attached);
	}

	const char **labels = group_labels(b);
	struct ordered *ids = xcalloc(b->nr_groups, sizeof(*ids));
	size_t n = order_ids(b, labels, ids);
	sort_exemplars(b);
	if (b->progs[P_SCHEDULER].attached) {
		expo_family(out, "kobs_runqueue_latency_seconds", METRIC_HISTOGRAM, "seconds",
		            "Time threads of the group waited in a run queue, from wakeup (or "
		            "preemption) to running.");
		expose_group_hists(b, P_SCHEDULER, 0, out, ids, n);
		expo_family(
		    out, "kobs_offcpu_seconds", METRIC_HISTOGRAM, "seconds",
		    "Time threads of the group spent off the CPU after blocking (I/O, locks, "
		    "sleeps), until they ran again.");
		expose_group_hists(b, P_SCHEDULER, 1, out, ids, n);
	}
	if (b->progs[P_SYSCALLS].attached) {
		expo_family(out, "kobs_syscall_latency_seconds", METRIC_HISTOGRAM, "seconds",
		            "Time from entry to exit of the syscalls in bpf.syscalls, by group.");
		expose_group_hists(b, P_SYSCALLS, 0, out, ids, n);
	}
	if (b->progs[P_BLOCK_IO].attached) {
		expo_family(
		    out, "kobs_block_io_latency_seconds", METRIC_HISTOGRAM, "seconds",
		    "Time from issuing a block I/O request to the device to its completion.");
		expose_block_io(b, out);
	}
	if (b->progs[P_OOM_KILLS].attached) {
		expo_family(out, "kobs_oom_kills", METRIC_COUNTER, NULL,
		            "Processes the kernel's OOM killer chose, by the victim's group.");
		const uint64_t *w = words_upto(&b->progs[P_OOM_KILLS].words, b->nr_groups);
		for (size_t i = 0; i < n;) {
			uint64_t v = 0;
			size_t j = i;
			for (; j < n && strcmp(ids[j].label, ids[i].label) == 0; j++)
				v += w ? __atomic_load_n(&w[ids[j].id], __ATOMIC_RELAXED) : 0;
			struct label l = {"group", ids[i].label};
			if (v)
				expo_sample(out, &l, 1, (double)v);
			i = j;
		}
	}
	expose_events(b, out, ids, n);
	free(ids);
	free(labels);
	if (b->progs[P_TCP_RETRANSMITS].attached) {
		expo_family(out, "kobs_tcp_retransmits", METRIC_COUNTER, NULL,
		            "TCP segments the kernel retransmitted.");
		const uint64_t *w = words_upto(&b->progs[P_TCP_RETRANSMITS].words, 1);
		if (w)
			expo_sample(out, NULL, 0, (double)__atomic_load_n(w, __ATOMIC_RELAXED));
	}
	if (b->progs[P_PACKET_DROPS].attached) {
		expo_family(
		    out, "kobs_packet_drops", METRIC_COUNTER, NULL,
		    "Packets the kernel dropped, by its drop reason (enum skb_drop_reason).");
		expose_drops(b, out);
	}
	if (b->progs[P_PROCESS_EVENTS].attached) {
		expo_family(
		    out, "kobs_bpf_events_lost", METRIC_COUNTER, NULL,
		    "Fork, exec and exit events the kernel could not queue for kobsd (those "
		    "processes are put in their group at the next scrape).");
		const uint64_t *w = words_upto(&b->progs[P_PROCESS_EVENTS].words, 1);
		if (w)
			expo_sample(out, NULL, 0, (double)__atomic_load_n(w, __ATOMIC_RELAXED));
		expo_family(
		    out, "kobs_exec_groups_refused", METRIC_COUNTER, NULL,
		    "New groups refused to processes that called execve() under new names "
		    "more than 4 times in their life (they count as ungrouped): one process "
		    "cannot take every group id.");
		expo_sample(out, NULL, 0, (double)group_link_exec_refused(b->link));
	}
	expose_stats(b, out);
	return 0;
}

const struct collector_ops collector_bpf = {
    .name = "bpf",
    .description = "kernel latency histograms and event counters from eBPF, by process group",
    .default_enabled = true,
    /* Its histograms are labelled with the groups that collector keeps current. */
    .needs = "processes",
    .init = bpf_init,
    .collect = bpf_collect,
    .reconfigure = bpf_reconfigure,
    .destroy = bpf_destroy,
};
