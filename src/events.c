#include "events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"
#include "utf8.h"

const char *const event_kind_names[EVENT_KINDS] = {
    "runqueue", "offcpu", "block_io", "syscall", "oom_kill", "tcp_retransmit",
};

const char *const event_message_ids[EVENT_KINDS] = {
    [EVENT_RUNQUEUE] = LOG_ID_EVENT_RUNQUEUE, [EVENT_OFFCPU] = LOG_ID_EVENT_OFFCPU,
    [EVENT_BLOCK_IO] = LOG_ID_EVENT_BLOCK_IO, [EVENT_SYSCALL] = LOG_ID_EVENT_SYSCALL,
    [EVENT_OOM_KILL] = LOG_ID_OOM_KILL,       [EVENT_TCP_RETRANSMIT] = LOG_ID_EVENT_TCP_RETRANSMIT,
};

/* One event of the ring: its SSE frame, "id: N\ndata: {...}\n\n". */
struct slot {
	uint64_t id; /* 0: empty */
	char *frame;
	size_t len;
};

struct events {
	pthread_mutex_t lock;
	struct slot ring[EVENTS_RING]; /* event id i sits in ring[i % EVENTS_RING] */
	uint64_t first_id;             /* this daemon's first */
	uint64_t next_id;
	void (*wake)(void *arg);
	void *wake_arg;
	unsigned waking;      /* calls of `wake` under way */
	pthread_cond_t woken; /* signalled when one ends */
	struct buf scratch;   /* the frame being rendered; under the lock */
};

struct events *events_new(void)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->woken, NULL);
	/* Ids go on growing across restarts, so that a client resuming from an earlier daemon's id
	 * is told apart from one that fell behind: a million ids for each second since the epoch
	 * (well within the 2^53 a JavaScript number holds exactly). */
	ev->first_id = (uint64_t)time(NULL) * 1000000u + 1;
	ev->next_id = ev->first_id;
	buf_init(&ev->scratch);
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < EVENTS_RING; i++)
		free(ev->ring[i].frame);
	buf_free(&ev->scratch);
	pthread_cond_destroy(&ev->woken);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

void events_set_listener(struct events *ev, void (*wake)(void *arg), void *arg)
{
	pthread_mutex_lock(&ev->lock);
	ev->wake = wake;
	ev->wake_arg = arg;
	/* The listener being replaced may be freed once this returns: wait for its calls. */
	while (ev->waking)
		pthread_cond_wait(&ev->woken, &ev->lock);
	pthread_mutex_unlock(&ev->lock);
}

uint64_t events_next_id(struct events *ev)
{
	pthread_mutex_lock(&ev->lock);
	uint64_t id = ev->next_id;
	pthread_mutex_unlock(&ev->lock);
	return id;
}

/* ---- JSON ---- */

/* A JSON string: quote, backslash and control characters escaped, invalid UTF-8 replaced with
 * U+FFFD byte by byte. */
static void json_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s);
	buf_putc(out, '"');
	while (avail) {
		unsigned char c = *p;
		size_t n = utf8_char(p, avail);
		if (c == '"' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_append(out, esc, sizeof(esc));
		} else if (n == 0) {
			buf_puts(out, "\xef\xbf\xbd");
			n = 1;
		} else {
			buf_append(out, p, n);
		}
		p += n;
		avail -= n;
	}
	buf_putc(out, '"');
}

