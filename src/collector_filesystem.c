/* The "filesystem" collector: size, free and available space, inodes and read-only state of each
 * mounted filesystem, from /proc/self/mountinfo and statvfs(2) on each mount point, with
 * node_exporter's names (node_filesystem_* as kobs_filesystem_*), labels (device, fstype,
 * mountpoint) and default exclusions of pseudo filesystems and system mount points.
 *
 * A mount that hangs must never hang a scrape: statvfs runs with a deadline
 * (--collector.filesystem.mount-timeout) in a helper thread (stat_runner.c). A mount whose call
 * overran is stale: it is served with kobs_filesystem_stale 1 and device_error 1 and not tried
 * again until that call returns, and each overrun is counted.
 *
 * With --path.rootfs (a container that mounts the host's / at /host/root) only the mounts below it
 * are served, named as the host names them: /host/root/var is served as mountpoint="/var". */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "host_parse.h"
#include "name_filter.h"
#include "procfs.h"
#include "stat_runner.h"
#include "xalloc.h"

/* A host with thousands of mounts (a Kubernetes node) has about 150 bytes each. */
#define FILE_LIMIT (8u << 20)
#define MAX_MOUNTS 16384
/* Threads stuck in statvfs at once; a mount found hanging past this is not tried (device_error
 * 1) until one of them returns. Each costs a thread and its stack, nothing more. */
#define MAX_STUCK 8
/* Room for one line's unescaped mount point, type and source. */
#define SCRATCH_LEN (3 * 4096 + 64)

/* One mount of this scrape. Strings are offsets into fs_state.strings (which may move). */
struct mount {
	size_t mount_point; /* as served: below --path.rootfs, with it cut off */
	size_t path;        /* where to call statvfs: the mount point as this process sees it */
	size_t device;
	size_t fstype;
	bool read_only;
	size_t order; /* in the file */
};

/* A mount whose statvfs overran and has not returned yet. */
struct stale_mount {
	char *path;
	struct stat_call *call;
};

struct fs_state {
	struct buf file;
	struct buf strings;
	char scratch[SCRATCH_LEN];
	struct mount *mounts;
	size_t nmounts, cap;
	bool overflow;
	struct name_filter *mount_points;
	struct name_filter *fs_types;
	const char *rootfs; /* NULL when it is "/" */
	size_t rootfs_len;
	double timeout;
	struct stat_runner *runner;
	struct stale_mount *stale;
	size_t nstale, stale_cap;
	uint64_t timeouts;
	/* This scrape's results, one per mount. */
	struct fs_result *results;
	size_t results_cap;
};

struct fs_result {
	struct statvfs st;
	bool have_stats;
	bool stale;
	bool error;
};

static const char *str(const struct fs_state *st, size_t offset)
{
	return st->strings.data + offset;
}

static size_t add_string(struct fs_state *st, const char *s)
{
	size_t offset = st->strings.len;
	buf_append(&st->strings, s, strlen(s) + 1);
	return offset;
}

/* The mount point as served, or NULL when it is not below --path.rootfs. */
static const char *served_mount_point(const struct fs_state *st, const char *mount_point)
{
	if (!st->rootfs)
		return mount_point;
	if (strncmp(mount_point, st->rootfs, st->rootfs_len) != 0)
		return NULL;
	const char *rest = mount_point + st->rootfs_len;
	if (*rest == '\0')
		return "/";
	return *rest == '/' ? rest : NULL;
}

