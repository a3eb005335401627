#include "regular_file.h"

#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

static void describe_limit(size_t limit, char *out, size_t len)
{
	if (limit >= 1024 * 1024 && limit % (1024 * 1024) == 0)
		snprintf(out, len, "%zu MiB", limit / (1024 * 1024));
	else if (limit >= 1024 && limit % 1024 == 0)
		snprintf(out, len, "%zu KiB", limit / 1024);
	else
		snprintf(out, len, "%zu bytes", limit);
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a named pipe (FIFO)";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "of an unknown kind";
}

static bool fail_errno(const char *path, int error, char *err, size_t errlen)
{
	if (error == EACCES) {
		/* Most often a file only root may read, re-read on SIGHUP after the switch to
		 * --run-as: say who could not read it. */
		uid_t uid = geteuid();
		struct passwd pw, *found = NULL;
		char pwbuf[1024];
		const char *name = getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found
		                       ? found->pw_name
		                       : "?";
		snprintf(err, errlen,
		         "%s: %s (kobsd runs as user %s, uid %u: make the file, and the "
		         "directories above it, readable to that user)",
		         path, strerror(error), name, (unsigned)uid);
	} else
		snprintf(err, errlen, "%s: %s", path, strerror(error));
	return false;
}

/* Whether what `st` describes may be read: a regular file no bigger than the limit. */
static bool acceptable(const char *path, const struct stat *st, size_t limit, char *err,
                       size_t errlen)
{
	char shown[32];
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: is %s, not a regular file", path,
		         file_kind(st->st_mode));
		return false;
	}
	if (st->st_size < 0 || (unsigned long long)st->st_size > limit) {
		describe_limit(limit, shown, sizeof(shown));
		snprintf(err, errlen, "%s: is %lld bytes, larger than %s; is this the right file?",
		         path, (long long)st->st_size, shown);
		return false;
	}
	return true;
}

/* Read up to limit + 1 bytes, so that a file that grew past the limit is told from one that
 * just reached it. The size from fstat is only a first guess for the buffer: /proc and sysfs
 * files say 0, and any file may grow while it is read. */
static char *read_bounded(int fd, const char *path, size_t hint, size_t limit, size_t *len,
                          char *err, size_t errlen)
{
	size_t want = hint > 4095 ? hint : 4095;
	size_t cap = (want < limit ? want : limit) + 1, n = 0;
	char *data = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > limit)
				break;
			cap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
			data = xrealloc(data, cap + 1);
		}
		ssize_t got = read(fd, data + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				snprintf(err, errlen,
				         "%s: reading it would wait for more data: it is not an "
				         "ordinary file",
				         path);
			else
				fail_errno(path, errno, err, errlen);
			free(data);
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > limit) {
		char shown[32];
		describe_limit(limit, shown, sizeof(shown));
		snprintf(err, errlen, "%s: grew larger than %s while it was read", path, shown);
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

char *regular_file_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	return regular_file_read_stat(path, limit, len, &st, err, errlen);
}

char *regular_file_read_stat(const char *path, size_t limit, size_t *len, struct stat *out,
                             char *err, size_t errlen)
{
	struct stat st;
	/* Look before opening: opening a device can do something by itself (start a watchdog,
	 * rewind a tape), and opening a FIFO waits for a writer. */
	if (stat(path, &st) < 0) {
		fail_errno(path, errno, err, errlen);
		return NULL;
	}
	if (!acceptable(path, &st, limit, err, errlen))
		return NULL;
	/* The path may name something else by now: O_NONBLOCK keeps open(2) from waiting on a
	 * FIFO put there since, and the descriptor is checked again. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fail_errno(path, errno, err, errlen);
		return NULL;
	}
	char *data = NULL;
	if (fstat(fd, &st) < 0)
		fail_errno(path, errno, err, errlen);
	else if (acceptable(path, &st, limit, err, errlen))
		data = read_bounded(fd, path, (size_t)st.st_size, limit, len, err, errlen);
	close(fd);
	*out = st;
	return data;
}
