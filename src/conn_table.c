#include "conn_table.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

struct conn {
	struct conn *prev, *next;
	int fd;
	int family;                /* AF_INET (IPv4-mapped IPv6 too), AF_INET6, or 0: other */
	unsigned char address[16]; /* the client's, as many bytes as the family has */
	bool waiting;              /* for its request; false while it is answered */
	double since;              /* CLOCK_MONOTONIC seconds the clock started */
	bool counted;              /* against the limits: not closed by its client nor shut down */
	bool shut;                 /* shut down by the table already */
};

struct conn_table {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	bool idle; /* the watcher sleeps until woken: no connection is waiting for its request */
	struct conn_limits limits;
	struct conn *head;   /* the connections, newest first, under the lock */
	size_t counted;      /* how many of them count against the limits */
	struct pollfd *poll; /* scratch for finding connections closed by their clients */
	size_t poll_size;
};

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The client's address, with IPv4-mapped IPv6 addresses (from a dual-stack socket) as IPv4 so
 * that one client is one address whichever socket it came through. */
static void set_address(struct conn *c, const struct sockaddr *peer)
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (peer && peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		c->family = AF_INET;
		memcpy(c->address, &in->sin_addr, 4);
	} else if (peer && peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
		if (memcmp(in6->sin6_addr.s6_addr, v4_mapped, 12) == 0) {
			c->family = AF_INET;
			memcpy(c->address, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			c->family = AF_INET6;
			memcpy(c->address, in6->sin6_addr.s6_addr, 16);
		}
	}
}

static bool same_address(const struct conn *a, const struct conn *b)
{
	return a->family == b->family &&
	       memcmp(a->address, b->address, a->family == AF_INET ? 4 : 16) == 0;
}

/* Called with the lock held: `c` no longer counts against the limits. */
static void uncount(struct conn_table *t, struct conn *c)
{
	if (c->counted) {
		c->counted = false;
		t->counted--;
	}
}

/* Called with the lock held: shut the connection down; the server closes it when it sees. */
static void shut_down(struct conn_table *t, struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->shut = true;
	uncount(t, c);
}

/* Called with the lock held: stop counting the connections (of `like`'s address, or all when
 * NULL) whose clients have closed them. Their sockets still wait for the server to read the end
 * of the stream, which a server busy answering others may take long to do. One poll() for all
 * of them; POLLRDHUP tells a client's close apart from data waiting to be read. */
static void forget_closed_by_clients(struct conn_table *t, const struct conn *like)
{
	size_t n = 0;
	for (struct conn *c = t->head; c; c = c->next)
		n += c->counted && (!like || same_address(c, like));
	if (n == 0)
		return;
	if (n > t->poll_size) {
		free(t->poll);
		t->poll = xcalloc(n, sizeof(*t->poll));
		t->poll_size = n;
	}
	size_t i = 0;
	for (struct conn *c = t->head; c && i < n; c = c->next)
		if (c->counted && (!like || same_address(c, like)))
			t->poll[i++] = (struct pollfd){.fd = c->fd, .events = POLLRDHUP};
	if (poll(t->poll, i, 0) <= 0)
		return;
	i = 0;
	for (struct conn *c = t->head; c && i < n; c = c->next) {
		if (!c->counted || (like && !same_address(c, like)))
			continue;
		if (t->poll[i++].revents & (POLLRDHUP | POLLHUP | POLLERR))
			uncount(t, c);
	}
}

static size_t count_from_address(const struct conn_table *t, const struct conn *like)
{
	size_t n = 0;
	for (const struct conn *c = t->head; c; c = c->next)
		n += c->counted && same_address(c, like);
	return n;
}

/* How many of the connections that have waited longest for their requests make_room weighs. */
#define ROOM_CANDIDATES 16

/* Called with the lock held: close a connection waiting for its request, to make room for a new
 * one. Of the ROOM_CANDIDATES that have waited longest, the one whose address holds the most
 * connections goes (the longest waiting of those): a client flooding the table from a few
 * addresses loses its own connections, never the lone scraper's that is still sending its
 * request. Returns false when every connection is being answered. */
