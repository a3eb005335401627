/* Counts of /proc files that could not be read, by file and reason; served once per scrape as
 * kobs_procfs_read_errors_total{file,reason}. Only the collecting thread touches it. */
#ifndef KOBS_READ_ERRORS_H
#define KOBS_READ_ERRORS_H

#include "expo.h"

enum read_error_reason {
	READ_ERROR_NOT_FOUND,   /* ENOENT, ESRCH: absent, or the process exited mid-read */
	READ_ERROR_PERMISSION,  /* EACCES, EPERM: needs a capability (see docs/metrics.md) */
	READ_ERROR_UNSUPPORTED, /* EOPNOTSUPP, EINVAL: the kernel has the feature switched off */
	READ_ERROR_IO,          /* any other errno */
	READ_ERROR_PARSE,       /* read, but the content was not understood */
	READ_ERROR__COUNT,
};

struct read_errors;

struct read_errors *read_errors_new(void);
void read_errors_free(struct read_errors *r);
/* Count one failure. `file` is a stable, low-cardinality name such as "stat", "pressure/io" or
 * "pid/io" (never a path with a pid in it). */
void read_errors_count(struct read_errors *r, const char *file, enum read_error_reason reason);
/* The reason an errno stands for. */
enum read_error_reason read_error_from_errno(int err);
const char *read_error_reason_name(enum read_error_reason reason);
/* Append the kobs_procfs_read_errors_total family (every counted pair, never reset). */
void read_errors_expose(const struct read_errors *r, struct expo *out);

#endif
