/* A deadline for receiving each HTTP request.
 *
 * libmicrohttpd's connection timeout counts idle time only: a client that sends its request one
 * byte a second (slowloris) is never idle and would hold its connection, and a slot of the
 * connection limits, forever. Here every connection gets a fixed time to send a whole request,
 * counted from when it opened or from the end of its previous request. A watcher thread shuts
 * down the socket of a connection that takes longer, and libmicrohttpd then closes it as if the
 * client had hung up. Nothing here knows libmicrohttpd: the server reports what happens. */
#ifndef KOBS_REQUEST_DEADLINE_H
#define KOBS_REQUEST_DEADLINE_H

struct request_deadlines;
struct request_deadline;

/* Start the watcher: connections get `seconds` to send each request. */
struct request_deadlines *request_deadlines_start(unsigned seconds);
/* Stop the watcher and free it, with any connection not removed yet. */
void request_deadlines_stop(struct request_deadlines *d);

/* A connection on socket `fd` opened: its clock starts now. */
struct request_deadline *request_deadline_add(struct request_deadlines *d, int fd);
/* The connection is closing. Must be called before its socket is closed: the watcher then never
 * shuts down a socket number the kernel has already given to someone else. */
void request_deadline_remove(struct request_deadlines *d, struct request_deadline *c);
/* Its request has arrived whole: the clock stops while the request is answered. */
void request_deadline_received(struct request_deadlines *d, struct request_deadline *c);
/* Its answer has been sent: the clock starts again for the next request on the connection. */
void request_deadline_answered(struct request_deadlines *d, struct request_deadline *c);

#endif
