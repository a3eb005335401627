/* The "time" collector: the system clock, its time zone and clock source, and the kernel's NTP
 * discipline state from adjtimex(2) — node_exporter's time and timex collectors in one. adjtimex
 * with no mode bits set only reads, and needs no privilege (setting the clock would need
 * CAP_SYS_TIME, which the daemon never has). */
#include "collector.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "buf.h"
#include "procfs.h"
#include "span.h"
#include "xalloc.h"

#define MAX_CLOCKSOURCES 32 /* names on one device's list; a real one has two to five */
#define MAX_DEVICES      8  /* clocksourceN directories; every machine seen has one */

struct time_state {
	struct buf file;
	char dir[4096]; /* <sysfs>/devices/system/clocksource */
	/* The clocksourceN directories, listed once: they are made at boot. */
	char storage[MAX_DEVICES][32];
	const char *devices[MAX_DEVICES];
	size_t ndevices;
};

static void expose_one(struct expo *e, const char *name, const char *unit, const char *help,
                       double value)
{
	expo_family(e, name, METRIC_GAUGE, unit, help);
	expo_sample(e, NULL, 0, value);
}

static void collect_clock(struct expo *e)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	expose_one(e, "kobs_time_seconds", "seconds",
	           "The system clock (CLOCK_REALTIME), in seconds since the Unix epoch.",
	           (double)now.tv_sec + (double)now.tv_nsec / 1e9);
	struct tm local;
	time_t t = now.tv_sec;
	if (!localtime_r(&t, &local) || !local.tm_zone)
		return;
	expo_family(e, "kobs_time_zone_offset_seconds", METRIC_GAUGE, "seconds",
	            "Offset of the daemon's local time zone from UTC, east positive.");
	struct label zone = {"time_zone", local.tm_zone};
	expo_sample(e, &zone, 1, (double)local.tm_gmtoff);
}

/* The words of a one-line sysfs file ("kvm-clock tsc acpi_pm"), each once, at most `max`. */
static size_t words(const struct buf *file, char names[][64], size_t max)
{
	size_t n = 0;
	struct span rest = span_of(file->data, file->len), line;
	if (!next_line(&rest, &line))
		return 0;
	for (struct span w = next_token(&line); !span_empty(w) && n < max; w = next_token(&line)) {
		size_t len = span_len(w);
		if (len >= 64 || memchr(w.p, '\0', len))
			continue;
		memcpy(names[n], w.p, len);
		names[n][len] = '\0';
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(names[i], names[n]) == 0;
		if (!seen)
			n++;
	}
	return n;
}

/* One family over every clocksourceN device: `file` is current_clocksource or
 * available_clocksource. */
