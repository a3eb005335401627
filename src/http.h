/* The HTTP server (libmicrohttpd): routes, methods, limits, TLS and basic authentication. It
 * negotiates format and compression and knows nothing of /proc: bodies come from the scrape. */
#ifndef KOBS_HTTP_H
#define KOBS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "scrape.h"
#include "web_config.h"

struct http_config {
	const char *telemetry_path;
	unsigned max_connections; /* 0: from the open-files limit (see http_start) */
	unsigned max_connections_per_ip;
	unsigned timeout_seconds;
	const char *privileges; /* what the daemon serves with, for the landing page */
	struct events *events;  /* the slow events /api/events streams */
	unsigned max_event_streams;
};

struct http;

/* Serve on each of the listening sockets (they belong to the server from now on), with TLS and
 * authentication as `web` says (NULL: plain HTTP, no authentication; the server takes it over).
 * Raises the soft open-files limit to the hard one: every connection is a descriptor. Returns
 * NULL with a message in `err` when libmicrohttpd cannot start. */
struct http *http_start(const int *fds, size_t nfds, const struct http_config *config,
                        struct web_config *web, struct scrape *scrape, char *err, size_t errlen);

/* Switch to a new web configuration (new certificates, users) on the same sockets: new
 * connections get it, and the connections open before finish their requests on the old one,
 * each closed after its answer. While several earlier configurations are still finishing, the
 * switch waits (without blocking the caller) until one has ended. On failure the old settings
 * stay and -1 is returned with a message; `web` is taken over either way. */
int http_reload(struct http *h, struct web_config *web, char *err, size_t errlen);

/* /-/ready answers 200 once this is set. */
void http_set_ready(struct http *h, bool ready);
/* Stop accepting, let requests under way finish (for at most the connection timeout), then stop. */
void http_stop(struct http *h);

#endif