static void add_mount(const struct mount_row *row, void *arg)
{
	struct fs_state *st = arg;
	const char *mount_point = served_mount_point(st, row->mount_point);
	if (!mount_point || !name_filter_accepts(st->fs_types, row->fstype) ||
	    !name_filter_accepts(st->mount_points, mount_point))
		return;
	if (st->nmounts == MAX_MOUNTS) {
		st->overflow = true;
		return;
	}
	if (st->nmounts == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 32;
		st->mounts = xreallocarray(st->mounts, st->cap, sizeof(*st->mounts));
	}
	struct mount *m = &st->mounts[st->nmounts];
	m->mount_point = add_string(st, mount_point);
	m->path = add_string(st, row->mount_point);
	m->device = add_string(st, row->source);
	m->fstype = add_string(st, row->fstype);
	m->read_only = row->read_only;
	m->order = st->nmounts;
	st->nmounts++;
}

/* By mount point; of one mount point, the last mounted first (it is the one statvfs sees). */
static int by_mount_point(const void *a, const void *b, void *arg)
{
	const struct fs_state *st = arg;
	const struct mount *x = a, *y = b;
	int c = strcmp(str(st, x->mount_point), str(st, y->mount_point));
	return c ? c : (x->order < y->order) - (x->order > y->order);
}

/* A mount point mounted over another is listed twice or more; statvfs sees only the top one,
 * and serving each would give samples with the same labels twice. */
static void unique_mounts(struct fs_state *st)
{
	qsort_r(st->mounts, st->nmounts, sizeof(*st->mounts), by_mount_point, st);
	size_t kept = 0;
	for (size_t i = 0; i < st->nmounts; i++)
		if (kept == 0 || strcmp(str(st, st->mounts[kept - 1].mount_point),
		                        str(st, st->mounts[i].mount_point)) != 0)
			st->mounts[kept++] = st->mounts[i];
	st->nmounts = kept;
}

/* ---- stale mounts ---- */

static struct stale_mount *find_stale(struct fs_state *st, const char *path)
{
	for (size_t i = 0; i < st->nstale; i++)
		if (strcmp(st->stale[i].path, path) == 0)
			return &st->stale[i];
	return NULL;
}

static void forget_stale(struct fs_state *st, struct stale_mount *s)
{
	stat_call_release(s->call);
	free(s->path);
	*s = st->stale[--st->nstale];
}

static void add_stale(struct fs_state *st, const char *path, struct stat_call *call)
{
	if (st->nstale == st->stale_cap) {
		st->stale_cap = st->stale_cap ? st->stale_cap * 2 : 4;
		st->stale = xreallocarray(st->stale, st->stale_cap, sizeof(*st->stale));
	}
	st->stale[st->nstale++] = (struct stale_mount){xstrdup(path), call};
}

/* Stale mounts that are no longer mounted: their calls are of no interest any more (the thread
 * still holds its own reference). */
static void forget_unmounted(struct fs_state *st)
{
	for (size_t i = 0; i < st->nstale;) {
		bool mounted = false;
		for (size_t m = 0; m < st->nmounts && !mounted; m++)
			mounted = strcmp(str(st, st->mounts[m].path), st->stale[i].path) == 0;
		if (mounted)
			i++;
		else
			forget_stale(st, &st->stale[i]);
	}
}

static void stat_mount(struct fs_state *st, const struct mount *m, struct fs_result *r)
{
	const char *path = str(st, m->path);
	struct stale_mount *s = find_stale(st, path);
	if (s) {
		if (!stat_call_finished(s->call)) {
			r->stale = r->error = true;
			return;
		}
		forget_stale(st, s); /* it answered at last: try it again now */
	}
	struct stat_call *overrun = NULL;
	int err = 0;
	switch (stat_runner_run(st->runner, path, st->timeout, &r->st, &err, &overrun)) {
	case STAT_DONE:
		r->have_stats = err == 0;
		r->error = err != 0;
		break;
	case STAT_TIMED_OUT:
		st->timeouts++;
		add_stale(st, path, overrun);
		r->stale = r->error = true;
		break;
	case STAT_NO_THREAD:
		r->error = true;
		break;
	}
}

/* ---- exposition ---- */

enum fs_value { FS_SIZE, FS_FREE, FS_AVAIL, FS_FILES, FS_FILES_FREE };

