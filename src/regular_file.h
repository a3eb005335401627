/* Reading the files a user names (--config.file, --web.config.file and the certificate, key and
 * CA files it names) without ever blocking on them: whatever the path turns out to be (a FIFO, a
 * device, a directory, a file that keeps growing), the read ends at once with a message naming
 * the file. */
#ifndef KOBS_REGULAR_FILE_H
#define KOBS_REGULAR_FILE_H

#include <stddef.h>

/* Read all of `path`, which must be a regular file (symbolic links are followed) of at most
 * `limit` bytes. Returns a heap buffer the caller frees, NUL-terminated after its `*len` bytes
 * (the file itself may hold NUL bytes), or NULL with "PATH: what is wrong" in `err`. */
char *regular_file_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen);

struct stat;
/* The same, with what fstat said of the file that was read in `*st` (its mtime, say). */
char *regular_file_read_stat(const char *path, size_t limit, size_t *len, struct stat *st,
                             char *err, size_t errlen);

#endif
