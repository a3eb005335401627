#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

static int parse_port(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || n >= outlen)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	snprintf(out, outlen, "%lu", v);
	return 0;
}

int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *colon;
	const char *host = spec;
	size_t host_len;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad listen address '%s': expected [v6address]:port",
			         spec);
			return -1;
		}
		host = spec + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
		if (host_len == 0) {
			snprintf(err, errlen, "bad listen address '%s': empty IPv6 address", spec);
			return -1;
		}
	} else {
		colon = strrchr(spec, ':');
		if (!colon) {
			snprintf(err, errlen,
			         "bad listen address '%s': expected host:port or :port", spec);
			return -1;
		}
		host_len = (size_t)(colon - spec);
		if (memchr(spec, ':', host_len)) {
			snprintf(err, errlen,
			         "bad listen address '%s': write IPv6 addresses as [address]:port",
			         spec);
			return -1;
		}
	}
	if (host_len >= sizeof(out->host)) {
		snprintf(err, errlen, "bad listen address '%s': host name too long", spec);
		return -1;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (parse_port(colon + 1, out->port, sizeof(out->port)) < 0) {
		snprintf(err, errlen,
		         "bad listen address '%s': port must be a number from 0 to 65535", spec);
		return -1;
	}
	return 0;
}

static int open_bound(const struct sockaddr *sa, socklen_t salen, bool dual_stack)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
	if (bind(fd, sa, salen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* ":port": one IPv6 socket that also takes IPv4, or plain IPv4 where IPv6 is switched off. */
static int open_wildcard(const struct listen_addr *addr)
{
	uint16_t port = (uint16_t)atoi(addr->port);
	struct sockaddr_in6 v6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
	int fd = open_bound((struct sockaddr *)&v6, sizeof(v6), true);
	if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
		return fd;
	struct sockaddr_in v4 = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
	return open_bound((struct sockaddr *)&v4, sizeof(v4), false);
}

int listen_open(const struct listen_addr *addr, char *err, size_t errlen)
{
	const char *shown = addr->host[0] ? addr->host : "*";
	if (!addr->host[0]) {
		int fd = open_wildcard(addr);
		if (fd < 0)
			snprintf(err, errlen, "cannot listen on :%s: %s", addr->port,
			         strerror(errno));
		return fd;
	}

	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(addr->host, addr->port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", shown,
		         gai_strerror(gai));
		return -1;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = open_bound(ai->ai_addr, ai->ai_addrlen, false);
		if (fd < 0)
			saved = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s:%s: %s%s", shown, addr->port,
		         strerror(saved),
		         saved == EADDRINUSE ? " (is another kobsd running? pick another port with "
		                               "--web.listen-address)"
		         : saved == EACCES   ? " (ports below 1024 need CAP_NET_BIND_SERVICE)"
		                             : "");
	return fd;
}

void listen_describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
			snprintf(out, len, "[%s]:%u", host, port);
			return;
		}
	}
	snprintf(out, len, "%s:%u", host, port);
}