struct fs_metric {
	const char *name;
	const char *unit;
	enum fs_value value;
	const char *help;
};

static const struct fs_metric fs_metrics[] = {
    {"kobs_filesystem_size_bytes", "bytes", FS_SIZE, "Size of the filesystem."},
    {"kobs_filesystem_free_bytes", "bytes", FS_FREE,
     "Free space, including what only root may use."},
    {"kobs_filesystem_avail_bytes", "bytes", FS_AVAIL,
     "Space available to unprivileged users: free space less the reserved blocks."},
    {"kobs_filesystem_files", NULL, FS_FILES, "Inodes of the filesystem, used or not."},
    {"kobs_filesystem_files_free", NULL, FS_FILES_FREE, "Free inodes."},
};

static double fs_value(const struct statvfs *s, enum fs_value v)
{
	double block = (double)(s->f_frsize ? s->f_frsize : s->f_bsize);
	switch (v) {
	case FS_SIZE:
		return (double)s->f_blocks * block;
	case FS_FREE:
		return (double)s->f_bfree * block;
	case FS_AVAIL:
		return (double)s->f_bavail * block;
	case FS_FILES:
		return (double)s->f_files;
	default:
		return (double)s->f_ffree;
	}
}

static void mount_labels(const struct fs_state *st, const struct mount *m, struct label out[3])
{
	out[0] = (struct label){"device", str(st, m->device)};
	out[1] = (struct label){"fstype", str(st, m->fstype)};
	out[2] = (struct label){"mountpoint", str(st, m->mount_point)};
}

static void expose(struct fs_state *st, struct expo *e)
{
	struct label labels[3];
	for (size_t k = 0; k < sizeof(fs_metrics) / sizeof(fs_metrics[0]); k++) {
		const struct fs_metric *fm = &fs_metrics[k];
		bool started = false;
		for (size_t i = 0; i < st->nmounts; i++) {
			if (!st->results[i].have_stats)
				continue;
			if (!started)
				expo_family(e, fm->name, METRIC_GAUGE, fm->unit, fm->help);
			started = true;
			mount_labels(st, &st->mounts[i], labels);
			expo_sample(e, labels, 3, fs_value(&st->results[i].st, fm->value));
		}
	}
	expo_family(e, "kobs_filesystem_readonly", METRIC_GAUGE, NULL,
	            "1 when the filesystem is mounted read-only, or was remounted read-only (after "
	            "errors, for one).");
	for (size_t i = 0; i < st->nmounts; i++) {
		const struct fs_result *r = &st->results[i];
		bool ro = st->mounts[i].read_only || (r->have_stats && (r->st.f_flag & ST_RDONLY));
		mount_labels(st, &st->mounts[i], labels);
		expo_sample(e, labels, 3, ro ? 1 : 0);
	}
	expo_family(e, "kobs_filesystem_device_error", METRIC_GAUGE, NULL,
	            "1 when statvfs on the mount point failed, timed out, or could not be tried; "
	            "its size figures are then left out.");
	for (size_t i = 0; i < st->nmounts; i++) {
		mount_labels(st, &st->mounts[i], labels);
		expo_sample(e, labels, 3, st->results[i].error ? 1 : 0);
	}
	expo_family(
	    e, "kobs_filesystem_stale", METRIC_GAUGE, NULL,
	    "1 while statvfs on the mount point has run past "
	    "--collector.filesystem.mount-timeout and not returned: the mount hangs (a dead "
	    "NFS server, a stopped FUSE daemon) and is not tried again until it answers.");
	for (size_t i = 0; i < st->nmounts; i++) {
		mount_labels(st, &st->mounts[i], labels);
		expo_sample(e, labels, 3, st->results[i].stale ? 1 : 0);
	}
	expo_family(e, "kobs_filesystem_stat_timeouts", METRIC_COUNTER, NULL,
	            "statvfs calls that ran past --collector.filesystem.mount-timeout since the "
	            "daemon started.");
	expo_sample(e, NULL, 0, (double)st->timeouts);
	expo_family(e, "kobs_filesystem_stuck_threads", METRIC_GAUGE, NULL,
	            "Helper threads still stuck in a statvfs call that overran (at most 8; past "
	            "that, newly hanging mounts are not tried).");
	expo_sample(e, NULL, 0, (double)stat_runner_stuck(st->runner));
}

