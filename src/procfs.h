/* Reading files below the procfs root (--path.procfs). */
#ifndef KOBS_PROCFS_H
#define KOBS_PROCFS_H

#include "buf.h"

/* Read the whole of `<procfs>/<relpath>` into `out` (reset first; NUL-terminated). Reads until
 * EOF, retrying on EINTR, since /proc files can come in several short reads. At most `limit`
 * bytes are kept. Returns 0, or -1 with errno set. */
int procfs_read(const char *procfs, const char *relpath, struct buf *out, size_t limit);

/* procfs_read for a collector's start: on failure, `why` says which file, why, and what to check
 * (--path.procfs; for a missing system-wide file, systemd's ProcSubset=pid). Returns 0 or -1. */
int procfs_read_at_start(const char *procfs, const char *relpath, struct buf *out, size_t limit,
                         char *why, size_t why_len);

/* The same for `name` relative to an open directory (a /proc/<pid> descriptor). */
int procfs_read_at(int dirfd, const char *name, struct buf *out, size_t limit);
/* The same for a seq_file-backed file (/proc/<pid>/status, io, schedstat, limits): a short read
 * is its end, so a small file costs one read(2). */
int procfs_read_seq_at(int dirfd, const char *name, struct buf *out, size_t limit);

#endif
