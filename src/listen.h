/* Listening sockets from --web.listen-address values. */
#ifndef KOBS_LISTEN_H
#define KOBS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

struct listen_addr {
	char host[256]; /* empty for ":port": every address, IPv6 and IPv4 */
	char port[8];
};

/* Parse "host:port", "[v6addr]:port" or ":port" (port 0-65535; 0 lets the kernel pick). Pure.
 * Returns 0, or -1 with a message in `err`. */
int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen);

/* A bound, listening, non-blocking socket for the address, or -1 with a message in `err`. */
int listen_open(const struct listen_addr *addr, char *err, size_t errlen);

/* "127.0.0.1:9477" or "[::]:9477": where a listening socket really is (after port 0). */
void listen_describe(int fd, char *out, size_t len);

#endif
