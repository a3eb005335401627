/* The link between the process groups of the processes collector and the kernel's view of them,
 * so that the bpf collector's histograms speak of the same groups as kobs_group_*.
 *
 * The bpf collector attaches the pid -> group map its programs read (an array of words holding
 * four 16-bit group ids each, mapped into this process, see bpf/kobs_bpf.h). Group ids belong
 * to names, and are given here: the processes collector asks for the id of each new process's
 * group and writes it into the map; the bpf collector's exec handler does the same the moment
 * a process calls execve(), with the same configuration, so that a short-lived process counts
 * in its own group even if it is gone before a scrape lists it. After each collection the
 * processes collector says which groups it has; an id whose group it no longer has, and that
 * no exec has used for the group expiry, is freed, and may later name another group. A new
 * configuration frees every id and bumps the epoch.
 *
 * Writes of the map are atomic per pid, so the kernel (which sets a child's group at fork and
 * clears a process's at exit) and both collectors may write it at once; the names and the
 * configuration are under a lock. */
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

/* The bpf collector: the map's words, for pids 0 .. pids-1; ids at or above `ids` are not
 * written (the map's rows end there). Until attached, writes are dropped. */
void group_link_attach(struct group_link *l, uint64_t *words, size_t pids, unsigned ids);
bool group_link_attached(const struct group_link *l);

/* The id of group `name`, given now if it has none (0 when every id is taken). `exec`: asked
 * for a process that just called execve(), which keeps the id for the group expiry even if the
 * processes collector never sees the group. */
unsigned group_link_id(struct group_link *l, const char *name, bool exec);
void group_link_set(struct group_link *l, int pid, unsigned id);
/* After a collection: the groups the processes collector has (any order), when it listed the
 * processes (seconds since boot: a process that started later has not been classified by it),
 * and the group expiry. Frees the ids of groups that are gone. */
void group_link_publish(struct group_link *l, const char *const *names, size_t n,
                        double listed_boot, double expiry);
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
