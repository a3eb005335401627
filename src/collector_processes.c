/* The "processes" collector: per-process figures from /proc/<pid>, summed into the process
 * groups of --config.file (process_groups.c does the accounting).
 *
 * Each scrape lists every process with libproc2's pids API, which reads /proc/<pid>/stat (state,
 * CPU ticks, page faults, threads, memory sizes, parent, start). A process seen for the first
 * time is classified once for its life (an execve() the bpf collector reports starts a new one,
 * see struct exec_life): its comm, cmdline and cgroup are read here byte for byte
 * (libproc2 4.0.2 rewrites control characters in comm and splits cmdline at newlines, and
 * process-exporter's configs match the raw bytes), its user and systemd unit come from
 * libproc2. Then the files libproc2 lacks are read for every grouped process: status (context
 * switches, VmHWM, VmSwap), schedstat, io (libproc2 would turn an unreadable io into zeros),
 * limits, and the number of open fds.
 *
 * When the bpf collector runs its task iterator (task_feed.h), every scrape reads instead one
 * binary record per thread and per process from the kernel (task_records.h): every figure above
 * but the classification's, for every process whoever owns it, summed over all its threads, with
 * no file opened per process. /proc is then read only to classify a new process. If the
 * iterator cannot be read, the collector says why once and goes back to /proc for good.
 *
 * libproc2 reads /proc and cannot be pointed elsewhere, so this collector reads /proc whatever
 * --path.procfs says: in a container, run with the host's pid namespace (hostPID), where /proc
 * lists the host's processes. */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <libproc2/misc.h>
#include <libproc2/pids.h>

#include "buf.h"
#include "group_link.h"
#include "groups_config.h"
#include "log.h"
#include "process_groups.h"
#include "procfs.h"
#include "procfs_pid_parse.h"
#include "task_feed.h"
#include "task_records.h"
#include "thread_groups.h"
#include "xalloc.h"

#define PROC_ROOT "/proc"
/* Command lines are matched on their first 128 KiB (a process-exporter regex beyond that would
 * be unusual, and a hostile process can make its command line 2 MiB long). */
#define CMDLINE_LIMIT (128u * 1024)
#define SMALL_FILE    (16u * 1024)
#define MAX_ARGS      4096
/* libproc2's procps_pids_select() takes at most this many pids at once (its FILL_ID_MAX). */
#define SELECT_BATCH 255

/* What libproc2 reads for every process in every scrape: /proc/<pid>/stat only. */
enum stat_item {
	S_PID,
	S_PPID,
	S_BEGAN,
	S_STATE,
	S_UTIME,
	S_STIME,
	S_MAJFLT,
	S_MINFLT,
	S_THREADS,
	S_VSIZE,
	S_RSS,
	S__COUNT,
};

/* What libproc2 reads once in a process's life, to classify it. */
enum id_item {
	I_PID,
	I_BEGAN,
	I_EUID,
	I_EUSER,
	I_UNIT,
	I__COUNT,
};

static const enum pids_item stat_items[S__COUNT] = {
    [S_PID] = PIDS_ID_PID,        [S_PPID] = PIDS_ID_PPID,    [S_BEGAN] = PIDS_TICS_BEGAN,
    [S_STATE] = PIDS_STATE,       [S_UTIME] = PIDS_TICS_USER, [S_STIME] = PIDS_TICS_SYSTEM,
    [S_MAJFLT] = PIDS_FLT_MAJ,    [S_MINFLT] = PIDS_FLT_MIN,  [S_THREADS] = PIDS_NLWP,
    [S_VSIZE] = PIDS_VSIZE_BYTES, [S_RSS] = PIDS_RSS,
};

static const enum pids_item id_items[I__COUNT] = {
    [I_PID] = PIDS_ID_PID,     [I_BEGAN] = PIDS_TICS_BEGAN, [I_EUID] = PIDS_ID_EUID,
    [I_EUSER] = PIDS_ID_EUSER, [I_UNIT] = PIDS_SD_UNIT,
};

/* libproc2's PIDS_VAL() takes an info argument it does not use. */
#define STAT_VAL(stack, item, type) PIDS_VAL(item, type, stack, NULL)
#define ID_VAL(stack, item, type)   PIDS_VAL(item, type, stack, NULL)

/* A process that called execve() after it was classified. */
struct exec_life {
	int pid;
	uint64_t began;
	uint64_t generation;
};

/* A process as a listing gives it: from libproc2 (`stack`) or the task iterator (`record`). */
struct listed {
	int pid, ppid;
	uint64_t began; /* start, in clock ticks since boot */
	struct pids_stack *stack;
	const struct kobs_task_process *record;
};

/* A thread's run-queue wait at the last scrape: the kernel keeps no total of a process's exited
 * threads' wait, so each thread's growth since then is added to its process's counter. */
struct thread_wait {
	unsigned tgid, tid;
	uint64_t start_ns;
	uint64_t run_delay_ns;
};

/* A process new in this scrape, between being listed and being classified. */
struct pending {
	struct pg_process *proc;
	int ppid;
	uint64_t began; /* start, in clock ticks since boot */
	bool execd;     /* a life after an execve() */
	char comm[16];
	bool matched;
};