static void collect_clocksource_file(struct time_state *st, const struct collector_env *env,
                                     const char *const devices[], size_t ndevices, const char *file,
                                     const char *family, const char *help, struct expo *e)
{
	bool started = false;
	for (size_t d = 0; d < ndevices; d++) {
		char rel[64];
		char names[MAX_CLOCKSOURCES][64];
		snprintf(rel, sizeof(rel), "%s/%s", devices[d], file);
		if (procfs_read(st->dir, rel, &st->file, 4096) < 0) {
			read_errors_count(env->read_errors, "sys/clocksource",
			                  read_error_from_errno(errno));
			continue;
		}
		size_t n = words(&st->file, names, MAX_CLOCKSOURCES);
		for (size_t i = 0; i < n; i++) {
			if (!started)
				expo_family(e, family, METRIC_INFO, NULL, help);
			started = true;
			struct label labels[] = {{"clocksource", names[i]},
			                         {"device", devices[d] + strlen("clocksource")}};
			expo_sample(e, labels, 2, 1);
		}
	}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_clocksources(struct time_state *st)
{
	DIR *dir = opendir(st->dir);
	if (!dir)
		return; /* a sysfs without clock sources (some containers): nothing to say */
	size_t n = 0;
	for (struct dirent *de; n < MAX_DEVICES && (de = readdir(dir));) {
		const char *digits = de->d_name + strlen("clocksource");
		if (strncmp(de->d_name, "clocksource", strlen("clocksource")) != 0 || !*digits ||
		    strspn(digits, "0123456789") != strlen(digits) || strlen(de->d_name) >= 32)
			continue;
		snprintf(st->storage[n], sizeof(st->storage[n]), "%s", de->d_name);
		st->devices[n] = st->storage[n];
		n++;
	}
	closedir(dir);
	qsort(st->devices, n, sizeof(st->devices[0]), by_string);
	st->ndevices = n;
}

static void collect_clocksources(struct time_state *st, const struct collector_env *env,
                                 struct expo *e)
{
	collect_clocksource_file(st, env, st->devices, st->ndevices, "current_clocksource",
	                         "kobs_time_clocksource_current",
	                         "The clock source the kernel keeps time with (value 1).", e);
	collect_clocksource_file(st, env, st->devices, st->ndevices, "available_clocksource",
	                         "kobs_time_clocksource_available",
	                         "The clock sources the kernel could use (value 1).", e);
}

static void collect_timex(struct expo *e)
{
	struct timex tx;
	memset(&tx, 0, sizeof(tx)); /* modes = 0: read only */
	int state = adjtimex(&tx);
	if (state < 0)
		return;
	double offset_per_second = (tx.status & STA_NANO) ? 1e9 : 1e6;
	expose_one(
	    e, "kobs_timex_sync_status", NULL,
	    "1 when the kernel's clock is synchronised (an NTP daemon disciplines it), 0 when "
	    "not (adjtimex returns TIME_ERROR).",
	    state == TIME_ERROR ? 0 : 1);
	expose_one(
	    e, "kobs_timex_offset_seconds", "seconds",
	    "Time offset between the clock and its reference, as the NTP daemon last set it.",
	    (double)tx.offset / offset_per_second);
	expose_one(e, "kobs_timex_frequency_adjustment_ratio", NULL,
	           "Clock frequency correction: 1 is none, 1.00001 is 10 ppm faster.",
	           1 + (double)tx.freq / 65536.0 / 1e6);
	expose_one(e, "kobs_timex_maxerror_seconds", "seconds", "Maximum error the kernel assumes.",
	           (double)tx.maxerror / 1e6);
	expose_one(e, "kobs_timex_estimated_error_seconds", "seconds",
	           "Estimated error of the clock.", (double)tx.esterror / 1e6);
	expose_one(e, "kobs_timex_status", NULL,
	           "The clock's status bits (STA_PLL 0x1, STA_UNSYNC 0x40, STA_NANO 0x2000...).",
	           (double)tx.status);
	expose_one(e, "kobs_timex_loop_time_constant", NULL,
	           "Time constant of the phase-locked loop.", (double)tx.constant);
	expose_one(e, "kobs_timex_tick_seconds", "seconds", "Length of one clock tick.",
	           (double)tx.tick / 1e6);
	expose_one(e, "kobs_timex_tai_offset_seconds", "seconds",
	           "Offset of International Atomic Time from UTC (leap seconds), when set.",
	           (double)tx.tai);
}

static int time_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct time_state *st = state;
	collect_clock(out);
	collect_clocksources(st, env, out);
	collect_timex(out);
	return 0;
}

static void time_destroy(void *state)
{
	struct time_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	free(st);
}

static int time_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	struct time_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	snprintf(st->dir, sizeof(st->dir), "%s/devices/system/clocksource",
	         env->host ? env->host->sysfs : "/sys");
	/* Read the time zone now, while /etc is surely readable: glibc keeps it. */
	tzset();
	list_clocksources(st);
	*state = st;
	return 0;
}

const struct collector_ops collector_time = {
    .name = "time",
    .description = "System clock, time zone, clock source and NTP sync state (adjtimex)",
    .default_enabled = true,
    .init = time_init,
    .collect = time_collect,
    .destroy = time_destroy,
};
