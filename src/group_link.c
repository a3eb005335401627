#include "group_link.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bpf/kobs_bpf.h"
#include "xalloc.h"

/* Execs of classified processes kept between two collections; more are dropped (those processes
 * keep their group, as they did before exec events existed). */
#define GROUP_LINK_EXECS 4096
/* Processes whose execs gave new groups their ids, followed until they exit; more are refused. */
#define GROUP_LINK_EXEC_PIDS 65536

/* How many new groups one process's execs have made (group_link_exec_id). */
struct exec_pid {
	int pid;
	unsigned made;
};

struct id_slot {
	char *name;       /* NULL: the id is free */
	double exec_seen; /* steady clock: when an exec last asked for it; 0 never */
};

struct group_link {
	pthread_mutex_t lock;
	pthread_mutex_t map_lock; /* a word of the map is read, changed and written under it */
	struct group_link_map map;
	bool attached;
	size_t pids;
	unsigned ids; /* ids 1 .. ids-1 may be given */

	struct groups_config *config;
	struct id_slot *slots; /* slots[i]: id i + 1 */
	size_t nslots;
	unsigned epoch;
	double listed_boot;
	int execs[GROUP_LINK_EXECS]; /* group_link_exec() since the last take */
	size_t nexecs;
	struct exec_pid *exec_pids; /* sorted by pid */
	size_t nexec_pids, exec_pids_cap;
	uint64_t exec_refused;
};

static double steady_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct group_link *group_link_new(void)
{
	struct group_link *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->map_lock, NULL);
	return l;
}

static void free_ids(struct group_link *l)
{
	for (size_t i = 0; i < l->nslots; i++)
		free(l->slots[i].name);
	free(l->slots);
	l->slots = NULL;
	l->nslots = 0;
}

void group_link_free(struct group_link *l)
{
	if (!l)
		return;
	free_ids(l);
	free(l->exec_pids);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->map_lock);
	free(l);
}

void group_link_attach(struct group_link *l, const struct group_link_map *map, size_t pids,
                       unsigned ids)
{
	pthread_mutex_lock(&l->map_lock);
	pthread_mutex_lock(&l->lock);
	l->attached = map != NULL;
	l->map = map ? *map : (struct group_link_map){0};
	l->pids = map ? pids : 0;
	/* The rows of the kernel's maps end at `ids`: the slots do too. */
	free_ids(l);
	if (map && ids > 1) {
		l->nslots = ids - 1;
		l->slots = xcalloc(l->nslots, sizeof(*l->slots));
	}
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_unlock(&l->map_lock);
}

bool group_link_attached(const struct group_link *l)
{
	return l->attached;
}

/* The id of `name`, given now if it has none and `may_give`; 0 otherwise. Under the lock. */
static unsigned id_of(struct group_link *l, const char *name, bool may_give)
{
	unsigned id = group_link_find(l, name);
	if (id || !may_give)
		return id;
	for (size_t i = 0; i < l->nslots; i++) {
		if (!l->slots[i].name) {
			l->slots[i] = (struct id_slot){.name = xstrdup(name)};
			return (unsigned)i + 1;
		}
	}
	return 0;
}

unsigned group_link_id(struct group_link *l, const char *name)
{
	pthread_mutex_lock(&l->lock);
	unsigned id = id_of(l, name, true);
	pthread_mutex_unlock(&l->lock);
	return id;
}

