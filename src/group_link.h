/* The link between the process groups of the processes collector and the kernel's view of them,
 * so that the bpf collector's histograms speak of the same groups as kobs_group_*.
 *
 * The bpf collector attaches the pid -> group map its programs read (an array of words holding
 * four 16-bit group ids each, mapped into this process, see bpf/kobs_bpf.h). The processes
 * collector writes each new process's group id into it (a group's id is its slot + 1 in the
 * process groups, 0 outside every group), publishes the names of the ids after each collection,
 * and bumps the epoch when a new configuration makes every id mean something else. The bpf
 * collector's exec handler classifies a process the moment it calls execve(), with the same
 * configuration, into a group that already exists.
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

/* The processes collector. */
void group_link_set(struct group_link *l, int pid, unsigned id);
/* The names of ids 1 .. n (names[i] is id i + 1; NULL for an id no group has), and when the
 * collection listed the processes (seconds since boot): a process that started later has not
 * been classified by it. */
void group_link_publish(struct group_link *l, const char *const *names, size_t n,
                        double listed_boot);
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
size_t group_link_ids(const struct group_link *l); /* ids 1 .. group_link_ids() are named */
const char *group_link_name(const struct group_link *l, unsigned id);   /* NULL if none */
unsigned group_link_find(const struct group_link *l, const char *name); /* 0 if none */
double group_link_listed_boot(const struct group_link *l);

#endif
