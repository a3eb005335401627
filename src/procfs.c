#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Read all of an open file into `out`; closes `fd`. With `short_is_end`, a read that returns
 * less than asked is taken as the end, which saves the second read(2) that would return 0: true
 * of /proc's seq_file files, which fill the buffer unless they reach their end. */
static int read_whole(int fd, struct buf *out, size_t limit, bool short_is_end)
{
	buf_reset(out);
	int ret = -1;
	for (;;) {
		if (out->len >= limit)
			break;
		size_t want = limit - out->len < 4096 ? limit - out->len : 4096;
		buf_reserve(out, want);
		ssize_t got = read(fd, out->data + out->len, want);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		if (short_is_end && (size_t)got < want)
			break;
	}
	buf_reserve(out, 0);
	out->data[out->len] = '\0';
	ret = 0;
out:;
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int procfs_read(const char *procfs, const char *relpath, struct buf *out, size_t limit)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", procfs, relpath);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf_reset(out);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	return read_whole(fd, out, limit, false);
}

int procfs_read_at_start(const char *procfs, const char *relpath, struct buf *out, size_t limit,
                         char *why, size_t why_len)
{
	if (procfs_read(procfs, relpath, out, limit) == 0)
		return 0;
	int err = errno;
	char msg[128];
	/* ProcSubset=pid leaves only the /proc/<pid> directories (and self). */
	bool subset = err == ENOENT && strncmp(relpath, "self/", 5) != 0;
	snprintf(why, why_len, "%s/%s: %s — is --path.procfs right?%s", procfs, relpath,
	         strerror_r(err, msg, sizeof(msg)),
	         subset ? " (systemd's ProcSubset=pid hides it)" : "");
	return -1;
}

int procfs_read_at(int dirfd, const char *name, struct buf *out, size_t limit)
{
	buf_reset(out);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	return read_whole(fd, out, limit, false);
}

int procfs_read_seq_at(int dirfd, const char *name, struct buf *out, size_t limit)
{
	buf_reset(out);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	return read_whole(fd, out, limit, true);
}