/* RFC 3339 in UTC, to the millisecond. */
static void json_time(struct buf *out, double t)
{
	time_t secs = (time_t)t;
	long ms = (long)((t - (double)secs) * 1000.0);
	if (ms < 0 || ms > 999)
		ms = 0;
	struct tm tm;
	gmtime_r(&secs, &tm);
	buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"", tm.tm_year + 1900,
	           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* A number as JSON has them: digits, an optional fraction and exponent. Anything else is
 * written as a string, so that the object always parses. */
static bool json_number_ok(const char *s)
{
	const char *p = s + (*s == '-');
	size_t d = strspn(p, "0123456789");
	if (d == 0 || (d > 1 && *p == '0'))
		return false;
	p += d;
	if (*p == '.') {
		d = strspn(++p, "0123456789");
		if (d == 0)
			return false;
		p += d;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		p += *p == '+' || *p == '-';
		d = strspn(p, "0123456789");
		if (d == 0)
			return false;
		p += d;
	}
	return *p == '\0';
}

void events_render_json(struct buf *out, uint64_t id, const struct event *e)
{
	buf_printf(out, "{\"id\":%llu,\"time\":", (unsigned long long)id);
	json_time(out, e->time);
	buf_puts(out, ",\"kind\":");
	json_string(out, event_kind_names[e->kind]);
	for (size_t i = 0; i < e->nfields; i++) {
		buf_putc(out, ',');
		json_string(out, e->fields[i].name);
		buf_putc(out, ':');
		if (e->fields[i].number && json_number_ok(e->fields[i].value))
			buf_puts(out, e->fields[i].value);
		else
			json_string(out, e->fields[i].value);
	}
	buf_putc(out, '}');
}

/* ---- publishing ---- */

static void log_one(const struct event *e)
{
	char names[EVENT_MAX_FIELDS][32];
	struct log_field fields[EVENT_MAX_FIELDS + 1];
	size_t n = 0;
	fields[n++] = (struct log_field){"KIND", event_kind_names[e->kind]};
	for (size_t i = 0; i < e->nfields && i < EVENT_MAX_FIELDS; i++) {
		size_t k = 0;
		for (const char *c = e->fields[i].name; *c && k + 1 < sizeof(names[i]); c++)
			names[i][k++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		names[i][k] = '\0';
		fields[n++] = (struct log_field){names[i], e->fields[i].value};
	}
	/* A retransmit is the network's business more than a failure of the host. */
	enum log_level level = e->kind == EVENT_TCP_RETRANSMIT ? LOG_LEVEL_INFO : LOG_LEVEL_WARN;
	log_event(level, event_message_ids[e->kind], fields, n, "%s", e->message);
}

uint64_t events_publish(struct events *ev, const struct event *e)
{
	log_one(e);
	pthread_mutex_lock(&ev->lock);
	uint64_t id = ev->next_id++;
	struct buf *f = &ev->scratch;
	buf_reset(f);
	buf_printf(f, "id: %llu\ndata: ", (unsigned long long)id);
	events_render_json(f, id, e);
	buf_append(f, "\n\n", 2);
	struct slot *s = &ev->ring[id % EVENTS_RING];
	free(s->frame);
	s->frame = xmalloc(f->len + 1);
	memcpy(s->frame, f->data, f->len + 1);
	s->len = f->len;
	s->id = id;
	void (*wake)(void *) = ev->wake;
	void *arg = ev->wake_arg;
	ev->waking += wake != NULL;
	pthread_mutex_unlock(&ev->lock);
	if (wake) {
		wake(arg);
		pthread_mutex_lock(&ev->lock);
		ev->waking--;
		pthread_cond_broadcast(&ev->woken);
		pthread_mutex_unlock(&ev->lock);
	}
	return id;
}

size_t events_read(struct events *ev, uint64_t *next, struct buf *out, size_t room,
                   uint64_t *missed)
{
	size_t n = 0, used = 0;
	*missed = 0;
	pthread_mutex_lock(&ev->lock);
	uint64_t oldest =
	    ev->next_id - ev->first_id > EVENTS_RING ? ev->next_id - EVENTS_RING : ev->first_id;
	if (*next < ev->first_id) {
		*next = oldest; /* an earlier daemon's: what it lost is not known here */
	} else if (*next < oldest) {
		*missed = oldest - *next;
		*next = oldest;
	} else if (*next > ev->next_id) {
		*next = ev->next_id; /* not given yet: from now on */
	}
	while (*next < ev->next_id) {
		const struct slot *s = &ev->ring[*next % EVENTS_RING];
		if (n > 0 && used + s->len > room)
			break;
		buf_append(out, s->frame, s->len);
		used += s->len;
		n++;
		(*next)++;
	}
	pthread_mutex_unlock(&ev->lock);
	return n;
}
