#include "read_errors.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The file names are a small fixed vocabulary chosen by the collectors, so a short linear table
 * is enough; anything past it is folded into one overflow row rather than growing without bound. */
#define READ_ERRORS_MAX_FILES 48
#define FILE_NAME_MAX         32

struct read_errors_row {
	char file[FILE_NAME_MAX];
	uint64_t count[READ_ERROR__COUNT];
};

struct read_errors {
	struct read_errors_row rows[READ_ERRORS_MAX_FILES];
	size_t nrows;
};

static const char *const reason_names[READ_ERROR__COUNT] = {
    [READ_ERROR_NOT_FOUND] = "not_found",     [READ_ERROR_PERMISSION] = "permission_denied",
    [READ_ERROR_UNSUPPORTED] = "unsupported", [READ_ERROR_IO] = "io_error",
    [READ_ERROR_PARSE] = "parse_error",
};

struct read_errors *read_errors_new(void)
{
	return xcalloc(1, sizeof(struct read_errors));
}

void read_errors_free(struct read_errors *r)
{
	free(r);
}

static struct read_errors_row *find_row(struct read_errors *r, const char *file)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (strncmp(r->rows[i].file, file, FILE_NAME_MAX - 1) == 0)
			return &r->rows[i];
	return NULL;
}

static struct read_errors_row *row_for(struct read_errors *r, const char *file)
{
	struct read_errors_row *row = find_row(r, file);
	if (row)
		return row;
	/* The last slot is kept for "other", so no row ever changes its name. */
	if (r->nrows >= READ_ERRORS_MAX_FILES - 1) {
		row = find_row(r, "other");
		if (row)
			return row;
		file = "other";
	}
	row = &r->rows[r->nrows++];
	strncpy(row->file, file, FILE_NAME_MAX - 1);
	row->file[FILE_NAME_MAX - 1] = '\0';
	return row;
}

void read_errors_count(struct read_errors *r, const char *file, enum read_error_reason reason)
{
	if ((unsigned)reason >= READ_ERROR__COUNT)
		reason = READ_ERROR_IO;
	row_for(r, file)->count[reason]++;
}

enum read_error_reason read_error_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ESRCH:
		return READ_ERROR_NOT_FOUND;
	case EACCES:
	case EPERM:
		return READ_ERROR_PERMISSION;
	case EOPNOTSUPP:
	case EINVAL:
		return READ_ERROR_UNSUPPORTED;
	default:
		return READ_ERROR_IO;
	}
}

const char *read_error_reason_name(enum read_error_reason reason)
{
	return (unsigned)reason < READ_ERROR__COUNT ? reason_names[reason] : "io_error";
}

void read_errors_expose(const struct read_errors *r, struct expo *out)
{
	expo_family(out, "kobs_procfs_read_errors", METRIC_COUNTER, NULL,
	            "Files below --path.procfs that could not be read, by file and reason. "
	            "permission_denied on pid/io or pid/fd means the daemon lacks CAP_SYS_PTRACE "
	            "or CAP_DAC_READ_SEARCH for other users' processes.");
	for (size_t i = 0; i < r->nrows; i++) {
		for (int reason = 0; reason < READ_ERROR__COUNT; reason++) {
			if (!r->rows[i].count[reason])
				continue;
			struct label labels[] = {
			    {"file", r->rows[i].file},
			    {"reason", reason_names[reason]},
			};
			expo_sample(out, labels, 2, (double)r->rows[i].count[reason]);
		}
	}
}
