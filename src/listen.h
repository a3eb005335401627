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

/* Whether some of the `n` parsed addresses cannot all be listened on because one covers another
 * at the same port: the same address twice, or a wildcard (":port" takes every address, IPv4
 * and IPv6; "0.0.0.0" every IPv4 one, "[::]" every IPv6 one) and an address it includes. Port 0
 * never collides (the kernel picks a free port each time). Host names are compared as written;
 * listen_open tells the rest. `specs` are the addresses as given, for the message. Pure.
 * Returns 0, or -1 with a message naming both addresses in `err`. */
int listen_check_repeats(const struct listen_addr *addrs, const char *const *specs, size_t n,
                         char *err, size_t errlen);

/* A bound, listening, non-blocking socket for the address, or -1 with a message in `err`. The
 * `nours` sockets in `ours` are those already opened for earlier addresses: when one of them
 * holds the address, the message says so rather than blame another process. */
int listen_open(const struct listen_addr *addr, const int *ours, size_t nours, char *err,
                size_t errlen);

/* "127.0.0.1:9477" or "[::]:9477": where a listening socket really is (after port 0). */
void listen_describe(int fd, char *out, size_t len);

#endif
