/* The link between the process groups of the processes collector and the kernel's view of them,
 * so that the bpf collector's histograms speak of the same groups as kobs_group_*.
 *
 * The bpf collector attaches the pid -> group map its programs read (an array of words holding
 * four 16-bit group ids each, see bpf/kobs_bpf.h), through two calls that read and write one of
 * its words. Group ids belong to names, and are given here: the processes collector asks for the
 * id of each new process's group and writes it into the map; the bpf collector does the same
 * for the kernel's fork, exec and exit events between two scrapes (a child takes its parent's
 * group, a process that calls execve() is classified at once with the same configuration, so
 * that a short-lived process counts in its own group even if it is gone before a scrape lists
 * it). After each collection the processes collector says which groups it has; an id whose
 * group it no longer has, and that no exec has used for the group expiry, is freed, and may
 * later name another group. A new
 * configuration frees every id and bumps the epoch.
 *
 * Only this file writes the map, a word at a time under a lock, so that the four pids of a word
 * never overwrite each other; the names and the configuration are under a lock too. */
#ifndef KOBS_GROUP_LINK_H
#define KOBS_GROUP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "groups_config.h"

struct group_link;

struct group_link *group_link_new(void);
void group_link_free(struct group_link *l);

/* How to reach the kernel's pid -> group map: read and write one word. */
struct group_link_map {
	void *ctx;
	int (*read)(void *ctx, uint32_t word, uint64_t *value);
	int (*write)(void *ctx, uint32_t word, uint64_t value);
};

/* The bpf collector: the map, for pids 0 .. pids-1, with group ids 1 .. ids-1 (the rows of its
 * histograms end there). Until attached, nothing is written and no id is given; NULL detaches. */
void group_link_attach(struct group_link *l, const struct group_link_map *map, size_t pids,
                       unsigned ids);
bool group_link_attached(const struct group_link *l);

/* The id of group `name`, given now if it has none (0 when every id is taken). */
unsigned group_link_id(struct group_link *l, const char *name);
/* The same for process `pid`, which just called execve() and now matches group `name`: the id is
 * kept for the group expiry even if the processes collector never sees the group. A process may
 * so give ids to at most GROUP_LINK_EXEC_GROUPS_PER_PID new groups in its life (until
 * group_link_exit), so that one that execs itself under ever new names cannot take every id: past
 * that, a name without an id gets 0 (ungrouped), and the refusal is counted. */
#define GROUP_LINK_EXEC_GROUPS_PER_PID 4
unsigned group_link_exec_id(struct group_link *l, int pid, const char *name);
/* `pid` exited: it leaves the map, and its count of new groups is forgotten. */
void group_link_exit(struct group_link *l, int pid);
/* Names group_link_exec_id() refused an id since the start. */
uint64_t group_link_exec_refused(struct group_link *l);
void group_link_set(struct group_link *l, int pid, unsigned id);
/* The group id the map holds for `pid` (0 when none, or not attached). */
unsigned group_link_get(struct group_link *l, int pid);
/* After a collection: the groups the processes collector has (any order), when it listed the
 * processes (seconds since boot: a process that started later has not been classified by it),
 * and the group expiry. Frees the ids of groups that are gone. */
void group_link_publish(struct group_link *l, const char *const *names, size_t n,
                        double listed_boot, double expiry);
/* The bpf collector: `pid`, which the processes collector had already classified, called
 * execve(); the next collection classifies it again, by its new name. */
void group_link_exec(struct group_link *l, int pid);
/* The processes collector: the pids of group_link_exec() since the last call, sorted, at most
 * `max` (the rest are dropped, and keep their group). Returns how many. */
size_t group_link_take_execs(struct group_link *l, int *pids, size_t max);
/* Every id changes meaning (a new configuration); the bpf collector forgets what it counted. */
void group_link_reset(struct group_link *l);

/* The configuration in force; scrape.c sets it, and frees the old one after this returns. */
void group_link_set_config(struct group_link *l, struct groups_config *c);
/* groups_config_match() on the configuration in force, serialised with every other match. */
bool group_link_match(struct group_link *l, const struct proc_identity *id, struct group_match *m,
                      struct buf *name);

/* Readers. Between lock and unlock the names stay as they are. */
void group_link_lock(struct group_link *l);
void group_link_unlock(struct group_link *l);
unsigned group_link_epoch(const struct group_link *l);
const char *group_link_name(const struct group_link *l, unsigned id);   /* NULL if none */
unsigned group_link_find(const struct group_link *l, const char *name); /* 0 if none */
double group_link_listed_boot(const struct group_link *l);

#endif
