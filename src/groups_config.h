/* Process groups: the `process_names` list and the `processes` settings of --config.file.
 *
 * `process_names` reads process-exporter's config files unchanged. Each entry has matchers and a
 * `name` template; an entry matches when every matcher it lists matches, and the first matching
 * entry names the group:
 *   comm:    exact command names (the kernel's 15-byte comm); any one matches
 *   exe:     argv[0] names: an entry with a '/' must equal argv[0], one without must equal
 *            argv[0]'s base name; any one matches
 *   cmdline: regular expressions (PCRE2) on the command line joined with spaces; all must match;
 *            their named groups feed {{.Matches.NAME}}
 * kobsd adds `cgroup` (regular expressions on the cgroup v2 path; any one matches; named groups
 * feed {{.Matches.NAME}} too), `unit` (systemd unit names, shell globs; any one matches), `user`
 * (user names or numeric uids of the effective user; any one matches), `per_process` (serve the
 * entry's processes one by one as well), `children` (processes without a match of their own
 * join the group of their nearest grouped ancestor; on by default), `threads` (series by thread
 * name) and `wchan` (sleeping threads by wait channel); the last two need the bpf collector's
 * task iterator.
 *
 * Name templates are the subset of Go's text/template that process-exporter configs use:
 * {{.Comm}}, {{.ExeBase}}, {{.ExeFull}}, {{.Username}}, {{.PID}}, {{.StartTime}}, {{.Cgroups}},
 * {{.Matches.NAME}}, {{index .Matches "NAME"}}, and kobsd's {{.Unit}} and {{.Cgroup}}.
 *
 * The `processes` mapping holds the collector's settings (see struct groups_settings).
 * docs/configuration.md is the user's reference. */
#ifndef KOBS_GROUPS_CONFIG_H
#define KOBS_GROUPS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* What classification sees of a process; read once per process lifetime. Strings are
 * NUL-terminated and may hold any bytes (invalid UTF-8 included); NULL when unknown. */
struct proc_identity {
	int pid;
	int ppid;          /* the parent's pid; 0 when unknown */
	double start_time; /* seconds since the epoch */
	const char *comm;
	const char *const *argv; /* the command line split at its NULs; NULL when argc is 0 */
	size_t argc;             /* 0 for kernel threads and zombies */
	const char *cgroup;      /* cgroup v2 path such as "/system.slice/ssh.service" */
	const char *unit;        /* systemd unit such as "ssh.service" */
	const char *user;        /* name of the effective user; NULL when the uid has none */
	unsigned uid;            /* effective uid */
};

/* The collector's settings, from the `processes` mapping; every key is optional. */
struct groups_settings {
	unsigned per_process_limit;    /* per_process_limit: most processes served one by one
	                                  (default 100) */
	unsigned group_limit;          /* group_limit: most groups served (default 1000) */
	unsigned group_expiry_seconds; /* group_expiry: how long a group without processes keeps
	                                  its series and counters (default 300; "5m", "300s", "1h"
	                                  or a number of seconds) */
	bool children;                 /* children: the default of the entries' `children` (true) */
	unsigned thread_limit;         /* thread_limit: most (group, thread name) series of the
	                                  entries with threads: true (default 1000) */
};

/* The `bpf` mapping: what the eBPF collector runs. Every key is optional. */
#define GROUPS_BPF_PROGRAMS 8
#define GROUPS_BPF_SYSCALLS 16
/* The programs' names, in the order of the bits of `programs`. */
extern const char *const groups_bpf_program_names[GROUPS_BPF_PROGRAMS];

struct groups_bpf {
	unsigned programs; /* programs: bit i for program i (all by default) */
	const char *syscalls[GROUPS_BPF_SYSCALLS]; /* syscalls: the names timed */
	int syscall_nrs[GROUPS_BPF_SYSCALLS];      /* and their numbers on this architecture */
	size_t nsyscalls;
	const char *ungrouped; /* ungrouped: the group label of processes outside every group
	                          ("ungrouped"), or NULL (`false`) to leave them out */
};

/* What a match says about the process. */
struct group_match {
	size_t entry;     /* index of the matching process_names entry */
	bool per_process; /* the entry has per_process: true */
	bool children;    /* the entry's children join its group */
	bool threads;     /* the entry has threads: true (series by thread name) */
	bool wchan;       /* the entry has wchan: true (sleeping threads by wait channel) */
};

struct groups_config;

/* Read and check a config file. Returns 0, or -1 with "FILE:LINE:COLUMN: what is wrong" (or
 * "FILE: what is wrong" when no position applies) in `err`. Unknown keys are errors, so that a
 * typo does not silently change what is measured. */
int groups_config_load(const char *path, struct groups_config **out, char *err, size_t errlen);
/* The same for text already in memory; `name` stands for the file in messages. */
int groups_config_parse(const char *name, const char *text, size_t len, struct groups_config **out,
                        char *err, size_t errlen);
/* The built-in configuration, used without --config.file (and for a file without
 * process_names): kernel threads in one group `kernel`, then one group per command name
 * (`name: "{{.Comm}}"` matching every other process); default settings. A kernel thread is
 * kthreadd (pid 2) or a child of it, with an empty command line: the kernel starts every kernel
 * thread from kthreadd, and no kernel thread has a command line, which also keeps an ordinary
 * process that happens to be pid 2 (in a pid namespace) out of the group. */
struct groups_config *groups_config_default(void);
void groups_config_free(struct groups_config *c);

/* True when both were made from the same text (a reload that changes nothing). */
bool groups_config_same(const struct groups_config *a, const struct groups_config *b);
const struct groups_settings *groups_config_settings(const struct groups_config *c);
size_t groups_config_entries(const struct groups_config *c);
const struct groups_bpf *groups_config_bpf(const struct groups_config *c);
/* The number of syscall `name` on this architecture, or -1. */
int groups_syscall_number(const char *name);

/* Find the first entry that matches `p`. On a match, fill `m`, write the expanded group name to
 * `name` (reset first; any bytes; never empty: an empty expansion names the group "unnamed";
 * cut to 255 bytes) and return true; return false when no entry matches. Uses scratch memory
 * kept in `c`, so one thread at a time. */
bool groups_config_match(struct groups_config *c, const struct proc_identity *p,
                         struct group_match *m, struct buf *name);

#endif
