#include "self.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <microhttpd.h>
#include <libproc2/misc.h>
#include <libproc2/pids.h>

#include "config.h"
#include "xalloc.h"

#if defined(__SANITIZE_ADDRESS__)
/*
 * libproc2 4.0.2 keeps two 128 KiB read buffers per thread in __thread statics and never frees
 * them (see tests/lsan.supp). Built in, so that the suppression holds however the daemon is
 * started (systemd-socket-activate, for one, passes no environment on).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libproc2.so\n";
}
#endif

enum self_item {
	SELF_TICS_ALL,
	SELF_TIME_START,
	SELF_VM_RSS,
	SELF_VSIZE,
	SELF_NLWP,
	SELF__COUNT,
};

static const enum pids_item self_items[SELF__COUNT] = {
    [SELF_TICS_ALL] = PIDS_TICS_ALL, [SELF_TIME_START] = PIDS_TIME_START,
    [SELF_VM_RSS] = PIDS_VM_RSS,     [SELF_VSIZE] = PIDS_VSIZE_BYTES,
    [SELF_NLWP] = PIDS_NLWP,
};

/* libproc2's pids_info is made for each collection and dropped after it (about 0.1 MiB that
 * would otherwise stay resident between scrapes). */
struct self {
	long hertz;
	unsigned pid;
};

struct self *self_new(void)
{
	struct pids_info *probe = NULL;
	int rc = procps_pids_new(&probe, (enum pids_item *)self_items, SELF__COUNT);
	procps_pids_unref(&probe);
	if (rc < 0)
		return NULL;
	struct self *s = xcalloc(1, sizeof(*s));
	s->hertz = procps_hertz_get();
	if (s->hertz <= 0)
		s->hertz = 100;
	s->pid = (unsigned)getpid();
	return s;
}

void self_free(struct self *s)
{
	free(s);
}

/* Open descriptors of this process; -1 when /proc/self/fd cannot be listed. */
static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the descriptor opendir itself holds */
}

static void gauge(struct expo *out, const char *name, const char *unit, const char *help,
                  double value)
{
	expo_family(out, name, METRIC_GAUGE, unit, help);
	expo_sample(out, NULL, 0, value);
}

/* libproc2's PIDS_VAL() takes an info argument it does not use. */
#define SELF_VAL(stack, item, type) PIDS_VAL(item, type, stack, NULL)

static void expose_self(const struct self *s, struct pids_stack *st, struct expo *out)
{
	expo_family(out, "process_cpu_seconds", METRIC_COUNTER, "seconds",
	            "Total user and system CPU time spent in seconds.");
	expo_sample(out, NULL, 0, (double)SELF_VAL(st, SELF_TICS_ALL, ull_int) / (double)s->hertz);
	gauge(out, "process_resident_memory_bytes", "bytes", "Resident memory size in bytes.",
	      (double)SELF_VAL(st, SELF_VM_RSS, ul_int) * 1024.0);
	gauge(out, "process_virtual_memory_bytes", "bytes", "Virtual memory size in bytes.",
	      (double)SELF_VAL(st, SELF_VSIZE, ul_int));
	gauge(out, "process_threads", NULL, "Number of OS threads in the process.",
	      SELF_VAL(st, SELF_NLWP, s_int));

	/* Start time since boot, moved onto the wall clock through the current uptime. */
	double uptime;
	if (procps_uptime(&uptime, NULL) >= 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		double boot = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - uptime;
		double start = boot + SELF_VAL(st, SELF_TIME_START, real);
		gauge(out, "process_start_time_seconds", "seconds",
		      "Start time of the process since unix epoch in seconds.",
		      (double)(long long)start);
	}
}

void self_collect(struct self *s, struct expo *out)
{
	int fds = count_open_fds();
	if (fds >= 0)
		gauge(out, "process_open_fds", NULL, "Number of open file descriptors.", fds);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		gauge(out, "process_max_fds", NULL, "Maximum number of open file descriptors.",
		      (double)rl.rlim_cur);

	if (!s)
		return;
	struct pids_info *info = NULL;
	if (procps_pids_new(&info, (enum pids_item *)self_items, SELF__COUNT) < 0)
		return;
	struct pids_fetch *f = procps_pids_select(info, &s->pid, 1, PIDS_SELECT_PID);
	if (f && f->counts && f->counts->total >= 1)
		expose_self(s, f->stacks[0], out);
	procps_pids_unref(&info);
}

void self_build_info(struct expo *out)
{
	struct label labels[] = {
	    {"version", PACKAGE_VERSION},
	    {"revision", KOBS_REVISION},
	    {"libmicrohttpd", MHD_get_version()},
	    {"zlib", zlibVersion()},
#ifdef HAVE_SYSTEMD
	    {"systemd", "yes"},
#else
	    {"systemd", "no"},
#endif
#ifdef HAVE_BPF
	    {"bpf", "yes"},
#else
	    {"bpf", "no"},
#endif
#ifdef HAVE_SECCOMP
	    {"seccomp", "yes"},
#else
	    {"seccomp", "no"},
#endif
	};
	expo_family(out, "kobs_build", METRIC_INFO, NULL,
	            "A metric with a constant '1' value labelled by the kobsd version, source "
	            "revision and the libraries and features it was built with.");
	expo_sample(out, labels, sizeof(labels) / sizeof(labels[0]), 1);
}
