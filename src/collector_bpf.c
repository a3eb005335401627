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
	uint64_t *oom_logged; /* OOM kills of each id already logged */
	unsigned highest_id;  /* the highest id that ever had a group */
	unsigned epoch;

	/* Exec events. */
	struct ring_buffer *events;
	pthread_t exec_thread;
	bool exec_running;
	bool stopping; /* read by the exec thread: atomic loads and stores */
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

static void *exec_main(void *arg)
{
	struct bpf_collector *b = arg;
	while (!__atomic_load_n(&b->stopping, __ATOMIC_RELAXED)) {
		/* The kernel wakes this thread only when its buffer fills up (see
		 * bpf/process_events.bpf.c): otherwise the poll times out, and the buffer is read.
		 */
		int rc = ring_buffer__poll(b->events, 100);
		if (rc >= 0)
			rc = ring_buffer__consume(b->events);
		if (rc < 0 && rc != -EINTR) {
			log_warn(
			    "bpf: reading exec events failed (%s); new processes are classified "
			    "at the next scrape only",
			    strerror(-rc));
			break;
		}
	}
	return NULL;
}

static void start_exec_events(struct bpf_collector *b)
{
	b->events = ring_buffer__new(b->progs[P_PROCESS_EVENTS].table_fd, on_event, b, NULL);
	if (!b->events) {
		b->progs[P_PROCESS_EVENTS].attached = false; /* not tried again */
		snprintf(b->progs[P_PROCESS_EVENTS].why, sizeof(b->progs[P_PROCESS_EVENTS].why),
		         "no ring buffer");
		log_warn(
		    "bpf: no exec events (%s); new processes are classified at the next scrape "
		    "only",
		    strerror(errno));
		return;
	}
	b->argv = xcalloc(MAX_ARGS, sizeof(*b->argv));
	int rc = pthread_create(&b->exec_thread, NULL, exec_main, b);
	if (rc != 0) {
		log_warn("bpf: cannot start the exec event thread: %s", strerror(rc));
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
	if (b->pid_map_fd >= 0)
		close(b->pid_map_fd);
	free_enum(&b->drop_reasons);
	free_enum(&b->block_ops);
	free(b->devices);
	if (b->served_names)
		for (unsigned i = 0; i < b->nr_groups; i++)
			free(b->served_names[i]);
	free(b->served_names);
	free(b->oom_logged);
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
	b->oom_logged = xcalloc(b->nr_groups, sizeof(*b->oom_logged));
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
		free(b->ungrouped);
		b->ungrouped = xstrdup(cfg->ungrouped);
	}
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

/* One histogram sample from KOBS_HIST_WORDS words; nothing when it has no observations. */
static void expose_hist(struct expo *out, const struct label *labels, size_t nlabels,
                        const uint64_t *w)
{
	uint64_t cumulative[KOBS_HIST_FINITE], count = 0;
	for (int i = 0; i < KOBS_HIST_FINITE; i++) {
		count += __atomic_load_n(&w[i], __ATOMIC_RELAXED);
		cumulative[i] = count;
	}
	count += __atomic_load_n(&w[KOBS_HIST_FINITE], __ATOMIC_RELAXED);
	if (count == 0)
		return;
	double sum = (double)__atomic_load_n(&w[KOBS_HIST_SUM], __ATOMIC_RELAXED) / 1e9;
	expo_histogram(out, labels, nlabels, bounds, cumulative, KOBS_HIST_FINITE, sum, count);
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
		b->oom_logged[id] = 0;
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
			if (readable)
				expose_hist(out, labels, per > 1 || id == P_SYSCALLS ? 2 : 1, sum);
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
		struct label labels[] = {{"device", device_name(b, key.dev)}, {"op", op}};
		expose_hist(out, labels, 2, (const uint64_t *)h.words);
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

/* An OOM kill is worth a journal entry of its own: it says which group lost a process. */
static void log_oom_kills(struct bpf_collector *b, const uint64_t *w, const char **labels)
{
	for (unsigned id = 0; id < b->nr_groups; id++) {
		uint64_t v = __atomic_load_n(&w[id], __ATOMIC_RELAXED);
		if (v > b->oom_logged[id] && labels[id]) {
			char count[24];
			snprintf(count, sizeof(count), "%llu",
			         (unsigned long long)(v - b->oom_logged[id]));
			struct log_field fields[] = {{"GROUP", labels[id]}, {"KILLS", count}};
			log_event(LOG_LEVEL_WARN, LOG_ID_OOM_KILL, fields, 2,
			          "the OOM killer chose %s process%s of group %s", count,
			          v - b->oom_logged[id] == 1 ? "" : "es", labels[id]);
		}
		b->oom_logged[id] = v;
	}
}

static int bpf_collect(void *state, const struct collector_env *env, struct expo *out)
{
	(void)env;
	struct bpf_collector *b = state;
	init_bounds();
	/* Started here rather than at init, so that the thread is made after the daemon has given
	 * up its capabilities (they belong to each thread). */
	if (b->progs[P_PROCESS_EVENTS].attached && !b->events)
		start_exec_events(b);
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
		if (w)
			log_oom_kills(b, w, labels);
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
