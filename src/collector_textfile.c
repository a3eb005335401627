/* The "textfile" collector: metrics that other programs write to the *.prom files of a directory
 * (--collector.textfile.directory), in Prometheus text format, served as node_exporter's textfile
 * collector serves them.
 *
 * Every scrape reads the files anew, in name order; names starting with a dot are left out, as the
 * shell's *.prom leaves them out (write a file under a temporary name, then rename it, so that a
 * scrape never reads half of it). Each file is read as regular_file_read reads a configuration
 * file (a regular file only, without blocking, at most FILE_LIMIT bytes) and checked whole by
 * textfile_parse; a file with any problem is left out and kobs_textfile_scrape_error is 1, while
 * the other files are served. A family may come from one file only, and must not take a name of
 * kobsd's own (kobs_*, process_*): a file that breaks either rule is left out too. */
#include "collector.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"
#include "regular_file.h"
#include "textfile_parse.h"
#include "xalloc.h"

#define FILE_LIMIT (1024 * 1024)
/* What one scrape reads of all files together, and how many files it reads. */
#define READ_LIMIT (16 * 1024 * 1024)
#define FILES_MAX  1024

struct served_file {
	char *path;
	double mtime;
};

struct textfile_state {
	char *dir;
	struct textfile *parser;      /* during a collection only */
	struct textfile_names *names; /* likewise */
	char **files;                 /* this scrape's *.prom names, sorted */
	size_t nfiles, files_cap;
	struct served_file *served;
	size_t nserved, served_cap;
	struct buf help;
	struct buf errors; /* this scrape's problems, each NUL-terminated */
	struct buf logged; /* the last scrape's: a problem is logged when it is new */
	bool failed;
};

/* ---- problems ---- */

static bool logged_before(const struct textfile_state *st, const char *msg)
{
	for (size_t i = 0; i < st->logged.len; i += strlen(st->logged.data + i) + 1)
		if (strcmp(st->logged.data + i, msg) == 0)
			return true;
	return false;
}

static void problem(struct textfile_state *st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A file (or the directory) that is left out of this scrape. Logged once while it lasts. */
static void problem(struct textfile_state *st, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->failed = true;
	buf_append(&st->errors, msg, strlen(msg) + 1);
	if (logged_before(st, msg))
		return;
	struct log_field fields[] = {{"FILE", path}};
	log_event(LOG_LEVEL_WARN, NULL, fields, 1,
	          "textfile: %s; left out (kobs_textfile_scrape_error is 1)", msg);
}

/* ---- the directory ---- */

static bool wanted_name(const char *name)
{
	size_t len = strlen(name);
	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".prom") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void forget_files(struct textfile_state *st)
{
	for (size_t i = 0; i < st->nfiles; i++)
		free(st->files[i]);
	st->nfiles = 0;
}

static void list_files(struct textfile_state *st)
{
	DIR *d = opendir(st->dir);
	if (!d) {
		problem(st, st->dir, "%s: %s%s", st->dir, strerror(errno),
		        errno == EACCES ? " (make the directory readable and searchable to "
		                          "the user kobsd runs as)"
		                        : "");
		return;
	}
	bool too_many = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!wanted_name(de->d_name))
			continue;
		if (st->nfiles == FILES_MAX) {
			too_many = true;
			continue;
		}
		if (st->nfiles == st->files_cap) {
			st->files_cap = st->files_cap ? 2 * st->files_cap : 16;
			st->files = xreallocarray(st->files, st->files_cap, sizeof(*st->files));
		}
		st->files[st->nfiles++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(st->files, st->nfiles, sizeof(*st->files), by_name);
	if (too_many)
		problem(st, st->dir, "%s: more than %d *.prom files; the first %d by name are read",
		        st->dir, FILES_MAX, FILES_MAX);
}

/* ---- one file ---- */

static bool reserved(const char *name)
{
	return strncmp(name, "kobs_", 5) == 0 || strncmp(name, "process_", 8) == 0;
}

/* Whether every family of the parsed file may be served beside those served already. */
static bool fits(struct textfile_state *st, const char *path)
{
	for (size_t i = 0; i < textfile_families(st->parser); i++) {
		const struct textfile_family *f = textfile_family_at(st->parser, i);
		if (reserved(f->name)) {
			problem(st, path,
			        "%s: line %u: %s: the names kobs_* and process_* are kobsd's own",
			        path, f->line, f->name);
			return false;
		}
		size_t owner;
		const char *clash = textfile_names_clash(st->names, f, &owner);
		if (clash) {
			problem(st, path,
			        "%s: line %u: %s: %s is served from %s already (a family comes "
			        "from one file only)",
			        path, f->line, f->name, clash, st->served[owner].path);
			return false;
		}
	}
	return true;
}

static void read_one(struct textfile_state *st, const char *name, size_t *budget, struct expo *out)
{
	char path[4096], err[512];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", st->dir, name) >= sizeof(path)) {
		problem(st, name, "%s/%s: the path is too long", st->dir, name);
		return;
	}
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > 0 && (size_t)sb.st_size > *budget) {
		problem(st, path, "%s: the files read in one scrape reached %d MiB", path,
		        READ_LIMIT / (1024 * 1024));
		return;
	}
	size_t len;
	char *data = regular_file_read_stat(path, *budget < FILE_LIMIT ? *budget : FILE_LIMIT, &len,
	                                    &sb, err, sizeof(err));
	if (!data) {
		problem(st, path, "%s", err);
		return;
	}
	*budget -= len;
	int rc = textfile_parse(st->parser, data, len, err, sizeof(err));
	free(data);
	if (rc < 0) {
		problem(st, path, "%s: %s", path, err);
		return;
	}
	if (!fits(st, path))
		return;
	if (st->nserved == st->served_cap) {
		st->served_cap = st->served_cap ? 2 * st->served_cap : 16;
		st->served = xreallocarray(st->served, st->served_cap, sizeof(*st->served));
	}
	struct served_file *sf = &st->served[st->nserved];
	sf->path = xstrdup(path);
	sf->mtime = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
	for (size_t i = 0; i < textfile_families(st->parser); i++)
		textfile_names_take(st->names, textfile_family_at(st->parser, i), st->nserved);
	st->nserved++;
	buf_reset(&st->help);
	buf_printf(&st->help, "Metric read from %s.", path);
	textfile_expose(st->parser, st->help.data, out);
}