struct processes {
	/* libproc2's: made for one collection and dropped after it, with the results they hold
	 * (about 0.5 MiB for 1,000 processes), so that nothing of them stays resident between
	 * scrapes. */
	struct pids_info *stat_info;
	struct pids_info *id_info;
	struct process_groups *pg;
	struct thread_groups *tg;
	double ticks_per_second;
	uint64_t ns_per_tick;
	long page_size;
	double boot_wall; /* when the system booted, in seconds since the epoch */
	int proc_fd;      /* /proc */
	bool fd_count_by_stat;
	bool have_io;        /* the kernel has task I/O accounting (/proc/<pid>/io) */
	bool have_schedstat; /* and scheduler statistics (/proc/<pid>/schedstat) */

	struct buf file;
	struct buf cmdline;
	struct buf cgroup;
	struct buf name;
	/* Scratch of one collection, freed at its end like libproc2's results. */
	const char **argv;           /* MAX_ARGS, pointing into `cmdline` */
	struct pg_process **tracked; /* per listed process of this scrape */
	struct pending *pending;
	unsigned pending_pids[SELECT_BATCH];

	/* The task iterator: whether it failed (then /proc for good), this scrape's records (freed
	 * at its end), and the threads' run-queue wait of the last scrape, sorted by tgid and tid.
	 */
	bool tasks_failed;
	bool from_tasks; /* the last collection read the iterator */
	struct buf records;
	struct task_records tasks;
	struct thread_wait *waits;
	size_t nwaits;
	uint64_t *wchan_bits; /* group ids whose sleeping threads are named, for the iterator */

	/* Processes that called execve() after they were classified (group_link.h): the
	 * accounting knows each such life by its start plus a generation in the high bits, so that
	 * an exec starts a new life, classified by its new name. Sorted by pid. */
	struct exec_life *execd;
	size_t nexecd;
};

/* Start ticks fit in 48 bits for some 89,000 years at 100 Hz: the generation goes above. */
#define GENERATION_SHIFT 48
#define EXECS_MAX        4096

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Since Linux 6.2 stat() on /proc/<pid>/fd gives the number of open descriptors as its size
 * (to anyone who may stat it, no read permission needed); before, the directory must be
 * listed. This process has descriptors open, so a size of 0 means the older kernel. */
static bool kernel_counts_fds(void)
{
	struct stat st;
	return stat(PROC_ROOT "/self/fd", &st) == 0 && st.st_size > 0;
}

static int processes_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct processes *p = xcalloc(1, sizeof(*p));
	/* The pids_info are made for each collection (see processes_collect); make one now to
	 * learn whether libproc2 works here at all. */
	struct pids_info *probe = NULL;
	int rc = procps_pids_new(&probe, (enum pids_item *)stat_items, S__COUNT);
	procps_pids_unref(&probe);
	if (rc < 0) {
		snprintf(why, why_len,
		         "libproc2 could not be set up (%s); is " PROC_ROOT " mounted?",
		         strerror(-rc));
		free(p);
		return -1;
	}
	if (strcmp(env->procfs, PROC_ROOT) != 0)
		log_info("collector processes reads " PROC_ROOT " (libproc2 reads no other path), "
		         "not --path.procfs=%s; in a container, share the host's pid namespace",
		         env->procfs);
	long hz = procps_hertz_get();
	p->ticks_per_second = hz > 0 ? (double)hz : 100;
	p->ns_per_tick = 1000000000ull / (uint64_t)p->ticks_per_second;
	p->page_size = sysconf(_SC_PAGESIZE);
	p->boot_wall = clock_seconds(CLOCK_REALTIME) - clock_seconds(CLOCK_BOOTTIME);
	p->fd_count_by_stat = kernel_counts_fds();
	p->have_io = access(PROC_ROOT "/self/io", F_OK) == 0;
	p->have_schedstat = access(PROC_ROOT "/self/schedstat", F_OK) == 0;
	p->proc_fd = open(PROC_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->proc_fd < 0) {
		snprintf(why, why_len, PROC_ROOT ": %s", strerror(errno));
		free(p);
		return -1;
	}
	p->pg = pg_new();
	p->tg = tg_new();
	buf_init(&p->records);
	task_records_init(&p->tasks);
	p->wchan_bits = xcalloc(KOBS_WCHAN_WORDS, sizeof(*p->wchan_bits));
	buf_init(&p->file);
	buf_init(&p->cmdline);
	buf_init(&p->cgroup);
	buf_init(&p->name);
	*state = p;
	return 0;
}

static void processes_destroy(void *state)
{
	struct processes *p = state;
	close(p->proc_fd);
	pg_free(p->pg);
	tg_free(p->tg);
	buf_free(&p->records);
	task_records_free(&p->tasks);
	free(p->waits);
	free(p->wchan_bits);
	free(p->execd);
	buf_free(&p->file);
	buf_free(&p->cmdline);
	buf_free(&p->cgroup);
	buf_free(&p->name);
	free(p);
}

static void processes_reconfigure(void *state, const struct collector_env *env)
{
	struct processes *p = state;
	pg_reset(p->pg);
	tg_reset(p->tg);
	group_link_reset(env->link);
	memset(p->wchan_bits, 0, KOBS_WCHAN_WORDS * sizeof(*p->wchan_bits));
}

