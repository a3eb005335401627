#include "group_link.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../bpf/kobs_bpf.h"
#include "xalloc.h"

struct group_link {
	pthread_mutex_t lock;
	uint64_t *words; /* NULL until attached */
	size_t pids;
	unsigned ids;

	struct groups_config *config;
	char **names; /* names[i]: id i + 1 */
	size_t nnames, cap;
	unsigned epoch;
	double listed_boot;
};

struct group_link *group_link_new(void)
{
	struct group_link *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void group_link_free(struct group_link *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void group_link_attach(struct group_link *l, uint64_t *words, size_t pids, unsigned ids)
{
	pthread_mutex_lock(&l->lock);
	__atomic_store_n(&l->pids, pids, __ATOMIC_RELAXED);
	l->ids = ids;
	__atomic_store_n(&l->words, words, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->lock);
}

bool group_link_attached(const struct group_link *l)
{
	return __atomic_load_n(&l->words, __ATOMIC_ACQUIRE) != NULL;
}

void group_link_set(struct group_link *l, int pid, unsigned id)
{
	uint64_t *words = __atomic_load_n(&l->words, __ATOMIC_ACQUIRE);
	if (!words || pid < 0 || (size_t)pid >= l->pids)
		return;
	if (id >= l->ids || id > KOBS_MAX_GROUPS)
		id = 0;
	/* Two atomic steps: the kernel and the other collector may write this pid's neighbours,
	 * never this pid at the same moment (it is new, or it just called execve). */
	uint64_t *w = &words[(size_t)pid / KOBS_PIDS_PER_WORD];
	unsigned shift = KOBS_GROUP_BITS * ((unsigned)pid % KOBS_PIDS_PER_WORD);
	__atomic_fetch_and(w, ~((uint64_t)0xffff << shift), __ATOMIC_RELAXED);
	if (id)
		__atomic_fetch_or(w, (uint64_t)id << shift, __ATOMIC_RELAXED);
}

void group_link_publish(struct group_link *l, const char *const *names, size_t n,
                        double listed_boot)
{
	pthread_mutex_lock(&l->lock);
	if (n > l->cap) {
		l->names = xreallocarray(l->names, n, sizeof(*l->names));
		memset(l->names + l->cap, 0, (n - l->cap) * sizeof(*l->names));
		l->cap = n;
	}
	for (size_t i = 0; i < l->cap; i++) {
		const char *want = i < n ? names[i] : NULL;
		if (l->names[i] && want && strcmp(l->names[i], want) == 0)
			continue;
		free(l->names[i]);
		l->names[i] = want ? xstrdup(want) : NULL;
	}
	l->nnames = n;
	l->listed_boot = listed_boot;
	pthread_mutex_unlock(&l->lock);
}

void group_link_reset(struct group_link *l)
{
	pthread_mutex_lock(&l->lock);
	l->epoch++;
	for (size_t i = 0; i < l->cap; i++) {
		free(l->names[i]);
		l->names[i] = NULL;
	}
	l->nnames = 0;
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

size_t group_link_ids(const struct group_link *l)
{
	return l->nnames;
}

const char *group_link_name(const struct group_link *l, unsigned id)
{
	return id >= 1 && id <= l->nnames ? l->names[id - 1] : NULL;
}

unsigned group_link_find(const struct group_link *l, const char *name)
{
	for (size_t i = 0; i < l->nnames; i++)
		if (l->names[i] && strcmp(l->names[i], name) == 0)
			return (unsigned)i + 1;
	return 0;
}

double group_link_listed_boot(const struct group_link *l)
{
	return l->listed_boot;
}
