#include "stat_runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"

/* One call. Shared by the caller, the runner's list of overrun calls and the helper thread, each
 * holding a reference; the last one out frees it. */
struct stat_call {
	atomic_uint refs;
	atomic_bool finished; /* set after result and err, with release order */
	struct statvfs result;
	int err;
	char path[];
};

/* One helper thread and what it shares with the runner, under `lock`. Once abandoned, the runner
 * never touches it again and the thread frees it when its call returns. */
struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a call was handed over, or quit */
	pthread_cond_t done; /* the call returned */
	stat_fn fn;
	struct stat_call *call; /* the call being made; NULL when idle */
	bool quit;
	bool abandoned;
};

struct stat_runner {
	stat_fn fn;
	unsigned max_stuck;
	struct worker *worker; /* the helper that is not stuck, or NULL before the first call */
	struct stat_call **overrun; /* a reference to each call whose thread was abandoned */
	unsigned noverrun;
};

static struct stat_call *call_new(const char *path)
{
	size_t len = strlen(path);
	struct stat_call *c = xmalloc(sizeof(*c) + len + 1);
	atomic_init(&c->refs, 1);
	atomic_init(&c->finished, false);
	memset(&c->result, 0, sizeof(c->result));
	c->err = 0;
	memcpy(c->path, path, len + 1);
	return c;
}

static struct stat_call *call_ref(struct stat_call *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void stat_call_release(struct stat_call *c)
{
	if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		free(c);
}

bool stat_call_finished(const struct stat_call *c)
{
	return atomic_load_explicit(&c->finished, memory_order_acquire);
}

static void worker_free(struct worker *w)
{
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->call && !w->quit)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->call)
			break; /* quit */
		struct stat_call *c = w->call;
		pthread_mutex_unlock(&w->lock);

		struct statvfs result;
		int rc = w->fn(c->path, &result);
		int err = rc == 0 ? 0 : errno;

		pthread_mutex_lock(&w->lock);
		c->result = result;
		c->err = err;
		atomic_store_explicit(&c->finished, true, memory_order_release);
		w->call = NULL;
		pthread_cond_signal(&w->done);
		bool abandoned = w->abandoned;
		stat_call_release(c);
		if (abandoned) {
			/* Nobody waits for this thread (it is detached) or looks at `w` any more.
			 */
			pthread_mutex_unlock(&w->lock);
			worker_free(w);
			return NULL;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct worker *worker_start(stat_fn fn)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->fn = fn;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->done, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		worker_free(w);
		return NULL;
	}
	return w;
}

static void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	worker_free(w);
}

struct stat_runner *stat_runner_new(stat_fn fn, unsigned max_stuck)
{
	struct stat_runner *r = xcalloc(1, sizeof(*r));
	r->fn = fn;
	r->max_stuck = max_stuck;
	r->overrun = xcalloc(max_stuck ? max_stuck : 1, sizeof(*r->overrun));
	return r;
}

void stat_runner_free(struct stat_runner *r)
{
	if (!r)
		return;
	if (r->worker)
		worker_stop(r->worker);
	for (unsigned i = 0; i < r->noverrun; i++)
		stat_call_release(r->overrun[i]);
	free(r->overrun);
	free(r);
}

/* Forget the overrun calls that have returned since: their threads are gone. */
static void prune_overrun(struct stat_runner *r)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < r->noverrun; i++) {
		if (stat_call_finished(r->overrun[i]))
			stat_call_release(r->overrun[i]);
		else
			r->overrun[kept++] = r->overrun[i];
	}
	r->noverrun = kept;
}

unsigned stat_runner_stuck(struct stat_runner *r)
{
	prune_overrun(r);
	return r->noverrun;
}

static struct timespec deadline_after(double seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!(seconds > 0))
		seconds = 0;
	if (seconds > 86400)
		seconds = 86400;
	time_t whole = (time_t)seconds;
	long nanos = (long)((seconds - (double)whole) * 1e9);
	ts.tv_sec += whole;
	ts.tv_nsec += nanos;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

enum stat_outcome stat_runner_run(struct stat_runner *r, const char *path, double timeout,
                                  struct statvfs *out, int *err, struct stat_call **overrun)
{
	if (!r->worker) {
		if (stat_runner_stuck(r) >= r->max_stuck)
			return STAT_NO_THREAD;
		r->worker = worker_start(r->fn);
		if (!r->worker)
			return STAT_NO_THREAD;
	}
	struct worker *w = r->worker;
	struct stat_call *c = call_new(path);
	struct timespec deadline = deadline_after(timeout);

	pthread_mutex_lock(&w->lock);
	w->call = call_ref(c);
	pthread_cond_signal(&w->wake);
	int rc = 0;
	while (!stat_call_finished(c) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->done, &w->lock, &deadline);
	bool finished = stat_call_finished(c);
	/* Read under the lock: once abandoned and unlocked, the thread may free `w` at any time. */
	pthread_t thread = w->thread;
	if (!finished)
		w->abandoned = true;
	pthread_mutex_unlock(&w->lock);

	if (finished) {
		*out = c->result;
		*err = c->err;
		stat_call_release(c);
		return STAT_DONE;
	}
	/* The thread is the call's now; the next call gets a new one. */
	pthread_detach(thread);
	r->worker = NULL;
	r->overrun[r->noverrun++] = call_ref(c);
	*overrun = c;
	return STAT_TIMED_OUT;
}