/* Where `pid` is in the sorted exec_pids, or would go. */
static size_t exec_pid_at(const struct group_link *l, int pid)
{
	size_t lo = 0, hi = l->nexec_pids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->exec_pids[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

unsigned group_link_exec_id(struct group_link *l, int pid, const char *name)
{
	pthread_mutex_lock(&l->lock);
	unsigned id = id_of(l, name, false);
	if (!id) {
		size_t at = exec_pid_at(l, pid);
		bool known = at < l->nexec_pids && l->exec_pids[at].pid == pid;
		unsigned made = known ? l->exec_pids[at].made : 0;
		if (made < GROUP_LINK_EXEC_GROUPS_PER_PID &&
		    (known || l->nexec_pids < GROUP_LINK_EXEC_PIDS))
			id = id_of(l, name, true);
		if (!id) {
			l->exec_refused++;
		} else if (known) {
			l->exec_pids[at].made++;
		} else {
			if (l->nexec_pids == l->exec_pids_cap) {
				l->exec_pids_cap = l->exec_pids_cap ? 2 * l->exec_pids_cap : 64;
				l->exec_pids = xreallocarray(l->exec_pids, l->exec_pids_cap,
				                             sizeof(*l->exec_pids));
			}
			memmove(&l->exec_pids[at + 1], &l->exec_pids[at],
			        (l->nexec_pids - at) * sizeof(*l->exec_pids));
			l->exec_pids[at] = (struct exec_pid){pid, 1};
			l->nexec_pids++;
		}
	}
	if (id)
		l->slots[id - 1].exec_seen = steady_now();
	pthread_mutex_unlock(&l->lock);
	return id;
}

void group_link_exit(struct group_link *l, int pid)
{
	pthread_mutex_lock(&l->lock);
	size_t at = exec_pid_at(l, pid);
	if (at < l->nexec_pids && l->exec_pids[at].pid == pid) {
		memmove(&l->exec_pids[at], &l->exec_pids[at + 1],
		        (l->nexec_pids - at - 1) * sizeof(*l->exec_pids));
		l->nexec_pids--;
	}
	pthread_mutex_unlock(&l->lock);
	group_link_set(l, pid, 0);
}

uint64_t group_link_exec_refused(struct group_link *l)
{
	pthread_mutex_lock(&l->lock);
	uint64_t n = l->exec_refused;
	pthread_mutex_unlock(&l->lock);
	return n;
}

void group_link_set(struct group_link *l, int pid, unsigned id)
{
	pthread_mutex_lock(&l->map_lock);
	if (l->attached && pid >= 0 && (size_t)pid < l->pids) {
		if (id > KOBS_MAX_GROUPS)
			id = 0;
		uint32_t word = (uint32_t)pid / KOBS_PIDS_PER_WORD;
		unsigned shift = KOBS_GROUP_BITS * ((unsigned)pid % KOBS_PIDS_PER_WORD);
		uint64_t w;
		if (l->map.read(l->map.ctx, word, &w) == 0) {
			uint64_t now = (w & ~((uint64_t)0xffff << shift)) | ((uint64_t)id << shift);
			if (now != w)
				l->map.write(l->map.ctx, word, now);
		}
	}
	pthread_mutex_unlock(&l->map_lock);
}

unsigned group_link_get(struct group_link *l, int pid)
{
	unsigned id = 0;
	pthread_mutex_lock(&l->map_lock);
	uint64_t w;
	if (l->attached && pid >= 0 && (size_t)pid < l->pids &&
	    l->map.read(l->map.ctx, (uint32_t)pid / KOBS_PIDS_PER_WORD, &w) == 0)
		id = (unsigned)(w >> (KOBS_GROUP_BITS * ((unsigned)pid % KOBS_PIDS_PER_WORD))) &
		     0xffff;
	pthread_mutex_unlock(&l->map_lock);
	return id;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void group_link_publish(struct group_link *l, const char *const *names, size_t n,
                        double listed_boot, double expiry)
{
	const char **sorted = xreallocarray(NULL, n ? n : 1, sizeof(*sorted));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (names[i])
			sorted[m++] = names[i];
	qsort(sorted, m, sizeof(*sorted), by_name);
	double now = steady_now();
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->nslots; i++) {
		struct id_slot *s = &l->slots[i];
		if (!s->name || bsearch(&s->name, sorted, m, sizeof(*sorted), by_name))
			continue;
		if (s->exec_seen > 0 && now - s->exec_seen < expiry)
			continue;
		free(s->name);
		s->name = NULL;
	}
	l->listed_boot = listed_boot;
	pthread_mutex_unlock(&l->lock);
	free(sorted);
}

void group_link_exec(struct group_link *l, int pid)
{
	pthread_mutex_lock(&l->lock);
	if (l->nexecs < GROUP_LINK_EXECS)
		l->execs[l->nexecs++] = pid;
	pthread_mutex_unlock(&l->lock);
}

static int by_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

size_t group_link_take_execs(struct group_link *l, int *pids, size_t max)
{
	pthread_mutex_lock(&l->lock);
	size_t n = l->nexecs < max ? l->nexecs : max;
	memcpy(pids, l->execs, n * sizeof(*pids));
	l->nexecs = 0;
	pthread_mutex_unlock(&l->lock);
	qsort(pids, n, sizeof(*pids), by_pid);
	return n;
}

void group_link_reset(struct group_link *l)
{
	pthread_mutex_lock(&l->lock);
	l->epoch++;
	for (size_t i = 0; i < l->nslots; i++) {
		free(l->slots[i].name);
		l->slots[i] = (struct id_slot){0};
	}
	l->nexec_pids = 0;
	pthread_mutex_unlock(&l->lock);
}

void group_link_set_config(struct group_link *l, struct groups_config *c)
{
	pthread_mutex_lock(&l->lock);
	l->config = c;
	pthread_mutex_unlock(&l->lock);
}

bool group_link_match(struct group_link *l, const struct proc_identity *id, struct group_match *m,
                      struct buf *name)
{
	pthread_mutex_lock(&l->lock);
	bool matched = l->config && groups_config_match(l->config, id, m, name);
	pthread_mutex_unlock(&l->lock);
	return matched;
}

void group_link_lock(struct group_link *l)
{
	pthread_mutex_lock(&l->lock);
}

void group_link_unlock(struct group_link *l)
{
	pthread_mutex_unlock(&l->lock);
}

unsigned group_link_epoch(const struct group_link *l)
{
	return l->epoch;
}

const char *group_link_name(const struct group_link *l, unsigned id)
{
	return id >= 1 && id <= l->nslots ? l->slots[id - 1].name : NULL;
}

double group_link_listed_boot(const struct group_link *l)
{
	return l->listed_boot;
}

unsigned group_link_find(const struct group_link *l, const char *name)
{
	for (size_t i = 0; i < l->nslots; i++)
		if (l->slots[i].name && strcmp(l->slots[i].name, name) == 0)
			return (unsigned)i + 1;
	return 0;
}