static bool make_room(struct conn_table *t)
{
	struct conn *tail = t->head;
	while (tail && tail->next)
		tail = tail->next;
	struct conn *victim = NULL;
	size_t victim_holds = 0, weighed = 0;
	for (struct conn *c = tail; c && weighed < ROOM_CANDIDATES; c = c->prev) {
		if (!c->counted || !c->waiting)
			continue;
		weighed++;
		size_t holds = count_from_address(t, c);
		if (!victim || holds > victim_holds) {
			victim = c;
			victim_holds = holds;
		}
	}
	if (!victim)
		return false;
	log_debug("%u connections held: closing one from the address that holds most (%zu), "
	          "waiting %.1f s for its request",
	          t->limits.max_connections, victim_holds, monotonic_seconds() - victim->since);
	shut_down(t, victim);
	return true;
}

/* Called with the lock held: put `c` on the clock from now. */
static void start_clock(struct conn_table *t, struct conn *c)
{
	c->waiting = true;
	c->since = monotonic_seconds();
	/* Its deadline is later than any other's, so only an idle watcher needs waking. */
	if (t->idle) {
		t->idle = false;
		pthread_cond_signal(&t->wake);
	}
}

/* Called with the lock held: shut down the connections past their deadline, and return when the
 * next one falls due (0: no connection is waiting for its request). A socket stays open until
 * the server closes it, after conn_table_remove, so its number cannot have been reused. */
static double shut_down_late(struct conn_table *t, double now)
{
	double next = 0;
	double seconds = t->limits.request_seconds;
	for (struct conn *c = t->head; c; c = c->next) {
		if (!c->waiting || c->shut)
			continue;
		double due = c->since + seconds;
		if (due > now) {
			if (next == 0 || due < next)
				next = due;
			continue;
		}
		shut_down(t, c);
		log_debug("closing a connection that did not send a whole request within %u s",
		          t->limits.request_seconds);
	}
	return next;
}

static void *watch(void *arg)
{
	struct conn_table *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		double due = shut_down_late(t, monotonic_seconds());
		t->idle = due == 0;
		if (t->idle) {
			pthread_cond_wait(&t->wake, &t->lock);
			continue;
		}
		struct timespec until;
		until.tv_sec = (time_t)due;
		until.tv_nsec = (long)((due - (double)until.tv_sec) * 1e9);
		pthread_cond_timedwait(&t->wake, &t->lock, &until);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct conn_table *conn_table_start(const struct conn_limits *limits)
{
	struct conn_table *t = xcalloc(1, sizeof(*t));
	t->limits = *limits;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t->thread, NULL, watch, t) != 0) {
		log_error("cannot start the request deadline watcher; slow clients can hold "
		          "connections until --web.timeout of idleness");
		t->stopping = true; /* no thread to join */
	}
	return t;
}

void conn_table_stop(struct conn_table *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	bool running = !t->stopping;
	t->stopping = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	if (running)
		pthread_join(t->thread, NULL);
	while (t->head) {
		struct conn *next = t->head->next;
		free(t->head);
		t->head = next;
	}
	free(t->poll);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct conn *conn_table_admit(struct conn_table *t, int fd, const struct sockaddr *peer)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	set_address(c, peer);
	pthread_mutex_lock(&t->lock);
	if (count_from_address(t, c) >= t->limits.max_per_address) {
		forget_closed_by_clients(t, c);
		if (count_from_address(t, c) >= t->limits.max_per_address)
			goto refuse;
	}
	if (t->counted >= t->limits.max_connections) {
		forget_closed_by_clients(t, NULL);
		if (t->counted >= t->limits.max_connections && !make_room(t))
			goto refuse;
	}
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	c->counted = true;
	t->counted++;
	start_clock(t, c);
	pthread_mutex_unlock(&t->lock);
	return c;
refuse:
	pthread_mutex_unlock(&t->lock);
	shutdown(fd, SHUT_RDWR);
	free(c);
	return NULL;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uncount(t, c);
	pthread_mutex_unlock(&t->lock);
	free(c);
}

void conn_request_received(struct conn_table *t, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	c->waiting = false;
	pthread_mutex_unlock(&t->lock);
}

void conn_request_answered(struct conn_table *t, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	start_clock(t, c);
	pthread_mutex_unlock(&t->lock);
}
