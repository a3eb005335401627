#include "selfcheck.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void selfcheck_prepare(struct selfcheck *c, int listen_fd)
{
	memset(c, 0, sizeof(*c));
	c->addrlen = sizeof(c->addr);
	if (getsockname(listen_fd, (struct sockaddr *)&c->addr, &c->addrlen) < 0)
		return;
	if (c->addr.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&c->addr;
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->usable = true;
	} else if (c->addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c->addr;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
		c->usable = true;
	}
}

static long remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static bool wait_for(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		long ms = remaining_ms(deadline);
		if (ms <= 0)
			return false;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)ms);
		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
}

bool selfcheck_http(const struct selfcheck *c, int timeout_ms)
{
	if (!c->usable)
		return true; /* nothing we can probe (a UNIX socket): do not starve the watchdog */

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}

	int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = false;
	if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) < 0 && errno != EINPROGRESS)
		goto out;
	if (!wait_for(fd, POLLOUT, &deadline))
		goto out;
	int soerr = 0;
	socklen_t soerrlen = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerrlen) < 0 || soerr != 0)
		goto out; /* refused: nobody listens any more */
	static const char request[] = "GET /-/healthy HTTP/1.0\r\nHost: localhost\r\n\r\n";
	if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		goto out;
	/*
	 * The kernel completes the TCP handshake by itself; only a libmicrohttpd thread that runs
	 * reads the request and answers or closes. Any answer proves that: a status line, a 401
	 * under basic authentication, a TLS alert when the server speaks TLS, or a close (EOF or
	 * reset) when a connection limit turns us away, which an abusive client can cause and
	 * which must not get a healthy daemon killed. Silence until the deadline means it hangs.
	 */
	if (!wait_for(fd, POLLIN, &deadline))
		goto out;
	char reply[64];
	ssize_t n = recv(fd, reply, sizeof(reply), 0);
	ok = n >= 0 || errno == ECONNRESET;
out:
	close(fd);
	return ok;
}
