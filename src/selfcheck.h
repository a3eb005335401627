/* The daemon asking itself whether its HTTP server still answers: the watchdog is fed only
 * while it does. */
#ifndef KOBS_SELFCHECK_H
#define KOBS_SELFCHECK_H

#include <stdbool.h>
#include <sys/socket.h>

struct selfcheck {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool usable;
};

/* Where to reach the server listening on `fd`: its own address, or loopback when it listens on
 * every address. */
void selfcheck_prepare(struct selfcheck *c, int listen_fd);

/* GET /-/healthy; true when the server answers it in any way (or closes the connection) within
 * `timeout_ms`, false when it stays silent or refuses the connection. */
bool selfcheck_http(const struct selfcheck *c, int timeout_ms);

#endif
