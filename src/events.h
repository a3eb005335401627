/* Slow events on their way out of the daemon: the bpf collector hands each event it reads from the
 * kernel to events_publish(), which numbers it, logs it (a journal entry with the kind's
 * MESSAGE_ID and KOBS_* fields, or a logfmt line on stderr), keeps it in a bounded ring as one
 * Server-Sent Events frame, and tells the listener (the HTTP server, whose /api/events streams
 * read the ring from their own position).
 *
 * An event is a kind, a time and a list of fields in a fixed order; the same fields become JSON
 * members of the frame and KOBS_<NAME> fields of the journal entry. Values are any bytes: JSON
 * strings are made valid UTF-8 (U+FFFD for each invalid sequence) and escaped. */
#ifndef KOBS_EVENTS_H
#define KOBS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* In the order of bpf/kobs_bpf.h's enum kobs_slow_kind. */
enum event_kind {
	EVENT_RUNQUEUE,
	EVENT_OFFCPU,
	EVENT_BLOCK_IO,
	EVENT_SYSCALL,
	EVENT_OOM_KILL,
	EVENT_TCP_RETRANSMIT,
	EVENT_KINDS,
};

/* The `kind` label and JSON member: runqueue, offcpu, block_io, syscall, oom_kill,
 * tcp_retransmit. */
extern const char *const event_kind_names[EVENT_KINDS];
/* The journal's MESSAGE_ID of each kind (docs/deployment.md lists them; never change one). */
extern const char *const event_message_ids[EVENT_KINDS];

struct event_field {
	const char *name;  /* [a-z_]+: the JSON member; KOBS_<NAME in upper case> in the journal */
	const char *value; /* any bytes up to the NUL */
	bool number;       /* a JSON number (the value is then written as it is) */
};

#define EVENT_MAX_FIELDS 14

struct event {
	enum event_kind kind;
	double time; /* seconds since the epoch */
	const struct event_field *fields;
	size_t nfields;      /* at most EVENT_MAX_FIELDS */
	const char *message; /* the log's line */
};

/* How many events the ring keeps for streams that fall behind or resume. */
#define EVENTS_RING 512

struct events;

struct events *events_new(void);
void events_free(struct events *ev);

/* Number the event (ids start at 1 and grow by one), log it, keep it in the ring and tell the
 * listener. Returns its id. */
uint64_t events_publish(struct events *ev, const struct event *e);

/* `wake` is called (without any lock of this file held) after each event is published. Returns
 * once no call of the listener it replaces is under way, so that one may be freed then. */
void events_set_listener(struct events *ev, void (*wake)(void *arg), void *arg);

/* The id the next event will get. */
uint64_t events_next_id(struct events *ev);

/* Append to `out` the frames of the events from id *next on, as many as fit in `room` bytes (at
 * least one, whatever its size), and advance *next past them. When the ring no longer holds
 * *next, the events in between are lost to this reader: *missed gets their number and *next
 * moves to the oldest event held. Returns the number of frames appended. */
size_t events_read(struct events *ev, uint64_t *next, struct buf *out, size_t room,
                   uint64_t *missed);

/* The JSON object of an event numbered `id`, appended to `out` (exposed for the tests). */
void events_render_json(struct buf *out, uint64_t id, const struct event *e);

#endif
