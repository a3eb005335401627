/* Every open HTTP connection: which ones may stay when the connection limits are reached, and
 * the deadline for receiving each request.
 *
 * Admission. A connection is counted against --web.max-connections and against the limit of
 * its client address from the moment it opens, except once its client has closed it (a
 * connection in CLOSE-WAIT is released at once, however long the server takes to notice) or
 * the table has shut it down. When the table is full, the connection that has waited longest
 * for its request (a client trickling its headers, or a kept-alive connection between requests)
 * is closed to make room, so that slow clients can delay a scraper by no more than a
 * connection; only when every connection is being answered is the new one refused.
 *
 * Deadline. libmicrohttpd's connection timeout counts idle time only: a client that sends its
 * request one byte a second (slowloris) is never idle. Here every connection gets a fixed time
 * to send a whole request, counted from when it opened or from the end of its previous request.
 * A watcher thread shuts down the socket of a connection that takes longer.
 *
 * Closing means shutdown(): the server then sees the connection end as if the client had hung
 * up, and closes it itself. Nothing here knows libmicrohttpd: the server reports what happens. */
#ifndef KOBS_CONN_TABLE_H
#define KOBS_CONN_TABLE_H

#include <stddef.h>
#include <sys/socket.h>

struct conn_limits {
	unsigned max_connections; /* held at once */
	unsigned max_per_address; /* held at once from one client address */
	unsigned request_seconds; /* to send each whole request */
};

struct conn_table;
struct conn;

/* Start the deadline watcher. */
struct conn_table *conn_table_start(const struct conn_limits *limits);
/* Stop the watcher and free the table, with any connection not removed yet. */
void conn_table_stop(struct conn_table *t);

/* A connection opened on socket `fd` from `peer` (AF_INET or AF_INET6; another family counts as
 * one address). Returns its entry, its request clock started; or NULL when it is refused, its
 * socket shut down. */
struct conn *conn_table_admit(struct conn_table *t, int fd, const struct sockaddr *peer);
/* The connection is closing. Must be called before its socket is closed: the table then never
 * shuts down a socket number the kernel has already given to someone else. NULL is ignored. */
void conn_table_remove(struct conn_table *t, struct conn *c);
/* Its request has arrived whole: the clock stops while the request is answered. */
void conn_request_received(struct conn_table *t, struct conn *c);
/* Its answer has been sent: the clock starts again for the next request on the connection. */
void conn_request_answered(struct conn_table *t, struct conn *c);

#endif
