#include "event_stream.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "xalloc.h"

/* What libmicrohttpd takes from a stream at a time. */
#define BLOCK_SIZE 4096

struct stream {
	struct event_streams *set;
	struct MHD_Connection *c;
	const void *owner;
	uint64_t next;      /* the id of the next event to send */
	bool started;       /* the preamble is out */
	bool suspended;     /* by the reader, until resumed by claim() */
	bool ending;        /* send what is pending, then end */
	double last_write;  /* CLOCK_MONOTONIC seconds */
	struct buf pending; /* produced, not yet handed to libmicrohttpd */
	size_t sent;        /* of `pending` */
	struct stream *prev, *next_stream;
};

struct event_streams {
	pthread_mutex_t lock; /* the list and every stream's fields */
	struct events *events;
	unsigned max;
	size_t n;
	struct stream *head;
};

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resume the suspended streams among `claimed` (n of them). Called without the lock: a stream
 * the lock saw suspended stays so, and alive, until it is resumed here, since libmicrohttpd
 * neither reads from nor closes a suspended connection. */
static void resume_all(struct MHD_Connection **claimed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(claimed[i]);
}

/* Under the lock: take the suspended streams that `pick` wants to wake, into `out` (room for
 * set->n). */
static size_t claim(struct event_streams *set, bool (*pick)(const struct stream *, const void *),
                    const void *arg, struct MHD_Connection **out)
{
	size_t n = 0;
	for (struct stream *s = set->head; s; s = s->next_stream) {
		if (pick && !pick(s, arg))
			continue;
		if (s->suspended) {
			s->suspended = false;
			out[n++] = s->c;
		}
	}
	return n;
}

/* Wake the streams `pick` chooses (NULL: all), after marking them as `end` says. */
static void wake(struct event_streams *set, bool (*pick)(const struct stream *, const void *),
                 const void *arg, bool end)
{
	pthread_mutex_lock(&set->lock);
	if (end)
		for (struct stream *s = set->head; s; s = s->next_stream)
			if (!pick || pick(s, arg))
				s->ending = true;
	struct MHD_Connection **claimed = set->n ? xcalloc(set->n, sizeof(*claimed)) : NULL;
	size_t n = claimed ? claim(set, pick, arg, claimed) : 0;
	pthread_mutex_unlock(&set->lock);
	resume_all(claimed, n);
	free(claimed);
}

static void on_published(void *arg)
{
	wake(arg, NULL, NULL, false);
}

struct event_streams *event_streams_new(struct events *events, unsigned max_streams)
{
	struct event_streams *set = xcalloc(1, sizeof(*set));
	pthread_mutex_init(&set->lock, NULL);
	set->events = events;
	set->max = max_streams;
	events_set_listener(events, on_published, set);
	return set;
}

void event_streams_free(struct event_streams *set)
{
	if (!set)
		return;
	events_set_listener(set->events, NULL, NULL);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

/* Fill s->pending with what is to be sent next, if anything. Under the lock. */
static void produce(struct stream *s, size_t room)
{
	struct buf *out = &s->pending;
	buf_reset(out);
	s->sent = 0;
	if (!s->started) {
		/* A comment first, so that a client sees the stream open at once; then how soon
		 * to reconnect when it ends. */
		buf_puts(out, ": kobsd slow events\nretry: 1000\n\n");
		s->started = true;
	}
	if (s->ending)
		return;
	uint64_t missed = 0;
	events_read(s->set->events, &s->next, out, room, &missed);
	if (missed) {
		/* Before the events that follow the gap: they were read already, so put it first.
		 */
		struct buf gap;
		buf_init(&gap);
		buf_printf(&gap, "event: gap\ndata: {\"missed\":%llu}\n\n",
		           (unsigned long long)missed);
		buf_append(&gap, out->data, out->len);
		buf_reset(out);
		buf_append(out, gap.data, gap.len);
		buf_free(&gap);
	}
	if (out->len == 0 && monotonic_seconds() - s->last_write >= EVENT_STREAM_HEARTBEAT_SECONDS)
		buf_puts(out, ": heartbeat\n\n");
}

static ssize_t read_stream(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	pthread_mutex_lock(&s->set->lock);
	if (s->sent >= s->pending.len)
		produce(s, max > BLOCK_SIZE ? max : BLOCK_SIZE);
	size_t left = s->pending.len - s->sent;
	if (left == 0) {
		if (s->ending) {
			pthread_mutex_unlock(&s->set->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		/* Nothing to send: step aside until an event, the heartbeat or the end. */
		s->suspended = true;
		MHD_suspend_connection(s->c);
		pthread_mutex_unlock(&s->set->lock);
		return 0;
	}
	size_t n = left < max ? left : max;
	memcpy(dst, s->pending.data + s->sent, n);
	s->sent += n;
	s->last_write = monotonic_seconds();
	pthread_mutex_unlock(&s->set->lock);
	return (ssize_t)n;
}

static void free_stream(void *cls)
{
	struct stream *s = cls;
	struct event_streams *set = s->set;
	pthread_mutex_lock(&set->lock);
	if (s->prev)
		s->prev->next_stream = s->next_stream;
	else
		set->head = s->next_stream;
	if (s->next_stream)
		s->next_stream->prev = s->prev;
	set->n--;
	pthread_mutex_unlock(&set->lock);
	buf_free(&s->pending);
	free(s);
}

/* The id after the client's Last-Event-ID, or 0 when it sent none that reads as a number. */
static uint64_t resume_from(struct MHD_Connection *c)
{
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	if (!last || !*last || strlen(last) > 19 || strspn(last, "0123456789") != strlen(last))
		return 0;
	return strtoull(last, NULL, 10) + 1;
}

struct MHD_Response *event_streams_open(struct event_streams *set, struct MHD_Connection *c,
                                        const void *owner, unsigned *status)
{
	pthread_mutex_lock(&set->lock);
	if (set->n >= set->max) {
		pthread_mutex_unlock(&set->lock);
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return NULL;
	}
	struct stream *s = xcalloc(1, sizeof(*s));
	s->set = set;
	s->c = c;
	s->owner = owner;
	s->next = resume_from(c); /* 0: from the oldest the ring holds */
	s->last_write = monotonic_seconds();
	buf_init(&s->pending);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE,
	                                                           read_stream, s, free_stream);
	if (!r) {
		pthread_mutex_unlock(&set->lock);
		buf_free(&s->pending);
		free(s);
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return NULL;
	}
	s->next_stream = set->head;
	if (set->head)
		set->head->prev = s;
	set->head = s;
	set->n++;
	pthread_mutex_unlock(&set->lock);
	*status = MHD_HTTP_OK;
	return r;
}

static bool owned_by(const struct stream *s, const void *owner)
{
	return s->owner == owner;
}

void event_streams_end(struct event_streams *set, const void *owner)
{
	wake(set, owner ? owned_by : NULL, owner, true);
}

static bool heartbeat_due(const struct stream *s, const void *now)
{
	return *(const double *)now - s->last_write >= EVENT_STREAM_HEARTBEAT_SECONDS;
}

void event_streams_tick(struct event_streams *set)
{
	double now = monotonic_seconds();
	wake(set, heartbeat_due, &now, false);
}

size_t event_streams_count(struct event_streams *set)
{
	pthread_mutex_lock(&set->lock);
	size_t n = set->n;
	pthread_mutex_unlock(&set->lock);
	return n;
}