static int filesystem_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct fs_state *st = state;
	if (procfs_read(env->procfs, "self/mountinfo", &st->file, FILE_LIMIT) < 0) {
		read_errors_count(env->read_errors, "self/mountinfo", read_error_from_errno(errno));
		return -1;
	}
	buf_reset(&st->strings);
	st->nmounts = 0;
	st->overflow = false;
	if (parse_mountinfo(st->file.data, st->file.len, st->scratch, sizeof(st->scratch),
	                    add_mount, st) < 0 ||
	    st->overflow)
		read_errors_count(env->read_errors, "self/mountinfo", READ_ERROR_PARSE);
	unique_mounts(st);
	forget_unmounted(st);
	if (st->nmounts > st->results_cap) {
		st->results_cap = st->nmounts;
		st->results = xreallocarray(st->results, st->results_cap, sizeof(*st->results));
	}
	for (size_t i = 0; i < st->nmounts; i++) {
		memset(&st->results[i], 0, sizeof(st->results[i]));
		stat_mount(st, &st->mounts[i], &st->results[i]);
	}
	expose(st, out);
	return 0;
}

static void filesystem_destroy(void *state)
{
	struct fs_state *st = state;
	if (!st)
		return;
	/* Never waits for a thread stuck in statvfs (stat_runner.h). */
	stat_runner_free(st->runner);
	while (st->nstale)
		forget_stale(st, &st->stale[0]);
	free(st->stale);
	buf_free(&st->file);
	buf_free(&st->strings);
	name_filter_free(st->mount_points);
	name_filter_free(st->fs_types);
	free(st->mounts);
	free(st->results);
	free(st);
}

static int call_statvfs(const char *path, struct statvfs *out)
{
	return statvfs(path, out);
}

static int filesystem_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct fs_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	buf_init(&st->strings);
	const struct host_options *h = env->host;
	st->mount_points =
	    name_filter_new(NULL, h ? h->mount_points_exclude : DEFAULT_MOUNT_POINTS_EXCLUDE,
	                    "--collector.filesystem.mount-points", why, why_len);
	st->fs_types =
	    st->mount_points
	        ? name_filter_new(NULL, h ? h->fs_types_exclude : DEFAULT_FS_TYPES_EXCLUDE,
	                          "--collector.filesystem.fs-types", why, why_len)
	        : NULL;
	if (!st->fs_types)
		goto fail;
	if (h && strcmp(h->rootfs, "/") != 0) {
		st->rootfs = h->rootfs;
		st->rootfs_len = strlen(h->rootfs);
	}
	st->timeout = h ? h->mount_timeout : DEFAULT_MOUNT_TIMEOUT_SECONDS;
	/* Threads start at the first collection, after the daemon has dropped its privileges. */
	st->runner = stat_runner_new(call_statvfs, MAX_STUCK);
	if (procfs_read_at_start(env->procfs, "self/mountinfo", &st->file, FILE_LIMIT, why,
	                         why_len) < 0)
		goto fail;
	*state = st;
	return 0;
fail:
	filesystem_destroy(st);
	return -1;
}

const struct collector_ops collector_filesystem = {
    .name = "filesystem",
    .description = "Space and inodes of each mounted filesystem (statvfs with a deadline)",
    .default_enabled = true,
    .init = filesystem_init,
    .collect = filesystem_collect,
    .destroy = filesystem_destroy,
};
