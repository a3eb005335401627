#include "request_deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

struct request_deadline {
	struct request_deadline *prev, *next;
	int fd;
	bool waiting; /* for the request; false while it is answered */
	double since; /* CLOCK_MONOTONIC seconds the clock started */
	bool expired; /* shut down already */
};

struct request_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	bool idle; /* the watcher sleeps until woken: no connection is waiting for its request */
	double seconds;
	struct request_deadline *head; /* the connections, under the lock */
};

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Called with the lock held: shut down the connections past their deadline, and return when the
 * next one falls due (0: no connection is waiting for its request). A socket stays open until
 * libmicrohttpd closes it, after request_deadline_remove, so its number cannot have been reused
 * meanwhile. */
static double shut_down_late(struct request_deadlines *d, double now)
{
	double next = 0;
	for (struct request_deadline *c = d->head; c; c = c->next) {
		if (!c->waiting || c->expired)
			continue;
		double due = c->since + d->seconds;
		if (due > now) {
			if (next == 0 || due < next)
				next = due;
			continue;
		}
		shutdown(c->fd, SHUT_RDWR);
		c->expired = true;
		log_debug("closing a connection that did not send a whole request within %.0f s",
		          d->seconds);
	}
	return next;
}

/* Called with the lock held: put `c` on the clock from now. */
static void start_clock(struct request_deadlines *d, struct request_deadline *c)
{
	c->waiting = true;
	c->since = monotonic_seconds();
	/* Its deadline is later than any other's, so only an idle watcher needs waking. */
	if (d->idle) {
		d->idle = false;
		pthread_cond_signal(&d->wake);
	}
}

static void *watch(void *arg)
{
	struct request_deadlines *d = arg;
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		double due = shut_down_late(d, monotonic_seconds());
		d->idle = due == 0;
		if (d->idle) {
			pthread_cond_wait(&d->wake, &d->lock);
			continue;
		}
		struct timespec until;
		until.tv_sec = (time_t)due;
		until.tv_nsec = (long)((due - (double)until.tv_sec) * 1e9);
		pthread_cond_timedwait(&d->wake, &d->lock, &until);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct request_deadlines *request_deadlines_start(unsigned seconds)
{
	struct request_deadlines *d = xcalloc(1, sizeof(*d));
	d->seconds = seconds;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&d->thread, NULL, watch, d) != 0) {
		log_error("cannot start the request deadline watcher; slow clients can hold "
		          "connections until --web.timeout of idleness");
		d->stopping = true; /* no thread to join */
	}
	return d;
}

void request_deadlines_stop(struct request_deadlines *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	bool running = !d->stopping;
	d->stopping = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	if (running)
		pthread_join(d->thread, NULL);
	while (d->head) {
		struct request_deadline *next = d->head->next;
		free(d->head);
		d->head = next;
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct request_deadline *request_deadline_add(struct request_deadlines *d, int fd)
{
	struct request_deadline *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	pthread_mutex_lock(&d->lock);
	c->next = d->head;
	if (d->head)
		d->head->prev = c;
	d->head = c;
	start_clock(d, c);
	pthread_mutex_unlock(&d->lock);
	return c;
}

void request_deadline_remove(struct request_deadlines *d, struct request_deadline *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&d->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&d->lock);
	free(c);
}

void request_deadline_received(struct request_deadlines *d, struct request_deadline *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&d->lock);
	c->waiting = false;
	pthread_mutex_unlock(&d->lock);
}

void request_deadline_answered(struct request_deadlines *d, struct request_deadline *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&d->lock);
	start_clock(d, c);
	pthread_mutex_unlock(&d->lock);
}