/* Tell the bpf collector the names of the group ids. */
static void publish_groups(struct processes *p, const struct collector_env *env, double listed)
{
	size_t n = pg_group_slots(p->pg);
	const char **names = xreallocarray(NULL, n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = pg_group_name(p->pg, i);
	group_link_publish(env->link, names, n, listed,
	                   groups_config_settings(env->groups)->group_expiry_seconds);
	free(names);
}

/* The process is gone (or going): its files report ENOENT or ESRCH. */
static bool gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

static void count_error(const struct collector_env *env, const char *file, int err)
{
	read_errors_count(env->read_errors, file, read_error_from_errno(err));
}

static int open_pid_dir(struct processes *p, int pid)
{
	char dir[16];
	snprintf(dir, sizeof(dir), "%d", pid);
	return openat(p->proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ---- classification ---- */

/* Split a command line at its NULs into `argv` (pointers into `cmdline`, which gets a final
 * NUL). Returns argc. A process that rewrote its command line may leave no NUL at all: then it
 * is one argument, as process-exporter sees it. */

/* Read what classification needs from /proc/<pid>; -1 with errno when a file could not be read. */
static int read_identity(struct processes *p, int pid, char comm[16], const char **argv,
                         size_t *argc, const char **cgroup)
{
	int pfd = open_pid_dir(p, pid);
	if (pfd < 0)
		return -1;
	int rc = -1;
	if (procfs_read_seq_at(pfd, "comm", &p->file, SMALL_FILE) < 0)
		goto out;
	/* The kernel ends comm with one newline; a newline inside it is part of the name. */
	size_t n = p->file.len;
	if (n && p->file.data[n - 1] == '\n')
		n--;
	if (n > 15)
		n = 15;
	memcpy(comm, p->file.data, n);
	comm[n] = '\0';
	if (procfs_read_at(pfd, "cmdline", &p->cmdline, CMDLINE_LIMIT) < 0)
		goto out;
	*argc = split_pid_cmdline(p->cmdline.data, p->cmdline.len, argv, MAX_ARGS);
	*cgroup = NULL;
	if (procfs_read_seq_at(pfd, "cgroup", &p->cgroup, SMALL_FILE) == 0) {
		const char *path;
		size_t len;
		if (parse_pid_cgroup(p->cgroup.data, p->cgroup.len, &path, &len) == 0) {
			/* The path lies inside the buffer: move it to the front, a string. */
			memmove(p->cgroup.data, path, len);
			p->cgroup.data[len] = '\0';
			*cgroup = p->cgroup.data;
		}
	} else if (gone(errno)) {
		goto out;
	}
	rc = 0;
out:;
	int saved = errno;
	close(pfd);
	errno = saved;
	return rc;
}

/* libproc2's answer for `pid`, if the same life of it is still there. */
static struct pids_stack *identity_stack(struct pids_fetch *f, size_t *next, int pid,
                                         uint64_t began)
{
	int total = f ? f->counts->total : 0;
	for (; *next < (size_t)total; (*next)++) {
		struct pids_stack *st = f->stacks[*next];
		int got = ID_VAL(st, I_PID, s_int);
		if (got > pid)
			break;
		if (got == pid) {
			(*next)++;
			return ID_VAL(st, I_BEGAN, ull_int) == began ? st : NULL;
		}
	}
	return NULL;
}

static void classify(struct processes *p, const struct collector_env *env, struct pending *np,
                     struct pids_stack *st)
{
	const char **argv = p->argv;
	int pid = pg_pid(np->proc);
	struct proc_identity id = {.pid = pid, .ppid = np->ppid};
	if (!st || read_identity(p, pid, np->comm, argv, &id.argc, &id.cgroup) < 0) {
		if (!st || gone(errno)) {
			pg_vanished(p->pg, np->proc);
			return;
		}
		count_error(env, "pid/cmdline", errno);
		id.argc = 0;
		id.cgroup = NULL;
	}
	id.start_time = p->boot_wall + (double)np->began / p->ticks_per_second;
	id.comm = np->comm;
	id.argv = id.argc ? argv : NULL;
	const char *unit = ID_VAL(st, I_UNIT, str);
	id.unit = unit && strcmp(unit, "-") != 0 ? unit : NULL;
	id.user = ID_VAL(st, I_EUSER, str);
	id.uid = ID_VAL(st, I_EUID, u_int);

	struct group_match m;
	np->matched = group_link_match(env->link, &id, &m, &p->name);
	if (!np->matched)
		return;
	unsigned flags = (m.per_process ? PG_PER_PROCESS : 0) | (m.children ? PG_CHILDREN : 0) |
	                 (m.threads ? PG_THREADS : 0) | (m.wchan ? PG_WCHAN : 0);
	/* After an exec, a group is made only if the exec gave it an id: a process that execs
	 * itself under ever new names is refused new groups (group_link_exec_id). */
	if (np->execd && group_link_attached(env->link)) {
		group_link_lock(env->link);
		if (!group_link_find(env->link, p->name.data))
			flags |= PG_NO_NEW_GROUP;
		group_link_unlock(env->link);
	}
	pg_classify(p->pg, np->proc, p->name.data, np->comm, flags);
}

/* Classify the processes new in this scrape: first every one on its own matchers, then those
 * without a match by their ancestry, since a parent may come later in pid order. */
static void classify_new(struct processes *p, const struct collector_env *env, size_t n)
{
	if (n == 0)
		return;
	/* Without libproc2 every new process is taken as vanished, and tried again next time. */
	if (procps_pids_new(&p->id_info, (enum pids_item *)id_items, I__COUNT) < 0)
		p->id_info = NULL;
	p->argv = xcalloc(MAX_ARGS, sizeof(*p->argv));
	for (size_t from = 0; from < n; from += SELECT_BATCH) {
		size_t count = n - from < SELECT_BATCH ? n - from : SELECT_BATCH;
		for (size_t i = 0; i < count; i++)
			p->pending_pids[i] = (unsigned)pg_pid(p->pending[from + i].proc);
		struct pids_fetch *f = p->id_info ? procps_pids_select(p->id_info, p->pending_pids,
		                                                       (int)count, PIDS_SELECT_PID)
		                                  : NULL;
		size_t next = 0;
		for (size_t i = from; i < from + count; i++) {
			struct pending *np = &p->pending[i];
			np->matched = false;
			np->comm[0] = '\0';
			classify(p, env, np, identity_stack(f, &next, pg_pid(np->proc), np->began));
		}
	}
	procps_pids_unref(&p->id_info);
	for (size_t i = 0; i < n; i++)
		if (!p->pending[i].matched)
			pg_inherit(p->pg, p->pending[i].proc, p->pending[i].comm);
	/* The kernel's programs count the new processes in these groups from now on. */
	bool linked = group_link_attached(env->link);
	for (size_t i = 0; linked && i < n; i++) {
		const char *group = pg_group_of(p->pg, p->pending[i].proc);
		group_link_set(env->link, pg_pid(p->pending[i].proc),
		               group ? group_link_id(env->link, group) : 0);
	}
	/* A long command line (a Java class path) must not keep its buffer resident. */
	buf_free(&p->cmdline);
	buf_free(&p->cgroup);
	free(p->argv);
	p->argv = NULL;
}

/* ---- the figures of every scrape ---- */

enum read_outcome {
	READ_WHOLE,
	READ_GONE,   /* the process exited */
	READ_FAILED, /* a file that must be read was not; counted */
};

static enum read_outcome failed(const struct collector_env *env, const char *file, int err)
{
	if (gone(err))
		return READ_GONE;
	count_error(env, file, err);
	return READ_FAILED;
}

/* Open descriptors, from the size of fd/ or by listing it. */
static int count_fds(struct processes *p, int pfd, uint64_t *count)
{
	if (p->fd_count_by_stat) {
		struct stat st;
		if (fstatat(pfd, "fd", &st, 0) < 0)
			return -1;
		*count = (uint64_t)st.st_size;
		return 0;
	}
	int fd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	uint64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	*count = n;
	return 0;
}

/* Whether the process cannot have run since its last reading, so that its io and schedstat
 * figures are still those of that reading: it is single-threaded (status counts the context
 * switches of the main thread only), not running now, and has not been switched in or out since.
 * I/O is accounted, and run-queue delay recorded, only in the task's own context. Most processes
 * on a host sleep between scrapes; this saves two of their four file reads. */
static bool idle_since(const struct pg_figures *last, const struct pg_figures *now)
{
	return last && now->threads == 1 && last->threads == 1 && now->state != PG_RUNNING &&
	       last->state != PG_RUNNING &&
	       now->counters[PGC_CTXT_VOLUNTARY] == last->counters[PGC_CTXT_VOLUNTARY] &&
	       now->counters[PGC_CTXT_INVOLUNTARY] == last->counters[PGC_CTXT_INVOLUNTARY] &&
	       now->counters[PGC_CPU_USER] == last->counters[PGC_CPU_USER] &&
	       now->counters[PGC_CPU_SYSTEM] == last->counters[PGC_CPU_SYSTEM];
}

static enum read_outcome read_schedstat(struct processes *p, const struct collector_env *env,
                                        int pfd, struct pg_figures *f)
{
	struct pid_schedstat sched;
	if (procfs_read_seq_at(pfd, "schedstat", &p->file, SMALL_FILE) < 0)
		return failed(env, "pid/schedstat", errno);
	if (parse_pid_schedstat(p->file.data, p->file.len, &sched) == 0)
		f->counters[PGC_RUNQUEUE_WAIT] = sched.wait_ns;
	else
		read_errors_count(env->read_errors, "pid/schedstat", READ_ERROR_PARSE);
	return READ_WHOLE;
}

static enum read_outcome read_io(struct processes *p, const struct collector_env *env, int pfd,
                                 struct pg_figures *f)
{
	struct pid_io io;
	if (procfs_read_seq_at(pfd, "io", &p->file, SMALL_FILE) < 0) {
		/* Another user's io needs CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE: left out and
		 * counted, never served as zero. */
		return failed(env, "pid/io", errno) == READ_GONE ? READ_GONE : READ_WHOLE;
	}
	if (parse_pid_io(p->file.data, p->file.len, &io) < 0) {
		read_errors_count(env->read_errors, "pid/io", READ_ERROR_PARSE);
		return READ_WHOLE;
	}
	f->counters[PGC_IO_RCHAR] = io.rchar;
	f->counters[PGC_IO_WCHAR] = io.wchar;
	f->counters[PGC_IO_SYSCR] = io.syscr;
	f->counters[PGC_IO_SYSCW] = io.syscw;
	f->counters[PGC_IO_READ_BYTES] = io.read_bytes;
	f->counters[PGC_IO_WRITE_BYTES] = io.write_bytes;
	f->io_known = true;
	return READ_WHOLE;
}

/* How long a process's open-files limit is reused before limits is read again: it changes only
 * by setrlimit/prlimit, typically once at start. */
#define LIMIT_REUSE_SECONDS 60.0

static enum read_outcome read_fds(struct processes *p, const struct collector_env *env, int pfd,
                                  const struct pg_figures *last, double now, struct pg_figures *f)
{
	if (last && last->fds_known && now - last->fd_limit_read < LIMIT_REUSE_SECONDS) {
		f->fd_limit = last->fd_limit;
		f->fd_limit_read = last->fd_limit_read;
	} else {
		uint64_t limit;
		if (procfs_read_seq_at(pfd, "limits", &p->file, SMALL_FILE) < 0)
			return failed(env, "pid/limits", errno) == READ_GONE ? READ_GONE
			                                                     : READ_WHOLE;
		if (parse_pid_limits_nofile(p->file.data, p->file.len, &limit) < 0) {
			read_errors_count(env->read_errors, "pid/limits", READ_ERROR_PARSE);
			return READ_WHOLE;
		}
		f->fd_limit = limit;
		f->fd_limit_read = now;
	}
	if (count_fds(p, pfd, &f->open_fds) < 0)
		return failed(env, "pid/fd", errno) == READ_GONE ? READ_GONE : READ_WHOLE;
	f->fds_known = true;
	return READ_WHOLE;
}

/* The files libproc2 does not read for us. `last` is the process's last whole reading, if any. */
static enum read_outcome read_own_files(struct processes *p, const struct collector_env *env,
                                        int pfd, const struct pg_figures *last, double now,
                                        struct pg_figures *f)
{
	struct pid_status status;
	if (procfs_read_seq_at(pfd, "status", &p->file, SMALL_FILE) < 0)
		return failed(env, "pid/status", errno);
	if (parse_pid_status(p->file.data, p->file.len, &status) < 0) {
		read_errors_count(env->read_errors, "pid/status", READ_ERROR_PARSE);
		return READ_FAILED;
	}
	f->counters[PGC_CTXT_VOLUNTARY] = status.voluntary_ctxt;
	f->counters[PGC_CTXT_INVOLUNTARY] = status.nonvoluntary_ctxt;
	f->peak_resident_bytes = status.hwm_bytes;
	f->swap_bytes = status.swap_bytes;

	enum read_outcome r = READ_WHOLE;
	if (idle_since(last, f)) {
		f->counters[PGC_RUNQUEUE_WAIT] = last->counters[PGC_RUNQUEUE_WAIT];
		for (int c = PGC_IO_FIRST; c < PGC__COUNT; c++)
			f->counters[c] = last->counters[c];
		f->io_known = last->io_known;
	} else {
		if (p->have_schedstat)
			r = read_schedstat(p, env, pfd, f);
		if (r == READ_WHOLE && p->have_io)
			r = read_io(p, env, pfd, f);
	}
	if (r == READ_WHOLE)
		r = read_fds(p, env, pfd, last, now, f);
	return r;
}

static void read_process(struct processes *p, const struct collector_env *env,
                         struct pg_process *proc, struct pids_stack *st, double now)
{
	struct pg_figures f = {0};
	f.state = pg_state_from_letter(STAT_VAL(st, S_STATE, s_ch));
	f.counters[PGC_CPU_USER] = STAT_VAL(st, S_UTIME, ull_int) * p->ns_per_tick;
	f.counters[PGC_CPU_SYSTEM] = STAT_VAL(st, S_STIME, ull_int) * p->ns_per_tick;
	f.counters[PGC_FAULTS_MAJOR] = STAT_VAL(st, S_MAJFLT, ul_int);
	f.counters[PGC_FAULTS_MINOR] = STAT_VAL(st, S_MINFLT, ul_int);
	int threads = STAT_VAL(st, S_THREADS, s_int);
	f.threads = threads > 0 ? (uint64_t)threads : 0;
	f.virtual_bytes = STAT_VAL(st, S_VSIZE, ul_int);
	f.resident_bytes = (uint64_t)STAT_VAL(st, S_RSS, ul_int) * (uint64_t)p->page_size;

	int pfd = open_pid_dir(p, pg_pid(proc));
	if (pfd < 0) {
		if (gone(errno))
			pg_vanished(p->pg, proc);
		else
			count_error(env, "pid", errno);
		return;
	}
	struct pg_figures last;
	bool have_last = pg_last(proc, &last);
	enum read_outcome r = read_own_files(p, env, pfd, have_last ? &last : NULL, now, &f);
	close(pfd);
	if (r == READ_GONE)
		pg_vanished(p->pg, proc);
	else if (r == READ_WHOLE)
		pg_update(p->pg, proc, &f);
}

static bool sorted_by_pid(struct pids_fetch *f)
{
	for (int i = 1; i < f->counts->total; i++)
		if (STAT_VAL(f->stacks[i - 1], S_PID, s_int) >=
		    STAT_VAL(f->stacks[i], S_PID, s_int))
			return false;
	return true;
}

/* ---- listing: /proc through libproc2 ---- */

/* Every process, in ascending pid order, from /proc/<pid>/stat; libproc2's results stay in
 * p->stat_info until the end of the collection. */
static struct listed *list_procfs(struct processes *p, const struct collector_env *env, size_t *n)
{
	struct pids_fetch *f = NULL;
	if (procps_pids_new(&p->stat_info, (enum pids_item *)stat_items, S__COUNT) >= 0)
		f = procps_pids_reap(p->stat_info, PIDS_FETCH_TASKS_ONLY);
	if (!f) {
		procps_pids_unref(&p->stat_info);
		read_errors_count(env->read_errors, "pid/stat", READ_ERROR_IO);
		return NULL;
	}
	size_t total = (size_t)f->counts->total;
	/* /proc lists pids in ascending order, which the accounting relies on; make sure. */
	if (!sorted_by_pid(f))
		procps_pids_sort(p->stat_info, f->stacks, (int)total, PIDS_ID_PID,
		                 PIDS_SORT_ASCEND);
	struct listed *l = xreallocarray(NULL, total ? total : 1, sizeof(*l));
	for (size_t i = 0; i < total; i++) {
		struct pids_stack *st = f->stacks[i];
		l[i] = (struct listed){.pid = STAT_VAL(st, S_PID, s_int),
		                       .ppid = STAT_VAL(st, S_PPID, s_int),
		                       .began = STAT_VAL(st, S_BEGAN, ull_int),
		                       .stack = st};
	}
	*n = total;
	return l;
}

/* ---- listing: the bpf collector's task iterator ---- */

/* Read a new iterator whole into p->records; -1 with the reason in `why`. */
static int read_tasks(struct processes *p, const struct collector_env *env, char *why, size_t len)
{
	int fd = env->tasks->open(env->tasks->ctx);
	if (fd < 0) {
		snprintf(why, len, "cannot make a task iterator: %s", strerror(errno));
		return -1;
	}
	buf_reset(&p->records);
	for (;;) {
		buf_reserve(&p->records, 64 * 1024);
		ssize_t got =
		    read(fd, p->records.data + p->records.len, p->records.cap - p->records.len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, len, "reading the task iterator: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		p->records.len += (size_t)got;
	}
	close(fd);
	if (task_records_parse(p->records.data, p->records.len, &p->tasks, why, len) < 0)
		return -1;
	if (p->tasks.nprocesses == 0) {
		snprintf(why, len, "the task iterator listed no process");
		return -1;
	}
	return 0;
}

/* The thread record of a process's leader (its tid is its pid), or NULL. */
static const struct kobs_task_thread *leader_of(const struct task_records *r, unsigned tgid)
{
	size_t first, n = task_records_threads_of(r, tgid, &first);
	for (size_t i = first; i < first + n; i++)
		if (r->threads[i]->tid == tgid)
			return r->threads[i];
	return NULL;
}

static struct listed *list_tasks(struct processes *p, size_t *n)
{
	const struct task_records *r = &p->tasks;
	struct listed *l = xreallocarray(NULL, r->nprocesses, sizeof(*l));
	size_t k = 0;
	for (size_t i = 0; i < r->nprocesses; i++) {
		const struct kobs_task_process *rec = r->processes[i];
		const struct kobs_task_thread *leader = leader_of(r, rec->tgid);
		if (!leader || rec->tgid == 0 || rec->tgid > INT32_MAX)
			continue;
		/* /proc's start time: start_boottime in clock ticks (nsec_to_clock_t). */
		l[k++] = (struct listed){.pid = (int)rec->tgid,
		                         .ppid = (int)rec->ppid,
		                         .began = leader->start_ns / p->ns_per_tick,
		                         .record = rec};
	}
	*n = k;
	return l;
}

/* ---- figures from the task iterator ---- */

static void add_counts(struct kobs_task_counts *sum, const struct kobs_task_counts *c)
{
	sum->utime_ns += c->utime_ns;
	sum->stime_ns += c->stime_ns;
	sum->runtime_ns += c->runtime_ns;
	sum->nvcsw += c->nvcsw;
	sum->nivcsw += c->nivcsw;
	sum->min_flt += c->min_flt;
	sum->maj_flt += c->maj_flt;
	sum->io.rchar += c->io.rchar;
	sum->io.wchar += c->io.wchar;
	sum->io.syscr += c->io.syscr;
	sum->io.syscw += c->io.syscw;
	sum->io.read_bytes += c->io.read_bytes;
	sum->io.write_bytes += c->io.write_bytes;
	sum->io.cancelled_write_bytes += c->io.cancelled_write_bytes;
}

/* The counters of struct pg_figures from a task's (or a sum of tasks') counts. */
static void fill_counters(uint64_t *counters, const struct kobs_task_counts *c)
{
	task_cputime_split(c->utime_ns, c->stime_ns, c->runtime_ns, &counters[PGC_CPU_USER],
	                   &counters[PGC_CPU_SYSTEM]);
	counters[PGC_CTXT_VOLUNTARY] = c->nvcsw;
	counters[PGC_CTXT_INVOLUNTARY] = c->nivcsw;
	counters[PGC_FAULTS_MINOR] = c->min_flt;
	counters[PGC_FAULTS_MAJOR] = c->maj_flt;
	counters[PGC_IO_RCHAR] = c->io.rchar;
	counters[PGC_IO_WCHAR] = c->io.wchar;
	counters[PGC_IO_SYSCR] = c->io.syscr;
	counters[PGC_IO_SYSCW] = c->io.syscw;
	counters[PGC_IO_READ_BYTES] = c->io.read_bytes;
	/* As /proc/<pid>/io's write_bytes: what was cancelled (truncated before writeback) is
	 * counted apart and not subtracted there either. */
	counters[PGC_IO_WRITE_BYTES] = c->io.write_bytes;
}

/* Where the waits of process `tgid` start in a table sorted by tgid and tid. */
static size_t waits_of(const struct thread_wait *w, size_t n, unsigned tgid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w[mid].tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The process's run-queue wait: its last total, plus what each of its threads waited since the
 * last scrape (all of it for a thread new since then), and the waits of this scrape appended to
 * `now`. Threads born and gone between two scrapes are not seen. */
static uint64_t runqueue_wait(struct processes *p, const struct kobs_task_thread *const *threads,
                              size_t n, const struct pg_figures *last, struct thread_wait *now,
                              size_t *nnow)
{
	unsigned tgid = n ? threads[0]->tgid : 0;
	size_t w = last ? waits_of(p->waits, p->nwaits, tgid) : p->nwaits;
	uint64_t total = last ? last->counters[PGC_RUNQUEUE_WAIT] : 0;
	for (size_t i = 0; i < n; i++) {
		const struct kobs_task_thread *t = threads[i];
		while (w < p->nwaits && p->waits[w].tgid == tgid && p->waits[w].tid < t->tid)
			w++;
		uint64_t before = 0;
		if (w < p->nwaits && p->waits[w].tgid == tgid && p->waits[w].tid == t->tid &&
		    p->waits[w].start_ns == t->start_ns)
			before = p->waits[w].run_delay_ns;
		if (t->run_delay_ns > before)
			total += t->run_delay_ns - before;
		now[(*nnow)++] = (struct thread_wait){tgid, t->tid, t->start_ns, t->run_delay_ns};
	}
	return total;
}

/* A string of a record's fixed-size field, which the kernel NUL-terminates (checked anyway). */
static void record_string(char *out, size_t outlen, const char *field, size_t fieldlen)
{
	size_t n = strnlen(field, fieldlen);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, field, n);
	out[n] = '\0';
}

/* Feed the threads of a process whose entry asks for them to the thread accounting. */
static void feed_threads(struct processes *p, const char *group, unsigned flags,
                         const struct kobs_task_thread *const *threads, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct kobs_task_thread *t = threads[i];
		if (flags & PG_THREADS) {
			uint64_t counters[PGC__COUNT] = {0};
			char comm[sizeof(t->comm) + 1];
			fill_counters(counters, &t->counts);
			counters[PGC_RUNQUEUE_WAIT] = t->run_delay_ns;
			record_string(comm, sizeof(comm), t->comm, sizeof(t->comm));
			tg_thread(p->tg, group, t->tid, t->start_ns, comm, counters);
		}
		char state = task_state_letter(t->state, t->exit_state);
		if ((flags & PG_WCHAN) && (state == 'S' || state == 'D')) {
			char wchan[sizeof(t->wchan) + 1];
			record_string(wchan, sizeof(wchan), t->wchan, sizeof(t->wchan));
			tg_waiting(p->tg, group, wchan);
		}
	}
}

static void update_from_tasks(struct processes *p, struct pg_process *proc,
                              const struct kobs_task_process *rec, struct thread_wait *waits,
                              size_t *nwaits)
{
	size_t first, n = task_records_threads_of(&p->tasks, rec->tgid, &first);
	const struct kobs_task_thread *const *threads = p->tasks.threads + first;
	const struct kobs_task_thread *leader = leader_of(&p->tasks, rec->tgid);
	struct kobs_task_counts sum = rec->exited;
	for (size_t i = 0; i < n; i++)
		add_counts(&sum, &threads[i]->counts);

	struct pg_figures f = {0};
	fill_counters(f.counters, &sum);
	f.io_known = true;
	struct pg_figures last;
	bool have_last = pg_last(proc, &last);
	f.counters[PGC_RUNQUEUE_WAIT] =
	    runqueue_wait(p, threads, n, have_last ? &last : NULL, waits, nwaits);
	f.state = pg_state_from_letter(leader ? task_state_letter(leader->state, leader->exit_state)
	                                      : '?');
	f.threads = rec->threads;
	uint64_t page = (uint64_t)p->page_size;
	if (rec->flags & KOBS_PROCESS_HAS_MM) {
		f.virtual_bytes = rec->virtual_pages * page;
		f.resident_bytes = rec->resident_pages * page;
		f.swap_bytes = rec->swap_pages * page;
		f.peak_resident_bytes = rec->peak_resident_pages * page;
	}
	if (rec->flags & KOBS_PROCESS_HAS_FDS) {
		f.fds_known = true;
		f.open_fds = rec->open_fds;
		/* RLIM_INFINITY is all ones, which the accounting takes as unlimited too. */
		f.fd_limit = rec->fd_limit;
	}
	pg_update(p->pg, proc, &f);
	unsigned flags = pg_flags(proc);
	if (flags & (PG_THREADS | PG_WCHAN))
		feed_threads(p, pg_group_of(p->pg, proc), flags, threads, n);
}

/* ---- a collection ---- */

/* Observe every listed process (ascending pids) in the accounting, and classify the new ones. */
static void observe(struct processes *p, const struct collector_env *env, const struct listed *l,
                    size_t total)
{
	int *execs = xreallocarray(NULL, EXECS_MAX, sizeof(*execs));
	size_t nexecs = group_link_take_execs(env->link, execs, EXECS_MAX), ix = 0, ie = 0;
	struct exec_life *execd = xreallocarray(NULL, p->nexecd + nexecs + 1, sizeof(*execd));
	size_t nexecd = 0;
	size_t npending = 0;
	for (size_t i = 0; i < total; i++) {
		int pid = l[i].pid;
		uint64_t began = l[i].began;
		/* The life's generation: the last one, plus one for an exec since the last scrape.
		 */
		uint64_t generation = 0;
		while (ie < p->nexecd && p->execd[ie].pid < pid)
			ie++;
		if (ie < p->nexecd && p->execd[ie].pid == pid && p->execd[ie].began == began)
			generation = p->execd[ie].generation;
		while (ix < nexecs && execs[ix] < pid)
			ix++;
		if (ix < nexecs && execs[ix] == pid)
			generation++;
		if (generation)
			execd[nexecd++] = (struct exec_life){pid, began, generation};
		bool is_new;
		p->tracked[i] = pg_observe(
		    p->pg, pid, l[i].ppid, began | (generation & 0xffff) << GENERATION_SHIFT,
		    p->boot_wall + (double)began / p->ticks_per_second, &is_new);
		if (p->tracked[i] && is_new)
			p->pending[npending++] = (struct pending){.proc = p->tracked[i],
			                                          .ppid = l[i].ppid,
			                                          .began = began,
			                                          .execd = generation > 0};
	}
	free(execs);
	free(p->execd);
	p->execd = execd;
	p->nexecd = nexecd;
	classify_new(p, env, npending);
}

/* Which group ids have processes whose entry asks for their wait channels; told to the
 * iterator for the next scrape. */
static void publish_wchan_groups(struct processes *p, const struct collector_env *env, size_t total)
{
	if (!p->from_tasks || !env->tasks->set_wchan_groups)
		return;
	memset(p->wchan_bits, 0, KOBS_WCHAN_WORDS * sizeof(*p->wchan_bits));
	for (size_t i = 0; i < total; i++) {
		const struct pg_process *proc = p->tracked[i];
		if (!proc || !pg_grouped(proc) || !(pg_flags(proc) & PG_WCHAN))
			continue;
		unsigned id = group_link_id(env->link, pg_group_of(p->pg, proc));
		if (id && id <= KOBS_MAX_GROUPS)
			p->wchan_bits[id / 64] |= 1ull << (id % 64);
	}
	env->tasks->set_wchan_groups(env->tasks->ctx, p->wchan_bits, KOBS_WCHAN_WORDS);
}

/* The list for this collection: from the task iterator when there is one that works. */
static struct listed *list_processes(struct processes *p, const struct collector_env *env,
                                     size_t *total)
{
	p->from_tasks = false;
	if (env->tasks->open && !p->tasks_failed) {
		char why[256];
		if (read_tasks(p, env, why, sizeof(why)) == 0) {
			p->from_tasks = true;
			return list_tasks(p, total);
		}
		p->tasks_failed = true;
		log_warn(
		    "collector processes: %s; reading /proc instead from now on (another "
		    "user's I/O and open files need CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH there, "
		    "and context switches and run-queue wait are the main thread's)",
		    why);
	}
	return list_procfs(p, env, total);
}

static void expose_source(const struct processes *p, struct expo *out)
{
	expo_family(out, "kobs_processes_source", METRIC_GAUGE, NULL,
	            "Where the processes collector took this scrape's figures from (1): "
	            "source=\"bpf_iter\", the bpf collector's task iterator, every thread of every "
	            "process; source=\"procfs\", the files of /proc/PID (context switches and "
	            "run-queue wait of the main thread only, another user's I/O and fds need "
	            "capabilities).");
	struct label iter = {"source", "bpf_iter"}, procfs = {"source", "procfs"};
	expo_sample(out, &iter, 1, p->from_tasks);
	expo_sample(out, &procfs, 1, !p->from_tasks);
}

static int processes_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct processes *p = state;
	double listed_at = clock_seconds(CLOCK_BOOTTIME);
	size_t total = 0;
	struct listed *l = list_processes(p, env, &total);
	if (!l)
		return -1;
	p->tracked = xreallocarray(NULL, total ? total : 1, sizeof(*p->tracked));
	p->pending = xreallocarray(NULL, total ? total : 1, sizeof(*p->pending));

	const struct groups_settings *gs = groups_config_settings(env->groups);
	struct pg_settings settings = {
	    .per_process_limit = gs->per_process_limit,
	    .group_limit = gs->group_limit,
	    .group_expiry = gs->group_expiry_seconds,
	};
	double now = clock_seconds(CLOCK_MONOTONIC), wall = clock_seconds(CLOCK_REALTIME);
	pg_begin(p->pg, &settings, now, wall, total);
	tg_begin(p->tg, gs->thread_limit, gs->group_expiry_seconds, now, wall);
	observe(p, env, l, total);
	struct thread_wait *waits = NULL;
	size_t nwaits = 0;
	if (p->from_tasks)
		waits =
		    xreallocarray(NULL, p->tasks.nthreads ? p->tasks.nthreads : 1, sizeof(*waits));
	for (size_t i = 0; i < total; i++) {
		if (!p->tracked[i] || !pg_grouped(p->tracked[i]))
			continue;
		if (p->from_tasks)
			update_from_tasks(p, p->tracked[i], l[i].record, waits, &nwaits);
		else
			read_process(p, env, p->tracked[i], l[i].stack, now);
	}
	free(p->waits);
	p->waits = waits;
	p->nwaits = nwaits;
	procps_pids_unref(&p->stat_info);
	pg_end(p->pg, out);
	tg_end(p->tg, out);
	expose_source(p, out);
	publish_wchan_groups(p, env, total);
	publish_groups(p, env, listed_at);
	free(l);
	free(p->tracked);
	free(p->pending);
	p->tracked = NULL;
	p->pending = NULL;
	/* Nothing of a collection stays resident: the records are read anew each time. */
	task_records_free(&p->tasks);
	buf_free(&p->records);
	return 0;
}

static void processes_note(void *state, char *out, size_t len)
{
	const struct processes *p = state;
	snprintf(out, len, "%s",
	         p->from_tasks ? "figures of every thread of every process from the bpf "
	                         "collector's task iterator"
	                       : "figures from /proc/PID (the main thread's context switches and "
	                         "run-queue wait; another user's I/O and fds need capabilities)");
}

const struct collector_ops collector_processes = {
    .name = "processes",
    .description = "process groups from /proc/<pid>: CPU, memory, I/O, fds, states",
    .default_enabled = true,
    .init = processes_init,
    .collect = processes_collect,
    .reconfigure = processes_reconfigure,
    .destroy = processes_destroy,
    .note = processes_note,
};
