/* The "diskstats" collector: I/O counters of each block device from /proc/diskstats, under
 * node_exporter's names (node_disk_* as kobs_disk_*) and its default exclusion of partitions,
 * loop and ram devices (--collector.diskstats.device-exclude / -include).
 *
 * A device named twice in the file (never by a kernel; by a broken or hostile file) is served
 * once, from its first row, since two samples with the same labels would spoil the exposition. */
#include "collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "host_parse.h"
#include "name_filter.h"
#include "named_rows.h"
#include "procfs.h"
#include "xalloc.h"

/* A machine with thousands of block devices has about 200 bytes each here; far above it, the
 * file is cut (and the cut line dropped). */
#define FILE_LIMIT (4u << 20)
/* Devices served at most; the others are left out and the file is counted as a parse error. */
#define MAX_DEVICES 4096

#define SECTOR_BYTES 512.0 /* /proc/diskstats counts 512-byte sectors on every device */

struct disk_metric {
	const char *name; /* counters without _total */
	enum metric_type type;
	const char *unit;
	enum disk_field field;
	double scale; /* > 0: multiply by it; < 0: divide by its opposite (exact for ms to s) */
	const char *help;
};

static const struct disk_metric disk_metrics[] = {
    {"kobs_disk_reads_completed", METRIC_COUNTER, NULL, DISK_READS, 1,
     "Reads completed since boot."},
    {"kobs_disk_reads_merged", METRIC_COUNTER, NULL, DISK_READS_MERGED, 1,
     "Adjacent reads merged into one request since boot."},
    {"kobs_disk_read_bytes", METRIC_COUNTER, "bytes", DISK_READ_SECTORS, SECTOR_BYTES,
     "Bytes read since boot."},
    {"kobs_disk_read_time_seconds", METRIC_COUNTER, "seconds", DISK_READ_MS, -1e3,
     "Time reads took since boot, summed over all reads (overlapping ones each count)."},
    {"kobs_disk_writes_completed", METRIC_COUNTER, NULL, DISK_WRITES, 1,
     "Writes completed since boot."},
    {"kobs_disk_writes_merged", METRIC_COUNTER, NULL, DISK_WRITES_MERGED, 1,
     "Adjacent writes merged into one request since boot."},
    {"kobs_disk_written_bytes", METRIC_COUNTER, "bytes", DISK_WRITE_SECTORS, SECTOR_BYTES,
     "Bytes written since boot."},
    {"kobs_disk_write_time_seconds", METRIC_COUNTER, "seconds", DISK_WRITE_MS, -1e3,
     "Time writes took since boot, summed over all writes (overlapping ones each count)."},
    {"kobs_disk_io_now", METRIC_GAUGE, NULL, DISK_IN_FLIGHT, 1,
     "Requests issued to the device and not yet completed."},
    {"kobs_disk_io_time_seconds", METRIC_COUNTER, "seconds", DISK_IO_MS, -1e3,
     "Time the device had at least one request in flight since boot: its rate is the "
     "utilisation (1 = busy all the time)."},
    {"kobs_disk_io_time_weighted_seconds", METRIC_COUNTER, "seconds", DISK_WEIGHTED_MS, -1e3,
     "Time spent on requests since boot, weighted by how many were in flight: its rate is the "
     "average queue length."},
    {"kobs_disk_discards_completed", METRIC_COUNTER, NULL, DISK_DISCARDS, 1,
     "Discards (TRIM) completed since boot (Linux 4.18 and later)."},
    {"kobs_disk_discards_merged", METRIC_COUNTER, NULL, DISK_DISCARDS_MERGED, 1,
     "Adjacent discards merged into one request since boot."},
    {"kobs_disk_discarded_bytes", METRIC_COUNTER, "bytes", DISK_DISCARD_SECTORS, SECTOR_BYTES,
     "Bytes discarded since boot (node_exporter serves sectors: node_disk_discarded_sectors_total "
     "* 512)."},
    {"kobs_disk_discard_time_seconds", METRIC_COUNTER, "seconds", DISK_DISCARD_MS, -1e3,
     "Time discards took since boot, summed over all discards."},
    {"kobs_disk_flush_requests", METRIC_COUNTER, NULL, DISK_FLUSHES, 1,
     "Cache flush requests completed since boot (Linux 5.5 and later)."},
    {"kobs_disk_flush_requests_time_seconds", METRIC_COUNTER, "seconds", DISK_FLUSH_MS, -1e3,
     "Time flush requests took since boot, summed over all flushes."},
};

struct diskstats_state {
	struct buf file;
	struct name_filter *filter;
	struct named_rows rows; /* this scrape's devices (struct disk_row); each once, by name */
};

static void add_row(const struct disk_row *row, void *arg)
{
	struct diskstats_state *st = arg;
	if (name_filter_accepts(st->filter, row->name))
		named_rows_add(&st->rows, row);
}

static void expose(const struct diskstats_state *st, struct expo *e)
{
	for (size_t m = 0; m < sizeof(disk_metrics) / sizeof(disk_metrics[0]); m++) {
		const struct disk_metric *dm = &disk_metrics[m];
		bool started = false;
		for (size_t i = 0; i < st->rows.count; i++) {
			const struct disk_row *row = named_rows_get(&st->rows, i);
			if ((unsigned)dm->field >= row->nfields)
				continue;
			if (!started)
				expo_family(e, dm->name, dm->type, dm->unit, dm->help);
			started = true;
			struct label device = {"device", row->name};
			double v = (double)row->v[dm->field];
			expo_sample(e, &device, 1, dm->scale > 0 ? v * dm->scale : v / -dm->scale);
		}
	}
}

static int diskstats_collect(void *state, const struct collector_env *env, struct expo *out)
{
	struct diskstats_state *st = state;
	if (procfs_read(env->procfs, "diskstats", &st->file, FILE_LIMIT) < 0) {
		read_errors_count(env->read_errors, "diskstats", read_error_from_errno(errno));
		return -1;
	}
	named_rows_clear(&st->rows);
	if (parse_diskstats(st->file.data, st->file.len, add_row, st) < 0 || st->rows.overflow)
		read_errors_count(env->read_errors, "diskstats", READ_ERROR_PARSE);
	named_rows_unique(&st->rows);
	expose(st, out);
	return 0;
}

static void diskstats_destroy(void *state)
{
	struct diskstats_state *st = state;
	if (!st)
		return;
	buf_free(&st->file);
	name_filter_free(st->filter);
	named_rows_free(&st->rows);
	free(st);
}

static int diskstats_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	struct diskstats_state *st = xcalloc(1, sizeof(*st));
	buf_init(&st->file);
	named_rows_init(&st->rows, sizeof(struct disk_row), offsetof(struct disk_row, name),
	                MAX_DEVICES);
	const struct host_options *h = env->host;
	st->filter =
	    name_filter_new(h ? h->disk_include : NULL, h ? h->disk_exclude : DEFAULT_DISK_EXCLUDE,
	                    "--collector.diskstats.device", why, why_len);
	if (!st->filter)
		goto fail;
	if (procfs_read_at_start(env->procfs, "diskstats", &st->file, FILE_LIMIT, why, why_len) < 0)
		goto fail;
	*state = st;
	return 0;
fail:
	diskstats_destroy(st);
	return -1;
}

const struct collector_ops collector_diskstats = {
    .name = "diskstats",
    .description = "I/O of each block device from /proc/diskstats",
    .default_enabled = true,
    .init = diskstats_init,
    .collect = diskstats_collect,
    .destroy = diskstats_destroy,
};
