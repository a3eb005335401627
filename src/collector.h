/* What a collector is. Each collector lives in its own file (collector_NAME.c), defines one
 * `const struct collector_ops`, and is listed once in the registry (collectors.c). */
#ifndef KOBS_COLLECTOR_H
#define KOBS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "expo.h"
#include "host_options.h"
#include "read_errors.h"

/* What collectors may use. Owned by the daemon; the pointers stay valid while it runs. */
struct groups_config;
struct group_link;
struct task_feed;
struct events;

struct collector_env {
	const char *procfs;              /* --path.procfs, without a trailing slash */
	struct read_errors *read_errors; /* files that could not be read, by reason */
	struct groups_config *groups;    /* --config.file's process groups (or the built-in ones);
	                                    used by the collecting thread only */
	struct group_link *link;         /* the process groups as the bpf collector sees them */
	struct task_feed *tasks;         /* the bpf collector's task iterator, if it runs */
	struct events *events;           /* where the bpf collector sends slow events */
	const struct host_options
	    *host; /* --path.sysfs, --path.rootfs, the host collectors' flags */
	const char *textfile_directory; /* --collector.textfile.directory, or NULL */
};

/* What init returns when the collector lacks a privilege it needs, which is how an unprivileged
 * daemon normally runs: `why` says what is missing and how to grant it. The collector is listed
 * as "off: not permitted" unless the command line asked for it, and then as failed. */
#define COLLECTOR_NOT_PERMITTED (-2)

struct collector_ops {
	const char *name;        /* [a-z_]+; used in --collector.NAME and the collector label */
	const char *description; /* one line for --help and the landing page */
	bool default_enabled;
	/* Another collector this one relies on, which runs with it whenever it runs (collect[]
	 * naming this one alone), its samples left out; or NULL. */
	const char *needs;
	/* Prepare the collector. Return 0, or -1 with a one-line reason a user can act on in
	 * `why` (e.g. "/proc/stat: permission denied"); a failed collector is listed as failed.
	 * COLLECTOR_NOT_PERMITTED: see above. */
	int (*init)(void **state, const struct collector_env *env, char *why, size_t why_len);
	/* Append this scrape's samples to `out`. Return 0, or -1 when the collection failed
	 * (whatever was appended stays valid exposition). Runs on one thread at a time. */
	int (*collect)(void *state, const struct collector_env *env, struct expo *out);
	/* A new configuration is in `env` (SIGHUP): forget what depended on the old one. Runs
	 * between collections; may be NULL. */
	void (*reconfigure)(void *state, const struct collector_env *env);
	/* Release what init made; may be NULL. */
	void (*destroy)(void *state);
	/* After a collection: a one-line note on how it collects (the landing page shows it), ""
	 * for none. May be NULL. Runs on the collecting thread. */
	void (*note)(void *state, char *out, size_t len);
};

#endif
