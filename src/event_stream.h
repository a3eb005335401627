/* GET /api/events: the slow events (events.h) as Server-Sent Events streams, served by
 * libmicrohttpd's threads without ever holding one. A stream with nothing to send suspends its
 * connection, and is resumed when an event is published, when its heartbeat is due, or when it
 * must end; so a slow or idle reader costs a connection, never a thread that /metrics needs.
 *
 * Each stream starts with a comment and `retry: 1000`, then sends every event from the one after
 * the request's Last-Event-ID (or, without one, from the oldest the ring still holds), each as
 * `id: N` and `data: {json}`, a `: heartbeat` comment after HEARTBEAT_SECONDS without anything
 * else, and `event: gap` with the number of events it missed when the ring overtook it. A
 * stream ends when the web configuration it was opened under is replaced (a reload) or the
 * server stops: clients reconnect, under the new configuration, and resume from their last id. */
#ifndef KOBS_EVENT_STREAM_H
#define KOBS_EVENT_STREAM_H

#include <microhttpd.h>
#include <stddef.h>

#include "events.h"

#define EVENT_STREAM_HEARTBEAT_SECONDS 15

struct event_streams;

/* At most `max_streams` streams at once (0: none). */
struct event_streams *event_streams_new(struct events *events, unsigned max_streams);
/* Every stream must have ended (their responses destroyed). */
void event_streams_free(struct event_streams *set);

/* A response for a GET of /api/events on `c`, opened under `owner` (the web configuration):
 * a stream with *status 200, or NULL with *status 503 when max_streams are open. The connection
 * must be one of a daemon started with MHD_ALLOW_SUSPEND_RESUME. */
struct MHD_Response *event_streams_open(struct event_streams *set, struct MHD_Connection *c,
                                        const void *owner, unsigned *status);
/* End every stream opened under `owner` (NULL: all): each sends what it has and ends. */
void event_streams_end(struct event_streams *set, const void *owner);
/* Resume the streams whose heartbeat is due. Call about once a second. */
void event_streams_tick(struct event_streams *set);
/* Streams open (including those ending). */
size_t event_streams_count(struct event_streams *set);

#endif