/* ---- the collector ---- */

static void forget_served(struct textfile_state *st)
{
	for (size_t i = 0; i < st->nserved; i++)
		free(st->served[i].path);
	st->nserved = 0;
}

static void textfile_destroy(void *state)
{
	struct textfile_state *st = state;
	if (!st)
		return;
	forget_files(st);
	forget_served(st);
	free(st->files);
	free(st->served);
	free(st->dir);
	textfile_free(st->parser);
	textfile_names_free(st->names);
	buf_free(&st->help);
	buf_free(&st->errors);
	buf_free(&st->logged);
	free(st);
}

static int textfile_init(void **state, const struct collector_env *env, char *why, size_t why_len)
{
	if (!env->textfile_directory) {
		snprintf(why, why_len, "no --collector.textfile.directory=DIR to read");
		return -1;
	}
	struct textfile_state *st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(env->textfile_directory);
	for (size_t n = strlen(st->dir); n > 1 && st->dir[n - 1] == '/'; n--)
		st->dir[n - 1] = '\0';
	buf_init(&st->help);
	buf_init(&st->errors);
	buf_init(&st->logged);
	/* A directory that is not there yet is not a failure: it is read at every scrape. */
	struct stat sb;
	if (stat(st->dir, &sb) < 0)
		snprintf(why, why_len,
		         "reading %s/*.prom; %s: %s (kobs_textfile_scrape_error is 1 "
		         "until it is there)",
		         st->dir, st->dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		snprintf(why, why_len, "reading %s/*.prom; %s is not a directory", st->dir,
		         st->dir);
	else
		snprintf(why, why_len, "reading %s/*.prom", st->dir);
	*state = st;
	return 0;
}

static int textfile_collect(void *state, const struct collector_env *env, struct expo *out)
{
	(void)env;
	struct textfile_state *st = state;
	st->failed = false;
	buf_reset(&st->errors);
	/* Made for each collection and dropped after it: a large file's buffers would otherwise
	 * stay resident between scrapes. */
	st->parser = textfile_new();
	st->names = textfile_names_new();
	list_files(st);
	size_t budget = READ_LIMIT;
	for (size_t i = 0; i < st->nfiles; i++)
		read_one(st, st->files[i], &budget, out);

	expo_family(out, "kobs_textfile_mtime_seconds", METRIC_GAUGE, "seconds",
	            "When each textfile served was last modified, in seconds since the epoch.");
	for (size_t i = 0; i < st->nserved; i++) {
		struct label l = {"file", st->served[i].path};
		expo_sample(out, &l, 1, st->served[i].mtime);
	}
	expo_family(out, "kobs_textfile_scrape_error", METRIC_GAUGE, NULL,
	            "1 when a textfile, or the directory, could not be read or was refused (the "
	            "log says why), 0 otherwise.");
	expo_sample(out, NULL, 0, st->failed);

	/* Remember this scrape's problems, so that only new ones are logged next time. */
	struct buf swap = st->logged;
	st->logged = st->errors;
	st->errors = swap;
	forget_files(st);
	forget_served(st);
	textfile_free(st->parser);
	textfile_names_free(st->names);
	st->parser = NULL;
	st->names = NULL;
	buf_free(&st->help);
	return 0;
}

const struct collector_ops collector_textfile = {
    .name = "textfile",
    .description = "metrics from the *.prom files of --collector.textfile.directory",
    .default_enabled = false,
    .init = textfile_init,
    .collect = textfile_collect,
    .destroy = textfile_destroy,
};
